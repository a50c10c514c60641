"""Atomic writes: whole files or none, with the permissions any other file of the user gets."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from repro.atomic import atomic_write_text


def test_written_files_get_the_umask_permissions_not_mkstemps_0600(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    atomic_write_text(path, "hello")
    plain = tmp_path / "plain.md"
    plain.write_text("hello")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
    assert path.read_text() == "hello" and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    from repro.atomic import atomic_write

    path = tmp_path / "verdicts.json"
    atomic_write_text(path, "old")

    def broken(fh: object) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, broken)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["verdicts.json"]
