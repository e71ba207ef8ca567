"""Tests for attendance_lib.bands (absence and attendance bands, domain.md 2.1); expected
values are worked out by hand in the comments."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from attendance_lib import bands, patterns


# --------------------------------------------------------------------------- bands
@pytest.mark.parametrize(("pct", "band"), [
    (0.0, "0-4.99"), (4.99, "0-4.99"), (5.0, "5-9.99"), (9.99, "5-9.99"),
    (10.0, "10-14.99"), (100 * (1 - 0.9), "10-14.99"),  # 9.999999999999998: float noise
    (49.99, "45-49.99"), (50.0, "50-100"), (100.0, "50-100"),
])
def test_absence_bands(pct, band):
    assert bands.absence_bands(pd.Series([pct])).iloc[0] == band


def test_absence_bands_series_properties():
    s = pd.Series([3.0, np.nan, 55.0], index=[7, 8, 9])
    out = bands.absence_bands(s)
    assert out.cat.ordered and list(out.cat.categories) == list(bands.ABSENCE_BANDS)
    assert out.index.tolist() == [7, 8, 9] and pd.isna(out.iloc[1])
    assert len(bands.ABSENCE_BANDS) == 11 and bands.ABSENCE_BANDS[-2] == "45-49.99"
    with pytest.raises(ValueError):
        bands.absence_bands([101.0])


@pytest.mark.parametrize(("pct", "band"), [
    (100.0, "100%"), (99.99, "95% to <100%"), (95.0, "95% to <100%"),
    (94.99, ">90% to <95%"), (90.01, ">90% to <95%"),
    (90.0, ">50% to 90%"),  # exactly 10% absence: persistent
    (50.01, ">50% to 90%"), (50.0, "50% or less"), (0.0, "50% or less"),  # 50%: severe
])
def test_attendance_bands(pct, band):
    assert bands.attendance_bands([pct]).iloc[0] == band
    assert bands.ATTENDANCE_BAND_STAGES[">50% to 90%"] == "persistent"


@pytest.mark.parametrize(("absent", "possible", "band"), [
    (38, 380, ">50% to 90%"),   # exactly 10%: persistent
    (37, 380, ">90% to <95%"),  # 9.74%: not persistent
    (19, 380, "95% to <100%"),  # exactly 5% absence = 95% attendance
    (190, 380, "50% or less"),  # exactly 50%: severe
    (189, 380, ">50% to 90%"),
    (0, 380, "100%"),
    (7, 70, ">50% to 90%"),     # 10% again
])
def test_band_from_counts(absent, possible, band):
    assert bands.band_from_counts(absent, possible) == band


def test_band_from_counts_vectorised_and_absence_scheme():
    out = bands.band_from_counts(pd.Series([38, 37, 0]), pd.Series([380, 380, 0]),
                                    scheme="absence")
    assert out.iloc[:2].tolist() == ["10-14.99", "5-9.99"] and pd.isna(out.iloc[2])
    assert bands.band_from_counts(380, 380, scheme="absence") == "50-100"
    assert bands.band_from_counts(0, 0) is None
    with pytest.raises(ValueError):
        bands.band_from_counts(5, 4)


# --------------------------------------------------------------------------- module
def test_public_api_is_explicit():
    assert set(bands.__all__) <= set(dir(bands))
    assert not [name for name in bands.__all__ if name.startswith("_")]
    for name in bands.__all__:
        assert getattr(patterns, name) is getattr(bands, name)  # still reachable there


def test_docstring_examples_run():
    result = doctest.testmod(bands, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
