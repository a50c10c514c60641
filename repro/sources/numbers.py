"""Numbers as papers print them in table cells and prose: ``0.8121``, ``.8121``, ``41.2%``, ``−3``."""

from __future__ import annotations

import re

# Decimal numbers as papers print them: 0.8121, .8121, 41.2, 12, -3.5, 30.1%.
NUMBER_RE = re.compile(r"^[-+−]?(?:\d+(?:[.,]\d+)?|\.\d+)\s*%?$")


def parse_number(text: str) -> float | None:
    """The number a cell prints (``.8121``, ``41.2%``, ``−3``), or None for words."""
    t = text.strip().replace("−", "-").replace(",", ".")
    if not t or not NUMBER_RE.match(t):
        return None
    try:
        return float(t.rstrip("%").strip())
    except ValueError:
        return None
