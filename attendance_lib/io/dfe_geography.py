"""Local authorities in DfE's LA lookup: find one by old code, new code or name.

One concept: LA identity across DfE's files (domain.md 9). :func:`find_la` resolves an LA given
by old 3-digit code, new E-code or name (an old code re-used after a boundary change maps to its
live E-code, with every E-code recorded for it); :func:`la_rows` picks an LA's rows out of any
published frame; :func:`la_lookup` is the lookup itself (``reference/dfe_las.csv.gz``). Unknown
identifiers raise :class:`UnknownLAError` listing close matches. Re-exported by
:mod:`attendance_lib.io.dfe`; nothing is read at import.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .dfe_files import PublishedDataError, published_folder, read_published

__all__ = ["UnknownLAError", "LocalAuthority", "la_lookup", "find_la", "la_rows"]

_LA_LOOKUP = "reference/dfe_las.csv.gz"
_OLD_CODE = re.compile(r"^\d{3}$")
_NEW_CODE = re.compile(r"^[EWSN]\d{8}$", re.IGNORECASE)


class UnknownLAError(PublishedDataError, LookupError):
    """An LA identifier (old code, new code or name) that the DfE LA lookup does not know."""


@dataclass(frozen=True)
class LocalAuthority:
    """A local authority as named in DfE's LA lookup (``reference/dfe_las.csv.gz``).

    ``new_la_codes`` holds every E-code recorded for the same old code (an LA re-coded after a
    boundary change, e.g. Gateshead E08000020 -> E08000037), so historical rows can be found.
    """

    old_la_code: str | None
    new_la_code: str
    la_name: str
    status: str
    new_la_codes: tuple[str, ...] = field(default=())


@lru_cache(maxsize=4)
def _lookup_cached(path: str) -> pd.DataFrame:
    table = read_published(Path(path), file_label="DfE LA lookup",
                           required_columns=("new_la_code", "la_name", "old_la_code", "status"))
    frame = table.frame
    combined = frame["new_la_code"].fillna("").str.contains("/") | \
        frame["old_la_code"].fillna("").str.contains("/")
    keep = frame.loc[~combined & frame["new_la_code"].notna(),
                     ["old_la_code", "new_la_code", "la_name", "status"]]
    return keep.reset_index(drop=True)


def la_lookup(*, folder: str | Path | None = None) -> pd.DataFrame:
    """DfE's LA lookup (``reference/dfe_las.csv.gz``): old code, new code, name, status.

    Combined rows ("North Northamptonshire / West Northamptonshire") and rows without an
    E-code are left out; pre-2009 counties without an old code keep ``old_la_code`` missing.
    """
    return _lookup_cached(str((published_folder(folder) / _LA_LOOKUP).resolve())).copy()


def _name_key(name: str) -> str:
    text = name.lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return " ".join(text.split())


def _loose_key(name: str) -> str:
    """Name key without DfE's ", City of" / ", County of" suffix."""
    return _name_key(re.sub(r",\s*(city|county) of\s*$", "", name, flags=re.IGNORECASE))


def _pick(rows: pd.DataFrame, lookup: pd.DataFrame) -> LocalAuthority:
    """Prefer the live row; attach every E-code recorded for the same old code."""
    rows = rows.assign(_live=rows["status"].eq("live")).sort_values("_live", ascending=False)
    best = rows.iloc[0]
    old = best["old_la_code"]
    if pd.notna(old):
        new_codes = lookup.loc[lookup["old_la_code"] == old, "new_la_code"]
    else:
        new_codes = pd.Series([best["new_la_code"]])
    ordered = [best["new_la_code"]] + sorted(set(new_codes) - {best["new_la_code"]})
    return LocalAuthority(old_la_code=None if pd.isna(old) else str(old),
                          new_la_code=str(best["new_la_code"]), la_name=str(best["la_name"]),
                          status=str(best["status"]), new_la_codes=tuple(ordered))


def _unknown(identifier: str, kind: str, known: list[str], labels: Mapping[str, str]
             ) -> UnknownLAError:
    close = difflib.get_close_matches(identifier, known, n=5, cutoff=0.5)
    if kind == "old LA code" and _OLD_CODE.fullmatch(identifier):
        nearest = sorted(known, key=lambda k: abs(int(k) - int(identifier)))[:5]
        close = close + [k for k in sorted(nearest) if k not in close]
    hint = "; ".join(f"{k} {labels.get(k, '')}".strip() for k in close[:8]) or "none"
    listing = ", ".join(sorted(known))
    return UnknownLAError(f"{identifier!r} is not a known {kind} in DfE's LA lookup "
                          f"({_LA_LOOKUP}). Close matches: {hint}. Existing {kind}s "
                          f"({len(known)}): {listing}")


def find_la(identifier: int | str, *, folder: str | Path | None = None) -> LocalAuthority:
    """Resolve an LA given by old 3-digit code, new E-code or name (domain.md 9).

    Parameters
    ----------
    identifier : int or str
        ``358``, ``"358"``, ``"E08000009"`` or ``"Trafford"`` (names match case-, space- and
        punctuation-insensitively, ``&`` = "and").

    Returns
    -------
    LocalAuthority
        The live LA where one exists (an old code re-used after a boundary change maps to its
        current E-code), with every E-code recorded for the old code in ``new_la_codes``.

    Raises
    ------
    UnknownLAError
        Not in the lookup; the message lists close matches and the existing codes.
    """
    lookup = la_lookup(folder=folder)
    text = str(identifier).strip()
    if _OLD_CODE.fullmatch(text):
        rows = lookup[lookup["old_la_code"] == text]
        if rows.empty:
            known = lookup["old_la_code"].dropna()
            labels = dict(zip(lookup["old_la_code"], lookup["la_name"], strict=True))
            raise _unknown(text, "old LA code", sorted(set(known)), labels)
        return _pick(rows, lookup)
    if _NEW_CODE.fullmatch(text):
        rows = lookup[lookup["new_la_code"].str.upper() == text.upper()]
        if rows.empty:
            labels = dict(zip(lookup["new_la_code"], lookup["la_name"], strict=True))
            raise _unknown(text.upper(), "new LA code", sorted(set(lookup["new_la_code"])),
                           labels)
        return _pick(rows, lookup)
    if text.isdigit() or re.fullmatch(r"[A-Za-z]\d+", text):
        kind = "old LA code" if text.isdigit() else "new LA code"
        column = "old_la_code" if text.isdigit() else "new_la_code"
        labels = dict(zip(lookup[column], lookup["la_name"], strict=True))
        raise _unknown(text.upper(), kind, sorted(set(lookup[column].dropna())), labels)
    keys = lookup["la_name"].map(_name_key)
    rows = lookup[keys == _name_key(text)]
    if rows.empty:                     # "Kingston upon Hull" = "Kingston upon Hull, City of"
        rows = lookup[lookup["la_name"].map(_loose_key) == _name_key(text)]
        if rows["old_la_code"].nunique(dropna=False) > 1:
            rows = rows.iloc[0:0]
    if rows.empty:
        names = sorted(set(lookup["la_name"]))
        close = difflib.get_close_matches(text, names, n=5, cutoff=0.6)
        raise UnknownLAError(f"{text!r} is not an LA name in DfE's LA lookup ({_LA_LOOKUP}). "
                             f"Close matches: {', '.join(close) or 'none'}")
    return _pick(rows, lookup)


def la_rows(frame: pd.DataFrame, identifier: int | str | LocalAuthority, *,
            folder: str | Path | None = None) -> pd.DataFrame:
    """The rows of a published frame that belong to one LA.

    Matches on ``old_la_code`` when the frame has it (stable across re-codings), else on any of
    the LA's E-codes, else on the name.
    """
    la = identifier if isinstance(identifier, LocalAuthority) else find_la(identifier,
                                                                           folder=folder)
    if "old_la_code" in frame.columns and la.old_la_code is not None:
        mask = frame["old_la_code"] == la.old_la_code
    elif "new_la_code" in frame.columns:
        mask = frame["new_la_code"].isin(la.new_la_codes)
    elif "la_name" in frame.columns:
        mask = frame["la_name"].map(lambda v: isinstance(v, str) and _name_key(v)) \
            == _name_key(la.la_name)
    else:
        raise ValueError("la_rows: frame has no old_la_code, new_la_code or la_name column")
    return frame[mask.fillna(False).astype(bool)]
