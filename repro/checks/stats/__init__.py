"""The statistics behind verdicts: paired designs over seeds and parallel items, and the tests on them.

- :mod:`.design`: per-query differences of a paired comparison as seeds x parallel items;
- :mod:`.seed_test`: the seed-level t-test whose variance includes the item variance, and the
  decision rule (>= 3 seed pairs to be decisive);
- :mod:`.power`: how many seeds would decide an inconclusive comparison;
- :mod:`.family`: Holm's step-down adjustment for claims with several arms or checks;
- :mod:`.groups`: comparisons with languages as units (group difference, regression on class).
- :mod:`.logistic`: the weighted L2 logistic solver of every fitted score (text support, extraction);
- :mod:`.reliability`: confidence bins and calibration error, shared by those scores' evaluations.

The method and its calibration are documented in ``docs/statistics.md``.
"""
