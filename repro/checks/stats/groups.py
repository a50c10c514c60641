"""Comparisons with languages as units: do low-resource languages gain more than high-resource ones?

A question about resource classes generalises over languages: Thai stands for the low-resource
languages only as one draw among them. So group comparisons take each language's gain (its mean
over items and seed pairs) as one observation and use the spread between languages of a group as
the noise: Welch's t-interval for the difference of two group means, and an ordinary
least-squares regression of the gain on the Joshi class (0-5) across languages with a
t-interval on ``L - 2`` degrees of freedom. The language spread already holds each language's
item and seed noise; what it cannot hold is a seed effect shared by a whole group, which is why
an answer still needs :data:`~repro.checks.stats.seed_test.MIN_SEEDS` seed pairs to count as decided.
``repro.checks.stats.bootstrap.hierarchical_bootstrap`` resamples languages within groups, parallel
items and seeds for a second look at the same difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from repro.checks.stats.seed_test import LEVEL, MIN_SEEDS, TInterval, t_bounds

Answer = Literal["more", "less", "no detectable difference", "equivalent", "undetermined"]


@dataclass(frozen=True)
class UnitEstimate(TInterval):
    """An estimate over languages as units, with a t-interval and a two-sided p-value against 0."""

    n_units: int

    @property
    def p_positive(self) -> float:
        """The t-distribution's probability that the true value is positive."""
        if self.se <= 0:
            return float(self.estimate > 0)
        return float(stats.t.cdf(self.estimate / self.se, self.df))


def _estimate(est: float, se: float, df: float, n: int, level: float) -> UnitEstimate:
    r = t_bounds(np.float64(est), se, df, level=level)
    return UnitEstimate(est, se, df, float(r["low"]), float(r["high"]), level, float(r["p_value"]), n)


def group_difference(a: Mapping[str, float], b: Mapping[str, float], level: float = LEVEL) -> UnitEstimate | None:
    """Welch's mean(a) - mean(b) over languages; None unless each group has >= 2 languages."""
    xa, xb = np.array(list(a.values()), dtype=float), np.array(list(b.values()), dtype=float)
    if len(xa) < 2 or len(xb) < 2:
        return None
    va, vb = xa.var(ddof=1) / len(xa), xb.var(ddof=1) / len(xb)
    se = float(np.sqrt(va + vb))
    denom = va**2 / (len(xa) - 1) + vb**2 / (len(xb) - 1)
    df = float((va + vb) ** 2 / denom) if denom > 0 else float(len(xa) + len(xb) - 2)
    return _estimate(float(xa.mean() - xb.mean()), se, df, len(xa) + len(xb), level)


def group_mean(a: Mapping[str, float], level: float = LEVEL) -> UnitEstimate | None:
    """The mean over languages with a one-sample t-interval; None with fewer than 2 languages."""
    x = np.array(list(a.values()), dtype=float)
    if len(x) < 2:
        return None
    return _estimate(float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x))), float(len(x) - 1), len(x), level)


@dataclass(frozen=True)
class ClassRegression:
    """Gain = intercept + slope * Joshi class, fitted over languages."""

    slope: UnitEstimate
    intercept: float
    classes: dict[str, int]
    gains: dict[str, float]


def class_regression(
    gains: Mapping[str, float], classes: Mapping[str, int], level: float = LEVEL
) -> ClassRegression | None:
    """OLS of ``gains`` on ``classes`` over the languages both have; None with < 3 languages or one class."""
    langs = [lang for lang in gains if lang in classes]
    x = np.array([classes[lang] for lang in langs], dtype=float)
    y = np.array([gains[lang] for lang in langs], dtype=float)
    if len(langs) < 3 or len(set(x.tolist())) < 2:
        return None
    sxx = float(np.sum((x - x.mean()) ** 2))
    slope = float(np.sum((x - x.mean()) * (y - y.mean())) / sxx)
    intercept = float(y.mean() - slope * x.mean())
    resid = y - intercept - slope * x
    df = len(langs) - 2
    se = float(np.sqrt(np.sum(resid**2) / df / sxx))
    return ClassRegression(
        _estimate(slope, se, float(df), len(langs), level),
        intercept,
        {lang: int(classes[lang]) for lang in langs},
        {lang: float(gains[lang]) for lang in langs},
    )


def answer(
    diff: UnitEstimate | None, n_seeds: int, lower_means_more: bool = False, min_seeds: int = MIN_SEEDS
) -> tuple[Answer, str]:
    """Do low-resource languages gain more, less or no differently, and why.

    ``diff`` estimates how much more the low-resource group gains (or, with ``lower_means_more``,
    a slope per class, where a negative value means lower classes gain more).
    """
    if diff is None:
        return "undetermined", "too few languages per group"
    sign = -1.0 if lower_means_more else 1.0
    if diff.low <= 0 <= diff.high:
        verdict: Answer = "no detectable difference"
    else:
        verdict = "more" if sign * diff.estimate > 0 else "less"
    why = f"{100 * diff.level:.0f}% CI [{diff.low:+.4f}, {diff.high:+.4f}] over {diff.n_units} languages"
    if n_seeds < min_seeds:
        return "undetermined", f"needs >= {min_seeds} seeds (has {n_seeds}); leaning '{verdict}', {why}"
    return verdict, why
