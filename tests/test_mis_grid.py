"""Weekly grids (one column per session) and weekly mark strings with two-character codes
(tests/mis_inputs/README.md; mis_formats.md sections 0, 2 and 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from attendance_lib.io._common import InputFileError
from attendance_lib.io.formats import read_mis
from attendance_lib.io.grid import session_column, split_mark_string

MIS = Path(__file__).resolve().parent / "mis_inputs"
B001, U004, X006 = "B801200005001", "U801200005004", "X801200005006"


def tuples(df):
    return [(u, s, d.strftime("%Y-%m-%d"), se, c) for u, s, d, se, c in
            zip(df["upn"], df["urn"], df["date"], df["session"], df["code"], strict=True)]


def _week(upn, monday_day, cells):
    """Expected rows of one week from Monday ``2024-09-<monday_day>``; None = no mark."""
    out = []
    for j, code in enumerate(cells):
        if code is not None:
            out.append((upn, "100001", f"2024-09-{monday_day + j // 2:02d}",
                        "AM" if j % 2 == 0 else "PM", code))
    return out


def test_grid_with_uk_dates_gives_the_hand_worked_marks():
    # line 2: B001 week of 9 Sep: / \ J1 J1 / \, Thu blank blank, Fri - -
    # line 3: U004 week of 16 Sep: L N I I / \ / \ / \
    # line 4: week_start 17/09/2024 is a Tuesday: the week row is quarantined whole
    # line 5: X006 week of 16 Sep: H (withdrawn in 2024/25) then nine present marks
    res = read_mis([MIS / "grid_upn.csv"], mapping=MIS / "grid_mapping.yaml")
    expected = (_week(B001, 9, ["/", "\\", "J1", "J1", "/", "\\", None, None, None, None])
                + _week(U004, 16, ["L", "N", "I", "I", "/", "\\", "/", "\\", "/", "\\"])
                + _week(X006, 16, [None, "\\", "/", "\\", "/", "\\", "/", "\\", "/", "\\"]))
    assert tuples(res.marks) == sorted(expected)
    rep = res.reports[0]
    # sessions: 6 + 10 + 10 = 26 rows, plus the malformed week row = 27 read
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (27, 25, 2)
    assert dict(zip(rep.quarantine["line"], rep.quarantine["reason"], strict=True)) == {
        4: "invalid week_start: 17/09/2024 is not a Monday date",
        5: "withdrawn code: code 'H' was withdrawn on 19 Aug 2024; use 'C'"}
    assert "2 '-' (no mark), 2 blank cell (no mark)" in " ".join(rep.notes)
    assert rep.notes[0].startswith("format: weekly-grid (detected: CSV with one column per")


def test_bromcom_grid_by_student_id_through_a_roster():
    res = read_mis([MIS / "grid_bromcom.csv"], mapping=MIS / "bromcom_mapping.yaml",
                   roster=MIS / "bromcom_roster.csv")
    expected = (_week(B001, 9, ["/", "\\", "I", "I", "L", "\\", "/", "\\", "/", None])
                + _week(U004, 9, ["/", "\\", "/", "\\", "/", "\\", "/", "\\", "C1", "C1"]))
    assert tuples(res.marks) == sorted(expected)
    rep = next(r for r in res.reports if r.kind == "weekly grid")
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (20, 19, 1)
    assert rep.quarantine["reason"].tolist() == [
        "pupil not in roster: vendor id 9099 has no roster entry (vendor id -> UPN)"]
    assert res.roster["vendor_id"].tolist() == ["9012", "9013"]


def test_grid_by_vendor_id_needs_a_roster():
    with pytest.raises(InputFileError, match="vendor_id, which is not a UPN.*--roster"):
        read_mis([MIS / "grid_bromcom.csv"], mapping=MIS / "bromcom_mapping.yaml")


def test_weekly_strings_with_j1_tokenised_longest_match():
    res = read_mis([MIS / "weekly_j1.csv"])
    rep = res.reports[0]
    # line 2: /\J1J1/\/\/\ is 12 characters but 10 sessions (J1 is one code, twice)
    b001 = [t for t in tuples(res.marks) if t[0] == B001]
    assert b001 == _week(B001, 9, ["/", "\\", "J1", "J1", "/", "\\", "/", "\\", "/", "\\"])
    assert res.marks.loc[res.marks["code"] == "J1", "category"].tolist() == ["authorised"] * 2
    q = dict(zip(rep.quarantine["line"], rep.quarantine["reason"], strict=True))
    # line 3 (2023/24): J1 kept whole, so the message says when it was introduced (a split
    # into J and 1 would have loaded an approved educational activity)
    assert q[3].startswith("unknown code: code 'J1' is not in the 2006 code set used for "
                           "2023/24; it was introduced on 19 Aug 2024")
    # line 4: 14 characters, 12 sessions
    assert q[4] == ("invalid mark string: '/\\J1J1/\\/\\/\\/\\' decodes to 12 sessions (a "
                    "two-character code counts as one), not 10")
    # 10 + 10 sessions + 1 malformed row = 21 read
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (21, 19, 2)


def test_split_mark_string_never_uses_the_first_character():
    assert split_mark_string("J1C1C2Y1Y7") == ["J1", "C1", "C2", "Y1", "Y7"]
    assert split_mark_string("/-\\ L") == ["/", "", "\\", "", "L"]
    assert split_mark_string("Y") == ["Y"]


@pytest.mark.parametrize(("heading", "cell"), [
    ("MonAM", "MonAM"), ("Mon AM", "MonAM"), ("fri_pm", "FriPM"), ("Wednesday PM", "WedPM"),
    ("Week", None), ("Monday", None)])
def test_session_headings(heading, cell):
    assert session_column(heading) == cell
