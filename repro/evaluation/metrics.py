"""Exact, vectorised ranking metrics with trec_eval semantics, as small composable measures.

Evaluation has two steps: :func:`relevant_ranks` finds, once, the 1-based rank of every
relevant candidate of every query in a :class:`~repro.evaluation.search.Run`; each
:class:`Measure` is then a cheap function of those ranks (O(Q * R), R = relevant per query).
Relevance is binary. Per-query values equal trec_eval's (``map``, ``map_cut_k``, ``recall_k``,
``recip_rank``, ``ndcg``, ``ndcg_cut_k``) on the same ranking; ``tests/test_metrics.py`` checks
this against pytrec_eval.

trec_eval re-sorts a run by score descending and breaks ties by docno *descending* (byte-wise
string comparison), whereas our runs break ties by candidate index ascending. To hand both the
same ranking, use :func:`trec_docnos` (docnos whose descending order is index ascending) via
:func:`to_trec`, or build the run with trec_eval's rule from scores with :func:`run_from_scores`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from repro.evaluation.search import Run

__all__ = [
    "AP",
    "NDCG",
    "RR",
    "Measure",
    "RankDistance",
    "Recall",
    "RelevantRanks",
    "evaluate",
    "parse_measure",
    "relevant_ranks",
    "run_from_scores",
    "to_trec",
    "trec_docnos",
]

# Elements of the run gathered per step of relevant_ranks: large enough to amortise numpy call
# overhead, small enough (8 MB of int64) to keep the scratch buffer cache-friendly.
_CHUNK_ELEMENTS = 1 << 20
# Bound on the per-chunk relevance mask (one byte per candidate id per query), for shallow runs.
_MARK_BYTES = 1 << 25


@dataclass(frozen=True)
class RelevantRanks:
    """Where the relevant candidates of each query sit in a run.

    ``ranks``: float64 [Q, Rmax], 1-based ranks of each query's relevant candidates, ascending;
    ``inf`` for a relevant candidate that was not retrieved and for padding beyond
    ``n_relevant[q]``. ``n_relevant``: int64 [Q], distinct relevant candidates per query.
    ``depth``: ranked slots per query in the run.
    """

    ranks: np.ndarray
    n_relevant: np.ndarray
    depth: int

    @property
    def n_queries(self) -> int:
        """Number of queries."""
        return int(self.n_relevant.shape[0])

    @property
    def n_retrieved(self) -> np.ndarray:
        """int64 [Q]: relevant candidates found in the run."""
        return np.isfinite(self.ranks).sum(axis=1)


def _pad_qrels(qrels: Sequence[np.ndarray] | np.ndarray, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct relevant ids per query as a [Q, Rmax] int64 matrix padded with -1, and counts."""
    if isinstance(qrels, np.ndarray) and qrels.ndim == 2:
        rows = list(qrels)
    else:
        rows = [np.asarray(r, dtype=np.int64).reshape(-1) for r in qrels]
    if len(rows) != n_queries:
        raise ValueError(f"qrels has {len(rows)} queries but the run has {n_queries}")
    lengths = np.array([r.size for r in rows], dtype=np.int64)
    flat = np.concatenate(rows).astype(np.int64) if lengths.sum() else np.empty(0, dtype=np.int64)
    if flat.size and flat.min() < 0:
        raise ValueError("qrels contain a negative candidate index")
    qidx = np.repeat(np.arange(n_queries, dtype=np.int64), lengths)
    # Sort by (query, id) and drop repeated pairs: a candidate listed twice is relevant once.
    order = np.lexsort((flat, qidx))
    qidx, flat = qidx[order], flat[order]
    keep = np.ones(flat.size, dtype=bool)
    keep[1:] = (qidx[1:] != qidx[:-1]) | (flat[1:] != flat[:-1])
    qidx, flat = qidx[keep], flat[keep]
    counts = np.bincount(qidx, minlength=n_queries).astype(np.int64)
    r_max = int(counts.max()) if n_queries else 0
    slot = np.arange(flat.size, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    padded = np.full((n_queries, r_max), -1, dtype=np.int64)
    padded[qidx, slot] = flat
    return padded, counts


def relevant_ranks(run: Run, qrels: Sequence[np.ndarray] | np.ndarray) -> RelevantRanks:
    """1-based ranks in ``run`` of the relevant candidates of every query.

    Args:
        run: ranked candidate indices per query (``-1`` = empty slot). A row must not list a
            candidate twice (checked for relevant candidates: raises ``ValueError``).
        qrels: ``qrels[q]`` is an array of the relevant candidate indices of query ``q``
            (duplicates are ignored); a 2-d array works when every query has the same count.

    Returns:
        :class:`RelevantRanks`. Runs in O(Q * k) with chunked numpy gathers (no Python loop
        over queries or candidates).
    """
    ids = run.ids
    n_q, depth = ids.shape
    rel, counts = _pad_qrels(qrels, n_q)
    r_max = rel.shape[1]
    ranks = np.full((n_q, r_max), np.inf, dtype=np.float64)
    if n_q == 0 or r_max == 0 or depth == 0:
        return RelevantRanks(ranks=ranks, n_relevant=counts, depth=depth)

    lo, hi = int(ids.min()), int(ids.max())
    if lo < -1:
        raise ValueError(f"run ids must be >= 0 (or -1 for an empty slot), found {lo}")
    # One boolean row per query marks its relevant candidates; gathering that row with the run's
    # ids flags relevant positions. A spare last column per row stays False, so id -1 (offset by
    # the row start) lands on the previous row's spare column and never matches.
    width = hi + 2
    rows_per_chunk = max(1, min(_CHUNK_ELEMENTS // depth, _MARK_BYTES // width))
    buf = np.empty((min(rows_per_chunk, n_q), depth), dtype=np.int64)
    for start in range(0, n_q, rows_per_chunk):
        stop = min(start + rows_per_chunk, n_q)
        c = stop - start
        block = ids[start:stop]
        mark = np.zeros(c * width, dtype=bool)
        offsets = np.arange(c, dtype=np.int64) * width
        r = rel[start:stop]
        valid = (r >= 0) & (r <= hi)  # relevant ids beyond the run's largest id cannot be found
        mark[(r + offsets[:, None])[valid]] = True
        flat_ids = np.add(block, offsets[:, None], out=buf[:c])
        hits = np.flatnonzero(mark.take(flat_ids))
        # flatnonzero is row-major, so positions come out grouped by query and ascending in rank.
        q_local, pos = np.divmod(hits, depth)
        found = np.bincount(q_local, minlength=c)
        if np.any(found > counts[start:stop]):
            bad = start + int(np.flatnonzero(found > counts[start:stop])[0])
            raise ValueError(f"run row {bad} lists a relevant candidate more than once")
        slot = np.arange(hits.size) - np.repeat(np.cumsum(found) - found, found)
        ranks[start + q_local, slot] = pos + 1
    return RelevantRanks(ranks=ranks, n_relevant=counts, depth=depth)


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # trec_eval scores a query without relevant candidates as 0 for these measures.
    return np.divide(num, den, out=np.zeros(num.shape, dtype=np.float64), where=den > 0)


def _check_cutoff(k: int | None, name: str) -> None:
    if k is not None and (not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1):
        raise ValueError(f"{name} cutoff must be a positive integer, got {k!r}")


class Measure:
    """A per-query ranking measure; subclasses are frozen dataclasses.

    ``name`` is the measure's display name (e.g. ``"nDCG@10"``) and key in :func:`evaluate`.
    """

    @property
    def name(self) -> str:
        """Display name, parseable by :func:`parse_measure`."""
        raise NotImplementedError

    def per_query(self, rr: RelevantRanks) -> np.ndarray:
        """float64 [Q] values of the measure for every query."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class AP(Measure):
    """Average precision (trec_eval ``map``; ``map_cut_k`` with ``k``).

    Sum over the relevant candidates retrieved (within the top ``k``) of the precision at their
    rank, divided by the total number of relevant candidates.
    """

    k: int | None = None

    def __post_init__(self) -> None:
        _check_cutoff(self.k, "AP")

    @property
    def name(self) -> str:
        return "mAP" if self.k is None else f"mAP@{self.k}"

    def per_query(self, rr: RelevantRanks) -> np.ndarray:
        ranks = rr.ranks if self.k is None else np.where(rr.ranks <= self.k, rr.ranks, np.inf)
        # The i-th relevant candidate found (ranks are sorted) has precision i / rank; inf -> 0.
        nth = np.arange(1, ranks.shape[1] + 1, dtype=np.float64)
        return _safe_divide((nth / ranks).sum(axis=1), rr.n_relevant)


@dataclass(frozen=True)
class Recall(Measure):
    """Recall at ``k`` (trec_eval ``recall_k``): relevant in the top ``k`` / total relevant."""

    k: int

    def __post_init__(self) -> None:
        _check_cutoff(self.k, "Recall")

    @property
    def name(self) -> str:
        return f"R@{self.k}"

    def per_query(self, rr: RelevantRanks) -> np.ndarray:
        return _safe_divide((rr.ranks <= self.k).sum(axis=1).astype(np.float64), rr.n_relevant)


@dataclass(frozen=True)
class RR(Measure):
    """Reciprocal rank of the first relevant candidate within the top ``k`` (else 0).

    With ``k=None`` this is trec_eval ``recip_rank``; with ``k`` it is ``recip_rank`` on the run
    truncated to ``k``. Its mean is MRR.
    """

    k: int | None = None

    def __post_init__(self) -> None:
        _check_cutoff(self.k, "RR")

    @property
    def name(self) -> str:
        return "MRR" if self.k is None else f"MRR@{self.k}"

    def per_query(self, rr: RelevantRanks) -> np.ndarray:
        if rr.ranks.shape[1] == 0:
            return np.zeros(rr.n_queries, dtype=np.float64)
        first = rr.ranks[:, 0]
        if self.k is not None:
            first = np.where(first <= self.k, first, np.inf)
        return 1.0 / first


@dataclass(frozen=True)
class NDCG(Measure):
    """nDCG with binary gains (trec_eval ``ndcg_cut_k``; ``ndcg`` with ``k=None``).

    DCG sums 1 / log2(rank + 1) over relevant candidates within the top ``k``; the ideal DCG
    places min(R, k) relevant candidates at ranks 1..min(R, k).
    """

    k: int | None = None

    def __post_init__(self) -> None:
        _check_cutoff(self.k, "NDCG")

    @property
    def name(self) -> str:
        return "nDCG" if self.k is None else f"nDCG@{self.k}"

    def per_query(self, rr: RelevantRanks) -> np.ndarray:
        ranks = rr.ranks if self.k is None else np.where(rr.ranks <= self.k, rr.ranks, np.inf)
        dcg = (1.0 / np.log2(ranks + 1.0)).sum(axis=1)  # log2(inf) = inf -> gain 0
        n_ideal = rr.n_relevant if self.k is None else np.minimum(rr.n_relevant, self.k)
        ideal_cum = np.concatenate(([0.0], np.cumsum(1.0 / np.log2(np.arange(2, int(n_ideal.max(initial=0)) + 2)))))
        return _safe_divide(dcg, ideal_cum[n_ideal])


@dataclass(frozen=True)
class RankDistance(Measure):
    """Language bias of Huang et al. (2023): max rank - min rank of a query's relevant candidates.

    Needs every relevant candidate ranked (a full ranking); raises ``ValueError`` otherwise.
    0 for a single relevant candidate; NaN for a query without relevant candidates.
    """

    @property
    def name(self) -> str:
        return "rank distance"

    def per_query(self, rr: RelevantRanks) -> np.ndarray:
        missing = rr.n_retrieved < rr.n_relevant
        if missing.any():
            raise ValueError(
                f"rank distance needs every relevant candidate ranked, but {int(missing.sum())} of "
                f"{rr.n_queries} queries miss some in a run of depth {rr.depth}; search with k=None"
            )
        out = np.full(rr.n_queries, np.nan, dtype=np.float64)
        has = rr.n_relevant > 0
        rows = np.flatnonzero(has)
        out[rows] = rr.ranks[rows, rr.n_relevant[rows] - 1] - rr.ranks[rows, 0]
        return out


_KNOWN = "mAP, mAP@k, R@k, MRR, MRR@k, nDCG, nDCG@k, rank distance"
_PATTERN = re.compile(r"^\s*([A-Za-z][A-Za-z_ ]*?)\s*(?:@\s*(\d+))?\s*$")


def parse_measure(text: str) -> Measure:
    """Parse a measure name such as ``"nDCG@10"``, ``"R@100"``, ``"MRR@10"``, ``"mAP"``.

    Case-insensitive; also accepts ``AP``, ``Recall@k``, ``RR@k``, ``RankDistance``/``RD``.
    Raises ``ValueError`` (listing the known measures) for anything else.
    """
    m = _PATTERN.match(text)
    if m is None:
        raise ValueError(f"unknown measure {text!r}; known measures: {_KNOWN}")
    base = m.group(1).lower().replace("_", "").replace(" ", "")
    k = int(m.group(2)) if m.group(2) is not None else None
    if k is not None and k < 1:
        raise ValueError(f"measure {text!r}: the cutoff must be >= 1")
    if base in ("map", "ap"):
        return AP(k)
    if base in ("r", "recall"):
        if k is None:
            raise ValueError(f"measure {text!r} needs a cutoff, e.g. R@10; known measures: {_KNOWN}")
        return Recall(k)
    if base in ("mrr", "rr"):
        return RR(k)
    if base == "ndcg":
        return NDCG(k)
    if base in ("rankdistance", "rd"):
        if k is not None:
            raise ValueError(f"measure {text!r}: rank distance takes no cutoff")
        return RankDistance()
    raise ValueError(f"unknown measure {text!r}; known measures: {_KNOWN}")


def evaluate(
    run: Run | RelevantRanks, qrels: Sequence[np.ndarray] | np.ndarray | None, measures: Iterable[Measure | str]
) -> dict[str, np.ndarray]:
    """Per-query values of every measure, keyed by measure name (in the order given).

    ``run`` may be a precomputed :class:`RelevantRanks` (then ``qrels`` is ignored and may be
    ``None``); measures may be given as names (see :func:`parse_measure`).
    """
    ms = [parse_measure(m) if isinstance(m, str) else m for m in measures]
    if isinstance(run, RelevantRanks):
        rr = run
    else:
        if qrels is None:
            raise ValueError("qrels are required to evaluate a Run")
        rr = relevant_ranks(run, qrels)
    return {m.name: m.per_query(rr) for m in ms}


# --- trec_eval interoperability -------------------------------------------------------------


def trec_docnos(n: int) -> list[str]:
    """Docnos for candidates ``0..n-1`` whose trec_eval tie order is index ascending.

    trec_eval puts the larger docno (byte-wise) first among equal scores, so candidate ``i``
    gets the zero-padded string of ``n - 1 - i``.
    """
    width = len(str(max(n - 1, 0)))
    return [f"{n - 1 - i:0{width}d}" for i in range(n)]


def _descending_docno_rank(docnos: Sequence[str]) -> np.ndarray:
    """rank[i] = position of docnos[i] in trec_eval's tie order (docno descending, byte-wise)."""
    # Python compares str by code point, which for UTF-8 is the same order as strcmp on bytes.
    order = sorted(range(len(docnos)), key=lambda i: docnos[i], reverse=True)
    if len(set(docnos)) != len(docnos):
        raise ValueError("docnos must be distinct")
    rank = np.empty(len(docnos), dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(docnos), dtype=np.int64)
    return rank


def run_from_scores(
    scores: np.ndarray | Sequence[Mapping[str, float]],
    docnos: Sequence[str] | None = None,
    k: int | None = None,
) -> Run:
    """A :class:`Run` ranked the way trec_eval ranks: score descending, then docno descending.

    Args:
        scores: dense [Q, N] scores of every candidate for every query, or one
            ``{docno: score}`` dict per query (a trec run; its rows may differ in length and are
            padded with id -1 / score -inf).
        docnos: the docno of each candidate index (length N). Required for dict input, where it
            maps docnos to indices. ``None`` with dense scores breaks ties by index ascending,
            i.e. as trec_eval would with :func:`trec_docnos`.
        k: keep the top ``k`` per query (``None``: all).

    Returns:
        A run whose order is exactly the order trec_eval evaluates, so both see one ranking.
    """
    if isinstance(scores, np.ndarray):
        s = np.asarray(scores)
        if s.ndim != 2:
            raise ValueError(f"dense scores must be [Q, N], got shape {s.shape}")
        if np.isnan(s).any():
            raise ValueError("scores contain NaN")
        n = s.shape[1]
        if docnos is None:
            perm = np.arange(n, dtype=np.int64)
        else:
            if len(docnos) != n:
                raise ValueError(f"{len(docnos)} docnos for {n} candidates")
            perm = np.argsort(_descending_docno_rank(docnos), kind="stable")
        # Lay columns out in tie order; a stable sort by score then keeps that order for ties.
        order = np.argsort(-s[:, perm], axis=1, kind="stable")
        ids = perm[order]
        if k is not None:
            ids = ids[:, :k]
        return Run(ids=np.ascontiguousarray(ids), scores=np.take_along_axis(s, ids, axis=1))

    if docnos is None:
        raise ValueError("docnos are required to map the docnos of per-query dicts to candidate indices")
    index = {d: i for i, d in enumerate(docnos)}
    tie_rank = _descending_docno_rank(docnos)
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    for q, row in enumerate(scores):
        try:
            ids = np.fromiter((index[d] for d in row), dtype=np.int64, count=len(row))
        except KeyError as e:
            raise ValueError(f"query {q}: docno {e.args[0]!r} is not in docnos") from None
        vals = np.fromiter(row.values(), dtype=np.float64, count=len(row))
        order = np.lexsort((tie_rank[ids], -vals))
        rows.append((ids[order], vals[order]))
    depth = max((r[0].size for r in rows), default=0)
    if k is not None:
        depth = min(depth, k)
    out_ids = np.full((len(rows), depth), -1, dtype=np.int64)
    out_scores = np.full((len(rows), depth), -np.inf, dtype=np.float64)
    for q, (i, v) in enumerate(rows):
        m = min(i.size, depth)
        out_ids[q, :m], out_scores[q, :m] = i[:m], v[:m]
    return Run(ids=out_ids, scores=out_scores)


def to_trec(
    run: Run,
    qrels: Sequence[np.ndarray] | np.ndarray,
    docnos: Sequence[str] | None = None,
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, float]]]:
    """``(qrels, run)`` dicts for pytrec_eval, query ids ``"0".."Q-1"``.

    ``docnos`` defaults to :func:`trec_docnos` over every index in the run and qrels, so that
    trec_eval ranks a run whose ties are index-ascending (as from
    :func:`~repro.evaluation.search.exact_search`) exactly as the run lists it. Empty slots
    (id -1) are skipped. Scores are passed as Python floats (exact for float32).
    """
    rel, counts = _pad_qrels(qrels, run.n_queries)
    if docnos is None:
        n = max(int(run.ids.max(initial=-1)), int(rel.max(initial=-1))) + 1
        docnos = trec_docnos(n)
    names = np.asarray(docnos, dtype=object)
    trec_qrels = {str(q): dict.fromkeys(names[rel[q, : counts[q]]].tolist(), 1) for q in range(run.n_queries)}
    trec_run: dict[str, dict[str, float]] = {}
    for q in range(run.n_queries):
        ids = run.ids[q]
        keep = ids >= 0
        trec_run[str(q)] = dict(zip(names[ids[keep]].tolist(), run.scores[q][keep].tolist()))
    return trec_qrels, trec_run
