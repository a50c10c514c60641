"""The bounded mapping behind process-wide caches (records, per-query arrays, indexes, tokenizers)."""

from __future__ import annotations

import pytest

from repro.lru import LRU


def test_lru_keeps_the_most_recently_used_entries_only() -> None:
    cache: LRU[str, int] = LRU(2)
    cache["a"], cache["b"] = 1, 2
    assert cache["a"] == 1  # read: "a" is now the newest, "b" the oldest
    cache["c"] = 3
    assert list(cache) == ["a", "c"] and "b" not in cache
    cache["a"] = 10  # overwrite: still one entry, the newest
    cache["d"] = 4
    assert dict(cache.items()) == {"a": 10, "d": 4} and len(cache) == 2
    assert cache.get("c") is None and cache.get("d") == 4


def test_lru_iterates_without_reordering_and_rejects_size_zero() -> None:
    cache: LRU[int, int] = LRU(3)
    for i in range(5):
        cache[i] = i * i
    assert list(cache.items()) == [(2, 4), (3, 9), (4, 16)] and list(cache.values()) == [4, 9, 16]
    with pytest.raises(ValueError, match="at least 1"):
        LRU(0)


def test_the_published_record_cache_is_bounded() -> None:
    from repro.checks import context

    assert isinstance(context._JSON, LRU) and isinstance(context._NPZ, LRU)
    assert context._JSON.maxsize >= 1000 and context._NPZ.maxsize >= 100
