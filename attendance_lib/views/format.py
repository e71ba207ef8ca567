"""How the reports print numbers and tables (one style for every template).

Reports are rendered to HTML with the code hidden, so every table carries its own title and
units. Rates are percentages with two decimals and a per cent sign (``7.14%``), counts have
thousands separators (``1,234``), gaps are percentage points with a sign (``+2.31 pp``),
missing values print as an en dash and suppressed ones as ``c`` (domain.md 2.3). Long tables are
cut to the first rows with a line saying how many more there are.

Examples
--------
>>> pct(7.142857), count(1234), points(-0.5), pct(float("nan")), pct("c")
('7.14%', '1,234', '-0.50 pp', '–', 'c')
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import pandas as pd

from attendance_lib.markup import Markup

__all__ = ["MISSING", "pct", "count", "points", "formatted", "html_table", "pupil_table"]

#: printed for a missing value
MISSING = "–"


def _is_missing(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def pct(v, dp: int = 2) -> str:
    """A percentage (already x 100): ``7.14%``."""
    if isinstance(v, str):
        return v
    return MISSING if _is_missing(v) else f"{float(v):.{dp}f}%"


def count(v) -> str:
    """A count: ``1,234``."""
    if isinstance(v, str):
        return v
    return MISSING if _is_missing(v) else f"{int(round(float(v))):,}"


def points(v, dp: int = 2) -> str:
    """A difference of two percentages, in percentage points with a sign: ``+2.31 pp``."""
    if isinstance(v, str):
        return v
    return MISSING if _is_missing(v) else f"{float(v):+.{dp}f} pp"


def formatted(df: pd.DataFrame, *, pcts: Sequence[str] = (), counts: Sequence[str] = (),
              pps: Sequence[str] = (), dates: Sequence[str] = ()) -> pd.DataFrame:
    """A copy of ``df`` with the named columns turned into display strings."""
    out = df.copy()
    for cols, fn in ((pcts, pct), (counts, count), (pps, points)):
        for c in cols:
            if c in out.columns:
                out[c] = [fn(v) for v in out[c]]
    for c in dates:
        if c in out.columns:
            out[c] = [MISSING if _is_missing(v) else f"{pd.Timestamp(v):%d %b %Y}"
                      for v in out[c]]
    return out


def html_table(df: pd.DataFrame, *, title: str, note: str = "", top: int | None = None,
               what: str = "rows", table_id: str | None = None, empty: str = "None.",
               pcts: Sequence[str] = (), counts: Sequence[str] = (), pps: Sequence[str] = (),
               dates: Sequence[str] = ()) -> Markup:
    """A titled HTML table for a report, cut to ``top`` rows with a count of the rest.

    Parameters
    ----------
    df : DataFrame
        Rows to show, already in display order; the column names are the headings.
    title : str
        Says what the table is, with its period (e.g. "... year to date to 14 Nov 2025").
    note : str
        A line under the table (source, definitions).
    top : int, optional
        Show the first ``top`` rows and say how many more ``what`` there are.
    table_id : str, optional
        HTML ``id`` (and class) of the table, for tests and styling.
    empty : str
        Shown instead of an empty table.
    pcts, counts, pps, dates : column names to format (see :func:`formatted`).
    """
    n = len(df)
    shown = df if top is None or n <= top else df.head(top)
    parts = [f'<p class="report-table-title"><strong>{html.escape(title)}</strong></p>']
    if n == 0:
        parts.append(f"<p><em>{html.escape(empty)}</em></p>")
    else:
        numeric = set(pcts) | set(counts) | set(pps)
        numeric |= {c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])
                    and not pd.api.types.is_bool_dtype(shown[c])}
        body = formatted(shown, pcts=pcts, counts=counts, pps=pps, dates=dates)
        parts.append(_table_markup(body, numeric, table_id))
        if len(shown) < n:
            parts.append(f'<p class="report-table-more">... and {n - len(shown):,} more '
                         f"{html.escape(what)} not shown ({n:,} in all).</p>")
    if note:
        parts.append(f'<p class="report-table-note"><small>{html.escape(note)}</small></p>')
    return Markup("\n".join(parts))


def _cell(v) -> str:
    return MISSING if _is_missing(v) else html.escape(str(v))


def _table_markup(body: pd.DataFrame, numeric: set, table_id: str | None) -> str:
    """A plain HTML table: text columns left-aligned, numbers right-aligned."""
    align = ["right" if c in numeric else "left" for c in body.columns]
    attrs = f' id="{html.escape(table_id)}"' if table_id else ""
    classes = " ".join(["dataframe", "report-table"] + ([html.escape(table_id)] if table_id
                                                        else []))
    head = "".join(f'<th style="text-align: {a}">{html.escape(str(c))}</th>'
                   for c, a in zip(body.columns, align, strict=True))
    rows = "".join("<tr>" + "".join(f'<td style="text-align: {a}">{_cell(v)}</td>'
                                    for v, a in zip(row, align, strict=True)) + "</tr>\n"
                   for row in body.itertuples(index=False, name=None))
    return (f'<table{attrs} class="{classes}" border="0">\n<thead><tr>{head}</tr></thead>\n'
            f"<tbody>\n{rows}</tbody>\n</table>")


def pupil_table(df: pd.DataFrame, *, pseudonymise: bool, key: str = "",
                columns: Mapping[str, str] | None = None, drop: Sequence[str] = ("urn",),
                **kwargs) -> Markup:
    """A list of pupils as shown in a per-school report.

    The UPN becomes the ``Pupil`` column, or its keyed pseudonym with the name dropped when
    ``pseudonymise`` is on (:func:`attendance_lib.privacy.pupil_identifiers`); ``columns``
    renames the rest for display (``{"sessions_in_window": "Unauthorised sessions"}``);
    ``drop`` removes columns. Other keyword arguments go to :func:`html_table`, with the
    format lists given in display names.
    """
    from ..privacy import pupil_identifiers

    shown = pupil_identifiers(df.drop(columns=[c for c in drop if c in df.columns]),
                              pseudonymise_ids=pseudonymise, key=key)
    if columns:
        shown = shown.rename(columns=dict(columns))
    kwargs.setdefault("what", "pupils")
    return html_table(shown, **kwargs)
