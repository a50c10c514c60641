"""The text check's judge on hand-labelled claim / passage pairs: fit on the tuning part, report held-out.

Pairs: tests/data/text_support_pairs.yaml (supported, contradicted, unstated; negations, wrong
numbers, swapped entities and roles, quantifiers, paraphrases), passages from the paper's mirrored
text (../shared/papers/2408.10536-openreview.md) and the shared notes. The tuning pairs also include the
labelled claims of the DEV papers from other fields (bench/data/heldout-papers, see
bench/eval_text_heldout.py; their claims' evidence passages, :func:`evidence_pairs`), so that the
coefficients are not the seed paper's alone. The support model's
coefficients are refitted on the tuning pairs only and compared with the ones in
repro/checks/text_support/support_model.json; the held-out pairs are then judged with the committed coefficients.
Prints accuracy per label, the false-support rate (a contradicted or unstated claim called
supported; target <= 5 %), accuracy per phenomenon and the errors; draws the reliability plot
(predicted support vs how often the pair was supported) into bench/text_support_reliability.png.

    python bench/eval_text_support.py [--encoder [--write]] [--plot bench/text_support_reliability.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from text_support_fit import Report, evaluate, evidence_pairs, fit, judge_pairs, load_pairs, write_model

from repro.checks.text_support import support_model
from repro.claims.registry import load_registry
from repro.sources.loader import load_document
from repro.sources.sentences import iter_sentences

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "tests" / "data" / "text_support_pairs.yaml"
MIRROR = ROOT.parent / "shared" / "papers" / "2408.10536-openreview.md"


def show(name: str, r: Report) -> None:
    print(f"\n{name}: {r.n} pairs")
    for lab, acc in r.accuracy.items():
        print(f"  {lab:12s} {acc:6.1%}  of {r.counts[lab]}")
    fs, neg = r.false_support_n
    print(f"  false support {r.false_support:.1%} ({fs} of {neg} contradicted or unstated pairs called supported)")
    print("  confusion (label -> verdict):")
    for lab, row in r.confusion.items():
        print(f"    {lab:12s} " + "  ".join(f"{v}: {n}" for v, n in row.items()))
    print("  per phenomenon: " + ", ".join(f"{k} {ok}/{n}" for k, (ok, n) in sorted(r.by_phenomenon.items())))


def plot(reports: dict[str, Report], path: Path) -> None:
    """Reliability diagram: mean predicted support per bin against the share actually supported."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 4.4), dpi=120)
    ax.plot([0, 1], [0, 1], color="#999", lw=1, ls="--", label="perfect calibration")
    for (name, r), color in zip(reports.items(), ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")):
        xs = [b[2] for b in r.reliability]
        ys = [b[3] for b in r.reliability]
        ns = [b[4] for b in r.reliability]
        ax.plot(xs, ys, marker="o", color=color, label=name)
        for x, y, n in zip(xs, ys, ns):
            ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7, color=color)
    ax.set_xlabel("predicted support (bin mean)")
    ax.set_ylabel("share of pairs labelled supported")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Text check: reliability on held-out pairs", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    print(f"\nreliability plot: {path}")


HELDOUT_PAPERS = ROOT / "bench" / "data" / "heldout-papers"
DEV_PAPERS = ("ecology-grassland", "battery-cathode", "vision-augmentation")


def dev_sets() -> list[tuple[list, list[str], object]]:
    """(pairs, background sentences, vocabulary) of each DEV paper from another field."""
    from repro.sources.vocabulary import document_names, load_vocabulary

    out = []
    for paper in DEV_PAPERS:
        doc = load_document(HELDOUT_PAPERS / "papers" / f"{paper}.md")
        sentences = [s for _, s in iter_sentences(doc)]
        vocab = load_vocabulary().extended({"names": document_names(sentences, load_vocabulary())})
        out.append((evidence_pairs(HELDOUT_PAPERS / "claims" / f"{paper}.yaml", doc), sentences, vocab))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encoder", action="store_true", help="also run with e5-small cosines (slower)")
    ap.add_argument("--plot", type=Path, default=ROOT / "bench" / "text_support_reliability.png")
    ap.add_argument(
        "--write", action="store_true", help="write the refitted coefficients to support_model.json (needs --encoder)"
    )
    args = ap.parse_args()
    doc = load_document(MIRROR)
    registry = ROOT / "claims" / "hybrid.yaml"
    vocab = load_registry(registry).vocab(registry)
    pairs = load_pairs(PAIRS, doc)
    background = [s for _, s in iter_sentences(doc)]
    tune = [p for p in pairs if p.split == "tune"]
    held = [p for p in pairs if p.split == "heldout"]
    dev = dev_sets()
    modes: list[tuple[str, object]] = [("rules, no encoder", None)]
    if args.encoder:
        from repro.models.encoder import Encoder

        modes.append(("rules + e5 cosine", Encoder("e5-small", max_length=128, batch_size=32)))
    held_reports = {}
    fits = {}
    for name, enc in modes:
        scored_tune = judge_pairs(tune, background, encoder=enc, vocab=vocab)
        for dev_pairs, dev_background, dev_vocab in dev:
            scored_tune += judge_pairs(dev_pairs, dev_background, encoder=enc, vocab=dev_vocab)
        fitted = fit(scored_tune, with_encoder=enc is not None)
        fits[enc is not None] = fitted
        committed = support_model.COEF if enc is not None else support_model.COEF_NO_ENCODER
        print(f"\n== {name}: coefficients refitted on {len(scored_tune)} tuning pairs ({len(tune)} of the seed paper)")
        print("  refit:     " + ", ".join(f"{k} {v:+.3f}" for k, v in fitted["coef"].items()))
        print("  committed: " + ", ".join(f"{k} {v:+.3f}" for k, v in committed.items()))
        print(f"  alignment a cue needs: refit {fitted['aligned_at']}, committed {support_model.ALIGNED_AT}")
        show(f"{name} / tune (committed coefficients)", evaluate(scored_tune))
        r = evaluate(judge_pairs(held, background, encoder=enc, vocab=vocab))
        show(f"{name} / held-out", r)
        for s in r.errors:
            j = s.judgement
            print(
                f"    {s.pair.id} {s.pair.label} -> {j.verdict} ({j.support:.2f}; {j.reason or 'no cue'}): {s.pair.claim}"
            )
        held_reports[name] = r
    plot(held_reports, args.plot)
    if args.write:
        if True not in fits:
            ap.error("--write needs --encoder (both coefficient sets are written)")
        print(f"wrote {write_model(fits[True], fits[False])}")


if __name__ == "__main__":
    main()
