"""Fault injection: tampered, truncated and flipped files, a publish killed midway, a read-only
REPRO_HOME, names that climb out of the results root, duplicate YAML keys, oversized registries,
bad command-line input. Each fault gives exit code 2 (or a warning and a recomputation, for the
cache) with a one-line message naming the problem, and leaves what is committed or cached as it was.

Committed results are only ever touched in copies (tmp_path); a module fixture checks that
results/ itself is byte for byte what it was. The runner's compute is replaced by stand-ins where
the fault is about files, not numbers (as in tests/test_runner.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from repro import atomic
from repro.errors import ReproError
from repro.evaluation.result import TaskResult, load_per_query
from repro.integrity import check_record, record_digest
from repro.runner import sweep as sweep_mod
from repro.runner.experiment import load_experiment
from repro.runner.store import StepStore
from repro.runner.sweep import check_published, plan, run_experiment
from tests.conftest import require

REPO = Path(__file__).resolve().parents[1]
ME5 = REPO / "results" / "me5-prefixes" / "full"
SWEEP_FULL = REPO / "results" / "hybrid-sweep" / "full"


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module", autouse=True)
def committed_results_untouched():
    before = _tree_digest(REPO / "results")
    yield
    assert _tree_digest(REPO / "results") == before, "a fault test changed the committed results/"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def repro(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    """``repro ARGS`` in this process: (exit code, stdout, stderr)."""
    from repro.cli import main

    monkeypatch.setattr(sys, "argv", ["repro", *args])
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def _first_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    return lines[0] if lines else ""


@pytest.fixture()
def results(tmp_path: Path) -> Path:
    """A copy of the committed results of me5-prefixes (verdicts included) as a results root."""
    root = tmp_path / "results"
    shutil.copytree(ME5, root / "me5-prefixes" / "full")
    shutil.copytree(REPO / "results" / "claims" / "me5-prefixes", root / "claims" / "me5-prefixes")
    return root


def _verify_no_run(root: Path, monkeypatch, capsys, *extra: str) -> tuple[int, str, str]:
    return repro(
        [
            "verify",
            "claims/me5-prefixes.yaml",
            "--profile",
            "full",
            "--no-run",
            "--results",
            str(root),
            "--quiet",
            *extra,
        ],
        monkeypatch,
        capsys,
    )


# --- committed results ------------------------------------------------------------------------


def test_committed_results_are_sealed_and_match() -> None:
    for path in sorted((REPO / "results").rglob("*.json")):
        record = json.loads(path.read_text())
        assert "integrity" in record, f"{path} carries no hashes"
        assert check_record(record, path) == [], path
    # The digest is of the content, not the layout: reformatting keeps it, one digit changes it.
    record = json.loads((ME5 / "prefixes=e5" / "xquad-r.json").read_text())
    assert record_digest(json.loads(json.dumps(record, indent=4, sort_keys=True))) == record_digest(record)
    record["summary"]["multi"]["mAP"] += 1e-12
    assert record_digest(record) != record["integrity"]["record_sha256"]


def test_untouched_copy_verifies(results: Path, monkeypatch, capsys) -> None:
    code, out, err = _verify_no_run(results, monkeypatch, capsys)
    assert code == 0, err
    # The committed verdict under the parts rule: XQuAD-R held, MLQA-R undecided.
    assert "E2  partially reproduced" in out


@pytest.mark.parametrize(
    ("target", "edit", "message"),
    [
        (
            "me5-prefixes/full/summary.json",
            lambda t: t.replace("0.394369851624606", "0.494369851624606", 1),
            "summary.json: content does not match its recorded SHA-256 (edited or corrupt)",
        ),
        (
            "me5-prefixes/full/summary.md",
            lambda t: t.replace("0.3944", "0.4944", 1),
            "summary.md: content does not match the SHA-256 in summary.json",
        ),
        (
            "me5-prefixes/full/prefixes=none/xquad-r.json",
            lambda t: t.replace('"mAP": 0.', '"mAP": 0.9', 1),
            "prefixes=none/xquad-r.json: content does not match its recorded SHA-256",
        ),
        (
            "me5-prefixes/full/prefixes=none/mlqa-r.json",
            lambda t: t[: len(t) // 2],
            "prefixes=none/mlqa-r.json: not valid JSON (truncated or corrupt",
        ),
    ],
    ids=["summary-number", "summary-md", "result-number", "truncated-result"],
)
def test_edited_committed_file_is_an_error_naming_it(
    results: Path, monkeypatch, capsys, target: str, edit: Any, message: str
) -> None:
    path = results / target
    path.write_text(edit(path.read_text()))
    verdicts = results / "claims" / "me5-prefixes" / "full" / "verdicts.json"
    before = verdicts.read_bytes()
    code, out, err = _verify_no_run(results, monkeypatch, capsys)
    assert code == 2 and "Traceback" not in err
    first = _first_line(err)
    assert first.startswith("error: ") and message in first
    assert "--republish" in first and "git checkout --" in first
    assert len([line for line in err.splitlines() if line.startswith("error")]) == 1
    assert out == ""
    assert verdicts.read_bytes() == before  # nothing decided on tampered numbers


def test_rewritten_committed_per_query_file_is_an_error(results: Path, monkeypatch, capsys) -> None:
    # A valid .npz with better numbers for the swapped prefixes: it would flip E2 if it were used.
    swapped = results / "me5-prefixes" / "full" / "prefixes=swapped" / "xquad-r.perquery.npz"
    prefixed = dict(np.load(results / "me5-prefixes" / "full" / "prefixes=e5" / "xquad-r.perquery.npz"))
    values = dict(np.load(swapped))
    for k, v in values.items():
        if k in prefixed and v.dtype.kind == "f":
            values[k] = np.minimum(prefixed[k] * 1.5 + 0.05, 1.0)
    np.savez_compressed(swapped, **values)
    verdicts = results / "claims" / "me5-prefixes" / "full" / "verdicts.json"
    before = verdicts.read_bytes()
    code, _, err = _verify_no_run(results, monkeypatch, capsys)
    assert code == 2
    assert "prefixes=swapped/xquad-r.perquery.npz: content does not match the SHA-256 in xquad-r.json" in _first_line(
        err
    )
    assert verdicts.read_bytes() == before


def test_checks_refuse_a_file_changed_after_verify_began(results: Path) -> None:
    # The second line of defence: the result set a check reads hashes each file before using it.
    from repro.checks.context import ResultSet

    rs = ResultSet(results / "me5-prefixes" / "full")
    npz = rs.root / "prefixes=none" / "mlqa-r.perquery.npz"
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 0xFF
    npz.write_bytes(bytes(data))
    with pytest.raises(ReproError, match=r"mlqa-r.perquery.npz: content does not match the SHA-256 in mlqa-r.json"):
        rs.result("prefixes=none", "mlqa-r", per_query=True)
    # The other results of the set still read, typed, with the numbers their file holds.
    clean = rs.result("prefixes=none", "xquad-r")
    raw = json.loads((rs.root / "prefixes=none" / "xquad-r.json").read_text())
    assert clean.task == "xquad-r" and clean.summary == raw["summary"]


def test_tampered_verdicts_are_refused_by_report(results: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    verdicts = results / "claims" / "me5-prefixes" / "full" / "verdicts.json"
    verdicts.write_text(verdicts.read_text().replace('"verdict": "reproduced"', '"verdict": "not reproduced"', 1))
    code, _, err = repro(["report", "--results", str(results), "--out", str(tmp_path / "reports")], monkeypatch, capsys)
    assert code == 2
    assert "verdicts.json: content does not match its recorded SHA-256" in _first_line(err)
    assert "repro verify claims/me5-prefixes.yaml --profile full" in _first_line(err)
    assert not (tmp_path / "reports").exists()


# --- the runner: cache and published steps, with stand-ins for the compute ------------------------

TINY = """
name: tiny
train: {model: e5-small, corpus: xnli, steps: 8, batch_size: 4, max_length: 24, eval_every: 4,
        checkpoint_every: 4, val_pairs: 16}
grid: {alpha: [0.0], seed: [0]}
eval: {tasks: [xquad-r], langs: {xquad-r: [en, de]}, limit: 8, max_length: 48}
profiles:
  quick: {}
  new-limit: {eval: {limit: 6}}
"""

_REAL = json.loads((SWEEP_FULL / "base" / "xquad-r.json").read_text())
_REAL_PER_QUERY = load_per_query(SWEEP_FULL / "base" / "xquad-r.json")


def _fake_train(calls: list, step: Any, store: StepStore, progress: bool) -> dict[str, Any]:
    calls.append(("train", step.point))
    out = store.path(step.key)
    (out / "model").mkdir(exist_ok=True)
    weights = b"fake weights " * 4096 + json.dumps(step.point).encode()
    (out / "model" / "model.safetensors").write_bytes(weights)
    summary = {"evals": [{"step": 8, "val_loss": 1.0}], "steps_done": 8, "seconds": 30.0, "precision": "fp32"}
    (out / "train.json").write_text(json.dumps({"config": step.payload["config"], "summary": summary}))
    return {
        "kind": "train",
        "point": step.point,
        "payload": step.payload,
        "summary": summary,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }


def _fake_eval(calls: list, step: Any, exp: Any, store: StepStore, encoders: Any, progress: bool) -> dict[str, Any]:
    calls.append(("eval", step.point))
    model: dict[str, Any] = {"precision": step.payload["precision"]}
    if step.depends_on:
        weights = store.path(step.depends_on) / "model" / "model.safetensors"
        model["weights_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    info = {"config": {k: v for k, v in step.payload.items() if k != "data"}, "model": model, "step": step.key}
    info["wall_seconds"] = 20.0
    result = TaskResult(step.task, _REAL["summary"], _REAL["tables"], dict(_REAL_PER_QUERY), info)
    result.save(store.path(step.key) / "result.json")
    return {"kind": "eval", "task": step.task, "point": step.point, "payload": step.payload, "seconds": 20.0}


@pytest.fixture()
def fake_compute(monkeypatch: pytest.MonkeyPatch) -> list:
    calls: list = []
    monkeypatch.setattr(sweep_mod, "_run_train", lambda *a: _fake_train(calls, *a))
    monkeypatch.setattr(sweep_mod, "_run_eval", lambda *a: _fake_eval(calls, *a))
    return calls


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def _cached_eval(store: StepStore, exp: Any) -> Path:
    step = next(s for s in plan(exp) if s.kind == "eval" and s.depends_on)
    return store.root / step.key


def _flip(path: Path, at: int | None = None, n: int = 4096) -> None:
    data = bytearray(path.read_bytes())
    start = len(data) // 2 if at is None else at
    for i in range(start, min(len(data), start + n)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _halve_npz(path: Path) -> None:
    values = dict(np.load(path))
    np.savez_compressed(path, **{k: (v * 0.5 if v.dtype.kind == "f" else v) for k, v in values.items()})


@pytest.mark.parametrize(
    ("fault", "named"),
    [
        (lambda d: _halve_npz(d / "result.perquery.npz"), "result.perquery.npz: content does not match"),
        (lambda d: _flip(d / "result.perquery.npz", at=64, n=512), "result.perquery.npz: content does not match"),
        (lambda d: (d / "result.json").write_bytes((d / "result.json").read_bytes()[:200]), "result.json: content"),
        (lambda d: (d / "done.json").write_text((d / "done.json").read_text()[:100]), "done.json: unreadable"),
        (lambda d: (d / "result.perquery.npz").unlink(), "result.perquery.npz: missing"),
    ],
    ids=["valid-npz-rewritten", "npz-bytes-flipped", "json-truncated", "record-truncated", "npz-deleted"],
)
def test_a_cached_step_that_does_not_match_is_computed_again_with_a_warning(
    tiny: Path, tmp_path: Path, fake_compute: list, capsys, fault: Any, named: str
) -> None:
    exp = load_experiment(tiny, "quick")
    store = StepStore(tmp_path / "store")
    run_experiment(exp, tmp_path / "r1", store, progress=False)
    reference = _files(tmp_path / "r1")
    fault(_cached_eval(store, exp))
    fake_compute.clear()
    capsys.readouterr()
    out = run_experiment(exp, tmp_path / "r2", store, progress=False)
    err = capsys.readouterr().err
    assert named in err and "computing eval alpha=0.0,seed=0 xquad-r again" in err
    assert fake_compute == [("eval", {"alpha": 0.0, "seed": 0})]
    assert len(out.computed) == 1 and len(out.cached) == 2
    published = _files(tmp_path / "r2")
    # The same numbers as the untouched run (the stand-in computes what it computed then).
    for name in ("alpha=0.0,seed=0/xquad-r.json", "base/xquad-r.json"):
        assert json.loads(published[name])["tables"] == json.loads(reference[name])["tables"]
    assert check_published(exp, tmp_path / "r2") == ([], 0)
    assert store.problems(_cached_eval(store, exp).name) == []  # the cache holds a good copy again


def test_flipped_cached_weights_retrain_before_any_evaluation(tiny: Path, tmp_path: Path, fake_compute, capsys) -> None:
    exp = load_experiment(tiny, "quick")
    store = StepStore(tmp_path / "store")
    run_experiment(exp, tmp_path / "r", store, progress=False)
    train = next(s for s in plan(exp) if s.kind == "train")
    _flip(store.root / train.key / "model" / "model.safetensors")
    fake_compute.clear()
    capsys.readouterr()
    newer = load_experiment(tiny, "new-limit")
    run_experiment(newer, tmp_path / "r", store, progress=False)
    err = capsys.readouterr().err
    assert "model/model.safetensors: content does not match the SHA-256 in done.json" in err
    # Retrained first, then the new evaluations; the published training record is left alone.
    assert [c[0] for c in fake_compute] == ["eval", "train", "eval"]
    assert store.problems(train.key) == []


def test_an_evaluation_of_other_weights_than_its_training_recorded_is_not_used(
    tiny: Path, tmp_path: Path, fake_compute, capsys
) -> None:
    exp = load_experiment(tiny, "quick")
    store = StepStore(tmp_path / "store")
    run_experiment(exp, tmp_path / "r1", store, progress=False)
    # The training record now names other weights than the evaluation used (the key chain is broken).
    train = next(s for s in plan(exp) if s.kind == "train")
    done = store.root / train.key / "done.json"
    record = json.loads(done.read_text())
    record["weights_sha256"] = "0" * 64
    store.finish(train.key, {k: v for k, v in record.items() if k != "integrity"})
    fake_compute.clear()
    run_experiment(exp, tmp_path / "r2", store, progress=False)
    assert "evaluated other weights than its training step recorded" in capsys.readouterr().err


def test_a_tampered_published_step_stops_the_run_until_republished(
    tiny: Path, tmp_path: Path, fake_compute, monkeypatch, capsys
) -> None:
    exp = load_experiment(tiny, "quick")
    results = tmp_path / "results" / "tiny" / "quick"
    run_experiment(exp, results, StepStore(tmp_path / "a"), progress=False)
    target = results / "base" / "xquad-r.json"
    target.write_text(target.read_text().replace('"mAP": 0.', '"mAP": 0.1', 1))
    before = _files(results)
    with pytest.raises(ReproError) as err:
        run_experiment(exp, results, StepStore(tmp_path / "b"), progress=False)
    assert str(err.value).startswith(f"{target}: content does not match its recorded SHA-256")
    assert f"repro run {tiny} --profile quick --republish" in str(err.value)
    assert _files(results) == before  # summary.json not rewritten from the tampered value
    # The CLI says it in one line, exit 2; --republish recomputes that step only and publishes it again.
    code, _, cli_err = repro(["run", str(tiny), "--results", str(results), "--quiet"], monkeypatch, capsys)
    assert code == 2 and _first_line(cli_err).startswith(f"error: {target}: content does not match")
    fake_compute.clear()
    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "home"))
    code, out, cli_err = repro(
        ["run", str(tiny), "--results", str(results), "--quiet", "--republish"], monkeypatch, capsys
    )
    assert code == 0, cli_err
    assert "recomputed and published again (--republish)" in cli_err
    assert fake_compute == [("eval", None)]
    assert "1 steps computed, 0 cached, 2 published" in out
    assert check_published(exp, results) == ([], 0)


def test_a_publish_killed_midway_leaves_the_old_or_the_whole_new_folder(
    tiny: Path, tmp_path: Path, fake_compute, monkeypatch
) -> None:
    exp = load_experiment(tiny, "quick")
    results = tmp_path / "results"
    store = StepStore(tmp_path / "store")
    run_experiment(exp, results, store, progress=False)
    before = _files(results)
    newer = load_experiment(tiny, "new-limit")
    real_replace = os.replace

    def killed(src, dst):  # the process dies between moving the old folder aside and renaming the new one in
        if Path(src).name.startswith(".") and ".tmp-" in Path(src).name:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(newer, results, store, progress=False)
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert not (results / "base").exists() and (results / ".base.old").is_dir()  # the old copy, whole, aside
    assert _files(results / ".base.old") == {k[5:]: v for k, v in before.items() if k.startswith("base/")}
    # The next run puts the old folder back and publishes the new step into it whole.
    run_experiment(newer, results, store, progress=False)
    assert not list(results.glob(".*"))
    assert check_published(newer, results) == ([], 0)
    assert check_published(exp, results) == ([], 0)  # the other profile's files are still there and whole


def test_read_only_step_cache(tmp_path: Path, capsys) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(ReproError, match=r"^cannot write the step cache .*/file/steps .*set REPRO_HOME elsewhere$"):
        StepStore(blocked / "steps")
    store = StepStore(blocked / "steps", fallback=True)
    assert store.root.is_dir() and store.root != blocked / "steps"
    assert "steps are computed in the temporary folder" in capsys.readouterr().err


def test_embedding_cache_turns_itself_off_once(tmp_path: Path, capsys) -> None:
    from repro.models.embedding_cache import EmbeddingCache

    blocked = tmp_path / "file"
    blocked.write_text("x")
    cache = EmbeddingCache(blocked / "embeddings" / "vectors.sqlite", max_bytes=1 << 20)
    key = b"k" * 32
    assert cache.get([key]) == {}
    cache.put([(key, np.ones(4, dtype=np.float32))])
    assert cache.get([key]) == {}
    assert cache.file_digest(blocked) == hashlib.sha256(b"x").hexdigest()
    err = capsys.readouterr().err
    assert err.count("warning: embedding cache off") == 1


def _read_only(home: Path) -> list[str]:
    """A command prefix that runs with ``home`` read-only: chmod for a normal user; root ignores
    permissions, so there a private read-only bind mount (util-linux unshare)."""
    if os.geteuid() != 0:
        for p in [home, *home.rglob("*")]:
            if not p.is_symlink():
                p.chmod(0o555 if p.is_dir() else 0o444)
        return []
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    require(probe.returncode == 0, "unshare -m (util-linux) with mount rights", "run as a normal user or allow mounts")
    return ["unshare", "-m", "sh", "-c", f'mount --bind -o ro "{home}" "{home}" && exec "$0" "$@"']


@pytest.mark.slow
def test_read_only_home_eval_and_verify_degrade(tmp_path: Path, fetched) -> None:
    from repro.cache import repro_home

    home = tmp_path / "home"
    home.mkdir()
    for d in ("data", "models"):
        (home / d).symlink_to(repro_home() / d)
    root = tmp_path / "results"
    shutil.copytree(ME5, root / "me5-prefixes" / "full")
    prefix = _read_only(home)
    env = {**os.environ, "REPRO_HOME": str(home)}
    base = [sys.executable, "-m", "repro.cli"]
    ev = subprocess.run(
        [*prefix, *base, "eval", "--task", "xquad-r", "--langs", "en", "--limit", "3", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert ev.returncode == 0 and "Traceback" not in ev.stderr, ev.stderr
    assert "embedding cache off" in ev.stderr and "result not saved" in ev.stderr
    assert "Mul" in ev.stdout or "mAP" in ev.stdout
    vf = subprocess.run(
        [*prefix, *base, "verify", "claims/me5-prefixes.yaml", "--profile", "full", "--no-run"]
        + ["--results", str(root), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert vf.returncode == 0 and "Traceback" not in vf.stderr, vf.stderr
    assert list(home.iterdir()) == [home / "data", home / "models"] or sorted(p.name for p in home.iterdir()) == [
        "data",
        "models",
    ]


# --- names and paths --------------------------------------------------------------------------


def test_traversal_names_are_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    from repro.claims.registry import load_registry

    exp = tmp_path / "e.yaml"
    exp.write_text(TINY.replace("name: tiny", "name: ../../../outside/x"))
    with pytest.raises(ReproError) as err:
        load_experiment(exp, "quick")
    assert str(err.value) == (
        f"{exp}:2: name: experiment name '../../../outside/x' must be a slug (letters, digits, '.', '_', '-'; "
        "no '/' or '..'; at most 100 characters), because it names a results folder; did you mean 'outside-x'?"
    )
    exp.write_text(TINY.replace("  quick: {}", "  ../quick: {}"))
    with pytest.raises(ReproError, match=r"profile name '../quick' must be a slug"):
        load_experiment(exp, "quick")
    exp.write_text(TINY.replace("alpha: [0.0]", "alpha: ['../../x']"))
    with pytest.raises(ReproError, match=r"grid.alpha: 'alpha=../../x' names a results folder and cannot hold '/'"):
        load_experiment(exp, "quick")
    reg = tmp_path / "claims" / "r.yaml"
    reg.parent.mkdir()
    reg.write_text("name: ../../outside\nclaims: []\n")
    with pytest.raises(ReproError, match=r"r.yaml:1: name: registry name '../../outside' must be a slug"):
        load_registry(reg)
    code, _, err = repro(["verify", "claims/me5-prefixes.yaml", "--profile", "../x", "--no-run"], monkeypatch, capsys)
    assert code == 2 and _first_line(err).startswith("error: --profile '../x' must be a slug")
    assert not (tmp_path.parent / "outside").exists()


def test_experiment_paths_stay_inside_the_repository(tmp_path: Path, monkeypatch, capsys) -> None:
    reg = tmp_path / "claims" / "r.yaml"
    reg.parent.mkdir()
    reg.write_text("name: r\nexperiments: {x: /etc/passwd}\nclaims: []\n")
    code, _, err = repro(["verify", str(reg), "--no-run", "--results", str(tmp_path / "res")], monkeypatch, capsys)
    assert code == 2
    assert _first_line(err) == (
        f"error: {reg}: experiments.x: /etc/passwd is outside the registry's repository ({tmp_path}); "
        "move it inside, or pass --allow-outside to use it"
    )
    code, _, err = repro(
        ["verify", str(reg), "--no-run", "--allow-outside", "--results", str(tmp_path / "res")], monkeypatch, capsys
    )
    assert code == 2 and "/etc/passwd:1: an experiment must be a mapping" in _first_line(err)


def test_two_registries_with_one_name_are_an_error(results: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    tree = tmp_path / "repo"
    shutil.copytree(REPO / "experiments", tree / "experiments")
    (tree / "claims").mkdir()
    shutil.copy(REPO / "claims" / "me5-prefixes.yaml", tree / "claims" / "copy.yaml")
    verdicts = results / "claims" / "me5-prefixes" / "full" / "verdicts.json"
    before = verdicts.read_bytes()
    monkeypatch.chdir(REPO)  # the stored verdicts name claims/me5-prefixes.yaml, relative to the repository
    args = ["verify", str(tree / "claims" / "copy.yaml"), "--profile", "full", "--no-run", "--results", str(results)]
    code, _, err = repro([*args, "--quiet"], monkeypatch, capsys)
    assert code == 2
    assert _first_line(err).startswith(
        f"error: {tree / 'claims' / 'copy.yaml'}: registry name 'me5-prefixes' is also the name of claims/me5-prefixes.yaml"
    )
    assert verdicts.read_bytes() == before
    # Side by side in one folder, the clash is found without any stored verdicts.
    shutil.copy(REPO / "claims" / "me5-prefixes.yaml", tree / "claims" / "me5-prefixes.yaml")
    code, _, err = repro([*args[:-1], str(tmp_path / "fresh"), "--quiet"], monkeypatch, capsys)
    assert code == 2 and "is also the name of" in _first_line(err) and "me5-prefixes.yaml" in _first_line(err)


# --- YAML ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: a\nclaims: []\nname: b\n", "r.yaml:3: duplicate key 'name' (first on line 1)"),
        (
            "name: a\nclaims:\n  - id: C1\n    text: one\n    note: x\n    text: two\n",
            "r.yaml:6: duplicate key 'text' (first on line 4)",
        ),
    ],
    ids=["top-level", "inside-a-claim"],
)
def test_duplicate_registry_keys_name_both_lines(tmp_path: Path, text: str, message: str) -> None:
    from repro.claims.registry import load_registry

    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(ReproError) as err:
        load_registry(path)
    assert str(err.value) == f"{tmp_path}/{message}"


def test_duplicate_experiment_keys_name_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(TINY.replace("profiles:", "eval: {tasks: [mlqa-r]}\nprofiles:"))
    with pytest.raises(ReproError) as err:
        load_experiment(path, "quick")
    assert str(err.value) == f"{path}:7: duplicate key 'eval' (first on line 6)"


def test_an_alias_bomb_stays_fast(tmp_path: Path) -> None:
    from repro.yamlfile import read_yaml

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 20)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    t0 = time.perf_counter()
    read_yaml(tmp_path / "bomb.yaml")  # duplicate keys are looked for once per node, not per path to it
    assert time.perf_counter() - t0 < 10


def test_size_limits_name_the_limit(tmp_path: Path, monkeypatch) -> None:
    from repro.claims.registry import MAX_CLAIM_TEXT, load_registry

    path = tmp_path / "r.yaml"
    path.write_text("name: r\nclaims:\n  - id: C1\n    text: '" + "word " * 1000 + "'\n")
    with pytest.raises(ReproError) as err:
        load_registry(path)
    assert str(err.value).startswith(
        f"{path}:4: claims[0].text: claim text of 5,000 characters, over the limit of {MAX_CLAIM_TEXT:,} (MAX_CLAIM_TEXT)"
    )
    monkeypatch.setenv("REPRO_MAX_REGISTRY_MB", "0.00390625")  # 4096 bytes
    with pytest.raises(ReproError) as err:
        load_registry(path)
    assert (
        str(err.value) == f"{path}: 0.0 MB, over the limit of 0.00390625 MB; set REPRO_MAX_REGISTRY_MB (MB) to raise it"
    )


def test_a_registry_of_10000_claims_validates_in_seconds(tmp_path: Path) -> None:
    from repro.claims.registry import load_registry

    path = tmp_path / "big.yaml"
    claims = "".join(
        f"  - id: C{i}\n    text: 'Claim {i}: hybrid batches help retrieval in language {i % 50}.'\n    evidence: [text]\n"
        for i in range(10_000)
    )
    path.write_text("name: big\nclaims:\n" + claims)
    t0 = time.perf_counter()
    registry = load_registry(path)
    seconds = time.perf_counter() - t0
    assert len(registry.claims) == 10_000 and registry.claims[-1].id == "C9999"
    assert seconds < 30, f"{seconds:.1f} s"  # ~3 s on 2 shared cores; PyYAML without libyaml took minutes


# --- claims extract --into ----------------------------------------------------------------------


def _candidate():
    from repro.claims.extract import ClaimCandidate

    return ClaimCandidate(
        text="XLM-R with hybrid batches reaches 0.61 multilingual mAP on XQuAD-R.",
        page=3,
        confidence=0.9,
        type="result",
    )


def test_extract_into_refuses_a_file_that_is_not_a_registry(tmp_path: Path, monkeypatch, capsys) -> None:
    from repro.claims.merge import merge_candidates

    target = tmp_path / "exp.yaml"
    shutil.copy(REPO / "experiments" / "me5-prefixes.yaml", target)
    before = target.read_bytes()
    with pytest.raises(ReproError) as err:
        merge_candidates(target, [_candidate()])
    assert str(err.value).startswith(
        f"--into {target} is not a claims registry (it has eval, grid, profiles; an experiment file?); nothing was written"
    )
    assert target.read_bytes() == before
    # The command line refuses it first, before any extraction runs.
    paper = tmp_path / "paper.md"
    paper.write_text("# A paper\n\nHybrid batches improve retrieval by 5 points.\n")
    code, out, msg = repro(["claims", "extract", "--text", str(paper), "--into", str(target)], monkeypatch, capsys)
    assert code == 2 and out == "" and _first_line(msg).startswith(f"error: --into {target} is not a claims registry")
    assert target.read_bytes() == before
    code, _, msg = repro(["claims", "extract", "--pdf", str(tmp_path)], monkeypatch, capsys)
    assert (
        code == 2 and _first_line(msg) == f"error: {tmp_path} is a folder; give a PDF, Markdown or text file inside it"
    )


def test_extract_into_keeps_comments_and_key_order(tmp_path: Path) -> None:
    import yaml

    from repro.claims.merge import merge_candidates

    target = tmp_path / "r.yaml"
    target.write_text(
        "# a comment\nname: notlast  # inline\nclaims:\n  # first claim\n"
        "  - {id: C1, text: 'Hybrid batches cut rank distance.'}\npaper: {title: x}  # paper\n"
    )
    added, skipped = merge_candidates(target, [_candidate()])
    text = target.read_text()
    assert added == ["D1"] and skipped == 0
    for comment in ("# a comment", "# inline", "# first claim", "# paper"):
        assert comment in text
    data = yaml.safe_load(text)
    assert list(data) == ["name", "claims", "paper"]
    assert [c["id"] for c in data["claims"]] == ["C1", "D1"] and data["paper"] == {"title": "x"}


# --- command-line messages ------------------------------------------------------------------------


def test_bad_options_are_one_line_naming_the_problem(monkeypatch, capsys) -> None:
    code, out, err = repro(["eval", "--task", "xquad-r", "--limit", "0"], monkeypatch, capsys)
    assert code == 2 and out == ""
    assert err.strip() == "error: Invalid value for '--limit': 0 is not in the range x>=1. (see 'repro eval --help')"


def test_offline_arxiv_is_one_short_line(tmp_path: Path, monkeypatch) -> None:
    from repro.sources.arxiv_source import ArxivSource

    monkeypatch.setenv("REPRO_HOME", str(tmp_path))
    source = ArxivSource(base_url="http://127.0.0.1:9", retries=0, timeout=2)
    with pytest.raises(ReproError) as err:
        source.pdf("2401.00001")
    assert str(err.value) == (
        "cannot get the metadata of arXiv 2401.00001 (no connection to 127.0.0.1); offline? "
        "download the PDF yourself and pass it with --pdf FILE"
    )


def test_no_run_says_which_published_steps_do_not_match_this_machine(results: Path, monkeypatch, capsys) -> None:
    # The committed me5 results were computed in bf16; a machine whose "auto" means fp32 plans other keys.
    monkeypatch.setattr(sweep_mod, "resolved_precision", lambda precision, device=None: "fp32")
    code, _, err = _verify_no_run(results, monkeypatch, capsys)
    assert code == 0
    note = (
        "6 of 6 published steps were computed under other keys than this machine's (precision: bf16 recorded, "
        "fp32 here); --no-run used their numbers as published, `repro run "
    )
    assert note in err
    saved = json.loads((results / "claims" / "me5-prefixes" / "full" / "verdicts.json").read_text())
    assert saved["experiments"][0]["key_mismatch"].startswith("6 of 6 published steps")
    monkeypatch.setattr(sweep_mod, "resolved_precision", lambda precision, device=None: "bf16")
    code, _, err = _verify_no_run(results, monkeypatch, capsys)
    assert code == 0 and "other keys" not in err
