"""Drives the interactive chat-client in tmux, as a person would: keys in
with send-keys, the screen read back with capture-pane."""
import os
import shutil
import subprocess
import time
import unittest

from harness import CLIENT, PipeClient, Server, wait_until

PROMPT = "[#lobby] tina> "


@unittest.skipUnless(shutil.which("tmux"), "tmux is not installed (scripts/setup/apt.sh installs it)")
class InteractiveClientTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()
        # A private tmux server (its own socket): nothing else is touched.
        self.socket = f"chat-e2e-{os.getpid()}"
        self.tmux(["new-session", "-d", "-s", "chat", "-x", "100", "-y", "20",
                   f"{CLIENT} --server {self.server.address} --name tina"])
        self.others = []

    def tearDown(self):
        for c in self.others:
            c.kill()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
        self.server.stop()

    def tmux(self, args):
        # CI may run without a terminal (no TERM): tmux needs one to start.
        env = dict(os.environ, TERM=os.environ.get("TERM") or "xterm")
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              timeout=10, check=True, env=env).stdout

    def screen(self):
        return [l.rstrip() for l in self.tmux(["capture-pane", "-p", "-t", "chat"]).splitlines()]

    def last_line(self):
        lines = [l for l in self.screen() if l]
        return lines[-1] if lines else ""

    def cursor_x(self):
        return int(self.tmux(["display", "-p", "-t", "chat", "#{cursor_x}"]).strip())

    def type(self, text):
        # Key by key with a human pause, so each key is its own read.
        for ch in text:
            self.tmux(["send-keys", "-t", "chat", "-l", ch])
            time.sleep(0.01)

    def key(self, name):
        self.tmux(["send-keys", "-t", "chat", name])
        time.sleep(0.05)

    def on_screen(self, text, timeout=10):
        return wait_until(lambda: any(text in l for l in self.screen()), timeout)

    def test_half_typed_line_survives_incoming_messages_and_is_sent_whole(self):
        self.assertTrue(self.on_screen("tina joined #lobby"), self.screen())
        self.assertTrue(wait_until(lambda: self.last_line() == PROMPT.rstrip()), self.screen())
        self.type("world")
        self.key("C-a")  # line editing: to the start of the line
        self.type("hello ")
        self.assertTrue(wait_until(lambda: self.last_line() == PROMPT + "hello world"), self.screen())
        cursor_before = self.cursor_x()

        pete = PipeClient(self.server.address, "pete")
        self.others.append(pete)
        self.assertTrue(pete.wait_joined())
        for i in range(3):
            pete.send(f"interruption {i}")
        pete.send("\x1b[2J\x1b]0;evil title\x07 nope")  # refused by the server
        self.assertTrue(self.on_screen("<pete> interruption 2"), self.screen())

        # The half-typed line is intact at the bottom, the cursor where it was
        # (waiting out the moment between a message and the prompt's redraw).
        self.assertTrue(wait_until(lambda: self.last_line() == PROMPT + "hello world"),
                        self.screen())
        self.assertEqual(self.cursor_x(), cursor_before)
        screen = "\n".join(self.screen())
        for i in range(3):
            self.assertEqual(screen.count(f"interruption {i}"), 1, screen)

        self.key("Enter")
        self.assertTrue(pete.wait_for_text("hello world"), pete.out.snapshot())
        self.assertTrue(self.on_screen("<tina> hello world"), self.screen())
        self.assertTrue(wait_until(lambda: self.last_line() == PROMPT.rstrip()), self.screen())

        self.key("Up")  # history: the line just sent comes back
        self.assertTrue(wait_until(lambda: self.last_line() == PROMPT + "hello world"), self.screen())
        self.key("C-u")
        self.type("/quit")
        self.key("Enter")
        self.assertTrue(pete.wait_for_text("tina left #lobby"), pete.out.snapshot())

    def test_mentions_and_events_are_shown(self):
        self.assertTrue(self.on_screen("tina joined #lobby"), self.screen())
        pete = PipeClient(self.server.address, "pete")
        self.others.append(pete)
        self.assertTrue(pete.wait_joined())
        pete.send("/me waves at tina")
        pete.send("/msg tina a secret")
        self.assertTrue(self.on_screen("* pete waves at tina"), self.screen())
        self.assertTrue(self.on_screen("*pete* a secret"), self.screen())
        self.assertTrue(self.on_screen("-!- #lobby pete joined #lobby"), self.screen())


if __name__ == "__main__":
    unittest.main()
