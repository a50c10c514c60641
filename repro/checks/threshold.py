"""Kind ``threshold``: one arm's metric against a number ("accuracy is above 0.8"), with its interval.

Example::

    - kind: threshold
      task: tatoeba
      metric: xx->en
      arm: hybrid
      claim: above          # or below
      value: 0.8
      langs: [deu, fra]     # optional: macro-average these languages (default: all)

The arm's macro-averaged value minus ``value`` is tested like a comparison's difference (a paired
design against a constant: seeds x parallel items, items nested in their articles where the task
has them; docs/statistics.md): decided when its 95% interval excludes the threshold (p <= 0.05
after Holm over the claim's tests) with >= 3 seeds, or over the items alone for fixed (untrained)
models; above it in the claimed direction -> reproduced, on the other side -> not reproduced,
otherwise inconclusive. Every query at the same value (no variation) decides nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from repro.checks.base import Check, CheckResult, ClaimRef, Figure, Verdict, register
from repro.checks.context import CheckContext
from repro.checks.measurements import (
    arm_per_query,
    arm_values,
    check_arm_metric,
    item_clusters,
    paired_items,
    parse_metric,
)
from repro.checks.stats.design import build_design
from repro.checks.stats.seed_test import MIN_SEEDS, seed_t_test
from repro.checks.tested import StatisticalResult, adjusted, arm_test, fixed_models
from repro.errors import ReproError


class ThresholdResult(StatisticalResult):
    """A threshold check's result: one test of the arm's value minus the threshold."""


@register
class ThresholdCheck(Check):
    """Is ``arm``'s ``metric`` above (or below) ``value``?"""

    kind: Literal["threshold"] = "threshold"
    result_type: ClassVar[type[CheckResult]] = ThresholdResult
    task: str
    metric: str
    arm: str
    claim: Literal["above", "below"] = "above"
    value: float = Field(description="the threshold, in metric units")
    langs: list[str] | None = Field(default=None, description="languages to macro-average (default: all)")

    def describe(self) -> str:
        return self.label or f"{self.arm} {self.claim} {self.value:g}: {self.task} {self.metric}"

    def experiments(self, ctx: CheckContext) -> list[str]:
        return [ctx.arms[self.arm].experiment] if self.arm in ctx.arms else []

    def validate_in(self, ctx: CheckContext) -> list[str]:
        try:
            metric = parse_metric(self.task, self.metric)
        except ReproError as exc:
            return [str(exc)]
        return check_arm_metric(ctx, self.arm, metric, per_query=True)

    def run(self, ctx: CheckContext, claim: ClaimRef) -> ThresholdResult:
        metric = parse_metric(self.task, self.metric)
        direction = 1 if self.claim == "above" else -1
        pa = arm_per_query(ctx, self.arm, metric, self.langs)
        # The threshold as a second "arm": one fixed model whose every query scores `value`.
        first = next(iter(pa.values()))
        constant: dict[Any, dict[str, tuple[np.ndarray, np.ndarray]]] = {
            "threshold": {lang: (ids, np.full(len(ids), self.value)) for lang, (ids, _) in first.items()}
        }
        items, seeds = paired_items(pa, constant)
        design = build_design(items, seeds).clustered(item_clusters(metric.task))
        test = seed_t_test(design, direction)
        min_seeds = 1 if fixed_models(ctx, self.arm) else MIN_SEEDS
        va = arm_values(ctx, self.arm, metric)
        mean = float(np.mean([va.lang_mean(lang) for lang in self.langs])) if self.langs else va.mean()
        key = f"{self.task}|{self.metric}|{self.arm}|{self.claim}|{self.value:g}|{','.join(sorted(self.langs or []))}"
        t = arm_test(
            f"{self.claim} {self.value:g}",
            key,
            test,
            [self.arm, round(mean, 4), self.value],
            min_seeds=min_seeds,
            design=design,
        )
        tests = adjusted([t])
        t = tests[0]
        seeds_txt = "fixed model, no seeds" if min_seeds <= 1 else f"{t.n_seeds} seeds"
        statement = (
            f"{self.task} {self.metric}: {self.arm} {mean:.4f} vs threshold {self.value:g} (difference "
            f"{t.estimate:+.4f}, 95% CI [{t.low:+.4f}, {t.high:+.4f}], {seeds_txt}, {t.n_items} items); "
            f"tested {self.arm} {'>' if direction > 0 else '<'} {self.value:g}, p (Holm) = {t.p_adjusted:.3g}"
        )
        result = ThresholdResult(
            verdict=Verdict.INCONCLUSIVE,
            headline=statement,
            statement=statement,
            tests_title=f"{self.arm} against {self.value:g}, {self.task} {self.metric} (t over seeds whose variance "
            "includes the items'; Holm over the claim's tests)",
            context_columns=["arm", "value", "threshold"],
            details={"task": self.task, "metric": self.metric, "arm": self.arm, "value": mean, "threshold": self.value},
            figures=[
                Figure(
                    title=f"{self.task} {self.metric}: {self.arm} vs the threshold",
                    kind="bars",
                    y_label=self.metric,
                    x=[self.arm, "threshold"],
                    series={self.metric: [mean, self.value]},
                )
            ],
        )
        return result.with_tests(tests)
