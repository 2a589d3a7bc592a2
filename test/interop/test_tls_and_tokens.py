"""TLS and tokens in the C++, Go and Python clients (docs/interop.md "TLS and
tokens"): the command-line rules (exit 2, one line), then chatting with the
C++ server over TLS, over mTLS, against a certificate from another CA, with
a token from --token-file or CHAT_TOKEN, and refused for a bad token. The
certificates come from test/support/make_test_certs.sh, made fresh."""

import base64
import json
import os
import subprocess
import time

import pytest

from conftest import ROOT
from harness import PROGRAM, Line, clean_env, start_server, stop_server

TLS_HINT = (
    "(a TLS problem? check --tls-ca, --tls-server-name, and whether the server wants a client "
    "certificate: --tls-cert/--tls-key)"
)

# The clients under test: all three have the same options, rules and messages.
LANGS = ("cpp", "go", "py")


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
         "--tls-cert and --tls-key go together: give both or neither"),
        (["--token-file", missing], {},
         "cannot read --token-file %s: No such file or directory" % missing),
        (["--token-file", empty], {}, "--token-file %s is empty" % empty),
        (["--token-file", no_sub], {}, "the token names no user (no 'sub' claim)"),
        (["--server", "chat.example.com:50051", "--token-file", good], {},
         "refusing to send a token without TLS to chat.example.com: use --tls (or --tls-ca)"),
        (["--server", "[2001:db8::1]:50051", "--name", "ann"], {"CHAT_TOKEN": good.read_text().strip()},
         "refusing to send a token without TLS to [2001:db8::1]: use --tls (or --tls-ca)"),
        (["--name", "ann", "--tls-ca", not_pem], {}, "--tls-ca %s holds no PEM certificate" % not_pem),
        (["--name", "ann", "--tls-cert", certs / "client.pem", "--tls-key", certs / "other-client.key"],
         {},
         "--tls-cert %s and --tls-key %s are not a PEM certificate and its private key"
         % (certs / "client.pem", certs / "other-client.key")),
    ]
    for args, env, line in cases:
        result = run_client(client_commands, lang, args, env)
        expected = ("%s: %s (see --help)\n" % (PROGRAM[lang], line)).encode()
        assert (result.returncode, result.stderr) == (2, expected), (args, result)
        assert result.stdout == b"", (args, result)


# Against the C++ server.


def tls_server(processes, server_binary, certs, server="server", client_ca=None, extra=()):
    """chat-server with TLS (certs/SERVER.pem, .key), and with mTLS when
    client_ca names the CA whose client certificates it requires."""
    args = ["--tls-cert", certs / ("%s.pem" % server), "--tls-key", certs / ("%s.key" % server)]
    if client_ca:
        args += ["--tls-client-ca", certs / ("%s.pem" % client_ca)]
    return start_server(processes, server_binary, extra=[str(a) for a in args] + list(extra))


def start_chat(processes, client_commands, lang, address, args, env_extra=None, label="client"):
    env = clean_env()
    env.update(env_extra or {})
    argv = client_commands[lang] + ["--server", address, "--room", "secure"] + [str(a) for a in args]
    return processes.start("%s:%s" % (lang, label), argv, env=env)


def chats(processes, client_commands, lang, address, name, args, env_extra=None):
    """The client says one line and ends its input: it must join as `name`, see
    its own line come back and exit 0, with nothing on stderr."""
    text = "over TLS from %s" % lang
    client = start_chat(processes, client_commands, lang, address, args, env_extra, name)
    client.send(text)
    client.close_stdin()
    assert client.wait_exit() == 0, client.describe()
    lines = [Line.parse(raw) for raw in client.stdout]
    assert [l for l in lines if l.kind == "join" and l.sender == name], client.describe()
    assert [l for l in lines if l.kind == "chat" and l.sender == name and l.text == text.encode()], (
        client.describe()
    )
    assert client.stderr == [], client.describe()


@pytest.mark.parametrize("lang", LANGS)
def test_chats_over_tls_trusting_the_ca_given(processes, server_binary, client_commands, lang, certs):
    server, address = tls_server(processes, server_binary, certs)
    host_port = address.replace("127.0.0.1", "localhost")
    chats(processes, client_commands, lang, address, "tls-ip-" + lang, ["--name", "tls-ip-" + lang,
          "--tls-ca", certs / "ca.pem"])
    chats(processes, client_commands, lang, host_port, "tls-dns-" + lang, ["--name", "tls-dns-" + lang,
          "--tls-ca", certs / "ca.pem", "--tls-server-name", "localhost"])
    assert stop_server(server) == 0, server.describe()


@pytest.mark.parametrize("lang", LANGS)
def test_chats_over_mtls_with_a_client_certificate(processes, server_binary, client_commands, lang,
                                                   certs):
    server, address = tls_server(processes, server_binary, certs, client_ca="ca")
    name = "mtls-" + lang
    chats(processes, client_commands, lang, address, name, ["--name", name, "--tls-ca", certs / "ca.pem",
          "--tls-cert", certs / "client.pem", "--tls-key", certs / "client.key"])
    assert stop_server(server) == 0, server.describe()


@pytest.mark.parametrize("lang", LANGS)
def test_a_server_certificate_from_another_ca_is_a_tls_problem(processes, server_binary,
                                                                client_commands, lang, certs):
    server, address = tls_server(processes, server_binary, certs, server="other-server")
    client = start_chat(processes, client_commands, lang, address,
                        ["--name", "wrong-ca-" + lang, "--tls-ca", certs / "ca.pem",
                         "--connect-timeout", "1"])
    # Input stays open: the client gives up on its own, after its connect timeout.
    assert client.wait_exit() == 1, client.describe()
    assert len(client.stderr) == 1, client.describe()
    line = client.stderr[0].decode("utf-8")
    prefix = "%s: cannot reach the server at %s within 1" % (PROGRAM[lang], address)
    assert line.startswith(prefix), client.describe()
    assert line.endswith(TLS_HINT), client.describe()
    assert client.stdout == [], client.describe()
    assert stop_server(server) == 0, server.describe()


@pytest.fixture(scope="session")
def jwt_secret(tmp_path_factory):
    """An HS256 secret file for --auth-jwt-key (no line end: the bytes are the key)."""
    path = tmp_path_factory.mktemp("jwt") / "hs256.key"
    path.write_bytes(base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"="))
    return path


def mint_token(server_binary, key, sub, expiry=("--ttl", "1h")):
    """A token from the server's own subcommand: chat-server token --sub ... --ttl ... --key ..."""
    result = subprocess.run(
        [server_binary, "token", "--sub", sub, "--key", str(key)] + list(expiry),
        capture_output=True,
        timeout=15,
    )
    assert result.returncode == 0, result
    return result.stdout.decode("ascii").strip()


@pytest.mark.parametrize("lang", LANGS)
def test_a_valid_token_names_the_client(processes, server_binary, client_commands, lang, certs,
                                        jwt_secret, tmp_path):
    # TLS, with the token in a file; then plain text on loopback, with CHAT_TOKEN.
    auth = ["--auth-jwt-key", str(jwt_secret)]
    server, address = tls_server(processes, server_binary, certs, extra=auth)
    name = "tok-file-" + lang
    token_file = tmp_path / "token"
    token_file.write_text(mint_token(server_binary, jwt_secret, name) + "\n")
    chats(processes, client_commands, lang, address, name,
          ["--tls-ca", certs / "ca.pem", "--token-file", token_file])
    assert stop_server(server) == 0, server.describe()
    server, address = start_server(processes, server_binary, label="plain-server", extra=auth)
    name = "tok-env-" + lang
    chats(processes, client_commands, lang, address, name, [],
          {"CHAT_TOKEN": mint_token(server_binary, jwt_secret, name)})
    assert stop_server(server) == 0, server.describe()


@pytest.mark.parametrize("lang", LANGS)
def test_a_refused_token_ends_the_client_without_retrying(processes, server_binary, client_commands,
                                                          lang, certs, jwt_secret, tmp_path):
    server, address = tls_server(processes, server_binary, certs,
                                 extra=["--auth-jwt-key", str(jwt_secret)])
    expired = tmp_path / "expired"
    expired.write_text(mint_token(server_binary, jwt_secret, "late-" + lang,
                                  ("--exp", str(int(time.time()) - 3600))))
    other = tmp_path / "other"
    other.write_text(mint_token(server_binary, jwt_secret, "owner-" + lang))
    tls = ["--tls-ca", certs / "ca.pem", "--retry-for", "30"]
    cases = [
        ("expired", tls + ["--token-file", expired], "UNAUTHENTICATED"),
        ("another name", tls + ["--token-file", other, "--name", "thief-" + lang], "PERMISSION_DENIED"),
        ("no token", tls + ["--name", "anon-" + lang], "UNAUTHENTICATED"),
    ]
    clients = [(start_chat(processes, client_commands, lang, address, args, label=label), code)
               for label, args, code in cases]
    prefix = "%s: the server refused the connection: " % PROGRAM[lang]
    for client, code in clients:
        # Input stays open: the refusal alone ends it, at once, with one line.
        assert client.wait_exit(timeout=10) == 1, client.describe()
        assert len(client.stderr) == 1, client.describe()
        line = client.stderr[0].decode("utf-8")
        assert line.startswith(prefix + code + ": "), client.describe()
        assert len(line) > len(prefix + code + ": "), client.describe()  # the server's reason
    assert stop_server(server) == 0, server.describe()
    # Nobody printed a token, not even a refused one.
    for token in (expired.read_text(), other.read_text()):
        for process in processes.all:
            assert not any(token.encode() in raw for raw in process.stdout + process.stderr), (
                process.describe()
            )


@pytest.mark.parametrize("lang", LANGS)
def test_the_token_goes_again_on_every_reconnection(processes, proxies, server_binary,
                                                   client_commands, lang, jwt_secret):
    # The server refuses a stream without a token: coming back after the cut
    # proves the token went on the new stream too.
    server, address = start_server(processes, server_binary, extra=["--auth-jwt-key", str(jwt_secret)])
    proxy = proxies(address)
    name = "again-" + lang
    client = start_chat(processes, client_commands, lang, proxy.address, [],
                        {"CHAT_TOKEN": mint_token(server_binary, jwt_secret, name)}, name)
    joined = lambda p: any(l.kind == "join" and l.sender == name for l in map(Line.parse, p.stdout))
    client.wait_until(joined, "its own JOIN")
    proxy.cut()
    client.wait_until(lambda p: any(b"connection lost" in l for l in p.stderr), "the loss on stderr")
    proxy.restore()
    client.wait_until(lambda p: any(b"reconnected to" in l for l in p.stderr), "the reconnection",
                      timeout=20)
    client.send("after the cut")
    client.close_stdin()
    assert client.wait_exit() == 0, client.describe()
    texts = [l.text for l in map(Line.parse, client.stdout) if l.kind == "chat" and l.sender == name]
    assert texts == [b"after the cut"], client.describe()
    assert stop_server(server) == 0, server.describe()
