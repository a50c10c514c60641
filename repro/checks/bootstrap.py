"""Paired bootstrap over queries and seeds, the statistics behind comparison and trend checks.

The statistic is a weighted sum over languages of per-language mean differences::

    T = sum_l w_l * mean_s mean_q D_l[s, q]

where ``D_l[s, q]`` is the per-query difference (model A minus model B) for language ``l``, seed
pair ``s`` and query ``q``. With ``w_l = 1 / L`` it is the macro-averaged difference the paper
reports; with +-1/|group| weights it compares two groups of languages.

Resampling is two-level and crossed: each replicate draws queries with replacement (the same
draw for every seed, since the queries are the same items) and, when there are at least two
seed pairs, seeds with replacement. Drawing counts from a multinomial keeps it a matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BootstrapResult:
    """Observed statistic, its bootstrap replicates and a percentile interval."""

    observed: float
    replicates: np.ndarray
    low: float
    high: float
    n_seeds: int
    n_queries: int

    def prob_above(self, threshold: float = 0.0) -> float:
        """Share of replicates above ``threshold``: the confidence that the effect is positive."""
        return float(np.mean(self.replicates > threshold))

    def prob_below(self, threshold: float = 0.0) -> float:
        """Share of replicates below ``threshold``."""
        return float(np.mean(self.replicates < threshold))


def paired_bootstrap(
    diffs: dict[str, np.ndarray],
    weights: dict[str, float] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> BootstrapResult:
    """Bootstrap the weighted statistic ``T`` over ``diffs`` (language -> ``(seeds, queries)`` array).

    Every array must have the same number of seed rows (the seed pairs); languages may have
    different numbers of queries. ``weights`` default to ``1 / len(diffs)`` (macro average).
    """
    if not diffs:
        raise ValueError("no languages to bootstrap over")
    arrays = {k: np.atleast_2d(np.asarray(v, dtype=np.float64)) for k, v in diffs.items()}
    n_seeds = {a.shape[0] for a in arrays.values()}
    if len(n_seeds) != 1:
        raise ValueError(f"languages disagree on the number of seed pairs: {sorted(n_seeds)}")
    s = n_seeds.pop()
    w = weights or {k: 1.0 / len(arrays) for k in arrays}
    rng = np.random.default_rng(seed)
    seed_w = rng.multinomial(s, np.full(s, 1.0 / s), size=n_boot) / s if s > 1 else np.ones((n_boot, 1))
    total = np.zeros(n_boot)
    observed = 0.0
    for lang, d in arrays.items():
        q = d.shape[1]
        observed += w[lang] * float(d.mean())
        counts = rng.multinomial(q, np.full(q, 1.0 / q), size=n_boot) / q  # (boot, q)
        per_seed = counts @ d.T  # (boot, seeds): each seed's mean over the resampled queries
        total += w[lang] * np.sum(per_seed * seed_w, axis=1)
    alpha = (1.0 - level) / 2
    low, high = np.quantile(total, [alpha, 1 - alpha])
    return BootstrapResult(observed, total, float(low), float(high), s, int(sum(a.shape[1] for a in arrays.values())))


# Verdict thresholds on the probability that the claimed direction holds.
REPRODUCED_AT = 0.95
REFUTED_AT = 0.05
