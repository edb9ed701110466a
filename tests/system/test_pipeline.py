"""The foundation end to end: report → register → dispatch → department, through the
real binaries; what a department and the command line see; the stage-queue
guarantee under SIGKILL."""
import json
import os
import subprocess
import threading

import requests
import zmq

from yxsys import lines_once_subscribed, wait_for

SEWAGE = "鼓楼区水部街道某小区多个井盖冒污水，物业清掏后仍倒灌"


def lead_of(case):
    return next(a for a in case["assignments"] if a["role"] == "lead")


def test_report_reaches_department_and_inbox(yx):
    r = yx.report(title="井盖冒污水", description=SEWAGE, source_ref="12345-20261123-0001",
                  reporter={"name": "陈女士", "phone": "13800135678"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["Location"] == f"/v1/cases/{created['id']}"
    assert created["state"] == "REPORTED" and created["version"] == 1
    district = created["id"].split("-")[0]
    assert district == created["location"]["district"] == "350102"
    # stored under a district-hash-tagged key
    assert yx.redis.hget(f"yx:{{{district}}}:case:{created['id']}", "state") in ("REPORTED", "REGISTERED", "DISPATCHED")

    case = yx.wait_state(created["id"], "DISPATCHED")
    assert case["category"]["code"] == "0102"
    assert case["classification"]["method"] == "rule"
    lead = lead_of(case)
    assert lead["state"] == "PENDING" and lead["escalation_level"] == 0
    assert lead["ack_due"] < lead["resolve_due"]
    events = [e["event"] for e in case["timeline"]]
    assert events == ["REPORTED", "REGISTERED", "DISPATCHED"]
    assert case["reporter"]["phone"] == "13800135678"          # operators see the number

    dept_key = f"demo-dept-{lead['department']}"
    inbox = yx.call("GET", f"/v1/departments/{lead['department']}/inbox", dept_key)
    assert inbox.status_code == 200, inbox.text
    ids = [c["id"] for c in inbox.json()["items"]]
    assert created["id"] in ids
    seen = yx.call("GET", f"/v1/cases/{created['id']}", dept_key).json()
    assert seen["reporter"]["phone"] == "138****5678"          # departments do not

    # the same source + source_ref is the same case: 200 with the same id
    again = yx.report(title="井盖冒污水", description=SEWAGE, source_ref="12345-20261123-0001")
    assert again.status_code == 200 and again.json()["id"] == created["id"]

    # counted on /metrics
    def counted():
        text = requests.get(yx.metrics_url("/metrics"), timeout=5).text
        return any(line.startswith("yixian_cases_reported_total") and not line.rstrip().endswith(" 0")
                   for line in text.splitlines())
    wait_for(counted, what="the report counted on /metrics")


def test_other_department_cannot_see_the_case(yx):
    cid = yx.report(description=SEWAGE).json()["id"]
    case = yx.wait_state(cid, "DISPATCHED")
    lead = lead_of(case)["department"]
    other = "fz-jyj" if lead != "fz-jyj" else "fz-wjw"
    assert yx.call("GET", f"/v1/cases/{cid}", f"demo-dept-{other}").status_code == 404
    assert yx.call("GET", f"/v1/departments/{lead}/inbox", f"demo-dept-{other}").status_code == 403


def test_yxctl_report_show_and_follow(yx):
    env = dict(os.environ, YX_URL=yx.url(""))
    yxctl = os.path.join(yx.bin, "yxctl")
    base = [yxctl, "-c", yx.cfg_path] + yx.overrides()
    out = subprocess.run(base + ["--url", yx.url(""), "report", SEWAGE, "--title", "井盖冒污水",
                          "--lat", "26.0845", "--lon", "119.2960"], capture_output=True, text=True, env=env, timeout=20)
    assert out.returncode == 0, out.stderr
    cid = json.loads(out.stdout)["id"]
    case = yx.wait_state(cid, "DISPATCHED")
    dept = lead_of(case)["department"]

    # follow the department's inbox feed, then report another case for it
    follow = subprocess.Popen(base + ["--json", "inbox", dept, "--follow"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(follow.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        hit = lines_once_subscribed(lines, lambda: yx.report(description=SEWAGE).json()["id"])
        assert hit, "no inbox event arrived on the feed"
        event = json.loads(hit[0])
        assert event["topic"] == f"dept.{dept}" and event["type"] == "DISPATCHED"
    finally:
        follow.terminate()
        follow.wait(5)

    shown = subprocess.run(base + ["show", cid], capture_output=True, text=True, env=env, timeout=20)
    assert shown.returncode == 0 and json.loads(shown.stdout)["state"] == "DISPATCHED"


def test_every_case_dispatched_exactly_once_through_sigkill(yx):
    """Kill the classifier, then the dispatcher, with SIGKILL while cases are in flight;
    after restarts every case is DISPATCHED exactly once."""
    ids = []

    def burst(n):
        for _ in range(n):
            r = yx.report(description=SEWAGE)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])

    burst(40)
    yx.kill("classifier")
    burst(40)                       # classifier down: they wait in q:classify
    yx.start("classifier")
    burst(20)
    yx.kill("dispatcher")
    burst(40)                       # dispatcher down: they wait in q:dispatch
    yx.start("dispatcher")
    yx.wait_ready()

    def all_dispatched():
        states = [yx.redis.hget(f"yx:{{{i[:6]}}}:case:{i}", "state") for i in ids]
        return all(s == "DISPATCHED" for s in states)
    wait_for(all_dispatched, timeout=60, what="every case DISPATCHED")
    for i in ids:
        tl = [json.loads(e)["event"] for e in yx.redis.lrange(f"yx:{{{i[:6]}}}:case:{i}:tl", 0, -1)]
        assert tl.count("DISPATCHED") == 1 and tl.count("REGISTERED") == 1, (i, tl)
        assert yx.redis.hget(f"yx:{{{i[:6]}}}:case:{i}", "version") == "3"
    for q in ("q:classify", "q:dispatch"):
        assert yx.redis.zcard(f"yx:{{350102}}:{q}") == 0
    stats = yx.redis.hgetall("yx:{350102}:stats")
    assert int(stats["state:DISPATCHED"]) == len(ids)
    assert int(stats["dispatched"]) == len(ids)


def test_garbage_frames_are_dropped(yx):
    ctx = zmq.Context.instance()
    for endpoint, kind in ((yx.settings["classifier.bind"], zmq.PUSH), (yx.settings["dispatcher.bind"], zmq.PUSH),
                           (yx.settings["intake.zmq_bind"], zmq.DEALER), (yx.settings["dispatcher.actions_bind"], zmq.DEALER)):
        s = ctx.socket(kind)
        s.connect(endpoint)
        s.send(b"\xff\x00garbage\x13\x37")
        s.send_multipart([b"a", b"b", b"c"])
        s.close(linger=2000)        # waits until both messages are on their way
    wait_for(lambda: yx.log("classifier").count("bus_frame_dropped") >= 1 and
             yx.log("dispatcher").count("bus_frame_dropped") >= 2 and
             "bus_frame_dropped" in yx.log("intake"), what="garbage logged")
    # still working
    cid = yx.report(description=SEWAGE).json()["id"]
    yx.wait_state(cid, "DISPATCHED")


def test_redis_outage_is_503_and_recovers(yx):
    yx.stop_redis()
    r = yx.report(description=SEWAGE, source_ref="outage-1")
    assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
    assert "Retry-After" in r.headers
    assert yx.call("GET", "/readyz").status_code == 503
    assert yx.call("GET", "/healthz").status_code == 200
    yx.start_redis()                # same data directory: AOF brings back what was there
    wait_for(lambda: yx.call("GET", "/readyz").status_code == 200, what="intake ready again")
    r = yx.report(description=SEWAGE, source_ref="outage-1")
    assert r.status_code == 201, r.text     # the failed attempt left nothing behind
    yx.wait_state(r.json()["id"], "DISPATCHED")
