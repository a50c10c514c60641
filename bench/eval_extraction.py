"""Claim-extraction precision and recall on generated, hand-labelled papers.

Papers are generated deterministically (seeded) from sentence templates; every sentence carries
the label a person gave its template: a claim (contribution, result, comparison, method fact) or
not (background, related work, definitions, procedure, hedged future work). Hard cases are
included on purpose: related work that "improves", results without a cue word, hedged results.
Each paper is written as a two-column PDF and parsed back, so the numbers include extraction.

    python bench/eval_extraction.py [--papers 6] [--threshold 0.5]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

from repro.claims.extract import THRESHOLD, extract_candidates
from repro.sources.pdf import parse_pdf
from repro.sources.synthetic import Paper, Paragraph, Section, write_paper

M = ["hybrid batch training", "our approach", "the proposed method"]
B = ["X-Y batching", "X-X-mono batching", "monolingual training"]
D = ["XQuAD-R", "MLQA-R", "MIRACL", "Tatoeba"]
MET = ["mAP", "nDCG@10", "R@1", "rank distance"]

CLAIMS = [
    "{m} outperforms {b} on {d} by {x} points of {met}.",
    "We show that {m} achieves the best {met} on {d}.",
    "{M} reduces the language bias of {b} by {p}% on {d}.",
    "Compared to {b}, {m} improves {met} in every language of {d}.",
    "Our experiments demonstrate that {m} is competitive with {b} on {d}.",
    "On {d}, {m} reaches a {met} of {v}, higher than {b} at {w}.",
    "We propose {m}, which mixes monolingual and cross-lingual batches.",
    "{M} yields consistent gains over {b} across all languages.",
    "The results indicate that {m} generalises to unseen languages on {d}.",
    "{M} scores {v} {met} on {d}, against {w} for {b}.",  # hard: no cue word
]
NON_CLAIMS = [
    "Information retrieval across languages is a long-standing problem.",
    "Smith et al. (2021) improved retrieval with translated queries.",
    "Prior work (Lee, 2020) reports that {b} helps cross-lingual transfer.",
    "{D} contains questions in several languages with parallel answers.",
    "The {met} metric is defined as the mean of the average precision over queries.",
    "We train for three epochs with a learning rate of {lr}.",
    "In future work we may study whether {m} could help other tasks.",
    "Each batch holds {n} triplets drawn from one language.",
    "Section 4 describes the evaluation protocol in detail.",
    "It might be that {m} improves {met} on larger models as well.",  # hard: hedged result
]


def fill(template: str, rng: random.Random) -> str:
    m = rng.choice(M)
    return template.format(
        m=m,
        M=m[0].upper() + m[1:],
        b=rng.choice(B),
        d=rng.choice(D),
        D=rng.choice(D),
        met=rng.choice(MET),
        x=rng.randint(1, 9),
        p=rng.randint(5, 35),
        v=f"{rng.uniform(0.5, 0.8):.3f}",
        w=f"{rng.uniform(0.4, 0.6):.3f}",
        lr=rng.choice(["3e-5", "1e-5"]),
        n=rng.choice([32, 64, 100]),
    )


def make_paper(seed: int) -> tuple[Paper, dict[str, bool]]:
    """A paper and the label of each of its sentences (True = claim)."""
    rng = random.Random(seed)
    labels: dict[str, bool] = {}
    sections = []
    for s, name in enumerate(["Introduction", "Related Work", "Method", "Results", "Conclusion"], start=1):
        paragraphs = []
        for _ in range(3):
            sentences = []
            for _ in range(5):
                claim = rng.random() < (0.15 if name == "Related Work" else 0.4)
                pool = CLAIMS if claim else NON_CLAIMS
                text = fill(rng.choice(pool), rng)
                if text in labels:
                    continue
                labels[text] = claim and name != "Related Work"  # claims about others are not the paper's
                sentences.append(text)
            paragraphs.append(Paragraph(sentences))
        sections.append(Section(f"{s} {name}", paragraphs))
    return Paper(f"Generated paper {seed}", sections), labels


def evaluate(papers: int, threshold: float) -> tuple[float, float, int, int]:
    tp = fp = fn = n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(papers):
            paper, labels = make_paper(seed)
            doc = parse_pdf(write_paper(paper, Path(tmp) / f"p{seed}.pdf"))
            found = {c.text for c in extract_candidates(doc, threshold=threshold).candidates}
            for text, is_claim in labels.items():
                n += 1
                tp += is_claim and text in found
                fn += is_claim and text not in found
                fp += (not is_claim) and text in found
            fp += len(found - set(labels))  # a candidate that is no labelled sentence: a segmentation error
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, n, tp + fn


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=6)
    ap.add_argument("--threshold", type=float, default=THRESHOLD)
    args = ap.parse_args()
    p, r, n, claims = evaluate(args.papers, args.threshold)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print(f"{args.papers} papers, {n} labelled sentences ({claims} claims), threshold {args.threshold}")
    print(f"precision {p:.3f}  recall {r:.3f}  F1 {f1:.3f}")


if __name__ == "__main__":
    main()
