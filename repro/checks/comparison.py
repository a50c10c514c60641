"""Kind ``comparison``: metric M of arm A against arm(s) B, a seed-level test over seeds and items.

Example (claims/hybrid.yaml)::

    - kind: comparison
      task: xquad-r
      metric: Mul mAP
      a: hybrid
      b: [mono, xy]
      claim: better          # A is better than every B (direction from the metric: lower rank distance is better)

Per B arm: the macro-averaged per-query difference A - B, paired by seed, tested with the paired
t over seed pairs whose variance includes the parallel items' (docs/statistics.md). Decisive when
the 95% interval excludes the margin after Holm's adjustment over the B arms (and, in
``repro verify``, over all tests of the claim) and there are >= 3 seed pairs: in the claimed
direction -> reproduced, against it -> not reproduced; otherwise inconclusive, with the number of
seeds that would decide it. Fixed models on both sides (an evaluation-only experiment's points,
base models) have no training seeds: their one "seed pair" is the whole design, a paired t over
the items decides. Several B arms: all reproduced -> reproduced; some -> partially
reproduced; none and at least one contradicted -> not reproduced; else inconclusive. Confidence
is the smallest probability that the claimed direction holds.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from repro.checks.base import Check, CheckResult, ClaimRef, Figure, Table, Verdict, register
from repro.checks.context import CheckContext
from repro.checks.measurements import Metric, arm_per_query, arm_values, check_arm_metric, parse_metric
from repro.checks.stats.seed_test import MIN_SEEDS
from repro.checks.tested import ArmTest, StatisticalResult, adjusted, arm_test, arms_test, fixed_models, tested_key
from repro.errors import ReproError


class ComparisonResult(StatisticalResult):
    """A comparison's result: one test per B arm (:class:`~repro.checks.tested.ArmTest`)."""


@register
class ComparisonCheck(Check):
    """Is arm ``a`` better (or worse, or not worse) than each arm of ``b`` on ``metric``?"""

    kind: Literal["comparison"] = "comparison"
    result_type: ClassVar[type[CheckResult]] = ComparisonResult
    task: str
    metric: str
    a: str
    b: list[str]
    claim: Literal["better", "worse"] = "better"
    langs: list[str] | None = Field(default=None, description="languages to macro-average (default: all)")
    margin: float = Field(default=0.0, ge=0.0, description="smallest effect that counts, in metric units")

    @field_validator("b", mode="before")
    @classmethod
    def _listify(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    def describe(self) -> str:
        return self.label or f"{self.a} {self.claim} than {', '.join(self.b)}: {self.task} {self.metric}"

    def _metric(self) -> Metric:
        return parse_metric(self.task, self.metric)

    def experiments(self, ctx: CheckContext) -> list[str]:
        return sorted({ctx.arms[a].experiment for a in [self.a, *self.b] if a in ctx.arms})

    def validate_in(self, ctx: CheckContext) -> list[str]:
        try:
            metric = self._metric()
        except ReproError as exc:
            return [str(exc)]
        problems: list[str] = []
        for arm in [self.a, *self.b]:
            problems += check_arm_metric(ctx, arm, metric, per_query=True)
        return list(dict.fromkeys(problems))

    def run(self, ctx: CheckContext, claim: ClaimRef) -> ComparisonResult:
        metric = self._metric()
        # "better" means higher, except for lower-is-better metrics such as rank distance.
        direction = 1 if (self.claim == "better") != metric.lower_is_better else -1
        va = arm_values(ctx, self.a, metric)
        values = {b: arm_values(ctx, b, metric) for b in self.b}
        tests: list[ArmTest] = []
        for b in self.b:
            test = arms_test(ctx, self.a, b, metric, direction, self.margin, self.langs)
            key = tested_key(self.task, self.metric, self.a, b, self.langs, self.margin)
            vb = values[b].mean()
            rel = f"{100 * test.estimate / vb:+.1f} %" if vb else ""
            min_seeds = 1 if fixed_models(ctx, self.a, b) else MIN_SEEDS
            tests.append(arm_test(b, key, test, [b, round(va.mean(), 4), round(vb, 4), rel], min_seeds=min_seeds))
        tests = adjusted(tests)  # the B arms are one family
        worst = min(tests, key=lambda t: t.p_direction)
        sign = ">" if direction > 0 else "<"
        # Untrained models have no training seeds to speak of: their one "pair" is the whole design.
        if fixed_models(ctx, self.a, worst.name):
            seeds = "untrained models, no seeds"
        else:
            seeds = f"{worst.n_seeds} seed pair{'s' if worst.n_seeds != 1 else ''}"
        statement = (
            f"{self.task} {self.metric}: {self.a} {va.mean():.4f} vs {worst.name} {values[worst.name].mean():.4f} "
            f"(diff {worst.estimate:+.4f}, 95% CI [{worst.low:+.4f}, {worst.high:+.4f}], {seeds}, "
            f"{worst.n_items} items); P({self.a} {sign} {worst.name}) = {worst.p_direction:.3f}"
        )
        pa = arm_per_query(ctx, self.a, metric, self.langs)
        langs = sorted(next(iter(pa.values())).keys())
        lang_table = Table(
            title=f"Per language, {self.task} {self.metric} (mean over seeds)",
            columns=["lang", self.a, *self.b],
            rows=[
                [lang, round(va.lang_mean(lang), 4), *(round(values[b].lang_mean(lang), 4) for b in self.b)]
                for lang in langs
            ],
        )
        fig = Figure(
            title=f"{self.task} {self.metric} per arm",
            kind="bars",
            y_label=self.metric,
            x=[self.a, *self.b],
            series={self.metric: [va.mean(), *(values[b].mean() for b in self.b)]},
        )
        result = ComparisonResult(
            verdict=Verdict.INCONCLUSIVE,
            confidence=round(worst.p_direction, 4),
            headline=statement,
            statement=statement,
            tests_title=f"{self.a} vs each arm, {self.task} {self.metric} (paired t over seed pairs, variance from "
            "seeds and parallel items; Holm over the claim's tests)",
            context_columns=["B", self.a, "B value", "relative"],
            details={
                "metric": self.metric,
                "task": self.task,
                "a": self.a,
                "b": self.b,
                "claim": self.claim,
                "a_value": va.mean(),
                "a_spread": va.spread(),
            },
            tables=[lang_table],
            figures=[fig],
        )
        return result.with_tests(tests)
