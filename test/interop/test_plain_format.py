"""The Python client's plain format against the vectors all clients share."""

import json
import os
import sys

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "interop", "python"))
sys.path.insert(0, os.path.join(ROOT, "interop", "python", "gen"))

import chat_pb2  # noqa: E402
import plain_format  # noqa: E402
from google.protobuf import json_format  # noqa: E402

with open(os.path.join(ROOT, "interop", "testdata", "plain_format.json"), encoding="utf-8") as f:
    VECTORS = json.load(f)


def message(fields):
    return json_format.ParseDict(fields, chat_pb2.ChatMessage())


def test_sanitize_matches_shared_vectors():
    for case in VECTORS["sanitize"]:
        given = bytes.fromhex(case["in_hex"]) if "in_hex" in case else case["in"]
        assert plain_format.sanitize(given) == case["out"], case


def test_line_matches_shared_vectors():
    extremes = 0  # the vector with seq 2^64-1 and time 0 (CJK, bidi controls, ESC)
    for case in VECTORS["format"]:
        parsed = message(case["message"])
        extremes += parsed.seq == 2**64 - 1
        assert plain_format.format_line(parsed) == case["line"], case
    assert extremes == 1, "the vector with seq 2^64-1 did not arrive intact"


def test_batch_prints_each_inner_message():
    batch = VECTORS["batch"]
    assert plain_format.format_frame(message(batch["message"])) == batch["lines"]


def test_unknown_kind_reads_as_chat():
    assert plain_format.kind_name(42) == "chat"
