"""New pupils of the synthetic LA: characteristics, dates of birth, names and UPNs.

Characteristics come at each phase's prevalence (:data:`.config.PREVALENCE`): FSM (commoner in
deprived districts), SEN support / EHC plan (commoner among FSM pupils), EAL (by ethnicity),
sex, ethnicity, social worker and looked after (commoner among FSM pupils), Gypsy/Roma/
Traveller families, postcode district (``ZZ`` outward codes: made up). Dates of birth fall in
the 1 September - 31 August cohort of the year group (domain.md 7).

UPNs are made the way they are issued (domain.md 6): LA number + establishment number + the
last two digits of the year + a 3-digit serial, and the check letter; pupils arriving from
outside the LA carry UPNs issued by other LAs.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from attendance_lib.upn import LETTERS

from .config import SynthConfig

__all__ = ["year_group_of", "upn_check_letters", "last_friday_in_june", "characteristics",
           "UpnIssuer"]

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
_LETTER_ARR = np.array(list(LETTERS))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


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


def characteristics(sch: pd.DataFrame, school_rows: np.ndarray, yg: np.ndarray, year: int,
                    cfg: SynthConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Characteristics, name, date of birth and postcode of new pupils of the given schools
    and year groups (in ``year``), at the phase's prevalence (:data:`.config.PREVALENCE`)."""
    n = len(yg)
    phase = sch["phase"].to_numpy()[school_rows]
    dep = sch["deprivation"].to_numpy()[school_rows]
    prev = cfg.prevalence

    def by_phase(key):
        return np.array([prev[p][key] for p in phase])

    # FSM is commoner in deprived districts (+0.3 logit per sd of deprivation)
    logit = _logit(by_phase("fsm")) + 0.3 * dep / max(cfg.district_effect_sd, 1e-9)
    fsm = rng.random(n) < 1 / (1 + np.exp(-logit))
    # SEN is commoner among FSM pupils (odds about x1.8, keeping the phase's prevalence)
    shift = np.where(fsm, 0.45, -0.15)
    sen_any = rng.random(n) < 1 / (1 + np.exp(-(_logit(by_phase("sen_any")) + shift)))
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
    return {"name": np.char.add(np.char.add(first, " "), surname), "date_of_birth": dob,
            "sex": sex, "fsm": fsm, "sen": sen, "eal": eal, "ethnicity": eth,
            "district": district, "postcode": postcode, "social_worker": sw,
            "looked_after": cla, "traveller": traveller, "first_school": school_rows}


class UpnIssuer:
    """Hands out unique UPNs for the LA (remembers serials and every UPN issued)."""

    def __init__(self, la_code: str):
        self.la_code = la_code
        self.upn_serial: dict[tuple[int, int], int] = {}
        self.used_upn: set[str] = set()

    def issue(self, sch: pd.DataFrame, school_rows: np.ndarray, yg: np.ndarray, year: int,
              from_outside: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """UPNs for new pupils: issued by their school (LA + estab + year + serial), or carried
        from another LA for pupils arriving from outside; never one issued before."""
        n = len(yg)
        bodies = np.empty(n, dtype="U12")
        inside = ~np.asarray(from_outside, bool)
        idx = np.flatnonzero(inside)
        if len(idx):
            estab = sch["estab"].to_numpy()[school_rows[idx]]
            # issued on first entering school: Reception (year group 0) this year, a pupil
            # already in year group g about g years ago (the first population of the LA)
            yy = (year - np.maximum(np.asarray(yg)[idx], 0)) % 100
            key = estab.astype(np.int64) * 100 + yy
            order = np.argsort(key, kind="stable")
            key_sorted = key[order]
            starts = np.r_[0, np.flatnonzero(key_sorted[1:] != key_sorted[:-1]) + 1]
            rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
            serial = np.empty(len(idx), np.int64)
            for k in np.unique(key):
                sel = key_sorted == k
                ek = (int(k) // 100, int(k) % 100)
                base = self.upn_serial.get(ek, 0)
                serial[order[sel]] = base + rank[sel]
                self.upn_serial[ek] = base + int(sel.sum())
            block = (estab + 5000 * (serial // 1000)) % 10000
            bodies[idx] = np.char.add(np.char.add(
                np.char.add(f"{int(self.la_code):03d}", np.char.zfill(block.astype(str), 4)),
                np.char.zfill(yy.astype(str), 2)), np.char.zfill((serial % 1000).astype(str), 3))
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
            tries = 0
            while bodies[i] in self.used_upn:
                tries += 1
                if tries > 20:  # that LA-school-year's serials are nearly all used
                    bodies[i] = (bodies[i][:3] + f"{int(rng.integers(0, 10000)):04d}"
                                 + bodies[i][7:9])
                bodies[i] = bodies[i][:9] + f"{int(rng.integers(0, 1000)):03d}"
            self.used_upn.add(str(bodies[i]))
        return np.char.add(upn_check_letters(bodies), bodies)
