"""England, region and LA figures from DfE's published attendance collection, for comparison.

The reports set a school's or an LA's year-to-date figures beside the published ones ("Pupil
attendance in schools", the attendance data collection; domain.md 3.2, ``../shared/data/dfe``).
Published periods rarely match an as-of date exactly, so each figure says what it covers
(``basis``), and the closest honest period is chosen:

* overall, authorised and unauthorised absence: the **same weeks** of the same academic year
  from the published weekly file when it reaches to within two weeks of ``as_of`` (session
  counts summed over the weeks, so the rate is possible-session weighted, domain.md 2.1); else
  the published **full year** of the same academic year; else the latest full year published;
* persistent absence (never published weekly, domain.md 2.2): the published year-to-date PA
  rate at the same week where a file has it; else the full year as above. Early in the year PA
  year to date runs higher than the full-year figure (fewer sessions per pupil), so a school's
  autumn PA against a full-year figure is flagged in ``basis``.

An LA is found by the schools' ``la_code`` (:func:`attendance_lib.io.dfe.find_la`). A code DfE
does not know (the synthetic LA's ``999``) gives England only, and the notes say why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..academic_year import academic_year_label, academic_year_of
from ..io import dfe

__all__ = ["Benchmark", "published_benchmark", "PHASE_NAMES"]

#: the store's phase -> the published ``school_type`` (education phase)
PHASE_NAMES = {"primary": "Primary", "secondary": "Secondary", "special": "Special"}
_COUNTS = ("possible_sessions", "overall_absence", "authorised_absence", "unauthorised_absence")
_WEEK = re.compile(r"Week (\d+)$")
_MAX_GAP = timedelta(days=14)


@dataclass
class Benchmark:
    """Published comparison figures: ``table`` has one row per geography (``level``, ``name``,
    ``overall_absence_pct``, ``authorised_pct``, ``unauthorised_pct``, ``pa_pct``,
    ``absence_basis``, ``pa_basis``); ``notes`` say what could not be shown and why."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    la_name: str | None = None
    region_name: str | None = None

    def row(self, level: str) -> pd.Series | None:
        hit = self.table[self.table["level"] == level]
        return None if hit.empty else hit.iloc[0]


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _week_monday(period: str, ident: str) -> date | None:
    m = _WEEK.match(str(ident))
    if not m:
        return None
    try:
        return date.fromisocalendar(int(str(period)[:4]), int(m.group(1)), 1)
    except ValueError:
        return None


def _select(frame: pd.DataFrame, level: str, phase: str, la=None, region=None) -> pd.DataFrame:
    """Rows of one geography and phase; "Total" falls back to the three phases' rows (LA rows
    of some files have no Total), which :func:`_rates` and :func:`_pa` then combine."""
    f = frame[frame["geographic_level"] == level]
    if la is not None:
        f = dfe.la_rows(f, la)
    if region is not None:
        f = f[f["region_code"] == region]
    hit = f[f["school_type"] == phase]
    if hit.empty and phase == "Total":
        hit = f[f["school_type"].isin(list(PHASE_NAMES.values()))]
    return hit


def _pa(rows: pd.DataFrame, column: str) -> float | None:
    """The PA rate of the rows: one row's value, or the enrolment-weighted mean of phases."""
    if rows.empty:
        return None
    pa = pd.to_numeric(rows[column], errors="coerce")
    if len(rows) == 1:
        return pa.iloc[0]
    if "enrolments" not in rows.columns:
        return None
    w = pd.to_numeric(rows["enrolments"], errors="coerce")
    ok = pa.notna() & w.notna()
    return float((pa[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() and w[ok].sum() > 0 else None


def _rates(rows: pd.DataFrame) -> dict:
    sums = {c: pd.to_numeric(rows[c], errors="coerce").sum(min_count=1) for c in _COUNTS}
    poss = sums["possible_sessions"]
    if pd.isna(poss) or poss <= 0:
        return {}
    return {"overall_absence_pct": sums["overall_absence"] / poss * 100,
            "authorised_pct": sums["authorised_absence"] / poss * 100,
            "unauthorised_pct": sums["unauthorised_absence"] / poss * 100}


@lru_cache(maxsize=8)
def _collection(kind: str, year: int, folder: str) -> pd.DataFrame:
    """One attendance-collection file, read once per process (the frames are only read)."""
    return dfe.attendance_collection(kind, year, folder=folder).frame


@lru_cache(maxsize=4)
def _published(path: str) -> pd.DataFrame:
    return dfe.read_published(Path(path), file_label="persistent absence year to date").frame


def _weekly(year: int, as_of: date, folder) -> tuple[pd.DataFrame, str] | None:
    try:
        frame = _collection("weekly", year, folder)
    except dfe.PublishedDataError:
        return None
    mondays = [_week_monday(p, i) for p, i in zip(frame["time_period"], frame["time_identifier"],
                                                  strict=True)]
    frame = frame.assign(_monday=mondays)
    keep = frame["_monday"].notna() & (frame["_monday"] <= _monday(as_of))
    keep &= frame["_monday"].map(lambda d: d is not None and academic_year_of(d) == year)
    frame = frame[keep]
    if frame.empty or _monday(as_of) - max(frame["_monday"]) > _MAX_GAP:
        return None
    first, last = min(frame["_monday"]), max(frame["_monday"])
    basis = (f"published weekly data, weeks beginning {first:%d %b %Y} to {last:%d %b %Y} "
             f"({academic_year_label(year)})")
    return frame, basis


def _ytd(year: int, folder) -> tuple[pd.DataFrame, int] | None:
    """The full-year published file of ``year``, else of the nearest year published (the
    latest earlier one, else the earliest later one)."""
    years = sorted({int(m.group(1)[:4]) for p in dfe.attendance_files("ytd", folder=folder)
                    if (m := re.match(r"attendance_ytd_(\d{6})_", p.name))})
    if not years:
        return None
    earlier = [y for y in years if y <= year]
    pick = earlier[-1] if earlier else years[0]
    return _collection("ytd", pick, folder), pick


def _pa_same_week(as_of: date, folder) -> pd.DataFrame | None:
    files = sorted((dfe.published_folder(folder) / "ees_pupil_attendance").glob(
        "attendance_persistent_absence_ytd_*.csv.gz"))
    for p in files:
        frame = _published(str(p))
        if "education_phase" in frame.columns and "school_type" not in frame.columns:
            frame = frame.rename(columns={"education_phase": "school_type"})
        frame = frame.assign(school_type=frame["school_type"].replace({"All schools": "Total"}))
        mondays = [_week_monday(a, b) for a, b in zip(frame["time_period"],
                                                      frame["time_identifier"], strict=True)]
        frame = frame.assign(_monday=mondays)
        hit = frame[frame["_monday"].notna() & (frame["_monday"] <= _monday(as_of))]
        hit = hit[hit["_monday"].map(lambda d: academic_year_of(d) == academic_year_of(as_of))]
        if not hit.empty and _monday(as_of) - max(hit["_monday"]) <= _MAX_GAP:
            last = max(hit["_monday"])
            return hit[hit["_monday"] == last]
    return None


def published_benchmark(as_of: date, *, phase: str | None = None, la_code: str | None = None,
                        folder: str | Path | None = None) -> Benchmark:
    """England (and, for a known LA, its region and the LA) as published, near ``as_of``.

    Parameters
    ----------
    as_of : date
        The report's as-of date; its academic year (1 Aug-31 Jul) picks the files.
    phase : str, optional
        ``primary``, ``secondary`` or ``special`` for that phase's figures; else all schools.
    la_code : str, optional
        The LA's old 3-digit code or E-code (the schools' ``la_code``).
    folder : optional
        The published DfE folder (default :func:`attendance_lib.paths.dfe_dir`).

    Returns
    -------
    Benchmark
        Rows in order England, region, LA (those available).
    """
    as_of = pd.Timestamp(as_of).date()
    year = academic_year_of(as_of)
    folder = str(dfe.published_folder(folder).resolve())
    ptype = PHASE_NAMES.get(str(phase).lower(), "Total") if phase else "Total"
    notes: list[str] = []
    la = region = None
    if la_code:
        try:
            la = dfe.find_la(str(la_code), folder=folder)
        except dfe.UnknownLAError:
            notes.append(f"LA code {la_code} is not in DfE's list of local authorities (a "
                         f"synthetic or test LA?), so only England is shown.")
    weekly = _weekly(year, as_of, folder)
    ytd = _ytd(year, folder)
    pa_week = _pa_same_week(as_of, folder)
    if ytd is None and weekly is None:
        notes.append("No published attendance-collection file was found; nothing to compare.")
        return Benchmark(pd.DataFrame(columns=["level", "name", "overall_absence_pct",
                                               "authorised_pct", "unauthorised_pct", "pa_pct",
                                               "absence_basis", "pa_basis"]), notes)
    ytd_frame, ytd_year = ytd if ytd is not None else (None, None)
    full_basis = ""
    if ytd_year == year:
        full_basis = f"published full year {academic_year_label(ytd_year)}"
    elif ytd_year is not None:
        full_basis = (f"published full year {academic_year_label(ytd_year)} (nearest year "
                      f"published; {academic_year_label(year)} is not)")
    if la is not None and ytd_frame is not None:
        la_rows = dfe.la_rows(ytd_frame[ytd_frame["geographic_level"] == "Local authority"], la)
        if not la_rows.empty and pd.notna(la_rows.iloc[0].get("region_code")):
            region = la_rows.iloc[0]["region_code"]
            region_name = la_rows.iloc[0]["region_name"]
        else:
            region_name = None
    else:
        region_name = None
    geos = [("England", "England", {})]
    if region is not None:
        geos.append(("Region", str(region_name), {"region": region}))
    if la is not None:
        geos.append(("LA", la.la_name, {"la": la}))
    rows = []
    for level, name, sel in geos:
        glevel = {"England": "National", "Region": "Regional", "LA": "Local authority"}[level]
        row = {"level": level, "name": name}
        rates = {}
        if weekly is not None:
            rates = _rates(_select(weekly[0], glevel, ptype, **sel))
            row["absence_basis"] = weekly[1]
        if not rates and ytd_frame is not None:
            rates = _rates(_select(ytd_frame, glevel, ptype, **sel))
            row["absence_basis"] = full_basis
        row.update(rates)
        pa = None
        if pa_week is not None:
            hit = _select(pa_week, glevel, ptype, **sel)
            pa = _pa(hit, "persistent_absence_percent")
            if pa is not None and pd.notna(pa):
                row["pa_basis"] = (f"published year to date at week beginning "
                                   f"{hit['_monday'].iloc[0]:%d %b %Y}")
        if (pa is None or pd.isna(pa)) and ytd_frame is not None:
            pa = _pa(_select(ytd_frame, glevel, ptype, **sel), "pa_perc")
            if pa is not None and pd.notna(pa):
                row["pa_basis"] = full_basis + (" (PA year to date early in a year runs "
                                                "higher than the full-year figure)"
                                                if ytd_year == year else "")
        row["pa_pct"] = pa
        if len(row) > 2:
            rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=["level", "name", "overall_absence_pct",
                                                "authorised_pct", "unauthorised_pct", "pa_pct",
                                                "absence_basis", "pa_basis"])
    if ptype != "Total":
        table["name"] = table["name"] + f" ({ptype.lower()})"
    return Benchmark(table, notes, la_name=la.la_name if la else None,
                     region_name=region_name)
