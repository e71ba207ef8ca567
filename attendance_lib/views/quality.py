"""Data quality: what was loaded and quarantined, missing marks, codes in use, unresolved N.

One concept: can the figures be trusted (product.md, "Reports": data quality report). Every
function reads the store (:class:`~attendance_lib.store.Store`, LA-wide or restricted to one
school, whose limits it respects) and returns aggregate tables: no UPN, no raw rows. The
quarantine files keep the raw rows (with UPNs) for the data team; these tables only count them
by reason.

* **Loads**: the store's load log (``store.json``) with rows read, rows loaded (rows in the
  load's marks file) and rows quarantined (rows of the quarantine files naming the file); read =
  loaded + quarantined for every load (product.md, "Inputs").
* **Missing marks**: a school's calendar is the set of (date, session) on which it took any
  register (a mark for any pupil, closures ``#`` included). Every enrolment on roll on such a
  day (from its admission to its leaving date in the pupils file) is expected to have a mark;
  missing = expected - marked.
* **Codes in use** against the academic year's code set (domain.md 1.1-1.3; ``codes.py``);
  codes outside the set never reach the store (quarantined as "unknown code"), so they are
  counted from the quarantine.
* **Unresolved N**: ``N`` (reason not yet established) is temporary; a third-party source says
  it should be replaced within 5 days (domain.md 1.1, limit UNCONFIRMED), so N marks older than
  :data:`N_GRACE_SCHOOL_DAYS` school days (weekdays) before the as-of date count as unresolved.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .. import codes, metrics
from ..academic_year import academic_year_label
from ..store import Store

__all__ = ["N_GRACE_SCHOOL_DAYS", "load_log", "quarantine_reasons", "missing_marks",
           "missing_by_school", "codes_in_use", "unresolved_n"]

#: N marks older than this many school days (weekdays) count as unresolved (domain.md 1.1)
N_GRACE_SCHOOL_DAYS = 5
_UNKNOWN_CODE = re.compile(r"code '([^']*)' is not in the (\d{4}) code set")


def _ytd(store: Store, as_of) -> tuple[date, date]:
    return metrics.ytd_window(as_of, store.start_month)


def _quarantine(store: Store) -> pd.DataFrame:
    """Every quarantined row: ``file, reason`` (the text before the first ':'), ``detail``
    (the full reason) and ``urn`` (found in the raw row, when it names one of the store's
    schools), restricted to the store's schools when the store is."""
    folder = store.root / "quarantine"
    frames = []
    for p in sorted(folder.glob("*.csv")) if folder.exists() else []:
        q = pd.read_csv(p, dtype=str, keep_default_na=False)
        if len(q):
            frames.append(q.reindex(columns=["file", "reason", "raw"], fill_value=""))
    if not frames:
        return pd.DataFrame(columns=["file", "reason", "detail", "urn"])
    q = pd.concat(frames, ignore_index=True)
    known = set(Store(store.root).schools()["urn"].astype(str))
    urn = [next((t for t in re.split(r"[^0-9A-Za-z]+", str(raw)) if t in known), None)
           for raw in q["raw"]]
    out = pd.DataFrame({"file": q["file"], "reason": q["reason"].str.split(":").str[0].str.strip(),
                        "detail": q["reason"], "urn": urn})
    if store.urns is not None:
        out = out[out["urn"].isin(store.urns)]
    return out.reset_index(drop=True)


def load_log(store: Store) -> pd.DataFrame:
    """One row per loaded marks file, then quarantine-only files: ``file`` (name), ``loaded_at,
    rows_read, rows_loaded, rows_quarantined, balanced`` (read = loaded + quarantined)."""
    q = _quarantine(Store(store.root))
    qn = q.groupby("file").size()
    rows, seen = [], set()
    for entry in store.settings.get("loads", []):
        given = entry.get("given", entry.get("file", ""))
        path = store.root / "marks" / f"{entry['id']}.parquet"
        loaded = pq.ParquetFile(path).metadata.num_rows if path.exists() else 0
        nq = int(qn.get(given, 0))
        seen.add(given)
        rows.append({"file": Path(given).name, "loaded_at": entry.get("loaded_at", ""),
                     "rows_read": int(entry.get("rows_read", loaded + nq)),
                     "rows_loaded": int(loaded), "rows_quarantined": nq})
    for given, nq in qn.items():
        if given not in seen:
            rows.append({"file": Path(given).name, "loaded_at": "", "rows_read": int(nq),
                         "rows_loaded": 0, "rows_quarantined": int(nq)})
    out = pd.DataFrame(rows, columns=["file", "loaded_at", "rows_read", "rows_loaded",
                                      "rows_quarantined"])
    out["balanced"] = out["rows_read"] == out["rows_loaded"] + out["rows_quarantined"]
    return out


def quarantine_reasons(store: Store, *, by_school: bool = False) -> pd.DataFrame:
    """Quarantined rows by reason (``reason, rows``; with ``by_school`` also ``urn``, missing
    when the raw row names no known school), most first."""
    q = _quarantine(store)
    keys = ["urn", "reason"] if by_school else ["reason"]
    if q.empty:
        return pd.DataFrame(columns=[*keys, "rows"])
    out = q.groupby(keys, dropna=False).size().rename("rows").reset_index()
    return out.sort_values(["rows", *keys], ascending=[False] + [True] * len(keys),
                           na_position="last").reset_index(drop=True)


def missing_marks(store: Store, as_of, start=None) -> pd.DataFrame:
    """Expected and recorded marks by school and week, year to date (see module docstring).

    Returns ``urn, week_start, expected, marked, missing, missing_pct``, one row per school
    week in which the school took any register.
    """
    ytd_start, end = _ytd(store, as_of)
    start = pd.Timestamp(start).date() if start is not None else ytd_start
    cols = ["urn", "week_start", "expected", "marked", "missing", "missing_pct"]
    if not store.has("marks") or not store.has("pupils"):
        return pd.DataFrame(columns=cols)
    pcols = set(store.query("SELECT * FROM pupils LIMIT 0").columns)
    adm = "admission_date::DATE" if "admission_date" in pcols else "NULL::DATE"
    leave = "leaving_date::DATE" if "leaving_date" in pcols else "NULL::DATE"
    df = store.query(f"""
        WITH sess AS (SELECT DISTINCT urn, date, session FROM marks WHERE date BETWEEN ? AND ?),
        roll AS (SELECT upn::VARCHAR AS upn, urn::VARCHAR AS urn, {adm} AS a, {leave} AS l
                 FROM pupils),
        exp AS (SELECT r.upn, s.urn, s.date, s.session FROM sess s JOIN roll r
                ON r.urn = s.urn AND (r.a IS NULL OR s.date >= r.a)
                AND (r.l IS NULL OR s.date <= r.l)),
        got AS (SELECT upn, urn, date, session FROM marks WHERE date BETWEEN ? AND ?)
        SELECT e.urn, date_trunc('week', e.date)::DATE AS week_start,
               count(*)::BIGINT AS expected, count(g.upn)::BIGINT AS marked
        FROM exp e LEFT JOIN got g USING (upn, urn, date, session)
        GROUP BY ALL ORDER BY ALL""", [start, end, start, end])
    df["week_start"] = pd.to_datetime(df["week_start"])
    df["missing"] = df["expected"] - df["marked"]
    df["missing_pct"] = df["missing"] / df["expected"].where(df["expected"] > 0) * 100
    return df[cols]


def missing_by_school(missing: pd.DataFrame) -> pd.DataFrame:
    """:func:`missing_marks` summed per school: ``urn, weeks, weeks_with_missing, expected,
    marked, missing, missing_pct``."""
    g = missing.groupby("urn").agg(
        weeks=("week_start", "size"), weeks_with_missing=("missing", lambda s: int((s > 0).sum())),
        expected=("expected", "sum"), marked=("marked", "sum"), missing=("missing", "sum"))
    g["missing_pct"] = g["missing"] / g["expected"].where(g["expected"] > 0) * 100
    return g.reset_index()


def codes_in_use(store: Store, as_of) -> pd.DataFrame:
    """Register codes used in the as-of year and the year before, against each year's set.

    Returns one row per code: ``code, meaning, category``, one ``sessions <year>`` column per
    year (e.g. ``sessions 2025/26``) and ``status``: "in the code set", "withdrawn" (kept only
    so older data reconcile, domain.md 1.3) or "not in the code set (quarantined)".
    """
    start, end = _ytd(store, as_of)
    years = [start.year - 1, start.year]
    lo = date(years[0], store.start_month, 1)
    used = store.query(
        "SELECT academic_year::INT AS year, code, count(*)::BIGINT AS sessions FROM marks "
        "WHERE date BETWEEN ? AND ? GROUP BY ALL", [lo, end])
    q = _quarantine(store)
    bad = q["detail"].str.extract(_UNKNOWN_CODE)
    bad = bad.dropna().rename(columns={0: "code", 1: "set"})
    rows = {}
    for y in years:
        cs = codes.code_set(y, include_withdrawn=True)
        for c, n in used[used["year"] == y][["code", "sessions"]].itertuples(index=False):
            info = cs.get(c)
            r = rows.setdefault(c, {"code": c, "meaning": info.meaning if info else "",
                                    "category": info.category if info else "",
                                    "status": ("withdrawn" if info and info.withdrawn else
                                               "in the code set" if info else
                                               "not in the code set")})
            r[f"sessions {academic_year_label(y)}"] = int(n)
    for c, n in bad.groupby("code").size().items():
        r = rows.setdefault(c, {"code": c, "meaning": "", "category": "",
                                "status": "not in the code set (quarantined)"})
        r["quarantined rows"] = int(n)
    cols = ["code", "meaning", "category", *[f"sessions {academic_year_label(y)}"
                                             for y in years], "quarantined rows", "status"]
    out = pd.DataFrame(list(rows.values())).reindex(columns=cols)
    for c in cols[3:-1]:
        out[c] = out[c].fillna(0).astype("int64")
    out["category"] = out["category"].str.replace("_", " ")
    this_year = f"sessions {academic_year_label(years[-1])}"
    return out.sort_values([this_year, "code"], ascending=[False, True]).reset_index(drop=True)


def unresolved_n(store: Store, as_of, grace: int = N_GRACE_SCHOOL_DAYS) -> pd.DataFrame:
    """``N`` marks by school, year to date: ``urn, n_marks, n_unresolved`` (older than
    ``grace`` school days before ``as_of``), ``pupils_unresolved`` (enrolments with one) and
    ``oldest`` (date of the oldest unresolved N)."""
    start, end = _ytd(store, as_of)
    cutoff = np.busday_offset(np.datetime64(end, "D"), -int(grace), roll="backward")
    cutoff = pd.Timestamp(cutoff).date()
    df = store.query(
        "SELECT urn, count(*)::BIGINT AS n_marks, "
        "count(*) FILTER (WHERE date < ?)::BIGINT AS n_unresolved, "
        "count(DISTINCT upn) FILTER (WHERE date < ?)::BIGINT AS pupils_unresolved, "
        "min(date) FILTER (WHERE date < ?) AS oldest "
        "FROM marks WHERE code = 'N' AND date BETWEEN ? AND ? GROUP BY urn ORDER BY urn",
        [cutoff, cutoff, cutoff, start, end])
    df["oldest"] = pd.to_datetime(df["oldest"])
    df.attrs["cutoff"] = cutoff
    return df
