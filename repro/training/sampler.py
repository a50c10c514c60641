"""Hybrid batch sampling (LAReQA's X-X-mono and X-Y batches, mixed with probability alpha).

Each batch is either

- *X-X-mono* (probability ``alpha``): one language X drawn uniformly for the whole batch, every
  query and passage in X. The in-batch negatives then share the positive's language, so the
  model cannot rank by language instead of meaning: this trains monolingual retrieval;
- *X-Y* (probability ``1 - alpha``): for each pair, the query language X uniformly and the
  passage language Y uniformly among the *other* languages. Positives are always
  cross-lingual, which trains language-agnostic matching (and fights language bias).

The sampler only decides *which* pairs in *which* languages; texts, tokenisation and the loss
live elsewhere (the separation sentence-transformers uses between samplers and losses).

Determinism and resumption: an epoch's batch composition is a pure function of
``(seed, epoch)`` and a batch's languages of ``(seed, epoch, batch index)``, so the state is just
``(epoch, batch index)``: a resumed sampler recomputes the epoch and skips ahead, yielding
exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from repro.errors import ReproError
from repro.training.corpus import ParallelCorpus

# Stream tags: keep the permutation and the language draws on unrelated random streams.
_PERMUTATION_STREAM = 1
_LANGUAGE_STREAM = 2


class BatchItem(NamedTuple):
    """One pair of a batch: the query of example ``index`` in one language, its passage in another (or the same)."""

    index: int
    query_language: str
    passage_language: str


class HybridBatchSampler:
    """Infinite, seeded, resumable stream of hybrid batches over a parallel corpus.

    Every example appears exactly once per epoch. No two examples of one batch share a group:
    an example whose group is already in the batch is deferred to the next batch (it keeps its
    place at the front of the queue), never dropped. The last batch of an epoch may be smaller.

    Args:
        corpus: the training examples (their ``group_index`` is used for collisions).
        languages: the languages to draw from (at least 2 unless ``alpha == 1``).
        batch_size: pairs per batch (>= 1).
        alpha: probability that a batch is X-X-mono; ``1 - alpha`` that it is X-Y.
        seed: the random seed; same seed, same batches.

    Raises:
        ReproError: a language the corpus lacks, too few languages, or a bad batch size / alpha.
    """

    def __init__(
        self, corpus: ParallelCorpus, languages: Sequence[str], batch_size: int, alpha: float, seed: int = 0
    ) -> None:
        self.languages = tuple(dict.fromkeys(languages))
        unknown = [language for language in self.languages if language not in corpus.languages]
        if unknown:
            raise ReproError(
                f"{corpus.name} has no texts in {', '.join(unknown)}; it has {', '.join(corpus.languages)}"
            )
        if not 0.0 <= alpha <= 1.0:
            raise ReproError(f"alpha must be between 0 and 1, not {alpha}")
        if len(self.languages) < (1 if alpha == 1.0 else 2):
            raise ReproError(f"X-Y batches (alpha < 1) need at least 2 languages, got {list(self.languages)}")
        if batch_size < 1:
            raise ReproError(f"batch_size must be >= 1, not {batch_size}")
        self.groups = corpus.group_index
        self.batch_size = batch_size
        self.alpha = float(alpha)
        self.seed = int(seed)
        self.epoch = 0
        self.batch = 0  # index, within self.epoch, of the next batch to yield
        self._plan: tuple[int, list[np.ndarray]] | None = None

    def __len__(self) -> int:
        """Batches in the current epoch (epochs can differ by a batch when groups collide at the end)."""
        return len(self.epoch_plan(self.epoch))

    def epoch_plan(self, epoch: int) -> list[np.ndarray]:
        """The example indices of every batch of ``epoch``, in order (cached for the current epoch)."""
        if self._plan is None or self._plan[0] != epoch:
            order = np.random.default_rng([self.seed, _PERMUTATION_STREAM, epoch]).permutation(len(self.groups))
            self._plan = (epoch, self._fill_batches(order))
        return self._plan[1]

    def _fill_batches(self, order: np.ndarray) -> list[np.ndarray]:
        """Cut ``order`` into batches without group repeats, deferring colliding examples."""
        batches: list[np.ndarray] = []
        queue = deque(order.tolist())
        while queue:
            batch: list[int] = []
            used: set[int] = set()
            deferred: list[int] = []
            while queue and len(batch) < self.batch_size:
                index = queue.popleft()
                group = int(self.groups[index])
                if group in used:
                    deferred.append(index)
                else:
                    batch.append(index)
                    used.add(group)
            # Deferred examples go first in the next batch, where their group is free again.
            queue.extendleft(reversed(deferred))
            batches.append(np.array(batch, dtype=np.int64))
        return batches

    def batch_languages(self, epoch: int, batch: int, size: int) -> tuple[bool, list[tuple[str, str]]]:
        """``(is_mono, [(query language, passage language)] * size)`` for batch ``batch`` of ``epoch``."""
        rng = np.random.default_rng([self.seed, _LANGUAGE_STREAM, epoch, batch])
        n = len(self.languages)
        if rng.random() < self.alpha:
            language = self.languages[int(rng.integers(n))]
            return True, [(language, language)] * size
        query = rng.integers(n, size=size)
        # Uniform over the n - 1 other languages: draw from n - 1 and skip over X.
        passage = rng.integers(n - 1, size=size)
        passage += passage >= query
        return False, [(self.languages[x], self.languages[y]) for x, y in zip(query.tolist(), passage.tolist())]

    def __iter__(self) -> Iterator[list[BatchItem]]:
        """Yield batches forever from the current position, advancing the state as it goes."""
        while True:
            plan = self.epoch_plan(self.epoch)
            while self.batch < len(plan):
                indices = plan[self.batch]
                _, languages = self.batch_languages(self.epoch, self.batch, len(indices))
                # Advance before yielding: once the caller holds this batch, a saved state points past it.
                self.batch += 1
                yield [BatchItem(int(i), x, y) for i, (x, y) in zip(indices, languages)]
            self.epoch += 1
            self.batch = 0

    def state_dict(self) -> dict[str, Any]:
        """The position (epoch, next batch) plus what the batches depend on, to refuse a mismatched resume."""
        return {
            "epoch": self.epoch,
            "batch": self.batch,
            "seed": self.seed,
            "alpha": self.alpha,
            "batch_size": self.batch_size,
            "languages": list(self.languages),
            "examples": len(self.groups),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict`; the next batch is the one an uninterrupted run would yield.

        Raises:
            ReproError: the state was saved by a sampler with other settings or another corpus.
        """
        mine = self.state_dict()
        for key in ("seed", "alpha", "batch_size", "languages", "examples"):
            if state.get(key) != mine[key]:
                raise ReproError(
                    f"cannot resume the batch sampler: saved {key}={state.get(key)!r} but this run has {mine[key]!r}"
                )
        self.epoch = int(state["epoch"])
        self.batch = int(state["batch"])
