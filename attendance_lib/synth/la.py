"""The synthetic LA's schools and pupils: cohorts moving up, transfers, admissions and leavers.

:func:`build_population` lays out, for a run of academic years:

* **schools** of each phase with real-looking sizes: primaries of half to three forms of entry
  (Reception to Year 6), secondaries of about 190 pupils a year group (Years 7-11, no sixth
  form), small special schools (Reception to Year 11); each sits in a postcode district and has a
  school effect on absence;
* **pupils** with characteristics at realistic prevalence by phase (:mod:`.config`): FSM,
  SEN support / EHC plan, EAL, sex, ethnicity, social worker, looked after, postcode district,
  date of birth consistent with the year group (age cohorts fixed on 31 August, domain.md 7);
* **enrolments** (a pupil at a school, domain.md 2.2): cohorts move up a year each September;
  Year 6 pupils transfer to an LA secondary (or leave the LA); Year 11 pupils leave on the last
  Friday in June (the statutory school leaving date); new Reception and Year 7 intakes; mid-year
  leavers (more often FSM, social worker, looked after), some of whom join another LA school a
  few days later; in-year admissions from outside; summer leavers and joiners.

Schools come from :mod:`.schools`, new pupils' characteristics and UPNs from :mod:`.pupils`.

Everything is drawn from the one ``numpy`` generator passed in, so a seed fixes the population.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from .config import SynthConfig
from .pupils import UpnIssuer, characteristics, last_friday_in_june, year_group_of
from .schools import build_schools
from .term_dates import la_calendar

__all__ = ["Population", "build_population"]


@dataclass
class Population:
    """Schools, pupils and enrolments of the synthetic LA (all dates ``datetime64[D]``)."""

    schools: pd.DataFrame
    pupils: pd.DataFrame
    enrolments: pd.DataFrame
    years: tuple[int, ...]


class _Builder:
    def __init__(self, cfg: SynthConfig, years: tuple[int, ...], rng: np.random.Generator):
        self.cfg = cfg
        self.years = years
        self.rng = rng
        self.pupil_cols: dict[str, list[np.ndarray]] = {}
        self.n_pupils = 0
        self.enr: dict[str, list] = {"pid": [], "school": [], "admission": [], "leaving": [],
                                     "left_la": []}
        self.upns = UpnIssuer(cfg.la_code)

    # -- schools --------------------------------------------------------------------------------
    def schools(self) -> pd.DataFrame:
        return build_schools(self.cfg, self.rng)

    # -- pupils ---------------------------------------------------------------------------------
    def new_pupils(self, school_rows: np.ndarray, yg: np.ndarray, year: int,
                   from_outside: np.ndarray) -> np.ndarray:
        """Create pupils (characteristics, DOB, UPN) for the given schools and year groups."""
        n = len(yg)
        if n == 0:
            return np.zeros(0, np.int64)
        cols = characteristics(self.sch, school_rows, yg, year, self.cfg, self.rng)
        upn = self.upns.issue(self.sch, school_rows, yg, year, from_outside, self.rng)
        pid = np.arange(self.n_pupils, self.n_pupils + n)
        self.n_pupils += n
        for k, v in {"pid": pid, "upn": upn, **cols}.items():
            self.pupil_cols.setdefault(k, []).append(np.asarray(v))
        return pid

    def enrol(self, pid, school, admission, year: int, leaving=None) -> None:
        """Add enrolments; pupils in Year 11 in ``year`` leave on the last Friday in June."""
        pid = np.asarray(pid, np.int64)
        n = len(pid)
        admission = np.asarray(admission, dtype="datetime64[D]")
        lv = (np.full(n, np.datetime64("NaT"), dtype="datetime64[D]") if leaving is None
              else np.asarray(leaving, dtype="datetime64[D]").copy())
        if n:
            dob = np.concatenate(self.pupil_cols["date_of_birth"])[pid]
            june = np.datetime64(last_friday_in_june(year + 1))
            y11 = year_group_of(dob, year) >= 11
            lv = np.where(y11 & np.isnat(lv), june, lv)
            keep = ~(y11 & (admission >= june))
            pid, admission, lv = pid[keep], admission[keep], lv[keep]
            school = np.asarray(school, np.int64)[keep]
            n = len(pid)
        self.enr["pid"].append(pid)
        self.enr["school"].append(np.asarray(school, np.int64))
        self.enr["admission"].append(admission)
        self.enr["leaving"].append(lv)
        self.enr["left_la"].append(np.zeros(n, bool))


def _choose_school(sch: pd.DataFrame, phase: str, yg: np.ndarray, districts: np.ndarray | None,
                   rng: np.random.Generator, prefer_local: float = 0.0,
                   exclude: np.ndarray | None = None) -> np.ndarray:
    """A school of ``phase`` teaching each year group, weighted by size (locals preferred)."""
    cand = sch[sch["phase"] == phase]
    out = np.empty(len(yg), np.int64)
    idx = cand["idx"].to_numpy()
    size = cand["year_size"].to_numpy()
    lo, hi = cand["yg_lo"].to_numpy(), cand["yg_hi"].to_numpy()
    dist = cand["district"].to_numpy()
    for i, g in enumerate(yg):
        ok = (lo <= g) & (g <= hi)
        if exclude is not None:
            ok &= idx != exclude[i]
        if not ok.any():
            ok = (lo <= g) & (g <= hi)
        w = np.where(ok, size, 0.0)
        if districts is not None and prefer_local > 0:
            local = ok & (dist == districts[i])
            if local.any() and rng.random() < prefer_local:
                w = np.where(local, size, 0.0)
        out[i] = idx[rng.choice(len(idx), p=w / w.sum())]
    return out


def build_population(cfg: SynthConfig, years: tuple[int, ...], as_of: date,
                     rng: np.random.Generator) -> Population:
    """Schools, pupils and enrolments for ``years`` (start years, consecutive), up to ``as_of``."""
    b = _Builder(cfg, years, rng)
    sch = b.sch = b.schools()
    y0 = years[0]
    cal0 = la_calendar(y0)
    # -- initial roll: every school, every year group -------------------------------------------
    rows, ygs = [], []
    for r in sch.itertuples():
        for g in range(r.yg_lo, r.yg_hi + 1):
            n = max(1, int(round(r.year_size * rng.normal(0.97, 0.05))))
            rows.append(np.full(n, r.idx))
            ygs.append(np.full(n, g))
    rows, ygs = np.concatenate(rows), np.concatenate(ygs)
    outside = rng.random(len(rows)) < 0.08
    pid = b.new_pupils(rows, ygs, y0, outside)
    entry = np.where(sch["phase"].to_numpy()[rows] == "secondary", 7, sch["yg_lo"].to_numpy()[rows])
    years_ago = np.maximum(ygs - entry, 0)
    adm_year = y0 - years_ago
    adm = np.array([np.datetime64(f"{int(a)}-09-0{3 if a % 2 else 4}") for a in adm_year],
                   dtype="datetime64[D]")
    late = outside & (years_ago > 0)
    adm = np.where(late, adm + rng.integers(30, 300, len(adm)), adm)
    adm = np.where(years_ago == 0, np.datetime64(cal0.days[0]),
                   np.minimum(adm, np.datetime64(cal0.days[0]) - 1))
    b.enrol(pid, rows, adm, y0)
    _simulate_years(b, years, as_of)
    pupils = pd.DataFrame({k: np.concatenate(v) for k, v in b.pupil_cols.items()})
    enr = pd.DataFrame({k: np.concatenate(v) for k, v in b.enr.items()})
    enr = enr[enr["admission"] <= np.datetime64(as_of)]
    # a pupil who returns to a school they left keeps only their first enrolment there (the
    # pupils file has one row per pupil and school)
    enr = enr.sort_values(["pid", "admission"], kind="stable")
    enr = enr[~enr.duplicated(["pid", "school"], keep="first")]
    enr = enr.sort_values(["school", "pid", "admission"], kind="stable").reset_index(drop=True)
    enr.insert(0, "eid", np.arange(len(enr)))
    return Population(sch, pupils, enr, tuple(years))


def _simulate_years(b: _Builder, years: tuple[int, ...], as_of: date) -> None:
    """Mobility within each year and transitions between years (mutates the builder)."""
    cfg, rng, sch = b.cfg, b.rng, b.sch
    phase_of = sch["phase"].to_numpy()
    for yi, y in enumerate(years):
        cal = la_calendar(y)
        last = cal.days[-1]
        pid_all = np.concatenate(b.enr["pid"])
        school_all = np.concatenate(b.enr["school"])
        leaving_all = np.concatenate(b.enr["leaving"])
        adm_all = np.concatenate(b.enr["admission"])
        open_ = np.isnat(leaving_all) & (adm_all <= last)
        dob = np.concatenate(b.pupil_cols["date_of_birth"])
        yg_all = year_group_of(dob[pid_all], y)
        fsm = np.concatenate(b.pupil_cols["fsm"])[pid_all]
        sw = np.concatenate(b.pupil_cols["social_worker"])[pid_all]
        # Year 11 leave on the last Friday in June
        y11 = open_ & (yg_all >= 11)
        leave_y11 = np.datetime64(last_friday_in_june(y + 1))
        # in-year leavers
        rate = cfg.in_year_leave_rate * np.where(fsm | sw, 2.0, 1.0)
        leaver = open_ & (rng.random(len(open_)) < rate)
        lo_i, hi_i = 5, cal.n_days - 10
        leave_day = cal.days[rng.integers(lo_i, hi_i, len(open_))]
        leaver &= leave_day > adm_all
        leaver &= ~(y11 & (leave_day >= leave_y11))
        new_leaving = leaving_all.copy()
        new_leaving[y11] = leave_y11
        new_leaving[leaver] = leave_day[leaver]
        left_la = np.concatenate(b.enr["left_la"])
        movers = leaver & (rng.random(len(open_)) < cfg.in_year_move_within_la)
        left_la = left_la | (leaver & ~movers)
        b.enr["leaving"] = [new_leaving]
        b.enr["left_la"] = [left_la]
        for k in ("pid", "school", "admission"):
            b.enr[k] = [np.concatenate(b.enr[k])]
        # movers join another LA school of the same phase 3-15 term days later
        mv = np.flatnonzero(movers)
        if len(mv):
            li = np.searchsorted(cal.days, new_leaving[mv]) + rng.integers(3, 16, len(mv))
            ok = li < cal.n_days
            mv, li = mv[ok], li[ok]
            ph = phase_of[school_all[mv]]
            new_school = np.empty(len(mv), np.int64)
            for p in np.unique(ph):
                sel = ph == p
                new_school[sel] = _choose_school(sch, p, yg_all[mv][sel], None, rng,
                                                 exclude=school_all[mv][sel])
            b.enrol(pid_all[mv], new_school, cal.days[li], y)
        # in-year admissions from outside the LA, about as many as left it
        n_in = int(rng.poisson((leaver & ~movers).sum()))
        if n_in:
            tgt = rng.choice(len(sch), size=n_in, p=(sch["year_size"] * (
                sch["yg_hi"] - sch["yg_lo"] + 1) / (sch["year_size"] * (
                    sch["yg_hi"] - sch["yg_lo"] + 1)).sum()).to_numpy())
            g = rng.integers(sch["yg_lo"].to_numpy()[tgt], sch["yg_hi"].to_numpy()[tgt] + 1)
            adm_i = rng.integers(lo_i, hi_i, n_in)
            # a Year 11 pupil is not admitted after the school leaving date
            adm_d = cal.days[adm_i]
            keep = ~((g >= 11) & (adm_d >= leave_y11))
            p_new = b.new_pupils(tgt[keep], g[keep], y, np.ones(keep.sum(), bool))
            lv = np.where(g[keep] >= 11, leave_y11, np.datetime64("NaT"))
            b.enrol(p_new, tgt[keep], adm_d[keep], y, lv)
        if yi == len(years) - 1:
            break
        _year_end(b, y, years[yi + 1])


def _year_end(b: _Builder, y: int, y_next: int) -> None:
    """Summer: Year 6 transfers, summer leavers and movers, new intakes for ``y_next``."""
    cfg, rng, sch = b.cfg, b.rng, b.sch
    cal, nxt = la_calendar(y), la_calendar(y_next)
    last, first_next = cal.days[-1], nxt.days[0]
    phase_of = sch["phase"].to_numpy()
    pid_all = b.enr["pid"][0] if len(b.enr["pid"]) == 1 else np.concatenate(b.enr["pid"])
    for k in ("pid", "school", "admission", "leaving", "left_la"):
        b.enr[k] = [np.concatenate(b.enr[k])]
    pid_all, school_all = b.enr["pid"][0], b.enr["school"][0]
    leaving = b.enr["leaving"][0]
    left_la = b.enr["left_la"][0]
    open_ = np.isnat(leaving)
    dob = np.concatenate(b.pupil_cols["date_of_birth"])
    yg = year_group_of(dob[pid_all], y)
    districts = np.concatenate(b.pupil_cols["district"])
    ph = phase_of[school_all]
    # Year 6 in primary schools leave at the end of the summer term
    y6 = open_ & (ph == "primary") & (yg == 6)
    leaving = leaving.copy()
    leaving[y6] = last
    transfer = y6 & (rng.random(len(open_)) < cfg.transfer_in_la)
    left_la = left_la | (y6 & ~transfer)
    # summer leavers (other pupils not finishing their phase)
    stay = open_ & ~y6 & (yg < 11)
    summer = stay & (rng.random(len(open_)) < cfg.summer_leave_rate)
    leaving[summer] = last
    summer_move = summer & (rng.random(len(open_)) < 0.3)
    left_la = left_la | (summer & ~summer_move)
    b.enr["leaving"] = [leaving]
    b.enr["left_la"] = [left_la]
    # transfers to Year 7
    t = np.flatnonzero(transfer)
    if len(t):
        sec = _choose_school(sch, "secondary", np.full(len(t), 7), districts[pid_all[t]], rng,
                             prefer_local=0.7)
        b.enrol(pid_all[t], sec, np.full(len(t), first_next), y_next)
    m = np.flatnonzero(summer_move)
    if len(m):
        new_school = np.empty(len(m), np.int64)
        for p in np.unique(ph[m]):
            sel = ph[m] == p
            new_school[sel] = _choose_school(sch, p, yg[m][sel] + 1, None, rng,
                                             exclude=school_all[m][sel])
        b.enrol(pid_all[m], new_school, np.full(len(m), first_next), y_next)
    # fill each school's year groups back to size (new Reception, Year 7 top-up, joiners)
    pid_all = np.concatenate(b.enr["pid"])
    school_all = np.concatenate(b.enr["school"])
    leaving = np.concatenate(b.enr["leaving"])
    adm = np.concatenate(b.enr["admission"])
    on_next = (np.isnat(leaving) | (leaving >= first_next)) & (adm <= first_next)
    yg_next = year_group_of(dob[pid_all], y_next)
    counts = pd.Series(1, index=pd.MultiIndex.from_arrays(
        [school_all[on_next], yg_next[on_next]])).groupby(level=[0, 1]).sum()
    rows, ygs, outside = [], [], []
    for r in sch.itertuples():
        for g in range(r.yg_lo, r.yg_hi + 1):
            have = int(counts.get((r.idx, g), 0))
            entry = g == r.yg_lo or (r.phase == "secondary" and g == 7)
            target = r.year_size * (rng.normal(0.97, 0.04) if entry else 0.985)
            need = int(round(target - have))
            if need > 0 and (entry or rng.random() < 0.9):
                rows.append(np.full(need, r.idx))
                ygs.append(np.full(need, g))
                outside.append(np.full(need, not (entry and r.phase == "primary")
                                       or rng.random() < 0.0))
    if rows:
        rows, ygs, outside = np.concatenate(rows), np.concatenate(ygs), np.concatenate(outside)
        p_new = b.new_pupils(rows, ygs, y_next, outside)
        lv = np.where(ygs >= 11, np.datetime64(last_friday_in_june(y_next + 1)),
                      np.datetime64("NaT"))
        b.enrol(p_new, rows, np.full(len(rows), first_next), y_next, lv)
