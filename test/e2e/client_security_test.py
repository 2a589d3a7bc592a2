"""End-to-end tests of chat-client against a chat-server with TLS, mutual TLS
and signed tokens: the real binaries, certificates made fresh by
test/support/make_test_certs.sh, tokens minted by `chat-server token`."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import CLIENT, SERVER, PipeClient, Server

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CERTS = os.path.join(HERE, "..", "support", "make_test_certs.sh")


class SecureClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="chat-e2e-tls-")
        subprocess.run([MAKE_CERTS, cls.dir], check=True, timeout=60)
        cls.secret = cls.path("secret.key")
        with open(cls.secret, "w") as f:
            f.write("an-e2e-secret-longer-than-32-bytes-0123456789\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    def setUp(self):
        self.server = Server(extra=["--tls-cert", self.path("server.pem"),
                                    "--tls-key", self.path("server.key"),
                                    "--tls-client-ca", self.path("ca.pem"),
                                    "--auth-jwt-key", self.secret])
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.kill()
        self.server.stop()

    def token(self, sub, *args):
        out = subprocess.run([SERVER, "token", "--sub", sub, "--key", self.secret, *args],
                             check=True, capture_output=True, text=True, timeout=10)
        return out.stdout.strip()

    def token_file(self, sub, *args):
        path = self.path(f"{sub}-{len(os.listdir(self.dir))}.token")
        with open(path, "w") as f:
            f.write(self.token(sub, *args) + "\n")
        return path

    def mtls(self, ca="ca.pem", cert="client"):
        return ["--tls-ca", self.path(ca), "--tls-server-name", "localhost",
                "--tls-cert", self.path(cert + ".pem"), "--tls-key", self.path(cert + ".key")]

    def client(self, name, extra, env=None, send_name=False, **kw):
        c = PipeClient(self.server.address, name, extra=extra, env=env, send_name=send_name, **kw)
        self.clients.append(c)
        return c

    def test_token_holders_chat_over_mutual_tls_under_their_tokens_names(self):
        alice = self.client("alice", self.mtls() + ["--token-file", self.token_file("alice")])
        bob = self.client("bob", self.mtls(), env={"CHAT_TOKEN": self.token("bob")})
        self.assertTrue(alice.wait_joined(), alice.err.snapshot())
        self.assertTrue(bob.wait_joined(), bob.err.snapshot())
        alice.send("chiffré: こんにちは 👋 ça va?")
        self.assertTrue(bob.wait_for_text("chiffré: こんにちは 👋 ça va?"), bob.out.snapshot())
        self.assertEqual(bob.messages("chat")[-1]["sender"], "alice")
        for c in (alice, bob):
            c.close_input()
            self.assertEqual(c.wait(), 0, c.err.snapshot())

    def test_an_expired_token_ends_the_client_at_once_with_the_reason(self):
        expired = self.token_file("carol", "--exp", str(int(time.time()) - 3600))
        carol = self.client("carol", self.mtls() + ["--token-file", expired])
        started = time.monotonic()
        self.assertEqual(carol.wait(), 1)
        err = "\n".join(carol.err.snapshot())
        self.assertIn("the token expired at", err)
        self.assertNotIn(open(expired).read().strip(), err)  # the token itself is never shown
        # Refused for good: no reconnecting for --retry-for.
        self.assertLess(time.monotonic() - started, 10)

    def test_a_name_other_than_the_tokens_is_refused(self):
        mallory = self.client("bob", self.mtls() + ["--token-file", self.token_file("mallory")],
                              send_name=True)
        self.assertEqual(mallory.wait(), 1)
        self.assertIn("your token is for 'mallory', not 'bob'", "\n".join(mallory.err.snapshot()))

    def test_a_server_certificate_from_another_ca_fails_with_a_tls_hint(self):
        stranger = self.client("dave", self.mtls(ca="other-ca.pem") +
                               ["--token-file", self.token_file("dave"),
                                "--connect-timeout", "1"])
        self.assertEqual(stranger.wait(), 1)
        self.assertIn("a TLS problem?", "\n".join(stranger.err.snapshot()))

    def test_no_client_certificate_fails_with_a_tls_hint(self):
        erin = self.client("erin", ["--tls-ca", self.path("ca.pem"),
                                    "--token-file", self.token_file("erin"),
                                    "--connect-timeout", "1"])
        self.assertEqual(erin.wait(), 1)
        self.assertIn("--tls-cert", "\n".join(erin.err.snapshot()))


class OptionsTest(unittest.TestCase):
    def run_client(self, *args, env=None):
        return subprocess.run([CLIENT, *args], capture_output=True, text=True, timeout=20,
                              stdin=subprocess.DEVNULL, env=dict(os.environ, **(env or {})))

    def test_a_token_is_never_sent_in_clear_text_beyond_loopback(self):
        out = self.run_client("--server", "10.255.255.1:50051", env={"CHAT_TOKEN": "a.b.c"})
        self.assertEqual(out.returncode, 2)
        self.assertIn("refusing to send a token without TLS to 10.255.255.1", out.stderr)

    def test_bad_tls_and_token_options_exit_2(self):
        self.assertEqual(self.run_client("--tls-cert", "c.pem").returncode, 2)
        out = self.run_client("--token-file", "/nonexistent/token")
        self.assertEqual(out.returncode, 2)
        self.assertIn("cannot read --token-file /nonexistent/token", out.stderr)
        out = self.run_client(env={"CHAT_TOKEN": "not-a-jwt", "CHAT_NAME": ""})
        self.assertEqual(out.returncode, 2)
        self.assertIn("the token names no user", out.stderr)

    def test_the_server_refuses_plain_text_beyond_loopback(self):
        out = subprocess.run([SERVER, "--listen", "0.0.0.0:0"], capture_output=True, text=True,
                             timeout=20)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--allow-insecure", out.stderr)


if __name__ == "__main__":
    unittest.main()
