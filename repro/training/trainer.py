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
:mod:`repro.training.checkpoint`.

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

import contextlib
import json
import math
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
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from torch import nn

from repro.atomic import atomic_write_dir, atomic_write_text, recover_dir
from repro.errors import ReproError
from repro.models.device import select_device
from repro.models.encoder import load_model
from repro.models.packed import packed_unsupported
from repro.models.precision import Precision, autocast_dtype, precision_name
from repro.models.registry import default_prefixes, resolve_model
from repro.training.checkpoint import load_checkpoint, save_checkpoint
from repro.training.corpus import DEFAULT_HOLDOUT, ParallelCorpus, load_jsonl_corpus, split_by_group, xnli_corpus
from repro.training.forward import CPU_FORWARD_COST_TOKENS, PairEmbedder
from repro.training.loss import InfoNCELoss
from repro.training.optim import linear_warmup_decay, make_optimizer
from repro.training.sampler import HybridBatchSampler

# --- config -------------------------------------------------------------------------------------


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
    precision: Precision = "auto"
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
    packed: bool = Field(
        False,
        description="linear layers on real tokens only, attention per length group, 16-bit dropout masks "
        "(repro.models.packed): faster on CPU; other dropout draws, so other weights than packed: false; "
        "BERT-family encoders only",
    )
    device: str | None = None

    def key_dump(self) -> dict[str, Any]:
        """The settings as a step key hashes them: fields added later are left out at their defaults.

        So every step keyed before such a field existed keeps its key (and its published result).
        """
        return self.model_dump(mode="json", exclude={k for k, v in _NEW_TRAIN_FIELDS.items() if getattr(self, k) == v})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build a config from user input; an invalid field is a one-line :class:`ReproError`."""
        try:
            return cls(**dict(data))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "config"
            raise ReproError(f"invalid training config: {where}: {first['msg']}") from None


# Settings added after steps were published, with the default that computes what those steps did.
_NEW_TRAIN_FIELDS: dict[str, Any] = {"packed": False}


@dataclass
class Progress:
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

    def record_eval(self, val_loss: float, patience: int) -> bool:
        """Log a validation loss at the current step; True if it is the best so far (keep these weights).

        ``patience`` evaluations in a row without improvement set ``stopped_early``.
        """
        train_loss = self.loss_sum / self.loss_count if self.loss_count else None
        self.evals.append({"step": self.step, "val_loss": val_loss, "train_loss": train_loss})
        self.loss_sum, self.loss_count = 0.0, 0
        if val_loss < self.best_val_loss:
            self.best_step, self.best_val_loss, self.bad_evals = self.step, val_loss, 0
            return True
        self.bad_evals += 1
        self.stopped_early = self.bad_evals >= patience
        return False


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
    from tqdm import tqdm

    from repro.provenance import provenance

    started = time.perf_counter()
    out_dir = Path(out_dir)
    checkpoint = out_dir / "checkpoint"
    with _exclusive(out_dir):
        # --- setup: the output folder (a killed run may have left a folder swap half done) ---
        recover_dir(checkpoint)
        recover_dir(out_dir / "model")
        resuming = checkpoint.is_dir()
        if not resuming and (out_dir / "train.json").exists():
            raise ReproError(
                f"{out_dir} already holds a finished training run (train.json); choose another output folder or delete it"
            )

        # --- setup: data (train/validation split by group, unseen languages removed from both) ---
        corpus = xnli_corpus() if config.corpus == "xnli" else load_jsonl_corpus(config.corpus)
        train_set, val_set = split_by_group(corpus, config.val_fraction, config.seed, config.holdout_languages)
        languages = train_set.languages
        sampler = HybridBatchSampler(train_set, languages, config.batch_size, config.alpha, config.seed)
        val_batches = validation_batches(val_set, languages, config)

        # --- setup: model ---
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

        # --- setup: optimizer, schedule, loss ---
        optimizer = make_optimizer(model, config.lr, config.weight_decay)
        warmup = math.ceil(config.warmup_ratio * config.steps)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup_decay(warmup, config.steps))
        # fp16 gradients underflow without loss scaling; bf16 and fp32 do not need it.
        scaler = torch.amp.GradScaler(device.type, enabled=embed.autocast_dtype == torch.float16)
        loss_fn = InfoNCELoss(config.temperature, config.symmetric)

        # --- setup: resume from the checkpoint, or start from the seed ---
        resumable = {
            "model": model,
            "optimizer": optimizer,
            "scheduler": scheduler,
            "scaler": scaler,
            "sampler": sampler,
        }
        state, best_weights, resumed_at = Progress(), {}, None
        if resuming:
            saved, best_weights = load_checkpoint(checkpoint, config=config.key_dump(), device=device, **resumable)
            state = Progress(**saved)
            resumed_at = state.step
        else:
            _seed_everything(config.seed)

        def validate() -> None:
            """Validation loss now; the weights are kept when it is the best so far."""
            if state.record_eval(evaluate(model, embed, loss_fn, val_batches), config.early_stopping_patience):
                best_weights.update({name: p.detach().to("cpu", copy=True) for name, p in trainable.items()})

        if not state.evals:
            validate()  # step 0: the untrained model is the first candidate for "best"

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
                loss = loss_fn(*embed(*train_set.batch_texts(batch)))  # autocast inside embed; the loss runs in fp32
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
                        **resumable,
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

        # --- end: the best weights into the model, HF folder, train.json; then drop the checkpoint ---
        with torch.no_grad():
            for name, value in best_weights.items():
                trainable[name].copy_(value)
        training_info = {
            "base_model": config.model,
            "base_model_path": model_path,
            "query_prefix": embed.query_prefix,
            "passage_prefix": embed.passage_prefix,
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
            "precision": precision_name(embed.autocast_dtype),
            "model_dir": str(out_dir / "model"),
            "wall_seconds_this_call": time.perf_counter() - started,
        }
        record = {"config": config.model_dump(), "summary": summary, "provenance": provenance()}
        atomic_write_text(out_dir / "train.json", json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        shutil.rmtree(checkpoint, ignore_errors=True)
        return summary


def evaluate(
    model: nn.Module,
    embed: Callable[[list[str], list[str]], tuple[torch.Tensor, torch.Tensor]],
    loss_fn: InfoNCELoss,
    batches: Sequence[tuple[list[str], list[str]]],
) -> float:
    """Validation loss: the mean InfoNCE loss per pair over fixed batches, in eval mode (no dropout)."""
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for queries, passages in batches:
            total += loss_fn(*embed(queries, passages)).item() * len(queries)
    model.train()
    return total / sum(len(queries) for queries, _ in batches)


# --- helpers ------------------------------------------------------------------------------------


def validation_batches(
    val_set: ParallelCorpus, languages: Sequence[str], config: TrainConfig
) -> list[tuple[list[str], list[str]]]:
    """``val_pairs`` fixed (queries, passages) batches, hybrid at the run's alpha, drawn once, deterministically.

    Fixed batches matter: with in-batch negatives the loss depends on which pairs share a batch,
    so re-drawing them would add noise to the comparison between evaluations.

    Raises:
        ReproError: the validation split has fewer than ``val_pairs`` examples.
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
            batches.append(val_set.batch_texts(batch))
        left -= len(batch)
        if left <= 0:
            return batches
    raise AssertionError("unreachable: the sampler is infinite")


@contextlib.contextmanager
def _exclusive(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir``'s lock for the run: a second run on the same folder fails at once."""
    from filelock import FileLock, Timeout

    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_dir / ".train.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ReproError(
            f"another training run is using {out_dir}; wait for it or choose another output folder"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA; dropout draws from these generators


def _save_model(path: Path, model: nn.Module, tokenizer: Any, info: dict[str, Any]) -> None:
    """The model as a standard HF folder (weights, config, tokenizer) plus training_info.json, atomically."""

    def write(folder: Path) -> None:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        (folder / "training_info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

    atomic_write_dir(path, write)
