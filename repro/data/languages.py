"""Validating a user's language selection against what a dataset has."""

from __future__ import annotations

from collections.abc import Sequence

from repro.errors import ReproError


def select_languages(dataset: str, known: Sequence[str], langs: Sequence[str] | None, hint: str = "") -> list[str]:
    """``langs`` checked against ``known`` (None means all), duplicates dropped, order kept.

    An empty selection or an unknown language is a one-line ReproError; ``hint`` is appended to
    the unknown-language message (e.g. which code system the dataset uses).
    """
    if langs is None:
        return list(known)
    if not langs:
        raise ReproError(
            f"empty language list; pass languages like --langs {','.join(known[:2])} or omit --langs for all"
        )
    bad = [lang for lang in langs if lang not in known]
    if bad:
        raise ReproError(f"{dataset} has no language {', '.join(bad)}{hint or '; it has ' + ', '.join(known)}")
    return list(dict.fromkeys(langs))
