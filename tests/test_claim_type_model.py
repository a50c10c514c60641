"""The learned claim-type model: fitted on labelled papers of six fields, committed in claim_model.json."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import require

from bench.claim_fit import PAPERS, TYPE_INPUTS, data_hash, fit_types, load_type_examples, paper_file
from repro.claims.claim_model import TypeModel, load_model
from repro.claims.claim_types import section_kind
from repro.claims.extract import extract_candidates
from repro.errors import MissingComponent
from repro.sources.markdown import parse_markdown

REPO = Path(__file__).resolve().parents[1]


def _templates() -> dict[str, Path]:
    return {p.stem.removeprefix("extraction_"): p for p in sorted((REPO / "bench" / "data").glob("extraction_*.yaml"))}


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def encoder():
    from repro.claims.claim_model import default_encoder

    try:
        return default_encoder()
    except MissingComponent as exc:
        require(False, f"the e5-small encoder ({exc})", "make model prepares it")


def test_section_kind_reads_the_outermost_named_heading() -> None:
    assert section_kind(["4. Results", "4.1 Participants"]) == "results"
    assert section_kind(["3. Materials and methods", "3.2 Statistical analysis"]) == "methods"
    assert section_kind(["5 Discussion and limitations"]) == "discussion"
    assert section_kind(["Appendix A"]) == "other"


def test_type_model_file_round_trip_is_exact(tmp_path: Path) -> None:
    committed = load_model().types_with_encoder
    assert committed is not None and committed.inputs == list(TYPE_INPUTS)
    path = tmp_path / "t.json"
    path.write_text(committed.model_dump_json(), encoding="utf-8")
    again = TypeModel.model_validate_json(path.read_text(encoding="utf-8"))
    X = np.random.default_rng(0).normal(size=(50, len(committed.inputs) + 384))
    assert np.array_equal(again.probabilities(X), committed.probabilities(X))


def test_committed_type_models_are_the_fit_of_the_recorded_data(encoder) -> None:
    """Refitting with the recorded selection reproduces the committed coefficients, and the committed
    file's predictions on every training claim are exactly the fitter's."""
    model = load_model()
    prov = model.type_training
    assert prov is not None and prov["papers"] == sorted(p.stem for p in (PAPERS / "extraction").glob("*.yaml"))
    files = {f"papers/{s}": paper_file(PAPERS, s) for s in prov["papers"]}
    files.update({f"papers/{s}.yaml": PAPERS / "extraction" / f"{s}.yaml" for s in prov["papers"]})
    files.update({f"templates/{k}": v for k, v in _templates().items()})
    assert data_hash(files)["sha256"] == prov["sha256"], (
        "bench data changed: python bench/fit_extraction.py --types-only"
    )
    ex = load_type_examples(PAPERS, _templates(), encoder=encoder)
    for with_encoder, part in ((True, model.types_with_encoder), (False, model.types_cue_only)):
        sel = prov["selected_by_leave_one_paper_out"]["with_encoder" if with_encoder else "cue_only"]
        refit = fit_types(ex, with_encoder, sel["l2"], sel["emb_shrink"], sel["template_weight"])
        assert part is not None
        assert np.allclose(refit.coef, part.coef, atol=1e-6) and np.allclose(refit.bias, part.bias, atol=1e-6)
        X = ex.X(with_encoder)
        assert part.predict(X) == refit.predict(X)


def test_leave_one_paper_out_types_beat_the_majority_type() -> None:
    """Cue-only type models, each fitted without one paper, type that paper's claims far above the
    majority type's share (an independent baseline: always the most frequent type of the others)."""
    ex = load_type_examples(PAPERS, {}, encoder=False)
    right = majority = 0
    for g in range(len(ex.papers)):
        test = ex.groups == g
        m = fit_types(ex.subset(~test), False, 10.0, 1.0, 0.0)
        truth = [t for t, k in zip(ex.types, test) if k]
        right += sum(p == t for p, t in zip(m.predict(ex.X(False)[test]), truth))
        others = [t for t, k in zip(ex.types, test) if not k]
        top = max(set(others), key=others.count)
        majority += sum(t == top for t in truth)
        assert "papers" not in m.model_dump()  # the model holds no sentence of its training papers
    n = int((ex.groups >= 0).sum())
    assert right / n >= 0.55 and right / n >= majority / n + 0.2, (right, majority, n)


# Sentences of fields none of the labelled papers covers, each under the section a paper would put it in.
NEW_FIELDS = """# A field study

## 2. Methods

Households were sampled at random from the voter rolls of 48 villages and interviewed in their homes.

Soil samples were dried at 40 °C for 72 h and sieved to 2 mm before analysis.

The primary outcome was the share of children attending school at the end of the year.

## 3. Results

Attendance rose from 61 % to 74 % in treated villages.

The cash-transfer arm outperformed the information-only arm by 9 percentage points.

## 4. Discussion

We studied a single district, so the effect may not generalise to urban areas.

The survey did not record household income directly.
"""
EXPECTED = ["data", "setup", "protocol", "result", "comparison", "scope", "scope"]


def test_types_of_sentences_from_new_fields(encoder) -> None:
    doc = parse_markdown(NEW_FIELDS, "new.md", "0" * 64)
    cands = extract_candidates(doc, threshold=0.0, encoder=encoder).candidates
    got = [c.type for c in cands]
    assert len(got) == len(EXPECTED)
    right = sum(g == e for g, e in zip(got, EXPECTED))
    assert right >= 5, list(zip(got, EXPECTED))


def test_eval_script_on_a_new_folder_and_a_bad_one(tmp_path: Path) -> None:
    (tmp_path / "papers").mkdir()
    (tmp_path / "extraction").mkdir()
    (tmp_path / "papers" / "p.md").write_text(NEW_FIELDS, encoding="utf-8")
    sentences = [s for s in NEW_FIELDS.splitlines() if s and not s.startswith("#")]
    lab = {
        "title": "A field study",
        "sections": [{"name": "All", "sentences": [{"text": s, "type": t} for s, t in zip(sentences, EXPECTED)]}],
    }
    (tmp_path / "extraction" / "p.yaml").write_text(yaml.safe_dump(lab), encoding="utf-8")
    script = str(REPO / "bench" / "eval_extraction_heldout.py")
    out = subprocess.run(
        [sys.executable, script, "--data", str(tmp_path), "--cue-only"], capture_output=True, text=True, check=True
    ).stdout
    row = next(line for line in out.splitlines() if line.startswith("p "))
    assert "/7" in row and "confusion" in out and "missed" in out
    bad = subprocess.run([sys.executable, script, "--data", str(tmp_path / "nothing")], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no labelled papers" in bad.stderr
