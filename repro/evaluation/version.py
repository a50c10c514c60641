"""The version of the evaluation computation, part of every evaluation step's cache key.

A step's key is its resolved config + the checksums of its data + this number, never the source
text, so refactoring or formatting the code keeps every cached and published step valid. Bump
``EVAL_VERSION`` (by one) in the same commit as an edit that changes what an evaluation yields
for an unchanged model, config and data: its per-query values or its query ids (task loaders,
candidate pools, the limit's sampling, search, metrics, the encoder's pooling, truncation or
precision). ``tests/test_golden.py`` decides: it evaluates the base model on small tasks and
compares per-query values with ``tests/golden/eval.json``; when they differ, bump this and
re-record with ``python -m tests.test_golden --record``. A bump makes every evaluation step a
step to compute again (training steps stay valid).
"""

EVAL_VERSION = 1
