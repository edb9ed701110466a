"""The notifier against real local receivers (docs/notifier.md): signed webhooks
delivered once, retries and dead letters, redelivery, SIGKILL mid-delivery, the ZeroMQ
inbox feed, isolation from a slow endpoint, the gateway's Chinese messages, the
hotline callback, garbage events, a bad notify section, and the reference department
adapter end to end.

Most tests run only redis-server and yx-notifier and play the dispatcher themselves:
an event is written to Redis as the dispatcher writes it (yx:{D}:ev:<id> plus
yx:{D}:q:notify) and, for the fast path, published on the dispatcher's PUB address."""
import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
import requests
import zmq

from yxsys import ROOT, wait_for

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import dept_adapter  # noqa: E402

PB = dept_adapter.load_schema()
SECRET = "notifier-test-secret"
D = "350102"
SEWAGE = "鼓楼区水部街道某小区多个井盖冒污水，物业清掏后仍倒灌"


class Receiver:
    """A local HTTP endpoint in a thread. Records every POST (headers, body, status
    sent) and answers with .status after .delay seconds."""

    def __init__(self, status=200, delay=0.0):
        self.status, self.delay = status, delay
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                rec = {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                       "at": time.monotonic(), "status": None}
                with outer.lock:
                    outer.requests.append(rec)
                time.sleep(outer.delay)
                status = outer.status
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    rec["status"] = status
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def ok_ids(self):
        """Delivery ids answered with 2xx."""
        return {r["headers"]["x-yixian-delivery"] for r in self.snapshot() if r["status"] and r["status"] < 300}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made = []

    def make(**kw):
        made.append(Receiver(**kw))
        return made[-1]

    yield make
    for r in made:
        r.close()


def notify_cfg(departments=(), sources=(), gateway_url="", extra=""):
    """A notify section: departments = [(id, webhook, extra text)], sources =
    [(source, url, events)]."""
    deps = ",\n".join(f'    {{ id = "{d}"; webhook = "{u}"; {x} }}' for d, u, x in departments)
    srcs = ",\n".join(f'    {{ source = "{s}"; url = "{u}"; events = {json.dumps(e)}; }}' for s, u, e in sources)
    with open(os.path.join(ROOT, "config", "notify.cfg"), encoding="utf-8") as f:
        shipped = f.read()
    templates = re.search(r"  templates = \{.*?\n  \};\n", shipped, re.S).group(0)
    return (f'notify = {{\n  gateway = {{ url = "{gateway_url}"; }};\n{templates}'
            f"  departments = (\n{deps}\n  );\n  sources = (\n{srcs}\n  );\n{extra}}};\n")


def with_notify_cfg(make_system, cfg_text, settings=None):
    """A system (not started) whose notify section is cfg_text, written as notify.cfg
    next to the run's yixian.cfg, which includes it (the shipped file's include, or
    one appended here while the shipped file has none)."""
    with open(os.path.join(ROOT, "config", "yixian.cfg"), encoding="utf-8") as f:
        has_include = re.search(r'^@include\s+"notify\.cfg"', f.read(), re.M) is not None
    s = make_system(settings=settings, extra_cfg="" if has_include else '@include "notify.cfg"', start=False)
    path = os.path.join(s.dir, "notify.cfg")
    if os.path.lexists(path):
        os.unlink(path)                # never write through a link into the repository
    with open(path, "w", encoding="utf-8") as f:
        f.write(cfg_text)
    return s


@pytest.fixture
def start(make_system):
    """Starts a system whose notify section is cfg_text."""

    def starter(cfg_text, services=("notifier",), settings=None):
        merged = {"notifier.webhook_secret": SECRET}
        merged.update(settings or {})
        s = with_notify_cfg(make_system, cfg_text, merged)
        s.start_all(list(services))
        s.bin_redis = redis.Redis(port=s.ports["redis"])
        return s

    return starter


def make_event(etype, departments, source="hotline", case_id=None, note=""):
    ev = PB.Envelope()
    e = ev.event
    e.event_id = secrets.token_hex(16)
    e.case_id = case_id or f"{D}-20261123-{secrets.randbelow(10 ** 6):06d}"
    e.version, e.at_ms, e.type = 3, int(time.time() * 1000), etype
    e.state, e.prev_state = "DISPATCHED", "REGISTERED"
    e.departments.extend(departments)
    e.category, e.district, e.actor, e.note, e.source = "0102", D, "system", note, source
    return ev


def inject(s, etype, departments, pub=None, **kw):
    """Stores an event as the dispatcher does (and publishes it when pub is given)."""
    ev = make_event(etype, departments, **kw)
    data = ev.SerializeToString()
    p = s.bin_redis.pipeline(transaction=True)
    p.set(f"yx:{{{D}}}:ev:{ev.event.event_id}", data)
    p.zadd(f"yx:{{{D}}}:q:notify", {ev.event.event_id: ev.event.at_ms})
    p.execute()
    if pub is not None:
        pub.send_multipart([b"case", data])
    return ev.event


def delivery_id(event_id, recipient):
    """The documented delivery id: BLAKE2b-128 keyed with "yixian-delivery"."""
    return hashlib.blake2b(f"{event_id}/{recipient}".encode(), digest_size=16, key=b"yixian-delivery").hexdigest()


def dlv(s, event_id):
    return {k.decode(): json.loads(v) for k, v in s.bin_redis.hgetall(f"yx:{{{D}}}:dlv:{event_id}").items()}


def stats(s):
    return {k: int(v) for k, v in s.redis.hgetall(f"yx:{{{D}}}:stats").items()}


def dispatcher_pub(s):
    """An XPUB in the dispatcher's place; returns once the notifier has subscribed."""
    ctx = zmq.Context.instance()
    pub = ctx.socket(zmq.XPUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.bind(f"tcp://127.0.0.1:{s.ports['events']}")
    assert pub.poll(15000), "the notifier never subscribed to the events"
    assert pub.recv() == b"\x01case"
    return pub


def test_signed_webhook_each_event_once(start, receivers):
    hook = receivers()
    s = start(notify_cfg(departments=[("gl-cgj", hook.url, "")]))
    events = [inject(s, "DISPATCHED", ["gl-cgj", "fz-water"]) for _ in range(20)]
    want = {delivery_id(e.event_id, "webhook:gl-cgj") for e in events}
    wait_for(lambda: hook.ok_ids() >= want, what="20 webhook deliveries")
    wait_for(lambda: s.redis.zcard(f"yx:{{{D}}}:q:notify") == 0, what="q:notify settled")
    time.sleep(1.0)   # several sweep intervals: nothing may be sent again
    got = hook.snapshot()
    ids = [r["headers"]["x-yixian-delivery"] for r in got]
    assert sorted(ids) == sorted(want), "each event exactly once, by delivery id"
    by_id = {e.event_id: e for e in events}
    for r in got:
        h = r["headers"]
        ts = h["x-yixian-timestamp"]
        assert abs(int(ts) - time.time()) < 60
        mac = hmac.new(SECRET.encode(), ts.encode() + b"." + r["body"], hashlib.sha256).hexdigest()
        assert h["x-yixian-signature"] == "sha256=" + mac
        assert h["content-type"] == "application/json" and h["x-yixian-event"] == "DISPATCHED"
        body = json.loads(r["body"])
        e = by_id[body["event_id"]]
        assert body["delivery_id"] == h["x-yixian-delivery"] == delivery_id(e.event_id, "webhook:gl-cgj")
        assert body["recipient"] == "webhook:gl-cgj" and body["channel"] == "webhook"
        assert (body["case_id"], body["version"], body["type"], body["district"]) == (e.case_id, 3, "DISPATCHED", D)
        assert body["departments"] == ["gl-cgj", "fz-water"] and body["source"] == "hotline"
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$", body["at"])
    st = stats(s)
    assert st["deliveries_ok:webhook"] == 20 and st["deliveries_ok:feed"] == 40
    assert st["deliveries_ok"] == 60 and st.get("deliveries_failed", 0) == 0
    e = events[0]
    assert {k: v["state"] for k, v in dlv(s, e.event_id).items()} == \
        {"feed:gl-cgj": "ok", "feed:fz-water": "ok", "webhook:gl-cgj": "ok"}
    assert 0 < s.redis.pttl(f"yx:{{{D}}}:ev:{e.event_id}") <= 7 * 86400 * 1000   # kept 7 days, then gone


def test_failing_receiver_retries_dead_letter_and_redelivery(start, receivers):
    hook = receivers(status=500)
    s = start(notify_cfg(departments=[("gl-cgj", hook.url, "")]), services=("notifier", "metrics"))
    e = inject(s, "WHISTLE", ["gl-cgj"])
    dl_id = f"{e.event_id}/webhook:gl-cgj"
    dead = wait_for(lambda: s.redis.hget(f"yx:{{{D}}}:deadletters", dl_id), what="a dead letter")
    got = hook.snapshot()
    assert len(got) == 3                                            # notifier.max_attempts
    assert {r["headers"]["x-yixian-delivery"] for r in got} == {delivery_id(e.event_id, "webhook:gl-cgj")}
    assert [r["headers"]["x-yixian-attempt"] for r in got] == ["1", "2", "3"]
    gaps = [b["at"] - a["at"] for a, b in zip(got, got[1:])]
    assert all(g >= 0.04 for g in gaps), gaps                      # backoff from 100 ms, jittered
    rec = json.loads(dead)
    assert rec["reason"] == "http 500" and rec["attempts"] == 3 and rec["recipient"] == "webhook:gl-cgj"
    assert rec["case_id"] == e.case_id and rec["payload"]["event_id"] == e.event_id
    assert rec["endpoint"].startswith("http://127.0.0.1:")
    assert s.redis.zscore(f"yx:{{{D}}}:deadletters:at", dl_id) is not None
    assert dlv(s, e.event_id)["webhook:gl-cgj"]["state"] == "dead"
    wait_for(lambda: s.redis.zcard(f"yx:{{{D}}}:q:notify") == 0, what="event settled")
    assert s.redis.pttl(f"yx:{{{D}}}:ev:{e.event_id}") == -1        # kept while a dead letter needs it
    st = stats(s)
    assert st["deliveries_failed"] == 3 and st["deadletters"] == 1 and st["deadletters:webhook"] == 1

    def metric(name):
        text = requests.get(s.metrics_url("/metrics"), timeout=5).text
        m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
        return m and float(m.group(1))
    wait_for(lambda: metric(f'yixian_deadletters{{district="{D}"}}') == 1, what="dead letter on /metrics")

    # The operator redelivers it once the receiver is fixed: same delivery id.
    hook.status = 200
    s.redis.rpush(f"yx:{{{D}}}:deadletters:requests", f"redeliver {dl_id}")
    wait_for(lambda: hook.ok_ids() == {delivery_id(e.event_id, "webhook:gl-cgj")}, what="redelivery")
    wait_for(lambda: dlv(s, e.event_id)["webhook:gl-cgj"]["state"] == "ok", what="delivered after redelivery")
    assert not s.redis.hexists(f"yx:{{{D}}}:deadletters", dl_id)
    wait_for(lambda: s.redis.pttl(f"yx:{{{D}}}:ev:{e.event_id}") > 0, what="TTL once settled")
    assert stats(s)["redelivered"] == 1
    wait_for(lambda: metric(f'yixian_deadletters{{district="{D}"}}') == 0, what="no dead letter on /metrics")


def test_sigkill_mid_delivery_loses_nothing(start, receivers):
    hook = receivers(delay=1.0)
    s = start(notify_cfg(departments=[("gl-cgj", hook.url, "")]))
    events = [inject(s, "DISPATCHED", ["gl-cgj"]) for _ in range(12)]
    wait_for(lambda: len(hook.snapshot()) >= 4, what="deliveries in flight")
    assert any(r["status"] is None for r in hook.snapshot()), "requests are open"
    s.kill("notifier")                    # SIGKILL while requests are open
    s.start("notifier")
    want = {delivery_id(e.event_id, "webhook:gl-cgj") for e in events}
    wait_for(lambda: hook.ok_ids() >= want, timeout=40, what="every event delivered after the restart")
    wait_for(lambda: all(dlv(s, e.event_id)["webhook:gl-cgj"]["state"] == "ok" for e in events),
             what="every delivery recorded")
    wait_for(lambda: s.redis.zcard(f"yx:{{{D}}}:q:notify") == 0 and s.redis.zcard(f"yx:{{{D}}}:q:retry") == 0,
             what="queues empty")
    assert not s.redis.hlen(f"yx:{{{D}}}:deadletters")


def test_feed_publishes_on_department_topic(start):
    s = start(notify_cfg())
    ctx = zmq.Context.instance()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"dept.st-350102001")
    sub.connect(f"tcp://127.0.0.1:{s.ports['feed']}")
    pub = dispatcher_pub(s)
    try:
        def one():
            e = inject(s, "DISPATCHED", ["st-350102001", "gl-cgj"], pub=pub)
            if not sub.poll(2000):
                return None                      # the subscription was not through yet
            return e, sub.recv_multipart()
        e, frames = wait_for(one, timeout=30, what="a DISPATCHED event on dept.st-350102001")
        while PB.Envelope.FromString(frames[1]).event.event_id != e.event_id:   # earlier tries
            frames = sub.recv_multipart()
        assert frames[0] == b"dept.st-350102001" and len(frames) == 2
        ev, why = dept_adapter.verify(PB, "st-350102001", frames[0], frames[1])
        assert why is None and ev.type == "DISPATCHED" and ev.case_id == e.case_id
        assert list(ev.departments) == ["st-350102001", "gl-cgj"]
        assert dept_adapter.verify(PB, "st-350102", frames[0], frames[1])[1] == "wrong_topic"
        assert dept_adapter.verify(PB, "st-350102001", frames[0], b"\xff\x01junk")[1] == "undecodable"
        wait_for(lambda: dlv(s, e.event_id).get("feed:st-350102001", {}).get("state") == "ok", what="feed recorded")
    finally:
        sub.close()
        pub.close()


def test_slow_endpoint_never_delays_others(start, receivers):
    slow, fast = receivers(delay=4.0), receivers()
    s = start(notify_cfg(departments=[("gl-cgj", slow.url, ""), ("gl-zjj", fast.url, "")]),
              settings={"notifier.per_endpoint_max": 2, "notifier.http_timeout_ms": 3000})
    pub = dispatcher_pub(s)
    try:
        time.sleep(0.3)
        for _ in range(30):
            inject(s, "DISPATCHED", ["gl-cgj"], pub=pub)
        sent = time.monotonic()
        fast_events = [inject(s, "DISPATCHED", ["gl-zjj"], pub=pub) for _ in range(5)]
        want = {delivery_id(e.event_id, "webhook:gl-zjj") for e in fast_events}
        wait_for(lambda: fast.ok_ids() >= want, timeout=10, what="deliveries to the healthy endpoint")
        latest = max(r["at"] for r in fast.snapshot())
        assert latest - sent < 1.0, f"the healthy endpoint waited {latest - sent:.2f}s behind the slow one"
        assert len(slow.snapshot()) <= 2                     # per_endpoint_max requests at a time
    finally:
        pub.close()


def test_gateway_message_and_hotline_callback(start, receivers):
    gw, hotline = receivers(), receivers()
    s = start(notify_cfg(departments=[("gl-cgj", "", 'gateway_to = [ "0591-87000000" ];')],
                         sources=[("hotline", hotline.url, ["DISPATCHED", "RESOLVED", "CLOSED", "REOPENED"])],
                         gateway_url=gw.url))
    cid = f"{D}-20261123-000777"
    ack_ms = int(datetime(2026, 11, 23, 10, 30, tzinfo=timezone(timedelta(hours=8))).timestamp() * 1000)
    doc = {"id": cid, "source": "hotline", "source_ref": "12345-20261123-0042",
           "assignments": [{"department": "gl-cgj", "role": "lead", "state": "PENDING",
                            "ack_due_ms": ack_ms, "resolve_due_ms": ack_ms + 4 * 3600 * 1000}]}
    s.redis.hset(f"yx:{{{D}}}:case:{cid}", mapping={"doc": json.dumps(doc), "state": "DISPATCHED", "version": 3})
    e = inject(s, "DISPATCHED", ["gl-cgj"], case_id=cid)
    inject(s, "ACCEPTED", ["gl-cgj"], case_id=cid)     # neither the gateway's nor the hotline's
    wait_for(lambda: len(gw.ok_ids()) == 1 and len(hotline.ok_ids()) == 1, what="gateway and callback")
    msg = json.loads(gw.snapshot()[0]["body"])
    assert msg["text"] == f"【鼓楼区一线处置】您单位有新派遣案件{cid}（污水井盖），请于11月23日10:30前签收。"
    assert msg["to"] == ["0591-87000000"] and msg["department"] == "gl-cgj" and msg["case_id"] == cid
    assert msg["delivery_id"] == delivery_id(e.event_id, "gateway:gl-cgj")
    cb = json.loads(hotline.snapshot()[0]["body"])
    assert cb["type"] == "DISPATCHED" and cb["source_ref"] == "12345-20261123-0042"
    assert cb["recipient"] == "callback:hotline"
    time.sleep(1.0)
    assert len(gw.snapshot()) == 1 and len(hotline.snapshot()) == 1
    st = stats(s)
    assert st["deliveries_ok:gateway"] == 1 and st["deliveries_ok:callback"] == 1


def test_garbage_events_dead_lettered_without_crash(start, receivers):
    hook = receivers()
    s = start(notify_cfg(departments=[("gl-cgj", hook.url, "")]))
    q = f"yx:{{{D}}}:q:notify"
    s.bin_redis.set(f"yx:{{{D}}}:ev:badbytes01", b"\xff\xfe not protobuf \x00\x01")
    s.bin_redis.set(f"yx:{{{D}}}:ev:wrongbody01", PB.Envelope(reported=PB.CaseReported(case_id="x")).SerializeToString())
    now = int(time.time() * 1000)
    s.redis.zadd(q, {"badbytes01": now, "wrongbody01": now, "missing01": now, "not an/id": now})
    dead = f"yx:{{{D}}}:deadletters"
    wait_for(lambda: s.redis.hlen(dead) == 3 and s.redis.zcard(q) == 0, what="garbage dead-lettered")
    reasons = {k: json.loads(v)["reason"] for k, v in s.redis.hgetall(dead).items()}
    assert reasons == {"badbytes01/event": "undecodable", "wrongbody01/event": "not_an_event",
                       "missing01/event": "missing"}
    assert "queue_member_dropped" in s.log("notifier") and "event_dropped" in s.log("notifier")
    assert s.procs["notifier"].poll() is None
    e = inject(s, "DISPATCHED", ["gl-cgj"])          # and it still works
    wait_for(lambda: hook.ok_ids() == {delivery_id(e.event_id, "webhook:gl-cgj")}, what="a good event after")
    s.redis.rpush(f"yx:{{{D}}}:deadletters:requests", "discard missing01/event", "frobnicate x")
    wait_for(lambda: s.redis.hlen(dead) == 2, what="discarded")


def test_redis_outage_recovers(start, receivers):
    hook = receivers()
    s = start(notify_cfg(departments=[("gl-cgj", hook.url, "")]))
    s.stop_redis()
    time.sleep(0.8)
    assert s.procs["notifier"].poll() is None
    s.start_redis()                                   # same folder: the AOF brings the data back
    s.bin_redis = redis.Redis(port=s.ports["redis"])
    e = inject(s, "DISPATCHED", ["gl-cgj"])
    wait_for(lambda: hook.ok_ids() == {delivery_id(e.event_id, "webhook:gl-cgj")}, what="delivery after the outage")


def test_bad_notify_section_fails_with_file_line_key(make_system):
    s = with_notify_cfg(make_system, 'notify = {\n  webhook_events = [ "DISPATCHED", "NOPE" ];\n};\n')
    cmd = [os.path.join(s.bin, "yx-notifier"), "-c", s.cfg_path] + s.overrides()
    out = subprocess.run(cmd + ["--check"], capture_output=True, text=True, timeout=20)
    assert out.returncode == 2
    assert re.search(r'notify\.cfg:2: notify\.webhook_events: unknown event type "NOPE"', out.stderr), out.stderr
    started = subprocess.run(cmd, capture_output=True, text=True, timeout=20)   # and at start-up
    assert started.returncode == 2 and "notify.webhook_events" in started.stderr


def test_adapter_accepts_and_resolves_end_to_end(start, receivers):
    hotline = receivers()
    s = start(notify_cfg(sources=[("hotline", hotline.url, ["DISPATCHED", "RESOLVED", "CLOSED", "REOPENED"])]),
              services=("intake", "classifier", "dispatcher", "notifier", "metrics"),
              settings={"classifier.model": ""})     # keyword rules place sewage; no trained model needed
    dept = "fz-water"                                 # the lead for sewage (0102) in the sample city
    adapter = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "scripts", "dept_adapter.py"), "--feed",
         f"tcp://127.0.0.1:{s.ports['feed']}", "--api", s.url(""), "--department", dept,
         "--key", f"demo-dept-{dept}", "--resolve", "已清掏疏通，恢复正常"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)                              # let the adapter subscribe (the feed has no memory)
        r = s.report(description=SEWAGE, source_ref="12345-20261123-0099")
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        case = s.wait_state(cid, "RESOLVED", timeout=30)
        lead = next(a for a in case["assignments"] if a["role"] == "lead")
        assert lead["department"] == dept and lead["state"] == "RESOLVED"

        def callbacks():
            return {json.loads(x["body"])["type"] for x in hotline.snapshot() if json.loads(x["body"])["case_id"] == cid}
        wait_for(lambda: callbacks() >= {"DISPATCHED", "RESOLVED"}, what="hotline callbacks")
        assert all(json.loads(x["body"])["source_ref"] == "12345-20261123-0099" for x in hotline.snapshot())
    finally:
        adapter.terminate()
        out, err = adapter.communicate(timeout=10)
    actions = [json.loads(line) for line in out.splitlines() if line.strip()]
    mine = [(a["action"], a["status"]) for a in actions if a["case_id"] == cid]
    assert ("accept", 200) in mine and ("resolve", 200) in mine, err
