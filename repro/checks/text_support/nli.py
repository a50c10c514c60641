"""An NLI cross-encoder as the text check's judge, for users with a Hugging Face hub (or a local model).

``TextCheck(nli="cross-encoder/nli-deberta-v3-small")`` (or a local folder saved with
``save_pretrained``) replaces the project's own rules by a sequence-pair classifier: the passage
is the premise, the claim the hypothesis, and the model's softmax over its labels decides --
**supported** when *entailment* is the most likely label and at least 0.5, **contradicted** when
*contradiction* is, otherwise not stated. Labels are found by name in the model's
``config.id2label`` ("entailment", "contradiction", "neutral", any case), so models that order
them differently work alike. One rule of the project's own judge stays: a claim whose numbers the
passage does not carry is never supported (:mod:`repro.checks.text_support.numbers_match`). The
support probability is the model's P(entailment), uncalibrated by this project.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from repro.checks.text_support.numbers_match import match_numbers
from repro.checks.text_support.support_model import Judgement, alignment
from repro.checks.text_support.words import tokens
from repro.errors import ReproError, first_line

SUPPORTED_AT = 0.5


class NLIJudge:
    """A sequence-pair classifier with entailment / contradiction labels (see the module docstring)."""

    def __init__(self, model: str, batch_size: int = 16, max_length: int = 256) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.model_id = model
        local = Path(model).expanduser()
        source = str(local) if local.is_dir() else model
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            self.model = AutoModelForSequenceClassification.from_pretrained(source)
        except Exception as exc:  # noqa: BLE001 - transformers raises OSError, ValueError, HTTP errors...
            raise ReproError(
                f"cannot load the NLI model {model} ({first_line(exc)}); give a local folder or a Hugging Face "
                "id reachable from here"
            ) from None
        self.model.eval()
        labels = {int(i): str(name).lower() for i, name in self.model.config.id2label.items()}
        self.entail = next((i for i, n in labels.items() if n.startswith("entail")), None)
        self.contra = next((i for i, n in labels.items() if n.startswith("contra")), None)
        if self.entail is None or self.contra is None:
            raise ReproError(
                f"{model} is not an NLI model: its labels are {sorted(labels.values())}, "
                "not entailment / contradiction / neutral"
            )
        self.batch_size = batch_size
        self.max_length = max_length

    def probabilities(self, claim: str, passages: list[str]) -> np.ndarray:
        """Softmax over the model's labels for (premise = passage, hypothesis = claim), one row each."""
        import torch

        rows = []
        for i in range(0, len(passages), self.batch_size):
            batch = passages[i : i + self.batch_size]
            enc = self.tokenizer(
                batch,
                [claim] * len(batch),
                truncation=True,
                max_length=self.max_length,
                padding=True,
                return_tensors="pt",
            )
            with torch.no_grad():
                logits = self.model(**enc).logits
            rows.append(torch.softmax(logits.float(), dim=-1).numpy())
        return np.concatenate(rows) if rows else np.zeros((0, len(self.model.config.id2label)))

    def judge_many(
        self, claim: str, passages: list[str], weight: Callable[[str], float] | None = None
    ) -> list[Judgement]:
        """A :class:`~repro.checks.text_support.support_model.Judgement` per passage, decided by the model."""
        weight = weight or (lambda s: 1.0)
        probs = self.probabilities(claim, passages)
        c_toks = tokens(claim)
        out = []
        for passage, row in zip(passages, probs):
            entail, contra = float(row[self.entail]), float(row[self.contra])
            numbers = match_numbers(claim, passage)
            top = int(np.argmax(row))
            reasons: list[str] = []
            if top == self.contra and contra >= SUPPORTED_AT:
                verdict = "contradicted"
                reasons.append(f"the NLI model finds a contradiction (p = {contra:.2f})")
            elif top == self.entail and entail >= SUPPORTED_AT and numbers.status in ("none", "match"):
                verdict = "supported"
            else:
                verdict = "not stated"
            out.append(
                Judgement(
                    verdict=verdict,
                    support=round(entail, 4),
                    alignment=round(alignment(c_toks, tokens(passage), weight), 4),
                    reasons=reasons,
                    numbers=numbers,
                    features={"entailment": entail, "contradiction": contra},
                )
            )
        return out


@functools.lru_cache(maxsize=4)
def load_nli(model: str) -> NLIJudge:
    """The NLI judge for ``model`` (a Hugging Face id or a local folder), loaded once per process."""
    return NLIJudge(model)
