"""pytest fixtures for system tests: `yx` is a running system on free ports."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from yxsys import System  # noqa: E402


def _services():
    """Services to start: all, or YX_SERVICES=intake,classifier,… while debugging one part."""
    env = os.environ.get("YX_SERVICES")
    return env.split(",") if env else None


def _local_settings():
    """Extra -s settings from YX_SETTINGS=key=value,key=value (debugging aid)."""
    env = os.environ.get("YX_SETTINGS")
    return dict(kv.split("=", 1) for kv in env.split(",")) if env else None


@pytest.fixture
def yx(tmp_path):
    """All five services and a private redis-server; stopped after the test, and
    every service must exit cleanly on SIGTERM."""
    s = System(str(tmp_path), settings=_local_settings())
    s.start_all(_services())
    yield s
    codes = s.stop_all()
    bad = {k: v for k, v in codes.items() if v != 0}
    assert not bad, f"services did not stop cleanly: {bad}"


@pytest.fixture
def make_system(tmp_path):
    """Factory for tests that need their own settings; stops what it started."""
    made = []

    def factory(settings=None, extra_cfg="", start=True, services=None, city_files=None):
        folder = tmp_path / f"sys{len(made)}"
        folder.mkdir()
        merged = dict(_local_settings() or {})
        merged.update(settings or {})
        s = System(str(folder), settings=merged, extra_cfg=extra_cfg, city_files=city_files)
        made.append(s)
        if start:
            s.start_all(services or _services())
        return s

    yield factory
    for s in made:
        s.stop_all()
