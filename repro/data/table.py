"""A small immutable column table: what the loaders return instead of a ``datasets.Dataset``.

The loaders build a few thousand rows from JSON or text files; the ``datasets`` library cost
about a second to import and an Arrow conversion per table, and every column access copied the
column back out of Arrow. A :class:`Table` keeps each column as a tuple, so reading a column is
free and a cached table cannot be changed by a caller. It offers the part of the ``Dataset``
interface the project uses: ``table["column"]``, ``table[i]`` (a row dict), ``len``, iteration
over rows, ``select``, ``to_dict`` and ``column_names``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any


class Table:
    """Named columns of equal length, stored as tuples.

    Raises:
        ValueError: columns of different lengths.
    """

    __slots__ = ("_columns", "_n")

    def __init__(self, columns: Mapping[str, Iterable[Any]]) -> None:
        self._columns: dict[str, tuple[Any, ...]] = {name: tuple(values) for name, values in columns.items()}
        lengths = {len(values) for values in self._columns.values()}
        if len(lengths) > 1:
            sizes = ", ".join(f"{name}={len(v)}" for name, v in self._columns.items())
            raise ValueError(f"table columns differ in length: {sizes}")
        self._n = lengths.pop() if lengths else 0

    @classmethod
    def from_dict(cls, columns: Mapping[str, Iterable[Any]]) -> Table:
        """The table of ``columns`` (name -> values), like ``datasets.Dataset.from_dict``."""
        return cls(columns)

    @property
    def column_names(self) -> list[str]:
        """The column names in their original order."""
        return list(self._columns)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, key: str | int) -> Any:
        """A whole column (a tuple) by name, or one row (a dict) by position."""
        if isinstance(key, str):
            try:
                return self._columns[key]
            except KeyError:
                raise KeyError(f"no column '{key}'; columns: {', '.join(self._columns)}") from None
        return {name: values[key] for name, values in self._columns.items()}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for i in range(self._n):
            yield self[i]

    def select(self, indices: Sequence[int] | range) -> Table:
        """The rows at ``indices``, in that order."""
        rows = list(indices)
        return Table({name: [values[i] for i in rows] for name, values in self._columns.items()})

    def to_dict(self) -> dict[str, list[Any]]:
        """Column name -> list of values (a copy)."""
        return {name: list(values) for name, values in self._columns.items()}

    def __repr__(self) -> str:
        return f"Table(rows={self._n}, columns={self.column_names})"
