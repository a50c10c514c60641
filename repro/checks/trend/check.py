"""The registered ``trend`` check: its hypothesis named in the registry, and its run (analysis -> result -> presentation)."""

from __future__ import annotations

from pydantic import field_validator

from repro.checks.base import ClaimRef, Verdict, register
from repro.checks.context import CheckContext
from repro.checks.trend.analysis import trend_analysis
from repro.checks.trend.hypotheses import HYPOTHESES, known_hypotheses
from repro.checks.trend.presentation import answer_of, result_of
from repro.checks.trend.result import TrendResult
from repro.checks.trend.spec import TrendSpec
from repro.plugins import did_you_mean


@register
class TrendCheck(TrendSpec):
    """How each language's metric moves along a grid axis, and whether groups differ."""

    @field_validator("hypothesis")
    @classmethod
    def _known_hypothesis(cls, value: str | None) -> str | None:
        if value is not None and value not in known_hypotheses():
            raise ValueError(
                f"unknown hypothesis '{value}'{did_you_mean(value, HYPOTHESES)}; known: {', '.join(sorted(HYPOTHESES))}"
            )
        return value

    def run(self, ctx: CheckContext, claim: ClaimRef) -> TrendResult:
        analysis = trend_analysis(self, ctx)
        if isinstance(analysis, TrendResult):
            return analysis
        # The registered hypothesis rule gives the verdict (below), from the typed result.
        result = result_of(self, analysis)
        verdict, conf = HYPOTHESES[self.hypothesis](self, result) if self.hypothesis else (Verdict.NOT_CHECKED, None)
        return result.model_copy(
            update={
                "verdict": verdict,
                "confidence": None if conf is None else round(conf, 4),
                "answer": answer_of(self, result, analysis.at, analysis.ref, analysis.parallel),
            }
        )
