"""Incremental ingest (issue 9 part 1): daily loads, overlapping exports, corrections.

A small synthetic LA (400 pupils, 3 schools, 2 Sep - 29 Nov 2024) is split by date into an initial
load (to Fri 22 Nov) and one file per day of the week of 25 Nov. Loaded one file at a time, or all
in one call, the store must give exactly what loading the generator's whole file at once gives.
Expected corrected stores are built independently: the correction is applied to the marks
DataFrame and that is loaded into a fresh store. The flag test is worked out by hand.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import UPN, URN_A

from attendance_lib import metrics
from attendance_lib.store import CORRECTION_COLUMNS, Store
from attendance_lib.synth import generate_la

DAYS = ["2024-11-25", "2024-11-26", "2024-11-27", "2024-11-28", "2024-11-29"]
AS_OF = ["2024-10-16", "2024-11-22", "2024-11-25", "2024-11-27", "2024-11-29"]
COLS = ["upn", "urn", "date", "session", "code"]


# --------------------------------------------------------------------------- helpers
def _write(df: pd.DataFrame, path: Path) -> Path:
    df = df[COLS].reset_index(drop=True)
    if path.suffix == ".csv":
        df.assign(date=df["date"].astype(str)).to_csv(path, index=False)
    else:
        t = pa.table({c: pa.array(df[c].astype(str).tolist(), pa.string()) for c in COLS
                      if c != "date"} | {"date": pa.array(list(df["date"]), pa.date32())})
        pq.write_table(t.select(COLS), path)
    return path


def _fresh(la, marks: pd.DataFrame, root: Path) -> Store:
    """A store loaded at once from ``marks`` (the independent expectation)."""
    store = Store(root)
    res = store.ingest([_write(marks, root.parent / f"{root.name}.parquet")], pupils=la.pupils,
                       schools=la.schools)
    assert res.rows_quarantined == 0 and res.balanced
    return store


def _sorted(df: pd.DataFrame, keys) -> pd.DataFrame:
    return df.sort_values(keys).reset_index(drop=True)


def summaries(store: Store) -> dict[str, pd.DataFrame]:
    """Pupil, school and LA summaries year to date at several dates (mid-week ones too), a
    window cut mid-week at both ends, the legal-threshold status, and the marks view."""
    store = Store(store.root)  # a fresh connection: views over the files as they are now
    out = {}
    for d in AS_OF:
        enr = _sorted(metrics.enrolment_summary(store, d), ["urn", "upn"])
        out[f"pupil {d}"] = enr
        out[f"school {d}"] = metrics.school_summary(enr)
        out[f"la {d}"] = metrics.la_summary(enr)
    out["window"] = _sorted(metrics.enrolment_summary(store, start="2024-11-19",
                                                      end="2024-11-27"), ["urn", "upn"])
    out["weekly"] = metrics.weekly_summary(store, "2024-11-13", "2024-11-28")
    out["legal"] = _sorted(metrics.legal_threshold_status(store, "2024-11-28"), ["urn", "upn"])
    out["marks"] = _sorted(store.marks(), ["urn", "upn", "date", "session"])
    return out


def assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for k in want:
        pd.testing.assert_frame_equal(got[k], want[k], check_dtype=False, obj=k)


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                       p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()
            and not str(p.relative_to(root)).startswith(skip)}


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def la_env(tmp_path_factory):
    """The LA, its marks, the split files, and three stores: all at once, one file per ingest,
    and every file in one ingest call."""
    root = tmp_path_factory.mktemp("incremental")
    la = generate_la(root / "la", pupils=400, schools=3, years=1, as_of="2024-11-29", seed=7)
    marks = pd.read_parquet(la.marks)
    for c in COLS:
        marks[c] = marks[c].astype(str) if c != "date" else pd.to_datetime(marks[c]).dt.date
    day = {d: marks[marks["date"] == date.fromisoformat(d)] for d in DAYS}
    assert all(len(v) > 500 for v in day.values())
    files = {"initial": _write(marks[marks["date"] < date(2024, 11, 25)],
                               root / "initial.parquet")}
    for d in DAYS[:3]:
        files[d] = _write(day[d], root / f"day-{d}.csv")
    # a two-day export overlapping the day already loaded (Wed 27 again, then Thu 28)
    files["overlap"] = _write(pd.concat([day[DAYS[2]], day[DAYS[3]]]), root / "wed-thu.csv")
    files[DAYS[4]] = _write(day[DAYS[4]], root / f"day-{DAYS[4]}.parquet")

    full = Store(root / "full")
    res = full.ingest([la.marks], pupils=la.pupils, schools=la.schools)
    assert res.rows_quarantined == 0

    inc = Store(root / "incremental")
    results = {}
    for name, path in files.items():
        roster = {"pupils": la.pupils, "schools": la.schools} if name == "initial" else {}
        results[name] = inc.ingest([path], **roster)
        if name == "initial":
            first = next((inc.root / "marks").glob("*.parquet"))
            initial_file = (first, hashlib.sha256(first.read_bytes()).hexdigest())
    batch = Store(root / "batch")
    batch_result = batch.ingest(list(files.values()), pupils=la.pupils, schools=la.schools)
    return {"la": la, "marks": marks, "day": day, "files": files, "full": full, "inc": inc,
            "results": results, "batch": batch, "batch_result": batch_result,
            "initial_file": initial_file, "root": root,
            "expected": summaries(full)}


@pytest.fixture
def inc_copy(la_env, tmp_path) -> Store:
    """A private copy of the incremental store (for tests that change it)."""
    shutil.copytree(la_env["inc"].root, tmp_path / "store")
    return Store(tmp_path / "store")


# --------------------------------------------------------------------------- equality
def test_incremental_equals_full_reingest(la_env):
    inc = la_env["inc"]
    assert len(inc.settings["loads"]) == 6
    for name, res in la_env["results"].items():
        assert res.balanced, name
        assert res.rows_rejected == 0 and res.rows_corrected == 0, name
    assert_same(summaries(inc), la_env["expected"])
    # the initial load's marks file was never rewritten by the daily loads
    path, sha = la_env["initial_file"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    # no correction, so the views are the plain ones: one row per load and enrolment-week
    assert inc.corrections().empty and list(inc.corrections().columns) == CORRECTION_COLUMNS


def test_all_files_in_one_ingest_equal_full(la_env):
    res = la_env["batch_result"]
    assert res.balanced and res.rows_rejected == 0 and res.rows_corrected == 0
    assert res.rows_already_stored == len(la_env["day"][DAYS[2]])
    assert_same(summaries(la_env["batch"]), la_env["expected"])


def test_overlapping_file_loads_only_the_new_day(la_env):
    day, res = la_env["day"], la_env["results"]["overlap"]
    rep = next(r for r in res.reports if r.kind == "marks")
    n_wed, n_thu = len(day[DAYS[2]]), len(day[DAYS[3]])
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (n_wed + n_thu, n_thu, n_wed)
    assert (rep.rows_already_stored, rep.rows_rejected, rep.rows_corrected) == (n_wed, 0, 0)
    assert set(rep.quarantine["reason"]) == {
        "already in the store: identical mark loaded from day-2024-11-27.csv"}
    # Wednesday's rows are the file's first: lines 2 .. n_wed + 1 (header line 1)
    assert sorted(rep.quarantine["line"]) == list(range(2, n_wed + 2))
    assert f"{n_wed:,} quarantined mark(s) already in the store, identical" in rep.line()
    q = pd.read_csv(res.quarantine_path)
    assert len(q) == n_wed and set(q["file"]) == {str(la_env["files"]["overlap"])}
    # the load holds Thursday only
    load = la_env["inc"].settings["loads"][4]
    m = pd.read_parquet(la_env["inc"].root / "marks" / f"{load['id']}.parquet")
    assert len(m) == n_thu and set(pd.to_datetime(m["date"]).dt.date) == {date(2024, 11, 28)}
    assert load["already_stored"] == n_wed


def test_resent_file_changes_nothing(la_env, inc_copy):
    before, want = snapshot(inc_copy.root), summaries(inc_copy)
    res = inc_copy.ingest([la_env["files"][DAYS[1]]])
    assert res.skipped == [str(la_env["files"][DAYS[1]])]
    assert "already loaded" in " ".join(res.reports[0].notes)
    assert res.quarantine_path is None
    assert snapshot(inc_copy.root) == before
    assert_same(summaries(inc_copy), want)


def test_same_marks_in_a_new_file_add_nothing(la_env, inc_copy, tmp_path):
    # the same day exported again (different bytes: new SHA-256): every mark already stored
    again = tmp_path / "tuesday-again.csv"
    again.write_text(la_env["files"][DAYS[1]].read_text() + "\n")
    before = snapshot(inc_copy.root, skip=("quarantine",))
    res = inc_copy.ingest([again])
    n = len(la_env["day"][DAYS[1]])
    rep = res.reports[0]
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (n, 0, n)
    assert rep.rows_already_stored == n and res.rows_rejected == 0
    assert snapshot(inc_copy.root, skip=("quarantine",)) == before  # no load added
    assert len(pd.read_csv(res.quarantine_path)) == n


# --------------------------------------------------------------------------- corrections
def _pick(marks: pd.DataFrame, day: str, codes) -> pd.Series:
    sel = marks[(marks["date"] == date.fromisoformat(day)) & marks["code"].isin(codes)]
    assert len(sel), f"no {codes} mark on {day}"
    return sel.sort_values(["urn", "upn", "session"]).iloc[0]


def _recode(marks: pd.DataFrame, row: pd.Series, code: str) -> pd.DataFrame:
    key = ((marks["upn"] == row["upn"]) & (marks["urn"] == row["urn"])
           & (marks["date"] == row["date"]) & (marks["session"] == row["session"]))
    assert key.sum() == 1
    out = marks.copy()
    out.loc[key, "code"] = code
    return out


def test_corrections_replace_log_and_chain(la_env, inc_copy, tmp_path):
    marks, day, files = la_env["marks"], la_env["day"], la_env["files"]
    store = inc_copy
    tue = _pick(marks, DAYS[1], ["N", "O", "G"])        # an unauthorised mark on Tue 26
    old = _pick(marks, "2024-10-08", ["/", "\\"])         # a present mark in the initial load
    # 1. Tuesday re-exported with one mark corrected to C (authorised)
    fix1 = _write(_recode(day[DAYS[1]], tue, "C"), tmp_path / "tuesday-corrected.csv")
    # validate first: reports the correction, changes nothing
    before = snapshot(store.root)
    dry = store.ingest([fix1], dry_run=True)
    assert dry.rows_corrected == 1 and dry.rows_already_stored == len(day[DAYS[1]]) - 1
    assert dry.corrections[["upn", "old_code", "new_code"]].values.tolist() == [
        [tue["upn"], tue["code"], "C"]]
    assert snapshot(store.root) == before and store.corrections().empty
    res1 = store.ingest([fix1])
    rep = res1.reports[0]
    n = len(day[DAYS[1]])
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (n, 1, n - 1)
    assert (rep.rows_corrected, rep.rows_already_stored, rep.rows_rejected) == (1, n - 1, 0)
    assert "1 loaded mark(s) correct a different code already in the store" in rep.line()
    want1 = _recode(marks, tue, "C")
    assert_same(summaries(store), summaries(_fresh(la_env["la"], want1, tmp_path / "want1")))
    got = store.marks(start=tue["date"], end=tue["date"], upns=[tue["upn"]])
    assert got.loc[got["session"] == tue["session"], "code"].tolist() == ["C"]
    loads = {ld["given"]: ld["id"] for ld in store.settings["loads"]}
    log = store.corrections()
    assert len(log) == 1
    row = log.iloc[0]
    assert (row["upn"], row["urn"], row["date"].date(), row["session"]) == (
        tue["upn"], tue["urn"], tue["date"], tue["session"])
    assert (row["old_code"], row["new_code"]) == (tue["code"], "C")
    assert (row["old_load"], row["new_load"]) == (loads[str(files[DAYS[1]])],
                                                   loads[str(fix1)])
    assert row["file"] == str(fix1) and row["line"] >= 2

    # 2. the same mark corrected again (C -> M) and a mark of the initial load (-> I), in a
    #    small file of just the two rows
    fix2 = _write(pd.DataFrame([{**tue[COLS].to_dict(), "code": "M"},
                                {**old[COLS].to_dict(), "code": "I"}]), tmp_path / "fix2.csv")
    res2 = store.ingest([fix2])
    assert res2.rows_corrected == 2 and res2.rows_quarantined == 0
    want2 = _recode(_recode(marks, tue, "M"), old, "I")
    assert_same(summaries(store), summaries(_fresh(la_env["la"], want2, tmp_path / "want2")))
    log = store.corrections()
    assert len(log) == 3
    chain = log[(log["upn"] == tue["upn"]) & (log["session"] == tue["session"])]
    assert chain[["old_code", "new_code"]].values.tolist() == [[tue["code"], "C"], ["C", "M"]]
    assert chain["old_load"].iloc[1] == chain["new_load"].iloc[0]
    first = log[log["upn"] == old["upn"]].iloc[0]
    assert (first["old_code"], first["new_code"], first["old_load"]) == (
        old["code"], "I", store.settings["loads"][0]["id"])
    # no pre-aggregate row shows a correction's delta on its own
    neg = store.query("SELECT count(*) AS n FROM enrolment_weeks WHERE least(possible, present, "
                      "aea, authorised, unauthorised, not_possible, covid, late_before, "
                      "late_after, legal_unauth, marks) < 0")["n"].iloc[0]
    assert neg == 0
    # 3. sending the corrected code again adds nothing; the store's marks are in force
    res3 = store.ingest([_write(pd.DataFrame([{**tue[COLS].to_dict(), "code": "M"}]),
                                tmp_path / "fix3.csv")])
    assert res3.rows_already_stored == 1 and res3.rows_corrected == 0
    assert len(store.corrections()) == 3
    # the restricted (per-school) store sees its own school's corrections only
    school = store.for_schools([tue["urn"]])
    assert set(school.corrections()["urn"]) == {tue["urn"]}


def test_conflict_inside_one_file_stays_quarantined(la_env, inc_copy, tmp_path):
    tue = _pick(la_env["marks"], DAYS[1], ["/", "\\"])
    rows = pd.DataFrame([{**tue[COLS].to_dict(), "code": "N"},
                         {**tue[COLS].to_dict(), "code": "C"}])
    res = inc_copy.ingest([_write(rows, tmp_path / "conflict.csv")])
    rep = res.reports[0]
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (2, 0, 2)
    assert rep.rows_corrected == 0 and rep.rows_rejected == 2
    assert rep.quarantine["reason"].str.startswith("conflicting codes").all()
    assert inc_copy.corrections().empty


# --------------------------------------------------------------------------- flags by hand
def test_corrections_move_pa_and_legal_threshold_flags(register_builder):
    """U0 (URN A): week of Mon 9 Sep all N (10 unauthorised), week of 16 Sep all present:
    20 possible, 10 absent = 50% (PA and SA); 10 G/N/O/U sessions in 2 school weeks, so the
    legal threshold is reached on Fri 13 Sep PM. U1: present all of week 1; week 2 only one mark,
    Mon 16 AM N: 11 possible, 1 absent (9.1%, not PA), 2 school weeks."""
    reg = register_builder
    reg.school(URN_A).pupil(UPN[0], URN_A).pupil(UPN[1], URN_A)
    reg.repeat(UPN[0], URN_A, "2024-09-09", "N N", 5)
    reg.repeat(UPN[0], URN_A, "2024-09-16", "/ \\", 5)
    reg.repeat(UPN[1], URN_A, "2024-09-09", "/ \\", 5)
    reg.days(UPN[1], URN_A, "2024-09-16", "N -")
    store = reg.ingest()

    def state():
        s = Store(store.root)
        enr = metrics.enrolment_summary(s, "2024-09-20").set_index("upn")
        leg = metrics.legal_threshold_status(s, "2024-09-20").set_index("upn")
        return {u: (int(enr.loc[u, "possible"]), int(enr.loc[u, "authorised"]),
                    int(enr.loc[u, "unauthorised"]), bool(enr.loc[u, "persistent_absence"]),
                    bool(enr.loc[u, "severe_absence"]), int(leg.loc[u, "sessions_in_window"]),
                    int(leg.loc[u, "school_weeks_in_window"]), bool(leg.loc[u, "at_threshold"]))
                for u in UPN[:2]}

    def correct(upn, day, session, code):
        reg.mark(upn, URN_A, day, session, code)
        reg.ingest(store)
        assert reg.last_result.rows_corrected == 1

    assert state() == {UPN[0]: (20, 0, 10, True, True, 10, 2, True),
                       UPN[1]: (11, 0, 1, False, False, 1, 2, False)}
    # N -> O: both unauthorised and both count for the threshold: nothing moves
    correct(UPN[0], "2024-09-13", "PM", "O")
    assert state()[UPN[0]] == (20, 0, 10, True, True, 10, 2, True)
    leg = metrics.legal_threshold(Store(store.root), "2024-09-20").set_index("upn")
    assert str(leg.loc[UPN[0], "date_reached"].date()) == "2024-09-13"
    # O -> C (authorised): still 10 absent of 20 (PA, SA) but 9 unauthorised: below threshold
    correct(UPN[0], "2024-09-13", "PM", "C")
    assert state()[UPN[0]] == (20, 1, 9, True, True, 9, 2, False)
    assert metrics.legal_threshold(Store(store.root), "2024-09-20").empty
    # Fri 13 AM N -> / (present): 9 absent of 20 = 45%: PA, no longer SA; 8 unauthorised
    correct(UPN[0], "2024-09-13", "AM", "/")
    assert state()[UPN[0]] == (20, 1, 8, True, False, 8, 2, False)
    # U1's only week-2 mark N -> X (not possible): week 2 is no school week for U1 any more
    correct(UPN[1], "2024-09-16", "AM", "X")
    assert state()[UPN[1]] == (10, 0, 0, False, False, 0, 1, False)
    assert len(Store(store.root).corrections()) == 4
