"""Tatoeba bitext retrieval: for each pair, is the nearest neighbour of a sentence its translation?

Accuracy is index-based, as in LASER and XTREME: a retrieved sentence counts as correct only if
it is the aligned line, even when another line has the same text.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from repro.data.tatoeba import check_languages, load_tatoeba
from repro.evaluation.result import TaskResult, macro_average
from repro.evaluation.search import exact_search
from repro.evaluation.subset import Subset
from repro.models.encoder import Encoder

# Languages whose sentences go to the encoder in one call (16 x 1,000 pairs: ~50 MB of vectors).
_LANGUAGES_PER_CALL = 16


def _accuracy(queries: np.ndarray, targets: np.ndarray) -> np.ndarray:
    run = exact_search(queries, targets, k=1)
    return (run.ids[:, 0] == np.arange(len(queries))).astype(np.float32)


def evaluate_tatoeba(
    encoder: Encoder,
    langs: Sequence[str] | None = None,
    subset: Subset | None = None,
    progress: bool = True,
) -> TaskResult:
    """Accuracy xx->en and en->xx for each language (both sides encoded as queries, as in bitext mining).

    A limited ``subset`` keeps N pairs per language (a seeded draw, or the first N with
    ``sample="first"``); each side is then searched against the other side's N sentences (so
    distractors do not apply).
    """
    subset = (subset or Subset()).check("tatoeba")
    languages = check_languages(list(langs) if langs is not None else None)
    pools: dict[str, int] = {}
    table: dict[str, dict[str, float]] = {}
    per_query: dict[str, np.ndarray] = {}
    t0 = time.perf_counter()
    for start in range(0, len(languages), _LANGUAGES_PER_CALL):
        chunk = languages[start : start + _LANGUAGES_PER_CALL]
        pairs = {}
        for lang in chunk:
            ds = load_tatoeba(lang)
            if subset.limit is not None:
                ds = ds.select(subset.take(ds["index"], f"tatoeba/{lang}"))
            pairs[lang] = ds
            pools[lang] = len(ds)
        # Bitext mining is symmetric: both sides get the query prefix, as E5 recommends for
        # symmetric tasks. Both sides of several languages go in one call: fuller forward passes.
        texts = [t for ds in pairs.values() for t in (*ds["text"], *ds["english"])]
        label = f"tatoeba {chunk[0]}..{chunk[-1]}" if progress else False
        vectors = encoder.encode(texts, "query", progress=label)
        at = 0
        for lang, ds in pairs.items():
            xx, en = vectors[at : at + len(ds)], vectors[at + len(ds) : at + 2 * len(ds)]
            at += 2 * len(ds)
            to_en, from_en = _accuracy(xx, en), _accuracy(en, xx)
            table[lang] = {"xx->en": float(to_en.mean()), "en->xx": float(from_en.mean()), "n": len(ds)}
            per_query[f"bitext/{lang}/xx->en"] = to_en
            per_query[f"bitext/{lang}/en->xx"] = from_en
            # The pair's line in the language's file: the same pair has the same id in every model's
            # result and under every limit, so checks pair per-query values across models on it.
            # Tatoeba is not parallel across languages (each file has its own English lines): the
            # ids name language-specific items.
            per_query[f"bitext/{lang}/ids"] = np.asarray(ds["index"], dtype=np.int64)
    summary = {"bitext": macro_average(table, ["xx->en", "en->xx"])}
    summary["bitext"]["mean"] = (summary["bitext"]["xx->en"] + summary["bitext"]["en->xx"]) / 2
    info = {
        "dataset": "tatoeba",
        "languages": languages,
        "limit": subset.limit,
        "subset": subset.describe(),
        "pool": {"bitext": pools},
        "seconds": {"total": round(time.perf_counter() - t0, 2)},
    }
    return TaskResult(task="tatoeba", summary=summary, tables={"bitext": table}, per_query=per_query, info=info)
