"""Tests for attendance_lib.calendar.

Expected values are worked out by hand from a printed calendar (weekday of each date noted in the
comments), not taken from the code's own output.
"""

from __future__ import annotations

import doctest
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from attendance_lib import calendar as cal
from attendance_lib.calendar import CalendarError, Window

D = date


def ts(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), format="ISO8601"))


def as_dates(series: pd.Series) -> list[date]:
    return [d.date() for d in series]


# --------------------------------------------------------------------------------------------
# academic years


@pytest.mark.parametrize(
    ("day", "start_month", "expected"),
    [
        # DfE year 1 Aug-31 Jul: 31 Jul 2024 is the last day of 2023/24, 1 Aug the first of 2024/25
        ("2024-07-31", 8, 2023),
        ("2024-08-01", 8, 2024),
        ("2024-08-31", 8, 2024),
        ("2024-09-01", 8, 2024),
        # 1 Sep-31 Aug year: all of August still belongs to 2023/24
        ("2024-07-31", 9, 2023),
        ("2024-08-01", 9, 2023),
        ("2024-08-31", 9, 2023),
        ("2024-09-01", 9, 2024),
        # January belongs to the year that started the previous calendar year
        ("2025-01-01", 8, 2024),
        ("2025-01-01", 9, 2024),
    ],
)
def test_academic_year_boundaries(day, start_month, expected):
    assert cal.academic_year_of(day, start_month) == expected
    assert cal.academic_years(ts(day), start_month).tolist() == [expected]


def test_academic_year_of_accepts_dates_datetimes_and_timestamps():
    assert cal.academic_year_of(D(2024, 8, 1)) == 2024
    assert cal.academic_year_of(datetime(2024, 7, 31, 23, 59)) == 2023
    assert cal.academic_year_of(pd.Timestamp("2024-08-01 08:45")) == 2024
    assert cal.academic_year_of(np.datetime64("2024-09-01")) == 2024
    assert cal.academic_year_of("2024-08-01T08:45:00") == 2024
    with pytest.raises(ValueError, match="ISO"):
        cal.academic_year_of("01/08/2024")
    with pytest.raises(ValueError, match="missing"):
        cal.academic_year_of(pd.NaT)


@pytest.mark.parametrize("bad", [7, 10, 0, True, "8", None])
def test_start_month_must_be_8_or_9(bad):
    with pytest.raises(ValueError, match="start_month"):
        cal.academic_year_of("2024-08-01", bad)
    with pytest.raises(ValueError, match="start_month"):
        cal.academic_years(ts("2024-08-01"), bad)
    with pytest.raises(ValueError, match="start_month"):
        cal.as_of_window("2024-08-01", bad)


def test_academic_years_vectorised_keeps_index_dtype_and_input():
    s = pd.Series(
        pd.to_datetime(
            ["2024-07-31 15:00", "2024-08-01 09:00", "2025-07-31 00:00"], format="ISO8601"
        ),
        index=[10, 20, 30],
    )
    before = s.copy()
    out = cal.academic_years(s)
    assert out.tolist() == [2023, 2024, 2024]
    assert out.dtype == np.int16
    assert out.index.tolist() == [10, 20, 30]
    assert out.name == "academic_year"
    pd.testing.assert_series_equal(s, before)


def test_academic_years_with_missing_dates_is_nullable():
    out = cal.academic_years(ts("2024-08-01", None))
    assert str(out.dtype) == "Int16"
    assert out.iloc[0] == 2024 and out.isna().tolist() == [False, True]


def test_academic_years_accepts_python_dates_strings_and_nanosecond_resolution():
    assert cal.academic_years([D(2024, 7, 31), D(2024, 8, 1)]).tolist() == [2023, 2024]
    assert cal.academic_years(pd.Series(["2024-07-31", "2024-08-01"])).tolist() == [2023, 2024]
    ns = ts("1999-12-31", "2000-08-01").astype("datetime64[ns]")
    assert cal.academic_years(ns).tolist() == [1999, 2000]


def test_academic_year_bounds_and_labels():
    assert cal.academic_year_bounds(2024) == (D(2024, 8, 1), D(2025, 7, 31))
    assert cal.academic_year_bounds(2024, start_month=9) == (D(2024, 9, 1), D(2025, 8, 31))
    # 2023/24 contains 29 Feb 2024 but the bounds do not depend on it
    assert cal.academic_year_bounds("2023/24") == (D(2023, 8, 1), D(2024, 7, 31))
    assert cal.academic_year_label(2024) == "2024/25"
    assert cal.academic_year_label(1999) == "1999/00"
    assert cal.academic_year_label(2009) == "2009/10"


@pytest.mark.parametrize(
    "value", ["2024/25", "202425", 202425, 2024, "2024", "2024-25", "2024/2025", " 2024/25 "]
)
def test_parse_academic_year_forms(value):
    assert cal.parse_academic_year(value) == 2024


@pytest.mark.parametrize("value", ["2024/26", "202426", "24/25", "2024/5", "autumn", 24, 2024.0])
def test_parse_academic_year_rejects(value):
    with pytest.raises((ValueError, TypeError)):
        cal.parse_academic_year(value)


def test_parse_academic_year_century_rollover():
    # 1999/00: the second part is 00 = (1999 + 1) mod 100
    assert cal.parse_academic_year("1999/00") == 1999
    assert cal.parse_academic_year("199900") == 1999


# --------------------------------------------------------------------------------------------
# Easter and bank holidays


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2019, D(2019, 4, 21)), (2024, D(2024, 3, 31)), (2025, D(2025, 4, 20)), (2026, D(2026, 4, 5))],
)
def test_easter_sunday(year, expected):
    assert cal.easter_sunday(year) == expected
    assert expected.weekday() == 6  # a Sunday


def test_bank_holidays_2022_jubilee_and_state_funeral():
    assert cal.england_bank_holidays(2022) == [
        D(2022, 1, 3),  # New Year's Day was Sat 1 Jan -> substitute Mon 3 Jan
        D(2022, 4, 15),  # Good Friday (Easter Sunday 17 Apr)
        D(2022, 4, 18),  # Easter Monday
        D(2022, 5, 2),  # early May: first Monday
        D(2022, 6, 2),  # spring bank holiday moved to Thu 2 Jun
        D(2022, 6, 3),  # Platinum Jubilee, Fri 3 Jun
        D(2022, 8, 29),  # summer: 31 Aug was a Wed, last Monday 29 Aug
        D(2022, 9, 19),  # state funeral of Queen Elizabeth II
        D(2022, 12, 26),  # Boxing Day, Mon
        D(2022, 12, 27),  # Christmas Day was Sun 25 Dec -> substitute Tue 27 Dec
    ]
    assert D(2022, 5, 30) not in cal.england_bank_holidays(2022)  # last Monday in May not used


def test_bank_holidays_2023_coronation():
    assert cal.england_bank_holidays(2023) == [
        D(2023, 1, 2),  # 1 Jan was a Sunday -> Mon 2 Jan
        D(2023, 4, 7),  # Good Friday (Easter Sunday 9 Apr)
        D(2023, 4, 10),  # Easter Monday
        D(2023, 5, 1),  # early May
        D(2023, 5, 8),  # coronation of King Charles III
        D(2023, 5, 29),  # spring: 31 May was a Wed -> 29 May
        D(2023, 8, 28),  # summer: 31 Aug was a Thu -> 28 Aug
        D(2023, 12, 25),  # Mon
        D(2023, 12, 26),  # Tue
    ]


def test_bank_holidays_2021_christmas_on_saturday():
    hols = cal.england_bank_holidays(2021)
    # 25 Dec Sat -> Mon 27 Dec; 26 Dec Sun -> Tue 28 Dec; 1 Jan 2021 was a Friday
    assert hols[-2:] == [D(2021, 12, 27), D(2021, 12, 28)]
    assert hols[0] == D(2021, 1, 1)
    assert len(hols) == 8


def test_bank_holidays_other_special_years():
    # 2020: early May moved to Fri 8 May (VE Day 75); Boxing Day Sat 26 Dec -> Mon 28 Dec
    h2020 = cal.england_bank_holidays(2020)
    assert D(2020, 5, 8) in h2020 and D(2020, 5, 4) not in h2020
    assert h2020[-2:] == [D(2020, 12, 25), D(2020, 12, 28)]
    # 2012: spring bank holiday Mon 4 Jun, Diamond Jubilee Tue 5 Jun, not Mon 28 May
    h2012 = cal.england_bank_holidays(2012)
    assert {D(2012, 6, 4), D(2012, 6, 5)} <= set(h2012) and D(2012, 5, 28) not in h2012
    # 2024: an ordinary year, 8 days
    assert cal.england_bank_holidays(2024) == [
        D(2024, 1, 1),
        D(2024, 3, 29),
        D(2024, 4, 1),
        D(2024, 5, 6),
        D(2024, 5, 27),
        D(2024, 8, 26),
        D(2024, 12, 25),
        D(2024, 12, 26),
    ]
    with pytest.raises(ValueError, match="1978"):
        cal.england_bank_holidays(1977)


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2024, D(2024, 5, 27)), (2025, D(2025, 5, 26)), (2022, D(2022, 6, 2)), (2012, D(2012, 6, 4))],
)
def test_spring_bank_holiday(year, expected):
    assert cal.spring_bank_holiday(year) == expected


# --------------------------------------------------------------------------------------------
# DfE census terms


def test_dfe_half_terms_2023_24_summer_split():
    t = cal.dfe_half_terms(2023)
    assert t["term"].tolist() == ["autumn", "spring", "summer", "summer"]
    assert t["half_term"].tolist() == [pd.NA, pd.NA, 5, 6]
    assert as_dates(t["start"]) == [D(2023, 8, 1), D(2024, 1, 1), D(2024, 4, 1), D(2024, 5, 27)]
    # spring ends Easter Sunday 31 Mar 2024; half-term 5 ends Sun 26 May, the day before the
    # spring bank holiday Mon 27 May 2024, which starts half-term 6
    assert as_dates(t["end"]) == [D(2023, 12, 31), D(2024, 3, 31), D(2024, 5, 26), D(2024, 7, 31)]
    assert (t["academic_year"] == 2023).all()


def test_dfe_terms_one_row_per_term():
    t = cal.dfe_terms("2023/24")
    assert t.columns.tolist() == ["academic_year", "term", "start", "end"]
    assert t["term"].tolist() == ["autumn", "spring", "summer"]
    assert as_dates(t["start"]) == [D(2023, 8, 1), D(2024, 1, 1), D(2024, 4, 1)]
    assert as_dates(t["end"]) == [D(2023, 12, 31), D(2024, 3, 31), D(2024, 7, 31)]


def test_dfe_summer_split_when_spring_bank_holiday_is_not_a_monday():
    # 2021/22: bank holiday Thu 2 Jun 2022; the split is the Monday of that week, Mon 30 May
    t = cal.dfe_half_terms(2021)
    assert as_dates(t["end"])[2] == D(2022, 5, 29)
    assert as_dates(t["start"])[3] == D(2022, 5, 30)


@pytest.mark.parametrize("year", range(2005, 2031))
def test_dfe_periods_cover_the_year_without_gaps(year):
    t = cal.dfe_half_terms(year)
    starts, ends = as_dates(t["start"]), as_dates(t["end"])
    assert starts[0] == D(year, 8, 1) and ends[-1] == D(year + 1, 7, 31)
    for prev_end, start in zip(ends, starts[1:], strict=False):
        assert (start - prev_end).days == 1


def test_dfe_term_of_boundaries():
    s = ts("2023-08-01", "2023-12-31", "2024-01-01", "2024-03-31", "2024-04-01", "2024-07-31")
    assert cal.dfe_term_of(s).tolist() == [
        "autumn",
        "autumn",
        "spring",
        "spring",  # Easter Sunday 2024 is the last day of spring
        "summer",  # Easter Monday
        "summer",
    ]
    out = cal.dfe_term_of(ts("2025-04-20", "2025-04-21", None))  # Easter Sunday 2025 = 20 Apr
    assert out.iloc[:2].tolist() == ["spring", "summer"] and pd.isna(out.iloc[2])


# --------------------------------------------------------------------------------------------
# school weeks


def test_week_start():
    s = pd.Series(
        pd.to_datetime(
            ["2024-12-16 09:00", "2024-12-22 12:00", "2024-12-23 00:00", None], format="ISO8601"
        ),
        index=[5, 6, 7, 8],
    )
    out = cal.week_start(s)
    # Sun 22 Dec belongs to the week of Mon 16 Dec (ISO weeks start on Monday)
    assert out.iloc[:3].tolist() == [
        pd.Timestamp(x) for x in ("2024-12-16", "2024-12-16", "2024-12-23")
    ]
    assert pd.isna(out.iloc[3]) and out.index.tolist() == [5, 6, 7, 8]
    assert out.dtype == s.dtype


def test_week_start_before_1970_and_nanoseconds():
    # Thu 1 Jan 1970 -> Mon 29 Dec 1969; Wed 31 Dec 1969 -> Mon 29 Dec 1969
    s = ts("1970-01-01", "1969-12-31").astype("datetime64[ns]")
    assert cal.week_start(s).tolist() == [pd.Timestamp("1969-12-29")] * 2


def test_is_weekend():
    # Fri 28, Sat 29, Sun 30, Mon 31 Mar 2025
    s = ts("2025-03-28", "2025-03-29 10:00", "2025-03-30", "2025-03-31", None)
    assert cal.is_weekend(s).tolist() == [False, True, True, False, False]


def test_school_week_index_crosses_christmas_and_years():
    s = pd.Series(
        pd.to_datetime(
            [
                "2024-12-16",  # week of 16 Dec: school week 0
                "2024-12-20",
                # 23 Dec and 30 Dec weeks: Christmas holiday, no sessions, skipped
                "2025-01-07",  # week of 6 Jan: 1
                "2025-01-10",
                "2025-01-13",  # week of 13 Jan: 2
                "2025-07-18",  # week of 14 Jul: 3
                # summer holiday weeks skipped; next school year
                "2025-09-03",  # week of 1 Sep: 4
            ]
        )
    ).sample(frac=1, random_state=0)  # order must not matter
    out = cal.school_week_index(s)
    expected = {"2024-12-16": 0, "2024-12-20": 0, "2025-01-07": 1, "2025-01-10": 1}
    expected |= {"2025-01-13": 2, "2025-07-18": 3, "2025-09-03": 4}
    assert {d.strftime("%Y-%m-%d"): i for d, i in zip(s, out, strict=True)} == expected
    assert out.dtype == np.int32 and out.index.equals(s.index)
    assert cal.school_weeks(s).strftime("%Y-%m-%d").tolist() == [
        "2024-12-16",
        "2025-01-06",
        "2025-01-13",
        "2025-07-14",
        "2025-09-01",
    ]


def test_week_with_all_sessions_closed_is_not_a_school_week():
    # week of 3 Mar 2025: school closed all week (code '#', not a possible session)
    marks = pd.DataFrame(
        {
            "date": pd.to_datetime(
                ["2025-02-24", "2025-02-28", "2025-03-03", "2025-03-07", "2025-03-10"]
            ),
            "code": ["/", "N", "#", "#", "/"],
        }
    )
    possible = marks.loc[marks["code"] != "#", "date"]
    assert cal.school_weeks(possible).strftime("%d %b").tolist() == ["24 Feb", "10 Mar"]
    # so the week of 10 Mar is the 2nd school week (index 1), not the 3rd
    assert cal.school_week_index(possible).tolist() == [0, 0, 1]
    w = cal.last_n_school_weeks("2025-03-14", possible, 2)
    assert (w.start, w.end) == (D(2025, 2, 24), D(2025, 3, 14))


# --------------------------------------------------------------------------------------------
# windows


def test_as_of_window():
    assert cal.as_of_window("2025-03-31") == Window(D(2024, 8, 1), D(2025, 3, 31), 2024)
    assert cal.as_of_window(D(2025, 3, 31), start_month=9) == Window(
        D(2024, 9, 1), D(2025, 3, 31), 2024
    )
    # mid-August: a new DfE year has begun, but not a new 1 Sep year
    assert cal.as_of_window("2025-08-15") == Window(D(2025, 8, 1), D(2025, 8, 15), 2025)
    assert cal.as_of_window("2025-08-15", 9) == Window(D(2024, 9, 1), D(2025, 8, 15), 2024)
    assert cal.as_of_window("2025-08-01") == Window(D(2025, 8, 1), D(2025, 8, 1), 2025)


def test_window_contains_and_validation():
    w = Window(D(2024, 8, 1), D(2025, 3, 31), 2024)
    s = ts("2024-07-31 23:59", "2024-08-01", "2025-03-31 16:00", "2025-04-01", None)
    assert w.contains(s).tolist() == [False, True, True, False, False]
    with pytest.raises(ValueError, match="before"):
        Window(D(2025, 1, 2), D(2025, 1, 1), 2024)
    with pytest.raises(TypeError):
        Window(datetime(2025, 1, 1), D(2025, 1, 2), 2024)


def test_last_n_school_weeks_ignores_later_dates_and_holidays():
    possible = ts(
        "2024-12-02",  # week of 2 Dec
        "2024-12-09",  # week of 9 Dec
        "2024-12-16",  # week of 16 Dec
        "2025-01-07",  # week of 6 Jan (after two holiday weeks)
        "2025-01-14",  # week of 13 Jan
    )
    # as of Wed 15 Jan, the last 3 school weeks are 16 Dec, 6 Jan, 13 Jan
    w = cal.last_n_school_weeks("2025-01-15", possible, 3)
    assert w == Window(D(2024, 12, 16), D(2025, 1, 15), 2024)
    # adding sessions after the as-of date changes nothing (no look-ahead)
    later = pd.concat([possible, ts("2025-01-16", "2025-01-20")], ignore_index=True)
    assert cal.last_n_school_weeks("2025-01-15", later, 3) == w
    # fewer school weeks than n: the window starts at the first one
    assert cal.last_n_school_weeks("2025-01-15", possible, 10).start == D(2024, 12, 2)
    with pytest.raises(CalendarError):
        cal.last_n_school_weeks("2024-11-30", possible, 3)
    with pytest.raises(ValueError, match="positive"):
        cal.last_n_school_weeks("2025-01-15", possible, 0)


# --------------------------------------------------------------------------------------------


def test_public_api_is_explicit():
    assert set(cal.__all__) <= set(dir(cal))
    assert not [name for name in cal.__all__ if name.startswith("_")]


def test_docstring_examples_run():
    result = doctest.testmod(cal, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_term_date_names_are_re_exported_from_term_dates():
    from attendance_lib import term_dates
    from attendance_lib.calendar import TermDates, read_term_dates

    assert TermDates is term_dates.TermDates and read_term_dates is term_dates.read_term_dates
    for name in term_dates.__all__:
        assert getattr(cal, name) is getattr(term_dates, name)
        assert name in dir(cal) and name not in cal.__all__
    with pytest.raises(AttributeError, match="no_such_name"):
        cal.no_such_name  # noqa: B018
