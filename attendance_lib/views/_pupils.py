"""Shared pupil-table helpers for the per-school views (school report, TSM pack)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from .cohorts import group_label

__all__ = ["pupil_details", "on_roll", "attach_details", "DETAIL_COLUMNS"]

#: pupil columns a pupil list shows, when the pupils file has them (display names)
DETAIL_COLUMNS = {"name": "Name", "year_group": "Year", "fsm_eligible": "FSM",
                  "sen_provision": "SEN", "has_social_worker": "Social worker",
                  "looked_after": "Looked after"}


def on_roll(pupils: pd.DataFrame, as_of: date) -> pd.Series:
    """True for enrolments on roll on ``as_of`` (admitted by then and not yet left)."""
    ts = pd.Timestamp(as_of)
    ok = pd.Series(True, index=pupils.index)
    if "admission_date" in pupils.columns:
        adm = pd.to_datetime(pupils["admission_date"], errors="coerce")
        ok &= adm.isna() | (adm <= ts)
    if "leaving_date" in pupils.columns:
        leave = pd.to_datetime(pupils["leaving_date"], errors="coerce")
        ok &= leave.isna() | (leave >= ts)
    return ok


def pupil_details(pupils: pd.DataFrame) -> pd.DataFrame:
    """``upn, urn`` and the display columns of :data:`DETAIL_COLUMNS` the pupils file has,
    with values in words (``SEN support``, ``Year 7``, ``Yes``/``No``)."""
    out = pupils[["upn", "urn"]].astype("string").copy()
    for col, label in DETAIL_COLUMNS.items():
        if col not in pupils.columns:
            continue
        v = pupils[col]
        if col == "name":
            out[label] = v.astype("object")
        elif col == "year_group":
            out[label] = [group_label(col, x).replace("Year ", "") for x in v]
        elif col == "sen_provision":
            out[label] = [group_label(col, x) for x in v]
        else:
            out[label] = [{"FSM eligible": "Yes", "Has a social worker": "Yes",
                           "Looked after": "Yes", "Not recorded": "–"}.get(
                               group_label(col, x), "No") for x in v]
    return out


def attach_details(df: pd.DataFrame, pupils: pd.DataFrame) -> pd.DataFrame:
    """``df`` (keyed by ``upn, urn``) with the pupils' display details after the keys."""
    det = pupil_details(pupils)
    left = df.astype({"upn": "string", "urn": "string"})
    out = left.merge(det, on=["upn", "urn"], how="left")
    cols = ["upn", "urn", *[c for c in det.columns if c not in ("upn", "urn")]]
    return out[cols + [c for c in out.columns if c not in cols]]
