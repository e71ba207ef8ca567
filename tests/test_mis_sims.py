"""SIMS partner-API XML (tests/mis_inputs/README.md; mis_formats.md section 2).

``sims_sessions.xml`` (declared ISO-8859-1, one ``<SessionAttendance>`` per line from line 3):

====  ========  ==========  ===  ====  =============================================
line  PersonID  date        ses  mark  expected
====  ========  ==========  ===  ====  =============================================
3     4107      2025-01-13  AM   /     B...001 present
4     4107      2025-01-13  PM   L     B...001 late (MinsLate 7 not loaded)
5     4108      2025-01-13  AM   9     U...004: local code -> Y6 (code export)
6     4108      2025-01-13  PM   -     no mark: not a row, counted in a note
7     4108      2025-01-14  AM   C2    U...004 authorised (Comments in Latin-1)
8     4110      2025-01-14  AM   /     quarantined: PersonID not in the roster
9     4107      2025-01-14  AM   @     quarantined: local code not in the export
10    4107      2025-01-14  PM         quarantined: empty AttendanceMark
====  ========  ==========  ===  ====  =============================================

Rows read = 7 (the ``-`` is not a row) = 4 loaded + 3 quarantined.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from attendance_lib.io._common import InputFileError
from attendance_lib.io.formats import read_mis
from attendance_lib.io.sims_xml import read_code_export, read_session_attendances
from attendance_lib.io.vendor_ids import read_vendor_roster

MIS = Path(__file__).resolve().parent / "mis_inputs"
B001, U004 = "B801200005001", "U801200005004"
SESSIONS, CODES, ROSTER = MIS / "sims_sessions.xml", MIS / "sims_codes.xml", MIS / "sims_roster.csv"


def tuples(df):
    return [(u, s, d.strftime("%Y-%m-%d"), se, c) for u, s, d, se, c in
            zip(df["upn"], df["urn"], df["date"], df["session"], df["code"], strict=True)]


def test_sims_sessions_give_the_hand_worked_marks():
    res = read_mis([SESSIONS, CODES], roster=ROSTER)
    assert tuples(res.marks) == [
        (B001, "100001", "2025-01-13", "AM", "/"), (B001, "100001", "2025-01-13", "PM", "L"),
        (U004, "100001", "2025-01-13", "AM", "Y6"), (U004, "100001", "2025-01-14", "AM", "C2"),
    ]
    rep = next(r for r in res.reports if r.file.endswith("sims_sessions.xml"))
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (7, 4, 3)
    assert dict(zip(rep.quarantine["line"], rep.quarantine["reason"], strict=True)) == {
        8: "pupil not in roster: PersonID 4110 has no roster entry (vendor id -> UPN)",
        9: "unmapped local code: '@' at school 100001 is not a statutory attendance code; it "
           "is not in the code export or local-codes mapping",
        10: "missing value: AttendanceMark is empty (SIMS writes '-' for no mark)",
    }
    assert rep.notes[:2] == [
        "format: sims-xml (detected: SIMS partner XML: session attendances)",
        "encoding: ISO-8859-1 (Latin-1), declared in the XML declaration"]
    assert "1 '-' (SIMS: no mark recorded)" in " ".join(rep.notes)
    assert "'9' -> 'Y6' (1)" in " ".join(rep.notes)
    assert rep.encoding == "iso-8859-1"


def test_local_code_yaml_adds_to_the_export():
    # local_codes.yaml maps '@' -> C2 at school 100001: line 9 now loads
    res = read_mis([SESSIONS, CODES], roster=ROSTER, local_codes=MIS / "local_codes.yaml")
    rep = next(r for r in res.reports if r.file.endswith("sims_sessions.xml"))
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (7, 5, 2)
    assert (B001, "100001", "2025-01-14", "AM", "C2") in tuples(res.marks)


def test_without_the_code_export_the_local_code_is_quarantined_naming_school_and_code():
    res = read_mis([SESSIONS], roster=ROSTER)
    rep = res.reports[-1]
    q = dict(zip(rep.quarantine["line"], rep.quarantine["reason"], strict=True))
    assert q[5].startswith("unmapped local code: '9' at school 100001 is not a statutory "
                           "attendance code")
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (7, 3, 4)


def test_code_export_reads_statutory_return_codes():
    ex = read_code_export(CODES)
    assert ex.layout == "new"
    assert ex.local_codes.lookup("100001", "9") == "Y6"
    assert ex.ids["5"] == "9"
    assert (ex.report.rows_read, ex.report.rows_loaded) == (6, 6)


def test_old_code_export_cannot_map_local_codes(tmp_path):
    f = tmp_path / "old.xml"
    f.write_text('<?xml version="1.0" encoding="ISO-8859-1"?><AttendanceCodes><AttendanceCode>'
                 "<AttendanceCodeID>12</AttendanceCodeID><Code>9</Code><Description>Shielding"
                 "</Description><StatisticalMappingID>3</StatisticalMappingID>"
                 "<StatisticalMappingDescription>Authorised</StatisticalMappingDescription>"
                 "</AttendanceCode></AttendanceCodes>", encoding="latin-1")
    ex = read_code_export(f)
    assert ex.layout == "old" and ex.local_codes.lookup("1", "9") is None
    assert "cannot map local codes" in ex.report.notes[-1]


def test_sessions_without_a_roster_are_refused():
    with pytest.raises(InputFileError, match="PersonID, which is not a UPN.*--roster"):
        read_mis([SESSIONS])


def test_a_session_file_without_attendance_mark_is_refused(tmp_path):
    f = tmp_path / "s.xml"
    f.write_text("<SessionAttendances><SessionAttendance><PersonID>4107</PersonID>"
                 "<AttendanceDate>2025-01-13T09:00:00</AttendanceDate><SessionName>AM"
                 "</SessionName></SessionAttendance></SessionAttendances>")
    roster, _ = read_vendor_roster(ROSTER)
    with pytest.raises(InputFileError, match="no AttendanceMark.*not confirmed"):
        read_session_attendances(f, roster)


def test_xml_with_a_doctype_is_refused(tmp_path):
    f = tmp_path / "evil.xml"
    f.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><SessionAttendances>'
                 "<SessionAttendance><PersonID>&a;</PersonID></SessionAttendance>"
                 "</SessionAttendances>")
    roster, _ = read_vendor_roster(ROSTER)
    with pytest.raises(InputFileError, match="document type declarations"):
        read_session_attendances(f, roster)


def test_roster_rows_are_accounted(tmp_path):
    f = tmp_path / "roster.csv"
    f.write_text("vendor_id,upn,urn\n4107,B801200005001,100001\n4107,U801200005004,100001\n"
                 "4108,,100001\n4107,B801200005001,100001\n")
    roster, rep = read_vendor_roster(f)
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (4, 1, 3)
    assert [r.split(":")[0] for r in rep.quarantine["reason"]] == [
        "conflicting roster entry", "missing value", "duplicate roster entry"]
