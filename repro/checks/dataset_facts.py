"""Kind ``dataset``: facts that the evaluation datasets themselves decide (claim C3).

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
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from repro.checks.base import Check, CheckResult, ClaimRef, Table, Verdict, register
from repro.checks.context import CheckContext

if TYPE_CHECKING:
    from repro.data.lareqa import LareqaLanguage


def _range_text(value: int | tuple[int, int]) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value[0]:,}-{value[1]:,}"


def _in(value: int, expected: int | tuple[int, int]) -> bool:
    return value == expected if isinstance(expected, int) else expected[0] <= value <= expected[1]


@register
class DatasetFactsCheck(Check):
    """Languages, parallelism and sizes of XQuAD-R or MLQA-R, checked on the data."""

    kind: Literal["dataset"] = "dataset"
    dataset: Literal["xquad-r", "mlqa-r"]
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

    def run(self, ctx: CheckContext, claim: ClaimRef) -> CheckResult:
        from repro.data.lareqa import LANGUAGES, load_lareqa

        langs = list(LANGUAGES[self.dataset])
        data = {lang: load_lareqa(self.dataset, lang) for lang in langs}
        ids = {lang: list(d.questions["parallel_id"]) for lang, d in data.items()}
        id_sets = {lang: set(v) for lang, v in ids.items()}
        counts = Counter(i for s in id_sets.values() for i in s)
        all_ids = len(counts)
        shared_by_all = sum(1 for c in counts.values() if c == len(langs))
        translated = sum(1 for c in counts.values() if c >= 2)
        n_questions = {lang: len(d.questions) for lang, d in data.items()}
        n_candidates = {lang: len(d.candidates) for lang, d in data.items()}
        n_paragraphs = {lang: len(set(d.candidates["paragraph"])) for lang, d in data.items()}
        gold_paragraph = {lang: _gold_paragraphs(d) for lang, d in data.items()}
        english = id_sets.get("en", set())

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
        summary = (
            f"{self.dataset}: {len(langs)} languages ({' '.join(langs)}), {_range_text(_span(n_questions.values()))} "
            f"questions and {_range_text(_span(n_candidates.values()))} candidates per language, "
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
                n_candidates[lang],
                n_paragraphs[lang],
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


def _span(values: Any) -> int | tuple[int, int]:
    vals = list(values)
    lo, hi = min(vals), max(vals)
    return lo if lo == hi else (lo, hi)


def _gold_paragraphs(d: LareqaLanguage) -> dict[str, int]:
    """parallel id -> position of the paragraph holding the question's answer."""
    paragraph = d.candidates["paragraph"]
    return {pid: paragraph[gold[0]] for pid, gold in zip(d.questions["parallel_id"], d.questions["gold"])}
