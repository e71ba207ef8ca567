"""Attendance patterns in register marks: weekday/session and weekly absence rates, lateness.

One concept: *when* absence and lateness happen, the weekly patterns schools should monitor
(domain.md 5), as absence rates over possible sessions (domain.md 2.1) and late marks ``L``/``U``
(domain.md 1.1). The related pattern measures have their own modules and are re-exported here,
so ``from attendance_lib import patterns`` still reaches them: :mod:`attendance_lib.legal`
(10-in-10 penalty-notice threshold, domain.md 4.1), :mod:`attendance_lib.spells` (absence
spells) and :mod:`attendance_lib.bands` (absence and attendance bands, domain.md 2.1).

Every function here and in ``legal`` and ``spells`` takes a *marks* frame, one row per pupil,
session and enrolment:

* ``upn``, ``urn`` -- strings; an *enrolment* is the pair ``(upn, urn)`` (domain.md 2.2);
* ``date`` -- ``datetime64`` of any unit, pyarrow ``date32``/``timestamp`` or ``datetime.date``;
  only the calendar date is used;
* ``session`` -- ``"AM"`` or ``"PM"``;
* ``code`` -- the register code (domain.md 1.1, 1.2);
* ``category`` -- its statistical category from :mod:`attendance_lib.codes` (domain.md 2.1).

Rows of not-possible sessions (``#``, ``X``, ``Y1`` ...) may be present; they never count as
possible sessions. Inputs are never modified; results are new frames, sorted by ``upn, urn``.
Per-enrolment results cover enrolments with at least one possible session, as DfE's statistics
leave out zero-possible-session enrolments (domain.md 2.2). Everything is vectorised with numpy,
so an LA's year of marks (millions of rows) takes seconds.

Examples
--------
>>> m = pd.DataFrame({"upn": "A1", "urn": "100000", "date": pd.to_datetime(["2024-09-09"] * 2),
...     "session": ["AM", "PM"], "code": ["L", "U"], "category": ["present", "unauthorised"]})
>>> lateness(m)[["possible_sessions", "late_before", "late_after", "late_pct"]]
   possible_sessions  late_before  late_after  late_pct
0                  2            1           1     100.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attendance_lib._marks_frame import (
    ABSENT_LUT,
    CATEGORY_ID,
    POSSIBLE_LUT,
    SESSIONS,
    enrolment_columns,
    prepare,
    to_dates,
)
from attendance_lib.bands import (
    ABSENCE_BANDS,
    ATTENDANCE_BAND_STAGES,
    ATTENDANCE_BANDS,
    absence_bands,
    attendance_bands,
    band_from_counts,
)
from attendance_lib.codes import AUTHORISED, UNAUTHORISED
from attendance_lib.legal import (
    LEGAL_THRESHOLD_SESSIONS,
    LEGAL_THRESHOLD_WEEKS,
    legal_threshold,
    legal_threshold_status,
)
from attendance_lib.spells import absence_spells, spell_summary

__all__ = [
    "day_session_pattern",
    "weekly_rates",
    "lateness",
    # re-exported from attendance_lib.legal, .spells and .bands
    "LEGAL_THRESHOLD_SESSIONS",
    "LEGAL_THRESHOLD_WEEKS",
    "legal_threshold",
    "legal_threshold_status",
    "absence_spells",
    "spell_summary",
    "ABSENCE_BANDS",
    "ATTENDANCE_BANDS",
    "ATTENDANCE_BAND_STAGES",
    "absence_bands",
    "attendance_bands",
    "band_from_counts",
]

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --------------------------------------------------------------------------- rates by group
def _by_columns(marks: pd.DataFrame, by, reserved: tuple[str, ...]) -> list[str]:
    cols = [by] if isinstance(by, str) else list(by)
    bad = [c for c in cols if c not in marks.columns or c in reserved]
    if bad:
        raise ValueError(f"cannot group by {bad}: not a column of marks, or a result column")
    return cols


def _rate_table(marks: pd.DataFrame, by: list[str], keys: dict) -> pd.DataFrame:
    """Possible, absence, authorised and unauthorised sessions of possible marks, grouped by the
    ``by`` columns of ``marks`` and the integer ``keys`` (functions of the prepared marks)."""
    m = prepare(marks)
    rows = np.flatnonzero(POSSIBLE_LUT[m.cat])
    levels = [pd.factorize(marks[c], sort=True, use_na_sentinel=False)[0][rows] for c in by]
    levels += [np.asarray(f(m), dtype=np.int64)[rows] for f in keys.values()]
    group = np.zeros(len(rows), dtype=np.int64)
    for level in levels:  # mixed radix, re-numbered densely so it never overflows
        group, _ = pd.factorize(group * (int(level.max(initial=0)) + 1) + level, sort=True)
    n = int(group.max(initial=-1)) + 1
    rep = np.zeros(n, dtype=np.int64)
    rep[group] = np.arange(len(group))  # any row of each group: all share its labels
    cat = m.cat[rows]

    def count(weights=None) -> np.ndarray:
        return np.bincount(group, weights=weights, minlength=n).astype(np.int64)

    return pd.DataFrame({
        **{c: marks[c].iloc[rows[rep]].reset_index(drop=True) for c in by},
        **{k: level[rep] for k, level in zip(keys, levels[len(by):], strict=True)},
        "possible": count(),
        "absent": count(ABSENT_LUT[cat]),
        "authorised": count(cat == CATEGORY_ID[AUTHORISED]),
        "unauthorised": count(cat == CATEGORY_ID[UNAUTHORISED]),
    })


def _with_pct(table: pd.DataFrame) -> pd.DataFrame:
    pct = 100 * table["absent"] / table["possible"].where(table["possible"] > 0)
    return table.assign(absence_pct=pct.astype("float64"))


def day_session_pattern(marks: pd.DataFrame, by=("urn",)) -> pd.DataFrame:
    """Absence rate for each weekday and session, the weekly pattern schools should monitor.

    Schools should monitor weekly patterns (domain.md 5); the rate is absence sessions / possible
    sessions x 100 (domain.md 2.1), counting possible sessions only.

    Parameters
    ----------
    marks : DataFrame
        Marks as described in the module docstring, plus any ``by`` columns.
    by : str or sequence of str, default ("urn",)
        Grouping columns of ``marks``; ``()`` for all marks together.

    Returns
    -------
    DataFrame
        Tidy: ``*by, weekday`` (0 = Monday ... 4 = Friday), ``weekday_name, session, possible,
        absent, absence_pct`` (NaN when nothing was possible). Every group that has a possible
        session gets all ten Monday-Friday x AM/PM rows (zero-filled); Saturday/Sunday rows
        appear only where such sessions were possible, so no session is dropped.
    """
    cols = _by_columns(marks, by, ("weekday", "weekday_name", "session"))
    table = _rate_table(marks, cols, {"weekday": lambda m: (m.day + 3) % 7,
                                      "session": lambda m: m.pm.astype(np.int8)})
    days = sorted({0, 1, 2, 3, 4} | set(table["weekday"]))
    grid = pd.MultiIndex.from_product([days, [0, 1]], names=["weekday", "session"]).to_frame(
        index=False)
    if cols:
        grid = table[cols].drop_duplicates().merge(grid, how="cross")
    table = grid.merge(table, on=[*cols, "weekday", "session"], how="left")
    counts = table[["possible", "absent"]].fillna(0).astype(np.int64)
    table = _with_pct(table.assign(possible=counts["possible"], absent=counts["absent"]))
    return table.assign(
        weekday_name=pd.Series(_WEEKDAY_NAMES, dtype="str").iloc[table["weekday"]].to_numpy(),
        session=pd.Series(SESSIONS[table["session"]], dtype="str"),
    )[[*cols, "weekday", "weekday_name", "session", "possible", "absent", "absence_pct"]]


def weekly_rates(marks: pd.DataFrame, by=("urn",)) -> pd.DataFrame:
    """Possible sessions, absence and absence rate per school week, for trend charts.

    School weeks are Monday-Sunday weeks with at least one possible session in the group
    (domain.md 4.1 wording); the rate is as in domain.md 2.1.

    Parameters
    ----------
    marks : DataFrame
        Marks as described in the module docstring, plus any ``by`` columns.
    by : str or sequence of str, default ("urn",)
        Grouping columns of ``marks``; ``()`` for all marks together.

    Returns
    -------
    DataFrame
        ``*by, week_start`` (Monday), ``possible, absent, authorised, unauthorised,
        absence_pct``, sorted by ``by`` then week.
    """
    cols = _by_columns(marks, by, ("week_start",))
    table = _rate_table(marks, cols, {"week_start": lambda m: (m.day + 3) // 7 * 7 - 3})
    return _with_pct(table.assign(week_start=to_dates(table["week_start"].to_numpy())))


# --------------------------------------------------------------------------- lateness
def lateness(marks: pd.DataFrame) -> pd.DataFrame:
    """Late arrivals per enrolment (domain.md 1.1; DfE ``late_sessions`` = L + U).

    ``L`` (arrived before the register closed) counts as present; ``U`` (after it closed) is
    unauthorised absence. Counted by code.

    Returns
    -------
    DataFrame
        ``upn, urn, possible_sessions, late_before`` (L), ``late_after`` (U), ``late_sessions``
        (L + U) and ``late_pct`` (late sessions / possible sessions x 100), for every enrolment
        with a possible session.
    """
    m = prepare(marks)
    rows = np.flatnonzero(POSSIBLE_LUT[m.cat])
    enr = m.enr[rows]
    n = len(m.upn)
    possible = np.bincount(enr, minlength=n)
    keep = np.flatnonzero(possible)
    before = np.bincount(enr, weights=m.flag({"L"})[rows], minlength=n).astype(np.int64)[keep]
    after = np.bincount(enr, weights=m.flag({"U"})[rows], minlength=n).astype(np.int64)[keep]
    return pd.DataFrame({
        **enrolment_columns(m, keep),
        "possible_sessions": possible[keep],
        "late_before": before,
        "late_after": after,
        "late_sessions": before + after,
        "late_pct": 100 * (before + after) / possible[keep],
    })

