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

import numpy as np
from pydantic import BaseModel, Field
from scipy import stats

from repro.checks.base import CheckResult, Part, Table, Verdict
from repro.checks.context import CheckContext
from repro.checks.measurements import Metric, arm_per_query, item_clusters, paired_items
from repro.checks.stats.design import PairedDesign, build_design
from repro.checks.stats.family import holm
from repro.checks.stats.power import planning_note
from repro.checks.stats.seed_test import MIN_SEEDS, Outcome, SeedTest, decide, outcome_of, seed_t_test


def arms_design(
    ctx: CheckContext, a: str, b: str, metric: Metric, langs: list[str] | None = None
) -> tuple[PairedDesign, dict[Any, dict[str, tuple[np.ndarray, np.ndarray]]], dict[Any, Any]]:
    """The paired design of ``a - b`` (items nested in their articles where the task has them),
    and both arms' per-query values (for the unpaired sensitivity)."""
    pa, pb = arm_per_query(ctx, a, metric, langs), arm_per_query(ctx, b, metric, langs)
    items, seeds = paired_items(pa, pb)
    return build_design(items, seeds).clustered(item_clusters(metric.task)), pa, pb


def arms_test(
    ctx: CheckContext,
    a: str,
    b: str,
    metric: Metric,
    direction: int,
    margin: float = 0.0,
    langs: list[str] | None = None,
    equivalence: bool = False,
) -> SeedTest:
    """The seed-level test of ``a - b`` on ``metric`` (``equivalence``: of ``|a - b| < margin``)."""
    design, _, _ = arms_design(ctx, a, b, metric, langs)
    return seed_t_test(design, direction=direction, margin=margin, equivalence=equivalence)


def _arm_seed_means(per_query: dict[Any, dict[str, tuple[np.ndarray, np.ndarray]]], design: PairedDesign) -> np.ndarray:
    """Each model's statistic ``sum_l w_l mean(values)`` over the design's queries of each language."""
    out = []
    for by_lang in per_query.values():
        total = 0.0
        for lang in design.langs:
            ids, vals = by_lang[lang]
            keep = np.array([design.items[j] for j in design.index[lang]], dtype=object)
            key = np.array([str(x).split(":", 1)[1] if str(x).startswith(f"{lang}:") else f"{lang}|{x}" for x in ids])
            pos = {k: i for i, k in enumerate(key)}
            total += design.weights[lang] * float(np.mean([vals[pos[k]] for k in keep if k in pos]))
        out.append(total)
    return np.array(out)


def unpaired_p(test: SeedTest, design: PairedDesign, pa: dict[Any, Any], pb: dict[Any, Any]) -> float:
    """The test's two-sided p with A's and B's seeds taken as independent samples (no pairing by seed).

    Variance ``var(T^A) / k_A + var(T^B) / k_B`` plus the item term the arms share, on
    ``min(k_A, k_B) - 1`` degrees of freedom (Hsu's conservative Welch rule; a single fixed model
    contributes no seed variance). A decision that holds paired but not unpaired rests on the pairing.
    """
    if not test.se > 0:
        return float("nan")
    ta, tb = _arm_seed_means(pa, design), _arm_seed_means(pb, design)
    var, dfs = float(test.components.item), []
    for t in (ta, tb):
        if len(t) > 1:
            var += float(np.var(t, ddof=1)) / len(t)
            dfs.append(len(t) - 1)
    se = float(np.sqrt(var))
    if not se > 0:
        return float("nan")
    df = float(min(dfs)) if dfs else float(test.components.n_items - 1)
    if test.equivalence:
        from repro.checks.stats.seed_test import equivalence_p

        if abs(test.estimate) < test.margin:
            return equivalence_p(test.estimate, se, df, test.margin)
        return float(2 * stats.t.sf((abs(test.estimate) - test.margin) / se, df))
    return float(2 * stats.t.sf(abs(test.shift) / se, df))


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
    ``shift`` is how far the estimate lies on the claimed side of the margin (its sign says which
    way a decision goes); the sensitivity fields say what the decision rests on: the pairing by
    seed (``p_unpaired``) and the nesting of items in articles (``se_unclustered``).
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
    shift: float | None = Field(
        default=None, description="claimed effect minus margin (inside the margin: equivalence)"
    )
    hypothesis: str = Field(default="", description="what is tested, in words (A - B > 0, |A - B| < 0.02, ...)")
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
    p_unpaired: float | None = Field(default=None, description="two-sided p with the seeds unpaired (sensitivity)")
    p_unpaired_adjusted: float | None = Field(default=None, description="Holm over the family, seeds unpaired")
    se_unclustered: float | None = Field(default=None, description="standard error with items not nested in articles")
    n_clusters: int | None = Field(default=None, description="articles the items nest in (None: not clustered)")
    power_note: str = ""
    context: list[Any] = Field(default_factory=list, description="the check's own cells for this test's table row")

    @property
    def claimed_shift(self) -> float:
        """``shift``, or for results stored before it existed, ``direction * estimate - margin``."""
        return self.direction * self.estimate - self.margin if self.shift is None else self.shift

    def decided(self, p_adjusted: float, family_size: int, p_unpaired_adjusted: float | None = None) -> ArmTest:
        """This test with its outcome re-decided from ``p_adjusted`` (Holm over ``family_size`` tests)."""
        outcome, reason = outcome_of(self.n_seeds, p_adjusted, self.claimed_shift, min_seeds=self.min_seeds, se=self.se)
        if outcome == "undecided" and p_adjusted > 0.05 >= self.p_value and family_size > 1:
            reason = f"p = {self.p_value:.3g}, Holm-adjusted over {family_size} tests {p_adjusted:.3g}"
        return self.model_copy(
            update={
                "p_adjusted": p_adjusted,
                "family_size": family_size,
                "outcome": outcome,
                "reason": reason,
                "p_unpaired_adjusted": p_unpaired_adjusted,
            }
        )

    def number(self) -> str:
        """The decisive quantity in words: the estimate, its interval and the adjusted p."""
        fam = f" (Holm, {self.family_size} tests)" if self.family_size > 1 else ""
        return (
            f"{self.name}: A - B {self.estimate:+.4g}, 95% CI [{self.low:+.4g}, {self.high:+.4g}], "
            f"p{fam} = {self.p_adjusted:.3g}"
        )


def hypothesis_text(test: SeedTest) -> str:
    """What ``test`` tests, in words."""
    if test.equivalence:
        return f"|A - B| < {test.margin:g}"
    sign = ">" if test.direction > 0 else "<"
    bound = test.direction * test.margin
    return f"A - B {sign} {bound:+g}" if bound else f"A - B {sign} 0"


def arm_test(
    name: str,
    key: str,
    test: SeedTest,
    context: Sequence[Any] = (),
    min_seeds: int = MIN_SEEDS,
    design: PairedDesign | None = None,
    per_query: tuple[dict[Any, Any], dict[Any, Any]] | None = None,
) -> ArmTest:
    """An :class:`ArmTest` from a seed-level test, decided on its own (a family of one).

    ``min_seeds`` is 1 for fixed models (:func:`fixed_models`): more seeds cannot help them, more items can.
    With the ``design`` (and both arms' ``per_query`` values) it also records the sensitivity of the
    decision to the nesting of items in articles and to the pairing by seed.
    """
    outcome, reason = decide(test, min_seeds=min_seeds)
    se_unclustered = n_clusters = p_unpaired = None
    if design is not None and design.clusters is not None:
        n_clusters = design.n_clusters
        se_unclustered = float(
            seed_t_test(design, test.direction, test.margin, clustered=False, equivalence=test.equivalence).se
        )
    if design is not None and per_query is not None:
        p_unpaired = unpaired_p(test, design, *per_query)
    if outcome not in ("undecided",):
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
        shift=test.shift,
        hypothesis=hypothesis_text(test),
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
        p_unpaired=p_unpaired,
        p_unpaired_adjusted=p_unpaired,
        se_unclustered=se_unclustered,
        n_clusters=n_clusters,
    )


def adjusted(tests: Sequence[ArmTest]) -> list[ArmTest]:
    """``tests`` re-decided with Holm's adjustment over them (tests with the same key count once)."""
    keys = list(dict.fromkeys(t.key for t in tests))
    p_of = {t.key: t.p_value for t in tests}
    adj = dict(zip(keys, holm([p_of[k] for k in keys])))
    unp = {t.key: (np.nan if t.p_unpaired is None else t.p_unpaired) for t in tests}
    adj_unp = dict(zip(keys, holm([unp[k] for k in keys])))
    return [t.decided(adj[t.key], len(keys), None if np.isnan(adj_unp[t.key]) else adj_unp[t.key]) for t in tests]


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

    def parts(self) -> list[Part]:
        """One part per test: a claim against two arms is two statements, each decided on its own."""
        if not self.tests:
            return super().parts()
        label = self.label or self.kind
        return [
            Part(
                name=f"{label} [{t.name}]" if len(self.tests) > 1 else label,
                verdict=outcome_verdict(t.outcome),
                number=t.number(),
                estimate=t.estimate,
                low=t.low,
                high=t.high,
                p_adjusted=t.p_adjusted,
                family_size=t.family_size,
            )
            for t in self.tests
        ]

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


def _sensitivity(t: ArmTest) -> str:
    """Paired vs unpaired and clustered vs unclustered, for the tests table."""
    parts = []
    if t.p_unpaired_adjusted is not None:
        parts.append(f"unpaired p (Holm) {t.p_unpaired_adjusted:.3g}")
    if t.se_unclustered is not None and t.n_clusters is not None:
        parts.append(f"se {t.se:.3g} by {t.n_clusters} articles vs {t.se_unclustered:.3g} by question")
    return "; ".join(parts) or "-"


def tests_table(title: str, context_columns: Sequence[str], tests: Sequence[ArmTest]) -> Table:
    """One row per test: the check's context cells, then estimate, interval, seeds, items, p-values,
    outcome and the decision's sensitivity (seeds unpaired, items not nested in articles)."""
    columns = [
        *context_columns,
        "tested",
        "A - B",
        "95% CI",
        "seed pairs",
        "items",
        "p",
        "p (Holm)",
        "outcome",
        "seeds for 80% power",
        "sensitivity",
    ]
    rows = [
        [
            *t.context,
            t.hypothesis or "-",
            round(t.estimate, 4),
            f"[{t.low:+.4f}, {t.high:+.4f}]",
            t.n_seeds,
            t.n_items,
            round(t.p_value, 4),
            round(t.p_adjusted, 4),
            t.outcome if t.outcome != "undecided" else t.reason,
            "" if t.outcome != "undecided" else (t.seeds_needed or "-"),
            _sensitivity(t),
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
        "no variation": Verdict.NOT_CHECKED,
    }[outcome]


def combine(verdicts: Sequence[Verdict]) -> Verdict:
    """The verdict of a statement made of parts (a claim against several arms; a claim of several checks).

    The rules (docs/statistics.md, "From parts to a verdict"): one decided contradiction ->
    not reproduced, whatever else held; every part decided and held -> reproduced; some held and
    the others undecided or not measured -> partially reproduced; nothing decided -> inconclusive
    if any part was looked at, not checked otherwise. A partial part counts as held and undecided.
    """
    if any(v == Verdict.NOT_REPRODUCED for v in verdicts):
        return Verdict.NOT_REPRODUCED
    if verdicts and all(v == Verdict.REPRODUCED for v in verdicts):
        return Verdict.REPRODUCED
    if any(v in (Verdict.REPRODUCED, Verdict.PARTIAL) for v in verdicts):
        return Verdict.PARTIAL
    if any(v == Verdict.INCONCLUSIVE for v in verdicts):
        return Verdict.INCONCLUSIVE
    return Verdict.NOT_CHECKED


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
