"""Report-run parameters from a YAML file in ``params/``, validated strictly.

Every key is checked: an unknown key, a value of the wrong type or a date that is not a real
``YYYY-MM-DD`` date is an error naming the file, the line and the key -- never a warning, so a
typo such as ``as_off:`` cannot silently produce last week's reports (product.md, "Reports").

YAML reads ``2025-11-14`` as a ``date`` object (papermill #345); it is accepted and turned into
the ISO string, so the notebooks only ever receive simple strings, numbers and booleans
(papermill #371: no dicts). See ``params/report_example.yaml`` for a documented example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

__all__ = ["ParamsError", "ALLOWED_KEYS", "TEMPLATE_PARAMETER_KEYS", "load_params",
           "check_date", "check_urns", "check_run_name"]


class ParamsError(ValueError):
    """A parameter is unknown or invalid; the message names the file, line and key."""


@dataclass(frozen=True)
class _Key:
    kind: str  # path, date, urns, int, bool, str, name
    help: str
    minimum: int | None = None


#: every key a report parameters file may hold (the CLI options of the same names override them)
ALLOWED_KEYS: dict[str, _Key] = {
    "store": _Key("path", "the store folder"),
    "out": _Key("path", "where runs are written (a run is a sub-folder)"),
    "schools": _Key("urns", "URNs to report on (default: every school in the store)"),
    "as_of": _Key("date", "YYYY-MM-DD: figures up to this day (default: latest mark)"),
    "workers": _Key("int", "parallel worker processes", 1),
    "run_name": _Key("name", "the run's folder name (default: as_of and the time)"),
    "html": _Key("bool", "export HTML (false: executed notebooks only)"),
    "la": _Key("bool", "also run the LA overview and data-quality reports"),
    "tsm": _Key("bool", "also run a Targeting Support Meeting pack per school"),
    "analyses": _Key("bool", "also run the LA analyses (early-warning model report, "
                             "intervention impact) when the data allow"),
    "suppress_below": _Key("int", "LA outputs hide counts below this", 0),
    "pseudonymise": _Key("bool", "replace pupil identifiers in shareable outputs"),
    "pseudonym_key": _Key("str", "secret key for the pseudonyms"),
    "dfe_dir": _Key("path", "folder of the published DfE statistics"),
    "term": _Key("str", "TSM pack term (empty: the term containing as_of)"),
    "templates_dir": _Key("path", "folder holding the notebook templates"),
    "model_dir": _Key("path", "early-warning model folder for the school reports' list"),
}

#: the keys that are passed on to the notebooks (the rest configure the run)
TEMPLATE_PARAMETER_KEYS = ("suppress_below", "pseudonymise", "pseudonym_key", "dfe_dir", "term",
                           "model_dir")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_URN = re.compile(r"\d{6,7}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_date(value: Any) -> str | None:
    """A date (``date`` object or ``YYYY-MM-DD`` text) as an ISO string; "" / None -> None.

    >>> check_date(date(2025, 11, 14)), check_date("2025-11-14"), check_date("")
    ('2025-11-14', '2025-11-14', None)
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        raise ValueError(f"{value} has a time of day; give a date (YYYY-MM-DD)")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not _DATE.fullmatch(text):
        raise ValueError(f"{value!r} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"{value!r} is not a real date") from None


def check_urns(value: Any) -> list[str] | None:
    """URNs from a list, one number, or comma-separated text; each 6 or 7 digits.

    >>> check_urns("100001, 100002"), check_urns([100001]), check_urns("")
    (['100001', '100002'], ['100001'], None)
    """
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a list of URNs")
    if isinstance(value, int | str):
        items = [v.strip() for v in str(value).split(",")]
    elif isinstance(value, list):
        items = []
        for v in value:
            if isinstance(v, bool) or not isinstance(v, int | str):
                raise ValueError(f"{v!r} is not a URN (6 or 7 digits)")
            items.append(str(v).strip())
    else:
        raise ValueError(f"{value!r} is not a list of URNs")
    bad = [v for v in items if not _URN.fullmatch(v)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a URN (6 or 7 digits)")
    return list(dict.fromkeys(items))


def check_run_name(value: Any) -> str:
    text = str(value)
    if not _NAME.fullmatch(text):
        raise ValueError(f"{value!r} is not a usable folder name (letters, digits, . _ - only)")
    return text


def _check(key: str, value: Any) -> Any:
    spec = ALLOWED_KEYS[key]
    if spec.kind == "date":
        return check_date(value)
    if spec.kind == "urns":
        return check_urns(value)
    if spec.kind == "name":
        return check_run_name(value)
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        return value
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not a whole number")
        if spec.minimum is not None and value < spec.minimum:
            raise ValueError(f"{value} is below the minimum of {spec.minimum}")
        return value
    if spec.kind in ("str", "path"):
        if value is None:
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(f"{value!r} is not text")
        text = str(value)
        if spec.kind == "path" and text:
            return str(Path(text).expanduser().resolve())
        return text
    raise AssertionError(spec.kind)  # pragma: no cover


def _loader():
    """PyYAML's safe loader, except that a date-like value that is not a real date (such as
    ``2025-02-30``) stays text, so it is reported as a bad date rather than a crash."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    def timestamp(loader, node):
        try:
            return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
        except ValueError:
            return loader.construct_scalar(node)

    _Loader.add_constructor("tag:yaml.org,2002:timestamp", timestamp)
    return _Loader


def load_params(path: str | Path) -> dict[str, Any]:
    """Read and validate a report parameters YAML; return only the keys it sets.

    Relative paths in the file are taken from the current folder (as on the command line).
    Raises :class:`ParamsError` with ``"<file>, line <n>: <key>: <problem>"``.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: no such parameters file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParamsError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    try:
        node = yaml.compose(text, Loader=_loader())
        data = yaml.load(text, Loader=_loader())  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParamsError(f"{path}{where}: not valid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise ParamsError(f"{path}: expected 'key: value' lines at the top level")
    lines: dict[str, int] = {}
    for key_node, _ in node.value:
        key = str(key_node.value)
        line = key_node.start_mark.line + 1
        if key in lines:
            raise ParamsError(f"{path}, line {line}: key '{key}' is given twice "
                              f"(first on line {lines[key]})")
        lines[key] = line
    out: dict[str, Any] = {}
    for key, value in data.items():
        line = lines.get(str(key), 0)
        if key not in ALLOWED_KEYS:
            import difflib

            close = difflib.get_close_matches(str(key), ALLOWED_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ParamsError(f"{path}, line {line}: unknown key '{key}'{hint}; allowed: "
                              f"{', '.join(ALLOWED_KEYS)}")
        try:
            out[key] = _check(key, value)
        except ValueError as exc:
            raise ParamsError(f"{path}, line {line}: key '{key}': {exc}") from None
    return out
