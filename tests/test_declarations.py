"""One declaration per task and measure (repro/evaluation/declarations.py) is what everything reads.

A measure added to a task's declaration, and nothing else, is computed by the evaluator, resolves
in a claim's metric string, is judged in the direction it declares, appears in the sweep summary
with its declared decimals, and in the report. Results are small and synthetic (no model runs);
every number is checked against an independent computation.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from repro.checks.base import Verdict
from repro.claims.verify import verify
from repro.errors import ReproError
from repro.evaluation.declarations import DECLARATIONS, Declaration, parse_metric, summary_metric
from repro.evaluation.measures import MeasureSpec, Setting, declare
from repro.evaluation.metrics import Recall
from repro.evaluation.result import TaskResult
from repro.report.content import build_content
from repro.runner.experiment import load_experiment
from repro.runner.summary import render_summary, summarize, write_summary

REPO = Path(__file__).resolve().parents[1]
LANGS = ["en", "de", "th"]
N_Q = 80
SEEDS = (0, 1, 2)  # a comparison needs >= 3 seed pairs to be decisive
EXPERIMENT = {
    "name": "decl-sweep",
    "train": {"model": "e5-small", "corpus": "xnli", "steps": 4, "batch_size": 4},
    "grid": {"alpha": [0.5, 1.0], "seed": list(SEEDS)},
    "eval": {"tasks": ["xquad-r"]},
    "profiles": {"quick": {}},
}
# Per-query effect of each arm on the synthetic measure (hybrid = alpha 0.5 clearly above mono).
EFFECT = {None: 0.0, 0.5: 0.2, 1.0: 0.0}


def _add_measure(monkeypatch: pytest.MonkeyPatch, task: str, setting: str, spec: MeasureSpec) -> Declaration:
    """Declare ``spec`` in one setting of ``task`` (headline and per language): the only edit."""
    old = DECLARATIONS[task]

    def extended(s: Setting) -> Setting:
        if s.key != setting:
            return s
        return replace(
            s,
            measures=s.measures + (spec,),
            headline=s.headline + (spec.name,),
            by_language=s.by_language + (spec.name,),
        )

    new = replace(old, settings=tuple(extended(s) for s in old.settings))
    monkeypatch.setitem(DECLARATIONS, task, new)
    return new


def _write_results(root: Path, measures: list[str]) -> dict[tuple[str, str], np.ndarray]:
    """Multilingual results of every model of the toy sweep: each of ``measures`` gets the same
    per-query values (baseline + the arm's effect + noise). Returns label, lang -> values."""
    rng = np.random.default_rng(7)
    baseline = {lang: rng.uniform(0.2, 0.6, N_Q) for lang in LANGS}
    out: dict[tuple[str, str], np.ndarray] = {}
    points = [("base", None)] + [(f"alpha={a},seed={s}", a) for a in (0.5, 1.0) for s in SEEDS]
    for label, alpha in points:
        tables: dict[str, dict[str, float]] = {}
        per_query: dict[str, np.ndarray] = {}
        for lang in LANGS:
            values = np.clip(baseline[lang] + EFFECT[alpha] + rng.normal(0, 0.05, N_Q), 0, 1)
            ids = np.array([f"q{i}" for i in range(N_Q)])
            perm = rng.permutation(N_Q)  # stored out of order: the bootstrap aligns by id
            per_query[f"multi/{lang}/ids"] = ids[perm]
            tables[lang] = {"n": N_Q}
            for name in measures:
                per_query[f"multi/{lang}/{name}"] = values[perm]
                tables[lang][name] = float(values.mean())
            out[(label, lang)] = values
        summary = {"multi": {name: float(np.mean([tables[g][name] for g in LANGS])) for name in measures}}
        result = TaskResult("xquad-r", summary, {"multi": tables}, per_query, {"model": {"weights_sha256": "ab" * 32}})
        (root / label).mkdir(parents=True, exist_ok=True)
        result.save(root / label / "xquad-r.json")
    return out


def _registry(tmp: Path, claims: list[dict]) -> Path:
    exp = tmp / "experiments" / "decl.yaml"
    exp.parent.mkdir(parents=True, exist_ok=True)
    exp.write_text(yaml.safe_dump(EXPERIMENT))
    reg = {
        "name": "decl",
        "experiments": {"sweep": "../experiments/decl.yaml"},
        "arms": {
            "mono": {"experiment": "sweep", "point": {"alpha": 1.0}},
            "hybrid": {"experiment": "sweep", "point": {"alpha": 0.5}},
        },
        "claims": claims,
    }
    path = tmp / "claims" / "decl.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(reg, sort_keys=False))
    return path


def _comparison(cid: str, metric: str, claim: str = "better") -> dict:
    check = {"kind": "comparison", "task": "xquad-r", "metric": metric, "a": "hybrid", "b": "mono", "claim": claim}
    return {"id": cid, "text": f"hybrid is {claim} on {metric}", "checks": [check]}


def _sweep(tmp: Path, measures: list[str]) -> tuple[Path, dict, dict[tuple[str, str], np.ndarray]]:
    """Results and summary.json of the toy sweep where verify and the report look for them."""
    results = tmp / "results" / "decl-sweep" / "quick"
    values = _write_results(results, measures)
    exp_file = tmp / "experiments" / "decl.yaml"
    exp_file.parent.mkdir(parents=True, exist_ok=True)
    exp_file.write_text(yaml.safe_dump(EXPERIMENT))
    summary = summarize(load_experiment(exp_file, "quick"), results)
    write_summary(summary, results)
    return results, summary, values


def _mean_std(xs: list[float]) -> tuple[float, float]:
    return float(np.mean(xs)), float(np.std(xs, ddof=1))


# ---------------------------------------------------------------- adding a measure
def test_a_declared_measure_is_usable_in_claims_the_summary_and_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ReproError, match=r"xquad-r has no metric 'Mul R@5' \(did you mean 'Mul R@1'\?\)"):
        parse_metric("xquad-r", "Mul R@5")
    _add_measure(monkeypatch, "xquad-r", "multi", declare(Recall(5)))
    metric = parse_metric("xquad-r", "mul r@5")
    assert (metric.name, metric.setting, metric.measure, metric.lower_is_better, metric.per_query) == (
        "Mul R@5",
        "multi",
        "R@5",
        False,
        True,
    )

    _, summary, values = _sweep(tmp_path, ["mAP", "R@5"])
    # The sweep summary: the new measure's mean and spread over seeds, macro-averaged and per language.
    hybrid = summary["rows"]["alpha=0.5"]
    per_seed = [np.mean([values[(f"alpha=0.5,seed={s}", g)].mean() for g in LANGS]) for s in SEEDS]
    mean, std = _mean_std(per_seed)
    assert hybrid["xquad-r Mul R@5"] == {
        "mean": pytest.approx(mean, abs=1e-12),
        "std": pytest.approx(std),
        "n": len(SEEDS),
    }
    th_mean = np.mean([values[(f"alpha=0.5,seed={s}", "th")].mean() for s in SEEDS])
    assert hybrid["xquad-r Mul R@5 [th]"]["mean"] == pytest.approx(th_mean, abs=1e-12)
    md = render_summary(summary)
    assert "| xquad-r Mul mAP | xquad-r Mul R@5 |" in md
    assert f"{mean:.4f} ± {std:.4f}" in md

    # A claim on it, through verify: hybrid's +0.2 per-query effect is found, in the higher-is-better direction.
    claim = _comparison("C1", "Mul R@5")
    claim["reported"] = [{"what": "R@5, hybrid", "value": 0.9, "arm": "hybrid", "task": "xquad-r", "metric": "Mul R@5"}]
    path = _registry(tmp_path, [claim])
    vf = verify(path, "quick", results_root=tmp_path / "results", run_missing=False, progress=False)
    check = vf.claims[0].checks[0]
    assert check.verdict == Verdict.REPRODUCED
    expect = np.mean(
        [
            values[(f"alpha=0.5,seed={s}", g)].mean() - values[(f"alpha=1.0,seed={s}", g)].mean()
            for s in SEEDS
            for g in LANGS
        ]
    )
    assert check.tests[0].estimate == pytest.approx(expect, abs=1e-9)

    # The report finds our number for the paper's (by the summary key the declaration gives).
    content = build_content(vf)
    assert content.claims[0].paper_vs_ours[0].ours == f"{mean:.4f} ± {std:.4f} (n={len(SEEDS)})"
    assert "xquad-r Mul R@5" in content.sweeps[0].headline
    assert "xquad-r Mul R@5 [th]" in content.sweeps[0].per_language


def test_a_lower_is_better_measure_flips_the_comparison(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two measures with the same per-query values; only their declared direction differs.
    _add_measure(monkeypatch, "xquad-r", "multi", declare(Recall(5)))
    _add_measure(monkeypatch, "xquad-r", "multi", MeasureSpec("misses@5", higher_is_better=False, decimals=2))
    assert parse_metric("xquad-r", "Mul misses@5").lower_is_better
    _, summary, values = _sweep(tmp_path, ["R@5", "misses@5"])
    claims = [
        _comparison("HI", "Mul R@5"),
        _comparison("LO", "Mul misses@5"),
        _comparison("LO-worse", "Mul misses@5", claim="worse"),
    ]
    vf = verify(_registry(tmp_path, claims), "quick", results_root=tmp_path / "results", run_missing=False)
    by_id = {c.id: c.checks[0] for c in vf.claims}
    hi, lo = by_id["HI"].tests[0], by_id["LO"].tests[0]
    assert by_id["HI"].verdict == Verdict.REPRODUCED
    assert by_id["LO"].verdict == Verdict.NOT_REPRODUCED
    assert by_id["LO-worse"].verdict == Verdict.REPRODUCED
    # Same differences, opposite claimed direction: the probabilities are complements.
    assert lo.estimate == pytest.approx(hi.estimate, abs=1e-12) and hi.estimate > 0.15
    assert hi.p_direction + lo.p_direction == pytest.approx(1.0, abs=1e-9)
    # The summary formats each with its declared decimals.
    per_seed = [np.mean([values[(f"alpha=0.5,seed={s}", g)].mean() for g in LANGS]) for s in SEEDS]
    mean, std = _mean_std(per_seed)
    md = render_summary(summary)
    assert f"| {mean:.4f} ± {std:.4f} | {mean:.2f} ± {std:.2f} |" in md


def test_the_evaluator_computes_a_declared_measure(monkeypatch: pytest.MonkeyPatch) -> None:
    from repro.evaluation.lareqa import EncodedLanguage, score_lareqa

    _add_measure(monkeypatch, "xquad-r", "multi", declare(Recall(5)))
    rng = np.random.default_rng(3)
    dim, n_q, n_c = 16, 12, 9
    langs = []
    for lang in ("en", "de"):
        ld = EncodedLanguage.__new__(EncodedLanguage)
        ld.language, ld.ids = lang, [f"{lang}{i}" for i in range(n_q)]
        ld.parallel_ids = [f"p{i}" for i in range(n_q)]
        ld.candidates = [f"c{j}" for j in range(n_c)]
        ld.gold_of = {f"p{i}": int(rng.integers(n_c)) for i in range(n_q)}
        ld.q_emb = rng.normal(size=(n_q, dim)).astype(np.float32)
        ld.c_emb = rng.normal(size=(n_c, dim)).astype(np.float32)
        langs.append(ld)
    result = score_lareqa(langs, "xquad-r", settings=("multi",))
    # Brute force: rank of each parallel copy of the gold sentence in the pooled candidates.
    pool = np.concatenate([ld.c_emb for ld in langs])
    for ld in langs:
        scores = ld.q_emb @ pool.T
        expect = []
        for i, pid in enumerate(ld.parallel_ids):
            relevant = [k * n_c + other.gold_of[pid] for k, other in enumerate(langs)]
            ranks = [1 + int((scores[i] > scores[i, r]).sum()) for r in relevant]
            expect.append(np.mean([r <= 5 for r in ranks]))
        assert result.per_query[f"multi/{ld.language}/R@5"] == pytest.approx(np.array(expect), abs=1e-7)
        assert result.tables["multi"][ld.language]["R@5"] == pytest.approx(np.mean(expect), abs=1e-6)
    headline = DECLARATIONS["xquad-r"].headline(result.to_dict())
    assert headline["xquad-r Mul R@5"] == pytest.approx(
        np.mean([np.mean(result.per_query[f"multi/{g}/R@5"]) for g in ("en", "de")]), abs=1e-6
    )


# ---------------------------------------------------------------- metric names in claims
def test_unknown_metric_in_a_claim_is_one_line_with_did_you_mean(tmp_path: Path) -> None:
    _sweep(tmp_path, ["mAP"])
    path = _registry(tmp_path, [_comparison("C1", "Mul R@5")])
    with pytest.raises(ReproError) as err:
        verify(path, "quick", results_root=tmp_path / "results", run_missing=False)
    msg = str(err.value)
    assert "\n" not in msg and "C1" in msg
    known = ", ".join(DECLARATIONS["xquad-r"].metrics())
    assert known.startswith("Mo mAP, Mo R@1") and known.endswith("Mul nDCG@10, rank distance")
    assert f"xquad-r has no metric 'Mul R@5' (did you mean 'Mul R@1'?); it has {known}" in msg


@pytest.mark.parametrize(
    ("task", "text", "error"),
    [
        ("xquad-r", "mAP", "xquad-r metric 'mAP' needs a setting: Mo, Cr, Mul (e.g. 'Mul mAP')"),
        ("xquad-r", "Mo rank distance", "no metric 'Mo rank distance' (did you mean 'rank distance'?)"),
        ("tydi-goldp", "Mul nDCG@10", "no metric 'Mul nDCG@10' (did you mean 'nDCG@10'?); it has nDCG@10, R@100"),
        ("tatoeba", "Mo acc", "tatoeba has no metric 'Mo acc' (did you mean 'acc'?); it has xx->en, en->xx, acc"),
        (
            "squad",
            "mAP",
            "unknown task 'squad' (did you mean xquad-r?); known tasks: xquad-r, mlqa-r, tatoeba, tydi-goldp",
        ),
    ],
)
def test_metric_errors(task: str, text: str, error: str) -> None:
    with pytest.raises(ReproError) as err:
        parse_metric(task, text)
    assert error in str(err.value) and "\n" not in str(err.value)


def test_spellings_resolve_to_the_declared_keys() -> None:
    cases = {
        ("xquad-r", "Mul mAP"): ("Mul mAP", "multi", "mAP"),
        ("xquad-r", " mul   MAP "): ("Mul mAP", "multi", "mAP"),
        ("mlqa-r", "rank distance"): ("rank distance", "multi", "rank distance"),
        ("mlqa-r", "Mul rank distance"): ("rank distance", "multi", "rank distance"),
        ("xquad-r", "language bias"): ("rank distance", "multi", "rank distance"),
        ("tydi-goldp", "nDCG@10"): ("nDCG@10", "mono", "nDCG@10"),
        ("tydi-goldp", "MRR@10"): ("MRR@10", "mono", "MRR@10"),
        ("tatoeba", "accuracy"): ("acc", "bitext", "mean"),
        ("tatoeba", "xx->en"): ("xx->en", "bitext", "xx->en"),
    }
    for (task, text), want in cases.items():
        m = parse_metric(task, text)
        assert (m.name, m.setting, m.measure) == want, (task, text)
    assert parse_metric("xquad-r", "rank distance").lower_is_better
    assert not parse_metric("xquad-r", "Mul mAP").lower_is_better
    # Cross-lingual per-query values are not published; Tatoeba's directions are, with their pairs' ids,
    # but its accuracy (the mean of both directions) exists only as a macro average.
    assert [parse_metric("xquad-r", n).per_query for n in ("Mo mAP", "Cr mAP", "Mul mAP")] == [True, False, True]
    assert [parse_metric("tatoeba", n).per_query for n in ("xx->en", "en->xx", "acc")] == [True, True, False]
    assert summary_metric("mlqa-r rank distance [th]").decimals == 1
    assert summary_metric("tatoeba acc").measure == "mean" and summary_metric("nope x") is None


# ---------------------------------------------------------------- per-query publishing
def test_publishing_follows_the_declaration(monkeypatch: pytest.MonkeyPatch) -> None:
    task = DECLARATIONS["xquad-r"]
    assert [task.publishes(k) for k in ("mono/en/mAP", "multi/en/ids", "cross/en-de/mAP", "other/en/x")] == [
        True,
        True,
        False,
        False,
    ]
    # Every per-query array committed under results/ is one its task publishes (a command
    # experiment's task is declared by its experiment file).
    from repro.runner.experiment import load_experiment

    load_experiment(REPO / "experiments" / "adam-digits.yaml", "full")
    committed = sorted(REPO.glob("results/*/*/*/*.perquery.npz"))
    assert committed
    for npz in committed:
        with np.load(npz) as z:
            assert all(DECLARATIONS[npz.name.split(".")[0]].publishes(k) for k in z.files), npz
    published = tuple(replace(s, publish_per_query=True) for s in task.settings)
    monkeypatch.setitem(DECLARATIONS, "xquad-r", replace(task, settings=published))
    assert DECLARATIONS["xquad-r"].publishes("cross/en-de/mAP") and parse_metric("xquad-r", "Cr mAP").per_query


def test_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="summarises 'R@5', which it does not declare"):
        Setting("multi", "Mul", "multilingual", (declare(Recall(1)),), headline=("R@5",))
    with pytest.raises(ValueError, match="declares a measure twice"):
        Setting("multi", "Mul", "multilingual", (declare(Recall(1)), declare(Recall(1))))
    with pytest.raises(ValueError, match="each needs a label"):
        replace(DECLARATIONS["xquad-r"], settings=tuple(replace(s, label="") for s in DECLARATIONS["xquad-r"].settings))


def test_committed_summaries_render_from_the_declarations() -> None:
    # The sweep summary of every committed profile re-renders byte for byte from its summary.json.
    summaries = sorted(REPO.glob("results/*/*/summary.json"))
    assert summaries
    for path in summaries:
        assert render_summary(json.loads(path.read_text())) == path.with_suffix(".md").read_text(), path
