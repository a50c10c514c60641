"""Re-stamp published results with today's step keys when the key's form changed but the numbers did not.

Keys change for two reasons. A version bump (``TRAIN_VERSION``, ``EVAL_VERSION``) says the numbers
change: published steps must be computed again, and this tool refuses them. A change of how keys
are formed (a payload field renamed, precision resolved, a legacy key from the time keys hashed
source code) leaves the numbers as they are: after showing that (recompute one step and compare,
and ``tests/test_golden.py`` passing without a bump), stamp the new keys in place::

    python -m repro.runner.rekey experiments/hybrid-sweep.yaml --profile full [--results DIR] [--check]

Each published file is re-stamped only if its recorded config, resolved precision and data
checksums equal the planned step's; nothing but the key fields and the config's spelling changes.
A result recorded at an older version is refused unless ``--allow-older-version``: for a bump
that changed other configs' numbers but provably not these (recompute one of them and compare).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from repro.atomic import atomic_write_text
from repro.errors import ReproError
from repro.integrity import file_sha256, sealed_text
from repro.runner.experiment import Experiment, load_experiment, point_label
from repro.runner.published import published_path, published_record
from repro.runner.store import step_version
from repro.runner.sweep import Step, plan


def _train_config(record: dict[str, Any]) -> dict[str, Any]:
    """A published training config with "auto" precision replaced by what it resolved to."""
    config = dict(record.get("config") or {})
    resolved = (record.get("summary") or {}).get("precision")
    if config.get("precision") == "auto" and resolved:
        config["precision"] = resolved
    return config


def _mismatch(step: Step, record: dict[str, Any], train_steps: dict[str, Step], older: bool) -> str | None:
    """Why ``record`` is not the published result of ``step`` (None if it is)."""
    version = record.get("step_version")
    if version is not None and version != step_version(step.kind) and not (older and version < step_version(step.kind)):
        return f"computed at {step.kind} version {version}, the code is at {step_version(step.kind)}: recompute it"
    p = step.payload
    if step.kind == "train":
        return None if _train_config(record) == p["config"] else "its training config differs from the plan's"
    config = dict(record.get("config") or {})
    if config.get("precision") == "auto":
        config["precision"] = (record.get("model") or {}).get("precision")
    planned = {k: v for k, v in p.items() if k != "data"}
    if step.depends_on:
        train = record.get("train") or {}
        if (
            _train_config({"config": train.get("config"), "summary": train.get("summary")})
            != (train_steps[step.depends_on].payload["config"])
        ):
            return "the config of the model it evaluated differs from the plan's"
        config["model"] = planned["model"]
    if config != planned:
        return "its evaluation config differs from the plan's"
    if record.get("data_checksums") != p["data"]:
        return "its data checksums differ from the plan's"
    return None


def rekey(exp: Experiment, results_dir: Path, write: bool = True, allow_older_version: bool = False) -> list[str]:
    """Re-stamp every published step of ``exp`` in ``results_dir``; return one line per step.

    Raises:
        ReproError: a published result that does not match its planned step (nothing is written).
    """
    steps = plan(exp)
    train_steps = {s.key: s for s in steps if s.kind == "train"}
    updates: list[tuple[Path, dict[str, Any]]] = []
    lines = []
    for step in steps:
        where = f"{point_label(step.point)}/{'train' if step.kind == 'train' else step.task}"
        record = published_record(results_dir, step.kind, step.point, step.task)
        if record is None:
            lines.append(f"not published  {where}")
            continue
        if record.get("step") == step.key:
            lines.append(f"current        {where}  {step.key}")
            continue
        if why := _mismatch(step, record, train_steps, allow_older_version):
            raise ReproError(f"{results_dir}/{where}: not re-keyed: {why}")
        old = record.get("step")
        record.pop("code_version", None)
        record.update({"step": step.key, "step_version": step_version(step.kind)})
        if step.kind == "train":
            record["config"] = step.payload["config"]
        else:
            record["config"] = {k: v for k, v in step.payload.items() if k != "data"}
            if step.depends_on:
                record["train"]["step"] = step.depends_on
                record["train"]["config"] = train_steps[step.depends_on].payload["config"]
        updates.append((published_path(results_dir, step.kind, step.point, step.task), record))
        lines.append(f"re-keyed       {where}  {old} -> {step.key}")
    if write:
        for path, record in updates:
            # Sealed again: the key fields changed, so the record's own hash does too.
            per_query = record.get("per_query_file")
            files = {per_query: file_sha256(path.parent / per_query)} if isinstance(per_query, str) else {}
            atomic_write_text(path, sealed_text(record, files))
    return lines


def main(argv: list[str] | None = None) -> int:
    """``python -m repro.runner.rekey EXPERIMENT --profile P [--results DIR] [--check]``."""
    parser = argparse.ArgumentParser(prog="python -m repro.runner.rekey", description=__doc__.splitlines()[0])
    parser.add_argument("experiment", type=Path)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--results", type=Path, default=None, help="default: results/<experiment>/<profile>")
    parser.add_argument("--check", action="store_true", help="only report what would be re-keyed")
    parser.add_argument(
        "--allow-older-version", action="store_true", help="also re-key results of an older version (see above)"
    )
    args = parser.parse_args(argv)
    try:
        exp = load_experiment(args.experiment, args.profile)
        results_dir = args.results or Path("results") / exp.name / args.profile
        for line in rekey(exp, results_dir, write=not args.check, allow_older_version=args.allow_older_version):
            print(line)
    except ReproError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
