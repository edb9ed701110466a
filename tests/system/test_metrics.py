"""System tests of yx-metrics: /metrics (checked by promtool), /v1/stats scorecards,
scoped views, Redis outages and restarts.

Most tests run a private redis-server and yx-metrics only, and write cases into Redis
in the formats the other services use (case hash, index, stats), so every expected
number below is worked out by hand from the ten cases of `seed_city`. One test reports
a case through POST /v1/cases on the whole system.

Run: /usr/bin/python3 -m pytest tests/system/test_metrics.py
"""
import hashlib
import json
import os
import shutil
import subprocess
import time

import pytest
import requests

from yxsys import ROOT, wait_for

MIN = 60_000
HOUR = 3_600_000
DAY = 86_400_000

OPERATOR = "demo-operator-key"          # operator, city
GULOU = "demo-gulou-operator-key"       # operator, district 350102
STREET_KEY = "test-street-key"          # operator, street 350102002 (鼓西街道)
COMMUNITY_KEY = "test-community-key"    # operator, community 350102001001 (中山社区)

A1 = ("350102", "350102001", "350102001001", "350102001001001")   # 鼓东街道 中山社区
A2 = ("350102", "350102001", "350102001002", "350102001002001")   # 鼓东街道 庆城社区
B1 = ("350102", "350102002", "350102002002", "350102002002001")   # 鼓西街道 梦山社区
J1 = ("350111", "350111001", "350111001001", "350111001001001")   # 晋安区 茶园街道


# -- seeding Redis in the services' formats ---------------------------------------------

def now_ms():
    return int(time.time() * 1000)


def asg(dept, role="lead", state="PENDING", assigned=0, ack_due=0, resolve_due=0, accepted=None,
        resolved=None, level=0, overdue=False, ack_overdue=False, whistle=False):
    """An assignment object as the dispatcher writes it."""
    a = {"department": dept, "role": role, "state": state, "assigned_ms": assigned,
         "ack_due_ms": ack_due, "resolve_due_ms": resolve_due, "escalation_level": level,
         "attempts": 1, "extensions": []}
    if accepted is not None:
        a["accepted_ms"] = accepted
    if resolved is not None:
        a["resolved_ms"] = resolved
    if overdue:
        a["overdue"] = True
    if ack_overdue:
        a["ack_overdue"] = True
    if whistle:
        a["whistle"] = {"grade": "routine", "at_ms": assigned}
    return a


_CENTRES = {}


def grid_centre(code):
    """(lat, lon): the mean of a grid's outer-ring vertices, from the sample city."""
    if not _CENTRES:
        with open(os.path.join(ROOT, "config", "city", "grids.geojson"), encoding="utf-8") as f:
            for feat in json.load(f)["features"]:
                geom = feat["geometry"]
                ring = geom["coordinates"][0] if geom["type"] == "Polygon" else geom["coordinates"][0][0]
                _CENTRES[feat["properties"]["code"]] = (sum(p[1] for p in ring[:-1]) / (len(ring) - 1),
                                                        sum(p[0] for p in ring[:-1]) / (len(ring) - 1))
    return _CENTRES[code]


class Seeder:
    """Writes cases straight into Redis: hash (doc, state, version), index, stats."""

    def __init__(self, r):
        self.r = r
        self.seq = 900000

    def case(self, where, state, created, category="0102", assignments=(), version=3, **doc):
        district, street, community, grid = where
        self.seq += 1
        day = time.strftime("%Y%m%d", time.gmtime(created / 1000 + 8 * 3600))
        cid = f"{district}-{day}-{self.seq:06d}"
        cat = {"code": category, "name": "", "class": ""} if category else None
        body = {"source": "hotline", "source_ref": f"seed-{self.seq}", "title": "", "description": "seed",
                "category": cat, "priority": "normal", "grade": "routine",
                "location": {"lat": grid_centre(grid)[0], "lon": grid_centre(grid)[1], "grid": grid, "community": community, "street": street, "district": district},
                "assignments": list(assignments), "created_ms": created, "updated_ms": created,
                "rework": 0, "rating": None, "triage": None, "reporter": {"name": "x", "phone": "13800000000"}}
        body.update(doc)
        self.put(cid, state, body, version)
        self.r.zadd(f"yx:{{{district}}}:cases", {cid: created})
        self.r.hincrby(f"yx:{{{district}}}:stats", "reported", 1)
        self.r.hincrby(f"yx:{{{district}}}:stats", f"state:{state}", 1)
        return cid

    def put(self, cid, state, body, version):
        district = cid[:6]
        self.r.hset(f"yx:{{{district}}}:case:{cid}",
                    mapping={"doc": json.dumps(body, ensure_ascii=False), "state": state, "version": version})

    def doc(self, cid):
        h = self.r.hgetall(f"yx:{{{cid[:6]}}}:case:{cid}")
        return json.loads(h["doc"]), h["state"], int(h["version"])


def seed_city(r, n=None):
    """The ten cases the expected numbers of these tests are worked out from.
    Returns (now, {name: case id})."""
    n = n or now_ms()
    s = Seeder(r)
    ids = {}
    ids["c1"] = s.case(A1, "CLOSED", n - 5 * HOUR, dispatched_ms=n - 5 * HOUR + MIN,
                       assignments=[asg("fz-water", state="RESOLVED", assigned=n - 5 * HOUR + MIN,
                                        ack_due=n - 5 * HOUR + 31 * MIN, accepted=n - 5 * HOUR + 10 * MIN,
                                        resolve_due=n - HOUR, resolved=n - 2 * HOUR)],
                       resolved_ms=n - 2 * HOUR, closed_ms=n - 90 * MIN, closed_on_time=True,
                       rating={"satisfied": True, "score": 5})
    ids["c2"] = s.case(A1, "CLOSED", n - 6 * HOUR, dispatched_ms=n - 6 * HOUR + 2 * MIN,
                       assignments=[asg("fz-water", state="RESOLVED", assigned=n - 6 * HOUR + 2 * MIN,
                                        ack_due=n - 6 * HOUR + 32 * MIN, accepted=n - 6 * HOUR + 40 * MIN,
                                        resolve_due=n - 4 * HOUR, resolved=n - 3 * HOUR, overdue=True)],
                       resolved_ms=n - 3 * HOUR, closed_ms=n - 2 * HOUR, closed_on_time=False, rework=1,
                       rating={"satisfied": False, "score": 2})
    ids["c3"] = s.case(A2, "ACCEPTED", n - 4 * HOUR, category="1101", dispatched_ms=n - 4 * HOUR + MIN,
                       assignments=[asg("gl-cgj", state="ACCEPTED", assigned=n - 4 * HOUR + MIN,
                                        ack_due=n - 4 * HOUR + 31 * MIN, accepted=n - 4 * HOUR + 5 * MIN,
                                        resolve_due=n - 30 * MIN, overdue=True, level=1)])
    ids["c4"] = s.case(B1, "DISPATCHED", n - 10 * MIN, category="1101", dispatched_ms=n - 9 * MIN,
                       assignments=[asg("gl-cgj", assigned=n - 9 * MIN, ack_due=n + 21 * MIN,
                                        resolve_due=n + 4 * HOUR)])
    ids["c5"] = s.case(B1, "DISPATCHED", n - 3 * HOUR, category="0301", dispatched_ms=n - 3 * HOUR + MIN,
                       assignments=[asg("st-350102002", assigned=n - 3 * HOUR + MIN, ack_due=n - 150 * MIN,
                                        resolve_due=n + 2 * HOUR, ack_overdue=True, level=3, whistle=True),
                                    asg("fz-water", role="assist", state="RETURNED", assigned=n - 3 * HOUR + MIN,
                                        ack_due=n - 150 * MIN, resolve_due=n + 2 * HOUR)])
    ids["c6"] = s.case(B1, "REJECTED", n - 2 * HOUR)
    ids["c7"] = s.case(B1, "RESOLVED", n - 3 * HOUR, dispatched_ms=n - 3 * HOUR + 30_000,
                       assignments=[asg("fz-water", state="RESOLVED", assigned=n - 3 * HOUR,
                                        ack_due=n - 150 * MIN, accepted=n - 3 * HOUR + 6 * MIN,
                                        resolve_due=n + HOUR, resolved=n - HOUR)],
                       resolved_ms=n - HOUR)
    ids["c8"] = s.case(J1, "REGISTERED", n - 20 * MIN, category=None, triage="low_confidence")
    ids["c9"] = s.case(J1, "CLOSED", n - 10 * DAY, category="1101", dispatched_ms=n - 10 * DAY + MIN,
                       assignments=[asg("ja-cgj", state="RESOLVED", assigned=n - 10 * DAY,
                                        ack_due=n - 10 * DAY + 30 * MIN, accepted=n - 10 * DAY + 10 * MIN,
                                        resolve_due=n - 10 * DAY + 4 * HOUR, resolved=n - 10 * DAY + 2 * HOUR)],
                       resolved_ms=n - 10 * DAY + 2 * HOUR, closed_ms=n - 10 * DAY + 3 * HOUR,
                       closed_on_time=True, rating={"satisfied": True, "score": 4})
    ids["c10"] = s.case(A1, "MERGED", n - HOUR, duplicate_of=ids["c1"])
    return n, ids


def keys_file(keys):
    """keys.cfg of the sample city plus operator keys: (plaintext, scope) pairs."""
    with open(os.path.join(ROOT, "config", "city", "keys.cfg"), encoding="utf-8") as f:
        text = f.read().rstrip()
    assert text.endswith(");")
    extra = "".join(
        f',\n  {{ name = "{k}"; sha256 = "{hashlib.sha256(k.encode()).hexdigest()}"; '
        f'role = "operator"; scope = "{scope}"; }}' for k, scope in keys)
    return text[:-2].rstrip() + extra + "\n);\n"


SCOPED_KEYS = {"keys.cfg": keys_file([(STREET_KEY, "350102002"), (COMMUNITY_KEY, "350102001001")])}


def metrics_system(make_system):
    """redis-server and yx-metrics only, with street and community operator keys."""
    return make_system(services=["metrics"], city_files=SCOPED_KEYS)


def get(system, path, key=OPERATOR, **params):
    h = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.get(system.metrics_url(path), params=params, headers=h, timeout=10)


def stats(system, key=OPERATOR, **params):
    r = get(system, "/v1/stats", key, **params)
    assert r.status_code == 200, r.text
    return r.json()


def wait_cases(system, count, key=OPERATOR, **params):
    """Waits until the mirror has picked up the seeded cases; returns the stats."""
    return wait_for(lambda: (b := get(system, "/v1/stats", key, **params)).status_code == 200
                    and b.json()["totals"]["cases"] == count and b.json(), what=f"{count} cases in stats")


def promtool_check(text):
    """`promtool check metrics` must accept the exposition (lint included)."""
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not found: install the Debian package prometheus (scripts/deps.sh)")
    out = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def group(body, key):
    return next(g for g in body["groups"] if g["key"] == key)


# -- tests ----------------------------------------------------------------------------

def test_health_and_errors(make_system):
    s = metrics_system(make_system)
    assert get(s, "/healthz", None).json()["status"] == "ok"
    wait_for(lambda: get(s, "/readyz", None).status_code == 200, what="ready")
    assert get(s, "/v1/stats", None).status_code == 401
    assert get(s, "/v1/stats", "wrong-key").status_code == 401
    assert get(s, "/v1/stats", "demo-hotline-key").status_code == 403
    assert get(s, "/v1/stats", "demo-dept-fz-water").status_code == 403
    bad = [({"since": "yesterday"}, "since"), ({"until": "2026-13-01T00:00:00+08:00"}, "until"),
           ({"since": "2026-11-02T00:00:00+08:00", "until": "2026-11-01T00:00:00+08:00"}, "until"),
           ({"group_by": "planet"}, "group_by"), ({"area": "999999"}, "area"), ({"area": "x" * 300}, "area")]
    for params, field in bad:
        r = get(s, "/v1/stats", **params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["field"] == field
    assert get(s, "/v1/nothing").status_code == 404
    assert get(s, "/nothing", None).status_code == 404
    assert requests.post(s.metrics_url("/v1/stats"), timeout=5).status_code == 405
    assert get(s, "/", None).headers["Content-Type"].startswith("text/html")
    promtool_check(get(s, "/metrics", None).text)   # an empty system is a valid page too


def test_metrics_exposition_passes_promtool(make_system, tmp_path):
    s = metrics_system(make_system)
    r = s.redis
    n, ids = seed_city(r)
    st = "yx:{350102}:stats"
    r.hset(st, mapping={"escalations": 4, "reminders": 2, "deliveries_ok": 11, "deliveries_failed": 3,
                        "deadletters": 1, "dispatched": 6, "returns": 1, "classified_by:rule": 5,
                        "category:0102": 4, "dept:fz-water:assigned": 4, "dept:fz-water:ack_ms_total": 3180000,
                        'dept:ev"il\nid:assigned': 9, "bad field": 1, "score_total": 7})
    r.zadd("yx:{350102}:q:classify", {"a": n - 5000, "b": n})
    r.zadd("yx:{350102}:q:notify", {"e1": n, "e2": n, "e3": n})
    r.zadd("yx:{350102}:timers", {"x|ack|gl-cgj": n + HOUR})
    r.zadd("yx:{350102}:board", {ids["c5"]: n})
    r.rpush("yx:{350102}:deadletters", "d1", "d2")
    text = wait_for(lambda: (t := get(s, "/metrics", None).text) and
                    'yixian_cases{district="350111",state="CLOSED",category="1101"} 1' in t and t,
                    what="cases in /metrics")
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    assert samples['yixian_cases{district="350102",state="CLOSED",category="0102"}'] == 2
    assert samples['yixian_cases{district="350102",state="DISPATCHED",category="0301"}'] == 1
    assert samples['yixian_cases{district="350111",state="REGISTERED",category="none"}'] == 1
    assert samples['yixian_cases_open{district="350102"}'] == 4
    assert samples['yixian_cases_overdue{district="350102"}'] == 2
    assert samples['yixian_cases_escalation_level{district="350102",level="3"}'] == 1
    h = 'yixian_stage_duration_seconds_bucket{district="350102",stage="report_to_dispatch",le="%s"}'
    assert samples[h % "60"] == 5 and samples[h % "300"] == 6 and samples[h % "+Inf"] == 6
    assert samples['yixian_stage_duration_seconds_count{district="350102",stage="dispatch_to_accept"}'] == 4
    assert samples['yixian_stage_duration_seconds_sum{district="350102",stage="accept_to_resolve"}'] == 10200 + 8400 + 6840
    assert samples['yixian_stage_queue_depth{district="350102",queue="classify"}'] == 2
    assert samples['yixian_stage_queue_depth{district="350102",queue="notify"}'] == 3
    assert samples['yixian_stage_queue_oldest_seconds{district="350102",queue="classify"}'] >= 5
    assert samples['yixian_timers_pending{district="350102"}'] == 1
    assert samples['yixian_board_cases{district="350102"}'] == 1
    assert samples['yixian_deadletters{district="350102"}'] == 2
    assert samples['yixian_deliveries_failed_total{district="350102"}'] == 3
    assert samples['yixian_escalations_total{district="350102"}'] == 4
    assert samples['yixian_reminders_total{district="350102"}'] == 2
    assert samples['yixian_events_total{district="350102",event="dispatched"}'] == 6
    assert samples['yixian_cases_classified_total{district="350102",method="rule"}'] == 5
    assert samples['yixian_department_assigned_total{district="350102",department="fz-water"}'] == 4
    assert samples['yixian_department_ack_seconds_total{district="350102",department="fz-water"}'] == 3180
    assert samples["yixian_up"] == 1 and samples["yixian_redis_up"] == 1
    assert 'yixian_build_info{service="metrics",version=' in text
    assert "ev\"il" not in text and "bad field" not in text
    (tmp_path / "metrics.txt").write_text(text)
    promtool_check(text)


def test_scorecards_exact(make_system):
    s = metrics_system(make_system)
    seed_city(s.redis)
    t = wait_cases(s, 10)["totals"]
    assert t["by_state"] == {"REPORTED": 0, "REGISTERED": 1, "DISPATCHED": 2, "ACCEPTED": 1, "RESOLVED": 1,
                             "VERIFIED": 0, "CLOSED": 3, "REJECTED": 1, "MERGED": 1, "RETURNED": 0,
                             "SUSPENDED": 0, "REOPENED": 0}
    expect = {"cases": 10, "valid": 8, "open": 5, "late": 2, "overdue_open": 1, "resolved": 1, "closed": 3,
              "closed_on_time": 2, "rated": 3, "satisfied": 2, "dispatched": 7, "returned": 1,
              "resolved_once": 4, "reworked": 1, "whistled": 1, "escalated": 2, "assigned": 8,
              "response_due": 7, "responded_in_time": 5, "on_time_rate": 0.5, "resolution_rate": 0.5,
              "satisfaction_rate": 0.6667, "return_rate": 0.1429, "rework_rate": 0.25, "whistle_rate": 0.125,
              "response_rate": 0.7143, "mean_ack_s": 804, "mean_resolve_s": 9000, "mean_score": 3.67}
    assert {k: t[k] for k in expect} == expect

    by_dept = stats(s, group_by="department")
    water = group(by_dept, "fz-water")
    expect = {"cases": 4, "assigned": 4, "kept": 3, "returned": 1, "return_rate": 0.25, "response_rate": 0.75,
              "resolved": 3, "resolved_on_time": 2, "overdue_open": 0, "on_time_rate": 0.6667,
              "resolution_rate": 1.0, "satisfaction_rate": 0.5, "rework_rate": 0.3333, "whistle_rate": 0.0,
              "mean_ack_s": 1060, "mean_resolve_s": 9540}
    assert {k: water[k] for k in expect} == expect
    assert water["name"] == "福州水务集团有限公司"
    cgj = group(by_dept, "gl-cgj")
    assert (cgj["assigned"], cgj["response_rate"], cgj["on_time_rate"], cgj["resolution_rate"]) == (2, 1.0, 0.0, 0.0)
    assert {g["key"] for g in by_dept["groups"]} == {"fz-water", "gl-cgj", "st-350102002", "ja-cgj"}

    by_street = stats(s, group_by="street")
    a = group(by_street, "350102001")
    assert (a["name"], a["cases"], a["valid"], a["closed"], a["overdue_open"]) == ("鼓东街道", 4, 3, 2, 1)
    assert (a["on_time_rate"], a["resolution_rate"]) == (0.3333, 0.6667)
    assert group(by_street, "350102002")["cases"] == 4
    assert group(by_street, "350111001")["cases"] == 2
    assert len(by_street["groups"]) == 19   # every street of both districts, none unlocated
    by_district = stats(s, group_by="district")
    assert [(g["key"], g["cases"]) for g in by_district["groups"]] == [("350102", 8), ("350111", 2)]

    # the range selects cases by report time (departments: by assignment time)
    since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 86400))
    recent = stats(s, since=since, group_by="department")
    assert recent["totals"]["cases"] == 9 and recent["since"].endswith("+08:00")
    assert "ja-cgj" not in {g["key"] for g in recent["groups"]}
    until = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() - 86400 + 8 * 3600))
    assert stats(s, until=until)["totals"]["cases"] == 1


def test_scoped_views(make_system):
    s = metrics_system(make_system)
    seed_city(s.redis)
    wait_cases(s, 10)
    gulou = stats(s, GULOU, group_by="street")
    assert gulou["scope"] == "350102" and gulou["totals"]["cases"] == 8
    assert {g["key"][:6] for g in gulou["groups"]} == {"350102"}
    street = stats(s, STREET_KEY, group_by="community")
    assert street["scope"] == "350102002" and street["totals"]["cases"] == 4
    assert street["totals"]["by_state"]["REJECTED"] == 1
    assert all(g["key"].startswith("350102002") for g in street["groups"])
    assert group(street, "350102002002")["cases"] == 4
    community = stats(s, COMMUNITY_KEY, group_by="department")
    assert community["totals"]["cases"] == 3
    assert [g["key"] for g in community["groups"]] == ["fz-water"]
    assert group(community, "fz-water")["assigned"] == 2
    # narrowing inside the scope is fine, looking outside is not
    assert stats(s, GULOU, area="350102001")["totals"]["cases"] == 4
    assert stats(s, OPERATOR, area="350111")["totals"]["cases"] == 2
    for key, area in [(GULOU, "350111"), (STREET_KEY, "350102"), (STREET_KEY, "350102001"),
                      (COMMUNITY_KEY, "350102001002")]:
        assert get(s, "/v1/stats", key, area=area).status_code == 403, (key, area)
    dash = get(s, "/v1/dashboard", STREET_KEY).json()
    assert dash["scope"] == {"code": "350102002", "name": "鼓西街道", "level": "street"}
    assert dash["counters"]["open"] == 3 and dash["counters"]["late"] == 1
    grids = get(s, "/v1/geo/grids", COMMUNITY_KEY).json()["features"]
    assert grids and {f["properties"]["community"] for f in grids} == {"350102001001"}
    streets = get(s, "/v1/geo/streets", COMMUNITY_KEY).json()["features"]
    assert [f["properties"]["adcode"] for f in streets] == ["350102001"]
    assert len(get(s, "/v1/geo/grids", OPERATOR).json()["features"]) == 1131


def test_restart_and_replay_never_double_count(make_system):
    s = metrics_system(make_system)
    n, ids = seed_city(s.redis)
    before = wait_cases(s, 10, group_by="department")
    assert s.stop("metrics") == 0
    s.start("metrics")
    after = wait_cases(s, 10, group_by="department")
    for body in (before, after):
        body.pop("generated_at")
    assert after == before
    # a replayed write (same version) changes nothing; a new version replaces the old
    seeder = Seeder(s.redis)
    doc, state, version = seeder.doc(ids["c4"])
    seeder.put(ids["c4"], state, doc, version)
    doc["assignments"][0].update(state="ACCEPTED", accepted_ms=n - 5 * MIN)
    seeder.put(ids["c4"], "ACCEPTED", doc, version + 1)
    body = wait_for(lambda: (b := stats(s))["totals"]["by_state"]["ACCEPTED"] == 2 and b, what="c4 accepted")
    assert body["totals"]["cases"] == 10 and body["totals"]["by_state"]["DISPATCHED"] == 1
    assert body["totals"]["responded_in_time"] == 6
    text = get(s, "/metrics", None).text
    assert 'yixian_stage_duration_seconds_count{district="350102",stage="dispatch_to_accept"} 5' in text
    # a case that disappears from Redis leaves the numbers
    s.redis.delete(f"yx:{{350102}}:case:{ids['c6']}")
    s.redis.zrem("yx:{350102}:cases", ids["c6"])
    wait_cases(s, 9)


def test_redis_outage_and_recovery(make_system):
    s = metrics_system(make_system)
    seed_city(s.redis)
    wait_cases(s, 10)
    s.stop_redis()
    wait_for(lambda: get(s, "/readyz", None).json()["mirror"] is False, what="the sync to notice")
    assert get(s, "/readyz", None).status_code == 503
    r = get(s, "/v1/stats")
    assert r.status_code == 503 and r.headers.get("Retry-After") == "1"
    assert r.json()["error"]["code"] == "unavailable"
    assert get(s, "/v1/dashboard").status_code == 503
    text = get(s, "/metrics", None).text
    assert "yixian_redis_up 0" in text and "yixian_up 1" in text and "yixian_cases{" not in text
    assert get(s, "/healthz", None).status_code == 200
    s.start_redis()   # same port and data folder: the AOF brings the cases back
    wait_for(lambda: get(s, "/readyz", None).status_code == 200, timeout=20, what="ready again")
    assert wait_cases(s, 10)["totals"]["closed"] == 3
    assert "yixian_redis_up 1" in get(s, "/metrics", None).text
    assert "mirror_recovered" in s.log("metrics")


def test_hostile_documents_are_ignored(make_system):
    s = metrics_system(make_system)
    seed_city(s.redis)
    r = s.redis
    bad = "350102-20261123-999990"
    r.hset(f"yx:{{350102}}:case:{bad}", mapping={"doc": "{not json", "state": "CLOSED", "version": 1})
    r.zadd("yx:{350102}:cases", {bad: now_ms(), "not-a-case-id": now_ms(), "350111-20261123-000001": now_ms()})
    odd = "350102-20261123-999991"
    r.hset(f"yx:{{350102}}:case:{odd}", mapping={"doc": json.dumps({
        "created_ms": "yesterday", "location": {"street": "3501020011234", "community": ["x"], "lat": "n"},
        "assignments": [1, {"department": 7, "state": "PENDING", "ack_due_ms": -5}] + [{}] * 100,
        "category": {"code": "../../"}, "rating": {"satisfied": "yes"}, "rework": -3}), "state": "ACCEPTED", "version": 2})
    r.zadd("yx:{350102}:cases", {odd: now_ms()})
    body = wait_cases(s, 11)
    assert body["totals"]["assigned"] == 8 + 63   # at most 64 entries are read; the number is not one
    assert body["totals"]["by_state"]["ACCEPTED"] == 2
    assert get(s, "/metrics", None).status_code == 200


def test_tens_of_thousands_of_cases_stay_fast(make_system):
    """/metrics comes from aggregates kept as cases change, not from a walk over Redis."""
    s = metrics_system(make_system)
    n, total = now_ms(), 20000
    pipe = s.redis.pipeline(transaction=False)
    for i in range(total):
        where, closed = (A1, B1, J1)[i % 3], i % 4 != 0
        created = n - (i % 720) * MIN
        a = asg("fz-water", state="RESOLVED" if closed else "ACCEPTED", assigned=created + MIN,
                ack_due=created + 31 * MIN, accepted=created + 5 * MIN, resolve_due=created + 4 * HOUR,
                resolved=created + HOUR if closed else None)
        doc = {"category": {"code": "0102"}, "assignments": [a], "created_ms": created, "dispatched_ms": created + MIN,
               "location": {"grid": where[3], "community": where[2], "street": where[1], "district": where[0]},
               "resolved_ms": created + HOUR if closed else None, "closed_ms": created + 2 * HOUR if closed else None,
               "closed_on_time": closed, "rating": {"satisfied": i % 8 != 1, "score": 4} if closed else None,
               "description": "井盖冒污水" * 40}
        cid = f"{where[0]}-20261101-{i:06d}"
        pipe.hset(f"yx:{{{where[0]}}}:case:{cid}", mapping={"doc": json.dumps(doc), "state": "CLOSED" if closed else "ACCEPTED",
                                                           "version": 4})
        pipe.zadd(f"yx:{{{where[0]}}}:cases", {cid: created})
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()
    body = wait_cases(s, total, group_by="department")
    assert body["totals"]["closed"] == body["totals"]["closed_on_time"] == total * 3 // 4
    assert group(body, "fz-water")["assigned"] == total
    for _ in range(3):
        t = time.monotonic()
        text = get(s, "/metrics", None).text
        assert time.monotonic() - t < 1.0
    assert "yixian_metrics_cases_mirrored 20000" in text
    t = time.monotonic()
    assert get(s, "/v1/dashboard").status_code == 200 and time.monotonic() - t < 2.0


def test_case_reported_through_the_api(yx):
    """End to end: a case reported on the intake and worked through to a rating shows
    up in the metrics, counted once."""
    r = yx.report(description="鼓楼区某小区多个井盖冒污水，物业清掏后仍倒灌")
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    case = yx.wait_state(case_id, "DISPATCHED", timeout=20)
    body = wait_cases(yx, 1)
    assert body["totals"]["by_state"]["DISPATCHED"] == 1 and body["totals"]["assigned"] >= 1
    text = get(yx, "/metrics", None).text
    assert 'yixian_cases_reported_total{district="%s"} 1' % case_id[:6] in text
    dash = get(yx, "/v1/dashboard").json()
    assert dash["counters"]["open"] == 1 and dash["counters"]["reported_today"] == 1
    depts = [a["department"] for a in case["assignments"]]
    for action, extra in [("accept", {}), ("resolve", {"note": "已清掏疏通"})]:
        for dept in depts:
            res = yx.act(case_id, f"demo-dept-{dept}", action, **extra)
            assert res.status_code == 200, res.text
    yx.wait_state(case_id, "RESOLVED")
    for key, action, extra in [(OPERATOR, "verify", {"passed": True}), (OPERATOR, "close", {}),
                               ("demo-hotline-key", "rate", {"satisfied": True, "score": 5})]:
        res = yx.act(case_id, key, action, **extra)
        assert res.status_code == 200, res.text
    body = wait_for(lambda: (b := stats(yx, group_by="department"))["totals"]["rated"] == 1 and b, what="rating")
    t = body["totals"]
    assert (t["cases"], t["closed"], t["closed_on_time"], t["satisfied"]) == (1, 1, 1, 1)
    assert (t["response_rate"], t["on_time_rate"], t["resolution_rate"], t["satisfaction_rate"]) == (1.0, 1.0, 1.0, 1.0)
    assert sorted(g["key"] for g in body["groups"]) == sorted(depts)
    assert all(g["resolved"] == 1 and g["resolved_on_time"] == 1 for g in body["groups"])
    text = get(yx, "/metrics", None).text
    for stage in ("report_to_dispatch", "dispatch_to_accept", "accept_to_resolve"):
        assert f'yixian_stage_duration_seconds_count{{district="{case_id[:6]}",stage="{stage}"}} 1' in text
    assert get(yx, "/v1/dashboard").json()["counters"]["closed_today"] == 1
