"""From a vendor format to canonical rows: the shared conversion step of the MIS readers.

Every MIS reader (Wonde, SIMS XML, CTF, weekly grids) turns its file into the canonical rows
``upn, urn, date, session, code`` plus ``_line`` (the file line, or for JSON the record number,
that each row came from) and hands them to :class:`attendance_lib.io.marks.MarksReader`, so the
same checks apply to every format (code set of the academic year, weekend, UPN check letter,
enrolment, duplicates and conflicts). Accounting follows the weekly mark-string loader
(../shared/reference/mis_formats.md section 0):

* a source record that cannot become a canonical row at all (no UPN for a vendor id, a mark
  string whose totals disagree, an unmapped local code, ...) is quarantined here as one row,
  with its file, line and reason, and counts as one row read;
* a session with a "no mark" placeholder (SIMS ``-``, a blank grid cell, CTF ``##`` padding) is
  not a row: it is neither loaded nor quarantined, and a note counts it by placeholder, so it is
  never mistaken for a present mark (mis_formats.md section 0, "No mark placeholders");
* :func:`merge_conversion` adds this step's report to the marks reader's, keeping
  ``rows read = rows loaded + rows quarantined``.

Local codes (a school's own display codes) are mapped to statutory codes here
(:mod:`attendance_lib.io.local_codes`); a code that is still not a statutory code of any code
set is quarantined naming the school and the code.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ._common import LoadReport, quarantine_frame
from .local_codes import STATUTORY_CODES, LocalCodes

__all__ = ["Converted", "Rows", "merge_conversion", "CANONICAL_WITH_LINE"]

CANONICAL_WITH_LINE = ["upn", "urn", "date", "session", "code", "_line"]


@dataclass
class Converted:
    """One input file after conversion.

    ``table`` holds canonical rows for :class:`~attendance_lib.io.marks.MarksReader`
    (``None`` for a canonical file, which the marks reader reads itself, and for supporting
    files); ``report`` is this step's report; ``has_marks`` is False for supporting files
    (Wonde students or school, a SIMS code export, a roster), whose report is final.
    """

    path: Path
    fmt: str
    kind: str
    table: pa.Table | None
    report: LoadReport
    roster: pd.DataFrame | None = None
    has_marks: bool = True


class Rows:
    """Canonical rows collected from one source file, plus its quarantined records."""

    def __init__(self, path: str | Path, fmt: str, kind: str):
        self.path = Path(path)
        self.fmt = fmt
        self.kind = kind
        self.cols: dict[str, list] = {c: [] for c in CANONICAL_WITH_LINE}
        self.q_lines: list[int] = []
        self.q_reasons: list[str] = []
        self.q_raw: list[str] = []
        self.no_mark: Counter = Counter()
        self.notes: list[str] = []

    def add(self, upn: str, urn: str, day, session: str, code: str, line: int) -> None:
        """One session row; ``day`` is a ``datetime.date`` or, for a canonical file whose date
        strings the marks reader parses and checks itself, the text as written."""
        c = self.cols
        c["upn"].append(upn)
        c["urn"].append(urn)
        c["date"].append(day)
        c["session"].append(session)
        c["code"].append(code)
        c["_line"].append(int(line))

    def reject(self, line: int, reason: str, raw: str) -> None:
        """Quarantine a whole source record (it counts as one row read)."""
        self.q_lines.append(int(line))
        self.q_reasons.append(reason)
        self.q_raw.append(raw if len(raw) <= 400 else raw[:397] + "...")

    def skip(self, label: str, n: int = 1) -> None:
        """A session with a no-mark placeholder: not a row, counted in a note."""
        self.no_mark[label] += n

    def __len__(self) -> int:
        return len(self.cols["upn"])

    def finish(self, local: LocalCodes | None = None, *, encoding: str | None = None,
               notes_first: list[str] | None = None) -> Converted:
        """Map local codes, quarantine unmapped ones, and build the canonical table.

        Rows are sorted by pupil, school, date, session and line, so the marks reader streams
        them (grouped by enrolment in date order) without its in-memory fallback.
        """
        df = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in self.cols.items()})
        text_dates = any(isinstance(d, str) for d in self.cols["date"])
        if len(df) and not text_dates:
            df["date"] = pd.to_datetime(pd.Series(self.cols["date"], dtype=object))
        notes = list(notes_first or [])
        if len(df):
            code = df["code"].astype(str).str.strip()
            urn = df["urn"].astype(str)
            if local is not None and not local.empty:
                mapped, hit = local.apply(urn, code)
                if hit.any():
                    pairs = (pd.DataFrame({"from": code[hit], "to": mapped[hit]})
                             .value_counts().sort_index())
                    shown = ", ".join(f"'{a}' -> '{b}' ({n:,})" for (a, b), n in pairs.items())
                    notes.append(f"local codes mapped to statutory codes ({local.source}): "
                                 f"{shown}")
                code = mapped
            df["code"] = code
            unmapped = ~code.isin(STATUTORY_CODES) & (code != "")
            if unmapped.any():
                bad = df.loc[unmapped]
                how = ("it is not in the code export or local-codes mapping"
                       if local is not None and not local.empty else
                       "give the school's code export (SIMS Statutory_Return_Code) or a "
                       "local_codes YAML (--local-codes)")
                for r in bad.itertuples(index=False):
                    self.reject(r._5, f"unmapped local code: '{r.code}' at school {r.urn} is not "
                                      f"a statutory attendance code; {how}",
                                _raw(r.upn, r.urn, r.date, r.session, r.code))
                df = df.loc[~unmapped]
            order = ["upn", "urn", "_line"] if text_dates else ["upn", "urn", "date", "session",
                                                                 "_line"]
            df = df.sort_values(order, kind="stable")
        table = pa.table({
            "upn": pa.array(df["upn"].astype(object).to_numpy() if len(df) else [], pa.string()),
            "urn": pa.array(df["urn"].astype(object).to_numpy() if len(df) else [], pa.string()),
            "date": (pa.array(df["date"].astype(object).to_numpy(), pa.string()) if text_dates
                     else pa.array(df["date"].to_numpy(dtype="datetime64[D]") if len(df) else
                                   np.array([], "datetime64[D]"), pa.date32())),
            "session": pa.array(df["session"].astype(object).to_numpy() if len(df) else [],
                                pa.string()),
            "code": pa.array(df["code"].astype(object).to_numpy() if len(df) else [],
                             pa.string()),
            "_line": pa.array(df["_line"].to_numpy(dtype=np.int64) if len(df) else [],
                              pa.int64()),
        })
        if self.no_mark:
            parts = ", ".join(f"{n:,} {label}" for label, n in sorted(self.no_mark.items()))
            notes.append(f"sessions with no mark, not rows (neither loaded nor quarantined, "
                         f"never counted as present): {parts}")
        q = quarantine_frame(self.path, self.q_lines, self.q_reasons, self.q_raw)
        rep = LoadReport(file=str(self.path), kind=self.kind, rows_read=len(q), quarantine=q,
                         notes=notes + self.notes, encoding=encoding, format=self.fmt)
        return Converted(self.path, self.fmt, self.kind, table, rep)


def _raw(upn, urn, day, session, code) -> str:
    d = day if isinstance(day, str) else (pd.Timestamp(day).date().isoformat()
                                          if not pd.isna(day) else "")
    return f"{upn},{urn},{d},{session},{code}"


def merge_conversion(rep: LoadReport, conv: LoadReport) -> LoadReport:
    """Add a conversion step's report to the marks reader's report of the same file.

    The conversion's quarantined records count as rows read; its notes come first (the format
    chosen, the encoding, placeholders); quarantine rows are sorted by line.
    """
    rep.rows_read += conv.rows_quarantined
    frames = [f for f in (conv.quarantine, rep.quarantine) if len(f)]
    if frames:
        rep.quarantine = (pd.concat(frames, ignore_index=True)
                          .sort_values("line", kind="stable").reset_index(drop=True))
    rep.notes = conv.notes + [n for n in rep.notes if n not in conv.notes]
    rep.encoding = conv.encoding or rep.encoding
    rep.format = conv.format or rep.format
    rep.kind = conv.kind
    return rep
