"""Tests for attendance_lib.patterns; expected values are worked out by hand in the comments."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from attendance_lib import patterns
from attendance_lib.codes import category_of

UPN, URN = "A000000000001", "100001"
LEGAL_COLUMNS = ["upn", "urn", "date_reached", "session_reached", "sessions_in_window",
                 "window_start_week", "window_end_week", "first_counted_date"]


# --------------------------------------------------------------------------- builders
def marks_from(spec: dict[str, str], upn: str = UPN, urn: str = URN) -> pd.DataFrame:
    """``{"2024-09-09": "N /"}`` -> AM mark N and PM mark / on Monday 9 Sep 2024.

    Categories come from codes.py for the academic year of the date (Aug-Jul).
    """
    rows = []
    for day, pair in spec.items():
        date = pd.Timestamp(day)
        year = date.year if date.month >= 8 else date.year - 1
        for session, code in zip(("AM", "PM"), pair.split(), strict=True):
            rows.append((upn, urn, date, session, code, category_of(code, year)))
    frame = pd.DataFrame(rows, columns=["upn", "urn", "date", "session", "code", "category"])
    return frame.astype({"date": "datetime64[ns]"})


def days(monday: str, *pairs: str) -> dict[str, str]:
    """Consecutive days from ``monday``: ``days("2024-09-09", "N N", "/ \\")`` -> Mon, Tue."""
    start = pd.Timestamp(monday)
    return {str((start + pd.Timedelta(days=i)).date()): p for i, p in enumerate(pairs)}


def weeks(first_monday: str, n: int, pair: str = "/ \\") -> dict[str, str]:
    """One ordinary Monday in each of ``n`` consecutive weeks: enough to make a school week."""
    start = pd.Timestamp(first_monday)
    return {str((start + pd.Timedelta(weeks=i)).date()): pair for i in range(n)}


def stack(*frames: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def ts(day: str) -> pd.Timestamp:
    return pd.Timestamp(day)


# --------------------------------------------------------------------------- legal threshold
def test_threshold_reached_at_tenth_session_and_only_once():
    # school weeks: w/c 2 Sep (0), w/c 9 Sep (1), w/c 16 Sep (2). N x 10 Mon 9 - Fri 13 Sep:
    # the 10th is Fri 13 Sep PM. Two more N on Mon 16 Sep do not add a second row.
    m = marks_from({"2024-09-02": "/ \\",
                    **days("2024-09-09", "N N", "N N", "N N", "N N", "N N"),
                    "2024-09-16": "N N"})
    out = patterns.legal_threshold(m)
    assert list(out.columns) == LEGAL_COLUMNS
    assert len(out) == 1
    row = out.iloc[0]
    assert (row.upn, row.urn) == (UPN, URN)
    assert row.date_reached == ts("2024-09-13") and row.session_reached == "PM"
    assert row.sessions_in_window == 10
    # the window w-9..w is clipped to the first school week (w/c 2 Sep)
    assert row.window_start_week == ts("2024-09-02")
    assert row.window_end_week == ts("2024-09-09")
    assert row.first_counted_date == ts("2024-09-09")


def test_nine_sessions_do_not_reach():
    m = marks_from(days("2024-09-09", "N N", "N N", "N N", "N N", "N /"))  # 9 N
    out = patterns.legal_threshold(m)
    assert out.empty and list(out.columns) == LEGAL_COLUMNS


def _five_n(monday: str) -> dict[str, str]:
    return days(monday, "N N", "N N", "N /")  # Mon AM/PM, Tue AM/PM, Wed AM = 5 N


def test_spread_over_eleven_school_weeks_not_reached():
    # school weeks 0..10 (w/c 2 Sep .. w/c 11 Nov); 5 N in week 0 and 5 N in week 10.
    # The window of week 10 is weeks 1..10: only 5. Not reached.
    m = marks_from({**_five_n("2024-09-02"), **weeks("2024-09-09", 9),
                    **_five_n("2024-11-11")})
    assert patterns.legal_threshold(m).empty


def test_closure_week_is_not_a_school_week():
    # as above, but w/c 14 Oct is a whole-week closure (all '#'): school weeks are then
    # 2 Sep (0), 9, 16, 23, 30 Sep, 7 Oct (5), [14 Oct skipped], 21, 28 Oct, 4 Nov (8),
    # 11 Nov (9): the window 0..9 holds all 10 N; the 10th is Wed 13 Nov AM.
    regular = {d: p for d, p in weeks("2024-09-09", 9).items() if d != "2024-10-14"}
    m = marks_from({**_five_n("2024-09-02"), **regular,
                    **days("2024-10-14", "# #", "# #", "# #", "# #", "# #"),
                    **_five_n("2024-11-11")})
    out = patterns.legal_threshold(m)
    assert len(out) == 1
    assert out.date_reached.iloc[0] == ts("2024-11-13")
    assert out.session_reached.iloc[0] == "AM"
    assert out.window_start_week.iloc[0] == ts("2024-09-02")
    assert out.first_counted_date.iloc[0] == ts("2024-09-02")


def test_window_stretches_over_christmas_and_half_term():
    # school weeks: 2 Dec (0), 9 Dec, 16 Dec (2), [23, 30 Dec holiday], 6 Jan (3), 13, 20,
    # 27 Jan, 3 Feb, 10 Feb (8), [17 Feb half term], 24 Feb (9). 13 calendar weeks, but
    # 10 school weeks: 5 N in week 0 + 5 N in week 9 reach 10 on Wed 26 Feb AM.
    m = marks_from({**_five_n("2024-12-02"), **weeks("2024-12-09", 2),
                    **weeks("2025-01-06", 6), **_five_n("2025-02-24")})
    out = patterns.legal_threshold(m)
    assert len(out) == 1
    row = out.iloc[0]
    assert (row.date_reached, row.session_reached) == (ts("2025-02-26"), "AM")
    assert row.window_start_week == ts("2024-12-02")  # 9 - 9 = 0: not clipped
    assert row.window_end_week == ts("2025-02-24")


def test_authorised_and_l_do_not_count_but_u_does():
    # 9 N, then I, M, C (authorised) and L (present): still 9, not reached.
    base = {**days("2024-09-09", "N N", "N N", "N N", "N N", "N I"), "2024-09-16": "M C"}
    assert patterns.legal_threshold(marks_from({**base, "2024-09-17": "L /"})).empty
    # U (arrived after registers closed) is the 10th: Tue 17 Sep PM.
    out = patterns.legal_threshold(marks_from({**base, "2024-09-17": "L U"}))
    assert (out.date_reached.iloc[0], out.session_reached.iloc[0]) == (ts("2024-09-17"), "PM")


def test_counts_by_code_not_category():
    # G, O and U count; a row mislabelled 'unauthorised' with an authorised code does not.
    m = marks_from(days("2024-09-09", "G G", "O O", "U U", "G G", "O I"))
    m.loc[9, "category"] = "unauthorised"  # I on Fri PM
    assert patterns.legal_threshold(m).empty  # 9 of G/O/U


def test_crossing_academic_years():
    # 2023/24 (2006 code set): G G, G G, O on 8-10 Jul 2024; school week 15 Jul; summer;
    # 2024/25: school week 2 Sep; N N, U N, N on 9-11 Sep: the 10th is Wed 11 Sep AM.
    m = marks_from({**days("2024-07-08", "G G", "G G", "O /"), "2024-07-15": "/ \\",
                    "2024-09-03": "/ \\", **days("2024-09-09", "N N", "U N", "N /")})
    out = patterns.legal_threshold(m)
    assert (out.date_reached.iloc[0], out.session_reached.iloc[0]) == (ts("2024-09-11"), "AM")
    assert out.first_counted_date.iloc[0] == ts("2024-07-08")


def test_enrolments_counted_separately():
    # 5 N at each of two schools in the same fortnight: 5 per enrolment, not reached.
    m = stack(marks_from(_five_n("2024-09-09"), urn="100001"),
              marks_from(_five_n("2024-09-16"), urn="100002"))
    assert patterns.legal_threshold(m).empty
    assert len(patterns.legal_threshold(m, threshold=5)) == 2


def test_custom_threshold_and_window():
    # 3 N in week 0 (w/c 2 Sep), 1 N in week 2 (w/c 16 Sep): threshold 4 within 2 weeks: no;
    # within 3 weeks: yes, on 16 Sep AM.
    m = marks_from({**days("2024-09-02", "N N", "N /"), "2024-09-09": "/ \\",
                    "2024-09-16": "N /"})
    assert patterns.legal_threshold(m, threshold=4, window_weeks=2).empty
    out = patterns.legal_threshold(m, threshold=4, window_weeks=3)
    assert out.date_reached.iloc[0] == ts("2024-09-16")
    with pytest.raises(ValueError):
        patterns.legal_threshold(m, threshold=0)


def test_status_as_of():
    m = marks_from({"2024-09-02": "/ \\",
                    **days("2024-09-09", "N N", "N N", "N N", "N N", "N N")})
    before = patterns.legal_threshold_status(m, "2024-09-12")  # Mon-Thu: 8 N
    row = before.iloc[0]
    assert row.sessions_in_window == 8 and not row.at_threshold and not row.ever_reached
    assert pd.isna(row.date_reached)
    assert row.last_school_week == ts("2024-09-09") and row.school_weeks_in_window == 2
    after = patterns.legal_threshold_status(m, "2024-09-13").iloc[0]
    assert after.sessions_in_window == 10 and after.at_threshold and after.ever_reached
    assert after.date_reached == ts("2024-09-13")


def test_status_window_slides_and_ignores_later_marks():
    # 11-school-week example: at 15 Nov the window is weeks 1..10 (w/c 9 Sep .. 11 Nov): 5 N.
    m = marks_from({**_five_n("2024-09-02"), **weeks("2024-09-09", 9),
                    **_five_n("2024-11-11")})
    row = patterns.legal_threshold_status(m, "2024-11-15").iloc[0]
    assert row.sessions_in_window == 5 and row.school_weeks_in_window == 10
    assert row.window_start_week == ts("2024-09-09")
    later = stack(m, marks_from(days("2024-11-18", "N N", "N N", "N N")))
    pd.testing.assert_frame_equal(patterns.legal_threshold_status(later, "2024-11-15"),
                                  patterns.legal_threshold_status(m, "2024-11-15"))


# --------------------------------------------------------------------------- spells
SPELL_SPEC = {
    "2024-09-12": "/ I",    # Thu: spell 1 starts PM
    "2024-09-13": "I I",    # Fri
    "2024-09-16": "M /",    # Mon: spell 1 ends AM -> I, I, I, M = 4 sessions, main I
    "2024-09-17": "N #",    # Tue: spell 2 starts AM, PM partial closure skipped
    "2024-09-18": "# #",    # Wed: closure day skipped
    "2024-09-19": "O \\",   # Thu: spell 2 ends AM -> N, O = 2, tie -> N, 2 unauthorised
    "2024-09-20": "I /",    # Fri: spell 3 = 1 session
    "2024-09-23": "I /",    # Mon: spell 4 = 1 session
    "2024-09-24": "C M",    # Tue: spell 5 starts
    "2024-09-25": "M G",    # Wed
    "2024-09-26": "/ \\",   # Thu: spell 5 = C, M, M, G = 4 sessions, main M, 1 unauthorised
}


def test_absence_spells():
    out = patterns.absence_spells(marks_from(SPELL_SPEC))
    expected = pd.DataFrame({
        "start_date": pd.to_datetime(["2024-09-12", "2024-09-17", "2024-09-20", "2024-09-23",
                                      "2024-09-24"]),
        "start_session": ["PM", "AM", "AM", "AM", "AM"],
        "end_date": pd.to_datetime(["2024-09-16", "2024-09-19", "2024-09-20", "2024-09-23",
                                    "2024-09-25"]),
        "end_session": ["AM", "AM", "AM", "AM", "PM"],
        "sessions": [4, 2, 1, 1, 4],
        "main_code": ["I", "N", "I", "I", "M"],
        "unauthorised_sessions": [0, 2, 0, 0, 1],
    })
    assert list(out.columns) == ["upn", "urn", *expected.columns]
    assert (out.upn == UPN).all() and (out.urn == URN).all()
    pd.testing.assert_frame_equal(out.drop(columns=["upn", "urn"]), expected,
                                  check_dtype=False)


def test_spell_joins_friday_pm_and_monday_am_but_not_across_enrolments():
    one = patterns.absence_spells(marks_from({"2024-09-13": "/ N", "2024-09-16": "N /"}))
    assert len(one) == 1 and one.sessions.iloc[0] == 2
    assert (one.start_session.iloc[0], one.end_session.iloc[0]) == ("PM", "AM")
    moved = stack(marks_from({"2024-09-13": "/ N"}, urn="100001"),
                  marks_from({"2024-09-16": "N /"}, urn="100002"))
    assert patterns.absence_spells(moved).urn.tolist() == ["100001", "100002"]


def test_present_session_breaks_a_spell():
    out = patterns.absence_spells(marks_from({"2024-09-09": "I L", "2024-09-10": "I I"}))
    assert out.sessions.tolist() == [1, 2]


def test_spells_do_not_depend_on_row_order():
    m = marks_from(SPELL_SPEC)
    shuffled = m.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(patterns.absence_spells(shuffled), patterns.absence_spells(m))


def test_spell_summary():
    m = stack(marks_from(SPELL_SPEC), marks_from({"2024-09-12": "/ \\"}, upn="A000000000002"))
    out = patterns.spell_summary(m).set_index("upn")
    a = out.loc[UPN]
    # possible: 22 marks - 3 '#' = 19; spells 4, 2, 1, 1, 4
    assert a.possible_sessions == 19 and a.absence_sessions == 12 and a.spells == 5
    assert (a.single_session_spells, a.spells_3plus, a.spells_10plus) == (2, 2, 0)
    assert a.longest_spell == 4 and a.mean_spell_sessions == pytest.approx(2.4)
    b = out.loc["A000000000002"]
    assert (b.possible_sessions, b.spells, b.longest_spell) == (2, 0, 0)
    assert np.isnan(b.mean_spell_sessions)


# --------------------------------------------------------------------------- day/week patterns
PUPIL_A = {**days("2024-09-09", "I /", "/ \\", "/ \\", "/ \\", "/ N"),
           **days("2024-09-16", "I I", "/ \\", "# #", "/ \\", "/ \\")}
PUPIL_B = {**days("2024-09-09", "/ \\", "/ \\", "L \\", "/ \\", "G G"),
           **days("2024-09-16", "M /", "/ \\", "# #", "/ \\", "/ U")}
UPN_B = "A000000000002"


def two_week_school() -> pd.DataFrame:
    return stack(marks_from(PUPIL_A), marks_from(PUPIL_B, upn=UPN_B))  # 40 rows


def test_day_session_pattern_all():
    out = patterns.day_session_pattern(two_week_school(), by=())
    # Mon AM: A I, A I, B /, B M -> 4 possible, 3 absent; Mon PM: only A's wk2 I -> 1;
    # Wed: the '#' week is not possible -> 2 possible; Fri AM: B's G; Fri PM: A N, B G, B U.
    expected = pd.DataFrame({
        "weekday": np.repeat([0, 1, 2, 3, 4], 2),
        "weekday_name": np.repeat(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], 2),
        "session": ["AM", "PM"] * 5,
        "possible": [4, 4, 4, 4, 2, 2, 4, 4, 4, 4],
        "absent": [3, 1, 0, 0, 0, 0, 0, 0, 1, 3],
        "absence_pct": [75.0, 25.0, 0, 0, 0, 0, 0, 0, 25.0, 75.0],
    })
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)


def test_day_session_pattern_by_pupil_zero_fills():
    out = patterns.day_session_pattern(two_week_school(), by="upn")
    assert len(out) == 20 and out.upn.tolist()[:10] == [UPN] * 10
    a = out[out.upn == UPN].set_index(["weekday", "session"])
    assert a.loc[(0, "AM"), ["possible", "absent", "absence_pct"]].tolist() == [2, 2, 100.0]
    assert a.loc[(4, "PM"), "absence_pct"] == 50.0  # N in wk1, \ in wk2
    by_urn = patterns.day_session_pattern(two_week_school())
    assert by_urn.urn.unique().tolist() == [URN] and by_urn.possible.sum() == 36


def test_weekly_rates():
    out = patterns.weekly_rates(two_week_school())
    # w/c 9 Sep: 20 possible; A: I, N; B: G, G -> 4 absent (1 auth, 3 unauth) = 20%
    # w/c 16 Sep: 16 possible ('#' day); A: I, I; B: M, U -> 4 absent (3 auth, 1 unauth) = 25%
    expected = pd.DataFrame({
        "urn": [URN, URN], "week_start": pd.to_datetime(["2024-09-09", "2024-09-16"]),
        "possible": [20, 16], "absent": [4, 4], "authorised": [1, 3], "unauthorised": [3, 1],
        "absence_pct": [20.0, 25.0]})
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)


def test_lateness():
    out = patterns.lateness(two_week_school()).set_index("upn")
    # A: 18 possible, no L or U; B: L on Wed 11 Sep AM, U on Fri 20 Sep PM -> 2 of 18
    assert out.loc[UPN, ["late_before", "late_after", "late_sessions"]].tolist() == [0, 0, 0]
    b = out.loc[UPN_B]
    assert (b.possible_sessions, b.late_before, b.late_after, b.late_sessions) == (18, 1, 1, 2)
    assert b.late_pct == pytest.approx(100 * 2 / 18)


# --------------------------------------------------------------------------- bands
@pytest.mark.parametrize(("pct", "band"), [
    (0.0, "0-4.99"), (4.99, "0-4.99"), (5.0, "5-9.99"), (9.99, "5-9.99"),
    (10.0, "10-14.99"), (100 * (1 - 0.9), "10-14.99"),  # 9.999999999999998: float noise
    (49.99, "45-49.99"), (50.0, "50-100"), (100.0, "50-100"),
])
def test_absence_bands(pct, band):
    assert patterns.absence_bands(pd.Series([pct])).iloc[0] == band


def test_absence_bands_series_properties():
    s = pd.Series([3.0, np.nan, 55.0], index=[7, 8, 9])
    out = patterns.absence_bands(s)
    assert out.cat.ordered and list(out.cat.categories) == list(patterns.ABSENCE_BANDS)
    assert out.index.tolist() == [7, 8, 9] and pd.isna(out.iloc[1])
    assert len(patterns.ABSENCE_BANDS) == 11 and patterns.ABSENCE_BANDS[-2] == "45-49.99"
    with pytest.raises(ValueError):
        patterns.absence_bands([101.0])


@pytest.mark.parametrize(("pct", "band"), [
    (100.0, "100%"), (99.99, "95% to <100%"), (95.0, "95% to <100%"),
    (94.99, ">90% to <95%"), (90.01, ">90% to <95%"),
    (90.0, ">50% to 90%"),  # exactly 10% absence: persistent
    (50.01, ">50% to 90%"), (50.0, "50% or less"), (0.0, "50% or less"),  # 50%: severe
])
def test_attendance_bands(pct, band):
    assert patterns.attendance_bands([pct]).iloc[0] == band
    assert patterns.ATTENDANCE_BAND_STAGES[">50% to 90%"] == "persistent"


@pytest.mark.parametrize(("absent", "possible", "band"), [
    (38, 380, ">50% to 90%"),   # exactly 10%: persistent
    (37, 380, ">90% to <95%"),  # 9.74%: not persistent
    (19, 380, "95% to <100%"),  # exactly 5% absence = 95% attendance
    (190, 380, "50% or less"),  # exactly 50%: severe
    (189, 380, ">50% to 90%"),
    (0, 380, "100%"),
    (7, 70, ">50% to 90%"),     # 10% again
])
def test_band_from_counts(absent, possible, band):
    assert patterns.band_from_counts(absent, possible) == band


def test_band_from_counts_vectorised_and_absence_scheme():
    out = patterns.band_from_counts(pd.Series([38, 37, 0]), pd.Series([380, 380, 0]),
                                    scheme="absence")
    assert out.iloc[:2].tolist() == ["10-14.99", "5-9.99"] and pd.isna(out.iloc[2])
    assert patterns.band_from_counts(380, 380, scheme="absence") == "50-100"
    assert patterns.band_from_counts(0, 0) is None
    with pytest.raises(ValueError):
        patterns.band_from_counts(5, 4)


# --------------------------------------------------------------------------- input handling
def _date_variants(m: pd.DataFrame):
    yield m
    yield m.astype({"date": "datetime64[us]"})
    yield m.assign(date=pd.array(m.date.dt.date, dtype=pd.ArrowDtype(pa.date32())))
    yield m.assign(date=[d.date() for d in m.date])
    yield m.assign(date=m.date.dt.strftime("%Y-%m-%d"))
    yield m.assign(date=m.date + pd.Timedelta(hours=9))


def test_date_representations_give_the_same_answer():
    m = marks_from({"2024-09-02": "/ \\",
                    **days("2024-09-09", "N N", "N N", "N N", "N N", "N N")})
    expected = patterns.legal_threshold(m)
    for variant in _date_variants(m):
        pd.testing.assert_frame_equal(patterns.legal_threshold(variant), expected)


def test_inputs_are_not_mutated():
    m = two_week_school()
    before = m.copy(deep=True)
    for fn in (patterns.legal_threshold, patterns.absence_spells, patterns.spell_summary,
               patterns.day_session_pattern, patterns.weekly_rates, patterns.lateness):
        fn(m)
    patterns.legal_threshold_status(m, "2024-09-30")
    pd.testing.assert_frame_equal(m, before)


def test_bad_input_is_rejected():
    m = marks_from({"2024-09-09": "N N"})
    with pytest.raises(ValueError, match="more than one"):
        patterns.absence_spells(stack(m, m))
    with pytest.raises(ValueError, match="session"):
        patterns.lateness(m.assign(session="am"))
    with pytest.raises(ValueError, match="categories"):
        patterns.lateness(m.assign(category="absent"))
    with pytest.raises(ValueError, match="missing columns"):
        patterns.lateness(m.drop(columns="code"))


def test_empty_marks():
    m = marks_from({}).astype({"upn": "str", "urn": "str", "session": "str", "code": "str",
                               "category": "str"})
    assert patterns.legal_threshold(m).empty
    assert patterns.absence_spells(m).empty
    assert patterns.spell_summary(m).empty


# --------------------------------------------------------------------------- reference checks
def _reference_threshold(m: pd.DataFrame, threshold: int, window: int) -> dict:
    """Straight from the definition, one enrolment at a time (slow, obviously right)."""
    out = {}
    m = m.assign(order=m.session.eq("PM").astype(int)).sort_values(["date", "order"])
    for key, g in m[m.category != "not_possible"].groupby(["upn", "urn"]):
        week = g.date - pd.to_timedelta(g.date.dt.day_of_week, unit="D")
        ordinal = {w: i for i, w in enumerate(sorted(week.unique()))}
        seen = []
        for w, code, date, ses in zip(week, g.code, g.date, g.session, strict=True):
            if code in {"G", "N", "O", "U"}:
                seen.append(ordinal[w])
                if sum(ordinal[w] - window < s <= ordinal[w] for s in seen) >= threshold:
                    out[key] = (date, ses)
                    break
    return out


def _random_marks(n_pupils: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-06-03", "2024-12-20")
    dates = dates[~((dates >= "2024-07-22") & (dates < "2024-09-02"))]  # summer holiday
    n = len(dates) * 2
    frames = []
    for i in range(n_pupils):
        codes = rng.choice(["/", "/", "/", "N", "U", "I", "#", "O"], size=n,
                           p=[.5, .2, .1, .06, .04, .05, .03, .02])
        frames.append(pd.DataFrame({
            "upn": f"P{i:03d}", "urn": f"{100000 + i % 3}", "date": np.repeat(dates, 2),
            "session": ["AM", "PM"] * len(dates), "code": codes,
            "category": pd.Series(codes).map({"/": "present", "N": "unauthorised",
                                              "U": "unauthorised", "O": "unauthorised",
                                              "I": "authorised", "#": "not_possible"})}))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("seed", [1, 2])
def test_legal_threshold_matches_reference(seed):
    m = _random_marks(40, seed)
    for threshold, window in ((10, 10), (6, 3)):
        ref = _reference_threshold(m, threshold, window)
        out = patterns.legal_threshold(m, threshold=threshold, window_weeks=window)
        got = {(r.upn, r.urn): (r.date_reached, r.session_reached) for r in out.itertuples()}
        assert got == ref and len(ref) > 0


def test_spells_total_matches_absence_count():
    m = _random_marks(30, 5)
    spells = patterns.absence_spells(m)
    absent = m.category.isin(["authorised", "unauthorised"])
    assert spells.sessions.sum() == absent.sum()
    assert spells.unauthorised_sessions.sum() == (m.category == "unauthorised").sum()


# --------------------------------------------------------------------------- performance
def _synthetic_la(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """~n_rows marks: pupils x 380 sessions of 2024/25 with holidays; vectorised."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-09-02", "2025-07-22")
    holidays = [("2024-10-28", "2024-11-01"), ("2024-12-23", "2025-01-03"),
                ("2025-02-17", "2025-02-21"), ("2025-04-07", "2025-04-18"),
                ("2025-05-26", "2025-05-30")]
    for lo, hi in holidays:
        dates = dates[(dates < lo) | (dates > hi)]
    n_sessions = len(dates) * 2
    n_pupils = n_rows // n_sessions
    codes = np.array(["/", "\\", "L", "I", "M", "N", "O", "U", "G", "#"])
    cats = np.array(["present", "present", "present", "authorised", "authorised",
                     "unauthorised", "unauthorised", "unauthorised", "unauthorised",
                     "not_possible"])
    pick = rng.choice(len(codes), size=n_pupils * n_sessions,
                      p=[.44, .44, .02, .04, .01, .015, .01, .01, .005, .01])
    pupil = np.repeat(np.arange(n_pupils), n_sessions)
    return pd.DataFrame({
        "upn": pd.Series(np.char.add("P", pupil.astype(str)), dtype="str"),
        "urn": pd.Series((100000 + pupil % 150).astype(str), dtype="str"),
        "date": np.tile(np.repeat(dates.to_numpy(), 2), n_pupils),
        "session": pd.Series(np.tile(["AM", "PM"], n_pupils * len(dates)), dtype="str"),
        "code": pd.Series(codes[pick], dtype="str"),
        "category": pd.Series(cats[pick], dtype="str"),
    })


@pytest.mark.slow
def test_performance_report(capsys, request):
    """Measure (never assert on) timings on ~5M rows; runs only with ``pytest -m slow``."""
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("timing report: run with -m slow")
    m = _synthetic_la(5_000_000)
    timings = {}
    def status(marks):
        return patterns.legal_threshold_status(marks, "2025-03-31")

    for fn in (patterns.legal_threshold, status, patterns.absence_spells,
               patterns.spell_summary, patterns.day_session_pattern, patterns.weekly_rates,
               patterns.lateness):
        start = time.perf_counter()
        out = fn(m)
        timings[fn.__name__] = time.perf_counter() - start
        assert len(out) > 0
    with capsys.disabled():
        print(f"\n{len(m):,} rows: " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
