"""Fine-tune a sentence encoder with hybrid batches and InfoNCE (arXiv 2408.10536, on CPU or GPU).

``train(TrainConfig(...), out_dir)`` is one linear loop, in the spirit of nanoGPT's train.py:

    load corpus -> split by group -> sampler -> model -> optimizer/schedule -> (resume)
    loop: batch -> embed queries & passages -> InfoNCE -> step -> every eval_every: validation
          loss, keep the best weights, early stopping -> every checkpoint_every: checkpoint
    write the best model (HF folder) and train.json

Outputs in ``out_dir``:

- ``model/``: the best model (lowest validation loss, the paper's criterion) as a standard
  Hugging Face folder (``save_pretrained`` + tokenizer), loadable by ``Encoder(str(out_dir/"model"))``,
  plus ``training_info.json`` (base model, prefixes, pooling);
- ``train.json``: config, summary, per-evaluation losses, provenance;
- ``checkpoint/`` while training (removed at the end): weights, optimizer, scheduler, sampler
  position, RNG states, step and best-so-far. A run started on an ``out_dir`` holding a checkpoint
  resumes from it and ends with the same weights as an uninterrupted run (on the same machine
  and thread count: CPU kernels are deterministic, but not across hardware).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from torch import nn

from repro.atomic import atomic_write_text
from repro.errors import ReproError
from repro.models.encoder import cpu_supports_fast_bf16
from repro.models.registry import default_prefixes, resolve_model
from repro.training.corpus import DEFAULT_HOLDOUT, ParallelCorpus, load_jsonl_corpus, split_by_group, xnli_corpus
from repro.training.loss import InfoNCELoss
from repro.training.sampler import BatchItem, HybridBatchSampler

CHECKPOINT_FORMAT = 1
_AUTOCAST = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
# What one more forward pass costs on CPU, in padded tokens (Python, per-op overhead, smaller
# matrices). Measured for e5-small on 2 cores, batch 32, max length 96, same batches interleaved:
# 32 was fastest (16 and 64 ~5 % slower, 256 ~20 %), and ~1.6x faster than one padded forward.
CPU_FORWARD_COST_TOKENS = 32


class TrainConfig(BaseModel):
    """Everything that decides a training run; two runs with equal configs give equal weights (CPU).

    Defaults follow the paper where it says something (AdamW, lr 3e-5, weight decay 0.01, early
    stopping on validation loss, el/vi unseen) and are sized for a 2-core CPU otherwise (the
    paper's batch is 100 on an A100; steps and max_length it does not state).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = "e5-small"
    corpus: str = Field("xnli", description='"xnli" (XNLI dev+test) or the path of a JSONL parallel corpus')
    holdout_languages: list[str] = Field(default_factory=lambda: list(DEFAULT_HOLDOUT))
    val_fraction: float = Field(0.1, gt=0, lt=1)
    alpha: float = Field(0.5, ge=0, le=1, description="probability of an X-X-mono batch (else X-Y)")
    seed: int = Field(0, ge=0)
    steps: int = Field(150, ge=1)
    batch_size: int = Field(32, ge=2, description="pairs per batch; in-batch negatives need at least 2")
    max_length: int = Field(96, ge=4)
    query_prefix: str | None = Field(
        None, description='None: the model\'s own (e5: "query: ", others none); the paper used "Query: " for all'
    )
    passage_prefix: str | None = Field(None, description='None: the model\'s own (e5: "passage: ", others none)')
    lr: float = Field(3e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, le=1)
    temperature: float = Field(0.05, gt=0)
    symmetric: bool = False
    freeze_embeddings: bool = True
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    eval_every: int = Field(50, ge=1)
    val_pairs: int = Field(
        256, ge=2, description="fixed validation pairs, drawn once with the hybrid sampler at the run's alpha"
    )
    early_stopping_patience: int = Field(3, ge=1)
    checkpoint_every: int = Field(50, ge=0, description="steps between checkpoints; 0 = never")
    forward_cost_tokens: Annotated[float, Field(ge=0)] | Literal["auto"] | None = Field(
        "auto",
        description="texts are sorted by length and cut into the forward passes that minimise padded tokens plus "
        "this cost per pass; None = one padded forward per batch; "
        f"auto = {CPU_FORWARD_COST_TOKENS} on CPU, None on CUDA (where big kernels win)",
    )
    device: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build a config from user input; an invalid field is a one-line :class:`ReproError`."""
        try:
            return cls(**dict(data))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "config"
            raise ReproError(f"invalid training config: {where}: {first['msg']}") from None


@dataclass
class _Progress:
    """What the loop has done so far: saved in every checkpoint, reported in train.json."""

    step: int = 0
    pairs: int = 0
    seconds: float = 0.0  # wall time of the loop (steps, evaluations, checkpoints), over all resumed segments
    train_seconds: float = 0.0  # forward + backward + optimizer only: the basis of pairs/s
    evals: list[dict[str, Any]] = field(default_factory=list)
    best_step: int | None = None
    best_val_loss: float = math.inf
    bad_evals: int = 0  # evaluations since the last improvement
    stopped_early: bool = False
    loss_sum: float = 0.0  # training loss since the last evaluation
    loss_count: int = 0


def train(
    config: TrainConfig,
    out_dir: str | Path,
    progress: bool = True,
    *,
    on_step: Callable[[int, float, nn.Module], None] | None = None,
) -> dict[str, Any]:
    """Train, keep the best model in ``out_dir/model`` and return the summary (also in train.json).

    Args:
        config: the run's settings.
        out_dir: output folder; if it holds a checkpoint, the run resumes from it.
        progress: show a tqdm bar (loss, pairs/s, last validation loss) on stderr.
        on_step: called as ``on_step(step, loss, model)`` after every step (and after that
            step's checkpoint): for logging, or for tests that interrupt a run.

    Returns:
        The summary: best_step, best_val_loss, evals (step, val_loss, train_loss), steps_done,
        pairs_per_second, seconds, stopped_early, and what was trained on.

    Raises:
        ReproError: bad corpus or model, a checkpoint made with another config, an out_dir
            that holds a finished run, or a diverged (non-finite) loss.
    """
    from filelock import FileLock, Timeout
    from tqdm import tqdm

    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_dir / ".train.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ReproError(
            f"another training run is using {out_dir}; wait for it or choose another output folder"
        ) from None
    try:
        _recover_interrupted_swaps(out_dir)
        checkpoint = out_dir / "checkpoint"
        resuming = checkpoint.is_dir()
        if not resuming and (out_dir / "train.json").exists():
            raise ReproError(
                f"{out_dir} already holds a finished training run (train.json); choose another output folder or delete it"
            )

        # --- data: train/validation split by group, unseen languages removed from both ---
        corpus = _load_corpus(config.corpus)
        train_set, val_set = split_by_group(corpus, config.val_fraction, config.seed, config.holdout_languages)
        languages = train_set.languages
        sampler = HybridBatchSampler(train_set, languages, config.batch_size, config.alpha, config.seed)
        val_batches = _validation_batches(val_set, languages, config)

        # --- model ---
        device = torch.device(config.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        model_path = resolve_model(config.model)
        tokenizer, model = _load_model(config.model, model_path)
        model.to(device)
        default_query, default_passage = default_prefixes(config.model, model_path)
        query_prefix = default_query if config.query_prefix is None else config.query_prefix
        passage_prefix = default_passage if config.passage_prefix is None else config.passage_prefix
        autocast_dtype = _autocast_dtype(config.precision, device)
        forward_cost = config.forward_cost_tokens
        if forward_cost == "auto":
            forward_cost = None if device.type == "cuda" else CPU_FORWARD_COST_TOKENS
        if config.freeze_embeddings:
            # The word embeddings are most of a multilingual model (250k x 384 of e5-small's 118M
            # parameters). A small corpus touches few rows, and AdamW's decoupled weight decay
            # would still shrink every row; freezing also saves their optimizer state and time.
            model.get_input_embeddings().weight.requires_grad_(False)
        trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}

        optimizer = _make_optimizer(model, config, device)
        warmup = math.ceil(config.warmup_ratio * config.steps)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup_decay(warmup, config.steps))
        # fp16 gradients underflow without loss scaling; bf16 and fp32 do not need it.
        scaler = torch.amp.GradScaler(device.type, enabled=autocast_dtype == torch.float16)
        loss_fn = InfoNCELoss(config.temperature, config.symmetric)

        def embed(queries: list[str], passages: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
            vectors = _embed(
                model,
                tokenizer,
                [query_prefix + q for q in queries] + [passage_prefix + p for p in passages],
                config.max_length,
                device,
                autocast_dtype,
                forward_cost,
            )
            return vectors[: len(queries)], vectors[len(queries) :]

        def validation_loss() -> float:
            model.eval()
            total = 0.0
            with torch.inference_mode():
                for queries, passages in val_batches:
                    total += loss_fn(*embed(queries, passages)).item() * len(queries)
            model.train()
            return total / sum(len(queries) for queries, _ in val_batches)

        state = _Progress()
        best_weights: dict[str, torch.Tensor] = {}
        resumed_at = None
        if resuming:
            state, best_weights = _load_checkpoint(
                checkpoint, config, model, optimizer, scheduler, scaler, sampler, device
            )
            resumed_at = state.step
        else:
            _seed_everything(config.seed)

        def evaluate() -> float:
            """Validation loss now; keep the weights if best; count evaluations without improvement."""
            val_loss = validation_loss()
            train_loss = state.loss_sum / state.loss_count if state.loss_count else None
            state.evals.append({"step": state.step, "val_loss": val_loss, "train_loss": train_loss})
            state.loss_sum, state.loss_count = 0.0, 0
            if val_loss < state.best_val_loss:
                state.best_step, state.best_val_loss, state.bad_evals = state.step, val_loss, 0
                best_weights.clear()
                best_weights.update({name: p.detach().to("cpu", copy=True) for name, p in trainable.items()})
            else:
                state.bad_evals += 1
                state.stopped_early = state.bad_evals >= config.early_stopping_patience
            return val_loss

        if not state.evals:
            evaluate()  # step 0: the untrained model is the first candidate for "best"

        # --- the loop ---
        segment_start = time.perf_counter()
        seconds_before = state.seconds
        batches = iter(sampler)
        model.train()
        with tqdm(
            total=config.steps, initial=state.step, desc="training", unit="step", file=sys.stderr, disable=not progress
        ) as bar:
            while state.step < config.steps and not state.stopped_early:
                batch = next(batches)
                step_start = time.perf_counter()
                queries, passages = _texts(train_set, batch)
                loss = loss_fn(*embed(queries, passages))  # autocast inside _embed; the loss runs in fp32
                loss_value = loss.item()
                if not math.isfinite(loss_value):  # stop before a NaN reaches the weights
                    raise ReproError(
                        f"training diverged: loss is {loss_value} at step {state.step + 1}; lower lr or use precision fp32"
                    )
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                state.step += 1
                state.pairs += len(batch)
                state.train_seconds += time.perf_counter() - step_start
                state.loss_sum += loss_value
                state.loss_count += 1

                if state.step % config.eval_every == 0 or state.step == config.steps:
                    evaluate()
                state.seconds = seconds_before + time.perf_counter() - segment_start
                if (
                    config.checkpoint_every
                    and state.step % config.checkpoint_every == 0
                    and state.step < config.steps
                    and not state.stopped_early
                ):
                    _save_checkpoint(
                        checkpoint, config, model, optimizer, scheduler, scaler, sampler, state, best_weights
                    )
                bar.update(1)
                bar.set_postfix(
                    loss=f"{loss_value:.4f}",
                    pairs_s=f"{state.pairs / state.train_seconds:.1f}",
                    val=f"{state.evals[-1]['val_loss']:.4f}",
                )
                if on_step is not None:
                    on_step(state.step, loss_value, model)
        state.seconds = seconds_before + time.perf_counter() - segment_start

        # --- outputs: best weights into the model, HF folder, train.json; then drop the checkpoint ---
        with torch.no_grad():
            for name, value in best_weights.items():
                trainable[name].copy_(value)
        training_info = {
            "base_model": config.model,
            "base_model_path": model_path,
            "query_prefix": query_prefix,
            "passage_prefix": passage_prefix,
            "pooling": "mean",
            "normalized": True,
            "best_step": state.best_step,
            "best_val_loss": state.best_val_loss,
        }
        _save_model(out_dir / "model", model, tokenizer, training_info)
        summary = {
            "best_step": state.best_step,
            "best_val_loss": state.best_val_loss,
            "evals": state.evals,
            "steps_done": state.step,
            "pairs_done": state.pairs,
            "pairs_per_second": state.pairs / state.train_seconds if state.train_seconds else None,
            "seconds": state.seconds,
            "train_seconds": state.train_seconds,
            "stopped_early": state.stopped_early,
            "resumed_at_step": resumed_at,
            "languages": list(languages),
            "holdout_languages": [language for language in config.holdout_languages if language in corpus.languages],
            "train_examples": len(train_set),
            "val_examples": len(val_set),
            "val_pairs": sum(len(queries) for queries, _ in val_batches),
            "epochs": state.pairs / len(train_set),
            "device": str(device),
            "precision": {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[autocast_dtype],
            "model_dir": str(out_dir / "model"),
            "wall_seconds_this_call": time.perf_counter() - started,
        }
        from repro.provenance import provenance

        record = {"config": config.model_dump(), "summary": summary, "provenance": provenance()}
        atomic_write_text(out_dir / "train.json", json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        shutil.rmtree(checkpoint, ignore_errors=True)
        return summary
    finally:
        lock.release()


# --- data ---------------------------------------------------------------------------------------


def _load_corpus(spec: str) -> ParallelCorpus:
    return xnli_corpus() if spec == "xnli" else load_jsonl_corpus(spec)


def _texts(corpus: ParallelCorpus, batch: Sequence[BatchItem]) -> tuple[list[str], list[str]]:
    """Queries and passages of a batch (without prefixes), each in its drawn language."""
    pairs = [corpus.pair(item.index, item.query_language, item.passage_language) for item in batch]
    return [query for query, _ in pairs], [passage for _, passage in pairs]


def _validation_batches(
    val_set: ParallelCorpus, languages: Sequence[str], config: TrainConfig
) -> list[tuple[list[str], list[str]]]:
    """``val_pairs`` fixed pairs in hybrid batches at the run's alpha, drawn once, deterministically.

    Fixed batches matter: with in-batch negatives the loss depends on which pairs share a batch,
    so re-drawing them would add noise to the comparison between evaluations.
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
            batches.append(_texts(val_set, batch))
        left -= len(batch)
        if left <= 0:
            return batches
    raise AssertionError("unreachable: the sampler is infinite")


# --- model ----------------------------------------------------------------------------------


def _load_model(spec: str, path: str) -> tuple[Any, nn.Module]:
    """Tokenizer and AutoModel (no pooler) as the Encoder loads them, with its offline handling."""
    from repro.models.encoder import _load

    return _load(spec, path)


def _autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """Autocast dtype for ``precision`` on ``device``; the Encoder's rule, so training and encoding agree.

    "auto" is bf16 on a CPU with native bf16 instructions, bf16 (else fp16) on CUDA, and fp32
    otherwise: on a CPU without native bf16, bf16 is emulated and several times slower than fp32.
    """
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if cpu_supports_fast_bf16() else None
    if precision == "fp16" and device.type != "cuda":
        raise ReproError("precision fp16 needs a CUDA device; use bf16 or fp32 on CPU")
    return _AUTOCAST[precision]


@contextlib.contextmanager
def _autocast(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    if dtype is None:
        yield
    else:
        with torch.autocast(device_type=device.type, dtype=dtype):
            yield


def _mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over real tokens, L2-normalised, in fp32: the Encoder's pooling."""
    mask = mask.unsqueeze(-1).to(torch.float32)
    pooled = (hidden.float() * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
    return F.normalize(pooled, dim=-1)


def _embed(
    model: nn.Module,
    tokenizer: Any,
    texts: list[str],
    max_length: int,
    device: torch.device,
    autocast_dtype: torch.dtype | None,
    forward_cost: float | None,
) -> torch.Tensor:
    """Unit embeddings ``[len(texts), dim]`` of prefixed texts, with gradients if enabled.

    Texts are sorted by token count and cut into forward passes by :func:`forward_groups`: short
    queries are then not padded to the longest passage. Mean pooling ignores the padding, so
    the result is the same function as one padded forward (up to float rounding); on CPU, where
    every padded token costs compute, it is faster.
    """
    ids = tokenizer(
        texts, truncation=True, max_length=max_length, return_attention_mask=False, return_token_type_ids=False
    )["input_ids"]
    order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    pooled = []
    with _autocast(device, autocast_dtype):
        for start, stop in forward_groups([len(ids[i]) for i in order], forward_cost):
            input_ids, attention_mask = _pad([ids[i] for i in order[start:stop]], pad_id)
            input_ids, attention_mask = input_ids.to(device), attention_mask.to(device)
            hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            pooled.append(_mean_pool(hidden, attention_mask))
    vectors = torch.cat(pooled)
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return vectors[inverse.to(vectors.device)]


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


def _pad(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token id lists to the longest: ``(input_ids, attention_mask)``, both ``[n, width]``."""
    width = max(len(row) for row in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, row in enumerate(rows):
        input_ids[r, : len(row)] = torch.tensor(row, dtype=torch.long)
        attention_mask[r, : len(row)] = 1
    return input_ids, attention_mask


def _make_optimizer(model: nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """AdamW with weight decay on weight matrices only (not on biases or normalisation weights).

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
        {"params": [p for p in params if id(p) not in no_decay], "weight_decay": config.weight_decay},
        {"params": [p for p in params if id(p) in no_decay], "weight_decay": 0.0},
    ]
    # The fused kernel (CPU and CUDA in torch >= 2.4) updates all tensors in one pass.
    try:
        return torch.optim.AdamW(groups, lr=config.lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(groups, lr=config.lr)


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


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA; dropout draws from these generators


# --- checkpoints and outputs ----------------------------------------------------------------


def _save_checkpoint(
    path: Path,
    config: TrainConfig,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    scaler: torch.amp.GradScaler,
    sampler: HybridBatchSampler,
    state: _Progress,
    best_weights: dict[str, torch.Tensor],
) -> None:
    """Write everything needed to continue exactly, into a temp folder renamed over ``path``.

    Tensors go to .pt files loaded back with ``weights_only=True`` (no arbitrary pickles); the
    rest is JSON, readable by people. The random states are saved *after* the step, so the
    resumed run draws the same dropout masks as the uninterrupted one.
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    rng: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    torch.save(model.state_dict(), tmp / "model.pt")
    torch.save(best_weights, tmp / "best.pt")
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "scaler": scaler.state_dict(),
            "rng": rng,
        },
        tmp / "trainer.pt",
    )
    numpy_state = np.random.get_state()
    meta = {
        "format": CHECKPOINT_FORMAT,
        "config": config.model_dump(),
        "progress": asdict(state),
        "sampler": sampler.state_dict(),
        "numpy_rng": [numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]],
        "python_rng": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
    }
    (tmp / "state.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    for file in tmp.iterdir():
        _fsync(file)
    _replace_dir(tmp, path)


def _load_checkpoint(
    path: Path,
    config: TrainConfig,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    scaler: torch.amp.GradScaler,
    sampler: HybridBatchSampler,
    device: torch.device,
) -> tuple[_Progress, dict[str, torch.Tensor]]:
    """Restore a :func:`_save_checkpoint` folder into the freshly built objects; return progress and best weights."""
    try:
        meta = json.loads((path / "state.json").read_text(encoding="utf-8"))
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise ReproError(
                f"checkpoint {path} has format {meta.get('format')}, this version reads {CHECKPOINT_FORMAT}; delete it to start over"
            )
        saved = meta["config"]
        current = config.model_dump()
        changed = [key for key in current if saved.get(key) != current[key]]
        if changed:
            key = changed[0]
            raise ReproError(
                f"checkpoint {path} was made with {key}={saved.get(key)!r}, this run has {key}={current[key]!r}; "
                "use the same config to resume, or another output folder"
            )
        model.load_state_dict(torch.load(path / "model.pt", map_location=device, weights_only=True))
        best = torch.load(path / "best.pt", map_location="cpu", weights_only=True)
        trainer_state = torch.load(path / "trainer.pt", map_location=device, weights_only=True)
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        raise ReproError(
            f"checkpoint {path} is unreadable ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); delete it to start over"
        ) from exc
    optimizer.load_state_dict(trainer_state["optimizer"])
    scheduler.load_state_dict(trainer_state["scheduler"])
    scaler.load_state_dict(trainer_state["scaler"])
    sampler.load_state_dict(meta["sampler"])
    torch.set_rng_state(trainer_state["rng"]["torch"].cpu())
    if "cuda" in trainer_state["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in trainer_state["rng"]["cuda"]])
    kind, keys, *rest = meta["numpy_rng"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), *rest))
    version, internal, gauss = meta["python_rng"]
    random.setstate((version, tuple(internal), gauss))
    return _Progress(**meta["progress"]), best


def _save_model(path: Path, model: nn.Module, tokenizer: Any, info: dict[str, Any]) -> None:
    """The model as a standard HF folder (weights, config, tokenizer) plus training_info.json, atomically."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "training_info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    for file in tmp.iterdir():
        if file.is_file():
            _fsync(file)
    _replace_dir(tmp, path)


def _replace_dir(src: Path, dst: Path) -> None:
    """Rename folder ``src`` to ``dst``, replacing it; at any instant one complete copy exists.

    A folder cannot be renamed over a non-empty one, so the old copy is first moved aside to
    ``.<name>.old``; :func:`_recover_interrupted_swaps` puts it back if we die in between.
    """
    old = dst.with_name(f".{dst.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if dst.exists():
        os.replace(dst, old)
    os.replace(src, dst)
    _fsync(dst.parent)
    shutil.rmtree(old, ignore_errors=True)


def _recover_interrupted_swaps(out_dir: Path) -> None:
    """Undo what a killed run left mid-write: restore a moved-aside folder, drop temp folders."""
    for name in ("checkpoint", "model"):
        old = out_dir / f".{name}.old"
        if old.is_dir() and not (out_dir / name).exists():
            os.replace(old, out_dir / name)
        for tmp in out_dir.glob(f".{name}.tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
