"""The typed evaluation result and its provenance record: round trips, and agreement with what is committed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from repro.evaluation.declarations import parse_metric
from repro.evaluation.record import EvalRecord
from repro.evaluation.result import TaskResult

RESULTS = Path(__file__).resolve().parents[1] / "results"


def _committed(pattern: str) -> list[Path]:
    return sorted(p for p in RESULTS.glob(pattern) if p.name != "train.json")


def test_a_saved_result_loads_back_whole(tmp_path: Path) -> None:
    per_query = {"mono/en/ids": np.array(["a", "b"]), "mono/en/mAP": np.array([0.5, 1.0], dtype=np.float32)}
    result = TaskResult(
        "xquad-r",
        summary={"mono": {"mAP": 0.75}},
        tables={"mono": {"en": {"mAP": 0.75, "n": 2}}},
        per_query=per_query,
        info={"limit": 2, "config": {"task": "xquad-r"}, "wall_seconds": 1.5},
    )
    path = result.save(tmp_path / "r.json")
    back = TaskResult.load(path, per_query=True)
    assert (back.task, back.summary, back.tables, back.info) == (
        result.task,
        result.summary,
        result.tables,
        result.info,
    )
    assert set(back.per_query) == set(per_query)
    assert all(np.array_equal(back.per_query[k], v) for k, v in per_query.items())
    # Without per-query values only the JSON is read.
    assert TaskResult.load(path).per_query == {}


@pytest.mark.parametrize("path", _committed("hybrid-sweep/multiseed/*/xquad-r.json")[:3], ids=lambda p: p.parent.name)
def test_typed_values_equal_the_file_s_numbers(path: Path) -> None:
    """``value``/``rows``/``queries`` read the same numbers as indexing the JSON and .npz by hand."""
    raw = json.loads(path.read_text())
    result = TaskResult.load(path, per_query=True)
    metric = parse_metric("xquad-r", "Mul mAP")
    assert result.value(metric) == raw["summary"]["multi"]["mAP"]
    assert result.rows(metric) == {lang: row["mAP"] for lang, row in raw["tables"]["multi"].items()}
    assert result.value(metric, "de") == raw["tables"]["multi"]["de"]["mAP"]
    with np.load(path.with_suffix(".perquery.npz")) as z:
        langs = sorted({k.split("/")[1] for k in z.files if k.startswith("multi/")})
        assert result.query_rows(metric) == langs
        ids, values = result.queries(metric, langs[0])
        assert np.array_equal(ids, z[f"multi/{langs[0]}/ids"]) and np.array_equal(values, z[f"multi/{langs[0]}/mAP"])


@pytest.mark.parametrize(
    "path",
    _committed("hybrid-sweep/multiseed/*/tydi-goldp.json")[:2]
    + _committed("me5-prefixes/full/*/mlqa-r.json")[:1]
    + _committed("adam-digits/full/*/*.json")[:2],
    ids=lambda p: f"{p.parents[2].name}/{p.parent.name}/{p.name}",
)
def test_the_record_rewrites_committed_provenance_exactly(path: Path) -> None:
    """Train-step evaluations, evaluation-only steps and command steps all wrote what EvalRecord writes:
    the same keys in the same order with the same values (so the two writers cannot have drifted)."""
    raw = json.loads(path.read_text())
    record = EvalRecord.from_info(TaskResult.from_record(raw).info)
    written = record.info()
    assert list(written) == [k for k in EvalRecord.ORDER if k in raw]
    assert written == {k: raw[k] for k in written}


def test_the_record_names_seed_and_weights() -> None:
    trained = EvalRecord.from_info(
        {"config": {}, "train": {"config": {"seed": 3}}, "model": {"weights_sha256": "ab"}, "point": {"seed": 3}}
    )
    assert (trained.seed, trained.weights_sha256) == (3, "ab")
    command = EvalRecord.from_info({"command": {"argv": []}, "point": {"seed": 7}})
    assert (command.seed, command.weights_sha256) == (7, None)
    assert EvalRecord.from_info({"model": {"name": "e5-small"}}).seed is None
