"""Fine-tune a sentence encoder with hybrid batches and InfoNCE (arXiv 2408.10536), on CPU or GPU.

``train(TrainConfig(...), out_dir)`` reads top to bottom, in the spirit of nanoGPT's train.py:

    setup: output folder -> corpus, group split, sampler, validation batches -> model ->
           optimizer, schedule, loss -> resume from the checkpoint, or seed
    loop:  batch -> embed queries and passages -> InfoNCE -> step; every eval_every: validation
           loss (:func:`evaluate`), keep the best weights, early stopping; every checkpoint_every:
           checkpoint
    end:   best weights into the model, HF folder, train.json (the summary)

The pieces live beside it: the forward pass in :mod:`repro.training.forward` (with the Encoder's
pooling and precision rule), AdamW and the schedule in :mod:`repro.training.optim`, checkpoints in
:mod:`repro.training.checkpoint`, the settings in :mod:`repro.training.config`, the loop's counters
in :mod:`repro.training.progress`, validation in :mod:`repro.training.validation`, the output folder's
lock and model writer in :mod:`repro.training.outputs`.

Outputs in ``out_dir``:

- ``model/``: the best model (lowest validation loss, the paper's criterion) as a standard
  Hugging Face folder (``save_pretrained`` + tokenizer), loadable by ``Encoder(str(out_dir/"model"))``,
  plus ``training_info.json`` (base model, prefixes, pooling);
- ``train.json``: config, summary, per-evaluation losses, provenance;
- ``checkpoint/`` while training (removed at the end). A run started on an ``out_dir`` holding a
  checkpoint resumes from it and ends with the same weights as an uninterrupted run (on the same
  machine and thread count: CPU kernels are deterministic, but not across hardware).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from repro.atomic import atomic_write_text, recover_dir
from repro.errors import ReproError
from repro.models.device import select_device
from repro.models.encoder import load_model
from repro.models.packed import packed_unsupported
from repro.models.precision import autocast_dtype, precision_name
from repro.models.registry import default_prefixes, resolve_model
from repro.training.checkpoint import load_checkpoint, save_checkpoint
from repro.training.config import TrainConfig
from repro.training.corpus import ParallelCorpus, load_corpus, split_by_group
from repro.training.forward import CPU_FORWARD_COST_TOKENS, PairEmbedder
from repro.training.loss import InfoNCELoss
from repro.training.optim import linear_warmup_decay, make_optimizer
from repro.training.outputs import exclusive, save_model
from repro.training.progress import Progress
from repro.training.sampler import HybridBatchSampler
from repro.training.validation import evaluate, validation_batches

# Public names other modules and tests import from here (the config, counters and validation moved out).
__all__ = ["Progress", "TrainConfig", "evaluate", "train", "validation_batches"]


@dataclass
class _Data:
    """The run's data: the corpus, its train/validation split, the sampler and the fixed validation batches."""

    corpus: ParallelCorpus
    train_set: ParallelCorpus
    val_set: ParallelCorpus
    sampler: HybridBatchSampler
    val_batches: list[tuple[list[str], list[str]]]


@dataclass
class _Model:
    """The model and what trains it: device, tokenizer, forward pass, trainable weights, optimizer, loss."""

    device: torch.device
    model_path: str
    tokenizer: Any
    model: nn.Module
    embed: PairEmbedder
    trainable: dict[str, nn.Parameter]
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    loss_fn: InfoNCELoss

    def resumable(self, sampler: HybridBatchSampler) -> dict[str, Any]:
        """What a checkpoint saves and restores besides the counters and the best weights."""
        return {
            "model": self.model,
            "optimizer": self.optimizer,
            "scheduler": self.scheduler,
            "scaler": self.scaler,
            "sampler": sampler,
        }


# --- the run ------------------------------------------------------------------------------------


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
        pairs_per_second, seconds, stopped_early, resumed_at_step, and what was trained on.

    Raises:
        ReproError: bad corpus or model, a checkpoint made with another config, an out_dir
            that holds a finished run or is used by another run, or a diverged (non-finite) loss.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    checkpoint = out_dir / "checkpoint"
    with exclusive(out_dir):
        resuming = _prepare_folder(out_dir, checkpoint)
        data = _setup_data(config)
        run = _setup_model(config)

        # --- setup: resume from the checkpoint, or start from the seed ---
        state, best_weights, resumed_at = Progress(), {}, None
        if resuming:
            saved, best_weights = load_checkpoint(
                checkpoint, config=config.key_dump(), device=run.device, **run.resumable(data.sampler)
            )
            state = Progress(**saved)
            resumed_at = state.step
        else:
            _seed_everything(config.seed)

        def validate() -> None:
            """Validation loss now; the weights are kept when it is the best so far."""
            val_loss = evaluate(run.model, run.embed, run.loss_fn, data.val_batches)
            if state.record_eval(val_loss, config.early_stopping_patience):
                best_weights.update({name: p.detach().to("cpu", copy=True) for name, p in run.trainable.items()})

        if not state.evals:
            validate()  # step 0: the untrained model is the first candidate for "best"
        _loop(config, data, run, state, best_weights, validate, checkpoint, progress, on_step)
        summary = _finish(config, data, run, state, best_weights, out_dir, resumed_at, started)
        shutil.rmtree(checkpoint, ignore_errors=True)
        return summary


def _prepare_folder(out_dir: Path, checkpoint: Path) -> bool:
    """Repair a folder swap a killed run left half done; True when a checkpoint is there to resume from."""
    recover_dir(checkpoint)
    recover_dir(out_dir / "model")
    resuming = checkpoint.is_dir()
    if not resuming and (out_dir / "train.json").exists():
        raise ReproError(
            f"{out_dir} already holds a finished training run (train.json); choose another output folder or delete it"
        )
    return resuming


def _setup_data(config: TrainConfig) -> _Data:
    """Corpus, train/validation split by group (unseen languages removed from both), sampler, validation batches."""
    corpus = load_corpus(config.corpus)
    train_set, val_set = split_by_group(corpus, config.val_fraction, config.seed, config.holdout_languages)
    languages = train_set.languages
    sampler = HybridBatchSampler(train_set, languages, config.batch_size, config.alpha, config.seed)
    return _Data(corpus, train_set, val_set, sampler, validation_batches(val_set, languages, config))


def _setup_model(config: TrainConfig) -> _Model:
    """The model on its device, its forward pass, the trainable weights, optimizer, schedule, scaler and loss."""
    device = select_device(config.device)
    model_path = resolve_model(config.model)
    tokenizer, model = load_model(config.model, model_path)
    if config.packed and (why := packed_unsupported(model)):
        raise ReproError(f"packed training needs a BERT-family encoder: {why}; set packed: false")
    model.to(device)
    default_query, default_passage = default_prefixes(config.model, model_path)
    forward_cost = config.forward_cost_tokens
    if forward_cost == "auto":
        forward_cost = None if device.type == "cuda" else CPU_FORWARD_COST_TOKENS
    embed = PairEmbedder(
        model,
        tokenizer,
        query_prefix=default_query if config.query_prefix is None else config.query_prefix,
        passage_prefix=default_passage if config.passage_prefix is None else config.passage_prefix,
        max_length=config.max_length,
        device=device,
        autocast_dtype=autocast_dtype(config.precision, device),
        forward_cost=forward_cost,
        packed=config.packed,
    )
    if config.freeze_embeddings:
        # The word embeddings are most of a multilingual model (250k x 384 of e5-small's 118M
        # parameters). A small corpus touches few rows, and AdamW's decoupled weight decay
        # would still shrink every row; freezing also saves their optimizer state and time.
        model.get_input_embeddings().weight.requires_grad_(False)
    trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}
    optimizer = make_optimizer(model, config.lr, config.weight_decay)
    warmup = math.ceil(config.warmup_ratio * config.steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup_decay(warmup, config.steps))
    # fp16 gradients underflow without loss scaling; bf16 and fp32 do not need it.
    scaler = torch.amp.GradScaler(device.type, enabled=embed.autocast_dtype == torch.float16)
    loss_fn = InfoNCELoss(config.temperature, config.symmetric)
    return _Model(device, model_path, tokenizer, model, embed, trainable, optimizer, scheduler, scaler, loss_fn)


def _loop(
    config: TrainConfig,
    data: _Data,
    run: _Model,
    state: Progress,
    best_weights: dict[str, torch.Tensor],
    validate: Callable[[], None],
    checkpoint: Path,
    progress: bool,
    on_step: Callable[[int, float, nn.Module], None] | None,
) -> None:
    """The training loop: batch -> embed -> InfoNCE -> step; validation, early stopping and checkpoints."""
    from tqdm import tqdm

    segment_start = time.perf_counter()
    seconds_before = state.seconds
    batches = iter(data.sampler)
    run.model.train()
    with tqdm(
        total=config.steps, initial=state.step, desc="training", unit="step", file=sys.stderr, disable=not progress
    ) as bar:
        while state.step < config.steps and not state.stopped_early:
            batch = next(batches)
            step_start = time.perf_counter()
            # autocast inside embed; the loss runs in fp32
            loss = run.loss_fn(*run.embed(*data.train_set.batch_texts(batch)))
            loss_value = loss.item()
            if not math.isfinite(loss_value):  # stop before a NaN reaches the weights
                raise ReproError(
                    f"training diverged: loss is {loss_value} at step {state.step + 1}; lower lr or use precision fp32"
                )
            run.scaler.scale(loss).backward()
            run.scaler.step(run.optimizer)
            run.scaler.update()
            run.scheduler.step()
            run.optimizer.zero_grad(set_to_none=True)
            state.step += 1
            state.pairs += len(batch)
            state.train_seconds += time.perf_counter() - step_start
            state.loss_sum += loss_value
            state.loss_count += 1

            if state.step % config.eval_every == 0 or state.step == config.steps:
                validate()
            state.seconds = seconds_before + time.perf_counter() - segment_start
            if (
                config.checkpoint_every
                and state.step % config.checkpoint_every == 0
                and state.step < config.steps
                and not state.stopped_early
            ):
                save_checkpoint(
                    checkpoint,
                    config=config.key_dump(),
                    progress=asdict(state),
                    best_weights=best_weights,
                    **run.resumable(data.sampler),
                )
            bar.update(1)
            bar.set_postfix(
                loss=f"{loss_value:.4f}",
                pairs_s=f"{state.pairs / state.train_seconds:.1f}",
                val=f"{state.evals[-1]['val_loss']:.4f}",
            )
            if on_step is not None:
                on_step(state.step, loss_value, run.model)
    state.seconds = seconds_before + time.perf_counter() - segment_start


def _finish(
    config: TrainConfig,
    data: _Data,
    run: _Model,
    state: Progress,
    best_weights: dict[str, torch.Tensor],
    out_dir: Path,
    resumed_at: int | None,
    started: float,
) -> dict[str, Any]:
    """The best weights into the model, the HF folder, train.json; returns the summary."""
    from repro.provenance import provenance

    with torch.no_grad():
        for name, value in best_weights.items():
            run.trainable[name].copy_(value)
    training_info = {
        "base_model": config.model,
        "base_model_path": run.model_path,
        "query_prefix": run.embed.query_prefix,
        "passage_prefix": run.embed.passage_prefix,
        "pooling": "mean",
        "normalized": True,
        "best_step": state.best_step,
        "best_val_loss": state.best_val_loss,
    }
    save_model(out_dir / "model", run.model, run.tokenizer, training_info)
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
        "languages": list(data.train_set.languages),
        "holdout_languages": [lang for lang in config.holdout_languages if lang in data.corpus.languages],
        "train_examples": len(data.train_set),
        "val_examples": len(data.val_set),
        "val_pairs": sum(len(queries) for queries, _ in data.val_batches),
        "epochs": state.pairs / len(data.train_set),
        "device": str(run.device),
        "precision": precision_name(run.embed.autocast_dtype),
        "model_dir": str(out_dir / "model"),
        "wall_seconds_this_call": time.perf_counter() - started,
    }
    record = {"config": config.model_dump(), "summary": summary, "provenance": provenance()}
    atomic_write_text(out_dir / "train.json", json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return summary


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA; dropout draws from these generators
