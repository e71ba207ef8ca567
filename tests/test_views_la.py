"""LA overview views (attendance_lib.views.la, .published): funnel limits, focus rule,
suppressed LA tables, published benchmarks.

Control limits are checked against the normal approximation written out by hand:
``p0 +/- z * sqrt(p0 (1 - p0) / n)`` with z = 1.959964 (95%) and 3.090232 (99.8%), the
two-sided points of the standard normal. Published figures come from domain.md 3.2 and from
the DfE files read directly with pandas.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import UPN, URN_A, URN_B, RegisterBuilder

from attendance_lib import paths
from attendance_lib.privacy import SUPPRESSED
from attendance_lib.views import la
from attendance_lib.views.published import published_benchmark

P = "/ \\"
AS_OF = "2024-09-20"
Z95, Z998 = 1.959964, 3.090232


# --------------------------------------------------------------------------- control limits
def test_control_limits_by_hand():
    lo, hi = la.control_limits(0.2, 100, la.Z95)
    # sqrt(0.2 * 0.8 / 100) = 0.04
    assert (float(lo), float(hi)) == (pytest.approx(0.2 - Z95 * 0.04, abs=1e-6),
                                      pytest.approx(0.2 + Z95 * 0.04, abs=1e-6))
    assert float(hi) == pytest.approx(0.2783986, abs=1e-6)
    lo, hi = la.control_limits(0.2, 100, la.Z998)
    assert (float(lo), float(hi)) == (pytest.approx(0.0763907, abs=1e-6),
                                      pytest.approx(0.3236093, abs=1e-6))
    # a small school: the lower limit is clipped at 0
    lo, hi = la.control_limits(0.02, 4, la.Z998)
    assert float(lo) == 0.0 and float(hi) == pytest.approx(0.02 + Z998 * math.sqrt(0.0196 / 4),
                                                           abs=1e-6)
    # a given standard deviation replaces the binomial one: 0.05 +/- 1.96 * 0.1 / 5
    lo, hi = la.control_limits(0.05, 25, la.Z95, sd=0.1)
    assert (float(lo), float(hi)) == (pytest.approx(0.05 - Z95 * 0.02, abs=1e-6),
                                      pytest.approx(0.05 + Z95 * 0.02, abs=1e-6))


def _schools(rows, rates=None):
    df = pd.DataFrame(rows, columns=["urn", "school", "phase", "enrolments", "pa_count",
                                     "possible_sessions", "absent_sessions"])
    if rates is not None:
        df.attrs["enrolment_rates"] = pd.DataFrame(rates, columns=["urn", "phase", "absent",
                                                                   "possible"])
    return df


def test_pa_funnel_positions_by_hand():
    # primary: 140 PA of 500 -> p0 = 0.28, sd = sqrt(0.28 * 0.72)
    s = _schools([("1", "Low", "primary", 100, 10, 1000, 50),
                  ("2", "Mid", "primary", 300, 90, 3000, 150),
                  ("3", "High", "primary", 100, 40, 1000, 50),
                  ("4", "Tiny", "primary", 0 + 3, 0, 30, 1),
                  ("5", "Sec", "secondary", 200, 50, 2000, 100)])
    # Tiny (3 enrolments) joins the primary total: 140 PA of 503
    f = la.funnel(s, "pa").set_index("urn")
    p0 = 140 / 503
    se100 = math.sqrt(p0 * (1 - p0) / 100)
    assert f.loc["1", "centre_pct"] == pytest.approx(p0 * 100)
    assert f.loc["3", "hi95_pct"] == pytest.approx((p0 + Z95 * se100) * 100, abs=1e-4)
    assert f.loc["3", "hi998_pct"] == pytest.approx((p0 + Z998 * se100) * 100, abs=1e-4)
    assert f.loc["1", "lo998_pct"] == pytest.approx((p0 - Z998 * se100) * 100, abs=1e-4)
    # High 40% > 27.83 + 1.96 * 4.48 = 36.6 but < 27.83 + 3.09 * 4.48 = 41.7
    assert f.loc["3", "position"] == "above 95% limit"
    # Low 10% < 27.83 - 3.09 * 4.48 = 13.97
    assert f.loc["1", "position"] == "below 99.8% limit"
    assert f.loc["2", "position"] == "within limits"
    assert f.loc["4", "shown"] and f.loc["4", "position"] == "within limits"
    # suppressing below 5: Tiny goes (3 pupils, 0 PA), and so does the school with the next
    # smallest counts (Low: 100 pupils, 10 PA), or the LA total would give Tiny's back
    h = la.funnel(s, "pa", suppress_below=5).set_index("urn")
    assert h["shown"].to_dict() == {"1": False, "2": True, "3": True, "4": False, "5": True}
    assert h.loc["4", "position"] == "not shown (small numbers)"
    assert h.loc["3", "position"] == "above 95% limit"
    # the secondary school is compared with its own phase only: it is the centre
    assert f.loc["5", "centre_pct"] == pytest.approx(25.0)
    assert f.loc["5", "position"] == "within limits"


def test_overall_funnel_uses_pupils_spread():
    # two primary schools; pupils' absence rates 0.0, 0.1, 0.2 (sd 0.1) and 0.1, 0.1 (sd of all
    # five: mean 0.1, squares 0.01 + 0 + 0.01 + 0 + 0 = 0.02 / 4 -> sd sqrt(0.005))
    s = _schools([("1", "A", "primary", 3, 1, 300, 30), ("2", "B", "primary", 2, 0, 200, 20)],
                 rates=[("1", "primary", 0, 100), ("1", "primary", 10, 100),
                        ("1", "primary", 20, 100), ("2", "primary", 10, 100),
                        ("2", "primary", 10, 100)])
    f = la.funnel(s, "overall").set_index("urn")
    sd = math.sqrt(0.005)
    assert f.loc["1", "sd"] == pytest.approx(sd)
    assert f.loc["1", "centre_pct"] == pytest.approx(10.0)     # 50 of 500 sessions
    assert f.loc["1", "hi95_pct"] == pytest.approx((0.1 + Z95 * sd / math.sqrt(3)) * 100,
                                                   abs=1e-4)
    assert f.loc["2", "lo998_pct"] == pytest.approx(max(0.0, (0.1 - Z998 * sd / math.sqrt(2))
                                                        * 100), abs=1e-4)
    with pytest.raises(ValueError, match="measure"):
        la.funnel(s, "attendance")


def test_tsm_focus_rule():
    s = _schools([("1", "Strong", "primary", 100, 0, 1, 0), ("2", "Two signs", "primary", 100,
                                                                0, 1, 0),
                  ("3", "One sign", "primary", 100, 0, 1, 0), ("4", "Quiet", "primary", 100,
                                                               0, 1, 0)])

    def fun(positions):
        return pd.DataFrame({"urn": ["1", "2", "3", "4"], "shown": True, "rate_pct": 30.0,
                             "hi95_pct": 20.0, "hi998_pct": 25.0, "centre_pct": 15.0,
                             "phase": "primary", "position": positions})

    pa = fun(["above 99.8% limit", "above 95% limit", "within limits", "within limits"])
    overall = fun(["within limits"] * 4)
    change = pd.DataFrame({"urn": ["1", "2", "3", "4"], "recent_pct": [8, 9, 9, 5],
                           "last_year_pct": [8, 7, 7.5, 5.5], "change_pp": [0, 2, 1.5, -0.5]})
    # LA rate: 22 at threshold of 400 = 5.5 per 100; school 2 has 12 (2.2x), school 3 has 6
    legal = pd.DataFrame({"urn": ["2", "3", "4"], "at_threshold": [12, 6, 4]})
    f = la.tsm_focus(s, pa, overall, change, legal, 5).set_index("school")
    assert f.loc["Strong", "focus"] == "TSM focus" and f.loc["Strong", "beyond_998"]
    assert f.loc["Strong", "signs"] == 0
    assert "above the 99.8% control limit" in f.loc["Strong", "reasons"]
    # PA above 95% + rising + many at the threshold: three signs
    assert f.loc["Two signs", "focus"] == "TSM focus" and f.loc["Two signs", "signs"] == 3
    assert "12 pupils at the legal threshold" in f.loc["Two signs", "reasons"]
    # rising only (1.5 points)
    assert f.loc["One sign", "focus"] == "Watch"
    assert "1.5 points above the same weeks last year" in f.loc["One sign", "reasons"]
    assert f.loc["Quiet", "focus"] == "No extra focus"
    assert f.index.tolist()[:2] == ["Strong", "Two signs"]


# --------------------------------------------------------------------------- on a store
@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """School A: P0 present, P1 "I I" once (10%), P2 "O \\" daily (50%), P3 one N (5%);
    school B: P4 "O I" daily. Mon 9 - Fri 20 Sep 2024; last year P0, P1 at A Mon 11 - Fri 22
    Sep 2023 with P1 "I I" on the first two days. Postcodes: P0, P1 AB1; P2 AB1; P3 AB12;
    P4 AB2."""
    reg = RegisterBuilder(tmp_path_factory.mktemp("la_views"))
    reg.school(URN_A, name="Alpha Primary", phase="primary", la_code="999")
    reg.school(URN_B, name="Beta Primary", phase="primary", la_code="999")
    info = [(UPN[0], URN_A, "N", "AB1 2CD"), (UPN[1], URN_A, "Y", "AB1 2CE"),
            (UPN[2], URN_A, "Y", "AB1 3EF"), (UPN[3], URN_A, "N", "AB12 1XY"),
            (UPN[4], URN_B, "Y", "AB2 9ZZ")]
    for u, s, fsm, pc in info:
        reg.pupil(u, s, fsm_eligible=fsm, postcode=pc, name=f"Name {u[-1]}")
    reg.repeat(UPN[0], URN_A, "2024-09-09", P, 10)
    reg.days(UPN[1], URN_A, "2024-09-09", "I I", *[P] * 9)
    reg.repeat(UPN[2], URN_A, "2024-09-09", "O \\", 10)
    reg.days(UPN[3], URN_A, "2024-09-09", *[P] * 9, "/ N")
    reg.repeat(UPN[4], URN_B, "2024-09-09", "O I", 10)
    reg.repeat(UPN[0], URN_A, "2023-09-11", P, 10)
    reg.days(UPN[1], URN_A, "2023-09-11", "I I", "I I", *[P] * 8)
    return reg.ingest()


def test_school_summary(store):
    s = la.school_summary(store, AS_OF).set_index("urn")
    assert s.loc[URN_A, ["school", "enrolments", "pa_count", "sa_count"]].tolist() == [
        "Alpha Primary", 4, 2, 1]
    assert s.loc[URN_A, "overall_absence_pct"] == pytest.approx(16.25)
    assert s.loc[URN_B, "overall_absence_pct"] == pytest.approx(100.0)
    assert "upn" not in s.columns and "name" not in s.columns


def test_neighbourhoods_suppressed(store):
    n = la.neighbourhoods(store, AS_OF, 2)
    # AB1: P0, P1, P2 (12 of 60 = 20%, PA P1 and P2); AB2 and AB12 have one pupil each
    assert n["district"].tolist() == ["AB1", "AB2", "AB12"]
    ab1 = n.iloc[0]
    assert (ab1["enrolments"], ab1["pa_count"]) == (3, 2)
    assert ab1["overall_absence_pct"] == pytest.approx(20.0)
    assert n.iloc[1].tolist()[1:] == [SUPPRESSED] * 4
    assert n.iloc[2].tolist()[1:] == [SUPPRESSED] * 4
    # with a threshold of 5 nothing is left to show
    assert set(la.neighbourhoods(store, AS_OF, 5)["enrolments"]) == {SUPPRESSED}


def test_cohort_gaps_la_suppressed(store):
    g = la.cohort_gaps(store, AS_OF, 2).set_index("group")
    # FSM: P1, P2, P4 (3 pupils, 2 + 10 + 20 = 32 absent of 60; PA all 3; SA P2, P4) against P0, P3
    # (2 pupils, 1 absent of 40 = 2.5%; no PA, no SA)
    assert g.loc["FSM eligible", "enrolments"] == 3
    assert g.loc["FSM eligible", "overall_absence_pct"] == pytest.approx(3200 / 60)
    assert g.loc["Not FSM eligible", "enrolments"] == 2
    assert g.loc["Not FSM eligible", "overall_absence_pct"] == pytest.approx(2.5)
    assert g.loc["FSM eligible", "overall_gap_pp"] == pytest.approx(3200 / 60 - 2.5)
    # 0 PA pupils is below 2: hidden, and so is the cohort's only other PA count (5 - ...)
    for grp in ("FSM eligible", "Not FSM eligible"):
        assert g.loc[grp, ["pa_count", "pa_pct", "pa_gap_pp", "sa_count", "sa_pct"]].tolist() \
            == [SUPPRESSED] * 5
    assert g.attrs["missing"] == ["sen_provision", "eal", "sex", "year_group",
                                  "has_social_worker"]
    # with a threshold of 3 the 2-pupil group goes, and with it the other group's count
    g3 = la.cohort_gaps(store, AS_OF, 3).set_index("group")
    assert g3["enrolments"].tolist() == [SUPPRESSED, SUPPRESSED]
    assert g3["overall_absence_pct"].tolist() == [SUPPRESSED, SUPPRESSED]


def test_yearly_same_point(store):
    y = la.yearly_same_point(store, AS_OF)
    assert y["academic_year"].tolist() == ["2023/24", "2024/25"]
    assert y["to_date"].tolist() == ["20 Sep 2023", "20 Sep 2024"]
    # to Wed 20 Sep 2023: P0 16 sessions, P1 16 with 4 I -> 4 of 32 = 12.5%; PA P1 (25%) 1 of 2
    assert y["overall_absence_pct"].tolist() == pytest.approx([12.5, 33.0])
    assert y["pa_pct"].tolist() == pytest.approx([50.0, 60.0])


def test_recent_change_and_legal_counts(store):
    c = la.recent_change(store, AS_OF).set_index("urn")
    # school A: last 4 weeks = 13 of 80 (16.25%); same weeks last year 4 of 40 (10%)
    assert c.loc[URN_A, "recent_pct"] == pytest.approx(16.25)
    assert c.loc[URN_A, "last_year_pct"] == pytest.approx(10.0)
    assert c.loc[URN_A, "change_pp"] == pytest.approx(6.25)
    assert pd.isna(c.loc[URN_B, "last_year_pct"])
    legal = la.legal_threshold_counts(store, AS_OF).set_index("urn")["at_threshold"]
    assert legal.to_dict() == {URN_A: 1, URN_B: 1}      # P2 and P4: 10 O each


def test_published_comparison_synthetic_la(store):
    table, bench = la.published_comparison(store, AS_OF, folder=paths.dfe_dir())
    assert table["area"].tolist() == ["This LA (your data)", "England (published)"]
    assert table["overall_absence_pct"].iloc[0] == pytest.approx(33.0)
    assert any("999" in n and "only England" in n for n in bench.notes)
    assert "upn" not in table.columns


# --------------------------------------------------------------------------- published data
@pytest.mark.realdata
def test_published_full_year_england_and_trafford():
    # 31 Jul 2025: no weekly file reaches it -> full year 2024/25 (domain.md 3.2: 6.87 / 18.70)
    b = published_benchmark("2025-07-31", la_code="358")
    eng = b.row("England")
    assert eng["overall_absence_pct"] == pytest.approx(6.87, abs=0.02)
    assert eng["pa_pct"] == pytest.approx(18.7, abs=0.01)
    assert eng["absence_basis"] == "published full year 2024/25"
    assert b.la_name == "Trafford" and b.region_name == "North West"
    assert b.table["level"].tolist() == ["England", "Region", "LA"]
    assert not b.notes


@pytest.mark.realdata
def test_published_same_weeks_from_the_weekly_file():
    # 6 Dec 2024: weekly 2024/25 weeks 37-49 (9 Sep - 2 Dec 2024) summed from the file directly
    f = pd.read_csv(paths.dfe_dir() / "ees_pupil_attendance" /
                    "attendance_weekly_202425_autumn_wk37-49.csv.gz", dtype=str)
    nat = f[(f["geographic_level"] == "National") & (f["school_type"] == "Secondary")]
    expected = (pd.to_numeric(nat["overall_absence"]).sum()
                / pd.to_numeric(nat["possible_sessions"]).sum() * 100)
    b = published_benchmark("2024-12-06", phase="secondary")
    eng = b.row("England")
    assert eng["name"] == "England (secondary)"
    assert eng["overall_absence_pct"] == pytest.approx(expected)
    assert eng["absence_basis"].startswith("published weekly data, weeks beginning 09 Sep 2024 "
                                           "to 02 Dec 2024")


@pytest.mark.realdata
def test_published_pa_same_week():
    # the PA year-to-date file has week 10 of 2025 (3 Mar 2025) for England, all schools
    f = pd.read_csv(paths.dfe_dir() / "ees_pupil_attendance" /
                    "attendance_persistent_absence_ytd_2025_weeks08-30.csv.gz", dtype=str)
    row = f[(f["geographic_level"] == "National") & (f["time_identifier"] == "Week 10")
            & (f["education_phase"] == "All schools")]
    b = published_benchmark("2025-03-07")
    assert b.row("England")["pa_pct"] == pytest.approx(float(row["persistent_absence_percent"]
                                                             .iloc[0]))
    assert "week beginning 03 Mar 2025" in b.row("England")["pa_basis"]
