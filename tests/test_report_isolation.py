"""Isolation (issue 4, acceptance): after a batch run, no school's HTML or executed notebook
holds a UPN of a pupil from another school; the LA outputs hold no UPN at all, no pupil name
and no pupil count below the suppression threshold.

The synthetic LA has pupils who moved from primary to secondary school: a UPN enrolled at both
schools may appear in both reports, so "another school's pupil" means a UPN with no enrolment
(pupils row or mark) at the school. The LA data are generated dirty, so the quarantine (whose
raw rows and reasons hold UPNs) is exercised too.
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from attendance_lib.reporting import run_batch
from attendance_lib.store import Store
from attendance_lib.synth import generate_la

AS_OF = "2025-11-14"
THRESHOLD = 5  # the runner's default suppress_below
UPN_RE = re.compile(r"\b[A-HJ-NP-RT-Z]\d{11}[0-9A-Z]\b")
#: headings of columns that count pupils in the LA reports
PUPIL_COUNT_HEADINGS = {"Pupils", "PA pupils", "SA pupils", "Pupils affected"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("isolation")
    la = generate_la(root / "la", pupils=800, schools=4, years=2, as_of=AS_OF, seed=5,
                     dirty=True)
    store = Store(root / "store")
    store.ingest(**la.ingest_kwargs())
    schools = store.schools()
    # a primary and the secondary: pupils moved between them
    urns = [schools.loc[schools["phase"] == ph, "urn"].iloc[0] for ph in ("primary",
                                                                           "secondary")]
    result = run_batch(store=str(store.root), out=str(root / "reports"), schools=urns,
                       as_of=AS_OF, workers=2, la=True, tsm=True, html=True, progress=False)
    return store, urns, result


def _all_upns(store: Store) -> set[str]:
    upns = set(store.pupils()["upn"]) | set(store.query("SELECT DISTINCT upn FROM marks")["upn"])
    for q in (store.root / "quarantine").glob("*.csv"):
        upns |= set(UPN_RE.findall(q.read_text()))
    return upns


def _enrolled(store: Store, urn: str) -> set[str]:
    p = store.pupils()
    return set(p.loc[p["urn"] == urn, "upn"]) | set(
        store.query("SELECT DISTINCT upn FROM marks WHERE urn = ?", [urn])["upn"])


def _files(record) -> list:
    return [p for p in (record.html, record.ipynb) if p is not None]


def result_manifest(result) -> dict:
    import json

    return json.loads(result.manifest.read_text())


def test_every_report_ran(batch):
    _, urns, result = batch
    assert result.ok, [(r.template, r.urn, r.error) for r in result.failed]
    kinds = sorted((r.template, r.urn or "") for r in result.reports)
    # two academic years: too few for the early-warning report (train on one complete year,
    # test on a later one), which is skipped with its reason; the impact report runs
    assert kinds == sorted([("data_quality", ""), ("la_overview", ""),
                            ("intervention_impact", "")]
                           + [(t, u) for u in urns for t in ("school_report", "tsm_pack")])
    assert "two complete academic years" in result_manifest(result)["skipped"]["early_warning"]
    for r in result.reports:
        assert all(p.exists() for p in _files(r)), r


def test_school_outputs_hold_only_their_own_pupils(batch):
    store, urns, result = batch
    everyone = _all_upns(store)
    moved = _enrolled(store, urns[0]) & _enrolled(store, urns[1])
    assert moved, "the test LA should have pupils enrolled at both schools"
    for r in result.reports:
        if r.urn is None:
            continue
        own = _enrolled(store, r.urn)
        others = everyone - own
        for path in _files(r):
            text = path.read_text(encoding="utf-8")
            leaked = sorted(u for u in others if u in text)
            assert not leaked, f"{path.name} holds other schools' pupils: {leaked[:5]}"
            seen = set(UPN_RE.findall(text))
            assert seen, f"{path.name} shows no UPN: the check would prove nothing"
            assert seen <= own


def test_la_outputs_hold_no_pupil(batch):
    store, _, result = batch
    everyone = _all_upns(store)
    names = set(store.pupils()["name"])
    la_reports = [r for r in result.reports if r.urn is None]
    assert len(la_reports) == 3
    for r in la_reports:
        for path in _files(r):
            text = path.read_text(encoding="utf-8")
            assert not UPN_RE.findall(text), path.name
            assert not [u for u in everyone if u in text], path.name
            assert not [n for n in names if n in text], path.name


def test_la_outputs_suppress_small_counts(batch):
    _, _, result = batch
    checked = 0
    for r in (r for r in result.reports if r.urn is None):
        soup = BeautifulSoup(r.html.read_text(encoding="utf-8"), "html.parser")
        for table in soup.find_all("table"):
            head = table.find("thead")
            if head is None:
                continue
            cols = [th.get_text(strip=True) for th in head.find_all("th")]
            for tr in table.find("tbody").find_all("tr"):
                cells = [td.get_text(strip=True) for td in tr.find_all(["td", "th"])]
                for col, value in zip(cols, cells[-len(cols):], strict=True):
                    if col not in PUPIL_COUNT_HEADINGS or value in ("c", "–"):
                        continue
                    checked += 1
                    assert int(value.replace(",", "")) >= THRESHOLD, (r.template, col, value)
    assert checked > 0
