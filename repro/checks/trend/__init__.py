"""Kind ``trend``: per-language metric as a function of a grid value, by language group.

Built for the research question (how do low-resource languages fare as alpha varies)::

    - kind: trend
      experiment: sweep
      task: xquad-r
      metric: Mul mAP
      x: alpha
      reference: 1.0          # gains are measured against pure X-X-mono
      at: 0.5                 # the hypothesis is tested at the paper's hybrid
      hypothesis: low-gains-more

For every language: the metric at each x (mean over seeds) and its gain over the reference
(sign-flipped for lower-is-better metrics, so a gain is always an improvement). Languages are
grouped by resource class (repro/data/resource_classes.yaml, Joshi et al. 2020) and by whether the
training corpus had them (``seen``: every other language is unseen; or ``unseen``: the held-out
ones). At every x, each group's gain is tested like a comparison (seed pairs x items, those
languages as they are), and so is each Joshi class's and resource group's, seen and unseen apart
(``curves``: the gain-vs-x curves with intervals the report draws). Items are the task's: a
question with all its translations on XQuAD-R and MLQA-R; a language's own question or sentence
pair on TyDi-GoldP and Tatoeba, which are not parallel across languages (``items`` says which).

The research question is about classes, so it is answered with languages as units
(docs/statistics.md): Welch's interval for low - high over the languages' gains, a regression of
the gain on the Joshi class with its interval, and a hierarchical bootstrap (languages within
groups, items, seeds) as a second look. ``units`` picks the languages that answer: the seen ones
(default: unseen languages differ in more than their class), or all of them (a task with too few
seen languages in a group, TyDi-GoldP); the other populations are answered too (``splits``).
The answer (``finding``): low-resource languages gain more, less, or no detectably differently,
"undetermined" with fewer than 3 seed pairs or too few languages. Grid points without results
(a profile that does not evaluate the task on trained models, a sweep still running) are left
out and named (``missing``); without results at ``reference`` or ``at`` the check is not checked.
``x``, ``reference`` and ``at`` are the registry's (no defaults). ``groups`` adds named groups of
rows (any rows a task reports: languages, classes...) whose gains are tested beside the resource
groups; ``resource_classes: false`` drops the resource-class grouping (and with it the
languages-as-units answer) for rows that are not languages. ``hypothesis`` names a registered rule (:data:`HYPOTHESES`; plug-ins add rules through
the entry point group ``repro.hypotheses``):

- ``low-gains-more``: the finding at ``at`` is "more" -> reproduced, "less" -> not reproduced;
- ``unseen-gain``: held-out languages gain at ``at`` (a seed x item test of their mean gain);
- ``gains``: the check's ``group`` gains at ``at`` (the same test);
- omitted: the check only reports (verdict "not checked", the numbers are the answer).
"""

from __future__ import annotations

# One concept a module: the registry's fields (spec), the typed result (result), results -> TrendAnalysis
# (analysis), TrendAnalysis -> result, tables, figures and headline (presentation), hypothesis rules
# (hypotheses), and the registered check that runs them in that order (check).
from repro.checks.trend.analysis import TrendAnalysis, trend_analysis
from repro.checks.trend.check import TrendCheck
from repro.checks.trend.hypotheses import (
    HYPOTHESES,
    HypothesisRule,
    group_gains,
    known_hypotheses,
    low_gains_more,
    register_hypothesis,
    unseen_gain,
)
from repro.checks.trend.presentation import figures_for, headline_for, result_of, tables_for
from repro.checks.trend.result import (
    MODEL_TABLE,
    ClassSlope,
    CurvePoint,
    GainCurve,
    GroupGain,
    LanguageUnits,
    TrendResult,
    model_table,
)
from repro.checks.trend.spec import TrendSpec

__all__ = [
    "HYPOTHESES",
    "MODEL_TABLE",
    "ClassSlope",
    "CurvePoint",
    "GainCurve",
    "GroupGain",
    "HypothesisRule",
    "LanguageUnits",
    "TrendAnalysis",
    "TrendCheck",
    "TrendResult",
    "TrendSpec",
    "figures_for",
    "group_gains",
    "headline_for",
    "known_hypotheses",
    "low_gains_more",
    "model_table",
    "register_hypothesis",
    "result_of",
    "tables_for",
    "trend_analysis",
    "unseen_gain",
]
