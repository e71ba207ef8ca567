"""Text encodings of input files: detected, recorded, and never guessed for binary data.

One concept: which encoding a text input was written in. Windows CSV and Excel exports are
often cp1252 or UTF-8 with a byte-order mark, and SIMS partner XML declares ``iso-8859-1``
(../shared/reference/mis_formats.md section 0, "Encodings"). The rule there is followed:

* a UTF-8 byte-order mark means UTF-8 (``"utf-8-sig"``);
* otherwise bytes that are valid UTF-8 are UTF-8;
* otherwise cp1252 (Windows-1252), and ISO-8859-1 when a byte is undefined in cp1252
  (``0x81 0x8D 0x8F 0x90 0x9D``);
* for XML the declaration is honoured (the XML parser does that; :func:`xml_declared_encoding`
  reads it for the load report).

A file that is not text at all (NUL bytes, many control bytes, UTF-16/32) is refused with one
message rather than decoded into garbage (:func:`binary_problem`).

Examples
--------
>>> detect_encoding("Café".encode("cp1252"))
'cp1252'
>>> detect_encoding("\\ufeffCafé".encode("utf-8")), detect_encoding(b"plain")
('utf-8-sig', 'utf-8')
>>> encoding_label("cp1252")
'cp1252 (Windows-1252)'
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "SNIFF_BYTES",
    "detect_encoding",
    "file_encoding",
    "binary_problem",
    "encoding_label",
    "encoding_note",
    "decode_text",
    "xml_declared_encoding",
]

#: bytes examined when a file is too large to decode whole for detection
SNIFF_BYTES = 1 << 16
#: files up to this size are decoded whole to choose the encoding (larger: the first 64 KiB)
_WHOLE_FILE_LIMIT = 1 << 26

_BOM_UTF8 = b"\xef\xbb\xbf"
_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with a byte-order mark",
    "cp1252": "cp1252 (Windows-1252)",
    "iso-8859-1": "ISO-8859-1 (Latin-1)",
}
# control bytes that do not occur in text (tab, LF, FF, CR and DOS end-of-file are allowed)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 26)) + b"\x7f"
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def binary_problem(head: bytes) -> str | None:
    """Why ``head`` (the start of a file) is not text, or ``None`` when it looks like text.

    UTF-16 and UTF-32 (byte-order marks ``FF FE`` / ``FE FF``) are named so the user can save
    the file again as UTF-8; NUL bytes or more than 1% control bytes mean binary data.

    >>> binary_problem(b"upn,urn\\n") is None
    True
    >>> binary_problem(b"\\xff\\xfeu\\x00p\\x00")
    'is UTF-16 text (byte-order mark FF FE); save it as UTF-8 or cp1252'
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return (f"is UTF-16 text (byte-order mark {head[0]:02X} {head[1]:02X}); save it as "
                f"UTF-8 or cp1252")
    nul = head.find(b"\x00")
    if nul >= 0:
        return f"is binary data, not text (a NUL byte at offset {nul})"
    n_ctrl = sum(head.count(bytes([b])) for b in _CONTROL)
    if n_ctrl > max(8, len(head) // 100):
        return f"is binary data, not text ({n_ctrl} control bytes in the first {len(head):,}"\
               f" bytes)"
    return None


def detect_encoding(data: bytes, *, complete: bool = True) -> str:
    """The encoding of ``data``: ``utf-8-sig``, ``utf-8``, ``cp1252`` or ``iso-8859-1``.

    With ``complete=False`` (``data`` is only the start of a file), a multi-byte UTF-8
    character cut at the end is not counted against UTF-8.
    """
    if data.startswith(_BOM_UTF8):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if (not complete and exc.reason == "unexpected end of data"
                and exc.start >= len(data) - 3):
            return "utf-8"
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "iso-8859-1"


def file_encoding(path: str | Path) -> str:
    """:func:`detect_encoding` of a file: decoded whole up to 64 MiB, else its first 64 KiB.

    Deterministic for a given file, so every reader of the file decodes it the same way.
    """
    p = Path(path)
    size = p.stat().st_size
    with open(p, "rb") as fh:
        if size <= _WHOLE_FILE_LIMIT:
            return detect_encoding(fh.read())
        return detect_encoding(fh.read(SNIFF_BYTES), complete=False)


def encoding_label(encoding: str) -> str:
    """Human name of an encoding as recorded in load reports."""
    return _LABELS.get(encoding.lower(), encoding)


def encoding_note(encoding: str, how: str = "detected") -> list[str]:
    """The load-report note for an encoding; none for plain UTF-8 (the expected case).

    >>> encoding_note("utf-8"), encoding_note("cp1252")
    ([], ['encoding: cp1252 (Windows-1252), detected (the file is not UTF-8)'])
    """
    enc = encoding.lower()
    if enc == "utf-8":
        return []
    why = " (the file is not UTF-8)" if enc in ("cp1252", "iso-8859-1") and how == "detected" \
        else ""
    return [f"encoding: {encoding_label(enc)}, {how}{why}"]


def decode_text(data: bytes) -> tuple[str, str]:
    """``(text, encoding)`` for a whole file's bytes (a BOM is removed from the text)."""
    enc = detect_encoding(data)
    return data.decode(enc), enc


def xml_declared_encoding(head: bytes) -> str | None:
    """The ``encoding`` of an XML declaration (lower case), or ``None`` if none is declared.

    >>> xml_declared_encoding(b'<?xml version="1.0" encoding="ISO-8859-1"?><a/>')
    'iso-8859-1'
    """
    m = _XML_DECL.match(head.removeprefix(_BOM_UTF8))
    return m.group(1).decode("ascii").lower() if m else None
