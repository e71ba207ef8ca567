"""Validated register marks as numpy arrays: the :class:`Chunk` of one batch and its helpers.

One concept: the array form in which :class:`attendance_lib.io.marks.MarksReader` hands on the
rows of a batch that passed every check (one array per field, plus the sortable
``(enrolment, day, session)`` key ``base``; the arrays nobody needs for a clean batch are kept
in the compact forms they were read in, :class:`Codes` and :class:`Runs`, and built on demand),
with

* the bookkeeping over chunks used while de-duplicating (:func:`set_flags`, :func:`kept`,
  :func:`row_keys`, :func:`dropped_keys`);
* the day-number helpers that fill a chunk (days since 1970-01-01 -> weekday, academic year),
  by table look-up over a batch's range of days;
* :func:`prefetch`, which reads the next batches in a background thread.

Private to :mod:`attendance_lib.io`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DAY_MIN", "DAY_MAX", "Chunk", "Codes", "Runs", "lookup", "one_value", "base_key",
           "run_starts", "enrolment_ords", "set_flags", "kept", "row_keys", "dropped_keys",
           "day_numbers", "weekday", "weekday_lut", "academic_year", "prefetch"]

#: dates a register mark may have (day numbers since 1970-01-01); the bounds also keep
#: ``Chunk.base`` (day in 16 bits) exact
DAY_MIN = int(np.datetime64("1990-01-01", "D").astype(np.int64))
DAY_MAX = int(np.datetime64("2099-12-31", "D").astype(np.int64))
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


class Codes:
    """The codes of a batch's rows as the batch's own dictionary indices (read without a copy)
    plus two small look-ups by dictionary value: the registry code id (``ids``) and, when the
    batch lies in one academic year, the category id (``cats``). The per-row arrays are built
    only when something needs them (a clean canonical batch never does)."""

    __slots__ = ("idx", "ids", "cats")

    def __init__(self, idx: np.ndarray, ids: np.ndarray, cats: np.ndarray | None):
        self.idx, self.ids, self.cats = idx, ids, cats

    def take(self, sel) -> Codes:
        return Codes(self.idx[sel], self.ids, self.cats)

    def same_lookups(self, other: Codes) -> bool:
        return self.ids is other.ids and self.cats is other.cats


class Runs:
    """Runs of one enrolment (pupil at a school) in a chunk: the first row of each (``starts``),
    its pupil and school ids and, once the reader has numbered the enrolments, its enrolment id
    (``ids``). Files come grouped by enrolment, so a batch of a million marks has a few thousand
    runs, and per-run work replaces per-row work."""

    __slots__ = ("starts", "pid", "gid", "ids", "n")

    def __init__(self, starts, pid, gid, ids, n: int):
        self.starts, self.pid, self.gid, self.ids, self.n = starts, pid, gid, ids, n

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(np.append(self.starts, self.n))

    def slice(self, start: int, stop: int) -> Runs:
        """The runs of rows ``start:stop``."""
        if stop <= start:
            sel = slice(0, 0)
            return Runs(self.starts[sel], self.pid[sel], self.gid[sel],
                        None if self.ids is None else self.ids[sel], 0)
        first = int(np.searchsorted(self.starts, start, side="right")) - 1
        last = int(np.searchsorted(self.starts, stop, side="left"))
        sel = slice(first, last)
        return Runs(np.maximum(self.starts[sel] - start, 0), self.pid[sel], self.gid[sel],
                    None if self.ids is None else self.ids[sel], stop - start)

    @staticmethod
    def concat(runs: list[Runs]) -> Runs:
        offsets = np.cumsum([0] + [r.n for r in runs[:-1]])
        ids = (None if any(r.ids is None for r in runs)
               else np.concatenate([r.ids for r in runs]))
        return Runs(np.concatenate([r.starts + o for r, o in zip(runs, offsets, strict=True)]),
                    np.concatenate([r.pid for r in runs]), np.concatenate([r.gid for r in runs]),
                    ids, sum(r.n for r in runs))


def lookup(lut: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``lut[idx]`` for indices known to be in range, with Arrow's take kernel (several times
    faster than numpy's fancy indexing on millions of rows)."""
    return pc.take(pa.array(lut), pa.array(idx)).to_numpy(zero_copy_only=False)


def one_value(value, n: int, dtype) -> np.ndarray:
    """``n`` copies of ``value`` as a read-only array that takes no memory (a batch's academic
    year is usually one value)."""
    return np.broadcast_to(np.asarray(value, dtype), (n,))


class Chunk:
    """Validated rows of one batch, as arrays.

    ``base`` = (enrolment id, day, session) in one int64 (:func:`base_key`): equal for two
    marks of one enrolment-session, and non-decreasing through a file grouped by enrolment in
    date order.

    Kept lean, because every array is one more pass over millions of marks: ``pid``, ``gid``,
    ``day`` and ``code`` are int32, ``pm`` a small integer (0 AM, 1 PM), ``cat`` int8, ``ay``
    int16. Some arrays are built only if something asks for them (a clean canonical batch
    never does): ``pid`` and ``gid`` may be None when ``runs`` (:class:`Runs`) holds them;
    ``code`` may be given as :class:`Codes` (then ``cat`` may be None, taken from it); ``line``
    as an int, the file line of the first row of consecutive lines; ``base`` as None when
    ``runs`` has enrolment ids. ``ordered`` says that ``base`` is known to be non-decreasing
    (every chunk the reader hands out is).
    """

    __slots__ = ("_pid", "_gid", "day", "pm", "_code", "_cat", "codes", "ay", "_line", "_line0",
                 "_base", "ordered", "runs")
    _FIELDS = ("pid", "gid", "day", "pm", "code", "cat", "ay", "line", "base")

    def __init__(self, pid, gid, day, pm, code, cat, ay, line, base, *, ordered: bool = False,
                 runs: Runs | None = None):
        self._pid, self._gid, self.day, self.pm, self.ay = pid, gid, day, pm, ay
        self.codes = code if isinstance(code, Codes) else None
        self._code = None if self.codes is not None else code
        self._cat = cat
        if isinstance(line, (int, np.integer)):
            self._line, self._line0 = None, int(line)
        else:
            self._line, self._line0 = line, None
        self._base = base
        self.ordered = ordered
        self.runs = runs

    def __len__(self) -> int:
        return len(self.day)

    # -- the arrays built on demand ------------------------------------------------------------
    @property
    def pid(self) -> np.ndarray:
        """Registry pupil id of each row (int32)."""
        if self._pid is None:
            self._pid = np.repeat(self.runs.pid, self.runs.lengths)
        return self._pid

    @property
    def gid(self) -> np.ndarray:
        """Registry school id of each row (int32)."""
        if self._gid is None:
            self._gid = np.repeat(self.runs.gid, self.runs.lengths)
        return self._gid

    @property
    def code(self) -> np.ndarray:
        """Registry code id of each row (int32)."""
        if self._code is None:
            self._code = lookup(self.codes.ids, self.codes.idx)
        return self._code

    @property
    def cat(self) -> np.ndarray:
        """Category id of each row (int8)."""
        if self._cat is None:
            self._cat = lookup(self.codes.cats, self.codes.idx)
        return self._cat

    @property
    def line(self) -> np.ndarray:
        """File line of each row (int64)."""
        if self._line is None:
            self._line = np.arange(self._line0, self._line0 + len(self), dtype=np.int64)
        return self._line

    def line_runs(self) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, first_lines)``: the rows where a run of consecutive file lines begins and
        that run's first line (one run when no row was dropped, without building ``line``)."""
        if self._line is None:
            return np.zeros(1 if len(self) else 0, np.int64), np.full(
                1 if len(self) else 0, self._line0, np.int64)
        line = self._line
        if len(line) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        starts = np.flatnonzero(np.r_[True, np.diff(line) != 1])
        return starts.astype(np.int64), line[starts].astype(np.int64)

    @property
    def base(self) -> np.ndarray:
        if self._base is None:
            self._base = base_key(self.runs.starts, self.runs.ids, self.day, self.pm)
        return self._base

    def key_at(self, i: int) -> int:
        """``base[i]`` without building ``base``."""
        if self._base is not None:
            return int(self._base[i])
        i = i % len(self)
        run = int(np.searchsorted(self.runs.starts, i, side="right")) - 1
        return (int(self.runs.ids[run]) << 17) | (int(self.day[i]) << 1) | int(self.pm[i])

    def strictly_increasing(self, low: np.ndarray | None = None,
                            le: np.ndarray | None = None) -> bool:
        """Is ``base`` strictly increasing (in order, no enrolment-session twice)? Decided on
        the runs and a 32-bit (day, session) key when ``base`` is not built (``low``, an int32
        array, and ``le``, a bool array, at least as long as the chunk: work space)."""
        n = len(self)
        if n < 2:
            return True
        if self._base is not None:
            return not (self._base[1:] <= self._base[:-1]).any()
        starts, ids = self.runs.starts, self.runs.ids
        if len(ids) > 1 and (ids[1:] <= ids[:-1]).any():
            return False
        low = np.empty(n, np.int32) if low is None else low[:n]
        le = np.empty(n - 1, bool) if le is None else le[:n - 1]
        np.left_shift(self.day, 1, out=low)
        np.bitwise_or(low, self.pm, out=low)
        np.less_equal(low[1:], low[:-1], out=le)
        le[starts[1:] - 1] = False  # a new run may start anywhere
        return not le.any()

    # -- selecting and joining -----------------------------------------------------------------
    def _code_parts(self, sel=None):
        """(code, cat) to hand to a new chunk, keeping :class:`Codes` when there are."""
        if self.codes is not None:
            codes = self.codes if sel is None else self.codes.take(sel)
            cat = self._cat if self._cat is None or sel is None else self._cat[sel]
            return codes, cat
        return (self._code, self._cat) if sel is None else (self._code[sel], self._cat[sel])

    @staticmethod
    def concat(chunks: list[Chunk]) -> Chunk:
        if len(chunks) == 1:
            return chunks[0]
        lazy = all(c._line is None for c in chunks) and all(
            a._line0 + len(a) == b._line0 for a, b in zip(chunks, chunks[1:], strict=False))
        line = chunks[0]._line0 if lazy else np.concatenate([c.line for c in chunks])
        if all(c.codes is not None for c in chunks) and all(
                chunks[0].codes.same_lookups(c.codes) for c in chunks):
            code = Codes(np.concatenate([c.codes.idx for c in chunks]), chunks[0].codes.ids,
                         chunks[0].codes.cats)
            cat = None if all(c._cat is None for c in chunks) else np.concatenate(
                [c.cat for c in chunks])
        else:
            code = np.concatenate([c.code for c in chunks])
            cat = np.concatenate([c.cat for c in chunks])
        day, pm, ay = (np.concatenate([getattr(c, f) for c in chunks]) for f in ("day", "pm", "ay"))
        if all(c.runs is not None and c.runs.ids is not None and c._base is None
               for c in chunks):
            return Chunk(None, None, day, pm, code, cat, ay, line, None,
                         runs=Runs.concat([c.runs for c in chunks]))
        pid = np.concatenate([c.pid for c in chunks])
        gid = np.concatenate([c.gid for c in chunks])
        return Chunk(pid, gid, day, pm, code, cat, ay, line,
                     np.concatenate([c.base for c in chunks]))

    def take(self, idx) -> Chunk:
        """Rows selected by a slice (step 1), a boolean mask or an index array."""
        day, pm, ay = self.day[idx], self.pm[idx], self.ay[idx]
        code, cat = self._code_parts(idx)
        if isinstance(idx, slice):
            start, stop, step = idx.indices(len(self))
            if step != 1:
                raise ValueError("Chunk.take: slices must have step 1")
            line = (self._line0 + start) if self._line is None else self._line[idx]
            pid = None if self._pid is None else self._pid[idx]
            gid = None if self._gid is None else self._gid[idx]
            base = None if self._base is None else self._base[idx]
            runs = None if self.runs is None else self.runs.slice(start, stop)
            return Chunk(pid, gid, day, pm, code, cat, ay, line, base, ordered=self.ordered,
                         runs=runs)
        idx = np.asarray(idx)
        return Chunk(self.pid[idx], self.gid[idx], day, pm, code, cat, ay, self.line[idx],
                     self.base[idx], ordered=self.ordered and idx.dtype == bool)


def set_flags(flags: np.ndarray, ords: np.ndarray) -> np.ndarray:
    """``flags`` (a bool array by enrolment ordinal) with ``ords`` set, grown as needed."""
    top = int(ords.max()) + 1
    if top > len(flags):
        flags = np.concatenate([flags, np.zeros(max(top - len(flags), len(flags)), bool)])
    flags[ords] = True
    return flags


def base_key(starts: np.ndarray, run_ids: np.ndarray, day: np.ndarray,
             pm: np.ndarray) -> np.ndarray:
    """``Chunk.base`` = enrolment id << 17 | day << 1 | session, from the enrolment runs
    (``starts``, ``run_ids``): built in place, one int64 array (days fit 16 bits: DAY_MAX)."""
    n = len(day)
    if n == 0:
        return np.zeros(0, np.int64)
    base = np.repeat(run_ids << 17, np.diff(np.append(starts, n)))
    low = np.left_shift(day, 1, dtype=np.int32)
    np.bitwise_or(low, pm, out=low)
    np.bitwise_or(base, low, out=base)
    return base


def run_starts(pid: np.ndarray, gid: np.ndarray) -> np.ndarray:
    """First row of each run of the same (pupil, school) (or of any two id arrays)."""
    brk = np.empty(len(pid), bool)
    brk[:1] = True
    np.not_equal(pid[1:], pid[:-1], out=brk[1:])
    np.bitwise_or(brk[1:], np.not_equal(gid[1:], gid[:-1]), out=brk[1:])
    return np.flatnonzero(brk)


def enrolment_ords(ch: Chunk) -> np.ndarray:
    """The enrolment ordinals of a chunk's rows (one per run when the runs are known)."""
    if ch.runs is not None and ch.runs.ids is not None:
        return ch.runs.ids
    return ch.base >> 17


def kept(ch: Chunk, keep: np.ndarray) -> Chunk:
    """The rows of ``ch`` where ``keep`` is True (``ch`` itself when every row is)."""
    return ch if keep.all() else ch.take(keep)


def row_keys(ch: Chunk) -> pd.MultiIndex:
    """One key per validated row: (line, base) (a weekly row's sessions share a line)."""
    return pd.MultiIndex.from_arrays([ch.line, ch.base])


def dropped_keys(dropped: list[tuple[np.ndarray, np.ndarray]]) -> pd.MultiIndex | None:
    """:func:`row_keys` of the dropped rows, given as ``(line, base)`` arrays; None if none."""
    if not dropped:
        return None
    return pd.MultiIndex.from_arrays([np.concatenate([d[0] for d in dropped]),
                                      np.concatenate([d[1] for d in dropped])])


# --------------------------------------------------------------------------------------------
# day numbers


def day_numbers(ts: pd.Series) -> np.ndarray:
    """Day numbers since 1970-01-01 (int32) of a datetime Series."""
    return (ts.to_numpy(dtype="datetime64[D]").astype("int64")).astype(np.int32)


def weekday(days: np.ndarray) -> np.ndarray:
    """Weekday (Monday = 0) of day numbers."""
    return (days + _EPOCH_WEEKDAY) % 7


def weekday_lut(days: np.ndarray) -> np.ndarray:
    """Weekday (Monday = 0) by table look-up over the batch's day range (cheaper than %)."""
    if len(days) == 0:
        return np.zeros(0, np.int8)
    lo, hi = int(days.min()), int(days.max())
    if hi - lo > 5_000_000:
        return weekday(days)
    return weekday(np.arange(lo, hi + 1)).astype(np.int8)[days - lo]


def academic_year(days: np.ndarray, start_month: int) -> np.ndarray:
    """Academic year (its starting calendar year, int16) of day numbers, by look-up table."""
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


# --------------------------------------------------------------------------------------------
# reading ahead


def prefetch(items: Iterator, depth: int = 2) -> Iterator:
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
