"""attendance_lib.published.series (and the parameters) against the published rows themselves.

Every expected figure is read here from the raw gzip CSV with the csv module (no pandas, no
library code), or computed from those raw cells; never copied from the module's output.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pytest

from attendance_lib.published import data, series
from tests.published_raw import dfe_folder, raw

pytestmark = pytest.mark.realdata

GEO = "ees_pupil_absence/absence_3term_201819_release_nat_reg_la_200607_to_201819.csv.gz"
YTD = "ees_pupil_attendance/attendance_ytd_{}_*.csv.gz"
BANDS_LA = "ees_absence_distributions/absence_bands_distributions_la_202122_to_202223.csv.gz"
PA_BANDS = ["pct15_OARate", "pct20_OARate", "pct25_OARate", "pct30_OARate", "pct35_OARate",
            "pct40_OARate", "pct45_OARate", "pct50_OARate", "pct50plus_OARate"]
ALL_BANDS = ["pct5_OARate", "pct10_OARate", *PA_BANDS]


@pytest.fixture(scope="module")
def folder() -> Path:
    return dfe_folder("ees_pupil_absence")




def ytd_path(folder: Path, code: str) -> Path:
    (path,) = sorted(folder.glob(YTD.format(code)))
    return path


def half_up(value: float, places: int) -> float:
    """Round the binary value half up, as DfE does (Decimal(float) is the exact binary value)."""
    return float(Decimal(float(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


@pytest.fixture(scope="module")
def sources(folder):
    return data.load_sources(folder)


@pytest.fixture(scope="module")
def kent(sources):
    params = data.benchmark_params("Kent")
    return params, series.la_series(sources, params.la)


def point(frame, period, source, geography, measure):
    hit = frame[(frame["time_period"] == period) & (frame["source"] == source)
                & (frame["geography"] == geography) & (frame["measure"] == measure)]
    assert len(hit) == 1, (period, source, geography, measure, len(hit))
    return hit.iloc[0]


# ------------------------------------------------------------------------------ census
@pytest.mark.parametrize("period", ["201819", "200607", "201516"])
def test_census_points_are_the_published_rows(folder, kent, period):
    params, s = kent
    rows = [r for r in raw(folder / GEO) if r["time_period"] == period
            and r["school_type"] == "Total"]
    la = [r for r in rows if r["geographic_level"] == "Local authority"
          and r["old_la_code"] == "886"]
    region = [r for r in rows if r["geographic_level"] == "Regional"
              and r["region_name"] == "South East"]
    nation = [r for r in rows if r["geographic_level"] == "National"]
    assert len(la) == len(region) == len(nation) == 1
    for geography, row, places in (("LA", la[0], 5), ("Region", region[0], 5),
                                   ("England", nation[0], 1)):
        overall = point(s, period, series.SOURCE_CENSUS, geography, "overall_absence")
        pa = point(s, period, series.SOURCE_CENSUS, geography, "persistent_absence")
        # published percentages: 5 dp for LA/region, 1 dp for England, rounded half up
        assert half_up(overall["value"], places) == float(row["sess_overall_percent"])
        assert half_up(pa["value"], places) == float(row["enrolments_pa_10_exact_percent"])
        assert overall["numerator"] == float(row["sess_overall"])
        assert overall["denominator"] == float(row["sess_possible"])
        assert pa["numerator"] == float(row["enrolments_pa_10_exact"])
        assert pa["denominator"] == float(row["enrolments"])
        assert overall["status"] == pa["status"] == "published"
    assert point(s, period, series.SOURCE_CENSUS, "Region", "overall_absence")["area"] == \
        "South East"


def test_kent_2018_19_headline_against_raw_row(folder, kent):
    params, s = kent
    (row,) = [r for r in raw(folder / GEO) if r["time_period"] == "201819"
              and r["school_type"] == "Total" and r["old_la_code"] == "886"
              and r["geographic_level"] == "Local authority"]
    head = series.headline(s, params.school_year)
    census = head[head["source"] == series.SOURCE_CENSUS].set_index("measure")
    overall = int(row["sess_overall"]) / int(row["sess_possible"]) * 100
    pa = int(row["enrolments_pa_10_exact"]) / int(row["enrolments"]) * 100
    assert census.loc["Overall absence rate (%)", "LA"] == pytest.approx(overall, abs=1e-12)
    assert census.loc["Persistent absence rate (%)", "LA"] == pytest.approx(pa, abs=1e-12)
    assert round(overall, 2) == 5.01 and round(pa, 2) == 12.09      # as the report prints


def test_five_half_term_years_are_their_own_segment(folder, kent):
    _, s = kent
    five = {r["time_period"] for r in raw(folder / GEO) if r["year_breakdown"] ==
            "five half terms"}
    assert five == {"200607", "200708", "200809", "200910", "201011", "201112"}
    census = s[s["source"] == series.SOURCE_CENSUS]
    for _, seg in census.groupby("segment"):
        inside = set(seg["time_period"]) & five
        assert not inside or inside == set(seg["time_period"]), seg["segment"].iloc[0]


def test_no_segment_crosses_a_break(kent):
    _, s = kent
    for brk in series.BREAKS:
        start = brk.span[0] if brk.span else brk.time_period
        end = brk.span[1] if brk.span else brk.time_period
        for measure in brk.measures:
            part = s[s["measure"] == measure]
            for _, seg in part.groupby(["segment", "source"]):
                periods = set(seg["time_period"])
                before = any(p < start for p in periods)
                after = any(p >= start for p in periods)
                assert not (before and after), (brk.kind, measure, seg["segment"].iloc[0])
                if brk.span:  # a span: the years after it are not joined to those inside
                    inside = any(start <= p <= end for p in periods)
                    assert not (inside and any(p > end for p in periods)), brk.kind
    assert "201920" not in set(s["time_period"])        # no full-year figures in 2019/20


# ------------------------------------------------------------------------------ distributions
def test_la_pa_from_distributions_is_the_band_sum(folder, kent):
    _, s = kent
    rows = [r for r in raw(folder / BANDS_LA) if r["old_la_code"] == "886"
            and r["time_period"] == "202223"]
    assert rows
    pa = sum(int(r[c]) for r in rows for c in PA_BANDS)
    total = sum(int(r[c]) for r in rows for c in ALL_BANDS)
    got = point(s, "202223", series.SOURCE_DISTRIBUTIONS, "LA", "persistent_absence")
    assert (got["numerator"], got["denominator"]) == (pa, total)
    assert got["value"] == pytest.approx(pa / total * 100, abs=1e-12)
    # README: England 2022/23 from the distributions file: 1,569,304 of 7,396,032
    eng = point(s, "202223", series.SOURCE_DISTRIBUTIONS, "England", "persistent_absence")
    assert (eng["numerator"], eng["denominator"]) == (1_569_304, 7_396_032)


# ------------------------------------------------------------------------------ collection
def test_published_total_row_2025_26(folder, kent):
    _, s = kent
    (row,) = [r for r in raw(ytd_path(folder, "202526")) if r["old_la_code"] == "886"
              and r["education_phase"] == "Total"]
    overall = point(s, "202526", series.SOURCE_COLLECTION, "LA", "overall_absence")
    pa = point(s, "202526", series.SOURCE_COLLECTION, "LA", "persistent_absence")
    assert overall["value"] == float(row["overall_absence_perc"])
    assert pa["value"] == float(row["pa_perc"])
    assert overall["status"] == pa["status"] == "published"
    nat = [r for r in raw(ytd_path(folder, "202526")) if r["geographic_level"] == "National"
           and r["education_phase"] == "Total"]
    eng = point(s, "202526", series.SOURCE_COLLECTION, "England", "persistent_absence")
    assert eng["value"] == float(nat[0]["pa_perc"])
    assert round(eng["value"], 1) == 18.8                      # data README, 2025/26


def test_derived_la_total_from_phase_rows(folder, kent):
    _, s = kent
    rows = [r for r in raw(ytd_path(folder, "202324")) if r["old_la_code"] == "886"]
    assert sorted(r["school_type"] for r in rows) == ["Primary", "Secondary", "Special"]
    overall = sum(int(r["overall_absence"]) for r in rows) / sum(
        int(r["possible_sessions"]) for r in rows) * 100
    weights = [int(r["total_enrolments"]) for r in rows]
    pa = sum(float(r["pa_perc"]) * w for r, w in zip(rows, weights, strict=True)) / sum(weights)
    got_o = point(s, "202324", series.SOURCE_COLLECTION, "LA", "overall_absence")
    got_p = point(s, "202324", series.SOURCE_COLLECTION, "LA", "persistent_absence")
    assert got_o["value"] == pytest.approx(overall, abs=1e-12)
    assert got_p["value"] == pytest.approx(pa, abs=1e-12)
    assert got_o["status"] == got_p["status"] == "derived"


@pytest.mark.parametrize("code", ["202223", "202324", "202425"])
def test_weighting_rule_reproduces_published_total_rows(folder, code):
    """The rule the derived LA totals use, checked where DfE publishes a Total to compare."""
    rows = raw(ytd_path(folder, code))
    keys = {(r["geographic_level"], r["region_code"]) for r in rows
            if r["geographic_level"] in ("National", "Regional")}
    assert len(keys) == 10
    for key in keys:
        mine = [r for r in rows if (r["geographic_level"], r["region_code"]) == key]
        total = [r for r in mine if r["school_type"] == "Total"]
        phases = [r for r in mine if r["school_type"] != "Total"]
        w = [int(r["total_enrolments"]) for r in phases]
        pa = sum(float(r["pa_perc"]) * x for r, x in zip(phases, w, strict=True)) / sum(w)
        assert pa == pytest.approx(float(total[0]["pa_perc"]), abs=1e-6), key


def test_suppressed_la_is_shown_as_suppressed_never_zero(folder, sources):
    params = data.benchmark_params("E09000001")               # City of London
    s = series.la_series(sources, params.la)
    rows = [r for r in raw(ytd_path(folder, "202425")) if r["old_la_code"] == "201"]
    assert rows and all(r["overall_absence"] == "c" and r["pa_perc"] == "c" for r in rows)
    la = s[(s["source"] == series.SOURCE_COLLECTION) & (s["geography"] == "LA")]
    assert len(la) == 8                                       # 4 years x 2 measures
    assert (la["status"] == "suppressed").all()
    assert la["value"].isna().all() and not (la["value"] == 0).any()
    # the census years are published and present
    census = s[(s["source"] == series.SOURCE_CENSUS) & (s["geography"] == "LA")]
    assert census["value"].notna().all() and len(census) == 26
    head = series.headline(s, params.school_year)
    latest = head[head["source"] == series.SOURCE_COLLECTION]
    assert latest["LA"].isna().all() and (latest["LA status"] == "suppressed").all()
    assert latest["England"].notna().all()


def test_phase_series(folder, sources):
    params = data.benchmark_params(857)
    s = series.la_series(sources, params.la, phase="Secondary")
    (row,) = [r for r in raw(folder / GEO) if r["time_period"] == "201819"
              and r["old_la_code"] == "857" and r["school_type"] == "State-funded secondary"]
    got = point(s, "201819", series.SOURCE_CENSUS, "LA", "persistent_absence")
    assert half_up(got["value"], 5) == float(row["enrolments_pa_10_exact_percent"])
    (att,) = [r for r in raw(ytd_path(folder, "202223")) if r["old_la_code"] == "857"
              and r["school_type"] == "Secondary"]
    got = point(s, "202223", series.SOURCE_COLLECTION, "LA", "overall_absence")
    assert got["value"] == float(att["overall_absence_perc"]) and got["status"] == "published"
    with pytest.raises(ValueError, match="phase"):
        series.la_series(sources, params.la, phase="Nursery")


def test_breaks_table_lists_every_break():
    table = series.breaks_table()
    assert len(table) == len(series.BREAKS) == 5
    text = " ".join(table["change"]).lower()
    for needle in ("half-terms", "10%", "covid", "attendance data collection", "2024"):
        assert needle in text, needle


# ------------------------------------------------------------------------------ parameters
def test_la_by_old_code_new_code_or_name_is_the_same_la(sources):
    a = data.benchmark_params("886")
    b = data.benchmark_params("e10000016")
    c = data.benchmark_params("  KENT ")
    assert a.la == b.la == c.la and a.la.la_name == "Kent"
    assert a.school_year == "201819" and a.school_year_label == "2018/19"


def test_mistyped_code_lists_the_codes_that_exist(sources):
    with pytest.raises(data.BenchmarkInputError) as err:
        data.benchmark_params("8866")
    text = str(err.value)
    assert "'8866' is not a known old LA code" in text
    assert "886 Kent" in text                                   # a close match
    assert "Existing old LA codes" in text and "857" in text and "201, 202" in text
    with pytest.raises(data.BenchmarkInputError, match="Close matches: Camden"):
        data.benchmark_params("Camdn")
    with pytest.raises(data.BenchmarkInputError, match="E09000007 Camden"):
        data.benchmark_params("E0900007")


@pytest.mark.parametrize(("year", "expected"), [("", "201819"), ("2016/17", "201617"),
                                                (2015, "201516"), ("201415", "201415")])
def test_school_year(sources, year, expected):
    assert data.benchmark_params("Rutland", year).school_year == expected


@pytest.mark.parametrize("year", ["2019/20", "2013/14", "2018/20", "last"])
def test_school_year_not_published(sources, year):
    with pytest.raises(data.BenchmarkInputError, match="2014/15, 2015/16, 2016/17, 2017/18, "
                                                       "2018/19"):
        data.benchmark_params("Rutland", year)


def test_missing_folder(tmp_path):
    with pytest.raises(data.BenchmarkInputError, match="no such folder"):
        data.benchmark_params("Kent", "", tmp_path / "nowhere")


def test_left_out_counts_each_row_once():
    import pandas as pd

    f = pd.DataFrame({"a": [1, np.nan, np.nan, 4], "b": [np.nan, np.nan, 2, 3]})
    table = data.left_out(f, {"a": f["a"].isna(), "b": f["b"].isna()})
    assert table.set_index("reason")["rows"].to_dict() == {"a": 2, "b": 1, "total": 3}
