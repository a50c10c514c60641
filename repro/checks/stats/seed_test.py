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

The interval is ``T +- t_df se`` with ``df = min(k - 1, N - 1)``, the smaller of the two
components' degrees of freedom (:meth:`VarianceComponents.df`). That choice is derived, not tuned:
for any mix ``lambda`` of a seed term estimated on ``k - 1`` and an item term on ``N - 1``
degrees of freedom (each a scaled chi-squared), the size of the test is at most its level, because
``w -> P(|Z| > c sqrt(w))`` is convex, so by Jensen
``P(|Z| > c sqrt(lambda W1 + (1 - lambda) W2)) <= lambda P(|t_{k-1}| > c) + (1 - lambda) P(|t_{N-1}| > c)``
``<= alpha`` for ``c`` the ``t_{min df}`` quantile (docs/statistics.md). Items may be clustered
(XQuAD-R's questions nest in 48 articles): then the item term is over clusters, ``N`` their number.
With fewer than :data:`MIN_SEEDS` seed pairs the seed variance is too poorly known (one pair does
not estimate it at all): such a test is never decisive. ``tests/test_calibration.py`` measures the
error rates by simulation over a grid of designs.
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

# "no variation": every query ties (zero variance), so the interval is a point and nothing was measured.
Outcome = Literal["supported", "contradicted", "undecided", "no variation"]


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

        ``min(k - 1, N - 1)``: the smaller of the seed term's and the item term's. The size of the
        test is then at most its level for every seed-to-item variance ratio (a convexity argument,
        module docstring), whereas Satterthwaite's plug-in formula is liberal at 2-4 degrees of
        freedom (a seed variance that comes out small by chance also raises its df). With one seed
        pair (seed term unknown, left out): ``N - 1``.
        """
        k = self.n_seeds if k is None else k
        n = self.n_items
        if self.seed is None:
            return float(n - 1)
        return float(min(k - 1, n - 1))


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


def variance_components(design: PairedDesign, clustered: bool = True) -> VarianceComponents:
    """The two-way (seed pair x item) mean squares of ``design``'s centred item contributions.

    With ``clustered`` and a design whose items nest in clusters, the "items" of the decomposition
    are the clusters (:meth:`PairedDesign.cluster_influence`), ``n_items`` their number.
    """
    k = design.n_seeds
    z = design.cluster_influence() if clustered else design.influence()
    n = z.shape[1]
    if n < 2:
        raise ValueError("a paired design needs at least two items")
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
    equivalence: bool = False

    @property
    def shift(self) -> float:
        """How far the estimate is on the claimed side: ``direction * estimate - margin``, or for an
        equivalence test ``margin - |estimate|`` (positive inside the margin)."""
        if self.equivalence:
            return self.margin - abs(self.estimate)
        return self.direction * self.estimate - self.margin

    @property
    def t(self) -> float:
        """The t statistic of the claimed effect against the margin."""
        return (self.direction * self.estimate - self.margin) / self.se if self.se > 0 else float("nan")

    @property
    def seeds_known(self) -> bool:
        """Whether the seed variance is measured (at least two seed pairs)."""
        return self.components.seed is not None


def equivalence_p(estimate: float, se: float, df: float, margin: float) -> float:
    """Two one-sided tests (TOST) of ``|A - B| < margin``: the larger one-sided p-value.

    ``p <= 1 - LEVEL`` means the ``2 LEVEL - 1`` (90 %) interval lies inside ``(-margin, margin)``.
    """
    if se <= 0:
        return 0.0 if abs(estimate) < margin else 1.0
    return float(max(stats.t.sf((estimate + margin) / se, df), stats.t.sf((margin - estimate) / se, df)))


def seed_t_test(
    design: PairedDesign,
    direction: int = 1,
    margin: float = 0.0,
    level: float = LEVEL,
    clustered: bool = True,
    equivalence: bool = False,
) -> SeedTest:
    """Test ``design``'s ``A - B`` against ``margin`` in ``direction`` with the seed + item variance
    (items resampled by cluster when the design has clusters and ``clustered``).

    ``equivalence``: test ``|A - B| < margin`` instead. Its p-value is the TOST p inside the margin
    and, when the estimate lies outside, the two-sided p against the nearer margin, so that
    :func:`outcome_of` reads it as for a directional test (supported: equivalent; contradicted: the
    difference exceeds the margin).
    """
    if direction not in (1, -1):
        raise ValueError("direction is +1 or -1")
    if equivalence and margin <= 0:
        raise ValueError("an equivalence test needs a margin > 0")
    comp = variance_components(design, clustered)
    est = design.estimate()
    if equivalence:
        direction = 1 if est >= 0 else -1
    r = t_interval(np.float64(est), comp, direction, margin, level)
    if equivalence and abs(est) < margin:
        r["p_value"] = equivalence_p(est, float(r["se"]), float(r["df"]), margin)
        r["p_direction"] = 1 - r["p_value"]
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
        equivalence=equivalence,
    )


def outcome_of(
    n_seeds: int,
    p_value: float,
    shift: float,
    level: float = LEVEL,
    min_seeds: int = MIN_SEEDS,
    se: float | None = None,
) -> tuple[Outcome, str]:
    """Supported, contradicted, undecided or no variation, and why, for a test with ``n_seeds`` seed
    pairs, (possibly adjusted) two-sided ``p_value`` and ``shift`` = claimed effect minus margin.

    Decisive needs ``min_seeds`` seed pairs and ``p <= 1 - level``; the sign of ``shift`` says which
    way. A standard error of 0 (``se``: every query ties, e.g. every sentence fits the length
    limit) is a degenerate interval: nothing was measured, so nothing is decided.
    """
    if se is not None and not se > 0:
        return "no variation", "no variation: nothing measured (every query gives the same difference)"
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
    return outcome_of(test.n_seeds, p, test.shift, test.level, min_seeds, se=test.se)
