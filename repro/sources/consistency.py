"""A paper checked against itself: findings a reproducer should know before trusting its numbers.

:func:`check_document` looks for

- **table means** that the cells do not reproduce (:func:`repro.sources.tables.check_means`);
- **conflicting values**: a number the text gives for a method (and backbone) where the table it
  cites prints another for the same method, backbone and row ("outperforming both X-X-mono
  (295.4) ..." where Table 7 gives X-X-mono 410.2), with the other places the text gives the
  table's value; and a count given twice with two values ("mMARCO ... across 14 languages" vs
  "... in 13 languages");
- **relative changes** that do not follow from the numbers they compare ("a 50% reduction from
  410.2 to 286.6": 30.1 %, recomputed);
- **references** to tables, figures, sections or appendices that do not exist, and a cited table
  that holds none of the numbers the sentence takes from it while another table does;
- **counts** that a list contradicts ("three distinct datasets: XQuAD-R and MLQA-R").

Each :class:`Finding` carries its page (PDF), section, table and the quote; they are saved into
the draft registry under ``findings:`` and shown by the report in a section of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from repro.sources.directions import CHANGE, direction, unexplained_change
from repro.sources.document import Block, Cell, DocTable, Document
from repro.sources.quantities import WORD_NUMBERS, Quantity, quantities, stated_pairs
from repro.sources.sentences import iter_sentences
from repro.sources.tables import AGGREGATE_RE, check_means
from repro.sources.vocabulary import Mention, Vocabulary, load_vocabulary

FindingKind = Literal["table mean", "conflicting values", "relative change", "reference", "count"]

_REF = re.compile(
    r"\b(?P<what>Tables?|Figures?|Figs?\.|Sections?|Sec\.|Appendix)\s*"
    r"(?P<first>[A-Z]?\d+(?:\.\d+)*)(?:\s*(?P<sep>through|to|–|-|and|,)\s*(?P<second>[A-Z]?\d+(?:\.\d+)*))?",
)
_COUNTED_LIST = re.compile(
    rf"\b(?P<n>\d+|{'|'.join(WORD_NUMBERS)})\s+(?:\w+\s+){{0,2}}?(?P<noun>datasets|languages|models|baselines|methods|benchmarks)\s*:",
    re.IGNORECASE,
)


class Finding(BaseModel):
    """One thing in the paper that does not add up."""

    kind: FindingKind
    message: str
    quote: str = ""
    page: int | None = None
    section: str | None = None
    table: str | None = None
    elsewhere: list[str] = Field(default_factory=list, description="other places that give the other value")

    def entry(self) -> dict:
        """The registry mapping (``findings:`` of a draft registry): only the fields that are set."""
        return {k: v for k, v in self.model_dump().items() if v not in (None, "", [])}


@dataclass
class _Sentence:
    block: Block
    text: str
    mentions: list[Mention]

    @property
    def where(self) -> str:
        return self.block.location()

    def finding(self, kind: FindingKind, message: str, **fields: Any) -> Finding:
        """A finding quoting this sentence, at its page and section."""
        return Finding(
            kind=kind, message=message, quote=self.text, page=self.block.page, section=self.block.section, **fields
        )


def _sentences(doc: Document, vocab: Vocabulary) -> list[_Sentence]:
    return [_Sentence(b, s, vocab.find(s)) for b, s in iter_sentences(doc)]


# ------------------------------------------------------------------ table means
def table_means(doc: Document) -> list[Finding]:
    """Printed means and totals the cells do not reproduce."""
    out = []
    for t in doc.tables:
        for issue in check_means(t):
            out.append(
                Finding(
                    kind="table mean",
                    message=issue.message(),
                    quote=t.caption,
                    page=t.page,
                    section=t.section,
                    table=t.label,
                )
            )
    return out


# ------------------------------------------------------------------ references
def _existing(doc: Document) -> dict[str, set[str]]:
    tables = {t.number for t in doc.tables if t.number}
    figures: set[str] = set()
    for b in doc.blocks:
        m = re.match(r"^(Table|Figure|Fig\.)\s*([A-Z]?\d+)", b.text)
        if m and b.kind == "caption":
            (tables if m.group(1) == "Table" else figures).add(m.group(2))
    sections = set()
    for h in doc.headings():
        m = re.match(r"^(?:Appendix\s+)?([A-Z]|\d+)((?:\.\d+)*)\b", h.text.strip())
        if m:
            sections.add(m.group(1) + m.group(2))
    return {"table": tables, "figure": figures, "section": sections}


def _expand(first: str, sep: str | None, second: str | None) -> list[str]:
    if not second:
        return [first]
    if sep in ("through", "to", "–", "-") and first.isdigit() and second.isdigit() and int(second) - int(first) < 30:
        return [str(i) for i in range(int(first), int(second) + 1)]
    return [first, second]


def references(doc: Document, sentences: list[_Sentence]) -> list[Finding]:
    """References to tables, figures, sections or appendices that the document does not have.

    Only checked for a kind the document has at all (a text without headings has no section
    numbers to check against).
    """
    have = _existing(doc)
    out, seen = [], set()
    for s in sentences:
        if s.block.kind == "caption":
            continue
        for m in _REF.finditer(s.text):
            what = m.group("what").lower()
            kind = "table" if what.startswith("tab") else "figure" if what.startswith("fig") else "section"
            if not have[kind]:
                continue
            for number in _expand(m.group("first"), m.group("sep"), m.group("second")):
                known = have[kind]
                ok = number in known or (kind == "section" and any(k.startswith(number + ".") for k in known))
                if not ok and (kind, number) not in seen:
                    seen.add((kind, number))
                    out.append(
                        s.finding(
                            kind="reference",
                            message=f"the text refers to {kind} {number}, which the document does not have",
                        )
                    )
    return out


# ------------------------------------------------------------------ numbers against the tables they cite
def _plain(q: Quantity) -> bool:
    return q.unit is None and q.name is None and q.decimals > 0


def _cell_matches(cell: Cell, q: Quantity) -> bool:
    tol = max(q.tolerance, cell.half_unit)
    return cell.value is not None and abs(cell.value - q.value) <= tol + 1e-9


def _cited_tables(doc: Document, text: str) -> list[DocTable]:
    out = []
    for m in _REF.finditer(text):
        if m.group("what").lower().startswith("tab"):
            for n in _expand(m.group("first"), m.group("sep"), m.group("second")):
                t = doc.table(n)
                if t is not None and t not in out:
                    out.append(t)
    return out


def wrong_tables(doc: Document, sentences: list[_Sentence]) -> list[Finding]:
    """A sentence citing one table for numbers that table does not hold, while another table does."""
    out = []
    for s in sentences:
        cited = _cited_tables(doc, s.text)
        if len(cited) != 1:
            continue
        table = cited[0]
        nums = [q for q in quantities(s.text) if _plain(q)]
        if len(nums) < 1 or any(any(_cell_matches(c, q) for c in table.cells) for q in nums):
            continue
        holders = [
            t.label for t in doc.tables if t is not table and any(_cell_matches(c, q) for q in nums for c in t.cells)
        ]
        if holders:
            shown = ", ".join(q.text for q in nums)
            out.append(
                s.finding(
                    kind="reference",
                    message=(
                        f"the text cites {table.label} for {shown}, which {table.label} does not hold; "
                        f"{' and '.join(dict.fromkeys(holders))} {'do' if len(set(holders)) > 1 else 'does'}"
                    ),
                    table=table.label,
                )
            )
    return out


def _methods(mentions: list[Mention], vocab: Vocabulary) -> list[Mention]:
    return [m for m in mentions if m.category == "methods" and (e := vocab.get("methods", m.id)) and e.arm]


def _models(mentions: list[Mention], vocab: Vocabulary) -> list[Mention]:
    return [m for m in mentions if m.category == "methods" and (e := vocab.get("methods", m.id)) and not e.arm]


def _attached_method(text: str, q: Quantity, methods: list[Mention]) -> Mention | None:
    """The method a number belongs to.

    "X-X-mono (295.4)" and "410.2 for X-X-mono" name it next to the number; in "A is higher than
    B (227.1 vs. 226.7)" the pair follows the two methods in order; otherwise the nearest method
    before the number.
    """
    for m in methods:
        end = m.start + len(m.text)
        if 0 <= q.start - end <= 3 and "(" in text[end : q.start]:
            return m
    for m in methods:
        if q.end < m.start <= q.end + 30 and re.match(r"\s*\)?\s*(?:for|of|by)\s+(?:the\s+)?$", text[q.end : m.start]):
            return m
    for a, b in stated_pairs(text):
        if q in (a, b) and "(" in text[max(0, a.start - 2) : a.start]:
            order = list(dict.fromkeys(m.id for m in methods if m.start < a.start))
            if len(order) >= 2:
                want = order[-2] if q == a else order[-1]
                return next(m for m in methods if m.id == want)
    before = [m for m in methods if m.start + len(m.text) <= q.start]
    return before[-1] if before else None


def _header_ids(header: str, vocab: Vocabulary) -> set[str]:
    ids = set()
    for part in re.split(r"\s*/\s*|\s{2,}", header):
        for piece in (part, *part.split()):
            hit = vocab.header(piece)
            if hit:
                ids.add(hit[1].id)
    return ids


def table_conflicts(doc: Document, sentences: list[_Sentence], vocab: Vocabulary) -> list[Finding]:
    """Numbers the text attaches to a method (and backbone) that the cited table prints otherwise."""
    out = []
    for s in sentences:
        cited = _cited_tables(doc, s.text)
        if not cited or not re.search(r"\b(mean|average|averaged|overall)\b", s.text, re.IGNORECASE):
            continue
        methods, models = _methods(s.mentions, vocab), _models(s.mentions, vocab)
        for q in (q for q in quantities(s.text) if _plain(q)):
            method = _attached_method(s.text, q, methods)
            if method is None:
                continue
            model = min(models, key=lambda m: abs(m.start - q.start)) if models else None
            for table in cited:
                cells = [
                    c
                    for c in table.cells
                    if c.value is not None
                    and AGGREGATE_RE.match(c.row_header.split(" / ")[-1])
                    and method.id in _header_ids(c.col_header, vocab) | _header_ids(c.row_header, vocab)
                    and (model is None or model.id in _header_ids(c.col_header + " / " + c.row_header, vocab))
                ]
                if len(cells) != 1 or _cell_matches(cells[0], q):
                    continue
                cell = cells[0]
                elsewhere = [
                    f'{o.where}: "{o.text}"'
                    for o in sentences
                    if o is not s
                    and any(abs(x.value - cell.value) <= x.tolerance for x in quantities(o.text) if _plain(x))
                    and any(m.id == method.id for m in _methods(o.mentions, vocab))
                ]
                backbone = f" ({model.id})" if model else ""
                out.append(
                    s.finding(
                        kind="conflicting values",
                        message=(
                            f"the text gives {method.id}{backbone} {q.text} where {table.label} prints "
                            f"{cell.text} ({cell.row_header.split(' / ')[-1]}, {cell.col_header})"
                            + (f", as the text does elsewhere ({len(elsewhere)}x)" if elsewhere else "")
                        ),
                        table=table.label,
                        elsewhere=elsewhere,
                    )
                )
    return out


# ------------------------------------------------------------------ counts given twice
def _subject(s: _Sentence) -> Mention | None:
    """The dataset a sentence is about: a list item's head ("mMARCO: ..."), else its only dataset."""
    datasets = [m for m in s.mentions if m.category == "datasets"]
    if (
        datasets
        and datasets[0].start <= 2
        and s.text[datasets[0].start + len(datasets[0].text) :].lstrip()[:1] in (":", "-")
    ):
        return datasets[0]
    ids = {m.id for m in datasets}
    return datasets[0] if len(ids) == 1 else None


def count_conflicts(sentences: list[_Sentence]) -> list[Finding]:
    """The same count of the same dataset ("mMARCO ... N languages") given with two values."""
    seen: dict[tuple[str, str], tuple[float, str, _Sentence]] = {}
    out = []
    for s in sentences:
        subject = _subject(s)
        if subject is None:
            continue
        counts = [q for q in quantities(s.text) if q.unit == "language" and not q.approximate]
        if len(counts) != 1:
            continue
        q = counts[0]
        key = (subject.id, q.unit or "")
        if key in seen and seen[key][0] != q.value:
            _, text, first = seen[key]
            out.append(
                s.finding(
                    kind="conflicting values",
                    message=f"the text gives {subject.id} {text} {q.unit}s in one place and {q.text} in another",
                    elsewhere=[f'{first.where}: "{first.text}"'],
                )
            )
        seen.setdefault(key, (q.value, q.text, s))
    return out


def listed_counts(sentences: list[_Sentence], vocab: Vocabulary | None = None) -> list[Finding]:
    """ "three distinct datasets: A and B": a stated count the list after it does not have."""
    cat_of = {"datasets": "datasets", "benchmarks": "datasets", "languages": "languages", "models": "methods"}
    out = []
    for s in sentences:
        for m in _COUNTED_LIST.finditer(s.text):
            n_text, noun = m.group("n").lower(), m.group("noun").lower()
            n = int(n_text) if n_text.isdigit() else WORD_NUMBERS.get(n_text)
            category = cat_of.get(noun)
            if n is None or category is None:
                continue
            rest = re.sub(r"\([^()]*\)", "", s.text[m.end() :])
            rest = re.split(r"\.(?:\s|\d|$)|;", rest, maxsplit=1)[0]
            listed = {x.id for x in s.mentions if x.category == category and x.start >= m.end()}
            listed &= {x.id for x in (vocab or load_vocabulary()).find(rest) if x.category == category}
            if listed and len(listed) != n:
                out.append(
                    s.finding(
                        kind="count",
                        message=f"the text says {n_text} {noun} but lists {len(listed)}: {', '.join(sorted(listed))}",
                    )
                )
    return out


# ------------------------------------------------------------------ relative changes
def relative_changes(sentences: list[_Sentence]) -> list[Finding]:
    """A stated percentage change that none of the sentence's stated pairs gives (recomputed)."""
    out = []
    for s in sentences:
        qs = quantities(s.text)
        pcts = [q for q in qs if q.unit == "%" and CHANGE.search(s.text[max(0, q.start - 40) : q.end + 30])]
        pairs = stated_pairs(s.text, qs)
        if len(pcts) != 1 or not pairs:
            continue
        pct = pcts[0]
        context = s.text[max(0, pct.start - 40) : pct.end + 30]
        if (found := unexplained_change(pct, pairs, direction(context))) is None:
            continue
        change, base, other = found
        out.append(
            s.finding(
                kind="relative change",
                message=(
                    f"the text states {pct.text} but {base.text} -> {other.text} is a change of {change:.1f}% "
                    "(recomputed from the stated numbers)"
                ),
            )
        )
    return out


# ------------------------------------------------------------------ the text against its table's cells
def _label_re(label: str) -> re.Pattern[str] | None:
    """A row or column label as a whole phrase of the text ("Willow Flats", "Control"), or None."""
    label = re.sub(r"\s*\([^()]*\)\s*$", "", label.split(" / ")[-1]).strip()
    if len(label) < 3 or not re.search(r"[^\W\d_]", label) or AGGREGATE_RE.match(label):
        return None
    return re.compile(rf"(?<![\w-]){re.escape(label)}(?![\w-])", re.IGNORECASE)


def _tables_for(doc: Document, s: _Sentence) -> list[DocTable]:
    """The tables a sentence is about: those it cites, else those its paragraph cites."""
    return _cited_tables(doc, s.text) or _cited_tables(doc, s.block.text)


def _grid(table: DocTable) -> tuple[dict[str, re.Pattern[str]], dict[str, re.Pattern[str]], dict]:
    """A table's row labels, column labels (each as a text pattern) and cells by (row, column) label."""
    rows, cols, cells = {}, {}, {}
    for c in table.cells:
        if c.value is None:
            continue
        r, k = c.row_header.split(" / ")[-1], c.col_header.split(" / ")[-1]
        if AGGREGATE_RE.match(r) or AGGREGATE_RE.match(k):
            continue
        for label, into in ((r, rows), (k, cols)):
            pattern = _label_re(label)
            if pattern is not None:
                into.setdefault(label, pattern)
        cells[(r, k)] = c
    return rows, cols, cells


_POINTS_AFTER = re.compile(r"\s*(?:percentage\s+)?(?:points?|pp|p\.p\.)(?!\w)", re.I)
_DIFFERENCE = re.compile(r"\b(?:margin|difference|gap|advantage|lead|ahead)s?\b", re.I)
_SUPERLATIVE = re.compile(r"\b(?P<max>highest|largest|greatest|most)\b|\b(?P<min>lowest|smallest|fewest|least)\b", re.I)


def _column_after(text: str, end: int, cols: dict[str, re.Pattern[str]]) -> str | None:
    """The column label right after a number ("31 % at Ridgecrest", "295 g m-2 at Willow Flats")."""
    window = text[end : end + 30]
    hits = [(m.start(), k) for k, pat in cols.items() if (m := pat.search(window))]
    if not hits:
        return None
    first = min(hits)
    return first[1] if re.fullmatch(r"[^,;.]*?\b(?:at|in|for|on)\s+(?:the\s+)?", window[: first[0]]) else None


def table_values(doc: Document, sentences: list[_Sentence]) -> list[Finding]:
    """A value the text gives for a table's cell that the cell does not print.

    A number followed by a column label ("... at Willow Flats") is that column's cell of the row the
    sentence names (exactly one row label of the table in the sentence); with no row named, a
    superlative ("the highest biomass ... reaching 295 g m-2 at Willow Flats") makes it the column's
    largest (or smallest) cell. Only tables the sentence or its paragraph cites are read, and only
    a number no cell of that column prints is reported.
    """
    out = []
    for s in sentences:
        for table in _tables_for(doc, s):
            rows, cols, cells = _grid(table)
            if not cols:
                continue
            named = [r for r, pat in rows.items() if pat.search(s.text)]
            for q in quantities(s.text):
                if q.unit == "%" or q.approximate or q.name is not None:
                    continue
                col = _column_after(s.text, q.end, cols)
                if col is None:
                    continue
                column = {r: c for (r, k), c in cells.items() if k == col}
                if any(_cell_matches(c, q) for c in column.values()):
                    continue
                sup = _SUPERLATIVE.search(s.text[: q.start])
                if len(named) == 1 and named[0] in column:
                    row, cell = named[0], column[named[0]]
                elif not named and sup and column:
                    pick = max if sup.group("max") else min
                    row = pick(column, key=lambda r: column[r].value)
                    cell = column[row]
                else:
                    continue
                # A change or difference stated at the column ("raised it by 52 g at Ridgecrest", "a margin
                # of 0.8 points on CIFAR-100") is no cell.
                if _POINTS_AFTER.match(s.text[q.end :]) or _DIFFERENCE.search(s.text[: q.start]):
                    continue
                if CHANGE.search(s.text[max(0, q.start - 25) : q.start]) and re.search(
                    r"\bby\s*$", s.text[max(0, q.start - 6) : q.start]
                ):
                    continue
                out.append(
                    s.finding(
                        kind="conflicting values",
                        message=(
                            f"the text gives {q.text} for {row} / {col} where {table.label} prints {cell.text}"
                            + (f" (the {sup.group(0).lower()} of {col})" if not named else "")
                        ),
                        table=table.label,
                    )
                )
    return out


def table_changes(doc: Document, sentences: list[_Sentence]) -> list[Finding]:
    """A relative change stated for a table's column that its cells do not give.

    "Nitrogen addition reduced richness by 31 % at Ridgecrest ... relative to control plots": the
    sentence names two rows of a table it (or its paragraph) cites and the column after the
    percentage; the change between the two rows' cells in that column is recomputed (against the
    larger for a decrease, the smaller for an increase, as :func:`relative_changes` does).
    """
    out = []
    for s in sentences:
        pcts = [q for q in quantities(s.text) if q.unit == "%" and not q.approximate]
        if not pcts or stated_pairs(s.text):
            continue
        for table in _tables_for(doc, s):
            rows, cols, cells = _grid(table)
            named = [r for r, pat in rows.items() if pat.search(s.text)]
            if len(named) != 2:
                continue
            for pct in pcts:
                context = s.text[max(0, pct.start - 40) : pct.end + 30]
                col = _column_after(s.text, pct.end, cols)
                if col is None or not CHANGE.search(context) or re.search(r"\bpoints?\b", context):
                    continue
                a, b = cells.get((named[0], col)), cells.get((named[1], col))
                if a is None or b is None:
                    continue
                qa = Quantity(value=a.value, text=a.text, decimals=_decimals(a.text))
                qb = Quantity(value=b.value, text=b.text, decimals=_decimals(b.text))
                if (found := unexplained_change(pct, [(qa, qb)], direction(context))) is None:
                    continue
                change, base, other = found
                out.append(
                    s.finding(
                        kind="relative change",
                        message=(
                            f"the text states {pct.text} at {col} but {table.label} gives {base.text} -> {other.text} "
                            f"({named[0]} and {named[1]}), a change of {change:.1f}%"
                        ),
                        table=table.label,
                    )
                )
    return out


def _decimals(text: str) -> int:
    from repro.sources.numbers import leading_number

    t = leading_number(text).rstrip("%").strip()
    return len(t.split(".", 1)[1]) if "." in t else 0


# ------------------------------------------------------------------ the same count given twice
# A whole number and the three words after it: "412 adults with uncontrolled hypertension".
_COUNTED_PHRASE = re.compile(
    r"(?<![\w.,$€£-])(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?![\w.,%-]|\s*%)\s+(?P<words>[a-z][a-z-]+(?:\s+[a-z][a-z-]+){2})"
)
_FUNCTION = {"of", "the", "a", "an", "and", "or", "to", "in", "for", "per", "with", "on", "at", "by", "from", "than"}


def repeated_counts(sentences: list[_Sentence]) -> list[Finding]:
    """The same count given with two values: "412 adults with uncontrolled hypertension" and "418 adults with ...".

    A whole number followed by the same three words (not all small words, not a year) names the
    same quantity; two different numbers for it are reported at the later one.
    """
    seen: dict[str, tuple[str, _Sentence]] = {}
    out = []
    for s in sentences:
        for m in _COUNTED_PHRASE.finditer(s.text):
            n, words = m.group("n"), " ".join(m.group("words").lower().split())
            value = int(n.replace(",", ""))
            if 1900 <= value <= 2100 or sum(w not in _FUNCTION for w in words.split()) < 2:
                continue
            if words.split()[0] in _FUNCTION:
                continue
            if words in seen and seen[words][0] != n:
                first_n, first = seen[words]
                out.append(
                    s.finding(
                        kind="conflicting values",
                        message=f"the text gives {n} {words} here and {first_n} {words} in another place",
                        elsewhere=[f'{first.where}: "{first.text}"'],
                    )
                )
                continue
            seen.setdefault(words, (n, s))
    return out


def check_document(doc: Document, vocab: Vocabulary | None = None) -> list[Finding]:
    """Every finding of ``doc`` (see the module docstring), in the order of the checks."""
    vocab = vocab or load_vocabulary()
    sentences = _sentences(doc, vocab)
    return (
        table_means(doc)
        + table_conflicts(doc, sentences, vocab)
        + table_values(doc, sentences)
        + count_conflicts(sentences)
        + repeated_counts(sentences)
        + relative_changes(sentences)
        + table_changes(doc, sentences)
        + references(doc, sentences)
        + wrong_tables(doc, sentences)
        + listed_counts(sentences, vocab)
    )
