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
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator

from repro.checks.base import Check, CheckResult, ClaimRef, Figure, Table, Verdict, register
from repro.checks.context import CheckContext
from repro.checks.measurements import paired_items, parse_metric, points_per_query
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
        from repro.data.resource_classes import resource_class, resource_group
        from repro.runner.experiment import point_label

        if not self.resource_classes:
            # Rows that are not languages (a user program's groups): only the registry's groups count.
            def resource_class(row: str) -> None:
                return None

            def resource_group(row: str) -> str:
                return "-"

        metric = parse_metric(self.task, self.metric)
        exp = ctx.experiment(self.experiment)
        rs = ctx.results(self.experiment)
        sign = -1.0 if metric.lower_is_better else 1.0
        planned = {
            x: [(point_label(p), p) for p in exp.points() if _close(p[self.x], x) and metric.task in exp.tasks_for(p)]
            for x in sorted(exp.grid[self.x])
        }
        ref = self._grid_x(list(planned), self.reference)
        at = self._grid_x(list(planned), self.at)
        # A sweep still running (or stopped) holds some points only: use those and name the others.
        at_x = {x: [(label, p) for label, p in pts if rs.exists(label, metric.task)] for x, pts in planned.items()}
        missing = [label for pts in planned.values() for label, _ in pts if not rs.exists(label, metric.task)]
        if not at_x[ref] or not at_x[at]:
            lacking = [x for x in dict.fromkeys((ref, at)) if not at_x[x]]
            where = " and ".join(f"{self.x}={x}" for x in lacking)
            if not any(planned[x] for x in lacking):
                why = f"profile {exp.profile} evaluates {metric.task} on no trained model at {where}"
            else:
                n = sum(len(planned[x]) for x in lacking)
                why = f"none of the {n} planned models at {where} has {metric.task} results yet"
            return self._not_checked(why, missing)
        xs = [x for x in planned if at_x[x]]
        try:
            pq = {x: points_per_query(ctx, self.experiment, at_x[x], metric) for x in xs}
        except KeyError as exc:
            return self._not_checked(
                f"published per-query values lack '{exc.args[0]}' (computed before {metric.task} published "
                "query ids): recompute those evaluations",
                missing,
            )
        # Mean over seeds of each language's value at each x.
        curve: dict[str, dict[float, float]] = {}
        for x in xs:
            per_lang: dict[str, list[float]] = {}
            for label, _ in at_x[x]:
                for lang, value in rs.result(label, metric.task).rows(metric).items():
                    per_lang.setdefault(lang, []).append(value)
            for lang, vals in per_lang.items():
                curve.setdefault(lang, {})[x] = float(np.mean(vals))
        base = rs.result("base", metric.task).rows(metric) if rs.exists("base", metric.task) else {}
        langs = sorted(curve)
        unseen = [lang for lang in langs if self._is_unseen(lang)]
        seen = [lang for lang in langs if lang not in unseen]
        # The languages whose gains answer the question (and whose low/high groups are tested).
        pop = seen if self.units == "seen" else langs
        low = [lang for lang in pop if resource_group(lang) == "low"]
        high = [lang for lang in pop if resource_group(lang) == "high"]

        groups: dict[str, dict[float, GroupGain]] = {"low": {}, "high": {}, "unseen": {}, "low - high": {}}
        groups.update({name: {} for name in self.groups})
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
            weights: dict[str, dict[str, float]] = {
                name: {m: 1 / len(members) for m in members}
                for name, members in (("low", low), ("high", high), ("unseen", unseen))
                if members
            }
            if low and high:
                weights["low - high"] = {**{m: 1 / len(low) for m in low}, **{m: -1 / len(high) for m in high}}
            for name, members in self.groups.items():
                if have := [m for m in members if m in signed]:
                    weights[name] = {m: 1 / len(have) for m in have}
            for name, w in weights.items():
                groups.setdefault(name, {})
                groups[name][x] = self._tested(
                    {m: signed[m] for m in w}, seeds, w, "seed pairs x items, these languages"
                )
            lang_gain = _lang_gains(signed, pop)
            diff = group_difference({m: lang_gain[m] for m in low}, {m: lang_gain[m] for m in high})
            reg = (
                class_regression(lang_gain, {lang: resource_class(lang) for lang in lang_gain})
                if self.resource_classes
                else None
            )
            units[x] = (
                None
                if diff is None
                else _gain(diff, "languages as units (Welch)").model_copy(update={"n_seeds": len(seeds)}),
                None if reg is None else _slope(reg),
            )
            if _close(x, at) and "low - high" in weights and len(low) > 1 and len(high) > 1:
                design = build_design({m: signed[m] for m in weights["low - high"]}, seeds, weights["low - high"])
                bt = hierarchical_bootstrap(
                    design, n_boot=self.n_boot, seed=self.seed, language_groups={"low": low, "high": high}
                )
                bootstrap_difference = GroupGain(
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
        n_seeds = len(seeds_at.get(at, []))
        curves = self._curves(signed_at, seeds_at, seen, unseen, ref) if self.resource_classes else []
        populations = {"seen": seen, "unseen": unseen, "all": langs} if self.resource_classes else {}
        splits = {
            name: _units_answer(_lang_gains(signed_at[at], members), n_seeds, name)
            for name, members in populations.items()
            if members
        }
        everything = build_design(signed_at[at], seeds_at[at])
        parallel = everything.n_items < everything.n_queries
        items_note = (
            f"parallel items: {everything.n_items} questions over {len(everything.langs)} languages "
            f"({everything.n_queries} queries), a question's translations resampled together"
            if parallel
            else f"per-language items: {everything.n_queries} queries in {len(everything.langs)} languages, each its "
            f"own item ({metric.task} is not parallel across languages)"
        )

        def gain(lang: str, x: float) -> float | None:
            if x not in curve[lang] or ref not in curve[lang]:
                return None
            return sign * (curve[lang][x] - curve[lang][ref])

        lang_rows = []
        for lang in sorted(langs, key=lambda g: (g not in unseen, resource_class(g), g)):
            best = max(curve[lang], key=lambda x: sign * curve[lang][x])
            group = "unseen" if lang in unseen else resource_group(lang)
            at_gain = gain(lang, at)
            lang_rows.append(
                [
                    lang,
                    resource_class(lang),
                    group,
                    *(round(curve[lang][x], 4) if x in curve[lang] else None for x in xs),
                    round(base[lang], 4) if lang in base else None,
                    best,
                    round(curve_slope(sorted(curve[lang]), [curve[lang][x] for x in sorted(curve[lang])]), 4),
                    None if at_gain is None else round(at_gain, 4),
                ]
            )
        lang_table = Table(
            title=f"{self.task} {self.metric} per language vs {self.x} (mean over seeds); "
            f"gain = improvement at {self.x}={at} over {self.x}={ref}",
            columns=[
                "lang",
                "Joshi class",
                "group",
                *(f"{self.x}={x}" for x in xs),
                "base model",
                f"best {self.x}",
                f"slope per unit {self.x}",
                f"gain at {at}",
            ],
            rows=lang_rows,
        )
        group_rows = []
        for name, by_x in groups.items():
            for x, g in by_x.items():
                group_rows.append(
                    [
                        name,
                        x,
                        round(g.observed, 4),
                        f"[{g.low:+.4f}, {g.high:+.4f}]",
                        g.n_seeds,
                        None if g.p_value is None else round(g.p_value, 4),
                    ]
                )
        group_table = Table(
            title=f"Gain over {self.x}={ref} by language group (paired t over seed pairs with the items' "
            f"variance; these languages as they are; {items_note})",
            columns=["group", self.x, "mean gain", "95% CI", "seed pairs", "p (gain = 0, unadjusted)"],
            rows=group_rows,
        )
        unit_rows = []
        for x, (d, sl) in units.items():
            unit_rows.append(
                [
                    x,
                    len(seeds_at[x]),
                    "-" if d is None else f"{d.observed:+.4f} [{d.low:+.4f}, {d.high:+.4f}]",
                    "-" if sl is None else f"{sl.slope:+.4f} [{sl.low:+.4f}, {sl.high:+.4f}]",
                    "-" if sl is None else len(sl.gains),
                ]
            )
        who = "seen languages" if self.units == "seen" else "languages, unseen included"
        unit_table = Table(
            title=f"Languages as units: low - high gain (Welch over the {who}) and gain per Joshi class "
            f"(least squares over the {who}; negative = lower classes gain more)",
            columns=[self.x, "seed pairs", "low - high, 95% CI", "slope per class, 95% CI", "languages"],
            rows=unit_rows,
        )
        curve_xs = [x for x in xs if x in seeds_at]
        curve_table = Table(
            title=f"Gain in {self.metric} over {self.x}={ref} per Joshi class and resource group, seen and unseen "
            f"apart: mean [95% CI] over seed pairs and items of those languages ({items_note})",
            columns=["group", "languages", *(f"{self.x}={x} ({len(seeds_at[x])} seed pairs)" for x in curve_xs)],
            rows=[
                [
                    c.name,
                    " ".join(c.langs),
                    *(
                        next((f"{p.observed:+.4f} [{p.low:+.4f}, {p.high:+.4f}]" for p in c.points if p.x == x), "-")
                        for x in curve_xs
                    ),
                ]
                for c in curves
            ],
        )
        split_rows = [
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
            for name, u in splits.items()
        ]
        split_table = Table(
            title=f"Languages as units at {self.x}={at}, by population (the answer uses: {self.units})",
            columns=["languages", "low", "high", "low - high, 95% CI", "slope per class, 95% CI", "low-resource gain"],
            rows=split_rows,
        )

        def group_mean(members: list[str], x: float) -> float | None:
            if _close(x, ref):
                return 0.0
            vals = [v for m in members if (v := gain(m, x)) is not None]
            return float(np.mean(vals)) if vals else None

        figures = [
            Figure(
                title=f"{self.task} {self.metric} per language vs {self.x}",
                kind="lines",
                x_label=self.x,
                y_label=self.metric,
                x=xs,
                series={
                    f"{lang} ({'unseen' if lang in unseen else resource_group(lang)})": [curve[lang].get(x) for x in xs]
                    for lang in langs
                },
                note="dashed lines in the legend order: unseen, low-resource, high-resource",
            ),
            Figure(
                title=f"Gain in {self.metric} over {self.x}={ref}, by language group",
                kind="lines",
                x_label=self.x,
                y_label=f"gain ({'lower' if sign < 0 else 'higher'} {self.metric} is better)",
                x=xs,
                series={
                    name: [group_mean(members, x) for x in xs]
                    for name, members in (
                        (f"low-resource ({'seen' if self.units == 'seen' else 'all'})", low),
                        (f"high-resource ({'seen' if self.units == 'seen' else 'all'})", high),
                        ("unseen", unseen),
                    )
                    if members
                },
            ),
        ]
        gain_at = {name: by_x[at] for name, by_x in groups.items() if at in by_x}
        class_difference, class_slope = units.get(at, (None, None))
        main = splits[self.units] if self.units in splits else _units_answer({}, n_seeds, self.units)
        finding, why = main.finding, main.reason
        details: dict[str, Any] = {
            "groups": {"low": low, "high": high, "unseen": unseen},
            "best_x": {lang: max(curve[lang], key=lambda x: sign * curve[lang][x]) for lang in langs},
            "curve": curve,
            "x": self.x,
            "at": at,
            "reference": ref,
            "items": items_note,
            "missing": missing,
        }
        parts = []
        for name in ("low", "high", "unseen"):
            if name in gain_at:
                g = gain_at[name]
                parts.append(f"{name} {g.observed:+.4f} [{g.low:+.4f}, {g.high:+.4f}]")
        headline = (
            f"{self.task} {self.metric} gain at {self.x}={at} over {self.x}={ref} ({n_seeds} seed pairs): "
            + "; ".join(parts)
        )
        if class_difference is not None:
            headline += f"; low - high over languages {class_difference.observed:+.4f} [{class_difference.low:+.4f}, {class_difference.high:+.4f}]"
        if class_slope is not None:
            headline += f"; per class {class_slope.slope:+.4f} [{class_slope.low:+.4f}, {class_slope.high:+.4f}]"
        headline += f"; low-resource languages gain: {finding}"
        if not parallel:
            headline += "; items per language"
        if missing:
            headline += f"; {len(missing)} planned models without results left out"
        # Untrained models (an evaluation-only grid) have no seeds: decided over languages and items.
        min_seeds = MIN_SEEDS if exp.trains else 1
        # The question's model is over resource classes: only for rows that are languages.
        model = (
            self._model_terms(rs, at_x, at, ref, seeds_at.get(at, []), unseen, metric, sign)
            if self.resource_classes
            else []
        )
        slopes = {
            lang: curve_slope(sorted(curve[lang]), [curve[lang][x] for x in sorted(curve[lang])]) for lang in langs
        }
        if model:
            finding, why = finding_of(model, self.metric, n_seeds, min_seeds)
        else:
            # The question's model needs two more languages than terms; the Welch/slope views stay below.
            finding, why = "undetermined", f"{len(langs)} languages, too few for the question's model; {why}"
        # The registered hypothesis rule gives the verdict (below), from the typed result.
        result = TrendResult(
            verdict=Verdict.NOT_CHECKED,
            confidence=None,
            headline=headline,
            details=details,
            tables=[
                *([model_table(model, self.x, at, ref)] if model else []),
                lang_table,
                group_table,
                unit_table,
                curve_table,
                split_table,
            ],
            figures=figures,
            gain_at=gain_at,
            class_difference=class_difference,
            bootstrap_difference=bootstrap_difference,
            class_slope=class_slope,
            finding=finding,
            finding_reason=why,
            n_seeds=n_seeds,
            curves=curves,
            splits=splits,
            units=self.units,
            items=items_note,
            missing=missing,
            model=model,
            margin=self.margin,
            margin_logit=self.margin_logit,
            slopes=slopes,
            hypothesis=self.hypothesis,
            min_seeds=min_seeds,
            **self._where(metric.lower_is_better, at, ref),
        )
        verdict, conf = HYPOTHESES[self.hypothesis](self, result) if self.hypothesis else (Verdict.NOT_CHECKED, None)
        return result.model_copy(
            update={
                "verdict": verdict,
                "confidence": None if conf is None else round(conf, 4),
                "answer": self._answer(result, at, ref, parallel),
            }
        )

    def _model_terms(
        self,
        rs: Any,
        at_x: dict[float, list[tuple[str, Any]]],
        at: float,
        ref: float,
        seeds: list[Any],
        unseen: list[str],
        metric: Any,
        sign: float,
    ) -> list[ModelTerm]:
        """The question's regression over languages at ``at``: per-seed-pair values of every language."""
        from repro.data.resource_classes import resource_class

        def per_seed(x: float) -> dict[Any, dict[str, float]]:
            out: dict[Any, dict[str, float]] = {}
            for label, point in at_x[x]:
                seed = 0 if point is None else point.get("seed", 0)
                out[seed] = rs.result(label, metric.task).rows(metric)
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
