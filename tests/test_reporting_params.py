"""Report parameters are validated strictly, and a run that cannot start says why in one line.

Nothing here starts a kernel: every check happens before the batch runs (issue 4, item 2).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from conftest import UPN, URN_A, URN_B, RegisterBuilder
from typer.testing import CliRunner

from attendance_lib.paths import repo_root
from attendance_lib.reporting import ParamsError, ReportingError, load_params, run_batch
from attendance_lib.reporting.cli import register

FIXTURES = Path(__file__).parent / "report_templates"


def _yaml(tmp_path: Path, text: str, name: str = "report.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _cli():
    app = typer.Typer()
    register(app)

    @app.command("other")  # a second command, so typer keeps 'report' as a sub-command
    def _other() -> None:
        pass

    return app


def _invoke(*args: str):
    return CliRunner().invoke(_cli(), ["report", *map(str, args)])


# --------------------------------------------------------------------------- the YAML itself
def test_example_file_is_valid_and_dates_become_iso_strings():
    p = load_params(repo_root() / "params" / "report_example.yaml")
    # YAML reads 2025-11-14 as a date object (papermill #345); the runner gets the text
    assert p["as_of"] == "2025-11-14" and isinstance(p["as_of"], str)
    assert p["suppress_below"] == 5 and p["pseudonymise"] is False
    assert Path(p["store"]).is_absolute()
    assert all(isinstance(v, str | int | bool) for v in p.values())


def test_values_of_each_kind(tmp_path):
    p = load_params(_yaml(tmp_path, "as_of: '2025-11-14'\nschools: [100001, '100002']\n"
                                    "workers: 3\nhtml: false\nterm: autumn\n"))
    assert p == {"as_of": "2025-11-14", "schools": ["100001", "100002"], "workers": 3,
                 "html": False, "term": "autumn"}
    assert load_params(_yaml(tmp_path, "schools: 100001, 100002\n"))["schools"] == [
        "100001", "100002"]
    assert load_params(_yaml(tmp_path, "# nothing set\n")) == {}


@pytest.mark.parametrize("text, line, key, words", [
    ("as_of: 2025-11-14\nas_off: 2025-11-14\n", 2, "as_off", "did you mean 'as_of'"),
    ("workers: 2\n\nschool: 100001\n", 3, "school", "did you mean 'schools'"),
    ("colour: blue\n", 1, "colour", "unknown key"),
])
def test_unknown_key_names_file_line_and_key(tmp_path, text, line, key, words):
    path = _yaml(tmp_path, text)
    with pytest.raises(ParamsError) as err:
        load_params(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}, line {line}: unknown key '{key}'")
    assert words in msg


@pytest.mark.parametrize("value, words", [
    ("2025-02-30", "not a real date"),             # 30 February
    ("'2025-13-01'", "not a real date"),           # month 13
    ("14/11/2025", "not a date in the form YYYY-MM-DD"),
    ("2025-11-14 09:00:00", "has a time of day"),  # YAML makes this a datetime
    ("yesterday", "not a date in the form YYYY-MM-DD"),
])
def test_bad_date_names_file_line_and_key(tmp_path, value, words):
    path = _yaml(tmp_path, f"workers: 2\nas_of: {value}\n")
    with pytest.raises(ParamsError) as err:
        load_params(path)
    assert str(err.value).startswith(f"{path}, line 2: key 'as_of': ")
    assert words in str(err.value)


@pytest.mark.parametrize("text, key, words", [
    ("workers: two\n", "workers", "not a whole number"),
    ("workers: 0\n", "workers", "below the minimum of 1"),
    ("suppress_below: -1\n", "suppress_below", "below the minimum of 0"),
    ("suppress_below: true\n", "suppress_below", "not a whole number"),
    ("pseudonymise: 'yes'\n", "pseudonymise", "not true or false"),
    ("schools: [10001x]\n", "schools", "not a URN"),
    ("schools: {a: 1}\n", "schools", "not a list of URNs"),
    ("run_name: ../elsewhere\n", "run_name", "not a usable folder name"),
    ("term: [autumn]\n", "term", "not text"),
])
def test_wrong_kind_of_value(tmp_path, text, key, words):
    path = _yaml(tmp_path, text)
    with pytest.raises(ParamsError, match=rf"line 1: key '{key}': .*{words}"):
        load_params(path)


def test_duplicate_key_and_broken_yaml_and_missing_file(tmp_path):
    with pytest.raises(ParamsError, match=r"line 3: key 'as_of' is given twice \(first on line 1"):
        load_params(_yaml(tmp_path, "as_of: 2025-11-14\nworkers: 2\nas_of: 2025-11-21\n"))
    with pytest.raises(ParamsError, match=r"line 2: not valid YAML"):
        load_params(_yaml(tmp_path, "workers: 2\nas_of: 2025-11-14: x\n", "broken.yaml"))
    with pytest.raises(ParamsError, match="top level"):
        load_params(_yaml(tmp_path, "- 1\n- 2\n", "list.yaml"))
    with pytest.raises(ParamsError, match="no such parameters file"):
        load_params(tmp_path / "absent.yaml")


# --------------------------------------------------------------------------- the command line
def _one_error_line(result) -> str:
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1, result.output  # one sentence, no traceback
    assert "Traceback" not in result.output
    return lines[0]


def test_cli_unknown_key_exits_2_with_one_line(tmp_path):
    path = _yaml(tmp_path, "as_of: 2025-11-14\nsupress_below: 10\n")
    res = _invoke("--store", tmp_path / "store", "--params", path)
    assert res.exit_code == 2
    line = _one_error_line(res)
    assert line.startswith(f"error: {path}, line 2: unknown key 'supress_below'")
    assert "did you mean 'suppress_below'" in line


def test_cli_bad_date_in_file_exits_2(tmp_path):
    path = _yaml(tmp_path, "as_of: 2025-02-29\n")  # 2025 is not a leap year
    res = _invoke("--store", tmp_path / "store", "--params", path)
    assert res.exit_code == 2
    assert _one_error_line(res) == (f"error: {path}, line 1: key 'as_of': '2025-02-29' is not "
                                    f"a real date")


@pytest.mark.parametrize("args, words", [
    (["--as-of", "2025-11-31"], "--as-of: '2025-11-31' is not a real date"),
    (["--as-of", "14/11/2025"], "--as-of: '14/11/2025' is not a date in the form YYYY-MM-DD"),
    (["--schools", "100001,abc"], "--schools: 'abc' is not a URN"),
    (["--run-name", "a/b"], "--run-name: 'a/b' is not a usable folder name"),
])
def test_cli_bad_option_exits_2(tmp_path, args, words):
    res = _invoke("--store", tmp_path / "store", *args)
    assert res.exit_code == 2
    assert _one_error_line(res).startswith(f"error: {words}")


def test_cli_no_store_and_not_a_store(tmp_path):
    res = _invoke()
    assert res.exit_code == 2
    assert "no store given" in _one_error_line(res)
    res = _invoke("--store", tmp_path / "nowhere")
    assert res.exit_code == 2
    assert f"{tmp_path / 'nowhere'}: no store here" in _one_error_line(res)


# --------------------------------------------------------------------------- before the run
@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    """Two schools, one pupil each, one week of marks."""
    reg = RegisterBuilder(tmp_path_factory.mktemp("tiny"))
    reg.school(URN_A).school(URN_B)
    reg.pupil(UPN[0], URN_A).pupil(UPN[1], URN_B)
    reg.days(UPN[0], URN_A, "2024-09-09", "/ \\", "/ \\", "I I")
    reg.days(UPN[1], URN_B, "2024-09-09", "/ \\", "O O", "/ \\")
    return reg.ingest()


def _templates(tmp_path: Path, names=("school_report", "tsm_pack", "la_overview",
                                      "data_quality")) -> Path:
    d = tmp_path / "templates"
    d.mkdir(exist_ok=True)
    for n in names:
        shutil.copy(FIXTURES / f"{n}.ipynb", d / f"{n}.ipynb")
    return d


def test_missing_templates_are_named(tiny_store, tmp_path):
    tdir = _templates(tmp_path, ["school_report"])
    with pytest.raises(ReportingError) as err:
        run_batch(tiny_store.root, out=tmp_path / "out", templates_dir=tdir)
    assert str(err.value) == (f"{tdir}: missing report templates la_overview.ipynb, "
                              f"data_quality.ipynb, tsm_pack.ipynb")
    assert not (tmp_path / "out").exists()  # nothing was started
    # only what the run needs is required: one school, no LA reports, no TSM packs
    with pytest.raises(ReportingError, match="missing report template tsm_pack.ipynb$"):
        run_batch(tiny_store.root, out=tmp_path / "out", templates_dir=tdir, la=False)
    res = _invoke("--store", tiny_store.root, "--templates-dir", tdir, "--no-la")
    assert res.exit_code == 2
    assert _one_error_line(res) == f"error: {tdir}: missing report template tsm_pack.ipynb"


def test_template_without_parameters_cell_or_parameter(tiny_store, tmp_path):
    tdir = _templates(tmp_path)
    nb_path = tdir / "school_report.ipynb"
    nb = json.loads(nb_path.read_text())
    nb["cells"][0]["metadata"]["tags"] = []
    nb_path.write_text(json.dumps(nb))
    with pytest.raises(ReportingError, match="school_report.ipynb: no code cell is tagged "
                                             "'parameters'"):
        run_batch(tiny_store.root, out=tmp_path / "out", templates_dir=tdir)
    nb["cells"][0]["metadata"]["tags"] = ["parameters"]
    nb["cells"][0]["source"] = 'store = ""\nurn = ""\nas_of = ""\n'
    nb_path.write_text(json.dumps(nb))
    with pytest.raises(ReportingError, match="school_report.ipynb: its parameters cell does not "
                                             "define dfe_dir, suppress_below, pseudonymise, "
                                             "pseudonym_key"):
        run_batch(tiny_store.root, out=tmp_path / "out", templates_dir=tdir)


def test_unknown_school_and_existing_run(tiny_store, tmp_path):
    tdir = _templates(tmp_path)
    with pytest.raises(ReportingError, match=r"no school with URN 999999 in the store \(it has "
                                             rf"2: {URN_A}, {URN_B}\)"):
        run_batch(tiny_store.root, out=tmp_path / "out", schools=["999999"], templates_dir=tdir)
    (tmp_path / "out" / "monday").mkdir(parents=True)
    (tmp_path / "out" / "monday" / "index.html").write_text("an earlier run")
    with pytest.raises(ReportingError, match="a run of that name already exists"):
        run_batch(tiny_store.root, out=tmp_path / "out", templates_dir=tdir, run_name="monday")
    assert (tmp_path / "out" / "monday" / "index.html").read_text() == "an earlier run"
