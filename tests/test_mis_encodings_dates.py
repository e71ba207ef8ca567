"""Encodings (UTF-8 with/without BOM, cp1252, ISO-8859-1) and UK dates (day-first; ambiguous
files refused): issue 8, mis_formats.md section 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from attendance_lib.io._common import DateEvidence, InputFileError, check_input_file
from attendance_lib.io.encodings import binary_problem, detect_encoding
from attendance_lib.io.formats import read_mis
from attendance_lib.io.marks import read_marks, read_weekly_marks
from attendance_lib.io.roster import read_pupils
from attendance_lib.store import Store

MIS = Path(__file__).resolve().parent / "mis_inputs"
B001 = "B801200005001"


def test_bom_is_detected_and_does_not_stick_to_the_first_heading():
    df, rep = read_marks(MIS / "marks_bom.csv")
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (3, 2, 1)
    assert rep.encoding == "utf-8-sig"
    assert "encoding: UTF-8 with a byte-order mark, detected" in rep.notes
    assert df["upn"].tolist() == [B001, B001]
    assert rep.quarantine["line"].tolist() == [4]  # the Saturday mark, line numbers unmoved


def test_cp1252_pupils_keep_their_names():
    df, rep = read_pupils(MIS / "pupils_cp1252_names.csv")
    assert df["name"].tolist() == ["Siân O’Brien", "Zoë Müller – Smith"]
    assert rep.notes == ["encoding: cp1252 (Windows-1252), detected (the file is not UTF-8)"]
    assert (rep.rows_read, rep.rows_loaded) == (2, 2)


def test_cp1252_marks_load_and_record_the_encoding():
    df, rep = read_marks(MIS / "marks_cp1252_names.csv")
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (2, 2, 0)
    assert rep.encoding == "cp1252"
    assert rep.notes[0] == "encoding: cp1252 (Windows-1252), detected (the file is not UTF-8)"


def test_cp1252_through_the_store_and_the_cli_format_note(tmp_path):
    res = Store(tmp_path / "s").ingest([MIS / "marks_cp1252_names.csv"], fmt="auto",
                                       pupils=MIS / "pupils_cp1252_names.csv")
    marks = next(r for r in res.reports if r.kind == "marks")
    assert marks.notes[:2] == [
        "format: canonical (detected: CSV in the canonical long form (one row per session))",
        "encoding: cp1252 (Windows-1252), detected (the file is not UTF-8)"]
    names = Store(tmp_path / "s").pupils()["name"].tolist()
    assert names == ["Siân O’Brien", "Zoë Müller – Smith"]


@pytest.mark.parametrize(("data", "encoding"), [
    ("Café".encode(), "utf-8"),
    ("\ufeffCafé".encode(), "utf-8-sig"),
    ("Siân O’Brien".encode("cp1252"), "cp1252"),  # 0x92 is a quote in cp1252
    (b"caf\xe9 \x81", "iso-8859-1"),  # 0x81 is undefined in cp1252
    (b"plain ascii", "utf-8"),
])
def test_detect_encoding(data, encoding):
    assert detect_encoding(data) == encoding


def test_binary_and_utf16_are_refused(tmp_path):
    assert binary_problem("upn".encode("utf-16")).startswith("is UTF-16 text")
    f = tmp_path / "garbage.csv"
    f.write_bytes(b"upn,urn\n\x00\x01\x02\x03")
    with pytest.raises(InputFileError, match=r"garbage\.csv: is binary data, not text \(a NUL "
                                             r"byte at offset 8\)"):
        check_input_file(f, "a marks CSV")


def test_uk_dates_are_read_day_first():
    df, rep = read_marks(MIS / "marks_dayfirst.csv")
    # 13/09/2024 can only be day-first, so 02/09/2024 is 2 September, not 9 February
    assert [d.strftime("%Y-%m-%d") for d in df["date"]] == ["2024-09-02", "2024-09-02",
                                                            "2024-09-13"]
    assert rep.balanced and rep.rows_loaded == 3


def test_dates_ambiguous_throughout_are_refused_not_guessed(tmp_path):
    with pytest.raises(InputFileError) as exc:
        read_marks(MIS / "marks_ambiguous.csv")
    msg = str(exc.value)
    assert msg.startswith(f"{MIS / 'marks_ambiguous.csv'}: dates are ambiguous throughout: "
                          f"every dd/mm/yyyy date (e.g. '02/09/2024') could also be read "
                          f"mm/dd/yyyy")
    assert "date_order: day-first" in msg
    # through the store: nothing is loaded, no store is created
    with pytest.raises(InputFileError):
        Store(tmp_path / "s").ingest([MIS / "marks_ambiguous.csv"], fmt="auto")
    assert not (tmp_path / "s" / "store.json").exists()


def test_declared_day_first_loads_the_ambiguous_file(tmp_path):
    df, rep = read_marks(MIS / "marks_ambiguous.csv", day_first=True)
    assert [d.strftime("%m-%d") for d in df["date"]] == ["09-02", "09-03", "09-04"]
    m = tmp_path / "m.yaml"
    m.write_text("date_order: day-first\n")
    df, rep = read_marks(MIS / "marks_ambiguous.csv", mapping=m)
    assert rep.rows_loaded == 3


def test_month_first_dates_are_refused():
    with pytest.raises(InputFileError, match=r"dates are month-first \(US mm/dd/yyyy\): "
                                             r"'09/13/2024'"):
        read_marks(MIS / "marks_month_first.csv")


def test_ambiguous_week_dates_are_refused(tmp_path):
    f = tmp_path / "weekly.csv"
    f.write_text("upn,urn,week_start,marks\nB801200005001,100001,02/09/2024,/\\/\\/\\/\\/\\\n")
    with pytest.raises(InputFileError, match="dates are ambiguous throughout"):
        read_weekly_marks(f)
    g = tmp_path / "grid.csv"
    g.write_text("upn,urn,week_start,MonAM,MonPM,TueAM,TuePM,WedAM,WedPM,ThuAM,ThuPM,FriAM,"
                 "FriPM\nB801200005001,100001,09/09/2024,/,\\,/,\\,/,\\,/,\\,/,\\\n")
    with pytest.raises(InputFileError, match="dates are ambiguous throughout"):
        read_mis([g])
    assert read_mis([g], day_first=True).reports[0].rows_loaded == 10


def test_date_evidence_rules():
    e = DateEvidence()
    e.add(["02/09/2024", "2024-09-03"])  # an ISO date: not ambiguous throughout
    assert not e.ambiguous
    e = DateEvidence()
    e.add(["2/9/2024"])
    assert e.ambiguous and "e.g. '2/9/2024'" in e.problem()
    e = DateEvidence(day_first=True)
    e.add(["2/9/2024"])
    assert e.problem() is None
