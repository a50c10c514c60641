"""A paired comparison's per-query differences, laid out as seed pairs x parallel items.

The statistic of a comparison is a weighted sum over languages of per-language mean differences::

    T_s = sum_l w_l * mean_{i in I_l} D_l[s, i]        T = mean_s T_s

for seed pair ``s`` (model A's seed s against model B's), language ``l`` with items ``I_l`` and
per-query differences ``D_l`` (A minus B). With ``w_l = 1 / L`` it is the macro average the paper
reports; with +-1/|group| weights it contrasts two groups of languages.

An *item* is what a benchmark draws once: a question with all its translations. XQuAD-R's ids
are ``lang:parallel_id`` and the parallel id names the item in every language; MLQA-R's likewise,
each item present in the languages that have that question. Ids without the ``lang:`` prefix
(TyDi-GoldP) or missing ids (positions) name language-specific items. Resampling or estimating
variance item by item keeps the translations of a question together, which matters because
their per-query gains correlate (r about 0.45 on XQuAD-R).

Items can nest in clusters (XQuAD-R's questions in the 48 Wikipedia articles they were written
on): ``clusters`` names each item's cluster, and :meth:`PairedDesign.cluster_influence` sums the
item contributions of a cluster, so that variance estimates resample whole articles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np


def item_key(lang: str, query_id: str) -> str:
    """The parallel item of query ``query_id`` of language ``lang``.

    ``"ar:56be..."`` -> ``"56be..."`` (shared by the question's translations); an id without the
    language prefix stays language-specific (``"ar|arabic-123"``).
    """
    prefix = f"{lang}:"
    return query_id[len(prefix) :] if query_id.startswith(prefix) else f"{lang}|{query_id}"


@dataclass(frozen=True)
class PairedDesign:
    """Per-query differences ``A - B`` per language, each row a seed pair, columns indexed into ``items``.

    ``values[lang]`` is ``(k, n_lang)``; ``index[lang]`` gives each column's position in ``items``
    (unique within a language); ``weights[lang]`` is the language's weight in the statistic.
    """

    langs: tuple[str, ...]
    seeds: tuple[Any, ...]
    items: tuple[str, ...]
    values: Mapping[str, np.ndarray]
    index: Mapping[str, np.ndarray]
    weights: Mapping[str, float]
    clusters: tuple[str, ...] | None = None

    @property
    def n_clusters(self) -> int:
        """Number of distinct item clusters (the items themselves when unclustered)."""
        return self.n_items if self.clusters is None else len(set(self.clusters))

    @property
    def n_seeds(self) -> int:
        """Number of seed pairs ``k``."""
        return len(self.seeds)

    @property
    def n_items(self) -> int:
        """Number of distinct parallel items ``N`` over all languages."""
        return len(self.items)

    @property
    def n_queries(self) -> int:
        """Number of (language, item) queries."""
        return int(sum(v.shape[1] for v in self.values.values()))

    def lang_means(self) -> dict[str, np.ndarray]:
        """Per language, the mean difference of each seed pair, ``(k,)``."""
        return {lang: self.values[lang].mean(axis=1) for lang in self.langs}

    def per_seed(self) -> np.ndarray:
        """``T_s`` for every seed pair, ``(k,)``."""
        means = self.lang_means()
        return np.sum([self.weights[lang] * means[lang] for lang in self.langs], axis=0)

    def estimate(self) -> float:
        """``T``, the mean of ``T_s`` over seed pairs."""
        return float(self.per_seed().mean())

    def influence(self) -> np.ndarray:
        """Centred item contributions ``z``, ``(k, N)``: ``T_s`` under an item resample is about
        ``T_s + mean_i (c_i - 1) z[s, i]`` for item counts ``c`` (the delta method for the
        per-language means, whose denominators change when items are redrawn)."""
        n = self.n_items
        z = np.zeros((self.n_seeds, n))
        for lang in self.langs:
            v = self.values[lang]
            dev = v - v.mean(axis=1, keepdims=True)
            z[:, self.index[lang]] += (n * self.weights[lang] / v.shape[1]) * dev
        return z

    def cluster_influence(self) -> np.ndarray:
        """Centred contributions of whole clusters, ``(k, C)``, scaled so that ``T_s`` under a
        cluster resample is about ``T_s + mean_c (m_c - 1) Z[s, c]`` (the item form, one level up).
        Without clusters: :meth:`influence`."""
        z = self.influence()
        if self.clusters is None:
            return z
        names = sorted(set(self.clusters))
        pos = {c: j for j, c in enumerate(names)}
        idx = np.array([pos[c] for c in self.clusters], dtype=np.int64)
        out = np.zeros((self.n_seeds, len(names)))
        for s in range(self.n_seeds):
            out[s] = np.bincount(idx, weights=z[s], minlength=len(names))
        return out * (len(names) / self.n_items)

    def clustered(self, cluster_of: Mapping[str, str] | None) -> PairedDesign:
        """This design with items nested in ``cluster_of[item]`` (items not in it: their own cluster)."""
        if cluster_of is None:
            return replace(self, clusters=None)
        return replace(self, clusters=tuple(str(cluster_of.get(item, f"item|{item}")) for item in self.items))

    def reweighted(self, weights: Mapping[str, float]) -> PairedDesign:
        """The same differences with other language weights (languages with no weight are dropped)."""
        langs = tuple(lang for lang in self.langs if lang in weights)
        return subset(self, langs, weights)


def subset(design: PairedDesign, langs: Sequence[str], weights: Mapping[str, float] | None = None) -> PairedDesign:
    """``design`` restricted to ``langs`` (items re-indexed to those the languages have)."""
    langs = tuple(langs)
    if not langs:
        raise ValueError("no languages")
    per_lang = {lang: [design.items[j] for j in design.index[lang]] for lang in langs}
    out = build_design(
        {lang: (np.array(per_lang[lang], dtype=object), design.values[lang]) for lang in langs},
        design.seeds,
        weights,
        keys_given=True,
    )
    if design.clusters is None:
        return out
    return out.clustered(dict(zip(design.items, design.clusters)))


def build_design(
    diffs: Mapping[str, tuple[np.ndarray | None, np.ndarray]],
    seeds: Sequence[Any],
    weights: Mapping[str, float] | None = None,
    keys_given: bool = False,
) -> PairedDesign:
    """A :class:`PairedDesign` from ``lang -> (query ids, (k, n) differences)``.

    Query ids are mapped to items with :func:`item_key` (``keys_given``: they already are item
    keys); ``None`` ids mean positions, one item per query. ``weights`` default to ``1 / L``.

    Raises:
        ValueError: no languages, seed rows that disagree with ``seeds``, ids that do not match
            the values or repeat within a language.
    """
    if not diffs:
        raise ValueError("no languages in the design")
    langs = tuple(sorted(diffs))
    k = len(seeds)
    w = dict(weights) if weights is not None else {lang: 1.0 / len(langs) for lang in langs}
    missing = [lang for lang in langs if lang not in w]
    if missing:
        raise ValueError(f"no weight for {missing}")
    keys: dict[str, list[str]] = {}
    values: dict[str, np.ndarray] = {}
    for lang in langs:
        ids, vals = diffs[lang]
        v = np.atleast_2d(np.asarray(vals, dtype=np.float64))
        if v.shape[0] != k:
            raise ValueError(f"{lang}: {v.shape[0]} seed rows for {k} seed pairs")
        if ids is None:
            ks = [f"{lang}|#{j}" for j in range(v.shape[1])]
        elif keys_given:
            ks = [str(x) for x in ids]
        else:
            ks = [item_key(lang, str(x)) for x in ids]
        if len(ks) != v.shape[1]:
            raise ValueError(f"{lang}: {len(ks)} ids for {v.shape[1]} values")
        if len(set(ks)) != len(ks):
            raise ValueError(f"{lang}: repeated query ids")
        if not ks:
            raise ValueError(f"{lang}: no queries")
        keys[lang], values[lang] = ks, v
    items = tuple(sorted(set().union(*keys.values())))
    pos = {key: j for j, key in enumerate(items)}
    index = {lang: np.array([pos[key] for key in keys[lang]], dtype=np.int64) for lang in langs}
    return PairedDesign(langs, tuple(seeds), items, values, index, {lang: float(w[lang]) for lang in langs})
