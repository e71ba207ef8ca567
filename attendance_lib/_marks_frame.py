"""The *marks* frame shared by the pattern modules: validation and numpy array form.

One concept: turning register marks (domain.md 1.1, 1.2: one code per pupil and session) into
validated numpy arrays keyed by enrolment (domain.md 2.2), keeping only possible sessions
(domain.md 2.1) where asked. Private to the package; :mod:`attendance_lib.patterns`,
:mod:`attendance_lib.legal` and :mod:`attendance_lib.spells` build on it.

The columns a *marks* frame needs (``upn, urn, date, session, code, category``) and what they
hold are documented once, in :mod:`attendance_lib.patterns`; :func:`prepare` enforces them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attendance_lib.codes import ABSENCE_CATEGORIES, CATEGORIES, POSSIBLE_CATEGORIES

__all__ = [
    "SESSIONS",
    "POSSIBLE_LUT",
    "ABSENT_LUT",
    "CATEGORY_ID",
    "Marks",
    "prepare",
    "possible_sorted",
    "run_starts",
    "to_dates",
    "enrolment_columns",
]

#: session labels by ``Marks.pm`` (False -> AM, True -> PM)
SESSIONS = np.array(["AM", "PM"], dtype=object)
#: by category id (``Marks.cat``): is the session possible / an absence (domain.md 2.1)
POSSIBLE_LUT = np.array([c in POSSIBLE_CATEGORIES for c in CATEGORIES])
ABSENT_LUT = np.array([c in ABSENCE_CATEGORIES for c in CATEGORIES])
#: category name -> id into codes.CATEGORIES
CATEGORY_ID = {c: i for i, c in enumerate(CATEGORIES)}
_REQUIRED = ("upn", "urn", "date", "session", "code", "category")


@dataclass(frozen=True)
class Marks:
    """Marks as numpy arrays; ``enr`` numbers enrolments in ``(upn, urn)`` order."""

    enr: np.ndarray  # int64 enrolment id
    day: np.ndarray  # int64 days since 1970-01-01
    pm: np.ndarray  # bool
    code: np.ndarray  # int64 into ``codes`` (alphabetical); missing -> len(codes)
    codes: np.ndarray  # object: code strings, then None for a missing code
    cat: np.ndarray  # int8 into codes.CATEGORIES
    upn: pd.Index  # per enrolment id
    urn: pd.Index

    def take(self, idx: np.ndarray) -> Marks:
        return Marks(self.enr[idx], self.day[idx], self.pm[idx], self.code[idx], self.codes,
                     self.cat[idx], self.upn, self.urn)

    def flag(self, code_set) -> np.ndarray:
        """Rows whose code is in ``code_set``."""
        return np.array([c in code_set for c in self.codes], dtype=bool)[self.code]


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Calendar date of each value as int64 days since 1970-01-01 (no time, no time zone)."""
    if isinstance(dates.dtype, pd.ArrowDtype) and (
            pa.types.is_date(dates.dtype.pyarrow_dtype)
            or pa.types.is_timestamp(dates.dtype.pyarrow_dtype)):
        arr = pc.cast(dates.array.__arrow_array__(), pa.date32())  # pandas' own cast is slow
        if arr.null_count:
            raise ValueError("marks has missing dates")
        return arr.to_numpy().astype(np.int64)
    if not pd.api.types.is_datetime64_any_dtype(dates.dtype):
        dates = pd.to_datetime(dates)
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    if dates.isna().any():
        raise ValueError("marks has missing dates")
    return dates.to_numpy().astype("datetime64[D]").astype(np.int64)


def _factorize(values: pd.Series, name: str) -> tuple[np.ndarray, pd.Index]:
    ids, uniques = pd.factorize(values, sort=True)
    if (ids < 0).any():
        raise ValueError(f"marks has missing values in {name!r}")
    return ids.astype(np.int64), pd.Index(uniques)


def prepare(marks: pd.DataFrame) -> Marks:
    """Validate ``marks`` and turn it into arrays (columns: see :mod:`attendance_lib.patterns`)."""
    missing = [c for c in _REQUIRED if c not in marks.columns]
    if missing:
        raise ValueError(f"marks is missing columns {missing}")
    upn_id, upn = _factorize(marks["upn"], "upn")
    urn_id, urn = _factorize(marks["urn"], "urn")
    pair, pairs = pd.factorize(upn_id * max(len(urn), 1) + urn_id, sort=True)
    ses_id, sessions = pd.factorize(marks["session"])
    bad = set(sessions) - {"AM", "PM"}
    if bad or (ses_id < 0).any():
        raise ValueError(f"session must be 'AM' or 'PM'; found {sorted(map(str, bad)) or 'NA'}")
    cat_id, cats = pd.factorize(marks["category"])
    bad = set(cats) - set(CATEGORIES)
    if bad or (cat_id < 0).any():
        raise ValueError(f"unknown categories {sorted(map(str, bad)) or 'NA'}; use codes.py's")
    code_id, codes = pd.factorize(marks["code"], sort=True)
    code_id = np.where(code_id < 0, len(codes), code_id).astype(np.int64)
    n_urn = max(len(urn), 1)
    return Marks(
        enr=pair.astype(np.int64), day=_day_numbers(marks["date"]),
        pm=np.array([s == "PM" for s in sessions], dtype=bool)[ses_id],
        code=code_id, codes=np.array([*map(str, codes), None], dtype=object),
        cat=np.array([CATEGORY_ID[c] for c in cats], dtype=np.int8)[cat_id],
        upn=upn[pairs // n_urn], urn=urn[pairs % n_urn])


def possible_sorted(m: Marks) -> Marks:
    """Possible sessions only, ordered by enrolment, date, AM before PM; duplicates raise."""
    p = m.take(np.flatnonzero(POSSIBLE_LUT[m.cat]))
    first_day = int(p.day.min()) if len(p.day) else 0
    span = (int(p.day.max()) - first_day + 1) if len(p.day) else 1
    key = (p.enr * span + (p.day - first_day)) * 2 + p.pm
    if len(key) > 1 and not (key[1:] > key[:-1]).all():  # the store usually hands sorted rows
        order = np.argsort(key)
        key, p = key[order], p.take(order)
        if (key[1:] == key[:-1]).any():
            raise ValueError("marks has more than one possible mark for an enrolment and session")
    return p


def run_starts(values: np.ndarray) -> np.ndarray:
    """True where a run of equal values begins."""
    out = np.ones(len(values), dtype=bool)
    out[1:] = values[1:] != values[:-1]
    return out


def to_dates(days: np.ndarray) -> np.ndarray:
    """Day numbers (since 1970-01-01) as ``datetime64[ns]`` midnights."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")


def enrolment_columns(m: Marks, enr: np.ndarray) -> dict[str, pd.Index]:
    """The ``upn`` and ``urn`` columns for enrolment ids ``enr``."""
    return {"upn": m.upn[enr], "urn": m.urn[enr]}
