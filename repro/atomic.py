"""Atomic writes of files and folders: a reader sees the old version or the whole new one, never half of it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

# Read once, at import: reading the umask means setting it, which would race with other threads later.
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through ``write(fh)`` into a temp file in the same folder, fsync, rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            # mkstemp creates 0600; a result or report is as readable as any file the user writes.
            os.fchmod(fh.fileno(), 0o666 & ~_UMASK)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Atomically write UTF-8 text."""
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


# --- folders ------------------------------------------------------------------------------------
# A folder cannot be renamed over a non-empty one, so replacing one takes two renames: the old
# copy is first moved aside to ``.<name>.old``. A process killed in between leaves no folder at
# ``path`` but a complete one at ``.<name>.old``, which :func:`recover_dir` puts back.


def fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's entries') writes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_dir(src: Path, dst: Path) -> None:
    """Rename folder ``src`` to ``dst``, replacing it; at any instant one complete copy exists."""
    src, dst = Path(src), Path(dst)
    old = dst.with_name(f".{dst.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if dst.exists():
        os.replace(dst, old)
    os.replace(src, dst)
    fsync_path(dst.parent)
    shutil.rmtree(old, ignore_errors=True)


def atomic_write_dir(path: Path, write: Callable[[Path], None]) -> None:
    """Fill folder ``path`` through ``write(tmp)`` in a temp folder beside it, fsync, swap it in.

    Readers see the old folder or the whole new one. A write killed midway leaves a
    ``.<name>.tmp-<pid>`` folder that :func:`recover_dir` removes.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write(tmp)
    for file in tmp.iterdir():
        if file.is_file():
            fsync_path(file)
    replace_dir(tmp, path)


def recover_dir(path: Path) -> None:
    """Undo what a killed :func:`replace_dir` / :func:`atomic_write_dir` left: restore the moved-aside
    copy if ``path`` is missing, drop temp folders."""
    path = Path(path)
    old = path.with_name(f".{path.name}.old")
    if old.is_dir() and not path.exists():
        os.replace(old, path)
    for tmp in path.parent.glob(f".{path.name}.tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def update_dir(path: Path, files: dict[str, bytes]) -> None:
    """Set ``files`` (name -> content) in folder ``path``, keeping its other files, as one atomic swap.

    Readers see the folder before or after, never with some of ``files`` written: what publishing
    a step of several files into a shared result folder needs. The unchanged files are hard links
    (copies where links fail); a swap killed midway is undone by :func:`recover_dir`, which runs first.
    """
    path = Path(path)
    recover_dir(path)

    def write(tmp: Path) -> None:
        if path.is_dir():
            for old in path.iterdir():
                if old.name in files:
                    continue
                if old.is_dir():
                    shutil.copytree(old, tmp / old.name)
                    continue
                try:
                    os.link(old, tmp / old.name)
                except OSError:
                    shutil.copy2(old, tmp / old.name)
        for name, data in files.items():
            # Names may hold one folder level (a command step's ``<task>.out/<file>``).
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            with open(tmp / name, "wb") as fh:
                fh.write(data)
                os.fchmod(fh.fileno(), 0o666 & ~_UMASK)

    atomic_write_dir(path, write)
