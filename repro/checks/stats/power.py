"""How many seed pairs would decide a comparison: power of the seed-level t-test, from its components.

For ``k`` seed pairs the test of :mod:`.seed_test` has standard error ``sqrt(V(k))`` with
``V(k) = sigma_a^2 / k + sigma_b^2 / N + sigma_e^2 / (k N)`` and Satterthwaite's ``df(k)``; at a
true effect ``delta`` (distance from the margin) its power is that of a noncentral t with
noncentrality ``delta / sqrt(V(k))``. The item term does not shrink with seeds: when the effect
is within about 2.8 item standard errors, no number of seeds decides it (more items would).

The effect used is the observed one, so the answer is a planning figure ("about this many seeds
if the effect is what we saw"), not a promise: an observed effect estimated from two seed pairs
is itself uncertain.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from repro.checks.stats.seed_test import LEVEL, MIN_SEEDS, SeedTest, VarianceComponents

# Power at which a planned number of seeds counts as deciding a comparison.
TARGET_POWER = 0.8
# Seed counts beyond this are reported as "more than".
MAX_SEEDS = 100


def power_at(components: VarianceComponents, effect: float, k: int, level: float = LEVEL) -> float:
    """Power of the two-sided level-``level`` test with ``k`` seed pairs at true effect ``effect``."""
    if components.seed is None:
        raise ValueError("the seed variance is unknown with one seed pair")
    var = components.variance(k)
    df = components.df(k)
    if var <= 0:
        return 1.0 if effect != 0 else 1 - level
    nc = abs(effect) / np.sqrt(var)
    q = stats.t.ppf(0.5 + level / 2, df)
    with np.errstate(all="ignore"):
        power = stats.nct.sf(q, df, nc) + stats.nct.cdf(-q, df, nc)
    if not np.isfinite(power):
        # scipy's noncentral t fails far in the tail (large noncentrality): average the normal
        # tail over the chi-squared scale instead, T = (Z + nc) / sqrt(W), W ~ chi2_df / df.
        w = stats.chi2.ppf((np.arange(400) + 0.5) / 400, df) / df if np.isfinite(df) else np.ones(1)
        power = np.mean(stats.norm.sf(q * np.sqrt(w) - nc) + stats.norm.cdf(-q * np.sqrt(w) - nc))
    return float(min(1.0, power))


def seeds_needed(
    components: VarianceComponents,
    effect: float,
    power: float = TARGET_POWER,
    level: float = LEVEL,
    max_seeds: int = MAX_SEEDS,
    min_seeds: int = MIN_SEEDS,
) -> int | None:
    """The smallest ``k >= min_seeds`` whose power at ``effect`` reaches ``power``; None if none up to ``max_seeds``.

    Raises:
        ValueError: with one seed pair (no seed variance to plan from).
    """
    ks = np.arange(min_seeds, max_seeds + 1)
    for k in ks:
        if power_at(components, effect, int(k), level) >= power:
            return int(k)
    return None


def planning_note(test: SeedTest, power: float = TARGET_POWER) -> tuple[int | None, str]:
    """Seeds that would decide ``test`` at its observed effect, and a sentence saying so.

    The number is None when it cannot be estimated (one seed pair) or exceeds :data:`MAX_SEEDS`.
    """
    effect = test.direction * test.estimate - test.margin
    comp = test.components
    if comp.seed is None:
        return None, "seed variance unknown with one seed pair: run >= 3 seeds to measure it"
    item_se = float(np.sqrt(comp.item))
    z = stats.norm.ppf(0.5 + test.level / 2) + stats.norm.ppf(power)
    if effect == 0 or abs(effect) <= z * item_se:
        return None, (
            f"no number of seeds decides it at the observed effect ({effect:+.3g}): "
            f"the items alone give a standard error of {item_se:.3g}"
        )
    k = seeds_needed(comp, effect, power, test.level)
    if k is None:
        return None, f"more than {MAX_SEEDS} seeds at the observed effect ({effect:+.3g})"
    df = test.n_seeds - 1
    return k, (
        f"about {k} seeds for {100 * power:.0f}% power if the true effect were the observed {effect:+.3g} "
        f"(a planning guess: effect and seed variance are estimated on {df} degree{'s' if df != 1 else ''} "
        "of freedom, so the true number may be far from it)"
    )
