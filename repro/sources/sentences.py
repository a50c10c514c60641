"""The sentences of a document's prose, for claim extraction and text support.

Paragraphs are split after ``.``, ``!``, ``?`` (and the CJK full stops) when the next sentence
starts with a capital, a digit or a CJK character; abbreviations (e.g., et al., Fig.) and
initials do not end a sentence. The references section is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from repro.sources.document import Block, Document

_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Eq|Eqs|Sec|Tab|No|approx|resp|Mr|Ms|Dr|St)\.|(?:^|\s)[A-Z]\.)$"
)
_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9\u0370-\u04ff\u3040-\u9fff])|(?<=[。！？])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph; abbreviations (e.g., et al., Fig.) and decimals do not end one."""
    pieces = [p for p in _SPLIT.split(text) if p and p.strip()]
    out: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        if out and (_ABBREV.search(out[-1]) or piece[:1].islower()):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def iter_sentences(doc: Document) -> Iterator[tuple[Block, str]]:
    """(block, sentence) for every sentence of the document's prose, skipping the references."""
    for block in doc.body():
        if block.section and re.match(r"^(\d+\s*)?(references|bibliography)\b", block.section, re.IGNORECASE):
            continue
        for sentence in split_sentences(block.text):
            yield block, sentence
