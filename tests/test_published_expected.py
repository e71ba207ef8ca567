"""The expected-PA model, similar schools and funnel limits, fitted on the real national data.

Expected values come from the raw published rows (csv module), from the published national
gaps by characteristic, or from formulas worked by hand here -- not from the modules' output.
The national model is fitted once for the module.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attendance_lib.io import dfe
from attendance_lib.published import data, expected, funnel, similar
from tests.published_raw import dfe_folder, raw

pytestmark = pytest.mark.realdata

SCHOOLS = "ees_pupil_absence/absence_3term_201819_release_school_201415_to_201819.csv.gz"
CENSUS = "csp_school_level/csp_england_census_201819.csv.gz"
NATCHAR = "ees_pupil_absence/absence_natcharacteristics_201213_to_201617.csv.gz"
#: a named Kent primary school used throughout (URN 118631, LAESTAB 8863083)
URN = "118631"


@pytest.fixture(scope="module")
def folder() -> Path:
    return dfe_folder("ees_pupil_absence")




@pytest.fixture(scope="module")
def sources(folder):
    return data.load_sources(folder)


@pytest.fixture(scope="module")
def model(sources):
    return expected.fit_expected(sources)


@pytest.fixture(scope="module")
def kent(sources):
    return data.benchmark_params("Kent").la


def school_rows_201819(folder: Path) -> list[dict]:
    return [r for r in raw(folder / SCHOOLS, ",201819,") if r["time_period"] == "201819"]


# ------------------------------------------------------------------------------ the sample
def test_schools_in_the_fit_and_left_out(folder, model):
    """Count, from the raw files, the schools with every characteristic published."""
    census = {r["URN"]: r for r in raw(folder / CENSUS)}
    rows = school_rows_201819(folder)
    assert len(rows) == 21_214
    no_census = [r for r in rows if r["urn"] not in census]
    fields = ("PNUMFSMEVER", "PSENELK", "PSENELSE", "PNUMEAL")
    blank = [r for r in rows if r["urn"] in census
             and any(census[r["urn"]][f] in ("", "NA", "c", "x", "z", "SUPP", ":", ".")
                     for f in fields)]
    used = len(rows) - len(no_census) - len(blank)
    assert (len(no_census), len(blank)) == (55, 1)
    assert model.n_schools == used == 21_158
    assert model.n_left_out == 56
    reasons = model.left_out.set_index("reason")["rows"]
    assert reasons["no January 2019 census row for the URN"] == 55
    assert reasons["% FSM ever (6 years) (PNUMFSMEVER) suppressed or missing"] == 1
    assert reasons["total"] == 56
    # the school with a blank FSM-ever figure is left out, not given 0%
    assert blank[0]["urn"] not in set(model.schools["urn"])
    assert model.schools["enrolments"].sum() == sum(
        int(r["enrolments"]) for r in rows if r["urn"] in census and r not in blank)


def published_gap(folder: Path, group: str, reference: str) -> float:
    """PA rate of ``group`` minus ``reference``, national 2016/17, from the raw file."""
    rows = {r["characteristic"]: r for r in raw(folder / NATCHAR)
            if r["year"] == "201617" and r["school_type"] == "Total"}

    def rate(name):
        return int(rows[name]["enrolments_PA_10_exact"]) / int(rows[name]["enrolments"])

    return rate(group) - rate(reference)


def test_coefficient_signs_match_the_published_gaps(folder, model):
    coef = model.result.params
    gaps = {
        "fsm_ever": published_gap(folder, "FSM_eligible_in_last_6_years",
                                  "FSM_not_eligible_in_last_6_years"),
        "sen_support": published_gap(folder, "SEN_provision_SEN_Support",
                                     "SEN_provision_No_identified_SEN"),
        "ehc_plan": published_gap(folder, "SEN_provision_Statement_or_EHCP",
                                  "SEN_provision_No_identified_SEN"),
        "eal": published_gap(folder, "First_language_Known_or_believed_to_be_other_than_English",
                             "First_language_Known_or_believed_to_be_English"),
    }
    # FSM and SEN raise PA (the published gaps are +12.8, +8.8 and +14.8 points; EAL -1.2)
    assert gaps["fsm_ever"] > 0.1 and gaps["sen_support"] > 0.05 and gaps["ehc_plan"] > 0.1
    assert gaps["eal"] < 0
    for term, gap in gaps.items():
        assert np.sign(coef[term]) == np.sign(gap), term
        ci = model.result.conf_int().loc[term]
        assert np.sign(ci[0]) == np.sign(ci[1]) == np.sign(gap), term   # not just noise
    # secondary and special schools have more PA than primary at the same intake
    assert coef["phase_Secondary"] > 0 and coef["phase_Special"] > 0


def test_deviance_recomputed_from_the_counts(model):
    s = model.schools
    y = s["pa"].astype("float64").to_numpy()
    n = s["enrolments"].astype("float64").to_numpy()
    mu = s["expected"].to_numpy() * n

    def xlogx(a, b):
        return np.where(a > 0, a * np.log(np.where(a > 0, a, 1) / b), 0.0)

    deviance = 2 * np.sum(xlogx(y, mu) + xlogx(n - y, n - mu))
    p0 = y.sum() / n.sum()
    null = 2 * np.sum(xlogx(y, n * p0) + xlogx(n - y, n * (1 - p0)))
    assert model.deviance == pytest.approx(deviance, rel=1e-9)
    assert model.null_deviance == pytest.approx(null, rel=1e-9)
    assert model.deviance < 0.6 * model.null_deviance          # intake explains a lot
    pearson = np.sum((y - mu) ** 2 / (mu * (1 - mu / n)))
    assert model.dispersion == pytest.approx(pearson / (len(y) - 8), rel=1e-9)
    assert model.dispersion > 1                                   # over-dispersed, as expected
    # a logistic GLM with an intercept reproduces the national PA total exactly
    assert mu.sum() == pytest.approx(y.sum(), rel=1e-9)
    summary = model.summary().set_index("figure")["value"]
    assert summary["schools in the fit"] == 21_158 and summary["schools left out"] == 56


def test_intervals_and_positions(model):
    s = model.schools
    assert ((s["lower_998"] <= s["lower_95"]) & (s["lower_95"] <= s["expected"])
            & (s["expected"] <= s["upper_95"]) & (s["upper_95"] <= s["upper_998"])).all()
    well_above = s["pa_rate"] > s["upper_998"]
    assert (s.loc[well_above, "position"] == "well above expected").all()
    within = (s["pa_rate"] >= s["lower_95"]) & (s["pa_rate"] <= s["upper_95"])
    assert (s.loc[within, "position"] == "as expected").all()
    # roughly 95% of schools within their 95% interval (the dispersion is estimated)
    assert 0.90 < within.mean() < 0.99


def test_named_school_figures_against_raw_rows(folder, model, kent):
    (row,) = [r for r in school_rows_201819(folder) if r["urn"] == URN]
    (cen,) = [r for r in raw(folder / CENSUS) if r["URN"] == URN]
    assert (row["la_name"], row["laestab"]) == ("Kent", "8863083")
    table = expected.expected_for_la(model, kent)
    mine = table[table["urn"] == URN].iloc[0]
    assert mine["enrolments"] == int(row["enrolments"]) == 73
    assert mine["pa"] == int(row["enrolments_pa_10_exact"]) == 49
    assert mine["pa_rate"] * 100 == pytest.approx(float(row["enrolments_pa_10_exact_percent"]),
                                                  abs=5e-6)
    assert mine["overall_rate"] * 100 == pytest.approx(float(row["sess_overall_percent"]),
                                                       abs=5e-6)
    for col, field in (("fsm_ever", "PNUMFSMEVER"), ("sen_support", "PSENELK"),
                       ("ehc_plan", "PSENELSE"), ("eal", "PNUMEAL")):
        assert mine[col] == float(cen[field]), col
    # its expected rate is the fitted logistic formula at its intake
    b = model.result.params
    eta = (b["const"] + b["fsm_ever"] * float(cen["PNUMFSMEVER"])
           + b["sen_support"] * float(cen["PSENELK"]) + b["ehc_plan"] * float(cen["PSENELSE"])
           + b["eal"] * float(cen["PNUMEAL"]) + b["log_size"] * math.log(73))
    assert mine["expected"] == pytest.approx(1 / (1 + math.exp(-eta)), rel=1e-12)
    assert mine["position"] == "well above expected"             # 67% PA
    assert table.iloc[0]["urn"] == URN                           # largest gap listed first


# ------------------------------------------------------------------------------ similar schools
def test_similar_schools_are_the_nearest_of_the_phase(model, kent):
    s = model.schools
    sim = similar.similar_schools(s, kent)
    assert sim.groupby("urn").size().eq(10).all()
    assert sim["urn"].nunique() == len(dfe.la_rows(s, kent))
    assert (sim["urn"] != sim["similar_urn"]).all()
    phase = s.set_index("urn")["phase"]
    assert (sim["similar_urn"].map(phase) == sim["phase"]).all()
    # brute force for the named school, standardising by hand within the phase
    primary = s[s["phase"] == "Primary"]
    cols = ["fsm_ever", "sen_support", "ehc_plan", "eal"]
    x = primary[cols].astype("float64").assign(log_size=np.log(
        primary["enrolments"].astype("float64")))
    z = (x - x.mean()) / x.std(ddof=0)
    me = z[primary["urn"] == URN].to_numpy()[0]
    dist = np.sqrt(((z.to_numpy() - me) ** 2).sum(axis=1))
    order = pd.DataFrame({"urn": primary["urn"].to_numpy(), "d": dist})
    order = order[order["urn"] != URN].sort_values(["d", "urn"]).head(10)
    mine = sim[sim["urn"] == URN].sort_values("rank")
    assert mine["similar_urn"].tolist() == order["urn"].tolist()
    assert np.allclose(mine["distance"], order["d"])


def test_similar_summary_pools_the_group(folder, model, kent):
    sim = similar.similar_schools(model.schools, kent)
    summary = similar.similar_summary(model.schools, sim, kent)
    row = summary[summary["urn"] == URN].iloc[0]
    group = set(sim.loc[sim["urn"] == URN, "similar_urn"])
    raw_rows = [r for r in school_rows_201819(folder) if r["urn"] in group]
    assert len(raw_rows) == 10
    pa = sum(int(r["enrolments_pa_10_exact"]) for r in raw_rows)
    n = sum(int(r["enrolments"]) for r in raw_rows)
    assert row["similar_pa_rate"] == pytest.approx(pa / n, rel=1e-12)
    assert row["pa_gap"] == pytest.approx(49 / 73 - pa / n, rel=1e-12)
    assert row["similar_urns"].split(", ") == sim.loc[sim["urn"] == URN].sort_values(
        "rank")["similar_urn"].tolist()


# ------------------------------------------------------------------------------ funnel
def test_funnel_limits_by_hand():
    lo, hi = funnel.funnel_limits(0.1, [100, 400], funnel.Z95)
    # 0.1 +/- 1.959964 * sqrt(0.09 / n): n = 100 -> 0.03 * 1.959964 = 0.0587989
    assert lo == pytest.approx([0.1 - 0.0587989, 0.1 - 0.0293995], abs=1e-7)
    assert hi == pytest.approx([0.1 + 0.0587989, 0.1 + 0.0293995], abs=1e-7)
    lo, hi = funnel.funnel_limits(0.1, [100], funnel.Z998, phi=4.0)
    assert hi[0] == pytest.approx(0.1 + 3.090232 * 2 * 0.03, abs=1e-6)
    assert lo[0] == 0.0                                       # clipped at zero


def test_overdispersion_by_hand():
    # ten schools of n = 100 around p0 = 0.5: z = (r - 0.5) / 0.05
    rates = np.array([0.40, 0.45, 0.5, 0.5, 0.5, 0.5, 0.5, 0.55, 0.6, 0.7])
    z = (rates - 0.5) / 0.05                                   # -2 -1 0 0 0 0 0 1 2 4
    # 10% and 90% quantiles (linear): -2 + 0.9 * 1 = -1.1 and 2 + 0.1 * 2 = 2.2
    assert np.quantile(z, [0.1, 0.9]) == pytest.approx([-1.1, 2.2])
    expected_phi = (1.1**2 + 1 + 0 + 1 + 2**2 + 2.2**2) / 10    # -2 -> -1.1, 4 -> 2.2
    assert funnel.overdispersion(rates, [100] * 10, 0.5) == pytest.approx(expected_phi)
    assert funnel.overdispersion([0.5, 0.5], [100, 100], 0.5) == 1.0
    assert funnel.overdispersion([0.5, 0.5], [100, 100], 0.5, floor=False) == 0.0


def test_school_funnel_england_rates_from_raw_rows(folder, sources, kent):
    rows = school_rows_201819(folder)
    result = funnel.school_funnel(sources.schools.frame, kent, "201819", "persistent_absence")
    eng = result.england.set_index("phase")
    for phase, school_type in (("Primary", "State-funded primary"),
                               ("Secondary", "State-funded secondary"), ("Special", "Special")):
        part = [r for r in rows if r["school_type"] == school_type]
        p0 = sum(int(r["enrolments_pa_10_exact"]) for r in part) / sum(
            int(r["enrolments"]) for r in part)
        assert eng.loc[phase, "england_rate"] == pytest.approx(p0, rel=1e-12)
        assert eng.loc[phase, "schools"] == len(part)
    kent_rows = [r for r in rows if r["old_la_code"] == "886"]
    assert len(result.schools) == len(kent_rows) == 577
    mine = result.schools.set_index("urn").loc[URN]
    phi = eng.loc["Primary", "phi"]
    p0 = eng.loc["Primary", "england_rate"]
    assert mine["upper_998"] == pytest.approx(
        p0 + funnel.Z998 * math.sqrt(phi * p0 * (1 - p0) / 73), rel=1e-12)
    assert mine["position"] == "above 99.8% limit"
    counts = result.counts()
    assert int(counts.to_numpy().sum()) == 577
    assert list(counts.columns) == list(funnel.POSITIONS)
