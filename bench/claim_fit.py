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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from bench.extraction_eval import labelled_sentences
from repro.checks.stats.logistic import logistic
from repro.claims.claim_model import (
    ENCODER,
    ClaimModel,
    LinearModel,
    TypeModel,
    calibrate,
    default_encoder,
    embed,
    input_rows,
    logit,
)
from repro.claims.claim_types import CLAIM_TYPES, TYPE_FEATURES, claim_type, section_kind, type_features
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


def _embeddings(texts: list[str], encoder: Any) -> np.ndarray | None:
    """The texts' sentence embeddings: ``False`` for none, ``None``/``True`` for the default encoder."""
    if encoder is False:
        return None
    return embed(texts, encoder if encoder is not None and encoder is not True else default_encoder())


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
    emb = _embeddings(texts, encoder)
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


def fit_model(
    files: dict[str, Path], papers: int = 4, encoder: Encoder | None = None, paper_dir: Path | None = None
) -> ClaimModel:
    """The claim model fitted on all of ``files``, hyper-parameters by leave-one-set-out CV; with
    ``paper_dir`` (labelled papers, e.g. :data:`PAPERS`), also the type models (:func:`fit_type_models`)."""
    enc = encoder or default_encoder()
    ex = load_examples(files, papers=papers, encoder=enc)
    model = _fit_on(ex, enc, files, papers)
    return with_type_models(model, paper_dir, files, papers, enc) if paper_dir is not None else model


def with_type_models(
    model: ClaimModel, paper_dir: Path, files: dict[str, Path], papers: int = 4, encoder: Encoder | None = None
) -> ClaimModel:
    """``model`` with its type models (re)fitted on the labelled papers of ``paper_dir`` and the template sets."""
    prov, w_enc, cue = fit_type_models(paper_dir, files, papers, encoder)
    return model.model_copy(update={"type_training": prov, "types_with_encoder": w_enc, "types_cue_only": cue})


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
    for key in ("encoder", "training", "type_training"):
        if da[key] != db[key]:
            out.append(key)
    for part in ("types_with_encoder", "types_cue_only"):
        if (da[part] is None) != (db[part] is None):
            out.append(part)
        elif da[part] is not None:
            for key, va in da[part].items():
                vb = db[part][key]
                if isinstance(va, list) and va and not isinstance(va[0], str):
                    if np.shape(va) != np.shape(vb) or not np.allclose(va, vb, atol=atol, rtol=1e-4):
                        out.append(f"{part}.{key}")
                elif va != vb:
                    out.append(f"{part}.{key}: {va} vs {vb}")
    return out


# ---- The type model, fitted on labelled papers of several fields (bench/data/heldout-papers)
#
# A *labelled paper* folder has papers/<slug>.md (or .pdf, .txt) and extraction/<slug>.yaml (every
# prose sentence under its section, ``type`` one of the claim types or null; see
# bench/data/heldout-papers/README.md). Each paper is read by the tool's own loader and sentence
# splitter, and every sentence it yields is matched to a labelled one (:func:`match`), so the type
# model is fitted on exactly the sentences and sections extraction sees. Hyper-parameters (L2, the
# embedding's shrink, the weight of the template sets' claims) are chosen by leave-one-paper-out
# cross-validation; :func:`nested_type_folds` gives, for each paper, the type model selected and
# fitted without it.

PAPERS = Path(__file__).resolve().parent / "data" / "heldout-papers"
TYPE_INPUTS: tuple[str, ...] = (*TYPE_FEATURES, *FEATURES, *(f"rule_{t}" for t in CLAIM_TYPES))
TYPE_L2_GRID: tuple[float, ...] = (3.0, 10.0, 30.0)
TYPE_SHRINK_GRID: tuple[float, ...] = (2.0, 4.0)
TEMPLATE_WEIGHT_GRID: tuple[float, ...] = (0.5, 1.0)


def normalise(text: str) -> str:
    """Lower case, words only: how a candidate and a labelled sentence are compared."""
    return re.sub(r"\W+", " ", text).strip().lower()


def match(text: str, gold: dict[str, Any]) -> str | None:
    """The labelled sentence (normalised key of ``gold``) that ``text`` is: equal, or one contains the other."""
    t = normalise(text)
    if t in gold:
        return t
    if len(t) <= 20:
        return None
    return next((k for k in gold if t in k or k in t), None)


def paper_file(data_dir: Path, slug: str) -> Path:
    """The paper ``slug`` of a labelled folder (Markdown, PDF or text)."""
    for ext in (".md", ".pdf", ".txt"):
        p = Path(data_dir) / "papers" / f"{slug}{ext}"
        if p.is_file():
            return p
    raise ReproError(f"no paper {slug}.md/.pdf/.txt under {Path(data_dir) / 'papers'}")


def paper_labels(data_dir: Path) -> dict[str, dict[str, str | None]]:
    """Slug -> {normalised sentence: type or None} for every extraction/<slug>.yaml of ``data_dir``."""
    files = sorted((Path(data_dir) / "extraction").glob("*.yaml"))
    if not files:
        raise ReproError(f"no labelled papers: {Path(data_dir) / 'extraction'} has no .yaml file")
    out = {}
    for f in files:
        lab = yaml.safe_load(f.read_text(encoding="utf-8"))
        out[f.stem] = {normalise(s["text"]): s.get("type") for sec in lab["sections"] for s in sec["sentences"]}
    return out


@dataclass
class TypeExamples:
    """Labelled claims for the type model: papers' sentences (group = paper) and template claims (group -1)."""

    texts: list[str]
    types: list[str]
    groups: np.ndarray  # paper index, -1 for a template set's claim
    papers: list[str]
    weights: np.ndarray  # 1 per paper sentence; 1/variants per template claim
    rows: np.ndarray  # [n, len(TYPE_INPUTS)]
    emb: np.ndarray | None

    def X(self, with_encoder: bool) -> np.ndarray:
        return np.hstack([self.rows, self.emb]) if with_encoder and self.emb is not None else self.rows

    def subset(self, mask: np.ndarray) -> TypeExamples:
        return TypeExamples(
            texts=[t for t, m in zip(self.texts, mask) if m],
            types=[t for t, m in zip(self.types, mask) if m],
            groups=self.groups[mask],
            papers=self.papers,
            weights=self.weights[mask],
            rows=self.rows[mask],
            emb=None if self.emb is None else self.emb[mask],
        )


def load_type_examples(
    data_dir: Path, template_files: dict[str, Path], papers: int = 4, encoder: Encoder | bool | None = None
) -> TypeExamples:
    """The labelled claims of the papers of ``data_dir`` and of the template sets (``encoder=False``: no embedding)."""
    from repro.claims.extract import sentence_rows
    from repro.sources.loader import load_document

    vocab = load_vocabulary()
    texts, types, groups, weights, feats, rules = [], [], [], [], [], []
    labels = paper_labels(data_dir)
    slugs = sorted(labels)
    for g, slug in enumerate(slugs):
        gold, seen = labels[slug], set()
        for _block, sentence, _m, f, rule in sentence_rows(load_document(paper_file(data_dir, slug)), vocab):
            key = match(sentence, gold)
            if key is None or key in seen or gold[key] is None:
                continue
            seen.add(key)
            texts.append(sentence)
            types.append(str(gold[key]))
            groups.append(g)
            weights.append(1.0)
            feats.append(f)
            rules.append(rule)
    for name in sorted(template_files):
        labs = [lab for lab in labelled_sentences(template_files[name], papers=papers) if lab.type]
        per_template: dict[str, int] = {}
        for lab in labs:
            per_template[lab.template] = per_template.get(lab.template, 0) + 1
        for lab in labs:
            mentions = vocab.find(lab.text)
            f = features(lab.text, lab.section, mentions)
            f.update(type_features(lab.text, section_kind(lab.section)))
            texts.append(lab.text)
            types.append(str(lab.type))
            groups.append(-1)
            weights.append(1.0 / per_template[lab.template])
            feats.append(f)
            rules.append(claim_type(lab.text, mentions, lab.section))
    emb = _embeddings(texts, encoder)
    return TypeExamples(
        texts=texts,
        types=types,
        groups=np.array(groups),
        papers=slugs,
        weights=np.array(weights),
        rows=input_rows(TYPE_INPUTS, feats, rules),
        emb=emb,
    )


def fit_types(ex: TypeExamples, with_encoder: bool, l2: float, shrink: float, template_weight: float) -> TypeModel:
    """The one-vs-rest type models on all of ``ex`` (template claims weighted ``template_weight``)."""
    w = np.where(ex.groups < 0, ex.weights * template_weight, ex.weights)
    keep = w > 0
    X = ex.X(with_encoder)[keep]
    w = w[keep]
    kinds = [t for t, k in zip(ex.types, keep) if k]
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-8] = 1.0
    scale[len(TYPE_INPUTS) :] *= shrink
    Z = (X - mean) / scale
    coef, bias = [], []
    for t in CLAIM_TYPES:
        c, b = logistic(Z, np.array([k == t for k in kinds], dtype=float), w, l2)
        coef.append(c.tolist())
        bias.append(float(b))
    return TypeModel(
        inputs=list(TYPE_INPUTS),
        embedding=with_encoder,
        emb_shrink=shrink if with_encoder else 1.0,
        l2=l2,
        mean=mean.tolist(),
        scale=scale.tolist(),
        types=list(CLAIM_TYPES),
        coef=coef,
        bias=bias,
    )


def _type_grid(with_encoder: bool) -> list[tuple[float, float, float]]:
    shrinks = TYPE_SHRINK_GRID if with_encoder else (1.0,)
    return [(l2, s, tw) for tw in TEMPLATE_WEIGHT_GRID for s in shrinks for l2 in TYPE_L2_GRID]


def select_types(ex: TypeExamples, with_encoder: bool) -> dict[str, Any]:
    """(L2, shrink, template weight) by leave-one-paper-out accuracy on the papers' claims
    (ties: the first in grid order: no templates, the weaker shrink, the weaker penalty)."""
    paper_ids = [g for g in np.unique(ex.groups) if g >= 0]
    if len(paper_ids) < 2:
        raise ReproError("leave-one-paper-out needs at least two labelled papers")
    X = ex.X(with_encoder)
    best: tuple[float, tuple[float, float, float]] | None = None
    for cfg in _type_grid(with_encoder):
        right = 0
        n = 0
        for g in paper_ids:
            test = ex.groups == g
            m = fit_types(ex.subset(~test), with_encoder, *cfg)
            pred = m.predict(X[test])
            right += sum(p == t for p, t in zip(pred, np.array(ex.types, dtype=object)[test]))
            n += int(test.sum())
        acc = right / n
        if best is None or acc > best[0] + 1e-12:
            best = (acc, cfg)
    assert best is not None
    acc, (l2, shrink, tw) = best
    return {"l2": l2, "emb_shrink": shrink, "template_weight": tw, "type_accuracy": round(acc, 6)}


def fit_type_models(
    data_dir: Path = PAPERS,
    template_files: dict[str, Path] | None = None,
    papers: int = 4,
    encoder: Encoder | None = None,
) -> tuple[dict[str, Any], TypeModel, TypeModel]:
    """Type models with and without the encoder, on all papers of ``data_dir`` and the template sets,
    hyper-parameters by leave-one-paper-out; and their provenance (``type_training``)."""
    enc = encoder or default_encoder()
    ex = load_type_examples(data_dir, template_files or {}, papers=papers, encoder=enc)
    return _fit_types_on(ex, data_dir, template_files or {}, papers)


def _fit_types_on(
    ex: TypeExamples, data_dir: Path, template_files: dict[str, Path], papers: int
) -> tuple[dict[str, Any], TypeModel, TypeModel]:
    models, chosen = {}, {}
    for with_encoder in (True, False):
        sel = select_types(ex, with_encoder)
        chosen["with_encoder" if with_encoder else "cue_only"] = sel
        models[with_encoder] = fit_types(ex, with_encoder, sel["l2"], sel["emb_shrink"], sel["template_weight"])
    in_fold = sorted({ex.papers[g] for g in np.unique(ex.groups) if g >= 0})
    files = {f"papers/{s}": paper_file(data_dir, s) for s in in_fold}
    files.update({f"papers/{s}.yaml": Path(data_dir) / "extraction" / f"{s}.yaml" for s in in_fold})
    files.update({f"templates/{k}": v for k, v in template_files.items()})
    provenance = {
        **data_hash(files),
        "papers": in_fold,
        "template_sets": sorted(template_files),
        "claims": int((ex.groups >= 0).sum()),
        "template_claims": int((ex.groups < 0).sum()),
        "selected_by_leave_one_paper_out": chosen,
    }
    return provenance, models[True], models[False]


def nested_type_folds(
    data_dir: Path = PAPERS,
    template_files: dict[str, Path] | None = None,
    papers: int = 4,
    encoder: Encoder | None = None,
) -> dict[str, tuple[dict[str, Any], TypeModel, TypeModel]]:
    """For each paper of ``data_dir``, the type models selected (inner leave-one-paper-out) and fitted without it."""
    enc = encoder or default_encoder()
    ex = load_type_examples(data_dir, template_files or {}, papers=papers, encoder=enc)
    out = {}
    for g, slug in enumerate(ex.papers):
        out[slug] = _fit_types_on(ex.subset(ex.groups != g), data_dir, template_files or {}, papers)
    return out
