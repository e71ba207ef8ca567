"""Absence bands by FSM, SEN and year group against the raw distribution rows.

Expected figures are sums of the raw CSV cells (csv module); a suppressed cell is injected by
hand to check it is left out and counted, never read as zero.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from attendance_lib.published import bands, data
from tests.published_raw import dfe_folder, raw

pytestmark = pytest.mark.realdata

LA_FILE = "ees_absence_distributions/absence_bands_distributions_la_202122_to_202223.csv.gz"
NAT_FILE = "ees_absence_distributions/absence_bands_distributions_nat_reg_201617_to_202223.csv.gz"
ALL = ["pct5_OARate", "pct10_OARate", "pct15_OARate", "pct20_OARate", "pct25_OARate",
       "pct30_OARate", "pct35_OARate", "pct40_OARate", "pct45_OARate", "pct50_OARate",
       "pct50plus_OARate"]


@pytest.fixture(scope="module")
def folder() -> Path:
    return dfe_folder("ees_absence_distributions")




def sums(rows) -> tuple[int, int, int]:
    """(enrolments, PA 10%+, severe 50%+) of raw rows."""
    total = sum(int(r[c]) for r in rows for c in ALL)
    pa = sum(int(r[c]) for r in rows for c in ALL[2:])
    severe = sum(int(r["pct50plus_OARate"]) for r in rows)
    return total, pa, severe


@pytest.fixture(scope="module")
def sources(folder):
    return data.load_sources(folder)


@pytest.mark.parametrize(("dimension", "column", "value", "label"), [
    ("fsm", "fsm_eligible", "Eligible", "FSM eligible"),
    ("sen", "sen_status", "Any special educational need", "any SEN"),
    ("year_group", "NCyearActual", "11", "Year 11"),
])
def test_kent_groups_against_raw_rows(folder, sources, dimension, column, value, label):
    la = data.benchmark_params("Kent").la
    table = bands.band_breakdown(sources, la, dimension)
    assert set(table["year"]) == {"2022/23"}                     # latest LA year by default
    rows = [r for r in raw(folder / LA_FILE) if r["old_la_code"] == "886"
            and r["time_period"] == "202223" and r[column] == value]
    nat = [r for r in raw(folder / NAT_FILE) if r["geographic_level"] == "National"
           and r["time_period"] == "202223" and r[column] == value]
    for geography, part in (("LA", rows), ("England", nat)):
        total, pa, severe = sums(part)
        got = table[(table["group"] == label) & (table["geography"] == geography)].iloc[0]
        assert (got["enrolments"], got["pa"], got["severe"]) == (total, pa, severe)
        assert got["pa_rate"] == pytest.approx(pa / total * 100, abs=1e-12)
        assert got["severe_rate"] == pytest.approx(severe / total * 100, abs=1e-12)
        shares = got[list(bands.BAND_LABELS)]
        assert float(shares.sum()) == pytest.approx(100.0)
        assert got["cells_left_out"] == 0
    region = table[(table["group"] == label) & (table["geography"] == "Region")]
    assert region["area"].tolist() == ["South East"]


def test_groups_and_order(sources):
    la = data.benchmark_params("Rutland").la
    yg = bands.band_breakdown(sources, la, "year_group", "202122")
    assert yg["group"].drop_duplicates().tolist() == [f"Year {i}" for i in range(1, 12)]
    assert set(yg["year"]) == {"2021/22"}
    fsm = bands.band_breakdown(sources, la, "fsm")
    assert fsm["group"].drop_duplicates().tolist()[-1] == "Unclassified"
    with pytest.raises(ValueError, match="dimension"):
        bands.band_breakdown(sources, la, "ethnicity")


def test_suppressed_cell_is_left_out_and_counted(folder, sources):
    la = data.benchmark_params("Rutland").la
    frame = sources.bands_la.frame.copy()
    target = frame[(frame["old_la_code"] == "857") & (frame["time_period"] == "202223")
                   & (frame["fsm_eligible"] == "Eligible")].index[0]
    removed = int(frame.loc[target, "pct15_OARate"])
    assert removed > 0
    frame.loc[target, "pct15_OARate"] = pd.NA              # as read_published reads 'c'
    changed = dataclasses.replace(sources, bands_la=dataclasses.replace(
        sources.bands_la, frame=frame), memo={})
    before = bands.band_breakdown(sources, la, "fsm")
    after = bands.band_breakdown(changed, la, "fsm")
    b = before[(before["group"] == "FSM eligible") & (before["geography"] == "LA")].iloc[0]
    a = after[(after["group"] == "FSM eligible") & (after["geography"] == "LA")].iloc[0]
    assert a["cells_left_out"] == 1 and b["cells_left_out"] == 0
    assert a["enrolments"] == b["enrolments"] - removed        # left out, not a zero row
    assert a["pa"] == b["pa"] - removed
    other = after[(after["group"] != "FSM eligible")]
    assert (other["cells_left_out"] == 0).all()


def test_la_without_distribution_rows_gives_empty_table(sources):
    la = data.benchmark_params("Northamptonshire").la       # abolished 2021: census rows only
    assert bands.la_band_years(sources, la) == []
    assert bands.band_breakdown(sources, la, "fsm").empty
