"""The embedded store: Parquet files plus DuckDB views, no server (product.md, "The store").

Layout under the store folder::

    store.json                  settings (academic-year start month) and the log of loads
    marks/<load>.parquet        validated marks of one loaded file: upn, urn, date, session,
                                code, category, academic_year (dictionary-encoded text)
    agg/<load>.parquet          enrolment x week counts by category written at load time
                                (``io.marks.AGG_COLUMNS``), so summaries never rescan marks
    years/<load>.parquet        the same summed per enrolment and academic year
                                (``io._tables.YEAR_COLUMNS``): a whole year to date at a glance
    corrections/<load>.parquet  the marks this load corrected: upn, urn, date, session,
                                old_code, new_code, old_load, new_load, file, line,
                                corrected_at (:meth:`Store.corrections`)
    pupils.parquet, schools.parquet, interventions.parquet
    quarantine/<time>.csv       rows that were not loaded, with file, line and reason
    store.duckdb                views over the Parquet files, for an analyst's own queries

Marks files may be in any MIS format ``attendance_lib.io.formats`` reads (``fmt``: canonical,
Wonde JSON, SIMS XML, CTF, weekly grids or strings, or ``auto`` to detect by content); each is
converted to the canonical rows and checked by the same marks reader (issue 8,
../shared/reference/mis_formats.md).

Incremental loads (issue 9). A day's or a week's marks are appended as one more load (its own
``marks/``, ``agg/`` and ``years/`` files); nothing already stored is rewritten. Against the marks
already in the store (and those of earlier files of the same ingest, taken in the order given),
each mark for a pupil-session (upn, urn, date, session) that is already there is:

* **already stored** when the code is the same (overlapping exports are normal): the mark is not
  added, and is counted among the file's quarantined rows with the reason ``already in the
  store: identical mark loaded from FILE`` and its line, so ``rows read = rows loaded + rows
  quarantined`` holds; :attr:`LoadReport.rows_already_stored` counts them and
  :attr:`LoadReport.rows_rejected` leaves them out (they are not problems);
* **a correction** when the code differs: the new mark is loaded (it counts as loaded) and
  replaces the stored one everywhere; :attr:`LoadReport.rows_corrected` counts them and
  ``corrections/<load>.parquet`` logs each with the old and new code and load. The last load
  wins, so a mark corrected twice ends with the last code (each correction replaces the code
  in force then).

Two different codes for one pupil-session inside one file remain a quarantined conflict.
A re-sent file (same SHA-256 as a load) is not read again and changes no file of the store; a
file none of whose marks is new adds no load (only its quarantine file, listing them as already
stored). Each load records the dates it spans (``first_date``, ``last_date`` in ``store.json``),
so a new file is compared only with the loads whose dates can overlap it: a day's load after the
last one costs no scan of the year.

How a correction avoids rewriting old loads (their files can hold a whole year):

* ``marks`` view: a load whose marks were corrected is read with an anti-join against the
  corrections that name it (``old_load``); loads with nothing corrected are read as before, and
  a store with no corrections has exactly the plain view;
* pre-aggregates: the correcting load's ``agg/`` and ``years/`` files hold, besides its own
  marks, a delta for each corrected mark (minus one in the old mark's category and code
  columns; its own new mark counts plus one), so sums over all loads are exact. So that a
  row never shows a negative count (queries may test ``possible > 0`` per row), the
  ``enrolment_weeks`` and ``enrolment_years`` views collapse, only for the enrolment-weeks
  (enrolment-years) a correction touched, the rows of all loads into one summed row.

Pupils, schools and interventions are replaced row by row (an upsert on their keys), so a newer
census extract updates what changed.

A :class:`Store` opened with ``urns=[...]`` sees only those schools' rows through every accessor:
per-school reports are isolated by the data access itself (product.md, "Privacy and security").
"""

from __future__ import annotations

import functools
import json
import os
import queue
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .io import formats, roster
from .io._common import (
    ALREADY_STORED,
    LoadReport,
    check_input_file,
    file_sha256,
    quarantine_frame,
)
from .io._convert import Converted
from .io._tables import AGG_COLUMNS, AGG_PARQUET, YEAR_COLUMNS
from .io.marks import Enrolments, MarksReader, Registry, weekly_to_long

__all__ = ["Store", "IngestResult", "StoreError", "CORRECTION_COLUMNS"]

_SETTINGS = "store.json"
_FORMAT_VERSION = 1


class StoreError(ValueError):
    """The store folder is missing, not a store, or asked for something it cannot give."""


#: columns of the corrections log (``corrections/<load>.parquet``, :meth:`Store.corrections`)
CORRECTION_COLUMNS = ["upn", "urn", "date", "session", "old_code", "new_code", "old_load",
                      "new_load", "file", "line", "corrected_at"]


@dataclass
class IngestResult:
    reports: list[LoadReport] = field(default_factory=list)
    quarantine_path: Path | None = None
    skipped: list[str] = field(default_factory=list)
    #: the corrections this ingest made (or, in a dry run, would make): CORRECTION_COLUMNS
    corrections: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=CORRECTION_COLUMNS))

    @property
    def rows_quarantined(self) -> int:
        return sum(r.rows_quarantined for r in self.reports)

    @property
    def rows_already_stored(self) -> int:
        """Quarantined marks identical to marks already in the store (not problems)."""
        return sum(r.rows_already_stored for r in self.reports)

    @property
    def rows_rejected(self) -> int:
        """Quarantined rows that are problems: all but those already in the store."""
        return sum(r.rows_rejected for r in self.reports)

    @property
    def rows_corrected(self) -> int:
        return sum(r.rows_corrected for r in self.reports)

    @property
    def balanced(self) -> bool:
        return all(r.balanced for r in self.reports)


class _ParquetSink:
    """Write tables to Parquet files from a background thread (one writer per path).

    Arrow's Parquet encoder releases the GIL, so encoding overlaps with validation. Errors in
    the thread are raised again when the sink closes.
    """

    def __init__(self, compression: str = "snappy"):
        self._q: queue.Queue = queue.Queue(maxsize=4)
        self._writers: dict[Path, pq.ParquetWriter] = {}
        self._error: BaseException | None = None
        self._compression = compression
        self._t = threading.Thread(target=self._run, name="parquet-sink", daemon=True)

    def __enter__(self) -> _ParquetSink:
        self._t.start()
        return self

    def put(self, path: Path, table, **opts) -> None:
        """Queue ``table`` (or a callable returning one, run in the writer thread)."""
        if self._error is not None:
            raise self._error
        self._q.put((path, table, opts))

    def _run(self) -> None:
        while (item := self._q.get()) is not None:
            if self._error is not None:
                continue
            path, table, opts = item
            try:
                if callable(table):
                    table = table()
                w = self._writers.get(path)
                rg = opts.pop("row_group_size", None)
                if w is None:
                    w = self._writers[path] = pq.ParquetWriter(
                        path, table.schema, compression=self._compression, **opts)
                w.write_table(table, row_group_size=rg)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                self._error = exc

    def __exit__(self, *exc) -> None:
        self._q.put(None)
        self._t.join()
        for w in self._writers.values():
            w.close()
        if self._error is not None and exc[0] is None:
            raise self._error


def _years_path(apath: Path) -> Path:
    """The staged per-year totals beside a staged ``<load>.agg.parquet``."""
    return apath.with_name(apath.name.replace(".agg.parquet", ".years.parquet"))


def _atomic_write_parquet(table: pa.Table, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + f".tmp-{uuid.uuid4().hex[:8]}")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


class _LineMap:
    """The file line of each row of a staged marks file (rows in the order written): runs of
    consecutive lines, or ``row + offset`` for a file copied as it is."""

    def __init__(self, offset: int | None = None):
        self.offset = offset
        self._starts: list[np.ndarray] = []
        self._firsts: list[np.ndarray] = []
        self._n = 0

    def add(self, ch) -> None:
        starts, firsts = ch.line_runs()
        self._starts.append(starts + self._n)
        self._firsts.append(firsts)
        self._n += len(ch)

    def lines(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, np.int64)
        if self.offset is not None:
            return rows + self.offset
        if not self._starts:
            return np.full(len(rows), -1, np.int64)
        starts, firsts = np.concatenate(self._starts), np.concatenate(self._firsts)
        run = np.searchsorted(starts, rows, side="right") - 1
        return firsts[run] + rows - starts[run]


def _drop_rows(path: Path, rows: np.ndarray) -> None:
    """Rewrite a staged marks file without the given row numbers (streaming, order kept)."""
    rows = np.sort(np.asarray(rows, np.int64))
    pf = pq.ParquetFile(path)
    tmp = path.with_name(path.name + ".f")
    with pq.ParquetWriter(tmp, pf.schema_arrow, compression="zstd",
                          write_statistics=["date", "urn"]) as w:
        off = 0
        for b in pf.iter_batches(batch_size=1 << 20):
            n = b.num_rows
            lo, hi = np.searchsorted(rows, [off, off + n])
            if hi > lo:
                keep = np.ones(n, bool)
                keep[rows[lo:hi] - off] = False
                b = b.filter(pa.array(keep))
            w.write_batch(b)
            off += n
    os.replace(tmp, path)


def _corrections_path(mpath: Path, load: str) -> Path:
    """The staged corrections log beside a staged ``<load>.marks.parquet``."""
    return mpath.with_name(f"{load}.corrections.parquet")


def _corrections_table(corr: pd.DataFrame) -> pa.Table:
    """The corrections log as Arrow (``CORRECTION_COLUMNS``, ``date`` a date32)."""
    dates = pd.to_datetime(corr["date"]).dt.date
    out = {c: pa.array(corr[c].astype(str).tolist(), pa.string())
           for c in ("upn", "urn", "session", "old_code", "new_code", "old_load", "new_load",
                     "file") if c in corr}
    out["date"] = pa.array(dates.tolist(), pa.date32())
    if "line" in corr:
        out["line"] = pa.array(corr["line"].astype("int64").to_numpy(), pa.int64())
    if "corrected_at" in corr:
        out["corrected_at"] = pa.array(pd.to_datetime(corr["corrected_at"]).tolist(),
                                       pa.timestamp("s"))
    return pa.table({c: out[c] for c in CORRECTION_COLUMNS if c in out})


#: academic years the code table covers (the loaders refuse dates outside 1990-2099)
_CODE_YEARS = range(1989, 2100)


@functools.lru_cache(maxsize=1)
def _code_table_frame() -> pd.DataFrame:
    from .codes import year_code_table

    return year_code_table(_CODE_YEARS)[["academic_year", "code", "category"]]


def _create_code_table(con: duckdb.DuckDBPyConnection) -> None:
    """``code_categories(academic_year, code, category)``: every code of every year's set."""
    con.register("_code_table_df", _code_table_frame())
    con.execute("CREATE OR REPLACE TABLE code_categories AS SELECT academic_year::SMALLINT AS "
                "academic_year, code::VARCHAR AS code, category::VARCHAR AS category "
                "FROM _code_table_df")
    con.unregister("_code_table_df")


def _categorised_marks_sql(source: str, start_month: int) -> str:
    """Marks from ``source`` (canonical five columns) with ``category`` and ``academic_year``
    derived from the code table (codes.py) for the mark's academic year."""
    return (
        "SELECT m.upn, m.urn, m.date, m.session, m.code, c.category, m.academic_year "
        f"FROM (SELECT upn::VARCHAR AS upn, urn::VARCHAR AS urn, date, "
        f"session::VARCHAR AS session, code::VARCHAR AS code, "
        f"(year(date) - CASE WHEN month(date) < {int(start_month)} THEN 1 ELSE 0 END)"
        f"::SMALLINT AS academic_year FROM {source}) m "
        "JOIN code_categories c ON c.code = m.code AND c.academic_year = m.academic_year")


def _academic_year_sql(col: str, start_month: int) -> str:
    return (f"(year({col}) - CASE WHEN month({col}) < {int(start_month)} THEN 1 ELSE 0 END)"
            f"::SMALLINT")


def _marks_source(files: list[str], corrected: set[str], corr: list[str]) -> str:
    """The stored marks (canonical five columns) in force: every load's file, those with
    corrected marks anti-joined with the corrections that name them (see the module docstring).
    With no corrections this is one ``read_parquet`` over all files, as before."""
    hit = [f for f in files if Path(f).stem in corrected] if corr else []
    plain = [f for f in files if f not in hit]
    if not hit:
        return f"read_parquet([{_sql_list(files)}], union_by_name=true)"
    cols = "upn, urn, date, session, code"
    parts = [f"SELECT {cols} FROM read_parquet([{_sql_list(plain)}], union_by_name=true)"] \
        if plain else []
    for f in hit:
        parts.append(
            f"SELECT {cols} FROM read_parquet('{f}') ANTI JOIN (SELECT upn::VARCHAR AS upn, "
            f"urn::VARCHAR AS urn, date, session::VARCHAR AS session FROM read_parquet("
            f"[{_sql_list(corr)}]) WHERE old_load = '{Path(f).stem}') USING (upn, urn, date, "
            f"session)")
    return "(" + " UNION ALL ".join(parts) + ") AS _in_force"


def _summed_view(files: list[str], fix: str | None, key_sql: str, keys: list[str],
                 join: str, where: str) -> str:
    """A pre-aggregate view (``enrolment_weeks`` or ``enrolment_years``) over ``files``; with
    corrections (``fix``: pid, gid, date of each), the rows of the keys they touched are summed
    over all loads into one, so no row shows a correction's negative delta on its own."""
    src = f"read_parquet([{_sql_list(files)}], union_by_name=true)"
    if fix is None:
        return f"SELECT * FROM {src}{where}"
    counts = AGG_COLUMNS[6:]
    cols = ", ".join(keys + ["first_date", "last_date"] + counts)
    sums = ", ".join(f"sum({c})::INTEGER AS {c}" for c in counts)
    return (f"WITH _a AS (SELECT {cols} FROM {src}), _k AS (SELECT DISTINCT pid, gid, {key_sql} "
            f"FROM ({fix})) SELECT * FROM (SELECT {cols} FROM _a ANTI JOIN _k USING ({join}) "
            f"UNION ALL SELECT {', '.join(keys)}, min(first_date) AS first_date, "
            f"max(last_date) AS last_date, {sums} FROM _a SEMI JOIN _k USING ({join}) "
            f"GROUP BY {', '.join(keys)}){where}")


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


class Store:
    """A store folder. ``Store(root)`` opens (or, on ingest, creates) it."""

    def __init__(self, root: str | Path, *, urns: Sequence[str] | None = None):
        self.root = Path(root).resolve()
        self.urns = tuple(str(u) for u in urns) if urns is not None else None
        self._con: duckdb.DuckDBPyConnection | None = None

    # -- settings --------------------------------------------------------------------------
    @property
    def settings(self) -> dict:
        p = self.root / _SETTINGS
        if not p.exists():
            return {"format_version": _FORMAT_VERSION, "start_month": 8, "loads": []}
        return json.loads(p.read_text())

    def _save_settings(self, s: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / (_SETTINGS + ".tmp")
        tmp.write_text(json.dumps(s, indent=2, default=str))
        os.replace(tmp, self.root / _SETTINGS)

    @property
    def start_month(self) -> int:
        return int(self.settings.get("start_month", 8))

    def exists(self) -> bool:
        return (self.root / _SETTINGS).exists()

    def require(self) -> Store:
        if not self.exists():
            raise StoreError(f"{self.root}: no store here (no {_SETTINGS}); create one with "
                             f"'attendance ingest --store {self.root} ...'")
        return self

    def for_schools(self, urns: Sequence[str]) -> Store:
        """A view of this store restricted to some schools (a report's only data access)."""
        if self.urns is not None and not set(map(str, urns)) <= set(self.urns):
            raise StoreError("a restricted store cannot widen its own access")
        return Store(self.root, urns=urns)

    # -- connection and views -----------------------------------------------------------------
    def _files(self, sub: str) -> list[str]:
        d = self.root / sub
        return sorted(str(p) for p in d.glob("*.parquet")) if d.exists() else []

    def _view_sql(self) -> dict[str, str]:
        where = f" WHERE urn IN ({_sql_list(self.urns)})" if self.urns is not None else ""
        settings = self.settings
        sm = int(settings.get("start_month", 8))
        # loads some of whose marks later loads corrected, and the corrections logs
        corrected = {old for ld in settings.get("loads", []) for old in ld.get("supersedes", ())}
        corr = self._files("corrections") if corrected else []
        views = {}
        files = self._files("marks")
        if files:
            views["marks"] = _categorised_marks_sql(_marks_source(files, corrected, corr),
                                                    sm) + where
        else:
            # an empty view with the real columns, so queries on a store without marks work
            views["marks"] = ("SELECT NULL::VARCHAR AS upn, NULL::VARCHAR AS urn, NULL::DATE AS "
                              "date, NULL::VARCHAR AS session, NULL::VARCHAR AS code, "
                              "NULL::VARCHAR AS category, NULL::SMALLINT AS academic_year "
                              "WHERE false")
        agg, years = self._files("agg"), self._files("years")
        ids = self.root / "ids"
        fix = None
        if corr and (ids / "upn_ids.parquet").exists():
            # the enrolments and days a correction touched (their rows hold deltas)
            fix = (f"SELECT DISTINCT u.pid, g.gid, c.date FROM read_parquet([{_sql_list(corr)}]) "
                   f"c JOIN read_parquet('{ids / 'upn_ids.parquet'}') u ON u.upn = c.upn "
                   f"JOIN read_parquet('{ids / 'urn_ids.parquet'}') g ON g.urn = c.urn")
        if agg:
            views["enrolment_weeks"] = _summed_view(
                agg, fix, "date_trunc('week', date)::DATE AS week_start",
                ["pid", "gid", "urn", "academic_year", "week_start"], "pid, gid, week_start",
                where)
        if agg and [Path(f).name for f in years] == [Path(f).name for f in agg]:
            # per-year totals, when every load has them (stores written before they existed
            # answer from enrolment_weeks alone)
            views["enrolment_years"] = _summed_view(
                years, fix, f"{_academic_year_sql('date', sm)} AS academic_year",
                ["pid", "gid", "urn", "academic_year"], "pid, gid, academic_year", where)
        for name, key in (("upn_ids", "pid"), ("urn_ids", "gid")):
            p = self.root / "ids" / f"{name}.parquet"
            if p.exists():
                views[name] = f"SELECT * FROM read_parquet('{p}')"
                if self.urns is not None:
                    # a restricted store shows only the ids its own schools' rows use
                    views[name] += (f" WHERE {key} IN (SELECT {key} FROM enrolment_weeks)"
                                    if "enrolment_weeks" in views else " WHERE false")
        for name in ("pupils", "schools", "interventions"):
            p = self.root / f"{name}.parquet"
            if p.exists():
                views[name] = f"SELECT * FROM read_parquet('{p}'){where}"
        logs = self._files("corrections")
        if logs:
            views["corrections"] = (f"SELECT * FROM read_parquet([{_sql_list(logs)}], "
                                    f"union_by_name=true){where}")
        return views

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with views over this store's files."""
        if self._con is None:
            con = duckdb.connect(config={"threads": max(1, min(os.cpu_count() or 1, 4))})
            try:  # no progress bar in reports' output (in Jupyter DuckDB refuses without
                con.execute("SET enable_progress_bar = false")  # ipywidgets: then it is off)
            except duckdb.Error:
                pass
            _create_code_table(con)
            for name, sql in self._view_sql().items():
                con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
            self._con = con
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def has(self, table: str) -> bool:
        return table in self._view_sql()

    def query(self, sql: str, params: Sequence | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def _write_duckdb_file(self) -> None:
        """Persist the views in store.duckdb for analysts (absolute paths to the Parquet)."""
        path = self.root / "store.duckdb"
        tmp = self.root / f"store.duckdb.tmp-{uuid.uuid4().hex[:8]}"
        con = duckdb.connect(str(tmp))
        try:
            _create_code_table(con)
            for name, sql in Store(self.root)._view_sql().items():
                con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
        finally:
            con.close()
        os.replace(tmp, path)
        wal = Path(str(tmp) + ".wal")
        if wal.exists():
            wal.unlink()

    # -- accessors ----------------------------------------------------------------------------
    def pupils(self) -> pd.DataFrame:
        return self.query("SELECT * FROM pupils") if self.has("pupils") else pd.DataFrame(
            columns=["upn", "urn"])

    def schools(self) -> pd.DataFrame:
        return self.query("SELECT * FROM schools ORDER BY urn") if self.has("schools") else \
            pd.DataFrame(columns=["urn", "phase"])

    def interventions(self) -> pd.DataFrame:
        return self.query("SELECT * FROM interventions") if self.has("interventions") else \
            pd.DataFrame(columns=["upn", "urn", "type", "start_date"])

    def corrections(self) -> pd.DataFrame:
        """Every mark a later load corrected (``CORRECTION_COLUMNS``), in the order made: the
        pupil-session, the old and new code, the loads that brought them (ids as in
        ``settings["loads"]``), the new mark's file and line, and when."""
        if not self.has("corrections"):
            return pd.DataFrame(columns=CORRECTION_COLUMNS)
        df = self.query(f"SELECT {', '.join(CORRECTION_COLUMNS)} FROM corrections ORDER BY "
                        f"corrected_at, new_load, line, urn, upn, date, session")
        df["date"] = pd.to_datetime(df["date"])
        return df

    def date_range(self) -> tuple[date | None, date | None]:
        if not self.has("marks"):
            return None, None
        lo, hi = self.con.execute("SELECT min(date), max(date) FROM marks").fetchone()
        return lo, hi

    def latest_date(self) -> date | None:
        views = self._view_sql()
        if "enrolment_weeks" not in views:
            return None
        table = "enrolment_years" if "enrolment_years" in views else "enrolment_weeks"
        return self.con.execute(f"SELECT max(last_date) FROM {table}").fetchone()[0]

    def marks(self, *, start: date | str | None = None, end: date | str | None = None,
              upns: Sequence[str] | None = None) -> pd.DataFrame:
        """Marks (one row per pupil-session) between two dates inclusive, as a DataFrame."""
        conds, params = [], []
        if start is not None:
            conds.append("date >= ?")
            params.append(pd.Timestamp(start).date())
        if end is not None:
            conds.append("date <= ?")
            params.append(pd.Timestamp(end).date())
        if upns is not None:
            conds.append(f"upn IN ({_sql_list(upns)})")
        where = (" WHERE " + " AND ".join(conds)) if conds else ""
        df = self.query(f"SELECT upn, urn, date, session, code, category, academic_year FROM "
                        f"marks{where} ORDER BY urn, upn, date, session", params)
        df["date"] = pd.to_datetime(df["date"])
        return df

    # -- ingest -------------------------------------------------------------------------------
    def ingest(self, marks: Sequence[str | Path] = (), *, weekly: Sequence[str | Path] = (),
               pupils: str | Path | None = None, schools: str | Path | None = None,
               interventions: str | Path | None = None, mapping: str | Path | None = None,
               start_month: int | None = None, dry_run: bool = False,
               progress=None, fmt: str = "canonical", local_codes: str | Path | None = None,
               roster_file: str | Path | None = None, day_first: bool = False
               ) -> IngestResult:
        """Validate and load files; with ``dry_run`` report what would happen, change nothing.

        Every file is checked (exists, right kind, required columns) before anything is
        written, so a wrong file stops the load with one message and loads nothing.

        ``fmt`` is the format of the ``marks`` files (:data:`attendance_lib.io.formats.FORMATS`;
        ``auto`` detects each by content and the report's first note says which was chosen);
        ``local_codes`` maps schools' own codes (a YAML ``local_codes`` section or a SIMS code
        export); ``roster_file`` is a CSV of vendor id -> UPN, URN for formats that name pupils by
        MIS id; ``day_first`` declares ``dd/mm/yyyy`` dates UK dates even when every one is
        ambiguous.
        """
        if self.urns is not None:
            raise StoreError("a store restricted to some schools is read-only")
        settings = self.settings
        if start_month is not None:
            if start_month not in (8, 9):
                raise StoreError("start_month must be 8 (DfE, 1 Aug) or 9 (1 Sep)")
            if settings.get("loads") and start_month != settings["start_month"]:
                raise StoreError(f"{self.root}: the store uses academic years starting in month "
                                 f"{settings['start_month']}; it cannot change once loaded")
            settings["start_month"] = start_month
        sm = int(settings.get("start_month", 8))
        if fmt not in formats.FORMATS:
            raise StoreError(f"format must be one of {', '.join(formats.FORMATS)}, not {fmt!r}")
        for p in marks:
            check_input_file(p, "a register marks file (CSV or Parquet)" if fmt == "canonical"
                             else f"a register marks file ({fmt})",
                             allow_parquet=fmt in ("canonical", "auto"))
        for p in weekly:
            check_input_file(p, "a weekly marks CSV")
        result = IngestResult()
        # roster files first: the enrolment check needs the pupils
        frames = {}
        for kind, path, reader in (("pupils", pupils, roster.read_pupils),
                                   ("schools", schools, roster.read_schools),
                                   ("interventions", interventions, roster.read_interventions)):
            if path is None:
                continue
            df, rep = reader(path, mapping)
            rep.sha256 = file_sha256(path)
            frames[kind] = df
            result.reports.append(rep)
        all_pupils = self._merged("pupils", frames.get("pupils"), ["upn", "urn"])
        reg = self._registry()
        enr = None
        if all_pupils is not None and len(all_pupils):
            enr = Enrolments.from_pupils(all_pupils, reg)
        prep = formats.prepare(marks, fmt, mapping=mapping, local_codes=local_codes,
                               roster=roster_file, start_month=sm, day_first=day_first,
                               schools=self._merged("schools", frames.get("schools"), ["urn"]))
        known = {ld["sha256"] for ld in settings.get("loads", [])}
        staged: list[tuple[dict, Path, Path]] = []
        stage = Path(tempfile.mkdtemp(prefix="ingest-", dir=self._stage_parent(dry_run)))
        try:
            sources = [(c.path, c) for c in prep.sources] + [(p, "weekly") for p in weekly]
            n_marks = sum(1 for _, k in sources if k == "weekly" or k.has_marks)
            for path, kind in sources:
                if isinstance(kind, Converted) and not kind.has_marks:
                    result.reports.append(kind.report)  # a roster, code export, students...
                    continue
                sha = file_sha256(path)
                if sha in known:
                    result.skipped.append(str(path))
                    rep = LoadReport(file=str(path), kind="marks", sha256=sha)
                    rep.notes.append("already loaded (same SHA-256); nothing added")
                    result.reports.append(rep)
                    continue
                if kind == "weekly":
                    table, wrep = weekly_to_long(path, mapping, day_first=day_first)
                    reader = MarksReader(path, registry=reg, enrolments=enr, start_month=sm,
                                         source=table, kind="weekly marks")
                else:
                    reader = formats.marks_reader(kind, reg=reg, enr=enr, start_month=sm,
                                                  mapping=mapping, day_first=day_first)
                load_id = f"{datetime.now():%Y%m%dT%H%M%S}-{sha[:12]}"
                mpath, apath = stage / f"{load_id}.marks.parquet", stage / f"{load_id}.agg.parquet"
                def again(path=path, kind=kind):
                    if kind == "weekly" or kind.table is not None:
                        return None
                    return MarksReader(path, mapping=mapping, registry=reg, enrolments=enr,
                                       start_month=sm, day_first=day_first)

                # a dry run still stages (in a temporary folder) when the store has marks, so
                # marks already in the store are reported just as a real load would
                check_only = dry_run and not self._files("marks") and n_marks == 1
                lines = self._stage_marks(reader, again, mpath, apath, check_only, progress)
                rep = reader.report
                if kind == "weekly":
                    rep.rows_read += wrep.rows_quarantined
                    rep.quarantine = pd.concat([wrep.quarantine, rep.quarantine],
                                               ignore_index=True)
                    rep.notes = wrep.notes + rep.notes
                else:
                    rep = formats.finish_report(reader, kind)
                rep.sha256 = sha
                result.reports.append(rep)
                known.add(sha)
                if mpath.exists() and rep.rows_loaded:
                    entry = {"id": load_id, "file": str(Path(path).resolve()), "given": str(path),
                             "sha256": sha,
                             "rows_read": rep.rows_read, "loaded_at": datetime.now().isoformat(
                                 timespec="seconds")}
                    if reader.min_day is not None:  # the dates it spans, to skip it when a
                        # later load's marks cannot overlap (_check_against_store)
                        entry["first_date"] = str(np.datetime64(reader.min_day, "D"))
                        entry["last_date"] = str(np.datetime64(reader.max_day, "D"))
                    staged.append((entry, mpath, apath, rep, lines))
            result.corrections = self._check_against_store(staged, reg, settings)
            # a file whose every mark was already in the store adds no load
            staged = [st for st in staged if st[3].rows_loaded]
            if not dry_run and (staged or frames or not self.exists()):
                self._commit(settings, staged, frames, reg)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        result.quarantine_path = self._write_quarantine(result, dry_run)
        return result

    def _registry(self) -> Registry:
        ids = self.root / "ids"
        if not (ids / "upn_ids.parquet").exists():
            return Registry()
        upns = pq.read_table(ids / "upn_ids.parquet").to_pandas().sort_values("pid")
        urns = pq.read_table(ids / "urn_ids.parquet").to_pandas().sort_values("gid")
        return Registry.from_lists(upns["upn"].tolist(), urns["urn"].tolist())

    @staticmethod
    def _id_tables(reg: Registry) -> dict[str, pa.Table]:
        return {"upn_ids": pa.table({"pid": pa.array(range(len(reg.upns)), pa.int32()),
                                     "upn": pa.array(reg.upns, pa.string())}),
                "urn_ids": pa.table({"gid": pa.array(range(len(reg.urns)), pa.int32()),
                                     "urn": pa.array(reg.urns, pa.string())})}

    @staticmethod
    def _stage_marks(reader: MarksReader, again, mpath: Path, apath: Path, dry_run: bool,
                     progress) -> _LineMap | None:
        """Validate a marks file and stage its marks and enrolment-week counts.

        A Parquet file already in the canonical layout that validates with nothing quarantined
        or normalised is copied as it is (re-encoding 57 million marks costs more than checking
        them); any other file is written from the validated rows. The reader checks the next
        batches in its own threads while this one counts enrolment-weeks, and a background
        thread writes (Arrow's Parquet encoder releases the GIL).

        Returns the file line of each staged row (:class:`_LineMap`), for marks found to be in
        the store already.
        """
        if dry_run:
            for _ in reader:
                pass
            return None
        copy = reader.canonical_parquet()
        lines = _LineMap()
        small = None  # a few rows (a run carried over a batch boundary): join the next ones
        years = []  # per-year totals: small, written in one piece at the end
        with _ParquetSink() as sink:
            for ch in reader:
                agg, year = reader.aggregate_with_years(ch)
                years.append(year)
                if small is not None:
                    agg, small = pa.concat_tables([small, agg]), None
                if agg.num_rows < 4096:
                    small = agg
                else:
                    sink.put(apath, agg, **AGG_PARQUET)
                if not copy:
                    sink.put(mpath, reader.to_arrow(ch), row_group_size=1 << 20,
                             write_statistics=["date", "urn"])
                    lines.add(ch)
                if progress:
                    progress(len(ch))
            if small is not None:
                sink.put(apath, small, **AGG_PARQUET)
            if years:
                sink.put(_years_path(apath), pa.concat_tables(years), **AGG_PARQUET)
            if copy and reader.copyable:
                shutil.copyfile(reader.path, mpath)
                lines = _LineMap(offset=reader._line_offset)  # row i is the file's line i + 1
            elif copy and reader.report.rows_loaded:
                # looked canonical but needed cleaning: write the validated rows after all
                second = again()
                for ch in second:
                    sink.put(mpath, second.to_arrow(ch), row_group_size=1 << 20,
                             write_statistics=["date", "urn"])
                    lines.add(ch)
        return lines

    def _stage_parent(self, dry_run: bool) -> str | None:
        if dry_run:
            return None
        self.root.mkdir(parents=True, exist_ok=True)
        return str(self.root)

    def _merged(self, name: str, new: pd.DataFrame | None, keys: list[str]):
        old = self.query(f"SELECT * FROM {name}") if self.has(name) else None
        if new is None:
            return old
        if old is None or old.empty:
            return new
        new = new.copy()
        for k in keys:
            new[k] = new[k].astype("string")
            old[k] = old[k].astype("string")
        if name == "interventions":
            merged = pd.concat([old, new], ignore_index=True)
            return merged.drop_duplicates(keys + ["type", "start_date"], keep="last")
        idx = pd.MultiIndex.from_frame(old[keys])
        keep = ~idx.isin(pd.MultiIndex.from_frame(new[keys]))
        return pd.concat([old[keep], new], ignore_index=True)

    def _check_against_store(self, staged, reg: Registry, settings: dict) -> pd.DataFrame:
        """Compare each staged file with the marks in force in the store and in the earlier files
        of this ingest: identical marks are quarantined as already stored (and taken out of the
        staged file), different codes are corrections (logged; the staged pre-aggregates get
        the old marks' deltas). Returns the corrections (``CORRECTION_COLUMNS``)."""
        names = {ld["id"]: Path(ld.get("given", ld["file"])).name
                 for ld in settings.get("loads", [])}
        spans = {ld["id"]: (ld.get("first_date"), ld.get("last_date"))
                 for ld in settings.get("loads", [])}
        others = [(Path(f).stem, f) for f in self._files("marks")]
        corr_files = self._files("corrections")
        made = []
        now = pd.Timestamp(datetime.now()).floor("s")
        for entry, mpath, apath, rep, lines in staged:
            load, given = entry["id"], entry.get("given", entry["file"])
            names[load] = Path(given).name
            spans[load] = (entry.get("first_date"), entry.get("last_date"))
            lo, hi = spans[load]
            # only loads whose dates can overlap this one's (a day's load usually has none)
            near = [(ld, f) for ld, f in others if None in (lo, hi, *spans.get(ld, (None,)))
                    or not (spans[ld][1] < lo or spans[ld][0] > hi)]
            con = duckdb.connect()
            try:
                clash = self._clashes(con, mpath, near, corr_files) if near else None
                others.append((load, str(mpath)))
                if clash is None or clash.empty:
                    continue
                files = clash["filename"].astype(str)
                clash["old_load"] = files.map({f: Path(f).name.split(".")[0]
                                               for f in files.unique()})
                clash["line"] = lines.lines(clash["row"].to_numpy()) if lines is not None \
                    else -1
                raw = (clash["upn"] + "," + clash["urn"] + "," + clash["date"].astype(str)
                       + "," + clash["session"] + "," + clash["code"])
                same = (clash["code"] == clash["old_code"]).to_numpy()
                if same.any():
                    olds = clash["old_load"][same]
                    q = quarantine_frame(
                        given, clash["line"][same],
                        olds.map({o: f"{ALREADY_STORED}: identical mark loaded from {names[o]}"
                                  for o in olds.unique()}).to_numpy(object), raw[same])
                    rep.quarantine = pd.concat([rep.quarantine, q], ignore_index=True)
                    rep.rows_loaded -= int(same.sum())
                    _drop_rows(mpath, clash["row"].to_numpy()[same])
                fixes = clash[~same]
                corr = pd.DataFrame({
                    "upn": fixes["upn"], "urn": fixes["urn"], "date": fixes["date"],
                    "session": fixes["session"], "old_code": fixes["old_code"],
                    "new_code": fixes["code"], "old_load": fixes["old_load"], "new_load": load,
                    "file": str(given), "line": fixes["line"].astype("int64"),
                    "corrected_at": now}).reset_index(drop=True)
                if len(corr):
                    cpath = _corrections_path(mpath, load)
                    _atomic_write_parquet(_corrections_table(corr), cpath)
                    corr_files.append(str(cpath))
                    rep.rows_corrected = len(corr)
                    entry["corrected"] = len(corr)
                    entry["supersedes"] = sorted(set(corr["old_load"]))
                    made.append(corr)
                entry["already_stored"] = int(same.sum())
                for name, tbl in self._id_tables(reg).items():
                    con.register(name, tbl)
                self._rebuild_agg(con, mpath, apath, corr)
            finally:
                con.close()
        if not made:
            return pd.DataFrame(columns=CORRECTION_COLUMNS)
        return pd.concat(made, ignore_index=True)[CORRECTION_COLUMNS]

    @staticmethod
    def _clashes(con, mpath: Path, others: list[tuple[str, str]], corr_files: list[str]
                 ) -> pd.DataFrame | None:
        """Marks of the staged file ``mpath`` for pupil-sessions that already have a mark in
        force in ``others`` (load id, marks file): its row number in the staged file, the keys,
        its code, the code in force (``old_code``) and the file that holds it (``filename``)."""
        rng = con.execute(f"SELECT min(date), max(date), list(DISTINCT urn::VARCHAR) FROM "
                          f"read_parquet('{mpath}')").fetchall()[0]
        if rng[0] is None:
            return None
        files = [f for _, f in others]
        old = (f"SELECT upn::VARCHAR AS upn, urn::VARCHAR AS urn, date, session::VARCHAR AS "
               f"session, code::VARCHAR AS code, filename FROM read_parquet([{_sql_list(files)}],"
               f" union_by_name=true, filename=true) WHERE date BETWEEN ? AND ? AND urn IN "
               f"({_sql_list(rng[2])})")
        if corr_files:  # marks corrected since are no longer in force
            con.register("_load_files", pd.DataFrame({"old_load": [ld for ld, _ in others],
                                                      "filename": files}))
            old = (f"SELECT * FROM ({old}) ANTI JOIN (SELECT c.upn::VARCHAR AS upn, "
                   f"c.urn::VARCHAR AS urn, c.date, c.session::VARCHAR AS session, lf.filename "
                   f"FROM read_parquet([{_sql_list(corr_files)}]) c JOIN _load_files lf USING "
                   f"(old_load)) USING (upn, urn, date, session, filename)")
        return con.execute(
            f"SELECT n.file_row_number AS row, n.upn, n.urn, n.date, n.session, n.code, "
            f"o.code AS old_code, o.filename FROM (SELECT file_row_number, upn::VARCHAR AS upn, "
            f"urn::VARCHAR AS urn, date, session::VARCHAR AS session, code::VARCHAR AS code "
            f"FROM read_parquet('{mpath}', file_row_number=true)) n JOIN ({old}) o "
            f"USING (upn, urn, date, session) ORDER BY row", [rng[0], rng[1]]).df()

    def _rebuild_agg(self, con, mpath: Path, apath: Path,
                     minus: pd.DataFrame | None = None) -> None:
        """Recompute one load's enrolment-week and enrolment-year tables from its marks (after
        filtering), with minus one for each mark in ``minus`` (the old code of each mark this
        load corrects: ``upn, urn, date, session, old_code``)."""
        _create_code_table(con)
        src = (f"SELECT upn::VARCHAR AS upn, urn::VARCHAR AS urn, date, code::VARCHAR AS code, "
               f"1 AS sign FROM read_parquet('{mpath}')")
        if minus is not None and len(minus):
            con.register("_minus", _corrections_table(minus))
            src += " UNION ALL SELECT upn, urn, date, old_code AS code, -1 AS sign FROM _minus"
        marks = (f"SELECT m.*, c.category FROM (SELECT *, "
                 f"{_academic_year_sql('date', self.start_month)} AS academic_year FROM ({src})) m"
                 f" JOIN code_categories c ON c.code = m.code AND c.academic_year = "
                 f"m.academic_year")

        def n(cond: str) -> str:
            return f"coalesce(sum(sign) FILTER (WHERE {cond}), 0)::INTEGER"

        cats = {"present": "present", "aea": "aea", "authorised": "authorised",
                "unauthorised": "unauthorised", "not_possible": "not_possible",
                "covid": "covid_not_attending"}
        cols = ", ".join(f"{n(f'category = {chr(39)}{v}{chr(39)}')} AS {k}"
                         for k, v in cats.items())
        tmp = Path(str(apath) + ".f")
        con.execute(f"""
            COPY (SELECT pid, gid, urn, academic_year, date_trunc('week', date)::DATE AS week_start,
                   min(date) AS first_date, max(date) AS last_date,
                   {n("category <> 'not_possible'")} AS possible,
                   {cols},
                   {n("code = 'L'")} AS late_before,
                   {n("code = 'U'")} AS late_after,
                   {n("code IN ('G','N','O','U')")} AS legal_unauth,
                   sum(sign)::INTEGER AS marks
            FROM ({marks}) JOIN upn_ids USING (upn) JOIN urn_ids USING (urn)
            GROUP BY ALL)
            TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)""")
        os.replace(tmp, apath)
        ypath = _years_path(apath)
        sums = ", ".join(f"sum({c})::INTEGER AS {c}" for c in YEAR_COLUMNS[5:])
        con.execute(f"""
            COPY (SELECT pid, gid, urn, academic_year, min(first_date) AS first_date,
                   max(last_date) AS last_date, {sums}
            FROM read_parquet('{apath}') GROUP BY pid, gid, urn, academic_year)
            TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)""")
        os.replace(tmp, ypath)

    def _commit(self, settings: dict, staged, frames: dict, reg: Registry) -> None:
        (self.root / "ids").mkdir(parents=True, exist_ok=True)
        for name, tbl in self._id_tables(reg).items():
            _atomic_write_parquet(tbl, self.root / "ids" / f"{name}.parquet")
        (self.root / "marks").mkdir(parents=True, exist_ok=True)
        (self.root / "agg").mkdir(parents=True, exist_ok=True)
        for kind, df in frames.items():
            keys = ["upn", "urn"] if kind == "pupils" else (["urn"] if kind == "schools"
                                                            else ["upn", "urn"])
            merged = self._merged(kind, df, keys)
            self.close()
            _atomic_write_parquet(pa.Table.from_pandas(merged, preserve_index=False),
                                  self.root / f"{kind}.parquet")
        (self.root / "years").mkdir(parents=True, exist_ok=True)
        for entry, mpath, apath, _rep, _lines in staged:
            cpath = _corrections_path(mpath, entry["id"])
            if cpath.exists():
                (self.root / "corrections").mkdir(parents=True, exist_ok=True)
                os.replace(cpath, self.root / "corrections" / f"{entry['id']}.parquet")
            os.replace(_years_path(apath), self.root / "years" / f"{entry['id']}.parquet")
            os.replace(apath, self.root / "agg" / f"{entry['id']}.parquet")
            os.replace(mpath, self.root / "marks" / f"{entry['id']}.parquet")
            settings.setdefault("loads", []).append(entry)
        settings["format_version"] = _FORMAT_VERSION
        self._save_settings(settings)
        self.close()
        self._write_duckdb_file()

    def _write_quarantine(self, result: IngestResult, dry_run: bool) -> Path | None:
        frames = [r.quarantine for r in result.reports if r.rows_quarantined]
        if not frames:
            return None
        q = pd.concat(frames, ignore_index=True)
        if dry_run:
            folder = Path(tempfile.gettempdir()) / "attendance-validate"
        else:
            folder = self.root / "quarantine"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"quarantine-{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}.csv"
        if len(q) > 100_000:  # e.g. a weekly export overlapping days already loaded: Arrow's
            try:              # writer is ~10x faster (same CSV, every text field quoted)
                import pyarrow.csv as pacsv

                pacsv.write_csv(pa.Table.from_pandas(q, preserve_index=False), path)
                return path
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                pass
        q.to_csv(path, index=False)
        return path
