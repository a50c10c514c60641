"""Does the source text say what a claim says, say otherwise, or not say it -- and where?

Every sentence of the document's prose is a passage (with its page or section). Passages are
ranked by reciprocal-rank fusion of BM25 (rank_bm25, on stemmed content words) and the cosine of
e5 embeddings (``query: `` claim against ``passage: `` sentences); the :data:`POOL` best are then
judged one by one by :func:`repro.checks.text_support.support_model.judge` (the project's own
method: number matching, negation, opposite words, swapped names and roles, quantifiers, and a
calibrated support probability), or, when a Hugging Face NLI cross-encoder is given, by
:class:`repro.checks.text_support.nli.NLIJudge`.

The verdict over the document:

- **supported** when some passage supports the claim and no passage contradicts it as closely
  (alignment, the IDF-weighted share of the claim's words in the passage);
- **contradicted** when a passage contradicts it and none supports it more closely -- with the
  contradicting passage quoted and the reason ("the claim says 50%, the passage 30.1% (recomputed
  from 286.6 and 410.2)");
- **not found** otherwise.

When the text holds both a supporting and a contradicting passage (a paper that contradicts
itself), both are kept in :attr:`TextSupport.passages`.
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, Field

from repro.cache import repro_home, slug
from repro.checks.text_support.support_model import SUPPORTED_AT, Judgement, judge
from repro.checks.text_support.words import tokens
from repro.lru import LRU
from repro.sources.document import Document, format_location
from repro.sources.sentences import iter_sentences

if TYPE_CHECKING:
    from repro.checks.text_support.nli import NLIJudge
    from repro.models.encoder import Encoder

RRF_K = 60
POOL = 30
Verdict = Literal["supported", "contradicted", "not found"]
__all__ = ["SUPPORTED_AT", "Passage", "TextSupport", "find_support"]


class Passage(BaseModel):
    """One candidate sentence with where it is and what it says about the claim."""

    quote: str
    page: int | None = None
    section: str | None = None
    bm25: float = 0.0
    cosine: float | None = None
    alignment: float = 0.0
    support: float = Field(description="calibrated probability that the passage states the claim")
    verdict: Literal["supported", "contradicted", "not stated"] = "not stated"
    reason: str = Field(default="", description="why it contradicts, or what it lacks")

    @property
    def location(self) -> str:
        """``p. 3, §2 Method`` or the section alone."""
        return format_location(self.page, self.section)


class TextSupport(BaseModel):
    """The verdict of the text check and its best passages (the deciding one first)."""

    claim: str
    verdict: Verdict
    support: float
    passages: list[Passage]
    method: str = Field(default="rules", description="'rules' (the project's judge) or the NLI model's id")

    @property
    def best(self) -> Passage | None:
        """The passage that decided the verdict (or the closest one), if any."""
        return self.passages[0] if self.passages else None

    @property
    def contradicting(self) -> list[Passage]:
        """Every kept passage that contradicts the claim."""
        return [p for p in self.passages if p.verdict == "contradicted"]


class _Index:
    """Passages of one document with BM25, IDF and (lazily) their embeddings."""

    def __init__(self, doc: Document) -> None:
        from rank_bm25 import BM25Okapi

        self.doc = doc
        self.items = [(block, sentence) for block, sentence in iter_sentences(doc) if len(sentence.split()) >= 3]
        self.toks = [tokens(s) for _, s in self.items]
        self.bm25 = BM25Okapi([t or ["_"] for t in self.toks])
        n = len(self.toks)
        df: dict[str, int] = {}
        for t in self.toks:
            for w in set(t):
                df[w] = df.get(w, 0) + 1
        self.idf = {w: math.log(1 + n / c) for w, c in df.items()}
        self.default_idf = math.log(1 + n)
        self._emb: dict[str, np.ndarray] = {}

    def weight(self, stem: str) -> float:
        """The IDF of ``stem`` in this document (words it never uses weigh the most)."""
        return self.idf.get(stem, self.default_idf)

    def embeddings(self, encoder: Encoder) -> np.ndarray:
        # Precision is part of the key: bf16 and fp32 passages give slightly different supports.
        key = f"{encoder.model_id}-{encoder.precision}"
        if key not in self._emb:
            cache = repro_home() / "papers" / "embeddings" / f"{self.doc.sha256}-{slug(key)}-{len(self.items)}.npy"
            try:
                self._emb[key] = np.load(cache) if cache.is_file() else None
            except (OSError, ValueError, EOFError):
                self._emb[key] = None  # a damaged cache file: computed again below
            if self._emb[key] is None or len(self._emb[key]) != len(self.items):
                emb = encoder.encode([s for _, s in self.items], "passage", progress=False)
                from repro.atomic import atomic_write

                with contextlib.suppress(OSError):  # a read-only or full $REPRO_HOME: not kept
                    atomic_write(cache, lambda fh: np.save(fh, emb))
                self._emb[key] = emb
        return self._emb[key]


_INDEXES: LRU[str, _Index] = LRU(32)  # bounded: one index per document searched


def _index(doc: Document) -> _Index:
    if doc.sha256 not in _INDEXES:
        _INDEXES[doc.sha256] = _Index(doc)
    return _INDEXES[doc.sha256]


def _passage(block, sentence: str, bm: float, cos: float | None, j: Judgement) -> Passage:
    return Passage(
        quote=sentence,
        page=block.page,
        section=block.section,
        bm25=round(bm, 3),
        cosine=None if cos is None else round(cos, 4),
        alignment=j.alignment,
        support=j.support,
        verdict=j.verdict,
        reason=j.reason,
    )


def decide(passages: list[Passage]) -> tuple[Verdict, list[Passage]]:
    """The document's verdict from its judged passages, and the passages ordered deciding one first.

    A supporting passage wins over a contradicting one only if it is closer to the claim (higher
    alignment): a passage that denies the claim as closely as another shares its words is the
    stronger evidence. The other side's best passage is kept right after the deciding one.
    """
    supporting = sorted((p for p in passages if p.verdict == "supported"), key=lambda p: (-p.support, -p.alignment))
    contradicting = sorted(
        (p for p in passages if p.verdict == "contradicted"), key=lambda p: (-p.alignment, p.support)
    )
    rest = sorted((p for p in passages if p.verdict == "not stated"), key=lambda p: (-p.support, -p.alignment))
    if supporting and (not contradicting or supporting[0].alignment > contradicting[0].alignment):
        return "supported", supporting[:1] + contradicting[:1] + supporting[1:] + rest
    if contradicting:
        return "contradicted", contradicting[:1] + supporting[:1] + contradicting[1:] + supporting[1:] + rest
    return "not found", rest


def find_support(
    claim_text: str,
    document: Document,
    encoder: Encoder | None = None,
    top_k: int = 3,
    pool: int = POOL,
    nli: NLIJudge | None = None,
) -> TextSupport:
    """What ``document`` says about ``claim_text``: the verdict and the ``top_k`` passages behind it.

    Candidates are the ``pool`` best by reciprocal-rank fusion of BM25 and dense cosine; each is
    judged (module docstring), by ``nli`` instead of the project's rules when it is given.
    """
    index = _index(document)
    if not index.items:
        return TextSupport(claim=claim_text, verdict="not found", support=0.0, passages=[])
    claim_toks = tokens(claim_text)
    bm = np.asarray(index.bm25.get_scores(claim_toks or ["_"]), dtype=float)
    ranks = [np.argsort(-bm, kind="stable")]
    cos = None
    if encoder is not None:
        q = encoder.encode([claim_text.replace("[", "").replace("]", "")], "query", progress=False)[0]
        cos = index.embeddings(encoder) @ q
        ranks.append(np.argsort(-cos, kind="stable"))
    fused = np.zeros(len(index.items))
    for order in ranks:
        fused[order] += 1.0 / (RRF_K + np.arange(1, len(order) + 1))
    candidates = [int(i) for i in np.argsort(-fused, kind="stable")[:pool]]
    if nli is not None:
        # A cross-encoder is slow: it judges the best third of the pool.
        candidates = candidates[: max(top_k, pool // 3)]
        judged = nli.judge_many(claim_text, [index.items[i][1] for i in candidates], weight=index.weight)
    else:
        judged = [
            judge(claim_text, index.items[i][1], weight=index.weight, cosine=None if cos is None else float(cos[i]))
            for i in candidates
        ]
    passages = [
        _passage(index.items[i][0], index.items[i][1], float(bm[i]), None if cos is None else float(cos[i]), j)
        for i, j in zip(candidates, judged)
    ]
    verdict, ordered = decide(passages)
    best = ordered[0] if ordered else None
    return TextSupport(
        claim=claim_text,
        verdict=verdict,
        support=best.support if best else 0.0,
        passages=ordered[:top_k],
        method=nli.model_id if nli is not None else "rules",
    )
