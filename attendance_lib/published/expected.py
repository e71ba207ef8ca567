"""Expected vs actual: what each school's intake predicts for its persistent-absence rate.

One concept: a binomial GLM (logit link, statsmodels) fitted on every state-funded school in
England, 2018/19 -- the only year whose school characteristics are in the files (Compare School
Performance, January 2019 census). Outcome: PA enrolments (10%+, domain.md 2.1) out of
enrolments, from the census absence school rows. Predictors (:data:`FEATURES`): % of pupils
ever eligible for free school meals in the last six years, % on SEN support, % with an EHC
plan, % with English as an additional language (each in percentage points), the phase
(primary = reference, secondary, special) and the size (natural log of enrolments).

Schools differ far more than a binomial allows, so standard errors use the Pearson dispersion
``phi`` (``scale="X2"``) and each school's interval for its observed rate combines chance
(``phi * p (1 - p) / n``) with the uncertainty of the fitted rate. A school above its 99.8%
interval sits *well above* what its intake predicts; above the 95% interval, *above*.

Schools without a census row or with a missing (suppressed, ``NA``) characteristic are left
out of the fit and counted by reason (:func:`intake_features`), never filled with zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attendance_lib.io import dfe

from .data import CHARACTERISTICS_YEAR, Sources, left_out
from .funnel import Z95, Z998

__all__ = ["FEATURES", "FEATURE_LABELS", "intake_features", "ExpectedModel", "fit_expected",
           "expected_for_la", "POSITIONS"]

#: model column -> CSP census column (percentages of pupils, 1 decimal place)
_CSP = {"fsm_ever": "PNUMFSMEVER", "sen_support": "PSENELK", "ehc_plan": "PSENELSE",
        "eal": "PNUMEAL"}
FEATURES = ("fsm_ever", "sen_support", "ehc_plan", "eal", "log_size")
FEATURE_LABELS = {"fsm_ever": "% FSM ever (6 years)", "sen_support": "% SEN support",
                  "ehc_plan": "% EHC plan", "eal": "% EAL",
                  "log_size": "size (log enrolments)", "phase_Secondary": "secondary (vs primary)",
                  "phase_Special": "special (vs primary)", "const": "intercept"}
_TERMS = ("const", "fsm_ever", "sen_support", "ehc_plan", "eal", "log_size", "phase_Secondary",
          "phase_Special")
POSITIONS = ("well above expected", "above expected", "as expected", "below expected",
             "well below expected")


def intake_features(sources: Sources) -> tuple[pd.DataFrame, pd.DataFrame]:
    """2018/19 school rows joined to their January 2019 intake, and what was left out.

    Returns
    -------
    (features, left_out)
        ``features``: one row per usable school: ``urn``, ``laestab``, ``old_la_code``,
        ``la_name``, ``phase``, ``enrolments``, ``pa`` (PA enrolments), ``sess_overall``,
        ``sess_possible``, ``pa_rate`` and ``overall_rate`` (proportions), the four
        percentages, ``nor`` (pupils on roll) and ``log_size``. ``left_out``: schools of the
        year not used, by reason (no census row; each characteristic missing; no enrolments).
    """
    from .funnel import school_rates

    rates = school_rates(sources.schools.frame, CHARACTERISTICS_YEAR)
    census = sources.characteristics.frame
    census = census[census["URN"].str.fullmatch(r"\d+", na=False)]
    intake = census[["URN", *_CSP.values(), "NOR"]].rename(
        columns={"URN": "urn", "NOR": "nor", **{v: k for k, v in _CSP.items()}})
    joined = rates.merge(intake, on="urn", how="left", indicator=True, validate="one_to_one")
    reasons = {"no January 2019 census row for the URN": joined["_merge"].eq("left_only")}
    for col, csp in _CSP.items():
        reasons[f"{FEATURE_LABELS[col]} ({csp}) suppressed or missing"] = joined[col].isna()
    reasons["no enrolments or PA count"] = (joined["enrolments"].fillna(0).le(0)
                                           | joined["enrolments_pa_10_exact"].isna())
    skipped = left_out(joined, reasons)
    bad = pd.concat(list(reasons.values()), axis=1).any(axis=1)
    used = joined[~bad].drop(columns="_merge").rename(
        columns={"enrolments_pa_10_exact": "pa", "persistent_absence": "pa_rate",
                 "overall_absence": "overall_rate"})
    used = used.assign(log_size=np.log(used["enrolments"].astype("float64")),
                       **{c: used[c].astype("float64") for c in _CSP})
    return used.reset_index(drop=True), skipped


def _design(frame: pd.DataFrame) -> pd.DataFrame:
    x = frame[list(FEATURES)].astype("float64")
    x.insert(0, "const", 1.0)
    x["phase_Secondary"] = frame["phase"].eq("Secondary").astype("float64")
    x["phase_Special"] = frame["phase"].eq("Special").astype("float64")
    return x[list(_TERMS)]


@dataclass(frozen=True, eq=False)
class ExpectedModel:
    """A fitted expected-PA model (see the module docstring).

    Attributes
    ----------
    result : statsmodels GLMResults
        Fitted with ``scale="X2"`` (standard errors allow for over-dispersion).
    schools : DataFrame
        Every school used, with ``expected`` (proportion), ``lower_95`` ... ``upper_998``
        and ``position`` (:data:`POSITIONS`).
    left_out : DataFrame
        Schools of the year not used, by reason.
    """

    result: object
    schools: pd.DataFrame
    left_out: pd.DataFrame

    @property
    def n_schools(self) -> int:
        return int(self.result.nobs)

    @property
    def n_left_out(self) -> int:
        return int(self.left_out.loc[self.left_out["reason"] == "total", "rows"].iloc[0])

    @property
    def deviance(self) -> float:
        return float(self.result.deviance)

    @property
    def null_deviance(self) -> float:
        return float(self.result.null_deviance)

    @property
    def dispersion(self) -> float:
        """Pearson chi-squared / residual degrees of freedom (``phi``)."""
        return float(self.result.pearson_chi2 / self.result.df_resid)

    def coefficients(self) -> pd.DataFrame:
        """Coefficients (log-odds), standard errors, 95% intervals and odds ratios.

        ``odds ratio`` is per 10 percentage points for the percentages, per doubling of size
        for ``log_size``, and for the phase against primary.
        """
        params, se = self.result.params, self.result.bse
        ci = self.result.conf_int()
        step = pd.Series({t: 10.0 if t in _CSP else (np.log(2) if t == "log_size" else 1.0)
                          for t in _TERMS})
        table = pd.DataFrame({"term": [FEATURE_LABELS[t] for t in _TERMS], "coef": params,
                              "se": se, "ci_low": ci[0], "ci_high": ci[1],
                              "z": params / se, "p_value": self.result.pvalues,
                              "odds_ratio": np.exp(params * step),
                              "odds_ratio_per": ["-"] + ["10 points"] * 4 + ["doubling"]
                              + ["vs primary"] * 2})
        table.index.name = "name"
        return table

    def summary(self) -> pd.DataFrame:
        """Headline figures of the fit, one row each (for the report)."""
        rows = [("schools in the fit", self.n_schools),
                ("schools left out", self.n_left_out),
                ("enrolments in the fit", int(self.schools["enrolments"].sum())),
                ("residual deviance", round(self.deviance, 1)),
                ("null deviance", round(self.null_deviance, 1)),
                ("deviance explained (%)", round(100 * (1 - self.deviance
                                                         / self.null_deviance), 1)),
                ("residual degrees of freedom", int(self.result.df_resid)),
                ("dispersion (Pearson chi2 / df)", round(self.dispersion, 2))]
        return pd.DataFrame(rows, columns=["figure", "value"])


def fit_expected(sources: Sources) -> ExpectedModel:
    """Fit the expected-PA GLM on every usable state-funded school in England (2018/19)."""
    import statsmodels.api as sm

    features, skipped = intake_features(sources)
    x = _design(features)
    pa = features["pa"].astype("float64").to_numpy()
    n = features["enrolments"].astype("float64").to_numpy()
    model = sm.GLM(np.column_stack([pa, n - pa]), x, family=sm.families.Binomial())
    result = model.fit(scale="X2")
    mu = np.asarray(result.fittedvalues, dtype="float64")
    cov = np.asarray(result.cov_params(), dtype="float64")
    xv = x.to_numpy()
    var_eta = np.einsum("ij,jk,ik->i", xv, cov, xv)
    var_mu = (mu * (1 - mu)) ** 2 * var_eta
    phi = float(result.pearson_chi2 / result.df_resid)
    sd = np.sqrt(phi * mu * (1 - mu) / n + var_mu)
    schools = features.assign(
        expected=mu, interval_sd=sd,
        lower_95=np.clip(mu - Z95 * sd, 0, 1), upper_95=np.clip(mu + Z95 * sd, 0, 1),
        lower_998=np.clip(mu - Z998 * sd, 0, 1), upper_998=np.clip(mu + Z998 * sd, 0, 1))
    rate = schools["pa_rate"].to_numpy()
    pos = np.full(len(schools), POSITIONS[2], dtype=object)
    pos[rate > schools["upper_95"]] = POSITIONS[1]
    pos[rate > schools["upper_998"]] = POSITIONS[0]
    pos[rate < schools["lower_95"]] = POSITIONS[3]
    pos[rate < schools["lower_998"]] = POSITIONS[4]
    schools = schools.assign(position=pos, difference=rate - mu)
    return ExpectedModel(result=result, schools=schools, left_out=skipped)


def expected_for_la(model: ExpectedModel, la: dfe.LocalAuthority) -> pd.DataFrame:
    """The LA's schools: observed and expected PA rate, interval, position; largest gaps first."""
    mine = dfe.la_rows(model.schools, la)
    order = mine["difference"].abs().sort_values(ascending=False).index
    return mine.loc[order].reset_index(drop=True)
