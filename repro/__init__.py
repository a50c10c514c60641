"""repro: verify and reproduce claims from the literature with executable evidence."""

__version__ = "0.1.0"
