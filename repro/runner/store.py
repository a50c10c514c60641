"""A content-addressed store of finished steps.

A step's key hashes its kind, its resolved config, the checksums of the data it reads and the
version of the computation that makes it (``TRAIN_VERSION``, ``EVAL_VERSION``), never the code's
source: refactoring or reformatting keeps every cached and published step valid, and an edit that
changes the numbers bumps the version (``tests/test_golden.py`` catches a forgotten bump). A step
directory is complete only once ``done.json`` exists (written last, atomically); a per-key file lock
keeps two runners from computing the same step at once.

``done.json`` is sealed (:mod:`repro.integrity`): it holds the SHA-256 of every file of the step
folder and of its own content, so a cached file edited, truncated or flipped is found before it
is used (:meth:`StepStore.problems`), and the runner computes that step again. A store root that
cannot be written (a read-only or full ``$REPRO_HOME``) is replaced by a temporary folder, with a
warning (:meth:`StepStore.fallback`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock

from repro.atomic import atomic_write_text
from repro.cache import repro_home
from repro.errors import first_line
from repro.evaluation.version import EVAL_VERSION
from repro.integrity import CorruptFile, check_record, file_sha256, load_record, read_json, sealed_text
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


# Files of a step folder that its record does not hash: the record itself, locks and temp files
# (dot files), and the training checkpoint (removed when training ends).
_UNHASHED_TOP = ("done.json", "checkpoint")
# Files from this size on are hashed through the embedding cache's digest memo (model weights).
_LARGE = 16 << 20


def _step_files(folder: Path) -> list[Path]:
    """The files of a step folder that its record hashes, in a stable order."""
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or rel.parts[0] in _UNHASHED_TOP or any(p.startswith(".") for p in rel.parts):
            continue
        out.append(path)
    return out


def _digest(path: Path) -> str:
    """SHA-256 of a step file; a large one through the embedding cache's memo (hashed once per change)."""
    if path.stat().st_size >= _LARGE:
        from repro.models.embedding_cache import default_cache

        cache = default_cache()
        if cache is not None:
            return cache.file_digest(path)
    return file_sha256(path)


class StepStore:
    """Step directories under ``root`` (default ``$REPRO_HOME/steps``).

    A root that cannot be created or written is a ReproError unless ``fallback`` is true: then the
    store lives in a temporary folder (removed when the process ends) and ``self.fallback_reason``
    says why, for a warning.
    """

    def __init__(self, root: Path | None = None, fallback: bool = False) -> None:
        self.root = Path(root) if root else repro_home() / "steps"
        self.fallback_reason: str | None = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-")  # noqa: SIM115 - closed at once
            probe.close()
        except OSError as exc:
            reason = f"cannot write the step cache {self.root} ({exc.strerror or first_line(exc)})"
            if not fallback:
                from repro.errors import ReproError

                raise ReproError(f"{reason}; make it writable, free space, or set REPRO_HOME elsewhere") from None
            self.fallback_reason = reason
            self.root = Path(tempfile.mkdtemp(prefix="repro-steps-"))
            import atexit

            atexit.register(shutil.rmtree, self.root, True)
            warn(f"{reason}: steps are computed in the temporary folder {self.root}, removed at exit")

    def path(self, key: str) -> Path:
        """The step's working directory (created on demand)."""
        p = self.root / key
        p.mkdir(parents=True, exist_ok=True)
        return p

    def record(self, key: str) -> dict[str, Any] | None:
        """The finished step's record, or None if it has not finished (or its record is unreadable)."""
        done = self.root / key / "done.json"
        if not done.is_file():
            return None
        try:
            return read_json(done)
        except CorruptFile:
            return None

    def problems(self, key: str) -> list[str]:
        """What does not match in a finished step: its record unreadable, a file missing or changed.

        Empty for a step whose files all match their hashes, and for a step recorded before
        records held hashes (nothing to compare).
        """
        done = self.root / key / "done.json"
        record, problems = load_record(done, "step record")
        if record is None:
            return problems
        recorded = (record.get("integrity") or {}).get("files") or {}
        problems = [p for p in check_record(record, done, files=()) if p]
        for name, sha in recorded.items():
            target = done.parent / name
            if not target.is_file():
                problems.append(f"{target}: missing (its record done.json lists it)")
            elif _digest(target) != sha:
                problems.append(f"{target}: content does not match the SHA-256 in done.json (edited or corrupt)")
        return problems

    def discard(self, key: str) -> None:
        """Forget a finished step whose files do not match: the next run computes it again."""
        (self.root / key / "done.json").unlink(missing_ok=True)
        shutil.rmtree(self.root / key, ignore_errors=True)

    def finish(self, key: str, record: dict[str, Any]) -> None:
        """Mark a step finished; its outputs must already be in place. The record is sealed with the
        SHA-256 of each of the step's files."""
        folder = self.root / key
        files = {p.relative_to(folder).as_posix(): _digest(p) for p in _step_files(folder)}
        atomic_write_text(folder / "done.json", sealed_text(json.loads(json.dumps(record, default=str)), files))

    def records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(key, record) of every finished step, e.g. as a basis for time estimates."""
        for done in sorted(self.root.glob("*/done.json")):
            try:
                yield done.parent.name, json.loads(done.read_text())
            except (OSError, json.JSONDecodeError, UnicodeDecodeError):
                continue  # a record being replaced right now; the next read sees it

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the step's lock; a second runner waits here, then finds the step done."""
        with FileLock(str(self.root / f"{key}.lock")):
            yield


def warn(message: str) -> None:
    """A runner warning on stderr (one line)."""
    print(f"warning: {message}", file=sys.stderr)
