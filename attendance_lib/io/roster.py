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
    read_csv_strings,
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

    def __init__(self, df: pd.DataFrame):
        self.df = df
        self.reason = pd.Series(pd.NA, index=df.index, dtype="object")

    def flag(self, mask, reason) -> None:
        mask = pd.Series(mask, index=self.df.index).fillna(False).astype(bool)
        if isinstance(reason, pd.Series):
            new = mask & self.reason.isna()
            self.reason[new] = reason[new]
        else:
            self.reason[mask & self.reason.isna()] = reason

    def split(self, path, kind, extra_notes=()) -> tuple[pd.DataFrame, LoadReport]:
        bad = self.reason.notna()
        raw = self.df.loc[bad].astype(str).agg(",".join, axis=1) if bad.any() else []
        q = quarantine_frame(path, (np.flatnonzero(bad.to_numpy()) + 2),
                             self.reason[bad].to_numpy(), raw)
        good = self.df.loc[~bad].reset_index(drop=True)
        rep = LoadReport(file=str(path), kind=kind, rows_read=len(self.df),
                         rows_loaded=len(good), quarantine=q, notes=list(extra_notes))
        return good, rep


def _prepare(path, kind, expected, mapping_path, known, required):
    df = read_csv_strings(path, expected)
    mapping = load_mapping(mapping_path, kind)
    df = df.rename(columns=apply_mapping(df.columns, mapping, set(known), path))
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputFileError(path, f"missing required column(s) {', '.join(missing)}; expected "
                                   f"{expected} with columns {', '.join(required)} "
                                   f"(found: {', '.join(map(str, df.columns)) or 'none'})")
    for c in df.columns:
        df[c] = df[c].astype("string").str.strip()
    return df


def _check_upn(rows: _Rows) -> None:
    problems = pd.Series([upn_mod.upn_problem(u) if isinstance(u, str) else "UPN is missing"
                          for u in rows.df["upn"].astype(object)], index=rows.df.index,
                         dtype=object)
    rows.flag(problems.notna(), "failed UPN check: " + problems.fillna("").astype(str))


def _check_urn(rows: _Rows, col="urn"):
    u = rows.df[col].fillna("")
    rows.flag(u == "", f"missing {col}")
    rows.flag(~u.str.fullmatch(r"\d{5,7}"), "invalid URN: " + u + " is not a 5-7 digit number")


def read_pupils(path: str | Path, mapping: str | Path | None = None
                ) -> tuple[pd.DataFrame, LoadReport]:
    """Read a pupils (census-like) CSV: one row per enrolment."""
    df = _prepare(path, "pupils", "a pupils CSV", mapping, PUPIL_COLUMNS, ["upn", "urn"])
    rows = _Rows(df)
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
    dup = df.duplicated(["upn", "urn"], keep="first") & rows.reason.isna()
    first_line = (df.reset_index().groupby(["upn", "urn"])["index"].transform("min") + 2)
    rows.flag(dup, "duplicate enrolment: same upn and urn as line " + first_line.astype(str))
    return rows.split(path, "pupils")


def read_schools(path: str | Path, mapping: str | Path | None = None
                 ) -> tuple[pd.DataFrame, LoadReport]:
    """Read a schools (GIAS-like) CSV."""
    df = _prepare(path, "schools", "a schools CSV", mapping, SCHOOL_COLUMNS, ["urn", "phase"])
    rows = _Rows(df)
    _check_urn(rows)
    ph = df["phase"].fillna("").str.lower().str.replace(" ", "-").str.replace("_", "-")
    ph = ph.replace({"all-through-school": "all-through", "allthrough": "all-through",
                     "middle-deemed-primary": "primary", "middle-deemed-secondary": "secondary"})
    rows.flag(~ph.isin(PHASES), "invalid phase: " + df["phase"].fillna("") +
              f" (expected one of {', '.join(PHASES)})")
    df["phase"] = ph
    dup = df.duplicated(["urn"]) & rows.reason.isna()
    rows.flag(dup, "duplicate school: urn appears earlier in the file")
    return rows.split(path, "schools")


def read_interventions(path: str | Path, mapping: str | Path | None = None
                       ) -> tuple[pd.DataFrame, LoadReport]:
    """Read an interventions CSV (one row per pupil per intervention episode)."""
    df = _prepare(path, "interventions", "an interventions CSV", mapping, INTERVENTION_COLUMNS,
                  ["upn", "urn", "type", "start_date"])
    rows = _Rows(df)
    df["upn"] = df["upn"].str.upper()
    _check_upn(rows)
    _check_urn(rows)
    rows.flag(df["type"].fillna("") == "", "missing intervention type")
    for c in ("start_date", "end_date"):
        if c in df:
            parsed = parse_dates(df[c])
            rows.flag(df[c].fillna("").ne("") & parsed.isna(),
                      f"invalid date: {c} " + df[c].fillna(""))
            df[c] = parsed
    rows.flag(df["start_date"].isna(), "missing start_date")
    if "end_date" in df:
        rows.flag(df["end_date"] < df["start_date"], "invalid dates: end_date before start_date")
    df["type"] = df["type"].str.strip().str.lower().str.replace(" ", "_")
    return rows.split(path, "interventions")
