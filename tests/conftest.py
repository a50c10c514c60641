"""Shared fixtures: the offline mirror beside the checkout, and the verified data cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def mirror_dir() -> Path:
    """The read-only data mirror: $REPRO_SHARED_DATA, else ../shared/data beside the checkout."""
    env = os.environ.get("REPRO_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = mirror_dir()
    if not path.is_dir():
        pytest.skip(f"no data mirror at {path}")
    return path


@pytest.fixture(scope="session")
def fetched(mirror: Path) -> None:
    """Make sure the default cache holds every verified data file (a no-op after `make data`)."""
    from repro.data.fetch import fetch

    fetch(source=mirror, progress=False)


@pytest.fixture(scope="session")
def encoder(fetched: None):
    """The embedded e5-small, prepared once (a no-op after `make model`), short inputs for speed."""
    from repro.models.encoder import Encoder

    return Encoder("e5-small", max_length=128, batch_size=32)
