"""Notifier throughput: signed webhook deliveries per second to a local receiver.

    /usr/bin/python3 tests/bench/bench_notifier.py [BUILD] [--events N]

Runs a private redis-server and yx-notifier of BUILD (default build) on free ports.
The bench plays the dispatcher: each event is stored in Redis exactly as the dispatcher
stores it (yx:{D}:ev:<id> + yx:{D}:q:notify) and published on the dispatcher's PUB
address. Every event goes to one department with a webhook (one HTTP POST and one feed
message each). The receiver is a small asyncio HTTP/1.1 server (keep-alive) in this
process that checks nothing but counts delivery ids.

Two figures:
  fast path  events published while the notifier runs: from the first publish until
             every webhook delivery is recorded in Redis (deliveries_ok:webhook)
  backlog    the same number of events waiting in q:notify when the notifier starts
             (the recovery case): from its start until all are recorded
"""
import asyncio
import multiprocessing
import os
import re
import secrets
import sys
import tempfile
import time

import redis
import zmq

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from yxsys import System, wait_for  # noqa: E402
import dept_adapter  # noqa: E402

D = "350102"
DEPT = "gl-cgj"


class Receiver:
    """A minimal HTTP/1.1 server answering 200 to every POST, in its own process (so
    the bench's own work does not slow it down)."""

    def __init__(self):
        self.parent, child = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(target=Receiver._main, args=(child,), daemon=True)
        self.proc.start()
        self.port = self.parent.recv()

    @staticmethod
    def _main(conn):
        ids = set()
        count = [0]

        async def serve(reader, writer):
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length, delivery = 0, b""
                    for line in head.split(b"\r\n"):
                        name, _, value = line.partition(b":")
                        name = name.strip().lower()
                        if name == b"content-length":
                            length = int(value)
                        elif name == b"x-yixian-delivery":
                            delivery = value.strip()
                    await reader.readexactly(length)
                    count[0] += 1
                    ids.add(delivery)
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        async def run():
            server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=512)
            conn.send(server.sockets[0].getsockname()[1])
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, conn.recv)      # any message: report and stop
            conn.send((count[0], len(ids)))
            server.close()

        asyncio.run(run())

    def stop(self):
        """Stops the server; returns (requests, distinct delivery ids)."""
        self.parent.send("stop")
        counts = self.parent.recv()
        self.proc.join(5)
        return counts


def make_events(pb, n):
    """n serialized Envelopes (DISPATCHED to DEPT) with their ids."""
    out = []
    now = int(time.time() * 1000)
    for i in range(n):
        env = pb.Envelope()
        e = env.event
        e.event_id = secrets.token_hex(16)
        e.case_id = f"{D}-20261123-{i % 10 ** 6:06d}"
        e.version, e.at_ms, e.type, e.state, e.prev_state = 3, now, "DISPATCHED", "DISPATCHED", "REGISTERED"
        e.departments.append(DEPT)
        e.category, e.district, e.actor, e.source = "0102", D, "system", "grid"
        out.append((e.event_id, env.SerializeToString()))
    return out


def store(r, events):
    p = r.pipeline(transaction=False)
    for eid, data in events:
        p.set(f"yx:{{{D}}}:ev:{eid}", data)
        p.zadd(f"yx:{{{D}}}:q:notify", {eid: int(time.time() * 1000)})
    p.execute()


def delivered(r):
    return int(r.hget(f"yx:{{{D}}}:stats", "deliveries_ok:webhook") or 0)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    build = args[0] if args else "build"
    n = int(sys.argv[sys.argv.index("--events") + 1]) if "--events" in sys.argv else 5000
    pb = dept_adapter.load_schema()
    rx = Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(ROOT, "config", "yixian.cfg"), encoding="utf-8") as f:
            has_include = re.search(r'^@include\s+"notify\.cfg"', f.read(), re.M) is not None
        s = System(tmp, bin_dir=os.path.join(ROOT, build, "bin"),
                   settings={"log.level": "warn", "sweep.interval_ms": 200, "sweep.stale_ms": 2000,
                             "notifier.max_inflight": 256, "notifier.per_endpoint_max": 32},
                   extra_cfg="" if has_include else '@include "notify.cfg"')
        notify = os.path.join(tmp, "notify.cfg")
        if os.path.lexists(notify):
            os.unlink(notify)          # never write through a link into the repository
        with open(notify, "w", encoding="utf-8") as f:
            f.write(f'notify = {{ departments = ( {{ id = "{DEPT}"; '
                    f'webhook = "http://127.0.0.1:{rx.port}/hook"; }} ); }};\n')
        s.start_all(["notifier"])
        r = redis.Redis(port=s.ports["redis"])
        try:
            pub = zmq.Context.instance().socket(zmq.XPUB)
            pub.setsockopt(zmq.LINGER, 0)
            pub.setsockopt(zmq.SNDHWM, 0)
            pub.bind(f"tcp://127.0.0.1:{s.ports['events']}")
            assert pub.poll(15000) and pub.recv() == b"\x01case"
            events = make_events(pb, n)
            t0 = time.monotonic()
            for i in range(0, n, 500):
                chunk = events[i:i + 500]
                store(r, chunk)
                for _, data in chunk:
                    pub.send_multipart([b"case", data])
            wait_for(lambda: delivered(r) >= n, timeout=600, interval=0.01, what="fast-path deliveries")
            fast = time.monotonic() - t0
            pub.close()

            s.stop("notifier")
            base = delivered(r)
            store(r, make_events(pb, n))
            t0 = time.monotonic()
            s.start("notifier")
            wait_for(lambda: delivered(r) >= base + n, timeout=600, interval=0.01, what="backlog deliveries")
            backlog = time.monotonic() - t0
        finally:
            s.stop_all()
            requests_seen, distinct = rx.stop()
    assert distinct == 2 * n, f"{distinct} distinct deliveries for {2 * n} events"
    print(f"notifier fast path: {n} events → {n} signed webhook POSTs + {n} feed messages in {fast:.2f}s: "
          f"{n / fast:.0f} webhook deliveries/s")
    print(f"notifier backlog:   {n} events waiting in q:notify at start-up drained in {backlog:.2f}s: "
          f"{n / backlog:.0f} webhook deliveries/s (start-up included)")
    print(f"receiver saw {requests_seen} POSTs, {distinct} distinct delivery ids")


if __name__ == "__main__":
    main()
