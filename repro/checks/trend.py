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
training corpus held them out (unseen). The group difference in gain is bootstrapped over
queries and seeds at every x. ``hypothesis``:

- ``low-gains-more``: low-resource languages gain more than high-resource ones at ``at``;
- ``unseen-gain``: held-out languages gain at ``at``;
- omitted: the check only reports (verdict "not checked", the numbers are the answer).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field

from repro.checks.base import Check, CheckResult, ClaimRef, Figure, Table, Verdict, register
from repro.checks.bootstrap import BootstrapResult, paired_bootstrap
from repro.checks.comparison import direction_verdict
from repro.checks.context import CheckContext
from repro.checks.measurements import paired_diffs, parse_metric, points_per_query
from repro.errors import ReproError


class GroupGain(BaseModel):
    """The bootstrapped gain of one language group (or of the low - high difference) at ``at`` over ``reference``."""

    observed: float
    low: float
    high: float
    p_positive: float


class TrendResult(CheckResult):
    """A trend check's result with its group gains and the research question's answer they give."""

    gain_at: dict[str, GroupGain] = Field(default_factory=dict, description="group -> gain at `at`")
    answer: str | None = Field(default=None, description="the answer in words; None without low and high groups")


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
        groups: dict[str, dict[float, BootstrapResult]] = {"low": {}, "high": {}, "unseen": {}, "low - high": {}}
        for x in xs:
            if _close(x, self.reference):
                continue
            diffs, _ = paired_diffs(points_per_query(ctx, self.experiment, at_x[x], metric), ref_pq)
            diffs = {k: sign * v for k, v in diffs.items()}
            for name, members in (("low", low), ("high", high), ("unseen", unseen)):
                if members:
                    groups[name][x] = paired_bootstrap(
                        {m: diffs[m] for m in members}, n_boot=self.n_boot, seed=self.seed
                    )
            if low and high:
                w = {**{m: 1 / len(low) for m in low}, **{m: -1 / len(high) for m in high}}
                groups["low - high"][x] = paired_bootstrap(
                    {m: diffs[m] for m in low + high}, weights=w, n_boot=self.n_boot, seed=self.seed
                )
        at = self._grid_x(xs, self.at)
        ref = self._grid_x(xs, self.reference)

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
            for x, bt in by_x.items():
                group_rows.append(
                    [name, x, round(bt.observed, 4), f"[{bt.low:+.4f}, {bt.high:+.4f}]", round(bt.prob_above(0), 3)]
                )
        group_table = Table(
            title=f"Gain over {self.x}={ref} by language group (bootstrap over queries and seeds)",
            columns=["group", self.x, "mean gain", "95% CI", "P(gain > 0)"],
            rows=group_rows,
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
        diff_at = groups["low - high"].get(at)
        gain_at = {
            name: GroupGain(observed=bt[at].observed, low=bt[at].low, high=bt[at].high, p_positive=bt[at].prob_above(0))
            for name, bt in groups.items()
            if at in bt
        }
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
            if at in groups[name]:
                bt = groups[name][at]
                parts.append(f"{name} {bt.observed:+.4f} [{bt.low:+.4f}, {bt.high:+.4f}]")
        headline = f"{self.task} {self.metric} gain at {self.x}={at} over {self.x}={ref}: " + "; ".join(parts)
        if diff_at is not None:
            headline += f"; low - high {diff_at.observed:+.4f}, P(low gains more) = {diff_at.prob_above(0):.3f}"
        verdict, conf = Verdict.NOT_CHECKED, None
        if self.hypothesis == "low-gains-more" and diff_at is not None:
            conf = diff_at.prob_above(0)
            verdict = direction_verdict(conf)
        elif self.hypothesis == "unseen-gain" and at in groups["unseen"]:
            conf = groups["unseen"][at].prob_above(0)
            verdict = direction_verdict(conf)
        return TrendResult(
            verdict=verdict,
            confidence=None if conf is None else round(conf, 4),
            headline=headline,
            details=details,
            tables=[lang_table, group_table],
            figures=figures,
            gain_at=gain_at,
            answer=self._answer(gain_at, at, ref),
        )

    def _answer(self, gain_at: dict[str, GroupGain], at: float, ref: float) -> str | None:
        """The research question's answer in words: how low- and high-resource languages move from ref to at."""
        if "low" not in gain_at or "high" not in gain_at:
            return None
        lo, hi = gain_at["low"], gain_at["high"]
        metric = self.describe().split(" vs ")[0]
        s = (
            f"{metric}: moving from {self.x}={ref} to {self.x}={at}, low-resource languages change by "
            f"{lo.observed:+.4f} (95% CI {lo.low:+.4f} to {lo.high:+.4f}) and high-resource ones by "
            f"{hi.observed:+.4f} ({hi.low:+.4f} to {hi.high:+.4f})"
        )
        if "low - high" in gain_at:
            s += f"; P(low-resource gain more) = {gain_at['low - high'].p_positive:.2f}"
        if "unseen" in gain_at:
            u = gain_at["unseen"]
            s += f"; unseen languages {u.observed:+.4f} ({u.low:+.4f} to {u.high:+.4f})"
        return s + "."

    @staticmethod
    def _grid_x(xs: list[float], value: float) -> float:
        return next(x for x in xs if _close(x, value))
