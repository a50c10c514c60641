"""A content-addressed store of finished steps.

A step's key hashes its resolved config, the checksums of the data it reads and the source of the
code that computes it. A step directory is complete only once ``done.json`` exists (written last,
atomically); a per-key file lock keeps two runners from computing the same step at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from filelock import FileLock

from repro.atomic import atomic_write_text
from repro.cache import repro_home

_PACKAGE = Path(__file__).resolve().parent.parent

# The code a step's numbers depend on; editing anything else (CLI, reports) keeps the cache valid.
CODE: dict[str, tuple[str, ...]] = {
    "train": ("training", "models", "data"),
    "eval": ("evaluation", "models", "data"),
}


@cache
def code_version(kind: str) -> str:
    """SHA-256 over the source files of the packages a step kind depends on."""
    h = hashlib.sha256()
    for sub in CODE[kind]:
        for path in sorted((_PACKAGE / sub).rglob("*.py")):
            h.update(str(path.relative_to(_PACKAGE)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def step_key(kind: str, payload: dict[str, Any]) -> str:
    """The address of a step: a hash of its kind, payload (config + data checksums) and code version."""
    blob = json.dumps({"kind": kind, "payload": payload, "code": code_version(kind)}, sort_keys=True, default=str)
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

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the step's lock; a second runner waits here, then finds the step done."""
        with FileLock(str(self.root / f"{key}.lock")):
            yield
