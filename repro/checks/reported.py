"""Kind ``reported``: our effect, with its interval, against the paper's number.

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
paper's direction with the comparison kind's seed-level test (docs/statistics.md; fixed,
untrained models are decided over the items as comparisons are). Per backbone: decided in the
paper's direction (p <= 0.05 after Holm over the claim's tests) -> reproduced; against it -> not
reproduced; undecided -> inconclusive; the parts combine as every claim's do (one contradiction
refutes). Beside it, our relative effect's 95% interval (the difference's interval over B's mean)
and whether the paper's relative effect lies inside it (``paper_inside``): the size is reported,
not decided, since a smaller backbone at a smaller scale need not reach the paper's size.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from repro.checks.base import Check, CheckResult, ClaimRef, Figure, Verdict, register
from repro.checks.context import CheckContext
from repro.checks.measurements import arm_values, check_arm_metric, parse_metric
from repro.checks.stats.seed_test import MIN_SEEDS, seed_t_test
from repro.checks.tested import StatisticalResult, adjusted, arm_test, arms_design, fixed_models, tested_key
from repro.errors import ReproError


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


class RelativeEffect(BaseModel):
    """Our relative effect ``(A - B) / B`` with its 95% interval, against one paper backbone's."""

    backbone: str
    paper: float
    ours: float
    low: float
    high: float
    paper_inside: bool


class ReportedResult(StatisticalResult):
    """One test per paper backbone (the same difference, in the paper's direction) and our size relative to it."""

    sizes: list[float] = Field(default_factory=list, description="per backbone: our relative effect / the paper's")
    relative: list[RelativeEffect] = Field(
        default_factory=list, description="per backbone: our relative effect's interval and the paper's value"
    )


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
        design, pa, pb = arms_design(ctx, self.a, self.b, metric)
        by_direction = {d: seed_t_test(design, d) for d in {1 if pp.relative > 0 else -1 for pp in self.paper}}
        min_seeds = 1 if fixed_models(ctx, self.a, self.b) else MIN_SEEDS
        tests, sizes, relative = [], [], []
        for pp in self.paper:
            test = by_direction[1 if pp.relative > 0 else -1]
            ours_rel = test.estimate / vb
            size = ours_rel / pp.relative if pp.relative else float("nan")
            sizes.append(size)
            lo, hi = sorted((test.low / vb, test.high / vb))
            inside = lo <= pp.relative <= hi
            relative.append(
                RelativeEffect(
                    backbone=pp.backbone, paper=pp.relative, ours=ours_rel, low=lo, high=hi, paper_inside=inside
                )
            )
            context = [
                pp.backbone,
                pp.a,
                pp.b,
                f"{100 * pp.relative:+.1f} %",
                f"{100 * ours_rel:+.1f} % [{100 * lo:+.1f}, {100 * hi:+.1f}]",
                "yes" if inside else "no",
            ]
            tests.append(arm_test(pp.backbone, key, test, context, min_seeds, design=design, per_query=(pa, pb)))
        tests = adjusted(tests)
        first = tests[0]
        ours_rel = first.estimate / vb
        paper_txt = ", ".join(
            f"{r.backbone} {100 * r.paper:+.1f} % ({'inside' if r.paper_inside else 'outside'})" for r in relative
        )
        statement = (
            f"{self.task} {self.metric}, {self.a} vs {self.b}: ours {100 * ours_rel:+.1f} % "
            f"[{100 * relative[0].low:+.1f}, {100 * relative[0].high:+.1f}] ({va:.4g} vs {vb:.4g}; difference "
            f"{first.estimate:+.4g} [{first.low:+.4g}, {first.high:+.4g}], {first.n_seeds} seed pairs), "
            f"paper {paper_txt} our interval"
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
            headline=statement,
            statement=statement,
            tests_title=f"Relative effect of {self.a} over {self.b}: paper (per backbone) vs ours (e5-small), "
            "tested in the paper's direction",
            context_columns=[
                "paper backbone",
                f"paper {self.a}",
                f"paper {self.b}",
                "paper effect",
                "our effect, 95% CI",
                "paper inside",
            ],
            sizes=sizes,
            relative=relative,
            details={
                "ours": {
                    "a": va,
                    "b": vb,
                    "relative": ours_rel,
                    "diff": first.estimate,
                    "low": first.low,
                    "high": first.high,
                },
            },
            figures=[fig],
        )
        return result.with_tests(tests)
