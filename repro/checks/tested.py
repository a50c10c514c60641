"""Results of statistical checks: the tests behind a verdict, and Holm's adjustment across a claim.

A comparison or reported check decides from one or more seed-level tests of two arms
(:func:`arms_test`, :mod:`repro.checks.stats.seed_test`). Each becomes an :class:`ArmTest` in the
check's typed result, with its interval, raw and adjusted p-value, outcome, and, when undecided,
how many seeds would decide it (:mod:`repro.checks.stats.power`). A check adjusts its own tests as one family;
the verify loop then calls :func:`adjust_family` with all results of a claim, which re-decides every
statistical check with Holm's adjustment over all of the claim's tests (docs/statistics.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from repro.checks.base import CheckResult, Table, Verdict
from repro.checks.context import CheckContext
from repro.checks.measurements import Metric, arm_per_query, paired_items
from repro.checks.stats.design import build_design
from repro.checks.stats.family import holm
from repro.checks.stats.power import planning_note
from repro.checks.stats.seed_test import MIN_SEEDS, Outcome, SeedTest, decide, outcome_of, seed_t_test


def arms_test(
    ctx: CheckContext,
    a: str,
    b: str,
    metric: Metric,
    direction: int,
    margin: float = 0.0,
    langs: list[str] | None = None,
) -> SeedTest:
    """The seed-level test of ``a - b`` on ``metric``."""
    items, seeds = paired_items(arm_per_query(ctx, a, metric, langs), arm_per_query(ctx, b, metric, langs))
    return seed_t_test(build_design(items, seeds), direction=direction, margin=margin)


def fixed_models(ctx: CheckContext, *arms: str) -> bool:
    """Whether no arm's models were trained: points of an evaluation-only experiment (or of a command
    experiment without a ``seed`` axis), or a base model.

    Such models are fixed weights evaluated deterministically, so their difference has no seed
    variance: a test of them is decided over the items alone (one "seed pair" is all there is),
    whereas one trained arm brings training seeds and the :data:`MIN_SEEDS` rule back.
    """
    for name in arms:
        arm = ctx.arm(name)
        exp = ctx.experiment(arm.experiment) if arm.point is not None else None
        # A command experiment's program trains when its grid has seeds: they are training seeds.
        if exp is not None and (exp.trains or (exp.runs_command and "seed" in exp.grid)):
            return False
    return True


def tested_key(task: str, metric: str, a: str, b: str, langs: list[str] | None, margin: float = 0.0) -> str:
    """What a test tests, so that two checks testing the same difference count once in a family."""
    return f"{task}|{metric}|{a}-{b}|{','.join(sorted(langs)) if langs else 'all'}|{margin:g}"


class ArmTest(BaseModel):
    """One seed-level test of ``A - B`` against a margin in the claimed direction.

    ``key`` names the data tested: two checks of one claim that test the same difference (a
    comparison and a reported check of hybrid vs mono) count once in the claim's family.
    """

    name: str
    key: str
    estimate: float
    low: float
    high: float
    se: float
    df: float
    p_value: float = Field(description="two-sided, against the margin, unadjusted")
    p_adjusted: float = Field(description="Holm-adjusted over the family that decided the outcome")
    p_direction: float = Field(description="probability that the claimed direction holds")
    direction: int
    margin: float = 0.0
    n_seeds: int
    min_seeds: int = Field(default=MIN_SEEDS, description="seed pairs a decision needs (1: fixed models, no seeds)")
    n_items: int
    n_queries: int
    seed_var: float | None = Field(description="variance of one seed pair's statistic, items fixed")
    item_var: float = Field(description="variance of the estimate from the items, shared by the seed pairs")
    family_size: int = 1
    outcome: Outcome
    reason: str
    seeds_needed: int | None = Field(default=None, description="seed pairs for 80% power at the observed effect")
    power_note: str = ""
    context: list[Any] = Field(default_factory=list, description="the check's own cells for this test's table row")

    def decided(self, p_adjusted: float, family_size: int) -> ArmTest:
        """This test with its outcome re-decided from ``p_adjusted`` (Holm over ``family_size`` tests)."""
        outcome, reason = outcome_of(
            self.n_seeds, p_adjusted, self.direction * self.estimate - self.margin, min_seeds=self.min_seeds
        )
        if outcome == "undecided" and p_adjusted > 0.05 >= self.p_value and family_size > 1:
            reason = f"p = {self.p_value:.3g}, Holm-adjusted over {family_size} tests {p_adjusted:.3g}"
        return self.model_copy(
            update={"p_adjusted": p_adjusted, "family_size": family_size, "outcome": outcome, "reason": reason}
        )


def arm_test(name: str, key: str, test: SeedTest, context: Sequence[Any] = (), min_seeds: int = MIN_SEEDS) -> ArmTest:
    """An :class:`ArmTest` from a seed-level test, decided on its own (a family of one).

    ``min_seeds`` is 1 for fixed models (:func:`fixed_models`): more seeds cannot help them, more items can.
    """
    outcome, reason = decide(test, min_seeds=min_seeds)
    if outcome != "undecided":
        seeds, note = None, ""
    elif min_seeds <= 1:
        seeds, note = (
            None,
            f"fixed models (no training seeds): only more items narrow the interval (now {test.n_items})",
        )
    else:
        seeds, note = planning_note(test)
    comp = test.components
    return ArmTest(
        name=name,
        key=key,
        estimate=test.estimate,
        low=test.low,
        high=test.high,
        se=test.se,
        df=test.df,
        p_value=test.p_value,
        p_adjusted=test.p_value,
        p_direction=test.p_direction,
        direction=test.direction,
        margin=test.margin,
        n_seeds=test.n_seeds,
        min_seeds=min_seeds,
        n_items=test.n_items,
        n_queries=test.n_queries,
        seed_var=None if comp.seed is None else float(comp.seed),
        item_var=float(comp.item),
        outcome=outcome,
        reason=reason,
        seeds_needed=seeds,
        power_note=note,
        context=list(context),
    )


def adjusted(tests: Sequence[ArmTest]) -> list[ArmTest]:
    """``tests`` re-decided with Holm's adjustment over them (tests with the same key count once)."""
    keys = list(dict.fromkeys(t.key for t in tests))
    p_of = {t.key: t.p_value for t in tests}
    adj = dict(zip(keys, holm([p_of[k] for k in keys])))
    return [t.decided(adj[t.key], len(keys)) for t in tests]


class StatisticalResult(CheckResult):
    """A check result decided by seed-level tests; subclasses say how the tests make the verdict.

    ``tables[0]`` is the tests' table (title ``tests_title``, the check's ``context_columns`` then
    the test's numbers and outcome); :meth:`with_tests` rebuilds it with the verdict and headline.
    """

    tests: list[ArmTest] = Field(default_factory=list)
    statement: str = Field(default="", description="the numbers of the headline, before the outcomes")
    tests_title: str = ""
    context_columns: list[str] = Field(default_factory=list)

    def verdict_of(self, tests: Sequence[ArmTest]) -> Verdict:
        """The check's verdict from its (adjusted) tests; the default combines their outcomes."""
        return combine([outcome_verdict(t.outcome) for t in tests])

    def with_tests(self, tests: Sequence[ArmTest]) -> StatisticalResult:
        """This result re-decided from ``tests``: verdict, headline and tests' table follow their outcomes."""
        tests = list(tests)
        others = [t for t in self.tables if t.title != self.tests_title]
        return self.model_copy(
            update={
                "tests": tests,
                "verdict": self.verdict_of(tests),
                "headline": headline(self.statement, tests),
                "tables": [tests_table(self.tests_title, self.context_columns, tests), *others],
            }
        )


def tests_table(title: str, context_columns: Sequence[str], tests: Sequence[ArmTest]) -> Table:
    """One row per test: the check's context cells, then estimate, interval, seeds, items, p-values, outcome."""
    columns = [
        *context_columns,
        "A - B",
        "95% CI",
        "seed pairs",
        "items",
        "p",
        "p (Holm)",
        "P(claimed direction)",
        "outcome",
        "seeds for 80% power",
    ]
    rows = [
        [
            *t.context,
            round(t.estimate, 4),
            f"[{t.low:+.4f}, {t.high:+.4f}]",
            t.n_seeds,
            t.n_items,
            round(t.p_value, 4),
            round(t.p_adjusted, 4),
            round(t.p_direction, 3),
            t.outcome if t.outcome != "undecided" else t.reason,
            "" if t.outcome != "undecided" else (t.seeds_needed or "-"),
        ]
        for t in tests
    ]
    return Table(title=title, columns=columns, rows=rows)


def outcome_verdict(outcome: Outcome) -> Verdict:
    """A test's outcome as a verdict."""
    return {
        "supported": Verdict.REPRODUCED,
        "contradicted": Verdict.NOT_REPRODUCED,
        "undecided": Verdict.INCONCLUSIVE,
    }[outcome]


def combine(verdicts: Sequence[Verdict]) -> Verdict:
    """Several directional verdicts (one claim against several arms) into one.

    All reproduced -> reproduced; some -> partially reproduced; none and at least one
    contradicted -> not reproduced; else inconclusive.
    """
    if verdicts and all(v == Verdict.REPRODUCED for v in verdicts):
        return Verdict.REPRODUCED
    if any(v in (Verdict.REPRODUCED, Verdict.PARTIAL) for v in verdicts):
        return Verdict.PARTIAL
    if any(v == Verdict.NOT_REPRODUCED for v in verdicts):
        return Verdict.NOT_REPRODUCED
    return Verdict.INCONCLUSIVE


def headline(statement: str, tests: Sequence[ArmTest]) -> str:
    """``statement`` followed by the tests' outcomes (and, when undecided, the seeds that would decide them).

    Tests with the same outcome text (several paper backbones of one difference) are named together.
    """
    texts: dict[str, list[str]] = {}
    for t in tests:
        text = t.outcome if t.outcome != "undecided" else t.reason
        if t.outcome == "undecided" and t.power_note:
            text += f"; {t.power_note}"
        texts.setdefault(text, []).append(t.name)
    if not texts:
        return statement
    if len(texts) == 1:
        return f"{statement}; {next(iter(texts))}"
    return f"{statement}; " + "; ".join(f"{', '.join(names)}: {text}" for text, names in texts.items())


def adjust_family(results: Sequence[CheckResult]) -> list[CheckResult]:
    """A claim's check results with every statistical test Holm-adjusted over the claim's tests.

    Results without tests pass through; with one test in all, nothing changes.
    """
    tested = [r for r in results if isinstance(r, StatisticalResult) and r.tests and r.verdict != Verdict.ERROR]
    all_tests = [t for r in tested for t in r.tests]
    if len({t.key for t in all_tests}) <= 1:
        return list(results)
    redecided = iter(adjusted(all_tests))
    ids = {id(r) for r in tested}
    out: list[CheckResult] = []
    for r in results:
        if isinstance(r, StatisticalResult) and id(r) in ids:
            out.append(r.with_tests([next(redecided) for _ in r.tests]))
        else:
            out.append(r)
    return out
