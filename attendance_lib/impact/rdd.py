"""Regression discontinuity where support followed a threshold rule.

When a type of support is offered to every pupil whose year-to-date absence on a decision date
is at or above a cut-off (e.g. attendance below 90% at the October half-term: absence >= 10%),
pupils just either side of the cut-off are alike except for the offer, so the jump in their
later absence at the cut-off is the effect of the offer for pupils near it (Imbens and Lemieux
2008). Here:

* **running variable** -- year-to-date absence rate (% of possible sessions) before the decision
  date, among pupils on roll that day with at least ``min_ytd_sessions`` possible sessions and
  not already given this support this year;
* **outcome** -- absence rate over the ``window_weeks`` school weeks from the decision date
  (:mod:`attendance_lib.impact.panel` week rules);
* **treatment** -- the support started within ``offer_weeks`` school weeks of the decision date.
  If the share treated jumps from 0 to 1 at the cut-off the design is sharp; otherwise the jump
  in the outcome is divided by the jump in the share treated (fuzzy design, Wald estimator),
  with a delta-method interval from the joint clustered covariance;
* **local linear fit** with a triangular kernel on each side of the cut-off; the bandwidth is the
  Imbens and Kalyanaraman (2012) MSE-optimal one unless given; estimates at half and double the
  bandwidth are reported as a sensitivity check;
* **density check** -- McCrary (2008): a jump in the number of pupils at the cut-off would
  suggest the running variable was manipulated (e.g. absences recoded to avoid or reach the
  threshold). Year-to-date absence is a ratio of whole sessions, so it sits on a grid, and
  absence mostly comes as whole days, so even counts are commoner than odd ones; for this
  check only, each pupil's count is spread uniformly over the two sessions around it
  (``absent + 2u - 1``), which leaves a smooth distribution smooth and removes the odd/even
  saw-tooth that would otherwise look like a jump.

The estimate is an effect **at the cut-off**, not the average over everyone supported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .estimate import Estimate, cluster_wls
from .features import feature_arrays
from .panel import Register

__all__ = ["RDResult", "rd_data", "regression_discontinuity", "ik_bandwidth", "mccrary",
           "local_linear", "plot_rd"]


@dataclass
class RDResult:
    estimate: Estimate
    data: pd.DataFrame
    diagnostics: dict = field(default_factory=dict)


def rd_data(reg: Register, episodes: pd.DataFrame, kind: str, *, cutoff_pct: float = 10.0,
            decision_dates: dict | None = None, window_weeks: int = 10,
            min_ytd_sessions: int = 20, offer_weeks: int = 4) -> pd.DataFrame:
    """One row per pupil on roll on each year's decision date: ``upn, urn, academic_year,
    x`` (year-to-date absence % minus the cut-off), ``ytd_absent, ytd_possible, treated``
    (0/1), ``y`` (absence % over the window).

    The decision date of a year is ``decision_dates[year]`` or, by default, the earliest start
    of this type that year (support offered on the decision day starts then).
    """
    ep = episodes[(episodes["type"] == kind) & (episodes["status"] == "ok")]
    parts = []
    for y, g in ep.groupby("academic_year"):
        yr = reg.years[int(y)]
        d = (decision_dates or {}).get(int(y), g["start_date"].min())
        rows = np.arange(yr.n)
        anc = yr.anchor(rows, d)
        f = feature_arrays(yr, rows, anc, window_weeks=window_weeks, pre_weeks=1, n_weekly=0)
        # when the offer window ends, on each pupil's school weeks
        s = yr.school
        w0 = yr.week[s, np.clip(anc, 0, None)]
        hi = yr.week_last[s, np.clip(np.minimum(w0 + offer_weeks - 1, yr.n_weeks[s] - 1), 0,
                                     None)]
        offer_end = yr.days[np.clip(hi, 0, None)]
        d64 = np.datetime64(pd.Timestamp(d).date(), "D")
        start = g["start_date"].to_numpy().astype("datetime64[D]")
        before = pd.Series(g["row"].to_numpy()[start < d64]).unique()
        t = pd.DataFrame({"row": g["row"].to_numpy(), "start": start})
        t = t[t["start"] >= d64].groupby("row")["start"].min()
        first_start = np.full(yr.n, np.datetime64("NaT"), "datetime64[D]")
        first_start[t.index.to_numpy()] = t.to_numpy()
        treated = (~np.isnat(first_start)) & (first_start <= offer_end)
        keep = (f["on_roll"] & (f["ytd_possible"] >= min_ytd_sessions)
                & (f["post_possible"] > 0))
        keep[before] = False
        parts.append(pd.DataFrame({
            "upn": yr.upn[keep], "urn": yr.urn[keep], "academic_year": int(y),
            "decision_date": pd.Timestamp(d), "ytd_absent": f["ytd_absent"][keep],
            "ytd_possible": f["ytd_possible"][keep], "x": f["ytd_rate"][keep] - cutoff_pct,
            "treated": treated[keep].astype(float), "y": f["post_rate"][keep]}))
    if not parts:
        return pd.DataFrame(columns=["upn", "urn", "academic_year", "decision_date",
                                     "ytd_absent", "ytd_possible", "x", "treated", "y"])
    return pd.concat(parts, ignore_index=True)


def _tri(x, h):
    return np.clip(1 - np.abs(x) / h, 0, None)


def local_linear(df: pd.DataFrame, h: float, outcome: str = "y"):
    """Local linear jump at x = 0 with a triangular kernel of bandwidth ``h``.

    Returns the fitted statsmodels results (clustered by pupil); the jump is ``"above"``.
    """
    d = df[np.abs(df["x"]) < h]
    x = d["x"].to_numpy(float)
    above = (x >= 0).astype(float)
    X = np.column_stack([np.ones(len(d)), above, x, x * above])
    return cluster_wls(d[outcome].to_numpy(float), X, _tri(x, h), d["upn"].to_numpy(),
                       names=["const", "above", "x", "x_above"]), d


def ik_bandwidth(x: np.ndarray, y: np.ndarray) -> float:
    """Imbens and Kalyanaraman (2012) MSE-optimal bandwidth for a sharp RD at x = 0
    (triangular kernel, their Algorithm 3.2 with regularisation)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    N = len(x)
    sx = np.std(x)
    h1 = 1.84 * sx * N ** (-1 / 5)
    left, right = (x < 0) & (x >= -h1), (x >= 0) & (x <= h1)
    nl, nr = left.sum(), right.sum()
    if nl < 5 or nr < 5:
        return float(2 * h1)
    f0 = (nl + nr) / (2 * N * h1)
    var_l, var_r = np.var(y[left], ddof=1), np.var(y[right], ddof=1)
    # third derivative from a global cubic with a jump
    above = (x >= 0).astype(float)
    X = np.column_stack([np.ones(N), above, x, x ** 2, x ** 3])
    g = np.linalg.lstsq(X, y, rcond=None)[0]
    m3 = 6 * g[4]
    N_l, N_r = (x < 0).sum(), (x >= 0).sum()
    c2 = 3.56
    h2l = c2 * (var_l / (f0 * max(m3 ** 2, 1e-12))) ** (1 / 7) * N_l ** (-1 / 7)
    h2r = c2 * (var_r / (f0 * max(m3 ** 2, 1e-12))) ** (1 / 7) * N_r ** (-1 / 7)

    def curv(mask, h2):
        xs, ys = x[mask], y[mask]
        if len(xs) < 4:
            return 0.0, len(xs)
        Xq = np.column_stack([np.ones(len(xs)), xs, xs ** 2])
        return 2 * np.linalg.lstsq(Xq, ys, rcond=None)[0][2], len(xs)

    m2l, n2l = curv((x < 0) & (x >= -h2l), h2l)
    m2r, n2r = curv((x >= 0) & (x <= h2r), h2r)
    rl = 2160 * var_l / (max(n2l, 1) * h2l ** 4)
    rr = 2160 * var_r / (max(n2r, 1) * h2r ** 4)
    ck = 3.4375
    h = ck * ((var_l + var_r) / (f0 * ((m2r - m2l) ** 2 + rl + rr))) ** (1 / 5) * N ** (-1 / 5)
    return float(h)


def mccrary(x: np.ndarray, *, bin_width: float | None = None, bandwidth: float | None = None
            ) -> dict:
    """McCrary (2008) density test at 0: log difference of the density either side.

    Histogram the running variable, fit a local linear regression (triangular kernel) to the
    bin heights on each side, and compare the fitted densities at the cut-off.
    """
    x = np.asarray(x, float)
    n = len(x)
    if n < 50:
        return {"log_difference": None, "z": None, "p_value": None, "n": n}
    b = bin_width or 2 * np.std(x) * n ** (-1 / 2)
    h = bandwidth or 2.0 * np.std(x) * n ** (-1 / 5)  # rough rule, wide enough to be stable
    lo = np.floor(x.min() / b) * b
    edges = np.arange(lo, x.max() + b, b)
    edges = edges[np.abs(edges) > 1e-12]
    edges = np.sort(np.r_[edges, 0.0])
    counts, edges = np.histogram(x, edges)
    mids = (edges[:-1] + edges[1:]) / 2
    widths = np.diff(edges)
    heights = counts / (n * widths)
    out = {}
    for side, m in (("left", mids < 0), ("right", mids >= 0)):
        xm, hm = mids[m], heights[m]
        sel = np.abs(xm) < h
        w = _tri(xm[sel], h)
        if sel.sum() < 3:
            return {"log_difference": None, "z": None, "p_value": None, "n": n}
        X = np.column_stack([np.ones(sel.sum()), xm[sel]])
        W = np.sqrt(w)
        out[side] = max(float(np.linalg.lstsq(X * W[:, None], hm[sel] * W, rcond=None)[0][0]),
                        1e-12)
    theta = np.log(out["right"]) - np.log(out["left"])
    se = np.sqrt((1 / (n * h)) * (24 / 5) * (1 / out["right"] + 1 / out["left"]))
    z = theta / se
    return {"log_difference": float(theta), "se": float(se), "z": float(z),
            "p_value": float(2 * stats.norm.sf(abs(z))), "bin_width": float(b),
            "bandwidth": float(h), "n": n}


def _jumps(df: pd.DataFrame, h: float):
    """Jumps in the outcome and in the share treated, and their joint covariance."""
    d = df[np.abs(df["x"]) < h]
    x = d["x"].to_numpy(float)
    above = (x >= 0).astype(float)
    n = len(d)
    # stack the two regressions so one clustered fit gives their covariance
    Z = np.column_stack([np.ones(n), above, x, x * above])
    X = np.zeros((2 * n, 8))
    X[:n, :4] = Z
    X[n:, 4:] = Z
    yy = np.r_[d["y"].to_numpy(float), d["treated"].to_numpy(float)]
    w = np.r_[_tri(x, h), _tri(x, h)]
    g = np.r_[d["upn"].to_numpy(), d["upn"].to_numpy()]
    names = ["c_y", "jump_y", "x_y", "xa_y", "c_d", "jump_d", "x_d", "xa_d"]
    res = cluster_wls(yy, X, w, g, names=names)
    return res, d


def regression_discontinuity(reg: Register, episodes: pd.DataFrame, kind: str, *,
                             cutoff_pct: float = 10.0, decision_dates: dict | None = None,
                             window_weeks: int = 10, bandwidth: float | None = None,
                             min_ytd_sessions: int = 20, offer_weeks: int = 4,
                             seed: int = 0) -> RDResult:
    """The RD estimate (percentage points, at the cut-off) with diagnostics.

    See the module docstring; ``bandwidth`` is in percentage points of year-to-date absence.
    """
    design = "regression_discontinuity"
    df = rd_data(reg, episodes, kind, cutoff_pct=cutoff_pct, decision_dates=decision_dates,
                 window_weeks=window_weeks, min_ytd_sessions=min_ytd_sessions,
                 offer_weeks=offer_weeks)
    if len(df) < 50 or (df["x"] < 0).sum() < 20 or (df["x"] >= 0).sum() < 20:
        return RDResult(Estimate.empty(kind, design, "too few pupils either side of the "
                                                     "cut-off"), df)
    h = float(bandwidth) if bandwidth else ik_bandwidth(df["x"].to_numpy(), df["y"].to_numpy())
    h = max(h, 1e-6)

    def fit(hh):
        res, d = _jumps(df, hh)
        jy, jd = float(res.params["jump_y"]), float(res.params["jump_d"])
        V = res.cov_params().loc[["jump_y", "jump_d"], ["jump_y", "jump_d"]].to_numpy()
        sharp = abs(jd - 1) < 1e-9 and V[1, 1] < 1e-12
        if sharp:
            est, se = jy, float(np.sqrt(V[0, 0]))
        else:
            est = jy / jd if jd != 0 else np.nan
            grad = np.array([1 / jd, -jy / jd ** 2]) if jd != 0 else np.array([np.nan, np.nan])
            se = float(np.sqrt(grad @ V @ grad))
        return est, se, jd, sharp, d, res

    est, se, jd, sharp, d, res = fit(h)
    G = d["upn"].nunique()
    q = stats.t.ppf(0.975, max(G - 1, 1))
    rng = np.random.default_rng(seed)
    jitter = (100 * (df["ytd_absent"] + 2 * rng.random(len(df)) - 1) / df["ytd_possible"]
              - cutoff_pct)
    dens = mccrary(jitter.to_numpy())
    sens = {}
    for mult in (0.5, 2.0):
        try:
            e2, s2, *_ = fit(h * mult)
            sens[f"bandwidth_x{mult:g}"] = {"estimate_pp": e2, "se": s2}
        except (ValueError, np.linalg.LinAlgError):
            sens[f"bandwidth_x{mult:g}"] = None
    n_l, n_r = int((d["x"] < 0).sum()), int((d["x"] >= 0).sum())
    diag = {"cutoff_pct": cutoff_pct, "bandwidth_pp": h, "n_left": n_l, "n_right": n_r,
            "first_stage_jump": jd, "sharp": bool(sharp),
            "decision_dates": sorted({str(pd.Timestamp(x).date())
                                      for x in df["decision_date"]}),
            "density_test": dens, "sensitivity": sens,
            "share_treated_left": float(d.loc[d["x"] < 0, "treated"].mean()),
            "share_treated_right": float(d.loc[d["x"] >= 0, "treated"].mean())}
    if not np.isfinite(est) or abs(jd) < 0.2:
        diag["warning"] = ("the share supported barely changes at the cut-off: the rule was not "
                           "applied strictly, so a regression discontinuity cannot be used")
    e = Estimate(kind, design, float(est), float(est - q * se), float(est + q * se), float(se),
                 n_r if sharp else int(d["treated"].sum()), n_l, diag)
    return RDResult(e, df, diag)


def plot_rd(result: RDResult, bins: int = 30, ax=None):
    """Binned means of the outcome against the running variable, with both local fits."""
    from attendance_lib.plots import figure_on

    fig, ax = figure_on(ax)
    df = result.data
    h = result.diagnostics.get("bandwidth_pp")
    if df.empty or not h:
        return fig
    d = df[np.abs(df["x"]) < 2 * h]
    cut = pd.cut(d["x"], bins)
    m = d.groupby(cut, observed=True).agg(x=("x", "mean"), y=("y", "mean"))
    ax.scatter(m["x"], m["y"], s=12, color="#7f7f7f")
    for side in (d["x"] < 0, d["x"] >= 0):
        s = d[side & (np.abs(d["x"]) < h)]
        if len(s) > 2:
            b = np.polyfit(s["x"], s["y"], 1, w=_tri(s["x"].to_numpy(), h) + 1e-9)
            xs = np.linspace(s["x"].min(), s["x"].max(), 20)
            ax.plot(xs, np.polyval(b, xs), color="#1f5fa8")
    ax.axvline(0, color="#b22222", ls="--", lw=0.8)
    ax.set_xlabel("year-to-date absence minus the cut-off (percentage points)")
    ax.set_ylabel("absence rate afterwards (%)")
    fig.tight_layout()
    return fig
