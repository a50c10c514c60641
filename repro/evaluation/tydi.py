"""TyDi-GoldP as monolingual question -> passage retrieval (MIRACL-style metrics).

Each language's questions are ranked against that language's distinct gold passages;
nDCG@10 and R@100 are the headline metrics, as for MIRACL in the paper's appendix.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from repro.data.tydi import check_languages, load_tydi_goldp
from repro.evaluation.declarations import declared
from repro.evaluation.metrics import evaluate
from repro.evaluation.result import TaskResult
from repro.evaluation.search import exact_search
from repro.models.encoder import Encoder


def evaluate_tydi(
    encoder: Encoder,
    langs: Sequence[str] | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> TaskResult:
    """The declared measures (nDCG@10, R@100, MRR@10, mAP) per language. ``limit`` keeps the first
    N questions (all passages stay: the candidate set is what makes the task hard)."""
    measures = declared("tydi-goldp").computed_measures()["mono"]
    languages = check_languages(list(langs) if langs is not None else None)
    table: dict[str, dict[str, float]] = {}
    per_query: dict[str, np.ndarray] = {}
    t0 = time.perf_counter()
    for lang in languages:
        data = load_tydi_goldp(lang)
        q = data.questions if limit is None else data.questions.select(range(min(limit, len(data.questions))))
        label = f"tydi {lang}" if progress else False
        q_emb = encoder.encode(q["question"], "query", progress=label)
        p_emb = encoder.encode(data.passages["passage"], "passage", progress=label)
        run = exact_search(q_emb, p_emb)
        values = evaluate(run, [np.array(g) for g in q["gold"]], measures)
        table[lang] = {**{k: float(v.mean()) for k, v in values.items()}, "n": len(q)}
        per_query[f"mono/{lang}/ids"] = np.array(q["id"])
        for k, v in values.items():
            per_query[f"mono/{lang}/{k}"] = v.astype(np.float32)
    names = [m.name for m in measures]
    summary = {"mono": {n: float(np.mean([r[n] for r in table.values()])) for n in names}}
    info = {
        "dataset": "tydi-goldp",
        "languages": languages,
        "limit": limit,
        "seconds": {"total": round(time.perf_counter() - t0, 2)},
    }
    return TaskResult(task="tydi-goldp", summary=summary, tables={"mono": table}, per_query=per_query, info=info)
