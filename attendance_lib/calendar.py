"""Academic years, bank holidays, DfE census terms, school weeks and as-of windows.

One concept: the DfE statistical calendar that attendance measures are counted over
(domain.md 2.2, 4.1 and 7). A school's own half-term dates live in
:mod:`attendance_lib.term_dates`, which builds on this module.

Conventions used throughout (domain.md sections 2.2, 4.1 and 7):

* An **academic year** is named by the calendar year it starts in: ``2024`` means 2024/25. The DfE
  statistics year runs **1 Aug-31 Jul** (``start_month=8``, the default); a 1 Sep-31 Aug school
  year is available with ``start_month=9`` (domain.md 7).
* **DfE census terms** (domain.md 2.2 and 7): autumn = 1 Aug-31 Dec; spring = 1 Jan-Easter Sunday;
  summer = Easter Monday-31 Jul, split at the spring bank holiday into half-terms 5 and 6. The
  census does not split autumn or spring, so :func:`dfe_half_terms` leaves their ``half_term``
  missing; a school's own half-terms come from :func:`attendance_lib.term_dates.read_term_dates`
  or :func:`attendance_lib.term_dates.infer_half_terms` (a ``TermDates``).
* **Dates** are inclusive calendar days. Vectorised functions take a ``pd.Series`` of
  ``datetime64`` values (any resolution; times of day are ignored), Python dates or ISO strings,
  keep the input's index, and never modify it. Day-level work is done on integer day numbers with
  small lookup tables, so tens of millions of rows take well under a second per call.
* A **school week** is a Monday-Sunday week containing at least one session (domain.md 4.1); pass
  the dates of *possible* sessions, so a week closed throughout is not a school week.

For convenience ``calendar.TermDates``, ``calendar.read_term_dates``,
``calendar.infer_half_terms``, ``calendar.term_window`` and ``calendar.half_term_window`` still
resolve to the :mod:`attendance_lib.term_dates` names (looked up on first use, so there is no
import cycle); they are not part of this module's ``__all__``.

Examples
--------
>>> academic_year_of("2025-03-31"), academic_year_label(2024)
(2024, '2024/25')
>>> easter_sunday(2025)
datetime.date(2025, 4, 20)
>>> as_of_window("2025-03-31")
Window(start=datetime.date(2024, 8, 1), end=datetime.date(2025, 3, 31), academic_year=2024)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

__all__ = [
    "TERMS",
    "CalendarError",
    "Window",
    "academic_year_of",
    "academic_years",
    "academic_year_bounds",
    "academic_year_label",
    "parse_academic_year",
    "easter_sunday",
    "spring_bank_holiday",
    "england_bank_holidays",
    "dfe_terms",
    "dfe_half_terms",
    "dfe_term_of",
    "week_start",
    "school_weeks",
    "school_week_index",
    "is_weekend",
    "as_of_window",
    "last_n_school_weeks",
]

TERMS = ("autumn", "spring", "summer")
"""Term names in school-year order; half-terms 1-2, 3-4 and 5-6."""

_START_MONTHS = (8, 9)
_UNIT = "datetime64[us]"  # resolution of the date columns this module builds (pandas 3 default)
_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}
_DAY = timedelta(days=1)


class CalendarError(ValueError):
    """A calendar input (term dates file or table, register dates) is invalid or insufficient.

    ``path`` and ``problems`` (a list of ``(line, message)``, sorted by line) are set when the
    error comes from a file.
    """

    def __init__(self, message: str, *, path: str | None = None, problems=()):
        super().__init__(message)
        self.path = path
        self.problems = list(problems)


# --------------------------------------------------------------------------------------------
# conversion helpers


def _to_date(value: object, what: str = "date") -> date:
    """One date from a date, datetime, Timestamp, numpy datetime64 or ISO string."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        raise ValueError(f"{what} is missing")
    if isinstance(value, datetime):  # includes pd.Timestamp
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ValueError(f"{what} is missing")
        return pd.Timestamp(value).date()
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            try:
                return datetime.fromisoformat(text).date()
            except ValueError:
                pass
        raise ValueError(f"{what} {value!r} is not an ISO date (YYYY-MM-DD)")
    raise TypeError(f"{what} must be a date, datetime or ISO string, not {type(value).__name__}")


def _check_start_month(start_month: object) -> int:
    if isinstance(start_month, bool) or start_month not in _START_MONTHS:
        raise ValueError(f"start_month must be 8 (1 Aug, DfE) or 9 (1 Sep), got {start_month!r}")
    return int(start_month)


def _as_series(dates: object) -> pd.Series:
    if isinstance(dates, pd.Series):
        return dates
    if isinstance(dates, pd.Index | np.ndarray):
        return pd.Series(dates, index=pd.RangeIndex(len(dates)))
    return pd.Series(list(dates))


def _datetime_values(s: pd.Series) -> np.ndarray:
    """The Series as a numpy datetime64 array (no copy when it already is one)."""
    dtype = s.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or getattr(
        getattr(dtype, "pyarrow_dtype", None), "tz", None
    ):
        raise TypeError("dates must be timezone-naive local dates")
    if not pd.api.types.is_datetime64_any_dtype(dtype):
        s = pd.to_datetime(s, format="ISO8601")
    values = s.to_numpy()
    if values.dtype.kind != "M":  # e.g. a pyarrow timestamp column holding nulls
        values = s.astype(_UNIT).to_numpy()
    return values


def _days(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Day numbers since 1970-01-01 (floor) and a NaT mask (None when there is no NaT).

    NaT positions get a valid placeholder day so that lookups stay in range; mask them afterwards.
    """
    unit, count = np.datetime_data(values.dtype)
    if unit in _PER_DAY and count == 1:
        days = values.view("i8") // _PER_DAY[unit]
    else:
        days = values.astype("datetime64[D]").view("i8").copy()
    nat = np.isnat(values)
    if not nat.any():
        return days, None
    days[nat] = days[np.argmin(nat)] if not nat.all() else 0
    return days, nat


def _lookup(days: np.ndarray, build: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``build(days)`` evaluated once per distinct calendar day in range, then gathered."""
    if days.size == 0:
        return build(np.empty(0, dtype="i8"))
    lo, hi = int(days.min()), int(days.max())
    table = build(np.arange(lo, hi + 1, dtype="i8"))
    return table[days - lo]


def _dow(days: np.ndarray) -> np.ndarray:
    return ((days + 3) % 7).astype("i1")  # 1970-01-01 was a Thursday; Monday = 0


def _year_month(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    months = days.astype("datetime64[D]").astype("datetime64[M]").view("i8")  # since Jan 1970
    return months // 12 + 1970, months % 12 + 1


def _nullable(values: np.ndarray, nat: np.ndarray | None, dtype: str):
    """``values`` as numpy ``dtype`` (e.g. int16), or a nullable array masked at NaT."""
    values = values.astype(dtype)
    return values if nat is None else pd.arrays.IntegerArray(values, nat.copy())


# --------------------------------------------------------------------------------------------
# academic years (domain.md 7)


def academic_year_of(d: object, start_month: int = 8) -> int:
    """The academic year (its starting calendar year) containing one date.

    Parameters
    ----------
    d : date, datetime, pandas.Timestamp or ISO string
    start_month : {8, 9}
        8 for the DfE statistics year (1 Aug-31 Jul, domain.md 7), 9 for 1 Sep-31 Aug.

    Examples
    --------
    >>> academic_year_of("2024-07-31"), academic_year_of("2024-08-01")
    (2023, 2024)
    >>> academic_year_of("2024-08-31", start_month=9)
    2023
    """
    sm = _check_start_month(start_month)
    day = _to_date(d)
    return day.year - (day.month < sm)


def academic_years(dates: pd.Series, start_month: int = 8) -> pd.Series:
    """The academic year of each date, vectorised.

    Returns an ``int16`` Series named ``academic_year`` with the input's index; when ``dates``
    holds missing values (NaT) the dtype is nullable ``Int16`` with ``<NA>`` there.

    Examples
    --------
    >>> s = pd.Series(pd.to_datetime(["2024-07-31", "2024-08-01", "2024-09-01"]))
    >>> academic_years(s).tolist(), academic_years(s, start_month=9).tolist()
    ([2023, 2024, 2024], [2023, 2023, 2024])
    """
    sm = _check_start_month(start_month)
    s = _as_series(dates)
    days, nat = _days(_datetime_values(s))

    def build(span: np.ndarray) -> np.ndarray:
        year, month = _year_month(span)
        return (year - (month < sm)).astype("i2")

    return pd.Series(
        _nullable(_lookup(days, build), nat, "int16"), index=s.index, name="academic_year"
    )


def academic_year_bounds(year: int | str, start_month: int = 8) -> tuple[date, date]:
    """First and last day (inclusive) of an academic year.

    Examples
    --------
    >>> academic_year_bounds(2024)
    (datetime.date(2024, 8, 1), datetime.date(2025, 7, 31))
    >>> academic_year_bounds("2024/25", start_month=9)
    (datetime.date(2024, 9, 1), datetime.date(2025, 8, 31))
    """
    sm = _check_start_month(start_month)
    y = parse_academic_year(year)
    return date(y, sm, 1), date(y + 1, sm, 1) - _DAY


def academic_year_label(year: int | str) -> str:
    """The usual ``YYYY/YY`` label of an academic year.

    Examples
    --------
    >>> academic_year_label(2024), academic_year_label(1999)
    ('2024/25', '1999/00')
    """
    y = parse_academic_year(year)
    return f"{y}/{(y + 1) % 100:02d}"


_YEAR_PATTERN = re.compile(r"^(\d{4})(?:\s*[/-]\s*(\d{2}|\d{4})|(\d{2}))?$")


def parse_academic_year(value: int | str) -> int:
    """The starting calendar year of an academic year given in any common form.

    Accepts an int year (``2024``), a DfE ``time_period`` code (``202425``, int or str), or a
    label ``"2024/25"``, ``"2024-25"``, ``"2024/2025"`` or ``"2024"``. The second part must be the
    following year.

    Examples
    --------
    >>> parse_academic_year("2024/25"), parse_academic_year("202425"), parse_academic_year(2024)
    (2024, 2024, 2024)
    >>> parse_academic_year("2024/26")
    Traceback (most recent call last):
    ...
    ValueError: academic year '2024/26': 26 does not follow 2024
    """
    if isinstance(value, bool):
        raise TypeError("academic year must be an int or a string, not bool")
    if isinstance(value, int | np.integer):
        text = str(int(value))
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise TypeError(f"academic year must be an int or a string, not {type(value).__name__}")
    m = _YEAR_PATTERN.match(text)
    if not m:
        raise ValueError(f"academic year {value!r} is not like 2024, 2024/25 or 202425")
    year = int(m.group(1))
    second = m.group(2) or m.group(3)
    if second is not None:
        expected = year + 1 if len(second) == 4 else (year + 1) % 100
        if int(second) != expected:
            raise ValueError(f"academic year {value!r}: {second} does not follow {year}")
    return year


# --------------------------------------------------------------------------------------------
# Easter and bank holidays (England). Rules from the Banking and Financial Dealings Act 1971 and
# royal proclamations, as listed at gov.uk/bank-holidays; domain rules kept as data below.

_FIRST_RULE_YEAR = 1978  # first year with the early May bank holiday in England
_EARLY_MAY_MOVED = {1995: date(1995, 5, 8), 2020: date(2020, 5, 8)}  # VE Day 50th / 75th
_SPRING_MOVED = {2002: date(2002, 6, 4), 2012: date(2012, 6, 4), 2022: date(2022, 6, 2)}  # jubilees
_EXTRA_HOLIDAYS = {
    1981: (date(1981, 7, 29),),  # royal wedding
    1999: (date(1999, 12, 31),),  # millennium
    2002: (date(2002, 6, 3),),  # golden jubilee
    2011: (date(2011, 4, 29),),  # royal wedding
    2012: (date(2012, 6, 5),),  # diamond jubilee
    2022: (date(2022, 6, 3), date(2022, 9, 19)),  # platinum jubilee; state funeral
    2023: (date(2023, 5, 8),),  # coronation
}


def easter_sunday(year: int) -> date:
    """Easter Sunday by the anonymous Gregorian (Meeus/Jones/Butcher) algorithm.

    Examples
    --------
    >>> easter_sunday(2024), easter_sunday(2026)
    (datetime.date(2024, 3, 31), datetime.date(2026, 4, 5))
    """
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_monday(year: int, month: int, last: bool = False) -> date:
    if last:
        d = date(year + (month == 12), month % 12 + 1, 1) - _DAY
        return d - timedelta(days=d.weekday())
    d = date(year, month, 1)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def spring_bank_holiday(year: int) -> date:
    """The spring bank holiday: last Monday in May, moved in jubilee years (2002, 2012, 2022).

    Examples
    --------
    >>> spring_bank_holiday(2024), spring_bank_holiday(2022)
    (datetime.date(2024, 5, 27), datetime.date(2022, 6, 2))
    """
    return _SPRING_MOVED.get(year) or _nth_monday(year, 5, last=True)


def _substituted(days: list[date]) -> list[date]:
    """Weekday holidays stay; weekend ones move to the next weekday not already a holiday."""
    taken = {d for d in days if d.weekday() < 5}
    for d in days:
        if d.weekday() >= 5:
            sub = d
            while sub.weekday() >= 5 or sub in taken:
                sub += _DAY
            taken.add(sub)
    return sorted(taken)


def england_bank_holidays(year: int) -> list[date]:
    """Bank holidays in England (and Wales) in a calendar year, with substitute days, sorted.

    New Year's Day, Good Friday, Easter Monday, early May (first Monday; Fri 8 May 2020, Mon 8
    May 1995), spring (:func:`spring_bank_holiday`), summer (last Monday in August), Christmas and
    Boxing Day, plus one-off days (1981, 1999, 2002, 2011, 2012, 2022 jubilee and state funeral,
    2023 coronation). A holiday on a weekend is replaced by the next weekday that is not already
    a holiday. Valid from 1978; future one-off days are unknown.

    Examples
    --------
    >>> [d.isoformat() for d in england_bank_holidays(2021)][-2:]
    ['2021-12-27', '2021-12-28']
    """
    if year < _FIRST_RULE_YEAR:
        raise ValueError(f"bank holiday rules are encoded from {_FIRST_RULE_YEAR}, not {year}")
    easter = easter_sunday(year)
    fixed = _substituted([date(year, 1, 1)]) + _substituted(
        [date(year, 12, 25), date(year, 12, 26)]
    )
    moving = [
        easter - 2 * _DAY,
        easter + _DAY,
        _EARLY_MAY_MOVED.get(year) or _nth_monday(year, 5),
        spring_bank_holiday(year),
        _nth_monday(year, 8, last=True),
        *_EXTRA_HOLIDAYS.get(year, ()),
    ]
    return sorted(set(fixed + moving))


# --------------------------------------------------------------------------------------------
# DfE census terms (domain.md 2.2 and 7)


def _dfe_rows(year: int) -> list[tuple[str, int | None, date, date]]:
    y = parse_academic_year(year)
    easter = easter_sunday(y + 1)
    spring_bh = spring_bank_holiday(y + 1)
    split = spring_bh - timedelta(days=spring_bh.weekday())  # Monday of the bank holiday's week
    return [
        ("autumn", None, date(y, 8, 1), date(y, 12, 31)),
        ("spring", None, date(y + 1, 1, 1), easter),
        ("summer", 5, easter + _DAY, split - _DAY),
        ("summer", 6, split, date(y + 1, 7, 31)),
    ]


def _frame(rows: list[tuple], year: int, with_half: bool) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "academic_year": np.full(len(rows), parse_academic_year(year), dtype="i2"),
            "term": pd.Categorical([r[0] for r in rows], categories=TERMS, ordered=True),
            "half_term": pd.array([r[1] for r in rows], dtype="Int8"),
            "start": pd.to_datetime([r[2] for r in rows]).astype(_UNIT),
            "end": pd.to_datetime([r[3] for r in rows]).astype(_UNIT),
        }
    )
    return out if with_half else out.drop(columns="half_term")


def dfe_terms(year: int | str) -> pd.DataFrame:
    """The three DfE census terms of an academic year, one row per term.

    Columns ``academic_year``, ``term`` (ordered categorical), ``start`` and ``end`` (inclusive
    dates): autumn 1 Aug-31 Dec, spring 1 Jan-Easter Sunday, summer Easter Monday-31 Jul
    (domain.md 2.2, 7). The rows cover the year without gaps.

    Examples
    --------
    >>> dfe_terms(2023)
       academic_year    term      start        end
    0           2023  autumn 2023-08-01 2023-12-31
    1           2023  spring 2024-01-01 2024-03-31
    2           2023  summer 2024-04-01 2024-07-31
    """
    rows = _dfe_rows(year)
    merged = rows[:2] + [("summer", None, rows[2][2], rows[3][3])]
    return _frame(merged, year, with_half=False)


def dfe_half_terms(year: int | str) -> pd.DataFrame:
    """The four DfE census reporting periods: autumn, spring and the two summer halves.

    Same columns as :func:`dfe_terms` plus nullable ``half_term``. The census splits only the
    summer term, at the spring bank holiday (domain.md 2.2): half-term 5 runs from Easter Monday to
    the Sunday before the bank holiday's week, half-term 6 from that Monday to 31 Jul. Autumn and
    spring are not split, so their ``half_term`` is ``<NA>`` (use :class:`TermDates` for a
    school's half-terms 1-4). In 2002 and 2022 the bank holiday was not a Monday; the split is
    then the Monday of its week (how DfE handled those years is UNCONFIRMED).

    Examples
    --------
    >>> dfe_half_terms(2023)
       academic_year    term  half_term      start        end
    0           2023  autumn       <NA> 2023-08-01 2023-12-31
    1           2023  spring       <NA> 2024-01-01 2024-03-31
    2           2023  summer          5 2024-04-01 2024-05-26
    3           2023  summer          6 2024-05-27 2024-07-31
    """
    return _frame(_dfe_rows(year), year, with_half=True)


def dfe_term_of(dates: pd.Series) -> pd.Series:
    """The DfE census term of each date, vectorised (ordered categorical ``autumn/spring/summer``).

    Examples
    --------
    >>> s = pd.Series(pd.to_datetime(["2023-08-01", "2024-03-31", "2024-04-01", "2024-07-31"]))
    >>> dfe_term_of(s).tolist()
    ['autumn', 'spring', 'summer', 'summer']
    """
    s = _as_series(dates)
    days, nat = _days(_datetime_values(s))

    def build(span: np.ndarray) -> np.ndarray:
        year, month = _year_month(span)
        uniq, pos = np.unique(year, return_inverse=True)
        easter = np.array(
            [np.datetime64(easter_sunday(int(y)), "D") for y in uniq], dtype="datetime64[D]"
        )
        easter_day = easter.view("i8")[pos]
        return np.where(month >= 8, 0, np.where(span <= easter_day, 1, 2)).astype("i1")

    codes = _lookup(days, build)
    if nat is not None:
        codes = np.where(nat, -1, codes)
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=TERMS, ordered=True), index=s.index, name="term"
    )


# --------------------------------------------------------------------------------------------
# school weeks (domain.md 4.1)


def week_start(dates: pd.Series) -> pd.Series:
    """The Monday starting each date's ISO week (midnight, same datetime64 resolution).

    Examples
    --------
    >>> s = pd.Series(pd.to_datetime(["2024-12-20 13:30", "2024-12-22 00:00", "2024-12-23 09:00"]))
    >>> week_start(s).dt.strftime("%a %d %b").tolist()
    ['Mon 16 Dec', 'Mon 16 Dec', 'Mon 23 Dec']
    """
    s = _as_series(dates)
    values = _datetime_values(s)
    days, nat = _days(values)
    monday = days - _lookup(days, _dow)
    unit = np.datetime_data(values.dtype)[0]
    if unit in _PER_DAY:
        out = (monday * _PER_DAY[unit]).view(f"datetime64[{unit}]")
    else:
        out = monday.astype("datetime64[D]").astype(_UNIT)
    if nat is not None:
        out[nat] = np.datetime64("NaT")
    return pd.Series(out, index=s.index, name="week_start")


def is_weekend(dates: pd.Series) -> pd.Series:
    """True for Saturdays and Sundays (False for NaT), vectorised.

    Examples
    --------
    >>> is_weekend(pd.Series(pd.to_datetime(["2025-03-28", "2025-03-29", "2025-03-30"]))).tolist()
    [False, True, True]
    """
    s = _as_series(dates)
    days, nat = _days(_datetime_values(s))
    out = _lookup(days, lambda span: _dow(span) >= 5)
    if nat is not None:
        out &= ~nat
    return pd.Series(out, index=s.index, name="is_weekend")


def _week_numbers(days: np.ndarray) -> np.ndarray:
    """Monday-based week numbers (week 0 starts Mon 29 Dec 1969)."""
    return _lookup(days, lambda span: (span + 3) // 7)


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a small-range integer array, in linear time."""
    if values.size == 0:
        return values
    lo = int(values.min())
    present = np.zeros(int(values.max()) - lo + 1, dtype=bool)
    present[values - lo] = True
    return np.flatnonzero(present) + lo


def _monday(week: np.ndarray | int) -> np.ndarray:
    return (np.asarray(week, dtype="i8") * 7 - 3).astype("datetime64[D]")


def school_weeks(dates: pd.Series) -> pd.DatetimeIndex:
    """Distinct week starts (Mondays) of the weeks containing at least one of ``dates``, sorted.

    Pass the dates of possible sessions: a week with no possible session is not a school week
    (domain.md 4.1).

    Examples
    --------
    >>> school_weeks(pd.Series(pd.to_datetime(["2024-12-20", "2024-12-16", "2025-01-06"]))).strftime("%d %b %Y").tolist()
    ['16 Dec 2024', '06 Jan 2025']
    """
    days, nat = _days(_datetime_values(_as_series(dates)))
    weeks = _week_numbers(days if nat is None else days[~nat])
    return pd.DatetimeIndex(_monday(_distinct(weeks)).astype(_UNIT), name="week_start")


def school_week_index(dates: pd.Series) -> pd.Series:
    """Ordinal (0, 1, 2, ...) of each date's week among the school weeks of ``dates``.

    Weeks with none of ``dates`` (holidays, closures) are skipped, so numbering runs on across
    holidays, terms and years and a rolling window of *n* school weeks is ``index - n < i <= index``
    (domain.md 4.1: the rolling 10 school-week period may cross terms and years). Returns
    ``int32`` (nullable ``Int32`` when ``dates`` has NaT), named ``school_week``.

    Examples
    --------
    >>> s = pd.Series(pd.to_datetime(["2024-12-16", "2024-12-20", "2025-01-06", "2025-01-13"]))
    >>> school_week_index(s).tolist()
    [0, 0, 1, 2]
    """
    s = _as_series(dates)
    days, nat = _days(_datetime_values(s))
    weeks = _week_numbers(days)
    if weeks.size == 0:
        return pd.Series(np.empty(0, "i4"), index=s.index, name="school_week")
    valid = weeks if nat is None else weeks[~nat]
    lo = int(valid.min()) if valid.size else 0
    rel = weeks - lo
    present = np.zeros(int(rel.max()) + 1, dtype=bool)
    present[rel if nat is None else rel[~nat]] = True
    ordinal = (np.cumsum(present) - 1).astype("i4")
    return pd.Series(_nullable(ordinal[rel], nat, "int32"), index=s.index, name="school_week")


# --------------------------------------------------------------------------------------------
# windows


@dataclass(frozen=True)
class Window:
    """An inclusive date window ``start..end`` labelled with an academic year.

    ``academic_year`` is the year of ``end`` (a rolling window may begin in the previous year).
    :meth:`contains` treats the window as the half-open timestamp interval
    ``[start 00:00, end + 1 day 00:00)``, so any time on ``end`` is inside.
    """

    start: date
    end: date
    academic_year: int

    def __post_init__(self):
        for name in ("start", "end"):
            if type(getattr(self, name)) is not date:
                raise TypeError(f"Window.{name} must be a datetime.date")
        if self.end < self.start:
            raise ValueError(f"Window ends ({self.end}) before it starts ({self.start})")

    def contains(self, dates: pd.Series) -> pd.Series:
        """Boolean mask of ``dates`` inside the window (False for NaT).

        Examples
        --------
        >>> w = Window(date(2025, 3, 3), date(2025, 3, 7), 2024)
        >>> w.contains(pd.Series(pd.to_datetime(["2025-03-02 23:59", "2025-03-07 15:00", "2025-03-08 00:00"]))).tolist()
        [False, True, False]
        """
        s = _as_series(dates)
        values = _datetime_values(s)
        lo, hi = np.datetime64(self.start, "D"), np.datetime64(self.end + _DAY, "D")
        return pd.Series((values >= lo) & (values < hi), index=s.index, name="in_window")


def as_of_window(as_of: object, start_month: int = 8) -> Window:
    """Academic year to date: from the start of the academic year containing ``as_of`` to it.

    Examples
    --------
    >>> as_of_window("2025-08-31", start_month=9)
    Window(start=datetime.date(2024, 9, 1), end=datetime.date(2025, 8, 31), academic_year=2024)
    """
    end = _to_date(as_of, "as_of")
    year = academic_year_of(end, start_month)
    return Window(academic_year_bounds(year, start_month)[0], end, year)


def last_n_school_weeks(as_of: object, dates: pd.Series, n: int, start_month: int = 8) -> Window:
    """Window of the last ``n`` school weeks up to ``as_of``, for rolling checks (domain.md 4.1).

    School weeks are the weeks holding at least one of ``dates`` on or before ``as_of`` (dates
    after ``as_of`` are ignored, so later data cannot change the window). The window runs from
    the Monday of the earliest of those weeks to ``as_of``; with fewer than ``n`` school weeks it
    starts at the first one. Raises :class:`CalendarError` when no date is on or before ``as_of``.

    Examples
    --------
    >>> dates = pd.Series(pd.to_datetime(["2024-12-16", "2024-12-20", "2025-01-06", "2025-01-14"]))
    >>> last_n_school_weeks("2025-01-15", dates, 2)
    Window(start=datetime.date(2025, 1, 6), end=datetime.date(2025, 1, 15), academic_year=2024)
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    end = _to_date(as_of, "as_of")
    days, nat = _days(_datetime_values(_as_series(dates)))
    keep = days <= np.datetime64(end, "D").view("i8")
    if nat is not None:
        keep &= ~nat
    weeks = _distinct(_week_numbers(days[keep]))
    if weeks.size == 0:
        raise CalendarError(f"no dates on or before {end.isoformat()} to count school weeks from")
    first = weeks[-min(int(n), weeks.size)]
    return Window(_monday(first).item(), end, academic_year_of(end, start_month))


# --------------------------------------------------------------------------------------------
# convenience re-export of the school term dates (attendance_lib.term_dates)

_TERM_DATES_NAMES = (
    "TermDates",
    "read_term_dates",
    "infer_half_terms",
    "term_window",
    "half_term_window",
)


def __getattr__(name: str):
    """``calendar.TermDates`` etc.: the names of :mod:`attendance_lib.term_dates`.

    Looked up on first use rather than imported at the top, because ``term_dates`` builds on
    this module (an import at the top would be circular). Not in ``__all__``; import them from
    ``attendance_lib.term_dates`` in new code.
    """
    if name in _TERM_DATES_NAMES:
        from attendance_lib import term_dates

        return getattr(term_dates, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_TERM_DATES_NAMES})
