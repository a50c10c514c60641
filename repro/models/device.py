"""Which device a step computes on: CUDA when this machine has it, else the CPU; overridable.

One rule for encoding (:class:`repro.models.encoder.Encoder`), training and the runner, so that a
Slurm job that was given a GPU (``repro run --executor slurm --gpus-per-job 1``) uses it without
further settings, and a user can still force a device with an argument or ``$REPRO_DEVICE``.
"""

from __future__ import annotations

import os

import torch

from repro.errors import ReproError

DEVICE_ENV = "REPRO_DEVICE"


def select_device(preferred: str | torch.device | None = None) -> torch.device:
    """The device to compute on: ``preferred``, else ``$REPRO_DEVICE``, else CUDA if available, else CPU.

    ``"auto"`` (or nothing) means the default choice. A CUDA device asked for on a machine without
    CUDA is an error rather than a crash later inside torch.

    Raises:
        ReproError: a device name torch does not know, or CUDA asked for where there is none.
    """
    choice = preferred if preferred is not None else os.environ.get(DEVICE_ENV) or None
    if choice is None or str(choice).strip().lower() in ("", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(str(choice).strip())
    except RuntimeError:
        raise ReproError(f"unknown device '{choice}'; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ReproError(f"device '{choice}' asked for, but CUDA is not available on this machine; use cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ReproError(
                f"device '{choice}' asked for, but this machine has {torch.cuda.device_count()} CUDA devices"
            )
    return device
