"""Propose a YAML column mapping for an unknown CSV, for the analyst to confirm.

``attendance mapping suggest FILE`` reads the header of an MIS export and matches each heading
against an alias table (``UPN``, ``Adno``, ``Reg``, ``Year``, ``Date``, ``Session``, ``Mark``,
``AM/PM``, ``Legal Surname``, ``Week commencing``, ``Mon AM`` ...). No public column
specification exists for SIMS Reporting Engine, Arbor or Bromcom CSV exports
(../shared/reference/mis_formats.md sections 2, 4 and 7: "use header alias tables"), so the
result is a **proposal**: it is printed as YAML with a comment on every line saying why, and
headings it could not place are listed, never silently dropped. Nothing is loaded.

The section is chosen from what matched: ten session columns -> ``weekly_grid``; a week date and
a mark string -> ``weekly_marks``; a date with a session or mark -> ``marks``; otherwise, with
pupil fields (date of birth, year group, sex) -> ``pupils``. An admission number (``Adno``) is
the school's own id, not a UPN: it is offered as ``vendor_id`` only where a roster can link it.
If every date in the sampled rows is ambiguous (``02/09/2024``), ``date_order: day-first`` is
proposed, commented out, for the analyst to confirm.

Examples
--------
>>> s = suggest_for_headers(["Legal Surname", "Forename", "UPN", "Reg", "Date", "AM/PM",
...                          "Mark"])
>>> s.section, s.mapping["session"], s.mapping["code"]
('marks', 'AM/PM', 'Mark')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ._common import DateEvidence, read_csv_lines
from .grid import SESSION_COLUMNS, session_column

__all__ = ["ALIASES", "Suggestion", "suggest_for_headers", "suggest_mapping", "to_yaml"]


def _norm(h: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(h).lower())


#: canonical field -> headings that mean it (compared without case, spaces or punctuation)
ALIASES: dict[str, tuple[str, ...]] = {
    "upn": ("upn", "unique pupil number", "pupil upn", "student upn"),
    "urn": ("urn", "school urn", "unique reference number", "establishment urn"),
    "laestab": ("laestab", "la estab", "dfe number", "dfe no", "lea estab"),
    "date": ("date", "attendance date", "session date", "mark date", "register date",
             "calendar date", "calendarstartdate"),
    "session": ("session", "am/pm", "am pm", "session name", "sessionname", "period",
                "am or pm"),
    "code": ("mark", "code", "attendance mark", "attendance code", "attendancemark",
             "attendance_code", "reg mark"),
    "week_start": ("week commencing", "week beginning", "week start", "w/c", "wc",
                   "week starting", "week_start", "weekstart", "week"),
    "marks": ("marks", "mark string", "attendance marks", "week marks", "weekly marks",
              "attendancemarks"),
    "vendor_id": ("studentid", "student id", "personid", "person id", "adno", "admission no",
                  "admission number", "mis id", "misid", "pupil id", "id"),
    "year_group": ("year", "year group", "nc year", "ncyear", "ncyearactual", "yr", "year grp"),
    "date_of_birth": ("dob", "date of birth", "birth date", "birthdate"),
    "sex": ("sex", "gender", "legal sex"),
    "name": ("legal surname", "surname", "name", "pupil name", "student name", "full name",
             "legal name"),
    "admission_date": ("admission date", "date of admission", "entry date", "entrydate",
                       "start date"),
    "leaving_date": ("leaving date", "date of leaving", "leave date", "end date"),
    "fsm_eligible": ("fsm", "fsm eligible", "free school meals", "fsmeligible"),
    "sen_provision": ("sen", "sen provision", "sen status", "senprovision"),
    "ethnicity": ("ethnicity", "ethnic group", "ethnic code"),
    "eal": ("eal", "english as an additional language", "first language not english"),
}
_NOT_NEEDED = {
    "reg": "registration group: not needed",
    "reggroup": "registration group: not needed",
    "form": "registration group: not needed",
    "tutorgroup": "tutor group: not needed",
    "tutorgroupname": "tutor group: not needed",
    "forename": "kept as an extra column in pupils files; not needed for marks",
    "legalforename": "kept as an extra column in pupils files; not needed for marks",
    "preferredsurname": "not needed",
    "house": "not needed",
    "minslate": "minutes late: not loaded (the store keeps upn, urn, date, session, code)",
    "minuteslate": "minutes late: not loaded",
    "comments": "comments: not loaded",
    "comment": "comments: not loaded",
}
_LOOKUP = {_norm(a): k for k, aliases in ALIASES.items() for a in aliases}
_SECTION_FIELDS = {
    "marks": ("upn", "urn", "date", "session", "code"),
    "weekly_marks": ("upn", "urn", "week_start", "marks"),
    "weekly_grid": ("upn", "urn", "vendor_id", "week_start", *SESSION_COLUMNS),
    "pupils": ("upn", "urn", "name", "year_group", "date_of_birth", "sex", "fsm_eligible",
               "sen_provision", "eal", "ethnicity", "admission_date", "leaving_date"),
}
_REQUIRED = {"marks": ("upn", "urn", "date", "session", "code"),
             "weekly_marks": ("upn", "urn", "week_start", "marks"),
             "weekly_grid": ("week_start", *SESSION_COLUMNS), "pupils": ("upn", "urn")}


@dataclass
class Suggestion:
    """A proposed mapping: ``section``, ``mapping`` (canonical -> heading), headings left over
    with the reason, required fields not found, and comments (notes for the analyst)."""

    section: str
    mapping: dict[str, str] = field(default_factory=dict)
    unmatched: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    date_order: str | None = None


def suggest_for_headers(headers: list[str]) -> Suggestion:
    """Match headings to canonical fields (see the module docstring)."""
    found: dict[str, str] = {}
    left: dict[str, str] = {}
    cells = {}
    for h in headers:
        cell = session_column(h)
        if cell and cell not in cells:
            cells[cell] = h
            continue
        key = _LOOKUP.get(_norm(h))
        if key and key not in found:
            found[key] = h
        else:
            left[h] = _NOT_NEEDED.get(_norm(h), "no alias matched" if not key else
                                      f"also looks like {key}, already taken by "
                                      f"'{found.get(key)}'")
    if len(cells) == len(SESSION_COLUMNS):
        section = "weekly_grid"
        found.update(cells)
    elif "week_start" in found and "marks" in found:
        section = "weekly_marks"
    elif "date" in found and ({"session", "code"} & set(found)):
        section = "marks"
    elif {"date_of_birth", "year_group", "sex"} & set(found):
        section = "pupils"
    else:
        section = "marks"
    allowed = set(_SECTION_FIELDS[section])
    mapping = {k: v for k, v in found.items() if k in allowed}
    for k, v in found.items():
        if k not in allowed:
            left[v] = f"matches {k}, which a {section} file does not use"
    s = Suggestion(section, mapping, left)
    if section == "weekly_grid" and "upn" in mapping:
        mapping.pop("vendor_id", None)
    need = list(_REQUIRED[section])
    if section == "weekly_grid" and "upn" not in mapping and "vendor_id" not in mapping:
        need.append("upn")
    s.missing = [k for k in need if k not in mapping]
    vid = mapping.get("vendor_id") or found.get("vendor_id")
    if vid and _norm(vid) in ("adno", "admissionno", "admissionnumber"):
        s.notes.append(f"'{vid}' is the school's admission number, not a UPN: it can only link "
                       f"marks to pupils through a roster CSV (vendor_id, upn, urn; --roster)")
    if section == "marks" and "urn" in s.missing:
        s.notes.append("no school URN column: add one (every row needs the school's URN)")
    return s


def suggest_mapping(path: str | Path, sample_rows: int = 2000) -> Suggestion:
    """:func:`suggest_for_headers` for a CSV file, plus a look at its dates."""
    df, _lines, _blank = read_csv_lines(path, "a CSV export with a header row")
    s = suggest_for_headers(list(df.columns))
    date_cols = [s.mapping[k] for k in ("date", "week_start", "date_of_birth", "admission_date")
                 if k in s.mapping]
    ev = DateEvidence()
    for c in date_cols:
        ev.add(df[c].head(sample_rows).astype(str).str.strip().unique())
    if ev.ambiguous and ev.month_proof is None:
        s.date_order = "day-first"
        s.notes.append(f"every date sampled is ambiguous (e.g. '{ev.example}'): if they are UK "
                       f"dd/mm/yyyy dates, uncomment 'date_order: day-first' (otherwise the "
                       f"load is refused rather than guessed)")
    elif ev.month_proof is not None and ev.day_proof is None:
        s.notes.append(f"dates look month-first (US), e.g. '{ev.month_proof}': such files are "
                       f"refused; export dd/mm/yyyy or yyyy-mm-dd dates")
    return s


def to_yaml(s: Suggestion, source: str | Path | None = None) -> str:
    """The suggestion as a commented YAML mapping (valid YAML: headings are quoted)."""
    out = ["# Suggested by 'attendance mapping suggest'"
           + (f" from {Path(source).name}" if source else "")
           + ": CHECK EVERY LINE before using it.",
           "# canonical field: heading in your file"]
    if s.section in ("marks", "weekly_marks", "weekly_grid"):
        out.append("# use with: attendance ingest --store DIR --marks FILE --mapping THIS.yaml")
    else:
        out.append(f"# use with: attendance ingest --store DIR --{s.section} FILE "
                   f"--mapping THIS.yaml")
    out.append(f"{s.section}:")
    for k in _SECTION_FIELDS[s.section]:
        if k in s.mapping:
            same = "" if s.mapping[k] == k else f"   # from heading {s.mapping[k]!r}"
            out.append(f"  {k}: {json.dumps(s.mapping[k], ensure_ascii=False)}{same}")
    for k in s.missing:
        out.append(f"  # {k}: ???   # REQUIRED, not found: name the heading that holds it")
    if s.date_order:
        out.append(f"# date_order: {s.date_order}   # uncomment if the dates are UK dd/mm/yyyy")
    for h, why in s.unmatched.items():
        out.append(f"# not mapped: {json.dumps(h, ensure_ascii=False)} ({why})")
    for n in s.notes:
        out.append(f"# note: {n}")
    return "\n".join(out) + "\n"
