"""Plug-ins: a package installed with pip adds a check kind, a task and a trend hypothesis that a
registry uses; a registry file names a check kind by ``module:Class``; unknown names get a did-you-mean.

The package (tests/plugin_pkg) is built and installed by pip into a temporary ``--target`` folder
that only the subprocesses of the test put on their path, and removed afterwards (the worktree's
venv is never touched).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

EXPERIMENT = """
name: toy-tokens
eval: {model: e5-small, tasks: [toy-tokens]}
grid: {eval.max_length: [8, 64]}
"""

REGISTRY = """
name: toyplug
experiments: {tokens: toy.yaml}
arms:
  short: {experiment: tokens, point: {eval.max_length: 8}}
  long: {experiment: tokens, point: {eval.max_length: 64}}
claims:
  - id: P1
    text: "the plug-in's check kind decides"
    checks: [{kind: always, says: reproduced}]
  - id: P2
    text: "a longer max length keeps more tokens of the plug-in task's sentences"
    checks: [{kind: comparison, task: toy-tokens, metric: tokens, a: long, b: short, claim: better}]
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """tests/plugin_pkg built and pip-installed into a temporary folder (removed after the tests)."""
    target = tmp_path_factory.mktemp("site")
    src = tmp_path_factory.mktemp("src") / "plugin_pkg"
    shutil.copytree(REPO / "tests" / "plugin_pkg", src)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(src),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert (target / "repro_toyplug").is_dir() and list(target.glob("repro_toyplug-0.1.0.dist-info"))
    yield target
    # Uninstall: the package and its metadata (entry points) go with the folder.
    shutil.rmtree(target)


def _repro(args: list[str], tmp: Path, site: Path | None) -> subprocess.CompletedProcess[str]:
    paths = [str(site)] if site else []
    env = {**os.environ, "REPRO_HOME": os.environ.get("REPRO_HOME", str(Path.home() / ".cache" / "repro"))}
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(tmp), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "repro.cli", *args], env=env, cwd=tmp, capture_output=True, text=True, check=False
    )


def _files(tmp: Path, registry: str = REGISTRY) -> Path:
    (tmp / "toy.yaml").write_text(EXPERIMENT)
    (tmp / "claims.yaml").write_text(registry)
    return tmp / "claims.yaml"


def test_an_installed_plugin_package_adds_a_check_kind_and_a_task_a_registry_uses(
    installed: Path, tmp_path: Path, fetched
) -> None:
    import json

    path = _files(tmp_path)
    out = _repro(["verify", str(path), "--results", str(tmp_path / "results"), "--quiet"], tmp_path, installed)
    assert out.returncode == 0, out.stderr[-2000:]
    verdicts = json.loads((tmp_path / "results" / "claims" / "toyplug" / "default" / "verdicts.json").read_text())
    p1, p2 = verdicts["claims"]
    assert (p1["verdict"], p1["confidence"], p1["decided_by"]) == (
        "reproduced",
        0.9,
        "toy plug-in says reproduced for P1",
    )
    # The plug-in task ran through the runner on the real tokenizer and is compared like a built-in task.
    short = json.loads(
        (tmp_path / "results" / "toy-tokens" / "default" / "eval.max_length=8" / "toy-tokens.json").read_text()
    )
    assert short["summary"]["main"]["tokens"] <= 8 and short["tables"]["main"]["en"]["n"] == 6
    assert p2["verdict"] == "reproduced" and p2["checks"][0]["tests"][0]["n_items"] == 6
    # Misspelt names are one-line errors with the nearest registered name.
    bad = _files(tmp_path, REGISTRY.replace("kind: always", "kind: alway"))
    out = _repro(["verify", str(bad), "--results", str(tmp_path / "results"), "--no-run"], tmp_path, installed)
    assert out.returncode == 2 and "unknown check kind 'alway' (did you mean always?)" in out.stderr
    bad = _files(tmp_path, REGISTRY.replace("task: toy-tokens", "task: toy-token"))
    out = _repro(["verify", str(bad), "--results", str(tmp_path / "results"), "--no-run"], tmp_path, installed)
    assert out.returncode == 2 and "unknown task 'toy-token' (did you mean toy-tokens?)" in out.stderr


def test_without_the_package_its_kind_is_unknown_and_a_registry_can_name_it_by_path(tmp_path: Path) -> None:
    path = _files(tmp_path)
    out = _repro(["verify", str(path), "--results", str(tmp_path / "results"), "--no-run"], tmp_path, None)
    assert out.returncode == 2 and "unknown check kind 'always'" in out.stderr and "known: comparison" in out.stderr
    # The same class named by module:Class in the registry file itself (the module on PYTHONPATH, not installed).
    shutil.copytree(REPO / "tests" / "plugin_pkg" / "repro_toyplug", tmp_path / "repro_toyplug")
    local = REGISTRY.replace("claims:\n", 'plugins: {checks: {always: "repro_toyplug:AlwaysCheck"}}\nclaims:\n', 1)
    local = local.split("  - id: P2")[0]
    path = _files(tmp_path, local)
    # ... and the task by module:attribute in the experiment file.
    (tmp_path / "toy.yaml").write_text(EXPERIMENT + 'plugins: {tasks: {toy-tokens: "repro_toyplug:TOY_TOKENS"}}\n')
    out = _repro(["verify", str(path), "--results", str(tmp_path / "results"), "--no-run", "--quiet"], tmp_path, None)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "P1  reproduced" in out.stdout
    (tmp_path / "claims.yaml").write_text(local.replace("repro_toyplug:AlwaysCheck", "repro_toyplug:TOY_TOKENS"))
    out = _repro(["verify", str(tmp_path / "claims.yaml"), "--no-run"], tmp_path, None)
    assert out.returncode == 2 and "is not a subclass of repro.checks.base.Check" in out.stderr


def test_hypotheses_are_registered_rules_with_a_did_you_mean() -> None:
    from pydantic import ValidationError

    from repro.checks.trend import HYPOTHESES, TrendCheck

    assert {"low-gains-more", "unseen-gain", "gains"} <= set(HYPOTHESES)
    spec = {"kind": "trend", "experiment": "e", "task": "xquad-r", "metric": "Mul mAP", "x": "alpha"}
    with pytest.raises(ValidationError, match=r"unknown hypothesis 'low-gain-more' \(did you mean low-gains-more\?\)"):
        TrendCheck.model_validate({**spec, "reference": 1.0, "at": 0.5, "hypothesis": "low-gain-more"})
    # x, reference and at come from the registry: no alpha defaults.
    with pytest.raises(ValidationError, match="reference"):
        TrendCheck.model_validate({**spec, "at": 0.5})


def test_the_builtins_are_registered_through_entry_points() -> None:
    import importlib.metadata

    from repro.checks.base import load_check_kinds
    from repro.evaluation.tasks import known_tasks

    points = {
        g: {e.name: e.value for e in importlib.metadata.entry_points(group=g)} for g in ("repro.checks", "repro.tasks")
    }
    kinds = load_check_kinds()
    assert points["repro.checks"]["comparison"] == "repro.checks.comparison:ComparisonCheck"
    assert {n for n, v in points["repro.checks"].items() if v.startswith("repro.")} <= set(kinds)
    assert set(points["repro.tasks"]) >= {"xquad-r", "mlqa-r", "tatoeba", "tydi-goldp"} and set(known_tasks()) >= set(
        points["repro.tasks"]
    )


def test_every_built_in_check_kind_has_its_entry_point_line() -> None:
    """A kind registered in repro/checks but missing from pyproject works only once its module is imported."""
    import ast

    import tomllib

    root = Path(__file__).resolve().parents[1]
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["entry-points"]["repro.checks"]
    kinds: dict[str, str] = {}  # class name -> its kind (declared in the class or a base: TrendSpec)
    registered: dict[str, str] = {}  # class name -> module:name
    classes = []
    for path in sorted((root / "repro" / "checks").rglob("*.py")):
        module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.ClassDef):
                continue
            classes.append(node)
            for s in node.body:
                is_kind = isinstance(s, ast.AnnAssign) and getattr(s.target, "id", "") == "kind"
                if is_kind and isinstance(s.value, ast.Constant):
                    kinds[node.name] = s.value.value
            if any(getattr(d, "id", None) == "register" for d in node.decorator_list):
                registered[node.name] = f"{module}:{node.name}"
    for node in classes:
        bases = [b.id for b in node.bases if isinstance(b, ast.Name) and b.id in kinds]
        if node.name not in kinds and bases:
            kinds[node.name] = kinds[bases[0]]
    found = {kinds[name]: where for name, where in registered.items()}
    assert len(found) >= 7
    # The trend check lives in a package whose __init__ re-exports it under the shorter path.
    assert {k: v.replace("repro.checks.trend.check:", "repro.checks.trend:") for k, v in found.items()} == declared


def test_unknown_encoder_and_plugin_kind_names_get_a_did_you_mean(tmp_path: Path) -> None:
    from repro.claims.registry import load_registry
    from repro.errors import ReproError
    from repro.models.registry import resolve_model

    with pytest.raises(ReproError, match=r"unknown model 'e5-smal' \(did you mean e5-small\?\)"):
        resolve_model("e5-smal")
    bad = tmp_path / "r.yaml"
    bad.write_text('name: r\nplugins: {chekcs: {x: "m:X"}}\nclaims: []\n')
    with pytest.raises(
        ReproError, match=r"r\.yaml:2: plugins: unknown plug-in kind 'chekcs' \(did you mean checks\?\)"
    ):
        load_registry(bad)
    bad.write_text('name: r\nplugins: {checks: {x: "no_such_module_xyz:X"}}\nclaims: []\n')
    with pytest.raises(ReproError, match="cannot import no_such_module_xyz"):
        load_registry(bad)
