"""The Python client's reconnection rules against the vectors all clients share
(interop/testdata/resume.json; the Go client checks them in interop/go/resume)."""

import json
import os
import sys

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "interop", "python"))
sys.path.insert(0, os.path.join(ROOT, "interop", "python", "gen"))

import chat_pb2  # noqa: E402
import resume  # noqa: E402
from google.protobuf import json_format  # noqa: E402

with open(os.path.join(ROOT, "interop", "testdata", "resume.json"), encoding="utf-8") as f:
    VECTORS = json.load(f)


def message(fields):
    return json_format.ParseDict(fields, chat_pb2.ChatMessage())


def positions(table):
    return {room: (p["epoch"], p["seq"]) for room, p in table.items()}


def test_kind_numbers_match_the_proto():
    assert resume.KIND_GAP == chat_pb2.GAP
    assert resume.KIND_ERROR == chat_pb2.ERROR


def test_position_matches_shared_vectors():
    assert VECTORS["position"]
    for case in VECTORS["position"]:
        state = positions(case["before"])
        show = resume.advance(state, message(case["message"]))
        assert (show, state) == (case["show"], positions(case["after"])), case["about"]


def test_classify_matches_shared_vectors():
    assert VECTORS["line"]
    for case in VECTORS["line"]:
        assert resume.classify(case["line"]) == case["kind"], case


def test_settles_matches_shared_vectors():
    assert VECTORS["settle"]
    for case in VECTORS["settle"]:
        assert resume.settles(case["name"], message(case["message"])) == case["settles"], case
