"""Metrics and exact search: per-query equality with trec_eval (pytrec_eval) and brute force."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_module

from repro.evaluation.metrics import (
    AP,
    NDCG,
    RR,
    RankDistance,
    Recall,
    evaluate,
    parse_measure,
    relevant_ranks,
    run_from_scores,
    to_trec,
    trec_docnos,
)
from repro.evaluation.search import Run, exact_search

pytrec_eval = require_module("pytrec_eval")

ATOL = 1e-12
# Our measure -> trec_eval measure on the same (untruncated) run.
TREC_EQUIVALENT = {
    AP(): "map",
    AP(10): "map_cut_10",
    Recall(1): "recall_1",
    Recall(10): "recall_10",
    Recall(100): "recall_100",
    NDCG(10): "ndcg_cut_10",
    NDCG(): "ndcg",
    RR(): "recip_rank",
}
TREC_MEASURES = {"map", "map_cut.10", "recall.1,10,100", "ndcg_cut.10", "ndcg", "recip_rank"}


def _trec(qrels: dict, run: dict, measures: set[str]) -> dict[str, dict[str, float]]:
    return pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)


def _random_qrels(rng: np.random.Generator, n_queries: int, n_cand: int) -> list[np.ndarray]:
    return [rng.choice(n_cand, size=rng.integers(1, 12), replace=False) for _ in range(n_queries)]


def _assert_matches_trec(run: Run, qrels: list[np.ndarray], docnos: list[str] | None) -> None:
    t_qrels, t_run = to_trec(run, qrels, docnos)
    ours = evaluate(run, qrels, list(TREC_EQUIVALENT) + [RR(10)])
    ref = _trec(t_qrels, t_run, TREC_MEASURES)
    # Every query has a relevant candidate and retrieves something, so trec_eval reports all.
    assert sorted(ref, key=int) == [str(q) for q in range(run.n_queries)]
    for measure, trec_name in TREC_EQUIVALENT.items():
        expected = np.array([ref[str(q)][trec_name] for q in range(run.n_queries)])
        np.testing.assert_allclose(ours[measure.name], expected, rtol=0, atol=ATOL, err_msg=measure.name)
    # MRR@10 is recip_rank on the run cut at 10.
    _, t_run10 = to_trec(run.truncate(10), qrels, docnos)
    ref10 = _trec(t_qrels, t_run10, {"recip_rank"})
    expected = np.array([ref10[str(q)]["recip_rank"] for q in range(run.n_queries)])
    np.testing.assert_allclose(ours["MRR@10"], expected, rtol=0, atol=ATOL)


def test_trec_eval_breaks_ties_by_docno_descending() -> None:
    # The empirical rule run_from_scores relies on: equal scores -> larger docno (strcmp) first.
    docnos = ["d1", "d2", "d10", "d3", "a", "b", "9", "10"]
    expected_order = sorted(docnos, reverse=True)  # d3 d2 d10 d1 b a 9 10
    for doc in docnos:
        res = _trec({"q": {doc: 1}}, {"q": dict.fromkeys(docnos, 1.0)}, {"recip_rank"})
        assert round(1 / res["q"]["recip_rank"]) == expected_order.index(doc) + 1
    run = run_from_scores(np.ones((1, len(docnos))), docnos)
    assert [docnos[i] for i in run.ids[0]] == expected_order


@pytest.mark.parametrize("depth", [None, 150, 40])
def test_measures_match_trec_eval_with_ties(depth: int | None) -> None:
    rng = np.random.default_rng(depth or 0)
    n_q, n_cand = 400, 300
    # Few distinct scores -> many ties, so trec_eval's tie rule decides much of the ranking.
    scores = rng.integers(0, 6, size=(n_q, n_cand)).astype(np.float32) / 4
    # Docnos of mixed length and prefix, so string order differs from index and numeric order.
    docnos = [f"{rng.choice(['D', 'doc', 'x'])}{v}" for v in rng.permutation(10 * n_cand)[:n_cand]]
    qrels = _random_qrels(rng, n_q, n_cand)
    run = run_from_scores(scores, docnos, k=depth)
    assert run.depth == (depth or n_cand)
    if depth is not None:
        assert (relevant_ranks(run, qrels).n_retrieved < [len(r) for r in qrels]).any()
    _assert_matches_trec(run, qrels, docnos)


def test_default_docnos_match_index_ascending_ties() -> None:
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 4, size=(300, 120)).astype(np.float32)
    qrels = _random_qrels(rng, 300, 120)
    run = run_from_scores(scores, k=60)  # ties by index ascending, as exact_search
    _assert_matches_trec(run, qrels, None)
    # trec_docnos: trec_eval's docno-descending order is index-ascending.
    names = trec_docnos(120)
    assert sorted(names, reverse=True) == names


def test_ragged_trec_run_from_dicts() -> None:
    rng = np.random.default_rng(2)
    n_q, n_cand = 300, 200
    docnos = [f"p{i}" for i in rng.permutation(n_cand)]
    t_run = {}
    for q in range(n_q):
        picked = rng.choice(n_cand, size=rng.integers(1, n_cand), replace=False)
        t_run[str(q)] = {docnos[i]: float(rng.integers(0, 5)) for i in picked}
    qrels = _random_qrels(rng, n_q, n_cand)
    run = run_from_scores([t_run[str(q)] for q in range(n_q)], docnos)
    assert (run.ids == -1).any()  # padded rows
    _assert_matches_trec(run, qrels, docnos)
    with pytest.raises(ValueError, match="docnos are required"):
        run_from_scores([{"a": 1.0}])
    with pytest.raises(ValueError, match="not in docnos"):
        run_from_scores([{"zz": 1.0}], docnos)


def test_relevant_ranks_brute_force_and_errors() -> None:
    rng = np.random.default_rng(3)
    n_q, n_cand, depth = 200, 500, 80
    ids = np.stack([rng.choice(n_cand, size=depth, replace=False) for _ in range(n_q)])
    ids[::7, 60:] = -1  # ragged depth
    run = Run(ids, np.zeros(ids.shape, dtype=np.float32))
    # Duplicated relevant ids and ids beyond any retrieved candidate must not break anything.
    qrels = [np.concatenate([r, r[:1], [n_cand + 5]]) for r in _random_qrels(rng, n_q, n_cand)]
    rr = relevant_ranks(run, qrels)
    for q in range(n_q):
        rel = set(qrels[q].tolist())
        expected = sorted(p + 1 for p, c in enumerate(ids[q]) if c in rel)
        assert rr.n_relevant[q] == len(rel)
        assert rr.ranks[q, : len(expected)].tolist() == expected
        assert np.isinf(rr.ranks[q, len(expected) :]).all()

    dup = ids.copy()
    dup[0, 1] = dup[0, 0]
    with pytest.raises(ValueError, match="more than once"):
        relevant_ranks(Run(dup, run.scores), [np.array([dup[0, 0]])] + qrels[1:])
    bad = ids.copy()
    bad[3, 2] = -2
    with pytest.raises(ValueError, match=">= 0"):
        relevant_ranks(Run(bad, run.scores), qrels)
    with pytest.raises(ValueError, match="queries"):
        relevant_ranks(run, qrels[:-1])


def _ranked(positions: list[int], n: int) -> tuple[Run, list[np.ndarray]]:
    """A one-query full ranking 0..n-1 where the relevant candidates sit at 1-based ``positions``."""
    ids = np.arange(n, dtype=np.int64)[None, :]
    return Run(ids, -ids.astype(np.float32)), [np.array([p - 1 for p in positions])]


def test_rank_distance_hand_cases() -> None:
    rd = RankDistance()
    run, qrels = _ranked([9, 1, 5], 10)
    assert evaluate(run, qrels, [rd])["rank distance"].tolist() == [8.0]
    # Same run, the other measures by hand: relevant at 1, 5, 9 of 3.
    vals = evaluate(run, qrels, ["mAP", "R@1", "R@10", "MRR@10", "nDCG@10"])
    assert vals["mAP"][0] == pytest.approx((1 / 1 + 2 / 5 + 3 / 9) / 3, abs=ATOL)
    assert vals["R@1"][0] == pytest.approx(1 / 3)
    assert vals["R@10"][0] == 1.0
    assert vals["MRR@10"][0] == 1.0
    ideal = 1 + 1 / np.log2(3) + 1 / np.log2(4)
    assert vals["nDCG@10"][0] == pytest.approx((1 + 1 / np.log2(6) + 1 / np.log2(10)) / ideal, abs=ATOL)

    run, qrels = _ranked([4], 10)
    assert evaluate(run, qrels, [rd])["rank distance"].tolist() == [0.0]

    # Ties: scores [.9, .5, .5, .5, .1] over candidates 0..4 rank ties by index, so the order is
    # 0 1 2 3 4 and relevant {3, 1} sit at ranks 4 and 2 -> distance 2. With all scores equal
    # the order is still 0..4, so relevant {4, 0} sit at 5 and 1 -> 4.
    run = run_from_scores(np.array([[0.9, 0.5, 0.5, 0.5, 0.1], [1, 1, 1, 1, 1]], dtype=np.float32))
    out = evaluate(run, [np.array([3, 1]), np.array([4, 0])], [rd])
    assert out["rank distance"].tolist() == [2.0, 4.0]
    # The same ties through exact_search: candidates 1..3 are identical vectors.
    cand = np.array([[3, 0], [1, 1], [1, 1], [1, 1], [0, 0]], dtype=np.float32)
    run = exact_search(np.array([[1, 1]], dtype=np.float32), cand)
    assert run.ids.tolist() == [[0, 1, 2, 3, 4]]
    assert evaluate(run, [np.array([3, 1])], [rd])["rank distance"].tolist() == [2.0]

    # Several queries; query 2 has no relevant candidate -> NaN (other measures give 0).
    ids = np.array([[4, 3, 2, 1, 0], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]])
    run = Run(ids, np.zeros(ids.shape, dtype=np.float32))
    out = evaluate(run, [np.array([0, 4]), np.array([2, 3, 1]), np.array([], dtype=np.int64)], [rd, AP()])
    np.testing.assert_array_equal(out["rank distance"], [4.0, 2.0, np.nan])
    assert out["mAP"][2] == 0.0

    # A truncated run cannot place every relevant candidate.
    run, qrels = _ranked([1, 5, 9], 10)
    with pytest.raises(ValueError, match="every relevant candidate"):
        evaluate(run.truncate(8), qrels, [rd])


def _brute_force(q: np.ndarray, c: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    s = q.astype(np.float64) @ c.astype(np.float64).T
    order = np.stack([np.lexsort((np.arange(len(c)), -row)) for row in s])[:, :k]
    return order, np.take_along_axis(s, order, axis=1)


@pytest.mark.parametrize("k", [None, 1, 7, 37, 199])
def test_exact_search_matches_brute_force_with_ties(k: int | None) -> None:
    rng = np.random.default_rng(4)
    # Small integer vectors: inner products are exact in float32 and tie very often, also
    # across the top-k cut (exercising the re-rank of straddling rows).
    c = rng.integers(-1, 2, size=(200, 6)).astype(np.float32)
    q = rng.integers(-1, 2, size=(70, 6)).astype(np.float32)
    run = exact_search(q, c, k=k, chunk=16)
    ids, scores = _brute_force(q, c, k or len(c))
    assert run.ids.dtype == np.int64 and run.scores.dtype == np.float32
    np.testing.assert_array_equal(run.ids, ids)
    np.testing.assert_array_equal(run.scores, scores)


def test_exact_search_real_valued_and_k_above_n() -> None:
    rng = np.random.default_rng(5)
    c = rng.standard_normal((300, 16)).astype(np.float32)
    q = rng.standard_normal((40, 16)).astype(np.float32)
    run = exact_search(q, c, k=10_000)
    assert run.ids.shape == (40, 300)
    assert (np.sort(run.ids, axis=1) == np.arange(300)).all()
    assert (np.diff(run.scores, axis=1) <= 0).all()
    s = q @ c.T
    assert (np.argmax(s, axis=1) == run.ids[:, 0]).all()
    with pytest.raises(ValueError):
        exact_search(q, c[:, :8])
    with pytest.raises(ValueError):
        exact_search(q, c, k=0)


def test_parse_measure() -> None:
    for m in [AP(), AP(5), Recall(1), Recall(100), RR(), RR(10), NDCG(), NDCG(10), RankDistance()]:
        assert parse_measure(m.name) == m
    assert parse_measure("ndcg@10") == NDCG(10)
    assert parse_measure(" Recall@ 20 ") == Recall(20)
    assert parse_measure("RankDistance") == parse_measure("RD") == RankDistance()
    with pytest.raises(ValueError, match="known measures: mAP.*nDCG@k.*rank distance"):
        parse_measure("P@10")
    with pytest.raises(ValueError, match="known measures"):
        parse_measure("nDCG@")
    with pytest.raises(ValueError, match="needs a cutoff"):
        parse_measure("R")
    with pytest.raises(ValueError, match="cutoff"):
        parse_measure("nDCG@0")
    with pytest.raises(ValueError, match="no cutoff"):
        parse_measure("rank distance@3")
    with pytest.raises(ValueError):
        Recall(0)
