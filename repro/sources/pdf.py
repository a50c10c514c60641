"""A PDF as a :class:`Document` with PyMuPDF: reading order, headings, footnotes, captions, tables.

Heuristics (all relative to the body font size, the most common span size weighted by characters):

- **columns**: on each page, a vertical gutter is an x in the middle of the page that no
  (non-full-width) block crosses; with blocks on both sides the page has two columns, read left
  column then right column between full-width blocks (titles, wide figures) that cut across both.
- **headings**: short blocks (<= 2 lines, <= 15 words) set at least 15 % larger than the body, or
  entirely bold, or numbered like ``3.2 Results`` in bold/large type; level from the numbering
  depth, else from the size.
- **footnotes**: blocks in the lower quarter of the page set at most 88 % of the body size.
- **captions**: blocks starting ``Table N:`` / ``Figure N.``.
- **tables**: ``page.find_tables()``, only on pages with ruling lines or a table caption (it is the
  slow step); table text is kept out of the prose.
- **hyphens at line breaks**: "retrie-" + "val" is one word, "dual-" + "salt" and "Cell-to-" +
  "cell" keep their hyphen. The document decides: a form it prints elsewhere wins (``dual-salt``
  or ``retrieval``); otherwise the hyphen stays when the part before already holds a hyphen or
  both parts are words the document uses on their own, and goes otherwise.
- page numbers and running heads (bare numbers in the top/bottom 6 % of the page) are dropped.
- a damaged file (truncated, broken cross-references) that MuPDF repairs is read with a warning in
  :attr:`Document.warnings` saying from how many pages text was recovered; one it cannot recover
  any text from is a one-line error.

The result is cached as JSON under ``$REPRO_HOME/papers/documents/<sha256>.json``.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from repro.cache import repro_home
from repro.errors import ReproError, first_line
from repro.hashing import sha256_file
from repro.sources.document import CAPTION_RE, Block, DocTable, Document
from repro.sources.tables import build_cells, clean_cell, merge_blank_columns

# Bump when the parsing changes so cached documents are rebuilt.
PARSER_VERSION = 4
_NUMBERED_HEADING_RE = re.compile(r"^(?:(\d+(?:\.\d+){0,3})|([A-Z](?:\.\d+){0,3}))\.?\s+\S")
_BOLD = 16  # PyMuPDF span flag bit for bold


@dataclass
class _RawBlock:
    text: str
    bbox: tuple[float, float, float, float]
    size: float
    bold: bool
    lines: int
    page: int
    column: int = 0
    kind: str = "text"
    level: int | None = None
    extra: dict = field(default_factory=dict)


def documents_dir() -> Path:
    """Where parsed documents are cached."""
    return repro_home() / "papers" / "documents"


def load_pdf(path: Path, use_cache: bool = True) -> Document:
    """Parse ``path`` into a :class:`Document` (cached by the PDF's SHA-256).

    Raises:
        ReproError: the file is empty, not a PDF, corrupt, encrypted, or has no text layer.
    """
    path = Path(path)
    if not path.is_file():
        raise ReproError(f"PDF {path} not found")
    if path.stat().st_size == 0:
        raise ReproError(f"{path} is an empty file, not a PDF")
    digest = sha256_file(path)
    cached = documents_dir() / f"{digest}.v{PARSER_VERSION}.json"
    if use_cache and cached.is_file():
        try:
            return Document.model_validate_json(cached.read_text(encoding="utf-8"))
        except ValueError:
            pass  # a stale or damaged cache entry is rebuilt below
    doc = parse_pdf(path, digest)
    if use_cache:
        with contextlib.suppress(OSError):  # a read-only or full $REPRO_HOME: the parse is not kept
            doc.save(cached)
    return doc


def _open(path: Path):  # -> pymupdf.Document
    import pymupdf

    try:
        pdf = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # PyMuPDF raises its own FileDataError/RuntimeError variants  # noqa: BLE001
        raise ReproError(f"{path} is not a readable PDF (corrupt or not a PDF: {first_line(exc)})") from None
    if pdf.needs_pass or pdf.is_encrypted:
        raise ReproError(
            f"{path} is encrypted (password-protected); decrypt it first, e.g. `qpdf --decrypt in.pdf out.pdf`"
        )
    if pdf.page_count == 0:
        raise ReproError(f"{path} has no pages")
    return pdf


def parse_pdf(path: Path, digest: str | None = None) -> Document:
    """Parse without the cache (see module docstring for the heuristics)."""
    path = Path(path)
    pdf = _open(path)
    try:
        repaired = bool(getattr(pdf, "is_repaired", False))
        raw_pages: list[list[_RawBlock]] = []
        tables: list[DocTable] = []
        sizes: Counter[float] = Counter()
        images = 0
        global _WORDS
        _WORDS = _document_words(pdf)
        for pno in range(pdf.page_count):
            page = pdf[pno]
            try:
                info = page.get_text("dict", flags=0)
            except Exception as exc:  # noqa: BLE001
                raise ReproError(f"{path}: page {pno + 1} cannot be read ({first_line(exc)})") from None
            width, height = page.rect.width, page.rect.height
            page_tables = _tables(page, pno + 1)
            blocks = []
            images += len(page.get_images())
            for b in info["blocks"]:
                if b.get("type") != 0:
                    continue
                # Lines inside a table are the table's, not prose (MuPDF may group a caption with them).
                kept = [
                    ln
                    for ln in b.get("lines", [])
                    if not any(_inside(ln["bbox"], t.extra["bbox"]) for t in page_tables)
                ]
                for rb in _raw_blocks({**b, "lines": kept}, pno + 1):
                    # Running heads and page numbers.
                    if re.fullmatch(r"[\divxlc]+", rb.text.strip(), re.IGNORECASE) and (
                        rb.bbox[1] < 0.06 * height or rb.bbox[3] > 0.94 * height
                    ):
                        continue
                    rb.extra["width"], rb.extra["height"] = width, height
                    for span_size, n in rb.extra.pop("sizes").items():
                        sizes[span_size] += n
                    blocks.append(rb)
            raw_pages.append(_reading_order(blocks, width))
            tables += [t.extra["table"] for t in page_tables]
        with_text = sum(1 for page in raw_pages if page)
        warnings = []
        if repaired:
            if not with_text:
                raise ReproError(
                    f"{path} is damaged beyond repair: MuPDF rebuilt it but recovered no text from its "
                    f"{pdf.page_count} page(s); get an intact copy"
                )
            warnings.append(
                f"{path} is damaged (truncated or with a broken cross-reference table); MuPDF repaired it and "
                f"text was recovered from {with_text} of {pdf.page_count} page(s), which may be incomplete"
            )
        if not sizes:
            if images:
                raise ReproError(
                    f"{path} has no text layer (image-only, e.g. a scan); run OCR on it first (e.g. ocrmypdf)"
                )
            raise ReproError(f"{path} contains no text")
        body = sizes.most_common(1)[0][0]
        blocks = _classify([b for page in raw_pages for b in page], body)
        title = next((b.text for b in blocks if b.kind == "heading"), "")
        _attach_captions(tables, blocks)
        return Document(
            source=str(path),
            sha256=digest or sha256_file(path),
            format="pdf",
            title=title,
            pages=pdf.page_count,
            blocks=blocks,
            tables=tables,
            warnings=warnings,
        )
    finally:
        pdf.close()


def _raw_blocks(b: dict, page: int) -> list[_RawBlock]:
    """A PyMuPDF text block as blocks: split where the type changes between lines.

    MuPDF may put a paragraph's last line and the heading under it in one block ("... 0.5661." +
    "4.2.2 LANGUAGE BIAS EVALUATION"); a line of another size, or bold after plain, starts a new one.
    """
    groups: list[list[dict]] = []
    style = None
    for line in b.get("lines", []):
        spans = [s for s in line["spans"] if s["text"].strip()]
        if not spans:
            continue
        n = sum(len(s["text"].strip()) for s in spans)
        bold = sum(len(s["text"].strip()) for s in spans if s["flags"] & _BOLD or "bold" in s["font"].lower())
        size = Counter({round(s["size"], 1): 0 for s in spans})
        for s in spans:
            size[round(s["size"], 1)] += len(s["text"].strip())
        this = (size.most_common(1)[0][0], bold / n > 0.9)
        if (
            style is not None and this != style and (abs(this[0] - style[0]) > 0.6 or this[1] != style[1])
        ) or not groups:
            groups.append([])
        groups[-1].append(line)
        style = this
    out = []
    for lines in groups:
        rb = _raw_block({**b, "lines": lines, "bbox": _lines_bbox(lines)}, page)
        if rb is not None:
            out.append(rb)
    return out


def _lines_bbox(lines: list[dict]) -> tuple[float, float, float, float]:
    boxes = [line["bbox"] for line in lines]
    return (min(x[0] for x in boxes), min(x[1] for x in boxes), max(x[2] for x in boxes), max(x[3] for x in boxes))


def _raw_block(b: dict, page: int) -> _RawBlock | None:
    lines_text = []
    sizes: Counter[float] = Counter()
    bold_chars = chars = 0
    for line in b.get("lines", []):
        text = "".join(s["text"] for s in line["spans"])
        if not text.strip():
            continue
        lines_text.append(text.strip())
        for s in line["spans"]:
            n = len(s["text"].strip())
            sizes[round(s["size"], 1)] += n
            chars += n
            if s["flags"] & _BOLD or "bold" in s["font"].lower():
                bold_chars += n
    if not lines_text:
        return None
    text = _join_lines(lines_text)
    rb = _RawBlock(
        text=text,
        bbox=tuple(b["bbox"]),
        size=sizes.most_common(1)[0][0],
        bold=chars > 0 and bold_chars / chars > 0.9,
        lines=len(lines_text),
        page=page,
    )
    rb.extra["sizes"] = sizes
    return rb


# The words of the document being parsed (lower case, with their hyphenated forms), for line-break hyphens.
_WORDS: set[str] = set()
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _document_words(pdf) -> set[str]:  # pdf: pymupdf.Document
    """Every word the document prints whole (not at a line end before a hyphen), lower case."""
    words: set[str] = set()
    for page in pdf:
        for line in page.get_text("text", flags=0).splitlines():
            found = _WORD.findall(line.rstrip().removesuffix("-") if line.rstrip().endswith("-") else line)
            if line.rstrip().endswith("-") and found:
                found = found[:-1]
            words.update(w.lower() for w in found)
    return words


def join_hyphenated(left: str, right: str, words: set[str] | None = None) -> str:
    """``left`` (ending in a hyphen at a line break) and ``right`` as one text: hyphen kept or dropped.

    See the module docstring; ``words`` are the document's words (default: the one being parsed).
    The document's own spelling decides first (``dual-salt`` or ``retrieval`` printed elsewhere);
    without one, the hyphen stays when the part before already holds one (``Cell-to-`` | ``cell``),
    when dropping it would triple a letter (``Cross-`` | ``sectional``), or when both parts are
    words of the document (alone or inside a hyphenated word), and goes otherwise. A part after
    the break that starts in upper case (``XQuAD-`` | ``R``, ``EVALUA-`` | ``TION``) keeps the
    hyphen unless the document prints the whole word.
    """
    words = _WORDS if words is None else words
    found_a = _WORD.findall(left[:-1])
    a = found_a[-1] if found_a and left[:-1].endswith(found_a[-1]) else ""
    b = _WORD.match(right).group(0) if _WORD.match(right) else ""
    whole, hyphened = (a + b).lower(), f"{a}-{b}".lower()
    if not a or not b:
        return left + right
    if hyphened in words:
        return left + right
    if whole in words:
        return left[:-1] + right
    if b[:1].isupper():
        return left + right
    parts = _parts(words)
    last_a, first_b = a.split("-")[-1].lower(), b.split("-")[0].lower()
    tripled = len(last_a) >= 2 and last_a[-2] == last_a[-1] == first_b[:1]
    keep = "-" in a or tripled or (last_a in parts and first_b in parts and len(last_a) > 1 and len(first_b) > 1)
    return left + right if keep else left[:-1] + right


_PARTS_OF: dict[int, set[str]] = {}


def _parts(words: set[str]) -> set[str]:
    """``words`` and the parts of its hyphenated words ("cross-lingual" gives "cross", "lingual")."""
    key = id(words)
    if key not in _PARTS_OF or not _PARTS_OF[key] >= words:
        _PARTS_OF.clear()
        _PARTS_OF[key] = words | {p for w in words if "-" in w for p in w.split("-")}
    return _PARTS_OF[key]


def _join_lines(lines: list[str]) -> str:
    """Lines of a block as one string; a word hyphenated across a line break is rejoined."""
    out = lines[0]
    for nxt in lines[1:]:
        if out.endswith("-") and len(out) > 1 and out[-2].isalpha() and nxt[:1].isalpha():
            out = join_hyphenated(out, nxt)
        elif out.endswith("-") and len(out) > 1 and out[-2].isalnum() and (nxt[:1].isupper() or nxt[:1].isdigit()):
            out = out + nxt  # a name broken at its hyphen: "XQuAD-" + "R", "GPT-" + "4"
        else:
            out = f"{out} {nxt}"
    return " ".join(out.split())


def _inside(inner: tuple[float, ...], outer: tuple[float, ...], tol: float = 2.0) -> bool:
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] - tol <= cx <= outer[2] + tol and outer[1] - tol <= cy <= outer[3] + tol


def _reading_order(blocks: list[_RawBlock], width: float) -> list[_RawBlock]:
    """Blocks of one page in reading order, with two columns detected from block x-positions."""
    if not blocks:
        return []
    narrow = [b for b in blocks if b.bbox[2] - b.bbox[0] < 0.6 * width]
    gutter, best = None, None
    # Candidate gutters in the middle of the page: the x crossed by the fewest narrow blocks, with
    # at least two blocks on each side; a few crossing blocks (a title, a centred formula) are
    # read as full-width separators, but on a one-column page most blocks cross the middle.
    for step in range(41):
        x = width * (0.4 + step * 0.005)
        left = sum(b.bbox[2] <= x for b in narrow)
        right = sum(b.bbox[0] >= x for b in narrow)
        crossing = len(blocks) - left - right
        if left >= 2 and right >= 2 and crossing <= max(1, 0.25 * len(blocks)) and (best is None or crossing < best):
            gutter, best = x, crossing
    if gutter is None:
        return sorted(blocks, key=lambda b: (round(b.bbox[1], 1), b.bbox[0]))
    spanning = sorted((b for b in blocks if b.bbox[0] < gutter < b.bbox[2]), key=lambda b: b.bbox[1])
    ordered: list[_RawBlock] = []
    top = float("-inf")
    for cut in [*spanning, None]:
        bottom = cut.bbox[1] if cut is not None else float("inf")
        band = [b for b in blocks if b not in spanning and top <= (b.bbox[1] + b.bbox[3]) / 2 < bottom]
        for col, side in ((0, lambda b: b.bbox[2] <= gutter), (1, lambda b: b.bbox[0] >= gutter)):
            for b in sorted(filter(side, band), key=lambda b: b.bbox[1]):
                b.column = col
                ordered.append(b)
        if cut is not None:
            ordered.append(cut)
            top = (cut.bbox[1] + cut.bbox[3]) / 2
    return ordered


def _classify(blocks: list[_RawBlock], body: float) -> list[Block]:
    """Headings, footnotes, captions and text; sections follow the headings in reading order."""
    heading_sizes = sorted({b.size for b in blocks if b.size >= body * 1.15}, reverse=True)
    out: list[Block] = []
    section: str | None = None
    for b in blocks:
        words = len(b.text.split())
        numbered = _NUMBERED_HEADING_RE.match(b.text)
        short = b.lines <= 2 and words <= 15 and not b.text.endswith((".", ",", ";"))
        large = b.size >= body * 1.15
        kind, level = "text", None
        if CAPTION_RE.match(b.text):
            kind = "caption"
        elif b.size <= body * 0.88 and b.bbox[1] > 0.72 * b.extra["height"]:
            kind = "footnote"
        elif short and (large or b.bold):
            kind = "heading"
            if numbered and numbered.group(0):
                label = numbered.group(1) or numbered.group(2)
                level = label.count(".") + 1
            else:
                level = heading_sizes.index(b.size) + 1 if b.size in heading_sizes else len(heading_sizes) + 1
        if kind == "heading":
            section = b.text
        out.append(
            Block(
                kind=kind,
                text=b.text,
                page=b.page,
                section=section,
                level=level,
                bbox=tuple(round(v, 1) for v in b.bbox),
                column=b.column,
            )
        )
    # Footnotes are read after the page's text, whichever column they sit under.
    return _join_continuations(sorted(out, key=lambda blk: (blk.page, blk.kind == "footnote")))


def _join_continuations(blocks: list[Block]) -> list[Block]:
    """A paragraph that runs on into the next column or page is one block (its start's page).

    A text block that does not end a sentence, followed (past footnotes and captions) by a text
    block that starts in lower case or with a digit ("... listed in Table" | "3."), is the same
    paragraph cut by the layout.
    """
    out: list[Block] = []
    for b in blocks:
        prev = next((x for x in reversed(out) if x.kind in ("text", "heading")), None)
        if (
            b.kind == "text"
            and prev is not None
            and prev.kind == "text"
            and (b.text[:1].islower() or b.text[:1].isdigit())
            and not prev.text.rstrip().endswith((".", "!", "?", ":", ";"))
        ):
            joined = (
                join_hyphenated(prev.text, b.text)
                if prev.text.endswith("-") and prev.text[-2:-1].isalpha()
                else f"{prev.text}{b.text}"
                if prev.text.endswith("-") and prev.text[-2:-1].isalnum()
                else f"{prev.text} {b.text}"
            )
            out[out.index(prev)] = prev.model_copy(update={"text": joined})
            continue
        out.append(b)
    return out


@dataclass
class _PageTable:
    extra: dict


def _tables(page, pno: int) -> list[_PageTable]:
    """Tables on ``page``: grids of ruling lines with ``find_tables()``, then tables set between rules.

    Both only run where ruling lines or a table caption suggest a table (they are the slow step).
    """
    text = page.get_text("text", flags=0)
    has_caption = re.search(r"(?m)^\s*Table\s*\d+\s*[:.]", text) is not None
    try:
        drawings = page.get_drawings()
    except Exception:  # noqa: BLE001
        drawings = []
    lines = sum(1 for d in drawings for item in d["items"] if item[0] in ("l", "re"))
    if not has_caption and lines < 3:
        return []
    out = _grid_tables(page, pno)
    out += _rule_tables(page, pno, drawings, [t.extra["bbox"] for t in out])
    return sorted(out, key=lambda t: (t.extra["bbox"][1], t.extra["bbox"][0]))


def _grid_tables(page, pno: int) -> list[_PageTable]:
    """Tables whose cells are boxed by ruling lines (PyMuPDF's ``find_tables()``)."""
    try:
        # PyMuPDF 2's default gates tables by an ONNX layout model (~1 s a page); ruling lines suffice.
        found = page.find_tables(use_layout=False)
    except TypeError:  # PyMuPDF < 2 has no layout model and no such argument
        found = page.find_tables()
    except Exception:  # noqa: BLE001
        return []
    out = []
    for t in found.tables:
        # Text clipped to each cell box: t.extract() reorders characters of short cells ("X-Y" -> "XY -").
        rows = merge_blank_columns(
            [[clean_cell(page.get_text("text", clip=c, flags=0)) if c else "" for c in row.cells] for row in t.rows]
        )
        # A rule-set table (rules above, under the header, below) is no grid: find_tables() gives it one
        # column or one row per rule; the rule reader below reads it.
        if len(rows) < 2 or max(len(r) for r in rows) < 2:
            continue
        table = DocTable(page=pno, rows=rows, bbox=tuple(round(v, 1) for v in t.bbox))
        table.cells = build_cells(rows)
        out.append(_PageTable(extra={"bbox": tuple(t.bbox), "table": table}))
    return out


# A cell that starts with a number: "-4.1", "+0.02", ".792", "52 (37.7)".
_NUMERIC_START = re.compile(r"^[-+\u2212]?[.,]?\d")


def _horizontal_rules(drawings: list[dict]) -> list[tuple[float, float, float]]:
    """(x0, x1, y) of every horizontal line (or hairline rectangle) drawn on the page."""
    rules = []
    for d in drawings:
        for item in d["items"]:
            if item[0] == "l" and abs(item[1].y - item[2].y) < 0.8:
                x0, x1 = sorted((item[1].x, item[2].x))
                rules.append((x0, x1, (item[1].y + item[2].y) / 2))
            elif item[0] == "re" and item[1].height < 1.5 and item[1].width > 20:
                rules.append((item[1].x0, item[1].x1, (item[1].y0 + item[1].y1) / 2))
    return rules


def _rule_tables(page, pno: int, drawings: list[dict], taken: list[tuple]) -> list[_PageTable]:
    """Tables set as journals set them: between a top and a bottom rule, with no vertical lines.

    Rules of the same extent (x0, x1) bound a table from the first to the last; a caption line
    between two of them ("Table 8: ...") starts a new one. Inside, words make rows (by their
    height on the page) and chunks (words closer than half a line's height); the columns are the
    x-ranges the chunks of the data rows (those holding numbers) cover. A header cell over several
    columns goes to the first of them: to those under its short rule (a cmidrule) when one is
    drawn, else to those nearer to it than to any other header cell of its row.
    """
    rules = _horizontal_rules(drawings)
    groups: dict[tuple[int, int], list[float]] = {}
    for x0, x1, y in rules:
        groups.setdefault((round(x0), round(x1)), []).append(y)
    captions = [
        (b[1], b[3]) for b in page.get_text("blocks", flags=0) if re.match(r"^\s*Table\s*\d+\s*[:.]", b[4] or "")
    ]
    out = []
    for (x0, x1), ys in sorted(groups.items(), key=lambda kv: min(kv[1])):
        ys = sorted(set(round(y, 1) for y in ys))
        segments, current = [], [ys[0]]
        for y in ys[1:]:
            if any(current[-1] < cy0 < y for cy0, _ in captions):
                segments.append(current)
                current = [y]
            else:
                current.append(y)
        segments.append(current)
        for seg in segments:
            if len(seg) < 2 or x1 - x0 < 40:
                continue
            bbox = (float(x0), seg[0], float(x1), seg[-1])
            if any(_inside(((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2) * 2, t) for t in taken):
                continue
            short = [(a, b, y) for a, b, y in rules if seg[0] < y < seg[-1] and b - a < (x1 - x0) * 0.9]
            rows = _read_rule_table(page, bbox, short)
            if rows is None:
                continue
            table = DocTable(page=pno, rows=rows, bbox=tuple(round(v, 1) for v in bbox))
            table.cells = build_cells(rows)
            if any(c.value is not None for c in table.cells):
                out.append(_PageTable(extra={"bbox": bbox, "table": table}))
    return out


def _read_rule_table(page, bbox: tuple, short_rules: list[tuple[float, float, float]]) -> list[list[str]] | None:
    """The rows of the rule-set table in ``bbox`` (see :func:`_rule_tables`), or None when it is none."""
    import pymupdf

    words = page.get_text("words", clip=pymupdf.Rect(bbox), flags=0)
    words = [w for w in words if w[4].strip()]
    if not words:
        return None
    heights = sorted(w[3] - w[1] for w in words)
    h = heights[len(heights) // 2]
    # Rows: words whose vertical middles lie within half a line of the row's first word.
    lines: list[list[tuple]] = []
    for w in sorted(words, key=lambda w: ((w[1] + w[3]) / 2, w[0])):
        mid = (w[1] + w[3]) / 2
        if lines and abs(mid - (lines[-1][0][1] + lines[-1][0][3]) / 2) < 0.5 * h:
            lines[-1].append(w)
        else:
            lines.append([w])
    # Chunks: words of a row closer than half a line's height belong to one cell.
    rows_chunks: list[list[tuple[float, float, str, float]]] = []
    for line in lines:
        chunks: list[list] = []
        for w in sorted(line, key=lambda w: w[0]):
            if chunks and w[0] - chunks[-1][1] < 0.5 * h:
                chunks[-1][1] = w[2]
                chunks[-1][2] += " " + w[4]
            else:
                chunks.append([w[0], w[2], w[4], w[3]])
        rows_chunks.append([(a, b, clean_cell(t), bottom) for a, b, t, bottom in chunks])
    data = [r for r in rows_chunks if any(_NUMERIC_START.match(c[2]) for c in r[1:])]
    if not data:
        return None
    spans = sorted((a, b) for r in data for a, b, _, _ in r)
    columns: list[list[float]] = []
    for a, b in spans:
        if columns and a <= columns[-1][1] + 0.25 * h:
            columns[-1][1] = max(columns[-1][1], b)
        else:
            columns.append([a, b])
    if len(columns) < 2:
        return None
    centres = [(a + b) / 2 for a, b in columns]
    rows: list[list[str]] = []
    for r in rows_chunks:
        row = [""] * len(columns)
        is_data = r in data
        owner: dict[int, int] = {}
        for i, (a, b, _text, bottom) in enumerate(r):
            under = [(ra, rb) for ra, rb, ry in short_rules if bottom - 1 <= ry <= bottom + h and ra < b and rb > a]
            if not is_data and under:
                ra, rb = under[0]
                for j, c in enumerate(centres):
                    if ra - 1 <= c <= rb + 1:
                        owner[j] = i
        for j, c in enumerate(centres):
            if j in owner:
                continue
            if is_data:
                hits = [
                    i
                    for i, (a, b, _, _) in enumerate(r)
                    if a - 0.25 * h <= c <= b + 0.25 * h or columns[j][0] <= (a + b) / 2 <= columns[j][1]
                ]
                if hits:
                    owner[j] = hits[0]
            else:
                dist = [max(a - c, c - b, 0.0) for a, b, _, _ in r]
                near = min(range(len(r)), key=lambda i: dist[i])
                # The stub column heads only a cell that starts in it (not the first column head to its right).
                if j > 0 or r[near][0] < columns[1][0] - 0.25 * h:
                    owner[j] = near
        if not is_data and len(r) == 1:
            rows.append([r[0][2]] + [""] * (len(columns) - 1))  # a title or group row over the whole table
            continue
        seen: set[int] = set()
        for j in range(len(columns)):
            i = owner.get(j)
            if i is not None and i not in seen:
                seen.add(i)
                row[j] = r[i][2]
        # A data chunk no column centre fell in goes to the column it overlaps most.
        for i, (a, b, text, _) in enumerate(r):
            if i not in seen and is_data:
                j = max(range(len(columns)), key=lambda j: min(b, columns[j][1]) - max(a, columns[j][0]))
                row[j] = f"{row[j]} {text}".strip()
        rows.append(row)
    return merge_blank_columns(rows)


def _attach_captions(tables: list[DocTable], blocks: list[Block]) -> None:
    """Give each table its ``Table N`` caption (and that caption's section).

    The caption is the nearest one above the table on its page that overlaps it across (papers
    caption tables above), else the nearest below; each caption serves one table. Two tables on one
    page are no longer numbered by reading order, which gave Table 7's cells the label Table 8.
    """
    captions = [b for b in blocks if b.kind == "caption" and b.text.lower().startswith("tab")]
    used: set[int] = set()

    def gap(t: DocTable, c: Block) -> float:
        if t.bbox is None or c.bbox is None:
            return 0.0
        if c.bbox[2] < t.bbox[0] or c.bbox[0] > t.bbox[2]:
            return float("inf")  # another column
        above = t.bbox[1] - c.bbox[3]
        return above if above >= -2 else 1000 + (c.bbox[1] - t.bbox[3])

    pairs = sorted(
        (gap(t, c), i, j)
        for i, t in enumerate(tables)
        for j, c in enumerate(captions)
        if c.page == t.page and gap(t, c) >= -2
    )
    done: set[int] = set()
    for g, i, j in pairs:
        if i in done or j in used or g == float("inf"):
            continue
        done.add(i)
        used.add(j)
        t, cap = tables[i], captions[j]
        m = CAPTION_RE.match(cap.text)
        t.number = m.group(2) if m else None
        t.caption = cap.text
        t.section = cap.section
