"""Which training corpus a config names: the built-in XNLI, or a JSONL file (one rule for every caller).

A training config's ``corpus`` is ``"xnli"`` (:data:`DEFAULT_CORPUS`: XNLI dev+test, fetched and
checksummed like the evaluation data) or the path of a JSONL parallel corpus. The trainer, the
runner's step keys and the contamination check all decide through :func:`is_builtin` and
:func:`corpus_checksums`, so a path that does not exist is an error everywhere, never XNLI.
"""

from __future__ import annotations

from pathlib import Path

from repro.data.manifest import checksums
from repro.errors import ReproError
from repro.hashing import sha256_file

DEFAULT_CORPUS = "xnli"


def is_builtin(corpus: str) -> bool:
    """True for the built-in XNLI corpus, False for a JSONL path."""
    return corpus == DEFAULT_CORPUS


def corpus_path(corpus: str) -> Path:
    """The JSONL file ``corpus`` names; a ReproError when there is none."""
    path = Path(corpus)
    if not path.is_file():
        raise ReproError(
            f"training corpus {corpus} does not exist; give '{DEFAULT_CORPUS}' or the path of a JSONL parallel corpus"
        )
    return path


def corpus_checksums(corpus: str) -> dict[str, str]:
    """The checksums of the corpus's files, as a training step's key holds them (path -> SHA-256)."""
    if is_builtin(corpus):
        return checksums([DEFAULT_CORPUS])
    path = corpus_path(corpus)
    return {str(path): sha256_file(path)}
