"""Helpers for end-to-end tests: real chat-server and chat-client processes.

Every wait is bounded; every process started here is stopped by its PID.
"""
import array
import fcntl
import itertools
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
import unicodedata

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tcp_proxy import TcpProxy  # noqa: E402

SERVER = os.environ.get("CHAT_SERVER_BIN", "chat-server")
CLIENT = os.environ.get("CHAT_CLIENT_BIN", "chat-client")
PLAIN_LINE = re.compile(r"^(\S+) (\S+) (\d+) (\w+) (\S+) ?(.*)$")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Lines:
    """Collects a stream's lines on a thread."""

    def __init__(self, stream):
        self.lines = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream):
        for raw in iter(stream.readline, b""):
            with self._lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def snapshot(self):
        with self._lock:
            return list(self.lines)

    def join(self, timeout=5):
        self._thread.join(timeout)


class ListeningProcess:
    """A server process that logs "listening on 127.0.0.1:PORT" on stderr
    once it accepts connections; stopped by its PID with SIGTERM."""

    def __init__(self, argv, banner, what, env=None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=env)
        self.log = Lines(self.proc.stderr)
        found = {}

        def listening():
            for line in self.log.snapshot():
                m = re.search(banner + r" on 127\.0\.0\.1:(\d+)", line)
                if m:
                    found["port"] = int(m.group(1))
                    return True
            return self.proc.poll() is not None

        if not wait_until(listening, 15) or "port" not in found:
            self.stop()
            raise RuntimeError(what + " did not start: " + "\n".join(self.log.snapshot()))
        self.port = found["port"]
        self.address = f"127.0.0.1:{self.port}"

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


class Server(ListeningProcess):
    def __init__(self, port=0, extra=(), env=None):
        super().__init__([SERVER, "--listen", f"127.0.0.1:{port}", *extra],
                         "listening", "chat-server", env)


class HostileServer(ListeningProcess):
    """test/support/hostile_server.cc: a stub ChatService that sends scripted
    hostile text (see test/support/hostile_text.py for the script)."""

    BINARY = os.environ.get("CHAT_HOSTILE_SERVER_BIN", "hostile_server")

    def __init__(self, args):
        super().__init__([self.BINARY, "--listen", "127.0.0.1:0", *args],
                         "hostile-server listening", "hostile_server")


class PipeClient:
    """chat-client with pipes on stdin and stdout (plain mode)."""

    def __init__(self, address, name, room=None, extra=(), env=None, send_name=True):
        """send_name=False: no --name; the token's subject, `name`, names the client."""
        args = [CLIENT, "--server", address, *extra]
        if send_name:
            args += ["--name", name]
        if room:
            args += ["--room", room]
        env = dict(os.environ, NO_COLOR="1", **(env or {}))
        self.name = name
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.out = Lines(self.proc.stdout)
        self.err = Lines(self.proc.stderr)

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def close_input(self):
        self.proc.stdin.close()

    def wait(self, timeout=20):
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        self.out.join()
        self.err.join()
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def messages(self, kind=None):
        """Parsed plain lines: dicts with time, room, seq, kind, sender, text."""
        out = []
        for line in self.out.snapshot():
            m = PLAIN_LINE.match(line)
            if m:
                entry = dict(zip(("time", "room", "seq", "kind", "sender", "text"), m.groups()))
                entry["seq"] = int(entry["seq"])
                if kind is None or entry["kind"] == kind:
                    out.append(entry)
        return out

    def texts(self, kind="chat"):
        return [m["text"] for m in self.messages(kind)]

    def wait_for_text(self, text, timeout=10):
        return wait_until(lambda: any(m["text"] == text for m in self.messages()), timeout)

    def wait_joined(self, timeout=10):
        return wait_until(lambda: any(m["kind"] == "join" and m["sender"] == self.name
                                      for m in self.messages()), timeout)


class Proxy(TcpProxy):
    """TcpProxy (test/support/tcp_proxy.py) in front of a server on this port."""

    def __init__(self, upstream_port):
        super().__init__("127.0.0.1:%d" % upstream_port)


class TmuxPane:
    """A program in a pane of a private tmux server (its own socket, no
    configuration file): keys in with send-keys, the screen back with
    capture-pane. Stopping it kills that tmux server and nothing else."""

    LOCALE_VARS = ("LANG", "LC_ALL", "LC_CTYPE", "LANGUAGE")
    _ids = itertools.count()

    def __init__(self, command, width=100, height=20, locale=None, name="chat", options=()):
        """command: a shell command line. locale: None keeps the caller's
        locale variables; a dict replaces all of them (an empty dict: none set).
        options: (name, value) pairs of tmux server options set before the
        command starts (set-option -s)."""
        self.socket = f"chat-e2e-{os.getpid()}-{next(TmuxPane._ids)}"
        self.target = name
        # where tmux puts a -L socket (tmux 3.3 leaves the file behind: stop() removes it)
        self.socket_path = os.path.join(os.environ.get("TMUX_TMPDIR") or "/tmp",
                                        f"tmux-{os.getuid()}", self.socket)
        # CI may run without a terminal (no TERM): tmux needs one to start.
        self.env = dict(os.environ, TERM=os.environ.get("TERM") or "xterm")
        if locale is not None:
            prefix = ["env"] + [f"-u {v}" for v in self.LOCALE_VARS]
            prefix += [f"{k}={shlex.quote(v)}" for k, v in locale.items()]
            command = " ".join(prefix) + " sh -c " + shlex.quote(command)
        session = ["new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), command]
        try:
            # tmux 3.3 moves the screen into its scrollback when a program erases
            # it from the top left (the client's first prompt does); terminals
            # do not, so neither does this tmux.
            server_options = []
            for option, value in options:
                server_options += ["set-option", "-s", option, value, ";"]
            self.tmux("start-server", ";", *server_options,
                      "set-option", "-wg", "scroll-on-clear", "off", ";", *session)
        except subprocess.CalledProcessError as e:
            if "scroll-on-clear" not in e.stderr or options:
                raise
            self.tmux(*session)  # an older tmux, without the option

    def tmux(self, *args, input=None):
        return subprocess.run(["tmux", "-L", self.socket, "-f", os.devnull, *args],
                              capture_output=True, text=True, timeout=10, check=True,
                              env=self.env, input=input).stdout

    def stop(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       timeout=10, env=self.env)
        try:
            os.unlink(self.socket_path)
        except OSError:
            pass

    def screen(self):
        """The visible rows, trailing spaces stripped (empty rows kept)."""
        return [l.rstrip() for l in self.tmux("capture-pane", "-p", "-t", self.target).splitlines()]

    def scrollback(self):
        """The rows scrolled off the top and the visible ones, as screen()."""
        out = self.tmux("capture-pane", "-p", "-t", self.target, "-S", "-")
        return [l.rstrip() for l in out.splitlines()]

    def joined_history(self):
        """As scrollback(), with rows that wrapped joined into the line they were."""
        out = self.tmux("capture-pane", "-p", "-J", "-t", self.target, "-S", "-")
        return [l.rstrip() for l in out.splitlines()]

    def with_attributes(self):
        """The screen and scrollback with tmux's escape sequences for colours and
        attributes (capture-pane -e): text drawn plain has none."""
        return self.tmux("capture-pane", "-p", "-e", "-t", self.target, "-S", "-")

    def value(self, name):
        """A format variable of the pane, e.g. pane_title or window_bell_flag."""
        return self.tmux("display", "-p", "-t", self.target, "#{%s}" % name).rstrip("\n")

    def buffers(self):
        """tmux's paste buffers (an OSC 52 sequence makes one when set-clipboard is on)."""
        return self.tmux("list-buffers").splitlines()

    def clear_history(self):
        self.tmux("clear-history", "-t", self.target)

    def cursor(self):
        x, y = self.tmux("display", "-p", "-t", self.target, "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def state(self):
        """What the pane shows: its rows as drawn and the cursor position."""
        return self.tmux("capture-pane", "-p", "-t", self.target), self.cursor()

    def input_waiting(self):
        """Bytes typed into the pane that its program has not read yet (the
        input queue of the pane's terminal)."""
        tty = self.tmux("display", "-p", "-t", self.target, "#{pane_tty}").strip()
        fd = os.open(tty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            count = array.array("i", [0])
            fcntl.ioctl(fd, termios.TIOCINQ, count)
            return count[0]
        finally:
            os.close(fd)

    @staticmethod
    def draws_nothing(ch):
        """A code point that changes nothing on screen by itself: a joiner, a
        variation selector, a combining mark or format character."""
        return unicodedata.category(ch) in ("Mn", "Me", "Cf") or 0xFE00 <= ord(ch) <= 0xFE0F

    def type(self, text, timeout=5.0):
        """Key by key, one code point each, each sent once the program has
        taken the one before, so that it reads them one at a time, as from a
        slow typist, and a cluster arrives split. Taken: the screen or the
        cursor changed; for a code point that draws nothing by itself, the
        terminal's input queue is empty."""
        for i, ch in enumerate(text):
            before = self.state()
            self.tmux("send-keys", "-t", self.target, "-l", "--", ch)
            if self.draws_nothing(ch):
                taken = wait_until(lambda: self.input_waiting() == 0, timeout, 0.005)
            else:
                taken = wait_until(lambda: self.state() != before, timeout, 0.005)
            if not taken:
                raise AssertionError(f"the pane did not take key {i} ({ch!r}) of {text!r} "
                                     f"within {timeout} s:\n" + before[0])

    def send_literal(self, text):
        """The whole text as one write to the pane, as a fast typist or a paste."""
        self.tmux("send-keys", "-t", self.target, "-l", "--", text)

    def key(self, *names):
        for name in names:
            self.tmux("send-keys", "-t", self.target, name)

    def paste(self, text):
        """A terminal paste: tmux turns each newline into Enter (CR)."""
        self.tmux("load-buffer", "-b", "e2e", "-", input=text)
        self.tmux("paste-buffer", "-d", "-b", "e2e", "-t", self.target)

    def resize(self, width=None, height=None):
        args = ["resize-window", "-t", self.target]
        if width:
            args += ["-x", str(width)]
        if height:
            args += ["-y", str(height)]
        self.tmux(*args)

    def width(self):
        return int(self.tmux("display", "-p", "-t", self.target, "#{pane_width}").strip())


def installed_locales():
    """`locale -a`, normalised as glibc compares names: en_US.UTF-8 -> en_us.utf8."""
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return {l.strip().lower().replace("-", "") for l in out.splitlines() if l.strip()}


def has_locale(name):
    return name.lower().replace("-", "") in installed_locales()
