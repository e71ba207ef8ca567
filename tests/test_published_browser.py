"""A real browser opens an LA's published-data benchmark built by ``attendance benchmark``.

The report for Rutland (a small unitary LA) is built once through the command
(:func:`attendance_lib.published.cli.register` on a fresh typer app, the real template
``notebooks/published_benchmark.ipynb`` executed by the batch runner's worker), then headless
Chromium (:mod:`tests.browser`) opens it over HTTP and checks what an LA analyst sees: no code,
every chart image loaded, the funnel plots drawn, the similar-schools table with one row per
school, and a named school's figures and the LA's headline figures as published (read here
from the raw CSV rows with the csv module). If Chromium is missing the test fails, never skips.
"""

from __future__ import annotations

import csv
import gzip
import re
import time

import pytest
import typer
from typer.testing import CliRunner

from attendance_lib import paths
from attendance_lib.io.dfe import find_la
from attendance_lib.published.cli import register, report_paths
from tests.browser import chromium, images_loaded, serve_folder, visible_text

pytestmark = pytest.mark.realdata

SCHOOLS = "ees_pupil_absence/absence_3term_201819_release_school_201415_to_201819.csv.gz"
GEO = "ees_pupil_absence/absence_3term_201819_release_nat_reg_la_200607_to_201819.csv.gz"


def raw(relpath: str, contains: str) -> list[dict]:
    """Rows of a gzip CSV as printed (csv module), parsing only lines holding ``contains``."""
    with gzip.open(paths.dfe_dir() / relpath, "rt", encoding="utf-8-sig", newline="") as fh:
        header = fh.readline()
        return list(csv.DictReader([header, *(line for line in fh if contains in line)]))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("benchmark")
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """test mount"""

    start = time.perf_counter()
    result = CliRunner().invoke(app, ["benchmark", "--la", "rutland", "--out", str(out)])
    seconds = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    html, ipynb = report_paths(out, find_la("857"))
    assert html.is_file() and ipynb.is_file()
    assert f"{html}" in result.output
    print(f"benchmark for Rutland built in {seconds:.1f} s")
    return {"out": out, "html": html, "seconds": seconds}


def test_report_file_has_no_code_and_no_outside_calls(built):
    text = built["html"].read_text()
    assert "build_benchmark" not in text
    # every code cell is rendered without its input (markdown cells are "input areas" too)
    code_cells = re.findall(r'class="jp-Cell jp-CodeCell([^"]*)"', text)
    assert len(code_cells) == 28 and all("jp-mod-noInput" in c for c in code_cells)
    assert "<script src=" not in text                       # nothing fetched from outside
    assert not list(built["out"].glob(".*tmp-*"))           # written atomically


def test_browser_shows_funnel_and_similar_schools(built, tmp_path):
    schools = [r for r in raw(SCHOOLS, ",857,") if r["time_period"] == "201819"
               and r["old_la_code"] == "857"]
    assert len(schools) == 20
    named = next(r for r in schools if r["urn"] == "141234")   # a Rutland primary
    (la_row,) = [r for r in raw(GEO, ",857,") if r["time_period"] == "201819"
                 and r["old_la_code"] == "857" and r["school_type"] == "Total"
                 and r["geographic_level"] == "Local authority"]
    with serve_folder(built["out"]) as base, chromium(tmp_path) as driver:
        driver.get(f"{base}/{built['html'].name}")
        driver.save_screenshot(str(tmp_path / "benchmark.png"))
        text = visible_text(driver)
        assert "Rutland: attendance against region and England" in text
        assert "build_benchmark" not in text and "import " not in text
        assert not driver.find_elements(
            "css selector", ".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt")
        for line in ("from attendance_lib", "benchmark.headline_html()", 'la = "'):
            assert line not in text, line

        images = images_loaded(driver)
        assert len(images) == 8
        assert all(i["complete"] and i["width"] > 300 and i["height"] > 200 for i in images)
        for fig_id in ("funnel-pa", "funnel-overall"):
            (img,) = driver.find_elements("css selector", f"figure#{fig_id} img")
            assert img.is_displayed()
            size = driver.execute_script(
                "return [arguments[0].naturalWidth, arguments[0].clientWidth]", img)
            assert size[0] > 600 and size[1] > 300, size        # drawn, not a broken icon

        table = driver.find_element("css selector", "table#similar-schools")
        assert table.is_displayed()
        rows = table.find_elements("css selector", "tbody tr")
        assert len(rows) == 20                                  # one per Rutland school
        header = [th.text for th in table.find_elements("css selector", "thead th")]
        assert "10 most similar schools in England: URN (PA)" in header
        cells = {r.find_elements("css selector", "td")[0].text: r for r in rows}
        row = [td.text for td in cells["141234"].find_elements("css selector", "td")]
        pa = int(named["enrolments_pa_10_exact"]) / int(named["enrolments"]) * 100
        overall = int(named["sess_overall"]) / int(named["sess_possible"]) * 100
        assert row[1] == named["laestab"] and row[3] == named["enrolments"]
        assert f"{pa:.2f}%" in row and f"{overall:.2f}%" in row
        similar = row[header.index("10 most similar schools in England: URN (PA)")]
        assert similar.count("(") == 10                         # ten schools listed

        headline = driver.find_element("css selector", "table#headline").text
        la_pa = int(la_row["enrolments_pa_10_exact"]) / int(la_row["enrolments"]) * 100
        la_overall = int(la_row["sess_overall"]) / int(la_row["sess_possible"]) * 100
        assert f"{la_pa:.2f}%" in headline and f"{la_overall:.2f}%" in headline
