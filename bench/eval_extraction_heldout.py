"""Claim extraction on the held-out papers of bench/data/heldout-papers (per paper: precision, recall, type right).

A candidate matches a labelled claim sentence when their normalised texts are equal or one contains
the other. ``python bench/eval_extraction_heldout.py``
"""

import re
from pathlib import Path

import yaml

from repro.claims.extract import extract_candidates
from repro.sources.loader import load_document

D = Path("bench/data/heldout-papers")
norm = lambda t: re.sub(r"\W+", " ", t).strip().lower()
T = dict(tp=0, fp=0, fn=0, typ=0)
for p in ["clinical-hypertension", "labour-minwage", "speech-enhancement"]:
    lab = yaml.safe_load((D / "extraction" / f"{p}.yaml").read_text())
    gold = {norm(s["text"]): s["type"] for sec in lab["sections"] for s in sec["sentences"] if s["type"]}
    ex = extract_candidates(load_document(D / "papers" / f"{p}.md"))
    cands = ex.candidates if hasattr(ex, "candidates") else ex
    tp = fp = typ = 0
    found = set()
    for c in cands:
        t = norm(getattr(c, "text", getattr(c, "sentence", "")))
        g = next((k for k in gold if k == t or (len(t) > 20 and (t in k or k in t))), None)
        if g and g not in found:
            tp += 1
            found.add(g)
            typ += str(getattr(c, "type", getattr(c, "claim_type", ""))).split(".")[-1].lower() == gold[g]
        else:
            fp += 1
    fn = len(gold) - len(found)
    print(
        f"{p}: precision {tp / (tp + fp):.2f} ({tp}/{tp + fp}) recall {tp / len(gold):.2f} ({tp}/{len(gold)}) type right {typ}/{tp}"
    )
    for k, v in dict(tp=tp, fp=fp, fn=fn, typ=typ).items():
        T[k] += v
print(
    f"all: precision {T['tp'] / (T['tp'] + T['fp']):.2f} recall {T['tp'] / (T['tp'] + T['fn']):.2f} type right {T['typ']}/{T['tp']} = {T['typ'] / T['tp']:.2f}"
)
