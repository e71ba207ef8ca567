"""Weekly mark strings: one row per pupil-week, converted to long-form session rows.

One concept: the weekly layout some MIS exports use, ``upn, urn, week_start, marks``
(:data:`WEEKLY_COLUMNS`), where ``marks`` holds the week's 10 sessions Monday AM first
(``/\\/\\LL/\\N\\``). :func:`weekly_to_long` checks the week rows (10 sessions, Monday
``week_start``), quarantines the malformed ones and expands the rest to the canonical long form
with each session's source line, ready for :class:`attendance_lib.io.marks.MarksReader`; use
:func:`attendance_lib.io.marks.read_weekly_marks` for validated marks.

Two-character codes (``C1 C2 J1 Y1-Y7``) are one session each: strings are cut longest match
first against the code table (:func:`attendance_lib.io.grid.split_mark_string`), never by first
character (../shared/reference/mis_formats.md section 0), so ``/\\J1J1/\\/\\/\\`` is ten
sessions. The file's encoding is detected and noted, and ``dd/mm/yyyy`` week dates that are
ambiguous throughout are refused (:class:`attendance_lib.io._common.DateEvidence`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ._common import (
    DateEvidence,
    InputFileError,
    LoadReport,
    apply_mapping,
    load_mapping,
    mapping_options,
    parse_dates,
    quarantine_frame,
    read_csv_lines,
)
from .grid import split_mark_string

__all__ = ["WEEKLY_COLUMNS", "weekly_to_long"]

WEEKLY_COLUMNS = ["upn", "urn", "week_start", "marks"]


def weekly_to_long(path: str | Path, mapping: str | Path | None = None, *,
                   day_first: bool = False) -> tuple[pa.Table, LoadReport]:
    """Convert a weekly mark-string file to long form rows (before code validation).

    Layout: ``upn, urn, week_start, marks`` with one row per pupil-week; ``marks`` holds 10
    sessions, Monday AM first (``/\\/\\LL/\\N\\``), a two-character code (``J1``) being one
    session; ``-`` or space means no mark (no row is produced for it). A row whose string is not
    10 sessions, or whose week_start is not a Monday, is quarantined.

    The report counts only the quarantined week rows (``rows_read`` = their number), so that
    adding it to the session-level report of the long rows keeps ``read = loaded + quarantined``.
    """
    expected = "a weekly marks CSV with columns " + ", ".join(WEEKLY_COLUMNS)
    # leading spaces are kept: a space is a blank session (Monday AM first)
    enc_notes: list[str] = []
    df, file_lines, blank_lines = read_csv_lines(path, expected, skipinitialspace=False,
                                                 notes=enc_notes)
    m = load_mapping(mapping, "weekly_marks")
    df = df.rename(columns=apply_mapping(df.columns, m, set(WEEKLY_COLUMNS), path))
    missing = [c for c in WEEKLY_COLUMNS if c not in df.columns]
    if missing:
        raise InputFileError(path, f"missing required column(s) {', '.join(missing)}; expected "
                                   f"{expected} (found: {', '.join(map(str, df.columns))})")
    text = df.astype(object).fillna("").astype(str)
    for c in df.columns:
        if c != "marks":
            df[c] = df[c].astype("string").str.strip()
    s = df["marks"].fillna("").astype(str).str.strip("\r\n")
    evidence = DateEvidence(day_first or mapping_options(mapping).get("date_order") == "day-first")
    evidence.add(df["week_start"].fillna("").unique())
    if evidence.problem():
        raise InputFileError(path, evidence.problem())
    wk = parse_dates(df["week_start"])
    tokens = pd.Series([split_mark_string(x) for x in s], index=s.index, dtype=object)
    n_tok = tokens.str.len() if len(s) else pd.Series([], dtype="int64")
    bad_len = n_tok != 10
    bad_wk = wk.isna() | (wk.dt.day_of_week != 0)
    bad = (bad_len | bad_wk).to_numpy()
    count = np.where((n_tok == s.str.len()).to_numpy(),
                     "has " + s.str.len().astype(str) + " characters, not 10",
                     "decodes to " + n_tok.astype(str) + " sessions (a two-character code "
                     "counts as one), not 10")
    reasons = np.where(bad_wk.to_numpy(), "invalid week_start: " + df["week_start"].fillna("")
                       + " is not a Monday date",
                       "invalid mark string: '" + s + "' " + count)
    lines = file_lines
    raw = text.agg(",".join, axis=1).to_numpy() if len(df) else np.array([])
    q = quarantine_frame(path, lines[bad], reasons[bad], raw[bad])
    rep = LoadReport(file=str(path), kind="weekly marks", rows_read=int(bad.sum()), quarantine=q,
                     notes=enc_notes)
    good = df.loc[~bad].reset_index(drop=True)
    chars = tokens[~bad].reset_index(drop=True)
    gw = wk[~bad].reset_index(drop=True)
    long = pd.DataFrame({
        "upn": np.repeat(good["upn"].to_numpy(dtype=object), 10),
        "urn": np.repeat(good["urn"].to_numpy(dtype=object), 10),
        "date": (np.repeat(gw.to_numpy(), 10)
                 + np.tile(np.repeat(np.arange(5), 2), len(good)).astype("timedelta64[D]")),
        "session": np.tile(["AM", "PM"], 5 * len(good)),
        "code": np.concatenate(chars.to_list()) if len(good) else np.array([], dtype=object),
        "_line": np.repeat(lines[~bad], 10),
    })
    keep = long["code"] != ""
    long = long[keep]
    if (~keep).any():
        rep.notes.append(f"{int((~keep).sum()):,} blank session(s) ('-' or space) carried no "
                         f"mark")
    if len(blank_lines):
        rep.notes.append(f"{len(blank_lines):,} blank line(s) skipped (line "
                         f"{', '.join(str(int(x)) for x in blank_lines[:10])}); they are not rows")
    if len(df) == 0:
        rep.notes.append("the file has a header row but no data rows; nothing to load")
    tbl = pa.table({
        "upn": pa.array(long["upn"].to_numpy(dtype=object), pa.string()),
        "urn": pa.array(long["urn"].to_numpy(dtype=object), pa.string()),
        "date": pa.array(long["date"].to_numpy(dtype="datetime64[D]"), pa.date32()),
        "session": pa.array(long["session"].to_numpy(dtype=object), pa.string()),
        "code": pa.array(long["code"].to_numpy(dtype=object), pa.string()),
        "_line": pa.array(long["_line"].to_numpy(dtype=np.int64), pa.int64()),
    })
    return tbl, rep
