"""Content integrity of records: the SHA-256 of a JSON record's own content and of the files it names.

A step - cached or published - is a folder of files and a JSON record. Sealing the record adds
``integrity: {files: {name: sha256}, record_sha256: ...}``: the hash of every file the record
stands for (a per-query ``.npz``, model weights) and the hash of the record's own content
(canonical JSON of everything but ``record_sha256``, so reformatting does not matter but any
changed number, key or file hash does). :func:`check_record` says what no longer matches, before
anything uses the file. A record without ``integrity`` was written before records carried hashes:
it is "unsealed", which callers report but accept (``python -m repro.runner.seal`` seals it).

Reading is strict too: :func:`read_json` turns a truncated or corrupt JSON file into a one-line
:class:`CorruptFile` (a ReproError), never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from repro.errors import ReproError
from repro.hashing import sha256_file
from repro.lru import LRU

INTEGRITY = "integrity"

# (path, size, mtime_ns, inode) -> sha256 of the files hashed in this process: a file checked by
# verify before the checks run is not hashed again when a check loads it.
_MEMO: LRU[tuple[str, int, int, int], str] = LRU(65536)  # bounded: hex digests, a few MB at most


class CorruptFile(ReproError):
    """A file that cannot be read as what it should be (truncated JSON, a bad zip), or whose content
    does not match the hash its record holds. ``path`` names it."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = Path(path)
        super().__init__(message)


def file_sha256(path: Path) -> str:
    """SHA-256 of ``path``, remembered in this process while its size, mtime and inode stay."""
    st = os.stat(path)
    key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _MEMO:
        _MEMO[key] = sha256_file(path)
    return _MEMO[key]


def bytes_sha256(data: bytes) -> str:
    """SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def record_digest(record: Mapping[str, Any]) -> str:
    """SHA-256 of a record's content: canonical JSON of it without ``integrity.record_sha256``."""
    body = dict(record)
    seal = body.get(INTEGRITY)
    if isinstance(seal, Mapping):
        body[INTEGRITY] = {k: v for k, v in seal.items() if k != "record_sha256"}
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return bytes_sha256(blob.encode("utf-8"))


def seal(record: dict[str, Any], files: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``record`` with its integrity entry: ``files`` (name -> sha256) and the digest of the rest."""
    out = {k: v for k, v in record.items() if k != INTEGRITY}
    out[INTEGRITY] = {"files": dict(sorted((files or {}).items()))}
    out[INTEGRITY]["record_sha256"] = record_digest(out)
    return out


def is_sealed(record: Mapping[str, Any]) -> bool:
    """Whether ``record`` carries hashes."""
    return isinstance(record.get(INTEGRITY), Mapping) and "record_sha256" in record[INTEGRITY]


def check_record(record: Mapping[str, Any], path: Path, files: Iterable[str] | None = None) -> list[str]:
    """What does not match in a sealed record read from ``path``, as ``<file>: why`` lines.

    Checks the record's own digest and each of its files (relative to the record's folder;
    ``files`` limits which). An unsealed record gives no lines: see :func:`is_sealed`.
    """
    if not is_sealed(record):
        return []
    path = Path(path)
    seal_ = record[INTEGRITY]
    problems = []
    if record_digest(record) != seal_.get("record_sha256"):
        problems.append(f"{path}: content does not match its recorded SHA-256 (edited or corrupt)")
    recorded = seal_.get("files") or {}
    for name in files if files is not None else recorded:
        target = path.parent / name
        if name not in recorded:
            continue
        if not target.is_file():
            problems.append(f"{target}: missing (its record {path.name} lists it)")
        elif file_sha256(target) != recorded[name]:
            problems.append(f"{target}: content does not match the SHA-256 in {path.name} (edited or corrupt)")
    return problems


def read_json(path: Path) -> Any:
    """The JSON content of ``path``; a truncated or corrupt file is a one-line :class:`CorruptFile`."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CorruptFile(path, f"{path}: not UTF-8 text (corrupt)") from None
    except json.JSONDecodeError as exc:
        raise CorruptFile(
            path, f"{path}: not valid JSON (truncated or corrupt: {exc.msg} at line {exc.lineno})"
        ) from None


def load_record(path: Path, what: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The JSON record at ``path``, or why it cannot be checked: ``(None, [])`` when there is no file,
    ``(None, [problem])`` when it is unreadable or not a mapping (``what`` names the kind of record)."""
    if not path.is_file():
        return None, []
    try:
        record = read_json(path)
    except CorruptFile as exc:
        return None, [str(exc)]
    if not isinstance(record, dict):
        return None, [f"{path}: not a {what}"]
    return record, []


def sealed_text(record: dict[str, Any], files: Mapping[str, str] | None = None) -> str:
    """The file text of a sealed record, as results are written (indent 1, UTF-8 as is)."""
    return json.dumps(seal(record, files), indent=1, ensure_ascii=False, default=str) + "\n"


def append_seal(text: str, files: Mapping[str, str] | None = None) -> str:
    """``text`` (a JSON object's file text) with its integrity entry added as the last key, every
    other byte as it was: how committed records are sealed without rewriting a number."""
    record = json.loads(text)
    if not isinstance(record, dict):
        raise ValueError("only a JSON object can be sealed")
    if INTEGRITY in record:
        raise ValueError("already sealed")
    sealed = seal(record, files)
    entry = json.dumps({INTEGRITY: sealed[INTEGRITY]}, indent=1, ensure_ascii=False)
    body = text.rstrip()
    assert body.endswith("}")
    inner = entry.strip()[1:-1].strip("\n")  # ' "integrity": {...}' at the indent of a top-level key
    out = body[:-1].rstrip() + ",\n" + inner + "\n}\n"
    if record_digest(json.loads(out)) != sealed[INTEGRITY]["record_sha256"]:  # pragma: no cover - a guard
        raise ValueError("sealing changed the record")
    return out
