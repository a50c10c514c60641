"""A plug-in for repro: check kind ``always``, task ``toy-tokens``, trend hypothesis ``never``."""

from __future__ import annotations

from typing import Literal

import numpy as np

from repro.checks.base import Check, CheckResult, Verdict
from repro.evaluation.declarations import Declaration
from repro.evaluation.measures import MeasureSpec, Setting
from repro.evaluation.result import TaskResult
from repro.evaluation.tasks import Task

SENTENCES = [
    "A short one.",
    "Plug-ins register tasks, encoders and check kinds through entry points.",
    "Every built-in kind is registered the same way, in repro's own pyproject.toml.",
    "Die Katze sitzt auf der Matte und schaut aus dem Fenster in den Garten hinaus.",
    "Ein Satz.",
    "Les plug-ins sont des paquets Python ordinaires, installés avec pip.",
]


class AlwaysCheck(Check):
    """Gives the verdict its registry entry asks for (a check kind from outside repro)."""

    kind: Literal["always"] = "always"
    says: Literal["reproduced", "not reproduced"] = "reproduced"

    def run(self, ctx, claim) -> CheckResult:
        return CheckResult(
            verdict=Verdict(self.says), confidence=0.9, headline=f"toy plug-in says {self.says} for {claim.id}"
        )


def evaluate(encoder, langs=None, subset=None, progress=True) -> TaskResult:
    """Tokens per sentence, cut at the encoder's max length: a task that needs the real tokenizer."""
    counts = np.asarray([min(len(ids), encoder.max_length) for ids in encoder.token_ids(SENTENCES)], dtype=float)
    per_query = {"main/en/ids": np.arange(len(SENTENCES)), "main/en/tokens": counts}
    tables = {"main": {"en": {"tokens": float(counts.mean()), "n": len(SENTENCES)}}}
    return TaskResult("toy-tokens", {"main": {"tokens": float(counts.mean())}}, tables, per_query)


TOY_TOKENS = Task(
    "toy-tokens",
    evaluate,
    lambda langs: ["en"],
    decl=Declaration(
        "toy-tokens",
        "tokens per sentence of six fixed sentences",
        (),
        (Setting("main", "", "sentences", (MeasureSpec("tokens"),), headline=("tokens",)),),
    ),
)


def never(check, result):
    """A trend hypothesis rule that is never satisfied."""
    return Verdict.NOT_REPRODUCED, 0.0
