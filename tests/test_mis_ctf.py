"""CTF attendance mark strings (tests/mis_inputs/README.md; mis_formats.md section 3).

``ctf_oak_lane.xml`` (source school LEA 358 Estab 2001, URN 100001; every string starts Monday
2 Sep 2024, two characters per calendar date, AM then PM):

* B...001 (YearData line 28): ``/\\ II /\\ L\\ /N ## ## -\\ /#`` -> 13 marks: Mon / \\, Tue I I,
  Wed / \\, Thu L \\, Fri / N, Sat-Sun padding (4 sessions), Mon 9th no AM mark and \\ PM,
  Tue 10th / and a planned-closure # PM. Present 9, authorised 2, unauthorised 1, possible 12;
  the file's SessionsAttended 8 counts only / and \\ (not L), as Follett Aspen writes it;
* U...004 (line 51): ten present marks but totals say 9 attended and 1 authorised: the block is
  quarantined whole (a session-total mismatch, one row);
* E...003 (line 74): ``J1`` in the string: undocumented encoding, quarantined whole;
* Q...002 (line 97): a block from LEA 358 Estab 2002, which has no URN in the file: quarantined
  unless a schools file gives its laestab (then 4 marks at URN 100002);
* H...005: a YearData with totals but no mark string: nothing to load, noted.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from attendance_lib.io._common import InputFileError
from attendance_lib.io.ctf import CtfBlockError, decode_mark_string
from attendance_lib.io.formats import read_mis

MIS = Path(__file__).resolve().parent / "mis_inputs"
CTF = MIS / "ctf_oak_lane.xml"
B001, Q002 = "B801200005001", "Q801200005002"


def tuples(df):
    return [(u, s, d.strftime("%Y-%m-%d"), se, c) for u, s, d, se, c in
            zip(df["upn"], df["urn"], df["date"], df["session"], df["code"], strict=True)]


def _b001():
    return [(B001, "100001", d, s, c) for d, s, c in [
        ("2024-09-02", "AM", "/"), ("2024-09-02", "PM", "\\"), ("2024-09-03", "AM", "I"),
        ("2024-09-03", "PM", "I"), ("2024-09-04", "AM", "/"), ("2024-09-04", "PM", "\\"),
        ("2024-09-05", "AM", "L"), ("2024-09-05", "PM", "\\"), ("2024-09-06", "AM", "/"),
        ("2024-09-06", "PM", "N"), ("2024-09-09", "PM", "\\"), ("2024-09-10", "AM", "/"),
        ("2024-09-10", "PM", "#")]]


def test_ctf_gives_the_hand_worked_marks_and_quarantines_whole_blocks():
    res = read_mis([CTF])
    assert tuples(res.marks) == _b001()
    rep = res.reports[0]
    # 13 sessions + 3 blocks quarantined whole
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (16, 13, 3)
    q = dict(zip(rep.quarantine["line"], rep.quarantine["reason"], strict=True))
    assert q[51] == ("session totals mismatch: the mark string decodes to possible 10, attended "
                     "10 (/ and \\ only: 10), authorised 0, unauthorised 0; the file says "
                     "SessionsPossible 10, SessionsAttended 9, SessionsAuthorised 1, "
                     "SessionsUnauthorised 0")
    assert q[74].startswith("two-character code 'J1' on 2024-09-03 in the mark string: how "
                            "CTF encodes the 2024 two-character codes is not documented")
    assert q[97].startswith("no URN for school LEA 358 Estab 2002")
    notes = " ".join(rep.notes)
    assert "= / and \\ only (as Follett Aspen writes it) in 1" in notes
    assert "4 '##' on a weekend" in notes and "1 '-' or space (CTF: no mark)" in notes
    assert "1 YearData block(s) have totals but no mark string" in notes
    assert res.marks.loc[res.marks["code"] == "#", "category"].tolist() == ["not_possible"]


def test_a_schools_file_gives_other_schools_their_urn():
    schools = pd.DataFrame({"urn": ["100002"], "laestab": ["358/2002"], "phase": ["primary"]})
    res = read_mis([CTF], schools=schools)
    rep = res.reports[0]
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (19, 17, 2)
    assert tuples(res.marks)[-4:] == [
        (Q002, "100002", "2024-09-02", "AM", "/"), (Q002, "100002", "2024-09-02", "PM", "\\"),
        (Q002, "100002", "2024-09-03", "AM", "/"), (Q002, "100002", "2024-09-03", "PM", "\\")]
    assert set(res.roster["urn"]) == {"100001", "100002"}


def test_decode_walks_calendar_dates():
    got, skipped = decode_mark_string("/\\####I ", date(2024, 9, 6))
    assert got == [(date(2024, 9, 6), "AM", "/"), (date(2024, 9, 6), "PM", "\\"),
                   (date(2024, 9, 9), "AM", "I")]
    assert sum(skipped.values()) == 5


@pytest.mark.parametrize(("marks", "message"), [
    ("/\\/", "3 characters is not two per calendar date"),
    ("/\\C2", "two-character code 'C2' on 2024-09-03"),
])
def test_decode_refuses_what_is_not_documented(marks, message):
    with pytest.raises(CtfBlockError, match=message):
        decode_mark_string(marks, date(2024, 9, 2))


def test_a_school_census_return_is_refused(tmp_path):
    f = tmp_path / "census.xml"
    f.write_text('<?xml version="1.0"?><Message><Header><CollectionDetails><Collection>'
                 "SCHOOL CENSUS</Collection></CollectionDetails></Header></Message>")
    with pytest.raises(InputFileError, match="school census return: it holds termly attendance"):
        read_mis([f])
