"""The registry of evaluation tasks: each task's declaration, bound to its evaluator and data.

What a task reports (settings, measures, directions, published per-query values) is declared in
:mod:`repro.evaluation.declarations`; this module adds how it runs. The evaluators read their
task's declaration for the measures they compute, so a :class:`Task` only forwards the call.

Tasks are registered through the entry point group ``repro.tasks`` (the built-ins in repro's own
``pyproject.toml``, a plug-in package's in its own); a registry or experiment file can also name
one as ``module:attribute`` (:func:`register_task`). A plug-in task carries its declaration
(``decl``); it may also say what the ``dataset`` and ``contamination`` checks read of its data
(``facts``, ``texts``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from repro.data import lareqa, tatoeba, tydi
from repro.errors import ReproError
from repro.evaluation.declarations import DECLARATIONS, Declaration, declared, register_declaration
from repro.evaluation.lareqa import evaluate_lareqa
from repro.evaluation.result import TaskResult
from repro.evaluation.subset import Subset
from repro.evaluation.tatoeba import evaluate_tatoeba
from repro.evaluation.tydi import evaluate_tydi
from repro.models.encoder import Encoder


@dataclass(frozen=True)
class Task:
    """An evaluation task: ``run(encoder, langs, subset, progress)``, its languages, its declaration.

    ``evaluate(encoder=, langs=, subset=, progress=)`` computes the result; ``subset`` is the
    :class:`~repro.evaluation.subset.Subset` it keeps (already checked against the task).

    ``decl``: the declaration of a task that is not built in. ``facts``: a function returning the
    task's data as the ``dataset`` check reads it (:class:`DataFacts`); ``texts``: one returning
    ``{"questions": [(language, text), ...], "passages": [...]}`` for the ``contamination`` check.
    """

    name: str
    evaluate: Callable[..., TaskResult]
    check_languages: Callable[[list[str] | None], list[str]]
    decl: Declaration | None = None
    facts: Callable[[], DataFacts] | None = None
    texts: Callable[[], dict[str, list[tuple[str, str]]]] | None = None

    @property
    def declaration(self) -> Declaration:
        """What the task reports (looked up on each use, so a changed declaration is seen at once)."""
        return self.decl or declared(self.name)

    @property
    def description(self) -> str:
        """One line on the task."""
        return self.declaration.description

    @property
    def datasets(self) -> tuple[str, ...]:
        """The datasets the task reads."""
        return self.declaration.datasets

    def run(
        self, encoder: Encoder, langs: Sequence[str] | None = None, subset: Subset | None = None, progress: bool = True
    ) -> TaskResult:
        """Evaluate ``encoder`` on this task, on ``subset`` of it (default: the whole task; see
        :mod:`repro.evaluation.subset`)."""
        subset = (subset or Subset()).check(self.name)
        return self.evaluate(encoder=encoder, langs=langs, subset=subset, progress=progress)


@dataclass(frozen=True)
class DataFacts:
    """What the ``dataset`` check reads of a task's data, per language.

    ``items``: the item ids (questions, examples) of each language; ``candidates``: how many
    candidates (passages, sentences) each language's items are searched in, if the task has any;
    ``passage_of``: item id -> the position of the passage holding its answer, when passages are
    aligned across languages (so ``parallel: full`` can check the passages too).
    """

    languages: tuple[str, ...]
    items: dict[str, list[Any]]
    candidates: dict[str, int] | None = None
    paragraphs: dict[str, int] | None = None
    passage_of: dict[str, dict[Any, int]] | None = None


def _lareqa_facts(dataset: str) -> DataFacts:
    langs = tuple(lareqa.LANGUAGES[dataset])
    data = {lang: lareqa.load_lareqa(dataset, lang) for lang in langs}
    return DataFacts(
        languages=langs,
        items={lang: list(d.questions["parallel_id"]) for lang, d in data.items()},
        candidates={lang: len(d.candidates) for lang, d in data.items()},
        paragraphs={lang: len(set(d.candidates["paragraph"])) for lang, d in data.items()},
        passage_of={
            lang: {
                pid: d.candidates["paragraph"][gold[0]]
                for pid, gold in zip(d.questions["parallel_id"], d.questions["gold"])
            }
            for lang, d in data.items()
        },
    )


def _lareqa_texts(dataset: str) -> dict[str, list[tuple[str, str]]]:
    sides: dict[str, list[tuple[str, str]]] = {"questions": [], "passages": []}
    for lang in lareqa.LANGUAGES[dataset]:
        d = lareqa.load_lareqa(dataset, lang)
        sides["questions"] += [(lang, q) for q in d.questions["question"]]
        sides["passages"] += [(lang, s) for s in d.candidates["sentence"]]
    return sides


# The built-in tasks, registered through repro's own entry points (pyproject.toml, group repro.tasks).
XQUAD_R = Task(
    "xquad-r",
    partial(evaluate_lareqa, dataset="xquad-r"),
    partial(lareqa.check_languages, "xquad-r"),
    facts=partial(_lareqa_facts, "xquad-r"),
    texts=partial(_lareqa_texts, "xquad-r"),
)
MLQA_R = Task(
    "mlqa-r",
    partial(evaluate_lareqa, dataset="mlqa-r"),
    partial(lareqa.check_languages, "mlqa-r"),
    facts=partial(_lareqa_facts, "mlqa-r"),
    texts=partial(_lareqa_texts, "mlqa-r"),
)
TATOEBA = Task("tatoeba", evaluate_tatoeba, tatoeba.check_languages)
TYDI_GOLDP = Task("tydi-goldp", evaluate_tydi, tydi.check_languages)
_BUILT_IN = (XQUAD_R, MLQA_R, TATOEBA, TYDI_GOLDP)

# Pre-registered so that a source checkout without installed metadata knows them; the entry points name the same objects.
TASKS: dict[str, Task] = {task.name: task for task in _BUILT_IN}


def register_task(task: Task, owner: str = "") -> Task:
    """Make ``task`` known under its name (its ``decl`` declared too); returns it."""
    if not isinstance(task, Task):
        raise ReproError(f"task plug-in {owner or task!r} is not a repro.evaluation.tasks.Task")
    if task.decl is not None:
        register_declaration(task.decl, owner=owner or f"task {task.name}")
    elif task.name not in DECLARATIONS:
        raise ReproError(
            f"task {task.name} ({owner or 'plug-in'}) has no declaration: give Task(decl=Declaration(...))"
        )
    TASKS[task.name] = task
    return task


def _load_tasks() -> dict[str, Task]:
    """Every registered task: repro's and installed plug-ins' entry points (the built-ins without metadata too)."""
    from repro.plugins import entry_points

    for name, obj in entry_points("tasks").items():
        if name not in TASKS:
            task = obj() if callable(obj) and not isinstance(obj, Task) else obj
            register_task(task, owner=f"entry point {name}")
    return TASKS


def known_tasks() -> dict[str, Task]:
    """Name -> task of every registered task."""
    return _load_tasks()


def get_task(name: str) -> Task:
    """The task called ``name``; an unknown name is a ReproError with a did-you-mean and the known ones."""
    from repro.plugins import did_you_mean

    if name not in TASKS:
        _load_tasks()
    if name not in TASKS:
        raise ReproError(f"unknown task '{name}'{did_you_mean(name, TASKS)}; known tasks: {', '.join(TASKS)}")
    return TASKS[name]


def run_task(
    name: str,
    encoder: Encoder,
    langs: Sequence[str] | None = None,
    subset: Subset | None = None,
    progress: bool = True,
) -> TaskResult:
    """Run task ``name`` with ``encoder`` on ``subset`` of it."""
    return get_task(name).run(encoder=encoder, langs=langs, subset=subset, progress=progress)
