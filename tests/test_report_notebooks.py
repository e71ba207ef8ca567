"""Every report template runs top to bottom under papermill on a small synthetic LA (issue 4).

The LA (about 800 pupils, 4 schools, 2 academic years so "last year" exists) is generated once
for the module. The kernel is pinned to this interpreter through a kernelspec in a temporary
JUPYTER_PATH (papermill #251, #408), as in tests/test_notebooks.py. Figures shown are checked
against the library's metrics computed here directly, not against the notebook's own code.
"""

from __future__ import annotations

import json
import re

import papermill
import pytest
from bs4 import BeautifulSoup

from attendance_lib import metrics
from attendance_lib.paths import dfe_dir, repo_root
from attendance_lib.privacy import pseudonymise
from attendance_lib.store import Store
from attendance_lib.synth import generate_la
from tests.conftest import TEST_KERNEL

AS_OF = "2025-11-14"
UPN_RE = re.compile(r"\b[A-HJ-NP-RT-Z]\d{11}[0-9A-Z]\b")



@pytest.fixture(scope="module")
def la_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("report_la")
    la = generate_la(root / "la", pupils=800, schools=4, years=2, as_of=AS_OF, seed=11)
    store = Store(root / "store")
    store.ingest(**la.ingest_kwargs())
    return store


@pytest.fixture(scope="module")
def schools(la_store):
    return la_store.schools().set_index("urn")


def _run(template: str, params: dict, out_dir) -> dict:
    out = out_dir / f"{template}.ipynb"
    papermill.execute_notebook(
        str(repo_root() / "notebooks" / f"{template}.ipynb"), str(out), parameters=params,
        kernel_name=TEST_KERNEL, cwd=str(repo_root()), progress_bar=False)
    nb = json.loads(out.read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors
    return nb


def _html(nb: dict) -> str:
    parts = []
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            data = o.get("data", {})
            parts.append("".join(data.get("text/html", "")) or "".join(data.get("text/markdown",
                                                                                 "")))
            parts.append("".join(o.get("text", "")))
    return "\n".join(parts)


def _images(nb: dict) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))


def _table(html: str, title: str) -> list[dict]:
    """Rows of the HTML table that follows the bold title ``title``."""
    soup = BeautifulSoup(html, "html.parser")
    head = next(s for s in soup.find_all("strong") if s.get_text().startswith(title))
    table = head.find_next("table")
    cols = [th.get_text(strip=True) for th in table.find("thead").find_all("th")]
    return [dict(zip(cols, [td.get_text(strip=True) for td in tr.find_all("td")], strict=True))
            for tr in table.find("tbody").find_all("tr")]


def _school_params(la_store, urn, **extra):
    return {"store": str(la_store.root), "urn": urn, "as_of": AS_OF, "dfe_dir": str(dfe_dir()),
            "suppress_below": 5, "pseudonymise": False, "pseudonym_key": "", **extra}


def test_school_report(kernel_env, la_store, schools, tmp_path):
    urn = next(u for u, s in schools.iterrows() if s["phase"] == "secondary")
    nb = _run("school_report", _school_params(la_store, urn), tmp_path)
    html = _html(nb)
    soup = BeautifulSoup(html, "html.parser")
    table = soup.find("table", id="headline")
    assert table is not None and "headline" in table.get("class", [])
    rows = {tr.find_all("td")[0].get_text(): [td.get_text() for td in tr.find_all("td")[1:]]
            for tr in table.find("tbody").find_all("tr")}
    enr = metrics.enrolment_summary(la_store, AS_OF)
    mine = metrics.school_summary(enr).set_index("urn").loc[urn]
    all_ = metrics.la_summary(enr).iloc[0]
    assert rows["Enrolments"][:2] == [f"{int(mine['enrolments']):,}",
                                      f"{int(all_['enrolments']):,}"]
    assert rows["Overall absence"][:2] == [f"{mine['overall_absence_pct']:.2f}%",
                                           f"{all_['overall_absence_pct']:.2f}%"]
    pa = rows["Persistent absence (10% or more of sessions missed)"]
    assert pa[:2] == [f"{mine['pa_pct']:.2f}%", f"{all_['pa_pct']:.2f}%"]
    assert re.fullmatch(r"\d+\.\d\d%", pa[2])                   # England (secondary)
    assert rows["Year to date to"][0] == "14 Nov 2025"
    assert "England (secondary)" in html and "LA code 999" in html
    assert schools.loc[urn, "name"] in html
    assert _images(nb) == 4       # trend, gaps, heatmap, bands
    for title in ("Pupils at the legal threshold", "Absence by reason", "Data-quality checks"):
        assert title in html
    # every UPN shown belongs to this school
    own = set(la_store.pupils().query("urn == @urn")["upn"])
    shown = set(UPN_RE.findall(html))
    assert shown and shown <= own


def test_tsm_pack_pseudonymised(kernel_env, la_store, schools, tmp_path):
    urn = next(u for u, s in schools.iterrows() if s["phase"] == "secondary")
    nb = _run("tsm_pack", _school_params(la_store, urn, pseudonymise=True,
                                         pseudonym_key="test-key", term=""), tmp_path)
    html = _html(nb)
    assert "Autumn term 2025/26" in html
    assert not UPN_RE.findall(html)                 # no UPN at all, only pseudonyms
    # the severely absent pupils on roll, from the metrics directly
    enr = metrics.enrolment_summary(la_store, AS_OF)
    pupils = la_store.pupils()
    on_roll = pupils[(pupils["urn"] == urn) & (pupils["leaving_date"].isna()
                                               | (pupils["leaving_date"] >= AS_OF))]
    severe = enr[(enr["urn"] == urn) & enr["severe_absence"] & enr["upn"].isin(on_roll["upn"])]
    listed = [r["Pupil"] for r in _table(html, "Severely absent pupils")]
    assert sorted(listed) == sorted(pseudonymise(severe["upn"], "test-key"))
    assert not any(n in html for n in on_roll["name"])          # names dropped
    actions = _table(html, "Agreed actions")
    assert len(actions) == len(severe) + 6
    assert _images(nb) == 2


def test_la_overview(kernel_env, la_store, schools, tmp_path):
    nb = _run("la_overview", {"store": str(la_store.root), "as_of": AS_OF,
                              "dfe_dir": str(dfe_dir()), "suppress_below": 5,
                              "pseudonymise": False, "pseudonym_key": ""}, tmp_path)
    html = _html(nb)
    assert not UPN_RE.findall(html)
    assert not any(n in html for n in la_store.pupils()["name"])
    assert _images(nb) >= 4        # two funnels, cohort gaps, weekly trend
    focus = _table(html, "Targeting Support Meeting focus")
    assert sorted(r["School"] for r in focus) == sorted(schools["name"])
    assert {r["Focus"] for r in focus} <= {"TSM focus", "Watch", "No extra focus"}
    comparison = _table(html, "The LA against England")
    assert [r["Area"] for r in comparison] == ["This LA (your data)", "England (published)"]
    la_all = metrics.la_summary(metrics.enrolment_summary(la_store, AS_OF)).iloc[0]
    assert comparison[0]["Overall absence"] == f"{la_all['overall_absence_pct']:.2f}%"
    assert "LA code 999 is not in DfE" in html


def test_data_quality(kernel_env, la_store, tmp_path):
    nb = _run("data_quality", {"store": str(la_store.root), "as_of": AS_OF, "suppress_below": 5,
                               "pseudonymise": False, "pseudonym_key": ""}, tmp_path)
    html = _html(nb)
    loads = _table(html, "Files loaded")
    assert [r["File"] for r in loads] == ["marks.parquet"]
    assert loads[0]["Balanced"] == "True" and loads[0]["Rows quarantined"] == "0"
    marks = la_store.query("SELECT count(*) AS n FROM marks")["n"].iloc[0]
    assert loads[0]["Rows loaded"] == f"{marks:,}"
    codes = {r["Code"]: r for r in _table(html, "Register codes in use")}
    assert codes["I"]["Status"] == "in the code set"
    assert not UPN_RE.findall(html)


def test_explore_la(kernel_env, la_store, tmp_path):
    nb = _run("explore_la", {"store": str(la_store.root), "as_of": ""}, tmp_path)
    assert _images(nb) >= 3
    assert "overall_absence_pct" in _html(nb)
