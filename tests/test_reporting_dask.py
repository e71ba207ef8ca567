"""The Dask executor (issue 9, item 4): the same report set as the local process pool.

One small synthetic LA (3 schools, 1 year) and the fixture templates (tests/report_templates)
with two faults added to the school report: school B's notebook raises in its last cell, school
C's notebook kills the process running it (as the out-of-memory killer would). The batch runs
once with the local executor (2 spawn processes) and once on a Dask ``LocalCluster`` of 2 worker
processes. Both must make the same files, give every report the same status and error, record
the same manifest entries (times and the executor apart), print the same failure table and end
with status "failed". Cell numbers are counted by hand from the fixture template.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from attendance_lib.reporting import failure_table, run_batch
from tests.conftest import synthetic_store

FIXTURES = Path(__file__).parent / "report_templates"
AS_OF = "2025-11-14"
RAISE_MESSAGE = "this school's report refuses to run"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("dask_runs")
    _, urns = synthetic_store(base, pupils=450, schools=3, years=1, as_of=AS_OF, seed=19)
    a, b, c = urns

    tdir = base / "templates"
    shutil.copytree(FIXTURES, tdir)
    nb = json.loads((tdir / "school_report.ipynb").read_text())
    nb["cells"].insert(1, {"cell_type": "code", "execution_count": None, "id": "kill-c",
                           "metadata": {}, "outputs": [],
                           "source": f'import os, signal\nif urn == "{c}":\n'
                                     f'    os.kill(os.getpid(), signal.SIGKILL)'})
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "raise-b",
                        "metadata": {}, "outputs": [],
                        "source": f'if urn == "{b}":\n    raise RuntimeError("{RAISE_MESSAGE}")'})
    (tdir / "school_report.ipynb").write_text(json.dumps(nb))

    out = {}
    for executor in ("local", "dask"):
        out[executor] = run_batch(store=base / "store", out=base / "reports", as_of=AS_OF,
                                  workers=2, templates_dir=tdir, run_name=executor,
                                  progress=False, executor=executor)
    return {"urns": (a, b, c), "local": out["local"], "dask": out["dask"]}


def _files(run_dir: Path) -> set[str]:
    return {p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file()}


def _manifest(result) -> dict:
    return json.loads(result.manifest.read_text())


_VOLATILE = ("seconds", "started", "ended")


def _entry(r: dict) -> dict:
    return {k: v for k, v in r.items() if k not in _VOLATILE}


def test_same_report_set_statuses_and_errors(runs):
    a, b, c = runs["urns"]
    for name in ("local", "dask"):
        res = runs[name]
        assert res.status == "failed" and not res.ok
        status = {(r.template, r.urn): r.status for r in res.reports}
        assert status == {("la_overview", None): "ok", ("data_quality", None): "ok",
                          ("school_report", a): "ok", ("school_report", b): "failed",
                          ("school_report", c): "failed", ("tsm_pack", a): "ok",
                          ("tsm_pack", b): "ok", ("tsm_pack", c): "ok"}, name
        errors = {r.urn: r.error for r in res.failed}
        # code cells: parameters (In [1]), papermill's injected parameters (2), the kill (3),
        # imports and store (4), headline (5), chart (6), the raise (7)
        assert (errors[b]["cell"], errors[b]["ename"], errors[b]["evalue"]) == (
            7, "RuntimeError", RAISE_MESSAGE), name
        assert errors[c]["ename"] == "WorkerCrashed" and errors[c]["cell"] is None, name
    assert _files(runs["local"].run_dir) == _files(runs["dask"].run_dir)
    assert f"schools/{a}.html" in _files(runs["dask"].run_dir)
    assert f"schools/{b}.html" not in _files(runs["dask"].run_dir)
    assert f"notebooks/schools/{b}.ipynb" in _files(runs["dask"].run_dir)  # error cell kept


def test_same_manifest_entries_apart_from_times_and_executor(runs):
    ml, md = _manifest(runs["local"]), _manifest(runs["dask"])
    assert ml["status"] == md["status"] == "failed"
    assert ml["counts"] == md["counts"] == {"ok": 6, "failed": 2}
    shared_path = {"shared"}  # each run's own folder of shared LA figures

    def entries(m):
        return sorted(json.dumps({**_entry(r), "parameters": {
            k: v for k, v in r["parameters"].items() if k not in shared_path}},
            sort_keys=True) for r in m["reports"])

    assert entries(ml) == entries(md)
    assert ml["inputs"] == md["inputs"]
    assert ml["executor"]["name"] == "local" and ml["executor"]["scheduler"] is None
    assert md["executor"]["name"] == "dask" and md["executor"]["scheduler"] == "LocalCluster"
    assert re.fullmatch(r"tcp://127\.0\.0\.1:\d+", md["executor"]["address"])
    assert md["executor"]["workers"] == 2


def test_same_html_apart_from_the_run_name(runs):
    a = runs["urns"][0]

    def text(result, rel):
        page = (result.run_dir / rel).read_text(encoding="utf-8")
        page = re.sub(r'id="cell-id=[^"]*"', "", page)
        page = re.sub(r"made \d{2} \w{3} \d{4} \d{2}:\d{2}", "", page)
        return page.replace("run local ·", "run X ·").replace("run dask ·", "run X ·")

    for rel in (f"schools/{a}.html", f"tsm/{a}_tsm.html", "la_overview.html"):
        assert text(runs["local"], rel) == text(runs["dask"], rel), rel


def test_failure_table_and_index_name_the_failures(runs):
    a, b, c = runs["urns"]
    for name in ("local", "dask"):
        table = failure_table(runs[name].reports)
        assert re.search(rf"school_report\s+{b}\s+In \[7\]\s+RuntimeError: {RAISE_MESSAGE}",
                         table), table
        assert re.search(rf"school_report\s+{c}\s+WorkerCrashed: ", table), table
        index = runs[name].index.read_text(encoding="utf-8")
        assert "6 of 8 reports ready" in index and "2 did not complete" in index


def test_unknown_executor_and_unreachable_scheduler_are_clear_errors(runs, tmp_path):
    from attendance_lib.reporting import ReportingError

    store = runs["local"].manifest.parent.parent.parent / "store"
    with pytest.raises(ReportingError, match="unknown executor 'spark'"):
        run_batch(store=store, out=tmp_path, as_of=AS_OF, executor="spark", progress=False)
    with pytest.raises(ReportingError, match="--scheduler is for --executor dask"):
        run_batch(store=store, out=tmp_path, as_of=AS_OF, scheduler="tcp://127.0.0.1:9",
                  progress=False)


def test_cli_executor_options_are_checked(runs, tmp_path):
    import typer
    from typer.testing import CliRunner

    from attendance_lib.reporting.cli import register

    app = typer.Typer()
    register(app)

    @app.command("other")
    def _other() -> None:
        pass

    store = str(runs["local"].manifest.parent.parent.parent / "store")
    res = CliRunner().invoke(app, ["report", "--store", store, "--executor", "spark"])
    assert res.exit_code == 2 and "--executor: 'spark' is not one of local, dask" in res.output
    res = CliRunner().invoke(app, ["report", "--store", store, "--scheduler",
                                   "tcp://127.0.0.1:9"])
    assert res.exit_code == 2 and "--scheduler: only with --executor dask" in res.output


def test_unreachable_scheduler_is_one_clear_error():
    from attendance_lib.reporting import ReportingError
    from attendance_lib.reporting.executors import DaskExecutor

    ex = DaskExecutor(2, "tcp://127.0.0.1:9", connect_timeout="2s")  # nobody listens there
    with pytest.raises(ReportingError, match=r"cannot reach the Dask scheduler at "
                                             r"tcp://127\.0\.0\.1:9"):
        ex.open()
