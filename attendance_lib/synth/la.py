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

UPNs are made the way they are issued (domain.md 6): LA number + establishment number + year
issued + serial, with the check letter; pupils arriving from outside carry UPNs of other LAs.

Everything is drawn from the one ``numpy`` generator passed in, so a seed fixes the population.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from attendance_lib.upn import LETTERS

from .config import SynthConfig
from .term_dates import la_calendar

__all__ = ["Population", "build_population", "year_group_of", "upn_check_letters",
           "last_friday_in_june"]

_FIRST = {
    "F": ["Olivia", "Amelia", "Isla", "Ava", "Ivy", "Freya", "Lily", "Florence", "Mia", "Willow",
          "Rosie", "Sophia", "Isabella", "Grace", "Daisy", "Sienna", "Poppy", "Elsie", "Emily",
          "Ella", "Evelyn", "Phoebe", "Sofia", "Evie", "Charlotte", "Harper", "Matilda", "Aisha",
          "Fatima", "Maryam", "Zara", "Amira", "Hannah", "Layla", "Chloe", "Ruby", "Maya",
          "Alice", "Esme", "Jessica"],
    "M": ["Muhammad", "Noah", "Oliver", "George", "Leo", "Arthur", "Oscar", "Harry", "Archie",
          "Jack", "Henry", "Charlie", "Freddie", "Theodore", "Thomas", "Finley", "Theo",
          "Alfie", "Jacob", "Isaac", "Tommy", "Joshua", "William", "James", "Lucas", "Roman",
          "Ethan", "Adam", "Yusuf", "Ibrahim", "Ali", "Daniel", "Samuel", "Max", "Logan",
          "Mason", "Dylan", "Reuben", "Kai", "Rory"],
}
_SURNAMES = ["Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson",
             "Thomas", "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White",
             "Edwards", "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel",
             "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore",
             "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen", "James", "Scott",
             "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths",
             "Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell",
             "Shaw", "Murphy", "Miller", "Cox", "Richards", "Khan", "Marshall", "Anderson",
             "Simpson", "Ellis", "Adams", "Singh", "Begum", "Ali", "Hussain", "Ahmed", "Nowak",
             "Kowalski", "Okafor", "Mensah", "Ibrahim", "Chen"]
_PLACES = ["Abbey", "Ashfield", "Beacon", "Birchwood", "Bramley", "Brookside", "Castle",
           "Cedar", "Church", "Crossways", "Elmhurst", "Fairfield", "Fernhill", "Glebe",
           "Greenacre", "Hawthorn", "Heathfield", "Highfield", "Hillside", "Holly", "Kingsway",
           "Lakeside", "Larkfield", "Linden", "Longmead", "Maple", "Meadow", "Millbrook",
           "Moorland", "Northgate", "Oakfield", "Orchard", "Park", "Queensway", "Riverside",
           "Rosewood", "St Anne's", "St Mary's", "St Peter's", "Southfield", "Springfield",
           "Stonebridge", "Sunnyside", "Thornbury", "Westfield", "Whitefield", "Willowbank",
           "Woodlands", "Wyndham", "Yew Tree"]
_OTHER_LAS = np.array([201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 301,
                       302, 303, 304, 305, 306, 307, 308, 309, 310, 311, 312, 313, 314, 315, 316,
                       317, 318, 319, 320, 330, 331, 332, 333, 334, 335, 336, 340, 341, 342, 343,
                       344, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373,
                       380, 381, 382, 383, 384, 390, 391, 392, 393, 394, 800, 801, 802, 803, 806,
                       807, 808, 810, 811, 812, 813, 815, 816, 821, 822, 823, 825, 826, 830, 831,
                       835, 836, 837, 838, 839, 840, 841, 845, 846, 850, 851, 852, 855, 856, 857,
                       860, 861, 865, 866, 867, 868, 869, 870, 871, 872, 873, 874, 876, 877, 878,
                       879, 880, 881, 882, 883, 884, 885, 886, 887, 888, 889, 890, 891, 892, 893,
                       894, 895, 896, 908, 909, 916, 919, 921, 925, 926, 928, 929, 931, 933, 935,
                       936, 937, 938])
_PHASE_YG = {"primary": (0, 6), "secondary": (7, 11), "special": (0, 11)}
_ESTAB_BASE = {"primary": 2000, "secondary": 4000, "special": 7000}
_LETTER_ARR = np.array(list(LETTERS))


@dataclass
class Population:
    """Schools, pupils and enrolments of the synthetic LA (all dates ``datetime64[D]``)."""

    schools: pd.DataFrame
    pupils: pd.DataFrame
    enrolments: pd.DataFrame
    years: tuple[int, ...]


def year_group_of(dob: np.ndarray, academic_year: int | np.ndarray) -> np.ndarray:
    """National Curriculum year group (0 = Reception) from dates of birth (31 Aug cut-off).

    >>> year_group_of(np.array(["2017-09-01", "2018-08-31"], dtype="datetime64[D]"), 2023)
    array([1, 1])
    """
    d = np.asarray(dob, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    birth_cohort = y - (m < 9)
    return (np.asarray(academic_year) - 5 - birth_cohort).astype(np.int64)


def _dob_for(yg: np.ndarray, academic_year: int, rng: np.random.Generator) -> np.ndarray:
    """Dates of birth uniformly within the 1 Sep - 31 Aug cohort of each year group."""
    start_year = np.asarray(academic_year - 5 - yg, dtype=np.int64)
    sep1 = ((start_year - 1970).astype("datetime64[Y]").astype("datetime64[M]")
            + np.timedelta64(8, "M")).astype("datetime64[D]")
    nxt = ((start_year - 1969).astype("datetime64[Y]").astype("datetime64[M]")
           + np.timedelta64(8, "M")).astype("datetime64[D]")
    length = (nxt - sep1).astype(np.int64)
    return sep1 + (rng.random(len(start_year)) * length).astype(np.int64)


def upn_check_letters(bodies: np.ndarray) -> np.ndarray:
    """Check letters for an array of 12-digit UPN bodies (domain.md 6), vectorised."""
    b = np.asarray(bodies, dtype="S12").view(np.uint8).reshape(len(bodies), 12).astype(np.int64)
    total = ((b - 48) * np.arange(2, 14)).sum(axis=1)
    return _LETTER_ARR[total % 23]


def last_friday_in_june(year: int) -> date:
    d = date(year, 6, 30)
    return d - timedelta(days=(d.weekday() - 4) % 7)


class _Builder:
    def __init__(self, cfg: SynthConfig, years: tuple[int, ...], rng: np.random.Generator):
        self.cfg = cfg
        self.years = years
        self.rng = rng
        self.pupil_cols: dict[str, list[np.ndarray]] = {}
        self.n_pupils = 0
        self.enr: dict[str, list] = {"pid": [], "school": [], "admission": [], "leaving": [],
                                     "left_la": []}
        self.upn_serial: dict[tuple[int, int], int] = {}
        self.used_upn: set[str] = set()

    # -- schools --------------------------------------------------------------------------------
    def schools(self) -> pd.DataFrame:
        cfg, rng = self.cfg, self.rng
        n_yg = 12 if cfg.reception else 11
        cohort = cfg.pupils / n_yg
        special_total = cfg.pupils * cfg.special_share
        main_cohort = (cfg.pupils - special_total) / n_yg
        fe_vals = np.array([f for f, _ in cfg.primary_form_entry])
        fe_p = np.array([p for _, p in cfg.primary_form_entry])
        mean_fe = float((fe_vals * fe_p).sum() / fe_p.sum())
        if cfg.schools is None:
            n_pri = max(1, round(main_cohort / (30 * mean_fe)))
            n_sec = max(1, round(main_cohort / cfg.secondary_year_size[0]))
            n_spe = max(1, round(special_total / (cfg.special_year_size[0] * n_yg)))
        else:
            k = int(cfg.schools)
            if k < 3:
                raise ValueError("schools must be at least 3 (one of each phase)")
            n_spe = max(1, round(k * 0.05))
            n_sec = max(1, round(k * 0.15))
            n_pri = k - n_spe - n_sec
        fe = rng.choice(fe_vals, size=n_pri, p=fe_p / fe_p.sum()) * rng.normal(1, 0.08, n_pri)
        # initial rolls fill to about 97% of places: size places so that the roll hits the target
        main_cohort /= 0.975
        special_total /= 0.975
        pri_size = fe / fe.sum() * main_cohort
        sec_w = np.clip(rng.normal(1, cfg.secondary_year_size[1] / cfg.secondary_year_size[0],
                                   n_sec), 0.35, None)
        sec_size = sec_w / sec_w.sum() * main_cohort
        spe_w = np.clip(rng.normal(1, cfg.special_year_size[1] / cfg.special_year_size[0],
                                   n_spe), 0.4, None)
        spe_size = spe_w / spe_w.sum() * (special_total / n_yg)
        phase = ["primary"] * n_pri + ["secondary"] * n_sec + ["special"] * n_spe
        sizes = np.concatenate([pri_size, sec_size, spe_size])
        n = len(phase)
        districts = cfg.postcode_districts
        deprivation = rng.normal(0, cfg.district_effect_sd, districts)
        district = np.concatenate([
            rng.integers(0, districts, n_pri),
            np.linspace(0, districts, n_sec, endpoint=False).astype(int) if n_sec else [],
            rng.integers(0, districts, n_spe)]).astype(int)
        effect = rng.normal(0, cfg.school_effect_sd, n) + deprivation[district]
        names, estabs, counters = [], [], {"primary": 0, "secondary": 0, "special": 0}
        place_idx = rng.permutation(len(_PLACES) * 4)
        for i, ph in enumerate(phase):
            place = _PLACES[place_idx[i % len(place_idx)] % len(_PLACES)]
            suffix = {"primary": "Primary School", "secondary": "Academy",
                      "special": "Special School"}[ph]
            if ph == "primary" and i % 5 == 3:
                suffix = "Church of England Primary School"
            names.append(f"{place} {suffix}")
            counters[ph] += 1
            estabs.append(_ESTAB_BASE[ph] + counters[ph])
        # make names unique
        seen: dict[str, int] = {}
        for i, nm in enumerate(names):
            if nm in seen:
                seen[nm] += 1
                names[i] = f"{nm} ({seen[nm]})"
            else:
                seen[nm] = 1
        yg_lo = np.array([_PHASE_YG[p][0] for p in phase])
        if not cfg.reception:
            yg_lo = np.where(yg_lo == 0, 1, yg_lo)
        return pd.DataFrame({
            "idx": np.arange(n),
            "urn": [f"{900001 + i}" for i in range(n)],
            "estab": estabs,
            "laestab": [f"{cfg.la_code}{e:04d}" for e in estabs],
            "name": names,
            "phase": phase,
            "la_code": cfg.la_code,
            "district": district,
            "deprivation": deprivation[district],
            "effect": effect,
            "yg_lo": yg_lo,
            "yg_hi": np.array([_PHASE_YG[p][1] for p in phase]),
            "year_size": sizes,
        })

    # -- pupils ---------------------------------------------------------------------------------
    def new_pupils(self, school_rows: np.ndarray, yg: np.ndarray, year: int,
                   from_outside: np.ndarray) -> np.ndarray:
        """Create pupils (characteristics, DOB, UPN) for the given schools and year groups."""
        cfg, rng, sch = self.cfg, self.rng, self.sch
        n = len(yg)
        if n == 0:
            return np.zeros(0, np.int64)
        phase = sch["phase"].to_numpy()[school_rows]
        dep = sch["deprivation"].to_numpy()[school_rows]
        prev = cfg.prevalence

        def by_phase(key):
            return np.array([prev[p][key] for p in phase])

        logit = np.log(by_phase("fsm") / (1 - by_phase("fsm"))) + 2.2 * dep / max(
            cfg.district_effect_sd, 1e-9) * 0.25
        fsm = rng.random(n) < 1 / (1 + np.exp(-logit))
        sen_any_p = by_phase("sen_any")
        sen_odds = np.where(fsm, 1.55, 0.83)
        p_sen = np.clip(sen_any_p * sen_odds, 0, 0.999)
        sen_any = rng.random(n) < p_sen
        ehc = sen_any & (rng.random(n) < by_phase("ehc_of_sen"))
        sen = np.where(ehc, "E", np.where(sen_any, "K", "N"))
        male = rng.random(n) < by_phase("male")
        eth_codes = np.array(list(cfg.ethnicity))
        eth_p = np.array(list(cfg.ethnicity.values()))
        eth = eth_codes[rng.choice(len(eth_codes), size=n, p=eth_p / eth_p.sum())]
        eal_base = np.where(np.isin(eth, ["WBRI", "WIRI", "MWBC", "BCRB", "WIRT"]), 0.02,
                            np.where(np.isin(eth, ["WOTH", "WROM", "ABAN", "APKN", "AOTH",
                                                   "CHNE", "OOTH", "BAFR", "REFU"]), 0.6,
                                     0.3))
        eal = rng.random(n) < eal_base * by_phase("eal") / 0.2
        sw_p = by_phase("social_worker") * np.where(fsm, 2.6, 0.45)
        cla = rng.random(n) < by_phase("looked_after") * np.where(fsm, 2.0, 0.7)
        sw = cla | (rng.random(n) < sw_p)
        traveller = np.isin(eth, ["WIRT", "WROM"]) & (rng.random(n) < 0.6)
        district = np.where(rng.random(n) < 0.75, sch["district"].to_numpy()[school_rows],
                            rng.integers(0, cfg.postcode_districts, n))
        sex = np.where(male, "M", "F")
        first = np.where(male, np.array(_FIRST["M"])[rng.integers(0, 40, n)],
                         np.array(_FIRST["F"])[rng.integers(0, 40, n)])
        surname = np.array(_SURNAMES)[rng.integers(0, len(_SURNAMES), n)]
        dob = _dob_for(yg, year, rng)
        inward = np.char.add(np.char.add(rng.integers(1, 10, n).astype(str),
                                          _LETTER_ARR[rng.integers(0, 23, n)]),
                             _LETTER_ARR[rng.integers(0, 23, n)])
        postcode = np.char.add(np.char.add(np.char.add("ZZ", (district + 1).astype(str)), " "),
                               inward)
        upn = self._upns(school_rows, yg, year, from_outside)
        pid = np.arange(self.n_pupils, self.n_pupils + n)
        self.n_pupils += n
        cols = {"pid": pid, "upn": upn, "name": np.char.add(np.char.add(first, " "), surname),
                "date_of_birth": dob, "sex": sex, "fsm": fsm, "sen": sen, "eal": eal,
                "ethnicity": eth, "district": district, "postcode": postcode,
                "social_worker": sw, "looked_after": cla, "traveller": traveller,
                "first_school": school_rows}
        for k, v in cols.items():
            self.pupil_cols.setdefault(k, []).append(np.asarray(v))
        return pid

    def _upns(self, school_rows, yg, year, from_outside) -> np.ndarray:
        """UPN bodies: LA + estab + year issued + serial; other LAs' for pupils from outside."""
        rng, sch, cfg = self.rng, self.sch, self.cfg
        n = len(yg)
        bodies = np.empty(n, dtype="U12")
        inside = ~np.asarray(from_outside, bool)
        idx = np.flatnonzero(inside)
        if len(idx):
            estab = sch["estab"].to_numpy()[school_rows[idx]]
            yy = year % 100
            order = np.argsort(estab, kind="stable")
            est_sorted = estab[order]
            starts = np.r_[0, np.flatnonzero(est_sorted[1:] != est_sorted[:-1]) + 1]
            rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
            serial = np.empty(len(idx), np.int64)
            for e in np.unique(estab):
                sel = est_sorted == e
                base = self.upn_serial.get((int(e), yy), 0)
                serial[order[sel]] = base + rank[sel]
                self.upn_serial[(int(e), yy)] = base + int(sel.sum())
            block = (estab + 5000 * (serial // 1000)) % 10000
            bodies[idx] = np.char.add(np.char.add(
                np.char.add(f"{int(cfg.la_code):03d}", np.char.zfill(block.astype(str), 4)),
                f"{yy:02d}"), np.char.zfill((serial % 1000).astype(str), 3))
        out_idx = np.flatnonzero(~inside)
        if len(out_idx):
            m = len(out_idx)
            la = rng.choice(_OTHER_LAS, size=m)
            estab = rng.integers(2000, 5400, m)
            yy = (year - rng.integers(0, np.maximum(yg[out_idx], 1) + 1)) % 100
            serial = rng.integers(0, 1000, m)
            bodies[out_idx] = np.char.add(np.char.add(np.char.add(
                la.astype(str), estab.astype(str)), np.char.zfill(yy.astype(str), 2)),
                np.char.zfill(serial.astype(str), 3))
        # resolve any clash (with earlier pupils or within this batch) by re-drawing serials
        for i in range(n):
            while bodies[i] in self.used_upn:
                bodies[i] = bodies[i][:9] + f"{int(rng.integers(0, 1000)):03d}"
            self.used_upn.add(str(bodies[i]))
        return np.char.add(upn_check_letters(bodies), bodies)

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
        first, last = cal.days[0], cal.days[-1]
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
