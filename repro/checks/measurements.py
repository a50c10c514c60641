"""The numbers behind a claim's metric for an arm of models.

Claims talk like the paper: ``Mul mAP`` on ``xquad-r``, ``rank distance``, ``Mo mAP``, ``nDCG@10``
on ``tydi-goldp``. Each task's declaration (:mod:`repro.evaluation.declarations`) resolves such a name to
the setting and measure its results hold, with the measure's direction; this module gathers, for
an arm (several seeds), the summary values and the per-query matrices that the bootstrap needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from repro.checks.context import CheckContext
from repro.errors import ReproError
from repro.evaluation.declarations import Metric, declared, parse_metric

__all__ = [
    "ArmValues",
    "Metric",
    "arm_per_query",
    "arm_values",
    "check_arm_metric",
    "item_clusters",
    "paired_diffs",
    "paired_items",
    "parse_metric",
    "points_per_query",
]


# Tasks whose items nest in a larger unit the data layer exposes (a question in its article).
CLUSTERED_TASKS = ("xquad-r", "mlqa-r")


def item_clusters(task: str) -> dict[str, str] | None:
    """Item -> cluster for ``task``'s parallel items (``xquad-r``, ``mlqa-r``: the article), else None.

    Without the dataset in the cache (a test on synthetic results) there is nothing to nest in: None.
    """
    if task not in CLUSTERED_TASKS:
        return None
    from repro.data.lareqa import parallel_articles

    try:
        return parallel_articles(task)
    except (ReproError, OSError):
        return None


def check_arm_metric(ctx: CheckContext, arm: str, metric: Metric, per_query: bool) -> list[str]:
    """Problems that keep ``arm`` from providing ``metric`` in this profile (empty = fine)."""
    problems = []
    try:
        points = ctx.arm_points(arm)
        tasks = ctx.arm_tasks(arm)
    except ReproError as exc:
        return [str(exc)]
    if not points:
        problems.append(f"arm '{arm}' matches no grid point of its experiment in profile '{ctx.profile}'")
    elif metric.task not in tasks:
        problems.append(f"no experiment evaluates arm '{arm}' on {metric.task} in profile '{ctx.profile}'")
    if per_query and not metric.per_query:
        usable = [m.name for m in declared(metric.task).metrics().values() if m.per_query]
        problems.append(
            f"'{metric.name}' of {metric.task} has no per-query values in published results; "
            f"those with them: {', '.join(usable)}; or use a check without bootstrap"
        )
    return problems


@dataclass
class ArmValues:
    """One arm's values of one metric: per seed (key = seed or ``base``)."""

    summary: dict[Any, float]
    by_lang: dict[Any, dict[str, float]]

    def mean(self) -> float:
        """Mean over seeds of the macro-averaged value."""
        return float(np.mean(list(self.summary.values())))

    def lang_mean(self, lang: str) -> float:
        """Mean over seeds of one language's value."""
        return float(np.mean([v[lang] for v in self.by_lang.values() if lang in v]))

    def spread(self) -> float:
        """Sample standard deviation over seeds (0 for one seed)."""
        vals = list(self.summary.values())
        return float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0


def _seed_of(point: dict[str, Any] | None) -> Any:
    return "base" if point is None else point.get("seed", 0)


def arm_values(ctx: CheckContext, arm: str, metric: Metric) -> ArmValues:
    """Summary and per-language values of ``metric`` for every model of ``arm``."""
    exp_name = ctx.arm(arm).experiment
    rs = ctx.results(exp_name)
    summary, by_lang = {}, {}
    for label, point in ctx.arm_points(arm):
        res = rs.result(label, metric.task)
        seed = _seed_of(point)
        summary[seed] = res.value(metric)
        by_lang[seed] = res.rows(metric) if metric.per_language else {}
    return ArmValues(summary, by_lang)


def arm_per_query(
    ctx: CheckContext, arm: str, metric: Metric, langs: list[str] | None = None
) -> dict[Any, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """seed -> language -> (query ids, per-query values) of ``metric`` for every model of ``arm``."""
    return points_per_query(ctx, ctx.arm(arm).experiment, ctx.arm_points(arm), metric, langs)


def points_per_query(
    ctx: CheckContext,
    experiment: str,
    points: list[tuple[str, dict[str, Any] | None]],
    metric: Metric,
    langs: list[str] | None = None,
) -> dict[Any, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """seed -> language -> (query ids, per-query values) for the given (label, point) models."""
    rs = ctx.results(experiment)
    out: dict[Any, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for label, point in points:
        res = rs.result(label, metric.task, per_query=True)
        use = [lang for lang in res.query_rows(metric) if langs is None or lang in langs]
        out[_seed_of(point)] = {lang: res.queries(metric, lang) for lang in use}
    return out


def paired_diffs(
    a: dict[Any, dict[str, tuple[np.ndarray, np.ndarray]]], b: dict[Any, dict[str, tuple[np.ndarray, np.ndarray]]]
) -> tuple[dict[str, np.ndarray], list[Any]]:
    """Per-language ``(seed pairs, queries)`` differences A - B, aligned on query ids (see :func:`paired_items`)."""
    items, seeds = paired_items(a, b)
    return {lang: d for lang, (_, d) in items.items()}, seeds


def paired_items(
    a: dict[Any, dict[str, tuple[np.ndarray, np.ndarray]]], b: dict[Any, dict[str, tuple[np.ndarray, np.ndarray]]]
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[Any]]:
    """Per language, the query ids every seed pair has and their ``(seed pairs, queries)`` differences A - B.

    Seeds pair by value (seed 0 of A with seed 0 of B); when the arms share no seed, an arm with
    a single model (the base model) pairs with every seed of the other. Returns the items and A's
    seed of each pair.
    """
    pairs = [(s, s) for s in a if s in b and s != "base"]
    if not pairs and len(b) == 1:
        pairs = [(s, next(iter(b))) for s in a]
    elif not pairs and len(a) == 1:
        pairs = [(next(iter(a)), s) for s in b]
    if not pairs:
        raise ReproError(f"the arms share no seed (A: {list(a)}, B: {list(b)})")
    langs = sorted(set.intersection(*(set(a[sa]) & set(b[sb]) for sa, sb in pairs)))
    items: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for lang in langs:
        ids = None
        for sa, sb in pairs:
            common = np.intersect1d(a[sa][lang][0], b[sb][lang][0])
            ids = common if ids is None else np.intersect1d(ids, common)
        rows = [_align(*a[sa][lang], ids) - _align(*b[sb][lang], ids) for sa, sb in pairs]
        items[lang] = (ids, np.vstack(rows))
    return items, [sa for sa, _ in pairs]


def _align(ids: np.ndarray, values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    order = np.argsort(ids, kind="stable")
    pos = np.searchsorted(ids[order], keep)
    return values[order][pos].astype(np.float64)
