"""The rules schools use today, as scores a list can be sorted by (issue 5 item 4).

One concept: the yardsticks the model must beat (product.md "Early warning": always compared
against the rules schools use today). Each rule flags pupils and sorts its list; for precision at
a school's capacity (top k pupils) the sort order is the rule's score:

* ``below_90_ytd`` -- already below 90% attendance this year (DfE persistent absence so far,
  domain.md 2.1), listed by absence so far, highest first;
* ``pa_last_year`` -- persistently absent last year, listed by last year's absence rate;
  pupils with no record last year come last;
* ``rate_plus_spells`` -- absence rate so far plus the number of separate absence spells
  (per 100 possible sessions), each standardised over the pupils scored (z-scores), so frequent
  odd days count as well as long absences;
* ``either_rule`` -- below 90% this year *or* persistently absent last year (the two rules a
  school usually combines), listed by the higher of this year's and last year's absence rate.

The rules use no training data: nothing here is fitted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["RULES", "RULE_LABELS", "rule_scores", "rule_flags"]

RULES = ("below_90_ytd", "pa_last_year", "rate_plus_spells", "either_rule")
RULE_LABELS = {
    "below_90_ytd": "Below 90% so far this year",
    "pa_last_year": "Persistently absent last year",
    "rate_plus_spells": "Absence rate plus spells",
    "either_rule": "Below 90% or persistently absent last year",
}
_MISSING = -1.0  # below every real rate: pupils without a value come last


def _z(s: pd.Series) -> pd.Series:
    sd = s.std(ddof=0)
    return (s - s.mean()) / sd if sd and np.isfinite(sd) else s * 0.0


def rule_scores(features: pd.DataFrame) -> pd.DataFrame:
    """One column per rule (:data:`RULES`): higher = nearer the top of that rule's list."""
    ytd = features["absence_pct"].astype("float64")
    last = features["prior_absence_pct"].astype("float64").fillna(_MISSING)
    spells = features["spells_per_100"].astype("float64").fillna(0.0)
    return pd.DataFrame({
        "below_90_ytd": ytd.fillna(_MISSING),
        "pa_last_year": last,
        "rate_plus_spells": _z(ytd.fillna(0.0)) + _z(spells),
        "either_rule": np.maximum(ytd.fillna(_MISSING), last),
    }, index=features.index)


def rule_flags(features: pd.DataFrame) -> pd.DataFrame:
    """Whether each rule flags each pupil (the rate-plus-spells score has no flag: ``NaN``)."""
    below = (features["pa_now"].astype(bool) if "pa_now" in features
             else features["absence_pct"] >= 10.0)
    last = features["prior_pa"].fillna(0.0) >= 1
    return pd.DataFrame({
        "below_90_ytd": below,
        "pa_last_year": last,
        "rate_plus_spells": pd.Series(np.nan, index=features.index),
        "either_rule": below | last,
    }, index=features.index)
