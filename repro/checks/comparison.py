"""Kind ``comparison``: metric M of arm A against arm(s) B, a seed-level test over seeds and items.

Example (claims/hybrid.yaml)::

    - kind: comparison
      task: xquad-r
      metric: Mul mAP
      a: hybrid
      b: [mono, xy]
      claim: better          # A is better than every B (direction from the metric: lower rank distance is better)
      margin: 0.0            # better by more than this (metric units); default 0

``claim``: ``better`` / ``worse`` (A - B beyond ``margin`` in that direction), ``not-worse``
(non-inferiority: A is at most ``margin`` worse than B; needs a margin > 0) or ``equivalent``
(``|A - B| < margin``, two one-sided tests; needs a margin > 0). Non-inferiority is decided by the
95% interval's bound against ``-margin``, equivalence by the 90% interval inside ``(-margin, margin)``
(TOST at 5%); a difference decisively beyond the margin contradicts either.

Per B arm: the macro-averaged per-query difference A - B, paired by seed, tested with the paired
t over seed pairs whose variance includes the parallel items' (docs/statistics.md). Decisive when
the 95% interval excludes the margin after Holm's adjustment over the B arms (and, in
``repro verify``, over all tests of the claim) and there are >= 3 seed pairs: in the claimed
direction -> reproduced, against it -> not reproduced; otherwise inconclusive, with the number of
seeds that would decide it. Fixed models on both sides (an evaluation-only experiment's points,
base models) have no training seeds: their one "seed pair" is the whole design, a paired t over
the items decides. Several B arms: all reproduced -> reproduced; some -> partially
reproduced; one contradicted -> not reproduced (docs/statistics.md, "From parts to a verdict").
Each test reports its interval and Holm-adjusted p (the decisive quantity), and its sensitivity:
the p with seeds unpaired, and the standard error with items not nested in articles.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from repro.checks.base import Check, CheckResult, ClaimRef, Figure, Table, Verdict, register
from repro.checks.context import CheckContext
from repro.checks.measurements import ArmValues, Metric, arm_per_query, arm_values, check_arm_metric, parse_metric
from repro.checks.stats.seed_test import MIN_SEEDS, seed_t_test
from repro.checks.tested import ArmTest, StatisticalResult, adjusted, arm_test, arms_design, fixed_models, tested_key
from repro.errors import ReproError
from repro.evaluation.declarations import declared


def _clusters(t: ArmTest) -> str:
    return f" in {t.n_clusters} articles" if t.n_clusters else ""


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
    claim: Literal["better", "worse", "not-worse", "equivalent"] = "better"
    langs: list[str] | None = Field(default=None, description="languages to macro-average (default: all)")
    margin: float = Field(
        default=0.0,
        ge=0.0,
        description="better/worse: smallest effect that counts; not-worse: the loss allowed; equivalent: "
        "the largest difference that counts as none (metric units)",
    )

    @model_validator(mode="after")
    def _margin_needed(self) -> ComparisonCheck:
        if self.claim in ("not-worse", "equivalent") and self.margin <= 0:
            raise ValueError(f"claim: {self.claim} needs a margin > 0 (in metric units)")
        return self

    @field_validator("b", mode="before")
    @classmethod
    def _listify(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    def describe(self) -> str:
        if self.label:
            return self.label
        rel = {"not-worse": "not worse than", "equivalent": "equivalent to"}.get(self.claim, f"{self.claim} than")
        return f"{self.a} {rel} {', '.join(self.b)}: {self.task} {self.metric}"

    def _value(self, v: ArmValues) -> float:
        """An arm's value as the test averages it: over all languages, or the macro average of ``langs``."""
        if not self.langs:
            return v.mean()
        return float(sum(v.lang_mean(lang) for lang in self.langs) / len(self.langs))

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
        direction = 1 if (self.claim in ("better", "not-worse")) != metric.lower_is_better else -1
        # Non-inferiority: A - B beyond -margin in the better direction; equivalence: |A - B| < margin.
        margin = -self.margin if self.claim == "not-worse" else self.margin
        equivalence = self.claim == "equivalent"
        va = arm_values(ctx, self.a, metric)
        values = {b: arm_values(ctx, b, metric) for b in self.b}
        value = self._value
        tests: list[ArmTest] = []
        for b in self.b:
            design, pa, pb = arms_design(ctx, self.a, b, metric, self.langs)
            test = seed_t_test(design, direction, margin, equivalence=equivalence)
            key = tested_key(self.task, self.metric, self.a, b, self.langs, self.margin) + (
                f"|{self.claim}" if self.claim in ("not-worse", "equivalent") else ""
            )
            vb = value(values[b])
            rel = f"{100 * test.estimate / vb:+.1f} %" if vb else ""
            min_seeds = 1 if fixed_models(ctx, self.a, b) else MIN_SEEDS
            context = [b, round(value(va), 4), round(vb, 4), rel]
            tests.append(arm_test(b, key, test, context, min_seeds=min_seeds, design=design, per_query=(pa, pb)))
        tests = adjusted(tests)  # the B arms are one family
        langs_txt = f" ({' '.join(self.langs)})" if self.langs else ""
        # The headline shows the test nearest to failing: a contradicted one, else the largest p.
        worst = max(tests, key=lambda t: (t.outcome == "contradicted", t.p_adjusted))
        # Untrained models have no training seeds to speak of: their one "pair" is the whole design.
        if fixed_models(ctx, self.a, worst.name):
            seeds = "untrained models, no seeds"
        else:
            seeds = f"{worst.n_seeds} seed pair{'s' if worst.n_seeds != 1 else ''}"
        statement = (
            f"{self.task} {self.metric}{langs_txt}: {self.a} {value(va):.4f} vs {worst.name} {value(values[worst.name]):.4f} "
            f"(diff {worst.estimate:+.4f}, 95% CI [{worst.low:+.4f}, {worst.high:+.4f}], {seeds}, "
            f"{worst.n_items} items{_clusters(worst)}); tested {worst.hypothesis}, p (Holm) = {worst.p_adjusted:.3g}"
        )
        pa = arm_per_query(ctx, self.a, metric, self.langs)
        langs = sorted(next(iter(pa.values())).keys())
        noun = declared(self.task).rows
        lang_table = Table(
            title=f"Per {noun}, {self.task} {self.metric} (mean over seeds)",
            columns=["lang" if noun == "language" else noun, self.a, *self.b],
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
            series={self.metric: [value(va), *(value(values[b]) for b in self.b)]},
        )
        result = ComparisonResult(
            verdict=Verdict.INCONCLUSIVE,
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
                "a_value": value(va),
                "a_spread": va.spread(),
            },
            tables=[lang_table] if len(langs) > 1 else [],
            figures=[fig],
        )
        return result.with_tests(tests)
