"""Declared measures and settings: what a task reports, each with the metadata others read.

A :class:`MeasureSpec` is one number a task's results hold (``"mAP"``, ``"rank distance"``,
``"xx->en"``): which way is better, how many decimals it reads with, whether results keep it per
language and per query, and which ranking measure of :mod:`repro.evaluation.metrics` computes it
(none for a task that computes the value itself, such as Tatoeba's accuracy). A
:class:`Setting` is one way of running a task (the paper's Mo / Cr / Mul) with its measures, the
ones the sweep summary shows, and whether its per-query values are published.

The declarations carry no computation, in the spirit of ir_measures: tasks list them in
:mod:`repro.evaluation.tasks`, the evaluators compute what they list, and claim parsing, the sweep
summary, per-query publishing and the report read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from repro.evaluation.metrics import AP, NDCG, RR, Measure, RankDistance, Recall

__all__ = [
    "MAP",
    "MRR10",
    "NDCG10",
    "R1",
    "R10",
    "R100",
    "RANK_DISTANCE",
    "MeasureSpec",
    "Setting",
    "declare",
]


@dataclass(frozen=True)
class MeasureSpec:
    """One measure a task reports.

    ``name``: how claims and the sweep summary write it, after the setting's label (``Mul mAP``)
    unless ``labelled`` is false: a measure only one setting has by nature goes without
    (``rank distance`` exists only for the multilingual pool).
    ``column``: its key in result tables when that differs from ``name`` (Tatoeba stores the mean of
    both directions as ``mean`` and the summary calls it ``acc``). ``aliases``: other spellings a
    claim may use. ``per_language``: results hold a value per language, not only the macro average.
    ``per_query``: results hold per-query values with query ids, so a bootstrap can pair on them.
    """

    name: str
    computed_by: Measure | None = None
    higher_is_better: bool = True
    decimals: int = 4
    column: str = ""
    aliases: tuple[str, ...] = ()
    labelled: bool = True
    per_language: bool = True
    per_query: bool = True

    @property
    def key(self) -> str:
        """The column of result tables (and per-query arrays) that holds this measure."""
        return self.column or self.name


def declare(measure: Measure, **meta: object) -> MeasureSpec:
    """A declaration computed by ``measure`` and named after it (``declare(Recall(5))`` is ``R@5``)."""
    return MeasureSpec(measure.name, computed_by=measure, **meta)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Setting:
    """One way of running a task and what it reports.

    ``key``: the setting's key in results (``summary[key]``, ``tables[key]``, per-query
    ``key/row/measure``). ``label``: how claims write it in front of a measure (``Mul``); empty for
    a task with a single setting. ``headline`` and ``by_language``: names of the measures the sweep
    summary keeps as macro averages and per language. ``publish_per_query``: whether the runner
    publishes this setting's per-query arrays beside the results (the step store keeps them all).
    """

    key: str
    label: str
    description: str
    measures: tuple[MeasureSpec, ...]
    headline: tuple[str, ...] = ()
    by_language: tuple[str, ...] = ()
    publish_per_query: bool = True

    def __post_init__(self) -> None:
        names = [m.name for m in self.measures]
        if len(set(names)) != len(names):
            raise ValueError(f"setting {self.key} declares a measure twice: {names}")
        for name in self.headline + self.by_language:
            if name not in names:
                raise ValueError(f"setting {self.key} summarises '{name}', which it does not declare ({names})")
        for name in self.by_language:
            if not self.measure(name).per_language:  # type: ignore[union-attr]
                raise ValueError(f"setting {self.key} summarises '{name}' per language, which it has no rows for")

    def measure(self, name: str) -> MeasureSpec | None:
        """The declared measure called ``name`` (exact spelling), or None."""
        return next((m for m in self.measures if m.name == name), None)

    def computed(self) -> tuple[Measure, ...]:
        """The ranking measures an evaluator computes for this setting, in declaration order."""
        return tuple(m.computed_by for m in self.measures if m.computed_by is not None)


# The measures the paper's tasks report (metrics.py computes them; trec_eval semantics).
MAP = declare(AP())
R1 = declare(Recall(1))
R10 = declare(Recall(10))
R100 = declare(Recall(100))
MRR10 = declare(RR(10))
NDCG10 = declare(NDCG(10))
# Huang et al. (2023)'s language bias: ranks apart, so smaller is better; whole ranks, one decimal.
RANK_DISTANCE = declare(RankDistance(), higher_is_better=False, decimals=1, aliases=("language bias",), labelled=False)
