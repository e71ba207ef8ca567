"""Write files so that a reader sees the old file, the new file, or nothing -- never half.

The bytes go to a hidden temporary file in the *same* folder (``.<stem>.tmp-<random><ext>``, same
file system, git-ignored by ``*.tmp-*``), are flushed to disk, and the temporary file is renamed
over the final name with :func:`os.replace` (atomic on POSIX and Windows). If anything fails
before the rename -- an exception, Ctrl-C, a killed process -- the final name is untouched and
the temporary file is removed (or, after a hard kill, left with its ``.tmp-`` name, which no
report link points at and :func:`clean_temporaries` removes).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_text", "atomic_write_bytes", "clean_temporaries",
           "TMP_MARK"]

TMP_MARK = ".tmp-"


def _tmp_for(final: Path) -> Path:
    """``.<stem>.tmp-<random><suffix>``: hidden, same folder, same extension (papermill and
    nbformat check it)."""
    return final.with_name(f".{final.stem}{TMP_MARK}{uuid.uuid4().hex[:12]}{final.suffix}")


@contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``final`` atomically.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "a.txt").read_text(), sorted(p.name for p in d.iterdir())
    ('done', ['a.txt'])
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_for(final)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{tmp}: nothing was written")
        with open(tmp, "rb") as fh:  # flush the data before the rename makes it visible
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(final: str | Path, data: bytes) -> Path:
    with atomic_path(final) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return Path(final)


def atomic_write_text(final: str | Path, text: str) -> Path:
    return atomic_write_bytes(final, text.encode("utf-8"))


def clean_temporaries(folder: str | Path) -> int:
    """Remove temporary files a killed run left under ``folder``; return how many."""
    n = 0
    for p in Path(folder).rglob(f".*{TMP_MARK}*"):
        if p.is_file():
            p.unlink(missing_ok=True)
            n += 1
    return n
