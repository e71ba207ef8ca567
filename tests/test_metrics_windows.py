"""Store-level wrappers: the legal threshold over the store, term / half-term / week windows and
the pupil (cross-enrolment) view. Expected values worked out by hand in comments."""

import pandas as pd
import pytest
from conftest import make_upn

from attendance_lib import metrics, patterns

A, B = make_upn(1), make_upn(2)


@pytest.fixture()
def threshold_store(register_builder):
    """Pupil A: one O a week for 5 weeks before Christmas, 2 weeks' holiday (no marks), then one
    O and one U a week... laid out so the 10th G/N/O/U falls on Tue 14 Jan 2025, 8 school weeks
    after the first (the holiday weeks are not school weeks, so the window crosses Christmas).
    Pupil B: the same O marks but 5 of them are I (authorised): never reaches 10."""
    reg = register_builder
    reg.school("100001").pupil(A, "100001").pupil(B, "100001")
    # weeks beginning 18 Nov .. 16 Dec 2024 (5 school weeks): Monday AM 'O' for A, 'I' for B
    for wk in pd.date_range("2024-11-18", periods=5, freq="7D"):
        reg.days(A, "100001", wk.date(), "O \\", "/ \\", "/ \\", "/ \\", "/ \\")
        reg.days(B, "100001", wk.date(), "I \\", "/ \\", "/ \\", "/ \\", "/ \\")
    # Christmas: 23 Dec - 3 Jan no marks at all (not school weeks)
    # weeks beginning 6 Jan and 13 Jan 2025
    reg.days(A, "100001", "2025-01-06", "O U", "/ \\", "/ \\", "/ \\", "/ \\")  # 7 so far
    reg.days(A, "100001", "2025-01-13", "G N", "O \\", "/ \\", "/ \\", "/ \\")  # 9 Mon, 10 Tue
    reg.days(B, "100001", "2025-01-06", "O U", "/ \\", "/ \\", "/ \\", "/ \\")
    reg.days(B, "100001", "2025-01-13", "G N", "O \\", "/ \\", "/ \\", "/ \\")
    return reg.ingest()


def test_legal_threshold_from_store(threshold_store):
    # A: 5 (Nov-Dec) + 2 (6 Jan) + 2 (13 Jan) + 1 (Tue 14 Jan AM) = 10 within 7 school weeks
    # B: 5 unauthorised only (the I marks are authorised) -> not reached
    got = metrics.legal_threshold(threshold_store)
    assert list(got["upn"]) == [A]
    assert pd.Timestamp(got["date_reached"].iloc[0]) == pd.Timestamp("2025-01-14")
    assert int(got["sessions_in_window"].iloc[0]) == 10


def test_legal_threshold_matches_full_marks(threshold_store):
    # the store wrapper uses only G/N/O/U marks plus the school weeks; it must agree with the
    # rule applied to every mark
    full = patterns.legal_threshold(threshold_store.marks())
    fast = metrics.legal_threshold(threshold_store)
    cols = ["upn", "urn", "date_reached", "sessions_in_window"]
    pd.testing.assert_frame_equal(full[cols].reset_index(drop=True),
                                  fast[cols].reset_index(drop=True), check_dtype=False)


def test_legal_threshold_as_of_before_reached(threshold_store):
    # on Mon 13 Jan A has 9: not yet reached
    assert metrics.legal_threshold(threshold_store, "2025-01-13").empty
    status = metrics.legal_threshold_status(threshold_store, "2025-01-13").set_index("upn")
    assert int(status.loc[A, "sessions_in_window"]) == 9
    assert not bool(status.loc[A, "at_threshold"])


def test_legal_threshold_status_counts_the_current_week(threshold_store):
    # as of Mon 13 Jan the week beginning 13 Jan has begun: it is the last school week, and the
    # window of 10 school weeks is 13 Jan back to 18 Nov (5 + 2 school weeks: only 7 exist)
    status = metrics.legal_threshold_status(threshold_store, "2025-01-13").set_index("upn")
    assert pd.Timestamp(status.loc[A, "last_school_week"]) == pd.Timestamp("2025-01-13")
    assert int(status.loc[A, "school_weeks_in_window"]) == 7
    # as of Sun 12 Jan the week of 13 Jan has not begun
    earlier = metrics.legal_threshold_status(threshold_store, "2025-01-12").set_index("upn")
    assert pd.Timestamp(earlier.loc[A, "last_school_week"]) == pd.Timestamp("2025-01-06")
    assert int(earlier.loc[A, "sessions_in_window"]) == 7


def test_period_windows(threshold_store):
    # week to date on Tue 14 Jan 2025: Mon + Tue = 4 possible sessions for each pupil;
    # A absent Mon AM (G), Mon PM (N), Tue AM (O) = 3 of 4
    wk = metrics.period_summary(threshold_store, "2025-01-14", "week").set_index("upn")
    assert wk.loc[A, "possible"] == 4 and wk.loc[A, "absent"] == 3
    # half-term inferred from the register: the Christmas break (2 weeks with no marks) starts a
    # new block on 6 Jan, so spring half-term to date = 6 Jan - 14 Jan: 7 days, 14 sessions;
    # A absent 2 (6 Jan) + 3 = 5
    ht = metrics.period_summary(threshold_store, "2025-01-14", "half_term").set_index("upn")
    assert ht.loc[A, "possible"] == 14 and ht.loc[A, "absent"] == 5
    # year to date: 25 + 7 days = 32 days = 64 sessions; A absent 5 + 5 = 10
    ytd = metrics.period_summary(threshold_store, "2025-01-14", "ytd").set_index("upn")
    assert ytd.loc[A, "possible"] == 64 and ytd.loc[A, "absent"] == 10
    with pytest.raises(ValueError, match="period must be"):
        metrics.period_summary(threshold_store, "2025-01-14", "fortnight")


def test_pupil_summary_combines_enrolments(register_builder):
    # A moves from school 1 (5 days, 2 absences) to school 2 (5 days, 0 absences):
    # two enrolments (school 1: 2/10 = 20% PA), one pupil: 2/20 = 10% (still PA at exactly 10%)
    reg = register_builder
    reg.school("100001").school("100002", "primary")
    reg.pupil(A, "100001", leaving="2024-09-06").pupil(A, "100002", admission="2024-09-09")
    reg.days(A, "100001", "2024-09-02", "I I", "/ \\", "/ \\", "/ \\", "/ \\")
    reg.repeat(A, "100002", "2024-09-09", "/ \\", 5)
    store = reg.ingest()
    enr = metrics.enrolment_summary(store)
    assert len(enr) == 2
    pup = metrics.pupil_summary(enr).set_index("upn")
    assert pup.loc[A, "possible"] == 20 and pup.loc[A, "absent"] == 2
    assert bool(pup.loc[A, "persistent_absence"])
    assert pup.loc[A, "urns"] == "100001,100002"
