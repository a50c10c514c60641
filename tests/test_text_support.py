"""The text check: passages that support a claim, verdicts and their mapping to check verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import require

from repro.checks.base import CheckResult, Verdict
from repro.checks.text import TextCheck
from repro.checks.text_support import SUPPORTED_AT, find_support, support_probability
from repro.claims.registry import Claim, Paper, Registry
from repro.sources.pdf import parse_pdf
from tests.paper_fixtures import CLAIM, make_paper


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory):
    return parse_pdf(make_paper(tmp_path_factory.mktemp("ts") / "paper.pdf"))


@pytest.fixture(scope="module")
def encoder():
    from repro.models.encoder import Encoder

    try:
        return Encoder("e5-small", max_length=128, batch_size=32)
    except Exception as exc:  # noqa: BLE001 - no prepared model on this machine
        require(False, f"the e5-small encoder ({exc})", "make model prepares it")


def test_probability_is_monotone() -> None:
    assert support_probability(0.95, 1.0) > SUPPORTED_AT > support_probability(0.80, 0.2)
    assert support_probability(0.9, 0.9) > support_probability(0.9, 0.5)
    assert support_probability(None, 1.0) > SUPPORTED_AT > support_probability(None, 0.3)


def test_bm25_only_finds_the_sentence_and_page(doc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path))
    s = find_support("Hybrid batch training outperforms X-Y batching on XQuAD-R.", doc, encoder=None)
    assert s.verdict == "supported" and s.best.quote == CLAIM and s.best.page == 1
    assert s.best.section == "1 Introduction"
    miss = find_support("Reinforcement learning from human feedback doubles GPU throughput.", doc, encoder=None)
    assert miss.verdict == "not found" and miss.support < SUPPORTED_AT


def test_dense_paraphrase_and_negative(doc, encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path))
    s = find_support(
        "Training on hybrid batches beats cross-lingual X-Y batches for multilingual retrieval on XQuAD-R.",
        doc,
        encoder=encoder,
        top_k=2,
    )
    assert s.verdict == "supported" and s.best.quote == CLAIM and len(s.passages) == 2
    assert s.best.cosine is not None and s.passages[0].support >= s.passages[1].support
    assert (
        find_support("The model is distilled from a cross-encoder teacher on MS MARCO.", doc, encoder=encoder).verdict
        == "not found"
    )


def _run(paper_dir: Path, claim: str, check: TextCheck) -> CheckResult:
    reg = Registry(
        name="t",
        paper=Paper(arxiv="2408.10536", mirror="paper.pdf"),
        claims=[Claim(id="C1", text=claim, evidence=["text"], checks=[check])],
    )
    ctx = reg.check_context(paper_dir / "claims.yaml", "quick", papers_dirs=[paper_dir])
    return check.run(ctx, reg.claims[0].ref())


def test_text_check_verdicts(doc, encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "h"))
    paper_dir = tmp_path / "papers"
    make_paper(paper_dir / "paper.pdf")
    check = TextCheck(kind="text")
    r = _run(paper_dir, "Hybrid batch training outperforms X-Y batching on XQuAD-R.", check)
    assert r.verdict == Verdict.REPRODUCED and r.confidence >= SUPPORTED_AT
    assert "p. 1" in r.headline and "outperforms X-Y batching" in r.headline

    check = TextCheck(kind="text", expect_quote="MIRACL")
    r = _run(paper_dir, "Hybrid batch training outperforms X-Y batching on XQuAD-R.", check)
    assert r.verdict == Verdict.INCONCLUSIVE and "lacks 'MIRACL'" in r.headline

    check = TextCheck(kind="text")
    r = _run(paper_dir, "The approach relies on reinforcement learning from human feedback.", check)
    assert r.verdict == Verdict.INCONCLUSIVE and "does not confirm" in r.headline

    check = TextCheck(kind="text", source="missing.pdf")
    r = _run(paper_dir, "Anything.", check)
    assert r.verdict == Verdict.NOT_CHECKED and r.headline == "not checked: source text unavailable"
