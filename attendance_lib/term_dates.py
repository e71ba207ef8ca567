"""School term dates: a school's (or LA's) own half-terms, and term and half-term windows.

One concept: the dates a school actually sets for its three terms of two half-terms each
(domain.md 7: "3 terms = 6 half-terms"), as opposed to the DfE census terms in
:mod:`attendance_lib.calendar` (domain.md 2.2, 7), which do not split autumn or spring. Schools
analyse data half-termly and termly (domain.md 5), which is what :func:`term_window` and
:func:`half_term_window` are for.

* :class:`TermDates` holds validated half-term rows, optionally per school (``urn``) or LA
  (``la_code``) with a default calendar; :meth:`TermDates.select` picks one calendar.
* :func:`read_term_dates` reads a CSV or YAML term dates file and reports every problem with its
  line (the file reader and its checks are :mod:`attendance_lib.io.term_dates`);
  :func:`infer_half_terms` derives half-term blocks from the dates registers were taken.

Dates follow the conventions of :mod:`attendance_lib.calendar` (inclusive calendar days,
academic years named by their starting year); invalid input raises
:class:`attendance_lib.calendar.CalendarError`. The names here are also reachable as
``calendar.TermDates`` etc. for convenience.

Examples
--------
>>> t = TermDates(pd.DataFrame({"academic_year": [2024, 2024], "half_term": [1, 2],
...     "start": ["2024-09-04", "2024-11-04"], "end": ["2024-10-25", "2024-12-20"]}))
>>> t
TermDates(2 half-terms, years 2024/25-2024/25, source='<table>')
>>> half_term_window("2024-11-20", t)
Window(start=datetime.date(2024, 11, 4), end=datetime.date(2024, 11, 20), academic_year=2024)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from attendance_lib._dates import (
    UNIT,
    as_series,
    datetime_values,
    day_numbers,
    distinct,
    lookup,
    to_date,
)
from attendance_lib.calendar import (
    TERMS,
    CalendarError,
    Window,
    academic_year_bounds,
    academic_year_label,
    academic_years,
    parse_academic_year,
)
from attendance_lib.io.term_dates import CALENDAR_KEYS, TERM_DATES_COLUMNS, read_term_dates_table

__all__ = [
    "TermDates",
    "read_term_dates",
    "infer_half_terms",
    "term_window",
    "half_term_window",
]


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
                    tab[mask.to_numpy()].drop(columns=list(CALENDAR_KEYS), errors="ignore"),
                    source=self.source,
                )
        raise CalendarError(
            f"{self.source}: no term dates for urn={urn}, la_code={la_code} and no default calendar"
        )

    def _single(self) -> pd.DataFrame:
        keys = [c for c in CALENDAR_KEYS if c in self._table]
        if keys and len(self._table[keys].drop_duplicates()) > 1:
            raise CalendarError(
                f"{self.source} holds several calendars ({', '.join(keys)}); choose one with .select()"
            )
        return self._table

    def _row_of(self, dates: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        tab = self._single()
        days, nat = day_numbers(datetime_values(dates))
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

        rows = lookup(days, build)
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
        s = as_series(dates)
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
            "start": pd.to_datetime(table["start"], format="ISO8601").astype(UNIT).to_numpy(),
            "end": pd.to_datetime(table["end"], format="ISO8601").astype(UNIT).to_numpy(),
        }
    )


def _normalise_table(table: pd.DataFrame, source: str) -> pd.DataFrame:
    missing = [c for c in TERM_DATES_COLUMNS if c not in table]
    if missing:
        raise CalendarError(f"{source}: term dates table lacks columns {missing}")
    keys = [c for c in CALENDAR_KEYS if c in table]
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
    return TermDates(read_term_dates_table(path), source=str(path))


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
    s = as_series(dates)
    days, nat = day_numbers(datetime_values(s))
    if nat is not None:
        days = days[~nat]
    if days.size == 0:
        raise CalendarError("no register dates to infer half-terms from")
    uniq = distinct(days).astype("datetime64[D]")
    years = academic_years(pd.Series(uniq.astype(UNIT))).to_numpy()
    gap = np.busday_count(uniq[:-1] + 1, uniq[1:])
    new_block = np.r_[True, (gap >= min_gap_weekdays) | (years[1:] != years[:-1])]
    first = np.flatnonzero(new_block)
    last = np.r_[first[1:] - 1, uniq.size - 1]
    table = pd.DataFrame(
        {
            "academic_year": years[first],
            "start": uniq[first].astype(UNIT),
            "end": uniq[last].astype(UNIT),
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
    end = to_date(as_of, "as_of")
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
    end = to_date(as_of, "as_of")
    _, row = term_dates._latest_started(end)
    return Window(row["start"].date(), min(end, row["end"].date()), int(row["academic_year"]))
