"""Getting data files into the cache: download from upstream, or copy from an offline mirror.

Every file is written to a temporary name, verified against the manifest's SHA-256, and only
then renamed into place, so an interrupted fetch never leaves a file that looks complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from repro.data.manifest import DataFile, get_dataset, manifest
from repro.errors import ReproError
from repro.hashing import sha256_file


@dataclass
class FileStatus:
    """State of one manifest file in the cache."""

    file: DataFile
    state: str  # "ok", "missing" or "corrupt"


def file_status(f: DataFile) -> FileStatus:
    """Check one file of the cache against the manifest."""
    if not f.local.is_file():
        return FileStatus(f, "missing")
    return FileStatus(f, "ok" if sha256_file(f.local) == f.sha256 else "corrupt")


def _select(names: Iterable[str] | None) -> list[DataFile]:
    names = list(names) if names else list(manifest())
    return [f for n in names for f in get_dataset(n).files]


def _download(url: str, dest: Path, retries: int = 3) -> None:
    for attempt in range(retries):
        try:
            with urllib.request.urlopen(url, timeout=60) as resp, open(dest, "wb") as out:
                shutil.copyfileobj(resp, out)
            return
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt == retries - 1:
                raise ReproError(
                    f"cannot download {url} ({exc}); offline? use 'repro data fetch --from DIR' with a mirror"
                ) from None
            time.sleep(2**attempt)


def _install(f: DataFile, source: Path | None) -> None:
    f.local.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=f.local.parent, prefix=f".{f.local.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if source is None:
            _download(f.url, tmp)
        else:
            src = source / f.path
            if not src.is_file():
                raise ReproError(f"mirror {source} has no file {f.path}; is it the right folder (e.g. ../shared/data)?")
            shutil.copyfile(src, tmp)
        digest = sha256_file(tmp)
        if digest != f.sha256:
            where = f.url if source is None else str(source / f.path)
            raise ReproError(
                f"checksum mismatch for {f.path} from {where}: got {digest[:12]}..., expected {f.sha256[:12]}..."
            )
        os.replace(tmp, f.local)
    finally:
        tmp.unlink(missing_ok=True)


def fetch(names: Iterable[str] | None = None, source: Path | None = None, progress: bool = True) -> dict[str, int]:
    """Bring the given datasets (default: all) into the cache, verified.

    ``source`` is an offline mirror laid out like the manifest's paths (``../shared/data``);
    without it files are downloaded from their pinned upstream URLs. Files already present
    with the right checksum are kept. Returns counts of files ``fetched`` and ``kept``.
    """
    if source is not None:
        source = Path(source)
        if not source.is_dir():
            raise ReproError(
                f"mirror folder {source} does not exist; pass the folder that holds lareqa/, xnli/, ... (e.g. ../shared/data)"
            )
    files = _select(names)
    counts = {"fetched": 0, "kept": 0}
    for f in tqdm(files, desc="fetch data", unit="file", disable=not progress):
        if file_status(f).state == "ok":
            counts["kept"] += 1
            continue
        _install(f, source)
        counts["fetched"] += 1
    return counts


def status(names: Iterable[str] | None = None) -> list[FileStatus]:
    """The state of every file of the given datasets (default: all)."""
    return [file_status(f) for f in _select(names)]
