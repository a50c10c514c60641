"""The packed (unpadded) forward of a BERT-family encoder: every matrix product on real tokens only.

A padded forward multiplies every weight by ``texts x longest`` rows; length groups
(:func:`repro.training.forward.forward_groups`) cut the waste but leave many small products.
Here the token states of a whole batch are one ``[real tokens, hidden]`` matrix: each linear
layer is one large GEMM (near the machine's peak on CPU), and only attention, which mixes
tokens within a text, is computed per length group, padded to the group's longest text.

Dropout draws its masks from 16 random bits per element (:func:`dropout16`), a quarter of the
generator's work of ``torch.bernoulli``: on CPU, masks are otherwise ~10 % of a training step.
So a packed run draws other masks than a padded one and ends with other (equally valid)
weights; without dropout (eval mode) the two compute the same function up to float rounding
(``tests/test_training.py``, the packed tests).

Supported: encoders laid out as Hugging Face's BERT (``BertModel``, ``XLMRobertaModel``, the
e5 family, ...): absolute position embeddings, self-attention blocks of ``query/key/value``,
``attention.output``, ``intermediate``, ``output``. :func:`packed_unsupported` says why a model is not.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

_LEVELS = 1 << 16  # masks compare 16-bit draws with a threshold


def packed_unsupported(model: nn.Module) -> str | None:
    """Why ``model`` cannot run packed (None if it can)."""
    config = getattr(model, "config", None)
    embeddings = getattr(model, "embeddings", None)
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if config is None or embeddings is None or layers is None or not len(layers):
        return f"{type(model).__name__} is not laid out as a BERT encoder (embeddings, encoder.layer)"
    if getattr(config, "is_decoder", False):
        return f"{type(model).__name__} is a decoder"
    if getattr(config, "position_embedding_type", "absolute") != "absolute":
        return f"{type(model).__name__} uses {config.position_embedding_type} position embeddings"
    for part in ("word_embeddings", "position_embeddings", "LayerNorm", "dropout"):
        if not hasattr(embeddings, part):
            return f"{type(model).__name__}'s embeddings have no {part}"
    first = layers[0]
    for path in (
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "attention.output.LayerNorm",
        "intermediate.dense",
        "output.dense",
        "output.LayerNorm",
    ):
        module = first
        for name in path.split("."):
            module = getattr(module, name, None)
        if module is None:
            return f"{type(model).__name__}'s layers have no {path}"
    return None


def dropout16(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Inverted dropout whose mask keeps an element when a 16-bit random draw is below a threshold.

    Keeps each element with probability ``round((1 - p) * 2^16) / 2^16`` (within 2^-17 of
    ``1 - p``) and scales the kept ones by its inverse, so ``E[dropout16(x)] = x`` exactly. The
    bits come from torch's default generator (64 per draw), so ``torch.manual_seed`` and a
    checkpoint's saved RNG state decide them, as they decide ``nn.Dropout``'s.
    """
    if not training or p <= 0:
        return x
    if p >= 1:
        return torch.zeros_like(x)
    keep = round((1 - p) * _LEVELS)
    words = torch.empty((x.numel() + 3) // 4, dtype=torch.int64, device=x.device).random_(-(1 << 63), None)
    bits = words.view(torch.int16)[: x.numel()].view(x.shape)  # uniform on [-2^15, 2^15)
    # The scaled mask is built outside autograd's view of x (one multiply to differentiate, not
    # two) and straight from the comparison (no bool-to-float copy).
    scaled_mask = torch.where(bits < keep - _LEVELS // 2, _LEVELS / keep, 0.0).to(x.dtype)
    return x * scaled_mask


def _position_ids(embeddings: nn.Module, lengths: torch.Tensor) -> torch.Tensor:
    """Each real token's position id, texts one after another (right padding, as the tokenizer gives)."""
    starts = torch.repeat_interleave(torch.cumsum(lengths, 0) - lengths, lengths)
    positions = torch.arange(int(lengths.sum()), device=lengths.device) - starts
    # RoBERTa / XLM-R count positions from padding_idx + 1; BERT from 0.
    padding_idx = getattr(embeddings, "padding_idx", None)
    return positions + padding_idx + 1 if padding_idx is not None else positions


def packed_forward(
    model: nn.Module, rows: Sequence[Sequence[int]], groups: Sequence[tuple[int, int]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Last-layer token states of ``rows`` (token id lists), packed: ``(states [T, hidden], lengths [n])``.

    Args:
        model: a BERT-family encoder (see :func:`packed_unsupported`); its ``training`` flag
            turns dropout on.
        rows: the texts' token ids, sorted longest first, none empty.
        groups: ``[start, stop)`` runs of ``rows`` whose attention is computed together, padded
            to their first (longest) row; e.g. :func:`repro.training.forward.forward_groups`.

    Row ``i``'s states are ``states[offsets[i]:offsets[i + 1]]`` with offsets the cumulative lengths.
    """
    device = model.embeddings.word_embeddings.weight.device
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    ids = torch.tensor([t for r in rows for t in r], dtype=torch.long, device=device)
    training = model.training
    emb = model.embeddings
    hidden = emb.word_embeddings(ids)
    if hasattr(emb, "token_type_embeddings"):
        hidden = hidden + emb.token_type_embeddings.weight[0]  # one segment: type 0 everywhere
    # Summed in Hugging Face's order (word + type + position), so eval mode matches it to the last bits.
    hidden = hidden + emb.position_embeddings(_position_ids(emb, lengths).to(device))
    hidden = dropout16(emb.LayerNorm(hidden), emb.dropout.p, training)
    width = hidden.shape[1]

    # Attention runs on the groups' zero-padded [texts x longest] grids, laid end to end in one
    # buffer: `slots` is each real token's row there. One scatter and one gather per layer (their
    # gradients are one gather and one scatter); per-group slices of the packed matrix would make
    # autograd add a full-size zero gradient per group and tensor.
    grids, slots, used = [], [], 0
    for start, stop in groups:
        longest = int(lengths[start])
        real = torch.arange(longest)[None, :] < lengths[start:stop, None]  # [texts, longest]
        slots.append(real.reshape(-1).nonzero().squeeze(1) + used)
        bias = torch.zeros(real.shape, dtype=hidden.dtype).masked_fill(~real, float("-inf"))
        grids.append((stop - start, longest, bias[:, None, None, :].to(device)))
        used += real.numel()
    slots = torch.cat(slots).to(device)
    sizes = [texts * longest for texts, longest, _ in grids]

    for layer in model.encoder.layer:
        attention = layer.attention.self
        heads, size = attention.num_attention_heads, attention.attention_head_size
        scale = getattr(attention, "scaling", size**-0.5)
        p_attention = attention.dropout.p if hasattr(attention, "dropout") else 0.0
        # Three products, not one fused query-key-value product: measured faster on CPU (the
        # fused output's column slices make the scatters below slower than the wider GEMM gains).
        query, key, value = (
            hidden.new_zeros(used, width).index_copy(0, slots, projection(hidden)).split(sizes)
            for projection in (attention.query, attention.key, attention.value)
        )
        context = []
        for (texts, longest, bias), *qkv in zip(grids, query, key, value):
            q, k, v = (x.view(texts, longest, heads, size).transpose(1, 2) for x in qkv)
            weights = torch.softmax(q @ k.transpose(-1, -2) * scale + bias, dim=-1)
            out = dropout16(weights, p_attention, training) @ v  # [texts, heads, longest, size]
            context.append(out.transpose(1, 2).reshape(texts * longest, width))
        context = torch.cat(context).index_select(0, slots)
        block = layer.attention.output
        hidden = block.LayerNorm(dropout16(block.dense(context), block.dropout.p, training) + hidden)
        inner = layer.intermediate.intermediate_act_fn(layer.intermediate.dense(hidden))
        block = layer.output
        hidden = block.LayerNorm(dropout16(block.dense(inner), block.dropout.p, training) + hidden)
    return hidden, lengths
