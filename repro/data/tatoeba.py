"""Tatoeba bitext test set of LASER (Artetxe & Schwenk 2019): up to 1,000 xx-eng pairs, 112 languages.

Files are line-aligned: line i of ``tatoeba.xxx-eng.xxx`` translates line i of ``tatoeba.xxx-eng.eng``.
Languages are ISO 639-3 codes as LASER names them (``deu``, ``cmn``, ``swh``, ...).
"""

from __future__ import annotations

import re
from functools import lru_cache

from repro.data.languages import select_languages
from repro.data.manifest import get_dataset, verified_path
from repro.data.table import Table
from repro.errors import ReproError


@lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """The 112 Tatoeba languages, sorted."""
    langs = set()
    for f in get_dataset("tatoeba").files:
        m = re.match(r"tatoeba/tatoeba\.([a-z]+)-eng\.", f.path)
        if m:
            langs.add(m.group(1))
    return tuple(sorted(langs))


def check_languages(langs: list[str] | None) -> list[str]:
    """Validate a Tatoeba language selection (None means all)."""
    return select_languages("tatoeba", languages(), langs, " (use ISO 639-3 codes such as deu, cmn, swh)")


@lru_cache(maxsize=128)
def load_tatoeba(language: str) -> Table:
    """Pairs of one language: columns ``language``, ``index``, ``text`` (xx side), ``english``."""
    check_languages([language])
    src = verified_path(f"tatoeba/tatoeba.{language}-eng.{language}").read_text(encoding="utf-8").split("\n")
    eng = verified_path(f"tatoeba/tatoeba.{language}-eng.eng").read_text(encoding="utf-8").split("\n")
    # Files end with a newline; a trailing empty element is not a sentence.
    if src and src[-1] == "":
        src.pop()
    if eng and eng[-1] == "":
        eng.pop()
    if len(src) != len(eng):
        raise ReproError(
            f"tatoeba {language}: {len(src)} sentences but {len(eng)} English lines; the files are not aligned"
        )
    return Table.from_dict(
        {"language": [language] * len(src), "index": list(range(len(src))), "text": src, "english": eng}
    )
