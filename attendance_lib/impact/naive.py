"""The naive before/after comparison: the number to be wary of.

Mean over supported pupils of (absence rate in the ``window_weeks`` school weeks after the
start) - (absence rate in the ``pre_weeks`` school weeks before it), with no comparison group.
Pupils are picked for support because their recent attendance was unusually low, and unusually
low attendance tends to recover on its own (regression to the mean), so this flatters every
intervention: it is shown only to say what a before/after claim would have been.
"""

from __future__ import annotations

import numpy as np

from .estimate import Estimate, cluster_wls
from .matching import MatchedSample

__all__ = ["naive_before_after"]


def naive_before_after(sample: MatchedSample) -> Estimate:
    """Before/after change of the supported pupils (all usable ones, matched or not)."""
    design = "naive_before_after"
    t = sample.treated_all if sample.treated_all is not None else sample.treated
    if t is None or t.empty:
        return Estimate.empty(sample.type, design, "no supported pupil with data before and after")
    change = (t["post_rate"] - t["pre_rate"]).to_numpy(float)
    ok = np.isfinite(change)
    t, change = t[ok], change[ok]
    if t["upn"].nunique() < 2:
        return Estimate.empty(sample.type, design, "fewer than 2 supported pupils", len(t))
    res = cluster_wls(change, np.ones((len(t), 1)), np.ones(len(t)), t["upn"].to_numpy(),
                      names=["const"])
    lo, hi = (float(v) for v in res.conf_int().loc["const"])
    return Estimate(sample.type, design, float(res.params["const"]), lo, hi,
                    float(res.bse["const"]), len(t), 0, {
                        "pre_rate_pct": float(t["pre_rate"].mean()),
                        "post_rate_pct": float(t["post_rate"].mean()),
                        "warning": "no comparison group: includes regression to the mean"})
