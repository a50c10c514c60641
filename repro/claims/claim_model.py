"""The learned part of claim extraction: is a sentence a claim, and of which type.

Two regularised linear models over the same inputs, fitted by bench/claim_fit.py (outside the package) on
every labelled sentence of bench/data/extraction_*.yaml and committed in ``claim_model.json``
beside this file (with the hashes of the encoder weights and of the training data they were
fitted from; ``python bench/fit_extraction.py`` refits it, a test checks the refit reproduces it):

- **claim**: L2 logistic regression, claim vs not a claim; a sentence is a candidate when its
  probability reaches the fitted :attr:`LinearModel.threshold`;
- **type**: one-vs-rest L2 logistic regressions over the claim types, fitted on claims only; the
  type is the most probable one.

Inputs, each column standardised with the training mean and spread: the interpretable cue
features of :func:`repro.claims.extract.features` (0/1 flags and counts), the type the rules of
:mod:`repro.claims.claim_types` give (one-hot), and the sentence embedding of the offline default
encoder (multilingual-e5-small, ``query: `` prefix, float32 on the CPU, so that embeddings and
therefore scores do not depend on the machine's GPU or bf16 support). When the encoder cannot be
loaded, the **cue-only** models (same fit without the embedding) are used, with a warning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, Field

from repro.errors import ReproError

if TYPE_CHECKING:
    from repro.models.encoder import Encoder

MODEL_FILE = Path(__file__).with_name("claim_model.json")
# How sentences are embedded for the classifier (part of what the coefficients were fitted for).
ENCODER = {"model": "e5-small", "kind": "query", "max_length": 128, "precision": "fp32", "device": "cpu"}


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def calibrate(p: np.ndarray, ab: Sequence[float]) -> np.ndarray:
    """Platt scaling of probabilities ``p``: ``sigmoid(a * logit(p) + b)`` (monotone for a > 0)."""
    return sigmoid(ab[0] * logit(np.asarray(p, dtype=float)) + ab[1])


class LinearModel(BaseModel):
    """Standardisation, a claim-vs-not logistic model and one-vs-rest type models over the same inputs."""

    inputs: list[str] = Field(description="names of the non-embedding input columns, in order")
    embedding: bool = Field(description="whether the encoder's embedding follows those columns")
    mean: list[float]
    scale: list[float]
    l2: float
    threshold: float = Field(description="least confidence of a candidate (on the calibrated scale)")
    calibration: list[float] = Field(
        default=[1.0, 0.0],
        description="Platt scaling (a, b): confidence = sigmoid(a * logit(p) + b), fitted on leave-one-set-out p",
    )
    coef: list[float]
    bias: float
    type_l2: float
    types: list[str]
    type_coef: list[list[float]]
    type_bias: list[float]

    def standardise(self, X: np.ndarray) -> np.ndarray:
        return (X - np.asarray(self.mean)) / np.asarray(self.scale)

    def claim_probability(self, X: np.ndarray) -> np.ndarray:
        """P(claim) for raw input rows ``X``."""
        return sigmoid(self.standardise(X) @ np.asarray(self.coef) + self.bias)

    def confidence(self, X: np.ndarray) -> np.ndarray:
        """Calibrated P(claim) for raw input rows ``X``: the fraction of such sentences that are claims,
        as estimated on sets the model was not fitted on (see bench/claim_fit.py)."""
        return calibrate(self.claim_probability(X), self.calibration)

    def type_probabilities(self, X: np.ndarray) -> np.ndarray:
        """One-vs-rest probabilities ``[n, len(types)]`` for raw input rows ``X``."""
        Z = self.standardise(X)
        return sigmoid(Z @ np.asarray(self.type_coef).T + np.asarray(self.type_bias))

    def predict_types(self, X: np.ndarray) -> list[str]:
        return [self.types[i] for i in np.argmax(self.type_probabilities(X), axis=1)]


class TypeModel(BaseModel):
    """One-vs-rest L2 logistic regressions over the claim types, on their own inputs.

    Fitted by bench/claim_fit.py on the claims of labelled *papers* of several fields (and the
    template sets), with the field-free inputs of :func:`repro.claims.claim_types.type_features`
    (section kind, cue shapes), the claim model's cue features, the rules' type and (optionally)
    the sentence embedding. Coefficients are stored at full precision, so that the committed file
    gives exactly the fitter's predictions.
    """

    inputs: list[str] = Field(description="names of the non-embedding input columns, in order")
    embedding: bool
    emb_shrink: float = 1.0
    l2: float
    mean: list[float]
    scale: list[float]
    types: list[str]
    coef: list[list[float]]
    bias: list[float]

    def probabilities(self, X: np.ndarray) -> np.ndarray:
        """One-vs-rest probabilities ``[n, len(types)]`` for raw input rows ``X``."""
        Z = (X - np.asarray(self.mean)) / np.asarray(self.scale)
        return sigmoid(Z @ np.asarray(self.coef).T + np.asarray(self.bias))

    def predict(self, X: np.ndarray) -> list[str]:
        """The most probable type of each row."""
        return [self.types[i] for i in np.argmax(self.probabilities(X), axis=1)]


class ClaimModel(BaseModel):
    """What ``claim_model.json`` holds."""

    version: int = 1
    encoder: dict[str, Any] = Field(description="the encoder and the SHA-256 of its weights")
    training: dict[str, Any] = Field(description="training files and their SHA-256, sentence counts")
    with_encoder: LinearModel
    cue_only: LinearModel
    type_training: dict[str, Any] | None = Field(
        default=None, description="the type models' training data, hashes and selection"
    )
    types_with_encoder: TypeModel | None = Field(
        default=None, description="the type model used with the encoder (else the LinearModel's type models)"
    )
    types_cue_only: TypeModel | None = None

    def type_model(self, with_encoder: bool) -> TypeModel | None:
        """The separate type model for scoring with or without the encoder, if the file has one."""
        return self.types_with_encoder if with_encoder else self.types_cue_only

    def save(self, path: Path = MODEL_FILE) -> None:
        path.write_text(json.dumps(self.model_dump(), indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> ClaimModel:
    try:
        return ClaimModel.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReproError(
            f"cannot read the claim model {path}: {exc}; refit it with python bench/fit_extraction.py"
        ) from exc


def load_model(path: Path = MODEL_FILE) -> ClaimModel:
    """The committed claim model (cached per file version)."""
    if not path.is_file():
        raise ReproError(f"no claim model at {path}; fit one with python bench/fit_extraction.py")
    return _load(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=1)
def default_encoder() -> Encoder:
    """The encoder the claim model's embeddings come from (loaded once per process)."""
    from repro.models.encoder import Encoder

    return Encoder(
        ENCODER["model"], device=ENCODER["device"], precision=ENCODER["precision"], max_length=ENCODER["max_length"]
    )


# Citations carry who was cited, not what kind of statement a sentence is: "(Fan et al., 2021;
# Kim et al., 2021)", "[3, 7]" are left out of the text that is embedded (the cue features still
# see them).
_CITATION = re.compile(r"\s*\((?:[^()]*?\b(?:19|20)\d\d[a-z]?)(?:[^()]*)\)|\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")


def embedding_text(sentence: str) -> str:
    """The sentence as it is embedded: citations left out, spaces collapsed."""
    return " ".join(_CITATION.sub("", sentence).split()) or sentence


def embed(sentences: Sequence[str], encoder: Encoder | None = None) -> np.ndarray:
    """Embeddings ``[n, dim]`` of ``sentences`` (:func:`embedding_text`) as the claim model was fitted with."""
    enc = encoder or default_encoder()
    texts = [embedding_text(s) for s in sentences]
    return enc.encode(texts, ENCODER["kind"], progress=False).astype(np.float64)


def input_rows(inputs: Sequence[str], feats: Sequence[dict[str, float]], rule_types: Sequence[str]) -> np.ndarray:
    """The non-embedding input columns: features by name, ``rule_<type>`` one-hot of the rules' type."""
    out = np.zeros((len(feats), len(inputs)))
    for i, (f, rule) in enumerate(zip(feats, rule_types)):
        for j, name in enumerate(inputs):
            out[i, j] = float(rule == name[5:]) if name.startswith("rule_") else f[name]
    return out
