"""Realistic dirt for the data-quality paths: the ``dirty`` switch of the generator.

MIS exports go wrong in known ways; :func:`inject` adds each to one school's marks and records
exactly what it did, so a test can check that the loaders' quarantine finds every injected
problem and nothing else. Each kind maps to one quarantine reason of
:mod:`attendance_lib.io.marks` (the text before the ``:``):

====================  ==========================================  ====================
kind                  what is done                                quarantined rows
====================  ==========================================  ====================
``unknown_code``      a mark's code replaced by one no code set     1 each
                      has (``A``, ``F``, ``9``, ``*``, ``?``)
``weekend``           an extra mark dated a Saturday or Sunday      1 each
``duplicate``         a mark repeated exactly                       1 each (the repeat)
``conflict``          a second mark for a pupil-session, another    2 each (both marks)
                      code
``bad_upn``           a mark's UPN given a wrong check letter       1 each
``outside_enrolment`` an extra mark before the pupil's admission     1 each
                      or after their leaving date
``invalid_date``      a mark's date mangled (``2024-02-30``,        1 each
                      ``31/13/2024``, ...)
``not_on_roll``       marks of a pupil missing from the pupils      1 each
                      file
====================  ==========================================  ====================

With dirt, the marks file's ``date`` column is text (a malformed date cannot be a Parquet
date), as in a CSV export.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attendance_lib.upn import LETTERS

from .pupils import upn_check_letters

__all__ = ["KINDS", "REASONS", "expected_quarantine", "inject"]

KINDS = ("unknown_code", "weekend", "duplicate", "conflict", "bad_upn", "outside_enrolment",
         "invalid_date", "not_on_roll")
#: quarantine reason (text before ':') each kind produces in the marks loader
REASONS = {
    "unknown_code": "unknown code",
    "weekend": "mark on a weekend",
    "duplicate": "duplicate mark",
    "conflict": "conflicting codes for one pupil-session",
    "bad_upn": "failed UPN check",
    "outside_enrolment": "mark outside enrolment",
    "invalid_date": "invalid date",
    "not_on_roll": "pupil not on roll",
}
_ROWS_PER = {"conflict": 2}
_BAD_CODES = np.array(["A", "F", "9", "*", "?"])
_BAD_DATES = ("{y}-02-30", "31/13/{y}", "{y}-13-05", "{y}0905", "5th Sept {y}", "{y}-09-31")


def expected_quarantine(counts: dict[str, int]) -> dict[str, int]:
    """Quarantined rows by loader reason for the injected counts by kind."""
    out: dict[str, int] = {}
    for kind, n in counts.items():
        if n:
            out[REASONS[kind]] = out.get(REASONS[kind], 0) + n * _ROWS_PER.get(kind, 1)
    return out


def _weekday_shift(days: np.ndarray, step: int, rng) -> np.ndarray:
    """Move each day by ``step`` weekdays in its direction, plus 0-6 more weekdays."""
    d = np.datetime64("1970-01-01") + days.astype("timedelta64[D]")
    extra = rng.integers(0, 7, len(days))
    out = np.busday_offset(d, step * (1 + extra), roll="forward")
    return (out - np.datetime64("1970-01-01")).astype(np.int64)


def inject(df: pd.DataFrame, counts: dict[str, int], rng: np.random.Generator,
           enrolments: pd.DataFrame, window: tuple[int, int], valid_code: callable,
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add dirt to one school's marks.

    Parameters
    ----------
    df : DataFrame
        ``upn, urn, day (int, days since 1970), session, code`` of one school, clean.
    counts : how many of each kind to inject.
    enrolments : ``upn, first_day, last_day`` (day numbers, inclusive) of the school's
        enrolments, with ``admission, leaving`` day numbers (leaving may be missing).
    window : (first, last) day numbers of the generated data.
    valid_code : ``f(day_numbers) -> codes`` valid present codes for those days.

    Returns the dirty marks (``date`` as text) and one row per injected problem.
    """
    n = len(df)
    # distinct source rows, never the same row twice
    need = sum(counts.values())
    src = rng.choice(n, size=min(need, n), replace=False) if n else np.zeros(0, np.int64)
    take = {}
    pos = 0
    for kind in KINDS:
        k = int(counts.get(kind, 0))
        take[kind] = src[pos:pos + k]
        pos += k
    out = df.copy()
    out["date"] = (np.datetime64("1970-01-01") + out["day"].to_numpy().astype(
        "timedelta64[D]")).astype(str)
    extra: list[pd.DataFrame] = []
    log: list[dict] = []

    def note(kind, rows: pd.DataFrame):
        for r in rows.itertuples():
            log.append({"kind": kind, "reason": REASONS[kind], "upn": r.upn, "urn": r.urn,
                        "date": r.date, "session": r.session, "code": r.code})

    # modified in place
    i = take["unknown_code"]
    out.loc[out.index[i], "code"] = _BAD_CODES[rng.integers(0, len(_BAD_CODES), len(i))]
    note("unknown_code", out.iloc[i])
    i = take["bad_upn"]
    if len(i):
        upns = out["upn"].to_numpy()[i].astype(str)
        right = np.array([u[0] for u in upns])
        shift = rng.integers(1, 23, len(i))
        wrong = np.array(list(LETTERS))[(np.array([LETTERS.index(c) for c in right])
                                         + shift) % 23]
        out.loc[out.index[i], "upn"] = np.char.add(wrong, np.array([u[1:] for u in upns]))
        note("bad_upn", out.iloc[i])
    i = take["invalid_date"]
    if len(i):
        years = out["date"].to_numpy()[i].astype("U4")
        pat = rng.integers(0, len(_BAD_DATES), len(i))
        out.loc[out.index[i], "date"] = [_BAD_DATES[p].format(y=y) for p, y in
                                         zip(pat, years, strict=True)]
        note("invalid_date", out.iloc[i])
    # added rows
    i = take["duplicate"]
    dup = out.iloc[i].copy()
    extra.append(dup)
    note("duplicate", dup)
    i = take["conflict"]
    con = out.iloc[i].copy()
    con["code"] = np.where(np.isin(con["code"], ["/", "\\", "L"]), "I",
                           np.where(con["session"] == "AM", "/", "\\"))
    extra.append(con)
    note("conflict", pd.concat([out.iloc[i], con]))
    i = take["weekend"]
    wk = out.iloc[i].copy()
    d = wk["day"].to_numpy()
    wd = (d + 3) % 7
    wkend = d - wd + 5 + rng.integers(0, 2, len(i))
    wk["day"] = wkend
    wk["date"] = (np.datetime64("1970-01-01") + wkend.astype("timedelta64[D]")).astype(str)
    extra.append(wk)
    note("weekend", wk)
    k = int(counts.get("outside_enrolment", 0))
    if k:
        e = enrolments
        lo, hi = window
        cand_before = e[e["admission"] - 1 >= lo]
        cand_after = e[e["leaving"].notna() & (e["leaving"] + 1 <= hi)]
        rows = []
        for _ in range(k):
            if len(cand_after) and (rng.random() < 0.5 or not len(cand_before)):
                r = cand_after.iloc[int(rng.integers(0, len(cand_after)))]
                day = int(_weekday_shift(np.array([int(r["leaving"])]), 1, rng)[0])
            elif len(cand_before):
                r = cand_before.iloc[int(rng.integers(0, len(cand_before)))]
                day = int(_weekday_shift(np.array([int(r["admission"])]), -1, rng)[0])
            else:
                continue
            rows.append((r["upn"], day))
        if rows:
            up, days = zip(*rows, strict=True)
            days = np.array(days)
            ses = np.where(rng.random(len(days)) < 0.5, "AM", "PM")
            oe = pd.DataFrame({"upn": list(up), "urn": df["urn"].iat[0], "day": days,
                               "session": ses,
                               "code": np.where(ses == "AM", "/", "\\")})
            oe["date"] = (np.datetime64("1970-01-01") + days.astype("timedelta64[D]")
                          ).astype(str)
            # the same pupil-session could be drawn twice: keep one, so each is one problem
            oe = oe.drop_duplicates(["upn", "day", "session"])
            extra.append(oe)
            note("outside_enrolment", oe)
    k = int(counts.get("not_on_roll", 0))
    if k and n:
        base = out.iloc[rng.choice(n, size=k, replace=False)].copy()
        bodies = np.array([f"998{int(rng.integers(0, 10**9)):09d}" for _ in range(k)])
        base["upn"] = np.char.add(upn_check_letters(bodies), bodies)
        base["code"] = valid_code(base["day"].to_numpy())
        extra.append(base)
        note("not_on_roll", base)
    dirty = pd.concat([out, *extra], ignore_index=True)
    dirty = dirty.sort_values(["upn", "day", "session"], kind="stable").reset_index(drop=True)
    return dirty[["upn", "urn", "date", "session", "code"]], pd.DataFrame(log)
