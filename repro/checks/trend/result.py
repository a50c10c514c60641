"""The trend check's typed result: group gains, curves, the languages-as-units answer, the question's model."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from repro.checks.base import CheckResult, Table, Verdict
from repro.checks.question import ModelTerm, finding_of
from repro.checks.stats.groups import Answer, ClassRegression, UnitEstimate
from repro.checks.stats.seed_test import MIN_SEEDS


class GroupGain(BaseModel):
    """A gain (or a difference of gains) at ``at`` over ``reference``, with its interval and how it was estimated."""

    observed: float
    low: float
    high: float
    p_positive: float | None = Field(
        default=None, description="the t-distribution's P(true value > 0); None for the bootstrap"
    )
    p_value: float | None = Field(default=None, description="two-sided, against 0")
    n_seeds: int = 0
    n_langs: int = 0
    method: str = ""


class ClassSlope(BaseModel):
    """Gain = intercept + slope * Joshi class over the seen languages (languages as units)."""

    slope: float
    low: float
    high: float
    p_value: float
    df: float
    p_positive: float | None = Field(default=None, description="probability that the true slope is positive")
    intercept: float
    classes: dict[str, int]
    gains: dict[str, float]


class CurvePoint(GroupGain):
    """A group's gain at one grid value."""

    x: float


class GainCurve(BaseModel):
    """One group of languages' gain over the reference at every grid value with results.

    ``by``: a Joshi class (``joshi_class``) or a resource group (``resource``: low = classes 0-3,
    high = 4-5), always of seen or of unseen languages apart. The gain at the reference is 0 by
    definition and not listed.
    """

    name: str
    by: Literal["class", "group"]
    seen: bool
    joshi_class: int | None = None
    resource: str | None = None
    langs: list[str]
    reference: float
    points: list[CurvePoint] = Field(default_factory=list)


class LanguageUnits(BaseModel):
    """The languages-as-units answer at ``at`` on one population of languages (seen, unseen or all)."""

    low: list[str]
    high: list[str]
    difference: GroupGain | None = Field(default=None, description="low - high, Welch over languages")
    slope: ClassSlope | None = Field(default=None, description="gain per Joshi class over these languages")
    finding: Answer
    reason: str


class TrendResult(CheckResult):
    """A trend check's result: group gains, the languages-as-units answer, and the answer in words."""

    gain_at: dict[str, GroupGain] = Field(
        default_factory=dict, description="group -> gain at `at` (seed x item tests of those languages)"
    )
    class_difference: GroupGain | None = Field(default=None, description="low - high with languages as units (Welch)")
    bootstrap_difference: GroupGain | None = Field(
        default=None, description="low - high, hierarchical bootstrap over languages within groups, items and seeds"
    )
    class_slope: ClassSlope | None = Field(default=None, description="regression of the gain on the Joshi class")
    finding: Answer | None = Field(default=None, description="low-resource languages gain more / less / ...")
    finding_reason: str = ""
    n_seeds: int = Field(default=0, description="seed pairs at `at` against the reference")
    answer: str | None = Field(default=None, description="the answer in words; None without low and high groups")
    curves: list[GainCurve] = Field(
        default_factory=list, description="gain vs x per Joshi class and group, seen/unseen"
    )
    splits: dict[str, LanguageUnits] = Field(
        default_factory=dict, description="'seen', 'unseen', 'all' -> the languages-as-units answer on them"
    )
    units: str = Field(default="seen", description="the population of `splits` that gives `finding`")
    items: str = Field(default="", description="what an item is here: parallel questions or per-language queries")
    missing: list[str] = Field(default_factory=list, description="grid points the profile plans without results")
    model: list[ModelTerm] = Field(
        default_factory=list,
        description="the question's regression over languages (low-resource, unseen, headroom; per-class variant), "
        "on the metric's and the logit scale, Holm-adjusted over the question",
    )
    margin: float | None = Field(
        default=None, description="equivalence margin on the metric's scale, stated in the registry"
    )
    margin_logit: float | None = Field(default=None, description="equivalence margin on the logit scale")
    slopes: dict[str, float] = Field(default_factory=dict, description="per language: slope of the metric along x")
    hypothesis: str | None = None
    min_seeds: int = Field(default=MIN_SEEDS, description="seed pairs a decision needs (1: fixed models)")
    task: str = ""
    metric: str = Field(default="", description="the metric as the check names it")
    lower_is_better: bool = False
    x: str = "alpha"
    at: float | None = None
    reference: float | None = None

    def redecided(self, terms: list[ModelTerm], family: int) -> TrendResult:
        """This result with its model terms Holm-adjusted over the question (``family`` tests) and its
        finding, verdict and answer re-decided from them."""
        finding, why = finding_of(terms, self.metric, self.n_seeds, self.min_seeds)
        why = f"{why}; Holm over {family} tests of the question"
        others = [t for t in self.tables if not t.title.startswith(MODEL_TABLE)]
        update: dict[str, Any] = {
            "model": terms,
            "finding": finding,
            "finding_reason": why,
            "tables": [model_table(terms, self.x, self.at, self.reference), *others],
        }
        if self.hypothesis == "low-gains-more":
            update["verdict"] = verdict_of(self.hypothesis, finding)
        answer = self.answer
        if answer:
            answer = answer.rsplit(" Do low-resource languages gain more?", 1)[0]
            answer += f" Do low-resource languages gain more? {finding} ({why})."
        update["answer"] = answer
        return self.model_copy(update=update)


MODEL_TABLE = "The question's model over languages"


def model_table(terms: list[ModelTerm], x: str, at: float | None, ref: float | None) -> Table:
    """One row per model term: estimate, interval, p and TOST p, raw and Holm-adjusted."""

    def p(v: float | None) -> Any:
        return None if v is None else round(v, 4)

    return Table(
        title=f"{MODEL_TABLE}: gain at {x}={at} over {x}={ref} regressed on low-resource (Joshi 0-3) or Joshi "
        "class, unseen and headroom; languages as units, seed variance included, df = min(seed pairs - 1, "
        "languages - terms); Holm over every test of the research question",
        columns=[
            "model",
            "scale",
            "term",
            "estimate",
            "95% CI",
            "p",
            "p (Holm)",
            "margin",
            "TOST p",
            "TOST p (Holm)",
            "languages",
            "seed pairs",
            "left out",
        ],
        rows=[
            [
                t.model,
                t.scale,
                t.term,
                round(t.estimate, 4),
                f"[{t.low:+.4f}, {t.high:+.4f}]",
                p(t.p_value),
                p(t.p_adjusted),
                t.margin,
                p(t.p_equivalence),
                p(t.p_equivalence_adjusted),
                t.n_langs,
                t.n_seeds,
                " ".join(t.dropped) or "-",
            ]
            for t in terms
        ],
    )


def verdict_of(hypothesis: str | None, finding: str | None) -> Verdict:
    if hypothesis != "low-gains-more":
        return Verdict.NOT_CHECKED
    return {
        "more": Verdict.REPRODUCED,
        "less": Verdict.NOT_REPRODUCED,
        "equivalent": Verdict.NOT_REPRODUCED,
    }.get(str(finding), Verdict.INCONCLUSIVE)


def gain_of(est: UnitEstimate, method: str) -> GroupGain:
    return GroupGain(
        observed=est.estimate,
        low=est.low,
        high=est.high,
        p_positive=est.p_positive,
        p_value=est.p_value,
        n_langs=est.n_units,
        method=method,
    )


def slope_of(reg: ClassRegression) -> ClassSlope:
    s = reg.slope
    return ClassSlope(
        slope=s.estimate,
        low=s.low,
        high=s.high,
        p_value=s.p_value,
        df=s.df,
        p_positive=s.p_positive,
        intercept=reg.intercept,
        classes=reg.classes,
        gains=reg.gains,
    )


def close(a: Any, b: Any) -> bool:
    """Two grid values are the same point (floats read from YAML and from folder names)."""
    return abs(float(a) - float(b)) < 1e-9
