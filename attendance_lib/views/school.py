"""The school report's content: pure functions from a school's store to tables.

Every function takes the school's :class:`~attendance_lib.store.Store` as returned by
:func:`attendance_lib.privacy.school_store` (restricted to the one school) and an as-of date,
and returns a DataFrame; the template only shows them. Figures are DfE-exact (domain.md 2.1):
overall absence = (authorised + unauthorised) / possible sessions; persistent absence (PA) is an
enrolment missing 10% or more of its own possible sessions, severe absence (SA) 50% or more;
"year to date" runs from 1 Aug (the store's academic-year start) to the as-of date.

The LA and England columns of the headline table come from aggregate-only functions
(:func:`attendance_lib.views.la.la_headline`, :func:`attendance_lib.views.published.
published_benchmark`), so the school report never holds another school's pupil rows.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from .. import bands, codes, metrics
from ..legal import LEGAL_THRESHOLD_SESSIONS, LEGAL_THRESHOLD_WEEKS
from ..store import Store
from . import cohorts as _cohorts
from . import format as fmt
from ._pupils import attach_details, on_roll
from .published import Benchmark
from .report_params import long_date

__all__ = [
    "HEADLINE_ROWS",
    "headline",
    "headline_table",
    "headline_note",
    "weekly_trend",
    "trend_sentence",
    "cohort_gaps",
    "reasons",
    "day_session",
    "day_session_grid",
    "attendance_band_counts",
    "legal_threshold_pupils",
    "social_worker_unexplained",
    "UNEXPLAINED_CODES",
    "data_quality_warnings",
]

#: the headline figures, in order: (row label, column of :func:`headline`, kind)
HEADLINE_ROWS = (
    ("Enrolments", "enrolments", "count"),
    ("Overall absence", "overall_absence_pct", "pct"),
    ("Authorised absence", "authorised_pct", "pct"),
    ("Unauthorised absence", "unauthorised_pct", "pct"),
    ("Persistent absence (10% or more of sessions missed)", "pa_pct", "pct"),
    ("Severe absence (50% or more of sessions missed)", "sa_pct", "pct"),
    ("Persistently absent pupils", "pa_count", "count"),
    ("Severely absent pupils", "sa_count", "count"),
)
#: codes of unexplained absence: N (reason not yet established) and O (other or unknown
#: circumstances) (domain.md 1.1); schools tell a pupil's social worker about unexplained
#: absence (WTISA para 52, domain.md 5)
UNEXPLAINED_CODES = ("N", "O")
_HEADLINE_COLUMNS = ["enrolments", "possible_sessions", "overall_absence_pct", "authorised_pct",
                     "unauthorised_pct", "pa_count", "pa_pct", "sa_count", "sa_pct"]


def _ytd(store: Store, as_of) -> tuple[date, date]:
    return metrics.ytd_window(as_of, store.start_month)


def headline(store: Store, as_of) -> pd.DataFrame:
    """One row of year-to-date figures for the store's pupils: ``enrolments,
    possible_sessions, overall_absence_pct, authorised_pct, unauthorised_pct, pa_count, pa_pct,
    sa_count, sa_pct`` (no pupil rows)."""
    enr = metrics.enrolment_summary(store, as_of)
    return metrics.la_summary(enr)[_HEADLINE_COLUMNS].reset_index(drop=True)


def headline_table(school: pd.DataFrame, la: pd.DataFrame | None, england: Benchmark | None,
                   as_of) -> pd.DataFrame:
    """The headline table as printed: first column ``Headline``, then ``This school``,
    ``LA`` and the England column (named after the published row, e.g. ``England
    (primary)``), values already formatted (``7.14%``, ``1,234``).

    The last row, ``Year to date to``, gives the as-of date (``14 Nov 2025``). England has no
    published severe-absence rate in the attendance collection, so that cell is ``–``.
    """
    cols = {"This school": school.iloc[0] if len(school) else None,
            "LA": la.iloc[0] if la is not None and len(la) else None}
    eng = england.row("England") if england is not None else None
    eng_name = str(eng["name"]) if eng is not None else "England"
    rows = []
    for label, key, kind in HEADLINE_ROWS:
        row = {"Headline": label}
        for name, src in cols.items():
            v = None if src is None else src.get(key)
            row[name] = fmt.pct(v) if kind == "pct" else fmt.count(v)
        ev = eng.get(key) if eng is not None and kind == "pct" else None
        row[eng_name] = fmt.pct(ev)
        rows.append(row)
    rows.append({"Headline": "Year to date to", "This school": long_date(pd.Timestamp(
        as_of).date()), "LA": long_date(pd.Timestamp(as_of).date()),
        eng_name: "see note" if eng is not None else fmt.MISSING})
    return pd.DataFrame(rows)


def headline_note(england: Benchmark | None) -> str:
    """What the headline table's LA and England columns cover, in words."""
    parts = ["LA: every school in the store, same period."]
    eng = england.row("England") if england is not None else None
    if eng is None:
        parts.append("England: no published figures found.")
    else:
        basis = eng["absence_basis"] if eng["absence_basis"] == eng["pa_basis"] else \
            f"absence rates from {eng['absence_basis']}; PA from {eng['pa_basis']}"
        parts.append(f"England: {basis}; DfE publishes no severe-absence rate in this "
                     f"collection.")
    if england is not None:
        parts.extend(england.notes)
    return " ".join(parts)


def weekly_trend(store: Store, as_of) -> pd.DataFrame:
    """Weekly absence this year to date beside the same weeks a year earlier.

    "The same week" last year is 52 weeks (364 days) earlier, so Mondays line up; a week that
    was a holiday then has no rate. Returns ``week_start, absence_pct, possible,
    last_year_week_start, last_year_absence_pct``.
    """
    start, end = _ytd(store, as_of)
    now = metrics.weekly_summary(store, start, end, by=())
    then = metrics.weekly_summary(store, start - timedelta(days=364), end - timedelta(days=364),
                                  by=())
    then = then.assign(week_start=then["week_start"] + pd.Timedelta(days=364))
    out = now[["week_start", "absence_pct", "possible"]].merge(
        then[["week_start", "absence_pct"]].rename(columns={"absence_pct":
                                                            "last_year_absence_pct"}),
        on="week_start", how="left")
    out.insert(3, "last_year_week_start", out["week_start"] - pd.Timedelta(days=364))
    return out[out["possible"] > 0].reset_index(drop=True)


def trend_sentence(trend: pd.DataFrame) -> str:
    """One sentence comparing this year's weeks with the same weeks last year."""
    both = trend.dropna(subset=["absence_pct", "last_year_absence_pct"])
    if trend.empty:
        return "There are no school weeks yet this year."
    if both.empty:
        return "There is no data for the same weeks last year to compare with."
    w = both["possible"]
    now = (both["absence_pct"] * w).sum() / w.sum()
    then = (both["last_year_absence_pct"] * w).sum() / w.sum()
    diff = now - then
    way = "higher than" if diff > 0.05 else "lower than" if diff < -0.05 else "the same as"
    last = trend.iloc[-1]
    return (f"Over the {len(both)} weeks that can be compared, absence averaged {now:.1f}%, "
            f"{way} the {then:.1f}% of the same weeks last year ({diff:+.1f} points). In the "
            f"latest week (beginning {long_date(last['week_start'].date())}) it was "
            f"{last['absence_pct']:.1f}%.")


def cohort_gaps(store: Store, as_of,
                cohorts=_cohorts.REPORT_COHORTS) -> pd.DataFrame:
    """Year-to-date absence and PA by cohort group with gaps to the school's other pupils
    (:func:`attendance_lib.views.cohorts.cohort_gaps`); ``attrs["missing"]`` lists the
    cohorts the pupils file has no column for."""
    pupils = store.pupils()
    out = _cohorts.cohort_gaps(metrics.enrolment_summary(store, as_of), pupils, cohorts)
    out.attrs["missing"] = [c for c in cohorts if c not in pupils.columns]
    return out


def reasons(store: Store, as_of) -> pd.DataFrame:
    """Absence by register code, year to date: ``code, meaning, category, sessions, rate_pct``
    (of possible sessions) and ``share_of_absence_pct`` (domain.md 2.1 "Absence by reason"),
    largest first; absence codes only."""
    start, end = _ytd(store, as_of)
    r = metrics.reason_breakdown(store, start, end)
    r = r[r["category"].isin([codes.AUTHORISED, codes.UNAUTHORISED])]
    r = r.groupby(["code", "category"], as_index=False)[
        ["sessions", "rate_pct", "share_of_absence_pct"]].sum()
    year = start.year
    meanings = codes.code_set(year, include_withdrawn=True)
    r.insert(1, "meaning", [meanings[c].meaning if c in meanings else "" for c in r["code"]])
    r["category"] = r["category"].str.capitalize()
    return r.sort_values(["sessions", "code"], ascending=[False, True]).reset_index(drop=True)


def day_session(store: Store, as_of) -> pd.DataFrame:
    """Absence rate by weekday and session (AM/PM), year to date: ``weekday`` (0 = Monday),
    ``weekday_name, session, possible, absent, absence_pct`` (domain.md 2.1, 5)."""
    start, end = _ytd(store, as_of)
    df = store.query(
        "SELECT (isodow(date) - 1)::INT AS weekday, session, "
        "count(*) FILTER (WHERE category <> 'not_possible')::BIGINT AS possible, "
        "count(*) FILTER (WHERE category IN ('authorised', 'unauthorised'))::BIGINT AS absent "
        "FROM marks WHERE date BETWEEN ? AND ? GROUP BY ALL ORDER BY ALL", [start, end])
    grid = pd.MultiIndex.from_product([range(5), ["AM", "PM"]],
                                      names=["weekday", "session"]).to_frame(index=False)
    df = grid.merge(df, on=["weekday", "session"], how="outer")
    df[["possible", "absent"]] = df[["possible", "absent"]].fillna(0).astype("int64")
    df = df[(df["weekday"] < 5) | (df["possible"] > 0)]
    df.insert(1, "weekday_name", [date(2024, 1, 1 + int(d)).strftime("%A") for d in
                                  df["weekday"]])
    df["absence_pct"] = df["absent"] / df["possible"].where(df["possible"] > 0) * 100
    return df.reset_index(drop=True)


def day_session_grid(day: pd.DataFrame) -> pd.DataFrame:
    """:func:`day_session` as a weekday x AM/PM grid of absence rates (the heatmap's data)."""
    g = day.pivot(index="weekday_name", columns="session", values="absence_pct")
    order = day.drop_duplicates("weekday").sort_values("weekday")["weekday_name"]
    g = g.reindex(order)
    g.index.name, g.columns.name = "Day", "Session"
    return g


def attendance_band_counts(store: Store, as_of) -> pd.DataFrame:
    """Enrolments by attendance band, year to date (:data:`attendance_lib.bands.
    ATTENDANCE_BANDS`, lowest attendance first): ``band, stage, pupils, pct_of_pupils``.
    Bands come from session counts, so exactly 90% attendance is persistent absence."""
    enr = metrics.enrolment_summary(store, as_of)
    band = bands.band_from_counts(enr["absent"], enr["possible"]) if len(enr) else \
        pd.Series([], dtype=pd.CategoricalDtype(list(bands.ATTENDANCE_BANDS), ordered=True))
    n = band.value_counts().reindex(list(bands.ATTENDANCE_BANDS), fill_value=0)
    total = int(n.sum())
    return pd.DataFrame({
        "band": list(bands.ATTENDANCE_BANDS),
        "stage": [bands.ATTENDANCE_BAND_STAGES[b] for b in bands.ATTENDANCE_BANDS],
        "pupils": n.to_numpy().astype("int64"),
        "pct_of_pupils": n.to_numpy() / total * 100 if total else float("nan"),
    })


def legal_threshold_pupils(store: Store, as_of) -> pd.DataFrame:
    """Pupils on roll at the national penalty-notice threshold now: 10 or more unauthorised
    sessions (G, N, O, U) in their latest 10 school weeks (domain.md 4.1).

    Returns ``upn, urn``, the pupil's details, ``sessions_in_window, window_start_week,
    last_school_week, date_first_reached``, most sessions first.
    """
    st = metrics.legal_threshold_status(store, as_of)
    st = st[st["at_threshold"]]
    pupils = store.pupils()
    roll = pupils[on_roll(pupils, as_of)][["upn", "urn"]].astype("string")
    st = st.astype({"upn": "string", "urn": "string"}).merge(roll, on=["upn", "urn"])
    out = attach_details(st[["upn", "urn", "sessions_in_window", "window_start_week",
                             "last_school_week", "date_reached"]], pupils)
    out = out.rename(columns={"date_reached": "date_first_reached"}).sort_values(
        ["sessions_in_window", "upn"], ascending=[False, True]).reset_index(drop=True)
    out.attrs["note"] = (f"Threshold: {LEGAL_THRESHOLD_SESSIONS} or more sessions of "
                         f"unauthorised absence (codes G, N, O, U) within the pupil's latest "
                         f"{LEGAL_THRESHOLD_WEEKS} school weeks; the national framework says "
                         f"a penalty notice must then be considered.")
    return out


def social_worker_unexplained(store: Store, as_of, weeks: int = 4) -> pd.DataFrame:
    """Pupils with a social worker who have unexplained absence (codes N or O) in the last
    ``weeks`` weeks to ``as_of``: the school should tell the social worker (WTISA para 52,
    domain.md 5).

    Returns ``upn, urn``, the pupil's details, ``unexplained_sessions`` (N + O in the window),
    ``n_sessions, o_sessions, last_unexplained`` (date) and ``unexplained_ytd``. Empty with
    ``attrs["note"]`` explaining when the pupils file has no ``has_social_worker`` column.
    """
    pupils = store.pupils()
    cols = ["upn", "urn", "unexplained_sessions", "n_sessions", "o_sessions",
            "last_unexplained", "unexplained_ytd"]
    if "has_social_worker" not in pupils.columns:
        out = pd.DataFrame(columns=cols)
        out.attrs["note"] = ("The pupils file has no has_social_worker column, so pupils with a "
                             "social worker cannot be picked out.")
        return out
    has_sw = pd.Series([_cohorts.group_label("has_social_worker", v) == "Has a social worker"
                        for v in pupils["has_social_worker"]], index=pupils.index, dtype=bool)
    sw = pupils[has_sw & on_roll(pupils, as_of)]
    ytd_start, end = _ytd(store, as_of)
    start = max(end - timedelta(days=7 * int(weeks) - 1), ytd_start)
    if sw.empty:
        return pd.DataFrame(columns=cols)
    upns = sw["upn"].astype(str).tolist()
    marks = store.query(
        "SELECT upn, urn, date, code FROM marks WHERE date BETWEEN ? AND ? AND code IN ('N', 'O')"
        f" AND upn IN ({', '.join('?' * len(upns))})", [ytd_start, end, *upns])
    marks["date"] = pd.to_datetime(marks["date"])
    recent = marks[marks["date"] >= pd.Timestamp(start)]
    g = recent.groupby(["upn", "urn"]).agg(
        unexplained_sessions=("code", "size"), n_sessions=("code", lambda s: int((s == "N").sum())),
        o_sessions=("code", lambda s: int((s == "O").sum())),
        last_unexplained=("date", "max")).reset_index()
    ytd = marks.groupby(["upn", "urn"]).size().rename("unexplained_ytd").reset_index()
    g = g.merge(ytd, on=["upn", "urn"], how="left")
    out = attach_details(g, pupils).sort_values(["unexplained_sessions", "upn"],
                                                ascending=[False, True]).reset_index(drop=True)
    out.attrs["note"] = (f"Unexplained absence: codes N (reason not yet established) and O "
                         f"(other or unknown circumstances) from {long_date(start)} to "
                         f"{long_date(end)}.")
    return out


def data_quality_warnings(store: Store, as_of) -> pd.DataFrame:
    """Data problems that affect this school's figures, year to date: ``Check, Finding,
    What to do`` (one row per check, "None found" when clean)."""
    from . import quality

    start, end = _ytd(store, as_of)
    rows = []
    miss = quality.missing_marks(store, as_of)
    n_miss = int(miss["missing"].sum()) if len(miss) else 0
    weeks = int((miss["missing"] > 0).sum()) if len(miss) else 0
    rows.append(("Missing marks", f"{n_miss:,} pupil-sessions with no mark in {weeks} week(s)"
                 if n_miss else "None found",
                 "Complete the register for pupils on roll on days registers were taken."
                 if n_miss else ""))
    unres = quality.unresolved_n(store, as_of)
    n_old = int(unres["n_unresolved"].sum()) if len(unres) else 0
    rows.append(("Unresolved N codes", f"{n_old:,} N marks (reason not yet established) older "
                 f"than {quality.N_GRACE_SCHOOL_DAYS} school days" if n_old else "None found",
                 "Find the reason and replace N with the right code." if n_old else ""))
    q = quality.quarantine_reasons(store)
    n_q = int(q["rows"].sum()) if len(q) else 0
    rows.append(("Rows not loaded (quarantined)",
                 f"{n_q:,} rows: " + "; ".join(f"{r} ({n:,})" for r, n in zip(q["reason"],
                                                                                 q["rows"],
                                                                                 strict=True))
                 if n_q else "None found",
                 "Ask the LA data team for the quarantine file and correct the export."
                 if n_q else ""))
    pupils = store.pupils()
    gaps = [c for c in _cohorts.REPORT_COHORTS if c not in pupils.columns]
    empty = [c for c in _cohorts.REPORT_COHORTS if c in pupils.columns and
             pupils[c].isna().mean() > 0.05]
    text = "; ".join([f"no {c} column" for c in gaps] +
                     [f"{c} missing for {pupils[c].isna().mean() * 100:.0f}% of pupils"
                      for c in empty])
    rows.append(("Pupil characteristics", text or "Complete",
                 "Send a full census-style pupils file." if text else ""))
    out = pd.DataFrame(rows, columns=["Check", "Finding", "What to do"])
    out.attrs["note"] = f"Checked from {long_date(start)} to {long_date(end)}."
    return out
