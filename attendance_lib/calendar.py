"""Academic years, bank holidays, DfE census terms, school term dates, school weeks and windows.

Conventions used throughout (domain.md sections 2.2, 4.1 and 7):

* An **academic year** is named by the calendar year it starts in: ``2024`` means 2024/25. The DfE
  statistics year runs **1 Aug-31 Jul** (``start_month=8``, the default); a 1 Sep-31 Aug school
  year is available with ``start_month=9`` (domain.md 7).
* **DfE census terms** (domain.md 2.2 and 7): autumn = 1 Aug-31 Dec; spring = 1 Jan-Easter Sunday;
  summer = Easter Monday-31 Jul, split at the spring bank holiday into half-terms 5 and 6. The
  census does not split autumn or spring, so :func:`dfe_half_terms` leaves their ``half_term``
  missing; a school's own half-terms come from :func:`read_term_dates` or
  :func:`infer_half_terms` (a :class:`TermDates`).
* **Dates** are inclusive calendar days. Vectorised functions take a ``pd.Series`` of
  ``datetime64`` values (any resolution; times of day are ignored), Python dates or ISO strings,
  keep the input's index, and never modify it. Day-level work is done on integer day numbers with
  small lookup tables, so tens of millions of rows take well under a second per call.
* A **school week** is a Monday-Sunday week containing at least one session (domain.md 4.1); pass
  the dates of *possible* sessions, so a week closed throughout is not a school week.

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

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "TERMS",
    "CalendarError",
    "Window",
    "TermDates",
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
    "read_term_dates",
    "infer_half_terms",
    "week_start",
    "school_weeks",
    "school_week_index",
    "is_weekend",
    "as_of_window",
    "term_window",
    "half_term_window",
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
# school term dates: TermDates, read_term_dates, infer_half_terms

_TABLE_COLUMNS = ("academic_year", "half_term", "start", "end")
_KEY_COLUMNS = ("urn", "la_code")


class TermDates:
    """A school's (or an LA's) half-term dates, validated.

    ``table`` has one row per half-term: ``academic_year`` (int16), ``half_term`` (int8, 1..n in
    date order within each year), ``start`` and ``end`` (inclusive, datetime64), and optionally
    ``urn`` / ``la_code`` (strings; missing = a default calendar). Rows of one calendar never
    overlap. Build it with :func:`read_term_dates` or :func:`infer_half_terms`, or from a frame.

    A table may hold several calendars (schools, LAs, a default): pick one with :meth:`select`
    before :meth:`half_term_of` / :meth:`term_of`.
    """

    def __init__(self, table: pd.DataFrame, *, source: str = "<table>"):
        self.source = str(source)
        self._table = _normalise_table(table, self.source)

    @property
    def table(self) -> pd.DataFrame:
        """The half-term table (a copy; editing it does not change this object)."""
        return self._table.copy()

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        years = self._table["academic_year"]
        span = (
            f"{academic_year_label(years.min())}-{academic_year_label(years.max())}"
            if len(years)
            else "none"
        )
        return f"TermDates({len(self)} half-terms, years {span}, source={self.source!r})"

    def select(self, urn: str | int | None = None, la_code: str | int | None = None) -> TermDates:
        """The calendar for one school: its own rows, else its LA's, else the default rows.

        Examples
        --------
        >>> t = TermDates(pd.DataFrame({"academic_year": [2024, 2024], "half_term": [1, 1],
        ...     "start": ["2024-09-04", "2024-09-02"], "end": ["2024-10-25", "2024-10-18"],
        ...     "urn": [None, "123456"]}))
        >>> t.select(urn=123456).table["end"].dt.date.tolist(), len(t.select(urn="999999"))
        ([datetime.date(2024, 10, 18)], 1)
        """
        tab = self._table
        urns = tab["urn"] if "urn" in tab else pd.Series(pd.NA, index=tab.index, dtype="str")
        las = tab["la_code"] if "la_code" in tab else pd.Series(pd.NA, index=tab.index, dtype="str")
        choices = []
        if urn is not None:
            choices.append((urns == str(urn)).fillna(False))
        if la_code is not None:
            choices.append((urns.isna() & (las == str(la_code))).fillna(False))
        choices.append(urns.isna() & las.isna())
        for mask in choices:
            if mask.any():
                return TermDates(
                    tab[mask.to_numpy()].drop(columns=list(_KEY_COLUMNS), errors="ignore"),
                    source=self.source,
                )
        raise CalendarError(
            f"{self.source}: no term dates for urn={urn}, la_code={la_code} and no default calendar"
        )

    def _single(self) -> pd.DataFrame:
        keys = [c for c in _KEY_COLUMNS if c in self._table]
        if keys and len(self._table[keys].drop_duplicates()) > 1:
            raise CalendarError(
                f"{self.source} holds several calendars ({', '.join(keys)}); choose one with .select()"
            )
        return self._table

    def _row_of(self, dates: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        tab = self._single()
        days, nat = _days(_datetime_values(dates))
        starts = tab["start"].to_numpy().astype("datetime64[D]").view("i8")
        ends = tab["end"].to_numpy().astype("datetime64[D]").view("i8")

        def build(span: np.ndarray) -> np.ndarray:
            rows = np.full(span.size, -1, dtype="i4")
            if span.size:
                for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
                    lo, hi = max(a, span[0]), min(b, span[-1])
                    if lo <= hi:
                        rows[lo - span[0] : hi - span[0] + 1] = i
            return rows

        rows = _lookup(days, build)
        missing = rows < 0 if nat is None else (rows < 0) | nat
        return rows, missing

    def half_term_of(self, dates: pd.Series) -> pd.Series:
        """Half-term number (1..6) of each date; ``<NA>`` outside every half-term (nullable Int8).

        Examples
        --------
        >>> t = TermDates(pd.DataFrame({"academic_year": [2024, 2024], "half_term": [1, 2],
        ...     "start": ["2024-09-04", "2024-11-04"], "end": ["2024-10-25", "2024-12-20"]}))
        >>> t.half_term_of(pd.Series(pd.to_datetime(["2024-10-25", "2024-10-28", "2024-11-04"]))).tolist()
        [1, <NA>, 2]
        """
        s = _as_series(dates)
        rows, missing = self._row_of(s)
        half = (
            self._table["half_term"].to_numpy()[np.where(missing, 0, rows)]
            if len(self._table)
            else np.zeros(rows.size, "i1")
        )
        return pd.Series(
            pd.arrays.IntegerArray(half.astype("i1"), missing), index=s.index, name="half_term"
        )

    def term_of(self, dates: pd.Series) -> pd.Series:
        """Term of each date (``autumn`` for half-terms 1-2, ``spring`` 3-4, ``summer`` 5-6).

        Dates outside every half-term, and half-terms numbered above 6 (possible for inferred
        calendars), give NaN. Returns an ordered categorical Series named ``term``.
        """
        half = self.half_term_of(dates)
        codes = ((half.fillna(0).to_numpy(dtype="i2") + 1) // 2 - 1).astype("i1")
        codes[(codes > 2) | half.isna().to_numpy()] = -1
        return pd.Series(
            pd.Categorical.from_codes(codes, categories=TERMS, ordered=True),
            index=half.index,
            name="term",
        )

    def _latest_started(self, as_of: date) -> tuple[pd.DataFrame, pd.Series]:
        tab = self._single()
        started = tab[tab["start"] <= pd.Timestamp(as_of)]
        if started.empty:
            raise CalendarError(
                f"{self.source}: no half-term starts on or before {as_of.isoformat()}"
            )
        row = started.iloc[-1]
        if as_of > academic_year_bounds(int(row["academic_year"]), 9)[1]:
            raise CalendarError(f"{self.source}: term dates end before {as_of.isoformat()}")
        return tab, row


def _typed_table(table: pd.DataFrame) -> pd.DataFrame:
    half = pd.to_numeric(table["half_term"])
    if half.isna().any() or (half % 1 != 0).any():
        raise ValueError("half_term must be whole numbers")
    return pd.DataFrame(
        {
            "academic_year": np.asarray(
                [parse_academic_year(v) for v in table["academic_year"]], dtype="i2"
            ),
            "half_term": half.to_numpy(dtype="i1"),
            "start": pd.to_datetime(table["start"], format="ISO8601").astype(_UNIT).to_numpy(),
            "end": pd.to_datetime(table["end"], format="ISO8601").astype(_UNIT).to_numpy(),
        }
    )


def _normalise_table(table: pd.DataFrame, source: str) -> pd.DataFrame:
    missing = [c for c in _TABLE_COLUMNS if c not in table]
    if missing:
        raise CalendarError(f"{source}: term dates table lacks columns {missing}")
    keys = [c for c in _KEY_COLUMNS if c in table]
    try:
        out = _typed_table(table)
    except (TypeError, ValueError) as exc:
        raise CalendarError(f"{source}: term dates table has bad values ({exc})") from exc
    for k in keys:
        out[k] = pd.Series(table[k].to_numpy(), dtype="str").str.strip().replace("", np.nan)
    if out[["start", "end"]].isna().any().any():
        raise CalendarError(f"{source}: term dates table has missing start or end dates")
    out = out.sort_values([*keys, "start"], ignore_index=True)
    problems = []
    if (out["half_term"] < 1).any():
        problems.append("half_term numbers start at 1")
    if (out["end"] < out["start"]).any():
        problems.append("a half-term ends before it starts")
    group = [out[k].fillna("") for k in keys]
    prev_end = out.groupby(group, sort=False)["end"].shift() if keys else out["end"].shift()
    if (out["start"] <= prev_end).any():
        problems.append("half-terms overlap")
    per_year = out.groupby([*group, out["academic_year"]], sort=False)["half_term"]
    if (out["half_term"] != per_year.cumcount() + 1).any():
        problems.append("half-terms are not numbered 1..n in date order within each academic year")
    if problems:
        raise CalendarError(f"{source}: " + "; ".join(problems))
    return out


_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ALLOWED = {*_TABLE_COLUMNS, *_KEY_COLUMNS, "note", "notes", "description"}


def _parse_file_date(text: str) -> date:
    m = _DMY.match(text)
    if m:
        day, month, year = map(int, m.groups())
        return date(year, month, day)
    return date.fromisoformat(text)


def _read_records(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """(line, {column: raw text}) records and structural problems of a CSV or YAML file."""
    records, problems = [], []
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = None
            for row in reader:
                if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                    continue
                if header is None:
                    header = [c.strip().lower() for c in row]
                    problems += [
                        (reader.line_num, f"unknown column {c!r}")
                        for c in header
                        if c not in _ALLOWED
                    ]
                    lacking = [c for c in _TABLE_COLUMNS if c not in header]
                    if lacking:
                        return [], [*problems, (reader.line_num, f"missing column(s) {lacking}")]
                    continue
                if len(row) != len(header):
                    problems.append(
                        (reader.line_num, f"{len(row)} fields, header has {len(header)}")
                    )
                    continue
                records.append(
                    (reader.line_num, {h: c.strip() for h, c in zip(header, row, strict=True)})
                )
        return records, problems
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            return [], [(mark.line + 1 if mark else 1, f"not valid YAML ({exc.problem})")]
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == "term_dates"), None)
        if not isinstance(node, yaml.SequenceNode):
            return [], [(1, "expected a list of half-terms (or a 'term_dates' key holding one)")]
        for item in node.value:
            line = item.start_mark.line + 1
            if not isinstance(item, yaml.MappingNode):
                problems.append((line, "a half-term entry must be a mapping"))
                continue
            rec, ok = {}, True
            for k, v in item.value:
                key = str(k.value).strip().lower()
                if key not in _ALLOWED:
                    problems.append((line, f"unknown key {key!r}"))
                elif not isinstance(v, yaml.ScalarNode):
                    problems.append((line, f"{key} must be a single value"))
                    ok = False
                else:
                    rec[key] = "" if v.tag.endswith(":null") else str(v.value).strip()
            if ok:
                records.append((line, rec))
        return records, problems
    raise CalendarError(f"term dates file {path} must be .csv, .yaml or .yml", path=str(path))


def _check_record(line: int, rec: dict[str, str]) -> tuple[dict, list[tuple[int, str]]]:
    """The parsed row (partial when there are problems) and the row's problems."""
    problems, out = [], {}
    for col in _TABLE_COLUMNS:
        if not rec.get(col):
            problems.append((line, f"{col} is missing"))
    if problems:
        return out, problems
    try:
        out["academic_year"] = parse_academic_year(rec["academic_year"])
    except (ValueError, TypeError) as exc:
        problems.append((line, str(exc)))
    if not rec["half_term"].isdigit() or not 1 <= int(rec["half_term"]) <= 6:
        problems.append((line, f"half_term {rec['half_term']!r} is not 1-6"))
    else:
        out["half_term"] = int(rec["half_term"])
    for col in ("start", "end"):
        try:
            out[col] = _parse_file_date(rec[col])
        except ValueError:
            problems.append((line, f"{col} {rec[col]!r} is not a date (dd/mm/yyyy or yyyy-mm-dd)"))
    for col, pattern, what in (
        ("urn", r"\d{6,7}", "6 or 7 digits"),
        ("la_code", r"\d{3}|E\d{8}", "3 digits or E + 8 digits"),
    ):
        value = rec.get(col, "")
        if value and not re.fullmatch(pattern, value):
            problems.append((line, f"{col} {value!r} is not {what}"))
        out[col] = value or None
    if problems:
        return out, problems
    if out["end"] < out["start"]:
        problems.append((line, f"end {out['end']} is before start {out['start']}"))
    first, last = date(out["academic_year"], 8, 1), date(out["academic_year"] + 1, 8, 31)
    for col in ("start", "end"):
        if not first <= out[col] <= last:
            problems.append(
                (
                    line,
                    f"{col} {out[col]} is outside academic year {academic_year_label(out['academic_year'])}",
                )
            )
    return out, problems


def _check_calendar(rows: list[dict], claimed: set[tuple] | None) -> list[tuple[int, str]]:
    """Duplicates, overlaps, order and completeness (six half-terms) within one calendar.

    ``claimed`` holds ``(academic_year, half_term)`` of rows already reported as bad, so a bad
    row is not reported a second time as a missing half-term; None skips the completeness check.
    """
    problems, seen, by_year = [], {}, {}
    for r in rows:
        key = (r["academic_year"], r["half_term"])
        label = f"{academic_year_label(r['academic_year'])} half-term {r['half_term']}"
        if key in seen:
            problems.append((r["line"], f"{label} repeats line {seen[key]}"))
            continue
        seen[key] = r["line"]
        by_year.setdefault(r["academic_year"], []).append(r)
    ordered = sorted(
        (r for r in rows if seen.get((r["academic_year"], r["half_term"])) == r["line"]),
        key=lambda r: r["start"],
    )
    for prev, cur in zip(ordered, ordered[1:], strict=False):
        if cur["start"] <= prev["end"]:
            problems.append(
                (
                    cur["line"],
                    f"{cur['start']} to {cur['end']} overlaps line {prev['line']} ({prev['start']} to {prev['end']})",
                )
            )
        elif (cur["academic_year"], cur["half_term"]) < (prev["academic_year"], prev["half_term"]):
            problems.append(
                (
                    cur["line"],
                    f"half-term {cur['half_term']} starts after half-term {prev['half_term']} (line {prev['line']})",
                )
            )
    for year, year_rows in by_year.items() if claimed is not None else ():
        have = sorted(r["half_term"] for r in year_rows)
        if have != [1, 2, 3, 4, 5, 6]:
            lack = sorted(set(range(1, 7)) - set(have) - {h for y, h in claimed if y == year})
            if not lack:
                continue
            problems.append(
                (
                    min(r["line"] for r in year_rows),
                    f"academic year {academic_year_label(year)} lacks half-term(s) {lack}",
                )
            )
    return problems


def read_term_dates(path: str | Path) -> TermDates:
    """Read and validate a term dates file (CSV, or YAML with the same keys).

    Columns: ``academic_year`` (``2024/25``, ``202425`` or ``2024``), ``half_term`` (1-6),
    ``start`` and ``end`` (inclusive; ``dd/mm/yyyy`` or ``yyyy-mm-dd``), optional ``urn`` (school)
    and ``la_code`` (LA number or E-code), optional free-text ``notes``/``note``/``description``.
    Blank lines and lines starting with ``#`` are skipped. YAML is a list of mappings, either at
    the top level or under a ``term_dates`` key.

    Each calendar (same ``urn``/``la_code``) must give all six half-terms of every year, in date
    order, without overlaps, each ending on or after it starts and lying within 1 Aug-31 Aug of
    its academic year. Every problem is collected and raised together as one
    :class:`CalendarError` naming the file and line of each.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "terms.csv")
    ...     with open(p, "w") as fh:
    ...         _ = fh.write("academic_year,half_term,start,end\\n2024/25,1,04/09/2024,01/09/2024\\n")
    ...     read_term_dates(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    attendance_lib.calendar.CalendarError: term dates file ...terms.csv, line 2: end 2024-09-01 is before start 2024-09-04
    """
    path = Path(path)
    records, problems = _read_records(path)
    # completeness is only judged when every bad row can be told apart by year and half-term
    judge_complete = not problems
    good, claimed = [], set()
    for line, rec in records:
        row, found = _check_record(line, rec)
        problems += found
        if not found:
            good.append({**row, "line": line})
        elif "academic_year" in row and "half_term" in row:
            key = (rec.get("urn") or None, rec.get("la_code") or None)
            claimed.add((*key, row["academic_year"], row["half_term"]))
        else:
            judge_complete = False
    calendars: dict[tuple, list[dict]] = {}
    for r in good:
        calendars.setdefault((r["urn"], r["la_code"]), []).append(r)
    for key, rows in calendars.items():
        known = {c[2:] for c in claimed if c[:2] == key}
        problems += _check_calendar(rows, known if judge_complete else None)
    if not records and not problems:
        problems.append((1, "no term dates"))
    if problems:
        problems = sorted(dict.fromkeys(problems), key=lambda p: p[0])
        if len(problems) == 1:
            message = f"term dates file {path}, line {problems[0][0]}: {problems[0][1]}"
        else:
            lines = "\n".join(f"  line {n}: {text}" for n, text in problems)
            message = f"term dates file {path} has {len(problems)} problems:\n{lines}"
        raise CalendarError(message, path=str(path), problems=problems)
    table = pd.DataFrame(good).drop(columns="line")
    table = table.drop(columns=[k for k in _KEY_COLUMNS if table[k].isna().all()])
    return TermDates(table, source=str(path))


def infer_half_terms(dates: Iterable[date] | pd.Series, min_gap_weekdays: int = 5) -> TermDates:
    """Infer half-term blocks from the dates on which a school took registers.

    Distinct dates are sorted; a run of at least ``min_gap_weekdays`` weekdays (Mon-Fri) with no
    register between two dates ends a block, as does the 1 Aug academic-year boundary. Shorter
    gaps (a bank holiday, INSET days, a 4-day closure) do not. Blocks are numbered 1..n within the
    academic year (1 Aug-31 Jul) in which they start; ``start``/``end`` are the first and last
    register dates of each block, not the official term dates.

    n is 6 for a normal year observed in full. It is smaller for a year observed only up to an
    as-of date (numbering is still right) or one whose data start mid-year (numbering is then
    shifted: the first observed block is called 1). It is larger when a school closed for a
    week or more inside a half-term (snow, COVID), which splits that half-term. ``term_of`` is
    only reliable for years with exactly 6 blocks; check ``table.groupby("academic_year").size()``.

    Examples
    --------
    >>> days = pd.bdate_range("2024-09-04", "2024-12-20")
    >>> oct_half_term = (days >= "2024-10-28") & (days <= "2024-11-01")
    >>> infer_half_terms(pd.Series(days[~oct_half_term])).table[["half_term", "start", "end"]]
       half_term      start        end
    0          1 2024-09-04 2024-10-25
    1          2 2024-11-04 2024-12-20
    """
    if (
        isinstance(min_gap_weekdays, bool)
        or not isinstance(min_gap_weekdays, int)
        or min_gap_weekdays < 1
    ):
        raise ValueError(f"min_gap_weekdays must be a positive int, got {min_gap_weekdays!r}")
    s = _as_series(dates)
    days, nat = _days(_datetime_values(s))
    if nat is not None:
        days = days[~nat]
    if days.size == 0:
        raise CalendarError("no register dates to infer half-terms from")
    uniq = _distinct(days).astype("datetime64[D]")
    years = academic_years(pd.Series(uniq.astype(_UNIT))).to_numpy()
    gap = np.busday_count(uniq[:-1] + 1, uniq[1:])
    new_block = np.r_[True, (gap >= min_gap_weekdays) | (years[1:] != years[:-1])]
    first = np.flatnonzero(new_block)
    last = np.r_[first[1:] - 1, uniq.size - 1]
    table = pd.DataFrame(
        {
            "academic_year": years[first],
            "start": uniq[first].astype(_UNIT),
            "end": uniq[last].astype(_UNIT),
        }
    )
    table.insert(1, "half_term", table.groupby("academic_year").cumcount() + 1)
    return TermDates(table, source=f"inferred from {uniq.size} register dates")


def term_window(as_of: object, term_dates: TermDates) -> Window:
    """Current term to date: the term containing ``as_of`` (or the latest begun before it).

    Runs from the start of the term's first half-term to ``as_of``, clipped to the end of the
    term's last half-term (so during a holiday it covers the whole term just finished). A
    half-term break inside the term (e.g. February) stays in the term. Raises
    :class:`CalendarError` when ``as_of`` is before the first half-term or after the year the
    term dates end with.

    Examples
    --------
    >>> t = TermDates(pd.DataFrame({"academic_year": [2024] * 4, "half_term": [1, 2, 3, 4],
    ...     "start": ["2024-09-04", "2024-11-04", "2025-01-06", "2025-02-24"],
    ...     "end": ["2024-10-25", "2024-12-20", "2025-02-14", "2025-04-04"]}))
    >>> term_window("2025-02-18", t)
    Window(start=datetime.date(2025, 1, 6), end=datetime.date(2025, 2, 18), academic_year=2024)
    """
    end = _to_date(as_of, "as_of")
    tab, row = term_dates._latest_started(end)
    half = int(row["half_term"])
    if half > 6:
        raise CalendarError(
            f"{term_dates.source}: half-term {half} of {academic_year_label(int(row['academic_year']))} belongs to no term"
        )
    pair = (half + 1) // 2 * 2
    same = tab[
        (tab["academic_year"] == row["academic_year"]) & tab["half_term"].between(pair - 1, pair)
    ]
    term_end = same["end"].max().date()
    return Window(same["start"].min().date(), min(end, term_end), int(row["academic_year"]))


def half_term_window(as_of: object, term_dates: TermDates) -> Window:
    """Current half-term to date: the half-term containing ``as_of`` (or the latest begun).

    Runs from the half-term's start to ``as_of``, clipped to the half-term's end.

    Examples
    --------
    >>> t = TermDates(pd.DataFrame({"academic_year": [2024, 2024], "half_term": [1, 2],
    ...     "start": ["2024-09-04", "2024-11-04"], "end": ["2024-10-25", "2024-12-20"]}))
    >>> half_term_window("2024-10-30", t)
    Window(start=datetime.date(2024, 9, 4), end=datetime.date(2024, 10, 25), academic_year=2024)
    """
    end = _to_date(as_of, "as_of")
    _, row = term_dates._latest_started(end)
    return Window(row["start"].date(), min(end, row["end"].date()), int(row["academic_year"]))
