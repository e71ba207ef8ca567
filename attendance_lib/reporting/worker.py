"""What runs inside a worker process: execute one notebook with papermill, export its HTML.

Kept lean: only the standard library at import (a worker is a fresh ``spawn`` process);
papermill, nbconvert and the libraries the reports use are imported once per worker by
:func:`init_worker`. By default a notebook runs on the worker's in-process kernel
(:mod:`.inprocess`: warm imports, fresh namespace per notebook); ``job["kernel_mode"] =
"subprocess"`` starts a kernel process per notebook instead (about 1.6 s more a report).
Everything a job needs arrives as plain data with absolute paths; the working folder is set per process by
papermill (``cwd``), never shared between threads (papermill #473).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

__all__ = ["init_worker", "execute_report", "execute_notebook"]


def init_worker() -> None:
    """Import the heavy modules once and keep papermill's log lines off the progress bar.

    The report libraries (pandas, matplotlib, DuckDB, the views) are imported here too: with
    the in-process kernel every notebook of this worker then finds them loaded. Importing a
    module shares code, never data.
    """
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # debugpy start-up warning
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    logging.getLogger("papermill").setLevel(logging.ERROR)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    import papermill  # noqa: F401

    from .html import _exporter

    _exporter()
    try:
        import matplotlib_inline.backend_inline  # noqa: F401

        from ... import plots, privacy  # noqa: F401
        from ...views import format as _format  # noqa: F401
        from ...views import la, published, quality, report_params, school, tsm  # noqa: F401
    except ImportError:  # pragma: no cover - a broken install shows up in the report itself
        pass


def execute_notebook(job: dict[str, Any], output: Path):
    """One papermill run of ``job`` writing ``output``; returns the executed notebook.

    In-process kernel unless ``job["kernel_mode"] == "subprocess"`` (:mod:`.inprocess`).
    The rest of this docstring is about the kernel-process mode.

    On POSIX the kernel talks over Unix sockets in a private folder made for this launch
    (``transport = ipc``), not TCP ports: two workers can no longer pick the same free port at
    once (``ZMQError: Address already in use``, papermill #511), and nothing listens on the
    network. (jupyter_client's default IPC path is ``kernel-ipc`` in the working folder, shared
    by every worker, hence the private folder.) The folder is inside the run's ``ipc_root``,
    which the main process removes at the end, even after a worker was killed. Elsewhere TCP,
    with the retry as the guard.
    """
    if job.get("kernel_mode", "inprocess") == "inprocess":
        from .inprocess import execute_in_process

        return execute_in_process(job, output)
    import papermill
    from traitlets.config import Config

    config = Config()
    ipc_dir = None
    if os.name == "posix":
        root = job.get("ipc_root")  # made by the runner; not there on a cluster's machine
        ipc_dir = tempfile.mkdtemp(prefix="k", dir=root if root and os.path.isdir(root)
                                   else None)
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(ipc_dir, "k")
    try:
        return papermill.execute_notebook(
            job["template"], str(output), parameters=job["parameters"],
            kernel_name=job["kernel"], progress_bar=False, cwd=job["cwd"],
            request_save_on_cell_execute=False, log_output=False,
            start_timeout=job.get("start_timeout", 60),
            execution_timeout=job.get("cell_timeout"), shutdown_kernel="immediate",
            config=config)
    finally:
        if ipc_dir is not None:
            shutil.rmtree(ipc_dir, ignore_errors=True)


#: parameters whose values never stay in an executed notebook (papermill #253 stores them)
SECRET_PARAMETERS = ("pseudonym_key",)
_REMOVED = "(removed by the report runner)"


def _finish_notebook(path: Path, job: dict[str, Any]) -> None:
    """Tidy the executed notebook papermill wrote, before it gets its final name.

    * Name the project's kernel in its metadata (papermill keeps the template's), so reopening
      it in JupyterLab runs it on this environment's Python again; record its final path.
    * Remove secret parameter values (the pseudonym key) from the injected-parameters cell and
      papermill's metadata: the notebook holds pupil data, but not the key to the pseudonyms.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    meta = nb.setdefault("metadata", {})
    meta["kernelspec"] = {"name": job["kernel"], "language": "python",
                          "display_name": job.get("kernel_display", job["kernel"])}
    if isinstance(meta.get("papermill"), dict):  # not the temporary file's name
        meta["papermill"]["output_path"] = job["ipynb"]
    secrets = [k for k in SECRET_PARAMETERS if job["parameters"].get(k)]
    if secrets:
        given = meta.get("papermill", {}).get("parameters", {})
        for k in secrets:
            if k in given:
                given[k] = _REMOVED
        for cell in nb.get("cells", []):
            if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                src = cell.get("source", "")
                lines = ("".join(src) if isinstance(src, list) else src).split("\n")
                out = []
                for ln in lines:
                    key = next((k for k in secrets if ln.startswith(f"{k} =")), None)
                    out.append(f'{key} = ""  # {_REMOVED}' if key else ln)
                cell["source"] = "\n".join(out)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _short(text: Any, limit: int = 500) -> str:
    text = str(text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def execute_report(job: dict[str, Any]) -> dict[str, Any]:
    """Run one report job; never raises for a notebook or kernel problem (it is recorded).

    Returns the job's record: ``status`` "ok" or "failed", ``seconds``, ``attempts`` (kernel
    launches), ``error`` = {cell (the ``In [n]`` number), cell_index, ename, evalue, source}
    or None, and whether the executed notebook / HTML were written.
    """
    from papermill.exceptions import PapermillExecutionError

    from .atomic import atomic_path, atomic_write_text
    from .kernel import with_launch_retry

    logging.getLogger("papermill").setLevel(logging.ERROR)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    started = time.time()
    t0 = time.perf_counter()
    rec: dict[str, Any] = {"id": job["id"], "status": "failed", "error": None, "attempts": 0,
                           "ipynb_written": False, "html_written": False,
                           "started": started, "pid": os.getpid()}
    ipynb = Path(job["ipynb"])
    retries: list[str] = []
    try:
        failure: PapermillExecutionError | None = None
        with atomic_path(ipynb) as tmp:
            try:
                nb, rec["attempts"] = with_launch_retry(
                    lambda: execute_notebook(job, tmp),
                    on_retry=lambda n, exc: retries.append(f"{type(exc).__name__}: {exc}"))
            except PapermillExecutionError as exc:
                # papermill saved the notebook, error cell marked, before raising: keep it
                failure = exc
                rec["attempts"] = len(retries) + 1
                if not tmp.exists():
                    raise
            _finish_notebook(tmp, job)
        rec["ipynb_written"] = True
        if failure is not None:
            rec["error"] = {"cell": failure.exec_count, "cell_index": failure.cell_index,
                            "ename": failure.ename, "evalue": _short(failure.evalue),
                            "source": _short(failure.source, 300)}
        else:
            if job.get("html"):
                from .html import notebook_to_html

                atomic_write_text(job["html"], notebook_to_html(nb, job["title"],
                                                                job.get("footer", "")))
                rec["html_written"] = True
            rec["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a kernel or export failure is this report's
        rec["attempts"] = rec["attempts"] or len(retries) + 1
        rec["error"] = {"cell": None, "cell_index": None, "ename": type(exc).__name__,
                        "evalue": _short(exc) or _short(traceback.format_exc(limit=3)),
                        "source": None}
    if retries:
        rec["retries"] = retries
    rec["ended"] = time.time()
    rec["seconds"] = round(time.perf_counter() - t0, 3)
    return rec
