"""Tests for attendance_lib.upn: domain.md 6 vectors, worked by hand in the comments."""

from __future__ import annotations

import random

import numpy as np
import pytest

from attendance_lib.upn import (
    LETTERS,
    check_letter,
    is_temporary,
    is_valid_upn,
    upn_problem,
    valid_mask,
)

# letter table of domain.md 6 (23 letters, no I, O or S)
TABLE = "A B C D E F G H J K L M N P Q R T U V W X Y Z".split()


def test_letter_table_is_the_domain_table():
    assert list(LETTERS) == TABLE
    assert not set("IOS") & set(LETTERS)


# --------------------------------------------------------------------------- vectors
def test_stdnum_vector_b801200005001():
    # body 8 0 1 2 0 0 0 0 5 0 0 1, weights 2..13:
    # 8*2 + 0*3 + 1*4 + 2*5 + 0*6 + 0*7 + 0*8 + 0*9 + 5*10 + 0*11 + 0*12 + 1*13
    # = 16 + 4 + 10 + 50 + 13 = 93; 93 mod 23 = 1 -> B
    assert check_letter("801200005001") == "B"
    assert is_valid_upn("B801200005001")
    assert upn_problem("B801200005001") is None


def test_arbor_example_is_p_not_q():
    # body 2 0 7 0 0 0 0 1 6 0 4 9, weights 2..13:
    # 2*2 + 0*3 + 7*4 + 0*5 + 0*6 + 0*7 + 0*8 + 1*9 + 6*10 + 0*11 + 4*12 + 9*13
    # = 4 + 28 + 9 + 60 + 48 + 117 = 266; 266 mod 23 = 266 - 253 = 13 -> P
    # (the widely copied worked example says 267 and Q: wrong)
    assert check_letter("207000016049") == "P"
    assert is_valid_upn("P207000016049")
    assert not is_valid_upn("Q207000016049")
    assert "expected P, found Q" in upn_problem("Q207000016049")


def test_temporary_upn_with_final_letter():
    # temporary: 11 digits + a letter; the letter takes its table value (T = 16).
    # body 2 0 7 0 0 0 0 1 6 0 4 T:
    # 4 + 28 + 9 + 60 + 4*12 + 16*13 = 4 + 28 + 9 + 60 + 48 + 208 = 357
    # 357 mod 23 = 357 - 345 = 12 -> N
    assert check_letter("20700001604T") == "N"
    assert is_valid_upn("N20700001604T")
    assert is_temporary("N20700001604T")
    assert not is_temporary("B801200005001")
    # a final letter worth less than 10 weighs like the digit: A = 0 leaves 801200005000's sum
    # 16 + 4 + 10 + 50 = 80; 80 mod 23 = 11 -> M
    assert check_letter("80120000500A") == "M"
    assert valid_mask(["N20700001604T", "M80120000500A"]).tolist() == [True, True]


def test_every_single_character_change_is_caught():
    # changing any digit changes the sum by weight*(difference), weight 2..13 and difference
    # 1..9 share no factor with the prime 23, so the check letter always moves
    good = "B801200005001"
    for pos in range(1, 13):
        for d in "0123456789":
            if d != good[pos]:
                bad = good[:pos] + d + good[pos + 1:]
                assert not is_valid_upn(bad), bad


# --------------------------------------------------------------------------- rejections
@pytest.mark.parametrize(("upn", "why"), [
    ("B80120000500", "12 characters"),
    ("B8012000050011", "14 characters"),
    ("", "missing"),
    ("   ", "missing"),
    (None, "missing"),
    (801200005001, "missing"),          # not text at all
    ("B80120000500X1", "14 characters"),
    ("B8012000O5001", "not a letter, 11 digits"),   # letter O in the digits
    ("B801200005-01", "not a letter, 11 digits"),
    ("1801200005001", "not a letter, 11 digits"),    # no check letter
    ("I801200005001", "not a letter, 11 digits"),    # I, O, S never used as check letters
    ("O801200005001", "not a letter, 11 digits"),
    ("S801200005001", "not a letter, 11 digits"),
    ("N20700001604I", "not a letter, 11 digits"),    # ... nor as the final letter
    ("N20700001604O", "not a letter, 11 digits"),
    ("N20700001604S", "not a letter, 11 digits"),
    ("B8012000050A1", "not a letter, 11 digits"),    # a letter only in the last place
    ("B８01200005001", "not a letter, 11 digits"),   # full-width 8 is not a digit here
    ("C801200005001", "check letter"),
])
def test_invalid_upns(upn, why):
    assert not is_valid_upn(upn)
    assert why in upn_problem(upn)


def test_surrounding_space_and_lower_case_are_tolerated_by_is_valid_upn():
    assert is_valid_upn(" b801200005001 ")


@pytest.mark.parametrize("body", ["80120000500", "8012000050011", "8012000O5001",
                                  "80120000500I", "8012000050a1", "8012000050²1"])
def test_check_letter_rejects_bad_bodies(body):
    with pytest.raises(ValueError):
        check_letter(body)


# --------------------------------------------------------------------------- vectorised
def _reference_valid(u) -> bool:
    """Independent restatement of domain.md 6, for the agreement test only."""
    if not isinstance(u, str) or len(u) != 13 or not u.isascii():
        return False
    first, mid, last = u[0], u[1:12], u[12]
    if first not in TABLE or not mid.isdigit() or not (last.isdigit() or last in TABLE):
        return False
    vals = [int(c) for c in mid] + [int(last) if last.isdigit() else TABLE.index(last)]
    return TABLE[sum(w * v for w, v in zip(range(2, 14), vals, strict=True)) % 23] == first


def _random_upns(n: int, seed: int = 20240909) -> list[object]:
    rng = random.Random(seed)
    out: list[object] = []
    for i in range(n):
        body = "".join(rng.choice("0123456789") for _ in range(11))
        body += rng.choice("0123456789") if i % 3 else rng.choice(TABLE + list("IOS"))
        kind = i % 7
        if kind in (0, 1, 2):      # right letter from the reference sum (mostly valid)
            vals = [int(c) if c.isdigit() else (TABLE.index(c) if c in TABLE else 0)
                    for c in body]
            out.append(TABLE[sum(w * v for w, v in zip(range(2, 14), vals, strict=True)) % 23] + body)
        elif kind == 3:            # random letter: valid about 1 time in 23
            out.append(rng.choice(TABLE) + body)
        elif kind == 4:            # wrong length
            out.append(rng.choice(TABLE) + body[: rng.randint(0, 13)])
        elif kind == 5:            # a stray character somewhere
            pos = rng.randint(0, 12)
            u = rng.choice(TABLE) + body
            out.append(u[:pos] + rng.choice("IOS-?a٣８ ") + u[pos + 1:])
        else:                      # not text / empty
            out.append(rng.choice([None, "", 12.5]))
    return out


def test_valid_mask_agrees_with_is_valid_upn_on_random_upns():
    upns = _random_upns(600)
    mask = valid_mask(upns)
    scalar = np.array([is_valid_upn(u) for u in upns])
    reference = np.array([_reference_valid(u) for u in upns])
    assert mask.dtype == bool and len(mask) == 600
    assert (mask == scalar).all(), [u for u, a, b in zip(upns, mask, scalar, strict=True) if a != b]
    assert (mask == reference).all()
    # the sample really exercises both answers
    assert 150 < mask.sum() < 450


def test_valid_mask_of_nothing():
    assert valid_mask([]).tolist() == []
