#!/usr/bin/env python3
"""Yixian reference department inbox adapter (docs/notifier.md).

Follows one department's ZeroMQ inbox feed, checks every event it receives, and acts
through the HTTP API with the department's key: it accepts (签收) each new assignment
and, when asked to, resolves it (办结) with a note. This is the template for plugging a
department's own system into Yixian.

    scripts/dept_adapter.py --feed tcp://127.0.0.1:5555 --api http://127.0.0.1:8080 \\
        --department gl-cgj --key demo-dept-gl-cgj [--resolve "已清掏疏通"]

The feed is a ZeroMQ PUB socket (notifier.feed_bind). Each message is two frames:
  1. the topic, ASCII "dept.<department id>"
  2. a yixian.v1.Envelope (protobuf, proto/yixian/v1/bus.proto) whose body is `event`
The feed has no memory: events published while the adapter is away are not repeated,
so at start-up the adapter reads its pending inbox over HTTP (GET
/v1/departments/{id}/inbox?state=pending) and accepts what is waiting there too.
Events may arrive more than once; the adapter drops repeats by event_id, and its
actions carry an Idempotency-Key so the dispatcher applies each at most once.

Needs Debian's python3-zmq, python3-protobuf and python3-requests, and protoc (the
Python classes are generated from the .proto into a temporary folder at start-up).
Prints one JSON line per action taken on stdout; logs (logfmt) go to stderr.
"""
import argparse
import atexit
import collections
import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CASE_ID = re.compile(r"^\d{6}-\d{8}-\d{6}$")
EVENT_ID = re.compile(r"^[0-9A-Za-z_-]{1,39}$")
PLAIN = re.compile(r'[\s="]')   # a logfmt value with these needs quotes
EVENT_TYPES = {
    "DISPATCHED", "ACCEPTED", "RETURNED", "RESOLVED", "WHISTLE", "ESCALATED", "REMINDER",
    "EXTENSION_REQUESTED", "EXTENSION_APPROVED", "EXTENSION_DENIED", "VERIFIED", "REWORK",
    "CLOSED", "REOPENED", "SUSPENDED", "REJECTED", "MERGED", "ASSIST_REQUESTED",
}
# Events that hand this department work to acknowledge.
ACCEPT_ON = {"DISPATCHED", "ASSIST_REQUESTED", "WHISTLE", "REOPENED"}
# Events after which work is to be finished again.
RESOLVE_AGAIN_ON = {"REWORK"}


def log(event, **fields):
    """One logfmt line on stderr."""
    parts = [f"event={event}"]
    for k, v in fields.items():
        v = str(v)
        quoted = json.dumps(v, ensure_ascii=False) if PLAIN.search(v) or not v else v
        parts.append(f"{k}={quoted}")
    print("svc=dept_adapter " + " ".join(parts), file=sys.stderr, flush=True)


def load_schema(proto=None):
    """Generates the Python classes of bus.proto with protoc in a temporary folder and
    returns the imported module (bus_pb2)."""
    proto = proto or os.path.join(ROOT, "proto", "yixian", "v1", "bus.proto")
    root = os.path.dirname(os.path.dirname(os.path.dirname(proto)))
    out = tempfile.mkdtemp(prefix="yx-proto-")
    atexit.register(shutil.rmtree, out, True)
    subprocess.run(["protoc", f"--proto_path={root}", f"--python_out={out}", proto], check=True)
    rel = os.path.relpath(proto, root)[:-len(".proto")].replace(os.sep, ".")
    sys.path.insert(0, out)
    try:
        return importlib.import_module(rel + "_pb2")
    finally:
        sys.path.remove(out)


def verify(bus_pb2, department, topic, payload):
    """Decodes and checks one feed message. Returns (event, None) or (None, reason)."""
    if topic != f"dept.{department}".encode():
        return None, "wrong_topic"          # ZeroMQ matches topics by prefix: check exactly
    env = bus_pb2.Envelope()
    try:
        env.ParseFromString(payload)
    except Exception:  # noqa: BLE001 - any decoding failure means the same: drop it
        return None, "undecodable"
    if env.WhichOneof("body") != "event":
        return None, "not_an_event"
    ev = env.event
    if not EVENT_ID.match(ev.event_id):
        return None, "bad_event_id"
    if not CASE_ID.match(ev.case_id) or ev.case_id[:6] != ev.district:
        return None, "bad_case_id"
    if ev.type not in EVENT_TYPES:
        return None, "unknown_type"
    if department not in ev.departments:
        return None, "not_for_us"
    return ev, None


class Adapter:
    """One department's adapter: the API client and the decisions."""

    def __init__(self, api, department, key, resolve_note=None, timeout=10.0):
        import requests  # imported here so --help works without it
        self.requests = requests
        self.api = api.rstrip("/")
        self.department = department
        self.key = key
        self.resolve_note = resolve_note
        self.timeout = timeout
        self.seen = collections.OrderedDict()   # event ids handled, oldest first

    def _post_action(self, case_id, body, idem):
        """POSTs one action; retries what is worth retrying. Returns the status code."""
        url = f"{self.api}/v1/cases/{case_id}/actions"
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json",
                   "Idempotency-Key": idem}
        for attempt in range(5):
            try:
                r = self.requests.post(url, data=json.dumps(body, ensure_ascii=False).encode(),
                                       headers=headers, timeout=self.timeout)
            except self.requests.RequestException as e:
                log("api_unreachable", case=case_id, error=type(e).__name__, attempt=attempt + 1)
                time.sleep(min(0.2 * 2 ** attempt, 3))
                continue
            if r.status_code in (429, 503):
                time.sleep(float(r.headers.get("Retry-After", "1") or 1))
                continue
            return r.status_code
        return 0

    def act(self, case_id, action, ref, note=None):
        """Takes one action and prints what happened as a JSON line."""
        body = {"action": action}
        if note:
            body["note"] = note
        status = self._post_action(case_id, body, f"{ref}:{action}"[:64])
        # 409: the case moved on (already accepted, closed…): nothing to do.
        log("action", case=case_id, action=action, status=status)
        print(json.dumps({"case_id": case_id, "action": action, "status": status, "ref": ref}), flush=True)
        return status

    def handle(self, ev):
        """Acts on one verified event (each event id once)."""
        if ev.event_id in self.seen:
            return
        self.seen[ev.event_id] = True
        while len(self.seen) > 10000:
            self.seen.popitem(last=False)
        log("received", case=ev.case_id, type=ev.type, event_id=ev.event_id)
        if ev.type in ACCEPT_ON:
            if self.act(ev.case_id, "accept", ev.event_id) == 200 and self.resolve_note:
                self.act(ev.case_id, "resolve", ev.event_id, self.resolve_note)
        elif ev.type in RESOLVE_AGAIN_ON and self.resolve_note:
            self.act(ev.case_id, "resolve", ev.event_id, self.resolve_note)

    def backfill(self):
        """Accepts what is already pending in the inbox (published while away)."""
        try:
            r = self.requests.get(f"{self.api}/v1/departments/{self.department}/inbox",
                                  params={"state": "pending"}, timeout=self.timeout,
                                  headers={"Authorization": f"Bearer {self.key}"})
        except self.requests.RequestException as e:
            log("backfill_failed", error=type(e).__name__)
            return
        if r.status_code != 200:
            log("backfill_failed", status=r.status_code)
            return
        for item in r.json().get("items", []):
            cid = item.get("id", "")
            if CASE_ID.match(cid):
                if self.act(cid, "accept", f"inbox-{cid}") == 200 and self.resolve_note:
                    self.act(cid, "resolve", f"inbox-{cid}", self.resolve_note)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--feed", required=True, help="notifier feed endpoint, e.g. tcp://127.0.0.1:5555")
    p.add_argument("--api", required=True, help="intake base URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--department", required=True, help="department id, e.g. gl-cgj")
    p.add_argument("--key", default=os.environ.get("YX_DEPT_KEY"), help="the department's API key (or $YX_DEPT_KEY)")
    p.add_argument("--resolve", metavar="NOTE", help="resolve each accepted case with this note")
    p.add_argument("--count", type=int, default=0, help="exit after this many events were handled")
    p.add_argument("--no-backfill", action="store_true", help="do not read the pending inbox at start-up")
    p.add_argument("--proto", help="path of bus.proto (default: the repository's)")
    args = p.parse_args(argv)
    if not args.key:
        p.error("--key or $YX_DEPT_KEY is required")

    import zmq
    bus_pb2 = load_schema(args.proto)
    adapter = Adapter(args.api, args.department, args.key, args.resolve)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, f"dept.{args.department}".encode())
    sub.connect(args.feed)
    log("started", feed=args.feed, department=args.department)
    if not args.no_backfill:
        adapter.backfill()
    handled = 0
    while not stop and (not args.count or handled < args.count):
        if not sub.poll(200):
            continue
        frames = sub.recv_multipart()
        if len(frames) != 2:
            log("dropped", reason="unexpected_framing", frames=len(frames))
            continue
        ev, why = verify(bus_pb2, args.department, frames[0], frames[1])
        if why:
            log("dropped", reason=why)
            continue
        adapter.handle(ev)
        handled += 1
    sub.close()
    ctx.term()
    log("stopped", handled=handled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
