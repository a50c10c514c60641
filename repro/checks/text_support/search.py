"""Does the source text say what a claim says, say otherwise, or not say it -- and where?

Passages are every sentence of the document's prose, every two neighbouring sentences of a
paragraph (a claim often joins what two sentences say), and every row of every table, written out
as a sentence with its table, caption and headers ("Table 7 (...): X-X-mono, XLM-R / Mean: 410.2").
They are ranked by reciprocal-rank fusion of BM25 (rank_bm25, on stemmed content words) and the
cosine of e5 embeddings (``query: `` claim against ``passage: `` passages); the :data:`POOL` best,
plus the best passages that name what the claim names (a claim about XQuAD-R is judged against a
sentence about XQuAD-R whenever the paper has one, not only against the MLQA-R sentence beside it),
are judged one by one by :func:`repro.checks.text_support.support_model.judge` (the project's own
method: number matching, units, negation, opposite words, swapped names and roles, the direction of
a measure, quantifiers, and a calibrated support probability that includes the offline NLI head's
P(entailment), :mod:`repro.checks.text_support.nli_head`), or, when a Hugging Face NLI
cross-encoder is given, by :class:`repro.checks.text_support.nli.NLIJudge`.

The index of a paper (passages, BM25, their embeddings) is built once per process and its
embeddings are cached on disk, keyed by the paper's SHA-256, the encoder and the passages.

The verdict over the document:

- **supported** when some passage supports the claim and no passage contradicts it as closely
  (alignment, the IDF-weighted share of the claim's words in the passage);
- **contradicted** when a passage contradicts it and none supports it more closely -- with the
  contradicting passage quoted and the reason ("the claim says 50%, the passage 30.1% (recomputed
  from 286.6 and 410.2)");
- **not found** otherwise.

A contradiction that rests on a swapped name (the claim says XQuAD-R, the passage MLQA-R) does not
count when another judged passage names the claim's own thing and is about the rest of the claim.
When the text holds both a supporting and a contradicting passage (a paper that contradicts
itself), both are kept in :attr:`TextSupport.passages`.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, Field

from repro.cache import repro_home, slug
from repro.checks.text_support.support_model import ALIGNED_AT_SPECIFIC, SUPPORTED_AT, Judgement, judge
from repro.checks.text_support.words import tokens
from repro.lru import LRU
from repro.sources.document import Block, DocTable, Document, format_location
from repro.sources.sentences import iter_sentences
from repro.sources.vocabulary import Entity, Vocabulary, document_names, load_vocabulary

if TYPE_CHECKING:
    from repro.checks.text_support.nli import NLIJudge
    from repro.models.encoder import Encoder

RRF_K = 60
POOL = 30
# Passages naming what the claim names, added to the pool whatever their rank.
FOCUS = 6
# Bump when the passages change, so that cached embeddings are not reused for other passages.
INDEX_VERSION = 2
Verdict = Literal["supported", "contradicted", "not found"]
PassageKind = Literal["sentence", "sentence pair", "table row"]
__all__ = ["SUPPORTED_AT", "Passage", "TextSupport", "find_support"]


class Passage(BaseModel):
    """One candidate passage with where it is and what it says about the claim."""

    quote: str
    kind: PassageKind = "sentence"
    page: int | None = None
    section: str | None = None
    table: str | None = None
    bm25: float = 0.0
    cosine: float | None = None
    entailment: float | None = Field(default=None, description="the NLI head's P(entailment), when an encoder ran")
    alignment: float = 0.0
    proximity: float = Field(default=0.0, exclude=True, description="the share of the claim's word pairs kept close")
    support: float = Field(description="calibrated probability that the passage states the claim")
    verdict: Literal["supported", "contradicted", "not stated"] = "not stated"
    reason: str = Field(default="", description="why it contradicts, or what it lacks")

    @property
    def location(self) -> str:
        """``p. 3, §2 Method`` or the section alone (and the table, for a table row)."""
        where = format_location(self.page, self.section)
        return f"{self.table}, {where}" if self.table else where


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


@dataclass
class _Item:
    text: str
    kind: PassageKind
    block: Block | None
    table: DocTable | None = None
    parts: tuple[int, int] | None = None  # a sentence pair: the indices of its two sentences
    row: int | None = None  # a table row: its row in ``table``

    @property
    def page(self) -> int | None:
        return self.table.page if self.table is not None else self.block.page if self.block else None

    @property
    def section(self) -> str | None:
        return self.table.section if self.table is not None else self.block.section if self.block else None


def table_row_text(table: DocTable, row: int) -> str | None:
    """A table row as one sentence: ``Table 7 (caption): row header, col header: value; ...``."""
    cells = [c for c in table.cells if c.row == row and c.text]
    if not cells:
        return None
    caption = " ".join(table.caption.split()[:18])
    head = f"{table.label} ({caption})" if caption else table.label
    label = cells[0].row_header
    parts = [f"{c.col_header}: {c.text}" if c.col_header else c.text for c in cells]
    return f"{head}: {label}: " + "; ".join(parts) + "."


def passages_of(doc: Document) -> list[_Item]:
    """Every passage of ``doc`` (module docstring): sentences, neighbouring pairs, table rows."""
    items: list[_Item] = []
    by_block: dict[int, list[int]] = {}
    for block, sentence in iter_sentences(doc):
        if len(sentence.split()) < 3:
            continue
        by_block.setdefault(id(block), []).append(len(items))
        items.append(_Item(sentence, "sentence", block))
    for indices in list(by_block.values()):
        for a, b in itertools.pairwise(indices):
            items.append(_Item(f"{items[a].text} {items[b].text}", "sentence pair", items[a].block, parts=(a, b)))
    for table in doc.tables:
        for row in sorted({c.row for c in table.cells}):
            text = table_row_text(table, row)
            if text:
                items.append(_Item(text, "table row", None, table, row=row))
    return items


def cell_swap(claim: str, item: _Item) -> str | None:
    """A claim that gives a table row's value to another column than the table does.

    "On Tiny-ImageNet the baseline had 22.4" against the row ``Baseline: CIFAR-100: 22.4;
    Tiny-ImageNet: 39.9``: the claim names one column header and gives it the value of another.
    """
    if item.table is None or item.row is None:
        return None
    from repro.sources.quantities import quantities

    cells = [c for c in item.table.cells if c.row == item.row and c.value is not None and c.col_header]
    low = claim.lower()
    named = [c for c in cells if _names_header(low, c.col_header)]
    # A claim naming two columns may be about their mean or difference: only one is decisive.
    if len({c.col_header for c in named}) != 1:
        return None
    for q in quantities(claim):
        at = [c for c in cells if abs(c.value - q.value) <= c.half_unit + 1e-9]
        if not at or any(c in named for c in at):
            continue
        other = [c for c in named if c.col_header not in {a.col_header for a in at}]
        if other:
            return (
                f"swapped column: the claim gives {q.text} to {other[0].col_header}, "
                f"{item.table.label} to {at[0].col_header} ({other[0].col_header}: {other[0].text})"
            )
    return None


def _names_header(claim_lower: str, header: str) -> bool:
    """Whether the claim names a column header (its distinctive words, not a bare unit or symbol)."""
    head = re.sub(r"\(.*?\)", "", header).strip().lower()
    if len(head) < 3 or not re.search(r"[a-z]", head):
        return False
    return re.search(rf"(?<![\w-]){re.escape(head)}(?![\w-])", claim_lower) is not None


# Names side by side in a list or a comparison ("at Ridgecrest and at Willow Flats", "Mixup, CutMix
# and MixPatch", "DPG-Net than the CRN") are things of one kind.
_COORDINATED = re.compile(
    r"\s*,?\s*(?:and|or|nor|versus|vs\.?)\s+"
    r"(?:(?:the|at|for|in|on|with|of|by)\s+)?(?:the\s+)?",
    re.I,
)


def _parallel(before: str, gap: str) -> bool:
    """ "on OfficeRev than on VoiceBank", "for 25 mg compared with for...": one preposition repeated across a comparison."""
    prep = re.search(r"\b(on|at|for|in|with|among|from)\s+(?:the\s+)?$", before, re.I)
    if not prep:
        return False
    pattern = rf"\s*,?\s*(?:than|compared (?:with|to)|relative to|versus|vs\.?|but not|and not)\s+{prep.group(1)}\s+(?:the\s+)?"
    return re.fullmatch(pattern, gap, re.I) is not None


def _common_noun(name: str, text: str) -> bool:
    """A capitalised word that the text also writes in lower case ("Placebo", "Teen" / "teens"): no name."""
    if not re.fullmatch(r"[A-Z][a-z]+(?: [A-Z][a-z]+)?", name):
        return False
    return re.search(rf"(?<![\w-]){re.escape(name.lower())}(?:s|es)?(?![\w-])", text) is not None


def typed_names(vocab: Vocabulary, names: list[Entity], doc: Document) -> Vocabulary:
    """``vocab`` with the document's own ``names``, each put in a kind of its own (``names:N``).

    A swap of names is a contradiction only between things of one kind (a site for a site, not a
    site for a metric), and no vocabulary says which kind a paper's own names are: names listed or
    compared together in one sentence, or that head the rows (or the columns) of one table, are of
    one kind. A name never seen beside another is alone of its kind; a capitalised common noun the
    text also writes in lower case ("Placebo", "Control") is dropped.
    """
    text = "\n".join([b.text for b in doc.blocks] + [c.text for t in doc.tables for c in t.cells])
    names = [n for n in names if not _common_noun(n.id, text)]
    base = vocab.extended({"names": names})
    own = {n.id for n in names}
    parent = {n: n for n in own}

    def root(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def join(a: str, b: str) -> None:
        if a in own and b in own and a != b:
            parent[root(a)] = root(b)

    for block in doc.blocks:
        found = [m for m in base.find(block.text) if m.id in own]
        for m1, m2 in itertools.pairwise(found):
            gap = block.text[m1.start + len(m1.text) : m2.start]
            if gap.strip() and (_COORDINATED.fullmatch(gap) or _parallel(block.text[: m1.start], gap)):
                join(m1.id, m2.id)
    for table in doc.tables:
        for header in ("row_header", "col_header"):
            heads = []
            for label in dict.fromkeys(getattr(c, header) or "" for c in table.cells):
                found = [m.id for m in base.find(label) if m.id in own]
                if len(found) == 1:  # "VoiceBank+DEMAND PESQ" heads a column of two kinds
                    heads.append(found[0])
            for a, b in itertools.pairwise(heads):
                join(a, b)
    groups: dict[str, list[Entity]] = {}
    for n in names:
        # A name seen beside no other has a kind of its own: nothing says what it could be swapped for.
        groups.setdefault(f"names:{root(n.id)}", []).append(n)
    entities = {cat: items for cat, items in base.entities.items() if cat != "names"}
    entities["names"] = [e for e in base.entities.get("names", []) if e.id not in own]
    entities.update(groups)
    return Vocabulary(entities)


class _Index:
    """Passages of one document with BM25, IDF, their named things and (lazily) their embeddings."""

    def __init__(self, doc: Document, vocab: Vocabulary) -> None:
        from rank_bm25 import BM25Okapi

        self.doc = doc
        self.items = passages_of(doc)
        # The paper's own names (sites, samples, methods) that no vocabulary knows, for swaps.
        singles_text = [it.text for it in self.items if it.kind != "sentence pair"]
        self.vocab = typed_names(vocab, document_names(singles_text, vocab), doc)
        vocab = self.vocab
        self.toks = [tokens(it.text) for it in self.items]
        self.bm25 = BM25Okapi([t or ["_"] for t in self.toks])
        self.names = [{m.id for m in vocab.find(it.text) if not m.generic} for it in self.items]
        # IDF over sentences only: a pair repeats its sentences' words.
        singles = [t for t, it in zip(self.toks, self.items) if it.kind != "sentence pair"]
        n = len(singles)
        df: dict[str, int] = {}
        for t in singles:
            for w in set(t):
                df[w] = df.get(w, 0) + 1
        self.idf = {w: math.log(1 + n / c) for w, c in df.items()}
        self.default_idf = math.log(1 + n)
        digest = hashlib.sha256("\n".join(it.text for it in self.items).encode("utf-8")).hexdigest()[:12]
        self.key = f"{doc.sha256}-v{INDEX_VERSION}-{digest}"
        self._emb: dict[str, np.ndarray] = {}

    def weight(self, stem: str) -> float:
        """The IDF of ``stem`` in this document (words it never uses weigh the most)."""
        return self.idf.get(stem, self.default_idf)

    def embeddings(self, encoder: Encoder) -> np.ndarray:
        """The passages' e5 embeddings, from the on-disk cache when this paper was indexed before."""
        # Precision is part of the key: bf16 and fp32 passages give slightly different supports.
        key = f"{encoder.model_id}-{encoder.precision}"
        if key not in self._emb:
            cache = repro_home() / "papers" / "embeddings" / f"{self.key}-{slug(key)}-{len(self.items)}.npy"
            try:
                self._emb[key] = np.load(cache) if cache.is_file() else None
            except (OSError, ValueError, EOFError):
                self._emb[key] = None  # a damaged cache file: computed again below
            if self._emb[key] is None or len(self._emb[key]) != len(self.items):
                emb = encoder.encode([it.text for it in self.items], "passage", progress="indexing the paper")
                from repro.atomic import atomic_write

                with contextlib.suppress(OSError):  # a read-only or full $REPRO_HOME: not kept
                    atomic_write(cache, lambda fh: np.save(fh, emb))
                self._emb[key] = emb
        return self._emb[key]


_INDEXES: LRU[tuple[str, int], _Index] = LRU(32)  # bounded: one index per document (and vocabulary) searched


def _index(doc: Document, vocab: Vocabulary) -> _Index:
    key = (doc.sha256, id(vocab))
    if key not in _INDEXES:
        _INDEXES[key] = _Index(doc, vocab)
    return _INDEXES[key]


def _passage(it: _Item, bm: float, cos: float | None, j: Judgement) -> Passage:
    return Passage(
        quote=it.text,
        kind=it.kind,
        page=it.page,
        section=it.section,
        table=it.table.label if it.table is not None else None,
        bm25=round(bm, 3),
        cosine=None if cos is None else round(cos, 4),
        entailment=j.features.get("entailment_p"),
        alignment=j.alignment,
        proximity=j.features.get("proximity", 0.0),
        support=j.support,
        verdict=j.verdict,
        reason=j.reason,
    )


def decide(passages: list[Passage]) -> tuple[Verdict, list[Passage]]:
    """The document's verdict from its judged passages, and the passages ordered deciding one first.

    A supporting passage wins over a contradicting one only if it is at least as close to the claim
    (alignment, then the claim's word pairs kept close, :func:`~.support_model.proximity`): a passage that denies the claim as closely as another shares its words is the
    stronger evidence. The other side's best passage is kept right after the deciding one.
    """
    supporting = sorted((p for p in passages if p.verdict == "supported"), key=lambda p: (-p.support, -p.alignment))
    contradicting = sorted(
        (p for p in passages if p.verdict == "contradicted"),
        key=lambda p: (-round(p.alignment, 2), -p.proximity, p.support),
    )
    rest = sorted((p for p in passages if p.verdict == "not stated"), key=lambda p: (-p.support, -p.alignment))

    def closeness(p: Passage) -> tuple[float, float]:
        return (round(p.alignment, 2), p.proximity)

    if supporting and (not contradicting or max(closeness(s) for s in supporting) >= closeness(contradicting[0])):
        return "supported", supporting[:1] + contradicting[:1] + supporting[1:] + rest
    if contradicting:
        return "contradicted", contradicting[:1] + supporting[:1] + contradicting[1:] + supporting[1:] + rest
    return "not found", rest


def _candidates(index: _Index, fused: np.ndarray, claim_names: set[str], pool: int) -> list[int]:
    """The ``pool`` best by fused rank, plus the best :data:`FOCUS` that name most of the claim's names."""
    order = [int(i) for i in np.argsort(-fused, kind="stable")]
    chosen = order[:pool]
    if claim_names:
        cover = [len(claim_names & n) for n in index.names]
        most = max(cover)
        if most:
            focus = [i for i in order if cover[i] == most][:FOCUS]
            chosen += [i for i in focus if i not in chosen]
    return chosen


def _void_swaps(judged: list[Judgement], names: list[set[str]]) -> None:
    """A contradiction resting only on a swapped name is void when another passage names it and aligns."""
    for j in judged:
        if j.verdict != "contradicted" or not j.swapped or any(not r.startswith("swapped ") for r in j.reasons):
            continue
        about = [
            k
            for k, (other, n) in enumerate(zip(judged, names))
            if other is not j and j.swapped <= n and other.alignment >= j.alignment - 0.1
        ]
        if about:
            j.verdict = "not stated"
            j.reasons = []
            j.note = f"about another {', '.join(sorted(j.swapped))}: the text has passages about it"


@dataclass
class _Scores:
    """One claim's retrieval scores over an index: BM25, the dense cosine and the e5 vectors behind it."""

    claim: str
    bm25: np.ndarray
    fused: np.ndarray
    cosine: np.ndarray | None = None
    query: np.ndarray | None = None
    passages: np.ndarray | None = None

    def cos(self, i: int) -> float | None:
        return None if self.cosine is None else float(self.cosine[i])


def _score(index: _Index, claim_text: str, encoder: Encoder | None) -> _Scores:
    """BM25 and (with an encoder) cosine of every passage, fused by reciprocal rank."""
    bm = np.asarray(index.bm25.get_scores(tokens(claim_text) or ["_"]), dtype=float)
    ranks = [np.argsort(-bm, kind="stable")]
    scores = _Scores(claim=claim_text, bm25=bm, fused=np.zeros(len(index.items)))
    if encoder is not None:
        scores.query = encoder.encode([claim_text.replace("[", "").replace("]", "")], "query", progress=False)[0]
        scores.passages = index.embeddings(encoder)
        scores.cosine = scores.passages @ scores.query
        ranks.append(np.argsort(-scores.cosine, kind="stable"))
    for order in ranks:
        scores.fused[order] += 1.0 / (RRF_K + np.arange(1, len(order) + 1))
    return scores


def _judge_all(index: _Index, scores: _Scores, candidates: list[int]) -> list[Judgement]:
    """The project's judge on each candidate, with the NLI head's probabilities when an encoder ran."""
    entail = None
    if scores.query is not None and scores.passages is not None and candidates:
        from repro.checks.text_support.nli_head import load_head

        queries = np.repeat(scores.query[None, :], len(candidates), 0)
        entail = load_head().probabilities(queries, scores.passages[candidates])
    return [
        judge(
            scores.claim,
            index.items[i].text,
            weight=index.weight,
            cosine=scores.cos(i),
            vocab=index.vocab,
            nli=None if entail is None else tuple(float(x) for x in entail[k]),
        )
        for k, i in enumerate(candidates)
    ]


def _apply_passage_rules(
    index: _Index, scores: _Scores, candidates: list[int], judged: list[Judgement], check_parts: bool = True
) -> None:
    """Rules about a passage's kind: a table row's swapped column; a pair never contradicts, and
    (``check_parts``) supports only when neither of its sentences contradicts, which may judge (and
    add) a pair's sentences."""
    for k, i in enumerate(list(candidates)):
        item, j = index.items[i], judged[k]
        if item.kind == "table row" and j.verdict != "contradicted" and j.alignment >= ALIGNED_AT_SPECIFIC:
            swap = cell_swap(scores.claim, item)
            if swap:
                j.verdict, j.reasons = "contradicted", [swap, *j.reasons]
        # Two sentences side by side may state the claim together, but a contradiction must come
        # from one sentence (or one table row): the other sentence's numbers are about something else.
        if item.kind == "sentence pair" and j.verdict == "contradicted":
            j.verdict = "not stated"
        if check_parts and item.kind == "sentence pair" and j.verdict == "supported" and item.parts:
            for part in item.parts:
                if part not in candidates:
                    candidates.append(part)
                    judged.extend(_judge_all(index, scores, [part]))
                if judged[candidates.index(part)].verdict == "contradicted":
                    j.verdict, j.note = "not stated", "one of its sentences contradicts the claim"


def find_support(
    claim_text: str,
    document: Document,
    encoder: Encoder | None = None,
    top_k: int = 3,
    pool: int = POOL,
    nli: NLIJudge | None = None,
    vocab: Vocabulary | None = None,
) -> TextSupport:
    """What ``document`` says about ``claim_text``: the verdict and the ``top_k`` passages behind it.

    Candidates are the ``pool`` best by reciprocal-rank fusion of BM25 and dense cosine, plus the
    best passages naming the claim's names; each is judged (module docstring), by ``nli`` instead
    of the project's rules when it is given. ``vocab`` is the registry's vocabulary (default: the
    shared one).
    """
    index = _index(document, vocab or load_vocabulary())
    if not index.items:
        return TextSupport(claim=claim_text, verdict="not found", support=0.0, passages=[])
    scores = _score(index, claim_text, encoder)
    claim_names = {m.id for m in index.vocab.find(claim_text) if not m.generic}
    candidates = _candidates(index, scores.fused, claim_names, pool)
    if nli is not None:
        # A cross-encoder is slow: it judges the best third of the pool.
        candidates = candidates[: max(top_k, pool // 3)]
        judged = nli.judge_many(claim_text, [index.items[i].text for i in candidates], weight=index.weight)
    else:
        judged = _judge_all(index, scores, candidates)
    _apply_passage_rules(index, scores, candidates, judged, check_parts=nli is None)
    _void_swaps(judged, [index.names[i] for i in candidates])
    passages = [_passage(index.items[i], float(scores.bm25[i]), scores.cos(i), j) for i, j in zip(candidates, judged)]
    verdict, ordered = decide(passages)
    best = ordered[0] if ordered else None
    return TextSupport(
        claim=claim_text,
        verdict=verdict,
        support=best.support if best else 0.0,
        passages=ordered[:top_k],
        method=nli.model_id if nli is not None else "rules + NLI head" if encoder is not None else "rules",
    )
