"""Deterministic synthetic papers as real PDFs, for tests, benchmarks and the extraction evaluation.

A tiny layout engine on PyMuPDF: one or two columns, numbered bold headings, paragraphs wrapped
by measured text width, tables under a ``Table N:`` caption, footnotes in small type at the bottom
of the page, and non-Latin paragraphs in the built-in CJK font (which also covers Greek and
Cyrillic).

Tables are drawn either as a full grid of ruling lines (``style="grid"``) or as journals set them
(``style="booktabs"``): a rule above, one under the header row and one below, no vertical lines, a
header cell followed by empty cells centred over the columns it spans. A table too wide for a
column floats, as LaTeX's ``table*`` does, to the top of the next page across both columns.
With ``hyphenate``, a word that does not fit at a line end is broken: after its own hyphen
("dual-" | "salt"), else between syllable-like parts with a hyphen added ("retrie-" | "val").
"""

from __future__ import annotations

import re
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
    """A table under its caption; ``rows[0]`` is the header (see the module docstring for ``style``)."""

    caption: str
    rows: list[list[str]]
    style: str = "grid"


@dataclass
class Section:
    """A numbered section: heading, paragraphs (and tables in the flow), an optional table and footnote."""

    heading: str
    paragraphs: list[Paragraph | TableSpec] = field(default_factory=list)
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


_VOWELS = set("aeiouyAEIOUY")


def _break_word(word: str, fits) -> tuple[str, str] | None:
    """``word`` split for a line end, the head as printed ("dual-", "retrie-"), or None.

    ``fits(head)`` says whether a head fits the rest of the line. A hyphenated word breaks after
    one of its hyphens; a plain word of 7+ letters between a vowel and a consonant, 3+ letters on
    each side (a crude stand-in for a hyphenation dictionary: only the break matters here).
    """
    if "-" in word.strip("-"):
        cuts = [i + 1 for i, ch in enumerate(word[:-1]) if ch == "-" and i > 0]
        for cut in reversed(cuts):
            if fits(word[:cut]):
                return word[:cut], word[cut:]
        return None
    core = word.rstrip(".,;:)")
    if len(core) < 7 or not core.isalpha():
        return None
    for cut in range(len(core) - 3, 2, -1):
        if core[cut - 1] in _VOWELS and core[cut] not in _VOWELS and fits(core[:cut] + "-"):
            return core[:cut] + "-", word[cut:]
    return None


class _Writer:
    def __init__(self, doc, columns: int, hyphenate: bool = False) -> None:
        self.doc = doc
        self.columns = columns
        self.hyphenate = hyphenate
        self.floats: list[TableSpec] = []
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
        self.top = MARGIN
        # Full-width tables waiting for a page go on its top, across both columns.
        # The ones that do not fit wait for the page after.
        floats, self.floats = self.floats, []
        for i, spec in enumerate(floats):
            size, width = self.wide_size(spec), PAGE_W - 2 * MARGIN
            if self.y > MARGIN and self.y + self.table_height(spec, width, size) > self.bottom:
                self.floats = floats[i:]
                break
            self.y = self._draw_table(spec, MARGIN, self.y, width, size) + 6
        self.top = self.y

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
                continue
            split = None
            if self.hyphenate and sep == " ":
                split = _break_word(u, lambda head, cur=cur: fnt.text_length(f"{cur} {head}", fontsize=size) <= width)
            if split:
                lines.append(f"{cur} {split[0]}")
                cur = split[1]
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
        if spec.style == "grid":
            self.grid_table(spec)
            return
        size = BODY * 0.9
        widths = self.column_widths(spec, size)
        if sum(widths) > self.col_w and self.columns > 1:
            self.floats.append(spec)  # drawn on the next page's top, across the columns
            return
        lines = len(self.wrap(spec.caption, "helv", BODY, self.col_w))
        self.advance(lines * BODY * LEAD + 2 + len(spec.rows) * size * 1.5 + 8)
        self.y = self._draw_table(spec, self.x0(), self.y, self.col_w, size) + 8

    def wide_size(self, spec: TableSpec) -> float:
        """The font size at which ``spec`` fits the page width (at most the table size)."""
        size = BODY * 0.9
        while size > 5 and sum(self.column_widths(spec, size)) > PAGE_W - 2 * MARGIN:
            size -= 0.5
        return size

    @staticmethod
    def spans(row: list[str]) -> list[tuple[int, int]]:
        """(first, last) column of each filled cell of a header row, a cell spanning the empty ones after it."""
        out = []
        for c, cell in enumerate(row):
            if cell or c == 0:
                out.append((c, c))
            elif out and c > 0:
                out[-1] = (out[-1][0], c)
        return out

    def column_widths(self, spec: TableSpec, size: float) -> list[float]:
        ncol = max(len(r) for r in spec.rows)
        fnt, bold = _font("helv"), _font("hebo")
        widths = [0.0] * ncol
        for r, row in enumerate(spec.rows):
            for c, cell in enumerate(row):
                spanning = self._is_header(row) and c > 0 and c + 1 < len(row) and not row[c + 1]
                if not spanning:
                    f = bold if r == 0 or (self._is_header(row) and r < 3) else fnt
                    widths[c] = max(widths[c], f.text_length(cell, fontsize=size) + size)
        return widths

    @staticmethod
    def _is_header(row: list[str]) -> bool:
        """No cell after the first starts with a number ("Placebo (n = 138)" heads, "52 (37.7)" is data)."""
        return not any(re.match(r"^[-+−]?\.?\d", c) for c in row[1:])

    def table_height(self, spec: TableSpec, width: float, size: float) -> float:
        """How tall :meth:`_draw_table` draws ``spec`` (caption included)."""
        caption = len(self.wrap(spec.caption, "helv", BODY, width)) * BODY * LEAD if spec.caption else 0.0
        return caption + 2 + len(spec.rows) * (size * 1.5 + 2) + 4

    def _draw_table(self, spec: TableSpec, x0: float, y: float, width: float, size: float) -> float:
        """Caption, rules and cells from (x0, y) within ``width``; returns the y below the table."""
        for line in self.wrap(spec.caption, "helv", BODY, width):
            self.page.insert_text((x0, y + BODY), line, fontname="helv", fontsize=BODY)
            y += BODY * LEAD
        y += 2
        widths = self.column_widths(spec, size)
        extra = max(0.0, (width - sum(widths)) / len(widths)) if sum(widths) < width * 0.75 else 0.0
        widths = [w + extra for w in widths]
        scale = min(1.0, width / sum(widths))
        widths = [w * scale for w in widths]
        lefts = [x0 + sum(widths[:c]) for c in range(len(widths))]
        row_h = size * 1.5
        right = x0 + sum(widths)
        self.page.draw_line((x0, y), (right, y), color=(0, 0, 0), width=0.8)
        fnt = _font("helv")
        for r, row in enumerate(spec.rows):
            header = r == 0 or (self._is_header(row) and r < 3)
            font = "hebo" if header else "helv"
            cells = [(a, b) for a, b in self.spans(row)] if header else [(c, c) for c in range(len(row))]
            for a, b in cells:
                text = row[a] if a < len(row) else ""
                if not text:
                    continue
                if a == b:
                    x = lefts[a] + size * 0.5
                else:  # centred over the spanned columns, with a short rule under it
                    span_w = sum(widths[a : b + 1])
                    x = lefts[a] + (span_w - _font(font).text_length(text, fontsize=size)) / 2
                    self.page.draw_line(
                        (lefts[a] + 2, y + row_h + 0.5), (lefts[a] + span_w - 2, y + row_h + 0.5), width=0.4
                    )
                self.page.insert_text((x, y + size * 1.1), text, fontname=font, fontsize=size)
            y += row_h
            if r == 0 or (header and r + 1 < len(spec.rows) and not self._is_header(spec.rows[r + 1])):
                self.page.draw_line((x0, y + 1), (right, y + 1), color=(0, 0, 0), width=0.5)
                y += 2
        del fnt
        self.page.draw_line((x0, y + 1), (right, y + 1), color=(0, 0, 0), width=0.8)
        return y + 3

    def grid_table(self, spec: TableSpec) -> None:
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


def write_paper(paper: Paper, path: Path, columns: int = 2, hyphenate: bool = False) -> Path:
    """Lay ``paper`` out into a PDF at ``path``: title across the page, then ``columns`` columns.

    ``hyphenate`` breaks words at line ends (see the module docstring).
    """
    import pymupdf

    doc = pymupdf.open()
    w = _Writer(doc, columns, hyphenate)
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
            if isinstance(para, TableSpec):
                w.table(para)
            else:
                w.text(para.text, font=para.font)
        if sec.table:
            w.table(sec.table)
        if sec.footnote:
            w.footnotes.append(sec.footnote)
            w.bottom = PAGE_H - MARGIN - (len(w.footnotes) + 1) * FOOT * LEAD - 6
    while w.floats:
        w.new_page()
    w.flush_footnotes()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    doc.close()
    return path
