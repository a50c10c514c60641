"""Where repro keeps what it fetches and builds: a cache outside the repository."""

from __future__ import annotations

import os
import re
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


def portable(value: object) -> object:
    """``value`` with every string path inside the cache written ``$REPRO_HOME/...`` (recursively
    through dicts and lists), so that published results name no machine."""
    home = str(repro_home())
    if isinstance(value, str):
        return "$REPRO_HOME" + value[len(home) :] if value == home or value.startswith(home + "/") else value
    if isinstance(value, dict):
        return {k: portable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [portable(v) for v in value]
    return value


def slug(text: str) -> str:
    """``text`` safe as a file name or an HTML id: each run of other characters than ``A-Za-z0-9_.-`` becomes ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "_"
