"""The evaluation pipeline on real data with the real encoder, checked against independent code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from repro.data.lareqa import load_lareqa
from repro.evaluation.lareqa import encode_lareqa, evaluate_lareqa, score_lareqa
from repro.evaluation.result import load_per_query
from repro.evaluation.tasks import run_task


@pytest.fixture(scope="module")
def xquad_small(encoder):
    return encode_lareqa(encoder, "xquad-r", ["en", "de", "th"], limit=40, progress=False)


def test_multilingual_setting_matches_pytrec_eval(xquad_small) -> None:
    """Build the multilingual qrels independently (parallel id -> answer sentence in every
    language, by candidate id) and score a brute-force numpy ranking with trec_eval."""
    import pytrec_eval

    result = score_lareqa(xquad_small, "xquad-r", settings=("multi",))
    docnos = [cid for ld in xquad_small for cid in ld.candidate_ids]
    pool = np.concatenate([ld.c_emb for ld in xquad_small])
    gold_docno = {}
    for ld in xquad_small:
        full = load_lareqa("xquad-r", ld.language)
        cid = full.candidates["candidate_id"]
        for pid, g in zip(full.questions["parallel_id"], full.questions["gold"]):
            gold_docno.setdefault(pid, []).append(cid[g[0]])
    for ld in xquad_small:
        scores = ld.q_emb.astype(np.float64) @ pool.T.astype(np.float64)
        run = {qid: {d: float(s) for d, s in zip(docnos, row)} for qid, row in zip(ld.ids, scores)}
        qrels = {qid: {d: 1 for d in gold_docno[pid]} for qid, pid in zip(ld.ids, ld.parallel_ids)}
        trec = pytrec_eval.RelevanceEvaluator(qrels, {"map", "ndcg_cut_10", "recall_10"}).evaluate(run)
        pq = result.per_query
        ids = list(pq[f"multi/{ld.language}/ids"])
        for name, key in (("mAP", "map"), ("nDCG@10", "ndcg_cut_10"), ("R@10", "recall_10")):
            expected = np.array([trec[q][key] for q in ids])
            np.testing.assert_allclose(pq[f"multi/{ld.language}/{name}"], expected, atol=2e-6)
        # Rank distance by hand: ranks of the gold copies in a full argsort.
        order = np.argsort(-scores, axis=1, kind="stable")
        position = np.empty_like(order)
        rows = np.arange(len(order))[:, None]
        position[rows, order] = np.arange(order.shape[1])[None, :] + 1
        col = {d: i for i, d in enumerate(docnos)}
        rd = [np.ptp([position[i, col[d]] for d in gold_docno[p]]) for i, p in enumerate(ld.parallel_ids)]
        np.testing.assert_array_equal(pq[f"multi/{ld.language}/rank distance"], np.array(rd, dtype=np.float32))


def test_one_language_multilingual_equals_monolingual(xquad_small) -> None:
    en = [xquad_small[0]]
    r = score_lareqa(en, "xquad-r", settings=("mono", "multi"))
    for m in ("mAP", "R@1", "R@10", "MRR@10", "nDCG@10"):
        np.testing.assert_array_equal(r.per_query[f"mono/en/{m}"], r.per_query[f"multi/en/{m}"])
    assert float(r.per_query["multi/en/rank distance"].max()) == 0.0


def test_summary_is_macro_average_and_per_query_round_trips(xquad_small, tmp_path: Path) -> None:
    r = score_lareqa(xquad_small, "xquad-r")
    assert len(r.tables["cross"]) == 6  # ordered pairs of 3 languages
    for setting, rows in r.tables.items():
        assert r.summary[setting]["mAP"] == pytest.approx(np.mean([row["mAP"] for row in rows.values()]))
    path = r.save(tmp_path / "res.json")
    saved = json.loads(path.read_text())
    pq = load_per_query(path)
    for setting, rows in saved["tables"].items():
        for row, vals in rows.items():
            assert vals["mAP"] == pytest.approx(float(pq[f"{setting}/{row}/mAP"].mean()), abs=1e-6)
            assert vals["n"] == len(pq[f"{setting}/{row}/ids"])
    # A real encoder retrieves the answer sentence far above chance (1 in ~200 candidates).
    assert r.summary["mono"]["mAP"] > 0.5
    assert r.summary["multi"]["mAP"] < r.summary["mono"]["mAP"]


class HashEncoder:
    """Deterministic pseudo-embeddings: enough to test which questions meet which candidates."""

    def encode(self, texts, kind, batch_size=None, progress=False) -> np.ndarray:
        rows = [np.random.default_rng(abs(hash((kind, t))) % 2**32).standard_normal(16) for t in texts]
        x = np.asarray(rows, dtype=np.float32).reshape(len(texts), 16)
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_mlqa_cross_pairs_use_shared_questions_only(fetched: None) -> None:
    r = evaluate_lareqa(HashEncoder(), "mlqa-r", ["en", "ar", "de"], limit=60, settings=("cross",), progress=False)
    ids = {l: set(load_lareqa("mlqa-r", l).questions["parallel_id"]) for l in ("en", "ar", "de")}
    en_kept = set(load_lareqa("mlqa-r", "en").questions["parallel_id"][:60])
    for pair, row in r.tables["cross"].items():
        x, y = pair.split("-")
        assert row["n"] == len(ids[x] & ids[y] & en_kept)


def test_tydi_and_tatoeba_tasks(encoder) -> None:
    t = run_task("tydi-goldp", encoder, ["sw"], limit=30, progress=False)
    row = t.tables["mono"]["sw"]
    assert row["n"] == 30 and 0.3 < row["nDCG@10"] <= 1.0 and row["R@100"] >= row["nDCG@10"] - 1e-9
    b = run_task("tatoeba", encoder, ["deu", "swh"], limit=100, progress=False)
    assert b.tables["bitext"]["deu"]["xx->en"] > 0.85
    assert b.summary["bitext"]["mean"] == pytest.approx(
        np.mean([v for r in b.tables["bitext"].values() for k, v in r.items() if k != "n"])
    )
