"""chat-client against a hostile server: escape sequences, C1 controls, bidi
and invisible characters in every field it prints, in a pipe and in tmux.

chat-server never relays such text, so the stub test/support/hostile_server.cc
(CHAT_HOSTILE_SERVER_BIN) sends it, scripted by test/support/hostile_text.py,
which also holds the visible form the docs promise for each piece. The Go and
Python clients get the same script in test/interop/test_hostile_server.py.
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import CLIENT, HostileServer, TmuxPane, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import hostile_text as hostile  # noqa: E402

TIMEOUT = 10


class HostileServerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="chat-hostile-")
        script = os.path.join(self.dir.name, "script.jsonl")
        self.messages = hostile.write_script(script)
        self.stub = HostileServer(hostile.server_args(script))

    def tearDown(self):
        self.stub.stop()
        self.dir.cleanup()

    def test_pipe_prints_every_hostile_field_in_its_visible_form(self):
        env = dict(os.environ, TZ="UTC")
        proc = subprocess.run([CLIENT, "--server", self.stub.address, "--name", hostile.ME],
                              input=(hostile.TYPED + "\n").encode(), capture_output=True,
                              timeout=30, env=env)
        out = proc.stdout.decode("utf-8")  # strict: each byte it prints is valid UTF-8
        err = proc.stderr.decode("utf-8")
        # Every message, one line each (a raw newline would forge a second), in
        # the plain form; the refusal of the typed line last; nothing raw.
        expected = [m.plain() for m in self.messages] + [hostile.refusal().plain()]
        lines = out.split("\n")
        self.assertEqual(lines[-1], "", "the output does not end with a newline")
        for i, (got, want) in enumerate(zip(lines, expected)):
            self.assertEqual(got, want, f"line {i + 1}")
        self.assertEqual(len(lines) - 1, len(expected), out)
        self.assertEqual(hostile.raw_leftovers(out.replace("\n", "")), [])
        # The status that ended the stream is shown the same way, on one line.
        self.assertEqual(err, f"chat-client: the server ended the stream: {hostile.END_MESSAGE.plain}\n")
        self.assertEqual(proc.returncode, 1, err)

    @unittest.skipUnless(shutil.which("tmux"), "tmux is not installed")
    def test_terminal_shows_every_hostile_field_named_and_obeys_none(self):
        command = " ".join(shlex.quote(a) for a in [
            CLIENT, "--server", self.stub.address, "--name", hostile.ME, "--no-color", "--no-bell"])
        # The time of day in the local zone: UTC, as the script's expectations.
        command = f'TZ=UTC {command}; echo "SHELL-BACK rc=$?"; read _'
        pane = TmuxPane(command, width=220, height=60, options=[("set-clipboard", "on")])
        self.addCleanup(pane.stop)

        def screen():
            try:
                return pane.joined_history()
            except subprocess.CalledProcessError:
                return ["(no screen: the pane has gone)"]

        def shown(row):
            return wait_until(lambda: row in screen(), TIMEOUT)

        expected = [m.display() for m in self.messages]
        prompt = f"[#{hostile.own_room().display}] {hostile.ME}>"
        self.assertTrue(shown(expected[-1]), "\n".join(screen()))
        self.assertTrue(wait_until(lambda: [r for r in screen() if r][-1] == prompt, TIMEOUT),
                        "\n".join(screen()))
        rows = [r for r in screen() if r]
        connecting = (f"-*- connecting to {self.stub.address} as {hostile.ME}; /help lists "
                      "commands, /quit or Ctrl-D leaves")
        # Exactly these rows, each once, in order: nothing cleared, overwritten,
        # moved or answered (a device report would type into the input).
        self.assertEqual(rows[0], connecting)
        for i, (got, want) in enumerate(zip(rows[1:], expected)):
            self.assertEqual(got, want, f"message {i + 1}")
        self.assertEqual(rows, [connecting] + expected + [prompt])
        text = "".join(rows)
        self.assertEqual(hostile.raw_leftovers(text), [])
        self.assertEqual(sorted({c for c in text if c in hostile.INVISIBLE}), [])
        # No sequence took effect: no colour or attribute, no title, no
        # clipboard, no bell.
        self.assertNotIn("\x1b", pane.with_attributes())
        self.assertNotIn("pwned", pane.value("pane_title"))
        self.assertEqual(pane.buffers(), [])
        self.assertEqual(pane.value("window_bell_flag"), "0")

        # A refusal names the typed line and the server's reason, named too.
        pane.send_literal(hostile.TYPED)
        self.assertTrue(shown(prompt + " " + hostile.TYPED), "\n".join(screen()))
        pane.key("Enter")
        refused = f"!!! not sent: {hostile.TYPED} ({hostile.REFUSAL.display})"
        self.assertTrue(shown(refused), "\n".join(screen()))

        # Leaving: the status that ends the stream, named, then the shell.
        pane.send_literal("/quit")
        self.assertTrue(shown(prompt + " /quit"), "\n".join(screen()))
        pane.key("Enter")
        self.assertTrue(shown("SHELL-BACK rc=1"), "\n".join(screen()))
        ended = f"chat-client: the server ended the stream: {hostile.END_MESSAGE.display}"
        self.assertIn(ended, screen())
        text = "".join(screen())
        self.assertEqual(hostile.raw_leftovers(text), [])
        self.assertEqual(sorted({c for c in text if c in hostile.INVISIBLE}), [])


if __name__ == "__main__":
    unittest.main()
