"""What a result file records of how it was computed: the one provenance record of an evaluation.

``repro eval``, the runner's evaluation steps and its command steps all fill a result's ``info``
from an :class:`EvalRecord`, and every reader (verify's provenance, the report) reads it back with
:meth:`EvalRecord.from_info`, so the two sides cannot drift apart. Fields that do not apply (a
command step has no ``model``, ``repro eval`` no ``step``) are left out of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class EvalRecord:
    """The provenance of one evaluation, in the order result files write it.

    ``model``: the encoder's description (name, weights hash...); ``point``, ``experiment``,
    ``profile``, ``step``, ``step_version``: where in a sweep it was computed; ``config``: the
    settings that change its numbers; ``data_checksums``: SHA-256 of every input; ``command``,
    ``program_info``, ``result_format``: a user program's run (command steps); ``train``: the
    training step the model came from.
    """

    config: dict[str, Any]
    data_checksums: dict[str, str]
    provenance: dict[str, Any]
    wall_seconds: float
    model: dict[str, Any] | None = None
    point: dict[str, Any] | None = None
    experiment: str | None = None
    profile: str | None = None
    command: dict[str, Any] | None = None
    program_info: dict[str, Any] | None = None
    result_format: dict[str, Any] | None = None
    step_version: int | None = None
    step: str | None = None
    train: dict[str, Any] | None = None

    # The order of the keys in a result file (as results were written before this record existed).
    ORDER = (
        "model",
        "point",
        "experiment",
        "profile",
        "config",
        "data_checksums",
        "command",
        "program_info",
        "result_format",
        "step_version",
        "provenance",
        "wall_seconds",
        "step",
        "train",
    )

    def info(self) -> dict[str, Any]:
        """The record as a result's ``info`` entries (unset optional fields left out)."""
        values = asdict(self)
        # A sweep step records its point even when it is the base model's (None).
        keep_none = {"point"} if self.experiment is not None else set()
        keep_none |= {"program_info"} if self.command is not None else set()
        return {k: values[k] for k in self.ORDER if values[k] is not None or k in keep_none}

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> EvalRecord:
        """The record a result's ``info`` holds (missing provenance fields read as empty)."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in info.items() if k in names}
        values.setdefault("config", {})
        values.setdefault("data_checksums", {})
        values.setdefault("provenance", {})
        values.setdefault("wall_seconds", 0.0)
        return cls(**values)

    @property
    def seed(self) -> Any:
        """The training seed behind this result: the trained model's, or a command step's grid value."""
        train_config = (self.train or {}).get("config") or {}
        if "seed" in train_config:
            return train_config["seed"]
        return (self.point or {}).get("seed") if self.command is not None else None

    @property
    def weights_sha256(self) -> str | None:
        """The SHA-256 of the evaluated model's weights, when the model has weights."""
        return (self.model or {}).get("weights_sha256")
