"""Deterministic synthetic papers as real PDFs, for tests, benchmarks and the extraction evaluation.

A tiny layout engine on PyMuPDF: one or two columns, numbered bold headings, paragraphs wrapped
by measured text width, tables drawn with ruling lines under a ``Table N:`` caption, footnotes in
small type at the bottom of the page, and non-Latin paragraphs in the built-in CJK font (which
also covers Greek and Cyrillic).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PAGE_W, PAGE_H = 612.0, 792.0
MARGIN = 54.0
GUTTER = 24.0
BODY, HEAD, TITLE, FOOT = 10.0, 12.0, 16.0, 7.0
LEAD = 1.3


@dataclass
class Paragraph:
    """A paragraph: its sentences, and the font (``helv``, or ``china-s`` for non-Latin text)."""

    sentences: list[str]
    font: str = "helv"

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


@dataclass
class TableSpec:
    """A table drawn with ruling lines; ``rows[0]`` is the header."""

    caption: str
    rows: list[list[str]]


@dataclass
class Section:
    """A numbered section: heading, paragraphs, an optional table and footnote."""

    heading: str
    paragraphs: list[Paragraph] = field(default_factory=list)
    table: TableSpec | None = None
    footnote: str | None = None


@dataclass
class Paper:
    """A whole synthetic paper."""

    title: str
    sections: list[Section]


def _cjk_buffer() -> bytes:
    import pymupdf

    global _CJK
    if _CJK is None:
        _CJK = pymupdf.Font("cjk").buffer
    return _CJK


_CJK: bytes | None = None
_FONTS: dict = {}


def _font(name: str):  # -> pymupdf.Font
    import pymupdf

    if name not in _FONTS:
        _FONTS[name] = pymupdf.Font("cjk" if name == "china-s" else name)
    return _FONTS[name]


class _Writer:
    def __init__(self, doc, columns: int) -> None:
        self.doc = doc
        self.columns = columns
        self.col_w = (PAGE_W - 2 * MARGIN - (columns - 1) * GUTTER) / columns
        self.page = None
        self.col = 0
        self.y = 0.0
        self.bottom = PAGE_H - MARGIN
        self.footnotes: list[str] = []
        self.cjk_pages = set()
        self.new_page()

    def x0(self) -> float:
        return MARGIN + self.col * (self.col_w + GUTTER)

    def new_page(self) -> None:
        self.flush_footnotes()
        self.page = self.doc.new_page(width=PAGE_W, height=PAGE_H)
        self.page.insert_text((PAGE_W / 2, PAGE_H - 24), str(self.doc.page_count), fontname="helv", fontsize=8)
        self.col, self.y, self.bottom = 0, MARGIN, PAGE_H - MARGIN

    def flush_footnotes(self) -> None:
        if self.page is None or not self.footnotes:
            return
        y = PAGE_H - MARGIN - len(self.footnotes) * FOOT * LEAD
        for i, note in enumerate(self.footnotes):
            self.page.insert_text((MARGIN, y + FOOT + i * FOOT * LEAD), note, fontname="helv", fontsize=FOOT)
        self.footnotes = []

    def advance(self, height: float) -> None:
        if self.y + height > self.bottom:
            if self.col + 1 < self.columns:
                self.col += 1
                self.y = self.top
            else:
                self.new_page()
                self.top = MARGIN

    top = MARGIN

    def wrap(self, text: str, font: str, size: float, width: float) -> list[str]:
        fnt = _font(font)
        # CJK has no spaces: wrap it character by character.
        units = text.split(" ") if " " in text or font != "china-s" else list(text)
        sep = " " if " " in text or font != "china-s" else ""
        lines, cur = [], ""
        for u in units:
            trial = f"{cur}{sep}{u}" if cur else u
            if fnt.text_length(trial, fontsize=size) <= width or not cur:
                cur = trial
            else:
                lines.append(cur)
                cur = u
        if cur:
            lines.append(cur)
        return lines

    def fontname(self, font: str) -> str:
        """The page's name for ``font``; the CJK font is embedded from its buffer because the
        built-in reference drops precomposed Greek letters such as "έ" on extraction."""
        if font != "china-s":
            return font
        if self.page.number not in self.cjk_pages:
            self.page.insert_font(fontname="cjkf", fontbuffer=_cjk_buffer())
            self.cjk_pages.add(self.page.number)
        return "cjkf"

    cjk_pages: set

    def text(self, text: str, font: str = "helv", size: float = BODY, gap: float = 6.0) -> None:
        for line in self.wrap(text, font, size, self.col_w):
            self.advance(size * LEAD)
            self.page.insert_text((self.x0(), self.y + size), line, fontname=self.fontname(font), fontsize=size)
            self.y += size * LEAD
        self.y += gap

    def table(self, spec: TableSpec) -> None:
        ncol = max(len(r) for r in spec.rows)
        row_h = BODY * 1.6
        self.text(spec.caption, gap=2)
        self.advance(row_h * len(spec.rows))
        x0, w = self.x0(), self.col_w / ncol
        for r, row in enumerate(spec.rows):
            top = self.y + r * row_h
            for c, cell in enumerate(row):
                self.page.draw_rect((x0 + c * w, top, x0 + (c + 1) * w, top + row_h), color=(0, 0, 0), width=0.5)
                self.page.insert_text(
                    (x0 + c * w + 2, top + BODY * 1.15),
                    cell,
                    fontname="hebo" if r == 0 else "helv",
                    fontsize=BODY * 0.9,
                )
        self.y += row_h * len(spec.rows) + 8


def write_paper(paper: Paper, path: Path, columns: int = 2) -> Path:
    """Lay ``paper`` out into a PDF at ``path``: title across the page, then ``columns`` columns."""
    import pymupdf

    doc = pymupdf.open()
    w = _Writer(doc, columns)
    title_w = PAGE_W - 2 * MARGIN
    for line in w.wrap(paper.title, "hebo", TITLE, title_w):
        w.page.insert_text((MARGIN, w.y + TITLE), line, fontname="hebo", fontsize=TITLE)
        w.y += TITLE * LEAD
    w.y += 12
    w.top = w.y
    for sec in paper.sections:
        w.advance(HEAD * LEAD * 3)
        w.text(sec.heading, font="hebo", size=HEAD, gap=4)
        for para in sec.paragraphs:
            w.text(para.text, font=para.font)
        if sec.table:
            w.table(sec.table)
        if sec.footnote:
            w.footnotes.append(sec.footnote)
            w.bottom = PAGE_H - MARGIN - (len(w.footnotes) + 1) * FOOT * LEAD - 6
    w.flush_footnotes()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    doc.close()
    return path
