"""What test/support/hostile_server.cc is scripted to send in the clients'
hostile-input tests, and what each client must show for it.

A real chat-server refuses control characters and never lets a name or a room
hold one, so tests against it never put a hostile byte in front of a client.
Here every string field a client prints (user, room, message, subject, also
inside a batch frame, and the status that ends the stream) carries escape
sequences, C1 controls, bidi controls and invisible characters.

Each Piece has its raw text and the two visible forms the docs promise, written
out by hand (not computed by any client's sanitiser):
  plain:   the pipe format of all three clients (docs/interop.md): C0 as ^X,
           DEL ^?, C1 and bidi controls <U+XXXX>, the rest unchanged;
  display: the C++ client in a terminal (docs/client.md): the same, and also
           zero-width characters, BOM, soft hyphen, U+2028, tags and joiners out
           of place as <U+XXXX>.
Used by test/e2e/client_hostile_test.py (the C++ client in a pipe and in tmux)
and test/interop/test_hostile_server.py (the C++, Go and Python line clients).
"""

import json

ME = "victim"  # the client's name; the stub sends its JOIN so that it settles in
TIME_MS = 1764633600123  # 2025-12-02T00:00:00.123Z on every scripted message
PLAIN_TIME = "2025-12-02T00:00:00.123Z"
DISPLAY_TIME = "00:00:00"  # with TZ=UTC
EPOCH = 7

KIND_NUMBERS = {"chat": 1, "action": 2, "private": 3, "join": 4, "leave": 5, "rename": 6,
                "notice": 7, "error": 8, "gap": 9}


class Text:
    """A string as sent (raw) and as each output must show it."""

    def __init__(self, raw, plain=None, display=None):
        self.raw = raw
        self.plain = raw if plain is None else plain
        self.display = self.plain if display is None else display

    def __add__(self, other):
        other = other if isinstance(other, Text) else Text(other)
        return Text(self.raw + other.raw, self.plain + other.plain, self.display + other.display)

    def __radd__(self, other):
        return Text(other) + self


class Piece(Text):
    def __init__(self, label, raw, plain, display=None):
        super().__init__(raw, plain, display)
        self.label = label


# No spaces: a piece also goes into user and room, which the plain format
# keeps space-free.
PIECES = [
    Piece("csi-clear-home", "\x1b[2J\x1b[H", "^[[2J^[[H"),
    Piece("sgr-colour", "\x1b[31;1mred\x1b[0m", "^[[31;1mred^[[0m"),
    Piece("csi-device-report", "\x1b[6n\x1b[c", "^[[6n^[[c"),  # makes a terminal type an answer
    Piece("osc0-title", "\x1b]0;pwned\x07", "^[]0;pwned^G"),
    Piece("osc52-clipboard", "\x1b]52;c;cm0gLXJmIH4K\x1b\\", "^[]52;c;cm0gLXJmIH4K^[\\"),
    Piece("osc8-link", "\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\",
          "^[]8;;http://evil/^[\\link^[]8;;^[\\"),
    Piece("dcs-tmux", "\x1bPtmux;\x1b\x1b]0;pwned\x07\x1b\\", "^[Ptmux;^[^[]0;pwned^G^[\\"),
    Piece("c1-csi", "\u009b2J\u009b31m", "<U+009B>2J<U+009B>31m"),
    Piece("c1-osc-st", "\u009d0;pwned\u009c", "<U+009D>0;pwned<U+009C>"),
    Piece("c1-nel-dcs", "a\u0085b\u0090c", "a<U+0085>b<U+0090>c"),
    Piece("bel", "ding\x07\x07", "ding^G^G"),
    Piece("cr-overwrite", "harmless\rEVIL", "harmless^MEVIL"),
    Piece("backspace-overwrite", "abc\b\b\bXYZ", "abc^H^H^HXYZ"),
    Piece("newline-tab", "one\ntwo\tthree", "one^Jtwo^Ithree"),  # a forged line in a pipe
    Piece("nul-del", "a\x00b\x7fc", "a^@b^?c"),
    Piece("bidi-override", "\u202egnp.exe\u202c\u202d", "<U+202E>gnp.exe<U+202C><U+202D>"),
    Piece("bidi-isolates-marks", "\u2066a\u2067b\u2068c\u2069\u200e\u200f\u061c",
          "<U+2066>a<U+2067>b<U+2068>c<U+2069><U+200E><U+200F><U+061C>"),
    # Invisible, not controls: unchanged in a pipe, named in a terminal.
    Piece("zero-width", "ad\u200bmin\u2060x", "ad\u200bmin\u2060x", "ad<U+200B>min<U+2060>x"),
    Piece("bom-soft-hyphen", "\ufeffbom\u00adx", "\ufeffbom\u00adx", "<U+FEFF>bom<U+00AD>x"),
    Piece("joiners-in-latin", "a\u200db\u200cc", "a\u200db\u200cc", "a<U+200D>b<U+200C>c"),
    Piece("line-separator-tag", "a\u2028b\U000e0041", "a\u2028b\U000e0041",
          "a<U+2028>b<U+E0041>"),
    # What must pass unchanged everywhere.
    Piece("benign-unicode", "café-日本語-e\u0301", "café-日本語-e\u0301"),
]

# Ends the stream after the client half-closes: a status message is shown too.
END_CODE = 13  # INTERNAL
END_CODE_NAME = "INTERNAL"
END_MESSAGE = Text("boom ") + PIECES[0] + " " + PIECES[3] + " " + PIECES[15] + " " + PIECES[17]
# The reply to each line the client sends: an ERROR refusing it.
TYPED = "hello"
REFUSAL = Text("not sent: ") + PIECES[1] + " " + PIECES[9] + " " + PIECES[16] + " " + PIECES[18]

# Characters that must never reach a terminal raw (the pieces hold all of them).
CONTROLS = {chr(c) for c in list(range(0x20)) + list(range(0x7F, 0xA0))}
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
INVISIBLE = set("\u200b\u2060\ufeff\u00ad\u200d\u200c\u2028\U000e0041")


class Message:
    def __init__(self, kind, user, message, room=None, subject=None, seq=0, replay=False):
        self.kind = kind
        self.user = user if isinstance(user, Text) else Text(user)
        self.message = message if isinstance(message, Text) else Text(message)
        self.room = room if room is None or isinstance(room, Text) else Text(room)
        self.subject = subject if subject is None or isinstance(subject, Text) else Text(subject)
        self.seq = seq
        self.replay = replay

    def json(self):
        fields = {"user": self.user.raw, "message": self.message.raw,
                  "kind": KIND_NUMBERS[self.kind], "timeUnixMs": str(TIME_MS)}
        if self.room is not None:
            fields.update(room=self.room.raw, seq=str(self.seq), epoch=str(EPOCH))
        if self.subject is not None:
            fields["subject"] = self.subject.raw
        if self.replay:
            fields["replay"] = True
        return fields

    def plain(self):
        """TIME ROOM SEQ KIND SENDER TEXT, as docs/interop.md."""
        room = "#" + self.room.plain if self.room is not None else "-"
        sender = self.user.plain
        if self.kind == "private":
            sender += ">" + self.subject.plain
        return " ".join((PLAIN_TIME, room, str(self.seq), self.kind, sender, self.message.plain))

    def display(self):
        """The line chat-client shows in a terminal without colour (docs/client.md,
        client/message_format.cc): a mention of ME starts with '>> '."""
        room = "#" + self.room.display if self.room is not None else ""
        text = self.message.display
        if self.kind in ("join", "leave", "rename", "gap"):
            body = "-!- " + (room + " " if room else "") + text
        elif self.kind == "notice":
            body = "-*- " + text
        elif self.kind == "error":
            body = "!!! " + text
        elif self.kind == "action":
            body = room + " " + text
        elif self.kind == "private":
            mine = self.user.raw.lower() == ME
            body = ("-> *" + self.subject.display + "*" if mine else "*" + self.user.display + "*")
            body += " " + text
        else:
            body = room + " <" + self.user.display + "> " + text
        line = DISPLAY_TIME + " " + body
        if self.replay:
            line = "[history] " + line
        if self.kind == "private" and self.subject.raw.lower() == ME and self.user.raw.lower() != ME:
            line = ">> " + line
        return line


def own_room():
    """The room the stub says ME joined: the prompt shows it."""
    return Text("lobby-") + PIECES[17] + PIECES[15]


def script():
    """(frames, messages): the frames to send, as JSON objects, and every
    message they hold, in the order a client receives them."""
    seq = iter(range(1, 10000))
    frames, messages = [], []

    def single(message):
        frames.append(message.json())
        messages.append(message)

    welcome = Message("notice", "*", Text("welcome, victim; ") + PIECES[0] + PIECES[3])
    single(welcome)
    # History, in one batch frame as the server sends it to chat-batch clients.
    history = [Message("chat", "u-" + p, "said " + p, room="r-" + p, seq=next(seq), replay=True)
               for p in PIECES]
    frames.append({"batch": [m.json() for m in history]})
    messages.extend(history)
    room = own_room()
    single(Message("join", ME, ME + " joined #" + room, room=room, subject=ME, seq=next(seq)))
    for p in PIECES:
        user, other, in_room = "u-" + p, "s-" + p, "r-" + p
        single(Message("chat", user, "live " + p, room=in_room, seq=next(seq)))
        single(Message("action", user, "* " + user + " acts " + p, room=in_room, subject=user,
                       seq=next(seq)))
        single(Message("join", other, other + " joined #" + in_room, room=in_room, subject=other,
                       seq=next(seq)))
        single(Message("rename", user, user + " is now known as " + other, room=in_room,
                       subject=other, seq=next(seq)))
        single(Message("leave", other, other + " left #" + in_room, room=in_room, subject=other,
                       seq=next(seq)))
        single(Message("private", user, "psst " + p, subject=ME))
        single(Message("private", ME, "to you " + p, subject=other))
        single(Message("notice", "*", "notice " + p))
        single(Message("error", "*", "error " + p))
        single(Message("gap", "*", "gap " + p, room=in_room, seq=next(seq)))
    # A live batch too: inner messages are checked one by one.
    tail = [Message("chat", "u-" + p, "batched " + p, room="r-" + p, seq=next(seq))
            for p in PIECES]
    frames.append({"batch": [m.json() for m in tail]})
    messages.extend(tail)
    return frames, messages


def refusal():
    return Message("error", "*", REFUSAL)


def write_script(path):
    """Writes the script for hostile_server --script; returns the messages."""
    frames, messages = script()
    with open(path, "w", encoding="utf-8") as f:
        for frame in frames:
            f.write(json.dumps(frame, ensure_ascii=False) + "\n")
    return messages


def server_args(script_path):
    """hostile_server's options: the script, the refusal of every line, the final status."""
    return ["--script", script_path, "--reply", json.dumps(refusal().json(), ensure_ascii=False),
            "--end-code", str(END_CODE), "--end-message", END_MESSAGE.raw]


def raw_leftovers(text):
    """The characters of `text` that must never reach a terminal unescaped."""
    return sorted({c for c in text if c in CONTROLS or c in BIDI}, key=ord)
