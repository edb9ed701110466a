"""Test harness: a private redis-server and the real Yixian binaries on free ports.

Used by the pytest system tests (conftest.py) and by the benchmark. Every process's
log goes to a file in the run's folder; nothing is left running after stop()."""
import json
import os
import random
import re
import signal
import socket
import subprocess
import time

import redis
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVICES = ["intake", "classifier", "dispatcher", "notifier", "metrics"]


_GIVEN = set()


def free_port():
    """A TCP port nobody listens on right now, below the kernel's ephemeral range (so an
    outgoing connection of a running service cannot be sitting on it) and never handed
    out twice by this process."""
    while True:
        port = random.randrange(20000, 32000)
        if port in _GIVEN:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN.add(port)
        return port


def wait_for(cond, timeout=15.0, interval=0.05, what="condition"):
    """Polls cond() until it returns something truthy; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = cond()
            if last:
                return last
        except (requests.RequestException, redis.RedisError, OSError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def lines_once_subscribed(lines, probe, tries=10):
    """For a subscriber that prints to lines (a list filled by a reader thread): calls
    probe() — which causes an event and returns a string the event's line contains —
    until such a line appears (a new subscription takes a moment to reach its
    publisher). Returns the matching lines, or [] after tries attempts."""
    for _ in range(tries):
        token = probe()
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            hit = [line for line in list(lines) if token in line]
            if hit:
                return hit
            time.sleep(0.05)
    return []


class System:
    """One Yixian installation under a temporary folder."""

    def __init__(self, workdir, bin_dir=None, settings=None, extra_cfg="", city_files=None):
        self.dir = workdir
        self.bin = os.path.abspath(bin_dir or os.environ.get("YX_BIN", os.path.join(ROOT, "build", "bin")))
        self.ports = {k: free_port() for k in
                      ["redis", "http", "metrics", "zintake", "classifier", "dispatcher", "actions",
                       "events", "feed", "hclassifier", "hdispatcher", "hnotifier"]}
        self.settings = {
            "redis.port": self.ports["redis"],
            "intake.http_port": self.ports["http"],
            "intake.http_threads": 2,
            "intake.zmq_bind": f"tcp://127.0.0.1:{self.ports['zintake']}",
            "classifier.bind": f"tcp://127.0.0.1:{self.ports['classifier']}",
            "dispatcher.bind": f"tcp://127.0.0.1:{self.ports['dispatcher']}",
            "dispatcher.actions_bind": f"tcp://127.0.0.1:{self.ports['actions']}",
            "dispatcher.events_bind": f"tcp://127.0.0.1:{self.ports['events']}",
            "notifier.feed_bind": f"tcp://127.0.0.1:{self.ports['feed']}",
            "notifier.backoff_ms": 100,
            "notifier.backoff_max_ms": 400,
            "notifier.max_attempts": 3,
            "notifier.http_timeout_ms": 2000,
            "metrics.http_port": self.ports["metrics"],
            "classifier.health_port": self.ports["hclassifier"],
            "dispatcher.health_port": self.ports["hdispatcher"],
            "notifier.health_port": self.ports["hnotifier"],
            "sweep.interval_ms": 200,
            "classifier.duplicate_radius_m": 0,      # tests report the same place often; test_duplicates turns it on
            "sweep.stale_ms": 500,
            "intake.public_rate_per_s": 0,           # every test reads from 127.0.0.1; one test limits it
        }
        self.settings.update(settings or {})
        self.extra_cfg = extra_cfg
        self.city_files = city_files or {}
        self.procs = {}
        self.redis_proc = None
        self.cfg_path = os.path.join(self.dir, "yixian.cfg")
        self._write_config()

    # -- configuration -------------------------------------------------------
    def _write_config(self):
        """The sample configuration, with the run's city_files (name → text) in place of
        the shipped ones and extra_cfg appended (a group it defines replaces the base's)."""
        city = os.path.join(self.dir, "city")
        os.makedirs(city, exist_ok=True)
        src = os.path.join(ROOT, "config", "city")
        for name in os.listdir(src):
            path = os.path.join(city, name)
            if os.path.lexists(path):
                continue
            if name in self.city_files:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(self.city_files[name])
            else:
                os.symlink(os.path.join(src, name), path)
        notify = os.path.join(self.dir, "notify.cfg")
        if not os.path.lexists(notify):
            os.symlink(os.path.join(ROOT, "config", "notify.cfg"), notify)
        model = os.path.join(ROOT, "config", "model.bin")
        if os.path.exists(model) and not os.path.exists(os.path.join(self.dir, "model.bin")):
            os.symlink(model, os.path.join(self.dir, "model.bin"))
        with open(os.path.join(ROOT, "config", "yixian.cfg"), encoding="utf-8") as f:
            base = f.read()
        for group in re.findall(r"^([a-z_]+) = \{", self.extra_cfg, re.M):
            base = re.sub(rf"^{group} = \{{.*?^\}};\n", "", base, flags=re.M | re.S)
        with open(self.cfg_path, "w", encoding="utf-8") as f:
            f.write(base)
            f.write("\n" + self.extra_cfg + "\n")

    def overrides(self, extra=None):
        """Command-line -s arguments for the settings of this run."""
        args = []
        merged = dict(self.settings)
        merged.update(extra or {})
        for k, v in merged.items():
            args += ["-s", f"{k}={v}"]
        return args

    # -- processes -----------------------------------------------------------
    def start_redis(self):
        data = os.path.join(self.dir, "redis")
        os.makedirs(data, exist_ok=True)
        self.redis_proc = subprocess.Popen(
            ["redis-server", "--port", str(self.ports["redis"]), "--bind", "127.0.0.1",
             "--dir", data, "--appendonly", "yes", "--appendfsync", "everysec",
             "--save", "", "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.redis = redis.Redis(port=self.ports["redis"], decode_responses=True)
        wait_for(lambda: self.redis.ping(), what="redis")

    def stop_redis(self):
        if self.redis_proc:
            self.redis_proc.terminate()
            self.redis_proc.wait(10)
            self.redis_proc = None

    def start(self, name, instance="", extra=None):
        """Starts one service (instance: a suffix for a second copy)."""
        key = name + instance
        log = open(os.path.join(self.dir, f"{key}.log"), "ab")
        binary = os.path.join(self.bin, f"yx-{name}")
        cmd = [binary, "-c", self.cfg_path] + self.overrides(extra)
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.procs[key] = subprocess.Popen(cmd, stdout=log, stderr=log, env=env, cwd=self.dir)
        log.close()
        return self.procs[key]

    def start_all(self, services=None):
        self.start_redis()
        for s in services or SERVICES:
            self.start(s)
        self.wait_ready()

    def health_url(self, service, path="/readyz"):
        return f"http://127.0.0.1:{self.ports['h' + service]}{path}"

    def wait_ready(self):
        for svc in ("classifier", "dispatcher", "notifier"):
            if svc in self.procs:
                wait_for(lambda: requests.get(self.health_url(svc), timeout=1).status_code == 200,
                         what=f"{svc} ready")
        if "intake" in self.procs:
            wait_for(lambda: requests.get(self.url("/readyz"), timeout=1).status_code == 200, what="intake ready")
        if "metrics" in self.procs:
            wait_for(lambda: requests.get(self.metrics_url("/healthz"), timeout=1).status_code == 200,
                     what="metrics up")

    def kill(self, key, sig=signal.SIGKILL):
        p = self.procs.pop(key)
        p.send_signal(sig)
        return p.wait(15)

    def stop(self, key):
        """SIGTERM and wait: returns the exit code (0 for a clean shutdown)."""
        return self.kill(key, signal.SIGTERM)

    def stop_all(self):
        codes = {}
        for key in list(self.procs):
            try:
                codes[key] = self.stop(key)
            except subprocess.TimeoutExpired:
                self.procs.get(key, None) and self.procs[key].kill()
                codes[key] = "timeout"
        self.stop_redis()
        return codes

    def log(self, key):
        with open(os.path.join(self.dir, f"{key}.log"), encoding="utf-8", errors="replace") as f:
            return f.read()

    # -- HTTP ----------------------------------------------------------------
    def url(self, path):
        return f"http://127.0.0.1:{self.ports['http']}{path}"

    def metrics_url(self, path):
        return f"http://127.0.0.1:{self.ports['metrics']}{path}"

    def call(self, method, path, key=None, body=None, headers=None, raw=None, timeout=10):
        h = {"Content-Type": "application/json"}
        if key:
            h["Authorization"] = f"Bearer {key}"
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body, ensure_ascii=False).encode() if body is not None else None)
        return requests.request(method, self.url(path), data=data, headers=h, timeout=timeout)

    @staticmethod
    def fast_city(ack="3s", resolve="6s"):
        """city_files for timer tests: every subcategory with limits of seconds, and a
        calendar whose every moment is working time."""
        with open(os.path.join(ROOT, "config", "city", "taxonomy.cfg"), encoding="utf-8") as f:
            tax = f.read()
        tax = re.sub(r'ack_limit = "[^"]*"', f'ack_limit = "{ack}"', tax)
        tax = re.sub(r'resolve_limit = "[^"]*"', f'resolve_limit = "{resolve}"', tax)
        cal = ('calendar = { utc_offset = "+08:00"; work_hours = [ "00:00-24:00" ]; weekend = [ ]; };\n')
        return {"taxonomy.cfg": tax, "calendar.cfg": cal}

    def report(self, key="demo-hotline-key", **fields):
        body = {"source": "hotline", "description": "鼓楼区某小区多个井盖冒污水，物业清掏后仍倒灌",
                "location": {"lat": 26.0845, "lon": 119.2960}}
        body.update(fields)
        return self.call("POST", "/v1/cases", key, body)

    def case(self, case_id, key="demo-operator-key"):
        r = self.call("GET", f"/v1/cases/{case_id}", key)
        assert r.status_code == 200, r.text
        return r.json()

    def act(self, case_id, key, action, **fields):
        body = {"action": action}
        body.update(fields)
        return self.call("POST", f"/v1/cases/{case_id}/actions", key, body)

    def wait_state(self, case_id, state, timeout=15):
        return wait_for(lambda: (c := self.case(case_id))["state"] == state and c, timeout=timeout,
                        what=f"{case_id} {state}")
