"""Text support: does a source text say what a claim says, say otherwise, or not say it?

The machinery behind the ``text`` check kind (:mod:`repro.checks.text`), bottom to top:

- :mod:`~repro.checks.text_support.words`: word tokens (lower case, light stemming, no stop words);
- the contradiction cues, each a rule with a reason: :mod:`~repro.checks.text_support.polarity`
  (negations, opposite words), :mod:`~repro.checks.text_support.quantifiers` ("only", "all",
  closed lists), :mod:`~repro.checks.text_support.comparisons` (who beats whom),
  :mod:`~repro.checks.text_support.entity_match` (swapped names),
  :mod:`~repro.checks.text_support.numbers_match` (numbers, recomputed percentages);
- :mod:`~repro.checks.text_support.support_model`: the project's judge of one claim against one
  passage (the cues plus a calibrated support probability whose coefficients are
  ``support_model.json``, fitted and measured by bench/text_support_fit.py);
  :mod:`~repro.checks.text_support.nli_head` the offline NLI head on e5 embeddings;
  :mod:`~repro.checks.text_support.nli` the optional NLI cross-encoder judge (``--nli MODEL``);
- :mod:`~repro.checks.text_support.search`: passages of a document retrieved, judged and turned
  into one verdict (:func:`~repro.checks.text_support.search.find_support`).

No module here registers a check kind.
"""
