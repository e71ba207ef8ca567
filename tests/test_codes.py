"""Tests for attendance_lib.codes.

The expected tables are copied by hand from domain.md 1.1 (2024 regulations) and 1.2 (codes
before 2024), not from codes.py.
"""

from __future__ import annotations

import pytest

from attendance_lib import codes
from attendance_lib.codes import (
    AEA,
    AUTHORISED,
    COVID_NOT_ATTENDING,
    NOT_POSSIBLE,
    POSSIBLE_CATEGORIES,
    PRESENT,
    UNAUTHORISED,
    UnknownCodeError,
    category_of,
    code_set,
    code_set_name,
    dfe_reason_column_code,
    harmonised_code,
    tokenise_marks,
)

# domain.md 1.1, "Stat. category" column (PRES/AEA/AUTH/UNAUTH/NPS), row by row
EXPECTED_2024 = {
    "/": PRESENT, "\\": PRESENT, "L": PRESENT,
    "K": AEA, "V": AEA, "P": AEA, "W": AEA, "B": AEA,
    "D": NOT_POSSIBLE,
    "C1": AUTHORISED, "M": AUTHORISED, "J1": AUTHORISED, "S": AUTHORISED,
    "X": NOT_POSSIBLE,
    "C2": AUTHORISED, "C": AUTHORISED, "T": AUTHORISED, "R": AUTHORISED, "I": AUTHORISED,
    "E": AUTHORISED,
    "Q": NOT_POSSIBLE, "Y1": NOT_POSSIBLE, "Y2": NOT_POSSIBLE, "Y3": NOT_POSSIBLE,
    "Y4": NOT_POSSIBLE, "Y5": NOT_POSSIBLE, "Y6": NOT_POSSIBLE, "Y7": NOT_POSSIBLE,
    "G": UNAUTHORISED, "N": UNAUTHORISED, "O": UNAUTHORISED, "U": UNAUTHORISED,
    "Z": NOT_POSSIBLE, "#": NOT_POSSIBLE,
}
assert len(EXPECTED_2024) == 34  # the 34 rows of the table in domain.md 1.1

# domain.md 1.2: Present / AEA / Authorised / Unauthorised / Not counted
EXPECTED_2006 = {
    **dict.fromkeys(["/", "\\", "L"], PRESENT),
    **dict.fromkeys(["B", "J", "P", "V", "W"], AEA),
    **dict.fromkeys(["C", "E", "H", "I", "M", "R", "S", "T"], AUTHORISED),
    **dict.fromkeys(["G", "N", "O", "U"], UNAUTHORISED),
    **dict.fromkeys(["X", "Y", "Z", "#", "D"], NOT_POSSIBLE),
}
assert len(EXPECTED_2006) == 25

NEW_IN_2024 = ["C1", "C2", "K", "J1", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7"]


# --------------------------------------------------------------------------- code sets
@pytest.mark.parametrize(("code", "category"), sorted(EXPECTED_2024.items()))
def test_every_2024_code_has_its_domain_category(code, category):
    assert category_of(code, 2024) == category
    assert category_of(code, 2025) == category  # later years keep the 2024 set


@pytest.mark.parametrize(("code", "category"), sorted(EXPECTED_2006.items()))
def test_every_pre_2024_code_has_its_domain_category(code, category):
    assert category_of(code, 2023) == category
    assert category_of(code, 2015) == category


def test_code_sets_hold_exactly_the_domain_codes():
    # withdrawn H and J stay in the 2024 table only for reconciling published files
    assert set(code_set(2024)) == set(EXPECTED_2024)
    assert set(code_set(2024, include_withdrawn=True)) == set(EXPECTED_2024) | {"H", "J"}
    assert set(code_set(2023)) == set(EXPECTED_2006)


@pytest.mark.parametrize(("year", "name"), [(2010, "2006"), (2022, "2006"), (2023, "2006"),
                                            (2024, "2024"), (2025, "2024")])
def test_code_set_chosen_by_academic_year(year, name):
    # 2023 = 2023/24 (last year of the 2006 rules); 2024 = 2024/25 (from 19 Aug 2024)
    assert code_set_name(year) == name


def test_interview_j_is_attendance_before_2024_and_j1_absence_after():
    assert category_of("J", 2023) == AEA
    assert category_of("J1", 2024) == AUTHORISED


@pytest.mark.parametrize("code", NEW_IN_2024)
def test_codes_new_in_2024_are_unknown_in_2023(code):
    with pytest.raises(UnknownCodeError, match="2006 code set"):
        category_of(code, 2023)


@pytest.mark.parametrize(("code", "replacement"), [("H", "'C'"), ("J", "'J1'"), ("Y", "'Y1'")])
def test_withdrawn_codes_rejected_in_2024_naming_the_replacement(code, replacement):
    with pytest.raises(UnknownCodeError) as err:
        category_of(code, 2024)
    assert "withdrawn" in str(err.value)
    assert replacement in str(err.value)


def test_withdrawn_codes_still_categorised_for_published_aggregates():
    # DfE 2024/25 files keep reason_h_authorised_holiday and reason_j_aea_interview (1.3)
    assert category_of("H", 2024, include_withdrawn=True) == AUTHORISED
    assert category_of("J", 2024, include_withdrawn=True) == AEA


@pytest.mark.parametrize("code", ["A", "F", "y1", "", "//", "1"])
def test_codes_in_neither_set_are_unknown(code):
    # F (extended holiday) was withdrawn in Sept 2013; lower case is never a code
    for year in (2023, 2024):
        with pytest.raises(UnknownCodeError):
            category_of(code, year)


def test_academic_year_may_arrive_as_text_or_numpy():
    np = pytest.importorskip("numpy")
    assert category_of("I", "2023") == AUTHORISED
    assert category_of("J1", np.int16(2024)) == AUTHORISED


# --------------------------------------------------------------------------- COVID X, D
@pytest.mark.parametrize("year", [2020, 2021])
def test_covid_x_is_possible_but_not_absence(year):
    # 2020/21 and 2021/22: X counted as a possible session but not as absence (domain.md 1.2)
    cat = category_of("X", year)
    assert cat == COVID_NOT_ATTENDING
    assert cat in POSSIBLE_CATEGORIES
    assert cat not in codes.ABSENCE_CATEGORIES
    assert cat not in codes.ATTENDANCE_CATEGORIES


@pytest.mark.parametrize("year", [2019, 2022, 2023, 2024])
def test_x_outside_covid_years_is_not_possible(year):
    assert category_of("X", year) == NOT_POSSIBLE
    assert NOT_POSSIBLE not in POSSIBLE_CATEGORIES


@pytest.mark.parametrize("year", [2020, 2023, 2024])
def test_dual_registration_d_is_not_a_possible_session(year):
    # domain.md 9: the published AEA total leaves reason_d_aea_dual_registration out
    assert category_of("D", year) == NOT_POSSIBLE


# --------------------------------------------------------------------------- harmonising
@pytest.mark.parametrize(("code", "year", "expected"), [
    ("J", 2023, "J1"),   # interview: AEA before 2024 -> authorised J1
    ("H", 2023, "C"),    # agreed holiday -> C
    ("Y", 2023, "Y7"),   # unable to attend -> "any other unavoidable cause"
    ("I", 2023, "I"),    # unchanged codes map to themselves
    ("C", 2023, "C"),
    ("J", 2024, "J1"),   # the withdrawn codes still seen in 2024/25
    ("H", 2024, "C"),
    ("C2", 2024, "C2"),
    ("J1", 2024, "J1"),
])
def test_harmonised_code(code, year, expected):
    assert harmonised_code(code, year) == expected


def test_harmonising_j_moves_it_from_attendance_to_authorised_absence():
    assert category_of("J", 2023) == AEA
    assert category_of(harmonised_code("J", 2023), 2024) == AUTHORISED
    table = codes.code_table()
    j = table[(table["code_set"] == "2006") & (table["code"] == "J")].iloc[0]
    assert (j["category"], j["harmonised_code"], j["harmonised_category"]) == (
        AEA, "J1", AUTHORISED)
    y = table[(table["code_set"] == "2006") & (table["code"] == "Y")].iloc[0]
    assert (y["harmonised_code"], y["harmonised_category"]) == ("Y7", NOT_POSSIBLE)


def test_harmonised_code_rejects_unknown_codes():
    with pytest.raises(UnknownCodeError):
        harmonised_code("C2", 2023)


# --------------------------------------------------------------------------- tokenising
@pytest.mark.parametrize(("marks", "year", "expected"), [
    ("/\\C2J1--", 2024, ["/", "\\", "C2", "J1", "", ""]),
    ("Y3Y7Q#", 2024, ["Y3", "Y7", "Q", "#"]),
    ("C1C", 2024, ["C1", "C"]),          # C1 is one code, the last C is another
    ("CC2", 2024, ["C", "C2"]),          # longest match starting at each position
    ("/ \\", 2024, ["/", "", "\\"]),     # a space is a blank session too
    ("", 2024, []),
    ("/\\JHY-", 2023, ["/", "\\", "J", "H", "Y", ""]),
    ("L/U\\", 2023, ["L", "/", "U", "\\"]),
])
def test_tokenise_marks_longest_match(marks, year, expected):
    assert tokenise_marks(marks, year) == expected


@pytest.mark.parametrize(("marks", "year"), [
    ("/A", 2024),     # A is no code
    ("Y", 2024),      # a bare Y no longer exists
    ("Y8", 2024),     # Y then 8: there is no Y8 and no bare Y
    ("C2", 2023),     # C then '2': not a code before 2024
    ("J1", 2023),
    ("Y1", 2023),
    ("K", 2023),
    ("/c", 2024),     # lower case
])
def test_tokenise_marks_rejects_unknown_characters(marks, year):
    with pytest.raises(UnknownCodeError, match="position"):
        tokenise_marks(marks, year)


# --------------------------------------------------------------------------- DfE columns
@pytest.mark.parametrize(("column", "code"), [
    ("reason_c1_authorised_regulated_performance", "C1"),
    ("reason_c2_authorised_temp_reduced_timetable", "C2"),
    ("reason_c_authorised_other", "C"),
    ("reason_j1_authorised_interview", "J1"),
    ("reason_j_aea_interview", "J"),
    ("reason_k_aea_education_arranged_by_la", "K"),
    ("reason_d_aea_dual_registration", "D"),
    ("reason_l_present_late_before_registers_closed", "L"),
    ("reason_u_unauthorised_late_after_registers_closed", "U"),
    ("reason_t_authorised_mobile_child", "T"),
    ("reason_x_not_attending_covid_non_compulsory", "X"),
    ("reason_present_am", "/"),
    ("reason_present_pm", "\\"),
    ("reason_present", None),          # AM + PM together: a derived total, no single code
    ("possible_sessions", None),
    ("overall_absence", None),
])
def test_dfe_reason_column_code(column, code):
    assert dfe_reason_column_code(column) == code
