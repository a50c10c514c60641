"""What a training loop has done so far (:class:`Progress`): saved in every checkpoint, reported in train.json."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Progress:
    """What the loop has done so far: saved in every checkpoint, reported in train.json."""

    step: int = 0
    pairs: int = 0
    seconds: float = 0.0  # wall time of the loop (steps, evaluations, checkpoints), over all resumed segments
    train_seconds: float = 0.0  # forward + backward + optimizer only: the basis of pairs/s
    evals: list[dict[str, Any]] = field(default_factory=list)
    best_step: int | None = None
    best_val_loss: float = math.inf
    bad_evals: int = 0  # evaluations since the last improvement
    stopped_early: bool = False
    loss_sum: float = 0.0  # training loss since the last evaluation
    loss_count: int = 0

    def record_eval(self, val_loss: float, patience: int) -> bool:
        """Log a validation loss at the current step; True if it is the best so far (keep these weights).

        ``patience`` evaluations in a row without improvement set ``stopped_early``.
        """
        train_loss = self.loss_sum / self.loss_count if self.loss_count else None
        self.evals.append({"step": self.step, "val_loss": val_loss, "train_loss": train_loss})
        self.loss_sum, self.loss_count = 0.0, 0
        if val_loss < self.best_val_loss:
            self.best_step, self.best_val_loss, self.bad_evals = self.step, val_loss, 0
            return True
        self.bad_evals += 1
        self.stopped_early = self.bad_evals >= patience
        return False
