"""Optimizer and learning-rate schedule of fine-tuning: AdamW without decay on biases and norms, linear warm-up/decay."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW over the trainable parameters, with weight decay on weight matrices only (not on biases or norm weights).

    Decaying a LayerNorm gain towards 0 or a bias towards 0 is not a regulariser, just a bias.
    """
    no_decay: set[int] = set()
    for module in model.modules():
        is_norm = isinstance(module, (nn.LayerNorm, nn.GroupNorm)) or "norm" in type(module).__name__.lower()
        for name, parameter in module.named_parameters(recurse=False):
            if is_norm or name == "bias":
                no_decay.add(id(parameter))
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if id(p) not in no_decay], "weight_decay": weight_decay},
        {"params": [p for p in params if id(p) in no_decay], "weight_decay": 0.0},
    ]
    # The fused kernel (CPU and CUDA in torch >= 2.4) updates all tensors in one pass.
    try:
        return torch.optim.AdamW(groups, lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(groups, lr=lr)


def linear_warmup_decay(warmup: int, steps: int) -> Callable[[int], float]:
    """LR factor for update ``s`` (0-based): up linearly over ``warmup`` updates, then down linearly.

    Unlike transformers' ``get_linear_schedule_with_warmup`` the first update does not get lr 0
    and the last does not either: every one of the (few, on CPU) steps moves the weights.
    """

    def factor(s: int) -> float:
        if s < warmup:
            return (s + 1) / warmup
        return max(0.0, (steps - s) / max(1, steps - warmup))

    return factor
