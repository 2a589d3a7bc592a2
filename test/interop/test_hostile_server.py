"""The C++, Go and Python line clients against a hostile server: escape
sequences, C1 controls, bidi and invisible characters in user, room, message
and subject, in batch frames, in the refusal of a typed line and in the status
that ends the stream. Each must print exactly the documented visible form.

chat-server never relays such text, so test/support/hostile_server.cc sends
it, scripted by test/support/hostile_text.py (which holds the expected forms,
written out by hand; test/e2e/client_hostile_test.py uses it for the C++
client in a pipe and in tmux)."""

import os
import sys

import pytest

from conftest import ROOT
from harness import LANGUAGES, PROGRAM, clean_env, start_hostile_server

sys.path.insert(0, os.path.join(ROOT, "test", "support"))
import hostile_text as hostile  # noqa: E402


@pytest.fixture(params=LANGUAGES)
def lang(request, client_commands):
    if client_commands[request.param] is None:
        pytest.skip("no chat-client target yet: the C++ client is left out of this run")
    return request.param


def test_each_client_prints_hostile_fields_only_in_their_visible_form(
    lang, processes, hostile_server_binary, client_commands, tmp_path
):
    script = str(tmp_path / "script.jsonl")
    messages = hostile.write_script(script)
    _, address = start_hostile_server(processes, hostile_server_binary, hostile.server_args(script))
    client = processes.start(
        "%s:%s" % (lang, hostile.ME),
        client_commands[lang] + ["--server", address, "--name", hostile.ME],
        env=clean_env(),
    )
    client.send(hostile.TYPED)  # refused by the stub: an ERROR carrying its id
    client.close_stdin()
    code = client.wait_exit(15)

    # One line per message (a raw newline would forge another), in the plain
    # form; the refusal of the typed line last.
    expected = [m.plain().encode("utf-8") for m in messages]
    expected.append(hostile.refusal().plain().encode("utf-8"))
    for i, (got, want) in enumerate(zip(client.stdout, expected)):
        assert got == want, "%s line %d:\n got %r\nwant %r" % (lang, i + 1, got, want)
    assert len(client.stdout) == len(expected), client.describe()
    printed = b"".join(client.stdout).decode("utf-8")  # strict: valid UTF-8 only
    assert hostile.raw_leftovers(printed) == [], client.describe()

    # The status that ended the stream: one line, shown the same way.
    detail = hostile.END_MESSAGE.plain
    if lang != "cpp":
        detail = hostile.END_CODE_NAME + ": " + detail
    want = "%s: the server ended the stream: %s" % (PROGRAM[lang], detail)
    assert client.stderr == [want.encode("utf-8")], client.describe()
    assert code == 1, client.describe()
