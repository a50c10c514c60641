"""XNLI 1.0 (Conneau et al. 2018): 15-way parallel premise/hypothesis pairs.

Line i of every language file translates line i of the English file; dev has labels, test not.
The training issue turns it into a parallel (query = hypothesis, passage = premise) corpus.
"""

from __future__ import annotations

from functools import lru_cache

from repro.data.manifest import verified_path
from repro.data.table import Table
from repro.errors import ReproError

LANGUAGES: tuple[str, ...] = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
SPLITS: tuple[str, ...] = ("dev", "test")


@lru_cache(maxsize=64)
def load_xnli(split: str, language: str) -> Table:
    """One split of one language: columns ``line``, ``language``, ``premise``, ``hypothesis``, ``label``
    (``label`` is empty on test, which upstream ships unlabelled)."""
    if split not in SPLITS:
        raise ReproError(f"unknown XNLI split '{split}'; known: {', '.join(SPLITS)}")
    if language not in LANGUAGES:
        raise ReproError(f"XNLI has no language '{language}'; it has {', '.join(LANGUAGES)}")
    cols: dict[str, list] = {"line": [], "language": [], "premise": [], "hypothesis": [], "label": []}
    text = verified_path(f"xnli/{split}-{language}.tsv").read_text(encoding="utf-8")
    for i, row in enumerate(text.rstrip("\n").split("\n")):
        # Upstream TSVs are unquoted; splitting on tabs keeps quotes inside sentences intact.
        fields = row.split("\t")
        cols["line"].append(i)
        cols["language"].append(language)
        cols["premise"].append(fields[0])
        cols["hypothesis"].append(fields[1] if len(fields) > 1 else "")
        cols["label"].append(fields[2] if len(fields) > 2 else "")
    return Table.from_dict(cols)
