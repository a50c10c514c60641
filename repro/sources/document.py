"""The structured document every source (PDF, Markdown, text, arXiv) is turned into (the data model).

A :class:`Document` is a list of blocks in reading order (headings, paragraphs, captions,
footnotes), each with its page (PDFs) and the section it sits in, plus the tables with every cell
tied to its row and column headers. Locations are pages for PDFs; Markdown and text have no pages,
so their locations are sections.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

BlockKind = Literal["heading", "text", "caption", "footnote"]

# "Table 1:", "Figure 2.", "Fig. 3:" at the start of a block.
CAPTION_RE = re.compile(r"^(Table|Figure|Fig\.)\s*([A-Z]?\d+(?:\.\d+)?)\s*[:.]", re.IGNORECASE)


class Block(BaseModel):
    """One unit of text in reading order."""

    kind: BlockKind
    text: str
    page: int | None = Field(default=None, description="1-based page; None for Markdown/text")
    section: str | None = None
    level: int | None = Field(default=None, description="heading depth (1 = top), headings only")
    bbox: tuple[float, float, float, float] | None = None
    column: int | None = Field(default=None, description="0 = left/only column, 1 = right column")

    def location(self) -> str:
        """Where the block is, for people: ``p. 3, 4.1 Results`` or just the section."""
        return format_location(self.page, self.section)


class Cell(BaseModel):
    """One table cell with the headers that give it meaning."""

    row: int
    col: int
    text: str
    value: float | None = None
    row_header: str = ""
    col_header: str = ""

    @property
    def half_unit(self) -> float:
        """Half a unit in the last printed digit (``0.82`` -> 0.005): how far rounding may have moved the value."""
        from repro.sources.numbers import leading_number

        t = leading_number(self.text).rstrip("%").strip()
        return 0.5 * 10 ** -(len(t.split(".", 1)[1]) if "." in t else 0)


class TableIssue(BaseModel):
    """A printed mean/total that the cells do not reproduce (an extraction or typesetting error)."""

    table: str
    row_header: str
    col_header: str
    printed: float
    recomputed: float
    suspects: list[str] = Field(default_factory=list, description="cells whose digit swap would reproduce it")

    def message(self) -> str:
        """One line for people."""
        hint = f"; a digit swap in {', '.join(self.suspects)} would reproduce it" if self.suspects else ""
        return (
            f"{self.table}: printed {self.row_header} / {self.col_header} = {self.printed:g} but the cells "
            f"give {self.recomputed:.4f}{hint}"
        )


class DocTable(BaseModel):
    """A table: its raw rows and its cells with headers."""

    number: str | None = Field(default=None, description="'1' for 'Table 1', when a caption names it")
    caption: str = ""
    page: int | None = None
    section: str | None = None
    bbox: tuple[float, float, float, float] | None = Field(default=None, description="where it is on its page (PDFs)")
    rows: list[list[str]]
    cells: list[Cell] = Field(default_factory=list)

    @property
    def label(self) -> str:
        """``Table 1`` or ``table on p. 3``."""
        return f"Table {self.number}" if self.number else f"table ({format_location(self.page, self.section)})"


class Document(BaseModel):
    """A whole source document."""

    source: str = Field(description="file path or arxiv:ID it came from")
    sha256: str
    format: Literal["pdf", "markdown", "text"]
    title: str = ""
    pages: int | None = None
    blocks: list[Block]
    tables: list[DocTable] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list, description="what went wrong reading it (a repaired PDF)")

    def headings(self) -> list[Block]:
        """The section headings in order."""
        return [b for b in self.blocks if b.kind == "heading"]

    def body(self) -> list[Block]:
        """Every block that holds prose (paragraphs, captions, footnotes)."""
        return [b for b in self.blocks if b.kind != "heading"]

    def table(self, number: str) -> DocTable | None:
        """The table whose caption says ``Table <number>``."""
        return next((t for t in self.tables if t.number == number), None)

    def save(self, path: Path) -> None:
        """Write the document as JSON (atomically)."""
        from repro.atomic import atomic_write_text

        atomic_write_text(path, self.model_dump_json())


def format_location(page: int | None, section: str | None) -> str:
    """``p. 3, §2 Method`` / ``§2 Method`` / ``p. 3`` / ``unknown location``."""
    parts = []
    if page is not None:
        parts.append(f"p. {page}")
    if section:
        parts.append(f"§{section}")
    return ", ".join(parts) or "unknown location"
