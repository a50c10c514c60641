"""Are the seed synthesis's claims drafted from the real paper rendered as a two-column PDF?

The mirrored text of arXiv 2408.10536 (../shared/papers/2408.10536-openreview.md) is laid out as a
two-column PDF (:func:`bench.extraction_eval.render_document`), parsed back and extracted
with ``repro claims extract``'s defaults. A seed claim of ../shared/notes/seed-claims.md counts as
drafted when a candidate contains one of the paper's sentences that state it (the anchors below,
quoted from the paper; any one suffices). C7-C9 are the synthesis's own summaries of results
(no single sentence states them) and are left out. This is a check on one real paper, not a
tuning set: nothing was fitted to it.

    python bench/eval_seed_claims.py [--threshold T] [--list]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

# Run as `python bench/eval_seed_claims.py`: the checkout's bench.* modules beside repro.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.extraction_eval import render_document
from repro.claims.extract import extract_candidates
from repro.sources.loader import load_document
from repro.sources.pdf import parse_pdf

MIRROR = Path(__file__).resolve().parents[2] / "shared" / "papers" / "2408.10536-openreview.md"

# Seed claim -> sentences of the paper that state it (substrings, compared with spaces normalised).
ANCHORS: dict[str, list[str]] = {
    "C1": ["fine-tunes multilingual language models using a balanced mix of monolingual and cross-lingual"],
    "C2": ["experiments focus only on the XQuAD-R, MLQA-R, and MIRACL", "Experiments on XQuAD-R, MLQA-R, and MIRACL"],
    "C3": ["parallel questions and passages in 11 languages and 7 languages"],
    "C4": ["completely separate and distinct from the ones used for training"],
    "C5": ["have not encountered any data samples"],
    "C6": ["We report the mean average precision (mAP) for XQuAD-R and MLQA-R"],
    "C10": ["using a balanced mix of monolingual and cross-lingual question-answer pair batches"],
    "C11": ["use machine translation to generate parallel question-answer pairs across several languages"],
}
FOCUS = ("C3", "C4", "C5", "C10", "C11")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def drafted(threshold: float | None = None) -> tuple[dict[str, object], list]:
    """For each seed claim the candidate that states it (or None), and all candidates."""
    doc = load_document(MIRROR)
    with tempfile.TemporaryDirectory() as tmp:
        pdf = parse_pdf(render_document(doc, Path(tmp) / "paper.pdf"))
    kwargs = {} if threshold is None else {"threshold": threshold}
    cands = extract_candidates(pdf, **kwargs).candidates
    out: dict[str, object] = {}
    for cid, anchors in ANCHORS.items():
        out[cid] = next((c for c in cands if any(_norm(a) in _norm(c.text) for a in anchors)), None)
    return out, cands


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threshold", type=float, default=None, help="default: the claim model's")
    ap.add_argument("--list", action="store_true", help="print every drafted candidate")
    args = ap.parse_args()
    if not MIRROR.is_file():
        sys.exit(f"no mirrored paper at {MIRROR}")
    found, cands = drafted(args.threshold)
    if args.list:
        for c in cands:
            print(f"  {c.confidence:.2f}  p. {c.page}  {c.type:10s} {c.text}")
    for cid, cand in found.items():
        mark = "*" if cid in FOCUS else " "
        if cand is None:
            print(f"{mark}{cid:4s} not drafted")
        else:
            print(f"{mark}{cid:4s} drafted  p. {cand.page}  {cand.type:10s} {cand.confidence:.2f}  {cand.text[:90]}")
    hit = sum(found[c] is not None for c in FOCUS)
    print(f"{hit} of {len(FOCUS)} dataset/method claims ({', '.join(FOCUS)}) drafted; {len(cands)} candidates in all")


if __name__ == "__main__":
    main()
