"""Claim-extraction recall, precision and page accuracy per claim type, on generated labelled papers.

Papers are generated deterministically (seeded) from the sentence templates of bench/data/*.yaml,
each sentence labelled by hand with its claim type (result, comparison, setup, data, protocol,
scope) or as no claim (background, related work, definitions, roadmap sentences, procedure without
values, hedged future work). Each paper is written as a two-column PDF and parsed back, so the
numbers include PDF extraction.

All nine sets -- ``tune`` (multilingual retrieval), ``tune_vision`` (image classification,
translation), ``tune_speech`` (speech recognition), ``tune_molecules`` (molecules, recommendation),
``heldout`` (offline RL for grasping, rain nowcasting) -- are the training data of the claim model
(repro/claims/claim_model.json, bench/fit_extraction.py), so their plain scores are in-sample.
The cross-domain estimate is ``--cv``: each set scored by the model selected and fitted on the
other four only (nested leave-one-set-out). A new labelled file, never used for fitting, is
scored with ``--file PATH`` (same YAML format).

    python bench/eval_extraction.py [--papers 4] [--threshold T] [--set NAME] [--errors]
    python bench/eval_extraction.py --cv            # leave-one-set-out, through the PDF pipeline
    python bench/eval_extraction.py --file new.yaml # a held-out file with the committed model
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Run as `python bench/eval_extraction.py`: the checkout's bench.* modules beside repro.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.extraction_eval import ExtractionScore, evaluate

DATA = Path(__file__).resolve().parent / "data"
SETS = {p.stem.removeprefix("extraction_"): p for p in sorted(DATA.glob("extraction_*.yaml"))}


def show(name: str, s: ExtractionScore, threshold: str, errors: bool) -> None:
    t = s.total()
    print(f"\n{name}: {s.papers} papers, {s.sentences} labelled sentences, {t.claims} claims, threshold {threshold}")
    print(f"  {'type':11s} {'claims':>6s} {'recall':>7s} {'precision':>9s} {'page right':>10s} {'type right':>10s}")
    for kind, v in [*s.by_type.items(), ("all", t)]:
        print(
            f"  {kind:11s} {v.claims:6d} {v.recall:7.2f} {v.precision:9.2f} {v.page_accuracy:10.2f} {v.type_accuracy:10.2f}"
        )
    print(f"  confidence vs claims among candidates (calibration error {s.calibration_error():.3f}):")
    for b in s.reliability():
        print(
            f"    [{b['low']:.2f}, {b['high']:.2f}]  {b['n']:4d} candidates  mean confidence {b['confidence']:.2f}"
            f"  claims {b['claims']:.2f}"
        )
    if errors:
        for lab in s.missed:
            print(f"    missed ({lab.type}): {lab.text}")
        for text in s.false:
            print(f"    not a claim: {text}")


def pooled(scores: list[ExtractionScore]) -> ExtractionScore:
    """The scores of several sets added up (per type)."""
    out = ExtractionScore(papers=sum(s.papers for s in scores), sentences=sum(s.sentences for s in scores))
    for s in scores:
        for kind, ts in s.by_type.items():
            acc = out.by_type.setdefault(kind, type(ts)())
            for k in ("claims", "found", "typed", "page_right", "predicted", "predicted_claims"):
                setattr(acc, k, getattr(acc, k) + getattr(ts, k))
        out.missed += s.missed
        out.false += s.false
        out.confidences += s.confidences
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=4)
    ap.add_argument("--threshold", type=float, default=None, help="default: the claim model's")
    ap.add_argument("--set", dest="sets", action="append", choices=sorted(SETS), help="default: all")
    ap.add_argument("--file", dest="files", action="append", type=Path, help="a labelled template file (repeatable)")
    ap.add_argument("--cv", action="store_true", help="nested leave-one-set-out over the bench/data sets")
    ap.add_argument("--cue-only", action="store_true", help="score without the sentence encoder")
    ap.add_argument("--errors", action="store_true", help="list missed claims and false candidates")
    args = ap.parse_args()
    use_encoder = not args.cue_only
    if args.cv:
        from bench.claim_fit import nested_folds

        folds = nested_folds(SETS)
        scores = []
        for name in args.sets or list(SETS):
            model = folds[name]
            linear = model.with_encoder if use_encoder else model.cue_only
            s = evaluate(SETS[name], papers=args.papers, threshold=args.threshold, model=model, use_encoder=use_encoder)
            scores.append(s)
            show(f"{name} (fitted on the other sets)", s, str(args.threshold or linear.threshold), args.errors)
        show("leave-one-set-out, pooled", pooled(scores), "per fold", False)
        return
    targets = [(str(p), p) for p in args.files] if args.files else [(n, SETS[n]) for n in args.sets or SETS]
    scores = []
    for name, path in targets:
        s = evaluate(path, papers=args.papers, threshold=args.threshold, use_encoder=use_encoder)
        scores.append(s)
        show(name, s, str(args.threshold or "model's"), args.errors)
    if len(scores) > 1:
        show("all of them, pooled", pooled(scores), str(args.threshold or "model's"), False)


if __name__ == "__main__":
    main()
