"""Who beats whom: the direction of a comparison between two named things in a sentence.

``relation("the proposed method significantly outperforms the X-X-mono approach", names)`` is
``("hybrid", "X-X-mono", +1)``; "X-Y has a lower rank distance than the proposed method" is
``("X-Y", "hybrid", -1)``, which :func:`normalise` turns into ``("hybrid", "X-Y", +1)``. Two
sentences about the same pair contradict when their normalised signs differ ("X outperforms Y" vs
"Y outperforms X"; "X higher than Y" vs "X lower than Y").

``names`` maps the text to its named things in order: ``[(start, id), ...]`` (the vocabulary's
mentions, so that "the proposed method" and "hybrid batching" are one id).

The sign is about *quality* (+1: left is better). Words of size ("higher", "lower", "more") say
the opposite of quality for a measure where lower is better: "hybrid has a higher rank distance
than X-Y" puts hybrid below X-Y. Which measures those are comes from the measure declarations
(:mod:`repro.evaluation.declarations`: ``higher_is_better=False``, with their aliases) and from the
vocabulary's metrics marked ``lower_is_better`` (a registry adds its own).
"""

from __future__ import annotations

import functools
import itertools
import re

from repro.sources.vocabulary import Vocabulary, load_vocabulary

_CUE = re.compile(
    r"\b(?P<up>outperform\w*|surpass\w*|beat\w*|exceed\w*|better than|superior to|higher|greater|larger|more|"
    r"richer|faster|stronger|longer|wider|bigger|heavier|deeper)\b"
    r"|\b(?P<down>underperform\w*|worse than|inferior to|lags? behind|trails?|lower|smaller|less|fewer|"
    r"poorer|slower|weaker|shorter|narrower|lighter)\b",
    re.I,
)
_THAN = re.compile(r"\b(than|compared (?:to|with)|relative to|over|against)\b", re.I)
_CLAUSE = re.compile(r"[;:]|,\s*(?:but|while|whereas|although|however)\b|\bwhile\b|\bwhereas\b|\bbut\b", re.I)

Relation = tuple[str, str, int]
_SIZE_WORDS = (
    "higher",
    "greater",
    "larger",
    "more",
    "lower",
    "smaller",
    "less",
    "fewer",
    "longer",
    "shorter",
    "bigger",
)


@functools.lru_cache(maxsize=4)
def lower_is_better_terms(vocab: Vocabulary | None = None) -> re.Pattern[str]:
    """A pattern of every name of a measure where lower is better (declarations and vocabulary)."""
    from repro.evaluation.declarations import DECLARATIONS

    names: set[str] = set()
    for decl in DECLARATIONS.values():
        for metric in decl.metrics().values():
            if not metric.spec.higher_is_better:
                names |= {metric.spec.name, *metric.spec.aliases}
    for ent in (vocab or load_vocabulary()).entities.get("metrics", []):
        if ent.lower_is_better:
            names |= {ent.id, *ent.aliases}
    alts = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alts})(?![\w-])", re.I) if alts else re.compile(r"(?!x)x")


# "more robust", "less well calibrated": "more"/"less" before a word of quality compares quality, not size.
_QUALITY_AFTER = re.compile(
    r"\s+(?:well\b|robust|accurate|effective|efficient|reliable|stable|precise|useful|successful|competitive)",
    re.I,
)


# Whatever a measure is called, an error, a loss, or a table declared "lower is better" is better low.
_LOWER_BETTER_WORDS = re.compile(r"\b(?:errors?|loss(?:es)?|lower is better)\b", re.I)


def relations(
    text: str,
    names: list[tuple[int, str]],
    vocab: Vocabulary | None = None,
    kinds: dict[str, str] | None = None,
    by_value: bool = False,
    measure: str = "",
) -> list[Relation]:
    """Every (left, right, sign) comparison in ``text`` (sign +1: left is better; module docstring).

    ``kinds`` maps a name to its category: the left side is the last name before the cue of the
    right side's kind ("DPG-Net reaches a PESQ of 3.02, higher than the CRN": DPG-Net, not PESQ).
    ``by_value``: the sign says which side's *value* is larger instead (+1: left's), known only
    for words of size, or for words of quality about a measure where lower is better (named in
    the clause or in ``measure``, the text whose numbers are compared).
    """
    lower_better = lower_is_better_terms(vocab)
    kinds = kinds or {}
    out: list[Relation] = []
    bounds = [0] + [m.end() for m in _CLAUSE.finditer(text)] + [len(text)]
    for lo, hi in itertools.pairwise(bounds):
        clause = text[lo:hi]
        for m in _CUE.finditer(clause):
            start = lo + m.start()
            verb = (
                m.group(0)
                .lower()
                .startswith(("outperform", "surpass", "beat", "exceed", "underperform", "lag", "trail"))
            )
            left = [n for pos, n in names if lo <= pos < start]
            if verb:
                right = [n for pos, n in names if start < pos < hi]
            else:
                than = _THAN.search(text, lo + m.end(), hi)
                right = [n for pos, n in names if than and than.start() < pos < hi]
            if right:
                peers = [n for n in left if kinds.get(n) == kinds.get(right[0])]
                left = peers or left
            if left and right and left[-1] != right[0]:
                sign = 1 if m.group("up") else -1
                size = m.group(0).lower() in _SIZE_WORDS and not _QUALITY_AFTER.match(text, lo + m.end())
                if by_value and not size:
                    if not any(r.search(t) for r in (lower_better, _LOWER_BETTER_WORDS) for t in (clause, measure)):
                        continue  # "outperforms" says nothing of which value is larger
                    sign = -sign
                elif not by_value and size and lower_better.search(clause):
                    sign = -sign
                out.append((left[-1], right[0], sign))
    return out


# A number followed by what it is of: "0.47 for the CRN", "48.5 % for Mixup", "38 in the North".
_OF_NAME = re.compile(r"\s*(?:%|[^\W\d]{1,6}\b)?\s*(?:for|with|of|in|at|by|from)\s+(?:the\s+)?$", re.I)


def values_by_name(text: str, mentions: list, quantities: list) -> dict[str, list[float]]:
    """The numbers ``text`` gives each name: the name right after "for"/"with"/"in" following the
    number, else the nearest name before the number in its clause with no other number between."""
    out: dict[str, list[float]] = {}
    named = sorted((m for m in mentions if not m.generic), key=lambda m: m.start)
    for q in quantities:
        holder = next(
            (m for m in named if m.start >= q.end and _OF_NAME.match(text[q.end : m.start])),
            None,
        )
        if holder is None:
            before = [m for m in named if m.start + len(m.text) <= q.start]
            if before:
                gap = text[before[-1].start + len(before[-1].text) : q.start]
                if not _CLAUSE.search(gap) and not re.search(r"\d", gap) and len(gap) <= 60:
                    holder = before[-1]
        if holder is not None:
            out.setdefault(holder.id, []).append(q.value)
    return out


def value_conflict(claim_rels: list[Relation], values: dict[str, list[float]]) -> str | None:
    """The claim says one side's value is larger (or smaller) where the passage's numbers say the reverse."""
    for a, b, sign in claim_rels:
        va, vb = set(values.get(a, [])), set(values.get(b, []))
        if len(va) != 1 or len(vb) != 1:
            continue
        x, y = va.pop(), vb.pop()
        if x != y and (x > y) != (sign > 0):
            word = "above" if sign > 0 else "below"
            return f"roles swapped: the claim puts {a}'s value {word} {b}'s, the passage gives {a} {x:g} and {b} {y:g}"
    return None


def normalise(rel: Relation) -> Relation:
    """The same comparison with its two sides in a fixed order."""
    a, b, sign = rel
    return (a, b, sign) if a <= b else (b, a, -sign)


def role_conflict(claim_rels: list[Relation], passage_rels: list[Relation]) -> str | None:
    """A reason when the claim and the passage compare the same pair in opposite directions."""
    passage = {normalise(r)[:2]: normalise(r)[2] for r in passage_rels}
    for rel in claim_rels:
        a, b, sign = normalise(rel)
        if (a, b) in passage and passage[(a, b)] != sign:
            left, right, _ = rel
            return f"roles swapped: the claim puts {left} {'above' if rel[2] > 0 else 'below'} {right}, the passage the reverse"
    return None


def compared_pairs(rels: list[Relation]) -> set[tuple[str, str]]:
    """The unordered pairs a list of relations compares."""
    return {normalise(r)[:2] for r in rels}
