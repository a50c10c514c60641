"""Claim extraction on labelled papers: precision, recall and type right per paper, with intervals.

A folder in the layout of bench/data/heldout-papers (``papers/<slug>.md`` or ``.pdf``/``.txt``,
``extraction/<slug>.yaml`` with every prose sentence labelled result / comparison / setup / data /
protocol / scope or null) is read paper by paper with the tool's own loader; every candidate that
``repro claims extract`` would draft is matched to a labelled sentence (normalised texts equal,
or one contains the other; :func:`bench.claim_fit.match`):

- **precision**: candidates that are labelled claims / candidates (a null sentence, a caption, a
  sentence matched twice count against it);
- **recall**: labelled claims drafted / labelled claims;
- **type right**: drafted claims given their labelled type / drafted claims;

each with a 95 % Wilson interval over the paper's sentences, pooled over the papers, and the
confusion matrix of labelled against drafted type (matched claims; ``missed`` = not drafted).

    python bench/eval_extraction_heldout.py                    # the committed model on bench/data/heldout-papers
    python bench/eval_extraction_heldout.py --data DIR         # a new folder of the same layout
    python bench/eval_extraction_heldout.py --loo              # leave-one-paper-out over the folder
    python bench/eval_extraction_heldout.py --old-types        # the claim model's own type models (before)

``--loo`` scores each paper with the type model selected (inner leave-one-paper-out) and fitted
on the folder's other papers and the template sets only (the claim model is fitted on the template
sets, never on these papers, so its candidates are out of sample either way). Without ``--loo``
the committed model scores: in-sample for its training papers, the honest score for a new folder.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Run as `python bench/eval_extraction_heldout.py`: the checkout's bench.* modules beside repro.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.claim_fit import PAPERS, match, nested_type_folds, paper_file, paper_labels
from repro.claims.claim_model import ClaimModel, load_model
from repro.claims.claim_types import CLAIM_TYPES
from repro.claims.extract import extract_candidates
from repro.errors import ReproError
from repro.sources.loader import load_document
from repro.sources.vocabulary import load_vocabulary


@dataclass
class PaperScore:
    """Counts of one paper (or several, added up)."""

    name: str
    candidates: int = 0
    true_candidates: int = 0
    claims: int = 0
    typed: int = 0
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)  # (labelled, drafted or "missed")
    errors: list[str] = field(default_factory=list)

    @property
    def found(self) -> int:
        return self.true_candidates

    def add(self, other: PaperScore) -> None:
        for k in ("candidates", "true_candidates", "claims", "typed"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        for key, n in other.confusion.items():
            self.confusion[key] = self.confusion.get(key, 0) + n


def wilson(k: int, n: int) -> tuple[float, float]:
    """95 % Wilson interval of k successes in n."""
    if n == 0:
        return float("nan"), float("nan")
    z = 1.959964
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, mid - half), min(1.0, mid + half)


def score_paper(
    path: Path, gold: dict[str, str | None], name: str, model: ClaimModel | None = None, use_encoder: bool = True
) -> PaperScore:
    """Extract the candidates of one paper and compare them with its labels."""
    s = PaperScore(name=name, claims=sum(1 for t in gold.values() if t))
    found: set[str] = set()
    ex = extract_candidates(load_document(path), vocab=load_vocabulary(), model=model, use_encoder=use_encoder)
    for c in ex.candidates:
        s.candidates += 1
        key = match(c.text, gold)
        if key is None or key in found or gold[key] is None:
            s.errors.append(f"    not a claim ({'unlabelled' if key is None else 'null'}): {c.text}")
            continue
        found.add(key)
        s.true_candidates += 1
        s.typed += c.type == gold[key]
        s.confusion[(str(gold[key]), c.type)] = s.confusion.get((str(gold[key]), c.type), 0) + 1
        if c.type != gold[key]:
            s.errors.append(f"    {gold[key]} typed {c.type}: {c.text}")
    for key, t in gold.items():
        if t and key not in found:
            s.confusion[(t, "missed")] = s.confusion.get((t, "missed"), 0) + 1
            s.errors.append(f"    missed ({t}): {key}")
    return s


def _cell(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k:3d}/{n:<3d} {k / n if n else float('nan'):.2f} [{lo:.2f}, {hi:.2f}]"


def show(scores: list[PaperScore]) -> PaperScore:
    """Print the per-paper table, the pooled row and the confusion matrix; return the pooled counts."""
    print(f"{'paper':24s} {'precision':>22s}   {'recall':>22s}   {'type right':>22s}")
    total = PaperScore(name="all")
    for s in scores:
        total.add(s)
        print(
            f"{s.name:24s} {_cell(s.true_candidates, s.candidates)}   {_cell(s.found, s.claims)}   "
            f"{_cell(s.typed, s.found)}"
        )
    s = total
    print(
        f"{'all':24s} {_cell(s.true_candidates, s.candidates)}   {_cell(s.found, s.claims)}   {_cell(s.typed, s.found)}"
    )
    cols = [*CLAIM_TYPES, "missed"]
    print("\nconfusion (rows: labelled type; columns: drafted type)")
    print(f"{'':11s}" + "".join(f"{c[:10]:>11s}" for c in cols))
    for t in CLAIM_TYPES:
        print(f"{t:11s}" + "".join(f"{total.confusion.get((t, c), 0):11d}" for c in cols))
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--data", type=Path, default=PAPERS, help="folder with papers/ and extraction/ (default: %(default)s)"
    )
    ap.add_argument("--loo", action="store_true", help="leave-one-paper-out: each paper's type model fitted without it")
    ap.add_argument("--old-types", action="store_true", help="type with the claim model's own type models")
    ap.add_argument("--cue-only", action="store_true", help="score without the sentence encoder")
    ap.add_argument("--errors", action="store_true", help="list wrong types, misses and false candidates")
    args = ap.parse_args()
    try:
        labels = paper_labels(args.data)
        committed = load_model()
        models: dict[str, ClaimModel] = {}
        if args.old_types:
            base = committed.model_copy(update={"types_with_encoder": None, "types_cue_only": None})
            models = {slug: base for slug in labels}
        elif args.loo:
            from bench.fit_extraction import training_files

            for slug, (prov, w_enc, cue) in nested_type_folds(args.data, training_files()).items():
                models[slug] = committed.model_copy(
                    update={"type_training": prov, "types_with_encoder": w_enc, "types_cue_only": cue}
                )
        scores = []
        for slug, gold in labels.items():
            s = score_paper(paper_file(args.data, slug), gold, slug, models.get(slug), not args.cue_only)
            scores.append(s)
    except ReproError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    how = "old type models" if args.old_types else "leave-one-paper-out type models" if args.loo else "committed model"
    print(
        f"{args.data}: {len(scores)} papers, {how}{', cue features only' if args.cue_only else ''}; 95 % Wilson intervals\n"
    )
    show(scores)
    if args.errors:
        for s in scores:
            print(f"\n{s.name}")
            print("\n".join(s.errors))


if __name__ == "__main__":
    main()
