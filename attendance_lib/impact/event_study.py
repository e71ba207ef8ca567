"""Event study: the effect week by week around the start, with a pre-trend test.

Start dates are staggered (mentoring after two half-terms, penalty notices all year round), and
a two-way fixed-effects regression over staggered starts compares later-supported pupils with
already-supported ones and can even flip the sign (Goodman-Bacon 2021; de Chaisemartin and
D'Haultfoeuille 2020). So there is **no two-way fixed-effects regression here**. As in Callaway
and Sant'Anna (2021), each cohort of pupils supported from the same date is compared only with
pupils who were not (yet) supported by the end of its window, on the same weeks
(:mod:`attendance_lib.impact.matching`); the effect in relative week ``k`` is

    ATT(k) = mean over supported i of [(y_i(k) - y_i(-1)) - weighted mean over its
             comparison j of (y_j(k) - y_j(-1))]

with ``y`` the weekly absence rate and week -1 (the last whole school week before the start)
the base, i.e. the cohort-specific long differences averaged with weights equal to each
cohort's number of supported pupils. It is fitted as one weighted regression of ``y(k) - y(-1)``
on week indicators and their interactions with being supported, with errors clustered by pupil
(statsmodels), so the joint pre-trend test uses the full covariance:

* **pre-trend test** -- Wald test that ATT(k) = 0 for every week before -1 (the weeks before
  the start should show no difference once pupils are matched);
* the **average** of ATT(0 .. window_weeks - 1) is reported as design ``event_study``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .estimate import Estimate, cluster_wls
from .matching import MatchedSample

__all__ = ["EventStudy", "event_study", "plot_event_study"]


@dataclass
class EventStudy:
    """Week-by-week effects (``table``), the pre-trend test and the post-start average."""

    type: str
    table: pd.DataFrame
    pretrend: dict
    average: Estimate
    diagnostics: dict = field(default_factory=dict)


def _week_name(k: int) -> str:
    return f"wk_m{-k}" if k < 0 else f"wk_p{k}"


def event_study(sample: MatchedSample, weeks_before: int | None = None) -> EventStudy:
    """Effects by school week relative to the start on the matched sample.

    ``weeks_before`` defaults to the sample's ``event_before`` (weeks -weeks_before .. -2 are
    tested for pre-trends; -1 is the base).
    """
    kind = sample.type
    cols = ["rel_week", "estimate_pp", "ci_low", "ci_high", "se", "n_treated"]
    if sample.units.empty:
        empty = Estimate.empty(kind, "event_study", "no supported pupil could be matched")
        return EventStudy(kind, pd.DataFrame(columns=cols), {}, empty)
    B = weeks_before or sample.params.event_before
    H = sample.params.window_weeks
    u = sample.units.reset_index(drop=True)
    # only sets with a treated row and at least one comparison row
    has_c = set(u.loc[u["role"] == "comparison", "set"])
    u = u[u["set"].isin(has_c)].reset_index(drop=True)
    w = u["weight"].to_numpy(float)
    base = u["wk_m1"].to_numpy(float)
    treated = (u["role"] == "treated").to_numpy()
    weeks = [k for k in range(-B, H) if k != -1 and _week_name(k) in u]
    parts = []
    for j, k in enumerate(weeks):
        y = u[_week_name(k)].to_numpy(float) - base
        ok = np.isfinite(y)
        parts.append(pd.DataFrame({"y": y[ok], "j": j, "t": treated[ok], "w": w[ok],
                                   "upn": u["upn"].to_numpy()[ok]}))
    long = pd.concat(parts, ignore_index=True)
    J = len(weeks)
    X = np.zeros((len(long), 2 * J))
    X[np.arange(len(long)), long["j"].to_numpy()] = 1.0
    X[np.arange(len(long)), J + long["j"].to_numpy()] = long["t"].to_numpy(float)
    keep = X.any(axis=0)
    names = [f"week{k}" for k in weeks] + [f"att{k}" for k in weeks]
    X, names = X[:, keep], [n for n, kp in zip(names, keep, strict=True) if kp]
    res = cluster_wls(long["y"], X, long["w"], long["upn"], names=names)
    params, cov = res.params, res.cov_params()
    ci = res.conf_int()
    rows = [{"rel_week": -1, "estimate_pp": 0.0, "ci_low": 0.0, "ci_high": 0.0, "se": 0.0,
             "n_treated": int(np.isfinite(base[treated]).sum())}]
    for k in weeks:
        n = f"att{k}"
        if n not in params:
            continue
        nt = int(((long["j"] == weeks.index(k)) & long["t"]).sum())
        rows.append({"rel_week": k, "estimate_pp": float(params[n]), "ci_low": float(
            ci.loc[n, 0]), "ci_high": float(ci.loc[n, 1]), "se": float(res.bse[n]),
            "n_treated": nt})
    table = pd.DataFrame(rows, columns=cols).sort_values("rel_week").reset_index(drop=True)
    # pre-trend: joint Wald test of the pre-start weeks (F with G - 1 denominator df)
    pre = [f"att{k}" for k in weeks if k < -1 and f"att{k}" in params]
    pretrend = {"weeks": [int(n[3:]) for n in pre], "f_stat": None, "p_value": None}
    if pre:
        b = params[pre].to_numpy()
        V = cov.loc[pre, pre].to_numpy()
        try:
            wald = float(b @ np.linalg.solve(V, b))
            G = long["upn"].nunique()
            f = wald / len(pre)
            pretrend.update(f_stat=f, p_value=float(stats.f.sf(f, len(pre), max(G - 1, 1))),
                            df=len(pre))
        except np.linalg.LinAlgError:
            pass
    post = [f"att{k}" for k in weeks if k >= 0 and f"att{k}" in params]
    if post:
        a = np.full(len(post), 1.0 / len(post))
        est = float(a @ params[post].to_numpy())
        se = float(np.sqrt(a @ cov.loc[post, post].to_numpy() @ a))
        G = long["upn"].nunique()
        q = stats.t.ppf(0.975, max(G - 1, 1))
        n_t = int(u.loc[treated, "set"].nunique())
        n_c = int(u.loc[~treated, "upn"].nunique())
        average = Estimate(kind, "event_study", est, est - q * se, est + q * se, se, n_t, n_c,
                           {"base_week": -1, "weeks_averaged": [int(n[3:]) for n in post],
                            "pretrend_p_value": pretrend["p_value"]})
    else:
        average = Estimate.empty(kind, "event_study", "no weeks after the start")
    return EventStudy(kind, table, pretrend, average, {"clusters": int(long["upn"].nunique())})


def plot_event_study(es: EventStudy, title: str | None = None, ax=None):
    """Effects by week with 95% intervals; returns the matplotlib Figure (not drawn through
    pyplot, so a notebook shows it once, where it is displayed)."""
    from attendance_lib.plots import figure_on

    fig, ax = figure_on(ax)
    t = es.table
    if len(t):
        pre = t["rel_week"] < 0
        for mask, colour, label in ((pre, "#7f7f7f", "before the start"),
                                    (~pre, "#1f5fa8", "after the start")):
            d = t[mask]
            ax.errorbar(d["rel_week"], d["estimate_pp"],
                        yerr=[d["estimate_pp"] - d["ci_low"], d["ci_high"] - d["estimate_pp"]],
                        fmt="o", color=colour, capsize=2, label=label)
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(-0.5, color="#b22222", lw=0.8, ls="--")
    ax.set_xlabel("school week relative to the start (0 = the week it began)")
    ax.set_ylabel("difference in absence rate\n(percentage points)")
    ax.set_title(title or f"{es.type}: effect by week (base: week -1)")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
