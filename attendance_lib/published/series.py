"""An LA against its region and England over every published year, with the series breaks.

One concept: the long-run series and where it is not comparable. :func:`la_series` gathers the
LA's, its region's and England's overall absence and persistent-absence (PA) rates from three
published sources, one point per year, source and geography:

* **school census** (``census_absence_geographies``), 2006/07-2018/19: session counts and PA
  (10%+) counts; the rate is recomputed from the counts (it equals the published rate,
  domain.md 9);
* **school census, absence distributions** (``absence_bands``), 2020/21-2022/23 (LA rows from
  2021/22): PA = enrolments in the bands from 10% up / all enrolments (PA only; the years
  2016/17-2018/19 repeat the census figures exactly and are not repeated);
* **attendance data collection** (full-year files), 2022/23 onwards: ``overall_absence_perc``
  and ``pa_perc`` as published. LA rows carry an all-phase ``Total`` only from 2025/26; for
  earlier years the LA total is *derived*: overall absence from the summed session counts,
  PA as the ``total_enrolments``-weighted mean of the phase rates, which is exactly how the
  published national and regional ``Total`` rows of 2022/23-2024/25 combine their phases
  (checked on all 30 such rows; difference 0.000 points).

:data:`BREAKS` lists where the series changes meaning (five vs six half-terms, the PA
threshold, COVID, the source, the 2024 register codes); every point carries a ``segment``
so that a chart draws each comparable stretch as its own line (:mod:`.plots`).
Suppressed cells (``c`` ...) are kept as points with ``status = "suppressed"`` and no value,
never as zero (domain.md 2.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attendance_lib.io import dfe

from .data import CENSUS_PHASES, PHASES, Sources, year_label

__all__ = ["SeriesBreak", "BREAKS", "MEASURES", "la_series", "breaks_table", "headline",
           "SOURCE_CENSUS", "SOURCE_DISTRIBUTIONS", "SOURCE_COLLECTION"]

SOURCE_CENSUS = "school census"
SOURCE_DISTRIBUTIONS = "school census (absence distributions)"
SOURCE_COLLECTION = "attendance data collection"
MEASURES = {"overall_absence": "Overall absence rate (%)",
            "persistent_absence": "Persistent absence rate (%)"}
_GEOGRAPHIES = ("LA", "Region", "England")
_BAND_PA = ("pct15_OARate", "pct20_OARate", "pct25_OARate", "pct30_OARate", "pct35_OARate",
            "pct40_OARate", "pct45_OARate", "pct50_OARate", "pct50plus_OARate")
_BAND_ALL = ("pct5_OARate", "pct10_OARate", *_BAND_PA)


@dataclass(frozen=True)
class SeriesBreak:
    """A year from which a published series changes meaning (the first year of the new regime).

    ``measures`` are the measures whose line is split there; ``span`` marks a stretch of years
    (``time_period`` codes, inclusive) rather than a single change.
    """

    time_period: str
    kind: str
    title: str
    note: str
    measures: tuple[str, ...] = tuple(MEASURES)
    span: tuple[str, str] | None = None


#: where the published series are not comparable (domain.md 1.2, 1.3, 2.1, 2.2, 3)
BREAKS = (
    SeriesBreak("201213", "half_terms", "Six half-terms from 2012/13",
                "Full-year census figures covered five half-terms up to 2011/12 (the second "
                "half of the summer term was not collected) and all six from 2012/13 "
                "(domain.md 2.2). Rates either side are not comparable."),
    SeriesBreak("201516", "pa_threshold", "PA threshold: 10% 'exact' from 2015/16",
                "DfE's headline persistent-absence measure was 20% (to 2009/10), then 15% "
                "(2010/11-2014/15) and, from 2015/16, 10% of each enrolment's own possible "
                "sessions (domain.md 2.1). The census file here publishes the 10% count for "
                "every year, but figures quoted before 2015/16 used the older thresholds.",
                measures=("persistent_absence",)),
    SeriesBreak("201920", "covid", "COVID-19: 2019/20 to 2021/22",
                "No full-year absence statistics for 2019/20 (schools closed from March 2020). "
                "In 2020/21 and 2021/22 sessions coded X (not attending for COVID reasons) were "
                "possible sessions but not absence (domain.md 1.2); only PA from the absence "
                "distributions is in the files for these years.",
                span=("201920", "202122")),
    SeriesBreak("202223", "source", "Attendance data collection from 2022/23",
                "From 2022/23 the figures come from daily registers shared by schools (the "
                "attendance data collection; voluntary until 2024/25, mandatory after), not the "
                "school census. 2022/23 is published from both; the two are drawn separately "
                "(domain.md 2.2)."),
    SeriesBreak("202425", "codes_2024", "2024 register codes from 2024/25",
                "The 2024 regulations changed the codes from 19 August 2024: interviews (J1) "
                "moved from attendance to authorised absence, holidays are C not H, "
                "part-time timetables are C2, K is new (domain.md 1.3)."),
)


def _segment(source: str, measure: str, period: str) -> str:
    """The comparable stretch a point belongs to (points of one segment may be joined)."""
    if source == SOURCE_CENSUS:
        if period < "201213":
            return "census, five half-terms"
        if measure == "persistent_absence" and period < "201516":
            return "census, six half-terms, before the 10% headline"
        return "census, six half-terms"
    if source == SOURCE_DISTRIBUTIONS:
        return "census distributions, COVID years" if period <= "202122" \
            else "census distributions"
    return "collection, 2024 codes" if period >= "202425" else "collection, pre-2024 codes"


def _point(period, source, geography, area, phase, measure, num, den, value=None,
           status=None) -> dict:
    num = None if num is None or pd.isna(num) else float(num)
    den = None if den is None or pd.isna(den) else float(den)
    if value is None:
        value = num / den * 100 if num is not None and den else np.nan
    value = np.nan if value is None or pd.isna(value) else float(value)
    if status is None:
        status = "suppressed" if np.isnan(value) else "published"
    return {"time_period": str(period), "year": year_label(period), "source": source,
            "geography": geography, "area": area, "phase": phase, "measure": measure,
            "value": value, "numerator": num, "denominator": den, "status": status,
            "segment": _segment(source, measure, str(period))}


# ------------------------------------------------------------------------------ census
def _census(sources: Sources, la: dfe.LocalAuthority, phase: str) -> list[dict]:
    geo = sources.geographies.frame
    types = {v: k for k, v in CENSUS_PHASES.items()}
    geo = geo[geo["school_type"] == types[phase]]
    la_part = dfe.la_rows(geo, la)
    out = []
    for _, row in la_part.iterrows():
        period = row["time_period"]
        year_rows = geo[geo["time_period"] == period]
        region = year_rows[(year_rows["geographic_level"] == "Regional")
                           & (year_rows["region_code"] == row["region_code"])]
        nation = year_rows[year_rows["geographic_level"] == "National"]
        for geography, frame in (("LA", row.to_frame().T), ("Region", region),
                                 ("England", nation)):
            if frame.empty:
                continue
            r = frame.iloc[0]
            area = r["la_name"] if geography == "LA" else (
                r["region_name"] if geography == "Region" else "England")
            out.append(_point(period, SOURCE_CENSUS, geography, area, phase, "overall_absence",
                              r["sess_overall"], r["sess_possible"]))
            out.append(_point(period, SOURCE_CENSUS, geography, area, phase,
                              "persistent_absence", r["enrolments_pa_10_exact"],
                              r["enrolments"]))
    return out


# ------------------------------------------------------------------------------ distributions
def _band_sum(frame: pd.DataFrame) -> tuple[float, float]:
    """(PA enrolments, all enrolments); missing when any band cell is missing."""
    block = frame[list(_BAND_ALL)].astype("Float64")
    if frame.empty or bool(block.isna().any().any()):
        return np.nan, np.nan
    return float(block[list(_BAND_PA)].to_numpy().sum()), float(block.to_numpy().sum())


def _distributions(sources: Sources, la: dfe.LocalAuthority, phase: str,
                   skip: set[str]) -> list[dict]:
    types = {v: k for k, v in CENSUS_PHASES.items()}
    nat = sources.bands_national.frame
    la_frame = dfe.la_rows(sources.bands_la.frame, la)
    if phase != "Total":
        nat = nat[nat["school_type"] == types[phase]]
        la_frame = la_frame[la_frame["school_type"] == types[phase]]
    out = []
    for period in sorted(set(nat["time_period"]) - skip):
        year_nat = nat[nat["time_period"] == period]
        la_year = la_frame[la_frame["time_period"] == period]
        region_code = la_year["region_code"].dropna().iloc[0] if len(la_year) else None
        if region_code is None:       # no LA rows this year: the region from the LA's census rows
            region_code = _census_region(sources, la)
        parts = [("LA", la_year, la.la_name)] if len(la_year) else []
        reg = year_nat[(year_nat["geographic_level"] == "Regional")
                       & (year_nat["region_code"] == region_code)]
        if len(reg):
            parts.append(("Region", reg, reg["region_name"].iloc[0]))
        parts.append(("England", year_nat[year_nat["geographic_level"] == "National"],
                      "England"))
        for geography, frame, area in parts:
            pa, enrol = _band_sum(frame)
            out.append(_point(period, SOURCE_DISTRIBUTIONS, geography, area, phase,
                              "persistent_absence", pa, enrol))
    return out


def _census_region(sources: Sources, la: dfe.LocalAuthority) -> str | None:
    rows = dfe.la_rows(sources.geographies.frame, la).sort_values("time_period")
    codes = rows["region_code"].dropna()
    return codes.iloc[-1] if len(codes) else None


# ------------------------------------------------------------------------------ collection
def _collection_la_total(rows: pd.DataFrame) -> tuple[dict, dict]:
    """Derived all-phase LA figures from its phase rows (see the module docstring)."""
    counts = rows[["overall_absence", "possible_sessions"]].astype("Float64")
    if rows.empty or bool(counts.isna().any().any()):
        overall = (np.nan, np.nan, "suppressed")
    else:
        overall = (float(counts["overall_absence"].sum()),
                   float(counts["possible_sessions"].sum()), "derived")
    pa = rows[["pa_perc", "total_enrolments"]].astype("Float64")
    if rows.empty or bool(pa.isna().any().any()):
        persistent = (np.nan, np.nan, "suppressed")
    else:
        weights = pa["total_enrolments"].astype("float64")
        value = float((pa["pa_perc"].astype("float64") * weights).sum() / weights.sum())
        persistent = (value, float(weights.sum()), "derived")
    return ({"num": overall[0], "den": overall[1], "status": overall[2]},
            {"value": persistent[0], "den": persistent[1], "status": persistent[2]})


def _collection(sources: Sources, la: dfe.LocalAuthority, phase: str) -> list[dict]:
    out = []
    for period, table in sorted(sources.ytd.items()):
        f = table.frame
        la_all = dfe.la_rows(f, la)
        if la_all.empty:
            continue
        region_code = la_all["region_code"].dropna().iloc[0]
        by_phase = f[f["school_type"] == phase]
        la_rows = la_all[la_all["school_type"] == phase]
        region = by_phase[(by_phase["geographic_level"] == "Regional")
                          & (by_phase["region_code"] == region_code)]
        nation = by_phase[by_phase["geographic_level"] == "National"]
        for geography, frame in (("LA", la_rows), ("Region", region), ("England", nation)):
            if len(frame):
                r = frame.iloc[0]
                area = {"LA": la.la_name, "Region": r["region_name"]}.get(geography, "England")
                out.append(_point(period, SOURCE_COLLECTION, geography, area, phase,
                                  "overall_absence", r["overall_absence"],
                                  r["possible_sessions"], value=r["overall_absence_perc"]))
                out.append(_point(period, SOURCE_COLLECTION, geography, area, phase,
                                  "persistent_absence", None, r["total_enrolments"],
                                  value=r["pa_perc"]))
            elif geography == "LA" and phase == "Total":
                phases = la_all[la_all["school_type"] != "Total"]
                overall, persistent = _collection_la_total(phases)
                out.append(_point(period, SOURCE_COLLECTION, "LA", la.la_name, phase,
                                  "overall_absence", overall["num"], overall["den"],
                                  status=None if overall["status"] == "suppressed"
                                  else overall["status"]))
                out.append(_point(period, SOURCE_COLLECTION, "LA", la.la_name, phase,
                                  "persistent_absence", None, persistent["den"],
                                  value=persistent["value"],
                                  status=None if persistent["status"] == "suppressed"
                                  else persistent["status"]))
    return out


# ------------------------------------------------------------------------------ public
def la_series(sources: Sources, la: dfe.LocalAuthority, phase: str = "Total") -> pd.DataFrame:
    """Every published year of the LA, its region and England, for one phase.

    Parameters
    ----------
    sources : Sources
        From :func:`attendance_lib.published.load_sources`.
    la : LocalAuthority
        From :func:`attendance_lib.io.dfe.find_la` (or ``BenchmarkParams.la``).
    phase : {"Total", "Primary", "Secondary", "Special"}
        All state-funded schools, or one phase.

    Returns
    -------
    DataFrame
        One row per point: ``time_period``, ``year`` ("2018/19"), ``source``, ``geography``
        ("LA", "Region", "England"), ``area`` (name), ``phase``, ``measure``
        (:data:`MEASURES`), ``value`` (%; NaN when suppressed), ``numerator`` /
        ``denominator`` (counts where published), ``status`` ("published", "derived",
        "suppressed"), ``segment`` (points of one segment are comparable).
    """
    if phase not in PHASES:
        raise ValueError(f"phase {phase!r}: expected one of {', '.join(PHASES)}")
    census = _census(sources, la, phase)
    covered = {p["time_period"] for p in census}
    # the distributions repeat the census years exactly (data README): only the later years
    points = census + _distributions(sources, la, phase, covered | set(
        sources.geographies.frame["time_period"])) + _collection(sources, la, phase)
    frame = pd.DataFrame(points, columns=list(_point("000000", SOURCE_CENSUS, "LA", "", phase,
                                                     "overall_absence", 0, 1)))
    order = {g: i for i, g in enumerate(_GEOGRAPHIES)}
    frame = frame.assign(_g=frame["geography"].map(order))
    return frame.sort_values(["measure", "time_period", "source", "_g"]).drop(
        columns="_g").reset_index(drop=True)


def breaks_table() -> pd.DataFrame:
    """:data:`BREAKS` as a table for the report: from which year, what changed, and why."""
    return pd.DataFrame([{"from": year_label(b.time_period) if b.span is None
                          else f"{year_label(b.span[0])} to {year_label(b.span[1])}",
                          "change": b.title, "why it matters": b.note} for b in BREAKS])


def headline(series: pd.DataFrame, school_year: str) -> pd.DataFrame:
    """The LA, region and England side by side for the key years of each source.

    Rows: the census figures of ``school_year``, and the latest year of the other two sources
    (each measure); columns ``LA``, ``Region``, ``England`` (values in %, NaN = suppressed or
    not published), ``region`` (its name) and ``LA status``.
    """
    rows = []
    picks = [(SOURCE_CENSUS, school_year)]
    for source in (SOURCE_DISTRIBUTIONS, SOURCE_COLLECTION):
        years = series.loc[(series["source"] == source) & (series["geography"] == "LA"),
                           "time_period"]
        if len(years):
            picks.append((source, years.max()))
    for source, period in picks:
        for measure, label in MEASURES.items():
            part = series[(series["source"] == source) & (series["time_period"] == period)
                          & (series["measure"] == measure)]
            if part.empty:
                continue
            by = part.set_index("geography")
            la_status = by["status"].get("LA", "not published")
            rows.append({"measure": label, "year": year_label(period), "source": source,
                         "LA": by["value"].get("LA", np.nan),
                         "Region": by["value"].get("Region", np.nan),
                         "England": by["value"].get("England", np.nan),
                         "region": by["area"].get("Region", ""), "LA status": la_status})
    return pd.DataFrame(rows)
