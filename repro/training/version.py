"""The version of the training computation, part of every training step's cache key.

A step's key is its resolved config + the checksums of its data + this number, never the source
text, so refactoring or formatting the code keeps every cached and published step valid. Bump
``TRAIN_VERSION`` (by one) in the same commit as an edit that changes what a training run yields
for an unchanged config and data: its losses or its weights (sampler draws, loss, optimizer,
schedule, pooling, precision handling, the corpus loader's pairs, the embedded model's
conversion). ``tests/test_golden.py`` decides: it trains a tiny model and compares the numbers
with ``tests/golden/train.json``; when they differ, bump this and re-record with
``python -m tests.test_golden --record``. A bump makes every training step (and so every
evaluation of a trained model) a step to compute again.
"""

TRAIN_VERSION = 1
