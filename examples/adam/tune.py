"""Choose each optimiser's learning rate as the paper did: a grid, keeping the best training cost.

Kingma & Ba (Sec. 6) search hyper-parameters over a dense grid and report the best setting. Here:
a coarse grid per optimiser and model, the final training cost after ``--epochs`` epochs, the
mean over seeds 100, 101 and 102 (seeds the verified runs, 0-4, never use, so the choice does not
select on their noise). Prints a table and the best rate per (model, optimiser); train.py's
``LEARNING_RATES`` holds the result.

    OMP_NUM_THREADS=1 python examples/adam/tune.py
"""

from __future__ import annotations

import argparse

import numpy as np
from train import OPTIMISERS, train

GRID = {
    "adam": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    "sgd-nesterov": (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
    "adagrad": (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=45)
    parser.add_argument("--hidden", type=int, default=128)
    args = parser.parse_args()
    for model in ("logreg", "mlp"):
        for opt in OPTIMISERS:
            costs = {}
            for lr in GRID[opt]:
                try:
                    runs = [train(model, opt, s, args.epochs, 5, args.hidden, lr)["curve"][-1] for s in (100, 101, 102)]
                    costs[lr] = float(np.mean(runs))
                except FloatingPointError:
                    costs[lr] = float("inf")
            best = min(costs, key=costs.get)
            cells = "  ".join(f"{lr:g}: {c:.4f}" for lr, c in costs.items())
            print(f"{model:6} {opt:12} best {best:g}   {cells}", flush=True)


if __name__ == "__main__":
    main()
