"""Loaders for the published DfE attendance and absence statistics (the EES / CSP gzip CSVs).

The files live in :func:`attendance_lib.paths.dfe_dir` (``ATTENDANCE_DFE_DIR`` overrides) and are
described in ``../shared/data/dfe/README.md``. This module reads them faithfully and gives the
suite three checks against them:

* :func:`read_published` -- any published gzip CSV: suppression symbols (``c`` confidential,
  ``x`` not available, ``z`` not applicable, ``SUPP`` (CSP), ``:`` and ``.``) and blanks
  (``NA``, ``NaN``, empty) become missing, **never zero** (domain.md section 2.3); the symbols
  are counted per column in :attr:`PublishedTable.suppressed`. Identifier columns (LA codes,
  URNs, ``time_period``, names ...) stay strings with surrounding spaces stripped; every other
  column of numbers becomes nullable ``Int64`` (whole numbers) or ``float64``.
* :func:`aggregate_schools_to_la` -- school rows summed to LA x school type (plus ``Total``),
  which reproduces the published LA rows exactly (domain.md section 9).
* :func:`reconcile_attendance_collection` -- the suite's code table
  (:mod:`attendance_lib.codes`) applied to the per-code ``reason_*`` columns of the attendance
  collection, beside DfE's published present / AEA / authorised / unauthorised / possible totals
  (domain.md sections 1, 2.1 and 9).

Convenience loaders name the files the suite uses: :func:`census_absence_schools`,
:func:`census_absence_geographies`, :func:`attendance_collection`, :func:`absence_bands`;
:func:`find_la` and :func:`la_rows` resolve a local authority given by old code, new code or
name. Nothing is read at import.

Examples
--------
>>> round_half_up(8.203125, 5), round_half_up(28.75, 1)
(8.20313, 28.8)
>>> academic_year_code(2023), academic_year_code("2024/25")
('202324', '202425')
"""

from __future__ import annotations

import csv
import difflib
import gzip
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attendance_lib import codes, paths

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

#: symbols DfE / CSP print instead of a value (domain.md 2.3; data README "Suppression codes")
SUPPRESSION_SYMBOLS = ("c", "x", "z", "SUPP", ":", ".")
#: blank markers: read as missing, not counted as suppression
BLANK_SYMBOLS = ("", "NA", "NaN")

#: columns that identify a row rather than measure something: they stay strings
IDENTIFIER_COLUMNS = frozenset({
    "time_period", "time_identifier", "time_frame", "academic_year", "year", "term",
    "year_breakdown", "level", "geographic_level", "country_code", "country_name",
    "region_code", "region_name", "region", "old_la_code", "new_la_code", "la_name", "la", "lea",
    "la name", "region name", "estab", "laestab", "urn", "school_type", "education_phase",
    "academy_type", "academy_open_date", "all_through", "attendance_date", "fsm_eligible",
    "sen_status", "gender", "ncyearactual", "characteristic", "social_care_group",
    "phase_type_grouping", "absence_terms", "percent_bands",
})
_IDENTIFIER_SUFFIXES = ("_code", "_name", "_date")

#: grouping keys of :func:`aggregate_schools_to_la`, in output order (those present are used)
SCHOOL_LA_KEYS = ("time_period", "time_identifier", "year_breakdown", "country_code",
                  "country_name", "region_code", "region_name", "old_la_code", "new_la_code",
                  "la_name", "school_type")
_SCHOOL_REQUIRED = ("time_period", "old_la_code", "school_type", "enrolments", "sess_possible",
                    "sess_overall", "sess_authorised", "sess_unauthorised",
                    "enrolments_pa_10_exact")
#: rate column -> (numerator, denominator), recomputed unrounded after summing (domain.md 2.1)
_CENSUS_RATES = {
    "sess_overall_percent": ("sess_overall", "sess_possible"),
    "sess_authorised_percent": ("sess_authorised", "sess_possible"),
    "sess_unauthorised_percent": ("sess_unauthorised", "sess_possible"),
    "enrolments_pa_10_exact_percent": ("enrolments_pa_10_exact", "enrolments"),
    "sess_overall_percent_pa_10_exact": ("sess_overall_pa_10_exact", "sess_possible_pa_10_exact"),
    "sess_authorised_percent_pa_10_exact": ("sess_authorised_pa_10_exact",
                                            "sess_possible_pa_10_exact"),
    "sess_unauthorised_percent_pa_10_exact": ("sess_unauthorised_pa_10_exact",
                                              "sess_possible_pa_10_exact"),
}

#: published attendance-collection total -> code-table category it should equal (domain.md 2.1)
ATTENDANCE_PUBLISHED_TOTALS = {
    "present_sessions": codes.PRESENT,
    "approved_educational_activity": codes.AEA,
    "authorised_absence": codes.AUTHORISED,
    "unauthorised_absence": codes.UNAUTHORISED,
    "possible_sessions": "possible",
}
_ROW_KEYS = ("time_period", "time_identifier", "attendance_date", "geographic_level",
             "region_code", "region_name", "old_la_code", "new_la_code", "la_name", "school_type")

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
_LA_LOOKUP = "reference/dfe_las.csv.gz"
_GZIP_MAGIC = b"\x1f\x8b"
_OLD_CODE = re.compile(r"^\d{3}$")
_NEW_CODE = re.compile(r"^[EWSN]\d{8}$", re.IGNORECASE)


class PublishedDataError(ValueError):
    """A published DfE file is missing or is not the gzip CSV that was expected.

    The message names the file and what was expected.
    """


class UnknownLAError(PublishedDataError, LookupError):
    """An LA identifier (old code, new code or name) that the DfE LA lookup does not know."""


@dataclass(frozen=True, eq=False)
class PublishedTable:
    """One published file, read.

    Attributes
    ----------
    frame : DataFrame
        The data: suppressed and blank cells are missing (``<NA>`` / ``NaN``), never 0.
    suppressed : DataFrame
        Per column (index ``column``) the count of cells holding each suppression symbol
        (one column per symbol in :data:`SUPPRESSION_SYMBOLS`, plus ``total``); only columns
        with at least one such cell appear. Blanks (``NA``, ``NaN``, empty) are not counted.
    path : Path
        The file read.
    label : str
        A short human name for messages.
    """

    frame: pd.DataFrame
    suppressed: pd.DataFrame
    path: Path
    label: str = ""

    def suppressed_count(self, column: str, symbol: str | None = None) -> int:
        """Cells of ``column`` that held ``symbol`` (any suppression symbol when None)."""
        if symbol is not None and symbol not in SUPPRESSION_SYMBOLS:
            raise ValueError(f"symbol {symbol!r}: expected one of {SUPPRESSION_SYMBOLS}")
        if column not in self.suppressed.index:
            return 0
        return int(self.suppressed.loc[column, symbol or "total"])


@dataclass(frozen=True)
class LocalAuthority:
    """A local authority as named in DfE's LA lookup (``reference/dfe_las.csv.gz``).

    ``new_la_codes`` holds every E-code recorded for the same old code (an LA re-coded after a
    boundary change, e.g. Gateshead E08000020 -> E08000037), so historical rows can be found.
    """

    old_la_code: str | None
    new_la_code: str
    la_name: str
    status: str
    new_la_codes: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------------------------
# small helpers


def academic_year_code(academic_year: int | str) -> str:
    """DfE ``time_period`` code of an academic year given by start year, e.g. 2023 -> ``'202324'``.

    Accepts ``2023``, ``"2023"``, ``"2023/24"``, ``"2023-24"`` or ``"202324"``.
    """
    text = str(academic_year).strip()
    m = re.fullmatch(r"(\d{4})(?:[/-]?(\d{2}))?", text)
    if not m:
        raise ValueError(f"academic year {academic_year!r}: expected a start year such as 2023 "
                         f"or '2023/24'")
    start = int(m.group(1))
    if m.group(2) is not None and int(m.group(2)) != (start + 1) % 100:
        raise ValueError(f"academic year {academic_year!r}: the second part must be the year "
                         f"after {start}")
    return f"{start}{(start + 1) % 100:02d}"


def _start_year(academic_year: int | str) -> int:
    return int(academic_year_code(academic_year)[:4])


def round_half_up(values, ndigits: int = 0):
    """Round halves away from zero, as DfE rounds its published rates (domain.md 2.3).

    Python's :func:`round` rounds halves to even, so ``round(8.203125, 5)`` gives 8.20312 where
    the published file shows 8.20313. The binary value is rounded as it stands, as DfE's own
    processing does: ``403 / 1280 * 100`` is ``31.484374999999996`` in floating point and DfE
    publishes 31.48437. Rates computed as ``numerator / denominator * 100`` and rounded with
    this function reproduce every 5-decimal rate in the census absence file.

    >>> round_half_up(2.5), round_half_up(-2.5), round_half_up(8.203125, 5)
    (3.0, -3.0, 8.20313)
    """
    factor = 10.0 ** ndigits
    arr = np.asarray(values, dtype="float64")
    out = np.sign(arr) * np.floor(np.abs(arr) * factor + 0.5) / factor
    if isinstance(values, pd.Series):
        return pd.Series(out, index=values.index, name=values.name)
    return float(out) if np.ndim(out) == 0 else out


def _is_identifier(column: str, extra: frozenset[str]) -> bool:
    low = column.strip().lower()
    return low in IDENTIFIER_COLUMNS or low in extra or low.endswith(_IDENTIFIER_SUFFIXES)


def _is_rate(column: str) -> bool:
    return "perc" in column.lower()


# --------------------------------------------------------------------------------------------
# reading one file


def _fail(path: Path, label: str, problem: str) -> PublishedDataError:
    name = f"{label} ({path})" if label else str(path)
    return PublishedDataError(f"{name}: {problem}")


def _read_strings(path: Path, label: str) -> pd.DataFrame:
    """Every cell as a string; file problems become :class:`PublishedDataError`."""
    expected = "expected a gzip-compressed CSV file of published DfE statistics"
    if not path.exists():
        hint = (" (the DfE folder comes from ATTENDANCE_DFE_DIR or ../shared/data/dfe)"
                if not path.parent.exists() else "")
        raise _fail(path, label, f"file not found; {expected}{hint}")
    if not path.is_file():
        raise _fail(path, label, f"is not a file; {expected}")
    with path.open("rb") as fh:
        head = fh.read(2)
    if head != _GZIP_MAGIC:
        raise _fail(path, label, f"is not gzip-compressed (first bytes {head!r}); {expected}")
    try:
        frame = pd.read_csv(path, compression="gzip", dtype=str, keep_default_na=False,
                            na_filter=False, encoding="utf-8-sig", skipinitialspace=False)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _fail(path, label, f"cannot be decompressed ({exc}); {expected}") from None
    except UnicodeDecodeError as exc:
        raise _fail(path, label, f"is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                 f"{expected}") from None
    except pd.errors.EmptyDataError:
        raise _fail(path, label, f"is empty; {expected}") from None
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise _fail(path, label, f"is not a readable CSV ({exc}); {expected}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise _fail(path, label, f"has a header but no data rows; {expected}")
    return frame


def _parse_numbers(text: pd.Series, rate: bool) -> pd.Series | None:
    """Strings (missing = null) -> Int64 / float64, or None when any value is not a number."""
    arr = pa.array(text, type=pa.large_string(), from_pandas=True)
    if not rate:
        try:
            ints = pc.cast(arr, pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            return pd.Series(ints.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get),
                             index=text.index, name=text.name)
    try:
        floats = pd.Series(pc.cast(arr, pa.float64()).to_pandas(), index=text.index,
                           name=text.name, dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    present = floats.dropna()
    if not rate and bool((present == np.floor(present)).all()):
        return floats.astype("Int64")          # whole numbers printed as 4.0
    return floats


def _convert_column(raw: pd.Series, identifier: bool, rate: bool) -> tuple[pd.Series, dict]:
    """One column of strings -> (typed column, {symbol: count})."""
    text = raw.str.strip()
    counts = {s: int(n) for s, n in text[text.isin(SUPPRESSION_SYMBOLS)].value_counts().items()}
    text = text.where(~text.isin(SUPPRESSION_SYMBOLS + BLANK_SYMBOLS))
    if identifier:
        return text, counts
    numbers = _parse_numbers(text, rate)
    return (text if numbers is None else numbers), counts


def _suppression_table(counts: Mapping[str, Mapping[str, int]]) -> pd.DataFrame:
    rows = {col: c for col, c in counts.items() if c}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(SUPPRESSION_SYMBOLS))
    table = table.fillna(0).astype("int64")
    table["total"] = table.sum(axis=1)
    table.index.name = "column"
    return table


def _normalise_phase(frame: pd.DataFrame, suppressed: pd.DataFrame
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """2025/26 files call ``school_type`` ``education_phase``: give callers one name."""
    if "education_phase" in frame.columns and "school_type" not in frame.columns:
        frame = frame.rename(columns={"education_phase": "school_type"})
        suppressed = suppressed.rename(index={"education_phase": "school_type"})
    return frame, suppressed


def read_published(path: str | Path, *, file_label: str | None = None,
                   required_columns: Iterable[str] = (),
                   id_columns: Iterable[str] = ()) -> PublishedTable:
    """Read one published DfE gzip CSV with suppression read as missing (domain.md 2.3).

    Parameters
    ----------
    path : str or Path
        A gzip-compressed CSV (EES or Compare School Performance layout).
    file_label : str, optional
        Human name used in error messages (default: the file name).
    required_columns : iterable of str
        Columns the caller needs (checked after ``education_phase`` is renamed
        ``school_type``); a file without them is "not of the expected kind".
    id_columns : iterable of str
        Extra identifier columns to keep as strings, beside :data:`IDENTIFIER_COLUMNS` and names
        ending ``_code``, ``_name`` or ``_date``.

    Returns
    -------
    PublishedTable
        ``frame``: symbols ``c x z SUPP : .`` and blanks ``NA NaN`` / empty are missing (never
        0); identifier columns are stripped strings; other numeric columns are ``Int64`` when
        every value is whole (and the name has no ``perc``), ``float64`` otherwise; columns of
        words stay strings; ``education_phase`` (2025/26 attendance files) is renamed
        ``school_type`` when the file has no ``school_type``. ``suppressed``: symbol counts
        per column.

    Raises
    ------
    PublishedDataError
        Missing file, not gzip, not UTF-8 CSV, no data rows, or required columns absent; the
        message names the file and what was expected.
    """
    path = Path(path)
    label = file_label or path.name
    raw = _read_strings(path, label)
    extra = frozenset(c.lower() for c in id_columns)
    columns: dict[str, pd.Series] = {}
    counts: dict[str, dict] = {}
    for col in raw.columns:
        columns[col], counts[col] = _convert_column(raw[col], _is_identifier(col, extra),
                                                    _is_rate(col))
    frame = pd.DataFrame(columns, index=raw.index)
    frame, suppressed = _normalise_phase(frame, _suppression_table(counts))
    missing = [c for c in required_columns if c not in frame.columns]
    if missing:
        shown = ", ".join(list(frame.columns)[:12])
        raise _fail(path, label, f"lacks the expected column(s) {', '.join(missing)}; found "
                                 f"{len(frame.columns)} columns: {shown}"
                                 f"{', ...' if len(frame.columns) > 12 else ''}")
    return PublishedTable(frame=frame, suppressed=suppressed, path=path, label=label)


# --------------------------------------------------------------------------------------------
# convenience loaders


def _folder(folder: str | Path | None) -> Path:
    return Path(folder) if folder is not None else paths.dfe_dir()


def census_absence_schools(*, folder: str | Path | None = None) -> PublishedTable:
    """School-level census absence, 2014/15-2018/19 (106,064 school-year rows).

    Full-year (six half terms) sessions, PA (10%+) counts and reasons per school; primary,
    secondary and special. Identifiers (``urn``, ``laestab``, ``old_la_code``, ``time_period``)
    are strings. domain.md 2.1-2.2, 9.
    """
    return read_published(_folder(folder) / _CENSUS_SCHOOLS,
                          file_label="census absence, school level 2014/15-2018/19",
                          required_columns=("urn",) + _SCHOOL_REQUIRED)


def census_absence_geographies(*, folder: str | Path | None = None) -> PublishedTable:
    """National, regional and LA census absence, 2006/07-2018/19, by school type incl. ``Total``.

    ``year_breakdown`` says "five half terms" up to 2011/12 and "six half terms" after.
    """
    return read_published(_folder(folder) / _CENSUS_GEOGRAPHIES,
                          file_label="census absence, national/regional/LA 2006/07-2018/19",
                          required_columns=("geographic_level",) + _SCHOOL_REQUIRED)


def attendance_files(kind: str | None = None, *, folder: str | Path | None = None
                     ) -> list[Path]:
    """The attendance-collection files present, optionally of one kind (``ytd``, ``term`` ...)."""
    pattern = f"attendance_{kind}_*.csv.gz" if kind else "attendance_*.csv.gz"
    return sorted((_folder(folder) / "ees_pupil_attendance").glob(pattern))


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
    folder_path = _folder(folder) / "ees_pupil_attendance"
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
    return read_published(_folder(folder) / _BANDS[level],
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


# --------------------------------------------------------------------------------------------
# school -> LA aggregation


def _count_columns(frame: pd.DataFrame) -> list[str]:
    """Session / enrolment count columns of a census frame (percentages left out)."""
    return [c for c in frame.columns
            if (c == "num_schools" or c.startswith(("sess_", "enrolments")))
            and "percent" not in c and pd.api.types.is_numeric_dtype(frame[c])]


def _strict_group_sum(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Group sums that stay missing when any member is missing (suppressed != 0)."""
    grouped = frame.groupby(keys, dropna=False, sort=True)
    sums = grouped[columns].sum()
    any_missing = frame[columns].isna().groupby([frame[k] for k in keys], dropna=False,
                                                sort=True).any()
    return sums.mask(any_missing.reindex(sums.index).to_numpy())


def _add_census_rates(frame: pd.DataFrame) -> pd.DataFrame:
    rates = {}
    for rate, (num, den) in _CENSUS_RATES.items():
        if num in frame.columns and den in frame.columns:
            n = frame[num].astype("float64")
            d = frame[den].astype("float64")
            rates[rate] = (n / d.where(d != 0) * 100).astype("float64")
    return frame.assign(**rates)


def aggregate_schools_to_la(schools: pd.DataFrame, *, include_total: bool = True
                            ) -> pd.DataFrame:
    """Sum census school rows to LA x school type (and ``Total``), with the rates recomputed.

    Parameters
    ----------
    schools : DataFrame
        School rows as from :func:`census_absence_schools` (``.frame``).
    include_total : bool
        Also sum all school types of an LA into ``school_type == "Total"``, as the published LA
        file has (state-funded primary + secondary + special).

    Returns
    -------
    DataFrame
        One row per (:data:`SCHOOL_LA_KEYS` present): ``geographic_level`` = "Local authority",
        the summed counts (``num_schools``, ``enrolments``, every ``sess_*`` count,
        ``enrolments_pa_10_exact``) and unrounded rates: ``sess_overall_percent`` =
        ``sess_overall / sess_possible * 100``, authorised/unauthorised likewise, and
        ``enrolments_pa_10_exact_percent`` = PA enrolments / enrolments * 100 (domain.md 2.1).
        A group sum is missing when any school's value is missing. The published LA file shows
        these rates to 5 decimal places, rounded half up (:func:`round_half_up`).

    Notes
    -----
    Against the published LA rows 2014/15-2018/19 this reproduces all six headline counts in
    every one of the 2,255 LA x type x year cells, and in the 760 ``Total`` cells (domain.md 9).
    """
    missing = [c for c in _SCHOOL_REQUIRED if c not in schools.columns]
    if missing:
        raise ValueError(f"aggregate_schools_to_la: school frame lacks column(s) "
                         f"{', '.join(missing)}")
    keys = [k for k in SCHOOL_LA_KEYS if k in schools.columns]
    columns = _count_columns(schools)
    parts = [_strict_group_sum(schools, keys, columns).reset_index()]
    if include_total:
        by_la = [k for k in keys if k != "school_type"]
        total = _strict_group_sum(schools, by_la, columns).reset_index()
        parts.append(total.assign(school_type="Total")[keys + columns])
    out = pd.concat(parts, ignore_index=True)
    out.insert(keys.index("school_type"), "geographic_level", "Local authority")
    return _add_census_rates(out).sort_values(keys, ignore_index=True)


# --------------------------------------------------------------------------------------------
# attendance collection against the code table


def reason_column_categories(columns: Iterable[str], academic_year: int | str,
                             category_overrides: Mapping[str, str] | None = None
                             ) -> dict[str, str]:
    """Statistical category of each per-code ``reason_*`` column (domain.md 1, 2.1).

    Uses :func:`attendance_lib.codes.dfe_reason_column_code` and
    :func:`attendance_lib.codes.category_of` with ``include_withdrawn=True`` (the 2024/25+
    files still carry legacy ``H`` and ``J`` columns that DfE counts). Derived columns
    (``reason_present`` = AM + PM) are left out so nothing is counted twice; if a file has
    ``reason_present`` but no AM/PM columns, it stands for present.

    ``category_overrides`` maps a register code to a category for this call only (e.g. to
    test a hypothesis about how DfE counted a code); the code table itself is not changed.

    Raises
    ------
    PublishedDataError
        A ``reason_*`` column whose code is not in that year's code set.
    """
    columns = list(columns)
    year = _start_year(academic_year)
    overrides = dict(category_overrides or {})
    out: dict[str, str] = {}
    for col in columns:
        code = codes.dfe_reason_column_code(col)
        if code is None:
            continue
        if code in overrides:
            out[col] = overrides[code]
            continue
        try:
            out[col] = codes.category_of(code, year, include_withdrawn=True)
        except codes.UnknownCodeError as exc:
            raise PublishedDataError(f"column {col!r}: {exc}") from None
    if not any(codes.dfe_reason_column_code(c) in ("/", "\\") for c in out) \
            and "reason_present" in columns:
        out["reason_present"] = codes.PRESENT
    return out


def _category_sum(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    """Row sums that are missing when any input is missing (suppressed is never 0)."""
    if not cols:
        return pd.Series(0, index=frame.index, dtype="Int64")
    block = frame[cols].astype("Float64")
    total = block.sum(axis=1, skipna=False)
    return total.round().astype("Int64")


def reconcile_attendance_collection(frame: pd.DataFrame, academic_year: int | str, *,
                                    category_overrides: Mapping[str, str] | None = None
                                    ) -> pd.DataFrame:
    """The code table applied to the per-code columns, beside DfE's published totals.

    Parameters
    ----------
    frame : DataFrame
        An attendance-collection frame (:func:`attendance_collection` ``.frame``; any kind).
    academic_year : int or str
        Academic year whose code set applies (2023 = 2023/24; 2024 onwards = 2024 codes).
    category_overrides : mapping, optional
        Code -> category for this call only (see :func:`reason_column_categories`).

    Returns
    -------
    DataFrame
        Row keys (``time_period``, ``geographic_level``, codes, names, ``school_type`` ...),
        then for each published total in :data:`ATTENDANCE_PUBLISHED_TOTALS` the published
        value, ``computed_<total>`` (sum of that category's reason columns; possible = present
        + AEA + authorised + unauthorised + COVID-X, domain.md 2.1) and ``diff_<total>`` =
        published - computed; also ``computed_not_possible_sessions`` (``D``, ``X`` ...,
        domain.md 9), ``complete`` (no published total or reason column missing) and
        ``matches`` (complete and every diff is 0). Any missing input leaves the computed
        value missing: suppression is never read as 0.
    """
    cats = reason_column_categories(frame.columns, academic_year, category_overrides)
    missing = [c for c in ATTENDANCE_PUBLISHED_TOTALS if c not in frame.columns]
    if missing:
        raise ValueError(f"reconcile_attendance_collection: frame lacks published total(s) "
                         f"{', '.join(missing)}")
    by_cat = {cat: [c for c, k in cats.items() if k == cat] for cat in codes.CATEGORIES}
    computed = {cat: _category_sum(frame, cols) for cat, cols in by_cat.items()}
    computed["possible"] = sum(computed[c] for c in codes.POSSIBLE_CATEGORIES)
    keys = [k for k in _ROW_KEYS if k in frame.columns]
    out = frame[keys].copy()
    diffs = []
    for published, cat in ATTENDANCE_PUBLISHED_TOTALS.items():
        value = frame[published].astype("Float64").round().astype("Int64")
        out[published] = value
        out[f"computed_{published}"] = computed[cat]
        out[f"diff_{published}"] = value - computed[cat]
        diffs.append(f"diff_{published}")
    out["computed_not_possible_sessions"] = computed[codes.NOT_POSSIBLE]
    inputs = list(cats) + list(ATTENDANCE_PUBLISHED_TOTALS)
    out["complete"] = frame[inputs].notna().all(axis=1).to_numpy()
    out["matches"] = out["complete"] & out[diffs].fillna(1).eq(0).all(axis=1)
    return out


# --------------------------------------------------------------------------------------------
# local authorities


@lru_cache(maxsize=4)
def _lookup_cached(path: str) -> pd.DataFrame:
    table = read_published(Path(path), file_label="DfE LA lookup",
                           required_columns=("new_la_code", "la_name", "old_la_code", "status"))
    frame = table.frame
    combined = frame["new_la_code"].fillna("").str.contains("/") | \
        frame["old_la_code"].fillna("").str.contains("/")
    keep = frame.loc[~combined & frame["new_la_code"].notna(),
                     ["old_la_code", "new_la_code", "la_name", "status"]]
    return keep.reset_index(drop=True)


def la_lookup(*, folder: str | Path | None = None) -> pd.DataFrame:
    """DfE's LA lookup (``reference/dfe_las.csv.gz``): old code, new code, name, status.

    Combined rows ("North Northamptonshire / West Northamptonshire") and rows without an
    E-code are left out; pre-2009 counties without an old code keep ``old_la_code`` missing.
    """
    return _lookup_cached(str((_folder(folder) / _LA_LOOKUP).resolve())).copy()


def _name_key(name: str) -> str:
    text = name.lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return " ".join(text.split())


def _loose_key(name: str) -> str:
    """Name key without DfE's ", City of" / ", County of" suffix."""
    return _name_key(re.sub(r",\s*(city|county) of\s*$", "", name, flags=re.IGNORECASE))


def _pick(rows: pd.DataFrame, lookup: pd.DataFrame) -> LocalAuthority:
    """Prefer the live row; attach every E-code recorded for the same old code."""
    rows = rows.assign(_live=rows["status"].eq("live")).sort_values("_live", ascending=False)
    best = rows.iloc[0]
    old = best["old_la_code"]
    if pd.notna(old):
        new_codes = lookup.loc[lookup["old_la_code"] == old, "new_la_code"]
    else:
        new_codes = pd.Series([best["new_la_code"]])
    ordered = [best["new_la_code"]] + sorted(set(new_codes) - {best["new_la_code"]})
    return LocalAuthority(old_la_code=None if pd.isna(old) else str(old),
                          new_la_code=str(best["new_la_code"]), la_name=str(best["la_name"]),
                          status=str(best["status"]), new_la_codes=tuple(ordered))


def _unknown(identifier: str, kind: str, known: list[str], labels: Mapping[str, str]
             ) -> UnknownLAError:
    close = difflib.get_close_matches(identifier, known, n=5, cutoff=0.5)
    if kind == "old LA code" and _OLD_CODE.fullmatch(identifier):
        nearest = sorted(known, key=lambda k: abs(int(k) - int(identifier)))[:5]
        close = close + [k for k in sorted(nearest) if k not in close]
    hint = "; ".join(f"{k} {labels.get(k, '')}".strip() for k in close[:8]) or "none"
    listing = ", ".join(sorted(known))
    return UnknownLAError(f"{identifier!r} is not a known {kind} in DfE's LA lookup "
                          f"({_LA_LOOKUP}). Close matches: {hint}. Existing {kind}s "
                          f"({len(known)}): {listing}")


def find_la(identifier: int | str, *, folder: str | Path | None = None) -> LocalAuthority:
    """Resolve an LA given by old 3-digit code, new E-code or name (domain.md 9).

    Parameters
    ----------
    identifier : int or str
        ``358``, ``"358"``, ``"E08000009"`` or ``"Trafford"`` (names match case-, space- and
        punctuation-insensitively, ``&`` = "and").

    Returns
    -------
    LocalAuthority
        The live LA where one exists (an old code re-used after a boundary change maps to its
        current E-code), with every E-code recorded for the old code in ``new_la_codes``.

    Raises
    ------
    UnknownLAError
        Not in the lookup; the message lists close matches and the existing codes.
    """
    lookup = la_lookup(folder=folder)
    text = str(identifier).strip()
    if _OLD_CODE.fullmatch(text):
        rows = lookup[lookup["old_la_code"] == text]
        if rows.empty:
            known = lookup["old_la_code"].dropna()
            labels = dict(zip(lookup["old_la_code"], lookup["la_name"], strict=True))
            raise _unknown(text, "old LA code", sorted(set(known)), labels)
        return _pick(rows, lookup)
    if _NEW_CODE.fullmatch(text):
        rows = lookup[lookup["new_la_code"].str.upper() == text.upper()]
        if rows.empty:
            labels = dict(zip(lookup["new_la_code"], lookup["la_name"], strict=True))
            raise _unknown(text.upper(), "new LA code", sorted(set(lookup["new_la_code"])),
                           labels)
        return _pick(rows, lookup)
    if text.isdigit() or re.fullmatch(r"[A-Za-z]\d+", text):
        kind = "old LA code" if text.isdigit() else "new LA code"
        column = "old_la_code" if text.isdigit() else "new_la_code"
        labels = dict(zip(lookup[column], lookup["la_name"], strict=True))
        raise _unknown(text.upper(), kind, sorted(set(lookup[column].dropna())), labels)
    keys = lookup["la_name"].map(_name_key)
    rows = lookup[keys == _name_key(text)]
    if rows.empty:                     # "Kingston upon Hull" = "Kingston upon Hull, City of"
        rows = lookup[lookup["la_name"].map(_loose_key) == _name_key(text)]
        if rows["old_la_code"].nunique(dropna=False) > 1:
            rows = rows.iloc[0:0]
    if rows.empty:
        names = sorted(set(lookup["la_name"]))
        close = difflib.get_close_matches(text, names, n=5, cutoff=0.6)
        raise UnknownLAError(f"{text!r} is not an LA name in DfE's LA lookup ({_LA_LOOKUP}). "
                             f"Close matches: {', '.join(close) or 'none'}")
    return _pick(rows, lookup)


def la_rows(frame: pd.DataFrame, identifier: int | str | LocalAuthority, *,
            folder: str | Path | None = None) -> pd.DataFrame:
    """The rows of a published frame that belong to one LA.

    Matches on ``old_la_code`` when the frame has it (stable across re-codings), else on any of
    the LA's E-codes, else on the name.
    """
    la = identifier if isinstance(identifier, LocalAuthority) else find_la(identifier,
                                                                           folder=folder)
    if "old_la_code" in frame.columns and la.old_la_code is not None:
        mask = frame["old_la_code"] == la.old_la_code
    elif "new_la_code" in frame.columns:
        mask = frame["new_la_code"].isin(la.new_la_codes)
    elif "la_name" in frame.columns:
        mask = frame["la_name"].map(lambda v: isinstance(v, str) and _name_key(v)) \
            == _name_key(la.la_name)
    else:
        raise ValueError("la_rows: frame has no old_la_code, new_la_code or la_name column")
    return frame[mask.fillna(False).astype(bool)]
