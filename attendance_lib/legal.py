"""The 10-in-10 penalty-notice threshold: unauthorised sessions in rolling school-week windows.

One concept: the national framework for penalty notices (domain.md 4.1), under which a penalty
notice must be considered at 10 sessions of unauthorised absence (codes ``G``, ``N``, ``O``,
``U``) within a rolling 10 school-week period, consecutive or scattered, across terms and school
years; a school week is any week with at least one session.

Functions take a *marks* frame as described in :mod:`attendance_lib.patterns`, which also
re-exports everything here.

Examples
--------
>>> LEGAL_THRESHOLD_SESSIONS, LEGAL_THRESHOLD_WEEKS
(10, 10)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attendance_lib._marks_frame import (
    SESSIONS,
    Marks,
    enrolment_columns,
    possible_sorted,
    prepare,
    run_starts,
    to_dates,
)
from attendance_lib.codes import LEGAL_THRESHOLD_CODES

__all__ = [
    "LEGAL_THRESHOLD_SESSIONS",
    "LEGAL_THRESHOLD_WEEKS",
    "legal_threshold",
    "legal_threshold_status",
]

#: penalty notice must be considered at 10 unauthorised sessions ... (domain.md 4.1)
LEGAL_THRESHOLD_SESSIONS = 10
#: ... within a rolling 10 school-week period (domain.md 4.1)
LEGAL_THRESHOLD_WEEKS = 10


@dataclass(frozen=True)
class _Window:
    """Rolling school-week window counts at each G/N/O/U mark of sorted possible marks ``p``."""

    idx: np.ndarray  # row in p of each counted mark
    count: np.ndarray  # counted marks in the window up to and including this one
    first: np.ndarray  # row in idx of the earliest counted mark in the window
    lower: np.ndarray  # global school-week number where the window starts
    week_day: np.ndarray  # Monday (day number) of each global school week
    g: np.ndarray  # global school-week number of every row of p
    first_g: np.ndarray  # global school-week number of the enrolment's first school week


def _window_counts(p: Marks, window_weeks: int) -> _Window:
    week = (p.day + 3) // 7  # Monday-Sunday weeks: day 0 (1970-01-01) is a Thursday
    new_enr = run_starts(p.enr)
    new_week = new_enr | run_starts(week)
    g = np.cumsum(new_week) - 1  # school weeks numbered across all enrolments
    first_g = np.maximum.accumulate(np.where(new_enr, g, 0))
    idx = np.flatnonzero(p.flag(LEGAL_THRESHOLD_CODES))
    gc = g[idx]
    lower = np.maximum(gc - (window_weeks - 1), first_g[idx])
    first = np.searchsorted(gc, lower, side="left")
    return _Window(idx, np.arange(1, len(idx) + 1) - first, first, lower,
                   week[new_week] * 7 - 3, g, first_g)


def _first_reached(p: Marks, w: _Window, threshold: int) -> np.ndarray:
    """Rows of ``w.idx`` where each enrolment's window count first reaches ``threshold``."""
    hit = np.flatnonzero(w.count >= threshold)
    return hit[run_starts(p.enr[w.idx[hit]])]


def _check_threshold_args(threshold: int, window_weeks: int) -> None:
    if int(threshold) != threshold or threshold < 1:
        raise ValueError(f"threshold must be a positive integer, got {threshold!r}")
    if int(window_weeks) != window_weeks or window_weeks < 1:
        raise ValueError(f"window_weeks must be a positive integer, got {window_weeks!r}")


def legal_threshold(marks: pd.DataFrame, *, threshold: int = LEGAL_THRESHOLD_SESSIONS,
                    window_weeks: int = LEGAL_THRESHOLD_WEEKS) -> pd.DataFrame:
    """Enrolments that reached the penalty-notice threshold, and when they first did.

    National framework (domain.md 4.1): a penalty notice must be considered at 10 sessions of
    unauthorised absence within a rolling 10 school-week period, consecutive or scattered, across
    terms and school years. Only codes ``G``, ``N``, ``O``, ``U`` count (by code, not category).

    A *school week* of an enrolment is a Monday-Sunday week in which it had at least one possible
    session at that school; other weeks (holidays, closures coded ``#``) are skipped, so a window
    stretches over them. School weeks are numbered 0, 1, 2 ... per enrolment; the window of a mark
    in school week ``w`` is school weeks ``w - window_weeks + 1`` to ``w``. The count at a mark is
    the G/N/O/U marks in that window up to and including the mark (date order, AM before PM).

    Parameters
    ----------
    marks : DataFrame
        Marks as described in :mod:`attendance_lib.patterns`.
    threshold : int, default 10
        Sessions needed in the window.
    window_weeks : int, default 10
        Window length in school weeks.

    Returns
    -------
    DataFrame
        One row per enrolment that reached the threshold: ``upn, urn, date_reached,
        session_reached`` (the mark that first brought the window count to ``threshold``),
        ``sessions_in_window`` (the count then, i.e. ``threshold``), ``window_start_week`` and
        ``window_end_week`` (Mondays of the window's first and last school weeks; the first is
        the enrolment's first school week when it has fewer than ``window_weeks``) and
        ``first_counted_date`` (the earliest G/N/O/U mark counted in that window).

    Examples
    --------
    >>> m = pd.DataFrame({"upn": "A1", "urn": "100000", "code": "N", "category": "unauthorised",
    ...     "date": pd.to_datetime(["2024-09-09"] * 2 + ["2024-09-10"] * 2), "session": ["AM",
    ...     "PM"] * 2})
    >>> legal_threshold(m, threshold=3)[["date_reached", "session_reached", "sessions_in_window"]]
      date_reached session_reached  sessions_in_window
    0   2024-09-10              AM                   3
    """
    _check_threshold_args(threshold, window_weeks)
    p = possible_sorted(prepare(marks))
    w = _window_counts(p, int(window_weeks))
    hit = _first_reached(p, w, int(threshold))
    rows = w.idx[hit]
    return pd.DataFrame({
        **enrolment_columns(p, p.enr[rows]),
        "date_reached": to_dates(p.day[rows]),
        "session_reached": SESSIONS[p.pm[rows].astype(int)],
        "sessions_in_window": w.count[hit],
        "window_start_week": to_dates(w.week_day[w.lower[hit]]),
        "window_end_week": to_dates(w.week_day[w.g[rows]]),
        "first_counted_date": to_dates(p.day[w.idx[w.first[hit]]]),
    }).astype({"session_reached": "str"})


def legal_threshold_status(marks: pd.DataFrame, as_of, *,
                           threshold: int = LEGAL_THRESHOLD_SESSIONS,
                           window_weeks: int = LEGAL_THRESHOLD_WEEKS) -> pd.DataFrame:
    """Every enrolment's G/N/O/U count in its latest school weeks up to ``as_of`` (domain.md 4.1).

    Marks after ``as_of`` are ignored, so appending later marks never changes the result. The
    window is the enrolment's last ``window_weeks`` school weeks up to ``as_of`` (see
    :func:`legal_threshold`); for a pupil who has left it is their last weeks at the school, so
    check ``last_school_week``.

    Parameters
    ----------
    marks : DataFrame
        Marks as described in :mod:`attendance_lib.patterns`.
    as_of : date-like
        Last date included (inclusive).
    threshold, window_weeks : int
        As in :func:`legal_threshold`.

    Returns
    -------
    DataFrame
        One row per enrolment with a possible session by ``as_of``: ``upn, urn,
        last_school_week, window_start_week`` (Mondays), ``school_weeks_in_window``,
        ``sessions_in_window``, ``at_threshold`` (count >= ``threshold`` now), ``ever_reached``
        and ``date_reached`` (first time, as in :func:`legal_threshold`; NaT if never).
    """
    _check_threshold_args(threshold, window_weeks)
    m = prepare(marks)
    as_of_day = (pd.Timestamp(as_of).normalize() - pd.Timestamp(0)).days
    p = possible_sorted(m.take(np.flatnonzero(m.day <= as_of_day)))
    w = _window_counts(p, int(window_weeks))
    last = np.flatnonzero(run_starts(p.enr[::-1])[::-1])  # last row of each enrolment
    enr, last_g = p.enr[last], w.g[last]
    lower = np.maximum(last_g - (int(window_weeks) - 1), w.first_g[last])
    gc = w.g[w.idx]
    count = np.searchsorted(gc, last_g, "right") - np.searchsorted(gc, lower, "left")
    reached_day = np.full(len(m.upn), np.iinfo(np.int64).min)
    hit_rows = w.idx[_first_reached(p, w, int(threshold))]
    reached_day[p.enr[hit_rows]] = p.day[hit_rows]
    reached = reached_day[enr] != np.iinfo(np.int64).min
    return pd.DataFrame({
        **enrolment_columns(p, enr),
        "last_school_week": to_dates(w.week_day[last_g]),
        "window_start_week": to_dates(w.week_day[lower]),
        "school_weeks_in_window": last_g - lower + 1,
        "sessions_in_window": count,
        "at_threshold": count >= threshold,
        "ever_reached": reached,
        "date_reached": pd.to_datetime(np.where(reached, to_dates(reached_day[enr]),
                                                np.datetime64("NaT", "ns"))),
    })
