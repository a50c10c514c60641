"""Numbers as papers print them in table cells and prose: ``0.8121``, ``.8121``, ``41.2%``, ``−3``.

A cell that pairs a value with a second one in brackets or after ``±`` (``27 (6.6)`` for n (%),
``12.1 (3.4)`` for mean (SD), ``0.82 ± 0.01``) stands for its first value.
"""

from __future__ import annotations

import re

# Decimal numbers as papers print them: 0.8121, .8121, 41.2, 12, -3.5, 30.1%.
NUMBER_RE = re.compile(r"^[-+−]?(?:\d+(?:[.,]\d+)?|\.\d+)\s*%?$")


# "27 (6.6)", "12.1 (3.4)", "0.82 ± 0.01", "0.82±0.01": the value before the bracket or the ±.
_PAIRED_RE = re.compile(
    r"^\s*([-+−]?(?:\d+(?:[.,]\d+)?|\.\d+)\s*%?)\s*(?:\(\s*[-+−]?[\d.,]+\s*%?\s*\)|±\s*[\d.,]+\s*%?)\s*$"
)


def leading_number(text: str) -> str:
    """The printed text of the value a cell stands for (``27 (6.6)`` -> ``27``; others unchanged)."""
    m = _PAIRED_RE.match(text)
    return m.group(1).strip() if m else text.strip()


def parse_number(text: str) -> float | None:
    """The number a cell prints (``.8121``, ``41.2%``, ``−3``, ``27 (6.6)`` -> 27), or None for words."""
    t = leading_number(text).replace("−", "-").replace(",", ".")
    if not t or not NUMBER_RE.match(t):
        return None
    try:
        return float(t.rstrip("%").strip())
    except ValueError:
        return None
