"""Reliability bins: how often a confidence of about c turned out right, bin by bin.

One binning for every calibrated score (the text check's support, extraction's confidence), so
that their reliability tables and calibration errors mean the same thing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import NamedTuple


class Bin(NamedTuple):
    """One confidence bin: its edges, the mean confidence inside, the fraction right, the count."""

    low: float
    high: float
    confidence: float
    right: float
    n: int


def reliability_bins(scored: Iterable[tuple[float, bool]], edges: Sequence[float]) -> list[Bin]:
    """(confidence, right) pairs binned on ``edges``: [lo, hi) each, the last bin closed; empty bins dropped."""
    pairs = list(scored)
    out = []
    for lo, hi in itertools.pairwise(edges):
        inside = [(c, ok) for c, ok in pairs if lo <= c < hi or (hi == edges[-1] and c == hi)]
        if inside:
            n = len(inside)
            out.append(Bin(float(lo), float(hi), sum(c for c, _ in inside) / n, sum(ok for _, ok in inside) / n, n))
    return out


def calibration_error(bins: Sequence[Bin]) -> float:
    """Expected calibration error: |confidence - fraction right| averaged over bins, weighted by count."""
    n = sum(b.n for b in bins)
    return sum(b.n * abs(b.confidence - b.right) for b in bins) / n if n else float("nan")
