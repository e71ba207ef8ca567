"""The Arrow tables a validated chunk of register marks becomes.

One concept: the layouts the store keeps marks in (domain.md 1, 2.1). :func:`marks_table` is the
canonical long form ``upn, urn, date, session, code`` (:data:`MARK_COLUMNS`);
:func:`categorised_marks_table` adds ``category`` and ``academic_year`` for in-memory frames; and
:func:`week_aggregate` is the enrolment x week pre-aggregate (:data:`AGG_COLUMNS`) written at
load time, so summaries never rescan the marks, with :func:`year_totals`, the same summed per
enrolment and academic year (:data:`YEAR_COLUMNS`), from which a whole year to date is read.
"""

from __future__ import annotations

import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import codes as codes_mod
from ._chunks import Chunk
from .registry import Registry

__all__ = ["MARK_COLUMNS", "CATEGORY_IDS", "AGG_COLUMNS", "AGG_SCHEMA", "AGG_PARQUET",
           "YEAR_COLUMNS", "YEAR_SCHEMA", "Scratch", "marks_table", "categorised_marks_table",
           "local_dict", "week_aggregate", "year_totals"]

#: the canonical long form (product.md): one row per pupil per session
MARK_COLUMNS = ["upn", "urn", "date", "session", "code"]
#: statistical category -> id (position in ``codes.CATEGORIES``); ``Chunk.cat`` holds these
CATEGORY_IDS = {c: i for i, c in enumerate(codes_mod.CATEGORIES)}
_CAT_NAMES = np.array(codes_mod.CATEGORIES, dtype=object)

#: columns of the enrolment x week pre-aggregate written at load time
AGG_COLUMNS = ["pid", "gid", "academic_year", "week_start", "first_date", "last_date", "possible",
               "present", "aea", "authorised", "unauthorised", "not_possible", "covid",
               "late_before", "late_after", "legal_unauth", "marks"]


#: the pre-aggregate's Arrow schema (no nulls: Parquet then writes no definition levels)
AGG_SCHEMA = pa.schema(
    [pa.field("pid", pa.int32(), False), pa.field("gid", pa.int32(), False),
     pa.field("urn", pa.dictionary(pa.int32(), pa.string()), False),
     pa.field("academic_year", pa.int16(), False)]
    + [pa.field(c, pa.date32(), False) for c in ("week_start", "first_date", "last_date")]
    + [pa.field(c, pa.int32(), False) for c in AGG_COLUMNS[6:]])
#: columns of the enrolment x academic year totals written beside it (the weeks of one
#: enrolment and year summed), so a whole year to date is counted from ~1/38 of the rows
YEAR_COLUMNS = ["pid", "gid", "academic_year", "first_date", "last_date"] + AGG_COLUMNS[6:]
YEAR_SCHEMA = pa.schema([AGG_SCHEMA.field(c) for c in ("pid", "gid", "urn", "academic_year",
                                                       "first_date", "last_date")]
                        + [AGG_SCHEMA.field(c) for c in AGG_COLUMNS[6:]])
#: Parquet writer options for the pre-aggregate: statistics only on the columns queries filter
#: on, and delta encoding rather than dictionaries for the integers and dates (small counts,
#: ids and dates in runs): about 60% of the cost of writing, for as small a file that DuckDB
#: reads as fast
AGG_PARQUET = {
    "write_statistics": ["gid", "urn", "academic_year", "week_start"],
    "use_dictionary": ["urn"],
    "column_encoding": {f.name: "DELTA_BINARY_PACKED" for f in AGG_SCHEMA if f.name != "urn"},
}
#: code classes counted besides the categories: 0 other, 1 L, 2 U (late and unauthorised),
#: 3 G/N/O (domain.md 2.1 late marks; 4.1 the legal threshold's G/N/O/U)
_N_CLS = 4


def _code_class(code: str) -> int:
    return 1 if code == "L" else 2 if code == "U" else 3 if \
        code in codes_mod.LEGAL_THRESHOLD_CODES else 0


def marks_table(ch: Chunk, reg: Registry) -> pa.Table:
    """The store's marks layout (the canonical ``upn, urn, date, session, code``).

    Category and academic year are not stored: the store's ``marks`` view derives them from
    the code table, so a canonical source file can be kept exactly as it came.
    """
    code_ids = dict(reg.code_ids)  # snapshot: the reader thread may add codes
    code_names = [c for c, _ in sorted(code_ids.items(), key=lambda kv: kv[1])]
    return pa.table({
        "upn": local_dict(ch.pid, reg.upns),
        "urn": local_dict(ch.gid, reg.urns),
        "date": pa.array(ch.day, pa.int32()).cast(pa.date32()),
        "session": pa.DictionaryArray.from_arrays(
            pa.array(ch.pm.astype(np.int8, copy=False)), pa.array(["AM", "PM"])),
        "code": pa.DictionaryArray.from_arrays(
            pa.array(ch.code.astype(np.int32, copy=False)), pa.array(code_names, pa.string())),
    })


def categorised_marks_table(ch: Chunk, reg: Registry) -> pa.Table:
    """:func:`marks_table` plus ``category`` and ``academic_year`` (for in-memory frames)."""
    t = marks_table(ch, reg)
    t = t.append_column("category", pa.DictionaryArray.from_arrays(
        pa.array(ch.cat.astype(np.int8)), pa.array(list(_CAT_NAMES), pa.string())))
    return t.append_column("academic_year", pa.array(ch.ay, pa.int16()))


def local_dict(ids: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    """Dictionary array holding only the values this chunk uses (keeps Parquet small).

    The dictionary is in id order (as ``np.unique`` would give), found without sorting: ids are
    dense registry ids, so a mask over them and a look-up table do it in two passes.
    """
    if len(ids) == 0:
        return pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array([], pa.string()))
    used = np.zeros(int(ids.max()) + 1, bool)
    used[_run_values(ids)] = True
    uniq = np.flatnonzero(used)
    remap = np.cumsum(used, dtype=np.int32) - 1
    inv = pc.take(pa.array(remap), pa.array(ids))
    return pa.DictionaryArray.from_arrays(inv, pa.array([values[i] for i in uniq], pa.string()))


def _run_values(ids: np.ndarray) -> np.ndarray:
    """The values of ``ids`` with consecutive repeats dropped (ids come in long runs)."""
    if len(ids) < 2:
        return ids
    keep = np.empty(len(ids), bool)
    keep[0] = True
    np.not_equal(ids[1:], ids[:-1], out=keep[1:])
    return ids[keep]


class Scratch:
    """Work arrays for :func:`week_aggregate`, kept between calls from one thread: fresh
    million-row temporaries for every batch cost as much in page faults as the counting."""

    def __init__(self) -> None:
        self._local = threading.local()

    def arrays(self, n: int) -> tuple[np.ndarray, ...]:
        """(week int32, break bool, run int32, index int64), each at least ``n`` long."""
        have = getattr(self._local, "arrays", None)
        if have is None or len(have[0]) < n:
            have = self._local.arrays = (np.empty(n, np.int32), np.empty(n, bool),
                                         np.empty(n, np.int32), np.empty(n, np.int64))
        return tuple(a[:n] for a in have)


#: rows of the pre-aggregate's count columns (``AGG_COLUMNS[6:]``)
_ROW = {name: i for i, name in enumerate(AGG_COLUMNS[6:])}
#: category id -> its count column
_CAT_ROW = {CATEGORY_IDS[c]: _ROW[name] for c, name in (
    (codes_mod.PRESENT, "present"), (codes_mod.AEA, "aea"), (codes_mod.AUTHORISED, "authorised"),
    (codes_mod.UNAUTHORISED, "unauthorised"), (codes_mod.NOT_POSSIBLE, "not_possible"),
    (codes_mod.COVID_NOT_ATTENDING, "covid"))}
#: code class -> the count columns it adds to (1 L, 2 U, 3 G/N/O)
_CLS_ROWS = {1: [_ROW["late_before"]], 2: [_ROW["late_after"], _ROW["legal_unauth"]],
             3: [_ROW["legal_unauth"]]}


def week_aggregate(ch: Chunk, reg: Registry, scratch: Scratch | None = None,
                   with_years: bool = False):
    """Enrolment x week counts (``AGG_COLUMNS``) for a validated chunk; with ``with_years``,
    ``(weeks, years)`` where ``years`` is :func:`year_totals` of ``weeks``.

    Rows are runs of the same enrolment, academic year and week in file order; the same
    enrolment-week may appear in more than one row (the store sums them).

    One ``bincount`` over (kind of mark, run) gives every count at once, where the kind is the
    mark's category and code class, looked up per code id for the chunk's academic year.
    """
    n = len(ch)
    if n == 0:
        return AGG_SCHEMA.empty_table()
    week, brk, run, idx = (scratch or Scratch()).arrays(n)
    day = ch.day
    # Monday-based week number (1970-01-01 was a Thursday): week_start = week * 7 - 3
    np.add(day, np.int32(3), out=week)
    np.floor_divide(week, np.int32(7), out=week)
    brk[0] = True
    np.not_equal(week[1:], week[:-1], out=brk[1:])
    if ch.runs is not None:
        brk[ch.runs.starts] = True
    else:
        brk[1:] |= ch.pid[1:] != ch.pid[:-1]
        brk[1:] |= ch.gid[1:] != ch.gid[:-1]
    ay = ch.ay
    one_year = (ay.strides == (0,)) or int(ay.min()) == int(ay.max())
    if not one_year:
        brk[1:] |= ay[1:] != ay[:-1]
    starts = np.flatnonzero(brk)
    nruns = len(starts)
    lengths = np.diff(np.append(starts, n))
    code_ids = dict(reg.code_ids)  # snapshot: the reader thread may add codes
    cls_of_code = np.zeros(max(code_ids.values(), default=0) + 1, np.int8)
    for c, i in code_ids.items():
        cls_of_code[i] = _code_class(c)
    if one_year:
        kind = _kind_lut(code_ids, cls_of_code, int(ay[0]))
        kinds = np.unique(kind)  # the (category, class) pairs, compacted to 0..K-1
        compact = np.searchsorted(kinds, kind)
    else:
        kinds = np.arange(len(codes_mod.CATEGORIES) * _N_CLS)
    if one_year and len(kinds) <= 8 and int(lengths.max()) < 256:
        # each mark adds 1 to its kind's byte of a 64-bit word; one reduceat sums every run
        bit = np.left_shift(np.uint64(1), (8 * compact).astype(np.uint64))
        packed = idx.view(np.uint64)
        if ch.codes is not None:  # straight from the batch's dictionary indices
            np.take(bit[ch.codes.ids], ch.codes.idx, out=packed, mode="clip")
        else:
            np.take(bit, ch.code, out=packed, mode="clip")
        sums = np.add.reduceat(packed, starts)
        counts = [(sums >> np.uint64(8 * j)) & np.uint64(0xFF) for j in range(len(kinds))]
    else:
        # counts[kind * nruns + run] (kind-major: each kind's counts are one contiguous row)
        np.cumsum(brk, dtype=np.int32, out=run)  # run number of each row, from 1
        if one_year:
            offset = compact.astype(np.int64) * nruns - 1
            if ch.codes is not None:
                np.take(offset[ch.codes.ids], ch.codes.idx, out=idx, mode="clip")
            else:
                np.take(offset, ch.code, out=idx, mode="clip")
        else:
            idx[:] = (ch.cat.astype(np.int64) * _N_CLS + cls_of_code[ch.code]) * nruns - 1
        np.add(idx, run, out=idx)
        flat = np.bincount(idx, minlength=nruns * len(kinds))
        counts = [flat[j * nruns:(j + 1) * nruns] for j in range(len(kinds))]
    table = np.zeros((len(_ROW), nruns), np.int32)
    filled = set()
    for j, kd in enumerate(kinds.tolist()):
        if kd < 0:
            continue
        part = counts[j]
        cat, cls = divmod(kd, _N_CLS)
        for r in [_CAT_ROW[cat]] + _CLS_ROWS.get(cls, []):
            if r in filled:
                np.add(table[r], part, out=table[r], casting="unsafe")
            else:
                np.copyto(table[r], part, casting="unsafe")
                filled.add(r)
    table[_ROW["marks"]] = lengths
    # every mark is in exactly one category: possible = marks - not possible
    np.subtract(table[_ROW["marks"]], table[_ROW["not_possible"]], out=table[_ROW["possible"]])
    if ch.ordered:  # days ascend within a run: its first and last rows hold them
        first, last = np.take(day, starts), np.take(day, starts + lengths - 1)
    else:
        first, last = np.minimum.reduceat(day, starts), np.maximum.reduceat(day, starts)
    if ch.runs is not None:
        # the enrolment run of each week run (every enrolment run starts a week run)
        first_week = np.searchsorted(starts, ch.runs.starts)
        per_enrolment = np.diff(np.append(first_week, nruns))
        er = np.repeat(np.arange(len(per_enrolment)), per_enrolment)
        pid, gid = np.take(ch.runs.pid, er), np.take(ch.runs.gid, er)
    else:
        pid, gid = np.take(ch.pid, starts), np.take(ch.gid, starts)
    out = [
        pa.array(pid.astype(np.int32, copy=False)),
        pa.array(gid.astype(np.int32, copy=False)),
        local_dict(gid, reg.urns),
        pa.array(np.full(nruns, ay[0], np.int16) if one_year else np.take(ay, starts)),
        pa.array(np.take(week, starts) * np.int32(7) - np.int32(3)).cast(pa.date32()),
        pa.array(first, pa.int32()).cast(pa.date32()),
        pa.array(last, pa.int32()).cast(pa.date32()),
    ]
    out += [pa.array(row, pa.int32()) for row in table]
    weeks = pa.Table.from_arrays(out, schema=AGG_SCHEMA)
    if not with_years:
        return weeks
    if ch.runs is None or not one_year:
        return weeks, year_totals(weeks)
    # one enrolment run = one enrolment-year: sum its week runs
    gid = ch.runs.gid.astype(np.int32, copy=False)
    years = [pa.array(ch.runs.pid.astype(np.int32, copy=False)), pa.array(gid),
             local_dict(gid, reg.urns), pa.array(np.full(len(gid), ay[0], np.int16)),
             pa.array(np.minimum.reduceat(first, first_week), pa.int32()).cast(pa.date32()),
             pa.array(np.maximum.reduceat(last, first_week), pa.int32()).cast(pa.date32())]
    years += [pa.array(row) for row in np.add.reduceat(table, first_week, axis=1)]
    return weeks, pa.Table.from_arrays(years, schema=YEAR_SCHEMA)


def _kind_lut(code_ids: dict[str, int], cls_of_code: np.ndarray, year: int) -> np.ndarray:
    """Kind of mark (category id * 4 + code class) of each code id in ``year``; -1 for a code
    not in that year's set (such marks were quarantined, so never counted)."""
    cs = codes_mod.code_set(year, include_withdrawn=True)
    lut = np.full(len(cls_of_code), -1, np.int64)
    for c, i in code_ids.items():
        if c in cs and not cs[c].withdrawn:
            lut[i] = CATEGORY_IDS[cs[c].category] * _N_CLS + cls_of_code[i]
    return lut


def year_totals(weeks: pa.Table) -> pa.Table:
    """Enrolment x academic year totals (``YEAR_COLUMNS`` plus ``urn``) of a pre-aggregate
    table from :func:`week_aggregate`: each run of its rows of one enrolment and year summed
    (rows come grouped by enrolment, so a table has about one row per enrolment; one that
    continues into the next table gives a second row, which readers sum)."""
    n = weeks.num_rows
    if n == 0:
        return YEAR_SCHEMA.empty_table()

    def col(name):
        c = weeks.column(name)
        if pa.types.is_date32(c.type):
            c = c.cast(pa.int32())
        return c.to_numpy()

    pid, gid, ay = col("pid"), col("gid"), col("academic_year")
    brk = np.empty(n, bool)
    brk[0] = True
    np.not_equal(pid[1:], pid[:-1], out=brk[1:])
    brk[1:] |= gid[1:] != gid[:-1]
    brk[1:] |= ay[1:] != ay[:-1]
    starts = np.flatnonzero(brk)
    out = [pa.array(pid[starts]), pa.array(gid[starts]),
           weeks.column("urn").take(pa.array(starts)), pa.array(ay[starts]),
           pa.array(np.minimum.reduceat(col("first_date"), starts)).cast(pa.date32()),
           pa.array(np.maximum.reduceat(col("last_date"), starts)).cast(pa.date32())]
    out += [pa.array(np.add.reduceat(col(c), starts).astype(np.int32)) for c in AGG_COLUMNS[6:]]
    return pa.Table.from_arrays(out, schema=YEAR_SCHEMA)
