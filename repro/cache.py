"""Where repro keeps what it fetches and builds: a cache outside the repository."""

from __future__ import annotations

import os
from pathlib import Path


def repro_home() -> Path:
    """The cache root: ``$REPRO_HOME`` if set, else ``~/.cache/repro``."""
    env = os.environ.get("REPRO_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "repro"


def data_dir() -> Path:
    """Folder holding verified copies of the datasets listed in the manifest."""
    return repro_home() / "data"


def models_dir() -> Path:
    """Folder holding prepared model folders (e.g. the embedded e5-small)."""
    return repro_home() / "models"
