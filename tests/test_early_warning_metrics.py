"""Early warning: evaluation measures, rules, fairness audit and the classifier, on small inputs
whose answers are worked out by hand (or by an independent implementation: scikit-learn)."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import average_precision_score, roc_auc_score

from attendance_lib.early_warning import baselines, fairness
from attendance_lib.early_warning import metrics as m
from attendance_lib.early_warning.models import EarlyWarningClassifier, EmptyColumnsToZero


# ----------------------------------------------------------------------------- capacity
def test_capacity_k_rounds_up_and_caps_at_roll():
    # 10% of 95 = 9.5 -> 10; 10% of 100 = 10 exactly; 5% of 7 = 0.35 -> 1; k=20 of a roll of 7
    assert m.capacity_k([95, 100, 7], pct=10).tolist() == [10, 10, 1]
    assert m.capacity_k([7, 30], k=20).tolist() == [7, 20]
    with pytest.raises(ValueError):
        m.capacity_k([5], pct=10, k=3)


def test_selection_weights_share_ties_at_the_cut():
    # school a: scores 9, 7, 7, 7, 1 and k=2: 9 in, the three 7s share 1 place -> 1/3 each
    w = m.selection_weights([9, 7, 7, 7, 1, 5, 4], ["a"] * 5 + ["b"] * 2, k=2)
    assert np.allclose(w, [1, 1 / 3, 1 / 3, 1 / 3, 0, 1, 1])
    assert w[:5].sum() == pytest.approx(2)


def test_at_capacity_precision_and_recall_by_hand():
    # school a (10 pupils, top 20% = 2): scores 10..1, labels: top one positive, third positive
    # school b (5 pupils, top 20% = 1): best-scored is negative, one positive lower down
    y = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0] + [0, 1, 0, 0, 0]
    score = list(range(10, 0, -1)) + [5, 4, 3, 2, 1]
    school = ["a"] * 10 + ["b"] * 5
    r = m.at_capacity(y, score, school, pct=20)
    # listed: a -> 2 (1 positive), b -> 1 (0 positives): precision 1/3; recall 1 of 3 positives
    assert r["listed"] == 3
    assert r["precision"] == pytest.approx(1 / 3)
    assert r["recall"] == pytest.approx(1 / 3)


def test_ece_and_calibration_table_by_hand():
    # bin [0.2, 0.3): predictions 0.25 x 4, one positive -> observed 0.25, gap 0
    # bin [0.8, 0.9): predictions 0.8 x 2, both positive -> gap 0.2; ECE = (4*0 + 2*0.2) / 6
    y = [1, 0, 0, 0, 1, 1]
    p = [0.25] * 4 + [0.8] * 2
    assert m.expected_calibration_error(y, p) == pytest.approx(0.4 / 6)
    t = m.calibration_table(y, p)
    assert t.loc[2, "pupils"] == 4 and t.loc[2, "observed"] == pytest.approx(0.25)
    assert t.loc[8, "mean_predicted"] == pytest.approx(0.8)


def test_weighted_auc_and_ap_match_scikit_learn():
    rng = np.random.default_rng(3)
    y = rng.random(3000) < 0.2
    score = np.round(rng.random(3000) + 0.4 * y, 2)  # rounded: many ties
    w = rng.integers(0, 4, 3000).astype(float)
    auc, ap = m._Ranked(y, score).auc_ap(w)
    assert auc == pytest.approx(roc_auc_score(y, score, sample_weight=w))
    assert ap == pytest.approx(average_precision_score(y, score, sample_weight=w))


def test_bootstrap_intervals_bracket_the_estimate():
    rng = np.random.default_rng(5)
    school = np.repeat(np.arange(30), 40)
    y = (rng.random(len(school)) < 0.2).astype(int)
    good = y + rng.normal(0, 0.7, len(y))
    bad = rng.normal(0, 1, len(y))
    t = m.bootstrap_metrics(y, {"good": good, "bad": bad}, school,
                            probs={"good": np.clip(0.2 + 0.1 * good, 0, 1)}, n_boot=60)
    est = t.set_index(["scorer", "metric"])
    for key in [("good", "roc_auc"), ("good", "precision_top10"), ("bad", "roc_auc")]:
        lo, e, hi = est.loc[key, ["low", "estimate", "high"]]
        assert lo <= e <= hi
    assert est.loc[("good", "roc_auc"), "low"] > est.loc[("bad", "roc_auc"), "high"]
    assert ("bad", "ece") not in est.index  # calibration only for probabilities
    assert ("good", "ece") in est.index


# ----------------------------------------------------------------------------- rules
def test_rule_scores_and_flags():
    f = pd.DataFrame({"absence_pct": [12.0, 3.0, 0.0], "prior_absence_pct": [2.0, 15.0, np.nan],
                      "prior_pa": [0.0, 1.0, np.nan], "spells_per_100": [1.0, 5.0, 0.0]})
    s = baselines.rule_scores(f)
    assert s["below_90_ytd"].tolist() == [12.0, 3.0, 0.0]
    assert s["pa_last_year"].tolist() == [2.0, 15.0, -1.0]  # no record: last
    assert s["either_rule"].tolist() == [12.0, 15.0, 0.0]
    # z-scores: rate (12, 3, 0) mean 5, sd sqrt(26); spells (1, 5, 0) mean 2, sd sqrt(14/3)
    z = (np.array([12, 3, 0]) - 5) / np.sqrt(26) + (np.array([1, 5, 0]) - 2) / np.sqrt(14 / 3)
    assert np.allclose(s["rate_plus_spells"], z)
    fl = baselines.rule_flags(f)
    assert fl["below_90_ytd"].tolist() == [True, False, False]
    assert fl["either_rule"].tolist() == [True, True, False]


# ----------------------------------------------------------------------------- fairness
def _audit_inputs():
    # 8 pupils: FSM yes for the first 4. Became PA: 1, 2, 5. Listed: 1, 3, 5, 6.
    pupils = pd.DataFrame({
        "fsm_eligible": [True, True, True, True, False, False, False, False],
        "sen_provision": ["K", "N", "N", "E", "N", "N", None, "N"],
        "sex": ["F", "M", "F", "M", "F", "M", "F", "M"],
        "ethnicity": ["WBRI", "BAFR", "WBRI", "APKN", "REFU", "WBRI", "CHNE", "MWBC"]})
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    listed = np.array([1, 0, 1, 0, 1, 1, 0, 0], bool)
    return pupils, y, listed


def test_fairness_audit_counts_by_hand():
    pupils, y, listed = _audit_inputs()
    groups = fairness.characteristic_groups(pupils)
    assert groups["Ethnicity"].tolist() == ["White", "Black", "White", "Asian", "Not recorded",
                                            "White", "Asian", "Mixed"]
    t = fairness.fairness_audit(y, listed, groups, min_pupils=3, min_cases=1)
    fsm = t[t["characteristic"] == "FSM"].set_index("group")
    # FSM: PA 1,2; listed 1,3 -> TP 1 (pupil 1), FP 1 (3), FN 1 (2), TN 1 (4)
    row = fsm.loc["Eligible for FSM"]
    assert (row["true_positives"], row["false_positives"], row["false_negatives"],
            row["true_negatives"]) == (1, 1, 1, 1)
    assert row["recall"] == pytest.approx(0.5)
    # not FSM: PA 5; listed 5, 6 -> TP 1, FP 1, FN 0, TN 2; recall 1, FPR 1/3, precision 1/2
    ref = fsm.loc["Not eligible for FSM"]
    assert ref["is_reference"]
    assert ref["recall"] == 1.0 and ref["false_positive_rate"] == pytest.approx(1 / 3)
    assert row["recall_ratio"] == pytest.approx(0.5)
    assert row["false_positive_rate_ratio"] == pytest.approx(0.5 / (1 / 3))
    overall = fsm.loc["Overall"]
    assert overall["pupils"] == 8 and overall["became_pa"] == 3 and overall["listed"] == 4
    assert overall["recall"] == pytest.approx(2 / 3)
    sen = t[t["characteristic"] == "SEN provision"].set_index("group")
    assert sen.loc["Not recorded", "pupils"] == 1
    assert "small group" in sen.loc["EHC plan", "warning"]
    assert lo_le_hi(t)
    assert fairness.sums_match(t)


def lo_le_hi(t):
    ok = t["recall"].isna() | ((t["recall_low"] <= t["recall"]) & (t["recall"] <= t["recall_high"]))
    return bool(ok.all())


def test_sums_match_catches_a_wrong_table():
    pupils, y, listed = _audit_inputs()
    t = fairness.fairness_audit(y, listed, fairness.characteristic_groups(pupils))
    bad = t.copy()
    i = bad.index[(bad["characteristic"] == "Sex") & (bad["group"] == "Girls")][0]
    bad.loc[i, "true_positives"] += 1
    assert not fairness.sums_match(bad)


def test_listed_top_breaks_ties_by_upn():
    # school s: three pupils tied; top 1 goes to the alphabetically first UPN
    listed = fairness.listed_top([0.5, 0.5, 0.5, 0.9], ["s", "s", "s", "t"],
                                 ["C1", "A1", "B1", "Z9"], k=1)
    assert listed.tolist() == [False, True, False, True]


# ----------------------------------------------------------------------------- classifier
def _logistic_data(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.normal(size=n), "empty": np.nan})
    X.loc[rng.random(n) < 0.1, "b"] = np.nan
    logit = -1.5 + 1.2 * X["a"] + 0.8 * X["b"].fillna(0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    groups = rng.integers(0, 24, n)
    years = np.where(rng.random(n) < 0.5, 2022, 2023)
    return X, y, groups, years, 1 / (1 + np.exp(-logit))


def test_classifier_chooses_on_validation_and_is_calibrated():
    X, y, groups, years, truth = _logistic_data()
    clf = EarlyWarningClassifier(random_state=1).fit(X, y, groups=groups, years=years)
    assert set(clf.validation_) == {"logistic", "boosting"}
    best = max(clf.validation_, key=lambda k: clf.validation_[k]["average_precision"])
    assert clf.chosen_ == best
    Xt, yt, _, _, truth_t = _logistic_data(seed=9)
    p = clf.predict_proba(Xt)[:, 1]
    # against the true probabilities the data were drawn from
    assert np.corrcoef(p, truth_t)[0, 1] > 0.9
    assert m.expected_calibration_error(yt, p) < 0.04
    risk, order = clf.rank_score(Xt)
    assert np.array_equal(risk, p)
    # the order key never reverses two different risks
    i = np.argsort(risk)
    assert np.all(np.diff(order[i])[np.diff(risk[i]) > 0] > 0)
    assert clone(clf).get_params() == clf.get_params()


def test_classifier_refuses_missing_features_and_one_class():
    X, y, groups, years, _ = _logistic_data(n=2000)
    with pytest.raises(ValueError, match="both outcomes"):
        EarlyWarningClassifier().fit(X, np.zeros(len(y)), groups=groups, years=years)
    clf = EarlyWarningClassifier(candidates=("logistic",)).fit(X, y, groups=groups, years=years)
    with pytest.raises(ValueError, match="lacks features"):
        clf.predict_proba(X.drop(columns="a"))


def test_empty_columns_to_zero():
    t = EmptyColumnsToZero().fit(np.array([[1.0, np.nan], [2.0, np.nan]]))
    assert t.transform(np.array([[3.0, 5.0]])).tolist() == [[3.0, 0.0]]
    assert math.isnan(np.array([[np.nan]])[0, 0])
