"""The published DfE files read the plainest way (csv module, no library code), so tests can
check the suite's loaders and figures against the rows exactly as DfE printed them."""

from __future__ import annotations

import csv
import gzip
from functools import lru_cache
from pathlib import Path

import pytest

from attendance_lib import paths


def dfe_folder(needs: str) -> Path:
    """The published-data folder (``paths.dfe_dir()``); fails the test, without a traceback,
    when it lacks the ``needs`` subfolder."""
    folder = paths.dfe_dir()
    if not (folder / needs).is_dir():
        pytest.fail(f"published DfE data not found at {folder}", pytrace=False)
    return folder


@lru_cache(maxsize=8)
def raw(path: Path, contains: str = "") -> tuple[dict, ...]:
    """Rows of a gzip CSV as printed, keys and values stripped of spaces; with ``contains``,
    only the lines holding that text are parsed (a cheap pre-filter; callers still check each
    row by its fields)."""
    with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as fh:
        header = fh.readline()
        lines = [line for line in fh if contains in line]
    return tuple({k.strip(): (v or "").strip() for k, v in r.items()}
                 for r in csv.DictReader([header, *lines]))
