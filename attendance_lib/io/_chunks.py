"""Validated register marks as numpy arrays: the :class:`Chunk` of one batch and its helpers.

One concept: the array form in which :class:`attendance_lib.io.marks.MarksReader` hands on the
rows of a batch that passed every check (one array per field, plus the sortable
``(enrolment, day, session)`` key ``base``), with

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
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DAY_MIN", "DAY_MAX", "Chunk", "set_flags", "kept", "row_keys", "dropped_keys",
           "day_numbers", "weekday", "weekday_lut", "academic_year", "prefetch"]

#: dates a register mark may have (day numbers since 1970-01-01); the bounds also keep
#: ``Chunk.base`` (day in 16 bits) exact
DAY_MIN = int(np.datetime64("1990-01-01", "D").astype(np.int64))
DAY_MAX = int(np.datetime64("2099-12-31", "D").astype(np.int64))
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


@dataclass
class Chunk:
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
    def concat(chunks: list[Chunk]) -> Chunk:
        return Chunk(*(np.concatenate([getattr(c, f) for c in chunks]) for f in Chunk._FIELDS))

    def take(self, idx) -> Chunk:
        return Chunk(*(getattr(self, f)[idx] for f in self._FIELDS))

    def __len__(self) -> int:
        return len(self.pid)


def set_flags(flags: np.ndarray, ords: np.ndarray) -> np.ndarray:
    """``flags`` (a bool array by enrolment ordinal) with ``ords`` set, grown as needed."""
    top = int(ords.max()) + 1
    if top > len(flags):
        flags = np.concatenate([flags, np.zeros(max(top - len(flags), len(flags)), bool)])
    flags[ords] = True
    return flags


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
