"""The statistics engine (repro/checks/stats) against independent computations.

Calibration by simulation is in test_calibration.py; here: the design's items and weights, the
variance components against a two-way ANOVA written out, the t-test against scipy's paired test
where they must agree, power against the noncentral t, Holm against hand-worked values, and the
languages-as-units estimates against scipy's Welch test and linear regression.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from repro.checks.base import CheckResult, Verdict
from repro.checks.comparison import ComparisonResult
from repro.checks.reported import ReportedResult
from repro.checks.stats.bootstrap import hierarchical_bootstrap
from repro.checks.stats.design import build_design, item_key, subset
from repro.checks.stats.family import holm
from repro.checks.stats.groups import answer, class_regression, group_difference, group_mean
from repro.checks.stats.power import planning_note, power_at, seeds_needed
from repro.checks.stats.seed_test import VarianceComponents, decide, seed_t_test, variance_components
from repro.checks.tested import ArmTest, adjust_family, adjusted


def mlqa_like(rng: np.random.Generator, k: int = 3) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Three languages sharing some question ids (MLQA-R style), k seed rows each."""
    have = {"en": range(0, 12), "de": range(0, 12, 2), "hi": range(3, 10)}
    return {
        lang: (np.array([f"{lang}:q{i}" for i in ids]), rng.normal(size=(k, len(ids)))) for lang, ids in have.items()
    }


def test_item_keys_join_translations_and_keep_other_ids_apart() -> None:
    assert item_key("ar", "ar:56beb4343aeaaa14008c925b") == "56beb4343aeaaa14008c925b"
    assert item_key("ar", "arabic-2387335860751143628-1") == "ar|arabic-2387335860751143628-1"
    assert item_key("de", "en:q1") == "de|en:q1"


def test_design_items_statistic_and_influence() -> None:
    rng = np.random.default_rng(0)
    diffs = mlqa_like(rng)
    d = build_design(diffs, seeds=[0, 1, 2])
    assert d.n_items == 12 and d.n_queries == 12 + 6 + 7
    # T_s: macro average of the per-language means.
    manual = np.mean([v.mean(axis=1) for _, v in diffs.values()], axis=0)
    np.testing.assert_allclose(d.per_seed(), manual)
    # Influence: item j's contribution N * sum_l w_l (D_l[j] - mean_l) / n_l, summed over the
    # languages that have it; it is the derivative of T_s with respect to the item's weight.
    z = d.influence()
    s = 1  # item q4 is in en and de, not hi
    expected = 12 * sum(
        (1 / 3) * (v[s, list(ids).index(f"{lang}:q4")] - v[s].mean()) / v.shape[1]
        for lang, (ids, v) in diffs.items()
        if f"{lang}:q4" in ids
    )
    assert z[s, d.items.index("q4")] == pytest.approx(expected)
    np.testing.assert_allclose(z.sum(axis=1), 0, atol=1e-12)
    eps = 1e-6
    counts = np.ones(12)
    counts[d.items.index("q4")] += eps
    bumped = [
        np.average(v[s], weights=counts[[d.items.index(i.split(":")[1]) for i in ids]]) for ids, v in diffs.values()
    ]
    assert (np.mean(bumped) - d.per_seed()[s]) / eps == pytest.approx(z[s, d.items.index("q4")] / 12, rel=1e-4)


def test_design_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="seed rows"):
        build_design({"en": (np.array(["en:a", "en:b"]), np.zeros((2, 2)))}, seeds=[0, 1, 2])
    with pytest.raises(ValueError, match="repeated"):
        build_design({"en": (np.array(["en:a", "en:a"]), np.zeros((1, 2)))}, seeds=[0])
    with pytest.raises(ValueError, match="no weight"):
        build_design({"en": (None, np.zeros((1, 2)))}, seeds=[0], weights={"de": 1.0})


def test_subset_and_weights() -> None:
    rng = np.random.default_rng(1)
    diffs = mlqa_like(rng)
    d = build_design(diffs, seeds=[0, 1, 2])
    sub = subset(d, ["en", "hi"], {"en": 1.0, "hi": -1.0})
    np.testing.assert_allclose(sub.per_seed(), diffs["en"][1].mean(axis=1) - diffs["hi"][1].mean(axis=1))
    assert sub.n_items == 12  # hi's items are all among en's


def test_components_match_a_two_way_anova_written_out() -> None:
    # Balanced: every item in one language; the centred contributions are x[s, i] - mean_i x[s].
    rng = np.random.default_rng(2)
    k, n = 4, 30
    x = rng.normal(size=(k, 1)) + rng.normal(size=(1, n)) + rng.normal(size=(k, n))
    d = build_design({"en": (np.array([f"en:{i}" for i in range(n)]), x)}, seeds=list(range(k)))
    comp = variance_components(d)
    grand, rows, cols = x.mean(), x.mean(axis=1), x.mean(axis=0)
    ss_s = n * np.sum((rows - grand) ** 2)
    ss_i = k * np.sum((cols - grand) ** 2)
    ss_e = np.sum((x - rows[:, None] - cols[None, :] + grand) ** 2)
    assert comp.ms_seed == pytest.approx(ss_s / (k - 1))
    assert comp.ms_item == pytest.approx(ss_i / (n - 1))
    assert comp.ms_resid == pytest.approx(ss_e / ((k - 1) * (n - 1)))
    # Var(T) = sigma_a^2/k + sigma_b^2/n + sigma_e^2/(kn) with the ANOVA estimators.
    ms_s, ms_i, ms_e = ss_s / (k - 1), ss_i / (n - 1), ss_e / ((k - 1) * (n - 1))
    expected = (ms_s - ms_e) / n / k + (ms_i - ms_e) / k / n + ms_e / (k * n)
    assert comp.variance() == pytest.approx(expected)


def test_without_item_variation_it_is_the_paired_t_test() -> None:
    # Every item shows the same difference within a seed pair: no item variance, and the test is
    # scipy's one-sample t-test of the per-seed differences (df = k - 1).
    per_seed = np.array([0.012, 0.02, 0.007, 0.015, 0.011])
    vals = np.repeat(per_seed[:, None], 50, axis=1)
    d = build_design({"en": (np.array([f"en:{i}" for i in range(50)]), vals)}, seeds=list(range(5)))
    t = seed_t_test(d)
    ref = stats.ttest_1samp(per_seed, 0.0)
    ci = ref.confidence_interval(0.95)
    assert t.df == pytest.approx(4)
    assert t.p_value == pytest.approx(ref.pvalue)
    assert (t.low, t.high) == pytest.approx((ci.low, ci.high))
    assert t.p_direction == pytest.approx(1 - ref.pvalue / 2)
    assert decide(t) == ("supported", f"p = {ref.pvalue:.3g}")
    # The claimed direction reversed (A - B < 0): the same evidence contradicts it.
    flipped = seed_t_test(d, direction=-1)
    assert decide(flipped)[0] == "contradicted"
    assert flipped.p_direction == pytest.approx(ref.pvalue / 2)


def test_fewer_than_three_seeds_is_never_decisive() -> None:
    vals = np.array([[0.05] * 40, [0.052] * 40]) + np.linspace(-0.001, 0.001, 40)
    d = build_design({"en": (np.array([f"en:{i}" for i in range(40)]), vals)}, seeds=[0, 1])
    t = seed_t_test(d)
    assert t.p_value < 0.05  # large effect, tiny spread ...
    assert decide(t) == ("undecided", "inconclusive: needs >= 3 seeds (has 2)")  # ... still not decisive
    one = seed_t_test(build_design({"en": (np.array([f"en:{i}" for i in range(40)]), vals[:1])}, seeds=[0]))
    assert not one.seeds_known and one.components.seed is None
    assert planning_note(one) == (None, "seed variance unknown with one seed pair: run >= 3 seeds to measure it")


def test_margin_shifts_the_null() -> None:
    per_seed = np.array([0.012, 0.02, 0.007, 0.015])
    d = build_design(
        {"en": (np.array([f"en:{i}" for i in range(10)]), np.repeat(per_seed[:, None], 10, axis=1))},
        seeds=list(range(4)),
    )
    t = seed_t_test(d, margin=0.01)
    assert t.p_value == pytest.approx(stats.ttest_1samp(per_seed, 0.01).pvalue)


def test_power_is_the_noncentral_t_when_seeds_dominate() -> None:
    # No item term: the planned test with k seeds is a t-test on k - 1 df.
    comp = VarianceComponents(n_seeds=5, n_items=100, ms_seed=100 * 4e-4, ms_item=0.01, ms_resid=0.01)
    assert comp.item == 0 and comp.seed == pytest.approx(4e-4)
    effect = 0.03
    for k in (3, 6, 10):
        q = stats.t.ppf(0.975, k - 1)
        nc = effect / np.sqrt(4e-4 / k)
        expected = stats.nct.sf(q, k - 1, nc) + stats.nct.cdf(-q, k - 1, nc)
        assert power_at(comp, effect, k) == pytest.approx(expected)
    k = seeds_needed(comp, effect)
    assert power_at(comp, effect, k - 1) < 0.8 <= power_at(comp, effect, k)


def test_item_variance_caps_what_seeds_can_decide() -> None:
    # Items alone give se 0.01: an effect of 0.02 (< 2.8 se) is out of reach of any number of seeds.
    comp = VarianceComponents(n_seeds=3, n_items=100, ms_seed=100 * 1e-4, ms_item=3 * 100 * 1e-4 + 0.5, ms_resid=0.5)
    assert np.sqrt(comp.item) == pytest.approx(0.01)
    assert seeds_needed(comp, 0.02) is None
    assert seeds_needed(comp, 0.04) is not None
    per_seed = np.array([0.01, 0.03, 0.02])
    d = build_design(
        {"en": (np.array([f"en:{i}" for i in range(10)]), np.repeat(per_seed[:, None], 10, axis=1))},
        seeds=[0, 1, 2],
    )
    k, note = planning_note(seed_t_test(d))
    assert k is not None and k > 3 and note.startswith(f"about {k} seeds for 80% power")


def test_holm_against_hand_worked_values() -> None:
    # Sorted: .005*4 = .02, .01*3 = .03, .03*2 = .06, .04*1 -> max(.06, .04) = .06.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.2]) == [0.2]
    assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])
    out = holm([0.01, float("nan"), 0.02])
    assert out[0] == pytest.approx(0.02) and np.isnan(out[1]) and out[2] == pytest.approx(0.02)
    assert holm([]) == []


def test_group_difference_is_welch() -> None:
    low = {"th": 0.03, "sw": 0.05, "te": 0.01, "bn": 0.04}
    high = {"en": 0.02, "de": 0.01, "fr": 0.015, "zh": 0.03, "es": 0.005}
    g = group_difference(low, high)
    ref = stats.ttest_ind(list(low.values()), list(high.values()), equal_var=False)
    assert g.estimate == pytest.approx(np.mean(list(low.values())) - np.mean(list(high.values())))
    assert g.p_value == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval(0.95)
    assert (g.low, g.high) == pytest.approx((ci.low, ci.high))
    assert group_difference({"th": 0.03}, high) is None  # one low-resource language cannot stand for a class
    m = group_mean(low)
    assert m.p_value == pytest.approx(stats.ttest_1samp(list(low.values()), 0).pvalue)


def test_class_regression_is_ols() -> None:
    gains = {"en": 0.01, "de": 0.012, "hi": 0.02, "tr": 0.018, "th": 0.03, "sw": 0.041, "te": 0.035}
    classes = {"en": 5, "de": 5, "hi": 4, "tr": 4, "th": 3, "sw": 2, "te": 1, "xx": 0}
    reg = class_regression(gains, classes)
    ref = stats.linregress([classes[g] for g in gains], list(gains.values()))
    assert reg.slope.estimate == pytest.approx(ref.slope)
    assert reg.slope.se == pytest.approx(ref.stderr)
    assert reg.slope.p_value == pytest.approx(ref.pvalue)
    assert reg.intercept == pytest.approx(ref.intercept)
    assert reg.slope.df == 5
    assert class_regression({"en": 0.1, "de": 0.2, "fr": 0.3}, {"en": 5, "de": 5, "fr": 5}) is None
    # A negative slope per class means lower classes gain more.
    assert answer(reg.slope, n_seeds=5, lower_means_more=True)[0] == "more"
    verdict, why = answer(reg.slope, n_seeds=2, lower_means_more=True)
    assert verdict == "undetermined" and why.startswith("needs >= 3 seeds (has 2); leaning 'more'")


def test_bootstrap_resamples_languages_within_groups() -> None:
    # One seed, items without spread: only the language draw varies, so the replicates' variance
    # is the group mean's bootstrap variance var_pop / n (difference of two independent groups).
    low = {"th": 0.03, "sw": 0.05, "te": 0.01, "bn": 0.04}
    high = {"en": 0.02, "de": 0.01, "fr": 0.015}
    diffs = {
        lang: (np.array([f"{lang}:{i}" for i in range(5)]), np.full((1, 5), v)) for lang, v in (low | high).items()
    }
    w = {**{lang: 1 / len(low) for lang in low}, **{lang: -1 / len(high) for lang in high}}
    d = build_design(diffs, seeds=[0], weights=w)
    b = hierarchical_bootstrap(d, n_boot=6000, seed=0, language_groups={"low": list(low), "high": list(high)})
    expected = np.var(list(low.values())) / len(low) + np.var(list(high.values())) / len(high)
    assert b.observed == pytest.approx(np.mean(list(low.values())) - np.mean(list(high.values())))
    assert b.se**2 == pytest.approx(expected, rel=0.08)
    fixed = hierarchical_bootstrap(d, n_boot=500, seed=0)
    assert fixed.se == pytest.approx(0.0, abs=1e-12)


def test_power_far_in_the_tail_is_finite() -> None:
    # scipy's noncentral t returns nan at large noncentrality; the fallback integrates the normal tail.
    comp = VarianceComponents(
        n_seeds=2, n_items=400, ms_seed=400 * 4.4e-5, ms_item=2 * 400 * 5.1e-5 + 0.01, ms_resid=0.01
    )
    assert power_at(comp, 0.2, 3) == pytest.approx(1.0)
    assert seeds_needed(comp, 0.2) == 3
    # Where both work they agree: the fallback's quadrature against the noncentral t at moderate noncentrality.
    df, nc = 5.0, 3.0
    q = stats.t.ppf(0.975, df)
    w = stats.chi2.ppf((np.arange(400) + 0.5) / 400, df) / df
    quad = np.mean(stats.norm.sf(q * np.sqrt(w) - nc) + stats.norm.cdf(-q * np.sqrt(w) - nc))
    assert quad == pytest.approx(stats.nct.sf(q, df, nc) + stats.nct.cdf(-q, df, nc), abs=1e-4)


# -- typed results and the claim's family ---------------------------------------------------------


def _arm(name: str, key: str, p: float, estimate: float = 0.02, n_seeds: int = 5) -> ArmTest:
    return ArmTest(
        name=name,
        key=key,
        estimate=estimate,
        low=estimate - 0.01,
        high=estimate + 0.01,
        se=0.005,
        df=4,
        p_value=p,
        p_adjusted=p,
        p_direction=0.99,
        direction=1,
        n_seeds=n_seeds,
        n_items=400,
        n_queries=4400,
        seed_var=1e-4,
        item_var=1e-6,
        outcome="supported" if p <= 0.05 and n_seeds >= 3 else "undecided",
        reason="",
    )


def _result(*tests: ArmTest) -> ComparisonResult:
    r = ComparisonResult(verdict=Verdict.INCONCLUSIVE, headline="", statement="s", tests_title="t")
    return r.with_tests(list(tests))


def test_holm_over_a_claims_checks_can_undo_a_decision() -> None:
    a, b = _result(_arm("mono", "k1", 0.03)), _result(_arm("mono", "k2", 0.04))
    assert a.verdict == b.verdict == Verdict.REPRODUCED  # each alone is decisive
    text = CheckResult(verdict=Verdict.REPRODUCED, headline="the paper says so")
    out = adjust_family([a, text, b])
    assert out[1] is text
    # Holm over 2: 0.03 * 2 = 0.06 > 0.05, so neither stays decisive.
    assert [t.p_adjusted for r in (out[0], out[2]) for t in r.tests] == pytest.approx([0.06, 0.06])
    assert out[0].verdict == out[2].verdict == Verdict.INCONCLUSIVE
    assert "Holm-adjusted over 2 tests 0.06" in out[0].headline
    assert out[0].tables[0].rows[0][-3].startswith("p = 0.03, Holm-adjusted")


def test_the_same_difference_tested_twice_counts_once() -> None:
    # A comparison and a reported check of hybrid vs mono on one metric test the same data.
    a, b = _result(_arm("mono", "same", 0.03)), _result(_arm("XLM-R", "same", 0.03))
    out = adjust_family([a, b])
    assert [r.verdict for r in out] == [Verdict.REPRODUCED, Verdict.REPRODUCED]
    assert out[0].tests[0].family_size == 1


def test_several_arms_combine_and_headline_names_them() -> None:
    r = _result(*adjusted([_arm("mono", "k1", 0.001), _arm("xy", "k2", 0.3)]))
    assert r.verdict == Verdict.PARTIAL
    assert r.headline == "s; mono: supported; xy: the 95% interval includes the margin (p = 0.3)"
    two_seeds = _result(_arm("mono", "k1", 0.001, n_seeds=2))
    assert two_seeds.verdict == Verdict.INCONCLUSIVE


def test_reported_result_is_decided_by_direction_and_reports_the_size() -> None:
    # The size beside the paper's is shown (our interval, paper inside or not), not decided: a smaller
    # backbone need not reach the paper's effect. A decided wrong direction refutes.
    tests = adjusted([_arm("XLM-R", "k", 0.001), _arm("LaBSE", "k", 0.001)])
    base = ReportedResult(verdict=Verdict.INCONCLUSIVE, headline="", statement="s", tests_title="t")
    for sizes in ([1.2, 0.8], [1.2, 0.3], [0.3, 0.3]):
        assert base.model_copy(update={"sizes": sizes}).with_tests(tests).verdict == Verdict.REPRODUCED
    wrong = [t.model_copy(update={"estimate": -t.estimate, "shift": -t.claimed_shift}) for t in tests]
    assert base.with_tests(adjusted(wrong)).verdict == Verdict.NOT_REPRODUCED


def test_reliability_bins_match_numpy_binning_and_calibration_error() -> None:
    from repro.checks.stats.reliability import calibration_error, reliability_bins

    rng = np.random.default_rng(7)
    confidence = np.concatenate([rng.uniform(0, 1, 500), [0.0, 1.0, 0.5]])  # both ends and an inner edge
    right = rng.uniform(0, 1, confidence.size) < confidence  # calibrated by construction
    edges = np.linspace(0, 1, 6)
    bins = reliability_bins(zip(confidence.tolist(), right.tolist(), strict=True), edges)
    index = np.clip(np.digitize(confidence, edges) - 1, 0, len(edges) - 2)  # [lo, hi), the last bin closed
    assert [b.n for b in bins] == np.bincount(index, minlength=5).tolist()
    for k, b in enumerate(bins):
        assert b.confidence == pytest.approx(confidence[index == k].mean(), rel=1e-12)
        assert b.right == pytest.approx(right[index == k].mean(), rel=1e-12)
    expected = sum((index == k).sum() * abs(confidence[index == k].mean() - right[index == k].mean()) for k in range(5))
    assert calibration_error(bins) == pytest.approx(expected / confidence.size, rel=1e-12)
    assert calibration_error(bins) < 0.06  # calibrated data: small, up to sampling error
    # Always right at confidence ~0.1: the error is the whole gap.
    assert calibration_error(reliability_bins([(0.1, True)] * 10, edges)) == pytest.approx(0.9)
    assert reliability_bins([], edges) == [] and np.isnan(calibration_error([]))
