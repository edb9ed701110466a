"""The closed loop: every action of the API for the roles and states that allow it,
returns and re-routing, joint disposal, extensions, verification, rework, merging,
ratings, replays, the whistle and the escalation ladder with its timers."""
from yxsys import System, free_port, wait_for

SEWAGE = "鼓楼区水部街道某小区多个井盖冒污水，物业清掏后仍倒灌"
VENDOR = "小区门口有人占道经营卖水果，堵住了消防通道"
OP = "demo-operator-key"


def lead_of(case):
    return next(a for a in case["assignments"] if a["role"] == "lead" and a["state"] not in ("CANCELLED", "RETURNED"))


def dispatched(yx, description=SEWAGE, **fields):
    r = yx.report(description=description, **fields)
    assert r.status_code == 201, r.text
    return yx.wait_state(r.json()["id"], "DISPATCHED")


def ok(r, state=None):
    assert r.status_code == 200, r.text
    if state:
        assert r.json()["state"] == state, r.json()["state"]
    return r.json()


def refused(r, status, code=None):
    assert r.status_code == status, r.text
    if code:
        assert r.json()["error"]["code"] == code, r.text
    return r.json()["error"]


def test_the_whole_loop(yx):
    case = dispatched(yx, reporter={"name": "陈女士", "phone": "13800135678"})
    cid, dept = case["id"], lead_of(case)["department"]
    dk = f"demo-dept-{dept}"
    ok(yx.act(cid, dk, "accept"), "ACCEPTED")
    ok(yx.act(cid, dk, "progress", note="已派人到场"), "ACCEPTED")
    done = ok(yx.act(cid, dk, "resolve", note="疏通完毕", media=["https://example.org/after.jpg"]), "RESOLVED")
    fb = next(a for a in done["assignments"] if a["department"] == dept)
    assert fb["state"] == "RESOLVED" and fb["feedback"]["note"] == "疏通完毕"
    ok(yx.act(cid, OP, "verify", passed=True), "VERIFIED")
    ok(yx.act(cid, OP, "close"), "CLOSED")
    rated = ok(yx.act(cid, "demo-hotline-key", "rate", satisfied=True, score=5), "CLOSED")
    assert rated["rating"]["satisfied"] is True and rated["rating"]["score"] == 5
    refused(yx.act(cid, "demo-hotline-key", "rate", satisfied=True, score=4), 409, "already_rated")
    events = [e["event"] for e in rated["timeline"]]
    assert events == ["REPORTED", "REGISTERED", "DISPATCHED", "ACCEPT", "PROGRESS", "RESOLVE", "VERIFY", "CLOSE", "RATE"]
    assert rated["version"] == 9
    stats = yx.redis.hgetall("yx:{350102}:stats")
    assert int(stats["closed"]) == 1 and int(stats["satisfied"]) == 1
    assert int(stats[f"dept:{dept}:accepted_on_time"]) == 1


# action → (a role that may not take it, body) — every action in the API's table
WRONG_ROLE = {
    "accept": (OP, {}), "return": (OP, {"reason": "x"}), "progress": (OP, {"note": "x"}),
    "request_assist": (OP, {"departments": ["fz-cgj"]}), "request_extension": (OP, {"until": "2030-01-01T00:00:00+08:00", "reason": "x"}),
    "resolve": (OP, {"note": "x"}),
    "whistle": ("DEPT", {"department": "fz-water"}), "reassign": ("DEPT", {"department": "fz-cgj"}),
    "approve_extension": ("DEPT", {"department": "fz-water"}), "deny_extension": ("DEPT", {"department": "fz-water"}),
    "verify": ("DEPT", {"passed": True}), "close": ("DEPT", {}), "reopen": ("DEPT", {"reason": "x"}),
    "suspend": ("DEPT", {"reason": "x"}), "merge": ("DEPT", {"into": "350102-20261123-000001"}),
    "reject": ("DEPT", {"reason": "x"}), "escalate": ("DEPT", {}), "rate": ("DEPT", {"satisfied": True, "score": 5}),
}


def test_wrong_role_is_403_wrong_state_409_out_of_scope_404(yx):
    case = dispatched(yx)
    cid, dept = case["id"], lead_of(case)["department"]
    for action, (who, body) in WRONG_ROLE.items():
        key = f"demo-dept-{dept}" if who == "DEPT" else who
        e = refused(yx.act(cid, key, action, **body), 403)
        assert e["code"] in ("forbidden_role",), (action, e)
    # a reporter may not act on the department's behalf either
    refused(yx.act(cid, "demo-hotline-key", "accept"), 403, "forbidden_role")
    # state: a DISPATCHED case cannot be verified, closed or rated; 409 tells the state
    for action, body in (("verify", {"passed": True}), ("close", {}), ("rate", {"satisfied": True, "score": 3}),
                         ("reopen", {"reason": "x"})):
        e = refused(yx.act(cid, OP, action, **body), 409, "invalid_state")
        assert e["state"] == "DISPATCHED"
    # resolve before accept: the assignment is not ACCEPTED
    refused(yx.act(cid, f"demo-dept-{dept}", "resolve", note="x"), 409, "invalid_assignment_state")
    # out of scope: another department, and an operator of the other district, see 404
    refused(yx.act(cid, "demo-dept-fz-jyj", "accept"), 404, "not_found")
    assert yx.call("GET", f"/v1/cases/{cid}", "demo-gulou-operator-key").status_code == 200  # Gulou's own
    # unknown action and missing fields
    refused(yx.act(cid, OP, "teleport"), 422, "unknown_action")
    refused(yx.act(cid, f"demo-dept-{dept}", "return"), 422, "missing_field")
    refused(yx.act(cid, OP, "whistle", department="no-such-dept"), 422, "unknown_department")
    refused(yx.call("POST", f"/v1/cases/{cid}/actions", OP, {"note": "no action"}), 422, "missing_field")


def test_return_reroutes_then_arbitration(yx):
    case = dispatched(yx)
    cid = case["id"]
    first = lead_of(case)["department"]
    candidates = case["routing"]["candidates"]
    assert candidates, "the sample responsibility list has a fallback"
    c = ok(yx.act(cid, f"demo-dept-{first}", "return", reason="非本单位职责"), "DISPATCHED")
    second = lead_of(c)["department"]
    assert second == candidates[0] and lead_of(c)["attempts"] == 2
    returned = [a for a in c["assignments"] if a["department"] == first][0]
    assert returned["state"] == "RETURNED" and returned["return_reason"] == "非本单位职责"
    # keep returning until nobody is left: RETURNED for the command center
    while c["state"] == "DISPATCHED":
        d = lead_of(c)["department"]
        c = ok(yx.act(cid, f"demo-dept-{d}", "return", reason="不归我们管"))
    assert c["state"] == "RETURNED"
    assert int(yx.redis.hget("yx:{350102}:stats", f"dept:{first}:returned")) == 1
    # arbitration: the operator names the lead
    c = ok(yx.act(cid, OP, "reassign", department="gl-cgj"), "DISPATCHED")
    assert lead_of(c)["department"] == "gl-cgj"
    ok(yx.act(cid, "demo-dept-gl-cgj", "accept"), "ACCEPTED")


def test_joint_disposal_rule(yx):
    case = dispatched(yx)
    cid, lead = case["id"], lead_of(case)["department"]
    lk = f"demo-dept-{lead}"
    ok(yx.act(cid, lk, "accept"))
    c = ok(yx.act(cid, lk, "request_assist", departments=["gl-cgj", "gl-zjj"]))
    assert c["grade"] == "tough"
    assert {a["department"]: a["role"] for a in c["assignments"]}["gl-cgj"] == "assist"
    refused(yx.act(cid, "demo-dept-gl-cgj", "request_assist", departments=["gl-zjj"]), 403, "not_lead")
    ok(yx.act(cid, "demo-dept-gl-cgj", "accept"))
    # the lead resolves first: the case waits for the assistants
    ok(yx.act(cid, lk, "resolve", note="主体完成"), "ACCEPTED")
    ok(yx.act(cid, "demo-dept-gl-cgj", "resolve", note="配合完成"), "ACCEPTED")
    # an assistant that returns it does not hold the case open
    ok(yx.act(cid, "demo-dept-gl-zjj", "return", reason="无相关职责"), "RESOLVED")


def test_extension_requests(yx):
    case = dispatched(yx)
    cid, dept = case["id"], lead_of(case)["department"]
    dk = f"demo-dept-{dept}"
    ok(yx.act(cid, dk, "accept"))
    due = lead_of(yx.case(cid))["resolve_due"]
    refused(yx.act(cid, dk, "request_extension", until="2020-01-01T00:00:00+08:00", reason="x"), 422, "invalid_value")
    refused(yx.act(cid, OP, "approve_extension", department=dept), 409, "no_extension_request")
    ok(yx.act(cid, dk, "request_extension", until="2031-01-01T18:00:00+08:00", reason="需协调地铁施工方"))
    c = ok(yx.act(cid, OP, "deny_extension", department=dept))
    assert lead_of(c)["resolve_due"] == due and lead_of(c)["extensions"][0]["approved"] is False
    ok(yx.act(cid, dk, "request_extension", until="2031-01-01T18:00:00+08:00", reason="需协调地铁施工方"))
    c = ok(yx.act(cid, OP, "approve_extension", department=dept))
    assert lead_of(c)["resolve_due"].startswith("2031-01-01T18:00:00")


def test_failed_verification_is_rework(yx):
    case = dispatched(yx)
    cid, dept = case["id"], lead_of(case)["department"]
    dk = f"demo-dept-{dept}"
    ok(yx.act(cid, dk, "accept"))
    ok(yx.act(cid, dk, "resolve", note="已处理"), "RESOLVED")
    c = ok(yx.act(cid, OP, "verify", passed=False, note="现场仍有污水"), "ACCEPTED")
    assert c["rework"] == 1 and lead_of(c)["state"] == "ACCEPTED" and lead_of(c)["attempts"] == 2
    assert int(yx.redis.hget("yx:{350102}:stats", f"dept:{dept}:rework")) == 1
    ok(yx.act(cid, dk, "resolve", note="二次处理"), "RESOLVED")
    ok(yx.act(cid, OP, "verify", passed=True), "VERIFIED")


def test_suspend_reject_reopen_merge(yx):
    a, b, c, d = (dispatched(yx)["id"] for _ in range(4))
    s = ok(yx.act(a, OP, "suspend", reason="需市级统筹资金"), "SUSPENDED")
    assert all(x["state"] == "CANCELLED" for x in s["assignments"])
    r = ok(yx.act(a, OP, "reopen", reason="资金已落实"), "REOPENED")
    dept = lead_of(r)["department"]
    ok(yx.act(a, f"demo-dept-{dept}", "accept"), "ACCEPTED")
    ok(yx.act(b, OP, "reject", reason="重复恶意举报"), "REJECTED")
    refused(yx.act(b, OP, "reject", reason="again"), 409, "invalid_state")
    m = ok(yx.act(c, OP, "merge", into=d), "MERGED")
    assert m["duplicate_of"] == d
    target = yx.case(d)
    assert target["reports"] == 2 and c in target["duplicates"]
    assert "DUPLICATE_MERGED" in [e["event"] for e in target["timeline"]]
    refused(yx.act(d, OP, "merge", into=d), 422, "invalid_value")
    refused(yx.act(d, OP, "merge", into="350111-20261123-000001"), 422, "cross_district")


def test_unsatisfied_rating_reopens(yx):
    case = dispatched(yx)
    cid, dept = case["id"], lead_of(case)["department"]
    dk = f"demo-dept-{dept}"
    for act, kw in (("accept", {}), ("resolve", {"note": "ok"})):
        ok(yx.act(cid, dk, act, **kw))
    ok(yx.act(cid, OP, "verify", passed=True))
    ok(yx.act(cid, OP, "close"))
    refused(yx.act(cid, "demo-app-key", "rate", satisfied=False, score=1), 404)   # not its case
    c = ok(yx.act(cid, "demo-hotline-key", "rate", satisfied=False, score=1), "REOPENED")
    assert lead_of(c)["state"] == "PENDING"


def test_replayed_action_changes_nothing(yx):
    case = dispatched(yx)
    cid, dept = case["id"], lead_of(case)["department"]
    h = {"Idempotency-Key": "accept-once"}
    first = yx.call("POST", f"/v1/cases/{cid}/actions", f"demo-dept-{dept}", {"action": "accept"}, headers=h)
    again = yx.call("POST", f"/v1/cases/{cid}/actions", f"demo-dept-{dept}", {"action": "accept"}, headers=h)
    assert first.status_code == again.status_code == 200
    assert first.json()["version"] == again.json()["version"]
    assert [e["event"] for e in again.json()["timeline"]].count("ACCEPT") == 1
    # the stage-queue replay: pushing the case into q:dispatch again changes nothing
    yx.redis.zadd("yx:{350102}:q:dispatch", {cid: 0})
    wait_for(lambda: yx.redis.zscore("yx:{350102}:q:dispatch", cid) is None, what="stale entry dropped")
    assert yx.case(cid)["version"] == first.json()["version"]


def test_tough_and_difficult_whistles(yx):
    case = dispatched(yx, description=VENDOR)
    cid = case["id"]
    refused(yx.act(cid, OP, "whistle", grade="loud", department="fz-metro"), 422, "invalid_value")
    c = ok(yx.act(cid, OP, "whistle", grade="tough", departments=["fz-metro", "fz-water"], ack_within=600))
    called = {a["department"]: a for a in c["assignments"]}
    assert called["fz-metro"]["whistle"]["grade"] == "tough" and c["grade"] == "tough"
    c = ok(yx.act(cid, OP, "whistle", grade="difficult", department="fz-gas"))
    assert next(a for a in c["assignments"] if a["department"] == "fz-gas")["escalated_to"] == "ld-350102"
    assert int(yx.redis.hget("yx:{350102}:stats", "whistles")) == 2


FAST_LADDER = """
escalation = {
  ladders = ( { district = "*"; rungs = [ "supervisor", "command", "leader" ]; timeouts = [ "1s", "1s", "1s" ]; } );
};
"""


def test_whistle_unanswered_climbs_the_ladder_once_with_two_dispatchers(make_system):
    yx = make_system(settings={"dispatcher.remind_interval_ms": 1000}, extra_cfg=FAST_LADDER)
    second = {f"dispatcher.{k}": f"tcp://127.0.0.1:{free_port()}" for k in ("bind", "actions_bind", "events_bind")}
    second["dispatcher.health_port"] = 0
    yx.start("dispatcher", "2", extra=second)
    case = dispatched(yx, description=VENDOR)
    cid = case["id"]
    ok(yx.act(cid, OP, "whistle", department="fz-metro", ack_within=1))
    c = wait_for(lambda: (x := yx.case(cid)) and next(a for a in x["assignments"] if a["department"] == "fz-metro")
                 ["escalation_level"] == 3 and x, timeout=30, what="top rung")
    metro = next(a for a in c["assignments"] if a["department"] == "fz-metro")
    assert metro["escalated_to"] == "ld-350102" and c["grade"] == "difficult"
    assert yx.redis.zscore("yx:{350102}:board", cid) is not None
    wait_for(lambda: int(yx.redis.hget("yx:{350102}:stats", "dept:fz-metro:reminders") or 0) >= 1, what="督办")
    # exactly one firing per rung although two dispatchers share the timers
    escalations = [e for e in yx.case(cid)["timeline"] if e["event"] == "ESCALATED" and "fz-metro" in e["note"]]
    assert len(escalations) == 3, escalations
    board = yx.call("GET", "/v1/cases?board=true", OP).json()["items"]
    assert cid in [x["id"] for x in board]
    # acknowledging stops the climb and the reminders
    ok(yx.act(cid, "demo-dept-fz-metro", "accept"))
    assert not [m for m in yx.redis.zrange("yx:{350102}:timers", 0, -1) if m.startswith(cid + "|ack|fz-metro")]


def test_deadlines_in_seconds_escalate_and_mark_overdue(make_system):
    yx = make_system(city_files=System.fast_city(ack="2s", resolve="4s"), extra_cfg=FAST_LADDER,
                     settings={"dispatcher.remind_interval_ms": 60000})
    case = dispatched(yx)
    cid, dept = case["id"], lead_of(case)["department"]
    # not acknowledged in 2 s: one rung up, ack_overdue counted
    c = wait_for(lambda: (x := yx.case(cid)) and lead_of(x)["escalation_level"] >= 1 and x, timeout=20,
                 what="ack escalation")
    assert lead_of(c)["ack_overdue"] is True
    ok(yx.act(cid, f"demo-dept-{dept}", "accept"))
    # accepted late but not resolved in time: overdue, counted once
    wait_for(lambda: lead_of(yx.case(cid)).get("overdue") is True, timeout=20, what="overdue")
    overdue = yx.call("GET", "/v1/cases?overdue=true", OP).json()["items"]
    assert cid in [x["id"] for x in overdue]
    inbox = yx.call("GET", f"/v1/departments/{dept}/inbox?state=overdue", f"demo-dept-{dept}").json()["items"]
    assert cid in [x["id"] for x in inbox]
    assert int(yx.redis.hget("yx:{350102}:stats", f"dept:{dept}:overdue")) == 1
