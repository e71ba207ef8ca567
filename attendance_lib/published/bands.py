"""Pupils by absence band for the LA, its region and England, by FSM, SEN and year group.

One concept: the shape of absence, from the published absence distributions (school census;
LA rows 2021/22 and 2022/23, national and regional rows 2016/17-2022/23). Each row of those
files counts enrolments in 5-point bands of overall absence: [0, 5), [5, 10), ..., [45, 50),
[50, 100]; persistent absence (PA) is 10% and over, severe absence 50% and over (domain.md
2.1; the data README shows the bands reproduce the census PA counts exactly).

The files hold only the finest breakdown (phase x FSM x SEN x sex x year group), so a group's
figure is the sum over its rows. A suppressed or missing cell is left out of the sum and counted
in ``cells_left_out`` -- never read as zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attendance_lib.io import dfe

from .data import Sources, year_label

__all__ = ["BAND_COLUMNS", "BAND_LABELS", "DIMENSIONS", "band_breakdown", "la_band_years"]

BAND_COLUMNS = ("pct5_OARate", "pct10_OARate", "pct15_OARate", "pct20_OARate",
                "pct25_OARate", "pct30_OARate", "pct35_OARate", "pct40_OARate",
                "pct45_OARate", "pct50_OARate", "pct50plus_OARate")
BAND_LABELS = ("0-5%", "5-10%", "10-15%", "15-20%", "20-25%", "25-30%", "30-35%", "35-40%",
               "40-45%", "45-50%", "50%+")
#: breakdown -> (file column, readable name)
DIMENSIONS = {"fsm": ("fsm_eligible", "Free school meals"),
              "sen": ("sen_status", "Special educational needs"),
              "year_group": ("NCyearActual", "National curriculum year")}
_GROUP_NAMES = {"Eligible": "FSM eligible", "Not Eligible": "not FSM eligible",
                "Any special educational need": "any SEN",
                "No identified special educational need": "no identified SEN"}


def la_band_years(sources: Sources, la: dfe.LocalAuthority) -> list[str]:
    """``time_period`` codes with LA rows for this LA in the distributions file."""
    return sorted(dfe.la_rows(sources.bands_la.frame, la)["time_period"].dropna().unique())


def _group_label(dimension: str, value: str) -> str:
    if dimension == "year_group":
        return f"Year {value}"
    return _GROUP_NAMES.get(value, value)


def _sum(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    block = frame[list(BAND_COLUMNS)].astype("Float64")
    sums = block.groupby(frame[column]).sum(min_count=0)
    missing = block.isna().groupby(frame[column]).sum().sum(axis=1)
    out = sums.astype("float64").rename(columns=dict(zip(BAND_COLUMNS, BAND_LABELS,
                                                         strict=True)))
    out["cells_left_out"] = missing.astype("int64")
    return out


def band_breakdown(sources: Sources, la: dfe.LocalAuthority, dimension: str,
                   year: str | None = None) -> pd.DataFrame:
    """Share of enrolments in each band, PA and severe rates, by one pupil characteristic.

    Parameters
    ----------
    sources : Sources
    la : LocalAuthority
    dimension : {"fsm", "sen", "year_group"}
    year : str, optional
        ``time_period`` code; default the latest year with LA rows.

    Returns
    -------
    DataFrame
        One row per group x geography (``LA``, ``Region``, ``England``): ``year``,
        ``dimension``, ``group`` (readable), ``geography``, ``area``, ``enrolments``, the
        band shares in % (:data:`BAND_LABELS`), ``pa_rate`` and ``severe_rate`` (%),
        ``pa`` and ``severe`` counts, and ``cells_left_out`` (suppressed cells not summed).
        Empty when the LA has no rows in the distributions file.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension {dimension!r}: expected one of {', '.join(DIMENSIONS)}")
    column = DIMENSIONS[dimension][0]
    years = la_band_years(sources, la)
    if not years:
        return pd.DataFrame()
    year = year or years[-1]
    la_rows = dfe.la_rows(sources.bands_la.frame, la)
    la_rows = la_rows[la_rows["time_period"] == year]
    nat = sources.bands_national.frame
    nat = nat[nat["time_period"] == year]
    region_code = la_rows["region_code"].dropna().iloc[0] if len(la_rows) else None
    region = nat[(nat["geographic_level"] == "Regional") & (nat["region_code"] == region_code)]
    parts = [("LA", la.la_name, la_rows),
             ("Region", region["region_name"].iloc[0] if len(region) else "", region),
             ("England", "England", nat[nat["geographic_level"] == "National"])]
    out = []
    for geography, area, frame in parts:
        if frame.empty:
            continue
        sums = _sum(frame, column)
        counts = sums[list(BAND_LABELS)]
        total = counts.sum(axis=1)
        shares = counts.div(total.where(total > 0), axis=0) * 100
        pa = counts[list(BAND_LABELS[2:])].sum(axis=1)
        severe = counts["50%+"]
        table = shares.assign(enrolments=total, pa=pa, severe=severe,
                              pa_rate=pa / total.where(total > 0) * 100,
                              severe_rate=severe / total.where(total > 0) * 100,
                              cells_left_out=sums["cells_left_out"])
        table = table.reset_index(names="value").assign(geography=geography, area=area)
        out.append(table)
    result = pd.concat(out, ignore_index=True)
    if dimension == "year_group":
        result = result.assign(_order=pd.to_numeric(result["value"], errors="coerce"))
    else:
        result = result.assign(_order=result["value"].eq("Unclassified").astype(int))
    result = result.assign(
        year=year_label(year), dimension=DIMENSIONS[dimension][1],
        group=[_group_label(dimension, v) for v in result["value"]],
        _g=result["geography"].map({"LA": 0, "Region": 1, "England": 2}))
    result = result.sort_values(["_order", "value", "_g"]).drop(columns=["_order", "_g"])
    front = ["year", "dimension", "group", "geography", "area", "enrolments", "pa_rate",
             "severe_rate"]
    rest = [c for c in result.columns if c not in front and c != "value"]
    return result[front + rest].reset_index(drop=True).astype(
        {c: "float64" for c in ("enrolments", "pa", "severe")}).replace({np.inf: np.nan})
