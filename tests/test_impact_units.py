"""The impact designs' arithmetic on hand-made samples (every expected value worked by hand).

A matched sample of two supported pupils A and D (sets 1 and 2) and comparison pupil B, who
serves both sets, plus C in set 1 (weights 1/2 in set 1, 1 in set 2)::

    unit  set  weight  pre  post  change   wk-2  wk-1  wk0  wk1   f
    A      1   1       30   20    -10       20    30   10   20    2
    B      1   1/2     30   26     -4       25    30   30   20    1
    C      1   1/2     28   26     -2       30    20   20   40    3
    D      2   1       20   18     -2       10    10    0   10    4
    B      2   1       22   22      0       10    20   20   20    5

* DiD: set 1: -10 - (-4 - 2)/2 = -7; set 2: -2 - 0 = -2; mean -4.5. Naive: (-10 - 2)/2 = -6.
* Event study (base week -1): week 0: set 1 (10-30) - [(30-30) + (20-20)]/2 = -20, set 2
  (0-10) - (20-20) = -10, mean -15; week 1: set 1 -10 - [(-10) + 20]/2 = -15, set 2 0 - 0 = 0,
  mean -7.5; week -2: set 1 -10 - [(-5) + 10]/2 = -12.5, set 2 0 - (-10) = 10, mean -1.25;
  average after the start (-15 - 7.5)/2 = -11.25.
* Balance of ``f``: supported mean 3, variance 1; all candidates 0, 2, 4, 6: mean 3, variance 5;
  comparison weighted mean (1/2 + 3/2 + 5)/2 = 3.5; SMD after (3 - 3.5)/sqrt((1 + 5)/2) =
  -0.2887, before 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attendance_lib.impact.did import did_from_units, matched_did
from attendance_lib.impact.estimate import Estimate
from attendance_lib.impact.event_study import event_study
from attendance_lib.impact.heterogeneity import attendance_band_at_start
from attendance_lib.impact.matching import MatchedSample, MatchParams, balance_table
from attendance_lib.impact.naive import naive_before_after
from attendance_lib.impact.rdd import local_linear, mccrary
from attendance_lib.impact.report import headline, naive_sentence


def _sample() -> MatchedSample:
    u = pd.DataFrame({
        "upn": ["A", "B", "C", "D", "B"],
        "role": ["treated", "comparison", "comparison", "treated", "comparison"],
        "set": [1, 1, 1, 2, 2],
        "weight": [1.0, 0.5, 0.5, 1.0, 1.0],
        "pre_rate": [30.0, 30, 28, 20, 22], "post_rate": [20.0, 26, 26, 18, 22],
        "wk_m2": [20.0, 25, 30, 10, 10], "wk_m1": [30.0, 30, 20, 10, 20],
        "wk_p0": [10.0, 30, 20, 0, 20], "wk_p1": [20.0, 20, 40, 10, 20],
        "f": [2.0, 1, 3, 4, 5],
    })
    pool = pd.DataFrame({"f": [0.0, 2, 4, 6]})
    params = MatchParams(window_weeks=2, event_before=2)
    return MatchedSample("mentoring", params, u, pool, {},
                         u[u["role"] == "treated"].reset_index(drop=True))


def test_matched_did_is_the_mean_of_set_differences():
    s = _sample()
    e = matched_did(s, adjust=False)
    assert e.estimate_pp == pytest.approx(-4.5)
    assert e.n_treated == 2 and e.n_comparison == 2  # B counted once
    assert e.diagnostics["treated_change_pp"] == pytest.approx(-6.0)
    assert e.diagnostics["comparison_change_pp"] == pytest.approx(-1.5)
    assert e.ci_low < -4.5 < e.ci_high and e.se > 0


def test_naive_is_the_supported_pupils_change():
    e = naive_before_after(_sample())
    assert e.estimate_pp == pytest.approx(-6.0)
    assert e.design == "naive_before_after" and e.n_comparison == 0


def test_event_study_long_differences():
    es = event_study(_sample())
    t = es.table.set_index("rel_week")["estimate_pp"]
    assert t[0] == pytest.approx(-15.0)
    assert t[1] == pytest.approx(-7.5)
    assert t[-2] == pytest.approx(-1.25)
    assert t[-1] == 0.0
    assert es.average.estimate_pp == pytest.approx(-11.25)
    assert es.pretrend["weeks"] == [-2]


def test_balance_table_standardised_differences():
    b = balance_table(_sample(), features=["f"]).set_index("feature")
    assert b.loc["f", "treated_mean"] == pytest.approx(3.0)
    assert b.loc["f", "comparison_mean"] == pytest.approx(3.5)
    assert b.loc["f", "smd_before"] == pytest.approx(0.0)
    assert b.loc["f", "smd_after"] == pytest.approx(-0.5 / np.sqrt(3))
    assert not b.loc["f", "balanced"]


def test_sets_without_a_comparison_are_dropped():
    s = _sample()
    u = s.units[~((s.units["set"] == 2) & (s.units["role"] == "comparison"))]
    change = (u["post_rate"] - u["pre_rate"]).to_numpy()
    e = did_from_units(u, change, "mentoring", "matched_did")
    assert e.estimate_pp == pytest.approx(-7.0) and e.n_treated == 1


def test_attendance_bands_use_whole_sessions():
    a = [9, 10, 19, 20, 50, 1, 0]
    p = [100, 100, 100, 100, 100, 10, 0]
    assert attendance_band_at_start(a, p).tolist() == [
        "absence under 10%", "absence 10% to under 20%", "absence 10% to under 20%",
        "absence 20% to under 50%", "absence 50% or more", "absence 10% to under 20%",
        "no sessions yet"]


def test_headline_sentences():
    e = Estimate("mentoring", "matched_did", -1.8, -2.7, -0.9, 0.45, 120, 400)
    assert headline(e, "mentoring", 10) == (
        "Mentoring reduced absence by 1.8 percentage points (95% CI 0.9 to 2.7) in the 10 "
        "school weeks after it began, compared with similar pupils who were not mentored.")
    e = Estimate("penalty_notice", "matched_did", 0.4, -1.3, 2.1, 0.9, 50, 200)
    assert headline(e, "penalty_notice", 8).startswith(
        "There is no clear evidence that penalty notices changed absence: the estimated change "
        "is 0.4 percentage points (95% CI -1.3 to 2.1) in the 8 school weeks after they were "
        "issued")
    e = Estimate("tutoring", "matched_did", 2.0, 0.5, 3.5, 0.7, 50, 200)
    assert headline(e, "tutoring", 10).startswith("Tutoring increased absence by 2.0")
    naive = Estimate("mentoring", "naive_before_after", -14.1, -16.0, -12.2, 1.0, 300, 0,
                     {"pre_rate_pct": 37.0, "post_rate_pct": 22.9})
    did = Estimate("mentoring", "matched_did", -4.5, -6, -3, 0.7, 300, 900,
                   {"comparison_change_pp": -9.6})
    s = naive_sentence(naive, did, "mentoring")
    assert "fell by 14.1 percentage points (from 37.0% to 22.9%)" in s
    assert "comparison pupils' absence fell by 9.6 points" in s


def test_local_linear_recovers_an_exact_jump():
    x = np.linspace(-5, 5, 201)
    y = 2 + 0.5 * x + np.where(x >= 0, 3 + 0.2 * x, 0)
    df = pd.DataFrame({"x": x, "y": y, "upn": [f"p{i}" for i in range(len(x))]})
    res, used = local_linear(df, 4.0)
    assert res.params["above"] == pytest.approx(3.0)
    assert len(used) == int((np.abs(x) < 4).sum())


def test_density_check_finds_manipulation_and_not_its_absence():
    rng = np.random.default_rng(5)
    x = rng.uniform(-10, 10, 20_000)
    assert mccrary(x)["p_value"] > 0.01
    # 60% of pupils just below the cut-off pushed just above it
    moved = (x > -2) & (x < 0) & (rng.random(len(x)) < 0.6)
    y = np.where(moved, -x, x)
    d = mccrary(y)
    assert d["log_difference"] > 0.3 and d["p_value"] < 1e-4
