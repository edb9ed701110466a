"""Configuration reload: an admin's POST /v1/admin/reload checks the file and every
service restarts in place on the new one (same pid, cases keep flowing); SIGHUP does
the same for one process; a bad file is refused with FILE:LINE: KEY and changes nothing."""
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import requests

from yxsys import ROOT, wait_for

SERVICES = ("intake", "classifier", "dispatcher", "notifier", "metrics")
NEW_KEY = "reload-test-operator-key"


def health(s, svc):
    if svc == "intake":
        url = s.url("/healthz")
    elif svc == "metrics":
        url = s.metrics_url("/healthz")
    else:
        url = s.health_url(svc, "/healthz")
    r = requests.get(url, timeout=2)
    assert r.status_code == 200, r.text
    return r.json()


class ConnectProbe(threading.Thread):
    """Opens a TCP connection to each port over and over, counting refusals."""

    def __init__(self, ports):
        super().__init__(daemon=True)
        self.ports, self.connected, self.refused, self.done = ports, 0, 0, threading.Event()

    def run(self):
        while not self.done.is_set():
            for port in self.ports:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=2).close()
                    self.connected += 1
                except ConnectionRefusedError:
                    self.refused += 1
            time.sleep(0.002)

    def stop(self):
        self.done.set()
        self.join(10)


def yxctl(s, *args):
    cmd = [os.path.join(s.bin, "yxctl"), "--url", s.url(""), "--json"] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def keys_text():
    with open(os.path.join(ROOT, "config", "city", "keys.cfg"), encoding="utf-8") as f:
        return f.read()


def add_key(s, key):
    """Adds an operator key to the running system's keys.cfg (a real file in this run)."""
    path = os.path.join(s.dir, "city", "keys.cfg")
    digest = hashlib.sha256(key.encode()).hexdigest()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("api_keys = (\n", f'api_keys = (\n  {{ name = "reload-test"; sha256 = "{digest}"; '
                                          f'role = "operator"; scope = "city"; }},\n', 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def break_config(s):
    """Puts an out-of-bounds value into yixian.cfg; returns its line number."""
    with open(s.cfg_path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    n = next(i for i, line in enumerate(lines) if "rung_timeout_ms" in line)
    good = lines[n]
    lines[n] = "  rung_timeout_ms = 5;"
    with open(s.cfg_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return n + 1, good


def restore_line(s, number, text):
    with open(s.cfg_path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    lines[number - 1] = text
    with open(s.cfg_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def assert_stops_clean(s):
    """Restarted processes still exit 0 on SIGTERM, with nothing reported by a sanitizer."""
    names = list(s.procs)
    codes = s.stop_all()
    assert all(code == 0 for code in codes.values()), codes
    for svc in names:
        assert "Sanitizer" not in s.log(svc) and "runtime error" not in s.log(svc), s.log(svc)[-3000:]


def test_admin_reload_reaches_every_service(make_system):
    s = make_system(city_files={"keys.cfg": keys_text()})
    def on_generation(gen):
        now = {svc: health(s, svc) for svc in SERVICES}
        return all(h["config_generation"] == gen for h in now.values()) and now
    before = wait_for(lambda: on_generation(0), what="every service on generation 0")
    assert s.call("GET", "/v1/cases?limit=1", NEW_KEY).status_code == 401

    add_key(s, NEW_KEY)
    # intake and metrics keep their listening sockets across the restart: connecting
    # throughout the reload is never refused (connections wait in the backlog)
    probe = ConnectProbe([s.ports["http"], s.ports["metrics"]])
    probe.start()
    out = yxctl(s, "reload")                     # POST /v1/admin/reload with the demo admin key
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["generation"] == 1 and answer["config"] == s.cfg_path

    after = wait_for(lambda: on_generation(1), timeout=30, what="every service on generation 1")
    probe.stop()
    assert probe.connected > 20 and probe.refused == 0, (probe.connected, probe.refused)
    for svc in ("intake", "metrics"):
        assert "event=restarting reason=reload listeners=1" in s.log(svc), s.log(svc)[-2000:]
    assert {svc: h["pid"] for svc, h in after.items()} == {svc: h["pid"] for svc, h in before.items()}
    s.wait_ready()
    assert s.call("GET", "/v1/cases?limit=1", NEW_KEY).status_code == 200
    for svc in SERVICES:
        log = s.log(svc)
        assert "event=reloading trigger=generation generation=1" in log, (svc, log[-2000:])
        assert log.count("event=started") == 2, (svc, log[-2000:])
    # cases flow through the restarted services
    r = s.report(description="鼓楼区某小区井盖冒污水", location={"lat": 26.0845, "lon": 119.2960})
    assert r.status_code == 201, r.text
    s.wait_state(r.json()["id"], "DISPATCHED")
    assert s.redis.hget("yx:{350100}:config", "requested_by") == "demo-admin"
    assert_stops_clean(s)


def test_bad_file_is_refused_and_nothing_restarts(make_system):
    s = make_system(services=["intake", "classifier", "dispatcher"])
    for key in ("demo-operator-key", "demo-dept-fz-water"):
        r = s.call("POST", "/v1/admin/reload", key)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden_role", r.text
    assert s.call("GET", "/v1/admin/reload", "demo-admin-key").status_code == 405

    line, good = break_config(s)
    out = yxctl(s, "reload")
    assert out.returncode == 1 and "422 config_invalid" in out.stderr, out.stderr
    r = s.call("POST", "/v1/admin/reload", "demo-admin-key")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "config_invalid"
    assert re.search(rf"yixian\.cfg:{line}: dispatcher\.rung_timeout_ms: 5 is outside", err["message"]), err
    assert s.redis.hget("yx:{350100}:config", "generation") is None      # nothing was asked of anyone

    # SIGHUP with the bad file: the process says why and keeps running as it was
    pid = health(s, "classifier")["pid"]
    s.procs["classifier"].send_signal(signal.SIGHUP)
    wait_for(lambda: "event=reload_failed trigger=signal" in s.log("classifier"), what="reload_failed logged")
    assert f"yixian.cfg:{line}: dispatcher.rung_timeout_ms" in s.log("classifier")
    assert health(s, "classifier")["pid"] == pid and s.procs["classifier"].poll() is None
    assert s.log("classifier").count("event=started") == 1

    # fixed, SIGHUP restarts that one process in place
    restore_line(s, line, good)
    s.procs["dispatcher"].send_signal(signal.SIGHUP)
    wait_for(lambda: s.log("dispatcher").count("event=started") == 2, what="dispatcher restarted")
    assert "event=reloading trigger=signal generation=0" in s.log("dispatcher")
    s.wait_ready()
    assert s.procs["dispatcher"].poll() is None
    r = s.report(description="鼓楼区某小区井盖冒污水", location={"lat": 26.0845, "lon": 119.2960})
    assert r.status_code == 201, r.text
    s.wait_state(r.json()["id"], "DISPATCHED")
    assert_stops_clean(s)


def test_check_covers_what_each_service_loads(make_system):
    """--check (systemd's ExecStartPre) checks what the service loads besides the file,
    as a reload does: the classifier's model, the geometry of intake and metrics."""
    good = make_system(start=False)
    broken = make_system(start=False, city_files={"grids.geojson": '{"type": "FeatureCollection", "features": ['})

    def check(s, svc, *settings):
        cmd = [os.path.join(s.bin, f"yx-{svc}"), "-c", s.cfg_path] + s.overrides()
        for kv in settings:
            cmd += ["-s", kv]
        return subprocess.run(cmd + ["--check"], capture_output=True, text=True, timeout=60)

    for svc in SERVICES:
        out = check(good, svc)
        assert out.returncode == 0 and "is valid" in out.stdout, (svc, out.stderr)
    out = check(good, "classifier", "classifier.model=missing.bin")
    assert out.returncode == 2 and "classifier: config error: classifier.model: cannot open model" in out.stderr
    for svc in ("intake", "metrics"):
        out = check(broken, svc)
        assert out.returncode == 2 and f"{svc}: config error: geo:" in out.stderr, out.stderr
    for svc in ("classifier", "dispatcher", "notifier"):     # they do not read the geometry
        assert check(broken, svc).returncode == 0
