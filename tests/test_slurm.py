"""The Slurm executor against a real cluster: tests/slurm/up.sh starts slurmctld and slurmd on localhost.

Where the cluster cannot start (no root to install Debian's slurm-wlm and munge, no apt-get) the
tests skip saying why; under CI=true, where .ci/run starts the cluster, they fail instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import require

from repro.runner.executors import ExecutionFailed, Job, SlurmExecutor, SlurmOptions
from tests import executor_jobs as jobs

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
UP = REPO / "tests" / "slurm" / "up.sh"

# Long enough trainings that a job cancelled after its first checkpoint is still training when
# Slurm's KillWait (5 s in the generated slurm.conf) ends it.
SWEEP = """
name: slurm-sweep
train: {model: e5-small, corpus: xnli, steps: 48, batch_size: 4, max_length: 24, eval_every: 8,
        checkpoint_every: 8, val_pairs: 16}
grid: {alpha: [0.0, 1.0], seed: [0]}
eval:
  tasks: [xquad-r]
  langs: {xquad-r: [en, de]}
  limit: 8
  max_length: 48
profiles:
  tiny: {}
"""


@pytest.fixture(scope="module")
def cluster() -> None:
    """A running single-node cluster (started by tests/slurm/up.sh when it is not up yet)."""
    ready = shutil.which("sinfo") is not None and _node_state() in ("idle", "mixed", "allocated")
    why = ""
    if not ready:
        out = subprocess.run(["bash", str(UP)], capture_output=True, text=True, timeout=900, check=False)
        ready = out.returncode == 0
        why = (out.stderr.strip().splitlines() or ["no output"])[-1]
    require(
        ready,
        f"a Slurm cluster (tests/slurm/up.sh: {why})",
        "run tests/slurm/up.sh as root (it installs slurm-wlm and munge)",
    )


def _node_state() -> str:
    out = subprocess.run(["sinfo", "-h", "-n", "localhost", "-o", "%T"], capture_output=True, text=True, check=False)
    return out.stdout.strip()


def _home(tmp_path: Path, mirror: Path, name: str) -> dict[str, str]:
    """A fresh REPRO_HOME holding the datasets of the sweep and the prepared encoder."""
    env = {**os.environ, "REPRO_HOME": str(tmp_path / name)}
    for args in (
        ["data", "fetch", "--from", str(mirror), "--dataset", "xquad-r", "--dataset", "xnli"],
        ["model", "prepare"],
    ):
        out = subprocess.run(
            [sys.executable, "-m", "repro.cli", *args], env=env, capture_output=True, text=True, check=False
        )
        assert out.returncode == 0, out.stderr[-2000:]
    return env


def _repro_run(args: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "repro.cli", "run", *args, "--quiet"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        **kw,
    )


def _counts(stdout: str) -> tuple[int, int, int]:
    """(computed, cached, published) steps of a `repro run`."""
    m = re.search(r"(\d+) steps computed, (\d+) cached, (\d+) published", stdout)
    assert m, stdout
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _numbers(results: Path) -> dict[str, object]:
    return {
        p.relative_to(results).as_posix(): json.loads(p.read_text())["tables"]
        for p in sorted(results.glob("*/xquad-r.json"))
    }


def _squeue(env: dict[str, str]) -> dict[str, str]:
    """Running jobs: name -> id."""
    out = subprocess.run(
        ["squeue", "-h", "-t", "running", "-o", "%i|%j"], capture_output=True, text=True, env=env, check=False
    )
    return {name: job_id for job_id, _, name in (line.partition("|") for line in out.stdout.split())}


def test_a_sweep_as_slurm_jobs_killed_mid_step_resumes_to_the_serial_result(
    cluster: None, tmp_path: Path, mirror: Path
) -> None:
    from repro.runner.experiment import load_experiment
    from repro.runner.sweep import plan

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SWEEP)
    steps = {s.key: s for s in plan(load_experiment(sweep, "tiny"))}
    labels = {key: f"{s.kind} alpha={s.point['alpha']},seed=0" for key, s in steps.items() if s.kind == "train"}

    # 1. The reference: the same sweep, serial, in another cache.
    env_a = _home(tmp_path, mirror, "a")
    t0 = time.perf_counter()
    ref = _repro_run([str(sweep), "--profile", "tiny", "--results", str(tmp_path / "res-serial")], env_a)
    serial_seconds = time.perf_counter() - t0
    assert ref.returncode == 0, ref.stderr[-2000:]
    assert _counts(ref.stdout) == (5, 0, 0)

    # 2. As Slurm jobs (at most 2 at once); the first training job is cancelled after its first checkpoint.
    env_b = _home(tmp_path, mirror, "b")
    logs, results = tmp_path / "logs", tmp_path / "res-slurm"
    command = [str(sweep), "--profile", "tiny", "--results", str(results), "--executor", "slurm"]
    command += ["--partition", "debug", "--gpus-per-job", "0", "--time-limit", "30", "--max-parallel", "2"]
    command += ["--log-folder", str(logs)]
    t0 = time.perf_counter()
    driver = subprocess.Popen(
        [sys.executable, "-m", "repro.cli", "run", *command, "--quiet"],
        env=env_b,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = Path(env_b["REPRO_HOME"]) / "steps"
    killed_key = job_id = None
    deadline = time.time() + 900
    while time.time() < deadline and killed_key is None and driver.poll() is None:
        for key, label in labels.items():
            if (store / key / "checkpoint").is_dir() and not (store / key / "done.json").exists():
                job_id = _squeue(env_b).get(f"repro-{label}".replace(" ", "_"))
                if job_id:
                    subprocess.run(["scancel", job_id], check=True)
                    killed_key = key
                    break
        time.sleep(0.2)
    out, err = driver.communicate(timeout=1800)
    assert killed_key is not None, f"no training job was caught after its checkpoint: {err[-2000:]}"
    # The driver reports the killed job with its log path; the evaluation of that model was skipped.
    assert driver.returncode == 2, (out[-1000:], err[-2000:])
    line = err.strip().splitlines()[-1]
    assert f"{labels[killed_key]} (job {job_id}): failed: Slurm job ended CANCELLED without a result" in line, line
    log = Path(re.search(rf"job {job_id}\): failed: [^;]*; log: (\S+)", line).group(1))
    assert log.is_file() and log.parent.name == job_id
    first = {j["key"]: j for j in json.loads((logs / "jobs.json").read_text())}
    assert first[killed_key]["status"] == "failed"
    skipped = [j for j in first.values() if j["status"] == "skipped"]
    assert [steps[j["key"]].depends_on for j in skipped] == [killed_key]
    assert (store / killed_key / "checkpoint").is_dir() and not (store / killed_key / "done.json").exists()

    # 3. The same command again resumes: the killed training from its checkpoint, then its evaluation.
    rerun = _repro_run(command, env_b)
    slurm_seconds = time.perf_counter() - t0
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    # What the first run finished is published (base, the other model and its evaluation), not resubmitted.
    assert _counts(rerun.stdout) == (2, 0, 3)
    record = json.loads((store / killed_key / "done.json").read_text())
    assert record["summary"]["resumed_at_step"] >= 8
    second = {j["key"]: j for j in json.loads((logs / "jobs.json").read_text())}
    assert set(second) == {killed_key, next(k for k, s in steps.items() if s.depends_on == killed_key)}
    # Every job ran on the cluster's node, and every evaluation started after its training ended.
    for run in (first, second):
        for key, j in run.items():
            if j["status"] != "done":
                continue
            assert j["host"] == socket.gethostname() and j["job_id"].isdigit()
            dep = steps[key].depends_on
            if dep in run and run[dep]["status"] == "done":
                assert j["started"] >= run[dep]["ended"]

    # 4. The result equals the serial run's, number for number.
    assert _numbers(results) == _numbers(tmp_path / "res-serial")
    print(f"\nserial {serial_seconds:.0f} s; Slurm (max 2 jobs) with a kill and a rerun {slurm_seconds:.0f} s")


def test_the_step_lock_holds_across_slurm_jobs(cluster: None, tmp_path: Path) -> None:
    import cloudpickle

    # The job functions travel by value: the jobs need not import the test package.
    cloudpickle.register_pickle_by_value(jobs)
    try:
        store, sync = tmp_path / "steps", tmp_path / "sync"
        sync.mkdir()
        plan = [
            Job(role, jobs.claim_step, (str(store), "eval-same", str(sync), role), label=role)
            for role in ("first", "second")
        ]
        executor = SlurmExecutor(
            SlurmOptions(partition="debug", time_limit=10, max_parallel=2), tmp_path / "logs", poll_seconds=0.5
        )
        out = executor.run(plan)
    finally:
        cloudpickle.unregister_pickle_by_value(jobs)
    assert [o.value for o in out] == ["computed", "cached"]
    assert out[0].job_id != out[1].job_id and all(o.job_id.isdigit() for o in out)
    # The second job tried while the first held the lock, waited, and found the step done.
    assert (sync / "second-trying").exists()
    assert (store / "eval-same" / "computed-by").read_text() == "first"


def test_a_failed_slurm_job_is_reported_with_its_log(cluster: None, tmp_path: Path) -> None:
    import cloudpickle

    cloudpickle.register_pickle_by_value(jobs)
    try:
        executor = SlurmExecutor(SlurmOptions(partition="debug", time_limit=5), tmp_path / "logs", poll_seconds=0.5)
        with pytest.raises(ExecutionFailed) as info:
            executor.run([Job("bad", jobs.boom, label="train B"), Job("after", jobs.add, (1, 2), depends_on=("bad",))])
    finally:
        cloudpickle.unregister_pickle_by_value(jobs)
    bad, after = info.value.outcomes
    assert bad.status == "failed" and bad.error == "RuntimeError: boom inside the job"
    assert bad.log.is_file() and "boom inside the job" in bad.log.read_text()
    assert after.status == "skipped"
    assert f"train B (job {bad.job_id}): failed: RuntimeError: boom inside the job; log: {bad.log}" in str(info.value)


COMMAND_SWEEP = """
name: slurm-command
command:
  task: counter
  argv: "{python} counter.py --seed {seed} --arm {arm} --steps 16 --sleep 0.5 --out {out}"
  cwd: commands
  inputs: [commands/counter.py]
  outputs: [result.jsonl]
  metrics: {train: {loss: lower}, test: {loss: lower, accuracy: higher}}
grid: {arm: [a, b], seed: [0, 1]}
profiles:
  tiny: {}
"""


def test_command_steps_as_slurm_jobs_killed_mid_program_resume_to_the_serial_result(
    cluster: None, tmp_path: Path
) -> None:
    """The user's own program as Slurm jobs: one job cancelled mid-run, the rerun resumes it from its checkpoint."""
    from repro.runner.experiment import load_experiment
    from repro.runner.sweep import plan

    (tmp_path / "commands").mkdir()
    shutil.copy(REPO / "tests" / "commands" / "counter.py", tmp_path / "commands" / "counter.py")
    sweep = tmp_path / "command.yaml"
    sweep.write_text(COMMAND_SWEEP)
    steps = {s.key: s for s in plan(load_experiment(sweep, "tiny"))}
    env_a = {**os.environ, "REPRO_HOME": str(tmp_path / "a")}
    ref = _repro_run([str(sweep), "--profile", "tiny", "--results", str(tmp_path / "res-serial")], env_a)
    assert ref.returncode == 0, ref.stderr[-2000:]
    assert _counts(ref.stdout) == (4, 0, 0)

    env_b = {**os.environ, "REPRO_HOME": str(tmp_path / "b")}
    logs, results = tmp_path / "logs", tmp_path / "res-slurm"
    command = [str(sweep), "--profile", "tiny", "--results", str(results), "--executor", "slurm"]
    command += ["--partition", "debug", "--time-limit", "10", "--max-parallel", "2", "--log-folder", str(logs)]
    driver = subprocess.Popen(
        [sys.executable, "-m", "repro.cli", "run", *command, "--quiet"],
        env=env_b,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = Path(env_b["REPRO_HOME"]) / "steps"
    killed_key = job_id = None
    deadline = time.time() + 600
    while time.time() < deadline and killed_key is None and driver.poll() is None:
        for key, step in steps.items():
            ckpt = store / key / "out" / "checkpoint.json"
            if ckpt.is_file() and json.loads(ckpt.read_text() or '{"step": 0}')["step"] >= 3:
                label = f"command {','.join(f'{k}={v}' for k, v in step.point.items())} counter"
                job_id = _squeue(env_b).get(f"repro-{label}".replace(" ", "_"))
                if job_id:
                    subprocess.run(["scancel", job_id], check=True)
                    killed_key = key
                    break
        time.sleep(0.2)
    out, err = driver.communicate(timeout=900)
    assert killed_key is not None, f"no command job was caught mid-run: {err[-2000:]}"
    assert driver.returncode == 2, (out[-1000:], err[-2000:])
    line = err.strip().splitlines()[-1]
    # scancel's SIGTERM reaches the program first: the job reports it killed, with the program's log and the job's.
    assert f"(job {job_id}): failed: " in line and "was killed by signal 15 (SIGTERM)" in line, line
    assert re.search(r"log: \S+/command\.log; log: \S+", line), line
    first = {j["key"]: j for j in json.loads((logs / "jobs.json").read_text())}
    assert first[killed_key]["status"] == "failed" and sum(j["status"] == "done" for j in first.values()) == 3
    assert not (store / killed_key / "done.json").exists()

    rerun = _repro_run(command, env_b)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _counts(rerun.stdout) == (1, 0, 3)  # only the killed point runs again; the others are published
    second = json.loads((logs / "jobs.json").read_text())
    assert [j["key"] for j in second] == [killed_key] and second[0]["job_id"].isdigit()
    label = ",".join(f"{k}={v}" for k, v in steps[killed_key].point.items())
    resumed = json.loads((results / label / "counter.json").read_text())
    # The program resumed from its checkpoint in the step's output folder; its exit code and host are on record.
    assert resumed["program_info"]["resumed_from"] >= 3
    assert resumed["command"]["exit_code"] == 0 and resumed["command"]["host"] == socket.gethostname()
    for path in sorted(results.glob("*/counter.json")):
        mine, theirs = (
            json.loads(path.read_text()),
            json.loads((tmp_path / "res-serial" / path.parent.name / path.name).read_text()),
        )
        assert (mine["summary"], mine["tables"], mine["step"]) == (theirs["summary"], theirs["tables"], theirs["step"])
    print(
        f"\ncommand steps on Slurm: killed job {job_id} ({label}) after {resumed['program_info']['resumed_from']} steps; "
        f"jobs first run {sorted(j['job_id'] for j in first.values() if j['job_id'])}, rerun {second[0]['job_id']}"
    )
