"""What the model predicts: persistent absence at the end of the year, or of the next term.

One concept: the outcome (issue 5 item 2). Persistent absence is DfE's exact measure (domain.md
2.1): an enrolment whose absence is at least 10% of its *own* possible sessions, counted over
the academic year to date. Two labels, for every enrolment of a feature table:

* ``pa_year_end`` -- persistently absent over the whole academic year (its marks from the start
  of the year to the end of the summer term; a pupil who leaves is judged on the sessions of
  their enrolment, as DfE counts them);
* ``pa_next_term_end`` -- persistently absent year to date at the end of the next term to end
  after the as-of date (for October half-term: the end of the autumn term at Christmas; for
  Christmas: the end of the spring term), the measure DfE's termly releases publish.

Labels read marks after the as-of date by design; they are only ever joined to features built
as of that date, never used as features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attendance_lib import metrics
from attendance_lib.store import Store

from .points import SchoolCalendar

__all__ = ["LABELS", "add_labels", "label_dates"]

LABELS = ("pa_year_end", "pa_next_term_end")


def label_dates(calendar: SchoolCalendar, as_of) -> dict[str, object]:
    """The date each label is measured at for features as of ``as_of``."""
    year = calendar.year_of(as_of)
    return {"pa_year_end": calendar.year_end(year),
            "pa_next_term_end": calendar.next_term_end(as_of)}


def _pa_at(store: Store, start, end) -> pd.DataFrame:
    c = metrics.enrolment_counts(store, start, end)
    absent = c["authorised"] + c["unauthorised"]
    return pd.DataFrame({"upn": c["upn"], "urn": c["urn"],
                         "pa": (absent * 10 >= c["possible"]) & (c["possible"] > 0)})


def add_labels(store: Store, features: pd.DataFrame, calendar: SchoolCalendar) -> pd.DataFrame:
    """``features`` (one academic year and as-of date) with the two label columns added.

    Raises ``ValueError`` when the store's marks do not reach the label's date yet.
    """
    if features.empty:
        return features.assign(**{k: pd.Series(dtype="float64") for k in LABELS})
    as_of = pd.Timestamp(features["as_of"].iloc[0]).date()
    if features["as_of"].nunique() != 1:
        raise ValueError("add_labels takes the features of one as-of date")
    latest = store.latest_date()
    year = calendar.year_of(as_of)
    start = calendar.year_start(year)
    out = features.copy()
    for name, when in label_dates(calendar, as_of).items():
        if latest is None or latest < when:
            raise ValueError(f"the store's marks end on {latest}: {name} needs marks up to "
                             f"{when}")
        pa = _pa_at(store, start, when)
        m = out[["upn", "urn"]].merge(pa, on=["upn", "urn"], how="left")
        out[name] = m["pa"].fillna(False).to_numpy(dtype=np.float64)
    return out
