"""Table cells with their headers, and the check that printed means/totals match the cells.

Rows are classified as *header* rows (no numbers beyond the first column), *group* rows (only the
first cell filled, e.g. "MAP" above a block of rows) and *data* rows. A data cell's column header
joins the header rows above it (group headers that span several columns are forward-filled,
because both PDF and Markdown leave the spanned cells empty); its row header is the first cell.
"""

from __future__ import annotations

import re

from repro.sources.document import Cell, DocTable, TableIssue
from repro.sources.numbers import parse_number

# Row or column labels of printed aggregates ("Total (n = 412)": a bracket after the word is its detail).
AGGREGATE_RE = re.compile(
    r"^\s*(avg\.?|average|mean|macro[- ]avg\.?|total|sum|overall)\s*(?:\([^()]*\))?\s*$", re.IGNORECASE
)
# Other summaries of the same cells: never parts of a mean, and not checked themselves.
SUMMARY_RE = re.compile(r"^\s*(median|std\.?|stdev|s\.?d\.?|min|max|variance|var\.?|±)\s*$", re.IGNORECASE)
_MARKUP_RE = re.compile(r"</?(?:b|u|i|em|strong|sup|sub)>|\*\*|__", re.IGNORECASE)


def clean_cell(text: str | None) -> str:
    """A cell's text without emphasis markup (``<b>``, ``**``) and with single spaces."""
    return " ".join(_MARKUP_RE.sub("", text or "").split())


def _kind(row: list[str]) -> str:
    rest = row[1:]
    if any(parse_number(c) is not None for c in rest):
        return "data"
    if row and row[0] and not any(rest):
        return "group"
    return "header"


def _percent_header(rows: list[list[str]]) -> bool:
    """A first row of percentages over rows that print none ("10 % | 25 % | 100 %" above the values)."""
    if len(rows) < 2 or not rows[0][1:]:
        return False
    head = rows[0][1:]
    below = [c for r in rows[1:] for c in r[1:] if c]
    return all(c.strip().endswith("%") for c in head if c) and not any(c.strip().endswith("%") for c in below)


def build_cells(rows: list[list[str]]) -> list[Cell]:
    """Every numeric or textual data cell of ``rows`` with its row and column headers."""
    cells: list[Cell] = []
    headers: list[list[str]] = []
    group = ""
    previous = "data"
    for r, row in enumerate(rows):
        kind = "header" if r == 0 and _percent_header(rows) else _kind(row)
        if kind == "header":
            if previous != "header":
                headers = []
            filled, last = [], ""
            for c in row:
                last = c or last
                filled.append(c or last)
            # Forward-filling the first column would smear the stub head over row labels.
            if filled:
                filled[0] = row[0]
            headers.append(filled)
        elif kind == "group":
            group = row[0]
        else:
            for c, text in enumerate(row):
                if c == 0 or not text:
                    continue
                parts = [h[c] for h in headers if c < len(h) and h[c]]
                col_header = " / ".join(dict.fromkeys(parts))
                row_header = f"{group} / {row[0]}" if group and row[0] else row[0] or group
                cells.append(
                    Cell(
                        row=r, col=c, text=text, value=parse_number(text), row_header=row_header, col_header=col_header
                    )
                )
        previous = kind
    return cells


def _swaps(text: str) -> list[float]:
    """Values the cell would have with two adjacent digits swapped (a common transcription slip)."""
    out = []
    for i in range(len(text) - 1):
        a, b = text[i], text[i + 1]
        if a.isdigit() and b.isdigit() and a != b:
            v = parse_number(text[:i] + b + a + text[i + 2 :])
            if v is not None:
                out.append(v)
    return out


def _consistent(printed: Cell, parts: list[Cell], values: list[float], total: bool) -> bool:
    got = sum(values) if total else sum(values) / len(values)
    # Half a unit in the printed last digit, plus float noise.
    return abs(got - printed.value) <= printed.half_unit + 1e-9


def check_means(table: DocTable) -> list[TableIssue]:
    """Printed ``Mean``/``Avg``/``Total`` rows and columns that the other cells do not reproduce.

    A mean row is compared with the data rows of its block (between header/group rows), a mean
    column with the other numeric cells of its row that share the same top-level column header.
    Each mismatch names the cells whose adjacent-digit swap would make it consistent.
    """
    issues: list[TableIssue] = []
    numeric = [c for c in table.cells if c.value is not None]
    # Row aggregates: cells in a row labelled Mean/Total, against same-column cells of its block.
    block_of: dict[int, int] = {}
    block = 0
    last_row = None
    data_rows = sorted({c.row for c in table.cells})
    for r in data_rows:
        if last_row is not None and r != last_row + 1:
            block += 1
        block_of[r] = block
        last_row = r
    for cell in numeric:
        label = cell.row_header.split(" / ")[-1]
        if AGGREGATE_RE.match(label):
            parts = [
                c
                for c in numeric
                if c.col == cell.col
                and block_of[c.row] == block_of[cell.row]
                and c.row != cell.row
                and not AGGREGATE_RE.match(c.row_header.split(" / ")[-1])
                and not SUMMARY_RE.match(c.row_header.split(" / ")[-1])
            ]
            issues += _issue(table, cell, parts, total=_is_total(label))
    # Column aggregates: a header ending in Mean/Avg/Total, against the row's other cells of its group.
    for cell in numeric:
        label = cell.col_header.split(" / ")[-1]
        if AGGREGATE_RE.match(label) and not AGGREGATE_RE.match(cell.row_header.split(" / ")[-1]):
            group = cell.col_header.split(" / ")[0] if " / " in cell.col_header else None
            parts = [
                c
                for c in numeric
                if c.row == cell.row
                and c.col != cell.col
                and not AGGREGATE_RE.match(c.col_header.split(" / ")[-1])
                and not SUMMARY_RE.match(c.col_header.split(" / ")[-1])
                and (group is None or c.col_header.split(" / ")[0] == group)
            ]
            issues += _issue(table, cell, parts, total=_is_total(label))
    return issues


def _is_total(label: str) -> bool:
    """A total or sum (added up), not a mean."""
    return label.strip().lower().split("(")[0].strip() in ("total", "sum")


def _issue(table: DocTable, printed: Cell, parts: list[Cell], total: bool) -> list[TableIssue]:
    if len(parts) < 2:
        return []
    values = [c.value for c in parts]
    if _consistent(printed, parts, values, total):
        return []
    suspects = []
    for i, part in enumerate(parts):
        for alt in _swaps(part.text):
            trial = values[:i] + [alt] + values[i + 1 :]
            if _consistent(printed, parts, trial, total):
                suspects.append(f"{part.row_header} / {part.col_header} = {part.text} (-> {alt:g})")
    got = sum(values) if total else sum(values) / len(values)
    return [
        TableIssue(
            table=table.label,
            row_header=printed.row_header,
            col_header=printed.col_header,
            printed=printed.value,
            recomputed=got,
            suspects=suspects,
        )
    ]


def merge_blank_columns(rows: list[list[str]]) -> list[list[str]]:
    """Drop columns that are empty in every row (Markdown converters often add one at the end)."""
    if not rows:
        return rows
    width = max(len(r) for r in rows)
    padded = [r + [""] * (width - len(r)) for r in rows]
    keep = [c for c in range(width) if any(r[c] for r in padded)]
    return [[r[c] for c in keep] for r in padded]
