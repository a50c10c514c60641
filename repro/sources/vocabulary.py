"""Known entities (datasets, metrics, settings, methods, languages) that papers name.

Drafted claims link to them, the text check compares the entities of a claim and a passage
(a swapped dataset or backbone contradicts), and the paper's self-check ties numbers to them.
The default vocabulary lives in ``vocabulary.yaml`` beside this module and names only what many
papers share (datasets, metrics, settings, well-known models, languages); it binds nothing to one
paper. A paper's own methods, arms and aliases come from its registry: a ``vocabulary:`` section
(the same categories as vocabulary.yaml) or the path of such a file, which
:func:`registry_vocabulary` lays over the default (an entity with a known id replaces it).
Matching is case-insensitive on word boundaries, longest alias first, so "hybrid batch training"
is one mention, not "hybrid" plus noise. ``generic`` aliases ("our approach", "the proposed
method") name the paper's own method without naming it: they need not be repeated for a passage
to support a claim. The default gives them to a placeholder entity ``ours`` with no arm; a
registry that gives them to its method (``generic: [our method, ...]``) takes them over.
``headers`` are the labels a table uses for the entity ("Proposed" for the paper's method).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from repro.errors import ReproError, first_line

DEFAULT_VOCABULARY = Path(__file__).with_name("vocabulary.yaml")
CATEGORIES = ("datasets", "metrics", "settings", "methods", "languages", "names")


class Entity(BaseModel):
    """One known entity; extra keys (``task``, ``metric``, ``arm``) say how checks name it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    aliases: list[str] = Field(default_factory=list)
    task: str | None = None
    metric: str | None = None
    arm: str | None = None
    generic: list[str] = Field(default_factory=list, description="aliases that refer to it without naming it")
    headers: list[str] = Field(default_factory=list, description="table header labels for it")
    lower_is_better: bool = Field(default=False, description="metrics: smaller values are better (error rate)")


class Mention(BaseModel):
    """An entity found in a sentence."""

    category: str
    id: str
    text: str
    start: int
    generic: bool = False


class Vocabulary:
    """Entities by category with one compiled matcher (hashable by identity, for caches)."""

    def __init__(self, entities: dict[str, list[Entity]]) -> None:
        self.entities = entities
        alias_rows = []
        for cat, items in entities.items():
            for ent in items:
                for alias in {ent.id, *ent.aliases, *ent.generic}:
                    alias_rows.append((alias, cat, ent))
        alias_rows.sort(key=lambda r: -len(r[0]))
        self._by_alias = {a.lower(): (cat, ent) for a, cat, ent in reversed(alias_rows)}
        pattern = "|".join(re.escape(a) for a, _, _ in alias_rows)
        self._re = re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-]|@)", re.IGNORECASE) if alias_rows else None

    def find(self, text: str) -> list[Mention]:
        """Every mention in ``text``, left to right, without overlaps."""
        if self._re is None:
            return []
        out = []
        for m in self._re.finditer(text):
            cat, ent = self._by_alias[m.group(0).lower()]
            # Short aliases (NQ, MAP, E5) must match their case: "map" in prose is a verb.
            if len(m.group(0)) <= 4 and m.group(0) not in {ent.id, *ent.aliases}:
                continue
            generic = m.group(0).lower() in {g.lower() for g in ent.generic}
            out.append(Mention(category=cat, id=ent.id, text=m.group(0), start=m.start(), generic=generic))
        return out

    def header(self, label: str) -> tuple[str, Entity] | None:
        """The (category, entity) a table header label names exactly ("Proposed", "X-X-mono", "XLM-R")."""
        want = " ".join(label.split()).lower()
        for cat, items in self.entities.items():
            for ent in items:
                if want in {a.lower() for a in (ent.id, *ent.aliases, *ent.headers)}:
                    return cat, ent
        return None

    def get(self, category: str, entity_id: str) -> Entity | None:
        """The entity ``entity_id`` of ``category``."""
        return next((e for e in self.entities.get(category, []) if e.id == entity_id), None)

    def extended(self, entities: dict[str, list[Entity]]) -> Vocabulary:
        """This vocabulary with ``entities`` laid over it.

        An entity whose id this vocabulary has (in the same category) replaces it; an alias or
        generic alias the new entities claim is taken away from every old entity, so that "our
        method" names the registry's method, not the default's placeholder.
        """
        claimed = {a.lower() for items in entities.values() for e in items for a in (e.id, *e.aliases, *e.generic)}
        merged: dict[str, list[Entity]] = {}
        for cat in CATEGORIES:
            new = entities.get(cat, [])
            new_ids = {e.id for e in new}
            kept = []
            for old in self.entities.get(cat, []):
                if old.id in new_ids:
                    continue
                aliases = [a for a in old.aliases if a.lower() not in claimed]
                generic = [g for g in old.generic if g.lower() not in claimed]
                if old.id.lower() in claimed and not aliases:
                    continue
                kept.append(old.model_copy(update={"aliases": aliases, "generic": generic}))
            merged[cat] = kept + list(new)
        return Vocabulary(merged)


# A name a paper uses: a word with capitals inside or digits ("CutMix", "Al-1", "ResNet-18",
# "NMC811"), or capitalised words that are not the first of a sentence ("Ridgecrest", "Willow Flats").
_CODE = re.compile(r"(?<![\w-])(?:[A-Z][a-z]*-?[A-Z0-9]|[A-Z]{2,})[\w.+-]*(?<![.-])")
_CAPITALISED = re.compile(r"(?<=[a-z,;:()] )[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})?(?![\w-])")
_NOT_NAMES = frozenset(["Table", "Tables", "Figure", "Section", "Appendix", "The", "This", "These", "We", "Our"])


def document_names(texts: list[str], vocab: Vocabulary, least: int = 2) -> list[Entity]:
    """The names a document uses at least ``least`` times that ``vocab`` does not know (category ``names``).

    They let the text check see a swapped site, sample or method in a paper no vocabulary
    describes (the claim says Willow Flats where the paper says Ridgecrest).
    """
    counts: dict[str, int] = {}
    for text in texts:
        known = [(m.start, m.start + len(m.text)) for m in vocab.find(text)]
        for pattern in (_CODE, _CAPITALISED):
            for m in pattern.finditer(text):
                if any(a <= m.start() < b for a, b in known) or m.group(0) in _NOT_NAMES:
                    continue
                counts[m.group(0)] = counts.get(m.group(0), 0) + 1
    return [Entity(id=name) for name, n in sorted(counts.items()) if n >= least and len(name) > 1]


def parse_entities(raw: object, where: str) -> dict[str, list[Entity]]:
    """Validate a vocabulary mapping (category -> list of entities); errors name ``where``."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ReproError(f"{where}: a vocabulary must map categories ({', '.join(CATEGORIES)}) to lists of entities")
    unknown = set(raw) - set(CATEGORIES)
    if unknown:
        raise ReproError(f"{where}: unknown categories {', '.join(sorted(unknown))}; use {', '.join(CATEGORIES)}")
    try:
        return {cat: [Entity.model_validate(e) for e in raw.get(cat) or []] for cat in CATEGORIES}
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ReproError(f"{where}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def _read(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ReproError(f"cannot read vocabulary {path}: {first_line(exc)}") from None


@functools.lru_cache(maxsize=8)
def load_vocabulary(path: Path = DEFAULT_VOCABULARY) -> Vocabulary:
    """Read and validate a vocabulary YAML (categories: datasets, metrics, settings, methods, languages).

    The default file alone; a file of another path is laid over the default (see :meth:`Vocabulary.extended`).
    """
    path = Path(path)
    entities = parse_entities(_read(path), str(path))
    if path.resolve() == DEFAULT_VOCABULARY.resolve():
        return Vocabulary(entities)
    return load_vocabulary().extended(entities)


def registry_vocabulary(spec: dict | str | None, base_dir: Path = Path(".")) -> Vocabulary:
    """The vocabulary of a registry: its ``vocabulary:`` mapping, or the file it names (relative
    to the registry's folder), laid over the default; the default when ``spec`` is None."""
    if spec is None:
        return load_vocabulary()
    if isinstance(spec, str):
        path = Path(spec) if Path(spec).is_absolute() else Path(base_dir) / spec
        if not path.is_file():
            raise ReproError(f"vocabulary file {path} not found")
        return load_vocabulary(path.resolve())
    return load_vocabulary().extended(parse_entities(spec, "vocabulary"))
