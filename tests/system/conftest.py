"""pytest fixtures for system tests: `yx` is a running system on free ports."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from yxsys import System  # noqa: E402


@pytest.fixture
def yx(tmp_path):
    """All five services and a private redis-server; stopped after the test, and
    every service must exit cleanly on SIGTERM."""
    s = System(str(tmp_path))
    s.start_all()
    yield s
    codes = s.stop_all()
    bad = {k: v for k, v in codes.items() if v != 0}
    assert not bad, f"services did not stop cleanly: {bad}"


@pytest.fixture
def make_system(tmp_path):
    """Factory for tests that need their own settings; stops what it started."""
    made = []

    def factory(settings=None, extra_cfg="", start=True, services=None):
        s = System(str(tmp_path / f"sys{len(made)}"), settings=settings, extra_cfg=extra_cfg) \
            if os.makedirs(str(tmp_path / f"sys{len(made)}"), exist_ok=True) is None else None
        made.append(s)
        if start:
            s.start_all(services) if services else s.start_all()
        return s

    yield factory
    for s in made:
        s.stop_all()
