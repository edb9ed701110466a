"""Duplicate reports: the same subcategory within the radius of an open case, inside
the window, merges into it; its reports count goes up and the reporter is told."""
import json

from yxsys import wait_for

TEXT = "鼓楼区水部街道某小区多个井盖冒污水，物业清掏后仍倒灌"


def test_nearby_report_of_the_same_kind_merges(make_system):
    yx = make_system(settings={"classifier.duplicate_radius_m": 50})
    first = yx.report(description=TEXT, location={"lat": 26.0845, "lon": 119.2960}).json()["id"]
    yx.wait_state(first, "DISPATCHED")
    # 20 m away, same subcategory: merged
    dup = yx.report(description="井盖冒污水又来了", location={"lat": 26.08468, "lon": 119.2960}).json()["id"]
    merged = yx.wait_state(dup, "MERGED")
    assert merged["duplicate_of"] == first
    original = yx.case(first)
    assert original["reports"] == 2 and original["duplicates"] == [dup]
    assert "DUPLICATE_MERGED" in [e["event"] for e in original["timeline"]]
    # the reporter's source is told: a MERGED event waits for the notifier
    assert yx.redis.hget("yx:{350102}:stats", "auto_merged") == "1"
    # 200 m away: a new case
    far = yx.report(description=TEXT, location={"lat": 26.0863, "lon": 119.2960}).json()["id"]
    yx.wait_state(far, "DISPATCHED")
    # another subcategory at the same spot: a new case
    other = yx.report(description="路灯不亮了好几天", location={"lat": 26.0845, "lon": 119.2960}).json()["id"]
    yx.wait_state(other, "DISPATCHED")
    # a third report of the first makes it "reported repeatedly": difficult
    third = yx.report(description="这里井盖冒污水", location={"lat": 26.08452, "lon": 119.29602}).json()["id"]
    yx.wait_state(third, "MERGED")
    assert yx.case(first)["grade"] == "difficult" and yx.case(first)["reports"] == 3


def test_closed_case_is_not_a_duplicate_target(make_system):
    yx = make_system(settings={"classifier.duplicate_radius_m": 50})
    first = yx.report(description=TEXT).json()["id"]
    yx.wait_state(first, "DISPATCHED")
    r = yx.act(first, "demo-operator-key", "reject", reason="测试")
    assert r.status_code == 200, r.text
    again = yx.report(description=TEXT).json()["id"]
    case = yx.wait_state(again, "DISPATCHED")
    assert case["duplicate_of"] is None
    assert wait_for(lambda: yx.redis.zscore("yx:{350102}:open:0102", first) is None, what="closed case left the set")


def test_the_duplicate_reporter_is_told(make_system):
    from test_notifier import Receiver, notify_cfg, with_notify_cfg
    hotline = Receiver()
    try:
        yx = with_notify_cfg(make_system, notify_cfg(sources=[("hotline", hotline.url, ["MERGED"])]),
                             settings={"classifier.duplicate_radius_m": 50})
        yx.start_all()
        first = yx.report(description=TEXT).json()["id"]
        yx.wait_state(first, "DISPATCHED")
        dup = yx.report(description=TEXT).json()["id"]
        yx.wait_state(dup, "MERGED")

        def told():
            for r in hotline.snapshot():
                body = json.loads(r["body"])
                if body["case_id"] == dup and body["type"] == "MERGED":
                    return body
            return None
        body = wait_for(told, timeout=20, what="the hotline told of the merge")
        assert body["note"] == first
    finally:
        hotline.close()


def test_per_subcategory_settings(make_system):
    """Hotline topics are about policies, not places: never merged by distance."""
    yx = make_system(settings={"classifier.duplicate_radius_m": 50})
    a = yx.report(description="公司拖欠工资三个月了").json()["id"]
    b = yx.report(description="公司拖欠工资三个月了").json()["id"]
    for cid in (a, b):
        case = yx.wait_state(cid, "DISPATCHED")
        assert case["category"]["code"] == "2501" and case["duplicate_of"] is None
