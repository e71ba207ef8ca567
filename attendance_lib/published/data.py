"""The published files a benchmark report reads, and the parameters that pick an LA and a year.

One concept: what a benchmark is built from. :func:`load_sources` reads, once, every published
file the report uses (through :mod:`attendance_lib.io.dfe`, so suppression symbols ``c x z SUPP
: .`` and blanks are missing, never zero; domain.md 2.3); :func:`benchmark_params` checks the
report's parameters (an LA by old 3-digit code, new E-code or name; a school-level year) and
turns a user's mistake into one :class:`BenchmarkInputError` sentence that lists what exists.
:func:`left_out` counts, per reason, the rows a calculation could not use.

Nothing is read at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from attendance_lib.io import dfe

__all__ = [
    "BenchmarkInputError",
    "BenchmarkParams",
    "Sources",
    "CENSUS_PHASES",
    "PHASES",
    "benchmark_params",
    "load_sources",
    "year_label",
    "left_out",
]

_CSP_CENSUS = "csp_school_level/csp_england_census_201819.csv.gz"
#: the January 2019 census (school characteristics) describes the 2018/19 school year
CHARACTERISTICS_YEAR = "201819"
#: census ``school_type`` -> the phase names the attendance collection uses
CENSUS_PHASES = {"State-funded primary": "Primary", "State-funded secondary": "Secondary",
                 "Special": "Special", "Total": "Total"}
PHASES = ("Total", "Primary", "Secondary", "Special")


class BenchmarkInputError(dfe.PublishedDataError):
    """A parameter the user gave (LA, year, folder) that the published files cannot serve."""


def year_label(code: str) -> str:
    """``'201819'`` -> ``'2018/19'``."""
    code = str(code)
    return f"{code[:4]}/{code[4:]}" if len(code) == 6 and code.isdigit() else code


@dataclass(frozen=True, eq=False)
class Sources:
    """Every published table a benchmark uses, read once (see the data README for each file).

    Attributes
    ----------
    schools : PublishedTable
        Census absence, school level, 2014/15-2018/19 (sessions, PA counts per URN).
    geographies : PublishedTable
        Census absence, national / regional / LA, 2006/07-2018/19.
    characteristics : PublishedTable
        Compare School Performance January 2019 census: % FSM ever, SEN, EAL, pupils per URN.
    ytd : dict
        Attendance-collection full-year (year-to-date) files by ``time_period`` code.
    bands_national, bands_la : PublishedTable
        Absence-band distributions (national + regional 2016/17-2022/23; LA 2021/22-2022/23).
    memo : dict
        Results derived from these tables that do not depend on the LA (the national
        expected-PA model), kept for the life of the process.
    """

    folder: Path
    schools: dfe.PublishedTable
    geographies: dfe.PublishedTable
    characteristics: dfe.PublishedTable
    ytd: Mapping[str, dfe.PublishedTable]
    bands_national: dfe.PublishedTable
    bands_la: dfe.PublishedTable
    memo: dict = field(default_factory=dict, repr=False)

    @property
    def school_years(self) -> list[str]:
        """``time_period`` codes with school-level census absence, oldest first."""
        return sorted(self.schools.frame["time_period"].dropna().unique())

    def tables(self) -> dict[str, dfe.PublishedTable]:
        """Every table read, by a short name (for listing files and suppression counts)."""
        out = {"census schools": self.schools, "census geographies": self.geographies,
               "CSP census 2019": self.characteristics,
               "bands national/regional": self.bands_national, "bands LA": self.bands_la}
        out.update({f"attendance ytd {year_label(k)}": t for k, t in sorted(self.ytd.items())})
        return out


@lru_cache(maxsize=2)
def _load(folder: str) -> Sources:
    path = Path(folder)
    ytd = {}
    for file in dfe.attendance_files("ytd", folder=path):
        code = file.name.split("_")[2]
        ytd[code] = dfe.attendance_collection("ytd", code, folder=path)
    return Sources(
        folder=path,
        schools=dfe.census_absence_schools(folder=path),
        geographies=dfe.census_absence_geographies(folder=path),
        characteristics=dfe.read_published(
            path / _CSP_CENSUS, file_label="Compare School Performance census 2018/19",
            required_columns=("URN", "LA", "SCHOOLTYPE", "NOR", "PNUMFSMEVER", "PSENELK",
                              "PSENELSE", "PNUMEAL")),
        ytd=ytd,
        bands_national=dfe.absence_bands("national_regional", folder=path),
        bands_la=dfe.absence_bands("la", folder=path),
    )


def load_sources(folder: str | Path | None = None) -> Sources:
    """Read every published file a benchmark uses (cached per folder within a process).

    Raises
    ------
    PublishedDataError
        A file is missing or not what was expected; the message names it.
    """
    return _load(str(dfe.published_folder(folder).resolve()))


@dataclass(frozen=True)
class BenchmarkParams:
    """Checked parameters of one benchmark report.

    ``school_year`` is the ``time_period`` code of the school-level sections (funnel plots);
    the expected-vs-actual model and similar schools always use 2018/19, the only year whose
    school characteristics are published in the files.
    """

    la: dfe.LocalAuthority
    school_year: str
    folder: Path

    @property
    def school_year_label(self) -> str:
        return year_label(self.school_year)


def _folder(dfe_dir: str | Path | None) -> Path:
    folder = dfe.published_folder(str(dfe_dir).strip() if dfe_dir not in (None, "") else None)
    if not folder.is_dir():
        raise BenchmarkInputError(f"dfe_dir {str(folder)!r}: no such folder; expected the "
                                  f"published DfE data folder (../shared/data/dfe or "
                                  f"ATTENDANCE_DFE_DIR)")
    return folder.resolve()


def _school_year(year: str | int | None, available: list[str]) -> str:
    listing = ", ".join(year_label(y) for y in available)
    text = "" if year is None else str(year).strip()
    if text in ("", "latest"):
        return available[-1]
    try:
        code = dfe.academic_year_code(text)
    except ValueError as exc:
        raise BenchmarkInputError(f"year {text!r}: {exc}; school-level figures exist for "
                                  f"{listing}") from None
    if code not in available:
        raise BenchmarkInputError(f"year {text!r}: the published files have no school-level "
                                  f"absence for {year_label(code)}; school-level census absence "
                                  f"exists for {listing} (leave the year empty for the latest)")
    return code


def benchmark_params(la: str | int, year: str | int | None = "", dfe_dir: str | Path | None = ""
                     ) -> BenchmarkParams:
    """Check a benchmark's parameters: the LA, the school-level year and the data folder.

    Parameters
    ----------
    la : str or int
        Old 3-digit code (``886``), new E-code (``E10000016``) or name (``kent``; case,
        spaces and punctuation ignored).
    year : str
        ``"2018/19"``, ``"201819"`` or ``2018``; empty = the latest school-level year.
    dfe_dir : str or Path
        The published data folder; empty = :func:`attendance_lib.paths.dfe_dir`.

    Raises
    ------
    BenchmarkInputError
        One sentence naming the problem and what exists (close LA codes and the full list of
        codes, via :func:`attendance_lib.io.dfe.find_la`; the years there are).
    """
    folder = _folder(dfe_dir)
    text = str(la).strip()
    if not text:
        raise BenchmarkInputError("la: no local authority given; give an old 3-digit code "
                                  "(886), a new E-code (E10000016) or a name (Kent)")
    try:
        authority = dfe.find_la(text, folder=folder)
    except dfe.UnknownLAError as exc:
        raise BenchmarkInputError(f"la: {exc}") from None
    sources = load_sources(folder)
    if not _has_rows(sources, authority):
        raise BenchmarkInputError(f"la {text!r} ({authority.la_name}, {authority.new_la_code}) "
                                  f"has no rows in the published absence files in {folder}")
    return BenchmarkParams(la=authority, school_year=_school_year(year, sources.school_years),
                           folder=folder)


def _has_rows(sources: Sources, la: dfe.LocalAuthority) -> bool:
    frames = [sources.geographies.frame, sources.bands_la.frame,
              *(t.frame for t in sources.ytd.values())]
    return any(len(dfe.la_rows(f, la)) for f in frames)


def left_out(frame: pd.DataFrame, reasons: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Rows a calculation could not use, counted per reason (first reason that applies wins).

    Parameters
    ----------
    frame : DataFrame
        The candidate rows.
    reasons : mapping of str to boolean Series
        Reason text -> mask of rows left out for it (aligned with ``frame``).

    Returns
    -------
    DataFrame
        ``reason``, ``rows`` (count; reasons with no rows are kept, showing 0), with a final
        ``total`` row; the number used is ``len(frame) - total``.

    >>> f = pd.DataFrame({"a": [1, None, 3], "b": [None, None, 1]})
    >>> left_out(f, {"a missing": f["a"].isna(), "b missing": f["b"].isna()})
          reason  rows
    0  a missing     1
    1  b missing     1
    2      total     2
    """
    taken = pd.Series(False, index=frame.index)
    rows = []
    for reason, mask in reasons.items():
        mask = mask.reindex(frame.index).fillna(False).astype(bool)
        rows.append({"reason": reason, "rows": int((mask & ~taken).sum())})
        taken |= mask
    rows.append({"reason": "total", "rows": int(taken.sum())})
    return pd.DataFrame(rows)
