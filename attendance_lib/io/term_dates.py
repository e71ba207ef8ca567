"""Term dates files: a school's or an LA's half-term dates, read and checked line by line.

One concept: the term dates input (domain.md 7). A CSV, or YAML with the same keys, gives one
row per half-term: ``academic_year`` (``2024/25``, ``202425`` or ``2024``), ``half_term``
(1-6), ``start`` and ``end`` (inclusive; ``dd/mm/yyyy`` or ``yyyy-mm-dd``), optional ``urn``
(school) and ``la_code`` (LA number or E-code), and optional free-text ``notes``/``note``/
``description``. Blank lines and lines starting with ``#`` are skipped; YAML is a list of
mappings, at the top level or under a ``term_dates`` key.

:func:`read_term_dates_table` checks every row and every calendar (same ``urn``/``la_code``:
all six half-terms of every year, in date order, without overlaps, within 1 Aug-31 Aug of the
academic year) and raises one :class:`attendance_lib.calendar.CalendarError` naming the file
and the line of each problem. :func:`attendance_lib.term_dates.read_term_dates` wraps the rows
in a :class:`attendance_lib.term_dates.TermDates`.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pandas as pd

from attendance_lib.calendar import CalendarError, academic_year_label, parse_academic_year

__all__ = ["TERM_DATES_COLUMNS", "CALENDAR_KEYS", "read_term_dates_table"]

#: columns every half-term row has (a term dates file or a ``TermDates`` table)
TERM_DATES_COLUMNS = ("academic_year", "half_term", "start", "end")
#: optional columns naming the calendar a row belongs to (missing = the default calendar)
CALENDAR_KEYS = ("urn", "la_code")

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ALLOWED = {*TERM_DATES_COLUMNS, *CALENDAR_KEYS, "note", "notes", "description"}


def _parse_file_date(text: str) -> date:
    m = _DMY.match(text)
    if m:
        day, month, year = map(int, m.groups())
        return date(year, month, day)
    return date.fromisoformat(text)


def _read_records(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """(line, {column: raw text}) records and structural problems of a CSV or YAML file."""
    records, problems = [], []
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = None
            for row in reader:
                if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                    continue
                if header is None:
                    header = [c.strip().lower() for c in row]
                    problems += [
                        (reader.line_num, f"unknown column {c!r}")
                        for c in header
                        if c not in _ALLOWED
                    ]
                    lacking = [c for c in TERM_DATES_COLUMNS if c not in header]
                    if lacking:
                        return [], [*problems, (reader.line_num, f"missing column(s) {lacking}")]
                    continue
                if len(row) != len(header):
                    problems.append(
                        (reader.line_num, f"{len(row)} fields, header has {len(header)}")
                    )
                    continue
                records.append(
                    (reader.line_num, {h: c.strip() for h, c in zip(header, row, strict=True)})
                )
        return records, problems
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            return [], [(mark.line + 1 if mark else 1, f"not valid YAML ({exc.problem})")]
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == "term_dates"), None)
        if not isinstance(node, yaml.SequenceNode):
            return [], [(1, "expected a list of half-terms (or a 'term_dates' key holding one)")]
        for item in node.value:
            line = item.start_mark.line + 1
            if not isinstance(item, yaml.MappingNode):
                problems.append((line, "a half-term entry must be a mapping"))
                continue
            rec, ok = {}, True
            for k, v in item.value:
                key = str(k.value).strip().lower()
                if key not in _ALLOWED:
                    problems.append((line, f"unknown key {key!r}"))
                elif not isinstance(v, yaml.ScalarNode):
                    problems.append((line, f"{key} must be a single value"))
                    ok = False
                else:
                    rec[key] = "" if v.tag.endswith(":null") else str(v.value).strip()
            if ok:
                records.append((line, rec))
        return records, problems
    raise CalendarError(f"term dates file {path} must be .csv, .yaml or .yml", path=str(path))


def _check_record(line: int, rec: dict[str, str]) -> tuple[dict, list[tuple[int, str]]]:
    """The parsed row (partial when there are problems) and the row's problems."""
    problems, out = [], {}
    for col in TERM_DATES_COLUMNS:
        if not rec.get(col):
            problems.append((line, f"{col} is missing"))
    if problems:
        return out, problems
    try:
        out["academic_year"] = parse_academic_year(rec["academic_year"])
    except (ValueError, TypeError) as exc:
        problems.append((line, str(exc)))
    if not rec["half_term"].isdigit() or not 1 <= int(rec["half_term"]) <= 6:
        problems.append((line, f"half_term {rec['half_term']!r} is not 1-6"))
    else:
        out["half_term"] = int(rec["half_term"])
    for col in ("start", "end"):
        try:
            out[col] = _parse_file_date(rec[col])
        except ValueError:
            problems.append((line, f"{col} {rec[col]!r} is not a date (dd/mm/yyyy or yyyy-mm-dd)"))
    for col, pattern, what in (
        ("urn", r"\d{6,7}", "6 or 7 digits"),
        ("la_code", r"\d{3}|E\d{8}", "3 digits or E + 8 digits"),
    ):
        value = rec.get(col, "")
        if value and not re.fullmatch(pattern, value):
            problems.append((line, f"{col} {value!r} is not {what}"))
        out[col] = value or None
    if problems:
        return out, problems
    if out["end"] < out["start"]:
        problems.append((line, f"end {out['end']} is before start {out['start']}"))
    first, last = date(out["academic_year"], 8, 1), date(out["academic_year"] + 1, 8, 31)
    for col in ("start", "end"):
        if not first <= out[col] <= last:
            problems.append(
                (
                    line,
                    f"{col} {out[col]} is outside academic year {academic_year_label(out['academic_year'])}",
                )
            )
    return out, problems


def _check_calendar(rows: list[dict], claimed: set[tuple] | None) -> list[tuple[int, str]]:
    """Duplicates, overlaps, order and completeness (six half-terms) within one calendar.

    ``claimed`` holds ``(academic_year, half_term)`` of rows already reported as bad, so a bad
    row is not reported a second time as a missing half-term; None skips the completeness check.
    """
    problems, seen, by_year = [], {}, {}
    for r in rows:
        key = (r["academic_year"], r["half_term"])
        label = f"{academic_year_label(r['academic_year'])} half-term {r['half_term']}"
        if key in seen:
            problems.append((r["line"], f"{label} repeats line {seen[key]}"))
            continue
        seen[key] = r["line"]
        by_year.setdefault(r["academic_year"], []).append(r)
    ordered = sorted(
        (r for r in rows if seen.get((r["academic_year"], r["half_term"])) == r["line"]),
        key=lambda r: r["start"],
    )
    for prev, cur in zip(ordered, ordered[1:], strict=False):
        if cur["start"] <= prev["end"]:
            problems.append(
                (
                    cur["line"],
                    f"{cur['start']} to {cur['end']} overlaps line {prev['line']} ({prev['start']} to {prev['end']})",
                )
            )
        elif (cur["academic_year"], cur["half_term"]) < (prev["academic_year"], prev["half_term"]):
            problems.append(
                (
                    cur["line"],
                    f"half-term {cur['half_term']} starts after half-term {prev['half_term']} (line {prev['line']})",
                )
            )
    for year, year_rows in by_year.items() if claimed is not None else ():
        have = sorted(r["half_term"] for r in year_rows)
        if have != [1, 2, 3, 4, 5, 6]:
            lack = sorted(set(range(1, 7)) - set(have) - {h for y, h in claimed if y == year})
            if not lack:
                continue
            problems.append(
                (
                    min(r["line"] for r in year_rows),
                    f"academic year {academic_year_label(year)} lacks half-term(s) {lack}",
                )
            )
    return problems


def read_term_dates_table(path: str | Path) -> pd.DataFrame:
    """The half-term rows of a term dates file, checked (see the module docstring).

    Returns ``academic_year``, ``half_term``, ``start``, ``end`` (``datetime.date``) and the
    ``urn`` / ``la_code`` columns the file uses, in file order. Raises
    :class:`attendance_lib.calendar.CalendarError` listing every problem with its line.
    """
    path = Path(path)
    records, problems = _read_records(path)
    # completeness is only judged when every bad row can be told apart by year and half-term
    judge_complete = not problems
    good, claimed = [], set()
    for line, rec in records:
        row, found = _check_record(line, rec)
        problems += found
        if not found:
            good.append({**row, "line": line})
        elif "academic_year" in row and "half_term" in row:
            key = (rec.get("urn") or None, rec.get("la_code") or None)
            claimed.add((*key, row["academic_year"], row["half_term"]))
        else:
            judge_complete = False
    calendars: dict[tuple, list[dict]] = {}
    for r in good:
        calendars.setdefault((r["urn"], r["la_code"]), []).append(r)
    for key, rows in calendars.items():
        known = {c[2:] for c in claimed if c[:2] == key}
        problems += _check_calendar(rows, known if judge_complete else None)
    if not records and not problems:
        problems.append((1, "no term dates"))
    if problems:
        problems = sorted(dict.fromkeys(problems), key=lambda p: p[0])
        if len(problems) == 1:
            message = f"term dates file {path}, line {problems[0][0]}: {problems[0][1]}"
        else:
            lines = "\n".join(f"  line {n}: {text}" for n, text in problems)
            message = f"term dates file {path} has {len(problems)} problems:\n{lines}"
        raise CalendarError(message, path=str(path), problems=problems)
    table = pd.DataFrame(good).drop(columns="line")
    return table.drop(columns=[k for k in CALENDAR_KEYS if table[k].isna().all()])
