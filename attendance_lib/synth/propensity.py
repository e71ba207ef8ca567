"""Each pupil's latent absence propensity, how it persists across years, and its trajectory.

For every enrolment and academic year the pupil is on roll (a *pupil-year*):

* a latent index ``eta = z + characteristics + school effect``, where ``z`` combines a permanent
  pupil trait (share ``latent_permanent_share``) with an AR(1) part (``latent_ar``), so pupils'
  absence persists from year to year without being fixed; characteristic effects (FSM, SEN
  support, EHC plan, social worker, looked after, EAL, Gypsy/Roma/Traveller) and the school's
  effect shift it (:class:`~attendance_lib.synth.config.SynthConfig`);
* an expected absence rate ``p = sigmoid(mu + year_group + sigma * eta + tail)`` (the phase's
  :class:`~attendance_lib.synth.config.PhaseModel`), times the year's national level;
* a trajectory: a share of pupil-years *deteriorate* from an onset day, their logit rising by a
  slope per school week up to a cap (the pattern early warning exists to catch); half the rise
  carries into the next year;
* the expected share of each absence reason (:func:`reason_mix`): higher-absence pupils have more
  unauthorised and less illness absence, matched so each phase's reason shares equal the
  published ones.

All of it is written to ``ground_truth/`` so models can be checked against the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import PHASES, REASONS, SynthConfig
from .la import Population
from .pupils import year_group_of
from .term_dates import la_calendar

_TAIL_K = 4.0  # sharpness of the tail's bend

__all__ = ["pupil_years", "reason_mix", "MixConstants", "softplus", "sigmoid", "logit"]


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def logit(p):
    return np.log(p / (1.0 - p))


def softplus(x):
    return np.logaddexp(0.0, x)


def pupil_years(pop: Population, cfg: SynthConfig, rng: np.random.Generator,
                as_of) -> pd.DataFrame:
    """One row per enrolment and academic year on roll, with the latent truth.

    Columns: ``eid, pid, school, academic_year, phase, year_group, eta, logit_p, p,
    deteriorating, det_onset (day index), det_slope (logit per school week), det_final``,
    ``first_day, last_day`` (term-day indices of the enrolment within the year, inclusive).
    """
    sch, pup, enr = pop.schools, pop.pupils, pop.enrolments
    years = pop.years
    n_p = len(pup)
    w, rho = cfg.latent_permanent_share, cfg.latent_ar
    perm = rng.standard_normal(n_p)
    ar = np.empty((len(years), n_p))
    ar[0] = rng.standard_normal(n_p)
    for i in range(1, len(years)):
        ar[i] = rho * ar[i - 1] + np.sqrt(1 - rho ** 2) * rng.standard_normal(n_p)
    z = np.sqrt(w) * perm[None, :] + np.sqrt(1 - w) * ar
    sen = pup["sen"].to_numpy()
    x = (cfg.effect_fsm * pup["fsm"].to_numpy() + cfg.effect_sen_support * (sen == "K")
         + cfg.effect_ehc * (sen == "E") + cfg.effect_social_worker * pup["social_worker"]
         .to_numpy() + cfg.effect_looked_after * pup["looked_after"].to_numpy()
         + cfg.effect_eal * pup["eal"].to_numpy() + cfg.effect_male * (pup["sex"] == "M")
         .to_numpy() + cfg.effect_traveller * pup["traveller"].to_numpy())
    dob = pup["date_of_birth"].to_numpy()
    out = []
    carry = np.zeros(n_p)
    as_of64 = np.datetime64(as_of, "D")
    for yi, y in enumerate(years):
        cal = la_calendar(y)
        days = cal.days
        last_day = min(cal.n_days - 1, cal.last_index_on_or_before(as_of64))
        if last_day < 0:
            continue
        a = enr["admission"].to_numpy()
        lv = enr["leaving"].to_numpy()
        lv_eff = np.where(np.isnat(lv), np.datetime64("2200-01-01"), lv)
        on = (a <= days[last_day]) & (lv_eff >= days[0])
        e = enr[on]
        first_i = np.searchsorted(days, e["admission"].to_numpy(), side="left")
        leave_i = np.searchsorted(days, lv_eff[on], side="right") - 1
        last_i = np.minimum(leave_i, last_day)
        keep = last_i >= first_i
        e, first_i, last_i, leave_i = e[keep], first_i[keep], last_i[keep], leave_i[keep]
        pid = e["pid"].to_numpy()
        school = e["school"].to_numpy()
        phase = sch["phase"].to_numpy()[school]
        yg = year_group_of(dob[pid], y)
        scale = np.array([cfg.phase_models[ph].characteristic_scale for ph in phase])
        eta = z[yi, pid] + scale * x[pid] + sch["effect"].to_numpy()[school] + carry[pid]
        lp = np.empty(len(e))
        sigma_of = np.empty(len(e))
        for ph in PHASES:
            m = phase == ph
            if not m.any():
                continue
            pm = cfg.phase_models[ph]
            shift = pm.year_group_shift()
            ygs = np.array([shift.get(int(g), 0.0) for g in yg[m]])
            lp[m] = (pm.mu + ygs + pm.sigma * eta[m]
                     + pm.tail_slope * softplus(_TAIL_K * (eta[m] - pm.tail_start)) / _TAIL_K
                     - pm.low_slope * softplus(_TAIL_K * (pm.low_start - eta[m])) / _TAIL_K)
            sigma_of[m] = pm.sigma
        lp = lp + np.log(cfg.year_level(y))
        # deterioration during the year
        share = np.array([cfg.deteriorate_share[ph] for ph in phase])
        det = rng.random(len(e)) < share
        onset = rng.integers(15, 150, len(e))
        lo, hi = cfg.deteriorate_slope
        slope = lo + (hi - lo) * rng.random(len(e))
        weeks_left = np.maximum(0, (cal.n_days - 1 - onset)) / 5.0
        final = np.where(det, np.minimum(cfg.deteriorate_cap, slope * weeks_left), 0.0)
        out.append(pd.DataFrame({
            "eid": e["eid"].to_numpy(), "pid": pid, "school": school, "academic_year": y,
            "phase": phase, "year_group": yg, "eta": eta, "logit_p": lp, "p": sigmoid(lp),
            "deteriorating": det, "det_onset": np.where(det, onset, -1),
            "det_slope": np.where(det, slope, 0.0), "det_final": final,
            "first_day": first_i.astype(np.int32), "last_day": last_i.astype(np.int32),
            # the enrolment's own last day in the year, not cut at the as-of date: an in-year
            # leaver is one whose leave_day falls before the year's last day
            "leave_day": np.minimum(leave_i, cal.n_days - 1).astype(np.int32),
        }))
        # half of a deterioration carries into next year's latent index
        nxt = np.zeros(n_p)
        np.add.at(nxt, pid, np.where(det, 0.5 * final / sigma_of, 0.0))
        carry = carry * rho + nxt
    return pd.concat(out, ignore_index=True)


class MixConstants:
    """Per phase and year, the constants that make reason shares match the published ones."""

    def __init__(self, py: pd.DataFrame, cfg: SynthConfig, iterations: int = 30):
        self.cfg = cfg
        self.const: dict[tuple[str, int], dict[str, float]] = {}
        self.p_ref: dict[tuple[str, int], float] = {}
        self.late: dict[tuple[str, int], float] = {}
        alpha = np.array([cfg.reason_elasticity[k] for k in REASONS])
        for (ph, y), g in py.groupby(["phase", "academic_year"], sort=True):
            p = g["p"].to_numpy()
            p_ref = float(np.median(p))
            rates = np.array([cfg.reason_rates[ph][k] for k in REASONS])
            target = rates / rates.sum()
            c = target.copy()
            rel = (p / p_ref)[:, None] ** (alpha[None, :] - 1.0)
            for _ in range(iterations):
                u = c[None, :] * rel
                pi = u / u.sum(axis=1, keepdims=True)
                got = (p[:, None] * pi).sum(axis=0) / p.sum()
                c = c * np.where(got > 0, target / np.maximum(got, 1e-12), 1.0)
            self.const[(ph, int(y))] = dict(zip(REASONS, c.tolist(), strict=True))
            self.p_ref[(ph, int(y))] = p_ref
            self.late[(ph, int(y))] = float(np.mean((p / p_ref) ** 0.5))

    def mix(self, phase: str, year: int, p: np.ndarray) -> np.ndarray:
        """Expected share of possible sessions for each of :data:`REASONS` (n x K)."""
        return reason_mix(p, self.const[(phase, year)], self.p_ref[(phase, year)], self.cfg)

    def late_rate(self, phase: str, year: int, p: np.ndarray) -> np.ndarray:
        """Expected share of sessions late before registers closed (L), per pupil."""
        p_ref = self.p_ref[(phase, year)]
        return (self.cfg.late_rates[phase] / 100.0 * (p / p_ref) ** 0.5
                / self.late[(phase, year)])


def reason_mix(p: np.ndarray, const: dict[str, float], p_ref: float,
               cfg: SynthConfig) -> np.ndarray:
    """Split expected absence ``p`` into reasons: share_k ∝ c_k (p / p_ref)^(alpha_k - 1)."""
    alpha = np.array([cfg.reason_elasticity[k] for k in REASONS])
    c = np.array([const[k] for k in REASONS])
    u = c[None, :] * (p / p_ref)[:, None] ** (alpha[None, :] - 1.0)
    return p[:, None] * u / u.sum(axis=1, keepdims=True)
