"""Absence around each intervention start: the register by day, school weeks, episodes, panel.

Every design in :mod:`attendance_lib.impact` reads the register through a :class:`Register`:
per academic year, one row per enrolment (pupil at a school) and one column per day with marks,
holding absent, possible and unauthorised sessions (domain.md 2.1: possible = every session
whose code is not "not possible"; absent = authorised + unauthorised). Cumulative sums make the
sessions in any window one subtraction, so comparison pupils can be measured over exactly the
same days as the supported ones.

Weeks are **school weeks** of the pupil's own school: Monday-Sunday weeks in which the school
has at least one possible session (domain.md 4.1), numbered in order within the academic year.
Relative to an intervention that starts on day ``s``:

* week ``0`` is the start's school week **from the start day on** (the days of that week before
  the start belong to neither side);
* weeks ``1, 2, ...`` are the following school weeks, whole; weeks ``-1, -2, ...`` the school
  weeks before the start's week, whole;
* windows stop at the end of the academic year, the last date in the store and the pupil's
  leaving date (sessions off roll are simply not there).

So "the ``window_weeks`` school weeks after it began" is weeks ``0 .. window_weeks - 1``: the
same window the synthetic generator's ground truth uses (``ground_truth/effects.json``: "10
school weeks from the start date (the start's week is week 1)").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from attendance_lib.store import Store

__all__ = ["ImpactError", "YearRegister", "Register", "load_register", "load_episodes",
           "check_types",
           "window_sums", "weekly_panel", "pupil_characteristics", "year_group_in"]


class ImpactError(ValueError):
    """A user-facing problem with an impact analysis (no interventions, unknown type...)."""


def _rate(absent, possible) -> np.ndarray:
    absent = np.asarray(absent, float)
    possible = np.asarray(possible, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(possible > 0, 100.0 * absent / np.where(possible > 0, possible, 1),
                        np.nan)


@dataclass
class YearRegister:
    """One academic year of the register as dense arrays (rows = enrolments, columns = days)."""

    academic_year: int
    #: the days with any mark in the store this year (datetime64[D], sorted)
    days: np.ndarray
    upn: np.ndarray
    urn: np.ndarray
    #: index of each row's school in :attr:`urns`
    school: np.ndarray
    urns: np.ndarray
    #: cumulative absent / possible / unauthorised sessions, shape (rows, days + 1)
    cum_absent: np.ndarray
    cum_possible: np.ndarray
    cum_unauth: np.ndarray
    #: school-week number of each day at each school (schools x days), -1 = not a school week
    week: np.ndarray
    #: first and last day index of each school week (schools x weeks), -1 = no such week
    week_first: np.ndarray
    week_last: np.ndarray
    n_weeks: np.ndarray
    #: first day index (per school x day) on or after which the school has possible sessions
    next_open: np.ndarray
    #: number of the school's open days before each day (schools x days + 1), and the day
    #: index of each school's r-th open day (schools x max open days)
    open_rank: np.ndarray
    open_day: np.ndarray
    #: first and last day index on which each row has a mark (on roll)
    first_day: np.ndarray
    last_day: np.ndarray
    _row_index: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return len(self.upn)

    def row_of(self, upn, urn) -> np.ndarray:
        """Row index of each (upn, urn) pair, -1 when the enrolment has no marks this year."""
        if "rows" not in self._row_index:
            self._row_index["rows"] = {(u, s): i for i, (u, s) in enumerate(zip(self.upn, self.urn,
                                                                         strict=True))}
        idx = self._row_index["rows"]
        return np.array([idx.get((u, s), -1) for u, s in zip(upn, urn, strict=True)],
                        dtype=np.int64)

    def day_index(self, d) -> int:
        """Index of the first day with marks on or after ``d`` (``len(days)`` if none)."""
        return int(np.searchsorted(self.days, np.datetime64(pd.Timestamp(d).date(), "D")))

    def anchor(self, rows: np.ndarray, d) -> np.ndarray:
        """Each row's start day for a start on date ``d``; -1 if none.

        The first day with marks on or after ``d`` if it falls in one of the row's school's
        school weeks (so a start on an INSET day still has that week as its week 0), else the
        school's next day with possible sessions.
        """
        rows = np.asarray(rows, np.int64)
        i = self.day_index(d)
        if i >= len(self.days):
            return np.full(len(rows), -1, np.int64)
        s = self.school[rows]
        a = np.where(self.week[s, i] >= 0, i, self.next_open[s, i])
        return np.where(a < len(self.days), a, -1)

    def school_ytd_rate(self, rows: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The absence rate of each row's whole school from the year's start to ``day`` - 1."""
        if "school" not in self._row_index:
            S = len(self.urns)
            ca = np.zeros((S, self.cum_absent.shape[1]), np.int64)
            cp = np.zeros_like(ca)
            np.add.at(ca, self.school, self.cum_absent)
            np.add.at(cp, self.school, self.cum_possible)
            self._row_index["school"] = (ca, cp)
        ca, cp = self._row_index["school"]
        s = self.school[rows]
        day = np.clip(day, 0, len(self.days))
        return _rate(ca[s, day], cp[s, day])

    def last_days(self, rows: np.ndarray, day: np.ndarray, n: int):
        """(absent, possible) sessions over each row's school's last ``n`` open days before
        ``day``."""
        s = self.school[rows]
        day = np.clip(day, 0, len(self.days))
        r = self.open_rank[s, day]
        lo = np.where(r > 0, self.open_day[s, np.clip(r - n, 0, None)], day)
        return (self.cum_absent[rows, day] - self.cum_absent[rows, lo],
                self.cum_possible[rows, day] - self.cum_possible[rows, lo])

    def ytd(self, rows: np.ndarray, day: np.ndarray):
        """(absent, possible, unauthorised) sessions from the year's start to ``day`` - 1."""
        day = np.clip(day, 0, len(self.days))
        return (self.cum_absent[rows, day], self.cum_possible[rows, day],
                self.cum_unauth[rows, day])


@dataclass
class Register:
    """The register of every academic year in a store, and the store's last date."""

    years: dict[int, YearRegister]
    last_date: date | None
    start_month: int = 8

    def year_of(self, d) -> int:
        d = pd.Timestamp(d)
        return int(d.year - (1 if d.month < self.start_month else 0))

    def annual_rates(self, year: int) -> pd.DataFrame:
        """Absence rate per pupil (all schools) over a whole academic year: ``upn, absent,
        possible, absence_pct``; empty when the year is not in the store."""
        yr = self.years.get(year)
        if yr is None:
            return pd.DataFrame(columns=["upn", "absent", "possible", "absence_pct"])
        df = pd.DataFrame({"upn": yr.upn, "absent": yr.cum_absent[:, -1],
                           "possible": yr.cum_possible[:, -1]})
        df = df.groupby("upn", as_index=False)[["absent", "possible"]].sum()
        df["absence_pct"] = _rate(df["absent"], df["possible"])
        return df


#: the academic years with marks (on or before the as-of date)
_YEARS_SQL = """
SELECT DISTINCT academic_year::INTEGER AS y FROM marks WHERE date <= ? {years} ORDER BY y"""

#: one academic year's enrolments (pupil at a school) in (upn, urn) order: the register's rows
_ENROLMENTS_SQL = """
SELECT DISTINCT upn, urn FROM marks WHERE academic_year = ? AND date <= ? ORDER BY upn, urn"""

#: absent / possible / unauthorised sessions per row of that year's register and day, with
#: integers only (no per-row strings: an LA year is ~30 million enrolment-days)
_DAILY_SQL = """
WITH e AS (
    SELECT upn, urn, (row_number() OVER (ORDER BY upn, urn) - 1)::INTEGER AS r
    FROM (SELECT DISTINCT upn, urn FROM marks WHERE academic_year = ? AND date <= ?)
)
SELECT e.r, (d.date - DATE '1970-01-01')::INTEGER AS day, d.possible, d.absent, d.unauth
FROM (
    SELECT upn, urn, date,
           count(*) FILTER (WHERE category <> 'not_possible')::SMALLINT AS possible,
           count(*) FILTER (WHERE category IN ('authorised', 'unauthorised'))::SMALLINT
               AS absent,
           count(*) FILTER (WHERE category = 'unauthorised')::SMALLINT AS unauth
    FROM marks WHERE academic_year = ? AND date <= ? GROUP BY ALL
) d JOIN e USING (upn, urn)"""


def _as_of(as_of) -> date:
    if as_of in (None, ""):
        return date(9999, 12, 31)
    try:
        return pd.Timestamp(as_of).date()
    except (ValueError, TypeError) as exc:
        raise ImpactError(f"as_of {as_of!r} is not a date in the form YYYY-MM-DD") from exc


def _year_daily(store: Store, year: int, as_of: date):
    """One academic year: the enrolments (``upn``, ``urn`` in that order) and, per
    enrolment-day with marks, the row, day number and session counts (numpy arrays)."""
    enr = store.con.sql(_ENROLMENTS_SQL, params=[year, as_of]).to_arrow_table()
    tb = store.con.sql(_DAILY_SQL, params=[year, as_of, year, as_of]).to_arrow_table()
    cols = {c: tb.column(c).to_numpy() for c in ("r", "day", "possible", "absent", "unauth")}
    return (np.asarray(enr.column("upn").to_pylist(), dtype=object).astype(str),
            np.asarray(enr.column("urn").to_pylist(), dtype=object).astype(str), cols)


def _year_register(year: int, upn: np.ndarray, urn: np.ndarray, d: dict) -> YearRegister | None:
    if not len(d["r"]):
        return None
    days_num, d_idx = np.unique(d["day"], return_inverse=True)
    days = days_num.astype("datetime64[D]")
    codes = d["r"].astype(np.int64)
    n, D = len(upn), len(days)
    urns, school = np.unique(urn, return_inverse=True)

    def dense(col):
        m = np.zeros((n, D), np.int32)
        m[codes, d_idx] = d[col]
        c = np.zeros((n, D + 1), np.int32)
        np.cumsum(m, axis=1, out=c[:, 1:])
        return c, m

    cum_possible, poss = dense("possible")
    cum_absent, _ = dense("absent")
    cum_unauth, _ = dense("unauth")
    marked = np.zeros((n, D), bool)
    marked[codes, d_idx] = True
    first_day = np.argmax(marked, axis=1)
    last_day = D - 1 - np.argmax(marked[:, ::-1], axis=1)
    # school weeks per school: Monday-Sunday weeks with a possible session (domain.md 4.1)
    S = len(urns)
    open_ = np.zeros((S, D), bool)
    np.logical_or.at(open_, school, poss > 0)
    monday = days - ((days.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    week = np.full((S, D), -1, np.int64)
    n_weeks = np.zeros(S, np.int64)
    wmax = len(np.unique(monday))
    week_first = np.full((S, wmax), -1, np.int64)
    week_last = np.full((S, wmax), -1, np.int64)
    next_open = np.full((S, D + 1), D, np.int64)
    open_rank = np.zeros((S, D + 1), np.int64)
    np.cumsum(open_, axis=1, out=open_rank[:, 1:])
    open_day = np.zeros((S, max(int(open_.sum(axis=1).max()), 1)), np.int64)
    for s in range(S):
        od = np.flatnonzero(open_[s])
        open_day[s, :len(od)] = od
        open_mondays = np.unique(monday[open_[s]])
        w = np.searchsorted(open_mondays, monday)
        ok = (w < len(open_mondays)) & (open_mondays[np.minimum(w, len(open_mondays) - 1)]
                                        == monday) if len(open_mondays) else np.zeros(D, bool)
        week[s] = np.where(ok, w, -1)
        n_weeks[s] = len(open_mondays)
        for k in range(len(open_mondays)):
            idx = np.flatnonzero(ok & (w == k))
            week_first[s, k], week_last[s, k] = idx[0], idx[-1]
        nxt = D
        for d in range(D - 1, -1, -1):
            if open_[s, d]:
                nxt = d
            next_open[s, d] = nxt
    return YearRegister(year, days, upn, urn, school, urns, cum_absent, cum_possible,
                        cum_unauth, week, week_first, week_last, n_weeks, next_open,
                        open_rank, open_day, first_day, last_day)


def load_register(store: Store, years=None, as_of=None) -> Register:
    """Read the store's marks into a :class:`Register` (all academic years by default; only
    marks on or before ``as_of`` when given)."""
    store.require()
    cut = _as_of(as_of)
    if not store.has("marks"):
        raise ImpactError(f"{store.root}: the store holds no register marks")
    yrs = "" if years is None else (
        "AND academic_year IN (" + ", ".join(str(int(y)) for y in years) + ")")
    regs = {}
    for (y,) in store.con.execute(_YEARS_SQL.format(years=yrs), [cut]).fetchall():
        r = _year_register(int(y), *_year_daily(store, int(y), cut))
        if r is not None:
            regs[int(y)] = r
    last = max((r.days[-1] for r in regs.values()), default=None)
    return Register(regs, None if last is None else pd.Timestamp(last).date(),
                    store.start_month)


def load_episodes(store: Store, reg: Register, types=None, as_of=None) -> pd.DataFrame:
    """The store's interventions, each placed in the register.

    Returns one row per intervention: ``episode, upn, urn, type, start_date, end_date,
    academic_year, row`` (the enrolment's row in that year's register, -1 if it has no marks
    that year), ``anchor`` (day index of the first school day on or after the start, -1 if the
    start is after the last date in the store) and ``status`` (``ok`` or why it cannot be used).

    Raises
    ------
    ImpactError
        When the store holds no interventions, or ``types`` names a type it does not hold.
    """
    iv = store.interventions()
    if iv.empty:
        raise ImpactError(f"{store.root}: the store holds no interventions; load an "
                          f"intervention log with 'attendance ingest --interventions FILE'")
    iv = iv.copy()
    iv["type"] = iv["type"].astype(str)
    if types is not None:
        iv = iv[iv["type"].isin(check_types(iv, types))]
    iv["start_date"] = pd.to_datetime(iv["start_date"])
    iv = iv[iv["start_date"].dt.date <= _as_of(as_of)]
    if "end_date" not in iv:
        iv["end_date"] = pd.NaT
    iv["end_date"] = pd.to_datetime(iv["end_date"])
    iv = iv.sort_values(["type", "start_date", "urn", "upn"], kind="stable").reset_index(drop=True)
    iv["episode"] = np.arange(len(iv))
    iv["academic_year"] = [reg.year_of(d) for d in iv["start_date"]]
    iv["row"] = -1
    iv["anchor"] = -1
    iv["status"] = "ok"
    for y, idx in iv.groupby("academic_year").groups.items():
        yr = reg.years.get(int(y))
        if yr is None:
            iv.loc[idx, "status"] = "no marks that academic year"
            continue
        g = iv.loc[idx]
        rows = yr.row_of(g["upn"].astype(str), g["urn"].astype(str))
        iv.loc[idx, "row"] = rows
        anchors = np.full(len(g), -1, np.int64)
        for d, sub in pd.Series(np.arange(len(g))).groupby(g["start_date"].to_numpy()):
            ok = rows[sub.to_numpy()] >= 0
            anchors[sub.to_numpy()[ok]] = yr.anchor(rows[sub.to_numpy()[ok]], d)
        iv.loc[idx, "anchor"] = anchors
    iv.loc[(iv["row"] < 0) & (iv["status"] == "ok"), "status"] = "pupil has no marks that year"
    iv.loc[(iv["anchor"] < 0) & (iv["status"] == "ok"), "status"] = \
        "starts after the last school day in the store"
    return iv[["episode", "upn", "urn", "type", "start_date", "end_date", "academic_year",
               "row", "anchor", "status"]]


def check_types(episodes: pd.DataFrame, types=None) -> list[str]:
    """The types asked for (default: every type in ``episodes``), checked.

    Raises
    ------
    ImpactError
        Naming the unknown type(s) and the types the store holds.
    """
    known = sorted(episodes["type"].astype(str).unique())
    if types is None:
        return known
    types = [types] if isinstance(types, str) else list(types)
    unknown = [t for t in types if t not in known]
    if unknown:
        raise ImpactError(f"unknown intervention type {', '.join(map(repr, unknown))}; the "
                          f"store holds: {', '.join(known)}")
    return types


def window_sums(yr: YearRegister, rows: np.ndarray, anchor: np.ndarray, k1: int, k2: int,
                unauth: bool = True):
    """Absent, possible and unauthorised sessions over relative school weeks ``k1..k2``.

    ``k1 >= 0`` (after the start; week 0 counts from the anchor day) or ``k2 <= -1`` (whole
    weeks before the start's week). Weeks outside the academic year are left out. With
    ``unauth=False`` the third value is None (saves a pass over the register).
    """
    if k1 < 0 <= k2:
        raise ValueError("a window is either after the start (k1 >= 0) or before it (k2 < 0)")
    rows = np.asarray(rows, np.int64)
    anchor = np.asarray(anchor, np.int64)
    s = yr.school[rows]
    w0 = yr.week[s, anchor]
    nw = yr.n_weeks[s]
    lo_w = np.clip(w0 + k1, 0, None)
    hi_w = np.minimum(w0 + k2, nw - 1)
    empty = (lo_w > hi_w) | (anchor < 0) | (w0 < 0)
    lo_w = np.clip(lo_w, 0, yr.week_first.shape[1] - 1)
    hi_w = np.clip(hi_w, 0, yr.week_first.shape[1] - 1)
    lo = np.where(k1 == 0, anchor, yr.week_first[s, lo_w])
    hi = yr.week_last[s, hi_w]
    lo = np.where(empty, 0, lo)
    hi = np.where(empty, -1, hi)

    def take(c):
        return np.where(empty, 0, c[rows, hi + 1] - c[rows, lo])

    return (take(yr.cum_absent), take(yr.cum_possible),
            take(yr.cum_unauth) if unauth else None)


def weekly_panel(store: Store, *, weeks_before: int = 10, weeks_after: int = 10, types=None,
                 reg: Register | None = None) -> pd.DataFrame:
    """Weekly absence of each supported pupil around the start of their intervention.

    One row per intervention and relative school week ``-weeks_before .. weeks_after - 1``:
    ``episode, upn, urn, type, start_date, rel_week, possible, absent, absence_pct``
    (``absence_pct`` missing when the pupil had no possible session that week).
    """
    reg = reg or load_register(store)
    ep = load_episodes(store, reg, types)
    ep = ep[ep["status"] == "ok"]
    out = []
    for y, g in ep.groupby("academic_year"):
        yr = reg.years[int(y)]
        rows, anc = g["row"].to_numpy(), g["anchor"].to_numpy()
        for k in range(-weeks_before, weeks_after):
            a, p, _ = window_sums(yr, rows, anc, k, k)
            out.append(pd.DataFrame({"episode": g["episode"].to_numpy(), "rel_week": k,
                                     "possible": p, "absent": a}))
    if not out:
        return pd.DataFrame(columns=["episode", "upn", "urn", "type", "start_date", "rel_week",
                                     "possible", "absent", "absence_pct"])
    panel = pd.concat(out, ignore_index=True)
    panel["absence_pct"] = _rate(panel["absent"], panel["possible"])
    panel = panel.merge(ep[["episode", "upn", "urn", "type", "start_date"]], on="episode")
    return panel[["episode", "upn", "urn", "type", "start_date", "rel_week", "possible",
                  "absent", "absence_pct"]].sort_values(["episode", "rel_week"]) \
        .reset_index(drop=True)


def year_group_in(dob: pd.Series, academic_year: int) -> pd.Series:
    """National curriculum year group in ``academic_year`` from the date of birth: the age on
    31 August before the year starts, minus 4 (Reception = 0, Year 1 = age 5)."""
    dob = pd.to_datetime(pd.Series(dob), errors="coerce")
    age = academic_year - dob.dt.year - (dob.dt.month > 8).astype(float)
    return (age - 4).astype(float)


def pupil_characteristics(store: Store) -> pd.DataFrame:
    """Per enrolment (upn, urn): the characteristics the designs match and split on.

    ``fsm, sen_support, ehc, sen_any, social_worker, looked_after, eal`` (booleans, False when
    the pupils file does not say), ``phase`` (from the schools file) and ``date_of_birth``.
    """
    p = store.pupils()
    out = pd.DataFrame({"upn": p["upn"].astype(str), "urn": p["urn"].astype(str)})

    def flag(col):
        if col not in p:
            return np.zeros(len(p), bool)
        v = p[col]
        if v.dtype == bool:
            return v.to_numpy()
        return v.astype(str).str.upper().isin(["TRUE", "Y", "YES", "1", "T"]).to_numpy()

    sen = p["sen_provision"].astype(str).str.upper().to_numpy() if "sen_provision" in p else \
        np.full(len(p), "N")
    out["fsm"] = flag("fsm_eligible")
    out["sen_support"] = sen == "K"
    out["ehc"] = sen == "E"
    out["sen_any"] = out["sen_support"] | out["ehc"]
    out["social_worker"] = flag("has_social_worker")
    out["looked_after"] = flag("looked_after")
    out["eal"] = flag("eal")
    out["date_of_birth"] = pd.to_datetime(p["date_of_birth"], errors="coerce") \
        if "date_of_birth" in p else pd.NaT
    sch = store.schools()
    phase = dict(zip(sch["urn"].astype(str), sch["phase"].astype(str), strict=True)) \
        if "phase" in sch else {}
    out["phase"] = out["urn"].map(phase).fillna("unknown")
    return out.drop_duplicates(["upn", "urn"]).reset_index(drop=True)
