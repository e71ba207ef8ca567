"""Tiny marks frames for the pattern, legal-threshold and spell tests (shared builders).

A frame has the columns the library's marks functions take: ``upn, urn, date, session, code,
category``; categories come from codes.py for the academic year of each date (Aug-Jul).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attendance_lib.codes import category_of

UPN, URN = "A000000000001", "100001"


def marks_from(spec: dict[str, str], upn: str = UPN, urn: str = URN) -> pd.DataFrame:
    """``{"2024-09-09": "N /"}`` -> AM mark N and PM mark / on Monday 9 Sep 2024.

    Categories come from codes.py for the academic year of the date (Aug-Jul).
    """
    rows = []
    for day, pair in spec.items():
        date = pd.Timestamp(day)
        year = date.year if date.month >= 8 else date.year - 1
        for session, code in zip(("AM", "PM"), pair.split(), strict=True):
            rows.append((upn, urn, date, session, code, category_of(code, year)))
    frame = pd.DataFrame(rows, columns=["upn", "urn", "date", "session", "code", "category"])
    return frame.astype({"date": "datetime64[ns]"})


def days(monday: str, *pairs: str) -> dict[str, str]:
    """Consecutive days from ``monday``: ``days("2024-09-09", "N N", "/ \\")`` -> Mon, Tue."""
    start = pd.Timestamp(monday)
    return {str((start + pd.Timedelta(days=i)).date()): p for i, p in enumerate(pairs)}


def weeks(first_monday: str, n: int, pair: str = "/ \\") -> dict[str, str]:
    """One ordinary Monday in each of ``n`` consecutive weeks: enough to make a school week."""
    start = pd.Timestamp(first_monday)
    return {str((start + pd.Timedelta(weeks=i)).date()): pair for i in range(n)}


def stack(*frames: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def random_marks(n_pupils: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-06-03", "2024-12-20")
    dates = dates[~((dates >= "2024-07-22") & (dates < "2024-09-02"))]  # summer holiday
    n = len(dates) * 2
    frames = []
    for i in range(n_pupils):
        codes = rng.choice(["/", "/", "/", "N", "U", "I", "#", "O"], size=n,
                           p=[.5, .2, .1, .06, .04, .05, .03, .02])
        frames.append(pd.DataFrame({
            "upn": f"P{i:03d}", "urn": f"{100000 + i % 3}", "date": np.repeat(dates, 2),
            "session": ["AM", "PM"] * len(dates), "code": codes,
            "category": pd.Series(codes).map({"/": "present", "N": "unauthorised",
                                              "U": "unauthorised", "O": "unauthorised",
                                              "I": "authorised", "#": "not_possible"})}))
    return pd.concat(frames, ignore_index=True)
