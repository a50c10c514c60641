"""Validation during training: fixed hybrid batches drawn once, and the loss over them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from repro.errors import ReproError
from repro.training.config import TrainConfig
from repro.training.corpus import ParallelCorpus
from repro.training.loss import InfoNCELoss
from repro.training.sampler import HybridBatchSampler


def evaluate(
    model: nn.Module,
    embed: Callable[[list[str], list[str]], tuple[torch.Tensor, torch.Tensor]],
    loss_fn: InfoNCELoss,
    batches: Sequence[tuple[list[str], list[str]]],
) -> float:
    """Validation loss: the mean InfoNCE loss per pair over fixed batches, in eval mode (no dropout)."""
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for queries, passages in batches:
            total += loss_fn(*embed(queries, passages)).item() * len(queries)
    model.train()
    return total / sum(len(queries) for queries, _ in batches)


def validation_batches(
    val_set: ParallelCorpus, languages: Sequence[str], config: TrainConfig
) -> list[tuple[list[str], list[str]]]:
    """``val_pairs`` fixed (queries, passages) batches, hybrid at the run's alpha, drawn once, deterministically.

    Fixed batches matter: with in-batch negatives the loss depends on which pairs share a batch,
    so re-drawing them would add noise to the comparison between evaluations.

    Raises:
        ReproError: the validation split has fewer than ``val_pairs`` examples.
    """
    if len(val_set) < config.val_pairs:
        raise ReproError(
            f"the validation split has {len(val_set)} examples, fewer than val_pairs={config.val_pairs}; "
            "lower val_pairs or raise val_fraction"
        )
    sampler = HybridBatchSampler(val_set, languages, config.batch_size, config.alpha, config.seed)
    batches, left = [], config.val_pairs
    for batch in sampler:
        batch = batch[:left]
        if len(batch) >= 2:  # a single pair has no negative: its loss is always 0
            batches.append(val_set.batch_texts(batch))
        left -= len(batch)
        if left <= 0:
            return batches
    raise AssertionError("unreachable: the sampler is infinite")
