"""Which named things a claim and a passage share, and which the passage swaps for others.

Names come from the vocabulary (:mod:`repro.sources.vocabulary`: datasets, metrics, settings,
methods and models, languages) so that aliases count as one ("the proposed method" = "hybrid
batching"; "mean average precision" = "mAP"). A claim's name the passage lacks is **missing** (a
passage that does not name XQuAD-R cannot state a claim about XQuAD-R), unless it is a generic
self-reference ("our approach"). When the claim names one thing of a category and the passage
another of the same category instead (Tatoeba for MIRACL, XLM-R for LaBSE, nDCG@10 for mAP), the
passage **swaps** it: a contradiction when the rest of the claim is there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from repro.sources.quantities import quantities
from repro.sources.vocabulary import Mention, Vocabulary, load_vocabulary

SWAP_CATEGORIES = ("datasets", "methods", "languages", "metrics", "settings", "names")


@dataclass
class EntityMatch:
    """The named things of a claim against those of a passage."""

    claim: list[Mention] = field(default_factory=list)
    passage: list[Mention] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # claim names (not generic) the passage lacks
    swaps: list[tuple[str, str, str]] = field(default_factory=list)  # (category, claim name, passage name)

    def names(self, side: str) -> list[tuple[int, str]]:
        """(position, id) of every mention of ``side`` ("claim" or "passage"), for comparisons."""
        return [(m.start, m.id) for m in getattr(self, side)]

    def ids(self, side: str, category: str | None = None) -> set[str]:
        """The ids one side names (of one category, if given)."""
        return {m.id for m in getattr(self, side) if category is None or m.category == category}


def match_entities(claim: str, passage: str, vocab: Vocabulary | None = None) -> EntityMatch:
    """Compare the named things of ``claim`` and ``passage`` (see the module docstring)."""
    vocab = vocab or load_vocabulary()
    out = EntityMatch(claim=vocab.find(claim), passage=vocab.find(passage))
    have = out.ids("passage")
    out.missing = sorted({m.id for m in out.claim if not m.generic and m.id not in have})
    # A document's own names come in kinds of their own ("names:Ridgecrest"), see search.typed_names.
    own_kinds = sorted({m.category for m in out.claim + out.passage if m.category.startswith("names:")})
    for cat in (*SWAP_CATEGORIES, *own_kinds):
        c, p = out.ids("claim", cat), out.ids("passage", cat)
        only_c = sorted(c - p)
        only_p = sorted(p - c)
        # A generic self-reference in the passage is the paper's method: it can stand in a swap.
        if only_c and only_p:
            out.swaps.append((cat.split(":")[0], only_c[0], only_p[0]))
    return out


# What follows a number and says whose it is: "7.7 mmHg for 25 mg", "38 in the South", "6.6 at Ridgecrest".
_OF_NAME = re.compile(r"(?:\s*(?:%|[^\W\d]{1,6}\b))?\s*(?:for|with|in|at|by|on)\s+(?:the\s+)?$", re.I)
# A stated change before a number: "from 7.2 to 6.6" (the second belongs to whoever holds the first).
_FROM_TO = re.compile(r"^\s*(?:%|[^\W\d]{1,6}\b)?\s*to\s*$", re.I)


def _holder(text: str, start: int, mentions: list[Mention], reach: int = 40, end: int | None = None) -> Mention | None:
    """The name a number at ``start`` (ending at ``end``) belongs to: the name right after it behind
    "for"/"with"/"in"/"at" ("2.1 % for AlTi-0.5"), else the nearest within ``reach`` characters before
    it in its clause, else the nearest after."""
    named = [m for m in mentions if not m.generic]
    if end is not None:
        after_of = [m for m in named if m.start >= end and _OF_NAME.fullmatch(text[end : m.start])]
        if after_of:
            return after_of[0]
    before = [
        m
        for m in named
        if 0 <= start - (m.start + len(m.text)) <= reach and not re.search(r"[;,]", text[m.start + len(m.text) : start])
    ]
    if before:
        return before[-1]
    after = [m for m in named if 0 <= m.start - start <= reach and not re.search(r"[;,]", text[start : m.start])]
    return after[0] if after else None


def number_swaps(claim: str, passage: str, ents: EntityMatch) -> list[tuple[str, str, str, str]]:
    """Numbers both sides give, held by different names: (category, number, claim's name, passage's name).

    "Al-1 delivered 155.8 mAh/g" against "Ti-1 delivered 155.8 mAh/g and outperformed Al-1": the
    passage gives the number to a name the claim does not mention.
    """
    out = []
    claim_ids = ents.ids("claim")
    pqs = quantities(passage)
    for c in quantities(claim):
        if c.decimals == 0 and c.value < 10:
            continue  # small round numbers ("two sites", "3 seeds") are not tied to one name
        hits = [p for p in pqs if p.unit == c.unit and c.agrees(p.value, p.tolerance)]
        if len(hits) != 1:
            continue
        theirs = _holder(passage, hits[0].start, ents.passage, end=hits[0].end)
        # The claim's holder of the same kind: "Mixup reached 47.3 % on CIFAR-100-C" gives it to Mixup.
        kind = [m for m in ents.claim if theirs is not None and m.category == theirs.category]
        mine = _holder(claim, c.start, kind, reach=60, end=c.end)
        # Both names in both texts: the two exchange their numbers ("48 in the South and 38 in the North").
        exchanged = (
            theirs is not None and theirs.id in claim_ids and mine is not None and mine.id in ents.ids("passage")
        )
        if (
            mine
            and theirs
            and mine.id != theirs.id
            and mine.category == theirs.category
            and (theirs.id not in claim_ids or exchanged)
        ):
            out.append((mine.category.split(":")[0], c.text, mine.id, theirs.id))
    return out
