"""Early warning: features as of a date, the population on roll, labels, and no look-ahead.

The hand-built register below is small enough to work every feature out on paper; the values
asserted are those worked out in the comments. The look-ahead test loads a synthetic LA twice,
with and without the marks after the as-of date.
"""

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import URN_A, URN_B, RegisterBuilder, make_upn

from attendance_lib import spells as spells_mod
from attendance_lib.early_warning import labels as labels_mod
from attendance_lib.early_warning.features import BASE_FEATURES, build_features, feature_names
from attendance_lib.early_warning.points import school_calendar
from attendance_lib.store import Store
from attendance_lib.synth import generate_la
from attendance_lib.term_dates import TermDates

P0, P1, P2, P3, P4, P5, P6 = (make_upn(i) for i in range(7))
AS_OF = date(2024, 10, 18)
#: half-terms: 2023/24 squeezed into the 35 weeks of registers the test writes; 2024/25 real
TERMS = TermDates(pd.DataFrame({
    "academic_year": [2023] * 6 + [2024] * 2,
    "half_term": [1, 2, 3, 4, 5, 6, 1, 2],
    "start": ["2023-09-04", "2023-10-16", "2023-11-27", "2024-01-08", "2024-02-19",
              "2024-04-01", "2024-09-02", "2024-11-04"],
    "end": ["2023-10-13", "2023-11-24", "2024-01-05", "2024-02-16", "2024-03-29",
            "2024-05-03", "2024-10-25", "2024-12-20"]}))


def _mondays_absent(reg, upn, urn, first_day, n_days, pair="N N"):
    """``n_days`` weekdays from a Monday, absent (``pair``) on each Monday."""
    pairs = [pair if i % 5 == 0 else "/ \\" for i in range(n_days)]
    reg.days(upn, urn, first_day, *pairs)


@pytest.fixture(scope="module")
def hand_store(tmp_path_factory):
    reg = RegisterBuilder(tmp_path_factory.mktemp("ew_hand"))
    reg.school(URN_A, "primary").school(URN_B, "secondary")
    reg.pupil(P0, URN_A, admission="2022-09-01", date_of_birth="2016-05-01")
    reg.pupil(P1, URN_A, admission="2022-09-01", date_of_birth="2016-02-01",
              has_social_worker="Y", name="Pupil One")
    reg.pupil(P2, URN_A, admission="2024-09-02", date_of_birth="2016-03-01")
    reg.pupil(P3, URN_A, admission="2024-10-07", date_of_birth="2016-04-01")
    reg.pupil(P4, URN_A, admission="2024-09-02", leaving="2024-10-04",
              date_of_birth="2016-06-01")
    reg.pupil(P5, URN_A, admission="2024-09-02", date_of_birth="2016-07-01")
    reg.pupil(P6, URN_A, admission="2022-09-01", leaving="2024-07-19",
              date_of_birth="2013-01-15")
    reg.pupil(P6, URN_B, admission="2024-09-02", date_of_birth="2013-01-15")
    # last year (2023/24): 175 weekdays from Mon 4 Sep 2023 (35 weeks) at school A
    reg.days(P0, URN_A, "2023-09-04", *(["I I"] * 20 + ["/ \\"] * 155))  # 40/350 = 11.4%
    reg.repeat(P1, URN_A, "2023-09-04", "/ \\", 175)
    reg.days(P6, URN_A, "2023-09-04", *(["O O"] * 2 + ["/ \\"] * 173))  # 4/350
    # this year: 35 weekdays, Mon 2 Sep - Fri 18 Oct 2024 (days 1-35)
    _mondays_absent(reg, P0, URN_A, "2024-09-02", 35)  # N N every Monday
    reg.days(P1, URN_A, "2024-09-02", "L \\", *(["/ \\"] * 24), *(["I I"] * 10))
    reg.days(P2, URN_A, "2024-09-02", "/ \\", "/ \\", "O /", "/ U", "E E", *(["/ \\"] * 30))
    reg.repeat(P3, URN_A, "2024-10-07", "/ \\", 10)
    reg.repeat(P4, URN_A, "2024-09-02", "/ \\", 25)
    reg.repeat(P5, URN_A, "2024-09-02", "/ \\", 15)  # marks stop on 20 Sep, no leaving date
    reg.days(P6, URN_B, "2024-09-02", *(["/ \\"] * 34), "G G")
    return reg.ingest()


@pytest.fixture(scope="module")
def hand_features(hand_store):
    cal = school_calendar(hand_store, TERMS)
    f = build_features(hand_store, AS_OF, calendar=cal, characteristics=True)
    return f.set_index("upn")


def test_population_is_who_was_on_roll(hand_features):
    # P4 left on 4 Oct; P5's marks stopped 20 Sep (more than 14 days before the last school
    # day) with no leaving date; everyone else is on roll
    assert sorted(hand_features.index) == sorted([P0, P1, P2, P3, P6])
    assert hand_features.loc[P6, "urn"] == URN_B


def test_this_year_features_by_hand(hand_features):
    f = hand_features
    # P0: N N on each of 7 Mondays: 14 of 70 sessions, all unauthorised and 'not yet known'
    assert f.loc[P0, "possible_sessions"] == 70
    assert f.loc[P0, "absence_pct"] == pytest.approx(20.0)
    assert f.loc[P0, "unauthorised_pct"] == pytest.approx(20.0)
    assert f.loc[P0, "not_yet_known_pct"] == pytest.approx(20.0)
    assert f.loc[P0, "unauthorised_share"] == pytest.approx(100.0)
    # Mondays+Fridays: 14 days = 28 sessions, 14 absent (50%); midweek 0% -> excess 50 points
    assert f.loc[P0, "monday_friday_excess"] == pytest.approx(50.0)
    # Friday afternoons never missed: 0% against 20% overall
    assert f.loc[P0, "friday_pm_excess"] == pytest.approx(-20.0)
    # last 30 school days = days 6-35 (6 Mondays): 12/60; before = days 1-5: 2/10; last 10: 4/20
    assert f.loc[P0, "absence_pct_last6w"] == pytest.approx(20.0)
    assert f.loc[P0, "absence_pct_before6w"] == pytest.approx(20.0)
    assert f.loc[P0, "absence_pct_last2w"] == pytest.approx(20.0)
    assert f.loc[P0, "trend_6w"] == pytest.approx(0.0)
    assert f.loc[P0, "legal_unauthorised_10w"] == 14
    # 7 spells of 2 sessions (each Monday); 10 spells per 100 possible sessions
    assert f.loc[P0, "spells_per_100"] == pytest.approx(10.0)
    assert f.loc[P0, "longest_spell"] == 2
    assert f.loc[P0, "mean_spell_sessions"] == pytest.approx(2.0)
    assert f.loc[P0, "single_session_spells_per_100"] == 0
    assert bool(f.loc[P0, "pa_now"]) is True
    # P1: late once (L), then ill for the last 10 days: 20/70
    assert f.loc[P1, "illness_pct"] == pytest.approx(20 / 70 * 100)
    assert f.loc[P1, "illness_share"] == pytest.approx(100.0)
    assert f.loc[P1, "late_before_pct"] == pytest.approx(1 / 70 * 100)
    assert f.loc[P1, "absence_pct_last2w"] == pytest.approx(100.0)
    assert f.loc[P1, "absence_pct_last6w"] == pytest.approx(20 / 60 * 100)
    assert f.loc[P1, "absence_pct_before6w"] == 0
    assert f.loc[P1, "trend_6w"] == pytest.approx(20 / 60 * 100)
    assert f.loc[P1, "longest_spell"] == 20
    assert f.loc[P1, "spells_per_100"] == pytest.approx(1 / 70 * 100)
    # P2: O (AM day 3), U (PM day 4), E E (day 5): 4/70; spells: O alone, then U+E+E
    assert f.loc[P2, "absence_pct"] == pytest.approx(4 / 70 * 100)
    assert f.loc[P2, "unexplained_pct"] == pytest.approx(1 / 70 * 100)
    assert f.loc[P2, "late_after_pct"] == pytest.approx(1 / 70 * 100)
    assert f.loc[P2, "suspension_sessions"] == 2
    assert f.loc[P2, "unauthorised_pct"] == pytest.approx(2 / 70 * 100)
    assert f.loc[P2, "authorised_pct"] == pytest.approx(2 / 70 * 100)
    assert f.loc[P2, "spells_per_100"] == pytest.approx(2 / 70 * 100)
    assert f.loc[P2, "single_session_spells_per_100"] == pytest.approx(1 / 70 * 100)
    assert f.loc[P2, "longest_spell"] == 3
    assert f.loc[P2, "legal_unauthorised_10w"] == 2
    assert bool(f.loc[P2, "pa_now"]) is False
    # P3 joined on 7 Oct: 20 sessions, nothing before the last 6 weeks
    assert f.loc[P3, "possible_sessions"] == 20
    assert f.loc[P3, "joined_this_year"] == 1
    assert np.isnan(f.loc[P3, "absence_pct_before6w"])
    # P6: G G on the last day
    assert f.loc[P6, "holiday_unauthorised_pct"] == pytest.approx(2 / 70 * 100)
    assert f.loc[P6, "absence_pct_last2w"] == pytest.approx(10.0)


def test_last_year_transitions_and_school_by_hand(hand_features):
    f = hand_features
    assert (f["prior_year_available"] == 1).all()
    assert f.loc[P0, "prior_absence_pct"] == pytest.approx(40 / 350 * 100)
    assert f.loc[P0, "prior_pa"] == 1 and f.loc[P0, "prior_sa"] == 0
    assert f.loc[P0, "prior_unauthorised_pct"] == 0  # illness is authorised
    # the 2023/24 'summer' (half-term 5 on) was all present for P0
    assert f.loc[P0, "prior_summer_absence_pct"] == 0
    assert f.loc[P1, "prior_pa"] == 0
    assert f.loc[P2, "prior_known"] == 0 and np.isnan(f.loc[P2, "prior_absence_pct"])
    assert f.loc[P2, "new_to_school"] == 1
    assert f.loc[P0, "new_to_school"] == 0
    # P6 moved from primary A to secondary B into Year 7 (born Jan 2013)
    assert f.loc[P6, "year_group"] == 7
    assert f.loc[P6, "phase_transition"] == 1 and f.loc[P6, "new_to_school"] == 1
    assert f.loc[P6, "prior_absence_pct"] == pytest.approx(4 / 350 * 100)
    assert f.loc[P6, "phase_secondary"] == 1
    assert f.loc[P0, "year_group"] == 4  # born May 2016: Year 4 in 2024/25
    # school A on roll: P0 14/70, P1 20/70, P2 4/70, P3 0/20 -> 38/230; 4 pupils
    assert f.loc[P0, "school_absence_pct"] == pytest.approx(38 / 230 * 100)
    assert f.loc[P0, "school_roll"] == 4
    # last year at A: P0 PA, P1 and P6 not -> 1 in 3 enrolments
    assert f.loc[P0, "school_prior_pa_pct"] == pytest.approx(100 / 3)
    assert np.isnan(f.loc[P6, "school_prior_pa_pct"])  # B had no pupils last year
    # characteristics are added only when asked for, and never by default
    assert set(feature_names(True)) - set(BASE_FEATURES) <= set(f.columns)
    assert not set(feature_names(True)) - set(BASE_FEATURES) & set(feature_names(False))


def test_spells_agree_with_the_library_spells(hand_store):
    """The numpy spell pass matches attendance_lib.spells on the same marks."""
    cal = school_calendar(hand_store, TERMS)
    f = build_features(hand_store, AS_OF, calendar=cal).set_index("upn")
    marks = hand_store.marks(start="2024-08-01", end=AS_OF)
    lib = spells_mod.spell_summary(marks).set_index(["upn", "urn"])
    for upn in f.index:
        row = lib.loc[(upn, f.loc[upn, "urn"])]
        assert f.loc[upn, "spells"] == row["spells"]
        assert f.loc[upn, "longest_spell"] == row["longest_spell"]
        assert f.loc[upn, "single_session_spells_per_100"] == pytest.approx(
            row["single_session_spells"] / row["possible_sessions"] * 100)


def test_list_rows_by_hand(hand_store, hand_features, tmp_path):
    """The school list's columns for the hand register (risk and reasons given, not modelled)."""
    from attendance_lib.early_warning.export import LIST_COLUMNS, list_frame

    iv = tmp_path / "interventions.csv"
    iv.write_text("upn,urn,type,start_date,end_date\n"
                  f"{P0},{URN_A},mentoring,2024-09-16,2024-12-20\n"  # current
                  f"{P1},{URN_A},penalty_notice,2023-10-02,\n"  # last year's: not current
                  f"{P2},{URN_A},penalty_notice,2024-10-01,\n"  # this year's: current
                  f"{P6},{URN_B},mentoring,2024-09-02,2024-10-01\n")  # ended: not current
    hand_store.ingest([], interventions=iv)
    scored = hand_features.reset_index()
    scored["risk"] = scored["upn"].map({P0: 0.9, P1: 0.7, P2: 0.5, P3: 0.3, P6: 0.2})
    scored["rank_in_school"] = scored.groupby("urn").cumcount() + 1
    scored["reasons"] = "given"
    rows = list_frame(hand_store, scored, AS_OF).set_index("upn")
    assert list(rows.columns) == ["urn", "school", *[c for c in LIST_COLUMNS if c != "upn"]]
    # attendance so far: P0 80% (persistent), P1 71.4% (persistent), P2 94.3% (at risk),
    # P3 100% (no stage), P6 97.1%
    assert rows.loc[P0, "attendance_so_far_pct"] == 80.0
    assert rows.loc[P2, "attendance_so_far_pct"] == pytest.approx(94.3)
    assert rows.loc[P0, "dfe_stage"] == "persistent" and rows.loc[P1, "dfe_stage"] == "persistent"
    assert rows.loc[P2, "dfe_stage"] == "at risk" and rows.loc[P3, "dfe_stage"] == ""
    # 14 N sessions in P0's 7 school weeks: at the 10-in-10 threshold; P2 has 2 (O and U)
    assert rows.loc[P0, "legal_threshold"] == "Yes" and rows.loc[P2, "legal_threshold"] == ""
    assert rows.loc[P1, "social_worker"] == "Yes" and rows.loc[P0, "social_worker"] == ""
    assert rows.loc[P1, "name"] == "Pupil One"
    assert rows.loc[P0, "current_interventions"] == "mentoring (from 16/09/2024)"
    assert rows.loc[P2, "current_interventions"] == "penalty notice (from 01/10/2024)"
    assert rows.loc[P1, "current_interventions"] == ""
    assert rows.loc[P6, "current_interventions"] == ""
    assert rows.loc[P1, "recent_trend"] == "worse: absence up from 0% to 33% (last 6 weeks)"
    assert rows.loc[P0, "recent_trend"] == "steady: absence 20% in the last 6 weeks"
    assert rows.loc[P6, "year_group"] == "7" and rows.loc[P0, "risk_pct"] == 90.0


# ----------------------------------------------------------------------------- labels
def test_labels_year_end_and_next_term_by_hand(tmp_path):
    # a 'year' of six two-week half-terms, so the whole year fits in a small register
    terms = TermDates(pd.DataFrame({
        "academic_year": [2024] * 6, "half_term": [1, 2, 3, 4, 5, 6],
        "start": ["2024-09-02", "2024-09-16", "2024-09-30", "2024-10-14", "2024-10-28",
                  "2024-11-11"],
        "end": ["2024-09-13", "2024-09-27", "2024-10-11", "2024-10-25", "2024-11-08",
                "2024-11-22"]}))
    reg = RegisterBuilder(tmp_path)
    reg.school(URN_A)
    for upn in (P0, P1, P2):
        reg.pupil(upn, URN_A, admission="2024-09-02")
    # P0: absent the whole of half-term 2 (20 of 40 sessions by the end of the autumn term,
    # then present): next term end PA (50%), year end 20/120 = 16.7% PA
    reg.days(P0, URN_A, "2024-09-02", *(["/ \\"] * 10 + ["I I"] * 10 + ["/ \\"] * 40))
    # P1: absent one day in half-term 2 (2/40 = 5%), then 10 days in half-term 6: 22/120 PA
    reg.days(P1, URN_A, "2024-09-02", *(["/ \\"] * 10 + ["I I"] + ["/ \\"] * 39
                                        + ["N N"] * 10))
    # P2: always present
    reg.repeat(P2, URN_A, "2024-09-02", "/ \\", 60)
    store = reg.ingest()
    cal = school_calendar(store, terms)
    f = build_features(store, "2024-09-13", calendar=cal)
    assert labels_mod.label_dates(cal, "2024-09-13") == {
        "pa_year_end": date(2024, 11, 22), "pa_next_term_end": date(2024, 9, 27)}
    lab = labels_mod.add_labels(store, f, cal).set_index("upn")
    assert lab.loc[P0, "pa_next_term_end"] == 1 and lab.loc[P0, "pa_year_end"] == 1
    assert lab.loc[P1, "pa_next_term_end"] == 0 and lab.loc[P1, "pa_year_end"] == 1
    assert lab.loc[P2, "pa_next_term_end"] == 0 and lab.loc[P2, "pa_year_end"] == 0
    # labels need marks up to their date
    early = build_features(store, "2024-09-13", calendar=cal)
    short = Store(store.root)
    with pytest.raises(ValueError, match="needs marks up to"):
        labels_mod.add_labels(short, early, school_calendar(short, TermDates(pd.DataFrame({
            "academic_year": [2024] * 6, "half_term": [1, 2, 3, 4, 5, 6],
            "start": ["2024-09-02", "2024-09-16", "2024-09-30", "2024-10-14", "2024-10-28",
                      "2024-12-02"],
            "end": ["2024-09-13", "2024-09-27", "2024-10-11", "2024-10-25", "2024-11-08",
                    "2024-12-13"]}))))


# ----------------------------------------------------------------------------- look-ahead
@pytest.fixture(scope="module")
def split_stores(tmp_path_factory):
    """A synthetic LA loaded twice: marks up to the as-of date only, and all marks."""
    root = tmp_path_factory.mktemp("ew_leak")
    la = generate_la(root / "la", pupils=900, schools=5, years=2, as_of="2024-12-20", seed=11)
    table = pq.read_table(la.marks)
    cut = pc.less_equal(table["date"], pa.scalar(date(2024, 11, 15), type=table["date"].type))
    pq.write_table(table.filter(cut), root / "early.parquet")
    early = Store(root / "early")
    early.ingest([root / "early.parquet"], pupils=la.pupils, schools=la.schools)
    full = Store(root / "full")
    full.ingest([la.marks], pupils=la.pupils, schools=la.schools)
    return early, full, la


def test_appending_later_marks_changes_no_feature(split_stores):
    early, full, la = split_stores
    as_of = date(2024, 11, 15)
    assert early.latest_date() == as_of and full.latest_date() > as_of
    a = build_features(early, as_of, characteristics=True,
                       calendar=school_calendar(early, la.term_dates))
    b = build_features(full, as_of, characteristics=True,
                       calendar=school_calendar(full, la.term_dates))
    assert len(a) > 500
    cols = ["upn", "urn", *feature_names(True), "pa_now", "attendance_pct"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    # the same when the calendar is inferred from the registers themselves
    a2 = build_features(early, as_of, calendar=school_calendar(early))
    b2 = build_features(full, as_of, calendar=school_calendar(full))
    cols = ["upn", "urn", *feature_names(False)]
    pd.testing.assert_frame_equal(a2[cols], b2[cols])
    # and the test can fail: a later as-of date does see the new marks
    c = build_features(full, date(2024, 12, 13), calendar=school_calendar(full, la.term_dates))
    m = a.merge(c, on=["upn", "urn"], suffixes=("", "_later"))
    assert (m["possible_sessions_later"] > m["possible_sessions"]).all()
