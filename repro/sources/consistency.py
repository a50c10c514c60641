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

from repro.sources.directions import CHANGE, direction, recomputed_changes
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
        options = recomputed_changes(pairs, direction(context))
        if any(pct.agrees(c, t) for c, t, _, _ in options):
            continue
        change, _, base, other = min(options, key=lambda o: abs(o[0] - pct.value))
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


def check_document(doc: Document, vocab: Vocabulary | None = None) -> list[Finding]:
    """Every finding of ``doc`` (see the module docstring), in the order of the checks."""
    vocab = vocab or load_vocabulary()
    sentences = _sentences(doc, vocab)
    return (
        table_means(doc)
        + table_conflicts(doc, sentences, vocab)
        + count_conflicts(sentences)
        + relative_changes(sentences)
        + references(doc, sentences)
        + wrong_tables(doc, sentences)
        + listed_counts(sentences, vocab)
    )
