"""The loaders against the bad-inputs corpus (tests/bad_inputs/README.md).

Issue acceptance: "A corpus of bad inputs under tests/ (each problem above, plus a file with 1,000
good rows and 10 bad ones) shows the right message and exact row accounting; nothing is silently
dropped." Three layers are checked: the readers (``attendance_lib.io.*``), ``Store.ingest`` (here)
and the command line (``test_ingest_cli.py``).

Line numbers are 1-based file lines; the header is line 1.
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attendance_lib.io.marks as marks_mod
from attendance_lib import metrics
from attendance_lib.io._common import (
    QUARANTINE_COLUMNS,
    InputFileError,
    check_input_file,
    file_text_encoding,
)
from attendance_lib.io.marks import read_marks, read_weekly_marks
from attendance_lib.io.roster import read_interventions, read_pupils, read_schools
from attendance_lib.store import Store
from attendance_lib.upn import check_letter

BAD = Path(__file__).resolve().parent / "bad_inputs"
B001, Q002, E003, U004, H005, X006 = ("B801200005001", "Q801200005002", "E801200005003",
                                      "U801200005004", "H801200005005", "X801200005006")
MARK_HEADER = "upn,urn,date,session,code\n"


# -- helpers ---------------------------------------------------------------------------------
def qmap(rep) -> dict[int, str]:
    """Quarantined line -> reason (lines must be unique in the files that use this)."""
    lines = rep.quarantine["line"].tolist()
    assert len(lines) == len(set(lines)), lines
    return dict(zip((int(x) for x in lines), rep.quarantine["reason"], strict=True))


def prefixes(rep) -> dict[int, str]:
    return {line: reason.split(":")[0] for line, reason in qmap(rep).items()}


def assert_balanced(rep, read: int, loaded: int, quarantined: int) -> None:
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (read, loaded, quarantined)
    assert rep.balanced
    assert list(rep.quarantine.columns) == QUARANTINE_COLUMNS


def write_marks(path: Path, rows) -> Path:
    path.write_text(MARK_HEADER + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def mark_tuples(df: pd.DataFrame) -> list[tuple]:
    """Loaded marks as sorted (upn, urn, date, session, code) tuples."""
    return sorted(zip(df["upn"], df["urn"], df["date"].dt.strftime("%Y-%m-%d"), df["session"],
                      df["code"], strict=True))


def snapshot(root: Path) -> dict[str, str]:
    """Every file under a store folder with a hash of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def pupils() -> pd.DataFrame:
    df, rep = read_pupils(BAD / "pupils.csv")
    assert_balanced(rep, 4, 4, 0)
    return df


# -- every row-level problem in one file -------------------------------------------------------
PROBLEMS_EXPECTED = {
    4: "withdrawn code", 5: "unknown code", 6: "invalid date", 7: "invalid date",
    8: "invalid date", 9: "mark on a weekend", 10: "conflicting codes for one pupil-session",
    11: "conflicting codes for one pupil-session", 13: "duplicate mark", 14: "failed UPN check",
    15: "mark outside enrolment", 16: "mark outside enrolment", 17: "pupil not on roll",
    18: "invalid session", 19: "missing value", 20: "missing value",
}


def test_marks_problems_each_reason_and_line(pupils):
    df, rep = read_marks(BAD / "marks_problems.csv", pupils=pupils)
    assert_balanced(rep, 22, 6, 16)
    assert prefixes(rep) == PROBLEMS_EXPECTED
    q = qmap(rep)
    assert "'H' was withdrawn" in q[4] and "use 'C'" in q[4]
    assert "'Q7'" in q[5] and "2024/25" in q[5]
    assert "'2024-02-30'" in q[6] and "'31/13/2024'" in q[7] and "'yesterday'" in q[8]
    assert q[9] == "mark on a weekend: 2024-09-07 is a Saturday"
    # every row of a conflict goes, and the message names both codes and both lines
    for line in (10, 11):
        assert "'/' (line 10)" in q[line] and "'I' (line 11)" in q[line]
    assert q[13] == "duplicate mark: same pupil, session and code as line 12"
    assert "expected B, found A" in q[14]
    assert q[15] == "mark outside enrolment: 2024-09-05 is before the admission date 2024-09-09"
    assert q[16] == "mark outside enrolment: 2024-09-05 is after the leaving date 2024-09-04"
    assert H005 in q[17] and "100001" in q[17]
    assert "'XM'" in q[18]
    assert q[19] == "missing value: code is empty"
    assert q[20] == "missing value: urn is empty"
    # the raw text of each quarantined row is kept
    raw = dict(zip(rep.quarantine["line"], rep.quarantine["raw"], strict=True))
    assert raw[5] == f"{B001},100001,2024-09-03,PM,Q7"
    assert raw[20] == f"{U004},,2024-09-05,AM,/"
    # what loads: lines 2, 3, 12 (first of the repeat), 21, 22 (the leaving day), 23
    assert mark_tuples(df) == [
        (B001, "100001", "2024-09-02", "AM", "/"), (B001, "100001", "2024-09-02", "PM", "\\"),
        (B001, "100001", "2024-09-04", "PM", "\\"), (E003, "100001", "2024-09-04", "AM", "/"),
        (Q002, "100001", "2024-09-09", "AM", "/"), (U004, "100001", "2024-09-05", "PM", "\\")]
    assert set(df["category"]) == {"present"} and set(df["academic_year"]) == {2024}


def test_marks_problems_without_pupils_skips_enrolment_checks():
    _, rep = read_marks(BAD / "marks_problems.csv")
    assert_balanced(rep, 22, 9, 13)
    assert not {15, 16, 17} & set(qmap(rep))


def test_empty_pupils_frame_puts_every_mark_off_roll(pupils):
    _, rep = read_marks(BAD / "marks_clean.csv", pupils=pupils.iloc[0:0])
    assert_balanced(rep, 6, 0, 6)
    assert set(prefixes(rep).values()) == {"pupil not on roll"}


def test_codes_checked_against_their_academic_year():
    df, rep = read_marks(BAD / "marks_codes_by_year.csv")
    assert_balanced(rep, 8, 4, 4)
    q = qmap(rep)
    for line, code in ((2, "C2"), (3, "K"), (4, "J1")):
        assert q[line].startswith(f"unknown code: code '{code}' is not in the 2006 code set")
        assert "2023/24" in q[line]
    assert q[8].startswith("unknown code: code 'Y' is not in the 2024 code set")
    got = {(d.strftime("%Y-%m-%d"), s): (c, cat) for d, s, c, cat in
           zip(df["date"], df["session"], df["code"], df["category"], strict=True)}
    assert got == {("2023-09-05", "PM"): ("H", "authorised"), ("2023-09-06", "AM"): ("J", "aea"),
                   ("2023-09-06", "PM"): ("Y", "not_possible"),
                   ("2024-09-02", "PM"): ("Y7", "not_possible")}


@pytest.mark.parametrize(("start_month", "academic_year", "loads"), [(8, 2024, False),
                                                                     (9, 2023, True)])
def test_august_mark_follows_the_year_start(tmp_path, start_month, academic_year, loads):
    # Monday 5 Aug 2024: 2024/25 with DfE's 1 Aug start (H withdrawn), 2023/24 with 1 Sep
    f = write_marks(tmp_path / "aug.csv", [(B001, "100001", "2024-08-05", "AM", "H")])
    df, rep = read_marks(f, start_month=start_month)
    assert rep.rows_loaded == int(loads)
    if loads:
        assert df["academic_year"].tolist() == [academic_year]
    else:
        assert qmap(rep)[2].startswith("withdrawn code")


@pytest.mark.parametrize(("value_row", "reason"), [
    ((B001, "100001", "2024-09-02", "AM", " "), "missing value: code is empty"),
    ((" ", "100001", "2024-09-02", "AM", "/"), "missing value: upn is empty"),
    ((B001, "100001", "1899-09-04", "AM", "/"), "invalid date: 1899-09-04 is outside"),
    ((B001, "100001", "02/09/24", "AM", "/"), "invalid date: '02/09/24'"),
    ((B001, "1000", "2024-09-02", "AM", "/"), "invalid URN: '1000'"),
    (("b801200005001", "100001", "2024-09-02", "am", "/"), None),  # case is normalised
    ((B001, "100001", "2/9/2024", "PM", "\\"), None),  # UK date without leading zeros
])
def test_single_value_edge_cases(tmp_path, value_row, reason):
    # day_first: a one-row file's 2/9/2024 is ambiguous throughout (issue 8) and is otherwise
    # refused; tests/test_mis_encodings_dates.py covers the refusal
    df, rep = read_marks(write_marks(tmp_path / "one.csv", [value_row]), day_first=True)
    if reason is None:
        assert_balanced(rep, 1, 1, 0)
        assert df["upn"].tolist() == [B001] and df["date"].dt.day.tolist() == [2]
    else:
        assert_balanced(rep, 1, 0, 1)
        assert qmap(rep)[2].startswith(reason)


def test_dates_before_1970_do_not_collide(tmp_path):
    # two pupils' marks on one day; a pre-1970 date used to overflow the session key
    f = write_marks(tmp_path / "old.csv", [(B001, "100001", "1969-12-31", "AM", "/"),
                                           (U004, "100001", "1969-12-31", "AM", "/")])
    _, rep = read_marks(f)
    assert_balanced(rep, 2, 0, 2)
    assert set(prefixes(rep).values()) == {"invalid date"}


# -- MIS exports: mapping, UK dates, Parquet ---------------------------------------------------
def test_mis_export_loads_through_a_mapping():
    df, rep = read_marks(BAD / "marks_mis_headings.csv", mapping=BAD / "mapping_mis.yaml")
    assert_balanced(rep, 7, 6, 1)
    assert qmap(rep) == {8: "mark on a weekend: 2024-09-07 is a Saturday"}
    assert mark_tuples(df) == [
        (B001, "100001", "2024-09-02", "AM", "/"), (B001, "100001", "2024-09-02", "PM", "\\"),
        (B001, "100001", "2024-09-03", "AM", "I"), (B001, "100001", "2024-09-03", "PM", "I"),
        (U004, "100001", "2024-09-04", "AM", "L"), (U004, "100001", "2024-09-04", "PM", "N")]


def test_mis_export_without_mapping_names_the_missing_columns():
    with pytest.raises(InputFileError) as exc:
        read_marks(BAD / "marks_mis_headings.csv")
    msg = str(exc.value)
    assert msg.startswith(str(BAD / "marks_mis_headings.csv") + ": missing required column(s)")
    assert "upn, urn, date, session, code" in msg and "--mapping" in msg


def test_parquet_register_rows_numbered_from_one():
    df, rep = read_marks(BAD / "marks_typed.parquet")
    assert_balanced(rep, 3, 2, 1)
    assert qmap(rep) == {3: "mark on a weekend: 2024-09-07 is a Saturday"}
    assert df["urn"].tolist() == ["100001", "100001"]  # an integer URN column is read as text


# -- weekly mark strings -----------------------------------------------------------------------
def test_weekly_strings_expand_to_the_right_sessions():
    df, rep = read_weekly_marks(BAD / "weekly_marks.csv")
    # sessions: 10 (line 2) + 8 (line 3) + 10 (line 6) + 9 (line 7) + 10 (line 8) = 47, plus the
    # two malformed week rows (lines 4, 5) quarantined whole = 49 read
    assert_balanced(rep, 49, 35, 14)
    q = rep.quarantine
    assert q.loc[q["line"] == 4, "reason"].tolist() == [
        "invalid mark string: '/\\/\\/\\/\\/' has 9 characters, not 10"]
    assert q.loc[q["line"] == 5, "reason"].tolist() == [
        "invalid week_start: 2024-09-10 is not a Monday date"]
    assert q.loc[q["line"] == 6, "reason"].str.startswith("withdrawn code").sum() == 2
    assert (q.loc[q["line"] == 8, "reason"].str.match(
        r"duplicate mark: same pupil, session and code as line 2$")).sum() == 10
    assert len(q) == 14
    assert any("3 blank session(s)" in n for n in rep.notes)
    mon, tue, wed, thu, fri = ("2024-09-02", "2024-09-03", "2024-09-04", "2024-09-05",
                               "2024-09-06")
    got = [t[:1] + t[2:] for t in mark_tuples(df)]
    expected = [
        # line 2: /\/\LL/\N\ (Monday AM first)
        (B001, mon, "AM", "/"), (B001, mon, "PM", "\\"), (B001, tue, "AM", "/"),
        (B001, tue, "PM", "\\"), (B001, wed, "AM", "L"), (B001, wed, "PM", "L"),
        (B001, thu, "AM", "/"), (B001, thu, "PM", "\\"), (B001, fri, "AM", "N"),
        (B001, fri, "PM", "\\"),
        # line 3: /\--II/\/U (Tuesday blank)
        (U004, mon, "AM", "/"), (U004, mon, "PM", "\\"), (U004, wed, "AM", "I"),
        (U004, wed, "PM", "I"), (U004, thu, "AM", "/"), (U004, thu, "PM", "\\"),
        (U004, fri, "AM", "/"), (U004, fri, "PM", "U"),
        # line 6: HHGG/\/\/\ from Monday 9 Sep (the two H marks are quarantined)
        (U004, "2024-09-10", "AM", "G"), (U004, "2024-09-10", "PM", "G"),
        (U004, "2024-09-11", "AM", "/"), (U004, "2024-09-11", "PM", "\\"),
        (U004, "2024-09-12", "AM", "/"), (U004, "2024-09-12", "PM", "\\"),
        (U004, "2024-09-13", "AM", "/"), (U004, "2024-09-13", "PM", "\\"),
        # line 7: " \/\/\/\/\" (a space: no Monday AM mark)
        (X006, mon, "PM", "\\"), (X006, tue, "AM", "/"), (X006, tue, "PM", "\\"),
        (X006, wed, "AM", "/"), (X006, wed, "PM", "\\"), (X006, thu, "AM", "/"),
        (X006, thu, "PM", "\\"), (X006, fri, "AM", "/"), (X006, fri, "PM", "\\"),
    ]
    assert got == sorted(expected)


def test_weekly_rows_checked_against_the_roll(pupils):
    _, rep = read_weekly_marks(BAD / "weekly_marks.csv", pupils=pupils)
    assert rep.balanced and rep.rows_read == 49
    q = rep.quarantine
    assert q.loc[q["line"] == 7, "reason"].str.startswith("pupil not on roll").sum() == 9


def test_weekly_missing_columns_is_a_file_error():
    with pytest.raises(InputFileError, match=r"weekly_missing_column\.csv: missing required "
                                             r"column\(s\) week_start"):
        read_weekly_marks(BAD / "weekly_missing_column.csv")


# -- blank lines and line numbers --------------------------------------------------------------
def test_blank_lines_are_skipped_without_moving_line_numbers():
    df, rep = read_marks(BAD / "marks_blank_lines.csv")
    assert_balanced(rep, 4, 3, 1)
    assert prefixes(rep) == {6: "mark on a weekend"}
    assert any("2 blank line(s) skipped (line 3, 5)" in n for n in rep.notes)


def test_roster_line_numbers_count_blank_lines_and_quoted_line_breaks():
    df, rep = read_pupils(BAD / "pupils_blank_lines.csv")
    assert_balanced(rep, 3, 2, 1)
    assert prefixes(rep) == {6: "failed UPN check"}
    assert df.loc[df["upn"] == Q002, "notes"].tolist() == ["a note\nover two lines"]
    assert any("2 blank line(s) skipped (line 3, 7)" in n for n in rep.notes)


def test_header_only_loads_nothing_and_says_so():
    df, rep = read_marks(BAD / "marks_header_only.csv")
    assert_balanced(rep, 0, 0, 0)
    assert df.empty and any("no data rows" in n for n in rep.notes)


# -- roster files ------------------------------------------------------------------------------
def test_pupils_bad_rows():
    df, rep = read_pupils(BAD / "pupils_bad.csv")
    assert_balanced(rep, 10, 2, 8)
    assert prefixes(rep) == {3: "failed UPN check", 4: "invalid yes/no",
                             5: "invalid sen_provision", 6: "invalid enrolment",
                             7: "duplicate enrolment", 8: "invalid URN", 9: "invalid date",
                             11: "missing value"}
    q = qmap(rep)
    assert "fsm_eligible maybe" in q[4]
    assert q[6] == "invalid enrolment: leaving_date is before admission_date"
    assert q[7] == "duplicate enrolment: same upn and urn as line 2"
    assert q[11] == "missing value: upn is empty"
    # the raw column is the row as written, not as parsed
    raw = dict(zip(rep.quarantine["line"], rep.quarantine["raw"], strict=True))
    assert raw[4] == f"{Q002},100001,5,2015-05-01,M,maybe,N,N,2020-09-01,,bad yes/no"
    # good rows are parsed: yes/no as booleans, UK dates, "Y3" as year 3, unknown columns kept
    row = df.set_index("urn").loc["100002"]
    assert row["fsm_eligible"] == True and row["eal"] == False  # noqa: E712 (pandas booleans)
    assert row["admission_date"] == pd.Timestamp("2022-09-01")
    assert row["year_group"] == "3" and row["notes"] == "second school ok"


def test_duplicate_of_a_quarantined_row_is_not_a_duplicate(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text(f"upn,urn,date_of_birth\n{B001},100001,2015-02-30\n{B001},100001,2015-02-28\n")
    df, rep = read_pupils(f)
    assert_balanced(rep, 2, 1, 1)
    assert prefixes(rep) == {2: "invalid date"}


def test_schools_bad_rows():
    df, rep = read_schools(BAD / "schools_bad.csv")
    assert_balanced(rep, 7, 3, 4)
    assert prefixes(rep) == {4: "invalid phase", 5: "duplicate school", 6: "invalid URN",
                             7: "missing value"}
    assert qmap(rep)[5] == "duplicate school: same urn as line 2"
    assert sorted(df["phase"]) == ["all-through", "primary", "secondary"]


def test_interventions_bad_rows():
    df, rep = read_interventions(BAD / "interventions_bad.csv")
    assert_balanced(rep, 7, 2, 5)
    assert prefixes(rep) == {3: "invalid dates", 4: "failed UPN check", 5: "missing value",
                             6: "missing value", 7: "invalid date"}
    assert qmap(rep)[3] == "invalid dates: end_date before start_date"
    assert sorted(df["type"]) == ["attendance_contract", "mentoring"]


# -- whole-file problems -----------------------------------------------------------------------
WHOLE_FILE = [
    ("marks", "marks_missing_column.csv", None, "missing required column(s) code"),
    ("marks", "marks_empty.csv", None, "file is empty"),
    ("marks", "marks_binary.csv", None, "is binary data, not text"),
    ("marks", "marks_workbook.csv", None, "an Excel .xlsx workbook"),
    ("marks", "marks_wrong_columns.parquet", None,
     "missing required column(s) date, session, code"),
    ("marks", "marks_ragged.csv", None, "is not a readable marks CSV"),
    ("marks", "no_such_file.csv", None, "file not found"),
    ("marks", "marks_mis_headings.csv", "mapping_unknown_field.yaml",
     "the column mapping names unknown field(s) pupil_name"),
    ("marks", "marks_clean.csv", "mapping_unknown_section.yaml", "unknown section(s) mark"),
    ("pupils", "pupils_missing_column.csv", None, "missing required column(s) urn"),
    ("pupils", "marks_binary.csv", None, "is binary data, not text"),
    ("weekly", "weekly_missing_column.csv", None, "missing required column(s) week_start"),
    ("weekly", "marks_workbook.csv", None, "an Excel .xlsx workbook"),
]


def _read(kind: str, path: Path, mapping: Path | None):
    reader = {"marks": read_marks, "weekly": read_weekly_marks}.get(kind)
    if reader is not None:
        return reader(path, mapping=mapping)
    return read_pupils(path, mapping)


@pytest.mark.parametrize(("kind", "name", "mapping", "message"), WHOLE_FILE)
def test_whole_file_problem_one_message(kind, name, mapping, message):
    bad = mapping if mapping and "unknown_section" in mapping else name
    with pytest.raises(InputFileError) as exc:
        _read(kind, BAD / name, BAD / mapping if mapping else None)
    text = str(exc.value)
    assert text.startswith(f"{BAD / bad}: ")
    assert message in text
    assert "\n" not in text


def test_workbook_fixture_is_a_real_workbook():
    openpyxl = pytest.importorskip("openpyxl")
    with open(BAD / "marks_workbook.csv", "rb") as fh:  # openpyxl goes by the name otherwise
        ws = openpyxl.load_workbook(fh).active
    assert [c.value for c in ws[1]] == ["upn", "urn", "date", "session", "code"]


def test_utf8_check_only_forgives_a_character_cut_at_64k(tmp_path):
    # a file longer than the 64 KiB sniffed: a multi-byte character cut at the boundary is fine
    body = "upn,urn,date,session,code,name\n" + "x" * ((1 << 16) - 33) + "\n"
    f = tmp_path / "long.csv"
    f.write_bytes(body.encode()[: (1 << 16) - 1] + "é".encode() + b"\n")
    assert check_input_file(f, "x") == "csv"
    # a short file ending in a stray cp1252 byte is not UTF-8: it is cp1252 text (issue 8:
    # detected and recorded, not refused)
    g = tmp_path / "short.csv"
    g.write_bytes(b"upn,urn,date,session,code\nB801200005001,100001,2024-09-02,AM,\xa3\n")
    assert check_input_file(g, "x") == "csv"
    assert file_text_encoding(g) == "cp1252"


# -- 1,000 good rows and 10 bad ones -----------------------------------------------------------
THOUSAND_BAD = {  # line -> reason prefix
    3: "duplicate mark", 103: "unknown code", 227: "withdrawn code", 339: "invalid date",
    451: "mark on a weekend", 563: "failed UPN check", 675: "invalid session",
    787: "missing value", 899: "invalid URN", 1011: "invalid date",
}


def _thousand_and_ten(path: Path) -> Path:
    """10 pupils x 50 school days x AM/PM = 1,000 good marks, grouped by pupil in date order, with
    one bad row after good rows 0, 99, 222, ..., 999: lines 3, 103, 227, 339, 451, 563, 675, 787,
    899 and 1011 (= 2 + k + 1 + j for the j-th bad row after good row k)."""
    upns = [check_letter(f"80120000{i:04d}") + f"80120000{i:04d}" for i in range(10)]
    days = pd.bdate_range("2024-09-02", periods=50).strftime("%Y-%m-%d")
    codes = ["/", "/", "/", "L", "I", "/", "N", "/", "M", "/", "/", "B"]
    good = []
    for p, u in enumerate(upns):
        for d, day in enumerate(days):
            for s, session in enumerate(("AM", "PM")):
                c = codes[(p * 7 + d * 3 + s) % len(codes)]
                good.append((u, "100001", day, session, "\\" if c == "/" and s else c))
    after = [0, 99, 222, 333, 444, 555, 666, 777, 888, 999]
    bad = [
        good[0],  # an exact repeat of line 2
        (upns[0], "100001", "2024-11-11", "AM", "Q7"),
        (upns[2], "100001", "2024-11-12", "PM", "H"),
        (upns[3], "100001", "2024-02-30", "AM", "/"),
        (upns[4], "100001", "2024-09-07", "AM", "/"),
        ("A" + upns[5][1:] if upns[5][0] != "A" else "B" + upns[5][1:], "100001", "2024-09-02",
         "AM", "/"),
        (upns[6], "100001", "2024-09-02", "XM", "/"),
        (upns[7], "100001", "2024-09-02", "AM", ""),
        (upns[8], "12ab", "2024-09-02", "AM", "/"),
        (upns[9], "100001", "31/13/2024", "AM", "/"),
    ]
    rows = []
    for i, g in enumerate(good):
        rows.append(g)
        if i in after:
            rows.append(bad[after.index(i)])
    return write_marks(path, rows)


@pytest.fixture
def thousand(tmp_path) -> Path:
    return _thousand_and_ten(tmp_path / "thousand.csv")


@pytest.mark.parametrize("batch", [1_000_000, 7])
def test_thousand_good_ten_bad(thousand, monkeypatch, batch):
    monkeypatch.setattr(marks_mod, "_BATCH", batch)
    df, rep = read_marks(thousand)
    assert_balanced(rep, 1010, 1000, 10)
    assert prefixes(rep) == THOUSAND_BAD
    assert qmap(rep)[3] == "duplicate mark: same pupil, session and code as line 2"
    assert len(df) == 1000 and not df.duplicated(["upn", "urn", "date", "session"]).any()
    assert not rep.notes  # grouped by pupil in date order: streamed, nothing sorted in memory


# -- streaming: batch boundaries and file order ------------------------------------------------
#: one pupil's register with conflicts and repeats placed across every batch size tried below
STRADDLE = [
    (B001, "2024-09-02", "AM", "/"),   # 2
    (B001, "2024-09-02", "PM", "\\"),  # 3
    (B001, "2024-09-03", "AM", "/"),   # 4
    (B001, "2024-09-03", "PM", "\\"),  # 5
    (B001, "2024-09-04", "AM", "/"),   # 6
    (B001, "2024-09-04", "PM", "\\"),  # 7
    (B001, "2024-09-05", "AM", "/"),   # 8  conflict with 9 (batches of 7: 8 | 9)
    (B001, "2024-09-05", "AM", "I"),   # 9
    (B001, "2024-09-05", "PM", "\\"),  # 10
    (B001, "2024-09-06", "AM", "/"),   # 11
    (B001, "2024-09-06", "AM", "/"),   # 12 repeat of 11
    (B001, "2024-09-06", "PM", "\\"),  # 13
    (B001, "2024-09-09", "AM", "/"),   # 14
    (B001, "2024-09-09", "PM", "\\"),  # 15
    (B001, "2024-09-09", "PM", "\\"),  # 16 repeat of 15 (batches of 7: 15 | 16)
    (B001, "2024-09-09", "PM", "\\"),  # 17 repeat of 15
    (B001, "2024-09-10", "AM", "N"),   # 18 three-way conflict 18-20
    (B001, "2024-09-10", "AM", "N"),   # 19
    (B001, "2024-09-10", "AM", "O"),   # 20
    (B001, "2024-09-10", "PM", "\\"),  # 21
    (U004, "2024-09-02", "AM", "/"),   # 22
    (U004, "2024-09-02", "AM", "/"),   # 23 repeat of 22 (another enrolment)
]
STRADDLE_EXPECTED = {
    8: "conflicting codes for one pupil-session: '/' (line 8) vs 'I' (line 9)",
    9: "conflicting codes for one pupil-session: '/' (line 8) vs 'I' (line 9)",
    12: "duplicate mark: same pupil, session and code as line 11",
    16: "duplicate mark: same pupil, session and code as line 15",
    17: "duplicate mark: same pupil, session and code as line 15",
    18: "conflicting codes for one pupil-session: 'N' (line 18) vs 'N' (line 19) vs 'O' (line 20)",
    19: "conflicting codes for one pupil-session: 'N' (line 18) vs 'N' (line 19) vs 'O' (line 20)",
    20: "conflicting codes for one pupil-session: 'N' (line 18) vs 'N' (line 19) vs 'O' (line 20)",
    23: "duplicate mark: same pupil, session and code as line 22",
}


def _straddle(path: Path, order=None) -> Path:
    rows = [(u, "100001", d, s, c) for u, d, s, c in STRADDLE]
    if order is not None:
        rows = [rows[i] for i in order]
    return write_marks(path, rows)


@pytest.mark.parametrize("batch", [1, 2, 3, 7, 1_000_000])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_conflicts_and_repeats_across_batch_boundaries(tmp_path, monkeypatch, batch, fmt):
    monkeypatch.setattr(marks_mod, "_BATCH", batch)
    path = _straddle(tmp_path / "straddle.csv")
    if fmt == "parquet":
        pd.read_csv(path, dtype=str, keep_default_na=False).to_parquet(tmp_path / "s.parquet")
        path = tmp_path / "s.parquet"
    df, rep = read_marks(path)
    assert_balanced(rep, 22, 13, 9)
    offset = 0 if fmt == "csv" else -1  # Parquet rows are numbered from 1, with no header

    def shift(text: str) -> str:
        return re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + offset}", text)
    assert qmap(rep) == {k + offset: shift(v) for k, v in STRADDLE_EXPECTED.items()}
    assert len(df) == 13 and not df.duplicated(["upn", "date", "session"]).any()


def test_unsorted_file_gives_the_same_result_as_the_sorted_one(tmp_path):
    sorted_df, sorted_rep = read_marks(_straddle(tmp_path / "sorted.csv"))
    order = list(range(len(STRADDLE)))
    random.Random(20240902).shuffle(order)
    shuffled_df, rep = read_marks(_straddle(tmp_path / "shuffled.csv", order))
    assert_balanced(rep, 22, 13, 9)
    assert any("sorted in memory" in n for n in rep.notes)
    assert mark_tuples(shuffled_df) == mark_tuples(sorted_df)

    def outcome(r):  # (raw row, reason prefix): line numbers differ after shuffling
        return sorted(zip(r.quarantine["raw"], r.quarantine["reason"].str.split(":").str[0],
                          strict=True))
    assert outcome(rep) == outcome(sorted_rep)
    # the kept copy of a repeat is the first in the (shuffled) file
    line_of = {orig: new + 2 for new, orig in enumerate(order)}
    dups = rep.quarantine[rep.quarantine["reason"].str.startswith("duplicate")]
    firsts = {min(line_of[10], line_of[9]), min(line_of[13], line_of[14], line_of[15]),
              min(line_of[20], line_of[21])}  # STRADDLE indexes 9/10, 13-15, 20/21
    assert set(dups["reason"].str.extract(r"line (\d+)$")[0].astype(int)) <= firsts


def test_file_unsorted_after_the_first_batch_still_finds_repeats(tmp_path, monkeypatch):
    # two sorted exports one after the other, overlapping by a few marks: the disorder is only
    # seen in a later batch, after the first batch's marks were passed on
    monkeypatch.setattr(marks_mod, "_BATCH", 4)
    days = pd.bdate_range("2024-09-02", periods=3).strftime("%Y-%m-%d")
    first = [(u, "100001", d, s, "/" if s == "AM" else "\\") for u in (B001, U004)
             for d in days for s in ("AM", "PM")]  # lines 2-13
    second = [(B001, "100001", days[0], "AM", "/"),    # 14: repeat of line 2
              (U004, "100001", days[1], "PM", "\\"),   # 15: repeat of line 11
              (U004, "100001", days[1], "PM", "\\"),   # 16: repeat of line 11
              (U004, "100001", "2024-09-05", "AM", "/")]  # 17: new
    path = write_marks(tmp_path / "two_exports.csv", first + second)
    df, rep = read_marks(path)
    assert_balanced(rep, 16, 13, 3)
    assert qmap(rep) == {14: "duplicate mark: same pupil, session and code as line 2",
                         15: "duplicate mark: same pupil, session and code as line 11",
                         16: "duplicate mark: same pupil, session and code as line 11"}
    monkeypatch.setattr(marks_mod, "_BATCH", 1_000_000)
    df1, rep1 = read_marks(path)
    assert mark_tuples(df1) == mark_tuples(df) and qmap(rep1) == qmap(rep)


def test_late_conflict_with_a_passed_on_mark_stops_the_load(tmp_path, monkeypatch):
    monkeypatch.setattr(marks_mod, "_BATCH", 4)
    days = pd.bdate_range("2024-09-02", periods=3).strftime("%Y-%m-%d")
    first = [(u, "100001", d, s, "/" if s == "AM" else "\\") for u in (B001, U004)
             for d in days for s in ("AM", "PM")]
    path = write_marks(tmp_path / "late.csv", first + [(B001, "100001", days[0], "AM", "N")])
    with pytest.raises(InputFileError) as exc:
        read_marks(path)
    assert "'/' (line 2) vs 'N' (line 14)" in str(exc.value)
    assert "Sort the file" in str(exc.value)
    # in one batch the same file quarantines both rows of the conflict
    monkeypatch.setattr(marks_mod, "_BATCH", 1_000_000)
    _, rep = read_marks(path)
    assert_balanced(rep, 13, 11, 2) and set(qmap(rep)) == {2, 14}


# -- Store.ingest ------------------------------------------------------------------------------
def _check_result(res) -> None:
    for rep in res.reports:
        assert rep.rows_read == rep.rows_loaded + rep.rows_quarantined, rep.line()
    if res.rows_quarantined:
        q = pd.read_csv(res.quarantine_path, dtype=str, keep_default_na=False)
        assert list(q.columns) == QUARANTINE_COLUMNS
        assert len(q) == res.rows_quarantined
    else:
        assert res.quarantine_path is None


def test_store_ingest_writes_the_quarantine_file(tmp_path):
    store = Store(tmp_path / "store")
    res = store.ingest([BAD / "marks_problems.csv"], pupils=BAD / "pupils.csv",
                       schools=BAD / "schools.csv")
    _check_result(res)
    kinds = {Path(r.file).name: (r.rows_read, r.rows_loaded, r.rows_quarantined)
             for r in res.reports}
    assert kinds == {"pupils.csv": (4, 4, 0), "schools.csv": (1, 1, 0),
                     "marks_problems.csv": (22, 6, 16)}
    q = pd.read_csv(res.quarantine_path)
    assert res.quarantine_path.parent == store.root / "quarantine"
    assert set(q["file"]) == {str(BAD / "marks_problems.csv")}
    assert dict(zip(q["line"], q["reason"].str.split(":").str[0], strict=True)) == \
        PROBLEMS_EXPECTED
    assert len(store.marks()) == 6


def test_store_ingest_is_idempotent(tmp_path):
    store = Store(tmp_path / "store")
    files = dict(pupils=BAD / "pupils.csv", schools=BAD / "schools.csv")
    first = store.ingest([BAD / "marks_problems.csv"], **files)
    marks_before = store.marks()
    summary_before = metrics.summary(store, "school")
    loads_before = len(store.settings["loads"])
    again = Store(tmp_path / "store").ingest([BAD / "marks_problems.csv"], **files)
    _check_result(first)
    _check_result(again)
    rep = [r for r in again.reports if r.file.endswith("marks_problems.csv")][0]
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (0, 0, 0)
    assert any("already loaded" in n for n in rep.notes)
    assert again.skipped == [str(BAD / "marks_problems.csv")]
    store = Store(tmp_path / "store")
    pd.testing.assert_frame_equal(store.marks(), marks_before)
    pd.testing.assert_frame_equal(metrics.summary(store, "school"), summary_before)
    assert len(store.settings["loads"]) == loads_before


def test_second_file_with_marks_already_in_the_store(tmp_path):
    store = Store(tmp_path / "store")
    _check_result(store.ingest([BAD / "marks_clean.csv"], pupils=BAD / "pupils.csv"))
    second = write_marks(tmp_path / "second.csv", [
        (B001, "100001", "2024-09-02", "AM", "/"),   # same mark: already stored
        (B001, "100001", "2024-09-03", "PM", "N"),   # I in the store: a correction
        (B001, "100001", "2024-09-04", "AM", "/"),   # new
    ])
    res = store.ingest([second])
    _check_result(res)
    rep = res.reports[-1]
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (3, 2, 1)
    assert (rep.rows_corrected, rep.rows_already_stored, rep.rows_rejected) == (1, 1, 0)
    assert rep.quarantine["reason"].tolist() == [
        "already in the store: identical mark loaded from marks_clean.csv"]
    assert rep.quarantine["line"].tolist() == [2]
    m = Store(tmp_path / "store").marks()
    assert len(m) == 7
    assert m.loc[m["date"] == "2024-09-03", "code"].tolist() == ["I", "N"]
    log = Store(tmp_path / "store").corrections()
    assert log[["upn", "session", "old_code", "new_code", "line"]].values.tolist() == [
        [B001, "PM", "I", "N", 3]]


def test_store_ingest_weekly_and_roster_files(tmp_path):
    store = Store(tmp_path / "store")
    res = store.ingest(weekly=[BAD / "weekly_marks.csv"], pupils=BAD / "pupils_bad.csv",
                       schools=BAD / "schools_bad.csv",
                       interventions=BAD / "interventions_bad.csv")
    _check_result(res)
    got = {r.kind.strip(): (r.rows_read, r.rows_loaded, r.rows_quarantined)
           for r in res.reports}
    # weekly rows of pupils without a (good) pupils row are not on roll
    weekly = got.pop("weekly marks")
    assert weekly[0] == 49
    assert got == {"pupils": (10, 2, 8), "schools": (7, 3, 4), "interventions": (7, 2, 5)}
    assert sorted(Store(tmp_path / "store").pupils()["upn"]) == [B001, X006]


def test_store_ingest_with_small_batches(tmp_path, monkeypatch, thousand):
    monkeypatch.setattr(marks_mod, "_BATCH", 7)
    res = Store(tmp_path / "store").ingest([thousand])
    _check_result(res)
    rep = res.reports[0]
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (1010, 1000, 10)
    q = pd.read_csv(res.quarantine_path)
    assert dict(zip(q["line"], q["reason"].str.split(":").str[0], strict=True)) == THOUSAND_BAD
    assert len(Store(tmp_path / "store").marks()) == 1000


STORE_FILE_ERRORS = [
    (dict(marks=["marks_clean.csv", "marks_missing_column.csv"]), "marks_missing_column.csv",
     "missing required column(s) code"),
    (dict(marks=["marks_empty.csv"]), "marks_empty.csv", "file is empty"),
    (dict(marks=["marks_clean.csv", "marks_binary.csv"]), "marks_binary.csv", "binary data"),
    (dict(marks=["marks_workbook.csv"]), "marks_workbook.csv", "Excel .xlsx workbook"),
    (dict(marks=["marks_wrong_columns.parquet"]), "marks_wrong_columns.parquet",
     "missing required column(s)"),
    (dict(marks=["marks_clean.csv", "marks_ragged.csv"]), "marks_ragged.csv",
     "not a readable marks CSV"),
    (dict(marks=["no_such_file.csv"]), "no_such_file.csv", "file not found"),
    (dict(marks=["marks_mis_headings.csv"], mapping="mapping_unknown_field.yaml"),
     "marks_mis_headings.csv", "unknown field(s) pupil_name"),
    (dict(marks=["marks_clean.csv"], mapping="mapping_unknown_section.yaml"),
     "mapping_unknown_section.yaml", "unknown section(s) mark"),
    (dict(marks=["marks_clean.csv"], pupils="pupils_missing_column.csv"),
     "pupils_missing_column.csv", "missing required column(s) urn"),
    (dict(weekly=["weekly_missing_column.csv"]), "weekly_missing_column.csv",
     "missing required column(s) week_start"),
]


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("loaded") / "store"
    _check_result(Store(root).ingest([BAD / "marks_problems.csv"], pupils=BAD / "pupils.csv",
                                     schools=BAD / "schools.csv"))
    return root


@pytest.mark.parametrize(("files", "bad", "message"), STORE_FILE_ERRORS)
def test_store_whole_file_error_loads_nothing(loaded_store, tmp_path, files, bad, message):
    root = tmp_path / "store"
    shutil.copytree(loaded_store, root)
    before = snapshot(root)
    kwargs = {k: ([BAD / f for f in v] if isinstance(v, list) else BAD / v)
              for k, v in files.items()}
    kwargs.setdefault("pupils", BAD / "pupils.csv")
    marks = kwargs.pop("marks", [])
    with pytest.raises(InputFileError) as exc:
        Store(root).ingest(marks, **kwargs)
    assert str(exc.value).startswith(f"{BAD / bad}: ") and message in str(exc.value)
    assert snapshot(root) == before


def test_store_late_conflict_loads_nothing(loaded_store, tmp_path, monkeypatch):
    root = tmp_path / "store"
    shutil.copytree(loaded_store, root)
    before = snapshot(root)
    monkeypatch.setattr(marks_mod, "_BATCH", 4)
    days = pd.bdate_range("2024-10-07", periods=3).strftime("%Y-%m-%d")
    rows = [(u, "100001", d, s, "/" if s == "AM" else "\\") for u in (B001, U004)
            for d in days for s in ("AM", "PM")] + [(B001, "100001", days[0], "AM", "N")]
    with pytest.raises(InputFileError, match="Sort the file"):
        Store(root).ingest([write_marks(tmp_path / "late.csv", rows)], pupils=BAD / "pupils.csv")
    assert snapshot(root) == before


def test_store_header_only_file_adds_no_marks(loaded_store, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(loaded_store, root)
    n = len(Store(root).marks())
    res = Store(root).ingest([BAD / "marks_header_only.csv"])
    _check_result(res)
    assert any("no data rows" in note for note in res.reports[0].notes)
    assert len(Store(root).marks()) == n


def test_corpus_dates_are_what_the_files_say():
    # the corpus relies on these calendar facts (README)
    assert date(2024, 9, 2).weekday() == 0 and date(2024, 9, 7).weekday() == 5
    assert date(2024, 9, 2) + timedelta(days=7) == date(2024, 9, 9)
    assert np.busday_count("2024-09-02", "2024-09-09") == 5


def test_second_file_of_one_load_still_streams(tmp_path):
    # both files are grouped by pupil in date order; the second one's pupils were met in the
    # first, which must not make it look unsorted (and fall back to sorting in memory)
    later = write_marks(tmp_path / "later.csv", [
        (U004, "100001", "2024-09-16", "AM", "/"), (U004, "100001", "2024-09-16", "PM", "\\"),
        (B001, "100001", "2024-09-16", "AM", "/"), (B001, "100001", "2024-09-16", "PM", "\\")])
    res = Store(tmp_path / "store").ingest([BAD / "marks_clean.csv", later])
    _check_result(res)
    assert [r.rows_loaded for r in res.reports] == [6, 4]
    assert not any("sorted in memory" in n for r in res.reports for n in r.notes)
