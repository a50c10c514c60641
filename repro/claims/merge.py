"""Merge drafted claims into a registry YAML file as ``status: draft`` entries.

A candidate whose normalised text is close to a claim already in the file (see :func:`similar`)
is skipped, so re-running extraction never adds a claim twice. New claims get ids ``D1, D2, ...``
that do not collide with existing ids. When ``claims:`` is the file's last top-level key and a
block list, the new entries are appended to the file text so a person's comments and layout
survive; otherwise the file is rewritten with PyYAML.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml

from repro.atomic import atomic_write_text
from repro.claims.extract import ClaimCandidate
from repro.errors import ReproError

# Normalised-text similarity from which two claims are the same claim (difflib ratio).
DUPLICATE_RATIO = 0.85


def normalise(text: str) -> str:
    """Lower case, letters and digits only, single spaces; ``[bracketed]`` completions dropped."""
    text = re.sub(r"\[[^\]]*\]", "", text.lower())
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def similar(a: str, b: str) -> bool:
    """Whether two claim texts are near-duplicates.

    Either the normalised texts are at least :data:`DUPLICATE_RATIO` alike, or one (of at least
    six words) is contained in the other -- a claim cut off mid-sentence is still the same claim.
    """
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return False
    short, long_ = sorted((na, nb), key=len)
    if len(short.split()) >= 6 and short in long_:
        return True
    return difflib.SequenceMatcher(None, na, nb, autojunk=False).ratio() >= DUPLICATE_RATIO


def candidate_entry(cand: ClaimCandidate, claim_id: str, arxiv: str | None) -> dict[str, Any]:
    """The registry mapping of one drafted claim."""
    source: dict[str, Any] = {}
    if arxiv:
        source["arxiv"] = arxiv
    if cand.section:
        source["section"] = cand.section
    if cand.page:
        source["page"] = cand.page
    source["quote"] = cand.text
    entry: dict[str, Any] = {
        "id": claim_id,
        "text": cand.text,
        "status": "draft",
        "source": source,
        "evidence": ["text"] + (["experiment"] if cand.check_complete else []),
    }
    if cand.reported:
        entry["reported"] = cand.reported
    notes = [f"drafted with confidence {cand.confidence:.2f}"]
    if cand.check and not cand.check_complete:
        missing = [k for k, v in cand.check.items() if v is None]
        known = {k: v for k, v in cand.check.items() if v is not None}
        notes.append(f"suggested check, fill in {', '.join(missing)}: {known}")
    entry["note"] = "; ".join(notes)
    entry["checks"] = [cand.check] if cand.check_complete else []
    return entry


def merge_candidates(path: Path, candidates: list[ClaimCandidate], arxiv: str | None = None) -> tuple[list[str], int]:
    """Add the new candidates to the registry file ``path`` (created if missing).

    Returns the ids added and how many candidates were skipped as duplicates.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        raw = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        raise ReproError(f"{path} is not valid YAML ({getattr(exc, 'problem', exc)}); fix it before merging") from None
    if raw is None:
        raw = {"name": path.stem, "claims": []}
    if not isinstance(raw, dict) or not isinstance(raw.get("claims", []), list):
        raise ReproError(f"{path}: a registry must be a mapping whose `claims` is a list")
    existing = raw.get("claims") or []
    texts = [str(c.get("text", "")) for c in existing if isinstance(c, dict)]
    ids = {str(c.get("id")) for c in existing if isinstance(c, dict)}
    new_entries, skipped, n = [], 0, 1
    for cand in candidates:
        if any(similar(cand.text, t) for t in texts):
            skipped += 1
            continue
        while f"D{n}" in ids:
            n += 1
        ids.add(f"D{n}")
        new_entries.append(candidate_entry(cand, f"D{n}", arxiv))
        texts.append(cand.text)
    if new_entries:
        appended = _append_text(text, new_entries)
        if appended is None:
            raw["claims"] = existing + new_entries
            appended = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100)
        atomic_write_text(path, appended)
    return [e["id"] for e in new_entries], skipped


def _append_text(text: str, entries: list[dict[str, Any]]) -> str | None:
    """``text`` with ``entries`` appended under a trailing block-style ``claims:`` list, else None."""
    if not text.strip():
        return None
    node = yaml.compose(text)
    if not isinstance(node, yaml.MappingNode) or not node.value:
        return None
    key, value = node.value[-1]
    if key.value != "claims" or not isinstance(value, yaml.SequenceNode) or value.flow_style or not value.value:
        return None
    indent = " " * max(0, value.value[0].start_mark.column - 2)
    dumped = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=100)
    block = "".join(indent + line if line.strip() else line for line in dumped.splitlines(keepends=True))
    merged = text if text.endswith("\n") else text + "\n"
    merged += block
    # Appending is only safe if the result still reads as the same mapping with more claims.
    check = yaml.safe_load(merged)
    if not isinstance(check, dict) or len(check.get("claims") or []) != len(value.value) + len(entries):
        return None
    return merged
