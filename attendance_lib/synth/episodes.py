"""Marks fixed before the daily simulation: activities, episodes, closures, lateness.

:func:`static_events` draws, for one school-year, everything that no intervention changes:

* late before registers closed (``L``, present) on mornings, more for higher-absence pupils;
* trips (``V``) by year group, with a Year 6 residential; sport (``P``) afternoons;
  alternative provision / off-site education (``B``) and LA-arranged education (``K``; ``B``
  before 2024) a few days a week for some weeks; Year 10 work experience (``W``);
* part-time timetables (afternoons; ``C2`` from 2024, ``C`` before), mostly for high-absence
  pupils; two religious festival days (``R``); travelling families (``T``) in the summer term;
  study leave (``S``) in the Year 11 exam season; interviews (``J`` / ``J1``);
* a run of absence (``O``, some ``N`` or ``G``) before an in-year leaving date;
* the school's INSET days (``#``) and now and then a snow day (``Y`` / ``Y4``).

Rates come from :data:`.config.AEA_RATES` and :data:`.config.REASON_RATES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .config import REASONS
from .register_codes import (
    CLOSED,
    GHOL,
    INSET,
    INTV,
    LAED,
    LATE,
    NRY,
    OFFS,
    OTH,
    PT,
    REL,
    SPORT,
    STUDY,
    TRAV,
    TRIP,
    WORK,
)
from .term_dates import inset_days

if TYPE_CHECKING:
    from .registers import SchoolYear

__all__ = ["Events", "static_events"]

_RI = {k: i for i, k in enumerate(REASONS)}
_OBSERVANT = ("A", "B", "M", "O", "R", "C")  # ethnicity code initials with higher observance



@dataclass
class Events:
    """Marks fixed before simulation: rows, day indices, session (0 AM, 1 PM, 2 both), code."""

    row: np.ndarray
    day: np.ndarray
    ses: np.ndarray
    code: np.ndarray

    @staticmethod
    def concat(parts: list[Events]) -> Events:
        parts = [p for p in parts if len(p.row)]
        if not parts:
            z = np.zeros(0, np.int64)
            return Events(z, z, z.astype(np.int8), z.astype(np.int8))
        return Events(*(np.concatenate([getattr(p, f) for p in parts])
                         for f in ("row", "day", "ses", "code")))

    @staticmethod
    def ranges(row, start, length, ses, code, n_days) -> Events:
        """Events for runs of consecutive days ``start .. start+length-1`` per row."""
        length = np.asarray(length, np.int64)
        if len(length) == 0 or length.sum() == 0:
            return Events.concat([])
        r = np.repeat(row, length)
        offs = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
        d = np.repeat(start, length) + offs
        ok = (d >= 0) & (d < n_days)
        return Events(r[ok], d[ok], np.repeat(np.asarray(ses, np.int8) * np.ones(len(row),
                                                                                  np.int8),
                                                length)[ok],
                       np.repeat(np.asarray(code, np.int8) * np.ones(len(row), np.int8),
                                 length)[ok])

    def take(self, mask) -> Events:
        return Events(self.row[mask], self.day[mask], self.ses[mask], self.code[mask])


def static_events(sy: SchoolYear, rng: np.random.Generator) -> tuple[Events, np.ndarray]:
    """The school-year's fixed marks (sorted by row) and its INSET day indices."""
    n, D, cal, cfg, e = sy.n, sy.D, sy.cal, sy.cfg, sy.e
    Dfull = cal.n_days
    ph = sy.phase
    yg = sy.rows["year_group"].to_numpy()
    rows = np.arange(n)
    aea = cfg.aea_rates[ph]
    rr = cfg.reason_rates[ph]
    ev: list[Events] = []
    ok_day = np.ones(Dfull, bool)
    inset = inset_days(cal, rng)
    ok_day[inset] = False
    ok_day[:3] = False
    # -- lateness (L, present): mornings
    p_late = np.minimum(0.9, 2 * sy.late[:, None] * sy.traj) if n else np.zeros((0, D))
    lr, ld = np.nonzero(sy.u_late < p_late)
    ev.append(Events(lr, ld, np.zeros(len(lr), np.int8), np.full(len(lr), LATE, np.int8)))
    # -- trips (V): day trips by year group, Year 6 residential
    part = {"primary": 0.85, "secondary": 0.3, "special": 0.8}[ph]
    target_days = aea["V"] / 100 * (Dfull - 5)
    res_days = 0.0
    if ph == "primary" and rng.random() < 0.7:
        start = int(rng.integers(int(np.flatnonzero(cal.half_term == 5)[0]),
                                 Dfull - 10))
        sel = rows[(yg == 6) & (rng.random(n) < 0.8)]
        ev.append(Events.ranges(sel, np.full(len(sel), start), np.full(len(sel), 4), 2,
                                 TRIP, D))
        res_days = 4 * 0.7 * 0.8 / 7
    lam = max(target_days - res_days, 0.0) / part
    for g in np.unique(yg):
        k = int(rng.poisson(lam))
        if k == 0:
            continue
        tdays = rng.choice(np.flatnonzero(ok_day), size=k, replace=False)
        in_g = rows[yg == g]
        for td in tdays:
            go = in_g[rng.random(len(in_g)) < part]
            ev.append(Events(go, np.full(len(go), td), np.full(len(go), 2, np.int8),
                              np.full(len(go), TRIP, np.int8)))
    # -- sport (P): some pupils, afternoons
    sporty = rng.random(n) < 0.2
    k_sport = rng.poisson(aea["P"] / 100 * 2 * Dfull / 0.2, n) * sporty
    k_sport = np.minimum(k_sport, 12)
    r = np.repeat(rows, k_sport)
    ev.append(Events(r, rng.integers(0, Dfull, len(r)), np.ones(len(r), np.int8),
                      np.full(len(r), SPORT, np.int8)))
    # -- alternative provision / off-site (B) and LA-arranged education (K)
    ap_rate = (aea["B"] + aea["K"]) / 100  # share of sessions
    weight = (sy.p / np.mean(sy.p)) ** 1.5 if n else sy.p
    weeks = rng.integers(6, 31, n)
    per_week = rng.integers(2, 5, n)
    sessions = weeks * per_week
    prob = np.minimum(1.0, ap_rate * 2 * Dfull * weight / np.mean(sessions) * 0.5) \
        if n else weight
    on_ap = rng.random(n) < prob
    k_share = aea["K"] / max(aea["B"] + aea["K"], 1e-9)
    code_ap = np.where(rng.random(n) < k_share, LAED, OFFS).astype(np.int8)
    if sy.year < 2024:
        code_ap[:] = OFFS
    start = rng.integers(0, max(1, Dfull - 30), n)
    for i in np.flatnonzero(on_ap):
        dd = np.arange(start[i], min(Dfull, start[i] + weeks[i] * 5))
        wd_pick = rng.choice(5, size=min(5, int(np.ceil(per_week[i] / 2))), replace=False)
        dd = dd[np.isin(sy.cal.weekday[dd], wd_pick)]
        ev.append(Events(np.full(len(dd), i), dd, np.full(len(dd), 2, np.int8),
                          np.full(len(dd), code_ap[i], np.int8)))
    # -- work experience (W): Year 10, one week in the second summer half-term
    if ph in ("secondary", "special") and aea["W"] > 0:
        h6 = np.flatnonzero(cal.half_term == 6)
        wk_start = int(rng.choice(h6[:max(1, len(h6) - 10)]))
        y10 = rows[yg == 10]
        share_y10 = max((yg == 10).mean(), 1e-9) if n else 1.0
        part_w = min(0.9, aea["W"] / 100 * (Dfull - 5) / 5 / share_y10) if n else 0
        go = y10[rng.random(len(y10)) < part_w]
        ev.append(Events.ranges(go, np.full(len(go), wk_start), np.full(len(go), 5), 2,
                                 WORK, D))
    # -- part-time timetables (C2 / C): afternoons for some weeks
    pt_sessions = e[:, _RI["PT"]] * 2 * Dfull
    q = pt_sessions / 50.0
    has_pt = rng.random(n) < np.minimum(q, 1.0)
    pt_weeks = np.where(q > 1, np.minimum(39, np.round(10 * q)), rng.integers(4, 17, n))
    pt_start = (rng.random(n) * np.maximum(1, Dfull - pt_weeks * 5)).astype(np.int64)
    sel = rows[has_pt]
    ev.append(Events.ranges(sel, pt_start[has_pt], (pt_weeks * 5)[has_pt], 1, PT, D))
    # -- religious observance (R): two festival days a year
    fest = np.sort(rng.choice(np.flatnonzero(ok_day), size=2, replace=False))
    eth = sy.rows["ethnicity"].to_numpy().astype(str)
    obs = np.where(np.isin(np.char.ljust(eth, 1).astype("U1"), _OBSERVANT), 1.0, 0.06)
    take = np.minimum(1.0, rr["R"] / 100 * 2 * Dfull / 4 / max(np.mean(obs), 1e-9) * obs) \
        if n else obs
    for fd in fest:
        go = rows[rng.random(n) < take]
        ev.append(Events(go, np.full(len(go), fd), np.full(len(go), 2, np.int8),
                          np.full(len(go), REL, np.int8)))
    # -- travelling families (T): a block in the summer term
    trav = sy.rows["traveller"].to_numpy() & (rng.random(n) < 0.5)
    t_len = rng.integers(10, 26, n)
    h5 = int(np.flatnonzero(cal.half_term == 5)[0])
    t_start = rng.integers(h5, max(h5 + 1, Dfull - 10), n)
    ev.append(Events.ranges(rows[trav], t_start[trav], t_len[trav], 2, TRAV, D))
    # -- study leave (S) and interviews (J / J1) for Year 11
    y11 = rows[yg == 11]
    if len(y11) and rr["S"] > 0 and rng.random() < 0.6:
        exam = np.flatnonzero((cal.days >= np.datetime64(f"{sy.year + 1}-05-12"))
                              & (cal.days <= np.datetime64(f"{sy.year + 1}-06-27")))
        share_y11 = max((yg == 11).mean(), 1e-9)
        prob = min(0.5, rr["S"] / 100 / share_y11 * Dfull / max(len(exam), 1) / 0.6)
        hit = rng.random((len(y11), len(exam))) < prob
        r_, d_ = np.nonzero(hit)
        ev.append(Events(y11[r_], exam[d_], np.full(len(r_), 2, np.int8),
                          np.full(len(r_), STUDY, np.int8)))
    if len(y11) and rr["J"] > 0:
        share_y11 = max((yg == 11).mean(), 1e-9)
        k = rng.poisson(rr["J"] / 100 * 2 * Dfull / share_y11, len(y11))
        r_ = np.repeat(y11, np.minimum(k, 4))
        h3 = np.flatnonzero((cal.half_term == 3) | (cal.half_term == 4))
        ev.append(Events(r_, rng.choice(h3, len(r_)), rng.integers(0, 2, len(r_)).astype(
            np.int8), np.full(len(r_), INTV, np.int8)))
    # -- pupils who leave during the year are often missing for a while before they are
    #    taken off roll (enquiries before deletion): a run of O / N / G before leaving
    # keyed on the real leaving day (``leave``), not the as-of cut (``last``): in the as-of year
    # every enrolment ends at the as-of date, but only real leavers go missing first
    leaves = (sy.leave < Dfull - 1) & (yg < 11) & (rng.random(n) < cfg.ghost_share)
    g_len = np.minimum(rng.integers(5, 21, n), sy.leave - sy.first + 1)
    g_code = rng.choice(np.array([OTH, NRY, GHOL], np.int8), size=n, p=[0.7, 0.15, 0.15])
    for c in (OTH, NRY, GHOL):
        sel = leaves & (g_code == c)
        ev.append(Events.ranges(rows[sel], (sy.leave - g_len + 1)[sel], g_len[sel], 2, c,
                                 D))
    # -- INSET days and the odd snow day
    for d in inset:
        ev.append(Events(rows, np.full(n, d), np.full(n, 2, np.int8),
                          np.full(n, INSET, np.int8)))
    if rng.random() < 0.04:
        winter = np.flatnonzero((cal.half_term == 2) | (cal.half_term == 3))
        d = int(rng.choice(winter))
        if d not in inset:
            ev.append(Events(rows, np.full(n, d), np.full(n, 2, np.int8),
                              np.full(n, CLOSED, np.int8)))
    allev = Events.concat(ev)
    allev = allev.take(allev.day < D)
    return allev.take(np.argsort(allev.row, kind="stable")), inset

