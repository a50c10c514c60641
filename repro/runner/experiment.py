"""Experiment files: a YAML that names what to train (if anything), a grid, and evaluation tasks.

A profile overrides parts of the file; it changes scale, never the code path. Profiles are whatever
the file defines (``quick``, ``full``, ``paper`` in experiments/hybrid-sweep.yaml). A training
experiment (experiments/hybrid-sweep.yaml)::

    name: hybrid-sweep
    train: {model: e5-small, corpus: xnli, steps: 300, batch_size: 32}
    grid: {alpha: [0, 0.25, 0.5, 0.75, 1], seed: [0, 1, 2]}
    eval:
      tasks: [xquad-r, mlqa-r, tydi-goldp, tatoeba]
      only: {tatoeba: {alpha: [0, 0.5, 1], seed: [0]}}
    profiles:
      quick: {train: {steps: 20}, grid: {seed: [0]}, eval: {limit: 100}}

An evaluation-only experiment has no ``train`` section: every grid point is one evaluation of
``eval.model`` (experiments/me5-prefixes.yaml)::

    name: me5-prefixes
    eval: {model: e5-small, tasks: [xquad-r, mlqa-r], max_length: 128}
    grid:
      prefixes:                       # a named axis: label -> the settings it applies
        e5: {eval.query_prefix: "query: ", eval.passage_prefix: "passage: "}
        none: {eval.query_prefix: "", eval.passage_prefix: ""}
      eval.max_length: [128, 512]     # a plain axis over one key

Any key of the training configuration (``train.<key>``, or a bare key such as ``alpha`` in a
training experiment) or of the evaluation configuration (``eval.<key>``, see :data:`EVAL_AXES`)
can be an axis. A point names each axis' value (a named axis' label); ``exclude``, ``eval.only``
and the registry's arms select points by those values.
"""

from __future__ import annotations

import copy
import difflib
import itertools
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from repro.errors import ReproError
from repro.evaluation.subset import Subset
from repro.evaluation.tasks import known_tasks
from repro.models.precision import Precision
from repro.names import slug_problem
from repro.runner.command import CommandSpec, bind, check_template
from repro.training.config import TrainConfig
from repro.yamlfile import line_of, read_yaml

# An experiment file is a page of settings; a larger one is refused before it is parsed.
MAX_EXPERIMENT_BYTES = 1 << 20


class EvalSpec(BaseModel):
    """Which tasks run, at which scale, on which grid points."""

    model_config = ConfigDict(extra="forbid")

    tasks: list[str] = Field(default_factory=lambda: ["xquad-r", "mlqa-r"])
    langs: dict[str, list[str]] = Field(default_factory=dict, description="task -> languages (default: all)")
    limit: int | dict[str, int] | None = Field(
        default=None, description="questions per language (smaller task): one number, or task -> number"
    )
    sample: Literal["random", "first"] = Field(
        default="random", description="which items a limit keeps: a seeded random draw, or the first in file order"
    )
    sample_seed: int = Field(default=0, ge=0, description="seed of the random draw")
    distractors: dict[str, int | Literal["all"]] = Field(
        default_factory=dict,
        description="task -> other passages a limited pool keeps (tydi-goldp; default: as many as the limit)",
    )
    max_length: int = Field(default=128, ge=8)
    batch_size: int = Field(default=64, ge=1)
    precision: Precision = Field(default="auto", description="auto, fp32, bf16 or fp16 (as train.precision)")
    only: dict[str, dict[str, list[Any]]] = Field(
        default_factory=dict, description="task -> grid values it runs on (others: every point)"
    )
    base_model: bool = Field(default=True, description="also evaluate the untrained backbone")
    model: str | None = Field(default=None, description="the model an evaluation-only experiment evaluates")
    query_prefix: str | None = Field(default=None, description="text before every query (default: the model's)")
    passage_prefix: str | None = Field(default=None, description="text before every candidate (default: the model's)")

    def dump(self) -> dict[str, Any]:
        """The settings as a mapping; options left unset that older files never had are left out."""
        return self.model_dump(exclude={k for k in _NEW_EVAL_FIELDS if getattr(self, k) is None})

    def limit_for(self, task: str) -> int | None:
        """The question limit of ``task`` (None = the whole task)."""
        limit = self.limit.get(task) if isinstance(self.limit, dict) else self.limit
        if limit is not None and limit < 1:
            raise ReproError(f"eval.limit for {task} must be >= 1, got {limit}")
        return limit

    def subset_for(self, task: str) -> Subset:
        """How ``limit`` shrinks ``task``: which items, and (tydi-goldp) how many distractors."""
        return Subset.for_task(task, self.limit_for(task), self.sample, self.sample_seed, self.distractors.get(task))


# Evaluation settings a grid axis may vary (``eval.<key>``); tasks, only and base_model shape the plan itself.
EVAL_AXES = (
    "model",
    "query_prefix",
    "passage_prefix",
    "max_length",
    "batch_size",
    "precision",
    "langs",
    "limit",
    "sample",
    "sample_seed",
    "distractors",
)
# Fields that older experiment files never had: left out of dumps while unset, so summaries stay as published.
_NEW_EVAL_FIELDS = ("model", "query_prefix", "passage_prefix")


class Experiment(BaseModel):
    """A resolved experiment: one profile applied. ``train`` is None for an evaluation-only experiment."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    profile: str
    train: TrainConfig | None = Field(
        default=None, description="the training settings every point starts from (a grid axis may override keys)"
    )
    command: CommandSpec | None = Field(default=None, description="the program every grid point runs")
    plugins: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="kind (tasks, encoders, checks) -> name -> module:attribute"
    )
    grid: dict[str, list[Any] | dict[str, Any]]
    exclude: list[dict[str, Any]] = Field(default_factory=list, description="grid points left out")
    eval: EvalSpec = Field(default_factory=EvalSpec)
    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str | None:
        """The file the experiment was read from (for messages that say what to run)."""
        return self._source

    @property
    def runs_command(self) -> bool:
        """Whether every grid point runs the user's program (a ``command`` section)."""
        return self.command is not None

    @property
    def trains(self) -> bool:
        """Whether the experiment trains models (else every point is an evaluation of ``eval.model``)."""
        return self.train is not None

    def axis_values(self, axis: str) -> list[Any]:
        """The values a point can take on ``axis``: a plain axis' list, a named axis' labels."""
        return list(self.grid[axis])  # a list, or a mapping's keys

    def settings(self, point: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """What ``point`` sets: (training keys, evaluation keys), each without its ``train.``/``eval.``."""
        train: dict[str, Any] = {}
        ev: dict[str, Any] = {}
        for axis, value in point.items():
            spec = self.grid[axis]
            pairs = spec[value].items() if isinstance(spec, dict) else [(axis, value)]
            for key, v in pairs:
                section, name = split_axis_key(key)
                (train if section == "train" else ev)[name] = v
        return train, ev

    @property
    def train_settings(self) -> dict[str, Any] | None:
        """The ``train`` keys the file sets (as summaries record them), without the defaults it left out."""
        return None if self.train is None else self.train.model_dump(mode="json", exclude_unset=True)

    def train_config(self, point: dict[str, Any]) -> TrainConfig:
        """The training settings of ``point`` (the file's ``train`` with the point's keys applied)."""
        if self.train is None:
            raise ValueError(f"experiment {self.name} has no train section")
        overrides = self.settings(point)[0]
        if not overrides:
            return self.train
        return TrainConfig.model_validate({**self.train.model_dump(exclude_unset=True), **overrides})

    def eval_for(self, point: dict[str, Any] | None) -> EvalSpec:
        """The evaluation settings of ``point`` (None: the file's, as the base model gets them)."""
        overrides = self.settings(point)[1] if point else {}
        if not overrides:
            return self.eval
        return EvalSpec.model_validate({**self.eval.model_dump(), **overrides})

    def points(self) -> list[dict[str, Any]]:
        """The grid's points in a stable order: seed varies slowest, then the keys in file order.

        Seed first means a sweep stopped half-way already holds a whole curve (every alpha of seed 0)
        rather than every seed of a few alphas.
        """
        keys = list(self.grid)
        order = sorted(keys, key=lambda k: k != "seed")
        combos = itertools.product(*(self.axis_values(k) for k in order))
        points = [{k: dict(zip(order, values))[k] for k in keys} for values in combos]
        return [p for p in points if not any(all(p.get(k) == v for k, v in ex.items()) for ex in self.exclude)]

    def tasks_for(self, point: dict[str, Any] | None) -> list[str]:
        """The tasks that run at a grid point (None = the base model, which gets every task)."""
        if point is None:
            return list(self.eval.tasks)
        out = []
        for task in self.eval.tasks:
            rule = self.eval.only.get(task, {})
            if all(point.get(k) in v for k, v in rule.items()):
                out.append(task)
        return out


def split_axis_key(key: str) -> tuple[str, str]:
    """``("train", "lr")`` for ``train.lr``, ``("eval", "max_length")`` for ``eval.max_length``; a bare key is training's."""
    section, dot, name = key.partition(".")
    if dot and section in ("train", "eval"):
        return section, name
    return "train", key


def point_label(point: dict[str, Any] | None) -> str:
    """A folder name for a grid point: ``alpha=0.5,seed=0``; ``base`` for the untrained model."""
    if point is None:
        return "base"
    return ",".join(f"{k}={v}" for k, v in point.items())


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with a profile's ``override`` applied: mappings merge key by key, anything else replaces.

    An empty mapping replaces too, so a profile can clear a mapping of the base (``eval: {only: {}}``:
    every task on every model); to keep the base's, leave the key out.
    """
    out = copy.deepcopy(base)
    for k, v in override.items():
        merge = isinstance(v, dict) and v and isinstance(out.get(k), dict)
        out[k] = _merge(out[k], v) if merge else copy.deepcopy(v)
    return out


def _read(path: Path) -> dict[str, Any]:
    """The raw mapping of an experiment file; a missing, unreadable or non-mapping file is a ReproError."""
    return _read_with_nodes(path)[0]


def _read_with_nodes(path: Path) -> tuple[dict[str, Any], Any]:
    """The raw mapping of an experiment file and its YAML node tree (for the lines of errors)."""
    path = Path(path)
    if not path.is_file():
        raise ReproError(f"experiment file {path} not found")
    raw, node = read_yaml(path, MAX_EXPERIMENT_BYTES)
    if not isinstance(raw, dict):
        raise ReproError(f"{path}:1: an experiment must be a mapping with name, train, grid, eval")
    return raw, node


# The one profile of a file that defines none: the file as written.
IMPLICIT_PROFILE = "default"


def experiment_profiles(path: Path) -> list[str]:
    """The profile names an experiment file defines, in file order (a ReproError if it cannot be read);
    ``[IMPLICIT_PROFILE]`` for a file without ``profiles:``."""
    return list(_read(path).get("profiles") or {}) or [IMPLICIT_PROFILE]


def load_experiment(path: Path, profile: str) -> Experiment:
    """Read an experiment YAML and apply ``profile``; every problem is a one-line ReproError."""
    path = Path(path)
    raw, node = _read_with_nodes(path)
    profiles = _profiles(path, raw, node, profile)
    resolved = _merge(raw, profiles[profile] or {})
    resolved["profile"] = profile
    try:
        exp = Experiment.model_validate(resolved)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        line = line_of(node, ("profiles", profile, *err["loc"]), tuple(err["loc"]))
        hint = ""
        if err["type"] == "extra_forbidden":
            section = {"train": TrainConfig, "eval": EvalSpec}.get(str(err["loc"][0])) if len(err["loc"]) == 2 else None
            hint = _hint(str(err["loc"][-1]), section or Experiment) if len(err["loc"]) <= 2 else ""
        raise ReproError(f"{path}:{line}: {loc} (profile {profile}): {err['msg']}{hint}") from None
    if exp.plugins:
        from repro.runner.plugins import load_plugins

        load_plugins(exp.plugins, f"{path}: plugins")
    if exp.command is not None:
        return _command_experiment(exp, raw, path, profile)
    if "eval" not in resolved:
        raise ReproError(f"{path}:1: eval (profile {profile}): Field required (or a command section)")
    _check_eval(exp, path, node, profile)
    exp._source = _display(path)
    where = f"{path} (profile {profile})"
    _check_axes(exp, where)
    if not exp.trains:
        # Every point is a model: there is no untrained backbone beside them.
        if "base_model" in (resolved.get("eval") or {}) and exp.eval.base_model:
            raise ReproError(
                f"{where}: eval.base_model needs a train section (an evaluation-only experiment has no base model)"
            )
        exp.eval.base_model = False
        exp.eval.model = exp.eval.model or "e5-small"
    elif exp.eval.model is not None:
        raise ReproError(
            f"{where}: eval.model is for evaluation-only experiments; a training experiment evaluates its "
            "trained models and train.model"
        )
    # Validate every point's settings now, not after an hour of other steps.
    _check_points(exp, path, node, profile)
    return exp


def _profiles(path: Path, raw: dict[str, Any], node: Any, profile: str) -> dict[str, Any]:
    """The file's profiles (taken out of ``raw``), their names and the experiment's name checked, ``profile`` among them."""
    profiles = raw.pop("profiles", {}) or {IMPLICIT_PROFILE: {}}
    if not isinstance(profiles, dict):
        raise ReproError(f"{path}:{line_of(node, ('profiles',))}: profiles must map each profile name to its settings")
    for name in profiles:
        if problem := slug_problem(str(name), "profile name"):
            raise ReproError(f"{path}:{line_of(node, ('profiles', name))}: {problem}")
    if problem := slug_problem(raw.get("name"), "experiment name") if isinstance(raw.get("name"), str) else None:
        raise ReproError(f"{path}:{line_of(node, ('name',))}: name: {problem}")
    if profile not in profiles:
        raise ReproError(f"{path}: no profile '{profile}'; it has {', '.join(profiles) or 'none'}")
    return profiles


def _check_eval(exp: Experiment, path: Path, node: Any, profile: str) -> None:
    """The eval section against the tasks and the grid: known tasks, options naming tasks it evaluates."""
    tasks = known_tasks()
    unknown = [t for t in exp.eval.tasks if t not in tasks]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(tasks), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        line = line_of(node, ("profiles", profile, "eval", "tasks"), ("eval", "tasks"))
        raise ReproError(f"{path}:{line}: unknown task {', '.join(unknown)}{hint}; known: {', '.join(tasks)}")
    if bad := [ex for ex in exp.exclude if not ex or any(k not in exp.grid for k in ex)]:
        raise ReproError(f"{path}: exclude entry {bad[0]} must name grid keys ({', '.join(exp.grid)})")
    if isinstance(exp.eval.limit, dict) and (bad := [t for t in exp.eval.limit if t not in exp.eval.tasks]):
        raise ReproError(f"{path}: eval.limit names {', '.join(bad)}, not a task of eval.tasks")
    if bad := [t for t in exp.eval.distractors if t not in exp.eval.tasks]:
        raise ReproError(f"{path}: eval.distractors names {', '.join(bad)}, not a task of eval.tasks")
    if bad := [t for t in exp.eval.langs if t not in exp.eval.tasks]:
        raise ReproError(f"{path}: eval.langs names {', '.join(bad)}, not a task of eval.tasks")
    for task in exp.eval.tasks:
        try:
            exp.eval.subset_for(task)
        except ReproError as exc:
            raise ReproError(f"{path} (profile {profile}): {exc}") from None
    for task, rule in exp.eval.only.items():
        bad = [k for k in rule if k not in exp.grid]
        if task not in exp.eval.tasks or bad:
            raise ReproError(
                f"{path}: eval.only.{task} must name a task of eval.tasks and grid keys ({', '.join(exp.grid)})"
            )


def _check_points(exp: Experiment, path: Path, node: Any, profile: str) -> None:
    """Every grid point's evaluation and training settings, each error at its line."""
    for point in exp.points():
        try:
            exp.eval_for(point)
        except ValidationError as exc:
            err = exc.errors()[0]
            line = line_of(node, ("profiles", profile, "eval", *err["loc"]), ("eval", *err["loc"]))
            raise ReproError(
                f"{path}:{line}: eval.{'.'.join(map(str, err['loc']))} (profile {profile}, point "
                f"{point_label(point)}): {err['msg']}"
            ) from None
        if not exp.trains:
            continue
        try:
            exp.train_config(point)
        except ValidationError as exc:
            err = exc.errors()[0]
            line = line_of(node, ("profiles", profile, "train", *err["loc"]), ("train", *err["loc"]))
            raise ReproError(
                f"{path}:{line}: train.{'.'.join(map(str, err['loc']))} (profile {profile}): {err['msg']}"
            ) from None


def _display(path: Path) -> str:
    """``path`` as a user would type it here: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _command_experiment(exp: Experiment, raw: dict[str, Any], path: Path, profile: str) -> Experiment:
    """Validate an experiment whose points run a program: no train or eval section, a template the grid fills."""
    where = f"{path} (profile {profile})"
    for section in ("train", "eval"):
        if section in raw:
            raise ReproError(
                f"{where}: an experiment with a command section has no {section} section (the program trains and "
                "evaluates; declare what it reports under command.metrics)"
            )
    if not exp.grid:
        raise ReproError(f"{where}: grid names no axis; give at least one (e.g. seed: [0, 1, 2])")
    assert exp.command is not None
    bind(exp.command, path.parent)
    check_template(exp.command, exp.grid, where)
    if bad := [ex for ex in exp.exclude if not ex or any(k not in exp.grid for k in ex)]:
        raise ReproError(f"{path}: exclude entry {bad[0]} must name grid keys ({', '.join(exp.grid)})")
    exp.eval = EvalSpec(tasks=[exp.command.task], base_model=False)
    return exp


def _hint(name: str, model: type[BaseModel]) -> str:
    """ " (did you mean lr?)" when ``name`` is close to a field of ``model``, else ""."""
    close = difflib.get_close_matches(name, list(model.model_fields), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _check_axes(exp: Experiment, where: str) -> None:
    """Every grid axis names settings that exist: ``eval.<key>`` of :data:`EVAL_AXES`, training keys with training."""
    if not exp.grid:
        raise ReproError(f"{where}: grid names no axis; give at least one (e.g. seed: [0], or eval.model: [e5-small])")
    for axis, spec in exp.grid.items():
        if isinstance(spec, dict):
            if not spec or not all(isinstance(v, dict) and v for v in spec.values()):
                raise ReproError(
                    f"{where}: grid.{axis}: a named axis maps each label to the settings it applies, "
                    'e.g. {e5: {eval.query_prefix: "query: "}}'
                )
            keys = [k for settings in spec.values() for k in settings]
        else:
            if not spec:
                raise ReproError(f"{where}: grid.{axis} lists no values")
            keys = [axis]
        labels = list(spec) if isinstance(spec, dict) else spec
        for value in labels:
            if any(ch in f"{axis}={value}" for ch in "/\\\0"):
                raise ReproError(
                    f"{where}: grid.{axis}: '{axis}={value}' names a results folder and cannot hold '/', '\\' or NUL"
                )
        for key in keys:
            section, name = split_axis_key(key)
            if section == "eval" and name not in EVAL_AXES:
                raise ReproError(
                    f"{where}: grid.{axis}: eval.{name} cannot be a grid axis; evaluation axes: "
                    + ", ".join(f"eval.{k}" for k in EVAL_AXES)
                )
            if section == "eval" and name == "model" and exp.trains:
                raise ReproError(
                    f"{where}: grid.{axis}: eval.model is for evaluation-only experiments; vary train.model"
                )
            if section == "train" and exp.trains and name not in TrainConfig.model_fields:
                raise ReproError(f"{where}: grid.{axis}: {key} is not a training setting{_hint(name, TrainConfig)}")
            if section == "train" and not exp.trains:
                raise ReproError(
                    f"{where}: grid.{axis}: {key} is a training setting, but the experiment has no train section "
                    "(write eval.<key> for an evaluation setting)"
                )
