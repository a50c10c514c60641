"""The seed-level t-test of a paired comparison, with the item variance in its standard error.

A verdict generalises over training runs and over benchmark questions, so the estimate
``T = mean_s T_s`` (see :mod:`.design`) has both in its variance. With ``x[s, i] = T_s + z[s, i]``
the item contributions of seed pair ``s`` (:meth:`PairedDesign.influence`), the crossed
random-effects model ``x[s, i] = mu + a_s + b_i + e_si`` (``k`` seed pairs, ``N`` items) gives

    Var(T) = sigma_a^2 / k + sigma_b^2 / N + sigma_e^2 / (k N)
           = var_s(T_s) / k  +  max(0, MS_I - MS_E) / (k N)

from the two-way mean squares (items ``MS_I``, residual ``MS_E``): the paired t-test's variance
over seed pairs, plus the variance of the item effects that every seed pair shares (which a
t-test over seeds alone cannot see, since the pairs are evaluated on the same questions). Items
are the design's parallel items, so a question's translations and all seed pairs move together:
the analytic form of resampling items jointly across seeds and languages.

The interval is ``T +- t_df se``, ``df`` from Satterthwaite's formula with the seed term at an
upper confidence bound (:meth:`VarianceComponents.df`): about ``k - 1`` when seeds dominate,
large when the items do. With fewer than :data:`MIN_SEEDS` seed pairs the seed variance is too
poorly known (one pair does not estimate it at all): such a test is never decisive.
``tests/test_calibration.py`` measures the error rates by simulation at 3, 5 and 10 seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from repro.checks.stats.design import PairedDesign

# A comparison needs this many seed pairs to be decisive.
MIN_SEEDS = 3
# Two-sided level of intervals and tests; decisive means the interval excludes the null.
LEVEL = 0.95
# Confidence of the upper bound on the seed variance that sets the degrees of freedom. 0.8 is the
# smallest of the levels tried (0.5, 0.7, 0.75, 0.8) whose test keeps its size <= 5 % at every
# seed-to-item variance ratio from 3 seed pairs on (docs/statistics.md has the table).
SEED_BOUND = 0.8

Outcome = Literal["supported", "contradicted", "undecided"]


@dataclass(frozen=True)
class VarianceComponents:
    """Mean squares of the seeds x items decomposition of a paired design, and the variance of ``T``.

    ``ms_seed`` and ``ms_resid`` are None with one seed pair (no seed variation to measure).
    Properties and methods also work elementwise on arrays of mean squares (simulations).
    """

    n_seeds: int
    n_items: int
    ms_seed: float | None
    ms_item: float
    ms_resid: float | None

    @property
    def seed(self) -> float | None:
        """Variance of one seed pair's ``T_s`` with the items fixed, ``MS_S / N`` (None with one pair).

        It holds ``sigma_a^2`` and the seed-by-item noise ``sigma_e^2 / N``; both shrink as ``1 / k``.
        """
        return None if self.ms_seed is None else self.ms_seed / self.n_items

    @property
    def item(self) -> float:
        """Variance of ``T`` from drawing the items, the part seeds do not average away: ``sigma_b^2 / N``.

        With one seed pair it cannot be told from the seed-by-item noise and holds both.
        """
        if self.ms_resid is None:
            return self.ms_item / self.n_items
        return np.maximum(0.0, self.ms_item - self.ms_resid) / (self.n_seeds * self.n_items)

    def variance(self, k: int | None = None) -> float:
        """Variance of ``T`` with ``k`` seed pairs (default: the design's), the items as in the design.

        With one pair the seed term is unknown and left out: the item-only variance.
        """
        k = self.n_seeds if k is None else k
        seed = 0.0 if self.seed is None else self.seed / k
        return seed + self.item

    def df(self, k: int | None = None) -> float:
        """Degrees of freedom of the t-interval with ``k`` seed pairs (default: the design's).

        Satterthwaite's formula for ``seed / k + item`` (``k - 1`` and ``N - 1`` degrees of freedom),
        with the seed term at its upper :data:`SEED_BOUND` confidence bound: a plug-in
        Satterthwaite is liberal with 2-4 degrees of freedom because a seed variance that happens
        to come out small also raises the degrees of freedom; the bound keeps the size at or below
        the nominal level for every seed-to-item variance ratio at ``k >= 3`` (see docs/statistics.md).
        """
        k = self.n_seeds if k is None else k
        n = self.n_items
        if self.seed is None:
            return float(n - 1)
        seed = self.seed / k * (k - 1) / stats.chi2.ppf(1 - SEED_BOUND, k - 1)
        item = self.item
        denom = seed**2 / (k - 1) + item**2 / (n - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(denom > 0, (seed + item) ** 2 / np.where(denom > 0, denom, 1.0), np.inf)
        return float(out) if np.ndim(out) == 0 else out


def mean_squares(t_s: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seed, item and residual mean squares from per-seed statistics ``t_s`` ``(..., k)`` and centred
    item contributions ``z`` ``(..., k, N)`` (leading axes: independent designs, e.g. simulations).

    Needs ``k >= 2`` and ``N >= 2``.
    """
    k, n = z.shape[-2], z.shape[-1]
    zbar = z.mean(axis=-2)
    ms_item = k * np.sum(zbar**2, axis=-1) / (n - 1)
    ms_seed = n * np.var(t_s, axis=-1, ddof=1)
    ms_resid = np.sum((z - zbar[..., None, :]) ** 2, axis=(-2, -1)) / ((k - 1) * (n - 1))
    return ms_seed, ms_item, ms_resid


def variance_components(design: PairedDesign) -> VarianceComponents:
    """The two-way (seed pair x item) mean squares of ``design``'s centred item contributions."""
    k, n = design.n_seeds, design.n_items
    if n < 2:
        raise ValueError("a paired design needs at least two items")
    z = design.influence()
    if k < 2:
        return VarianceComponents(k, n, None, float(np.sum(z[0] ** 2) / (n - 1)), None)
    ms_seed, ms_item, ms_resid = mean_squares(design.per_seed(), z)
    return VarianceComponents(k, n, float(ms_seed), float(ms_item), float(ms_resid))


def t_bounds(
    estimate: np.ndarray, se: np.ndarray, df: np.ndarray, direction: int = 1, margin: float = 0.0, level: float = LEVEL
) -> dict[str, np.ndarray]:
    """``low``, ``high``, two-sided ``p_value`` and ``p_direction`` of ``estimate`` with standard error
    ``se`` on ``df`` degrees of freedom, against ``margin`` in ``direction``; elementwise on arrays."""
    est = np.asarray(estimate, dtype=np.float64)
    q = stats.t.ppf(0.5 + level / 2, df)
    shift = direction * est - margin
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(se > 0, shift / np.where(se > 0, se, 1.0), np.sign(shift) * np.inf)
    p_value = np.where(shift == 0, 1.0, 2 * stats.t.sf(np.abs(t), df))
    p_direction = np.where(shift == 0, 0.5, stats.t.cdf(t, df))
    return {"low": est - q * se, "high": est + q * se, "p_value": p_value, "p_direction": p_direction}


def t_interval(
    estimate: np.ndarray, components: VarianceComponents, direction: int = 1, margin: float = 0.0, level: float = LEVEL
) -> dict[str, np.ndarray]:
    """``se``, ``df``, ``low``, ``high``, two-sided ``p_value`` and ``p_direction`` of ``estimate``
    against ``margin`` in ``direction``; elementwise on arrays (one per simulated design)."""
    se = np.sqrt(components.variance())
    df = np.asarray(components.df(), dtype=np.float64)
    return {"se": se, "df": df, **t_bounds(estimate, se, df, direction, margin, level)}


@dataclass(frozen=True)
class TInterval:
    """An estimate with its standard error, a t-interval on ``df`` degrees of freedom at ``level``
    (``low``, ``high``) and a two-sided p-value."""

    estimate: float
    se: float
    df: float
    low: float
    high: float
    level: float
    p_value: float


@dataclass(frozen=True)
class SeedTest(TInterval):
    """A paired comparison ``A - B`` tested against ``margin`` in the claimed direction.

    ``direction`` is +1 when the claim says A - B > margin, -1 when it says A - B < -margin.
    ``low``/``high`` bound ``A - B`` itself; ``p_value`` is two-sided against the margin;
    ``p_direction`` is the t-distribution's probability that the claimed direction holds.
    """

    p_direction: float
    direction: int
    margin: float
    n_seeds: int
    n_items: int
    n_queries: int
    components: VarianceComponents

    @property
    def t(self) -> float:
        """The t statistic of the claimed effect against the margin."""
        return (self.direction * self.estimate - self.margin) / self.se if self.se > 0 else float("nan")

    @property
    def seeds_known(self) -> bool:
        """Whether the seed variance is measured (at least two seed pairs)."""
        return self.components.seed is not None


def seed_t_test(design: PairedDesign, direction: int = 1, margin: float = 0.0, level: float = LEVEL) -> SeedTest:
    """Test ``design``'s ``A - B`` against ``margin`` in ``direction`` with the seed + item variance."""
    if direction not in (1, -1):
        raise ValueError("direction is +1 or -1")
    comp = variance_components(design)
    est = design.estimate()
    r = t_interval(np.float64(est), comp, direction, margin, level)
    return SeedTest(
        estimate=est,
        se=float(r["se"]),
        df=float(r["df"]),
        low=float(r["low"]),
        high=float(r["high"]),
        level=level,
        p_value=float(r["p_value"]),
        p_direction=float(r["p_direction"]),
        direction=direction,
        margin=margin,
        n_seeds=design.n_seeds,
        n_items=design.n_items,
        n_queries=design.n_queries,
        components=comp,
    )


def outcome_of(
    n_seeds: int, p_value: float, shift: float, level: float = LEVEL, min_seeds: int = MIN_SEEDS
) -> tuple[Outcome, str]:
    """Supported, contradicted or undecided, and why, for a test with ``n_seeds`` seed pairs,
    (possibly adjusted) two-sided ``p_value`` and ``shift`` = claimed effect minus margin.

    Decisive needs ``min_seeds`` seed pairs and ``p <= 1 - level``; the sign of ``shift`` says which way.
    """
    if n_seeds < min_seeds:
        return "undecided", f"inconclusive: needs >= {min_seeds} seeds (has {n_seeds})"
    if p_value > 1 - level:
        return "undecided", f"the {100 * level:.0f}% interval includes the margin (p = {p_value:.3g})"
    if shift > 0:
        return "supported", f"p = {p_value:.3g}"
    return "contradicted", f"p = {p_value:.3g}, against the claimed direction"


def decide(test: SeedTest, p_value: float | None = None, min_seeds: int = MIN_SEEDS) -> tuple[Outcome, str]:
    """:func:`outcome_of` for ``test``; ``p_value`` overrides the test's own (a Holm-adjusted one)."""
    p = test.p_value if p_value is None else p_value
    return outcome_of(test.n_seeds, p, test.direction * test.estimate - test.margin, test.level, min_seeds)
