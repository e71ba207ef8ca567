"""The published DfE attendance and absence statistics the suite uses (EES / CSP gzip CSVs).

The files live in :func:`attendance_lib.paths.dfe_dir` (``ATTENDANCE_DFE_DIR`` overrides) and are
described in ``../shared/data/dfe/README.md``. One concept: which published files the suite
reads. The convenience loaders name them: :func:`census_absence_schools`,
:func:`census_absence_geographies`, :func:`attendance_collection` (:func:`attendance_files`
lists them) and :func:`absence_bands` (summed by :func:`band_totals`). Nothing is read at import.

This is also the one import for published data; it re-exports

* from :mod:`attendance_lib.io.dfe_files`: :func:`read_published` -- any published gzip CSV,
  with suppression symbols (``c`` confidential, ``x`` not available, ``z`` not applicable,
  ``SUPP`` (CSP), ``:`` and ``.``) and blanks (``NA``, ``NaN``, empty) read as missing, **never
  zero** (domain.md section 2.3) and counted per column in :attr:`PublishedTable.suppressed`;
  :func:`academic_year_code` and :func:`round_half_up`;
* from :mod:`attendance_lib.io.dfe_reconcile`: the suite's checks against the published
  figures, :func:`aggregate_schools_to_la` (school rows summed to LA x school type plus
  ``Total``, which reproduces the published LA rows exactly, domain.md section 9) and
  :func:`reconcile_attendance_collection` (the suite's code table applied to the per-code
  ``reason_*`` columns of the attendance collection, beside DfE's published totals; domain.md
  sections 1, 2.1 and 9);
* from :mod:`attendance_lib.io.dfe_geography`: :func:`find_la` and :func:`la_rows`, which
  resolve a local authority given by old code, new code or name.

Examples
--------
>>> round_half_up(8.203125, 5), round_half_up(28.75, 1)
(8.20313, 28.8)
>>> academic_year_code(2023), academic_year_code("2024/25")
('202324', '202425')
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .dfe_files import (
    BLANK_SYMBOLS,
    IDENTIFIER_COLUMNS,
    SUPPRESSION_SYMBOLS,
    PublishedDataError,
    PublishedTable,
    academic_year_code,
    published_folder,
    read_published,
    round_half_up,
)
from .dfe_geography import LocalAuthority, UnknownLAError, find_la, la_lookup, la_rows
from .dfe_reconcile import (
    ATTENDANCE_PUBLISHED_TOTALS,
    CENSUS_SCHOOL_COLUMNS,
    SCHOOL_LA_KEYS,
    aggregate_schools_to_la,
    reason_column_categories,
    reconcile_attendance_collection,
)

__all__ = [
    "SUPPRESSION_SYMBOLS",
    "BLANK_SYMBOLS",
    "IDENTIFIER_COLUMNS",
    "SCHOOL_LA_KEYS",
    "ATTENDANCE_PUBLISHED_TOTALS",
    "PublishedDataError",
    "UnknownLAError",
    "PublishedTable",
    "LocalAuthority",
    "academic_year_code",
    "round_half_up",
    "read_published",
    "census_absence_schools",
    "census_absence_geographies",
    "attendance_collection",
    "attendance_files",
    "absence_bands",
    "band_totals",
    "aggregate_schools_to_la",
    "reason_column_categories",
    "reconcile_attendance_collection",
    "la_lookup",
    "find_la",
    "la_rows",
]

_CENSUS_SCHOOLS = "ees_pupil_absence/absence_3term_201819_release_school_201415_to_201819.csv.gz"
_CENSUS_GEOGRAPHIES = "ees_pupil_absence/absence_3term_201819_release_nat_reg_la_200607_to_201819.csv.gz"
_BANDS = {
    "national_regional": "ees_absence_distributions/"
                         "absence_bands_distributions_nat_reg_201617_to_202223.csv.gz",
    "la": "ees_absence_distributions/absence_bands_distributions_la_202122_to_202223.csv.gz",
}
_BAND_COLUMNS = ("pct5_OARate", "pct10_OARate", "pct15_OARate", "pct20_OARate", "pct25_OARate",
                 "pct30_OARate", "pct35_OARate", "pct40_OARate", "pct45_OARate", "pct50_OARate",
                 "pct50plus_OARate")
_ATTENDANCE_KINDS = ("ytd", "term", "weekly", "daily")
_TERMS = ("autumn", "spring", "summer")


# --------------------------------------------------------------------------------------------
# convenience loaders


def census_absence_schools(*, folder: str | Path | None = None) -> PublishedTable:
    """School-level census absence, 2014/15-2018/19 (106,064 school-year rows).

    Full-year (six half terms) sessions, PA (10%+) counts and reasons per school; primary,
    secondary and special. Identifiers (``urn``, ``laestab``, ``old_la_code``, ``time_period``)
    are strings. domain.md 2.1-2.2, 9.
    """
    return read_published(published_folder(folder) / _CENSUS_SCHOOLS,
                          file_label="census absence, school level 2014/15-2018/19",
                          required_columns=("urn",) + CENSUS_SCHOOL_COLUMNS)


def census_absence_geographies(*, folder: str | Path | None = None) -> PublishedTable:
    """National, regional and LA census absence, 2006/07-2018/19, by school type incl. ``Total``.

    ``year_breakdown`` says "five half terms" up to 2011/12 and "six half terms" after.
    """
    return read_published(published_folder(folder) / _CENSUS_GEOGRAPHIES,
                          file_label="census absence, national/regional/LA 2006/07-2018/19",
                          required_columns=("geographic_level",) + CENSUS_SCHOOL_COLUMNS)


def attendance_files(kind: str | None = None, *, folder: str | Path | None = None
                     ) -> list[Path]:
    """The attendance-collection files present, optionally of one kind (``ytd``, ``term`` ...)."""
    pattern = f"attendance_{kind}_*.csv.gz" if kind else "attendance_*.csv.gz"
    return sorted((published_folder(folder) / "ees_pupil_attendance").glob(pattern))


def attendance_collection(kind: str, academic_year: int | str, *, term: str | None = None,
                          folder: str | Path | None = None) -> PublishedTable:
    """One file of the attendance data collection ("Pupil attendance in schools").

    Parameters
    ----------
    kind : {"ytd", "term", "weekly", "daily"}
        Year to date (the final full-year file), one term, weekly or daily rows.
    academic_year : int or str
        Start year (2023 = 2023/24) or ``"2023/24"``.
    term : {"autumn", "spring", "summer"}, optional
        Required for ``kind="term"``, not allowed otherwise.

    Notes
    -----
    Files are found by glob (``attendance_{kind}_{202324}_*.csv.gz``), not by a fixed name. The
    2025/26 files' ``education_phase`` is returned as ``school_type``. Counts are published
    session totals and one column per register code (domain.md 1, 2.1, 3.2); ``c`` marks
    suppressed cells for very small LAs (domain.md 2.3).
    """
    kind = str(kind).lower()
    if kind not in _ATTENDANCE_KINDS:
        raise ValueError(f"kind {kind!r}: expected one of {', '.join(_ATTENDANCE_KINDS)}")
    code = academic_year_code(academic_year)
    if kind == "term":
        if term is None or str(term).lower() not in _TERMS:
            raise ValueError(f"term {term!r}: kind='term' needs one of {', '.join(_TERMS)}")
        pattern = f"attendance_term_{code}_{str(term).lower()}.csv.gz"
    else:
        if term is not None:
            raise ValueError(f"term={term!r} only applies to kind='term', not {kind!r}")
        pattern = f"attendance_{kind}_{code}_*.csv.gz"
    folder_path = published_folder(folder) / "ees_pupil_attendance"
    found = sorted(folder_path.glob(pattern))
    what = f"attendance collection {kind} {code[:4]}/{code[4:]}" + (f" {term}" if term else "")
    if len(found) != 1:
        have = ", ".join(p.name for p in attendance_files(kind, folder=folder)) or "none"
        problem = "no file matches" if not found else f"{len(found)} files match"
        raise PublishedDataError(f"{what}: {problem} {folder_path / pattern}; "
                                 f"{kind} files present: {have}")
    return read_published(found[0], file_label=what,
                          required_columns=("time_period", "geographic_level", "school_type",
                                            *ATTENDANCE_PUBLISHED_TOTALS))


def absence_bands(level: str = "national_regional", *,
                  folder: str | Path | None = None) -> PublishedTable:
    """Pupil enrolments by 5-point overall-absence band (the absence distributions files).

    Parameters
    ----------
    level : {"national_regional", "la"}
        National + regional rows 2016/17-2022/23 (no 2019/20), or LA rows 2021/22-2022/23.

    Notes
    -----
    The files hold only the finest breakdown (``school_type`` x ``fsm_eligible`` x
    ``sen_status`` x ``gender`` x ``NCyearActual``): there are no ``Total`` rows, so the
    all-pupil figure is the sum over every row (see :func:`band_totals`). Bands: ``pct5`` =
    [0, 5), ``pct10`` = [5, 10), ..., ``pct50`` = [45, 50), ``pct50plus`` = [50, 100]; PA
    (>= 10%) is ``pct15`` .. ``pct50plus`` and severe (>= 50%) is ``pct50plus`` (domain.md 2.1, 9).
    """
    if level not in _BANDS:
        raise ValueError(f"level {level!r}: expected one of {', '.join(_BANDS)}")
    return read_published(published_folder(folder) / _BANDS[level],
                          file_label=f"absence distributions ({level})",
                          required_columns=("time_period", "geographic_level", "school_type")
                          + _BAND_COLUMNS)


def band_totals(frame: pd.DataFrame, by: Iterable[str] = ("time_period", "geographic_level")
                ) -> pd.DataFrame:
    """Enrolments, PA (>= 10%) and severe (>= 50%) counts from an absence-bands frame.

    Sums the band columns over every row in each ``by`` group, returning ``enrolments``,
    ``pa_10``, ``severe_50`` and their percentages of enrolments (unrounded). domain.md 2.1.
    """
    by = list(by)
    missing = [c for c in (*by, *_BAND_COLUMNS) if c not in frame.columns]
    if missing:
        raise ValueError(f"band_totals: frame lacks column(s) {', '.join(missing)}")
    sums = frame.groupby(by, dropna=False)[list(_BAND_COLUMNS)].sum()
    out = pd.DataFrame({
        "enrolments": sums.sum(axis=1),
        "pa_10": sums[list(_BAND_COLUMNS[2:])].sum(axis=1),
        "severe_50": sums["pct50plus_OARate"],
    })
    out["pa_10_percent"] = out["pa_10"] / out["enrolments"] * 100
    out["severe_50_percent"] = out["severe_50"] / out["enrolments"] * 100
    return out.reset_index()
