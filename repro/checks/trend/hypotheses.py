"""Hypothesis rules of the trend check: name -> rule(check, result) -> (verdict, confidence)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from repro.checks.base import Verdict
from repro.checks.stats.seed_test import outcome_of
from repro.checks.trend.result import TrendResult, verdict_of
from repro.errors import ReproError

if TYPE_CHECKING:
    from repro.checks.trend.spec import TrendSpec

# registry's ``plugins: {hypotheses: {name: "module:function"}}``).
HypothesisRule = Callable[["TrendSpec", TrendResult], tuple[Verdict, float | None]]
HYPOTHESES: dict[str, HypothesisRule] = {}


def register_hypothesis(name: str, rule: Any = None) -> Any:
    """Register ``rule`` under ``name``; without ``rule``, a decorator that does."""

    def add(fn: HypothesisRule) -> HypothesisRule:
        if not callable(fn):
            raise ReproError(f"hypothesis {name}: {fn!r} is not a function (check, result) -> (verdict, confidence)")
        HYPOTHESES[name] = fn
        return fn

    return add if rule is None else add(rule)


def known_hypotheses() -> dict[str, HypothesisRule]:
    """Every registered hypothesis rule: this module's and the entry points' (repro's own included)."""
    from repro.plugins import entry_points

    for name, rule in entry_points("hypotheses").items():
        HYPOTHESES.setdefault(name, rule)
    return HYPOTHESES


@register_hypothesis("low-gains-more")
def low_gains_more(check: TrendSpec, r: TrendResult) -> tuple[Verdict, float | None]:
    """Low-resource languages gain more at ``at``: the languages-as-units finding "more" -> reproduced, "less" -> not."""
    # "equivalent" (inside the stated margin) refutes "gains more" as much as "less" does; the deciding
    # numbers are the model's terms in the result, not a confidence (docs/statistics.md).
    return verdict_of("low-gains-more", r.finding), None


def _group_gains(name: str, r: TrendResult) -> tuple[Verdict, float | None]:
    if name not in r.gain_at:
        return Verdict.NOT_CHECKED, None
    g = r.gain_at[name]
    # Untrained models (min_seeds 1) are decided over languages and items, as comparisons are.
    outcome, _ = outcome_of(g.n_seeds, g.p_value if g.p_value is not None else 1.0, g.observed, min_seeds=r.min_seeds)
    verdict = {"supported": Verdict.REPRODUCED, "contradicted": Verdict.NOT_REPRODUCED}.get(
        outcome, Verdict.INCONCLUSIVE
    )
    return verdict, None


@register_hypothesis("unseen-gain")
def unseen_gain(check: TrendSpec, r: TrendResult) -> tuple[Verdict, float | None]:
    """Held-out languages gain at ``at`` (a seed x item test of their mean gain)."""
    return _group_gains("unseen", r)


@register_hypothesis("gains")
def group_gains(check: TrendSpec, r: TrendResult) -> tuple[Verdict, float | None]:
    """The check's ``group`` (one of its ``groups``, or low / high / unseen) gains at ``at``."""
    if check.group is None:
        raise ReproError("hypothesis gains needs `group:` (one of the check's groups, or low, high, unseen)")
    return _group_gains(check.group, r)
