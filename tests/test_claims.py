"""The claims registry, the comparison/reported/trend kinds and `repro verify`.

Results are written by the tests themselves (per-query values with known effects), so every
verdict and number here is computed independently and compared exactly.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from repro.checks.base import CheckResult, Verdict
from repro.checks.comparison import ComparisonResult
from repro.checks.trend import TrendResult
from repro.claims.registry import load_registry
from repro.claims.verdicts import VerdictsFile
from repro.claims.verify import claim_verdict, verify
from repro.errors import ReproError

LANGS = ["en", "de", "fr", "th", "sw", "te", "el"]
SEEDS = (0, 1, 2)  # a comparison needs >= 3 seed pairs to be decisive
N_Q = 150

EXPERIMENT = {
    "name": "toy-sweep",
    "train": {"model": "e5-small", "corpus": "xnli", "steps": 4, "batch_size": 4},
    "grid": {"alpha": [0.0, 0.5, 1.0], "seed": list(SEEDS)},
    "eval": {"tasks": ["xquad-r"]},
    "profiles": {"quick": {}},
}


def _registry(tmp: Path, claims: list[dict], rq: dict | None = None) -> Path:
    exp = tmp / "experiments" / "toy.yaml"
    exp.parent.mkdir(parents=True, exist_ok=True)
    exp.write_text(yaml.safe_dump(EXPERIMENT))
    reg = {
        "name": "toy",
        "experiments": {"sweep": "../experiments/toy.yaml"},
        "arms": {
            "mono": {"experiment": "sweep", "point": {"alpha": 1.0}},
            "xy": {"experiment": "sweep", "point": {"alpha": 0.0}},
            "hybrid": {"experiment": "sweep", "point": {"alpha": 0.5}},
            "base": {"experiment": "sweep", "point": None},
        },
        "claims": claims,
    }
    if rq:
        reg["research_question"] = rq
    path = tmp / "claims" / "toy.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(reg, sort_keys=False))
    return path


def _write_results(
    root: Path, effects: dict[float, dict[str, float]], rd_effects: dict[float, float], seed: int = 0
) -> dict:
    """Per-query mAP = baseline + effect[alpha][lang] + noise; rank distance likewise. Returns the arrays."""
    rng = np.random.default_rng(seed)
    base_ap = {lang: rng.uniform(0.2, 0.6, N_Q) for lang in LANGS}
    base_rd = {lang: rng.uniform(200, 900, N_Q) for lang in LANGS}
    out = {}
    points = [("base", None, None)] + [(f"alpha={a},seed={s}", a, s) for a in (0.0, 0.5, 1.0) for s in SEEDS]
    for label, alpha, _s in points:
        d = root / "toy-sweep" / "quick" / label
        d.mkdir(parents=True, exist_ok=True)
        arrays, tables = {}, {"multi": {}}
        for lang in LANGS:
            ids = np.array([f"q{i}" for i in range(N_Q)])
            eff = 0.0 if alpha is None else effects[alpha][lang]
            noise = rng.normal(0, 0.05, N_Q)
            ap = np.clip(base_ap[lang] + eff + noise, 0, 1)
            rd = base_rd[lang] + (0.0 if alpha is None else rd_effects[alpha]) + rng.normal(0, 30, N_Q)
            # Shuffle storage order so that alignment by id is exercised.
            perm = rng.permutation(N_Q)
            arrays[f"multi/{lang}/ids"] = ids[perm]
            arrays[f"multi/{lang}/mAP"] = ap[perm]
            arrays[f"multi/{lang}/rank distance"] = rd[perm]
            tables["multi"][lang] = {"mAP": float(ap.mean()), "rank distance": float(rd.mean()), "n": N_Q}
            out[(label, lang)] = (ap, rd)
        summary = {
            "multi": {
                "mAP": float(np.mean([tables["multi"][g]["mAP"] for g in LANGS])),
                "rank distance": float(np.mean([tables["multi"][g]["rank distance"] for g in LANGS])),
            }
        }
        (d / "xquad-r.json").write_text(
            json.dumps(
                {"task": "xquad-r", "summary": summary, "tables": tables, "model": {"weights_sha256": "ab" * 32}}
            )
        )
        np.savez_compressed(d / "xquad-r.perquery.npz", **arrays)
    (root / "toy-sweep" / "quick" / "summary.json").write_text(json.dumps({"rows": {}}))
    return out


EFFECTS = {
    0.0: {"en": 0.02, "de": 0.03, "fr": 0.02, "th": 0.08, "sw": 0.08, "te": 0.08, "el": 0.09},
    0.5: {"en": 0.03, "de": 0.03, "fr": 0.03, "th": 0.05, "sw": 0.055, "te": 0.05, "el": 0.06},
    1.0: {lang: 0.0 for lang in LANGS},
}
RD_EFFECTS = {0.0: -300.0, 0.5: -250.0, 1.0: 0.0}


# ------------------------------------------------------------------ combining verdicts
def _r(v: Verdict, conf: float | None = None, head: str = "h") -> CheckResult:
    return CheckResult(kind="x", label="x", verdict=v, confidence=conf, headline=head)


def _expected(verdicts: tuple[Verdict, ...]) -> Verdict:
    """The rules of docs/statistics.md ("From parts to a verdict"), written out independently."""
    if not verdicts:
        return Verdict.NOT_CHECKED
    if Verdict.ERROR in verdicts:
        return Verdict.ERROR
    if Verdict.NOT_REPRODUCED in verdicts:
        return Verdict.NOT_REPRODUCED
    if all(v == Verdict.REPRODUCED for v in verdicts):
        return Verdict.REPRODUCED
    if Verdict.REPRODUCED in verdicts or Verdict.PARTIAL in verdicts:
        return Verdict.PARTIAL
    if Verdict.INCONCLUSIVE in verdicts:
        return Verdict.INCONCLUSIVE
    return Verdict.NOT_CHECKED


def test_claim_verdict_on_every_combination_of_parts():
    # Every multiset of up to three part outcomes: one decided contradiction refutes the claim;
    # partially reproduced only when parts held and the others stayed undecided or unmeasured.
    import itertools

    outcomes = list(Verdict)
    for n in range(4):
        for combo in itertools.combinations_with_replacement(outcomes, n):
            got = claim_verdict([_r(v, head=f"h{i}") for i, v in enumerate(combo)])[0]
            assert got == _expected(combo), combo
            if got == Verdict.PARTIAL:
                assert Verdict.NOT_REPRODUCED not in combo


def test_claim_verdict_names_what_failed_and_what_held():
    R, N, I = Verdict.REPRODUCED, Verdict.NOT_REPRODUCED, Verdict.INCONCLUSIVE
    held = CheckResult(kind="x", label="beats mono", verdict=R, headline="mono ok")
    failed = CheckResult(kind="x", label="beats xy", verdict=N, headline="xy worse")
    open_ = CheckResult(kind="x", label="mlqa", verdict=I, headline="mlqa open")
    verdict, conf, text = claim_verdict([held, failed, open_])
    assert verdict == N and conf is None
    assert text.startswith("failed: beats xy; held: beats mono; undecided: mlqa. xy worse")
    verdict, _, text = claim_verdict([held, open_])
    assert verdict == Verdict.PARTIAL and text.startswith("held: beats mono; undecided: mlqa.")
    # A text check's calibrated support is the number beside its verdict.
    assert claim_verdict([_r(R, 0.97, "weakest")]) == (R, 0.97, "weakest")


# ------------------------------------------------------------------ registry validation
def test_unknown_check_kind_names_file_line_and_field(tmp_path):
    path = _registry(tmp_path, [{"id": "C1", "text": "t", "checks": [{"kind": "comparsion"}]}])
    with pytest.raises(ReproError) as err:
        load_registry(path)
    msg = str(err.value)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "comparsion" in t)
    assert f"{path}:{line}:" in msg and "claims[0].checks[0]" in msg
    assert "unknown check kind 'comparsion' (did you mean comparison?)" in msg


def test_missing_field_and_bad_confidence_are_located(tmp_path):
    path = _registry(tmp_path, [{"id": "C1", "text": "t", "synthesis": {"verified": True, "confidence": 1.7}}])
    with pytest.raises(
        ReproError, match=r"claims\[0\]\.synthesis\.confidence: Input should be less than or equal to 1"
    ):
        load_registry(path)
    path = _registry(tmp_path, [{"id": "C1", "checks": []}])
    with pytest.raises(ReproError, match=r"toy.yaml:\d+: claims\[0\]\.text: Field required"):
        load_registry(path)


def test_duplicate_ids_and_bad_yaml(tmp_path):
    path = _registry(tmp_path, [{"id": "C1", "text": "a"}, {"id": "C1", "text": "b"}])
    with pytest.raises(ReproError, match="claim id C1 appears twice"):
        load_registry(path)
    path.write_text("claims: [\n  - id: C1\n")
    with pytest.raises(ReproError, match=r"toy.yaml:\d+: invalid YAML"):
        load_registry(path)


def test_impossible_checks_fail_before_anything_runs(tmp_path):
    claims = [
        {
            "id": "C1",
            "text": "t",
            "checks": [{"kind": "comparison", "task": "xquad-r", "metric": "Cr mAP", "a": "hybrid", "b": "mono"}],
        },
        {
            "id": "C2",
            "text": "t",
            "checks": [{"kind": "comparison", "task": "mlqa-r", "metric": "Mul mAP", "a": "hybrid", "b": "nosuch"}],
        },
    ]
    path = _registry(tmp_path, claims)
    with pytest.raises(ReproError) as err:
        verify(path, "quick", results_root=tmp_path / "results", run_missing=False)
    msg = str(err.value)
    assert "C1" in msg and "no per-query values" in msg
    # Every problem is listed, not only the first.
    assert "no arm 'nosuch'" in msg and msg.count("; ") >= 2 and "C2 (" in msg
    assert not (tmp_path / "results").exists()


# ------------------------------------------------------------------ checks on known effects
def test_comparison_verdicts_and_numbers(tmp_path):
    data = _write_results(tmp_path / "results", EFFECTS, RD_EFFECTS)
    claims = [
        {
            "id": "C7",
            "text": "hybrid best",
            "checks": [
                {"kind": "comparison", "task": "xquad-r", "metric": "Mul mAP", "a": "hybrid", "b": ["mono", "xy"]}
            ],
        },
        {
            "id": "C8",
            "text": "hybrid reduces bias vs mono",
            "expect": "reproduced",
            "checks": [
                {"kind": "comparison", "task": "xquad-r", "metric": "rank distance", "a": "hybrid", "b": "mono"}
            ],
        },
        {
            "id": "W",
            "text": "mono better than hybrid",
            "checks": [{"kind": "comparison", "task": "xquad-r", "metric": "Mul mAP", "a": "mono", "b": "hybrid"}],
        },
    ]
    path = _registry(tmp_path, claims)
    out = verify(path, "quick", results_root=tmp_path / "results", run_missing=False, progress=False)
    by_id = {c.id: c for c in out.claims}
    c7 = by_id["C7"].checks[0]
    # hybrid beats mono clearly (+0.0436 mean effect) but xy beats hybrid (-0.0136): one decided
    # contradiction, so not reproduced, and the claim says which part failed and which held.
    assert isinstance(c7, ComparisonResult) and c7.verdict == Verdict.NOT_REPRODUCED
    assert by_id["C7"].verdict == Verdict.NOT_REPRODUCED
    assert by_id["C7"].decided_by.startswith("failed: ") and "[xy]" in by_id["C7"].decided_by.split(";")[0]
    assert "held: " in by_id["C7"].decided_by and by_id["C7"].decisive.p_adjusted <= 0.05
    eff = {t.name: t for t in c7.tests}
    expect_mono = np.mean(
        [
            np.mean([data[(f"alpha=0.5,seed={s}", g)][0] - data[(f"alpha=1.0,seed={s}", g)][0]])
            for s in SEEDS
            for g in LANGS
        ]
    )
    assert eff["mono"].estimate == pytest.approx(expect_mono, abs=1e-12)
    assert eff["mono"].p_direction > 0.99 and eff["xy"].p_direction < 0.05
    assert (eff["mono"].outcome, eff["xy"].outcome) == ("supported", "contradicted")
    assert eff["mono"].n_seeds == 3 and eff["mono"].family_size == 2
    # Holm over the two arms: the smaller p doubled, the larger kept (unless below the first).
    p_small, p_large = sorted([eff["mono"].p_value, eff["xy"].p_value])
    assert sorted([eff["mono"].p_adjusted, eff["xy"].p_adjusted]) == pytest.approx(
        [min(1, 2 * p_small), max(min(1, 2 * p_small), p_large)]
    )
    # The per-query effect equals the difference of the published macro averages.
    summ = {
        lab: json.loads((tmp_path / "results/toy-sweep/quick" / lab / "xquad-r.json").read_text())["summary"]["multi"][
            "mAP"
        ]
        for lab in [f"alpha={a},seed={s}" for a in (0.5, 1.0) for s in SEEDS]
    }
    assert eff["mono"].estimate == pytest.approx(
        np.mean([summ[f"alpha=0.5,seed={s}"] - summ[f"alpha=1.0,seed={s}"] for s in SEEDS])
    )
    # Lower rank distance is better, so "better" holds with the negative difference.
    assert by_id["C8"].verdict == Verdict.REPRODUCED and by_id["C8"].checks[0].tests[0].estimate < -200
    assert by_id["W"].verdict == Verdict.NOT_REPRODUCED and by_id["W"].decisive.p_adjusted <= 0.05
    saved = VerdictsFile.load(tmp_path / "results/claims/toy/quick/verdicts.json")
    assert [c.verdict for c in saved.claims] == [c.verdict for c in out.claims]
    assert saved.provenance["experiments"]["sweep"]["model_weights_sha256"]["base"] == "ab" * 32
    # Re-verifying one claim keeps the others' stored verdicts.
    one = verify(path, "quick", results_root=tmp_path / "results", run_missing=False, progress=False, claim_ids=["W"])
    assert [c.id for c in one.claims] == ["W"]
    again = VerdictsFile.load(tmp_path / "results/claims/toy/quick/verdicts.json")
    assert [(c.id, c.verdict, c.confidence) for c in again.claims] == [
        (c.id, c.verdict, c.confidence) for c in out.claims
    ]


def test_reported_check_compares_relative_effects(tmp_path):
    data = _write_results(tmp_path / "results", EFFECTS, RD_EFFECTS)
    claims = [
        {
            "id": "C8",
            "text": "t",
            "checks": [
                {
                    "kind": "reported",
                    "task": "xquad-r",
                    "metric": "rank distance",
                    "a": "hybrid",
                    "b": "mono",
                    "paper": [{"backbone": "XLM-R", "a": 286.6, "b": 410.2}],
                }
            ],
        },
        {
            "id": "X",
            "text": "t",
            "checks": [
                {
                    "kind": "reported",
                    "task": "xquad-r",
                    "metric": "rank distance",
                    "a": "hybrid",
                    "b": "mono",
                    "paper": [{"backbone": "XLM-R", "a": 410.2, "b": 286.6}],
                }
            ],
        },
    ]
    path = _registry(tmp_path, claims)
    out = verify(path, "quick", results_root=tmp_path / "results", run_missing=False, progress=False)
    c8, x = out.claims
    ours = c8.checks[0].details["ours"]
    # By hand from the per-query arrays: A - B paired by seed, macro-averaged; B = mono's mean value.
    rd = {k: v[1] for k, v in data.items()}
    diff = np.mean(
        [np.mean(rd[(f"alpha=0.5,seed={s}", g)] - rd[(f"alpha=1.0,seed={s}", g)]) for s in SEEDS for g in LANGS]
    )
    mono = np.mean([np.mean(rd[(f"alpha=1.0,seed={s}", g)]) for s in SEEDS for g in LANGS])
    assert ours["diff"] == pytest.approx(diff, abs=1e-9) and ours["b"] == pytest.approx(mono, abs=1e-9)
    assert ours["relative"] == pytest.approx(diff / mono, abs=1e-12)
    # Our ~ -250 over a ~550 baseline is about -45 %: bigger than the paper's -30.1 %, same sign.
    assert c8.verdict == Verdict.REPRODUCED and "paper XLM-R -30.1 %" in c8.decided_by
    assert x.verdict == Verdict.NOT_REPRODUCED


def test_trend_groups_languages_by_resource_class(tmp_path):
    data = _write_results(tmp_path / "results", EFFECTS, RD_EFFECTS)
    rq = {
        "id": "RQ",
        "text": "how do low-resource languages fare?",
        "checks": [
            {
                "kind": "trend",
                "x": "alpha",
                "reference": 1.0,
                "at": 0.5,
                "experiment": "sweep",
                "task": "xquad-r",
                "metric": "Mul mAP",
                "unseen": ["el"],
                "hypothesis": "low-gains-more",
            }
        ],
    }
    path = _registry(tmp_path, [], rq)
    out = verify(path, "quick", results_root=tmp_path / "results", run_missing=False, progress=False)
    r = out.research_question.checks[0]
    assert isinstance(r, TrendResult) and r.kind == "trend" and r.label == "xquad-r Mul mAP vs alpha, by language group"
    assert r.details["groups"] == {"low": ["sw", "te", "th"], "high": ["de", "en", "fr"], "unseen": ["el"]}

    def gain(lang: str) -> float:  # by hand: mean over seeds and queries of mAP at alpha 0.5 minus alpha 1
        return float(
            np.mean([data[(f"alpha=0.5,seed={s}", lang)][0] - data[(f"alpha=1.0,seed={s}", lang)][0] for s in SEEDS])
        )

    g = r.gain_at
    lows, highs = [gain(x) for x in ("sw", "te", "th")], [gain(x) for x in ("de", "en", "fr")]
    low, high = np.mean(lows), np.mean(highs)
    assert g["low"].observed == pytest.approx(low, abs=1e-12)
    assert g["high"].observed == pytest.approx(high, abs=1e-12)
    assert g["unseen"].observed == pytest.approx(gain("el"), abs=1e-12)
    assert g["low - high"].observed == pytest.approx(low - high, abs=1e-12)
    # Languages as units: Welch over the six seen languages' gains; the slope per Joshi class by least squares.
    welch = stats.ttest_ind(lows, highs, equal_var=False)
    d = r.class_difference
    assert d.observed == pytest.approx(low - high) and d.p_value == pytest.approx(welch.pvalue)
    fit = stats.linregress([2, 1, 3, 5, 5, 5], lows + highs)
    assert r.class_slope.slope == pytest.approx(fit.slope) and r.class_slope.p_value == pytest.approx(fit.pvalue)
    assert r.bootstrap_difference.observed == pytest.approx(low - high)
    # The question's model: the gains regressed on low-resource, unseen and headroom over all seven
    # languages (languages as units), checked against numpy's least squares on the seed-mean gains.
    term = next(t for t in r.model if t.model == "low vs high" and t.scale == "Mul mAP" and t.term == "low-resource")
    langs = sorted(["sw", "te", "th", "de", "en", "fr", "el"])
    ref = {g: np.mean([np.mean(data[(f"alpha=1.0,seed={s}", g)][0]) for s in SEEDS]) for g in langs}
    x = np.column_stack(
        [
            np.ones(7),
            [float(g in ("sw", "te", "th", "el")) for g in langs],
            [float(g == "el") for g in langs],
            [1 - ref[g] for g in langs],
        ]
    )
    beta = np.linalg.lstsq(x, np.array([gain(g) for g in langs]), rcond=None)[0]
    assert term.estimate == pytest.approx(beta[1], abs=1e-9) and term.n_langs == 7 and term.df == 2
    # Effects at alpha 0.5 vs 1: sw/te/th about +0.05, de/en/fr +0.03; with 3 seed pairs (df 2) and Holm
    # over the question, the finding follows the adjusted term.
    assert r.n_seeds == 3 and r.finding in ("more", "undetermined")
    assert (r.finding == "more") == (term.p_adjusted <= 0.05)
    assert r.confidence is None
    assert out.research_question.detail == r.answer
    assert r.answer.startswith(
        f"xquad-r Mul mAP: moving from alpha=1.0 to alpha=0.5, low-resource languages change by {g['low'].observed:+.4f} "
        f"(95% CI {g['low'].low:+.4f} to {g['low'].high:+.4f})"
    )
    assert f"unseen languages {g['unseen'].observed:+.4f}" in r.answer
    # The typed result survives the verdicts file.
    saved = VerdictsFile.load(tmp_path / "results/claims/toy/quick/verdicts.json").research_question.checks[0]
    assert isinstance(saved, TrendResult) and saved.answer == r.answer and saved.gain_at == r.gain_at


# ------------------------------------------------------------------ CLI
def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "repro.cli", *args], cwd=cwd, capture_output=True, text=True)


def test_verify_cli_table_exit_codes_and_strict(tmp_path):
    _write_results(tmp_path / "results", EFFECTS, RD_EFFECTS)
    claims = [
        {
            "id": "C8",
            "text": "t",
            "expect": "reproduced",
            "checks": [
                {"kind": "comparison", "task": "xquad-r", "metric": "rank distance", "a": "hybrid", "b": "mono"}
            ],
        },
        {
            "id": "W",
            "text": "t",
            "expect": "reproduced",
            "checks": [{"kind": "comparison", "task": "xquad-r", "metric": "Mul mAP", "a": "mono", "b": "hybrid"}],
        },
    ]
    path = _registry(tmp_path, claims)
    ok = _cli("verify", str(path), "--no-run", "--quiet", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    # Whole cells (columns are separated by two or more spaces): "reproduced" must not match "not reproduced".
    rows = [re.split(r"\s{2,}", line.strip()) for line in ok.stdout.splitlines()[:3]]
    assert rows[0][:3] == ["claim", "verdict", "synth."]
    assert rows[1][:2] == ["C8", "reproduced"] and rows[2][:2] == ["W", "not reproduced"]
    strict = _cli("verify", str(path), "--no-run", "--quiet", "--strict", cwd=tmp_path)
    assert strict.returncode == 1 and "strict: W did not get the expected verdict" in strict.stderr
    bad = _cli("verify", str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "not found" in bad.stderr


def test_seed_pairing_and_id_alignment():
    from repro.checks.measurements import paired_diffs

    ids = np.array(["q2", "q0", "q1"])

    def model(values):
        return {"en": (ids, np.array(values, dtype=float))}

    one_seed = {0: model([3, 1, 2])}
    two_seeds = {0: model([1, 1, 1]), 1: model([2, 2, 2])}
    diffs, seeds = paired_diffs(one_seed, two_seeds)
    assert seeds == [0] and diffs["en"].shape == (1, 3)
    base = {"base": {"en": (np.array(["q0", "q1", "q2"]), np.array([0.0, 0.0, 1.0]))}}
    diffs, seeds = paired_diffs(two_seeds, base)
    assert seeds == [0, 1]
    # Aligned on ids (sorted): q0, q1, q2 -> base values 0, 0, 1.
    assert diffs["en"].tolist() == [[1, 1, 0], [2, 2, 1]]
    with pytest.raises(ReproError, match="share no seed"):
        paired_diffs({0: model([1, 1, 1]), 1: model([1, 1, 1])}, {2: model([1, 1, 1]), 3: model([1, 1, 1])})


# ------------------------------------------------------------------ verify runs its experiments
TINY_EXPERIMENT = """
name: tiny-verify
train: {model: e5-small, corpus: CORPUS, steps: 2, batch_size: 4, max_length: 16, eval_every: 2,
        checkpoint_every: 0, val_pairs: 4}
grid: {alpha: [0.0, 1.0], seed: [0]}
eval:
  tasks: [xquad-r]
  langs: {xquad-r: [en, de]}
  limit: 8
  max_length: 16
profiles:
  tiny: {}
"""


def test_verify_trains_and_evaluates_its_experiments_end_to_end(tmp_path, fetched, monkeypatch):
    # Steps go to a fresh store, so every one is computed here (data and the model stay shared).
    monkeypatch.setattr("repro.runner.store.repro_home", lambda: tmp_path / "home")
    # A small parallel corpus (the training step's input): 40 examples in English and German.
    corpus = tmp_path / "corpus.jsonl"
    lines = [
        json.dumps(
            {"id": i, "language": lang, "query": f"{word} question {i}?", "passage": f"{word} answer number {i}."}
        )
        for i in range(40)
        for lang, word in (("en", "the"), ("de", "die"))
    ]
    corpus.write_text("\n".join(lines) + "\n")
    (tmp_path / "tiny.yaml").write_text(TINY_EXPERIMENT.replace("CORPUS", str(corpus)))
    reg = {
        "name": "tiny",
        "experiments": {"sweep": "tiny.yaml"},
        "arms": {
            "xy": {"experiment": "sweep", "point": {"alpha": 0.0}},
            "mono": {"experiment": "sweep", "point": {"alpha": 1.0}},
        },
        "claims": [
            {
                "id": "C1",
                "text": "X-Y batches beat mono batches.",
                "checks": [
                    {
                        "kind": "comparison",
                        "task": "xquad-r",
                        "metric": "Mul mAP",
                        "a": "xy",
                        "b": "mono",
                    }
                ],
            }
        ],
    }
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(reg, sort_keys=False))
    out = verify(path, "tiny", results_root=tmp_path / "results", progress=False)
    (record,) = out.experiments
    assert (record.computed_steps, record.cached_steps) == (5, 0)  # 2 trainings, 3 evaluations (base too)
    results = tmp_path / "results" / "tiny-verify" / "tiny"
    assert sorted(p.parent.name for p in results.glob("*/xquad-r.json")) == [
        "alpha=0.0,seed=0",
        "alpha=1.0,seed=0",
        "base",
    ]
    check = out.claims[0].checks[0]
    assert check.kind == "comparison" and check.verdict != Verdict.ERROR and out.claims[0].verdict == check.verdict
    # The effect by hand from the published per-query values: per language, mean over shared ids of xy - mono.
    xy = dict(np.load(results / "alpha=0.0,seed=0" / "xquad-r.perquery.npz"))
    mono = dict(np.load(results / "alpha=1.0,seed=0" / "xquad-r.perquery.npz"))
    per_lang = []
    for lang in ("de", "en"):
        a = dict(zip(xy[f"multi/{lang}/ids"], xy[f"multi/{lang}/mAP"]))
        b = dict(zip(mono[f"multi/{lang}/ids"], mono[f"multi/{lang}/mAP"]))
        assert len(a) == 8 and set(a) == set(b)
        per_lang.append(np.mean([a[q] - b[q] for q in a]))
    assert check.tests[0].estimate == pytest.approx(np.mean(per_lang), abs=1e-12)
    # One seed pair: never decisive, and the seed variance needed to plan seeds is unknown.
    assert check.verdict == Verdict.INCONCLUSIVE and check.tests[0].seeds_needed is None
    assert "needs >= 3 seeds (has 1)" in check.headline
    assert VerdictsFile.load(tmp_path / "results/claims/tiny/tiny/verdicts.json").claims[0].verdict == check.verdict


def test_paper_numbers_take_the_old_key_reported_with_one_warning_line(capsys) -> None:
    from repro.claims.registry import Claim

    numbers = [{"what": "XQuAD-R rank distance, hybrid", "value": 286.6, "arm": "hybrid", "task": "xquad-r"}]
    new = Claim.model_validate({"id": "C1", "text": "t", "paper_numbers": numbers})
    assert capsys.readouterr().err == ""
    old = Claim.model_validate({"id": "C1", "text": "t", "reported": numbers})
    err = capsys.readouterr().err.splitlines()
    assert err == ["warning: claim C1: `reported:` is deprecated; name it `paper_numbers:`"]
    assert old == new and old.paper_numbers[0].value == 286.6 and old.reported == old.paper_numbers
    assert "reported" not in Claim.model_fields  # one name in the schema, not two
