"""The training forward pass: prefixed texts -> unit embeddings, with gradients, in few padded tokens.

A batch's texts are sorted by token count and cut into the forward passes (:func:`forward_groups`)
that minimise padded tokens plus a fixed cost per pass: short queries are then not padded to the
longest passage. Mean pooling ignores padding, so the result is the same function as one padded
forward (up to float rounding); on CPU, where every padded token costs compute, it is faster.
Packed (:mod:`repro.models.packed`, the ``packed`` training setting) goes further: the linear
layers see only real tokens, one product per weight per batch, and the groups only cut attention.
Precision and pooling are the Encoder's own (:mod:`repro.models.precision`, :mod:`repro.models.pooling`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from repro.models.packed import packed_forward
from repro.models.pooling import mean_pool, packed_mean_pool
from repro.models.precision import autocast

# What one more forward pass costs on CPU, in padded tokens (Python, per-op overhead, smaller
# matrices). Measured for e5-small on 2 cores, batch 32, max length 96, same batches interleaved:
# 32 was fastest (16 and 64 ~5 % slower, 256 ~20 %), and ~1.6x faster than one padded forward.
CPU_FORWARD_COST_TOKENS = 32


def forward_groups(lengths: Sequence[int], forward_cost: float | None) -> list[tuple[int, int]]:
    """Cut token counts sorted longest first into ``[start, stop)`` forward passes of least total cost.

    A pass costs its padded tokens (its first, longest length x its size) plus ``forward_cost``;
    the optimal contiguous cut is a small dynamic programme (O(n^2), n = texts per batch).
    ``None`` means a single pass.
    """
    n = len(lengths)
    if forward_cost is None or n == 0:
        return [(0, n)] if n else []
    best = [0.0] + [math.inf] * n  # best[j]: least cost of texts [0, j)
    cut = [0] * (n + 1)
    for stop in range(1, n + 1):
        for start in range(stop):
            cost = best[start] + lengths[start] * (stop - start) + forward_cost
            if cost < best[stop]:
                best[stop], cut[stop] = cost, start
    groups, stop = [], n
    while stop > 0:
        groups.append((cut[stop], stop))
        stop = cut[stop]
    return groups[::-1]


def pad(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token id lists to the longest: ``(input_ids, attention_mask)``, both ``[n, width]``."""
    width = max(len(row) for row in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, row in enumerate(rows):
        input_ids[r, : len(row)] = torch.tensor(row, dtype=torch.long)
        attention_mask[r, : len(row)] = 1
    return input_ids, attention_mask


def embed_texts(
    model: nn.Module,
    tokenizer: Any,
    texts: list[str],
    max_length: int,
    device: torch.device,
    autocast_dtype: torch.dtype | None,
    forward_cost: float | None,
    packed: bool = False,
) -> torch.Tensor:
    """Unit embeddings ``[len(texts), dim]`` of (already prefixed) texts, in input order, with gradients if enabled.

    ``packed``: one packed forward (:mod:`repro.models.packed`) whose attention runs per length
    group, instead of one padded forward per group.
    """
    ids = tokenizer(
        texts, truncation=True, max_length=max_length, return_attention_mask=False, return_token_type_ids=False
    )["input_ids"]
    order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    pooled = []
    groups = forward_groups([len(ids[i]) for i in order], forward_cost)
    with autocast(device, autocast_dtype):
        if packed:
            pooled.append(packed_mean_pool(*packed_forward(model, [ids[i] for i in order], groups)))
        else:
            for start, stop in groups:
                input_ids, attention_mask = pad([ids[i] for i in order[start:stop]], pad_id)
                input_ids, attention_mask = input_ids.to(device), attention_mask.to(device)
                hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
                pooled.append(mean_pool(hidden, attention_mask))
    vectors = torch.cat(pooled)
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return vectors[inverse.to(vectors.device)]


@dataclass(frozen=True)
class PairEmbedder:
    """Embeds (queries, passages) with their prefixes in one length-grouped forward, as training does."""

    model: nn.Module
    tokenizer: Any
    query_prefix: str
    passage_prefix: str
    max_length: int
    device: torch.device
    autocast_dtype: torch.dtype | None
    forward_cost: float | None
    packed: bool = False

    def __call__(self, queries: list[str], passages: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Query rows and passage rows, both ``[len(queries), dim]``, unit norm."""
        texts = [self.query_prefix + q for q in queries] + [self.passage_prefix + p for p in passages]
        vectors = embed_texts(
            self.model,
            self.tokenizer,
            texts,
            self.max_length,
            self.device,
            self.autocast_dtype,
            self.forward_cost,
            self.packed,
        )
        return vectors[: len(queries)], vectors[len(queries) :]
