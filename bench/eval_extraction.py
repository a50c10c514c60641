"""Claim-extraction recall, precision and page accuracy per claim type, on generated labelled papers.

Papers are generated deterministically (seeded) from the sentence templates of bench/data/*.yaml,
each sentence labelled by hand with its claim type (result, comparison, setup, data, protocol,
scope) or as no claim (background, related work, definitions, roadmap sentences, procedure without
values, hedged future work). Each paper is written as a two-column PDF and parsed back, so the
numbers include PDF extraction. Sets:

- ``tune`` (multilingual retrieval), ``tune_vision`` (image classification, translation),
  ``tune_speech`` (speech recognition), ``tune_molecules`` (molecules, recommendation): the weights
  and rules of repro/claims/extract.py and claim_types.py were developed on these (the last three
  were held-out sets first, each evaluated once and then studied -- their headers give the numbers);
- ``heldout`` (offline RL for grasping, rain nowcasting): written before the last changes and never
  used to make them -- the numbers to quote.

    python bench/eval_extraction.py [--papers 4] [--threshold 0.5] [--set heldout] [--errors]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from repro.claims.extract import THRESHOLD
from repro.claims.extraction_eval import evaluate

DATA = Path(__file__).resolve().parent / "data"
SETS = {
    "tune": "extraction_tune.yaml",
    "tune_vision": "extraction_tune_vision.yaml",
    "tune_speech": "extraction_tune_speech.yaml",
    "tune_molecules": "extraction_tune_molecules.yaml",
    "heldout": "extraction_heldout.yaml",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=4)
    ap.add_argument("--threshold", type=float, default=THRESHOLD)
    ap.add_argument("--set", dest="sets", action="append", choices=sorted(SETS), help="default: all")
    ap.add_argument("--errors", action="store_true", help="list missed claims and false candidates")
    args = ap.parse_args()
    for name in args.sets or list(SETS):
        s = evaluate(DATA / SETS[name], papers=args.papers, threshold=args.threshold)
        t = s.total()
        print(
            f"\n{name}: {s.papers} papers, {s.sentences} labelled sentences, {t.claims} claims, threshold {args.threshold}"
        )
        print(f"  {'type':11s} {'claims':>6s} {'recall':>7s} {'precision':>9s} {'page right':>10s} {'type right':>10s}")
        for kind, v in [*s.by_type.items(), ("all", t)]:
            print(
                f"  {kind:11s} {v.claims:6d} {v.recall:7.2f} {v.precision:9.2f} {v.page_accuracy:10.2f} {v.type_accuracy:10.2f}"
            )
        if args.errors:
            for lab in s.missed:
                print(f"    missed ({lab.type}): {lab.text}")
            for text in s.false:
                print(f"    not a claim: {text}")


if __name__ == "__main__":
    main()
