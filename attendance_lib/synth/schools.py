"""The synthetic LA's schools: phases, sizes, districts, names and school effects.

Primaries take half to three forms of entry (Reception to Year 6), secondaries about 190 pupils
a year group (Years 7-11, no sixth form), special schools about 11 (Reception to Year 11). The
number of schools follows from the number of pupils unless given (then about 80/15/5 %
primary / secondary / special). Each school sits in a postcode district; a school's effect on
absence is its own draw plus its district's deprivation, centred within the phase so that the LA
as a whole is typical of England (``SynthConfig.la_effect`` shifts it).

URNs are ``900001`` onwards and establishment numbers follow DfE's ranges (primary 2xxx,
secondary 4xxx, special 7xxx): made up, so they cannot be mistaken for real schools.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import PHASES, SynthConfig

__all__ = ["PHASE_YEAR_GROUPS", "build_schools"]

_PLACES = ["Abbey", "Ashfield", "Beacon", "Birchwood", "Bramley", "Brookside", "Castle",
           "Cedar", "Church", "Crossways", "Elmhurst", "Fairfield", "Fernhill", "Glebe",
           "Greenacre", "Hawthorn", "Heathfield", "Highfield", "Hillside", "Holly", "Kingsway",
           "Lakeside", "Larkfield", "Linden", "Longmead", "Maple", "Meadow", "Millbrook",
           "Moorland", "Northgate", "Oakfield", "Orchard", "Park", "Queensway", "Riverside",
           "Rosewood", "St Anne's", "St Mary's", "St Peter's", "Southfield", "Springfield",
           "Stonebridge", "Sunnyside", "Thornbury", "Westfield", "Whitefield", "Willowbank",
           "Woodlands", "Wyndham", "Yew Tree"]
#: year groups each phase teaches (0 = Reception)
PHASE_YEAR_GROUPS = {"primary": (0, 6), "secondary": (7, 11), "special": (0, 11)}
_ESTAB_BASE = {"primary": 2000, "secondary": 4000, "special": 7000}


def build_schools(cfg: SynthConfig, rng: np.random.Generator) -> pd.DataFrame:
    """One row per school: ``idx, urn, estab, laestab, name, phase, la_code, district,
    deprivation, effect, yg_lo, yg_hi, year_size`` (pupils per year group)."""
    n_yg = 12 if cfg.reception else 11
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
    deprivation = deprivation - deprivation.mean()
    raw = rng.normal(0, cfg.school_effect_sd, n) + deprivation[district]
    # centre the effects within each phase (weighted by size): the LA as a whole is typical
    # of England, so its headline figures match the national ones; la_effect shifts it
    ph_arr = np.array(phase)
    weight = sizes * np.where(ph_arr == "secondary", 5, np.where(ph_arr == "primary", 7, 12))
    effect = raw.copy()
    for ph in PHASES:
        m = ph_arr == ph
        if m.any():
            effect[m] -= np.average(raw[m], weights=weight[m])
    effect += cfg.la_effect
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
    yg_lo = np.array([PHASE_YEAR_GROUPS[p][0] for p in phase])
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
        "yg_hi": np.array([PHASE_YEAR_GROUPS[p][1] for p in phase]),
        "year_size": sizes,
    })

