"""Record the hashes of published results that were written before records carried them (a one-time migration).

Every record written now is sealed as it is published (:mod:`repro.integrity`). Records published
before have no ``integrity`` entry; this tool adds it - the SHA-256 of the record's content and of
the per-query file it names - to each of them, and changes no other byte (no number, no key)::

    python -m repro.runner.seal results/ [--check]

It seals what the files hold now, so run it only on results you trust (a clean checkout of
committed results), never to make an edited file pass. Already sealed records are left alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from repro.atomic import atomic_write_text
from repro.integrity import INTEGRITY, append_seal, file_sha256


def _records(root: Path) -> list[Path]:
    """The JSON records under a results root: step results, summaries, verdicts."""
    return sorted(p for p in Path(root).rglob("*.json") if not any(part.startswith(".") for part in p.parts))


def seal_tree(root: Path, write: bool = True) -> list[str]:
    """Seal every unsealed record under ``root``; one line per record sealed."""
    lines = []
    for path in _records(root):
        text = path.read_text(encoding="utf-8")
        record = json.loads(text)
        if not isinstance(record, dict) or INTEGRITY in record:
            continue
        files = {}
        if isinstance(record.get("per_query_file"), str):
            name = record["per_query_file"]
            files[name] = file_sha256(path.parent / name)
        if path.name == "summary.json" and (path.parent / "summary.md").is_file():
            files["summary.md"] = file_sha256(path.parent / "summary.md")
        if write:
            atomic_write_text(path, append_seal(text, files))
        lines.append(f"sealed  {path}" + (f"  (+ {', '.join(files)})" if files else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    """``python -m repro.runner.seal ROOT [--check]``."""
    parser = argparse.ArgumentParser(prog="python -m repro.runner.seal", description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--check", action="store_true", help="only list what would be sealed")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        print(f"error: {args.root} is not a folder", file=sys.stderr)
        return 2
    for line in seal_tree(args.root, write=not args.check):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
