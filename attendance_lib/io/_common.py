"""Shared pieces of the loaders: file checks, the load report, quarantine rows, value parsing.

Every loader follows one contract (product.md, "Inputs the loaders accept"):

* a file that is not what was expected (missing, empty, binary rather than text, a spreadsheet or
  Parquet file renamed ``.csv``, missing required columns, dates ambiguous throughout) raises
  :class:`InputFileError` with one sentence naming the file and what was expected, and nothing
  is loaded;
* text is decoded as UTF-8 (with or without a byte-order mark), cp1252 or ISO-8859-1, detected
  and recorded in the report (:mod:`attendance_lib.io.encodings`;
  ../shared/reference/mis_formats.md section 0, "Encodings");
* UK ``dd/mm/yyyy`` dates are read day-first; a file whose dates could all be read either way
  (no ISO date and no day above 12) is refused, not guessed (:class:`DateEvidence`;
  mis_formats.md section 0, "Dates"), unless the mapping declares ``date_order: day-first``;
* otherwise every row is either loaded or quarantined with its file, line and reason, and
  ``rows_read == rows_loaded + rows_quarantined`` (:class:`LoadReport`).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .encodings import binary_problem, encoding_note, file_encoding

__all__ = [
    "ALREADY_STORED",
    "InputFileError",
    "LoadReport",
    "QUARANTINE_COLUMNS",
    "check_input_file",
    "file_sha256",
    "quarantine_frame",
    "parse_dates",
    "parse_bool",
    "load_mapping",
    "apply_mapping",
    "read_csv_strings",
    "read_csv_lines",
    "MAPPING_SECTIONS",
    "MAPPING_OPTIONS",
    "mapping_options",
    "load_mapping_section",
    "DateEvidence",
    "file_text_encoding",
]

QUARANTINE_COLUMNS = ["file", "line", "reason", "raw"]
#: the input kinds a column-mapping YAML may have a section for (``local_codes`` maps a school's
#: own codes to statutory ones: :mod:`attendance_lib.io.local_codes`)
MAPPING_SECTIONS = ("marks", "weekly_marks", "weekly_grid", "roster", "pupils", "schools",
                    "interventions", "local_codes")
#: top-level settings a mapping YAML may hold besides its sections
MAPPING_OPTIONS = ("date_order",)
_DATE_ORDERS = ("day-first",)

_MAGIC = {
    b"PK\x03\x04": "a zip archive (an Excel .xlsx workbook?)",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
    b"PAR1": "a Parquet file",
    b"\x1f\x8b": "a gzip-compressed file",
    b"%PDF": "a PDF document",
}


class InputFileError(ValueError):
    """A whole file is unusable; the message names the file and what was expected."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


#: reason of a quarantined mark identical to one already in the store (not a problem: an
#: overlapping export); the detail after the colon names the file it was loaded from
ALREADY_STORED = "already in the store"


@dataclass
class LoadReport:
    """What happened to one input file."""

    file: str
    kind: str
    rows_read: int = 0
    rows_loaded: int = 0
    quarantine: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=QUARANTINE_COLUMNS))
    notes: list[str] = field(default_factory=list)
    sha256: str | None = None
    #: the text encoding the file was read with (``utf-8``, ``utf-8-sig``, ``cp1252``, ...)
    encoding: str | None = None
    #: the input format (``canonical``, ``wonde``, ``sims-xml``, ``ctf``, ``weekly-grid``, ...)
    format: str | None = None
    #: loaded marks that replace a different code already in the store for the same
    #: pupil-session (a school's correction; logged under the store's ``corrections/``)
    rows_corrected: int = 0

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def rows_already_stored(self) -> int:
        """Quarantined rows that are identical to marks already in the store (an overlapping
        export; nothing wrong with them, nothing to add)."""
        if self.quarantine.empty:
            return 0
        return int(self.quarantine["reason"].str.startswith(ALREADY_STORED).sum())

    @property
    def rows_rejected(self) -> int:
        """Quarantined rows that are problems (all but the ones already in the store)."""
        return self.rows_quarantined - self.rows_already_stored

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined

    def reasons(self) -> pd.Series:
        """Count of quarantined rows by reason (the text before any ':' detail)."""
        if self.quarantine.empty:
            return pd.Series(dtype="int64")
        return self.quarantine["reason"].str.split(":").str[0].value_counts()

    def line(self) -> str:
        """``kind file: read N, loaded N, quarantined N`` and, when there are any, how many of
        the loaded marks were corrections and how many quarantined ones were already stored."""
        extra = []
        if self.rows_corrected:
            extra.append(f"{self.rows_corrected:,} loaded mark(s) correct a different code "
                         f"already in the store")
        stored = self.rows_already_stored
        if stored:
            extra.append(f"{stored:,} quarantined mark(s) already in the store, identical: "
                         f"nothing to add")
        return (f"{self.kind:<13} {self.file}: read {self.rows_read:,}, loaded "
                f"{self.rows_loaded:,}, quarantined {self.rows_quarantined:,}"
                + (f" ({'; '.join(extra)})" if extra else ""))


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read once per version of the file.

    The store (idempotency), the marks reader (its report) and format detection all ask for
    it; the result is remembered per (path, size, modification time in ns), so a file is hashed
    once per load however many of them ask, and again whenever it changes.
    """
    st = Path(path).stat()
    return _sha256_of(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def check_input_file(path: str | Path, expected: str, *, allow_parquet: bool = False) -> str:
    """Check a file exists, is not empty and is of the expected kind; return its format.

    Returns ``"csv"`` (any text file) or ``"parquet"``. Raises :class:`InputFileError` otherwise.
    Text in any encoding passes (:func:`file_text_encoding` says which); binary data, UTF-16,
    workbooks, archives and PDFs do not.
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, f"file not found (expected {expected})")
    if p.is_dir():
        raise InputFileError(p, f"is a folder, not a file (expected {expected})")
    if p.stat().st_size == 0:
        raise InputFileError(p, f"file is empty (expected {expected})")
    with open(p, "rb") as fh:
        head = fh.read(1 << 16)
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            if magic == b"PAR1" and allow_parquet:
                return "parquet"
            hint = " Save it as CSV (UTF-8) first." if "Excel" in what else ""
            raise InputFileError(p, f"is {what}, not {expected}.{hint}")
    if p.suffix.lower() == ".parquet" and allow_parquet:
        raise InputFileError(p, f"has a .parquet name but is not a Parquet file "
                                f"(expected {expected})")
    problem = binary_problem(head)
    if problem:
        raise InputFileError(p, f"{problem}; expected {expected}")
    if not head.strip(b"\xef\xbb\xbf \r\n\t,"):
        raise InputFileError(p, f"has no data (expected {expected})")
    return "csv"


def read_csv_strings(path: str | Path, expected: str) -> pd.DataFrame:
    """Read a CSV with every column as text (nothing guessed), raising InputFileError."""
    return read_csv_lines(path, expected)[0]


def file_text_encoding(path: str | Path) -> str:
    """The encoding a text input is read with (:func:`attendance_lib.io.encodings.file_encoding`:
    BOM, then UTF-8, then cp1252, then ISO-8859-1; mis_formats.md section 0)."""
    return file_encoding(path)


def read_csv_lines(path: str | Path, expected: str, *, skipinitialspace: bool = True,
                   notes: list[str] | None = None
                   ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Read a CSV as text and say which file line each row came from.

    Returns ``(frame, lines, blank_lines)``: ``lines[i]`` is the 1-based line of the file where
    row ``i`` starts (the header is line 1), counting blank lines and line breaks inside quoted
    values, so a quarantine's line numbers point at the right line; ``blank_lines`` are the lines
    that held no values at all, which are not rows (they are neither loaded nor quarantined).
    The encoding is detected (:func:`file_text_encoding`); when ``notes`` is given, a note naming
    it is appended unless it is plain UTF-8.
    """
    check_input_file(path, expected)
    enc = file_text_encoding(path)
    if notes is not None:
        notes.extend(encoding_note(enc))
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False,
                         encoding="utf-8-sig" if enc.startswith("utf-8") else enc,
                         skipinitialspace=skipinitialspace, skip_blank_lines=False)
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"is not UTF-8 text ({exc.reason}); expected {expected}") \
            from None
    except pd.errors.EmptyDataError:
        raise InputFileError(path, f"has no header row (expected {expected})") from None
    except pd.errors.ParserError as exc:
        raise InputFileError(path, f"is not a readable CSV ({exc}); expected {expected}") \
            from None
    df.columns = [str(c).strip() for c in df.columns]
    df = df.reset_index(drop=True)
    n = len(df)
    if n == 0:
        return df, np.zeros(0, np.int64), np.zeros(0, np.int64)
    text = df.astype(object).fillna("")
    # line breaks inside quoted values push the following rows down
    extra = np.zeros(n, np.int64)
    blank = np.ones(n, bool)
    for c in text.columns:
        col = text[c].astype(str)
        extra += col.str.count("\n").to_numpy(dtype=np.int64)
        blank &= (col.str.strip() == "").to_numpy()
    lines = 2 + np.arange(n, dtype=np.int64) + np.concatenate([[0], np.cumsum(extra)[:-1]])
    if blank.any():
        df = df.loc[~blank].reset_index(drop=True)
    return df, lines[~blank], lines[blank]


def quarantine_frame(file: str | Path, lines, reasons, raw) -> pd.DataFrame:
    """Build quarantine rows; ``raw`` is the original row rendered as text."""
    n = len(lines)
    return pd.DataFrame({
        "file": np.repeat(str(file), n),
        "line": np.asarray(lines, dtype="int64"),
        "reason": np.asarray(reasons, dtype=object),
        "raw": np.asarray(raw, dtype=object),
    })


def parse_dates(values: pd.Series) -> pd.Series:
    """Parse ISO (``yyyy-mm-dd``) or UK day-first (``dd/mm/yyyy``) dates; NaT when invalid.

    Parses each distinct value once, so it is cheap on long columns with few distinct dates.
    Two-digit years and US month-first dates are never guessed.
    """
    s = values.astype("string").str.strip()
    uniq = pd.Series(s.dropna().unique())
    iso = pd.to_datetime(uniq, format="%Y-%m-%d", errors="coerce")
    iso2 = pd.to_datetime(uniq, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    uk = pd.to_datetime(uniq, format="%d/%m/%Y", errors="coerce")
    parsed = iso.fillna(iso2).fillna(uk)
    lookup = dict(zip(uniq, parsed, strict=True))
    return pd.to_datetime(s.map(lookup), errors="coerce").astype("datetime64[ns]")


_TRUE = {"true", "t", "y", "yes", "1"}
_FALSE = {"false", "f", "n", "no", "0"}


def parse_bool(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse yes/no fields (``True/False``, ``Y/N``, ``1/0``); returns (values, bad mask).

    Empty means unknown (missing), which is not an error.
    """
    s = values.astype("string").str.strip().str.lower().fillna("")
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[s.isin(_TRUE)] = True
    out[s.isin(_FALSE)] = False
    bad = ~(s.isin(_TRUE) | s.isin(_FALSE) | (s == ""))
    return out, bad


def load_mapping(path: str | Path | None, section: str) -> dict[str, str]:
    """Column mapping ``canonical name -> name in the file`` from a YAML file.

    The YAML holds one mapping per input kind, e.g.::

        marks:
          upn: UPN
          urn: School URN
          date: Date
          session: AM/PM
          code: Mark

    Unknown canonical names are an error (so a typo is not silently ignored). Besides the
    sections (:data:`MAPPING_SECTIONS`) the file may hold ``date_order: day-first``
    (:func:`mapping_options`).
    """
    if path is None:
        return {}
    p, doc = _mapping_doc(path)
    section_map = doc.get(section) or {}
    if not isinstance(section_map, dict):
        raise InputFileError(p, f"section {section!r} must map canonical names to column names")
    return {str(k): str(v) for k, v in section_map.items()}


def _mapping_doc(path: str | Path) -> tuple[Path, dict]:
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "mapping file not found (expected a YAML column mapping)")
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8-sig")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputFileError(p, f"is not valid YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise InputFileError(p, "expected a YAML mapping of input kinds to column mappings")
    _check_mapping_keys(p, doc)
    return p, doc


def _check_mapping_keys(p: Path, doc: dict) -> None:
    unknown = sorted(str(k) for k in doc if k not in MAPPING_SECTIONS + MAPPING_OPTIONS)
    if unknown:
        raise InputFileError(p, f"the column mapping has unknown section(s) {', '.join(unknown)}; "
                                f"known sections: {', '.join(MAPPING_SECTIONS)}; settings: "
                                f"{', '.join(MAPPING_OPTIONS)}")
    order = doc.get("date_order")
    if order is not None and order not in _DATE_ORDERS:
        raise InputFileError(p, f"date_order {order!r} is not supported; the only setting is "
                                f"'day-first' (UK dd/mm/yyyy)")


def mapping_options(path: str | Path | None) -> dict[str, str]:
    """Top-level settings of a mapping YAML (:data:`MAPPING_OPTIONS`), e.g.
    ``{"date_order": "day-first"}``: the file's ``dd/mm/yyyy`` dates are UK dates even when
    every one of them could also be read month-first (mis_formats.md section 0, "Dates")."""
    if path is None:
        return {}
    _, doc = _mapping_doc(path)
    return {k: str(doc[k]) for k in MAPPING_OPTIONS if doc.get(k) is not None}


def load_mapping_section(path: str | Path | None, section: str):
    """One section of a mapping YAML as written (``None`` when absent); for nested sections
    such as ``local_codes``."""
    if path is None:
        return None
    _, doc = _mapping_doc(path)
    return doc.get(section)


def apply_mapping(columns, mapping: dict[str, str], known: set[str], path) -> dict[str, str]:
    """Rename map ``file column -> canonical``; rejects canonical names the loader lacks."""
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise InputFileError(path, f"the column mapping names unknown field(s) "
                                   f"{', '.join(unknown)}; known fields: {', '.join(sorted(known))}")
    rename = {v: k for k, v in mapping.items() if v in columns}
    # case-insensitive fallback for canonical names already present
    lower = {str(c).strip().lower(): c for c in columns}
    for k in known:
        if k not in rename.values() and k not in columns and k in lower:
            rename[lower[k]] = k
    return rename


_SLASH = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
_ISO = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")


class DateEvidence:
    """What a file's date strings say about their order (mis_formats.md section 0, "Dates").

    UK exports write ``dd/mm/yyyy`` and are read day-first. A file is *ambiguous throughout*
    when it has ``nn/nn/yyyy`` dates, no ISO date and no date whose first number is above 12:
    every date could be day-first or month-first, so it is refused (:meth:`problem`), not
    guessed. A file whose only telling dates have a second number above 12 is month-first (US)
    and refused too. ``day_first=True`` (the mapping's ``date_order: day-first``) accepts them.

    Examples
    --------
    >>> e = DateEvidence(); e.add(["02/09/2024", "03/09/2024"]); e.ambiguous
    True
    >>> e.add(["13/09/2024"]); e.ambiguous
    False
    """

    def __init__(self, day_first: bool = False):
        self.day_first = day_first
        self.iso = False
        self.slash = 0
        self.day_proof: str | None = None  # a date only day-first can read (13/09/2024)
        self.month_proof: str | None = None  # a date only month-first can read (09/13/2024)
        self.example: str | None = None

    def add(self, values: Iterable) -> None:
        """Take note of some date strings (distinct values are enough)."""
        if self.day_first or (self.iso and self.day_proof):
            return
        for v in values:
            if v is None or not isinstance(v, str):
                continue
            m = _SLASH.match(v)
            if m is None:
                if _ISO.match(v):
                    self.iso = True
                continue
            a, b = int(m.group(1)), int(m.group(2))
            self.slash += 1
            if self.example is None:
                self.example = v.strip()
            if a > 12 and b <= 12 and self.day_proof is None:
                self.day_proof = v.strip()
            elif b > 12 and a <= 12 and self.month_proof is None:
                self.month_proof = v.strip()

    @property
    def ambiguous(self) -> bool:
        return (not self.day_first and self.slash > 0 and not self.iso
                and self.day_proof is None)

    def problem(self) -> str | None:
        """The refusal message for an ambiguous or month-first file, else ``None``."""
        if not self.ambiguous:
            return None
        if self.month_proof is not None:
            return (f"dates are month-first (US mm/dd/yyyy): '{self.month_proof}' cannot be "
                    f"dd/mm/yyyy and no date needs day-first; UK dd/mm/yyyy or ISO yyyy-mm-dd "
                    f"dates are expected, so nothing was loaded (dates are not converted by "
                    f"guesswork)")
        return (f"dates are ambiguous throughout: every dd/mm/yyyy date (e.g. "
                f"'{self.example}') could also be read mm/dd/yyyy and there is no ISO "
                f"yyyy-mm-dd date or day above 12 to tell them apart, so nothing was loaded; "
                f"if they are UK dates, say so with 'date_order: day-first' in the --mapping "
                f"YAML (or --day-first)")
