"""Fitting and measuring the text check's judge on hand-labelled claim / passage pairs.

Fitting code lives here, outside the package: repro/checks/text_support/support_model.py only
reads the fitted coefficients (support_model.json) that :func:`write_model` writes.

The pairs live in a YAML file (tests/data/text_support_pairs.yaml): each has a claim, a passage
(quoted, or ``{mirror: ANCHOR}``: the sentence of the paper's mirrored text that contains ANCHOR),
a label (supported, contradicted, unstated), a phenomenon and a split (tune or heldout).

- :func:`load_pairs` reads and resolves them;
- :func:`judge_pairs` runs :func:`repro.checks.text_support.support_model.judge` on each (with
  dense cosines when an encoder is given);
- :func:`fit` fits the support model's logistic coefficients and the alignment a contradiction
  cue needs on the **tuning** pairs only;
- :func:`evaluate` gives accuracy per label, the false-support rate (a contradicted or unstated
  claim called supported) and reliability bins (predicted support vs how often it was right).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from repro.checks.stats.logistic import logistic
from repro.checks.stats.reliability import reliability_bins
from repro.checks.text_support import support_model
from repro.checks.text_support.support_model import FEATURES, Judgement, judge
from repro.checks.text_support.words import tokens
from repro.errors import ReproError
from repro.sources.document import Document
from repro.sources.sentences import iter_sentences
from repro.sources.vocabulary import Vocabulary

if TYPE_CHECKING:
    from repro.models.encoder import Encoder

LABELS = ("supported", "contradicted", "unstated")
# Features that need the encoder (its cosine and the NLI head on its embeddings).
ENCODER_FEATURES = ("cosine", "entailment", "contradiction")
# Features that are evidence against support: their coefficients may not be positive.
AGAINST = ("novel_run", "numbers_missing", "names_missing", "cue", "contradiction")
PREDICTED = {"supported": "supported", "contradicted": "contradicted", "unstated": "not stated"}


@dataclass
class Pair:
    """One labelled claim / passage pair."""

    id: str
    split: str
    label: str
    phenomenon: str
    claim: str
    passage: str
    source: str


@dataclass
class Scored:
    """A pair with the judge's view of it."""

    pair: Pair
    judgement: Judgement

    @property
    def correct(self) -> bool:
        """Whether the verdict is the label."""
        return self.judgement.verdict == PREDICTED[self.pair.label]


@dataclass
class Report:
    """Accuracy per label, false support and reliability of one split."""

    n: int
    accuracy: dict[str, float]
    counts: dict[str, int]
    false_support: float
    false_support_n: tuple[int, int]
    by_phenomenon: dict[str, tuple[int, int]]
    confusion: dict[str, dict[str, int]]
    reliability: list[tuple[float, float, float, int]] = field(default_factory=list)  # (lo, hi, mean p, frac) + n
    errors: list[Scored] = field(default_factory=list)


def load_pairs(path: Path, mirror: Document | None) -> list[Pair]:
    """The labelled pairs of ``path``; ``{mirror: ANCHOR}`` passages are resolved in ``mirror``."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    sentences = [s for _, s in iter_sentences(mirror)] if mirror is not None else []
    out = []
    for item in raw["pairs"]:
        spec = item["passage"]
        if "mirror" in spec:
            if mirror is None:
                raise ReproError(f"pair {item['id']} quotes the paper mirror; give its document")
            hits = [s for s in sentences if spec["mirror"] in s]
            if len(hits) != 1:
                raise ReproError(f"pair {item['id']}: anchor {spec['mirror']!r} matches {len(hits)} sentences")
            passage, source = hits[0], "mirror"
        else:
            passage, source = spec["text"], spec.get("source", "")
        if item["label"] not in LABELS:
            raise ReproError(f"pair {item['id']}: unknown label {item['label']}")
        out.append(
            Pair(
                id=item["id"],
                split=item["split"],
                label=item["label"],
                phenomenon=item["phenomenon"],
                claim=item["claim"],
                passage=passage,
                source=source,
            )
        )
    return out


def evidence_pairs(path: Path, doc: Document, split: str = "tune") -> list[Pair]:
    """Labelled claims of another paper (bench/data/heldout-papers/claims/*.yaml) as pairs.

    Each claim's ``evidence`` (a quote of a sentence, or a Markdown table row ``| a | b |``) is
    resolved to the passage of ``doc`` the text check would judge: the sentence that contains it,
    or the table row written out as a sentence (:func:`repro.checks.text_support.search.passages_of`).
    """
    from repro.checks.text_support.search import passages_of

    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    items = [it for it in passages_of(doc) if it.kind != "sentence pair"]
    out = []
    for c in raw["claims"]:
        ev = " ".join(c["evidence"].split())
        if ev.startswith("|"):
            cells = [x.strip() for x in ev.strip("|").split("|") if x.strip()]
            hits = [it.text for it in items if it.kind == "table row" and all(f": {x}" in it.text for x in cells[1:])]
            hits = [h for h in hits if cells[0].lower() in h.lower()] or hits
        else:
            hits = [it.text for it in items if ev in " ".join(it.text.split())]
        if not hits:
            raise ReproError(f"{path}: claim {c['id']}: evidence not found in {doc.source}: {ev[:60]}")
        out.append(
            Pair(
                id=c["id"],
                split=split,
                label=c["label"],
                phenomenon=c["kind"],
                claim=c["claim"],
                passage=hits[0],
                source=str(doc.source),
            )
        )
    return out


def idf_weights(texts: list[str]) -> Callable[[str], float]:
    """IDF of each stem over ``texts`` (unseen stems get the largest IDF)."""
    df: dict[str, int] = {}
    for t in texts:
        for w in set(tokens(t)):
            df[w] = df.get(w, 0) + 1
    n = len(texts)
    idf = {w: math.log(1 + n / c) for w, c in df.items()}
    default = math.log(1 + n)
    return lambda s: idf.get(s, default)


def judge_pairs(
    pairs: list[Pair],
    background: list[str],
    encoder: Encoder | None = None,
    vocab: Vocabulary | None = None,
) -> list[Scored]:
    """Judge every pair; IDF comes from ``background`` (the document's sentences) plus the passages."""
    weight = idf_weights(background + sorted({p.passage for p in pairs}))
    cosines: list[float | None] = [None] * len(pairs)
    nli: list[tuple[float, float, float] | None] = [None] * len(pairs)
    if encoder is not None:
        from repro.checks.text_support.nli_head import load_head

        q = encoder.encode([p.claim.replace("[", "").replace("]", "") for p in pairs], "query", progress=False)
        d = encoder.encode([p.passage for p in pairs], "passage", progress=False)
        cosines = [float(x) for x in np.sum(q * d, axis=1)]
        nli = [tuple(float(x) for x in row) for row in load_head().probabilities(q, d)]  # type: ignore[misc]
    return [
        Scored(p, judge(p.claim, p.passage, weight=weight, cosine=c, vocab=vocab, nli=n))
        for p, c, n in zip(pairs, cosines, nli)
    ]


def fit(scored: list[Scored], with_encoder: bool) -> dict[str, Any]:
    """Coefficients of the support model and the alignment a cue needs, from **tuning** pairs only.

    Raises:
        ReproError: when a held-out pair is passed (fitting on it would void the evaluation).
    """
    if any(s.pair.split != "tune" for s in scored):
        raise ReproError("fit only on the tuning pairs; the held-out pairs must stay unseen")
    names = [f for f in FEATURES if with_encoder or f not in ENCODER_FEATURES]
    y = np.array([float(s.pair.label == "supported") for s in scored])
    # The constant "bias" feature is the solver's own unpenalised bias.
    assert names[0] == "bias"
    while True:
        X = np.array([[s.judgement.features[f] for f in names] for s in scored])
        coef_rest, bias = logistic(X[:, 1:], y, np.ones(len(y)), l2=0.5)
        w = np.concatenate([[bias], coef_rest])
        # Evidence against support may not raise it: a feature fitted with the wrong sign (it stands
        # in for another one it is correlated with) is left out and the rest refitted.
        wrong = [f for f, v in zip(names, w) if f in AGAINST and v > 0]
        if not wrong:
            break
        names = [f for f in names if f not in wrong]
    coef = {f: 0.0 for f in FEATURES}
    coef.update({f: round(float(v), 3) for f, v in zip(names, w)})
    # The alignment from which a cue means "contradicted": the one that classifies the tuning
    # pairs with a cue best (ties: the highest, the most conservative).
    cued = [s for s in scored if s.judgement.reasons]
    best, best_ok = support_model.ALIGNED_AT, -1
    for at in np.arange(0.2, 0.91, 0.05):
        ok = sum((s.judgement.alignment >= at) == (s.pair.label == "contradicted") for s in cued)
        if ok >= best_ok:
            best, best_ok = round(float(at), 2), ok
    return {"coef": coef, "aligned_at": best}


def write_model(with_encoder: dict[str, Any], without_encoder: dict[str, Any], path: Path | None = None) -> Path:
    """Write two :func:`fit` results as the support model's coefficient file (default: the committed one)."""
    import json

    path = path or support_model.MODEL_FILE
    raw = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    raw.update(
        features=list(FEATURES),
        coef=with_encoder["coef"],
        coef_no_encoder=without_encoder["coef"],
        aligned_at_refit={"with_encoder": with_encoder["aligned_at"], "no_encoder": without_encoder["aligned_at"]},
    )
    path.write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
    return path


def evaluate(scored: list[Scored], bins: int = 5) -> Report:
    """Accuracy per label, false-support rate, confusion, per-phenomenon counts and reliability bins."""
    accuracy, counts = {}, {}
    confusion: dict[str, dict[str, int]] = {
        lab: {v: 0 for v in ("supported", "contradicted", "not stated")} for lab in LABELS
    }
    for s in scored:
        confusion[s.pair.label][s.judgement.verdict] += 1
    for lab in LABELS:
        these = [s for s in scored if s.pair.label == lab]
        counts[lab] = len(these)
        accuracy[lab] = sum(s.correct for s in these) / len(these) if these else float("nan")
    negatives = [s for s in scored if s.pair.label != "supported"]
    fs = sum(s.judgement.verdict == "supported" for s in negatives)
    by_phen: dict[str, tuple[int, int]] = {}
    for s in scored:
        ok, n = by_phen.get(s.pair.phenomenon, (0, 0))
        by_phen[s.pair.phenomenon] = (ok + s.correct, n + 1)
    rel = [
        tuple(b)
        for b in reliability_bins(
            ((s.judgement.support, s.pair.label == "supported") for s in scored), np.linspace(0, 1, bins + 1)
        )
    ]
    return Report(
        n=len(scored),
        accuracy=accuracy,
        counts=counts,
        false_support=fs / len(negatives) if negatives else 0.0,
        false_support_n=(fs, len(negatives)),
        by_phenomenon=by_phen,
        confusion=confusion,
        reliability=rel,
        errors=[s for s in scored if not s.correct],
    )
