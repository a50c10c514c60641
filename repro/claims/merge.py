"""Merge drafted claims, and what drafting found in the paper, into a registry YAML file.

A candidate whose normalised text is close to a claim already in the file (see :func:`similar`)
is skipped, so re-running extraction never adds a claim twice. New claims get ids ``D1, D2, ...``
that do not collide with existing ids, their type (result, comparison, setup, data, protocol,
scope) and, for setup and data claims, the values they state; where the registry has
experiments, a setup claim's note sets each value beside the experiment's configuration
("batch size: paper 100; ours 32"). When ``claims:`` is the file's last top-level key and a
block list, the new entries are appended to the file text so a person's comments and layout
survive; otherwise the file goes through a ruamel.yaml round trip, which keeps comments and key
order too. A file that is not a registry (an experiment file, say) is refused, never rewritten.

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

# The top-level keys a registry may have (repro.claims.registry.Registry): a file with others is not one.
REGISTRY_KEYS = ("name", "description", "paper", "experiments", "arms", "research_question", "findings", "claims")

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
        entry["paper_numbers"] = cand.reported
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
        out[f"{name} ({exp.profile})"] = (exp.train_settings, exp.grid)
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
        if appended is None and text.strip():
            appended = _roundtrip(text, lambda data: _extend(data, "claims", new_entries))
        if appended is None:
            raw["claims"] = existing + new_entries
            appended = _dump(raw)
        atomic_write_text(path, appended)
    return [e["id"] for e in new_entries], skipped


def _read(path: Path) -> tuple[str, Any]:
    """The registry file's text ("" when missing) and its YAML (None when empty); a one-line error if not YAML."""
    if path.is_dir():
        raise ReproError(f"--into {path} is a folder; give a registry file such as claims/<name>.yaml")
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        raw = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        raise ReproError(f"{path} is not valid YAML ({getattr(exc, 'problem', exc)}); fix it before merging") from None
    if raw is None:
        return text, raw
    other = sorted(k for k in raw if k not in REGISTRY_KEYS) if isinstance(raw, dict) else []
    if not isinstance(raw, dict) or other or not isinstance(raw.get("claims", []), list):
        what = f"it has {', '.join(map(str, other))}" if other else "a registry is a mapping whose `claims` is a list"
        hint = "; an experiment file?" if {"grid", "eval", "train", "profiles"} & set(other) else ""
        raise ReproError(
            f"--into {path} is not a claims registry ({what}{hint}); nothing was written: give a registry "
            "file such as claims/<name>.yaml (created if missing)"
        )
    return text, raw


def check_target(path: Path) -> None:
    """A ReproError now if ``path`` cannot take drafted claims (a folder, invalid YAML, not a registry),
    before minutes of extraction are spent; a missing file is fine (it is created)."""
    _read(Path(path))


def _extend(data: Any, key: str, entries: list[dict[str, Any]], before: str | None = None) -> None:
    """Add ``entries`` to the list ``data[key]`` of a round-trip mapping (created, before ``before`` if given)."""
    if data.get(key) is None:
        if before is not None and before in data:
            data.insert(list(data).index(before), key, [])
        else:
            data[key] = []
    data[key].extend(entries)


def _roundtrip(text: str, update: Any) -> str | None:
    """``text`` after ``update(mapping)`` through a ruamel.yaml round trip (comments and key order kept);
    None if the result would not read back as the same registry with more entries."""
    import io

    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.indent(mapping=2, sequence=4, offset=2)  # the registries' layout: "claims:\n  - id: ..."
    rt.width = 100
    rt.preserve_quotes = True
    data = rt.load(text)
    update(data)
    out = io.StringIO()
    rt.dump(data, out)
    merged = out.getvalue()
    check = yaml.safe_load(merged)
    before = yaml.safe_load(text)
    if not isinstance(check, dict) or {k: v for k, v in check.items() if k not in ("claims", "findings")} != {
        k: v for k, v in before.items() if k not in ("claims", "findings")
    }:
        return None
    return merged


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
    raw = raw if raw is not None else {"name": path.stem, "claims": []}
    have = raw.get("findings") or []
    seen = {(f.get("kind"), f.get("message")) for f in have if isinstance(f, dict)}
    new = [f.entry() for f in findings if (f.kind, f.message) not in seen]
    new = list({(e["kind"], e["message"]): e for e in new}.values())
    if not new:
        return 0
    merged = _insert_findings(text, new) if text.strip() else None
    if merged is None and text.strip():
        merged = _roundtrip(text, lambda data: _extend(data, "findings", new, before="claims"))
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
