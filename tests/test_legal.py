"""Tests for attendance_lib.legal (10-in-10 penalty-notice threshold, domain.md 4.1); expected
values are worked out by hand in the comments."""

from __future__ import annotations

import doctest

import pandas as pd
import pytest
from marks_frames import UPN, URN, days, marks_from, random_marks, stack, weeks  # noqa: F401

from attendance_lib import legal, patterns

LEGAL_COLUMNS = ["upn", "urn", "date_reached", "session_reached", "sessions_in_window",
                 "window_start_week", "window_end_week", "first_counted_date"]


def ts(day: str) -> pd.Timestamp:
    return pd.Timestamp(day)


# --------------------------------------------------------------------------- legal threshold
def test_threshold_reached_at_tenth_session_and_only_once():
    # school weeks: w/c 2 Sep (0), w/c 9 Sep (1), w/c 16 Sep (2). N x 10 Mon 9 - Fri 13 Sep:
    # the 10th is Fri 13 Sep PM. Two more N on Mon 16 Sep do not add a second row.
    m = marks_from({"2024-09-02": "/ \\",
                    **days("2024-09-09", "N N", "N N", "N N", "N N", "N N"),
                    "2024-09-16": "N N"})
    out = legal.legal_threshold(m)
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
    out = legal.legal_threshold(m)
    assert out.empty and list(out.columns) == LEGAL_COLUMNS


def _five_n(monday: str) -> dict[str, str]:
    return days(monday, "N N", "N N", "N /")  # Mon AM/PM, Tue AM/PM, Wed AM = 5 N


def test_spread_over_eleven_school_weeks_not_reached():
    # school weeks 0..10 (w/c 2 Sep .. w/c 11 Nov); 5 N in week 0 and 5 N in week 10.
    # The window of week 10 is weeks 1..10: only 5. Not reached.
    m = marks_from({**_five_n("2024-09-02"), **weeks("2024-09-09", 9),
                    **_five_n("2024-11-11")})
    assert legal.legal_threshold(m).empty


def test_closure_week_is_not_a_school_week():
    # as above, but w/c 14 Oct is a whole-week closure (all '#'): school weeks are then
    # 2 Sep (0), 9, 16, 23, 30 Sep, 7 Oct (5), [14 Oct skipped], 21, 28 Oct, 4 Nov (8),
    # 11 Nov (9): the window 0..9 holds all 10 N; the 10th is Wed 13 Nov AM.
    regular = {d: p for d, p in weeks("2024-09-09", 9).items() if d != "2024-10-14"}
    m = marks_from({**_five_n("2024-09-02"), **regular,
                    **days("2024-10-14", "# #", "# #", "# #", "# #", "# #"),
                    **_five_n("2024-11-11")})
    out = legal.legal_threshold(m)
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
    out = legal.legal_threshold(m)
    assert len(out) == 1
    row = out.iloc[0]
    assert (row.date_reached, row.session_reached) == (ts("2025-02-26"), "AM")
    assert row.window_start_week == ts("2024-12-02")  # 9 - 9 = 0: not clipped
    assert row.window_end_week == ts("2025-02-24")


def test_authorised_and_l_do_not_count_but_u_does():
    # 9 N, then I, M, C (authorised) and L (present): still 9, not reached.
    base = {**days("2024-09-09", "N N", "N N", "N N", "N N", "N I"), "2024-09-16": "M C"}
    assert legal.legal_threshold(marks_from({**base, "2024-09-17": "L /"})).empty
    # U (arrived after registers closed) is the 10th: Tue 17 Sep PM.
    out = legal.legal_threshold(marks_from({**base, "2024-09-17": "L U"}))
    assert (out.date_reached.iloc[0], out.session_reached.iloc[0]) == (ts("2024-09-17"), "PM")


def test_counts_by_code_not_category():
    # G, O and U count; a row mislabelled 'unauthorised' with an authorised code does not.
    m = marks_from(days("2024-09-09", "G G", "O O", "U U", "G G", "O I"))
    m.loc[9, "category"] = "unauthorised"  # I on Fri PM
    assert legal.legal_threshold(m).empty  # 9 of G/O/U


def test_crossing_academic_years():
    # 2023/24 (2006 code set): G G, G G, O on 8-10 Jul 2024; school week 15 Jul; summer;
    # 2024/25: school week 2 Sep; N N, U N, N on 9-11 Sep: the 10th is Wed 11 Sep AM.
    m = marks_from({**days("2024-07-08", "G G", "G G", "O /"), "2024-07-15": "/ \\",
                    "2024-09-03": "/ \\", **days("2024-09-09", "N N", "U N", "N /")})
    out = legal.legal_threshold(m)
    assert (out.date_reached.iloc[0], out.session_reached.iloc[0]) == (ts("2024-09-11"), "AM")
    assert out.first_counted_date.iloc[0] == ts("2024-07-08")


def test_enrolments_counted_separately():
    # 5 N at each of two schools in the same fortnight: 5 per enrolment, not reached.
    m = stack(marks_from(_five_n("2024-09-09"), urn="100001"),
              marks_from(_five_n("2024-09-16"), urn="100002"))
    assert legal.legal_threshold(m).empty
    assert len(legal.legal_threshold(m, threshold=5)) == 2


def test_custom_threshold_and_window():
    # 3 N in week 0 (w/c 2 Sep), 1 N in week 2 (w/c 16 Sep): threshold 4 within 2 weeks: no;
    # within 3 weeks: yes, on 16 Sep AM.
    m = marks_from({**days("2024-09-02", "N N", "N /"), "2024-09-09": "/ \\",
                    "2024-09-16": "N /"})
    assert legal.legal_threshold(m, threshold=4, window_weeks=2).empty
    out = legal.legal_threshold(m, threshold=4, window_weeks=3)
    assert out.date_reached.iloc[0] == ts("2024-09-16")
    with pytest.raises(ValueError):
        legal.legal_threshold(m, threshold=0)


def test_status_as_of():
    m = marks_from({"2024-09-02": "/ \\",
                    **days("2024-09-09", "N N", "N N", "N N", "N N", "N N")})
    before = legal.legal_threshold_status(m, "2024-09-12")  # Mon-Thu: 8 N
    row = before.iloc[0]
    assert row.sessions_in_window == 8 and not row.at_threshold and not row.ever_reached
    assert pd.isna(row.date_reached)
    assert row.last_school_week == ts("2024-09-09") and row.school_weeks_in_window == 2
    after = legal.legal_threshold_status(m, "2024-09-13").iloc[0]
    assert after.sessions_in_window == 10 and after.at_threshold and after.ever_reached
    assert after.date_reached == ts("2024-09-13")


def test_status_window_slides_and_ignores_later_marks():
    # 11-school-week example: at 15 Nov the window is weeks 1..10 (w/c 9 Sep .. 11 Nov): 5 N.
    m = marks_from({**_five_n("2024-09-02"), **weeks("2024-09-09", 9),
                    **_five_n("2024-11-11")})
    row = legal.legal_threshold_status(m, "2024-11-15").iloc[0]
    assert row.sessions_in_window == 5 and row.school_weeks_in_window == 10
    assert row.window_start_week == ts("2024-09-09")
    later = stack(m, marks_from(days("2024-11-18", "N N", "N N", "N N")))
    pd.testing.assert_frame_equal(legal.legal_threshold_status(later, "2024-11-15"),
                                  legal.legal_threshold_status(m, "2024-11-15"))


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


@pytest.mark.parametrize("seed", [1, 2])
def test_legal_threshold_matches_reference(seed):
    m = random_marks(40, seed)
    for threshold, window in ((10, 10), (6, 3)):
        ref = _reference_threshold(m, threshold, window)
        out = legal.legal_threshold(m, threshold=threshold, window_weeks=window)
        got = {(r.upn, r.urn): (r.date_reached, r.session_reached) for r in out.itertuples()}
        assert got == ref and len(ref) > 0


# --------------------------------------------------------------------------- module
def test_public_api_is_explicit():
    assert set(legal.__all__) <= set(dir(legal))
    assert not [name for name in legal.__all__ if name.startswith("_")]
    for name in legal.__all__:
        assert getattr(patterns, name) is getattr(legal, name)  # still reachable there


def test_docstring_examples_run():
    result = doctest.testmod(legal, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
