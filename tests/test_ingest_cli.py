"""The ``attendance`` command line against the bad-inputs corpus (tests/bad_inputs/README.md).

``ingest`` prints ``read N, loaded N, quarantined N`` for every file and the quarantine file's
path; ``validate`` changes nothing and exits 1 when rows would be quarantined, 0 when clean; a file
that cannot be read at all exits 2 with one line ``error: <file>: ...`` and no traceback.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from attendance_lib import cli
from attendance_lib.io._common import QUARANTINE_COLUMNS
from attendance_lib.store import Store

BAD = Path(__file__).resolve().parent / "bad_inputs"


@pytest.fixture(autouse=True)
def _reports_to_current_stdout(monkeypatch):
    """``cli._print_reports(result, out=sys.stdout)`` binds the stdout of import time as its
    default, so CliRunner (which swaps ``sys.stdout``) cannot see the report lines. Until cli.py
    looks ``sys.stdout`` up at call time, print to whatever stdout is current (same text)."""
    defaults = cli._print_reports.__defaults__
    if defaults and hasattr(defaults[-1], "write"):
        monkeypatch.setattr(cli._print_reports, "__defaults__", defaults[:-1] + (None,))


def run(*args: str | Path):
    """Invoke the app; stdout and stderr are kept apart (``result.stdout`` / ``.stderr``)."""
    return CliRunner().invoke(cli.app, [str(a) for a in args])


def counts(out: str) -> dict[str, tuple[int, int, int]]:
    """File name -> (read, loaded, quarantined) from the ingest/validate report lines."""
    found = re.findall(r"(\S+): read ([\d,]+), loaded ([\d,]+), quarantined ([\d,]+)", out)
    return {Path(f).name: tuple(int(x.replace(",", "")) for x in rest) for f, *rest in found}


def quarantine_path(out: str) -> Path:
    m = re.search(r"quarantined rows \(file, line, reason\): (\S+)", out)
    assert m, out
    return Path(m.group(1))


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    """A store with the corpus's clean roster and marks_problems.csv loaded by the CLI."""
    root = tmp_path_factory.mktemp("cli") / "store"
    res = run("ingest", "--store", root, "--marks", BAD / "marks_problems.csv",
              "--pupils", BAD / "pupils.csv", "--schools", BAD / "schools.csv")
    assert res.exit_code == 0, res.output
    return root


def test_ingest_prints_accounting_and_quarantine_path(tmp_path):
    root = tmp_path / "store"
    res = run("ingest", "--store", root, "--marks", BAD / "marks_problems.csv",
              "--pupils", BAD / "pupils.csv", "--schools", BAD / "schools.csv")
    assert res.exit_code == 0, res.output
    assert counts(res.stdout) == {"pupils.csv": (4, 4, 0), "schools.csv": (1, 1, 0),
                                  "marks_problems.csv": (22, 6, 16)}
    # reasons are counted under the file's line
    assert re.search(r"^\s+3\s+invalid date$", res.stdout, re.M)
    assert re.search(r"^\s+2\s+conflicting codes for one pupil-session$", res.stdout, re.M)
    q_path = quarantine_path(res.stdout)
    assert q_path.parent == root.resolve() / "quarantine"
    q = pd.read_csv(q_path)
    assert list(q.columns) == QUARANTINE_COLUMNS and len(q) == 16
    assert q["line"].tolist() == [4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20]
    assert f"store: {root.resolve()}" in res.stdout
    assert res.stderr == ""


def test_ingest_weekly_marks_and_mapping(tmp_path):
    root = tmp_path / "store"
    res = run("ingest", "--store", root, "--weekly-marks", BAD / "weekly_marks.csv",
              "--marks", BAD / "marks_mis_headings.csv", "--mapping", BAD / "mapping_mis.yaml")
    assert res.exit_code == 0, res.output
    got = counts(res.stdout)
    assert got["marks_mis_headings.csv"] == (7, 6, 1)
    read, loaded, quarantined = got["weekly_marks.csv"]
    assert read == loaded + quarantined == 49
    assert "weekly marks" in res.stdout


def test_ingest_again_adds_nothing(loaded, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(loaded, root)
    before = Store(root).marks()
    res = run("ingest", "--store", root, "--marks", BAD / "marks_problems.csv")
    assert res.exit_code == 0, res.output
    assert counts(res.stdout) == {"marks_problems.csv": (0, 0, 0)}
    assert "already loaded" in res.stdout
    assert "quarantined rows" not in res.stdout
    pd.testing.assert_frame_equal(Store(root).marks(), before)


def _later_clean_marks(path: Path) -> Path:
    """Six good marks for dates the loaded store does not have yet."""
    text = (BAD / "marks_clean.csv").read_text().replace("2024-09-02", "2024-09-16")
    path.write_text(text.replace("2024-09-03", "2024-09-17"), encoding="utf-8")
    return path


@pytest.mark.parametrize("clean", [False, True])
def test_validate_changes_nothing(loaded, tmp_path, clean):
    root = tmp_path / "store"
    shutil.copytree(loaded, root)
    before = snapshot(root)
    if clean:
        target = _later_clean_marks(tmp_path / "later.csv")
    else:
        # marks_problems.csv with a blank line added: a new file (new SHA-256), same rows
        target = tmp_path / "problems_again.csv"
        target.write_text((BAD / "marks_problems.csv").read_text() + "\n", encoding="utf-8")
    res = run("validate", "--store", root, "--marks", target)
    assert res.exit_code == (0 if clean else 1), res.output
    assert snapshot(root) == before
    if clean:
        assert counts(res.stdout) == {target.name: (6, 6, 0)}
        assert "quarantined rows" not in res.stdout
    else:
        assert counts(res.stdout)[target.name][2] >= 16
        assert quarantine_path(res.stdout).exists()
        assert not str(quarantine_path(res.stdout)).startswith(str(root))


def test_validate_reports_marks_already_in_the_store(loaded, tmp_path):
    target = tmp_path / "clean_again.csv"  # B801200005001's 2 Sep marks are already loaded
    target.write_text((BAD / "marks_clean.csv").read_text() + "\n", encoding="utf-8")
    res = run("validate", "--store", loaded, "--marks", target)
    # identical marks already in the store are quarantined but are not problems: exit 0
    assert res.exit_code == 0, res.output
    assert counts(res.stdout) == {"clean_again.csv": (6, 4, 2)}
    assert "2 quarantined mark(s) already in the store, identical: nothing to add" in res.stdout
    assert re.search(r"^\s+2\s+already in the store$", res.stdout, re.M)


def test_validate_and_ingest_report_a_correction(loaded, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(loaded, root)
    # B801200005001's 2 Sep AM mark is '/' in the store; the school corrected it to 'I'
    fix = tmp_path / "fix.csv"
    fix.write_text("upn,urn,date,session,code\nB801200005001,100001,2024-09-02,AM,I\n",
                   encoding="utf-8")
    before = snapshot(root)
    res = run("validate", "--store", root, "--marks", fix)
    assert res.exit_code == 0, res.output                  # a correction is not a problem
    assert counts(res.stdout) == {"fix.csv": (1, 1, 0)}
    assert "1 loaded mark(s) correct a different code already in the store" in res.stdout
    assert "would correct 1 mark(s) already in the store" in res.stdout
    assert snapshot(root) == before
    res = run("ingest", "--store", root, "--marks", fix)
    assert res.exit_code == 0, res.output
    assert "1 loaded mark(s) correct a different code already in the store" in res.stdout
    assert f"corrected 1 mark(s) already in the store: the new code replaces the old (logged " \
           f"in {root.resolve() / 'corrections'})" in res.stdout
    store = Store(root)
    assert store.corrections()[["upn", "old_code", "new_code", "line"]].values.tolist() == [
        ["B801200005001", "/", "I", 2]]
    day = store.marks(start="2024-09-02", end="2024-09-02", upns=["B801200005001"])
    assert day["code"].tolist() == ["I", "\\"]


def test_validate_without_a_store(tmp_path):
    res = run("validate", "--marks", BAD / "marks_problems.csv", "--pupils", BAD / "pupils.csv")
    assert res.exit_code == 1
    assert counts(res.stdout)["marks_problems.csv"] == (22, 6, 16)
    clean = run("validate", "--marks", BAD / "marks_clean.csv", "--pupils", BAD / "pupils.csv")
    assert clean.exit_code == 0, clean.output


@pytest.mark.parametrize(("args", "bad", "message"), [
    (("--marks", "marks_missing_column.csv"), "marks_missing_column.csv",
     "missing required column(s) code"),
    (("--marks", "marks_empty.csv"), "marks_empty.csv", "file is empty"),
    (("--marks", "marks_binary.csv"), "marks_binary.csv", "binary data"),
    (("--marks", "marks_workbook.csv"), "marks_workbook.csv", "Excel .xlsx workbook"),
    (("--marks", "marks_wrong_columns.parquet"), "marks_wrong_columns.parquet",
     "missing required column(s)"),
    (("--marks", "marks_ragged.csv"), "marks_ragged.csv", "not a readable marks CSV"),
    (("--marks", "no_such_file.csv"), "no_such_file.csv", "file not found"),
    (("--marks", "marks_mis_headings.csv", "--mapping", "mapping_unknown_field.yaml"),
     "marks_mis_headings.csv", "unknown field(s) pupil_name"),
    (("--marks", "marks_clean.csv", "--pupils", "marks_binary.csv"), "marks_binary.csv",
     "binary data"),
    (("--weekly-marks", "weekly_missing_column.csv"), "weekly_missing_column.csv",
     "missing required column(s) week_start"),
])
@pytest.mark.parametrize("command", ["ingest", "validate"])
def test_whole_file_error_exits_2_with_one_line(loaded, tmp_path, command, args, bad, message):
    root = tmp_path / "store"
    shutil.copytree(loaded, root)
    before = snapshot(root)
    argv = [a if a.startswith("--") else BAD / a for a in args]
    res = run(command, "--store", root, *argv)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"error: {BAD / bad}: ") and message in lines[0]
    assert res.stdout == ""
    assert snapshot(root) == before


def test_error_for_a_missing_file_creates_no_store(tmp_path):
    res = run("ingest", "--store", tmp_path / "new", "--marks", BAD / "no_such_file.csv")
    assert res.exit_code == 2
    assert not (tmp_path / "new" / "store.json").exists()
