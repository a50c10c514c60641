"""Benchmark repro's ranking metrics against pytrec_eval on an XQuAD-R-multilingual-sized run.

    python bench/bench_metrics.py [--json PATH] [--search-depth K] [--repeats N]

The synthetic setting mirrors XQuAD-R multilingual retrieval: 11 languages x 1,190 questions =
13,090 queries against ~13,000 candidate sentences (11 x 1,182), where each query's 11 parallel
copies of its answer sentence are relevant. Embeddings are random unit 384-d vectors with that
structure planted (topic + language offset + noise), searched exactly with faiss.

pytrec_eval cannot hold a 13k x 13k run in memory, so both evaluators see the same run cut at
``--trec-depth`` (1,000); when the run is deeper, our metrics are also timed on the full run,
rank distance included. :func:`bench` takes any :class:`Run` and qrels, e.g. a real one.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from repro.evaluation.metrics import AP, NDCG, RR, Measure, RankDistance, Recall, evaluate, relevant_ranks, to_trec
from repro.evaluation.search import Run, exact_search

MEASURES: tuple[Measure, ...] = (AP(), Recall(1), Recall(10), RR(10), NDCG(10), Recall(100))
# trec_eval names of MEASURES on the cut run; MRR@10 comes from recip_rank on the run cut at 10.
TREC_NAMES = {"mAP": "map", "R@1": "recall_1", "R@10": "recall_10", "nDCG@10": "ndcg_cut_10", "R@100": "recall_100"}
TREC_MEASURES = {"map", "recall.1,10,100", "ndcg_cut.10"}
TOLERANCE = 1e-12


def synthetic_multilingual(
    n_langs: int = 11,
    n_questions: int = 1190,
    n_sentences: int = 1182,
    dim: int = 384,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Queries [L*Qn, d], candidates [L*S, d] and qrels (the L parallel answer copies per query).

    Query ``l * n_questions + i`` asks question ``i`` in language ``l``; candidate
    ``l * n_sentences + s`` is sentence ``s`` in language ``l``.
    """
    rng = np.random.default_rng(seed)

    def unit(x: np.ndarray) -> np.ndarray:
        return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)

    topics = unit(rng.standard_normal((n_sentences, dim)))
    # Language offsets make same-language candidates score higher: the bias rank distance measures.
    langs = 0.35 * unit(rng.standard_normal((n_langs, dim)))
    answer = rng.integers(0, n_sentences, size=n_questions)  # questions may share an answer sentence
    noise = 1.0 / np.sqrt(dim)
    cands = unit(topics[None] + langs[:, None] + 2.0 * noise * rng.standard_normal((n_langs, n_sentences, dim)))
    queries = unit(
        topics[answer][None] + langs[:, None] + 2.5 * noise * rng.standard_normal((n_langs, n_questions, dim))
    )
    copies = np.arange(n_langs)[None, :] * n_sentences + answer[:, None]  # [Qn, L]
    qrels = [copies[i] for _ in range(n_langs) for i in range(n_questions)]
    return queries.reshape(-1, dim), cands.reshape(-1, dim), qrels


def _best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench(run: Run, qrels: Sequence[np.ndarray], trec_depth: int = 1000, repeats: int = 3) -> dict[str, Any]:
    """Time and cross-check our metrics against pytrec_eval on ``run`` cut at ``trec_depth``.

    Times are best of ``repeats``. pytrec_eval time = RelevanceEvaluator construction +
    evaluate for MEASURES (two evaluators: one on the cut run, one with recip_rank on the top
    10 for MRR@10); building its input dicts is timed separately. Ours = relevant_ranks + all
    MEASURES. If ``run`` is deeper than ``trec_depth`` our metrics are also timed on the full
    run (plus rank distance when every relevant candidate is ranked).

    Returns a JSON-serialisable dict; raises AssertionError if any per-query value differs by
    more than 1e-12.
    """
    import pytrec_eval  # test/bench dependency only

    cut = run.truncate(trec_depth) if run.depth > trec_depth else run
    out: dict[str, Any] = {
        "n_queries": run.n_queries,
        "run_depth": run.depth,
        "compared_depth": cut.depth,
        "relevant_per_query": float(np.mean([len(np.unique(r)) for r in qrels])),
        "repeats": repeats,
    }

    # Time the two steps of ours within each repeat, so the breakdown adds up to the total.
    t_ours, t_rr, ours = float("inf"), float("inf"), {}
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        rr = relevant_ranks(cut, qrels)
        t1 = time.perf_counter()
        ours = evaluate(rr, None, MEASURES)
        t2 = time.perf_counter()
        if t2 - t0 < t_ours:
            t_ours, t_rr = t2 - t0, t1 - t0

    def build() -> tuple[dict, dict, dict]:
        t_qrels, t_run = to_trec(cut, qrels)
        _, t_run10 = to_trec(cut.truncate(10), qrels)
        return t_qrels, t_run, t_run10

    t_dicts, (t_qrels, t_run, t_run10) = _best_time(build, 1)  # building is slow and deterministic

    def trec() -> tuple[dict, dict]:
        main = pytrec_eval.RelevanceEvaluator(t_qrels, TREC_MEASURES).evaluate(t_run)  # noqa: F821 (closure runs before the del below)
        mrr = pytrec_eval.RelevanceEvaluator(t_qrels, {"recip_rank"}).evaluate(t_run10)  # noqa: F821
        return main, mrr

    t_trec, (ref, ref10) = _best_time(trec, repeats)
    del t_run, t_run10

    qids = [str(q) for q in range(run.n_queries)]
    missing = [q for q in qids if q not in ref]
    if missing:
        raise AssertionError(f"pytrec_eval skipped {len(missing)} queries (no retrieved or no relevant candidates)")
    diffs: dict[str, float] = {}
    means: dict[str, dict[str, float]] = {}
    for m in MEASURES:
        if m.name == "MRR@10":
            expected = np.array([ref10[q]["recip_rank"] for q in qids])
        else:
            expected = np.array([ref[q][TREC_NAMES[m.name]] for q in qids])
        diffs[m.name] = float(np.max(np.abs(ours[m.name] - expected)))
        means[m.name] = {"ours": float(ours[m.name].mean()), "pytrec_eval": float(expected.mean())}
    out.update(
        seconds={
            "pytrec_eval_build_dicts": t_dicts,
            "pytrec_eval_evaluate": t_trec,
            "ours_total": t_ours,
            "ours_relevant_ranks": t_rr,
        },
        speedup=t_trec / t_ours,
        speedup_incl_dicts=(t_trec + t_dicts) / t_ours,
        max_abs_diff=diffs,
        means=means,
    )

    if run.depth > cut.depth:
        rr_full = relevant_ranks(run, qrels)
        full_measures = MEASURES + ((RankDistance(),) if (rr_full.n_retrieved == rr_full.n_relevant).all() else ())
        t_full, full = _best_time(lambda: evaluate(run, qrels, full_measures), repeats)
        out["seconds"]["ours_full_run"] = t_full
        out["full_run_measures"] = [m.name for m in full_measures]
        out["full_run_means"] = {k: float(v.mean()) for k, v in full.items()}

    worst = max(diffs.values())
    if worst > TOLERANCE:
        raise AssertionError(f"per-query values differ from pytrec_eval by up to {worst:.3g}: {diffs}")
    return out


def print_report(res: dict[str, Any]) -> None:
    """A small human-readable table of :func:`bench` results."""
    s = res["seconds"]
    print(
        f"\n{res['n_queries']} queries, {res['relevant_per_query']:.1f} relevant/query, "
        f"run depth {res['run_depth']}, compared at depth {res['compared_depth']}, best of {res['repeats']}"
    )
    print(f"\n{'measure':<10}{'ours':>10}{'pytrec_eval':>13}{'max |diff|':>13}")
    for name, mean in res["means"].items():
        print(f"{name:<10}{mean['ours']:>10.4f}{mean['pytrec_eval']:>13.4f}{res['max_abs_diff'][name]:>13.2e}")
    print(f"\n{'step':<48}{'seconds':>9}")
    print(f"{'pytrec_eval: build input dicts':<48}{s['pytrec_eval_build_dicts']:>9.3f}")
    print(f"{'pytrec_eval: RelevanceEvaluator + evaluate':<48}{s['pytrec_eval_evaluate']:>9.3f}")
    print(f"{'ours: relevant_ranks + all measures':<48}{s['ours_total']:>9.3f}")
    print(f"{'  of which relevant_ranks':<48}{s['ours_relevant_ranks']:>9.3f}")
    if "ours_full_run" in s:
        extra = " + rank distance" if "rank distance" in res["full_run_measures"] else ""
        label = f"ours: full run (k={res['run_depth']}){extra}"
        print(f"{label:<48}{s['ours_full_run']:>9.3f}")
    print(
        f"\nspeed-up vs pytrec_eval: {res['speedup']:.0f}x (evaluate only), {res['speedup_incl_dicts']:.0f}x (incl. dict building)"
    )
    if "full_run_means" in res:
        print("full-run means: " + ", ".join(f"{k} {v:.4f}" for k, v in res["full_run_means"].items()))


def main(argv: Sequence[str] | None = None) -> int:
    """Build the synthetic run, benchmark, print, optionally write JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", type=Path, help="write the numbers to this JSON file")
    p.add_argument(
        "--search-depth", type=int, default=None, help="candidates kept per query by the search (default: full ranking)"
    )
    p.add_argument("--trec-depth", type=int, default=1000, help="depth of the run both evaluators compare on")
    p.add_argument("--repeats", type=int, default=3, help="timings are the best of this many runs")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    queries, cands, qrels = synthetic_multilingual(seed=args.seed)
    run = exact_search(queries, cands, k=args.search_depth)
    t_search = time.perf_counter() - t0
    print(
        f"synthetic run: {len(queries)} queries x {len(cands)} candidates, depth {run.depth}, built in {t_search:.1f} s"
    )
    res = bench(run, qrels, trec_depth=args.trec_depth, repeats=args.repeats)
    res["n_candidates"] = len(cands)
    res["seconds"]["synthetic_search"] = t_search
    print_report(res)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
