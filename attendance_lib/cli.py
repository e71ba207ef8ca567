"""The ``attendance`` command line (typer): scriptable, so a scheduler can drive it.

Errors a user can cause (a missing or wrong file, a bad date, an empty store) are printed as one
sentence naming the file and the problem, with exit status 2; no traceback. Exit status 1 means
the command ran but found problems (e.g. rows quarantined by ``validate``).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import typer

from .cli_support import fail as _fail
from .cli_support import user_errors

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="English school attendance: DfE-exact measures from register marks.")


_user_errors = user_errors()


def _parse_as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"--as-of {value!r} is not a date in the form YYYY-MM-DD")


def _print_reports(result, out=None) -> None:
    out = out or sys.stdout
    for rep in result.reports:
        print(rep.line(), file=out)
        for reason, n in rep.reasons().items():
            print(f"{'':15}{n:>8,}  {reason}", file=out)
        for note in rep.notes:
            print(f"{'':15}note: {note}", file=out)
        if not rep.balanced:  # never expected: the loaders account for every row
            print(f"{'':15}WARNING: rows do not add up", file=out)
    if result.quarantine_path:
        print(f"quarantined rows (file, line, reason): {result.quarantine_path}", file=out)


_MARKS = typer.Option(None, "--marks", help="Long-form marks file (CSV or Parquet); repeatable.")
_WEEKLY = typer.Option(None, "--weekly-marks", help="Weekly mark-string CSV; repeatable.")
_PUPILS = typer.Option(None, "--pupils", help="Pupils CSV (one row per enrolment).")
_SCHOOLS = typer.Option(None, "--schools", help="Schools CSV.")
_INTERVENTIONS = typer.Option(None, "--interventions", help="Interventions CSV.")
_MAPPING = typer.Option(None, "--mapping", help="YAML column mapping (see params/).")
_START = typer.Option(None, "--year-start-month",
                      help="Academic year start: 8 (DfE statistics, default) or 9.")
_INGEST_STORE = typer.Option(..., "--store", help="Store folder (created if new).")
_VALIDATE_STORE = typer.Option(None, "--store",
                               help="Existing store to check enrolments against.")
_FORMAT = typer.Option("auto", "--format",
                       help="Format of the --marks files: auto (detect by content and say which),"
                            " canonical, wonde, sims-xml, ctf, weekly-grid or weekly.")
_LOCAL = typer.Option(None, "--local-codes",
                      help="Schools' own codes -> statutory codes: a YAML with a local_codes "
                           "section, or a SIMS attendance-code export.")
_ROSTER = typer.Option(None, "--roster",
                       help="CSV of vendor id -> UPN, URN (vendor_id, upn, urn) for formats "
                            "that name pupils by MIS id (SIMS PersonID, Bromcom StudentId).")
_DAY_FIRST = typer.Option(False, "--day-first",
                          help="The files' dd/mm/yyyy dates are UK dates even if every one "
                               "could be read month-first (otherwise such files are refused).")


def _load(store_dir, marks, weekly, pupils, schools, interventions, mapping, start_month,
          dry_run, fmt="auto", local_codes=None, roster=None, day_first=False):
    from .io.formats import FORMATS
    from .store import Store

    if fmt not in FORMATS:
        _fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")

    from tqdm import tqdm

    store = Store(store_dir)
    if not dry_run and not (marks or weekly or pupils or schools or interventions):
        _fail("nothing to load: give --marks, --weekly-marks, --pupils, --schools or "
              "--interventions")
    with tqdm(unit=" marks", unit_scale=True, desc="checking marks", file=sys.stderr,
              disable=not sys.stderr.isatty()) as bar:
        return store.ingest(marks or (), weekly=weekly or (), pupils=pupils, schools=schools,
                            interventions=interventions, mapping=mapping,
                            start_month=start_month, dry_run=dry_run, progress=bar.update,
                            fmt=fmt, local_codes=local_codes, roster_file=roster,
                            day_first=day_first)


@app.command()
@_user_errors
def ingest(store: Path = _INGEST_STORE,
           marks: list[Path] = _MARKS, weekly_marks: list[Path] = _WEEKLY,
           pupils: Path = _PUPILS, schools: Path = _SCHOOLS,
           interventions: Path = _INTERVENTIONS, mapping: Path = _MAPPING,
           year_start_month: int = _START, fmt: str = _FORMAT, local_codes: Path = _LOCAL,
           roster: Path = _ROSTER, day_first: bool = _DAY_FIRST) -> None:
    """Validate files and load them into the store; print rows read / loaded / quarantined.

    Each marks file's format is printed first among its notes ("format: ...")."""
    result = _load(store, marks, weekly_marks, pupils, schools, interventions, mapping,
                   year_start_month, dry_run=False, fmt=fmt, local_codes=local_codes,
                   roster=roster, day_first=day_first)
    _print_reports(result)
    if result.rows_corrected:
        print(f"corrected {result.rows_corrected:,} mark(s) already in the store: the new code "
              f"replaces the old (logged in {Path(store).resolve() / 'corrections'})")
    print(f"store: {Path(store).resolve()}")


@app.command()
@_user_errors
def validate(store: Path = _VALIDATE_STORE,
             marks: list[Path] = _MARKS, weekly_marks: list[Path] = _WEEKLY,
             pupils: Path = _PUPILS, schools: Path = _SCHOOLS,
             interventions: Path = _INTERVENTIONS, mapping: Path = _MAPPING,
             year_start_month: int = _START, fmt: str = _FORMAT, local_codes: Path = _LOCAL,
             roster: Path = _ROSTER, day_first: bool = _DAY_FIRST) -> None:
    """Report what a load would quarantine or correct; change nothing. Exit 1 if any row would
    be quarantined as a problem (marks identical to ones already in the store are not)."""
    import tempfile

    result = _load(store or Path(tempfile.mkdtemp(prefix="validate-")), marks, weekly_marks,
                   pupils, schools, interventions, mapping, year_start_month, dry_run=True,
                   fmt=fmt, local_codes=local_codes, roster=roster, day_first=day_first)
    _print_reports(result)
    if result.rows_corrected:
        print(f"would correct {result.rows_corrected:,} mark(s) already in the store")
    if result.rows_rejected:
        raise typer.Exit(1)


@app.command()
@_user_errors
def summary(store: Path = typer.Option(..., "--store", help="Store folder."),
            level: str = typer.Option("school", "--level", help="pupil, school or la."),
            as_of: str = typer.Option(None, "--as-of",
                                      help="YYYY-MM-DD: year to date for the academic year "
                                           "containing this date (default: latest mark)."),
            fmt: str = typer.Option("table", "--format", help="table, csv or json.")) -> None:
    """Attendance summary at pupil (enrolment), school or LA level."""
    from . import metrics
    from .store import Store

    if level not in ("pupil", "school", "la"):
        _fail(f"--level must be pupil, school or la, not {level!r}")
    if fmt not in ("table", "csv", "json"):
        _fail(f"--format must be table, csv or json, not {fmt!r}")
    st = Store(store).require()
    when = _parse_as_of(as_of)
    if st.latest_date() is None:
        _fail(f"{st.root}: the store holds no marks yet; load some with 'attendance ingest'")
    df = metrics.summary(st, level, when)
    if fmt == "csv":
        df.to_csv(sys.stdout, index=False, float_format="%.4f")
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", double_precision=6) + "\n")
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 200, "display.width", 160,
                               "display.float_format", "{:.2f}".format):
            typer.echo(df.to_string(index=False))


@app.command()
@_user_errors
def synth(out: Path = typer.Option(..., "--out", help="Folder to write the synthetic LA into."),
          pupils: int = typer.Option(20_000, "--pupils", help="Pupils on roll in a year."),
          schools: int = typer.Option(None, "--schools",
                                      help="Number of schools (default: from --pupils)."),
          years: int = typer.Option(3, "--years", help="Academic years, ending with the one "
                                                       "containing --as-of."),
          as_of: str = typer.Option(None, "--as-of", help="YYYY-MM-DD: the last year runs up "
                                                          "to this date (default: today)."),
          seed: int = typer.Option(None, "--seed", help="Random seed (same seed, same LA)."),
          dirty: bool = typer.Option(False, "--dirty",
                                     help="Inject realistic dirt for the data-quality paths.")
          ) -> None:
    """Generate a synthetic local authority (marks, pupils, schools, interventions and the
    ground truth) in the layouts 'attendance ingest' reads."""
    from tqdm import tqdm

    from . import synth as synth_mod

    if pupils < 1:
        _fail("--pupils must be at least 1")
    if years < 1:
        _fail("--years must be at least 1")
    when = _parse_as_of(as_of)
    kwargs = {"pupils": pupils, "schools": schools, "years": years, "as_of": when,
              "dirty": dirty}
    if seed is not None:
        kwargs["seed"] = seed
    with tqdm(total=None, unit="school", desc="generating", disable=not sys.stderr.isatty(),
              file=sys.stderr) as bar:
        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)

        try:
            res = synth_mod.generate_la(out, progress=progress, **kwargs)
        except ValueError as exc:
            _fail(str(exc))
    print(f"wrote a synthetic LA to {res.out_dir}: {res.n_pupils:,} pupils, "
          f"{res.n_enrolments:,} enrolments, {res.n_marks:,} marks, academic years "
          f"{', '.join(f'{y}/{(y + 1) % 100:02d}' for y in res.years)} (to {res.as_of}), "
          f"seed {res.seed}")
    for label, path in (("marks", res.marks), ("pupils", res.pupils), ("schools", res.schools),
                        ("interventions", res.interventions), ("term dates", res.term_dates),
                        ("ground truth", res.ground_truth)):
        print(f"  {label:<14}{path}")
    print(f"load it with: attendance ingest --store DIR --marks {res.marks} --pupils "
          f"{res.pupils} --schools {res.schools} --interventions {res.interventions}")


mapping_app = typer.Typer(no_args_is_help=True,
                          help="Column mappings for exports with other headings.")
app.add_typer(mapping_app, name="mapping")

from .early_warning.cli import register as _register_model  # noqa: E402
from .impact.cli import register as _register_impact  # noqa: E402
from .published.cli import register as _register_benchmark  # noqa: E402
from .reporting.cli import register as _register_report  # noqa: E402

_register_report(app)
_register_benchmark(app)
_register_model(app)
_register_impact(app)


_SUGGEST_FILE = typer.Argument(..., help="A CSV export with a header row.")
_SUGGEST_OUT = typer.Option(None, "--out", help="Write the YAML here (default: print it).")


@mapping_app.command("suggest")
@_user_errors
def mapping_suggest(file: Path = _SUGGEST_FILE, out: Path = _SUGGEST_OUT) -> None:
    """Propose a YAML column mapping from the file's headings, for you to check and confirm."""
    from .io.mapping_suggest import suggest_mapping, to_yaml

    text = to_yaml(suggest_mapping(file), file)
    if out is None:
        sys.stdout.write(text)
        return
    if out.exists():
        _fail(f"{out}: already exists; not overwritten (choose another --out)")
    out.write_text(text, encoding="utf-8")
    print(f"wrote a suggested mapping to {out}: check every line, then use --mapping {out}")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
