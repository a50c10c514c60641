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
training corpus held them out (unseen). At every x, each group's gain is tested like a comparison
(seed pairs x parallel items, those languages as they are). The research question is about
classes, so it is answered with languages as units (docs/statistics.md): Welch's interval for
low - high over the seen languages' gains, a regression of the gain on the Joshi class with its
interval, and a hierarchical bootstrap (languages within groups, items, seeds) as a second look.
The answer (``finding``): low-resource languages gain more, less, or no detectably differently,
"undetermined" with fewer than 3 seed pairs or too few languages. ``hypothesis``:

- ``low-gains-more``: the finding at ``at`` is "more" -> reproduced, "less" -> not reproduced;
- ``unseen-gain``: held-out languages gain at ``at`` (a seed x item test of their mean gain);
- omitted: the check only reports (verdict "not checked", the numbers are the answer).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field

from repro.checks.base import Check, CheckResult, ClaimRef, Figure, Table, Verdict, register
from repro.checks.context import CheckContext
from repro.checks.measurements import paired_items, parse_metric, points_per_query
from repro.checks.stats.bootstrap import hierarchical_bootstrap
from repro.checks.stats.design import build_design
from repro.checks.stats.groups import Answer, ClassRegression, UnitEstimate, answer, class_regression, group_difference
from repro.checks.stats.seed_test import outcome_of, seed_t_test
from repro.errors import ReproError


class GroupGain(BaseModel):
    """A gain (or a difference of gains) at ``at`` over ``reference``, with its interval and how it was estimated."""

    observed: float
    low: float
    high: float
    p_positive: float = Field(description="probability that the true value is positive")
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
    intercept: float
    classes: dict[str, int]
    gains: dict[str, float]


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
    x: str = "alpha"
    reference: float = 1.0
    at: float = 0.5
    hypothesis: Literal["low-gains-more", "unseen-gain"] | None = None
    unseen: list[str] = Field(default_factory=list, description="languages the training corpus held out")
    n_boot: int = Field(default=2000, ge=200)
    seed: int = 0

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
        if not any(metric.task in exp.tasks_for(p) for p in exp.points()):
            problems.append(f"experiment {exp.name} evaluates no trained model on {metric.task}")
        return problems

    def run(self, ctx: CheckContext, claim: ClaimRef) -> TrendResult:
        from repro.data.resource_classes import resource_class, resource_group
        from repro.runner.experiment import point_label

        metric = parse_metric(self.task, self.metric)
        exp = ctx.experiment(self.experiment)
        rs = ctx.results(self.experiment)
        sign = -1.0 if metric.lower_is_better else 1.0
        xs = sorted(exp.grid[self.x])
        at_x = {
            x: [(point_label(p), p) for p in exp.points() if _close(p[self.x], x) and metric.task in exp.tasks_for(p)]
            for x in xs
        }
        # Mean over seeds of each language's value at each x.
        curve: dict[str, dict[float, float]] = {}
        for x, pts in at_x.items():
            per_lang: dict[str, list[float]] = {}
            for label, _ in pts:
                for lang, row in rs.result(label, metric.task)["tables"][metric.setting].items():
                    per_lang.setdefault(lang, []).append(float(row[metric.measure]))
            for lang, vals in per_lang.items():
                curve.setdefault(lang, {})[x] = float(np.mean(vals))
        base = (
            {
                lang: float(row[metric.measure])
                for lang, row in rs.result("base", metric.task)["tables"][metric.setting].items()
            }
            if rs.exists("base", metric.task)
            else {}
        )
        langs = sorted(curve)
        unseen = [lang for lang in langs if lang in self.unseen]
        seen = [lang for lang in langs if lang not in unseen]
        low = [lang for lang in seen if resource_group(lang) == "low"]
        high = [lang for lang in seen if resource_group(lang) == "high"]

        ref_pq = points_per_query(ctx, self.experiment, at_x[self._grid_x(xs, self.reference)], metric)
        at = self._grid_x(xs, self.at)
        ref = self._grid_x(xs, self.reference)
        groups: dict[str, dict[float, GroupGain]] = {"low": {}, "high": {}, "unseen": {}, "low - high": {}}
        units: dict[float, tuple[GroupGain | None, ClassSlope | None]] = {}
        raw_units: dict[float, tuple[UnitEstimate | None, ClassRegression | None]] = {}
        seeds_at: dict[float, int] = {}
        bootstrap_difference = None
        for x in xs:
            if _close(x, self.reference):
                continue
            items, seeds = paired_items(points_per_query(ctx, self.experiment, at_x[x], metric), ref_pq)
            signed = {lang: (ids, sign * d) for lang, (ids, d) in items.items()}
            seeds_at[x] = len(seeds)
            weights: dict[str, dict[str, float]] = {
                name: {m: 1 / len(members) for m in members}
                for name, members in (("low", low), ("high", high), ("unseen", unseen))
                if members
            }
            if low and high:
                weights["low - high"] = {**{m: 1 / len(low) for m in low}, **{m: -1 / len(high) for m in high}}
            for name, w in weights.items():
                design = build_design({m: signed[m] for m in w}, seeds, w)
                t = seed_t_test(design)
                groups[name][x] = GroupGain(
                    observed=t.estimate,
                    low=t.low,
                    high=t.high,
                    p_positive=t.p_direction,
                    p_value=t.p_value,
                    n_seeds=t.n_seeds,
                    n_langs=len(w),
                    method="seed pairs x parallel items, these languages",
                )
            # Languages as units: each seen language's gain, averaged over its items and the seed pairs.
            lang_gain = {lang: float(np.mean(v.mean(axis=1))) for lang, (_, v) in signed.items() if lang in seen}
            diff = group_difference({m: lang_gain[m] for m in low}, {m: lang_gain[m] for m in high})
            reg = class_regression(lang_gain, {lang: resource_class(lang) for lang in lang_gain})
            raw_units[x] = (diff, reg)
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
                    p_positive=bt.prob_above(0),
                    n_seeds=len(seeds),
                    n_langs=len(low) + len(high),
                    method="hierarchical bootstrap: languages within groups, parallel items, seed pairs",
                )

        def gain(lang: str, x: float) -> float:
            return sign * (curve[lang][x] - curve[lang][ref])

        lang_rows = []
        for lang in sorted(langs, key=lambda g: (g not in unseen, resource_class(g), g)):
            best = max(xs, key=lambda x: sign * curve[lang][x])
            group = "unseen" if lang in unseen else resource_group(lang)
            lang_rows.append(
                [
                    lang,
                    resource_class(lang),
                    group,
                    *(round(curve[lang][x], 4) for x in xs),
                    round(base[lang], 4) if lang in base else None,
                    best,
                    round(gain(lang, at), 4),
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
                f"gain at {at}",
            ],
            rows=lang_rows,
        )
        group_rows = []
        for name, by_x in groups.items():
            for x, g in by_x.items():
                group_rows.append(
                    [name, x, round(g.observed, 4), f"[{g.low:+.4f}, {g.high:+.4f}]", g.n_seeds, round(g.p_positive, 3)]
                )
        group_table = Table(
            title=f"Gain over {self.x}={ref} by language group (paired t over seed pairs with the parallel items' "
            "variance; these languages as they are)",
            columns=["group", self.x, "mean gain", "95% CI", "seed pairs", "P(gain > 0)"],
            rows=group_rows,
        )
        unit_rows = []
        for x, (d, sl) in units.items():
            unit_rows.append(
                [
                    x,
                    seeds_at[x],
                    "-" if d is None else f"{d.observed:+.4f} [{d.low:+.4f}, {d.high:+.4f}]",
                    "-" if sl is None else f"{sl.slope:+.4f} [{sl.low:+.4f}, {sl.high:+.4f}]",
                    "-" if sl is None else len(sl.gains),
                ]
            )
        unit_table = Table(
            title="Languages as units: low - high gain (Welch over the seen languages) and gain per Joshi class "
            "(least squares over the seen languages; negative = lower classes gain more)",
            columns=[self.x, "seed pairs", "low - high, 95% CI", "slope per class, 95% CI", "languages"],
            rows=unit_rows,
        )

        figures = [
            Figure(
                title=f"{self.task} {self.metric} per language vs {self.x}",
                kind="lines",
                x_label=self.x,
                y_label=self.metric,
                x=xs,
                series={
                    f"{lang} ({'unseen' if lang in unseen else resource_group(lang)})": [curve[lang][x] for x in xs]
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
                    name: [0.0 if _close(x, ref) else (float(np.mean([gain(m, x) for m in members]))) for x in xs]
                    for name, members in (
                        ("low-resource (seen)", low),
                        ("high-resource (seen)", high),
                        ("unseen", unseen),
                    )
                    if members
                },
            ),
        ]
        gain_at = {name: by_x[at] for name, by_x in groups.items() if at in by_x}
        class_difference, class_slope = units.get(at, (None, None))
        n_seeds = seeds_at.get(at, 0)
        raw_diff, raw_reg = raw_units.get(at, (None, None))
        if raw_diff is not None:
            finding, why = answer(raw_diff, n_seeds)
            why = f"low - high, languages as units: {why}"
        elif raw_reg is not None:
            finding, why = answer(raw_reg.slope, n_seeds, lower_means_more=True)
            why = f"gain per Joshi class (fewer than 2 languages in a group: {len(low)} low, {len(high)} high): {why}"
        else:
            finding, why = "undetermined", f"too few seen languages ({len(low)} low, {len(high)} high)"
        details: dict[str, Any] = {
            "groups": {"low": low, "high": high, "unseen": unseen},
            "best_x": {lang: max(xs, key=lambda x: sign * curve[lang][x]) for lang in langs},
            "curve": curve,
            "x": self.x,
            "at": at,
            "reference": ref,
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
        verdict, conf = Verdict.NOT_CHECKED, None
        if self.hypothesis == "low-gains-more":
            verdict = {"more": Verdict.REPRODUCED, "less": Verdict.NOT_REPRODUCED}.get(finding, Verdict.INCONCLUSIVE)
            if class_difference is not None:
                conf = class_difference.p_positive
            elif raw_reg is not None:
                conf = 1 - raw_reg.slope.p_positive
        elif self.hypothesis == "unseen-gain" and "unseen" in gain_at:
            u = gain_at["unseen"]
            outcome, _ = outcome_of(u.n_seeds, u.p_value if u.p_value is not None else 1.0, u.observed)
            verdict = {"supported": Verdict.REPRODUCED, "contradicted": Verdict.NOT_REPRODUCED}.get(
                outcome, Verdict.INCONCLUSIVE
            )
            conf = u.p_positive
        result = TrendResult(
            verdict=verdict,
            confidence=None if conf is None else round(conf, 4),
            headline=headline,
            details=details,
            tables=[lang_table, group_table, unit_table],
            figures=figures,
            gain_at=gain_at,
            class_difference=class_difference,
            bootstrap_difference=bootstrap_difference,
            class_slope=class_slope,
            finding=finding,
            finding_reason=why,
            n_seeds=n_seeds,
        )
        return result.model_copy(update={"answer": self._answer(result, at, ref)})

    def _answer(self, r: TrendResult, at: float, ref: float) -> str | None:
        """The research question's answer in words: how low- and high-resource languages move from ref to at."""
        g = r.gain_at
        if "low" not in g or "high" not in g:
            return None
        lo, hi = g["low"], g["high"]
        metric = self.describe().split(" vs ")[0]
        s = (
            f"{metric}: moving from {self.x}={ref} to {self.x}={at}, low-resource languages change by "
            f"{lo.observed:+.4f} (95% CI {lo.low:+.4f} to {lo.high:+.4f}) and high-resource ones by "
            f"{hi.observed:+.4f} ({hi.low:+.4f} to {hi.high:+.4f}), {r.n_seeds} seed pairs"
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
        return s + f". Do low-resource languages gain more? {r.finding} ({r.finding_reason})."

    @staticmethod
    def _grid_x(xs: list[float], value: float) -> float:
        return next(x for x in xs if _close(x, value))
