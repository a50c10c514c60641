"""Reading a YAML input file (experiment, claims registry) with errors that point at ``path:line``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from repro.errors import ReproError


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The parsed content of ``path`` and its node tree (for the lines of later validation errors).

    Raises:
        ReproError: invalid YAML, as ``path:LINE: invalid YAML (problem)``, the form every input
            error of the command line takes.
    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ReproError(f"{path}{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None


def _walk(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int | None, bool]:
    """The line of the deepest node along ``loc`` that exists, and whether all of ``loc`` exists."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        else:
            nxt = None
        if nxt is None:
            return line, False
        node = nxt
        line = node.start_mark.line + 1
    return line, True


def line_of(node: yaml.Node | None, *locs: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at the first of ``locs`` that exists in full, else of the deepest
    node along the last one (a pydantic error location, say, looked up first in a profile, then at the top)."""
    line = None
    for loc in locs:
        line, whole = _walk(node, loc)
        if whole:
            return line
    return line
