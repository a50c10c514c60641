"""Check kinds: one module per kind (see :mod:`repro.checks.base`)."""
