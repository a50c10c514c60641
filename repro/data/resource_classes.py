"""Resource classes of the project's languages (Joshi et al. 2020), read from ``resource_classes.yaml``.

``resource_class("sw") == 2`` and ``resource_group("sw") == "low"``; Tatoeba's ISO 639-3 codes work
too (``resource_class("swh")``). The table, its source and the high/low cut are documented in
``resource_classes.yaml`` beside this module; every entry names the line of Joshi et al.'s
taxonomy list it comes from, and :func:`lang2tax_mismatches` checks them against the committed
copy of that list (``joshi_lang2tax.txt``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import yaml

from repro.errors import ReproError

TABLE_PATH = Path(__file__).with_name("resource_classes.yaml")
# Joshi et al.'s taxonomy list, "name,class" per line (source and checksum in resource_classes.yaml).
LANG2TAX_PATH = Path(__file__).with_name("joshi_lang2tax.txt")

# The cut of resource_classes.yaml: classes at or above it are "high"-resource, the others "low".
HIGH_FROM_CLASS = 4

# Where the classes come from, for readers of reports (resource_classes.yaml's header says more).
SOURCE = (
    "Joshi et al. (2020), The State and Fate of Linguistic Diversity and Inclusion in the NLP World, ACL 2020: "
    "taxonomy list lang2tax.txt, published at microsoft.github.io/linguisticdiversity/assets/lang2tax.txt"
)
# That address cannot be reached offline; the committed copy is a public mirror of the list.
COPY_SOURCE = "public repository hamid-amir/data_lang2vec, data/lang2tax.txt (commit 7feb3a8, 2024-05-08)"
# Languages per class 0-5 in the paper's Table 1, which the copy's counts must equal.
TABLE1_COUNTS = (2191, 222, 19, 28, 18, 7)


@dataclass(frozen=True)
class Language:
    """One language: code (ISO 639-1, else 639-3), English name, Joshi class (0-5), resource group,
    the lang2tax line's name, Tatoeba code; ``ambiguous`` when lang2tax could be read two ways."""

    code: str
    name: str
    joshi_class: int
    resource: Literal["high", "low"]
    lang2tax: str
    tatoeba: str | None = None
    ambiguous: bool = False
    note: str = ""


def group_of(joshi_class: int) -> Literal["high", "low"]:
    """The resource group of a Joshi class under the project's cut (5, 4 -> high; 0-3 -> low)."""
    return "high" if joshi_class >= HIGH_FROM_CLASS else "low"


@lru_cache(maxsize=1)
def _load() -> Mapping[str, Language]:
    raw = yaml.safe_load(TABLE_PATH.read_text(encoding="utf-8"))["languages"]
    out: dict[str, Language] = {}
    for code, entry in raw.items():
        lang = Language(
            code=code,
            name=entry["name"],
            joshi_class=int(entry["joshi_class"]),
            resource=entry["resource"],
            lang2tax=entry["lang2tax"],
            tatoeba=entry.get("tatoeba"),
            ambiguous=bool(entry.get("ambiguous", False)),
            note=entry.get("note", ""),
        )
        # The group is written out for readers of the YAML; it must follow the documented cut.
        if not 0 <= lang.joshi_class <= 5 or lang.resource != group_of(lang.joshi_class):
            raise ReproError(
                f"{TABLE_PATH}: {code} has class {lang.joshi_class} and group '{lang.resource}'; "
                f"classes are 0-5 and >= {HIGH_FROM_CLASS} means 'high'"
            )
        out[code] = lang
    return MappingProxyType(out)


class _Languages(Mapping[str, Language]):
    """Read-only mapping code -> :class:`Language`, loaded on first use."""

    def __getitem__(self, code: str) -> Language:
        return _load()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(_load())

    def __len__(self) -> int:
        return len(_load())


LANGUAGES: Mapping[str, Language] = _Languages()


def language(code: str) -> Language:
    """The table entry of a table code (ISO 639-1, else 639-3) or a Tatoeba code (case-insensitive).

    Raises:
        ReproError: a language the table does not classify.
    """
    key = code.strip().lower()
    table = _load()
    if key in table:
        return table[key]
    for lang in table.values():
        if lang.tatoeba == key:
            return lang
    raise ReproError(
        f"no Joshi et al. (2020) resource class for language '{code}'; "
        f"add it to {TABLE_PATH.name} only with a class from the lang2tax list"
    )


def resource_class(code: str) -> int:
    """The Joshi et al. (2020) class (0-5) of a language code."""
    return language(code).joshi_class


def resource_group(code: str) -> str:
    """``"high"`` (Joshi classes 5 and 4) or ``"low"`` (classes 0-3) for a language code."""
    return language(code).resource


def read_lang2tax(path: Path = LANG2TAX_PATH) -> dict[str, tuple[int, ...]]:
    """Joshi et al.'s list as name -> its classes (a few names, e.g. choctaw, are listed twice)."""
    out: dict[str, tuple[int, ...]] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        name, _, cls = line.rpartition(",")
        if not name or not cls.strip().isdigit():
            raise ReproError(f"{path}:{n}: expected 'name,class', got {line!r}")
        out[name] = (*out.get(name, ()), int(cls))
    return out


def lang2tax_mismatches(path: Path = LANG2TAX_PATH) -> list[str]:
    """Entries of the table whose class differs from their lang2tax line, or whose line is missing or repeated."""
    source = read_lang2tax(path)
    problems = []
    for lang in _load().values():
        classes = source.get(lang.lang2tax, ())
        if not classes:
            problems.append(f"{lang.code}: no line '{lang.lang2tax}' in {Path(path).name}")
        elif len(classes) > 1:
            problems.append(f"{lang.code}: '{lang.lang2tax}' is listed with classes {list(classes)}")
        elif classes[0] != lang.joshi_class:
            problems.append(
                f"{lang.code}: class {lang.joshi_class} here, {classes[0]} in {Path(path).name} ('{lang.lang2tax}')"
            )
    return problems
