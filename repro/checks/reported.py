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
the paper's, so absolute values are not comparable. Verdict: our effect has the paper's sign in
every backbone with P >= 0.95 and at least half its relative size -> reproduced; right sign but
smaller or less certain -> partially reproduced; opposite sign with P >= 0.95 -> not reproduced;
otherwise inconclusive. Confidence: the bootstrap probability of the paper's sign.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from repro.checks.base import Check, CheckResult, ClaimRef, Figure, Table, Verdict, register
from repro.checks.bootstrap import REFUTED_AT, REPRODUCED_AT
from repro.checks.comparison import bootstrap_arms
from repro.checks.context import CheckContext
from repro.checks.measurements import arm_values, check_arm_metric, parse_metric
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


@register
class ReportedCheck(Check):
    """Our relative effect of A over B next to the paper's."""

    kind: Literal["reported"] = "reported"
    task: str
    metric: str
    a: str
    b: str
    paper: list[PaperPair] = Field(min_length=1)
    n_boot: int = Field(default=2000, ge=200)
    seed: int = 0

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

    def run(self, ctx: CheckContext, claim: ClaimRef) -> CheckResult:
        metric = parse_metric(self.task, self.metric)
        va, vb = arm_values(ctx, self.a, metric).mean(), arm_values(ctx, self.b, metric).mean()
        boot = bootstrap_arms(ctx, self.a, self.b, metric, n_boot=self.n_boot, seed=self.seed)
        ours_rel = boot.observed / vb
        rows, verdicts, probs = [], [], []
        for pp in self.paper:
            same_sign_p = boot.prob_above(0) if pp.relative > 0 else boot.prob_below(0)
            size = ours_rel / pp.relative if pp.relative else float("nan")
            if same_sign_p >= REPRODUCED_AT and size >= MIN_RELATIVE_SIZE:
                v = Verdict.REPRODUCED
            elif same_sign_p <= REFUTED_AT:
                v = Verdict.NOT_REPRODUCED
            elif same_sign_p >= REPRODUCED_AT:
                v = Verdict.PARTIAL
            else:
                v = Verdict.INCONCLUSIVE
            verdicts.append(v)
            probs.append(same_sign_p)
            rows.append(
                [
                    pp.backbone,
                    pp.a,
                    pp.b,
                    f"{100 * pp.relative:+.1f} %",
                    f"{100 * ours_rel:+.1f} %",
                    f"{size:.2f}",
                    round(same_sign_p, 3),
                    v.value,
                ]
            )
        if all(v == Verdict.REPRODUCED for v in verdicts):
            verdict = Verdict.REPRODUCED
        elif any(v == Verdict.NOT_REPRODUCED for v in verdicts):
            verdict = Verdict.NOT_REPRODUCED if all(v == Verdict.NOT_REPRODUCED for v in verdicts) else Verdict.PARTIAL
        elif any(v in (Verdict.REPRODUCED, Verdict.PARTIAL) for v in verdicts):
            verdict = Verdict.PARTIAL
        else:
            verdict = Verdict.INCONCLUSIVE
        paper_txt = ", ".join(f"{pp.backbone} {100 * pp.relative:+.1f} %" for pp in self.paper)
        headline = (
            f"{self.task} {self.metric}, {self.a} vs {self.b}: ours {100 * ours_rel:+.1f} % "
            f"({va:.4g} vs {vb:.4g}; 95% CI of the difference [{boot.low:+.4g}, {boot.high:+.4g}]), "
            f"paper {paper_txt}"
        )
        table = Table(
            title=f"Relative effect of {self.a} over {self.b}: paper (per backbone) vs ours (e5-small)",
            columns=[
                "paper backbone",
                f"paper {self.a}",
                f"paper {self.b}",
                "paper effect",
                "our effect",
                "ours / paper",
                "P(same sign)",
                "verdict",
            ],
            rows=rows,
        )
        fig = Figure(
            title=f"Relative effect of {self.a} over {self.b} ({self.task} {self.metric})",
            kind="bars",
            y_label="(A - B) / B, %",
            x=[*(f"paper {pp.backbone}" for pp in self.paper), "ours"],
            series={"relative effect": [*(100 * pp.relative for pp in self.paper), 100 * ours_rel]},
        )
        return CheckResult(
            verdict=verdict,
            confidence=round(min(probs), 4),
            headline=headline,
            details={
                "ours": {
                    "a": va,
                    "b": vb,
                    "relative": ours_rel,
                    "diff": boot.observed,
                    "low": boot.low,
                    "high": boot.high,
                },
                "min_relative_size": MIN_RELATIVE_SIZE,
            },
            tables=[table],
            figures=[fig],
        )
