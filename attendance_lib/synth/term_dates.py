"""Realistic LA term dates: six half-terms, Christmas and Easter, bank holidays, INSET days.

The rules follow the pattern English LAs publish (domain.md 7: about early September to late
July, 3 terms of 2 half-terms, at least 190 pupil days = 380 sessions):

* autumn opens on 1 September when that is Monday-Thursday, else the following Monday;
* October half-term is the Monday-Friday week containing 28 October (the week before it when 28
  October falls at a weekend);
* autumn closes on the last Friday on or before 22 December; spring opens 17 days later (the
  Monday two weeks on), or the next weekday that is not a bank holiday;
* February half-term is the week starting on the Monday between 12 and 18 February;
* the Easter holiday is the two weeks around Easter (Good Friday ends the first, Easter Monday
  starts the second);
* May half-term is the week of the spring bank holiday;
* the summer term closes when the year has 195 term days (190 pupil days + 5 INSET days).

Bank holidays in term (early May, and one-off days such as 8 May 2023) are closed: no register is
taken, so no mark exists. Each school takes 5 INSET days (:func:`inset_days`), recorded for its
pupils as ``#`` (planned closure, not a possible session).

Examples
--------
>>> cal = la_calendar(2024)
>>> cal.half_terms[0], cal.half_terms[5][1]
((datetime.date(2024, 9, 2), datetime.date(2024, 10, 25)), datetime.date(2025, 7, 21))
>>> len(cal.days)
195
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import numpy as np
import pandas as pd

from attendance_lib.calendar import academic_year_label, easter_sunday, england_bank_holidays
from attendance_lib.calendar import spring_bank_holiday as _spring_bh

__all__ = ["TERM_DAYS", "INSET_DAYS", "YearCalendar", "la_calendar", "inset_days",
           "term_dates_table"]

TERM_DAYS = 195
INSET_DAYS = 5
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class YearCalendar:
    """One academic year's LA term days (weekdays in term, bank holidays removed)."""

    academic_year: int
    #: (first day, last day) of each of the six half-terms, official dates
    half_terms: tuple[tuple[date, date], ...]
    #: term days as numpy datetime64[D], sorted
    days: np.ndarray
    #: half-term (1..6) of each day
    half_term: np.ndarray
    #: weekday of each day (Monday = 0)
    weekday: np.ndarray
    #: ordinal of each day's Monday-based week among the year's school weeks
    week: np.ndarray

    @property
    def n_days(self) -> int:
        return len(self.days)

    @property
    def day_numbers(self) -> np.ndarray:
        """Days since 1970-01-01 (int32), the loader's representation."""
        return self.days.astype("int64").astype(np.int32)

    def index_of(self, d: date | np.datetime64, side: str = "left") -> int:
        """Position of the first term day on or after ``d`` (``side="right"``: after)."""
        return int(np.searchsorted(self.days, np.datetime64(d, "D"), side=side))

    def last_index_on_or_before(self, d: date | np.datetime64) -> int:
        """Position of the last term day on or before ``d`` (-1 if none)."""
        return int(np.searchsorted(self.days, np.datetime64(d, "D"), side="right")) - 1

    def break_edges(self) -> list[tuple[str, int, int]]:
        """For each holiday (and the summer): (name, last day index before, first index after).

        The summer's "after" index is ``n_days`` (the next year); the October half-term's
        "before" is the last day of half-term 1, and so on.
        """
        firsts = [int(np.flatnonzero(self.half_term == h)[0]) for h in range(1, 7)]
        lasts = [int(np.flatnonzero(self.half_term == h)[-1]) for h in range(1, 7)]
        names = ("october", "christmas", "february", "easter", "may")
        out = [(n, lasts[i], firsts[i + 1]) for i, n in enumerate(names)]
        out.append(("summer", lasts[5], self.n_days))
        return out


def _weekday_on_or_after(d: date, weekday: int) -> date:
    return d + timedelta(days=(weekday - d.weekday()) % 7)


def _next_open(d: date, holidays: set[date]) -> date:
    while d.weekday() >= 5 or d in holidays:
        d += _DAY
    return d


def _term_days(first: date, last: date, holidays: set[date]) -> list[date]:
    out, d = [], first
    while d <= last:
        if d.weekday() < 5 and d not in holidays:
            out.append(d)
        d += _DAY
    return out


@cache
def la_calendar(academic_year: int) -> YearCalendar:
    """The LA's term dates for an academic year (start year), by the rules in the module doc."""
    y = int(academic_year)
    holidays = set(england_bank_holidays(y)) | set(england_bank_holidays(y + 1))
    sep1 = date(y, 9, 1)
    open1 = sep1 if sep1.weekday() <= 3 else _weekday_on_or_after(sep1, 0)
    oct28 = date(y, 10, 28)
    oct_mon = oct28 - timedelta(days=oct28.weekday())
    dec22 = date(y, 12, 22)
    aut_end = dec22 - timedelta(days=(dec22.weekday() - 4) % 7)
    spr_open = _next_open(aut_end + timedelta(days=17), holidays)
    feb_mon = _weekday_on_or_after(date(y + 1, 2, 12), 0)
    easter = easter_sunday(y + 1)
    spr_end = easter - timedelta(days=9)
    sum_open = _next_open(easter + timedelta(days=8), holidays)
    may_mon = _spring_bh(y + 1) - timedelta(days=_spring_bh(y + 1).weekday())
    halves = [
        (open1, oct_mon - timedelta(days=3)),
        (_next_open(oct_mon + timedelta(days=7), holidays), aut_end),
        (spr_open, feb_mon - timedelta(days=3)),
        (_next_open(feb_mon + timedelta(days=7), holidays), spr_end),
        (sum_open, may_mon - timedelta(days=3)),
    ]
    counted = sum(len(_term_days(a, b, holidays)) for a, b in halves)
    need = TERM_DAYS - counted
    d, got, open6 = _next_open(may_mon + timedelta(days=7), holidays), 0, None
    open6 = d
    while True:
        if d.weekday() < 5 and d not in holidays:
            got += 1
            if got == need:
                break
        d += _DAY
    halves.append((open6, d))
    days, half = [], []
    for i, (a, b) in enumerate(halves, start=1):
        td = _term_days(a, b, holidays)
        days += td
        half += [i] * len(td)
    arr = np.array(days, dtype="datetime64[D]")
    dn = arr.astype("int64")
    weekday = ((dn + 3) % 7).astype(np.int8)
    monday = dn - weekday
    _, week = np.unique(monday, return_inverse=True)
    return YearCalendar(y, tuple(halves), arr, np.array(half, np.int8), weekday,
                        week.astype(np.int16))


def inset_days(cal: YearCalendar, rng: np.random.Generator) -> np.ndarray:
    """Day indices of one school's 5 INSET days, drawn the way schools place them.

    Most schools take one or two at the start of September; the rest go on the first day of a
    term or half-term, the last day of the summer term, or a Monday/Friday in term.
    """
    firsts = [int(np.flatnonzero(cal.half_term == h)[0]) for h in range(1, 7)]
    lasts = [int(np.flatnonzero(cal.half_term == h)[-1]) for h in range(1, 7)]
    chosen: list[int] = []
    n_start = int(rng.choice([0, 1, 2, 3], p=[0.08, 0.32, 0.52, 0.08]))
    chosen += list(range(firsts[0], firsts[0] + n_start))
    candidates = [firsts[2], firsts[1], firsts[3], firsts[4], firsts[5], lasts[5], lasts[1],
                  lasts[5] - 1]
    weights = np.array([0.35, 0.2, 0.15, 0.2, 0.15, 0.35, 0.1, 0.1])
    order = rng.choice(len(candidates), size=len(candidates), replace=False,
                       p=weights / weights.sum())
    for k in order:
        if len(chosen) >= INSET_DAYS:
            break
        if candidates[k] not in chosen:
            chosen.append(candidates[k])
    edge = np.flatnonzero((cal.weekday == 0) | (cal.weekday == 4))
    while len(chosen) < INSET_DAYS:
        c = int(rng.choice(edge))
        if c not in chosen:
            chosen.append(c)
    return np.sort(np.array(chosen[:INSET_DAYS], dtype=np.int32))


def term_dates_table(years, la_code: str) -> pd.DataFrame:
    """The LA's half-term dates in the layout ``calendar.read_term_dates`` reads."""
    rows = []
    for y in years:
        for i, (a, b) in enumerate(la_calendar(int(y)).half_terms, start=1):
            rows.append({"academic_year": academic_year_label(int(y)), "half_term": i,
                         "start": a.isoformat(), "end": b.isoformat(), "la_code": la_code})
    return pd.DataFrame(rows)
