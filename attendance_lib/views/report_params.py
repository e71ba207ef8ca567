"""The report templates' parameters, checked once in the cell after the parameters cell.

papermill passes parameters as plain strings, numbers and booleans and only warns about unknown
names (product.md, "Known pitfalls"), so every template calls :func:`check_params` first: it
turns the raw values into a frozen :class:`ReportParams` or raises :class:`ReportParamsError`
with one sentence naming the parameter and the problem (the batch runner reports it with the
cell). Empty strings mean "not given" (the contract in ``/work/briefs/reports_contract.md``):
``store`` -> the default store, ``as_of`` -> the latest mark in the store, ``dfe_dir`` -> the
published DfE folder, ``urn`` -> the first school (handy when running a template by hand).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from .. import paths
from ..academic_year import academic_year_label
from ..metrics import ytd_window
from ..store import Store

__all__ = ["ReportParamsError", "ReportParams", "check_params", "TERMS", "long_date"]

TERMS = ("autumn", "spring", "summer")


class ReportParamsError(ValueError):
    """A report parameter is missing or invalid."""


def long_date(d: date) -> str:
    """``date(2025, 11, 14)`` -> ``'14 Nov 2025'`` (how dates appear in report text)."""
    return f"{d.day} {d:%b %Y}"


@dataclass(frozen=True)
class ReportParams:
    """Validated parameters of one report."""

    store: Path
    as_of: date
    ytd_start: date
    start_month: int
    urn: str | None = None
    school_name: str | None = None
    phase: str | None = None
    dfe_dir: Path | None = None
    suppress_below: int = 5
    pseudonymise: bool = False
    pseudonym_key: str = ""
    term: str | None = None

    @property
    def academic_year(self) -> int:
        return self.ytd_start.year

    @property
    def year_label(self) -> str:
        """``'2025/26'``."""
        return academic_year_label(self.academic_year)

    @property
    def period_label(self) -> str:
        """``'year to date to 14 Nov 2025 (2025/26, from 1 Aug 2025)'``."""
        return (f"year to date to {long_date(self.as_of)} ({self.year_label}, from "
                f"{long_date(self.ytd_start)})")

    @property
    def school_label(self) -> str:
        return f"{self.school_name} (URN {self.urn})" if self.school_name else f"URN {self.urn}"


def _fail(name: str, problem: str) -> ReportParamsError:
    return ReportParamsError(f"parameter {name!r}: {problem}")


def _text(name: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _fail(name, f"{value!r} is not text")
    return str(value).strip()


def _first_mark(store: Store) -> date | None:
    """The store's first marked day. From the per-enrolment-year totals (``first_date``: one
    row per pupil and year) when the store has them: the same day as ``min(date)`` over the
    marks, without scanning every mark of the LA in every report (issue 9, batch speed)."""
    if store.has("enrolment_years"):
        first = store.con.execute("SELECT min(first_date) FROM enrolment_years").fetchone()[0]
        if first is not None:
            return pd.Timestamp(first).date()
    first, _ = store.date_range()
    return first


def _as_of(value, store: Store) -> date:
    text = _text("as_of", value)
    latest = store.latest_date()
    if latest is None:
        raise _fail("store", f"the store {store.root} holds no register marks yet")
    if not text:
        return latest
    try:
        d = date.fromisoformat(text)
    except ValueError:
        raise _fail("as_of", f"{text!r} is not a real date in the form YYYY-MM-DD") from None
    first = _first_mark(store)
    if first is not None and d < first:
        raise _fail("as_of", f"{d} is before the store's first mark ({first})")
    return d


def check_params(*, store="", as_of="", urn=None, dfe_dir=None, suppress_below=5,
                 pseudonymise=False, pseudonym_key="", term=None) -> ReportParams:
    """Check a template's parameters; ``urn``/``dfe_dir``/``term`` None = not a parameter.

    Raises
    ------
    ReportParamsError
        One sentence: which parameter, what is wrong, what was expected.
    """
    root = Path(_text("store", store) or paths.default_store_dir()).expanduser()
    full = Store(root)
    if not full.exists():
        raise _fail("store", f"{root} is not a store (no store.json); load data with "
                             f"'attendance ingest --store {root} ...'")
    try:
        day = _as_of(as_of, full)
        schools = full.schools()
        start_month = full.start_month
    finally:
        full.close()
    if isinstance(suppress_below, bool) or not isinstance(suppress_below, int):
        raise _fail("suppress_below", f"{suppress_below!r} is not a whole number")
    if suppress_below < 0:
        raise _fail("suppress_below", f"{suppress_below} is negative")
    if not isinstance(pseudonymise, bool):
        raise _fail("pseudonymise", f"{pseudonymise!r} is not True or False")
    key = _text("pseudonym_key", pseudonym_key)
    if pseudonymise and not key:
        raise _fail("pseudonym_key", "pseudonymise is True but no key was given")
    fields: dict = {}
    if urn is not None:
        text = _text("urn", urn)
        urns = [str(u) for u in schools["urn"]]
        if not urns:
            raise _fail("store", f"the store {root} has no schools")
        text = text or urns[0]
        if text not in urns:
            raise _fail("urn", f"{text!r} is not a school in the store (schools: "
                               f"{', '.join(urns[:20])}{' ...' if len(urns) > 20 else ''})")
        row = schools[schools["urn"].astype(str) == text].iloc[0]
        name, phase = row.get("name"), row.get("phase")
        fields.update(urn=text, school_name=str(name) if pd.notna(name) else None,
                      phase=str(phase).lower() if pd.notna(phase) else None)
    if dfe_dir is not None:
        folder = Path(_text("dfe_dir", dfe_dir) or paths.dfe_dir()).expanduser()
        if not folder.is_dir():
            raise _fail("dfe_dir", f"{folder} is not a folder (the published DfE statistics)")
        fields["dfe_dir"] = folder.resolve()
    if term is not None:
        t = _text("term", term).lower()
        if t and t not in TERMS:
            raise _fail("term", f"{term!r}: expected '' (the term containing as_of) or one of "
                                f"{', '.join(TERMS)}")
        fields["term"] = t or None
    start, _ = ytd_window(day, start_month)
    return ReportParams(store=root.resolve(), as_of=day, ytd_start=start,
                        start_month=start_month, suppress_below=int(suppress_below),
                        pseudonymise=pseudonymise, pseudonym_key=key, **fields)
