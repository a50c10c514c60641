"""Executors without a cluster: dependency order, failures with their logs, locks across processes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from repro.errors import ReproError
from repro.runner import executors as ex
from repro.runner.executors import ExecutionFailed, Job, LocalExecutor, SerialExecutor, SlurmOptions, make_executor
from tests import executor_jobs as jobs


def test_serial_runs_in_order_and_fails_fast() -> None:
    seen: list[str] = []
    out = SerialExecutor().run(
        [Job("a", jobs.add, (1, 2)), Job("b", jobs.add, (3, 4), depends_on=("a",))],
        on_done=lambda o: seen.append(o.key),
    )
    assert [o.value for o in out] == [3, 7] and seen == ["a", "b"]
    assert out[1].started >= out[0].ended
    # Serial is the plain loop it replaces: the job's own exception, at once, nothing after it runs.
    with pytest.raises(RuntimeError, match="boom inside the job"):
        SerialExecutor().run([Job("x", jobs.boom), Job("y", jobs.add, (1, 1))], on_done=lambda o: seen.append(o.key))
    assert seen == ["a", "b"]


def test_dependencies_that_cannot_be_met() -> None:
    with pytest.raises(ValueError, match="dependency cycle among a, b"):
        SerialExecutor().run(
            [Job("a", jobs.add, (1, 1), depends_on=("b",)), Job("b", jobs.add, (1, 1), depends_on=("a",))]
        )
    with pytest.raises(ValueError, match="unique"):
        SerialExecutor().run([Job("a", jobs.add, (1, 1)), Job("a", jobs.add, (1, 1))])
    # A dependency outside the job list (a step already in the store) counts as met.
    assert SerialExecutor().run([Job("a", jobs.add, (1, 1), depends_on=("done-before",))])[0].value == 2


def test_local_workers_order_failures_and_logs(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    plan = [
        Job("train", jobs.add, (1, 2, 1.0), label="train A"),
        Job("eval", jobs.add, (10, 20), depends_on=("train",), label="eval A"),
        Job("bad", jobs.boom, label="train B"),
        Job("after-bad", jobs.add, (0, 0), depends_on=("bad",), label="eval B"),
        Job("other", jobs.add, (5, 5)),
    ]
    with pytest.raises(ExecutionFailed) as info:
        LocalExecutor(workers=2, log_folder=logs).run(plan)
    by_key = {o.key: o for o in info.value.outcomes}
    assert [o.key for o in info.value.outcomes] == [j.key for j in plan]
    assert (by_key["train"].value, by_key["eval"].value, by_key["other"].value) == (3, 30, 10)
    # The evaluation started only once its training had finished (times measured inside the jobs).
    assert by_key["eval"].started >= by_key["train"].ended
    bad = by_key["bad"]
    assert bad.status == "failed" and bad.error == "RuntimeError: boom inside the job"
    assert bad.log == logs / "bad.log"
    log_text = bad.log.read_text()
    assert "about to fail" in log_text and "Traceback" in log_text and "boom inside the job" in log_text
    assert by_key["after-bad"].status == "skipped" and "train B" in by_key["after-bad"].error
    message = str(info.value)
    assert message.startswith("1 of 5 jobs failed, 1 skipped; train B: failed: RuntimeError: boom inside the job")
    assert f"log: {logs / 'bad.log'}" in message and "rerun to resume" in message


def test_the_step_lock_holds_across_worker_processes(tmp_path: Path) -> None:
    # Two processes try the same step; the second tries while the first holds the lock.
    store, sync = tmp_path / "steps", tmp_path / "sync"
    sync.mkdir()
    plan = [Job(role, jobs.claim_step, (str(store), "eval-same", str(sync), role)) for role in ("first", "second")]
    out = LocalExecutor(workers=2, log_folder=tmp_path / "logs").run(plan)
    assert [o.value for o in out] == ["computed", "cached"]
    assert out[0].job_id != out[1].job_id  # two processes
    assert (sync / "second-trying").exists()  # the second did try while the first held the lock
    assert (store / "eval-same" / "computed-by").read_text() == "first"


def test_make_executor_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(make_executor("serial", tmp_path), SerialExecutor)
    local = make_executor("local", tmp_path, workers=3)
    assert isinstance(local, LocalExecutor) and local.capacity == 3
    with pytest.raises(ReproError, match="unknown executor 'pbs'; known: serial, local, slurm"):
        make_executor("pbs", tmp_path)
    with pytest.raises(ReproError, match="--workers applies to --executor local only"):
        make_executor("serial", tmp_path, workers=2)
    with pytest.raises(ReproError, match="apply to --executor slurm only"):
        make_executor("local", tmp_path, slurm=SlurmOptions(partition="debug"))
    with pytest.raises(ReproError, match="--workers must be >= 1"):
        make_executor("local", tmp_path, workers=0)
    monkeypatch.setattr(ex.shutil, "which", lambda name: None)
    with pytest.raises(ReproError, match="needs sbatch and squeue on PATH"):
        make_executor("slurm", tmp_path, slurm=SlurmOptions())


def test_slurm_options_reach_the_sbatch_script(tmp_path: Path) -> None:
    from submitit.slurm.slurm import _make_sbatch_string

    options = SlurmOptions(partition="gpu", gpus_per_job=1, time_limit=30, max_parallel=2, cpus_per_job=4, mem_gb=8)
    script = _make_sbatch_string(command="true", folder=tmp_path, **options.submitit_parameters())
    for line in ("--partition=gpu", "--gpus-per-node=1", "--time=30", "--cpus-per-task=4", "--mem=8192M"):
        assert f"#SBATCH {line}\n" in script
    # No GPU asked for: no GPU option at all (a cluster without GPU resources rejects even =0).
    cpu_only = _make_sbatch_string(command="true", folder=tmp_path, **SlurmOptions().submitit_parameters())
    assert "gpus" not in cpu_only


def _fake_squeue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "squeue"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_squeue_states_without_accounting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # squeue -t all lists ended jobs too; a purged id makes squeue fail for the whole list.
    _fake_squeue(
        tmp_path,
        monkeypatch,
        'case "$*" in *"-j 7,8,9"*) echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1;;\n'
        '  *"-j 7"*) echo "7|RUNNING";; *"-j 8"*) echo "8|CANCELLED by 0";;\n'
        '  *) echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1;; esac\n',
    )
    assert ex._squeue_states(["7", "8", "9"]) == {"7": "RUNNING", "8": "CANCELLED"}
    assert ex._squeue_states([]) == {}


LOCAL_SWEEP = """
name: local-sweep
train: {model: e5-small, corpus: xnli, steps: 8, batch_size: 4, max_length: 24, eval_every: 4,
        checkpoint_every: 4, val_pairs: 16}
grid: {alpha: [0.0, 1.0], seed: [0]}
eval: {tasks: [xquad-r], langs: {xquad-r: [en, de]}, limit: 8, max_length: 48}
profiles:
  tiny: {}
"""


@pytest.mark.slow
def test_local_workers_give_the_serial_result(tmp_path: Path, fetched: None) -> None:
    import json

    from repro.runner.experiment import load_experiment
    from repro.runner.store import StepStore
    from repro.runner.sweep import run_experiment

    path = tmp_path / "sweep.yaml"
    path.write_text(LOCAL_SWEEP)
    exp = load_experiment(path, "tiny")
    serial = run_experiment(exp, tmp_path / "serial", StepStore(tmp_path / "steps-serial"), progress=False)
    logs = tmp_path / "logs"
    local = run_experiment(
        exp, tmp_path / "local", StepStore(tmp_path / "steps-local"), progress=False, executor=LocalExecutor(2, logs)
    )
    assert len(serial.computed) == len(local.computed) == 5
    rows = json.loads((logs / "jobs.json").read_text())
    assert len(rows) == 5 and all(r["status"] == "done" and Path(r["log"]).is_file() for r in rows)

    def numbers(root: Path) -> dict[str, object]:
        return {p.parent.name: json.loads(p.read_text())["tables"] for p in sorted(root.glob("*/xquad-r.json"))}

    assert numbers(tmp_path / "local") == numbers(tmp_path / "serial")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--workers", "2"], "--workers applies to --executor local only"),
        (["--executor", "local", "--max-parallel", "2"], "Slurm options (--partition, --gpus-per-job, ...) apply to"),
        (["--executor", "local", "--workers", "0"], "--workers must be >= 1, got 0"),
        (["--executor", "pbs"], "Invalid value for '--executor'"),
    ],
)
def test_run_executor_options_are_checked(options: list[str], message: str) -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-m", "repro.cli", "run", str(repo / "experiments" / "me5-prefixes.yaml"), "--profile", "full"]
        + options,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2 and message in out.stderr, out.stderr
