"""Dense integer ids for the pupils, schools, codes and enrolments of one ingest.

One concept: the id space that the marks reader and the store share. :class:`Registry` gives out
dense ids for UPNs, URNs and codes, and for enrolments (a pupil at a school), in first-seen
order; :class:`Enrolments` holds a pupils file's enrolment windows (admission and leaving dates)
as sorted integer keys, so each mark's enrolment is found with one ``searchsorted``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import upn as upn_mod
from ._chunks import day_numbers

__all__ = ["Registry", "Enrolments"]


class Registry:
    """Dense integer ids for UPNs, URNs and codes, shared by every file of one ingest."""

    def __init__(self) -> None:
        self.upn_ids: dict[str, int] = {}
        self.upns: list[str] = []
        self.upn_problem: dict[str, str | None] = {}
        self.urn_ids: dict[str, int] = {}
        self.urns: list[str] = []
        self.code_ids: dict[str, int] = {}
        self._upn_bad = np.zeros(1024, bool)  # check-letter failure by upn id
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

    def upn_ids_for(self, values: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids and check-letter failures for many UPN strings (call under the reader's lock).

        Known UPNs cost one dictionary look-up each; only new ones are checked (vectorised)
        and given ids, so a batch whose pupils were seen before costs almost nothing.
        """
        ids = self.upn_ids
        out = np.fromiter((ids.get(v, -1) for v in values), np.int64, len(values))
        miss = np.flatnonzero(out < 0)
        if len(miss):
            new = [values[i] for i in miss]
            new_bad = ~upn_mod.valid_mask(new)
            first = len(self.upns)
            fresh = list(dict.fromkeys(new))  # (a value may come twice once normalised)
            ids.update(zip(fresh, range(first, first + len(fresh)), strict=True))
            self.upns.extend(fresh)
            out[miss] = np.fromiter((ids[v] for v in new), np.int64, len(new))
        # ids given out elsewhere (pupils file, an existing store) were checked when loaded
        if len(self.upns) > len(self._upn_bad):
            grown = np.zeros(max(len(self.upns), 2 * len(self._upn_bad)), bool)
            grown[:len(self._upn_bad)] = self._upn_bad
            self._upn_bad = grown
        if len(miss):
            self._upn_bad[out[miss]] = new_bad
        return out, self._upn_bad[out]

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
        n = len(pid)
        if n == 0:
            return np.zeros(0, np.int64)
        starts, run_ids = self.enrolment_runs(pid, gid, table)
        return np.repeat(run_ids, np.diff(np.append(starts, n)))

    def enrolment_runs(self, pid: np.ndarray, gid: np.ndarray,
                       table: dict[int, int] | None = None,
                       starts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`enrolment_ids` as runs: ``(starts, ids)``, the first row of each run of the
        same (pupil, school) pair and that run's enrolment id (int64). ``starts``, when the
        caller knows them already, are taken as they are."""
        n = len(pid)
        if n == 0:
            return np.zeros(0, np.intp), np.zeros(0, np.int64)
        if starts is None:
            brk = np.empty(n, bool)
            brk[0] = True
            np.not_equal(pid[1:], pid[:-1], out=brk[1:])
            np.bitwise_or(brk[1:], np.not_equal(gid[1:], gid[:-1]), out=brk[1:])
            starts = np.flatnonzero(brk)
        return starts, self.enrolment_run_ids(pid[starts], gid[starts], table)

    def enrolment_run_ids(self, pid: np.ndarray, gid: np.ndarray,
                          table: dict[int, int] | None = None) -> np.ndarray:
        """Enrolment ids (int64) of (pupil, school) pairs, one dictionary look-up each, new
        pairs numbered in order."""
        keys = (pid.astype(np.int64) << 20) | np.maximum(gid, 0)
        ids = self.enrolment_id if table is None else table
        return np.fromiter((ids.setdefault(k, len(ids)) for k in keys.tolist()),
                           np.int64, len(keys))

    def code_id(self, c: str) -> int:
        return self.code_ids.setdefault(c, len(self.code_ids))

    def check_upn(self, u: str) -> str | None:
        if u not in self.upn_problem:
            self.upn_problem[u] = upn_mod.upn_problem(u)
        return self.upn_problem[u]


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
        adm = (day_numbers(pupils["admission_date"]) if "admission_date" in pupils
               else np.full(len(pupils), lo, np.int32))
        if "admission_date" in pupils:
            adm = np.where(pupils["admission_date"].isna().to_numpy(), lo, adm)
        lev = (day_numbers(pupils["leaving_date"]) if "leaving_date" in pupils
               else np.full(len(pupils), hi, np.int32))
        if "leaving_date" in pupils:
            lev = np.where(pupils["leaving_date"].isna().to_numpy(), hi, lev)
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], np.asarray(adm)[order], np.asarray(lev)[order])
