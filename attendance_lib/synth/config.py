"""Every parameter of the synthetic local authority, with its default and where it comes from.

:class:`SynthConfig` is a frozen dataclass: one object fixes a generated LA completely (with the
seed), is written beside the data as ``ground_truth/params.json`` and can be rebuilt from it
(:meth:`SynthConfig.from_dict`). Change a parameter with :func:`dataclasses.replace`.

Sources of the defaults (abbreviations as in ``../shared/reference/domain.md``):

* **Reason rates** (:data:`REASON_RATES`): sessions with each register code as a share of possible
  sessions, national, by phase, 2023/24 full year, attendance data collection
  (``ees_pupil_attendance/attendance_ytd_202324_full_year.csv.gz``; domain.md 3.2). Part-time
  timetables (``C2`` from 2024/25; inside ``C`` before) use the 2024/25 file's ``C2`` rates, taken
  out of ``C``. Religious observance uses the mean of 2022/23-2024/25 (it moves with the dates of
  Eid). Late before registers closed (``L``) is a present code, listed for its rate.
* **Year levels** (:data:`YEAR_LEVELS`): overall absence of each year relative to 2023/24, from the
  same collection's national full-year files (7.53 / 7.21 / 6.87 / 6.88 %; data README).
* **Prevalences** (:data:`PREVALENCE`): FSM and any-SEN shares of pupil enrolments by phase from
  the absence-distributions file 2022/23 (``ees_absence_distributions``, national rows); EAL
  shares from the Compare School Performance census 2018/19
  (``csp_school_level/csp_england_census_201819.csv.gz``, state-funded primary / secondary /
  special: 21.2 / 16.9 / 14.9 %); the EHC-plan share of SEN pupils is 11 / 13 / 98 % in the same
  file, raised to 17% in mainstream schools for the growth in EHC plans since 2019 (**approximate**:
  DfE "Special educational needs in England" 2024 gives 4.8% of all pupils with a plan). Social
  worker and looked-after rates approximate DfE "Children in need" / "Children looked after"
  2023/24 (about 3% and 0.6% of school-age pupils; **approximate, not from a file here**).
  Ethnicity shares approximate DfE "Schools, pupils and their characteristics" 2023/24
  (**approximate**).
* **Latent propensity**: shape parameters per phase (:data:`PHASE_MODELS`) were tuned on
  generated LAs (several seeds) so that full-year figures match overall absence and PA by phase
  (attendance collection 2023/24) and the 5-point absence bands by phase (absence distributions
  2022/23); characteristic effects (and the primary ``characteristic_scale``) so that FSM / SEN
  PA gaps match the same distributions file; persistence so that pupils' absence rates in
  consecutive years correlate about 0.6 (FFT Education Datalab, Jul 2025, "The relationship
  between absence in Year 6 and Year 7": r = 0.63 across the transfer). Absence spells are
  about half one or two days long (FFT Education Datalab, Jul 2022, "Alternative measures of
  persistent absence: an update").
* **Leavers**: half of in-year leavers have a run of absence before they come off roll (schools
  make enquiries before deleting a pupil; **assumption**, which also gives short enrolments the
  high PA rates they have in the published, enrolment-based figures).
* **Interventions** (:data:`INTERVENTIONS`): the rules follow WTISA 2024 and domain.md 4-5
  (mentoring offered below 90% after the October half-term; attendance contracts and early help
  for persistent absentees; penalty notices considered at 10 unauthorised sessions in 10 school
  weeks). The true effects are **illustrative**, not estimates of real programmes; one type has
  zero effect on purpose so estimators can be checked against a known null.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

__all__ = [
    "PHASES",
    "REASONS",
    "REASON_RATES",
    "LATE_RATES",
    "AEA_RATES",
    "YEAR_LEVELS",
    "PREVALENCE",
    "ETHNICITY",
    "InterventionSpec",
    "INTERVENTIONS",
    "PhaseModel",
    "PHASE_MODELS",
    "SynthConfig",
]

PHASES = ("primary", "secondary", "special")

#: absence reasons the propensity model shares out (code depends on the year's code set):
#: I illness, M medical, O other unauthorised, G unauthorised holiday, HOL agreed holiday
#: (H before 2024, C after), C other authorised leave, PT part-time timetable (C before 2024,
#: C2 after), E suspension, U late after registers closed, N no reason yet
REASONS = ("I", "M", "O", "G", "HOL", "C", "PT", "E", "U", "N")


def _frozen(d: dict) -> MappingProxyType:
    return MappingProxyType({k: (MappingProxyType(v) if isinstance(v, dict) else v)
                             for k, v in d.items()})


#: % of possible sessions by reason and phase (attendance collection 2023/24, national;
#: PT from 2024/25 C2 and removed from C; R averaged 2022/23-2024/25)
REASON_RATES = _frozen({
    "primary": {"I": 3.122, "M": 0.253, "O": 0.790, "G": 0.632, "HOL": 0.062, "C": 0.238,
                "PT": 0.130, "E": 0.031, "U": 0.152, "N": 0.059,
                "R": 0.086, "S": 0.000, "T": 0.015, "J": 0.016},
    "secondary": {"I": 3.882, "M": 0.360, "O": 2.842, "G": 0.372, "HOL": 0.025, "C": 0.409,
                  "PT": 0.309, "E": 0.344, "U": 0.233, "N": 0.119,
                  "R": 0.076, "S": 0.120, "T": 0.005, "J": 0.019},
    "special": {"I": 5.379, "M": 0.989, "O": 2.592, "G": 0.371, "HOL": 0.319, "C": 1.381,
                "PT": 1.428, "E": 0.175, "U": 0.215, "N": 0.084,
                "R": 0.066, "S": 0.028, "T": 0.005, "J": 0.007},
})
#: % of possible sessions late before registers closed (L, present), 2023/24
LATE_RATES = _frozen({"primary": 1.097, "secondary": 3.046, "special": 0.746})
#: % of possible sessions in approved educational activity, 2023/24 (K: 2024/25; before 2024
#: LA-arranged education was recorded as B)
AEA_RATES = _frozen({
    "primary": {"V": 0.761, "P": 0.084, "B": 0.205, "W": 0.0, "K": 0.013},
    "secondary": {"V": 0.786, "P": 0.145, "B": 0.502, "W": 0.297, "K": 0.064},
    "special": {"V": 0.473, "P": 0.050, "B": 1.282, "W": 0.056, "K": 0.110},
})
#: overall absence relative to 2023/24 (attendance collection full-year national totals)
YEAR_LEVELS = _frozen({2022: 1.044, 2023: 1.000, 2024: 0.953, 2025: 0.954})

#: share of enrolments with each characteristic, by phase (see module docstring for sources)
PREVALENCE = _frozen({
    "primary": {"fsm": 0.255, "sen_any": 0.166, "ehc_of_sen": 0.17, "eal": 0.212,
                "male": 0.51, "social_worker": 0.030, "looked_after": 0.005},
    "secondary": {"fsm": 0.238, "sen_any": 0.154, "ehc_of_sen": 0.17, "eal": 0.169,
                  "male": 0.51, "social_worker": 0.032, "looked_after": 0.007},
    "special": {"fsm": 0.458, "sen_any": 0.995, "ehc_of_sen": 0.98, "eal": 0.149,
                "male": 0.70, "social_worker": 0.060, "looked_after": 0.020},
})

#: DfE ethnicity codes and approximate shares of pupils (SPC 2023/24, approximate)
ETHNICITY = _frozen({
    "WBRI": 0.600, "WIRI": 0.003, "WOTH": 0.080, "WIRT": 0.001, "WROM": 0.004,
    "MWBC": 0.020, "MWBA": 0.010, "MWAS": 0.015, "MOTH": 0.025,
    "AIND": 0.040, "APKN": 0.050, "ABAN": 0.020, "AOTH": 0.020, "CHNE": 0.008,
    "BAFR": 0.045, "BCRB": 0.010, "BOTH": 0.006, "OOTH": 0.020, "REFU": 0.023,
})


@dataclass(frozen=True)
class InterventionSpec:
    """One intervention type: who gets it, when, how many, and its true effect.

    ``hazard_ratio`` multiplies the pupil's daily absence hazards (illness and unauthorised
    spells, lateness, holidays) from the start date to the end date; 1.0 means no effect.
    The effect reported in ``ground_truth/effects.json`` is not this number but the simulated
    difference in absence rate it makes (see :mod:`attendance_lib.synth.ground_truth`).
    """

    hazard_ratio: float
    #: places per 100 pupils on roll (at least 1 place per school)
    capacity_per_100: float
    #: planned length in school weeks (0 = a one-off event, e.g. a penalty notice)
    duration_weeks: int
    #: probability that an eligible pupil (or family) is offered/accepts it
    uptake: float = 1.0
    #: selection threshold on year-to-date absence, % of possible sessions
    threshold_pct: float = 10.0
    #: weight of school staff's judgement (noise) in ranking eligible pupils, 0 = strict rank
    judgement_noise: float = 0.5


INTERVENTIONS = _frozen({
    # offered after the October half-term to pupils below 90% attendance, limited places,
    # second round after the February half-term
    "mentoring": InterventionSpec(hazard_ratio=0.75, capacity_per_100=1.5, duration_weeks=12,
                                  uptake=0.85, threshold_pct=10.0),
    # persistent absentees with unauthorised absence, at the start of the spring/summer terms
    "attendance_contract": InterventionSpec(hazard_ratio=0.85, capacity_per_100=0.8,
                                            duration_weeks=12, uptake=0.6,
                                            threshold_pct=10.0),
    # referred at termly Targeting Support Meetings: persistent absentees with a social worker,
    # FSM or SEN, or severely absent pupils
    "early_help": InterventionSpec(hazard_ratio=0.80, capacity_per_100=0.6, duration_weeks=20,
                                   uptake=0.7, threshold_pct=15.0),
    # considered at the national threshold (10 unauthorised sessions in 10 school weeks);
    # zero true effect by default
    "penalty_notice": InterventionSpec(hazard_ratio=1.0, capacity_per_100=100.0,
                                       duration_weeks=10, uptake=0.35, threshold_pct=0.0,
                                       judgement_noise=0.0),
})


@dataclass(frozen=True)
class PhaseModel:
    """How a phase's pupils' expected absence rates are spread (logit scale).

    A pupil-year's latent index ``eta`` (persistent pupil component + year-to-year AR(1) part,
    characteristic effects, school effect; sd about 1) maps to an expected absence rate
    ``p = sigmoid(mu + year_group + sigma * eta + tail_slope * softplus(eta - tail_start)
    - low_slope * softplus(low_start - eta))`` (softplus sharpened by 4): the convex upper tail
    makes the few severely absent pupils (published: 0.75% of primary, 3.4% of secondary, 6.2%
    of special enrolments at 50%+ in 2022/23); the lower one the many near-perfect attenders
    (2016/17 1-point bands: 8% of pupils with no absence, 20% under 1%).
    """

    mu: float
    sigma: float
    tail_start: float
    tail_slope: float
    #: extra spread below ``low_start``: near-perfect attenders (many pupils miss under 1%)
    low_start: float = 0.0
    low_slope: float = 0.0
    #: multiplier of the characteristic effects in this phase (FSM and SEN gaps by phase)
    characteristic_scale: float = 1.0
    #: shift of the logit by year group (R = 0, 1..11)
    year_group: tuple[tuple[int, float], ...] = ()

    def year_group_shift(self) -> dict[int, float]:
        return dict(self.year_group)


PHASE_MODELS = _frozen({
    "primary": PhaseModel(mu=-3.08, sigma=0.30, tail_start=2.0, tail_slope=0.70, low_start=0.0,
                          low_slope=1.2, characteristic_scale=1.3,
                          year_group=((0, 0.12), (1, 0.12), (2, 0.02), (3, -0.02), (4, -0.02),
                                      (5, -0.01), (6, -0.01))),
    "secondary": PhaseModel(mu=-2.97, sigma=0.50, tail_start=1.55, tail_slope=1.60,
                            low_start=0.3, low_slope=0.42,
                            year_group=((7, -0.22), (8, -0.02), (9, 0.06), (10, 0.09),
                                        (11, 0.10))),
    "special": PhaseModel(mu=-3.33, sigma=0.52, tail_start=1.3, tail_slope=1.36),
})


def _default_interventions() -> dict[str, InterventionSpec]:
    return dict(INTERVENTIONS)


@dataclass(frozen=True)
class SynthConfig:
    """All parameters of one synthetic LA; ``seed`` plus these fix every generated byte."""

    seed: int = 2024
    pupils: int = 20_000
    schools: int | None = None
    years: int = 3
    #: the last academic year runs up to this date; None = today
    as_of: date | None = None
    dirty: bool = False
    la_code: str = "999"
    la_name: str = "Synthetic LA (made up)"

    # -- population ------------------------------------------------------------------------
    #: share of pupils in special schools (absence distributions 2022/23: 1.8% of Y1-11)
    special_share: float = 0.019
    #: include Reception (year group R, age 4 at 31 Aug; not in DfE's ages 5-15 statistics)
    reception: bool = True
    #: mean pupils per year group (one form of entry = 30) by phase, and spread
    primary_form_entry: tuple[tuple[float, float], ...] = ((0.5, 0.15), (1.0, 0.35),
                                                           (1.5, 0.15), (2.0, 0.25),
                                                           (3.0, 0.10))
    secondary_year_size: tuple[float, float] = (190.0, 50.0)
    special_year_size: tuple[float, float] = (11.0, 3.0)
    #: share of Year 6 leavers going to an LA secondary (rest: independent / elsewhere)
    transfer_in_la: float = 0.93
    #: in-year leavers per pupil-year (mobility), x2 for FSM/social worker/looked after
    in_year_leave_rate: float = 0.025
    #: share of in-year leavers who join another LA school of the same phase
    in_year_move_within_la: float = 0.35
    #: leavers over the summer (other than Y6 / Y11), per pupil
    summer_leave_rate: float = 0.03
    postcode_districts: int = 12

    # -- absence model ----------------------------------------------------------------------
    phase_models: MappingProxyType = field(default_factory=lambda: PHASE_MODELS)
    reason_rates: MappingProxyType = field(default_factory=lambda: REASON_RATES)
    late_rates: MappingProxyType = field(default_factory=lambda: LATE_RATES)
    aea_rates: MappingProxyType = field(default_factory=lambda: AEA_RATES)
    year_levels: MappingProxyType = field(default_factory=lambda: YEAR_LEVELS)
    prevalence: MappingProxyType = field(default_factory=lambda: PREVALENCE)
    ethnicity: MappingProxyType = field(default_factory=lambda: ETHNICITY)
    #: share of the latent index that is a permanent pupil trait (the rest is AR(1))
    latent_permanent_share: float = 0.55
    #: year-to-year autocorrelation of the non-permanent part
    latent_ar: float = 0.65
    #: effects on the latent index (sd units) of pupil characteristics
    effect_fsm: float = 0.85
    effect_sen_support: float = 0.45
    effect_ehc: float = 0.55
    effect_social_worker: float = 0.55
    effect_looked_after: float = -0.10
    effect_eal: float = -0.20
    effect_male: float = 0.0
    effect_traveller: float = 1.6
    #: sd of school effects and of district deprivation (latent sd units); both are centred
    #: within each phase so the LA is typical of England, then shifted by ``la_effect``
    school_effect_sd: float = 0.22
    district_effect_sd: float = 0.15
    la_effect: float = 0.0
    #: elasticity of each reason's share with the pupil's absence level (1 = proportional)
    reason_elasticity: MappingProxyType = field(default_factory=lambda: _frozen({
        "I": 0.65, "M": 0.50, "O": 1.50, "G": 0.45, "HOL": 0.35, "C": 1.10, "PT": 2.40,
        "E": 1.60, "U": 1.20, "N": 1.30}))
    #: mean spell length in school days at the phase's typical pupil, and its growth with p
    spell_days: MappingProxyType = field(default_factory=lambda: _frozen({
        "I": 2.6, "O": 1.6, "C": 1.6, "E": 1.7, "N": 1.1}))
    spell_growth: float = 0.55
    #: share of a reason's absence that comes as single sessions (e.g. sent home ill)
    half_day_share: MappingProxyType = field(default_factory=lambda: _frozen({
        "I": 0.10, "O": 0.18, "C": 0.20, "E": 0.0, "N": 0.30}))
    #: winter illness: amplitude of the seasonal cycle (peak mid-January)
    illness_season: float = 0.35
    #: day-of-week multipliers (Mon..Fri) for illness and unauthorised onsets
    dow_illness: tuple[float, ...] = (1.10, 1.00, 0.95, 0.95, 1.00)
    dow_unauthorised: tuple[float, ...] = (1.15, 0.92, 0.80, 0.93, 1.35)
    #: extra share of Friday-afternoon-only unauthorised absence
    friday_pm: float = 1.8
    #: unauthorised absence in the last three weeks of the summer term, x
    late_summer: float = 1.6
    #: first week of the autumn term, x (absence is low just after the summer)
    first_week: float = 0.75
    #: share of in-year leavers missing for 1-4 weeks before they come off roll
    ghost_share: float = 0.5
    #: share of pupil-years whose attendance deteriorates during the year
    deteriorate_share: MappingProxyType = field(default_factory=lambda: _frozen({
        "primary": 0.03, "secondary": 0.06, "special": 0.05}))
    #: deterioration: logit increase per school week after onset (range) and its cap
    deteriorate_slope: tuple[float, float] = (0.05, 0.20)
    deteriorate_cap: float = 2.5

    # -- interventions and dirt ---------------------------------------------------------------
    interventions: dict = field(default_factory=_default_interventions)
    #: rows of each kind of dirt injected when ``dirty`` (per 100,000 marks, at least 3)
    dirt_per_100k: MappingProxyType = field(default_factory=lambda: _frozen({
        "unknown_code": 4.0, "weekend": 3.0, "duplicate": 3.0, "conflict": 2.0,
        "bad_upn": 3.0, "outside_enrolment": 3.0, "invalid_date": 2.0, "not_on_roll": 1.5}))

    # -- (de)serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-ready dict (dates as ISO strings, mappings as dicts)."""

        def conv(v):
            if isinstance(v, date):
                return v.isoformat()
            if isinstance(v, (dict, MappingProxyType)):
                return {str(k): conv(x) for k, x in v.items()}
            if dataclasses.is_dataclass(v):
                return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
            if isinstance(v, tuple):
                return [conv(x) for x in v]
            return v

        return {f.name: conv(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> SynthConfig:
        """Rebuild a config written by :meth:`to_dict` (e.g. from ``params.json``)."""
        kw = dict(d)
        if kw.get("as_of"):
            kw["as_of"] = date.fromisoformat(kw["as_of"])
        if "interventions" in kw:
            kw["interventions"] = {k: InterventionSpec(**v) for k, v in kw["interventions"].items()}
        if "phase_models" in kw:
            kw["phase_models"] = _frozen({
                k: PhaseModel(**{**v, "year_group": tuple(tuple(x) for x in v["year_group"])})
                for k, v in kw["phase_models"].items()})
        for name in ("year_levels",):
            if name in kw:
                kw[name] = _frozen({int(k): v for k, v in kw[name].items()})
        for f in dataclasses.fields(cls):
            if f.name in kw and isinstance(kw[f.name], list):
                kw[f.name] = tuple(tuple(x) if isinstance(x, list) else x for x in kw[f.name])
            elif f.name in kw and isinstance(kw[f.name], dict) and f.name not in (
                    "interventions",):
                kw[f.name] = _frozen(kw[f.name])
        return cls(**kw)

    def year_level(self, academic_year: int) -> float:
        """Absence level of a year relative to 2023/24 (nearest known year outside the table)."""
        levels = self.year_levels
        if academic_year in levels:
            return float(levels[academic_year])
        known = sorted(levels)
        nearest = known[0] if academic_year < known[0] else known[-1]
        return float(levels[nearest])
