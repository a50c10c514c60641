"""Merge drafted claims, and what drafting found in the paper, into a registry YAML file.

A candidate whose normalised text is close to a claim already in the file (see :func:`similar`)
is skipped, so re-running extraction never adds a claim twice. New claims get ids ``D1, D2, ...``
that do not collide with existing ids, their type (result, comparison, setup, data, protocol,
scope) and, for setup and data claims, the values they state; where the registry has
experiments, a setup claim's note sets each value beside the experiment's configuration
("batch size: paper 100; ours 32"). When ``claims:`` is the file's last top-level key and a
block list, the new entries are appended to the file text so a person's comments and layout
survive; otherwise the file is rewritten with PyYAML.

:func:`merge_findings` adds the paper's findings about itself (table means that disagree with
their cells, values given twice, wrong references...) under ``findings:``, each once, placed
before ``claims:`` so that appending claims keeps working.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml

from repro.atomic import atomic_write_text
from repro.claims.claim_types import against_config
from repro.claims.extract import ClaimCandidate
from repro.errors import ReproError
from repro.sources.consistency import Finding

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


def candidate_entry(
    cand: ClaimCandidate, claim_id: str, arxiv: str | None, configs: dict[str, tuple[dict, dict]] | None = None
) -> dict[str, Any]:
    """The registry mapping of one drafted claim.

    ``configs`` maps an experiment name to its (train, grid) configuration: a setup claim's note
    then sets the paper's values beside it.
    """
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
        "type": cand.type,
        **({"values": cand.values} if cand.values else {}),
        "source": source,
        "evidence": ["text"] + (["experiment"] if cand.check_complete else []),
    }
    if cand.reported:
        entry["reported"] = cand.reported
    notes = [f"drafted with confidence {cand.confidence:.2f}"]
    for name, (train, grid) in (configs or {}).items():
        beside = against_config(cand.values, train, grid)
        if beside:
            notes.append(f"against {name}: " + "; ".join(beside))
    if cand.check and not cand.check_complete:
        missing = [k for k, v in cand.check.items() if v is None]
        known = {k: v for k, v in cand.check.items() if v is not None}
        notes.append(f"suggested check, fill in {', '.join(missing)}: {known}")
    entry["note"] = "; ".join(notes)
    entry["checks"] = [cand.check] if cand.check_complete else []
    return entry


def experiment_configs(path: Path, raw: dict[str, Any], profile: str = "full") -> dict[str, tuple[dict, dict]]:
    """(train, grid) of every experiment the registry at ``path`` names, at ``profile`` where it has one.

    An experiment that does not load is left out: drafting must not fail on it.
    """
    from repro.runner.experiment import load_experiment

    out = {}
    for name, rel in (raw.get("experiments") or {}).items():
        exp_path = Path(rel) if Path(rel).is_absolute() else Path(path).parent / rel
        try:
            profiles = (yaml.safe_load(exp_path.read_text(encoding="utf-8")) or {}).get("profiles") or {}
            exp = load_experiment(exp_path, profile if profile in profiles else next(iter(profiles), profile))
        except (OSError, ReproError, yaml.YAMLError, StopIteration):
            continue
        out[f"{name} ({exp.profile})"] = (exp.train, exp.grid)
    return out


def merge_candidates(
    path: Path, candidates: list[ClaimCandidate], arxiv: str | None = None, profile: str = "full"
) -> tuple[list[str], int]:
    """Add the new candidates to the registry file ``path`` (created if missing).

    Setup values are set beside the configuration of the registry's experiments at ``profile``.
    Returns the ids added and how many candidates were skipped as duplicates.
    """
    path = Path(path)
    text, raw = _read(path)
    if raw is None:
        raw = {"name": path.stem, "claims": []}
    if not isinstance(raw, dict) or not isinstance(raw.get("claims", []), list):
        raise ReproError(f"{path}: a registry must be a mapping whose `claims` is a list")
    existing = raw.get("claims") or []
    configs = experiment_configs(path, raw, profile)
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
        new_entries.append(candidate_entry(cand, f"D{n}", arxiv, configs))
        texts.append(cand.text)
    if new_entries:
        appended = _append_text(text, new_entries)
        if appended is None:
            raw["claims"] = existing + new_entries
            appended = _dump(raw)
        atomic_write_text(path, appended)
    return [e["id"] for e in new_entries], skipped


def _read(path: Path) -> tuple[str, Any]:
    """The registry file's text ("" when missing) and its YAML (None when empty); a one-line error if not YAML."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        return text, (yaml.safe_load(text) if text.strip() else None)
    except yaml.YAMLError as exc:
        raise ReproError(f"{path} is not valid YAML ({getattr(exc, 'problem', exc)}); fix it before merging") from None


def _dump(data: Any) -> str:
    """YAML as the registry files are written: keys in order, unicode as is, lines up to 100 characters."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _block(entries: list[dict[str, Any]], indent: str) -> str:
    """``entries`` as a block list whose dashes stand ``indent`` from the left margin."""
    return "".join(indent + line if line.strip() else line for line in _dump(entries).splitlines(keepends=True))


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
    merged = text if text.endswith("\n") else text + "\n"
    merged += _block(entries, " " * max(0, value.value[0].start_mark.column - 2))
    # Appending is only safe if the result still reads as the same mapping with more claims.
    check = yaml.safe_load(merged)
    if not isinstance(check, dict) or len(check.get("claims") or []) != len(value.value) + len(entries):
        return None
    return merged


def merge_findings(path: Path, findings: list[Finding]) -> int:
    """Add the findings not yet in the registry file ``path`` under ``findings:``; how many were added.

    The list goes right before ``claims:`` (created there if missing), so comments and layout
    survive and drafted claims can still be appended at the end; a file whose layout does not
    allow that is rewritten with PyYAML.
    """
    path = Path(path)
    text, raw = _read(path)
    raw = raw if isinstance(raw, dict) else {"name": path.stem, "claims": []}
    have = raw.get("findings") or []
    seen = {(f.get("kind"), f.get("message")) for f in have if isinstance(f, dict)}
    new = [f.entry() for f in findings if (f.kind, f.message) not in seen]
    new = list({(e["kind"], e["message"]): e for e in new}.values())
    if not new:
        return 0
    merged = _insert_findings(text, new) if text.strip() else None
    if merged is None:
        raw["findings"] = have + new
        claims = raw.pop("claims", [])
        raw["claims"] = claims  # claims stay last, so that drafted claims can be appended
        merged = _dump(raw)
    atomic_write_text(path, merged)
    return len(new)


def _insert_findings(text: str, entries: list[dict[str, Any]]) -> str | None:
    """``text`` with ``entries`` added to its ``findings:`` list (or a new one before ``claims:``), else None."""
    node = yaml.compose(text)
    if not isinstance(node, yaml.MappingNode):
        return None
    keys = {k.value: (k, v) for k, v in node.value}
    lines = text.splitlines(keepends=True)
    if "findings" in keys:
        _, value = keys["findings"]
        if not isinstance(value, yaml.SequenceNode) or value.flow_style or not value.value:
            return None
        at = value.end_mark.line if value.end_mark.column == 0 else value.end_mark.line + 1
        block = _block(entries, " " * max(0, value.value[0].start_mark.column - 2))
    elif "claims" in keys:
        key, _ = keys["claims"]
        at = key.start_mark.line
        block = "findings:\n" + _block(entries, "  ")
    else:
        return None
    merged = "".join(lines[:at]) + block + "".join(lines[at:])
    check = yaml.safe_load(merged)
    want = len(yaml.safe_load(text).get("findings") or []) + len(entries)
    if not isinstance(check, dict) or len(check.get("findings") or []) != want:
        return None
    return merged
