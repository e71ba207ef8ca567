"""Funnel plots: each school's rate against its size, with England's rate and control limits.

One concept: how far a school's rate may sit from a target by chance alone, given its size. A
school with ``n`` enrolments and true rate ``p0`` shows a rate within
``p0 +/- z * sqrt(phi * p0 * (1 - p0) / n)`` (normal approximation to the binomial;
Spiegelhalter 2005, "Funnel plots for comparing institutional performance", Stat Med 24:1185),
with ``z = 1.96`` for the 95% limits and ``z = 3.09`` for the 99.8% limits. ``phi`` is the
over-dispersion factor: schools differ for many reasons besides chance, so limits with
``phi = 1`` would flag a large share of England's schools. :func:`overdispersion` estimates
``phi`` from every school in England (winsorised mean of squared z-scores, Spiegelhalter's
recommended estimator); a value below 1 is taken as 1.

For overall absence the binomial formula is used with enrolments as ``n`` (a school's rate is
the mean of its pupils' rates) only for the shape of the funnel: ``phi`` is estimated without
the floor at 1, so the limits take the width England's schools actually show. For persistent
absence ``n`` is the enrolments and ``phi`` the usual extra-binomial variation (at least 1). Limits are per
phase (primary, secondary and special schools have very different rates) against England's
rate for that phase. Rows with a missing count (suppressed) are left out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attendance_lib.io import dfe

from .data import CENSUS_PHASES, left_out

__all__ = ["Z95", "Z998", "funnel_limits", "overdispersion", "position", "school_rates",
           "FunnelResult", "school_funnel", "POSITIONS"]

#: two-sided normal quantiles for the 95% and 99.8% limits
Z95 = 1.959963984540054
Z998 = 3.090232306167813
POSITIONS = ("above 99.8% limit", "above 95% limit", "within limits", "below 95% limit",
             "below 99.8% limit")
#: measure -> (numerator, denominator) in the census school rows
_MEASURES = {"overall_absence": ("sess_overall", "sess_possible"),
             "persistent_absence": ("enrolments_pa_10_exact", "enrolments")}


def funnel_limits(p0: float, n, z: float, phi: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits (proportions) for sizes ``n``.

    ``p0 +/- z * sqrt(phi * p0 * (1 - p0) / n)``, clipped to [0, 1].

    >>> lo, hi = funnel_limits(0.1, [100], 1.96)
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.0412, 0.1588)
    """
    n = np.asarray(n, dtype="float64")
    half = z * np.sqrt(phi * p0 * (1 - p0) / n)
    return np.clip(p0 - half, 0, 1), np.clip(p0 + half, 0, 1)


def overdispersion(rate, n, p0: float, winsor: float = 0.1, floor: bool = True) -> float:
    """Spiegelhalter's over-dispersion factor: the winsorised mean of squared z-scores.

    z-scores ``(rate - p0) / sqrt(p0 (1 - p0) / n)`` below the ``winsor`` and above the
    ``1 - winsor`` quantile are set to those quantiles before squaring (so a few extreme
    schools do not widen everyone's limits). With ``floor`` (proportions of enrolments) the
    result is at least 1; without it (overall absence, whose pupil-level spread is smaller
    than a yes/no outcome's) the factor may be below 1 and simply scales the limits to the
    spread England's schools show.

    >>> overdispersion([0.1, 0.1], [50, 80], 0.1)
    1.0
    """
    rate = np.asarray(rate, dtype="float64")
    n = np.asarray(n, dtype="float64")
    ok = np.isfinite(rate) & np.isfinite(n) & (n > 0)
    z = (rate[ok] - p0) / np.sqrt(p0 * (1 - p0) / n[ok])
    if z.size == 0:
        return 1.0
    lo, hi = np.quantile(z, [winsor, 1 - winsor])
    phi = float(np.mean(np.clip(z, lo, hi) ** 2))
    return max(1.0, phi) if floor else phi


def position(rate, n, p0: float, phi: float = 1.0) -> np.ndarray:
    """Where each rate sits: one of :data:`POSITIONS`."""
    rate = np.asarray(rate, dtype="float64")
    lo95, hi95 = funnel_limits(p0, n, Z95, phi)
    lo998, hi998 = funnel_limits(p0, n, Z998, phi)
    out = np.full(rate.shape, POSITIONS[2], dtype=object)
    out[rate > hi95] = POSITIONS[1]
    out[rate > hi998] = POSITIONS[0]
    out[rate < lo95] = POSITIONS[3]
    out[rate < lo998] = POSITIONS[4]
    return out


def school_rates(schools: pd.DataFrame, year: str) -> pd.DataFrame:
    """One year of census school rows with ``phase``, both rates (proportions) and counts."""
    f = schools[schools["time_period"] == year]
    cols = ["urn", "laestab", "old_la_code", "la_name", "school_type", "enrolments",
            "sess_possible", "sess_overall", "enrolments_pa_10_exact"]
    f = f[cols].assign(phase=f["school_type"].map(CENSUS_PHASES))
    for measure, (num, den) in _MEASURES.items():
        d = f[den].astype("float64")
        f = f.assign(**{measure: f[num].astype("float64") / d.where(d > 0)})
    return f.reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class FunnelResult:
    """A funnel comparison for one measure and year.

    ``schools``: the LA's schools with ``rate``, ``n``, ``england_rate``, ``phi``, the four
    limits and ``position``; ``england``: per phase England's rate (pooled counts), ``phi``,
    the number of schools used and left out; ``left_out``: the LA's schools without a usable
    rate, by reason (:func:`attendance_lib.published.data.left_out`).
    """

    measure: str
    year: str
    schools: pd.DataFrame
    england: pd.DataFrame
    left_out: pd.DataFrame

    def counts(self) -> pd.DataFrame:
        """The LA's schools by phase and position (every position shown, 0 when none)."""
        table = pd.crosstab(self.schools["phase"], self.schools["position"])
        return table.reindex(columns=list(POSITIONS), fill_value=0)


def school_funnel(schools: pd.DataFrame, la: dfe.LocalAuthority, year: str,
                  measure: str = "persistent_absence") -> FunnelResult:
    """The LA's schools against England's rate for their phase, with 95% and 99.8% limits.

    Parameters
    ----------
    schools : DataFrame
        Census school rows (``Sources.schools.frame``), all England.
    la : LocalAuthority
    year : str
        ``time_period`` code, e.g. ``"201819"``.
    measure : {"persistent_absence", "overall_absence"}
    """
    if measure not in _MEASURES:
        raise ValueError(f"measure {measure!r}: expected one of {', '.join(_MEASURES)}")
    num, den = _MEASURES[measure]
    rates = school_rates(schools, year)
    missing = rates[num].isna() | rates[den].isna()
    zero = rates[den].fillna(1).eq(0)
    reasons = {f"{num} or {den} suppressed or missing": missing, f"{den} is 0": zero}
    usable = rates[~missing & ~zero]
    england = []
    for phase, part in usable.groupby("phase", sort=True):
        p0 = float(part[num].astype("float64").sum() / part[den].astype("float64").sum())
        phi = overdispersion(part[measure], part["enrolments"], p0,
                             floor=measure != "overall_absence")
        england.append({"phase": phase, "england_rate": p0, "phi": phi, "schools": len(part),
                        "left_out": int((rates["phase"].eq(phase) & (missing | zero)).sum())})
    england = pd.DataFrame(england)
    mine = dfe.la_rows(usable, la).merge(england[["phase", "england_rate", "phi"]],
                                         on="phase", how="left")
    n = mine["enrolments"].astype("float64")
    lims = {}
    for label, z in (("95", Z95), ("998", Z998)):
        lo, hi = funnel_limits(mine["england_rate"].to_numpy(), n.to_numpy(), z,
                               mine["phi"].to_numpy())
        lims[f"lower_{label}"], lims[f"upper_{label}"] = lo, hi
    mine = mine.assign(rate=mine[measure], n=n, **lims)
    mine = mine.assign(position=[
        position([r], [k], p, f)[0] for r, k, p, f in
        zip(mine["rate"], mine["n"], mine["england_rate"], mine["phi"], strict=True)])
    la_all = dfe.la_rows(rates, la)
    skipped = left_out(la_all, {k: v.loc[la_all.index] for k, v in reasons.items()})
    return FunnelResult(measure=measure, year=year, schools=mine.reset_index(drop=True),
                        england=england, left_out=skipped)
