"""Processes for the cross-language test: the C++ server and line clients.

Every wait has a bound; every process is killed by its PID when a test ends
(see Processes.stop_all). Clients' output is collected by reader threads and
waited on with a condition variable, never with a fixed sleep.
"""

import os
import re
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass

# The three line clients under test, and the program name each puts before
# its stderr lines.
LANGUAGES = ("cpp", "go", "py")
PROGRAM = {"cpp": "chat-client", "go": "chat-client-go", "py": "chat-client-py"}

WAIT_S = 15.0  # the bound on any one wait for output
EXIT_WAIT_S = 10.0  # the bound on waiting for a process to exit

LISTENING = re.compile(r"chat-server listening on (\S+):(\d+) \(")


class TimedOut(AssertionError):
    pass


class Process:
    """A child process whose stdout and stderr lines are collected as bytes."""

    def __init__(self, label, argv, env=None):
        self.label = label
        self.argv = [str(a) for a in argv]
        self.stdout = []  # lines as bytes, without the newline
        self.stderr = []
        self._cond = threading.Condition()
        self._eof = {"stdout": False, "stderr": False}
        self.popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.pid = self.popen.pid
        for name in ("stdout", "stderr"):
            threading.Thread(
                target=self._read, args=(name,), name="%s-%s" % (label, name), daemon=True
            ).start()

    def _read(self, name):
        stream = getattr(self.popen, name)
        for raw in iter(stream.readline, b""):
            with self._cond:
                getattr(self, name).append(raw.rstrip(b"\n"))
                self._cond.notify_all()
        with self._cond:
            self._eof[name] = True
            self._cond.notify_all()

    # Input.
    def send(self, line):
        self.popen.stdin.write(line.encode("utf-8") + b"\n")
        self.popen.stdin.flush()

    def close_stdin(self):
        if not self.popen.stdin.closed:
            self.popen.stdin.close()

    # Output.
    def wait_until(self, predicate, what, timeout=WAIT_S):
        """Waits until predicate(self) is true; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimedOut(
                        "%s: no %s within %g s\n%s" % (self.label, what, timeout, self.describe())
                    )
                if self.popen.poll() is not None and all(self._eof.values()):
                    if predicate(self):
                        break
                    raise AssertionError(
                        "%s exited (%s) before %s\n%s"
                        % (self.label, self.popen.returncode, what, self.describe())
                    )
                self._cond.wait(min(left, 0.5))

    def wait_exit(self, timeout=EXIT_WAIT_S):
        """The exit code, once the process has ended and its output is read."""
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimedOut(
                "%s did not exit within %g s\n%s" % (self.label, timeout, self.describe())
            ) from None
        deadline = time.monotonic() + timeout
        with self._cond:
            while not all(self._eof.values()) and time.monotonic() < deadline:
                self._cond.wait(0.2)
        return code

    def describe(self, tail=40):
        with self._cond:
            out = self.stdout[-tail:]
            err = self.stderr[-tail:]
        text = ["  %s (pid %d): %s" % (self.label, self.pid, " ".join(self.argv))]
        text += ["  stdout| " + line.decode("utf-8", "replace") for line in out]
        text += ["  stderr| " + line.decode("utf-8", "replace") for line in err]
        return "\n".join(text)

    def stop(self):
        """Kills the process by its PID if it still runs."""
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.popen.wait(EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            try:
                stream.close()
            except OSError:
                pass


class Processes:
    """Every process a test started, so that all are killed when it ends."""

    def __init__(self):
        self.all = []

    def start(self, label, argv, env=None):
        process = Process(label, argv, env)
        self.all.append(process)
        return process

    def describe(self):
        return "\n".join(p.describe() for p in self.all)

    def stop_all(self):
        for process in reversed(self.all):
            process.stop()


def start_server(processes, server_binary, label="server", port=0):
    """Starts chat-server on 127.0.0.1 (on `port`, or a free one when 0);
    returns (process, "127.0.0.1:PORT")."""
    server = processes.start(
        label,
        [server_binary, "--listen", "127.0.0.1:%d" % port, "--log-level", "info"],
        env=clean_env(),
    )
    server.close_stdin()
    found = {}

    def listening(p):
        for line in p.stderr:
            match = LISTENING.search(line.decode("utf-8", "replace"))
            if match:
                found["address"] = "%s:%s" % (match.group(1), match.group(2))
                return True
        return False

    server.wait_until(listening, "'chat-server listening on' log line")
    return server, found["address"]


HOSTILE_LISTENING = re.compile(r"hostile-server listening on (\S+):(\d+)$")


def start_hostile_server(processes, binary, args):
    """Starts test/support/hostile_server.cc on 127.0.0.1, a free port, with
    `args`; returns (process, "127.0.0.1:PORT")."""
    stub = processes.start("hostile-server", [binary, "--listen", "127.0.0.1:0"] + list(args),
                           env=clean_env())
    stub.close_stdin()
    found = {}

    def listening(p):
        for line in p.stderr:
            match = HOSTILE_LISTENING.search(line.decode("utf-8", "replace"))
            if match:
                found["address"] = "%s:%s" % (match.group(1), match.group(2))
                return True
        return False

    stub.wait_until(listening, "'hostile-server listening on' line")
    return stub, found["address"]


def free_port():
    """A port that was free a moment ago (for a server that must come back on the same one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_server(server):
    """SIGTERM, then the exit code (the server shuts down gracefully)."""
    if server.popen.poll() is None:
        os.kill(server.pid, signal.SIGTERM)
    return server.wait_exit()


def clean_env():
    """The environment without CHAT_* settings, so the user's own cannot leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class Proxy:
    """A TCP relay on 127.0.0.1 in front of a server, to cut the network.

    cut() drops every connection and refuses new ones (they are accepted and
    closed at once) until restore(). cut(keep_server_side=True) drops only
    the client's side: the server still sees the old connection, as when a
    network goes away silently, until release(). hold(direction) keeps, from
    then on, the bytes going "up" (client to server) or "down" (server to
    client) instead of delivering them: what the other side never got when
    the cut comes. wait_held() waits until given bytes are among those held
    (gRPC frames carry a ChatMessage's text as is). Stopped by the `proxies`
    fixture.
    """

    def __init__(self, upstream_address):
        host, port = upstream_address.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self._cond = threading.Condition()
        self._pairs = []  # live connections: {"client", "upstream", "keep_upstream"}
        self._kept = []  # server sides kept open by cut(keep_server_side=True)
        self._open = True
        self._stopped = False
        self._holding = {"up": False, "down": False}
        self._held = {"up": bytearray(), "down": bytearray()}
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def _accept(self):
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._cond:
                if not self._open:
                    client.close()
                    continue
            try:
                upstream = socket.create_connection(self.upstream, 5)
            except OSError:
                client.close()
                continue
            # The 5 s bound is for connecting only: a relayed stream may be idle longer.
            upstream.settimeout(None)
            pair = {"client": client, "upstream": upstream, "keep_upstream": False}
            with self._cond:
                if not self._open:  # cut meanwhile
                    client.close()
                    upstream.close()
                    continue
                self._pairs.append(pair)
            for src, dst, direction in ((client, upstream, "up"), (upstream, client, "down")):
                threading.Thread(
                    target=self._pump,
                    args=(pair, src, dst, direction),
                    name="proxy-" + direction,
                    daemon=True,
                ).start()

    def _pump(self, pair, src, dst, direction):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self._cond:
                    if self._holding[direction]:
                        self._held[direction] += data
                        self._cond.notify_all()
                        continue
                dst.sendall(data)
        except OSError:
            pass
        with self._cond:
            keep = pair["keep_upstream"]
        for s in (src, dst):
            if keep and s is pair["upstream"]:
                continue
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def hold(self, direction):
        with self._cond:
            self._holding[direction] = True

    def wait_held(self, direction, data, timeout=WAIT_S):
        deadline = time.monotonic() + timeout
        with self._cond:
            while data not in self._held[direction]:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimedOut(
                        "proxy: %r not held going %s within %g s" % (data, direction, timeout)
                    )
                self._cond.wait(min(left, 0.5))

    @staticmethod
    def _close(s):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def cut(self, keep_server_side=False):
        with self._cond:
            self._open = False
            for pair in self._pairs:
                pair["keep_upstream"] = keep_server_side
                self._close(pair["client"])
                if keep_server_side:
                    self._kept.append(pair["upstream"])
                else:
                    self._close(pair["upstream"])
            self._pairs = []

    def release(self):
        """Closes the server sides that cut(keep_server_side=True) kept open."""
        with self._cond:
            for s in self._kept:
                self._close(s)
            self._kept = []

    def restore(self):
        with self._cond:
            self._open = True
            self._holding = {"up": False, "down": False}
            self._held = {"up": bytearray(), "down": bytearray()}

    def stop(self):
        self._stopped = True
        self.cut()
        self.release()
        self.listener.close()


@dataclass(frozen=True, order=True)
class Line:
    """One PLAIN FORMAT line: TIME ROOM SEQ KIND SENDER TEXT."""

    time: str
    room: str
    seq: int
    kind: str
    sender: str
    text: bytes  # exactly as printed

    @staticmethod
    def parse(raw):
        parts = raw.split(b" ", 5)
        if len(parts) == 5:  # an empty TEXT without the trailing space
            parts.append(b"")
        if len(parts) != 6:
            raise AssertionError("not a plain-format line: %r" % raw)
        time_, room, seq, kind, sender, text = parts
        if not re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", time_):
            raise AssertionError("bad TIME in %r" % raw)
        if not seq.isdigit():
            raise AssertionError("bad SEQ in %r" % raw)
        return Line(
            time_.decode(), room.decode(), int(seq), kind.decode(), sender.decode(), text
        )


@dataclass(frozen=True, order=True)
class PlainLine:
    """One line of the two-field client: SENDER TEXT."""

    sender: str
    text: bytes

    @staticmethod
    def parse(raw):
        sender, _, text = raw.partition(b" ")
        return PlainLine(sender.decode("utf-8", "replace"), text)
