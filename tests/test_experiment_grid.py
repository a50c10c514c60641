"""Experiments as a grid of steps: evaluation-only experiments, any configuration key as an axis."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from repro.errors import ReproError
from repro.runner.experiment import load_experiment, point_label
from repro.runner.sweep import plan

EVAL_ONLY = """
name: prefixes
eval:
  model: e5-small
  tasks: [xquad-r]
  langs: {xquad-r: [en, de]}
  max_length: 32
  batch_size: 16
grid:
  prefixes:
    e5: {eval.query_prefix: "query: ", eval.passage_prefix: "passage: "}
    none: {eval.query_prefix: "", eval.passage_prefix: ""}
  eval.max_length: [32, 48]
exclude: [{prefixes: none, eval.max_length: 48}]
profiles:
  tiny: {eval: {limit: 6}}
  other: {eval: {limit: 8}}
"""

TRAINING = """
name: train-and-lengths
train: {model: e5-small, corpus: xnli, steps: 4, batch_size: 4, max_length: 24, val_pairs: 16}
grid: {alpha: [0.0, 1.0], eval.max_length: [32, 48]}
eval: {tasks: [xquad-r], langs: {xquad-r: [en, de]}, limit: 6, max_length: 32}
profiles:
  tiny: {}
"""


# The same without its exclusion, for variations of the axes.
PLAIN = EVAL_ONLY.replace("exclude: [{prefixes: none, eval.max_length: 48}]\n", "")


def _write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_evaluation_only_experiment_plans_one_evaluation_per_point(tmp_path: Path) -> None:
    exp = load_experiment(_write(tmp_path, EVAL_ONLY), "tiny")
    assert not exp.trains and exp.eval.base_model is False
    # Named axes are points by label; the exclusion drops one of the four combinations.
    labels = [point_label(p) for p in exp.points()]
    assert labels == [
        "prefixes=e5,eval.max_length=32",
        "prefixes=e5,eval.max_length=48",
        "prefixes=none,eval.max_length=32",
    ]
    steps = plan(exp)
    assert [(s.kind, point_label(s.point), s.task, s.depends_on) for s in steps] == [
        ("eval", label, "xquad-r", None) for label in labels
    ]
    payloads = [s.payload for s in steps]
    assert [(p["model"], p["query_prefix"], p["passage_prefix"], p["max_length"]) for p in payloads] == [
        ({"base": "e5-small"}, "query: ", "passage: ", 32),
        ({"base": "e5-small"}, "query: ", "passage: ", 48),
        ({"base": "e5-small"}, "", "", 32),
    ]
    assert len({s.key for s in steps}) == 3
    # The profile changes the scale, so the keys; the points stay.
    other = load_experiment(_write(tmp_path, EVAL_ONLY), "other")
    assert [point_label(p) for p in other.points()] == labels
    assert not {s.key for s in plan(other)} & {s.key for s in steps}


def test_unset_prefixes_keep_the_keys_steps_had_before_prefixes_existed(tmp_path: Path) -> None:
    # The base model of a training experiment and an evaluation-only point with the same settings
    # (no prefix given: the model's own) are one step, keyed as before evaluation axes existed.
    training = load_experiment(_write(tmp_path, TRAINING, "t.yaml"), "tiny")
    only = load_experiment(
        _write(
            tmp_path,
            EVAL_ONLY.replace(
                """  prefixes:
    e5: {eval.query_prefix: "query: ", eval.passage_prefix: "passage: "}
    none: {eval.query_prefix: "", eval.passage_prefix: ""}
  eval.max_length: [32, 48]
exclude: [{prefixes: none, eval.max_length: 48}]""",
                "  eval.model: [e5-small]",
            ),
            "e.yaml",
        ),
        "tiny",
    )
    base = next(s for s in plan(training) if s.point is None)
    (point,) = plan(only)
    assert "query_prefix" not in point.payload and point.payload == base.payload and point.key == base.key


def test_training_points_that_differ_in_evaluation_share_their_training(tmp_path: Path) -> None:
    exp = load_experiment(_write(tmp_path, TRAINING), "tiny")
    steps = plan(exp)
    trains = [s for s in steps if s.kind == "train"]
    evals = [s for s in steps if s.kind == "eval" and s.point is not None]
    # alpha x max_length = 4 points, but only 2 trainings; each evaluation has its point's max_length.
    assert len(trains) == 4 and len({s.key for s in trains}) == 2
    assert {(s.point["alpha"], s.payload["max_length"]) for s in evals} == {(0.0, 32), (0.0, 48), (1.0, 32), (1.0, 48)}
    for ev in evals:
        (train,) = [t for t in trains if t.point == ev.point]
        assert ev.depends_on == train.key
        assert "max_length" in train.payload["config"] and train.payload["config"]["max_length"] == 24
    # The untrained backbone is evaluated with the file's evaluation settings.
    assert [s.payload["max_length"] for s in steps if s.point is None] == [32]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (PLAIN.replace("eval.max_length: [32, 48]", "eval.tasks: [[xquad-r]]"), "eval.tasks cannot be a grid axis"),
        (PLAIN.replace("eval.max_length: [32, 48]", "seed: [0, 1]"), "seed is a training setting, but the"),
        (
            PLAIN.replace("eval.max_length: [32, 48]", "eval.max_length: [4]"),
            "eval.max_length (profile tiny, point prefixes=e5,eval.max_length=4): ",
        ),
        (PLAIN.replace("eval.max_length: [32, 48]", "eval.max_length: []"), "grid.eval.max_length lists no values"),
        (
            PLAIN.replace('    none: {eval.query_prefix: "", eval.passage_prefix: ""}\n', "    none: []\n"),
            "a named axis maps each label",
        ),
        (
            PLAIN.replace("  max_length: 32\n", "  max_length: 32\n  base_model: true\n"),
            "eval.base_model needs a train section",
        ),
        (TRAINING.replace("eval: {tasks", "eval: {model: e5-small, tasks"), "eval.model is for evaluation-only"),
        (TRAINING.replace("eval.max_length: [32, 48]", "eval.model: [e5-small]"), "eval.model is for evaluation-only"),
        (TRAINING.replace("grid: {alpha: [0.0, 1.0], eval.max_length: [32, 48]}", "grid: {}"), "grid names no axis"),
        # The train section is typed at load: a misspelt key is caught at its line, with the key it meant.
        (
            TRAINING.replace("max_length: 24,", "max_lenght: 24,"),
            ":3: train.max_lenght (profile tiny): Extra inputs are not permitted (did you mean max_length?)",
        ),
        (TRAINING.replace("steps: 4,", "steps: 0,"), ":3: train.steps (profile tiny): Input should be greater than"),
        (
            TRAINING.replace("grid: {alpha:", "grid: {train.alpah:"),
            "grid.train.alpah: train.alpah is not a training setting (did you mean alpha?)",
        ),
        (TRAINING.replace("eval: {tasks", "eval: {task: [x], tasks"), "eval.task (profile tiny): Extra inputs are not"),
    ],
)
def test_grid_errors_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ReproError, match=re.escape(message)):
        load_experiment(_write(tmp_path, text), "tiny")


def test_the_train_section_is_a_typed_config_that_points_override(tmp_path: Path) -> None:
    from repro.training.config import TrainConfig

    exp = load_experiment(_write(tmp_path, TRAINING), "tiny")
    assert isinstance(exp.train, TrainConfig) and exp.train.max_length == 24 and exp.train.alpha == 0.5
    point = exp.points()[-1]
    config = exp.train_config(point)
    assert isinstance(config, TrainConfig) and (config.alpha, config.max_length, config.steps) == (1.0, 24, 4)
    # The summary records what the file set, not the defaults it left out.
    assert exp.train_settings == {
        "model": "e5-small",
        "corpus": "xnli",
        "steps": 4,
        "batch_size": 4,
        "max_length": 24,
        "val_pairs": 16,
    }


def test_profiles_are_whatever_the_file_defines(tmp_path: Path) -> None:
    path = _write(tmp_path, EVAL_ONLY)
    with pytest.raises(ReproError, match="no profile 'quick'; it has tiny, other"):
        load_experiment(path, "quick")


def test_the_second_registry_s_experiment(tmp_path: Path) -> None:
    exp = load_experiment(Path(__file__).resolve().parents[1] / "experiments" / "me5-prefixes.yaml", "full")
    assert not exp.trains and exp.eval.tasks == ["xquad-r", "mlqa-r"]
    got = {point_label(s.point): (s.payload["query_prefix"], s.payload["passage_prefix"]) for s in plan(exp)}
    assert got == {
        "prefixes=e5": ("query: ", "passage: "),
        "prefixes=none": ("", ""),
        "prefixes=swapped": ("passage: ", "query: "),
    }


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory, fetched: None) -> tuple[Path, object]:
    """The tiny evaluation-only experiment at one length, run once (prefixes e5 / none: 2 evaluations)."""
    from repro.runner.store import StepStore
    from repro.runner.sweep import run_experiment

    tmp = tmp_path_factory.mktemp("grid")
    exp = load_experiment(
        _write(
            tmp, EVAL_ONLY.replace("[32, 48]", "[32]").replace("exclude: [{prefixes: none, eval.max_length: 48}]\n", "")
        ),
        "tiny",
    )
    results = tmp / "results"
    outcome = run_experiment(exp, results, StepStore(tmp / "steps"), progress=False)
    return results, outcome


def test_an_evaluation_only_run_uses_each_point_s_settings(ran) -> None:
    from repro.evaluation.subset import Subset
    from repro.evaluation.tasks import get_task
    from repro.models.encoder import Encoder

    results, outcome = ran
    assert len(outcome.computed) == 2 and not outcome.cached
    summary = json.loads((results / "summary.json").read_text())
    assert set(summary["rows"]) == {"prefixes=e5,eval.max_length=32", "prefixes=none,eval.max_length=32"}
    none = json.loads((results / "prefixes=none,eval.max_length=32" / "xquad-r.json").read_text())
    assert (none["model"]["query_prefix"], none["model"]["passage_prefix"], none["model"]["max_length"]) == ("", "", 32)
    # The published numbers are those of the encoder configured by hand, outside the runner.
    by_hand = Encoder("e5-small", max_length=32, batch_size=16, query_prefix="", passage_prefix="")
    subset = Subset.from_payload("xquad-r", 6, none["config"].get("subset"))
    direct = get_task("xquad-r").run(encoder=by_hand, langs=["en", "de"], subset=subset, progress=False)
    assert np.allclose(
        [none["summary"]["multi"]["mAP"], none["summary"]["mono"]["mAP"]],
        [direct.summary["multi"]["mAP"], direct.summary["mono"]["mAP"]],
        atol=1e-7,
    )
    e5 = json.loads((results / "prefixes=e5,eval.max_length=32" / "xquad-r.json").read_text())
    assert e5["model"]["query_prefix"] == "query: " and e5["summary"] != none["summary"]
