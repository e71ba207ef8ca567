"""SIMS partner-API XML: session attendances and the attendance-code export.

Layouts (../shared/reference/mis_formats.md section 2, "Partner API (SIMS 7)"; primary
documentation, sims-partners.com):

* **Session attendances** (``GetXmlSessionAttendances``): ``<SessionAttendances>`` of
  ``<SessionAttendance>`` with ``PersonID``, ``BaseGroupID`` (0 if not requested),
  ``AttendanceDate`` (a date-time, the session start, e.g. ``2025-01-13T09:00:00``) and
  ``SessionName`` (``AM``/``PM``). The documented read list ends in "…": the element holding
  the mark is taken to be ``AttendanceMark`` as in the write-back fields (``PersonID,
  AttendanceDate, SessionName, AttendanceMark, Comments, MinsLate``) and the constructed
  example, which is **not confirmed** for reads [U]. A file with no ``AttendanceMark`` (and no
  ``AttendanceCodeID`` to resolve through a code export) is refused, not guessed.
  ``MinsLate`` and ``Comments`` are not loaded (the store keeps the five canonical columns).
* **Attendance-code export**: the Summer 2020+ ``GetAttendanceCodesCommand`` fields
  ``Attendance_Code_ID, SIMS_Display_Code, ..., Statutory_Return_Code`` (any element holding a
  ``SIMS_Display_Code`` child is one code; the container names are not documented), or the
  older ``<AttendanceCodes><AttendanceCode>`` with ``AttendanceCodeID, Code, ...``. Local display
  codes (``9`` "Shielding") are reported as their ``Statutory_Return_Code``; the older export
  has no such field, so it cannot map local codes and is used only to resolve code ids.

Identifiers: ``PersonID`` is a SIMS id, not a UPN (mis_formats.md section 0); pupils are
found through a roster CSV (:mod:`attendance_lib.io.vendor_ids`), which also gives the school
URN (one SIMS database is one school). Encoding: the XML declaration is honoured (SIMS declares
``iso-8859-1``) and recorded in the report. ``-`` ("All should attend / No mark recorded") is
no mark: not a row, counted in a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ._common import InputFileError, LoadReport, quarantine_frame
from ._convert import Converted, Rows
from ._xml import Node, parse_xml
from .encodings import encoding_note
from .local_codes import STATUTORY_CODES, LocalCodes
from .vendor_ids import VendorRoster

__all__ = ["CodeExport", "read_code_export", "read_session_attendances", "read_sims",
           "sims_kind"]

_EXPECTED_SESSIONS = ("SIMS session-attendance XML (<SessionAttendance> with PersonID, "
                      "AttendanceDate, SessionName, AttendanceMark)")
_EXPECTED_CODES = ("a SIMS attendance-code export (SIMS_Display_Code and Statutory_Return_Code, "
                   "or <AttendanceCode> with AttendanceCodeID and Code)")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


@dataclass
class CodeExport:
    """A SIMS code export: local -> statutory codes, code ids -> display codes, its report."""

    local_codes: LocalCodes
    ids: dict[str, str] = field(default_factory=dict)
    report: LoadReport | None = None
    layout: str = "new"


def sims_kind(head: bytes) -> str | None:
    """``"sessions"``, ``"codes"`` or ``None`` from the start of an XML file."""
    if b"SessionAttendance" in head:
        return "sessions"
    if b"SIMS_Display_Code" in head or b"<AttendanceCodes" in head or b"AttendanceCode>" in head:
        return "codes"
    return None


def _code_records(root: Node) -> tuple[str, list[Node]]:
    new = [n for n in _walk(root) if n.find("SIMS_Display_Code") is not None]
    if new:
        return "new", new
    return "old", [n for n in root.iter("AttendanceCode") if n.find("Code") is not None]


def _walk(node: Node):
    yield node
    for c in node.children:
        yield from _walk(c)


def read_code_export(path: str | Path) -> CodeExport:
    """Read a SIMS attendance-code export (either layout; see the module docstring)."""
    doc = parse_xml(path, _EXPECTED_CODES)
    layout, recs = _code_records(doc.root)
    if not recs:
        raise InputFileError(path, f"holds no attendance codes; expected {_EXPECTED_CODES}")
    mapping: dict[str, str] = {}
    ids: dict[str, str] = {}
    q_lines, q_reasons, q_raw = [], [], []
    for n in recs:
        if layout == "new":
            display, target = n.findtext("SIMS_Display_Code") or "", \
                n.findtext("Statutory_Return_Code") or ""
            cid = n.findtext("Attendance_Code_ID")
        else:
            display = target = n.findtext("Code") or ""
            cid = n.findtext("AttendanceCodeID")
        raw = f"{display} -> {target}" + (f" (id {cid})" if cid else "")
        if not display:
            q_lines.append(n.line)
            q_reasons.append("missing value: the code has no display code")
            q_raw.append(raw)
            continue
        if cid:
            ids[cid] = display
        if layout == "new":
            if target not in STATUTORY_CODES:
                q_lines.append(n.line)
                q_reasons.append(f"invalid Statutory_Return_Code: display code '{display}' "
                                 f"returns '{target}', which is not a statutory attendance "
                                 f"code; marks with '{display}' will be quarantined")
                q_raw.append(raw)
                continue
            mapping[display] = target
    local = {k: v for k, v in mapping.items() if k != v}
    notes = encoding_note(doc.encoding, doc.encoding_how)
    if layout == "new":
        shown = ", ".join(f"'{k}' -> '{v}'" for k, v in sorted(local.items())) or "none"
        notes.append(f"SIMS code export (Summer 2020+ layout): {len(recs):,} code(s); local "
                     f"display codes reported as their Statutory_Return_Code: {shown}")
    else:
        notes.append("SIMS code export (older GetXmlAttendanceCodes layout): it has no "
                     "Statutory_Return_Code, so it cannot map local codes (mis_formats.md "
                     "section 2); used only to resolve AttendanceCodeID")
    q = quarantine_frame(path, q_lines, q_reasons, q_raw)
    rep = LoadReport(file=str(path), kind="sims codes", rows_read=len(recs),
                     rows_loaded=len(recs) - len(q), quarantine=q, notes=notes,
                     encoding=doc.encoding, format="sims-xml")
    return CodeExport(LocalCodes({"*": mapping}, f"SIMS code export {Path(path).name}"), ids,
                      rep, layout)


def read_session_attendances(path: str | Path, roster: VendorRoster | None, *,
                             local: LocalCodes | None = None,
                             code_ids: dict[str, str] | None = None,
                             urn: str | None = None) -> Converted:
    """Convert a session-attendance export to canonical rows (see the module docstring).

    Each ``<SessionAttendance>`` is one row read; ``_line`` is the line it starts on.
    """
    p = Path(path)
    doc = parse_xml(p, _EXPECTED_SESSIONS, records={"SessionAttendance"})
    cols = doc.records.get("SessionAttendance")
    if not cols:
        raise InputFileError(p, f"has no <SessionAttendance> elements; expected "
                                f"{_EXPECTED_SESSIONS}")
    n = len(cols["_line"])
    if "AttendanceMark" not in cols and not ("AttendanceCodeID" in cols and code_ids):
        found = ", ".join(k for k in cols if k != "_line")
        raise InputFileError(p, f"the <SessionAttendance> elements have no AttendanceMark "
                                f"(found: {found}); the element holding the mark in SIMS reads "
                                f"is not confirmed (mis_formats.md section 2), so nothing is "
                                f"guessed: expected {_EXPECTED_SESSIONS}")
    if roster is None or not roster.ids:
        raise InputFileError(p, "SIMS session attendances name pupils by PersonID, which is not "
                                "a UPN (mis_formats.md section 0); give a roster CSV "
                                "(vendor_id, upn, urn) with --roster")
    rows = Rows(p, "sims-xml", "sims-xml marks")

    def col(name):
        return cols.get(name) or [None] * n

    pid_c, date_c, sess_c = col("PersonID"), col("AttendanceDate"), col("SessionName")
    mark_c, cid_c = col("AttendanceMark"), col("AttendanceCodeID")
    for i in range(n):
        line = cols["_line"][i]
        pid, when, sess = pid_c[i] or "", date_c[i] or "", sess_c[i] or ""
        mark = mark_c[i]
        raw = (f"PersonID={pid}, AttendanceDate={when}, SessionName={sess}, "
               f"AttendanceMark={'' if mark is None else mark}")
        if mark is None and cid_c[i] and code_ids:
            mark = code_ids.get(cid_c[i])
            if mark is None:
                rows.reject(line, f"unknown AttendanceCodeID {cid_c[i]}: not in the code "
                                  f"export", raw)
                continue
        if mark == "-":
            rows.skip("'-' (SIMS: no mark recorded)")
            continue
        if not pid:
            rows.reject(line, "missing value: PersonID is empty", raw)
            continue
        hit = roster.lookup(pid)
        if hit is None:
            rows.reject(line, f"pupil not in roster: PersonID {pid} has no roster entry "
                              f"(vendor id -> UPN)", raw)
            continue
        school = hit[1] or urn or ""
        if not school:
            rows.reject(line, f"missing value: no URN for PersonID {pid} (the roster's urn "
                              f"is empty)", raw)
            continue
        m = _DATETIME.match(when)
        if m is None:
            rows.reject(line, f"invalid date: AttendanceDate '{when}' is not "
                              f"yyyy-mm-ddThh:mm:ss", raw)
            continue
        if not mark:
            rows.reject(line, "missing value: AttendanceMark is empty (SIMS writes '-' for "
                              "no mark)", raw)
            continue
        rows.add(hit[0], school, m.group(1), sess, mark, line)
    dropped = [k for k in ("MinsLate", "Comments") if k in cols]
    if dropped:
        rows.notes.append(f"{' and '.join(dropped)} not loaded (the store keeps upn, urn, date, "
                          f"session, code)")
    conv = rows.finish(local, encoding=doc.encoding,
                       notes_first=encoding_note(doc.encoding, doc.encoding_how))
    conv.roster = roster.frame()
    return conv


def read_sims(paths, roster: VendorRoster | None, *, local: LocalCodes | None = None,
              urn: str | None = None) -> list[Converted]:
    """Read a set of SIMS XML files (mis_formats.md section 2).

    Parameters
    ----------
    paths
        Session-attendance exports and attendance-code exports, told apart by content. The
        code exports are read first; their ``Statutory_Return_Code`` mapping applies to every
        session file of the set (one SIMS database is one school).
    roster
        PersonID -> UPN, URN (required for session files: PersonID is not a UPN).
    local
        A local-codes map (YAML); it wins over the code export where both map a code.
    urn
        School URN for roster entries without one.

    Returns
    -------
    list of Converted
        Code exports (supporting, ``has_marks=False``) then one result per session file.
    """
    kinds = {}
    for p in map(Path, paths):
        with open(p, "rb") as fh:
            kinds[p] = sims_kind(fh.read(1 << 14))
    exports = [read_code_export(p) for p, k in kinds.items() if k == "codes"]
    out: list[Converted] = []
    merged = LocalCodes({}, "")
    ids: dict[str, str] = {}
    for ex in exports:
        merged = merged.merged(ex.local_codes)
        ids.update(ex.ids)
        out.append(Converted(Path(ex.report.file), "sims-xml", "sims codes", None, ex.report,
                             has_marks=False))
    # an explicit local-codes YAML wins over the export
    merged = merged.merged(local)
    for p, k in kinds.items():
        if k == "codes":
            continue
        if k is None:
            raise InputFileError(p, f"is not SIMS partner-API XML; expected "
                                    f"{_EXPECTED_SESSIONS} or {_EXPECTED_CODES}")
        out.append(read_session_attendances(p, roster, local=merged, code_ids=ids, urn=urn))
    return out
