"""The research question's model across languages, its family adjustment and its answer in words.

Each trend check fits, at its ``at`` against its ``reference``, the gains of all its languages on
low-resource (Joshi class 0-3), unseen-in-training and headroom (``1 - value`` at the reference)
in one regression with languages as units and the seed variance included
(:mod:`repro.checks.stats.language_model`), on the metric's own scale and, for metrics in [0, 1],
on the logit scale; a second model puts the Joshi class (0-5) in place of low-resource. "No
difference" is tested against the equivalence margin the registry states (``margin``,
``margin_logit``; docs/statistics.md says how it was chosen) with TOST. All of the question's
p-values (every check, term, scale, difference and equivalence) are one family, Holm-adjusted
(:func:`adjust_question`); the finding of a check is its low-resource term on the metric's scale:

- "more" / "less": the term differs from 0 (adjusted p <= 0.05);
- "equivalent": it lies within the margin (adjusted TOST p <= 0.05);
- "undetermined": neither, or fewer than 3 seed pairs of trained models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from repro.checks.base import CheckResult
from repro.checks.stats.family import holm
from repro.checks.stats.language_model import fit_languages, logit

# The term that answers "do low-resource languages gain more?"
PRIMARY = "low-resource"


class ModelTerm(BaseModel):
    """One coefficient of the question's language model, with raw and Holm-adjusted p-values."""

    model: str = Field(description="'low vs high' (low-resource indicator) or 'per class' (Joshi class 0-5)")
    scale: str = Field(description="the metric's own scale, or 'logit'")
    term: str
    estimate: float
    low: float
    high: float
    se: float
    df: float
    p_value: float
    p_adjusted: float | None = None
    margin: float | None = None
    p_equivalence: float | None = None
    p_equivalence_adjusted: float | None = None
    n_langs: int
    n_seeds: int
    dropped: list[str] = Field(default_factory=list, description="covariates left out (constant or collinear)")


def fit_terms(
    values_at: Mapping[str, np.ndarray],
    values_ref: Mapping[str, np.ndarray],
    classes: Mapping[str, int],
    unseen: Sequence[str],
    sign: float,
    bounded: bool,
    margin: float | None,
    margin_logit: float | None,
    scale_name: str,
) -> list[ModelTerm]:
    """The question's model terms from per-seed-pair values ``lang -> (k,)`` at ``at`` and at the reference."""
    langs = sorted(set(values_at) & set(values_ref) & set(classes))
    if not langs:
        return []
    low = {g: float(classes[g] <= 3) for g in langs}
    uns = {g: float(g in unseen) for g in langs}
    cls = {g: float(classes[g]) for g in langs}
    scales: list[tuple[str, dict[str, np.ndarray], float | None]] = [
        (scale_name, {g: sign * (values_at[g] - values_ref[g]) for g in langs}, margin)
    ]
    if bounded:
        scales.append(("logit", {g: sign * (logit(values_at[g]) - logit(values_ref[g])) for g in langs}, margin_logit))
    covs: dict[str, dict[str, float]] = {}
    if bounded:
        # Room to gain: a language near the ceiling cannot gain much, whatever its class.
        covs["headroom"] = {
            g: float(1 - np.mean(values_ref[g])) if sign > 0 else float(np.mean(values_ref[g])) for g in langs
        }
    out = []
    for model, first in (("low vs high", {PRIMARY: low}), ("per class", {"Joshi class": cls})):
        for scale, gains, m in scales:
            name = next(iter(first))
            fit = fit_languages(
                gains, {**first, "unseen": uns, **covs}, margins=None if m is None else {name: m, "unseen": m}
            )
            if fit is None:
                continue
            for term in fit.terms.values():
                out.append(
                    ModelTerm(
                        model=model,
                        scale=scale,
                        term=term.name,
                        estimate=term.estimate,
                        low=term.low,
                        high=term.high,
                        se=term.se,
                        df=term.df,
                        p_value=term.p_value,
                        margin=term.margin if model == "low vs high" or term.name != "Joshi class" else None,
                        p_equivalence=term.p_equivalence
                        if (model == "low vs high" or term.name != "Joshi class")
                        else None,
                        n_langs=len(fit.langs),
                        n_seeds=fit.n_seeds,
                        dropped=fit.dropped,
                    )
                )
    return out


def finding_of(terms: Sequence[ModelTerm], scale: str, n_seeds: int, min_seeds: int) -> tuple[str, str]:
    """The check's finding from its (adjusted) low-resource term on ``scale``, and why."""
    term = next((t for t in terms if t.model == "low vs high" and t.scale == scale and t.term == PRIMARY), None)
    if term is None:
        if any(PRIMARY in t.dropped for t in terms):
            return "undetermined", "no low-resource language among these (every one is Joshi class 4-5)"
        return "undetermined", "the languages cannot separate low-resource from seen/unseen and headroom"
    ci = f"low - high {term.estimate:+.4f} [{term.low:+.4f}, {term.high:+.4f}] over {term.n_langs} languages"
    p = term.p_adjusted if term.p_adjusted is not None else term.p_value
    pe = term.p_equivalence_adjusted if term.p_equivalence_adjusted is not None else term.p_equivalence
    if n_seeds < min_seeds:
        return "undetermined", f"needs >= {min_seeds} seeds (has {n_seeds}); {ci}"
    if p <= 0.05:
        return ("more" if term.estimate > 0 else "less"), f"{ci}, p (Holm) = {p:.3g}"
    if pe is not None and pe <= 0.05:
        return "equivalent", f"{ci} inside +-{term.margin:g}, TOST p (Holm) = {pe:.3g}"
    margin = f"; not inside +-{term.margin:g} (TOST p (Holm) = {pe:.3g})" if pe is not None else "; no margin stated"
    return "undetermined", f"{ci}, p (Holm) = {p:.3g}{margin}"


def adjust_question(results: Sequence[CheckResult]) -> list[CheckResult]:
    """The question's trend results with every model p-value Holm-adjusted over the whole question,
    and each check's finding re-decided from its adjusted terms."""
    trends = [r for r in results if _is_trend(r) and r.model]
    ps: list[float] = []
    for r in trends:
        for t in r.model:
            # The family: the question's hypotheses (low-resource and unseen, difference and equivalence,
            # both scales); headroom is a covariate and the per-class model a second view, not tests of it.
            tested = t.model == "low vs high" and t.term in (PRIMARY, "unseen")
            ps.append(t.p_value if tested else np.nan)
            ps.append(np.nan if t.p_equivalence is None or not tested else t.p_equivalence)
    adj = iter(holm(ps))
    out: list[CheckResult] = []
    by_id = {}
    for r in trends:
        terms = []
        for t in r.model:
            p, pe = next(adj), next(adj)
            terms.append(t.model_copy(update={"p_adjusted": p, "p_equivalence_adjusted": None if np.isnan(pe) else pe}))
        by_id[id(r)] = r.redecided(terms, len([p for p in ps if not np.isnan(p)]))
    for r in results:
        out.append(by_id.get(id(r), r))
    return out


def two_sentences(results: Sequence[CheckResult]) -> str | None:
    """The research question's answer in two sentences, from the adjusted findings of its trend checks."""
    trends = [r for r in results if _is_trend(r) and r.finding and r.at is not None]
    if not any(r.model for r in trends):
        return None
    groups: dict[str, list[str]] = {}
    for r in trends:
        if not r.model:
            groups.setdefault("undetermined", []).append(f"{r.task} {r.metric} (too few languages for the model)")
            continue
        term = next(
            (t for t in r.model if t.model == "low vs high" and t.term == PRIMARY and t.scale == r.metric), None
        )
        if term is None:
            why = "no low-resource language" if any(PRIMARY in t.dropped for t in r.model) else "too few languages"
            groups.setdefault("undetermined", []).append(f"{r.task} {r.metric} ({why})")
            continue
        groups.setdefault(str(r.finding), []).append(
            f"{r.task} {r.metric} {term.estimate:+.4f} [{term.low:+.4f}, {term.high:+.4f}]"
        )
    x, at, ref = trends[0].x, trends[0].at, trends[0].reference
    words = {
        "equivalent": "gain the same as high-resource ones within the stated margin",
        "more": "gain more",
        "less": "gain less",
        "undetermined": "cannot be told apart from high-resource ones (neither a difference nor equivalence)",
    }
    first = (
        f"Moving from {x} = {ref:g} to {at:g}, low-resource languages (Joshi 0-3), compared with high-resource "
        "ones at equal seen/unseen status and headroom, with languages as units and seed variance included: "
        + "; ".join(f"{words.get(f, f)} on {', '.join(v)}" for f, v in groups.items())
        + " (low - high gain, 95% CI; Holm over all the question's tests)."
    )
    seen_low = sorted(
        {g for r in trends for g in _seen_low01(r)},
    )
    second = (
        "Every class-0 and class-1 language is unseen in training, so for the lowest classes resource and "
        "seen status cannot be separated: the data cannot say how seen class-0/1 languages would fare."
        if not seen_low
        else f"Seen class-0/1 languages: {', '.join(seen_low)}."
    )
    return f"{first} {second}"


def _seen_low01(r: Any) -> list[str]:
    from repro.data.resource_classes import resource_class

    unseen = set(r.details.get("groups", {}).get("unseen", []))
    return [g for g in r.details.get("curve", {}) if g not in unseen and resource_class(g) <= 1]


def _is_trend(result: CheckResult) -> bool:
    # A trend result, told by its fields: this module sits below trend.py, which imports it.
    return hasattr(result, "model") and hasattr(result, "redecided")
