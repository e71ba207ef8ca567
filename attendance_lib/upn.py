"""Unique Pupil Number (UPN) check-letter validation (domain.md section 6).

A UPN has 13 characters: a check letter followed by 12 characters. Permanent UPNs end in 12
digits (``Annnnnnnnnnnn``); temporary UPNs end in 11 digits and a letter (``AnnnnnnnnnnnA``).
The check letter is found by multiplying the characters at positions 2-13 by their position
(weights 2-13; a final letter takes its value from the letter table), summing, taking the sum
mod 23 and mapping it through the 23-letter table (I, O and S are never used).

Test vectors (domain.md 6): ``B801200005001`` is valid. The widely copied ARBOR / Pupil Asset
worked example is wrong: it sums ``207000016049`` to 267 (letter Q); the correct sum is 266,
letter ``P``.

>>> check_letter("801200005001")
'B'
>>> check_letter("207000016049")
'P'
>>> is_valid_upn("B801200005001"), is_valid_upn("Q207000016049")
(True, False)
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["LETTERS", "check_letter", "is_valid_upn", "upn_problem", "is_temporary", "valid_mask"]

LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_VALUE = {ch: i for i, ch in enumerate(LETTERS)}
# re.ASCII: without it \d also matches other scripts' digits (e.g. full-width "８"), which
# upn_problem would then accept while valid_mask (ASCII bytes) rejects them; \Z, not $, so a
# trailing newline is not accepted either.
_PERMANENT = re.compile(r"^[A-HJ-NP-RT-Z]\d{12}\Z", re.ASCII)
_TEMPORARY = re.compile(r"^[A-HJ-NP-RT-Z]\d{11}[A-HJ-NP-RT-Z]\Z", re.ASCII)
_BODY = re.compile(r"^\d{11}[\dA-HJ-NP-RT-Z]\Z", re.ASCII)


def _checksum(body: str) -> int:
    total = 0
    for weight, ch in enumerate(body, start=2):
        total += weight * (int(ch) if ch.isdigit() else _VALUE[ch])
    return total


def check_letter(body: str) -> str:
    """The check letter for the 12 characters after it (positions 2-13)."""
    if len(body) != 12:
        raise ValueError(f"a UPN body has 12 characters, got {len(body)}: {body!r}")
    if not _BODY.match(body):
        raise ValueError(f"a UPN body is 11 digits and a final digit or letter (not I, O or S): "
                         f"{body!r}")
    return LETTERS[_checksum(body) % 23]


def is_temporary(upn: str) -> bool:
    """True for a temporary UPN (its last character is a letter)."""
    return bool(_TEMPORARY.match(upn))


def upn_problem(upn: object) -> str | None:
    """Why ``upn`` is not a valid UPN, or None when it is valid."""
    if not isinstance(upn, str) or not upn.strip():
        return "UPN is missing"
    u = upn.strip().upper()
    if len(u) != 13:
        return f"UPN {upn!r} has {len(u)} characters, not 13"
    if not (_PERMANENT.match(u) or _TEMPORARY.match(u)):
        return f"UPN {upn!r} is not a letter, 11 digits and a final digit or letter"
    expected = check_letter(u[1:])
    if u[0] != expected:
        return f"UPN {upn!r} fails its check letter (expected {expected}, found {u[0]})"
    return None


def is_valid_upn(upn: object) -> bool:
    """True when ``upn`` has the right form and check letter."""
    return upn_problem(upn) is None


_LETTER_VALUE = np.full(256, -1, np.int64)
for _i, _ch in enumerate(LETTERS):
    _LETTER_VALUE[ord(_ch)] = _i
_DIGIT_VALUE = np.full(256, -1, np.int64)
for _d in range(10):
    _DIGIT_VALUE[ord(str(_d))] = _d


def valid_mask(upns) -> np.ndarray:
    """Vectorised :func:`is_valid_upn` for many (already upper-cased, stripped) UPNs."""
    arr = np.asarray(list(upns), dtype=object)
    if len(arr) == 0:
        return np.zeros(0, bool)
    lengths = np.fromiter((len(u) if isinstance(u, str) else 0 for u in arr), np.int64, len(arr))
    ok = lengths == 13
    enc = np.array([u.encode("ascii", "replace") if o else b""
                    for u, o in zip(arr, ok, strict=True)], dtype="S13")
    b = enc.view(np.uint8).reshape(len(arr), 13).astype(np.int64)
    first = _LETTER_VALUE[b[:, 0]]
    mid = _DIGIT_VALUE[b[:, 1:12]]
    last_d = _DIGIT_VALUE[b[:, 12]]
    last_l = _LETTER_VALUE[b[:, 12]]
    last = np.where(last_d >= 0, last_d, last_l)
    ok &= (first >= 0) & (mid >= 0).all(axis=1) & (last >= 0)
    total = (mid * np.arange(2, 13)).sum(axis=1) + last * 13
    return ok & (total % 23 == first)
