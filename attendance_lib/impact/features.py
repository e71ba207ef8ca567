"""What each pupil looked like on a start date, and what happened next.

For a date and any set of enrolments of that academic year, :func:`feature_arrays` measures, on
each pupil's own school weeks (:mod:`attendance_lib.impact.panel`):

* the **outcome** -- absence rate over weeks ``0 .. window_weeks - 1`` (``post_rate``);
* the **pre-period** -- absence rate over weeks ``-pre_weeks .. -1`` (``pre_rate``), over the
  last three weeks (``recent_rate``) and in each of them (``wk_m1`` = week -1, ...), and
  unauthorised sessions in the last 10 school weeks (``unauth_10w``; the penalty-notice
  threshold counts these, domain.md 4.1);
* **year to date** -- absence and unauthorised absence from the start of the academic year to
  the day before (``ytd_rate``, ``ytd_unauth_rate``): what schools rank pupils on;
* the **prior year** -- the pupil's absence rate over the previous academic year, all schools
  (``prior_year_rate``; missing for pupils not on roll then, flagged by
  ``prior_year_missing``);
* **characteristics** -- FSM, SEN, social worker, looked after, EAL, year group, phase, and the
  school's year-to-date absence rate (``school_ytd_rate``).

Everything before the start uses only sessions before it (no look-ahead); the outcome only
sessions from it. Arrays, not frames: the comparison group is measured on every start date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .panel import YearRegister, _rate, window_sums, year_group_in

__all__ = ["feature_arrays", "features_at", "row_static", "MATCH_FEATURES", "DISTANCE_FEATURES",
           "BALANCE_FEATURES", "CHARACTERISTICS"]

CHARACTERISTICS = ["fsm", "sen_any", "ehc", "social_worker", "looked_after", "eal"]
#: what the comparison pupils are matched on (standardised), besides exact phase
MATCH_FEATURES = ["ytd_rate", "pre_rate", "recent_rate", "last1_rate", "last5_rate", "wk_m1", "wk_m2",
                  "wk_m3", "wk_m4", "wk_m5", "wk_m6", "ytd_unauth_rate", "unauth_10w",
                  "prior_year_rate", "prior_year_missing", "fsm", "sen_any", "social_worker",
                  "year_group", "school_ytd_rate", "prior_same_type"]
#: the most prognostic of them: among candidates with a similar propensity score, the
#: closest on these are chosen
DISTANCE_FEATURES = ["ytd_rate", "pre_rate", "recent_rate", "last5_rate", "prior_year_rate",
                     "unauth_10w", "school_ytd_rate", "fsm", "sen_any", "social_worker"]
#: what the balance table shows
BALANCE_FEATURES = ["ytd_rate", "pre_rate", "last1_rate", "last5_rate", "recent_rate",
                    "wk_m1", "wk_m2", "wk_m3", "wk_m4", "wk_m5", "wk_m6",
                    "ytd_unauth_rate", "unauth_10w", "prior_year_rate", "prior_year_missing",
                    "fsm", "sen_any", "ehc", "social_worker", "eal", "year_group",
                    "school_ytd_rate", "prior_same_type"]
_STATIC = ["prior_year_rate", "prior_year_missing", *CHARACTERISTICS, "year_group"]


def row_static(yr: YearRegister, chars: pd.DataFrame | None, prior: pd.DataFrame | None
               ) -> dict[str, np.ndarray]:
    """Per row of ``yr``: characteristics, phase, year group and last year's absence rate.

    ``chars`` is :func:`~attendance_lib.impact.panel.pupil_characteristics`; ``prior`` the
    previous year's :meth:`~attendance_lib.impact.panel.Register.annual_rates`.
    """
    upn = pd.Series(yr.upn)
    out: dict[str, np.ndarray] = {}
    if prior is not None and len(prior):
        out["prior_year_rate"] = upn.map(prior.set_index("upn")["absence_pct"]).to_numpy(float)
    else:
        out["prior_year_rate"] = np.full(yr.n, np.nan)
    out["prior_year_missing"] = np.isnan(out["prior_year_rate"]).astype(float)
    if chars is not None and len(chars):
        key = pd.MultiIndex.from_arrays([yr.upn, yr.urn])
        cc = chars.set_index(["upn", "urn"]).reindex(key)
        for col in CHARACTERISTICS:
            out[col] = cc[col].astype("boolean").fillna(False).to_numpy(dtype=float)
        out["phase"] = cc["phase"].astype(object).fillna("unknown").astype(str).to_numpy()
        out["year_group"] = year_group_in(cc["date_of_birth"].reset_index(drop=True),
                                          yr.academic_year).to_numpy(float)
    else:
        for col in CHARACTERISTICS:
            out[col] = np.zeros(yr.n)
        out["phase"] = np.full(yr.n, "unknown")
        out["year_group"] = np.full(yr.n, np.nan)
    return out


def feature_arrays(yr: YearRegister, rows: np.ndarray, anchor: np.ndarray, *,
                   window_weeks: int, pre_weeks: int, static: dict | None = None,
                   weeks: range | None = None, n_weekly: int = 6) -> dict[str, np.ndarray]:
    """Pre-period, outcome and characteristics of ``rows`` of ``yr`` anchored at ``anchor``.

    ``anchor`` is each row's start day index (:meth:`YearRegister.anchor`), ``static`` the
    year's :func:`row_static`. Weekly rates ``wk_m<k>``/``wk_p<k>`` (and their possible
    sessions) are returned for weeks ``-n_weekly .. -1`` and the relative weeks in ``weeks``. Returns a dict of arrays, one entry per row.
    """
    rows = np.asarray(rows, np.int64)
    anc = np.asarray(anchor, np.int64)
    ok = anc >= 0
    anc0 = np.where(ok, anc, 0)
    f: dict[str, np.ndarray] = {"row": rows, "anchor": anc}
    a, p, _ = window_sums(yr, rows, anc, 0, window_weeks - 1, unauth=False)
    f.update(post_absent=a, post_possible=p, post_rate=_rate(a, p))
    a, p, _ = window_sums(yr, rows, anc, -pre_weeks, -1, unauth=False)
    f.update(pre_absent=a, pre_possible=p, pre_rate=_rate(a, p))
    a, p, _ = window_sums(yr, rows, anc, -3, -1, unauth=False)
    f["recent_rate"] = _rate(a, p)
    s = yr.school[rows]
    w0 = np.where(ok, yr.week[s, anc0], 0)
    cu = yr.cum_unauth
    f["unauth_10w"] = (cu[rows, yr.week_first[s, w0]]
                       - cu[rows, yr.week_first[s, np.clip(w0 - 10, 0, None)]]).astype(float)
    for k in sorted(set(weeks if weeks is not None else []) | set(range(-n_weekly, 0))):
        a, p, _ = window_sums(yr, rows, anc, k, k, unauth=False)
        name = f"wk_m{-k}" if k < 0 else f"wk_p{k}"
        f[name] = _rate(a, p)
        f[name + "_possible"] = p
    a, p = yr.last_days(rows, anc0, 5)
    f["last5_rate"] = np.where(ok, _rate(a, p), np.nan)
    a, p = yr.last_days(rows, anc0, 1)
    f["last1_rate"] = np.where(ok, _rate(a, p), np.nan)
    ya, yp, yu = yr.ytd(rows, anc0)
    f["ytd_absent"] = np.where(ok, ya, 0)
    f["ytd_possible"] = np.where(ok, yp, 0)
    f["ytd_rate"] = _rate(f["ytd_absent"], f["ytd_possible"])
    f["ytd_unauth_rate"] = _rate(np.where(ok, yu, 0), f["ytd_possible"])
    f["year_absent"] = yr.cum_absent[rows, -1]
    f["year_possible"] = yr.cum_possible[rows, -1]
    f["on_roll"] = ok & (yr.first_day[rows] <= anc0) & (yr.last_day[rows] >= anc0)
    f["school_ytd_rate"] = yr.school_ytd_rate(rows, anc0)
    st = static if static is not None else row_static(yr, None, None)
    for col in [*_STATIC, "phase"]:
        f[col] = st[col][rows]
    f["week_of_year"] = np.where(ok, yr.week[s, anc0], -1)
    return f


def features_at(yr: YearRegister, rows, when, *, window_weeks: int = 10, pre_weeks: int = 10,
                static: dict | None = None) -> pd.DataFrame:
    """:func:`feature_arrays` for a start on date ``when``, as a DataFrame with ``upn, urn``.

    Each row is anchored at its own school's first school day on or after ``when``.
    """
    rows = np.asarray(rows, np.int64)
    f = feature_arrays(yr, rows, yr.anchor(rows, when), window_weeks=window_weeks,
                       pre_weeks=pre_weeks, static=static)
    df = pd.DataFrame(f)
    df.insert(0, "upn", yr.upn[rows])
    df.insert(1, "urn", yr.urn[rows])
    return df
