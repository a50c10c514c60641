"""A regression over languages of their gains, with the seed variance in its standard errors.

The research question asks whether resource class changes what a language gains, so the unit is
the language, and class must be told apart from the other things that differ between languages:
whether training saw the language, and how much room it had to gain (headroom, ``1 - value`` at
the reference). Per seed pair ``s`` the gains ``Y[l, s]`` of ``L`` languages are regressed on the
design ``X`` (intercept and covariates); the estimate is ``beta = C mean_s Y[:, s]`` with
``C = (X'X)^-1 X'``. Its variance has the two sources of the crossed seeds x languages layout:

- languages: the residual variance of the fit over the seed-mean gains, ``s^2 (X'X)^-1`` (which
  also holds each language's own seed noise);
- seeds: ``var_s(C Y[:, s]) / k``, the spread of the coefficient between seed pairs, which holds
  a seed effect shared by all languages (counted a second time for each language's own noise:
  conservative).

The interval is a t-interval on ``min(k - 1, L - p)`` degrees of freedom, the smaller component's,
which keeps the size at or below the level for any mix of the two (the convexity argument of
:mod:`.seed_test`). Equivalence within a margin is two one-sided tests (TOST).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from repro.checks.stats.seed_test import LEVEL, equivalence_p


@dataclass(frozen=True)
class Term:
    """One coefficient of the language model: estimate, interval, p against 0 and, with a margin, TOST p."""

    name: str
    estimate: float
    se: float
    df: float
    low: float
    high: float
    p_value: float
    margin: float | None
    p_equivalence: float | None


@dataclass(frozen=True)
class LanguageFit:
    """A fitted language model: its terms (intercept left out), the languages and covariates used."""

    terms: dict[str, Term]
    langs: list[str]
    dropped: list[str]
    n_seeds: int


def fit_languages(
    gains: Mapping[str, np.ndarray],
    covariates: Mapping[str, Mapping[str, float]],
    margins: Mapping[str, float] | None = None,
    level: float = LEVEL,
) -> LanguageFit | None:
    """Regress per-seed-pair gains ``lang -> (k,)`` on ``covariates`` (name -> lang -> value).

    Covariates constant over the languages, or collinear with earlier ones, are dropped (named in
    ``dropped``). None when fewer than ``p + 2`` languages remain (no residual degree of freedom to
    spare) or the seed pairs differ in number between languages.
    """
    langs = sorted(g for g in gains if all(g in cov for cov in covariates.values()))
    if not langs:
        return None
    ks = {len(np.atleast_1d(gains[g])) for g in langs}
    if len(ks) != 1:
        return None
    k = ks.pop()
    y = np.array([np.atleast_1d(gains[g]).astype(float) for g in langs])  # (L, k)
    cols, names, dropped = [np.ones(len(langs))], [], []
    for name, cov in covariates.items():
        col = np.array([float(cov[g]) for g in langs])
        trial = np.column_stack([*cols, col])
        if np.ptp(col) == 0 or np.linalg.matrix_rank(trial) < trial.shape[1]:
            dropped.append(name)
            continue
        cols.append(col)
        names.append(name)
    x = np.column_stack(cols)
    n, p = x.shape
    if n < p + 2 or not names:
        return None
    xtx_inv = np.linalg.inv(x.T @ x)
    c = xtx_inv @ x.T  # (p, L)
    ybar = y.mean(axis=1)
    beta = c @ ybar
    resid = ybar - x @ beta
    s2 = float(resid @ resid) / (n - p)
    var = s2 * np.diag(xtx_inv)
    if k >= 2:
        per_seed = c @ y  # (p, k)
        var = var + per_seed.var(axis=1, ddof=1) / k
        df = float(min(k - 1, n - p))
    else:
        df = float(n - p)
    se = np.sqrt(var)
    q = stats.t.ppf(0.5 + level / 2, df)
    margins = margins or {}
    terms = {}
    for j, name in enumerate(names, start=1):
        est, s = float(beta[j]), float(se[j])
        p_value = float(2 * stats.t.sf(abs(est) / s, df)) if s > 0 else (0.0 if est else 1.0)
        m = margins.get(name)
        terms[name] = Term(
            name=name,
            estimate=est,
            se=s,
            df=df,
            low=est - q * s,
            high=est + q * s,
            p_value=p_value,
            margin=m,
            p_equivalence=None if m is None else equivalence_p(est, s, df, m),
        )
    return LanguageFit(terms=terms, langs=langs, dropped=dropped, n_seeds=k)


def curve_slope(xs: Sequence[float], values: Sequence[float]) -> float:
    """Least-squares slope of ``values`` on ``xs`` (a language's metric along the grid)."""
    x, v = np.asarray(xs, dtype=float), np.asarray(values, dtype=float)
    if len(x) < 2 or np.ptp(x) == 0:
        return float("nan")
    return float(np.polyfit(x, v, 1)[0])


def logit(p: np.ndarray | float, eps: float = 1e-4) -> np.ndarray:
    """``log(p / (1 - p))`` with ``p`` clipped to ``[eps, 1 - eps]`` (a perfect score stays finite)."""
    q = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    return np.log(q / (1 - q))
