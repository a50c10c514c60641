"""Names and paths that come from input files: slugs for what becomes a folder, containment of paths.

A registry's or experiment's ``name:`` and a profile name become folders under the results root
(``results/<experiment>/<profile>``, ``results/claims/<registry>/<profile>``), so they must be
slugs: letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit - never ``/`` or
``..``, which would put results outside the root. Experiment files a registry names must lie
inside the registry's repository (the nearest folder above it holding ``.git``; without one, the
folder above the registry's own, as ``claims/`` and ``experiments/`` sit side by side) unless the
user allows otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

from repro.cache import slug
from repro.errors import ReproError

SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_SLUG = 100


def slug_problem(value: str, what: str) -> str | None:
    """Why ``value`` cannot be the ``what`` (a folder name), with a suggestion; None if it can."""
    if isinstance(value, str) and SLUG.match(value) and ".." not in value and len(value) <= MAX_SLUG:
        return None
    suggestion = slug(str(value).replace("..", "").replace("/", "-"))[:MAX_SLUG].strip("._-") or "my-name"
    return (
        f"{what} '{value}' must be a slug (letters, digits, '.', '_', '-'; no '/' or '..'; at most "
        f"{MAX_SLUG} characters), because it names a results folder; did you mean '{suggestion}'?"
    )


def check_slug(value: str, what: str) -> str:
    """``value`` if it is a slug, else a ReproError saying why (see :func:`slug_problem`)."""
    if problem := slug_problem(value, what):
        raise ReproError(problem)
    return value


def repository_root(path: Path) -> Path:
    """The repository a file belongs to: the nearest folder above it holding ``.git``; without one,
    the folder above the file's own (never the filesystem root)."""
    folder = Path(path).resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder.parent if folder.parent != folder.parent.parent else folder


def inside(path: Path, root: Path) -> bool:
    """Whether ``path`` (symbolic links resolved) lies in folder ``root``."""
    try:
        Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        return False
    return True
