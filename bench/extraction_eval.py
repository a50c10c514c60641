"""Measuring claim extraction on labelled papers: recall, precision and page accuracy per claim type.

A *template set* (YAML, see bench/data/extraction_tune.yaml and extraction_heldout.yaml) lists a
paper's sections and their sentences, each labelled by hand with its claim type (``null`` for a
sentence that is not a claim), with ``{slots}`` filled from lists. :func:`make_papers` fills the
slots with a seeded draw, lays each paper out as a two-column PDF
(:mod:`repro.sources.synthetic`) and returns the label of every sentence; :func:`evaluate` parses
the PDFs back, extracts candidates and compares:

- **recall** of a type: the share of its claims that were drafted (whatever type they were given);
- **precision** of a type: the share of candidates given that type that are claims;
- **type accuracy**: the share of drafted claims given their labelled type;
- **page right**: the share of drafted claims whose page is the page the sentence starts on
  (read from the PDF's plain text, independently of the structured parser).
"""

from __future__ import annotations

import random
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from repro.checks.stats.reliability import calibration_error, reliability_bins
from repro.claims.claim_model import ClaimModel
from repro.claims.claim_types import CLAIM_TYPES
from repro.claims.extract import extract_candidates
from repro.sources.document import Document
from repro.sources.pdf import parse_pdf
from repro.sources.sentences import split_sentences
from repro.sources.synthetic import Paper, Paragraph, Section, TableSpec, write_paper


@dataclass
class Labelled:
    """One sentence of a generated paper and what a person said it is."""

    text: str
    type: str | None
    section: str
    template: str = ""  # the sentence template it was filled from (a unit of labelling)


@dataclass
class TypeScore:
    """Counts for one claim type."""

    claims: int = 0
    found: int = 0
    typed: int = 0  # found and given the right type
    page_right: int = 0
    predicted: int = 0  # candidates given this type
    predicted_claims: int = 0  # ... that are claims

    @property
    def recall(self) -> float:
        return self.found / self.claims if self.claims else float("nan")

    @property
    def precision(self) -> float:
        return self.predicted_claims / self.predicted if self.predicted else float("nan")

    @property
    def page_accuracy(self) -> float:
        return self.page_right / self.found if self.found else float("nan")

    @property
    def type_accuracy(self) -> float:
        return self.typed / self.found if self.found else float("nan")


# Confidence bins of the reliability table: fine where calibrated candidates sit (above the threshold).
CONFIDENCE_EDGES: tuple[float, ...] = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)


@dataclass
class ExtractionScore:
    """Scores per type and over all claims."""

    papers: int
    sentences: int
    by_type: dict[str, TypeScore] = field(default_factory=dict)
    missed: list[Labelled] = field(default_factory=list)
    false: list[str] = field(default_factory=list)
    confidences: list[tuple[float, bool]] = field(default_factory=list)  # (candidate's confidence, is a claim)

    def reliability(self, edges: tuple[float, ...] = CONFIDENCE_EDGES) -> list[dict[str, float]]:
        """Candidates binned by confidence: count, mean confidence and the fraction that are claims."""
        return [
            {"low": b.low, "high": b.high, "n": b.n, "confidence": b.confidence, "claims": b.right}
            for b in reliability_bins(self.confidences, edges)
        ]

    def calibration_error(self) -> float:
        """Expected calibration error over the :meth:`reliability` bins (weighted by candidates)."""
        return calibration_error(reliability_bins(self.confidences, CONFIDENCE_EDGES))

    def total(self) -> TypeScore:
        """All types together."""
        t = TypeScore()
        for s in self.by_type.values():
            for k in ("claims", "found", "typed", "page_right", "predicted", "predicted_claims"):
                setattr(t, k, getattr(t, k) + getattr(s, k))
        return t


def _fill(template: str, slots: dict[str, list[str]], rng: random.Random) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        value = rng.choice(slots[name.lower()])
        return value[0].upper() + value[1:] if name[0].isupper() else value

    return re.sub(r"\{(\w+)\}", one, template)


def _draw(spec: dict, seed: int) -> tuple[list[Labelled], list[tuple[str, list[list[str]]]]]:
    """Paper ``seed`` of a template set: its labelled sentences and its numbered sections' paragraphs."""
    slots = {k.lower(): [str(v) for v in vs] for k, vs in spec["slots"].items()}
    rng = random.Random(seed)
    labels: list[Labelled] = []
    sections = []
    for i, sec in enumerate(spec["sections"], start=1):
        texts = []
        for item in sec["sentences"]:
            text = _fill(item["text"], slots, rng)
            if any(lab.text == text for lab in labels):
                continue
            labels.append(
                Labelled(text=text, type=item.get("type"), section=f"{i} {sec['name']}", template=item["text"])
            )
            texts.append(text)
        # Paragraphs of two to four sentences, the order within a section kept.
        paragraphs, j = [], 0
        while j < len(texts):
            k = rng.randint(2, 4)
            paragraphs.append(texts[j : j + k])
            j += k
        sections.append((f"{i} {sec['name']}", paragraphs))
    return labels, sections


def labelled_sentences(template_set: Path, papers: int = 4) -> list[Labelled]:
    """The labelled sentences of the ``papers`` papers of ``template_set`` (no PDF), each text once."""
    spec = yaml.safe_load(Path(template_set).read_text(encoding="utf-8"))
    out: dict[str, Labelled] = {}
    for seed in range(papers):
        for lab in _draw(spec, seed)[0]:
            out.setdefault(lab.text, lab)
    return list(out.values())


def make_papers(template_set: Path, papers: int, out_dir: Path) -> list[tuple[Path, list[Labelled]]]:
    """``papers`` two-column PDFs from ``template_set`` (seeded by paper number) and their labels."""
    spec = yaml.safe_load(Path(template_set).read_text(encoding="utf-8"))
    out = []
    for seed in range(papers):
        labels, sections = _draw(spec, seed)
        paper = Paper(
            f"{spec['title']} ({seed + 1})",
            [Section(name, [Paragraph(p) for p in paragraphs]) for name, paragraphs in sections],
        )
        out.append((write_paper(paper, Path(out_dir) / f"paper{seed}.pdf"), labels))
    return out


def _true_pages(path: Path, labels: list[Labelled]) -> dict[str, int]:
    """The page each sentence starts on, from the PDF's plain text (not the structured parser)."""
    import pymupdf

    with pymupdf.open(path) as pdf:
        pages = [" ".join(page.get_text("text").split()) for page in pdf]
    out = {}
    for lab in labels:
        head = " ".join(lab.text.split()[:7])
        hit = next((i + 1 for i, t in enumerate(pages) if head in t), None)
        if hit is None:  # the first words were wrapped across a column or page break: try fewer
            head = " ".join(lab.text.split()[:3])
            hit = next((i + 1 for i, t in enumerate(pages) if head in t), None)
        if hit is not None:
            out[lab.text] = hit
    return out


def evaluate(
    template_set: Path,
    papers: int = 4,
    threshold: float | None = None,
    model: ClaimModel | None = None,
    use_encoder: bool = True,
) -> ExtractionScore:
    """Generate, parse and extract ``papers`` papers of ``template_set`` and score the candidates.

    ``threshold``, ``model`` and ``use_encoder`` go to :func:`repro.claims.extract.extract_candidates`
    (default: the committed claim model and its threshold).
    """
    score = ExtractionScore(papers=papers, sentences=0, by_type={t: TypeScore() for t in CLAIM_TYPES})
    with tempfile.TemporaryDirectory() as tmp:
        for path, labels in make_papers(template_set, papers, Path(tmp)):
            score.sentences += len(labels)
            pages = _true_pages(path, labels)
            cands = {
                c.text: c
                for c in extract_candidates(
                    parse_pdf(path), threshold=threshold, model=model, use_encoder=use_encoder
                ).candidates
            }
            by_text = {lab.text: lab for lab in labels}
            for lab in labels:
                if lab.type is None:
                    continue
                ts = score.by_type[lab.type]
                ts.claims += 1
                cand = cands.get(lab.text)
                if cand is None:
                    score.missed.append(lab)
                    continue
                ts.found += 1
                ts.typed += cand.type == lab.type
                ts.page_right += cand.page == pages.get(lab.text)
            for text, cand in cands.items():
                ts = score.by_type[cand.type]
                ts.predicted += 1
                lab = by_text.get(text)
                is_claim = lab is not None and lab.type is not None
                score.confidences.append((cand.confidence, is_claim))
                if is_claim:
                    ts.predicted_claims += 1
                else:
                    score.false.append(text)  # not a claim, or not a labelled sentence (a segmentation error)
    return score


def render_document(
    doc: Document, path: Path, columns: int = 2, tables: bool = True, hyphenate: bool = True, style: str = "booktabs"
) -> Path:
    """Lay a (Markdown) document out as a PDF: headings become sections, blocks paragraphs, tables tables.

    Each table is set under its caption where the caption stands (a table without one at the end
    of its section), ``style`` as in :class:`repro.sources.synthetic.TableSpec` (journal-style
    rules by default); a table too wide for a column floats to the top of the next page across
    both. ``hyphenate`` breaks words at line ends ("retrie-" | "val", "dual-" | "salt"). This is
    how the Markdown of a paper is turned into "the paper as a PDF" for the extraction and
    findings checks; ``tables=False`` leaves the tables out (the layout of earlier measurements).
    """
    by_caption = {t.caption: t for t in doc.tables if t.caption} if tables else {}
    placed: set[int] = set()
    sections: list[Section] = []

    def section_of(block_section: str | None) -> Section:
        if not sections:
            sections.append(Section(doc.title[:80] or "Front matter"))
        return sections[-1]

    for block in doc.blocks:
        if block.kind == "heading":
            if tables and sections:  # tables without a caption close their section
                for t in doc.tables:
                    if id(t) not in placed and not t.caption and t.section == sections[-1].heading:
                        sections[-1].paragraphs.append(TableSpec("", t.rows, style))
                        placed.add(id(t))
            sections.append(Section(block.text[:80]))
            continue
        table = by_caption.get(block.text)
        if table is not None and id(table) not in placed:
            placed.add(id(table))
            section_of(block.section).paragraphs.append(TableSpec(block.text, table.rows, style))
            continue
        section_of(block.section).paragraphs.append(Paragraph(split_sentences(block.text)))
    for t in doc.tables if tables else []:
        if id(t) not in placed:
            section_of(t.section).paragraphs.append(TableSpec(t.caption, t.rows, style))
    return write_paper(Paper(doc.title[:120] or "Paper", sections), path, columns=columns, hyphenate=hyphenate)
