"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is a folder written atomically (:func:`repro.atomic.atomic_write_dir`):

- ``model.pt``: the model's state dict; ``best.pt``: the best weights so far (trainable tensors);
- ``trainer.pt``: optimizer, LR scheduler, gradient scaler and torch (and CUDA) RNG states;
- ``state.json``: format, the run's config, its progress counters, the sampler position and the
  numpy / Python RNG states, readable by people.

Tensors are loaded back with ``weights_only=True`` (no arbitrary pickles). Resuming on the same
machine and thread count continues bit for bit: the RNG states are saved *after* the step, so the
resumed run draws the same dropout masks as an uninterrupted one.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from repro.atomic import atomic_write_dir
from repro.errors import ReproError, first_line
from repro.training.sampler import HybridBatchSampler

CHECKPOINT_FORMAT = 1


def save_checkpoint(
    path: Path,
    *,
    config: Mapping[str, Any],
    progress: Mapping[str, Any],
    best_weights: Mapping[str, torch.Tensor],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    scaler: torch.amp.GradScaler,
    sampler: HybridBatchSampler,
) -> None:
    """Write the checkpoint folder ``path``, replacing the previous one atomically.

    ``config`` (a config dump) is stored so that a resume with another config is refused;
    ``progress`` is the trainer's JSON-able counters, given back as is by :func:`load_checkpoint`.
    """

    def write(folder: Path) -> None:
        rng: dict[str, Any] = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        torch.save(model.state_dict(), folder / "model.pt")
        torch.save(dict(best_weights), folder / "best.pt")
        torch.save(
            {
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(),
                "rng": rng,
            },
            folder / "trainer.pt",
        )
        numpy_state = np.random.get_state()
        python_state = random.getstate()
        meta = {
            "format": CHECKPOINT_FORMAT,
            "config": dict(config),
            "progress": dict(progress),
            "sampler": sampler.state_dict(),
            "numpy_rng": [numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]],
            "python_rng": [python_state[0], list(python_state[1]), python_state[2]],
        }
        (folder / "state.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")

    atomic_write_dir(path, write)


def load_checkpoint(
    path: Path,
    *,
    config: Mapping[str, Any],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    scaler: torch.amp.GradScaler,
    sampler: HybridBatchSampler,
    device: torch.device,
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Restore checkpoint ``path`` into the freshly built objects and the global RNGs.

    Returns:
        ``(progress, best_weights)`` as they were saved.

    Raises:
        ReproError: another format, a checkpoint made with a different config (the first
            differing key is named), or an unreadable folder.
    """
    try:
        meta = json.loads((path / "state.json").read_text(encoding="utf-8"))
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise ReproError(
                f"checkpoint {path} has format {meta.get('format')}, this version reads {CHECKPOINT_FORMAT}; "
                "delete it to start over"
            )
        saved = meta["config"]
        changed = [key for key in config if saved.get(key) != config[key]]
        if changed:
            key = changed[0]
            raise ReproError(
                f"checkpoint {path} was made with {key}={saved.get(key)!r}, this run has {key}={config[key]!r}; "
                "use the same config to resume, or another output folder"
            )
        model.load_state_dict(torch.load(path / "model.pt", map_location=device, weights_only=True))
        best = torch.load(path / "best.pt", map_location="cpu", weights_only=True)
        trainer_state = torch.load(path / "trainer.pt", map_location=device, weights_only=True)
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        raise ReproError(
            f"checkpoint {path} is unreadable ({type(exc).__name__}: {first_line(exc)}); delete it to start over"
        ) from exc
    optimizer.load_state_dict(trainer_state["optimizer"])
    scheduler.load_state_dict(trainer_state["scheduler"])
    scaler.load_state_dict(trainer_state["scaler"])
    sampler.load_state_dict(meta["sampler"])
    torch.set_rng_state(trainer_state["rng"]["torch"].cpu())
    if "cuda" in trainer_state["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in trainer_state["rng"]["cuda"]])
    kind, keys, *rest = meta["numpy_rng"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), *rest))
    version, internal, gauss = meta["python_rng"]
    random.setstate((version, tuple(internal), gauss))
    return meta["progress"], best
