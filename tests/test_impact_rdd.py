"""Regression discontinuity on a threshold-assigned synthetic intervention.

The generator's ``attendance_letter`` type (off by default) is sent on the first day after the
October half-term to every pupil whose year-to-date absence is 10% or more, and lowers their
absence hazards by a quarter for 12 weeks. The truth at the cut-off comes from the generator's
counterfactual run of every letter's pupil (``ground_truth/interventions.parquet``): a local
linear fit of the per-pupil effect on year-to-date absence, evaluated at 10%.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from attendance_lib.impact.panel import load_episodes, load_register
from attendance_lib.impact.rdd import rd_data, regression_discontinuity
from attendance_lib.store import Store
from attendance_lib.synth import SynthConfig, generate_la
from attendance_lib.synth.config import INTERVENTIONS, InterventionSpec

LETTER = InterventionSpec(hazard_ratio=0.75, capacity_per_100=100.0, duration_weeks=12,
                          uptake=1.0, threshold_pct=10.0, judgement_noise=0.0)


def _la(tmp, seed, pupils, letter=LETTER):
    cfg = SynthConfig(interventions={**INTERVENTIONS, "attendance_letter": letter})
    res = generate_la(tmp / f"la{seed}", pupils=pupils, years=1, as_of="2025-03-31", seed=seed,
                      config=cfg)
    store = Store(tmp / f"store{seed}")
    store.ingest(**res.ingest_kwargs())
    reg = load_register(store)
    return res, reg, load_episodes(store, reg)


def _truth_at_cutoff(res, h: float) -> float:
    gt = pd.read_parquet(res.ground_truth / "interventions.parquet")
    g = gt[(gt["type"] == "attendance_letter") & (gt["possible"] > 0)]
    x = g["ytd_absence_pct"].to_numpy() - 10
    m = (x >= 0) & (x < h)
    w = 1 - x[m] / h
    X = np.column_stack([np.ones(m.sum()), x[m]])
    beta = np.linalg.lstsq(X * np.sqrt(w)[:, None], g["effect_pp"].to_numpy()[m] * np.sqrt(w),
                           rcond=None)[0]
    return float(beta[0])


@pytest.fixture(scope="module")
def letters(tmp_path_factory):
    return _la(tmp_path_factory.mktemp("impact_rdd"), 1, 4000)


def test_running_variable_is_the_generators(letters):
    res, reg, ep = letters
    df = rd_data(reg, ep, "attendance_letter")
    gt = pd.read_parquet(res.ground_truth / "interventions.parquet")
    gt = gt[gt["type"] == "attendance_letter"]
    m = df[df["treated"] == 1].merge(gt, on=["upn", "urn"])
    assert len(m) == len(gt) == (df["x"] >= 0).sum()
    assert np.allclose(m["x"] + 10, m["ytd_absence_pct"])


def test_rd_recovers_the_effect_at_the_cutoff(letters):
    res, reg, ep = letters
    r = regression_discontinuity(reg, ep, "attendance_letter")
    e, d = r.estimate, r.diagnostics
    assert d["sharp"] and d["share_treated_left"] == 0 and d["share_treated_right"] == 1
    truth = _truth_at_cutoff(res, d["bandwidth_pp"])
    assert truth < -1  # a real effect near the cut-off
    assert e.ci_low <= truth <= e.ci_high, (e, truth)
    assert d["density_test"]["p_value"] > 0.05  # nobody moved across the threshold
    assert e.n_treated > 100 and e.n_comparison > 100


@pytest.mark.slow
def test_rd_over_seeds_and_a_fuzzy_rule(tmp_path_factory):
    """Five fresh LAs with a strict rule and five where only 70% of letters are sent (a fuzzy
    design: the jump in absence divided by the jump in the share sent)."""
    tmp = tmp_path_factory.mktemp("impact_rdd_slow")
    covered = []
    for seed in range(2, 7):
        res, reg, ep = _la(tmp, seed, 6000)
        r = regression_discontinuity(reg, ep, "attendance_letter")
        covered.append(r.estimate.covers(_truth_at_cutoff(res, r.diagnostics["bandwidth_pp"])))
        fuzzy = dataclasses.replace(LETTER, uptake=0.7)
        res, reg, ep = _la(tmp, 100 + seed, 6000, fuzzy)
        r = regression_discontinuity(reg, ep, "attendance_letter")
        assert not r.diagnostics["sharp"]
        assert 0.6 < r.diagnostics["first_stage_jump"] < 0.8
        covered.append(r.estimate.covers(_truth_at_cutoff(res, r.diagnostics["bandwidth_pp"])))
    print(covered)
    assert sum(covered) >= 9
