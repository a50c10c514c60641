"""Kind ``dataset``: facts that the evaluation datasets themselves decide (claim C3).

``dataset`` names any registered task that provides its data's facts (``Task.facts``,
:class:`repro.evaluation.tasks.DataFacts`): xquad-r and mlqa-r built in, a plug-in task's own.

Example::

    - kind: dataset
      dataset: xquad-r
      languages: 11                 # a count, or the list of ISO 639-1 codes
      parallel: full                # full | partial | none (true = full)
      queries_per_language: 1190    # optional
      candidates_per_language: [852, 1276]   # optional: one number, or [min, max]

Facts checked on the real, checksum-verified data:

- ``languages``: the dataset's language set has that size (or is exactly that list);
- ``parallel: full``: every question id exists in every language, and the passage holding a
  question's answer is the same paragraph (by position) in every language: questions *and*
  passages are parallel;
- ``parallel: partial``: every question id exists in at least two languages, i.e. every question
  has a translation (MLQA-R: an id exists in English and one to three other languages); the
  number of ids shared by all languages is reported either way;
- ``parallel: none``: nothing about parallelism is asserted (it is still reported);
- ``queries_per_language``, ``candidates_per_language``: the counts in every language.

Verdict: reproduced when every stated fact holds, not reproduced naming the failing facts
otherwise. Confidence is None: a data fact is simply true or false.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import Field, field_validator

from repro.checks.base import Check, CheckResult, ClaimRef, Table, Verdict, register
from repro.checks.context import CheckContext
from repro.errors import ReproError


def _range_text(value: int | tuple[int, int]) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value[0]:,}-{value[1]:,}"


def _in(value: int, expected: int | tuple[int, int]) -> bool:
    return value == expected if isinstance(expected, int) else expected[0] <= value <= expected[1]


@register
class DatasetFactsCheck(Check):
    """Languages, parallelism and sizes of XQuAD-R or MLQA-R, checked on the data."""

    kind: Literal["dataset"] = "dataset"
    dataset: str = Field(description="a registered task whose data it reads (one that provides facts)")
    languages: int | list[str] | None = Field(default=None, description="expected language count, or the exact list")
    parallel: Literal["full", "partial", "none"] | bool = "none"
    queries_per_language: int | None = Field(default=None, ge=1)
    candidates_per_language: int | tuple[int, int] | None = None

    @field_validator("parallel")
    @classmethod
    def _parallel(cls, value: str | bool) -> str:
        if isinstance(value, bool):
            return "full" if value else "none"
        return value

    def describe(self) -> str:
        return self.label or f"{self.dataset}: languages, parallelism, sizes"

    def validate_in(self, ctx: CheckContext) -> list[str]:
        return [] if (problem := _facts_problem(self.dataset)) is None else [problem]

    def run(self, ctx: CheckContext, claim: ClaimRef) -> CheckResult:
        from repro.evaluation.tasks import get_task

        task = get_task(self.dataset)
        if task.facts is None:
            raise ReproError(str(_facts_problem(self.dataset)))
        counts = dataset_counts(task.facts())
        if self.candidates_per_language is not None and not counts.candidates:
            raise ReproError(f"{self.dataset} has no candidates to count: leave out candidates_per_language")
        facts = stated_facts(self, counts)
        failing = [f for f in facts if not f.holds]
        return CheckResult(
            verdict=Verdict.NOT_REPRODUCED if failing else Verdict.REPRODUCED,
            confidence=None,
            headline=headline_for(self.dataset, counts, facts),
            details=details_for(self.dataset, counts, facts),
            tables=tables_for(self.dataset, counts, facts),
        )


# --- analysis: the data -> DatasetCounts, the registry's facts -> Fact --------------------------


@dataclass(frozen=True)
class DatasetCounts:
    """What a dataset holds, per language: the counts every stated fact is checked against."""

    languages: list[str]
    ids: dict[str, set[str]]  # language -> its item ids
    occurrences: Counter[str]  # item id -> in how many languages it exists
    questions: dict[str, int]
    candidates: dict[str, int]
    paragraphs: dict[str, int]
    passage_of: dict[str, dict[str, int]]  # language -> id -> the paragraph holding its answer

    @property
    def all_ids(self) -> int:
        """Distinct item ids over all languages."""
        return len(self.occurrences)

    @property
    def shared_by_all(self) -> int:
        """Ids that exist in every language."""
        return sum(1 for c in self.occurrences.values() if c == len(self.languages))

    @property
    def translated(self) -> int:
        """Ids that exist in at least two languages."""
        return sum(1 for c in self.occurrences.values() if c >= 2)


@dataclass(frozen=True)
class Fact:
    """One stated fact, what the data shows, and whether it holds."""

    fact: str
    expected: str
    observed: str
    holds: bool


def dataset_counts(data: Any) -> DatasetCounts:
    """The counts of a task's :class:`~repro.evaluation.tasks.DataFacts`."""
    langs = list(data.languages)
    ids = {lang: list(data.items[lang]) for lang in langs}
    id_sets = {lang: set(v) for lang, v in ids.items()}
    return DatasetCounts(
        languages=langs,
        ids=id_sets,
        occurrences=Counter(i for s in id_sets.values() for i in s),
        questions={lang: len(v) for lang, v in ids.items()},
        candidates=dict(data.candidates or {}),
        paragraphs=dict(data.paragraphs or {}),
        passage_of=dict(data.passage_of or {}),
    )


def stated_facts(check: DatasetFactsCheck, c: DatasetCounts) -> list[Fact]:
    """Every fact the check states, in order: languages, parallelism, questions and candidates per language."""
    facts = _language_facts(check.languages, c) + _parallel_facts(check.parallel, c)
    if check.queries_per_language is not None:
        bad = {lang: n for lang, n in c.questions.items() if n != check.queries_per_language}
        facts.append(
            Fact(
                "questions per language",
                f"{check.queries_per_language:,}",
                f"{_range_text(_span(c.questions.values()))}"
                + (f" ({', '.join(f'{k} {v:,}' for k, v in bad.items())} differ)" if bad else ""),
                not bad,
            )
        )
    if check.candidates_per_language is not None:
        want = check.candidates_per_language
        bad = {lang: n for lang, n in c.candidates.items() if not _in(n, want)}
        facts.append(
            Fact(
                "candidates per language",
                _range_text(want),
                f"{_range_text(_span(c.candidates.values()))}"
                + (f" ({', '.join(f'{k} {v:,}' for k, v in bad.items())} outside)" if bad else ""),
                not bad,
            )
        )
    return facts


def _language_facts(languages: int | list[str] | None, c: DatasetCounts) -> list[Fact]:
    langs = c.languages
    if languages is None:
        return []
    if isinstance(languages, int):
        return [
            Fact("languages", f"{languages} languages", f"{len(langs)} ({' '.join(langs)})", len(langs) == languages)
        ]
    want = sorted(set(languages))
    missing, extra = sorted(set(want) - set(langs)), sorted(set(langs) - set(want))
    obs = (
        " ".join(langs)
        + (f"; missing {' '.join(missing)}" if missing else "")
        + (f"; extra {' '.join(extra)}" if extra else "")
    )
    return [Fact("languages", " ".join(want), obs, not missing and not extra)]


def _parallel_facts(parallel: str | bool, c: DatasetCounts) -> list[Fact]:
    n, all_ids, shared = len(c.languages), c.all_ids, c.shared_by_all
    if parallel == "partial":
        return [
            Fact(
                "parallel questions (partial)",
                f"every question id in >= 2 of {n} languages",
                f"{c.translated:,} of {all_ids:,} ids in >= 2 languages; {shared:,} in all {n}",
                all_ids > 0 and c.translated == all_ids,
            )
        ]
    if parallel != "full":
        return []
    facts = [
        Fact(
            "parallel questions (full)",
            f"all {all_ids:,} question ids in all {n} languages",
            f"{shared:,} of {all_ids:,} ids in all {n} languages",
            shared == all_ids,
        )
    ]
    if c.passage_of:
        aligned = sum(
            1 for i, k in c.occurrences.items() if k == n and len({c.passage_of[lang][i] for lang in c.languages}) == 1
        )
        facts.append(
            Fact(
                "parallel passages (full)",
                f"the answer paragraph of each shared id is the same in all {n} languages",
                f"{aligned:,} of {shared:,} shared ids; paragraphs per language "
                f"{_range_text(_span(c.paragraphs.values()))}",
                shared > 0 and aligned == shared,
            )
        )
    return facts


# --- presentation: counts and facts -> headline, details, tables --------------------------------


def headline_for(dataset: str, c: DatasetCounts, facts: list[Fact]) -> str:
    """One line: the dataset's sizes, and whether the stated facts hold (naming the failing ones)."""
    langs = c.languages
    candidates = f" and {_range_text(_span(c.candidates.values()))} candidates" if c.candidates else ""
    summary = (
        f"{dataset}: {len(langs)} languages ({' '.join(langs)}), {_range_text(_span(c.questions.values()))} "
        f"questions{candidates} per language, "
        f"{c.shared_by_all:,} of {c.all_ids:,} question ids in all {len(langs)} languages"
    )
    failing = [f for f in facts if not f.holds]
    if not facts:
        return f"{summary} (no fact stated)"
    if failing:
        return f"{summary}; failing: " + "; ".join(
            f"{f.fact}: expected {f.expected}, found {f.observed}" for f in failing
        )
    return f"{summary}; all {len(facts)} stated facts hold"


def details_for(dataset: str, c: DatasetCounts, facts: list[Fact]) -> dict[str, Any]:
    """The result's details: the counts and every fact (each: fact, expected, observed, holds)."""
    overlap = Counter(c.occurrences.values())
    return {
        "dataset": dataset,
        "languages": c.languages,
        "question_ids": c.all_ids,
        "ids_in_all_languages": c.shared_by_all,
        "ids_by_language_count": {str(k): overlap[k] for k in sorted(overlap)},
        "questions": c.questions,
        "candidates": c.candidates,
        "paragraphs": c.paragraphs,
        "facts": [asdict(f) for f in facts],
        "failing": [f.fact for f in facts if not f.holds],
    }


def tables_for(dataset: str, c: DatasetCounts, facts: list[Fact]) -> list[Table]:
    """The stated facts, the counts per language, and in how many languages an id exists."""
    english = c.ids.get("en", set())
    rows = [
        [
            lang,
            c.questions[lang],
            c.candidates.get(lang, "-"),
            c.paragraphs.get(lang, "-"),
            f"{100 * len(c.ids[lang] & english) / len(c.ids[lang]):.1f} %" if c.ids[lang] and english else "n/a",
        ]
        for lang in c.languages
    ]
    overlap = Counter(c.occurrences.values())
    return [
        Table(
            title=f"{dataset}: stated facts",
            columns=["fact", "expected", "observed", "holds"],
            rows=[[f.fact, f.expected, f.observed, "yes" if f.holds else "NO"] for f in facts],
        ),
        Table(
            title=f"{dataset} per language",
            columns=["language", "questions", "candidates", "paragraphs", "ids shared with en"],
            rows=rows,
        ),
        Table(
            title=f"{dataset}: in how many languages a question id exists",
            columns=["languages", "question ids"],
            rows=[[k, overlap[k]] for k in sorted(overlap)],
        ),
    ]


def _facts_problem(dataset: str) -> str | None:
    """Why ``dataset`` cannot be checked (not a registered task, or one without ``facts``), or None."""
    from repro.evaluation.tasks import known_tasks
    from repro.plugins import did_you_mean

    tasks = known_tasks()
    with_facts = sorted(name for name, t in tasks.items() if t.facts is not None)
    if dataset not in tasks:
        return (
            f"unknown dataset '{dataset}'{did_you_mean(dataset, tasks)}; tasks with data facts: {', '.join(with_facts)}"
        )
    if tasks[dataset].facts is None:
        return f"task {dataset} provides no data facts (Task.facts); tasks with them: {', '.join(with_facts)}"
    return None


def _span(values: Any) -> int | tuple[int, int]:
    vals = list(values)
    lo, hi = min(vals), max(vals)
    return lo if lo == hi else (lo, hi)
