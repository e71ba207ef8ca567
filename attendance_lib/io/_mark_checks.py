"""The checks a register mark must pass, and the quarantine text of each failure.

One concept: what makes a mark bad (see :mod:`attendance_lib.io.marks` for the list), as the
:class:`MarkChecks` part of :class:`attendance_lib.io.marks.MarksReader`:

* ``_check`` runs the row checks on one Arrow batch as numpy array operations over its
  dictionary-encoded columns (each distinct UPN, URN, date, session or code string is examined
  once), quarantines the bad rows with the first problem found and returns the good rows' arrays;
* ``_resolve`` finds exact repeats and conflicting codes for one enrolment-session in a chunk
  sorted by ``(base, line)`` and quarantines them.

Private to :mod:`attendance_lib.io`.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import codes as codes_mod
from ._chunks import DAY_MAX, DAY_MIN, Chunk, academic_year, day_numbers, weekday, weekday_lut
from ._common import DateEvidence, InputFileError, parse_dates, quarantine_frame
from ._tables import CATEGORY_IDS, MARK_COLUMNS
from .registry import Enrolments, Registry

__all__ = ["MarkChecks"]

_UNKNOWN, _WITHDRAWN = -1, -2
_SESSIONS = {"AM": 0, "A": 0, "MORNING": 0, "PM": 1, "P": 1, "AFTERNOON": 1}
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# reason ids (priority order: the lowest id found for a row is reported)
_R_MISSING, _R_DATE, _R_DATE_RANGE, _R_SESSION, _R_WEEKEND, _R_UPN, _R_URN, _R_CODE, \
    _R_WITHDRAWN, _R_NOT_ON_ROLL, _R_OUTSIDE = range(1, 12)


def _as_dict_array(col: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    """One column as a single dictionary-encoded array (text columns are encoded here)."""
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
    if d.null_count:
        nulls = np.asarray(d.is_null())
        idx = np.where(nulls, -1, d.indices.fill_null(0).to_numpy(zero_copy_only=False))
    else:  # the usual case: no copy, and an all-false mask costs nothing until touched
        idx = d.indices.to_numpy(zero_copy_only=False)
        nulls = np.zeros(len(d), bool)
    if idx.dtype.itemsize < 4 or idx.dtype.kind == "u":
        idx = idx.astype(np.int32)
    return idx, nulls, d.dictionary.to_pylist()


def _has_weekend(day: np.ndarray, lo: int, hi: int) -> bool:
    """Does any date in the batch fall on a Saturday or Sunday? (One bincount over the range.)"""
    if len(day) == 0:
        return False
    if hi - lo > 5_000_000:
        return bool((weekday_lut(day) >= 5).any())
    present = np.bincount(day - lo, minlength=hi - lo + 1) > 0
    weekend = ((np.arange(lo, hi + 1) + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    return bool((present & weekend).any())


class MarkChecks:
    """Row checks and duplicate/conflict resolution of the marks reader (a mixin).

    :class:`attendance_lib.io.marks.MarksReader` provides the attributes used here: the file
    (``path``, ``format``), the shared ids (``reg``), the pupils file's ``enrolments`` (or None),
    ``start_month``, the ``normalised`` flag, and the bookkeeping filled while checking
    (``_lock`` guarding ``reg``, ``_blank_lines``, ``_quarantine`` frames, ``_dropped`` keys).
    """

    path: Path
    format: str
    reg: Registry
    enrolments: Enrolments | None
    start_month: int
    normalised: bool
    _lock: threading.Lock
    _blank_lines: list[np.ndarray]
    _quarantine: list[pd.DataFrame]
    _dropped: list[tuple[np.ndarray, np.ndarray]]
    _dates: DateEvidence

    # -- row checks ----------------------------------------------------------------------------
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
            u_pid, u_bad = reg.upn_ids_for(unorm)
        u_pid, u_bad = np.append(u_pid, -1), np.append(u_bad, True)
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
            with self._lock:
                self._dates.add(dvals)
            parsed = parse_dates(pd.Series(dvals, dtype="string"))
            ok = parsed.notna().to_numpy()
            dd = np.where(ok, day_numbers(parsed.fillna(pd.Timestamp(0))), 0)
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

        # Each check is first decided on the dictionary values or on the batch's day range;
        # a per-row pass runs only when some value actually fails (the usual batch is clean).
        for idx, nulls, vals in ((uidx, unull, uvals), (sidx, snull, svals), (eidx, enull, evals),
                                 (cidx, cnull, cvals)):
            if nulls.any() or any(not (v or "").strip() for v in vals):
                flag(missing_of(idx, nulls, vals), _R_MISSING)
        if dnull.any():
            flag(dnull, _R_MISSING)
        if dbad.any():
            flag(dbad, _R_DATE)
        lo, hi = (int(day.min()), int(day.max())) if n else (DAY_MIN, DAY_MAX)
        if lo < DAY_MIN or hi > DAY_MAX:
            flag((day < DAY_MIN) | (day > DAY_MAX), _R_DATE_RANGE)
        if (e_map[:-1] < 0).any() or (eidx < 0).any():
            flag(pm < 0, _R_SESSION)
        if _has_weekend(day, lo, hi):
            flag(weekday_lut(day) >= 5, _R_WEEKEND)
        if u_bad[:-1].any() or unull.any():
            flag(u_bad[uidx], _R_UPN)
        if s_bad[:-1].any() or snull.any():
            flag(s_bad[sidx], _R_URN)
        y_lo = int(academic_year(np.array([max(lo, DAY_MIN)]), self.start_month)[0])
        y_hi = int(academic_year(np.array([min(hi, DAY_MAX)]), self.start_month)[0])
        if y_lo == y_hi:  # the usual case: one academic year in the batch
            ay = np.full(n, y_lo, np.int16)
            lut = self._category_lut(cnorm, y_lo)
            cat = lut[cidx]
            used = np.unique(cidx) if (lut[:-1] < 0).any() else None
            if used is not None and (lut[used] < 0).any():
                flag(cat == _UNKNOWN, _R_CODE)
                flag(cat == _WITHDRAWN, _R_WITHDRAWN)
        else:
            ay = academic_year(np.clip(day, DAY_MIN, DAY_MAX), self.start_month)
            live = reason == 0
            cat = np.full(n, _UNKNOWN, np.int8)
            for y in np.unique(ay[live]):
                sel = live & (ay == y)
                cat[sel] = self._category_lut(cnorm, int(y))[cidx[sel]]
            flag(cat == _UNKNOWN, _R_CODE)
            flag(cat == _WITHDRAWN, _R_WITHDRAWN)
        # enrolment: looked up once per run of the same pupil and school
        pos_c = None
        if self.enrolments is not None:
            e = self.enrolments
            keys = (pid << 20) | np.where(gid < 0, 0, gid)
            if len(e.keys):
                brk = np.ones(n, bool)
                brk[1:] = keys[1:] != keys[:-1]
                starts = np.flatnonzero(brk)
                run = np.cumsum(brk) - 1
                pos_run = np.minimum(np.searchsorted(e.keys, keys[starts]), len(e.keys) - 1)
                found_run = e.keys[pos_run] == keys[starts]
                pos_c = pos_run[run]
                found = found_run[run]
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
                t = (f"invalid date: {f[2]} is outside {np.datetime64(DAY_MIN, 'D')} to "
                     f"{np.datetime64(DAY_MAX, 'D')}")
            elif rid == _R_SESSION:
                t = f"invalid session: '{f[3]}' (expected AM or PM)"
            elif rid == _R_WEEKEND:
                t = f"mark on a weekend: {iso} is a {_DAY_NAMES[int(weekday(day[r]))]}"
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
    def _resolve(self, ch: Chunk, old: np.ndarray | None = None,
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

    def _raw_line(self, ch: Chunk, i: int, code_names: dict[int, str]) -> str:
        d = np.datetime64(int(ch.day[i]), "D")
        return (f"{self.reg.upns[ch.pid[i]]},{self.reg.urns[ch.gid[i]]},{d},"
                f"{'PM' if ch.pm[i] else 'AM'},{code_names[ch.code[i]]}")
