"""Acceptance of the synthetic LA (issue 3) on a 20,000-pupil, 3-year LA.

The LA is generated once per test session (shared by pytest-xdist workers through a file lock)
with the default seed, as of 14 March 2025: 2022/23 and 2023/24 are complete, 2024/25 runs to
the as-of date. Everything is loaded through ``Store.ingest`` and measured with
:mod:`attendance_lib.metrics` (and the store's own DuckDB views), so these tests exercise the
real loaders. Calibration is on the complete year 2023/24. Expected values are read from the
published files in ``../shared/data/dfe`` (through :mod:`attendance_lib.io.dfe`) or stated with
their published source, never taken from the generator's output.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attendance_lib import metrics
from attendance_lib.io import dfe
from attendance_lib.store import Store
from attendance_lib.synth import DEFAULT_SEED, calibration, generate_la

pytestmark = pytest.mark.realdata

PUPILS = 20_000
AS_OF = date(2025, 3, 14)
YEAR = 2023  # 2023/24: complete in the LA, and the year of the published targets
PHASES = {"primary": ("Primary", "State-funded primary"),
          "secondary": ("Secondary", "State-funded secondary"),
          "special": ("Special", "Special")}
BANDS = ("pct5_OARate", "pct10_OARate", "pct15_OARate", "pct20_OARate", "pct25_OARate",
         "pct30_OARate", "pct35_OARate", "pct40_OARate", "pct45_OARate", "pct50_OARate",
         "pct50plus_OARate")


@dataclass
class LA:
    folder: Path
    store: Store
    info: dict


def _build(folder: Path) -> dict:
    t0 = time.perf_counter()
    res = generate_la(folder / "la", pupils=PUPILS, years=3, as_of=AS_OF, seed=DEFAULT_SEED)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ingest = Store(folder / "store").ingest(**res.ingest_kwargs())
    return {
        "generate_seconds": gen_s, "ingest_seconds": time.perf_counter() - t0,
        "n_marks": res.n_marks, "years": list(res.years),
        "reports": [{"kind": r.kind, "read": r.rows_read, "loaded": r.rows_loaded,
                     "quarantined": r.rows_quarantined, "balanced": r.balanced,
                     "reasons": {k: int(v) for k, v in r.reasons().items()}}
                    for r in ingest.reports],
    }


@pytest.fixture(scope="session")
def la20k(tmp_path_factory) -> LA:
    """The 20,000-pupil LA, generated and loaded once per session (once for all workers)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by the workers of one run
    folder = root / "synth_la20k"
    done = folder / "done.json"
    with open(root / "synth_la20k.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
                done.write_text(json.dumps(_build(folder)))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    store = calibration.open_store(Store(folder / "store"))
    return LA(folder / "la", store, json.loads(done.read_text()))


def _year_group(dob: pd.Series, year: int) -> pd.Series:
    d = pd.to_datetime(dob)
    return year - 5 - (d.dt.year - (d.dt.month < 9).astype(int))


def _enrolments(store: Store, year: int) -> pd.DataFrame:
    """Full-year enrolment summary (metrics), Years 1-11 (DfE's ages 5-15), with phase."""
    enr = metrics.enrolment_summary(store, start=date(year, 8, 1), end=date(year + 1, 7, 31))
    p = store.pupils()[["upn", "urn", "date_of_birth", "fsm_eligible", "sen_provision"]]
    p = p.assign(upn=p["upn"].astype("string"), urn=p["urn"].astype("string"))
    s = store.schools()[["urn", "phase"]]
    s = s.assign(urn=s["urn"].astype("string"))
    e = enr.merge(p, on=["upn", "urn"], how="left", validate="one_to_one").merge(s, on="urn")
    yg = _year_group(e["date_of_birth"], year)
    return e[(yg >= 1) & (yg <= 11)].reset_index(drop=True)


@pytest.fixture(scope="session")
def enr(la20k) -> pd.DataFrame:
    return _enrolments(la20k.store, YEAR)


@pytest.fixture(scope="session")
def published_ytd() -> pd.DataFrame:
    f = dfe.attendance_collection("ytd", YEAR).frame
    return f[f["geographic_level"] == "National"].set_index("school_type")


@pytest.fixture(scope="session")
def published_bands() -> pd.DataFrame:
    f = dfe.absence_bands().frame
    f = f[f["geographic_level"] == "National"]
    return f[f["time_period"] == max(f["time_period"])]


# -- generation and loading ----------------------------------------------------------------------
def test_generates_in_time(la20k, record_property):
    """Issue 3: a 20,000-pupil, 3-year LA in under 2 minutes on 2 cores (asserted with room
    for a busy CI machine; the measured time is recorded as a test property)."""
    record_property("generate_seconds", round(la20k.info["generate_seconds"], 1))
    record_property("ingest_seconds", round(la20k.info["ingest_seconds"], 1))
    assert la20k.info["generate_seconds"] < 240
    assert la20k.info["n_marks"] > 15_000_000
    assert la20k.info["years"] == [2022, 2023, 2024]


def test_everything_loads_with_zero_quarantined_rows(la20k):
    reports = la20k.info["reports"]
    assert {r["kind"] for r in reports} >= {"marks", "pupils", "schools", "interventions"}
    for r in reports:
        assert r["quarantined"] == 0, r
        assert r["balanced"] and r["read"] == r["loaded"]
    marks = next(r for r in reports if r["kind"] == "marks")
    assert marks["read"] == la20k.info["n_marks"]


# -- calibration against published figures ------------------------------------------------------
@pytest.mark.parametrize("phase", ["primary", "secondary", "special"])
def test_overall_absence_and_pa_by_phase_within_10_percent(enr, published_ytd, phase):
    """Within 10% (relative) of the 2023/24 full-year figures (attendance collection, national:
    primary 5.53/15.18, secondary 9.06/26.75, special 13.00/37.55; domain.md 3.2).

    The special phase has about 370 enrolments in a 20,000-pupil LA, so its PA rate carries a
    sampling error of about 2.5 percentage points (7% relative) on its own.
    """
    g = metrics.group_summary(enr[enr["phase"] == phase]).iloc[0]
    pub = published_ytd.loc[PHASES[phase][0]]
    assert g["overall_absence_pct"] == pytest.approx(float(pub["overall_absence_perc"]),
                                                     rel=0.10)
    assert g["pa_pct"] == pytest.approx(float(pub["pa_perc"]), rel=0.10)


def test_severe_absence_between_1_5_and_3_percent(enr):
    """Published: 2.0% (2022/23, absence distributions) and 2.3% (2023/24 census, domain.md
    3.1) of enrolments are severely absent (50%+)."""
    sa = metrics.group_summary(enr).iloc[0]["sa_pct"]
    assert 1.5 <= sa <= 3.0


def test_fsm_pupils_pa_rate_at_least_1_8_times_non_fsm(enr, published_bands):
    """Published (absence distributions 2022/23): FSM 37% vs not FSM 14% PA (ratio 2.6)."""
    g = metrics.group_summary(enr, ["fsm_eligible"]).set_index("fsm_eligible")
    ratio = g.loc[True, "pa_pct"] / g.loc[False, "pa_pct"]
    assert ratio >= 1.8
    b = published_bands.groupby("fsm_eligible")[list(BANDS)].sum()
    pub = b[list(BANDS[2:])].sum(axis=1) / b.sum(axis=1)
    assert pub["Eligible"] / pub["Not Eligible"] >= 1.8  # the published gap, for the record


def test_share_of_absence_that_is_illness(la20k, published_ytd):
    """40-55%; published 48.6% (2023/24 national, reason_i / overall_absence)."""
    rb = metrics.reason_breakdown(la20k.store, date(YEAR, 8, 1), date(YEAR + 1, 7, 31))
    share = rb.loc[rb["code"] == "I", "share_of_absence_pct"].sum()
    assert 40 <= share <= 55
    pub = published_ytd.loc["Total"]
    assert 40 <= 100 * pub["reason_i_authorised_illness"] / pub["overall_absence"] <= 55


@pytest.mark.parametrize("phase", ["primary", "secondary"])
def test_absence_band_distribution_close_to_published(enr, published_bands, phase):
    """Total-variation distance <= 0.08 from the national distribution of enrolments over
    5-point absence bands (absence distributions, latest year 2022/23, all rows of the phase
    summed over FSM, SEN, sex and year group)."""
    e = enr[enr["phase"] == phase]
    absent = (e["authorised"] + e["unauthorised"]).to_numpy()
    band = np.minimum(10, (20 * absent) // e["possible"].to_numpy())
    gen = np.bincount(band, minlength=11) / len(band)
    b = published_bands[published_bands["school_type"] == PHASES[phase][1]][list(BANDS)].sum()
    pub = (b / b.sum()).to_numpy(float)
    assert 0.5 * np.abs(gen - pub).sum() <= 0.08


def test_friday_afternoon_absence_above_wednesday_morning(la20k):
    """FFT Education Datalab: absence is lowest on Wednesday mornings and highest on Friday
    afternoons."""
    df = la20k.store.query("""
        SELECT isodow(date) AS dow, session,
               avg(CASE WHEN category IN ('authorised', 'unauthorised') THEN 1 ELSE 0 END) AS a
        FROM marks WHERE academic_year = ? AND category <> 'not_possible'
        GROUP BY ALL""", [YEAR]).set_index(["dow", "session"])["a"]
    assert df[(5, "PM")] > df[(3, "AM")]
    assert df[(5, "PM")] == df.max()


def test_persistent_absence_persists_at_a_realistic_rate(la20k, enr):
    """Pupils persistently absent last year are PA again this year at a realistic rate.

    Evidence: FFT Education Datalab, "The relationship between absence in Year 6 and Year 7"
    (July 2025; ~200,000 pupils, Attendance Tracker): the correlation between pupils' absence
    rates in consecutive years is 0.63, across the move to secondary school. Under a bivariate
    normal model of (transformed) absence with r = 0.63 and 15-27% of pupils PA, 47-57% of last
    year's PA pupils are PA again; with r between 0.55 and 0.75 (year pairs without a change of
    school correlate somewhat more), 42-65%. Accepted: correlation of pupils' rates 0.50-0.80
    and PA-again share 45-70%.
    """
    def pupil_rates(e):
        g = e.groupby("upn")[["authorised", "unauthorised", "possible"]].sum()
        absent = g["authorised"] + g["unauthorised"]
        return pd.DataFrame({"rate": absent / g["possible"], "pa": absent * 10 >= g["possible"]})

    last = pupil_rates(_enrolments(la20k.store, YEAR - 1))
    this = pupil_rates(enr)
    j = last.merge(this, left_index=True, right_index=True, suffixes=("_last", ""))
    assert len(j) > 10_000
    pa_again = j.loc[j["pa_last"], "pa"].mean()
    r = np.corrcoef(j["rate_last"], j["rate"])[0, 1]
    assert 0.45 <= pa_again <= 0.70
    assert 0.50 <= r <= 0.80


def test_absence_in_the_first_week_and_persistent_absence(la20k, enr):
    """Of pupils absent for at least one session in the first week of the autumn term (their
    first five days expected in), 30-45% (primary) and 45-65% (secondary) are PA at year end
    (FFT Education Datalab: 37% and 58% in 2022/23; about half of pupils absent in any given
    week of 2024/25 were PA by the end of the year)."""
    wk1 = la20k.store.query("""
        WITH d AS (
            SELECT upn, urn, date,
                   max(CASE WHEN category IN ('authorised', 'unauthorised') THEN 1 ELSE 0 END)
                       AS absent
            FROM marks WHERE academic_year = ? AND category <> 'not_possible' GROUP BY ALL),
        r AS (SELECT *, row_number() OVER (PARTITION BY upn, urn ORDER BY date) AS k FROM d)
        SELECT upn, urn, min(date) AS first_day, max(absent) AS absent_week1
        FROM r WHERE k <= 5 GROUP BY ALL""", [YEAR])
    wk1 = wk1[pd.to_datetime(wk1["first_day"]) <= pd.Timestamp(YEAR, 9, 15)]
    wk1 = wk1.assign(upn=wk1["upn"].astype("string"), urn=wk1["urn"].astype("string"))
    e = enr.merge(wk1, on=["upn", "urn"])
    share = e[e["absent_week1"] == 1].groupby("phase")["persistent_absence"].mean()
    assert 0.30 <= share["primary"] <= 0.45
    assert 0.45 <= share["secondary"] <= 0.65


# -- the calibration module ------------------------------------------------------------------
def test_compare_table_and_plot(la20k, enr, published_ytd):
    table = calibration.compare(la20k.store, year=YEAR)
    assert set(table["section"]) == {"headline", "cohort", "reason", "band"}
    h = table[table["section"] == "headline"].set_index(["measure", "phase"])
    g = metrics.group_summary(enr, ["phase"]).set_index("phase")
    for phase, (label, _) in PHASES.items():
        assert h.loc[("pa_pct", phase), "generated"] == pytest.approx(g.loc[phase, "pa_pct"])
        assert h.loc[("overall_absence_pct", phase), "published"] == pytest.approx(
            float(published_ytd.loc[label, "overall_absence_perc"]))
    tv = table[(table["section"] == "band") & (table["measure"] == "tv_distance")]
    assert set(tv["phase"]) == {"primary", "secondary", "special"}
    reasons = table[(table["section"] == "reason") & (table["phase"] == "all")]
    assert reasons["generated"].sum() == pytest.approx(100)
    fig = calibration.plot(table)
    assert len(fig.axes) == 4


def test_calibration_helpers(la20k):
    assert calibration.complete_years(la20k.store) == [2022, 2023]
    fw = calibration.first_week_absence(la20k.store, YEAR)
    assert {"primary", "secondary"} <= set(fw.index)
    p = calibration.persistence(la20k.store, YEAR)
    assert p["pa_last_year"] > 1000
    ds = calibration.day_session_absence(la20k.store, YEAR)
    assert ds.loc[4, "PM"] > ds.loc[2, "AM"]


def test_interventions_effects_against_truth(la20k):
    """effects.json holds the counterfactual effect per type; the zero-effect type is 0."""
    effects = json.loads((la20k.folder / "ground_truth" / "effects.json").read_text())
    assert effects["penalty_notice"]["configured_hazard_ratio"] == 1.0
    assert effects["penalty_notice"]["effect_pp"] == 0.0
    for kind in ("mentoring", "attendance_contract", "early_help"):
        assert effects[kind]["effect_pp"] < 0
        assert effects[kind]["episodes_with_outcome"] > 100
    i = la20k.store.interventions()
    assert set(i["type"]) == set(effects)
