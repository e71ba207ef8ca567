"""``attendance report``: the batch runner on the command line (registered by the main CLI).

Exit status: 0 every report made; 1 the run finished but some reports failed (a table says
which, where and why); 2 the run could not start (bad parameters file, unknown school, missing
template, no store), with one line naming the file and the problem; 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

__all__ = ["register", "report"]

_HELP = ("Run the report notebooks (school reports, TSM packs, LA overview, data quality) "
         "in parallel and write HTML, a manifest and an index.html.")


def _fail(message: str, code: int = 2):
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def report(
    store: Path = typer.Option(None, "--store", help="Store folder (or 'store:' in --params)."),
    out: Path = typer.Option(None, "--out", help="Where runs go (default: reports/)."),
    schools: str = typer.Option(None, "--schools",
                                help="URN,URN,... (default: every school in the store)."),
    as_of: str = typer.Option(None, "--as-of",
                              help="YYYY-MM-DD: figures up to this day (default: latest mark)."),
    workers: int = typer.Option(None, "--workers", min=1,
                                help="Parallel worker processes (default: CPUs, at most 4)."),
    params: Path = typer.Option(None, "--params",
                                help="YAML of report parameters (see params/report_example"
                                     ".yaml); options given here win."),
    run_name: str = typer.Option(None, "--run-name",
                                 help="The run's folder name (default: as-of date and time)."),
    no_html: bool = typer.Option(False, "--no-html",
                                 help="Executed notebooks only, no HTML."),
    no_la: bool = typer.Option(False, "--no-la", help="Skip the LA overview and data quality."),
    no_tsm: bool = typer.Option(False, "--no-tsm", help="Skip the TSM packs."),
    no_analyses: bool = typer.Option(False, "--no-analyses",
                                     help="Skip the LA analyses (early-warning model report, "
                                          "intervention impact): e.g. a weekly run, with the "
                                          "analyses run termly."),
    templates_dir: Path = typer.Option(None, "--templates-dir",
                                       help="Folder of the notebook templates "
                                            "(default: notebooks/)."),
    executor: str = typer.Option("local", "--executor",
                                 help="Where the reports run: 'local' (this machine's worker "
                                      "processes) or 'dask' (a Dask cluster, see "
                                      "--scheduler)."),
    scheduler: str = typer.Option(None, "--scheduler",
                                  help="Dask scheduler address (tcp://host:8786) for "
                                       "--executor dask; without it a local Dask cluster of "
                                       "--workers processes. The store and --out must be on "
                                       "storage every worker sees at the same path."),
    model: Path = typer.Option(None, "--model",
                               help="Early-warning model folder ('attendance model train'): "
                                    "the school reports add the early-intervention list."),
) -> None:
    """Run the report notebooks for one school, a list, or every school in the store."""
    from ..store import StoreError
    from .params import ParamsError, check_date, check_run_name, check_urns
    from .runner import ReportingError, failure_table, run_batch

    try:
        urns = check_urns(schools) if schools is not None else None
    except ValueError as exc:
        _fail(f"--schools: {exc}")
    try:
        when = check_date(as_of) if as_of is not None else None
    except ValueError as exc:
        _fail(f"--as-of: {exc}")
    executor = (executor or "local").strip().lower()
    if executor not in ("local", "dask"):
        _fail(f"--executor: {executor!r} is not one of local, dask")
    if scheduler and executor != "dask":
        _fail("--scheduler: only with --executor dask")
    if run_name is not None:
        try:
            check_run_name(run_name)
        except ValueError as exc:
            _fail(f"--run-name: {exc}")
    try:
        result = run_batch(store=store, out=out, schools=urns, as_of=when, workers=workers,
                           params=params, templates_dir=templates_dir,
                           la=False if no_la else None, tsm=False if no_tsm else None,
                           analyses=False if no_analyses else None,
                           run_name=run_name, html=False if no_html else None,
                           model_dir=model, executor=executor, scheduler=scheduler)
    except (ParamsError, ReportingError, StoreError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    n = len(result.reports)
    per = result.seconds / n if n else 0.0
    print(f"{n - len(result.failed)} of {n} reports made in {result.seconds:.1f} s "
          f"({per:.1f} s a report); figures to {result.as_of}")
    if result.failed:
        print(f"\n{len(result.failed)} report{'s' if len(result.failed) > 1 else ''} "
              f"failed:", file=sys.stdout)
        print(failure_table(result.failed))
        print("\nThe executed notebooks (with the error cell marked) are under "
              f"{result.run_dir / 'notebooks'}")
    print(f"index: {result.index}")
    print(f"manifest: {result.manifest}")
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to the main ``attendance`` app."""
    app.command("report", help=_HELP)(report)
