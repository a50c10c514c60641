"""The second registry, claims/me5-prefixes.yaml: verified like hybrid.yaml, from its published results."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from repro.checks.base import Verdict
from repro.checks.tested import fixed_models
from repro.claims.registry import load_registry
from repro.claims.verify import verify

REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "claims" / "me5-prefixes.yaml"
PUBLISHED = REPO / "results" / "me5-prefixes" / "full"
COMMITTED = REPO / "results" / "claims" / "me5-prefixes" / "full" / "verdicts.json"


@pytest.fixture()
def results_root(tmp_path: Path) -> Path:
    """A results root holding a copy of the published evaluation-only results (verify writes beside them)."""
    root = tmp_path / "results"
    shutil.copytree(PUBLISHED, root / "me5-prefixes" / "full")
    return root


def test_published_results_give_the_committed_verdicts(results_root: Path, tmp_path: Path) -> None:
    out = verify(REGISTRY, "full", results_root=results_root, papers_dirs=[tmp_path], progress=False, run_missing=False)
    committed = json.loads(COMMITTED.read_text())
    assert [(c.id, c.verdict.value) for c in out.claims] == [(c["id"], c["verdict"]) for c in committed["claims"]]
    # MLQA-R leaves one part of E1 and of E2 undecided: partially reproduced (no part failed).
    assert [c.verdict for c in out.claims] == [Verdict.PARTIAL, Verdict.PARTIAL, Verdict.NOT_CHECKED]
    # Every claim got the verdict the registry expected before anything ran.
    assert all(c.verdict == c.expect for c in out.claims)
    # Fixed models (evaluation only): one "seed pair", decided over the parallel items.
    tests = [t for c in out.claims for r in c.checks for t in getattr(r, "tests", [])]
    assert tests and all(t.n_seeds == 1 and t.min_seeds == 1 for t in tests)
    decisive = [t for t in tests if t.outcome == "supported"]
    assert {t.key.split("|")[0] for t in decisive} == {"xquad-r"}
    headlines = [r.headline for c in out.claims[:2] for r in c.checks if getattr(r, "tests", None)]
    assert headlines and all("untrained models, no seeds" in h and "seed pair" not in h for h in headlines)


def test_a_text_claim_without_its_source_is_not_checked_never_passed(results_root: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no-papers"
    empty.mkdir()
    out = verify(
        REGISTRY,
        "full",
        results_root=results_root,
        papers_dirs=[empty],
        progress=False,
        run_missing=False,
        claim_ids=["E3"],
    )
    (claim,) = out.claims
    assert claim.verdict == Verdict.NOT_CHECKED and claim.confidence is None
    assert [r.headline for r in claim.checks] == ["not checked: source text unavailable"]
    # With the report's text in a papers folder, the same check reads it (and can no longer say "not checked").
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "2402.05672.md").write_text(
        "# Multilingual E5 Text Embeddings: A Technical Report\n\n## Abstract\n\nThe training procedure adheres "
        "to the English E5 model recipe, involving contrastive pre-training on 1 billion multilingual text pairs, "
        "followed by fine-tuning on a combination of labeled datasets.\n"
    )
    out = verify(
        REGISTRY,
        "full",
        results_root=results_root,
        papers_dirs=[papers],
        progress=False,
        run_missing=False,
        claim_ids=["E3"],
    )
    (check,) = out.claims[0].checks
    assert check.verdict == Verdict.REPRODUCED and "§Abstract" in check.headline


def test_fixed_models_are_the_untrained_ones() -> None:
    me5 = load_registry(REGISTRY)
    ctx = me5.check_context(REGISTRY, "full")
    assert fixed_models(ctx, "prefixed", "bare") and fixed_models(ctx, "prefixed", "swapped")
    hybrid_path = REPO / "claims" / "hybrid.yaml"
    hybrid = load_registry(hybrid_path).check_context(hybrid_path, "full")
    # A trained arm brings its training seeds: the three-seed rule holds for it, even against the base model.
    assert not fixed_models(hybrid, "hybrid", "mono") and not fixed_models(hybrid, "hybrid", "base")
    assert fixed_models(hybrid, "base")


def test_unknown_profiles_name_the_known_ones() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "repro.cli", "verify", str(REGISTRY), "--profile", "paper", "--no-run"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert "unknown profile 'paper'" in out.stderr and "known: quick, full" in out.stderr
