"""``attendance benchmark``: the published-data benchmark of one or more LAs, as HTML.

One concept: the command. It checks every ``--la`` and the ``--year`` in this process first,
so a mistyped LA code gets one sentence listing the close matches and the codes that exist
(exit status 2, no traceback) before any kernel starts. Then each LA's report is the
``notebooks/published_benchmark.ipynb`` template executed by the batch runner's worker
(:func:`attendance_lib.reporting.worker.execute_report`: papermill on the project's pinned
kernel, HTML with the code hidden, written atomically). A report that fails names the cell
and the error (exit status 1).

Register it on the main app with :func:`register` (``attendance_lib/cli.py``)::

    from attendance_lib.published.cli import register as register_benchmark
    register_benchmark(app)
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

import typer

__all__ = ["register", "benchmark", "build_reports", "report_paths", "TEMPLATE"]

TEMPLATE = "published_benchmark.ipynb"

_LA = typer.Option(..., "--la", help="LA by old 3-digit code (886), new E-code (E10000016) or "
                                     "name (Kent); repeat for several LAs.")
_YEAR = typer.Option("", "--year", help="School-level year for the funnel plots, e.g. 2018/19 "
                                        "(default: the latest published, 2018/19).")
_OUT = typer.Option(None, "--out", help="Folder for the HTML reports (default: "
                                        "reports/benchmark). Executed notebooks go to "
                                        "<out>/notebooks.")
_DFE = typer.Option(None, "--dfe-dir", help="Published DfE data folder (default: "
                                            "ATTENDANCE_DFE_DIR or ../shared/data/dfe).")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def report_paths(out: Path, la) -> tuple[Path, Path]:
    """(HTML, executed notebook) paths of one LA's report under ``out``."""
    stem = f"benchmark_{la.old_la_code or la.new_la_code}_{_slug(la.la_name)}"
    return out / f"{stem}.html", out / "notebooks" / f"{stem}.ipynb"


def _template() -> Path:
    from attendance_lib.paths import repo_root

    return repo_root() / "notebooks" / TEMPLATE


def build_reports(las: list[str], year: str = "", out: str | Path | None = None,
                  dfe_dir: str | Path | None = None, echo=print) -> list[dict]:
    """Check every LA, then execute the template once per LA; return one record per LA.

    Raises
    ------
    BenchmarkInputError
        Any LA or the year is wrong (nothing has run yet).
    """
    from attendance_lib import __version__, paths
    from attendance_lib.reporting.kernel import ensure_kernel
    from attendance_lib.reporting.worker import execute_report

    from .data import BenchmarkInputError, benchmark_params

    checked = [benchmark_params(la, year, dfe_dir or "") for la in las]
    out_dir = Path(out) if out is not None else paths.reports_dir() / "benchmark"
    out_dir = out_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise BenchmarkInputError(f"--out {out_dir}: is a file; expected a folder for the "
                                  f"HTML reports")
    template = _template()
    kernel = ensure_kernel()
    records = []
    for params in checked:
        html, ipynb = report_paths(out_dir, params.la)
        la_code = params.la.old_la_code or params.la.new_la_code
        footer = (f"Published-data benchmark of {params.la.la_name} ({la_code}), built "
                  f"{datetime.now():%d %b %Y %H:%M} by attendance-suite {__version__} from "
                  f"DfE published statistics in {params.folder}.")
        job = {"id": f"benchmark:{la_code}", "template": str(template),
               "parameters": {"la": la_code, "year": params.school_year_label,
                              "dfe_dir": str(params.folder)},
               "kernel": kernel, "cwd": str(template.parent), "ipynb": str(ipynb),
               "html": str(html), "title": f"{params.la.la_name}: published-data benchmark",
               "footer": footer, "cell_timeout": None}
        started = time.perf_counter()
        rec = execute_report(job)
        rec = {**rec, "la": params.la.la_name, "code": la_code, "html": html,
               "ipynb": ipynb, "seconds": round(time.perf_counter() - started, 1)}
        if rec["status"] == "ok":
            echo(f"{params.la.la_name} ({la_code}): {html} ({rec['seconds']} s)")
        else:
            err = rec.get("error") or {}
            where = f"cell {err.get('cell')}" if err.get("cell") is not None else "the run"
            echo(f"{params.la.la_name} ({la_code}): FAILED in {where}: "
                 f"{err.get('ename')}: {err.get('evalue')} (notebook: {ipynb})")
        records.append(rec)
    return records


def benchmark(la: list[str] = _LA, year: str = _YEAR, out: Path | None = _OUT,
              dfe_dir: Path | None = _DFE) -> None:
    """Benchmark an LA against its region and England from DfE's published data (HTML)."""
    from attendance_lib.io.dfe import PublishedDataError

    try:
        records = build_reports(la, year, out, dfe_dir, echo=typer.echo)
    except (PublishedDataError, OSError) as exc:     # a wrong LA, year, folder or --out
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except RuntimeError as exc:                        # the kernel would not start
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        raise typer.Exit(130) from None
    failed = [r for r in records if r["status"] != "ok"]
    if failed:
        typer.echo(f"error: {len(failed)} of {len(records)} reports failed", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``benchmark`` command to a typer app (the lead registers it on ``attendance``)."""
    app.command("benchmark", help="Benchmark an LA against its region and England from DfE's "
                                  "published statistics (HTML report, code hidden).")(benchmark)
