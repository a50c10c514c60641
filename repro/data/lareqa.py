"""XQuAD-R and MLQA-R (LAReQA, Roy et al. 2020): language-agnostic answer retrieval.

Each language file is SQuAD-style JSON whose paragraphs carry ``sentences`` and
``sentence_breaks``. Candidates are those sentences; a question's relevant candidate is the
sentence containing its answer (``answer_start``), as LAReQA defines the task. Question ids
are shared by the translations of one question: that id is the ``parallel_id``.

Counts (questions / candidates), verified by the tests:

=====  ===============  ==============
lang   XQuAD-R          MLQA-R
=====  ===============  ==============
ar     1,190 / 1,222    517 / 2,545
de     1,190 / 1,276    512 / 2,362
el     1,190 / 1,234    --
en     1,190 / 1,180    1,148 / 6,264
es     1,190 / 1,215    500 / 1,787
hi     1,190 / 1,244    507 / 2,426
ru     1,190 / 1,219    --
th     1,190 /   852    --
tr     1,190 / 1,167    --
vi     1,190 / 1,209    511 / 2,828
zh     1,190 / 1,196    504 / 2,322
=====  ===============  ==============

MLQA-R is only partly parallel: every id exists in English and in one to three other languages.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from functools import lru_cache

from repro.data.languages import select_languages
from repro.data.manifest import verified_path
from repro.data.table import Table
from repro.errors import ReproError

LANGUAGES: dict[str, tuple[str, ...]] = {
    "xquad-r": ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"),
    "mlqa-r": ("ar", "de", "en", "es", "hi", "vi", "zh"),
}


@dataclass(frozen=True)
class LareqaLanguage:
    """One language of XQuAD-R or MLQA-R.

    ``questions`` columns: ``id`` (``lang:parallel_id``), ``parallel_id``, ``language``,
    ``question``, ``answer``, ``answer_start``, ``gold`` (list of candidate row indices).
    ``candidates`` columns: ``candidate_id`` (``lang:paragraph:sentence``), ``language``,
    ``sentence``, ``paragraph``, ``sentence_index``.
    """

    dataset: str
    language: str
    questions: Table
    candidates: Table


def check_languages(dataset: str, langs: list[str] | None) -> list[str]:
    """Validate a language selection for a LAReQA dataset (None means all)."""
    if dataset not in LANGUAGES:
        raise ReproError(f"unknown LAReQA dataset '{dataset}'; known: {', '.join(LANGUAGES)}")
    return select_languages(dataset, LANGUAGES[dataset], langs)


def _answer_sentence(breaks: list[list[int]], answer_start: int) -> int:
    # The answer belongs to the last sentence starting at or before it; this also places an
    # answer that starts on the whitespace between two sentences into the earlier one.
    starts = [b[0] for b in breaks]
    return max(0, bisect.bisect_right(starts, answer_start) - 1)


@lru_cache(maxsize=32)
def load_lareqa(dataset: str, language: str) -> LareqaLanguage:
    """Load one language of ``xquad-r`` or ``mlqa-r`` from the verified cache."""
    check_languages(dataset, [language])
    path = verified_path(f"lareqa/{dataset}/{language}.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    q: dict[str, list] = {
        k: [] for k in ("id", "parallel_id", "language", "question", "answer", "answer_start", "gold")
    }
    c: dict[str, list] = {k: [] for k in ("candidate_id", "language", "sentence", "paragraph", "sentence_index")}
    paragraph = 0
    for article in raw["data"]:
        for para in article["paragraphs"]:
            first = len(c["sentence"])
            for i, sentence in enumerate(para["sentences"]):
                c["candidate_id"].append(f"{language}:{paragraph}:{i}")
                c["language"].append(language)
                c["sentence"].append(sentence)
                c["paragraph"].append(paragraph)
                c["sentence_index"].append(i)
            for qa in para["qas"]:
                answer = qa["answers"][0]
                q["id"].append(f"{language}:{qa['id']}")
                q["parallel_id"].append(qa["id"])
                q["language"].append(language)
                q["question"].append(qa["question"])
                q["answer"].append(answer["text"])
                q["answer_start"].append(answer["answer_start"])
                q["gold"].append([first + _answer_sentence(para["sentence_breaks"], answer["answer_start"])])
            paragraph += 1
    return LareqaLanguage(
        dataset=dataset,
        language=language,
        questions=Table.from_dict(q),
        candidates=Table.from_dict(c),
    )


@lru_cache(maxsize=4)
def parallel_articles(dataset: str) -> dict[str, str]:
    """``parallel_id -> article`` of ``xquad-r`` or ``mlqa-r``: the Wikipedia article (its index in
    the English file, which holds every parallel id) a question was written on.

    XQuAD-R's 1,190 questions come from 48 articles, so a question's neighbours share a text and
    their per-query results correlate; variance estimates resample whole articles
    (:mod:`repro.checks.stats.design`, docs/statistics.md).
    """
    check_languages(dataset, ["en"])
    raw = json.loads(verified_path(f"lareqa/{dataset}/en.json").read_text(encoding="utf-8"))
    return {
        qa["id"]: f"article {a}"
        for a, article in enumerate(raw["data"])
        for para in article["paragraphs"]
        for qa in para["qas"]
    }
