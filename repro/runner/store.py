"""A content-addressed store of finished steps.

A step's key hashes its kind, its resolved config, the checksums of the data it reads and the
version of the computation that makes it (``TRAIN_VERSION``, ``EVAL_VERSION``), never the code's
source: refactoring or reformatting keeps every cached and published step valid, and an edit that
changes the numbers bumps the version (``tests/test_golden.py`` catches a forgotten bump). A step
directory is complete only once ``done.json`` exists (written last, atomically); a per-key file lock
keeps two runners from computing the same step at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock

from repro.atomic import atomic_write_text
from repro.cache import repro_home
from repro.evaluation.version import EVAL_VERSION
from repro.runner.command import COMMAND_VERSION
from repro.training.version import TRAIN_VERSION

# The version of each step kind's computation (training covers the corpus, sampler, loss, optimizer
# and model code it runs; evaluation the task loaders, encoder, search and metrics).
# A command step's version covers how its output is read (repro/runner/command.py); the program's
# own changes reach its key through the hashes of its declared inputs.
VERSIONS: dict[str, int] = {"train": TRAIN_VERSION, "eval": EVAL_VERSION, "command": COMMAND_VERSION}


def step_version(kind: str) -> int:
    """The version of step kind ``kind`` that keys and published records carry."""
    return VERSIONS[kind]


def step_key(kind: str, payload: dict[str, Any]) -> str:
    """The address of a step: a hash of its kind, payload (config + data checksums) and version."""
    blob = json.dumps({"kind": kind, "payload": payload, "version": step_version(kind)}, sort_keys=True, default=str)
    return f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:20]}"


class StepStore:
    """Step directories under ``root`` (default ``$REPRO_HOME/steps``)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else repro_home() / "steps"
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The step's working directory (created on demand)."""
        p = self.root / key
        p.mkdir(parents=True, exist_ok=True)
        return p

    def record(self, key: str) -> dict[str, Any] | None:
        """The finished step's record, or None if it has not finished."""
        done = self.root / key / "done.json"
        return json.loads(done.read_text()) if done.is_file() else None

    def finish(self, key: str, record: dict[str, Any]) -> None:
        """Mark a step finished; its outputs must already be in place."""
        atomic_write_text(self.root / key / "done.json", json.dumps(record, indent=1, default=str) + "\n")

    def records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(key, record) of every finished step, e.g. as a basis for time estimates."""
        for done in sorted(self.root.glob("*/done.json")):
            try:
                yield done.parent.name, json.loads(done.read_text())
            except (OSError, json.JSONDecodeError):
                continue  # a record being replaced right now; the next read sees it

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the step's lock; a second runner waits here, then finds the step done."""
        with FileLock(str(self.root / f"{key}.lock")):
            yield
