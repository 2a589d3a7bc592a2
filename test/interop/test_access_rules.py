"""The Python client's TLS and token rules against the vectors all clients share
(interop/testdata/access.json; the Go client checks them in interop/go/access)."""

import json
import os
import sys

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "interop", "python"))

import access  # noqa: E402

with open(os.path.join(ROOT, "interop", "testdata", "access.json"), encoding="utf-8") as f:
    VECTORS = json.load(f)


def test_server_host_and_local_match_shared_vectors():
    assert VECTORS["server"]
    for case in VECTORS["server"]:
        host = access.server_host(case["server"])
        assert host == case["host"], case
        assert access.is_local(host) == case["local"], case


def test_token_subject_matches_shared_vectors():
    assert VECTORS["token"]
    for case in VECTORS["token"]:
        assert access.token_subject(case["token"]) == case["sub"], case["about"]


def test_looks_like_tls_problem_matches_shared_vectors():
    assert VECTORS["tls_problem"]
    for case in VECTORS["tls_problem"]:
        assert access.looks_like_tls_problem(case["text"]) == case["tls"], case["about"]


def test_tls_hints_match_shared_vectors():
    assert access.tls_hint(True) == VECTORS["tls_hint"]["with_tls"]
    assert access.tls_hint(False) == VECTORS["tls_hint"]["without_tls"]
