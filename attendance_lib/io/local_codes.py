"""A school's own attendance codes, mapped to the statutory codes we report on.

MIS let a school define display codes of its own; SIMS maps each to a statutory return code
(``9`` "Shielding" -> ``Y``), and reports must use ``Statutory_Return_Code``
(../shared/reference/mis_formats.md section 2, "Quirk"). A :class:`LocalCodes` map comes from

* a SIMS attendance-code export (``SIMS_Display_Code`` -> ``Statutory_Return_Code``; read by
  :func:`attendance_lib.io.sims_xml.read_code_export`), or
* a ``local_codes`` section in a YAML file (``--local-codes`` or the ``--mapping`` YAML)::

      local_codes:
        "*":            # every school in the load
          "9": Y7
        "100001":       # one school (URN)
          "@": L

  (a flat ``local_codes: {"9": Y7}`` applies to every school).

A school's own entry wins over ``"*"``. Targets must be statutory codes of some code set
(domain.md section 1); whether the target is valid in the mark's academic year is then checked
by the marks reader like any other code. A code that is neither statutory nor mapped is
quarantined naming the school and the code (:class:`attendance_lib.io._convert.Rows`).

Examples
--------
>>> lc = LocalCodes({"*": {"9": "Y7"}, "100001": {"9": "Y1"}}, "example")
>>> lc.lookup("100001", "9"), lc.lookup("100002", "9"), lc.lookup("100002", "N")
('Y1', 'Y7', None)
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .. import codes as codes_mod
from ._common import InputFileError, load_mapping_section

__all__ = ["STATUTORY_CODES", "NO_MARK", "LocalCodes", "load_local_codes", "is_statutory"]

#: every code of every code set (2006, COVID-era and 2024 regulations, withdrawn ones included)
STATUTORY_CODES = frozenset(codes_mod.code_table()["code"])
#: placeholders that mean "no mark" in vendor exports (mis_formats.md section 0)
NO_MARK = frozenset({"-", ""})
_URN = re.compile(r"^\d{5,7}$")


def is_statutory(code: str) -> bool:
    """Is ``code`` a code of some statutory code set (any academic year)?

    >>> is_statutory("J1"), is_statutory("9")
    (True, False)
    """
    return code in STATUTORY_CODES


class LocalCodes:
    """Local display code -> statutory code, by school URN (``"*"`` = every school)."""

    def __init__(self, by_school: dict[str, dict[str, str]] | None = None, source: str = ""):
        self.by_school = {str(k): dict(v) for k, v in (by_school or {}).items()}
        self.source = source

    @property
    def empty(self) -> bool:
        return not any(self.by_school.values())

    def lookup(self, urn: str, code: str) -> str | None:
        own = self.by_school.get(str(urn), {})
        if code in own:
            return own[code]
        return self.by_school.get("*", {}).get(code)

    def merged(self, other: LocalCodes | None) -> LocalCodes:
        """Both maps; ``other`` wins where both map the same school and code."""
        if other is None or other.empty:
            return self
        out = {k: dict(v) for k, v in self.by_school.items()}
        for k, v in other.by_school.items():
            out.setdefault(k, {}).update(v)
        src = " + ".join(s for s in (self.source, other.source) if s)
        return LocalCodes(out, src)

    def for_school(self, urn: str) -> LocalCodes:
        """This map with its ``"*"`` entries given to one school (a SIMS export is per school)."""
        return LocalCodes({str(urn): {**self.by_school.get("*", {}),
                                      **self.by_school.get(str(urn), {})}}, self.source)

    def apply(self, urns: pd.Series, codes: pd.Series) -> tuple[pd.Series, pd.Series]:
        """``(codes after mapping, mask of rows whose code was mapped to another code)``."""
        pairs = pd.DataFrame({"urn": urns.astype(str), "code": codes.astype(str)})
        uniq = pairs.drop_duplicates()
        target = [self.lookup(u, c) for u, c in zip(uniq["urn"], uniq["code"], strict=True)]
        uniq = uniq.assign(target=pd.Series(target, index=uniq.index, dtype=object))
        merged = pairs.merge(uniq, on=["urn", "code"], how="left")
        new = merged["target"].where(merged["target"].notna(), merged["code"])
        new.index = codes.index
        hit = (new != codes.astype(str))
        return new.astype(object), hit

    @classmethod
    def from_section(cls, section, path: str | Path) -> LocalCodes:
        """Parse a ``local_codes`` YAML section (see the module docstring)."""
        if section is None:
            return cls({}, str(path))
        if not isinstance(section, dict):
            raise InputFileError(path, "local_codes must map codes to statutory codes, or "
                                       "school URNs ('*' = every school) to such maps")
        if all(not isinstance(v, dict) for v in section.values()):
            section = {"*": section}
        out: dict[str, dict[str, str]] = {}
        for school, table in section.items():
            school = str(school).strip()
            if school != "*" and not _URN.match(school):
                raise InputFileError(path, f"local_codes: {school!r} is not a school URN (5-7 "
                                           f"digits) or '*' (every school)")
            if not isinstance(table, dict):
                raise InputFileError(path, f"local_codes for school {school}: expected a map "
                                           f"of local code to statutory code")
            for local, target in table.items():
                local, target = str(local).strip(), str(target).strip()
                if target not in STATUTORY_CODES:
                    raise InputFileError(path, f"local_codes: '{local}' at school {school} maps "
                                               f"to '{target}', which is not a statutory "
                                               f"attendance code (domain.md section 1)")
                out.setdefault(school, {})[local] = target
        return cls(out, f"local_codes in {Path(path).name}")


def load_local_codes(path: str | Path | None) -> LocalCodes | None:
    """A local-codes map from a YAML file (its ``local_codes`` section) or a SIMS code export.

    Which one is decided by content: a file starting with ``<`` is read as a SIMS
    attendance-code export (:func:`attendance_lib.io.sims_xml.read_code_export`).
    """
    if path is None:
        return None
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "local codes file not found (expected a YAML file with a "
                                "local_codes section, or a SIMS attendance-code export)")
    with open(p, "rb") as fh:
        head = fh.read(512).lstrip(b"\xef\xbb\xbf \r\n\t")
    if head.startswith(b"<"):
        from .sims_xml import read_code_export

        return read_code_export(p).local_codes
    return LocalCodes.from_section(load_mapping_section(p, "local_codes"), p)
