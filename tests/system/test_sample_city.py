"""Checks on the generated sample city in config/city/ (see docs/sample-city.md).

Run with: /usr/bin/python3 -m pytest tests/system/test_sample_city.py
Standard library and pytest only. The .cfg files are read with a small libconfig reader
below, so these tests need no build.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CITY = ROOT / "config" / "city"
GENERATOR = ROOT / "scripts" / "gen_city.py"
DATA = Path(os.environ.get("YX_CITY_DATA", ROOT.parent / "shared" / "data" / "city"))
GENERATED_FILES = ["areas.cfg", "streets.geojson", "grids.geojson", "gazetteer.tsv",
                   "departments.cfg", "taxonomy.cfg", "responsibility.cfg", "keys.cfg",
                   "calendar.cfg"]


# ---------------------------------------------------------------------------------------
# A minimal libconfig reader: settings, groups, lists, arrays, strings, numbers, booleans
# and comments (enough for the files under config/city/).
# ---------------------------------------------------------------------------------------

TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
  | (?P<name>[A-Za-z*][-A-Za-z0-9_*]*)
  | (?P<punct>[=:;,{}()\[\]])
""", re.VERBOSE | re.DOTALL)


def tokenize(text):
    """libconfig tokens as (kind, value) pairs, comments and whitespace dropped."""
    tokens, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise ValueError("bad libconfig syntax at %r" % text[pos:pos + 30])
        pos = m.end()
        kind = m.lastgroup
        if kind == "string":
            tokens.append(("string", json.loads(m.group())))
        elif kind != "space":
            tokens.append((kind, m.group()))
    return tokens


class ConfigReader:
    """Recursive-descent reader over a token list."""

    def __init__(self, text):
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self):
        """The next token, or (None, None) at the end."""
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, value=None):
        """Consume the next token, checking its text when given."""
        token = self.peek()
        if value is not None and token[1] != value:
            raise ValueError("expected %r, got %r" % (value, token[1]))
        self.pos += 1
        return token

    def settings(self, closer):
        """Settings up to the closing token; returns a dict."""
        out = {}
        while self.peek()[1] != closer:
            kind, name = self.take()
            assert kind == "name", "setting name expected, got %r" % name
            assert name not in out, "duplicate setting %s" % name
            self.take("=") if self.peek()[1] == "=" else self.take(":")
            out[name] = self.value()
            if self.peek()[1] in (";", ","):
                self.take()
        return out

    def elements(self, closer):
        """Comma-separated values up to the closing token; returns a list."""
        out = []
        while self.peek()[1] != closer:
            out.append(self.value())
            if self.peek()[1] == ",":
                self.take()
        self.take(closer)
        return out

    def value(self):
        """One value: scalar, group, list or array."""
        kind, text = self.take()
        if text == "{":
            group = self.settings("}")
            self.take("}")
            return group
        if text == "(":
            return self.elements(")")
        if text == "[":
            items = self.elements("]")
            assert len({type(i) for i in items}) <= 1, "mixed array"
            return items
        if kind == "string":
            while self.peek()[0] == "string":   # adjacent strings concatenate
                text += self.take()[1]
            return text
        if kind == "number":
            return float(text) if re.search(r"[.eE]", text) else int(text)
        if kind == "name" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise ValueError("unexpected token %r" % text)


def read_cfg(name):
    """Parse config/city/<name> into a dict of its top-level settings."""
    reader = ConfigReader((CITY / name).read_text(encoding="utf-8"))
    out = reader.settings(None)
    assert reader.pos == len(reader.tokens)
    return out


# ---------------------------------------------------------------------------------------
# Geometry helpers (planar, in degrees)
# ---------------------------------------------------------------------------------------

def rings_of(geometry):
    """All rings (closed coordinate lists) of a Polygon or MultiPolygon."""
    assert geometry["type"] in ("Polygon", "MultiPolygon")
    parts = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        parts = [parts]
    return [ring for part in parts for ring in part]


def area(geometry):
    """Shoelace area: outer rings minus holes (rings of a polygon after the first)."""
    parts = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        parts = [parts]
    total = 0.0
    for part in parts:
        for k, ring in enumerate(part):
            a = abs(sum(x0 * y1 - x1 * y0
                        for (x0, y0), (x1, y1) in zip(ring, ring[1:]))) / 2.0
            total += a if k == 0 else -a
    return total


def contains(geometry, x, y):
    """Even-odd point-in-polygon over all rings."""
    inside = False
    for ring in rings_of(geometry):
        for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                inside = not inside
    return inside


def bbox(geometry):
    """(xmin, ymin, xmax, ymax) of a geometry."""
    xs = [p[0] for ring in rings_of(geometry) for p in ring]
    ys = [p[1] for ring in rings_of(geometry) for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


# ---------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def areas():
    """The areas group of areas.cfg."""
    return read_cfg("areas.cfg")["areas"]


@pytest.fixture(scope="module")
def communities(areas):
    """{community code: (community group, street code, district code)}."""
    out = {}
    for d in areas["districts"]:
        for s in d["streets"]:
            for c in s["communities"]:
                out[c["code"]] = (c, s["code"], d["code"])
    return out


@pytest.fixture(scope="module")
def streets_geo():
    """Features of streets.geojson."""
    return json.loads((CITY / "streets.geojson").read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def grids():
    """Features of grids.geojson."""
    return json.loads((CITY / "grids.geojson").read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def departments():
    """{department id: department group} from departments.cfg."""
    return {d["id"]: d for d in read_cfg("departments.cfg")["departments"]}


@pytest.fixture(scope="module")
def taxonomy():
    """The taxonomy list of taxonomy.cfg."""
    return read_cfg("taxonomy.cfg")["taxonomy"]


# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------

def test_regeneration_is_deterministic(tmp_path):
    """A fresh run of the generator reproduces the committed files byte for byte."""
    if not (DATA / "divisions.tsv").exists():
        pytest.skip("source data not found at %s (set YX_CITY_DATA)" % DATA)
    subprocess.run([sys.executable, str(GENERATOR), str(DATA), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    for name in GENERATED_FILES:
        assert (tmp_path / name).read_bytes() == (CITY / name).read_bytes(), \
            "%s differs from a fresh run of scripts/gen_city.py" % name


def test_tree_matches_official_divisions(areas, communities):
    """2 districts, 19 streets, 281 communities with the official codes and names."""
    assert areas["city"] == "350100"
    assert [d["code"] for d in areas["districts"]] == ["350102", "350111"]
    assert sum(len(d["streets"]) for d in areas["districts"]) == 19
    assert len(communities) == 281
    for d in areas["districts"]:
        for s in d["streets"]:
            assert re.fullmatch(d["code"] + r"\d{3}", s["code"])
            for c in s["communities"]:
                assert re.fullmatch(s["code"] + r"\d{3}", c["code"])
    if (DATA / "divisions.tsv").exists():
        rows = [line.split("\t") for line in
                (DATA / "divisions.tsv").read_text(encoding="utf-8").splitlines()[1:]]
        official = {r[1]: r[2] for r in rows if r[0] == "village"}
        assert {code: c[0]["name"] for code, c in communities.items()} == official


def test_grid_counts_and_codes(grids, communities):
    """At least 1,000 grids, numbered 001..N in every community as areas.cfg says."""
    assert len(grids) >= 1000
    codes = [g["properties"]["code"] for g in grids]
    assert len(set(codes)) == len(codes)
    per_community = {}
    for g in grids:
        p = g["properties"]
        assert re.fullmatch(r"\d{15}", p["code"])
        assert p["code"][:12] == p["community"]
        assert p["community"] in communities
        _, street, district = communities[p["community"]]
        assert (p["street"], p["district"]) == (street, district)
        per_community.setdefault(p["community"], []).append(p["code"])
    for code, (community, _, _) in communities.items():
        assert community["grids"] >= 1
        expected = ["%s%03d" % (code, k) for k in range(1, community["grids"] + 1)]
        assert sorted(per_community.get(code, [])) == expected


def test_grids_tile_each_street(grids, streets_geo, areas):
    """A street's grids cover its outline without gaps or overlaps."""
    street_codes = {s["code"] for d in areas["districts"] for s in d["streets"]}
    assert {s["properties"]["adcode"] for s in streets_geo} == street_codes
    by_street = {}
    for g in grids:
        by_street.setdefault(g["properties"]["street"], []).append(g)
    for street in streets_geo:
        outline = street["geometry"]
        members = by_street[street["properties"]["adcode"]]
        total = sum(area(g["geometry"]) for g in members)
        assert abs(total - area(outline)) <= 0.005 * area(outline), street["properties"]
        # No overlaps, no gaps: a lattice of sample points in the street's box is covered
        # by exactly one of its grids inside the outline and by none outside.
        boxes = [(bbox(g["geometry"]), g) for g in members]
        xmin, ymin, xmax, ymax = bbox(outline)
        n = 45
        for i in range(n):
            for j in range(n):
                x = xmin + (xmax - xmin) * (i + 0.5137) / n
                y = ymin + (ymax - ymin) * (j + 0.4731) / n
                hits = sum(1 for (bx0, by0, bx1, by1), g in boxes
                           if bx0 <= x <= bx1 and by0 <= y <= by1
                           and contains(g["geometry"], x, y))
                assert hits == (1 if contains(outline, x, y) else 0), (street["properties"], x, y)


def test_geojson_is_compact(grids):
    """Closed rings, at most 6 decimals, a file under 5 MB."""
    assert (CITY / "grids.geojson").stat().st_size < 5_000_000
    for g in grids[:50]:
        for ring in rings_of(g["geometry"]):
            assert ring[0] == ring[-1] and len(ring) >= 4
            assert all(len(repr(v).split(".")[-1]) <= 6 for p in ring for v in p)


def test_gazetteer(grids, areas):
    """Unique names pointing at existing grids, every street and community included."""
    lines = (CITY / "gazetteer.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "name\tgrid"
    entries = [line.split("\t") for line in lines[1:]]
    assert all(len(e) == 2 for e in entries)
    names = [name for name, _ in entries]
    assert len(set(names)) == len(names), "ambiguous duplicate names"
    grid_codes = {g["properties"]["code"] for g in grids}
    place = dict(entries)
    assert set(place.values()) <= grid_codes
    for d in areas["districts"]:
        for s in d["streets"]:
            assert place[s["name"]].startswith(s["code"])
            for c in s["communities"]:
                assert place[c["name"]].startswith(c["code"])


def test_departments(departments, areas):
    """At least 60 departments following the id and level conventions."""
    assert len(departments) >= 60
    levels = {"city", "district", "street", "utility", "command", "leader"}
    district_codes = [d["code"] for d in areas["districts"]]
    for dept_id, d in departments.items():
        assert d["level"] in levels
        assert d["webhook"] == ""
        assert d["name"]
        if d["level"] in ("city", "utility"):
            assert d["district"] == "" and d["street"] == ""
        if d["level"] in ("district", "street", "leader"):
            assert d["district"] in district_codes
    for code in district_codes:
        assert departments["cc-" + code]["level"] == "command"
        assert departments["ld-" + code]["level"] == "leader"
    assert departments["cc-city"]["level"] == "command"
    for d in areas["districts"]:
        for s in d["streets"]:
            office = departments["st-" + s["code"]]
            assert (office["level"], office["district"], office["street"]) == \
                ("street", d["code"], s["code"])
            assert departments[office["supervisor"]]["district"] == d["code"]


def test_supervisor_chains_terminate(departments):
    """Every supervisor chain ends, without a cycle, at a leader or cc-city."""
    for dept_id in departments:
        seen, current = [], dept_id
        while departments[current]["supervisor"]:
            seen.append(current)
            current = departments[current]["supervisor"]
            assert current in departments, "unknown supervisor of %s" % seen[-1]
            assert current not in seen, "supervisor cycle through %s" % current
        assert current == "cc-city" or departments[current]["level"] == "leader", dept_id


def test_taxonomy(taxonomy):
    """At least 60 well-formed subcategories; emergencies are urgent and wall-clock."""
    assert len(taxonomy) >= 60
    codes = [t["code"] for t in taxonomy]
    assert len(set(codes)) == len(codes)
    limit = re.compile(r"[1-9]\d*[mhd]")
    kinds = {"0": "component", "1": "event", "2": "hotline"}
    for t in taxonomy:
        assert re.fullmatch(r"(0[1-6]|1[1-5]|2[1-7])\d\d", t["code"]), t["code"]
        assert t["kind"] == kinds[t["code"][0]]
        assert limit.fullmatch(t["ack_limit"]) and limit.fullmatch(t["resolve_limit"])
        assert t["priority"] in ("low", "normal", "high", "urgent")
        assert t["emergency"] is t["code"].startswith("15")
        if t["emergency"]:
            assert t["priority"] == "urgent" and not t["resolve_limit"].endswith("d")
        assert len(t["keywords"]) >= 3
    hotline_classes = {t["class"] for t in taxonomy if t["kind"] == "hotline"}
    assert hotline_classes == {"城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障",
                               "商贸旅游", "卫生计生"}
    by_code = {t["code"]: t for t in taxonomy}
    assert by_code["1304"]["resolve_limit"] == "15d"
    assert by_code["1101"]["resolve_limit"] == "4h"


def test_keywords_are_unique_and_pick_the_right_subcategory(taxonomy):
    """No keyword belongs to two subcategories; longest-keyword matching classifies
    clear city-management reports correctly."""
    owner = {}
    for t in taxonomy:
        for kw in t["keywords"]:
            assert owner.setdefault(kw, t["code"]) == t["code"], "keyword %s used twice" % kw

    def classify(text):
        """The subcategory of the longest keyword found in the text."""
        hits = [(len(kw), code) for kw, code in owner.items() if kw in text]
        return max(hits)[1] if hits else None

    examples = {
        "井盖冒污水": "0102", "路灯不亮": "0111", "占道经营": "1401", "暴露垃圾": "1101",
        "鼓东街道中山社区路口的井盖冒污水，很臭": "0102",
        "小区门口路灯不亮好几天了": "0111",
        "菜市场门口有人占道经营堵住了路": "1401",
        "楼下垃圾桶旁边暴露垃圾没人清": "1101",
        "晚上十一点工地还在施工，施工噪音很大": "1301",
        "楼顶加盖了一层违章建筑": "1304",
        "闻到很大的煤气味，怀疑燃气泄漏": "1503",
        "路边一根自来水管爆裂，路面冒水": "1502",
        "消防通道被私家车堵死了": "1405",
        "学校的学生午餐质量差": "2401",
        "公司拖欠工资三个月": "2501",
    }
    for text, code in examples.items():
        assert classify(text) == code, text


def test_responsibility(taxonomy, departments, areas):
    """An area "*" row per subcategory; rows name existing departments of their area."""
    rows = read_cfg("responsibility.cfg")["responsibility"]
    categories = {t["code"] for t in taxonomy}
    district_codes = {d["code"] for d in areas["districts"]}
    area_codes = {"*"} | district_codes | {s["code"] for d in areas["districts"]
                                           for s in d["streets"]} | \
        {c["code"] for d in areas["districts"] for s in d["streets"] for c in s["communities"]}
    keys = [(r["category"], r["area"]) for r in rows]
    assert len(set(keys)) == len(keys)
    assert {c for c, a in keys if a == "*"} == categories
    for r in rows:
        assert r["category"] in categories and r["area"] in area_codes
        assert r["mode"] in ("owner", "locality")
        assert r["lead"], r
        for dept_id in r["lead"] + r["assist"]:
            assert dept_id in departments, dept_id
            home = departments[dept_id]["district"]
            if r["area"] != "*":
                assert home in ("", r["area"][:6]), (r, dept_id)
    by_key = {(r["category"], r["area"]): r for r in rows}
    assert by_key[("0102", "*")]["mode"] == "owner"
    assert by_key[("0102", "*")]["lead"] == ["fz-water"]
    assert by_key[("1101", "350102")]["mode"] == "locality"
    assert by_key[("1101", "350102")]["lead"] == ["gl-cgj"]


def sha(text):
    """Hex SHA-256 of a string."""
    return hashlib.sha256(text.encode()).hexdigest()


def test_every_department_has_a_demo_key(departments):
    """The fixed demo keys and one key per department, stored hashed."""
    keys = read_cfg("keys.cfg")["api_keys"]
    by_name = {k["name"]: k for k in keys}
    assert len(by_name) == len(keys)
    assert len({k["sha256"] for k in keys}) == len(keys)
    for k in keys:
        assert re.fullmatch(r"[0-9a-f]{64}", k["sha256"])
        assert k["role"] in ("reporter", "operator", "department", "admin")
    for dept_id in departments:
        k = by_name["demo-dept-" + dept_id]
        assert (k["sha256"], k["role"], k["scope"]) == \
            (sha("demo-dept-" + dept_id), "department", dept_id)
    fixed = {"demo-hotline-key": ("reporter", "hotline"),
             "demo-open311-key": ("reporter", "open311"),
             "demo-app-key": ("reporter", "app"), "demo-grid-key": ("reporter", "grid"),
             "demo-operator-key": ("operator", "city"),
             "demo-gulou-operator-key": ("operator", "350102"),
             "demo-admin-key": ("admin", None)}
    text = (CITY / "keys.cfg").read_text(encoding="utf-8")
    for plain, (role, scope) in fixed.items():
        k = by_name[plain[:-len("-key")]]
        assert k["sha256"] == sha(plain) and k["role"] == role
        assert scope is None or k["scope"] == scope
        assert plain in text.split("api_keys")[0], "plaintext not listed in the header"


def test_calendar():
    """Beijing time, the two work periods, 2026 and 2027 holidays and make-up days."""
    cal = read_cfg("calendar.cfg")["calendar"]
    assert cal["utc_offset"] == "+08:00"
    assert cal["work_hours"] == ["08:30-12:00", "14:30-18:00"]
    assert cal["weekend"] == [6, 7]
    holidays = [date.fromisoformat(d) for d in cal["holidays"]]
    workdays = [date.fromisoformat(d) for d in cal["workdays"]]
    assert holidays == sorted(set(holidays)) and workdays == sorted(set(workdays))
    assert not set(holidays) & set(workdays)
    assert all(d.isoweekday() in (6, 7) for d in workdays), "make-up days fall on weekends"
    assert {d.year for d in holidays} == {2026, 2027}
    assert date(2026, 10, 1) in holidays and date(2026, 2, 17) in holidays
    assert date(2027, 10, 1) in holidays
