#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: fuzz/corpus/<target>/<name>.

Valid inputs of each parser, so that a short run starts deep: serialised
ChatMessages with commands, batch-frame inputs, resume values, signed
tokens and claims, hostile text (escapes, C1, bidi, emoji, Japanese).
Run it again after changing it; the files are committed.
Usage: fuzz/make_corpus.py [OUT_DIR]   (default: fuzz/corpus next to it)
"""

import base64
import hashlib
import hmac
import json
import os
import shutil
import struct
import sys

# The key fuzz_token.cc verifies with (kSecret there).
SECRET = b"fuzzing-secret-of-at-least-32-bytes!"
NOW = 1_800_000_000  # fuzz_token.cc's kNow


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field_bytes(number, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_varint(number, value):
    return varint(number << 3) + varint(value & 0xFFFFFFFFFFFFFFFF)


def chat_message(user="", message="", room="", client_msg_id="", seq=0, kind=0, time_ms=0,
                 subject=""):
    out = b""
    out += field_bytes(1, user) if user else b""
    out += field_bytes(2, message) if message else b""
    out += field_bytes(3, room) if room else b""
    out += field_varint(4, seq) if seq else b""
    out += field_varint(5, time_ms) if time_ms else b""
    out += field_varint(6, kind) if kind else b""
    out += field_bytes(7, client_msg_id) if client_msg_id else b""
    out += field_bytes(8, subject) if subject else b""
    return out


HOSTILE = [
    "\x1b[2J\x1b[H",
    "\x1b[31;1mred\x1b[0m",
    "\x1b]0;title\x07",
    "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\",
    "bell\x07back\x08space\rcr",
    "c1\u0085\u009b31m\u009d",
    "bidi\u202eevil\u202c \u2066isolate\u2069 \u200f",
    "zero\u200bwidth\u2060joiner\ufeff\u00ad",
    "emoji \U0001F600 \U0001F468\u200D\U0001F469\u200D\U0001F467 \u2764\ufe0f 1\ufe0f\u20e3 \U0001F3F3\ufe0f\u200d\U0001F308",
    "flag \U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F",
    "日本語のテキスト、こんにちは",
    "zalgo e\u0301\u0302\u0303\u0304\u0305\u0306\u0307",
    "arabic \u0645\u200c\u0646 hindi \u0915\u094d\u200d\u0937",
    "\u0000nul\u007fdel",
]
INVALID_UTF8 = [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"ab\xe3\x81"]

COMMANDS = [
    "hello world", "//literal slash", "/join dev", "/join #Dev", "/join bad room!",
    "/join " + "r" * 40, "/leave", "/nick alice", "/nick 日本", "/nick " + "n" * 7000 + " x",
    "/me waves", "/msg bob hi there", "/msg bob", "/who", "/rooms", "/rooms m",
    "/rooms bad name", "/help", "/HELP", "/unknown", "/" + "z" * 5000, "/join   spaced   ",
]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def hs256_token(claims, header=None):
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = b64url(json.dumps(header).encode()) + b"." + b64url(json.dumps(claims).encode())
    signature = hmac.new(SECRET, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64url(signature)).decode()


CLAIMS = [
    {"sub": "alice", "exp": NOW + 3600},
    {"sub": "alice", "exp": NOW + 3600, "nbf": NOW - 10, "iat": NOW},
    {"sub": "bob", "exp": NOW + 60, "rooms": ["lobby", "#Dev", "ops"]},
    {"sub": "bob", "exp": NOW + 60, "rooms": ["bad room"]},
    {"sub": "bob", "exp": NOW + 60, "rooms": "lobby"},
    {"sub": "carol", "exp": NOW - 3600},
    {"sub": "carol", "exp": 9223372036854775807},
    {"sub": "carol", "exp": NOW + 60, "nbf": -9223372036854775808},
    {"sub": "carol", "exp": 1e300},
    {"sub": "carol", "exp": NOW + 60.5, "nbf": NOW + 1e6},
    {"sub": "", "exp": NOW + 60},
    {"sub": "日本", "exp": NOW + 60},
    {"sub": 42, "exp": NOW + 60},
    {"exp": NOW + 60},
    {"sub": "dave"},
]

# A P-256 public key (no secret: fuzz_token only reads it).
EC_PUBLIC_PEM = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8HYlGhvBkNTEoUHcOI5+3ISZy18G
VPphvddRSjWgZ5ncNicFPA/ApyYfIUWCzOFkovoOnw+pDmXZrtgvVEjyqA==
-----END PUBLIC KEY-----
"""


def corpus():
    seeds = {}
    msgs = {}
    for i, text in enumerate(COMMANDS):
        msgs[f"command-{i:02d}"] = chat_message(user="alice", message=text, room="lobby",
                                                client_msg_id=f"id-{i}")
    for i, text in enumerate(HOSTILE):
        msgs[f"hostile-{i:02d}"] = chat_message(user=text, message=text, room=text)
    for i, raw in enumerate(INVALID_UTF8):
        msgs[f"invalid-utf8-{i}"] = chat_message(user="alice", message=b"x" + raw, room=raw)
    msgs["long-name"] = chat_message(user="a" * 7168, room="r" * 100)
    msgs["first-message-names"] = chat_message(user="bob", room="#Dev", message="")
    msgs["id-too-long"] = chat_message(user="bob", message="hi", client_msg_id="i" * 65)
    msgs["line-not-proto"] = b"/join \xff\xfe"
    seeds["fuzz_chat_message"] = msgs

    frames = {}
    def frame(*pieces):
        return b"".join(bytes([len(p)]) + p for p in pieces)
    frames["one"] = frame(chat_message(user="alice", message="hi", room="lobby", seq=1, kind=1))
    frames["three"] = frame(*[chat_message(user="bob", message=f"m{i}", room="dev", seq=i, kind=1,
                                           time_ms=1764633600123) for i in range(1, 4)])
    frames["text-pieces"] = frame(b"not a message \xff", HOSTILE[8].encode()[:200])
    frames["empty-pieces"] = frame(b"", b"", b"")
    frames["long"] = frame(*[chat_message(message="x" * 200)[:255]] * 50)
    seeds["fuzz_batch_frame"] = frames

    resume = {"zero": b"0", "one": b"1", "max": b"18446744073709551615",
              "overflow": b"18446744073709551616", "negative": b"-1", "plus": b"+5",
              "hex": b"0x10", "spaces": b" 12 ", "leading-zeros": b"000042", "empty": b"",
              "long": b"9" * 5000, "hostile": HOSTILE[0].encode(), "nul": b"12\x003"}
    seeds["fuzz_resume_metadata"] = resume

    text = {}
    for i, piece in enumerate(HOSTILE):
        text[f"hostile-{i:02d}"] = piece.encode()
    for i, raw in enumerate(INVALID_UTF8):
        text[f"invalid-utf8-{i}"] = raw
    # A kind byte and a time, then user/room/message thirds (fuzz_terminal_text.cc).
    text["message-chat"] = b"\x01" + struct.pack(">q", 1764633600123) + b"alicelobbyhi alice!"
    text["message-time-min"] = b"\x02" + struct.pack(">q", -(2 ** 63)) + b"bob#devwaves"
    text["message-time-max"] = b"\x08" + struct.pack(">q", 2 ** 63 - 1) + HOSTILE[6].encode() * 3
    seeds["fuzz_terminal_text"] = text

    tokens = {}
    for i, claims in enumerate(CLAIMS):
        token = hs256_token(claims)
        tokens[f"bearer-{i:02d}"] = b"\x00Bearer " + token.encode()
        tokens[f"claims-{i:02d}"] = b"\x01" + json.dumps(claims).encode()
    tokens["bearer-lowercase"] = b"\x00bearer   " + hs256_token(CLAIMS[0]).encode() + b"  "
    tokens["bearer-none-alg"] = b"\x00Bearer " + hs256_token(CLAIMS[0], {"alg": "none"}).encode()
    tokens["bearer-rs256-alg"] = b"\x00Bearer " + hs256_token(CLAIMS[0], {"alg": "RS256"}).encode()
    tokens["bearer-malformed"] = b"\x00Bearer a.b"
    tokens["bearer-missing"] = b"\x00Basic dXNlcjpwYXNz"
    tokens["key-secret"] = b"\x02" + SECRET + b"\n"
    tokens["key-short-secret"] = b"\x02short\n"
    tokens["key-ec-public"] = b"\x02" + EC_PUBLIC_PEM.encode()
    tokens["key-private-marker"] = b"\x02-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    tokens["key-garbage-pem"] = b"\x02-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n"
    seeds["fuzz_token"] = tokens
    return seeds


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    for target, files in corpus().items():
        directory = os.path.join(out, target)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        for name, data in files.items():
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data if isinstance(data, bytes) else data.encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
