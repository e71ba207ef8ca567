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
from attendance_lib.calendar import CalendarError, TermDates, Window

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
# term dates files

# An LA calendar for 2024/25 (weekdays checked: 4 Sep 2024 Wed, 25 Oct Fri, 4 Nov Mon,
# 20 Dec Fri, 6 Jan 2025 Mon, 14 Feb Fri, 24 Feb Mon, 4 Apr Fri, 22 Apr Tue, 23 May Fri,
# 2 Jun Mon, 22 Jul Tue)
TERMS_2024 = [
    ("2024/25", 1, "04/09/2024", "25/10/2024"),
    ("2024/25", 2, "04/11/2024", "20/12/2024"),
    ("2024/25", 3, "2025-01-06", "2025-02-14"),
    ("2024/25", 4, "24/02/2025", "04/04/2025"),
    ("2024/25", 5, "22/04/2025", "23/05/2025"),
    ("2024/25", 6, "02/06/2025", "22/07/2025"),
]


def write_csv(path, rows, header="academic_year,half_term,start,end"):
    body = "\n".join(",".join(str(v) for v in row) for row in rows)
    path.write_text(f"{header}\n{body}\n", encoding="utf-8")
    return path


@pytest.fixture
def term_dates(tmp_path) -> TermDates:
    return cal.read_term_dates(write_csv(tmp_path / "terms.csv", TERMS_2024))


def test_read_term_dates_csv(term_dates):
    t = term_dates.table
    assert t.columns.tolist() == ["academic_year", "half_term", "start", "end"]
    assert t["half_term"].tolist() == [1, 2, 3, 4, 5, 6]
    assert (t["academic_year"] == 2024).all()
    assert as_dates(t["start"])[2] == D(2025, 1, 6)  # ISO date in the file
    assert as_dates(t["end"])[3] == D(2025, 4, 4)  # 04/04/2025 read day first


def test_half_term_of_and_term_of(term_dates):
    s = pd.Series(
        pd.to_datetime(
            [
                "2024-09-03",  # day before term: NA
                "2024-09-04",  # first day of half-term 1
                "2024-10-28",  # October half-term week: NA
                "2024-12-20 14:00",  # last day of half-term 2, afternoon
                "2025-02-18",  # February half-term: NA
                "2025-04-22",  # first day of half-term 5
                "2025-07-22",  # last day of half-term 6
                "2025-07-23",  # summer holiday: NA
            ],
            format="ISO8601",
        ),
        index=list("abcdefgh"),
    )
    half = term_dates.half_term_of(s)
    assert half.tolist() == [pd.NA, 1, pd.NA, 2, pd.NA, 5, 6, pd.NA]
    assert str(half.dtype) == "Int8" and half.index.tolist() == list("abcdefgh")
    term = term_dates.term_of(s)
    assert [None if pd.isna(v) else v for v in term] == [
        None,
        "autumn",
        None,
        "autumn",
        None,
        "summer",
        "summer",
        None,
    ]


def test_read_term_dates_yaml_matches_csv(tmp_path, term_dates):
    lines = ["# LA term dates", "term_dates:"]
    for year, half, start, end in TERMS_2024:
        lines += [f"  - academic_year: {year}", f"    half_term: {half}"]
        lines += [f"    start: {start}", f"    end: {end}"]
    path = tmp_path / "terms.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pd.testing.assert_frame_equal(cal.read_term_dates(path).table, term_dates.table)


def test_read_term_dates_skips_comments_and_blank_lines_and_allows_notes(tmp_path):
    text = "# source: LA website\nacademic_year,half_term,start,end,notes\n\n"
    text += "\n".join(",".join(map(str, r)) + ",x" for r in TERMS_2024) + "\n"
    path = tmp_path / "terms.csv"
    path.write_text(text, encoding="utf-8")
    assert len(cal.read_term_dates(path)) == 6


def test_bad_term_dates_file_names_file_and_lines(tmp_path):
    rows = list(TERMS_2024)
    rows[1] = ("2024/25", 2, "20/12/2024", "04/11/2024")  # line 3: ends before it starts
    rows[4] = ("2024/25", 5, "03/04/2025", "23/05/2025")  # line 6: overlaps half-term 4 (line 5)
    path = write_csv(tmp_path / "bad_terms.csv", rows)
    with pytest.raises(CalendarError) as info:
        cal.read_term_dates(path)
    message = str(info.value)
    assert "bad_terms.csv" in message
    assert "line 3: end 2024-11-04 is before start 2024-12-20" in message
    assert "line 6:" in message and "overlaps line 5" in message
    assert info.value.path == str(path)
    # the bad half-term 2 is not reported again as "missing"
    assert [line for line, _ in info.value.problems] == [3, 6]
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("row", "line", "fragment"),
    [
        (("2024/25", 7, "02/06/2025", "22/07/2025"), 7, "half_term '7' is not 1-6"),
        (("2024/25", 6, "31/02/2025", "22/07/2025"), 7, "start '31/02/2025' is not a date"),
        (("2024/25", 6, "02/06/2026", "22/07/2026"), 7, "outside academic year 2024/25"),
        (("2024/26", 6, "02/06/2025", "22/07/2025"), 7, "26 does not follow 2024"),
        (("2024/25", 5, "02/06/2025", "22/07/2025"), 7, "half-term 5 repeats line 6"),
    ],
)
def test_bad_rows(tmp_path, row, line, fragment):
    path = write_csv(tmp_path / "t.csv", [*TERMS_2024[:5], row])
    with pytest.raises(CalendarError, match="t.csv") as info:
        cal.read_term_dates(path)
    assert any(n == line and fragment in text for n, text in info.value.problems), info.value


def test_missing_half_term_and_unknown_column(tmp_path):
    path = write_csv(tmp_path / "t.csv", TERMS_2024[:5])
    with pytest.raises(
        CalendarError, match=r"line 2: academic year 2024/25 lacks half-term\(s\) \[6\]"
    ):
        cal.read_term_dates(path)
    path = write_csv(tmp_path / "u.csv", TERMS_2024, header="academic_year,half_term,begin,end")
    with pytest.raises(CalendarError, match="line 1: .*'begin'"):
        cal.read_term_dates(path)


def test_school_and_la_calendars_and_select(tmp_path):
    # default (no urn/la_code) rows, plus LA 873 starting a week earlier, plus one school
    rows = [(*r, "", "") for r in TERMS_2024]
    rows += [(y, h, "2024-09-02" if h == 1 else s, e, "", "873") for y, h, s, e in TERMS_2024]
    rows += [(y, h, "2024-09-05" if h == 1 else s, e, "123456", "") for y, h, s, e in TERMS_2024]
    path = write_csv(
        tmp_path / "t.csv", rows, header="academic_year,half_term,start,end,urn,la_code"
    )
    td = cal.read_term_dates(path)
    with pytest.raises(CalendarError, match="several calendars"):
        td.half_term_of(ts("2024-09-04"))

    def first_start(t):
        return t.table["start"].iloc[0].date()

    assert first_start(td.select(urn="123456")) == D(2024, 9, 5)
    assert first_start(td.select(urn=999999, la_code=873)) == D(2024, 9, 2)
    assert first_start(td.select(urn=999999, la_code="800")) == D(2024, 9, 4)
    assert first_start(td.select()) == D(2024, 9, 4)
    assert td.select(urn="123456").half_term_of(ts("2024-09-04")).isna().all()


def test_term_dates_table_validation():
    def table(**change):
        base = {
            "academic_year": ["2024/25", "2024/25"],
            "half_term": [1, 2],
            "start": ["2024-09-04", "2024-11-04"],
            "end": ["2024-10-25", "2024-12-20"],
        }
        return pd.DataFrame(base | change)

    assert len(TermDates(table())) == 2
    # half-term 2 starting 21 Oct overlaps half-term 1 (to 25 Oct)
    with pytest.raises(CalendarError, match="overlap"):
        TermDates(table(start=["2024-09-04", "2024-10-21"]))
    with pytest.raises(CalendarError, match="numbered 1..n in date order"):
        TermDates(table(half_term=[2, 1]))
    with pytest.raises(CalendarError, match="lacks columns"):
        TermDates(table().drop(columns="end"))
    with pytest.raises(CalendarError, match="bad values"):
        TermDates(table(half_term=[1, None]))
    # the table handed out is a copy
    td = TermDates(table(), source="x")
    handed_out = td.table
    handed_out.loc[0, "half_term"] = 5
    assert td.table.loc[0, "half_term"] == 1


# --------------------------------------------------------------------------------------------
# inferring half-terms from register dates

BREAKS_2024 = [
    ("2024-10-28", "2024-11-01"),  # October half-term week
    ("2024-12-23", "2025-01-06"),  # Christmas fortnight + Mon 6 Jan INSET
    ("2025-02-17", "2025-02-21"),  # February half-term week
    ("2025-04-07", "2025-04-21"),  # Easter fortnight + Easter Monday 21 Apr
    ("2025-05-26", "2025-05-30"),  # May half-term (spring bank holiday 26 May)
]
SINGLE_DAYS_OFF = ["2024-11-29", "2025-05-05"]  # INSET Fri 29 Nov; early May bank holiday Mon 5 May


def register_dates(first="2024-09-02", last="2025-07-22") -> pd.DatetimeIndex:
    days = pd.bdate_range(first, last)
    keep = np.ones(len(days), dtype=bool)
    for a, b in BREAKS_2024:
        keep &= ~((days >= a) & (days <= b))
    keep &= ~days.isin(pd.to_datetime(SINGLE_DAYS_OFF))
    return days[keep]


def test_infer_half_terms_six_blocks_with_boundaries():
    days = register_dates()
    # many pupils: every date repeated, shuffled, with registration times
    rng = np.random.default_rng(1)
    marks = pd.Series(np.repeat(days.to_numpy(), 3)).sample(frac=1, random_state=rng)
    marks = marks + pd.to_timedelta(rng.choice([9, 13], size=len(marks)), unit="h")
    t = cal.infer_half_terms(marks).table
    assert t["academic_year"].tolist() == [2024] * 6
    assert t["half_term"].tolist() == [1, 2, 3, 4, 5, 6]
    assert as_dates(t["start"]) == [
        D(2024, 9, 2),  # Mon
        D(2024, 11, 4),  # Mon after October half-term
        D(2025, 1, 7),  # Tue after Christmas and INSET Mon 6 Jan
        D(2025, 2, 24),  # Mon after February half-term
        D(2025, 4, 22),  # Tue after Easter fortnight + Easter Monday
        D(2025, 6, 2),  # Mon after May half-term
    ]
    assert as_dates(t["end"]) == [
        D(2024, 10, 25),  # Fri
        D(2024, 12, 20),  # Fri; the INSET day Fri 29 Nov did not split the block
        D(2025, 2, 14),  # Fri
        D(2025, 4, 4),  # Fri
        D(2025, 5, 23),  # Fri; the bank holiday Mon 5 May did not split the block
        D(2025, 7, 22),  # Tue
    ]


def test_infer_half_terms_partial_year_and_next_year():
    # 2024/25 in full, then 2025/26 observed only up to Fri 17 Oct 2025 (as-of date)
    days = register_dates().append(pd.bdate_range("2025-09-03", "2025-10-17"))
    t = cal.infer_half_terms(days.to_series()).table
    assert t.groupby("academic_year").size().to_dict() == {2024: 6, 2025: 1}
    last = t.iloc[-1]
    assert (last["academic_year"], last["half_term"]) == (2025, 1)
    assert (last["start"].date(), last["end"].date()) == (D(2025, 9, 3), D(2025, 10, 17))


@pytest.mark.parametrize(
    ("after", "blocks"),
    [
        ("2024-10-11", 1),  # Fri 4 Oct -> Fri 11 Oct: 4 weekdays (7-10 Oct) without registers
        ("2024-10-14", 2),  # Fri 4 Oct -> Mon 14 Oct: 5 weekdays (7-11 Oct) -> a break
    ],
)
def test_infer_half_terms_gap_threshold(after, blocks):
    dates = [D(2024, 10, 3), D(2024, 10, 4), pd.Timestamp(after).date()]
    assert len(cal.infer_half_terms(dates)) == blocks
    assert len(cal.infer_half_terms(dates, min_gap_weekdays=4)) == 2


def test_infer_half_terms_empty_is_an_error():
    with pytest.raises(CalendarError):
        cal.infer_half_terms(pd.Series([], dtype="datetime64[us]"))


def test_inferred_half_terms_label_dates():
    td = cal.infer_half_terms(register_dates().to_series())
    s = ts("2024-10-30", "2024-11-29", "2025-03-03")
    # October half-term: outside; INSET day inside half-term 2; 3 Mar in half-term 4
    assert td.half_term_of(s).tolist() == [pd.NA, 2, 4]
    assert td.term_of(s).tolist()[1:] == ["autumn", "spring"]


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


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # in the February half-term break: spring term from 6 Jan to date
        ("2025-02-18", (D(2025, 1, 6), D(2025, 2, 18))),
        # first day of the year
        ("2024-09-04", (D(2024, 9, 4), D(2024, 9, 4))),
        # Christmas holiday: the whole autumn term, clipped at 20 Dec
        ("2024-12-30", (D(2024, 9, 4), D(2024, 12, 20))),
        # in half-term 6: summer term from 22 Apr
        ("2025-06-10", (D(2025, 4, 22), D(2025, 6, 10))),
        # summer holiday, still inside the year's 1 Aug-31 Aug span
        ("2025-08-20", (D(2025, 4, 22), D(2025, 7, 22))),
    ],
)
def test_term_window(term_dates, as_of, expected):
    w = cal.term_window(as_of, term_dates)
    assert (w.start, w.end, w.academic_year) == (*expected, 2024)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2025-02-18", (D(2025, 1, 6), D(2025, 2, 14))),  # break after half-term 3
        ("2025-03-03", (D(2025, 2, 24), D(2025, 3, 3))),  # inside half-term 4
        ("2024-11-04", (D(2024, 11, 4), D(2024, 11, 4))),  # first day of half-term 2
    ],
)
def test_half_term_window(term_dates, as_of, expected):
    w = cal.half_term_window(as_of, term_dates)
    assert (w.start, w.end) == expected


def test_term_windows_outside_the_term_dates(term_dates):
    with pytest.raises(CalendarError, match="no half-term starts"):
        cal.term_window("2024-09-03", term_dates)
    with pytest.raises(CalendarError, match="end before"):
        cal.half_term_window("2025-09-10", term_dates)


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
