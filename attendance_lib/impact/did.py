"""Matched difference-in-differences: the supported pupils' change against their comparison's.

For each supported pupil ``i`` and their matched comparison pupils ``j`` (same start date,
same days; :mod:`attendance_lib.impact.matching`), the change is the absence rate over the
outcome window (weeks ``0 .. window_weeks - 1``) minus the rate over the pre-period (weeks
``-pre_weeks .. -1``). The estimate is

    mean over i of [ change_i - weighted mean over j of change_j ]

fitted as a weighted least-squares regression of the change on a supported-pupil indicator
(comparison weights ``1/k_i``), with standard errors clustered by pupil (statsmodels), so a
pupil who appears several times (supported twice, or the comparison for several supported
pupils) counts as one cluster. Averaging over supported episodes with equal weight estimates the
average effect on the supported pupils -- the quantity the synthetic generator records as the
truth (mean over episodes of the rate difference, ``ground_truth/effects.json``).

:func:`year_end_pa` is the second outcome: persistent absence (10%+ of possible sessions missed,
domain.md 2.1) over the whole academic year of the enrolment, against being persistently absent
on the start date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .estimate import Estimate, cluster_wls, col_mean_sd
from .features import DISTANCE_FEATURES
from .matching import MatchedSample

__all__ = ["matched_did", "year_end_pa", "did_from_units", "adjustment_order"]


def adjustment_order(features) -> list[str]:
    """The matching features, most prognostic first (those the distance uses)."""
    first = [f for f in DISTANCE_FEATURES if f in features]
    return first + [f for f in features if f not in first]


def _covariates(u: pd.DataFrame, names, treated: np.ndarray) -> np.ndarray:
    x = u[list(names)].to_numpy(float)
    mu, sd = col_mean_sd(x)
    z = (x - np.where(np.isfinite(mu), mu, 0)) / np.where(np.isfinite(sd) & (sd > 0), sd, 1)
    z = np.where(np.isnan(z), 0.0, z)
    z = z[:, z.std(axis=0) > 0]
    return _independent(z, treated)


def _independent(z: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """The columns of ``z`` linearly independent of a constant, the supported indicator and
    each other (e.g. the last three weeks' rate is the mean of the three weekly rates when
    every week has ten sessions): QR with column pivoting, the constant and the indicator
    always kept."""
    from scipy.linalg import qr

    if z.shape[1] == 0:
        return z
    base = np.column_stack([np.ones(len(z)), treated.astype(float)])
    q0, _ = np.linalg.qr(base)
    resid = z - q0 @ (q0.T @ z)  # what the constant and the indicator do not explain
    _, r, piv = qr(resid, mode="economic", pivoting=True)
    d = np.abs(np.diag(r))
    scale = max(float(np.abs(z).max()), 1.0)
    keep = sorted(int(j) for j, dj in zip(piv, d, strict=False) if dj > 1e-8 * scale * len(z))
    return z[:, keep]


def did_from_units(units: pd.DataFrame, change: np.ndarray, kind: str, design: str,
                   diagnostics: dict | None = None, covariates=()) -> Estimate:
    """Weighted DiD of ``change`` (one value per unit row) with clustered errors, adjusted
    linearly for ``covariates`` (columns of ``units``) when given."""
    ok = np.isfinite(change)
    u = units[ok]
    ch = change[ok]
    treated = (u["role"] == "treated").to_numpy()
    n_t = int(treated.sum())
    n_c = int(u.loc[~treated, "upn"].nunique())
    if n_t == 0 or n_c == 0:
        return Estimate.empty(kind, design, "no supported pupil with a comparison", n_t, n_c)
    # sets that lost all their comparison rows (or their treated row) are dropped
    sets_t = set(u.loc[treated, "set"])
    sets_c = set(u.loc[~treated, "set"])
    both = sets_t & sets_c
    keep = u["set"].isin(both).to_numpy()
    u, ch, treated = u[keep], ch[keep], treated[keep]
    # re-normalise comparison weights within each set
    w = u["weight"].to_numpy(float).copy()
    cmask = ~treated
    tot = pd.Series(w[cmask]).groupby(u.loc[cmask, "set"].to_numpy()).transform("sum")
    w[cmask] = w[cmask] / tot.to_numpy()
    X = np.column_stack([np.ones(len(u)), treated.astype(float)])
    names = ["const", "treated"]
    adjusted = False
    # at most one covariate per 10 supported pupils (small samples: fewer, the most prognostic
    # first), or the clustered interval comes out too narrow
    covariates = list(covariates)[:int(treated.sum()) // 10]
    if len(covariates):
        z = _covariates(u, covariates, treated)
        # centred at the supported pupils' mean and interacted with the indicator, so the
        # indicator's coefficient is the average over the supported pupils of their change
        # minus the change the comparison pupils' regression predicts for them (the ATT;
        # a common slope would let the effect's own variation leak into the adjustment)
        z = z - np.average(z[treated], axis=0, weights=w[treated])
        # a linear adjustment needs many more pupils than covariates (else it overfits)
        if len(u) >= 10 * (2 * z.shape[1] + 2) and (~treated).sum() >= 5 * (z.shape[1] + 1):
            extra = np.column_stack([z, z * treated[:, None]])
            extra = _independent(extra, treated)
            X = np.column_stack([X, extra])
            names += [f"x{i}" for i in range(extra.shape[1])]
            adjusted = True
    n_t = int(treated.sum())
    n_c = int(u.loc[cmask, "upn"].nunique())
    if len(np.unique(u["upn"])) < 3:
        return Estimate.empty(kind, design, "too few pupils", n_t, n_c)
    res = cluster_wls(ch, X, w, u["upn"].to_numpy(), names=names)
    est = float(res.params["treated"])
    lo, hi = (float(v) for v in res.conf_int().loc["treated"])
    diag = dict(diagnostics or {})
    diag.update({"clusters": int(u["upn"].nunique()), "covariate_adjusted": adjusted,
                 "treated_change_pp": float(ch[treated].mean()),
                 "comparison_change_pp": float(np.average(ch[~treated], weights=w[~treated]))})
    return Estimate(kind, design, est, lo, hi, float(res.bse["treated"]), n_t, n_c, diag)


def matched_did(sample: MatchedSample, adjust: bool = True) -> Estimate:
    """Difference-in-differences of absence rate on the matched sample (percentage points).

    With ``adjust`` the regression also holds the matching features constant (linear
    regression adjustment of the matched sample, with slopes of their own for the supported
    pupils and the features centred at their mean, so the estimate stays the average effect on
    the supported pupils: removes what is left of the imbalance, Abadie and Imbens 2011, and
    narrows the interval).
    """
    if sample.units.empty:
        return Estimate.empty(sample.type, "matched_did", "no supported pupil could be matched")
    u = sample.units
    change = (u["post_rate"] - u["pre_rate"]).to_numpy(float)
    return did_from_units(u, change, sample.type, "matched_did", {
        "window_weeks": sample.params.window_weeks, "pre_weeks": sample.params.pre_weeks,
        **{k: v for k, v in sample.diagnostics.items() if not isinstance(v, dict)}},
        covariates=adjustment_order(sample.params.features) if adjust else ())


def year_end_pa(sample: MatchedSample, reg=None) -> Estimate:
    """Change in the share persistently absent: at the year's end against on the start date.

    Year-end PA is over the enrolment's whole academic year (absent * 10 >= possible, the
    DfE's integer rule); when the year is not over in the store it is PA so far, flagged in the
    diagnostics (``partial_year``).
    """
    design = "year_end_pa"
    if sample.units.empty:
        return Estimate.empty(sample.type, design, "no supported pupil could be matched")
    u = sample.units
    end_pa = ((u["year_absent"] * 10 >= u["year_possible"]) & (u["year_possible"] > 0))
    start_pa = ((u["ytd_absent"] * 10 >= u["ytd_possible"]) & (u["ytd_possible"] > 0))
    change = 100.0 * (end_pa.astype(float) - start_pa.astype(float)).to_numpy()
    partial = None
    if reg is not None:
        partial = [int(y) for y in u["academic_year"].unique()
                   if (lambda d: d.month < 7 or (d.month == 7 and d.day < 15))(
                       pd.Timestamp(reg.years[int(y)].days[-1]))]
    t = u["role"] == "treated"
    diag = {"treated_pa_at_start_pct": float(100 * start_pa[t].mean()),
            "treated_pa_year_end_pct": float(100 * end_pa[t].mean()),
            "partial_year": partial}
    return did_from_units(u, change, sample.type, design, diag)
