"""The impact panel on a register written by hand: school weeks, windows, anchors, errors.

Register (school A, primary; both pupils on roll throughout), autumn 2024::

    week of Mon 2 Sep   Mon-Fri      pupil 0: Tue 3 Sep "I I"        pupil 1: all present
    week of Mon 9 Sep   Mon 9 = INSET "# #" for everyone;
                        pupil 0: Tue 10 "O O", Thu 12 "N /" (absent AM only)
    week of Mon 16 Sep  no marks (a closure week: not a school week)
    week of Mon 23 Sep  pupil 0: Tue 24 "I I"; pupil 1: Mon 23 - Fri 27 all "O O"

Mentoring for pupil 0 starts Wed 11 Sep. By the rules in ``attendance_lib.impact.panel``:

* week 0 = Wed 11 - Fri 13 (from the start day on): 6 possible, 1 absent (Thu 12 AM);
* week 1 = the week of 23 Sep (the closure week is not a school week): 10 possible, 2 absent;
* week -1 = the week of 2 Sep: 10 possible, 2 absent;
* Mon 9 (INSET, not possible) and Tue 10 ("O O") fall before the start in week 0: in neither
  window;
* year to date before Wed 11: 2-6 Sep (10 possible, 2 absent) + Tue 10 (2 possible, 2 absent)
  = 4 absent of 12 possible = 33.33%.

A second intervention starts on Mon 9 Sep (an INSET day) for pupil 1: that week is still its
week 0 (8 possible, 0 absent), and week 1 is the week of 23 Sep (10 possible, 10 absent).
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from attendance_lib.impact.features import feature_arrays
from attendance_lib.impact.panel import (
    ImpactError,
    load_episodes,
    load_register,
    weekly_panel,
    window_sums,
)
from attendance_lib.store import Store
from tests.conftest import UPN, URN_A, RegisterBuilder


def _register(builder):
    b = builder
    b.school(URN_A, "primary")
    for u in UPN[:2]:
        b.pupil(u, URN_A, admission="2024-09-02", date_of_birth="2015-01-10",
                fsm_eligible="N", sen_provision="N")
    b.days(UPN[0], URN_A, "2024-09-02", "/ \\", "I I", "/ \\", "/ \\", "/ \\")
    b.days(UPN[0], URN_A, "2024-09-09", "# #", "O O", "/ \\", "N \\", "/ \\")
    b.days(UPN[0], URN_A, "2024-09-23", "/ \\", "I I", "/ \\", "/ \\", "/ \\")
    b.repeat(UPN[1], URN_A, "2024-09-02", "/ \\", 5)
    b.days(UPN[1], URN_A, "2024-09-09", "# #", "/ \\", "/ \\", "/ \\", "/ \\")
    b.repeat(UPN[1], URN_A, "2024-09-23", "O O", 5)
    return b


def _store(builder, tmp_path, interventions=None):
    files = _register(builder).write()
    store = Store(tmp_path / "store")
    iv = None
    if interventions is not None:
        iv = tmp_path / "interventions.csv"
        with open(iv, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["upn", "urn", "type", "start_date", "end_date", "notes"])
            w.writerows(interventions)
    store.ingest([files["marks"]], pupils=files["pupils"], schools=files["schools"],
                 interventions=iv)
    return store


IVS = [(UPN[0], URN_A, "mentoring", "2024-09-11", "", ""),
       (UPN[1], URN_A, "mentoring", "2024-09-09", "", "")]


@pytest.fixture
def store(register_builder, tmp_path):
    return _store(register_builder, tmp_path, IVS)


def test_school_weeks_skip_the_closure_week(store):
    reg = load_register(store)
    yr = reg.years[2024]
    assert yr.n_weeks.tolist() == [3]
    assert [str(yr.days[i]) for i in yr.week_first[0, :3]] == ["2024-09-02", "2024-09-09",
                                                              "2024-09-23"]


def test_windows_around_a_midweek_start(store):
    reg = load_register(store)
    ep = load_episodes(store, reg)
    yr = reg.years[2024]
    e = ep[ep["upn"] == UPN[0]].iloc[0]
    rows, anc = np.array([e["row"]]), np.array([e["anchor"]])
    assert str(yr.days[anc[0]]) == "2024-09-11"
    assert [int(v[0]) for v in window_sums(yr, rows, anc, 0, 0)[:2]] == [1, 6]
    assert [int(v[0]) for v in window_sums(yr, rows, anc, 1, 1)[:2]] == [2, 10]
    assert [int(v[0]) for v in window_sums(yr, rows, anc, -1, -1)[:2]] == [2, 10]
    assert [int(v[0]) for v in window_sums(yr, rows, anc, 0, 9)[:2]] == [3, 16]
    f = feature_arrays(yr, rows, anc, window_weeks=2, pre_weeks=10)
    assert f["ytd_absent"][0] == 4 and f["ytd_possible"][0] == 12
    assert f["ytd_rate"][0] == pytest.approx(100 * 4 / 12)
    assert f["post_rate"][0] == pytest.approx(100 * 3 / 16)
    assert f["pre_rate"][0] == pytest.approx(20.0)
    # the last 5 days with possible sessions before Wed 11: Tue 3 - Fri 6 and Tue 10 (the
    # INSET day is skipped): Tue 3 "I I" + Tue 10 "O O" = 4 absent of 10
    assert f["last5_rate"][0] == pytest.approx(40.0)
    with pytest.raises(ValueError):
        window_sums(yr, rows, anc, -1, 0)


def test_start_on_an_inset_day_keeps_its_week(store):
    reg = load_register(store)
    ep = load_episodes(store, reg)
    yr = reg.years[2024]
    e = ep[ep["upn"] == UPN[1]].iloc[0]
    rows, anc = np.array([e["row"]]), np.array([e["anchor"]])
    assert [int(v[0]) for v in window_sums(yr, rows, anc, 0, 0)[:2]] == [0, 8]
    assert [int(v[0]) for v in window_sums(yr, rows, anc, 1, 1)[:2]] == [10, 10]


def test_start_in_a_closure_week_moves_to_the_next_school_week(store):
    reg = load_register(store)
    yr = reg.years[2024]
    rows = np.array([0, 1])
    a = yr.anchor(rows, "2024-09-18")
    assert [str(yr.days[i]) for i in a] == ["2024-09-23", "2024-09-23"]
    assert (yr.anchor(rows, "2024-10-01") == -1).all()  # after the last date in the store


def test_weekly_panel(store):
    panel = weekly_panel(store, weeks_before=1, weeks_after=2)
    p0 = panel[panel["upn"] == UPN[0]].set_index("rel_week")
    assert p0["possible"].tolist() == [10, 6, 10]
    assert p0["absent"].tolist() == [2, 1, 2]
    assert p0["absence_pct"].tolist() == pytest.approx([20.0, 100 / 6, 20.0])
    p1 = panel[panel["upn"] == UPN[1]].set_index("rel_week")
    assert p1.loc[1, "absence_pct"] == 100.0


def test_as_of_cuts_marks_and_interventions(store):
    reg = load_register(store, as_of="2024-09-13")
    assert str(reg.years[2024].days[-1]) == "2024-09-13"
    ep = load_episodes(store, reg, as_of="2024-09-10")
    assert ep["upn"].tolist() == [UPN[1]]
    with pytest.raises(ImpactError, match="not a date"):
        load_register(store, as_of="13/09/2024x")


def test_errors_are_one_clear_sentence(tmp_path, store):
    reg = load_register(store)
    with pytest.raises(ImpactError, match="unknown intervention type 'tutoring'.*mentoring"):
        load_episodes(store, reg, "tutoring")
    empty = _store(RegisterBuilder(tmp_path / "other"), tmp_path / "other")
    with pytest.raises(ImpactError, match="holds no interventions"):
        load_episodes(empty, load_register(empty))
