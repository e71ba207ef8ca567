"""Data contracts (pandera) for the frames the library hands to reports and to users.

The loaders check *rows* (quarantine); these schemas check *frames*: the columns, types and
invariants every consumer relies on. Validation is lazy, so every broken rule is reported at once.
They guard the boundaries (loader outputs, summary tables) and are exercised in tests; the
LA-scale marks path is checked by the streaming validator in ``io.marks`` instead, where a frame
check over 57 million rows would cost more than the load itself.

Invariants come from DfE's definitions (domain.md 2.1): possible = present + AEA + authorised +
unauthorised (COVID ``X`` aside); PA >= 10% and SA >= 50% of the enrolment's own possible sessions;
SA implies PA.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

__all__ = ["PupilRoster", "SchoolRoster", "InterventionLog", "PupilSummary", "GroupSummary",
           "validate"]

_UPN = r"^[A-HJ-NP-RT-Z]\d{11}[0-9A-HJ-NP-RT-Z]$"
_URN = r"^\d{5,7}$"


class PupilRoster(pa.DataFrameModel):
    """One row per enrolment (pupil at a school), as ``io.roster.read_pupils`` returns it."""

    upn: Series[str] = pa.Field(str_matches=_UPN)
    urn: Series[str] = pa.Field(str_matches=_URN)

    class Config:
        strict = False
        coerce = True
        unique = ["upn", "urn"]


class SchoolRoster(pa.DataFrameModel):
    urn: Series[str] = pa.Field(str_matches=_URN, unique=True)
    phase: Series[str] = pa.Field(isin=["primary", "secondary", "special", "all-through"])

    class Config:
        strict = False
        coerce = True


class InterventionLog(pa.DataFrameModel):
    upn: Series[str] = pa.Field(str_matches=_UPN)
    urn: Series[str] = pa.Field(str_matches=_URN)
    type: Series[str] = pa.Field(str_length={"min_value": 1})
    start_date: Series[pd.Timestamp] = pa.Field(nullable=False)

    class Config:
        strict = False
        coerce = True


class PupilSummary(pa.DataFrameModel):
    """``attendance summary --level pupil``: one row per enrolment with possible sessions."""

    upn: Series[str] = pa.Field(str_matches=_UPN)
    urn: Series[str] = pa.Field(str_matches=_URN)
    possible_sessions: Series[int] = pa.Field(gt=0)
    present_sessions: Series[int] = pa.Field(ge=0)
    aea_sessions: Series[int] = pa.Field(ge=0)
    authorised_sessions: Series[int] = pa.Field(ge=0)
    unauthorised_sessions: Series[int] = pa.Field(ge=0)
    overall_absence_pct: Series[float] = pa.Field(ge=0, le=100)
    persistent_absence: Series[bool]
    severe_absence: Series[bool]

    class Config:
        strict = False
        unique = ["upn", "urn"]

    @pa.dataframe_check
    def pa_is_ten_percent(cls, df: pd.DataFrame) -> Series[bool]:
        absent = df["authorised_sessions"] + df["unauthorised_sessions"]
        return df["persistent_absence"] == (absent * 10 >= df["possible_sessions"])

    @pa.dataframe_check
    def severe_is_fifty_percent_and_persistent(cls, df: pd.DataFrame) -> Series[bool]:
        absent = df["authorised_sessions"] + df["unauthorised_sessions"]
        sa = absent * 2 >= df["possible_sessions"]
        return (df["severe_absence"] == sa) & (~sa | df["persistent_absence"])

    @pa.dataframe_check
    def sessions_add_up(cls, df: pd.DataFrame) -> Series[bool]:
        parts = (df["present_sessions"] + df["aea_sessions"] + df["authorised_sessions"]
                 + df["unauthorised_sessions"])
        return parts <= df["possible_sessions"]  # equality unless COVID X (2020/21-2021/22)


class GroupSummary(pa.DataFrameModel):
    """School- or LA-level summary rows (``attendance summary --level school|la``)."""

    enrolments: Series[int] = pa.Field(ge=0)
    possible_sessions: Series[int] = pa.Field(ge=0)
    authorised_sessions: Series[int] = pa.Field(ge=0)
    unauthorised_sessions: Series[int] = pa.Field(ge=0)
    overall_absence_pct: Series[float] = pa.Field(ge=0, le=100, nullable=True)
    pa_count: Series[int] = pa.Field(ge=0)
    pa_pct: Series[float] = pa.Field(ge=0, le=100, nullable=True)
    sa_count: Series[int] = pa.Field(ge=0)
    sa_pct: Series[float] = pa.Field(ge=0, le=100, nullable=True)

    class Config:
        strict = False

    @pa.dataframe_check
    def severe_within_persistent(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["sa_count"] <= df["pa_count"]) & (df["pa_count"] <= df["enrolments"])


def validate(df: pd.DataFrame, schema: type[pa.DataFrameModel]) -> pd.DataFrame:
    """Validate lazily (every failure reported together); returns the (coerced) frame."""
    return schema.validate(df, lazy=True)
