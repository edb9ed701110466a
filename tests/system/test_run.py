"""`make run`'s script: the whole system on its embedded defaults, the URLs and demo keys
printed, a case carried to its department, and everything — redis included — gone after
SIGTERM (and after Ctrl-C's SIGINT)."""
import os
import signal
import subprocess

import pytest
import requests

from yxsys import ROOT, wait_for

DEFAULT_PORTS = (8080, 9100, 6390, 8081, 8082, 8083)


def _port_free(port):
    """True when nothing listens on 127.0.0.1:port. SO_REUSEADDR, as every service sets it,
    so that connections of the run just stopped lingering in TIME_WAIT do not count."""
    import socket
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_script_starts_everything_and_stops_clean(tmp_path, sig):
    if not all(_port_free(p) for p in DEFAULT_PORTS):
        pytest.skip("the default ports are in use on this machine")
    env = dict(os.environ, YX_VAR=str(tmp_path / "var"), YX_BIN=os.environ.get("YX_BIN", os.path.join(ROOT, "build", "bin")))
    run = subprocess.Popen([os.path.join(ROOT, "scripts", "run.sh")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        wait_for(lambda: requests.get("http://127.0.0.1:8080/readyz", timeout=1).status_code == 200, timeout=30,
                 what="intake on 8080")
        r = requests.post("http://127.0.0.1:8080/v1/cases", headers={"Authorization": "Bearer demo-hotline-key"},
                          json={"source": "hotline", "description": "鼓楼区某小区井盖冒污水",
                                "location": {"lat": 26.0845, "lon": 119.2960}}, timeout=5)
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        wait_for(lambda: requests.get(f"http://127.0.0.1:8080/v1/cases/{cid}", timeout=2,
                                      headers={"Authorization": "Bearer demo-operator-key"}).json()["state"]
                 == "DISPATCHED", what="dispatched")
        assert requests.get("http://127.0.0.1:9100/metrics", timeout=5).status_code == 200
        # an admin reload restarts every service in place; the script keeps them
        r = requests.post("http://127.0.0.1:8080/v1/admin/reload", timeout=30,
                          headers={"Authorization": "Bearer demo-admin-key"})
        assert r.status_code == 202, r.text
        wait_for(lambda: all(requests.get(url, timeout=2).json()["config_generation"] == 1
                             for url in ("http://127.0.0.1:8080/healthz", "http://127.0.0.1:9100/healthz",
                                         "http://127.0.0.1:8081/healthz", "http://127.0.0.1:8082/healthz",
                                         "http://127.0.0.1:8083/healthz")), timeout=30, what="reloaded")
        pids = subprocess.run(["pgrep", "-s", str(run.pid)], capture_output=True, text=True).stdout.split()
        assert len(pids) >= 7          # the script, redis and five services
    finally:
        os.killpg(run.pid, sig) if sig == signal.SIGINT else run.send_signal(sig)
        out, _ = run.communicate(timeout=30)
    assert "http://127.0.0.1:8080" in out and "http://127.0.0.1:9100" in out
    assert "demo-operator-key" in out and "demo-hotline-key" in out and "demo-dept-" in out
    assert "stopped" in out
    left = subprocess.run(["pgrep", "-s", str(run.pid)], capture_output=True, text=True).stdout.split()
    assert left == [], f"orphans: {left}"
    held = [p for p in DEFAULT_PORTS if not _port_free(p)]
    assert held == [], f"ports still listened on: {held}"
    assert os.path.exists(tmp_path / "var" / "redis" / "appendonlydir")     # AOF on, under var/
