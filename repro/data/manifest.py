"""The data manifest: every file the project uses, its upstream URL at a pinned commit, its SHA-256.

The manifest (``manifest.json`` beside this module) is the single source of truth; nothing
is read from a file whose checksum does not match it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from repro.cache import data_dir
from repro.errors import ReproError
from repro.hashing import sha256_file

MANIFEST_PATH = Path(__file__).with_name("manifest.json")


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: where it lives in the cache and how to get and check it."""

    dataset: str
    path: str  # relative to the cache's data folder, and to a mirror's root
    sha256: str
    url: str
    bytes: int

    @property
    def local(self) -> Path:
        return data_dir() / self.path


@dataclass(frozen=True)
class Dataset:
    """A dataset of the manifest: its files, license and citation."""

    name: str
    license: str
    citation: str
    files: tuple[DataFile, ...]


@lru_cache(maxsize=1)
def manifest() -> dict[str, Dataset]:
    """All datasets of the manifest, by name."""
    raw = json.loads(MANIFEST_PATH.read_text())
    out: dict[str, Dataset] = {}
    for name, d in raw["datasets"].items():
        files = tuple(DataFile(dataset=name, **f) for f in d["files"])
        out[name] = Dataset(name=name, license=d["license"], citation=d["citation"], files=files)
    return out


def get_dataset(name: str) -> Dataset:
    """The manifest entry of ``name``; unknown names are a ReproError listing the known ones."""
    datasets = manifest()
    if name not in datasets:
        raise ReproError(f"unknown dataset '{name}'; known: {', '.join(datasets)}")
    return datasets[name]


def find_file(path: str) -> DataFile:
    """The manifest entry of one file by its relative path."""
    for ds in manifest().values():
        for f in ds.files:
            if f.path == path:
                return f
    raise KeyError(path)


# Verified files, keyed by (path, size, mtime): a file is hashed once per process unless it changes.
_verified: set[tuple[str, int, int]] = set()


def verified_path(path: str) -> Path:
    """The cached copy of a manifest file, after checking it exists and matches its checksum.

    Loaders call this for every file they read, so a missing or corrupt file is always a
    one-line error naming it, never a silently smaller dataset.
    """
    entry = find_file(path)
    local = entry.local
    if not local.is_file():
        raise ReproError(
            f"data file {entry.path} ({entry.dataset}) is not in the cache {data_dir()}; "
            f"run 'repro data fetch' (or 'repro data fetch --from DIR' with an offline mirror)"
        )
    st = local.stat()
    key = (str(local), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        digest = sha256_file(local)
        if digest != entry.sha256:
            raise ReproError(
                f"data file {local} is corrupt (sha256 {digest[:12]}... != {entry.sha256[:12]}...); "
                f"delete it and run 'repro data fetch' again"
            )
        _verified.add(key)
    return local


def checksums(names: list[str]) -> dict[str, str]:
    """``{relative path: sha256}`` of the given datasets' files, for provenance."""
    return {f.path: f.sha256 for n in names for f in get_dataset(n).files}
