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
from ._chunks import (
    DAY_MAX,
    DAY_MIN,
    Chunk,
    Codes,
    Runs,
    academic_year,
    day_numbers,
    lookup,
    one_value,
    run_starts,
    weekday,
    weekday_lut,
)
from ._common import DateEvidence, InputFileError, parse_dates, quarantine_frame
from ._tables import CATEGORY_IDS, MARK_COLUMNS, Scratch
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


def _dict_parts(col) -> tuple[np.ndarray, np.ndarray | None, pa.Array]:
    """(indices with -1 for null, null mask or None when there is no null, the dictionary)."""
    d = _as_dict_array(col)
    if d.null_count:
        nulls = np.asarray(d.is_null())
        idx = np.where(nulls, -1, d.indices.fill_null(0).to_numpy(zero_copy_only=False))
    else:  # the usual case: the indices as they were read, no copy
        idx = d.indices.to_numpy(zero_copy_only=False)
        nulls = None
    if idx.dtype.itemsize < 4 or idx.dtype.kind == "u":
        idx = idx.astype(np.int32)
    return idx, nulls, d.dictionary


def _gather(lut: np.ndarray, idx: np.ndarray, nulls: np.ndarray | None) -> np.ndarray:
    """``lut[idx]`` where ``lut``'s last entry stands for null (index -1)."""
    return lut[idx] if nulls is not None else lookup(lut, idx)


def _blank(vals: list) -> np.ndarray:
    """Blank or only spaces, per dictionary value (last entry: null, blank too)."""
    return np.array([not (v or "").strip() for v in vals] + [True])


def _lines(line, n: int) -> np.ndarray:
    """The line numbers as an array (``line`` may be the first of ``n`` consecutive lines)."""
    if isinstance(line, np.ndarray):
        return line
    return np.arange(line, line + n, dtype=np.int64)


#: is day number d (0 = 1970-01-01, a Thursday) a Saturday or Sunday, up to DAY_MAX
_WEEKEND = ((np.arange(DAY_MAX + 1) + 3) % 7) >= 5


def _has_weekend(day: np.ndarray, lo: int, hi: int, out: np.ndarray) -> bool:
    """Does any date in the batch fall on a Saturday or Sunday? Decided on the batch's range
    of days when it holds no weekend, else by one look-up per row into ``out`` (days outside
    1970-DAY_MAX, quarantined already, may answer either way)."""
    if len(day) == 0 or not _WEEKEND[max(lo, 0):max(min(hi, DAY_MAX) + 1, 0)].any():
        return False
    return bool(np.take(_WEEKEND, day, out=out, mode="clip").any())


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
    _scratch: Scratch

    # -- per dictionary value (once per distinct dictionary) ---------------------------------
    def _dictionary(self, col: int, dictionary: pa.Array, make):
        """``make(values)`` for a batch's dictionary of column ``col``, remembered while the
        batches bring the same dictionary (Parquet repeats it in every row group and batch):
        the per-value work (normalising, id look-ups, checks) is then done once."""
        cache = self.__dict__.setdefault("_dict_cache", {})
        hit = cache.get(col)
        if hit is not None and (hit[0] is dictionary or hit[0].equals(dictionary)):
            return hit[1]
        info = make(dictionary.to_pylist())
        cache[col] = (dictionary, info)
        return info

    def _upn_info(self, vals: list) -> tuple:
        unorm = [(v or "").strip().upper() for v in vals]
        with self._lock:
            u_pid, u_bad = self.reg.upn_ids_for(unorm)
        if unorm != vals:
            self.normalised = True
        return (vals, unorm, np.append(u_pid, -1).astype(np.int32), np.append(u_bad, True),
                _blank(vals))

    def _urn_info(self, vals: list) -> tuple:
        snorm = [(v or "").strip() for v in vals]
        with self._lock:
            s_gid = np.array([self.reg.urn_id(v) for v in snorm] + [-1], np.int32)
        if snorm != vals:
            self.normalised = True
        s_bad = np.array([not (v.isdigit() and 5 <= len(v) <= 7) for v in snorm] + [True])
        return vals, s_gid, s_bad, _blank(vals)

    def _date_info(self, vals: list) -> tuple:
        with self._lock:
            self._dates.add(vals)
        parsed = parse_dates(pd.Series(vals, dtype="string"))
        ok = parsed.notna().to_numpy()
        dd = np.where(ok, day_numbers(parsed.fillna(pd.Timestamp(0))), 0)
        return np.append(dd, 0).astype(np.int32), ok, _blank(vals)

    def _session_info(self, vals: list) -> tuple:
        e_map = np.array([_SESSIONS.get((v or "").strip().upper(), -1) for v in vals] + [-1],
                         np.int8)
        if any(v not in ("AM", "PM") for v in vals if v is not None):
            self.normalised = True
        # dictionary ["AM", "PM"] (or only its first value): the indices are the sessions
        identity = np.array_equal(e_map[:-1], np.arange(len(vals)))
        return vals, e_map, identity, _blank(vals)

    def _code_info(self, vals: list) -> tuple:
        cnorm = [(v or "").strip() for v in vals]
        with self._lock:
            c_gid = np.array([self.reg.code_id(v) for v in cnorm] + [-1], np.int32)
        if cnorm != vals:
            self.normalised = True
        return vals, cnorm, c_gid, _blank(vals), {}

    # -- row checks ----------------------------------------------------------------------------
    def _check(self, batch: pa.RecordBatch, first_line: int, record: bool = True) -> tuple:
        """Row checks for one batch; safe to run for several batches at once (ids are given
        out under a lock). Returns ``(chunk, rows read)`` for :meth:`_order`: the good rows as
        a :class:`Chunk` without its key (with its :class:`Runs` when no row was dropped)."""
        line = first_line  # consecutive lines from first_line until rows are dropped
        if batch.num_columns > len(MARK_COLUMNS):  # explicit source lines (weekly files)
            line = batch.column(len(MARK_COLUMNS)).to_numpy(zero_copy_only=False).astype(np.int64)
        if self.format == "csv" and batch.num_rows and batch.column(0).null_count:
            blank = np.ones(batch.num_rows, bool)
            for i in range(len(MARK_COLUMNS)):
                blank &= np.asarray(batch.column(i).is_null())
            if blank.any():
                line = _lines(line, batch.num_rows)
                if record:
                    self._blank_lines.append(line[blank])
                batch = batch.filter(pa.array(~blank))
                line = line[~blank]
        n = batch.num_rows
        reason = None  # int8 per row once some check fails: the first problem found

        def flag(mask, rid):
            nonlocal reason
            if mask.any():  # most checks pass everywhere: one cheap pass, no write
                if reason is None:
                    reason = np.zeros(n, np.int8)
                np.copyto(reason, np.int8(rid), where=mask & (reason == 0))

        def missing_of(idx: np.ndarray, nulls, blank: np.ndarray) -> np.ndarray:
            # blank or only spaces counts as missing (checked per dictionary value)
            return blank[idx] if blank[:-1].any() else nulls

        # upn and urn: ids looked up once per run of the same pair (files come grouped by
        # pupil); the per-row ids are built only if needed
        uidx, unull, udict = _dict_parts(batch.column(0))
        _, _, u_pid, u_bad, ublank = self._dictionary(0, udict, self._upn_info)
        sidx, snull, sdict = _dict_parts(batch.column(1))
        _, s_gid, s_bad, sblank = self._dictionary(1, sdict, self._urn_info)
        starts = run_starts(uidx, sidx)
        pid_run, gid_run = u_pid[uidx[starts]], s_gid[sidx[starts]]
        if len(starts) > 1:  # texts that differ only in spaces or case: one run
            same = (pid_run[1:] == pid_run[:-1]) & (gid_run[1:] == gid_run[:-1])
            if same.any():
                keep = np.append(True, ~same)
                starts, pid_run, gid_run = starts[keep], pid_run[keep], gid_run[keep]
        runs = Runs(starts, pid_run, gid_run, None, n)
        # date
        dcol = batch.column(2)
        dbad = None
        if pa.types.is_date(dcol.type) or pa.types.is_timestamp(dcol.type):
            dd = dcol.cast(pa.date32()) if not pa.types.is_date32(dcol.type) else dcol
            dnull = None
            if dd.null_count:
                dnull = np.asarray(dd.is_null())
                dd = dd.fill_null(0)
            day = np.asarray(dd.cast(pa.int32()).to_numpy(zero_copy_only=False), np.int32)
        else:
            didx, dnull, ddict = _dict_parts(dcol)
            d_day, ok, dblank = self._dictionary(2, ddict, self._date_info)
            dnull = missing_of(didx, dnull, dblank)
            day = _gather(d_day, didx, dnull)
            if not ok.all():
                dbad = np.append(~ok, False)[didx]
                if dnull is not None:
                    dbad &= ~dnull
        # session
        eidx, enull, edict = _dict_parts(batch.column(3))
        _, e_map, identity, eblank = self._dictionary(3, edict, self._session_info)
        pm = eidx if identity and enull is None else _gather(e_map, eidx, enull)
        # code: kept as the batch's dictionary indices (Codes), looked up when needed
        cidx, cnull, cdict = _dict_parts(batch.column(4))
        _, cnorm, c_gid, cblank, cat_luts = self._dictionary(4, cdict, self._code_info)

        # Each check is first decided on the dictionary values or on the batch's day range;
        # a per-row pass runs only when some value actually fails (the usual batch is clean).
        for idx, nulls, blank in ((uidx, unull, ublank), (sidx, snull, sblank),
                                  (eidx, enull, eblank), (cidx, cnull, cblank)):
            if nulls is not None or blank[:-1].any():
                flag(missing_of(idx, nulls, blank), _R_MISSING)
        if dnull is not None:
            flag(dnull, _R_MISSING)
        if dbad is not None:
            flag(dbad, _R_DATE)
        lo, hi = (int(day.min()), int(day.max())) if n else (DAY_MIN, DAY_MAX)
        if lo < DAY_MIN or hi > DAY_MAX:
            flag((day < DAY_MIN) | (day > DAY_MAX), _R_DATE_RANGE)
        if (e_map[:-1] < 0).any() or enull is not None:
            flag(pm < 0, _R_SESSION)
        if _has_weekend(day, lo, hi, self._scratch.arrays(n)[1]):
            flag(weekday_lut(day) >= 5, _R_WEEKEND)
        if u_bad[:-1].any() or unull is not None:
            flag(u_bad[uidx], _R_UPN)
        if s_bad[:-1].any() or snull is not None:
            flag(s_bad[sidx], _R_URN)
        y_lo = int(academic_year(np.array([max(lo, DAY_MIN)]), self.start_month)[0])
        y_hi = int(academic_year(np.array([min(hi, DAY_MAX)]), self.start_month)[0])
        if y_lo == y_hi:  # the usual case: one academic year in the batch
            ay = one_value(y_lo, n, np.int16)
            lut = cat_luts.get(y_lo)
            if lut is None:
                lut = cat_luts[y_lo] = self._category_lut(cnorm, y_lo)
            cat = None  # looked up from the code when needed (lut below)
            if (lut[:-1] < 0).any():  # (a null code is already flagged as missing)
                cat = _gather(lut, cidx, cnull)
                flag(cat == _UNKNOWN, _R_CODE)
                flag(cat == _WITHDRAWN, _R_WITHDRAWN)
        else:
            lut = None
            ay = academic_year(np.clip(day, DAY_MIN, DAY_MAX), self.start_month)
            live = reason == 0 if reason is not None else np.ones(n, bool)
            cat = np.full(n, _UNKNOWN, np.int8)
            for y in np.unique(ay[live]):
                sel = live & (ay == y)
                cat[sel] = self._category_lut(cnorm, int(y))[cidx[sel]]
            flag(cat == _UNKNOWN, _R_CODE)
            flag(cat == _WITHDRAWN, _R_WITHDRAWN)
        # enrolment: looked up once per run of the same pupil and school
        pos_c = None
        if self.enrolments is not None and n:
            e = self.enrolments
            lengths = runs.lengths
            keys = (pid_run.astype(np.int64) << 20) | np.maximum(gid_run, 0)
            if len(e.keys):
                pos_run = np.minimum(np.searchsorted(e.keys, keys), len(e.keys) - 1)
                found_run = e.keys[pos_run] == keys
            else:
                pos_run = None
                found_run = np.zeros(len(starts), bool)
            if not found_run.all():
                flag(np.repeat(~found_run, lengths), _R_NOT_ON_ROLL)
            if pos_run is not None:
                # a run's marks are all inside its enrolment when its first and last day are
                first = np.minimum.reduceat(day, starts)
                last = np.maximum.reduceat(day, starts)
                out_run = found_run & ((first < e.admission[pos_run])
                                       | (last > e.leaving[pos_run]))
                pos_c = (pos_run, lengths)
                if out_run.any():
                    rows = np.repeat(out_run, lengths)
                    pos = np.repeat(pos_run, lengths)
                    flag(rows & ((day < e.admission[pos]) | (day > e.leaving[pos])), _R_OUTSIDE)
        code = Codes(cidx, c_gid, lut)
        if reason is None:
            return Chunk(None, None, day, pm, code, cat, ay, line, None, runs=runs), n
        bad = reason != 0
        if record:
            pos = np.repeat(*pos_c) if pos_c is not None else None
            self._quarantine_rows(batch, np.flatnonzero(bad), reason, _lines(line, n), day, ay,
                                  cnorm, cidx, pos)
        good = ~bad
        pid, gid = np.repeat(pid_run, runs.lengths), np.repeat(gid_run, runs.lengths)
        ch = Chunk(pid[good], gid[good], day[good], pm[good], code.take(good),
                   None if cat is None else cat[good], ay[good], _lines(line, n)[good], None)
        return ch, n

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
