"""tests/conftest.py's rule: a missing component skips a test locally and fails it under CI=true.

Pytest runs in a child process on throwaway test modules next to a copy of the suite's
conftest, once with CI unset and once with CI=true; each module's outcome is read from the
short summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")

CASES = {
    "require_in_test": "from conftest import require\n\ndef test_x():\n    require(False, 'a widget', 'install it')\n",
    "require_in_fixture": (
        "import pytest\nfrom conftest import require\n\n@pytest.fixture\ndef widget():\n"
        "    require(False, 'a widget', 'install it')\n\ndef test_x(widget):\n    pass\n"
    ),
    "require_module_level": (
        "from conftest import require_module\n\nwidget = require_module('no_such_module_xyz')\n\n"
        "def test_x():\n    pass\n"
    ),
    "plain_skip": "import pytest\n\ndef test_x():\n    pytest.skip('no reason given')\n",
    "module_skip": "import pytest\n\npytest.skip('whole module', allow_module_level=True)\n\ndef test_x():\n    pass\n",
    "present": "from conftest import require\n\ndef test_x():\n    require(True, 'a widget', 'install it')\n",
}


def _outcomes(folder: Path, ci: bool) -> tuple[dict[str, str], str]:
    """Case -> passed / skipped / failure / error (from a JUnit XML report), and pytest's output."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    report = folder / f"report-{ci}.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "--continue-on-collection-errors"]
        + [f"--junitxml={report}", "."],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        # A test's case names its module as classname; a module that fails or skips at import, as name.
        module = case.get("classname") or case.get("name", "")
        kinds = [child.tag for child in case if child.tag in ("skipped", "failure", "error")]
        outcomes[module.removeprefix("test_")] = kinds[0] if kinds else "passed"
    return outcomes, proc.stdout


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("require")
    (folder / "conftest.py").write_text(CONFTEST.read_text())
    for name, body in CASES.items():
        (folder / f"test_{name}.py").write_text(body)
    return folder


def test_a_missing_component_skips_locally(cases: Path) -> None:
    outcomes, out = _outcomes(cases, ci=False)
    assert outcomes == {**dict.fromkeys(CASES, "skipped"), "present": "passed"}, out
    assert "missing a widget: install it" in out


def test_under_ci_a_missing_component_or_any_skip_fails(cases: Path) -> None:
    outcomes, out = _outcomes(cases, ci=True)
    # A failing fixture or import is an error in pytest's terms, a failing test body a failure.
    assert outcomes == {
        "require_in_test": "failure",
        "require_in_fixture": "error",
        "require_module_level": "error",
        "plain_skip": "failure",
        "module_skip": "error",
        "present": "passed",
    }, out
    assert "missing a widget: install it (CI=true" in out and "skipped under CI=true" in out
