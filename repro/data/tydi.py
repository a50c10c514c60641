"""TyDi QA GoldP dev (Clark et al. 2020) as monolingual question -> passage retrieval.

Each question has one gold passage; the candidates of a language are its distinct passages
(an article's passage can serve several questions, so passages are deduplicated by text).
Questions are deduplicated by id. Counts (questions / distinct passages): ar 921 / 842,
bn 113 / 105, en 440 / 429, fi 782, id 565, ko 276, ru 812, sw 499 / 357, te 669.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from repro.data.languages import select_languages
from repro.data.manifest import verified_path
from repro.data.table import Table

FILE_NAMES: dict[str, str] = {
    "ar": "arabic",
    "bn": "bengali",
    "en": "english",
    "fi": "finnish",
    "id": "indonesian",
    "ko": "korean",
    "ru": "russian",
    "sw": "swahili",
    "te": "telugu",
}
LANGUAGES: tuple[str, ...] = tuple(FILE_NAMES)


@dataclass(frozen=True)
class TydiLanguage:
    """``questions``: ``id``, ``language``, ``question``, ``gold`` (list of passage rows).
    ``passages``: ``passage_id``, ``language``, ``title``, ``passage``."""

    language: str
    questions: Table
    passages: Table


def check_languages(langs: list[str] | None) -> list[str]:
    """Validate a TyDi-GoldP language selection (None means all)."""
    return select_languages("tydi-goldp", LANGUAGES, langs)


@lru_cache(maxsize=16)
def load_tydi_goldp(language: str) -> TydiLanguage:
    """Load one language's questions and distinct passages from the verified cache."""
    check_languages([language])
    name = FILE_NAMES[language]
    raw = json.loads(verified_path(f"tydiqa-goldp/{name}_dev.json").read_text(encoding="utf-8"))
    passage_row: dict[str, int] = {}
    p: dict[str, list] = {"passage_id": [], "language": [], "title": [], "passage": []}
    q: dict[str, list] = {"id": [], "language": [], "question": [], "gold": []}
    seen: set[str] = set()
    for article in raw["data"]:
        for para in article["paragraphs"]:
            text = para["context"]
            if text not in passage_row:
                passage_row[text] = len(p["passage"])
                p["passage_id"].append(f"{language}:{len(p['passage'])}")
                p["language"].append(language)
                p["title"].append(article.get("title", ""))
                p["passage"].append(text)
            for qa in para["qas"]:
                if qa["id"] in seen:
                    continue
                seen.add(qa["id"])
                q["id"].append(qa["id"])
                q["language"].append(language)
                q["question"].append(qa["question"])
                q["gold"].append([passage_row[text]])
    return TydiLanguage(language, Table.from_dict(q), Table.from_dict(p))
