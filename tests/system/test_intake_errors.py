"""Bad input gets the API's 4xx JSON error naming the problem, never a crash."""
import json
import math

import pytest
import requests

GOOD = {"source": "hotline", "description": "路灯不亮", "location": {"lat": 26.0845, "lon": 119.2960}}


def error(r, status, code, field=None):
    assert r.status_code == status, r.text
    e = r.json()["error"]
    assert e["code"] == code, e
    assert isinstance(e["message"], str) and e["message"]
    if field:
        assert e.get("field") == field, e
    return e


def wgs84_to_gcj02(lat, lon):
    """The published WGS84 → GCJ-02 transform (what Chinese map apps report)."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    common = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += common + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon += common + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    dlat = dlat * 180.0 / ((a * (1 - ee)) / (magic * math.sqrt(magic)) * math.pi)
    dlon = dlon * 180.0 / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lat + dlat, lon + dlon


def body(**changes):
    b = json.loads(json.dumps(GOOD))
    for k, v in changes.items():
        if v is None:
            b.pop(k, None)
        else:
            b[k] = v
    return b


def test_authentication(yx):
    error(yx.call("POST", "/v1/cases", None, GOOD), 401, "unauthorized")
    error(yx.call("POST", "/v1/cases", "not-a-key", GOOD), 401, "unauthorized")
    error(yx.call("GET", "/v1/cases", None), 401, "unauthorized")
    assert yx.call("GET", "/healthz").status_code == 200


@pytest.mark.parametrize("raw,code", [
    (b"{", "malformed_json"),
    (b"[1,2]", "malformed_json"),
    (b"", "malformed_json"),
    (b'{"source":"hotline","source":"app","description":"x"}', "malformed_json"),   # duplicate keys
    (b"\xff\xfe{}", "invalid_utf8"),
    ('{"source":"hotline","description":"\xe4\xba"}'.encode("latin-1"), "invalid_utf8"),
    (b"[" * 5000 + b"]" * 5000, "malformed_json"),                                   # deeply nested
])
def test_malformed_bodies(yx, raw, code):
    error(yx.call("POST", "/v1/cases", "demo-hotline-key", raw=raw), 400, code)


@pytest.mark.parametrize("changes,code,field", [
    ({"description": None}, "missing_field", "description"),
    ({"description": ""}, "missing_field", "description"),
    ({"description": 42}, "invalid_type", "description"),
    ({"description": "长" * 4001}, "too_long", "description"),
    ({"source": None}, "missing_field", "source"),
    ({"source": "fax"}, "invalid_value", "source"),
    ({"source": ["hotline"]}, "invalid_type", "source"),
    ({"location": None}, "location_required", "location"),
    ({"location": "鼓楼"}, "invalid_type", "location"),
    ({"location": {"lat": 26.08}}, "missing_field", "location.lon"),
    ({"location": {"lat": "26", "lon": 119.3}}, "invalid_type", "location.lat"),
    ({"location": {"lat": 91, "lon": 119.3}}, "out_of_range", "location.lat"),
    ({"location": {"lat": 26.0, "lon": 181}}, "out_of_range", "location.lon"),
    ({"location": {"grid": "350102999999999"}}, "unknown_grid", "location.grid"),
    ({"location": {"lat": 26.08, "lon": 119.3, "crs": "bd09"}}, "invalid_value", "location.crs"),
    ({"category": "9999"}, "unknown_category", "category"),
    ({"media": ["https://x/1.jpg"] * 11}, "too_many_media", "media"),
    ({"media": ["ftp://x/1.jpg"]}, "invalid_value", "media"),
    ({"media": "https://x/1.jpg"}, "invalid_type", "media"),
    ({"reported_at": "yesterday"}, "invalid_time", "reported_at"),
    ({"reporter": {"phone": "call me"}}, "invalid_value", "reporter.phone"),
    ({"source_ref": ""}, "invalid_value", "source_ref"),
])
def test_invalid_fields(yx, changes, code, field):
    error(yx.call("POST", "/v1/cases", "demo-hotline-key", body(**changes)), 422, code, field)


def test_limits_and_content_type(yx):
    big = body(description="x" * 70000)
    error(yx.call("POST", "/v1/cases", "demo-hotline-key", big), 413, "body_too_large")
    r = requests.post(yx.url("/v1/cases"), data=json.dumps(GOOD),
                      headers={"Authorization": "Bearer demo-hotline-key", "Content-Type": "text/plain"})
    error(r, 415, "unsupported_media_type")
    # a reporter key reports only for its own source; a department key cannot report
    error(yx.call("POST", "/v1/cases", "demo-hotline-key", body(source="app")), 403, "forbidden_source", "source")
    error(yx.call("POST", "/v1/cases", "demo-dept-fz-water", GOOD), 403, "forbidden_role")
    error(yx.call("GET", "/v1/cases/350102-20261123-999999", "demo-operator-key"), 404, "not_found")
    error(yx.call("GET", "/v1/cases/garbage", "demo-operator-key"), 404, "not_found")
    error(yx.call("GET", "/v1/nothing", "demo-operator-key"), 404, "not_found")
    error(yx.call("DELETE", "/v1/cases", "demo-operator-key"), 405, "method_not_allowed")
    error(yx.call("GET", "/v1/cases?limit=501", "demo-operator-key"), 422, "invalid_value", "limit")
    # still healthy, and a good report still works
    assert yx.call("POST", "/v1/cases", "demo-hotline-key", GOOD).status_code == 201


def test_address_and_grid_and_gcj02(yx):
    r = yx.call("POST", "/v1/cases", "demo-hotline-key", body(location={"grid": "350102001001001"}))
    assert r.status_code == 201, r.text
    loc = r.json()["location"]
    assert (loc["grid"], loc["street"], loc["district"], loc["located_by"]) == \
           ("350102001001001", "350102001", "350102", "grid")
    r = yx.call("POST", "/v1/cases", "demo-hotline-key", body(location={"address": "福州市鼓楼区鼓东街道某某路12号"}))
    assert r.status_code == 201, r.text
    assert r.json()["location"]["street"] == "350102001"
    # the same place reported in GCJ-02 lands in the same grid as in WGS84
    wgs = yx.call("POST", "/v1/cases", "demo-hotline-key", body(location={"lat": 26.0845, "lon": 119.2960})).json()
    glat, glon = wgs84_to_gcj02(26.0845, 119.2960)
    assert abs(glat - 26.0845) > 0.001                     # the offset is real (hundreds of metres)
    gcj = yx.call("POST", "/v1/cases", "demo-hotline-key",
                  body(location={"lat": glat, "lon": glon, "crs": "gcj02"})).json()
    assert abs(gcj["location"]["lat"] - 26.0845) < 1e-5 and abs(gcj["location"]["lon"] - 119.2960) < 1e-5
    assert gcj["location"]["grid"] == wgs["location"]["grid"]
    # a point far outside the city is registered for triage, never dropped
    r = yx.call("POST", "/v1/cases", "demo-hotline-key", body(location={"lat": 39.9, "lon": 116.4}))
    assert r.status_code == 201 and r.json()["location"]["located_by"] == "triage"


def test_rate_limit_answers_429_with_retry_after(make_system):
    yx = make_system(settings={"intake.rate_per_s": 1, "intake.rate_burst": 3},
                     services=["intake", "classifier", "dispatcher"])
    codes = [yx.call("GET", "/v1/cases?limit=1", "demo-operator-key").status_code for _ in range(6)]
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:], codes
    r = yx.call("GET", "/v1/cases?limit=1", "demo-operator-key")
    if r.status_code == 429:
        error(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) >= 1
    # another key has its own bucket
    assert yx.call("GET", "/v1/cases?limit=1", "demo-admin-key").status_code == 200


def test_scopes_hide_cases_as_404_and_mask_phones(yx):
    """Every denial of a read: another district's operator, another source's reporter,
    an unassigned department all get 404 (no existence leak); phones are masked for
    everyone but operators and admins."""
    r = yx.call("POST", "/v1/cases", "demo-hotline-key",
                body(location={"grid": "350111001001001"}, reporter={"name": "李先生", "phone": "13912345678"}))
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert cid.startswith("350111-")
    case = yx.wait_state(cid, "DISPATCHED")
    lead = case["assignments"][0]["department"]
    for key in ("demo-gulou-operator-key", "demo-app-key", "demo-dept-fz-jyj" if lead != "fz-jyj" else "demo-dept-fz-wjw"):
        error(yx.call("GET", f"/v1/cases/{cid}", key), 404, "not_found")
        assert cid not in [c["id"] for c in yx.call("GET", "/v1/cases?limit=500", key).json().get("items", [])]
    for key, phone in (("demo-operator-key", "13912345678"), ("demo-admin-key", "13912345678"),
                       ("demo-hotline-key", "139****5678"), (f"demo-dept-{lead}", "139****5678")):
        got = yx.call("GET", f"/v1/cases/{cid}", key)
        assert got.status_code == 200 and got.json()["reporter"]["phone"] == phone, (key, got.text)


def test_cases_by_reporter_phone(yx):
    """A hotline agent looks up a caller's earlier cases by phone, written with or without
    the country code and separators: operators see the phones, the reporting source sees
    its own cases with phones masked; department keys may not search by phone."""
    written = ["13912345678", "8613912345678", "008613912345678"]
    mine = []
    for phone in written:
        r = yx.call("POST", "/v1/cases", "demo-hotline-key", body(reporter={"name": "李先生", "phone": phone}))
        assert r.status_code == 201, r.text
        mine.append(r.json()["id"])
    other = yx.call("POST", "/v1/cases", "demo-hotline-key", body(reporter={"phone": "13800135678"}))
    assert other.status_code == 201
    yx.call("POST", "/v1/cases", "demo-app-key", body(source="app", reporter={"phone": "13912345678"}))

    r = yx.call("GET", "/v1/cases?phone=%2B86%20139%201234%205678", "demo-operator-key")
    assert r.status_code == 200, r.text
    found = [c for c in r.json()["items"] if c["source"] == "hotline"]
    assert sorted(c["id"] for c in found) == sorted(mine)
    assert {c["reporter"]["phone"] for c in found} == set(written)           # operators see them

    r = yx.call("GET", "/v1/cases?phone=%28139%29%201234-5678", "demo-hotline-key")
    assert sorted(c["id"] for c in r.json()["items"]) == sorted(mine)      # its own source only
    assert all("****" in c["reporter"]["phone"] for c in r.json()["items"])

    error(yx.call("GET", "/v1/cases?phone=13912345678", "demo-dept-fz-water"), 403, "forbidden", "phone")
    for bad in ("abc", "", "1" * 21, "139;1234"):
        r = requests.get(yx.url("/v1/cases"), params={"phone": bad},
                         headers={"Authorization": "Bearer demo-operator-key"}, timeout=10)
        error(r, 422, "invalid_value", "phone")
