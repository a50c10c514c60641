"""Markdown or plain text as a :class:`Document`: ``#`` lines are headings, blank lines end paragraphs.

Built for papers converted from PDF (such as the mirrored text of arXiv 2408.10536): bare line
numbers like ``**029 030**`` (and those glued before a caption, ``324 Table 3:``), image
placeholders and HTML emphasis inside table cells are dropped; footnote markers
(``<sup>2</sup>``) are dropped from the text and a paragraph that starts with one is a footnote;
``- `` list items are blocks of their own; pipe tables become :class:`DocTable`s. There are no
pages, so locations are sections.
"""

from __future__ import annotations

import re
from pathlib import Path

from repro.errors import ReproError
from repro.hashing import sha256_file
from repro.sources.document import CAPTION_RE, Block, DocTable, Document
from repro.sources.tables import build_cells, clean_cell, merge_blank_columns

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# Line-number artefacts of PDF conversion: a line of only bold numbers.
_LINE_NUMBERS_RE = re.compile(r"^\**\s*\d{1,4}(?:\s+\d{1,4})*\s*\**$")
_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_TAGS_RE = re.compile(r"</?[a-zA-Z][^>]*>")
_SEPARATOR_RE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
# A footnote marker: "<sup>2</sup>", also inside a link ("[<sup>2</sup>](#page-3-0)").
_FOOTNOTE_MARK_RE = re.compile(r"\[?<sup>\s*(\d{1,2})\s*</sup>\]?(?:\([^)]*\))?")
_FOOTNOTE_START_RE = re.compile(r"^\[?<sup>\s*\d{1,2}\s*</sup>\]?(?:\([^)]*\))?\s*")
# "324 Table 3: ...", "325 lingual, ...": line numbers of the PDF conversion at a line's start.
_LEADING_LINE_NUMBER_RE = re.compile(r"^\d{3}\s+(?=\S)")
_LIST_ITEM_RE = re.compile(r"^[-*+]\s+\S")


def inline_text(text: str) -> str:
    """Markdown inline markup removed: links keep their text, tags and emphasis go, escapes resolve.

    Footnote markers (``<sup>2</sup>``) go entirely: left in, they glue digits to words ("2The").
    """
    text = _FOOTNOTE_MARK_RE.sub("", text)
    text = _IMAGE_RE.sub("", text)
    text = _LINK_RE.sub(r"\1", text)
    text = _TAGS_RE.sub("", text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|])", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return " ".join(text.split())


def _table_rows(lines: list[str]) -> list[list[str]]:
    rows = []
    for line in lines:
        if _SEPARATOR_RE.match(line.strip()):
            continue
        cells = line.strip().strip("|").split("|")
        rows.append([clean_cell(inline_text(c)) for c in cells])
    return merge_blank_columns(rows)


def parse_markdown(text: str, source: str, sha256: str, fmt: str = "markdown") -> Document:
    """Parse Markdown/text into blocks and tables (see module docstring)."""
    blocks: list[Block] = []
    tables: list[DocTable] = []
    section: str | None = None
    title = ""
    para: list[str] = []
    table_lines: list[str] = []

    def flush_para() -> None:
        if para:
            footnote = bool(_FOOTNOTE_START_RE.match(para[0]))
            numbered = bool(_LEADING_LINE_NUMBER_RE.match(para[0]))
            lines = [_LEADING_LINE_NUMBER_RE.sub("", p) if numbered else p for p in para]
            lines[0] = re.sub(r"^[-*+]\s+", "", lines[0])  # a list item's marker
            joined = inline_text(" ".join(lines))
            if joined:
                kind = "caption" if CAPTION_RE.match(joined) else "footnote" if footnote else "text"
                blocks.append(Block(kind=kind, text=joined, section=section))
            para.clear()

    def flush_table() -> None:
        if table_lines:
            rows = _table_rows(table_lines)
            # The caption is the nearest "Table N" block before the table (papers caption above tables).
            cap = next(
                (b for b in reversed(blocks[-3:]) if b.kind == "caption" and b.text.lower().startswith("table")), None
            )
            m = CAPTION_RE.match(cap.text) if cap else None
            if rows:
                t = DocTable(
                    number=m.group(2) if m else None, caption=cap.text if cap else "", section=section, rows=rows
                )
                t.cells = build_cells(rows)
                tables.append(t)
            table_lines.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if stripped.startswith("|"):
            flush_para()
            table_lines.append(stripped)
            continue
        flush_table()
        if not stripped or _LINE_NUMBERS_RE.match(stripped):
            # A line-number artefact often sits inside a paragraph; only blank lines end one.
            if not stripped:
                flush_para()
            continue
        if _LIST_ITEM_RE.match(stripped) and para:
            flush_para()  # each list item is a block of its own
        m = _HEADING_RE.match(stripped)
        if m and fmt == "markdown":
            flush_para()
            heading = inline_text(m.group(2))
            if heading:
                section = heading
                title = title or heading
                blocks.append(Block(kind="heading", text=heading, section=heading, level=len(m.group(1))))
            continue
        para.append(stripped)
    flush_para()
    flush_table()
    if not any(b.kind != "heading" for b in blocks) and not tables:
        raise ReproError(f"{source} holds no text; give a PDF, Markdown or text file with the paper's text")
    return Document(source=source, sha256=sha256, format=fmt, title=title, pages=None, blocks=blocks, tables=tables)


def load_markdown(path: Path) -> Document:
    """Read a ``.md``/``.txt`` file as a :class:`Document` (headings only from Markdown ``#`` lines)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ReproError(f"{path} is neither a PDF nor UTF-8 text; give a PDF, .md or .txt file") from None
    fmt = "text" if path.suffix.lower() == ".txt" else "markdown"
    return parse_markdown(text, str(path), sha256_file(path), fmt)
