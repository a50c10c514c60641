"""Kind ``text``: does the source text say what the claim says, and where?

Example::

    - kind: text
      source: mirror            # default: the registry's paper (its mirrored text); or a path, or arxiv:ID
      claim: "Experiments were conducted on XQuAD-R, MLQA-R, and MIRACL datasets."   # default: the claim's text
      expect_quote: MIRACL      # optional: the best passage must contain this

The passages come from :func:`repro.checks.text_support.find_support` (BM25 fused with e5 dense
retrieval, calibrated support probability). Verdict: supported -> reproduced, with the
probability as confidence and the passage and its page/section in the headline; not found ->
inconclusive (the text does not confirm it, which is not a refutation); no source text -> not
checked ("not checked: source text unavailable"), never a pass.
"""

from __future__ import annotations

from typing import Literal

from repro.checks.base import Check, CheckResult, ClaimRef, Table, Verdict, register
from repro.checks.context import CheckContext
from repro.errors import ReproError


@register
class TextCheck(Check):
    """Find the passages of the source text that state the claim."""

    kind: Literal["text"] = "text"
    source: str | None = None
    claim: str | None = None
    expect_quote: str | None = None
    top_k: int = 3

    def describe(self) -> str:
        return self.label or f"source text{f' ({self.source})' if self.source else ''}"

    def run(self, ctx: CheckContext, claim: ClaimRef) -> CheckResult:
        """Search the source for ``self.claim`` (default: the text of ``claim``, the claim being verified)."""
        from repro.checks.text_support import find_support
        from repro.sources.loader import load_document

        text = self.claim or claim.text
        path = ctx.source_document_path(self.source)
        if path is None or not text:
            why = (
                "no claim text given"
                if not text
                else f"no local text for source {self.source or 'of the registry paper'}"
            )
            return CheckResult(
                verdict=Verdict.NOT_CHECKED,
                headline="not checked: source text unavailable",
                details={"reason": why},
            )
        try:
            doc = load_document(path)
        except ReproError as exc:
            return CheckResult(
                verdict=Verdict.NOT_CHECKED,
                headline="not checked: source text unavailable",
                details={"reason": str(exc)},
            )
        support = find_support(text, doc, encoder=ctx.encoder(), top_k=self.top_k)
        best = support.best
        quote_ok = best is not None and (self.expect_quote is None or self.expect_quote.lower() in best.quote.lower())
        details = {
            "source": str(path),
            "claim": text,
            "support": support.support,
            "passages": [p.model_dump() for p in support.passages],
        }
        table = Table(
            title="best passages",
            columns=["support", "where", "quote"],
            rows=[[p.support, p.location, p.quote] for p in support.passages],
        )
        if support.verdict == "supported" and quote_ok:
            verdict = Verdict.REPRODUCED
            headline = f'the text states it ({best.location}, support {support.support:.2f}): "{_short(best.quote)}"'
        else:
            verdict = Verdict.INCONCLUSIVE
            if support.verdict == "supported":
                headline = (
                    f"best passage ({best.location}, support {support.support:.2f}) lacks "
                    f"'{self.expect_quote}': \"{_short(best.quote)}\""
                )
            else:
                where = f'; closest {best.location}: "{_short(best.quote)}"' if best else ""
                headline = f"the text does not confirm it (best support {support.support:.2f}){where}"
        return CheckResult(
            verdict=verdict,
            confidence=support.support,
            headline=headline,
            details=details,
            tables=[table],
        )


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
