"""A training run's output folder: held by one run at a time, and the model written into it atomically."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from torch import nn

from repro.atomic import atomic_write_dir
from repro.errors import ReproError


@contextlib.contextmanager
def exclusive(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir``'s lock for the run: a second run on the same folder fails at once."""
    from filelock import FileLock, Timeout

    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_dir / ".train.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ReproError(
            f"another training run is using {out_dir}; wait for it or choose another output folder"
        ) from None
    try:
        yield
    finally:
        lock.release()


def save_model(path: Path, model: nn.Module, tokenizer: Any, info: dict[str, Any]) -> None:
    """The model as a standard HF folder (weights, config, tokenizer) plus training_info.json, atomically."""

    def write(folder: Path) -> None:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        (folder / "training_info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

    atomic_write_dir(path, write)
