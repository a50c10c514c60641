"""Tables set as journals set them, read back from PDFs, and the paper self-check on PDFs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest
from conftest import require

from repro.claims.registry import load_registry
from repro.sources.consistency import check_document
from repro.sources.pdf import join_hyphenated, parse_pdf
from repro.sources.synthetic import Paper, Paragraph, Section, TableSpec, write_paper

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "papers" / "2408.10536-openreview.md"
HYBRID = load_registry(REPO / "claims" / "hybrid.yaml").vocab(REPO / "claims" / "hybrid.yaml")

RANK = TableSpec(
    "Table 1: Rank distance (lower is better).",
    [
        ["Source", "XLM-R", "", "", "LaBSE", "", ""],
        ["", "X-X-mono", "X-Y", "Proposed", "X-X-mono", "X-Y", "Proposed"],
        ["ar", "552.8", "371.5", "376", "332.4", "279", "285.4"],
        ["de", "356.6", "252.8", "242.1", "214.9", "192", "175.1"],
        ["Mean", "454.7", "312.2", "309.1", "273.7", "235.5", "230.3"],
    ],
    style="booktabs",
)


def _trial(tmp: Path, planted: bool) -> Path:
    """A small two-column trial report; ``planted`` puts in one inconsistency of each kind."""
    total = "27 (6.6)" if planted else "25 (6.1)"
    sections = [
        Section(
            "1 Methods",
            [Paragraph(["In this trial, 412 adults with uncontrolled hypertension were randomised across 38 sites."])],
        ),
        Section(
            "2 Results",
            [
                Paragraph(
                    [
                        "Table 1 summarises species richness.",
                        f"Nitrogen addition reduced richness by {31 if planted else 24} % at Ridgecrest relative to control plots.",
                        f"The combined treatment had the highest richness, reaching {15.9 if planted else 15.6} species at Willow Flats.",
                    ]
                ),
                TableSpec(
                    "Table 1: Species richness per m².",
                    [
                        ["Treatment", "Ridgecrest", "Willow Flats"],
                        ["Control", "14.2", "11.6"],
                        ["Nitrogen", "10.8", "9.4"],
                        ["Fenced", "15.6", "15.6"],
                    ],
                    style="booktabs",
                ),
                Paragraph(["Adverse events are listed in Table 2."]),
                TableSpec(
                    "Table 2: Adverse events, n (%).",
                    [
                        ["Event", "Placebo", "25 mg", "50 mg", "Total (n = 412)"],
                        ["Dizziness", "6 (4.3)", "8 (5.8)", "11 (8.0)", total],
                        ["Headache", "9 (6.5)", "7 (5.1)", "6 (4.4)", "22 (5.3)"],
                    ],
                    style="booktabs",
                ),
            ],
        ),
        Section(
            "3 Discussion",
            [
                Paragraph(
                    [
                        f"In this trial of {418 if planted else 412} adults with uncontrolled hypertension, both doses worked."
                    ]
                )
            ],
        ),
    ]
    return write_paper(Paper("A Trial", sections), tmp / f"trial-{planted}.pdf", hyphenate=True)


def test_a_rule_set_table_is_read_with_its_spanning_headers(tmp_path: Path) -> None:
    path = write_paper(
        Paper("T", [Section("1 Results", [Paragraph(["Table 1 gives the rank distances."]), RANK])]), tmp_path / "t.pdf"
    )
    doc = parse_pdf(path)
    assert len(doc.tables) == 1
    t = doc.tables[0]
    assert (t.number, t.caption) == ("1", "Table 1: Rank distance (lower is better).")
    assert t.rows == RANK.rows
    cell = next(c for c in t.cells if c.row_header == "ar" and c.col == 5)
    assert (cell.value, cell.col_header) == (279.0, "LaBSE / X-Y")
    # A spanning head's first column: XLM-R heads X-X-mono, not only the column it is centred over.
    assert next(c for c in t.cells if c.row_header == "Mean" and c.col == 1).col_header == "XLM-R / X-X-mono"
    # Its rows are the table's, not prose.
    assert not [b for b in doc.blocks if "552.8" in b.text or "X-X-mono" in b.text]


def test_findings_on_a_pdf_with_one_inconsistency_of_each_kind(tmp_path: Path) -> None:
    found = check_document(parse_pdf(_trial(tmp_path, planted=True)), HYBRID)
    assert sorted((f.kind, f.table or "", f.message) for f in found) == sorted(
        [
            ("table mean", "Table 2", "Table 2: printed Dizziness / Total (n = 412) = 27 but the cells give 25.0000"),
            (
                "conflicting values",
                "Table 1",
                "the text gives 15.9 for Fenced / Willow Flats where Table 1 prints 15.6 (the highest of Willow Flats)",
            ),
            (
                "conflicting values",
                "",
                "the text gives 418 adults with uncontrolled here and 412 adults with uncontrolled in another place",
            ),
            (
                "relative change",
                "Table 1",
                "the text states 31 % at Ridgecrest but Table 1 gives 14.2 -> 10.8 (Control and Nitrogen), a change of 23.9%",
            ),
        ]
    )
    twice = next(f for f in found if "418" in f.message)
    assert twice.section == "3 Discussion" and "412 adults" in twice.elsewhere[0]


def test_no_finding_on_the_clean_pdf(tmp_path: Path) -> None:
    doc = parse_pdf(_trial(tmp_path, planted=False))
    assert [t.label for t in doc.tables] == ["Table 1", "Table 2"]
    assert check_document(doc, HYBRID) == []


def test_words_hyphenated_at_line_ends_are_rejoined(tmp_path: Path) -> None:
    words = ["dual-salt", "Cell-to-cell", "retrieval"]
    fillers = ["a", "an", "the", "to", "of", "and", "in", "on"]
    sentences = [
        f"Some {' '.join(fillers[: k % 8])} {'x' * (k % 5)} text for {w} runs here." for k in range(60) for w in words
    ]
    path = write_paper(Paper("H", [Section("1 Text", [Paragraph(sentences)])]), tmp_path / "h.pdf", hyphenate=True)
    raw = "\n".join(page.get_text() for page in pymupdf.open(path))
    # The layout did break each word at a line end ...
    assert "dual-\nsalt" in raw and "Cell-to-\ncell" in raw and "retrie-\nval" in raw
    text = " ".join(b.text for b in parse_pdf(path).blocks)
    # ... and the parse reads them whole.
    for bad in ("dualsalt", "Cell-tocell", "retrie-val", "retrie val", "dual- salt"):
        assert bad not in text
    assert text.count("retrieval") == text.count("dual-salt") == text.count("Cell-to-cell") == 60
    assert join_hyphenated("a cross-", "sectional study", {"a", "study"}) == "a cross-sectional study"
    assert join_hyphenated("EVALUA-", "TION", {"evaluation"}) == "EVALUATION"
    assert join_hyphenated("XQuAD-", "R", {"xquad-r"}) == "XQuAD-R"


def test_cli_json_marks_the_tables_and_keeps_their_rows_out_of_the_claims(tmp_path: Path) -> None:
    path = _trial(tmp_path, planted=True)
    out = subprocess.run(
        [sys.executable, "-m", "repro.cli", "claims", "extract", "--pdf", str(path), "--json"],
        capture_output=True,
        text=True,
        env={"REPRO_HOME": str(tmp_path / "h"), "PATH": "/usr/bin:/bin"},
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [(t["number"], t["caption"]) for t in data["tables"]] == [
        ("1", "Table 1: Species richness per m²."),
        ("2", "Table 2: Adverse events, n (%)."),
    ]
    dizzy = next(c for c in data["tables"][1]["cells"] if c["row_header"] == "Dizziness" and c["col"] == 4)
    assert (dizzy["value"], dizzy["col_header"], dizzy["text"]) == (27.0, "Total (n = 412)", "27 (6.6)")
    assert not [c for c in data["candidates"] if "Dizziness" in c["text"] or "14.2" in c["text"]]
    assert {f["kind"] for f in data["findings"]} == {"table mean", "conflicting values", "relative change"}


@pytest.mark.slow
def test_the_seed_papers_pdf_has_only_its_real_findings(tmp_path: Path) -> None:
    from bench.extraction_eval import render_document
    from repro.sources.loader import load_document

    require(MIRROR.is_file(), f"the papers mirror ({MIRROR})", "put the offline mirror at ../shared")
    md = load_document(MIRROR)
    pdf = parse_pdf(render_document(md, tmp_path / "seed.pdf"))
    assert [t.label for t in pdf.tables] == [f"Table {i}" for i in range(1, 14)]
    rank = pdf.table("7")
    assert rank.rows[3] == ["ar", "552.8", "371.5", "376", "332.4", "279", "285.4"]
    got = sorted((f.kind, f.table or "", f.message) for f in check_document(pdf, HYBRID))
    assert got == sorted((f.kind, f.table or "", f.message) for f in check_document(md, HYBRID))
    assert [k for k, _, _ in got].count("table mean") == 1
