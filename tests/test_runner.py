"""The experiment runner as a user runs it: cached, resumable after kill -9, safe with two runners."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from repro.errors import ReproError
from repro.runner import store as store_mod
from repro.runner.experiment import load_experiment
from repro.runner.sweep import plan

REPO = Path(__file__).resolve().parents[1]

TINY = """
name: tiny
train: {model: e5-small, corpus: xnli, steps: 8, batch_size: 4, max_length: 24, eval_every: 4,
        checkpoint_every: 4, val_pairs: 16}
grid: {alpha: [0.0, 1.0], seed: [0]}
eval:
  tasks: [xquad-r]
  langs: {xquad-r: [en, de]}
  limit: 8
  max_length: 48
profiles:
  quick: {}
  other: {train: {steps: 6}}
"""


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def _home(tmp_path: Path, mirror: Path, name: str) -> dict[str, str]:
    """A fresh REPRO_HOME with the two datasets the tiny experiment reads."""
    from repro.data.fetch import fetch

    home = tmp_path / name
    old = os.environ.get("REPRO_HOME")
    os.environ["REPRO_HOME"] = str(home)
    try:
        fetch(["xquad-r", "xnli"], source=mirror, progress=False)
    finally:
        if old is None:
            del os.environ["REPRO_HOME"]
        else:
            os.environ["REPRO_HOME"] = old
    return {**os.environ, "REPRO_HOME": str(home)}


def _run(args: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "repro.cli", "run", *args, "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        **kw,
    )


def _counts(stdout: str) -> tuple[int, int]:
    m = re.search(r"(\d+) steps computed, (\d+) cached", stdout)
    assert m, stdout
    return int(m.group(1)), int(m.group(2))


def _numbers(results: Path) -> dict[str, object]:
    return {
        p.relative_to(results).as_posix(): json.loads(p.read_text())["tables"]
        for p in sorted(results.glob("*/xquad-r.json"))
    }


def test_experiment_errors(tiny: Path, tmp_path: Path) -> None:
    with pytest.raises(ReproError, match="no profile 'full'; it has quick, other"):
        load_experiment(tiny, "full")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrain: {steps: [\n")
    with pytest.raises(ReproError, match=r"bad\.yaml line \d+: invalid YAML"):
        load_experiment(bad, "quick")
    bad.write_text(TINY.replace("tasks: [xquad-r]", "tasks: [xquad-r, squad]"))
    with pytest.raises(ReproError, match="unknown task squad"):
        load_experiment(bad, "quick")
    bad.write_text(TINY.replace("alpha: [0.0, 1.0]", "alpha: [0.0, 1.5]"))
    with pytest.raises(ReproError, match="alpha"):
        load_experiment(bad, "quick")
    with pytest.raises(ReproError, match="not found"):
        load_experiment(tmp_path / "missing.yaml", "quick")


def test_plan_keys_follow_config_and_code(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exp = load_experiment(tiny, "quick")
    steps = plan(exp)
    # base eval, then per alpha: train + eval
    assert [(s.kind, s.task) for s in steps] == [
        ("eval", "xquad-r"),
        ("train", None),
        ("eval", "xquad-r"),
        ("train", None),
        ("eval", "xquad-r"),
    ]
    assert [s.key for s in plan(exp)] == [s.key for s in steps]
    assert len({s.key for s in steps}) == len(steps)
    other = plan(load_experiment(tiny, "other"))
    assert other[0].key == steps[0].key  # the base model's evaluation does not depend on training
    assert other[1].key != steps[1].key and other[2].key != steps[2].key
    store_mod.code_version.cache_clear()
    monkeypatch.setattr(store_mod, "CODE", {"train": ("runner",), "eval": ("runner",)})
    try:
        assert plan(exp)[1].key != steps[1].key
    finally:
        store_mod.code_version.cache_clear()


def test_grid_order_exclusions_and_per_task_limits(tiny: Path, tmp_path: Path) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(
        TINY.replace(
            "grid: {alpha: [0.0, 1.0], seed: [0]}",
            "grid: {alpha: [0.0, 0.5, 1.0], seed: [0, 1]}\nexclude: [{alpha: 0.5, seed: 1}]",
        )
        .replace("tasks: [xquad-r]", "tasks: [xquad-r, tatoeba]")
        .replace("limit: 8", "limit: {xquad-r: 8, tatoeba: 30}\n  only: {tatoeba: {alpha: []}}")
    )
    exp = load_experiment(path, "quick")
    # Seed varies slowest, so a stopped sweep already holds every alpha of seed 0.
    assert exp.points() == [
        {"alpha": 0.0, "seed": 0},
        {"alpha": 0.5, "seed": 0},
        {"alpha": 1.0, "seed": 0},
        {"alpha": 0.0, "seed": 1},
        {"alpha": 1.0, "seed": 1},
    ]
    steps = plan(exp)
    evals = [(s.point, s.task, s.payload["limit"]) for s in steps if s.kind == "eval"]
    assert evals[0] == (None, "xquad-r", 8)
    # Tatoeba runs on no grid point, so the base model's Tatoeba evaluation goes last.
    assert evals[-1] == (None, "tatoeba", 30)
    assert all(task == "xquad-r" for _, task, _ in evals[1:-1])
    bad = tmp_path / "bad.yaml"
    bad.write_text(path.read_text().replace("exclude: [{alpha: 0.5, seed: 1}]", "exclude: [{lr: 0.5}]"))
    with pytest.raises(ReproError, match=r"exclude entry \{'lr': 0.5\} must name grid keys"):
        load_experiment(bad, "quick")
    bad.write_text(path.read_text().replace("tatoeba: 30}", "tydi-goldp: 30}"))
    with pytest.raises(ReproError, match="eval.limit names tydi-goldp, not a task of eval.tasks"):
        load_experiment(bad, "quick")
    bad.write_text(path.read_text().replace("tatoeba: 30}", "tatoeba: 0}"))
    with pytest.raises(ReproError, match="eval.limit for tatoeba must be >= 1"):
        load_experiment(bad, "quick")


@pytest.mark.slow
def test_cached_rerun_kill_and_resume_and_two_runners(tiny: Path, tmp_path: Path, mirror: Path) -> None:
    # 1. An uninterrupted run computes every step; a rerun computes none, in seconds.
    env_a = _home(tmp_path, mirror, "a")
    res_a = tmp_path / "res-a"
    r = _run([str(tiny), "--results", str(res_a)], env_a)
    assert r.returncode == 0, r.stderr[-2000:]
    assert _counts(r.stdout) == (5, 0)
    t0 = time.perf_counter()
    r2 = _run([str(tiny), "--results", str(res_a)], env_a)
    assert _counts(r2.stdout) == (0, 5)
    assert time.perf_counter() - t0 < 60
    reference = _numbers(res_a)
    assert set(reference) == {"base/xquad-r.json", "alpha=0.0,seed=0/xquad-r.json", "alpha=1.0,seed=0/xquad-r.json"}
    summary = json.loads((res_a / "summary.json").read_text())
    assert set(summary["rows"]) == {"base", "alpha=0.0", "alpha=1.0"}

    # 2. kill -9 in the middle of training (after its first checkpoint), then resume: same numbers.
    env_b = _home(tmp_path, mirror, "b")
    res_b = tmp_path / "res-b"
    proc = subprocess.Popen(
        [sys.executable, "-m", "repro.cli", "run", str(tiny), "--results", str(res_b), "--quiet"],
        env=env_b,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    steps_dir = Path(env_b["REPRO_HOME"]) / "steps"
    deadline = time.time() + 600
    while time.time() < deadline and not list(steps_dir.glob("train-*/checkpoint")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(steps_dir.glob("train-*/checkpoint")), "the run never wrote a checkpoint"
    assert not (res_b / "summary.json").exists()
    r3 = _run([str(tiny), "--results", str(res_b)], env_b)
    assert r3.returncode == 0, r3.stderr[-2000:]
    computed, cached = _counts(r3.stdout)
    assert computed + cached == 5 and computed >= 3
    assert _numbers(res_b) == reference
    # Nothing half-written is left behind.
    assert not [p for p in Path(env_b["REPRO_HOME"]).rglob("*") if p.name.endswith((".tmp", ".part"))]

    # 3. Two runners on one fresh cache: every step is computed exactly once, both finish.
    env_c = _home(tmp_path, mirror, "c")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "repro.cli", "run", str(tiny), "--results", str(tmp_path / f"res-c{i}"), "--quiet"],
            env=env_c,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outs = [p.communicate(timeout=900) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-1500:] for o in outs]
    counts = [_counts(o[0]) for o in outs]
    assert sum(c[0] for c in counts) == 5 and all(sum(c) == 5 for c in counts)
    assert _numbers(tmp_path / "res-c0") == _numbers(tmp_path / "res-c1") == reference
