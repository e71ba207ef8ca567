"""Data-quality views (attendance_lib.views.quality) on a tiny register with known problems.

Mon 9 - Fri 20 Sep 2024, as of Fri 20 Sep. School A: Q0 present except "N \\" on Tue 10 and
Fri 20 Sep; Q1 present but no PM mark on Wed 11 Sep. School B: Q2 present but Mon 9 AM coded
``F`` (not a code) and a mark on Sat 14 Sep; Q3 present throughout. A mark for UPN[7], who is in
no pupils file, at school A.

Load 1 (marks1.csv): Q0 20 + Q1 19 + Q2 21 + Q3 20 + UPN[7] 1 = 81 rows read; quarantined: F,
the Saturday, UPN[7] = 3; loaded 78.
Load 2 (marks2.csv): Q0 Mon 9 AM "/" again (already in the store), Q0 Mon 9 PM "I" (a correction
of the stored "\\": it replaces it), Q1 Mon 23 Sep AM "/" (new) = 3 read, 1 quarantined, 2 loaded.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import UPN, URN_A, URN_B, RegisterBuilder

from attendance_lib.privacy import school_store
from attendance_lib.views import quality

P = "/ \\"
AS_OF = "2024-09-20"
Q0, Q1, Q2, Q3 = UPN[:4]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    reg = RegisterBuilder(tmp_path_factory.mktemp("quality"))
    reg.school(URN_A, name="Alpha").school(URN_B, name="Beta")
    for u, s in ((Q0, URN_A), (Q1, URN_A), (Q2, URN_B), (Q3, URN_B)):
        reg.pupil(u, s)
    reg.days(Q0, URN_A, "2024-09-09", P, "N \\", P, P, P, P, P, P, P, "N \\")
    reg.days(Q1, URN_A, "2024-09-09", P, P, "/ -", *[P] * 7)
    reg.days(Q2, URN_B, "2024-09-09", "F \\", *[P] * 9)
    reg.mark(Q2, URN_B, "2024-09-14", "AM", "/")
    reg.repeat(Q3, URN_B, "2024-09-09", P, 10)
    reg.mark(UPN[7], URN_A, "2024-09-09", "AM", "/")
    store = reg.ingest(check=False)
    reg.mark(Q0, URN_A, "2024-09-09", "AM", "/")
    reg.mark(Q0, URN_A, "2024-09-09", "PM", "I")
    reg.mark(Q1, URN_A, "2024-09-23", "AM", "/")
    reg.ingest(store, with_roster=False, check=False)
    return store


def test_load_log_balances(store):
    log = quality.load_log(store)
    assert log["file"].tolist() == ["marks1.csv", "marks2.csv"]
    assert log["rows_read"].tolist() == [81, 3]
    assert log["rows_loaded"].tolist() == [78, 2]
    assert log["rows_quarantined"].tolist() == [3, 1]
    assert log["balanced"].all()


def test_quarantine_reasons_by_school_without_upns(store):
    q = quality.quarantine_reasons(store, by_school=True)
    got = {(u, r): n for u, r, n in zip(q["urn"], q["reason"], q["rows"], strict=True)}
    assert got == {(URN_B, "unknown code"): 1, (URN_B, "mark on a weekend"): 1,
                   (URN_A, "pupil not on roll"): 1, (URN_A, "already in the store"): 1}
    # the quarantine file's reasons and raw rows name UPNs; the table never does
    text = q.to_csv()
    assert not any(u in text for u in UPN)
    # a school's store sees only its own rows
    a = quality.quarantine_reasons(school_store(store.root, URN_A))
    assert dict(zip(a["reason"], a["rows"], strict=True)) == {
        "pupil not on roll": 1, "already in the store": 1}


def test_missing_marks(store):
    m = quality.missing_marks(store, AS_OF)
    # each school took registers on all 20 sessions of the 2 weeks; 2 pupils each
    assert m["expected"].tolist() == [20, 20, 20, 20]
    a = m[m["urn"] == URN_A].set_index(m[m["urn"] == URN_A]["week_start"].dt.strftime("%m-%d"))
    assert a.loc["09-09", ["marked", "missing"]].tolist() == [19, 1]     # Q1 Wed 11 PM
    assert a.loc["09-16", ["marked", "missing"]].tolist() == [20, 0]
    b = m[m["urn"] == URN_B]
    assert b["missing"].tolist() == [1, 0]                               # Q2's F was set aside
    assert b["missing_pct"].iloc[0] == pytest.approx(5.0)
    s = quality.missing_by_school(m).set_index("urn")
    assert s.loc[URN_A, ["weeks", "weeks_with_missing", "expected", "marked", "missing"]
                 ].tolist() == [2, 1, 40, 39, 1]
    assert s.loc[URN_A, "missing_pct"] == pytest.approx(2.5)
    # the school's own store gives the same rows for itself only
    own = quality.missing_marks(school_store(store.root, URN_A), AS_OF)
    assert set(own["urn"]) == {URN_A} and own["missing"].sum() == 1


def test_codes_in_use(store):
    c = quality.codes_in_use(store, AS_OF).set_index("code")
    assert list(c.columns) == ["meaning", "category", "sessions 2023/24", "sessions 2024/25",
                               "quarantined rows", "status"]
    # "/": Q0 8 (two N mornings) + Q1 10 + Q2 9 + Q3 10; Q1's 23 Sep is after the as-of date
    assert c.loc["/", "sessions 2024/25"] == 37
    # "\\": Q0 9 (Mon 9 PM corrected to "I" by load 2) + Q1 9 + Q2 10 + Q3 10
    assert c.loc["\\", "sessions 2024/25"] == 38
    assert c.loc["N", ["sessions 2024/25", "category", "status"]].tolist() == [
        2, "unauthorised", "in the code set"]
    assert c.loc["F", ["sessions 2024/25", "quarantined rows"]].tolist() == [0, 1]
    assert c.loc["F", "status"] == "not in the code set (quarantined)"
    assert (c["sessions 2023/24"] == 0).all()


def test_unresolved_n(store):
    n = quality.unresolved_n(store, AS_OF)
    # five school days before Fri 20 Sep is Fri 13 Sep: Tue 10's N is overdue, Fri 20's is not
    assert n.attrs["cutoff"].isoformat() == "2024-09-13"
    assert n["urn"].tolist() == [URN_A]
    r = n.iloc[0]
    assert (r["n_marks"], r["n_unresolved"], r["pupils_unresolved"]) == (2, 1, 1)
    assert r["oldest"] == pd.Timestamp("2024-09-10")
    later = quality.unresolved_n(store, "2024-09-30")
    assert later["n_unresolved"].tolist() == [2]
