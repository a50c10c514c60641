"""Arms: the named sets of models that checks compare (grid points of one experiment, or its base model)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Arm(BaseModel):
    """A named set of models: grid points of one experiment (every seed), or its base model."""

    model_config = ConfigDict(extra="forbid")

    experiment: str
    point: dict[str, Any] | None = Field(default=None, description="grid values; None = the untrained base model")
    description: str = ""

    def selects(self, point: dict[str, Any]) -> bool:
        """Whether grid ``point`` belongs to this arm (numbers compare with a tolerance: 0.5 == 0.50)."""
        return self.point is not None and all(_same(point.get(k), v) for k, v in self.point.items())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) < 1e-9
    return a == b
