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

from dataclasses import dataclass, field

from repro.sources.vocabulary import Mention, Vocabulary, load_vocabulary

SWAP_CATEGORIES = ("datasets", "methods", "languages", "metrics", "settings")


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
    for cat in SWAP_CATEGORIES:
        c, p = out.ids("claim", cat), out.ids("passage", cat)
        only_c = sorted(c - p)
        only_p = sorted(p - c)
        # A generic self-reference in the passage is the paper's method: it can stand in a swap.
        if only_c and only_p:
            out.swaps.append((cat, only_c[0], only_p[0]))
    return out
