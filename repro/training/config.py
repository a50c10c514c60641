"""The training run's settings (:class:`TrainConfig`): what decides a run's weights and its step key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from repro.data.corpora import DEFAULT_CORPUS
from repro.errors import ReproError
from repro.models.precision import Precision
from repro.training.corpus import DEFAULT_HOLDOUT
from repro.training.forward import CPU_FORWARD_COST_TOKENS


class TrainConfig(BaseModel):
    """Everything that decides a training run; two runs with equal configs give equal weights (CPU).

    Defaults follow the paper where it says something (AdamW, lr 3e-5, weight decay 0.01, early
    stopping on validation loss, el/vi unseen) and are sized for a 2-core CPU otherwise (the
    paper's batch is 100 on an A100; steps and max_length it does not state).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = "e5-small"
    corpus: str = Field(DEFAULT_CORPUS, description='"xnli" (XNLI dev+test) or the path of a JSONL parallel corpus')
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
