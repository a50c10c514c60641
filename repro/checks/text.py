"""Kind ``text``: does the source text say what the claim says, and where?

Example::

    - kind: text
      source: mirror            # default: the registry's paper (its mirrored text); or a path, or arxiv:ID
      claim: "Experiments were conducted on XQuAD-R, MLQA-R, and MIRACL datasets."   # default: the claim's text
      expect_quote: MIRACL      # optional: the best passage must contain this
      nli: cross-encoder/nli-deberta-v3-small   # optional: an NLI model (Hugging Face id or folder) judges

The passages come from :func:`repro.checks.text_support.search.find_support` (BM25 fused with e5 dense
retrieval; each candidate judged by the project's own rules and calibrated support model, or by
the NLI cross-encoder named in ``nli``). Verdicts:

- supported -> reproduced, with the support probability as confidence and the passage with its
  page/section in the headline;
- contradicted -> not reproduced, *refuting* the claim (the claim is not reproduced whatever its
  other checks say): the headline quotes the contradicting passage and says why ("the claim says
  50%, the passage 30.1% (recomputed from 286.6 and 410.2)", a negation, a swapped name...);
- not found -> inconclusive (the text does not confirm it, which is not a refutation);
- no source text -> not checked ("not checked: source text unavailable"), never a pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from repro.checks.base import Check, CheckResult, ClaimRef, Table, Verdict, register
from repro.checks.context import CheckContext
from repro.errors import ReproError

if TYPE_CHECKING:
    from repro.checks.text_support.search import TextSupport
    from repro.sources.document import Document


@register
class TextCheck(Check):
    """Find the passages of the source text that state the claim."""

    kind: Literal["text"] = "text"
    source: str | None = None
    claim: str | None = None
    expect_quote: str | None = None
    nli: str | None = None
    top_k: int = 3

    def describe(self) -> str:
        return self.label or f"source text{f' ({self.source})' if self.source else ''}"

    def run(self, ctx: CheckContext, claim: ClaimRef) -> CheckResult:
        """Search the source for ``self.claim`` (default: the text of ``claim``, the claim being verified)."""
        from repro.checks.text_support.search import find_support

        text = self.claim or claim.text
        doc, path, why = self._document(ctx, text)
        if doc is None:
            return CheckResult(
                verdict=Verdict.NOT_CHECKED, headline="not checked: source text unavailable", details={"reason": why}
            )
        nli = None
        if self.nli:
            from repro.checks.text_support.nli import load_nli

            nli = load_nli(self.nli)
        support = find_support(text, doc, encoder=ctx.encoder(), top_k=self.top_k, nli=nli, vocab=ctx.vocabulary)
        verdict, headline = self._verdict(support)
        return CheckResult(
            verdict=verdict,
            confidence=support.support,
            headline=headline,
            details={
                "source": str(path),
                "claim": text,
                "verdict": support.verdict,
                "method": support.method,
                "support": support.support,
                "passages": [p.model_dump() for p in support.passages],
            },
            tables=[_evidence_table(support)],
            refutes=support.verdict == "contradicted",
        )

    def _document(self, ctx: CheckContext, text: str) -> tuple[Document | None, Path | None, str]:
        """The source document (or None and why not)."""
        from repro.sources.loader import load_document

        path = ctx.source_document_path(self.source)
        if not text:
            return None, path, "no claim text given"
        if path is None:
            return None, None, f"no local text for source {self.source or 'of the registry paper'}"
        try:
            return load_document(path), path, ""
        except ReproError as exc:
            return None, path, str(exc)

    def _verdict(self, support: TextSupport) -> tuple[Verdict, str]:
        """The check's verdict and headline from the text's verdict (module docstring)."""
        best = support.best
        if support.verdict == "contradicted":
            return (
                Verdict.NOT_REPRODUCED,
                f'the text says otherwise ({best.location}: {best.reason}): "{_short(best.quote)}"',
            )
        if support.verdict == "supported":
            if self.expect_quote is not None and self.expect_quote.lower() not in best.quote.lower():
                return (
                    Verdict.INCONCLUSIVE,
                    f"best passage ({best.location}, support {support.support:.2f}) lacks "
                    f"'{self.expect_quote}': \"{_short(best.quote)}\"",
                )
            headline = f'the text states it ({best.location}, support {support.support:.2f}): "{_short(best.quote)}"'
            against = support.contradicting
            if against:
                headline += f'; but {against[0].location} says otherwise: "{_short(against[0].quote, 100)}"'
            return Verdict.REPRODUCED, headline
        where = f'; closest {best.location}: "{_short(best.quote)}"' if best else ""
        lacks = f" ({best.reason})" if best and best.reason else ""
        return Verdict.INCONCLUSIVE, f"the text does not confirm it (best support {support.support:.2f}){where}{lacks}"


def _evidence_table(support: TextSupport) -> Table:
    return Table(
        title="best evidence",
        columns=["verdict", "support", "entailment", "bm25", "cosine", "kind", "where", "quote", "why"],
        rows=[
            [p.verdict, p.support, p.entailment, p.bm25, p.cosine, p.kind, p.location, p.quote, p.reason]
            for p in support.passages
        ],
    )


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
