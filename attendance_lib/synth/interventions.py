"""Interventions assigned the way schools and LAs do it: on attendance, with limited places.

Within each school-year, in date order (:func:`assign`):

* **penalty notices** -- whenever a pupil reaches 10 unauthorised sessions (``G N O U``) in a
  rolling 10 school weeks (domain.md 4.1) a notice *must be considered*; a share are issued a
  few school days later; at most two per pupil at a school (a third is not allowed within 3
  years);
* **mentoring** -- offered on the first day after the October half-term (and again after the
  February half-term) to pupils whose year-to-date attendance is below 90%, ranked by
  attendance with some staff judgement, up to the school's places; not everyone accepts;
* **attendance contracts** -- at the start of the spring and summer terms, for persistent
  absentees with unauthorised absence;
* **early help** -- referred at the termly Targeting Support Meeting (autumn after half-term,
  spring, summer): persistent absentees (15%+) with FSM, SEN or a social worker, and severely
  absent pupils; starts after a referral delay;
* **attendance letters** (only when the configuration includes ``"attendance_letter"``; not in
  the defaults) -- a strict threshold rule: on the first day after the October half-term every
  pupil whose year-to-date absence is at least ``threshold_pct`` (attendance below 90% at the
  default 10) is sent one (subject to ``uptake`` and ``capacity_per_100``), starting that day:
  the design a regression discontinuity can evaluate.

Selection uses only the register up to the decision day, including the effects of support given
earlier, so attendance-based selection (and with it regression to the mean) is exactly what a
real LA would face. An intervention multiplies the pupil's absence hazards by its
``hazard_ratio`` from its start to its end; the register of the rows that changed is simulated
again with the same random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import InterventionSpec
from .registers import POSSIBLE, UNAUTHORISED, SchoolYear

__all__ = ["Episode", "assign", "ytd_counts"]

_LEGAL_SESSIONS = 10
_LEGAL_WEEKS = 10


@dataclass
class Episode:
    """One intervention episode for one pupil-year row of a :class:`SchoolYear`."""

    row: int
    type: str
    start: int  # term-day index
    end: int  # last term-day index of the effect (inclusive)
    planned_end: int  # planned last day (may be beyond the simulated days)
    hazard_ratio: float
    ytd_absence_pct: float
    note: str


def ytd_counts(codes: np.ndarray, absent_lut: np.ndarray, day: int):
    """(absent sessions, possible sessions) per row over term days before ``day``."""
    c = codes[:, :day, :]
    on = c >= 0
    cc = np.where(on, c, 0)
    possible = (POSSIBLE[cc] & on).sum(axis=(1, 2))
    absent = (absent_lut[cc] & on).sum(axis=(1, 2))
    return absent, possible


class _Daily:
    """Absent, possible and unauthorised sessions per row and day, kept in step with codes."""

    def __init__(self, sy: SchoolYear, codes: np.ndarray):
        n, D = codes.shape[:2]
        self.sy = sy
        self.absent = np.zeros((n, D), np.int8)
        self.possible = np.zeros((n, D), np.int8)
        self.unauth = np.zeros((n, D), np.int8)
        week = sy.cal.week[:D].astype(np.int64)
        self.week_first = np.flatnonzero(np.r_[True, week[1:] != week[:-1]]) if D else \
            np.zeros(0, np.int64)
        self.last_day = np.r_[self.week_first[1:] - 1, D - 1] if D else np.zeros(0, np.int64)
        self.refresh(codes, None)

    def refresh(self, codes: np.ndarray, rows: np.ndarray | None) -> None:
        c = codes if rows is None else codes[rows]
        on = c >= 0
        cc = np.where(on, c, 0)
        sl = slice(None) if rows is None else rows
        self.absent[sl] = (self.sy.absent_lut[cc] & on).sum(axis=2)
        self.possible[sl] = (POSSIBLE[cc] & on).sum(axis=2)
        self.unauth[sl] = (UNAUTHORISED[cc] & on).sum(axis=2)

    def ytd(self, day: int):
        return (self.absent[:, :day].sum(axis=1, dtype=np.int64),
                self.possible[:, :day].sum(axis=1, dtype=np.int64),
                self.unauth[:, :day].sum(axis=1, dtype=np.int64))

    def weekly_unauth(self) -> np.ndarray:
        return np.add.reduceat(self.unauth, self.week_first, axis=1, dtype=np.int64)

    def crossings(self, lo: int, hi: int, carry_weeks: np.ndarray | None) -> np.ndarray:
        """First day index in (lo, hi] at which each row reaches 10 unauthorised sessions in a
        rolling 10 school weeks (-1 if none); ``carry_weeks`` (rows x 9) are the previous
        year's last weeks at this school, which count towards the window."""
        wk = self.weekly_unauth()
        n = wk.shape[0]
        full = np.concatenate([carry_weeks if carry_weeks is not None
                               else np.zeros((n, 9), np.int64), wk], axis=1)
        csum = np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(full, axis=1)], axis=1)
        roll = csum[:, 10:] - csum[:, :-10]  # windows ending at each week of this year
        ok = ((roll >= _LEGAL_SESSIONS) & (self.last_day > lo)[None, :]
              & (self.last_day <= hi)[None, :])
        return np.where(ok.any(axis=1), self.last_day[np.argmax(ok, axis=1)], -1)

    def tail(self) -> np.ndarray:
        """Unauthorised sessions in each of the last 9 school weeks (rows x 9)."""
        wk = self.weekly_unauth()
        out = np.zeros((wk.shape[0], 9), np.int64)
        k = min(9, wk.shape[1])
        out[:, 9 - k:] = wk[:, wk.shape[1] - k:]
        return out


def assign(sy: SchoolYear, codes: np.ndarray, specs: dict[str, InterventionSpec],
           rng: np.random.Generator, pn_count: dict[int, int],
           carry_weeks: np.ndarray | None = None
           ) -> tuple[list[Episode], np.ndarray, np.ndarray, np.ndarray]:
    """Assign interventions in date order.

    Returns the episodes, the final codes, the effect matrix (rows x days) and each row's
    unauthorised sessions in the last 9 school weeks (carried into next year's 10-in-10 check).
    """
    n, D = codes.shape[0], codes.shape[1]
    eff = np.ones((n, D), np.float32)
    episodes: list[Episode] = []
    if n == 0 or D == 0:
        return episodes, codes, eff, np.zeros((n, 9), np.int64)
    cal = sy.cal
    firsts = [int(np.flatnonzero(cal.half_term == h)[0]) for h in range(1, 7)]
    points = [(firsts[1], "mentoring"), (firsts[1], "early_help"),
              (firsts[2], "attendance_contract"), (firsts[2], "early_help"),
              (firsts[3], "mentoring"), (firsts[4], "attendance_contract"),
              (firsts[4], "early_help")]
    points.append((firsts[1], "attendance_letter"))
    points = [(d, k) for d, k in points if d < D and k in specs]
    on_roll_n = int(((sy.first <= firsts[1]) & (sy.last >= firsts[1])).sum()) or n
    taken: dict[str, set[int]] = {k: set() for k in specs}
    pid = sy.rows["pid"].to_numpy()
    fsm = sy.rows["fsm"].to_numpy() if "fsm" in sy.rows else np.zeros(n, bool)
    sen = sy.rows["sen"].to_numpy() if "sen" in sy.rows else np.full(n, "N")
    sw = sy.rows["social_worker"].to_numpy() if "social_worker" in sy.rows else np.zeros(n, bool)
    vulnerable = fsm | (sen != "N") | sw

    daily = _Daily(sy, codes)

    def apply(rows, kind, starts, spec, absn_pct, notes):
        nonlocal codes
        changed = []
        for r, s, a, note in zip(rows, starts, absn_pct, notes, strict=True):
            if s >= D or s > sy.last[r]:  # not yet started by the as-of date, or left first
                continue
            length = max(1, spec.duration_weeks * 5)
            planned_end = s + length - 1
            e = min(planned_end, D - 1, int(sy.last[r]))
            if spec.hazard_ratio != 1.0:
                eff[r, s:e + 1] *= spec.hazard_ratio
                changed.append(r)
            episodes.append(Episode(int(r), kind, int(s), int(e), int(planned_end),
                                    float(spec.hazard_ratio), float(a), note))
            taken[kind].add(int(r))
        if changed:
            ch = np.unique(np.array(changed))
            codes[ch] = sy.codes(ch, eff[ch])
            daily.refresh(codes, ch)

    def places(spec):
        return max(1, int(round(spec.capacity_per_100 * on_roll_n / 100)))

    last_pn_day = -1
    schedule = sorted(points, key=lambda x: x[0]) + [(D - 1, None)]
    for day, kind in schedule:
        # penalty notices for threshold crossings since the last check
        if "penalty_notice" in specs and day > last_pn_day:
            spec = specs["penalty_notice"]
            cross = daily.crossings(last_pn_day, day, carry_weeks)
            cand = np.flatnonzero(cross >= 0)
            cand = np.array([r for r in cand if r not in taken["penalty_notice"]
                             and pn_count.get(int(pid[r]), 0) < 2], dtype=np.int64)
            cand = np.sort(cand)
            if len(cand):
                issue = cand[rng.random(len(cand)) < spec.uptake]
                starts = cross[issue] + rng.integers(5, 16, len(issue))
                absn, poss, _ = daily.ytd(D)
                pct = [100 * absn[r] / max(poss[r], 1) for r in issue]
                notes = [f"10 unauthorised sessions in 10 school weeks reached "
                         f"{cal.days[cross[r]]}" for r in issue]
                ok = starts < D
                for r in issue[ok]:
                    pn_count[int(pid[r])] = pn_count.get(int(pid[r]), 0) + 1
                apply(issue[ok], "penalty_notice", starts[ok], spec,
                      np.array(pct)[ok] if len(pct) else [], [notes[i] for i in
                                                               np.flatnonzero(ok)])
                # rows considered but not issued are not considered again this year
                taken["penalty_notice"].update(int(r) for r in cand)
            last_pn_day = day
        if kind is None:
            break
        spec = specs[kind]
        absn, poss, un = daily.ytd(day)
        rate = np.where(poss > 0, 100 * absn / np.maximum(poss, 1), 0.0)
        on = (sy.first <= day) & (sy.last >= day) & (poss >= 20)
        not_yet = np.ones(n, bool)
        not_yet[list(taken[kind])] = False
        if kind == "mentoring":
            elig = on & not_yet & (rate >= spec.threshold_pct) & (rate < 50)
            score = rate
        elif kind == "attendance_letter":
            elig = on & not_yet & (rate >= spec.threshold_pct)
            score = rate
        elif kind == "attendance_contract":
            elig = on & not_yet & (rate >= spec.threshold_pct) & (un >= 0.03 * poss)
            score = 100 * un / np.maximum(poss, 1)
        else:  # early_help
            elig = on & not_yet & (((rate >= spec.threshold_pct) & vulnerable) | (rate >= 30))
            score = rate
        cand = np.flatnonzero(elig)
        if not len(cand):
            continue
        noisy = score[cand] + spec.judgement_noise * 5 * rng.standard_normal(len(cand))
        ranked = cand[np.argsort(-noisy, kind="stable")]
        chosen = ranked[:places(spec)]
        accept = chosen[rng.random(len(chosen)) < spec.uptake]
        delay = {"mentoring": (0, 10), "attendance_contract": (3, 13),
                 "early_help": (10, 26), "attendance_letter": (0, 1)}[kind]
        starts = day + rng.integers(delay[0], delay[1], len(accept))
        notes = [f"year-to-date attendance {100 - rate[r]:.1f}% on {cal.days[day]}"
                 for r in accept]
        apply(accept, kind, starts, spec, rate[accept], notes)
        # offered but declined: not offered again this year
        taken[kind].update(int(r) for r in chosen)
    return episodes, codes, eff, daily.tail()
