"""Tests for attendance_lib.patterns (weekday/session and weekly rates, lateness) and the marks
input handling shared with legal and spells; expected values are worked out by hand in the
comments. The legal threshold, spells and bands have their own test modules."""

from __future__ import annotations

import doctest
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from marks_frames import UPN, URN, days, marks_from, stack  # noqa: F401

from attendance_lib import patterns

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


# --------------------------------------------------------------------------- module
def test_public_api_is_explicit():
    assert set(patterns.__all__) <= set(dir(patterns))
    assert not [name for name in patterns.__all__ if name.startswith("_")]


def test_docstring_examples_run():
    result = doctest.testmod(patterns, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
