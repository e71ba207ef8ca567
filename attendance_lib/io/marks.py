"""Register marks: long form (CSV, Parquet) and weekly mark strings, validated in a stream.

Canonical long form (product.md): one row per pupil per session, ``upn, urn, date, session
(AM/PM), code``. Column names can be mapped from a YAML file (``marks:`` section).

Validation (each bad row is quarantined with file, line and the first problem found):

* a required field is empty (or only spaces);
* invalid date (ISO ``yyyy-mm-dd`` or UK ``dd/mm/yyyy``, read day-first; 1990-01-01 to
  2099-12-31), invalid session (AM/PM);
* a mark on a Saturday or Sunday;
* failed UPN check letter (domain.md 6), invalid URN;
* a code that is not in the code set of the mark's academic year (codes.py), or a withdrawn code;
* with a pupils file: no enrolment for that pupil at that school, or a mark before the admission
  date or after the leaving date (domain.md 7: PA uses each enrolment's own sessions);
* two different codes for one pupil-session at one school (every such row is quarantined,
  because neither can be trusted); an exact repeat of a row loads once and the repeat is
  quarantined as a duplicate, so ``rows read = rows loaded + rows quarantined`` always holds.

Performance: files are read in batches with dictionary-encoded text columns (one batch per
Parquet row group), so each distinct UPN, code or date string is examined once per dictionary,
and checks run as numpy array operations: per dictionary value, per run of one enrolment or on a
batch's range of days first, per row only where something fails. A clean batch keeps its codes,
sessions and dates as the arrays Arrow read (no copies) and its pupil and school ids as runs
(:class:`attendance_lib.io._chunks.Chunk`). Duplicate and
conflict detection streams when the file is grouped by enrolment (pupil at a school) in date
order (how MIS exports and the canonical files are written); otherwise it falls back to sorting
the rest of the file in memory from the batch where the disorder shows. Enrolments that reappear
there after some of their marks were already passed on have those marks read again, so repeats
are still found exactly; a *conflict* with a mark already passed on cannot be quarantined whole
any more, so it stops the load with :class:`InputFileError` (sort the file and load it again).
Blank lines are skipped, not counted, and do not shift line numbers.

Whole-file checks besides the columns: a CSV is read in the encoding detected for it (UTF-8 with
or without BOM, cp1252, ISO-8859-1; recorded in ``report.encoding`` and, unless plain UTF-8, a
note), and a file whose ``dd/mm/yyyy`` dates are ambiguous throughout is refused once it has been
read, before anything is committed (:class:`attendance_lib.io._common.DateEvidence`;
../shared/reference/mis_formats.md section 0).

This module holds the reader (:class:`MarksReader`: batches, streaming de-duplication, the
fallback sort) and the DataFrame entry points :func:`read_marks` and :func:`read_weekly_marks`.
The parts it builds on live beside it in :mod:`attendance_lib.io`: ``registry`` (dense ids,
enrolment windows), ``_chunks`` (validated rows as arrays), ``_mark_checks`` (the row checks and
duplicate resolution), ``_tables`` (the store's Arrow layouts) and ``weekly`` (weekly mark
strings to long rows); the public names among them are re-exported here.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ._chunks import (
    Chunk,
    Runs,
    dropped_keys,
    enrolment_ords,
    kept,
    prefetch,
    row_keys,
    run_starts,
    set_flags,
)
from ._common import (
    DateEvidence,
    InputFileError,
    LoadReport,
    apply_mapping,
    check_input_file,
    file_sha256,
    file_text_encoding,
    load_mapping,
    mapping_options,
)
from ._mark_checks import MarkChecks
from ._tables import (
    AGG_COLUMNS,
    CATEGORY_IDS,
    MARK_COLUMNS,
    Scratch,
    categorised_marks_table,
    marks_table,
    week_aggregate,
)
from .encodings import encoding_note
from .registry import Enrolments, Registry
from .weekly import WEEKLY_COLUMNS, weekly_to_long  # noqa: F401 (WEEKLY_COLUMNS: old path)

__all__ = ["MARK_COLUMNS", "Registry", "Enrolments", "MarksReader", "read_marks",
           "read_weekly_marks", "weekly_to_long", "CATEGORY_IDS", "AGG_COLUMNS"]

# looked up in this module at call time: tests monkeypatch ``marks._BATCH``, so the code
# that reads it (``_batches``, ``_raw_batches``, ``__iter__``) stays here
_BATCH = 1_000_000  # most rows validated at once (CSV blocks are cut to this too)
_CSV_BLOCK_BYTES = 1 << 25


class MarksReader(MarkChecks):
    """Validate a long-form marks file batch by batch.

    Iterate to get validated :class:`Chunk` objects (already free of duplicates and conflicts);
    ``report`` is complete once iteration ends. Use :func:`read_marks` for a DataFrame.

    Line numbers are file lines (the header is line 1; for Parquet, row numbers from 1). Blank
    lines in a CSV are not rows: they are skipped (and listed in a report note) without moving
    the line numbers of the rows after them.
    """

    def __init__(self, path: str | Path, *, mapping: str | Path | None = None,
                 registry: Registry | None = None, enrolments: Enrolments | None = None,
                 start_month: int = 8, line_offset: int | None = None,
                 source: pa.Table | None = None, kind: str = "marks", day_first: bool = False):
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
        self.encoding = "utf-8"
        if self.format == "csv":
            self.encoding = file_text_encoding(path)
            self.report.encoding = self.encoding
            self.report.notes.extend(encoding_note(self.encoding))
        day_first = day_first or mapping_options(mapping).get("date_order") == "day-first"
        #: what the date strings say about day-first/month-first (refused when ambiguous)
        self._dates = DateEvidence(day_first)
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
        self._scratch = Scratch()  # work arrays of the checks and aggregate(), per thread
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
            if b.num_rows <= max(_BATCH, int(_BATCH * 1.1)):
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
            # one batch per row group when row groups are about _BATCH rows (as written by
            # the store and most tools): each brings its own dictionaries, and batches cut
            # across them would double the batches and the per-batch work
            sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)]
            if sizes and max(sizes) <= _BATCH * 1.1 and min(sizes[:-1] or [_BATCH]) >= _BATCH // 4:
                for i, rows in enumerate(sizes):
                    for b in pf.iter_batches(batch_size=max(rows, 1), row_groups=[i],
                                             columns=src_cols):
                        yield pa.RecordBatch.from_arrays(b.columns, names=MARK_COLUMNS)
                return
            for b in pf.iter_batches(batch_size=_BATCH, columns=src_cols):
                yield pa.RecordBatch.from_arrays(b.columns, names=MARK_COLUMNS)
            return
        # CSV: read the header first to map columns, then stream with everything as text
        enc = self.encoding
        with open(self.path, encoding="utf-8-sig" if enc.startswith("utf-8") else enc,
                  errors="replace") as fh:
            header = [h.strip().strip('"') for h in fh.readline().rstrip("\r\n").split(",")]
        rename = apply_mapping(header, self._mapping, set(MARK_COLUMNS), self.path)
        mapped = [rename.get(c, c) for c in header]
        self._check_columns(mapped, expected)
        dict_t = pa.dictionary(pa.int32(), pa.string())
        try:
            reader = pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(
                    block_size=_CSV_BLOCK_BYTES, column_names=mapped, skip_rows=1,
                    encoding="utf8" if enc.startswith("utf-8") else enc),
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
                raise InputFileError(self.path, "is not UTF-8 text beyond its first 64 KiB "
                                     "(mixed encodings?); expected a register marks CSV in one "
                                     "encoding (UTF-8, cp1252 or ISO-8859-1)") from None
            raise InputFileError(self.path, f"is not a readable marks CSV ({msg.splitlines()[0]})"
                                 f"; expected a register marks CSV with {expected}, the same "
                                 f"number of fields on every line") from None

    def _check_columns(self, names, expected):
        missing = [c for c in MARK_COLUMNS if c not in names]
        if missing:
            raise InputFileError(
                self.path, f"missing required column(s) {', '.join(missing)}; expected a register "
                f"marks file with {expected} (found: {', '.join(map(str, names))}). Map other "
                f"headings with a YAML mapping (--mapping; 'attendance mapping suggest FILE' "
                f"proposes one).")

    # -- validation (the row checks themselves: MarkChecks) ----------------------------------
    def _validate(self, batch: pa.RecordBatch, first_line: int, record: bool = True) -> Chunk:
        """Check one batch; quarantine its bad rows (when ``record``) and return the good ones."""
        return self._order(self._check(batch, first_line, record), record)

    def _order(self, parts: tuple, record: bool = True) -> Chunk:
        """The file-order step: enrolment ordinals (``ch.runs.ids``), from which the
        (enrolment, day, session) key ``ch.base`` is built if something needs it."""
        ch, n_read = parts
        if record:
            self.report.rows_read += n_read
        if ch.runs is None:  # rows were dropped: find the runs again
            starts = run_starts(ch.pid, ch.gid)
            ch.runs = Runs(starts, ch.pid[starts], ch.gid[starts], None, len(ch))
        ch.runs.ids = self.reg.enrolment_run_ids(ch.runs.pid, ch.runs.gid,
                                                 table=self._enrolment_ord)
        if len(ch) and record:
            lo, hi = int(ch.day.min()), int(ch.day.max())
            self.min_day = lo if self.min_day is None else min(self.min_day, lo)
            self.max_day = hi if self.max_day is None else max(self.max_day, hi)
        return ch

    def _reread(self, n_batches: int, ords: np.ndarray, skip: Chunk | None) -> Chunk | None:
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
                sel &= ~row_keys(ch).isin(row_keys(skip))
            if sel.any():
                parts.append(ch.take(sel))
        return Chunk.concat(parts) if parts else None

    def __iter__(self) -> Iterator[Chunk]:
        if self._source is None:
            self.report.sha256 = file_sha256(self.path)
        carry: Chunk | None = None
        collected: list[Chunk] | None = None
        streamed = np.zeros(0, bool)  # by local enrolment ordinal: rows already checked
        n_streamed = 0  # batches handled in streaming mode before the fallback
        tail: Chunk | None = None  # rows carried (not handed out) when the fallback began
        for ch in self._validated():
            if collected is not None:
                collected.append(ch)
                continue
            if carry is not None and len(ch) and carry.key_at(-1) < ch.key_at(0):
                # the carried run ended at the batch boundary: hand it out on its own rather
                # than copying the whole new batch behind it
                streamed = set_flags(streamed, enrolment_ords(carry))
                done = kept(carry, self._resolve(carry))
                self.report.rows_loaded += len(done)
                if len(done):
                    yield done
                carry = None
            pending = Chunk.concat([carry, ch]) if carry is not None else ch
            # strictly increasing keys (the usual, clean file): in order and nothing repeated
            work = self._scratch.arrays(len(pending))
            strict = pending.strictly_increasing(work[0], work[1])
            if not strict and (pending.base[1:] < pending.base[:-1]).any():
                # not grouped by enrolment in date order: sort everything in memory at the end
                collected = [pending]
                tail, carry = carry, None
                continue
            pending.ordered = True
            n_streamed += 1
            if not len(pending):
                carry = None
                continue
            tail_start = len(pending) - 1 if strict else int(
                np.searchsorted(pending.base, pending.base[-1], side="left"))
            head, carry = pending.take(slice(0, tail_start)), pending.take(
                slice(tail_start, None))
            if len(head):
                streamed = set_flags(streamed, enrolment_ords(head))
                if not strict:
                    head = kept(head, self._resolve(head))
            self.report.rows_loaded += len(head)
            if len(head):
                yield head
        if collected is not None:
            allc = Chunk.concat(collected)
            old = old_kept = None
            ords = allc.base >> 17
            again = np.unique(ords[ords < len(streamed)])
            again = again[streamed[again]]
            if len(again):
                # enrolments that reappear after rows of theirs were passed on: read those rows
                # again so repeats and conflicts with them are still found
                prev = self._reread(n_streamed, again, tail)
                if prev is not None:
                    dropped = dropped_keys(self._dropped)
                    old = np.r_[np.ones(len(prev), bool), np.zeros(len(allc), bool)]
                    old_kept = old.copy()
                    if dropped is not None:
                        old_kept[:len(prev)] = ~row_keys(prev).isin(dropped)
                    allc = Chunk.concat([prev, allc])
            order = np.lexsort((allc.line, allc.base))
            allc = allc.take(order)
            allc.ordered = True
            if old is not None:
                old, old_kept = old[order], old_kept[order]
            keep = self._resolve(allc, old, old_kept)
            if old is not None:
                keep &= ~old
            allc = kept(allc, keep)
            self.report.notes.append("file was not grouped by pupil and school in date order; "
                                     "it was sorted in memory to check for duplicates")
            for s in range(0, len(allc), _BATCH):
                part = allc.take(slice(s, s + _BATCH))
                self.report.rows_loaded += len(part)
                yield part
        elif carry is not None and len(carry):
            carry = kept(carry, self._resolve(carry))
            self.report.rows_loaded += len(carry)
            if len(carry):
                yield carry
        self._finish()

    def _validated(self) -> Iterator[Chunk]:
        """Validated chunks in file order, checked in a worker thread.

        Reading (another thread) and checking overlap with what the caller does with earlier
        chunks (de-duplication; aggregation and writing in the store's writer thread). One
        checker, not two: these array passes are memory-bound, and measured on 2 cores a second
        checker thread made the load slower (7.8 s against 7.2 s for 57 million marks).
        """
        window = 3
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="marks-check") as pool:
            pending: deque = deque()
            try:
                next_line = self._line_offset
                for batch in prefetch(self._batches()):
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
        problem = self._dates.problem()
        if problem:
            raise InputFileError(self.path, problem)
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
    def to_arrow(self, ch: Chunk) -> pa.Table:
        """The store's marks layout (the canonical ``upn, urn, date, session, code``).

        Category and academic year are not stored: the store's ``marks`` view derives them from
        the code table, so a canonical source file can be kept exactly as it came.
        """
        return marks_table(ch, self.reg)

    def to_arrow_categorised(self, ch: Chunk) -> pa.Table:
        """:meth:`to_arrow` plus ``category`` and ``academic_year`` (for in-memory frames)."""
        return categorised_marks_table(ch, self.reg)

    def aggregate(self, ch: Chunk) -> pa.Table:
        """Enrolment x week counts (``AGG_COLUMNS``) for a validated chunk.

        Rows are runs of the same enrolment, academic year and week in file order; the same
        enrolment-week may appear in more than one row (the store sums them).
        """
        return week_aggregate(ch, self.reg, self._scratch)

    def aggregate_with_years(self, ch: Chunk) -> tuple[pa.Table, pa.Table]:
        """:meth:`aggregate` and its enrolment x academic year totals
        (:func:`attendance_lib.io._tables.year_totals`)."""
        return week_aggregate(ch, self.reg, self._scratch, with_years=True)


def read_marks(path: str | Path, *, mapping: str | Path | None = None,
               pupils: pd.DataFrame | None = None, start_month: int = 8,
               day_first: bool = False) -> tuple[pd.DataFrame, LoadReport]:
    """Read and validate a long-form marks file into a DataFrame (small files; tests).

    Returns ``(marks, report)`` where marks has ``upn, urn, date, session, code, category,
    academic_year``. For LA-scale files use :meth:`attendance_lib.store.Store.ingest`, which
    streams. ``day_first`` declares ``dd/mm/yyyy`` dates as UK dates even when every one of them
    could be read month-first (otherwise such a file is refused).
    """
    reg = Registry()
    enr = Enrolments.from_pupils(pupils, reg) if pupils is not None else None
    reader = MarksReader(path, mapping=mapping, registry=reg, enrolments=enr,
                         start_month=start_month, day_first=day_first)
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



def read_weekly_marks(path: str | Path, *, mapping: str | Path | None = None,
                      pupils: pd.DataFrame | None = None, start_month: int = 8,
                      day_first: bool = False) -> tuple[pd.DataFrame, LoadReport]:
    """Read a weekly mark-string file into validated long-form marks.

    Accounting is in sessions after the conversion: each week row becomes up to 10 session rows
    (a ``-`` or space is no session), and ``rows_read`` counts those sessions plus each malformed
    week row (wrong length, week_start not a Monday), which is quarantined whole as one row.
    Session-level problems (unknown code, weekend, enrolment) quarantine the session with the
    week row's line number.
    """
    long, wrep = weekly_to_long(path, mapping, day_first=day_first)
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
