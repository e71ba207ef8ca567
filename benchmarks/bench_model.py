"""LA-scale benchmark: training the early-warning model on a 150,000-pupil LA over three years.

Generates the synthetic LA (``attendance_lib.synth.generate_la``: 150,000 pupils on roll a year,
three academic years, the last complete; a few minutes), loads it into a store, then times
:func:`attendance_lib.early_warning.train.train` as of October half-term of the final year:
the LA calendar, features of every enrolment on roll at the same point of each complete earlier
year with their labels, the choice between the candidates on validation data, the calibrated
refit, and the back-test on the latest complete year. Peak memory is the largest resident set
seen while training (sampled every 50 ms).

Target (issue 5): training within 10 minutes on 2 cores. The last line reads
``train_seconds=<s> peak_mb=<m> pupils=<n> training_rows=<r>``.

Usage: ``python benchmarks/bench_model.py [--pupils N] [--keep DIR] [--no-backtest]``
(``--keep DIR`` keeps, and reuses, the generated LA and its store in ``DIR``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from attendance_lib.early_warning.evaluate import Dataset  # noqa: E402
from attendance_lib.early_warning.points import school_calendar  # noqa: E402
from attendance_lib.early_warning.train import train  # noqa: E402
from attendance_lib.store import Store  # noqa: E402
from attendance_lib.synth import generate_la  # noqa: E402

AS_OF_LA = "2025-07-31"  # three years: 2022/23, 2023/24, 2024/25 (complete)


class _Peak:
    def __init__(self):
        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            rss = self.proc.memory_info().rss
            for c in self.proc.children(recursive=True):
                try:
                    rss += c.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, rss)
            self._stop.wait(0.05)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pupils", type=int, default=150_000)
    ap.add_argument("--keep", type=Path, default=None)
    ap.add_argument("--no-backtest", action="store_true")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-model-"))
    work.mkdir(parents=True, exist_ok=True)
    la_dir, store_dir = work / "la", work / "store"
    try:
        if not (store_dir / "store.json").exists():
            t = time.perf_counter()
            la = generate_la(la_dir, pupils=args.pupils, years=3, as_of=AS_OF_LA, seed=2024)
            print(f"generated: {la.n_pupils:,} pupils, {la.n_marks:,} marks in "
                  f"{time.perf_counter() - t:.0f} s", flush=True)
            t = time.perf_counter()
            Store(store_dir).ingest(**la.ingest_kwargs())
            print(f"loaded into a store in {time.perf_counter() - t:.0f} s", flush=True)
        store = Store(store_dir)
        print(f"cores: {os.cpu_count()}, load average before training: "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
        with _Peak() as peak:
            t0 = time.perf_counter()
            cal = school_calendar(store, la_dir / "term_dates.csv")
            t1 = time.perf_counter()
            data = Dataset(store, cal)
            as_of = cal.point(2024, "october_half_term")
            # features and labels of the training years (what train() computes first)
            for y in (2022, 2023):
                data.at(cal.same_point(as_of, y))
            t2 = time.perf_counter()
            model, card = train(store, as_of, data=data, backtest=not args.no_backtest)
            t3 = time.perf_counter()
        print(f"calendar {t1 - t0:.1f} s, features and labels {t2 - t1:.1f} s, "
              f"fit{' and back-test' if not args.no_backtest else ''} {t3 - t2:.1f} s; "
              f"chosen {card['chosen']} ({card['calibration']}), "
              f"{card['training_rows']:,} training rows", flush=True)
        if card.get("backtest"):
            bt = card["backtest"]["metrics"]
            print("back-test " + card["backtest"]["test_year"] + ": " + ", ".join(
                f"{m} {bt[m]['model']:.3f} (best rule {bt[m]['best_rule']:.3f})"
                for m in ("roc_auc", "precision_top10")))
        print(f"train_seconds={t3 - t0:.1f} peak_mb={peak.peak / 2**20:.0f} "
              f"pupils={args.pupils} training_rows={card['training_rows']}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
