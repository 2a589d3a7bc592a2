"""A TCP relay on loopback for the reconnection tests of test/e2e and
test/interop (standard library only, so both interpreters can use it)."""
import socket
import threading
import time


class TcpProxy:
    """A TCP relay on 127.0.0.1 in front of a server, to cut the network.

    cut() drops every connection and refuses new ones (they are accepted and
    closed at once) until restore(). cut(keep_server_side=True) drops only
    the client's side: the server still sees the old connection, as when a
    network goes away silently, until release(). hold(direction) keeps, from
    then on, the bytes going "up" (client to server) or "down" (server to
    client) instead of delivering them: what the other side never got when
    the cut comes. wait_held() waits until given bytes are among those held
    (gRPC frames carry a ChatMessage's text as is). `refused` counts the
    connections turned away while cut: the client's attempts. stop() when done.
    """

    def __init__(self, upstream_address):
        host, port = upstream_address.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.address = "127.0.0.1:%d" % self.port
        self._cond = threading.Condition()
        self._pairs = []  # live connections: {"client", "upstream", "keep_upstream"}
        self._kept = []  # server sides kept open by cut(keep_server_side=True)
        self._open = True
        self._stopped = False
        self._holding = {"up": False, "down": False}
        self._held = {"up": bytearray(), "down": bytearray()}
        self.refused = 0
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def _accept(self):
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._cond:
                if not self._open:
                    self.refused += 1
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

    def wait_held(self, direction, data, timeout=10.0):
        """True once `data` is among the bytes held going `direction`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while data not in self._held[direction]:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
            return True

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
