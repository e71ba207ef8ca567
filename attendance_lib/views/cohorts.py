"""Cohort gaps: absence and persistent absence of pupil groups against the rest of the pupils.

Schools and LAs should benchmark cohorts such as sex, year group, FSM and SEN (domain.md 5);
the DfE's own breakdowns (FSM, SEN provision, domain.md 3.1-3.2) use the same measures: overall
absence rate over possible sessions and the PA rate over enrolments (domain.md 2.1). A group's
*gap* is its rate minus the rate of every other enrolment in the same table (percentage points),
so a gap reads "FSM-eligible pupils miss 3.1 points more of their sessions than other pupils".

Pupils with no value for a characteristic form a "Not recorded" group, so the groups of a cohort
always add up to the total (as in :func:`attendance_lib.metrics.cohort_summary`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import metrics

__all__ = ["REPORT_COHORTS", "COHORT_NAMES", "group_label", "cohort_gaps"]

#: the cohorts of the school report and LA overview (issue 4), in display order
REPORT_COHORTS = ("fsm_eligible", "sen_provision", "eal", "sex", "year_group",
                  "has_social_worker")
COHORT_NAMES = {
    "fsm_eligible": "Free school meals",
    "sen_provision": "Special educational needs",
    "eal": "English as an additional language",
    "sex": "Sex",
    "year_group": "Year group",
    "has_social_worker": "Social worker",
    "looked_after": "Looked after",
    "ethnicity": "Ethnicity",
}
_BOOL_LABELS = {
    "fsm_eligible": ("FSM eligible", "Not FSM eligible"),
    "eal": ("EAL", "English first language"),
    "has_social_worker": ("Has a social worker", "No social worker"),
    "looked_after": ("Looked after", "Not looked after"),
}
_SEN = {"E": "EHC plan", "K": "SEN support", "N": "No SEN"}
_SEX = {"F": "Female", "M": "Male"}
NOT_RECORDED = "Not recorded"


def _truthy(v) -> bool | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, str):
        t = v.strip().lower()
        if t in ("true", "y", "yes", "1"):
            return True
        if t in ("false", "n", "no", "0"):
            return False
        return None
    return bool(v)


def group_label(cohort: str, value) -> str:
    """Plain-English name of a cohort value: ``("sen_provision", "K")`` -> ``'SEN support'``."""
    if cohort in _BOOL_LABELS:
        b = _truthy(value)
        return NOT_RECORDED if b is None else _BOOL_LABELS[cohort][0 if b else 1]
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return NOT_RECORDED
    if cohort == "sen_provision":
        return _SEN.get(str(value).upper(), str(value))
    if cohort == "sex":
        return _SEX.get(str(value).upper(), str(value))
    if cohort == "year_group":
        v = str(value)
        return "Reception" if v.upper() in ("R", "0") else f"Year {v}"
    return str(value)


def _order(cohort: str, value) -> tuple:
    label = group_label(cohort, value)
    if label == NOT_RECORDED:
        return (9, 0, label)
    if cohort in _BOOL_LABELS:
        return (0, 0 if _truthy(value) else 1, label)
    if cohort == "sen_provision":
        return (0, "EKN".find(str(value).upper()) % 9, label)
    if cohort == "year_group":
        v = str(value).upper()
        return (0, -1 if v in ("R", "0") else (int(v) if v.isdigit() else 99), label)
    return (0, 0, label)


def cohort_gaps(enr: pd.DataFrame, pupils: pd.DataFrame,
                cohorts: Sequence[str] = REPORT_COHORTS) -> pd.DataFrame:
    """Absence and PA by cohort group, with each group's gap to everyone else.

    Parameters
    ----------
    enr : DataFrame
        An enrolment summary (:func:`attendance_lib.metrics.enrolment_summary`).
    pupils : DataFrame
        The store's pupils (``upn, urn`` and characteristics).
    cohorts : sequence of str
        Characteristics to break down; those missing from ``pupils`` are left out (the caller
        can compare with ``cohorts`` to say so).

    Returns
    -------
    DataFrame
        One row per cohort group: ``cohort, cohort_name, group, enrolments, possible_sessions,
        absent_sessions, overall_absence_pct, pa_count, pa_pct, sa_count, sa_pct,
        overall_gap_pp, pa_gap_pp`` (gaps against the other enrolments; NaN when there are no
        others). No pupil identifiers.
    """
    frames = []
    total = metrics.la_summary(enr).iloc[0] if len(enr) else None
    for c in cohorts:
        if c not in pupils.columns or total is None:
            continue
        g = metrics.cohort_summary(enr, pupils, c)
        absent = g["authorised_sessions"] + g["unauthorised_sessions"]
        t_abs = total["authorised_sessions"] + total["unauthorised_sessions"]
        rest_poss = (total["possible_sessions"] - g["possible_sessions"]).astype("float64")
        rest_enr = (total["enrolments"] - g["enrolments"]).astype("float64")
        rest_rate = (t_abs - absent) / rest_poss.where(rest_poss > 0) * 100
        rest_pa = (total["pa_count"] - g["pa_count"]) / rest_enr.where(rest_enr > 0) * 100
        frames.append(pd.DataFrame({
            "cohort": c, "cohort_name": COHORT_NAMES.get(c, c),
            "group": [group_label(c, v) for v in g[c]],
            "_order": [_order(c, v) for v in g[c]],
            "enrolments": g["enrolments"].to_numpy(),
            "possible_sessions": g["possible_sessions"].to_numpy(),
            "absent_sessions": absent.to_numpy(),
            "overall_absence_pct": g["overall_absence_pct"].to_numpy(),
            "pa_count": g["pa_count"].to_numpy(), "pa_pct": g["pa_pct"].to_numpy(),
            "sa_count": g["sa_count"].to_numpy(), "sa_pct": g["sa_pct"].to_numpy(),
            "overall_gap_pp": (g["overall_absence_pct"] - rest_rate).to_numpy(),
            "pa_gap_pp": (g["pa_pct"] - rest_pa).to_numpy(),
        }))
    if not frames:
        return pd.DataFrame(columns=["cohort", "cohort_name", "group", "enrolments",
                                     "possible_sessions", "absent_sessions",
                                     "overall_absence_pct", "pa_count", "pa_pct", "sa_count",
                                     "sa_pct", "overall_gap_pp", "pa_gap_pp"])
    out = pd.concat(frames, ignore_index=True)
    # groups with the same label (e.g. "Y" and True) are one group
    keys = ["cohort", "cohort_name", "group"]
    if out.duplicated(keys).any():
        out = _merge_duplicates(out, keys)
    rank = {c: i for i, c in enumerate(cohorts)}
    out["_c"] = out["cohort"].map(rank)
    out = out.sort_values(["_c", "_order"], kind="stable").drop(columns=["_c", "_order"])
    return out.reset_index(drop=True)


def _merge_duplicates(out: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    sums = out.groupby(keys, sort=False).agg(
        _order=("_order", "first"), enrolments=("enrolments", "sum"),
        possible_sessions=("possible_sessions", "sum"), absent_sessions=("absent_sessions", "sum"),
        pa_count=("pa_count", "sum"), sa_count=("sa_count", "sum")).reset_index()
    tot = sums.groupby("cohort")[["enrolments", "possible_sessions", "absent_sessions",
                                  "pa_count"]].transform("sum")
    poss = sums["possible_sessions"].where(sums["possible_sessions"] > 0)
    enr = sums["enrolments"].where(sums["enrolments"] > 0)
    sums["overall_absence_pct"] = sums["absent_sessions"] / poss * 100
    sums["pa_pct"] = sums["pa_count"] / enr * 100
    sums["sa_pct"] = sums["sa_count"] / enr * 100
    rest_poss = (tot["possible_sessions"] - sums["possible_sessions"]).replace(0, np.nan)
    rest_enr = (tot["enrolments"] - sums["enrolments"]).replace(0, np.nan)
    sums["overall_gap_pp"] = sums["overall_absence_pct"] - (
        tot["absent_sessions"] - sums["absent_sessions"]) / rest_poss * 100
    sums["pa_gap_pp"] = sums["pa_pct"] - (tot["pa_count"] - sums["pa_count"]) / rest_enr * 100
    return sums[out.columns]
