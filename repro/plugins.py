"""Plug-ins: tasks, encoders, check kinds and trend hypotheses from outside the package.

Each kind of thing has an entry-point group, and the built-ins are registered the same way in
repro's own ``pyproject.toml``::

    [project.entry-points."repro.checks"]
    comparison = "repro.checks.comparison:ComparisonCheck"

A package adds one with a line in its own metadata; a registry or experiment file can name one
without packaging it (``plugins: {checks: {mine: "my_module:MyCheck"}}``). Each layer keeps its
own registry (:mod:`repro.evaluation.tasks`, :mod:`repro.models.registry`,
:mod:`repro.checks.base`, :mod:`repro.checks.trend`); this module only finds and imports objects,
and words the did-you-mean of an unknown name.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
from collections.abc import Iterable
from typing import Any

from repro.errors import ReproError

# What each group registers: a Task, an encoder resolver (name -> model folder or hub id), a Check
# subclass, a trend hypothesis rule.
GROUPS = {
    "tasks": "repro.tasks",
    "encoders": "repro.encoders",
    "checks": "repro.checks",
    "hypotheses": "repro.hypotheses",
}

_LOADED: dict[str, dict[str, Any]] = {}


def load_object(path: str, what: str = "plug-in") -> Any:
    """The object ``module:attribute`` (or a whole module for ``module``); a ReproError says what failed."""
    module_name, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ReproError(f"{what} {path}: cannot import {module_name} ({exc}); is the package installed?") from None
    for part in filter(None, attr.split(".")):
        if not hasattr(obj, part):
            raise ReproError(f"{what} {path}: {module_name} has no attribute {attr}")
        obj = getattr(obj, part)
    return obj


def entry_points(kind: str) -> dict[str, Any]:
    """Name -> loaded object of every installed entry point of ``kind`` (``tasks``, ``checks``, ...), once per process."""
    group = GROUPS[kind]
    if group not in _LOADED:
        found: dict[str, Any] = {}
        for ep in sorted(importlib.metadata.entry_points(group=group), key=lambda e: e.name):
            try:
                found[ep.name] = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plug-in is named, not a traceback
                raise ReproError(
                    f"entry point {ep.name} = {ep.value} (group {group}) failed to load: {type(exc).__name__}: {exc}"
                ) from None
        _LOADED[group] = found
    return _LOADED[group]


def forget() -> None:
    """Drop the loaded entry points (after installing or removing a package in this process)."""
    _LOADED.clear()
    importlib.invalidate_caches()


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean X?)`` for the closest known name, or an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_name(what: str, name: str, known: Iterable[str]) -> ReproError:
    """The error for an unknown name: what, the nearest known one, and all of them."""
    known = sorted(known)
    return ReproError(f"unknown {what} '{name}'{did_you_mean(name, known)}; known: {', '.join(known)}")
