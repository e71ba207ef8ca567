"""Tests for attendance_lib.metrics on tiny registers loaded into a real Store.

Every expected number is counted by hand in the comments (domain.md 2.1): possible = present
(/ \\ L) + AEA + authorised + unauthorised; overall absence = (auth + unauth) / possible x 100;
PA = absence >= 10% of the enrolment's own possible sessions, SA >= 50% (SA is also PA);
PA rate = PA enrolments / enrolments. Calendar: Mon 2, 9, 16, 23 Sep 2024; Mon 11 Sep 2023.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from conftest import UPN, URN_A, URN_B, RegisterBuilder, make_upn

from attendance_lib import metrics
from attendance_lib.store import Store

P = "/ \\"  # a day present in both sessions

# categories restated from domain.md 1.1 (2024 set) and 1.2 (pre-2024 set)
CATS_2024 = {"present": "/ \\ L", "aea": "K V P W B", "authorised": "C1 M J1 S C2 C T R I E",
             "unauthorised": "G N O U", "not_possible": "D X Q Y1 Y2 Y3 Y4 Y5 Y6 Y7 Z #"}
CATS_2006 = {"present": "/ \\ L", "aea": "B J P V W", "authorised": "C E H I M R S T",
             "unauthorised": "G N O U", "not_possible": "X Y Z # D"}


def _cases(cats: dict[str, str], year: int) -> list[tuple[int, str, str]]:
    return [(year, code, cat) for cat, codes in cats.items() for code in codes.split()]


CODE_CASES = _cases(CATS_2024, 2024) + _cases(CATS_2006, 2023)
WEEK = {2024: "2024-09-09", 2023: "2023-09-11"}


def row(df: pd.DataFrame, upn: str, urn: str = URN_A) -> pd.Series:
    hit = df[(df["upn"] == upn) & (df["urn"] == urn)]
    assert len(hit) == 1, f"{upn} at {urn}: {len(hit)} rows"
    return hit.iloc[0]


# --------------------------------------------------------------------------- every code
@pytest.fixture(scope="module")
def every_code_store(tmp_path_factory) -> Store:
    """One pupil per (year, code): Monday AM is the code, the other 9 sessions are present."""
    reg = RegisterBuilder(tmp_path_factory.mktemp("every_code"))
    reg.school(URN_A)
    for i, (year, code, _cat) in enumerate(CODE_CASES):
        u = make_upn(100 + i)
        reg.pupil(u, URN_A)
        reg.days(u, URN_A, WEEK[year], f"{code} \\", P, P, P, P)
    return reg.ingest()


@pytest.fixture(scope="module")
def every_code_summary(every_code_store) -> pd.DataFrame:
    # two explicit one-week windows, one per academic year
    return pd.concat([metrics.enrolment_summary(every_code_store, start="2023-09-11",
                                                end="2023-09-15"),
                      metrics.enrolment_summary(every_code_store, start="2024-09-09",
                                                end="2024-09-13")])


@pytest.mark.parametrize("case", range(len(CODE_CASES)),
                         ids=[f"{y}-{c}" for y, c, _ in CODE_CASES])
def test_each_code_counts_in_its_category(every_code_summary, case):
    year, code, cat = CODE_CASES[case]
    r = row(every_code_summary, make_upn(100 + case))
    # 9 sessions are / or \ ; the tenth is the code
    counted = cat != "not_possible"
    assert r["possible"] == 9 + counted
    assert r["present"] == 9 + (cat == "present")
    assert r["aea"] == (cat == "aea")
    assert r["authorised"] == (cat == "authorised")
    assert r["unauthorised"] == (cat == "unauthorised")
    absent = cat in ("authorised", "unauthorised")
    # one absence in 10 possible sessions is exactly 10.0%: persistent absence
    assert r["overall_absence_pct"] == pytest.approx(10.0 if absent else 0.0)
    assert bool(r["persistent_absence"]) is absent
    assert not r["severe_absence"]
    assert r["attendance_pct"] == pytest.approx(90.0 if absent else 100.0)
    assert r["late_before"] == (code == "L")
    assert r["late_after"] == (code == "U")
    assert r["legal_unauth"] == (code in ("G", "N", "O", "U"))


# --------------------------------------------------------------------------- one of each
MIXED = [P, "L U", "V P", "W B", "K I",              # Mon 9 - Fri 13 Sep 2024
         "M C", "E C1", "C2 J1", "S T", "R G",       # Mon 16 - Fri 20
         "N O", "# X", "Y1 D", "Z Q", "Y2 Y7"]       # Mon 23 - Fri 27
# present / \ L = 3; AEA V P W B K = 5; authorised I M C E C1 C2 J1 S T R = 10;
# unauthorised U G N O = 4; not possible # X Y1 D Z Q Y2 Y7 = 8 (30 marks = 22 + 8)
# possible = 3 + 5 + 10 + 4 = 22; absent = 14; overall = 14/22 = 63.64% -> PA and SA


@pytest.fixture(scope="module")
def mixed_store(tmp_path_factory) -> Store:
    reg = RegisterBuilder(tmp_path_factory.mktemp("mixed"))
    reg.school(URN_A).pupil(UPN[0], URN_A)
    reg.days(UPN[0], URN_A, "2024-09-09", *MIXED)
    return reg.ingest()


def test_every_category_in_one_enrolment(mixed_store):
    enr = metrics.enrolment_summary(mixed_store, "2024-09-27")
    r = row(enr, UPN[0])
    assert (r["possible"], r["present"], r["aea"], r["authorised"], r["unauthorised"]) == (
        22, 3, 5, 10, 4)
    assert r["covid"] == 0
    assert r["absent"] == 14
    assert r["overall_absence_pct"] == pytest.approx(100 * 14 / 22)
    assert r["authorised_pct"] == pytest.approx(100 * 10 / 22)
    assert r["unauthorised_pct"] == pytest.approx(100 * 4 / 22)
    assert r["attendance_pct"] == pytest.approx(100 * 8 / 22)   # present + AEA
    assert (r["late_before"], r["late_after"], r["legal_unauth"]) == (1, 1, 4)  # L; U; UGNO
    assert r["persistent_absence"] and r["severe_absence"]


def test_reason_breakdown_rates_and_shares(mixed_store):
    rb = metrics.reason_breakdown(mixed_store, "2024-09-01", "2024-09-30")
    assert len(rb) == 30                       # 30 distinct codes, one session each
    assert (rb["sessions"] == 1).all()
    by = rb.set_index("code")
    # rate = sessions / possible: 1/22; share of absence = 1/14 for absence codes only
    assert by.loc["I", "rate_pct"] == pytest.approx(100 / 22)
    assert by.loc["I", "share_of_absence_pct"] == pytest.approx(100 / 14)
    assert by.loc["G", "share_of_absence_pct"] == pytest.approx(100 / 14)
    assert pd.isna(by.loc["/", "share_of_absence_pct"])
    assert pd.isna(by.loc["V", "share_of_absence_pct"])
    assert pd.isna(by.loc["#", "share_of_absence_pct"])
    assert by.loc["J1", "category"] == "authorised"
    assert by.loc["D", "category"] == "not_possible"
    absence = rb[rb["category"].isin(["authorised", "unauthorised"])]
    assert absence["share_of_absence_pct"].sum() == pytest.approx(100.0)
    # one week only (Mon 23 - Fri 27: N O + 8 not-possible): possible 2, absence 2
    wk = metrics.reason_breakdown(mixed_store, "2024-09-23", "2024-09-27",
                                  by=("urn",)).set_index("code")
    assert wk.loc["N", "rate_pct"] == pytest.approx(50.0)
    assert wk.loc["O", "share_of_absence_pct"] == pytest.approx(50.0)
    assert set(wk["urn"]) == {URN_A}


def test_reason_breakdown_keeps_covid_x_apart_from_later_x(register_builder):
    reg = register_builder
    reg.school(URN_A).pupil(UPN[0], URN_A)
    reg.days(UPN[0], URN_A, "2021-10-04", "X /")   # 2021/22: COVID X, a possible session
    reg.days(UPN[0], URN_A, "2022-10-03", "X I")   # 2022/23: X not possible
    store = reg.ingest()
    rb = metrics.reason_breakdown(store, "2021-09-01", "2022-10-31")
    got = {(c, k): n for c, k, n in zip(rb["code"], rb["category"], rb["sessions"],
                                        strict=True)}
    assert got == {("/", "present"): 1, ("I", "authorised"): 1,
                   ("X", "covid_not_attending"): 1, ("X", "not_possible"): 1}
    # possible = / + I + COVID X = 3; absence = I = 1
    i = rb[rb["code"] == "I"].iloc[0]
    assert i["rate_pct"] == pytest.approx(100 / 3)
    assert i["share_of_absence_pct"] == pytest.approx(100.0)


# --------------------------------------------------------------------------- PA / SA
@pytest.fixture(scope="module")
def pa_store(tmp_path_factory) -> Store:
    reg = RegisterBuilder(tmp_path_factory.mktemp("pa"))
    reg.school(URN_A)
    fsm = ["Y", "N", "Y", "N", "", "Y", "N"]
    for u, f in zip(UPN[:7], fsm, strict=True):
        reg.pupil(u, URN_A, fsm_eligible=f)
    # U0: 10 days, I O on day 1 -> 2 of 20 = exactly 10.0% -> PA
    reg.days(UPN[0], URN_A, "2024-09-09", "I O", *[P] * 9)
    # U1: 5 days + Monday AM only = 11 sessions, 1 absent -> 9.09% -> not PA
    reg.days(UPN[1], URN_A, "2024-09-09", "I \\", P, P, P, P, "/ -")
    # U2: 11 days = 22 marks, I I then # # -> possible 20, absent 2 -> 10.0% -> PA
    reg.days(UPN[2], URN_A, "2024-09-09", "I I", "# #", *[P] * 9)
    # U3: as U2 but present instead of # -> possible 22, absent 2 -> 9.09% -> not PA
    reg.days(UPN[3], URN_A, "2024-09-09", "I I", *[P] * 10)
    # U4: 5 days, absent I I O O N = 5 of 10 -> exactly 50% -> SA (and PA)
    reg.days(UPN[4], URN_A, "2024-09-09", "I I", "O O", "N /", P, P)
    # U5: as U4 plus Monday AM present -> 5 of 11 = 45.45% -> PA, not SA
    reg.days(UPN[5], URN_A, "2024-09-09", "I I", "O O", "N /", P, P, "/ -")
    # U6: only not-possible sessions -> zero possible -> left out
    reg.days(UPN[6], URN_A, "2024-09-09", "# #", "X X", "Y1 Z")
    return reg.ingest()


def test_pa_and_sa_boundaries(pa_store):
    enr = metrics.enrolment_summary(pa_store, "2024-09-23")
    expected = {  # upn: (possible, absent, PA, SA)
        UPN[0]: (20, 2, True, False),
        UPN[1]: (11, 1, False, False),
        UPN[2]: (20, 2, True, False),
        UPN[3]: (22, 2, False, False),
        UPN[4]: (10, 5, True, True),
        UPN[5]: (11, 5, True, False),
    }
    assert sorted(enr["upn"]) == sorted(expected)        # U6 (zero possible) left out
    for u, (poss, ab, pa, sa) in expected.items():
        r = row(enr, u)
        assert (r["possible"], r["absent"]) == (poss, ab), u
        assert r["overall_absence_pct"] == pytest.approx(100 * ab / poss), u
        assert (bool(r["persistent_absence"]), bool(r["severe_absence"])) == (pa, sa), u


def test_school_and_la_rates_from_enrolments(pa_store):
    enr = metrics.enrolment_summary(pa_store, "2024-09-23")
    # enrolments 6 (U6 excluded); possible 20+11+20+22+10+11 = 94
    # authorised: U0 I, U1 I, U2 I I, U3 I I, U4 I I, U5 I I = 1+1+2+2+2+2 = 10
    # unauthorised: U0 O, U4 O O N, U5 O O N = 1+3+3 = 7 -> overall 17/94
    # PA: U0 U2 U4 U5 = 4 of 6; SA: U4 = 1 of 6
    sch = metrics.school_summary(enr)
    assert len(sch) == 1
    s = sch.iloc[0]
    assert s["urn"] == URN_A
    assert (s["enrolments"], s["possible_sessions"], s["authorised_sessions"],
            s["unauthorised_sessions"]) == (6, 94, 10, 7)
    assert s["overall_absence_pct"] == pytest.approx(100 * 17 / 94)
    assert s["authorised_pct"] == pytest.approx(100 * 10 / 94)
    assert s["unauthorised_pct"] == pytest.approx(100 * 7 / 94)
    assert (s["pa_count"], s["sa_count"]) == (4, 1)
    assert s["pa_pct"] == pytest.approx(100 * 4 / 6)
    assert s["sa_pct"] == pytest.approx(100 * 1 / 6)
    la = metrics.la_summary(enr)
    assert list(la.columns[:len(metrics.LA_SUMMARY_COLUMNS)]) == metrics.LA_SUMMARY_COLUMNS
    assert la.iloc[0][metrics.LA_SUMMARY_COLUMNS].tolist() == pytest.approx(
        [6, 94, 10, 7, 100 * 17 / 94, 4, 100 * 4 / 6, 1, 100 / 6])


def test_summary_levels(pa_store):
    pupil = metrics.summary(pa_store, "pupil", "2024-09-23")
    assert list(pupil.columns) == metrics.PUPIL_SUMMARY_COLUMNS
    assert len(pupil) == 6
    assert row(pupil, UPN[4])["possible_sessions"] == 10
    school = metrics.summary(pa_store, "school", "2024-09-23")
    assert list(school.columns) == metrics.SCHOOL_SUMMARY_COLUMNS
    la = metrics.summary(pa_store, "la", "2024-09-23")
    assert list(la.columns) == metrics.LA_SUMMARY_COLUMNS
    assert (la.iloc[0]["enrolments"], la.iloc[0]["pa_count"]) == (6, 4)
    # default as_of: the latest date in the store (Mon 23 Sep)
    assert metrics.summary(pa_store, "la").equals(la)
    with pytest.raises(ValueError, match="level"):
        metrics.summary(pa_store, "region")


def test_cohort_summary_groups_add_up(pa_store):
    enr = metrics.enrolment_summary(pa_store, "2024-09-23")
    out = metrics.cohort_summary(enr, pa_store.pupils(), "fsm_eligible")
    got = {(None if pd.isna(k) else bool(k)): r for k, r in
           zip(out["fsm_eligible"], out.to_dict("records"), strict=True)}
    # FSM Y: U0 (20, PA), U2 (20, PA), U5 (11, PA) -> 3 enrolments, 51 possible, PA 3/3
    assert (got[True]["enrolments"], got[True]["possible_sessions"], got[True]["pa_count"]) == (
        3, 51, 3)
    assert got[True]["pa_pct"] == pytest.approx(100.0)
    # FSM N: U1 (11), U3 (22), none PA (U6 has no possible sessions)
    assert (got[False]["enrolments"], got[False]["possible_sessions"],
            got[False]["pa_count"]) == (2, 33, 0)
    # unknown: U4 (10, SA)
    assert (got[None]["enrolments"], got[None]["sa_count"]) == (1, 1)
    assert out["enrolments"].sum() == 6
    with pytest.raises(KeyError, match="no 'shoe_size' column"):
        metrics.cohort_summary(enr, pa_store.pupils(), "shoe_size")
    # grouping by the school itself is allowed (it is also a join key)
    by_urn = metrics.cohort_summary(enr, pa_store.pupils(), "urn")
    assert by_urn["enrolments"].tolist() == [6]


# --------------------------------------------------------------------------- enrolments
def test_admission_leaving_and_two_schools(register_builder):
    reg = register_builder
    reg.school(URN_A).school(URN_B)
    # U0 admitted Wed 11 Sep: Wed-Fri only -> 6 possible, 1 absent (I) -> 16.7% PA
    reg.pupil(UPN[0], URN_A, admission="2024-09-11")
    reg.days(UPN[0], URN_A, "2024-09-11", P, "I \\", P)
    # U1 left Tue 10 Sep: Mon-Tue -> 4 possible, 1 absent (O) -> 25% PA
    reg.pupil(UPN[1], URN_A, leaving="2024-09-10")
    reg.days(UPN[1], URN_A, "2024-09-09", P, "/ O")
    # U2 moves: at A to Fri 13 Sep (10 possible, 1 I -> 10% PA), at B from Mon 16 Sep
    # (10 possible, all present -> not PA). Together 1 of 20 = 5% would not be PA.
    reg.pupil(UPN[2], URN_A, leaving="2024-09-13").pupil(UPN[2], URN_B, admission="2024-09-16")
    reg.days(UPN[2], URN_A, "2024-09-09", "I \\", P, P, P, P)
    reg.days(UPN[2], URN_B, "2024-09-16", P, P, P, P, P)
    store = reg.ingest()
    enr = metrics.enrolment_summary(store, "2024-09-20")
    assert len(enr) == 4
    assert tuple(row(enr, UPN[0])[["possible", "absent", "persistent_absence"]]) == (6, 1, True)
    assert row(enr, UPN[0])["overall_absence_pct"] == pytest.approx(100 / 6)
    assert tuple(row(enr, UPN[1])[["possible", "absent", "persistent_absence"]]) == (4, 1, True)
    assert tuple(row(enr, UPN[2], URN_A)[["possible", "absent", "persistent_absence"]]) == (
        10, 1, True)
    assert tuple(row(enr, UPN[2], URN_B)[["possible", "absent", "persistent_absence"]]) == (
        10, 0, False)
    # LA: 4 enrolments, PA = U0, U1, U2@A = 3 -> 75%; possible 6+4+10+10 = 30, absent 3
    la = metrics.la_summary(enr).iloc[0]
    assert (la["enrolments"], la["pa_count"], la["possible_sessions"]) == (4, 3, 30)
    assert la["pa_pct"] == pytest.approx(75.0)
    assert la["overall_absence_pct"] == pytest.approx(10.0)
    sch = metrics.school_summary(enr).set_index("urn")
    assert sch.loc[URN_A, "enrolments"] == 3 and sch.loc[URN_A, "pa_count"] == 3
    assert sch.loc[URN_B, "enrolments"] == 1 and sch.loc[URN_B, "pa_count"] == 0


def test_marks_outside_the_enrolment_are_not_counted(register_builder):
    reg = register_builder
    reg.school(URN_A).pupil(UPN[1], URN_A, admission="2024-09-10", leaving="2024-09-12")
    # Mon 9 (before admission) and Fri 13 (after leaving) are quarantined: Tue-Thu count
    reg.days(UPN[1], URN_A, "2024-09-09", "O O", P, "I \\", P, "O O")
    store = reg.ingest(check=False)
    q = pd.concat([r.quarantine for r in reg.last_result.reports])
    assert len(q) == 4 and q["reason"].str.startswith("mark outside enrolment").all()
    r = row(metrics.enrolment_summary(store, "2024-09-13"), UPN[1])
    assert (r["possible"], r["absent"]) == (6, 1)


# --------------------------------------------------------------------------- code sets
def test_interview_code_before_and_after_2024(register_builder):
    reg = register_builder
    reg.school(URN_A).pupil(UPN[0], URN_A)
    # 2023/24: J J + 8 present -> possible 10, AEA 2, absent 0 -> attendance 100%, not PA
    reg.days(UPN[0], URN_A, "2023-09-11", "J J", P, P, P, P)
    # 2024/25: J1 J1 + 8 present -> possible 10, authorised 2 -> 20%, PA
    reg.days(UPN[0], URN_A, "2024-09-09", "J1 J1", P, P, P, P)
    store = reg.ingest()
    old = row(metrics.enrolment_summary(store, "2024-07-31"), UPN[0])
    assert (old["possible"], old["aea"], old["absent"]) == (10, 2, 0)
    assert old["attendance_pct"] == pytest.approx(100.0)
    assert not old["persistent_absence"]
    new = row(metrics.enrolment_summary(store, "2024-09-13"), UPN[0])
    assert (new["possible"], new["aea"], new["authorised"]) == (10, 0, 2)
    assert new["overall_absence_pct"] == pytest.approx(20.0)
    assert new["persistent_absence"]


def test_covid_x_counts_as_possible_in_2020_but_not_in_2022(register_builder):
    reg = register_builder
    reg.school(URN_A).pupil(UPN[0], URN_A)
    # 2020/21: I X, 4 days present, Mon AM present: present 9, covid 1, absent 1
    # -> possible 11 (X counts), 1/11 = 9.09% -> not PA; attendance 9/11
    reg.days(UPN[0], URN_A, "2020-10-05", "I X", P, P, P, P, "/ -")
    # 2022/23: same marks, X not possible -> possible 10, 1/10 = 10% -> PA
    reg.days(UPN[0], URN_A, "2022-10-03", "I X", P, P, P, P, "/ -")
    store = reg.ingest()
    covid = row(metrics.enrolment_summary(store, start="2020-10-05", end="2020-10-12"), UPN[0])
    assert (covid["possible"], covid["covid"], covid["absent"]) == (11, 1, 1)
    assert covid["attendance_pct"] == pytest.approx(100 * 9 / 11)
    assert not covid["persistent_absence"]
    later = row(metrics.enrolment_summary(store, "2022-10-10"), UPN[0])
    assert (later["possible"], later["covid"], later["absent"]) == (10, 0, 1)
    assert later["persistent_absence"]


# --------------------------------------------------------------------------- windows
@pytest.fixture(scope="module")
def ytd_store(tmp_path_factory) -> Store:
    reg = RegisterBuilder(tmp_path_factory.mktemp("ytd"))
    reg.school(URN_A).pupil(UPN[0], URN_A).pupil(UPN[1], URN_A)
    # U0: week 2 Sep all present; week 9 Sep Mon-Wed present, Thu I I, Fri O O;
    #     week 16 Sep all present
    reg.days(UPN[0], URN_A, "2024-09-02", P, P, P, P, P, P, P, P, "I I", "O O",
             P, P, P, P, P)
    # U1: marks only Mon 9 - Wed 11 Sep: present, N N, present
    reg.days(UPN[1], URN_A, "2024-09-09", P, "N N", P)
    return reg.ingest()


class QuerySpy:
    """Wraps ``store.query`` to record whether enrolment_counts read the marks table."""

    def __init__(self, store: Store, monkeypatch):
        self.sql: list[str] = []
        real = store.query

        def spy(sql, params=None):
            self.sql.append(sql)
            return real(sql, params)
        monkeypatch.setattr(store, "query", spy)

    @property
    def read_marks(self) -> bool:
        return any("FROM marks" in s for s in self.sql)


def test_as_of_midweek_uses_the_edge_path(ytd_store, monkeypatch):
    spy = QuerySpy(ytd_store, monkeypatch)
    # as_of Wed 11 Sep: U0's week of 9 Sep runs to Fri, so it straddles the end
    enr = metrics.enrolment_summary(ytd_store, "2024-09-11")
    assert spy.read_marks
    # U0: week 2 Sep 10 + Mon-Wed 6 = 16 possible; Thu/Fri absences excluded -> 0 absent
    assert tuple(row(enr, UPN[0])[["possible", "absent"]]) == (16, 0)
    # U1: Mon-Wed 6 possible, N N = 2 absent -> 33.3%
    assert tuple(row(enr, UPN[1])[["possible", "absent"]]) == (6, 2)


def test_as_of_friday_uses_the_fast_path(ytd_store, monkeypatch):
    spy = QuerySpy(ytd_store, monkeypatch)
    # as_of Fri 13 Sep: every enrolment-week is wholly inside or outside 1 Aug - 13 Sep
    enr = metrics.enrolment_summary(ytd_store, "2024-09-13")
    assert not spy.read_marks
    # U0: 10 + 10 = 20 possible, I I O O = 4 absent -> 20% PA
    r = row(enr, UPN[0])
    assert (r["possible"], r["authorised"], r["unauthorised"]) == (20, 2, 2)
    assert r["persistent_absence"]
    assert tuple(row(enr, UPN[1])[["possible", "absent"]]) == (6, 2)


def test_as_of_midweek_fast_path_when_nothing_straddles(register_builder, monkeypatch):
    reg = register_builder
    reg.school(URN_A).pupil(UPN[1], URN_A)
    reg.days(UPN[1], URN_A, "2024-09-09", P, "N N", P)   # data end on Wed 11 Sep
    store = reg.ingest()
    spy = QuerySpy(store, monkeypatch)
    enr = metrics.enrolment_summary(store, "2024-09-11")
    assert not spy.read_marks
    assert tuple(row(enr, UPN[1])[["possible", "absent"]]) == (6, 2)
    # as_of Tue 10: the week (Mon-Wed) now straddles: edge path, Mon-Tue = 4, N N = 2
    spy.sql.clear()
    enr = metrics.enrolment_summary(store, "2024-09-10")
    assert spy.read_marks
    assert tuple(row(enr, UPN[1])[["possible", "absent"]]) == (4, 2)


def test_explicit_windows(ytd_store, monkeypatch):
    spy = QuerySpy(ytd_store, monkeypatch)
    # a term-like window cut at both ends: Wed 4 Sep - Tue 17 Sep
    # U0: Wed-Fri 6 + week 9 Sep 10 (4 absent) + Mon-Tue 4 = 20 possible, 4 absent
    enr = metrics.enrolment_summary(ytd_store, start="2024-09-04", end="2024-09-17")
    assert spy.read_marks
    assert tuple(row(enr, UPN[0])[["possible", "absent"]]) == (20, 4)
    assert tuple(row(enr, UPN[1])[["possible", "absent"]]) == (6, 2)
    # a single whole week: Mon 16 - Fri 20 Sep; U1 has no marks there -> left out
    enr = metrics.enrolment_summary(ytd_store, start=date(2024, 9, 16), end=date(2024, 9, 20))
    assert enr["upn"].tolist() == [UPN[0]]
    assert tuple(row(enr, UPN[0])[["possible", "absent"]]) == (10, 0)
    # a start with no end runs to the latest date (Fri 20 Sep): weeks 9 and 16 Sep
    enr = metrics.enrolment_summary(ytd_store, start="2024-09-09")
    assert tuple(row(enr, UPN[0])[["possible", "absent"]]) == (20, 4)
    # an end with no start is the year to date at that end
    enr = metrics.enrolment_summary(ytd_store, end="2024-09-06")
    assert tuple(row(enr, UPN[0])[["possible", "absent"]]) == (10, 0)


def test_enrolment_counts_outside_any_marks(ytd_store):
    # a window with no marks at all: no rows
    assert metrics.enrolment_counts(ytd_store, "2024-10-01", "2024-10-31").empty
    assert metrics.enrolment_summary(ytd_store, "2024-08-30").empty


@pytest.mark.parametrize(("as_of", "start_month", "window"), [
    ("2024-07-31", 8, (date(2023, 8, 1), date(2024, 7, 31))),
    ("2024-08-01", 8, (date(2024, 8, 1), date(2024, 8, 1))),
    ("2025-03-31", 8, (date(2024, 8, 1), date(2025, 3, 31))),
    ("2023-08-31", 9, (date(2022, 9, 1), date(2023, 8, 31))),
    ("2023-09-01", 9, (date(2023, 9, 1), date(2023, 9, 1))),
])
def test_ytd_window(as_of, start_month, window):
    assert metrics.ytd_window(as_of, start_month) == window


def test_academic_year_boundary_31_july(register_builder):
    reg = register_builder
    reg.school(URN_A).pupil(UPN[0], URN_A)
    # Mon 29 Jul I I, Tue 30 present, Wed 31 Jul O /, Thu 1 Aug N \, Fri 2 Aug present
    reg.days(UPN[0], URN_A, "2024-07-29", "I I", P, "O /", "N \\", P)
    store = reg.ingest()
    marks = store.marks()
    years = dict(zip(marks["date"].dt.strftime("%m-%d"), marks["academic_year"], strict=False))
    assert (years["07-31"], years["08-01"]) == (2023, 2024)
    # as_of Fri 2 Aug: year 2024/25 began Thu 1 Aug -> Thu-Fri: 4 possible, N = 1 absent
    r = row(metrics.enrolment_summary(store, "2024-08-02"), UPN[0])
    assert (r["possible"], r["absent"]) == (4, 1)
    # as_of Wed 31 Jul: 2023/24 -> Mon-Wed: 6 possible, I I O = 3 absent -> 50% SA
    r = row(metrics.enrolment_summary(store, "2024-07-31"), UPN[0])
    assert (r["possible"], r["absent"], r["severe_absence"]) == (6, 3, True)


@pytest.mark.parametrize(("start_month", "as_of", "possible", "absent"), [
    # Mon 28 Aug I I, Tue-Wed present, Thu 31 Aug present, Fri 1 Sep N /
    (9, "2023-09-01", 2, 1),    # 2023/24 starts Fri 1 Sep: Friday only
    (9, "2023-08-31", 8, 2),    # 2022/23 runs to Thu 31 Aug: Mon-Thu, I I
    (8, "2023-09-01", 10, 3),   # DfE year from 1 Aug: the whole week, I I N
])
def test_academic_year_boundary_start_month(register_builder, start_month, as_of, possible,
                                            absent):
    reg = register_builder
    reg.school(URN_A).pupil(UPN[0], URN_A)
    reg.days(UPN[0], URN_A, "2023-08-28", "I I", P, P, P, "N /")
    store = reg.ingest(start_month=start_month)
    assert store.start_month == start_month
    r = row(metrics.enrolment_summary(store, as_of), UPN[0])
    assert (r["possible"], r["absent"]) == (possible, absent)


# --------------------------------------------------------------------------- weekly
def test_weekly_summary_counts_only_days_inside_the_window(ytd_store):
    wk = metrics.weekly_summary(ytd_store, "2024-09-04", "2024-09-17")
    assert wk["week_start"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-09-02", "2024-09-09", "2024-09-16"]
    assert (wk["urn"] == URN_A).all()
    # w/c 2 Sep: U0 Wed-Fri = 6 possible, 0 absent
    # w/c 9 Sep: U0 10 (I I O O) + U1 6 (N N) = 16 possible; auth 2, unauth 2 + 2 = 4
    # w/c 16 Sep: U0 Mon-Tue = 4 possible
    assert wk["possible"].tolist() == [6, 16, 4]
    assert wk["authorised"].tolist() == [0, 2, 0]
    assert wk["unauthorised"].tolist() == [0, 4, 0]
    assert wk["absence_pct"].tolist() == pytest.approx([0.0, 100 * 6 / 16, 0.0])
    # without a school breakdown; one week exactly
    one = metrics.weekly_summary(ytd_store, "2024-09-09", "2024-09-13", by=())
    assert one[["possible", "absent"]].values.tolist() == [[16, 6]]


# --------------------------------------------------------------------------- empty store
def test_metrics_on_a_store_with_no_marks(register_builder):
    reg = register_builder
    reg.school(URN_A).pupil(UPN[0], URN_A)
    store = reg.ingest()
    assert metrics.enrolment_summary(store).empty
    assert metrics.enrolment_summary(store, "2024-09-13").empty
    assert metrics.weekly_summary(store, "2024-09-02", "2024-09-13").empty
    assert metrics.reason_breakdown(store, "2024-09-02", "2024-09-13").empty
    la = metrics.la_summary(metrics.enrolment_summary(store, "2024-09-13")).iloc[0]
    assert la["enrolments"] == 0 and pd.isna(la["pa_pct"])
