"""The registry of evaluation tasks: a name, the datasets it reads, and the function that runs it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from repro.data import lareqa, tatoeba, tydi
from repro.errors import ReproError
from repro.evaluation.lareqa import evaluate_lareqa
from repro.evaluation.result import TaskResult
from repro.evaluation.tatoeba import evaluate_tatoeba
from repro.evaluation.tydi import evaluate_tydi
from repro.models.encoder import Encoder


@dataclass(frozen=True)
class Task:
    """An evaluation task: ``run(encoder, langs, limit, progress)`` and what it needs."""

    name: str
    description: str
    datasets: tuple[str, ...]
    run: Callable[..., TaskResult]
    check_languages: Callable[[list[str] | None], list[str]]


TASKS: dict[str, Task] = {
    "xquad-r": Task(
        "xquad-r",
        "XQuAD-R answer-sentence retrieval, 11 languages, Mo/Cr/Mul + rank distance",
        ("xquad-r",),
        partial(evaluate_lareqa, dataset="xquad-r"),
        partial(lareqa.check_languages, "xquad-r"),
    ),
    "mlqa-r": Task(
        "mlqa-r",
        "MLQA-R answer-sentence retrieval, 7 languages, Mo/Cr/Mul + rank distance",
        ("mlqa-r",),
        partial(evaluate_lareqa, dataset="mlqa-r"),
        partial(lareqa.check_languages, "mlqa-r"),
    ),
    "tatoeba": Task(
        "tatoeba",
        "Tatoeba bitext retrieval accuracy xx->en and en->xx, 112 languages",
        ("tatoeba",),
        evaluate_tatoeba,
        tatoeba.check_languages,
    ),
    "tydi-goldp": Task(
        "tydi-goldp",
        "TyDi-GoldP question->passage retrieval, 9 languages, nDCG@10 and R@100",
        ("tydi-goldp",),
        evaluate_tydi,
        tydi.check_languages,
    ),
}


def get_task(name: str) -> Task:
    """The task called ``name``; an unknown name is a ReproError listing the known ones."""
    if name not in TASKS:
        raise ReproError(f"unknown task '{name}'; known tasks: {', '.join(TASKS)}")
    return TASKS[name]


def run_task(
    name: str, encoder: Encoder, langs: Sequence[str] | None = None, limit: int | None = None, progress: bool = True
) -> TaskResult:
    """Run task ``name`` with ``encoder``."""
    return get_task(name).run(encoder=encoder, langs=langs, limit=limit, progress=progress)
