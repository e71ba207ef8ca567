"""Privacy built into the data access: per-school stores, small-count suppression, pseudonyms.

One concept: what a shareable output may contain (product.md, "Privacy and security"; issue 4,
item 3). Pupil data is personal data (special category for SEN and health), so

* a per-school report opens its data only through :func:`school_store`, a
  :class:`~attendance_lib.store.Store` restricted to that school: every view it reads (marks,
  pupils, enrolment weeks, ids) is filtered to the school, so the report physically cannot read
  another school's pupils;
* LA-wide outputs list no pupil and pass their tables through :func:`suppress`, which replaces
  counts below a threshold, and every rate derived from them, with the marker ``"c"`` (DfE's
  "confidential" symbol, domain.md 2.3), never with zero;
* pupil identifiers in shareable outputs can be replaced by :func:`pseudonymise`: keyed
  HMAC-SHA256 pseudonyms, stable for the same key (so two reports can be joined by someone who
  holds the key) and not reversible without it. :func:`pupil_identifiers` applies this to a
  pupil table and drops names and other direct identifiers.

No national small-number rule for absence tables was found (domain.md 2.3, UNCONFIRMED); the
threshold is the caller's (``suppress_below``, default 5 in the report runner).

Examples
--------
>>> pseudonymise(pd.Series(["B801200005001"]), "secret").tolist()
['P-3746F6EC']
>>> suppress(pd.DataFrame({"pupils": [3, 12], "pct": [30.0, 40.0]}), ["pupils"], 5,
...          derived={"pupils": ["pct"]}).values.tolist()
[['c', 'c'], [12, 40.0]]
>>> suppress(pd.DataFrame({"pupils": [3, 12, 40]}), ["pupils"], 5, within=True)["pupils"].tolist()
['c', 'c', 40]
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from .store import Store

__all__ = [
    "SUPPRESSED",
    "PUPIL_DIRECT_IDENTIFIERS",
    "PrivacyError",
    "school_store",
    "suppress",
    "pseudonymise",
    "pupil_identifiers",
    "check_no_pupils",
]

#: the marker that replaces a suppressed value (DfE's "c", confidential; domain.md 2.3)
SUPPRESSED = "c"
#: columns that identify a pupil directly; LA outputs must hold none of them
PUPIL_DIRECT_IDENTIFIERS = ("upn", "name", "forename", "surname", "date_of_birth", "postcode")
_PSEUDONYM_HEX = 8


class PrivacyError(ValueError):
    """A request that would break the privacy rules (wrong school, missing key, pupil rows)."""


def school_store(store_path: str | Path, urn: str | int) -> Store:
    """The store restricted to one school: the only data access of a per-school report.

    Parameters
    ----------
    store_path : str or Path
        The store folder.
    urn : str or int
        The school's URN; it must be one of the store's schools.

    Returns
    -------
    Store
        ``Store(store_path, urns=[urn])``: marks, pupils, interventions, enrolment weeks and ids
        show that school's rows only, and the store cannot widen its own access.

    Raises
    ------
    attendance_lib.store.StoreError
        No store at ``store_path``.
    PrivacyError
        The URN is not a school in the store (the message lists the store's URNs).
    """
    full = Store(store_path).require()
    text = str(urn).strip()
    urns = [str(u) for u in full.schools()["urn"].tolist()]
    full.close()
    if text not in urns:
        listing = ", ".join(urns[:20]) + (f" ... ({len(urns)} in all)" if len(urns) > 20 else "")
        raise PrivacyError(f"school {text!r} is not in the store {Path(store_path)}; "
                           f"its schools are: {listing or 'none'}")
    return Store(store_path, urns=[text])


def _rate_columns(df: pd.DataFrame, count: str) -> list[str]:
    """Rates named after a count by the suite's conventions: ``pa_count`` -> ``pa_pct``,
    ``x`` -> ``x_pct``; ``enrolments`` -> every ``*_pct`` column (its denominator)."""
    if count in ("enrolments", "pupils"):
        return [c for c in df.columns if str(c).endswith("_pct")]
    stem = count[:-len("_count")] if count.endswith("_count") else count
    return [c for c in (f"{stem}_pct", f"{stem}_percent") if c in df.columns]


def suppress(df: pd.DataFrame, count_cols: Sequence[str], threshold: int, *,
             derived: Mapping[str, Sequence[str]] | None = None, marker: str = SUPPRESSED,
             keep_zero: bool = False, within: str | Sequence[str] | bool | None = None
             ) -> pd.DataFrame:
    """Replace small counts, and the rates derived from them, with ``marker``.

    A count below ``threshold`` could identify pupils (a cohort of three in one school), so it
    is replaced by ``marker`` (``"c"``), never by zero, and so is every rate computed from it
    (``derived``), since the rate and the denominator give the count back.

    Parameters
    ----------
    df : DataFrame
        The table; not modified.
    count_cols : sequence of str
        Columns of pupil (enrolment) counts to check.
    threshold : int
        Counts ``< threshold`` are suppressed; ``0`` or less switches suppression off.
    derived : mapping, optional
        ``{count column: [rate columns computed from it]}``. By default the suite's naming
        conventions: ``x_count`` -> ``x_pct``; ``enrolments``/``pupils`` -> every ``*_pct``.
    marker : str, default ``"c"``
        What replaces a suppressed value.
    keep_zero : bool, default False
        Show true zeros. Off by default: "0 of 4 pupils" tells the reader about the other four.
    within : column name(s) or True, optional
        Rows that add up to a total the reader knows (the groups of one cohort, every school of
        the LA: ``True`` = the whole table). Where only one value of a count is suppressed in
        such a set it could be worked out from the total, so the smallest other value is
        suppressed too (secondary suppression).

    Returns
    -------
    DataFrame
        A copy; suppressed columns become ``object`` columns mixing numbers and ``marker``.

    Examples
    --------
    >>> t = pd.DataFrame({"enrolments": [40, 4], "pa_count": [2, 1], "pa_pct": [5.0, 25.0]})
    >>> suppress(t, ["enrolments", "pa_count"], 5).values.tolist()
    [[40, 'c', 'c'], ['c', 'c', 'c']]
    """
    if int(threshold) != threshold:
        raise ValueError(f"threshold must be a whole number, got {threshold!r}")
    out = df.copy()
    if threshold <= 0 or out.empty:
        return out
    missing = [c for c in count_cols if c not in out.columns]
    if missing:
        raise KeyError(f"suppress: no column(s) {', '.join(missing)} in the table")
    hide: dict[str, pd.Series] = {}
    for c in count_cols:
        values = pd.to_numeric(out[c], errors="coerce")
        small = values.notna() & (values < threshold)
        if keep_zero:
            small &= values != 0
        small |= out[c].astype("object").eq(marker)   # already suppressed upstream
        if within is not None and within is not False:
            small = small | _secondary(values, small, out, within)
        rates = (derived or {}).get(c) if derived is not None else _rate_columns(out, c)
        for col in [c, *(rates or [])]:
            if col not in out.columns:
                raise KeyError(f"suppress: derived column {col!r} is not in the table")
            hide[col] = hide.get(col, pd.Series(False, index=out.index)) | small
    for col, mask in hide.items():
        if mask.any():
            out[col] = out[col].astype("object").where(~mask, marker)
    return out


def _secondary(values: pd.Series, small: pd.Series, df: pd.DataFrame, within) -> pd.Series:
    """Extra cells to hide where a set of rows has exactly one hidden value of a count."""
    if within is True:
        groups = pd.Series(0, index=df.index)
    else:
        cols = [within] if isinstance(within, str) else list(within)
        groups = df[cols].astype("object").apply(tuple, axis=1)
    extra = pd.Series(False, index=df.index)
    for _, idx in groups.groupby(groups, sort=False).groups.items():
        if int(small[idx].sum()) != 1:
            continue
        rest = values[idx][~small[idx]].dropna()
        if len(rest):
            extra[rest.idxmin()] = True
    return extra


def pseudonymise(series: pd.Series, key: str) -> pd.Series:
    """Stable keyed pseudonyms: ``"P-"`` + the first 8 hex digits of HMAC-SHA256(key, UPN).

    The same UPN and key always give the same pseudonym, so lists from different reports line
    up; without the key nobody can recompute them from a list of UPNs. 8 hex digits (32 bits)
    make a collision between two pupils of one LA very unlikely (about 1 in 1,700 for 2,000
    pupils, about 1 in 4 for 150,000 listed together); the pseudonym is a label for a list, not
    a key for joining data.

    Parameters
    ----------
    series : Series
        UPNs (missing values stay missing).
    key : str
        The secret; must not be empty.

    Examples
    --------
    >>> pseudonymise(pd.Series(["B801200005001", None]), "k").tolist()
    ['P-5BEC05C6', None]
    """
    if not isinstance(key, str) or not key:
        raise PrivacyError("pseudonymising needs a non-empty key (parameter pseudonym_key)")
    secret = key.encode("utf-8")

    def one(upn) -> str | None:
        if upn is None or (not isinstance(upn, str) and pd.isna(upn)):
            return None
        digest = hmac.new(secret, str(upn).strip().upper().encode("utf-8"), hashlib.sha256)
        return "P-" + digest.hexdigest()[:_PSEUDONYM_HEX].upper()

    return pd.Series([one(v) for v in series], index=series.index, name=series.name,
                     dtype="object")


def pupil_identifiers(df: pd.DataFrame, *, pseudonymise_ids: bool, key: str = "",
                      column: str = "Pupil") -> pd.DataFrame:
    """A pupil table ready to show: ``upn`` becomes ``column`` (the UPN or its pseudonym).

    With ``pseudonymise_ids`` the UPN is replaced by :func:`pseudonymise` and the other direct
    identifiers (name, date of birth, postcode, whatever the case of the column name) are
    dropped; without it the UPN is shown and the pupil's name kept (the report goes to the
    pupil's own school). The identifier becomes the first column.
    """
    if "upn" not in df.columns:
        raise KeyError("pupil_identifiers: the table has no 'upn' column")
    ids = pseudonymise(df["upn"], key) if pseudonymise_ids else df["upn"].astype("object")
    drop = [c for c in df.columns if str(c).lower() in PUPIL_DIRECT_IDENTIFIERS and
            (pseudonymise_ids or str(c).lower() in ("upn", "date_of_birth", "postcode"))]
    rest = df.drop(columns=drop)
    rest.insert(0, column, ids.to_numpy())
    return rest


def check_no_pupils(df: pd.DataFrame, what: str = "table") -> pd.DataFrame:
    """Return ``df`` unchanged if it holds no pupil identifier column, else raise.

    LA-level functions end with this, so a pupil column can never reach an LA output by
    mistake.
    """
    bad = [c for c in df.columns if str(c).lower() in PUPIL_DIRECT_IDENTIFIERS]
    if bad:
        raise PrivacyError(f"{what}: an LA-level table must not hold pupil identifiers "
                           f"({', '.join(bad)})")
    return df

