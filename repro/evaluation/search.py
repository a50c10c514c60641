"""Exact inner-product search with deterministic tie-breaking.

A :class:`Run` is the ranked output of a search: for each query, candidate indices best-first
and their scores. Equal scores are ordered by candidate index ascending, so a run does not
depend on faiss's internal heap order (which, for ties, is not index-ascending).
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

__all__ = ["Run", "exact_search"]


@dataclass
class Run:
    """A ranked list per query.

    ``ids``: int64 [Q, k], candidate indices best-first. ``-1`` marks an empty slot; empty
    slots may only follow the retrieved candidates of a row (runs of ragged depth).
    ``scores``: [Q, k] scores matching ``ids`` (float32 from :func:`exact_search`; ``-inf``
    in empty slots). ``k`` may equal the number of candidates (a full ranking).
    """

    ids: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        if self.ids.ndim != 2 or self.ids.shape != self.scores.shape:
            raise ValueError(
                f"Run.ids and Run.scores must be 2-d arrays of the same shape, got {self.ids.shape} and {self.scores.shape}"
            )
        if not np.issubdtype(self.ids.dtype, np.integer):
            raise ValueError(f"Run.ids must be integers, got {self.ids.dtype}")

    @property
    def n_queries(self) -> int:
        """Number of queries (rows)."""
        return int(self.ids.shape[0])

    @property
    def depth(self) -> int:
        """Number of ranked slots per query (columns)."""
        return int(self.ids.shape[1])

    def truncate(self, k: int) -> Run:
        """The top ``k`` of every query (a view; no copy)."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        return Run(self.ids[:, :k], self.scores[:, :k])


def _tie_sort_rows(D: np.ndarray, I: np.ndarray) -> None:
    """Within runs of equal scores, order ids ascending, in place (rows are score-descending)."""
    ties = D[:, 1:] == D[:, :-1]
    rows = np.flatnonzero(ties.any(axis=1))
    if rows.size == 0:
        return
    # Segment number (non-decreasing along the row) * n + id sorts by segment, then id, in a
    # single integer argsort, which is cheaper than a two-key lexsort.
    seg = np.zeros((rows.size, D.shape[1]), dtype=np.int64)
    np.cumsum(~ties[rows], axis=1, out=seg[:, 1:])
    ids = I[rows]
    n = int(ids.max()) + 1
    order = np.argsort(seg * n + ids, axis=1, kind="stable")
    I[rows] = np.take_along_axis(ids, order, axis=1)
    D[rows] = np.take_along_axis(D[rows], order, axis=1)


def exact_search(queries: np.ndarray, candidates: np.ndarray, k: int | None = None, chunk: int = 1024) -> Run:
    """Exact maximum-inner-product search of every query over all candidates.

    Args:
        queries: [Q, d] query embeddings (converted to contiguous float32).
        candidates: [N, d] candidate embeddings.
        k: number of candidates per query; ``None`` (or ``k >= N``) gives a full ranking.
        chunk: queries per faiss call, bounding memory at about ``chunk * k * 12`` bytes.

    Returns:
        A :class:`Run` with ``ids`` int64 [Q, k] and ``scores`` float32 [Q, k], ordered by score
        descending, then candidate index ascending. The top-k *set* is tie-exact too: when a tie
        straddles position k, the row is re-ranked in full so the lowest indices are kept.
    """
    q = np.ascontiguousarray(queries, dtype=np.float32)
    c = np.ascontiguousarray(candidates, dtype=np.float32)
    if q.ndim != 2 or c.ndim != 2 or q.shape[1] != c.shape[1]:
        raise ValueError(f"queries and candidates must be [Q, d] and [N, d], got {q.shape} and {c.shape}")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    n = c.shape[0]
    if n == 0:
        raise ValueError("no candidates to search")
    k = n if k is None else min(int(k), n)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")

    index = faiss.IndexFlatIP(c.shape[1])
    index.add(c)
    ids = np.empty((q.shape[0], k), dtype=np.int64)
    scores = np.empty((q.shape[0], k), dtype=np.float32)
    # One extra slot tells whether a tie crosses the cut at k (the k-th and (k+1)-th scores equal).
    k_probe = min(k + 1, n)
    for start in range(0, q.shape[0], chunk):
        stop = min(start + chunk, q.shape[0])
        D, I = index.search(q[start:stop], k_probe)
        if k_probe > k:
            straddle = np.flatnonzero(D[:, k - 1] == D[:, k])
            if straddle.size:
                # faiss keeps an arbitrary subset of a tie group at the cut; re-rank those rows in
                # full so the group is complete before choosing the lowest indices.
                Df, If = index.search(q[start:stop][straddle], n)
                _tie_sort_rows(Df, If)
                D, I = D[:, :k].copy(), I[:, :k].copy()
                D[straddle], I[straddle] = Df[:, :k], If[:, :k]
            else:
                D, I = D[:, :k], I[:, :k]
        _tie_sort_rows(D, I)
        ids[start:stop] = I
        scores[start:stop] = D
    return Run(ids=ids, scores=scores)
