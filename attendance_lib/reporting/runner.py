"""The batch runner: every report of a run, in parallel worker processes (issue 4, product.md
"Reports").

:func:`run_batch` checks everything it can before starting (the store, the URNs, the date,
the templates and their ``parameters`` cells), registers the project's kernel
(:mod:`.kernel`), computes the LA-wide figures every school report shows once for the run
(:mod:`.shared`), then executes the LA reports and, per school, the school report and the
Targeting Support Meeting pack with an executor (:mod:`.executors`): a pool of ``spawn``
worker processes on this machine (default) or a Dask cluster. Each worker process runs one
notebook at a time (papermill's ``cwd`` is never shared by threads, papermill #473) on its
warm in-process kernel, with a fresh namespace per notebook (:mod:`.inprocess`). A report
that fails is recorded -- template, school, cell, error name and message read from
``PapermillExecutionError`` (papermill #344, #407) -- and the others carry on. Each output is
written atomically (:mod:`.atomic`); ``manifest.json`` is rewritten after every report and
``index.html`` is written last, so a folder with an index is a finished run.

Layout of one run (``<out>/<run>/``)::

    index.html  manifest.json  la_overview.html  data_quality.html
    schools/<URN>.html         tsm/<URN>_tsm.html
    notebooks/...              executed notebooks (personal data: they hold pupil rows)
    shared/...                 LA-wide aggregates computed once (no pupil data)
"""

from __future__ import annotations

import ast
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .params import (
    ALLOWED_KEYS,
    ParamsError,
    check_date,
    check_run_name,
    check_urns,
    load_params,
)

__all__ = ["run_batch", "RunResult", "ReportRecord", "ReportingError", "TEMPLATES",
           "TEMPLATE_PARAMETERS", "failure_table", "template_parameters"]


#: the error recorded for a report whose worker process died, whatever the executor
WORKER_DIED = ("the worker process running this report died (killed, out of memory, or a "
               "cell that ignored the cell timeout)")


class ReportingError(ValueError):
    """The run cannot start (no store, unknown school, missing template...): one sentence."""


@dataclass(frozen=True)
class _Template:
    kind: str  # "la" or "school"
    group: str  # index section: "la", "schools", "tsm"
    html: str  # relative output path (``{urn}`` filled in)
    label: str
    #: run only when the templates folder has it (the LA analyses: early warning, impact)
    optional: bool = False


#: the templates a batch runs, in ``notebooks/`` (reports_contract.md)
TEMPLATES: dict[str, _Template] = {
    "la_overview": _Template("la", "la", "la_overview.html", "LA overview"),
    "data_quality": _Template("la", "la", "data_quality.html", "Data quality"),
    "early_warning": _Template("la", "la", "early_warning.html", "Early-warning model report",
                               optional=True),
    "intervention_impact": _Template("la", "la", "intervention_impact.html",
                                     "Intervention impact", optional=True),
    "school_report": _Template("school", "schools", "schools/{urn}.html", "School report"),
    "tsm_pack": _Template("school", "tsm", "tsm/{urn}_tsm.html",
                          "Targeting Support Meeting pack"),
}
_PRIVACY = ("suppress_below", "pseudonymise", "pseudonym_key")
#: the parameters the runner passes to each template (every one, always)
TEMPLATE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "school_report": ("store", "urn", "as_of", "dfe_dir", *_PRIVACY, "model_dir"),
    "tsm_pack": ("store", "urn", "as_of", "dfe_dir", *_PRIVACY, "term"),
    "la_overview": ("store", "as_of", "dfe_dir", *_PRIVACY),
    "data_quality": ("store", "as_of", *_PRIVACY),
    "early_warning": ("store", "as_of", "model_dir", "suppress_below"),
    "intervention_impact": ("store", "as_of", "suppress_below"),
}
#: parameters passed only to templates whose parameters cell defines them
OPTIONAL_PARAMETERS: dict[str, tuple[str, ...]] = {
    "school_report": ("shared",), "tsm_pack": ("shared",)}
_DEFAULTS: dict[str, Any] = {"workers": None, "html": True, "la": True, "tsm": True,
                             "analyses": True,
                             "suppress_below": 5, "pseudonymise": False, "pseudonym_key": "",
                             "term": "", "dfe_dir": None, "templates_dir": None, "model_dir": None}


@dataclass
class ReportRecord:
    """One report of a run and how it went."""

    template: str
    urn: str | None
    status: str  # "ok", "failed" or "not run"
    html: Path | None
    ipynb: Path | None
    seconds: float | None = None
    error: dict[str, Any] | None = None
    attempts: int = 0
    started: str | None = None
    ended: str | None = None
    school_name: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return TEMPLATES[self.template].label

    def error_text(self) -> str:
        if not self.error:
            return ""
        e = self.error
        return f"{e.get('ename')}: {e.get('evalue')}" if e.get("evalue") else str(e.get("ename"))


@dataclass
class RunResult:
    """What :func:`run_batch` did: the run folder, its index and manifest, every report."""

    run_dir: Path
    index: Path
    manifest: Path
    reports: list[ReportRecord]
    as_of: str
    seconds: float
    status: str = "ok"

    @property
    def failed(self) -> list[ReportRecord]:
        return [r for r in self.reports if r.status != "ok"]

    @property
    def ok(self) -> bool:
        return not self.failed and self.status == "ok"


# --------------------------------------------------------------------------- checks
def template_parameters(path: Path) -> set[str]:
    """Names assigned in the notebook's cell tagged ``parameters``.

    Raises :class:`ReportingError` when there is no such cell: papermill would only warn and
    inject the values above the defaults, which then overwrite them (papermill #245, #333).
    """
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportingError(f"{path}: not a readable notebook ({exc})") from None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get(
                "tags", []):
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            try:
                tree = ast.parse(src)
            except SyntaxError as exc:
                raise ReportingError(f"{path}: the parameters cell is not valid Python "
                                     f"(line {exc.lineno}: {exc.msg})") from None
            names = set()
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else (
                    [node.target] if isinstance(node, ast.AnnAssign) else [])
                for t in targets:
                    if isinstance(t, ast.Name):
                        names.add(t.id)
            return names
    raise ReportingError(f"{path}: no code cell is tagged 'parameters' (papermill would put "
                         f"the run's values above the template's defaults, which then win)")


def _check_templates(templates_dir: Path, names: list[str]) -> dict[str, Path]:
    if not templates_dir.is_dir():
        raise ReportingError(f"{templates_dir}: the templates folder does not exist")
    paths = {n: templates_dir / f"{n}.ipynb" for n in names}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        raise ReportingError(f"{templates_dir}: missing report template"
                             f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    for name, path in paths.items():
        lacking = [p for p in TEMPLATE_PARAMETERS[name] if p not in template_parameters(path)]
        if lacking:
            raise ReportingError(f"{path}: its parameters cell does not define "
                                 f"{', '.join(lacking)} (the runner passes "
                                 f"{', '.join(TEMPLATE_PARAMETERS[name])})")
    return paths


def _store_schools(store) -> dict[str, str | None]:
    """URN -> school name for every school in the store (schools table, else the marks)."""
    df = store.schools()
    if len(df):
        names = df["name"] if "name" in df.columns else [None] * len(df)
        return {str(u): (None if n is None or str(n) in ("", "nan", "<NA>") else str(n))
                for u, n in zip(df["urn"], names, strict=True)}
    if store.has("enrolment_weeks"):
        urns = store.query("SELECT DISTINCT urn FROM marks ORDER BY urn")["urn"]
        return {str(u): None for u in urns}
    return {}


# --------------------------------------------------------------------------- running
def _pool(workers: int) -> ProcessPoolExecutor:
    from .worker import init_worker

    return ProcessPoolExecutor(max_workers=workers, initializer=init_worker,
                               mp_context=multiprocessing.get_context("spawn"))


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds") if ts else None


def _failed_record(job: dict, ename: str, evalue: str) -> dict[str, Any]:
    return {"id": job["id"], "status": "failed", "attempts": 0,
            "error": {"cell": None, "cell_index": None, "ename": ename, "evalue": evalue,
                      "source": None}}


def _run_pool(queue: deque, workers: int, on_done) -> list[dict]:
    """Run queued jobs in one pool, at most ``workers`` in flight (so a crash can only involve
    those). Returns the jobs in flight when a worker process died ([] if none did)."""
    from .worker import execute_report

    with _pool(min(workers, len(queue))) as pool:
        inflight: dict = {}
        try:
            while queue or inflight:
                while queue and len(inflight) < workers:
                    job = queue.popleft()
                    inflight[pool.submit(execute_report, job)] = job
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                crashed = []
                for fut in done:
                    job = inflight.pop(fut)
                    try:
                        rec = fut.result()
                    except BrokenProcessPool:
                        crashed.append(job)
                        continue
                    except Exception as exc:  # noqa: BLE001 - e.g. a job that cannot be sent
                        rec = _failed_record(job, type(exc).__name__, str(exc))
                    on_done(job, rec)
                if crashed:
                    for fut, job in inflight.items():  # finished just before the crash?
                        if fut.done() and not fut.cancelled() and fut.exception() is None:
                            on_done(job, fut.result())
                        else:
                            crashed.append(job)
                    return crashed
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return []


def _run_alone(job: dict) -> dict[str, Any]:
    """Run one job in a pool of its own: if its worker dies again, it is the culprit."""
    from .worker import execute_report

    with _pool(1) as pool:
        try:
            return pool.submit(execute_report, job).result()
        except BrokenProcessPool:
            return _failed_record(job, "WorkerCrashed", WORKER_DIED)


def _execute_all(jobs: list[dict], workers: int, on_done, in_process: bool = False) -> None:
    """Run every job; call ``on_done(job, record)`` as each finishes.

    Notebook and kernel errors are recorded by the worker. A worker *process* that dies (a
    crash, the out-of-memory killer) breaks the whole pool: the jobs that were in flight are
    then run again one by one, each in a fresh pool of its own, so the one that kills its
    worker is identified and recorded as failed while the innocent ones complete; the rest of
    the queue carries on in a new pool.
    """
    from .worker import execute_report

    if in_process:  # for debugging and tests of the worker itself
        for job in jobs:
            on_done(job, execute_report(job))
        return
    queue = deque(jobs)
    while queue:
        for job in _run_pool(queue, workers, on_done):
            on_done(job, _run_alone(job))


def _relative(path: Path | None, root: Path) -> str | None:
    return path.relative_to(root).as_posix() if path is not None else None


def _settings(given: dict[str, Any], params) -> tuple[dict[str, Any], dict | None]:
    """Defaults, then the YAML, then the arguments given; each value checked."""
    from .manifest import file_checksum

    cfg: dict[str, Any] = dict(_DEFAULTS)
    params_info = None
    if params is not None:
        cfg.update(load_params(params))
        params_info = {"file": str(Path(params).resolve()),
                       "sha256": file_checksum(Path(params))}
    cfg.update({k: v for k, v in given.items() if v is not None})
    try:
        cfg["schools"] = check_urns(cfg.get("schools"))
        cfg["as_of"] = check_date(cfg.get("as_of"))
        if cfg.get("run_name"):
            cfg["run_name"] = check_run_name(cfg["run_name"])
    except ValueError as exc:
        raise ReportingError(str(exc)) from None
    for key in ("suppress_below", "workers"):
        v = cfg.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)
                              or v < ALLOWED_KEYS[key].minimum):
            raise ReportingError(f"{key} must be a whole number of at least "
                                 f"{ALLOWED_KEYS[key].minimum}, not {v!r}")
    if not cfg.get("store"):
        raise ReportingError("no store given (--store, or 'store:' in the parameters file)")
    return cfg, params_info


@dataclass
class _Plan:
    store: Path
    latest: str
    as_of: str
    names: dict[str, str | None]  # URN -> school name, every school in the store
    urns: list[str]  # the schools reported on
    templates_dir: Path
    templates: dict[str, Path]  # the templates this run needs
    run_name: str
    run_dir: Path
    workers: int
    values: dict[str, Any]  # template parameters other than urn
    skipped: dict[str, str] = field(default_factory=dict)  # optional template -> why not run
    #: (phase, la_code) per school URN, for the run's shared LA figures
    school_keys: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


def _not_ready(template: str, store, as_of: str) -> str | None:
    """Why an optional LA analysis cannot run on this store (None: it can).

    The early-warning report needs two complete academic years by ``as_of`` (train on one, test
    on a later one); the impact report needs an intervention log.
    """
    if template == "early_warning":
        from ..early_warning.evaluate import test_and_training_years
        from ..early_warning.points import school_calendar

        try:
            test_and_training_years(store, school_calendar(store), as_of)
        except ValueError as exc:
            return str(exc)
    if template == "intervention_impact":
        if not store.has("interventions") or store.interventions().empty:
            return "the store holds no interventions (load them with 'attendance ingest " \
                   "--interventions FILE')"
    return None


def _school_keys(store) -> dict[str, tuple[str | None, str | None]]:
    """URN -> (phase in lower case, la_code) as the reports see them (``ReportParams.phase``,
    :func:`attendance_lib.views.la.la_code` of a one-school store)."""
    import pandas as pd

    df = store.schools()
    out = {}
    for _, row in df.iterrows():
        ph, code = row.get("phase"), row.get("la_code")
        out[str(row["urn"])] = (str(ph).lower() if pd.notna(ph) else None,
                                str(code) if pd.notna(code) else None)
    return out


def _plan(cfg: dict[str, Any]) -> _Plan:
    """Check the store, schools, date, templates and run folder; nothing is written."""
    from ..paths import dfe_dir, repo_root, reports_dir
    from ..store import Store

    st = Store(Path(cfg["store"]).resolve()).require()
    try:
        latest = st.latest_date()
        if latest is None:
            raise ReportingError(f"{st.root}: the store holds no marks yet; load some with "
                                 f"'attendance ingest'")
        names = _store_schools(st)
        school_keys = _school_keys(st)
    finally:
        st.close()
    the_date = cfg["as_of"] or latest.isoformat()
    urns = list(names)
    if cfg["schools"] is not None:
        unknown = [u for u in cfg["schools"] if u not in names]
        if unknown:
            more = " ..." if len(names) > 8 else ""
            raise ReportingError(f"{st.root}: no school with URN {', '.join(unknown)} in the "
                                 f"store (it has {len(names)}: {', '.join(urns[:8])}{more})")
        urns = cfg["schools"]

    tdir = Path(cfg["templates_dir"] or repo_root() / "notebooks").resolve()
    skipped: dict[str, str] = {}
    la_wanted = []
    for t, spec in TEMPLATES.items():
        if spec.kind != "la" or not cfg["la"]:
            continue
        if spec.optional:
            if not (tdir / f"{t}.ipynb").is_file():
                continue
            if not cfg["analyses"]:
                skipped[t] = "the LA analyses were switched off for this run (--no-analyses)"
                continue
            why = _not_ready(t, st, the_date)
            if why:
                skipped[t] = why
                continue
        la_wanted.append(t)
    wanted = la_wanted + (["school_report"] if urns else []) + \
        (["tsm_pack"] if urns and cfg["tsm"] else [])
    if not wanted:
        raise ReportingError("nothing to run: no school and the LA reports switched off")
    templates = _check_templates(tdir, wanted)

    out_root = Path(cfg.get("out") or reports_dir()).resolve()
    name = cfg.get("run_name") or f"{the_date}_{datetime.now():%Y%m%d-%H%M%S}"
    run_dir = out_root / name
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ReportingError(f"{run_dir}: a run of that name already exists; choose another "
                             f"run name")
    dfe = str(Path(cfg["dfe_dir"]).resolve()) if cfg.get("dfe_dir") else str(dfe_dir())
    values = {"store": str(st.root), "as_of": the_date, "dfe_dir": dfe,
              "suppress_below": int(cfg["suppress_below"]),
              "pseudonymise": bool(cfg["pseudonymise"]),
              "pseudonym_key": str(cfg["pseudonym_key"] or ""), "term": str(cfg["term"] or ""),
              "model_dir": str(Path(cfg["model_dir"]).resolve()) if cfg.get("model_dir") else ""}
    if values["model_dir"] and not Path(values["model_dir"]).is_dir():
        raise ReportingError(f"{values['model_dir']}: no early-warning model folder there "
                             f"(make one with 'attendance model train')")
    for t, why in skipped.items():
        print(f"skipped {TEMPLATES[t].label.lower()}: {why}", file=sys.stderr)
    return _Plan(store=st.root, latest=latest.isoformat(), as_of=the_date, names=names,
                 urns=urns, templates_dir=tdir, templates=templates, run_name=name,
                 run_dir=run_dir, workers=cfg["workers"] or max(1, min(os.cpu_count() or 1, 4)),
                 values=values, skipped=skipped, school_keys=school_keys)


def _jobs(plan: _Plan, html: bool, cell_timeout: int | None
          ) -> tuple[list[dict[str, Any]], dict[int, ReportRecord]]:
    """One job (plain data, absolute paths) and one record per report, LA reports first."""
    from .. import __version__
    from .kernel import ensure_kernel, kernel_spec

    kernel = ensure_kernel()
    display = kernel_spec()["display_name"]
    footer = (f"attendance-suite {__version__} · run {plan.run_name} · figures to "
              f"{plan.as_of} · made {datetime.now():%d %b %Y %H:%M}")
    jobs: list[dict[str, Any]] = []
    records: dict[int, ReportRecord] = {}
    for tname, path in plan.templates.items():
        spec = TEMPLATES[tname]
        for urn in ([None] if spec.kind == "la" else plan.urns):
            rel_html = spec.html.format(urn=urn)
            p = {k: (urn if k == "urn" else plan.values[k]) for k in TEMPLATE_PARAMETERS[tname]}
            defined = template_parameters(path) if tname in OPTIONAL_PARAMETERS else set()
            p.update({k: plan.values[k] for k in OPTIONAL_PARAMETERS.get(tname, ())
                      if k in defined and k in plan.values})
            assert all(isinstance(v, str | int | bool) for v in p.values()), p
            school = plan.names.get(urn) if urn else None
            title = f"{spec.label}: {school + ' ' if school else ''}{urn or ''}".strip()
            jobs.append({"id": len(jobs), "template": str(path), "parameters": p,
                         "kernel": kernel, "kernel_display": display,
                         "cwd": str(plan.templates_dir),
                         "ipynb": str(plan.run_dir / "notebooks" /
                                      Path(rel_html).with_suffix(".ipynb")),
                         "html": str(plan.run_dir / rel_html) if html else None,
                         "title": f"{title} (to {plan.as_of})", "footer": footer,
                         "cell_timeout": cell_timeout})
            shown = {k: ("(given)" if k == "pseudonym_key" and v else v) for k, v in p.items()}
            records[len(jobs) - 1] = ReportRecord(tname, urn, "not run", None, None,
                                                  school_name=school, parameters=shown)
    return jobs, records


def run_batch(store: str | Path | None = None, out: str | Path | None = None,
              schools: list[str] | str | None = None, as_of: str | None = None,
              workers: int | None = None, params: str | Path | None = None,
              templates_dir: str | Path | None = None, la: bool | None = None,
              run_name: str | None = None, html: bool | None = None, *,
              tsm: bool | None = None, analyses: bool | None = None,
              progress: bool | None = None,
              cell_timeout: int | None = 1800, in_process: bool = False,
              model_dir: str | Path | None = None, executor: str | None = None,
              scheduler: str | None = None, kernel_mode: str = "inprocess") -> RunResult:
    """Run the report templates for some or all schools of a store; see the module docstring.

    Arguments given here win over the ``params`` YAML (:mod:`.params`), which wins over the
    defaults: every school in the store, ``as_of`` = the latest mark, workers = CPU count (at
    most 4), LA reports and TSM packs on, HTML on, ``suppress_below`` 5, no pseudonyms, the
    templates in ``notebooks/``, runs under ``reports/``. ``progress``: show a progress bar
    (default: when stderr is a terminal). ``cell_timeout``: seconds one cell may run.
    ``in_process``: run the reports one by one in this process (debugging, tests).
    ``executor``: "local" (default: this machine's process pool) or "dask" (a Dask
    ``distributed`` cluster at ``scheduler``, e.g. ``tcp://host:8786``, or a ``LocalCluster``
    of ``workers`` processes when no address is given; see :mod:`.executors`).
    ``kernel_mode``: "inprocess" (default: each worker keeps one in-process kernel, fresh
    namespace per notebook, :mod:`.inprocess`) or "subprocess" (a kernel process per notebook).

    Raises :class:`ReportingError` (or :class:`.params.ParamsError`, ``StoreError``) before
    anything runs if the run cannot start. A report that fails does not raise: see
    ``RunResult.failed``.
    """
    from tqdm import tqdm

    from .. import __version__
    from .index import write_index
    from .manifest import code_version, file_checksum, folder_checksums, write_manifest

    t_start = time.time()
    perf0 = time.perf_counter()
    cfg, params_info = _settings({"store": store, "out": out, "schools": schools,
                                  "as_of": as_of, "workers": workers,
                                  "templates_dir": templates_dir, "la": la,
                                  "run_name": run_name, "html": html, "tsm": tsm,
                                  "analyses": analyses, "model_dir": model_dir}, params)
    plan = _plan(cfg)
    from .executors import make_executor

    plan.values["shared"] = str(plan.run_dir / "shared")
    if kernel_mode not in ("inprocess", "subprocess"):
        raise ReportingError(f"kernel_mode must be 'inprocess' or 'subprocess', not "
                             f"{kernel_mode!r}")
    runner = make_executor(executor, plan.workers, scheduler, in_process=in_process)
    jobs, records = _jobs(plan, bool(cfg["html"]), cell_timeout)
    for job in jobs:
        job["kernel_mode"] = kernel_mode
    runner.open()  # e.g. reach the Dask scheduler: fails before the run's folder exists
    run_dir = plan.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "notebooks").mkdir(exist_ok=True)
    values = plan.values
    manifest: dict[str, Any] = {
        "run": plan.run_name, "status": "running", "started": _iso(t_start), "ended": None,
        "seconds": None,
        "parameters": {**values, "pseudonym_key": "(given)" if values["pseudonym_key"] else "",
                       "as_of_requested": cfg["as_of"], "latest_mark": plan.latest,
                       "schools": plan.urns, "workers": plan.workers, "html": bool(cfg["html"]),
                       "la": bool(cfg["la"]), "tsm": bool(cfg["tsm"]),
                       "analyses": bool(cfg["analyses"]),
                       "templates_dir": str(plan.templates_dir), "out": str(run_dir.parent),
                       "params_file": params_info, "kernel": jobs[0]["kernel"],
                       "kernel_mode": kernel_mode, "cell_timeout": cell_timeout},
        "executor": runner.describe(),
        "skipped": plan.skipped,
        "code": code_version(),
        "inputs": {"store": folder_checksums(plan.store),
                   "dfe": (folder_checksums(values["dfe_dir"])
                           if Path(values["dfe_dir"]).is_dir() else None),
                   "templates": {n: file_checksum(p) for n, p in plan.templates.items()}},
        "counts": {},
        "kernel_retries": [],
        "reports": [],
    }

    def snapshot(status: str) -> None:
        manifest["status"] = status
        manifest["reports"] = [_record_json(r, run_dir) for r in records.values()]
        manifest["counts"] = dict(Counter(r.status for r in records.values()))
        write_manifest(run_dir, manifest)

    # LA-wide figures every school report shows: computed once here, not once per notebook
    manifest["shared"] = None
    if any("shared" in j["parameters"] for j in jobs):
        from .shared import prepare

        t_shared = time.perf_counter()
        try:
            prepare(run_dir, plan.store, plan.as_of, values["dfe_dir"],
                    [plan.school_keys.get(u, (None, None)) for u in plan.urns])
            manifest["shared"] = {"folder": "shared",
                                  "seconds": round(time.perf_counter() - t_shared, 3)}
        except Exception as exc:  # noqa: BLE001 - the notebooks then compute them themselves
            manifest["shared"] = {"folder": None, "error": f"{type(exc).__name__}: {exc}"}
    snapshot("running")
    plural = "s" if plan.workers > 1 else ""
    bar = tqdm(total=len(jobs), unit="report", desc=f"reports ({plan.workers} worker{plural})",
               file=sys.stderr, disable=(not sys.stderr.isatty()) if progress is None
               else not progress, dynamic_ncols=True)

    def on_done(job: dict, rec: dict) -> None:
        r = records[job["id"]]
        r.status = rec.get("status", "failed")
        r.error = rec.get("error")
        r.attempts = rec.get("attempts", 0)
        r.seconds = rec.get("seconds")
        r.started, r.ended = _iso(rec.get("started")), _iso(rec.get("ended"))
        r.ipynb = Path(job["ipynb"]) if rec.get("ipynb_written") else None
        r.html = Path(job["html"]) if rec.get("html_written") else None
        if rec.get("retries"):
            manifest["kernel_retries"].append(
                {"report": _relative(Path(job["html"] or job["ipynb"]), run_dir),
                 "errors": rec["retries"]})
        bar.update(1)
        n_failed = sum(x.status == "failed" for x in records.values())
        if n_failed:
            bar.set_postfix(failed=n_failed)
        snapshot("running")

    # kernels' Unix sockets (worker.execute_notebook): one private folder per run, removed
    # at the end even if a worker was killed
    ipc_root = tempfile.mkdtemp(prefix="attendance-kernels-") if os.name == "posix" else None
    manifest["parameters"]["kernel_sockets"] = ipc_root
    for job in jobs:
        job["ipc_root"] = ipc_root
    status = "ok"
    try:
        runner.run(jobs, on_done)
    except BaseException:
        status = "interrupted"
        raise
    finally:
        runner.close()
        if ipc_root is not None:
            shutil.rmtree(ipc_root, ignore_errors=True)
        # a worker killed mid-write leaves a hidden temporary file (never a half report)
        from .atomic import clean_temporaries

        clean_temporaries(run_dir)
        bar.close()
        if status != "interrupted" and any(r.status != "ok" for r in records.values()):
            status = "failed"
        manifest["executor"] = runner.describe()
        manifest["ended"] = _iso(time.time())
        manifest["seconds"] = round(time.perf_counter() - perf0, 3)
        snapshot(status)
        index = write_index(run_dir, list(records.values()), run_name=plan.run_name,
                            as_of=plan.as_of, status=status, started=manifest["started"],
                            seconds=manifest["seconds"], version=__version__)
    return RunResult(run_dir=run_dir, index=index, manifest=run_dir / "manifest.json",
                     reports=list(records.values()), as_of=plan.as_of,
                     seconds=manifest["seconds"], status=status)


def _record_json(r: ReportRecord, run_dir: Path) -> dict[str, Any]:
    return {"template": r.template, "urn": r.urn, "school": r.school_name, "status": r.status,
            "html": _relative(r.html, run_dir), "ipynb": _relative(r.ipynb, run_dir),
            "seconds": r.seconds, "started": r.started, "ended": r.ended,
            "kernel_attempts": r.attempts, "error": r.error, "parameters": r.parameters}


def failure_table(reports: list[ReportRecord], width: int = 110) -> str:
    """Plain-text table of the reports that did not succeed: template, school, cell, error."""
    bad = [r for r in reports if r.status != "ok"]
    if not bad:
        return ""
    rows = [("template", "school", "cell", "error")]
    for r in bad:
        cell = r.error.get("cell") if r.error else None
        err = r.error_text() or r.status
        rows.append((r.template, r.urn or "(LA)", "" if cell is None else f"In [{cell}]",
                     " ".join(err.split())))
    w = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for i, row in enumerate(rows):
        line = f"{row[0]:<{w[0]}}  {row[1]:<{w[1]}}  {row[2]:<{w[2]}}  {row[3]}"
        lines.append(line if len(line) <= width else line[: width - 1] + "…")
        if i == 0:
            lines.append("-" * min(width, max(len(x) for x in lines)))
    return "\n".join(lines)


__all__ += ["ParamsError"]
