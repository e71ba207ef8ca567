"""Format detection, the CLI's --format / --local-codes / --roster / --day-first, local-code
maps and ``attendance mapping suggest`` (issue 8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from attendance_lib import cli
from attendance_lib.io._common import InputFileError, load_mapping
from attendance_lib.io.formats import detect_format
from attendance_lib.io.local_codes import LocalCodes, load_local_codes
from attendance_lib.io.mapping_suggest import suggest_for_headers, suggest_mapping, to_yaml
from attendance_lib.store import Store

HERE = Path(__file__).resolve().parent
MIS, BAD = HERE / "mis_inputs", HERE / "bad_inputs"


def run(*args):
    return CliRunner().invoke(cli.app, [str(a) for a in args])


@pytest.mark.parametrize(("path", "fmt"), [
    (MIS / "wonde_attendance_p1.json", "wonde"), (MIS / "wonde_school.json", "wonde"),
    (MIS / "sims_sessions.xml", "sims-xml"), (MIS / "sims_codes.xml", "sims-xml"),
    (MIS / "ctf_oak_lane.xml", "ctf"), (MIS / "grid_upn.csv", "weekly-grid"),
    (MIS / "grid_bromcom.csv", "weekly-grid"), (MIS / "weekly_j1.csv", "weekly"),
    (BAD / "weekly_marks.csv", "weekly"), (BAD / "marks_clean.csv", "canonical"),
    (BAD / "marks_typed.parquet", "canonical"), (MIS / "marks_cp1252_names.csv", "canonical"),
])
def test_detect_format_by_content(path, fmt):
    assert detect_format(path)[0] == fmt


def test_unknown_xml_is_refused_naming_its_root(tmp_path):
    f = tmp_path / "x.xml"
    f.write_text('<?xml version="1.0"?>\n<Timetable><Lesson/></Timetable>')
    with pytest.raises(InputFileError, match=r"is XML with root <Timetable>"):
        detect_format(f)


def test_cli_auto_says_which_format_it_chose(tmp_path):
    res = run("ingest", "--store", tmp_path / "s", "--marks", MIS / "ctf_oak_lane.xml",
              "--marks", MIS / "grid_upn.csv", "--mapping", MIS / "grid_mapping.yaml")
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "note: format: ctf (detected: XML with root <CTfile> (Common Transfer File))" in out
    assert "note: format: weekly-grid (detected: CSV with one column per session" in out
    got = dict(re.findall(r"(\S+): read ([\d,]+), loaded", out))
    assert got[str(MIS / "ctf_oak_lane.xml")] == "16"
    assert got[str(MIS / "grid_upn.csv")] == "27"


def test_cli_explicit_format_roster_and_local_codes(tmp_path):
    res = run("validate", "--marks", MIS / "sims_sessions.xml", "--format", "sims-xml",
              "--roster", MIS / "sims_roster.csv", "--local-codes", MIS / "sims_codes.xml")
    assert res.exit_code == 1, res.output  # rows would be quarantined
    assert "note: format: sims-xml (as given)" in res.stdout
    assert re.search(r"sims_sessions\.xml: read 7, loaded 4, quarantined 3", res.stdout)
    assert "roster" in res.stdout


def test_cli_wrong_format_for_the_file_is_one_error_line(tmp_path):
    res = run("ingest", "--store", tmp_path / "s", "--marks", MIS / "wonde_school.json",
              "--format", "ctf")
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: {MIS / 'wonde_school.json'}: is not well-formed XML")
    res = run("ingest", "--store", tmp_path / "s", "--marks", BAD / "marks_clean.csv",
              "--format", "excel")
    assert res.exit_code == 2 and "--format must be one of auto, canonical" in res.stderr


def test_cli_day_first(tmp_path):
    res = run("ingest", "--store", tmp_path / "s", "--marks", MIS / "marks_ambiguous.csv")
    assert res.exit_code == 2 and "dates are ambiguous throughout" in res.stderr
    res = run("ingest", "--store", tmp_path / "s", "--marks", MIS / "marks_ambiguous.csv",
              "--day-first")
    assert res.exit_code == 0, res.output
    assert len(Store(tmp_path / "s").marks()) == 3


def test_local_code_yaml_shapes_and_errors(tmp_path):
    lc = load_local_codes(MIS / "local_codes.yaml")
    assert lc.lookup("100001", "@") == "C2" and lc.lookup("100002", "@") is None
    assert lc.lookup("100002", "9") == "Y6"
    flat = tmp_path / "flat.yaml"
    flat.write_text("local_codes:\n  '9': Y6\n")
    assert load_local_codes(flat).by_school == {"*": {"9": "Y6"}}
    bad = tmp_path / "bad.yaml"
    bad.write_text("local_codes:\n  '9': Shielding\n")
    with pytest.raises(InputFileError, match="'9' at school \\* maps to 'Shielding', which is "
                                             "not a statutory attendance code"):
        load_local_codes(bad)
    assert load_local_codes(MIS / "sims_codes.xml").lookup("1", "9") == "Y6"


def test_local_codes_in_the_mapping_yaml_apply_to_canonical_files(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text("local_codes:\n  '100001': {'@': C2}\n")
    f = tmp_path / "marks.csv"
    f.write_text("upn,urn,date,session,code\nB801200005001,100001,2024-09-02,AM,@\n"
                 "B801200005001,100001,2024-09-02,PM,%\n")
    res = Store(tmp_path / "s").ingest([f], fmt="auto", mapping=m)
    rep = res.reports[0]
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (2, 1, 1)
    assert rep.quarantine["reason"].iloc[0].startswith(
        "unmapped local code: '%' at school 100001")
    assert Store(tmp_path / "s").marks()["code"].tolist() == ["C2"]


def test_local_codes_prefer_the_school_entry():
    lc = LocalCodes({"*": {"9": "Y6"}}).merged(LocalCodes({"100001": {"9": "Y1"}}))
    assert lc.lookup("100001", "9") == "Y1" and lc.lookup("100009", "9") == "Y6"


def test_mapping_suggest_for_a_sims_style_export():
    s = suggest_for_headers(["Legal Surname", "Forename", "Adno", "UPN", "Reg", "Year",
                             "School URN", "Date", "Session", "Mark"])
    assert s.section == "marks"
    assert s.mapping == {"upn": "UPN", "urn": "School URN", "date": "Date",
                         "session": "Session", "code": "Mark"}
    assert s.unmatched["Reg"] == "registration group: not needed"
    assert s.unmatched["Adno"] == "matches vendor_id, which a marks file does not use"
    assert s.missing == []


def test_mapping_suggest_pupils_and_grid_sections():
    s = suggest_for_headers(["UPN", "URN", "Legal Surname", "DOB", "NC Year", "Gender"])
    assert s.section == "pupils" and s.mapping["date_of_birth"] == "DOB"
    g = suggest_for_headers(["Adno", "Week commencing"] + [f"{d} {s}" for d in
                             ("Mon", "Tue", "Wed", "Thu", "Fri") for s in ("AM", "PM")])
    assert g.section == "weekly_grid" and g.mapping["vendor_id"] == "Adno"
    assert any("admission number, not a UPN" in n for n in g.notes)


def test_mapping_suggest_yaml_is_loadable_and_loads_the_file(tmp_path):
    s = suggest_mapping(BAD / "marks_mis_headings.csv")
    text = to_yaml(s, BAD / "marks_mis_headings.csv")
    assert "# date_order: day-first" in text  # proposed, commented out, for the analyst
    f = tmp_path / "suggested.yaml"
    f.write_text(text.replace("# date_order", "date_order"))
    assert yaml.safe_load(f.read_text())["marks"]["session"] == "AM/PM"
    assert load_mapping(f, "marks")["code"] == "Mark"
    res = Store(tmp_path / "s").ingest([BAD / "marks_mis_headings.csv"], mapping=f)
    assert (res.reports[0].rows_read, res.reports[0].rows_loaded) == (7, 6)


def test_cli_mapping_suggest(tmp_path):
    res = run("mapping", "suggest", MIS / "grid_upn.csv")
    assert res.exit_code == 0, res.output
    assert "weekly_grid:\n" in res.stdout and 'week_start: "Week commencing"' in res.stdout
    out = tmp_path / "m.yaml"
    res = run("mapping", "suggest", BAD / "marks_mis_headings.csv", "--out", out)
    assert res.exit_code == 0 and out.exists()
    res = run("mapping", "suggest", BAD / "marks_mis_headings.csv", "--out", out)
    assert res.exit_code == 2 and "already exists" in res.stderr
