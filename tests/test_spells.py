"""Tests for attendance_lib.spells (absence spells); expected values are worked out by hand in
the comments."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from marks_frames import UPN, URN, marks_from, random_marks, stack  # noqa: F401

from attendance_lib import patterns
from attendance_lib import spells as sp

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
    out = sp.absence_spells(marks_from(SPELL_SPEC))
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
    one = sp.absence_spells(marks_from({"2024-09-13": "/ N", "2024-09-16": "N /"}))
    assert len(one) == 1 and one.sessions.iloc[0] == 2
    assert (one.start_session.iloc[0], one.end_session.iloc[0]) == ("PM", "AM")
    moved = stack(marks_from({"2024-09-13": "/ N"}, urn="100001"),
                  marks_from({"2024-09-16": "N /"}, urn="100002"))
    assert sp.absence_spells(moved).urn.tolist() == ["100001", "100002"]


def test_present_session_breaks_a_spell():
    out = sp.absence_spells(marks_from({"2024-09-09": "I L", "2024-09-10": "I I"}))
    assert out.sessions.tolist() == [1, 2]


def test_spells_do_not_depend_on_row_order():
    m = marks_from(SPELL_SPEC)
    shuffled = m.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(sp.absence_spells(shuffled), sp.absence_spells(m))


def test_spell_summary():
    m = stack(marks_from(SPELL_SPEC), marks_from({"2024-09-12": "/ \\"}, upn="A000000000002"))
    out = sp.spell_summary(m).set_index("upn")
    a = out.loc[UPN]
    # possible: 22 marks - 3 '#' = 19; spells 4, 2, 1, 1, 4
    assert a.possible_sessions == 19 and a.absence_sessions == 12 and a.spells == 5
    assert (a.single_session_spells, a.spells_3plus, a.spells_10plus) == (2, 2, 0)
    assert a.longest_spell == 4 and a.mean_spell_sessions == pytest.approx(2.4)
    b = out.loc["A000000000002"]
    assert (b.possible_sessions, b.spells, b.longest_spell) == (2, 0, 0)
    assert np.isnan(b.mean_spell_sessions)


# --------------------------------------------------------------------------- reference checks


def test_spells_total_matches_absence_count():
    m = random_marks(30, 5)
    spells = sp.absence_spells(m)
    absent = m.category.isin(["authorised", "unauthorised"])
    assert spells.sessions.sum() == absent.sum()
    assert spells.unauthorised_sessions.sum() == (m.category == "unauthorised").sum()


# --------------------------------------------------------------------------- module
def test_public_api_is_explicit():
    assert set(sp.__all__) <= set(dir(sp))
    assert not [name for name in sp.__all__ if name.startswith("_")]
    for name in sp.__all__:
        assert getattr(patterns, name) is getattr(sp, name)  # still reachable there


def test_docstring_examples_run():
    result = doctest.testmod(sp, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
