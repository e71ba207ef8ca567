"""The Arrow tables a validated chunk of register marks becomes.

One concept: the layouts the store keeps marks in (domain.md 1, 2.1). :func:`marks_table` is the
canonical long form ``upn, urn, date, session, code`` (:data:`MARK_COLUMNS`);
:func:`categorised_marks_table` adds ``category`` and ``academic_year`` for in-memory frames; and
:func:`week_aggregate` is the enrolment x week pre-aggregate (:data:`AGG_COLUMNS`) written at
load time, so summaries never rescan the marks.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import codes as codes_mod
from ._chunks import Chunk, weekday_lut
from .registry import Registry

__all__ = ["MARK_COLUMNS", "CATEGORY_IDS", "AGG_COLUMNS", "marks_table",
           "categorised_marks_table", "local_dict", "week_aggregate"]

#: the canonical long form (product.md): one row per pupil per session
MARK_COLUMNS = ["upn", "urn", "date", "session", "code"]
#: statistical category -> id (position in ``codes.CATEGORIES``); ``Chunk.cat`` holds these
CATEGORY_IDS = {c: i for i, c in enumerate(codes_mod.CATEGORIES)}
_CAT_NAMES = np.array(codes_mod.CATEGORIES, dtype=object)

#: columns of the enrolment x week pre-aggregate written at load time
AGG_COLUMNS = ["pid", "gid", "academic_year", "week_start", "first_date", "last_date", "possible",
               "present", "aea", "authorised", "unauthorised", "not_possible", "covid",
               "late_before", "late_after", "legal_unauth", "marks"]


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
            pa.array(ch.pm.astype(np.int8)), pa.array(["AM", "PM"])),
        "code": pa.DictionaryArray.from_arrays(
            pa.array(ch.code.astype(np.int32)), pa.array(code_names, pa.string())),
    })


def categorised_marks_table(ch: Chunk, reg: Registry) -> pa.Table:
    """:func:`marks_table` plus ``category`` and ``academic_year`` (for in-memory frames)."""
    t = marks_table(ch, reg)
    t = t.append_column("category", pa.DictionaryArray.from_arrays(
        pa.array(ch.cat.astype(np.int8)), pa.array(list(_CAT_NAMES), pa.string())))
    return t.append_column("academic_year", pa.array(ch.ay, pa.int16()))


def local_dict(ids: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    """Dictionary array holding only the values this chunk uses (keeps Parquet small)."""
    uniq, inv = np.unique(ids, return_inverse=True)
    return pa.DictionaryArray.from_arrays(pa.array(inv.astype(np.int32)),
                                          pa.array([values[i] for i in uniq], pa.string()))


def week_aggregate(ch: Chunk, reg: Registry) -> pa.Table:
    """Enrolment x week counts (``AGG_COLUMNS``) for a validated chunk.

    Rows are runs of the same enrolment, academic year and week in file order; the same
    enrolment-week may appear in more than one row (the store sums them).
    """
    week = ch.day - weekday_lut(ch.day)
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
    code_ids = dict(reg.code_ids)  # snapshot: the reader thread may add codes
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
        "urn": local_dict(gid, reg.urns),
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
