"""One published DfE statistics file (the EES / CSP gzip CSVs), read faithfully.

One concept: how DfE writes its published files and how the suite reads them (domain.md 2.3).
:func:`read_published` reads any published gzip CSV: suppression symbols (``c`` confidential,
``x`` not available, ``z`` not applicable, ``SUPP`` (CSP), ``:`` and ``.``) and blanks (``NA``,
``NaN``, empty) become missing, **never zero**; the symbols are counted per column in
:attr:`PublishedTable.suppressed`. Identifier columns (LA codes, URNs, ``time_period``,
names ...) stay strings with surrounding spaces stripped; every other column of numbers becomes
nullable ``Int64`` (whole numbers) or ``float64``. DfE's number conventions come with it:
:func:`academic_year_code` (``time_period`` codes) and :func:`round_half_up` (how published
rates are rounded).

The files the suite uses, and the checks against them, are in :mod:`attendance_lib.io.dfe`,
which re-exports these names. Nothing is read at import.

Examples
--------
>>> round_half_up(8.203125, 5), round_half_up(28.75, 1)
(8.20313, 28.8)
>>> academic_year_code(2023), academic_year_code("2024/25")
('202324', '202425')
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attendance_lib import paths

__all__ = [
    "SUPPRESSION_SYMBOLS",
    "BLANK_SYMBOLS",
    "IDENTIFIER_COLUMNS",
    "PublishedDataError",
    "PublishedTable",
    "academic_year_code",
    "round_half_up",
    "read_published",
    "published_folder",
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
_GZIP_MAGIC = b"\x1f\x8b"


class PublishedDataError(ValueError):
    """A published DfE file is missing or is not the gzip CSV that was expected.

    The message names the file and what was expected.
    """


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


def published_folder(folder: str | Path | None) -> Path:
    """The folder of published files: ``folder``, else :func:`attendance_lib.paths.dfe_dir`."""
    return Path(folder) if folder is not None else paths.dfe_dir()


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
