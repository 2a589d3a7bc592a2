"""End-to-end: a flood of connections never stops chat-server's listener.

gRPC 1.51's listener stops accepting for good after one accept4() that fails
for lack of descriptors (grpc/grpc#16058, #20418, #31080). The real binary is
started with a descriptor limit of 256 and gets 300 raw TCP connections; once
they are closed, real clients must connect and chat. docs/operations.md,
"Connection limits"; docs/architecture.md, "Connection limits".

Every wait is bounded; nothing measures time.
"""
import os
import selectors
import socket
import unittest

import harness
from harness import ListeningProcess, PipeClient, wait_until

DESCRIPTORS = 256
FLOOD = 300
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


class LimitedServer(ListeningProcess):
    """chat-server under `ulimit -n 256` (soft and hard limit): the shell
    sets the limit and execs the server, which keeps the shell's PID."""

    def __init__(self, extra=()):
        super().__init__(["sh", "-c", f'ulimit -n {DESCRIPTORS} && exec "$@"', "sh",
                          harness.SERVER, "--listen", "127.0.0.1:0", *extra],
                         "listening", "chat-server")

    def open_descriptors(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))


def flood(port, count, timeout=30.0):
    """Opens `count` connections, each sending HTTP/2's preface, and waits
    (at most `timeout`) until the server has taken each (answered with its
    SETTINGS) or closed it. Returns (answered, closed, undecided, sockets)."""
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), 5)
        s.sendall(PREFACE)
        s.setblocking(False)
        sockets.append(s)
    selector = selectors.DefaultSelector()
    for s in sockets:
        selector.register(s, selectors.EVENT_READ)
    answered = closed = 0
    pending = len(sockets)

    def decide():
        nonlocal answered, closed, pending
        for key, _ in selector.select(timeout=0.2):
            s = key.fileobj
            selector.unregister(s)
            pending -= 1
            try:
                data = s.recv(64)
            except OSError:  # reset: closed with our preface unread
                data = b""
            if data:
                answered += 1
            else:
                closed += 1
        return pending == 0

    wait_until(decide, timeout, interval=0)
    selector.close()
    return answered, closed, pending, sockets


class ConnectionFloodTest(unittest.TestCase):
    def chat_after_the_flood(self, server):
        alice = PipeClient(server.address, "alice")
        bob = PipeClient(server.address, "bob")
        try:
            self.assertTrue(alice.wait_joined(15), alice.err.snapshot())
            self.assertTrue(bob.wait_joined(15), bob.err.snapshot())
            alice.send("still serving")
            self.assertTrue(bob.wait_for_text("still serving", 15), bob.out.snapshot())
        finally:
            alice.close_input()
            bob.close_input()
            alice.wait()
            bob.wait()

    def test_listener_survives_a_flood_past_the_descriptor_limit(self):
        """With the default (automatic) limit: half of 256 descriptors."""
        server = LimitedServer()
        try:
            answered, closed, undecided, sockets = flood(server.port, FLOOD)
            self.assertEqual(undecided, 0, "connections neither taken nor closed: the listener "
                             "stopped?\n" + "\n".join(server.log.snapshot()[-5:]))
            self.assertEqual(answered, DESCRIPTORS // 2)
            self.assertEqual(closed, FLOOD - DESCRIPTORS // 2)
            self.assertLess(server.open_descriptors(), DESCRIPTORS)
            for s in sockets:
                s.close()
            self.assertTrue(wait_until(lambda: server.open_descriptors() < 64, 15))
            self.chat_after_the_flood(server)
            log = "\n".join(server.log.snapshot())
            self.assertIn("descriptor limit 256", log)
            self.assertIn("at most 128 connections (automatic", log)
            self.assertIn("refused: --max-connections 128 reached", log)
            self.assertNotIn("Failed accept4", log)
        finally:
            self.assertEqual(server.stop(), 0)
        log = "\n".join(server.log.snapshot())
        self.assertIn(f"connections refused: {FLOOD - DESCRIPTORS // 2} at --max-connections", log)

    def test_listener_survives_running_out_of_descriptors(self):
        """A limit above what the descriptors allow: the server really runs
        out, and sheds connections on its reserve descriptor."""
        server = LimitedServer(extra=("--max-connections", "1000", "--max-connections-per-ip", "0"))
        try:
            answered, closed, undecided, sockets = flood(server.port, FLOOD)
            self.assertEqual(undecided, 0, "connections neither taken nor closed: the listener "
                             "stopped?\n" + "\n".join(server.log.snapshot()[-5:]))
            self.assertGreater(closed, 0)
            self.assertEqual(answered + closed, FLOOD)
            for s in sockets:
                s.close()
            self.assertTrue(wait_until(lambda: server.open_descriptors() < 64, 15))
            self.chat_after_the_flood(server)
            log = "\n".join(server.log.snapshot())
            self.assertIn("connection refused: Too many open files", log)
            self.assertNotIn("Failed accept4", log)
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
