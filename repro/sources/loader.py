"""Open any source file as a :class:`~repro.sources.document.Document`: PDF or Markdown/text."""

from __future__ import annotations

from pathlib import Path

from repro.errors import ReproError
from repro.sources.document import Document
from repro.sources.markdown import load_markdown
from repro.sources.pdf import load_pdf


def load_document(path: Path, use_cache: bool = True) -> Document:
    """A PDF, Markdown or plain-text file as a :class:`Document` (by file extension, else by content)."""
    path = Path(path)
    if path.is_dir():
        raise ReproError(f"{path} is a folder; give a PDF, Markdown or text file inside it")
    if not path.is_file():
        raise ReproError(f"source file {path} not found")
    with path.open("rb") as fh:
        head = fh.read(5)
    if path.suffix.lower() == ".pdf" or head.startswith(b"%PDF"):
        return load_pdf(path, use_cache=use_cache)
    return load_markdown(path)
