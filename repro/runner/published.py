"""Published steps: what a results folder already holds, recognised by each step's cache key.

The runner copies every finished step into ``results/<experiment>/<profile>/<point>/`` (``train.json``,
``<task>.json`` + ``<task>.perquery.npz``), stamped with the step's key (``step``) and the version
of its computation (``step_version``). A step whose published key equals its planned key is done:
a fresh clone with an empty ``$REPRO_HOME`` computes nothing that ``results/`` already holds, so
a sweep can be finished over several days on several machines, committing after each.

Every published record is sealed (:mod:`repro.integrity`): it holds the SHA-256 of its own content
and of the per-query file beside it, and an evaluation of a trained model names the weights hash
its training recorded. :func:`slot_problems` says what no longer matches before anything uses it;
an edited, truncated or corrupt published file is an error, never a number used silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from repro.integrity import CorruptFile, check_record, is_sealed, load_record, read_json
from repro.runner.experiment import point_label


class PlannedStep(Protocol):
    """What this module needs of a planned step (:class:`repro.runner.sweep.Step`)."""

    kind: str
    key: str
    point: dict[str, Any] | None
    task: str | None


def published_path(results_dir: Path, kind: str, point: dict[str, Any] | None, task: str | None) -> Path:
    """Where a step's main result file is published: ``<point>/train.json`` or ``<point>/<task>.json``."""
    name = "train.json" if kind == "train" else f"{task}.json"
    return Path(results_dir) / point_label(point) / name


def published_record(results_dir: Path, kind: str, point: dict[str, Any] | None, task: str | None) -> dict | None:
    """The published result of a step's slot (whatever key it carries), or None if there is none."""
    path = published_path(results_dir, kind, point, task)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def slot_problems(results_dir: Path, kind: str, point: dict[str, Any] | None, task: str | None) -> list[str]:
    """What does not match in a step's published slot: an unreadable record, a changed record or
    per-query file, an evaluation naming other weights than its published training recorded.

    Empty when the slot is empty, matches, or is unsealed (see :func:`slot_sealed`).
    """
    path = published_path(results_dir, kind, point, task)
    record, problems = load_record(path, "result record")
    if record is None:
        return problems
    problems = check_record(record, path)
    if problems or kind != "eval" or not record.get("train"):
        return problems
    # The key chain: the model an evaluation used is the one its training step published.
    train_path = path.parent / "train.json"
    try:
        train = read_json(train_path) if train_path.is_file() else None
    except CorruptFile as exc:
        return [str(exc)]
    if not isinstance(train, dict):
        return []
    if record["train"].get("step") != train.get("step"):
        return [
            f"{path}: evaluates training step {record['train'].get('step')}, but {train_path} is {train.get('step')}"
        ]
    known = {train.get("weights_sha256")} | {e.get("weights_sha256") for e in train.get("retrained", [])}
    weights = (record.get("model") or {}).get("weights_sha256")
    if train.get("weights_sha256") and weights not in known:
        return [f"{path}: evaluated weights {str(weights)[:12]}..., not the ones {train_path} recorded"]
    return []


def slot_sealed(results_dir: Path, kind: str, point: dict[str, Any] | None, task: str | None) -> bool:
    """Whether a step's published record carries hashes (records published before they did do not)."""
    record = published_record(results_dir, kind, point, task)
    return record is None or is_sealed(record)


def published_key(results_dir: Path, kind: str, point: dict[str, Any] | None, task: str | None) -> str | None:
    """The key of the step published in a slot, if the slot holds a complete result."""
    record = published_record(results_dir, kind, point, task)
    if record is None:
        return None
    if kind != "train":  # an evaluation or a command step: its per-query values are part of it
        per_query = record.get("per_query_file")
        if not per_query or not (published_path(results_dir, kind, point, task).parent / per_query).is_file():
            return None
    return record.get("step")


def is_published(step: PlannedStep, results_dir: Path) -> bool:
    """True if ``results_dir`` holds ``step`` under its current key."""
    return published_key(results_dir, step.kind, step.point, step.task) == step.key


def needs_retrain(model: PlannedStep, results_dir: Path, store: Any) -> bool:
    """True if an evaluation still to compute must train ``model`` again for its weights.

    That is a published model whose weights the step store lacks (a fresh clone, another
    machine); training is deterministic, so it is trained again rather than refused. The one rule
    of :func:`repro.runner.sweep.run_experiment` and :func:`repro.runner.estimate.dry_run`.
    """
    return is_published(model, results_dir) and store.record(model.key) is None
