"""Shared builders: tiny registers written as CSV into ``tmp_path`` and loaded into a Store.

A register is described the way a teacher reads one, a day at a time::

    reg = register_builder()                       # fixture: a RegisterBuilder in tmp_path
    reg.school(URN_A)
    reg.pupil(UPN[0], URN_A, admission="2024-09-02")
    reg.days(UPN[0], URN_A, "2024-09-09", "/ \\", "I I", "# #")   # Mon, Tue, Wed: AM PM
    store = reg.ingest()                            # Store(tmp_path / "store")

Every UPN below is valid; its check letter is worked out by hand (domain.md 6): for the body
``999100124000`` the weighted sum is 9*2 + 9*3 + 9*4 + 1*5 + 0*6 + 0*7 + 1*8 + 2*9 + 4*10 +
0*11 + 0*12 + 0*13 = 18 + 27 + 36 + 5 + 8 + 18 + 40 = 152; 152 mod 23 = 14 -> ``Q``. Each step of
1 in the last digit adds 13 (its weight), so the next bodies sum to 165, 178, 191, 204, 217,
230, 243 -> mod 23 = 4, 17, 7, 20, 10, 0, 13 -> E, U, H, X, L, A, P.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from attendance_lib.store import Store

#: eight valid UPNs (check letters worked out in the module docstring)
UPN = ["Q999100124000", "E999100124001", "U999100124002", "H999100124003",
       "X999100124004", "L999100124005", "A999100124006", "P999100124007"]

_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # domain.md 6 letter table


def make_upn(serial: int) -> str:
    """UPN with body ``999100124`` + 3-digit serial, by the module docstring's sum.

    The fixed part sums to 152; serial digits a b c add 11a + 12b + 13c (their weights).
    ``make_upn(0) == UPN[0]``; used where a test needs more pupils than :data:`UPN`.
    """
    a, b, c = (int(ch) for ch in f"{serial:03d}")
    return _LETTERS[(152 + 11 * a + 12 * b + 13 * c) % 23] + f"999100124{serial:03d}"


assert [make_upn(i) for i in range(8)] == UPN
URN_A, URN_B = "100001", "100002"


def _iso(d) -> str:
    return d.isoformat() if isinstance(d, date) else str(d)


class RegisterBuilder:
    """Collects marks, pupils and schools rows and writes them as CSV files."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.marks: list[tuple[str, str, str, str, str]] = []
        self.pupils: list[dict] = []
        self.schools: list[dict] = []
        self._n = 0

    # -- rows ------------------------------------------------------------------------------
    def school(self, urn: str, phase: str = "primary", **extra) -> RegisterBuilder:
        self.schools.append({"urn": urn, "phase": phase, **extra})
        return self

    def pupil(self, upn: str, urn: str, admission=None, leaving=None, **extra
              ) -> RegisterBuilder:
        self.pupils.append({"upn": upn, "urn": urn,
                            "admission_date": _iso(admission) if admission else "",
                            "leaving_date": _iso(leaving) if leaving else "", **extra})
        return self

    def mark(self, upn: str, urn: str, day, session: str, code: str) -> RegisterBuilder:
        self.marks.append((upn, urn, _iso(day), session, code))
        return self

    def days(self, upn: str, urn: str, first_day, *pairs: str) -> RegisterBuilder:
        """Consecutive weekdays from ``first_day``; each pair is ``"AM PM"`` (``-`` = no mark).

        Weekends are skipped, so ``days(u, s, "2024-09-13", "/ \\\\", "/ \\\\")`` marks
        Friday 13 and Monday 16 Sep 2024.
        """
        d = date.fromisoformat(_iso(first_day))
        for pair in pairs:
            while d.weekday() >= 5:
                d += timedelta(days=1)
            for session, code in zip(("AM", "PM"), pair.split(), strict=True):
                if code != "-":
                    self.mark(upn, urn, d, session, code)
            d += timedelta(days=1)
        return self

    def repeat(self, upn: str, urn: str, first_day, pair: str, n: int) -> RegisterBuilder:
        """``n`` consecutive weekdays all marked ``pair``."""
        return self.days(upn, urn, first_day, *([pair] * n))

    # -- files -----------------------------------------------------------------------------
    def write(self) -> dict[str, Path | None]:
        """Write the rows collected so far as new CSV files; clear the marks."""
        self._n += 1
        self.root.mkdir(parents=True, exist_ok=True)
        out: dict[str, Path | None] = {"marks": None, "pupils": None, "schools": None}
        if self.marks:
            out["marks"] = self._csv(f"marks{self._n}.csv", ["upn", "urn", "date", "session",
                                                             "code"], self.marks)
        if self.pupils:
            cols = list(dict.fromkeys(k for r in self.pupils for k in r))
            out["pupils"] = self._csv(f"pupils{self._n}.csv", cols,
                                      [[r.get(c, "") for c in cols] for r in self.pupils])
        if self.schools:
            cols = list(dict.fromkeys(k for r in self.schools for k in r))
            out["schools"] = self._csv(f"schools{self._n}.csv", cols,
                                       [[r.get(c, "") for c in cols] for r in self.schools])
        self.marks = []
        return out

    def _csv(self, name: str, header: list[str], rows) -> Path:
        path = self.root / name
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        return path

    def ingest(self, store: Store | None = None, *, with_roster: bool = True,
               start_month: int | None = None, check: bool = True) -> Store:
        """Write the files and load them into ``store`` (default ``root / "store"``).

        With ``check`` every row must load (no quarantine), so a typo in a test's register
        fails loudly instead of silently shrinking the counts.
        """
        store = store or Store(self.root / "store")
        files = self.write()
        result = store.ingest([files["marks"]] if files["marks"] else [],
                              pupils=files["pupils"] if with_roster else None,
                              schools=files["schools"] if with_roster else None,
                              start_month=start_month)
        self.last_result = result
        if check:
            q = [r.quarantine for r in result.reports if r.rows_quarantined]
            assert not q, f"unexpected quarantine: {q}"
        return store


@pytest.fixture
def register_builder(tmp_path) -> RegisterBuilder:
    return RegisterBuilder(tmp_path)


#: the kernel name :func:`kernel_env` registers
TEST_KERNEL = "attendance-suite-test"


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A Jupyter kernel spec pinned to this interpreter, on a temporary ``JUPYTER_PATH``, for
    running notebooks under papermill; yields the kernel name to pass as ``kernel_name``."""
    import json
    import sys

    name = TEST_KERNEL
    base = tmp_path_factory.mktemp("jupyter")
    spec = base / "kernels" / name
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "attendance-suite (tests)", "language": "python"}))
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(base))
    yield name
    mp.undo()


def synthetic_store(base: Path, *, pupils: int, schools: int, years: int, as_of: str,
                    seed: int) -> tuple[Path, list[str]]:
    """A synthetic LA generated under ``base / "la"`` and loaded (nothing quarantined) into
    ``base / "store"``; returns the store folder and its URNs in order."""
    import pyarrow.parquet as pq

    from attendance_lib.synth import generate_la

    r = generate_la(base / "la", pupils=pupils, schools=schools, years=years, as_of=as_of,
                    seed=seed)
    store = Store(base / "store")
    res = store.ingest([r.marks], pupils=r.pupils, schools=r.schools,
                       interventions=r.interventions)
    assert res.rows_quarantined == 0
    store.close()
    urns = sorted(str(u) for u in pq.read_table(base / "store" / "schools.parquet")
                  .column("urn").to_pylist())
    return base / "store", urns
