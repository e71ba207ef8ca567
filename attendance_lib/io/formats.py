"""Which MIS format a marks file is in, and its conversion to canonical rows.

One concept: ``attendance ingest --format auto|canonical|wonde|sims-xml|ctf|weekly-grid|
weekly`` (issue 8). :func:`detect_format` decides by content, never by file name, and says why;
:func:`prepare` runs the format's reader (:mod:`~attendance_lib.io.wonde`,
:mod:`~attendance_lib.io.sims_xml`, :mod:`~attendance_lib.io.ctf`,
:mod:`~attendance_lib.io.grid`, the weekly mark-string loader) and returns canonical rows for
:class:`~attendance_lib.io.marks.MarksReader`; :func:`read_mis` does both and validates, for
small files and tests (the store streams through :meth:`attendance_lib.store.Store.ingest`).

Detection (../shared/reference/mis_formats.md sections 1-4):

* Parquet -> ``canonical``;
* JSON (``{`` or ``[``) -> ``wonde`` (API pages);
* XML: root ``<CTfile>`` -> ``ctf``; ``SessionAttendance`` or a SIMS code export ->
  ``sims-xml``; a school census return is refused (termly aggregates only, no session marks);
  other XML is refused naming its root element;
* CSV: ten session columns (``MonAM ... FriPM``) -> ``weekly-grid``; ``week_start`` and
  ``marks`` (after the mapping) -> ``weekly``; anything else -> ``canonical``, whose reader names
  missing columns and points at ``attendance mapping suggest``.

The format chosen is the first note of each file's report (and so printed by the CLI).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from ._common import (
    InputFileError,
    LoadReport,
    apply_mapping,
    check_input_file,
    file_sha256,
    file_text_encoding,
    load_mapping,
    load_mapping_section,
    read_csv_lines,
)
from ._convert import Converted, Rows, merge_conversion
from ._tables import MARK_COLUMNS
from .ctf import laestab_key, read_ctf
from .grid import SESSION_COLUMNS, read_weekly_grid, session_column
from .local_codes import LocalCodes, load_local_codes
from .sims_xml import read_sims, sims_kind
from .vendor_ids import VendorRoster, read_vendor_roster
from .weekly import weekly_to_long
from .wonde import read_wonde

__all__ = ["FORMATS", "detect_format", "prepare", "Prepared", "read_mis", "MisRead",
           "laestab_urns", "marks_reader", "finish_report"]

#: values of ``--format``
FORMATS = ("auto", "canonical", "wonde", "sims-xml", "ctf", "weekly-grid", "weekly")
_EXPECTED = ("a register marks file: canonical CSV/Parquet, Wonde JSON pages, SIMS XML, CTF XML, "
             "a weekly grid or weekly mark strings")


def _head(path: Path, n: int = 1 << 14) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n).lstrip(b"\xef\xbb\xbf \r\n\t")


def _csv_header(path: Path) -> list[str]:
    enc = file_text_encoding(path)
    with open(path, encoding="utf-8-sig" if enc.startswith("utf-8") else enc,
              errors="replace", newline="") as fh:
        first = fh.readline()
    return [h.strip() for h in next(csv.reader(io.StringIO(first)), [])]


def detect_format(path: str | Path, mapping: str | Path | None = None) -> tuple[str, str]:
    """``(format, why)`` for one file, by content (see the module docstring).

    Raises :class:`InputFileError` for a file that is none of the formats.
    """
    p = Path(path)
    kind = check_input_file(p, _EXPECTED, allow_parquet=True)
    if kind == "parquet":
        return "canonical", "a Parquet file"
    head = _head(p)
    if head[:1] in (b"{", b"["):
        return "wonde", "JSON: Wonde API pages"
    if head[:1] == b"<":
        if b"<CTfile" in head:
            return "ctf", "XML with root <CTfile> (Common Transfer File)"
        sk = sims_kind(head)
        if sk:
            return "sims-xml", ("SIMS partner XML: session attendances" if sk == "sessions"
                                else "SIMS partner XML: attendance-code export")
        if b"census" in head.lower():
            raise InputFileError(p, "is a school census return: it holds termly attendance "
                                    "aggregates only, no per-session marks (mis_formats.md "
                                    "section 3), so there is nothing to load as marks")
        root = head[1:].split(b">")[0].split()[0].decode("ascii", "replace") if len(
            head) > 1 else "?"
        if root.startswith("?xml"):
            rest = head.split(b"?>", 1)[-1].lstrip()
            root = rest[1:].split(b">")[0].split()[0].decode("ascii", "replace") if rest else "?"
        raise InputFileError(p, f"is XML with root <{root}>, which is not a format this loader "
                                f"knows; expected {_EXPECTED}")
    header = _csv_header(p)
    grid_map = load_mapping(mapping, "weekly_grid")
    cells = {session_column(h) for h in header} | {k for k, v in grid_map.items()
                                                  if k in SESSION_COLUMNS and v in header}
    if set(SESSION_COLUMNS) <= cells:
        return "weekly-grid", "CSV with one column per session (MonAM ... FriPM)"
    weekly_map = load_mapping(mapping, "weekly_marks")
    names = set(apply_mapping(header, weekly_map, {"upn", "urn", "week_start", "marks"},
                              p).values()) | set(header)
    if {"week_start", "marks"} <= names:
        return "weekly", "CSV with week_start and a marks string"
    return "canonical", "CSV in the canonical long form (one row per session)"


def laestab_urns(schools: pd.DataFrame | None) -> dict[str, str]:
    """``laestab -> urn`` from a schools frame (for CTF blocks of other schools)."""
    if schools is None or "laestab" not in getattr(schools, "columns", []):
        return {}
    s = schools[["laestab", "urn"]].dropna().astype(str)
    return {laestab_key(a): b for a, b in zip(s["laestab"], s["urn"], strict=True)
            if laestab_key(a)}


@dataclass
class Prepared:
    """Converted sources in input order (canonical files have ``table=None``), the roster
    used, and the local-codes map."""

    sources: list[Converted] = field(default_factory=list)
    roster: VendorRoster | None = None
    local: LocalCodes | None = None


def _canonical_table(path: Path, mapping, local: LocalCodes) -> Converted:
    """A canonical file read whole so its local codes can be mapped (``--local-codes``)."""
    if check_input_file(path, _EXPECTED, allow_parquet=True) == "parquet":
        df = pd.read_parquet(path).astype(str)
        lines = range(1, len(df) + 1)
        notes: list[str] = []
    else:
        notes = []
        df, lines, _blank = read_csv_lines(path, _EXPECTED, notes=notes)
    df = df.rename(columns=apply_mapping(df.columns, load_mapping(mapping, "marks"),
                                         set(MARK_COLUMNS), path))
    missing = [c for c in MARK_COLUMNS if c not in df.columns]
    if missing:
        raise InputFileError(path, f"missing required column(s) {', '.join(missing)}; expected "
                                   f"a register marks file with columns "
                                   f"{', '.join(MARK_COLUMNS)}")
    rows = Rows(path, "canonical", "marks")
    for rec, line in zip(df[MARK_COLUMNS].itertuples(index=False), lines, strict=True):
        rows.add(*(str(v) for v in rec), int(line))
    return rows.finish(local, encoding=None if not notes else file_text_encoding(path),
                       notes_first=notes)


def prepare(paths, fmt: str = "auto", *, mapping=None, local_codes=None, roster=None,
            schools: pd.DataFrame | None = None, start_month: int = 8,
            day_first: bool = False, urn: str | None = None) -> Prepared:
    """Convert marks files of any format to canonical rows (nothing validated yet).

    Parameters
    ----------
    paths
        Marks files (and, for Wonde and SIMS, their supporting files).
    fmt
        One of :data:`FORMATS`; ``auto`` detects each file by content.
    mapping
        Mapping YAML (column sections, ``local_codes``, ``date_order``).
    local_codes
        A YAML file with a ``local_codes`` section, a SIMS code export, or a
        :class:`LocalCodes`; merged with the mapping's own section.
    roster
        A roster CSV (vendor id -> UPN, URN) or a :class:`VendorRoster`.
    schools
        Schools frame with ``laestab`` (CTF blocks of other schools).
    start_month, day_first, urn
        Academic-year start; UK-date declaration; school URN for formats that lack it.

    Returns
    -------
    Prepared
        Sources in input order (roster first when given); each report's first note names the
        format and why it was chosen.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    paths = [Path(p) for p in paths]
    out = Prepared()
    local = LocalCodes.from_section(load_mapping_section(mapping, "local_codes"), mapping) \
        if mapping is not None else None
    extra = local_codes if isinstance(local_codes, LocalCodes) else load_local_codes(local_codes)
    local = (local or LocalCodes()).merged(extra)
    out.local = local
    if isinstance(roster, VendorRoster) or roster is None:
        vr = roster
    else:
        vr, rrep = read_vendor_roster(roster, mapping)
        out.sources.append(Converted(Path(roster), "roster", "roster", None, rrep,
                                     has_marks=False))
    out.roster = vr
    chosen: dict[Path, tuple[str, str]] = {}
    for p in paths:
        chosen[p] = detect_format(p, mapping) if fmt == "auto" else (fmt, "as given")
    groups: dict[str, list[Path]] = {}
    for p, (f, _why) in chosen.items():
        groups.setdefault(f, []).append(p)
    converted: dict[Path, Converted] = {}
    for f, group in groups.items():
        for p in group:
            check_input_file(p, f"{_EXPECTED} ({f})", allow_parquet=f == "canonical")
        if f == "wonde":
            results = read_wonde(group, roster=vr, local=local, urn=urn)
        elif f == "sims-xml":
            results = read_sims(group, vr, local=local, urn=urn)
        elif f == "ctf":
            results = [read_ctf(p, laestab_urns=laestab_urns(schools), local=local,
                                start_month=start_month) for p in group]
        elif f == "weekly-grid":
            results = [read_weekly_grid(p, mapping=mapping, roster=vr, local=local,
                                        day_first=day_first) for p in group]
        elif f == "weekly":
            results = [_weekly(p, mapping, day_first) for p in group]
        elif not local.empty:
            results = [_canonical_table(p, mapping, local) for p in group]
        else:
            results = [Converted(p, "canonical", "marks", None,
                                 LoadReport(file=str(p), kind="marks", format="canonical"))
                       for p in group]
        for r in results:
            converted[Path(r.path)] = r
    for p in paths:
        conv = converted[p]
        f, why = chosen[p]
        how = f"detected: {why}" if fmt == "auto" else why
        conv.report.notes.insert(0, f"format: {f} ({how})")
        conv.report.format = f
        out.sources.append(conv)
    return out


def _weekly(path: Path, mapping, day_first: bool) -> Converted:
    table, rep = weekly_to_long(path, mapping, day_first=day_first)
    rep.format = "weekly"
    rep.encoding = file_text_encoding(path)
    return Converted(path, "weekly", "weekly marks", table, rep)


@dataclass
class MisRead:
    """Validated marks of a set of files (as :func:`attendance_lib.io.marks.read_marks`), one
    report per file, and the roster (vendor id -> UPN, URN) the formats carried."""

    marks: pd.DataFrame
    reports: list[LoadReport]
    roster: pd.DataFrame


def read_mis(paths, fmt: str = "auto", *, mapping=None, local_codes=None, roster=None,
             pupils: pd.DataFrame | None = None, schools: pd.DataFrame | None = None,
             start_month: int = 8, day_first: bool = False, urn: str | None = None) -> MisRead:
    """Read and validate marks files of any format into one DataFrame (small files; tests).

    Each file is checked by :class:`~attendance_lib.io.marks.MarksReader` on its own (marks
    repeated across files are found by the store, not here).
    """
    from .marks import Enrolments, MarksReader, Registry, _decode, _empty_marks

    prep = prepare(paths, fmt, mapping=mapping, local_codes=local_codes, roster=roster,
                   schools=schools, start_month=start_month, day_first=day_first, urn=urn)
    reg = Registry()
    enr = Enrolments.from_pupils(pupils, reg) if pupils is not None else None
    tables, reports, rosters = [], [], []
    for conv in prep.sources:
        if conv.roster is not None:
            rosters.append(conv.roster)
        if not conv.has_marks:
            reports.append(conv.report)
            continue
        reader = marks_reader(conv, reg=reg, enr=enr, start_month=start_month,
                              mapping=mapping, day_first=day_first, reader_cls=MarksReader)
        tables += [reader.to_arrow_categorised(ch) for ch in reader]
        reports.append(finish_report(reader, conv))
    df = _decode(pa.concat_tables(tables).to_pandas()) if tables else _empty_marks()
    roster_df = (pd.concat(rosters, ignore_index=True).drop_duplicates() if rosters else
                 pd.DataFrame(columns=["vendor_id", "upn", "urn"], dtype="string"))
    return MisRead(df, reports, roster_df.reset_index(drop=True))


def marks_reader(conv: Converted, *, reg, enr, start_month: int, mapping=None,
                 day_first: bool = False, reader_cls=None):
    """The marks reader for one converted source (a canonical file is read directly)."""
    if reader_cls is None:
        from .marks import MarksReader as reader_cls
    if conv.table is None:
        return reader_cls(conv.path, mapping=mapping, registry=reg, enrolments=enr,
                          start_month=start_month, day_first=day_first)
    return reader_cls(conv.path, registry=reg, enrolments=enr, start_month=start_month,
                      source=conv.table, kind=conv.kind, day_first=day_first)


def finish_report(reader, conv: Converted) -> LoadReport:
    """The file's final report: the reader's, with the conversion step's merged in."""
    rep = merge_conversion(reader.report, conv.report)
    if conv.table is None:  # canonical: the reader's own encoding note follows the format's
        rep.encoding = reader.report.encoding
    rep.sha256 = rep.sha256 or file_sha256(conv.path)
    return rep
