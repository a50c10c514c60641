"""Kind ``trend``: per-language metric as a function of a grid value, by language group.

Built for the research question (how do low-resource languages fare as alpha varies)::

    - kind: trend
      experiment: sweep
      task: xquad-r
      metric: Mul mAP
      x: alpha
      reference: 1.0          # gains are measured against pure X-X-mono
      at: 0.5                 # the hypothesis is tested at the paper's hybrid
      hypothesis: low-gains-more

For every language: the metric at each x (mean over seeds) and its gain over the reference
(sign-flipped for lower-is-better metrics, so a gain is always an improvement). Languages are
grouped by resource class (repro/data/resource_classes.yaml, Joshi et al. 2020) and by whether the
training corpus had them (``seen``: every other language is unseen; or ``unseen``: the held-out
ones). At every x, each group's gain is tested like a comparison (seed pairs x items, those
languages as they are), and so is each Joshi class's and resource group's, seen and unseen apart
(``curves``: the gain-vs-x curves with intervals the report draws). Items are the task's: a
question with all its translations on XQuAD-R and MLQA-R; a language's own question or sentence
pair on TyDi-GoldP and Tatoeba, which are not parallel across languages (``items`` says which).

The research question is about classes, so it is answered with languages as units
(docs/statistics.md): Welch's interval for low - high over the languages' gains, a regression of
the gain on the Joshi class with its interval, and a hierarchical bootstrap (languages within
groups, items, seeds) as a second look. ``units`` picks the languages that answer: the seen ones
(default: unseen languages differ in more than their class), or all of them (a task with too few
seen languages in a group, TyDi-GoldP); the other populations are answered too (``splits``).
The answer (``finding``): low-resource languages gain more, less, or no detectably differently,
"undetermined" with fewer than 3 seed pairs or too few languages. Grid points without results
(a profile that does not evaluate the task on trained models, a sweep still running) are left
out and named (``missing``); without results at ``reference`` or ``at`` the check is not checked.
``x``, ``reference`` and ``at`` are the registry's (no defaults). ``groups`` adds named groups of
rows (any rows a task reports: languages, classes...) whose gains are tested beside the resource
groups; ``resource_classes: false`` drops the resource-class grouping (and with it the
languages-as-units answer) for rows that are not languages. ``hypothesis`` names a registered rule (:data:`HYPOTHESES`; plug-ins add rules through
the entry point group ``repro.hypotheses``):

- ``low-gains-more``: the finding at ``at`` is "more" -> reproduced, "less" -> not reproduced;
- ``unseen-gain``: held-out languages gain at ``at`` (a seed x item test of their mean gain);
- ``gains``: the check's ``group`` gains at ``at`` (the same test);
- omitted: the check only reports (verdict "not checked", the numbers are the answer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator

from repro.checks.base import Check, CheckResult, ClaimRef, Figure, Table, Verdict, register
from repro.checks.context import CheckContext
from repro.checks.measurements import Metric, paired_items, parse_metric, points_per_query
from repro.checks.question import ModelTerm, finding_of, fit_terms
from repro.checks.stats.bootstrap import hierarchical_bootstrap
from repro.checks.stats.design import build_design
from repro.checks.stats.groups import Answer, ClassRegression, UnitEstimate, answer, class_regression, group_difference
from repro.checks.stats.language_model import curve_slope
from repro.checks.stats.seed_test import MIN_SEEDS, outcome_of, seed_t_test
from repro.errors import ReproError
from repro.plugins import did_you_mean


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
            update["verdict"] = _verdict_of(self.hypothesis, finding)
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


def _verdict_of(hypothesis: str | None, finding: str | None) -> Verdict:
    if hypothesis != "low-gains-more":
        return Verdict.NOT_CHECKED
    return {
        "more": Verdict.REPRODUCED,
        "less": Verdict.NOT_REPRODUCED,
        "equivalent": Verdict.NOT_REPRODUCED,
    }.get(str(finding), Verdict.INCONCLUSIVE)


def _gain(est: UnitEstimate, method: str) -> GroupGain:
    return GroupGain(
        observed=est.estimate,
        low=est.low,
        high=est.high,
        p_positive=est.p_positive,
        p_value=est.p_value,
        n_langs=est.n_units,
        method=method,
    )


def _slope(reg: ClassRegression) -> ClassSlope:
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


def _close(a: Any, b: Any) -> bool:
    return abs(float(a) - float(b)) < 1e-9


@register
class TrendCheck(Check):
    """How each language's metric moves along a grid axis, and whether groups differ."""

    kind: Literal["trend"] = "trend"
    result_type: ClassVar[type[CheckResult]] = TrendResult
    experiment: str
    task: str
    metric: str
    x: str = Field(description="the grid axis the metric moves along")
    reference: float = Field(description="the grid value gains are measured against")
    at: float = Field(description="the grid value a hypothesis is tested at")
    hypothesis: str | None = Field(default=None, description="a registered rule (HYPOTHESES) that gives the verdict")
    groups: dict[str, list[str]] = Field(
        default_factory=dict, description="further named groups of rows (languages, classes...) whose gains are tested"
    )
    group: str | None = Field(default=None, description="the group a hypothesis such as `gains` is about")
    resource_classes: bool = Field(
        default=True,
        description="also group the rows (languages) by Joshi resource class; false for rows that are not languages",
    )
    unseen: list[str] = Field(default_factory=list, description="languages the training corpus held out")
    seen: list[str] | None = Field(
        default=None, description="languages the training corpus has; when given, every other language is unseen"
    )
    units: Literal["seen", "all"] = Field(
        default="seen",
        description="whose gains answer the question with languages as units: the seen languages, or all",
    )
    margin: float | None = Field(
        default=None,
        gt=0,
        description="equivalence margin for 'no difference' on the metric's scale (low - high gain), stated "
        "before looking (docs/statistics.md)",
    )
    margin_logit: float | None = Field(default=None, gt=0, description="the same on the logit scale")
    n_boot: int = Field(default=2000, ge=200)
    seed: int = 0

    @field_validator("hypothesis")
    @classmethod
    def _known_hypothesis(cls, value: str | None) -> str | None:
        if value is not None and value not in known_hypotheses():
            raise ValueError(
                f"unknown hypothesis '{value}'{did_you_mean(value, HYPOTHESES)}; known: {', '.join(sorted(HYPOTHESES))}"
            )
        return value

    def describe(self) -> str:
        return self.label or f"{self.task} {self.metric} vs {self.x}, by language group"

    def experiments(self, ctx: CheckContext) -> list[str]:
        return [self.experiment]

    def validate_in(self, ctx: CheckContext) -> list[str]:
        try:
            metric = parse_metric(self.task, self.metric)
            exp = ctx.experiment(self.experiment)
        except ReproError as exc:
            return [str(exc)]
        if self.x not in exp.grid:
            return [f"experiment {exp.name} has no grid key '{self.x}' (it has {', '.join(exp.grid)})"]
        values = exp.grid[self.x]
        problems = [
            f"{self.x} = {v} is not in the grid of {exp.name} ({values})"
            for v in (self.reference, self.at)
            if not any(_close(v, g) for g in values)
        ]
        if not metric.per_query:
            problems.append(f"trend needs per-query values; '{self.metric}' has none")
        if metric.task not in exp.eval.tasks:
            problems.append(f"experiment {exp.name} does not evaluate {metric.task}")
        if _close(self.reference, self.at):
            problems.append(f"at and reference are both {self.x}={self.at}: a gain needs two grid values")
        if self.seen is not None and (both := sorted(set(self.seen) & set(self.unseen))):
            problems.append(f"languages listed as both seen and unseen: {', '.join(both)}")
        if clash := sorted(set(self.groups) & {"low", "high", "unseen", "low - high"}):
            problems.append(f"group name {clash[0]} is taken by the resource-class groups; name it otherwise")
        if self.group is not None and self.group not in {*self.groups, "low", "high", "unseen"}:
            problems.append(
                f"group '{self.group}' is not defined (groups: {', '.join([*self.groups, 'low', 'high', 'unseen'])})"
            )
        # A profile that evaluates the task on the base model only is not an error: the check says
        # "not checked" for that profile (run() names why).
        return problems

    def _is_unseen(self, lang: str) -> bool:
        return lang in self.unseen or (self.seen is not None and lang not in self.seen)

    def run(self, ctx: CheckContext, claim: ClaimRef) -> TrendResult:
        analysis = trend_analysis(self, ctx)
        if isinstance(analysis, TrendResult):
            return analysis
        # The registered hypothesis rule gives the verdict (below), from the typed result.
        result = result_of(self, analysis)
        verdict, conf = HYPOTHESES[self.hypothesis](self, result) if self.hypothesis else (Verdict.NOT_CHECKED, None)
        return result.model_copy(
            update={
                "verdict": verdict,
                "confidence": None if conf is None else round(conf, 4),
                "answer": self._answer(result, analysis.at, analysis.ref, analysis.parallel),
            }
        )

    def classes(self) -> tuple[Callable[[str], int | None], Callable[[str], str]]:
        """``(resource_class, resource_group)`` of a row: Joshi's for languages; none for rows that are not."""
        from repro.data.resource_classes import resource_class, resource_group

        if self.resource_classes:
            return resource_class, resource_group
        # Rows that are not languages (a user program's groups): only the registry's groups count.
        return (lambda row: None), (lambda row: "-")

    def _model_terms(
        self,
        rs: Any,
        at_x: dict[float, list[tuple[str, Any]]],
        at: float,
        ref: float,
        seeds: list[Any],
        unseen: list[str],
        metric: Metric,
        sign: float,
    ) -> list[ModelTerm]:
        """The question's regression over languages at ``at``: per-seed-pair values of every language."""
        from repro.data.resource_classes import resource_class

        def per_seed(x: float) -> dict[Any, dict[str, float]]:
            out: dict[Any, dict[str, float]] = {}
            for label, point in at_x[x]:
                seed = 0 if point is None else point.get("seed", 0)
                out[seed] = _rows(rs, label, metric)
            return out

        va, vr = per_seed(at), per_seed(ref)
        pairs = [s for s in seeds if s in va and s in vr] or ([next(iter(va))] if len(va) == len(vr) == 1 else [])
        if not pairs:
            return []
        sa, sr = pairs, [s if s in vr else next(iter(vr)) for s in pairs]
        langs = sorted(set.intersection(*(set(va[s]) for s in sa), *(set(vr[s]) for s in sr)))
        classes = {}
        for lang in langs:
            try:
                classes[lang] = resource_class(lang)
            except ReproError:
                continue
        values_at = {g: np.array([va[s][g] for s in sa]) for g in classes}
        values_ref = {g: np.array([vr[s][g] for s in sr]) for g in classes}
        bounded = not metric.lower_is_better and all(
            0.0 <= v <= 1.0 for d in (values_at, values_ref) for arr in d.values() for v in arr
        )
        return fit_terms(
            values_at, values_ref, classes, unseen, sign, bounded, self.margin, self.margin_logit, self.metric
        )

    def _not_checked(self, why: str, missing: list[str]) -> TrendResult:
        return TrendResult(
            verdict=Verdict.NOT_CHECKED,
            headline=f"{self.task} {self.metric}: not checked in this profile: {why}",
            details={"missing": missing},
            finding="undetermined",
            finding_reason=why,
            units=self.units,
            missing=missing,
            **self._where(parse_metric(self.task, self.metric).lower_is_better, self.at, self.reference),
        )

    def _where(self, lower_is_better: bool, at: float, ref: float) -> dict[str, Any]:
        """The typed fields that say what a result is about (the report reads them)."""
        return {
            "task": self.task,
            "metric": self.metric,
            "lower_is_better": lower_is_better,
            "x": self.x,
            "at": at,
            "reference": ref,
        }

    @staticmethod
    def _tested(
        signed: dict[str, tuple[np.ndarray, np.ndarray]],
        seeds: list[Any],
        weights: dict[str, float] | None,
        method: str,
    ) -> GroupGain:
        """A seed x item test of the weighted gain of these languages (weights default to their mean)."""
        t = seed_t_test(build_design(signed, seeds, weights))
        return GroupGain(
            observed=t.estimate,
            low=t.low,
            high=t.high,
            p_positive=t.p_direction,
            p_value=t.p_value,
            n_seeds=t.n_seeds,
            n_langs=len(signed),
            method=method,
        )

    def _curves(
        self,
        signed_at: dict[float, dict[str, tuple[np.ndarray, np.ndarray]]],
        seeds_at: dict[float, list[Any]],
        seen: list[str],
        unseen: list[str],
        ref: float,
    ) -> list[GainCurve]:
        """The gain at every x of each Joshi class and each resource group, seen and unseen languages apart."""
        from repro.data.resource_classes import resource_class, resource_group

        curves = []
        for is_seen, pool in ((True, seen), (False, unseen)):
            tag = "seen" if is_seen else "unseen"
            specs: list[tuple[str, Literal["class", "group"], int | None, str | None, list[str]]] = [
                (f"class {c}, {tag}", "class", c, None, [g for g in pool if resource_class(g) == c])
                for c in sorted({resource_class(g) for g in pool})
            ]
            specs += [
                (f"{r}-resource, {tag}", "group", None, r, members)
                for r in ("low", "high")
                if (members := [g for g in pool if resource_group(g) == r])
            ]
            for name, by, cls, res, members in specs:
                points = []
                for x, signed in signed_at.items():
                    have = {m: signed[m] for m in members if m in signed}
                    if have:
                        g = self._tested(have, seeds_at[x], None, "seed pairs x items, these languages")
                        points.append(CurvePoint(x=x, **g.model_dump()))
                curve = GainCurve(
                    name=name, by=by, seen=is_seen, joshi_class=cls, resource=res, langs=members, reference=ref
                )
                curves.append(curve.model_copy(update={"points": points}))
        return curves

    def _answer(self, r: TrendResult, at: float, ref: float, parallel: bool = True) -> str | None:
        """The research question's answer in words: how low- and high-resource languages move from ref to at."""
        g = r.gain_at
        if "low" not in g or "high" not in g:
            return None
        lo, hi = g["low"], g["high"]
        metric = self.describe().split(" vs ")[0]
        who = "seen languages" if self.units == "seen" else "languages, unseen included"
        s = (
            f"{metric}: moving from {self.x}={ref} to {self.x}={at}, low-resource languages change by "
            f"{lo.observed:+.4f} (95% CI {lo.low:+.4f} to {lo.high:+.4f}) and high-resource ones by "
            f"{hi.observed:+.4f} ({hi.low:+.4f} to {hi.high:+.4f}), {r.n_seeds} seed pairs "
            f"({lo.n_langs} low- and {hi.n_langs} high-resource {who}"
            + ("" if parallel else "; items per language")
            + ")"
        )
        if r.class_difference is not None:
            d = r.class_difference
            s += f"; low - high with languages as units {d.observed:+.4f} ({d.low:+.4f} to {d.high:+.4f})"
        if r.class_slope is not None:
            c = r.class_slope
            s += f"; gain per Joshi class {c.slope:+.4f} ({c.low:+.4f} to {c.high:+.4f}, {len(c.gains)} languages)"
        if "unseen" in g:
            u = g["unseen"]
            s += f"; unseen languages {u.observed:+.4f} ({u.low:+.4f} to {u.high:+.4f})"
        other = r.splits.get("unseen")
        if self.units == "seen" and other is not None and other.difference is not None:
            d = other.difference
            s += f"; among unseen languages low - high {d.observed:+.4f} ({d.low:+.4f} to {d.high:+.4f}, {other.finding})"
        return s + f". Do low-resource languages gain more? {r.finding} ({r.finding_reason})."

    @staticmethod
    def _grid_x(xs: list[float], value: float) -> float:
        return next(x for x in xs if _close(x, value))


# --- analysis: results -> TrendAnalysis ---------------------------------------------------------


def _rows(rs: Any, label: str, metric: Metric) -> dict[str, float]:
    """Each row's (language's) value of ``metric`` in one published result: the check's only read of results."""
    return rs.result(label, metric.task).rows(metric)


@dataclass
class TrendAnalysis:
    """What a trend check found, before any table, figure or sentence: the presentation reads only this."""

    metric: Metric
    sign: float  # -1 for lower-is-better metrics: a gain is always an improvement
    ref: float
    at: float
    xs: list[float]  # the grid values with results
    curve: dict[str, dict[float, float]]  # language -> x -> mean over seeds
    base: dict[str, float]  # the base model's value per language (empty without its result)
    langs: list[str]
    seen: list[str]
    unseen: list[str]
    low: list[str]  # of the population that answers (``units``)
    high: list[str]
    groups: dict[str, dict[float, GroupGain]]  # group -> x -> gain (seed x item tests)
    units: dict[float, tuple[GroupGain | None, ClassSlope | None]]  # x -> (low - high, class slope) over languages
    seeds_at: dict[float, list[Any]]
    signed_at: dict[float, dict[str, tuple[np.ndarray, np.ndarray]]]
    bootstrap_difference: GroupGain | None
    curves: list[GainCurve]
    splits: dict[str, LanguageUnits]
    parallel: bool
    items_note: str
    missing: list[str]
    min_seeds: int
    model: list[ModelTerm]
    units_finding: str  # the languages-as-units answer of ``units`` (the headline's)
    finding: str  # the question's answer: from the model's terms when there are any
    finding_reason: str

    @property
    def n_seeds(self) -> int:
        """Seed pairs at ``at`` against the reference."""
        return len(self.seeds_at.get(self.at, []))

    def gain(self, lang: str, x: float) -> float | None:
        """A language's improvement at ``x`` over the reference (mean over seeds), None without both values."""
        if x not in self.curve[lang] or self.ref not in self.curve[lang]:
            return None
        return self.sign * (self.curve[lang][x] - self.curve[lang][self.ref])

    def best_x(self, lang: str) -> float:
        """The grid value where a language does best."""
        return max(self.curve[lang], key=lambda x: self.sign * self.curve[lang][x])

    def slope(self, lang: str) -> float:
        """A language's slope of the metric along x."""
        return curve_slope(sorted(self.curve[lang]), [self.curve[lang][x] for x in sorted(self.curve[lang])])


def trend_analysis(check: TrendCheck, ctx: CheckContext) -> TrendAnalysis | TrendResult:
    """Gather the results along ``x`` and run every analysis; a "not checked" result when they cannot answer."""
    _, resource_group = check.classes()
    metric = parse_metric(check.task, check.metric)
    exp = ctx.experiment(check.experiment)
    rs = ctx.results(check.experiment)
    sign = -1.0 if metric.lower_is_better else 1.0
    gathered = _results_along_x(check, exp, rs, metric)
    if isinstance(gathered, TrendResult):
        return gathered
    at_x, missing, ref, at = gathered
    xs = [x for x in at_x if at_x[x]]
    try:
        pq = {x: points_per_query(ctx, check.experiment, at_x[x], metric) for x in xs}
    except KeyError as exc:
        return check._not_checked(
            f"published per-query values lack '{exc.args[0]}' (computed before {metric.task} published "
            "query ids): recompute those evaluations",
            missing,
        )
    curve = _seed_means(rs, {x: at_x[x] for x in xs}, metric)
    base = _rows(rs, "base", metric) if rs.exists("base", metric.task) else {}
    langs = sorted(curve)
    unseen = [lang for lang in langs if check._is_unseen(lang)]
    seen = [lang for lang in langs if lang not in unseen]
    # The languages whose gains answer the question (and whose low/high groups are tested).
    pop = seen if check.units == "seen" else langs
    low = [lang for lang in pop if resource_group(lang) == "low"]
    high = [lang for lang in pop if resource_group(lang) == "high"]
    gains = _gains_along_x(check, pq, xs, ref, at, sign, pop, low, high, unseen)
    groups, units, seeds_at, signed_at, bootstrap_difference = gains
    n_seeds = len(seeds_at.get(at, []))
    curves = check._curves(signed_at, seeds_at, seen, unseen, ref) if check.resource_classes else []
    splits = _splits(check, signed_at[at], n_seeds, seen, unseen, langs)
    parallel, items_note = _items(signed_at[at], seeds_at[at], metric)
    main = splits[check.units] if check.units in splits else _units_answer({}, n_seeds, check.units)
    # Untrained models (an evaluation-only grid) have no seeds: decided over languages and items.
    min_seeds = MIN_SEEDS if exp.trains else 1
    # The question's model is over resource classes: only for rows that are languages.
    model = (
        check._model_terms(rs, at_x, at, ref, seeds_at.get(at, []), unseen, metric, sign)
        if check.resource_classes
        else []
    )
    if model:
        finding, why = finding_of(model, check.metric, n_seeds, min_seeds)
    else:
        # The question's model needs two more languages than terms; the Welch/slope views stay below.
        finding, why = "undetermined", f"{len(langs)} languages, too few for the question's model; {main.reason}"
    return TrendAnalysis(
        metric=metric,
        sign=sign,
        ref=ref,
        at=at,
        xs=xs,
        curve=curve,
        base=base,
        langs=langs,
        seen=seen,
        unseen=unseen,
        low=low,
        high=high,
        groups=groups,
        units=units,
        seeds_at=seeds_at,
        signed_at=signed_at,
        bootstrap_difference=bootstrap_difference,
        curves=curves,
        splits=splits,
        parallel=parallel,
        items_note=items_note,
        missing=missing,
        min_seeds=min_seeds,
        model=model,
        units_finding=main.finding,
        finding=finding,
        finding_reason=why,
    )


def _results_along_x(
    check: TrendCheck, exp: Any, rs: Any, metric: Metric
) -> tuple[dict[float, list[tuple[str, Any]]], list[str], float, float] | TrendResult:
    """The planned points with results at each x, the planned ones without, and the grid's reference and
    ``at``; a "not checked" result without results at either."""
    from repro.runner.experiment import point_label

    planned = {
        x: [(point_label(p), p) for p in exp.points() if _close(p[check.x], x) and metric.task in exp.tasks_for(p)]
        for x in sorted(exp.grid[check.x])
    }
    ref = check._grid_x(list(planned), check.reference)
    at = check._grid_x(list(planned), check.at)
    # A sweep still running (or stopped) holds some points only: use those and name the others.
    at_x = {x: [(label, p) for label, p in pts if rs.exists(label, metric.task)] for x, pts in planned.items()}
    missing = [label for pts in planned.values() for label, _ in pts if not rs.exists(label, metric.task)]
    if not at_x[ref] or not at_x[at]:
        lacking = [x for x in dict.fromkeys((ref, at)) if not at_x[x]]
        where = " and ".join(f"{check.x}={x}" for x in lacking)
        if not any(planned[x] for x in lacking):
            why = f"profile {exp.profile} evaluates {metric.task} on no trained model at {where}"
        else:
            n = sum(len(planned[x]) for x in lacking)
            why = f"none of the {n} planned models at {where} has {metric.task} results yet"
        return check._not_checked(why, missing)
    return at_x, missing, ref, at


def _seed_means(rs: Any, at_x: dict[float, list[tuple[str, Any]]], metric: Metric) -> dict[str, dict[float, float]]:
    """Mean over seeds of each language's value at each x: language -> x -> mean."""
    curve: dict[str, dict[float, float]] = {}
    for x, points in at_x.items():
        per_lang: dict[str, list[float]] = {}
        for label, _ in points:
            for lang, value in _rows(rs, label, metric).items():
                per_lang.setdefault(lang, []).append(value)
        for lang, vals in per_lang.items():
            curve.setdefault(lang, {})[x] = float(np.mean(vals))
    return curve


def _splits(
    check: TrendCheck,
    signed: dict[str, tuple[np.ndarray, np.ndarray]],
    n_seeds: int,
    seen: list[str],
    unseen: list[str],
    langs: list[str],
) -> dict[str, LanguageUnits]:
    """The languages-as-units answer at ``at`` on the seen, the unseen and all languages (those there are)."""
    populations = {"seen": seen, "unseen": unseen, "all": langs} if check.resource_classes else {}
    return {
        name: _units_answer(_lang_gains(signed, members), n_seeds, name)
        for name, members in populations.items()
        if members
    }


def _items(signed: dict[str, tuple[np.ndarray, np.ndarray]], seeds: list[Any], metric: Metric) -> tuple[bool, str]:
    """Whether the items are parallel across languages, and a note saying what an item is."""
    everything = build_design(signed, seeds)
    parallel = everything.n_items < everything.n_queries
    note = (
        f"parallel items: {everything.n_items} questions over {len(everything.langs)} languages "
        f"({everything.n_queries} queries), a question's translations resampled together"
        if parallel
        else f"per-language items: {everything.n_queries} queries in {len(everything.langs)} languages, each its "
        f"own item ({metric.task} is not parallel across languages)"
    )
    return parallel, note


def _gains_along_x(
    check: TrendCheck,
    pq: dict[float, Any],
    xs: list[float],
    ref: float,
    at: float,
    sign: float,
    pop: list[str],
    low: list[str],
    high: list[str],
    unseen: list[str],
) -> tuple[
    dict[str, dict[float, GroupGain]],
    dict[float, tuple[GroupGain | None, ClassSlope | None]],
    dict[float, list[Any]],
    dict[float, dict[str, tuple[np.ndarray, np.ndarray]]],
    GroupGain | None,
]:
    """At every x but the reference: each group's tested gain, the languages-as-units views, and at ``at``
    the hierarchical bootstrap of low - high. Returns (groups, units, seeds_at, signed_at, bootstrap)."""
    resource_class, _ = check.classes()
    groups: dict[str, dict[float, GroupGain]] = {"low": {}, "high": {}, "unseen": {}, "low - high": {}}
    groups.update({name: {} for name in check.groups})
    units: dict[float, tuple[GroupGain | None, ClassSlope | None]] = {}
    seeds_at: dict[float, list[Any]] = {}
    signed_at: dict[float, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    bootstrap_difference = None
    for x in xs:
        if _close(x, ref):
            continue
        items, seeds = paired_items(pq[x], pq[ref])
        signed = {lang: (ids, sign * d) for lang, (ids, d) in items.items()}
        seeds_at[x], signed_at[x] = seeds, signed
        weights = _group_weights(check, signed, low, high, unseen)
        for name, w in weights.items():
            groups.setdefault(name, {})
            groups[name][x] = check._tested({m: signed[m] for m in w}, seeds, w, "seed pairs x items, these languages")
        lang_gain = _lang_gains(signed, pop)
        diff = group_difference({m: lang_gain[m] for m in low}, {m: lang_gain[m] for m in high})
        reg = (
            class_regression(lang_gain, {lang: resource_class(lang) for lang in lang_gain})
            if check.resource_classes
            else None
        )
        units[x] = (
            None
            if diff is None
            else _gain(diff, "languages as units (Welch)").model_copy(update={"n_seeds": len(seeds)}),
            None if reg is None else _slope(reg),
        )
        if _close(x, at) and "low - high" in weights and len(low) > 1 and len(high) > 1:
            bootstrap_difference = _bootstrap_difference(check, signed, seeds, weights["low - high"], low, high)
    return groups, units, seeds_at, signed_at, bootstrap_difference


def _group_weights(
    check: TrendCheck,
    signed: dict[str, tuple[np.ndarray, np.ndarray]],
    low: list[str],
    high: list[str],
    unseen: list[str],
) -> dict[str, dict[str, float]]:
    """Each tested group's weights over its languages: their mean, and +mean low - mean high for low - high."""
    weights: dict[str, dict[str, float]] = {
        name: {m: 1 / len(members) for m in members}
        for name, members in (("low", low), ("high", high), ("unseen", unseen))
        if members
    }
    if low and high:
        weights["low - high"] = {**{m: 1 / len(low) for m in low}, **{m: -1 / len(high) for m in high}}
    for name, members in check.groups.items():
        if have := [m for m in members if m in signed]:
            weights[name] = {m: 1 / len(have) for m in have}
    return weights


def _bootstrap_difference(
    check: TrendCheck,
    signed: dict[str, tuple[np.ndarray, np.ndarray]],
    seeds: list[Any],
    weights: dict[str, float],
    low: list[str],
    high: list[str],
) -> GroupGain:
    """Low - high by a hierarchical bootstrap over languages within groups, items and seed pairs."""
    design = build_design({m: signed[m] for m in weights}, seeds, weights)
    bt = hierarchical_bootstrap(
        design, n_boot=check.n_boot, seed=check.seed, language_groups={"low": low, "high": high}
    )
    return GroupGain(
        observed=bt.observed,
        low=bt.low,
        high=bt.high,
        n_seeds=len(seeds),
        n_langs=len(low) + len(high),
        # docs/statistics.md: over 5 seeds a bootstrap is too narrow to give a probability; its
        # interval is kept only to compare widths with the t-based one.
        method="hierarchical bootstrap: languages within groups, items, seed pairs (interval width "
        "only, no probability)",
    )


# --- presentation: TrendAnalysis -> the typed result, its tables, figures and headline -----------


def result_of(check: TrendCheck, a: TrendAnalysis) -> TrendResult:
    """The typed result of an analysis (verdict not yet decided: the hypothesis rule reads this)."""
    class_difference, class_slope = a.units.get(a.at, (None, None))
    return TrendResult(
        verdict=Verdict.NOT_CHECKED,
        confidence=None,
        headline=headline_for(check, a),
        details=details_for(check, a),
        tables=tables_for(check, a),
        figures=figures_for(check, a),
        gain_at=gains_at(a),
        class_difference=class_difference,
        bootstrap_difference=a.bootstrap_difference,
        class_slope=class_slope,
        finding=a.finding,
        finding_reason=a.finding_reason,
        n_seeds=a.n_seeds,
        curves=a.curves,
        splits=a.splits,
        units=check.units,
        items=a.items_note,
        missing=a.missing,
        model=a.model,
        margin=check.margin,
        margin_logit=check.margin_logit,
        slopes={lang: a.slope(lang) for lang in a.langs},
        hypothesis=check.hypothesis,
        min_seeds=a.min_seeds,
        **check._where(a.metric.lower_is_better, a.at, a.ref),
    )


def gains_at(a: TrendAnalysis) -> dict[str, GroupGain]:
    """Every tested group's gain at ``at``."""
    return {name: by_x[a.at] for name, by_x in a.groups.items() if a.at in by_x}


def details_for(check: TrendCheck, a: TrendAnalysis) -> dict[str, Any]:
    """The result's untyped details: groups, each language's best x and curve, where the answer is."""
    return {
        "groups": {"low": a.low, "high": a.high, "unseen": a.unseen},
        "best_x": {lang: a.best_x(lang) for lang in a.langs},
        "curve": a.curve,
        "x": check.x,
        "at": a.at,
        "reference": a.ref,
        "items": a.items_note,
        "missing": a.missing,
    }


def headline_for(check: TrendCheck, a: TrendAnalysis) -> str:
    """One line: the groups' gains at ``at``, the languages-as-units views and their answer."""
    gain_at = gains_at(a)
    class_difference, class_slope = a.units.get(a.at, (None, None))
    parts = []
    for name in ("low", "high", "unseen"):
        if name in gain_at:
            g = gain_at[name]
            parts.append(f"{name} {g.observed:+.4f} [{g.low:+.4f}, {g.high:+.4f}]")
    headline = (
        f"{check.task} {check.metric} gain at {check.x}={a.at} over {check.x}={a.ref} ({a.n_seeds} seed pairs): "
        + "; ".join(parts)
    )
    if class_difference is not None:
        d = class_difference
        headline += f"; low - high over languages {d.observed:+.4f} [{d.low:+.4f}, {d.high:+.4f}]"
    if class_slope is not None:
        headline += f"; per class {class_slope.slope:+.4f} [{class_slope.low:+.4f}, {class_slope.high:+.4f}]"
    headline += f"; low-resource languages gain: {a.units_finding}"
    if not a.parallel:
        headline += "; items per language"
    if a.missing:
        headline += f"; {len(a.missing)} planned models without results left out"
    return headline


def tables_for(check: TrendCheck, a: TrendAnalysis) -> list[Table]:
    """The question's model (when fitted), then per language, per group, languages as units, curves, splits."""
    return [
        *([model_table(a.model, check.x, a.at, a.ref)] if a.model else []),
        _language_table(check, a),
        _group_table(check, a),
        _unit_table(check, a),
        _curve_table(check, a),
        _split_table(check, a),
    ]


def _language_table(check: TrendCheck, a: TrendAnalysis) -> Table:
    resource_class, resource_group = check.classes()
    rows = []
    for lang in sorted(a.langs, key=lambda g: (g not in a.unseen, resource_class(g), g)):
        group = "unseen" if lang in a.unseen else resource_group(lang)
        at_gain = a.gain(lang, a.at)
        rows.append(
            [
                lang,
                resource_class(lang),
                group,
                *(round(a.curve[lang][x], 4) if x in a.curve[lang] else None for x in a.xs),
                round(a.base[lang], 4) if lang in a.base else None,
                a.best_x(lang),
                round(a.slope(lang), 4),
                None if at_gain is None else round(at_gain, 4),
            ]
        )
    return Table(
        title=f"{check.task} {check.metric} per language vs {check.x} (mean over seeds); "
        f"gain = improvement at {check.x}={a.at} over {check.x}={a.ref}",
        columns=[
            "lang",
            "Joshi class",
            "group",
            *(f"{check.x}={x}" for x in a.xs),
            "base model",
            f"best {check.x}",
            f"slope per unit {check.x}",
            f"gain at {a.at}",
        ],
        rows=rows,
    )


def _group_table(check: TrendCheck, a: TrendAnalysis) -> Table:
    rows = [
        [
            name,
            x,
            round(g.observed, 4),
            f"[{g.low:+.4f}, {g.high:+.4f}]",
            g.n_seeds,
            None if g.p_value is None else round(g.p_value, 4),
        ]
        for name, by_x in a.groups.items()
        for x, g in by_x.items()
    ]
    return Table(
        title=f"Gain over {check.x}={a.ref} by language group (paired t over seed pairs with the items' "
        f"variance; these languages as they are; {a.items_note})",
        columns=["group", check.x, "mean gain", "95% CI", "seed pairs", "p (gain = 0, unadjusted)"],
        rows=rows,
    )


def _unit_table(check: TrendCheck, a: TrendAnalysis) -> Table:
    rows = [
        [
            x,
            len(a.seeds_at[x]),
            "-" if d is None else f"{d.observed:+.4f} [{d.low:+.4f}, {d.high:+.4f}]",
            "-" if sl is None else f"{sl.slope:+.4f} [{sl.low:+.4f}, {sl.high:+.4f}]",
            "-" if sl is None else len(sl.gains),
        ]
        for x, (d, sl) in a.units.items()
    ]
    who = "seen languages" if check.units == "seen" else "languages, unseen included"
    return Table(
        title=f"Languages as units: low - high gain (Welch over the {who}) and gain per Joshi class "
        f"(least squares over the {who}; negative = lower classes gain more)",
        columns=[check.x, "seed pairs", "low - high, 95% CI", "slope per class, 95% CI", "languages"],
        rows=rows,
    )


def _curve_table(check: TrendCheck, a: TrendAnalysis) -> Table:
    curve_xs = [x for x in a.xs if x in a.seeds_at]
    return Table(
        title=f"Gain in {check.metric} over {check.x}={a.ref} per Joshi class and resource group, seen and unseen "
        f"apart: mean [95% CI] over seed pairs and items of those languages ({a.items_note})",
        columns=["group", "languages", *(f"{check.x}={x} ({len(a.seeds_at[x])} seed pairs)" for x in curve_xs)],
        rows=[
            [
                c.name,
                " ".join(c.langs),
                *(
                    next((f"{p.observed:+.4f} [{p.low:+.4f}, {p.high:+.4f}]" for p in c.points if p.x == x), "-")
                    for x in curve_xs
                ),
            ]
            for c in a.curves
        ],
    )


def _split_table(check: TrendCheck, a: TrendAnalysis) -> Table:
    rows = [
        [
            name,
            len(u.low),
            len(u.high),
            "-"
            if u.difference is None
            else f"{u.difference.observed:+.4f} [{u.difference.low:+.4f}, {u.difference.high:+.4f}]",
            "-" if u.slope is None else f"{u.slope.slope:+.4f} [{u.slope.low:+.4f}, {u.slope.high:+.4f}]",
            u.finding,
        ]
        for name, u in a.splits.items()
    ]
    return Table(
        title=f"Languages as units at {check.x}={a.at}, by population (the answer uses: {check.units})",
        columns=["languages", "low", "high", "low - high, 95% CI", "slope per class, 95% CI", "low-resource gain"],
        rows=rows,
    )


def figures_for(check: TrendCheck, a: TrendAnalysis) -> list[Figure]:
    """Each language's metric along x, and each resource group's mean gain along x."""
    _, resource_group = check.classes()

    def group_mean(members: list[str], x: float) -> float | None:
        if _close(x, a.ref):
            return 0.0
        vals = [v for m in members if (v := a.gain(m, x)) is not None]
        return float(np.mean(vals)) if vals else None

    who = "seen" if check.units == "seen" else "all"
    return [
        Figure(
            title=f"{check.task} {check.metric} per language vs {check.x}",
            kind="lines",
            x_label=check.x,
            y_label=check.metric,
            x=a.xs,
            series={
                f"{lang} ({'unseen' if lang in a.unseen else resource_group(lang)})": [
                    a.curve[lang].get(x) for x in a.xs
                ]
                for lang in a.langs
            },
            note="dashed lines in the legend order: unseen, low-resource, high-resource",
        ),
        Figure(
            title=f"Gain in {check.metric} over {check.x}={a.ref}, by language group",
            kind="lines",
            x_label=check.x,
            y_label=f"gain ({'lower' if a.sign < 0 else 'higher'} {check.metric} is better)",
            x=a.xs,
            series={
                name: [group_mean(members, x) for x in a.xs]
                for name, members in (
                    (f"low-resource ({who})", a.low),
                    (f"high-resource ({who})", a.high),
                    ("unseen", a.unseen),
                )
                if members
            },
        ),
    ]


# Hypothesis rules: name -> rule(check, result) -> (verdict, confidence). A rule reads the typed
# fields of the result; plug-ins add rules through the entry point group repro.hypotheses (or a
# registry's ``plugins: {hypotheses: {name: "module:function"}}``).
HypothesisRule = Callable[["TrendCheck", TrendResult], tuple[Verdict, float | None]]
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
def low_gains_more(check: TrendCheck, r: TrendResult) -> tuple[Verdict, float | None]:
    """Low-resource languages gain more at ``at``: the languages-as-units finding "more" -> reproduced, "less" -> not."""
    # "equivalent" (inside the stated margin) refutes "gains more" as much as "less" does; the deciding
    # numbers are the model's terms in the result, not a confidence (docs/statistics.md).
    return _verdict_of("low-gains-more", r.finding), None


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
def unseen_gain(check: TrendCheck, r: TrendResult) -> tuple[Verdict, float | None]:
    """Held-out languages gain at ``at`` (a seed x item test of their mean gain)."""
    return _group_gains("unseen", r)


@register_hypothesis("gains")
def group_gains(check: TrendCheck, r: TrendResult) -> tuple[Verdict, float | None]:
    """The check's ``group`` (one of its ``groups``, or low / high / unseen) gains at ``at``."""
    if check.group is None:
        raise ReproError("hypothesis gains needs `group:` (one of the check's groups, or low, high, unseen)")
    return _group_gains(check.group, r)


def _lang_gains(signed: dict[str, tuple[np.ndarray, np.ndarray]], langs: list[str]) -> dict[str, float]:
    """Each language's gain: the mean over its items and the seed pairs."""
    return {lang: float(np.mean(v.mean(axis=1))) for lang, (_, v) in signed.items() if lang in langs}


def _units_answer(lang_gain: dict[str, float], n_seeds: int, population: str) -> LanguageUnits:
    """Low - high (Welch) and the class slope over these languages' gains, and the answer they give."""
    from repro.data.resource_classes import resource_class, resource_group

    low = [m for m in lang_gain if resource_group(m) == "low"]
    high = [m for m in lang_gain if resource_group(m) == "high"]
    diff = group_difference({m: lang_gain[m] for m in low}, {m: lang_gain[m] for m in high})
    reg = class_regression(lang_gain, {m: resource_class(m) for m in lang_gain})
    if diff is not None:
        finding, why = answer(diff, n_seeds)
        why = f"low - high, languages as units: {why}"
    elif reg is not None:
        finding, why = answer(reg.slope, n_seeds, lower_means_more=True)
        why = f"gain per Joshi class (fewer than 2 languages in a group: {len(low)} low, {len(high)} high): {why}"
    else:
        finding, why = "undetermined", f"too few {population} languages ({len(low)} low, {len(high)} high)"
    return LanguageUnits(
        low=low,
        high=high,
        difference=None
        if diff is None
        else _gain(diff, "languages as units (Welch)").model_copy(update={"n_seeds": n_seeds}),
        slope=None if reg is None else _slope(reg),
        finding=finding,
        reason=why,
    )
