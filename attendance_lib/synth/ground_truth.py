"""The truth behind a synthetic LA: latent propensities, trajectories and true effects.

Written to ``<out>/ground_truth/``:

* ``params.json`` -- the full :class:`~attendance_lib.synth.config.SynthConfig` (seed included),
  the academic years, the as-of date and the generator version;
* ``pupil_years.parquet`` -- one row per enrolment and academic year: latent index, expected
  absence rate (without interventions), the school's effect, whether attendance deteriorates
  and how (onset date, slope in logit per school week, rise by the year's end), and the
  expected absence rate by half-term (the trajectory);
* ``schools.parquet`` -- each school's effect and district deprivation;
* ``interventions.parquet`` -- one row per episode: the 10-school-week outcome window, absent
  and possible sessions with the intervention (as in the marks) and in the counterfactual run
  without it, and the difference;
* ``effects.json`` -- per intervention type, the true average effect on treated pupils'
  absence rate in percentage points over the 10 school weeks after each start (negative = less
  absence), from the counterfactual simulation of the same pupils over the same days with the
  same random numbers (:func:`episode_effects`), not from the configured hazard ratio.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .interventions import Episode
from .registers import POSSIBLE, SchoolYear

__all__ = ["WINDOW_WEEKS", "episode_effects", "effects_summary", "write_json"]

WINDOW_WEEKS = 10


def _window_end(sy: SchoolYear, start: int) -> int:
    week = sy.cal.week
    return int(np.flatnonzero(week <= week[start] + WINDOW_WEEKS - 1)[-1])


def _window_counts(codes: np.ndarray, absent_lut: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Absent and possible sessions per row over days lo..hi (inclusive)."""
    D = codes.shape[1]
    t = np.arange(D)[None, :]
    inwin = (t >= lo[:, None]) & (t <= hi[:, None])
    on = codes >= 0
    c = np.where(on, codes, 0)
    poss = (POSSIBLE[c] & on & inwin[:, :, None]).sum(axis=(1, 2))
    absn = (absent_lut[c] & on & inwin[:, :, None]).sum(axis=(1, 2))
    return absn, poss


def episode_effects(sy: SchoolYear, episodes: list[Episode], codes: np.ndarray,
                    eff: np.ndarray) -> pd.DataFrame:
    """Factual vs counterfactual absence over each episode's 10-school-week window.

    The counterfactual removes only this episode's effect (other support the pupil had stays),
    re-using the school-year's random numbers (common random numbers), so the difference is the
    episode's causal effect. Episodes are simulated in batches in which each pupil appears once.
    """
    cols = ["row", "type", "start", "end", "window_end", "full_window", "possible",
            "absent", "absent_counterfactual", "rate_pct", "rate_counterfactual_pct",
            "effect_pp", "ytd_absence_pct", "note", "planned_end"]
    if not episodes:
        return pd.DataFrame(columns=cols)
    D = codes.shape[1]
    ep = pd.DataFrame([e.__dict__ for e in episodes])
    ep["window_end_full"] = [_window_end(sy, int(s)) for s in ep["start"]]
    ep["window_end"] = np.minimum(ep["window_end_full"], np.minimum(D - 1, sy.last[ep["row"]]))
    ep["full_window"] = ep["window_end_full"] <= ep["window_end"]
    ep["rank"] = ep.groupby("row").cumcount()
    absent = np.zeros(len(ep), np.int64)
    absent_cf = np.zeros(len(ep), np.int64)
    possible = np.zeros(len(ep), np.int64)
    for _, batch in ep.groupby("rank"):
        idx = batch.index.to_numpy()
        rows = batch["row"].to_numpy()
        order = np.argsort(rows)
        idx, rows = idx[order], rows[order]
        lo = ep.loc[idx, "start"].to_numpy()
        hi = ep.loc[idx, "window_end"].to_numpy()
        a_f, p_f = _window_counts(codes[rows], sy.absent_lut, lo, hi)
        absent[idx], possible[idx] = a_f, p_f
        hr = ep.loc[idx, "hazard_ratio"].to_numpy()
        changed = hr != 1.0
        absent_cf[idx] = a_f
        if changed.any():
            r_c, i_c = rows[changed], idx[changed]
            e_cf = eff[r_c].copy()
            for j, i in enumerate(i_c):
                s, e = int(ep.at[i, "start"]), int(ep.at[i, "end"])
                e_cf[j, s:e + 1] /= ep.at[i, "hazard_ratio"]
            c_cf = sy.codes(r_c, e_cf)
            a_cf, _ = _window_counts(c_cf, sy.absent_lut, lo[changed], hi[changed])
            absent_cf[i_c] = a_cf
    ep["possible"] = possible
    ep["absent"] = absent
    ep["absent_counterfactual"] = absent_cf
    with np.errstate(invalid="ignore", divide="ignore"):
        ep["rate_pct"] = np.where(possible > 0, 100 * absent / np.maximum(possible, 1), np.nan)
        ep["rate_counterfactual_pct"] = np.where(
            possible > 0, 100 * absent_cf / np.maximum(possible, 1), np.nan)
    ep["effect_pp"] = ep["rate_pct"] - ep["rate_counterfactual_pct"]
    return ep[cols]


def effects_summary(episodes: pd.DataFrame, specs: dict) -> dict:
    """Per intervention type: the true average effect on the treated (percentage points)."""
    out = {}
    for kind, spec in specs.items():
        g = episodes[(episodes["type"] == kind) & (episodes["possible"] > 0)] \
            if len(episodes) else episodes
        full = g[g["full_window"]] if len(g) else g
        n_all = int((episodes["type"] == kind).sum()) if len(episodes) else 0

        def mean(x):
            return None if len(x) == 0 else round(float(np.mean(x)), 4)

        out[kind] = {
            "effect_pp": mean(g["effect_pp"]) if len(g) else None,
            "effect_pp_full_window": mean(full["effect_pp"]) if len(full) else None,
            "effect_pp_session_weighted": (
                None if len(g) == 0 else round(float(
                    100 * (g["absent"].sum() - g["absent_counterfactual"].sum())
                    / g["possible"].sum()), 4)),
            "treated_rate_pct": mean(g["rate_pct"]) if len(g) else None,
            "counterfactual_rate_pct": mean(g["rate_counterfactual_pct"]) if len(g) else None,
            "episodes": n_all,
            "episodes_with_outcome": int(len(g)),
            "episodes_full_window": int(len(full)),
            "configured_hazard_ratio": spec.hazard_ratio,
            "window": f"{WINDOW_WEEKS} school weeks from the start date (the start's week is "
                      f"week 1), cut at the end of the year, the as-of date or the leaving date",
            "definition": "mean over episodes of (absence rate with the intervention - absence "
                          "rate in a counterfactual simulation of the same pupil over the same "
                          "days with the same random numbers but without this intervention), "
                          "percentage points; negative = less absence",
        }
    return out


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, default=str, sort_keys=False) + "\n")
