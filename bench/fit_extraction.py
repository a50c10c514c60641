"""Refit the claim model (repro/claims/claim_model.json) on every labelled sentence of bench/data.

The claim-vs-not model: all nine template sets (bench/data/extraction_*.yaml) are training data; penalties and the
threshold are chosen by leave-one-set-out cross-validation (bench/claim_fit.py). The file
records the encoder's weights hash and the training files' hashes; tests/test_extract.py checks
that refitting reproduces it. The cross-domain estimate is ``python bench/eval_extraction.py --cv``.
The type models: the claims of the labelled papers of bench/data/heldout-papers (six fields) and
the template sets' claims, hyper-parameters by leave-one-paper-out (bench/claim_fit.py); their
estimate is ``python bench/eval_extraction_heldout.py --loo``.

    python bench/fit_extraction.py               # write repro/claims/claim_model.json
    python bench/fit_extraction.py --types-only  # refit the type models only (the claim model kept)
    python bench/fit_extraction.py --check       # exit 1 if a refit differs from the committed file
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Run as `python bench/fit_extraction.py`: the checkout's bench.* modules beside repro.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.claim_fit import PAPERS, differences, fit_model, with_type_models
from repro.claims.claim_model import MODEL_FILE, ClaimModel

DATA = Path(__file__).resolve().parent / "data"


def training_files() -> dict[str, Path]:
    """Set name -> template file, for every bench/data/extraction_*.yaml."""
    return {p.stem.removeprefix("extraction_"): p for p in sorted(DATA.glob("extraction_*.yaml"))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="compare with the committed file instead of writing it")
    ap.add_argument("--out", type=Path, default=MODEL_FILE)
    ap.add_argument("--papers-dir", type=Path, default=PAPERS, help="labelled papers the type models are fitted on")
    ap.add_argument(
        "--types-only", action="store_true", help="refit the type models only, keeping the committed claim model"
    )
    args = ap.parse_args()
    if args.types_only:
        committed = ClaimModel.model_validate_json(MODEL_FILE.read_text(encoding="utf-8"))
        model = with_type_models(committed, args.papers_dir, training_files())
    else:
        model = fit_model(training_files(), paper_dir=args.papers_dir)
    if args.check:
        committed = ClaimModel.model_validate_json(MODEL_FILE.read_text(encoding="utf-8"))
        diff = differences(model, committed)
        print("refit reproduces the committed model" if not diff else f"refit differs: {', '.join(diff)}")
        sys.exit(1 if diff else 0)
    model.save(args.out)
    sel = model.training["selected_by_leave_one_set_out"]
    print(f"wrote {args.out}: {model.training['sentences']} sentences ({model.training['claims']} claims); {sel}")
    assert model.type_training is not None
    print(f"type models: {model.type_training['selected_by_leave_one_paper_out']}")


if __name__ == "__main__":
    main()
