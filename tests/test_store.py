"""Tests for attendance_lib.store: loading, idempotency, reopening, privacy isolation.

Counts are worked out by hand in the comments (see test_metrics.py for the definitions).
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from conftest import UPN, URN_A, URN_B

from attendance_lib import metrics
from attendance_lib.store import Store, StoreError

P = "/ \\"


def _two_schools(reg):
    """U0, U1 at A; U2 at B; marks Mon 9 - Fri 13 Sep 2024 (30 marks)."""
    reg.school(URN_A).school(URN_B, "secondary")
    reg.pupil(UPN[0], URN_A).pupil(UPN[1], URN_A).pupil(UPN[2], URN_B)
    reg.days(UPN[0], URN_A, "2024-09-09", "I I", P, P, P, P)       # 10 possible, 2 absent
    reg.days(UPN[1], URN_A, "2024-09-09", P, P, P, P, P)           # 10 possible, 0 absent
    reg.days(UPN[2], URN_B, "2024-09-09", "O O", "O O", P, P, P)   # 10 possible, 4 absent
    return reg


def _files(store: Store, sub: str) -> list[str]:
    return sorted(p.name for p in (store.root / sub).glob("*.parquet"))


# --------------------------------------------------------------------------- loading
def test_ingest_writes_marks_aggregates_and_rosters(register_builder):
    store = _two_schools(register_builder).ingest()
    assert store.exists()
    assert len(_files(store, "marks")) == 1 and len(_files(store, "agg")) == 1
    assert (store.root / "pupils.parquet").exists() and (store.root / "schools.parquet").exists()
    marks = store.marks()
    assert len(marks) == 30
    assert list(marks.columns) == ["upn", "urn", "date", "session", "code", "category",
                                   "academic_year"]
    assert set(marks["academic_year"]) == {2024}
    assert marks[marks["code"] == "I"]["category"].unique().tolist() == ["authorised"]
    assert sorted(store.pupils()["upn"]) == sorted(UPN[:3])
    assert store.schools()["urn"].tolist() == [URN_A, URN_B]
    assert len(store.settings["loads"]) == 1
    rep = register_builder.last_result.reports
    assert all(r.balanced for r in rep)
    assert [r.rows_read for r in rep if r.kind == "marks"] == [30]


def test_marks_filters(register_builder):
    store = _two_schools(register_builder).ingest()
    # Tue 10 - Wed 11: 3 pupils x 2 days x 2 sessions = 12
    assert len(store.marks(start="2024-09-10", end="2024-09-11")) == 12
    only = store.marks(upns=[UPN[2]])
    assert len(only) == 10 and set(only["urn"]) == {URN_B}
    assert store.marks(start="2024-09-14").empty


def test_latest_date_and_date_range(register_builder):
    store = _two_schools(register_builder).ingest()
    assert str(store.latest_date()) == "2024-09-13"
    lo, hi = store.date_range()
    assert (str(lo), str(hi)) == ("2024-09-09", "2024-09-13")
    empty = Store(register_builder.root / "nothing")
    assert not empty.exists()
    assert empty.latest_date() is None and empty.date_range() == (None, None)
    with pytest.raises(StoreError, match="no store here"):
        empty.require()


def test_store_with_rosters_but_no_marks(register_builder):
    reg = register_builder
    reg.school(URN_A).pupil(UPN[0], URN_A)
    store = reg.ingest()
    assert store.marks().empty
    assert list(store.marks().columns)[:5] == ["upn", "urn", "date", "session", "code"]
    assert store.latest_date() is None
    assert len(store.pupils()) == 1


# --------------------------------------------------------------------------- idempotency
def test_reingesting_the_same_file_adds_nothing(register_builder):
    store = _two_schools(register_builder).ingest()
    marks_file = register_builder.root / "marks1.csv"
    before = metrics.summary(store, "pupil")
    loads, files = list(store.settings["loads"]), _files(store, "marks")

    again = Store(store.root).ingest([marks_file])
    assert again.skipped == [str(marks_file)]
    assert "already loaded" in " ".join(again.reports[0].notes)
    assert again.quarantine_path is None
    assert store.settings["loads"] == loads
    assert _files(store, "marks") == files and len(_files(store, "agg")) == 1
    assert len(store.marks()) == 30
    pd.testing.assert_frame_equal(metrics.summary(Store(store.root), "pupil"), before)
    # U0 10 possible, 2 absent; U2 10 possible, 4 absent
    by = before.set_index("upn")
    assert (by.loc[UPN[0], "possible_sessions"], by.loc[UPN[0], "authorised_sessions"]) == (10, 2)
    assert by.loc[UPN[2], "unauthorised_sessions"] == 4


def test_a_second_file_with_new_dates_adds(register_builder):
    reg = _two_schools(register_builder)
    store = reg.ingest()
    # second file: Mon 16 - Tue 17 Sep; U1 absent N N on Mon, U0 present
    reg.days(UPN[0], URN_A, "2024-09-16", P, P)
    reg.days(UPN[1], URN_A, "2024-09-16", "N N", P)
    store = reg.ingest(store)
    assert len(store.settings["loads"]) == 2
    assert len(_files(store, "marks")) == 2 and len(_files(store, "agg")) == 2
    assert len(store.marks()) == 38                        # 30 + 2 pupils x 4
    assert str(store.latest_date()) == "2024-09-17"
    enr = metrics.enrolment_summary(store, "2024-09-17").set_index("upn")
    # U0: 14 possible, 2 absent (14.3%, PA); U1: 14 possible, 2 absent; U2 unchanged 10 / 4
    assert enr.loc[UPN[0], ["possible", "absent"]].tolist() == [14, 2]
    assert enr.loc[UPN[1], ["possible", "absent"]].tolist() == [14, 2]
    assert enr.loc[UPN[2], ["possible", "absent"]].tolist() == [10, 4]


def test_overlapping_file_skips_stored_marks_and_applies_corrections(register_builder):
    reg = _two_schools(register_builder)
    store = reg.ingest()
    # Fri 13 Sep again: U0 same marks (2 already stored), U1 'I' instead of '/' in the AM
    # (1 correction) and same PM (1 already stored); Mon 16 Sep U1 present (2 new marks)
    reg.days(UPN[0], URN_A, "2024-09-13", P)
    reg.days(UPN[1], URN_A, "2024-09-13", "I \\", P)
    store = reg.ingest(store, check=False)
    res = reg.last_result
    rep = next(r for r in res.reports if r.kind == "marks")
    # loaded: the correction and the 2 new marks; quarantined: the 3 identical ones
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (6, 3, 3)
    assert rep.balanced and rep.rows_corrected == 1
    assert (rep.rows_already_stored, rep.rows_rejected) == (3, 0)
    reasons = rep.quarantine["reason"]
    assert reasons.str.startswith("already in the store: identical mark loaded from "
                                  "marks1.csv").sum() == 3
    # lines of the second file (header line 1): U0 Fri AM, PM = 2, 3; U1 Fri PM = 5
    assert sorted(rep.quarantine["line"]) == [2, 3, 5]
    assert res.quarantine_path is not None and res.quarantine_path.exists()
    assert res.quarantine_path.parent == store.root / "quarantine"
    assert len(pd.read_csv(res.quarantine_path)) == 3
    # the later file wins: U1 has 'I' on Fri 13 AM; U1 now 12 possible, 1 absent
    r = metrics.enrolment_summary(store, "2024-09-16").set_index("upn").loc[UPN[1]]
    assert (r["possible"], r["absent"], r["authorised"]) == (12, 1, 1)
    assert len(store.marks()) == 32
    fri = store.marks(start="2024-09-13", end="2024-09-13", upns=[UPN[1]])
    assert fri["code"].tolist() == ["I", "\\"]
    log = store.corrections()
    assert len(log) == 1
    assert log.iloc[0][["upn", "session", "old_code", "new_code", "line"]].tolist() == [
        UPN[1], "AM", "/", "I", 4]


def test_quarantine_file_path_returned_for_bad_rows(register_builder):
    reg = register_builder
    reg.school(URN_A).pupil(UPN[0], URN_A)
    reg.days(UPN[0], URN_A, "2024-09-09", P)
    reg.mark(UPN[0], URN_A, "2024-09-14", "AM", "/")       # Saturday
    reg.mark(UPN[0], URN_A, "2024-09-10", "AM", "J")       # withdrawn in 2024/25
    reg.mark(UPN[0], URN_A, "2024-09-10", "PM", "Y")       # replaced by Y1-Y7
    reg.mark("Q207000016049", URN_A, "2024-09-10", "AM", "/")  # bad check letter (P)
    store = reg.ingest(check=False)
    res = reg.last_result
    assert res.quarantine_path.exists()
    assert res.quarantine_path.parent == store.root / "quarantine"
    q = pd.read_csv(res.quarantine_path)
    assert len(q) == 4 and res.rows_quarantined == 4
    text = " | ".join(q["reason"])
    assert "weekend" in text and "Saturday" in text
    assert "'J1'" in text                    # the withdrawn code names its replacement
    assert "'Y1'" in text
    assert "check letter" in text
    assert set(q["line"]) == {4, 5, 6, 7}    # header is line 1, the good marks lines 2-3
    assert len(store.marks()) == 2


def test_start_month_is_fixed_once_loaded(register_builder):
    reg = _two_schools(register_builder)
    store = reg.ingest(start_month=9)
    assert Store(store.root).start_month == 9
    reg.days(UPN[0], URN_A, "2024-09-16", P)
    with pytest.raises(StoreError, match="cannot change"):
        reg.ingest(store, start_month=8)
    with pytest.raises(StoreError, match="8 .* or 9"):
        Store(register_builder.root / "other").ingest([], start_month=1)


# --------------------------------------------------------------------------- reopening
def test_store_survives_reopening_and_duckdb_file_queries(register_builder):
    store = _two_schools(register_builder).ingest()
    first = metrics.summary(store, "school")
    store.close()
    reopened = Store(store.root)
    pd.testing.assert_frame_equal(metrics.summary(reopened, "school"), first)
    # A: U0 + U1 = 20 possible, 2 absent; B: U2 10 possible, 4 absent
    assert first["possible_sessions"].tolist() == [20, 10]
    assert first["overall_absence_pct"].tolist() == pytest.approx([10.0, 40.0])
    db = store.root / "store.duckdb"
    assert db.exists()
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM marks").fetchone()[0] == 30
        assert con.execute("SELECT sum(possible) FROM enrolment_weeks").fetchone()[0] == 30
        assert con.execute("SELECT count(*) FROM pupils").fetchone()[0] == 3
        assert con.execute("SELECT count(*) FROM schools").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM marks WHERE code = 'O'").fetchone()[0] == 4
    finally:
        con.close()


# --------------------------------------------------------------------------- privacy
@pytest.mark.parametrize("how", ["constructor", "for_schools"])
def test_restricted_store_sees_only_its_school(register_builder, how):
    full = _two_schools(register_builder).ingest()
    store = Store(full.root, urns=[URN_A]) if how == "constructor" else full.for_schools([URN_A])
    assert store.urns == (URN_A,)
    assert set(store.pupils()["urn"]) == {URN_A}
    assert sorted(store.pupils()["upn"]) == sorted(UPN[:2])
    assert store.schools()["urn"].tolist() == [URN_A]
    m = store.marks()
    assert len(m) == 20 and set(m["urn"]) == {URN_A}
    assert store.marks(upns=[UPN[2]]).empty                # B's pupil is invisible
    enr = metrics.enrolment_summary(store, "2024-09-13")
    assert sorted(enr["upn"]) == sorted(UPN[:2]) and set(enr["urn"]) == {URN_A}
    assert metrics.summary(store, "school")["urn"].tolist() == [URN_A]
    la = metrics.summary(store, "la").iloc[0]
    assert (la["enrolments"], la["possible_sessions"]) == (2, 20)
    assert set(metrics.weekly_summary(store, "2024-09-09", "2024-09-13")["urn"]) == {URN_A}
    assert set(metrics.reason_breakdown(store, "2024-09-09", "2024-09-13")["code"]) == {
        "/", "\\", "I"}
    # the id tables behind the views do not list the other school's pupils either
    assert sorted(store.query("SELECT upn FROM upn_ids")["upn"]) == sorted(UPN[:2])
    assert store.query("SELECT urn FROM urn_ids")["urn"].tolist() == [URN_A]
    assert str(store.latest_date()) == "2024-09-13"


def test_restricted_store_cannot_ingest_or_widen(register_builder):
    reg = _two_schools(register_builder)
    full = reg.ingest()
    store = full.for_schools([URN_A])
    files = reg.write()
    with pytest.raises(StoreError, match="read-only"):
        store.ingest(pupils=files["pupils"])
    with pytest.raises(StoreError, match="widen"):
        store.for_schools([URN_B])
    with pytest.raises(StoreError, match="widen"):
        store.for_schools([URN_A, URN_B])
    assert store.for_schools([URN_A]).urns == (URN_A,)   # narrowing to itself is fine
    assert len(full.marks()) == 30                         # the full store is unchanged


def test_restricted_store_of_a_school_with_no_marks(register_builder):
    reg = _two_schools(register_builder)
    reg.school("100003")
    full = reg.ingest()
    store = full.for_schools(["100003"])
    assert store.pupils().empty and store.marks().empty
    assert metrics.enrolment_summary(store, "2024-09-13").empty
    assert store.query("SELECT * FROM upn_ids").empty
