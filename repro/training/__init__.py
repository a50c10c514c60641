"""Fine-tuning with hybrid batches (arXiv 2408.10536): corpus, sampler, loss, trainer.

- :mod:`repro.training.corpus`: N-way parallel (query, passage) corpora (XNLI or JSONL), group-aware
  train/validation split, held-out languages.
- :mod:`repro.training.sampler`: :class:`HybridBatchSampler`, X-X-mono with probability alpha, else X-Y.
- :mod:`repro.training.loss`: :class:`InfoNCELoss`, in-batch negatives over cosine similarity.
- :mod:`repro.training.forward`: the training forward pass (length-grouped, the Encoder's pooling and precision).
- :mod:`repro.training.optim`: AdamW parameter groups and the linear warm-up/decay schedule.
- :mod:`repro.training.checkpoint`: save and restore everything a resumed run needs.
- :mod:`repro.training.trainer`: :func:`train` (checkpointed, resumable); its settings :class:`TrainConfig` in :mod:`repro.training.config`.
"""

from repro.training.corpus import (
    DEFAULT_HOLDOUT,
    Example,
    ParallelCorpus,
    load_jsonl_corpus,
    save_jsonl_corpus,
    split_by_group,
    xnli_corpus,
)
from repro.training.loss import InfoNCELoss
from repro.training.sampler import BatchItem, HybridBatchSampler
from repro.training.trainer import TrainConfig, train

__all__ = [
    "DEFAULT_HOLDOUT",
    "BatchItem",
    "Example",
    "HybridBatchSampler",
    "InfoNCELoss",
    "ParallelCorpus",
    "TrainConfig",
    "load_jsonl_corpus",
    "save_jsonl_corpus",
    "split_by_group",
    "train",
    "xnli_corpus",
]
