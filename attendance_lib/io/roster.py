"""Loaders for pupils (census-like), schools (GIAS-like) and interventions.

Layouts (product.md, "Inputs the loaders accept"):

* pupils: ``upn, urn`` required; optional ``year_group, date_of_birth, sex, fsm_eligible,
  sen_provision (E/K/N), eal, ethnicity, postcode, lsoa, has_social_worker, looked_after,
  admission_date, leaving_date``; unknown columns are kept. One row is one enrolment (a pupil at a
  school); an empty ``leaving_date`` means still on roll.
* schools: ``urn, phase`` required; optional ``laestab, name, la_code``.
* interventions: ``upn, urn, type, start_date`` required; optional ``end_date, notes``.

Each returns ``(frame, LoadReport)``; bad rows are quarantined with file, line and reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import upn as upn_mod
from ._common import (
    InputFileError,
    LoadReport,
    apply_mapping,
    load_mapping,
    parse_bool,
    parse_dates,
    quarantine_frame,
    read_csv_lines,
)

__all__ = ["read_pupils", "read_schools", "read_interventions", "PHASES", "PUPIL_COLUMNS",
           "SCHOOL_COLUMNS", "INTERVENTION_COLUMNS"]

PHASES = ("primary", "secondary", "special", "all-through")
PUPIL_COLUMNS = ["upn", "urn", "year_group", "date_of_birth", "sex", "fsm_eligible",
                 "sen_provision", "eal", "ethnicity", "postcode", "lsoa", "has_social_worker",
                 "looked_after", "admission_date", "leaving_date", "name"]
SCHOOL_COLUMNS = ["urn", "laestab", "name", "phase", "la_code"]
INTERVENTION_COLUMNS = ["upn", "urn", "type", "start_date", "end_date", "notes"]
_BOOL_COLS = ("fsm_eligible", "eal", "has_social_worker", "looked_after")
_DATE_COLS = ("date_of_birth", "admission_date", "leaving_date")
_YEAR_GROUPS = {"N1", "N2", "R", "X"} | {str(i) for i in range(0, 15)}


class _Rows:
    """Collects per-row problems; the first problem found for a row is its reason."""

    def __init__(self, df: pd.DataFrame, lines: np.ndarray | None = None,
                 notes: list[str] | None = None):
        self.df = df
        #: 1-based file line of each row (header = line 1)
        self.lines = (np.arange(len(df), dtype=np.int64) + 2) if lines is None else lines
        self.notes = list(notes or [])
        # the rows as read (text), for the quarantine's ``raw``: later checks parse columns
        self.text = df.copy()
        self.reason = pd.Series(pd.NA, index=df.index, dtype="object")

    def flag(self, mask, reason) -> None:
        mask = pd.Series(mask, index=self.df.index).fillna(False).astype(bool)
        if isinstance(reason, pd.Series):
            new = mask & self.reason.isna()
            self.reason[new] = reason[new]
        else:
            self.reason[mask & self.reason.isna()] = reason

    @property
    def ok(self) -> pd.Series:
        return self.reason.isna()

    def split(self, path, kind, extra_notes=()) -> tuple[pd.DataFrame, LoadReport]:
        bad = self.reason.notna()
        raw = (self.text.loc[bad].astype(object).fillna("").astype(str).agg(",".join, axis=1)
               if bad.any() else [])
        q = quarantine_frame(path, self.lines[bad.to_numpy()], self.reason[bad].to_numpy(), raw)
        good = self.df.loc[~bad].reset_index(drop=True)
        notes = self.notes + list(extra_notes)
        if len(self.df) == 0:
            notes.append("the file has a header row but no data rows; nothing to load")
        rep = LoadReport(file=str(path), kind=kind, rows_read=len(self.df),
                         rows_loaded=len(good), quarantine=q, notes=notes)
        return good, rep


def _blank_note(blank_lines: np.ndarray) -> list[str]:
    if not len(blank_lines):
        return []
    shown = ", ".join(str(int(x)) for x in blank_lines[:10])
    more = f" and {len(blank_lines) - 10:,} more" if len(blank_lines) > 10 else ""
    return [f"{len(blank_lines):,} blank line(s) skipped (line {shown}{more}); they are not rows"]


def _prepare(path, kind, expected, mapping_path, known, required) -> _Rows:
    notes: list[str] = []  # the encoding, when not plain UTF-8
    df, lines, blank = read_csv_lines(path, expected, notes=notes)
    mapping = load_mapping(mapping_path, kind)
    df = df.rename(columns=apply_mapping(df.columns, mapping, set(known), path))
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputFileError(path, f"missing required column(s) {', '.join(missing)}; expected "
                                   f"{expected} with columns {', '.join(required)} "
                                   f"(found: {', '.join(map(str, df.columns)) or 'none'})")
    for c in df.columns:
        df[c] = df[c].astype("string").str.strip()
    return _Rows(df, lines, notes + _blank_note(blank))


def _check_upn(rows: _Rows) -> None:
    u = rows.df["upn"].fillna("")
    rows.flag(u == "", "missing value: upn is empty")
    problems = pd.Series([upn_mod.upn_problem(v) if v else None for v in u.astype(object)],
                         index=rows.df.index, dtype=object)
    rows.flag(problems.notna(), "failed UPN check: " + problems.fillna("").astype(str))


def _check_urn(rows: _Rows, col="urn"):
    u = rows.df[col].fillna("")
    rows.flag(u == "", f"missing value: {col} is empty")
    rows.flag(~u.str.fullmatch(r"\d{5,7}"), "invalid URN: " + u + " is not a 5-7 digit number")


def _flag_repeats(rows: _Rows, keys: list[str], reason: str) -> None:
    """Quarantine a row whose keys repeat an earlier row's that was not itself quarantined."""
    ok = rows.ok
    if not ok.any():
        return
    sub = rows.df.loc[ok, keys].assign(_line=rows.lines[ok.to_numpy()])
    dup = sub.duplicated(keys, keep="first")
    if not dup.any():
        return
    first = sub.groupby(keys, dropna=False)["_line"].transform("min")
    mask = pd.Series(False, index=rows.df.index)
    mask[sub.index[dup.to_numpy()]] = True
    text = pd.Series("", index=rows.df.index, dtype=object)
    text[sub.index] = reason + first.astype(str)
    rows.flag(mask, text)


def read_pupils(path: str | Path, mapping: str | Path | None = None
                ) -> tuple[pd.DataFrame, LoadReport]:
    """Read a pupils (census-like) CSV: one row per enrolment."""
    rows = _prepare(path, "pupils", "a pupils CSV", mapping, PUPIL_COLUMNS, ["upn", "urn"])
    df = rows.df
    df["upn"] = df["upn"].str.upper()
    _check_upn(rows)
    _check_urn(rows)
    for c in _DATE_COLS:
        if c in df:
            parsed = parse_dates(df[c])
            rows.flag(df[c].fillna("").ne("") & parsed.isna(),
                      f"invalid date: {c} " + df[c].fillna("") + " is not yyyy-mm-dd or dd/mm/yyyy")
            df[c] = parsed
    if "admission_date" in df and "leaving_date" in df:
        rows.flag(df["leaving_date"] < df["admission_date"],
                  "invalid enrolment: leaving_date is before admission_date")
    for c in _BOOL_COLS:
        if c in df:
            vals, bad = parse_bool(df[c])
            rows.flag(bad, f"invalid yes/no: {c} " + df[c].fillna("") +
                      " (use Y/N, True/False or 1/0)")
            df[c] = vals
    if "sen_provision" in df:
        s = df["sen_provision"].fillna("").str.upper()
        rows.flag(~s.isin(["E", "K", "N", ""]),
                  "invalid sen_provision: " + s + " (expected E, K or N)")
        df["sen_provision"] = s.replace("", pd.NA)
    if "year_group" in df:
        y = df["year_group"].fillna("").str.upper().str.removeprefix("Y")
        rows.flag(~(y.isin(_YEAR_GROUPS) | (y == "")),
                  "invalid year_group: " + df["year_group"].fillna(""))
        df["year_group"] = y.replace("", pd.NA)
    if "sex" in df:
        df["sex"] = df["sex"].str.upper().str[:1].replace("", pd.NA)
    _flag_repeats(rows, ["upn", "urn"], "duplicate enrolment: same upn and urn as line ")
    return rows.split(path, "pupils")


def read_schools(path: str | Path, mapping: str | Path | None = None
                 ) -> tuple[pd.DataFrame, LoadReport]:
    """Read a schools (GIAS-like) CSV."""
    rows = _prepare(path, "schools", "a schools CSV", mapping, SCHOOL_COLUMNS, ["urn", "phase"])
    df = rows.df
    _check_urn(rows)
    ph = df["phase"].fillna("").str.lower().str.replace(" ", "-").str.replace("_", "-")
    ph = ph.replace({"all-through-school": "all-through", "allthrough": "all-through",
                     "middle-deemed-primary": "primary", "middle-deemed-secondary": "secondary"})
    rows.flag(ph == "", "missing value: phase is empty")
    rows.flag(~ph.isin(PHASES), "invalid phase: " + df["phase"].fillna("") +
              f" (expected one of {', '.join(PHASES)})")
    df["phase"] = ph
    _flag_repeats(rows, ["urn"], "duplicate school: same urn as line ")
    return rows.split(path, "schools")


def read_interventions(path: str | Path, mapping: str | Path | None = None
                       ) -> tuple[pd.DataFrame, LoadReport]:
    """Read an interventions CSV (one row per pupil per intervention episode)."""
    rows = _prepare(path, "interventions", "an interventions CSV", mapping,
                    INTERVENTION_COLUMNS, ["upn", "urn", "type", "start_date"])
    df = rows.df
    df["upn"] = df["upn"].str.upper()
    _check_upn(rows)
    _check_urn(rows)
    rows.flag(df["type"].fillna("") == "", "missing value: type is empty")
    for c in ("start_date", "end_date"):
        if c in df:
            parsed = parse_dates(df[c])
            rows.flag(df[c].fillna("").ne("") & parsed.isna(),
                      f"invalid date: {c} " + df[c].fillna("") +
                      " is not yyyy-mm-dd or dd/mm/yyyy")
            df[c] = parsed
    rows.flag(df["start_date"].isna(), "missing value: start_date is empty")
    if "end_date" in df:
        rows.flag(df["end_date"] < df["start_date"], "invalid dates: end_date before start_date")
    df["type"] = df["type"].str.strip().str.lower().str.replace(" ", "_")
    return rows.split(path, "interventions")
