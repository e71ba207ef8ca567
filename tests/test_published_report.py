"""The benchmark report builds for contrasting LAs, and its printed figures are the published ones.

Three contrasting LAs (a county: Kent; a London borough: Camden; a small unitary: Rutland) are
built in this process (no kernel; the national data and model are shared), every section is
rendered, and the figures printed in the headline are checked against the raw published rows
(csv module). The notebook itself runs through the command in test_published_browser.py.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from attendance_lib.published import report
from tests.published_raw import dfe_folder, raw

pytestmark = pytest.mark.realdata

GEO = "ees_pupil_absence/absence_3term_201819_release_nat_reg_la_200607_to_201819.csv.gz"
YTD = "ees_pupil_attendance/attendance_ytd_202526_to_july_2026.csv.gz"
IDS = ["headline", "series-overall", "series-pa", "series-breaks", "funnel-pa",
       "funnel-overall", "model-summary", "model-coefficients", "expected-vs-actual",
       "similar-schools", "similar-schools-detail", "bands-fsm", "bands-sen", "bands-year-group",
       "left-out"]
#: LA -> (old code, kind, schools with 2018/19 school rows -- counted in the raw file below)
LAS = {"Kent": ("886", "county"), "Camden": ("202", "London borough"),
       "Rutland": ("857", "small unitary")}


@pytest.fixture(scope="module")
def folder() -> Path:
    return dfe_folder("ees_pupil_absence")




def cells(markup: str) -> list[str]:
    """The text of every table cell of an HTML fragment (whatever the cell's attributes)."""
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", markup, re.S)]


def render(b: report.Benchmark) -> str:
    """Every section, in the notebook's order."""
    parts = [b.title_html(), b.headline_html(), b.series_figure("overall_absence"),
             b.series_figure("persistent_absence"), b.breaks_html(),
             b.series_table_html("overall_absence"), b.series_table_html("persistent_absence")]
    for m in ("persistent_absence", "overall_absence"):
        parts += [b.funnel_figure(m), b.funnel_counts_html(m), b.funnel_outliers_html(m)]
    parts += [b.model_summary_html(), b.model_coefficients_html(), b.expected_figure(),
              b.expected_html(), b.similar_html(), b.similar_detail_html()]
    for d in ("fsm", "sen", "year_group"):
        parts += [b.bands_figure(d), b.bands_html(d)]
    parts.append(b.left_out_html())
    return "\n".join(str(p) for p in parts)


@pytest.fixture(scope="module")
def built(folder):
    out, seconds = {}, {}
    for name in LAS:
        start = time.perf_counter()
        b = report.build_benchmark(name, "", str(folder))
        out[name] = (b, render(b))
        seconds[name] = round(time.perf_counter() - start, 1)
    print(f"build + render seconds: {seconds}")
    return out


@pytest.mark.parametrize("name", list(LAS))
def test_report_builds_with_every_section(folder, built, name):
    b, html = built[name]
    for fig_id in IDS:
        assert f'id="{fig_id}"' in html, fig_id
    assert html.count("data:image/png;base64,") == 8          # every chart rendered
    code, _ = LAS[name]
    # the LA's published number of schools, 2018/19 (its Total row)
    (row,) = [r for r in raw(folder / GEO) if r["time_period"] == "201819"
              and r["school_type"] == "Total" and r["old_la_code"] == code
              and r["geographic_level"] == "Local authority"]
    schools = int(row["num_schools"])
    assert len(b.funnels["persistent_absence"].schools) == schools
    assert b.similar_summary["urn"].nunique() == len(b.expected) == schools
    assert f"({schools:,} state-funded schools" in html
    # the similar-schools table has one row per school in the model
    table = re.search(r'<table[^>]*id="similar-schools"[^>]*>(.*?)</table>', html, re.S)
    assert table and table.group(1).count("<tr") == schools + 1


@pytest.mark.parametrize("name", list(LAS))
def test_headline_prints_the_published_figures(folder, built, name):
    b, _ = built[name]
    code, _ = LAS[name]
    headline = cells(str(b.headline_html()))
    (row,) = [r for r in raw(folder / GEO) if r["time_period"] == "201819"
              and r["school_type"] == "Total" and r["old_la_code"] == code
              and r["geographic_level"] == "Local authority"]
    overall = int(row["sess_overall"]) / int(row["sess_possible"]) * 100
    pa = int(row["enrolments_pa_10_exact"]) / int(row["enrolments"]) * 100
    assert f"{overall:.2f}%" in headline
    assert f"{pa:.2f}%" in headline
    # the same to 5 dp as published in the row
    assert abs(round(overall, 5) - float(row["sess_overall_percent"])) < 1e-5
    (latest,) = [r for r in raw(folder / YTD) if r["old_la_code"] == code
                 and r["education_phase"] == "Total"]
    assert f"{float(latest['overall_absence_perc']):.2f}%" in headline
    assert f"{float(latest['pa_perc']):.2f}%" in headline


def test_three_las_contrast(built):
    """The three are different kinds of LA, so the report is exercised at three scales."""
    sizes = {name: len(b.expected) for name, (b, _) in built.items()}
    assert sizes["Kent"] > 500 and 40 < sizes["Camden"] < 80 and sizes["Rutland"] < 25
    regions = {name: b.region_name for name, (b, _) in built.items()}
    assert regions == {"Kent": "South East", "Camden": "London", "Rutland": "East Midlands"}
    camden_regions = set(built["Camden"][0].series.query("geography == 'Region'")["area"])
    assert camden_regions == {"Inner London", "London"}      # census vs collection region


def test_suppressed_la_report(folder):
    b = report.build_benchmark("City of London", "", str(folder))
    headline = cells(str(b.headline_html()))
    assert headline.count("suppressed") == 2                  # 2025/26 overall and PA
    assert "0.00%" not in headline
    left = b.left_out().set_index("section")
    assert left.loc["series: attendance data collection", "left out"] == 8
    assert len(b.expected) == 1 and 'id="similar-schools"' in str(b.similar_html())


def test_bad_parameters_raise_one_clear_error(folder):
    from attendance_lib.published.data import BenchmarkInputError

    with pytest.raises(BenchmarkInputError, match="Existing old LA codes"):
        report.build_benchmark("9999", "", str(folder))
