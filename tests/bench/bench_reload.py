"""Configuration reload: how long until every service runs the new generation, and how
long intake refuses connections while it restarts in place.

    /usr/bin/python3 tests/bench/bench_reload.py [BUILD] [--rounds N]

Runs a private system of BUILD (default build) on free ports. Each round POSTs
/v1/admin/reload and, on one connection per probe, polls intake's /healthz as fast as it
answers until all five services report the new config_generation. A probe that cannot
connect counts as refused; the refused window is from the first refused probe to the
next one that is answered. The slowest probe of a round is how long a request made
during the restart waited in the backlog. Reports run through the system between rounds.
"""
import os
import statistics
import sys
import tempfile
import time

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from yxsys import System  # noqa: E402

SERVICES = ("intake", "classifier", "dispatcher", "notifier", "metrics")


def generation(s, svc):
    url = {"intake": s.url("/healthz"), "metrics": s.metrics_url("/healthz")}.get(svc) or s.health_url(svc, "/healthz")
    try:
        return requests.get(url, timeout=1).json()["config_generation"]
    except (requests.RequestException, ValueError):
        return None


def one_round(s, gen):
    """Returns (ms until every service is on gen, ms intake refused connections, longest
    ms a /healthz request took, probes cut off by the stop)."""
    start = time.monotonic()
    r = s.call("POST", "/v1/admin/reload", "demo-admin-key")
    assert r.status_code == 202 and r.json()["generation"] == gen, r.text
    refused_at, refused_ms, slowest = None, 0.0, 0.0
    resets = 0                          # probes accepted by the old image and closed by its stop
    while time.monotonic() - start < 30:
        t = time.monotonic()
        try:
            requests.get(s.url("/healthz"), timeout=5)
            slowest = max(slowest, (time.monotonic() - t) * 1000)
            if refused_at is not None:
                refused_ms += (t - refused_at) * 1000
                refused_at = None
        except requests.ConnectionError as e:
            if "refused" not in str(e).lower():
                resets += 1
            elif refused_at is None:
                refused_at = t
        if refused_at is None and all(generation(s, svc) == gen for svc in SERVICES):
            return (time.monotonic() - start) * 1000, refused_ms, slowest, resets
    raise RuntimeError(f"generation {gen} not reached in 30 s")


def main():
    build = next((a for a in sys.argv[1:] if not a.startswith("--")), "build")
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5
    with tempfile.TemporaryDirectory() as tmp:
        s = System(tmp, bin_dir=os.path.join(ROOT, build, "bin"), settings={"log.level": "warn"})
        s.start_all()
        try:
            reached, refused, slowest, cut = [], [], [], []
            for gen in range(1, rounds + 1):
                all_ms, gap_ms, slow_ms, resets = one_round(s, gen)
                cut.append(resets)
                reached.append(all_ms)
                refused.append(gap_ms)
                slowest.append(slow_ms)
                s.wait_ready()
                r = s.report()
                assert r.status_code == 201, r.text
                s.wait_state(r.json()["id"], "DISPATCHED")
        finally:
            s.stop_all()
    print(f"reload, {rounds} rounds: every service on the new generation after median "
          f"{statistics.median(reached):.0f} ms (max {max(reached):.0f}; services look once a second); "
          f"intake refused connections for median {statistics.median(refused):.0f} ms (max {max(refused):.0f}); "
          f"the slowest /healthz of a round took median {statistics.median(slowest):.0f} ms "
          f"(max {max(slowest):.0f}): the wait of a request made during the restart; "
          f"{sum(cut)} probe(s) cut off by the old image's stop")


if __name__ == "__main__":
    main()
