"""Weighted L2 logistic regression: the one solver behind every fitted score (text support, extraction)."""

from __future__ import annotations

import numpy as np


def logistic(Z: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float, iters: int = 100) -> tuple[np.ndarray, float]:
    """Coefficients and bias by Newton's method from zero; the bias is not penalised.

    Minimises ``sum(w * logloss) + l2 / 2 * |coef|^2`` with sample weights ``w``; stops when no
    coefficient moves by more than 1e-10.
    """
    n, d = Z.shape
    A = np.hstack([Z, np.ones((n, 1))])
    beta = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(A @ beta, -30, 30)))
        grad = A.T @ (w * (p - y)) + reg * beta
        hess = (A * (w * p * (1 - p))[:, None]).T @ A + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta[:-1], float(beta[-1])
