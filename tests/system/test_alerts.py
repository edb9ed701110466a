"""The Prometheus alerting rules shipped in deploy/prometheus: promtool accepts them and
the example configuration, their unit tests pass (tests/alerts), and every metric they
watch is one yx-metrics really exposes, so renaming a metric breaks this test."""
import os
import re
import shutil
import subprocess

import pytest
import requests
import yaml

from yxsys import ROOT, wait_for

RULES = os.path.join(ROOT, "deploy", "prometheus", "yixian-alerts.yml")


def promtool(*args, cwd=None):
    tool = shutil.which("promtool")
    if not tool:
        pytest.skip("promtool not found: install the Debian package prometheus (scripts/deps.sh)")
    out = subprocess.run([tool, *args], capture_output=True, text=True, timeout=120, cwd=cwd)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_rules_and_config_are_valid():
    assert "SUCCESS: 8 rules found" in promtool("check", "rules", RULES)
    promtool("check", "config", os.path.join(ROOT, "deploy", "prometheus", "prometheus.yml"))


def test_rule_unit_tests_pass():
    out = promtool("test", "rules", "yixian-alerts.test.yml", cwd=os.path.join(ROOT, "tests", "alerts"))
    assert "SUCCESS" in out


def test_every_watched_metric_is_exposed(make_system):
    with open(RULES, encoding="utf-8") as f:
        rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
    watched = {m for r in rules for m in re.findall(r"\byixian_[a-z_]+", r["expr"])}
    assert len(watched) == 6, watched
    s = make_system(services=["metrics"])
    # until the mirror is warm /metrics has only the process families
    text = wait_for(lambda: (t := requests.get(s.metrics_url("/metrics"), timeout=10).text)
                    and "yixian_redis_up 1" in t and t, what="a warm /metrics")
    exposed = set(re.findall(r"^# TYPE (\w+) ", text, re.M))
    assert watched <= exposed, f"rules watch metrics /metrics does not have: {sorted(watched - exposed)}"
    # the queues the rules name are the queue label values the service uses
    queues = set(re.findall(r'yixian_stage_queue_oldest_seconds\{district="\d+",queue="(\w+)"\}', text))
    named = {q for r in rules for q in re.findall(r'queue=~?"([\w|]+)"', r["expr"]) for q in q.split("|")}
    assert named and named <= queues, (named, queues)
