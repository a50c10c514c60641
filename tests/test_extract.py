"""Structured documents, claim candidates and their types, the paper checked against itself, draft merging."""

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
from repro.claims.registry import load_registry
from repro.errors import MissingComponent, ReproError
from repro.sources.loader import load_document
from repro.sources.markdown import parse_markdown
from repro.sources.pdf import load_pdf, parse_pdf
from repro.sources.sentences import split_sentences
from repro.sources.tables import build_cells, check_means
from tests.paper_fixtures import BACKGROUND, CHINESE, CLAIM, FOOTNOTE, GREEK, RUSSIAN, make_paper

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "papers" / "2408.10536-openreview.md"
# The seed paper's method names and arms come from its registry's vocabulary.
HYBRID = load_registry(REPO / "claims" / "hybrid.yaml").vocab(REPO / "claims" / "hybrid.yaml")


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
    ex = extract_candidates(doc, vocab=HYBRID)
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
    # "Table 1 shows that ..." scores 0.15 with the learned model (every "Table N ..." sentence of its
    # training data is a roadmap, not a claim: a known miss, docs/claims-extraction.md); the table
    # numbers it refers to are still attached.
    low = extract_candidates(doc, vocab=HYBRID, threshold=0.1)
    table_claim = next(c for c in low.candidates if c.text.startswith("Table 1 shows"))
    assert {"what": "Hybrid / de", "value": 0.67, "where": "Table 1"} in table_claim.reported
    assert len(ex.table_issues) == 1


def test_merge_creates_dedups_and_keeps_comments(doc, tmp_path: Path) -> None:
    cands = extract_candidates(doc, vocab=HYBRID).candidates
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
    assert "D1" not in added and added[0] == "D2" and skipped == len(cands) - len(added)
    # The claim already there as C7 is skipped (and repeated sentences are added once).
    assert CLAIM not in {c["text"] for c in yaml.safe_load(text)["claims"][2:]}
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
    assert f"[p. 1]  comparison  {CLAIM}" in out.stdout
    assert "finding (table mean; p. 1, 3 Results, Table 1): Table 1: printed Hybrid / Avg = 0.635" in out.stdout
    data = yaml.safe_load(target.read_text())
    assert CLAIM in [c["text"] for c in data["claims"]]
    assert [f["kind"] for f in data["findings"]] == ["table mean"] and "1 findings added" in out.stdout
    out = _cli("claims", "extract", "--pdf", str(paper_pdf), "--arxiv", "2408.10536")
    assert out.returncode == 2 and "exactly one of" in out.stderr


def test_load_document_rejects_missing_and_binary(tmp_path: Path) -> None:
    with pytest.raises(ReproError, match="not found"):
        load_document(tmp_path / "nope.pdf")
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(ReproError, match="neither a PDF nor UTF-8"):
        load_document(binary)


# ---- claim types and the values of setup and data claims
@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("We fine-tune with AdamW, a learning rate of 3e-5 and a batch size of 100.", "setup"),
        ("Model training experiments were conducted using one NVIDIA A100-80 GB GPU.", "setup"),
        ("XQuAD-R and MLQA-R are datasets with parallel questions in 11 languages and 7 languages.", "data"),
        ("These evaluation datasets were not used during the training phase of the models.", "protocol"),
        ("We report the mean average precision (mAP) for XQuAD-R and MLQA-R.", "protocol"),
        ("This work does not address issues related to fairness in multilingual settings.", "scope"),
        ("Hybrid batch training reduces language bias compared to monolingual training.", "comparison"),
        ("Language bias falls as the share of cross-lingual batches grows.", "result"),
    ],
)
def test_claim_types(sentence: str, kind: str) -> None:
    from repro.claims.claim_types import claim_type

    assert claim_type(sentence, HYBRID.find(sentence)) == kind


def test_setup_values_and_the_experiment_beside_them() -> None:
    from repro.claims.claim_types import against_config, parse_values

    values = parse_values(
        "We fine-tune pre-trained models using AdamW optimizer (Loshchilov & Hutter, 2018) with weight decay set "
        "to 1e-2, a learning rate of 3e-5, and a batch size of 100 on 2 NVIDIA A100 GPUs with 3 seeds.",
        "setup",
    )
    assert values == {
        "weight_decay": pytest.approx(0.01),
        "learning_rate": pytest.approx(3e-5),
        "batch_size": 100,
        "gpus": 2,
        "seeds": 3,
        "optimizer": "AdamW",
        "hardware": "NVIDIA A100 GPUs",
    }
    beside = against_config(values, {"batch_size": 32, "lr": 3e-5, "steps": 60}, {"seed": [0, 1]})
    assert beside == [
        "learning rate: paper 3e-05; ours 3e-05",
        "batch size: paper 100; ours 32",
        "seeds: paper 3; ours 2",
    ]
    assert parse_values("Hybrid beats X-Y by 3 points.", "comparison") == {}


# ---- the paper checked against itself
def test_findings_of_the_mirrored_paper() -> None:
    from repro.sources.consistency import check_document

    require(MIRROR.is_file(), f"the papers mirror ({MIRROR})", "put the offline mirror at ../shared")
    found = check_document(load_document(MIRROR), HYBRID)
    msgs = [(f.kind, f.message) for f in found]
    assert ("table mean", next(m for k, m in msgs if k == "table mean")) and sum(
        k == "table mean" for k, _ in msgs
    ) == 1
    mean = next(f for f in found if f.kind == "table mean")
    assert mean.table == "Table 5" and "0.8167" in mean.message and "0.8184" in mean.message
    # The same quantity with two values: X-X-mono's XQuAD-R rank distance (XLM-R), 295.4 vs 410.2.
    rd = next(f for f in found if f.kind == "conflicting values" and "295.4" in f.message)
    assert rd.table == "Table 7" and "X-X-mono (XLM-R) 295.4" in rd.message and "410.2" in rd.message
    assert "outperforming both X-X-mono (295.4)" in rd.quote
    assert any("compared to 410.2 for X-X-mono" in e for e in rd.elsewhere)
    langs = [m for k, m in msgs if k == "conflicting values" and "languages" in m]
    assert "the text gives mMARCO 14 languages in one place and 13 in another" in langs
    wrong = next(f for f in found if f.kind == "reference")
    assert wrong.table == "Table 1" and "286.6" in wrong.message and "Table 7" in wrong.message
    count = next(f for f in found if f.kind == "count")
    assert count.message == "the text says three datasets but lists 2: MLQA-R, XQuAD-R"
    # Its relative changes (30.1 %, 15.4 %, 21 %, 13.4 %) all follow from the numbers they compare.
    assert not [f for f in found if f.kind == "relative change"]


def test_findings_of_a_made_up_paper() -> None:
    from repro.sources.consistency import check_document

    text = (
        "# 1 Results\n\nHybrid batching reduces the rank distance by 50% (from 410.2 to 286.6).\n\n"
        "It also reduces it by 13.4% (from 225.3 to 195).\n\n"
        "Table 9 and Figure 4 show more; see Section 7 and Table 1.\n\n"
        "We use two datasets: XQuAD-R and MLQA-R.\n\nFigure 1: The only figure.\n\n"
        "Table 1: Results.\n\n| Model | en | Mean |\n|---|---|---|\n| X-Y | .5 | .5 |\n"
    )
    found = check_document(parse_markdown(text, "t.md", "0"), HYBRID)
    change = next(f for f in found if f.kind == "relative change")
    assert change.message.startswith("the text states 50%") and "30.1%" in change.message
    assert "(from 410.2 to 286.6)" in change.quote
    refs = sorted(f.message for f in found if f.kind == "reference")
    assert refs == [
        "the text refers to figure 4, which the document does not have",
        "the text refers to section 7, which the document does not have",
        "the text refers to table 9, which the document does not have",
    ]
    assert not [f for f in found if f.kind == "count"]  # two datasets, two listed


def test_findings_merge_into_the_registry_once(tmp_path: Path) -> None:
    from repro.claims.merge import merge_findings
    from repro.claims.registry import load_registry
    from repro.sources.consistency import Finding

    reg = tmp_path / "r.yaml"
    reg.write_text("# mine\nname: r\nclaims:\n  - id: C1  # keep\n    text: A claim.\n")
    f1 = Finding(kind="table mean", message="Table 5: printed 0.8167", table="Table 5", quote="Table 5: x")
    f2 = Finding(kind="count", message="three datasets but two", page=4, section="3.2", quote="We evaluate ...")
    assert merge_findings(reg, [f1, f2]) == 2
    text = reg.read_text()
    assert "# mine" in text and "# keep" in text and text.index("findings:") < text.index("claims:")
    assert merge_findings(reg, [f1, f2]) == 0
    loaded = load_registry(reg)
    assert [f.kind for f in loaded.findings] == ["table mean", "count"] and loaded.findings[1].page == 4
    assert loaded.claims[0].id == "C1"
    # Claims are still appended at the end, findings stay where they are.
    f3 = Finding(kind="reference", message="table 9 missing")
    assert merge_findings(reg, [f1, f3]) == 1 and len(load_registry(reg).findings) == 3


def test_drafted_setup_claim_against_the_experiment(tmp_path: Path) -> None:
    from repro.claims.registry import load_registry

    require(MIRROR.is_file(), f"the papers mirror ({MIRROR})", "put the offline mirror at ../shared")
    reg = tmp_path / "drafts.yaml"
    sweep = REPO / "experiments" / "hybrid-sweep.yaml"
    reg.write_text(f"name: drafts\nexperiments:\n  sweep: {sweep}\nclaims: []\n")
    ex = extract_candidates(load_document(MIRROR), vocab=HYBRID)
    merge_candidates(reg, ex.candidates, arxiv="2408.10536")
    loaded = load_registry(reg)
    setup = next(c for c in loaded.claims if "batch size of 100" in c.text)
    assert setup.type == "setup" and setup.values["batch_size"] == 100
    assert "against sweep (full): " in setup.note and "batch size: paper 100; ours 32" in setup.note
    assert {c.type for c in loaded.claims} >= {"setup", "data", "protocol", "scope", "comparison", "result"}


# ---- damaged PDFs
def test_truncated_pdf_is_repaired_with_a_warning(paper_pdf: Path, tmp_path: Path) -> None:
    data = paper_pdf.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[:20000])  # page 1 survives, pages 2-3 lose their content
    doc = parse_pdf(cut)
    assert len(doc.warnings) == 1 and "text was recovered from 1 of 3 page(s)" in doc.warnings[0]
    assert {b.page for b in doc.blocks} == {1}
    out = _cli("claims", "extract", "--pdf", str(cut), env={"REPRO_HOME": str(tmp_path / "h")})
    assert out.returncode == 0 and "warning: " in out.stderr and "1 of 3 page(s)" in out.stderr
    assert parse_pdf(paper_pdf).warnings == []


def test_pdf_damaged_beyond_repair_is_a_one_line_error(paper_pdf: Path, tmp_path: Path) -> None:
    cut = tmp_path / "stub.pdf"
    cut.write_bytes(paper_pdf.read_bytes()[:400])
    out = _cli("claims", "extract", "--pdf", str(cut), env={"REPRO_HOME": str(tmp_path / "h")})
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert "damaged beyond repair" in lines[0] or "not a readable PDF" in lines[0] or "no pages" in lines[0]


# ---- extraction measured on generated papers (bench/eval_extraction.py), the claim model
def _training_files() -> dict[str, Path]:
    return {p.stem.removeprefix("extraction_"): p for p in sorted((REPO / "bench" / "data").glob("extraction_*.yaml"))}


@pytest.fixture(scope="module")
def claim_encoder():
    from repro.claims.claim_model import default_encoder

    try:
        return default_encoder()
    except MissingComponent as exc:  # no prepared model here; any other error is a failure
        require(False, f"the e5-small encoder ({exc})", "make model prepares it")


def test_extraction_on_generated_papers_per_type(claim_encoder) -> None:
    from bench.claim_fit import _fit_on, load_examples
    from bench.extraction_eval import evaluate

    files = _training_files()
    assert set(files) == {
        "tune",
        "tune_vision",
        "tune_speech",
        "tune_molecules",
        "heldout",
        "tune_traffic",
        "tune_codegen",
        "tune_ecg",
        "tune_chips",
    }
    # In-sample (every set is training data of the committed model).
    for name in ("tune", "heldout"):
        score = evaluate(files[name], papers=2)
        for kind, ts in score.by_type.items():
            assert ts.recall >= 0.85 and ts.precision >= 0.75 and ts.page_accuracy >= 0.95, (name, kind, ts)
    # One leave-one-set-out fold, through the PDF pipeline: the model selected and fitted without
    # `heldout` (docs/claims-extraction.md has all nine folds, bench/eval_extraction.py --cv).
    ex = load_examples(files, encoder=claim_encoder)
    others = {k: v for k, v in files.items() if k != "heldout"}
    fold = _fit_on(ex.subset(ex.groups != ex.set_names.index("heldout")), claim_encoder, others, 4)
    assert fold.training["sets"] == sorted(others)
    total = evaluate(files["heldout"], papers=2, model=fold).total()
    assert total.recall >= 0.85 and total.precision >= 0.75 and total.page_accuracy >= 0.95, total


def test_claim_model_refit_reproduces_the_committed_file(claim_encoder) -> None:
    from bench.claim_fit import data_hash, differences, fit_model
    from repro.claims.claim_model import load_model

    committed = load_model()
    assert committed.encoder["weights_sha256"] == claim_encoder.weights_sha256
    assert committed.training["sha256"] == data_hash(_training_files())["sha256"]
    # The claim part only: the type models are fitted on labelled papers (tests/test_claim_type_model.py).
    claim_part = committed.model_copy(
        update={"type_training": None, "types_with_encoder": None, "types_cue_only": None}
    )
    assert differences(fit_model(_training_files(), encoder=claim_encoder), claim_part) == []


def test_cue_only_scoring_and_the_fallback(doc, monkeypatch: pytest.MonkeyPatch) -> None:
    from repro.claims import claim_model, extract

    ex = extract_candidates(doc, vocab=HYBRID, use_encoder=False)
    texts = [c.text for c in ex.candidates]
    assert CLAIM in texts and BACKGROUND not in texts and ex.warnings == []

    def broken():
        raise ReproError("no model here")

    monkeypatch.setattr(extract, "default_encoder", broken)
    ex = extract_candidates(doc, vocab=HYBRID)
    assert len(ex.warnings) == 1 and "cue features only" in ex.warnings[0] and "no model here" in ex.warnings[0]
    assert [c.text for c in ex.candidates] == texts
    assert claim_model.load_model().cue_only.threshold == extract.default_threshold(use_encoder=False)


def test_embedding_text_leaves_citations_out() -> None:
    from repro.claims.claim_model import embedding_text

    assert (
        embedding_text("We use machine translation (Fan et al., 2021; Kim et al., 2021) for 9 languages [3, 5].")
        == "We use machine translation for 9 languages."
    )
    assert embedding_text("Table 2 (left) shows 3 seeds.") == "Table 2 (left) shows 3 seeds."


def test_report_shows_the_registry_findings(tmp_path: Path) -> None:
    from repro.claims.merge import merge_findings
    from repro.claims.verdicts import VerdictsFile
    from repro.report.html import render_html
    from repro.report.markdown import render_markdown
    from repro.sources.consistency import Finding

    reg = tmp_path / "r.yaml"
    reg.write_text("name: r\nclaims:\n  - id: C1\n    text: A claim.\n")
    merge_findings(
        reg,
        [
            Finding(
                kind="conflicting values",
                message="the text gives X-X-mono (XLM-R) 295.4 where Table 7 prints 410.2 <b>",
                section="4.2.2",
                table="Table 7",
                quote="outperforming both X-X-mono (295.4) | and X-Y",
                elsewhere=['§4.2.2: "compared to 410.2 for X-X-mono"'],
            )
        ],
    )
    from repro.claims.registry import load_registry

    # verify stores the registry's findings in the verdicts file; the report reads them from there.
    findings = load_registry(reg).findings
    vf = VerdictsFile(
        registry="r", registry_path=str(reg), profile="quick", created="now", claims=[], findings=findings
    )
    html = render_html(vf)
    assert '<section id="findings">' in html and "295.4 where Table 7 prints 410.2 &lt;b&gt;" in html
    assert "<td>4.2.2, Table 7</td>" in html and "also: §4.2.2" in html
    md = render_markdown(vf)
    assert "## Findings: the paper against itself" in md and "| conflicting values | 4.2.2, Table 7 |" in md
    assert "(295.4) \\| and X-Y" in md  # a pipe in the quote cannot break the table
    # A verdicts file without findings shows no such section.
    assert '<section id="findings">' not in render_html(vf.model_copy(update={"findings": []}))


def test_a_paragraph_cut_before_a_number_is_joined() -> None:
    from repro.sources.document import Block
    from repro.sources.pdf import _join_continuations

    def text(t: str, page: int) -> Block:
        return Block(kind="text", text=t, page=page, section="5 Results")

    joined = _join_continuations(
        [
            text("Per-stem scores for every test track are listed in Table", 3),
            Block(kind="footnote", text="1 A footnote.", page=3),
            text("3. The next sentence starts a new block.", 4),
            text("A new paragraph after a full stop.", 4),
            text("2024 was the year the corpus was released.", 4),
        ]
    )
    assert [(b.kind, b.text, b.page) for b in joined] == [
        (
            "text",
            "Per-stem scores for every test track are listed in Table 3. The next sentence starts a new block.",
            3,
        ),
        ("footnote", "1 A footnote.", 3),
        ("text", "A new paragraph after a full stop.", 4),
        ("text", "2024 was the year the corpus was released.", 4),
    ]


def test_setup_values_named_in_words_and_platt_scaling() -> None:
    import numpy as np

    from bench.claim_fit import platt
    from repro.claims.claim_model import calibrate, sigmoid
    from repro.claims.claim_types import parse_values

    assert parse_values("We use a discount factor of 0.99 and momentum of 0.9 throughout.", "setup") == {
        "discount_factor": 0.99,
        "momentum": 0.9,
    }
    assert parse_values("Gradients are clipped to a norm of 1.0 with label smoothing of 0.1.", "setup") == {
        "gradient_clipping": 1.0,
        "label_smoothing": 0.1,
    }
    # Platt scaling recovers a known miscalibration: outcomes drawn with P = sigmoid(0.5 logit(p) - 0.3).
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.99, 20000)
    logit_p = np.log(p / (1 - p))
    y = (rng.uniform(size=p.size) < sigmoid(0.5 * logit_p - 0.3)).astype(float)
    a, b = platt(p, y, np.ones_like(p))
    assert abs(a - 0.5) < 0.05 and abs(b + 0.3) < 0.05
    calibrated = calibrate(p, (a, b))
    assert np.all(np.diff(calibrated[np.argsort(p)]) >= 0)  # monotone: the candidates' order is kept
    for lo in (0.1, 0.5, 0.8):  # in each confidence bin, the fraction of claims matches the confidence
        inside = (calibrated >= lo) & (calibrated < lo + 0.1)
        assert abs(y[inside].mean() - calibrated[inside].mean()) < 0.03


@pytest.mark.parametrize("verb", ["fell", "shrank", "dropped", "was cut", "declined"])
def test_the_paper_check_and_the_claim_check_read_a_change_the_same_way(verb: str) -> None:
    """One lexicon: a decrease word makes both readers recompute against the larger value (40 -> 30: 25 %)."""
    from repro.checks.text_support.numbers_match import match_numbers
    from repro.sources.consistency import check_document

    sentence = f"Latency {verb} from 40 to 30 ms, a change of 33.3 %."
    found = check_document(parse_markdown(f"# 1 Results\n\n{sentence}\n", "t.md", "0"), HYBRID)
    assert [f.message for f in found if f.kind == "relative change"] == [
        "the text states 33.3 % but 40 -> 30 is a change of 25.0% (recomputed from the stated numbers)"
    ]
    assert match_numbers(f"latency {verb} by 33.3 %", "Latency went from 40 to 30 ms.").status == "mismatch"
    assert match_numbers(f"latency {verb} by 25 %", "Latency went from 40 to 30 ms.").status == "match"
