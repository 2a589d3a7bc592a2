"""End-to-end tests of chat-client in pipe mode against a real chat-server."""
import subprocess
import unittest

from harness import CLIENT, PipeClient, Proxy, Server, free_port, wait_until


class PipeClientTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()
        self.clients = []
        self.proxies = []

    def tearDown(self):
        for c in self.clients:
            c.kill()
        for p in self.proxies:
            p.stop()
        self.server.stop()

    def pair_behind_proxy(self, room):
        """alice through a cuttable proxy, bob direct, both joined to room."""
        proxy = Proxy(self.server.port)
        self.proxies.append(proxy)
        a = self.client("alice", address=proxy.address, room=room)
        b = self.client("bob", room=room)
        self.assertTrue(a.wait_joined() and b.wait_joined())
        return proxy, a, b

    def client(self, name, address=None, **kw):
        c = PipeClient(address or self.server.address, name, **kw)
        self.clients.append(c)
        return c

    def test_every_client_sees_every_message_once_in_one_order(self):
        names = ["ann", "ben", "cat"]
        clients = [self.client(n, room="e2e") for n in names]
        for c in clients:
            self.assertTrue(c.wait_joined(), c.err.snapshot())
        self.assertTrue(wait_until(lambda: all(
            len(c.messages("join")) >= 3 or c.name == "cat" for c in clients)))
        for i in range(20):
            for c in clients:
                c.send(f"{c.name} says {i}")
        total = 20 * len(clients)
        for c in clients:
            self.assertTrue(wait_until(lambda: len(c.texts()) >= total, 20), c.name)
        orders = [[(m["seq"], m["sender"], m["text"]) for m in c.messages("chat")] for c in clients]
        for order in orders:
            self.assertEqual(len(order), total)
            self.assertEqual(len(set(order)), total, "a message was printed twice")
            self.assertEqual(order, orders[0])
        for c in clients:
            c.close_input()
        for c in clients:
            self.assertEqual(c.wait(), 0, c.err.snapshot())

    def test_end_of_input_sends_everything_then_exits_zero(self):
        watcher = self.client("watcher")
        self.assertTrue(watcher.wait_joined())
        proc = subprocess.run([CLIENT, "--server", self.server.address, "--name", "oneshot"],
                              input=b"first\nsecond\n/me leaves\n", capture_output=True,
                              timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = proc.stdout.decode()
        # Its own lines came back (acknowledged) before the stream ended.
        self.assertIn(" chat oneshot first\n", out)
        self.assertIn(" chat oneshot second\n", out)
        self.assertIn(" action oneshot * oneshot leaves\n", out)
        self.assertTrue(watcher.wait_for_text("second"))
        self.assertTrue(watcher.wait_for_text("oneshot left #lobby"))

    def test_a_burst_over_the_flood_limit_is_paced_not_refused(self):
        # The server's default limit: 20 lines a second, bursts of 40. 100
        # lines at once would lose about 60 to "slow down" errors unpaced.
        watcher = self.client("watcher")
        self.assertTrue(watcher.wait_joined())
        lines = [f"burst {i:03d} 日本語 😀" for i in range(100)]
        proc = subprocess.run([CLIENT, "--server", self.server.address, "--name", "paster"],
                              input=("\n".join(lines) + "\n").encode(), capture_output=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn(" error ", proc.stdout.decode())
        self.assertTrue(wait_until(lambda: len(watcher.texts()) >= 100, 20))
        self.assertEqual(watcher.texts(), lines)

    def test_blank_lines_are_not_sent(self):
        watcher = self.client("watcher")
        self.assertTrue(watcher.wait_joined())
        proc = subprocess.run([CLIENT, "--server", self.server.address, "--name", "blank"],
                              input=b"   \n\t\n\nreal\n", capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(watcher.wait_for_text("blank left #lobby"))
        self.assertEqual(watcher.texts(), ["real"])
        self.assertNotIn(" error ", proc.stdout.decode())

    def test_no_history_skips_the_join_replay(self):
        a = self.client("alice", room="hist")
        self.assertTrue(a.wait_joined())
        a.send("said before")
        self.assertTrue(a.wait_for_text("said before"))
        proc = subprocess.run([CLIENT, "--server", self.server.address, "--name", "late",
                               "--room", "hist", "--no-history"], input=b"hello\n",
                              capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = proc.stdout.decode()
        self.assertIn(" chat late hello\n", out)
        self.assertNotIn("said before", out)
        with_history = subprocess.run([CLIENT, "--server", self.server.address, "--name", "late",
                                       "--room", "hist"], input=b"", capture_output=True,
                                      timeout=30)
        self.assertIn("said before", with_history.stdout.decode())

    def test_fail_on_refused_exits_3_and_names_the_count(self):
        args = [CLIENT, "--server", self.server.address, "--name", "strict"]
        ok = subprocess.run(args + ["--fail-on-refused"], input=b"fine\n", capture_output=True,
                            timeout=30)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        bad = subprocess.run(args + ["--fail-on-refused"], input=b"/msg nobody hi\nfine\n",
                             capture_output=True, timeout=30)
        self.assertEqual(bad.returncode, 3, bad.stderr)
        self.assertIn("1 line(s) were refused", bad.stderr.decode())
        lenient = subprocess.run(args, input=b"/msg nobody hi\n", capture_output=True, timeout=30)
        self.assertEqual(lenient.returncode, 0, lenient.stderr)

    def test_plain_format_holds_time_room_seq_kind_sender_text(self):
        a = self.client("alice")
        self.assertTrue(a.wait_joined())
        a.send("hello   world")
        self.assertTrue(a.wait_for_text("hello   world"))
        line = [l for l in a.out.snapshot() if l.endswith("hello   world")][0]
        self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z #lobby \d+ chat alice hello   world$")

    def test_join_switches_rooms_without_reconnecting(self):
        a = self.client("alice")
        b = self.client("bob", room="side")
        self.assertTrue(a.wait_joined() and b.wait_joined())
        a.send("/join #Side")
        self.assertTrue(b.wait_for_text("alice joined #side"))
        a.send("over here")
        self.assertTrue(b.wait_for_text("over here"))
        self.assertTrue(a.wait_for_text("over here"))  # its own echo
        self.assertEqual([m["room"] for m in a.messages("chat")], ["#side"])
        self.assertFalse(any("reconnect" in l for l in a.err.snapshot()), a.err.snapshot())

    def test_an_old_rename_in_history_does_not_rename_a_newcomer(self):
        bob = self.client("bob", room="names")
        self.assertTrue(bob.wait_joined())
        bob.send("/nick carol")
        self.assertTrue(bob.wait_for_text("bob is now known as carol"))
        # The name bob is free again; the room's history holds the rename.
        newcomer = self.client("bob", room="names")
        self.assertTrue(newcomer.wait_joined())
        newcomer.send("i am the new bob")
        self.assertTrue(bob.wait_for_text("i am the new bob"), newcomer.err.snapshot())

    def test_after_a_reconnect_unconfirmed_chat_lines_are_resent_once_refused_ones_never(self):
        proxy, a, b = self.pair_behind_proxy("resend")
        # 1. A chat line the server refuses (a tab): the ERROR carries its
        # client_msg_id, which settles it. Re-sent, it would be refused again.
        a.send("refused\tline")
        self.assertTrue(wait_until(lambda: a.messages("error")), a.out.snapshot())
        # 2. A line the server gets whose echo never comes back: the replay
        # after the reconnect holds it, which settles it.
        proxy.hold("down")
        a.send("echo held back")
        self.assertTrue(b.wait_for_text("echo held back"))
        self.assertTrue(proxy.wait_held("down", b"echo held back"))
        # 3. A line that never reaches the server: re-sent once, after the reconnect.
        proxy.hold("up")
        a.send("never reached the server")
        self.assertTrue(proxy.wait_held("up", b"never reached the server"))
        proxy.cut()
        self.assertTrue(b.wait_for_text("alice left #resend (connection lost)"))
        self.assertTrue(wait_until(lambda: any("connection lost" in l for l in a.err.snapshot())))
        proxy.restore()
        self.assertTrue(b.wait_for_text("never reached the server", 20), a.err.snapshot())
        a.send("after")
        self.assertTrue(a.wait_for_text("after", 20) and b.wait_for_text("after"))

        said = ["echo held back", "never reached the server", "after"]
        self.assertEqual([m["text"] for m in b.messages("chat") if m["sender"] == "alice"], said)
        self.assertEqual(a.texts(), said)
        refusal = ("not sent: message contains the control character U+0009 at byte 7; "
                   "chat text is one line of printable text")
        self.assertEqual([(m["room"], m["sender"], m["text"]) for m in a.messages("error")],
                         [("#resend", "*", refusal)])
        self.assertEqual(b.messages("error"), [])
        # stderr: the loss, the attempts, the reconnection; nothing unconfirmed.
        reconnected = f"chat-client: reconnected to {proxy.address}"
        self.assertTrue(wait_until(lambda: reconnected in a.err.snapshot()), a.err.snapshot())
        err = a.err.snapshot()
        self.assertRegex(err[0], r"^chat-client: connection lost \(.+\); reconnecting$")
        self.assertEqual(err[-1], reconnected)
        for line in err[1:-1]:
            self.assertRegex(line, r"^chat-client: retrying in \d+\.\ds$")

    def test_refused_connection_fails_fast_with_one_line(self):
        # Nothing listens on the port: the client must not wait out its
        # (here very long) --connect-timeout; subprocess's timeout is the bound.
        port = free_port()
        proc = subprocess.run([CLIENT, "--server", f"127.0.0.1:{port}", "--name", "x",
                               "--connect-timeout", "600"], input=b"hi\n", capture_output=True,
                              timeout=30)
        self.assertEqual(proc.returncode, 1)
        err = proc.stderr.decode().strip().splitlines()
        self.assertEqual(len(err), 1, err)
        self.assertIn("connection refused", err[0])

    def test_refused_name_exits_nonzero_with_reason(self):
        a = self.client("taken")
        self.assertTrue(a.wait_joined())
        proc = subprocess.run([CLIENT, "--server", self.server.address, "--name", "TAKEN"],
                              input=b"hi\n", capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("already in use", proc.stderr.decode())

    def test_bad_option_exits_2(self):
        proc = subprocess.run([CLIENT, "--name", "bad name!"], capture_output=True, timeout=10)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("invalid --name", proc.stderr.decode())
        proc = subprocess.run([CLIENT, "--frobnicate"], capture_output=True, timeout=10)
        self.assertEqual(proc.returncode, 2)

    def test_network_cut_resumes_with_every_message_exactly_once(self):
        proxy, a, b = self.pair_behind_proxy("cut")
        b.send("before the cut")
        self.assertTrue(a.wait_for_text("before the cut"))
        proxy.cut()
        self.assertTrue(b.wait_for_text("alice left #cut (connection lost)"))
        for i in range(5):
            b.send(f"while cut {i}")
        a.send("typed while disconnected")
        self.assertTrue(b.wait_for_text("while cut 4"))
        proxy.restore()
        self.assertTrue(a.wait_for_text("typed while disconnected", 20), a.err.snapshot())
        self.assertTrue(b.wait_for_text("typed while disconnected"))
        b.send("after")
        self.assertTrue(a.wait_for_text("after"))
        texts = a.texts()
        for i in range(5):
            self.assertEqual(texts.count(f"while cut {i}"), 1, texts)
        self.assertEqual(texts.count("before the cut"), 1)
        self.assertEqual(b.texts().count("typed while disconnected"), 1)
        seqs = [m["seq"] for m in a.messages() if m["room"] == "#cut" and m["seq"]]
        self.assertEqual(seqs, sorted(set(seqs)), "sequence numbers repeat or go back")
        self.assertTrue(any("reconnected" in l for l in a.err.snapshot()))


class ServerRestartTest(unittest.TestCase):
    def test_client_reconnects_after_restart_and_sends_what_was_typed(self):
        port = free_port()
        server = Server(port)
        a = PipeClient(server.address, "alice")
        b = None
        try:
            self.assertTrue(a.wait_joined())
            a.send("first life")
            self.assertTrue(a.wait_for_text("first life"))
            self.assertEqual(server.stop(), 0)
            self.assertTrue(wait_until(lambda: any("connection lost" in l for l in a.err.snapshot())))
            a.send("typed during the restart")
            server = Server(port)
            b = PipeClient(server.address, "bob")
            self.assertTrue(b.wait_for_text("typed during the restart", 30), a.err.snapshot())
            b.send("welcome back")
            self.assertTrue(a.wait_for_text("welcome back"))
            texts = a.texts()
            self.assertEqual(texts.count("typed during the restart"), 1)
            self.assertEqual(texts.count("first life"), 1)
            self.assertTrue(a.messages("gap"), "the restart of history was not reported")
            a.close_input()
            self.assertEqual(a.wait(), 0)
        finally:
            a.kill()
            if b:
                b.kill()
            server.stop()


if __name__ == "__main__":
    unittest.main()
