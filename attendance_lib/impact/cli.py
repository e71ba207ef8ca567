"""``attendance impact``: did each type of support work? One row per type and design.

Registered on the main app by :func:`register` (``attendance_lib.cli`` calls it). Errors a user
can cause (no store, no interventions, an unknown type, a bad option) print one line and exit
with status 2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer

from attendance_lib.cli_support import fail as _fail

__all__ = ["register", "impact_command"]

_COLUMNS = ["type", "design", "estimate_pp", "ci_low", "ci_high", "n_treated", "n_comparison"]


def _cell(v) -> str:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.2f}"
    return str(v)


def _table(rows: list[dict]) -> str:
    cells = [[_cell(r[c]) for c in _COLUMNS] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(_COLUMNS)]
    right = {"estimate_pp", "ci_low", "ci_high", "n_treated", "n_comparison"}

    def line(vals):
        return "  ".join(v.rjust(w) if c in right else v.ljust(w)
                         for v, w, c in zip(vals, widths, _COLUMNS, strict=True)).rstrip()

    return "\n".join([line(_COLUMNS)] + [line(r) for r in cells])


def impact_command(store: Path, type_: str | None, window_weeks: int, fmt: str,
                   as_of: str | None = None) -> list[dict]:
    """Run the analysis and return the rows (raises ImpactError / StoreError)."""
    from attendance_lib.store import Store

    from .report import analyse, estimates_table

    st = Store(store)
    rep = analyse(st, types=type_, window_weeks=window_weeks, as_of=as_of, detail=False)
    df = estimates_table(rep)
    rows = []
    for r in df.to_dict("records"):
        rows.append({k: (None if isinstance(v, float) and not math.isfinite(v) else
                         (int(v) if k.startswith("n_") else v)) for k, v in r.items()})
    return rows


def register(app: typer.Typer) -> None:
    """Add the ``impact`` command to ``app``."""

    @app.command("impact")
    def impact(
        store: Path = typer.Option(..., "--store", help="The store folder."),
        type_: str | None = typer.Option(None, "--type",
                                         help="One intervention type (default: every type)."),
        window_weeks: int = typer.Option(10, "--window-weeks",
                                         help="School weeks after the start to measure."),
        fmt: str = typer.Option("table", "--format", help="table or json."),
        as_of: str | None = typer.Option(None, "--as-of",
                                         help="Analyse the store as it stood on this date."),
    ) -> None:
        """Did the support work? Estimates per intervention type and design.

        estimate_pp is the change in absence rate in percentage points of possible sessions
        (negative = less absence) with its 95% interval; naive_before_after has no comparison
        group and is shown only as the number to be wary of.
        """
        from attendance_lib.store import StoreError

        from .panel import ImpactError

        if fmt not in ("table", "json"):
            _fail(f"--format must be 'table' or 'json', not {fmt!r}")
        if window_weeks < 1:
            _fail(f"--window-weeks must be at least 1, got {window_weeks}")
        try:
            rows = impact_command(store, type_, window_weeks, fmt, as_of)
        except (ImpactError, StoreError) as exc:
            _fail(str(exc))
        if fmt == "json":
            typer.echo(json.dumps(rows, indent=2, default=str))
        else:
            typer.echo(_table(rows))
