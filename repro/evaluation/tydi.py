"""TyDi-GoldP as monolingual question -> passage retrieval (MIRACL-style metrics).

Each language's questions are ranked against that language's distinct gold passages (a limited
task against a smaller pool, see :func:`tydi_pool`); nDCG@10 and R@100 are the headline metrics,
as for MIRACL in the paper's appendix.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from repro.data.tydi import TydiLanguage, check_languages, load_tydi_goldp
from repro.evaluation.declarations import declared
from repro.evaluation.metrics import evaluate
from repro.evaluation.result import TaskResult, macro_average
from repro.evaluation.search import exact_search
from repro.evaluation.subset import Subset, sample_positions
from repro.models.encoder import Encoder


def tydi_pool(data: TydiLanguage, subset: Subset) -> tuple[list[int], list[int], list[list[int]]]:
    """The rows a (limited) TyDi-GoldP language keeps: question rows, passage rows (the pool, in
    file order) and each kept question's gold passages as positions in that pool.

    A limited pool is the kept questions' gold passages plus ``subset.distractor_count`` other
    passages drawn like the questions (a seeded draw, or the first ones in file order).
    """
    lang = data.language
    q_rows = subset.take(data.questions["id"], f"tydi-goldp/{lang}/questions")
    gold = [data.questions["gold"][i] for i in q_rows]
    relevant = {g for gs in gold for g in gs}
    others = [i for i in range(len(data.passages)) if i not in relevant]
    count = subset.distractor_count(len(others))
    drawn = sample_positions(
        [data.passages["passage_id"][i] for i in others],
        count,
        subset.sample,
        subset.seed,
        f"tydi-goldp/{lang}/distractors",
    )
    p_rows = sorted(relevant | {others[i] for i in drawn})
    position = {row: k for k, row in enumerate(p_rows)}
    return q_rows, p_rows, [[position[g] for g in gs] for gs in gold]


def evaluate_tydi(
    encoder: Encoder,
    langs: Sequence[str] | None = None,
    subset: Subset | None = None,
    progress: bool = True,
) -> TaskResult:
    """The declared measures (nDCG@10, R@100, MRR@10, mAP) per language.

    A limited ``subset`` keeps N questions per language (a seeded draw, or the first N with
    ``sample="first"``) and shrinks the pool to their gold passages plus ``distractors`` others
    (default: as many as ``limit``; ``"all"``: every passage of the language), see
    :mod:`repro.evaluation.subset`.
    """
    subset = subset or Subset()
    measures = declared("tydi-goldp").computed_measures()["mono"]
    languages = check_languages(list(langs) if langs is not None else None)
    table: dict[str, dict[str, float]] = {}
    per_query: dict[str, np.ndarray] = {}
    pools: dict[str, int] = {}
    seconds = {"load": 0.0, "encode": 0.0, "search_and_metrics": 0.0}
    t0 = time.perf_counter()
    t = time.perf_counter()
    kept = {}
    for lang in languages:
        data = load_tydi_goldp(lang)
        kept[lang] = (data, *tydi_pool(data, subset))
    seconds["load"] = time.perf_counter() - t
    # One encode call per side for all languages: fuller forward passes (embeddings do not depend
    # on their batch).
    t = time.perf_counter()
    questions = [data.questions["question"][i] for data, q_rows, _, _ in kept.values() for i in q_rows]
    passages = [data.passages["passage"][i] for data, _, p_rows, _ in kept.values() for i in p_rows]
    q_all = encoder.encode(questions, "query", progress="tydi-goldp questions" if progress else False)
    p_all = encoder.encode(passages, "passage", progress="tydi-goldp passages" if progress else False)
    seconds["encode"] = time.perf_counter() - t
    t = time.perf_counter()
    q_at = p_at = 0
    for lang, (data, q_rows, p_rows, gold) in kept.items():
        q_emb, p_emb = q_all[q_at : q_at + len(q_rows)], p_all[p_at : p_at + len(p_rows)]
        q_at, p_at = q_at + len(q_rows), p_at + len(p_rows)
        run = exact_search(q_emb, p_emb)
        values = evaluate(run, [np.array(g) for g in gold], measures)
        table[lang] = {**{k: float(v.mean()) for k, v in values.items()}, "n": len(q_rows)}
        pools[lang] = len(p_rows)
        per_query[f"mono/{lang}/ids"] = np.array([data.questions["id"][i] for i in q_rows])
        for k, v in values.items():
            per_query[f"mono/{lang}/{k}"] = v.astype(np.float32)
    seconds["search_and_metrics"] = time.perf_counter() - t
    summary = {"mono": macro_average(table, [m.name for m in measures])}
    info = {
        "dataset": "tydi-goldp",
        "languages": languages,
        "limit": subset.limit,
        "subset": subset.describe(),
        "pool": {"mono": pools},
        "seconds": {"total": round(time.perf_counter() - t0, 2), **{k: round(v, 2) for k, v in seconds.items()}},
    }
    return TaskResult(task="tydi-goldp", summary=summary, tables={"mono": table}, per_query=per_query, info=info)
