"""Small writers for the round-trip tests: one synthetic register written in every MIS format.

A register is a list of marks ``(upn, urn, date, session, code)``. Each writer lays it out as
documented in ../shared/reference/mis_formats.md (sections 1-4) and returns the files to load;
the test loads each into its own store and checks the summaries are identical. The writers are
deliberately independent of the readers (no attendance_lib.io imports): the CTF totals use a
hand-written category table.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

Mark = tuple[str, str, date, str, str]

SESSIONS = [f"{d}{s}" for d in ("Mon", "Tue", "Wed", "Thu", "Fri") for s in ("AM", "PM")]
# statistical categories (domain.md section 1.1), written out here so the CTF totals do not
# come from the code under test
_PRESENT = {"/", "\\", "L"}
_AEA = {"B", "K", "P", "V", "W"}
_AUTH = {"C", "C1", "C2", "E", "I", "J1", "M", "R", "S", "T"}
_UNAUTH = {"G", "N", "O", "U"}


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def write_canonical(marks: list[Mark], path: Path) -> list[Path]:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["upn", "urn", "date", "session", "code"])
        for u, s, d, sess, c in marks:
            w.writerow([u, s, d.isoformat(), sess, c])
    return [path]


def _by_week(marks: list[Mark]) -> dict[tuple[str, str, date], list[str]]:
    weeks: dict[tuple[str, str, date], list[str]] = defaultdict(lambda: [""] * 10)
    for u, s, d, sess, c in marks:
        weeks[(u, s, _monday(d))][d.weekday() * 2 + (sess == "PM")] = c
    return dict(sorted(weeks.items()))


def write_grid(marks: list[Mark], path: Path) -> list[Path]:
    """Weekly grid, Bromcom style: blank cell = no mark."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["upn", "urn", "week_start", *SESSIONS])
        for (u, s, wk), cells in _by_week(marks).items():
            w.writerow([u, s, wk.isoformat(), *cells])
    return [path]


def write_weekly(marks: list[Mark], path: Path) -> list[Path]:
    """Weekly mark strings: ``-`` = no mark; two-character codes written whole."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["upn", "urn", "week_start", "marks"])
        for (u, s, wk), cells in _by_week(marks).items():
            w.writerow([u, s, wk.isoformat(), "".join(c or "-" for c in cells)])
    return [path]


def write_wonde(marks: list[Mark], folder: Path, urn: str, per_page: int = 7) -> list[Path]:
    """Attendance pages (``per_page`` records each, chained by meta.pagination), the students
    (Wonde ids, UPN in education_details), the attendance-code list and the school object.
    Every other record names its code by id (resolved through the code list)."""
    folder.mkdir(parents=True, exist_ok=True)
    upns = sorted({m[0] for m in marks})
    sid = {u: f"A{7770000 + i}" for i, u in enumerate(upns)}
    codes = sorted({m[4] for m in marks})
    cid = {c: f"AC{i:02d}" for i, c in enumerate(codes)}
    recs = []
    for i, (u, _s, d, sess, c) in enumerate(marks):
        rec = {"id": f"A{5550000 + i}", "student": {"data": {"id": sid[u]}},
               "date": {"date": f"{d.isoformat()} 00:00:00.000000", "timezone_type": 3,
                        "timezone": "Europe/London"},
               "session": sess, "minutes_late": None, "comment": None}
        rec["attendance_code"] = ({"data": {"id": cid[c], "code": c}} if i % 2 == 0
                                  else cid[c])
        recs.append(rec)
    base = "https://api.wonde.com/v1.0/schools/A1930499544/attendance/session?page="
    pages = [recs[i:i + per_page] for i in range(0, len(recs), per_page)]
    out = []
    for n, data in enumerate(pages, 1):
        last = n == len(pages)
        page = {"data": data, "meta": {"pagination": {
            "next": None if last else f"{base}{n + 1}", "previous": None if n == 1 else
            f"{base}{n - 1}", "more": not last, "per_page": per_page, "current_page": n}}}
        p = folder / f"attendance_{n:03d}.json"
        p.write_text(json.dumps(page), encoding="utf-8")
        out.append(p)
    students = {"data": [{"id": sid[u], "upi": f"{sum(map(ord, u)) * 7919:032x}", "mis_id": str(i),
                          "education_details": {"data": {"upn": u}}}
                         for i, u in enumerate(upns)],
                "meta": {"pagination": {"next": None, "more": False, "current_page": 1}}}
    code_list = {"data": [{"id": cid[c], "code": c} for c in codes],
                 "meta": {"pagination": {"next": None, "more": False, "current_page": 1}}}
    school = {"data": {"id": "A1930499544", "urn": int(urn), "la_code": "358",
                       "establishment_number": "2001"}}
    for name, doc in (("students", students), ("codes", code_list), ("school", school)):
        p = folder / f"{name}.json"
        p.write_text(json.dumps(doc), encoding="utf-8")
        out.append(p)
    return out


def write_sims(marks: list[Mark], folder: Path) -> tuple[list[Path], Path]:
    """Session attendances (ISO-8859-1, PersonIDs) and the roster CSV linking them to UPNs."""
    folder.mkdir(parents=True, exist_ok=True)
    upns = sorted({(m[0], m[1]) for m in marks})
    pid = {u: str(4100 + i) for i, (u, _s) in enumerate(upns)}
    lines = ['<?xml version="1.0" encoding="ISO-8859-1"?>', "<SessionAttendances>"]
    for u, _s, d, sess, c in marks:
        t = "09:00:00" if sess == "AM" else "13:15:00"
        lines.append(f"<SessionAttendance><PersonID>{pid[u]}</PersonID><BaseGroupID>0"
                     f"</BaseGroupID><AttendanceDate>{d.isoformat()}T{t}</AttendanceDate>"
                     f"<SessionName>{sess}</SessionName><AttendanceMark>{c}</AttendanceMark>"
                     f"</SessionAttendance>")
    lines.append("</SessionAttendances>")
    xml = folder / "sessions.xml"
    xml.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    roster = folder / "roster.csv"
    roster.write_text("vendor_id,upn,urn\n" + "".join(f"{pid[u]},{u},{s}\n" for u, s in upns),
                      encoding="utf-8")
    return [xml], roster


def write_ctf(marks: list[Mark], path: Path, *, lea: str, estab: str, urn: str) -> list[Path]:
    """One CTF: a YearData per pupil, the mark string walking every calendar date from the
    register's first date to its last (weekends ``##``, a missing session ``-``), with the
    session totals (attended = present + AEA)."""
    first, last = min(m[2] for m in marks), max(m[2] for m in marks)
    by_pupil: dict[str, dict[tuple[date, str], str]] = defaultdict(dict)
    for u, _s, d, sess, c in marks:
        by_pupil[u][(d, sess)] = c
    pupils = []
    for u, got in sorted(by_pupil.items()):
        chars, d = [], first
        while d <= last:
            if d.weekday() >= 5:
                chars.append("##")
            else:
                chars.append(got.get((d, "AM"), "-") + got.get((d, "PM"), "-"))
            d += timedelta(days=1)
        codes = list(got.values())
        present = sum(c in _PRESENT for c in codes)
        aea = sum(c in _AEA for c in codes)
        auth = sum(c in _AUTH for c in codes)
        unauth = sum(c in _UNAUTH for c in codes)
        pupils.append(
            f"<Pupil><UPN>{u}</UPN><Surname>Pupil</Surname><Forename>{u[-3:]}</Forename>"
            f"<Attendance><YearData><Year>{first.year - (first.month < 8)}</Year><LEA>{lea}</LEA>"
            f"<Estab>{estab}</Estab><SchoolName>Oak Lane Primary</SchoolName>"
            f"<SessionsPossible>{present + aea + auth + unauth}</SessionsPossible>"
            f"<SessionsAuthorised>{auth}</SessionsAuthorised>"
            f"<SessionsAttended>{present + aea}</SessionsAttended>"
            f"<SessionsUnauthorised>{unauth}</SessionsUnauthorised>"
            f"<AttendSessions><AttendanceStartDate>{first.isoformat()}</AttendanceStartDate>"
            f"<AttendanceMarks>{''.join(chars)}</AttendanceMarks></AttendSessions>"
            f"</YearData></Attendance></Pupil>")
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<CTfile><Header><DocumentName>Common '
           'Transfer File</DocumentName><CTFversion>19.0</CTFversion><SourceSchool>'
           f'<LEA>{lea}</LEA><Estab>{estab}</Estab><URN>{urn}</URN></SourceSchool>'
           '<DestSchool><LEA>358</LEA><Estab>4003</Estab></DestSchool></Header>\n'
           '<CTFpupilData>\n' + "\n".join(pupils) + "\n</CTFpupilData></CTfile>\n")
    path.write_text(xml, encoding="utf-8")
    return [path]
