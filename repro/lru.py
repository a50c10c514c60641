"""A bounded mapping for process-wide caches: the least recently used entry goes when it is full.

Module caches (published records, per-query arrays, document indexes, tokenizers) live as long
as the process; a long session (a notebook, a server, a sweep over many results) must not grow
them without end. ``LRU`` is a drop-in for the ``dict`` they were: ``in``, ``[]``, ``get``,
``clear``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(OrderedDict[K, V]):
    """An ``OrderedDict`` holding at most ``maxsize`` entries; reading an entry makes it the newest."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        super().__init__()
        self.maxsize = maxsize

    def __getitem__(self, key: K) -> V:
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.maxsize:
            self.popitem(last=False)
