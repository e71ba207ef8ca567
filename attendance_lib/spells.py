"""Absence spells: runs of consecutive absence sessions per enrolment, and how absence spreads.

One concept: a spell is a run of absence sessions (authorised or unauthorised, domain.md 2.1) in
an enrolment's possible sessions (domain.md 2.2), walked in date order; many short spells (odd
days) and a few long ones call for different support (domain.md 5).

Functions take a *marks* frame as described in :mod:`attendance_lib.patterns`, which also
re-exports everything here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attendance_lib._marks_frame import (
    ABSENT_LUT,
    CATEGORY_ID,
    SESSIONS,
    Marks,
    enrolment_columns,
    possible_sorted,
    prepare,
    run_starts,
    to_dates,
)
from attendance_lib.codes import UNAUTHORISED

__all__ = ["absence_spells", "spell_summary"]


@dataclass(frozen=True)
class _Spells:
    start: np.ndarray  # row in p where each spell starts
    end: np.ndarray  # row in p where it ends
    sessions: np.ndarray
    unauthorised: np.ndarray
    main_code: np.ndarray  # index into p.codes


def _spells(p: Marks) -> _Spells:
    """Runs of absence over the sorted possible sessions ``p`` of each enrolment."""
    absent = ABSENT_LUT[p.cat]
    same_enr = ~run_starts(p.enr)
    prev_absent = np.zeros(len(p.enr), dtype=bool)
    prev_absent[1:] = absent[:-1]
    start_flag = absent & ~(prev_absent & same_enr)
    next_absent_same = np.zeros(len(p.enr), dtype=bool)
    next_absent_same[:-1] = absent[1:] & same_enr[1:]
    rows = np.flatnonzero(absent)
    sid = np.cumsum(start_flag)[rows] - 1
    n = int(start_flag.sum())
    # main code: most frequent; codes are numbered alphabetically, so ties go to the first
    width = len(p.codes)
    key, counts = np.unique(sid * width + p.code[rows], return_counts=True)
    order = np.lexsort((key % width, -counts, key // width))
    best = order[run_starts(key[order] // width)]
    return _Spells(
        start=np.flatnonzero(start_flag), end=np.flatnonzero(absent & ~next_absent_same),
        sessions=np.bincount(sid, minlength=n),
        unauthorised=np.bincount(sid, weights=p.cat[rows] == CATEGORY_ID[UNAUTHORISED],
                                 minlength=n).astype(np.int64),
        main_code=key[best] % width)


def absence_spells(marks: pd.DataFrame) -> pd.DataFrame:
    """Spells of consecutive absence sessions per enrolment.

    The enrolment's possible sessions are walked in date order, AM before PM; not-possible
    sessions and days without marks (weekends, holidays, ``#`` closures) are skipped, so Friday PM
    and the next Monday AM absent make one spell. A spell is a run of absence sessions
    (authorised or unauthorised, domain.md 2.1); any other possible session (present, AEA, COVID
    ``X``) ends it.

    Parameters
    ----------
    marks : DataFrame
        Marks as described in :mod:`attendance_lib.patterns`.

    Returns
    -------
    DataFrame
        ``upn, urn, start_date, start_session, end_date, end_session, sessions, main_code``
        (most frequent code; ties go to the alphabetically first) and
        ``unauthorised_sessions``, one row per spell in date order.

    Examples
    --------
    Friday PM and the next Monday AM absent are one spell of two sessions:

    >>> m = pd.DataFrame({"upn": "A1", "urn": "100000", "session": ["AM", "PM"] * 2,
    ...     "date": pd.to_datetime(["2024-09-13"] * 2 + ["2024-09-16"] * 2),
    ...     "code": ["/", "N", "N", "/"],
    ...     "category": ["present", "unauthorised", "unauthorised", "present"]})
    >>> absence_spells(m)[["start_date", "start_session", "end_date", "end_session", "sessions"]]
      start_date start_session   end_date end_session  sessions
    0 2024-09-13            PM 2024-09-16          AM         2
    """
    p = possible_sorted(prepare(marks))
    s = _spells(p)
    return pd.DataFrame({
        **enrolment_columns(p, p.enr[s.start]),
        "start_date": to_dates(p.day[s.start]),
        "start_session": SESSIONS[p.pm[s.start].astype(int)],
        "end_date": to_dates(p.day[s.end]),
        "end_session": SESSIONS[p.pm[s.end].astype(int)],
        "sessions": s.sessions,
        "main_code": p.codes[s.main_code],
        "unauthorised_sessions": s.unauthorised,
    }).astype({"start_session": "str", "end_session": "str", "main_code": "str"})


def spell_summary(marks: pd.DataFrame) -> pd.DataFrame:
    """Per enrolment: how absence is spread over spells (see :func:`absence_spells`).

    Many short spells (odd days) and a few long ones call for different support (domain.md 5).

    Returns
    -------
    DataFrame
        ``upn, urn, possible_sessions, absence_sessions, spells, single_session_spells``,
        ``spells_3plus`` (>= 3 sessions), ``spells_10plus`` (>= 10 sessions: a school week or
        more), ``longest_spell`` and ``mean_spell_sessions`` (NaN without spells), for every
        enrolment with a possible session.
    """
    p = possible_sorted(prepare(marks))
    s = _spells(p)
    n = len(p.upn)
    enr = p.enr[s.start]
    possible = np.bincount(p.enr, minlength=n)
    keep = np.flatnonzero(possible)

    def per_enrolment(weights) -> np.ndarray:
        return np.bincount(enr, weights=weights, minlength=n).astype(np.int64)[keep]

    spells = per_enrolment(None)
    absence = per_enrolment(s.sessions)
    longest = np.zeros(n, dtype=np.int64)
    np.maximum.at(longest, enr, s.sessions)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(spells > 0, absence / spells, np.nan)
    return pd.DataFrame({
        **enrolment_columns(p, keep),
        "possible_sessions": possible[keep],
        "absence_sessions": absence,
        "spells": spells,
        "single_session_spells": per_enrolment(s.sessions == 1),
        "spells_3plus": per_enrolment(s.sessions >= 3),
        "spells_10plus": per_enrolment(s.sessions >= 10),
        "longest_spell": longest[keep],
        "mean_spell_sessions": mean,
    })

