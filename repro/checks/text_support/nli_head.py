"""The offline NLI judge: entailment / neutral / contradiction from the e5 embeddings retrieval already has.

The text check embeds the claim (``query: ``) and every passage (``passage: ``) to retrieve
evidence; this head reads those two vectors ``u`` (claim) and ``v`` (passage) as
``[u, v, |u - v|, u * v]`` and returns P(entailment), P(neutral), P(contradiction). It costs one
small matrix product per passage, nothing from a hub, and no second encoder pass.

It was fitted by bench/fit_nli_head.py on the labelled XNLI 1.0 dev pairs of the data mirror
(premise = passage, hypothesis = claim); the weights (float16) and the record of how they were
fitted (data, digest, encoder, cross-validated accuracy of every candidate) are committed beside
this module as nli_head.npz / nli_head.json. A frozen bi-encoder sees no token-level interaction:
it is good at "says the same thing in other words" and poor at "says the opposite" (the record's
confusion matrix shows it), so the text check keeps the project's rules for numbers, units,
directions, swapped names and quantifiers and uses the head's entailment probability for
paraphrase (:mod:`repro.checks.text_support.support_model`).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from repro.errors import ReproError

WEIGHTS = Path(__file__).with_name("nli_head.npz")
LABELS = ("entailment", "neutral", "contradiction")


def pair_features(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``[u, v, |u - v|, u * v]`` row by row (``u`` the claims, ``v`` the passages, both ``[n, d]``)."""
    u = np.atleast_2d(np.asarray(u, dtype=np.float32))
    v = np.atleast_2d(np.asarray(v, dtype=np.float32))
    return np.hstack([u, v, np.abs(u - v), u * v])


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Head:
    """A fitted head: standardisation, then linear logits or one hidden ReLU layer."""

    def __init__(self, arrays: dict[str, np.ndarray], record: dict | None = None) -> None:
        self.arrays = {k: np.asarray(a, dtype=np.float32) for k, a in arrays.items()}
        self.record = record or {}

    def probabilities_from_features(self, X: np.ndarray) -> np.ndarray:
        """[n, 3] probabilities (entailment, neutral, contradiction) of feature rows."""
        a = self.arrays
        h = (np.asarray(X, dtype=np.float32) - a["mean"]) / a["scale"]
        if "W1" in a:
            h = np.maximum(h @ a["W1"] + a["b1"], 0.0)
        return _softmax(h @ a["W"] + a["b"])

    def probabilities(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """[n, 3] probabilities for claims ``u`` against passages ``v`` (unit e5 rows)."""
        return self.probabilities_from_features(pair_features(u, v))

    def save(self, path: Path, record: dict) -> None:
        """Write the weights (float16) to ``path`` and ``record`` beside it as JSON."""
        path = Path(path)
        np.savez_compressed(path, **{k: a.astype(np.float16) for k, a in self.arrays.items()})
        path.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def _standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = X.mean(axis=0)
    scale = X.std(axis=0) + 1e-6
    return mean, scale


class LinearHead(Head):
    """Multinomial logistic regression (scikit-learn) on standardised pair features."""

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, C: float = 1.0) -> LinearHead:
        """Fit on feature rows ``X`` and labels ``y`` (indices into :data:`LABELS`)."""
        from sklearn.linear_model import LogisticRegression

        mean, scale = _standardise(X)
        lr = LogisticRegression(C=C, max_iter=2000).fit((X - mean) / scale, y)
        return cls({"mean": mean, "scale": scale, "W": lr.coef_.T, "b": lr.intercept_})


class MLPHead(Head):
    """One hidden ReLU layer (scikit-learn's MLPClassifier, early stopping) on standardised features."""

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, hidden: int = 128, alpha: float = 1e-3) -> MLPHead:
        """Fit on feature rows ``X`` and labels ``y`` (indices into :data:`LABELS`); seeded."""
        from sklearn.neural_network import MLPClassifier

        mean, scale = _standardise(X)
        mlp = MLPClassifier(
            hidden_layer_sizes=(hidden,), alpha=alpha, early_stopping=True, random_state=0, max_iter=300
        ).fit((X - mean) / scale, y)
        return cls(
            {
                "mean": mean,
                "scale": scale,
                "W1": mlp.coefs_[0],
                "b1": mlp.intercepts_[0],
                "W": mlp.coefs_[1],
                "b": mlp.intercepts_[1],
            }
        )


@functools.lru_cache(maxsize=2)
def load_head(path: Path = WEIGHTS) -> Head:
    """The committed head (or one saved at ``path``), loaded once per process."""
    path = Path(path)
    if not path.is_file():
        raise ReproError(f"NLI head weights {path} not found; refit them with `python bench/fit_nli_head.py`")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    record_path = path.with_suffix(".json")
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    return Head(arrays, record)
