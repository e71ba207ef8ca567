"""School report views (attendance_lib.views.school) on a tiny hand-built register.

Calendar: Mon 9 - Fri 20 Sep 2024 (10 school days, 20 sessions per pupil); last year the same
weeks are Mon 11 - Fri 22 Sep 2023 (52 weeks earlier). As of Fri 20 Sep 2024.

School A (URN_A)::

    P0  all present                              0 / 20 absent   (0%)
    P1  Mon 9 Sep "I I", rest present            2 authorised    (10%: PA)
    P2  every day "O \\" (AM unexplained)        10 unauthorised (50%: PA and SA)
    P3  all present except Fri 20 PM "N"         1 unauthorised  (5%)

School B (URN_B): P4 every day "O I": 10 unauthorised + 10 authorised (100%).
Last year at A: P0 present throughout; P1 "I I" on Mon 11 and Tue 12 Sep 2023.

Hand counts, school A: 4 enrolments, 80 possible, 2 authorised, 11 unauthorised: overall
13/80 = 16.25%, authorised 2.5%, unauthorised 13.75%; PA 2 of 4 (50%), SA 1 of 4 (25%).
LA (A + B): 5 enrolments, 100 possible, 12 authorised, 21 unauthorised: 33%, 12%, 21%;
PA 3 of 5 (60%), SA 2 of 5 (40%).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from conftest import UPN, URN_A, URN_B, RegisterBuilder

from attendance_lib.privacy import school_store
from attendance_lib.views import la, report_params, school, tsm
from attendance_lib.views.published import Benchmark

P = "/ \\"
AS_OF = "2024-09-20"
P0, P1, P2, P3, P4 = UPN[:5]
CHARS = {  # fsm, sen, eal, sex, year, social worker, name
    P0: ("N", "N", "N", "F", "3", "N", "Ann Alpha"),
    P1: ("Y", "K", "N", "M", "3", "Y", "Ben Alpha"),
    P2: ("Y", "E", "Y", "F", "4", "Y", "Cara Alpha"),
    P3: ("N", "N", "N", "M", "4", "Y", "Dev Alpha"),
    P4: ("Y", "N", "N", "F", "4", "Y", "Eve Beta"),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    reg = RegisterBuilder(tmp_path_factory.mktemp("school_views"))
    reg.school(URN_A, name="Alpha Primary", la_code="999")
    reg.school(URN_B, name="Beta Primary", la_code="999")
    for u, (fsm, sen, eal, sex, yg, sw, name) in CHARS.items():
        reg.pupil(u, URN_B if u == P4 else URN_A, fsm_eligible=fsm, sen_provision=sen, eal=eal,
                  sex=sex, year_group=yg, has_social_worker=sw, name=name)
    reg.repeat(P0, URN_A, "2024-09-09", P, 10)
    reg.days(P1, URN_A, "2024-09-09", "I I", *[P] * 9)
    reg.repeat(P2, URN_A, "2024-09-09", "O \\", 10)
    reg.days(P3, URN_A, "2024-09-09", *[P] * 9, "/ N")
    reg.repeat(P4, URN_B, "2024-09-09", "O I", 10)
    reg.repeat(P0, URN_A, "2023-09-11", P, 10)
    reg.days(P1, URN_A, "2023-09-11", "I I", "I I", *[P] * 8)
    return reg.ingest()


@pytest.fixture(scope="module")
def sch(store):
    return school_store(store.root, URN_A)


def test_headline_school_and_la(store, sch):
    h = school.headline(sch, AS_OF).iloc[0]
    assert (h["enrolments"], h["possible_sessions"], h["pa_count"], h["sa_count"]) == (4, 80, 2, 1)
    assert h["overall_absence_pct"] == pytest.approx(16.25)
    assert h["authorised_pct"] == pytest.approx(2.5)
    assert h["unauthorised_pct"] == pytest.approx(13.75)
    assert (h["pa_pct"], h["sa_pct"]) == (pytest.approx(50.0), pytest.approx(25.0))
    lah = la.la_headline(store.root, AS_OF)
    assert "upn" not in lah.columns and len(lah) == 1
    r = lah.iloc[0]
    assert (r["enrolments"], r["possible_sessions"], r["pa_count"], r["sa_count"]) == (5, 100, 3, 2)
    assert r["overall_absence_pct"] == pytest.approx(33.0)
    assert (r["authorised_pct"], r["unauthorised_pct"]) == (pytest.approx(12.0),
                                                            pytest.approx(21.0))
    assert (r["pa_pct"], r["sa_pct"]) == (pytest.approx(60.0), pytest.approx(40.0))


def test_headline_table_formatting(store, sch):
    eng = Benchmark(pd.DataFrame([{
        "level": "England", "name": "England (primary)", "overall_absence_pct": 5.276681,
        "authorised_pct": 3.9, "unauthorised_pct": 1.37, "pa_pct": 13.772567,
        "absence_basis": "published full year 2025/26", "pa_basis": "published full year"}]))
    t = school.headline_table(school.headline(sch, AS_OF), la.la_headline(store.root, AS_OF),
                              eng, AS_OF)
    assert t.columns.tolist() == ["Headline", "This school", "LA", "England (primary)"]
    rows = {r["Headline"]: r for _, r in t.iterrows()}
    assert rows["Enrolments"][["This school", "LA", "England (primary)"]].tolist() == \
        ["4", "5", "–"]
    assert rows["Overall absence"][["This school", "LA", "England (primary)"]].tolist() == \
        ["16.25%", "33.00%", "5.28%"]
    assert rows["Authorised absence"]["This school"] == "2.50%"
    assert rows["Unauthorised absence"]["LA"] == "21.00%"
    pa = rows["Persistent absence (10% or more of sessions missed)"]
    assert pa[["This school", "LA", "England (primary)"]].tolist() == ["50.00%", "60.00%",
                                                                      "13.77%"]
    sa = rows["Severe absence (50% or more of sessions missed)"]
    assert sa[["This school", "LA", "England (primary)"]].tolist() == ["25.00%", "40.00%", "–"]
    assert rows["Persistently absent pupils"][["This school", "LA"]].tolist() == ["2", "3"]
    assert rows["Severely absent pupils"][["This school", "LA"]].tolist() == ["1", "2"]
    assert rows["Year to date to"]["This school"] == "20 Sep 2024"
    # without published figures the England column is all dashes
    none = school.headline_table(school.headline(sch, AS_OF), None, None, AS_OF)
    assert set(none["England"]) == {"–"} and set(none["LA"].iloc[:-1]) == {"–"}


def test_weekly_trend_against_same_weeks_last_year(sch):
    t = school.weekly_trend(sch, AS_OF)
    assert t["week_start"].dt.strftime("%Y-%m-%d").tolist() == ["2024-09-09", "2024-09-16"]
    assert t["last_year_week_start"].dt.strftime("%Y-%m-%d").tolist() == \
        ["2023-09-11", "2023-09-18"]
    # this year: week 1 P1 2 + P2 5 = 7 of 40; week 2 P2 5 + P3 1 = 6 of 40
    assert t["absence_pct"].tolist() == pytest.approx([17.5, 15.0])
    # last year: week 1 P1 4 of 20 (P0, P1 only); week 2 none
    assert t["last_year_absence_pct"].tolist() == pytest.approx([20.0, 0.0])
    text = school.trend_sentence(t)
    assert "higher than" in text and "10.0%" in text and "15.0%" in text


def _g(gaps, group):
    return gaps[gaps["group"] == group].iloc[0]


def test_cohort_gaps(sch):
    g = school.cohort_gaps(sch, AS_OF)
    assert g.attrs["missing"] == []
    fsm = _g(g, "FSM eligible")
    # P1 + P2: 12 absent of 40 = 30%; everyone else (P0, P3): 1 of 40 = 2.5%
    assert (fsm["enrolments"], fsm["overall_absence_pct"]) == (2, pytest.approx(30.0))
    assert fsm["overall_gap_pp"] == pytest.approx(27.5)
    assert (fsm["pa_pct"], fsm["pa_gap_pp"]) == (pytest.approx(100.0), pytest.approx(100.0))
    assert _g(g, "Not FSM eligible")["overall_gap_pp"] == pytest.approx(-27.5)
    ehc = _g(g, "EHC plan")  # P2 50% vs P0, P1, P3: 3 of 60 = 5%; PA 1 vs 1 of 3
    assert ehc["overall_gap_pp"] == pytest.approx(45.0)
    assert ehc["pa_gap_pp"] == pytest.approx(100 - 100 / 3)
    sup = _g(g, "SEN support")  # P1 10% vs P0, P2, P3: 11 of 60
    assert sup["overall_gap_pp"] == pytest.approx(10 - 1100 / 60)
    assert _g(g, "Year 4")["overall_absence_pct"] == pytest.approx(27.5)   # P2, P3: 11 / 40
    assert _g(g, "Year 3")["overall_gap_pp"] == pytest.approx(-22.5)
    sw = _g(g, "Has a social worker")  # P1, P2, P3: 13 of 60 vs P0 0%
    assert sw["overall_gap_pp"] == pytest.approx(1300 / 60)
    # cohorts in the report's order, SEN groups in EHC / support / none order
    assert list(dict.fromkeys(g["cohort"])) == ["fsm_eligible", "sen_provision", "eal", "sex",
                                                "year_group", "has_social_worker"]
    sen = g[g["cohort"] == "sen_provision"]["group"].tolist()
    assert sen == ["EHC plan", "SEN support", "No SEN"]
    # each cohort's groups add up to the school
    assert (g.groupby("cohort")["enrolments"].sum() == 4).all()


def test_reasons(sch):
    r = school.reasons(sch, AS_OF)
    assert r["code"].tolist() == ["O", "I", "N"]
    assert r["sessions"].tolist() == [10, 2, 1]
    assert r["rate_pct"].tolist() == pytest.approx([12.5, 2.5, 1.25])          # of 80
    assert r["share_of_absence_pct"].tolist() == pytest.approx([1000 / 13, 200 / 13, 100 / 13])
    assert r["category"].tolist() == ["Unauthorised", "Authorised", "Unauthorised"]
    assert r["meaning"].iloc[0] == "Absent in other or unknown circumstances"


def test_day_session_pattern(sch):
    d = school.day_session(sch, AS_OF)
    assert len(d) == 10 and set(d["possible"]) == {8}       # 4 pupils x 2 weeks
    pct = {(n, s): v for n, s, v in zip(d["weekday_name"], d["session"], d["absence_pct"],
                                        strict=True)}
    assert pct[("Monday", "AM")] == pytest.approx(37.5)     # P1 I + P2 O twice
    assert pct[("Monday", "PM")] == pytest.approx(12.5)     # P1 I
    assert pct[("Wednesday", "AM")] == pytest.approx(25.0)  # P2 twice
    assert pct[("Wednesday", "PM")] == pytest.approx(0.0)
    assert pct[("Friday", "PM")] == pytest.approx(12.5)     # P3 N
    grid = school.day_session_grid(d)
    assert grid.index.tolist() == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    assert grid.columns.tolist() == ["AM", "PM"]
    assert grid.loc["Tuesday", "AM"] == pytest.approx(25.0)


def test_attendance_bands(sch):
    b = school.attendance_band_counts(sch, AS_OF)
    # P2 50% attendance (severe), P1 exactly 90% (persistent), P3 95%, P0 100%
    assert b["pupils"].tolist() == [1, 1, 0, 1, 1]
    assert b["stage"].tolist() == ["severe", "persistent", "at risk", "expected", "full"]
    assert b["pct_of_pupils"].tolist() == pytest.approx([25, 25, 0, 25, 25])


def test_legal_threshold_pupils(sch):
    t = school.legal_threshold_pupils(sch, AS_OF)
    assert t["upn"].tolist() == [P2]            # 10 O in 2 school weeks; P4 is at school B
    r = t.iloc[0]
    assert r["sessions_in_window"] == 10
    assert r["date_first_reached"] == pd.Timestamp("2024-09-20")   # the 10th O, Friday AM
    assert (r["Name"], r["Year"], r["FSM"], r["SEN"]) == ("Cara Alpha", "4", "Yes", "EHC plan")
    assert "10 or more sessions" in t.attrs["note"]


def test_social_worker_unexplained(sch):
    t = school.social_worker_unexplained(sch, AS_OF)
    # P1 has a social worker but only authorised (I) absence: not listed
    assert t["upn"].tolist() == [P2, P3]
    assert t[["unexplained_sessions", "n_sessions", "o_sessions", "unexplained_ytd"]
             ].values.tolist() == [[10, 0, 10, 10], [1, 1, 0, 1]]
    assert (t["last_unexplained"] == pd.Timestamp("2024-09-20")).all()
    assert "24 Aug 2024 to 20 Sep 2024" in t.attrs["note"]


def test_data_quality_warnings_clean_school(sch):
    w = school.data_quality_warnings(sch, AS_OF)
    assert w["Check"].tolist() == ["Missing marks", "Unresolved N codes",
                                   "Rows not loaded (quarantined)", "Pupil characteristics"]
    # P3's N is on the as-of day itself: not yet overdue
    assert w["Finding"].tolist() == ["None found", "None found", "None found", "Complete"]


def test_school_views_never_show_another_schools_pupil(sch):
    frames = [school.headline(sch, AS_OF), school.weekly_trend(sch, AS_OF),
              school.cohort_gaps(sch, AS_OF), school.reasons(sch, AS_OF),
              school.day_session(sch, AS_OF), school.attendance_band_counts(sch, AS_OF),
              school.legal_threshold_pupils(sch, AS_OF),
              school.social_worker_unexplained(sch, AS_OF),
              school.data_quality_warnings(sch, AS_OF)]
    text = " ".join(f.to_csv() for f in frames)
    assert P2 in text                 # the scan does see this school's UPNs
    assert P4 not in text and "Eve Beta" not in text


# --------------------------------------------------------------------------- parameters
def test_check_params_defaults_and_labels(store):
    p = report_params.check_params(store=str(store.root), urn="", as_of="", dfe_dir="")
    assert (p.urn, p.school_name, p.as_of.isoformat()) == (URN_A, "Alpha Primary", AS_OF)
    assert p.ytd_start.isoformat() == "2024-08-01" and p.year_label == "2024/25"
    assert p.period_label == "year to date to 20 Sep 2024 (2024/25, from 1 Aug 2024)"
    assert p.school_label == "Alpha Primary (URN 100001)"
    assert p.phase == "primary" and p.dfe_dir.is_dir()
    assert report_params.check_params(store=str(store.root), urn=URN_B,
                                      as_of="2024-09-13").as_of.isoformat() == "2024-09-13"


@pytest.mark.parametrize("kwargs, message", [
    ({"as_of": "2024-13-01"}, "parameter 'as_of': '2024-13-01' is not a real date"),
    ({"as_of": "2020-01-01"}, "before the store's first mark"),
    ({"urn": "123456"}, "parameter 'urn': '123456' is not a school in the store"),
    ({"pseudonymise": True}, "parameter 'pseudonym_key': pseudonymise is True but no key"),
    ({"pseudonymise": "yes"}, "parameter 'pseudonymise'"),
    ({"suppress_below": -1}, "parameter 'suppress_below': -1 is negative"),
    ({"suppress_below": True}, "parameter 'suppress_below'"),
    ({"term": "winter"}, "parameter 'term': 'winter'"),
    ({"dfe_dir": "/no/such/folder"}, "parameter 'dfe_dir'"),
])
def test_check_params_errors(store, kwargs, message):
    with pytest.raises(report_params.ReportParamsError, match=message.replace("(", r"\(")):
        report_params.check_params(store=str(store.root), **kwargs)


def test_check_params_no_store(tmp_path):
    with pytest.raises(report_params.ReportParamsError, match="is not a store"):
        report_params.check_params(store=str(tmp_path))


# --------------------------------------------------------------------------- TSM pack views
def test_tsm_term_window():
    assert tsm.term_window(AS_OF) == (date(2024, 8, 1), date(2024, 9, 20),
                                      "Autumn term 2024/25")
    # a finished term runs to its end (DfE census terms: spring = 1 Jan - Easter Sunday)
    assert tsm.term_window("2025-05-01", "spring")[:2] == (date(2025, 1, 1), date(2025, 4, 20))
    with pytest.raises(ValueError, match="starts on 1 Jan 2025, after the as-of date"):
        tsm.term_window(AS_OF, "spring")


def test_tsm_lists(sch):
    rates = tsm.pupil_rates(sch, AS_OF).set_index("upn")
    assert sorted(rates.index) == sorted([P0, P1, P2, P3])
    assert rates.loc[P1, "attendance_ytd_pct"] == pytest.approx(90.0)
    assert rates.loc[P2, "sessions_missed_ytd"] == 10 and rates.loc[P2, "unauthorised_ytd"] == 10
    assert rates.loc[P3, "absence_recent_pct"] == pytest.approx(5.0)
    assert rates.loc[P0, "support"] == "none recorded"
    r = rates.reset_index()
    assert tsm.severely_absent(r)["upn"].tolist() == [P2]
    assert tsm.persistently_absent(r)["upn"].tolist() == [P1]      # exactly 10%: persistent
    assert tsm.at_risk(r).empty                                    # P3 5%, P0 0%


def test_tsm_at_risk_rule():
    r = pd.DataFrame({"upn": ["a", "b", "c", "d"], "persistent": [False, False, False, True],
                      "severe": False, "attendance_ytd_pct": [93.0, 96.0, 93.5, 80.0],
                      "absence_ytd_pct": [7.0, 4.0, 6.5, 20.0],
                      "absence_recent_pct": [0.0, 12.5, 9.9, 30.0]})
    out = tsm.at_risk(r)
    # a: 7% this year (the edge is in); b: 12.5% in the last 4 weeks; c: neither; d: PA already
    assert out["upn"].tolist() == ["a", "b"]
    assert out["why"].tolist() == ["absence 7.0% this year",
                                   "absence 12.5% in the last 4 weeks"]


def test_tsm_actions_template():
    t = tsm.actions_template(pd.DataFrame({"Pupil": ["P-1", "P-2"]}))
    assert len(t) == 8 and t["Pupil or group"].tolist()[:3] == ["P-1", "P-2", ""]
    assert t.columns.tolist() == ["Pupil or group", "Concern", "Agreed action",
                                  "Lead (school / LA / partner)", "Review date"]
