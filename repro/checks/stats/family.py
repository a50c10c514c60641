"""Holm's step-down adjustment: a claim decided by several tests keeps its family-wise error rate.

A claim with several B arms (hybrid better than mono *and* than X-Y) or several checks is one
family: with m tests at level alpha each, some test would come out decisive by chance far more
often than alpha. Holm (1979) orders the p-values ``p_(1) <= ... <= p_(m)`` and adjusts
``p~_(j) = max_{i <= j} min(1, (m - i + 1) p_(i))``; rejecting every test with ``p~ <= alpha``
keeps the probability of any false decision at most alpha, under any dependence between the
tests, and is never less powerful than Bonferroni.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the order given (NaN stays NaN and does not count as a test)."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out.tolist()
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out.tolist()
