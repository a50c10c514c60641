"""Parallel training corpora: the same (query, passage) pair in several languages.

Hybrid batching needs an *N-way parallel* corpus: every example must exist in every training
language, so that one pair can be used monolingually (X-X) in one batch and cross-lingually
(X-Y) in another. An example is::

    Example(id="xnli-dev-7", group="p2", texts={"en": (query, passage), "de": (query, passage), ...})

Examples sharing a ``group`` must never meet in one batch: with in-batch negatives, two
examples of one group (in XNLI: three hypotheses written for the same premise) would make each
other's positive passage a "negative", teaching the model to push apart a true pair.

Two sources:

- :func:`xnli_corpus`: XNLI dev + test, query = hypothesis, passage = premise, 15 languages.
- :func:`load_jsonl_corpus`: any parallel corpus in the JSONL format below (and
  :func:`save_jsonl_corpus` writes it), so another corpus plugs in without code changes.

JSONL format: one JSON object per line and per (example, language)::

    {"id": "q17", "language": "de", "query": "Wer ...?", "passage": "Die ...", "group": "doc3"}

``id`` (string or integer) names the example; the lines of one example in different languages
share it. ``group`` is optional (default: the id) and must be the same on all lines of an
example. Every example must have a line for every language that occurs in the file. Blank
lines are ignored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from repro.atomic import atomic_write_text
from repro.errors import ReproError

# No language is held out unless an experiment says so (train.holdout_languages): the seed paper's
# unseen languages (el, vi) are written in its experiment files, not assumed here.
DEFAULT_HOLDOUT: tuple[str, ...] = ()


@dataclass(frozen=True)
class Example:
    """One parallel pair: ``texts[language] = (query, passage)``."""

    id: str
    group: str
    texts: Mapping[str, tuple[str, str]]


class ParallelCorpus:
    """An N-way parallel corpus: every example has a (query, passage) pair in every language.

    Raises:
        ReproError: no examples, a repeated id, an example missing a language the others have,
            or an empty text.
    """

    def __init__(self, examples: Iterable[Example], name: str = "corpus") -> None:
        self.examples: tuple[Example, ...] = tuple(examples)
        self.name = name
        if not self.examples:
            raise ReproError(f"{name}: the corpus has no examples")
        languages = set().union(*(example.texts for example in self.examples))
        self.languages: tuple[str, ...] = tuple(sorted(languages))
        seen: set[str] = set()
        for example in self.examples:
            if example.id in seen:
                raise ReproError(f"{name}: example id '{example.id}' occurs twice; ids must be unique")
            seen.add(example.id)
            missing = languages.difference(example.texts)
            if missing:
                raise ReproError(
                    f"{name}: example '{example.id}' has no text in {', '.join(sorted(missing))}; the corpus must be "
                    f"N-way parallel (every example in all of {', '.join(self.languages)}): add the texts or drop the example"
                )
            for language, (query, passage) in example.texts.items():
                if not query.strip() or not passage.strip():
                    raise ReproError(f"{name}: example '{example.id}' has an empty query or passage in '{language}'")

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> Example:
        return self.examples[index]

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)

    def __repr__(self) -> str:
        return f"ParallelCorpus({self.name!r}, {len(self)} examples, {self.n_groups} groups, languages={','.join(self.languages)})"

    @cached_property
    def group_index(self) -> np.ndarray:
        """Dense integer group id per example (``int64[len(self)]``), in order of first appearance."""
        ids: dict[str, int] = {}
        return np.array([ids.setdefault(example.group, len(ids)) for example in self.examples], dtype=np.int64)

    @property
    def n_groups(self) -> int:
        return int(self.group_index.max()) + 1

    def pair(self, index: int, query_language: str, passage_language: str) -> tuple[str, str]:
        """The query of example ``index`` in one language and its passage in another (or the same)."""
        texts = self.examples[index].texts
        return texts[query_language][0], texts[passage_language][1]

    def batch_texts(self, items: Iterable[tuple[int, str, str]]) -> tuple[list[str], list[str]]:
        """Queries and passages of ``(index, query language, passage language)`` items (a sampler's batch)."""
        pairs = [
            self.pair(index, query_language, passage_language) for index, query_language, passage_language in items
        ]
        return [query for query, _ in pairs], [passage for _, passage in pairs]

    def subset(self, indices: Iterable[int], name: str | None = None) -> ParallelCorpus:
        """A corpus of the examples at ``indices`` (in that order)."""
        return ParallelCorpus((self.examples[i] for i in indices), name=name or self.name)

    def with_languages(self, languages: Sequence[str]) -> ParallelCorpus:
        """The same examples restricted to ``languages``.

        Raises:
            ReproError: a requested language the corpus has no texts for, or an empty list.
        """
        wanted = list(dict.fromkeys(languages))
        if not wanted:
            raise ReproError(f"{self.name}: no languages left to train on")
        unknown = [language for language in wanted if language not in self.languages]
        if unknown:
            raise ReproError(f"{self.name} has no texts in {', '.join(unknown)}; it has {', '.join(self.languages)}")
        return ParallelCorpus(
            (Example(e.id, e.group, {language: e.texts[language] for language in wanted}) for e in self.examples),
            name=self.name,
        )


def xnli_corpus(splits: Sequence[str] = ("dev", "test"), languages: Sequence[str] | None = None) -> ParallelCorpus:
    """XNLI as a parallel corpus: query = hypothesis, passage = premise (default all 15 languages).

    Every XNLI hypothesis was written while reading its premise, so each pair is topically
    related whatever its NLI label (entailment, neutral or contradiction): all pairs are used.
    The group of an example is its English premise (three hypotheses share each premise), so
    those siblings never meet in one batch or on both sides of a train/validation split.
    Example ids are ``xnli-<split>-<line>``.

    Raises:
        ReproError: data not fetched (run ``repro data fetch``), unknown split or language, or
            language files of different lengths.
    """
    from repro.data.xnli import LANGUAGES, load_xnli

    languages = tuple(languages) if languages is not None else LANGUAGES
    examples: list[Example] = []
    premise_group: dict[str, str] = {}
    for split in splits:
        # Plain lists: indexing a datasets column element by element is ~100x slower.
        english = load_xnli(split, "en").to_dict()
        columns = {language: load_xnli(split, language).to_dict() for language in languages}
        for language, data in columns.items():
            if len(data["line"]) != len(english["line"]):
                raise ReproError(
                    f"XNLI {split}-{language} has {len(data['line'])} lines but {split}-en has {len(english['line'])}; re-run `repro data fetch`"
                )
        hypotheses = {language: data["hypothesis"] for language, data in columns.items()}
        premises = {language: data["premise"] for language, data in columns.items()}
        for line, premise_en in enumerate(english["premise"]):
            # Distinct English premise text -> group, across splits (a premise never crosses them today).
            group = premise_group.setdefault(premise_en, f"xnli-premise-{len(premise_group)}")
            texts = {language: (hypotheses[language][line], premises[language][line]) for language in languages}
            examples.append(Example(f"xnli-{split}-{line}", group, texts))
    return ParallelCorpus(examples, name=f"xnli({'+'.join(splits)})")


def load_jsonl_corpus(path: str | Path) -> ParallelCorpus:
    """Read a parallel corpus in the JSONL format of this module's docstring.

    Raises:
        ReproError: missing file; a line that is not a JSON object or lacks a field (with its
            line number); a repeated (id, language); an example whose lines disagree on
            ``group``; an example missing a language that other examples have.
    """
    path = Path(path)
    if not path.is_file():
        raise ReproError(
            f"corpus file {path} does not exist; give a JSONL file with id, language, query, passage per line"
        )
    texts: dict[str, dict[str, tuple[str, str]]] = {}
    groups: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ReproError(f"{where}: not valid JSON ({exc.msg}); each line must be one JSON object") from None
            if not isinstance(record, dict):
                raise ReproError(f"{where}: expected a JSON object with id, language, query, passage")
            for field in ("id", "language", "query", "passage"):
                if field not in record:
                    raise ReproError(
                        f"{where}: missing field '{field}' (need id, language, query, passage; group optional)"
                    )
            example_id, language = record["id"], record["language"]
            if isinstance(example_id, bool) or not isinstance(example_id, (str, int)):
                raise ReproError(f"{where}: 'id' must be a string or an integer")
            example_id = str(example_id)
            group = record.get("group", example_id)
            if isinstance(group, bool) or not isinstance(group, (str, int)):
                raise ReproError(f"{where}: 'group' must be a string or an integer")
            group = str(group)
            for field in ("language", "query", "passage"):
                if not isinstance(record[field], str) or not record[field].strip():
                    raise ReproError(f"{where}: '{field}' must be a non-empty string")
            by_language = texts.setdefault(example_id, {})
            if language in by_language:
                raise ReproError(f"{where}: example '{example_id}' already has a '{language}' line")
            if groups.setdefault(example_id, group) != group:
                raise ReproError(
                    f"{where}: example '{example_id}' has group '{group}' here but '{groups[example_id]}' on an earlier line"
                )
            by_language[language] = (record["query"], record["passage"])
    if not texts:
        raise ReproError(f"corpus file {path} has no examples")
    return ParallelCorpus((Example(i, groups[i], t) for i, t in texts.items()), name=path.name)


def load_corpus(corpus: str) -> ParallelCorpus:
    """The corpus a training config names: XNLI for ``"xnli"``, else the JSONL file (which must exist)."""
    from repro.data.corpora import corpus_path, is_builtin

    return xnli_corpus() if is_builtin(corpus) else load_jsonl_corpus(corpus_path(corpus))


def save_jsonl_corpus(corpus: ParallelCorpus, path: str | Path) -> None:
    """Write ``corpus`` in the JSONL format (atomically); :func:`load_jsonl_corpus` reads it back."""
    lines = [
        json.dumps(
            {"id": e.id, "language": language, "query": query, "passage": passage, "group": e.group}, ensure_ascii=False
        )
        for e in corpus
        for language, (query, passage) in e.texts.items()
    ]
    atomic_write_text(Path(path), "\n".join(lines) + "\n")


def split_by_group(
    corpus: ParallelCorpus,
    val_fraction: float = 0.1,
    seed: int = 0,
    holdout_languages: Sequence[str] = DEFAULT_HOLDOUT,
) -> tuple[ParallelCorpus, ParallelCorpus]:
    """Split into (train, validation) by whole groups, without the held-out languages.

    A random ``val_fraction`` of the groups (rounded up, seeded) goes to validation, so no
    group has examples on both sides: a premise seen in training would make validation easy.
    ``holdout_languages`` are removed from both sides (validation drives early stopping, so it
    must not see the unseen languages either); those the corpus does not have are ignored.

    Raises:
        ReproError: ``val_fraction`` outside (0, 1), fewer than two groups, or no language left.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ReproError(f"val_fraction must be between 0 and 1 (exclusive), not {val_fraction}")
    if corpus.n_groups < 2:
        raise ReproError(f"{corpus.name} has {corpus.n_groups} group(s); a train/validation split needs at least 2")
    languages = [language for language in corpus.languages if language not in set(holdout_languages)]
    if not languages:
        raise ReproError(f"holding out {', '.join(holdout_languages)} leaves no language of {corpus.name} to train on")
    n_val = min(max(1, math.ceil(val_fraction * corpus.n_groups)), corpus.n_groups - 1)
    val_groups = np.random.default_rng(seed).permutation(corpus.n_groups)[:n_val]
    is_val = np.isin(corpus.group_index, val_groups)
    restricted = corpus.with_languages(languages)
    train = restricted.subset(np.flatnonzero(~is_val).tolist(), name=f"{corpus.name}[train]")
    val = restricted.subset(np.flatnonzero(is_val).tolist(), name=f"{corpus.name}[val]")
    return train, val
