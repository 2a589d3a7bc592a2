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
import sys
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tcp_proxy import TcpProxy  # noqa: E402

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


def start_server(processes, server_binary, label="server", port=0, extra=()):
    """Starts chat-server on 127.0.0.1 (on `port`, or a free one when 0), with
    `extra` options; returns (process, "127.0.0.1:PORT")."""
    server = processes.start(
        label,
        [server_binary, "--listen", "127.0.0.1:%d" % port, "--log-level", "info"] + list(extra),
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


class Proxy(TcpProxy):
    """TcpProxy (test/support/tcp_proxy.py) whose wait_held fails the test
    when the bytes never come. Stopped by the `proxies` fixture."""

    def wait_held(self, direction, data, timeout=WAIT_S):
        if not super().wait_held(direction, data, timeout):
            raise TimedOut("proxy: %r not held going %s within %g s" % (data, direction, timeout))


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
