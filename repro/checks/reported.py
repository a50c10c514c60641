"""Kind ``reported``: our effect beside the paper's — same sign? how large relative to it?

Example::

    - kind: reported
      task: xquad-r
      metric: rank distance
      a: hybrid
      b: mono
      paper:                      # the paper's values of A and B, one entry per backbone
        - {backbone: XLM-R, a: 286.6, b: 410.2}
        - {backbone: LaBSE, a: 221.1, b: 261.5}

Effects are compared relative to B (``(A - B) / B``) because our backbone and scale differ from
the paper's, so absolute values are not comparable. Our difference A - B is tested in the
paper's direction with the comparison kind's seed-level test (docs/statistics.md). Per backbone:
decided in the paper's direction (>= 3 seed pairs, p <= 0.05 after Holm over the claim's tests)
with at least half its relative size -> reproduced; decided but smaller -> partially reproduced;
decided against it -> not reproduced; undecided -> inconclusive. Over backbones: all reproduced ->
reproduced, all not reproduced -> not reproduced, any reproduced or partial -> partially reproduced.
Confidence: the smallest probability of the paper's sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from repro.checks.base import Check, CheckResult, ClaimRef, Figure, Verdict, register
from repro.checks.context import CheckContext
from repro.checks.measurements import arm_values, check_arm_metric, parse_metric
from repro.checks.tested import ArmTest, StatisticalResult, adjusted, arm_test, arms_test, tested_key
from repro.errors import ReproError

# Share of the paper's relative effect ours must reach to count as the same effect.
MIN_RELATIVE_SIZE = 0.5


class PaperPair(BaseModel):
    """The paper's values of arms A and B for one backbone."""

    model_config = ConfigDict(extra="forbid")

    backbone: str
    a: float
    b: float
    where: str = ""

    @property
    def relative(self) -> float:
        """The paper's relative effect ``(A - B) / B``."""
        return (self.a - self.b) / self.b


class ReportedResult(StatisticalResult):
    """One test per paper backbone (the same difference, in the paper's direction) and our size relative to it."""

    sizes: list[float] = Field(default_factory=list, description="per backbone: our relative effect / the paper's")

    def verdict_of(self, tests: Sequence[ArmTest]) -> Verdict:
        verdicts = []
        for t, size in zip(tests, self.sizes):
            if t.outcome == "supported":
                verdicts.append(Verdict.REPRODUCED if size >= MIN_RELATIVE_SIZE else Verdict.PARTIAL)
            elif t.outcome == "contradicted":
                verdicts.append(Verdict.NOT_REPRODUCED)
            else:
                verdicts.append(Verdict.INCONCLUSIVE)
        if verdicts and all(v == Verdict.REPRODUCED for v in verdicts):
            return Verdict.REPRODUCED
        if verdicts and all(v == Verdict.NOT_REPRODUCED for v in verdicts):
            return Verdict.NOT_REPRODUCED
        if any(v in (Verdict.REPRODUCED, Verdict.PARTIAL, Verdict.NOT_REPRODUCED) for v in verdicts):
            return Verdict.PARTIAL
        return Verdict.INCONCLUSIVE


@register
class ReportedCheck(Check):
    """Our relative effect of A over B next to the paper's."""

    kind: Literal["reported"] = "reported"
    result_type: ClassVar[type[CheckResult]] = ReportedResult
    task: str
    metric: str
    a: str
    b: str
    paper: list[PaperPair] = Field(min_length=1)

    def describe(self) -> str:
        return self.label or f"paper vs ours: {self.a} - {self.b}, {self.task} {self.metric}"

    def experiments(self, ctx: CheckContext) -> list[str]:
        return sorted({ctx.arms[a].experiment for a in (self.a, self.b) if a in ctx.arms})

    def validate_in(self, ctx: CheckContext) -> list[str]:
        try:
            metric = parse_metric(self.task, self.metric)
        except ReproError as exc:
            return [str(exc)]
        return list(
            dict.fromkeys(check_arm_metric(ctx, self.a, metric, True) + check_arm_metric(ctx, self.b, metric, True))
        )

    def run(self, ctx: CheckContext, claim: ClaimRef) -> ReportedResult:
        metric = parse_metric(self.task, self.metric)
        va, vb = arm_values(ctx, self.a, metric).mean(), arm_values(ctx, self.b, metric).mean()
        key = tested_key(self.task, self.metric, self.a, self.b, None)
        by_direction = {
            d: arms_test(ctx, self.a, self.b, metric, d) for d in {1 if pp.relative > 0 else -1 for pp in self.paper}
        }
        tests, sizes = [], []
        for pp in self.paper:
            test = by_direction[1 if pp.relative > 0 else -1]
            ours_rel = test.estimate / vb
            size = ours_rel / pp.relative if pp.relative else float("nan")
            sizes.append(size)
            context = [
                pp.backbone,
                pp.a,
                pp.b,
                f"{100 * pp.relative:+.1f} %",
                f"{100 * ours_rel:+.1f} %",
                f"{size:.2f}",
            ]
            tests.append(arm_test(pp.backbone, key, test, context))
        tests = adjusted(tests)
        first = tests[0]
        ours_rel = first.estimate / vb
        paper_txt = ", ".join(f"{pp.backbone} {100 * pp.relative:+.1f} %" for pp in self.paper)
        statement = (
            f"{self.task} {self.metric}, {self.a} vs {self.b}: ours {100 * ours_rel:+.1f} % "
            f"({va:.4g} vs {vb:.4g}; 95% CI of the difference [{first.low:+.4g}, {first.high:+.4g}], "
            f"{first.n_seeds} seed pairs), paper {paper_txt}"
        )
        fig = Figure(
            title=f"Relative effect of {self.a} over {self.b} ({self.task} {self.metric})",
            kind="bars",
            y_label="(A - B) / B, %",
            x=[*(f"paper {pp.backbone}" for pp in self.paper), "ours"],
            series={"relative effect": [*(100 * pp.relative for pp in self.paper), 100 * ours_rel]},
        )
        result = ReportedResult(
            verdict=Verdict.INCONCLUSIVE,
            confidence=round(min(t.p_direction for t in tests), 4),
            headline=statement,
            statement=statement,
            tests_title=f"Relative effect of {self.a} over {self.b}: paper (per backbone) vs ours (e5-small), "
            "tested in the paper's direction",
            context_columns=[
                "paper backbone",
                f"paper {self.a}",
                f"paper {self.b}",
                "paper effect",
                "our effect",
                "ours / paper",
            ],
            sizes=sizes,
            details={
                "ours": {
                    "a": va,
                    "b": vb,
                    "relative": ours_rel,
                    "diff": first.estimate,
                    "low": first.low,
                    "high": first.high,
                },
                "min_relative_size": MIN_RELATIVE_SIZE,
            },
            figures=[fig],
        )
        return result.with_tests(tests)
