"""InfoNCE with in-batch negatives over cosine similarity.

For a batch of n (query, passage) pairs the logits are ``cos(q_i, p_j) / temperature``; row i is
a classification over the n passages whose right answer is passage i, so the other n - 1
passages of the batch are the negatives. This equals sentence-transformers'
MultipleNegativesRankingLoss with ``scale = 1 / temperature`` (its default scale 20 is our
default temperature 0.05).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class InfoNCELoss(nn.Module):
    """Mean cross-entropy of each query against all passages of the batch.

    Args:
        temperature: divides the cosine similarities; lower means sharper softmax.
        symmetric: also classify each passage over all queries (passage -> query) and return the
            mean of the two directions, so the loss stays on the same scale as the one-way loss.
    """

    def __init__(self, temperature: float = 0.05, symmetric: bool = False) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, not {temperature}")
        self.temperature = temperature
        self.symmetric = symmetric

    def forward(self, queries: torch.Tensor, passages: torch.Tensor) -> torch.Tensor:
        """Loss for ``queries[i]`` matching ``passages[i]``; both ``[n, dim]``.

        Rows are L2-normalised here (a no-op for already unit vectors), so the similarity is a
        cosine whatever the caller passes. Computed in float32 even under autocast: the
        softmax over logits scaled by 1 / 0.05 is where low precision would hurt.
        """
        if queries.shape != passages.shape or queries.dim() != 2:
            raise ValueError(
                f"queries and passages must both be [n, dim], got {tuple(queries.shape)} and {tuple(passages.shape)}"
            )
        queries = F.normalize(queries.float(), dim=-1)
        passages = F.normalize(passages.float(), dim=-1)
        logits = queries @ passages.T / self.temperature
        labels = torch.arange(len(queries), device=queries.device)
        loss = F.cross_entropy(logits, labels)
        if self.symmetric:
            loss = (loss + F.cross_entropy(logits.T, labels)) / 2
        return loss
