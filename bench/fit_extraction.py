"""Refit the claim model (repro/claims/claim_model.json) on every labelled sentence of bench/data.

All five template sets (bench/data/extraction_*.yaml) are training data; penalties and the
threshold are chosen by leave-one-set-out cross-validation (bench/claim_fit.py). The file
records the encoder's weights hash and the training files' hashes; tests/test_extract.py checks
that refitting reproduces it. The cross-domain estimate is ``python bench/eval_extraction.py --cv``.

    python bench/fit_extraction.py            # write repro/claims/claim_model.json
    python bench/fit_extraction.py --check    # exit 1 if a refit differs from the committed file
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Run as `python bench/fit_extraction.py`: the checkout's bench.* modules beside repro.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.claim_fit import differences, fit_model
from repro.claims.claim_model import MODEL_FILE, ClaimModel

DATA = Path(__file__).resolve().parent / "data"


def training_files() -> dict[str, Path]:
    """Set name -> template file, for every bench/data/extraction_*.yaml."""
    return {p.stem.removeprefix("extraction_"): p for p in sorted(DATA.glob("extraction_*.yaml"))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="compare with the committed file instead of writing it")
    ap.add_argument("--out", type=Path, default=MODEL_FILE)
    args = ap.parse_args()
    model = fit_model(training_files())
    if args.check:
        committed = ClaimModel.model_validate_json(MODEL_FILE.read_text(encoding="utf-8"))
        diff = differences(model, committed)
        print("refit reproduces the committed model" if not diff else f"refit differs: {', '.join(diff)}")
        sys.exit(1 if diff else 0)
    model.save(args.out)
    sel = model.training["selected_by_leave_one_set_out"]
    print(f"wrote {args.out}: {model.training['sentences']} sentences ({model.training['claims']} claims); {sel}")


if __name__ == "__main__":
    main()
