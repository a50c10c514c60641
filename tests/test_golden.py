"""Golden fingerprints: the numbers a tiny training run and a tiny evaluation produce.

A step's cache key is its config + data checksums + a version per step kind (``TRAIN_VERSION``,
``EVAL_VERSION``), not the code's source, so a refactor keeps every cached and published result
valid. The price is that an edit which changes the numbers must bump the version by hand; this
guard catches the edits that forget. It recomputes a tiny training run (a few optimizer steps
of e5-small) and tiny evaluations (the base model on small slices of XQuAD-R, Tatoeba and
TyDi-GoldP, as step payloads mean them) and compares them with ``tests/golden/{train,eval}.json``,
recorded at a stated version.

Re-record after an intended change (and after bumping the version)::

    python -m tests.test_golden --record          # both; or --record train / --record eval

Recording refuses to overwrite fingerprints whose numbers changed while the version did not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"

# Exact for everything discrete (ids, steps, counts); 1e-5 relative for floats. The fingerprints
# are fp32 on CPU and recomputed on whatever machine runs the suite: another CPU (AVX2 vs AVX-512
# kernels, AMD vs Intel: 1.2e-6 relative measured on the training fingerprint) or thread count
# sums in another order and moves the last bits, while a behaviour change (another batch, loss,
# learning rate, pooling, candidate) moves losses and metric values by 1e-4 or more. The absolute
# floor only matters around zero.
REL_TOL = 1e-5
ABS_TOL = 1e-12

# Tiny but real: the hybrid sampler at alpha 0.5, InfoNCE, AdamW with warm-up, frozen word
# embeddings, validation at steps 0 and 3. fp32 on CPU, pinned, because "auto" would pick bf16
# on a CPU with native bf16 and fingerprint another computation.
TRAIN_CONFIG: dict[str, Any] = {
    "model": "e5-small",
    "corpus": "xnli",
    "alpha": 0.5,
    "seed": 0,
    "steps": 3,
    "batch_size": 4,
    "max_length": 24,
    "eval_every": 3,
    "val_pairs": 8,
    "checkpoint_every": 0,
    "precision": "fp32",
    "device": "cpu",
    "holdout_languages": ["el", "vi"],
}
# The tensors whose change during training is fingerprinted (plus the total over all of them).
# Norms of the change, summed over millions of weights, are insensitive to last-bit noise but
# move with any change to the update; the frozen word embeddings must not move at all.
WATCHED = (
    "embeddings.word_embeddings.weight",
    "embeddings.LayerNorm.weight",
    "encoder.layer.0.attention.self.query.weight",
    "encoder.layer.11.output.dense.weight",
)

EVAL_ENCODER: dict[str, Any] = {"max_length": 64, "batch_size": 16, "precision": "fp32", "device": "cpu"}
# (name, task, languages, limit, subset entry of a step payload): small slices that still run every
# setting (Mo, Cr, Mul on XQuAD-R). None is the legacy subset (the first N, full pool) that every
# payload without a subset entry means - the committed results' - and a seeded draw beside it.
_DRAW = {"sample": "random", "seed": 0}
EVAL_TASKS: tuple[tuple[str, str, list[str], int, dict[str, Any] | None], ...] = (
    ("xquad-r first", "xquad-r", ["en", "de", "th"], 10, None),
    ("xquad-r random", "xquad-r", ["en", "de", "th"], 10, {**_DRAW, "distractors": None}),
    ("tatoeba first", "tatoeba", ["deu", "swh"], 20, None),
    ("tydi-goldp random", "tydi-goldp", ["sw"], 5, {**_DRAW, "distractors": 5}),
)


def _versions() -> dict[str, int]:
    from repro.evaluation.version import EVAL_VERSION
    from repro.training.version import TRAIN_VERSION

    return {"train": TRAIN_VERSION, "eval": EVAL_VERSION}


VERSION_NAME = {
    "train": "TRAIN_VERSION in repro/training/version.py",
    "eval": "EVAL_VERSION in repro/evaluation/version.py",
}


def train_fingerprint() -> dict[str, Any]:
    """Train the tiny config; its losses, best step and the size of the weights' change."""
    import torch
    from safetensors.torch import load_file

    from repro.models.registry import resolve_model
    from repro.training.trainer import TrainConfig, train

    config = TrainConfig(**TRAIN_CONFIG)
    losses: list[float] = []
    with tempfile.TemporaryDirectory(prefix="golden-train-") as tmp:
        summary = train(
            config, Path(tmp) / "run", progress=False, on_step=lambda step, loss, model: losses.append(loss)
        )
        trained = load_file(Path(tmp) / "run" / "model" / "model.safetensors")
    base = load_file(Path(resolve_model(config.model)) / "model.safetensors")
    assert trained.keys() == base.keys(), "the trained model's tensors differ from the base model's"
    norms: dict[str, float] = {}
    digest = hashlib.sha256()
    for name in sorted(base):
        # Unchanged tensors (the frozen word embeddings: 96M of 118M weights) cost no float64 copy.
        same = torch.equal(trained[name], base[name])
        norms[name] = 0.0 if same else float(torch.linalg.vector_norm(trained[name].double() - base[name].double()))
        digest.update(name.encode())
        digest.update(trained[name].contiguous().numpy().tobytes())
    return {
        "config": TRAIN_CONFIG,
        "numbers": {
            "train_loss": losses,
            "evals": [{"step": e["step"], "val_loss": e["val_loss"]} for e in summary["evals"]],
            "best_step": summary["best_step"],
            "steps_done": summary["steps_done"],
            "pairs_done": summary["pairs_done"],
            "delta_norm": {name: norms[name] for name in WATCHED},
            "delta_norm_total": math.sqrt(sum(n * n for n in norms.values())),
        },
        # Informational: equal on the recording machine, but other CPUs differ in the last bits.
        "weights_sha256": digest.hexdigest(),
    }


def eval_fingerprint() -> dict[str, Any]:
    """Evaluate the base model on the small slices; every per-query value and query id."""
    from repro.evaluation.subset import Subset
    from repro.evaluation.tasks import get_task
    from repro.models.encoder import Encoder

    encoder = Encoder("e5-small", **EVAL_ENCODER)
    tasks: dict[str, Any] = {}
    for name, task, langs, limit, subset in EVAL_TASKS:
        # As the runner evaluates a step: the payload's subset entry becomes the task's options.
        result = get_task(task).run(
            encoder=encoder, langs=langs, subset=Subset.from_payload(task, limit, subset), progress=False
        )
        tasks[name] = {
            "summary": result.summary,
            "per_query": {key: np.asarray(v).tolist() for key, v in sorted(result.per_query.items())},
        }
    return {
        "config": {"encoder": EVAL_ENCODER, "tasks": [list(t) for t in EVAL_TASKS]},
        "numbers": tasks,
    }


FINGERPRINTS = {"train": train_fingerprint, "eval": eval_fingerprint}


def differences(recorded: Any, current: Any, where: str = "") -> list[str]:
    """Where two fingerprints disagree: exact for ints, strings and structure; REL_TOL for floats."""
    if isinstance(recorded, dict) and isinstance(current, dict):
        out = [f"{where}/{k}: missing now" for k in recorded if k not in current]
        out += [f"{where}/{k}: new" for k in current if k not in recorded]
        for k in recorded:
            if k in current:
                out += differences(recorded[k], current[k], f"{where}/{k}")
        return out
    if isinstance(recorded, list) and isinstance(current, list):
        if len(recorded) != len(current):
            return [f"{where}: {len(recorded)} values recorded, {len(current)} now"]
        return [d for i, (a, b) in enumerate(zip(recorded, current)) for d in differences(a, b, f"{where}[{i}]")]
    if isinstance(recorded, float) and isinstance(current, float):
        if math.isclose(recorded, current, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return []
        return [f"{where}: {recorded!r} recorded, {current!r} now"]
    if type(recorded) is not type(current) or recorded != current:
        return [f"{where}: {recorded!r} recorded, {current!r} now"]
    return []


def golden_path(kind: str) -> Path:
    """The stored fingerprint of step kind ``kind``."""
    return GOLDEN_DIR / f"{kind}.json"


def check(kind: str, current: dict[str, Any]) -> str | None:
    """None if ``current`` matches the stored fingerprint of ``kind``, else the failure message."""
    path = golden_path(kind)
    rerecord = "re-record with `python -m tests.test_golden --record " + kind + "`"
    if not path.is_file():
        return f"no golden fingerprint {path}; {rerecord}"
    recorded = json.loads(path.read_text(encoding="utf-8"))
    version = _versions()[kind]
    if recorded["version"] != version:
        return (
            f"{VERSION_NAME[kind]} is {version} but {path.name} was recorded at {recorded['version']}; "
            f"{rerecord} (after checking the new numbers are the intended ones)"
        )
    if recorded["config"] != json.loads(json.dumps(current["config"])):
        return f"the golden {kind} config in tests/test_golden.py changed; {rerecord}"
    diffs = differences(recorded["numbers"], json.loads(json.dumps(current["numbers"])))
    if not diffs:
        return None
    shown = "; ".join(diffs[:5]) + (f"; ... {len(diffs) - 5} more" if len(diffs) > 5 else "")
    return (
        f"{kind} numbers changed without a version bump ({len(diffs)} differences: {shown}). "
        f"Cached and published {kind} steps would keep their keys but no longer match the code. If the "
        f"change is intended, bump {VERSION_NAME[kind]} and {rerecord}; otherwise it is a regression."
    )


def test_differences_are_exact_for_ids_and_tight_for_floats() -> None:
    assert differences({"a": [1, 0.5], "ids": ["x"]}, {"a": [1, 0.5 * (1 + 5e-6)], "ids": ["x"]}) == []
    assert differences({"a": [0.5]}, {"a": [0.5 * (1 + 2e-5)]}) == ["/a[0]: 0.5 recorded, 0.50001 now"]
    assert differences({"n": 3}, {"n": 4}) == ["/n: 3 recorded, 4 now"]
    assert differences({"n": 3}, {"n": 3.0}) == ["/n: 3 recorded, 3.0 now"]
    assert differences({"ids": ["a", "b"]}, {"ids": ["a", "c"]}) == ["/ids[1]: 'b' recorded, 'c' now"]
    assert differences({"v": [1.0, 2.0]}, {"v": [1.0]}) == ["/v: 2 values recorded, 1 now"]
    assert differences({"a": 1}, {"b": 1}) == ["/a: missing now", "/b: new"]


def test_changed_numbers_without_a_bump_fail_with_the_bump_instruction() -> None:
    recorded = json.loads(golden_path("eval").read_text(encoding="utf-8"))
    current = {"config": recorded["config"], "numbers": json.loads(json.dumps(recorded["numbers"]))}
    assert check("eval", current) is None
    current["numbers"]["xquad-r first"]["summary"]["mono"]["mAP"] *= 1.001
    message = check("eval", current)
    assert message is not None and "/xquad-r first/summary/mono/mAP" in message
    assert "bump EVAL_VERSION in repro/evaluation/version.py" in message
    assert "python -m tests.test_golden --record eval" in message


def test_training_matches_golden_fingerprint(fetched: None) -> None:
    message = check("train", train_fingerprint())
    assert message is None, message


def test_evaluation_matches_golden_fingerprint(fetched: None) -> None:
    message = check("eval", eval_fingerprint())
    assert message is None, message


def record(kinds: list[str], force: bool = False) -> int:
    """Recompute and store the fingerprints of ``kinds``; refuse a silent change unless ``force``."""
    import torch

    GOLDEN_DIR.mkdir(exist_ok=True)
    status = 0
    for kind in kinds:
        current = json.loads(json.dumps(FINGERPRINTS[kind]()))
        path = golden_path(kind)
        version = _versions()[kind]
        if path.is_file() and not force:
            old = json.loads(path.read_text(encoding="utf-8"))
            # Entries added to or removed from the golden config are not changes of the code's numbers.
            changed = [
                d for d in differences(old["numbers"], current["numbers"]) if not d.endswith(("missing now", ": new"))
            ]
            if old["version"] == version and changed:
                print(
                    f"{kind}: the numbers changed but {VERSION_NAME[kind]} is still {version}; bump it first "
                    "(or pass --force if the recorded numbers were wrong)",
                    file=sys.stderr,
                )
                status = 1
                continue
        current = {
            "version": version,
            "recorded_with": {
                "torch": torch.__version__,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "threads": torch.get_num_threads(),
            },
            **current,
        }
        path.write_text(json.dumps(current, indent=1) + "\n", encoding="utf-8")
        print(f"{kind}: recorded {path} at version {version}")
    return status


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.test_golden --record [train|eval]``."""
    parser = argparse.ArgumentParser(prog="python -m tests.test_golden", description=__doc__.splitlines()[0])
    parser.add_argument("--record", nargs="?", const="all", choices=["all", "train", "eval"], required=True)
    parser.add_argument("--force", action="store_true", help="overwrite even if the version did not change")
    args = parser.parse_args(argv)
    return record(list(FINGERPRINTS) if args.record == "all" else [args.record], force=args.force)


if __name__ == "__main__":
    sys.exit(main())
