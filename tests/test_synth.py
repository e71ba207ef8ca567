"""The synthetic LA generator on small LAs: layouts, determinism, dirt, term dates, truth.

The calibration against published figures runs on a 20,000-pupil LA in
``test_synth_calibration.py``; these tests use LAs of a few hundred to 1,500 pupils so they run
in seconds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from attendance_lib import calendar, codes
from attendance_lib.store import Store
from attendance_lib.synth import SynthConfig, generate_la, resolve_years
from attendance_lib.synth import dirt as dirt_mod
from attendance_lib.synth.term_dates import INSET_DAYS, TERM_DAYS, inset_days, la_calendar
from attendance_lib.upn import is_valid_upn

AS_OF = "2025-02-10"  # spring term of 2024/25: 2023/24 complete (2006 codes), 2024/25 partial


def _hashes(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A 1,200-pupil LA over 2023/24 (complete) and 2024/25 (to 10 Feb 2025), loaded."""
    out = tmp_path_factory.mktemp("synth_small")
    res = generate_la(out / "la", pupils=1200, years=2, as_of=AS_OF, seed=11)
    store = Store(out / "store")
    ingest = store.ingest(**res.ingest_kwargs())
    return res, store, ingest


# -- layouts and loading ----------------------------------------------------------------------------
def test_everything_loads_with_nothing_quarantined(small):
    res, _, ingest = small
    kinds = {r.kind for r in ingest.reports}
    assert {"marks", "pupils", "schools", "interventions"} <= kinds
    for rep in ingest.reports:
        assert rep.rows_quarantined == 0, (rep.kind, rep.reasons().to_dict())
        assert rep.balanced
    marks = next(r for r in ingest.reports if r.kind == "marks")
    assert marks.rows_read == res.n_marks
    assert not any("sorted in memory" in n for n in marks.notes)


def test_marks_file_is_canonical_and_sorted(small):
    res, _, _ = small
    t = pq.read_table(res.marks)
    assert t.column_names == ["upn", "urn", "date", "session", "code"]
    assert str(t.schema.field("date").type) == "date32[day]"
    df = t.to_pandas()
    for c in ("upn", "urn", "session", "code"):
        df[c] = df[c].astype(str)
    key = df[["urn", "upn", "date", "session"]]
    assert key.equals(key.sort_values(["urn", "upn", "date", "session"]).reset_index(drop=True))
    assert not df.duplicated(["upn", "urn", "date", "session"]).any()
    assert set(df["session"]) == {"AM", "PM"}
    d = pd.to_datetime(df["date"])
    assert (d.dt.day_of_week < 5).all()
    holidays = set(calendar.england_bank_holidays(2023) + calendar.england_bank_holidays(2024)
                   + calendar.england_bank_holidays(2025))
    assert not set(d.dt.date) & holidays
    assert d.max() <= pd.Timestamp(AS_OF)
    assert all(is_valid_upn(u) for u in df["upn"].unique())


def test_code_sets_follow_the_regulations(small):
    """2024 codes from 2024/25 (C2, K, J1, Y4), the 2006 set before (H, J, B only)."""
    _, store, _ = small
    used = store.query("SELECT academic_year, code, count(*) AS n FROM marks GROUP BY ALL")
    for year, g in used.groupby("academic_year"):
        valid = codes.code_set(int(year))
        assert set(g["code"]) <= set(valid), set(g["code"]) - set(valid)
    old = set(used.loc[used["academic_year"] == 2023, "code"])
    new = set(used.loc[used["academic_year"] == 2024, "code"])
    assert {"I", "O", "M", "G", "#", "L", "U", "V", "E"} <= old
    assert "C2" in new and "C2" not in old and "H" not in new


def test_full_year_enrolments_have_380_possible_sessions(small):
    _, store, _ = small
    from attendance_lib import metrics

    enr = metrics.enrolment_summary(store, start=date(2023, 8, 1), end=date(2024, 7, 31))
    pupils = store.pupils()
    whole = pupils[(pd.to_datetime(pupils["admission_date"]) < "2023-09-01")
                   & (pupils["leaving_date"].isna()
                      | (pd.to_datetime(pupils["leaving_date"]) > "2024-07-31"))]
    full = enr.merge(whole[["upn", "urn"]].astype("string"), on=["upn", "urn"])
    assert len(full) > 500
    # 195 term days, 5 of them the school's INSET days (#), the odd snow day (Y) aside
    assert (full["possible"] <= 380).all()
    assert (full["possible"] >= 376).mean() > 0.9


def test_pupils_schools_interventions_layouts(small):
    res, _, _ = small
    p = pd.read_csv(res.pupils, dtype=str, keep_default_na=False)
    assert list(p.columns[:2]) == ["upn", "urn"]
    assert {"year_group", "date_of_birth", "sex", "fsm_eligible", "sen_provision", "eal",
            "ethnicity", "postcode", "has_social_worker", "looked_after", "admission_date",
            "leaving_date"} <= set(p.columns)
    assert not p.duplicated(["upn", "urn"]).any()
    assert set(p["sen_provision"]) <= {"E", "K", "N"}
    assert set(p["fsm_eligible"]) <= {"Y", "N"}
    assert "R" in set(p["year_group"]) and "11" in set(p["year_group"])
    s = pd.read_csv(res.schools, dtype=str)
    assert set(s["phase"]) == {"primary", "secondary", "special"}
    i = pd.read_csv(res.interventions, dtype=str, keep_default_na=False)
    assert {"upn", "urn", "type", "start_date", "end_date", "notes"} <= set(i.columns)
    assert set(i["type"]) <= {"mentoring", "attendance_contract", "early_help",
                              "penalty_notice"}
    assert (pd.to_datetime(i["start_date"]) <= pd.Timestamp(AS_OF)).all()


def test_term_dates_file_reads_back(small):
    res, _, _ = small
    td = calendar.read_term_dates(res.term_dates)
    assert len(td) == 12


# -- determinism ---------------------------------------------------------------------------------
def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    kw = dict(pupils=500, years=2, as_of=AS_OF)
    generate_la(tmp_path / "a", seed=5, **kw)
    generate_la(tmp_path / "b", seed=5, **kw)
    generate_la(tmp_path / "c", seed=6, **kw)
    a, b, c = (_hashes(tmp_path / x) for x in "abc")
    assert a == b
    for name in ("marks.parquet", "pupils.csv", "interventions.csv",
                 "ground_truth/pupil_years.parquet", "ground_truth/effects.json"):
        assert a[name] != c[name], name


def test_common_random_numbers_no_effect_means_no_change(tmp_path):
    """With every intervention's effect set to none, the marks equal a run with no
    interventions at all: the interventions change nothing but what their effect changes."""
    base = SynthConfig()
    no_effect = {k: dataclasses.replace(v, hazard_ratio=1.0)
                 for k, v in base.interventions.items()}
    kw = dict(pupils=500, years=1, as_of="2024-07-31", seed=3)
    r1 = generate_la(tmp_path / "a", config=dataclasses.replace(base, interventions=no_effect),
                     **kw)
    r2 = generate_la(tmp_path / "b", config=dataclasses.replace(base, interventions={}), **kw)
    assert r1.n_interventions > 0 and r2.n_interventions == 0
    assert _hashes(tmp_path / "a")["marks.parquet"] == _hashes(tmp_path / "b")["marks.parquet"]
    eff = json.loads((r1.ground_truth / "effects.json").read_text())
    assert all(v["effect_pp"] in (0.0, None) for v in eff.values())


# -- years, calendar ----------------------------------------------------------------------------
def test_years_end_with_the_as_of_year():
    assert resolve_years(date(2025, 3, 14), 3) == (2022, 2023, 2024)
    # in the summer holiday before the first term day, the year just finished is the last one
    assert resolve_years(date(2025, 8, 20), 2) == (2023, 2024)
    assert resolve_years(date(2025, 9, 10), 1) == (2025,)


@pytest.mark.parametrize("year", [2022, 2023, 2024, 2025, 2026])
def test_la_calendar(year):
    cal = la_calendar(year)
    assert len(cal.days) == TERM_DAYS
    assert len(cal.half_terms) == 6
    days = pd.to_datetime(cal.days)
    assert (days.day_of_week < 5).all()
    holidays = set(calendar.england_bank_holidays(year) + calendar.england_bank_holidays(year + 1))
    assert not set(days.date) & holidays
    christmas = date(year, 12, 25)
    assert cal.half_terms[1][1] < christmas < cal.half_terms[2][0]
    easter = calendar.easter_sunday(year + 1)
    assert cal.half_terms[3][1] < easter < cal.half_terms[4][0]
    assert cal.half_terms[0][0].month == 9 and cal.half_terms[5][1].month == 7
    inset = inset_days(cal, np.random.default_rng(year))
    assert len(set(inset)) == INSET_DAYS


# -- interventions and truth ------------------------------------------------------------------------
def test_ground_truth_is_complete(small):
    res, _, _ = small
    gt = res.ground_truth
    params = json.loads((gt / "params.json").read_text())
    assert params["seed"] == 11 and params["academic_years"] == [2023, 2024]
    cfg = SynthConfig.from_dict(params["config"])
    assert cfg.to_dict() == params["config"]
    py = pd.read_parquet(gt / "pupil_years.parquet")
    assert {"latent_index", "expected_absence_pct", "deteriorating", "deterioration_onset",
            "expected_absence_pct_ht1", "expected_absence_pct_ht6"} <= set(py.columns)
    assert py["deteriorating"].any()
    det = py[py["deteriorating"] & (py["academic_year"] == 2023)]
    assert (det["expected_absence_pct_ht6"] > det["expected_absence_pct_ht1"]).mean() > 0.8
    pupils = pd.read_csv(res.pupils, dtype=str)
    assert set(zip(py["upn"], py["urn"], strict=True)) <= set(
        zip(pupils["upn"], pupils["urn"], strict=True))


def test_interventions_select_on_attendance_and_effects_are_counterfactual(small):
    res, _, _ = small
    gt = res.ground_truth
    ep = pd.read_parquet(gt / "interventions.parquet")
    effects = json.loads((gt / "effects.json").read_text())
    assert set(effects) == {"mentoring", "attendance_contract", "early_help", "penalty_notice"}
    mentoring = ep[ep["type"] == "mentoring"]
    assert len(mentoring) and (mentoring["ytd_absence_pct"] >= 10).all()
    # the zero-effect type: the counterfactual run is identical
    pn = ep[ep["type"] == "penalty_notice"]
    assert len(pn) and (pn["absent"] == pn["absent_counterfactual"]).all()
    assert effects["penalty_notice"]["effect_pp"] == 0.0
    # effects with a hazard ratio below 1 reduce absence, and effects.json is their mean
    for kind in ("mentoring", "early_help"):
        g = ep[(ep["type"] == kind) & (ep["possible"] > 0)]
        assert effects[kind]["effect_pp"] < 0
        assert effects[kind]["effect_pp"] == pytest.approx(g["effect_pp"].mean(), abs=1e-3)
        assert (g["absent"] <= g["absent_counterfactual"]).mean() > 0.9


def test_unresolved_n_codes_just_before_as_of(small):
    _, store, _ = small
    n = store.query("SELECT date, count(*) AS n FROM marks WHERE code = 'N' GROUP BY ALL")
    recent = n[pd.to_datetime(n["date"]) >= pd.Timestamp(AS_OF) - pd.Timedelta(days=7)]
    assert recent["n"].sum() > n["n"].sum() * 0.2


# -- dirt -----------------------------------------------------------------------------------
def test_dirty_quarantine_finds_exactly_the_injected_problems(tmp_path):
    res = generate_la(tmp_path / "la", pupils=1000, years=2, as_of=AS_OF, seed=7, dirty=True)
    assert set(res.dirt) == set(dirt_mod.REASONS.values())
    truth = json.loads((res.ground_truth / "dirt.json").read_text())
    assert truth["expected_quarantine_by_reason"] == res.dirt
    ingest = Store(tmp_path / "store").ingest(**res.ingest_kwargs())
    found: dict[str, int] = {}
    for rep in ingest.reports:
        assert rep.balanced
        for reason, n in rep.reasons().items():
            found[reason] = found.get(reason, 0) + int(n)
    assert found == res.dirt
    rows = pd.read_csv(res.ground_truth / "dirt_rows.csv", dtype=str)
    assert set(rows["kind"]) == set(dirt_mod.KINDS)


# -- scale -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_150000_pupil_year_is_possible(tmp_path):
    """Benchmark scale: one year of 150,000 pupils (about 57 million marks), streamed."""
    res = generate_la(tmp_path / "la", pupils=150_000, years=1, as_of="2025-07-31", seed=3)
    assert res.n_marks > 50_000_000
    assert pq.ParquetFile(res.marks).metadata.num_rows == res.n_marks
