"""Report batch benchmark: every report of a 30-school synthetic LA, as ``attendance report`` runs.

Generates a synthetic LA (default 9,000 pupils in 30 schools, 1 academic year to 14 Nov 2025),
loads it into a fresh store, then times :func:`attendance_lib.reporting.run_batch` with the real
templates in ``notebooks/``: the LA overview and data-quality reports plus, per school, the
school report and the Targeting Support Meeting pack, in ``--workers`` worker processes.

Prints the wall time, the median seconds of each template (inside a worker: kernel start,
execution and HTML export), and **seconds per school report = wall time / schools** (the LA
reports and the TSM packs included in the wall time, as a weekly run makes them all). The last
line reads ``seconds_per_school_report=<x> workers=<n>``.

Target (issue 9): <= 2 s per school report amortised on 2 workers. The load average of the
machine is printed before and after: on a shared machine the figure scales with it.

Usage: ``python benchmarks/bench_reports.py [--pupils N] [--schools K] [--years Y]
[--workers W] [--executor local|dask] [--scheduler ADDRESS] [--kernel-mode inprocess|subprocess]
[--keep DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = "2025-11-14"


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:  # pragma: no cover - not on every platform
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pupils", type=int, default=9000)
    ap.add_argument("--schools", type=int, default=30)
    ap.add_argument("--years", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--executor", choices=("local", "dask"), default="local")
    ap.add_argument("--scheduler", default=None, help="Dask scheduler address (dask only).")
    ap.add_argument("--kernel-mode", choices=("inprocess", "subprocess"), default="inprocess",
                    help="inprocess: warm workers, one in-process kernel each (default); "
                         "subprocess: a kernel process per notebook (the old way).")
    ap.add_argument("--keep", type=Path, default=None,
                    help="Keep the LA, store and reports in this folder.")
    args = ap.parse_args(argv)

    from attendance_lib.reporting import failure_table, run_batch
    from attendance_lib.store import Store
    from attendance_lib.synth import generate_la

    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-reports-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        la = generate_la(base / "la", pupils=args.pupils, schools=args.schools,
                         years=args.years, as_of=AS_OF, seed=args.seed)
        print(f"generated {la.n_schools} schools, {la.n_pupils:,} pupils, {la.n_marks:,} marks "
              f"in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        if (base / "store").exists():
            shutil.rmtree(base / "store")
        store = Store(base / "store")
        store.ingest([la.marks], pupils=la.pupils, schools=la.schools,
                     interventions=la.interventions)
        store.close()
        print(f"ingested in {time.perf_counter() - t:.1f} s")

        load0 = _load()
        t = time.perf_counter()
        res = run_batch(store.root, out=base / "reports", workers=args.workers, as_of=AS_OF,
                        run_name=f"bench-{time.strftime('%Y%m%d-%H%M%S')}",
                        executor=args.executor, scheduler=args.scheduler,
                        kernel_mode=args.kernel_mode)
        wall = time.perf_counter() - t
        load1 = _load()
        by_template = defaultdict(list)
        for r in res.reports:
            if r.seconds is not None:
                by_template[r.template].append(r.seconds)
        n_schools = len({r.urn for r in res.reports if r.urn})
        print(f"\n{len(res.reports)} reports ({len(res.failed)} failed) for {n_schools} schools "
              f"in {wall:.1f} s wall with {args.workers} workers ({os.cpu_count()} CPUs), "
              f"executor {args.executor}, kernel {args.kernel_mode}")
        print(f"  load average (1 min) before {load0}, after {load1}")
        shared = json.loads(res.manifest.read_text()).get("shared") or {}
        if shared.get("seconds") is not None:
            print(f"  shared LA figures computed once in {shared['seconds']:.2f} s")
        for name, secs in by_template.items():
            print(f"  {name:<14} n={len(secs):>3}  median {statistics.median(secs):6.2f} s  "
                  f"max {max(secs):6.2f} s  (in a worker: kernel, run, HTML)")
        if res.failed:
            print(failure_table(res.failed))
        if args.keep:
            print(f"index: {res.index}")
        per = wall / n_schools if n_schools else float("nan")
        print(f"seconds per school report (wall / schools): {per:.2f}")
        print(f"seconds_per_school_report={per:.2f} workers={args.workers}")
        return 0 if res.ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":  # worker processes are spawned: keep the guard
    sys.exit(main())
