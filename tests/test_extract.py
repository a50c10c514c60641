"""Structured documents from PDFs and Markdown, claim candidates, table checks and draft merging."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest
import yaml
from conftest import require

from repro.claims.extract import extract_candidates
from repro.claims.merge import merge_candidates, similar
from repro.errors import ReproError
from repro.sources.loader import load_document
from repro.sources.markdown import parse_markdown
from repro.sources.pdf import load_pdf, parse_pdf
from repro.sources.sentences import split_sentences
from repro.sources.tables import build_cells, check_means
from tests.paper_fixtures import BACKGROUND, CHINESE, CLAIM, FOOTNOTE, GREEK, RUSSIAN, make_paper

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "papers" / "2408.10536-openreview.md"


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def paper_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_paper(tmp_path_factory.mktemp("paper") / "paper.pdf")


@pytest.fixture(scope="module")
def doc(paper_pdf: Path):
    return parse_pdf(paper_pdf)


def _sentence_block(doc, text: str):
    return next(b for b in doc.blocks if text in b.text)


def test_pdf_pages_sections_and_headings(doc) -> None:
    assert doc.pages >= 3
    heads = [(b.text, b.level) for b in doc.headings()]
    assert ("1 Introduction", 1) in heads and ("3.1 Analysis", 2) in heads
    assert doc.title == "Hybrid Batches for Multilingual Retrieval"
    claim = _sentence_block(doc, CLAIM)
    assert claim.page == 1 and claim.section == "1 Introduction" and claim.kind == "text"


def test_two_columns_are_read_left_then_right(doc) -> None:
    page1 = [b for b in doc.blocks if b.page == 1 and b.kind != "heading"]
    assert {b.column for b in page1} == {0, 1}
    # Reading order: every left-column block of the page comes before the right column's.
    cols = [b.column for b in page1 if b.kind == "text" and b.column is not None]
    assert cols == sorted(cols)
    # Sections follow reading order: "2 Method" starts after "1 Introduction" everywhere.
    order = [b.text for b in doc.headings()]
    assert order.index("1 Introduction") < order.index("2 Method") < order.index("3 Results")


def test_footnote_caption_and_non_latin_text(doc) -> None:
    foot = _sentence_block(doc, "validation set is held out")
    assert foot.kind == "footnote" and foot.text == FOOTNOTE
    body_pages = [b.page for b in doc.blocks if b.kind == "text" and b.page == foot.page]
    assert body_pages, "the footnote's page also has body text"
    assert doc.blocks.index(foot) > max(i for i, b in enumerate(doc.blocks) if b.page == foot.page and b.kind == "text")
    cap = _sentence_block(doc, "Table 1:")
    assert cap.kind == "caption" and cap.text == "Table 1: mAP on XQuAD-R."
    assert any(b.text == f"{GREEK} {RUSSIAN}" for b in doc.blocks)
    assert any(b.text == CHINESE and b.section == "4 Languages" for b in doc.blocks)


def test_table_cells_with_headers_and_mean_check(doc) -> None:
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert table.number == "1" and table.section == "3 Results"
    cell = next(c for c in table.cells if c.row_header == "Hybrid" and c.col_header == "de")
    assert cell.text == ".670" and cell.value == pytest.approx(0.67)
    # Table text stays out of the prose.
    assert not any(b.text.startswith("Model en de") for b in doc.blocks)
    issues = check_means(table)
    assert len(issues) == 1
    assert issues[0].row_header == "Hybrid" and issues[0].printed == pytest.approx(0.635)
    assert issues[0].recomputed == pytest.approx(0.69)


def test_mean_check_names_the_swapped_digit() -> None:
    # The LaBSE case of the paper's notes: a cell printed .8211 where .8121 reproduces the mean.
    rows = [["lang", "Proposed"], ["el", ".8211"], ["en", ".8000"], ["de", ".8200"], ["Mean", ".8107"]]
    from repro.sources.document import DocTable

    table = DocTable(number="5", rows=rows, cells=build_cells(rows))
    issues = check_means(table)
    assert len(issues) == 1 and issues[0].suspects == ["el / Proposed = .8211 (-> 0.8121)"]
    rows[1][1] = ".8121"
    assert check_means(DocTable(rows=rows, cells=build_cells(rows))) == []


def test_pdf_cache_by_sha(paper_pdf: Path, tmp_path: Path) -> None:
    first = load_pdf(paper_pdf)
    cached = list((tmp_path / "home" / "papers" / "documents").glob(f"{first.sha256}*.json"))
    assert len(cached) == 1
    assert load_pdf(paper_pdf) == first


def test_markdown_document() -> None:
    text = (
        "**012 013**\n\n# Title\n\n# 2 Method\n\nWe use **hybrid** [batches](#x). It helps.\n**031**\nMore text.\n\n"
        "Table 1: Scores.\n\n| m | a | Mean |\n|---|---|---|\n| x | <b>.5</b> | .5 |\n"
    )
    doc = parse_markdown(text, "t.md", "0" * 64)
    assert [h.text for h in doc.headings()] == ["Title", "2 Method"]
    para = next(b for b in doc.blocks if b.kind == "text")
    assert (
        para.text == "We use hybrid batches. It helps. More text." and para.page is None and para.section == "2 Method"
    )
    assert doc.tables[0].number == "1" and doc.tables[0].cells[0].value == 0.5


def test_mirror_markdown_and_table_issue() -> None:
    require(MIRROR.is_file(), f"the papers mirror ({MIRROR})", "put the offline mirror at ../shared")
    doc = load_document(MIRROR)
    assert "MIRACL" in " ".join(b.text for b in doc.blocks if b.section and b.section.startswith("A.3"))
    t5 = doc.table("5")
    issues = [i for i in check_means(t5) if "Monolingual / Proposed" in i.col_header and i.row_header.endswith("Mean")]
    assert issues and issues[0].printed == pytest.approx(0.8167)


def test_sentences() -> None:
    text = "We follow Roy et al. (2020) here. Scores rise to 0.81, i.e. a gain. Fig. 2 shows it. 它很好。它也快。"
    assert split_sentences(text) == [
        "We follow Roy et al. (2020) here.",
        "Scores rise to 0.81, i.e. a gain.",
        "Fig. 2 shows it.",
        "它很好。",
        "它也快。",
    ]


def test_candidates_from_pdf(doc) -> None:
    ex = extract_candidates(doc)
    texts = [c.text for c in ex.candidates]
    assert CLAIM in texts and BACKGROUND not in texts
    cand = next(c for c in ex.candidates if c.text == CLAIM)
    assert cand.page == 1 and cand.section == "1 Introduction" and cand.confidence >= 0.5
    assert {m.id for m in cand.entities} >= {"hybrid", "X-Y", "XQuAD-R", "mAP"}
    assert cand.check_complete
    assert cand.check == {
        "kind": "comparison",
        "task": "xquad-r",
        "metric": "Mul mAP",
        "a": "hybrid",
        "b": ["xy"],
        "claim": "better",
    }
    table_claim = next(c for c in ex.candidates if c.text.startswith("Table 1 shows"))
    assert {"what": "Hybrid / de", "value": 0.67, "where": "Table 1"} in table_claim.reported
    assert len(ex.table_issues) == 1


def test_merge_creates_dedups_and_keeps_comments(doc, tmp_path: Path) -> None:
    cands = extract_candidates(doc).candidates
    target = tmp_path / "claims" / "paper.yaml"
    added, skipped = merge_candidates(target, cands, arxiv="2408.10536")
    data = yaml.safe_load(target.read_text())
    assert data["name"] == "paper" and [c["id"] for c in data["claims"]] == added
    assert all(c["status"] == "draft" and c["source"]["quote"] == c["text"] for c in data["claims"])
    again, skipped = merge_candidates(target, cands)
    assert again == [] and skipped == len(cands)

    reg = tmp_path / "reg.yaml"
    reg.write_text(
        "# people wrote this\nname: r\nclaims:\n  - id: D1  # keep me\n    text: Something else entirely.\n"
        "  - id: C7\n    text: " + CLAIM.replace("Our", "our").rstrip(".") + "\n"
    )
    added, skipped = merge_candidates(reg, cands)
    text = reg.read_text()
    assert "# people wrote this" in text and "# keep me" in text
    assert "D1" not in added and added[0] == "D2" and skipped == 1
    assert [c["id"] for c in yaml.safe_load(text)["claims"]][:2] == ["D1", "C7"]


def test_similar() -> None:
    assert similar(
        "The approach fine-tunes models using a mix of monolingual and cross-lingual pair b[atches].",
        "The approach fine-tunes models using a mix of monolingual and cross-lingual pair batches.",
    )
    assert not similar("Hybrid beats X-Y on MLQA-R.", "Hybrid loses to X-Y on MIRACL in every language.")


# ---- bad PDFs through the real CLI: exit code 2, one line, no traceback


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from repro.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def _bad_pdfs(tmp: Path) -> dict[str, Path]:
    empty = tmp / "empty.pdf"
    empty.write_bytes(b"")
    corrupt = tmp / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n" + os.urandom(300))
    enc = tmp / "encrypted.pdf"
    d = pymupdf.open()
    d.new_page().insert_text((72, 72), "secret")
    d.save(enc, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="o", user_pw="u")
    img = tmp / "scan.pdf"
    d = pymupdf.open()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 40), False)
    pix.clear_with(200)
    d.new_page().insert_image(pymupdf.Rect(72, 72, 300, 300), pixmap=pix)
    d.save(img)
    return {"empty": empty, "corrupt": corrupt, "encrypted": enc, "image-only": img}


@pytest.mark.parametrize(
    "kind,needle",
    [
        ("empty", "empty file"),
        ("corrupt", "not a readable PDF"),
        ("encrypted", "encrypted"),
        ("image-only", "no text layer"),
    ],
)
def test_bad_pdfs_are_one_line_errors(tmp_path: Path, kind: str, needle: str) -> None:
    path = _bad_pdfs(tmp_path)[kind]
    out = _cli("claims", "extract", "--pdf", str(path), env={"REPRO_HOME": str(tmp_path / "h")})
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in out.stderr, out.stderr


def test_cli_extract_into_registry(paper_pdf: Path, tmp_path: Path) -> None:
    target = tmp_path / "drafts.yaml"
    out = _cli(
        "claims", "extract", "--pdf", str(paper_pdf), "--into", str(target), env={"REPRO_HOME": str(tmp_path / "h")}
    )
    assert out.returncode == 0, out.stderr
    assert f"[p. 1]  {CLAIM}" in out.stdout and "table check: Table 1" in out.stdout
    assert CLAIM in [c["text"] for c in yaml.safe_load(target.read_text())["claims"]]
    out = _cli("claims", "extract", "--pdf", str(paper_pdf), "--arxiv", "2408.10536")
    assert out.returncode == 2 and "exactly one of" in out.stderr


def test_load_document_rejects_missing_and_binary(tmp_path: Path) -> None:
    with pytest.raises(ReproError, match="not found"):
        load_document(tmp_path / "nope.pdf")
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(ReproError, match="neither a PDF nor UTF-8"):
        load_document(binary)
