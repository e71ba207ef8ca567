"""For whom: the matched difference-in-differences within groups of supported pupils.

Groups: FSM eligibility, SEN (none / SEN support / EHC plan), phase, and the attendance band on
the start date (year-to-date absence: under 10%, 10 to under 20%, 20 to under 50%, 50% or more;
domain.md 2.1 persistent and severe absence thresholds). Each supported pupil keeps their own
matched comparison pupils, so every group's estimate is a like-for-like comparison. Intervals
from small groups are unreliable: groups under ``warn_below`` supported pupils carry a warning,
and groups under ``suppress_below`` are not shown at all (LA-wide outputs suppress small counts,
product.md "Privacy and security").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .did import adjustment_order, did_from_units
from .matching import MatchedSample

__all__ = ["heterogeneity", "GROUPINGS", "attendance_band_at_start"]

_BANDS = [(0, 10, "absence under 10%"), (10, 20, "absence 10% to under 20%"),
          (20, 50, "absence 20% to under 50%"), (50, 101, "absence 50% or more")]


def attendance_band_at_start(ytd_absent, ytd_possible) -> np.ndarray:
    """Band of year-to-date absence on the start date (integer comparisons, no float edges)."""
    a = np.asarray(ytd_absent, np.int64)
    p = np.asarray(ytd_possible, np.int64)
    out = np.full(len(a), "no sessions yet", dtype=object)
    for lo, hi, label in _BANDS:
        m = (p > 0) & (a * 100 >= lo * p) & (a * 100 < hi * p)
        out[m] = label
    return out


def _groups(t: pd.DataFrame) -> dict[str, pd.Series]:
    sen = np.where(t["ehc"] > 0, "EHC plan", np.where(t["sen_any"] > 0, "SEN support",
                                                       "no SEN"))
    return {
        "FSM": pd.Series(np.where(t["fsm"] > 0, "FSM eligible", "not FSM eligible"),
                         index=t.index),
        "SEN": pd.Series(sen, index=t.index),
        "phase": t["phase"].astype(str),
        "attendance at start": pd.Series(attendance_band_at_start(t["ytd_absent"],
                                                                  t["ytd_possible"]),
                                         index=t.index),
    }


GROUPINGS = ("FSM", "SEN", "phase", "attendance at start")


def heterogeneity(sample: MatchedSample, *, warn_below: int = 30, suppress_below: int = 5,
                  adjust: bool = True) -> pd.DataFrame:
    """Estimates by group: ``type, grouping, group, estimate_pp, ci_low, ci_high,
    n_treated, n_comparison, note``; suppressed groups show no numbers."""
    cols = ["type", "grouping", "group", "estimate_pp", "ci_low", "ci_high", "n_treated",
            "n_comparison", "note"]
    if sample.units.empty:
        return pd.DataFrame(columns=cols)
    u = sample.units
    t = u[u["role"] == "treated"]
    change = (u["post_rate"] - u["pre_rate"]).to_numpy(float)
    rows = []
    for grouping, labels in _groups(t).items():
        set_label = pd.Series(labels.to_numpy(), index=t["set"].to_numpy())
        lab = u["set"].map(set_label)
        for g in sorted(labels.unique()):
            m = (lab == g).to_numpy()
            n_t = int(((u["role"] == "treated").to_numpy() & m).sum())
            if n_t < suppress_below:
                rows.append({"type": sample.type, "grouping": grouping, "group": g,
                             "estimate_pp": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                             "n_treated": np.nan, "n_comparison": np.nan,
                             "note": f"fewer than {suppress_below} supported pupils: "
                                     f"not shown"})
                continue
            e = did_from_units(u[m], change[m], sample.type, "matched_did",
                               covariates=adjustment_order(sample.params.features)
                               if adjust else ())
            note = ""
            if n_t < warn_below:
                note = f"small group (under {warn_below} supported pupils): interval unreliable"
            if "not_estimated" in e.diagnostics:
                note = e.diagnostics["not_estimated"]
            rows.append({"type": sample.type, "grouping": grouping, "group": g,
                         "estimate_pp": e.estimate_pp, "ci_low": e.ci_low, "ci_high": e.ci_high,
                         "n_treated": e.n_treated, "n_comparison": e.n_comparison,
                         "note": note})
    return pd.DataFrame(rows, columns=cols)
