"""The LA overview's content, and the aggregate-only LA figures a school report compares with.

Every function here returns aggregates (schools, cohort groups, districts, weeks): no UPN, no
name, no pupil row (checked by :func:`attendance_lib.privacy.check_no_pupils`). Tables that
count pupils take ``suppress_below`` and pass through :func:`attendance_lib.privacy.suppress`.

**Funnel plots, not league tables.** A school's rate is set against the LA rate for its phase
with control limits that narrow as the school grows (Spiegelhalter's funnel plot): a small
school's 30% PA may be chance, a large school's 25% may not. Limits use the normal approximation

    centre +/- z * sd / sqrt(n),   n = the school's enrolments,

with z = 1.96 (95%) and z = 3.09 (99.8%), the two-sided limits of the standard normal:

* **PA rate** (an enrolment is persistently absent or not): binomial, ``sd = sqrt(p0 (1 - p0))``
  with ``p0`` the LA's PA rate for the phase (domain.md 2.1);
* **overall absence** (a rate over sessions): sessions cluster within pupils, so a binomial on
  sessions would give limits far too narrow; the limits use the spread of the pupils' own
  absence rates instead, ``sd`` = the standard deviation of enrolments' overall absence rates
  in the LA's phase, around the LA's overall absence rate for the phase.

A school above its upper 99.8% limit is very unlikely to be there by chance (about 1 in 1,000);
above 95%, 1 in 40.

**Which schools need a Targeting Support Meeting focus** (:func:`tsm_focus`), a rule stated in
words beside every school: *TSM focus* when the PA rate or the overall absence rate is above
the 99.8% limit, or when two or more of these warning signs hold; *watch* with one:

1. PA rate above the 95% limit;
2. overall absence above the 95% limit;
3. rising absence: the last 4 weeks' absence rate at least 1 percentage point above the same
   weeks a year earlier;
4. many pupils at the legal threshold: pupils at the 10-in-10 threshold (domain.md 4.1) per 100
   enrolments at least twice the LA's rate, and at least ``suppress_below`` pupils.
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .. import metrics
from ..academic_year import academic_year_label
from ..privacy import SUPPRESSED, check_no_pupils, suppress
from ..store import Store
from . import cohorts as _cohorts
from ._pupils import on_roll
from .published import Benchmark, published_benchmark
from .report_params import long_date

__all__ = [
    "Z95", "Z998", "RISING_PP", "LEGAL_RATE_RATIO", "RECENT_WEEKS",
    "la_headline", "school_summary", "control_limits", "funnel", "cohort_gaps",
    "neighbourhoods", "yearly_same_point", "weekly_trend", "recent_change",
    "legal_threshold_counts", "tsm_focus", "published_comparison", "la_code",
]

#: two-sided 95% and 99.8% points of the standard normal distribution
Z95 = 1.959963984540054
Z998 = 3.090232306167813
#: "rising": recent absence this many percentage points above the same weeks last year
RISING_PP = 1.0
#: "many at the legal threshold": at least this multiple of the LA's rate per enrolment
LEGAL_RATE_RATIO = 2.0
#: weeks compared for the rising-absence sign
RECENT_WEEKS = 4


def _open(store: Store | str | Path) -> Store:
    return store if isinstance(store, Store) else Store(store).require()


def la_headline(store: Store | str | Path, as_of) -> pd.DataFrame:
    """The LA's year-to-date figures, one row and no pupil rows: ``enrolments,
    possible_sessions, overall_absence_pct, authorised_pct, unauthorised_pct, pa_count, pa_pct,
    sa_count, sa_pct`` over every school in the store.

    This is the one LA-level function a per-school report calls (with the store's path): it
    opens the whole store itself and returns only these aggregates, so the report never holds
    another school's pupil rows.
    """
    s = _open(store)
    try:
        enr = metrics.enrolment_summary(s, as_of)
    finally:
        if s is not store:
            s.close()
    out = metrics.la_summary(enr)[["enrolments", "possible_sessions", "overall_absence_pct",
                                   "authorised_pct", "unauthorised_pct", "pa_count", "pa_pct",
                                   "sa_count", "sa_pct"]]
    return check_no_pupils(out.reset_index(drop=True), "la_headline")


def _schools(store: Store) -> pd.DataFrame:
    s = store.schools().copy()
    s["urn"] = s["urn"].astype("string")
    s["school"] = s["name"].astype("string").fillna("URN " + s["urn"]) \
        if "name" in s.columns else "URN " + s["urn"]
    s["phase"] = s["phase"].astype("string").str.lower().fillna("unknown") \
        if "phase" in s.columns else "unknown"
    return s


def school_summary(store: Store, as_of) -> pd.DataFrame:
    """Year-to-date figures per school: ``urn, school`` (its name), ``phase, enrolments, possible_sessions,
    absent_sessions, overall_absence_pct, authorised_pct, unauthorised_pct, pa_count, pa_pct,
    sa_count, sa_pct`` and ``absence_sd`` (standard deviation of the enrolments' absence rates,
    as a fraction, for the funnel limits)."""
    enr = metrics.enrolment_summary(store, as_of)
    summ = metrics.school_summary(enr)
    summ["absent_sessions"] = summ["authorised_sessions"] + summ["unauthorised_sessions"]
    out = _schools(store)[["urn", "school", "phase"]].merge(summ, on="urn", how="inner")
    cols = ["urn", "school", "phase", "enrolments", "possible_sessions", "absent_sessions",
            "overall_absence_pct", "authorised_pct", "unauthorised_pct", "pa_count", "pa_pct",
            "sa_count", "sa_pct"]
    out = out[cols].sort_values(["phase", "school"]).reset_index(drop=True)
    out.attrs["enrolment_rates"] = enr.assign(urn=enr["urn"].astype("string"))[
        ["urn", "absent", "possible"]].merge(out[["urn", "phase"]], on="urn")
    return check_no_pupils(out, "school_summary")


def control_limits(p0: float, n, z: float, sd: float | None = None):
    """Lower and upper control limits (as fractions, clipped to [0, 1]) around ``p0`` for
    groups of size ``n``: ``p0 -/+ z * sd / sqrt(n)``; ``sd`` defaults to the binomial
    ``sqrt(p0 (1 - p0))``.

    Examples
    --------
    >>> [round(float(v), 4) for v in control_limits(0.2, 100, 1.96)]
    [0.1216, 0.2784]
    """
    sd = math.sqrt(p0 * (1 - p0)) if sd is None else sd
    half = z * sd / np.sqrt(np.asarray(n, dtype="float64"))
    return np.clip(p0 - half, 0, 1), np.clip(p0 + half, 0, 1)


def _position(rate, lo95, hi95, lo998, hi998) -> str:
    if rate > hi998:
        return "above 99.8% limit"
    if rate > hi95:
        return "above 95% limit"
    if rate < lo998:
        return "below 99.8% limit"
    if rate < lo95:
        return "below 95% limit"
    return "within limits"


def funnel(schools: pd.DataFrame, measure: str = "pa", *, suppress_below: int = 0
           ) -> pd.DataFrame:
    """Funnel-plot data per school against the LA rate of its phase (module docstring).

    Parameters
    ----------
    schools : DataFrame
        :func:`school_summary` (its ``attrs["enrolment_rates"]`` is needed for ``overall``).
    measure : {"pa", "overall"}
        Persistent-absence rate (binomial limits) or overall absence rate (limits from the
        spread of pupils' absence rates).
    suppress_below : int
        Schools whose enrolments (or, for PA, PA enrolments) are suppressed in the school table
        (:func:`attendance_lib.privacy.suppress` over all schools, secondary suppression
        included) are not given a position, since their rate would give the count away;
        ``shown`` is False for them.

    Returns
    -------
    DataFrame
        ``urn, school, phase, n`` (enrolments), ``rate_pct, centre_pct, sd, lo95_pct, hi95_pct,
        lo998_pct, hi998_pct, position, shown``.
    """
    if measure not in ("pa", "overall"):
        raise ValueError(f"measure must be 'pa' or 'overall', not {measure!r}")
    rows = []
    rates = schools.attrs.get("enrolment_rates")
    # hidden exactly as the school table hides them (small counts, and the one count that the
    # LA total would give back), so the plot never shows a rate the table suppresses
    counts = ["enrolments", "pa_count"] if measure == "pa" else ["enrolments"]
    hidden = suppress(schools[counts], counts, suppress_below, within=True,
                      derived={c: [] for c in counts})
    visible = ~hidden.apply(lambda col: col.astype("object").eq(SUPPRESSED)).any(axis=1)
    for phase, g in schools.groupby("phase", sort=True):
        n_tot = g["enrolments"].sum()
        if n_tot == 0:
            continue
        if measure == "pa":
            p0 = g["pa_count"].sum() / n_tot
            sd = math.sqrt(p0 * (1 - p0))
            rate = g["pa_count"] / g["enrolments"]
        else:
            p0 = g["absent_sessions"].sum() / g["possible_sessions"].sum()
            if rates is None:
                raise ValueError("funnel(measure='overall') needs school_summary()'s frame")
            r = rates[rates["phase"] == phase]
            sd = float((r["absent"] / r["possible"]).std(ddof=1)) if len(r) > 1 else 0.0
            rate = g["absent_sessions"] / g["possible_sessions"]
        lo95, hi95 = control_limits(p0, g["enrolments"], Z95, sd)
        lo998, hi998 = control_limits(p0, g["enrolments"], Z998, sd)
        shown = visible[g.index]
        for i in range(len(g)):
            rows.append({
                "urn": g["urn"].iloc[i], "school": g["school"].iloc[i], "phase": phase,
                "n": int(g["enrolments"].iloc[i]), "rate_pct": rate.iloc[i] * 100,
                "centre_pct": p0 * 100, "sd": sd, "lo95_pct": lo95[i] * 100,
                "hi95_pct": hi95[i] * 100, "lo998_pct": lo998[i] * 100,
                "hi998_pct": hi998[i] * 100, "shown": bool(shown.iloc[i]),
                "position": _position(rate.iloc[i], lo95[i], hi95[i], lo998[i], hi998[i])
                if bool(shown.iloc[i]) else "not shown (small numbers)"})
    out = pd.DataFrame(rows, columns=["urn", "school", "phase", "n", "rate_pct", "centre_pct",
                                      "sd", "lo95_pct", "hi95_pct", "lo998_pct", "hi998_pct",
                                      "shown", "position"])
    out.attrs["measure"] = measure
    return out


def cohort_gaps(store: Store, as_of, suppress_below: int,
                cohorts=_cohorts.REPORT_COHORTS) -> pd.DataFrame:
    """LA-wide absence and PA by cohort group with gaps to all other pupils
    (:func:`attendance_lib.views.cohorts.cohort_gaps`), small counts suppressed."""
    pupils = store.pupils()
    out = _cohorts.cohort_gaps(metrics.enrolment_summary(store, as_of), pupils, cohorts)
    out = suppress(out, ["enrolments", "pa_count", "sa_count"], suppress_below, within="cohort",
                   derived={"enrolments": ["overall_absence_pct", "pa_pct", "sa_pct",
                                           "overall_gap_pp", "pa_gap_pp", "possible_sessions",
                                           "absent_sessions"],
                            "pa_count": ["pa_pct", "pa_gap_pp"], "sa_count": ["sa_pct"]})
    out.attrs["missing"] = [c for c in cohorts if c not in pupils.columns]
    return check_no_pupils(out, "cohort_gaps")


def _district(postcode) -> str | None:
    if postcode is None or (not isinstance(postcode, str) and pd.isna(postcode)):
        return None
    text = str(postcode).strip().upper()
    return text.split()[0] if " " in text else (text[:-3] if len(text) > 4 else text) or None


def neighbourhoods(store: Store, as_of, suppress_below: int) -> pd.DataFrame:
    """Year-to-date absence by the pupils' home postcode district (the outward code, e.g.
    ``M33``): ``district, enrolments, overall_absence_pct, pa_count, pa_pct``, suppressed.
    Empty with ``attrs["note"]`` when the pupils file has no postcode."""
    pupils = store.pupils()
    if "postcode" not in pupils.columns:
        out = pd.DataFrame(columns=["district", "enrolments", "overall_absence_pct", "pa_count",
                                    "pa_pct"])
        out.attrs["note"] = "The pupils file has no postcode column."
        return out
    p = pupils[["upn", "urn"]].astype("string").assign(
        district=[_district(v) for v in pupils["postcode"]])
    enr = metrics.enrolment_summary(store, as_of)
    g = metrics.cohort_summary(enr, p, "district")
    g["district"] = g["district"].fillna("Not recorded")
    key = g["district"].str.extract(r"^([A-Z]+)(\d+)")
    g = g.assign(_a=key[0].fillna("~"), _n=pd.to_numeric(key[1], errors="coerce").fillna(0))
    g = g.sort_values(["_a", "_n", "district"]).drop(columns=["_a", "_n"])
    out = g[["district", "enrolments", "overall_absence_pct", "pa_count", "pa_pct"]]
    out = suppress(out.reset_index(drop=True), ["enrolments", "pa_count"], suppress_below,
                   within=True)
    return check_no_pupils(out, "neighbourhoods")


def yearly_same_point(store: Store, as_of) -> pd.DataFrame:
    """Each academic year in the store to the same day of the year as ``as_of``:
    ``academic_year, to_date, enrolments, overall_absence_pct, pa_pct, sa_pct`` (like with
    like: PA year to date falls as the year goes on, product.md pitfalls)."""
    as_of = pd.Timestamp(as_of).date()
    first, _ = store.date_range()
    if first is None:
        return pd.DataFrame(columns=["academic_year", "to_date", "enrolments",
                                     "overall_absence_pct", "pa_pct", "sa_pct"])
    start, _ = metrics.ytd_window(as_of, store.start_month)
    rows = []
    y = 0
    while True:
        try:
            d = as_of.replace(year=as_of.year - y)
        except ValueError:  # 29 Feb
            d = as_of.replace(year=as_of.year - y, day=28)
        ys, _ = metrics.ytd_window(d, store.start_month)
        if d < first:
            break
        s = metrics.la_summary(metrics.enrolment_summary(store, d)).iloc[0]
        rows.append({"academic_year": academic_year_label(ys.year), "to_date": long_date(d),
                     "enrolments": int(s["enrolments"]),
                     "overall_absence_pct": s["overall_absence_pct"], "pa_pct": s["pa_pct"],
                     "sa_pct": s["sa_pct"]})
        y += 1
    return pd.DataFrame(rows[::-1])


def weekly_trend(store: Store, as_of) -> pd.DataFrame:
    """The LA's weekly absence this year beside the same weeks last year (as
    :func:`attendance_lib.views.school.weekly_trend`, over every school)."""
    from .school import weekly_trend as _wt

    return _wt(store, as_of)


def recent_change(store: Store, as_of, weeks: int = RECENT_WEEKS) -> pd.DataFrame:
    """Per school: absence rate over the last ``weeks`` weeks to ``as_of`` and over the same
    weeks a year earlier (52 weeks back): ``urn, recent_pct, last_year_pct, change_pp``."""
    end = pd.Timestamp(as_of).date()
    start = end - timedelta(days=7 * weeks - 1)
    now = metrics.weekly_summary(store, start, end)
    then = metrics.weekly_summary(store, start - timedelta(days=364), end - timedelta(days=364))

    def rate(w):
        g = w.groupby("urn")[["possible", "absent"]].sum()
        return g["absent"] / g["possible"].where(g["possible"] > 0) * 100

    out = pd.DataFrame({"recent_pct": rate(now), "last_year_pct": rate(then)})
    out["change_pp"] = out["recent_pct"] - out["last_year_pct"]
    out = out.reset_index()
    out["urn"] = out["urn"].astype("string")
    out.attrs["period"] = f"{long_date(start)} to {long_date(end)}"
    return out


def legal_threshold_counts(store: Store, as_of) -> pd.DataFrame:
    """Per school: enrolments on roll at the 10-in-10 legal threshold now (domain.md 4.1):
    ``urn, at_threshold``. Counts only (callers suppress)."""
    st = metrics.legal_threshold_status(store, as_of)
    pupils = store.pupils()
    roll = pupils[on_roll(pupils, as_of)][["upn", "urn"]].astype("string")
    st = st[st["at_threshold"]].astype({"upn": "string", "urn": "string"}).merge(
        roll, on=["upn", "urn"])
    out = st.groupby("urn").size().rename("at_threshold").reset_index()
    out["urn"] = out["urn"].astype("string")
    return out


def tsm_focus(schools: pd.DataFrame, pa: pd.DataFrame, overall: pd.DataFrame,
              change: pd.DataFrame, legal: pd.DataFrame, suppress_below: int) -> pd.DataFrame:
    """Which schools need a Targeting Support Meeting focus, by the rule in the module
    docstring: ``urn, school, phase, focus`` ("TSM focus", "Watch" or "No extra focus"),
    ``beyond_998`` (a rate above its 99.8% limit), ``signs`` (how many of the four warning
    signs) and ``reasons`` (in words); most concern first."""
    base = schools[["urn", "school", "phase", "enrolments"]].copy()
    leg = base.merge(legal, on="urn", how="left").fillna({"at_threshold": 0})
    la_rate = leg["at_threshold"].sum() / max(leg["enrolments"].sum(), 1)
    rows = []
    for _, s in base.iterrows():
        reasons, strong, signs = [], False, 0
        for name, f in (("persistent absence rate", pa), ("overall absence rate", overall)):
            r = f[f["urn"] == s["urn"]]
            if r.empty or not bool(r["shown"].iloc[0]):
                continue
            r = r.iloc[0]
            if r["position"] == "above 99.8% limit":
                strong = True
                reasons.append(f"{name} {r['rate_pct']:.1f}% is above the 99.8% control limit "
                               f"({r['hi998_pct']:.1f}%) around the LA's {r['phase']} rate "
                               f"({r['centre_pct']:.1f}%)")
            elif r["position"] == "above 95% limit":
                signs += 1
                reasons.append(f"{name} {r['rate_pct']:.1f}% is above the 95% control limit "
                               f"({r['hi95_pct']:.1f}%)")
        c = change[change["urn"] == s["urn"]]
        if not c.empty and pd.notna(c["change_pp"].iloc[0]) and \
                c["change_pp"].iloc[0] >= RISING_PP:
            signs += 1
            reasons.append(f"absence in the last {RECENT_WEEKS} weeks "
                           f"({c['recent_pct'].iloc[0]:.1f}%) is "
                           f"{c['change_pp'].iloc[0]:.1f} points above the same weeks last year")
        n_leg = int(leg.loc[leg["urn"] == s["urn"], "at_threshold"].iloc[0])
        rate = n_leg / s["enrolments"] if s["enrolments"] else 0.0
        if n_leg >= max(suppress_below, 1) and la_rate > 0 and rate >= LEGAL_RATE_RATIO * la_rate:
            signs += 1
            reasons.append(f"{n_leg} pupils at the legal threshold ({rate * 100:.1f} per 100 "
                           f"pupils, LA {la_rate * 100:.1f})")
        focus = "TSM focus" if strong or signs >= 2 else "Watch" if signs == 1 else \
            "No extra focus"
        rows.append({"urn": s["urn"], "school": s["school"], "phase": s["phase"], "focus": focus,
                     "beyond_998": strong, "signs": signs,
                     "reasons": "; ".join(reasons) if reasons else "none of the warning signs"})
    out = pd.DataFrame(rows, columns=["urn", "school", "phase", "focus", "beyond_998", "signs",
                                      "reasons"])
    order = {"TSM focus": 0, "Watch": 1, "No extra focus": 2}
    out = out.assign(_f=out["focus"].map(order)).sort_values(
        ["_f", "beyond_998", "signs", "school"], ascending=[True, False, False, True])
    return check_no_pupils(out.drop(columns="_f").reset_index(drop=True), "tsm_focus")


def la_code(store: Store) -> str | None:
    """The LA code of the store's schools (the most common ``la_code``), if any."""
    s = store.schools()
    if "la_code" not in s.columns or s["la_code"].dropna().empty:
        return None
    return str(s["la_code"].dropna().astype(str).mode().iloc[0])


def published_comparison(store: Store, as_of, folder=None) -> tuple[pd.DataFrame, Benchmark]:
    """The LA's own year-to-date figures beside the published LA (if DfE knows it), region
    and England (:func:`attendance_lib.views.published.published_benchmark`).

    Returns the table (``area, overall_absence_pct, authorised_pct, unauthorised_pct, pa_pct,
    basis``) and the benchmark (for its notes).
    """
    as_of = pd.Timestamp(as_of).date()
    own = la_headline(store, as_of).iloc[0]
    bench = published_benchmark(as_of, la_code=la_code(store), folder=folder)
    start, _ = metrics.ytd_window(as_of, store.start_month)
    rows = [{"area": "This LA (your data)", "overall_absence_pct": own["overall_absence_pct"],
             "authorised_pct": own["authorised_pct"],
             "unauthorised_pct": own["unauthorised_pct"], "pa_pct": own["pa_pct"],
             "basis": f"year to date, {long_date(start)} to {long_date(as_of)}"}]
    for _, r in bench.table.iloc[::-1].iterrows():
        basis = r["absence_basis"] if r["absence_basis"] == r["pa_basis"] else \
            f"absence: {r['absence_basis']}; PA: {r['pa_basis']}"
        rows.append({"area": f"{r['name']} (published)",
                     "overall_absence_pct": r["overall_absence_pct"],
                     "authorised_pct": r["authorised_pct"],
                     "unauthorised_pct": r["unauthorised_pct"], "pa_pct": r["pa_pct"],
                     "basis": basis})
    return pd.DataFrame(rows), bench

