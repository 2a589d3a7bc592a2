"""The PLAIN FORMAT: one line of text per message a chat client receives.

    TIME ROOM SEQ KIND SENDER TEXT

Pure functions, no gRPC: the same rules as the C++ client's and the Go
client's, checked against the shared vectors in interop/testdata/.
See docs/interop.md for the format.
"""

import codecs
import time

# Kind enum values of proto/chat.proto, by number. KIND_UNSPECIFIED reads as chat.
KIND_NAMES = {
    0: "chat",
    1: "chat",
    2: "action",
    3: "private",
    4: "join",
    5: "leave",
    6: "rename",
    7: "notice",
    8: "error",
    9: "gap",
    10: "presence",
}
PRIVATE = 3

_BIDI_CONTROLS = (
    list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A)) + [0x200E, 0x200F, 0x061C]
)


def _build_table():
    table = {}
    for c in range(0x20):
        table[c] = "^" + chr(c + 0x40)  # ESC -> ^[, BEL -> ^G, NUL -> ^@
    table[0x7F] = "^?"
    for c in list(range(0x80, 0xA0)) + _BIDI_CONTROLS:
        table[c] = "<U+%04X>" % c
    return table


_TABLE = _build_table()


def _one_byte_replacement(error):
    # Each invalid byte becomes one U+FFFD, as in the C++ client (Python's own
    # "replace" handler would merge a truncated sequence into one).
    return "\ufffd", error.start + 1


codecs.register_error("chat-one-byte-replace", _one_byte_replacement)


def decode_utf8(data):
    """Bytes to text; every byte that is not part of valid UTF-8 becomes U+FFFD."""
    return data.decode("utf-8", "chat-one-byte-replace")


def sanitize(text):
    """Makes text from the network safe to print on a terminal.

    C0 controls become ^X, DEL ^?, C1 and bidi controls <U+XXXX>, invalid UTF-8
    bytes (when `text` is bytes) U+FFFD. Everything else passes unchanged.
    """
    if isinstance(text, (bytes, bytearray)):
        text = decode_utf8(bytes(text))
    return text.translate(_TABLE)


def format_time(unix_ms):
    """Milliseconds since the epoch as UTC, e.g. 2026-11-24T22:32:37.970Z."""
    seconds, millis = divmod(int(unix_ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%03dZ" % millis


def kind_name(kind):
    """Lower-case kind; unset and unknown (newer) kinds read "chat", as in the C++ client."""
    return KIND_NAMES.get(int(kind), "chat")


def format_line(message):
    """One received ChatMessage (without a batch) as one PLAIN FORMAT line."""
    room = "#" + sanitize(message.room) if message.room else "-"
    sender = sanitize(message.user) if message.user else "-"
    if message.kind == PRIVATE:
        sender += ">" + sanitize(message.subject)
    return " ".join(
        (
            format_time(message.time_unix_ms),
            room,
            str(message.seq),
            kind_name(message.kind),
            sender,
            sanitize(message.message),
        )
    )


def format_frame(message):
    """The lines for one frame: its batch's messages when it has one, else itself."""
    if len(message.batch) > 0:
        return [format_line(inner) for inner in message.batch]
    return [format_line(message)]
