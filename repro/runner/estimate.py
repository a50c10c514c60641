"""``repro run --dry-run``: every step of a plan as published / cached / to compute, with its time.

Published and cached steps show the wall time they recorded. A step to compute gets an estimate
from the recorded steps of the same kind (published in any profile of the experiment, or in the
store): training from seconds per token (steps x batch size x max length) of runs of the same
model, evaluation from runs of the same task and max length - equal settings first, else scaled
by questions (limit x languages); runs in the step's precision first. Anything else is "unknown":
no basis, no guess.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.evaluation.tasks import get_task
from repro.runner.experiment import Experiment, point_label
from repro.runner.published import is_published, needs_retrain, published_record, slot_problems
from repro.runner.store import StepStore
from repro.runner.sweep import Step, plan

PUBLISHED, CACHED, TO_COMPUTE = "published", "cached", "to compute"


@dataclass
class StepState:
    """A planned step, where it stands, and its recorded or estimated wall time (None: unknown)."""

    step: Step
    state: str
    seconds: float | None
    note: str = ""


@dataclass(frozen=True)
class _Basis:
    """One recorded step's wall time and the settings it scales with."""

    kind: str
    seconds: float
    model: str | None = None  # training: the backbone
    precision: str | None = None
    tokens: float | None = None  # training: steps x batch size x max length
    task: str | None = None
    langs: tuple[str, ...] | None = None
    limit: int | None = None
    max_length: int | None = None


def _train_basis(record: dict[str, Any]) -> _Basis | None:
    config, summary = record.get("config") or {}, record.get("summary") or {}
    try:
        tokens = summary["steps_done"] * config["batch_size"] * config["max_length"]
        return _Basis("train", float(summary["seconds"]), config["model"], summary.get("precision"), float(tokens))
    except (KeyError, TypeError):
        return None


def _eval_basis(config: dict[str, Any], seconds: Any, precision: str | None) -> _Basis | None:
    try:
        langs = config.get("langs")
        return _Basis(
            "eval",
            float(seconds),
            precision=precision,
            task=config["task"],
            langs=tuple(langs) if langs is not None else None,
            limit=config.get("limit"),
            max_length=config["max_length"],
        )
    except (KeyError, TypeError, ValueError):
        return None


def _bases(results_root: Path, store: StepStore) -> list[_Basis]:
    """Every recorded step: published ones of any profile of the experiment, and the store's."""
    out: list[_Basis | None] = []
    for path in sorted(results_root.glob("*/*/*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if path.name == "train.json":
            out.append(_train_basis(record))
        elif isinstance(record.get("command"), dict) and "wall_seconds" in record:
            out.append(_Basis("command", float(record["wall_seconds"]), task=record.get("task")))
        elif "wall_seconds" in record and isinstance(record.get("config"), dict):
            out.append(
                _eval_basis(record["config"], record["wall_seconds"], (record.get("model") or {}).get("precision"))
            )
    for _, record in store.records():
        if record.get("kind") == "train":
            summary = record.get("summary") or {}
            config = (record.get("payload") or {}).get("config") or {}
            out.append(_train_basis({"config": config, "summary": summary}))
        elif record.get("kind") == "command" and record.get("seconds") is not None:
            out.append(_Basis("command", float(record["seconds"]), task=record.get("task")))
        elif record.get("kind") == "eval" and isinstance(record.get("payload"), dict):
            payload = record["payload"]
            out.append(_eval_basis(payload, record.get("seconds"), payload.get("precision")))
    return [b for b in out if b is not None]


def _n_questions(task: str, langs: tuple[str, ...] | None, limit: int) -> int:
    n_langs = len(langs) if langs is not None else len(get_task(task).check_languages(None))
    return limit * n_langs


def estimate(step: Step, bases: list[_Basis]) -> tuple[float | None, str]:
    """Seconds to compute ``step`` from recorded ``bases`` (None if there is no basis), and how.

    Runs in the step's precision are the basis; only without any, runs in another precision are
    used, and the note says so (bf16 on a CPU with native bf16 is ~3x faster than fp32). A command
    step's estimate is the median of recorded runs of its task's program.
    """
    if step.kind == "command":
        runs = [b.seconds for b in bases if b.kind == "command" and b.task == step.task]
        if not runs:
            return None, f"no recorded run of {step.task}'s program"
        return statistics.median(runs), f"from {len(runs)} recorded runs of {step.task}'s program"
    precision = step.payload["config"]["precision"] if step.kind == "train" else step.payload["precision"]
    same = [b for b in bases if b.precision == precision]
    seconds, how = _estimate(step, same)
    if seconds is None and (other := [b for b in bases if b.precision != precision]):
        seconds, how_other = _estimate(step, other)
        if seconds is not None:
            how = f"{how_other}, recorded in {'/'.join(sorted({str(b.precision) for b in other}))}"
    return seconds, how


def _estimate(step: Step, bases: list[_Basis]) -> tuple[float | None, str]:
    p = step.payload
    if step.kind == "train":
        c = p["config"]
        rates = [b.seconds / b.tokens for b in bases if b.kind == "train" and b.model == c["model"] and b.tokens]
        if not rates:
            return None, "no recorded training of this model"
        tokens = c["steps"] * c["batch_size"] * c["max_length"]
        return statistics.median(rates) * tokens, f"from {len(rates)} recorded training runs, scaled by tokens"
    langs = tuple(p["langs"]) if p.get("langs") is not None else None
    same = [b for b in bases if b.kind == "eval" and b.task == step.task and b.max_length == p["max_length"]]
    exact = [b.seconds for b in same if b.langs == langs and b.limit == p["limit"]]
    if exact:
        return statistics.median(exact), f"from {len(exact)} recorded runs with these settings"
    if p["limit"] is None:
        return None, f"no recorded run of the whole {step.task} task"
    target = _n_questions(step.task, langs, p["limit"])
    scaled = [b.seconds * target / _n_questions(step.task, b.langs, b.limit) for b in same if b.limit is not None]
    if not scaled:
        return None, f"no recorded {step.task} run at this max length"
    return statistics.median(scaled), f"from {len(scaled)} recorded runs, scaled by questions"


def _recorded_seconds(record: dict[str, Any] | None) -> float | None:
    if not record:
        return None
    if "wall_seconds" in record:  # a published evaluation
        return float(record["wall_seconds"])
    if "seconds" in record:  # the store's record of an evaluation
        return float(record["seconds"])
    summary = record.get("summary") or {}
    return float(summary["seconds"]) if "seconds" in summary else None


def dry_run(exp: Experiment, results_dir: Path, store: StepStore | None = None) -> list[StepState]:
    """The state of every planned step of ``exp`` against ``results_dir`` and the step store."""
    store = store or StepStore()
    results_dir = Path(results_dir)
    steps = plan(exp)
    bases = _bases(results_dir.parent, store)
    states: dict[str, StepState] = {}
    for step in steps:
        if is_published(step, results_dir) and not slot_problems(results_dir, step.kind, step.point, step.task):
            record = published_record(results_dir, step.kind, step.point, step.task)
            states[step.key] = StepState(step, PUBLISHED, _recorded_seconds(record))
        elif is_published(step, results_dir):
            seconds, how = estimate(step, bases)
            states[step.key] = StepState(
                step, TO_COMPUTE, seconds, f"published files do not match (--republish): {how}"
            )
        elif (record := store.record(step.key)) is not None and not store.problems(step.key):
            states[step.key] = StepState(step, CACHED, _recorded_seconds(record))
        else:
            seconds, how = estimate(step, bases)
            states[step.key] = StepState(step, TO_COMPUTE, seconds, how)
    # An evaluation to compute needs its model's weights: a published model not in the store is
    # retrained (as run_sweep does); one whose weights the store holds is not.
    for st in list(states.values()):
        dep = st.step.depends_on
        if st.state == TO_COMPUTE and dep and needs_retrain(states[dep].step, results_dir, store):
            seconds, how = estimate(states[dep].step, bases)
            states[dep] = StepState(states[dep].step, TO_COMPUTE, seconds, f"retrain: weights not cached; {how}")
    return [states[s.key] for s in steps]


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def render_dry_run(states: list[StepState]) -> str:
    """One line per step (state, kind, point, task, time), then the totals."""
    lines = []
    for st in states:
        s = st.step
        if st.state == TO_COMPUTE:
            when = "unknown" if st.seconds is None else f"~{_duration(st.seconds)}"
            when += f" ({st.note})" if st.note else ""
        else:
            when = "-" if st.seconds is None else f"{_duration(st.seconds)} recorded"
        lines.append(f"{st.state:<10}  {s.kind:<5}  {point_label(s.point):<22}  {s.task or '-':<10}  {when}")
    counts = {k: sum(st.state == k for st in states) for k in (PUBLISHED, CACHED, TO_COMPUTE)}
    todo = [st for st in states if st.state == TO_COMPUTE]
    known = sum(st.seconds for st in todo if st.seconds is not None)
    unknown = sum(st.seconds is None for st in todo)
    total = _duration(known) + (f" + {unknown} step{'s' * (unknown > 1)} of unknown time" if unknown else "")
    lines.append(
        f"{len(states)} steps: {counts[PUBLISHED]} published, {counts[CACHED]} cached, "
        f"{counts[TO_COMPUTE]} to compute; estimated time to compute: {total}"
    )
    return "\n".join(lines)
