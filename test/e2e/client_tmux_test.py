"""Drives the interactive chat-client in tmux, as a person would: keys in
with send-keys, the screen read back with capture-pane.

Each test has its own chat-server (it starts in a few milliseconds, and a
fresh one keeps history and flood limits from leaking between tests) and its
own tmux server on a private socket. Text typed is compared byte for byte
where it arrives (a peer in plain mode); on screen it is compared as tmux
draws it, which for some emoji sequences differs from the bytes.
"""
import ctypes
import locale
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


# Columns as the C library counts them (wcwidth in C.UTF-8), which is what
# libedit draws with: where the cursor must be after the input.
locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
_libc = ctypes.CDLL(None)
_libc.wcwidth.argtypes = [ctypes.c_wchar]


def columns(text):
    return sum(max(0, _libc.wcwidth(c)) for c in text)


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

    def assert_cursor_at(self, text_before_cursor, prompt=PROMPT):
        """Waits until the cursor stands right after prompt + text_before_cursor
        (one row: the input does not wrap here)."""
        x = columns(prompt + text_before_cursor)
        if not wait_until(lambda: self.cursor_x() == x, TIMEOUT):
            self.fail(f"cursor at column {self.cursor_x()}, not {x} (after "
                      f"{text_before_cursor!r}):\n" + "\n".join(self.screen()))

    def assert_line(self, text, prompt=PROMPT):
        """Waits until the bottom row is prompt + text, as drawn."""
        want = (prompt + text).rstrip()
        if not self.wait_screen(lambda s: self.last_line(s) == want):
            self.fail(f"bottom row is not {want!r}:\n" + "\n".join(self.screen()))

    def assert_drawn(self, text, prompt=PROMPT):
        """Waits until the bottom row shows prompt + text as tmux draws it
        (composed, without the joiners it does not keep)."""
        def drawn(row):
            kept = "".join(c for c in row if unicodedata.category(c) != "Cf")
            return unicodedata.normalize("NFC", kept)
        want = drawn(prompt + text)
        if not self.wait_screen(lambda s: drawn(self.last_line(s)) == want):
            self.fail(f"bottom row does not show {want!r}:\n" + "\n".join(self.screen()))

    def assert_taken(self):
        """Waits until the client has read every key sent so far (the pane's
        input queue is empty): for keys that change nothing on screen."""
        self.assertTrue(wait_until(lambda: self.pane.input_waiting() == 0, TIMEOUT),
                        "the client did not read its input")

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
        self.assert_line("日本")
        self.assert_cursor_at("日本")  # two double-width characters: 4 columns
        pane.key("C-u")
        self.assert_line("")
        self.assert_cursor_at("")

        pane.type("ab日本c")
        self.assert_line("ab日本c")
        self.assert_cursor_at("ab日本c")
        pane.key("Left")  # before c
        self.assert_cursor_at("ab日本")
        pane.key("Left")  # before 本, two columns back
        self.assert_cursor_at("ab日")
        pane.key("BSpace")  # 日 goes, whole
        self.assert_line("ab本c")
        self.assert_cursor_at("ab")
        pane.key("Enter")
        self.assertTrue(pete.wait_for_text("ab本c", TIMEOUT), pete.out.snapshot())
        self.assert_line("")

        # Clusters of several code points go whole too: a flag, a ZWJ family,
        # a letter with a combining accent, a skin tone. Each step waits for
        # what is drawn and, where tmux's widths agree with libedit's (not left
        # of a family or a flag: see docs/client.md), for the cursor.
        family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
        flag = "\U0001F1EF\U0001F1F5"
        pane.type(f"a{family}b{flag}c")
        self.assert_drawn(f"a{family}b{flag}c")
        self.assert_cursor_at(f"a{family}b{flag}c")
        pane.key("Left")
        self.assert_taken()
        pane.key("BSpace")  # the flag, both regional indicators
        self.assert_drawn(f"a{family}bc")
        pane.key("Left")
        self.assert_taken()
        pane.key("BSpace")  # the family, all five code points
        self.assert_line("abc")
        self.assert_cursor_at("a")
        pane.key("End")
        self.assert_cursor_at("abc")
        thumb = "\U0001F44D\U0001F3FD"
        pane.type("de\u0301" + thumb)
        self.assert_drawn("abcde\u0301" + thumb)
        self.assert_cursor_at("abcde\u0301" + thumb)
        pane.key("BSpace")  # the thumb with its tone
        self.assert_drawn("abcde\u0301")
        self.assert_cursor_at("abcde\u0301")
        pane.key("BSpace")  # e with its accent
        self.assert_cursor_at("abcd")
        self.assert_line("abcd")
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
            self.assert_input_is(WRAPPED_LINE[:i + 10])
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
            self.assert_input_is(half[:i + 10])
        pane.resize(width=40)
        self.assertTrue(wait_until(lambda: pane.width() == 40, TIMEOUT))
        self.assert_input_is(half)
        # Before anything is typed: a message goes above the input, which now
        # takes more rows (an editor that missed the resize erases too few).
        self.assert_message_above_input(pete, "after narrowing", half)
        rest = WRAPPED_LINE[80:]
        for i in range(0, len(rest), 10):
            pane.send_literal(rest[i:i + 10])
            self.assert_input_is(half + rest[:i + 10])
        pane.resize(width=90)
        self.assertTrue(wait_until(lambda: pane.width() == 90, TIMEOUT))
        self.assert_input_is(WRAPPED_LINE)
        self.assert_message_above_input(pete, "after widening", WRAPPED_LINE)
        pane.key("Enter")
        self.assertTrue(pete.wait_for_text(WRAPPED_LINE, TIMEOUT), pete.out.snapshot())
        self.assertEqual(self.sent_by_tina(pete), [WRAPPED_LINE])

    def assert_message_above_input(self, peer, text, typed):
        """peer says text: it shows once, above the input, which stays whole."""
        peer.send(text)
        self.assertTrue(self.on_screen(f"<{peer.name}> {text}"), self.screen())
        self.assert_input_is(typed)
        screen = self.screen()
        rows = [n for n, row in enumerate(screen) if f"<{peer.name}> {text}" in row]
        self.assertEqual(len(rows), 1, "\n".join(screen))
        self.assertLess(rows[0], prompt_rows(screen)[0], "\n".join(screen))

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
        self.assert_line("pete:")
        self.assert_cursor_at("pete: ")
        pane.type("hi")
        pane.key("Enter")
        self.assertTrue(pete.wait_for_text("pete: hi", TIMEOUT), pete.out.snapshot())
        self.assert_line("")

        pane.type("/jo")
        pane.key("Tab")
        self.assert_line("/join")
        self.assert_cursor_at("/join ")
        pane.key("C-u")
        self.assert_line("")
        self.assert_cursor_at("")

        pane.type("x")
        pane.key("Tab")  # nothing matches: nothing changes, no tab
        self.assert_taken()
        self.assert_line("x")
        self.assert_cursor_at("x")
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
        self.assert_line("to be cleared")
        pane.key("C-c")
        self.assert_line("")
        self.assert_cursor_at("")
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

    def test_ctrl_d_deletes_under_the_cursor_and_leaves_on_an_empty_line(self):
        pete = self.peer()
        pane = self.start(wrap_shell=True)
        self.connected()
        pane.type("xyz")
        self.assert_line("xyz")
        pane.key("C-a")
        self.assert_cursor_at("")
        pane.key("C-d")  # on a half-typed line: deletes the character under the cursor
        self.assert_line("yz")
        self.assert_cursor_at("")
        self.assertFalse(self.on_screen("SHELL-BACK", timeout=0), self.screen())
        pane.key("C-u")
        self.assert_line("")
        pane.key("C-d")  # on an empty line: leaves, exit code 0
        self.assertTrue(pete.wait_for_text("tina left #lobby", TIMEOUT), pete.out.snapshot())
        self.assertTrue(self.on_screen("SHELL-BACK"), self.screen())
        self.assertIn("SHELL-BACK rc=0", self.screen())
        self.assertEqual(self.sent_by_tina(pete), [])

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
                self.assert_line("some words")
                pane.key("C-u")
                self.assert_line("")
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
        self.assert_line("world")
        pane.key("C-a")  # line editing: to the start of the line
        self.assert_cursor_at("")
        pane.type("hello ")
        self.assert_line("hello world")
        self.assert_cursor_at("hello ")

        pete = self.peer()
        for i in range(3):
            pete.send(f"interruption {i}")
        self.assertTrue(self.on_screen("<pete> interruption 2"), self.screen())

        # The half-typed line is intact at the bottom, the cursor where it was
        # (waiting out the moment between a message and the prompt's redraw).
        self.assert_line("hello world")
        self.assert_cursor_at("hello ")
        screen = "\n".join(self.screen())
        for i in range(3):
            self.assertEqual(screen.count(f"interruption {i}"), 1, screen)

        pane.key("Enter")
        self.assertTrue(pete.wait_for_text("hello world", TIMEOUT), pete.out.snapshot())
        self.assertTrue(self.on_screen("<tina> hello world"), self.screen())
        self.connected()

        pane.key("Up")  # history: the line just sent comes back
        self.assert_line("hello world")
        pane.key("C-u")
        self.assert_line("")
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
