"""Common Transfer File (CTF XML) attendance: mark strings decoded and checked against totals.

Layout (../shared/reference/mis_formats.md section 3; element names from third-party CTF code
[T], the DfE specification's contents list [P]): ``<CTfile>`` -> ``<Header>`` (``SourceSchool``
with ``LEA``, ``Estab`` and, since CTF 18, ``URN``) -> ``<CTFpupilData>`` -> ``<Pupil>`` (``UPN``,
``Surname``, ``Forename``, ``DOB``, ..., ``<Attendance>``) -> ``<YearData>`` (one per school and
academic year: ``Year, LEA, Estab, SchoolName, SessionsPossible, SessionsAuthorised,
SessionsAttended, SessionsUnauthorised``, ``<AttendSessions>`` with ``AttendanceStartDate`` and
``AttendanceMarks``).

What is decoded, and what is refused because it is not documented:

* the mark string holds **two characters per calendar date** from ``AttendanceStartDate``, AM
  then PM, weekends included (as in the documented example, where ``####`` fills Saturday and
  Sunday) [T]. Whether weekends and holidays are always included is **unconfirmed** [U], so
  the walk is checked: a mark that lands on a weekend is quarantined by the marks reader, and
  the decoded counts must agree with the block's session totals;
* ``##`` (a whole non-school day) is padding: no row, counted in a note, weekends and weekdays
  separately: on a weekday it may be a holiday or a whole-day planned closure (code ``#``), which
  the string cannot tell apart; neither is a possible session, so the statistics are the same
  either way, but no ``#`` mark is stored for it. A single ``#`` beside a mark is the
  planned-closure code and is loaded as ``#``; ``-`` or a space is no mark;
* **two-character 2024 codes** (``C1 C2 J1 Y1-Y7``): how CTF 24+ encodes them inside the string
  is an open question (mis_formats.md section 3) [U]. A date whose two characters form such a
  code (``J1``) cannot be told from an AM and a PM mark, so the block is quarantined with that
  reason rather than guessed;
* **totals**: ``SessionsPossible``, ``SessionsAuthorised`` and ``SessionsUnauthorised`` must
  equal the counts of the decoded marks (categories from our code table for each date's
  academic year). ``SessionsAttended`` definitions vary: present + AEA (DfE) or only ``/`` and
  ``\\`` (Follett Aspen) [T]; either is accepted and the note says which matched. A block that
  disagrees is quarantined whole, with both sets of counts in the reason;
* the school: ``YearData`` carries LEA and Estab, not a URN. The source school's URN (CTF 18+)
  is used for its own blocks; blocks from other schools need a schools file whose ``laestab``
  gives the URN, else they are quarantined naming the LEA and Estab.

Accounting: each decoded session is a row; a quarantined ``YearData`` block counts as one row
read (like a malformed week row of the weekly loader). The school census XML holds termly
aggregates only, with no per-session marks, and is refused by :mod:`attendance_lib.io.formats`.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from .. import codes as codes_mod
from ._common import InputFileError
from ._convert import Converted, Rows
from ._xml import Node, parse_xml
from .encodings import encoding_note
from .grid import TWO_CHAR_CODES
from .local_codes import LocalCodes

__all__ = ["read_ctf", "decode_mark_string", "laestab_key", "CtfBlockError"]

_EXPECTED = "a Common Transfer File (CTF XML: <CTfile> with <CTFpupilData><Pupil> records)"
_TOTALS = ("SessionsPossible", "SessionsAttended", "SessionsAuthorised", "SessionsUnauthorised")
_PAD = "'##' on a weekend (CTF: a non-school day)"
_PAD_WEEKDAY = ("'##' on a weekday (CTF: a non-school day or a whole-day planned closure; not a "
                "possible session either way)")
_NO_MARK = "'-' or space (CTF: no mark)"


class CtfBlockError(ValueError):
    """A mark string that cannot be decoded (the reason is the quarantine reason)."""


def laestab_key(value) -> str:
    """LA (3 digits) + establishment (4 digits) as 7 digits: ``"358/2001"`` -> ``"3582001"``."""
    return re.sub(r"\D", "", str(value or ""))


def decode_mark_string(marks: str, start: date) -> tuple[list[tuple[date, str, str]], Counter]:
    """Decode a CTF mark string: ``([(date, session, code), ...], no-mark counts)``.

    Two characters per calendar date from ``start``, AM then PM (see the module docstring).
    Raises :class:`CtfBlockError` for an odd length or a two-character 2024 code.

    >>> decode_mark_string("/NI#####", date(2024, 9, 6))[0]  # Fri, then Sat and Sun
    [(datetime.date(2024, 9, 6), 'AM', '/'), (datetime.date(2024, 9, 6), 'PM', 'N'), \
(datetime.date(2024, 9, 7), 'AM', 'I'), (datetime.date(2024, 9, 7), 'PM', '#')]
    """
    if len(marks) % 2:
        raise CtfBlockError(f"invalid mark string: {len(marks)} characters is not two per "
                            f"calendar date (AM then PM; mis_formats.md section 3)")
    out, skipped = [], Counter()
    for i in range(0, len(marks), 2):
        d = start + timedelta(days=i // 2)
        pair = marks[i:i + 2]
        if pair in TWO_CHAR_CODES:
            raise CtfBlockError(
                f"two-character code '{pair}' on {d} in the mark string: how CTF encodes the "
                f"2024 two-character codes is not documented (mis_formats.md section 3, open "
                f"question), so '{pair}' cannot be told from an AM and a PM mark; not guessed")
        if pair == "##":
            skipped[_PAD if d.weekday() >= 5 else _PAD_WEEKDAY] += 2
            continue
        for session, ch in zip(("AM", "PM"), pair, strict=True):
            if ch in "- ":
                skipped[_NO_MARK] += 1
            else:
                out.append((d, session, ch))
    return out, skipped


def _totals_problem(sessions, given: dict[str, int], start_month: int) -> tuple[str | None, str]:
    """(mismatch reason or None, which SessionsAttended rule matched)."""
    cats: Counter = Counter()
    unknown: Counter = Counter()
    slash = 0
    for d, _s, code in sessions:
        ay = d.year - (d.month < start_month)
        c = codes_mod.code_set(ay).get(code)
        if c is None:
            unknown[code] += 1
            continue
        cats[c.category] += 1
        slash += code in ("/", "\\")
    possible = sum(cats[c] for c in codes_mod.POSSIBLE_CATEGORIES)
    dfe_att = cats[codes_mod.PRESENT] + cats[codes_mod.AEA]
    got = {"SessionsPossible": possible, "SessionsAuthorised": cats[codes_mod.AUTHORISED],
           "SessionsUnauthorised": cats[codes_mod.UNAUTHORISED]}
    bad = [k for k, v in got.items() if k in given and given[k] != v]
    rule = ""
    if "SessionsAttended" in given:
        if given["SessionsAttended"] == dfe_att:
            rule = "dfe"
        elif given["SessionsAttended"] == slash:
            rule = "slash"
        else:
            bad.append("SessionsAttended")
    if not bad:
        return None, rule
    mine = (f"possible {possible}, attended {dfe_att} (/ and \\ only: {slash}), authorised "
            f"{got['SessionsAuthorised']}, unauthorised {got['SessionsUnauthorised']}")
    theirs = ", ".join(f"{k} {given[k]}" for k in _TOTALS if k in given)
    extra = ""
    if unknown:
        extra = ("; not counted, as they are not codes of that year: "
                 + ", ".join(f"'{k}' x{v}" for k, v in sorted(unknown.items())))
    return (f"session totals mismatch: the mark string decodes to {mine}; the file says "
            f"{theirs}{extra}"), rule


def read_ctf(path: str | Path, *, laestab_urns: dict[str, str] | None = None,
             local: LocalCodes | None = None, start_month: int = 8) -> Converted:
    """Convert a CTF's attendance blocks to canonical rows (mis_formats.md section 3).

    Parameters
    ----------
    path
        A CTF XML file (root ``<CTfile>``).
    laestab_urns
        ``LAESTAB -> URN`` for blocks of schools other than the source school (from a schools
        file's ``laestab``); the source school's own URN comes from the header (CTF 18+).
    local
        Local-codes map (optional).
    start_month
        Academic-year start month, for the code set used in the totals check.

    Returns
    -------
    Converted
        Decoded sessions (``_line`` = the line of the ``AttendanceMarks`` element), blocks
        quarantined whole (one row each), notes (padding, totals rule), and the roster
        (UPN -> UPN, URN).
    """
    p = Path(path)
    doc = parse_xml(p, _EXPECTED)
    root = doc.root
    if root.tag != "CTfile":
        raise InputFileError(p, f"the root element is <{root.tag}>, not <CTfile>; expected "
                                f"{_EXPECTED}")
    header = root.find("Header") or Node("Header", 0)
    src = header.find("SourceSchool") or Node("SourceSchool", 0)
    src_key = laestab_key((src.findtext("LEA") or "") + (src.findtext("Estab") or ""))
    urns = {laestab_key(k): str(v) for k, v in (laestab_urns or {}).items()}
    if src.findtext("URN") and src_key:
        urns[src_key] = src.findtext("URN")
    pupil_data = root.find("CTFpupilData")
    pupils = pupil_data.findall("Pupil") if pupil_data is not None else []
    rows = Rows(p, "ctf", "ctf marks")
    rules: Counter = Counter()
    totals_only = 0
    roster = []
    for pupil in pupils:
        upn = (pupil.findtext("UPN") or "").upper()
        att = pupil.find("Attendance")
        for yd in (att.findall("YearData") if att is not None else []):
            lea, estab = yd.findtext("LEA") or "", yd.findtext("Estab") or ""
            blocks = yd.findall("AttendSessions")
            raw = (f"UPN={upn}, Year={yd.findtext('Year') or ''}, LEA={lea}, Estab={estab}, "
                   + "; ".join(f"{b.findtext('AttendanceStartDate') or ''}: "
                               f"{_marks_text(b)}" for b in blocks))
            if not blocks:
                totals_only += 1
                continue
            try:
                if not upn:
                    raise CtfBlockError(f"missing value: the Pupil (line {pupil.line}) has no "
                                        f"UPN")
                urn = urns.get(laestab_key(lea + estab))
                if not urn:
                    raise CtfBlockError(
                        f"no URN for school LEA {lea} Estab {estab}: it is not the source school "
                        f"with a URN in the header, and no schools file gives its laestab")
                sessions, skipped = [], Counter()
                for b in blocks:
                    s = b.findtext("AttendanceStartDate") or ""
                    try:
                        start = date.fromisoformat(s)
                    except ValueError:
                        raise CtfBlockError(f"invalid date: AttendanceStartDate '{s}' is not "
                                            f"yyyy-mm-dd") from None
                    got, skip = decode_mark_string(_marks_text(b), start)
                    sessions += got
                    skipped += skip
                given = {}
                for k in _TOTALS:
                    v = yd.findtext(k)
                    if v is None or v == "":
                        continue
                    if not v.isdigit():
                        raise CtfBlockError(f"invalid total: {k} '{v}' is not a whole number")
                    given[k] = int(v)
                problem, rule = _totals_problem(sessions, given, start_month)
                if problem:
                    raise CtfBlockError(problem)
            except CtfBlockError as exc:
                rows.reject(yd.line, str(exc), raw)
                continue
            rules[rule or "unchecked"] += 1
            for label, n in skipped.items():
                rows.skip(label, n)
            line = blocks[0].find("AttendanceMarks").line if blocks[0].find(
                "AttendanceMarks") is not None else yd.line
            for d, s, c in sessions:
                rows.add(upn, urn, d, s, c, line)
            roster.append((upn, upn, urn))
    notes = encoding_note(doc.encoding, doc.encoding_how)
    version = header.findtext("CTFversion")
    notes.append(f"CTF{' ' + version if version else ''}: {len(pupils):,} pupil(s)")
    if rules.get("dfe") or rules.get("slash"):
        notes.append(f"session totals agree for {rules['dfe'] + rules['slash']:,} block(s): "
                     f"SessionsAttended = present + AEA (DfE) in {rules['dfe']:,}, = / and \\ "
                     f"only (as Follett Aspen writes it) in {rules['slash']:,}")
    if totals_only:
        notes.append(f"{totals_only:,} YearData block(s) have totals but no mark string: "
                     f"nothing to load from them")
    conv = rows.finish(local, encoding=doc.encoding, notes_first=notes)
    conv.roster = pd.DataFrame(sorted(set(roster)), columns=["vendor_id", "upn", "urn"],
                               dtype="string")
    return conv


def _marks_text(block: Node) -> str:
    m = block.find("AttendanceMarks")
    return "" if m is None else m.raw_text.strip("\r\n\t")
