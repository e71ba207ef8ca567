"""Tests for attendance_lib.term_dates (school half-term dates, term and half-term windows).

Expected values are worked out by hand from a printed calendar (weekday of each date noted in the
comments), not taken from the code's own output.
"""

from __future__ import annotations

import doctest
import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest

from attendance_lib import term_dates as terms
from attendance_lib.calendar import CalendarError
from attendance_lib.term_dates import TermDates

D = date


def ts(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), format="ISO8601"))


def as_dates(series: pd.Series) -> list[date]:
    return [d.date() for d in series]


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
    return terms.read_term_dates(write_csv(tmp_path / "terms.csv", TERMS_2024))


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
    pd.testing.assert_frame_equal(terms.read_term_dates(path).table, term_dates.table)


def test_read_term_dates_skips_comments_and_blank_lines_and_allows_notes(tmp_path):
    text = "# source: LA website\nacademic_year,half_term,start,end,notes\n\n"
    text += "\n".join(",".join(map(str, r)) + ",x" for r in TERMS_2024) + "\n"
    path = tmp_path / "terms.csv"
    path.write_text(text, encoding="utf-8")
    assert len(terms.read_term_dates(path)) == 6


def test_bad_term_dates_file_names_file_and_lines(tmp_path):
    rows = list(TERMS_2024)
    rows[1] = ("2024/25", 2, "20/12/2024", "04/11/2024")  # line 3: ends before it starts
    rows[4] = ("2024/25", 5, "03/04/2025", "23/05/2025")  # line 6: overlaps half-term 4 (line 5)
    path = write_csv(tmp_path / "bad_terms.csv", rows)
    with pytest.raises(CalendarError) as info:
        terms.read_term_dates(path)
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
        terms.read_term_dates(path)
    assert any(n == line and fragment in text for n, text in info.value.problems), info.value


def test_missing_half_term_and_unknown_column(tmp_path):
    path = write_csv(tmp_path / "t.csv", TERMS_2024[:5])
    with pytest.raises(
        CalendarError, match=r"line 2: academic year 2024/25 lacks half-term\(s\) \[6\]"
    ):
        terms.read_term_dates(path)
    path = write_csv(tmp_path / "u.csv", TERMS_2024, header="academic_year,half_term,begin,end")
    with pytest.raises(CalendarError, match="line 1: .*'begin'"):
        terms.read_term_dates(path)


def test_school_and_la_calendars_and_select(tmp_path):
    # default (no urn/la_code) rows, plus LA 873 starting a week earlier, plus one school
    rows = [(*r, "", "") for r in TERMS_2024]
    rows += [(y, h, "2024-09-02" if h == 1 else s, e, "", "873") for y, h, s, e in TERMS_2024]
    rows += [(y, h, "2024-09-05" if h == 1 else s, e, "123456", "") for y, h, s, e in TERMS_2024]
    path = write_csv(
        tmp_path / "t.csv", rows, header="academic_year,half_term,start,end,urn,la_code"
    )
    td = terms.read_term_dates(path)
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
    t = terms.infer_half_terms(marks).table
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
    t = terms.infer_half_terms(days.to_series()).table
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
    assert len(terms.infer_half_terms(dates)) == blocks
    assert len(terms.infer_half_terms(dates, min_gap_weekdays=4)) == 2


def test_infer_half_terms_empty_is_an_error():
    with pytest.raises(CalendarError):
        terms.infer_half_terms(pd.Series([], dtype="datetime64[us]"))


def test_inferred_half_terms_label_dates():
    td = terms.infer_half_terms(register_dates().to_series())
    s = ts("2024-10-30", "2024-11-29", "2025-03-03")
    # October half-term: outside; INSET day inside half-term 2; 3 Mar in half-term 4
    assert td.half_term_of(s).tolist() == [pd.NA, 2, 4]
    assert td.term_of(s).tolist()[1:] == ["autumn", "spring"]


# --------------------------------------------------------------------------------------------
# term and half-term windows


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
    w = terms.term_window(as_of, term_dates)
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
    w = terms.half_term_window(as_of, term_dates)
    assert (w.start, w.end) == expected


def test_term_windows_outside_the_term_dates(term_dates):
    with pytest.raises(CalendarError, match="no half-term starts"):
        terms.term_window("2024-09-03", term_dates)
    with pytest.raises(CalendarError, match="end before"):
        terms.half_term_window("2025-09-10", term_dates)


# --------------------------------------------------------------------------------------------


def test_public_api_is_explicit():
    assert set(terms.__all__) <= set(dir(terms))
    assert not [name for name in terms.__all__ if name.startswith("_")]


def test_docstring_examples_run():
    result = doctest.testmod(terms, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize(
    "code",
    [
        "import attendance_lib.term_dates",
        "import attendance_lib.calendar as c; c.TermDates",
    ],
)
def test_imports_in_either_order_without_a_cycle(code):
    # a fresh interpreter, so neither module has been imported yet
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
