"""Plain-English reasons a pupil is on the list (issue 5 item 7).

One concept: explaining one pupil's risk in words a head teacher uses. Features are grouped
into themes (:data:`GROUPS`: this year so far, recent weeks, last year, unexplained and
unauthorised absence, illness, Monday/Friday pattern, spells, lateness, suspensions,
transitions, the school, and characteristics when the model was allowed them). A theme's
*contribution* to a pupil's risk is how much the model's (uncalibrated, smooth) score falls when
that theme's features are set to the typical value of the training pupils (their median): a
simple counterfactual, computed for all pupils at once. The themes with the largest positive
contributions (at least half a percentage point) become reasons, each written from the pupil's
own figures, e.g. "absence rose from 4% to 15% over the last 6 weeks" or "persistently absent
last year (14% absence)".

:func:`drivers` averages the contributions over pupils: what drives risk across the LA.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .features import CHARACTERISTIC_FEATURES
from .models import EarlyWarningClassifier

__all__ = ["GROUPS", "GROUP_LABELS", "contributions", "reason_text", "top_reasons",
           "drivers"]

GROUPS = {
    "this_year": ["absence_pct", "authorised_pct", "unauthorised_pct", "possible_sessions"],
    "recent": ["absence_pct_last2w", "absence_pct_last6w", "absence_pct_before6w", "trend_6w",
               "unauthorised_pct_last6w"],
    "last_year": ["prior_known", "prior_absence_pct", "prior_unauthorised_pct", "prior_pa",
                  "prior_sa", "prior_summer_absence_pct", "prior_schools"],
    "unexplained": ["unexplained_pct", "not_yet_known_pct", "holiday_unauthorised_pct",
                    "legal_unauthorised_10w"],
    "illness": ["illness_pct", "medical_pct", "illness_share", "unauthorised_share"],
    "pattern": ["monday_friday_excess", "friday_pm_excess"],
    "spells": ["spells_per_100", "single_session_spells_per_100", "mean_spell_sessions",
               "longest_spell"],
    "lateness": ["late_before_pct", "late_after_pct"],
    "suspension": ["suspension_sessions"],
    "transition": ["year_group", "phase_transition", "new_to_school", "joined_this_year"],
    "school": ["school_absence_pct", "school_prior_pa_pct", "school_roll", "phase_primary",
               "phase_secondary", "phase_special"],
    "characteristics": list(CHARACTERISTIC_FEATURES),
}
GROUP_LABELS = {
    "this_year": "Absence so far this year", "recent": "Recent weeks and trend",
    "last_year": "Last year's attendance", "unexplained": "Unexplained and unauthorised absence",
    "illness": "Illness", "pattern": "Monday/Friday pattern", "spells": "Spells of absence",
    "lateness": "Lateness", "suspension": "Suspensions", "transition": "Year group and moves",
    "school": "The school", "characteristics": "Pupil characteristics",
}
MIN_CONTRIBUTION = 0.005


def contributions(model: EarlyWarningClassifier, X: pd.DataFrame) -> pd.DataFrame:
    """Per pupil and theme: the fall in the model's score when the theme is made typical."""
    cols = list(model.feature_names_in_)
    X = X[cols]
    base = model.uncalibrated_score(X)
    out = {}
    for g, feats in GROUPS.items():
        used = [f for f in feats if f in cols]
        if not used:
            continue
        Xg = X.copy()
        for f in used:
            Xg[f] = model.reference_.get(f, np.nan)
        out[g] = base - model.uncalibrated_score(Xg)
    return pd.DataFrame(out, index=X.index)


def _count(n, noun: str) -> str:
    n = int(n)
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _pc(x) -> str:
    x = float(x)
    return f"{x:.0f}%" if x >= 1 or x == 0 else f"{x:.1f}%"


def reason_text(group: str, r) -> str:
    """The sentence for one theme, from one pupil's row (a mapping of feature values)."""
    g = r.get
    if group == "this_year":
        return (f"absent {_pc(g('absence_pct'))} of sessions so far this year "
                f"({int(g('absence_sessions', 0))} of {int(g('possible_sessions', 0))})")
    if group == "recent":
        before, last6, trend = g("absence_pct_before6w"), g("absence_pct_last6w"), g("trend_6w")
        if pd.notna(trend) and trend >= 3 and pd.notna(before):
            return f"absence rose from {_pc(before)} to {_pc(last6)} over the last 6 weeks"
        if pd.notna(g("absence_pct_last2w")) and g("absence_pct_last2w") > (last6 or 0):
            return f"absent {_pc(g('absence_pct_last2w'))} of sessions in the last 2 weeks"
        return f"absent {_pc(last6)} of sessions in the last 6 weeks"
    if group == "last_year":
        prior = g("prior_absence_pct")
        if g("prior_sa") == 1:
            return f"severely absent last year ({_pc(prior)} absence)"
        if g("prior_pa") == 1:
            return f"persistently absent last year ({_pc(prior)} absence)"
        if g("prior_known") == 0 or pd.isna(prior):
            return "no attendance record last year in the data available"
        return f"absent {_pc(prior)} of sessions last year"
    if group == "unexplained":
        legal, o = g("legal_unauthorised_10w", 0) or 0, g("unexplained_sessions", 0) or 0
        if legal >= 5:
            return (f"{_count(legal, 'unauthorised session')} in the last 10 weeks "
                    f"(the legal threshold is 10)")
        if o:
            return f"{_count(o, 'session')} of unexplained absence (code O) this year"
        if g("holiday_unauthorised_sessions", 0):
            return (f"{_count(g('holiday_unauthorised_sessions'), 'session')} of unauthorised "
                    f"holiday this year")
        return f"unauthorised absence {_pc(g('unauthorised_pct', 0))} of sessions this year"
    if group == "illness":
        return f"frequent illness absence ({_pc(g('illness_pct', 0))} of sessions this year)"
    if group == "pattern":
        mf, mid = g("absence_pct_monfri"), g("absence_pct_midweek")
        if pd.notna(mf) and pd.notna(mid) and mf > mid:
            return f"absence falls on Mondays and Fridays ({_pc(mf)} against {_pc(mid)} midweek)"
        return f"often absent on Friday afternoons ({_pc(g('absence_pct_friday_pm', 0))})"
    if group == "spells":
        longest = g("longest_spell", 0)
        if longest >= 10:
            return f"a spell of {int(longest)} sessions absent in a row this year"
        return f"{_count(g('spells', 0), 'separate spell')} of absence this year"
    if group == "lateness":
        return (f"late {_count(g('late_sessions', 0), 'time')} this year "
                f"({int(g('late_after_sessions', 0))} after the register closed)")
    if group == "suspension":
        return f"suspended for {_count(g('suspension_sessions', 0), 'session')} this year"
    if group == "transition":
        yg = g("year_group")
        if g("phase_transition") == 1 and yg == 7:
            return "started secondary school this year"
        if g("phase_transition") == 1 and yg == 0:
            return "started Reception this year"
        if g("joined_this_year") == 1:
            return "joined the school during this year"
        if g("new_to_school") == 1:
            return "new to the school this year"
        return (f"year group (Year {int(yg)})" if pd.notna(yg) and yg > 0
                else "year group")
    if group == "school":
        return f"the school's absence is {_pc(g('school_absence_pct'))} this year"
    if group == "characteristics":
        return "pupil characteristics recorded in the census"
    raise KeyError(group)


def top_reasons(model: EarlyWarningClassifier, frame: pd.DataFrame, n: int = 3,
                contrib: pd.DataFrame | None = None) -> pd.Series:
    """Each pupil's top ``n`` reasons, joined with "; " (one string per row of ``frame``)."""
    c = contributions(model, frame) if contrib is None else contrib
    values = c.to_numpy()
    names = np.array(c.columns)
    order = np.argsort(-values, axis=1)[:, :n]
    need = {f for fs in GROUPS.values() for f in fs} | {
        "absence_sessions", "absence_pct_monfri", "absence_pct_midweek", "absence_pct_friday_pm",
        "unexplained_sessions", "holiday_unauthorised_sessions", "late_sessions",
        "late_after_sessions", "spells"}
    rows = frame[[c for c in frame.columns if c in need]].to_dict("records")
    out = []
    for i, r in enumerate(rows):
        picked = [names[j] for j in order[i] if values[i, j] >= MIN_CONTRIBUTION]
        if not picked:
            out.append("no single strong reason: several small signals")
            continue
        out.append("; ".join(reason_text(g, r) for g in picked))
    return pd.Series(out, index=frame.index, name="reasons")


def drivers(model: EarlyWarningClassifier, frame: pd.DataFrame, listed=None,
            contrib: pd.DataFrame | None = None) -> pd.DataFrame:
    """What drives risk: per theme, the mean contribution (percentage points of risk) over
    all pupils and over the ``listed`` ones, and how often it is a listed pupil's top reason."""
    c = contributions(model, frame) if contrib is None else contrib
    listed = np.ones(len(c), bool) if listed is None else np.asarray(listed, bool)
    top = c[listed].idxmax(axis=1)
    out = pd.DataFrame({
        "theme": [GROUP_LABELS[g] for g in c.columns],
        "mean_contribution_pp": c.mean().to_numpy() * 100,
        "mean_contribution_listed_pp": c[listed].mean().to_numpy() * 100,
        "top_reason_share_listed_pct": [
            (top == g).mean() * 100 if listed.any() else math.nan for g in c.columns],
    })
    return out.sort_values("mean_contribution_listed_pp", ascending=False, ignore_index=True)
