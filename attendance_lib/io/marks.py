"""Register marks: long form (CSV, Parquet) and weekly mark strings, validated in a stream.

Canonical long form (product.md): one row per pupil per session, ``upn, urn, date, session
(AM/PM), code``. Column names can be mapped from a YAML file (``marks:`` section).

Validation (each bad row is quarantined with file, line and the first problem found):

* a required field is empty (or only spaces);
* invalid date (ISO ``yyyy-mm-dd`` or UK ``dd/mm/yyyy``; 1990-01-01 to 2099-12-31), invalid
  session (AM/PM);
* a mark on a Saturday or Sunday;
* failed UPN check letter (domain.md 6), invalid URN;
* a code that is not in the code set of the mark's academic year (codes.py), or a withdrawn code;
* with a pupils file: no enrolment for that pupil at that school, or a mark before the admission
  date or after the leaving date (domain.md 7: PA uses each enrolment's own sessions);
* two different codes for one pupil-session at one school (every such row is quarantined,
  because neither can be trusted); an exact repeat of a row loads once and the repeat is
  quarantined as a duplicate, so ``rows read = rows loaded + rows quarantined`` always holds.

Performance: files are read in batches with dictionary-encoded text columns, so each distinct
UPN, code or date string is examined once, and checks run as numpy array operations. Duplicate and
conflict detection streams when the file is grouped by enrolment (pupil at a school) in date
order (how MIS exports and the canonical files are written); otherwise it falls back to sorting
the rest of the file in memory from the batch where the disorder shows. Enrolments that reappear
there after some of their marks were already passed on have those marks read again, so repeats
are still found exactly; a *conflict* with a mark already passed on cannot be quarantined whole
any more, so it stops the load with :class:`InputFileError` (sort the file and load it again).
Blank lines are skipped, not counted, and do not shift line numbers.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .. import codes as codes_mod
from .. import upn as upn_mod
from ._common import (
    InputFileError,
    LoadReport,
    apply_mapping,
    check_input_file,
    file_sha256,
    load_mapping,
    parse_dates,
    quarantine_frame,
    read_csv_lines,
)

__all__ = ["MARK_COLUMNS", "Registry", "Enrolments", "MarksReader", "read_marks",
           "read_weekly_marks", "weekly_to_long", "CATEGORY_IDS", "AGG_COLUMNS"]

MARK_COLUMNS = ["upn", "urn", "date", "session", "code"]
CATEGORY_IDS = {c: i for i, c in enumerate(codes_mod.CATEGORIES)}
_CAT_NAMES = np.array(codes_mod.CATEGORIES, dtype=object)
_UNKNOWN, _WITHDRAWN = -1, -2
_SESSIONS = {"AM": 0, "A": 0, "MORNING": 0, "PM": 1, "P": 1, "AFTERNOON": 1}
_BATCH = 1_000_000  # most rows validated at once (CSV blocks are cut to this too)
_CSV_BLOCK_BYTES = 1 << 25
#: dates a register mark may have (day numbers since 1970-01-01); the bounds also keep
#: ``_Chunk.base`` (day in 16 bits) exact
_DAY_MIN = int(np.datetime64("1990-01-01", "D").astype(np.int64))
_DAY_MAX = int(np.datetime64("2099-12-31", "D").astype(np.int64))
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: columns of the enrolment x week pre-aggregate written at load time
AGG_COLUMNS = ["pid", "gid", "academic_year", "week_start", "first_date", "last_date", "possible", "present",
               "aea", "authorised", "unauthorised", "not_possible", "covid", "late_before",
               "late_after", "legal_unauth", "marks"]

# reason ids (priority order: the lowest id found for a row is reported)
_R_MISSING, _R_DATE, _R_DATE_RANGE, _R_SESSION, _R_WEEKEND, _R_UPN, _R_URN, _R_CODE, \
    _R_WITHDRAWN, _R_NOT_ON_ROLL, _R_OUTSIDE = range(1, 12)


class Registry:
    """Dense integer ids for UPNs, URNs and codes, shared by every file of one ingest."""

    def __init__(self) -> None:
        self.upn_ids: dict[str, int] = {}
        self.upns: list[str] = []
        self.upn_problem: dict[str, str | None] = {}
        self.urn_ids: dict[str, int] = {}
        self.urns: list[str] = []
        self.code_ids: dict[str, int] = {}
        self.enrolment_id: dict[int, int] = {}

    @classmethod
    def from_lists(cls, upns: list[str], urns: list[str]) -> Registry:
        """A registry continuing the ids a store has already given out."""
        reg = cls()
        reg.upns = list(upns)
        reg.upn_ids = {u: i for i, u in enumerate(reg.upns)}
        reg.urns = list(urns)
        reg.urn_ids = {u: i for i, u in enumerate(reg.urns)}
        return reg

    def upn_id(self, u: str) -> int:
        i = self.upn_ids.get(u)
        if i is None:
            i = self.upn_ids[u] = len(self.upns)
            self.upns.append(u)
        return i

    def urn_id(self, u: str) -> int:
        i = self.urn_ids.get(u)
        if i is None:
            i = self.urn_ids[u] = len(self.urns)
            self.urns.append(u)
        return i

    def enrolment_ids(self, pid: np.ndarray, gid: np.ndarray,
                      table: dict[int, int] | None = None) -> np.ndarray:
        """Dense enrolment ids for (pupil, school) pairs, given in first-seen row order.

        Only the first row of each run of the same pair is looked up, so a file grouped by
        enrolment costs one dictionary lookup per enrolment, not per mark. ``table`` (default:
        this registry's) holds the ids given out so far.
        """
        key = (pid << 20) | np.where(gid < 0, 0, gid)
        if len(key) == 0:
            return np.zeros(0, np.int64)
        brk = np.ones(len(key), bool)
        brk[1:] = key[1:] != key[:-1]
        starts = np.flatnonzero(brk)
        ids = self.enrolment_id if table is None else table
        run_ids = np.fromiter((ids.setdefault(int(k), len(ids)) for k in key[starts]),
                              np.int64, len(starts))
        return run_ids[np.cumsum(brk) - 1]

    def code_id(self, c: str) -> int:
        return self.code_ids.setdefault(c, len(self.code_ids))

    def check_upn(self, u: str) -> str | None:
        if u not in self.upn_problem:
            self.upn_problem[u] = upn_mod.upn_problem(u)
        return self.upn_problem[u]


def _day_numbers(ts: pd.Series) -> np.ndarray:
    return (ts.to_numpy(dtype="datetime64[D]").astype("int64")).astype(np.int32)


@dataclass
class Enrolments:
    """Enrolment windows from a pupils frame, as sorted integer keys for fast lookup."""

    keys: np.ndarray
    admission: np.ndarray
    leaving: np.ndarray

    @classmethod
    def from_pupils(cls, pupils: pd.DataFrame, reg: Registry) -> Enrolments:
        pid = np.fromiter((reg.upn_id(u) for u in pupils["upn"]), np.int64, len(pupils))
        gid = np.fromiter((reg.urn_id(u) for u in pupils["urn"]), np.int64, len(pupils))
        keys = (pid << 20) | gid
        lo = np.iinfo(np.int32).min
        hi = np.iinfo(np.int32).max
        adm = (_day_numbers(pupils["admission_date"]) if "admission_date" in pupils
               else np.full(len(pupils), lo, np.int32))
        if "admission_date" in pupils:
            adm = np.where(pupils["admission_date"].isna().to_numpy(), lo, adm)
        lev = (_day_numbers(pupils["leaving_date"]) if "leaving_date" in pupils
               else np.full(len(pupils), hi, np.int32))
        if "leaving_date" in pupils:
            lev = np.where(pupils["leaving_date"].isna().to_numpy(), hi, lev)
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], np.asarray(adm)[order], np.asarray(lev)[order])


def _as_dict_array(col: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if not pa.types.is_dictionary(col.type):
        if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
            col = col.cast(pa.string())
        col = col.dictionary_encode()
    return col


def _dict_parts(col) -> tuple[np.ndarray, np.ndarray, list]:
    """(indices with -1 for null, null mask, dictionary values as python list)."""
    d = _as_dict_array(col)
    idx = d.indices.to_numpy(zero_copy_only=False)
    nulls = np.asarray(d.is_null())
    if nulls.any():
        idx = np.where(nulls, -1, idx)
    return idx.astype(np.int64), nulls, d.dictionary.to_pylist()


def _weekday(days: np.ndarray) -> np.ndarray:
    return (days + _EPOCH_WEEKDAY) % 7


def _prefetch(items: Iterator, depth: int = 2) -> Iterator:
    """Iterate ``items`` in a background thread, ``depth`` ahead (Arrow decoding releases the
    GIL, so reading the next batches overlaps with checking this one)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def feed():
        try:
            for it in items:
                if stop.is_set():
                    return
                q.put(it)
            q.put(done)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            q.put(exc)

    t = threading.Thread(target=feed, name="marks-read", daemon=True)
    t.start()
    try:
        while (it := q.get()) is not done:
            if isinstance(it, BaseException):
                raise it
            yield it
    finally:
        stop.set()
        while t.is_alive():
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass


def _weekday_lut(days: np.ndarray) -> np.ndarray:
    """Weekday (Monday = 0) by table look-up over the batch's day range (cheaper than %)."""
    if len(days) == 0:
        return np.zeros(0, np.int8)
    lo, hi = int(days.min()), int(days.max())
    if hi - lo > 5_000_000:
        return _weekday(days)
    return _weekday(np.arange(lo, hi + 1)).astype(np.int8)[days - lo]


def _academic_year(days: np.ndarray, start_month: int) -> np.ndarray:
    if len(days) == 0:
        return np.zeros(0, np.int16)
    lo, hi = int(days.min()), int(days.max())
    if hi - lo < 5_000_000:
        lut = _academic_year_exact(np.arange(lo, hi + 1), start_month)
        return lut[days - lo]
    return _academic_year_exact(days, start_month)


def _academic_year_exact(days: np.ndarray, start_month: int) -> np.ndarray:
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return (y - (m < start_month)).astype(np.int16)


@dataclass
class _Chunk:
    """Validated rows of one batch, as arrays.

    ``base`` = (enrolment id, day, session): equal for two marks of one enrolment-session, and
    non-decreasing through a file grouped by enrolment in date order.
    """

    pid: np.ndarray
    gid: np.ndarray
    day: np.ndarray
    pm: np.ndarray
    code: np.ndarray  # registry code id
    cat: np.ndarray
    ay: np.ndarray
    line: np.ndarray
    base: np.ndarray

    _FIELDS = ("pid", "gid", "day", "pm", "code", "cat", "ay", "line", "base")

    @staticmethod
    def concat(chunks: list[_Chunk]) -> _Chunk:
        return _Chunk(*(np.concatenate([getattr(c, f) for c in chunks]) for f in _Chunk._FIELDS))

    def take(self, idx) -> _Chunk:
        return _Chunk(*(getattr(self, f)[idx] for f in self._FIELDS))

    def __len__(self) -> int:
        return len(self.pid)


def _mark(flags: np.ndarray, ords: np.ndarray) -> np.ndarray:
    """``flags`` (a bool array by enrolment ordinal) with ``ords`` set, grown as needed."""
    top = int(ords.max()) + 1
    if top > len(flags):
        flags = np.concatenate([flags, np.zeros(max(top - len(flags), len(flags)), bool)])
    flags[ords] = True
    return flags


def _kept(ch: _Chunk, keep: np.ndarray) -> _Chunk:
    return ch if keep.all() else ch.take(keep)


def _row_keys(ch: _Chunk) -> pd.MultiIndex:
    """One key per validated row: (line, base) (a weekly row's sessions share a line)."""
    return pd.MultiIndex.from_arrays([ch.line, ch.base])


def _dropped_keys(dropped: list[tuple[np.ndarray, np.ndarray]]) -> pd.MultiIndex | None:
    if not dropped:
        return None
    return pd.MultiIndex.from_arrays([np.concatenate([d[0] for d in dropped]),
                                      np.concatenate([d[1] for d in dropped])])


class MarksReader:
    """Validate a long-form marks file batch by batch.

    Iterate to get validated :class:`_Chunk` objects (already free of duplicates and conflicts);
    ``report`` is complete once iteration ends. Use :func:`read_marks` for a DataFrame.

    Line numbers are file lines (the header is line 1; for Parquet, row numbers from 1). Blank
    lines in a CSV are not rows: they are skipped (and listed in a report note) without moving
    the line numbers of the rows after them.
    """

    def __init__(self, path: str | Path, *, mapping: str | Path | None = None,
                 registry: Registry | None = None, enrolments: Enrolments | None = None,
                 start_month: int = 8, line_offset: int | None = None,
                 source: pa.Table | None = None, kind: str = "marks"):
        self.path = Path(path)
        self.reg = registry or Registry()
        self.enrolments = enrolments
        self.start_month = start_month
        self._source = source
        if source is None:
            self.format = check_input_file(path, "a register marks file (CSV or Parquet with "
                                           "columns upn, urn, date, session, code)",
                                           allow_parquet=True)
        else:
            self.format = "table"
        self._line_offset = line_offset if line_offset is not None else (
            2 if self.format == "csv" else 1)
        self._mapping = load_mapping(mapping, "marks")
        self.report = LoadReport(file=str(path), kind=kind)
        self._quarantine: list[pd.DataFrame] = []
        self._blank_lines: list[np.ndarray] = []
        # enrolment ordinals local to this file (first seen = 0, 1, ...), so that a file grouped
        # by enrolment streams even when an earlier file of the same load had these pupils
        self._enrolment_ord: dict[int, int] = {}
        # (line, base) of rows dropped as duplicates/conflicts while streaming
        self._dropped: list[tuple[np.ndarray, np.ndarray]] = []
        self.min_day: int | None = None
        self.max_day: int | None = None
        self._lock = threading.Lock()
        #: True once a value had to be normalised (spaces, case, session spelling), so the
        #: file's bytes are not already the store's canonical layout
        self.normalised = False

    def canonical_parquet(self) -> bool:
        """Is the source a Parquet file in the store's layout (the five canonical columns, in
        order, ``date`` a date32, text columns strings)? Such a file, once it validates with
        nothing quarantined or normalised, is copied into the store byte for byte."""
        if self._source is not None or self.format != "parquet" or self._mapping:
            return False
        try:
            schema = pq.read_schema(self.path)
        except Exception:  # noqa: BLE001 - the reader reports unreadable files
            return False
        if schema.names != MARK_COLUMNS or not pa.types.is_date32(schema.field("date").type):
            return False
        for c in ("upn", "urn", "session", "code"):
            t = schema.field(c).type
            t = t.value_type if pa.types.is_dictionary(t) else t
            if not pa.types.is_string(t):
                return False
        return True

    @property
    def copyable(self) -> bool:
        """After iteration: the file can stand in the store as it is."""
        return (self.canonical_parquet() and not self.normalised
                and self.report.rows_quarantined == 0 and not self._blank_lines)

    # -- reading -----------------------------------------------------------------------------
    def _batches(self) -> Iterator[pa.RecordBatch]:
        """Record batches of at most ``_BATCH`` rows (upn, urn, date, session, code[, _line])."""
        for b in self._raw_batches():
            if b.num_rows <= _BATCH:
                yield b
            else:
                for off in range(0, b.num_rows, _BATCH):
                    yield b.slice(off, _BATCH)

    def _raw_batches(self) -> Iterator[pa.RecordBatch]:
        expected = "columns " + ", ".join(MARK_COLUMNS)
        if self._source is not None:
            names = self._source.column_names
            rename = apply_mapping(names, self._mapping, set(MARK_COLUMNS), self.path)
            self._check_columns([rename.get(c, c) for c in names], expected)
            tbl = self._source.rename_columns([rename.get(c, c) for c in names])
            cols = MARK_COLUMNS + (["_line"] if "_line" in tbl.column_names else [])
            yield from tbl.select(cols).to_batches(max_chunksize=_BATCH)
            return
        if self.format == "parquet":
            try:
                pf = pq.ParquetFile(self.path)
            except Exception as exc:  # noqa: BLE001 - reported as a file problem
                raise InputFileError(self.path, f"is not a readable Parquet file ({exc})") \
                    from None
            names = pf.schema_arrow.names
            rename = apply_mapping(names, self._mapping, set(MARK_COLUMNS), self.path)
            self._check_columns([rename.get(c, c) for c in names], expected)
            inverse = {rename.get(c, c): c for c in names}
            src_cols = [inverse[c] for c in MARK_COLUMNS]
            string_cols = [c for c in src_cols
                           if pa.types.is_string(pf.schema_arrow.field(c).type)
                           or pa.types.is_large_string(pf.schema_arrow.field(c).type)]
            pf = pq.ParquetFile(self.path, read_dictionary=string_cols)
            for b in pf.iter_batches(batch_size=_BATCH, columns=src_cols):
                yield pa.RecordBatch.from_arrays(b.columns, names=MARK_COLUMNS)
            return
        # CSV: read the header first to map columns, then stream with everything as text
        with open(self.path, encoding="utf-8-sig", errors="replace") as fh:
            header = [h.strip().strip('"') for h in fh.readline().rstrip("\r\n").split(",")]
        rename = apply_mapping(header, self._mapping, set(MARK_COLUMNS), self.path)
        mapped = [rename.get(c, c) for c in header]
        self._check_columns(mapped, expected)
        dict_t = pa.dictionary(pa.int32(), pa.string())
        try:
            reader = pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES,
                                               column_names=mapped, skip_rows=1),
                # blank lines come back as all-null rows, so every row's line number is exact
                parse_options=pacsv.ParseOptions(newlines_in_values=False,
                                                 ignore_empty_lines=False),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: dict_t for c in MARK_COLUMNS}, include_columns=MARK_COLUMNS,
                    strings_can_be_null=True, quoted_strings_can_be_null=True,
                    null_values=[""]))
            for b in reader:
                yield b
        except pa.ArrowInvalid as exc:
            msg = str(exc)
            if "UTF8" in msg or "utf8" in msg.lower():
                raise InputFileError(self.path, "is not UTF-8 text; expected a register marks "
                                     "CSV saved as UTF-8") from None
            raise InputFileError(self.path, f"is not a readable marks CSV ({msg.splitlines()[0]})"
                                 f"; expected a register marks CSV with {expected}, the same "
                                 f"number of fields on every line") from None

    def _check_columns(self, names, expected):
        missing = [c for c in MARK_COLUMNS if c not in names]
        if missing:
            raise InputFileError(
                self.path, f"missing required column(s) {', '.join(missing)}; expected a register "
                f"marks file with {expected} (found: {', '.join(map(str, names))}). Map other "
                f"headings with a YAML mapping (--mapping).")

    # -- validation --------------------------------------------------------------------------
    def _validate(self, batch: pa.RecordBatch, first_line: int, record: bool = True) -> _Chunk:
        """Check one batch; quarantine its bad rows (when ``record``) and return the good ones."""
        return self._order(self._check(batch, first_line, record), record)

    def _order(self, parts: tuple, record: bool = True) -> _Chunk:
        """The file-order step: enrolment ordinals and the (enrolment, day, session) key."""
        pid, gid, day, pm, code, cat, ay, line, n_read = parts
        if record:
            self.report.rows_read += n_read
        eid = self.reg.enrolment_ids(pid, gid, table=self._enrolment_ord)
        # (enrolment, day, session) in one sortable integer; _DAY_MAX < 2**16
        base = (eid << 17) | (day.astype(np.int64) << 1) | pm
        ch = _Chunk(pid, gid, day, pm, code, cat, ay, line, base)
        if len(ch) and record:
            lo, hi = int(ch.day.min()), int(ch.day.max())
            self.min_day = lo if self.min_day is None else min(self.min_day, lo)
            self.max_day = hi if self.max_day is None else max(self.max_day, hi)
        return ch

    def _check(self, batch: pa.RecordBatch, first_line: int, record: bool = True) -> tuple:
        """Row checks for one batch; safe to run for several batches at once (ids are given
        out under a lock). Returns the good rows' arrays for :meth:`_order`."""
        reg = self.reg
        if batch.num_columns > len(MARK_COLUMNS):  # explicit source lines (weekly files)
            line = batch.column(len(MARK_COLUMNS)).to_numpy(zero_copy_only=False).astype(np.int64)
        else:
            line = np.arange(first_line, first_line + batch.num_rows, dtype=np.int64)
        if self.format == "csv" and batch.num_rows:
            blank = np.ones(batch.num_rows, bool)
            for i in range(len(MARK_COLUMNS)):
                blank &= np.asarray(batch.column(i).is_null())
            if blank.any():
                if record:
                    self._blank_lines.append(line[blank])
                batch = batch.filter(pa.array(~blank))
                line = line[~blank]
        n = batch.num_rows
        reason = np.zeros(n, np.int8)

        def flag(mask, rid):
            if mask.any():  # most checks pass everywhere: one cheap pass, no write
                np.copyto(reason, np.int8(rid), where=mask & (reason == 0))

        def missing_of(idx: np.ndarray, nulls: np.ndarray, vals: list) -> np.ndarray:
            # blank or only spaces counts as missing (checked per dictionary value)
            blank = np.array([not (v or "").strip() for v in vals] + [True])
            return blank[idx] if blank[:-1].any() else nulls

        # upn
        uidx, unull, uvals = _dict_parts(batch.column(0))
        unorm = [(v or "").strip().upper() for v in uvals]
        with self._lock:
            u_pid = np.array([reg.upn_id(v) for v in unorm] + [-1], np.int64)
        u_bad = np.append(~upn_mod.valid_mask(unorm), True)
        pid = u_pid[uidx]
        # urn
        sidx, snull, svals = _dict_parts(batch.column(1))
        snorm = [(v or "").strip() for v in svals]
        with self._lock:
            s_gid = np.array([reg.urn_id(v) for v in snorm] + [-1], np.int64)
        s_bad = np.array([not (v.isdigit() and 5 <= len(v) <= 7) for v in snorm] + [True])
        gid = s_gid[sidx]
        # date
        dcol = batch.column(2)
        if pa.types.is_date(dcol.type) or pa.types.is_timestamp(dcol.type):
            dd = dcol.cast(pa.date32()) if not pa.types.is_date32(dcol.type) else dcol
            dnull = np.asarray(dd.is_null())
            day = dd.fill_null(0).cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int32)
            dbad = np.zeros(n, bool)
        else:
            didx, dnull, dvals = _dict_parts(dcol)
            dnull = missing_of(didx, dnull, dvals)
            parsed = parse_dates(pd.Series(dvals, dtype="string"))
            ok = parsed.notna().to_numpy()
            dd = np.where(ok, _day_numbers(parsed.fillna(pd.Timestamp(0))), 0)
            day = np.append(dd, 0).astype(np.int32)[didx]
            dbad = np.append(~ok, False)[didx] & ~dnull
        # session
        eidx, enull, evals = _dict_parts(batch.column(3))
        e_map = np.array([_SESSIONS.get((v or "").strip().upper(), -1) for v in evals] + [-1])
        if (unorm != uvals or snorm != svals
                or any(v not in ("AM", "PM") for v in evals if v is not None)):
            self.normalised = True
        pm = e_map[eidx]
        # code
        cidx, cnull, cvals = _dict_parts(batch.column(4))
        cnorm = [(v or "").strip() for v in cvals]
        with self._lock:
            c_gid = np.array([reg.code_id(v) for v in cnorm] + [-1], np.int64)
        code = c_gid[cidx]
        if cnorm != cvals:
            self.normalised = True

        missing = (missing_of(uidx, unull, uvals) | missing_of(sidx, snull, svals) | dnull
                   | missing_of(eidx, enull, evals) | missing_of(cidx, cnull, cvals))
        flag(missing, _R_MISSING)
        flag(dbad, _R_DATE)
        flag((day < _DAY_MIN) | (day > _DAY_MAX), _R_DATE_RANGE)
        flag(pm < 0, _R_SESSION)
        flag(_weekday_lut(day) >= 5, _R_WEEKEND)
        flag(u_bad[uidx], _R_UPN)
        flag(s_bad[sidx], _R_URN)
        ay = _academic_year(np.clip(day, _DAY_MIN, _DAY_MAX), self.start_month)
        # category lookup per (code value, academic year)
        live = reason == 0
        years = np.unique(ay) if n and int(ay.min()) != int(ay.max()) else ay[:1]
        if len(years) == 1:  # the usual case: one academic year in the batch
            cat = self._category_lut(cnorm, int(years[0]))[cidx]
        else:
            cat = np.full(n, _UNKNOWN, np.int8)
            for y in np.unique(ay[live]):
                sel = live & (ay == y)
                cat[sel] = self._category_lut(cnorm, int(y))[cidx[sel]]
        flag(cat == _UNKNOWN, _R_CODE)
        flag(cat == _WITHDRAWN, _R_WITHDRAWN)
        # enrolment
        pos_c = None
        if self.enrolments is not None:
            e = self.enrolments
            keys = (pid << 20) | np.where(gid < 0, 0, gid)
            if len(e.keys):
                pos_c = np.minimum(np.searchsorted(e.keys, keys), len(e.keys) - 1)
                found = e.keys[pos_c] == keys
            else:
                found = np.zeros(n, bool)
            flag(~found, _R_NOT_ON_ROLL)
            if pos_c is not None:
                outside = found & ((day < e.admission[pos_c]) | (day > e.leaving[pos_c]))
                flag(outside, _R_OUTSIDE)
        bad = reason != 0
        if bad.any() and record:
            self._quarantine_rows(batch, np.flatnonzero(bad), reason, line, day, ay, cnorm, cidx,
                                  pos_c)
        if bad.any():
            good = ~bad
            pid, gid, day, pm = pid[good], gid[good], day[good], pm[good]
            code, cat, ay, line = code[good], cat[good], ay[good], line[good]
        return pid, gid, day, pm.astype(np.int64), code, cat, ay, line, n

    @staticmethod
    def _category_lut(cnorm: list[str], year: int) -> np.ndarray:
        """Category id (or unknown / withdrawn) of each code value in ``year``; last = null."""
        cs = codes_mod.code_set(year, include_withdrawn=True)
        return np.array([(_WITHDRAWN if cs[v].withdrawn else CATEGORY_IDS[cs[v].category])
                         if v in cs else _UNKNOWN for v in cnorm] + [_UNKNOWN], np.int8)

    def _raw_rows(self, batch: pa.RecordBatch, rows: np.ndarray) -> list[list[str]]:
        sub = batch.take(pa.array(rows))
        cols = [c.cast(pa.string()) if not pa.types.is_dictionary(c.type)
                else c.dictionary_decode().cast(pa.string()) for c in sub.columns]
        vals = [c.to_pylist() for c in cols[:len(MARK_COLUMNS)]]
        return [["" if v is None else str(v) for v in r] for r in zip(*vals, strict=True)]

    def _quarantine_rows(self, batch, rows, reason, line, day, ay, cnorm, cidx, pos):
        fields = self._raw_rows(batch, rows)
        texts = []
        for r, f in zip(rows, fields, strict=True):
            rid = reason[r]
            iso = str(np.datetime64(int(day[r]), "D"))
            if rid == _R_MISSING:
                empty = [MARK_COLUMNS[i] for i, v in enumerate(f) if v.strip() == ""]
                t = f"missing value: {', '.join(empty) or 'field'} is empty"
            elif rid == _R_DATE:
                t = f"invalid date: '{f[2]}' is not yyyy-mm-dd or dd/mm/yyyy"
            elif rid == _R_DATE_RANGE:
                t = (f"invalid date: {f[2]} is outside {np.datetime64(_DAY_MIN, 'D')} to "
                     f"{np.datetime64(_DAY_MAX, 'D')}")
            elif rid == _R_SESSION:
                t = f"invalid session: '{f[3]}' (expected AM or PM)"
            elif rid == _R_WEEKEND:
                t = f"mark on a weekend: {iso} is a {_DAY_NAMES[int(_weekday(day[r]))]}"
            elif rid == _R_UPN:
                t = "failed UPN check: " + str(self.reg.check_upn(f[0].strip().upper()))
            elif rid == _R_URN:
                t = f"invalid URN: '{f[1]}' is not a 5-7 digit number"
            elif rid in (_R_CODE, _R_WITHDRAWN):
                y = int(ay[r])
                c = cnorm[cidx[r]]
                try:
                    codes_mod.category_of(c, y)
                    t = f"unknown code: '{c}'"
                except codes_mod.UnknownCodeError as exc:
                    t = ("unknown code: " if rid == _R_CODE else "withdrawn code: ") + str(exc)
            elif rid == _R_NOT_ON_ROLL:
                t = (f"pupil not on roll: no pupils-file enrolment for upn "
                     f"{f[0].strip().upper()} at urn {f[1].strip()}")
            else:
                e = self.enrolments
                adm, lev = e.admission[pos[r]], e.leaving[pos[r]]
                if day[r] < adm:
                    t = (f"mark outside enrolment: {iso} is before the admission date "
                         f"{np.datetime64(int(adm), 'D')}")
                else:
                    t = (f"mark outside enrolment: {iso} is after the leaving date "
                         f"{np.datetime64(int(lev), 'D')}")
            texts.append(t)
        raw = [",".join(f) for f in fields]
        self._quarantine.append(quarantine_frame(self.path, line[rows], texts, raw))

    # -- duplicates and conflicts --------------------------------------------------------------
    def _resolve(self, ch: _Chunk, old: np.ndarray | None = None,
                 old_kept: np.ndarray | None = None) -> np.ndarray:
        """Keep-mask for a chunk sorted by ``(base, line)``: repeats and conflicts quarantined.

        An exact repeat keeps its first line; every row of a conflict (two different codes for
        one enrolment-session) is quarantined. ``old`` marks rows handed out or quarantined
        earlier (read again only to compare with): they are never quarantined again; if one
        that was handed out (``old_kept``) is in a conflict, the file cannot be accounted
        exactly any more and :class:`InputFileError` is raised before anything is loaded.
        """
        keep = np.ones(len(ch), bool)
        if len(ch) < 2:
            return keep
        eq = ch.base[1:] == ch.base[:-1]
        if not eq.any():
            return keep
        involved = np.zeros(len(ch), bool)
        involved[1:] |= eq
        involved[:-1] |= eq
        idx = np.flatnonzero(involved)
        df = pd.DataFrame({"i": idx, "base": ch.base[idx], "code": ch.code[idx],
                           "line": ch.line[idx],
                           "old": old[idx] if old is not None else False,
                           "old_kept": old_kept[idx] if old_kept is not None else False})
        g = df.groupby("base", sort=False)
        ncodes = g["code"].transform("nunique")
        first = g["line"].transform("min")
        size = g["line"].transform("size")
        drop = ((ncodes > 1) | ((size > 1) & (df["line"] != first))) & ~df["old"]
        if not drop.any():
            return keep
        code_names = {v: k for k, v in self.reg.code_ids.items()}
        lines_by_group = g["line"].agg(list)
        codes_by_group = g["code"].agg(list)
        if old_kept is not None:
            clash = (ncodes > 1) & g["old_kept"].transform("any") & drop
            if clash.any():
                b = df.loc[clash, "base"].iloc[0]
                pairs = " vs ".join(f"'{code_names[c]}' (line {ln})" for c, ln in
                                    zip(codes_by_group[b], lines_by_group[b], strict=True))
                raise InputFileError(
                    self.path, f"conflicting codes for one pupil-session: {pairs}; the file is "
                    f"not grouped by pupil and school in date order and the earlier line had "
                    f"already been checked and passed on when the conflict was found. Sort the "
                    f"file by upn, urn, date and session and load it again (nothing was loaded)")
        texts, lines = [], []
        for j in np.flatnonzero(drop.to_numpy()):
            b = df["base"].iat[j]
            if ncodes.iat[j] > 1:
                pairs = [f"'{code_names[c]}' (line {ln})"
                         for c, ln in zip(codes_by_group[b], lines_by_group[b], strict=True)]
                texts.append("conflicting codes for one pupil-session: " + " vs ".join(pairs))
            else:
                texts.append(f"duplicate mark: same pupil, session and code as line "
                             f"{first.iat[j]}")
            lines.append(df["line"].iat[j])
        drop_rows = df.loc[drop, "i"].to_numpy()
        raw = [self._raw_line(ch, i, code_names) for i in drop_rows]
        self._quarantine.append(quarantine_frame(self.path, lines, texts, raw))
        self._dropped.append((ch.line[drop_rows], ch.base[drop_rows]))
        keep[drop_rows] = False
        return keep

    def _raw_line(self, ch: _Chunk, i: int, code_names: dict[int, str]) -> str:
        d = np.datetime64(int(ch.day[i]), "D")
        return (f"{self.reg.upns[ch.pid[i]]},{self.reg.urns[ch.gid[i]]},{d},"
                f"{'PM' if ch.pm[i] else 'AM'},{code_names[ch.code[i]]}")

    def _reread(self, n_batches: int, ords: np.ndarray, skip: _Chunk | None) -> _Chunk | None:
        """Valid rows of the first ``n_batches`` batches for some enrolments, read again.

        ``skip`` holds rows that were not handed out (the carried-over tail), left out here.
        """
        parts = []
        next_line = self._line_offset
        for i, batch in enumerate(self._batches()):
            if i >= n_batches:
                break
            first = next_line
            next_line += batch.num_rows
            ch = self._validate(batch, first, record=False)
            sel = np.isin(ch.base >> 17, ords)
            if skip is not None and len(skip):
                sel &= ~_row_keys(ch).isin(_row_keys(skip))
            if sel.any():
                parts.append(ch.take(sel))
        return _Chunk.concat(parts) if parts else None

    def __iter__(self) -> Iterator[_Chunk]:
        if self._source is None:
            self.report.sha256 = file_sha256(self.path)
        carry: _Chunk | None = None
        collected: list[_Chunk] | None = None
        streamed = np.zeros(0, bool)  # by local enrolment ordinal: rows already checked
        n_streamed = 0  # batches handled in streaming mode before the fallback
        tail: _Chunk | None = None  # rows carried (not handed out) when the fallback began
        for ch in self._validated():
            if collected is not None:
                collected.append(ch)
                continue
            pending = _Chunk.concat([carry, ch]) if carry is not None else ch
            if len(pending) and (np.diff(pending.base) < 0).any():
                # not grouped by enrolment in date order: sort everything in memory at the end
                collected = [pending]
                tail, carry = carry, None
                continue
            n_streamed += 1
            if not len(pending):
                carry = None
                continue
            tail_start = int(np.searchsorted(pending.base, pending.base[-1], side="left"))
            head, carry = pending.take(slice(0, tail_start)), pending.take(
                slice(tail_start, None))
            if len(head):
                streamed = _mark(streamed, head.base >> 17)
            head = _kept(head, self._resolve(head))
            self.report.rows_loaded += len(head)
            if len(head):
                yield head
        if collected is not None:
            allc = _Chunk.concat(collected)
            old = old_kept = None
            ords = allc.base >> 17
            again = np.unique(ords[ords < len(streamed)])
            again = again[streamed[again]]
            if len(again):
                # enrolments that reappear after rows of theirs were passed on: read those rows
                # again so repeats and conflicts with them are still found
                prev = self._reread(n_streamed, again, tail)
                if prev is not None:
                    dropped = _dropped_keys(self._dropped)
                    old = np.r_[np.ones(len(prev), bool), np.zeros(len(allc), bool)]
                    old_kept = old.copy()
                    if dropped is not None:
                        old_kept[:len(prev)] = ~_row_keys(prev).isin(dropped)
                    allc = _Chunk.concat([prev, allc])
            order = np.lexsort((allc.line, allc.base))
            allc = allc.take(order)
            if old is not None:
                old, old_kept = old[order], old_kept[order]
            keep = self._resolve(allc, old, old_kept)
            if old is not None:
                keep &= ~old
            allc = _kept(allc, keep)
            self.report.notes.append("file was not grouped by pupil and school in date order; "
                                     "it was sorted in memory to check for duplicates")
            for s in range(0, len(allc), _BATCH):
                part = allc.take(slice(s, s + _BATCH))
                self.report.rows_loaded += len(part)
                yield part
        elif carry is not None and len(carry):
            carry = _kept(carry, self._resolve(carry))
            self.report.rows_loaded += len(carry)
            if len(carry):
                yield carry
        self._finish()

    def _validated(self) -> Iterator[_Chunk]:
        """Validated chunks in file order, checked by two worker threads.

        Arrow decoding and the numpy checks release the GIL for most of their work, so two
        batches are checked at once while the caller de-duplicates, aggregates and writes the
        previous ones. Ids and the (enrolment, day, session) keys are given out in file order.
        """
        window = 3
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="marks-check") as pool:
            pending: deque = deque()
            try:
                next_line = self._line_offset
                for batch in _prefetch(self._batches()):
                    pending.append(pool.submit(self._check, batch, next_line))
                    next_line += batch.num_rows
                    if len(pending) >= window:
                        yield self._order(pending.popleft().result())
                while pending:
                    yield self._order(pending.popleft().result())
            finally:
                for f in pending:
                    f.cancel()

    def _finish(self) -> None:
        if self._blank_lines:
            blank = np.sort(np.concatenate(self._blank_lines))  # workers finish out of order
            shown = ", ".join(str(int(x)) for x in blank[:10])
            more = f" and {len(blank) - 10:,} more" if len(blank) > 10 else ""
            self.report.notes.append(f"{len(blank):,} blank line(s) skipped (line {shown}"
                                     f"{more}); they are not rows")
        if self.report.rows_read == 0 and self.format != "table":
            self.report.notes.append("the file has a header row but no data rows; nothing to "
                                     "load")
        if self._quarantine:
            q = pd.concat(self._quarantine, ignore_index=True).sort_values("line", kind="stable")
            self.report.quarantine = q.reset_index(drop=True)

    # -- conversion ----------------------------------------------------------------------------
    def to_arrow(self, ch: _Chunk) -> pa.Table:
        """The store's marks layout (the canonical ``upn, urn, date, session, code``).

        Category and academic year are not stored: the store's ``marks`` view derives them from
        the code table, so a canonical source file can be kept exactly as it came.
        """
        code_ids = dict(self.reg.code_ids)  # snapshot: the reader thread may add codes
        code_names = [c for c, _ in sorted(code_ids.items(), key=lambda kv: kv[1])]
        return pa.table({
            "upn": self._local_dict(ch.pid, self.reg.upns),
            "urn": self._local_dict(ch.gid, self.reg.urns),
            "date": pa.array(ch.day, pa.int32()).cast(pa.date32()),
            "session": pa.DictionaryArray.from_arrays(
                pa.array(ch.pm.astype(np.int8)), pa.array(["AM", "PM"])),
            "code": pa.DictionaryArray.from_arrays(
                pa.array(ch.code.astype(np.int32)), pa.array(code_names, pa.string())),
        })

    def to_arrow_categorised(self, ch: _Chunk) -> pa.Table:
        """:meth:`to_arrow` plus ``category`` and ``academic_year`` (for in-memory frames)."""
        t = self.to_arrow(ch)
        t = t.append_column("category", pa.DictionaryArray.from_arrays(
            pa.array(ch.cat.astype(np.int8)), pa.array(list(_CAT_NAMES), pa.string())))
        return t.append_column("academic_year", pa.array(ch.ay, pa.int16()))

    @staticmethod
    def _local_dict(ids: np.ndarray, values: list[str]) -> pa.DictionaryArray:
        """Dictionary array holding only the values this chunk uses (keeps Parquet small)."""
        uniq, inv = np.unique(ids, return_inverse=True)
        return pa.DictionaryArray.from_arrays(pa.array(inv.astype(np.int32)),
                                              pa.array([values[i] for i in uniq], pa.string()))

    def aggregate(self, ch: _Chunk) -> pa.Table:
        """Enrolment x week counts (``AGG_COLUMNS``) for a validated chunk.

        Rows are runs of the same enrolment, academic year and week in file order; the same
        enrolment-week may appear in more than one row (the store sums them).
        """
        week = ch.day - _weekday(ch.day)
        brk = np.ones(len(ch), bool)
        if len(ch) > 1:
            brk[1:] = ((ch.pid[1:] != ch.pid[:-1]) | (ch.gid[1:] != ch.gid[:-1])
                       | (week[1:] != week[:-1]) | (ch.ay[1:] != ch.ay[:-1]))
        starts = np.flatnonzero(brk)
        nruns = len(starts)
        run = np.cumsum(brk) - 1
        ncat = len(codes_mod.CATEGORIES)
        bycat = np.bincount(run * ncat + ch.cat, minlength=nruns * ncat).reshape(nruns, ncat)
        # code classes: 0 other, 1 L, 2 U (late and unauthorised), 3 G/N/O
        code_ids = dict(self.reg.code_ids)  # snapshot: the reader thread may add codes
        cls_lut = np.zeros(max(code_ids.values(), default=0) + 2, np.int64)
        for c, i in code_ids.items():
            cls_lut[i] = 1 if c == "L" else 2 if c == "U" else 3 if c in \
                codes_mod.LEGAL_THRESHOLD_CODES else 0
        bycls = np.bincount(run * 4 + cls_lut[ch.code], minlength=nruns * 4).reshape(nruns, 4)
        c = {name: bycat[:, CATEGORY_IDS[name]] for name in
             ("present", "aea", "authorised", "unauthorised", "not_possible")}
        c["covid"] = bycat[:, CATEGORY_IDS[codes_mod.COVID_NOT_ATTENDING]]
        c["possible"] = (c["present"] + c["aea"] + c["authorised"] + c["unauthorised"]
                         + c["covid"])
        c["late_before"] = bycls[:, 1]
        c["late_after"] = bycls[:, 2]
        c["legal_unauth"] = bycls[:, 2] + bycls[:, 3]
        c["marks"] = np.diff(np.append(starts, len(ch)))
        gid = ch.gid[starts]
        out = {
            "pid": pa.array(ch.pid[starts].astype(np.int32)),
            "gid": pa.array(gid.astype(np.int32)),
            "urn": self._local_dict(gid, self.reg.urns),
            "academic_year": pa.array(ch.ay[starts], pa.int16()),
            "week_start": pa.array(week[starts], pa.int32()).cast(pa.date32()),
            "first_date": pa.array(np.minimum.reduceat(ch.day, starts), pa.int32()).cast(
                pa.date32()),
            "last_date": pa.array(np.maximum.reduceat(ch.day, starts), pa.int32()).cast(
                pa.date32()),
        }
        for name in AGG_COLUMNS[6:]:
            out[name] = pa.array(c[name].astype(np.int32), pa.int32())
        return pa.table(out)


def read_marks(path: str | Path, *, mapping: str | Path | None = None,
               pupils: pd.DataFrame | None = None, start_month: int = 8
               ) -> tuple[pd.DataFrame, LoadReport]:
    """Read and validate a long-form marks file into a DataFrame (small files; tests).

    Returns ``(marks, report)`` where marks has ``upn, urn, date, session, code, category,
    academic_year``. For LA-scale files use :meth:`attendance_lib.store.Store.ingest`, which
    streams.
    """
    reg = Registry()
    enr = Enrolments.from_pupils(pupils, reg) if pupils is not None else None
    reader = MarksReader(path, mapping=mapping, registry=reg, enrolments=enr,
                         start_month=start_month)
    tables = [reader.to_arrow_categorised(ch) for ch in reader]
    rep = reader.report
    if not tables:
        return _empty_marks(), rep
    df = pa.concat_tables(tables).to_pandas()
    return _decode(df), rep


def _empty_marks() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in
                         ["upn", "urn", "date", "session", "code", "category"]}).assign(
        date=pd.Series(dtype="datetime64[ns]"), academic_year=pd.Series(dtype="int16"))


def _decode(df: pd.DataFrame) -> pd.DataFrame:
    for c in ("upn", "urn", "session", "code", "category"):
        df[c] = df[c].astype("string")
    df["date"] = pd.to_datetime(df["date"])
    return df


WEEKLY_COLUMNS = ["upn", "urn", "week_start", "marks"]


def weekly_to_long(path: str | Path, mapping: str | Path | None = None
                   ) -> tuple[pa.Table, LoadReport]:
    """Convert a weekly mark-string file to long form rows (before code validation).

    Layout: ``upn, urn, week_start, marks`` with one row per pupil-week; ``marks`` holds 10
    characters, Monday AM first (``/\\/\\LL/\\N\\``); ``-`` or space means no mark (no row is
    produced for it). A row whose string is not 10 characters, or whose week_start is not a
    Monday, is quarantined. Two-character codes are not used in 10-character weekly strings.

    The report counts only the quarantined week rows (``rows_read`` = their number), so that
    adding it to the session-level report of the long rows keeps ``read = loaded + quarantined``.
    """
    expected = "a weekly marks CSV with columns " + ", ".join(WEEKLY_COLUMNS)
    # leading spaces are kept: a space is a blank session (Monday AM first)
    df, file_lines, blank_lines = read_csv_lines(path, expected, skipinitialspace=False)
    m = load_mapping(mapping, "weekly_marks")
    df = df.rename(columns=apply_mapping(df.columns, m, set(WEEKLY_COLUMNS), path))
    missing = [c for c in WEEKLY_COLUMNS if c not in df.columns]
    if missing:
        raise InputFileError(path, f"missing required column(s) {', '.join(missing)}; expected "
                                   f"{expected} (found: {', '.join(map(str, df.columns))})")
    text = df.astype(object).fillna("").astype(str)
    for c in df.columns:
        if c != "marks":
            df[c] = df[c].astype("string").str.strip()
    s = df["marks"].fillna("").astype(str).str.strip("\r\n")
    wk = parse_dates(df["week_start"])
    bad_len = s.str.len() != 10
    bad_wk = wk.isna() | (wk.dt.day_of_week != 0)
    bad = (bad_len | bad_wk).to_numpy()
    reasons = np.where(bad_wk.to_numpy(), "invalid week_start: " + df["week_start"].fillna("")
                       + " is not a Monday date",
                       "invalid mark string: '" + s + "' has " + s.str.len().astype(str)
                       + " characters, not 10")
    lines = file_lines
    raw = text.agg(",".join, axis=1).to_numpy() if len(df) else np.array([])
    q = quarantine_frame(path, lines[bad], reasons[bad], raw[bad])
    rep = LoadReport(file=str(path), kind="weekly marks", rows_read=int(bad.sum()), quarantine=q)
    good = df.loc[~bad].reset_index(drop=True)
    gs = s[~bad].reset_index(drop=True)
    gw = wk[~bad].reset_index(drop=True)
    chars = gs.str.split("", expand=False).str[1:-1]
    long = pd.DataFrame({
        "upn": np.repeat(good["upn"].to_numpy(dtype=object), 10),
        "urn": np.repeat(good["urn"].to_numpy(dtype=object), 10),
        "date": (np.repeat(gw.to_numpy(), 10)
                 + np.tile(np.repeat(np.arange(5), 2), len(good)).astype("timedelta64[D]")),
        "session": np.tile(["AM", "PM"], 5 * len(good)),
        "code": np.concatenate(chars.to_list()) if len(good) else np.array([], dtype=object),
        "_line": np.repeat(lines[~bad], 10),
    })
    keep = ~long["code"].isin(["-", " "])
    long = long[keep]
    if (~keep).any():
        rep.notes.append(f"{int((~keep).sum()):,} blank session(s) ('-' or space) carried no "
                         f"mark")
    if len(blank_lines):
        rep.notes.append(f"{len(blank_lines):,} blank line(s) skipped (line "
                         f"{', '.join(str(int(x)) for x in blank_lines[:10])}); they are not rows")
    if len(df) == 0:
        rep.notes.append("the file has a header row but no data rows; nothing to load")
    tbl = pa.table({
        "upn": pa.array(long["upn"].to_numpy(dtype=object), pa.string()),
        "urn": pa.array(long["urn"].to_numpy(dtype=object), pa.string()),
        "date": pa.array(long["date"].to_numpy(dtype="datetime64[D]"), pa.date32()),
        "session": pa.array(long["session"].to_numpy(dtype=object), pa.string()),
        "code": pa.array(long["code"].to_numpy(dtype=object), pa.string()),
        "_line": pa.array(long["_line"].to_numpy(dtype=np.int64), pa.int64()),
    })
    return tbl, rep


def read_weekly_marks(path: str | Path, *, mapping: str | Path | None = None,
                      pupils: pd.DataFrame | None = None, start_month: int = 8
                      ) -> tuple[pd.DataFrame, LoadReport]:
    """Read a weekly mark-string file into validated long-form marks.

    Accounting is in sessions after the conversion: each week row becomes up to 10 session rows
    (a ``-`` or space is no session), and ``rows_read`` counts those sessions plus each malformed
    week row (wrong length, week_start not a Monday), which is quarantined whole as one row.
    Session-level problems (unknown code, weekend, enrolment) quarantine the session with the
    week row's line number.
    """
    long, wrep = weekly_to_long(path, mapping)
    reg = Registry()
    enr = Enrolments.from_pupils(pupils, reg) if pupils is not None else None
    reader = MarksReader(path, registry=reg, enrolments=enr, start_month=start_month,
                         source=long, line_offset=0, kind="weekly marks")
    tables = [reader.to_arrow_categorised(ch) for ch in reader]
    df = _decode(pa.concat_tables(tables).to_pandas()) if tables else _empty_marks()
    rep = reader.report
    rep.rows_read += wrep.rows_read  # malformed week rows, quarantined whole
    rep.quarantine = (pd.concat([wrep.quarantine, rep.quarantine], ignore_index=True)
                      .sort_values("line", kind="stable").reset_index(drop=True))
    rep.notes = wrep.notes + rep.notes
    rep.sha256 = file_sha256(path)
    return df, rep
