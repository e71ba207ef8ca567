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
* **leavers**: half of the pupils who leave during the year are missing for 1-4 weeks
  before they come off roll (``O``, some ``N`` or ``G``), as schools make enquiries first;
* **closures**: the school's INSET days ``#``; now and then a snow day (``Y`` before 2024,
  ``Y4`` after).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import REASONS, SynthConfig
from .episodes import Events, static_events
from .propensity import MixConstants, sigmoid
from .register_codes import (
    ABSENT,
    AHOL,
    CLOSED,
    CODE_LABELS,
    COTH,
    EXC,
    GHOL,
    ILL,
    INSET,
    INTV,
    LAED,
    LATE,
    MED,
    N_CODES,
    NRY,
    OFFS,
    OTH,
    POSSIBLE,
    PRES_AM,
    PRES_PM,
    PT,
    REL,
    SPORT,
    STUDY,
    TRAV,
    TRIP,
    ULATE,
    UNAUTHORISED,
    WORK,
    code_labels,
)
from .term_dates import YearCalendar

__all__ = ["CODE_LABELS", "code_labels", "SchoolYear", "ABSENT", "UNAUTHORISED", "POSSIBLE",
           "N_CODES"]

_DAY_CATS = ("I", "O", "C", "E", "N")
_DAY_CODE = np.array([ILL, OTH, COTH, EXC, NRY], np.int8)
_SES_CATS = ("I", "O", "C", "N", "M", "U")  # first four: half-day parts of day reasons
_SES_CODE = np.array([ILL, OTH, COTH, NRY, MED, ULATE], np.int8)
_RI = {k: i for i, k in enumerate(REASONS)}
_HOL_BREAKS = ("september", "october", "christmas", "february", "easter", "may", "summer")
_HOL_WEIGHTS = np.array([0.10, 0.13, 0.17, 0.12, 0.16, 0.13, 0.19])
_HOL_LEN = np.array([2, 3, 4, 5, 7, 10])
_HOL_LEN_P = np.array([0.10, 0.15, 0.15, 0.35, 0.10, 0.15])
_MAX_HOL = 3


def _norm(x: np.ndarray) -> np.ndarray:
    m = x.mean()
    return x / m if m > 0 else x


class SchoolYear:
    """One school's register for one academic year, ready to be simulated.

    Parameters
    ----------
    rows : DataFrame
        Pupil-years at this school this year (:func:`.propensity.pupil_years` rows, plus pupil
        columns ``pid, ethnicity, traveller, fsm, sen, social_worker``), in output order.
    cal : YearCalendar
    n_days : int
        Term days simulated (fewer than ``cal.n_days`` in the as-of year).
    phase : the school's phase
    cfg, mix : the configuration and the reason-mix constants
    rng : numpy Generator of this school-year (all draws are made in the constructor)
    as_of_index : in the as-of year, the last simulated day (recent absences may still be N)
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
        self.n = len(rows)
        D, Dfull = n_days, cal.n_days
        self.first = rows["first_day"].to_numpy(np.int64)
        self.last = rows["last_day"].to_numpy(np.int64)
        self.leave = rows["leave_day"].to_numpy(np.int64)
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
        e_half = np.stack([e[:, _RI[k]] for k in _DAY_CATS[:4]], axis=1) * half[:4]
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
        n, D, cal = self.n, self.D, self.cal
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
        self.static, self.inset = static_events(self, rng)

    # -- simulation ----------------------------------------------------------------------------
    def codes(self, rows: np.ndarray | None = None, eff: np.ndarray | None = None
              ) -> np.ndarray:
        """Register codes (internal ids) for ``rows`` (default all) under effect ``eff``.

        ``rows`` must be sorted and distinct. ``eff`` is a ``(len(rows), n_days)`` multiplier
        on absence hazards (1 = no intervention). Cells where the pupil is not on roll hold -1.
        """
        every = rows is None
        if every:
            rows = np.arange(self.n)

            def pick(a):
                return a
        else:
            rows = np.asarray(rows, np.int64)

            def pick(a):
                return a[rows]
        m, D = len(rows), self.D
        if eff is None:
            eff = np.ones((m, D), np.float32)
        mult = pick(self.traj) * eff
        out = np.empty((m, D, 2), np.int8)
        out[:, :, 0] = PRES_AM
        out[:, :, 1] = PRES_PM
        static = self._static_for(rows, every)
        early = np.isin(static.code, [LATE, TRIP, SPORT, OFFS, LAED, WORK])
        _paint(out, static.take(early))
        # single sessions
        a_ses = pick(self.a_ses)
        h2 = _combine(a_ses, self.b_ses) * mult[:, :, None]
        r, d, s = np.nonzero(pick(self.u_ses) < h2)
        if len(r):
            w = a_ses[r] * self.b_ses[:, d, s].T
            cw = np.cumsum(w, axis=1)
            k = (pick(self.u_cat2)[r, d, s][:, None] * cw[:, -1:] > cw).sum(axis=1)
            out[r, d, s] = _SES_CODE[np.minimum(k, len(_SES_CODE) - 1)]
        _paint(out, static.take(static.code == PT))
        # spells of whole days
        a_day = pick(self.a_day)
        h = _combine(a_day, self.b_day) * mult
        r, d = np.nonzero(pick(self.u_on) < -np.expm1(-h))
        if len(r):
            w = a_day[r] * self.b_day[:, d].T
            cw = np.cumsum(w, axis=1)
            k = (pick(self.u_cat)[r, d][:, None] * cw[:, -1:] > cw).sum(axis=1)
            k = np.minimum(k, len(_DAY_CODE) - 1)
            L = pick(self.L)[r, k]
            u = np.clip(pick(self.u_dur)[r, d], 1e-7, 1 - 1e-7)
            dur = np.where(L > 1.0001, 1 + np.floor(np.log(u) / np.log1p(-1.0 / L)), 1)
            dur = np.minimum(dur, 60).astype(np.int64)
            end = np.zeros((m, D), np.int32)
            code_at = np.zeros((m, D), np.int8)
            end[r, d] = ((d + dur) << 9) | d
            code_at[r, d] = _DAY_CODE[k]
            for a, b in self._segments:
                run = np.maximum.accumulate(end[:, a:b], axis=1)
                covered = (run >> 9) > np.arange(a, b)[None, :]
                rr, dd = np.nonzero(covered)
                c = code_at[rr, run[rr, dd] & 511]
                out[rr, dd + a, 0] = c
                out[rr, dd + a, 1] = c
        _paint(out, static.take(np.isin(static.code, [REL, STUDY, TRAV, INTV])))
        # runs of absence before an in-year leaving date (the only static O / N / G marks)
        _paint(out, static.take(np.isin(static.code, [OTH, NRY, GHOL])))
        # holidays (thinned by the intervention effect at their first day)
        if every:
            hs = np.arange(len(self.hol_row))
            hr = self.hol_row
        else:
            hs = _rows_index(self.hol_row, rows)
            hr = np.searchsorted(rows, self.hol_row[hs])
        if len(hs):
            start = self.hol_start[hs]
            length = self.hol_len[hs]
            keep = (self.hol_keep[hs] < eff[hr, np.clip(start, 0, D - 1)]) & (start < D)
            ev_h = Events.ranges(hr[keep], start[keep], length[keep], 2, 0, D)
            code = np.repeat(self.hol_code[hs][keep], length[keep])
            inside = (np.repeat(start[keep], length[keep])
                      + np.arange(len(code)) - np.repeat(np.cumsum(length[keep])
                                                         - length[keep], length[keep]))
            ev_h.code = code[(inside >= 0) & (inside < D)]
            _paint(out, ev_h)
        _paint(out, static.take(np.isin(static.code, [INSET, CLOSED])))
        # no reason yet (N) for recent absences before the as-of date
        if self.as_of_index is not None:
            u_n = pick(self.u_n)
            for back in range(6):
                dd = self.as_of_index - back
                if dd < 0 or dd >= D:
                    continue
                prob = (0.85, 0.6, 0.35, 0.2, 0.1, 0.05)[back]
                for s_ in (0, 1):
                    col = out[:, dd, s_]
                    conv = np.isin(col, [ILL, OTH, COTH]) & (u_n[:, back, s_] < prob)
                    col[conv] = NRY
        # not on roll
        t = np.arange(D)
        off = (t[None, :] < pick(self.first)[:, None]) | (t[None, :] > pick(self.last)[:, None])
        out[off] = -1
        return out

    @property
    def _segments(self) -> list[tuple[int, int]]:
        ht = self.cal.half_term[:self.D]
        return [(int(np.flatnonzero(ht == h)[0]), int(np.flatnonzero(ht == h)[-1]) + 1)
                for h in np.unique(ht)]

    def _static_for(self, rows: np.ndarray, every: bool) -> Events:
        st = self.static
        if every:
            return st
        idx = _rows_index(st.row, rows)
        return Events(np.searchsorted(rows, st.row[idx]), st.day[idx], st.ses[idx],
                       st.code[idx])


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum_k a[:, k] * b[k, ...]`` without BLAS (small K; no thread pool contention)."""
    out = a[:, 0].reshape((-1,) + (1,) * (b.ndim - 1)) * b[0][None]
    for k in range(1, a.shape[1]):
        out += a[:, k].reshape((-1,) + (1,) * (b.ndim - 1)) * b[k][None]
    return out


def _rows_index(sorted_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Indices of the entries of ``sorted_rows`` (sorted) whose value is in ``rows``."""
    lo = np.searchsorted(sorted_rows, rows, side="left")
    hi = np.searchsorted(sorted_rows, rows, side="right")
    n = hi - lo
    if n.sum() == 0:
        return np.zeros(0, np.int64)
    return np.repeat(lo, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))


def _paint(out: np.ndarray, ev: Events) -> None:
    if not len(ev.row):
        return
    both = ev.ses == 2
    for s in (0, 1):
        m = both | (ev.ses == s)
        out[ev.row[m], ev.day[m], s] = ev.code[m]
