"""The session-mark generator: one school's pupils over one academic year, vectorised.

:class:`SchoolYear` turns pupil-years (:mod:`.propensity`) into an ``(pupils, days, 2)`` array of
register codes with no per-mark Python loop. Random numbers are drawn once, up front, from the
school-year's own generator; :meth:`SchoolYear.codes` is then a pure function of those draws and a
daily *effect* multiplier per pupil. Calling it again for some pupils with a different effect
(no intervention) re-uses the same draws: common random numbers, so the difference between the
two runs is the causal effect of the intervention and nothing else.

What produces the marks (rates per phase from :mod:`.config`):

* **spells of whole-day absence** (illness ``I``, other unauthorised ``O``, other authorised
  leave ``C``, suspension ``E``, no reason yet ``N``): a daily onset hazard per pupil (expected
  rate of that reason / mean spell length, corrected for overlap), times a seasonal and weekday
  profile (winter illness peak; Mondays and Fridays; late summer term; a quiet first week),
  times the pupil's trajectory and any intervention; spell lengths are geometric with a mean that
  grows with the pupil's absence level; spells stop at holidays;
* **single sessions**: medical appointments ``M``, late after registers closed ``U`` (mornings),
  sent home ill (``I`` afternoons), Friday-afternoon and other half-day ``O``; late before
  registers closed ``L`` (present) on mornings;
* **episodes**: term-time holidays next to a break (``G`` unauthorised; agreed ``H`` before
  2024, ``C`` after), part-time timetables (afternoons; ``C2`` from 2024, ``C`` before),
  religious festivals ``R``, study leave ``S`` for Year 11 in the exam season, travelling
  families ``T``, interviews (``J`` approved activity before 2024, ``J1`` leave after);
* **approved educational activity**: trips ``V`` by year group (Year 6 residential), sport
  ``P``, off-site / alternative provision ``B`` and LA-arranged education ``K`` (``B`` before
  2024), Year 10 work experience ``W``;
* **closures**: the school's INSET days ``#``; now and then a snow day (``Y`` before 2024,
  ``Y4`` after).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import REASONS, SynthConfig
from .propensity import MixConstants, logit, sigmoid
from .term_dates import YearCalendar, inset_days

__all__ = ["CODE_LABELS", "code_labels", "SchoolYear", "ABSENT", "UNAUTHORISED", "POSSIBLE",
           "N_CODES"]

# internal code ids
(PRES_AM, PRES_PM, LATE, ILL, MED, OTH, GHOL, AHOL, COTH, PT, EXC, NRY, ULATE, REL, STUDY,
 TRAV, INTV, TRIP, SPORT, OFFS, WORK, LAED, INSET, CLOSED) = range(24)
N_CODES = 24
CODE_LABELS = {
    "2006": ("/", "\\", "L", "I", "M", "O", "G", "H", "C", "C", "E", "N", "U", "R", "S", "T",
             "J", "V", "P", "B", "W", "B", "#", "Y"),
    "2024": ("/", "\\", "L", "I", "M", "O", "G", "C", "C", "C2", "E", "N", "U", "R", "S", "T",
             "J1", "V", "P", "B", "W", "K", "#", "Y4"),
}
_ABS_2006 = np.zeros(N_CODES, bool)
_ABS_2006[ILL:TRAV + 1] = True
_ABS_2024 = _ABS_2006.copy()
_ABS_2024[INTV] = True
ABSENT = {"2006": _ABS_2006, "2024": _ABS_2024}
UNAUTHORISED = np.zeros(N_CODES, bool)
UNAUTHORISED[[OTH, GHOL, NRY, ULATE]] = True
POSSIBLE = np.ones(N_CODES, bool)
POSSIBLE[[INSET, CLOSED]] = False

_DAY_CATS = ("I", "O", "C", "E", "N")
_DAY_CODE = np.array([ILL, OTH, COTH, EXC, NRY], np.int8)
_SES_CATS = ("I", "O", "C", "N", "M", "U")  # first four: half-day parts of day reasons
_SES_CODE = np.array([ILL, OTH, COTH, NRY, MED, ULATE], np.int8)
_RI = {k: i for i, k in enumerate(REASONS)}
_HOL_BREAKS = ("september", "october", "christmas", "february", "easter", "may", "summer")
_HOL_WEIGHTS = np.array([0.04, 0.14, 0.18, 0.13, 0.17, 0.14, 0.20])
_HOL_LEN = np.array([2, 3, 4, 5, 7, 10])
_HOL_LEN_P = np.array([0.10, 0.15, 0.15, 0.35, 0.10, 0.15])
_MAX_HOL = 3
_OBSERVANT = ("A", "B", "M", "O", "R", "C")  # ethnicity code initials with higher observance


def code_labels(academic_year: int) -> tuple[str, ...]:
    """Register code of each internal code id in the code set of ``academic_year``."""
    return CODE_LABELS["2024" if academic_year >= 2024 else "2006"]


def _norm(x: np.ndarray) -> np.ndarray:
    m = x.mean()
    return x / m if m > 0 else x


@dataclass
class _Events:
    """Marks fixed before simulation: rows, day indices, session (0 AM, 1 PM, 2 both), code."""

    row: np.ndarray
    day: np.ndarray
    ses: np.ndarray
    code: np.ndarray

    @staticmethod
    def concat(parts: list[_Events]) -> _Events:
        parts = [p for p in parts if len(p.row)]
        if not parts:
            z = np.zeros(0, np.int64)
            return _Events(z, z, z.astype(np.int8), z.astype(np.int8))
        return _Events(*(np.concatenate([getattr(p, f) for p in parts])
                         for f in ("row", "day", "ses", "code")))

    @staticmethod
    def ranges(row, start, length, ses, code, n_days) -> _Events:
        """Events for runs of consecutive days ``start .. start+length-1`` per row."""
        length = np.asarray(length, np.int64)
        if len(length) == 0 or length.sum() == 0:
            return _Events.concat([])
        r = np.repeat(row, length)
        offs = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
        d = np.repeat(start, length) + offs
        ok = (d >= 0) & (d < n_days)
        return _Events(r[ok], d[ok], np.repeat(np.asarray(ses, np.int8) * np.ones(len(row),
                                                                                  np.int8),
                                                length)[ok],
                       np.repeat(np.asarray(code, np.int8) * np.ones(len(row), np.int8),
                                 length)[ok])

    def take(self, mask) -> _Events:
        return _Events(self.row[mask], self.day[mask], self.ses[mask], self.code[mask])


class SchoolYear:
    """One school's register for one academic year, ready to be simulated.

    Parameters
    ----------
    rows : DataFrame
        Pupil-years at this school this year (:func:`.propensity.pupil_years` rows, plus pupil
        columns ``ethnicity``, ``traveller``), in output order.
    cal : YearCalendar
    n_days : int
        Term days simulated (fewer than ``cal.n_days`` in the as-of year).
    school : namedtuple-like with ``phase``
    cfg, mix : the configuration and the year's reason-mix constants
    rng : numpy Generator of this school-year
    """

    def __init__(self, rows: pd.DataFrame, cal: YearCalendar, n_days: int, phase: str,
                 cfg: SynthConfig, mix: MixConstants, rng: np.random.Generator,
                 as_of_index: int | None = None):
        self.rows = rows
        self.cal = cal
        self.D = n_days
        self.phase = phase
        self.cfg = cfg
        self.year = int(cal.academic_year)
        self.labels = code_labels(self.year)
        self.absent_lut = ABSENT["2024" if self.year >= 2024 else "2006"]
        self.n = n = len(rows)
        D, Dfull = n_days, cal.n_days
        self.first = rows["first_day"].to_numpy(np.int64)
        self.last = rows["last_day"].to_numpy(np.int64)
        p = rows["p"].to_numpy()
        self.p = p
        e = mix.mix(phase, self.year, p)  # n x K shares of sessions
        self.e = e
        p_ref = mix.p_ref[(phase, self.year)]
        # --- trajectory: logit rises after onset for deteriorating pupils ----------------------
        t = np.arange(D)
        onset = rows["det_onset"].to_numpy()
        slope = rows["det_slope"].to_numpy()
        rise = np.clip((t[None, :] - onset[:, None]) / 5.0, 0, None) * slope[:, None]
        rise = np.minimum(rise, cfg.deteriorate_cap) * (onset[:, None] >= 0)
        lp = rows["logit_p"].to_numpy()
        self.traj = (sigmoid(lp[:, None] + rise) / p[:, None]).astype(np.float32)
        # --- day profiles (mean 1 over the whole year) -------------------------------------------
        days = cal.days
        doy = (days - days.astype("datetime64[Y]")).astype(np.int64)
        wd = cal.weekday.astype(np.int64)
        first_week = np.arange(Dfull) < 5
        late_summer = np.arange(Dfull) >= Dfull - 15
        season = 1 + cfg.illness_season * np.cos(2 * np.pi * (doy - 15) / 365.25)
        ill = season * np.array(cfg.dow_illness)[wd] * np.where(first_week, cfg.first_week, 1)
        oth = (np.array(cfg.dow_unauthorised)[wd] * np.where(late_summer, cfg.late_summer, 1)
               * np.where(first_week, cfg.first_week, 1))
        flat = np.ones(Dfull)
        exc = np.where(first_week, 0.2, 1.0)
        self.b_day = np.stack([_norm(ill), _norm(oth), _norm(flat * np.where(wd == 4, 1.1, 1.0)),
                               _norm(exc), _norm(flat)])[:, :D].astype(np.float32)
        fri = (wd == 4)
        am_pm = {
            "I": (ill * 0.3, ill * 1.7),
            "O": (oth * 0.6, oth * 1.4 * np.where(fri, cfg.friday_pm, 1.0)),
            "C": (flat, flat),
            "N": (flat, flat),
            "M": (flat * 1.1 * np.where(doy > 180, 1.0, 1.0), flat * 0.9),
            "U": (season * np.where(wd == 0, 1.2, 1.0) * 1.9, season * 0.1),
        }
        b_ses = []
        for k in _SES_CATS:
            am, pm = am_pm[k]
            both = np.stack([am, pm], axis=1)  # Dfull x 2
            b_ses.append((both / both.mean())[:D])
        self.b_ses = np.stack(b_ses).astype(np.float32)  # K2 x D x 2
        # --- per-pupil hazard scales ----------------------------------------------------------------
        half = np.array([cfg.half_day_share[k] for k in _DAY_CATS])
        e_day = np.stack([e[:, _RI[k]] for k in _DAY_CATS], axis=1) * (1 - half)
        e_half = np.stack([e[:, _RI[k]] for k in _DAY_CATS[:4]], axis=1) * (1 - 0) * half[:4]
        growth = np.clip(p / p_ref, 0.2, 50.0) ** cfg.spell_growth
        L0 = np.array([cfg.spell_days[k] for k in _DAY_CATS])
        self.L = np.minimum(1.0 + (L0[None, :] - 1.0) * growth[:, None], 25.0)
        self.L[:, 3] = L0[3]  # suspensions do not lengthen with absence level
        cover = np.minimum(e_day.sum(axis=1), 0.95)
        corr = np.where(cover > 1e-9, -np.log1p(-cover) / np.maximum(cover, 1e-9), 1.0)
        self.a_day = (e_day / self.L * corr[:, None]).astype(np.float32)
        self.a_ses = np.concatenate([e_half, e[:, [_RI["M"]]], e[:, [_RI["U"]]]],
                                    axis=1).astype(np.float32)
        self.late = mix.late_rate(phase, self.year, p)
        self._draw(rng, as_of_index)

    # -- random draws (all of them, once) --------------------------------------------------------
    def _draw(self, rng: np.random.Generator, as_of_index: int | None) -> None:
        n, D, cal, cfg = self.n, self.D, self.cal, self.cfg
        Dfull = cal.n_days
        f32 = np.float32
        self.u_on = rng.random((n, D), dtype=f32)
        self.u_cat = rng.random((n, D), dtype=f32)
        self.u_dur = rng.random((n, D), dtype=f32)
        self.u_ses = rng.random((n, D, 2), dtype=f32)
        self.u_cat2 = rng.random((n, D, 2), dtype=f32)
        self.u_late = rng.random((n, D), dtype=f32)
        # N (no reason yet) for absences in the last days before the as-of date
        self.as_of_index = as_of_index
        self.u_n = rng.random((n, 6, 2), dtype=f32)
        rows = np.arange(n)
        e = self.e
        # holidays: potential episodes, kept unless an intervention thins them out
        hol = e[:, _RI["G"]] + e[:, _RI["HOL"]]
        lam = hol * Dfull / float((_HOL_LEN * _HOL_LEN_P).sum())
        count = np.minimum(rng.poisson(lam), _MAX_HOL)
        brk = rng.choice(len(_HOL_BREAKS), size=(n, _MAX_HOL), p=_HOL_WEIGHTS)
        length = _HOL_LEN[rng.choice(len(_HOL_LEN), size=(n, _MAX_HOL), p=_HOL_LEN_P)]
        before = rng.random((n, _MAX_HOL)) < 0.55
        auth = rng.random((n, _MAX_HOL)) < (e[:, _RI["HOL"]] / np.maximum(hol, 1e-12))[:, None]
        edges = {name: (b, a) for name, b, a in cal.break_edges()}
        edges["september"] = (-1, 0)
        last_before = np.array([edges[b][0] for b in _HOL_BREAKS])[brk]
        first_after = np.array([edges[b][1] for b in _HOL_BREAKS])[brk]
        before = np.where(brk == 0, False, np.where(brk == len(_HOL_BREAKS) - 1, True, before))
        start = np.where(before, last_before - length + 1, first_after)
        exists = np.arange(_MAX_HOL)[None, :] < count[:, None]
        r, j = np.nonzero(exists)
        self.hol_row, self.hol_start, self.hol_len = r, start[r, j], length[r, j]
        self.hol_code = np.where(auth[r, j], AHOL, GHOL).astype(np.int8)
        self.hol_keep = rng.random(len(r), dtype=f32)
        self.static = self._static_events(rng)

    def _static_events(self, rng: np.random.Generator) -> _Events:
        """Marks that no intervention changes: AEA, episodes, INSET, closures, lateness."""
        n, D, cal, cfg, e = self.n, self.D, self.cal, self.cfg, self.e
        Dfull = cal.n_days
        ph = self.phase
        yg = self.rows["year_group"].to_numpy()
        rows = np.arange(n)
        aea = cfg.aea_rates[ph]
        rr = cfg.reason_rates[ph]
        ev: list[_Events] = []
        ok_day = np.ones(Dfull, bool)
        inset = inset_days(cal, rng)
        ok_day[inset] = False
        ok_day[:3] = False
        # -- lateness (L, present): mornings
        p_late = np.minimum(0.9, 2 * self.late[:, None] * self.traj) if n else np.zeros((0, D))
        lr, ld = np.nonzero(self.u_late < p_late)
        ev.append(_Events(lr, ld, np.zeros(len(lr), np.int8), np.full(len(lr), LATE, np.int8)))
        # -- trips (V): day trips by year group, Year 6 residential
        part = {"primary": 0.85, "secondary": 0.3, "special": 0.8}[ph]
        target_days = aea["V"] / 100 * (Dfull - 5)
        res_days = 0.0
        if ph == "primary" and rng.random() < 0.7:
            start = int(rng.integers(int(np.flatnonzero(cal.half_term == 5)[0]),
                                     Dfull - 10))
            sel = rows[(yg == 6) & (rng.random(n) < 0.8)]
            ev.append(_Events.ranges(sel, np.full(len(sel), start), np.full(len(sel), 4), 2,
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
                ev.append(_Events(go, np.full(len(go), td), np.full(len(go), 2, np.int8),
                                  np.full(len(go), TRIP, np.int8)))
        # -- sport (P): some pupils, afternoons
        sporty = rng.random(n) < 0.2
        k_sport = rng.poisson(aea["P"] / 100 * 2 * Dfull / 0.2, n) * sporty
        k_sport = np.minimum(k_sport, 12)
        r = np.repeat(rows, k_sport)
        ev.append(_Events(r, rng.integers(0, Dfull, len(r)), np.ones(len(r), np.int8),
                          np.full(len(r), SPORT, np.int8)))
        # -- alternative provision / off-site (B) and LA-arranged education (K)
        ap_rate = (aea["B"] + aea["K"]) / 100  # share of sessions
        weight = (self.p / np.mean(self.p)) ** 1.5 if n else self.p
        weeks = rng.integers(6, 31, n)
        per_week = rng.integers(2, 5, n)
        sessions = weeks * per_week
        prob = np.minimum(1.0, ap_rate * 2 * Dfull * weight / np.mean(sessions) * 0.5) \
            if n else weight
        on_ap = rng.random(n) < prob
        k_share = aea["K"] / max(aea["B"] + aea["K"], 1e-9)
        code_ap = np.where(rng.random(n) < k_share, LAED, OFFS).astype(np.int8)
        if self.year < 2024:
            code_ap[:] = OFFS
        start = rng.integers(0, max(1, Dfull - 30), n)
        for i in np.flatnonzero(on_ap):
            dd = np.arange(start[i], min(Dfull, start[i] + weeks[i] * 5))
            wd_pick = rng.choice(5, size=min(5, int(np.ceil(per_week[i] / 2))), replace=False)
            dd = dd[np.isin(self.cal.weekday[dd], wd_pick)]
            ev.append(_Events(np.full(len(dd), i), dd, np.full(len(dd), 2, np.int8),
                              np.full(len(dd), code_ap[i], np.int8)))
        # -- work experience (W): Year 10, one week in the second summer half-term
        if ph in ("secondary", "special") and aea["W"] > 0:
            h6 = np.flatnonzero(cal.half_term == 6)
            wk_start = int(rng.choice(h6[:max(1, len(h6) - 10)]))
            y10 = rows[yg == 10]
            share_y10 = max((yg == 10).mean(), 1e-9) if n else 1.0
            part_w = min(0.9, aea["W"] / 100 * (Dfull - 5) / 5 / share_y10) if n else 0
            go = y10[rng.random(len(y10)) < part_w]
            ev.append(_Events.ranges(go, np.full(len(go), wk_start), np.full(len(go), 5), 2,
                                     WORK, D))
        # -- part-time timetables (C2 / C): afternoons for some weeks
        pt_sessions = e[:, _RI["PT"]] * 2 * Dfull
        q = pt_sessions / 50.0
        has_pt = rng.random(n) < np.minimum(q, 1.0)
        pt_weeks = np.where(q > 1, np.minimum(39, np.round(10 * q)), rng.integers(4, 17, n))
        pt_start = (rng.random(n) * np.maximum(1, Dfull - pt_weeks * 5)).astype(np.int64)
        sel = rows[has_pt]
        ev.append(_Events.ranges(sel, pt_start[has_pt], (pt_weeks * 5)[has_pt], 1, PT, D))
        # -- religious observance (R): two festival days a year
        fest = np.sort(rng.choice(np.flatnonzero(ok_day), size=2, replace=False))
        eth = self.rows["ethnicity"].to_numpy().astype(str)
        obs = np.where(np.isin(np.char.ljust(eth, 1).astype("U1"), _OBSERVANT), 1.0, 0.06)
        take = np.minimum(1.0, rr["R"] / 100 * 2 * Dfull / 4 / max(np.mean(obs), 1e-9) * obs) \
            if n else obs
        for fd in fest:
            go = rows[rng.random(n) < take]
            ev.append(_Events(go, np.full(len(go), fd), np.full(len(go), 2, np.int8),
                              np.full(len(go), REL, np.int8)))
        # -- travelling families (T): a block in the summer term
        trav = self.rows["traveller"].to_numpy() & (rng.random(n) < 0.5)
        t_len = rng.integers(10, 26, n)
        h5 = int(np.flatnonzero(cal.half_term == 5)[0])
        t_start = rng.integers(h5, max(h5 + 1, Dfull - 10), n)
        ev.append(_Events.ranges(rows[trav], t_start[trav], t_len[trav], 2, TRAV, D))
        # -- study leave (S) and interviews (J / J1) for Year 11
        y11 = rows[yg == 11]
        if len(y11) and rr["S"] > 0 and rng.random() < 0.6:
            exam = np.flatnonzero((cal.days >= np.datetime64(f"{self.year + 1}-05-12"))
                                  & (cal.days <= np.datetime64(f"{self.year + 1}-06-27")))
            share_y11 = max((yg == 11).mean(), 1e-9)
            prob = min(0.5, rr["S"] / 100 / share_y11 * Dfull / max(len(exam), 1) / 0.6)
            hit = rng.random((len(y11), len(exam))) < prob
            r_, d_ = np.nonzero(hit)
            ev.append(_Events(y11[r_], exam[d_], np.full(len(r_), 2, np.int8),
                              np.full(len(r_), STUDY, np.int8)))
        if len(y11) and rr["J"] > 0:
            share_y11 = max((yg == 11).mean(), 1e-9)
            k = rng.poisson(rr["J"] / 100 * 2 * Dfull / share_y11, len(y11))
            r_ = np.repeat(y11, np.minimum(k, 4))
            h3 = np.flatnonzero((cal.half_term == 3) | (cal.half_term == 4))
            ev.append(_Events(r_, rng.choice(h3, len(r_)), rng.integers(0, 2, len(r_)).astype(
                np.int8), np.full(len(r_), INTV, np.int8)))
        # -- INSET days and the odd snow day
        for d in inset:
            ev.append(_Events(rows, np.full(n, d), np.full(n, 2, np.int8),
                              np.full(n, INSET, np.int8)))
        if rng.random() < 0.04:
            winter = np.flatnonzero((cal.half_term == 2) | (cal.half_term == 3))
            d = int(rng.choice(winter))
            if d not in inset:
                ev.append(_Events(rows, np.full(n, d), np.full(n, 2, np.int8),
                                  np.full(n, CLOSED, np.int8)))
        allev = _Events.concat(ev)
        keep = allev.day < D
        self.inset = inset
        return allev.take(keep)

    # -- simulation ----------------------------------------------------------------------------
    def codes(self, rows: np.ndarray | None = None, eff: np.ndarray | None = None
              ) -> np.ndarray:
        """Register codes (internal ids) for ``rows`` (default all) under effect ``eff``.

        ``eff`` is a ``(len(rows), n_days)`` multiplier on absence hazards (1 = no
        intervention). Cells where the pupil is not on roll hold -1.
        """
        if rows is None:
            rows = np.arange(self.n)
        rows = np.asarray(rows, np.int64)
        m, D = len(rows), self.D
        if eff is None:
            eff = np.ones((m, D), np.float32)
        mult = self.traj[rows] * eff
        out = np.empty((m, D, 2), np.int8)
        out[:, :, 0] = PRES_AM
        out[:, :, 1] = PRES_PM
        st = self.static
        sel = np.isin(st.row, rows)
        pos = np.searchsorted(rows, st.row[sel]) if _sorted(rows) else _positions(rows,
                                                                                 st.row[sel])
        static = _Events(pos, st.day[sel], st.ses[sel], st.code[sel])
        early = np.isin(static.code, [LATE, TRIP, SPORT, OFFS, LAED, WORK])
        _paint(out, static.take(early))
        # single sessions
        h2 = np.einsum("nk,kds->nds", self.a_ses[rows], self.b_ses) * mult[:, :, None]
        ev = self.u_ses[rows] < h2
        r, d, s = np.nonzero(ev)
        if len(r):
            w = self.a_ses[rows][r] * self.b_ses[:, d, s].T
            cw = np.cumsum(w, axis=1)
            k = (self.u_cat2[rows][r, d, s][:, None] * cw[:, -1:] > cw).sum(axis=1)
            out[r, d, s] = _SES_CODE[np.minimum(k, len(_SES_CODE) - 1)]
        _paint(out, static.take(static.code == PT))
        # spells of whole days
        h = (self.a_day[rows] @ self.b_day) * mult
        onset = self.u_on[rows] < -np.expm1(-h)
        r, d = np.nonzero(onset)
        if len(r):
            w = self.a_day[rows][r] * self.b_day[:, d].T
            cw = np.cumsum(w, axis=1)
            k = (self.u_cat[rows][r, d][:, None] * cw[:, -1:] > cw).sum(axis=1)
            k = np.minimum(k, len(_DAY_CODE) - 1)
            L = self.L[rows][r, k]
            u = np.clip(self.u_dur[rows][r, d], 1e-7, 1 - 1e-7)
            dur = np.where(L > 1.0001, 1 + np.floor(np.log(u) / np.log1p(-1.0 / L)), 1)
            dur = np.minimum(dur, 60).astype(np.int64)
            end = np.zeros((m, D), np.int32)
            code_at = np.zeros((m, D), np.int8)
            end[r, d] = ((d + dur) << 9) | d
            code_at[r, d] = _DAY_CODE[k]
            ht = self.cal.half_term[:D]
            for h_ in np.unique(ht):
                seg = np.flatnonzero(ht == h_)
                a, b = seg[0], seg[-1] + 1
                run = np.maximum.accumulate(end[:, a:b], axis=1)
                src = run & 511
                covered = (run >> 9) > np.arange(a, b)[None, :]
                rr, dd = np.nonzero(covered)
                c = code_at[rr, src[rr, dd]]
                out[rr, dd + a, 0] = c
                out[rr, dd + a, 1] = c
        _paint(out, static.take(np.isin(static.code, [REL, STUDY, TRAV, INTV])))
        # holidays (thinned by the intervention effect at their first day)
        hs = np.isin(self.hol_row, rows)
        if hs.any():
            hr = _positions(rows, self.hol_row[hs])
            start = self.hol_start[hs]
            first_ok = np.clip(start, 0, D - 1)
            keep = self.hol_keep[hs] < eff[hr, first_ok]
            keep &= start < D
            ev_h = _Events.ranges(hr[keep], start[keep], self.hol_len[hs][keep], 2, 0, D)
            code = np.repeat(self.hol_code[hs][keep], self.hol_len[hs][keep])
            inside = (np.repeat(start[keep], self.hol_len[hs][keep])
                      + (np.arange(len(code)) - np.repeat(np.cumsum(self.hol_len[hs][keep])
                                                          - self.hol_len[hs][keep],
                                                          self.hol_len[hs][keep])))
            ok = (inside >= 0) & (inside < D)
            ev_h.code = code[ok]
            _paint(out, ev_h)
        _paint(out, static.take(np.isin(static.code, [INSET, CLOSED])))
        # no reason yet (N) for recent absences before the as-of date
        if self.as_of_index is not None:
            for back in range(6):
                dd = self.as_of_index - back
                if dd < 0 or dd >= D:
                    continue
                prob = (0.85, 0.6, 0.35, 0.2, 0.1, 0.05)[back]
                for s_ in (0, 1):
                    col = out[:, dd, s_]
                    conv = np.isin(col, [ILL, OTH, COTH]) & (self.u_n[rows, back, s_] < prob)
                    col[conv] = NRY
        # not on roll
        t = np.arange(D)
        off = (t[None, :] < self.first[rows][:, None]) | (t[None, :] > self.last[rows][:, None])
        out[off] = -1
        return out


def _sorted(a: np.ndarray) -> bool:
    return len(a) < 2 or bool((np.diff(a) > 0).all())


def _positions(rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position in ``rows`` of each value (values must all be in rows)."""
    order = np.argsort(rows, kind="stable")
    return order[np.searchsorted(rows[order], values)]


def _paint(out: np.ndarray, ev: _Events) -> None:
    if not len(ev.row):
        return
    both = ev.ses == 2
    for s in (0, 1):
        m = both | (ev.ses == s)
        out[ev.row[m], ev.day[m], s] = ev.code[m]
