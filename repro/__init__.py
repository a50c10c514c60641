"""repro: verify and reproduce claims from the literature with executable evidence."""

import os

# MKL's strict conditional numerical reproducibility: a GEMM's rows come out bit-identical
# whatever the matrix height and thread split. Without it, MKL on some CPUs (measured on an
# AMX Xeon, 2 threads) sums a 1536-wide product in another order for 64-192 rows than for 32 or
# 256, so an embedding would depend on its batch and cached vectors would not equal fresh ones.
# Read when MKL makes its first call, so it is set on import, before any computation; a value the
# user set wins.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

__version__ = "0.1.0"
