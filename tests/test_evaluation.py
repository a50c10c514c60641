"""The evaluation pipeline on real data with the real encoder, checked against independent code."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from repro.data.lareqa import load_lareqa
from repro.evaluation.lareqa import encode_lareqa, evaluate_lareqa, score_lareqa
from repro.evaluation.result import load_per_query
from repro.evaluation.subset import Subset
from repro.evaluation.tasks import run_task


@pytest.fixture(scope="module")
def xquad_small(encoder):
    return encode_lareqa(encoder, "xquad-r", ["en", "de", "th"], Subset(40), progress=False)


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
    """Deterministic pseudo-embeddings (the same in every process: SHA-256, not the salted ``hash()``):
    enough to test which questions meet which candidates."""

    @staticmethod
    def seed(kind: str, text: str) -> int:
        return int.from_bytes(hashlib.sha256(f"{kind}\x1f{text}".encode()).digest()[:8], "little")

    def encode(self, texts, kind, batch_size=None, progress=False) -> np.ndarray:
        rows = [np.random.default_rng(self.seed(kind, t)).standard_normal(16) for t in texts]
        x = np.asarray(rows, dtype=np.float32).reshape(len(texts), 16)
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_hash_encoder_is_the_same_in_another_process() -> None:
    # PYTHONHASHSEED differs per process; an encoder keyed on hash() would give other vectors there.
    import subprocess
    import sys

    here = HashEncoder().encode(["a question", "a passage"], "query")
    code = (
        "import hashlib, numpy as np; "
        "s = lambda k, t: int.from_bytes(hashlib.sha256(f'{k}\\x1f{t}'.encode()).digest()[:8], 'little'); "
        "x = np.asarray([np.random.default_rng(s('query', t)).standard_normal(16) for t in ('a question', 'a passage')],"
        " dtype=np.float32); x /= np.linalg.norm(x, axis=1, keepdims=True); print(x.tobytes().hex())"
    )
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert here.tobytes().hex() == there


def test_mlqa_cross_pairs_use_shared_questions_only(fetched: None) -> None:
    ids = {l: set(load_lareqa("mlqa-r", l).questions["parallel_id"]) for l in ("en", "ar", "de")}
    for sample, kept in (
        ("first", set(load_lareqa("mlqa-r", "en").questions["parallel_id"][:60])),
        ("random", set(drawn(sorted(ids["en"] | ids["ar"] | ids["de"]), 60, 0, "mlqa-r/parallel_ids"))),
    ):
        r = evaluate_lareqa(
            HashEncoder(), "mlqa-r", ["en", "ar", "de"], Subset(60, sample), settings=("cross",), progress=False
        )
        for pair, row in r.tables["cross"].items():
            x, y = pair.split("-")
            assert row["n"] == len(ids[x] & ids[y] & kept)


def test_tydi_and_tatoeba_tasks(encoder) -> None:
    t = run_task("tydi-goldp", encoder, ["sw"], Subset(30, distractors=30), progress=False)
    row = t.tables["mono"]["sw"]
    assert row["n"] == 30 and 0.3 < row["nDCG@10"] <= 1.0 and row["R@100"] >= row["nDCG@10"] - 1e-9
    b = run_task("tatoeba", encoder, ["deu", "swh"], Subset(100), progress=False)
    assert b.tables["bitext"]["deu"]["xx->en"] > 0.85
    assert b.summary["bitext"]["mean"] == pytest.approx(
        np.mean([v for r in b.tables["bitext"].values() for k, v in r.items() if k != "n"])
    )


# --- limits: seeded samples and the pools they leave -----------------------------------------


def drawn(ids: list[str], limit: int, seed: int, stream: str) -> list[str]:
    """The declared draw, written out: the ``limit`` ids with the lowest SHA-256 of seed, stream, id."""
    rank = {i: hashlib.sha256(f"{seed}\x1f{stream}\x1f{i}".encode()).digest() for i in ids}
    return sorted(ids, key=rank.__getitem__)[:limit]


def raw_lareqa(mirror: Path, dataset: str, lang: str) -> list[dict]:
    """The paragraphs of one language file, straight from the mirror."""
    data = json.loads((mirror / "lareqa" / dataset / f"{lang}.json").read_text(encoding="utf-8"))["data"]
    return [para for article in data for para in article["paragraphs"]]


def raw_tydi(mirror: Path, lang: str) -> tuple[list[str], dict[str, str]]:
    """Distinct passages (by text, first seen first) and question id -> its passage, from the mirror."""
    name = {"sw": "swahili", "bn": "bengali", "te": "telugu"}[lang]
    data = json.loads((mirror / "tydiqa-goldp" / f"{name}_dev.json").read_text(encoding="utf-8"))["data"]
    passages: list[str] = []
    gold: dict[str, str] = {}
    for article in data:
        for para in article["paragraphs"]:
            if para["context"] not in passages:
                passages.append(para["context"])
            for qa in para["qas"]:
                gold.setdefault(qa["id"], para["context"])
    return passages, gold


@pytest.mark.parametrize(
    ("dataset", "langs", "limit", "sample"),
    [
        ("xquad-r", ["en", "th", "zh"], 25, "random"),
        ("xquad-r", ["en", "th", "zh"], 25, "first"),
        ("mlqa-r", None, 40, "random"),
        # MLQA-R's first 200 English ids are the fewest that reach all seven languages.
        ("mlqa-r", None, 200, "first"),
    ],
)
def test_lareqa_limit_keeps_the_answers_paragraphs(mirror, fetched, dataset, langs, limit, sample) -> None:
    """Pool sizes (Mo, Cr, Mul) equal an independent count from the raw files: every sentence of the
    paragraphs that hold the kept questions' answers."""
    r = evaluate_lareqa(HashEncoder(), dataset, langs, Subset(limit, sample, 3), progress=False)
    langs = r.info["languages"]
    paragraphs = {lang: raw_lareqa(mirror, dataset, lang) for lang in langs}
    ids = {lang: [qa["id"] for para in paras for qa in para["qas"]] for lang, paras in paragraphs.items()}
    if sample == "first":
        pivot = max(langs, key=lambda lang: len(ids[lang]))
        kept = set(ids[pivot][:limit])
    else:
        kept = set(drawn(sorted({i for lang in langs for i in ids[lang]}), limit, 3, f"{dataset}/parallel_ids"))
    pool = {
        lang: sum(len(p["sentences"]) for p in paras if any(qa["id"] in kept for qa in p["qas"]))
        for lang, paras in paragraphs.items()
    }
    assert r.info["pool"]["mono"] == pool
    assert r.info["pool"]["multi"] == dict.fromkeys(langs, sum(pool.values()))
    assert all(r.info["pool"]["cross"][pair] == pool[pair.split("-")[1]] for pair in r.info["pool"]["cross"])
    assert sum(pool.values()) < sum(len(p["sentences"]) for paras in paragraphs.values() for p in paras)
    for lang in langs:  # the queries are exactly the kept ids this language has
        assert r.tables["mono"][lang]["n"] == len(kept & set(ids[lang]))
    assert r.info["subset"] == {"limit": limit, "sample": sample, "seed": 3, "distractors": None}


def test_tydi_limit_pool_is_gold_plus_declared_distractors(mirror, fetched) -> None:
    """Pool = the kept questions' distinct gold passages + min(distractors, others); legacy = all."""
    for limit, distractors in ((30, None), (30, 7), (30, 0), (200, 10**6)):
        r = run_task("tydi-goldp", HashEncoder(), ["sw", "bn"], Subset(limit, distractors=distractors), progress=False)
        for lang in ("sw", "bn"):
            passages, gold = raw_tydi(mirror, lang)
            kept = drawn(list(gold), limit, 0, f"tydi-goldp/{lang}/questions")
            relevant = {gold[q] for q in kept}
            wanted = limit if distractors is None else distractors
            assert r.info["pool"]["mono"][lang] == len(relevant) + min(wanted, len(passages) - len(relevant))
            assert sorted(load_per_query_ids(r, lang)) == sorted(kept)
    legacy = run_task("tydi-goldp", HashEncoder(), ["sw"], Subset(30, "first", distractors="all"), progress=False)
    passages, gold = raw_tydi(mirror, "sw")
    assert legacy.info["pool"]["mono"]["sw"] == len(passages) == 357
    assert list(legacy.per_query["mono/sw/ids"]) == list(gold)[:30]


def load_per_query_ids(result, lang: str) -> list[str]:
    return [str(i) for i in result.per_query[f"mono/{lang}/ids"]]


def test_tatoeba_limit_draws_pairs(fetched) -> None:
    from repro.data.tatoeba import load_tatoeba

    r = run_task("tatoeba", HashEncoder(), ["deu", "swh"], Subset(40, seed=5), progress=False)
    assert r.info["pool"]["bitext"] == {"deu": 40, "swh": 40}
    # The drawn pairs are the declared draw over line numbers: accuracy of a hash encoder is chance,
    # so compare the pairs through an encoder that remembers what it saw.
    seen = RecordingEncoder()
    run_task("tatoeba", seen, ["swh"], Subset(40, seed=5), progress=False)
    ds = load_tatoeba("swh")
    lines = drawn(list(range(len(ds))), 40, 5, "tatoeba/swh")
    assert seen.texts[0] == [ds["text"][i] for i in sorted(lines)] + [ds["english"][i] for i in sorted(lines)]


class RecordingEncoder(HashEncoder):
    """A hash encoder that keeps the text lists it was given, in order."""

    def __init__(self) -> None:
        self.texts: list[list[str]] = []

    def encode(self, texts, kind, batch_size=None, progress=False) -> np.ndarray:
        self.texts.append(list(texts))
        return super().encode(texts, kind, batch_size, progress)


def test_seeded_sample_is_reproducible_nested_and_parallel(fetched) -> None:
    """Same seed, same items; another seed, other items; a smaller limit draws a subset of a larger
    one; and every language keeps the same parallel ids (XQuAD-R is fully parallel)."""

    def kept(limit: int, seed: int) -> dict[str, set[str]]:
        r = evaluate_lareqa(
            HashEncoder(), "xquad-r", ["en", "de", "th", "zh"], Subset(limit, "random", seed), ("mono",), False
        )
        return {
            lang: {str(q).split(":", 1)[1] for q in r.per_query[f"mono/{lang}/ids"]} for lang in r.info["languages"]
        }

    a, again, other, larger = kept(20, 0), kept(20, 0), kept(20, 1), kept(50, 0)
    assert a == again
    assert len({frozenset(v) for v in a.values()}) == 1 and len(a["en"]) == 20  # parallel across languages
    assert a["en"] != other["en"]
    assert a["en"] < larger["en"]
    first = evaluate_lareqa(HashEncoder(), "xquad-r", ["en"], Subset(20, "first"), ("mono",), False)
    first_ids = [str(q).split(":", 1)[1] for q in first.per_query["mono/en/ids"]]
    assert first_ids == list(load_lareqa("xquad-r", "en").questions["parallel_id"][:20])
    # A random draw spreads over the file; the first 20 questions come from a handful of paragraphs.
    assert first.info["pool"]["mono"]["en"] < kept_pool(20)


def kept_pool(limit: int) -> int:
    r = evaluate_lareqa(HashEncoder(), "xquad-r", ["en"], Subset(limit), ("mono",), False)
    return r.info["pool"]["mono"]["en"]


def test_subset_options_are_checked() -> None:
    from repro.errors import ReproError

    for bad, message in (
        ({"limit": 0}, "limit must be >= 1"),
        ({"sample": "last"}, "unknown sample 'last'"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"distractors": -2}, "distractors must be a count >= 0 or 'all'"),
    ):
        with pytest.raises(ReproError, match=message):
            Subset(**{"limit": 5, **bad})
    with pytest.raises(ReproError, match="distractors apply to tydi-goldp only, not xquad-r"):
        Subset.for_task("xquad-r", 5, "random", 0, 3)
    # The task checks the subset it is given, however it was built: one rule, in one place.
    with pytest.raises(ReproError, match="distractors apply to tydi-goldp only, not tatoeba"):
        run_task("tatoeba", HashEncoder(), ["deu"], Subset(5, distractors=3), progress=False)


def test_step_payloads_name_the_subset_unless_legacy() -> None:
    """The full profile (sample: first, TyDi's whole pool) computes what its committed results did:
    its payloads carry no subset, so its steps keep their keys; quick's random draws carry theirs."""
    from repro.errors import ReproError
    from repro.runner.experiment import load_experiment

    experiment = Path(__file__).resolve().parents[1] / "experiments" / "hybrid-sweep.yaml"
    full, quick = load_experiment(experiment, "full"), load_experiment(experiment, "quick")
    for task in full.eval.tasks:
        assert full.eval.subset_for(task).to_payload(task) is None
    assert Subset.from_payload("tydi-goldp", 30, None) == Subset(30, "first", 0, "all")
    assert Subset.from_payload("xquad-r", 30, None) == Subset(30, "first", 0, None)
    entries = {task: quick.eval.subset_for(task).to_payload(task) for task in quick.eval.tasks}
    assert entries["tydi-goldp"] == {"sample": "random", "seed": 0, "distractors": 16}
    assert all(e is not None and e["sample"] == "random" for e in entries.values())
    # The codec round-trips: what a payload records is the subset the step evaluates.
    for task in quick.eval.tasks:
        subset = quick.eval.subset_for(task)
        assert Subset.from_payload(task, subset.limit, subset.to_payload(task)) == subset
    # A draw with another seed is another computation, so another payload.
    assert Subset.for_task("xquad-r", 10, "random", 1).to_payload("xquad-r") != entries["xquad-r"]
    with pytest.raises(ReproError, match="distractors apply to tydi-goldp only"):
        Subset.from_payload("xquad-r", 10, {"sample": "random", "seed": 0, "distractors": 4})
