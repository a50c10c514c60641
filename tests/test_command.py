"""Command steps: the user's own program as a grid point's evidence (repro/runner/command.py).

The program is tests/commands/counter.py, whose values are known in closed form (``value``), so
the published summaries, tables and the comparison's statistic are checked against an
independent computation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from repro.errors import ReproError
from tests.commands.counter import value

REPO = Path(__file__).resolve().parents[1]

EXPERIMENT = """
name: toy-command
command:
  task: counter
  argv: "{python} counter.py --seed {seed} --arm {arm} --steps 2 {extra} --out {out}"
  cwd: commands
  env: {COUNTER_ENV: "1"}
  inputs: [commands/counter.py]
  outputs: [result.jsonl]
  metrics: {train: {loss: lower}, test: {loss: lower, accuracy: higher}}
  params: {extra: ""}
grid: {arm: [a, b], seed: [0, 1, 2]}
profiles:
  tiny: {}
  broken: {command: {params: {extra: "--fail=3"}}, grid: {seed: [0]}}
"""

REGISTRY = """
name: toy
experiments: {toy: toy.yaml}
arms:
  a: {experiment: toy, point: {arm: a}}
  b: {experiment: toy, point: {arm: b}}
claims:
  - id: T1
    text: "arm a has a lower training loss than arm b"
    checks:
      - {kind: comparison, task: counter, metric: train loss, a: a, b: b, claim: better}
"""


def _setup(tmp_path: Path, text: str = EXPERIMENT) -> Path:
    (tmp_path / "commands").mkdir(exist_ok=True)
    shutil.copy(REPO / "tests" / "commands" / "counter.py", tmp_path / "commands" / "counter.py")
    path = tmp_path / "toy.yaml"
    path.write_text(text)
    return path


def _cli(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "REPRO_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "repro.cli", *args], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )


def test_command_steps_publish_the_programs_items_and_resume_from_the_results(tmp_path: Path) -> None:
    from repro.runner.estimate import dry_run
    from repro.runner.experiment import load_experiment
    from repro.runner.store import StepStore
    from repro.runner.sweep import plan, run_experiment

    path = _setup(tmp_path)
    exp = load_experiment(path, "tiny")
    store, results = StepStore(tmp_path / "steps"), tmp_path / "results"
    out = run_experiment(exp, results, store=store, progress=False)
    assert len(out.computed) == 6 and not out.cached
    res = json.loads((results / "arm=b,seed=2" / "counter.json").read_text())
    train = [value(2, "b", i) for i in range(30)]
    odd = [value(2, "b", i) for i in range(101, 120, 2)]
    even = [value(2, "b", i) for i in range(100, 120, 2)]
    assert res["summary"]["train"]["loss"] == pytest.approx(np.mean(train), abs=1e-12)
    # The summary is the macro average over groups, as built-in tasks average languages.
    assert res["summary"]["test"]["loss"] == pytest.approx((np.mean(odd) + np.mean(even)) / 2, abs=1e-12)
    assert res["tables"]["test"]["odd"]["n"] == 10
    # The record names no machine: the interpreter as `python`, the working folder as the file writes it.
    assert res["command"]["exit_code"] == 0 and res["command"]["argv"][0] == "python"
    assert sys.executable not in json.dumps(res) and str(Path.cwd()) not in json.dumps(res)
    assert res["result_format"] == {"format": "repro-result", "version": 1}
    pq = np.load(results / "arm=b,seed=2" / "counter.perquery.npz")
    assert list(pq["train/all/ids"]) == list(range(30)) and np.allclose(pq["train/all/loss"], train)
    assert not (results / "arm=b,seed=2" / "counter.out" / "result.jsonl").exists()  # only what `publish` names
    assert "step 2/2" in (results / "arm=b,seed=2" / "counter.out" / "command.log").read_text()
    # Published under their keys: a fresh store computes nothing, and the dry run says so.
    again = run_experiment(exp, results, store=StepStore(tmp_path / "fresh"), progress=False)
    assert len(again.published) == 6 and not again.computed
    assert {s.state for s in dry_run(exp, results, StepStore(tmp_path / "fresh"))} == {"published"}
    # The program is an input: editing it re-keys every step; the grid values and env are keyed too.
    keys = [s.key for s in plan(exp)]
    prog = tmp_path / "commands" / "counter.py"
    prog.write_text(prog.read_text() + "\n# edited\n")
    assert not set(keys) & {s.key for s in plan(load_experiment(path, "tiny"))}
    assert len(set(keys)) == 6


def test_a_comparison_over_command_results_pairs_seeds_and_items_like_a_builtin_task(tmp_path: Path) -> None:
    from repro.claims.verify import verify

    _setup(tmp_path)
    (tmp_path / "toy-claims.yaml").write_text(REGISTRY)
    out = verify(tmp_path / "toy-claims.yaml", "tiny", results_root=tmp_path / "results", progress=False)
    check = out.claims[0].checks[0]
    # An independent computation: the mean over seed pairs and items of a - b (0.25 lower by construction).
    diffs = [[value(s, "a", i) - value(s, "b", i) for i in range(30)] for s in range(3)]
    test = check.tests[0]
    assert test.estimate == pytest.approx(float(np.mean(diffs)), abs=1e-12)
    assert (test.n_seeds, test.n_items) == (3, 30)
    assert out.claims[0].verdict.value == "reproduced"
    assert out.provenance["experiments"]["toy"]["seeds"] == [0, 1, 2]
    # One row ("all"): no per-row table to repeat the headline.
    assert not [t for t in check.tables if t.title.startswith("Per ")]
    # The test split's rows are the program's item groups, and its table says so (not "per language").
    (tmp_path / "test-claims.yaml").write_text(
        REGISTRY.replace("metric: train loss", "metric: test loss").replace("name: toy", "name: toy-test")
    )
    out = verify(tmp_path / "test-claims.yaml", "tiny", results_root=tmp_path / "results", progress=False)
    (table,) = [t for t in out.claims[0].checks[0].tables if t.title.startswith("Per ")]
    assert table.title == "Per group, counter test loss (mean over seeds)" and table.columns == ["group", "a", "b"]
    assert [row[0] for row in table.rows] == ["even", "odd"]


def test_a_failing_program_is_one_line_with_exit_code_2_and_the_log(tmp_path: Path) -> None:
    path = _setup(tmp_path)
    out = _cli(
        ["run", str(path), "--profile", "broken", "--results", str(tmp_path / "r"), "--quiet"], tmp_path / "home"
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    line = out.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert "exited with code 3 (counter: giving up with code 3); log: " in line
    log = Path(line.rsplit("log: ", 1)[1])
    assert log.is_file() and "giving up" in log.read_text()


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("nothing", "did not write result.jsonl (declared in command.outputs/result)"),
        ("version", "result.jsonl:1: version: this repro reads version 1, got 2"),
        ("field", "result.jsonl:6: values.loss: missing (declared in command.metrics.train)"),
        ("summary", "result.jsonl:1: summary.train.loss is 99 but its items average"),
    ],
)
def test_a_missing_or_malformed_output_names_the_file_line_and_field(tmp_path: Path, broken: str, message: str) -> None:
    from repro.runner.experiment import load_experiment
    from repro.runner.store import StepStore
    from repro.runner.sweep import run_experiment

    path = _setup(tmp_path, EXPERIMENT.replace('params: {extra: ""}', f'params: {{extra: "--break={broken}"}}'))
    with pytest.raises(ReproError, match="^(?!.*\n).*$") as info:
        run_experiment(load_experiment(path, "tiny"), tmp_path / "r", store=StepStore(tmp_path / "s"), progress=False)
    assert message in str(info.value)


def test_command_steps_on_local_workers_equal_the_serial_run(tmp_path: Path) -> None:
    path = _setup(tmp_path)
    serial = _cli(
        ["run", str(path), "--profile", "tiny", "--results", str(tmp_path / "serial"), "--quiet"], tmp_path / "h1"
    )
    assert serial.returncode == 0, serial.stderr
    logs = tmp_path / "logs"
    local = _cli(
        ["run", str(path), "--profile", "tiny", "--results", str(tmp_path / "local"), "--quiet"]
        + ["--executor", "local", "--workers", "2", "--log-folder", str(logs)],
        tmp_path / "h2",
    )
    assert local.returncode == 0, local.stderr
    assert "6 steps computed, 0 cached, 0 published" in local.stdout
    jobs = json.loads((logs / "jobs.json").read_text())
    assert len(jobs) == 6 and all(j["status"] == "done" for j in jobs)
    for p in sorted((tmp_path / "serial").glob("*/counter.json")):
        a, b = json.loads(p.read_text()), json.loads((tmp_path / "local" / p.parent.name / p.name).read_text())
        assert (a["summary"], a["tables"], a["step"]) == (b["summary"], b["tables"], b["step"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("{arm}", "{arms}"), "command.argv uses {arms}, which is no grid axis or command.params key"),
        (("--out {out}", ""), "command.argv must pass {out}"),
        (("inputs: [commands/counter.py]", "inputs: [commands/nope.py]"), "command input commands/nope.py not found"),
        (("name: toy-command", "name: toy-command\neval: {tasks: [xquad-r]}"), "has no eval section"),
    ],
)
def test_a_bad_command_section_is_an_error_before_anything_runs(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    from repro.runner.experiment import load_experiment

    path = _setup(tmp_path, EXPERIMENT.replace(*edit))
    with pytest.raises(ReproError, match="^(?!.*\n).*$") as info:
        load_experiment(path, "tiny")
    assert message in str(info.value)


def test_the_adam_registry_verifies_at_its_tiny_profile_with_the_scripts_own_numbers(
    tmp_path: Path, monkeypatch
) -> None:
    """The third registry end to end at toy scale: examples/adam/train.py as command steps, then verify."""
    from repro.claims.verify import verify

    pytest.importorskip("sklearn", reason="the digits ship with scikit-learn (pip install -e '.[examples]')")
    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "home"))
    out = verify(REPO / "claims" / "adam.yaml", "tiny", results_root=tmp_path / "results", progress=False)
    verdicts = {c.id: c for c in out.claims}
    # One seed per arm: never decisive, and the deciding line says why.
    for cid in ("A1", "A2", "A3", "A4"):
        assert verdicts[cid].verdict.value == "inconclusive", (cid, verdicts[cid].decided_by)
        assert "1 seed pair" in verdicts[cid].decided_by
    assert verdicts["A5"].verdict.value == "not checked"
    # The published numbers are the script's: recompute one point in this process.
    sys.path.insert(0, str(REPO / "examples" / "adam"))
    try:
        from train import train
    finally:
        sys.path.pop(0)
    run = train("mlp", "adagrad", 0, 2, 1, 16)
    res = json.loads(
        (
            tmp_path / "results" / "adam-digits" / "tiny" / "model=mlp,optimizer=adagrad,seed=0" / "digits.json"
        ).read_text()
    )
    assert res["summary"]["train"]["loss"] == pytest.approx(float(np.mean(run["train"])), rel=1e-12)
    assert res["summary"]["test"]["accuracy"] == pytest.approx(float(np.mean(run["test_correct"])), rel=1e-12)
    assert res["tables"]["test"]["all"]["n"] == 450 and res["tables"]["train"]["all"]["n"] == 1347


TREND = """
name: toy-trend
command:
  task: shifted
  argv: "{python} counter.py --seed {seed} --shift {shift} --out {out}"
  cwd: commands
  inputs: [commands/counter.py]
  metrics: {train: {loss: lower}, test: {loss: lower, accuracy: higher}}
grid: {shift: [0.0, 0.1, 0.2], seed: [0, 1, 2]}
"""

TREND_REGISTRY = """
name: toy-trend
experiments: {t: toy.yaml}
research_question:
  id: Q1
  text: "which items get worse as the shift grows?"
  checks:
    - {kind: trend, experiment: t, task: shifted, metric: test loss, x: shift, reference: 0.0, at: 0.2,
       resource_classes: false, groups: {odd-items: [odd], even-items: [even]}, hypothesis: gains, group: odd-items}
"""


def test_a_trend_over_a_programs_groups_with_the_registrys_axis_and_groups(tmp_path: Path) -> None:
    from repro.claims.verify import verify

    _setup(tmp_path, TREND)
    (tmp_path / "q.yaml").write_text(TREND_REGISTRY)
    out = verify(tmp_path / "q.yaml", "default", results_root=tmp_path / "results", progress=False, claim_ids=["Q1"])
    r = out.research_question.checks[0]
    assert out.research_question.id == "Q1" and r.x == "shift" and (r.reference, r.at) == (0.0, 0.2)
    # Odd items get worse (a negative gain in loss); even items do not move.
    odd = -np.mean([value(s, "a", i, 0.2) - value(s, "a", i) for s in range(3) for i in range(101, 120, 2)])
    assert r.gain_at["odd-items"].observed == pytest.approx(odd, abs=1e-9)
    assert r.gain_at["even-items"].observed == pytest.approx(0.0, abs=1e-12)
    assert r.verdict.value == "not reproduced" and r.gain_at["odd-items"].n_seeds == 3
    assert not r.curves and not r.splits  # no resource classes for rows that are not languages
