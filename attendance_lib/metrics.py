"""DfE-exact attendance measures (domain.md section 2; product.md "Metrics").

Definitions (domain.md 2.1):

* possible sessions = present (``/ \\ L``) + approved educational activity + authorised +
  unauthorised absence (and, in 2020/21-2021/22 only, COVID ``X``); not-possible codes are left
  out of numerator and denominator;
* overall absence rate = (authorised + unauthorised) / possible x 100; the authorised and
  unauthorised rates share that denominator;
* persistent absence (PA): an enrolment whose absence is **>= 10%** of its *own* possible
  sessions; severe absence (SA): >= 50% (SA pupils are also PA). The comparison is done in
  integers (``absent * 10 >= possible``) so exactly 10.0% is PA whatever the float rounding;
* the unit is the enrolment (a pupil at a school); enrolments with no possible sessions are left
  out (domain.md 2.2).

Year to date means from the start of the academic year containing ``as_of`` (1 Aug by default,
domain.md 7) to ``as_of`` inclusive.

All functions read the store's enrolment x week pre-aggregate and only touch marks for the
partial weeks at either end of a window, so they stay fast at LA scale; a window holding a whole
academic year's marks (the usual year to date) is read from the per-year totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd

from .store import Store

__all__ = [
    "COUNT_COLUMNS",
    "PUPIL_SUMMARY_COLUMNS",
    "SCHOOL_SUMMARY_COLUMNS",
    "LA_SUMMARY_COLUMNS",
    "COHORTS",
    "ytd_window",
    "enrolment_counts",
    "add_rates",
    "enrolment_summary",
    "group_summary",
    "school_summary",
    "la_summary",
    "cohort_summary",
    "weekly_summary",
    "reason_breakdown",
    "summary",
    "pupil_summary",
    "period_summary",
    "legal_threshold",
    "legal_threshold_status",
]

COUNT_COLUMNS = ["possible", "present", "aea", "authorised", "unauthorised", "covid",
                 "late_before", "late_after", "legal_unauth"]
PUPIL_SUMMARY_COLUMNS = ["upn", "urn", "possible_sessions", "present_sessions", "aea_sessions",
                         "authorised_sessions", "unauthorised_sessions", "overall_absence_pct",
                         "persistent_absence", "severe_absence"]
LA_SUMMARY_COLUMNS = ["enrolments", "possible_sessions", "authorised_sessions",
                      "unauthorised_sessions", "overall_absence_pct", "pa_count", "pa_pct",
                      "sa_count", "sa_pct"]
SCHOOL_SUMMARY_COLUMNS = ["urn"] + LA_SUMMARY_COLUMNS
#: pupil characteristics the cohort breakdowns know (product.md, "Inputs")
COHORTS = ("fsm_eligible", "sen_provision", "eal", "sex", "year_group", "ethnicity",
           "has_social_worker", "looked_after")


def _date(d) -> date:
    return pd.Timestamp(d).date()


def ytd_window(as_of, start_month: int = 8) -> tuple[date, date]:
    """(first day of the academic year containing ``as_of``, ``as_of``)."""
    d = _date(as_of)
    year = d.year if d.month >= start_month else d.year - 1
    return date(year, start_month, 1), d


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def enrolment_counts(store: Store, start, end) -> pd.DataFrame:
    """Session counts per enrolment (``upn, urn``) for marks dated ``start``..``end``.

    Whole weeks come from the pre-aggregate; the (at most two) weeks cut by the window's ends
    are counted from the marks themselves, so the result is exact for any window.
    """
    start, end = _date(start), _date(end)
    cols = ", ".join(f"sum({c})::BIGINT AS {c}" for c in COUNT_COLUMNS)
    if not store.has("enrolment_weeks"):
        return pd.DataFrame(columns=["upn", "urn", *COUNT_COLUMNS])
    year = _whole_year(store, start, end)
    if year is not None:  # every mark of one academic year and no other: its totals
        return _counts_frame(store.query(f"""
            WITH y AS (
                SELECT pid, gid, {cols} FROM enrolment_years WHERE academic_year = ?
                GROUP BY pid, gid
            )
            SELECT upn, urn, {", ".join(COUNT_COLUMNS)} FROM y
            JOIN upn_ids USING (pid) JOIN urn_ids USING (gid) ORDER BY urn, upn""", [year]))
    edge = sorted({_monday(start), _monday(end)})
    edge_sql = ", ".join(f"DATE '{d}'" for d in edge)
    edge_range = " OR ".join(f"date BETWEEN DATE '{d}' AND DATE '{d + timedelta(days=6)}'"
                             for d in edge)
    mark_cols = ", ".join([
        "count(*) FILTER (WHERE category <> 'not_possible') AS possible",
        "count(*) FILTER (WHERE category = 'present') AS present",
        "count(*) FILTER (WHERE category = 'aea') AS aea",
        "count(*) FILTER (WHERE category = 'authorised') AS authorised",
        "count(*) FILTER (WHERE category = 'unauthorised') AS unauthorised",
        "count(*) FILTER (WHERE category = 'covid_not_attending') AS covid",
        "count(*) FILTER (WHERE code = 'L') AS late_before",
        "count(*) FILTER (WHERE code = 'U') AS late_after",
        "count(*) FILTER (WHERE code IN ('G', 'N', 'O', 'U')) AS legal_unauth",
    ])
    partial = store.con.execute(
        f"SELECT count(*) FROM enrolment_weeks WHERE week_start IN ({edge_sql}) AND "
        f"((first_date < ? AND last_date >= ?) OR (first_date <= ? AND last_date > ?))",
        [start, start, end, end]).fetchone()[0]
    if partial == 0:  # every enrolment-week lies wholly inside or outside the window
        week_filter = "first_date >= ? AND last_date <= ? AND week_start BETWEEN ? AND ?"
        week_params = [start, end, _monday(start), end]
        edge_part = ""
        edge_params = []
    else:
        week_filter = f"week_start BETWEEN ? AND ? AND week_start NOT IN ({edge_sql})"
        week_params = [_monday(start), end]
        edge_part = f"""UNION ALL
            SELECT upn, urn, {mark_cols} FROM marks
            WHERE date BETWEEN ? AND ? AND ({edge_range})
            GROUP BY upn, urn"""
        edge_params = [start, end]
    sql = f"""
        WITH w AS (
            SELECT pid, gid, {cols} FROM enrolment_weeks WHERE {week_filter}
            GROUP BY pid, gid
        ), parts AS (
            SELECT upn, urn, {", ".join(COUNT_COLUMNS)} FROM w
            JOIN upn_ids USING (pid) JOIN urn_ids USING (gid)
            {edge_part}
        )
        SELECT upn, urn, {cols} FROM parts GROUP BY upn, urn ORDER BY urn, upn"""
    return _counts_frame(store.query(sql, week_params + edge_params))


def _counts_frame(df: pd.DataFrame) -> pd.DataFrame:
    for c in COUNT_COLUMNS:
        df[c] = df[c].fillna(0).astype("int64")
    df["upn"] = df["upn"].astype("string")
    df["urn"] = df["urn"].astype("string")
    return df


def _whole_year(store: Store, start: date, end: date) -> int | None:
    """The academic year whose marks the window ``start``..``end`` holds all of, and no mark of
    any other year (a year to date on or after the year's last mark), when the store keeps
    per-year totals; else None. Such a window is answered from ``enrolment_years``."""
    if not store.has("enrolment_years"):
        return None
    sm = store.start_month
    year = start.year if start.month >= sm else start.year - 1
    if start != date(year, sm, 1) or end >= date(year + 1, sm, 1):
        return None
    last = store.con.execute("SELECT max(last_date) FROM enrolment_years WHERE "
                             "academic_year = ?", [year]).fetchone()[0]
    return year if last is not None and end >= last else None


def add_rates(df: pd.DataFrame) -> pd.DataFrame:
    """Add absence, rates and the PA / SA flags to a frame of per-enrolment counts."""
    absent = df["authorised"] + df["unauthorised"]
    poss = df["possible"].where(df["possible"] > 0)
    return df.assign(
        absent=absent,
        overall_absence_pct=absent / poss * 100,
        authorised_pct=df["authorised"] / poss * 100,
        unauthorised_pct=df["unauthorised"] / poss * 100,
        attendance_pct=(df["present"] + df["aea"]) / poss * 100,
        persistent_absence=(absent * 10 >= df["possible"]) & (df["possible"] > 0),
        severe_absence=(absent * 2 >= df["possible"]) & (df["possible"] > 0),
    )


def enrolment_summary(store: Store, as_of=None, *, start=None, end=None) -> pd.DataFrame:
    """Per-enrolment counts, rates and PA/SA flags for a window (default: year to date).

    Enrolments with no possible sessions in the window are left out (domain.md 2.2).
    A ``start`` without ``end`` runs to ``as_of`` (default: the latest date in the store); an
    ``end`` without ``start`` is the year to date at ``end``.
    """
    if start is None or end is None:
        as_of = end if end is not None else (as_of or store.latest_date())
        if as_of is None:
            return add_rates(pd.DataFrame(columns=["upn", "urn", *COUNT_COLUMNS], dtype="int64"))
        ytd_start, end = ytd_window(as_of, store.start_month)
        start = ytd_start if start is None else start
    df = enrolment_counts(store, start, end)
    df = df[df["possible"] > 0].reset_index(drop=True)
    return add_rates(df)


def _pupil_table(enr: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "upn": enr["upn"], "urn": enr["urn"],
        "possible_sessions": enr["possible"], "present_sessions": enr["present"],
        "aea_sessions": enr["aea"], "authorised_sessions": enr["authorised"],
        "unauthorised_sessions": enr["unauthorised"],
        "overall_absence_pct": enr["overall_absence_pct"],
        "persistent_absence": enr["persistent_absence"],
        "severe_absence": enr["severe_absence"],
    })


def group_summary(enr: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """School/LA-style totals from an enrolment summary, grouped by ``by`` (empty = one row)."""
    by = list(by)
    g = enr.assign(_one=1)
    agg = {"enrolments": ("_one", "sum"), "possible_sessions": ("possible", "sum"),
           "present_sessions": ("present", "sum"), "aea_sessions": ("aea", "sum"),
           "authorised_sessions": ("authorised", "sum"),
           "unauthorised_sessions": ("unauthorised", "sum"),
           "pa_count": ("persistent_absence", "sum"), "sa_count": ("severe_absence", "sum")}
    if by:
        out = g.groupby(by, dropna=False, observed=True).agg(**agg).reset_index()
    else:
        out = pd.DataFrame({k: [g[src].sum()] for k, (src, _) in agg.items()})
    for c in agg:
        out[c] = out[c].astype("int64")
    poss = out["possible_sessions"].where(out["possible_sessions"] > 0)
    ab = out["authorised_sessions"] + out["unauthorised_sessions"]
    enr_n = out["enrolments"].where(out["enrolments"] > 0)
    out["overall_absence_pct"] = ab / poss * 100
    out["authorised_pct"] = out["authorised_sessions"] / poss * 100
    out["unauthorised_pct"] = out["unauthorised_sessions"] / poss * 100
    out["pa_pct"] = out["pa_count"] / enr_n * 100
    out["sa_pct"] = out["sa_count"] / enr_n * 100
    order = by + [c for c in LA_SUMMARY_COLUMNS if c not in by] + [
        "present_sessions", "aea_sessions", "authorised_pct", "unauthorised_pct"]
    return out[order]


def school_summary(enr: pd.DataFrame) -> pd.DataFrame:
    return group_summary(enr, ["urn"]).sort_values("urn").reset_index(drop=True)


def la_summary(enr: pd.DataFrame) -> pd.DataFrame:
    return group_summary(enr, [])


def cohort_summary(enr: pd.DataFrame, pupils: pd.DataFrame, by: str,
                   extra_by: Sequence[str] = ()) -> pd.DataFrame:
    """Totals by a pupil characteristic (e.g. ``fsm_eligible``), joined on ``upn, urn``.

    Pupils with no value for the characteristic form their own group (shown as missing), so the
    groups always add up to the total.
    """
    if by not in pupils.columns:
        raise KeyError(f"the pupils data has no {by!r} column; known: {', '.join(pupils.columns)}")
    cols = dict.fromkeys(["upn", "urn", by, *[c for c in extra_by if c in pupils.columns]])
    p = pupils[list(cols)].copy()
    p["upn"] = p["upn"].astype("string")
    p["urn"] = p["urn"].astype("string")
    m = enr.merge(p, on=["upn", "urn"], how="left", validate="one_to_one")
    return group_summary(m, [*extra_by, by])


def weekly_summary(store: Store, start, end, by: Sequence[str] = ("urn",)) -> pd.DataFrame:
    """Sessions and absence rate per school week (Monday) in ``start``..``end``.

    Uses whole weeks from the pre-aggregate; weeks cut by the window's ends count only the days
    inside it.
    """
    start, end = _date(start), _date(end)
    by_sql = "".join(f"{b}, " for b in by)
    if not store.has("enrolment_weeks"):  # nothing loaded yet
        return pd.DataFrame(columns=[*by, "week_start", "possible", "authorised",
                                     "unauthorised", "absent", "absence_pct"])
    sql = f"""
        SELECT {by_sql}week_start, sum(possible)::BIGINT AS possible,
               sum(authorised)::BIGINT AS authorised, sum(unauthorised)::BIGINT AS unauthorised
        FROM (
            SELECT {by_sql}week_start, possible, authorised, unauthorised FROM enrolment_weeks
            WHERE week_start BETWEEN ? AND ? AND week_start NOT IN (?, ?)
            UNION ALL
            SELECT {by_sql}date_trunc('week', date)::DATE AS week_start,
                   (category <> 'not_possible')::INT, (category = 'authorised')::INT,
                   (category = 'unauthorised')::INT
            FROM marks WHERE date BETWEEN ? AND ?
              AND (date BETWEEN ? AND ? + 6 OR date BETWEEN ? AND ? + 6)
        ) GROUP BY ALL ORDER BY ALL"""
    e1, e2 = _monday(start), _monday(end)
    df = store.query(sql, [e1, end, e1, e2, start, end, e1, e1, e2, e2])
    df["week_start"] = pd.to_datetime(df["week_start"])
    df["absent"] = df["authorised"] + df["unauthorised"]
    df["absence_pct"] = df["absent"] / df["possible"].where(df["possible"] > 0) * 100
    return df


def reason_breakdown(store: Store, start, end, by: Sequence[str] = ()) -> pd.DataFrame:
    """Sessions by register code, with each code's rate (of possible sessions) and share of
    all absence (domain.md 2.1 "Absence by reason").

    One row per code and category: a code whose category changed between the academic years
    in the window (COVID ``X`` in 2020/21-2021/22, not possible later) has a row for each.
    """
    start, end = _date(start), _date(end)
    by_sql = "".join(f"{b}, " for b in by)
    df = store.query(
        f"SELECT {by_sql}code, category, count(*)::BIGINT AS sessions "
        f"FROM marks WHERE date BETWEEN ? AND ? GROUP BY ALL ORDER BY ALL", [start, end])
    keys = list(by) or ["_all"]
    g = df.assign(_all=0,
                  _poss=df["sessions"].where(df["category"] != "not_possible", 0),
                  _abs=df["sessions"].where(df["category"].isin(["authorised", "unauthorised"]),
                                            0)).groupby(keys)
    poss, absn = g["_poss"].transform("sum"), g["_abs"].transform("sum")
    df["rate_pct"] = df["sessions"] / poss.where(poss > 0) * 100
    is_abs = df["category"].isin(["authorised", "unauthorised"])
    df["share_of_absence_pct"] = (df["sessions"] / absn.where(absn > 0) * 100).where(is_abs)
    return df


def summary(store: Store, level: str, as_of=None) -> pd.DataFrame:
    """The CLI's summary tables: ``pupil`` (one row per enrolment), ``school`` or ``la``."""
    enr = enrolment_summary(store, as_of)
    if level == "pupil":
        return _pupil_table(enr)
    if level == "school":
        return school_summary(enr)[SCHOOL_SUMMARY_COLUMNS]
    if level == "la":
        return la_summary(enr)[LA_SUMMARY_COLUMNS]
    raise ValueError(f"level must be pupil, school or la, not {level!r}")


def pupil_summary(enr: pd.DataFrame) -> pd.DataFrame:
    """One row per pupil across all their enrolments in the window (a pupil who moved school
    counts once here). DfE statistics are enrolment-based (domain.md 2.2); this pupil view is
    for following one child across schools, not for comparison with published PA rates."""
    g = enr.groupby("upn", observed=True)
    counts = g[COUNT_COLUMNS].sum().reset_index()
    schools = g["urn"].agg(lambda s: ",".join(sorted(map(str, s)))).rename("urns")
    return add_rates(counts.merge(schools, on="upn"))


def period_summary(store: Store, as_of, period: str = "ytd", term_dates=None) -> pd.DataFrame:
    """Enrolment summary for the year, term, half-term or week to date containing ``as_of``.

    ``period`` is ``ytd``, ``term``, ``half_term`` or ``week``. Terms come from ``term_dates``
    (a :class:`attendance_lib.term_dates.TermDates`) or, when not given, are inferred from the
    dates the store's registers were taken on (breaks of a week or more separate half-terms).
    """
    from . import term_dates as td

    as_of = _date(as_of)
    if period == "ytd":
        return enrolment_summary(store, as_of)
    if period == "week":
        return enrolment_summary(store, start=_monday(as_of), end=as_of)
    if period not in ("term", "half_term"):
        raise ValueError(f"period must be ytd, term, half_term or week, not {period!r}")
    if term_dates is None:
        start, _ = ytd_window(as_of, store.start_month)
        dates = store.query("SELECT DISTINCT date FROM marks WHERE date BETWEEN ? AND ? "
                            "AND category <> 'not_possible'", [start, as_of])["date"]
        term_dates = td.infer_half_terms(pd.to_datetime(dates))
    win = (td.term_window if period == "term" else td.half_term_window)(as_of, term_dates)
    return enrolment_summary(store, start=win.start, end=win.end)


def _threshold_marks(store: Store, as_of) -> pd.DataFrame:
    """The unauthorised (G/N/O/U) marks up to ``as_of`` plus one placeholder possible session
    (a Sunday, where no real mark can be) for every enrolment-week with a possible session on
    or before ``as_of`` (the current, unfinished week counts once it has begun for the pupil).

    The 10-in-10 rule only needs which weeks were school weeks for the pupil and where the
    unauthorised sessions fell (domain.md 4.1), so this is exact and far smaller than the marks.
    """
    as_of = _date(as_of)
    legal = store.query(
        "SELECT upn, urn, date, session, code, category FROM marks WHERE date <= ? "
        "AND code IN ('G', 'N', 'O', 'U')", [as_of])
    weeks = store.query(
        "SELECT upn, u.urn, (week_start + 6)::DATE AS date, 'PM' AS session, '/' AS code, "
        "'present' AS category FROM enrolment_weeks w JOIN upn_ids USING (pid) "
        "JOIN urn_ids u USING (gid) WHERE first_date <= ? AND possible > 0 "
        "GROUP BY ALL", [as_of])
    out = pd.concat([legal, weeks], ignore_index=True)
    out["date"] = pd.to_datetime(out["date"])
    return out


def legal_threshold(store: Store, as_of=None) -> pd.DataFrame:
    """Enrolments that reached the penalty-notice threshold (10 unauthorised sessions, G/N/O/U,
    within any rolling 10 school weeks; domain.md 4.1) on or before ``as_of``, with the date."""
    from .patterns import legal_threshold as _legal

    as_of = as_of or store.latest_date()
    return _legal(_threshold_marks(store, as_of))


def legal_threshold_status(store: Store, as_of=None) -> pd.DataFrame:
    """For every enrolment: unauthorised sessions in its latest 10 school weeks up to ``as_of``,
    whether that is at the threshold now, and when (if ever) it was first reached."""
    from .patterns import legal_threshold_status as _status

    as_of = _date(as_of or store.latest_date())
    # the placeholder for the current (unfinished) week is dated on its Sunday: count it
    week_end = as_of + timedelta(days=6 - as_of.weekday())
    return _status(_threshold_marks(store, as_of), week_end)
