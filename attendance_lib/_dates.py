"""Date conversion helpers shared by the calendar modules: dates to day numbers and back.

One concept: the vectorised day-number arithmetic that :mod:`attendance_lib.calendar` and
:mod:`attendance_lib.term_dates` are built on. Inputs (a ``pd.Series`` of ``datetime64`` of any
resolution, Python dates or ISO strings) become integer day numbers since 1970-01-01 plus a NaT
mask; a function of the day is evaluated once per distinct calendar day in range and gathered
(:func:`lookup`), so tens of millions of rows take well under a second. Private to the package.

Examples
--------
>>> days, nat = day_numbers(datetime_values(as_series(["2024-12-16", "2024-12-22"])))
>>> days.tolist(), nat, day_of_week(days).tolist(), week_monday(week_numbers(days)).tolist()
([20073, 20079], None, [0, 6], [datetime.date(2024, 12, 16), datetime.date(2024, 12, 16)])
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

__all__ = [
    "UNIT",
    "PER_DAY",
    "DAY",
    "to_date",
    "as_series",
    "datetime_values",
    "day_numbers",
    "lookup",
    "day_of_week",
    "year_month",
    "nullable",
    "week_numbers",
    "distinct",
    "week_monday",
]

#: resolution of the date columns the calendar modules build (the pandas 3 default)
UNIT = "datetime64[us]"
#: ticks per day of each datetime64 unit that divides a day exactly
PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}
DAY = timedelta(days=1)


def to_date(value: object, what: str = "date") -> date:
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


def as_series(dates: object) -> pd.Series:
    """``dates`` as a Series (a Series as it is; an array or Index gets a RangeIndex)."""
    if isinstance(dates, pd.Series):
        return dates
    if isinstance(dates, pd.Index | np.ndarray):
        return pd.Series(dates, index=pd.RangeIndex(len(dates)))
    return pd.Series(list(dates))


def datetime_values(s: pd.Series) -> np.ndarray:
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
        values = s.astype(UNIT).to_numpy()
    return values


def day_numbers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Day numbers since 1970-01-01 (floor) and a NaT mask (None when there is no NaT).

    NaT positions get a valid placeholder day so that lookups stay in range; mask them afterwards.
    """
    unit, count = np.datetime_data(values.dtype)
    if unit in PER_DAY and count == 1:
        days = values.view("i8") // PER_DAY[unit]
    else:
        days = values.astype("datetime64[D]").view("i8").copy()
    nat = np.isnat(values)
    if not nat.any():
        return days, None
    days[nat] = days[np.argmin(nat)] if not nat.all() else 0
    return days, nat


def lookup(days: np.ndarray, build: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``build(days)`` evaluated once per distinct calendar day in range, then gathered."""
    if days.size == 0:
        return build(np.empty(0, dtype="i8"))
    lo, hi = int(days.min()), int(days.max())
    table = build(np.arange(lo, hi + 1, dtype="i8"))
    return table[days - lo]


def day_of_week(days: np.ndarray) -> np.ndarray:
    """Day of the week of day numbers, Monday = 0 (int8)."""
    return ((days + 3) % 7).astype("i1")  # 1970-01-01 was a Thursday; Monday = 0


def year_month(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar year and month (1-12) of day numbers."""
    months = days.astype("datetime64[D]").astype("datetime64[M]").view("i8")  # since Jan 1970
    return months // 12 + 1970, months % 12 + 1


def nullable(values: np.ndarray, nat: np.ndarray | None, dtype: str):
    """``values`` as numpy ``dtype`` (e.g. int16), or a nullable array masked at NaT."""
    values = values.astype(dtype)
    return values if nat is None else pd.arrays.IntegerArray(values, nat.copy())


def week_numbers(days: np.ndarray) -> np.ndarray:
    """Monday-based week numbers (week 0 starts Mon 29 Dec 1969)."""
    return lookup(days, lambda span: (span + 3) // 7)


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a small-range integer array, in linear time."""
    if values.size == 0:
        return values
    lo = int(values.min())
    present = np.zeros(int(values.max()) - lo + 1, dtype=bool)
    present[values - lo] = True
    return np.flatnonzero(present) + lo


def week_monday(week: np.ndarray | int) -> np.ndarray:
    """The Monday (``datetime64[D]``) starting each :func:`week_numbers` week."""
    return (np.asarray(week, dtype="i8") * 7 - 3).astype("datetime64[D]")
