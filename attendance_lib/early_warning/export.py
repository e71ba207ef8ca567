"""The list a school acts on: one row per pupil, as a formatted workbook and as CSV.

One concept: turning scored pupils (:func:`~.train.score`) into the early-intervention list
(issue 5 item 10). Columns (:data:`LIST_COLUMNS`): rank in school, UPN (or a pseudonym), name
when the pupils file has one, year group, attendance so far, the recent trend, risk, reasons,
DfE stage of attendance so far (at risk 90-95%, persistent 10%+ absence, severe 50%+;
domain.md 2.1 and 5, :mod:`attendance_lib.bands`), whether the pupil is at the penalty-notice
threshold now (10 unauthorised sessions in the latest 10 school weeks, domain.md 4.1,
:func:`attendance_lib.metrics.legal_threshold_status`), whether they have a social worker, and the
interventions in place on the date (started on or before it and not ended before it; one with no
end date, such as a penalty notice, counts for the academic year it started in).

:func:`write_xlsx` writes one sheet per school (header frozen, filters on, widths and number
formats set); :func:`write_csv` the same rows in one file. Pseudonyms (:func:`pseudonym`) are the
suite's keyed hash of the UPN (:mod:`attendance_lib.privacy`), stable for a key, so a list can be
shared and matched back only by whoever holds the key; names are left out when pseudonymised.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from attendance_lib import bands, metrics
from attendance_lib.store import Store

__all__ = ["LIST_COLUMNS", "COLUMN_TITLES", "pseudonym", "list_frame", "write_xlsx",
           "write_csv"]

LIST_COLUMNS = ["rank", "upn", "name", "year_group", "attendance_so_far_pct", "recent_trend",
                "risk_pct", "reasons", "dfe_stage", "legal_threshold", "social_worker",
                "current_interventions"]
COLUMN_TITLES = {
    "rank": "Rank", "upn": "UPN", "name": "Name", "year_group": "Year group",
    "attendance_so_far_pct": "Attendance so far (%)", "recent_trend": "Recent trend",
    "risk_pct": "Risk of persistent absence (%)", "reasons": "Reasons",
    "dfe_stage": "DfE stage", "legal_threshold": "At legal threshold",
    "social_worker": "Social worker", "current_interventions": "Current interventions",
}
_STAGES = {"at risk", "persistent", "severe"}


def pseudonym(upn: pd.Series, key: str) -> pd.Series:
    """The suite's keyed pseudonyms (:func:`attendance_lib.privacy.pseudonymise`), so a list
    lines up with the school report's pupil tables made with the same key."""
    from attendance_lib.privacy import pseudonymise

    return pseudonymise(upn.astype(str), key)


def _trend(r) -> str:
    before, last = r["absence_pct_before6w"], r["absence_pct_last6w"]
    if pd.isna(last):
        return ""
    if pd.isna(before):
        return f"absence {last:.0f}% in the last 6 weeks"
    if last - before >= 3:
        return f"worse: absence up from {before:.0f}% to {last:.0f}% (last 6 weeks)"
    if before - last >= 3:
        return f"better: absence down from {before:.0f}% to {last:.0f}% (last 6 weeks)"
    return f"steady: absence {last:.0f}% in the last 6 weeks"


def _interventions(store: Store, as_of) -> pd.DataFrame:
    iv = store.interventions()
    if iv.empty or "start_date" not in iv:
        return pd.DataFrame(columns=["upn", "urn", "current_interventions"])
    ts = pd.Timestamp(as_of)
    start = pd.to_datetime(iv["start_date"])
    end = pd.to_datetime(iv["end_date"]) if "end_date" in iv else pd.Series(pd.NaT,
                                                                             index=iv.index)
    # open-ended records (a penalty notice, an ongoing plan) count for the academic year they
    # started in
    year_start = pd.Timestamp(ts.year - (ts.month < store.start_month), store.start_month, 1)
    now = iv[(start <= ts) & ((end >= ts) | (end.isna() & (start >= year_start)))].copy()
    now["label"] = now["type"].astype(str).str.replace("_", " ") + " (from " + pd.to_datetime(
        now["start_date"]).dt.strftime("%d/%m/%Y") + ")"
    g = now.groupby([now["upn"].astype(str), now["urn"].astype(str)])["label"].agg(
        lambda s: ", ".join(sorted(set(s))))
    return g.rename("current_interventions").reset_index()


def list_frame(store: Store, scored: pd.DataFrame, as_of, *, pseudonymise_key: str | None = None,
               top: int | None = None) -> pd.DataFrame:
    """The list rows (:data:`LIST_COLUMNS` plus ``urn`` and ``school``) of scored pupils.

    ``scored`` comes from :func:`~.train.score` on the same ``store`` and ``as_of``; ``top``
    keeps each school's first ``top`` pupils.
    """
    s = scored.copy()
    if top is not None:
        s = s[s["rank_in_school"] <= int(top)]
    s["upn"] = s["upn"].astype(str)
    s["urn"] = s["urn"].astype(str)
    pupils = store.pupils()
    keep = [c for c in ("upn", "urn", "name", "has_social_worker", "year_group")
            if c in pupils]
    p = pupils[keep].drop_duplicates(["upn", "urn"], keep="last").astype(
        {"upn": str, "urn": str})
    s = s.merge(p.rename(columns={"year_group": "census_year_group"}), on=["upn", "urn"],
                how="left")
    legal = metrics.legal_threshold_status(store, as_of)
    if len(legal):
        legal = legal.astype({"upn": str, "urn": str})[["upn", "urn", "at_threshold"]]
        s = s.merge(legal, on=["upn", "urn"], how="left")
    else:
        s["at_threshold"] = False
    s = s.merge(_interventions(store, as_of), on=["upn", "urn"], how="left")
    schools = store.schools()
    names = dict(zip(schools["urn"].astype(str), schools["name"], strict=True)) if (
        "name" in schools) else {}
    stage = bands.attendance_bands(s["attendance_pct"]).map(
        bands.ATTENDANCE_BAND_STAGES).astype("string")
    yg = s["year_group"]
    out = pd.DataFrame({
        "urn": s["urn"],
        "school": s["urn"].map(lambda u: names.get(u, u)),
        "rank": s["rank_in_school"].astype(int),
        "upn": pseudonym(s["upn"], pseudonymise_key) if pseudonymise_key else s["upn"],
        "name": "" if pseudonymise_key or "name" not in s else s["name"].fillna(""),
        "year_group": np.where(yg == 0, "R", yg.map(lambda v: "" if pd.isna(v) else
                                                   str(int(v)))),
        "attendance_so_far_pct": s["attendance_pct"].round(1),
        "recent_trend": s.apply(_trend, axis=1) if len(s) else "",
        "risk_pct": (s["risk"] * 100).round(1),
        "reasons": s["reasons"],
        "dfe_stage": stage.where(stage.isin(list(_STAGES)), "").fillna(""),
        "legal_threshold": np.where(s["at_threshold"].fillna(False).astype(bool), "Yes", ""),
        "social_worker": np.where(s.get("has_social_worker", pd.Series(False, index=s.index))
                                  .fillna(False).astype(bool), "Yes", ""),
        "current_interventions": s["current_interventions"].fillna(""),
    })
    return out.sort_values(["urn", "rank"], ignore_index=True)


def _sheet_name(urn: str, school: str, used: set) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", "", f"{urn} {school}")[:31].strip()
    name, i = clean, 2
    while name.lower() in used:
        name = f"{clean[:28]}~{i}"
        i += 1
    used.add(name.lower())
    return name


def write_xlsx(lists: pd.DataFrame, path: str | Path) -> Path:
    """One sheet per school: title row, frozen header, filters, widths, number formats."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    used: set = set()
    header_fill = PatternFill("solid", fgColor="1F4E79")
    widths = {"rank": 7, "upn": 16, "name": 22, "year_group": 8, "attendance_so_far_pct": 12,
              "recent_trend": 34, "risk_pct": 12, "reasons": 70, "dfe_stage": 11,
              "legal_threshold": 10, "social_worker": 10, "current_interventions": 34}
    groups = list(lists.groupby("urn", sort=True)) or [("", lists)]
    for urn, rows in groups:
        school = rows["school"].iloc[0] if len(rows) else ""
        ws = wb.create_sheet(_sheet_name(str(urn), str(school), used))
        ws.append([COLUMN_TITLES[c] for c in LIST_COLUMNS])
        for c in ws[1]:
            c.font = Font(bold=True, color="FFFFFF")
            c.fill = header_fill
            c.alignment = Alignment(wrap_text=True, vertical="top")
        for r in rows[LIST_COLUMNS].itertuples(index=False):
            ws.append([None if (isinstance(v, float) and np.isnan(v)) else v for v in r])
        n = ws.max_row
        for j, col in enumerate(LIST_COLUMNS, start=1):
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = widths[col]
            if col in ("attendance_so_far_pct", "risk_pct"):
                for cell in ws[letter][1:]:
                    cell.number_format = "0.0"
            if col in ("reasons", "recent_trend", "current_interventions"):
                for cell in ws[letter][1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(LIST_COLUMNS))}{max(n, 1)}"
        ws.sheet_properties.tabColor = "1F4E79"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    return path


def write_csv(lists: pd.DataFrame, path: str | Path) -> Path:
    """All schools' rows in one CSV (``urn, school`` first, then :data:`LIST_COLUMNS`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lists[["urn", "school", *LIST_COLUMNS]].to_csv(path, index=False)
    return path
