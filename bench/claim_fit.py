"""Fitting the claim model (:mod:`repro.claims.claim_model`) on labelled sentences, with leave-one-set-out CV.

Training data: the template sets of bench/data/extraction_*.yaml, each a *set* (one or two
domains written by one person at one time). Every sentence the first ``papers`` generated papers
contain (:func:`bench.extraction_eval.labelled_sentences`) is an example, each text once;
a template's filled variants share a weight of 1 (so a template with many slot values counts as
much as one without). Columns: :data:`repro.claims.extract.FEATURES`, the rules' type one-hot, and
(for the ``with_encoder`` model) the e5 embedding; each standardised with the training mean and
spread.

Hyper-parameters -- the L2 penalty of the claim model, its threshold, the L2 penalty of the type
models -- are chosen by **leave-one-set-out** cross-validation: fit on all sets but one, predict the
one left out, pool the out-of-fold predictions; the claim model's (penalty, threshold) maximises
the F1 of claim vs not (ties: the stronger penalty, then the higher threshold), the type models'
penalty the weighted type accuracy on claims. :func:`nested_folds` gives, for each set, the model
chosen and fitted without it (inner leave-one-set-out over the others): what bench/eval_extraction.py
``--cv`` evaluates through the whole PDF pipeline as a cross-domain estimate.

Everything is deterministic: Newton's method from zero, fixed grids, embeddings in float32 on the CPU.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.extraction_eval import labelled_sentences
from repro.checks.stats.logistic import logistic
from repro.claims.claim_model import (
    ENCODER,
    ClaimModel,
    LinearModel,
    calibrate,
    default_encoder,
    embed,
    input_rows,
    logit,
)
from repro.claims.claim_types import CLAIM_TYPES, claim_type
from repro.claims.extract import FEATURES, features
from repro.errors import ReproError
from repro.sources.vocabulary import load_vocabulary

if TYPE_CHECKING:
    from repro.models.encoder import Encoder

INPUTS: tuple[str, ...] = (*FEATURES, *(f"rule_{t}" for t in CLAIM_TYPES))
L2_GRID: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
EMB_SHRINK_GRID: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
THRESHOLD_GRID: tuple[float, ...] = tuple(round(float(t), 2) for t in np.arange(0.2, 0.951, 0.05))


@dataclass
class Examples:
    """Labelled sentences as arrays."""

    texts: list[str]
    types: list[str | None]
    groups: np.ndarray  # set index of each example
    set_names: list[str]
    weights: np.ndarray
    cues: np.ndarray  # [n, len(INPUTS)]
    emb: np.ndarray | None  # [n, dim]

    @property
    def y(self) -> np.ndarray:
        return np.array([t is not None for t in self.types], dtype=float)

    def X(self, with_encoder: bool) -> np.ndarray:
        if not with_encoder:
            return self.cues
        assert self.emb is not None
        return np.hstack([self.cues, self.emb])

    def subset(self, mask: np.ndarray) -> Examples:
        return Examples(
            texts=[t for t, m in zip(self.texts, mask) if m],
            types=[t for t, m in zip(self.types, mask) if m],
            groups=self.groups[mask],
            set_names=self.set_names,
            weights=self.weights[mask],
            cues=self.cues[mask],
            emb=None if self.emb is None else self.emb[mask],
        )


def data_hash(files: dict[str, Path]) -> dict[str, Any]:
    """SHA-256 of each training file and of all of them together (names and bytes, in name order)."""
    per = {name: hashlib.sha256(Path(p).read_bytes()).hexdigest() for name, p in sorted(files.items())}
    h = hashlib.sha256()
    for name, digest in per.items():
        h.update(f"{name}:{digest}\n".encode())
    return {"files": per, "sha256": h.hexdigest()}


def load_examples(files: dict[str, Path], papers: int = 4, encoder: Encoder | bool | None = None) -> Examples:
    """The examples of ``files`` (set name -> template YAML); ``encoder=False`` skips the embeddings."""
    vocab = load_vocabulary()
    texts, types, groups, weights, sections, templates = [], [], [], [], [], []
    names = sorted(files)
    for g, name in enumerate(names):
        labs = labelled_sentences(files[name], papers=papers)
        per_template: dict[str, int] = {}
        for lab in labs:
            per_template[lab.template] = per_template.get(lab.template, 0) + 1
        for lab in labs:
            texts.append(lab.text)
            types.append(lab.type)
            groups.append(g)
            weights.append(1.0 / per_template[lab.template])
            sections.append(lab.section)
            templates.append(lab.template)
    feats, rules = [], []
    for text, section in zip(texts, sections):
        mentions = vocab.find(text)
        feats.append(features(text, section, mentions))
        rules.append(claim_type(text, mentions, section))
    emb = None
    if encoder is not False:
        emb = embed(texts, encoder if encoder is not None and encoder is not True else default_encoder())
    return Examples(
        texts=texts,
        types=types,
        groups=np.array(groups),
        set_names=names,
        weights=np.array(weights),
        cues=input_rows(INPUTS, feats, rules),
        emb=emb,
    )


def _standardisation(X: np.ndarray, emb_shrink: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Column means and spreads; embedding columns (after the cue inputs) spread ``emb_shrink`` times
    wider, i.e. penalised ``emb_shrink**2`` times harder than the cues."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-8] = 1.0
    scale[len(INPUTS) :] *= emb_shrink
    return mean, scale


def fit_linear(
    ex: Examples,
    with_encoder: bool,
    l2: float,
    type_l2: float | None,
    threshold: float,
    emb_shrink: float = 1.0,
    digits: int = 6,
    calibration: tuple[float, float] = (1.0, 0.0),
) -> LinearModel:
    """Both models on all of ``ex``, rounded to ``digits`` significant digits (as committed).

    ``threshold`` is on the raw probability scale; the model stores it calibrated with ``calibration``.
    ``type_l2=None`` fits the claim model only (its type models are left empty).
    """

    def r(v: np.ndarray | float) -> Any:
        a = np.asarray(v, dtype=float)
        out = np.vectorize(lambda x: float(f"{x:.{digits}g}"))(a) if a.size else a
        return out.tolist() if a.ndim else float(out)

    X = ex.X(with_encoder)
    mean, scale = _standardisation(X, emb_shrink)
    Z = (X - mean) / scale
    coef, bias = logistic(Z, ex.y, ex.weights, l2)
    claims = ex.y == 1
    tcoef, tbias = [], []
    for t in CLAIM_TYPES if type_l2 is not None else ():
        yt = np.array([x == t for x in ex.types], dtype=float)[claims]
        c, b = logistic(Z[claims], yt, ex.weights[claims], type_l2)
        tcoef.append(r(c))
        tbias.append(r(b))
    return LinearModel(
        inputs=list(INPUTS),
        embedding=with_encoder,
        mean=r(mean),
        scale=r(scale),
        l2=l2,
        threshold=r(float(calibrate(np.array([threshold]), calibration)[0])),
        calibration=[r(calibration[0]), r(calibration[1])],
        coef=r(coef),
        bias=r(bias),
        type_l2=type_l2 if type_l2 is not None else float("nan"),
        types=list(CLAIM_TYPES),
        type_coef=tcoef,
        type_bias=tbias,
    )


def _oof(
    ex: Examples, with_encoder: bool, l2: float, type_l2: float | None, emb_shrink: float = 1.0
) -> tuple[np.ndarray, list[str]]:
    """Leave-one-set-out out-of-fold claim probabilities and (unless ``type_l2`` is None) types."""
    prob = np.zeros(len(ex.texts))
    kinds = [""] * len(ex.texts)
    X = ex.X(with_encoder)
    for g in np.unique(ex.groups):
        train, test = ex.groups != g, ex.groups == g
        m = fit_linear(ex.subset(train), with_encoder, l2, type_l2, 0.5, emb_shrink, digits=17)
        prob[test] = m.claim_probability(X[test])
        if type_l2 is not None:
            for i, k in zip(np.flatnonzero(test), m.predict_types(X[test])):
                kinds[i] = k
    return prob, kinds


def _f1(prob: np.ndarray, y: np.ndarray, w: np.ndarray, t: float) -> float:
    pred = prob >= t
    tp = float(np.sum(w * (pred & (y == 1))))
    fp = float(np.sum(w * (pred & (y == 0))))
    fn = float(np.sum(w * (~pred & (y == 1))))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def select(ex: Examples, with_encoder: bool) -> dict[str, Any]:
    """Hyper-parameters by leave-one-set-out CV on ``ex``: the claim model's (embedding shrink, l2,
    threshold) by F1, then the type models' l2 (with that shrink) by weighted type accuracy."""
    if len(np.unique(ex.groups)) < 2:
        raise ReproError("cross-validation needs at least two sets")
    y, w = ex.y, ex.weights
    claims = y == 1
    best: tuple[float, ...] | None = None
    probs: dict[tuple[float, float], np.ndarray] = {}
    for shrink in EMB_SHRINK_GRID if with_encoder else (1.0,):
        for l2 in L2_GRID:
            prob, _ = _oof(ex, with_encoder, l2, None, shrink)
            probs[(shrink, l2)] = prob
            for t in THRESHOLD_GRID:
                # Ties: the stronger penalties, then the higher threshold.
                key = (round(_f1(prob, y, w, t), 6), shrink, l2, t)
                if best is None or key >= best:
                    best = key
    assert best is not None
    f1, shrink, l2, t = best
    # The type models (fitted on claims only) do not depend on the claim model's penalty: their own
    # penalty is chosen at the selected embedding shrink.
    types_by: dict[float, float] = {}
    for type_l2_ in L2_GRID:
        _, kinds = _oof(ex, with_encoder, l2, type_l2_, shrink)
        right = np.array([k == t for k, t in zip(kinds, ex.types)])
        types_by[type_l2_] = round(float(np.sum(w[claims] * right[claims]) / w[claims].sum()), 6)
    type_acc, type_l2 = max((acc, l2_) for l2_, acc in types_by.items())
    a, b = platt(probs[(shrink, l2)], y, w)
    return {
        "emb_shrink": shrink,
        "l2": l2,
        "threshold": t,
        "f1": f1,
        "type_l2": type_l2,
        "type_accuracy": type_acc,
        "calibration": [round(a, 6), round(b, 6)],
    }


def platt(prob: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Platt scaling ``(a, b)`` of out-of-fold probabilities: the weighted logistic fit of ``y`` on ``logit(prob)``.

    The in-sample probabilities of a model with 400 inputs fitted on a few hundred sentences sit near
    0 and 1; out-of-fold ones (each set scored by a model that never saw it) say how sure it should be.
    """
    coef, bias = logistic(logit(prob)[:, None], y, w, 1e-3)
    return float(coef[0]), bias


def fit_model(files: dict[str, Path], papers: int = 4, encoder: Encoder | None = None) -> ClaimModel:
    """The claim model fitted on all of ``files``, hyper-parameters by leave-one-set-out CV."""
    enc = encoder or default_encoder()
    ex = load_examples(files, papers=papers, encoder=enc)
    return _fit_on(ex, enc, files, papers)


def _fit_on(ex: Examples, enc: Encoder, files: dict[str, Path], papers: int) -> ClaimModel:
    linear = {}
    chosen = {}
    for with_encoder in (True, False):
        sel = select(ex, with_encoder)
        chosen["with_encoder" if with_encoder else "cue_only"] = sel
        linear[with_encoder] = fit_linear(
            ex,
            with_encoder,
            sel["l2"],
            sel["type_l2"],
            sel["threshold"],
            emb_shrink=sel["emb_shrink"],
            calibration=tuple(sel["calibration"]),
        )
    return ClaimModel(
        encoder={**ENCODER, "weights_sha256": enc.weights_sha256, "dim": int(enc.dim)},
        training={
            **data_hash(files),
            "sets": sorted(files),
            "papers": papers,
            "sentences": len(ex.texts),
            "claims": int(ex.y.sum()),
            "selected_by_leave_one_set_out": chosen,
        },
        with_encoder=linear[True],
        cue_only=linear[False],
    )


def nested_folds(files: dict[str, Path], papers: int = 4, encoder: Encoder | None = None) -> dict[str, ClaimModel]:
    """For each set, the model selected (inner leave-one-set-out) and fitted on the other sets only."""
    enc = encoder or default_encoder()
    ex = load_examples(files, papers=papers, encoder=enc)
    out = {}
    for g, name in enumerate(ex.set_names):
        others = {k: v for k, v in files.items() if k != name}
        out[name] = _fit_on(ex.subset(ex.groups != g), enc, others, papers)
    return out


def differences(a: ClaimModel, b: ClaimModel, atol: float = 1e-4) -> list[str]:
    """Where two fitted models differ (coefficients beyond ``atol``, or any other field)."""
    out = []
    da, db = a.model_dump(), b.model_dump()
    for part in ("with_encoder", "cue_only"):
        for key, va in da[part].items():
            vb = db[part][key]
            if isinstance(va, list) and va and not isinstance(va[0], str):
                if np.shape(va) != np.shape(vb) or not np.allclose(va, vb, atol=atol, rtol=1e-4):
                    out.append(f"{part}.{key}")
            elif va != vb:
                out.append(f"{part}.{key}: {va} vs {vb}")
    for key in ("encoder", "training"):
        if da[key] != db[key]:
            out.append(key)
    return out
