"""TLS and tokens in the Go and Python clients (docs/interop.md "TLS and
tokens"): the command-line rules (exit 2, one line), then chatting with the
C++ server over TLS, over mTLS, against a certificate from another CA, with
a token from --token-file or CHAT_TOKEN, and refused for a bad token. The
certificates come from test/support/make_test_certs.sh, made fresh."""

import base64
import json
import os
import subprocess

import pytest

from conftest import ROOT
from harness import PROGRAM, clean_env

# The clients under test. The C++ client has the same options and rules; it
# joins these tests once its messages are the same.
LANGS = ("go", "py")


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """The directory make_test_certs.sh filled: ca, server, client, other-ca, ..."""
    out = tmp_path_factory.mktemp("certs")
    script = os.path.join(ROOT, "test", "support", "make_test_certs.sh")
    result = subprocess.run([script, str(out)], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    return out


def unsigned_token(claims):
    """A JWT-shaped token with `claims` and a made-up signature: enough for the
    client's own rules (it never checks signatures; the server does)."""

    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return "%s.%s.c2ln" % (part({"alg": "HS256", "typ": "JWT"}), part(claims))


def run_client(client_commands, lang, args, env_extra=None, timeout=15):
    env = clean_env()
    env.update(env_extra or {})
    return subprocess.run(
        client_commands[lang] + [str(a) for a in args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=timeout,
    )


@pytest.mark.parametrize("lang", LANGS)
def test_bad_tls_and_token_options_exit_2_with_one_line(client_commands, lang, certs, tmp_path):
    good = tmp_path / "good.jwt"
    good.write_text("  %s\n" % unsigned_token({"sub": "ann", "exp": 4102444800}))
    empty = tmp_path / "empty.jwt"
    empty.write_text(" \n")
    no_sub = tmp_path / "no-sub.jwt"
    no_sub.write_text(unsigned_token({"exp": 4102444800}))
    missing = tmp_path / "missing.jwt"
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("not a certificate\n")
    cases = [
        (["--name", "ann", "--tls-cert", certs / "client.pem"], {},
         "--tls-cert and --tls-key go together: a client certificate and its key (see --help)"),
        (["--name", "ann", "--tls-key", certs / "client.key"], {},
         "--tls-cert and --tls-key go together: a client certificate and its key (see --help)"),
        (["--token-file", missing], {},
         "cannot read --token-file %s: no such file or directory" % missing),
        (["--token-file", empty], {}, "the token file %s is empty" % empty),
        (["--token-file", no_sub], {},
         "the token in --token-file %s has no readable 'sub' claim to take the name from: "
         "give --name NAME" % no_sub),
        ([], {"CHAT_TOKEN": "not-a-jwt"},
         "the token in CHAT_TOKEN has no readable 'sub' claim to take the name from: give --name NAME"),
        (["--server", "chat.example.com:50051", "--token-file", good], {},
         "refusing to send a token without TLS to chat.example.com: use --tls (or --tls-ca)"),
        (["--server", "[2001:db8::1]:50051", "--name", "ann"], {"CHAT_TOKEN": good.read_text()},
         "refusing to send a token without TLS to 2001:db8::1: use --tls (or --tls-ca)"),
        (["--name", "ann", "--tls-ca", not_pem], {}, "--tls-ca %s holds no PEM certificate" % not_pem),
        (["--name", "ann", "--tls-ca", missing], {},
         "cannot read --tls-ca %s: no such file or directory" % missing),
        (["--name", "ann", "--tls-cert", certs / "client.pem", "--tls-key", certs / "other-client.key"],
         {},
         "--tls-cert %s and --tls-key %s are not a PEM certificate and its private key"
         % (certs / "client.pem", certs / "other-client.key")),
    ]
    for args, env, line in cases:
        result = run_client(client_commands, lang, args, env)
        expected = ("%s: %s\n" % (PROGRAM[lang], line)).encode()
        assert (result.returncode, result.stderr) == (2, expected), (args, result)
        assert result.stdout == b"", (args, result)
