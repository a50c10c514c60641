"""Command steps: a grid point runs the user's own program, and its output file becomes a task result.

An experiment with a ``command`` section (and no ``train`` or ``eval``) runs one program per grid
point (experiments/adam-digits.yaml)::

    name: adam-digits
    command:
      task: digits                          # the name results are published and claimed under
      argv: "{python} examples/adam/train.py --model {model} --opt {optimizer} --seed {seed} --out {out}"
      cwd: ..                               # relative to this file's folder (default: the folder)
      env: {OMP_NUM_THREADS: "1"}
      inputs: [../examples/adam]            # files and folders hashed into every step's key
      outputs: [result.jsonl]               # files the program writes under {out}
      result: result.jsonl                  # the one in the result format below (default)
      metrics:                              # split -> measure -> direction
        train: {loss: lower}
        test: {loss: lower, accuracy: higher}
      params: {epochs: 45}                  # further template values (profiles change them)
    grid: {model: [logreg, mlp], optimizer: [adam, sgd-nesterov, adagrad], seed: [0, 1, 2, 3, 4]}

``argv`` (a list, or a string split like a shell does) is filled from the point's values, the
``params``, ``{out}`` (the step's output folder) and ``{python}`` (the interpreter running
repro). A step's key hashes the task, the argv template, the values it is filled with, env, cwd,
outputs, metrics and the SHA-256 of every input (a folder: every file in it, by relative path),
so editing the program re-runs its steps and nothing else does.

The result file (format ``repro-result``, version 1; docs/claims.md) is JSON lines: a header
``{"format": "repro-result", "version": 1, "summary": {...}, "info": {...}}``, then one line per
item and split, ``{"split": "test", "item": 17, "group": "all", "values": {"loss": 0.02}}``. It is
read into the task-result layout built-in tasks have (summary, tables, per-query ``split/group/measure``
and ``split/group/ids``), so the checks pair seeds and items exactly as they do for built-in tasks.
The program's exit code, wall time, host and log go into the result's provenance; a failing
program, a missing output or a malformed line is a one-line :class:`ReproError` naming the log,
file, line and field.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shlex
import signal
import socket
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from repro.cache import portable
from repro.errors import ReproError
from repro.evaluation.declarations import Declaration, register_declaration
from repro.evaluation.measures import MeasureSpec, Setting
from repro.hashing import sha256_file

# The version of how a command step's output is read and published (the program's own changes
# reach the key through its inputs' hashes).
COMMAND_VERSION = 1
RESULT_FORMAT = "repro-result"
RESULT_VERSION = 1
# Placeholders repro fills itself; every other one must be a grid axis or a param.
_BUILTIN_FIELDS = ("out", "python")
_LOG_TAIL = 20


class CommandSpec(BaseModel):
    """The ``command`` section of an experiment: the program a grid point runs and what it writes."""

    model_config = ConfigDict(extra="forbid")

    task: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", description="name the results are published under")
    argv: list[str] = Field(min_length=1, description="the command line; {axis}, {param}, {out}, {python} are filled")
    cwd: str = Field(default=".", description="working directory, relative to the experiment file's folder")
    env: dict[str, str] = Field(default_factory=dict, description="environment variables set for the program")
    inputs: list[str] = Field(default_factory=list, description="files and folders hashed into the step key")
    outputs: list[str] = Field(default_factory=list, description="files the program writes under {out}")
    result: str = Field(default="result.jsonl", description="the output in the repro-result format")
    publish: list[str] = Field(
        default_factory=list, description="outputs copied beside the published result (the log always is)"
    )
    metrics: dict[str, dict[str, Literal["higher", "lower"]]] = Field(
        min_length=1, description="split -> measure -> which direction is better"
    )
    params: dict[str, Any] = Field(default_factory=dict, description="template values besides the grid's")
    timeout: float | None = Field(default=None, gt=0, description="seconds before the program is stopped")
    description: str = ""

    _root: Path = PrivateAttr(default=Path("."))

    @field_validator("argv", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return shlex.split(value) if isinstance(value, str) else value

    @field_validator("env", mode="before")
    @classmethod
    def _env_strings(cls, value: object) -> object:
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else value

    @property
    def root(self) -> Path:
        """The experiment file's folder: ``cwd`` and ``inputs`` are relative to it."""
        return self._root

    def workdir(self) -> Path:
        """The program's working directory."""
        return (self.root / self.cwd).resolve()

    def fields(self) -> list[str]:
        """The placeholders of the argv template, in order of appearance."""
        names: list[str] = []
        for arg in self.argv:
            for _, name, _, _ in string.Formatter().parse(arg):
                if name is not None and name not in names:
                    names.append(name)
        return names

    def declaration(self) -> Declaration:
        """The task declaration its results follow: one setting per split, labelled when there are several."""
        splits = list(self.metrics)
        settings = tuple(
            Setting(
                split,
                split if len(splits) > 1 else "",
                f"{split} items",
                tuple(MeasureSpec(m, higher_is_better=d == "higher") for m, d in measures.items()),
                headline=tuple(measures),
            )
            for split, measures in self.metrics.items()
        )
        description = self.description or f"{self.task}: results of a user program"
        return Declaration(self.task, description, (), settings, rows="group")


def bind(spec: CommandSpec, root: Path) -> None:
    """Anchor the spec's relative paths at ``root`` (the experiment file's folder) and declare its task.

    A task name that a built-in or plug-in task already has is an error: its metrics would mean
    two things.
    """
    spec._root = Path(root).resolve()
    register_declaration(spec.declaration(), owner=f"command:{spec.task}")


def point_values(grid: dict[str, Any], point: dict[str, Any]) -> dict[str, Any]:
    """What a grid point fills the template with: a plain axis its value, a named axis its label's settings."""
    out: dict[str, Any] = {}
    for axis, value in point.items():
        spec = grid[axis]
        if isinstance(spec, dict):
            out[axis] = value
            out.update(spec[value])
        else:
            out[axis] = value
    return out


def check_template(spec: CommandSpec, grid: dict[str, Any], where: str) -> None:
    """Every placeholder is a grid axis, a param, ``{out}`` or ``{python}``; the declared outputs name the result."""
    known = set(spec.params) | set(grid) | set(_BUILTIN_FIELDS)
    for values in grid.values():
        if isinstance(values, dict):
            known |= {k for settings in values.values() for k in settings}
    unknown = [f for f in spec.fields() if f not in known]
    if unknown:
        raise ReproError(
            f"{where}: command.argv uses {{{unknown[0]}}}, which is no grid axis or command.params key "
            f"(known: {', '.join(sorted(known))})"
        )
    if "out" not in spec.fields():
        raise ReproError(f"{where}: command.argv must pass {{out}}, the folder the program writes its outputs to")
    if spec.outputs and spec.result not in spec.outputs:
        raise ReproError(
            f"{where}: command.result {spec.result} is not among command.outputs ({', '.join(spec.outputs)})"
        )
    for rel in spec.inputs:
        if not (spec.root / rel).exists():
            raise ReproError(f"{where}: command input {rel} not found (looked in {spec.root / rel})")
    if not spec.workdir().is_dir():
        raise ReproError(f"{where}: command.cwd {spec.cwd} is not a folder ({spec.workdir()})")


def input_digest(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (relative path and content; caches and VCS folders skipped)."""
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = f.relative_to(path)
        if any(part in ("__pycache__", ".git") for part in rel.parts) or f.suffix == ".pyc":
            continue
        digest.update(f"{rel.as_posix()}\0{sha256_file(f)}\n".encode())
    return digest.hexdigest()


def command_payload(spec: CommandSpec, grid: dict[str, Any], point: dict[str, Any]) -> dict[str, Any]:
    """What a command step's key hashes: the template and its values, env, cwd, outputs, metrics, inputs' hashes.

    ``{out}`` and ``{python}`` are not in it: they name this machine's folders, not the computation.
    """
    values = {**spec.params, **point_values(grid, point)}
    used = {k: values[k] for k in spec.fields() if k in values}
    inputs = {}
    for rel in spec.inputs:
        path = spec.root / rel
        if not path.exists():
            raise ReproError(f"command input {rel} not found (looked in {path})")
        inputs[rel] = input_digest(path)
    return {
        "task": spec.task,
        "argv": list(spec.argv),
        "values": used,
        "env": dict(spec.env),
        "cwd": spec.cwd,
        "outputs": list(spec.outputs),
        "result": spec.result,
        "metrics": spec.metrics,
        # Only when set: what is copied into results/ is not part of the computation, but a step
        # published without a file must not count as published with it.
        **({"publish": list(spec.publish)} if spec.publish else {}),
        "inputs": inputs,
    }


def filled_argv(spec: CommandSpec, values: dict[str, Any], out: Path) -> list[str]:
    """The command line of one step; an argument that fills to nothing (an empty param) is left out."""
    fill = {**values, "out": str(out), "python": sys.executable}
    return [filled for arg in spec.argv if (filled := arg.format_map(fill)) or not spec_fields(arg)]


def spec_fields(arg: str) -> list[str]:
    """The placeholders of one argument."""
    return [name for _, name, _, _ in string.Formatter().parse(arg) if name is not None]


def _log_tail(log: Path) -> str:
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def run_command(spec: CommandSpec, payload: dict[str, Any], step_dir: Path, label: str) -> dict[str, Any]:
    """Run one command step into ``step_dir``: the program's outputs in ``out/``, its log, the parsed result.

    Returns what the step's record and the result's provenance carry (exit code, wall time, host,
    the command line). Files the program leaves in ``out/`` besides its declared outputs (a
    checkpoint) stay between attempts, so a program that resumes from them resumes; declared
    outputs are removed first, so a stale one is never taken for a new result.
    """
    out = step_dir / "out"
    out.mkdir(parents=True, exist_ok=True)
    for name in {*spec.outputs, spec.result}:
        (out / name).unlink(missing_ok=True)
    log = step_dir / "command.log"
    argv = filled_argv(spec, payload["values"], out)
    # What the record and the log show names no machine: the interpreter as `python`, the working
    # folder as the experiment file writes it (relative to that file), the step folder via portable().
    shown = [portable("python" if a == sys.executable else a) for a in argv]
    env = {**os.environ, **spec.env}
    started = time.time()
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as fh:
        fh.write(f"$ {shlex.join(shown)}\n(cwd {spec.cwd}, relative to the experiment file)\n")
        fh.flush()
        try:
            proc = subprocess.run(
                argv,
                cwd=spec.workdir(),
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                timeout=spec.timeout,
                check=False,
            )
            code = proc.returncode
        except FileNotFoundError:
            raise ReproError(f"command {label}: program {argv[0]} not found; log: {log}") from None
        except subprocess.TimeoutExpired:
            raise ReproError(f"command {label}: stopped after command.timeout {spec.timeout:g} s; log: {log}") from None
    seconds = time.perf_counter() - t0
    if code != 0:
        tail = _log_tail(log)
        how = f"exited with code {code}"
        if code < 0:  # killed: scancel, a time limit, the OOM killer
            how = f"was killed by signal {-code} ({signal.Signals(-code).name})"
        raise ReproError(f"command {label} {how}" + (f" ({tail})" if tail else "") + f"; log: {log}")
    missing = [name for name in dict.fromkeys([*spec.outputs, spec.result]) if not (out / name).is_file()]
    if missing:
        raise ReproError(
            f"command {label} exited 0 but did not write {', '.join(missing)} (declared in command.outputs/result) "
            f"into {out}; log: {log}"
        )
    return {
        "argv": shown,
        "cwd": spec.cwd,
        "exit_code": code,
        "wall_seconds": round(seconds, 3),
        "host": socket.gethostname(),
        "started": started,
        "log": str(log),
        "outputs": {name: sha256_file(out / name) for name in dict.fromkeys([*spec.outputs, spec.result])},
    }


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ReproError(f"{where}: expected a finite number, got {json.dumps(value)}")
    return float(value)


def read_result(path: Path, metrics: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Read a ``repro-result`` v1 file into ``summary``, ``tables``, ``per_query`` and ``info``.

    Tables: split -> group -> measure -> mean over the group's items (and ``n``); the summary is
    each measure's mean over groups (the macro average, as built-in tasks average languages).
    A summary the program wrote itself must agree with its items. Every problem is a ReproError
    naming the file, line and field.
    """
    path = Path(path)
    (hline, header), *items = _json_lines(path)
    _check_header(f"{path}:{hline}", header)
    values = _item_values(path, items, metrics)
    summary, tables, per_query = _aggregate(path, values, metrics)
    stated = header.get("summary")
    if stated is not None:
        _check_stated_summary(f"{path}:{hline}", stated, summary)
    info = header.get("info", {})
    if not isinstance(info, dict):
        raise ReproError(f"{path}:{hline}: info: must be a mapping")
    return {"summary": summary, "tables": tables, "per_query": per_query, "info": info}


def _json_lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) of every non-blank line; at least one (the header)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReproError(f"{path}: cannot read the result file: {exc}") from None
    rows = [(i, ln) for i, ln in enumerate(lines, 1) if ln.strip()]
    if not rows:
        raise ReproError(f'{path}: empty result file; the first line must be {{"format": "{RESULT_FORMAT}", ...}}')
    parsed = []
    for i, ln in rows:
        try:
            obj = json.loads(ln)
        except json.JSONDecodeError as exc:
            raise ReproError(f"{path}:{i}: not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise ReproError(f"{path}:{i}: each line must be a JSON object")
        parsed.append((i, obj))
    return parsed


def _check_header(where: str, header: dict[str, Any]) -> None:
    if header.get("format") != RESULT_FORMAT:
        raise ReproError(f'{where}: format: expected "{RESULT_FORMAT}", got {json.dumps(header.get("format"))}')
    if header.get("version") != RESULT_VERSION:
        raise ReproError(
            f"{where}: version: this repro reads version {RESULT_VERSION}, got {json.dumps(header.get('version'))}"
        )
    if bad := sorted(set(header) - {"format", "version", "summary", "info"}):
        raise ReproError(f"{where}: unknown header field {bad[0]} (allowed: format, version, summary, info)")


def _item_values(
    path: Path, items: list[tuple[int, dict[str, Any]]], metrics: dict[str, dict[str, str]]
) -> dict[tuple[str, str], dict[Any, dict[str, float]]]:
    """(split, group) -> item -> measure -> value, every item line checked against the declared metrics."""
    splits = list(metrics)
    values: dict[tuple[str, str], dict[Any, dict[str, float]]] = {}
    for i, obj in items:
        where = f"{path}:{i}"
        if bad := sorted(set(obj) - {"split", "item", "group", "values"}):
            raise ReproError(f"{where}: unknown field {bad[0]} (an item line has split, item, group, values)")
        split = obj.get("split", splits[0] if len(splits) == 1 else None)
        if split is None:
            raise ReproError(f"{where}: split: missing (the metrics declare {', '.join(splits)})")
        if split not in metrics:
            raise ReproError(f"{where}: split: '{split}' is not declared in command.metrics ({', '.join(splits)})")
        item = obj.get("item")
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise ReproError(f"{where}: item: missing or not an integer or string id")
        group = obj.get("group", "all")
        if not isinstance(group, str) or not group or "/" in group:
            raise ReproError(f"{where}: group: must be a non-empty string without '/'")
        vals = obj.get("values")
        if not isinstance(vals, dict):
            raise ReproError(f"{where}: values: missing (a mapping measure -> number)")
        for measure in metrics[split]:
            if measure not in vals:
                raise ReproError(f"{where}: values.{measure}: missing (declared in command.metrics.{split})")
        if bad := sorted(set(vals) - set(metrics[split])):
            raise ReproError(f"{where}: values.{bad[0]}: not declared in command.metrics.{split}")
        slot = values.setdefault((split, group), {})
        if item in slot:
            raise ReproError(f"{where}: item: {json.dumps(item)} appears twice in split {split}, group {group}")
        slot[item] = {m: _number(v, f"{where}: values.{m}") for m, v in vals.items()}
    return values


def _aggregate(
    path: Path, values: dict[tuple[str, str], dict[Any, dict[str, float]]], metrics: dict[str, dict[str, str]]
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, dict[str, float]]], dict[str, np.ndarray]]:
    """The summary (macro average over groups), the tables (mean per group, and n) and the per-item arrays."""
    summary: dict[str, dict[str, float]] = {}
    tables: dict[str, dict[str, dict[str, float]]] = {}
    per_query: dict[str, np.ndarray] = {}
    for split, measures in metrics.items():
        groups = sorted(g for s, g in values if s == split)
        if not groups:
            raise ReproError(f"{path}: no item of split {split}; every declared split needs per-item values")
        tables[split] = {}
        for group in groups:
            slot = values[(split, group)]
            ids = list(slot)
            id_array = np.asarray(ids) if all(isinstance(x, int) for x in ids) else np.asarray([str(x) for x in ids])
            per_query[f"{split}/{group}/ids"] = id_array
            row: dict[str, float] = {}
            for m in measures:
                arr = np.asarray([slot[x][m] for x in ids], dtype=np.float64)
                per_query[f"{split}/{group}/{m}"] = arr
                row[m] = float(arr.mean())
            row["n"] = len(ids)
            tables[split][group] = row
        summary[split] = {m: float(np.mean([tables[split][g][m] for g in groups])) for m in measures}
    return summary, tables, per_query


def _check_stated_summary(where: str, stated: Any, summary: dict[str, dict[str, float]]) -> None:
    """A summary the program wrote must name declared measures and agree with the mean over its items."""
    if not isinstance(stated, dict):
        raise ReproError(f"{where}: summary: must be a mapping split -> measure -> number")
    for split, ms in stated.items():
        if split not in summary or not isinstance(ms, dict):
            raise ReproError(f"{where}: summary.{split}: not a declared split with a mapping of measures")
        for m, v in ms.items():
            if m not in summary[split]:
                raise ReproError(f"{where}: summary.{split}.{m}: not declared in command.metrics.{split}")
            got = _number(v, f"{where}: summary.{split}.{m}")
            mean = summary[split][m]
            if abs(got - mean) > 1e-6 * max(1.0, abs(mean)):
                raise ReproError(
                    f"{where}: summary.{split}.{m} is {got:.6g} but its items average {mean:.6g} "
                    "(the summary must be the mean over items, macro-averaged over groups)"
                )
