"""The suite's definitions checked against DfE's published figures.

One concept: reproducing published numbers from their inputs (domain.md 2.1, 9).

* :func:`aggregate_schools_to_la` -- census school rows summed to LA x school type (plus
  ``Total``), with the rates recomputed; this reproduces the published LA rows exactly.
* :func:`reconcile_attendance_collection` -- the suite's code table (:mod:`attendance_lib.codes`)
  applied to the per-code ``reason_*`` columns of the attendance collection
  (:func:`reason_column_categories`), beside DfE's published present / AEA / authorised /
  unauthorised / possible totals (domain.md sections 1, 2.1 and 9).

Suppressed inputs are missing, never 0, so any sum over one stays missing. Re-exported by
:mod:`attendance_lib.io.dfe`, whose loaders give the frames these functions take.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from attendance_lib import codes

from .dfe_files import PublishedDataError, academic_year_code

__all__ = [
    "SCHOOL_LA_KEYS",
    "CENSUS_SCHOOL_COLUMNS",
    "ATTENDANCE_PUBLISHED_TOTALS",
    "aggregate_schools_to_la",
    "reason_column_categories",
    "reconcile_attendance_collection",
]

#: grouping keys of :func:`aggregate_schools_to_la`, in output order (those present are used)
SCHOOL_LA_KEYS = ("time_period", "time_identifier", "year_breakdown", "country_code",
                  "country_name", "region_code", "region_name", "old_la_code", "new_la_code",
                  "la_name", "school_type")
#: columns a census school frame needs (:func:`aggregate_schools_to_la`, the school loader)
CENSUS_SCHOOL_COLUMNS = ("time_period", "old_la_code", "school_type", "enrolments",
                         "sess_possible", "sess_overall", "sess_authorised", "sess_unauthorised",
                         "enrolments_pa_10_exact")
#: rate column -> (numerator, denominator), recomputed unrounded after summing (domain.md 2.1)
_CENSUS_RATES = {
    "sess_overall_percent": ("sess_overall", "sess_possible"),
    "sess_authorised_percent": ("sess_authorised", "sess_possible"),
    "sess_unauthorised_percent": ("sess_unauthorised", "sess_possible"),
    "enrolments_pa_10_exact_percent": ("enrolments_pa_10_exact", "enrolments"),
    "sess_overall_percent_pa_10_exact": ("sess_overall_pa_10_exact", "sess_possible_pa_10_exact"),
    "sess_authorised_percent_pa_10_exact": ("sess_authorised_pa_10_exact",
                                            "sess_possible_pa_10_exact"),
    "sess_unauthorised_percent_pa_10_exact": ("sess_unauthorised_pa_10_exact",
                                              "sess_possible_pa_10_exact"),
}

#: published attendance-collection total -> code-table category it should equal (domain.md 2.1)
ATTENDANCE_PUBLISHED_TOTALS = {
    "present_sessions": codes.PRESENT,
    "approved_educational_activity": codes.AEA,
    "authorised_absence": codes.AUTHORISED,
    "unauthorised_absence": codes.UNAUTHORISED,
    "possible_sessions": "possible",
}
_ROW_KEYS = ("time_period", "time_identifier", "attendance_date", "geographic_level",
             "region_code", "region_name", "old_la_code", "new_la_code", "la_name", "school_type")


def _start_year(academic_year: int | str) -> int:
    """The start year of an academic year given in any form :func:`academic_year_code` takes."""
    return int(academic_year_code(academic_year)[:4])


# --------------------------------------------------------------------------------------------
# school -> LA aggregation


def _count_columns(frame: pd.DataFrame) -> list[str]:
    """Session / enrolment count columns of a census frame (percentages left out)."""
    return [c for c in frame.columns
            if (c == "num_schools" or c.startswith(("sess_", "enrolments")))
            and "percent" not in c and pd.api.types.is_numeric_dtype(frame[c])]


def _strict_group_sum(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Group sums that stay missing when any member is missing (suppressed != 0)."""
    grouped = frame.groupby(keys, dropna=False, sort=True)
    sums = grouped[columns].sum()
    any_missing = frame[columns].isna().groupby([frame[k] for k in keys], dropna=False,
                                                sort=True).any()
    return sums.mask(any_missing.reindex(sums.index).to_numpy())


def _add_census_rates(frame: pd.DataFrame) -> pd.DataFrame:
    rates = {}
    for rate, (num, den) in _CENSUS_RATES.items():
        if num in frame.columns and den in frame.columns:
            n = frame[num].astype("float64")
            d = frame[den].astype("float64")
            rates[rate] = (n / d.where(d != 0) * 100).astype("float64")
    return frame.assign(**rates)


def aggregate_schools_to_la(schools: pd.DataFrame, *, include_total: bool = True
                            ) -> pd.DataFrame:
    """Sum census school rows to LA x school type (and ``Total``), with the rates recomputed.

    Parameters
    ----------
    schools : DataFrame
        School rows as from :func:`census_absence_schools` (``.frame``).
    include_total : bool
        Also sum all school types of an LA into ``school_type == "Total"``, as the published LA
        file has (state-funded primary + secondary + special).

    Returns
    -------
    DataFrame
        One row per (:data:`SCHOOL_LA_KEYS` present): ``geographic_level`` = "Local authority",
        the summed counts (``num_schools``, ``enrolments``, every ``sess_*`` count,
        ``enrolments_pa_10_exact``) and unrounded rates: ``sess_overall_percent`` =
        ``sess_overall / sess_possible * 100``, authorised/unauthorised likewise, and
        ``enrolments_pa_10_exact_percent`` = PA enrolments / enrolments * 100 (domain.md 2.1).
        A group sum is missing when any school's value is missing. The published LA file shows
        these rates to 5 decimal places, rounded half up (:func:`round_half_up`).

    Notes
    -----
    Against the published LA rows 2014/15-2018/19 this reproduces all six headline counts in
    every one of the 2,255 LA x type x year cells, and in the 760 ``Total`` cells (domain.md 9).
    """
    missing = [c for c in CENSUS_SCHOOL_COLUMNS if c not in schools.columns]
    if missing:
        raise ValueError(f"aggregate_schools_to_la: school frame lacks column(s) "
                         f"{', '.join(missing)}")
    keys = [k for k in SCHOOL_LA_KEYS if k in schools.columns]
    columns = _count_columns(schools)
    parts = [_strict_group_sum(schools, keys, columns).reset_index()]
    if include_total:
        by_la = [k for k in keys if k != "school_type"]
        total = _strict_group_sum(schools, by_la, columns).reset_index()
        parts.append(total.assign(school_type="Total")[keys + columns])
    out = pd.concat(parts, ignore_index=True)
    out.insert(keys.index("school_type"), "geographic_level", "Local authority")
    return _add_census_rates(out).sort_values(keys, ignore_index=True)


# --------------------------------------------------------------------------------------------
# attendance collection against the code table


def reason_column_categories(columns: Iterable[str], academic_year: int | str,
                             category_overrides: Mapping[str, str] | None = None
                             ) -> dict[str, str]:
    """Statistical category of each per-code ``reason_*`` column (domain.md 1, 2.1).

    Uses :func:`attendance_lib.codes.dfe_reason_column_code` and
    :func:`attendance_lib.codes.category_of` with ``include_withdrawn=True`` (the 2024/25+
    files still carry legacy ``H`` and ``J`` columns that DfE counts). Derived columns
    (``reason_present`` = AM + PM) are left out so nothing is counted twice; if a file has
    ``reason_present`` but no AM/PM columns, it stands for present.

    ``category_overrides`` maps a register code to a category for this call only (e.g. to
    test a hypothesis about how DfE counted a code); the code table itself is not changed.

    Raises
    ------
    PublishedDataError
        A ``reason_*`` column whose code is not in that year's code set.
    """
    columns = list(columns)
    year = _start_year(academic_year)
    overrides = dict(category_overrides or {})
    out: dict[str, str] = {}
    for col in columns:
        code = codes.dfe_reason_column_code(col)
        if code is None:
            continue
        if code in overrides:
            out[col] = overrides[code]
            continue
        try:
            out[col] = codes.category_of(code, year, include_withdrawn=True)
        except codes.UnknownCodeError as exc:
            raise PublishedDataError(f"column {col!r}: {exc}") from None
    if not any(codes.dfe_reason_column_code(c) in ("/", "\\") for c in out) \
            and "reason_present" in columns:
        out["reason_present"] = codes.PRESENT
    return out


def _category_sum(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    """Row sums that are missing when any input is missing (suppressed is never 0)."""
    if not cols:
        return pd.Series(0, index=frame.index, dtype="Int64")
    block = frame[cols].astype("Float64")
    total = block.sum(axis=1, skipna=False)
    return total.round().astype("Int64")


def reconcile_attendance_collection(frame: pd.DataFrame, academic_year: int | str, *,
                                    category_overrides: Mapping[str, str] | None = None
                                    ) -> pd.DataFrame:
    """The code table applied to the per-code columns, beside DfE's published totals.

    Parameters
    ----------
    frame : DataFrame
        An attendance-collection frame (:func:`attendance_collection` ``.frame``; any kind).
    academic_year : int or str
        Academic year whose code set applies (2023 = 2023/24; 2024 onwards = 2024 codes).
    category_overrides : mapping, optional
        Code -> category for this call only (see :func:`reason_column_categories`).

    Returns
    -------
    DataFrame
        Row keys (``time_period``, ``geographic_level``, codes, names, ``school_type`` ...),
        then for each published total in :data:`ATTENDANCE_PUBLISHED_TOTALS` the published
        value, ``computed_<total>`` (sum of that category's reason columns; possible = present
        + AEA + authorised + unauthorised + COVID-X, domain.md 2.1) and ``diff_<total>`` =
        published - computed; also ``computed_not_possible_sessions`` (``D``, ``X`` ...,
        domain.md 9), ``complete`` (no published total or reason column missing) and
        ``matches`` (complete and every diff is 0). Any missing input leaves the computed
        value missing: suppression is never read as 0.
    """
    cats = reason_column_categories(frame.columns, academic_year, category_overrides)
    missing = [c for c in ATTENDANCE_PUBLISHED_TOTALS if c not in frame.columns]
    if missing:
        raise ValueError(f"reconcile_attendance_collection: frame lacks published total(s) "
                         f"{', '.join(missing)}")
    by_cat = {cat: [c for c, k in cats.items() if k == cat] for cat in codes.CATEGORIES}
    computed = {cat: _category_sum(frame, cols) for cat, cols in by_cat.items()}
    computed["possible"] = sum(computed[c] for c in codes.POSSIBLE_CATEGORIES)
    keys = [k for k in _ROW_KEYS if k in frame.columns]
    out = frame[keys].copy()
    diffs = []
    for published, cat in ATTENDANCE_PUBLISHED_TOTALS.items():
        value = frame[published].astype("Float64").round().astype("Int64")
        out[published] = value
        out[f"computed_{published}"] = computed[cat]
        out[f"diff_{published}"] = value - computed[cat]
        diffs.append(f"diff_{published}")
    out["computed_not_possible_sessions"] = computed[codes.NOT_POSSIBLE]
    inputs = list(cats) + list(ATTENDANCE_PUBLISHED_TOTALS)
    out["complete"] = frame[inputs].notna().all(axis=1).to_numpy()
    out["matches"] = out["complete"] & out[diffs].fillna(1).eq(0).all(axis=1)
    return out
