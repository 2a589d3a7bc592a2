"""Drives the interactive chat-client in tmux, as a person would: keys in
with send-keys, the screen read back with capture-pane.

Each test has its own chat-server (it starts in a few milliseconds, and a
fresh one keeps history and flood limits from leaking between tests) and its
own tmux server on a private socket. Text typed is compared byte for byte
where it arrives (a peer in plain mode); on screen it is compared as tmux
draws it, which for some emoji sequences differs from the bytes.
"""
import re
import shlex
import shutil
import subprocess
import unicodedata
import unittest

from harness import CLIENT, PipeClient, Proxy, Server, TmuxPane, has_locale, wait_until

NAME = "tina"
PROMPT = "[#lobby] tina> "
# Any state of tina's prompt: [#room], [connecting], [reconnecting in 2s], with
# or without "(N pending)".
ANY_PROMPT = re.compile(r"\[[^\]]*\] tina(?: \(\d+ pending\))?> ?")

# Every kind of text the issue names: precomposed and decomposed accents, CJK,
# Hangul, an emoji, a ZWJ family, a flag, a skin tone.
UNICODE_LINE = ("café e\u0301 日本語 中文 한국어 😀 "
                "\U0001F468\u200d\U0001F469\u200d\U0001F467 \U0001F1EF\U0001F1F5 "
                "\U0001F44D\U0001F3FD end")

# A line that wraps: ASCII and Japanese, no spaces (a space that falls at the end
# of a row could not be told from the padding capture-pane strips), with wide
# characters landing on odd columns so that some do not fit at a row's end.
WRAPPED_LINE = "".join(f"wrap{i:02d}-日本語" for i in range(15))  # 150 characters, 195 columns

TIMEOUT = 5  # for what should take a moment


def loose(text):
    """Letters and digits only, accents decomposed and dropped: what survives
    any way a terminal may draw emoji sequences, flags and combining marks."""
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c)[0] in "LN")


def prompt_rows(screen):
    return [i for i, row in enumerate(screen) if ANY_PROMPT.search(row)]


def input_text(screen):
    """The input as drawn: from the prompt's row to the last non-empty row,
    joined without separator (rows already stripped of trailing spaces, so a
    wide character that did not fit at a row's end leaves nothing behind)."""
    rows = prompt_rows(screen)
    filled = [i for i, row in enumerate(screen) if row]
    if not rows or not filled:
        return None
    return "".join(screen[rows[-1]:filled[-1] + 1])


@unittest.skipUnless(shutil.which("tmux"), "tmux is not installed (scripts/setup/apt.sh installs it)")
class InteractiveClientTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()
        self.panes = []
        self.others = []
        self.proxies = []
        self.pane = None

    def tearDown(self):
        for pane in self.panes:
            pane.stop()
        for c in self.others:
            c.kill()
        for p in self.proxies:
            p.stop()
        self.server.stop()

    # --- set-up -----------------------------------------------------------------

    def start(self, width=100, height=20, locale=None, address=None, wrap_shell=False):
        """tina's chat-client in a fresh tmux pane; returns once its prompt shows."""
        command = " ".join(shlex.quote(a) for a in
                           [CLIENT, "--server", address or self.server.address, "--name", NAME])
        if wrap_shell:  # what a shell would print next, and the exit code
            command += '; echo "SHELL-BACK rc=$?"; read _'
        self.pane = TmuxPane(command, width=width, height=height, locale=locale)
        self.panes.append(self.pane)
        self.assertTrue(self.wait_screen(lambda s: any(ANY_PROMPT.search(r) for r in s)),
                        self.screen())
        return self.pane

    def peer(self, name="pete", address=None):
        c = PipeClient(address or self.server.address, name)
        self.others.append(c)
        self.assertTrue(c.wait_joined(), c.err.snapshot())
        return c

    def connected(self):
        """Waits for tina joined and the prompt empty and connected."""
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT.rstrip()),
                        self.screen())

    # --- reading the screen ---------------------------------------------------------

    def screen(self):
        try:
            return self.pane.screen()
        except subprocess.CalledProcessError:  # the client exited and took the session along
            return ["(no screen: the tmux session has ended, the client exited)"]

    def wait_screen(self, predicate, timeout=TIMEOUT, interval=0.02):
        return wait_until(lambda: predicate(self.screen()), timeout, interval)

    def on_screen(self, text, timeout=TIMEOUT):
        return self.wait_screen(lambda s: any(text in row for row in s), timeout)

    @staticmethod
    def last_line(screen):
        rows = [row for row in screen if row]
        return rows[-1] if rows else ""

    def cursor_x(self):
        return self.pane.cursor()[0]

    def sent_by_tina(self, peer):
        return [m["text"] for m in peer.messages("chat") if m["sender"] == NAME]

    def assert_input_is(self, text, prompt=PROMPT):
        """The screen shows the input exactly once, exactly prompt + text, at
        the bottom (waiting out the moment between an event and the redraw)."""
        def good(screen):
            return len(prompt_rows(screen)) == 1 and input_text(screen) == prompt + text
        if not self.wait_screen(good):
            screen = self.screen()
            self.fail(f"input not drawn as {prompt + text!r}: prompt rows {prompt_rows(screen)}, "
                      f"drawn {input_text(screen)!r}, screen:\n" + "\n".join(screen))

    # --- the tests --------------------------------------------------------------------

    def test_unicode_typed_in_every_locale_setting_arrives_byte_for_byte(self):
        settings = [("unset", {}), ("LANG=C", {"LANG": "C"}), ("LC_ALL=C", {"LC_ALL": "C"}),
                    ("LANG=C.UTF-8", {"LANG": "C.UTF-8"})]
        for name in ("en_US.UTF-8", "ja_JP.UTF-8"):
            if has_locale(name):
                settings.append((f"LANG={name}", {"LANG": name}))
            else:
                print(f"\n  (locale {name} is not installed: scripts/setup/apt.sh generates it)")
        pete = self.peer()

        def leaves():
            return len([m for m in pete.messages("leave") if m["sender"] == NAME])
        for label, env in settings:
            with self.subTest(locale=label):
                text = f"{UNICODE_LINE} {label}"
                left_before = leaves()
                pane = self.start(width=120, locale=env)
                try:
                    self.connected()
                    pane.type(text)  # one code point per key: sequences split across reads
                    self.assertTrue(self.wait_screen(
                        lambda s: loose(input_text(s) or "") == loose(PROMPT + text)),
                        self.screen())
                    pane.key("Enter")
                    self.assertTrue(wait_until(lambda: text in self.sent_by_tina(pete), TIMEOUT),
                                    f"{self.sent_by_tina(pete)!r} lacks {text!r}")
                    self.assertEqual(self.sent_by_tina(pete).count(text), 1)

                    def echoed(screen):
                        return any("<tina> " in row and
                                   loose(row.split("<tina> ", 1)[1]) == loose(text)
                                   for row in screen)
                    self.assertTrue(self.wait_screen(echoed), self.screen())
                    pane.type("/quit")
                    pane.key("Enter")
                    self.assertTrue(wait_until(lambda: leaves() > left_before, TIMEOUT),
                                    pete.out.snapshot())
                finally:
                    pane.stop()
                    self.panes.remove(pane)
                    # the next setting's tina must not find this one still in the room
                    wait_until(lambda: leaves() > left_before, TIMEOUT)

    def test_editing_moves_and_deletes_whole_characters(self):
        pete = self.peer()
        pane = self.start()
        self.connected()
        pane.type("日本")
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT + "日本"),
                        self.screen())
        self.assertEqual(self.cursor_x(), len(PROMPT) + 4)  # two double-width characters
        pane.key("C-u")
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT.rstrip()))

        pane.type("ab日本c")
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT + "ab日本c"))
        self.assertEqual(self.cursor_x(), len(PROMPT) + 7)
        pane.key("Left", "Left")  # before c, then before 本
        self.assertTrue(wait_until(lambda: self.cursor_x() == len(PROMPT) + 4, TIMEOUT),
                        self.cursor_x())
        pane.key("BSpace")  # 日 goes, whole
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT + "ab本c"),
                        self.screen())
        self.assertEqual(self.cursor_x(), len(PROMPT) + 2)
        pane.key("Enter")
        self.assertTrue(pete.wait_for_text("ab本c", TIMEOUT), pete.out.snapshot())

        # Clusters of several code points go whole too: a flag, a ZWJ family,
        # a letter with a combining accent, a skin tone.
        family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
        flag = "\U0001F1EF\U0001F1F5"
        pane.type(f"a{family}b{flag}c")
        pane.key("Left", "BSpace", "Left", "BSpace")  # the flag, then the family
        pane.key("End")
        pane.type("de\u0301\U0001F44D\U0001F3FD")
        pane.key("BSpace", "BSpace")  # the thumb with its tone, then e with its accent
        pane.key("Enter")
        self.assertTrue(wait_until(lambda: len(self.sent_by_tina(pete)) >= 2, TIMEOUT),
                        pete.out.snapshot())
        self.assertEqual(self.sent_by_tina(pete), ["ab本c", "abcd"])

    def test_wrapped_line_survives_incoming_messages(self):
        pete = self.peer()
        pane = self.start(width=60, height=20)
        self.connected()
        for i in range(0, len(WRAPPED_LINE), 10):
            pane.send_literal(WRAPPED_LINE[i:i + 10])
        self.assert_input_is(WRAPPED_LINE)
        first_row = self.screen()[prompt_rows(self.screen())[0]]
        for i in range(5):
            pete.send(f"incoming {i}")
        self.assertTrue(self.on_screen("<pete> incoming 4"), self.screen())
        self.assert_input_is(WRAPPED_LINE)
        screen = self.screen()
        prompt_row = prompt_rows(screen)[0]
        self.assertEqual(screen.count(first_row), 1, "a stale copy of the input's first row:\n"
                         + "\n".join(screen))
        for i in range(5):
            rows = [n for n, row in enumerate(screen) if f"<pete> incoming {i}" in row]
            self.assertEqual(len(rows), 1, "\n".join(screen))
            self.assertLess(rows[0], prompt_row, "a message below the input:\n" + "\n".join(screen))
        pane.key("Enter")
        self.assertTrue(pete.wait_for_text(WRAPPED_LINE, TIMEOUT), pete.out.snapshot())
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT.rstrip()),
                        self.screen())

    def test_resize_redraws_the_wrapped_input_as_it_will_be_sent(self):
        pete = self.peer()
        pane = self.start(width=60, height=20)
        self.connected()
        half = WRAPPED_LINE[:80]
        for i in range(0, len(half), 10):
            pane.send_literal(half[i:i + 10])
        self.assert_input_is(half)
        pane.resize(width=40)
        self.assertTrue(wait_until(lambda: pane.width() == 40, TIMEOUT))
        self.assert_input_is(half)
        rest = WRAPPED_LINE[80:]
        for i in range(0, len(rest), 10):
            pane.send_literal(rest[i:i + 10])
        self.assert_input_is(WRAPPED_LINE)
        pane.resize(width=90)
        self.assertTrue(wait_until(lambda: pane.width() == 90, TIMEOUT))
        self.assert_input_is(WRAPPED_LINE)
        pane.key("Enter")
        self.assertTrue(pete.wait_for_text(WRAPPED_LINE, TIMEOUT), pete.out.snapshot())
        self.assertEqual(self.sent_by_tina(pete), [WRAPPED_LINE])

    def test_start_up_leaves_no_prompt_behind(self):
        # Nothing of the [connecting] prompt stays, on screen or in the
        # scrollback (a terminal that re-wraps on resize pulls rows back from it).
        pane = self.start(width=60)
        self.connected()
        pete = self.peer()
        self.assertTrue(self.on_screen("pete joined #lobby"), self.screen())
        self.connected()
        rows = pane.scrollback()
        while rows and not rows[-1]:
            rows.pop()
        self.assertEqual(len(prompt_rows(rows)), 1, "\n".join(rows))
        self.assertEqual(rows[-1], PROMPT.rstrip(), "\n".join(rows))

    def test_tab_completes_names_and_commands_and_never_inserts_a_tab(self):
        pete = self.peer()  # in the room before tina joins
        pane = self.start()
        self.connected()
        pane.type("pe")
        pane.key("Tab")
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT + "pete:"),
                        self.screen())
        self.assertEqual(self.cursor_x(), len(PROMPT) + len("pete: "))
        pane.type("hi")
        pane.key("Enter")
        self.assertTrue(pete.wait_for_text("pete: hi", TIMEOUT), pete.out.snapshot())

        pane.type("/jo")
        pane.key("Tab")
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT + "/join"),
                        self.screen())
        self.assertEqual(self.cursor_x(), len(PROMPT) + len("/join "))
        pane.key("C-u")
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT.rstrip()))

        pane.type("x")
        pane.key("Tab")  # nothing matches
        pane.key("Enter")
        self.assertTrue(wait_until(lambda: len(self.sent_by_tina(pete)) >= 2, TIMEOUT),
                        pete.out.snapshot())
        self.assertEqual(self.sent_by_tina(pete), ["pete: hi", "x"])
        self.assertTrue(self.on_screen("<tina> x"), self.screen())
        screen = "\n".join(self.screen())
        self.assertNotIn("control character", screen)
        self.assertNotIn("!!!", screen)

    def test_ctrl_c_clears_a_line_and_leaves_on_an_empty_one(self):
        pete = self.peer()
        pane = self.start(wrap_shell=True)
        self.connected()
        pane.type("to be cleared")
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT + "to be cleared"))
        pane.key("C-c")
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT.rstrip()),
                        self.screen())
        pane.type("after ctrl-c")
        pane.key("Enter")
        self.assertTrue(pete.wait_for_text("after ctrl-c", TIMEOUT), pete.out.snapshot())
        self.assertTrue(self.on_screen("<tina> after ctrl-c"), self.screen())
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT.rstrip()))
        pane.key("C-c")
        self.assertTrue(pete.wait_for_text("tina left #lobby", TIMEOUT), pete.out.snapshot())
        self.assertTrue(self.on_screen("SHELL-BACK"), self.screen())
        self.assertIn("SHELL-BACK rc=0", self.screen())
        self.assertEqual(self.sent_by_tina(pete), ["after ctrl-c"])

    def test_pasted_lines_are_paced_not_refused(self):
        pete = self.peer()
        pane = self.start(height=30)
        self.connected()
        lines = [f"paste {i:02d}" for i in range(1, 51)]
        pane.paste("\n".join(lines) + "\n")
        # 50 lines against a burst of 40 at 20/s: about half a second of pending.
        self.assertTrue(self.wait_screen(
            lambda s: any("pending" in s[i] for i in prompt_rows(s)), timeout=5, interval=0.02),
            "no pending count in the prompt:\n" + "\n".join(self.screen()))
        self.assertTrue(wait_until(lambda: len(self.sent_by_tina(pete)) >= 50, 15),
                        self.sent_by_tina(pete))
        self.assertEqual(self.sent_by_tina(pete), lines)
        self.assertTrue(self.on_screen("<tina> paste 50"), self.screen())
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT.rstrip()),
                        self.screen())
        screen = "\n".join(self.screen())
        self.assertNotIn("slow down", screen)
        self.assertNotIn("!!!", screen)
        self.assertFalse([m for m in pete.messages("error")], pete.out.snapshot())

    def test_prompt_shows_reconnecting_and_pending_then_delivers_once(self):
        proxy = Proxy(self.server.port)
        self.proxies.append(proxy)
        pete = self.peer()
        pane = self.start(address=proxy.address)
        self.connected()
        proxy.cut()
        self.assertTrue(pete.wait_for_text("tina left #lobby (connection lost)", TIMEOUT),
                        pete.out.snapshot())
        self.assertTrue(self.wait_screen(
            lambda s: any("reconnecting" in s[i] for i in prompt_rows(s))), self.screen())
        pane.type("typed while cut")
        pane.key("Enter")
        self.assertTrue(self.wait_screen(
            lambda s: any("pending" in s[i] and "reconnecting" in s[i] for i in prompt_rows(s))),
            self.screen())
        # Several attempts, each turned away by the proxy: no notice per attempt.
        self.assertTrue(wait_until(lambda: proxy.refused >= 3, 10), proxy.refused)
        screen = self.screen()
        self.assertLessEqual(sum("retrying" in row for row in screen), 1, "\n".join(screen))
        self.assertLessEqual(sum("connection lost" in row for row in screen), 1, "\n".join(screen))
        self.assertEqual(len(prompt_rows(screen)), 1, "\n".join(screen))
        proxy.restore()
        self.assertTrue(pete.wait_for_text("typed while cut", 20), pete.out.snapshot())
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT.rstrip()),
                        self.screen())
        self.assertTrue(self.on_screen("<tina> typed while cut"), self.screen())
        pete.send("after the cut")
        self.assertTrue(self.on_screen("<pete> after the cut"), self.screen())
        self.assertEqual(self.sent_by_tina(pete), ["typed while cut"])

    def test_shell_prompt_starts_on_a_fresh_line_after_leaving(self):
        pete = self.peer()
        for how, keys in (("/quit", ["/quit", "Enter"]), ("Ctrl-D", ["C-d"])):
            with self.subTest(leave=how):
                pane = self.start(wrap_shell=True)
                self.connected()
                pane.type("some words")  # typed, then erased: Ctrl-D acts on an empty line
                pane.key("C-u")
                self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT.rstrip()))
                if keys[0].startswith("/"):
                    pane.type(keys[0])
                    pane.key(*keys[1:])
                else:
                    pane.key(*keys)
                self.assertTrue(self.on_screen("SHELL-BACK"), self.screen())
                screen = self.screen()
                back = [row for row in screen if "SHELL-BACK" in row]
                self.assertEqual(back, ["SHELL-BACK rc=0"], "\n".join(screen))
                self.assertFalse([row for row in screen if "^D" in row], "\n".join(screen))
                self.assertTrue(wait_until(
                    lambda: len([m for m in pete.messages("leave") if m["sender"] == NAME])
                    >= (1 if how == "/quit" else 2), TIMEOUT), pete.out.snapshot())
                pane.stop()
                self.panes.remove(pane)

    def test_half_typed_line_survives_incoming_messages_and_is_sent_whole(self):
        pane = self.start()
        self.assertTrue(self.on_screen("tina joined #lobby"), self.screen())
        self.connected()
        pane.type("world")
        pane.key("C-a")  # line editing: to the start of the line
        pane.type("hello ")
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT + "hello world"),
                        self.screen())
        cursor_before = self.cursor_x()

        pete = self.peer()
        for i in range(3):
            pete.send(f"interruption {i}")
        pete.send("\x1b[2J\x1b]0;evil title\x07 nope")  # refused by the server
        self.assertTrue(self.on_screen("<pete> interruption 2"), self.screen())

        # The half-typed line is intact at the bottom, the cursor where it was
        # (waiting out the moment between a message and the prompt's redraw).
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT + "hello world"),
                        self.screen())
        self.assertEqual(self.cursor_x(), cursor_before)
        screen = "\n".join(self.screen())
        for i in range(3):
            self.assertEqual(screen.count(f"interruption {i}"), 1, screen)

        pane.key("Enter")
        self.assertTrue(pete.wait_for_text("hello world", TIMEOUT), pete.out.snapshot())
        self.assertTrue(self.on_screen("<tina> hello world"), self.screen())
        self.connected()

        pane.key("Up")  # history: the line just sent comes back
        self.assertTrue(self.wait_screen(lambda s: self.last_line(s) == PROMPT + "hello world"),
                        self.screen())
        pane.key("C-u")
        pane.type("/quit")
        pane.key("Enter")
        self.assertTrue(pete.wait_for_text("tina left #lobby", TIMEOUT), pete.out.snapshot())

    def test_mentions_and_events_are_shown(self):
        self.start()
        self.assertTrue(self.on_screen("tina joined #lobby"), self.screen())
        pete = self.peer()
        pete.send("/me waves at tina")
        pete.send("/msg tina a secret")
        self.assertTrue(self.on_screen("* pete waves at tina"), self.screen())
        self.assertTrue(self.on_screen("*pete* a secret"), self.screen())
        self.assertTrue(self.on_screen("-!- #lobby pete joined #lobby"), self.screen())


if __name__ == "__main__":
    unittest.main()
