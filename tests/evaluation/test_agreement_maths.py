"""Agreement statistics against values computed by hand."""

import pytest

from evaluation.agreement import cohen_kappa, cohen_kappa_per_class, krippendorff_alpha_nominal


def test_cohen_kappa_matches_hand_computed_two_by_two_table():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    # p_o = 35/50 = 0.70; A says yes 25/50, B says yes 30/50;
    # p_e = 0.5*0.6 + 0.5*0.4 = 0.50; kappa = (0.70 - 0.50) / (1 - 0.50) = 0.40.
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.40)


def test_cohen_kappa_three_classes_hand_computed():
    # a/a, a/a, b/b, b/c, c/c, c/a: p_o = 4/6.
    # A: a 2, b 2, c 2; B: a 3, b 1, c 2. p_e = (2*3 + 2*1 + 2*2) / 36 = 12/36 = 1/3.
    # kappa = (2/3 - 1/3) / (2/3) = 0.5.
    pairs = [("a", "a"), ("a", "a"), ("b", "b"), ("b", "c"), ("c", "c"), ("c", "a")]
    assert cohen_kappa(pairs) == pytest.approx(0.5)


def test_cohen_kappa_perfect_and_undefined():
    assert cohen_kappa([("a", "a"), ("b", "b")]) == pytest.approx(1.0)
    assert cohen_kappa([("a", "a"), ("a", "a")]) is None  # no variation: undefined
    assert cohen_kappa([]) is None


def test_cohen_kappa_below_chance_is_negative():
    assert cohen_kappa([("a", "b"), ("b", "a")]) == pytest.approx(-1.0)


def test_per_class_kappa_is_one_vs_rest():
    pairs = [("a", "a"), ("a", "a"), ("b", "b"), ("b", "c"), ("c", "c"), ("c", "a")]
    per_class = cohen_kappa_per_class(pairs)
    # Class "b": binary pairs T/T, F/F x2, T/F, F/F, F/F -> p_o = 5/6;
    # A true 2/6, B true 1/6: p_e = (2*1 + 4*5)/36 = 22/36; kappa = (30/36-22/36)/(14/36) = 8/14.
    assert per_class["b"] == pytest.approx(8 / 14)
    assert set(per_class) == {"a", "b", "c"}


def test_krippendorff_alpha_nominal_small_hand_computed():
    # Units (a,a), (a,b), (b,b). Coincidences: o_aa = 2, o_ab = o_ba = 1, o_bb = 2.
    # n_a = 3, n_b = 3, n = 6. alpha = 1 - (n-1) * (o_ab + o_ba) / (n_a*n_b + n_b*n_a)
    #       = 1 - 5 * 2 / 18 = 4/9.
    assert krippendorff_alpha_nominal([["a", "a"], ["a", "b"], ["b", "b"]]) == pytest.approx(4 / 9)


def test_krippendorff_alpha_three_raters_and_missing_values_hand_computed():
    # Unit 1: (a, a, a) -> o_aa += 6 * 1/2 = 3.  Unit 2: (a, b, None) -> o_ab = o_ba = 1.
    # Unit 3: (b, b) -> o_bb += 2.  Unit 4: (c) alone -> ignored.
    # n_a = 3 + 1 = 4, n_b = 1 + 2 = 3, n = 7.
    # alpha = 1 - (7 - 1) * 2 / (2 * 4 * 3) = 1 - 12/24 = 0.5.
    units = [["a", "a", "a"], ["a", "b", None], ["b", "b"], ["c"]]
    assert krippendorff_alpha_nominal(units) == pytest.approx(0.5)


def test_krippendorff_alpha_equals_its_published_reference_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example:
    # 4 observers, 12 units with missing values; alpha = 0.743.
    observers = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = [[obs[u] for obs in observers] for u in range(12)]
    assert krippendorff_alpha_nominal(units) == pytest.approx(0.743, abs=0.0005)


def test_alpha_and_kappa_undefined_without_variation():
    assert krippendorff_alpha_nominal([["a", "a"], ["a", "a"]]) is None
    assert krippendorff_alpha_nominal([["a"]]) is None
