"""Sentence embedding from token states: mean over real tokens, L2-normalised (the e5 recipe).

One implementation, called by :class:`repro.models.encoder.Encoder` when encoding and by the
trainer's forward pass, so a fine-tuned model is evaluated with the pooling it was trained with;
:func:`packed_mean_pool` is the same pooling of a packed forward's token states
(:mod:`repro.models.packed`), which has no padding to mask.
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


def packed_mean_pool(states: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Unit rows ``[n, hidden]``: each text's mean token state (fp32), as :func:`mean_pool`.

    ``states`` ``[sum(lengths), hidden]`` holds the texts' token states one after another.
    """
    segment = torch.repeat_interleave(torch.arange(len(lengths), device=states.device), lengths.to(states.device))
    sums = torch.zeros(len(lengths), states.shape[1], dtype=torch.float32, device=states.device)
    sums = sums.index_add(0, segment, states.float())
    return F.normalize(sums / lengths.to(sums).clamp(min=1)[:, None], dim=-1)
