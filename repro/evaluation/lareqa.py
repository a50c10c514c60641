"""Zero-shot answer retrieval on XQuAD-R and MLQA-R in the paper's three settings.

- monolingual (Mo): queries of X against the candidates of X, for every language X;
- cross-lingual (Cr): queries of X against the candidates of Y, every ordered pair X != Y,
  using the questions that exist in both (MLQA-R is only partly parallel);
- multilingual (Mul): queries of X against the union of all languages' candidates, where
  every parallel copy of the answer sentence is relevant; language bias is the rank distance
  (max - min rank of those copies).

Summaries are macro-averages: over languages (Mo, Mul) or ordered pairs (Cr).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from repro.data.lareqa import LareqaLanguage, check_languages, load_lareqa
from repro.evaluation.declarations import declared
from repro.evaluation.metrics import evaluate
from repro.evaluation.result import TaskResult, macro_average
from repro.evaluation.search import exact_search
from repro.evaluation.subset import Subset
from repro.models.encoder import Encoder

# The settings this module computes; which measures each reports is the task's declaration.
SETTINGS: tuple[str, ...] = ("mono", "cross", "multi")


class EncodedLanguage:
    """One language's questions and candidates, possibly restricted, and their embeddings."""

    def __init__(self, data: LareqaLanguage, keep: set[str] | None) -> None:
        q, c = data.questions, data.candidates
        q_rows = list(range(len(q))) if keep is None else [i for i, p in enumerate(q["parallel_id"]) if p in keep]
        gold = [q["gold"][i][0] for i in q_rows]
        if keep is None:
            c_rows = list(range(len(c)))
        else:
            # A smaller task keeps whole paragraphs: every sentence of a paragraph that holds an answer.
            paragraphs = {c["paragraph"][g] for g in gold}
            c_rows = [i for i, p in enumerate(c["paragraph"]) if p in paragraphs]
        remap = {old: new for new, old in enumerate(c_rows)}
        self.language = data.language
        self.ids = [q["id"][i] for i in q_rows]
        self.parallel_ids = [q["parallel_id"][i] for i in q_rows]
        self.questions = [q["question"][i] for i in q_rows]
        self.candidates = [c["sentence"][i] for i in c_rows]
        self.candidate_ids = [c["candidate_id"][i] for i in c_rows]
        self.gold_of = {pid: remap[g] for pid, g in zip(self.parallel_ids, gold)}
        self.q_emb = np.empty((0, 0), dtype=np.float32)
        self.c_emb = np.empty((0, 0), dtype=np.float32)


def _limited_ids(datas: list[LareqaLanguage], subset: Subset) -> set[str] | None:
    """The parallel ids a limited task keeps, the same in every language so it stays parallel."""
    if subset.limit is None:
        return None
    if subset.sample == "first":
        # The first ``limit`` ids of the language with most questions (English on MLQA-R).
        pivot = max(datas, key=lambda d: len(d.questions))
        return set(pivot.questions["parallel_id"][: subset.limit])
    # A seeded draw over every id of the selected languages (on MLQA-R, whose languages share only
    # part of their ids, the union: English's ids when English is selected).
    population = sorted({p for d in datas for p in d.questions["parallel_id"]})
    return {population[i] for i in subset.take(population, f"{datas[0].dataset}/parallel_ids")}


def _score(values: dict[str, np.ndarray]) -> dict[str, float]:
    return {name: float(v.mean()) if len(v) else float("nan") for name, v in values.items()}


def select_lareqa(dataset: str, langs: Sequence[str] | None, subset: Subset) -> list[EncodedLanguage]:
    """Load the selected languages and keep what ``subset`` keeps (nothing encoded yet)."""
    languages = check_languages(dataset, list(langs) if langs is not None else None)
    datas = [load_lareqa(dataset, lang) for lang in languages]
    keep = _limited_ids(datas, subset)
    return [EncodedLanguage(d, keep) for d in datas]


def encode_lareqa(
    encoder: Encoder,
    dataset: str,
    langs: Sequence[str] | None = None,
    subset: Subset | None = None,
    progress: bool = True,
) -> list[EncodedLanguage]:
    """Load and encode the questions and candidates of every selected language.

    A limited ``subset`` keeps N parallel questions, a seeded random draw (``sample="random"``) or
    the first ones in file order (``"first"``), and the paragraphs holding their answers
    (:mod:`repro.evaluation.subset`): a smaller, faster task whose numbers are not comparable with
    the full one.
    """
    langs_data = select_lareqa(dataset, langs, subset or Subset())
    embed_languages(encoder, dataset, langs_data, progress)
    return langs_data


def embed_languages(encoder: Encoder, dataset: str, langs_data: list[EncodedLanguage], progress: bool) -> None:
    """Fill every language's ``q_emb`` and ``c_emb``: one encode call per side for all languages
    (the encoder batches texts of equal padded length, and more texts per call mean fuller forward
    passes; an embedding does not depend on its batch)."""
    questions = encoder.encode(
        [t for ld in langs_data for t in ld.questions], "query", progress=f"{dataset} questions" if progress else False
    )
    candidates = encoder.encode(
        [t for ld in langs_data for t in ld.candidates],
        "passage",
        progress=f"{dataset} candidates" if progress else False,
    )
    q_at = c_at = 0
    for ld in langs_data:
        ld.q_emb, ld.c_emb = questions[q_at : q_at + len(ld.questions)], candidates[c_at : c_at + len(ld.candidates)]
        q_at, c_at = q_at + len(ld.questions), c_at + len(ld.candidates)


def multilingual_pool(langs_data: list[EncodedLanguage]) -> tuple[np.ndarray, list[list[np.ndarray]]]:
    """The union of all languages' candidates, and for each language's queries the rows of every
    parallel copy of their answer in that union (the multilingual setting's relevance)."""
    offsets = np.cumsum([0] + [len(ld.candidates) for ld in langs_data])
    pool = np.concatenate([ld.c_emb for ld in langs_data])
    qrels = [
        [
            np.array([offsets[j] + y.gold_of[p] for j, y in enumerate(langs_data) if p in y.gold_of])
            for p in x.parallel_ids
        ]
        for x in langs_data
    ]
    return pool, qrels


def evaluate_lareqa(
    encoder: Encoder,
    dataset: str,
    langs: Sequence[str] | None = None,
    subset: Subset | None = None,
    settings: Sequence[str] = SETTINGS,
    progress: bool = True,
) -> TaskResult:
    """Evaluate ``encoder`` on ``xquad-r`` or ``mlqa-r`` (see :func:`encode_lareqa` for ``subset``;
    a limited pool is the answers' paragraphs, so distractors do not apply)."""
    subset = (subset or Subset()).check(dataset)
    t0 = time.perf_counter()
    langs_data = select_lareqa(dataset, langs, subset)
    load_s = time.perf_counter() - t0
    embed_languages(encoder, dataset, langs_data, progress)
    encode_s = time.perf_counter() - t0 - load_s
    result = score_lareqa(langs_data, dataset, settings)
    result.info["limit"] = subset.limit
    result.info["subset"] = subset.describe()
    result.info["seconds"].update({"load": round(load_s, 2), "encode": round(encode_s, 2)})
    return result


def score_lareqa(langs_data: list[EncodedLanguage], dataset: str, settings: Sequence[str] = SETTINGS) -> TaskResult:
    """Search and score already-encoded languages in the requested settings, with the measures
    the task declares for each (:mod:`repro.evaluation.declarations`)."""
    measures = declared(dataset).computed_measures()
    summary: dict[str, dict[str, float]] = {}
    tables: dict[str, dict[str, dict[str, float]]] = {}
    per_query: dict[str, np.ndarray] = {}
    # Candidates searched per setting and row: a figure means little without the pool it ranks in.
    pools: dict[str, dict[str, int]] = {}

    def record(setting: str, row: str, ids: list[str], values: dict[str, np.ndarray], pool: int) -> None:
        tables.setdefault(setting, {})[row] = {**_score(values), "n": len(ids)}
        pools.setdefault(setting, {})[row] = pool
        per_query[f"{setting}/{row}/ids"] = np.array(ids)
        for name, v in values.items():
            per_query[f"{setting}/{row}/{name}"] = v.astype(np.float32)

    t0 = time.perf_counter()
    if "mono" in settings:
        for ld in langs_data:
            run = exact_search(ld.q_emb, ld.c_emb)
            qrels = [np.array([ld.gold_of[p]]) for p in ld.parallel_ids]
            record("mono", ld.language, ld.ids, evaluate(run, qrels, measures["mono"]), len(ld.candidates))

    if "cross" in settings:
        for x in langs_data:
            for y in langs_data:
                if x is y:
                    continue
                rows = [i for i, p in enumerate(x.parallel_ids) if p in y.gold_of]
                if not rows:
                    continue
                run = exact_search(x.q_emb[rows], y.c_emb)
                qrels = [np.array([y.gold_of[x.parallel_ids[i]]]) for i in rows]
                values = evaluate(run, qrels, measures["cross"])
                record("cross", f"{x.language}-{y.language}", [x.ids[i] for i in rows], values, len(y.candidates))

    if "multi" in settings:
        pool, all_qrels = multilingual_pool(langs_data)
        for x, qrels in zip(langs_data, all_qrels):
            values = evaluate(exact_search(x.q_emb, pool), qrels, measures["multi"])
            record("multi", x.language, x.ids, values, len(pool))
    search_s = time.perf_counter() - t0

    for setting, rows in tables.items():
        summary[setting] = macro_average(rows)

    info = {
        "dataset": dataset,
        "languages": [ld.language for ld in langs_data],
        "settings": [s for s in SETTINGS if s in settings],
        "n_questions": {ld.language: len(ld.ids) for ld in langs_data},
        "n_candidates": {ld.language: len(ld.candidates) for ld in langs_data},
        "pool": pools,
        "seconds": {"search_and_metrics": round(search_s, 2)},
    }
    return TaskResult(task=dataset, summary=summary, tables=tables, per_query=per_query, info=info)
