"""C++, Go and Python clients, and one built from the original two-field
ChatMessage, chatting in the same rooms of the C++ server."""

import re
import socket
import sys

import pytest

from conftest import ORIGINAL_CLIENT
from harness import LANGUAGES, PROGRAM, Line, PlainLine, clean_env, start_server, stop_server

MESSAGES_EACH = 5

# Japanese (kanji, hiragana with a combining voiced mark, half-width katakana,
# full-width punctuation) and emoji (plain, with skin tone, ZWJ sequence,
# flag, with variation selector): every byte must arrive as it was sent.
UNICODE_TEXT = (
    "こんにちは、世界！ 寿司🍣 旗🎌 か\u3099 ｶﾀｶﾅ 開発者👩\u200d💻 国旗🇯🇵 "
    "❤\ufe0f 👍🏽 𠮷野家"
)


class Client:
    """One line client: its process and how to read what it printed."""

    def __init__(self, process, lang, name):
        self.process = process
        self.lang = lang
        self.name = name

    @property
    def two_field(self):
        return self.lang == "v1"

    def lines(self):
        parse = PlainLine.parse if self.two_field else Line.parse
        return [parse(raw) for raw in self.process.stdout]

    def send(self, line):
        self.process.send(line)

    def wait_until(self, predicate, what):
        self.process.wait_until(lambda _: predicate(self.lines()), what)


def start_client(processes, client_commands, lang, address, name, room, extra=()):
    argv = client_commands[lang] + ["--server", address, "--name", name, "--room", room]
    argv += list(extra)
    return Client(processes.start("%s:%s" % (lang, name), argv, env=clean_env()), lang, name)


def start_original_client(processes, original_gen_dir, address, name):
    argv = [sys.executable, ORIGINAL_CLIENT, "--server", address, "--name", name]
    argv += ["--gen-dir", original_gen_dir]
    return Client(processes.start("v1:%s" % name, argv, env=clean_env()), "v1", name)


def languages_present(client_commands):
    return [lang for lang in LANGUAGES if client_commands[lang] is not None]


# What a client shows for a message: (room, kind, sender, text) in the plain
# format; the two-field client shows (sender, text) only.
def shown(client, room, kind, sender, text):
    if client.two_field:
        return PlainLine(sender, text.encode("utf-8"))
    return (room, kind, sender, text.encode("utf-8"))


def key(client, line):
    if client.two_field:
        return line
    return (line.room, line.kind, line.sender, line.text)


def has_all(client, expected):
    def check(lines):
        keys = {key(client, line) for line in lines}
        return all(e in keys for e in expected)

    return check


def observed(client, expected):
    """The lines of `client` that are among `expected`, in the order printed."""
    wanted = set(expected)
    return [line for line in client.lines() if key(client, line) in wanted]


def wait_for_all(clients, expected_for, what):
    for client in clients:
        expected = expected_for(client)
        client.wait_until(has_all(client, expected), what)


def check_same_order_once(clients, expected_for, sent_order):
    """Each client printed each expected message exactly once, all in one order,
    with seq numbers rising, and each sender's messages in the order sent.
    The plain-format clients (C++, Go, Python) printed byte-identical lines."""
    reference = None
    plain_reference = None
    for client in clients:
        expected = expected_for(client)
        lines = observed(client, expected)
        keys = [key(client, line) for line in lines]
        assert sorted(keys) == sorted(expected), "%s: duplicates or missing:\n%s" % (
            client.name,
            client.process.describe(),
        )
        if not client.two_field:
            seqs = [line.seq for line in lines]
            assert all(s > 0 for s in seqs), "%s: messages without seq: %s" % (client.name, seqs)
            assert seqs == sorted(set(seqs)), "%s: seq not rising: %s" % (client.name, seqs)
            if plain_reference is None:
                plain_reference = (client.name, lines)
            else:
                assert lines == plain_reference[1], "%s and %s printed different lines" % (
                    plain_reference[0],
                    client.name,
                )
        order = [(line.sender, line.text) for line in lines]
        if reference is None:
            reference = (client.name, order)
        else:
            assert order == reference[1], "%s and %s saw different orders:\n%s\n%s" % (
                reference[0],
                client.name,
                reference[1],
                order,
            )
    for sender, texts in sent_order.items():
        mine = [text for s, text in reference[1] if s == sender]
        assert mine == texts, "%s's messages arrived out of order: %s" % (sender, mine)


def test_cpp_client_is_part_of_the_run(client_commands):
    if client_commands["cpp"] is None:
        pytest.skip("no chat-client target yet: the C++ client is left out of this run")


def test_clients_of_every_language_chat_in_one_room(
    processes, server_binary, client_commands, original_gen_dir
):
    server, address = start_server(processes, server_binary)
    names = {"cpp": "cxx-Ken", "go": "go-Gordon", "py": "py-Monty", "v1": "v1-Ada"}
    clients = [
        start_client(processes, client_commands, lang, address, names[lang], "interop")
        for lang in languages_present(client_commands)
    ]
    # The two-field client sends no metadata: its first line names it, in the lobby.
    original = start_original_client(processes, original_gen_dir, address, names["v1"])
    original.send("/join interop")
    clients.append(original)
    everyone = [c.name for c in clients]

    # 1. All are in #interop: each sees everybody's JOIN (live or from history).
    def joins(room):
        return lambda c: [
            shown(c, "#" + room, "join", name, "%s joined #%s" % (name, room)) for name in everyone
        ]

    wait_for_all(clients, joins("interop"), "JOIN events of all in #interop")
    # The two-field client sees server notices and events as text.
    welcome = PlainLine("*", b"welcome, v1-Ada; type /help for the list of commands")
    assert original.lines().count(welcome) == 1, original.process.describe()

    # 2. Chat at once from every client; /me and bidi text from some.
    sent_order = {c.name: [] for c in clients}
    expected = []  # (sender, kind, text shown)
    for i in range(MESSAGES_EACH):
        for client in clients:
            text = "%s #%d: %s" % (client.name, i, UNICODE_TEXT)
            client.send(text)
            sent_order[client.name].append(text.encode("utf-8"))
            expected.append((client.name, "chat", text))
    go_or_py = [c for c in clients if c.lang in ("go", "py")]
    action = go_or_py[0]
    action.send("/me waves 👋 (手を振る)")
    action_text = "* %s waves 👋 (手を振る)" % action.name
    sent_order[action.name].append(action_text.encode("utf-8"))
    expected.append((action.name, "action", action_text))
    bidi = go_or_py[-1]
    bidi.send("bidi \u202ertl\u202c and \u2066isolate\u2069 from %s" % bidi.name)
    bidi_text = "bidi <U+202E>rtl<U+202C> and <U+2066>isolate<U+2069> from %s" % bidi.name
    sent_order[bidi.name].append(bidi_text.encode("utf-8"))
    expected.append((bidi.name, "chat", bidi_text))

    def room_messages(room):
        return lambda c: [shown(c, "#" + room, kind, s, text) for s, kind, text in expected]

    wait_for_all(clients, room_messages("interop"), "every chat message in #interop")
    check_same_order_once(clients, room_messages("interop"), sent_order)

    # 3. Private messages in a ring: each client to the next one.
    privates = []  # (sender, recipient, text)
    for i, client in enumerate(clients):
        to = clients[(i + 1) % len(clients)]
        text = "secret from %s to %s: 秘密です 🤫🔑" % (client.name, to.name)
        client.send("/msg %s %s" % (to.name.upper(), text))  # names are case-insensitive
        privates.append((client.name, to.name, text))

    def private_lines(c):
        lines = []
        for sender, recipient, text in privates:
            if c.name in (sender, recipient):  # the recipient, and the sender's acknowledgement
                lines.append(shown(c, "-", "private", "%s>%s" % (sender, recipient), text))
                if c.two_field:
                    lines[-1] = PlainLine(sender, text.encode("utf-8"))
        return lines

    wait_for_all(clients, private_lines, "the private messages")
    # Sender and recipient print it exactly once each (the sender's copy is the
    # acknowledgement), and the same line: one line for both.
    for sender, recipient, text in privates:
        copies = [
            line
            for c in clients
            if not c.two_field and c.name in (sender, recipient)
            for line in c.lines()
            if line.kind == "private" and line.text == text.encode("utf-8")
        ]
        plain_ends = [c for c in clients if not c.two_field and c.name in (sender, recipient)]
        assert len(copies) == len(plain_ends), (sender, recipient, copies)
        assert len(set(copies)) == 1, copies

    # 4. Everyone moves to #annex with /join (spelled differently by each) and chats there.
    for client, spelling in zip(clients, ("annex", "#annex", "Annex", "#ANNEX")):
        client.send("/join %s" % spelling)
    wait_for_all(clients, joins("annex"), "JOIN events of all in #annex")
    expected = []
    sent_order = {}
    for client in clients:
        text = "annex: %s ✨ 別の部屋 🚪" % client.name
        client.send(text)
        expected.append((client.name, "chat", text))
        sent_order[client.name] = [text.encode("utf-8")]
    wait_for_all(clients, room_messages("annex"), "every chat message in #annex")
    check_same_order_once(clients, room_messages("annex"), sent_order)

    # 5. End of input: each half-closes, the server ends the stream with OK.
    for client in clients:
        client.process.close_stdin()
    for client in clients:
        assert client.process.wait_exit() == 0, client.process.describe()

    # Nobody else saw the private messages; nothing was refused.
    for client in clients:
        printed = b"\n".join(client.process.stdout)
        for sender, recipient, text in privates:
            if client.name not in (sender, recipient):
                assert text.encode("utf-8") not in printed, "%s saw %s's private message" % (
                    client.name,
                    sender,
                )
        if client.two_field:
            assert not [l for l in client.lines() if l.text.startswith(b"not sent")]
        else:
            assert not [l for l in client.lines() if l.kind == "error"], client.process.describe()
    assert stop_server(server) == 0, server.describe()


def assert_exit_and_stderr(client, code, line):
    """The client exited with `code` and printed exactly `line` on stderr."""
    assert client.process.wait_exit() == code, client.process.describe()
    assert client.process.stderr == [line.encode("utf-8")], client.process.describe()


PRESENCE_TEXT = re.compile(rb"\d+ joined #big: (.*)$")


def presence_names(text):
    """The names a PRESENCE text shows: "3 joined #big: a, b and c" (at most three
    names, so this test has at most three joiners after the first)."""
    match = PRESENCE_TEXT.match(text)
    if not match:
        return []
    return [n.decode() for n in re.split(rb", | and ", match.group(1))]


def test_clients_of_every_language_in_a_big_room(
    processes, server_binary, client_commands, original_gen_dir
):
    """Presence in big rooms (docs/protocol.md): above --presence-coalesce-above
    a joiner gets its own JOIN outside the room's log (seq 0) and is ready; the
    room hears of it in a PRESENCE event, which every client shows readably (the
    two-field client as text from '*'), and before the newcomer's first line."""
    server, address = start_server(
        processes, server_binary, extra=("--presence-coalesce-above", "1")
    )
    names = {"cpp": "cxx-Ken", "go": "go-Gordon", "py": "py-Monty", "v1": "v1-Ada"}
    clients = []
    for lang in languages_present(client_commands):
        client = start_client(processes, client_commands, lang, address, names[lang], "big")
        # In, one after the other: its own JOIN printed.
        client.wait_until(
            lambda lines, me=client.name: any(
                line.kind == "join" and line.sender == me and line.room == "#big" for line in lines
            ),
            "%s's own JOIN" % client.name,
        )
        clients.append(client)
    original = start_original_client(processes, original_gen_dir, address, names["v1"])
    original.send("/join big")  # from the lobby (a room of 1) into a big room
    original.wait_until(
        lambda lines: PlainLine(names["v1"], b"v1-Ada joined #big") in lines, "v1's own JOIN"
    )
    clients.append(original)
    if len(clients) > 4:
        pytest.skip("PRESENCE texts name three at most")
    for client in clients:
        client.send("hello from %s" % client.name)
    hellos = {c.name: ("hello from %s" % c.name).encode() for c in clients}
    for client in clients:
        client.wait_until(
            lambda lines: all(any(line.text == t for line in lines) for t in hellos.values()),
            "every hello",
        )
    # Each client saw each later joiner named in a PRESENCE event before its
    # hello, and never a JOIN of its own for it.
    for i, client in enumerate(clients):
        lines = client.lines()
        for later in clients[i + 1 :]:
            hello_at = next(k for k, line in enumerate(lines) if line.text == hellos[later.name])
            named_at = [
                k
                for k, line in enumerate(lines)
                if line.sender == "*"
                and (client.two_field or line.kind == "presence")
                and later.name in presence_names(line.text)
            ]
            assert named_at and named_at[0] < hello_at, "%s: %s not announced first:\n%s" % (
                client.name,
                later.name,
                client.process.describe(),
            )
            if not client.two_field:
                assert not [
                    line for line in lines if line.kind == "join" and line.sender == later.name
                ], client.process.describe()
    # A joiner's own JOIN has no seq: it is not in the room's log.
    for client in clients:
        if not client.two_field:
            own = [l for l in client.lines() if l.kind == "join" and l.sender == client.name]
            if client is not clients[0]:
                assert [l.seq for l in own] == [0], client.process.describe()
    assert stop_server(server) == 0, server.describe()


def test_unreachable_server_ends_each_client_with_one_line(processes, client_commands):
    # A bound port that does not listen: connections are refused until the clients give up.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        address = "127.0.0.1:%d" % closed.getsockname()[1]
        clients = [
            start_client(
                processes,
                client_commands,
                lang,
                address,
                "nobody-" + lang,
                "lobby",
                extra=("--connect-timeout", "2"),  # seconds, in every client
            )
            for lang in languages_present(client_commands)
        ]
        # Input stays open: they must give up on their own. Nothing listens, so
        # the C++ client gives up at once; Go and Python wait out the 2 s.
        reason = {
            "cpp": "nothing is listening at %s (connection refused); is chat-server running there?",
            "go": "cannot reach the server at %s within 2s",
            "py": "cannot reach the server at %s within 2 s",
        }
        for client in clients:
            client.process.wait_exit(timeout=15)
            line = "%s: %s" % (PROGRAM[client.lang], reason[client.lang] % address)
            assert_exit_and_stderr(client, 1, line)


def test_refused_names_end_each_client_with_one_line(processes, server_binary, client_commands):
    server, address = start_server(processes, server_binary)
    holder = start_client(processes, client_commands, "go", address, "Taken-Name", "lobby")
    holder.wait_until(
        lambda lines: any(l.kind == "join" and l.sender == "Taken-Name" for l in lines),
        "its own JOIN",
    )
    clients = []
    for lang in languages_present(client_commands):
        clients.append(start_client(processes, client_commands, lang, address, "taken-name", "lobby"))
        clients.append(start_client(processes, client_commands, lang, address, "bad!name", "lobby"))
    in_use = "the name 'taken-name' is already in use on this server; pick another"
    rule = "name may only contain letters, digits, '_', '-' and '.' (ASCII)"
    for client in clients:
        program = PROGRAM[client.lang]
        if client.name == "taken-name":
            line = "%s: the server refused the connection: ALREADY_EXISTS: %s" % (program, in_use)
            assert_exit_and_stderr(client, 1, line)
        elif client.lang == "cpp":  # it checks the name itself: a bad command line
            line = "%s: invalid --name 'bad!name': %s (see --help)" % (program, rule)
            assert_exit_and_stderr(client, 2, line)
        else:  # the server's refusal, quoted
            line = "%s: the server refused the connection: INVALID_ARGUMENT: invalid user name " % program
            assert_exit_and_stderr(client, 1, line + "'bad!name': " + rule)
    holder.process.close_stdin()
    assert holder.process.wait_exit() == 0, holder.process.describe()
    assert stop_server(server) == 0, server.describe()


def test_stream_ended_by_the_server_ends_each_client_after_retrying(
    processes, server_binary, client_commands
):
    server, address = start_server(processes, server_binary)
    # Every client reconnects after losing the server (here briefly, in vain).
    retry = ("--retry-for", "1", "--connect-timeout", "2")
    clients = [
        start_client(processes, client_commands, lang, address, "doomed-" + lang, "lobby", retry)
        for lang in languages_present(client_commands)
    ]
    for client in clients:
        client.wait_until(
            lambda lines, name=client.name: any(l.kind == "join" and l.sender == name for l in lines),
            "its own JOIN",
        )
    # Shutting down ends every stream with UNAVAILABLE.
    assert stop_server(server) == 0, server.describe()
    lost = re.escape("the server is shutting down; reconnect later")
    for client in clients:
        assert client.process.wait_exit(15) == 1, client.process.describe()
        stderr = [line.decode("utf-8") for line in client.process.stderr]
        program = re.escape(PROGRAM[client.lang])
        # The loss with its status, one line per attempt, then why they gave up.
        if client.lang == "cpp":
            first = r"%s: connection lost \(%s\); reconnecting" % (program, lost)
            last = r"%s: gave up reconnecting to %s: .+" % (program, re.escape(address))
        else:
            first = r"%s: connection lost \(UNAVAILABLE: %s\); reconnecting" % (program, lost)
            last = r"%s: gave up reconnecting to %s: UNAVAILABLE: .+" % (program, re.escape(address))
        assert len(stderr) >= 3, client.process.describe()
        assert re.fullmatch(first, stderr[0]), client.process.describe()
        assert re.fullmatch(last, stderr[-1]), client.process.describe()
        for line in stderr[1:-1]:
            assert re.fullmatch(r"%s: retrying in \d+\.\ds" % program, line), client.process.describe()
