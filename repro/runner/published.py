"""Published steps: what a results folder already holds, recognised by each step's cache key.

The runner copies every finished step into ``results/<experiment>/<profile>/<point>/`` (``train.json``,
``<task>.json`` + ``<task>.perquery.npz``), stamped with the step's key (``step``) and the version
of its computation (``step_version``). A step whose published key equals its planned key is done:
a fresh clone with an empty ``$REPRO_HOME`` computes nothing that ``results/`` already holds, so
a sweep can be finished over several days on several machines, committing after each.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

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
    except (OSError, json.JSONDecodeError):
        return None


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
