"""Metric names as claims write them, and the numbers behind them for an arm of models.

Claims talk like the paper: ``Mul mAP`` on ``xquad-r``, ``rank distance``, ``Mo mAP``, ``nDCG@10``
on ``tydi-goldp``. This module maps such a name to the setting and measure a task result holds,
and gathers, for an arm (several seeds), the summary values and the per-query matrices that the
bootstrap needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from repro.checks.context import CheckContext
from repro.errors import ReproError

SETTINGS = {"Mo": "mono", "Cr": "cross", "Mul": "multi"}
# Settings whose per-query values the runner publishes (cross-lingual ones stay in the step store).
PER_QUERY_SETTINGS = ("mono", "multi", "bitext")
TASK_MEASURES = {
    "xquad-r": ("mAP", "R@1", "R@10", "MRR@10", "nDCG@10", "rank distance"),
    "mlqa-r": ("mAP", "R@1", "R@10", "MRR@10", "nDCG@10", "rank distance"),
    "tydi-goldp": ("nDCG@10", "R@100", "MRR@10", "mAP"),
    "tatoeba": ("mean",),
}
DEFAULT_SETTING = {"tydi-goldp": "mono", "tatoeba": "bitext"}
LOWER_IS_BETTER = {"rank distance"}


@dataclass(frozen=True)
class Metric:
    """A parsed metric name: ``Mul mAP`` on xquad-r is setting ``multi``, measure ``mAP``."""

    task: str
    setting: str
    measure: str
    name: str

    @property
    def lower_is_better(self) -> bool:
        """Whether smaller values are better (rank distance)."""
        return self.measure in LOWER_IS_BETTER


def parse_metric(task: str, name: str) -> Metric:
    """Parse ``name`` for ``task``; an unknown task, setting or measure is a ReproError."""
    if task not in TASK_MEASURES:
        raise ReproError(f"unknown task '{task}'; known: {', '.join(TASK_MEASURES)}")
    text = name.strip()
    if text == "rank distance":
        setting, measure = "multi", "rank distance"
    else:
        head, _, rest = text.partition(" ")
        if head in SETTINGS and rest:
            setting, measure = SETTINGS[head], rest.strip()
        else:
            setting, measure = DEFAULT_SETTING.get(task, ""), text
        if not setting:
            raise ReproError(f"metric '{name}' of {task} needs a setting: Mo, Cr or Mul (e.g. 'Mul mAP')")
    if measure not in TASK_MEASURES[task] or (setting != "multi" and measure == "rank distance"):
        raise ReproError(
            f"{task} has no metric '{name}'; it has {', '.join(TASK_MEASURES[task])}"
            + (" (with Mo/Cr/Mul in front)" if task in ("xquad-r", "mlqa-r") else "")
        )
    if task in DEFAULT_SETTING and setting != DEFAULT_SETTING[task]:
        raise ReproError(f"{task} has only the {DEFAULT_SETTING[task]} setting; drop the Mo/Cr/Mul prefix")
    return Metric(task, setting, measure, text)


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
    if per_query and metric.setting not in PER_QUERY_SETTINGS:
        problems.append(
            f"'{metric.name}' has no per-query values (the cross-lingual setting's are not "
            "published); compare Mo or Mul, or use a check without bootstrap"
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
        summary[seed] = float(res["summary"][metric.setting][metric.measure])
        by_lang[seed] = {lang: float(row[metric.measure]) for lang, row in res["tables"][metric.setting].items()}
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
        pq = rs.per_query(label, metric.task)
        prefix = f"{metric.setting}/"
        found = sorted({k.split("/")[1] for k in pq if k.startswith(prefix)})
        use = [lang for lang in found if langs is None or lang in langs]
        out[_seed_of(point)] = {
            lang: (pq[f"{prefix}{lang}/ids"], pq[f"{prefix}{lang}/{metric.measure}"]) for lang in use
        }
    return out


def paired_diffs(
    a: dict[Any, dict[str, tuple[np.ndarray, np.ndarray]]], b: dict[Any, dict[str, tuple[np.ndarray, np.ndarray]]]
) -> tuple[dict[str, np.ndarray], list[Any]]:
    """Per-language ``(seed pairs, queries)`` differences A - B, aligned on query ids.

    Seeds pair by value (seed 0 of A with seed 0 of B); when the arms share no seed, an arm with
    a single model (the base model) pairs with every seed of the other.
    """
    pairs = [(s, s) for s in a if s in b and s != "base"]
    if not pairs and len(b) == 1:
        pairs = [(s, next(iter(b))) for s in a]
    elif not pairs and len(a) == 1:
        pairs = [(next(iter(a)), s) for s in b]
    if not pairs:
        raise ReproError(f"the arms share no seed (A: {list(a)}, B: {list(b)})")
    langs = sorted(set.intersection(*(set(a[sa]) & set(b[sb]) for sa, sb in pairs)))
    diffs: dict[str, np.ndarray] = {}
    for lang in langs:
        ids = None
        for sa, sb in pairs:
            common = np.intersect1d(a[sa][lang][0], b[sb][lang][0])
            ids = common if ids is None else np.intersect1d(ids, common)
        rows = []
        for sa, sb in pairs:
            va = _align(*a[sa][lang], ids)
            vb = _align(*b[sb][lang], ids)
            rows.append(va - vb)
        diffs[lang] = np.vstack(rows)
    return diffs, [sa for sa, _ in pairs]


def _align(ids: np.ndarray, values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    order = np.argsort(ids, kind="stable")
    pos = np.searchsorted(ids[order], keep)
    return values[order][pos].astype(np.float64)
