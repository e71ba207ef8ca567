"""``attendance model ...``: train, evaluate and score the early-warning model (issue 5 item 11).

:func:`register` adds the ``model`` command group to the ``attendance`` typer app::

    attendance model train    --store DIR --as-of YYYY-MM-DD --out MODEL_DIR
    attendance model evaluate --store DIR --as-of YYYY-MM-DD --format json
    attendance model score    --store DIR --model MODEL_DIR --as-of YYYY-MM-DD --out FILE.csv

Mistakes a user can make (no store, a bad date, a model folder that does not fit, too few
complete years) print one line naming the problem, exit status 2, no traceback.
"""

from __future__ import annotations

import sys
import warnings
from datetime import date
from pathlib import Path

import typer

from attendance_lib.cli_support import fail as _fail
from attendance_lib.cli_support import user_errors

__all__ = ["register", "model_app"]

model_app = typer.Typer(no_args_is_help=True, add_completion=False,
                        help="Early warning: train, evaluate and score the persistent-absence "
                             "model.")

_STORE = typer.Option(..., "--store", help="Store folder.")
_AS_OF = typer.Option(..., "--as-of", help="YYYY-MM-DD: the date the prediction is made on.")
_LABEL = typer.Option("pa_year_end", "--label",
                      help="pa_year_end (PA over the year) or pa_next_term_end.")
_CHARS = typer.Option(False, "--characteristics/--no-characteristics",
                      help="Allow pupil characteristics (FSM, SEN, EAL, sex, ethnicity...) as "
                           "features (off by default).")
_TERM_DATES = typer.Option(None, "--term-dates",
                           help="Term dates file (default: the store's, else inferred).")


#: ValueError covers the model artefact's and the features' own errors (ModelArtefactError...)
_user_errors = user_errors(ValueError)


def _date(value: str, option: str = "--as-of") -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r} is not a date in the form YYYY-MM-DD")


def _open(store: Path):
    from attendance_lib.store import Store

    st = Store(store).require()
    if st.latest_date() is None:
        _fail(f"{st.root}: the store holds no marks yet; load some with 'attendance ingest'")
    return st


@model_app.command("train")
@_user_errors
def train_cmd(store: Path = _STORE, as_of: str = _AS_OF,
              out: Path = typer.Option(..., "--out", help="Model folder to write."),
              label: str = _LABEL, characteristics: bool = _CHARS,
              backtest: bool = typer.Option(True, "--backtest/--no-backtest",
                                            help="Back-test on the latest complete year."),
              term_dates: Path = _TERM_DATES) -> None:
    """Train on every complete earlier year as of the same point in the school year."""
    from .train import train_and_save

    when = _date(as_of)
    st = _open(store)
    path = train_and_save(st, when, out, label=label, characteristics=characteristics,
                          backtest=backtest, term_dates=term_dates)
    import json

    card = json.loads((path / "model_card.json").read_text())
    print(f"trained {card['chosen']} ({card['calibration']} calibration) on "
          f"{card['training_rows']:,} pupils, years "
          f"{', '.join(card['training_as_of'])}, as of {card['point_label']}")
    print(f"model and card written to {path}")


@model_app.command("evaluate")
@_user_errors
def evaluate_cmd(store: Path = _STORE, as_of: str = _AS_OF,
                 fmt: str = typer.Option("json", "--format", help="json or table."),
                 points: str = typer.Option("all", "--points",
                                            help="Comma-separated evaluation points, or all."),
                 label: str = _LABEL, characteristics: bool = _CHARS,
                 k: int = typer.Option(None, "--k", help="Also report the top k pupils of "
                                                         "each school."),
                 bootstrap: int = typer.Option(200, "--bootstrap",
                                               help="Bootstrap resamples for intervals."),
                 term_dates: Path = _TERM_DATES) -> None:
    """Temporal validation: model and rules at each point of the latest complete year."""
    from .evaluate import evaluate
    from .points import POINTS

    if fmt not in ("json", "table"):
        _fail(f"--format must be json or table, not {fmt!r}")
    chosen = POINTS if points == "all" else tuple(p.strip() for p in points.split(","))
    bad = [p for p in chosen if p not in POINTS]
    if bad:
        _fail(f"--points: unknown {', '.join(bad)}; choose from {', '.join(POINTS)}")
    if k is not None and k < 1:
        _fail("--k must be at least 1")
    st = _open(store)
    ev = evaluate(st, _date(as_of), points=chosen, label=label,
                  characteristics=characteristics, user_k=k, n_boot=bootstrap,
                  term_dates=term_dates)
    if fmt == "json":
        sys.stdout.write(ev.to_json() + "\n")
        return
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:.3f}".format):
        for pop in ("all", "not_yet_pa"):
            typer.echo(f"precision at the top 10% of each school's roll ({pop}):")
            typer.echo(ev.summary(pop).to_string(index=False))


@model_app.command("score")
@_user_errors
def score_cmd(store: Path = _STORE,
              model: Path = typer.Option(..., "--model", help="Model folder."),
              as_of: str = _AS_OF,
              out: Path = typer.Option(..., "--out", help="CSV (or .xlsx) file to write."),
              lists: bool = typer.Option(False, "--lists",
                                         help="Write the full school lists (all columns)."),
              pseudonymise_key: str = typer.Option(None, "--pseudonymise-key",
                                                   help="Replace UPNs by keyed pseudonyms."),
              term_dates: Path = _TERM_DATES) -> None:
    """One row per pupil on roll: upn, urn, risk, rank_in_school, reasons."""
    from .artefact import load_model
    from .export import list_frame, write_csv, write_xlsx
    from .points import school_calendar
    from .train import score

    when = _date(as_of)
    st = _open(store)
    mdl, card = load_model(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scored = score(st, model, when, model=mdl, card=card,
                       calendar=school_calendar(st, term_dates))
    for w in caught:
        typer.echo(f"warning: {w.message}", err=True)
    xlsx = out.suffix.lower() == ".xlsx"
    if lists or xlsx:
        rows = list_frame(st, scored, when, pseudonymise_key=pseudonymise_key)
        (write_xlsx if xlsx else write_csv)(rows, out)
    else:
        from .export import pseudonym

        cols = scored[["upn", "urn", "risk", "rank_in_school", "reasons"]].copy()
        if pseudonymise_key:
            cols["upn"] = pseudonym(cols["upn"], pseudonymise_key)
        out.parent.mkdir(parents=True, exist_ok=True)
        cols.to_csv(out, index=False, float_format="%.6f")
    print(f"scored {len(scored):,} pupils on roll on {when} in {scored['urn'].nunique():,} "
          f"schools; written to {out}")


def register(app: typer.Typer) -> None:
    """Add the ``model`` command group to the ``attendance`` app."""
    app.add_typer(model_app, name="model")
