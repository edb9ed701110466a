"""yxctl against a running system: act, board, tail, import (CSV and JSON Lines,
rejected lines with reasons, resuming)."""
import json
import os
import subprocess
import threading

from yxsys import lines_once_subscribed, wait_for

SEWAGE = "鼓楼区水部街道某小区多个井盖冒污水，物业清掏后仍倒灌"


def yxctl(yx, *args, key=None, timeout=60):
    cmd = [os.path.join(yx.bin, "yxctl"), "-c", yx.cfg_path] + yx.overrides() + ["--url", yx.url("")]
    if key:
        cmd += ["--key", key]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout)


def test_act_board_and_tail(yx):
    cid = yx.report(description=SEWAGE).json()["id"]
    case = yx.wait_state(cid, "DISPATCHED")
    dept = case["assignments"][0]["department"]
    tail = subprocess.Popen([os.path.join(yx.bin, "yxctl"), "-c", yx.cfg_path] + yx.overrides() + ["--json", "tail"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []
    threading.Thread(target=lambda: lines.extend(iter(tail.stdout.readline, "")), daemon=True).start()
    try:
        seen = lines_once_subscribed(lines, lambda: yx.report(description=SEWAGE).json()["id"])
        assert seen, "yxctl tail printed nothing"
        out = yxctl(yx, "act", cid, "accept", key=f"demo-dept-{dept}")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["state"] == "ACCEPTED"
        wait_for(lambda: any(cid in line and "ACCEPTED" in line for line in lines), timeout=10,
                 what="tail shows the transition")
        event = json.loads(next(line for line in lines if cid in line and "ACCEPTED" in line))
        assert event["case_id"] == cid and event["type"] == "ACCEPTED"
    finally:
        tail.terminate()
        tail.wait(5)
    out = yxctl(yx, "act", cid, "whistle", "department=fz-metro", "ack_within=1")
    assert out.returncode == 0, out.stderr
    wait_for(lambda: cid in yxctl(yx, "board").stdout, timeout=20, what="board lists the overdue whistle")
    bad = yxctl(yx, "act", cid, "close")
    assert bad.returncode == 1 and "409 invalid_state" in bad.stderr


def test_import_csv_and_jsonl_with_rejects_and_resume(yx, tmp_path):
    csv = tmp_path / "tickets.csv"
    csv.write_text(
        "source_ref,title,description,lat,lon,reporter_phone\n"
        "T-1,井盖冒污水,\"鼓楼区某小区井盖冒污水, 倒灌\",26.0845,119.2960,13800135678\n"
        "T-2,路灯不亮,,26.0846,119.2961,\n"                       # no description: rejected
        "T-3,占道经营,\"多行\n描述：门口占道经营\",26.0850,119.2965,\n"
        "T-4,bad,\"unterminated,1,2,\n", encoding="utf-8")
    out = yxctl(yx, "import", str(csv))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "imported=2" in out.stdout and "rejected=2" in out.stdout
    assert "line 3: 422 missing_field" in out.stderr
    assert "line 6: not valid CSV" in out.stderr            # T-3 spans lines 4 and 5
    # resuming skips what was done; idempotency keeps the cases single anyway
    again = yxctl(yx, "import", str(csv))
    assert "imported=0" in again.stdout and "skipped_before_resume=" in again.stdout
    os.remove(str(csv) + ".progress")
    third = yxctl(yx, "import", str(csv))
    assert "imported=0" in third.stdout and "already_known=2" in third.stdout
    jl = tmp_path / "tickets.jsonl"
    jl.write_text(json.dumps({"source_ref": "J-1", "description": "路灯不亮", "location": {"lat": 26.0845, "lon": 119.296}},
                             ensure_ascii=False) + "\n{not json}\n", encoding="utf-8")
    out = yxctl(yx, "import", str(jl))
    assert "imported=1" in out.stdout and "rejected=1" in out.stdout and "line 2: not a JSON object" in out.stderr


def test_deadletters_for_operators(yx):
    rec = {"id": "e1/webhook:gl-cgj", "event_id": "e1", "case_id": "350102-20261123-000001", "type": "DISPATCHED",
           "district": "350102", "recipient": "webhook:gl-cgj", "channel": "webhook", "attempts": 3,
           "reason": "http 500", "at": "2026-11-23T09:12:00.000+08:00", "at_ms": 1795401000000}
    yx.redis.hset("yx:{350102}:deadletters", rec["id"], json.dumps(rec))
    yx.redis.zadd("yx:{350102}:deadletters:at", {rec["id"]: rec["at_ms"]})
    listed = yx.call("GET", "/v1/deadletters", "demo-operator-key").json()["items"]
    assert [d["id"] for d in listed] == [rec["id"]]
    assert yx.call("GET", "/v1/deadletters", "demo-dept-gl-cgj").status_code == 403
    out = yxctl(yx, "deadletters")
    assert out.returncode == 0 and "e1/webhook:gl-cgj" in out.stdout and "http 500" in out.stdout
    out = yxctl(yx, "deadletters", "--redeliver", rec["id"])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["queued"] == 1
    # the notifier takes the request from the district's queue and answers it
    wait_for(lambda: not yx.redis.hexists("yx:{350102}:deadletters", rec["id"]) or
             yx.redis.llen("yx:{350102}:deadletters:requests") == 0, what="request picked up")
    missing = yx.call("POST", "/v1/deadletters/actions", "demo-operator-key", {"action": "discard", "id": "nope/x"})
    assert missing.status_code == 404


def test_stats_scorecard(yx):
    cid = yx.report(description=SEWAGE).json()["id"]
    dept = yx.wait_state(cid, "DISPATCHED")["assignments"][0]["department"]
    name = "福州水务集团有限公司" if dept == "fz-water" else dept
    out = wait_for(lambda: (o := yxctl(yx, "stats", "--by", "department")).returncode == 0 and name in o.stdout and o,
                   timeout=15, what="scorecard row")
    assert "合计 total" in out.stdout
    js = yxctl(yx, "--json", "stats", "--by", "district")
    doc = json.loads(js.stdout)
    assert doc["group_by"] == "district" and doc["totals"]["cases"] >= 1
    bad = yxctl(yx, "stats", "--since", "yesterday")
    assert bad.returncode == 1


def test_list_filters_including_phone(yx):
    ids = []
    for phone in ("13912345678", "13800135678"):
        r = yx.call("POST", "/v1/cases", "demo-hotline-key",
                    {"source": "hotline", "description": SEWAGE, "location": {"grid": "350102001001001"},
                     "reporter": {"phone": phone}})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    out = yxctl(yx, "--json", "list", "--phone", "139 1234 5678")
    assert out.returncode == 0, out.stderr
    assert [c["id"] for c in json.loads(out.stdout)["items"]] == [ids[0]]
    out = yxctl(yx, "--json", "list", "--grid", "350102001001001", "--community", "350102001001")
    assert sorted(c["id"] for c in json.loads(out.stdout)["items"]) == sorted(ids)
    out = yxctl(yx, "list", "--phone", "x", key="demo-operator-key")
    assert out.returncode == 1 and "422 invalid_value" in out.stderr and "phone" in out.stderr
