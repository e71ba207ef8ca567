"""Wonde JSON pages (tests/mis_inputs/README.md; mis_formats.md section 1).

The fixture is two chained attendance pages, the students (UPN in education_details), the
attendance-code list and the school object. Expected canonical marks are worked out by hand from
the pages: record n of a page file is reported at "line" n.
"""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from attendance_lib.io._common import InputFileError
from attendance_lib.io.formats import read_mis
from attendance_lib.io.wonde import WondeApiError, fetch_pages, read_wonde, wonde_date
from attendance_lib.store import Store

MIS = Path(__file__).resolve().parent / "mis_inputs"
B001, U004 = "B801200005001", "U801200005004"
PAGES = [MIS / "wonde_attendance_p1.json", MIS / "wonde_attendance_p2.json"]
SUPPORT = [MIS / "wonde_students.json", MIS / "wonde_school.json", MIS / "wonde_codes.json"]


def tuples(df):
    return [(u, s, d.strftime("%Y-%m-%d"), se, c) for u, s, d, se, c in
            zip(df["upn"], df["urn"], df["date"], df["session"], df["code"], strict=True)]


def by_file(reports):
    return {Path(r.file).name: r for r in reports}


def test_wonde_pages_give_the_hand_worked_marks():
    res = read_mis(PAGES + SUPPORT)
    assert tuples(res.marks) == [
        # page 1, records 1-4 (record 5: student A7770003 has no UPN)
        (B001, "100001", "2025-01-13", "AM", "/"), (B001, "100001", "2025-01-13", "PM", "\\"),
        (U004, "100001", "2025-01-13", "AM", "L"), (U004, "100001", "2025-01-13", "PM", "J1"),
        # page 2, record 1: code given by id AC02 -> I through the code list
        (B001, "100001", "2025-01-14", "AM", "I"),
    ]
    # J1 is authorised from our code table, whatever the vendor flags (is_present: true) say
    assert res.marks.loc[res.marks["code"] == "J1", "category"].tolist() == ["authorised"]
    reps = by_file(res.reports)
    p1, p2 = reps["wonde_attendance_p1.json"], reps["wonde_attendance_p2.json"]
    assert (p1.rows_read, p1.rows_loaded, p1.rows_quarantined) == (5, 4, 1)
    assert p1.quarantine["line"].tolist() == [5]
    assert p1.quarantine["reason"].iloc[0].startswith(
        "no UPN for Wonde student A7770003: not in the students pages "
        "(education_details.data.upn; 'upi' is not a UPN)")
    assert (p2.rows_read, p2.rows_loaded, p2.rows_quarantined) == (4, 1, 3)
    assert dict(zip(p2.quarantine["line"], p2.quarantine["reason"], strict=True)) == {
        2: "unmapped local code: '9' at school 100001 is not a statutory attendance code; give "
           "the school's code export (SIMS Statutory_Return_Code) or a local_codes YAML "
           "(--local-codes)",
        3: "mark on a weekend: 2025-01-18 is a Saturday",
        4: "duplicate mark: same pupil, session and code as line 1",
    }
    assert all(r.balanced for r in res.reports)
    assert p1.notes[0] == "format: wonde (detected: JSON: Wonde API pages)"
    assert any("pages 1-2 all present" in n for n in p1.notes)
    # the roster: Wonde id -> UPN and URN (A7770003 has no UPN, so is not in it)
    assert res.roster.values.tolist() == [["A7770001", B001, "100001"],
                                          ["A7770002", U004, "100001"]]


def test_wonde_local_code_mapped_through_yaml():
    res = read_mis(PAGES + SUPPORT, local_codes=MIS / "local_codes.yaml")
    p2 = by_file(res.reports)["wonde_attendance_p2.json"]
    assert (p2.rows_read, p2.rows_loaded, p2.rows_quarantined) == (4, 2, 2)
    assert (U004, "100001", "2025-01-14", "AM", "Y6") in tuples(res.marks)
    assert any("'9' -> 'Y6' (1)" in n for n in p2.notes)


def test_a_missing_page_refuses_the_set():
    with pytest.raises(InputFileError, match=r"wonde_attendance_p1\.json: the Wonde attendance "
                                             r"pages do not include a last page"):
        read_wonde([PAGES[0]] + SUPPORT)


def test_a_missing_middle_page_is_named(tmp_path):
    body = json.loads(PAGES[1].read_text())
    body["meta"]["pagination"].update(current_page=3)
    p3 = tmp_path / "p3.json"
    p3.write_text(json.dumps(body))
    with pytest.raises(InputFileError, match="Wonde attendance page 2 is missing"):
        read_wonde([PAGES[0], p3] + SUPPORT)


def test_no_school_urn_is_a_file_error():
    with pytest.raises(InputFileError, match="no school URN: include the school object"):
        read_wonde(PAGES + [MIS / "wonde_students.json", MIS / "wonde_codes.json"])


def test_pages_in_one_json_lines_file(tmp_path):
    lines = [json.dumps(json.loads(p.read_text())) for p in PAGES]
    f = tmp_path / "pages.jsonl"
    f.write_text("\n".join(lines) + "\n")
    res = read_mis([f] + SUPPORT, fmt="wonde")
    rep = by_file(res.reports)["pages.jsonl"]
    # records are numbered through the file: page 2's records are 6-9
    assert (rep.rows_read, rep.rows_loaded) == (9, 5)
    assert rep.quarantine["line"].tolist() == [5, 7, 8, 9]


@pytest.mark.parametrize(("value", "expected"), [
    ({"date": "2025-01-13 00:00:00.000000", "timezone_type": 3, "timezone": "Europe/London"},
     date(2025, 1, 13)),
    ("2025-01-13", date(2025, 1, 13)),
    # 23:30 UTC on 12 June is 00:30 BST on 13 June: the school's date
    ({"date": "2025-06-12 23:30:00.000000", "timezone_type": 3, "timezone": "UTC"},
     date(2025, 6, 13)),
    ({"date": "2025-06-12 23:30:00.000000", "timezone_type": 1, "timezone": "+00:00"},
     date(2025, 6, 13)),
])
def test_wonde_date_object(value, expected):
    assert wonde_date(value) == (expected, None)


def test_wonde_bad_dates_are_reasons():
    assert wonde_date({"date": "13/01/2025"})[1].startswith("invalid date: '13/01/2025'")
    assert "unknown timezone" in wonde_date({"date": "2025-01-13 09:00:00", "timezone": "Mars"})[1]


class _Resp(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_fetch_pages_follows_next_with_a_bearer_token(tmp_path):
    bodies = {u: p.read_bytes() for u, p in zip(
        ["https://api.wonde.com/v1.0/schools/A1/attendance/session",
         "https://api.wonde.com/v1.0/schools/A1930499544/attendance/session?include=student,"
         "attendance_code&per_page=5&page=2"], PAGES, strict=True)}
    seen = []

    def opener(req):
        seen.append((req.full_url, req.get_header("Authorization")))
        return _Resp(bodies[req.full_url])

    saved = fetch_pages("https://api.wonde.com/v1.0/schools/A1/attendance/session", "tok",
                        tmp_path, opener=opener)
    assert [p.name for p in saved] == ["page-00001.json", "page-00002.json"]
    assert [a for _, a in seen] == ["Bearer tok", "Bearer tok"]
    assert saved[1].read_bytes() == PAGES[1].read_bytes()
    # the saved pages convert as the originals: 4 rows (record 5 has no UPN) and 3 rows (the
    # unmapped '9' is quarantined at conversion)
    conv = read_wonde(saved + SUPPORT)
    assert [len(c.table) for c in conv if c.has_marks] == [4, 3]


def test_fetch_pages_reports_an_api_refusal(tmp_path):
    import urllib.error

    def opener(req):
        raise urllib.error.HTTPError(req.full_url, 403, "Forbidden", {},
                                     io.BytesIO(b'{"error":"invalid_permissions"}'))

    with pytest.raises(WondeApiError, match="HTTP 403.*invalid_permissions"):
        fetch_pages("https://api.wonde.com/v1.0/schools/A1/students", "t", tmp_path,
                    opener=opener)


def test_store_ingest_wonde(tmp_path):
    res = Store(tmp_path / "store").ingest(PAGES + SUPPORT, fmt="auto")
    reps = by_file(res.reports)
    assert reps["wonde_attendance_p1.json"].rows_loaded == 4
    assert reps["wonde_attendance_p2.json"].rows_loaded == 1
    assert reps["wonde_students.json"].kind == "wonde students"
    assert len(Store(tmp_path / "store").marks()) == 5
    assert res.balanced
