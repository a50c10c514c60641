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
        data = task.facts()
        langs = list(data.languages)
        ids = {lang: list(data.items[lang]) for lang in langs}
        id_sets = {lang: set(v) for lang, v in ids.items()}
        counts = Counter(i for s in id_sets.values() for i in s)
        all_ids = len(counts)
        shared_by_all = sum(1 for c in counts.values() if c == len(langs))
        translated = sum(1 for c in counts.values() if c >= 2)
        n_questions = {lang: len(v) for lang, v in ids.items()}
        n_candidates = dict(data.candidates or {})
        n_paragraphs = dict(data.paragraphs or {})
        gold_paragraph = dict(data.passage_of or {})
        english = id_sets.get("en", set())
        if self.candidates_per_language is not None and not n_candidates:
            raise ReproError(f"{self.dataset} has no candidates to count: leave out candidates_per_language")

        facts: list[dict[str, Any]] = []  # each: fact, expected, observed, holds

        def fact(name: str, expected: str, observed: str, holds: bool) -> None:
            facts.append({"fact": name, "expected": expected, "observed": observed, "holds": holds})

        if self.languages is not None:
            if isinstance(self.languages, int):
                fact(
                    "languages",
                    f"{self.languages} languages",
                    f"{len(langs)} ({' '.join(langs)})",
                    len(langs) == self.languages,
                )
            else:
                want = sorted(set(self.languages))
                missing, extra = sorted(set(want) - set(langs)), sorted(set(langs) - set(want))
                obs = (
                    " ".join(langs)
                    + (f"; missing {' '.join(missing)}" if missing else "")
                    + (f"; extra {' '.join(extra)}" if extra else "")
                )
                fact("languages", " ".join(want), obs, not missing and not extra)
        if self.parallel == "full":
            fact(
                "parallel questions (full)",
                f"all {all_ids:,} question ids in all {len(langs)} languages",
                f"{shared_by_all:,} of {all_ids:,} ids in all {len(langs)} languages",
                shared_by_all == all_ids,
            )
            if gold_paragraph:
                aligned = sum(
                    1
                    for i, c in counts.items()
                    if c == len(langs) and len({gold_paragraph[lang][i] for lang in langs}) == 1
                )
                fact(
                    "parallel passages (full)",
                    f"the answer paragraph of each shared id is the same in all {len(langs)} languages",
                    f"{aligned:,} of {shared_by_all:,} shared ids; paragraphs per language "
                    f"{_range_text(_span(n_paragraphs.values()))}",
                    shared_by_all > 0 and aligned == shared_by_all,
                )
        elif self.parallel == "partial":
            fact(
                "parallel questions (partial)",
                f"every question id in >= 2 of {len(langs)} languages",
                f"{translated:,} of {all_ids:,} ids in >= 2 languages; {shared_by_all:,} in all {len(langs)}",
                all_ids > 0 and translated == all_ids,
            )
        if self.queries_per_language is not None:
            bad = {lang: n for lang, n in n_questions.items() if n != self.queries_per_language}
            fact(
                "questions per language",
                f"{self.queries_per_language:,}",
                f"{_range_text(_span(n_questions.values()))}"
                + (f" ({', '.join(f'{k} {v:,}' for k, v in bad.items())} differ)" if bad else ""),
                not bad,
            )
        if self.candidates_per_language is not None:
            bad = {lang: n for lang, n in n_candidates.items() if not _in(n, self.candidates_per_language)}
            fact(
                "candidates per language",
                _range_text(self.candidates_per_language),
                f"{_range_text(_span(n_candidates.values()))}"
                + (f" ({', '.join(f'{k} {v:,}' for k, v in bad.items())} outside)" if bad else ""),
                not bad,
            )

        failing = [f for f in facts if not f["holds"]]
        verdict = Verdict.NOT_REPRODUCED if failing else Verdict.REPRODUCED
        candidates = f" and {_range_text(_span(n_candidates.values()))} candidates" if n_candidates else ""
        summary = (
            f"{self.dataset}: {len(langs)} languages ({' '.join(langs)}), {_range_text(_span(n_questions.values()))} "
            f"questions{candidates} per language, "
            f"{shared_by_all:,} of {all_ids:,} question ids in all {len(langs)} languages"
        )
        if not facts:
            headline = f"{summary} (no fact stated)"
        elif failing:
            headline = f"{summary}; failing: " + "; ".join(
                f"{f['fact']}: expected {f['expected']}, found {f['observed']}" for f in failing
            )
        else:
            headline = f"{summary}; all {len(facts)} stated facts hold"
        rows = [
            [
                lang,
                n_questions[lang],
                n_candidates.get(lang, "-"),
                n_paragraphs.get(lang, "-"),
                f"{100 * len(id_sets[lang] & english) / len(id_sets[lang]):.1f} %"
                if id_sets[lang] and english
                else "n/a",
            ]
            for lang in langs
        ]
        overlap = Counter(counts.values())
        return CheckResult(
            verdict=verdict,
            confidence=None,
            headline=headline,
            details={
                "dataset": self.dataset,
                "languages": langs,
                "question_ids": all_ids,
                "ids_in_all_languages": shared_by_all,
                "ids_by_language_count": {str(k): overlap[k] for k in sorted(overlap)},
                "questions": n_questions,
                "candidates": n_candidates,
                "paragraphs": n_paragraphs,
                "facts": facts,
                "failing": [f["fact"] for f in failing],
            },
            tables=[
                Table(
                    title=f"{self.dataset}: stated facts",
                    columns=["fact", "expected", "observed", "holds"],
                    rows=[[f["fact"], f["expected"], f["observed"], "yes" if f["holds"] else "NO"] for f in facts],
                ),
                Table(
                    title=f"{self.dataset} per language",
                    columns=["language", "questions", "candidates", "paragraphs", "ids shared with en"],
                    rows=rows,
                ),
                Table(
                    title=f"{self.dataset}: in how many languages a question id exists",
                    columns=["languages", "question ids"],
                    rows=[[k, overlap[k]] for k in sorted(overlap)],
                ),
            ],
        )


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
