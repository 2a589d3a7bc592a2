"""Soak test: the real chat-server under about two minutes of mixed, hostile load.

Hundreds of clients (grpcio asyncio) connect with signed tokens, chat in several rooms, change
rooms, leave, and are cut off at random (calls cancelled, channels closed); real chat-client
processes are killed with SIGKILL; alongside, flooders go over the rate limit, a stalled reader
never reads, thousands of raw TCP connections come and go, and bad tokens are tried. At the end:
the server is alive and accepting, every client that stayed connected got every message of its
room exactly once and in order, RSS is back near its start, and the server's stderr holds no
sanitizer report. docs/testing.md, "The soak test", has the numbers and how to run it.

Environment (ctest sets the first three from CMake, so it tests the build it is registered in):
  CHAT_SERVER_BIN, CHAT_CLIENT_BIN   the binaries under test
  CHAT_SOAK_SANITIZER                asan, tsan or empty: how the server was built
  CHAT_SOAK_SECONDS                  seconds of load (default 120)
  CHAT_SOAK_CLIENTS                  concurrent gRPC clients (default 300: 2/3 stay, 1/3 churn)
  CHAT_SOAK_SEED                     the seed of every random choice (default: from the clock)

Every wait is bounded; every process started here is stopped by its PID.
"""

import asyncio
import base64
import collections
import os
import random
import resource
import socket
import statistics
import struct
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "interop", "python", "gen"))  # by scripts/setup/python.sh
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import grpc  # noqa: E402

import chat_pb2  # noqa: E402
import chat_pb2_grpc  # noqa: E402
import harness  # noqa: E402  (test/e2e: the server and chat-client processes)
from connection_flood_test import flood  # noqa: E402

SECONDS = float(os.environ.get("CHAT_SOAK_SECONDS", "120"))
CLIENTS = int(os.environ.get("CHAT_SOAK_CLIENTS", "300"))
SANITIZER = os.environ.get("CHAT_SOAK_SANITIZER", "")

ROOMS = ("alpha", "beta", "gamma", "delta")  # where stayers and churners chat
FLOOD_ROOM = "flood"  # the flooders, the stalled reader and a few stayers
FLOOD_ROOM_STAYERS = 10
FLOODERS = 3
PIPE_SLOTS = 4  # chat-client processes alive at once, each SIGKILLed after a few seconds
CONNECTION_FLOOD = 2000  # raw TCP connections per wave
RATE = 20  # the server's default --rate-limit, lines per second
BURST = 40  # and its burst, max(10, 2 x rate)

# Bounds. Generous: they catch a stall or a leak, not a slow machine.
JOIN_WAIT_S = 30.0  # a client's own JOIN after opening its stream
DRAIN_WAIT_S = 90.0  # every stayer has its room's last line, after the load stops
ACK_LATENCY_MAX_S = 15.0  # a stayer's line back to it: far above normal, far below a stall
RSS_SETTLE_S = 90.0  # for RSS to come back down once everyone left
MIB = 1 << 20
# RSS at the end may exceed the baseline by 64 MiB or by the baseline itself, whichever is more.
# Not under a sanitizer: ASan's allocator keeps what was freed (its 256 MiB quarantine, per-size
# caches, shadow), and so does TSan's; under ASan this run peaked at 735-857 MiB and stayed there
# (66 MiB peak in a plain build), allocator_release_to_os_interval_ms or not. There the plain
# build's check covers growth, and LeakSanitizer (detect_leaks=1) covers leaks at exit.
RSS_CHECKED = not SANITIZER
RSS_SLACK = 64 * MIB

SANITIZER_REPORTS = (
    "ERROR: AddressSanitizer",
    "runtime error:",
    "WARNING: ThreadSanitizer",
    "LeakSanitizer",
)

# Kinds of room messages (those with a seq in the room's log), docs/protocol.md "Receiving".
LOGGED = {chat_pb2.CHAT, chat_pb2.ACTION, chat_pb2.JOIN, chat_pb2.LEAVE, chat_pb2.RENAME,
          chat_pb2.PRESENCE}


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def channel_to(address, options=()):
    # A local subchannel pool: each channel its own TCP connection, as separate users have
    # (gRPC would otherwise share one connection among channels to the same address).
    return grpc.aio.insecure_channel(
        address, options=[("grpc.use_local_subchannel_pool", 1), *options])


def filler(rng):
    return "x" * rng.choice((0, 0, 10, 50, 200, 1000))


class Stats:
    """Counts for the summary and the checks, from every task (one event loop: no lock)."""

    def __init__(self):
        self.count = collections.Counter()
        self.refusals = collections.Counter()
        self.ack_latency = []  # stayers' lines, seconds
        self.flood_room_ack_latency = []
        # (room, seq) -> (sender, text): every CHAT line a sender saw come back, its ack.
        self.acked = {}
        # sender -> texts it sent (acked or not): what any received line must be one of.
        self.sent = collections.defaultdict(set)
        self.problems = []

    def problem(self, text):
        if len(self.problems) < 200:
            self.problems.append(text)

    def record_ack(self, room, seq, sender, text):
        old = self.acked.setdefault((room, seq), (sender, text))
        if old != (sender, text):
            self.problem(f"#{room} seq {seq} acked as {old} and as {(sender, text)}")


class Member:
    """One Chat stream of a gRPC client: reads on a task, records what arrives."""

    def __init__(self, soak, name, token, room, batch, metadata_name=None, read=True,
                 channel_options=()):
        self.soak = soak
        self.name = name
        self.room = room
        self.channel = channel_to(soak.address, channel_options)
        metadata = [("authorization", "Bearer " + token), ("chat-room", room)]
        if batch:
            metadata.append(("chat-batch", "1"))
        if metadata_name:
            metadata.append(("chat-user", metadata_name))
        self.call = chat_pb2_grpc.ChatServiceStub(self.channel).Chat(metadata=metadata)
        self.joined = asyncio.Event()
        self.room_messages = []  # (seq, kind, user, text) of this room, live, in arrival order
        self.errors = []
        self.pending = {}  # client_msg_id -> (text, time sent)
        self.acks = {}  # client_msg_id -> seq
        self.status = None  # the call's final code, once it ended
        self.details = ""
        self.last_seq = 0
        # Without a reader nothing is taken from the transport (a read cancelled in grpcio
        # cancels its call, so a stalled reader must never start one).
        self.reader = asyncio.create_task(self._read()) if read else None

    async def _read(self):
        try:
            async for frame in self.call:
                for message in frame.batch or (frame,):
                    self._take(message)
            self.status = await self.call.code()
            self.details = await self.call.details()
        except grpc.aio.AioRpcError as e:
            self.status, self.details = e.code(), e.details()
        except asyncio.CancelledError:
            self.status = grpc.StatusCode.CANCELLED

    def _take(self, m):
        self.soak.stats.count["deliveries"] += 1
        if m.kind == chat_pb2.JOIN and m.subject == self.name and not self.joined.is_set():
            self.room = m.room
            self.joined.set()
            self.room_messages = []  # history and the old room are over
            if m.seq:
                self.room_messages.append((m.seq, m.kind, m.user, m.message))
            return
        if m.kind == chat_pb2.ERROR:
            self.errors.append(m.message)
            self.pending.pop(m.client_msg_id, None)
            return
        # Its own line back, live (a rejoining churner's history holds its older lines).
        own = m.kind in (chat_pb2.CHAT, chat_pb2.ACTION) and m.user == self.name and not m.replay
        if own and m.client_msg_id in self.pending:
            text, sent_at = self.pending.pop(m.client_msg_id)
            self.acks[m.client_msg_id] = m.seq
            self.on_ack(m, time.monotonic() - sent_at)
            if m.kind == chat_pb2.CHAT:
                if text != m.message:
                    self.soak.stats.problem(f"{self.name}: ack {m.client_msg_id} has other text")
                self.soak.stats.record_ack(m.room, m.seq, m.user, m.message)
        if self.joined.is_set() and m.room == self.room and m.seq and not m.replay:
            if m.kind in LOGGED:
                self.room_messages.append((m.seq, m.kind, m.user, m.message))
                self.last_seq = m.seq

    def on_ack(self, message, latency):
        pass

    async def wait_joined(self):
        """True once its own JOIN came; False if the stream ended first (or after the bound)."""
        joined = asyncio.create_task(self.joined.wait())
        await asyncio.wait((joined, self.reader), timeout=JOIN_WAIT_S,
                           return_when=asyncio.FIRST_COMPLETED)
        joined.cancel()
        return self.joined.is_set()

    async def must_join(self):
        if not await self.wait_joined():
            raise AssertionError(f"{self.name} did not join #{self.room}: {self.status} "
                                 f"{self.details!r}")

    async def say(self, text):
        self.soak.stats.count["lines sent"] += 1
        msg_id = f"{self.name}.{self.soak.stats.count['lines sent']}"  # unique across streams
        self.soak.stats.sent[self.name].add(text)
        self.pending[msg_id] = (text, time.monotonic())
        await self.call.write(chat_pb2.ChatMessage(message=text, client_msg_id=msg_id))
        return msg_id

    async def command(self, text):
        await self.call.write(chat_pb2.ChatMessage(message=text))

    async def finish(self, timeout=30.0):
        """Half-closes and reads to the end: the server's OK."""
        await asyncio.wait_for(self.call.done_writing(), timeout)
        await asyncio.wait_for(asyncio.shield(self.reader), timeout)
        await self.channel.close()

    async def kill(self, how):
        """Ends the stream abruptly: an RST_STREAM, or the whole connection closed."""
        if how == "cancel":
            self.call.cancel()
        await self.channel.close(grace=None)
        if self.reader is None:
            return
        try:
            await asyncio.wait_for(self.reader, 10)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass


class Stayer(Member):
    """Stays connected the whole time and says a line every few seconds."""

    def on_ack(self, message, latency):
        stats = self.soak.stats
        (stats.flood_room_ack_latency if self.room == FLOOD_ROOM else stats.ack_latency).append(
            latency)

    async def chat_until(self, stop, rng):
        n = 0
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), rng.uniform(2.0, 8.0))
            except asyncio.TimeoutError:
                pass
            if stop.is_set() or self.status is not None:
                return
            n += 1
            if rng.random() < 0.1:
                await self.say(f"/me waves {n}")  # an ACTION: in the log, not a CHAT line
            else:
                await self.say(f"{self.name} line {n} {filler(rng)}")


class Soak:
    def __init__(self, seed):
        self.seed = seed
        self.rng = random.Random(seed)
        self.stats = Stats()
        self.tmp = tempfile.TemporaryDirectory(prefix="chat-soak-")
        self.key = self._key_file("jwt.key")
        self.wrong_key = self._key_file("wrong.key")
        self.stop = asyncio.Event()
        self.rss = {"start": 0, "peak": 0, "end": 0}
        self.server = None
        self.pipes_started = []

    def _key_file(self, name):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(base64.b64encode(os.urandom(48)).decode() + "\n")
        return path

    # Tokens, from `chat-server token`, a few at a time (2 cores are shared).
    async def mint(self, sub, key=None, expiry=("--ttl", "1h")):
        async with self.minting:
            proc = await asyncio.create_subprocess_exec(
                harness.SERVER, "token", "--sub", sub, "--key", key or self.key, *expiry,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            if proc.returncode != 0:
                raise RuntimeError(f"chat-server token --sub {sub}: {err.decode()}")
            return out.decode().strip()

    async def mint_all(self, subs):
        return dict(zip(subs, await asyncio.gather(*(self.mint(s) for s in subs))))

    async def run(self):
        self.minting = asyncio.Semaphore(4)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # thousands of sockets here too
        # Per-address limits off (as scripts/bench/common.sh bench_loopback_limits does): every
        # client here comes from 127.0.0.1.
        self.server = harness.Server(extra=(
            "--auth-jwt-key", self.key, "--max-streams-per-ip", "0",
            "--max-connections-per-ip", "0", "--max-connections", "100000"))
        self.address = self.server.address
        self.pid = self.server.proc.pid
        try:
            await self._run()
        finally:
            for client in self.pipes_started:
                client.kill()
            code = self.server.stop(timeout=30)
            if code != 0:
                self.stats.problem(f"chat-server exited {code} on SIGTERM")
            log = self.server.log.snapshot()
            for line in log:
                if any(report in line for report in SANITIZER_REPORTS):
                    self.stats.problem("sanitizer report in the server's stderr: " + line)
            self.stats.count["server log lines"] = len(log)
            self.tmp.cleanup()

    async def _run(self):
        stats = self.stats
        stayer_count = CLIENTS * 2 // 3
        churner_count = CLIENTS - stayer_count
        stayer_names = [f"stay{i:03d}" for i in range(stayer_count)]
        churner_names = [f"churn{i:03d}" for i in range(churner_count)]
        flooder_names = [f"flood{i}" for i in range(FLOODERS)]
        tokens = await self.mint_all(stayer_names + churner_names + flooder_names +
                                     ["stalled", "fresh1", "fresh2", "warmup", "victim"])
        self.tokens = tokens
        self.bad_tokens = {
            "wrong key": await self.mint("intruder", key=self.wrong_key),
            "expired": await self.mint("late", expiry=("--exp", str(int(time.time()) - 3600))),
        }

        # The baseline: after one client came and went, once the server settled.
        warm = Member(self, "warmup", tokens["warmup"], ROOMS[0], batch=False)
        await warm.must_join()
        await warm.finish()
        await self.health()
        await asyncio.sleep(2)  # a settle period, not a wait for an event
        self.rss["start"] = self.rss["peak"] = rss_bytes(self.pid)
        sampler = asyncio.create_task(self.sample_rss())

        # Everyone who stays joins first, so each sees its room from its own JOIN on.
        stayers = []
        for i, name in enumerate(stayer_names):
            room = FLOOD_ROOM if i < FLOOD_ROOM_STAYERS else ROOMS[i % len(ROOMS)]
            stayers.append(Stayer(self, name, tokens[name], room, batch=i % 2 == 0))
        await asyncio.gather(*(s.must_join() for s in stayers))
        stats.count["stayers"] = len(stayers)
        print(f"soak: {len(stayers)} stayers joined; load for {SECONDS:g} s", flush=True)

        started = time.monotonic()
        # Without BDP probing its windows stay at HTTP/2's 64 KiB, so the server's queue for it
        # fills within the run instead of gRPC's buffers taking megabytes first.
        stalled = Member(self, "stalled", tokens["stalled"], FLOOD_ROOM, batch=False, read=False,
                         channel_options=[("grpc.http2.bdp_probe", 0)])
        tasks = [asyncio.create_task(s.chat_until(self.stop, random.Random(self.rng.random())))
                 for s in stayers]
        flooders = [asyncio.create_task(self.flooder(n, tokens[n])) for n in flooder_names]
        tasks += [asyncio.create_task(self.churner(n, tokens[n])) for n in churner_names]
        tasks += [asyncio.create_task(self.pipe_slot(i)) for i in range(PIPE_SLOTS)]
        tasks.append(asyncio.create_task(self.connection_floods()))
        tasks.append(asyncio.create_task(self.bad_token_tries()))
        await asyncio.sleep(SECONDS)  # the load's duration
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
        flooded = await asyncio.wait_for(asyncio.gather(*flooders), 60)
        stats.count["load seconds"] = round(time.monotonic() - started)

        await self.drain(stayers)
        await self.check_stayers(stayers)
        await self.check_flooders(flooded)
        await self.check_stalled(stalled)
        for s in stayers:
            if s.errors:
                stats.problem(f"{s.name} got ERROR events: {s.errors[:3]}")
        await asyncio.wait_for(asyncio.gather(*(s.finish() for s in stayers)), 60)
        for s in stayers:
            if s.status != grpc.StatusCode.OK:
                stats.problem(f"{s.name} ended with {s.status} {s.details!r}, not OK")

        await self.fresh_clients_chat()
        await self.health()
        await self.rss_comes_back()
        sampler.cancel()

    async def health(self):
        async with channel_to(self.address) as channel:
            check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                        request_serializer=lambda b: b,
                                        response_deserializer=lambda b: b)
            reply = await check(b"", timeout=10)  # HealthCheckRequest{service: ""}
            if reply != b"\x08\x01":  # HealthCheckResponse{status: SERVING}
                self.stats.problem(f"health Check answered {reply!r}, not SERVING")

    async def sample_rss(self):
        while True:
            self.rss["peak"] = max(self.rss["peak"], rss_bytes(self.pid))
            await asyncio.sleep(0.5)

    async def rss_comes_back(self):
        start = self.rss["start"]
        if not RSS_CHECKED:
            self.rss["end"] = rss_bytes(self.pid)
            self.rss["peak"] = max(self.rss["peak"], self.rss["end"])
            return
        bound = start + max(RSS_SLACK, start)
        deadline = time.monotonic() + RSS_SETTLE_S
        while True:
            self.rss["end"] = rss_bytes(self.pid)
            self.rss["peak"] = max(self.rss["peak"], self.rss["end"])
            if self.rss["end"] <= bound or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        self.rss["bound"] = bound
        if self.rss["end"] > bound:
            self.stats.problem(f"RSS {self.rss['end'] / MIB:.0f} MiB {RSS_SETTLE_S:g} s after "
                               f"the load, above {bound / MIB:.0f} MiB (start "
                               f"{start / MIB:.0f} MiB)")

    # Churners: connect, chat a little, and go, by choice or abruptly; again and again.
    async def churner(self, name, token):
        rng = random.Random(self.rng.random())
        stats = self.stats
        while not self.stop.is_set():
            room = rng.choice(ROOMS)
            member = Member(self, name, token, room, batch=rng.random() < 0.5)
            stats.count["churn connections"] += 1
            if not await member.wait_joined():
                await member.kill("close")
                if member.status == grpc.StatusCode.ALREADY_EXISTS:
                    # The server had not yet seen the end of this name's last stream.
                    stats.refusals["ALREADY_EXISTS (reconnected before the server saw the "
                                   "cancel)"] += 1
                else:
                    stats.problem(f"{name} did not join #{room}: {member.status} "
                                  f"{member.details!r}")
                await asyncio.sleep(1)
                continue
            for n in range(rng.randint(0, 6)):
                if self.stop.is_set() or member.status is not None:
                    break
                if rng.random() < 0.1:
                    await member.command(f"/join {rng.choice(ROOMS)}")
                else:
                    await member.say(f"{name} says {stats.count['churn connections']}.{n} "
                                     f"{filler(rng)}")
                await asyncio.sleep(rng.uniform(0.1, 1.5))
            how = rng.choice(("cancel", "cancel", "close", "half-close"))
            stats.count["churn " + how] += 1
            if how == "half-close":
                await member.finish()
                if member.status != grpc.StatusCode.OK:
                    stats.problem(f"{name} half-closed and got {member.status}")
            else:
                await member.kill(how)
            await asyncio.sleep(rng.uniform(0.05, 2.0))

    # Flooders: far over the rate limit. They must get `slow down` for the rest and stay.
    async def flooder(self, name, token):
        member = Member(self, name, token, FLOOD_ROOM, batch=True)
        await member.must_join()
        began = time.monotonic()
        ids = []
        while not self.stop.is_set() and member.status is None:
            ids.append(await member.say(f"{name} floods {len(ids)}"))
            await asyncio.sleep(0.01)  # about 100 lines a second, five times the limit
        return member, ids, began

    async def check_flooders(self, flooded):
        ended = time.monotonic()
        for member, ids, began in flooded:
            deadline = time.monotonic() + 15  # for the answers to its last lines
            while member.pending and member.status is None and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            if member.status is not None:
                self.stats.problem(f"{member.name} was disconnected: {member.status} "
                                   f"{member.details!r}")
                continue
            slow = [e for e in member.errors if "slow down" in e]
            if len(slow) != len(member.errors):
                self.stats.problem(f"{member.name} got other errors: "
                                   f"{[e for e in member.errors if 'slow down' not in e][:3]}")
            self.stats.refusals["slow down (flooders)"] += len(slow)
            accepted = len(member.acks)
            if not slow:
                self.stats.problem(f"{member.name} sent {len(ids)} lines and got no 'slow down'")
            if accepted + len(member.errors) != len(ids) or member.pending:
                self.stats.problem(f"{member.name}: of {len(ids)} lines {accepted} acked, "
                                   f"{len(member.errors)} refused, {len(member.pending)} "
                                   "unanswered")
            allowed = BURST + RATE * (ended - began) * 1.1
            if accepted > allowed:
                self.stats.problem(f"{member.name}: {accepted} lines accepted, over the rate "
                                   f"limit's {allowed:.0f}")
            self.stats.count["flooder lines sent"] += len(ids)
            self.stats.count["flooder lines accepted"] += accepted

    # A stalled reader: never reads. It must be cut as a slow consumer, or held, alone.
    async def check_stalled(self, stalled):
        cut = any(kind == chat_pb2.LEAVE and text.startswith("stalled left") and
                  "(disconnected)" in text
                  for s in self.flood_room_stayers for (_, kind, _, text) in s.room_messages)
        if not cut:
            self.stats.count["stalled reader held, not cut"] = 1
            await stalled.kill("cancel")
            return
        code = None
        try:
            async def read_all():
                while await stalled.call.read() != grpc.aio.EOF:
                    pass
                return await stalled.call.code()
            code = await asyncio.wait_for(read_all(), 60)
        except grpc.aio.AioRpcError as e:
            code = e.code()
        except asyncio.TimeoutError:
            code = "still open after 60 s of reading"
        self.stats.refusals["RESOURCE_EXHAUSTED (the stalled reader, cut as too slow)"] += 1
        if code != grpc.StatusCode.RESOURCE_EXHAUSTED:
            self.stats.problem(f"the stalled reader was cut, and ended with {code}")
        await stalled.kill("cancel")

    # Real chat-client processes, killed with SIGKILL while they chat.
    async def pipe_slot(self, slot):
        rng = random.Random(self.rng.random())
        generation = 0
        while not self.stop.is_set():
            generation += 1
            name = f"pipe{slot}g{generation}"
            path = os.path.join(self.tmp.name, name + ".token")
            with open(path, "w") as f:
                f.write(await self.mint(name))
            client = harness.PipeClient(self.address, name, room=rng.choice(ROOMS),
                                        extra=["--token-file", path], send_name=False)
            self.pipes_started.append(client)
            try:
                if not await asyncio.to_thread(client.wait_joined, JOIN_WAIT_S):
                    self.stats.problem(f"chat-client {name} did not join: "
                                       f"{client.err.snapshot()[-3:]}")
                    continue
                for n in range(rng.randint(1, 8)):
                    text = f"{name} pipes {n} {filler(rng)}"
                    self.stats.sent[name].add(text)
                    client.send(text)
                    await asyncio.sleep(rng.uniform(0.2, 1.5))
            finally:
                await asyncio.to_thread(client.kill)  # SIGKILL, by its PID
                self.stats.count["chat-client processes SIGKILLed"] += 1
            await asyncio.sleep(rng.uniform(0.1, 1.0))

    # Waves of raw TCP connections: opened, held a few seconds, closed (half of them by RST).
    async def connection_floods(self):
        rng = random.Random(self.rng.random())
        while not self.stop.is_set():
            answered, closed, undecided, sockets = await asyncio.to_thread(
                flood, self.server.port, CONNECTION_FLOOD, 30.0)
            self.stats.count["flood connections opened"] += len(sockets)
            self.stats.count["flood connections answered"] += answered
            if undecided:
                self.stats.problem(f"{undecided} flood connections neither taken nor closed")
            try:
                await asyncio.wait_for(self.stop.wait(), rng.uniform(3, 8))
            except asyncio.TimeoutError:
                pass
            for i, s in enumerate(sockets):
                if i % 2:
                    # Closed with RST: no TIME_WAIT left behind to use up loopback ports.
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
            try:
                await asyncio.wait_for(self.stop.wait(), rng.uniform(2, 5))
            except asyncio.TimeoutError:
                pass

    # Bad tokens, one every second or so: each must be refused with its status, at once.
    async def bad_token_tries(self):
        rng = random.Random(self.rng.random())
        tries = (
            ("wrong key", self.bad_tokens["wrong key"], None, grpc.StatusCode.UNAUTHENTICATED),
            ("expired", self.bad_tokens["expired"], None, grpc.StatusCode.UNAUTHENTICATED),
            ("malformed", "not.a.token", None, grpc.StatusCode.UNAUTHENTICATED),
            # A valid token, for the name of someone else (a stayer who is connected).
            ("other user's name", self.tokens["victim"], "stay001",
             grpc.StatusCode.PERMISSION_DENIED),
            # The token of a member who is connected, again: the name stays the member's.
            ("connected member's", self.tokens["stay001"], None, grpc.StatusCode.ALREADY_EXISTS),
        )
        while not self.stop.is_set():
            kind, token, as_name, expected = rng.choice(tries)
            member = Member(self, "intruder", token, ROOMS[0], batch=False, metadata_name=as_name)
            try:
                await asyncio.wait_for(asyncio.shield(member.reader), 15)
            except asyncio.TimeoutError:
                pass
            if member.status == expected:
                self.stats.refusals[f"{expected.name} ({kind} token)"] += 1
            else:
                self.stats.problem(f"a {kind} token got {member.status} {member.details!r}, "
                                   f"not {expected.name}")
            await member.kill("close")
            try:
                await asyncio.wait_for(self.stop.wait(), rng.uniform(0.5, 1.5))
            except asyncio.TimeoutError:
                pass

    async def drain(self, stayers):
        """One last line in each room once the load stopped; every stayer must get to it."""
        self.flood_room_stayers = [s for s in stayers if s.room == FLOOD_ROOM]
        last = {}
        for room in (*ROOMS, FLOOD_ROOM):
            speaker = next(s for s in stayers if s.room == room and s.status is None)
            msg_id = await speaker.say(f"{speaker.name} last line of #{room}")
            deadline = time.monotonic() + DRAIN_WAIT_S
            while msg_id not in speaker.acks and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            if msg_id not in speaker.acks:
                self.stats.problem(f"the last line of #{room} was not acked")
                continue
            last[room] = speaker.acks[msg_id]
        deadline = time.monotonic() + DRAIN_WAIT_S
        while time.monotonic() < deadline:
            if all(s.last_seq >= last.get(s.room, 0) or s.status is not None for s in stayers):
                break
            await asyncio.sleep(0.2)
        self.last_seq = last

    async def check_stayers(self, stayers):
        """Exactly once, in order, and what was sent: each stayer's room messages are contiguous
        in seq from its own JOIN to the room's last line, agree with every other member's, and
        hold every line its room's senders saw acknowledged."""
        stats = self.stats
        seen = {}  # (room, seq) -> (kind, user, text), from the first stayer that got it
        acked = collections.defaultdict(list)  # room -> (seq, sender, text) of acked lines
        for (room, seq), (user, text) in stats.acked.items():
            acked[room].append((seq, user, text))
        for s in stayers:
            if s.status is not None:
                stats.problem(f"stayer {s.name} was disconnected: {s.status} {s.details!r}")
                continue
            last = self.last_seq.get(s.room)
            messages = [m for m in s.room_messages if last is None or m[0] <= last]
            seqs = [m[0] for m in messages]
            if last is not None and (not seqs or seqs[-1] != last):
                stats.problem(f"{s.name} never got seq {last}, #{s.room}'s last line "
                              f"(got up to {seqs[-1] if seqs else None})")
            for a, b in zip(seqs, seqs[1:]):
                if b != a + 1:
                    stats.problem(f"{s.name} in #{s.room}: seq {a} then {b}")
                    break
            chats = collections.Counter()
            for seq, kind, user, text in messages:
                stats.count["stayer room messages"] += 1
                if seen.setdefault((s.room, seq), (kind, user, text)) != (kind, user, text):
                    stats.problem(f"#{s.room} seq {seq}: {s.name} got {(kind, user, text)}, "
                                  f"another stayer {seen[(s.room, seq)]}")
                if kind == chat_pb2.CHAT:
                    stats.count["chat lines delivered to stayers"] += 1
                    chats[(user, text)] += 1
                    if text not in stats.sent.get(user, ()):
                        stats.problem(f"{s.name} got {text[:60]!r} from {user}, who never "
                                      "sent it")
            for line, n in chats.items():
                if n > 1:
                    stats.problem(f"{s.name} got {line[1][:60]!r} {n} times")
            for seq, user, text in acked.get(s.room, ()) if seqs else ():
                if seqs[0] <= seq <= seqs[-1] and chats[(user, text)] != 1:
                    stats.problem(f"{s.name} missed #{s.room} seq {seq} from {user}")
                    break

    async def fresh_clients_chat(self):
        """After it all: two new clients meet and talk."""
        one = Member(self, "fresh1", self.tokens["fresh1"], ROOMS[0], batch=False)
        two = Member(self, "fresh2", self.tokens["fresh2"], ROOMS[0], batch=True)
        try:
            await one.must_join()
            await two.must_join()
            msg_id = await one.say("fresh1 hello after the soak")
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not (
                    msg_id in one.acks and
                    any(m[3] == "fresh1 hello after the soak" for m in two.room_messages)):
                await asyncio.sleep(0.05)
            if msg_id not in one.acks or not any(m[3] == "fresh1 hello after the soak"
                                                 for m in two.room_messages):
                self.stats.problem("a fresh client's line did not reach another fresh client")
        finally:
            await one.finish()
            await two.finish()

    def summary(self):
        stats = self.stats
        lines = [f"soak summary (seed {self.seed}, {SECONDS:g} s of load, "
                 f"{CLIENTS} concurrent gRPC clients, sanitizer {SANITIZER or 'none'}):"]
        for key in sorted(stats.count):
            lines.append(f"  {key}: {stats.count[key]}")
        lines.append("  lines acked (all senders): %d" % len(stats.acked))
        for key in sorted(stats.refusals):
            lines.append(f"  refused, {key}: {stats.refusals[key]}")
        for label, values in (("stayers' ack latency", stats.ack_latency),
                              ("flood room stayers' ack latency", stats.flood_room_ack_latency)):
            if values:
                values = sorted(values)
                lines.append(f"  {label}: median {statistics.median(values) * 1000:.0f} ms, "
                             f"p99 {values[int(len(values) * 0.99)] * 1000:.0f} ms, "
                             f"max {values[-1] * 1000:.0f} ms")
        rss = self.rss
        lines.append(f"  server RSS: start {rss['start'] / MIB:.1f} MiB, peak "
                     f"{rss['peak'] / MIB:.1f} MiB, end {rss['end'] / MIB:.1f} MiB "
                     + (f"(bound {rss['bound'] / MIB:.1f} MiB)" if "bound" in rss else
                        f"(not checked under {SANITIZER})"))
        return "\n".join(lines)


class SoakTest(unittest.TestCase):
    def test_server_survives_hostile_load_and_delivers_exactly_once(self):
        seed = int(os.environ.get("CHAT_SOAK_SEED", str(int(time.time()))))
        print(f"soak: seed {seed} (CHAT_SOAK_SEED={seed} repeats its choices)", flush=True)
        soak = Soak(seed)
        try:
            asyncio.run(soak.run())
        finally:
            print(soak.summary(), flush=True)
        stats = soak.stats
        for latency in stats.ack_latency + stats.flood_room_ack_latency:
            if latency > ACK_LATENCY_MAX_S:
                stats.problem(f"a stayer's line took {latency:.1f} s to come back "
                              f"(bound {ACK_LATENCY_MAX_S:g} s)")
                break
        self.assertEqual(stats.problems, [], "\n".join(stats.problems))


if __name__ == "__main__":
    unittest.main()
