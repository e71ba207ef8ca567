"""The school calendar early warning works on: school days, evaluation points, "the same point".

One concept: *when* a prediction is made. Validation is temporal (product.md "Early warning"):
a model is trained on earlier years' cohorts as of the same point in the year and tested on a
later year, at several points (end of September, October half-term, Christmas, February
half-term, Easter; issue 5 item 3).

The calendar comes from, in order:

1. term dates passed in (a :class:`~attendance_lib.term_dates.TermDates` or a term dates file);
2. the store's own term dates (``term_dates.csv`` or ``term_dates.parquet`` in the store
   folder, the layout :func:`attendance_lib.term_dates.read_term_dates` reads), when present;
3. half-terms inferred from the days registers were taken across the LA
   (:func:`attendance_lib.term_dates.infer_half_terms`): days on which at least half as many
   schools recorded a possible session as on any earlier day in the store.

*School days* are always the days with registers (so the "last 6 school weeks" skip holidays and
closures). An LA calendar is used for every school; schools with their own term dates differ by
a few days at most around the points, which the features absorb (they count sessions, not days).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from attendance_lib.academic_year import academic_year_label, academic_year_of
from attendance_lib.calendar import CalendarError
from attendance_lib.store import Store
from attendance_lib.term_dates import TermDates, infer_half_terms, read_term_dates

__all__ = ["POINTS", "POINT_LABELS", "SchoolCalendar", "school_calendar"]

#: evaluation points in school-year order (issue 5 item 3)
POINTS = ("end_september", "october_half_term", "christmas", "february_half_term", "easter")
POINT_LABELS = {
    "end_september": "end of September",
    "october_half_term": "October half-term",
    "christmas": "Christmas",
    "february_half_term": "February half-term",
    "easter": "Easter",
}
#: each point after the first is the last school day of this half-term
_POINT_HALF_TERM = {"october_half_term": 1, "christmas": 2, "february_half_term": 3,
                    "easter": 4}


@dataclass(frozen=True)
class SchoolCalendar:
    """Half-terms (one LA calendar) and the days registers were taken."""

    half_terms: pd.DataFrame  # academic_year, half_term, start, end (datetime64)
    school_days: np.ndarray  # datetime64[D], sorted: days with possible sessions
    source: str
    start_month: int = 8
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # -- basic look-ups --------------------------------------------------------------------
    def year_of(self, d) -> int:
        return academic_year_of(pd.Timestamp(d).date(), self.start_month)

    def _half(self, year: int, half_term: int) -> tuple[date, date]:
        t = self.half_terms
        row = t[(t["academic_year"] == year) & (t["half_term"] == half_term)]
        if row.empty:
            raise CalendarError(f"{self.source}: no half-term {half_term} in "
                                f"{academic_year_label(year)}")
        return row["start"].iloc[0].date(), row["end"].iloc[0].date()

    def _check_year(self, year: int) -> None:
        t = self.half_terms[self.half_terms["academic_year"] == year]
        if t.empty:
            raise CalendarError(f"{self.source}: no term dates for {academic_year_label(year)}")
        first = t["start"].min().date()
        if self.source.startswith("inferred") and first > date(year, 9, 20):
            raise CalendarError(
                f"{academic_year_label(year)}: registers start on {first}, so its half-terms "
                "cannot be numbered; give the LA's term dates")

    def days_in(self, start, end) -> np.ndarray:
        lo, hi = np.datetime64(pd.Timestamp(start).date(), "D"), np.datetime64(
            pd.Timestamp(end).date(), "D")
        d = self.school_days
        return d[(d >= lo) & (d <= hi)]

    def last_school_day(self, on_or_before) -> date:
        d = self.school_days
        i = int(np.searchsorted(d, np.datetime64(pd.Timestamp(on_or_before).date(), "D"),
                                side="right")) - 1
        if i < 0:
            raise CalendarError(f"no school day on or before {pd.Timestamp(on_or_before).date()}")
        return d[i].astype(date)

    def window_start(self, as_of, school_days: int) -> date:
        """First day of the last ``school_days`` school days up to ``as_of`` (same year)."""
        as_of = pd.Timestamp(as_of).date()
        y = self.year_of(as_of)
        days = self.days_in(self.year_start(y), as_of)
        if days.size == 0:
            return as_of
        return days[-min(school_days, days.size)].astype(date)

    # -- the year ----------------------------------------------------------------------------
    def year_start(self, year: int) -> date:
        return date(year, self.start_month, 1)

    def year_end(self, year: int) -> date:
        """Last day of the academic year's last half-term (the end-of-year label's date)."""
        self._check_year(year)
        t = self.half_terms[self.half_terms["academic_year"] == year]
        return t["end"].max().date()

    def year_complete(self, year: int, latest: date | None) -> bool:
        """Whether the store's marks reach the end of ``year``'s summer term."""
        t = self.half_terms[self.half_terms["academic_year"] == year]
        if latest is None or t.empty or t["half_term"].max() < 6:
            return False
        return latest >= t["end"].max().date() - timedelta(days=3)

    def point(self, year: int, name: str) -> date:
        """The date of an evaluation point (:data:`POINTS`) in an academic year."""
        if name not in POINTS:
            raise ValueError(f"evaluation point must be one of {', '.join(POINTS)}, not {name!r}")
        self._check_year(year)
        if name == "end_september":
            return self.last_school_day(date(year, 9, 30))
        return self._half(year, _POINT_HALF_TERM[name])[1]

    def points(self, year: int) -> dict[str, date]:
        return {p: self.point(year, p) for p in POINTS}

    def point_name(self, as_of) -> str | None:
        """The evaluation point ``as_of`` is (or ``None``)."""
        as_of = pd.Timestamp(as_of).date()
        y = self.year_of(as_of)
        for p in POINTS:
            try:
                if self.point(y, p) == as_of:
                    return p
            except CalendarError:
                continue
        return None

    def position(self, as_of) -> tuple[int, int]:
        """``(half_term, school days since it started)`` of ``as_of``; during a holiday the
        position is the end of the half-term just finished."""
        as_of = pd.Timestamp(as_of).date()
        y = self.year_of(as_of)
        self._check_year(y)
        t = self.half_terms[self.half_terms["academic_year"] == y]
        started = t[t["start"] <= pd.Timestamp(as_of)]
        if started.empty:
            raise CalendarError(f"{as_of} is before the first school day of "
                                f"{academic_year_label(y)}")
        row = started.iloc[-1]
        end = min(as_of, row["end"].date())
        return int(row["half_term"]), int(self.days_in(row["start"], end).size)

    def same_point(self, as_of, year: int) -> date:
        """The date in ``year`` at the same point of the school year as ``as_of``.

        A named evaluation point maps to the same point; any other date to the same number of
        school days into the same half-term (clipped to that half-term's end).
        """
        name = self.point_name(as_of)
        if name is not None:
            return self.point(year, name)
        half, n = self.position(as_of)
        start, end = self._half(year, half)
        days = self.days_in(start, end)
        if days.size == 0:
            return end
        return days[max(0, min(n, days.size) - 1)].astype(date)

    def next_term_end(self, as_of) -> date:
        """End of the first term (half-terms 2, 4, 6) ending after ``as_of``."""
        as_of = pd.Timestamp(as_of).date()
        y = self.year_of(as_of)
        self._check_year(y)
        t = self.half_terms[(self.half_terms["academic_year"] == y)
                            & self.half_terms["half_term"].isin([2, 4, 6])]
        later = t[t["end"] > pd.Timestamp(as_of)]
        if later.empty:
            raise CalendarError(f"no term ends after {as_of} in {academic_year_label(y)}")
        return later["end"].iloc[0].date()


def _register_days(store: Store) -> pd.DataFrame:
    return store.query(
        "SELECT date, count(DISTINCT urn) AS schools FROM marks "
        "WHERE category <> 'not_possible' GROUP BY date ORDER BY date")


def _store_term_dates(store: Store) -> TermDates | None:
    for name in ("term_dates.csv", "term_dates.parquet"):
        p = store.root / name
        if p.exists():
            if name.endswith(".csv"):
                td = read_term_dates(p)
            else:
                td = TermDates(pd.read_parquet(p), source=str(p))
            return td
    return None


def school_calendar(store: Store, term_dates: TermDates | str | Path | None = None
                    ) -> SchoolCalendar:
    """The LA calendar for early warning (see the module docstring for where it comes from)."""
    days = _register_days(store)
    if days.empty:
        raise CalendarError(f"{store.root}: the store holds no marks")
    # a day counts when at least half as many schools took registers as on any earlier day (a
    # running maximum, so later marks never change which past days count)
    most = days["schools"].cummax()
    typical = days[days["schools"] * 2 >= most]
    school_days = np.sort(pd.to_datetime(typical["date"]).to_numpy().astype("datetime64[D]"))
    if term_dates is None:
        term_dates = _store_term_dates(store)
    if isinstance(term_dates, str | Path):
        term_dates = read_term_dates(term_dates)
    if term_dates is None:
        td = infer_half_terms(pd.Series(school_days.astype("datetime64[ns]")))
        source = td.source
    else:
        keys = [c for c in ("urn", "la_code") if c in term_dates.table]
        td = term_dates
        if keys and len(term_dates.table[keys].drop_duplicates()) > 1:
            td = term_dates.select()
        source = f"term dates {term_dates.source}"
    table = td.table[["academic_year", "half_term", "start", "end"]].copy()
    table["academic_year"] = table["academic_year"].astype(int)
    return SchoolCalendar(table, school_days, source, store.start_month)
