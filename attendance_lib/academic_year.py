"""Academic years: naming, parsing, bounds, and the year of a date.

One concept: the academic year (domain.md 7). A year is named by the calendar year it starts
in: ``2024`` means 2024/25. The DfE statistics year runs **1 Aug-31 Jul** (``start_month=8``,
the default); a 1 Sep-31 Aug school year is available with ``start_month=9``. Labels
(``"2024/25"``), DfE ``time_period`` codes (``202425``) and plain years are all accepted where a
year is given. :mod:`attendance_lib.calendar` re-exports these names.

Examples
--------
>>> academic_year_of("2025-03-31"), academic_year_label(2024), parse_academic_year("202425")
(2024, '2024/25', 2024)
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from attendance_lib._dates import (
    DAY,
    as_series,
    datetime_values,
    day_numbers,
    lookup,
    nullable,
    to_date,
    year_month,
)

__all__ = [
    "academic_year_of",
    "academic_years",
    "academic_year_bounds",
    "academic_year_label",
    "parse_academic_year",
]

_START_MONTHS = (8, 9)


def _check_start_month(start_month: object) -> int:
    if isinstance(start_month, bool) or start_month not in _START_MONTHS:
        raise ValueError(f"start_month must be 8 (1 Aug, DfE) or 9 (1 Sep), got {start_month!r}")
    return int(start_month)


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
    day = to_date(d)
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
    s = as_series(dates)
    days, nat = day_numbers(datetime_values(s))

    def build(span: np.ndarray) -> np.ndarray:
        year, month = year_month(span)
        return (year - (month < sm)).astype("i2")

    return pd.Series(
        nullable(lookup(days, build), nat, "int16"), index=s.index, name="academic_year"
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
    return date(y, sm, 1), date(y + 1, sm, 1) - DAY


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
