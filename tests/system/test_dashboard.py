"""The operations dashboard in a real browser: headless Chromium (Debian's chromium)
loads http://metrics/ against a running system and the rendered page must show the
right numbers. Each test keeps a screenshot in its tmp dir and copies it to
build/test-artifacts/.

The cases are the ten of test_metrics.seed_city, so the expected numbers are the
hand-worked ones of that file; the last test reports a case through the intake.

Run: /usr/bin/python3 -m pytest tests/system/test_dashboard.py
"""
import json
import os
import shutil
import subprocess
import time
from html.parser import HTMLParser

import pytest

from test_metrics import (COMMUNITY_KEY, DAY, GULOU, OPERATOR, STREET_KEY, get, metrics_system,
                          seed_city, wait_cases)
from yxsys import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = os.path.join(ROOT, "build", "test-artifacts")


class Page(HTMLParser):
    """What the rendered DOM shows: text of elements with an id, board and league
    rows in order, map grids and points, trend bars."""

    def __init__(self, html):
        super().__init__()
        self.text = {}          # id → text content
        self.hidden = set()     # ids of elements with the hidden attribute
        self.board = []         # data-case of the board's rows, in order
        self.league = []        # data-dept of the league's rows, in order
        self.grids = {}         # grid code → (open, late)
        self.points = []        # class of each case point
        self.bars = {}          # "rep"/"clo" → sum of the hourly bars
        self.ready = False      # the page rendered data at least once
        self._open = []         # ids of elements being read
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body" and a.get("data-ready") == "1":
            self.ready = True
        if "id" in a:
            self._open.append([a["id"], tag, 0])
            self.text[a["id"]] = ""
            if "hidden" in a:
                self.hidden.add(a["id"])
        for o in self._open:
            if o[1] == tag:
                o[2] += 1
        if tag == "tr" and "data-case" in a:
            self.board.append(a["data-case"])
        if tag == "tr" and "data-dept" in a:
            self.league.append(a["data-dept"])
        if tag == "path" and "data-grid" in a:
            self.grids[a["data-grid"]] = (int(a["data-open"]), int(a.get("data-late", "0")))
        if tag == "circle" and "pt" in a.get("class", ""):
            self.points.append(a["class"])
        if tag == "rect" and "bar" in a.get("class", ""):
            kind = a["class"].split()[-1]
            self.bars[kind] = self.bars.get(kind, 0) + int(a["data-value"])

    def handle_endtag(self, tag):
        for o in self._open:
            if o[1] == tag:
                o[2] -= 1
        self._open = [o for o in self._open if o[2] > 0]

    def handle_data(self, data):
        for o in self._open:
            self.text[o[0]] += data

    def __getitem__(self, element_id):
        return self.text[element_id].strip()


def chromium(tmp_path, *args):
    """Runs headless Chromium with a fresh profile; returns stdout."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium not found: install the Debian package chromium (scripts/deps.sh)")
    profile = tmp_path / f"profile-{time.monotonic_ns()}"
    profile.mkdir()
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1600,1000",
           "--virtual-time-budget=10000", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def load(system, tmp_path, key, shot, ready=True):
    """The dashboard as rendered for key (None: no key), with a screenshot of the same
    moment kept as tmp_path/shot and build/test-artifacts/shot. ready: data is
    expected on the page."""
    url = system.metrics_url("/" + (f"?key={key}" if key else ""))
    path = tmp_path / shot
    page = None
    for _ in range(3):   # a slow first load may need one more go
        page = Page(chromium(tmp_path, "--dump-dom", f"--screenshot={path}", url))
        if page.ready or not ready:
            break
    assert page.ready == ready, "the page did not render data" if ready else "the page rendered data"
    assert path.exists() and path.stat().st_size > 10000
    os.makedirs(ARTIFACTS, exist_ok=True)
    shutil.copy(path, os.path.join(ARTIFACTS, shot))
    return page


def today(n, created):
    """How many of the times fall on the local (+08:00) day of n."""
    start = (n + 8 * 3600_000) // DAY * DAY - 8 * 3600_000
    return sum(1 for t in created if t >= start)


def grid_count(prefix):
    with open(os.path.join(ROOT, "config", "city", "grids.geojson"), encoding="utf-8") as f:
        return sum(1 for g in json.load(f)["features"] if g["properties"]["code"].startswith(prefix))


def created(system, ids, names):
    return [int(system.redis.zscore(f"yx:{{{ids[c][:6]}}}:cases", ids[c])) for c in names]


def closed(system, ids, names):
    return [json.loads(system.redis.hget(f"yx:{{{ids[c][:6]}}}:case:{ids[c]}", "doc"))["closed_ms"] for c in names]


def test_city_dashboard(make_system, tmp_path):
    s = metrics_system(make_system)
    n, ids = seed_city(s.redis)
    wait_cases(s, 10)
    p = load(s, tmp_path, OPERATOR, "dashboard.png")
    assert p["scope-name"] == "全市" and p["status"] == "实时"
    everything = ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10"]
    assert p["c-reported-today"] == str(today(n, created(s, ids, everything)))
    assert p["c-closed-today"] == str(today(n, closed(s, ids, ["c1", "c2", "c9"])))
    assert (p["c-open"], p["c-late"], p["c-escalated"], p["c-top-rung"], p["c-triage"], p["c-suspended"]) == \
        ("5", "2", "2", "1", "1", "0")
    assert (p["r-response"], p["r-on-time"], p["r-resolution"], p["r-satisfaction"], p["r-rework"], p["r-return"]) == \
        ("71.4%", "50.0%", "50.0%", "66.7%", "25.0%", "14.3%")
    assert (p["r-ack"], p["r-resolve"]) == ("13分钟", "2.5小时")
    assert p.board == [ids["c5"], ids["c3"]] and p["board-total"] == "2"
    assert p.league == ["ja-cgj", "fz-water", "gl-cgj", "st-350102002"]
    assert len(p.grids) == 1131
    assert p.grids["350102002002001"] == (3, 1)    # c4, c5 (late), c7
    assert p.grids["350102001002001"] == (1, 1)    # c3, past its resolve-by
    assert p.grids["350111001001001"] == (1, 0)    # c8, waiting for triage
    assert p.grids["350102001001001"] == (0, 0)    # c1, c2 closed, c10 merged
    assert sum(o for o, _ in p.grids.values()) == 5
    assert len(p.points) == 5 and sum("late" in c for c in p.points) == 2
    assert p.bars["rep"] == today(n, created(s, ids, everything))
    assert (p["map-open"], p["map-late"]) == ("5", "2")
    assert "key-dialog" in p.hidden


def test_scoped_dashboards(make_system, tmp_path):
    s = metrics_system(make_system)
    n, ids = seed_city(s.redis)
    wait_cases(s, 10)
    street = load(s, tmp_path, STREET_KEY, "dashboard-street.png")
    assert street["scope-name"] == "鼓西街道"
    assert street["c-reported-today"] == str(today(n, created(s, ids, ["c4", "c5", "c6", "c7"])))
    assert (street["c-open"], street["c-late"], street["c-top-rung"], street["c-closed-today"]) == ("3", "1", "1", "0")
    assert street.board == [ids["c5"]]
    assert street.league == ["fz-water", "st-350102002", "gl-cgj"]   # no rate yet: last
    assert len(street.grids) == grid_count("350102002") and sum(o for o, _ in street.grids.values()) == 3
    community = load(s, tmp_path, COMMUNITY_KEY, "dashboard-community.png")
    assert community["scope-name"] == "中山社区"
    assert (community["c-open"], community["c-late"], community["r-satisfaction"]) == ("0", "0", "50.0%")
    assert community["c-closed-today"] == str(today(n, closed(s, ids, ["c1", "c2"])))
    assert community.board == [] and "board-empty" not in community.hidden
    assert len(community.grids) == grid_count("350102001001")
    district = load(s, tmp_path, GULOU, "dashboard-district.png")
    assert district["scope-name"] == "鼓楼区" and district["c-open"] == "4" and district["c-triage"] == "0"
    assert len(district.grids) == grid_count("350102")


def test_key_prompt(make_system, tmp_path):
    s = metrics_system(make_system)
    wait_cases(s, 0)
    p = load(s, tmp_path, None, "dashboard-no-key.png", ready=False)
    assert "key-dialog" not in p.hidden and p["c-open"] == "—"
    bad = load(s, tmp_path, "demo-hotline-key", "dashboard-bad-key.png", ready=False)
    assert "key-dialog" not in bad.hidden and "无权" in bad["key-error"]


def test_dashboard_of_a_running_system(yx, tmp_path):
    """Every service running; a case reported through POST /v1/cases reaches the wall."""
    r = yx.report(description="鼓楼区某小区多个井盖冒污水，物业清掏后仍倒灌")
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    yx.wait_state(case_id, "DISPATCHED", timeout=20)
    wait_cases(yx, 1)
    assert get(yx, "/v1/dashboard").json()["counters"]["open"] == 1
    p = load(yx, tmp_path, OPERATOR, "dashboard-live.png")
    assert (p["c-reported-today"], p["c-open"], p["c-late"]) == ("1", "1", "0")
    assert len(p.points) == 1 and sum(o for o, _ in p.grids.values()) == 1
    assert set(p.league) == {a["department"] for a in yx.case(case_id)["assignments"]}
