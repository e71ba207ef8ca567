"""A real browser opens a batch run: index -> school report (issue 4, acceptance).

Headless Chromium (Debian ``chromium`` + ``chromium-driver``, driven by selenium through
:mod:`tests.browser`) opens the run's ``index.html`` over HTTP, follows the link to a school's
report and checks what a head teacher would see: no code cell or input anywhere, every chart
image loaded, and the headline figures of that school -- recomputed here with SQL straight
from the store's register marks (not through ``attendance_lib.metrics`` or the report's
views). Screenshots are saved in the test's temporary folder.

The report is made by the REAL template ``notebooks/school_report.ipynb``. If Chromium is not
installed the test fails and says how to install it; it never skips.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from attendance_lib.paths import repo_root
from tests.browser import chromium, images_loaded, serve_folder, visible_text

AS_OF = "2025-11-14"
TEMPLATE = repo_root() / "notebooks" / "school_report.ipynb"


@pytest.fixture(scope="module")
def school_run(tmp_path_factory):
    """A 3-school synthetic LA and a batch run of one school's report (real template)."""
    from attendance_lib.reporting import run_batch
    from attendance_lib.store import Store
    from attendance_lib.synth import generate_la

    assert TEMPLATE.is_file(), f"{TEMPLATE} is missing"
    base = tmp_path_factory.mktemp("browser")
    r = generate_la(base / "la", pupils=600, schools=3, years=1, as_of=AS_OF, seed=23)
    store = Store(base / "store")
    assert store.ingest([r.marks], pupils=r.pupils, schools=r.schools).rows_quarantined == 0
    schools = store.schools()
    row = schools[schools["phase"] == "primary"].iloc[0]
    urn, name = str(row["urn"]), str(row["name"])
    store.close()
    res = run_batch(store.root, out=base / "reports", schools=[urn], la=False, tsm=False,
                    workers=1, as_of=AS_OF, run_name="browser")
    assert res.ok, [(f.template, f.urn, f.error) for f in res.failed]
    return {"run": res, "store": store.root, "urn": urn, "name": name}


def _headline_by_sql(store_root: Path, urn: str) -> dict[str, str]:
    """The school's year-to-date headline figures from the raw marks, formatted as printed.

    Year to date: 1 August of the academic year containing AS_OF (domain.md 7) to AS_OF.
    Possible sessions = present + approved educational activity + authorised + unauthorised
    (domain.md 2.1); an enrolment (pupil at the school) is persistently absent when its
    absence is >= 10% of its own possible sessions; enrolments with no possible session are
    left out (domain.md 2.2).
    """
    from attendance_lib.store import Store

    st = Store(store_root)
    start = date(2025, 8, 1)
    row = st.con.execute(
        """
        WITH e AS (
          SELECT upn,
                 count(*) FILTER (WHERE category IN ('present', 'aea', 'authorised',
                                                     'unauthorised')) AS possible,
                 count(*) FILTER (WHERE category = 'authorised') AS auth,
                 count(*) FILTER (WHERE category = 'unauthorised') AS unauth
          FROM marks WHERE urn = ? AND date BETWEEN ? AND ?
          GROUP BY upn)
        SELECT count(*), sum(possible), sum(auth), sum(unauth),
               count(*) FILTER (WHERE (auth + unauth) * 10 >= possible)
        FROM e WHERE possible > 0
        """, [urn, start, date.fromisoformat(AS_OF)]).fetchone()
    st.close()
    n, possible, auth, unauth, pa = (int(x) for x in row)
    assert n > 50 and possible > 0  # a real school, not an empty one
    return {"Enrolments": f"{n:,}",
            "Overall absence": f"{(auth + unauth) / possible * 100:.2f}%",
            "Authorised absence": f"{auth / possible * 100:.2f}%",
            "Unauthorised absence": f"{unauth / possible * 100:.2f}%",
            "Persistent absence (10% or more of sessions missed)": f"{pa / n * 100:.2f}%",
            "Persistently absent pupils": f"{pa:,}"}


_TABLE_JS = """
const t = document.querySelector('table#headline');
if (!t) { return null; }
return Array.from(t.querySelectorAll('tr')).map(
  r => Array.from(r.querySelectorAll('th, td')).map(c => c.innerText.trim()));
"""


def test_index_to_school_report_in_chromium(school_run, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    run, urn = school_run["run"], school_run["urn"]
    expected = _headline_by_sql(school_run["store"], urn)
    executed = json.loads((run.run_dir / "notebooks" / "schools" / f"{urn}.ipynb").read_text())
    charts = sum("image/png" in o.get("data", {}) for c in executed["cells"]
                 for o in c.get("outputs", []))
    assert charts >= 3  # weekly trend, cohort gaps, heatmap, bands: the report draws charts

    with serve_folder(run.run_dir) as base, chromium(tmp_path) as driver:
        driver.get(f"{base}/index.html")
        assert "Attendance reports" in driver.title
        driver.save_screenshot(str(tmp_path / "index.png"))
        link = driver.find_element(By.CSS_SELECTOR, f'a[href="schools/{urn}.html"]')
        link.click()
        WebDriverWait(driver, 30).until(
            lambda d: d.current_url.endswith(f"/schools/{urn}.html")
            and d.execute_script("return document.readyState") == "complete")
        WebDriverWait(driver, 30).until(
            lambda d: all(i["complete"] for i in images_loaded(d)))
        shot = tmp_path / "school_report.png"
        driver.save_screenshot(str(shot))

        # no code: no input area in any code cell, and no line of the template's code
        assert driver.find_elements(
            By.CSS_SELECTOR, ".jp-CodeCell .jp-InputArea, .jp-InputPrompt, "
                             ".jp-CodeMirrorEditor, .highlight") == []
        text = visible_text(driver)
        template = json.loads(TEMPLATE.read_text())
        for cell in template["cells"]:
            if cell["cell_type"] == "code":
                for line in "".join(cell["source"]).splitlines():
                    line = " ".join(line.split())
                    if len(line) > 15 and not line.startswith("#"):
                        assert line not in text, f"code visible in the report: {line}"

        # every chart image has loaded
        images = images_loaded(driver)
        assert len(images) == charts
        for img in images:
            assert img["complete"] and img["width"] > 0 and img["height"] > 0, img
            assert img["src"].startswith("data:image/png;base64,")  # embedded: works offline

        # the school's own headline figures
        assert school_run["name"] in text and urn in text
        table = driver.execute_script(_TABLE_JS)
        assert table, "no table#headline on the school report"
        header = table[0]
        col = header.index("This school")
        shown = {r[0]: r[col] for r in table[1:] if len(r) > col}
        for label, value in expected.items():
            assert shown.get(label) == value, (label, shown.get(label), value)
    assert shot.stat().st_size > 10_000 and (tmp_path / "index.png").is_file()
