"""The claim shapes registries write: threshold, non-inferiority, equivalence, ties, notes, and the
statistics behind them (clustered items, unpaired sensitivity, the question's language model),
each against an independent computation."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from scipy import stats

from repro.checks.base import Verdict
from repro.checks.stats.design import build_design
from repro.checks.stats.language_model import fit_languages
from repro.checks.stats.seed_test import equivalence_p, seed_t_test, variance_components
from repro.claims.registry import load_registry
from repro.claims.verify import verify
from repro.errors import ReproError
from repro.report.markdown import render_markdown
from repro.runner.experiment import load_experiment
from tests.test_claims import EFFECTS, LANGS, RD_EFFECTS, SEEDS, _registry, _write_results


@pytest.fixture()
def toy(tmp_path):
    data = _write_results(tmp_path / "results", EFFECTS, RD_EFFECTS)
    return tmp_path, data


def _verify(tmp_path, claims):
    path = _registry(tmp_path, claims)
    out = verify(path, "quick", results_root=tmp_path / "results", run_missing=False, progress=False)
    return {c.id: c for c in out.claims}, path


def _hybrid_mean(data) -> float:
    return float(np.mean([np.mean([data[(f"alpha=0.5,seed={s}", g)][0].mean() for g in LANGS]) for s in SEEDS]))


def test_threshold_decides_one_arm_against_a_number(toy) -> None:
    tmp_path, data = toy
    mean = _hybrid_mean(data)
    chk = {"kind": "threshold", "task": "xquad-r", "metric": "Mul mAP", "arm": "hybrid"}
    by_id, _ = _verify(
        tmp_path,
        [
            {"id": "A", "text": "above low", "checks": [{**chk, "value": round(mean - 0.05, 3)}]},
            {"id": "B", "text": "above high", "checks": [{**chk, "value": round(mean + 0.05, 3)}]},
            {"id": "C", "text": "below high", "checks": [{**chk, "claim": "below", "value": round(mean + 0.05, 3)}]},
            {"id": "D", "text": "at the mean", "checks": [{**chk, "value": round(mean, 3)}]},
        ],
    )
    assert [by_id[i].verdict for i in "ABCD"] == [
        Verdict.REPRODUCED,
        Verdict.NOT_REPRODUCED,
        Verdict.REPRODUCED,
        Verdict.INCONCLUSIVE,
    ]
    t = by_id["A"].checks[0].tests[0]
    assert t.estimate == pytest.approx(mean - round(mean - 0.05, 3), abs=1e-9)
    assert t.low < t.estimate < t.high and t.n_seeds == 3


def test_not_worse_and_equivalent_claims(toy) -> None:
    tmp_path, _ = toy
    # hybrid - xy on mAP: about -0.014 (EFFECTS): not worse by more than 0.05, equivalent within 0.05,
    # but worse than a 0.001 margin allows, and not equivalent within 0.002.
    chk = {"kind": "comparison", "task": "xquad-r", "metric": "Mul mAP", "a": "hybrid", "b": "xy"}
    by_id, _ = _verify(
        tmp_path,
        [
            {"id": "NW", "text": "costs little", "checks": [{**chk, "claim": "not-worse", "margin": 0.05}]},
            {"id": "NW0", "text": "costs nothing", "checks": [{**chk, "claim": "not-worse", "margin": 0.001}]},
            {"id": "EQ", "text": "the same", "checks": [{**chk, "claim": "equivalent", "margin": 0.05}]},
            {"id": "EQ0", "text": "exactly", "checks": [{**chk, "claim": "equivalent", "margin": 0.002}]},
        ],
    )
    assert [by_id[i].verdict for i in ("NW", "NW0", "EQ", "EQ0")] == [
        Verdict.REPRODUCED,
        Verdict.NOT_REPRODUCED,
        Verdict.REPRODUCED,
        Verdict.NOT_REPRODUCED,
    ]
    eq = by_id["EQ"].checks[0].tests[0]
    # TOST at 5 %: the 90 % interval inside the margin, and its p is the larger one-sided p.
    q90 = stats.t.ppf(0.95, eq.df)
    assert eq.estimate - q90 * eq.se > -0.05 and eq.estimate + q90 * eq.se < 0.05
    p_tost = max(stats.t.sf((eq.estimate + 0.05) / eq.se, eq.df), stats.t.sf((0.05 - eq.estimate) / eq.se, eq.df))
    assert eq.p_value == pytest.approx(p_tost, rel=1e-9) and eq.hypothesis == "|A - B| < 0.05"
    nw = by_id["NW"].checks[0].tests[0]
    assert nw.hypothesis == "A - B > -0.05" and nw.low > -0.05


def test_not_worse_needs_a_margin(tmp_path) -> None:
    chk = {"kind": "comparison", "task": "xquad-r", "metric": "Mul mAP", "a": "hybrid", "b": "xy", "claim": "not-worse"}
    path = _registry(tmp_path, [{"id": "NW", "text": "t", "checks": [chk]}])
    with pytest.raises(ReproError, match=r"claim: not-worse needs a margin > 0"):
        load_registry(path)


def test_an_exact_tie_is_no_variation_not_a_decision(toy) -> None:
    tmp_path, _ = toy
    chk = {"kind": "comparison", "task": "xquad-r", "metric": "Mul mAP", "a": "hybrid", "b": "hybrid"}
    by_id, _ = _verify(tmp_path, [{"id": "T", "text": "tie", "checks": [chk]}])
    t = by_id["T"].checks[0].tests[0]
    assert t.se == 0 and t.outcome == "no variation" and "nothing measured" in t.reason
    assert by_id["T"].verdict == Verdict.NOT_CHECKED


def test_a_claims_note_is_kept_in_verdicts_and_report(toy) -> None:
    tmp_path, _ = toy
    chk = {"kind": "comparison", "task": "xquad-r", "metric": "Mul mAP", "a": "hybrid", "b": "mono"}
    by_id, _ = _verify(tmp_path, [{"id": "N", "text": "t", "note": "read as: <b>strictly</b>", "checks": [chk]}])
    assert by_id["N"].note == "read as: <b>strictly</b>"
    from repro.claims.verdicts import VerdictsFile

    vf = VerdictsFile.load(tmp_path / "results/claims/toy/quick/verdicts.json")
    assert vf.claims[0].note == "read as: <b>strictly</b>"
    assert "note: read as:" in render_markdown(vf)


def test_every_schema_error_is_shown(tmp_path) -> None:
    claims = [
        {"id": "C1", "text": "t", "checks": [{"kind": "comparsion"}]},
        {"id": "C2", "text": "", "synthesis": {"verified": True, "confidence": 2}},
    ]
    path = _registry(tmp_path, claims)
    with pytest.raises(ReproError) as err:
        load_registry(path)
    msg = str(err.value)
    assert "unknown check kind 'comparsion'" in msg and "claims[1].text" in msg and "claims[1].synthesis" in msg


def test_an_unknown_task_in_a_per_task_map_is_an_error(tmp_path) -> None:
    exp = {
        "name": "x",
        "train": {"model": "e5-small"},
        "grid": {"alpha": [0.5]},
        "eval": {"tasks": ["xquad-r"], "langs": {"xquad-rr": ["en"]}},
    }
    path = tmp_path / "x.yaml"
    path.write_text(yaml.safe_dump(exp))
    with pytest.raises(ReproError, match=r"eval.langs names xquad-rr, not a task of eval.tasks"):
        load_experiment(path, "default")


# ------------------------------------------------------------------ statistics against independent code
def _clustered_design(rng, k=4, n=60, clusters=6):
    vals = rng.normal(0, 1, (k, n)) + rng.normal(0, 1, (1, clusters)).repeat(n // clusters, axis=1)
    ids = np.array([f"en:q{i}" for i in range(n)])
    design = build_design({"en": (ids, vals)}, seeds=list(range(k)))
    cluster_of = {f"q{i}": f"c{i // (n // clusters)}" for i in range(n)}
    return design.clustered(cluster_of), vals, n // clusters


def test_clustered_items_resample_whole_clusters() -> None:
    rng = np.random.default_rng(3)
    design, vals, size = _clustered_design(rng)
    comp = variance_components(design)
    # By hand: cluster means per seed are the units; item term = var of their seed-mean over clusters / C,
    # minus the residual share, as the two-way layout of seeds x clusters gives it.
    k, n = vals.shape
    cm = vals.reshape(k, -1, size).mean(axis=2)  # (k, C)
    c = cm.shape[1]
    dev = cm - cm.mean(axis=1, keepdims=True)
    ms_i = k * np.sum(dev.mean(axis=0) ** 2) / (c - 1)
    ms_e = np.sum((dev - dev.mean(axis=0)) ** 2) / ((k - 1) * (c - 1))
    assert comp.n_items == c and comp.item == pytest.approx(max(0.0, ms_i - ms_e) / (k * c), rel=1e-9)
    flat = variance_components(design, clustered=False)
    assert flat.n_items == n and comp.item > flat.item  # correlated neighbours: clustering widens


def test_unpaired_sensitivity_matches_a_hand_computation(toy) -> None:
    tmp_path, data = toy
    chk = {"kind": "comparison", "task": "xquad-r", "metric": "Mul mAP", "a": "hybrid", "b": "mono"}
    by_id, _ = _verify(tmp_path, [{"id": "U", "text": "t", "checks": [chk]}])
    t = by_id["U"].checks[0].tests[0]
    ta = np.array([np.mean([data[(f"alpha=0.5,seed={s}", g)][0].mean() for g in LANGS]) for s in SEEDS])
    tb = np.array([np.mean([data[(f"alpha=1.0,seed={s}", g)][0].mean() for g in LANGS]) for s in SEEDS])
    se = np.sqrt(ta.var(ddof=1) / 3 + tb.var(ddof=1) / 3 + t.item_var)
    assert t.p_unpaired == pytest.approx(2 * stats.t.sf(abs(ta.mean() - tb.mean()) / se, 2), rel=1e-6)


def test_language_model_with_one_seed_is_ordinary_least_squares() -> None:
    rng = np.random.default_rng(5)
    langs = [f"l{i}" for i in range(12)]
    low = {g: float(i % 3 == 0) for i, g in enumerate(langs)}
    head = {g: float(rng.uniform(0.1, 0.6)) for g in langs}
    gains = {g: np.array([0.02 + 0.01 * low[g] + 0.05 * head[g] + rng.normal(0, 0.005)]) for g in langs}
    fit = fit_languages(gains, {"low": low, "headroom": head}, margins={"low": 0.02})
    # Independently: numpy's least squares, the classical OLS standard error from its residuals.
    x = np.column_stack([np.ones(12), [low[g] for g in langs], [head[g] for g in langs]])
    y = np.array([gains[g][0] for g in langs])
    beta, rss, _, _ = np.linalg.lstsq(x, y, rcond=None)
    se = np.sqrt(rss[0] / 9 * np.linalg.pinv(x.T @ x)[1, 1])
    term = fit.terms["low"]
    assert term.estimate == pytest.approx(beta[1], rel=1e-9)
    assert term.se == pytest.approx(se, rel=1e-9) and term.df == 9
    assert term.p_value == pytest.approx(2 * stats.t.sf(abs(beta[1]) / se, 9), rel=1e-7)
    assert term.p_equivalence == pytest.approx(equivalence_p(term.estimate, term.se, 9, 0.02), rel=1e-12)


def test_language_model_adds_the_seed_spread_of_the_coefficient() -> None:
    rng = np.random.default_rng(6)
    langs = [f"l{i}" for i in range(10)]
    low = {g: float(i < 5) for i, g in enumerate(langs)}
    shared = rng.normal(0, 0.01, 5)  # a seed effect shared by the low-resource languages
    gains = {g: 0.03 + low[g] * (0.01 + shared) + rng.normal(0, 0.002, 5) for g in langs}
    fit = fit_languages(gains, {"low": low})
    ybar = np.array([gains[g].mean() for g in langs])
    x = np.column_stack([np.ones(10), [low[g] for g in langs]])
    c = np.linalg.inv(x.T @ x) @ x.T
    resid = ybar - x @ (c @ ybar)
    lang_var = resid @ resid / 8 * np.linalg.inv(x.T @ x)[1, 1]
    seed_var = np.var(c[1] @ np.array([gains[g] for g in langs]), ddof=1) / 5
    assert fit.terms["low"].se == pytest.approx(np.sqrt(lang_var + seed_var), rel=1e-9)
    assert fit.terms["low"].df == 4  # min(k - 1, L - p)


def test_seed_test_equivalence_outside_the_margin_is_a_two_sided_test() -> None:
    rng = np.random.default_rng(8)
    vals = 0.05 + rng.normal(0, 0.01, (5, 200))
    design = build_design({"en": (None, vals)}, seeds=list(range(5)))
    t = seed_t_test(design, equivalence=True, margin=0.02)
    assert t.shift < 0 and t.p_value == pytest.approx(2 * stats.t.sf((t.estimate - 0.02) / t.se, t.df), rel=1e-9)
