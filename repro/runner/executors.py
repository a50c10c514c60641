"""Executors: how the independent steps of a plan run - in order, in local processes, or as Slurm jobs.

An executor receives :class:`Job` s (a picklable function, its arguments and the keys of the jobs
it waits for) and runs each once every job it depends on has succeeded; a job whose dependency
failed is skipped. Which job computes what is not the executor's business: a step function takes
the step store's lock and looks for ``done.json`` itself, so two executors (or two jobs of one) on
a shared filesystem never compute one step twice, and a rerun after a failure resumes.

- ``serial``: the jobs one after another in this process (the runner's default). The first
  failure is raised as it happened, as a plain loop would.
- ``local``: up to ``workers`` jobs at once in spawned worker processes; each job's output goes
  to its own log file.
- ``slurm``: each job is a Slurm job submitted through submitit (partition, GPUs per job, time
  limit, CPUs per job). This process stays the scheduler: it submits a job once its dependencies
  finished and keeps at most ``max_parallel`` jobs queued or running; job states come from
  ``squeue`` (so a cluster without accounting, where ``sacct`` fails, works too).

A failed, killed or cancelled job is reported with its log path; :class:`ExecutionFailed` lists
them after every job that could run has run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from repro.errors import ReproError

EXECUTORS = ("serial", "local", "slurm")

# squeue states after which a job will not run again (the rest - PENDING, RUNNING, ... - are waited on).
_SLURM_ENDED = {
    "BOOT_FAIL",
    "CANCELLED",
    "COMPLETED",
    "DEADLINE",
    "FAILED",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "REVOKED",
    "SPECIAL_EXIT",
    "TIMEOUT",
}


@dataclass(frozen=True)
class Job:
    """One unit of work: ``fn(*args)``; ``fn`` must be importable (a module-level function)."""

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    depends_on: tuple[str, ...] = ()
    label: str = ""

    @property
    def name(self) -> str:
        """The job's label for messages, its key when it has none."""
        return self.label or self.key


@dataclass
class JobOutcome:
    """What became of one job; ``started``/``ended`` are epoch seconds measured inside the job."""

    key: str
    label: str
    status: Literal["done", "failed", "skipped"]
    value: Any = None
    error: str = ""
    log: Path | None = None
    job_id: str | None = None
    host: str | None = None
    started: float | None = None
    ended: float | None = None

    def describe(self) -> str:
        """One line: the job, what went wrong and where its log is."""
        where = f" (job {self.job_id})" if self.job_id else ""
        log = f"; log: {self.log}" if self.log else ""
        return f"{self.label}{where}: {self.status}: {self.error}{log}"


class ExecutionFailed(ReproError):
    """Some jobs failed (or were skipped because a dependency failed); the others finished."""

    def __init__(self, outcomes: list[JobOutcome]) -> None:
        self.outcomes = outcomes
        bad = [o for o in outcomes if o.status != "done"]
        failed = [o for o in bad if o.status == "failed"]
        first = failed[0] if failed else bad[0]
        more = f" (+{len(bad) - 1} more: {'; '.join(o.describe() for o in bad[1:4])})" if len(bad) > 1 else ""
        super().__init__(
            f"{len(failed)} of {len(outcomes)} jobs failed, {len(bad) - len(failed)} skipped; "
            f"{first.describe()}{more}; rerun to resume (finished steps are kept)"
        )


def _timed_call(fn: Callable[..., Any], args: tuple[Any, ...]) -> dict[str, Any]:
    """Run ``fn(*args)`` and say where and when it ran (the executors' wrapper inside a job)."""
    started = time.time()
    value = fn(*args)
    return {"value": value, "host": socket.gethostname(), "started": started, "ended": time.time()}


@contextlib.contextmanager
def _redirected(log: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors 1 and 2) to ``log`` for a while."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "ab") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _logged_call(fn: Callable[..., Any], args: tuple[Any, ...], log: str) -> dict[str, Any]:
    """A local worker's job: ``fn(*args)`` with its output and any traceback in ``log``."""
    with _redirected(Path(log)):
        try:
            out = _timed_call(fn, args)
        except BaseException:
            traceback.print_exc()
            raise
        out["pid"] = os.getpid()
        return out


def _init_worker(threads: int | None) -> None:
    # Only on request: training's floating-point reductions depend on the thread count, and a
    # worker with torch's default count computes the numbers a serial run does.
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no error message"


class Executor:
    """Runs jobs in dependency order; subclasses say how one job starts and how it is polled."""

    name = "executor"
    capacity = 1
    log_folder: Path | None = None  # where job logs (and the runner's jobs.json) go, for executors that keep them

    def run(self, jobs: Sequence[Job], on_done: Callable[[JobOutcome], None] | None = None) -> list[JobOutcome]:
        """Run every job once its dependencies are done; outcomes in the order of ``jobs``.

        Dependencies on keys that are not among ``jobs`` count as satisfied (e.g. a training step
        already in the store). Raises :class:`ExecutionFailed` when any job did not finish.
        """
        jobs = list(jobs)
        keys = [j.key for j in jobs]
        if len(set(keys)) != len(keys):
            raise ValueError("job keys must be unique")
        by_key = {j.key: j for j in jobs}
        outcomes: dict[str, JobOutcome] = {}
        pending = list(jobs)
        running: dict[str, Any] = {}
        try:
            while pending or running:
                for job in list(pending):
                    deps = [d for d in job.depends_on if d in by_key]
                    failed = [d for d in deps if d in outcomes and outcomes[d].status != "done"]
                    if failed:
                        pending.remove(job)
                        outcomes[job.key] = JobOutcome(
                            job.key,
                            job.name,
                            "skipped",
                            error=f"depends on {by_key[failed[0]].name}, which did not finish",
                        )
                        if on_done:
                            on_done(outcomes[job.key])
                    elif all(d in outcomes for d in deps) and len(running) < self.capacity:
                        pending.remove(job)
                        running[job.key] = self._start(job)
                if not running:
                    if pending:  # nothing can start and nothing will finish: the jobs wait on each other
                        raise ValueError(f"dependency cycle among {', '.join(j.name for j in pending)}")
                    continue
                for key, outcome in self._wait(running, by_key).items():
                    del running[key]
                    outcomes[key] = outcome
                    if on_done:
                        on_done(outcome)
        except BaseException:
            self._abort(running)
            raise
        ordered = [outcomes[k] for k in keys]
        if any(o.status != "done" for o in ordered):
            raise ExecutionFailed(ordered)
        return ordered

    def _start(self, job: Job) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _wait(self, running: dict[str, Any], jobs: dict[str, Job]) -> dict[str, JobOutcome]:
        """Block until at least one running job ended; return the outcomes of those that did."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _abort(self, running: dict[str, Any]) -> None:
        """Stop what is still running when the scheduler itself is interrupted."""


class SerialExecutor(Executor):
    """One job after another in this process; a failure is raised as it happened (fail fast)."""

    name = "serial"

    def _start(self, job: Job) -> JobOutcome:
        out = _timed_call(job.fn, job.args)
        return JobOutcome(
            job.key,
            job.name,
            "done",
            value=out["value"],
            job_id=str(os.getpid()),
            host=out["host"],
            started=out["started"],
            ended=out["ended"],
        )

    def _wait(self, running: dict[str, JobOutcome], jobs: dict[str, Job]) -> dict[str, JobOutcome]:
        return dict(running)


class LocalExecutor(Executor):
    """Up to ``workers`` jobs at once in spawned processes (torch does not survive a fork well).

    Workers keep torch's default thread count, so their numbers equal a serial run's (measured:
    one thread instead of two moves a trained model's mAP in the fourth decimal); ``threads``
    sets another count, e.g. ``cpu_count // workers`` to avoid oversubscribing the cores. A job's
    output and traceback go to ``log_folder/<key>.log``.
    """

    name = "local"

    def __init__(self, workers: int, log_folder: Path, threads: int | None = None) -> None:
        if workers < 1:
            raise ReproError(f"--workers must be >= 1, got {workers}")
        self.capacity = workers
        self.log_folder = Path(log_folder)
        self.threads = threads
        self._pool: ProcessPoolExecutor | None = None

    def run(self, jobs: Sequence[Job], on_done: Callable[[JobOutcome], None] | None = None) -> list[JobOutcome]:
        self._pool = self._new_pool()
        try:
            return super().run(jobs, on_done)
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _new_pool(self) -> ProcessPoolExecutor:
        import multiprocessing

        return ProcessPoolExecutor(
            max_workers=self.capacity,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.threads,),
        )

    def log_path(self, job: Job) -> Path:
        """Where a job's output goes."""
        return self.log_folder / f"{job.key}.log"

    def _start(self, job: Job) -> Future:
        assert self._pool is not None
        try:
            return self._pool.submit(_logged_call, job.fn, job.args, str(self.log_path(job)))
        except BrokenProcessPool:
            # A worker died (killed, out of memory): its jobs are reported failed; the rest go on in a new pool.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(_logged_call, job.fn, job.args, str(self.log_path(job)))

    def _wait(self, running: dict[str, Future], jobs: dict[str, Job]) -> dict[str, JobOutcome]:
        done, _ = wait(running.values(), return_when=FIRST_COMPLETED)
        out = {}
        for key, fut in running.items():
            if fut not in done:
                continue
            job, log = jobs[key], self.log_path(jobs[key])
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - a job's failure is reported, not raised here
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if isinstance(exc, BrokenProcessPool):
                    error = "the worker process died (killed or out of memory)"
                out[key] = JobOutcome(key, job.name, "failed", error=_last_line(error), log=log)
                continue
            out[key] = JobOutcome(
                key,
                job.name,
                "done",
                value=res["value"],
                log=log,
                job_id=str(res["pid"]),
                host=res["host"],
                started=res["started"],
                ended=res["ended"],
            )
        return out


@dataclass
class SlurmOptions:
    """What each Slurm job asks for."""

    partition: str | None = None
    gpus_per_job: int = 0
    time_limit: int = 60  # minutes
    max_parallel: int = 4
    cpus_per_job: int = 1
    mem_gb: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # further sbatch options, e.g. {"account": "x"}

    def submitit_parameters(self) -> dict[str, Any]:
        """The parameters of ``submitit.SlurmExecutor.update_parameters``."""
        params: dict[str, Any] = {
            "time": self.time_limit,
            "cpus_per_task": self.cpus_per_job,
            "ntasks_per_node": 1,
            "nodes": 1,
        }
        if self.partition:
            params["partition"] = self.partition
        if self.gpus_per_job:
            params["gpus_per_node"] = self.gpus_per_job
        if self.mem_gb is not None:
            params["mem"] = f"{int(self.mem_gb * 1024)}M"
        if self.extra:
            params["additional_parameters"] = dict(self.extra)
        return params


class SlurmExecutor(Executor):
    """Each job a Slurm job (through submitit); at most ``max_parallel`` queued or running at once."""

    name = "slurm"

    def __init__(self, options: SlurmOptions, log_folder: Path, poll_seconds: float = 2.0) -> None:
        if options.max_parallel < 1:
            raise ReproError(f"--max-parallel must be >= 1, got {options.max_parallel}")
        if options.time_limit < 1:
            raise ReproError(f"--time-limit must be >= 1 minute, got {options.time_limit}")
        if options.gpus_per_job < 0 or options.cpus_per_job < 1:
            raise ReproError("--gpus-per-job must be >= 0 and --cpus-per-job >= 1")
        if shutil.which("sbatch") is None or shutil.which("squeue") is None:
            raise ReproError(
                "--executor slurm needs sbatch and squeue on PATH (run on a Slurm login node; "
                "tests/slurm/up.sh starts a single-node cluster on this machine)"
            )
        import submitit

        self.options = options
        self.capacity = options.max_parallel
        self.log_folder = Path(log_folder)
        self.poll_seconds = poll_seconds
        self._executor = submitit.SlurmExecutor(folder=self.log_folder / "%j")
        self._executor.update_parameters(**options.submitit_parameters())
        self.submitted: list[str] = []

    def _start(self, job: Job) -> Any:
        self._executor.update_parameters(job_name=f"repro-{job.name}"[:120].replace(" ", "_"))
        try:
            handle = self._executor.submit(_timed_call, job.fn, job.args)
        except Exception as exc:  # noqa: BLE001 - sbatch's refusal (bad partition, ...) is a user error
            raise ReproError(f"sbatch refused {job.name}: {_last_line(str(exc))}") from None
        self.submitted.append(str(handle.job_id))
        return handle

    def _wait(self, running: dict[str, Any], jobs: dict[str, Job]) -> dict[str, JobOutcome]:
        while True:
            states = _squeue_states([h.job_id for h in running.values()])
            out = {}
            for key, handle in running.items():
                state = states.get(str(handle.job_id), "GONE")
                if handle.paths.result_pickle.exists() or state in _SLURM_ENDED or state == "GONE":
                    out[key] = self._outcome(jobs[key], handle, state)
            if out:
                return out
            time.sleep(self.poll_seconds)

    def _outcome(self, job: Job, handle: Any, state: str) -> JobOutcome:
        log = handle.paths.stderr
        base = {"key": job.key, "label": job.name, "log": log, "job_id": str(handle.job_id)}
        # The result file is written before the job ends; give a shared filesystem a moment.
        for _ in range(10):
            if handle.paths.result_pickle.exists():
                break
            time.sleep(0.5)
        if not handle.paths.result_pickle.exists():
            return JobOutcome(**base, status="failed", error=f"Slurm job ended {state} without a result")
        try:
            res = handle.result()
        except Exception as exc:  # noqa: BLE001 - submitit re-raises the job's exception with its trace
            trace = str(exc)
            # submitit wraps the job's traceback; its last line names the exception that was raised.
            lines = [ln for ln in trace.splitlines() if ln.strip() and not set(ln.strip()) <= {"-"}]
            error = next(
                (ln.strip() for ln in reversed(lines) if "Error" in ln or "Exception" in ln), _last_line(trace)
            )
            return JobOutcome(**base, status="failed", error=error)
        return JobOutcome(
            **base, status="done", value=res["value"], host=res["host"], started=res["started"], ended=res["ended"]
        )

    def _abort(self, running: dict[str, Any]) -> None:
        for handle in running.values():
            with contextlib.suppress(Exception):
                handle.cancel(check=False)


def _squeue_states(job_ids: list[str]) -> dict[str, str]:
    """Slurm state per job id (``-t all`` keeps ended jobs for MinJobAge); {} if squeue failed."""
    if not job_ids:
        return {}
    try:
        out = subprocess.run(
            ["squeue", "-h", "-t", "all", "-o", "%i|%T", "-j", ",".join(job_ids)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {j: "UNKNOWN" for j in job_ids}
    if out.returncode != 0:
        # squeue fails for the whole list when one id has been purged: ask one by one.
        if len(job_ids) > 1:
            states: dict[str, str] = {}
            for j in job_ids:
                states.update(_squeue_states([j]))
            return states
        return {} if "Invalid job id" in out.stderr else {job_ids[0]: "UNKNOWN"}
    states = {}
    for line in out.stdout.splitlines():
        job_id, _, state = line.strip().partition("|")
        states[job_id] = state.split()[0] if state else "UNKNOWN"
    return states


def make_executor(
    name: str,
    log_folder: Path,
    workers: int | None = None,
    slurm: SlurmOptions | None = None,
) -> Executor:
    """The executor called ``name`` (serial, local, slurm); options that do not apply are errors."""
    if name not in EXECUTORS:
        raise ReproError(f"unknown executor '{name}'; known: {', '.join(EXECUTORS)}")
    if workers is not None and name != "local":
        raise ReproError("--workers applies to --executor local only")
    if slurm is not None and name != "slurm":
        raise ReproError("Slurm options (--partition, --gpus-per-job, ...) apply to --executor slurm only")
    if name == "serial":
        return SerialExecutor()
    if name == "local":
        return LocalExecutor(max(1, os.cpu_count() or 1) if workers is None else workers, log_folder)
    return SlurmExecutor(slurm or SlurmOptions(), log_folder)
