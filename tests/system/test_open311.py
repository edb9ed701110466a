"""Open311 GeoReport v2 under /open311/v2/: every resource in JSON and XML, the
specification's error arrays, and a standard client's flow (form POST with api_key,
then GET requests/{id}.json) against the running system."""
import datetime
import re
import xml.etree.ElementTree as ET

import pytest
import requests

from yxsys import wait_for

O = "/open311/v2/"
KEY = "demo-open311-key"
OP = "demo-operator-key"
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
HERE = {"lat": "26.0845", "long": "119.2960"}
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]


class Client:
    """What an Open311 client library does: one session, an endpoint with a trailing
    slash, resource + '.' + format, query parameters for reads (with jurisdiction_id
    when configured), a form-encoded POST with api_key for writes."""

    def __init__(self, endpoint, api_key=None, jurisdiction=None, fmt="json"):
        self.endpoint = endpoint.rstrip("/") + "/"
        self.api_key, self.jurisdiction, self.format = api_key, jurisdiction, fmt
        self.session = requests.Session()

    def _url(self, *parts):
        return self.endpoint + "/".join(p for p in parts if p) + "." + self.format

    def _convert(self, r):
        if self.format == "json":
            return r.json()
        return ET.fromstring(r.content)

    def get(self, *parts, **params):
        if self.jurisdiction:
            params.setdefault("jurisdiction_id", self.jurisdiction)
        self.last = self.session.get(self._url(*parts), params=params, timeout=10)
        return self._convert(self.last)

    def services(self, code=None):
        return self.get("services", code)

    def request(self, rid):
        return self.get("requests", rid)

    def post(self, service_code, **fields):
        fields["service_code"] = service_code
        fields.setdefault("api_key", self.api_key)
        if self.jurisdiction:
            fields.setdefault("jurisdiction_id", self.jurisdiction)
        self.last = self.session.post(self._url("requests"), data=fields, timeout=10)
        return self._convert(self.last)


def get(yx, path, **params):
    return requests.get(yx.url(O + path), params=params, timeout=10)


def post(yx, path, data, headers=None):
    return requests.post(yx.url(O + path), data=data, headers=headers, timeout=10)


def xml_of(r):
    assert r.headers["Content-Type"] == "text/xml; charset=utf-8", r.headers
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(r.content)


def json_of(r):
    assert r.headers["Content-Type"] == "application/json; charset=utf-8", r.headers
    return r.json()


def spark(elem, lists=("endpoints", "formats", "attributes", "values")):
    """The JSON a Spark-convention conversion makes of an XML element (leaf values as text)."""
    if elem.tag in lists:
        return [spark(c) for c in elem]
    if len(elem):
        return {c.tag: spark(c) for c in elem}
    return elem.text


def as_text(value):
    """A JSON leaf as it reads in XML."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(value, ".10g")
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    return str(value)


def errors(r, status):
    """The specification's error array, in whichever format r is."""
    assert r.status_code == status, (r.status_code, r.text)
    if r.headers["Content-Type"].startswith("text/xml"):
        root = xml_of(r)
        assert root.tag == "errors"
        items = [{"code": int(e.findtext("code")), "description": e.findtext("description")} for e in root]
    else:
        items = json_of(r)
    assert isinstance(items, list) and items
    for e in items:
        assert e["code"] == status and isinstance(e["description"], str) and e["description"]
    return items[0]["description"]


def create(yx, code="0102", description="井盖冒污水，物业清掏后仍倒灌", **extra):
    data = {"api_key": KEY, "service_code": code, "description": description, **HERE, **extra}
    r = post(yx, "requests.json", data)
    assert r.status_code == 200, r.text
    return r.json()[0]["service_request_id"]


def test_discovery(yx):
    j = json_of(get(yx, "discovery.json"))
    x = xml_of(get(yx, "discovery.xml"))
    assert x.tag == "discovery"
    assert spark(x) == as_text(j)
    assert set(j) == {"changeset", "contact", "key_service", "endpoints"}
    (ep,) = j["endpoints"]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert ep["url"] == yx.url("/open311/v2")
    assert ep["type"] == "production" and ep["formats"] == ["text/xml", "application/json"]
    assert W3C.match(j["changeset"]) and ep["changeset"] == j["changeset"]


def test_services_and_definitions(yx):
    services = json_of(get(yx, "services.json"))
    x = xml_of(get(yx, "services.xml"))
    assert x.tag == "services" and [c.tag for c in x] == ["service"] * len(services)
    assert [spark(c) for c in x] == as_text(services)
    assert len(services) > 100
    by_code = {s["service_code"]: s for s in services}
    sewage = by_code["0102"]
    assert sewage["service_name"] == "污水井盖" and sewage["group"] == "公用设施"
    assert sewage["metadata"] is True and sewage["type"] == "realtime"
    assert "井盖冒污水" in sewage["keywords"].split(", ")
    assert "4 hours" in sewage["description"]
    for s in services:
        assert list(s) == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]

    d = json_of(get(yx, "services/0102.json"))
    xd = xml_of(get(yx, "services/0102.xml"))
    assert xd.tag == "service_definition" and spark(xd) == as_text(d)
    assert d["service_code"] == "0102"
    attrs = {a["code"]: a for a in d["attributes"]}
    assert set(attrs) == {"title", "crs"}
    assert [a["order"] for a in d["attributes"]] == [1, 2]
    assert attrs["crs"]["datatype"] == "singlevaluelist" and not attrs["crs"]["required"]
    assert [v["key"] for v in attrs["crs"]["values"]] == ["wgs84", "gcj02"]
    assert attrs["title"]["datatype"] == "string" and attrs["title"]["variable"] is True

    assert "9999" in errors(get(yx, "services/9999.json"), 404)
    errors(get(yx, "services/9999.xml"), 404)
    errors(get(yx, "services/..%2Fetc.json"), 404)
    assert get(yx, "services.json", jurisdiction_id="350100").status_code == 200
    assert get(yx, "services.json", jurisdiction_id="").status_code == 200   # empty = not given
    assert "jurisdiction_id" in errors(get(yx, "services.json", jurisdiction_id="sfgov.org"), 404)
    errors(get(yx, "services/0102.xml", jurisdiction_id="sfgov.org"), 404)


def test_a_standard_client_reports_and_follows_a_request(yx):
    client = Client(yx.url(O), api_key=KEY, jurisdiction="350100")
    codes = [s["service_code"] for s in client.services()]
    assert "0102" in codes
    definition = client.services("0102")
    assert definition["attributes"][0]["code"] == "title"
    answer = client.post("0102", lat="26.0845", long="119.2960", address_string="鼓楼区水部街道某小区",
                         email="chen@example.org", device_id="tt222111", account_id="123456",
                         first_name="女士", last_name="陈", phone="13800135678",
                         description="小区多个井盖冒污水，物业清掏后仍倒灌\n请尽快处理",
                         media_url="https://example.org/photo1.jpg", **{"attribute[title]": "井盖冒污水"})
    assert client.last.status_code == 200, client.last.text
    assert len(answer) == 1 and set(answer[0]) == {"service_request_id", "service_notice", "account_id"}
    rid = answer[0]["service_request_id"]
    assert re.match(r"^350102-\d{8}-\d{6}$", rid) and answer[0]["account_id"] is None
    assert rid in answer[0]["service_notice"]

    (req,) = client.request(rid)
    assert list(req) == REQUEST_FIELDS
    assert req["service_request_id"] == rid and req["status"] == "open"
    assert req["service_code"] == "0102" and req["service_name"] == "污水井盖"
    assert req["description"] == "小区多个井盖冒污水，物业清掏后仍倒灌\n请尽快处理"
    assert req["address"] == "鼓楼区水部街道某小区" and req["zipcode"] is None
    assert req["lat"] == pytest.approx(26.0845) and req["long"] == pytest.approx(119.296)
    assert re.match(r"^350102\d{9}$", req["address_id"])
    assert req["media_url"] == "https://example.org/photo1.jpg"
    assert W3C.match(req["requested_datetime"]) and W3C.match(req["updated_datetime"])
    assert "13800135678" not in client.last.text and "陈" not in client.last.text

    # once dispatched, the lead department answers for it, by a deadline
    req = wait_for(lambda: (r := client.request(rid)[0])["agency_responsible"] and r, what="dispatch")
    assert W3C.match(req["expected_datetime"]) and req["expected_datetime"] > req["requested_datetime"]
    assert req["status_notes"]

    # the same case through the native API: source open311, the reporter kept for operators
    case = yx.case(rid)
    assert case["source"] == "open311" and case["title"] == "井盖冒污水"
    assert case["reporter"] == {"name": "陈女士", "phone": "13800135678"}
    assert case["media"] == ["https://example.org/photo1.jpg"]
    lead = next(a for a in case["assignments"] if a["role"] == "lead")
    assert req["expected_datetime"] == re.sub(r"\.\d{3}", "", lead["resolve_due"])

    # the XML client sees the same request
    xclient = Client(yx.url(O), api_key=KEY, fmt="xml")
    root = xclient.request(rid)
    assert root.tag == "service_requests" and [c.tag for c in root] == ["request"]
    assert [c.tag for c in root[0]] == REQUEST_FIELDS
    assert spark(root[0]) == as_text(client.request(rid)[0])

    # tokens resolve to the id (registration is synchronous)
    assert client.get("tokens", rid) == [{"service_request_id": rid, "token": rid}]
    t = xml_of(get(yx, f"tokens/{rid}.xml"))
    assert t[0].findtext("service_request_id") == rid and t[0].findtext("token") == rid
    errors(get(yx, "tokens/350102-20000101-000001.json"), 404)
    errors(get(yx, "tokens/nonsense.xml"), 404)
    errors(get(yx, "requests/350102-20000101-000001.json"), 404)
    errors(get(yx, "requests/not-an-id.xml"), 404)


def test_post_in_xml_with_address_only_and_gcj02(yx):
    r = post(yx, "requests.xml", {"api_key": KEY, "service_code": "0111", "address_id": "350102004001001",
                                  "description": "路灯不亮"})
    assert r.status_code == 200, r.text
    root = xml_of(r)
    assert root.tag == "service_requests" and root[0].tag == "request"
    rid = root[0].findtext("service_request_id")
    assert [c.tag for c in root[0]] == ["service_request_id", "service_notice", "account_id"]
    assert root[0].find("account_id").text is None
    case = yx.case(rid)
    assert case["location"]["grid"] == "350102004001001" and case["location"]["located_by"] == "grid"
    # no description: the service's name stands in; GCJ-02 coordinates are converted
    rid = create(yx, code="0111", description="", **{"attribute[crs]": "gcj02"})
    case = yx.case(rid)
    assert case["description"] == "路灯" and case["location"]["crs_reported"] == "gcj02"
    assert abs(case["location"]["lat"] - 26.0845) > 1e-4


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_errors(yx, fmt):
    path = f"requests.{fmt}"
    good = {"api_key": KEY, "service_code": "0102", "description": "井盖冒污水", **HERE}

    def change(**kw):
        d = dict(good)
        for k, v in kw.items():
            if v is None:
                d.pop(k, None)
            else:
                d[k] = v
        return d

    assert "api_key" in errors(post(yx, path, change(api_key=None)), 403)
    assert "Invalid api_key" in errors(post(yx, path, change(api_key="nope")), 403)
    errors(post(yx, path, change(api_key="demo-hotline-key")), 403)    # a reporter of another source
    errors(post(yx, path, change(api_key=OP)), 403)                    # not a reporter
    assert "service_code" in errors(post(yx, path, change(service_code=None)), 400)
    assert "service_code" in errors(post(yx, path, change(service_code="9999")), 404)
    assert "jurisdiction_id" in errors(post(yx, path, change(jurisdiction_id="sfgov.org")), 404)
    assert "location" in errors(post(yx, path, change(lat=None, long=None)), 400)
    assert "together" in errors(post(yx, path, change(long=None)), 400)
    errors(post(yx, path, change(lat="north")), 400)
    errors(post(yx, path, change(lat="nan")), 400)
    assert errors(post(yx, path, change(lat="95")), 400).startswith("lat:")
    assert errors(post(yx, path, change(address_id="350102999999999", lat=None, long=None)), 400).startswith("address_id:")
    assert "description" in errors(post(yx, path, change(description="长" * 4001)), 400)
    assert "phone" in errors(post(yx, path, change(phone="call me")), 400)
    assert "media_url" in errors(post(yx, path, change(media_url="ftp://x/y.jpg")), 400)
    errors(post(yx, path, change(email="not-an-address")), 400)
    errors(post(yx, path, change(first_name="名" * 65)), 400)
    assert "colour" in errors(post(yx, path, change(colour="red")), 400)
    assert "WHISPAWN" in errors(post(yx, path, change(**{"attribute[WHISPAWN]": "1"})), 400)
    errors(post(yx, path, change(**{"attribute[crs]": "bd09"})), 400)
    errors(post(yx, path, change(**{"attribute[": "1"})), 400)
    errors(post(yx, path, change(**{"attribute[crs][]": "gcj02"})), 400)
    errors(post(yx, path, change(**{"attribute[title]": "长" * 201})), 400)
    raw = {"Content-Type": "application/x-www-form-urlencoded"}
    base = "api_key=demo-open311-key&service_code=0102&lat=26.0845&long=119.2960"
    assert "more than once" in errors(post(yx, path, base + "&lat=1", raw), 400)
    assert "escape" in errors(post(yx, path, base + "&description=%E4%B", raw), 400)
    assert "UTF-8" in errors(post(yx, path, base.encode() + b"&description=\xff", raw), 400)
    assert "UTF-8" in errors(post(yx, path, base + "&description=%C0%AF", raw), 400)
    assert "control" in errors(post(yx, path, base + "&description=a%00b", raw), 400)
    errors(post(yx, path, base + "&=x", raw), 400)
    js = requests.post(yx.url(O + path), json=good, timeout=10)
    assert "x-www-form-urlencoded" in errors(js, 400)
    # nothing above registered a case
    assert yx.redis.zcard("yx:{350102}:cases") == 0


def test_unknown_resources_and_methods(yx):
    errors(get(yx, "nothing.json"), 404)
    errors(get(yx, "services"), 404)            # no format: answered in XML, the required format
    errors(get(yx, "services.html"), 404)
    errors(get(yx, "requests/a/b.json"), 404)
    errors(get(yx, "discovery/x.json"), 404)
    errors(get(yx, "services/.json"), 404)
    errors(requests.put(yx.url(O + "requests.json"), timeout=10), 405)
    errors(requests.post(yx.url(O + "services.xml"), timeout=10), 405)
    errors(requests.delete(yx.url(O + "requests/350102-20261123-000001.json"), timeout=10), 405)
    # public reads need no key, and a Bearer header changes nothing
    assert get(yx, "services.json").status_code == 200
    r = requests.get(yx.url(O + "discovery.json"), headers={"Authorization": "Bearer nope"}, timeout=10)
    assert r.status_code == 200


def test_get_requests_filters_and_pages(yx):
    sewage = [create(yx) for _ in range(3)]
    lamps = [create(yx, code="0111", description="路灯不亮，晚上很黑") for _ in range(2)]
    for rid in sewage + lamps:
        yx.wait_state(rid, "DISPATCHED")
    r = yx.act(sewage[0], OP, "reject", reason="重复恶意举报")
    assert r.status_code == 200, r.text

    everything = json_of(get(yx, "requests.json"))
    ids = [q["service_request_id"] for q in everything]
    assert ids == list(reversed(sewage + lamps))       # newest first
    x = xml_of(get(yx, "requests.xml"))
    assert [e.findtext("service_request_id") for e in x] == ids
    assert [spark(e) for e in x] == as_text(everything)

    def ids_of(**params):
        r = get(yx, "requests.json", **params)
        assert r.status_code == 200, r.text
        return [q["service_request_id"] for q in r.json()]

    rejected = json_of(get(yx, f"requests/{sewage[0]}.json"))[0]
    assert rejected["status"] == "closed" and rejected["status_notes"] == "重复恶意举报"
    assert ids_of(status="closed") == [sewage[0]]
    assert ids_of(status="open") == list(reversed(sewage[1:] + lamps))
    assert ids_of(status="open,closed") == ids
    assert ids_of(service_code="0111") == list(reversed(lamps))
    assert ids_of(service_code="0111,0102", status="open") == list(reversed(sewage[1:] + lamps))
    assert ids_of(service_request_id=f"{lamps[0]},350102-20000101-000009,{sewage[2]},{lamps[0]}",
                  status="closed") == [lamps[0], sewage[2]]     # overrides the other arguments
    assert ids_of(page_size=2) == ids[:2]
    assert ids_of(page_size=2, page=2) == ids[2:4]
    assert ids_of(page_size=2, page=3) == ids[4:]
    assert ids_of(page_size=2, page=4) == []
    assert ids_of(status="open", page_size=1, page=2) == [ids[1]]
    assert ids_of(start_date="2000-01-01T00:00:00Z", end_date="2000-03-01T00:00:00Z") == []
    assert ids_of(start_date="2000-01-01T00:00:00Z") == []       # 90 days from start_date
    today = everything[0]["requested_datetime"][:10]
    assert ids_of(start_date=today) == ids
    tomorrow = (datetime.date.fromisoformat(today) + datetime.timedelta(days=1)).isoformat()
    assert ids_of(end_date=f"{tomorrow}T00:00:00+08:00") == ids
    assert ids_of(end_date=f"{today}T00:00Z", start_date=f"{today}T00:00+01:00") == []   # hh:mm, zones
    # an unescaped '+' in the query string reads as a space; it is taken back as '+'
    r = requests.get(yx.url(O + f"requests.json?start_date={today}T00:00:00+08:00"), timeout=10)
    assert [q["service_request_id"] for q in r.json()] == ids

    assert "90 days" in errors(get(yx, "requests.json", start_date="2026-01-01T00:00:00Z",
                                   end_date="2026-06-01T00:00:00Z"), 400)
    errors(get(yx, "requests.json", start_date="2026-02-01T00:00:00Z", end_date="2026-01-01T00:00:00Z"), 400)
    assert "start_date" in errors(get(yx, "requests.json", start_date="yesterday"), 400)
    assert "end_date" in errors(get(yx, "requests.xml", end_date="2026-01-01T00:00:00"), 400)
    errors(get(yx, "requests.json", status="pending"), 400)
    errors(get(yx, "requests.json", service_code="9999"), 400)
    errors(get(yx, "requests.json", page="0"), 400)
    errors(get(yx, "requests.json", page_size="1001"), 400)
    errors(get(yx, "requests.json", page_size="ten"), 400)
    errors(get(yx, "requests.json", jurisdiction_id="sfgov.org"), 404)
    errors(get(yx, "requests.json", service_request_id=",".join([sewage[0]] * 101)), 400)
    assert "13800135678" not in get(yx, "requests.json").text


def test_public_reads_are_limited_per_client_address(make_system):
    """Reads need no key, so intake limits them per client address (429 with Retry-After,
    in the specification's error format); behind the trusted proxy, the address it
    appends to X-Forwarded-For is the client, and what the client wrote there itself is not."""
    yx = make_system(settings={"intake.public_rate_per_s": 1, "intake.public_rate_burst": 3,
                               "intake.trusted_proxy": "127.0.0.1"}, services=["intake"])

    def burst(path, xff=None):
        headers = {"X-Forwarded-For": xff} if xff else {}
        return [requests.get(yx.url(O + path), headers=headers, timeout=10) for _ in range(6)]

    first = burst("services.json", "203.0.113.7")
    codes = [r.status_code for r in first]
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:], codes
    limited = next(r for r in first if r.status_code == 429)
    assert "retry after" in errors(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1
    # the client's own claim to the left of the proxy's entry changes nothing
    again = burst("discovery.xml", "198.51.100.99, 203.0.113.7")
    assert 429 in [r.status_code for r in again]
    errors(next(r for r in again if r.status_code == 429), 429)
    # another client behind the proxy, and the proxy itself, have buckets of their own
    assert [r.status_code for r in burst("services.json", "203.0.113.7, 198.51.100.9")][:3] == [200] * 3
    assert [r.status_code for r in burst("services.json")][:3] == [200] * 3
    # keyed requests are limited per key, not per address
    data = {"api_key": KEY, "service_code": "0102", "description": "井盖冒污水", **HERE}
    assert post(yx, "requests.json", data, headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200
