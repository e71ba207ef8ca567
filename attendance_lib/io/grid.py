"""Weekly grids (one column per session) and mark-string tokenising.

Two concepts that weekly layouts share:

* :func:`split_mark_string` cuts a mark string into session codes against the code table,
  **longest match first**: ``C1 C2 J1 Y1-Y7`` are single codes, never classified by their first
  character (a third-party Bromcom client does ``code[0]`` and so turns ``J1``, authorised since
  2024, into ``J``, an approved educational activity before 2024; mis_formats.md section 0).
  ``-`` and space are no mark. Two-character codes of every code set are recognised, so ``J1``
  in a 2023/24 string is kept whole and quarantined by the marks reader as "introduced on
  19 Aug 2024" instead of being split into ``J`` and ``1``.
* :func:`read_weekly_grid` reads a weekly grid: one row per pupil-week with ten cells
  ``MonAM, MonPM, ..., FriPM`` (the Bromcom ``StudentAttendanceByWeek`` layout [T], and the
  weekly-wide layout expected of SIMS report exports [U]; mis_formats.md sections 2 and 4),
  keyed by ``upn`` (+ ``urn``) or by a vendor id (``vendor_id``, e.g. Bromcom ``StudentId``)
  through a roster, with a ``week_start`` (Monday) column. Bromcom's API filters weeks by date
  but its row fields carry no week date, so ``week_start`` is required rather than guessed.
  Headings such as ``Mon AM``, ``mon_am`` or ``Monday PM`` are recognised; others map through
  the ``weekly_grid`` section of the mapping YAML.

Accounting (as the weekly mark-string loader): each non-blank cell is a session row; a blank
cell or ``-`` is no mark (Bromcom: blank = no mark [T]; SIMS ``-``): not a row, counted in a
note; a week row that cannot be placed (week_start not a Monday, no pupil) is quarantined whole
as one row. UK ``dd/mm/yyyy`` week dates are read day-first; a file whose dates are ambiguous
throughout is refused.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pandas as pd

from ._common import (
    DateEvidence,
    InputFileError,
    apply_mapping,
    file_text_encoding,
    load_mapping,
    parse_dates,
    read_csv_lines,
)
from ._convert import Converted, Rows
from .local_codes import STATUTORY_CODES, LocalCodes
from .vendor_ids import VendorRoster

__all__ = ["TWO_CHAR_CODES", "SESSION_COLUMNS", "GRID_COLUMNS", "split_mark_string",
           "session_column", "read_weekly_grid"]

#: the two-character codes of every code set (longest match first)
TWO_CHAR_CODES = frozenset(c for c in STATUTORY_CODES if len(c) == 2)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")
#: the ten session cells of a weekly grid, Monday AM first
SESSION_COLUMNS = [f"{d}{s}" for d in _DAYS for s in ("AM", "PM")]
#: the other fields a grid may have (``upn`` or ``vendor_id`` identifies the pupil)
GRID_COLUMNS = ["upn", "urn", "vendor_id", "week_start"]
_CELL = re.compile(r"^(mon|tue|wed|thu|fri)[a-z]*[\s_.-]*(am|pm)$")
_BLANK = "blank cell (no mark)"
_DASH = "'-' (no mark)"


def split_mark_string(marks: str) -> list[str]:
    """Session codes of a mark string, longest match first; ``""`` for ``-`` or space.

    A character that starts no code is returned as it is (the marks reader quarantines it).

    >>> split_mark_string("/\\\\J1J1-C2Y3")
    ['/', '\\\\', 'J1', 'J1', '', 'C2', 'Y3']
    >>> split_mark_string("IQ7")  # Q is a code, 7 is not: never merged into one
    ['I', 'Q', '7']
    """
    out: list[str] = []
    i = 0
    while i < len(marks):
        if marks[i:i + 2] in TWO_CHAR_CODES:
            out.append(marks[i:i + 2])
            i += 2
            continue
        out.append("" if marks[i] in "- " else marks[i])
        i += 1
    return out


def session_column(heading: str) -> str | None:
    """The session cell a heading names (``"Mon AM"`` -> ``"MonAM"``), else ``None``.

    >>> session_column("Monday pm"), session_column("tue_am"), session_column("Week")
    ('MonPM', 'TueAM', None)
    """
    m = _CELL.match(str(heading).strip().lower())
    if m is None:
        return None
    return m.group(1).capitalize() + m.group(2).upper()


def read_weekly_grid(path: str | Path, *, mapping: str | Path | None = None,
                     roster: VendorRoster | None = None, local: LocalCodes | None = None,
                     day_first: bool = False) -> Converted:
    """Convert a weekly grid to canonical rows (mis_formats.md sections 2 and 4).

    Parameters
    ----------
    path
        The grid CSV (any detected encoding).
    mapping
        Mapping YAML: its ``weekly_grid`` section names other headings (e.g.
        ``vendor_id: StudentId``, ``week_start: Week commencing``).
    roster
        Vendor id -> UPN, URN, required when the grid is keyed by ``vendor_id``.
    local
        Local-codes map (optional).
    day_first
        Accept ``dd/mm/yyyy`` week dates that are ambiguous throughout as UK dates.

    Returns
    -------
    Converted
        One canonical row per non-blank cell; ``_line`` is the week row's file line.
    """
    p = Path(path)
    expected = ("a weekly grid CSV: week_start, upn (+ urn) or vendor_id, and one column per "
                "session MonAM, MonPM, ..., FriPM")
    notes: list[str] = []
    df, lines, blank = read_csv_lines(p, expected, skipinitialspace=False, notes=notes)
    m = load_mapping(mapping, "weekly_grid")
    rename = apply_mapping(df.columns, m, set(GRID_COLUMNS + SESSION_COLUMNS), p)
    for c in df.columns:
        if c not in rename and session_column(c) and session_column(c) not in rename.values():
            rename[c] = session_column(c)
    df = df.rename(columns=rename)
    missing = [c for c in SESSION_COLUMNS + ["week_start"] if c not in df.columns]
    if "upn" not in df.columns and "vendor_id" not in df.columns:
        missing.append("upn (or vendor_id with a roster)")
    if missing:
        raise InputFileError(p, f"missing required column(s) {', '.join(missing)}; expected "
                                f"{expected} (found: {', '.join(map(str, df.columns))}). Map "
                                f"other headings in the mapping YAML's weekly_grid section "
                                f"('attendance mapping suggest FILE' proposes one)")
    by_vendor = "upn" not in df.columns
    if by_vendor and (roster is None or not roster.ids):
        raise InputFileError(p, "the grid names pupils by vendor_id, which is not a UPN "
                                "(mis_formats.md section 0); give a roster CSV (vendor_id, upn, "
                                "urn) with --roster")
    if not by_vendor and "urn" not in df.columns:
        raise InputFileError(p, f"missing required column(s) urn; expected {expected}")
    text = df.astype(object).fillna("").astype(str)
    evidence = DateEvidence(day_first)
    evidence.add(text["week_start"].str.strip().unique())
    problem = evidence.problem()
    if problem:
        raise InputFileError(p, problem)
    weeks = parse_dates(text["week_start"])
    rows = Rows(p, "weekly-grid", "weekly grid")
    cells = text[SESSION_COLUMNS].to_numpy()
    raws = text.agg(",".join, axis=1).to_numpy() if len(text) else []
    week_text = text["week_start"].str.strip().to_numpy()
    ids = text["vendor_id" if by_vendor else "upn"].str.strip().to_numpy()
    urns = text["urn"].str.strip().to_numpy() if "urn" in text else [""] * len(text)
    for i in range(len(df)):
        line, raw, wk = int(lines[i]), raws[i], weeks.iloc[i]
        if pd.isna(wk) or wk.day_of_week != 0:
            rows.reject(line, f"invalid week_start: {week_text[i]} is not a Monday date", raw)
            continue
        if by_vendor:
            hit = roster.lookup(ids[i]) if ids[i] else None
            if hit is None:
                rows.reject(line, "missing value: vendor_id is empty" if not ids[i] else
                            f"pupil not in roster: vendor id {ids[i]} has no roster entry "
                            f"(vendor id -> UPN)", raw)
                continue
            upn, urn = hit[0], hit[1] or urns[i]
        else:
            upn, urn = ids[i].upper(), urns[i]
        for j, cell in enumerate(cells[i]):
            code = cell.strip()
            if code in ("", "-"):
                rows.skip(_BLANK if code == "" else _DASH)
                continue
            rows.add(upn, urn, (wk + timedelta(days=j // 2)).date(),
                     "AM" if j % 2 == 0 else "PM", code, line)
    if len(blank):
        notes.append(f"{len(blank):,} blank line(s) skipped; they are not rows")
    if len(df) == 0:
        notes.append("the file has a header row but no data rows; nothing to load")
    conv = rows.finish(local, encoding=file_text_encoding(p), notes_first=notes)
    if by_vendor:
        conv.roster = roster.frame()
    return conv
