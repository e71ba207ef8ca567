"""Vendor ids to UPN and URN: the roster that links MIS records to pupils.

Vendor ids (Wonde ``A123...``, SIMS ``PersonID``, Bromcom ``StudentId``) are **not** UPNs
(../shared/reference/mis_formats.md section 0, "Identifiers"): they are kept, and mapped to the
pupil's UPN and school URN through a roster. Some formats carry it themselves (Wonde students
with ``education_details``, CTF pupils with their UPN); for the others (SIMS session XML, a
Bromcom-style grid keyed by ``StudentId``) the analyst supplies a roster CSV::

    vendor_id,upn,urn
    4107,B801200005001,100001

(other headings map through the ``roster`` section of the mapping YAML). Rows with a missing
value, or a vendor id already given a different pupil, are quarantined with their line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ._common import (
    InputFileError,
    LoadReport,
    apply_mapping,
    load_mapping,
    quarantine_frame,
    read_csv_lines,
)

__all__ = ["ROSTER_COLUMNS", "VendorRoster", "read_vendor_roster"]

ROSTER_COLUMNS = ["vendor_id", "upn", "urn"]


@dataclass
class VendorRoster:
    """``vendor_id -> (upn, urn)``; ``urn`` may be empty when the format gives the school."""

    ids: dict[str, tuple[str, str]] = field(default_factory=dict)
    source: str = ""

    def lookup(self, vendor_id: str) -> tuple[str, str] | None:
        return self.ids.get(str(vendor_id).strip())

    def merged(self, other: VendorRoster | None) -> VendorRoster:
        """Both rosters; entries of ``self`` win (a format's own data over a supplied file)."""
        if other is None:
            return self
        return VendorRoster({**other.ids, **self.ids},
                            " + ".join(s for s in (self.source, other.source) if s))

    def frame(self) -> pd.DataFrame:
        """The roster as ``vendor_id, upn, urn`` rows (sorted by vendor id)."""
        rows = sorted((k, u, s) for k, (u, s) in self.ids.items())
        return pd.DataFrame(rows, columns=ROSTER_COLUMNS, dtype="string")


def read_vendor_roster(path: str | Path, mapping: str | Path | None = None
                       ) -> tuple[VendorRoster, LoadReport]:
    """Read a roster CSV ``vendor_id, upn, urn`` (``urn`` optional).

    Returns the roster and a report (rows read = entries kept + rows quarantined).
    """
    expected = "a roster CSV with columns vendor_id, upn, urn (vendor id -> UPN and URN)"
    notes: list[str] = []
    df, lines, _blank = read_csv_lines(path, expected, notes=notes)
    m = load_mapping(mapping, "roster")
    df = df.rename(columns=apply_mapping(df.columns, m, set(ROSTER_COLUMNS), path))
    missing = [c for c in ("vendor_id", "upn") if c not in df.columns]
    if missing:
        raise InputFileError(path, f"missing required column(s) {', '.join(missing)}; expected "
                                   f"{expected} (found: {', '.join(map(str, df.columns))}); map "
                                   f"other headings in the mapping YAML's roster section")
    vid = df["vendor_id"].fillna("").astype(str).str.strip()
    upn = df["upn"].fillna("").astype(str).str.strip().str.upper()
    urn = (df["urn"].fillna("").astype(str).str.strip() if "urn" in df.columns
           else pd.Series("", index=df.index))
    ids: dict[str, tuple[str, str]] = {}
    first: dict[str, int] = {}
    q_lines, q_reasons, q_raw = [], [], []
    for i, (v, u, s) in enumerate(zip(vid, upn, urn, strict=True)):
        line = int(lines[i])
        reason = None
        if not v or not u:
            reason = f"missing value: {'vendor_id' if not v else 'upn'} is empty"
        elif v in ids and ids[v] != (u, s):
            reason = (f"conflicting roster entry: vendor id {v} is already {ids[v][0]} at "
                      f"{ids[v][1] or '(no urn)'} (line {first[v]})")
        elif v in ids:
            reason = f"duplicate roster entry: same as line {first[v]}"
        if reason:
            q_lines.append(line)
            q_reasons.append(reason)
            q_raw.append(f"{v},{u},{s}")
            continue
        ids[v] = (u, s)
        first[v] = line
    q = quarantine_frame(path, q_lines, q_reasons, q_raw)
    rep = LoadReport(file=str(path), kind="roster", rows_read=len(df), rows_loaded=len(ids),
                     quarantine=q, notes=notes + [f"roster: {len(ids):,} vendor id(s) -> UPN"],
                     format="roster")
    return VendorRoster(ids, Path(path).name), rep
