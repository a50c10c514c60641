"""What each evaluation task reports, declared in one place: settings, measures, directions,
published per-query values.

A :class:`Declaration` is the one source for what a task's results hold. The evaluators compute
the measures it lists (:meth:`Declaration.computed_measures`); claims name its metrics
(``Mul mAP``, ``rank distance``) and :func:`parse_metric` resolves them, with their direction;
the sweep summary keeps the numbers :meth:`Declaration.headline` picks; the runner publishes the
per-query arrays :meth:`Declaration.publishes` allows; the report formats each number with its
declared decimals. A measure added to a setting below is computed, usable in a claim, judged in
its direction and (listed in ``headline``/``by_language``) shown in the summary, with no other edit.

This module is light (no torch, no datasets): claim parsing and the report read it.
:mod:`repro.evaluation.tasks` binds each declaration to its evaluator and data.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from repro.errors import ReproError
from repro.evaluation.measures import MAP, MRR10, NDCG10, R1, R10, R100, RANK_DISTANCE, MeasureSpec, Setting
from repro.evaluation.metrics import Measure


@dataclass(frozen=True)
class Metric:
    """One measure of a task in one setting, e.g. ``Mul mAP`` on xquad-r.

    ``setting`` and ``measure`` are the keys that find it in results (``summary[setting][measure]``,
    ``tables[setting][lang][measure]``, per-query ``setting/lang/measure``). ``name`` is the
    canonical spelling claims use and the sweep summary keys on (``xquad-r Mul mAP``): the setting's
    label and the measure, or the measure alone for a single-setting task or an unlabelled measure
    (``rank distance``).
    """

    task: str
    setting: str
    measure: str
    name: str
    spec: MeasureSpec
    published: bool

    @property
    def lower_is_better(self) -> bool:
        """Whether smaller values are better (rank distance)."""
        return not self.spec.higher_is_better

    @property
    def decimals(self) -> int:
        """Decimals the value reads with (four for scores in [0, 1], one for rank distances)."""
        return self.spec.decimals

    @property
    def per_language(self) -> bool:
        """Whether result tables hold a value per language (not only the macro average)."""
        return self.spec.per_language

    @property
    def per_query(self) -> bool:
        """Whether published results hold per-query values with ids, which a bootstrap pairs on."""
        return self.published and self.spec.per_query

    def summary_key(self, lang: str | None = None) -> str:
        """The metric's name in the sweep summary: ``xquad-r Mul mAP``, ``xquad-r Mul mAP [th]``."""
        return f"{self.task} {self.name}" + (f" [{lang}]" if lang else "")


@dataclass(frozen=True)
class Declaration:
    """What a task reads and reports: its datasets, settings and their measures.

    ``language_table``: the metric the sweep summary also tabulates per language. ``rows``: what a
    result's rows are, for the tables that list them ("language" for the built-in tasks; a user
    program's rows are its item groups).
    """

    name: str
    description: str
    datasets: tuple[str, ...]
    settings: tuple[Setting, ...]
    language_table: str | None = None
    rows: str = "language"

    def __post_init__(self) -> None:
        if len(self.settings) > 1 and not all(s.label for s in self.settings):
            raise ValueError(f"task {self.name}: with several settings each needs a label (Mo, Cr, Mul)")
        if len(self.metrics()) != sum(len(s.measures) for s in self.settings):
            raise ValueError(f"task {self.name}: two settings declare an unlabelled measure of the same name")

    def setting(self, key: str) -> Setting:
        """The setting stored under ``key`` (``mono``, ``multi``, ...)."""
        for s in self.settings:
            if s.key == key:
                return s
        raise ReproError(f"{self.name} has no setting '{key}'; it has {', '.join(s.key for s in self.settings)}")

    def computed_measures(self) -> dict[str, tuple[Measure, ...]]:
        """Setting key -> the ranking measures its evaluator computes, in declaration order."""
        return {s.key: s.computed() for s in self.settings}

    def measure_names(self) -> dict[str, list[str]]:
        """Setting key -> declared measure names: what a result of this task holds (for step configs)."""
        return {s.key: [m.name for m in s.measures] for s in self.settings}

    def metrics(self) -> dict[str, Metric]:
        """Every metric of the task by canonical name, in declaration order."""
        out: dict[str, Metric] = {}
        for s in self.settings:
            for m in s.measures:
                name = f"{s.label} {m.name}" if s.label and m.labelled else m.name
                out[name] = Metric(self.name, s.key, m.key, name, m, s.publish_per_query)
        return out

    def needs_setting(self, name: str) -> bool:
        """Whether measure ``name`` is declared in several settings, so a claim writes one in front."""
        return sum(s.measure(name) is not None for s in self.settings) > 1

    def _spellings(self) -> dict[str, Metric]:
        """Lower-cased accepted spelling -> metric: ``label name`` and, where unambiguous, ``name``."""
        out: dict[str, Metric] = {}
        for metric in self.metrics().values():
            label = self.setting(metric.setting).label
            for name in (metric.spec.name, *metric.spec.aliases):
                if label:
                    out[f"{label} {name}".lower()] = metric
                if not self.needs_setting(metric.spec.name):
                    out[name.lower()] = metric
        return out

    def metric(self, text: str) -> Metric:
        """Resolve a metric as a claim writes it (case-insensitive); unknown -> a one-line ReproError."""
        key = " ".join(text.split()).lower()
        spellings = self._spellings()
        if key in spellings:
            return spellings[key]
        # A measure several settings have needs the setting in front.
        labelled = [m for m in self.metrics().values() if m.spec.name.lower() == key]
        if labelled:
            labels = ", ".join(self.setting(m.setting).label for m in labelled)
            raise ReproError(f"{self.name} metric '{text}' needs a setting: {labels} (e.g. '{labelled[-1].name}')")
        candidates = dict(spellings)
        for m in self.metrics().values():  # a bare ambiguous name suggests its last setting's metric
            if m.spec.name.lower() not in spellings:
                candidates[m.spec.name.lower()] = m
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
        hint = f" (did you mean '{candidates[close[0]].name}'?)" if close else ""
        raise ReproError(f"{self.name} has no metric '{text}'{hint}; it has {', '.join(self.metrics())}")

    def headline(self, result: Mapping[str, Any]) -> dict[str, float]:
        """The numbers of one result (a result JSON as a dict) the sweep summary keeps, by summary key.

        First each setting's ``headline`` measures (macro averages), then each setting's
        ``by_language`` measures for every language. A value the result lacks is left out.
        """
        summary, tables = result.get("summary", {}), result.get("tables", {})
        metrics = list(self.metrics().values())  # in setting order
        out: dict[str, float] = {}
        for m in metrics:
            if m.spec.name in self.setting(m.setting).headline and m.measure in summary.get(m.setting, {}):
                out[m.summary_key()] = summary[m.setting][m.measure]
        for s in self.settings:
            wanted = [m for m in metrics if m.setting == s.key and m.spec.name in s.by_language]
            for lang, row in tables.get(s.key, {}).items():
                for m in wanted:
                    if m.measure in row:
                        out[m.summary_key(lang)] = row[m.measure]
        return out

    def publishes(self, key: str) -> bool:
        """Whether the runner publishes per-query array ``key`` (``setting/row/measure`` or ``setting/row/ids``)."""
        setting = key.split("/", 1)[0]
        return any(s.key == setting and s.publish_per_query for s in self.settings)


# ---------------------------------------------------------------- the four tasks
_RANKING = (MAP, R1, R10, MRR10, NDCG10)


def _lareqa_settings() -> tuple[Setting, ...]:
    return (
        Setting("mono", "Mo", "monolingual", _RANKING, headline=("mAP",)),
        # 110 language pairs on XQuAD-R make the cross-lingual per-query arrays large; the step
        # store keeps them, the published results do not.
        Setting("cross", "Cr", "cross-lingual", _RANKING, headline=("mAP",), publish_per_query=False),
        Setting(
            "multi",
            "Mul",
            "multilingual",
            _RANKING + (RANK_DISTANCE,),
            headline=("mAP", "rank distance"),
            by_language=("mAP", "rank distance"),
        ),
    )


# Tatoeba computes its accuracies itself (nearest neighbour is the aligned line). Its per-line
# values are published with ids (the pair's line in the language's file), so checks pair them
# across models; the pairs are language-specific items (Tatoeba is not parallel across languages).
_XX_EN = MeasureSpec("xx->en")
_EN_XX = MeasureSpec("en->xx")
_ACCURACY = MeasureSpec(
    "acc", column="mean", aliases=("accuracy", "mean"), per_language=False, per_query=False
)  # mean of both directions, macro-averaged over languages


DECLARATIONS: dict[str, Declaration] = {
    "xquad-r": Declaration(
        "xquad-r",
        "XQuAD-R answer-sentence retrieval, 11 languages, Mo/Cr/Mul + rank distance",
        ("xquad-r",),
        _lareqa_settings(),
        language_table="Mul mAP",
    ),
    "mlqa-r": Declaration(
        "mlqa-r",
        "MLQA-R answer-sentence retrieval, 7 languages, Mo/Cr/Mul + rank distance",
        ("mlqa-r",),
        _lareqa_settings(),
        language_table="Mul mAP",
    ),
    "tatoeba": Declaration(
        "tatoeba",
        "Tatoeba bitext retrieval accuracy xx->en and en->xx, 112 languages",
        ("tatoeba",),
        (Setting("bitext", "", "bitext", (_XX_EN, _EN_XX, _ACCURACY), headline=("acc",)),),
    ),
    "tydi-goldp": Declaration(
        "tydi-goldp",
        "TyDi-GoldP question->passage retrieval, 9 languages, nDCG@10 and R@100",
        ("tydi-goldp",),
        (
            Setting(
                "mono",
                "",
                "monolingual",
                (NDCG10, R100, MRR10, MAP),
                headline=("nDCG@10",),
                by_language=("nDCG@10",),
            ),
        ),
    ),
}


# Who declared each task that is not built in (a plug-in's entry point, a command experiment's task).
_OWNERS: dict[str, str] = {}


def register_declaration(declaration: Declaration, owner: str) -> None:
    """Declare a task that is not built in: a plug-in task's, or the task of a command experiment.

    ``owner`` says who declares it; the same owner may declare it again (a re-read experiment file),
    a different declaration of a name someone else owns is a ReproError.
    """
    name = declaration.name
    current = DECLARATIONS.get(name)
    if current is not None and current != declaration and _OWNERS.get(name, "built-in") != owner:
        raise ReproError(
            f"task '{name}' is declared twice ({_OWNERS.get(name, 'built-in')} and {owner}); give one of them another name"
        )
    DECLARATIONS[name] = declaration
    _OWNERS[name] = owner


def _plugin_declarations() -> None:
    """Declare the tasks of installed plug-ins (entry point group ``repro.tasks``) that are not declared yet."""
    from repro.plugins import entry_points

    for name, task in entry_points("tasks").items():
        decl = getattr(task, "decl", None)
        if decl is not None and name not in DECLARATIONS:
            register_declaration(decl, owner=f"entry point {name}")


def declared(task: str) -> Declaration:
    """The declaration of ``task`` (built in, a plug-in's, a loaded command experiment's).

    An unknown name is a ReproError with the nearest known name and all of them.
    """
    if task not in DECLARATIONS:
        _plugin_declarations()
    if task not in DECLARATIONS:
        from repro.plugins import did_you_mean

        raise ReproError(
            f"unknown task '{task}'{did_you_mean(task, DECLARATIONS)}; known tasks: {', '.join(DECLARATIONS)}"
        )
    return DECLARATIONS[task]


def parse_metric(task: str, text: str) -> Metric:
    """Resolve metric ``text`` (``Mul mAP``, ``rank distance``, ``nDCG@10``) of ``task``.

    An unknown task or metric is a one-line ReproError; for a metric it lists the task's metrics
    and suggests the nearest spelling.
    """
    return declared(task).metric(text)


def summary_metric(key: str) -> Metric | None:
    """The metric behind a sweep-summary key (``xquad-r rank distance [th]``), or None if none is declared."""
    head = key.rsplit(" [", 1)[0] if key.endswith("]") else key
    task, _, name = head.partition(" ")
    if task not in DECLARATIONS or not name:
        return None
    try:
        return DECLARATIONS[task].metric(name)
    except ReproError:
        return None
