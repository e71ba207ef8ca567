"""``index.html`` of a run: every report, grouped (LA, schools, TSM packs), with its status.

Links are relative, so the run folder can be zipped, copied or opened from a file share. The
page is self-contained (inline style, no script) and prints on A4. It lists schools by URN
and name only -- no pupil data. It is written last, atomically: a run folder with an index is
a finished run.
"""

from __future__ import annotations

import html
from pathlib import Path

from .atomic import atomic_write_text

__all__ = ["write_index", "INDEX_NAME"]

INDEX_NAME = "index.html"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #1b1b1b; max-width: 1000px; margin: 1.5em auto; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.meta { color: #555; margin-top: 0; }
p.meta.end { margin-top: 2em; }
h2 { font-size: 1.2em; border-bottom: 2px solid #1d70b8; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35em 0.6em; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f3f2f1; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.ok { color: #00703c; font-weight: 600; }
.failed, .notrun { color: #d4351c; font-weight: 600; }
.err { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85em; color: #6f1d12; }
.summary { padding: 0.6em 0.9em; border-left: 5px solid #00703c; background: #f3f9f6; }
.summary.bad { border-left-color: #d4351c; background: #fdf3f2; }
@page { size: A4; margin: 15mm 12mm; }
@media print { body { max-width: none; margin: 0; } a { color: inherit; text-decoration: none; }
  tr { break-inside: avoid; } }
"""

_GROUPS = (("la", "Local authority"), ("schools", "School reports"),
           ("tsm", "Targeting Support Meeting packs"))


def _status_cell(r) -> str:
    cls = {"ok": "ok", "failed": "failed"}.get(r.status, "notrun")
    text = {"ok": "ok", "failed": "failed"}.get(r.status, r.status)
    out = f'<span class="{cls}">{html.escape(text)}</span>'
    if r.error:
        cell = r.error.get("cell")
        where = f" in cell In [{cell}]" if cell is not None else ""
        out += f'<div class="err">{html.escape(r.error_text())}{html.escape(where)}</div>'
    return out


def _link(r, run_dir: Path, text: str) -> str:
    if r.html is not None and r.status == "ok":
        rel = r.html.relative_to(run_dir).as_posix()
        return f'<a href="{html.escape(rel, quote=True)}">{html.escape(text)}</a>'
    return html.escape(text)


def _when(iso: str | None) -> str:
    """``2025-11-17T07:30:02+00:00`` -> ``17 Nov 2025 07:30``."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).strftime("%d %b %Y %H:%M") if iso else ""
    except ValueError:
        return str(iso)


def _seconds(r) -> str:
    return f"{r.seconds:.1f} s" if r.seconds is not None else ""


def write_index(run_dir: str | Path, records: list, *, run_name: str, as_of: str, status: str,
                started: str | None, seconds: float | None, version: str) -> Path:
    """Write ``<run_dir>/index.html`` for the run's report records; return its path."""
    from .runner import TEMPLATES

    run_dir = Path(run_dir)
    n_ok = sum(r.status == "ok" for r in records)
    n_bad = len(records) - n_ok
    parts = [
        "<!DOCTYPE html>", '<html lang="en-GB">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Attendance reports to {html.escape(as_of)} ({html.escape(run_name)})</title>",
        f"<style>{_CSS}</style>", "</head>", "<body>",
        f"<h1>Attendance reports to {html.escape(as_of)}</h1>",
        f'<p class="meta">Run {html.escape(run_name)} · started {html.escape(_when(started))}'
        f'{f" · {seconds:.0f} s" if seconds is not None else ""} · attendance-suite '
        f"{html.escape(version)}</p>",
        f'<p class="summary{" bad" if n_bad or status != "ok" else ""}" id="run-status">'
        f"{n_ok} of {len(records)} reports ready"
        + (f"; <strong>{n_bad} did not complete</strong> (see below)" if n_bad else "")
        + ("; the run was interrupted" if status == "interrupted" else "") + ".</p>",
    ]
    for group, heading in _GROUPS:
        rows = [r for r in records if TEMPLATES[r.template].group == group]
        if not rows:
            continue
        parts.append(f'<h2 id="{group}">{html.escape(heading)}</h2>')
        if group == "la":
            parts.append("<table><thead><tr><th>Report</th><th>Status</th><th>Time</th>"
                         "</tr></thead><tbody>")
            for r in rows:
                parts.append(f"<tr><td>{_link(r, run_dir, r.label)}</td>"
                             f"<td>{_status_cell(r)}</td><td class=num>{_seconds(r)}</td></tr>")
        else:
            parts.append("<table><thead><tr><th>URN</th><th>School</th><th>Status</th>"
                         "<th>Time</th></tr></thead><tbody>")
            for r in sorted(rows, key=lambda x: (x.school_name or "", x.urn or "")):
                parts.append(f"<tr><td>{_link(r, run_dir, r.urn or '')}</td>"
                             f"<td>{_link(r, run_dir, r.school_name or '(no name)')}</td>"
                             f"<td>{_status_cell(r)}</td><td class=num>{_seconds(r)}</td></tr>")
        parts.append("</tbody></table>")
    parts.append('<p class="meta end">Parameters, input checksums, code version and timings: '
                 '<a href="manifest.json">manifest.json</a>. The executed notebooks under '
                 "<code>notebooks/</code> hold pupil data: do not share them.</p>")
    parts += ["</body>", "</html>", ""]
    return atomic_write_text(run_dir / INDEX_NAME, "\n".join(parts))
