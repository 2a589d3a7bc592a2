"""End-to-end tests of chat-server as a process: what SIGTERM and SIGINT do.

docs/operations.md, "Signals": "every member gets a notice, every stream ends
with UNAVAILABLE once its queue is sent, open streams are cancelled after 2 s,
and the process exits 0" (docs/protocol.md, "Half-close and shutdown", says
the same). Every wait is bounded; timing is only checked from below (the
server may not cancel before the grace is over), never for precision.
"""
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest

from harness import PipeClient, Server, wait_until

GRACE = 2.0  # seconds the server gives streams to drain before cancelling them
# Cancelling may not come before the grace is over. The server starts the
# grace after the signal, so measured from before the signal it is at least
# GRACE; the margin only covers clock granularity.
NOT_BEFORE = GRACE - 0.05
# A loose upper bound, far above any scheduling delay, so that a grace much
# longer than the documented one fails; not a measure of how long it takes.
NOT_AFTER = GRACE + 10.0
EXIT_BOUND = 30.0  # how long a test waits for the process to exit at all

# HTTP/2 (RFC 9113) frame types and flags used below.
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
SETTINGS_INITIAL_WINDOW_SIZE = 0x4


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(
        ">I", stream) + payload


def hpack_literal(name, value):
    """A header as an HPACK literal without indexing, new name, no Huffman."""
    def string(s):
        data = s.encode()
        assert len(data) < 127  # one-byte length prefix
        return bytes([len(data)]) + data
    return b"\x00" + string(name) + string(value)


class StalledStream:
    """A Chat stream over a hand-made HTTP/2 connection whose client never
    lets the server send it any data: its SETTINGS give streams a
    flow-control window of 0 and it never sends WINDOW_UPDATE. The server's
    first write to it (the welcome) can never complete, so its queue never
    drains. It answers SETTINGS and PING, so the connection stays healthy,
    and notes when the stream ends (trailers, RST_STREAM or the connection
    closing), with the time (time.monotonic()) it saw it."""

    def __init__(self, port, name):
        self.sock = socket.create_connection(("127.0.0.1", port), 5)
        self._changed = threading.Condition()
        self.response_headers = False  # the server has started answering the stream
        self.ended = None  # (what, monotonic time) of what ended the stream first
        headers = b"".join(hpack_literal(k, v) for k, v in (
            (":method", "POST"), (":scheme", "http"), (":path", "/chat.ChatService/Chat"),
            (":authority", f"127.0.0.1:{port}"), ("content-type", "application/grpc"),
            ("te", "trailers"), ("chat-user", name)))
        self.sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                          + frame(SETTINGS, 0, 0, struct.pack(">HI", SETTINGS_INITIAL_WINDOW_SIZE, 0))
                          + frame(HEADERS, END_HEADERS, 1, headers))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _recv_exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _end(self, what):
        with self._changed:
            if self.ended is None:
                self.ended = (what, time.monotonic())
            self._changed.notify_all()

    def _read(self):
        try:
            while True:
                header = self._recv_exactly(9)
                if header is None:
                    break
                length = int.from_bytes(header[:3], "big")
                kind, flags = header[3], header[4]
                stream = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
                payload = self._recv_exactly(length) if length else b""
                if payload is None:
                    break
                if kind == SETTINGS and not flags & ACK:
                    self.sock.sendall(frame(SETTINGS, ACK, 0))
                elif kind == PING and not flags & ACK:
                    self.sock.sendall(frame(PING, ACK, 0, payload))
                elif kind == HEADERS and stream == 1:
                    if flags & END_STREAM:
                        self._end("trailers")
                    else:
                        with self._changed:
                            self.response_headers = True
                            self._changed.notify_all()
                elif kind == DATA and stream == 1:
                    self._end("data")  # never expected: the window is 0
                elif kind == RST_STREAM and stream == 1:
                    self._end("reset")
                elif kind == GOAWAY:
                    pass  # "no new streams": sent when shutdown starts; open ones go on
        except OSError:
            pass
        self._end("connection closed")

    def wait(self, predicate, timeout):
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(5)


class ServerProcessTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()
        self.clients = []
        self.stalled = []

    def tearDown(self):
        for c in self.clients:
            c.kill()
        for s in self.stalled:
            s.close()
        self.server.stop()

    def reader(self, name):
        c = PipeClient(self.server.address, name)
        self.clients.append(c)
        self.assertTrue(c.wait_joined(), c.err.snapshot())
        return c

    def wait_exit(self):
        try:
            return self.server.proc.wait(EXIT_BOUND)
        except subprocess.TimeoutExpired:
            self.fail("chat-server did not exit within %s s of the signal" % EXIT_BOUND)

    def assert_told_and_finished(self, client):
        """The notice, then the stream ended with the shutdown's UNAVAILABLE status."""
        self.assertTrue(client.wait_for_text("the server is shutting down"), client.out.snapshot())
        lost = "connection lost (the server is shutting down; reconnect later)"
        self.assertTrue(wait_until(lambda: any(lost in l for l in client.err.snapshot()), 10),
                        client.err.snapshot())

    def test_sigterm_cancels_a_stream_that_cannot_drain_after_the_grace_and_exits_0(self):
        reader = self.reader("reader")
        stalled = StalledStream(self.server.port, "stalled")
        self.stalled.append(stalled)
        self.assertTrue(reader.wait_for_text("stalled joined #lobby"))
        # The server has started writing to it; the welcome waits for a window.
        self.assertTrue(stalled.wait(lambda: stalled.response_headers or stalled.ended, 10))
        self.assertIsNone(stalled.ended, "the stalled stream ended before the signal")

        signalled = time.monotonic()
        self.server.proc.send_signal(signal.SIGTERM)
        # A stream that reads is told and finished at once...
        self.assert_told_and_finished(reader)
        # ... the one that cannot drain is cancelled, but not before the grace,
        # and the process exits 0, not before the grace either.
        self.assertTrue(stalled.wait(lambda: stalled.ended, EXIT_BOUND),
                        "the stalled stream was never cancelled")
        what, when = stalled.ended
        self.assertNotEqual(what, "data")
        self.assertGreaterEqual(when - signalled, NOT_BEFORE,
                                f"the stalled stream ended ({what}) before the grace was over")
        self.assertLess(when - signalled, NOT_AFTER,
                        f"the stalled stream ended ({what}) long after the {GRACE} s grace")
        self.assertEqual(self.wait_exit(), 0, "\n".join(self.server.log.snapshot()))

    def test_sigint_tells_every_member_finishes_their_streams_and_exits_0(self):
        readers = [self.reader("ann"), self.reader("ben")]
        self.server.proc.send_signal(signal.SIGINT)
        for r in readers:
            self.assert_told_and_finished(r)
        self.assertEqual(self.wait_exit(), 0, "\n".join(self.server.log.snapshot()))


if __name__ == "__main__":
    unittest.main()
