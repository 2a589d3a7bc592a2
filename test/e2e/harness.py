"""Helpers for end-to-end tests: real chat-server and chat-client processes.

Every wait is bounded; every process started here is stopped by its PID.
"""
import itertools
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time

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


class Server:
    def __init__(self, port=0, extra=()):
        self.proc = subprocess.Popen(
            [SERVER, "--listen", f"127.0.0.1:{port}", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.log = Lines(self.proc.stderr)
        found = {}

        def listening():
            for line in self.log.snapshot():
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
                if m:
                    found["port"] = int(m.group(1))
                    return True
            return self.proc.poll() is not None

        if not wait_until(listening, 15) or "port" not in found:
            self.stop()
            raise RuntimeError("chat-server did not start: " + "\n".join(self.log.snapshot()))
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


class PipeClient:
    """chat-client with pipes on stdin and stdout (plain mode)."""

    def __init__(self, address, name, room=None, extra=()):
        args = [CLIENT, "--server", address, "--name", name, *extra]
        if room:
            args += ["--room", room]
        env = dict(os.environ, NO_COLOR="1")
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


class Proxy:
    """A TCP relay on loopback that can cut every connection: a network cut."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._sockets = []
        self._lock = threading.Lock()
        self._open = True
        self._stopped = False
        self.refused = 0  # connections turned away while cut: the client's attempts
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                if not self._open:
                    self.refused += 1
                    client.close()
                    continue
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port), 5)
                except OSError:
                    client.close()
                    continue
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        """Drops every connection and refuses new ones until restore()."""
        with self._lock:
            self._open = False
            for s in self._sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self._sockets = []

    def restore(self):
        with self._lock:
            self._open = True

    def stop(self):
        self._stopped = True
        self.cut()
        self.listener.close()


class TmuxPane:
    """A program in a pane of a private tmux server (its own socket, no
    configuration file): keys in with send-keys, the screen back with
    capture-pane. Stopping it kills that tmux server and nothing else."""

    LOCALE_VARS = ("LANG", "LC_ALL", "LC_CTYPE", "LANGUAGE")
    _ids = itertools.count()

    def __init__(self, command, width=100, height=20, locale=None, name="chat"):
        """command: a shell command line. locale: None keeps the caller's
        locale variables; a dict replaces all of them (an empty dict: none set)."""
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
            self.tmux("start-server", ";", "set-option", "-wg", "scroll-on-clear", "off", ";",
                      *session)
        except subprocess.CalledProcessError as e:
            if "scroll-on-clear" not in e.stderr:
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

    def clear_history(self):
        self.tmux("clear-history", "-t", self.target)

    def cursor(self):
        x, y = self.tmux("display", "-p", "-t", self.target, "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def type(self, text, pause=0.01):
        """Key by key (one code point each) with a human pause between."""
        for ch in text:
            self.tmux("send-keys", "-t", self.target, "-l", "--", ch)
            time.sleep(pause)

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
