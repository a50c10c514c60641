"""Kind ``contamination``: does our training corpus share text with the evaluation sets?

Example (claims C4 and C5)::

    - kind: contamination
      experiment: hybrid-sweep        # its train config names the corpus (default: xnli)
      datasets: [xquad-r, mlqa-r]

Every text of the training corpus (queries and passages, in *all* of its languages, including the
held-out ones and the validation split: a superset of what any grid point trains on) is compared
with every question and every candidate sentence of each evaluation set.

Normalisation: NFKC, casefold, every punctuation or symbol character becomes a space, whitespace
is collapsed. Two texts are an **exact** duplicate when they are equal after normalisation with all
whitespace removed (so case, punctuation, spacing and full-width forms do not matter).

**Near-duplicates** are measured by n-gram containment: the share of an evaluation text's distinct
n-grams that occur anywhere in the training corpus. The units depend on the script, because
Chinese, Japanese, Thai, Lao, Khmer, Myanmar and Tibetan do not separate words with spaces:

- a text whose letters are at least 30 % Han or kana is cut into *character* n-grams of its
  normalised text without whitespace (``han_ngram``, default 12 characters: about 8 Chinese words);
- a text whose letters are at least 30 % Thai, Lao, Khmer, Myanmar or Tibetan (abugidas whose
  words are several characters long) likewise, with ``abugida_ngram`` (default 24 characters, about
  5 Thai words; 12-grams were tried and matched common Thai phrases such as "related to");
- any other text into *word* n-grams (``word_ngram``, default 8, as in common contamination
  audits of LLM training data).

A text shorter than n units but at least 3/4 n long is compared as one whole n_eff-gram (n_eff =
its length): it is a near-duplicate when it occurs verbatim inside a training text. Shorter texts
(single words, "A lot of fun.") are only checked for exact duplicates and counted as "exact only":
occurring inside a longer training sentence says nothing about contamination. An evaluation text is
a near-duplicate when its containment is >= ``containment`` (default 0.5).

Verdict: reproduced when no evaluation text is an exact duplicate and the near-duplicate rate of
every evaluation set and side is below ``max_near_rate`` (default 0.1 %); not reproduced otherwise.
Confidence is None: it is a fact about the data. This audits *our reproduction's* training data;
the paper's training data is not published.

Implementation: n-gram hashes of the evaluation texts are collected first (tens of thousands of
texts), then the training corpus is streamed once per n-gram length, keeping only hits; memory
stays small and one dataset takes seconds. Results are cached under
``$REPRO_HOME/checks/contamination-<key>.json``, keyed by the data checksums and the settings.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import regex
from pydantic import Field

from repro.atomic import atomic_write_text
from repro.cache import portable, repro_home
from repro.checks.base import Check, CheckResult, ClaimRef, Table, Verdict, register
from repro.checks.context import CheckContext
from repro.data.corpora import DEFAULT_CORPUS, is_builtin
from repro.errors import ReproError

# Bump when the algorithm changes so that cached results are recomputed.
ALGORITHM_VERSION = 1

# Scripts written without spaces between words: ideographic, and abugidas with long words.
_HAN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_ABUGIDA = regex.compile(r"[\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]")
_LETTER = regex.compile(r"\p{L}")
# Share of letters from unspaced scripts above which a text is cut into characters.
UNSPACED_SHARE = 0.3
# A text shorter than n units is compared whole if it has at least this share of n units.
SHORT_SHARE = 0.75
EXAMPLES = 5
EXAMPLE_CHARS = 160


@lru_cache(maxsize=1)
def _punctuation_table() -> dict[int, str]:
    return {i: " " for i in range(sys.maxunicode + 1) if unicodedata.category(chr(i))[0] in "PS"}


def normalize(text: str) -> str:
    """NFKC, casefold, punctuation and symbols to spaces, whitespace collapsed to single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().translate(_punctuation_table()).split())


@dataclass(frozen=True)
class Units:
    """A normalised text cut into comparison units: words, or characters for unspaced scripts."""

    exact: str  # the normalised text without any whitespace: the key of exact duplicates
    mode: Literal["word", "han", "abugida"]
    units: tuple[str, ...] | str


def units(text: str) -> Units:
    """Normalise ``text`` and cut it into words or (for unspaced scripts) characters."""
    norm = normalize(text)
    exact = norm.replace(" ", "")
    letters = len(_LETTER.findall(exact))
    if letters and len(_HAN.findall(exact)) >= UNSPACED_SHARE * letters:
        return Units(exact, "han", exact)
    if letters and len(_ABUGIDA.findall(exact)) >= UNSPACED_SHARE * letters:
        return Units(exact, "abugida", exact)
    return Units(exact, "word", tuple(norm.split()))


def _gram(u: tuple[str, ...] | str, i: int, n: int) -> int:
    piece = u[i : i + n]
    return hash(piece if isinstance(piece, str) else " ".join(piece))


def ngram_hashes(u: Units, n: int) -> set[int]:
    """Hashes of the distinct n-grams of ``u`` (within one process; Python's str hash is salted)."""
    return {_gram(u.units, i, n) for i in range(len(u.units) - n + 1)}


@dataclass
class _EvalText:
    text: str
    units: Units
    n: int  # n-gram length used for it; 0 = exact-only
    grams: set[int] = field(default_factory=set)


def eval_text(text: str, ngram: dict[str, int]) -> _EvalText:
    """An evaluation text with its n-gram hashes; ``ngram`` maps each unit mode to its n."""
    u = units(text)
    n_full = ngram[u.mode]
    length = len(u.units)
    n = n_full if length >= n_full else (length if length >= SHORT_SHARE * n_full else 0)
    return _EvalText(text, u, n, ngram_hashes(u, n) if n else set())


@dataclass
class OverlapIndex:
    """What the training corpus shares with a set of evaluation texts.

    Built by :func:`find_overlap`: ``exact`` maps an evaluation text's exact key to the training
    text equal to it; ``found`` holds the (mode, n, hash) of every evaluation n-gram seen in
    training, with the training text it was first seen in.
    """

    exact: dict[str, int]
    found: dict[tuple[str, int, int], int]


def find_overlap(train_texts: list[str], evals: list[_EvalText]) -> OverlapIndex:
    """Stream ``train_texts`` once per needed n-gram length, keeping only hits on ``evals``."""
    wanted_exact = {e.units.exact for e in evals if e.units.exact}
    needed: dict[tuple[str, int], set[int]] = {}
    for e in evals:
        if e.n:
            needed.setdefault((e.units.mode, e.n), set()).update(e.grams)
    exact: dict[str, int] = {}
    found: dict[tuple[str, int, int], int] = {}
    for t, text in enumerate(train_texts):
        u = units(text)
        if u.exact in wanted_exact:
            exact.setdefault(u.exact, t)
        for (mode, n), hashes in needed.items():
            if mode != u.mode:
                continue
            for i in range(len(u.units) - n + 1):
                h = _gram(u.units, i, n)
                if h in hashes:
                    found.setdefault((mode, n, h), t)
    return OverlapIndex(exact, found)


def containment(e: _EvalText, index: OverlapIndex) -> tuple[float, int | None]:
    """Share of ``e``'s n-grams found in training, and the training text sharing the most of them."""
    if not e.grams:
        return 0.0, None
    hits = [index.found[k] for h in e.grams if (k := (e.units.mode, e.n, h)) in index.found]
    if not hits:
        return 0.0, None
    return len(hits) / len(e.grams), Counter(hits).most_common(1)[0][0]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def _eval_sets(dataset: str) -> dict[str, list[tuple[str, str]]]:
    """(language, text) of every question and every candidate of ``dataset``: its task's ``texts``."""
    from repro.evaluation.tasks import get_task

    task = get_task(dataset)
    if task.texts is None:
        raise ReproError(str(_texts_problem(dataset)))
    # A side without texts (a task with questions only) has nothing to audit, and no rate.
    return {side: items for side, items in task.texts().items() if items}


def _eval_fingerprint(datasets: list[str]) -> dict[str, str]:
    """What the audited texts are: the mirror's checksums for a dataset of the manifest, else the SHA-256 of
    the task's texts (a plug-in task's data is wherever its code reads it from)."""
    from repro.data.manifest import checksums, manifest
    from repro.evaluation.tasks import get_task

    mirrored = [d for d in datasets if d in manifest()]
    out = checksums(mirrored)
    for d in datasets:
        task = get_task(d)
        if d not in mirrored and task.texts is not None:
            texts = json.dumps(task.texts(), sort_keys=True, ensure_ascii=False)
            out[f"task:{d}"] = hashlib.sha256(texts.encode()).hexdigest()
    return out


def _texts_problem(dataset: str) -> str | None:
    """Why ``dataset``'s texts cannot be audited (not a registered task, or one without ``texts``), or None."""
    from repro.evaluation.tasks import known_tasks
    from repro.plugins import did_you_mean

    tasks = known_tasks()
    with_texts = sorted(name for name, t in tasks.items() if t.texts is not None)
    if dataset not in tasks:
        return f"unknown dataset '{dataset}'{did_you_mean(dataset, tasks)}; tasks with texts: {', '.join(with_texts)}"
    if tasks[dataset].texts is None:
        return f"task {dataset} provides no texts to audit (Task.texts); tasks with them: {', '.join(with_texts)}"
    return None


@register
class ContaminationCheck(Check):
    """Exact and near-duplicate overlap between our training corpus and the evaluation sets."""

    kind: Literal["contamination"] = "contamination"
    experiment: str | None = Field(
        default=None, description="registry experiment whose train.corpus is audited (None: xnli)"
    )
    corpus: str | None = Field(default=None, description='"xnli" or a JSONL corpus path; overrides the experiment')
    datasets: list[str] = Field(min_length=1, description="registered tasks whose texts are audited (Task.texts)")
    word_ngram: int = Field(default=8, ge=2, description="n of word n-grams (space-delimited scripts)")
    han_ngram: int = Field(default=12, ge=2, description="n of character n-grams for Han and kana text")
    abugida_ngram: int = Field(
        default=24, ge=2, description="n of character n-grams for Thai, Lao, Khmer, Myanmar, Tibetan"
    )
    containment: float = Field(default=0.5, gt=0, le=1, description="n-gram containment that makes a near-duplicate")
    max_near_rate: float = Field(
        default=0.001, ge=0, lt=1, description="largest near-duplicate rate still counted as separate"
    )

    @property
    def ngram(self) -> dict[str, int]:
        """n per unit mode (see :func:`units`)."""
        return {"word": self.word_ngram, "han": self.han_ngram, "abugida": self.abugida_ngram}

    def describe(self) -> str:
        return self.label or f"training/evaluation overlap: {', '.join(self.datasets)}"

    def experiments(self, ctx: CheckContext) -> list[str]:
        # Only the experiment's config is read, not its results: nothing needs to run first.
        return []

    def validate_in(self, ctx: CheckContext) -> list[str]:
        if self.experiment and self.experiment not in ctx.experiments:
            return [f"contamination check: no experiment '{self.experiment}' in the registry"]
        return [p for d in self.datasets if (p := _texts_problem(d)) is not None]

    def corpus_spec(self, ctx: CheckContext) -> str:
        """The corpus audited: this check's ``corpus``, else the experiment's ``train.corpus``, else xnli."""
        if self.corpus:
            return self.corpus
        if self.experiment:
            return str(ctx.experiment(self.experiment).train.corpus)
        return DEFAULT_CORPUS

    def _cache_key(self, corpus: str) -> str:
        from repro.data.manifest import checksums
        from repro.hashing import sha256_file

        if is_builtin(corpus):
            fingerprint: object = checksums([DEFAULT_CORPUS])
        elif Path(corpus).is_file():
            fingerprint = sha256_file(Path(corpus))
        else:
            raise ReproError(
                f"contamination check: corpus file {corpus} does not exist; give '{DEFAULT_CORPUS}' or a JSONL corpus path"
            )
        settings = self.model_dump(exclude={"label", "experiment", "corpus"})
        blob = json.dumps(
            {
                "v": ALGORITHM_VERSION,
                "settings": settings,
                "corpus": fingerprint,
                "eval": _eval_fingerprint(self.datasets),
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    def run(self, ctx: CheckContext, claim: ClaimRef) -> CheckResult:
        corpus = self.corpus_spec(ctx)
        path = repro_home() / "checks" / f"contamination-{self._cache_key(corpus)}.json"
        if path.is_file():
            result = CheckResult.model_validate_json(path.read_text(encoding="utf-8"))
            result.details["cached"] = portable(str(path))
            return result
        result = self._compute(corpus)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, result.model_dump_json(indent=1))
        return result

    def _compute(self, corpus_spec: str) -> CheckResult:
        from repro.training.corpus import load_corpus

        t_load = time.perf_counter()
        corpus = load_corpus(corpus_spec)
        # Distinct texts only: XNLI repeats each premise for its three hypotheses.
        train_texts = list(dict.fromkeys(t for e in corpus for pair in e.texts.values() for t in pair))
        load_seconds = time.perf_counter() - t_load
        audits = [a for dataset in self.datasets for a in audit(dataset, train_texts, self.ngram, self.containment)]
        failures = failures_of(audits, self.max_near_rate)
        return CheckResult(
            verdict=Verdict.NOT_REPRODUCED if failures else Verdict.REPRODUCED,
            confidence=None,
            headline=self.headline_for(corpus.name, len(train_texts), audits, failures),
            details={
                "scope": "checks our reproduction's training data, not the paper's (which is not published)",
                "corpus": corpus_spec,
                "corpus_name": corpus.name,
                "corpus_languages": list(corpus.languages),
                "note": (
                    f"all {len(corpus.languages)} corpus languages and both train/validation splits are audited, a "
                    "superset of the trained texts (including any held-out languages)"
                ),
                "training_texts": len(train_texts),
                "training_examples": len(corpus),
                "load_seconds": round(load_seconds, 2),
                "per_set": {f"{a.dataset}/{a.side}": a.summary() for a in audits},
                "ngram": self.ngram,
                "containment": self.containment,
                "max_near_rate": self.max_near_rate,
                "exact_total": sum(a.exact for a in audits),
            },
            tables=tables_for(audits, train_texts),
        )

    def headline_for(self, corpus_name: str, n_texts: int, audits: list[SideAudit], failures: list[str]) -> str:
        """One line: each set and side's exact and near duplicates, the thresholds, and what fails."""
        parts = [
            f"{a.dataset}/{a.side} {a.exact} exact, {a.near} near of {a.texts:,} ({100 * a.near_rate:.2f} %)"
            for a in audits
        ]
        headline = (
            f"Overlap of our training corpus ({corpus_name}, {n_texts:,} distinct texts) with the "
            f"evaluation sets: {'; '.join(parts)} (near = containment >= {self.containment:g} of "
            f"{self.word_ngram}-word / {self.han_ngram}-Han-char / {self.abugida_ngram}-Thai-char n-grams; "
            f"separate if 0 exact and near < {100 * self.max_near_rate:g} %)"
        )
        if failures:
            headline += f"; failing: {'; '.join(failures)}"
        return headline


# --- analysis: one evaluation set and side against the training texts -> SideAudit ---------------


@dataclass(frozen=True)
class SideAudit:
    """The overlap of one evaluation set's side (questions or passages) with the training texts."""

    dataset: str
    side: str
    texts: int
    exact: int
    near: int  # exact duplicates included
    exact_only: int  # too short for n-grams: checked for exact duplicates only
    seconds: float  # the whole dataset's (both sides are matched in one pass)
    # (containment, exact?, language, evaluation text, training text index), most contained first
    top: list[tuple[float, bool, str, str, int | None]]

    @property
    def near_rate(self) -> float:
        """Share of texts that are near-duplicates (exact ones included)."""
        return self.near / self.texts if self.texts else 0.0

    def summary(self) -> dict[str, float | int]:
        """The counts as the result's details give them."""
        return {
            "texts": self.texts,
            "exact": self.exact,
            "near": self.near,
            "exact_rate": self.exact / self.texts if self.texts else 0.0,
            "near_rate": self.near_rate,
            "exact_only": self.exact_only,
            "seconds": round(self.seconds, 2),
        }


def audit(dataset: str, train_texts: list[str], ngram: dict[str, int], threshold: float) -> list[SideAudit]:
    """Each side of ``dataset`` against the training texts: exact and near duplicates (containment >= threshold)."""
    t_set = time.perf_counter()
    sides = _eval_sets(dataset)
    evals = {side: [eval_text(text, ngram) for _, text in items] for side, items in sides.items()}
    index = find_overlap(train_texts, [e for es in evals.values() for e in es])
    seconds = time.perf_counter() - t_set
    audits = []
    for side, es in evals.items():
        scored = []
        n_exact = n_near = n_exact_only = 0
        for (lang, _), e in zip(sides[side], es):
            is_exact = bool(e.units.exact) and e.units.exact in index.exact
            c, src = containment(e, index)
            if is_exact:
                c, src = 1.0, index.exact[e.units.exact]
            n_exact += is_exact
            n_near += is_exact or c >= threshold
            n_exact_only += e.n == 0
            if c > 0:
                scored.append((c, is_exact, lang, e.text, src))
        scored.sort(key=lambda s: (-s[0], s[2], s[3]))
        audits.append(SideAudit(dataset, side, len(es), n_exact, n_near, n_exact_only, seconds, scored[:EXAMPLES]))
    return audits


def failures_of(audits: list[SideAudit], max_near_rate: float) -> list[str]:
    """What makes the data not separate: any exact duplicate, or a near-duplicate rate at ``max_near_rate`` or more."""
    failures = []
    for a in audits:
        if a.exact:
            failures.append(f"{a.dataset} {a.side}: {a.exact} exact duplicate(s)")
        if a.near_rate >= max_near_rate:
            failures.append(f"{a.dataset} {a.side}: near-duplicate rate {100 * a.near_rate:.2f} %")
    return failures


# --- presentation: audits -> tables -------------------------------------------------------------


def tables_for(audits: list[SideAudit], train_texts: list[str]) -> list[Table]:
    """The overlap per set and side, and the most contained evaluation texts beside their training text."""
    rows = [
        [
            a.dataset,
            a.side,
            a.texts,
            a.exact,
            f"{100 * a.exact / a.texts:.3f} %",
            a.near,
            f"{100 * a.near_rate:.3f} %",
            a.exact_only,
            round(a.seconds, 1),
        ]
        for a in audits
    ]
    examples = [
        [
            a.dataset,
            a.side,
            lang,
            round(c, 3),
            "exact" if is_exact else "n-gram",
            _short(text),
            _short(train_texts[src]) if src is not None else "",
        ]
        for a in audits
        for c, is_exact, lang, text, src in a.top
    ]
    return [
        Table(
            title="Training/evaluation overlap per evaluation set and side",
            columns=[
                "dataset",
                "side",
                "texts",
                "exact",
                "exact rate",
                "near-dup (incl. exact)",
                "near rate",
                "exact only (too short)",
                "seconds",
            ],
            rows=rows,
        ),
        Table(
            title=f"Most contained evaluation texts (top {EXAMPLES} per set and side, by n-gram containment)",
            columns=["dataset", "side", "lang", "containment", "match", "evaluation text", "training text"],
            rows=examples,
        ),
    ]
