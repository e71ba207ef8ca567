"""A small, safe XML reader that keeps source line numbers (for quarantine rows).

One concept: XML files as element trees whose elements know the line they start on, so a
quarantined ``<SessionAttendance>`` or ``<YearData>`` is reported at its line. Built on expat:

* the declared encoding is honoured (``iso-8859-1`` for SIMS partner XML,
  ../shared/reference/mis_formats.md section 0, "Encodings") and recorded;
* document type declarations and entities are refused (no entity expansion from a file);
* namespace prefixes are dropped from element names (``ns:Pupil`` -> ``Pupil``);
* elements named in ``records`` are not kept as subtrees: each is flattened to a row of its
  child elements' text, stored column-wise, so a large session-attendance export stays small.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from ._common import InputFileError
from .encodings import encoding_label, xml_declared_encoding

__all__ = ["Node", "XmlDocument", "parse_xml"]


@dataclass
class Node:
    """An element: local name, start line, attributes, text (stripped; ``raw_text`` as
    written, for values where spaces may matter, such as a CTF mark string) and children."""

    tag: str
    line: int
    attrib: dict = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    text: str = ""
    raw_text: str = ""

    def find(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]

    def findtext(self, tag: str) -> str | None:
        c = self.find(tag)
        return None if c is None else c.text

    def iter(self, tag: str):
        """Every descendant (and self) named ``tag``, in document order."""
        if self.tag == tag:
            yield self
        for c in self.children:
            yield from c.iter(tag)


@dataclass
class XmlDocument:
    root: Node
    #: flattened record elements: tag -> column -> values (``_line`` holds the start lines)
    records: dict[str, dict[str, list]]
    encoding: str
    encoding_how: str


class _Builder:
    def __init__(self, records: set[str]):
        self.records = records
        self.stack: list[Node] = []
        self.root: Node | None = None
        self.text: list[list[str]] = []
        self.out: dict[str, dict[str, list]] = {}
        self.counts: dict[str, int] = {}
        self.parser: expat.XMLParserType | None = None

    def start(self, name: str, attrs: dict) -> None:
        node = Node(name.rsplit(":", 1)[-1], self.parser.CurrentLineNumber, dict(attrs))
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)
        self.text.append([])

    def end(self, name: str) -> None:
        node = self.stack.pop()
        node.raw_text = "".join(self.text.pop())
        node.text = node.raw_text.strip()
        if node.tag in self.records and self.stack:
            self.stack[-1].children.pop()
            self._flatten(node)

    def _flatten(self, node: Node) -> None:
        cols = self.out.setdefault(node.tag, {"_line": []})
        n = self.counts.get(node.tag, 0)
        cols["_line"].append(node.line)
        for c in node.children:
            col = cols.get(c.tag)
            if col is None:
                col = cols[c.tag] = [None] * n
            if len(col) == n:  # the first child of that name wins
                col.append(c.text)
        n += 1
        self.counts[node.tag] = n
        for col in cols.values():
            if len(col) < n:
                col.append(None)

    def data(self, text: str) -> None:
        if self.text:
            self.text[-1].append(text)


def _refuse(*_args) -> None:
    raise ValueError("document type declarations and entities are not accepted")


def parse_xml(path: str | Path, expected: str, records: set[str] | None = None
              ) -> XmlDocument:
    """Parse an XML file; raise :class:`InputFileError` naming the file when it is not XML."""
    p = Path(path)
    data = p.read_bytes()
    declared = xml_declared_encoding(data[:512])
    if declared:
        enc, how = declared, "declared in the XML declaration"
    elif data.startswith(b"\xef\xbb\xbf"):
        enc, how = "utf-8-sig", "byte-order mark"
    else:
        enc, how = "utf-8", "the XML default (no declaration)"
    b = _Builder(set(records or ()))
    parser = expat.ParserCreate()
    b.parser = parser
    parser.StartElementHandler = b.start
    parser.EndElementHandler = b.end
    parser.CharacterDataHandler = b.data
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        hint = (f" (is the file really {encoding_label(enc)}, as {how} says?)"
                if "invalid token" in str(exc) or "encoding" in str(exc) else "")
        raise InputFileError(p, f"is not well-formed XML: {exc}{hint}; expected {expected}") \
            from None
    except ValueError as exc:
        raise InputFileError(p, f"{exc} (line {parser.CurrentLineNumber}); expected "
                                f"{expected}") from None
    if b.root is None:
        raise InputFileError(p, f"has no XML root element; expected {expected}")
    return XmlDocument(b.root, b.out, enc, how)
