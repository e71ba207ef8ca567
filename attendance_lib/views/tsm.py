"""The Targeting Support Meeting (TSM) pack: per school, per term, for the LA and the school.

TSMs (domain.md 5) go through every **severely absent** pupil (attendance 50% or less, i.e.
absence >= 50%) with an agreed plan, the **persistently absent** pupils (attendance above 50% and
at most 90%, absence >= 10%) who need multi-agency support, and cohort trends (FSM, EHC plan...).
The suite adds the pupils **at risk** of persistent absence. There is no national definition of
"at risk" (domain.md 5, UNCONFIRMED; LAs use bands such as 91-94% attendance), so the rule here
is stated and adjustable: not (yet) persistently absent, and either

* year-to-date absence of at least :data:`AT_RISK_ABSENCE_PCT` (7%, i.e. attendance of 93% or
  less), or
* absence of at least 10% over the last :data:`RECENT_WEEKS` weeks (attendance falling now).

(The early-warning model will add its own ranked list later.) Lists are year to date, as DfE's
"Monitor your school attendance" counts (domain.md 5.1), with the term to date beside it.
Every function takes the school's restricted store (:func:`attendance_lib.privacy.
school_store`).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from .. import calendar, metrics
from ..academic_year import academic_year_label
from ..store import Store
from ..term_dates import infer_half_terms
from . import cohorts as _cohorts
from ._pupils import attach_details, on_roll
from .report_params import long_date

__all__ = ["AT_RISK_ABSENCE_PCT", "RECENT_WEEKS", "term_window", "pupil_rates",
           "severely_absent", "persistently_absent", "at_risk", "cohort_trends",
           "actions_template", "TSM_COHORTS"]

#: at risk: year-to-date absence at or above this (and below the 10% of PA)
AT_RISK_ABSENCE_PCT = 7.0
#: at risk: absence of 10% or more over this many recent weeks
RECENT_WEEKS = 4
#: cohorts whose trends a TSM looks at (domain.md 5: FSM, EHCP ...)
TSM_COHORTS = ("fsm_eligible", "sen_provision", "has_social_worker", "sex")


def term_window(as_of, term: str | None = None, start_month: int = 8
                ) -> tuple[date, date, str]:
    """The DfE census term (domain.md 2.2, 7) of the pack: ``(start, end, label)``.

    ``term`` None = the term containing ``as_of``; otherwise that term of the academic year
    containing ``as_of``, ending at ``as_of`` if it is still going on. A term that starts after
    ``as_of`` is an error.
    """
    as_of = pd.Timestamp(as_of).date()
    ys, _ = metrics.ytd_window(as_of, start_month)
    terms = calendar.dfe_terms(ys.year)
    if term is None:
        row = terms[(terms["start"].dt.date <= as_of) & (terms["end"].dt.date >= as_of)]
        row = row if len(row) else terms.iloc[[0]]
    else:
        row = terms[terms["term"] == term.lower()]
        if row.empty:
            raise ValueError(f"term must be autumn, spring or summer, not {term!r}")
    row = row.iloc[0]
    start, end = row["start"].date(), min(row["end"].date(), as_of)
    if start > as_of:
        raise ValueError(f"the {row['term']} term of {academic_year_label(ys.year)} starts on "
                         f"{long_date(start)}, after the as-of date {long_date(as_of)}")
    label = f"{row['term'].capitalize()} term {academic_year_label(ys.year)}"
    return start, end, label


def _support(store: Store, as_of) -> pd.DataFrame:
    iv = store.interventions()
    if iv.empty or "type" not in iv.columns:
        return pd.DataFrame(columns=["upn", "urn", "support"])
    ts = pd.Timestamp(as_of)
    start = pd.to_datetime(iv["start_date"], errors="coerce")
    end = pd.to_datetime(iv["end_date"], errors="coerce") if "end_date" in iv.columns else \
        pd.Series(pd.NaT, index=iv.index)
    live = iv[(start <= ts) & (end.isna() | (end >= ts))]
    g = live.groupby(["upn", "urn"])["type"].agg(
        lambda s: ", ".join(sorted({str(t).replace("_", " ") for t in s}))).rename("support")
    out = g.reset_index()
    return out.astype({"upn": "string", "urn": "string"})


def pupil_rates(store: Store, as_of, term: str | None = None) -> pd.DataFrame:
    """Every enrolment on roll at ``as_of`` with its rates: ``upn, urn``, details, then
    ``attendance_ytd_pct, absence_ytd_pct, sessions_missed_ytd, unauthorised_ytd,
    attendance_term_pct, absence_recent_pct`` (last :data:`RECENT_WEEKS` weeks),
    ``persistent, severe`` and ``support`` (interventions running at ``as_of``)."""
    as_of = pd.Timestamp(as_of).date()
    ytd = metrics.enrolment_summary(store, as_of)
    t0, t1, _ = term_window(as_of, term, store.start_month)
    ys, _ = metrics.ytd_window(as_of, store.start_month)
    trm = metrics.enrolment_summary(store, start=t0, end=t1)
    rec = metrics.enrolment_summary(store, start=max(as_of - timedelta(days=7 * RECENT_WEEKS - 1),
                                                     ys), end=as_of)
    keys = ["upn", "urn"]
    df = pd.DataFrame({
        "upn": ytd["upn"], "urn": ytd["urn"],
        "attendance_ytd_pct": 100 - ytd["overall_absence_pct"],
        "absence_ytd_pct": ytd["overall_absence_pct"],
        "sessions_missed_ytd": ytd["absent"], "unauthorised_ytd": ytd["unauthorised"],
        "persistent": ytd["persistent_absence"], "severe": ytd["severe_absence"]})
    df = df.merge(trm[keys].assign(attendance_term_pct=100 - trm["overall_absence_pct"]),
                  on=keys, how="left")
    df = df.merge(rec[keys].assign(absence_recent_pct=rec["overall_absence_pct"]), on=keys,
                  how="left")
    pupils = store.pupils()
    roll = pupils[on_roll(pupils, as_of)][keys].astype("string")
    df = df.astype({"upn": "string", "urn": "string"}).merge(roll, on=keys)
    df = df.merge(_support(store, as_of), on=keys, how="left")
    df["support"] = df["support"].astype("object").where(df["support"].notna(), "none recorded")
    return attach_details(df, pupils)


def _ordered(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["attendance_ytd_pct", "upn"]).reset_index(drop=True)


def severely_absent(rates: pd.DataFrame) -> pd.DataFrame:
    """Pupils missing 50% or more of their sessions this year (DfE severe absence)."""
    return _ordered(rates[rates["severe"]])


def persistently_absent(rates: pd.DataFrame) -> pd.DataFrame:
    """Persistently but not severely absent pupils (absence 10% to under 50%)."""
    return _ordered(rates[rates["persistent"] & ~rates["severe"]])


def at_risk(rates: pd.DataFrame) -> pd.DataFrame:
    """Pupils at risk of persistent absence by the module's rule, with ``why`` in words."""
    not_pa = ~rates["persistent"]
    ytd = rates["absence_ytd_pct"] >= AT_RISK_ABSENCE_PCT
    recent = rates["absence_recent_pct"].fillna(0) >= 10
    out = rates[not_pa & (ytd | recent)].copy()
    why = []
    for y, r, a, b in zip(ytd[out.index], recent[out.index], out["absence_ytd_pct"],
                          out["absence_recent_pct"], strict=True):
        parts = []
        if y:
            parts.append(f"absence {a:.1f}% this year")
        if r:
            parts.append(f"absence {b:.1f}% in the last {RECENT_WEEKS} weeks")
        why.append("; ".join(parts))
    out["why"] = why
    return _ordered(out)


def cohort_trends(store: Store, as_of, cohorts=TSM_COHORTS) -> pd.DataFrame:
    """Absence by half-term and cohort group, this academic year and last: ``half_term``
    (e.g. ``2025/26 HT1``), ``start, end, cohort_name, group, enrolments, possible, absent,
    absence_pct``. Half-terms are inferred from the dates the school took registers
    (:func:`attendance_lib.term_dates.infer_half_terms`); the current one runs to ``as_of``."""
    as_of = pd.Timestamp(as_of).date()
    ys, _ = metrics.ytd_window(as_of, store.start_month)
    lo = date(ys.year - 1, store.start_month, 1)
    cols = ["half_term", "start", "end", "cohort", "cohort_name", "group", "enrolments",
            "possible", "absent", "absence_pct"]
    days = store.query("SELECT DISTINCT date FROM marks WHERE date BETWEEN ? AND ? AND "
                       "category <> 'not_possible'", [lo, as_of])["date"]
    pupils = store.pupils()
    present = [c for c in cohorts if c in pupils.columns]
    if days.empty or not present:
        return pd.DataFrame(columns=cols)
    ht = infer_half_terms(pd.to_datetime(days)).table
    ht["half_term_label"] = [f"{academic_year_label(y)} HT{h}" for y, h in
                             zip(ht["academic_year"], ht["half_term"], strict=True)]
    ht["ht"] = range(len(ht))
    store.con.register("_tsm_half_terms", ht[["ht", "start", "end"]])
    try:
        per = store.query(
            "SELECT upn, urn, h.ht, "
            "count(*) FILTER (WHERE category <> 'not_possible')::BIGINT AS possible, "
            "count(*) FILTER (WHERE category IN ('authorised', 'unauthorised'))::BIGINT AS absent "
            "FROM marks m JOIN _tsm_half_terms h ON m.date BETWEEN h.start::DATE AND h.end::DATE "
            "GROUP BY ALL")
    finally:
        store.con.unregister("_tsm_half_terms")
    per = per[per["possible"] > 0].astype({"upn": "string", "urn": "string"})
    p = pupils.astype({"upn": "string", "urn": "string"})
    frames = []
    for c in present:
        m = per.merge(p[["upn", "urn", c]], on=["upn", "urn"], how="left")
        m["group"] = [_cohorts.group_label(c, v) for v in m[c]]
        g = m.groupby(["ht", "group"]).agg(enrolments=("upn", "size"),
                                           possible=("possible", "sum"),
                                           absent=("absent", "sum")).reset_index()
        g["cohort"], g["cohort_name"] = c, _cohorts.COHORT_NAMES.get(c, c)
        frames.append(g)
    out = pd.concat(frames, ignore_index=True).merge(
        ht[["ht", "half_term_label", "start", "end"]], on="ht")
    out = out.rename(columns={"half_term_label": "half_term"})
    out["absence_pct"] = out["absent"] / out["possible"] * 100
    rank = {c: i for i, c in enumerate(present)}
    out = out.assign(_c=out["cohort"].map(rank)).sort_values(["ht", "_c", "group"])
    return out[cols].reset_index(drop=True)


def actions_template(severe: pd.DataFrame, id_column: str = "Pupil", blank_rows: int = 6
                     ) -> pd.DataFrame:
    """The agreed-actions table to fill in at the meeting: a row per severely absent pupil
    (every one needs an agreed plan, domain.md 5) and blank rows for cohorts and others.
    ``severe`` is the list as shown (its ``id_column`` holds the UPN or pseudonym)."""
    ids = list(severe[id_column]) if id_column in severe.columns else []
    rows = [{"Pupil or group": i, "Concern": "Severe absence", "Agreed action": "",
             "Lead (school / LA / partner)": "", "Review date": ""} for i in ids]
    rows += [{"Pupil or group": "", "Concern": "", "Agreed action": "",
              "Lead (school / LA / partner)": "", "Review date": ""}] * blank_rows
    return pd.DataFrame(rows)
