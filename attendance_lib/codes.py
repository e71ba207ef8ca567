"""Attendance register codes and their statistical categories, versioned by academic year.

Two code sets exist:

* ``"2024"`` -- School Attendance (Pupil Registration) (England) Regulations 2024 (SI 2024/208,
  reg. 10), in force from 19 August 2024, used for academic years 2024/25 onwards
  (domain.md section 1.1);
* ``"2006"`` -- Education (Pupil Registration) (England) Regulations 2006 and DfE advice of
  2013/2016, used for every academic year up to 2023/24 (domain.md section 1.2).

Every code maps to one statistical category (domain.md section 2.1):

* ``present`` -- counts as attendance and as a possible session (``/``, ``\\``, ``L``);
* ``aea`` -- approved educational activity: attendance and a possible session;
* ``authorised`` / ``unauthorised`` -- absence, and a possible session;
* ``not_possible`` -- left out of numerator and denominator (``D``, ``X``, ``Y*``, ``Q``, ``Z``,
  ``#``). ``D`` is not a possible session: the published ``approved_educational_activity`` total
  leaves ``reason_d_aea_dual_registration`` out despite the column's name (domain.md section 9).

COVID years: in 2020/21 and 2021/22 ``X`` meant "not attending in circumstances related to
coronavirus", counted as a possible session but not as absence (domain.md section 1.2); the
category ``covid_not_attending`` carries that.

Withdrawn codes: ``H`` (agreed holiday) and ``J`` (interview, AEA) were withdrawn on 19 Aug 2024,
but DfE's published 2024/25 figures still count the few such marks MIS systems recorded
(``reason_h_authorised_holiday``, ``reason_j_aea_interview``, domain.md section 1.3). The 2024 set
therefore keeps them with ``withdrawn=True``: published aggregates are reconciled with them, but a
register mark using them is quarantined with a message naming the replacement code, never guessed.

Unknown codes are never guessed: :func:`category_of` raises :class:`UnknownCodeError`.

Examples
--------
>>> category_of("I", 2023)
'authorised'
>>> category_of("J", 2023), category_of("J1", 2024)
('aea', 'authorised')
>>> harmonised_code("H", 2023)
'C'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd

__all__ = [
    "PRESENT",
    "AEA",
    "AUTHORISED",
    "UNAUTHORISED",
    "NOT_POSSIBLE",
    "COVID_NOT_ATTENDING",
    "CATEGORIES",
    "POSSIBLE_CATEGORIES",
    "ABSENCE_CATEGORIES",
    "ATTENDANCE_CATEGORIES",
    "LEGAL_THRESHOLD_CODES",
    "LATE_CODES",
    "Code",
    "UnknownCodeError",
    "code_set_name",
    "code_set",
    "code_table",
    "year_code_table",
    "category_of",
    "harmonised_code",
    "harmonisation_notes",
    "tokenise_marks",
    "dfe_reason_column_code",
]

PRESENT = "present"
AEA = "aea"
AUTHORISED = "authorised"
UNAUTHORISED = "unauthorised"
NOT_POSSIBLE = "not_possible"
COVID_NOT_ATTENDING = "covid_not_attending"

CATEGORIES = (PRESENT, AEA, AUTHORISED, UNAUTHORISED, NOT_POSSIBLE, COVID_NOT_ATTENDING)
#: categories that make up possible sessions (domain.md 2.1; COVID X in 2020/21-2021/22, 1.2)
POSSIBLE_CATEGORIES = (PRESENT, AEA, AUTHORISED, UNAUTHORISED, COVID_NOT_ATTENDING)
ABSENCE_CATEGORIES = (AUTHORISED, UNAUTHORISED)
ATTENDANCE_CATEGORIES = (PRESENT, AEA)
#: unauthorised codes counted towards the penalty-notice threshold (domain.md 4.1)
LEGAL_THRESHOLD_CODES = frozenset({"G", "N", "O", "U"})
#: L = late before registers closed (present), U = after they closed (unauthorised)
LATE_CODES = frozenset({"L", "U"})

#: first academic year (start year) of the 2024 regulations' code set
FIRST_2024_YEAR = 2024
COVID_X_YEARS = frozenset({2020, 2021})


@dataclass(frozen=True)
class Code:
    """One register code in one code set."""

    code: str
    meaning: str
    category: str
    group: str
    withdrawn: bool = False
    replacement: str | None = None


class UnknownCodeError(ValueError):
    """A register code that is not in the code set of that academic year."""


_CODES_2024: tuple[Code, ...] = (
    Code("/", "Present (AM) when the register begins", PRESENT, "Present"),
    Code("\\", "Present (PM) when the register begins", PRESENT, "Present"),
    Code("L", "Late: arrived before the register closed", PRESENT, "Present"),
    Code("K", "Education arranged by the local authority", AEA, "Else"),
    Code("V", "Educational visit or trip", AEA, "Else"),
    Code("P", "Approved sporting activity", AEA, "Else"),
    Code("W", "Work experience", AEA, "Else"),
    Code("B", "Other approved educational activity", AEA, "Else"),
    Code("D", "Dual registered: at the other school", NOT_POSSIBLE, "Admin"),
    Code("C1", "Leave: regulated performance or employment abroad", AUTHORISED, "Leave"),
    Code("M", "Leave: medical or dental appointment", AUTHORISED, "Leave"),
    Code("J1", "Leave: interview", AUTHORISED, "Leave"),
    Code("S", "Leave: study leave", AUTHORISED, "Leave"),
    Code("X", "Non-compulsory school age, not required to attend", NOT_POSSIBLE, "Leave"),
    Code("C2", "Leave: temporary part-time timetable", AUTHORISED, "Leave"),
    Code("C", "Leave: exceptional circumstances", AUTHORISED, "Leave"),
    Code("T", "Parent travelling for occupational purposes", AUTHORISED, "Auth"),
    Code("R", "Religious observance", AUTHORISED, "Auth"),
    Code("I", "Illness (not medical or dental appointment)", AUTHORISED, "Auth"),
    Code("E", "Suspended or excluded, no alternative provision", AUTHORISED, "Auth"),
    Code("Q", "LA has not made access arrangements", NOT_POSSIBLE, "Unavoid"),
    Code("Y1", "Transport not available", NOT_POSSIBLE, "Unavoid"),
    Code("Y2", "Widespread disruption to travel", NOT_POSSIBLE, "Unavoid"),
    Code("Y3", "Part of premises out of use", NOT_POSSIBLE, "Unavoid"),
    Code("Y4", "Whole school site unexpectedly closed", NOT_POSSIBLE, "Unavoid"),
    Code("Y5", "In criminal justice detention", NOT_POSSIBLE, "Unavoid"),
    Code("Y6", "Public health guidance or law", NOT_POSSIBLE, "Unavoid"),
    Code("Y7", "Any other unavoidable cause", NOT_POSSIBLE, "Unavoid"),
    Code("G", "Holiday not granted by the school", UNAUTHORISED, "Unauth"),
    Code("N", "Reason not yet established", UNAUTHORISED, "Unauth"),
    Code("O", "Absent in other or unknown circumstances", UNAUTHORISED, "Unauth"),
    Code("U", "Arrived after the register closed", UNAUTHORISED, "Unauth"),
    Code("Z", "Prospective pupil, not on the admission register", NOT_POSSIBLE, "Admin"),
    Code("#", "Planned whole or partial school closure", NOT_POSSIBLE, "Admin"),
    # withdrawn 19 Aug 2024, still counted in DfE's published 2024/25 columns
    Code("H", "Agreed holiday (withdrawn 2024)", AUTHORISED, "Auth", True, "C"),
    Code("J", "Interview (withdrawn 2024)", AEA, "Else", True, "J1"),
)

_CODES_2006: tuple[Code, ...] = (
    Code("/", "Present (AM)", PRESENT, "Present"),
    Code("\\", "Present (PM)", PRESENT, "Present"),
    Code("L", "Late before registers closed", PRESENT, "Present"),
    Code("B", "Educated off site", AEA, "AEA"),
    Code("J", "Interview", AEA, "AEA"),
    Code("P", "Approved sporting activity", AEA, "AEA"),
    Code("V", "Educational visit or trip", AEA, "AEA"),
    Code("W", "Work experience", AEA, "AEA"),
    Code("C", "Other authorised circumstances", AUTHORISED, "Auth"),
    Code("E", "Excluded, no alternative provision", AUTHORISED, "Auth"),
    Code("H", "Agreed family holiday", AUTHORISED, "Auth"),
    Code("I", "Illness", AUTHORISED, "Auth"),
    Code("M", "Medical or dental appointment", AUTHORISED, "Auth"),
    Code("R", "Religious observance", AUTHORISED, "Auth"),
    Code("S", "Study leave", AUTHORISED, "Auth"),
    Code("T", "Gypsy, Roma and Traveller absence", AUTHORISED, "Auth"),
    Code("G", "Holiday not agreed", UNAUTHORISED, "Unauth"),
    Code("N", "No reason yet provided", UNAUTHORISED, "Unauth"),
    Code("O", "Other unauthorised absence", UNAUTHORISED, "Unauth"),
    Code("U", "Arrived after registers closed", UNAUTHORISED, "Unauth"),
    Code("X", "Not required to be in school", NOT_POSSIBLE, "Not counted"),
    Code("Y", "Unable to attend: exceptional circumstances", NOT_POSSIBLE, "Not counted"),
    Code("Z", "Pupil not yet on roll", NOT_POSSIBLE, "Not counted"),
    Code("#", "Planned school closure", NOT_POSSIBLE, "Not counted"),
    Code("D", "Dual registration", NOT_POSSIBLE, "Not counted"),
)

#: old code -> the 2024 code with the same meaning (domain.md section 1.3)
_HARMONISE: dict[str, str] = {"J": "J1", "H": "C", "Y": "Y7"}
#: pre-2024 codes left out of the 2024 set altogether -> what replaced them (domain.md 1.3)
_REPLACED_BY_2024: dict[str, str] = {"Y": "'Y1'-'Y7' (unable to attend, by cause) or 'Q'"}

_HARMONISATION_NOTES = (
    ("J", "J1", "Interviews moved from approved educational activity (attendance) to authorised "
     "absence: harmonised series count pre-2024 J as authorised absence."),
    ("H", "C", "Agreed holiday withdrawn; agreed leave is now C (authorised either way)."),
    ("Y", "Y7", "Unable to attend is now split Y1-Y7 (+ Q); all remain not possible sessions."),
    ("C", "C/C1/C2", "Part-time timetables (C2) and performances (C1) were inside C before 2024; "
     "all remain authorised."),
    ("T", "T", "Traveller absence became 'parent travelling for occupational purposes'; still "
     "authorised."),
    ("B", "B", "Tighter rules from 2024: remote learning is no longer B; expect less B."),
    ("X", "X", "COVID X (2020/21-2021/22) counted as possible, not absent; now not possible."),
)


def code_set_name(academic_year: int) -> str:
    """Name of the code set in force for an academic year given by its start year.

    >>> code_set_name(2023), code_set_name(2024)
    ('2006', '2024')
    """
    return "2024" if int(academic_year) >= FIRST_2024_YEAR else "2006"


@cache
def _set_for(academic_year: int) -> dict[str, Code]:
    codes = _CODES_2024 if code_set_name(academic_year) == "2024" else _CODES_2006
    out = {c.code: c for c in codes}
    if academic_year in COVID_X_YEARS:
        out["X"] = Code("X", "Not attending: coronavirus circumstances", COVID_NOT_ATTENDING,
                        "Not counted")
    return out


def code_set(academic_year: int, include_withdrawn: bool = False) -> dict[str, Code]:
    """The codes valid in an academic year, keyed by code.

    Withdrawn codes (kept only so published aggregates reconcile) are left out unless asked for.
    """
    return {k: c for k, c in _set_for(int(academic_year)).items()
            if include_withdrawn or not c.withdrawn}


def _not_in_set_hint(code: str, academic_year: int) -> str:
    """Why a code of the other code set is not valid in ``academic_year`` (empty if unknown)."""
    if code_set_name(academic_year) == "2024":
        if code in _REPLACED_BY_2024:
            return f"; it was withdrawn on 19 Aug 2024: use {_REPLACED_BY_2024[code]}"
    elif code in {c.code for c in _CODES_2024 if not c.withdrawn} - {c.code for c in _CODES_2006}:
        return "; it was introduced on 19 Aug 2024 (2024 regulations, academic years 2024/25 on)"
    return ""


def category_of(code: str, academic_year: int, include_withdrawn: bool = False) -> str:
    """Statistical category of ``code`` in ``academic_year``; raises :class:`UnknownCodeError`."""
    academic_year = int(academic_year)
    c = _set_for(academic_year).get(code)
    if c is None:
        raise UnknownCodeError(
            f"code {code!r} is not in the {code_set_name(academic_year)} code set "
            f"used for {academic_year}/{(academic_year + 1) % 100:02d}"
            + _not_in_set_hint(code, academic_year))
    if c.withdrawn and not include_withdrawn:
        raise UnknownCodeError(
            f"code {code!r} was withdrawn on 19 Aug 2024; use {c.replacement!r}")
    return c.category


def harmonised_code(code: str, academic_year: int) -> str:
    """The 2024 code that carries the meaning of ``code`` as used in ``academic_year``."""
    category_of(code, academic_year, include_withdrawn=True)  # validates
    if code_set_name(academic_year) == "2024" and not _set_for(academic_year)[code].withdrawn:
        return code
    return _HARMONISE.get(code, code)


def harmonisation_notes() -> pd.DataFrame:
    """The documented differences between the pre-2024 and 2024 code sets."""
    return pd.DataFrame(_HARMONISATION_NOTES, columns=["old_code", "new_code", "note"])


@cache
def code_table() -> pd.DataFrame:
    """One row per (academic-year code set, code): the table the store and loaders join on.

    Columns: ``code_set``, ``code``, ``meaning``, ``category``, ``group``, ``withdrawn``,
    ``replacement``, ``harmonised_code``, ``harmonised_category``. COVID ``X`` appears as code set
    ``"2006-covid"`` (academic years 2020 and 2021).
    """
    rows = []
    for name, year in (("2006", 2023), ("2006-covid", 2020), ("2024", 2024)):
        for c in _set_for(year).values():
            if name == "2006-covid" and c.code != "X":
                continue
            h = harmonised_code(c.code, year)
            rows.append({
                "code_set": name, "code": c.code, "meaning": c.meaning, "category": c.category,
                "group": c.group, "withdrawn": c.withdrawn, "replacement": c.replacement,
                "harmonised_code": h,
                "harmonised_category": _set_for(2024)[h].category,
            })
    return pd.DataFrame(rows)


def year_code_table(academic_years) -> pd.DataFrame:
    """``academic_year, code, category, withdrawn, replacement`` for each year given."""
    rows = []
    for y in sorted({int(a) for a in academic_years}):
        for c in _set_for(y).values():
            rows.append((y, c.code, c.category, c.withdrawn, c.replacement))
    return pd.DataFrame(rows, columns=["academic_year", "code", "category", "withdrawn",
                                       "replacement"])


def tokenise_marks(marks: str, academic_year: int) -> list[str]:
    """Split a mark string into codes, longest match first (``C1``, ``J1``, ``Y1``-``Y7``).

    Two-character codes are never classified by their first character. ``-`` and space mean
    "no mark" and come back as ``""``. Raises :class:`UnknownCodeError` on a character that starts
    no code of that year.

    >>> tokenise_marks("/\\\\C2J1--", 2024)
    ['/', '\\\\', 'C2', 'J1', '', '']
    """
    valid = _set_for(int(academic_year))
    out: list[str] = []
    i = 0
    while i < len(marks):
        two = marks[i:i + 2]
        if len(two) == 2 and two in valid:
            out.append(two)
            i += 2
        elif marks[i] in "- ":
            out.append("")
            i += 1
        elif marks[i] in valid:
            out.append(marks[i])
            i += 1
        else:
            raise UnknownCodeError(f"mark {marks[i]!r} at position {i + 1} of {marks!r} is not "
                                   f"a code in the {code_set_name(academic_year)} code set")
    return out


_DFE_SPECIAL = {"present_am": "/", "present_pm": "\\"}


def dfe_reason_column_code(column: str) -> str | None:
    """Register code behind a published ``reason_*`` column, or None for derived columns.

    >>> dfe_reason_column_code("reason_c2_authorised_temp_reduced_timetable")
    'C2'
    >>> dfe_reason_column_code("reason_present") is None
    True
    """
    if not column.startswith("reason_"):
        return None
    rest = column[len("reason_"):]
    for k, v in _DFE_SPECIAL.items():
        if rest == k:
            return v
    token = rest.split("_", 1)[0]
    if token == "present" or not token:
        return None
    return token.upper()
