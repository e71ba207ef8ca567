"""Wonde API JSON pages (the pipe of DfE's daily attendance collection) to canonical marks.

Layout (../shared/reference/mis_formats.md section 1; [P] Wonde docs, [O] Wonde's own clients,
[T] third-party code):

* pages are the API's envelope ``{"data": [...], "meta": {"pagination": {"next": url|null,
  "more": bool, ...}}}`` [O]. A file holds one page, a JSON array of pages, or one page per line
  (JSON Lines). The reader does not call the API (:func:`fetch_pages` does, following ``next``);
  it checks that the saved pages are complete: some page must end the chain (``next`` null),
  and where pages carry ``current_page`` every ``next`` page (``page=N``) must be present.
  Otherwise the whole set is refused: a missing page would silently lose marks;
* session attendance records (``GET .../attendance/session``): the read field names are
  **not confirmed** [U]; the write-back fields are used [O]: ``student`` (an id, or
  ``{"data": {...}}`` with ``include=student``) or ``student_id``; ``date`` as the Wonde date
  object ``{"date": "YYYY-MM-DD HH:MM:SS.ffffff", "timezone_type": 3, "timezone": "..."}`` [P]
  or ``YYYY-MM-DD``; ``session`` ``AM``/``PM``; ``attendance_code`` (``{"data": {"code": ...}}``
  with ``include=attendance_code``, or an id) or ``attendance_code_id``. ``minutes_late`` and
  ``comment`` are not loaded. A date object in another timezone is converted to Europe/London
  before its date is taken;
* codes: the attendance code's ``code`` is checked against **our** code table (categories come
  from codes.py). Vendor flags such as ``is_present`` or ``is_authorised`` are ignored (a
  third-party client only guesses them, "VERIFY-AGAINST-SANDBOX"). Ids are resolved through
  pages of the global ``GET /v1.0/attendance-codes`` list (records with ``id`` and ``code``);
* pupils: Wonde ids (``A123...``) are not UPNs. The UPN is the student's
  ``education_details.data.upn`` [T], from student pages (``GET .../students?include=
  education_details``) or an embedded student; ``upi`` is a hash, **not** the UPN, and is never
  used. A supplied roster CSV (vendor id -> UPN, URN) fills in what the pages lack;
* school: the school object (``GET /v1.0/schools/{id}``: ``{"data": {"urn": ...}}``) among the
  files, the roster's URN, or ``urn=``.

Each attendance record is a row read; ``_line`` is its 1-based record number in its file.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._common import InputFileError, LoadReport
from ._convert import Converted, Rows
from .encodings import decode_text, encoding_note
from .local_codes import LocalCodes
from .vendor_ids import VendorRoster

__all__ = ["WondeApiError", "read_wonde", "page_kind", "wonde_date", "fetch_pages",
           "load_pages"]

_EXPECTED = ("Wonde API JSON pages ({\"data\": [...], \"meta\": {\"pagination\": ...}}) of session "
             "attendance, students (with education_details), attendance codes or the school")
_LONDON = ZoneInfo("Europe/London")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
                   r"(Z|[+-]\d{2}:?\d{2})?$")
_PAGE_NO = re.compile(r"[?&]page=(\d+)")
_ABBREV = {"UTC": UTC, "GMT": UTC, "Z": UTC,
           "BST": timezone(timedelta(hours=1))}


class WondeApiError(ValueError):
    """The Wonde API refused a request (status and Wonde's error text in the message)."""


@dataclass
class _Page:
    path: Path
    number: int  # position of the page in its file (1-based)
    body: dict
    kind: str | None


def page_kind(page: dict) -> str | None:
    """``attendance``, ``students``, ``codes``, ``school`` or ``empty`` (``None``: unknown)."""
    data = page.get("data")
    if isinstance(data, dict):
        return "school" if ("urn" in data or "establishment_number" in data) else None
    if not isinstance(data, list):
        return None
    if not data:
        return "empty"
    rec = data[0] if isinstance(data[0], dict) else {}
    if "session" in rec and "date" in rec:
        return "attendance"
    if "education_details" in rec or {"forename", "surname", "upi", "mis_id"} & set(rec):
        return "students"
    if "code" in rec:
        return "codes"
    return None


def load_pages(path: str | Path) -> tuple[list[dict], str]:
    """The pages in one file (one page, an array of pages, or JSON Lines) and its encoding."""
    p = Path(path)
    text, enc = decode_text(p.read_bytes())
    try:
        doc = json.loads(text)
        pages = doc if isinstance(doc, list) else [doc]
    except json.JSONDecodeError as exc:
        pages = []
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                pages.append(json.loads(line))
            except json.JSONDecodeError:
                raise InputFileError(p, f"is not JSON ({exc.msg} at line {exc.lineno}; nor JSON "
                                        f"Lines: line {i}); expected {_EXPECTED}") from None
    if not pages or not all(isinstance(pg, dict) and "data" in pg for pg in pages):
        raise InputFileError(p, f"holds no page with a 'data' member; expected {_EXPECTED}")
    return pages, enc


def wonde_date(value) -> tuple[date | None, str | None]:
    """The school date of a Wonde date object or ``YYYY-MM-DD`` string: ``(date, problem)``.

    >>> wonde_date({"date": "2025-01-13 00:00:00.000000", "timezone_type": 3,
    ...             "timezone": "Europe/London"})
    (datetime.date(2025, 1, 13), None)
    >>> wonde_date({"date": "2025-06-12 23:30:00.000000", "timezone_type": 3,
    ...             "timezone": "UTC"})[0]  # 00:30 on 13 June in London (BST)
    datetime.date(2025, 6, 13)
    """
    tz_name = None
    if isinstance(value, dict):
        text, tz_name = value.get("date"), value.get("timezone")
    else:
        text = value
    if not isinstance(text, str):
        return None, f"invalid date: {json.dumps(value, default=str)} is not a Wonde date"
    m = _DATE.match(text.strip())
    if m is None:
        return None, f"invalid date: '{text}' is not YYYY-MM-DD or YYYY-MM-DD HH:MM:SS.ffffff"
    try:
        d = date.fromisoformat(m.group(1))
    except ValueError:
        return None, f"invalid date: '{text}' is not a calendar date"
    tz_name = tz_name or m.group(5)
    if m.group(2) is None or tz_name in (None, "Europe/London"):
        return d, None
    try:
        if tz_name in _ABBREV:
            tz = _ABBREV[tz_name]
        elif re.fullmatch(r"[+-]\d{2}:?\d{2}", tz_name):
            sign = -1 if tz_name[0] == "-" else 1
            hh, mm = int(tz_name[1:3]), int(tz_name[-2:])
            tz = timezone(sign * timedelta(hours=hh, minutes=mm))
        else:
            tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return None, f"invalid date: unknown timezone '{tz_name}' in {text!r}"
    t = datetime(d.year, d.month, d.day, int(m.group(2)), int(m.group(3)),
                 int(m.group(4) or 0), tzinfo=tz)
    return t.astimezone(_LONDON).date(), None


def _rel_id(value) -> str | None:
    """The id of a relation: ``"A1"``, ``{"data": {"id": "A1"}}`` or ``{"id": "A1"}``."""
    if isinstance(value, (str, int)) and str(value).strip():
        return str(value).strip()
    if isinstance(value, dict):
        inner = value.get("data", value)
        if isinstance(inner, dict) and inner.get("id") not in (None, ""):
            return str(inner["id"])
    return None


def _upn_of(student) -> str | None:
    if not isinstance(student, dict):
        return None
    s = student.get("data", student)
    ed = s.get("education_details") if isinstance(s, dict) else None
    ed = ed.get("data", ed) if isinstance(ed, dict) else None
    upn = ed.get("upn") if isinstance(ed, dict) else None
    return str(upn).strip().upper() if upn not in (None, "") else None


def _check_pagination(pages: list[_Page], kind: str) -> str | None:
    """Refuse an incomplete page set; return a note describing the chain."""
    if not pages:
        return None
    pag = [(pg, (pg.body.get("meta") or {}).get("pagination") or {}) for pg in pages]
    if not any(pp for _, pp in pag):
        return f"{len(pages):,} {kind} page(s) without pagination metadata"
    ends = [pg for pg, pp in pag if not pp.get("next") and not pp.get("more")]
    if not ends:
        last, pp = pag[-1]
        raise InputFileError(last.path, f"the Wonde {kind} pages do not include a last page: "
                                        f"every page's meta.pagination has a next page (e.g. "
                                        f"{pp.get('next')}), so page(s) are missing; save every "
                                        f"page up to the one whose next is null")
    numbers = {int(pp["current_page"]) for _, pp in pag if str(pp.get("current_page", "")
                                                                ).isdigit()}
    if numbers:
        for pg, pp in pag:
            m = _PAGE_NO.search(str(pp.get("next") or ""))
            if m and int(m.group(1)) not in numbers:
                raise InputFileError(pg.path, f"Wonde {kind} page {m.group(1)} is missing: it is "
                                              f"meta.pagination.next of page "
                                              f"{pp.get('current_page', '?')}; save every page")
    return (f"Wonde pagination: {len(pages):,} {kind} page(s), {len(ends)} ending the chain "
            f"(next: null)" + (f", pages {min(numbers)}-{max(numbers)} all present"
                               if numbers else ""))


def read_wonde(paths, *, roster: VendorRoster | None = None, local: LocalCodes | None = None,
               urn: str | None = None) -> list[Converted]:
    """Read a set of Wonde page files (mis_formats.md section 1); one result per file.

    Parameters
    ----------
    paths
        Saved pages of any kind (attendance, students, attendance codes, the school), in any
        order; the attendance and student pages must form complete ``meta.pagination`` chains.
    roster
        Vendor id -> UPN, URN for students the pages lack (optional).
    local
        Local-codes map applied before the statutory check (optional).
    urn
        The school's URN when no school object or roster gives it.

    Returns
    -------
    list of Converted
        One per file: canonical rows (``_line`` = record number) for attendance files, a final
        report for supporting files.

    Raises
    ------
    InputFileError
        A file that is not Wonde JSON, an incomplete page chain, or no school URN at all.
    """
    pages: list[_Page] = []
    encodings: dict[Path, str] = {}
    for p in map(Path, paths):
        got, encodings[p] = load_pages(p)
        for i, body in enumerate(got, 1):
            kind = page_kind(body)
            if kind is None:
                raise InputFileError(p, f"page {i} is not a Wonde page this loader knows (session"
                                        f" attendance, students, attendance codes or the "
                                        f"school); expected {_EXPECTED}")
            pages.append(_Page(p, i, body, kind))
    # an empty page (``data: []``) can end any chain
    notes_by_kind = {k: _check_pagination([pg for pg in pages if pg.kind in (k, "empty")], k)
                     if any(pg.kind == k for pg in pages) else None
                     for k in ("attendance", "students", "codes")}
    school_urn, students, code_ids, mis_ids = None, {}, {}, {}
    for pg in pages:
        if pg.kind == "school":
            school_urn = str(pg.body["data"].get("urn") or "").strip() or school_urn
        elif pg.kind == "students":
            for s in pg.body["data"]:
                sid = _rel_id(s)
                if sid:
                    students[sid] = _upn_of(s)
                    mis_ids[sid] = s.get("mis_id")
        elif pg.kind == "codes":
            for c in pg.body["data"]:
                if isinstance(c, dict) and c.get("id") is not None:
                    code_ids[str(c["id"])] = str(c.get("code") or "")
    school_urn = urn or school_urn
    if not school_urn and not (roster and any(u for _, u in roster.ids.values())) and any(
            pg.kind == "attendance" for pg in pages):
        raise InputFileError(pages[0].path, "no school URN: include the school object (GET "
                                            "/v1.0/schools/{id}, with its urn) among the files, "
                                            "or a roster CSV with a urn column")
    out: list[Converted] = []
    for p in encodings:
        mine = [pg for pg in pages if pg.path == p]
        if any(pg.kind == "attendance" for pg in mine):
            out.append(_attendance_file(p, mine, students, code_ids, roster, school_urn, local,
                                        encodings[p], notes_by_kind["attendance"]))
            continue
        n = sum(len(pg.body["data"]) if isinstance(pg.body["data"], list) else 1 for pg in mine)
        kinds = sorted({pg.kind for pg in mine})
        notes = encoding_note(encodings[p])
        if "students" in kinds:
            with_upn = sum(1 for pg in mine if pg.kind == "students" for s in pg.body["data"]
                           if _upn_of(s))
            notes.append(f"Wonde students: {n:,}, {with_upn:,} with a UPN "
                         f"(education_details.data.upn; 'upi' is not a UPN)")
            if notes_by_kind["students"]:
                notes.append(notes_by_kind["students"])
        elif "school" in kinds:
            notes.append(f"Wonde school: URN {school_urn}")
        elif "codes" in kinds:
            notes.append(f"Wonde attendance codes: {len(code_ids):,} id(s) resolved to codes; "
                         f"categories come from our code table, not the vendor's flags")
        rep = LoadReport(file=str(p), kind="wonde " + "/".join(kinds), rows_read=n,
                         rows_loaded=n, notes=notes, encoding=encodings[p], format="wonde")
        out.append(Converted(p, "wonde", rep.kind, None, rep, has_marks=False))
    return out


def _attendance_file(path, pages, students, code_ids, roster, school_urn, local, enc,
                     chain_note) -> Converted:
    rows = Rows(path, "wonde", "wonde marks")
    k = 0
    for pg in pages:
        for rec in pg.body["data"] if pg.kind == "attendance" else []:
            k += 1
            raw = json.dumps(rec, separators=(",", ":"), ensure_ascii=False, default=str)
            if not isinstance(rec, dict):
                rows.reject(k, "invalid record: not a JSON object", raw)
                continue
            sid = _rel_id(rec.get("student")) or _rel_id(rec.get("student_id"))
            if not sid:
                rows.reject(k, "missing value: the record has no student id", raw)
                continue
            hit = roster.lookup(sid) if roster else None
            upn = _upn_of(rec.get("student")) or students.get(sid) or (hit[0] if hit else None)
            if not upn:
                rows.reject(k, f"no UPN for Wonde student {sid}: not in the students pages "
                               f"(education_details.data.upn; 'upi' is not a UPN) or the roster",
                            raw)
                continue
            school = (hit[1] if hit and hit[1] else None) or school_urn
            if not school:
                rows.reject(k, f"missing value: no school URN for Wonde student {sid}", raw)
                continue
            day, problem = wonde_date(rec.get("date"))
            if problem:
                rows.reject(k, problem, raw)
                continue
            code, problem = _code_of(rec, code_ids)
            if problem:
                rows.reject(k, problem, raw)
                continue
            if code == "-":
                rows.skip("'-' (no mark)")
                continue
            rows.add(upn, school, day, str(rec.get("session") or "").strip(), code, k)
    notes = encoding_note(enc) + [chain_note] if chain_note else encoding_note(enc)
    notes.append(f"Wonde session attendance: {k:,} record(s); codes checked against our code "
                 f"table (vendor flags ignored); minutes_late and comment not loaded")
    conv = rows.finish(local, encoding=enc, notes_first=notes)
    conv.roster = _roster_frame(students, school_urn, roster)
    return conv


def _code_of(rec: dict, code_ids: dict[str, str]) -> tuple[str | None, str | None]:
    ac = rec.get("attendance_code")
    if isinstance(ac, dict):
        inner = ac.get("data", ac)
        if isinstance(inner, dict) and inner.get("code") not in (None, ""):
            return str(inner["code"]).strip(), None
    cid = _rel_id(ac) or _rel_id(rec.get("attendance_code_id"))
    if cid is None:
        return None, "missing value: no attendance code (attendance_code.data.code)"
    if cid not in code_ids:
        return None, (f"unknown attendance_code id {cid}: not in the attendance-codes pages "
                      f"(GET /v1.0/attendance-codes)")
    return code_ids[cid], None


def _roster_frame(students, school_urn, roster):
    import pandas as pd

    rows = [(sid, upn, school_urn or "") for sid, upn in sorted(students.items()) if upn]
    df = pd.DataFrame(rows, columns=["vendor_id", "upn", "urn"], dtype="string")
    if roster is not None:
        df = pd.concat([df, roster.frame()]).drop_duplicates("vendor_id", keep="first")
    return df.reset_index(drop=True)


def fetch_pages(url: str, token: str, out_dir: str | Path, *, opener=None,
                max_pages: int = 100_000) -> list[Path]:
    """Download pages from the Wonde API, following ``meta.pagination.next`` until it is null.

    Each page is saved as it came (``page-00001.json``, ...) for :func:`read_wonde`. The
    token is sent as ``Authorization: Bearer`` (mis_formats.md section 1); ``opener`` (default
    ``urllib.request.urlopen``) lets tests stand in for the network. Prefer ``cursor=true`` in
    ``url``: offset paging can skip rows if the MIS changes mid-pull [T].
    """
    opener = opener or urllib.request.urlopen
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    while url:
        if len(saved) >= max_pages:
            raise WondeApiError(f"more than {max_pages:,} pages from {url}; stopped")
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}",
                                                   "Accept": "application/json"})
        try:
            with opener(req) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            raise WondeApiError(f"{url}: HTTP {exc.code} {detail}") from None
        page = json.loads(body)
        path = out / f"page-{len(saved) + 1:05d}.json"
        path.write_bytes(body)
        saved.append(path)
        url = ((page.get("meta") or {}).get("pagination") or {}).get("next")
    return saved
