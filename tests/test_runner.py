"""The experiment runner as a user runs it: cached, resumable after kill -9, safe with two runners;
published results are done on a fresh machine; step keys follow config, data and versions only."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from repro.errors import ReproError
from repro.evaluation.result import TaskResult, load_per_query
from repro.runner import store as store_mod
from repro.runner import sweep as sweep_mod
from repro.runner.estimate import dry_run, render_dry_run
from repro.runner.experiment import load_experiment
from repro.runner.store import StepStore, step_key
from repro.runner.summary import summarize
from repro.runner.sweep import plan, run_experiment

REPO = Path(__file__).resolve().parents[1]
FULL = REPO / "results" / "hybrid-sweep" / "full"

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
  more-seeds: {grid: {seed: [0, 1]}}
  new-limit: {eval: {limit: 6}}
  with-tatoeba: {eval: {tasks: [xquad-r, tatoeba]}}
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


def _counts(stdout: str) -> tuple[int, int, int]:
    """(computed, cached, published) from the last line of `repro run`."""
    m = re.search(r"(\d+) steps computed, (\d+) cached, (\d+) published", stdout)
    assert m, stdout
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _numbers(results: Path) -> dict[str, object]:
    return {
        p.relative_to(results).as_posix(): json.loads(p.read_text())["tables"]
        for p in sorted(results.glob("*/xquad-r.json"))
    }


def _files(results: Path) -> dict[str, bytes]:
    return {p.relative_to(results).as_posix(): p.read_bytes() for p in sorted(results.glob("*/*")) if p.is_file()}


def test_experiment_errors(tiny: Path, tmp_path: Path) -> None:
    with pytest.raises(ReproError, match="no profile 'full'; it has quick, other, more-seeds, new-limit, with-tatoeba"):
        load_experiment(tiny, "full")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrain: {steps: [\n")
    with pytest.raises(ReproError, match=r"bad\.yaml:\d+: invalid YAML"):
        load_experiment(bad, "quick")
    bad.write_text(TINY.replace("tasks: [xquad-r]", "tasks: [xquad-r, squad]"))
    with pytest.raises(ReproError, match="unknown task squad"):
        load_experiment(bad, "quick")
    # Every input error points at path:line, the line of the offending key (a profile's own first).
    bad.write_text(TINY.replace("tasks: [xquad-r]", "tasks: [xquad-rr]"))
    with pytest.raises(ReproError, match=r"bad\.yaml:7: unknown task xquad-rr \(did you mean xquad-r\?\)"):
        load_experiment(bad, "quick")
    bad.write_text(TINY.replace("other: {train: {steps: 6}}", "other: {train: {steps: -6}}"))
    with pytest.raises(ReproError, match=r"bad\.yaml:13: train\.steps \(profile other\): Input should be greater"):
        load_experiment(bad, "other")
    bad.write_text(TINY.replace("steps: 8,", "steps: 0,"))
    with pytest.raises(ReproError, match=r"bad\.yaml:3: train\.steps \(profile quick\)"):
        load_experiment(bad, "quick")
    bad.write_text(TINY.replace("alpha: [0.0, 1.0]", "alpha: [0.0, 1.5]"))
    with pytest.raises(ReproError, match="alpha"):
        load_experiment(bad, "quick")
    with pytest.raises(ReproError, match="not found"):
        load_experiment(tmp_path / "missing.yaml", "quick")


def test_step_key_is_a_fixed_function_of_kind_payload_and_version() -> None:
    # Published results carry keys: changing how a key is formed orphans every one of them, so the
    # formula is pinned here (if it must change, re-key with `python -m repro.runner.rekey`).
    assert store_mod.VERSIONS == {"train": 1, "eval": 1, "command": 1}
    assert step_key("eval", {"task": "xquad-r", "limit": 8}) == "eval-250389434155d22c4ae2"
    assert step_key("eval", {"limit": 8, "task": "xquad-r"}) == step_key("eval", {"task": "xquad-r", "limit": 8})
    assert step_key("train", {"task": "xquad-r", "limit": 8}).startswith("train-")


def test_plan_keys_follow_config_data_and_version(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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
    keys = [s.key for s in steps]
    assert [s.key for s in plan(exp)] == keys
    assert len(set(keys)) == len(steps)
    other = plan(load_experiment(tiny, "other"))
    assert other[0].key == keys[0]  # the base model's evaluation does not depend on training
    assert other[1].key != keys[1] and other[2].key != keys[2]

    # A training version bump re-keys training and the evaluations of trained models, nothing else.
    monkeypatch.setitem(store_mod.VERSIONS, "train", 2)
    bumped = [s.key for s in plan(exp)]
    assert bumped[0] == keys[0] and all(b != k for b, k in zip(bumped[1:], keys[1:]))
    monkeypatch.setitem(store_mod.VERSIONS, "train", 1)
    monkeypatch.setitem(store_mod.VERSIONS, "eval", 2)
    bumped = [s.key for s in plan(exp)]
    assert [b == k for b, k in zip(bumped, keys)] == [False, True, False, True, False]
    monkeypatch.setitem(store_mod.VERSIONS, "eval", 1)
    assert [s.key for s in plan(exp)] == keys

    # Data checksums are part of every key.
    fake = lambda names: {f"{n}/x.json": "0" * 64 for n in names}
    monkeypatch.setattr(sweep_mod, "checksums", fake)
    monkeypatch.setattr("repro.data.corpora.checksums", fake)  # the training corpus's (repro.data.corpora)
    assert all(b != k for b, k in zip((s.key for s in plan(exp)), keys))


def test_keys_hold_the_resolved_precision(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import repro.models.precision as precision_mod

    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(
        TINY.replace("val_pairs: 16}", "val_pairs: 16, precision: fp32}").replace(
            "  max_length: 48", "  max_length: 48\n  precision: fp32"
        )
    )
    monkeypatch.setattr(precision_mod, "cpu_supports_fast_bf16", lambda: False)
    auto_fp32 = plan(load_experiment(tiny, "quick"))
    assert [s.key for s in plan(load_experiment(pinned, "quick"))] == [s.key for s in auto_fp32]
    assert auto_fp32[1].payload["config"]["precision"] == "fp32" and auto_fp32[0].payload["precision"] == "fp32"
    # On a CPU with native bf16, "auto" is another computation: no step is done by an fp32 one.
    monkeypatch.setattr(precision_mod, "cpu_supports_fast_bf16", lambda: True)
    auto_bf16 = plan(load_experiment(tiny, "quick"))
    assert all(a.key != b.key for a, b in zip(auto_bf16, auto_fp32))
    assert [s.key for s in plan(load_experiment(pinned, "quick"))] == [s.key for s in auto_fp32]


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


def test_committed_full_sweep_is_published_under_current_keys(tmp_path: Path) -> None:
    # What a fresh clone with an empty REPRO_HOME sees: every step of the full profile is done.
    exp = load_experiment(REPO / "experiments" / "hybrid-sweep.yaml", "full")
    states = dry_run(exp, FULL, StepStore(tmp_path / "empty-store"))
    assert len(states) == 28 and {s.state for s in states} == {"published"}
    for st in states:
        record = json.loads(
            (FULL / sweep_mod.point_label(st.step.point) / f"{st.step.task or 'train'}.json").read_text()
        )
        assert record["step"] == st.step.key and record["step_version"] == 1
        if st.step.depends_on:
            assert record["train"]["step"] == st.step.depends_on
    assert render_dry_run(states).splitlines()[-1] == (
        "28 steps: 28 published, 0 cached, 0 to compute; estimated time to compute: 0 s"
    )


# --- published steps, new seeds, retraining: the runner's decisions, with stand-ins for the compute ---

_REAL = json.loads((FULL / "base" / "xquad-r.json").read_text())
_REAL_PER_QUERY = load_per_query(FULL / "base" / "xquad-r.json")


def _fake_train(calls: list, step: Any, store: StepStore, progress: bool) -> dict[str, Any]:
    calls.append(("train", step.point))
    out = store.path(step.key)
    (out / "model").mkdir(exist_ok=True)
    summary = {
        "evals": [{"step": 0, "val_loss": 2.0}, {"step": 8, "val_loss": 1.0 - 0.1 * step.point["alpha"]}],
        "steps_done": 8,
        "seconds": 30.0,
        "precision": step.payload["config"]["precision"],
        "resumed_at_step": None,
    }
    (out / "train.json").write_text(json.dumps({"config": step.payload["config"], "summary": summary}))
    return {"kind": "train", "point": step.point, "payload": step.payload, "summary": summary}


def _fake_eval(calls: list, step: Any, exp: Any, store: StepStore, encoders: Any, progress: bool) -> dict[str, Any]:
    if step.depends_on:
        assert (store.path(step.depends_on) / "model").is_dir(), "an evaluation ran without its model's weights"
    calls.append(("eval", step.point, step.payload["limit"]))
    info = {
        "config": {k: v for k, v in step.payload.items() if k != "data"},
        "model": {"precision": step.payload["precision"]},
        "wall_seconds": 20.0,
        "step": step.key,
        "step_version": 1,
    }
    result = TaskResult(step.task, _REAL["summary"], _REAL["tables"], dict(_REAL_PER_QUERY), info)
    result.save(store.path(step.key) / "result.json")
    return {"kind": "eval", "task": step.task, "point": step.point, "payload": step.payload, "seconds": 20.0}


@pytest.fixture()
def fake_compute(monkeypatch: pytest.MonkeyPatch) -> list:
    calls: list = []
    monkeypatch.setattr(sweep_mod, "_run_train", lambda *a: _fake_train(calls, *a))
    monkeypatch.setattr(sweep_mod, "_run_eval", lambda *a: _fake_eval(calls, *a))
    return calls


def test_published_steps_are_done_new_seeds_compute_alone_missing_weights_retrain(
    tiny: Path, tmp_path: Path, fake_compute: list
) -> None:
    results = tmp_path / "results" / "tiny" / "quick"
    first = load_experiment(tiny, "quick")
    out = run_experiment(first, results, StepStore(tmp_path / "store-a"), progress=False)
    assert (len(out.computed), len(out.cached), len(out.published)) == (5, 0, 0)
    published = _files(results)
    train_json = json.loads((results / "alpha=0.0,seed=0" / "train.json").read_text())
    assert train_json["step"] == plan(first)[1].key and train_json["step_version"] == 1

    # A fresh machine (empty store) extends the grid by a seed: only the new seed's steps compute.
    more = load_experiment(tiny, "more-seeds")
    store_b = StepStore(tmp_path / "store-b")
    states = dry_run(more, results, store_b)
    new_seed = [s.key for s in plan(more) if s.point and s.point["seed"] == 1]
    assert [st.step.key for st in states if st.state == "to compute"] == new_seed
    assert [(st.step.kind, st.seconds) for st in states if st.state == "to compute"] == [
        ("train", 30.0),  # recorded training runs of this model and precision, scaled by tokens (equal here)
        ("eval", 20.0),
        ("train", 30.0),
        ("eval", 20.0),
    ]
    fake_compute.clear()
    out = run_experiment(more, results, store_b, progress=False)
    assert out.computed == new_seed and out.published == [s.key for s in plan(first)] and not out.retrained
    assert [c[1]["seed"] for c in fake_compute] == [1, 1, 1, 1]
    assert {k: v for k, v in _files(results).items() if k in published} == published  # the old ones untouched
    summary = json.loads((results / "summary.json").read_text())
    assert summary["rows"]["alpha=0.0"]["xquad-r Mul mAP"]["n"] == 2

    # A new evaluation of published models (another limit), again on a fresh machine: the models are
    # retrained for their weights; the published training records stay as they were.
    newer = load_experiment(tiny, "new-limit")
    store_c = StepStore(tmp_path / "store-c")
    states = dry_run(newer, results, store_c)
    assert [(st.step.kind, st.state) for st in states] == [
        ("eval", "to compute"),
        ("train", "to compute"),
        ("eval", "to compute"),
        ("train", "to compute"),
        ("eval", "to compute"),
    ]
    assert "retrain: weights not cached" in states[1].note
    # The machine that trained them still holds their weights: nothing is retrained there.
    on_a = dry_run(newer, results, StepStore(tmp_path / "store-a"))
    assert [(st.step.kind, st.state) for st in on_a] == [
        ("eval", "to compute"),
        ("train", "published"),
        ("eval", "to compute"),
        ("train", "published"),
        ("eval", "to compute"),
    ]
    assert [st.seconds for st in states if st.step.kind == "eval"] == [20.0 * 6 / 8] * 3  # scaled by questions
    fake_compute.clear()
    out = run_experiment(newer, results, store_c, progress=False)
    trains = [s.key for s in plan(newer) if s.kind == "train"]
    assert out.retrained == trains and len(out.computed) == 5
    assert [c[0] for c in fake_compute] == ["eval", "train", "eval", "train", "eval"]
    assert (results / "alpha=0.0,seed=0" / "train.json").read_bytes() == published["alpha=0.0,seed=0/train.json"]

    # A task nobody has run yet has no basis for an estimate.
    lines = render_dry_run(dry_run(load_experiment(tiny, "with-tatoeba"), results, store_c)).splitlines()
    first_tatoeba = next(line for line in lines if "tatoeba" in line)
    assert first_tatoeba.startswith("to compute  eval   base")
    assert "unknown (no recorded tatoeba run at this max length)" in first_tatoeba
    assert lines[-1].endswith("+ 3 steps of unknown time")  # tatoeba on the base model and both points


def test_nothing_computed_leaves_the_published_summary_alone(tiny: Path, tmp_path: Path, fake_compute: list) -> None:
    results = tmp_path / "results"
    exp = load_experiment(tiny, "quick")
    run_experiment(exp, results, StepStore(tmp_path / "a"), progress=False)
    before = (results / "summary.json").read_bytes()
    out = run_experiment(exp, results, StepStore(tmp_path / "b"), progress=False)
    assert (len(out.computed), len(out.cached), len(out.published)) == (0, 0, 5)
    assert (results / "summary.json").read_bytes() == before  # a clean tree after re-running a published sweep


def test_sweep_summary_mean_and_spread_over_seeds_by_hand(tmp_path: Path) -> None:
    # Real published results stand in for three seeds of alpha 0 and two of alpha 1 (seed 2 missing).
    sources = {
        "alpha=0.0,seed=0": "alpha=0.0,seed=0",
        "alpha=0.0,seed=1": "alpha=0.0,seed=1",
        "alpha=0.0,seed=2": "alpha=0.25,seed=0",
        "alpha=1.0,seed=0": "alpha=1.0,seed=0",
        "alpha=1.0,seed=1": "alpha=1.0,seed=1",
    }
    for label, src in sources.items():
        (tmp_path / label).mkdir()
        for task in ("xquad-r", "mlqa-r"):
            shutil.copy(FULL / src / f"{task}.json", tmp_path / label / f"{task}.json")
    exp_file = tmp_path / "exp.yaml"
    exp_file.write_text(
        TINY.replace("grid: {alpha: [0.0, 1.0], seed: [0]}", "grid: {alpha: [0.0, 1.0], seed: [0, 1, 2]}")
        .replace("tasks: [xquad-r]", "tasks: [xquad-r, mlqa-r]\n  base_model: false")
        .replace("langs: {xquad-r: [en, de]}", "langs: {}")
    )
    rows = summarize(load_experiment(exp_file, "quick"), tmp_path)["rows"]
    assert set(rows) == {"alpha=0.0", "alpha=1.0"}

    def by_hand(alpha: str, seeds: list[int], pick) -> dict[str, float]:
        values = [pick(json.loads((tmp_path / f"alpha={alpha},seed={s}" / f).read_text())) for s, f in seeds]
        mean = sum(values) / len(values)
        std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5  # sample std (n - 1)
        assert std == pytest.approx(statistics.stdev(values), rel=1e-12)
        return {"mean": mean, "std": std, "n": len(values)}

    cases = {
        "xquad-r Mul mAP": ("xquad-r.json", lambda r: r["summary"]["multi"]["mAP"]),
        "xquad-r Mul mAP [th]": ("xquad-r.json", lambda r: r["tables"]["multi"]["th"]["mAP"]),
        "mlqa-r rank distance": ("mlqa-r.json", lambda r: r["summary"]["multi"]["rank distance"]),
        "mlqa-r Mo mAP": ("mlqa-r.json", lambda r: r["summary"]["mono"]["mAP"]),
    }
    for alpha, seeds in (("0.0", [0, 1, 2]), ("1.0", [0, 1])):
        for name, (file, pick) in cases.items():
            expected = by_hand(alpha, [(s, file) for s in seeds], pick)
            got = rows[f"alpha={alpha}"][name]
            assert got["n"] == expected["n"]
            assert got["mean"] == pytest.approx(expected["mean"], rel=1e-12), name
            assert got["std"] == pytest.approx(expected["std"], rel=1e-12), name
    assert rows["alpha=0.0"]["xquad-r Mul mAP"]["std"] > 0


@pytest.mark.slow
def test_published_model_is_retrained_to_the_same_weights(tiny: Path, tmp_path: Path, fetched: None) -> None:
    # Same config and seed, same weights: an evaluation added later (here: another limit), on a
    # machine without the cached model, evaluates exactly the model the published results came from.
    small = tmp_path / "small.yaml"
    small.write_text(
        TINY.replace("grid: {alpha: [0.0, 1.0], seed: [0]}", "grid: {alpha: [0.5], seed: [0]}")
        .replace("steps: 8, batch_size: 4, max_length: 24, eval_every: 4,", "steps: 4, batch_size: 4, max_length: 16,")
        .replace("checkpoint_every: 4, val_pairs: 16}", "eval_every: 2, checkpoint_every: 0, val_pairs: 8}")
        .replace("langs: {xquad-r: [en, de]}", "langs: {xquad-r: [en]}")
    )
    results = tmp_path / "results"
    run_experiment(load_experiment(small, "quick"), results, StepStore(tmp_path / "a"), progress=False)
    point = results / "alpha=0.5,seed=0"
    weights = json.loads((point / "xquad-r.json").read_text())["model"]["weights_sha256"]
    train_json = (point / "train.json").read_bytes()
    out = run_experiment(load_experiment(small, "new-limit"), results, StepStore(tmp_path / "b"), progress=False)
    assert out.retrained == [s.key for s in plan(load_experiment(small, "new-limit")) if s.kind == "train"]
    again = json.loads((point / "xquad-r.json").read_text())
    assert again["limit"] == 6 and again["model"]["weights_sha256"] == weights
    assert again["train"]["summary"]["evals"] == json.loads(train_json)["summary"]["evals"]
    assert (point / "train.json").read_bytes() == train_json


@pytest.mark.slow
def test_cached_rerun_kill_and_resume_and_two_runners(tiny: Path, tmp_path: Path, mirror: Path) -> None:
    # 1. An uninterrupted run computes every step; a rerun finds them all published; a run into
    #    another results folder takes them all from the cache.
    env_a = _home(tmp_path, mirror, "a")
    res_a = tmp_path / "res-a"
    r = _run([str(tiny), "--results", str(res_a)], env_a)
    assert r.returncode == 0, r.stderr[-2000:]
    assert _counts(r.stdout) == (5, 0, 0)
    assert _counts(_run([str(tiny), "--results", str(res_a)], env_a).stdout) == (0, 0, 5)
    r2 = _run([str(tiny), "--results", str(tmp_path / "res-a2")], env_a)
    assert _counts(r2.stdout) == (0, 5, 0)
    reference = _numbers(res_a)
    assert set(reference) == {"base/xquad-r.json", "alpha=0.0,seed=0/xquad-r.json", "alpha=1.0,seed=0/xquad-r.json"}
    assert _numbers(tmp_path / "res-a2") == reference
    summary = json.loads((res_a / "summary.json").read_text())
    assert set(summary["rows"]) == {"base", "alpha=0.0", "alpha=1.0"}
    reference_train = {p.parent.name: json.loads(p.read_text())["summary"] for p in res_a.glob("*/train.json")}
    assert all(s["resumed_at_step"] is None for s in reference_train.values())

    # 2. kill -9 in the middle of training (after its first checkpoint), then resume: the run goes on
    #    from the checkpoint (not from step 0) and ends with the same numbers.
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
    while time.time() < deadline and not list(steps_dir.glob("train-*/checkpoint/state.json")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    checkpoints = list(steps_dir.glob("train-*/checkpoint/state.json"))
    assert len(checkpoints) == 1, "the run never wrote a checkpoint"
    killed_key = checkpoints[0].parent.parent.name
    checkpoint_step = json.loads(checkpoints[0].read_text())["progress"]["step"]
    assert checkpoint_step == 4  # checkpoint_every 4 of 8 steps: the kill came mid-training
    assert not (steps_dir / killed_key / "done.json").exists()
    assert not (res_b / "summary.json").exists()
    r3 = _run([str(tiny), "--results", str(res_b)], env_b)
    assert r3.returncode == 0, r3.stderr[-2000:]
    # The base model's evaluation ran (and was published) before training began: it is not redone.
    assert _counts(r3.stdout) == (4, 0, 1)
    assert _numbers(res_b) == reference
    resumed = {p.parent.name: json.loads(p.read_text()) for p in res_b.glob("*/train.json")}
    by_key = {r["step"]: r["summary"] for r in resumed.values()}
    assert by_key[killed_key]["resumed_at_step"] == checkpoint_step
    assert [s["resumed_at_step"] for k, s in by_key.items() if k != killed_key] == [None]
    assert {label: r["summary"]["evals"] for label, r in resumed.items()} == {
        label: s["evals"] for label, s in reference_train.items()
    }
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
    assert sum(c[0] for c in counts) == 5 and all(c[0] + c[1] == 5 for c in counts)
    assert _numbers(tmp_path / "res-c0") == _numbers(tmp_path / "res-c1") == reference


def test_a_retrain_that_gives_other_weights_is_warned_and_recorded(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    # fp32 training on another CPU model can differ in the last bits: the published training record
    # must then say which weights the new evaluations came from, and nothing may pass silently.
    machine = {"weights": b"weights from CPU A", "loss": 1.0}
    calls: list = []

    def train(step: Any, store: StepStore, progress: bool) -> dict[str, Any]:
        model = store.path(step.key) / "model"
        model.mkdir(exist_ok=True)
        (model / "model.safetensors").write_bytes(machine["weights"])
        summary = {"evals": [{"step": 8, "val_loss": machine["loss"]}], "steps_done": 8, "seconds": 30.0}
        summary |= {"precision": step.payload["config"]["precision"], "resumed_at_step": None}
        (model.parent / "train.json").write_text(json.dumps({"config": step.payload["config"], "summary": summary}))
        weights = sweep_mod._trained_weights_sha256(store, step.key)
        return {
            "kind": "train",
            "point": step.point,
            "payload": step.payload,
            "summary": summary,
            "weights_sha256": weights,
        }

    monkeypatch.setattr(sweep_mod, "_run_train", train)
    monkeypatch.setattr(sweep_mod, "_run_eval", lambda *a: _fake_eval(calls, *a))
    results = tmp_path / "results"
    run_experiment(load_experiment(tiny, "quick"), results, StepStore(tmp_path / "a"), progress=False)
    record = results / "alpha=0.0,seed=0" / "train.json"
    assert json.loads(record.read_text())["weights_sha256"] == hashlib.sha256(b"weights from CPU A").hexdigest()
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    capsys.readouterr()

    # Retrained to the same weights: the record stays byte for byte, no warning.
    before = record.read_bytes()
    out = run_experiment(load_experiment(tiny, "new-limit"), results, StepStore(tmp_path / "b"), progress=False)
    assert out.retrained and record.read_bytes() == before and "warning" not in capsys.readouterr().err

    # Retrained elsewhere to other weights (losses 2e-6 apart): warned, and recorded beside the original.
    machine.update(weights=b"weights from CPU B", loss=1.0 + 2e-6)
    out = run_experiment(load_experiment(tiny, "new-limit"), copy, StepStore(tmp_path / "c"), progress=False)
    err = capsys.readouterr().err
    assert len(out.retrained) == 2 and err.count("warning: retrained") == 2
    assert "largest relative difference 2.0e-06" in err
    published = json.loads((copy / "alpha=0.0,seed=0" / "train.json").read_text())
    assert published["weights_sha256"] == hashlib.sha256(b"weights from CPU A").hexdigest()
    (entry,) = published["retrained"]
    assert entry["weights_sha256"] == hashlib.sha256(b"weights from CPU B").hexdigest()
    assert entry["val_losses"] == [1.0 + 2e-6] and entry["provenance"]["machine"]
    # The same weights again (another fresh store on that machine): on record already, not added twice.
    (copy / "alpha=0.0,seed=0" / "xquad-r.json").unlink()
    run_experiment(load_experiment(tiny, "new-limit"), copy, StepStore(tmp_path / "d"), progress=False)
    assert len(json.loads((copy / "alpha=0.0,seed=0" / "train.json").read_text())["retrained"]) == 1
    # The published step is still done: a rerun on that machine computes nothing.
    again = run_experiment(load_experiment(tiny, "new-limit"), copy, StepStore(tmp_path / "c"), progress=False)
    assert not again.computed and not again.retrained


def test_a_corpus_path_that_does_not_exist_is_an_error_not_xnli(tmp_path: Path) -> None:
    from repro.data.corpora import corpus_checksums
    from repro.data.manifest import checksums

    assert corpus_checksums("xnli") == checksums(["xnli"])
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"id": 1, "language": "en", "query": "q", "passage": "p"}\n')
    assert corpus_checksums(str(corpus)) == {str(corpus): hashlib.sha256(corpus.read_bytes()).hexdigest()}
    with pytest.raises(ReproError, match=r"training corpus .*missing\.jsonl does not exist; give 'xnli' or the path"):
        corpus_checksums(str(tmp_path / "missing.jsonl"))
