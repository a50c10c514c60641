"""Presentation: :class:`TrendAnalysis` -> the typed result, its tables, figures and headline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from repro.checks.base import Figure, Table, Verdict
from repro.checks.trend.analysis import TrendAnalysis
from repro.checks.trend.result import GroupGain, TrendResult, close, model_table

if TYPE_CHECKING:
    from repro.checks.trend.spec import TrendSpec


def result_of(check: TrendSpec, a: TrendAnalysis) -> TrendResult:
    """The typed result of an analysis (verdict not yet decided: the hypothesis rule reads this)."""
    class_difference, class_slope = a.units.get(a.at, (None, None))
    return TrendResult(
        verdict=Verdict.NOT_CHECKED,
        confidence=None,
        headline=headline_for(check, a),
        details=details_for(check, a),
        tables=tables_for(check, a),
        figures=figures_for(check, a),
        gain_at=gains_at(a),
        class_difference=class_difference,
        bootstrap_difference=a.bootstrap_difference,
        class_slope=class_slope,
        finding=a.finding,
        finding_reason=a.finding_reason,
        n_seeds=a.n_seeds,
        curves=a.curves,
        splits=a.splits,
        units=check.units,
        items=a.items_note,
        missing=a.missing,
        model=a.model,
        margin=check.margin,
        margin_logit=check.margin_logit,
        slopes={lang: a.slope(lang) for lang in a.langs},
        hypothesis=check.hypothesis,
        min_seeds=a.min_seeds,
        **check.where(a.metric.lower_is_better, a.at, a.ref),
    )


def gains_at(a: TrendAnalysis) -> dict[str, GroupGain]:
    """Every tested group's gain at ``at``."""
    return {name: by_x[a.at] for name, by_x in a.groups.items() if a.at in by_x}


def details_for(check: TrendSpec, a: TrendAnalysis) -> dict[str, Any]:
    """The result's untyped details: groups, each language's best x and curve, where the answer is."""
    return {
        "groups": {"low": a.low, "high": a.high, "unseen": a.unseen},
        "best_x": {lang: a.best_x(lang) for lang in a.langs},
        "curve": a.curve,
        "x": check.x,
        "at": a.at,
        "reference": a.ref,
        "items": a.items_note,
        "missing": a.missing,
    }


def headline_for(check: TrendSpec, a: TrendAnalysis) -> str:
    """One line: the groups' gains at ``at``, the languages-as-units views and their answer."""
    gain_at = gains_at(a)
    class_difference, class_slope = a.units.get(a.at, (None, None))
    parts = []
    for name in ("low", "high", "unseen"):
        if name in gain_at:
            g = gain_at[name]
            parts.append(f"{name} {g.observed:+.4f} [{g.low:+.4f}, {g.high:+.4f}]")
    headline = (
        f"{check.task} {check.metric} gain at {check.x}={a.at} over {check.x}={a.ref} ({a.n_seeds} seed pairs): "
        + "; ".join(parts)
    )
    if class_difference is not None:
        d = class_difference
        headline += f"; low - high over languages {d.observed:+.4f} [{d.low:+.4f}, {d.high:+.4f}]"
    if class_slope is not None:
        headline += f"; per class {class_slope.slope:+.4f} [{class_slope.low:+.4f}, {class_slope.high:+.4f}]"
    headline += f"; low-resource languages gain: {a.units_finding}"
    if not a.parallel:
        headline += "; items per language"
    if a.missing:
        headline += f"; {len(a.missing)} planned models without results left out"
    return headline


def tables_for(check: TrendSpec, a: TrendAnalysis) -> list[Table]:
    """The question's model (when fitted), then per language, per group, languages as units, curves, splits."""
    return [
        *([model_table(a.model, check.x, a.at, a.ref)] if a.model else []),
        _language_table(check, a),
        _group_table(check, a),
        _unit_table(check, a),
        _curve_table(check, a),
        _split_table(check, a),
    ]


def _language_table(check: TrendSpec, a: TrendAnalysis) -> Table:
    resource_class, resource_group = check.classes()
    rows = []
    for lang in sorted(a.langs, key=lambda g: (g not in a.unseen, resource_class(g), g)):
        group = "unseen" if lang in a.unseen else resource_group(lang)
        at_gain = a.gain(lang, a.at)
        rows.append(
            [
                lang,
                resource_class(lang),
                group,
                *(round(a.curve[lang][x], 4) if x in a.curve[lang] else None for x in a.xs),
                round(a.base[lang], 4) if lang in a.base else None,
                a.best_x(lang),
                round(a.slope(lang), 4),
                None if at_gain is None else round(at_gain, 4),
            ]
        )
    return Table(
        title=f"{check.task} {check.metric} per language vs {check.x} (mean over seeds); "
        f"gain = improvement at {check.x}={a.at} over {check.x}={a.ref}",
        columns=[
            "lang",
            "Joshi class",
            "group",
            *(f"{check.x}={x}" for x in a.xs),
            "base model",
            f"best {check.x}",
            f"slope per unit {check.x}",
            f"gain at {a.at}",
        ],
        rows=rows,
    )


def _group_table(check: TrendSpec, a: TrendAnalysis) -> Table:
    rows = [
        [
            name,
            x,
            round(g.observed, 4),
            f"[{g.low:+.4f}, {g.high:+.4f}]",
            g.n_seeds,
            None if g.p_value is None else round(g.p_value, 4),
        ]
        for name, by_x in a.groups.items()
        for x, g in by_x.items()
    ]
    return Table(
        title=f"Gain over {check.x}={a.ref} by language group (paired t over seed pairs with the items' "
        f"variance; these languages as they are; {a.items_note})",
        columns=["group", check.x, "mean gain", "95% CI", "seed pairs", "p (gain = 0, unadjusted)"],
        rows=rows,
    )


def _unit_table(check: TrendSpec, a: TrendAnalysis) -> Table:
    rows = [
        [
            x,
            len(a.seeds_at[x]),
            "-" if d is None else f"{d.observed:+.4f} [{d.low:+.4f}, {d.high:+.4f}]",
            "-" if sl is None else f"{sl.slope:+.4f} [{sl.low:+.4f}, {sl.high:+.4f}]",
            "-" if sl is None else len(sl.gains),
        ]
        for x, (d, sl) in a.units.items()
    ]
    who = "seen languages" if check.units == "seen" else "languages, unseen included"
    return Table(
        title=f"Languages as units: low - high gain (Welch over the {who}) and gain per Joshi class "
        f"(least squares over the {who}; negative = lower classes gain more)",
        columns=[check.x, "seed pairs", "low - high, 95% CI", "slope per class, 95% CI", "languages"],
        rows=rows,
    )


def _curve_table(check: TrendSpec, a: TrendAnalysis) -> Table:
    curve_xs = [x for x in a.xs if x in a.seeds_at]
    return Table(
        title=f"Gain in {check.metric} over {check.x}={a.ref} per Joshi class and resource group, seen and unseen "
        f"apart: mean [95% CI] over seed pairs and items of those languages ({a.items_note})",
        columns=["group", "languages", *(f"{check.x}={x} ({len(a.seeds_at[x])} seed pairs)" for x in curve_xs)],
        rows=[
            [
                c.name,
                " ".join(c.langs),
                *(
                    next((f"{p.observed:+.4f} [{p.low:+.4f}, {p.high:+.4f}]" for p in c.points if p.x == x), "-")
                    for x in curve_xs
                ),
            ]
            for c in a.curves
        ],
    )


def _split_table(check: TrendSpec, a: TrendAnalysis) -> Table:
    rows = [
        [
            name,
            len(u.low),
            len(u.high),
            "-"
            if u.difference is None
            else f"{u.difference.observed:+.4f} [{u.difference.low:+.4f}, {u.difference.high:+.4f}]",
            "-" if u.slope is None else f"{u.slope.slope:+.4f} [{u.slope.low:+.4f}, {u.slope.high:+.4f}]",
            u.finding,
        ]
        for name, u in a.splits.items()
    ]
    return Table(
        title=f"Languages as units at {check.x}={a.at}, by population (the answer uses: {check.units})",
        columns=["languages", "low", "high", "low - high, 95% CI", "slope per class, 95% CI", "low-resource gain"],
        rows=rows,
    )


def figures_for(check: TrendSpec, a: TrendAnalysis) -> list[Figure]:
    """Each language's metric along x, and each resource group's mean gain along x."""
    _, resource_group = check.classes()

    def group_mean(members: list[str], x: float) -> float | None:
        if close(x, a.ref):
            return 0.0
        vals = [v for m in members if (v := a.gain(m, x)) is not None]
        return float(np.mean(vals)) if vals else None

    who = "seen" if check.units == "seen" else "all"
    return [
        Figure(
            title=f"{check.task} {check.metric} per language vs {check.x}",
            kind="lines",
            x_label=check.x,
            y_label=check.metric,
            x=a.xs,
            series={
                f"{lang} ({'unseen' if lang in a.unseen else resource_group(lang)})": [
                    a.curve[lang].get(x) for x in a.xs
                ]
                for lang in a.langs
            },
            note="dashed lines in the legend order: unseen, low-resource, high-resource",
        ),
        Figure(
            title=f"Gain in {check.metric} over {check.x}={a.ref}, by language group",
            kind="lines",
            x_label=check.x,
            y_label=f"gain ({'lower' if a.sign < 0 else 'higher'} {check.metric} is better)",
            x=a.xs,
            series={
                name: [group_mean(members, x) for x in a.xs]
                for name, members in (
                    (f"low-resource ({who})", a.low),
                    (f"high-resource ({who})", a.high),
                    ("unseen", a.unseen),
                )
                if members
            },
        ),
    ]


# Hypothesis rules: name -> rule(check, result) -> (verdict, confidence). A rule reads the typed
# fields of the result; plug-ins add rules through the entry point group repro.hypotheses (or a


def answer_of(check: TrendSpec, r: TrendResult, at: float, ref: float, parallel: bool = True) -> str | None:
    """The research question's answer in words: how low- and high-resource languages move from ref to at."""
    g = r.gain_at
    if "low" not in g or "high" not in g:
        return None
    lo, hi = g["low"], g["high"]
    metric = check.describe().split(" vs ")[0]
    who = "seen languages" if check.units == "seen" else "languages, unseen included"
    s = (
        f"{metric}: moving from {check.x}={ref} to {check.x}={at}, low-resource languages change by "
        f"{lo.observed:+.4f} (95% CI {lo.low:+.4f} to {lo.high:+.4f}) and high-resource ones by "
        f"{hi.observed:+.4f} ({hi.low:+.4f} to {hi.high:+.4f}), {r.n_seeds} seed pairs "
        f"({lo.n_langs} low- and {hi.n_langs} high-resource {who}" + ("" if parallel else "; items per language") + ")"
    )
    if r.class_difference is not None:
        d = r.class_difference
        s += f"; low - high with languages as units {d.observed:+.4f} ({d.low:+.4f} to {d.high:+.4f})"
    if r.class_slope is not None:
        c = r.class_slope
        s += f"; gain per Joshi class {c.slope:+.4f} ({c.low:+.4f} to {c.high:+.4f}, {len(c.gains)} languages)"
    if "unseen" in g:
        u = g["unseen"]
        s += f"; unseen languages {u.observed:+.4f} ({u.low:+.4f} to {u.high:+.4f})"
    other = r.splits.get("unseen")
    if check.units == "seen" and other is not None and other.difference is not None:
        d = other.difference
        s += f"; among unseen languages low - high {d.observed:+.4f} ({d.low:+.4f} to {d.high:+.4f}, {other.finding})"
    return s + f". Do low-resource languages gain more? {r.finding} ({r.finding_reason})."
