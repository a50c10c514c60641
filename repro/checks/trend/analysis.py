"""Analysis: published results along ``x`` -> :class:`TrendAnalysis` (no table, figure or sentence here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from repro.checks.context import CheckContext
from repro.checks.measurements import Metric, paired_items, parse_metric, points_per_query
from repro.checks.question import ModelTerm, finding_of, fit_terms
from repro.checks.stats.bootstrap import hierarchical_bootstrap
from repro.checks.stats.design import build_design
from repro.checks.stats.groups import answer, class_regression, group_difference
from repro.checks.stats.language_model import curve_slope
from repro.checks.stats.seed_test import MIN_SEEDS, seed_t_test
from repro.checks.trend.result import (
    ClassSlope,
    CurvePoint,
    GainCurve,
    GroupGain,
    LanguageUnits,
    TrendResult,
    close,
    gain_of,
    slope_of,
)
from repro.errors import ReproError

if TYPE_CHECKING:
    from repro.checks.trend.spec import TrendSpec


def rows_of(rs: Any, label: str, metric: Metric) -> dict[str, float]:
    """Each row's (language's) value of ``metric`` in one published result: the check's only read of results."""
    return rs.result(label, metric.task).rows(metric)


@dataclass
class TrendAnalysis:
    """What a trend check found, before any table, figure or sentence: the presentation reads only this."""

    metric: Metric
    sign: float  # -1 for lower-is-better metrics: a gain is always an improvement
    ref: float
    at: float
    xs: list[float]  # the grid values with results
    curve: dict[str, dict[float, float]]  # language -> x -> mean over seeds
    base: dict[str, float]  # the base model's value per language (empty without its result)
    langs: list[str]
    seen: list[str]
    unseen: list[str]
    low: list[str]  # of the population that answers (``units``)
    high: list[str]
    groups: dict[str, dict[float, GroupGain]]  # group -> x -> gain (seed x item tests)
    units: dict[float, tuple[GroupGain | None, ClassSlope | None]]  # x -> (low - high, class slope) over languages
    seeds_at: dict[float, list[Any]]
    signed_at: dict[float, dict[str, tuple[np.ndarray, np.ndarray]]]
    bootstrap_difference: GroupGain | None
    curves: list[GainCurve]
    splits: dict[str, LanguageUnits]
    parallel: bool
    items_note: str
    missing: list[str]
    min_seeds: int
    model: list[ModelTerm]
    units_finding: str  # the languages-as-units answer of ``units`` (the headline's)
    finding: str  # the question's answer: from the model's terms when there are any
    finding_reason: str

    @property
    def n_seeds(self) -> int:
        """Seed pairs at ``at`` against the reference."""
        return len(self.seeds_at.get(self.at, []))

    def gain(self, lang: str, x: float) -> float | None:
        """A language's improvement at ``x`` over the reference (mean over seeds), None without both values."""
        if x not in self.curve[lang] or self.ref not in self.curve[lang]:
            return None
        return self.sign * (self.curve[lang][x] - self.curve[lang][self.ref])

    def best_x(self, lang: str) -> float:
        """The grid value where a language does best."""
        return max(self.curve[lang], key=lambda x: self.sign * self.curve[lang][x])

    def slope(self, lang: str) -> float:
        """A language's slope of the metric along x."""
        return curve_slope(sorted(self.curve[lang]), [self.curve[lang][x] for x in sorted(self.curve[lang])])


def trend_analysis(check: TrendSpec, ctx: CheckContext) -> TrendAnalysis | TrendResult:
    """Gather the results along ``x`` and run every analysis; a "not checked" result when they cannot answer."""
    _, resource_group = check.classes()
    metric = parse_metric(check.task, check.metric)
    exp = ctx.experiment(check.experiment)
    rs = ctx.results(check.experiment)
    sign = -1.0 if metric.lower_is_better else 1.0
    gathered = _results_along_x(check, exp, rs, metric)
    if isinstance(gathered, TrendResult):
        return gathered
    at_x, missing, ref, at = gathered
    xs = [x for x in at_x if at_x[x]]
    try:
        pq = {x: points_per_query(ctx, check.experiment, at_x[x], metric) for x in xs}
    except KeyError as exc:
        return check.not_checked(
            f"published per-query values lack '{exc.args[0]}' (computed before {metric.task} published "
            "query ids): recompute those evaluations",
            missing,
        )
    curve = _seed_means(rs, {x: at_x[x] for x in xs}, metric)
    base = rows_of(rs, "base", metric) if rs.exists("base", metric.task) else {}
    langs = sorted(curve)
    unseen = [lang for lang in langs if check.is_unseen(lang)]
    seen = [lang for lang in langs if lang not in unseen]
    # The languages whose gains answer the question (and whose low/high groups are tested).
    pop = seen if check.units == "seen" else langs
    low = [lang for lang in pop if resource_group(lang) == "low"]
    high = [lang for lang in pop if resource_group(lang) == "high"]
    gains = _gains_along_x(check, pq, xs, ref, at, sign, pop, low, high, unseen)
    groups, units, seeds_at, signed_at, bootstrap_difference = gains
    n_seeds = len(seeds_at.get(at, []))
    curves = curves_of(check, signed_at, seeds_at, seen, unseen, ref) if check.resource_classes else []
    splits = _splits(check, signed_at[at], n_seeds, seen, unseen, langs)
    parallel, items_note = _items(signed_at[at], seeds_at[at], metric)
    main = splits[check.units] if check.units in splits else units_answer({}, n_seeds, check.units)
    # Untrained models (an evaluation-only grid) have no seeds: decided over languages and items.
    min_seeds = MIN_SEEDS if exp.trains else 1
    # The question's model is over resource classes: only for rows that are languages.
    model = (
        model_terms(check, rs, at_x, at, ref, seeds_at.get(at, []), unseen, metric, sign)
        if check.resource_classes
        else []
    )
    if model:
        finding, why = finding_of(model, check.metric, n_seeds, min_seeds)
    else:
        # The question's model needs two more languages than terms; the Welch/slope views stay below.
        finding, why = "undetermined", f"{len(langs)} languages, too few for the question's model; {main.reason}"
    return TrendAnalysis(
        metric=metric,
        sign=sign,
        ref=ref,
        at=at,
        xs=xs,
        curve=curve,
        base=base,
        langs=langs,
        seen=seen,
        unseen=unseen,
        low=low,
        high=high,
        groups=groups,
        units=units,
        seeds_at=seeds_at,
        signed_at=signed_at,
        bootstrap_difference=bootstrap_difference,
        curves=curves,
        splits=splits,
        parallel=parallel,
        items_note=items_note,
        missing=missing,
        min_seeds=min_seeds,
        model=model,
        units_finding=main.finding,
        finding=finding,
        finding_reason=why,
    )


def _results_along_x(
    check: TrendSpec, exp: Any, rs: Any, metric: Metric
) -> tuple[dict[float, list[tuple[str, Any]]], list[str], float, float] | TrendResult:
    """The planned points with results at each x, the planned ones without, and the grid's reference and
    ``at``; a "not checked" result without results at either."""
    from repro.runner.experiment import point_label

    planned = {
        x: [(point_label(p), p) for p in exp.points() if close(p[check.x], x) and metric.task in exp.tasks_for(p)]
        for x in sorted(exp.grid[check.x])
    }
    ref = grid_x(list(planned), check.reference)
    at = grid_x(list(planned), check.at)
    # A sweep still running (or stopped) holds some points only: use those and name the others.
    at_x = {x: [(label, p) for label, p in pts if rs.exists(label, metric.task)] for x, pts in planned.items()}
    missing = [label for pts in planned.values() for label, _ in pts if not rs.exists(label, metric.task)]
    if not at_x[ref] or not at_x[at]:
        lacking = [x for x in dict.fromkeys((ref, at)) if not at_x[x]]
        where = " and ".join(f"{check.x}={x}" for x in lacking)
        if not any(planned[x] for x in lacking):
            why = f"profile {exp.profile} evaluates {metric.task} on no trained model at {where}"
        else:
            n = sum(len(planned[x]) for x in lacking)
            why = f"none of the {n} planned models at {where} has {metric.task} results yet"
        return check.not_checked(why, missing)
    return at_x, missing, ref, at


def _seed_means(rs: Any, at_x: dict[float, list[tuple[str, Any]]], metric: Metric) -> dict[str, dict[float, float]]:
    """Mean over seeds of each language's value at each x: language -> x -> mean."""
    curve: dict[str, dict[float, float]] = {}
    for x, points in at_x.items():
        per_lang: dict[str, list[float]] = {}
        for label, _ in points:
            for lang, value in rows_of(rs, label, metric).items():
                per_lang.setdefault(lang, []).append(value)
        for lang, vals in per_lang.items():
            curve.setdefault(lang, {})[x] = float(np.mean(vals))
    return curve


def _splits(
    check: TrendSpec,
    signed: dict[str, tuple[np.ndarray, np.ndarray]],
    n_seeds: int,
    seen: list[str],
    unseen: list[str],
    langs: list[str],
) -> dict[str, LanguageUnits]:
    """The languages-as-units answer at ``at`` on the seen, the unseen and all languages (those there are)."""
    populations = {"seen": seen, "unseen": unseen, "all": langs} if check.resource_classes else {}
    return {
        name: units_answer(lang_gains(signed, members), n_seeds, name)
        for name, members in populations.items()
        if members
    }


def _items(signed: dict[str, tuple[np.ndarray, np.ndarray]], seeds: list[Any], metric: Metric) -> tuple[bool, str]:
    """Whether the items are parallel across languages, and a note saying what an item is."""
    everything = build_design(signed, seeds)
    parallel = everything.n_items < everything.n_queries
    note = (
        f"parallel items: {everything.n_items} questions over {len(everything.langs)} languages "
        f"({everything.n_queries} queries), a question's translations resampled together"
        if parallel
        else f"per-language items: {everything.n_queries} queries in {len(everything.langs)} languages, each its "
        f"own item ({metric.task} is not parallel across languages)"
    )
    return parallel, note


def _gains_along_x(
    check: TrendSpec,
    pq: dict[float, Any],
    xs: list[float],
    ref: float,
    at: float,
    sign: float,
    pop: list[str],
    low: list[str],
    high: list[str],
    unseen: list[str],
) -> tuple[
    dict[str, dict[float, GroupGain]],
    dict[float, tuple[GroupGain | None, ClassSlope | None]],
    dict[float, list[Any]],
    dict[float, dict[str, tuple[np.ndarray, np.ndarray]]],
    GroupGain | None,
]:
    """At every x but the reference: each group's tested gain, the languages-as-units views, and at ``at``
    the hierarchical bootstrap of low - high. Returns (groups, units, seeds_at, signed_at, bootstrap)."""
    resource_class, _ = check.classes()
    groups: dict[str, dict[float, GroupGain]] = {"low": {}, "high": {}, "unseen": {}, "low - high": {}}
    groups.update({name: {} for name in check.groups})
    units: dict[float, tuple[GroupGain | None, ClassSlope | None]] = {}
    seeds_at: dict[float, list[Any]] = {}
    signed_at: dict[float, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    bootstrap_difference = None
    for x in xs:
        if close(x, ref):
            continue
        items, seeds = paired_items(pq[x], pq[ref])
        signed = {lang: (ids, sign * d) for lang, (ids, d) in items.items()}
        seeds_at[x], signed_at[x] = seeds, signed
        weights = _group_weights(check, signed, low, high, unseen)
        for name, w in weights.items():
            groups.setdefault(name, {})
            groups[name][x] = tested({m: signed[m] for m in w}, seeds, w, "seed pairs x items, these languages")
        lang_gain = lang_gains(signed, pop)
        diff = group_difference({m: lang_gain[m] for m in low}, {m: lang_gain[m] for m in high})
        reg = (
            class_regression(lang_gain, {lang: resource_class(lang) for lang in lang_gain})
            if check.resource_classes
            else None
        )
        units[x] = (
            None
            if diff is None
            else gain_of(diff, "languages as units (Welch)").model_copy(update={"n_seeds": len(seeds)}),
            None if reg is None else slope_of(reg),
        )
        if close(x, at) and "low - high" in weights and len(low) > 1 and len(high) > 1:
            bootstrap_difference = _bootstrap_difference(check, signed, seeds, weights["low - high"], low, high)
    return groups, units, seeds_at, signed_at, bootstrap_difference


def _group_weights(
    check: TrendSpec,
    signed: dict[str, tuple[np.ndarray, np.ndarray]],
    low: list[str],
    high: list[str],
    unseen: list[str],
) -> dict[str, dict[str, float]]:
    """Each tested group's weights over its languages: their mean, and +mean low - mean high for low - high."""
    weights: dict[str, dict[str, float]] = {
        name: {m: 1 / len(members) for m in members}
        for name, members in (("low", low), ("high", high), ("unseen", unseen))
        if members
    }
    if low and high:
        weights["low - high"] = {**{m: 1 / len(low) for m in low}, **{m: -1 / len(high) for m in high}}
    for name, members in check.groups.items():
        if have := [m for m in members if m in signed]:
            weights[name] = {m: 1 / len(have) for m in have}
    return weights


def _bootstrap_difference(
    check: TrendSpec,
    signed: dict[str, tuple[np.ndarray, np.ndarray]],
    seeds: list[Any],
    weights: dict[str, float],
    low: list[str],
    high: list[str],
) -> GroupGain:
    """Low - high by a hierarchical bootstrap over languages within groups, items and seed pairs."""
    design = build_design({m: signed[m] for m in weights}, seeds, weights)
    bt = hierarchical_bootstrap(
        design, n_boot=check.n_boot, seed=check.seed, language_groups={"low": low, "high": high}
    )
    return GroupGain(
        observed=bt.observed,
        low=bt.low,
        high=bt.high,
        n_seeds=len(seeds),
        n_langs=len(low) + len(high),
        # docs/statistics.md: over 5 seeds a bootstrap is too narrow to give a probability; its
        # interval is kept only to compare widths with the t-based one.
        method="hierarchical bootstrap: languages within groups, items, seed pairs (interval width "
        "only, no probability)",
    )


def lang_gains(signed: dict[str, tuple[np.ndarray, np.ndarray]], langs: list[str]) -> dict[str, float]:
    """Each language's gain: the mean over its items and the seed pairs."""
    return {lang: float(np.mean(v.mean(axis=1))) for lang, (_, v) in signed.items() if lang in langs}


def units_answer(lang_gain: dict[str, float], n_seeds: int, population: str) -> LanguageUnits:
    """Low - high (Welch) and the class slope over these languages' gains, and the answer they give."""
    from repro.data.resource_classes import resource_class, resource_group

    low = [m for m in lang_gain if resource_group(m) == "low"]
    high = [m for m in lang_gain if resource_group(m) == "high"]
    diff = group_difference({m: lang_gain[m] for m in low}, {m: lang_gain[m] for m in high})
    reg = class_regression(lang_gain, {m: resource_class(m) for m in lang_gain})
    if diff is not None:
        finding, why = answer(diff, n_seeds)
        why = f"low - high, languages as units: {why}"
    elif reg is not None:
        finding, why = answer(reg.slope, n_seeds, lower_means_more=True)
        why = f"gain per Joshi class (fewer than 2 languages in a group: {len(low)} low, {len(high)} high): {why}"
    else:
        finding, why = "undetermined", f"too few {population} languages ({len(low)} low, {len(high)} high)"
    return LanguageUnits(
        low=low,
        high=high,
        difference=None
        if diff is None
        else gain_of(diff, "languages as units (Welch)").model_copy(update={"n_seeds": n_seeds}),
        slope=None if reg is None else slope_of(reg),
        finding=finding,
        reason=why,
    )


def model_terms(
    check: TrendSpec,
    rs: Any,
    at_x: dict[float, list[tuple[str, Any]]],
    at: float,
    ref: float,
    seeds: list[Any],
    unseen: list[str],
    metric: Metric,
    sign: float,
) -> list[ModelTerm]:
    """The question's regression over languages at ``at``: per-seed-pair values of every language."""
    from repro.data.resource_classes import resource_class

    def per_seed(x: float) -> dict[Any, dict[str, float]]:
        out: dict[Any, dict[str, float]] = {}
        for label, point in at_x[x]:
            seed = 0 if point is None else point.get("seed", 0)
            out[seed] = rows_of(rs, label, metric)
        return out

    va, vr = per_seed(at), per_seed(ref)
    pairs = [s for s in seeds if s in va and s in vr] or ([next(iter(va))] if len(va) == len(vr) == 1 else [])
    if not pairs:
        return []
    sa, sr = pairs, [s if s in vr else next(iter(vr)) for s in pairs]
    langs = sorted(set.intersection(*(set(va[s]) for s in sa), *(set(vr[s]) for s in sr)))
    classes = {}
    for lang in langs:
        try:
            classes[lang] = resource_class(lang)
        except ReproError:
            continue
    values_at = {g: np.array([va[s][g] for s in sa]) for g in classes}
    values_ref = {g: np.array([vr[s][g] for s in sr]) for g in classes}
    bounded = not metric.lower_is_better and all(
        0.0 <= v <= 1.0 for d in (values_at, values_ref) for arr in d.values() for v in arr
    )
    return fit_terms(
        values_at, values_ref, classes, unseen, sign, bounded, check.margin, check.margin_logit, check.metric
    )


def tested(
    signed: dict[str, tuple[np.ndarray, np.ndarray]],
    seeds: list[Any],
    weights: dict[str, float] | None,
    method: str,
) -> GroupGain:
    """A seed x item test of the weighted gain of these languages (weights default to their mean)."""
    t = seed_t_test(build_design(signed, seeds, weights))
    return GroupGain(
        observed=t.estimate,
        low=t.low,
        high=t.high,
        p_positive=t.p_direction,
        p_value=t.p_value,
        n_seeds=t.n_seeds,
        n_langs=len(signed),
        method=method,
    )


def curves_of(
    check: TrendSpec,
    signed_at: dict[float, dict[str, tuple[np.ndarray, np.ndarray]]],
    seeds_at: dict[float, list[Any]],
    seen: list[str],
    unseen: list[str],
    ref: float,
) -> list[GainCurve]:
    """The gain at every x of each Joshi class and each resource group, seen and unseen languages apart."""
    from repro.data.resource_classes import resource_class, resource_group

    curves = []
    for is_seen, pool in ((True, seen), (False, unseen)):
        tag = "seen" if is_seen else "unseen"
        specs: list[tuple[str, Literal["class", "group"], int | None, str | None, list[str]]] = [
            (f"class {c}, {tag}", "class", c, None, [g for g in pool if resource_class(g) == c])
            for c in sorted({resource_class(g) for g in pool})
        ]
        specs += [
            (f"{r}-resource, {tag}", "group", None, r, members)
            for r in ("low", "high")
            if (members := [g for g in pool if resource_group(g) == r])
        ]
        for name, by, cls, res, members in specs:
            points = []
            for x, signed in signed_at.items():
                have = {m: signed[m] for m in members if m in signed}
                if have:
                    g = tested(have, seeds_at[x], None, "seed pairs x items, these languages")
                    points.append(CurvePoint(x=x, **g.model_dump()))
            curve = GainCurve(
                name=name, by=by, seen=is_seen, joshi_class=cls, resource=res, langs=members, reference=ref
            )
            curves.append(curve.model_copy(update={"points": points}))
    return curves


def grid_x(xs: list[float], value: float) -> float:
    return next(x for x in xs if close(x, value))
