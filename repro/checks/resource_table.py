"""The state of the Joshi class table behind a research question's groups, as the report shows it.

Computed when the question is verified and stored with its answer (the report reads only the
verdicts file): its source, the committed copy of the list, and the entry-by-entry check.
"""

from __future__ import annotations

from typing import Any

from repro.errors import ReproError


def resource_table_state() -> list[tuple[str, str]]:
    """The Joshi class table: its source, the committed copy of the list, and the entry-by-entry check."""
    import hashlib
    from collections import Counter

    from repro.data import resource_classes as rc

    rows = [("source", rc.SOURCE), ("availability", f"not reachable offline; committed copy from {rc.COPY_SOURCE}")]
    try:
        listed = rc.read_lang2tax()
        digest = hashlib.sha256(rc.LANG2TAX_PATH.read_bytes()).hexdigest()
    except (OSError, ReproError) as exc:
        return [*rows, ("committed copy", f"unreadable: {exc}")]
    per_class = Counter(c for classes in listed.values() for c in classes)
    counts = tuple(per_class.get(c, 0) for c in range(6))
    same = "equal to" if counts == rc.TABLE1_COUNTS else f"NOT equal to {list(rc.TABLE1_COUNTS)} in"
    rows += [
        ("committed copy", f"repro/data/{rc.LANG2TAX_PATH.name}, {sum(counts)} entries, SHA-256 {digest}"),
        ("copy's languages per class 0-5", f"{', '.join(map(str, counts))} ({same} the paper's Table 1)"),
    ]
    table = list(rc.LANGUAGES.values())
    ours = Counter(lang.joshi_class for lang in table)
    rows.append(
        (
            "our table",
            f"{len(table)} languages ({_tatoeba_count(table)} of them Tatoeba languages); per class 0-5: "
            + ", ".join(str(ours.get(c, 0)) for c in range(6))
            + f"; low = classes 0-{rc.HIGH_FROM_CLASS - 1}, high = {rc.HIGH_FROM_CLASS}-5",
        )
    )
    problems = rc.lang2tax_mismatches()
    rows.append(
        (
            "checked entry by entry",
            "every entry's class equals its line in the copy" if not problems else "; ".join(problems),
        )
    )
    ambiguous = [f"{lang.code} ({lang.lang2tax})" for lang in table if lang.ambiguous]
    if ambiguous:
        rows.append(("read two ways in the list (curated line used)", ", ".join(ambiguous)))
    return rows


def _tatoeba_count(table: list[Any]) -> str:
    """How many table entries have a Tatoeba test file ("?" when the data manifest cannot say)."""
    try:
        from repro.data.tatoeba import languages

        files = set(languages())
    except (ReproError, OSError):
        return "?"
    return str(sum(1 for lang in table if lang.tatoeba in files))
