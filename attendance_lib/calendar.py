"""DfE census terms, school weeks and as-of windows, over academic years and bank holidays.

One concept: the DfE statistical calendar that attendance measures are counted over
(domain.md 2.2, 4.1 and 7). A school's own half-term dates live in
:mod:`attendance_lib.term_dates`, which builds on this module. Academic years
(:mod:`attendance_lib.academic_year`) and Easter and bank holidays
(:mod:`attendance_lib.holidays`) have modules of their own; their names are re-exported here
and are part of this module's ``__all__``.

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

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from attendance_lib._dates import (
    DAY,
    PER_DAY,
    UNIT,
    as_series,
    datetime_values,
    day_numbers,
    day_of_week,
    distinct,
    lookup,
    nullable,
    to_date,
    week_monday,
    week_numbers,
    year_month,
)
from attendance_lib.academic_year import (
    academic_year_bounds,
    academic_year_label,
    academic_year_of,
    academic_years,
    parse_academic_year,
)
from attendance_lib.holidays import easter_sunday, england_bank_holidays, spring_bank_holiday

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
# DfE census terms (domain.md 2.2 and 7)


def _dfe_rows(year: int) -> list[tuple[str, int | None, date, date]]:
    y = parse_academic_year(year)
    easter = easter_sunday(y + 1)
    spring_bh = spring_bank_holiday(y + 1)
    split = spring_bh - timedelta(days=spring_bh.weekday())  # Monday of the bank holiday's week
    return [
        ("autumn", None, date(y, 8, 1), date(y, 12, 31)),
        ("spring", None, date(y + 1, 1, 1), easter),
        ("summer", 5, easter + DAY, split - DAY),
        ("summer", 6, split, date(y + 1, 7, 31)),
    ]


def _frame(rows: list[tuple], year: int, with_half: bool) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "academic_year": np.full(len(rows), parse_academic_year(year), dtype="i2"),
            "term": pd.Categorical([r[0] for r in rows], categories=TERMS, ordered=True),
            "half_term": pd.array([r[1] for r in rows], dtype="Int8"),
            "start": pd.to_datetime([r[2] for r in rows]).astype(UNIT),
            "end": pd.to_datetime([r[3] for r in rows]).astype(UNIT),
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
    s = as_series(dates)
    days, nat = day_numbers(datetime_values(s))

    def build(span: np.ndarray) -> np.ndarray:
        year, month = year_month(span)
        uniq, pos = np.unique(year, return_inverse=True)
        easter = np.array(
            [np.datetime64(easter_sunday(int(y)), "D") for y in uniq], dtype="datetime64[D]"
        )
        easter_day = easter.view("i8")[pos]
        return np.where(month >= 8, 0, np.where(span <= easter_day, 1, 2)).astype("i1")

    codes = lookup(days, build)
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
    s = as_series(dates)
    values = datetime_values(s)
    days, nat = day_numbers(values)
    monday = days - lookup(days, day_of_week)
    unit = np.datetime_data(values.dtype)[0]
    if unit in PER_DAY:
        out = (monday * PER_DAY[unit]).view(f"datetime64[{unit}]")
    else:
        out = monday.astype("datetime64[D]").astype(UNIT)
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
    s = as_series(dates)
    days, nat = day_numbers(datetime_values(s))
    out = lookup(days, lambda span: day_of_week(span) >= 5)
    if nat is not None:
        out &= ~nat
    return pd.Series(out, index=s.index, name="is_weekend")


def school_weeks(dates: pd.Series) -> pd.DatetimeIndex:
    """Distinct week starts (Mondays) of the weeks containing at least one of ``dates``, sorted.

    Pass the dates of possible sessions: a week with no possible session is not a school week
    (domain.md 4.1).

    Examples
    --------
    >>> school_weeks(pd.Series(pd.to_datetime(["2024-12-20", "2024-12-16", "2025-01-06"]))).strftime("%d %b %Y").tolist()
    ['16 Dec 2024', '06 Jan 2025']
    """
    days, nat = day_numbers(datetime_values(as_series(dates)))
    weeks = week_numbers(days if nat is None else days[~nat])
    return pd.DatetimeIndex(week_monday(distinct(weeks)).astype(UNIT), name="week_start")


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
    s = as_series(dates)
    days, nat = day_numbers(datetime_values(s))
    weeks = week_numbers(days)
    if weeks.size == 0:
        return pd.Series(np.empty(0, "i4"), index=s.index, name="school_week")
    valid = weeks if nat is None else weeks[~nat]
    lo = int(valid.min()) if valid.size else 0
    rel = weeks - lo
    present = np.zeros(int(rel.max()) + 1, dtype=bool)
    present[rel if nat is None else rel[~nat]] = True
    ordinal = (np.cumsum(present) - 1).astype("i4")
    return pd.Series(nullable(ordinal[rel], nat, "int32"), index=s.index, name="school_week")


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
        s = as_series(dates)
        values = datetime_values(s)
        lo, hi = np.datetime64(self.start, "D"), np.datetime64(self.end + DAY, "D")
        return pd.Series((values >= lo) & (values < hi), index=s.index, name="in_window")


def as_of_window(as_of: object, start_month: int = 8) -> Window:
    """Academic year to date: from the start of the academic year containing ``as_of`` to it.

    Examples
    --------
    >>> as_of_window("2025-08-31", start_month=9)
    Window(start=datetime.date(2024, 9, 1), end=datetime.date(2025, 8, 31), academic_year=2024)
    """
    end = to_date(as_of, "as_of")
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
    end = to_date(as_of, "as_of")
    days, nat = day_numbers(datetime_values(as_series(dates)))
    keep = days <= np.datetime64(end, "D").view("i8")
    if nat is not None:
        keep &= ~nat
    weeks = distinct(week_numbers(days[keep]))
    if weeks.size == 0:
        raise CalendarError(f"no dates on or before {end.isoformat()} to count school weeks from")
    first = weeks[-min(int(n), weeks.size)]
    return Window(week_monday(first).item(), end, academic_year_of(end, start_month))


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
