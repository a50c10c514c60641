"""The registry of evaluation tasks: each task's declaration, bound to its evaluator and data.

What a task reports (settings, measures, directions, published per-query values) is declared in
:mod:`repro.evaluation.declarations`; this module adds how it runs. The evaluators read their
task's declaration for the measures they compute, so a :class:`Task` only forwards the call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from repro.data import lareqa, tatoeba, tydi
from repro.errors import ReproError
from repro.evaluation.declarations import DECLARATIONS, Declaration, declared
from repro.evaluation.lareqa import evaluate_lareqa
from repro.evaluation.result import TaskResult
from repro.evaluation.tatoeba import evaluate_tatoeba
from repro.evaluation.tydi import evaluate_tydi
from repro.models.encoder import Encoder


@dataclass(frozen=True)
class Task:
    """An evaluation task: ``run(encoder, langs, limit, progress)``, its languages, its declaration."""

    name: str
    evaluate: Callable[..., TaskResult]
    check_languages: Callable[[list[str] | None], list[str]]

    @property
    def declaration(self) -> Declaration:
        """What the task reports (looked up on each use, so a changed declaration is seen at once)."""
        return declared(self.name)

    @property
    def description(self) -> str:
        """One line on the task."""
        return self.declaration.description

    @property
    def datasets(self) -> tuple[str, ...]:
        """The datasets the task reads."""
        return self.declaration.datasets

    def run(
        self,
        encoder: Encoder,
        langs: Sequence[str] | None = None,
        limit: int | None = None,
        progress: bool = True,
        **subset: Any,
    ) -> TaskResult:
        """Evaluate ``encoder`` on this task. ``subset``: how ``limit`` shrinks it (``sample``,
        ``sample_seed``, ``distractors``; see :mod:`repro.evaluation.subset`)."""
        return self.evaluate(encoder=encoder, langs=langs, limit=limit, progress=progress, **subset)


_RUNS: dict[str, tuple[Callable[..., TaskResult], Callable[[list[str] | None], list[str]]]] = {
    "xquad-r": (partial(evaluate_lareqa, dataset="xquad-r"), partial(lareqa.check_languages, "xquad-r")),
    "mlqa-r": (partial(evaluate_lareqa, dataset="mlqa-r"), partial(lareqa.check_languages, "mlqa-r")),
    "tatoeba": (evaluate_tatoeba, tatoeba.check_languages),
    "tydi-goldp": (evaluate_tydi, tydi.check_languages),
}
TASKS: dict[str, Task] = {name: Task(name, *_RUNS[name]) for name in DECLARATIONS}


def get_task(name: str) -> Task:
    """The task called ``name``; an unknown name is a ReproError listing the known ones."""
    if name not in TASKS:
        raise ReproError(f"unknown task '{name}'; known tasks: {', '.join(TASKS)}")
    return TASKS[name]


def run_task(
    name: str,
    encoder: Encoder,
    langs: Sequence[str] | None = None,
    limit: int | None = None,
    progress: bool = True,
    **subset: Any,
) -> TaskResult:
    """Run task ``name`` with ``encoder`` (``subset``: ``sample``, ``sample_seed``, ``distractors``)."""
    return get_task(name).run(encoder=encoder, langs=langs, limit=limit, progress=progress, **subset)
