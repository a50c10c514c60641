"""Sentence embedding from token states: mean over real tokens, L2-normalised (the e5 recipe).

One implementation, called by :class:`repro.models.encoder.Encoder` when encoding and by the
trainer's forward pass, so a fine-tuned model is evaluated with the pooling it was trained with.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Unit rows ``[batch, dim]``: the mean of ``hidden`` ``[batch, tokens, dim]`` over unmasked tokens.

    Pooled in fp32 whatever ``hidden``'s dtype: summing hundreds of bf16 values loses precision
    for nothing. A row without any real token pools to zeros (not NaN).
    """
    mask = attention_mask.unsqueeze(-1).to(torch.float32)
    pooled = (hidden.float() * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
    return F.normalize(pooled, dim=-1)
