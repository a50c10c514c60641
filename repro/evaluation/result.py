"""The result of evaluating one model on one task: summary, tables, per-query values, provenance."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from repro.atomic import atomic_write, atomic_write_text
from repro.evaluation.declarations import DECLARATIONS, declared
from repro.evaluation.record import EvalRecord

if TYPE_CHECKING:
    from repro.evaluation.declarations import Metric

# The keys of a result file that are not its info (per_query_file names the .npz written beside it).
_OWN_KEYS = ("task", "summary", "tables", "per_query_file")


@dataclass
class TaskResult:
    """What a task evaluation produces.

    ``summary``: setting -> metric -> macro-averaged value (the paper's headline numbers).
    ``tables``: setting -> row (language or ``X-Y`` pair) -> metric -> value, plus ``n`` queries.
    ``per_query``: ``setting/row/metric`` -> per-query values, and ``setting/row/ids`` -> query ids,
    kept so that later analyses can bootstrap over queries.
    """

    task: str
    summary: dict[str, dict[str, float]]
    tables: dict[str, dict[str, dict[str, float]]]
    per_query: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary and tables (per-query values live in a separate .npz)."""
        return {"task": self.task, "summary": self.summary, "tables": self.tables, **self.info}

    def save(self, path: Path) -> Path:
        """Write ``path`` (JSON) and ``path`` with suffix ``.perquery.npz``; both atomically."""
        path = Path(path)
        npz = path.with_suffix(".perquery.npz")
        data = self.to_dict()
        data["per_query_file"] = npz.name

        def write_npz(fh: io.BufferedIOBase) -> None:
            np.savez_compressed(fh, **{k: np.asarray(v) for k, v in self.per_query.items()})

        atomic_write(npz, write_npz)
        atomic_write_text(path, json.dumps(data, indent=1, ensure_ascii=False, default=_jsonable) + "\n")
        return path

    @classmethod
    def from_record(cls, record: Mapping[str, Any], per_query: Mapping[str, np.ndarray] | None = None) -> TaskResult:
        """A result from its JSON record (as :meth:`to_dict` wrote it) and, optionally, its per-query arrays."""
        return cls(
            task=str(record["task"]),
            summary=record["summary"],
            tables=record["tables"],
            per_query=dict(per_query or {}),
            info={k: v for k, v in record.items() if k not in _OWN_KEYS},
        )

    @classmethod
    def load(cls, path: Path, per_query: bool = False) -> TaskResult:
        """Read a result :meth:`save` wrote (with its per-query arrays when ``per_query``).

        No hash is checked here: readers of published or cached results go through
        :mod:`repro.integrity` first (``CheckContext``'s result set does).
        """
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.from_record(record, load_per_query(path) if per_query else None)

    @property
    def record(self) -> EvalRecord:
        """How this result was computed (model, config, data checksums, provenance)."""
        return EvalRecord.from_info(self.info)

    def value(self, metric: Metric, lang: str | None = None) -> float:
        """``metric``'s value: the setting's macro average, or one row's (``lang``: a language or ``X-Y`` pair)."""
        if lang is None:
            return float(self.summary[metric.setting][metric.measure])
        return float(self.tables[metric.setting][lang][metric.measure])

    def rows(self, metric: Metric) -> dict[str, float]:
        """Row (language or pair) -> ``metric``'s value in its setting's table."""
        return {row: float(values[metric.measure]) for row, values in self.tables[metric.setting].items()}

    def query_rows(self, metric: Metric) -> list[str]:
        """The rows (languages) of ``metric``'s setting that have per-query values, sorted."""
        prefix = f"{metric.setting}/"
        return sorted({k.split("/")[1] for k in self.per_query if k.startswith(prefix)})

    def queries(self, metric: Metric, lang: str) -> tuple[np.ndarray, np.ndarray]:
        """(query ids, per-query values) of ``metric`` for one row; needs the per-query arrays loaded."""
        return self.per_query[f"{metric.setting}/{lang}/ids"], self.per_query[
            f"{metric.setting}/{lang}/{metric.measure}"
        ]


def _jsonable(obj: object) -> object:
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def macro_average(rows: Mapping[str, Mapping[str, float]], names: Iterable[str] | None = None) -> dict[str, float]:
    """Each metric's mean over a table's rows (languages or pairs), the setting's summary line.

    ``names``: the metrics averaged (default: the first row's columns less the query count ``n``).
    """
    if names is None:
        names = [k for k in next(iter(rows.values())) if k != "n"]
    return {name: float(np.mean([r[name] for r in rows.values()])) for name in names}


def load_per_query(path: Path) -> dict[str, np.ndarray]:
    """Per-query arrays saved beside a result JSON."""
    with np.load(Path(path).with_suffix(".perquery.npz"), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def format_table(
    rows: dict[str, dict[str, float]],
    columns: list[str],
    title: str,
    row_header: str = "",
    decimals: dict[str, int] | None = None,
) -> str:
    """A plain-text table with one row per key; floats get ``decimals[column]`` (default 4), counts none."""
    header = [row_header] + columns
    body = []
    for key, vals in rows.items():
        cells = [key]
        for c in columns:
            v = vals.get(c)
            if v is None:
                cells.append("-")
            elif c == "n" or (isinstance(v, (int, np.integer))):
                cells.append(f"{int(v)}")
            else:
                cells.append(f"{v:.{(decimals or {}).get(c, 4)}f}")
        body.append(cells)
    widths = [max(len(str(r[i])) for r in [header] + body) for i in range(len(header))]
    line = lambda cells: "  ".join(
        str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
    )
    out = [title, line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in body]
    return "\n".join(out)


def format_matrix(values: dict[tuple[str, str], float], rows: list[str], cols: list[str], title: str) -> str:
    """A row-language x column-language matrix (e.g. cross-lingual mAP, query X -> corpus Y)."""
    width = 6
    out = [title, "q\\c".ljust(4) + "".join(c.rjust(width + 1) for c in cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = values.get((r, c))
            cells.append(("-" if v is None else f"{v:.3f}").rjust(width + 1))
        out.append(r.ljust(4) + "".join(cells))
    return "\n".join(out)


def render(result: TaskResult) -> str:
    """The tables a person reads: the summary, each per-language table, and the cross-lingual
    matrix (mAP of query language X against corpus language Y)."""
    parts = []
    order, decimals = _declared(result.task)
    by_order = lambda name: (order.index(name) if name in order else len(order), name)
    metrics = sorted({m for s in result.summary.values() for m in s}, key=by_order)
    parts.append(format_table(result.summary, metrics, f"{result.task}: summary (macro-averaged)", "setting", decimals))
    for setting, rows in result.tables.items():
        if setting == "cross":
            pairs = {tuple(k.split("-", 1)): v for k, v in rows.items()}
            langs = list(dict.fromkeys([p[0] for p in pairs] + [p[1] for p in pairs]))
            first = metrics[0]
            parts.append(
                format_matrix(
                    {p: v[first] for p, v in pairs.items()},
                    langs,
                    langs,
                    f"{result.task} cross-lingual {first} (query language \\ corpus language)",
                )
            )
            sizes = pool_sizes(result.info, setting)
            if sizes:
                corpus = {pair.split("-", 1)[1]: size for pair, size in sizes.items()}
                parts[-1] += "\npool (candidates of the corpus language): " + ", ".join(
                    f"{lang} {size}" for lang, size in corpus.items()
                )
            continue
        cols = sorted({m for r in rows.values() for m in r if m != "n"}, key=by_order) + ["n"]
        sizes = pool_sizes(result.info, setting)
        if sizes:
            # The candidates each row's queries were ranked against: a figure means little without it.
            rows = {row: {**values, "pool": sizes.get(row)} for row, values in rows.items()}
            cols.append("pool")
        parts.append(format_table(rows, cols, f"{result.task}: {setting}", "lang", decimals))
    return "\n\n".join(parts)


def pool_sizes(info: dict[str, object], setting: str) -> dict[str, int]:
    """Row (language or ``X-Y`` pair) -> candidates searched in ``setting``, from a result's info
    (empty for results written before pools were recorded)."""
    pools = info.get("pool")
    if not isinstance(pools, dict):
        return {}
    sizes = pools.get(setting)
    return {str(k): int(v) for k, v in sizes.items()} if isinstance(sizes, dict) else {}


def _declared(task: str) -> tuple[list[str], dict[str, int]]:
    """The result columns a task declares, in declaration order, and their decimals."""
    order: list[str] = []
    decimals: dict[str, int] = {}
    for setting in DECLARATIONS[task].settings if task in DECLARATIONS else ():
        for m in setting.measures:
            if m.key not in decimals:
                order.append(m.key)
                decimals[m.key] = m.decimals
    return order, decimals


def summary_pools(task: str, result: Mapping[str, Any]) -> dict[str, str]:
    """Sweep-summary key -> the pool its figure was ranked in, from a result JSON (as a dict).

    A per-language figure (``xquad-r Mul mAP [th]``) gets its row's pool (``"522"``); a macro
    average gets the range over its rows (``"34-54"``, or one number when all are equal). Results
    written before pools were recorded give nothing.
    """
    if task not in DECLARATIONS:
        return {}
    pools = result.get("pool")
    out: dict[str, str] = {}
    for metric in declared(task).metrics().values():
        sizes = pool_sizes({"pool": pools}, metric.setting)
        if not sizes:
            continue
        low, high = min(sizes.values()), max(sizes.values())
        out[metric.summary_key()] = str(low) if low == high else f"{low}-{high}"
        for row, size in sizes.items():
            out[metric.summary_key(row)] = str(size)
    return out
