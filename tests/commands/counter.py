"""A stand-in for a user's training program, for the command-step tests (tests/test_command.py, tests/test_slurm.py).

    python counter.py --seed S --arm A --steps N --out DIR [--sleep SEC] [--fail CODE] [--break WHAT]

It "trains" for N steps, keeping a checkpoint in DIR (so a killed run resumes where it stopped),
then writes DIR/result.jsonl in repro's result format v1: splits ``train`` (items 0-29) and
``test`` (items 100-119, in groups ``odd`` and ``even``), with values that depend only on the seed,
the arm and the item (``value``), so a resumed run gives the numbers an uninterrupted one does.
``--break`` writes a malformed file instead (``version``, ``field``, ``summary``, ``nothing``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

OFFSET = {"a": 0.0, "b": 0.25}


def value(seed: int, arm: str, item: int, shift: float = 0.0) -> float:
    """A deterministic 'loss' of one item: arm b is 0.25 worse, ``shift`` makes odd items worse than
    even ones, plus a seed- and item-specific wobble."""
    wobble = 0.01 * ((seed * 7 + item * 13) % 11) + 0.001 * seed
    # An arm-specific part too, so that paired differences vary over items and seeds (an exact tie
    # would be "no variation: nothing measured", never decided).
    wobble += 0.003 * ((seed * 5 + item * 3 + 7 * sorted(OFFSET).index(arm)) % 4)
    return 1.0 + OFFSET[arm] + wobble + shift * (item % 2) * (1 + 0.1 * ((item * 3 + seed) % 5))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--arm", default="a")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--shift", type=float, default=0.0)
    p.add_argument("--fail", type=int, default=0)
    p.add_argument("--break", dest="broken", default="")
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    if a.fail:
        print(f"counter: giving up with code {a.fail}", file=sys.stderr)
        return a.fail
    a.out.mkdir(parents=True, exist_ok=True)
    ckpt = a.out / "checkpoint.json"
    state = json.loads(ckpt.read_text()) if ckpt.exists() else {"step": 0, "resumed_from": None}
    if ckpt.exists():
        state["resumed_from"] = state["step"]
    for step in range(state["step"], a.steps):
        time.sleep(a.sleep)
        state["step"] = step + 1
        ckpt.write_text(json.dumps(state))
        print(f"step {step + 1}/{a.steps}", flush=True)
    if a.broken == "nothing":
        return 0
    header = {
        "format": "repro-result",
        "version": 2 if a.broken == "version" else 1,
        "info": {"resumed_from": state["resumed_from"]},
    }
    lines = []
    for i in range(30):
        values = {"loss": value(a.seed, a.arm, i, a.shift)}
        if a.broken == "field" and i == 4:
            values = {"los": values["loss"]}
        lines.append({"split": "train", "item": i, "values": values})
    for i in range(100, 120):
        v = value(a.seed, a.arm, i, a.shift)
        lines.append(
            {
                "split": "test",
                "item": i,
                "group": "odd" if i % 2 else "even",
                "values": {"loss": v, "accuracy": float(v < 1.1)},
            }
        )
    if a.broken == "summary":
        header["summary"] = {"train": {"loss": 99.0}}
    (a.out / "result.jsonl").write_text("".join(json.dumps(x) + "\n" for x in [header, *lines]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
