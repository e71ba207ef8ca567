"""The batch runner end to end on a small synthetic LA (issue 4, item 2).

One batch (module fixture, 2 worker processes, through the ``attendance report`` command) has
two broken schools: school B's template raises on purpose in its last cell, school C's pupil
rows are removed from the store (genuinely broken data). Every other report must be made, the
two failures reported with their cell and error, the exit status non-zero. Expected cell
numbers are counted by hand from the fixture template (tests/report_templates), checksums are
recomputed here with hashlib.
"""

from __future__ import annotations

import errno
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from attendance_lib.reporting import run_batch
from attendance_lib.reporting.atomic import (
    TMP_MARK,
    atomic_path,
    atomic_write_text,
    clean_temporaries,
)
from attendance_lib.reporting.cli import register
from attendance_lib.reporting.kernel import (
    KernelLaunchError,
    ensure_kernel,
    is_launch_failure,
    kernel_dir,
    kernel_name,
    with_launch_retry,
)
from tests.conftest import synthetic_store

FIXTURES = Path(__file__).parent / "report_templates"
AS_OF = "2025-11-14"
RAISE_MESSAGE = "this school's report refuses to run"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def la(tmp_path_factory):
    """600 pupils, 3 schools, 1 year, loaded into a store."""
    base = tmp_path_factory.mktemp("reporting_la")
    _, urns = synthetic_store(base, pupils=600, schools=3, years=1, as_of=AS_OF, seed=11)
    assert len(urns) == 3
    return {"base": base, "store": base / "store", "urns": urns}


def _cli_app():
    app = typer.Typer()
    register(app)

    @app.command("other")
    def _other() -> None:
        pass

    return app


@pytest.fixture(scope="module")
def broken_run(la, tmp_path_factory):
    """The batch with school B's template raising and school C's pupils removed."""
    base = tmp_path_factory.mktemp("broken_run")
    a, b, c = la["urns"]
    store = base / "store"
    shutil.copytree(la["store"], store)
    pupils = pq.read_table(store / "pupils.parquet")
    kept = pupils.filter(pc.not_equal(pupils.column("urn").cast("string"), c))
    assert kept.num_rows < pupils.num_rows  # C had pupils, now it has none
    pq.write_table(kept, store / "pupils.parquet")
    (store / "store.duckdb").unlink(missing_ok=True)

    tdir = base / "templates"
    shutil.copytree(FIXTURES, tdir)
    nb = json.loads((tdir / "school_report.ipynb").read_text())
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "raise-b",
                        "metadata": {}, "outputs": [],
                        "source": f'if urn == "{b}":\n    raise RuntimeError("{RAISE_MESSAGE}")'})
    (tdir / "school_report.ipynb").write_text(json.dumps(nb))
    params = base / "run.yaml"
    params.write_text(f"as_of: {AS_OF}\nworkers: 2\ntemplates_dir: {tdir}\n")

    res = CliRunner().invoke(_cli_app(), ["report", "--store", str(store), "--out",
                                          str(base / "reports"), "--params", str(params),
                                          "--run-name", "broken"])
    run_dir = base / "reports" / "broken"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return {"res": res, "run_dir": run_dir, "manifest": manifest, "store": store,
            "urns": (a, b, c)}


def _visible_text(page: str) -> str:
    """The page's text as a reader sees it: no tags, styles or scripts; spaces collapsed."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _by_report(manifest) -> dict:
    return {(r["template"], r["urn"]): r for r in manifest["reports"]}


# --------------------------------------------------------------------------- failures
def test_broken_schools_fail_others_finish_and_exit_non_zero(broken_run):
    res, m = broken_run["res"], broken_run["manifest"]
    a, b, c = broken_run["urns"]
    assert res.exit_code == 1, res.output
    reps = _by_report(m)
    expected_failed = {("school_report", b), ("school_report", c)}
    assert len(reps) == 2 + 2 * 3  # LA overview, data quality, 3 x (school report, TSM pack)
    for key, rec in reps.items():
        assert rec["status"] == ("failed" if key in expected_failed else "ok"), (key, rec)
    assert m["status"] == "failed"
    assert m["counts"] == {"ok": 6, "failed": 2}


def test_failure_cell_and_error_read_from_papermill(broken_run):
    a, b, c = broken_run["urns"]
    reps = _by_report(broken_run["manifest"])
    # code cells of the fixture: parameters (In [1]), papermill's injected parameters (2),
    # imports and the store (3), headline figures (4), chart (5), the added raise (6)
    eb = reps[("school_report", b)]["error"]
    assert (eb["cell"], eb["ename"], eb["evalue"]) == (6, "RuntimeError", RAISE_MESSAGE)
    ec = reps[("school_report", c)]["error"]
    assert (ec["cell"], ec["ename"], ec["evalue"]) == (4, "ValueError",
                                                       f"no pupils on roll for school {c}")
    for key in (("school_report", b), ("school_report", c)):
        assert reps[key]["html"] is None
        assert reps[key]["kernel_attempts"] == 1  # a notebook error is never retried


def test_cli_prints_the_failure_table(broken_run):
    out = broken_run["res"].output
    a, b, c = broken_run["urns"]
    assert "6 of 8 reports made" in out
    assert "2 reports failed:" in out
    table = out[out.index("2 reports failed:"):]
    header = next(x for x in table.splitlines() if x.startswith("template"))
    assert header.split() == ["template", "school", "cell", "error"]
    rows = {tuple(x.split()[:3]): x for x in table.splitlines() if x.startswith("school_report")}
    assert set(rows) == {("school_report", b, "In"), ("school_report", c, "In")}
    assert re.search(rf"school_report\s+{b}\s+In \[6\]\s+RuntimeError: {RAISE_MESSAGE}", out)
    assert re.search(rf"school_report\s+{c}\s+In \[4\]\s+ValueError: no pupils on roll for "
                     rf"school {c}", out)
    assert f"index: {broken_run['run_dir'] / 'index.html'}" in out


def test_failed_notebook_kept_with_its_error_and_no_html(broken_run):
    run_dir = broken_run["run_dir"]
    a, b, c = broken_run["urns"]
    nb = json.loads((run_dir / "notebooks" / "schools" / f"{b}.ipynb").read_text())
    errors = [o for cell in nb["cells"] for o in cell.get("outputs", [])
              if o["output_type"] == "error"]
    assert [(e["ename"], e["evalue"]) for e in errors] == [("RuntimeError", RAISE_MESSAGE)]
    assert not (run_dir / "schools" / f"{b}.html").exists()
    assert not (run_dir / "schools" / f"{c}.html").exists()


def test_layout_of_the_run(broken_run):
    run_dir = broken_run["run_dir"]
    a, b, c = broken_run["urns"]
    for rel in ["index.html", "manifest.json", "la_overview.html", "data_quality.html",
                f"schools/{a}.html", f"tsm/{a}_tsm.html", f"tsm/{b}_tsm.html",
                f"tsm/{c}_tsm.html", "notebooks/la_overview.ipynb",
                "notebooks/data_quality.ipynb", f"notebooks/schools/{a}.ipynb",
                f"notebooks/schools/{c}.ipynb", f"notebooks/tsm/{a}_tsm.ipynb"]:
        assert (run_dir / rel).is_file(), rel
    # nothing half-written is left behind
    assert [p for p in run_dir.rglob("*") if TMP_MARK in p.name] == []


def test_kernel_pinned_to_this_interpreter(broken_run):
    run_dir = broken_run["run_dir"]
    nb = json.loads((run_dir / "notebooks" / "data_quality.ipynb").read_text())
    assert nb["metadata"]["kernelspec"]["name"] == kernel_name()
    text = "".join("".join(o.get("text", "")) for cell in nb["cells"]
                   for o in cell.get("outputs", []))
    assert f"kernel python: {sys.executable}" in text


# --------------------------------------------------------------------------- manifest
def test_manifest_records_parameters_checksums_code_and_timings(broken_run):
    m, store = broken_run["manifest"], broken_run["store"]
    expected = []
    for p in sorted(store.rglob("*")):
        if p.is_file() and not p.name.endswith(".duckdb"):
            expected.append({"path": p.relative_to(store).as_posix(),
                             "bytes": p.stat().st_size,
                             "sha256": hashlib.sha256(p.read_bytes()).hexdigest()})
    assert m["inputs"]["store"]["files"] == expected
    assert any(f["path"] == "pupils.parquet" for f in expected)
    tdir = Path(m["parameters"]["templates_dir"])
    assert m["inputs"]["templates"]["school_report"] == hashlib.sha256(
        (tdir / "school_report.ipynb").read_bytes()).hexdigest()
    p = m["parameters"]
    assert (p["as_of"], p["workers"], p["suppress_below"], p["pseudonymise"]) == (
        AS_OF, 2, 5, False)
    assert p["params_file"]["sha256"] == hashlib.sha256(
        Path(p["params_file"]["file"]).read_bytes()).hexdigest()
    assert m["code"]["version"] and m["code"]["python"]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    assert m["code"]["git_commit"] == (commit or None)
    assert m["started"] <= m["ended"] and m["seconds"] > 0
    for r in m["reports"]:
        assert r["status"] in ("ok", "failed") and r["seconds"] > 0
        assert r["started"] and r["ended"]
        assert r["parameters"]["as_of"] == AS_OF


def test_pseudonym_key_never_written_to_manifest(la, tmp_path, capsys):
    """The key is a secret: the manifest only says that one was given."""
    a = la["urns"][0]
    params = tmp_path / "p.yaml"
    params.write_text("pseudonymise: true\npseudonym_key: s3cret-key-value\n")
    res = run_batch(la["store"], out=tmp_path / "out", schools=[a], la=False, tsm=False,
                    params=params, templates_dir=FIXTURES, html=False, workers=1,
                    in_process=True, progress=True)
    assert res.ok
    assert "reports (1 worker): 100%" in capsys.readouterr().err  # the progress bar
    text = res.manifest.read_text()
    assert "s3cret-key-value" not in text
    assert json.loads(text)["parameters"]["pseudonym_key"] == "(given)"
    # html=False: the executed notebook only, and without the key papermill injected
    assert res.reports[0].ipynb.is_file() and res.reports[0].html is None
    executed = res.reports[0].ipynb.read_text()
    assert "s3cret-key-value" not in executed
    injected = next(c for c in json.loads(executed)["cells"]
                    if "injected-parameters" in c["metadata"].get("tags", []))
    assert 'pseudonym_key = ""' in "".join(injected["source"])
    assert 'pseudonymise = True' in "".join(injected["source"])
    assert not (res.run_dir / "schools").exists()


# --------------------------------------------------------------------------- index and HTML
def test_index_links_every_report_relatively_with_status(broken_run):
    run_dir = broken_run["run_dir"]
    a, b, c = broken_run["urns"]
    page = (run_dir / "index.html").read_text()
    hrefs = re.findall(r'href="([^"]+)"', page)
    for h in hrefs:
        assert not h.startswith(("/", "http:", "https:", "file:")), h
        assert (run_dir / h).is_file(), h
    made = {r["html"] for r in broken_run["manifest"]["reports"] if r["html"]}
    assert made <= set(hrefs) and len(made) == 6
    # the sections, and the failures with their error
    assert page.index("Local authority") < page.index("School reports") < page.index(
        "Targeting Support Meeting packs")
    text = _visible_text(page)
    assert f"RuntimeError: {RAISE_MESSAGE} in cell In [6]" in text
    assert f"ValueError: no pupils on roll for school {c} in cell In [4]" in text
    assert "6 of 8 reports ready; 2 did not complete" in text
    # written last
    last = max(p.stat().st_mtime_ns for p in run_dir.rglob("*") if p.is_file())
    assert (run_dir / "index.html").stat().st_mtime_ns == last


def test_school_html_has_no_code_and_embeds_its_chart(broken_run):
    run_dir = broken_run["run_dir"]
    a = broken_run["urns"][0]
    page = (run_dir / "schools" / f"{a}.html").read_text()
    text = _visible_text(page)
    assert f"School URN: {a}" in text  # the output is there...
    template = json.loads((FIXTURES / "school_report.ipynb").read_text())
    for cell in template["cells"]:
        if cell["cell_type"] == "code":  # ...but no line of the code
            for line in "".join(cell["source"]).splitlines():
                if len(line.strip()) > 12:
                    assert " ".join(line.split()) not in text, line
    # nbconvert's markup for a code cell's input (editor, highlighted code, In [n] prompt)
    for marker in ('class="jp-CodeMirrorEditor', 'class="highlight', 'class="jp-InputPrompt'):
        assert marker not in page
    assert page.count('src="data:image/png;base64,') == 1
    # nothing is fetched from elsewhere (no CDN scripts: works offline, leaks nothing)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)
    assert "@media print" in page


# --------------------------------------------------------------------------- kernel
def test_kernelspec_points_at_this_interpreter():
    from jupyter_client.kernelspec import KernelSpecManager

    name = ensure_kernel()
    assert name == kernel_name() and name.startswith("attendance-suite-")
    spec_file = kernel_dir(name) / "kernel.json"
    assert spec_file.parent.parent == Path(sys.prefix) / "share" / "jupyter" / "kernels"
    assert json.loads(spec_file.read_text())["argv"][0] == sys.executable
    assert KernelSpecManager().get_kernel_spec(name).argv[0] == sys.executable
    # unique per environment: another venv gets another name (ipykernel #1132)
    assert kernel_name("/elsewhere/.venv") != name
    assert ensure_kernel() == name  # idempotent


def test_launch_failures_are_classified():
    import zmq
    from papermill.exceptions import PapermillExecutionError

    assert is_launch_failure(zmq.ZMQError(errno.EADDRINUSE))
    assert is_launch_failure(RuntimeError("Kernel didn't respond in 60 seconds"))
    assert not is_launch_failure(RuntimeError("division by zero"))
    assert not is_launch_failure(ValueError("Kernel didn't respond"))
    assert not is_launch_failure(PapermillExecutionError(3, 3, "x", "ZMQError",
                                                         "Address already in use", []))


def test_retry_gives_up_after_three_launch_failures_and_never_retries_others():
    calls = []

    def always_timeout():
        calls.append(1)
        raise RuntimeError("Kernel didn't respond in 60 seconds")

    with pytest.raises(RuntimeError) as err:
        with_launch_retry(always_timeout, delay=0)
    assert len(calls) == 3 and "failed to start 3 times" in " ".join(err.value.__notes__)
    calls.clear()

    def user_error():
        calls.append(1)
        raise KeyError("x")

    with pytest.raises(KeyError):
        with_launch_retry(user_error, delay=0)
    assert len(calls) == 1
    assert issubclass(KernelLaunchError, RuntimeError)


def test_kernel_launch_failure_retried_and_succeeds(la, tmp_path, monkeypatch):
    """The first launch fails with ZMQ's 'Address already in use' (papermill #511)."""
    import papermill
    import zmq

    real = papermill.execute_notebook
    calls = []

    def flaky(*args, **kwargs):
        calls.append(kwargs.get("kernel_name"))
        if len(calls) == 1:
            raise zmq.ZMQError(errno.EADDRINUSE)
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    a = la["urns"][0]
    res = run_batch(la["store"], out=tmp_path / "out", schools=[a], la=False, tsm=False,
                    templates_dir=FIXTURES, workers=1, in_process=True, as_of=AS_OF)
    assert res.ok, res.failed
    assert calls == [kernel_name(), kernel_name()]
    assert res.reports[0].attempts == 2
    m = json.loads(res.manifest.read_text())
    assert m["reports"][0]["kernel_attempts"] == 2
    assert "Address already in use" in m["kernel_retries"][0]["errors"][0]
    assert (res.run_dir / "schools" / f"{a}.html").is_file()


def test_worker_process_killed_only_its_report_fails(la, tmp_path):
    """School B's notebook kills the worker process running it (as the out-of-memory killer
    would; the notebook runs on the worker's in-process kernel, so that is its own process):
    the pool breaks, the reports in flight are rerun one by one, A is made, B is recorded as
    failed, and the run still ends with its manifest and index."""
    a, b = la["urns"][:2]
    tdir = tmp_path / "templates"
    shutil.copytree(FIXTURES, tdir)
    nb = json.loads((tdir / "school_report.ipynb").read_text())
    nb["cells"].insert(1, {"cell_type": "code", "execution_count": None, "id": "kill-b",
                           "metadata": {}, "outputs": [],
                           "source": f'import os, signal\nif urn == "{b}":\n'
                                     f'    os.kill(os.getpid(), signal.SIGKILL)'})
    (tdir / "school_report.ipynb").write_text(json.dumps(nb))
    res = run_batch(la["store"], out=tmp_path / "out", schools=[a, b], la=False, tsm=False,
                    templates_dir=tdir, workers=2, html=False)
    status = {r.urn: r.status for r in res.reports}
    assert status == {a: "ok", b: "failed"}
    err = next(r.error for r in res.reports if r.urn == b)
    assert err["ename"] == "WorkerCrashed"
    assert (res.run_dir / "notebooks" / "schools" / f"{a}.ipynb").is_file()
    m = json.loads(res.manifest.read_text())
    assert m["status"] == "failed" and m["counts"] == {"ok": 1, "failed": 1}
    assert res.index.is_file()
    # the killed kernels' socket folder went with the run
    assert not Path(m["parameters"]["kernel_sockets"]).exists()


# --------------------------------------------------------------------------- atomic writes
def test_atomic_writer_leaves_no_partial_file_on_error(tmp_path):
    final = tmp_path / "report.html"
    with pytest.raises(OSError):
        with atomic_path(final) as tmp:
            tmp.write_text("<html>half a rep")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert not final.exists()
    assert list(tmp_path.iterdir()) == []
    atomic_write_text(final, "old report")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(final) as tmp:
            tmp.write_text("new but unfinish")
            raise KeyboardInterrupt
    assert final.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_atomic_writer_killed_mid_write(tmp_path):
    """A process killed (SIGKILL) while writing leaves the old file, never half the new one."""
    final = tmp_path / "schools" / "100001.html"
    atomic_write_text(final, "last week's report")
    code = (
        "import os, signal, sys\n"
        "from attendance_lib.reporting.atomic import atomic_path\n"
        f"with atomic_path({str(final)!r}) as tmp:\n"
        "    fh = open(tmp, 'w'); fh.write('<html>this week, half'); fh.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert proc.returncode == -9
    assert final.read_text() == "last week's report"
    left = [p for p in final.parent.iterdir() if p != final]
    assert len(left) == 1 and TMP_MARK in left[0].name and left[0].name.startswith(".")
    assert clean_temporaries(tmp_path) == 1
    assert [p.name for p in final.parent.iterdir()] == ["100001.html"]


def test_html_write_failing_midway_leaves_no_report(la, tmp_path, monkeypatch):
    """The disk fills while a school's HTML is written: no file of that name, report failed."""
    from attendance_lib.reporting import atomic

    real = atomic.atomic_write_bytes

    def disk_full_for_html(final, data):
        if str(final).endswith(".html") and "schools" in str(final):
            with atomic.atomic_path(final) as tmp:
                tmp.write_bytes(data[: len(data) // 2])
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(final, data)

    monkeypatch.setattr(atomic, "atomic_write_bytes", disk_full_for_html)
    a = la["urns"][0]
    res = run_batch(la["store"], out=tmp_path / "out", schools=[a], la=False, tsm=False,
                    templates_dir=FIXTURES, workers=1, in_process=True)
    assert not res.ok
    rec = res.reports[0]
    assert rec.status == "failed" and rec.error["ename"] == "OSError"
    assert "No space left on device" in rec.error["evalue"]
    assert not (res.run_dir / "schools" / f"{a}.html").exists()
    assert [p for p in res.run_dir.rglob("*") if TMP_MARK in p.name] == []
    assert (res.run_dir / "notebooks" / "schools" / f"{a}.ipynb").is_file()
    assert json.loads(res.manifest.read_text())["reports"][0]["status"] == "failed"


# --------------------------------------------------------------------------- warm workers
def _template_with(tmp_path, cells: list[str], at_end: bool = True) -> Path:
    tdir = tmp_path / "templates"
    shutil.copytree(FIXTURES, tdir)
    nb = json.loads((tdir / "school_report.ipynb").read_text())
    new = [{"cell_type": "code", "execution_count": None, "id": f"added-{i}", "metadata": {},
            "outputs": [], "source": src} for i, src in enumerate(cells)]
    nb["cells"] = nb["cells"] + new if at_end else nb["cells"][:1] + new + nb["cells"][1:]
    (tdir / "school_report.ipynb").write_text(json.dumps(nb))
    return tdir


def _outputs(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))


def test_one_warm_worker_gives_each_notebook_a_fresh_namespace(la, tmp_path):
    """Two schools' reports run one after the other in the same worker process (one worker):
    the second sees none of the first's variables, outputs or figures, and its cells are
    numbered from 1 again, as on a new kernel."""
    a, b = la["urns"][:2]
    tdir = _template_with(tmp_path, [
        "1 + 1  # an output: IPython shifts the last outputs into _, __, ___",
        "import os\nprint(f'worker pid {os.getpid()}')\n"
        "leftover = sorted(k for k in globals() if k.startswith('secret_'))\n"
        "leftover += [k for k in ('__', '___') if not isinstance(globals().get(k, ''), str)]\n"
        "print(f'leftover {leftover}; Out has {list(Out)}; figures {plt.get_fignums()}')\n"
        "if leftover:\n    raise AssertionError(f'another report left {leftover}')",
        "secret_pupils = st.pupils()  # this school's rows\nsecret_urn = {'u': urn}\n"
        "fig2 = plt.figure()\nsecret_pupils.head(1)"])
    res = run_batch(la["store"], out=tmp_path / "out", schools=[a, b], la=False, tsm=False,
                    templates_dir=tdir, workers=1, html=False, as_of=AS_OF)
    assert res.ok, [(r.urn, r.error) for r in res.failed]
    texts = {r.urn: _outputs(r.ipynb) for r in res.reports}
    pids = {u: re.search(r"worker pid (\d+)", t).group(1) for u, t in texts.items()}
    assert pids[a] == pids[b]  # the same process ran both: the check below means something
    for u in (a, b):  # only its own output, In [6] (1 + 1), in the output cache
        assert "leftover []; Out has [6]; figures []" in texts[u], texts[u]
    # In [n] restarts at 1: parameters (1), injected (2), three fixture cells (3-5), added (6-8)
    for r in res.reports:
        nb = json.loads(r.ipynb.read_text())
        counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
        assert counts == [1, 2, 3, 4, 5, 6, 7, 8], counts


def test_a_cell_that_hangs_is_stopped_at_the_cell_timeout(la, tmp_path):
    """School B's notebook loops for ever in its last cell: with a 3-second cell timeout it is
    stopped there, reported with that cell and ``CellTimeout``, and A's report is made."""
    import time

    a, b = la["urns"][:2]
    tdir = _template_with(tmp_path, [f'if urn == "{b}":\n    while True:\n        pass'])
    t0 = time.perf_counter()
    res = run_batch(la["store"], out=tmp_path / "out", schools=[a, b], la=False, tsm=False,
                    templates_dir=tdir, workers=2, html=False, as_of=AS_OF, cell_timeout=3)
    assert time.perf_counter() - t0 < 60
    status = {r.urn: r.status for r in res.reports}
    assert status == {a: "ok", b: "failed"}
    err = next(r.error for r in res.reports if r.urn == b)
    # parameters (1), injected (2), the fixture's three cells (3-5), the loop (6)
    assert (err["cell"], err["ename"]) == (6, "CellTimeout"), err
    assert "cell timeout" in err["evalue"]


def test_run_shares_la_figures_computed_once(la, tmp_path):
    """The runner writes the LA headline and the published comparison once per run; the
    report helpers read them only for the same store, date and DfE folder, else compute."""
    import pandas as pd

    from attendance_lib.reporting import shared
    from attendance_lib.store import Store
    from attendance_lib.views import la as la_views
    from attendance_lib.views import published

    store = la["store"]
    st = Store(store)
    schools = st.schools()
    pupils = set(st.pupils()["upn"])
    st.close()
    keys = sorted({(str(p).lower(), str(c)) for p, c in zip(schools["phase"], schools["la_code"],
                                                           strict=True)})
    out = shared.prepare(tmp_path / "run", store, AS_OF, published.dfe.published_folder(None),
                         keys)
    meta = json.loads((out / "shared.json").read_text())
    assert meta["as_of"] == AS_OF and len(meta["benchmarks"]) == len(keys)
    # only aggregates: no file of the folder names a pupil
    for f in out.iterdir():
        data = f.read_bytes()
        assert not [u for u in pupils if u.encode() in data], f.name
    head = pd.read_parquet(out / "la_headline.parquet")
    assert len(head) == 1 and "upn" not in head.columns
    # the LA's pupils on roll, counted here from the pupils' marks in the year to date
    n = Store(store).query("SELECT count(DISTINCT (upn, urn)) AS n FROM marks WHERE date >= "
                           "'2025-09-01' AND date <= ?", [AS_OF])["n"][0]
    assert int(head["enrolments"][0]) == int(n)
    # a doctored shared file is what the helper returns: proof that the reports read it...
    head.assign(enrolments=123456).to_parquet(out / "la_headline.parquet")
    assert int(shared.la_headline(out, store, AS_OF)["enrolments"][0]) == 123456
    # ...but never for another date or store, nor without the folder
    assert int(shared.la_headline(out, store, "2025-11-07")["enrolments"][0]) != 123456
    assert int(shared.la_headline("", store, AS_OF)["enrolments"][0]) == int(n)
    phase, code = keys[0]
    got = shared.england_benchmark(out, AS_OF, phase=phase, la_code=code)
    want = published.published_benchmark(AS_OF, phase=phase, la_code=code)
    pd.testing.assert_frame_equal(got.table, want.table)
    assert got.notes == want.notes
    assert la_views.la_headline(store, AS_OF)["enrolments"][0] == int(n)


def test_la_analyses_run_when_possible_and_can_be_switched_off(la, tmp_path):
    """The optional LA analyses (here the impact report; the store has an intervention log)
    run in the batch by default; ``analyses=False`` (``--no-analyses``, a weekly run) skips
    them with the reason in the manifest, and the other reports are unchanged."""
    import nbformat

    tdir = tmp_path / "templates"
    shutil.copytree(FIXTURES, tdir)
    nb = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nb.cells = [nbformat.v4.new_code_cell('store = ""\nas_of = ""\nsuppress_below = 5',
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell('print("impact report for", as_of)')]
    nbformat.write(nb, tdir / "intervention_impact.ipynb")
    a = la["urns"][0]
    runs = {}
    for analyses in (True, False):
        res = run_batch(la["store"], out=tmp_path / f"out{analyses}", schools=[a], tsm=False,
                        templates_dir=tdir, html=False, workers=1, in_process=True,
                        analyses=analyses)
        assert res.ok
        runs[analyses] = (sorted(r.template for r in res.reports),
                          json.loads(res.manifest.read_text()))
    assert runs[True][0] == ["data_quality", "intervention_impact", "la_overview",
                             "school_report"]
    assert "intervention_impact" not in runs[True][1]["skipped"]
    assert runs[False][0] == ["data_quality", "la_overview", "school_report"]
    assert "--no-analyses" in runs[False][1]["skipped"]["intervention_impact"]
    assert runs[False][1]["parameters"]["analyses"] is False
