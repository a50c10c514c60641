"""Run an experiment: train every grid point, evaluate it and the base model, keep every result.

Each train or eval step is cached in the step store under its content key, so a finished sweep
re-runs in seconds and a killed one resumes (training from its last checkpoint, evaluation from
the last finished task). Results are copied into a results folder with their provenance and key;
a step the results folder already holds under its key is done without a cache. When an evaluation
still to compute needs the weights of such a published model and the cache lacks them, the model
is retrained: training is deterministic (same config and seed, same weights on one machine), and
weights (~470 MB per model) are not something to commit.

Before a file is used its hashes are checked (:mod:`repro.integrity`): a cached step whose files
do not match its record is computed again, with a warning naming the file; a published one is an
error naming the file and how to re-publish it (``repro run ... --republish``). Publishing a step
swaps its files into the point folder at once (:func:`repro.atomic.update_dir`), so a corrupt
cached file or a killed run never leaves a half-published folder.
"""

from __future__ import annotations

import io
import json
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock
from tqdm import tqdm

from repro.atomic import atomic_write_text, recover_dir, update_dir
from repro.cache import portable, repro_home
from repro.data.corpora import corpus_checksums
from repro.data.manifest import checksums
from repro.errors import ReproError, first_line
from repro.evaluation.declarations import declared
from repro.evaluation.record import EvalRecord
from repro.evaluation.result import load_per_query
from repro.evaluation.subset import Subset
from repro.evaluation.tasks import get_task
from repro.hashing import sha256_file
from repro.integrity import CorruptFile, bytes_sha256, check_record, load_record, read_json, sealed_text
from repro.provenance import provenance
from repro.runner.command import (
    RESULT_FORMAT,
    RESULT_VERSION,
    command_payload,
    read_result,
    run_command,
)
from repro.runner.executors import ExecutionFailed, Executor, Job, JobOutcome, SerialExecutor
from repro.runner.experiment import EvalSpec, Experiment, point_label
from repro.runner.published import (
    is_published,
    needs_retrain,
    published_path,
    published_record,
    slot_problems,
    slot_sealed,
)
from repro.runner.store import StepStore, step_key, step_version, warn


@dataclass
class Step:
    """One unit of cached work."""

    kind: str  # "train", "eval" or "command" (a grid point of the user's program)
    key: str
    point: dict[str, Any] | None
    payload: dict[str, Any]
    task: str | None = None
    depends_on: str | None = None


@dataclass
class SweepOutcome:
    """What a run did: steps computed vs taken from the cache, and where results are."""

    computed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)  # held by the results folder under their key
    retrained: list[str] = field(default_factory=list)  # published models trained again for their weights
    results_dir: Path | None = None
    seconds: float = 0.0


# The corpus rule lives with the data (repro.data.corpora): a missing path is an error, never XNLI.
_corpus_checksums = corpus_checksums


def resolved_precision(precision: str, device: str | None = None) -> str:
    """The precision a step computes in here: "auto" resolved for the device ("fp32", "bf16", "fp16").

    Keys hold the resolved precision, because bf16 and fp32 give different numbers: a published
    fp32 step is not done for a runner whose "auto" means bf16. The device itself is not in the
    key: fp32 on another CPU or a GPU differs only in the last bits.
    """
    from repro.models.device import select_device
    from repro.models.precision import autocast_dtype, precision_name

    # The device the step will compute on, by the one rule (select_device), so that its key names its precision.
    return precision_name(autocast_dtype(precision, select_device(device)))


def eval_payload(task: str, model_ref: dict[str, Any], ev: EvalSpec) -> dict[str, Any]:
    """What an evaluation step's key hashes: task, model, the settings that change its numbers, data."""
    payload = {
        "task": task,
        "model": model_ref,
        "langs": ev.langs.get(task),
        "limit": ev.limit_for(task),
        "max_length": ev.max_length,
        "precision": resolved_precision(ev.precision),
        "data": checksums(list(get_task(task).datasets)),
    }
    # Only a subset other than "the first N, full pool" is recorded: older steps keep their keys.
    if (subset := ev.subset_for(task).to_payload(task)) is not None:
        payload["subset"] = subset
    # Prefixes only when set: unset means the model's own, as every step before them was keyed.
    for name in ("query_prefix", "passage_prefix"):
        if getattr(ev, name) is not None:
            payload[name] = getattr(ev, name)
    return payload


def plan(exp: Experiment) -> list[Step]:
    """The steps of an experiment in execution order (base model first, then each grid point).

    An evaluation-only experiment evaluates ``eval.model`` once per point and task. A training
    experiment trains each point (points that differ only in evaluation settings share one
    training step) and evaluates the trained model with the point's evaluation settings.
    """

    steps: list[Step] = []
    if exp.command is not None:
        # Every point runs the user's program once; its output is the point's result of the command's task.
        for point in exp.points():
            payload = command_payload(exp.command, exp.grid, point)
            steps.append(Step("command", step_key("command", payload), point, payload, task=exp.command.task))
        return steps
    if not exp.trains:
        for point in exp.points():
            ev = exp.eval_for(point)
            for task in exp.tasks_for(point):
                payload = eval_payload(task, {"base": ev.model}, ev)
                steps.append(Step("eval", step_key("eval", payload), point, payload, task=task))
        return steps

    deferred: list[Step] = []
    if exp.eval.base_model:
        base = {"base": exp.train.model}
        points = exp.points()
        for task in exp.tasks_for(None):
            payload = eval_payload(task, base, exp.eval)
            step = Step("eval", step_key("eval", payload), None, payload, task=task)
            # A task only the base model gets is a reference number nothing else waits on: run it last.
            on_grid = any(task in exp.tasks_for(p) for p in points)
            (steps if on_grid else deferred).append(step)
    for point in exp.points():
        config = exp.train_config(point)
        resolved = {**config.key_dump(), "precision": resolved_precision(config.precision, config.device)}
        payload = {"config": resolved, "data": _corpus_checksums(config.corpus)}
        train_key = step_key("train", payload)
        steps.append(Step("train", train_key, point, payload))
        ev = exp.eval_for(point)
        for task in exp.tasks_for(point):
            ep = eval_payload(task, {"train_step": train_key}, ev)
            steps.append(Step("eval", step_key("eval", ep), point, ep, task=task, depends_on=train_key))
    return steps + deferred


def _run_train(step: Step, store: StepStore, progress: bool) -> dict[str, Any]:
    from repro.training.trainer import TrainConfig, train

    config = TrainConfig.model_validate(step.payload["config"])
    summary = train(config, store.path(step.key), progress=progress)
    return {
        "kind": "train",
        "point": step.point,
        "payload": step.payload,
        "summary": summary,
        # What the evaluations' records name as their model: a retrain is judged against it.
        "weights_sha256": _trained_weights_sha256(store, step.key),
        "step_version": step_version("train"),
        "provenance": provenance(),
    }


class _EncoderCache:
    """Keeps the last encoder: consecutive eval steps of one model load it once."""

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.encoder = None

    def get(
        self,
        model: str,
        max_length: int,
        batch_size: int,
        precision: str,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
    ):
        from repro.models.encoder import Encoder

        key = (model, max_length, batch_size, precision, query_prefix, passage_prefix)
        if key != self.key:
            self.encoder = None  # free the previous model before loading the next
            self.encoder = Encoder(
                model,
                max_length=max_length,
                batch_size=batch_size,
                precision=precision,
                query_prefix=query_prefix,
                passage_prefix=passage_prefix,
            )
            self.key = key
        return self.encoder


def _run_eval(step: Step, exp: Experiment, store: StepStore, encoders: _EncoderCache, progress: bool) -> dict[str, Any]:
    p = step.payload
    model = p["model"].get("base") or str(store.path(p["model"]["train_step"]) / "model")
    batch_size = exp.eval_for(step.point).batch_size if step.point else exp.eval.batch_size
    encoder = encoders.get(
        model, p["max_length"], batch_size, p["precision"], p.get("query_prefix"), p.get("passage_prefix")
    )
    t0 = time.perf_counter()
    try:
        subset = Subset.from_payload(step.task, p["limit"], p.get("subset"))
        result = get_task(step.task).run(encoder=encoder, langs=p["langs"], subset=subset, progress=progress)
    except ValueError as exc:
        # The usual cause is a limit so small that a language keeps no questions (MLQA-R is only
        # partly parallel): say which step and what to change, not a traceback.
        raise ReproError(
            f"{exp.name} ({exp.profile}): evaluating {step.task} for {point_label(step.point)} "
            f"failed: {exc}; with eval.limit {p['limit']}, raise the limit or narrow eval.langs"
        ) from None
    train = None
    if step.depends_on:
        train_record = store.record(step.depends_on) or {}
        recorded, used = train_record.get("weights_sha256"), encoder.describe().get("weights_sha256")
        if recorded and used != recorded:
            raise ReproError(
                f"{model}: weights hash {str(used)[:12]}... is not the {recorded[:12]}... its training recorded "
                f"(changed after training); rerun to train {point_label(step.point)} again"
            )
        train = {
            "step": step.depends_on,
            "config": train_record.get("payload", {}).get("config"),
            "summary": train_record.get("summary"),
        }
    record = EvalRecord(
        model=encoder.describe(),
        point=step.point,
        experiment=exp.name,
        profile=exp.profile,
        config={k: v for k, v in p.items() if k != "data"},
        data_checksums=p["data"],
        step_version=step_version("eval"),
        provenance=provenance(),
        wall_seconds=round(time.perf_counter() - t0, 2),
        step=step.key,
        train=train,
    )
    result.info.update(record.info())
    result.save(store.path(step.key) / "result.json")
    return {
        "kind": "eval",
        "task": step.task,
        "point": step.point,
        "payload": step.payload,
        "seconds": record.wall_seconds,
        "step_version": step_version("eval"),
    }


def _run_command(step: Step, exp: Experiment, store: StepStore) -> dict[str, Any]:
    """Run the user's program for ``step`` and turn its result file into a task result in the store."""
    from repro.evaluation.result import TaskResult

    assert exp.command is not None and step.task is not None
    spec = exp.command
    step_dir = store.path(step.key)
    label = f"{exp.name} ({exp.profile}) {point_label(step.point)}"
    ran = run_command(spec, step.payload, step_dir, label)
    parsed = read_result(step_dir / "out" / spec.result, spec.metrics)
    result = TaskResult(step.task, parsed["summary"], parsed["tables"], parsed["per_query"])
    record = EvalRecord(
        point=step.point,
        experiment=exp.name,
        profile=exp.profile,
        config={k: v for k, v in step.payload.items() if k != "inputs"},
        data_checksums=step.payload["inputs"],
        command={k: v for k, v in ran.items() if k not in ("wall_seconds", "log")},
        program_info=parsed["info"],
        result_format={"format": RESULT_FORMAT, "version": RESULT_VERSION},
        step_version=step_version("command"),
        provenance=provenance(),
        wall_seconds=ran["wall_seconds"],
        step=step.key,
    )
    result.info.update(record.info())
    result.save(step_dir / "result.json")
    return {
        "kind": "command",
        "task": step.task,
        "point": step.point,
        "payload": step.payload,
        "seconds": ran["wall_seconds"],
        "exit_code": ran["exit_code"],
        "host": ran["host"],
        "log": ran["log"],
        "step_version": step_version("command"),
    }


def _publish(step: Step, store: StepStore, results_dir: Path) -> None:
    """Copy a finished step's outputs into the results folder (small files with provenance, sealed).

    Raises:
        CorruptFile: a cached file that cannot be read (nothing is published then).
    """
    src = store.path(step.key)
    files: dict[str, bytes] = {}
    if step.kind == "command":
        # The program's declared outputs and its log go beside the result (``<task>.out/``), sealed with it.
        out = src / "out"
        for name in step.payload.get("publish", []):
            if (out / name).is_file():
                files[f"{step.task}.out/{name}"] = (out / name).read_bytes()
        log = (src / "command.log").read_text(errors="replace").replace(str(repro_home()), "$REPRO_HOME")
        files[f"{step.task}.out/command.log"] = log.encode("utf-8")
    if step.kind == "train":
        record = portable(read_json(src / "train.json"))
        record.update({"step": step.key, "step_version": step_version("train")})
        weights = (store.record(step.key) or {}).get("weights_sha256")
        if weights:
            record["weights_sha256"] = weights
        files["train.json"] = sealed_text(record).encode("utf-8")
    else:
        result = portable(read_json(src / "result.json"))
        npz = (src / "result.json").with_suffix(".perquery.npz")
        try:
            per_query = load_per_query(src / "result.json")
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise CorruptFile(npz, f"{npz}: not a readable .npz (corrupt: {first_line(exc)})") from None
        # The task declares which settings' per-query arrays are published; the store keeps them all.
        declaration = declared(step.task) if step.kind == "command" else get_task(step.task).declaration
        kept = {k: v for k, v in per_query.items() if declaration.publishes(k)}
        name = f"{step.task}.perquery.npz"
        buf = io.BytesIO()
        np.savez_compressed(buf, **kept)
        result["per_query_file"] = name
        files[name] = buf.getvalue()
        files[f"{step.task}.json"] = sealed_text(result, {name: bytes_sha256(files[name])}).encode("utf-8")
    # One publisher at a time per store: the point folder is swapped whole, other steps' files kept.
    with FileLock(str(store.root / ".publish.lock")):
        update_dir(results_dir / point_label(step.point), files)


def _same_summary(summary: dict[str, Any], results_dir: Path) -> bool:
    """True if the published summary has the same content (apart from the record of the last run)."""
    path = results_dir / "summary.json"
    if not path.is_file():
        return False
    try:
        old = read_json(path)
    except CorruptFile:
        return False
    new = json.loads(json.dumps(summary, default=str))
    skip = ("run", "integrity")
    return {k: v for k, v in old.items() if k not in skip} == {k: v for k, v in new.items() if k not in skip}


def execute_step(
    exp: Experiment, step: Step, store_root: str, progress: bool = False, encoders: _EncoderCache | None = None
) -> str:
    """Compute ``step`` into the store at ``store_root`` unless it is there: "computed" or "cached".

    The unit every executor runs (in this process, a worker process or a Slurm job): the step's
    lock makes a second runner - another job on a shared filesystem included - wait, then find
    the step done instead of computing it again.
    """
    store = StepStore(Path(store_root))
    with store.lock(step.key):
        if store.record(step.key) is not None:
            return "cached"
        if step.kind == "train":
            record = _run_train(step, store, progress)
        elif step.kind == "command":
            record = _run_command(step, exp, store)
        else:
            record = _run_eval(step, exp, store, encoders if encoders is not None else _PROCESS_ENCODERS, progress)
        store.finish(step.key, record)
        return "computed"


# The encoder a worker process or job keeps between the steps it runs.
_PROCESS_ENCODERS = _EncoderCache()


def _step_label(step: Step) -> str:
    return f"{step.kind} {point_label(step.point)} {step.task or ''}".strip()


def _trained_weights_sha256(store: StepStore, key: str) -> str | None:
    from repro.models.embedding_cache import default_cache
    from repro.models.encoder import weights_file

    weights = weights_file(str(store.path(key) / "model"))
    if weights is None:
        return None
    # Through the embedding cache's digest memo, as Encoder.weights_sha256 does: the evaluations of
    # this model then find the hash instead of reading the weights again.
    cache = default_cache()
    return cache.file_digest(weights) if cache is not None else sha256_file(weights)


def _check_retrained(train_step: Step, store: StepStore, results_dir: Path) -> None:
    """Judge a published model trained again for its weights against its published record.

    The same weights (or, for records published before they carried a hash, the same validation
    losses to 1e-6) leave the record as it is. Otherwise - fp32 on another CPU model can differ in
    the last bits, and training carries that on - a warning says so and the published record gains
    a ``retrained`` entry (weights hash, losses, machine), so that evaluations naming the new
    weights are traceable to this run rather than to the original one.
    """
    record = store.record(train_step.key) or {}
    published = published_record(results_dir, "train", train_step.point, None) or {}
    before = [e["val_loss"] for e in published.get("summary", {}).get("evals", [])]
    after = [e["val_loss"] for e in record.get("summary", {}).get("evals", [])]
    weights = record.get("weights_sha256") or _trained_weights_sha256(store, train_step.key)
    if published.get("weights_sha256"):
        same = published["weights_sha256"] == weights
    else:
        same = len(before) == len(after) and all(abs(a - b) <= 1e-6 * max(abs(b), 1e-12) for a, b in zip(after, before))
    if same or not published:
        return
    if any(e.get("weights_sha256") == weights for e in published.get("retrained", [])):
        return  # this retrain's weights are on record already (a second fresh store on that machine)
    largest = max((abs(a - b) / max(abs(b), 1e-12) for a, b in zip(after, before)), default=float("nan"))
    print(
        f"warning: retrained {point_label(train_step.point)} ({train_step.key}) for its weights, but they differ from "
        f"the published model's (validation losses {after} vs {before}, largest relative difference {largest:.1e}); "
        "its new evaluations name the new weights, and train.json records this retrain under 'retrained'",
        file=sys.stderr,
    )
    entry = {
        "weights_sha256": weights,
        "val_losses": after,
        "largest_relative_val_loss_difference": largest,
        "provenance": portable(record.get("provenance") or provenance()),
    }
    published["retrained"] = [*published.get("retrained", []), entry]
    atomic_write_text(published_path(results_dir, "train", train_step.point, None), sealed_text(published))


def _write_jobs(folder: Path, outcomes: list[JobOutcome]) -> None:
    """``jobs.json`` in the executor's log folder: which job computed which step, when, where its log is."""
    rows = [
        {
            "key": o.key,
            "label": o.label,
            "status": o.status,
            "value": o.value,
            "job_id": o.job_id,
            "host": o.host,
            "started": o.started,
            "ended": o.ended,
            "log": str(o.log) if o.log else None,
            "error": o.error or None,
        }
        for o in outcomes
    ]
    atomic_write_text(Path(folder) / "jobs.json", json.dumps(rows, indent=1) + "\n")


def republish_hint(exp: Experiment) -> str:
    """How to recompute and re-publish the steps of ``exp`` whose published files do not match."""
    return f"repro run {exp.source or '<experiment.yaml>'} --profile {exp.profile} --republish"


def published_mismatch(exp: Experiment, problems: list[str]) -> ReproError:
    """The one-line error for published files that do not match their records."""
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    first = problems[0].split(":", 1)[0]
    return ReproError(
        f"{problems[0]}{more}; restore the committed file (git checkout -- {first}) or recompute and "
        f"re-publish it: {republish_hint(exp)}"
    )


def check_published(exp: Experiment, results_dir: Path, steps: list[Step] | None = None) -> tuple[list[str], int]:
    """Every problem of the published steps of ``exp`` in ``results_dir`` (see :func:`slot_problems`),
    and how many published records carry no hashes yet."""
    problems, unsealed = [], 0
    for step in steps if steps is not None else plan(exp):
        problems += slot_problems(results_dir, step.kind, step.point, step.task)
        unsealed += not slot_sealed(results_dir, step.kind, step.point, step.task)
    return list(dict.fromkeys(problems)), unsealed


def foreign_published(steps: list[Step], results_dir: Path) -> list[tuple[Step, str]]:
    """Published steps whose slot holds a result under another key than this machine plans, each with
    why (the first config entry that differs, e.g. the precision "auto" resolved to)."""
    out = []
    for step in steps:
        record = published_record(results_dir, step.kind, step.point, step.task)
        if record is None or record.get("step") == step.key:
            continue
        planned = (
            step.payload["config"] if step.kind == "train" else {k: v for k, v in step.payload.items() if k != "data"}
        )
        recorded = record.get("config") or {}
        if step.kind == "eval" and recorded.get("precision") == "auto":
            recorded = {**recorded, "precision": (record.get("model") or {}).get("precision")}
        diff = [k for k in planned if k != "model" and recorded.get(k) != planned[k]]
        why = (
            f"{diff[0]}: {recorded.get(diff[0])} recorded, {planned[diff[0]]} here"
            if diff
            else "data checksums or versions differ"
        )
        out.append((step, why))
    return out


def _cached_problems(step: Step, store: StepStore) -> list[str]:
    """What does not match in a cached step: its files, and for an evaluation of a trained model
    whether it evaluated the weights its training recorded."""
    problems = store.problems(step.key)
    if problems or step.kind != "eval" or not step.depends_on:
        return problems
    recorded = (store.record(step.depends_on) or {}).get("weights_sha256")
    if not recorded:
        return []
    try:
        used = ((read_json(store.path(step.key) / "result.json").get("model")) or {}).get("weights_sha256")
    except CorruptFile as exc:
        return [str(exc)]
    if used and used != recorded:
        return [f"{store.path(step.key) / 'result.json'}: evaluated other weights than its training step recorded"]
    return []


def run_experiment(
    exp: Experiment,
    results_dir: Path,
    store: StepStore | None = None,
    progress: bool = True,
    executor: Executor | None = None,
    republish: bool = False,
) -> SweepOutcome:
    """Run every step that neither the results folder nor the store holds; publish; write the summary.

    A step published in ``results_dir`` under its key is done (nothing is recomputed or rewritten);
    a step in the store is published from there; any other step is computed by ``executor``
    (default: one after another in this process), a published model whose weights an evaluation
    needs included: it is trained again (training is deterministic) and checked against its
    published losses. Parallel executors run an evaluation once its training has finished; their
    jobs are listed in ``jobs.json`` in the executor's log folder. A failed job raises
    :class:`~repro.runner.executors.ExecutionFailed` after every step that could run has run and
    been published, so a rerun resumes.

    Hashes are checked first: a cached step whose files do not match is computed again (with a
    warning); a published one raises a ReproError naming the file, unless ``republish``: then it is
    recomputed (or taken from a matching cached copy) and published again.
    """
    run = _Run(exp, Path(results_dir), store or StepStore(fallback=True), executor or SerialExecutor(), progress)
    t0 = time.perf_counter()
    run.check_slots(republish)
    try:
        run.schedule()
        run.execute()
    finally:
        run.bar.close()
    run.outcome.seconds = time.perf_counter() - t0
    _write_run_summary(exp, run.results_dir, run.outcome)
    return run.outcome


class _Run:
    """One run of an experiment's plan: what each step needs (nothing, publishing, or a job) and the
    jobs' bookkeeping. A published step is done; a cached one is published from the store; any
    other is a job, and a published model whose weights an evaluation needs is retrained."""

    def __init__(self, exp: Experiment, results_dir: Path, store: StepStore, executor: Executor, progress: bool):
        self.exp, self.results_dir, self.store, self.executor, self.progress = (
            exp,
            results_dir,
            store,
            executor,
            progress,
        )
        self.parallel = not isinstance(executor, SerialExecutor)
        self.steps = plan(exp)
        self.by_key = {s.key: s for s in self.steps}
        self.outcome = SweepOutcome(results_dir=results_dir)
        self.encoders = _EncoderCache()
        self.jobs: dict[str, Job] = {}
        self.retrain: set[str] = set()
        self.waiting: dict[str, list[Step]] = {}  # job key -> the planned steps it completes (one key, several points)
        self.checked: set[str] = set()
        self.mismatched: set[str] = set()
        # Opened once the slots are checked: a run refused for a tampered file prints its error alone.
        self.bar = tqdm(total=len(self.steps), desc=f"{exp.name} [{exp.profile}]", unit="step", disable=True)

    def check_slots(self, republish: bool) -> None:
        """Put back half-swapped point folders, then check every published slot's hashes: a mismatch
        is a ReproError, or (``republish``) a warning and the step computed again."""
        # A publish killed between its two renames left the old point folder aside: put it back.
        for label in {point_label(s.point) for s in self.steps}:
            recover_dir(self.results_dir / label)
        problems: list[str] = []
        for step in self.steps:
            if found := slot_problems(self.results_dir, step.kind, step.point, step.task):
                problems += found
                self.mismatched.add(step.key)
        if problems and not republish:
            raise published_mismatch(self.exp, list(dict.fromkeys(problems)))
        for problem in dict.fromkeys(problems):
            warn(f"{problem}: recomputed and published again (--republish)")
        self.bar = tqdm(
            total=len(self.steps),
            desc=f"{self.exp.name} [{self.exp.profile}]",
            unit="step",
            disable=not self.progress,
            position=0,
        )

    def cached(self, step: Step) -> bool:
        """Whether the store holds ``step`` with every file matching; a mismatch is warned and dropped."""
        store = self.store
        if store.record(step.key) is None:
            if (store.root / step.key / "done.json").is_file():
                warn(
                    f"{store.root / step.key / 'done.json'}: unreadable (corrupt); computing {_step_label(step)} again"
                )
                store.discard(step.key)
            return False
        if step.key in self.checked:
            return True
        if found := _cached_problems(step, store):
            warn(f"{found[0]}; computing {_step_label(step)} again")
            store.discard(step.key)
            return False
        self.checked.add(step.key)
        return True

    def published(self, step: Step) -> bool:
        return step.key not in self.mismatched and is_published(step, self.results_dir)

    def add_job(self, step: Step) -> None:
        if step.key in self.jobs:
            self.waiting[step.key].append(step)
            return
        deps = (step.depends_on,) if step.depends_on in self.jobs else ()
        args = (self.exp, step, str(self.store.root), self.progress and not self.parallel)
        args += () if self.parallel else (self.encoders,)
        self.jobs[step.key] = Job(step.key, execute_step, args, depends_on=deps, label=_step_label(step))
        self.waiting[step.key] = [step]

    def schedule(self) -> None:
        """Count the published steps, publish the cached ones, and make a job of every other."""
        for step in self.steps:
            if self.published(step):
                self.outcome.published.append(step.key)
                self.bar.update(1)
                continue
            if step.key not in self.jobs and self.cached(step):
                try:
                    _publish(step, self.store, self.results_dir)
                except CorruptFile as exc:
                    warn(f"{exc}; computing {_step_label(step)} again")
                    self.store.discard(step.key)
                    self.add_job(step)
                    continue
                self.outcome.cached.append(step.key)
                self.bar.update(1)
                continue
            dep = self.by_key.get(step.depends_on) if step.depends_on else None
            # An evaluation still to compute needs its model: a published one missing from the store (or
            # whose cached weights do not match) is retrained.
            if (
                dep is not None
                and dep.key not in self.jobs
                and (needs_retrain(dep, self.results_dir, self.store) or not self.cached(dep))
            ):
                self.add_job(dep)
                if self.published(dep):
                    self.retrain.add(dep.key)
            self.add_job(step)

    def on_done(self, job: JobOutcome) -> None:
        """Publish what a finished job completes (every point that shares its key)."""
        if job.status != "done":
            self.bar.update(0 if job.key in self.retrain else len(self.waiting[job.key]))
            return
        first, *more = self.waiting[job.key]
        (self.outcome.computed if job.value == "computed" else self.outcome.cached).append(job.key)
        self.outcome.cached.extend(s.key for s in more)  # the same step at another point: computed once
        if job.key in self.retrain and job.value == "computed":
            self.outcome.retrained.append(job.key)
            _check_retrained(first, self.store, self.results_dir)
        for s in self.waiting[job.key]:
            if job.key in self.retrain and self.published(s):
                continue  # trained again for its weights: published (and counted) already
            _publish(s, self.store, self.results_dir)
            self.bar.set_postfix_str(_step_label(s))
            self.bar.update(1)

    def execute(self) -> None:
        """Run the jobs; their list goes to ``jobs.json`` in the executor's log folder, failed or not."""
        log_folder = self.executor.log_folder
        try:
            outcomes = self.executor.run(list(self.jobs.values()), on_done=self.on_done)
        except ExecutionFailed as exc:
            if log_folder is not None:
                _write_jobs(log_folder, exc.outcomes)
            raise
        if log_folder is not None:
            _write_jobs(log_folder, outcomes)


def _write_run_summary(exp: Experiment, results_dir: Path, outcome: SweepOutcome) -> None:
    """Write the sweep summary when anything was published or the stored one differs from the results."""
    from repro.runner.summary import summarize, write_summary

    summary = summarize(exp, results_dir)
    summary["run"] = {
        "computed_steps": len(outcome.computed),
        "cached_steps": len(outcome.cached),
        "published_steps": len(outcome.published),
        "seconds": round(outcome.seconds, 1),
        "provenance": provenance(),
    }
    if outcome.computed or outcome.cached or not _same_summary(summary, results_dir):
        if summary_problems(results_dir):
            warn(
                f"{results_dir / 'summary.json'} did not match its record or its results: written again from the results"
            )
        write_summary(summary, results_dir)


def summary_problems(results_dir: Path) -> list[str]:
    """What does not match in a published ``summary.json`` (empty if it matches, is unsealed or absent)."""
    path = Path(results_dir) / "summary.json"
    record, problems = load_record(path, "summary")
    return problems if record is None else check_record(record, path)
