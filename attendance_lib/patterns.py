"""Attendance patterns in register marks: legal threshold, absence spells, day/session and weekly
patterns, lateness, and absence/attendance bands.

Every function takes a *marks* frame, one row per pupil, session and enrolment:

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
>>> absence_bands(pd.Series([9.99, 10.0, 50.0])).tolist()
['5-9.99', '10-14.99', '50-100']
>>> band_from_counts(38, 380), band_from_counts(190, 380)
('>50% to 90%', '50% or less')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attendance_lib.codes import (
    ABSENCE_CATEGORIES,
    AUTHORISED,
    CATEGORIES,
    LEGAL_THRESHOLD_CODES,
    POSSIBLE_CATEGORIES,
    UNAUTHORISED,
)

__all__ = [
    "ABSENCE_BANDS",
    "ATTENDANCE_BANDS",
    "ATTENDANCE_BAND_STAGES",
    "LEGAL_THRESHOLD_SESSIONS",
    "LEGAL_THRESHOLD_WEEKS",
    "legal_threshold",
    "legal_threshold_status",
    "absence_spells",
    "spell_summary",
    "day_session_pattern",
    "weekly_rates",
    "lateness",
    "absence_bands",
    "attendance_bands",
    "band_from_counts",
]

#: penalty notice must be considered at 10 unauthorised sessions ... (domain.md 4.1)
LEGAL_THRESHOLD_SESSIONS = 10
#: ... within a rolling 10 school-week period (domain.md 4.1)
LEGAL_THRESHOLD_WEEKS = 10

#: DfE published absence bands, 5% steps: [0, 5), ..., [45, 50), [50, 100] (domain.md 2.1)
ABSENCE_BANDS = tuple(f"{lo}-{lo + 4}.99" for lo in range(0, 50, 5)) + ("50-100",)

#: the suite's attendance bands, lowest attendance first. The edges follow DfE's exact measures
#: (domain.md 2.1): severe absence is absence >= 50% (attendance <= 50%), persistent absence is
#: absence >= 10% (attendance <= 90%). "At risk" (90-95%) is the suite's own band: there is no
#: national definition (domain.md 5). Attendance is taken as 100 - absence; the two differ only
#: for COVID ``X`` in 2020/21-2021/22 (domain.md 1.2).
ATTENDANCE_BANDS = ("50% or less", ">50% to 90%", ">90% to <95%", "95% to <100%", "100%")
ATTENDANCE_BAND_STAGES = dict(zip(
    ATTENDANCE_BANDS, ("severe", "persistent", "at risk", "expected", "full"), strict=True))

_SESSIONS = np.array(["AM", "PM"], dtype=object)
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_REQUIRED = ("upn", "urn", "date", "session", "code", "category")
_POSSIBLE_LUT = np.array([c in POSSIBLE_CATEGORIES for c in CATEGORIES])
_ABSENT_LUT = np.array([c in ABSENCE_CATEGORIES for c in CATEGORIES])
_CATEGORY_ID = {c: i for i, c in enumerate(CATEGORIES)}
_SNAP_DECIMALS = 9  # percentages are rounded to 1e-9 before banding: removes float noise only


# --------------------------------------------------------------------------- preparation
@dataclass(frozen=True)
class _Marks:
    """Marks as numpy arrays; ``enr`` numbers enrolments in ``(upn, urn)`` order."""

    enr: np.ndarray  # int64 enrolment id
    day: np.ndarray  # int64 days since 1970-01-01
    pm: np.ndarray  # bool
    code: np.ndarray  # int64 into ``codes`` (alphabetical); missing -> len(codes)
    codes: np.ndarray  # object: code strings, then None for a missing code
    cat: np.ndarray  # int8 into codes.CATEGORIES
    upn: pd.Index  # per enrolment id
    urn: pd.Index

    def take(self, idx: np.ndarray) -> _Marks:
        return _Marks(self.enr[idx], self.day[idx], self.pm[idx], self.code[idx], self.codes,
                      self.cat[idx], self.upn, self.urn)

    def flag(self, code_set) -> np.ndarray:
        """Rows whose code is in ``code_set``."""
        return np.array([c in code_set for c in self.codes], dtype=bool)[self.code]


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Calendar date of each value as int64 days since 1970-01-01 (no time, no time zone)."""
    if isinstance(dates.dtype, pd.ArrowDtype) and (
            pa.types.is_date(dates.dtype.pyarrow_dtype)
            or pa.types.is_timestamp(dates.dtype.pyarrow_dtype)):
        arr = pc.cast(dates.array.__arrow_array__(), pa.date32())  # pandas' own cast is slow
        if arr.null_count:
            raise ValueError("marks has missing dates")
        return arr.to_numpy().astype(np.int64)
    if not pd.api.types.is_datetime64_any_dtype(dates.dtype):
        dates = pd.to_datetime(dates)
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    if dates.isna().any():
        raise ValueError("marks has missing dates")
    return dates.to_numpy().astype("datetime64[D]").astype(np.int64)


def _factorize(values: pd.Series, name: str) -> tuple[np.ndarray, pd.Index]:
    ids, uniques = pd.factorize(values, sort=True)
    if (ids < 0).any():
        raise ValueError(f"marks has missing values in {name!r}")
    return ids.astype(np.int64), pd.Index(uniques)


def _prepare(marks: pd.DataFrame) -> _Marks:
    """Validate ``marks`` and turn it into arrays (see the module docstring for the columns)."""
    missing = [c for c in _REQUIRED if c not in marks.columns]
    if missing:
        raise ValueError(f"marks is missing columns {missing}")
    upn_id, upn = _factorize(marks["upn"], "upn")
    urn_id, urn = _factorize(marks["urn"], "urn")
    pair, pairs = pd.factorize(upn_id * max(len(urn), 1) + urn_id, sort=True)
    ses_id, sessions = pd.factorize(marks["session"])
    bad = set(sessions) - {"AM", "PM"}
    if bad or (ses_id < 0).any():
        raise ValueError(f"session must be 'AM' or 'PM'; found {sorted(map(str, bad)) or 'NA'}")
    cat_id, cats = pd.factorize(marks["category"])
    bad = set(cats) - set(CATEGORIES)
    if bad or (cat_id < 0).any():
        raise ValueError(f"unknown categories {sorted(map(str, bad)) or 'NA'}; use codes.py's")
    code_id, codes = pd.factorize(marks["code"], sort=True)
    code_id = np.where(code_id < 0, len(codes), code_id).astype(np.int64)
    n_urn = max(len(urn), 1)
    return _Marks(
        enr=pair.astype(np.int64), day=_day_numbers(marks["date"]),
        pm=np.array([s == "PM" for s in sessions], dtype=bool)[ses_id],
        code=code_id, codes=np.array([*map(str, codes), None], dtype=object),
        cat=np.array([_CATEGORY_ID[c] for c in cats], dtype=np.int8)[cat_id],
        upn=upn[pairs // n_urn], urn=urn[pairs % n_urn])


def _possible_sorted(m: _Marks) -> _Marks:
    """Possible sessions only, ordered by enrolment, date, AM before PM; duplicates raise."""
    p = m.take(np.flatnonzero(_POSSIBLE_LUT[m.cat]))
    first_day = int(p.day.min()) if len(p.day) else 0
    span = (int(p.day.max()) - first_day + 1) if len(p.day) else 1
    key = (p.enr * span + (p.day - first_day)) * 2 + p.pm
    if len(key) > 1 and not (key[1:] > key[:-1]).all():  # the store usually hands sorted rows
        order = np.argsort(key)
        key, p = key[order], p.take(order)
        if (key[1:] == key[:-1]).any():
            raise ValueError("marks has more than one possible mark for an enrolment and session")
    return p


def _starts(values: np.ndarray) -> np.ndarray:
    """True where a run of equal values begins."""
    out = np.ones(len(values), dtype=bool)
    out[1:] = values[1:] != values[:-1]
    return out


def _to_dates(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")


def _enrolment_columns(m: _Marks, enr: np.ndarray) -> dict[str, pd.Index]:
    return {"upn": m.upn[enr], "urn": m.urn[enr]}


# --------------------------------------------------------------------------- legal threshold
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


def _window_counts(p: _Marks, window_weeks: int) -> _Window:
    week = (p.day + 3) // 7  # Monday-Sunday weeks: day 0 (1970-01-01) is a Thursday
    new_enr = _starts(p.enr)
    new_week = new_enr | _starts(week)
    g = np.cumsum(new_week) - 1  # school weeks numbered across all enrolments
    first_g = np.maximum.accumulate(np.where(new_enr, g, 0))
    idx = np.flatnonzero(p.flag(LEGAL_THRESHOLD_CODES))
    gc = g[idx]
    lower = np.maximum(gc - (window_weeks - 1), first_g[idx])
    first = np.searchsorted(gc, lower, side="left")
    return _Window(idx, np.arange(1, len(idx) + 1) - first, first, lower,
                   week[new_week] * 7 - 3, g, first_g)


def _first_reached(p: _Marks, w: _Window, threshold: int) -> np.ndarray:
    """Rows of ``w.idx`` where each enrolment's window count first reaches ``threshold``."""
    hit = np.flatnonzero(w.count >= threshold)
    return hit[_starts(p.enr[w.idx[hit]])]


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
        Marks as described in the module docstring.
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
    p = _possible_sorted(_prepare(marks))
    w = _window_counts(p, int(window_weeks))
    hit = _first_reached(p, w, int(threshold))
    rows = w.idx[hit]
    return pd.DataFrame({
        **_enrolment_columns(p, p.enr[rows]),
        "date_reached": _to_dates(p.day[rows]),
        "session_reached": _SESSIONS[p.pm[rows].astype(int)],
        "sessions_in_window": w.count[hit],
        "window_start_week": _to_dates(w.week_day[w.lower[hit]]),
        "window_end_week": _to_dates(w.week_day[w.g[rows]]),
        "first_counted_date": _to_dates(p.day[w.idx[w.first[hit]]]),
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
        Marks as described in the module docstring.
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
    m = _prepare(marks)
    as_of_day = (pd.Timestamp(as_of).normalize() - pd.Timestamp(0)).days
    p = _possible_sorted(m.take(np.flatnonzero(m.day <= as_of_day)))
    w = _window_counts(p, int(window_weeks))
    last = np.flatnonzero(_starts(p.enr[::-1])[::-1])  # last row of each enrolment
    enr, last_g = p.enr[last], w.g[last]
    lower = np.maximum(last_g - (int(window_weeks) - 1), w.first_g[last])
    gc = w.g[w.idx]
    count = np.searchsorted(gc, last_g, "right") - np.searchsorted(gc, lower, "left")
    reached_day = np.full(len(m.upn), np.iinfo(np.int64).min)
    hit_rows = w.idx[_first_reached(p, w, int(threshold))]
    reached_day[p.enr[hit_rows]] = p.day[hit_rows]
    reached = reached_day[enr] != np.iinfo(np.int64).min
    return pd.DataFrame({
        **_enrolment_columns(p, enr),
        "last_school_week": _to_dates(w.week_day[last_g]),
        "window_start_week": _to_dates(w.week_day[lower]),
        "school_weeks_in_window": last_g - lower + 1,
        "sessions_in_window": count,
        "at_threshold": count >= threshold,
        "ever_reached": reached,
        "date_reached": pd.to_datetime(np.where(reached, _to_dates(reached_day[enr]),
                                                np.datetime64("NaT", "ns"))),
    })


# --------------------------------------------------------------------------- absence spells
@dataclass(frozen=True)
class _Spells:
    start: np.ndarray  # row in p where each spell starts
    end: np.ndarray  # row in p where it ends
    sessions: np.ndarray
    unauthorised: np.ndarray
    main_code: np.ndarray  # index into p.codes


def _spells(p: _Marks) -> _Spells:
    """Runs of absence over the sorted possible sessions ``p`` of each enrolment."""
    absent = _ABSENT_LUT[p.cat]
    same_enr = ~_starts(p.enr)
    prev_absent = np.zeros(len(p.enr), dtype=bool)
    prev_absent[1:] = absent[:-1]
    start_flag = absent & ~(prev_absent & same_enr)
    next_absent_same = np.zeros(len(p.enr), dtype=bool)
    next_absent_same[:-1] = absent[1:] & same_enr[1:]
    rows = np.flatnonzero(absent)
    sid = np.cumsum(start_flag)[rows] - 1
    n = int(start_flag.sum())
    # main code: most frequent; codes are numbered alphabetically, so ties go to the first
    width = len(p.codes)
    key, counts = np.unique(sid * width + p.code[rows], return_counts=True)
    order = np.lexsort((key % width, -counts, key // width))
    best = order[_starts(key[order] // width)]
    return _Spells(
        start=np.flatnonzero(start_flag), end=np.flatnonzero(absent & ~next_absent_same),
        sessions=np.bincount(sid, minlength=n),
        unauthorised=np.bincount(sid, weights=p.cat[rows] == _CATEGORY_ID[UNAUTHORISED],
                                 minlength=n).astype(np.int64),
        main_code=key[best] % width)


def absence_spells(marks: pd.DataFrame) -> pd.DataFrame:
    """Spells of consecutive absence sessions per enrolment.

    The enrolment's possible sessions are walked in date order, AM before PM; not-possible
    sessions and days without marks (weekends, holidays, ``#`` closures) are skipped, so Friday PM
    and the next Monday AM absent make one spell. A spell is a run of absence sessions
    (authorised or unauthorised, domain.md 2.1); any other possible session (present, AEA, COVID
    ``X``) ends it.

    Parameters
    ----------
    marks : DataFrame
        Marks as described in the module docstring.

    Returns
    -------
    DataFrame
        ``upn, urn, start_date, start_session, end_date, end_session, sessions, main_code``
        (most frequent code; ties go to the alphabetically first) and
        ``unauthorised_sessions``, one row per spell in date order.
    """
    p = _possible_sorted(_prepare(marks))
    s = _spells(p)
    return pd.DataFrame({
        **_enrolment_columns(p, p.enr[s.start]),
        "start_date": _to_dates(p.day[s.start]),
        "start_session": _SESSIONS[p.pm[s.start].astype(int)],
        "end_date": _to_dates(p.day[s.end]),
        "end_session": _SESSIONS[p.pm[s.end].astype(int)],
        "sessions": s.sessions,
        "main_code": p.codes[s.main_code],
        "unauthorised_sessions": s.unauthorised,
    }).astype({"start_session": "str", "end_session": "str", "main_code": "str"})


def spell_summary(marks: pd.DataFrame) -> pd.DataFrame:
    """Per enrolment: how absence is spread over spells (see :func:`absence_spells`).

    Many short spells (odd days) and a few long ones call for different support (domain.md 5).

    Returns
    -------
    DataFrame
        ``upn, urn, possible_sessions, absence_sessions, spells, single_session_spells``,
        ``spells_3plus`` (>= 3 sessions), ``spells_10plus`` (>= 10 sessions: a school week or
        more), ``longest_spell`` and ``mean_spell_sessions`` (NaN without spells), for every
        enrolment with a possible session.
    """
    p = _possible_sorted(_prepare(marks))
    s = _spells(p)
    n = len(p.upn)
    enr = p.enr[s.start]
    possible = np.bincount(p.enr, minlength=n)
    keep = np.flatnonzero(possible)

    def per_enrolment(weights) -> np.ndarray:
        return np.bincount(enr, weights=weights, minlength=n).astype(np.int64)[keep]

    spells = per_enrolment(None)
    absence = per_enrolment(s.sessions)
    longest = np.zeros(n, dtype=np.int64)
    np.maximum.at(longest, enr, s.sessions)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(spells > 0, absence / spells, np.nan)
    return pd.DataFrame({
        **_enrolment_columns(p, keep),
        "possible_sessions": possible[keep],
        "absence_sessions": absence,
        "spells": spells,
        "single_session_spells": per_enrolment(s.sessions == 1),
        "spells_3plus": per_enrolment(s.sessions >= 3),
        "spells_10plus": per_enrolment(s.sessions >= 10),
        "longest_spell": longest[keep],
        "mean_spell_sessions": mean,
    })


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
    m = _prepare(marks)
    rows = np.flatnonzero(_POSSIBLE_LUT[m.cat])
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
        "absent": count(_ABSENT_LUT[cat]),
        "authorised": count(cat == _CATEGORY_ID[AUTHORISED]),
        "unauthorised": count(cat == _CATEGORY_ID[UNAUTHORISED]),
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
        session=pd.Series(_SESSIONS[table["session"]], dtype="str"),
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
    return _with_pct(table.assign(week_start=_to_dates(table["week_start"].to_numpy())))


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
    m = _prepare(marks)
    rows = np.flatnonzero(_POSSIBLE_LUT[m.cat])
    enr = m.enr[rows]
    n = len(m.upn)
    possible = np.bincount(enr, minlength=n)
    keep = np.flatnonzero(possible)
    before = np.bincount(enr, weights=m.flag({"L"})[rows], minlength=n).astype(np.int64)[keep]
    after = np.bincount(enr, weights=m.flag({"U"})[rows], minlength=n).astype(np.int64)[keep]
    return pd.DataFrame({
        **_enrolment_columns(m, keep),
        "possible_sessions": possible[keep],
        "late_before": before,
        "late_after": after,
        "late_sessions": before + after,
        "late_pct": 100 * (before + after) / possible[keep],
    })


# --------------------------------------------------------------------------- bands
def _as_series(values, name: str) -> pd.Series:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    return s.rename(name)


def _snapped_pct(pct: pd.Series) -> np.ndarray:
    v = np.round(pd.to_numeric(pct).to_numpy(dtype="float64", na_value=np.nan), _SNAP_DECIMALS)
    if ((v < 0) | (v > 100)).any():
        raise ValueError("percentages must lie between 0 and 100")
    return v


def _categorical(band: np.ndarray, labels, like: pd.Series) -> pd.Series:
    dtype = pd.CategoricalDtype(list(labels), ordered=True)
    return pd.Series(pd.Categorical.from_codes(band, dtype=dtype), index=like.index,
                     name=like.name)


def absence_bands(overall_absence_pct) -> pd.Series:
    """DfE's published absence bands of an overall absence rate (domain.md 2.1).

    Bands are ``[0, 5), [5, 10), ..., [45, 50), [50, 100]`` labelled ``'0-4.99'`` ...
    ``'45-49.99'``, ``'50-100'``. Rates are rounded to 9 decimals first, so float noise such as
    ``9.999999999999998`` for a true 10% lands in ``'10-14.99'``; for exact persistent and severe
    boundaries from session counts use :func:`band_from_counts`.

    Parameters
    ----------
    overall_absence_pct : Series or array-like
        Overall absence rate in percent (0-100); NaN gives a missing band.

    Returns
    -------
    Series
        Ordered categorical with categories :data:`ABSENCE_BANDS`, same index.

    Examples
    --------
    >>> absence_bands([0, 4.99, 5, 49.99, 100]).tolist()
    ['0-4.99', '0-4.99', '5-9.99', '45-49.99', '50-100']
    """
    s = _as_series(overall_absence_pct, "absence_band")
    v = _snapped_pct(s)
    band = np.where(np.isnan(v), -1, np.minimum(np.floor(np.nan_to_num(v) / 5), 10))
    return _categorical(band.astype(np.int64), ABSENCE_BANDS, s)


def attendance_bands(attendance_pct) -> pd.Series:
    """The suite's attendance bands (:data:`ATTENDANCE_BANDS`) of an attendance rate.

    ``'50% or less'`` is DfE severe absence (absence >= 50%), ``'>50% to 90%'`` persistent
    absence (absence >= 10%, so exactly 90% attendance is persistent), ``'>90% to <95%'`` the
    suite's "at risk" band (no national definition, domain.md 5), then ``'95% to <100%'`` and
    ``'100%'`` (domain.md 2.1, 5). Rates are rounded to 9 decimals first (see
    :func:`absence_bands`); prefer :func:`band_from_counts` when counts are at hand.

    Parameters
    ----------
    attendance_pct : Series or array-like
        Attendance rate in percent (0-100); NaN gives a missing band.

    Returns
    -------
    Series
        Ordered categorical (lowest attendance first), same index.

    Examples
    --------
    >>> attendance_bands([50.0, 50.01, 90.0, 94.99, 95.0, 100.0]).tolist()
    ['50% or less', '>50% to 90%', '>50% to 90%', '>90% to <95%', '95% to <100%', '100%']
    """
    s = _as_series(attendance_pct, "attendance_band")
    v = _snapped_pct(s)
    band = np.select([np.isnan(v), v <= 50, v <= 90, v < 95, v < 100], [-1, 0, 1, 2, 3], 4)
    return _categorical(band, ATTENDANCE_BANDS, s)


def band_from_counts(absent_sessions, possible_sessions, *, scheme: str = "attendance"):
    """Band from session counts with integer arithmetic, exact at every boundary.

    Persistent absence is ``absent * 100 >= 10 * possible`` and severe absence
    ``absent * 100 >= 50 * possible`` (domain.md 2.1), so 38 of 380 (exactly 10%) is persistent
    whatever floating point would make of 38 / 380.

    Parameters
    ----------
    absent_sessions, possible_sessions : int or array-like of int
        Overall absence sessions and possible sessions; ``0 <= absent <= possible``.
    scheme : {"attendance", "absence"}
        ``"attendance"`` gives :data:`ATTENDANCE_BANDS` (attendance = 100 - absence),
        ``"absence"`` the DfE :data:`ABSENCE_BANDS`.

    Returns
    -------
    str or Series
        A label for scalar input (None when nothing was possible), else an ordered
        categorical Series (missing where nothing was possible).

    Examples
    --------
    >>> band_from_counts(37, 380), band_from_counts(38, 380, scheme="absence")
    ('>90% to <95%', '10-14.99')
    """
    if scheme not in ("attendance", "absence"):
        raise ValueError(f"scheme must be 'attendance' or 'absence', got {scheme!r}")
    scalar = np.ndim(absent_sessions) == 0 and np.ndim(possible_sessions) == 0
    a_s = _as_series(absent_sessions, "band") if not scalar else pd.Series([absent_sessions])
    a = a_s.to_numpy(dtype=np.int64)
    p = np.broadcast_to(np.asarray(possible_sessions, dtype=np.int64), a.shape)
    if ((a < 0) | (a > p)).any():
        raise ValueError("need 0 <= absent_sessions <= possible_sessions")
    a100, safe_p = a * 100, np.maximum(p, 1)
    if scheme == "absence":
        band = np.minimum((a * 20) // safe_p, 10)
    else:
        band = np.select([a100 >= 50 * p, a100 >= 10 * p, a100 > 5 * p, a > 0], [0, 1, 2, 3], 4)
    band = np.where(p == 0, -1, band)
    out = _categorical(band, ABSENCE_BANDS if scheme == "absence" else ATTENDANCE_BANDS, a_s)
    if scalar:
        value = out.iloc[0]
        return None if pd.isna(value) else str(value)
    return out
