"""Retrieval evaluation: exact inner-product search (:mod:`.search`) and fast, exact
per-query ranking metrics that match trec_eval (:mod:`.metrics`)."""
