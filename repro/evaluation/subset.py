"""How ``limit`` shrinks a task: which questions it keeps and which candidates stay in the pool.

A limited task keeps ``limit`` questions per language and shrinks the pool searched with them,
the same way for every task:

- XQuAD-R / MLQA-R: ``limit`` parallel question ids, the same ids in every language (so the
  cross-lingual and multilingual settings stay parallel); the pool is every sentence of the
  paragraphs that hold their answers (the hard negatives of LAReQA stay in);
- TyDi-GoldP: ``limit`` questions per language; the pool is their gold passages plus
  ``distractors`` other passages of that language (default: as many as ``limit``; ``"all"``:
  every passage, the behaviour before pools were shrunk);
- Tatoeba: ``limit`` pairs per language; each side is searched against the other's ``limit``
  sentences.

``sample="random"`` (the default) draws the items with a seeded hash: every item's rank is the
SHA-256 of ``seed``, the sample's stream name and the item's id, and the ``limit`` lowest ranks are
kept. The draw is uniform, reproducible on any machine and library version, independent of file
order, and nested: the sample of 60 is contained in the sample of 200 with the same seed.
``sample="first"`` keeps the first items in file order (the first articles, hence few topics):
the behaviour of every result computed before sampling existed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from repro.errors import ReproError

SAMPLES: tuple[str, ...] = ("random", "first")
Sample = Literal["random", "first"]
Distractors = int | Literal["all"] | None


@dataclass(frozen=True)
class Subset:
    """A limited task: ``limit`` items per language (None = the whole task), how they are drawn,
    and (TyDi-GoldP) how many other passages join the pool.

    Raises:
        ReproError: a limit or distractor count below its minimum, or an unknown sample mode.
    """

    limit: int | None = None
    sample: Sample = "random"
    seed: int = 0
    distractors: Distractors = None

    def __post_init__(self) -> None:
        if self.limit is not None and (isinstance(self.limit, bool) or int(self.limit) < 1):
            raise ReproError(f"limit must be >= 1, got {self.limit}")
        if self.sample not in SAMPLES:
            raise ReproError(f"unknown sample '{self.sample}'; use one of {', '.join(SAMPLES)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ReproError(f"sample seed must be an integer >= 0, got {self.seed!r}")
        d = self.distractors
        if not (d is None or d == "all" or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)):
            raise ReproError(f"distractors must be a count >= 0 or 'all', got {d!r}")

    def distractor_count(self, available: int) -> int:
        """How many of ``available`` other passages join a limited pool (all when unlimited)."""
        if self.limit is None or self.distractors == "all":
            return available
        wanted = self.limit if self.distractors is None else int(self.distractors)
        return min(wanted, available)

    def take(self, ids: Sequence[Hashable], stream: str) -> list[int]:
        """Positions (ascending) of the items of ``ids`` this subset keeps.

        ``stream`` names the draw (e.g. ``"tydi-goldp/sw/questions"``) so that independent draws
        over the same ids differ; draws that must agree (parallel ids across languages) share it.
        """
        return sample_positions(ids, self.limit, self.sample, self.seed, stream)

    def describe(self) -> dict[str, Any]:
        """The subset as result files record it."""
        return {"limit": self.limit, "sample": self.sample, "seed": self.seed, "distractors": self.distractors}

    @classmethod
    def for_task(
        cls, task: str, limit: int | None, sample: Sample = "random", seed: int = 0, distractors: Distractors = None
    ) -> Subset:
        """The subset of ``task``; ``distractors`` on a task without them is a ReproError."""
        return cls(limit, sample, seed, distractors).check(task)

    def check(self, task: str) -> Subset:
        """This subset, if ``task`` takes it: distractors apply to :data:`DISTRACTOR_TASKS` only."""
        if self.distractors is not None and task not in DISTRACTOR_TASKS:
            raise ReproError(f"distractors apply to {', '.join(sorted(DISTRACTOR_TASKS))} only, not {task}")
        return self

    def is_legacy(self, task: str) -> bool:
        """True if this subset selects for ``task`` what every result before sampling did: no limit,
        or the first ``limit`` items (and, with distractors, the full pool)."""
        if self.limit is None:
            return True
        return self.sample == "first" and (self.distractors == "all" or task not in DISTRACTOR_TASKS)

    def to_payload(self, task: str) -> dict[str, Any] | None:
        """What a cached step's payload records of this subset (its ``limit`` is recorded apart):
        nothing for a legacy subset, so steps computed before sampling existed keep their keys."""
        if self.is_legacy(task):
            return None
        return {"sample": self.sample, "seed": self.seed, "distractors": self.distractors}

    @classmethod
    def from_payload(cls, task: str, limit: int | None, entry: dict[str, Any] | None) -> Subset:
        """The subset a step's payload recorded (:meth:`to_payload`'s inverse; None: the legacy subset)."""
        if entry is None:
            return cls(limit, "first", 0, "all" if task in DISTRACTOR_TASKS else None)
        return cls(limit, entry["sample"], entry["seed"], entry["distractors"]).check(task)


def rank_key(seed: int, stream: str, item: Hashable) -> bytes:
    """The seeded rank of ``item`` in draw ``stream``: lower ranks are drawn first."""
    return hashlib.sha256(f"{seed}\x1f{stream}\x1f{item}".encode()).digest()


def sample_positions(
    ids: Sequence[Hashable], limit: int | None, sample: str = "random", seed: int = 0, stream: str = ""
) -> list[int]:
    """Positions (ascending) of ``limit`` items of ``ids``: the first ones, or a seeded random draw.

    ``ids`` must be distinct for a random draw (an item's rank depends on its id only). With no
    limit, or a limit of at least ``len(ids)``, every position is kept.
    """
    n = len(ids)
    if limit is None or limit >= n:
        return list(range(n))
    if sample == "first":
        return list(range(limit))
    if sample != "random":
        raise ReproError(f"unknown sample '{sample}'; use one of {', '.join(SAMPLES)}")
    order = sorted(range(n), key=lambda i: rank_key(seed, stream, ids[i]))
    return sorted(order[:limit])


# The tasks whose limited pool takes a distractor count; the others' pools follow from the items.
DISTRACTOR_TASKS: frozenset[str] = frozenset({"tydi-goldp"})
