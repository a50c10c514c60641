"""Kind ``comparison``: metric M of arm A against arm(s) B, with a paired bootstrap.

Example (claims/hybrid.yaml)::

    - kind: comparison
      task: xquad-r
      metric: Mul mAP
      a: hybrid
      b: [mono, xy]
      claim: better          # A is better than every B (direction from the metric: lower rank distance is better)

Verdict per B arm, from the probability p that the claimed direction holds (share of bootstrap
replicates): p >= 0.95 reproduced, p <= 0.05 not reproduced, otherwise inconclusive. With several
B arms: all reproduced -> reproduced; some -> partially reproduced; none and at least one
contradicted -> not reproduced; else inconclusive. Confidence is the smallest p.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from repro.checks.base import Check, CheckResult, ClaimRef, Figure, Table, Verdict, register
from repro.checks.bootstrap import REFUTED_AT, REPRODUCED_AT, BootstrapResult, paired_bootstrap
from repro.checks.context import CheckContext
from repro.checks.measurements import Metric, arm_per_query, arm_values, check_arm_metric, paired_diffs, parse_metric
from repro.errors import ReproError


def direction_verdict(p: float) -> Verdict:
    """The verdict of one directional comparison from the probability that its direction holds."""
    if p >= REPRODUCED_AT:
        return Verdict.REPRODUCED
    if p <= REFUTED_AT:
        return Verdict.NOT_REPRODUCED
    return Verdict.INCONCLUSIVE


def combine(verdicts: list[Verdict]) -> Verdict:
    """Several directional verdicts (one claim against several arms) into one."""
    if verdicts and all(v == Verdict.REPRODUCED for v in verdicts):
        return Verdict.REPRODUCED
    if any(v == Verdict.REPRODUCED for v in verdicts):
        return Verdict.PARTIAL
    if any(v == Verdict.NOT_REPRODUCED for v in verdicts):
        return Verdict.NOT_REPRODUCED
    return Verdict.INCONCLUSIVE


@register
class ComparisonCheck(Check):
    """Is arm ``a`` better (or worse, or not worse) than each arm of ``b`` on ``metric``?"""

    kind: Literal["comparison"] = "comparison"
    task: str
    metric: str
    a: str
    b: list[str]
    claim: Literal["better", "worse"] = "better"
    langs: list[str] | None = Field(default=None, description="languages to macro-average (default: all)")
    margin: float = Field(default=0.0, ge=0.0, description="smallest effect that counts, in metric units")
    n_boot: int = Field(default=2000, ge=200)
    seed: int = 0

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

    def run(self, ctx: CheckContext, claim: ClaimRef) -> CheckResult:
        metric = self._metric()
        # "better" means higher, except for lower-is-better metrics such as rank distance.
        want_higher = (self.claim == "better") != metric.lower_is_better
        va = arm_values(ctx, self.a, metric)
        pa = arm_per_query(ctx, self.a, metric, self.langs)
        rows, verdicts, probs, boots = [], [], [], {}
        for b in self.b:
            vb = arm_values(ctx, b, metric)
            diffs, seeds = paired_diffs(pa, arm_per_query(ctx, b, metric, self.langs))
            boot = paired_bootstrap(diffs, n_boot=self.n_boot, seed=self.seed)
            boots[b] = boot
            p = boot.prob_above(self.margin) if want_higher else boot.prob_below(-self.margin)
            verdict = direction_verdict(p)
            verdicts.append(verdict)
            probs.append(p)
            rel = boot.observed / vb.mean() if vb.mean() else float("nan")
            rows.append(
                [
                    b,
                    round(va.mean(), 4),
                    round(vb.mean(), 4),
                    round(boot.observed, 4),
                    f"[{boot.low:.4f}, {boot.high:.4f}]",
                    f"{100 * rel:+.1f} %",
                    len(seeds),
                    boot.n_queries,
                    round(p, 3),
                    verdict.value,
                ]
            )
        verdict = combine(verdicts)
        conf = min(probs)
        worst = self.b[probs.index(conf)]
        bw = boots[worst]
        sign = ">" if want_higher else "<"
        headline = (
            f"{self.task} {self.metric}: {self.a} {va.mean():.4f} vs {worst} "
            f"{arm_values(ctx, worst, metric).mean():.4f} (diff {bw.observed:+.4f}, 95% CI "
            f"[{bw.low:+.4f}, {bw.high:+.4f}]); P({self.a} {sign} {worst}) = {conf:.3f}"
        )
        if len(self.b) > 1:
            headline += f"; against {', '.join(f'{b}: {v.value}' for b, v in zip(self.b, verdicts))}"
        table = Table(
            title=f"{self.a} vs each arm, {self.task} {self.metric} (paired bootstrap over queries and seeds)",
            columns=[
                "B",
                f"{self.a}",
                "B value",
                "A - B",
                "95% CI",
                "relative",
                "seed pairs",
                "queries",
                f"P({self.claim})",
                "verdict",
            ],
            rows=rows,
        )
        langs = sorted(next(iter(pa.values())).keys())
        lang_table = Table(
            title=f"Per language, {self.task} {self.metric} (mean over seeds)",
            columns=["lang", self.a, *self.b],
            rows=[
                [
                    lang,
                    round(va.lang_mean(lang), 4),
                    *(round(arm_values(ctx, b, metric).lang_mean(lang), 4) for b in self.b),
                ]
                for lang in langs
            ],
        )
        fig = Figure(
            title=f"{self.task} {self.metric} per arm",
            kind="bars",
            y_label=self.metric,
            x=[self.a, *self.b],
            series={self.metric: [va.mean(), *(arm_values(ctx, b, metric).mean() for b in self.b)]},
        )
        return CheckResult(
            verdict=verdict,
            confidence=round(conf, 4),
            headline=headline,
            details={
                "metric": self.metric,
                "task": self.task,
                "a": self.a,
                "b": self.b,
                "claim": self.claim,
                "effects": {
                    b: {
                        "observed": bt.observed,
                        "low": bt.low,
                        "high": bt.high,
                        "p": probs[i],
                        "seed_pairs": bt.n_seeds,
                    }
                    for i, (b, bt) in enumerate(boots.items())
                },
                "a_value": va.mean(),
                "a_spread": va.spread(),
                "thresholds": {"reproduced": REPRODUCED_AT, "not_reproduced": REFUTED_AT},
            },
            tables=[table, lang_table],
            figures=[fig],
        )


def bootstrap_arms(
    ctx: CheckContext, a: str, b: str, metric: Metric, langs: list[str] | None = None, n_boot: int = 2000, seed: int = 0
) -> BootstrapResult:
    """The paired bootstrap of ``a - b`` on ``metric`` (shared with the reported-vs-reproduced kind)."""
    diffs, _ = paired_diffs(arm_per_query(ctx, a, metric, langs), arm_per_query(ctx, b, metric, langs))
    return paired_bootstrap(diffs, n_boot=n_boot, seed=seed)
