"""``attendance benchmark``: a user's mistakes get one clear sentence and exit status 2.

The command is mounted on a fresh ``typer.Typer()`` through
:func:`attendance_lib.published.cli.register`, as the lead will mount it on ``attendance``.
The successful run through the notebook is in test_published_browser.py (one LA in CI); the
three contrasting LAs through the command are the ``slow`` test at the end.
"""

from __future__ import annotations

import csv
import gzip
import re
import time

import pytest
import typer
from typer.testing import CliRunner

from attendance_lib import paths
from attendance_lib.published.cli import register, report_paths

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:  # a group, so the command is called by name as on ``attendance``
        """attendance (test mount)"""

    return app


def run(app, *args):
    return CliRunner().invoke(app, ["benchmark", *args])


def lookup_codes() -> set[str]:
    """Old LA codes of DfE's lookup rows that are LAs with an E-code (raw file, csv module).

    The BFPO row (702, new code ``z``) is no LA and combined rows ("940 / 941") are no code.
    """
    path = paths.dfe_dir() / "reference" / "dfe_las.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as fh:
        return {r["old_la_code"] for r in csv.DictReader(fh)
                if re.fullmatch(r"\d{3}", r["old_la_code"] or "")
                and re.fullmatch(r"E\d{8}", r["new_la_code"] or "")}


def test_mistyped_code_lists_the_codes_that_exist(app):
    result = run(app, "--la", "8866")
    assert result.exit_code == 2
    text = result.output
    assert "Traceback" not in text
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert text.startswith("error: la: '8866' is not a known old LA code")
    assert "Close matches: 886 Kent" in text
    listed = set(re.search(r"Existing old LA codes \(\d+\): ([\d, ]+)", text).group(1)
                 .split(", "))
    assert listed == lookup_codes() and len(listed) > 150


@pytest.mark.parametrize(("args", "needle"), [
    (["--la", "E1000016"], "Close matches: E10000016 Kent"),
    (["--la", "Kentt"], "Close matches: Kent"),
    (["--la", "Rutland", "--year", "2020/21"], "school-level census absence exists for "
                                              "2014/15, 2015/16, 2016/17, 2017/18, 2018/19"),
    (["--la", "Rutland", "--year", "twenty"], "year 'twenty'"),
    (["--la", "857", "--dfe-dir", "/nonexistent/dfe"], "no such folder"),
    (["--la", "857", "--la", "99"], "'99' is not a known old LA code"),
])
def test_user_errors(app, args, needle, tmp_path):
    result = run(app, *args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert needle in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()               # nothing ran: checked first


def test_out_is_a_file(app, tmp_path):
    target = tmp_path / "report.html"
    target.write_text("not a folder")
    result = run(app, "--la", "857", "--out", str(target))
    assert result.exit_code == 2
    assert "is a file; expected a folder" in result.output and "Traceback" not in result.output
    assert target.read_text() == "not a folder"


def test_help_names_the_options(app):
    # CI=true makes rich colour the help: ask for plain text, and strip any escape left
    result = CliRunner().invoke(app, ["benchmark", "--help"],
                                env={"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "120"})
    assert result.exit_code == 0
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.output)
    for option in ("--la", "--year", "--out", "--dfe-dir"):
        assert option in text


@pytest.mark.slow
def test_three_contrasting_las_through_the_command(app, tmp_path):
    """County, London borough, small unitary: each report built by the notebook (slow)."""
    start = time.perf_counter()
    result = run(app, "--la", "Kent", "--la", "202", "--la", "E06000017",
                 "--out", str(tmp_path))
    seconds = time.perf_counter() - start
    print(result.output, f"{seconds:.0f} s")
    assert result.exit_code == 0, result.output
    from attendance_lib.io.dfe import find_la

    for code in ("886", "202", "857"):
        html_path, ipynb = report_paths(tmp_path, find_la(code))
        html = html_path.read_text()
        for fig_id in ("funnel-pa", "similar-schools", "expected-vs-actual", "series-pa"):
            assert f'id="{fig_id}"' in html
        assert "build_benchmark" not in html                 # code hidden
        assert ipynb.is_file()
