"""Reconnection, the same scenarios for the C++, Go and Python line clients:
a network cut (through harness.Proxy), a server restart on the same port, and
lines sent just before a cut whose echo never came. The client under test is
`lang`; its peer is a Go client connected straight to the server."""

import re

import pytest

from harness import LANGUAGES, PROGRAM, Line, clean_env, free_port, start_server, stop_server

RECONNECT_WAIT_S = 20.0  # a reconnection is a few backoff steps (0.25 s doubling) away


@pytest.fixture(params=LANGUAGES)
def lang(request, client_commands):
    if client_commands[request.param] is None:
        pytest.skip("no chat-client target yet: the C++ client is left out of this run")
    return request.param


def start(processes, client_commands, lang, address, name, room):
    argv = client_commands[lang] + ["--server", address, "--name", name, "--room", room]
    return processes.start("%s:%s" % (lang, name), argv, env=clean_env())


def lines(process):
    return [Line.parse(raw) for raw in process.stdout]


def chat_texts(process, room):
    """The texts of the chat lines printed for #room, in order, repeats included."""
    return [l.text.decode() for l in lines(process) if l.kind == "chat" and l.room == "#" + room]


def wait_text(process, text, timeout=None):
    wanted = text.encode()
    kwargs = {} if timeout is None else {"timeout": timeout}
    process.wait_until(lambda p: any(l.text == wanted for l in lines(p)), "line %r" % text, **kwargs)


def wait_joined(process, name):
    process.wait_until(
        lambda p: any(l.kind == "join" and l.sender == name for l in lines(p)), "its own JOIN"
    )


def stderr_text(process):
    return b"\n".join(process.stderr).decode("utf-8", "replace")


def wait_stderr(process, fragment):
    process.wait_until(lambda p: fragment in stderr_text(p), "%r on stderr" % fragment)


def check_stderr(process, lang, address, losses=1, also=()):
    """stderr holds exactly: per loss one `connection lost (...); reconnecting`
    and one `reconnected to ADDRESS`, `retrying in N.Ns` for each attempt
    between, and the lines of `also` once each; nothing else."""
    program = PROGRAM[lang]
    reconnected = ("%s: reconnected to %s" % (program, address)).encode("utf-8")
    wanted = [reconnected] * losses + [line.encode("utf-8") for line in also]
    # stderr is read on a thread of its own: what it said may still be on its way.
    process.wait_until(
        lambda p: all(p.stderr.count(line) >= wanted.count(line) for line in wanted),
        "on stderr: %r" % wanted,
    )
    stderr = [line.decode("utf-8") for line in process.stderr]
    lost = [l for l in stderr if re.fullmatch(r"%s: connection lost \(.+\); reconnecting" % program, l)]
    back = [l for l in stderr if l == "%s: reconnected to %s" % (program, address)]
    retrying = [l for l in stderr if re.fullmatch(r"%s: retrying in \d+\.\ds" % program, l)]
    others = [l for l in stderr if l not in lost + back + retrying]
    assert (len(lost), len(back)) == (losses, losses), process.describe()
    assert sorted(others) == sorted(also), process.describe()
    assert stderr.index(lost[0]) < stderr.index(back[-1]), process.describe()


def check_rising(process, room):
    """Within each life of #room (a GAP with seq 0 starts a new one), seq only rises."""
    last = 0
    for line in lines(process):
        if line.room != "#" + room:
            continue
        if line.kind == "gap":
            last = line.seq
        elif line.seq:
            assert line.seq > last, "seq %d after %d:\n%s" % (line.seq, last, process.describe())
            last = line.seq


def finish(*clients):
    for client in clients:
        client.close_stdin()
    for client in clients:
        assert client.wait_exit() == 0, client.describe()


def test_network_cut_resumes_with_every_message_exactly_once(
    lang, processes, proxies, server_binary, client_commands
):
    server, address = start_server(processes, server_binary)
    proxy = proxies(address)
    room, name = "cut-" + lang, "alice-" + lang
    me = start(processes, client_commands, lang, proxy.address, name, room)
    peer = start(processes, client_commands, "go", address, "bob-" + lang, room)
    wait_joined(me, name)
    wait_joined(peer, "bob-" + lang)

    peer.send("before the cut")
    wait_text(me, "before the cut")
    proxy.cut()
    wait_text(peer, "%s left #%s (connection lost)" % (name, room))
    wait_stderr(me, "connection lost")
    for i in range(5):
        peer.send("while cut %d" % i)
    me.send("typed while disconnected")
    wait_text(peer, "while cut 4")
    proxy.restore()
    wait_text(me, "typed while disconnected", RECONNECT_WAIT_S)
    wait_text(peer, "typed while disconnected")
    peer.send("after the cut")
    wait_text(me, "after the cut")
    wait_text(peer, "after the cut")

    expected = ["before the cut"] + ["while cut %d" % i for i in range(5)]
    expected += ["typed while disconnected", "after the cut"]
    assert chat_texts(me, room) == expected, me.describe()
    assert chat_texts(peer, room) == expected, peer.describe()
    check_rising(me, room)
    check_stderr(me, lang, proxy.address)
    finish(me, peer)
    assert stop_server(server) == 0, server.describe()


def test_server_restart_reconnects_and_sends_what_was_typed(
    lang, processes, server_binary, client_commands
):
    port = free_port()
    server, address = start_server(processes, server_binary, port=port)
    room, name = "restart-" + lang, "alice-" + lang
    me = start(processes, client_commands, lang, address, name, room)
    wait_joined(me, name)
    me.send("first life")
    wait_text(me, "first life")

    assert stop_server(server) == 0, server.describe()
    wait_stderr(me, "connection lost")
    me.send("typed during the restart")
    server, _ = start_server(processes, server_binary, label="server-again", port=port)
    peer = start(processes, client_commands, "go", address, "bob-" + lang, room)
    wait_text(peer, "typed during the restart", RECONNECT_WAIT_S)
    peer.send("welcome back")
    wait_text(me, "welcome back")
    wait_text(peer, "welcome back")

    assert chat_texts(me, room) == ["first life", "typed during the restart", "welcome back"], (
        me.describe()
    )
    assert chat_texts(peer, room) == ["typed during the restart", "welcome back"], peer.describe()
    # The new server's room is a new life: one GAP with seq 0 says the history was discarded.
    gaps = [(l.room, l.seq, l.sender, l.text.decode()) for l in lines(me) if l.kind == "gap"]
    restarted = (
        "the history of #%s was discarded (the room was empty for a while, or the server "
        "restarted); showing the new history from the start"
    )
    assert gaps == [("#" + room, 0, "*", restarted % room)], me.describe()
    check_rising(me, room)
    check_stderr(me, lang, address)
    finish(me, peer)
    assert stop_server(server) == 0, server.describe()


def test_lines_without_echo_before_a_cut_arrive_exactly_once(
    lang, processes, proxies, server_binary, client_commands
):
    server, address = start_server(processes, server_binary)
    proxy = proxies(address)
    room, name, peer_name = "unconfirmed-" + lang, "alice-" + lang, "bob-" + lang
    me = start(processes, client_commands, lang, proxy.address, name, room)
    peer = start(processes, client_commands, "go", address, peer_name, room)
    wait_joined(me, name)
    wait_joined(peer, peer_name)
    me.send("warm-up")
    wait_text(me, "warm-up")

    # 0. A chat line the server refuses (a tab): its ERROR carries the line's
    # client_msg_id, which settles it. Re-sent, it would be refused again.
    me.send("refused\tby the server")
    me.wait_until(lambda p: any(l.kind == "error" for l in lines(p)), "the refusal")

    # 1. The server gets this line, but its echo is held back: the replay
    # after the reconnection must settle it (a re-send would make two).
    proxy.hold("down")
    me.send("echo held back")
    wait_text(peer, "echo held back")
    proxy.wait_held("down", b"echo held back")
    # 2. These never reach the server: the chat line must be re-sent once;
    # the private message (no history to check) is reported, not re-sent.
    proxy.hold("up")
    me.send("never reached the server")
    me.send("/msg %s private and unconfirmed" % peer_name)
    proxy.wait_held("up", b"never reached the server")
    proxy.wait_held("up", b"private and unconfirmed")
    assert "echo held back" not in chat_texts(me, room)
    proxy.cut()
    wait_stderr(me, "connection lost")
    me.send("typed while cut")
    proxy.restore()
    wait_text(peer, "typed while cut", RECONNECT_WAIT_S)
    wait_text(me, "typed while cut")

    expected = ["warm-up", "echo held back", "never reached the server", "typed while cut"]
    assert chat_texts(peer, room) == expected, peer.describe()
    assert chat_texts(me, room) == expected, me.describe()
    assert not [l for l in lines(peer) if l.kind == "private"], peer.describe()
    refusal = (
        "not sent: message contains the control character U+0009 at byte 7; "
        "chat text is one line of printable text"
    )
    errors = [(l.room, l.sender, l.text.decode()) for l in lines(me) if l.kind == "error"]
    assert errors == [("#" + room, "*", refusal)], me.describe()
    assert not [l for l in lines(peer) if l.kind == "error"], peer.describe()
    unconfirmed = "%s: not confirmed before the connection was lost (resend if needed): /msg %s %s"
    check_stderr(
        me, lang, proxy.address, also=[unconfirmed % (PROGRAM[lang], peer_name, "private and unconfirmed")]
    )
    check_rising(me, room)
    finish(me, peer)
    assert stop_server(server) == 0, server.describe()


def test_rejoining_a_room_prints_nothing_twice(lang, processes, server_binary, client_commands):
    # The same rule without a cut: the history a /join replays holds what was
    # shown already; only what is new may be printed (the resume above never
    # sends old messages, so this is where the rule shows on its own).
    server, address = start_server(processes, server_binary)
    room, name = "rejoin-" + lang, "alice-" + lang
    me = start(processes, client_commands, lang, address, name, room)
    peer = start(processes, client_commands, "go", address, "bob-" + lang, room)
    wait_joined(me, name)
    wait_joined(peer, "bob-" + lang)
    peer.send("said before")
    wait_text(me, "said before")
    me.send("/join elsewhere-" + lang)
    me.wait_until(
        lambda p: any(l.kind == "join" and l.room == "#elsewhere-" + lang for l in lines(p)),
        "its JOIN in #elsewhere-" + lang,
    )
    peer.send("said while away")
    wait_text(peer, "said while away")
    me.send("/join " + room)
    wait_text(me, "said while away")
    me.send("back again")
    wait_text(peer, "back again")
    wait_text(me, "back again")
    assert chat_texts(me, room) == ["said before", "said while away", "back again"], me.describe()
    check_rising(me, room)
    finish(me, peer)
    assert stop_server(server) == 0, server.describe()


def test_name_still_held_by_the_lost_stream_is_retried(
    lang, processes, proxies, server_binary, client_commands
):
    # The client's side of the connection goes, the server's stays: the
    # server still has the old stream, so reconnecting is refused with
    # ALREADY_EXISTS until it lets go. That is retried, not fatal.
    server, address = start_server(processes, server_binary)
    proxy = proxies(address)
    room, name = "lingering-" + lang, "alice-" + lang
    me = start(processes, client_commands, lang, proxy.address, name, room)
    peer = start(processes, client_commands, "go", address, "bob-" + lang, room)
    wait_joined(me, name)
    wait_joined(peer, "bob-" + lang)
    proxy.cut(keep_server_side=True)
    wait_stderr(me, "connection lost")
    me.send("typed while the old stream lingered")
    proxy.restore()
    in_use = "%s: the server says the name '%s' is in use: either your old connection has not " % (
        PROGRAM[lang],
        name,
    )
    if lang == "cpp":
        in_use += (
            "timed out yet (this clears by itself) or someone else took the name while you were "
            "away; if it goes on, /quit and come back with --name ANOTHER"
        )
    else:
        in_use += "timed out yet (this clears by itself) or someone else took the name meanwhile"
    wait_stderr(me, in_use)
    assert me.popen.poll() is None, me.describe()
    proxy.release()
    wait_text(peer, "%s left #%s (connection lost)" % (name, room))
    wait_text(peer, "typed while the old stream lingered", RECONNECT_WAIT_S)
    wait_text(me, "typed while the old stream lingered")
    assert chat_texts(peer, room) == ["typed while the old stream lingered"], peer.describe()
    assert chat_texts(me, room) == ["typed while the old stream lingered"], me.describe()
    check_stderr(me, lang, proxy.address, also=[in_use])
    finish(me, peer)
    assert stop_server(server) == 0, server.describe()
