"""LA-scale benchmark: the suite's store against an idiomatic pandas baseline, in one process.

Generates a canonical Parquet register (default 150,000 pupils x 380 sessions = 57 million marks,
300 schools, 2024/25 codes), then times:

* **end to end** -- loading the file into a fresh store (validation, quarantine accounting,
  Parquet + pre-aggregates) plus the pupil and school summaries;
* **from the store** -- the pupil and school summaries alone, from an already loaded store
  (median of three runs), as every report asks for them again and again;
* **pandas** -- ``pd.read_parquet`` of the same file and the same pupil and school summaries.

The two sets of results must agree exactly (every count, every PA/SA flag) or the script fails.
Peak memory is the largest resident set seen while the suite works (sampled every 10 ms). The last
line reads ``ratio=<from-store ratio> end_to_end_ratio=<x> peak_mb=<y>``.

Targets (issue: foundation): from the store >= 10x faster than pandas, end to end >= 2x, peak
under 1 GB.

Usage: ``python benchmarks/bench_metrics.py [--pupils N] [--schools K] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from attendance_lib import codes, metrics  # noqa: E402
from attendance_lib.store import Store  # noqa: E402
from attendance_lib.upn import LETTERS  # noqa: E402

YEAR = 2024
#: absence codes and their shares of absence (domain.md 3.2, 2024/25 shares, rounded)
ABSENCE_CODES = {"I": 0.47, "O": 0.23, "C": 0.06, "G": 0.07, "M": 0.05, "U": 0.03, "E": 0.02,
                 "C2": 0.03, "N": 0.02, "R": 0.01, "S": 0.005, "T": 0.005}
OTHER_CODES = {"L": 0.02, "V": 0.006, "P": 0.002, "B": 0.002, "W": 0.001, "K": 0.0005,
               "#": 0.002, "D": 0.0005, "Y1": 0.0003}


# -- data generation (in a child process, so its memory is not counted) -------------------------
def _upns(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unique, valid, made-up UPNs (LA code 999, serials 0..n-1)."""
    digits = np.zeros((n, 12), np.int64)
    digits[:, 0:3] = [9, 9, 9]
    digits[:, 3:12] = np.stack([np.arange(n) // 10**k % 10 for k in range(8, -1, -1)], axis=1)
    total = (digits * np.arange(2, 14)).sum(axis=1)
    letters = np.array(list(LETTERS))[total % 23]
    body = np.array(["".join(map(str, r)) for r in digits])
    return np.char.add(letters, body)


def _school_days(year: int, n: int) -> np.ndarray:
    days, d = [], np.datetime64(f"{year}-09-02")
    while len(days) < n:
        if np.is_busday(d):
            days.append(d)
        d += 1
    return np.array(days, dtype="datetime64[D]")


def generate(path: Path, pupils: int, schools: int, sessions: int = 380, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    upn = _upns(pupils, rng)
    urn = np.array([str(900000 + i) for i in range(schools)])
    school_of = np.sort(rng.integers(0, schools, pupils))
    days = _school_days(YEAR, sessions // 2)
    propensity = rng.beta(1.3, 17.0, pupils)
    codes_abs = np.array(list(ABSENCE_CODES))
    p_abs = np.array(list(ABSENCE_CODES.values()))
    codes_oth = np.array(list(OTHER_CODES))
    p_oth = np.array(list(OTHER_CODES.values()))
    writer = None
    step = max(1, 2_000_000 // sessions)
    for s in range(0, pupils, step):
        idx = np.arange(s, min(pupils, s + step))
        n = len(idx) * sessions
        pid = np.repeat(idx, sessions)
        slot = np.tile(np.arange(sessions), len(idx))
        code = np.where(slot % 2 == 0, "/", "\\").astype(object)
        r = rng.random(n)
        absent = r < propensity[pid]
        code[absent] = rng.choice(codes_abs, absent.sum(), p=p_abs / p_abs.sum())
        other = ~absent & (rng.random(n) < p_oth.sum())
        code[other] = rng.choice(codes_oth, other.sum(), p=p_oth / p_oth.sum())
        t = pa.table({
            "upn": pa.array(upn[pid]).dictionary_encode(),
            "urn": pa.array(urn[school_of[pid]]).dictionary_encode(),
            "date": pa.array(days[slot // 2]),
            "session": pa.array(np.where(slot % 2 == 0, "AM", "PM")).dictionary_encode(),
            "code": pa.array(code.astype(str)).dictionary_encode(),
        })
        if writer is None:
            writer = pq.ParquetWriter(path, t.schema, compression="snappy")
        writer.write_table(t, row_group_size=1 << 20)
    writer.close()


# -- measurement helpers -------------------------------------------------------------------------
class PeakRSS:
    """Largest resident set size seen while the block runs (sampled every 10 ms)."""

    def __enter__(self):
        self._proc = psutil.Process()
        self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def mb(self) -> float:
        return self.peak / 2**20


def suite_summaries(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    enr = metrics.enrolment_summary(store)
    return enr, metrics.school_summary(enr)


def pandas_summaries(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The idiomatic pandas way: read everything, map codes to categories, group."""
    df = pd.read_parquet(path)
    table = codes.year_code_table([YEAR])
    category = dict(zip(table["code"], table["category"], strict=True))
    df["category"] = df["code"].map(category)
    counts = (df.groupby(["upn", "urn", "category"], observed=True).size()
              .unstack(fill_value=0).reset_index())
    for c in ("present", "aea", "authorised", "unauthorised"):
        if c not in counts:
            counts[c] = 0
    counts["possible"] = counts[["present", "aea", "authorised", "unauthorised"]].sum(axis=1)
    counts = counts[counts["possible"] > 0]
    absent = counts["authorised"] + counts["unauthorised"]
    counts["persistent_absence"] = absent / counts["possible"] >= 0.10
    counts["severe_absence"] = absent / counts["possible"] >= 0.50
    school = counts.groupby("urn").agg(
        enrolments=("upn", "size"), possible_sessions=("possible", "sum"),
        authorised_sessions=("authorised", "sum"), unauthorised_sessions=("unauthorised", "sum"),
        pa_count=("persistent_absence", "sum"), sa_count=("severe_absence", "sum")).reset_index()
    return counts, school


def check_agree(suite: tuple, base: tuple) -> None:
    s_enr, s_sch = suite
    b_enr, b_sch = base
    cols = ["possible", "present", "aea", "authorised", "unauthorised", "persistent_absence",
            "severe_absence"]
    a = s_enr[["upn", "urn", *cols]].astype({"upn": str, "urn": str}).sort_values(
        ["upn", "urn"]).reset_index(drop=True)
    b = b_enr[["upn", "urn", *cols]].astype({"upn": str, "urn": str}).sort_values(
        ["upn", "urn"]).reset_index(drop=True)
    for c in cols:
        if not np.array_equal(a[c].to_numpy(dtype="int64"), b[c].to_numpy(dtype="int64")):
            raise SystemExit(f"pupil summaries disagree on {c}")
    if not (a["upn"].equals(b["upn"]) and a["urn"].equals(b["urn"])):
        raise SystemExit("pupil summaries cover different enrolments")
    sc = ["enrolments", "possible_sessions", "authorised_sessions", "unauthorised_sessions",
          "pa_count", "sa_count"]
    x = s_sch[["urn", *sc]].astype({"urn": str}).sort_values("urn").reset_index(drop=True)
    y = b_sch[["urn", *sc]].astype({"urn": str}).sort_values("urn").reset_index(drop=True)
    for c in sc:
        if not np.array_equal(x[c].to_numpy(dtype="int64"), y[c].to_numpy(dtype="int64")):
            raise SystemExit(f"school summaries disagree on {c}")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pupils", type=int, default=150_000)
    ap.add_argument("--schools", type=int, default=300)
    ap.add_argument("--keep", type=Path, default=None, help="keep the work folder here")
    args = ap.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-metrics-"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / "marks.parquet"
    try:
        t0 = time.perf_counter()
        proc = mp.get_context("spawn").Process(target=generate,
                                               args=(src, args.pupils, args.schools))
        proc.start()
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit("data generation failed")
        gen_s = time.perf_counter() - t0
        n_marks = pq.ParquetFile(src).metadata.num_rows

        store_dir = work / "store"
        with PeakRSS() as mem:
            t = time.perf_counter()
            result = Store(store_dir).ingest([src])
            t_ingest = time.perf_counter() - t
            suite = suite_summaries(Store(store_dir))
            t_e2e = time.perf_counter() - t
            runs = []
            for _ in range(3):
                t = time.perf_counter()
                suite = suite_summaries(Store(store_dir))
                runs.append(time.perf_counter() - t)
            t_store = statistics.median(runs)
        rep = result.reports[0]
        assert rep.balanced and rep.rows_quarantined == 0, rep.line()

        with PeakRSS() as pmem:
            t = time.perf_counter()
            base = pandas_summaries(src)
            t_pandas = time.perf_counter() - t
        check_agree(suite, base)

        ratio = t_pandas / t_store
        e2e_ratio = t_pandas / t_e2e
        print(f"marks: {n_marks:,} ({args.pupils:,} pupils, {args.schools} schools); "
              f"generated in {gen_s:.1f} s")
        print(f"{'step':<34}{'seconds':>10}{'peak MB':>10}")
        print(f"{'suite: ingest (validate + store)':<34}{t_ingest:>10.2f}")
        print(f"{'suite: end to end (+ summaries)':<34}{t_e2e:>10.2f}{mem.mb:>10.0f}")
        print(f"{'suite: summaries from the store':<34}{t_store:>10.2f}"
              f"   (runs: {', '.join(f'{r:.2f}' for r in runs)})")
        print(f"{'pandas: read + summaries':<34}{t_pandas:>10.2f}{pmem.mb:>10.0f}")
        print("results agree exactly: pupil (enrolment) and school summaries")
        print(f"ratio={ratio:.1f} end_to_end_ratio={e2e_ratio:.2f} peak_mb={mem.mb:.0f}")
        return {"ratio": ratio, "end_to_end_ratio": e2e_ratio, "peak_mb": mem.mb}
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
