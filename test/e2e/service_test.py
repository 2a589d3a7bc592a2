"""chat-server as a service: systemd's notify protocol, the config file and
SIGHUP, the log file and its formats (docs/operations.md, docs/deploy.md).

The service manager is played by a Unix datagram socket of the test's own,
passed as NOTIFY_SOCKET, exactly as systemd passes its own; every wait is
bounded.
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

from harness import SERVER, PipeClient, Server, wait_until


class NotifySocket:
    """What systemd's notify socket receives: one datagram per sd_notify."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages = []

    def receive_until(self, predicate, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(predicate(m) for m in self.messages):
                return True
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        return any(predicate(m) for m in self.messages)

    def close(self):
        self.sock.close()


class ServiceNotifyTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.notify = NotifySocket(self.dir.name)
        self.addCleanup(self.dir.cleanup)
        self.addCleanup(self.notify.close)

    def start(self, extra_env=None, extra=()):
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path, **(extra_env or {}))
        server = Server(extra=extra, env=env)
        self.addCleanup(server.stop)
        return server

    def test_ready_once_listening_then_stopping_on_sigterm(self):
        server = self.start()
        self.assertTrue(self.notify.receive_until(lambda m: "READY=1" in m), self.notify.messages)
        ready = next(m for m in self.notify.messages if "READY=1" in m)
        self.assertIn(f"STATUS=listening on {server.address}", ready)
        # Ready means ready: a client gets in at once.
        client = PipeClient(server.address, "alice")
        self.addCleanup(client.kill)
        self.assertTrue(client.wait_joined())
        server.proc.send_signal(signal.SIGTERM)
        self.assertTrue(self.notify.receive_until(lambda m: "STOPPING=1" in m), self.notify.messages)
        self.assertEqual(server.proc.wait(30), 0)

    def test_watchdog_is_answered_at_half_the_interval(self):
        # 400 ms asked for: pings every 200 ms, so a few arrive within seconds.
        self.start(extra_env={"WATCHDOG_USEC": "400000"})
        self.assertTrue(self.notify.receive_until(
            lambda m: m == "WATCHDOG=1" and self.notify.messages.count("WATCHDOG=1") >= 3))

    def test_no_watchdog_pings_unless_asked(self):
        self.start()
        self.assertTrue(self.notify.receive_until(lambda m: "READY=1" in m))
        self.notify.receive_until(lambda m: False, timeout=1.0)
        self.assertNotIn("WATCHDOG=1", self.notify.messages)

    def test_sighup_reloads_the_config_and_applies_the_live_options(self):
        config = os.path.join(self.dir.name, "chat-server.toml")
        with open(config, "w") as f:
            f.write('log-level = "info"\nmax-streams-per-ip = 10\n')
        server = self.start(extra=("--config", config))
        self.assertTrue(self.notify.receive_until(lambda m: "READY=1" in m))
        with open(config, "w") as f:
            f.write('log-level = "debug"\nmax-streams-per-ip = 20\nhistory = 9\n')
        server.proc.send_signal(signal.SIGHUP)
        self.assertTrue(self.notify.receive_until(lambda m: "RELOADING=1" in m))
        log = server.log.snapshot
        self.assertTrue(wait_until(lambda: any("--max-streams-per-ip 10 -> 20" in l for l in log())))
        self.assertTrue(wait_until(lambda: any("--log-level info -> debug" in l for l in log())))
        self.assertTrue(wait_until(
            lambda: any("--history 200 -> 9 needs a restart" in l for l in log())), log())
        # A broken file changes nothing, and the server says why, naming the line.
        with open(config, "w") as f:
            f.write('log-level = "debug"\nmax-streams-per-ip = -1\n')
        server.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: any(
            "chat-server.toml:2: max-streams-per-ip must be a whole number" in l and
            "the options in use stay" in l for l in log())), log())
        client = PipeClient(server.address, "bob")
        self.addCleanup(client.kill)
        self.assertTrue(client.wait_joined())


class ConfigFileTest(unittest.TestCase):
    def run_server(self, text, *args):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write(text)
        self.addCleanup(os.unlink, f.name)
        return f.name, subprocess.run([SERVER, "--config", f.name, *args], capture_output=True,
                                      text=True, timeout=30)

    def test_unknown_key_exits_2_naming_file_line_and_key(self):
        path, result = self.run_server("history = 5\n\nhistroy = 7\n")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:3: unknown option 'histroy'", result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)

    def test_bad_value_exits_2_naming_file_line_and_key(self):
        path, result = self.run_server("reflection = \"yes\"\n")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:1: reflection must be true or false", result.stderr)

    def test_the_command_line_wins_over_the_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write('history = 5\nrate-limit = 3\nlisten = "127.0.0.1:1"\n')
        self.addCleanup(os.unlink, f.name)
        server = Server(extra=("--config", f.name, "--history", "7"))
        self.addCleanup(server.stop)
        banner = next(l for l in server.log.snapshot() if "listening on" in l)
        self.assertIn("--history 7 ", banner)
        self.assertIn("--rate-limit 3 ", banner)

    def test_shipped_example_is_what_the_server_prints(self):
        example = os.path.join(os.path.dirname(__file__), "..", "..", "packaging",
                               "chat-server.toml")
        printed = subprocess.run([SERVER, "example-config"], capture_output=True, text=True,
                                 timeout=30, check=True).stdout
        with open(example) as f:
            self.assertEqual(f.read(), printed,
                             "packaging/chat-server.toml is stale: chat-server example-config > "
                             "packaging/chat-server.toml")
        # And it is a valid config: every option at its default.
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write(printed)
        self.addCleanup(os.unlink, f.name)
        path = f.name
        server = Server(extra=("--config", path))
        self.addCleanup(server.stop)
        banner = next(l for l in server.log.snapshot() if "listening on" in l)
        self.assertIn("--history 200 ", banner)


class LogFileTest(unittest.TestCase):
    def test_json_lines_in_a_rotated_file(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        path = os.path.join(directory.name, "chat-server.log")
        # spdlog's rotation names: the newest old file is chat-server.1.log.
        rotated = [os.path.join(directory.name, f"chat-server.{n}.log") for n in (1, 2, 3)]
        # The log goes to the file only: the port is learnt from there.
        proc = subprocess.Popen([SERVER, "--listen", "127.0.0.1:0", "--log-file", path,
                                 "--log-format", "json", "--log-file-bytes", "4096",
                                 "--log-file-count", "2"], stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait(5)))

        def listening():
            return os.path.exists(path) and "listening on 127.0.0.1:" in open(path).read()
        self.assertTrue(wait_until(listening, 15))
        # Each SIGHUP without a config logs a line: enough of them rotate twice and more.
        def rotated_twice():
            proc.send_signal(signal.SIGHUP)
            return os.path.exists(rotated[1]) and os.path.getsize(path) > 0
        self.assertTrue(wait_until(rotated_twice, 60, interval=0.03))
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(30), 0)
        self.assertEqual(proc.stderr.read(), b"")  # nothing went to stderr
        self.assertFalse(os.path.exists(rotated[2]))
        lines = []
        for name in (rotated[1], rotated[0], path):
            self.assertLessEqual(os.path.getsize(name), 4096)
            with open(name) as f:
                lines += [json.loads(line) for line in f]
        self.assertEqual({"time", "level", "message"}, set(lines[0]))
        self.assertTrue(any(l["message"] == "stopped" for l in lines))
        self.assertTrue(all(l["time"].endswith("Z") for l in lines))


class MetricsTest(unittest.TestCase):
    """--metrics-listen: Prometheus text scraped from the real server after some chat."""

    def scrape(self, url):
        with urllib.request.urlopen(url, timeout=10) as response:
            self.assertEqual(response.status, 200)
            return response.read().decode()

    @staticmethod
    def values(text):
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def test_counters_after_some_chat(self):
        server = Server(extra=("--metrics-listen", "127.0.0.1:0", "--max-message-bytes", "100"))
        self.addCleanup(server.stop)
        line = next(l for l in server.log.snapshot() if "metrics on http://" in l)
        url = line[line.index("http://"):].split()[0]
        alice = PipeClient(server.address, "alice", room="m")
        self.addCleanup(alice.kill)
        bob = PipeClient(server.address, "bob", room="m")
        self.addCleanup(bob.kill)
        self.assertTrue(alice.wait_joined() and bob.wait_joined())
        alice.send("hello")
        alice.send("x" * 200)  # over --max-message-bytes: refused as too long
        alice.send("/msg nobody hi")  # nobody of that name: refused
        self.assertTrue(bob.wait_for_text("hello"))
        self.assertTrue(wait_until(lambda: any(m["kind"] == "error" for m in alice.messages())))

        def counted():
            v = self.values(self.scrape(url))
            return (v.get("chat_messages_accepted_total") == 1 and
                    v.get('chat_messages_refused_total{reason="too_long"}') == 1)
        self.assertTrue(wait_until(counted, 10), self.scrape(url))
        text = self.scrape(url)
        v = self.values(text)
        self.assertEqual(v.get('chat_messages_refused_total{reason="no_recipient"}'), 1, text)
        self.assertEqual(v.get('chat_messages_refused_total{reason="rate_limit"}'), 0, text)
        self.assertEqual(v["chat_members"], 2)
        self.assertEqual(v["chat_streams_open"], 2)
        self.assertEqual(v["chat_rooms"], 1)  # #m (the lobby exists once someone enters it)
        self.assertGreaterEqual(v["chat_connections_open"], 2)
        # "hello" went to both members; every delivery was queued once.
        self.assertGreaterEqual(v["chat_deliveries_total"], 2)
        self.assertEqual(v["chat_deliveries_total"], v["chat_queue_depth_messages_count"], text)
        self.assertEqual(v["chat_slow_consumers_cut_total"], 0)
        self.assertTrue(any(k.startswith("chat_build_info{") and val == 1 for k, val in v.items()))
        # Every family says what it is.
        families = {k.split("{")[0] for k in v if k.startswith("chat_")}
        for family in {f.rsplit("_bucket", 1)[0].rsplit("_count", 1)[0].rsplit("_sum", 1)[0]
                       for f in families}:
            self.assertIn("# TYPE " + family + " ", text)
            self.assertIn("# HELP " + family + " ", text)


if __name__ == "__main__":
    unittest.main()
