"""LA-scale end to end: a 150,000-pupil, 300-school LA over three academic years, as an LA runs it.

Every step runs the ``attendance`` command a scheduler would run, in its own process, timed
with its peak memory (the largest resident set of the process and all its children -- report
workers, kernels -- sampled every 50 ms):

1. ``generate``: ``attendance synth`` (three academic years up to ``--as-of``, a Friday in the
   autumn term, so two complete years and the current one to date);
2. ``ingest parquet``: the register except its last school day into a fresh store;
3. ``ingest one day``: the last school day's marks (alone, as a daily export) appended to that
   store (incremental: the year is not rewritten);
4. ``ingest csv``: the current year to date as a CSV export, into a second fresh store
   (the throughput of the CSV path);
5. ``summary la|school|pupil``: year to date, CSV to a file;
6. ``model train`` (as of ``--as-of``, on the two complete years) and ``model score``;
7. ``impact``: one impact study (``--impact-type``, mentoring by default; ``all`` for every
   type), JSON;
8. ``report``: the full weekly batch (every school's report and Targeting Support Meeting
   pack, the LA overview and data-quality reports; the termly LA analyses only with
   ``--analyses``) on ``--workers`` workers, with and without the HTML export.

Targets (issue 9): per-school report time amortised over the batch (wall time / schools) at
most 2 s on 2 workers, the whole batch under 10 minutes, every step under 4 GB peak. The table
shows each step's ratio to its target where it has one. The last line reads
``seconds_per_school_report=<x> peak_mb=<y>`` (the HTML batch; the peak over every step).

Usage: ``python benchmarks/bench_la.py [--pupils N] [--schools K] [--workers W]
[--keep DIR] [--skip STEP,...]``; ``--keep DIR`` keeps (and reuses) the generated LA.
About 40 minutes on 2 cores at full size; ``--pupils 15000 --schools 30`` for a quick look.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2025-11-14"  # a Friday: 2023/24 and 2024/25 complete, 2025/26 to date
STEPS = ("generate", "ingest", "csv", "summary", "model", "impact", "report", "report_nohtml")


@dataclass
class Step:
    name: str
    seconds: float
    peak_mb: float
    note: str = ""
    target_s: float | None = None


def _tree_rss(proc: psutil.Process) -> int:
    rss = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            rss += p.memory_info().rss
        except psutil.Error:
            pass
    return rss


def run(name: str, args: list[str], *, log: Path, note: str = "",
        target_s: float | None = None, stdout: Path | None = None) -> Step:
    """Run ``attendance ARGS`` (or a Python ``-c`` when ``args[0] == '-c'``), timing it and
    sampling the memory of its process tree; its standard output goes to ``stdout`` if given,
    else to the log. Stops the benchmark if it fails."""
    exe = Path(sys.executable)
    cmd = ([str(exe), *args] if args[0] == "-c"
           else [str(exe.with_name("attendance")), *args])
    env = {**os.environ, "TQDM_DISABLE": "1", "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    with open(log, "ab") as out, open(stdout or os.devnull, "wb") as res:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.Popen(cmd, stdout=res if stdout else out, stderr=out, env=env,
                                cwd=ROOT)
        ps, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None:
            try:
                peak = max(peak, _tree_rss(ps))
            except psutil.Error:
                pass
            time.sleep(0.05)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"bench_la: step {name!r} failed (exit {proc.returncode}); see {log}")
    step = Step(name, seconds, peak / 2**20, note, target_s)
    ratio = f"  ({seconds / target_s:.2f} of target)" if target_s else ""
    print(f"{name:<28} {seconds:8.1f} s {step.peak_mb:8.0f} MB  {note}{ratio}", flush=True)
    return step


_SPLIT = """
import sys, duckdb
src, before, day, csv, year_start, last = sys.argv[1:]
con = duckdb.connect()
con.execute("SET preserve_insertion_order = true")
q = f"SELECT * FROM read_parquet('{src}')"
con.execute(f"COPY ({q} WHERE date < DATE '{last}') TO '{before}' (FORMAT parquet, "
            "COMPRESSION zstd, ROW_GROUP_SIZE 1048576)")
con.execute(f"COPY ({q} WHERE date = DATE '{last}') TO '{day}' (FORMAT parquet)")
con.execute(f"COPY (SELECT upn, urn, strftime(date, '%Y-%m-%d') AS date, session, code FROM "
            f"read_parquet('{src}') WHERE date >= DATE '{year_start}') TO '{csv}' "
            "(HEADER, DELIMITER ',')")
"""


def _last_day(marks: Path) -> str:
    import duckdb

    return str(duckdb.connect().execute(f"SELECT max(date) FROM read_parquet('{marks}')")
               .fetchone()[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pupils", type=int, default=150_000)
    ap.add_argument("--schools", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--keep", type=Path, default=None, help="keep (and reuse) the work here")
    ap.add_argument("--impact-type", default="mentoring",
                    help="the intervention type of the impact study, or 'all'")
    ap.add_argument("--analyses", action="store_true",
                    help="include the LA analyses (early-warning and impact reports) in the "
                         "report batch; by default it is the weekly batch without them (the "
                         "impact step times the study on its own)")
    ap.add_argument("--skip", default="", help=f"comma-separated steps to skip: {STEPS}")
    args = ap.parse_args(argv)
    skip = {s for s in args.skip.split(",") if s}
    if skip - set(STEPS):
        ap.error(f"--skip: unknown {', '.join(sorted(skip - set(STEPS)))}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-la-"))
    work.mkdir(parents=True, exist_ok=True)
    la, store, store_csv = work / "la", work / "store", work / "store_csv"
    log = work / "bench_la.log"
    print(f"work folder {work}; commands and their output in {log}")
    print(f"cores {os.cpu_count()}, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'step':<28} {'wall':>10} {'peak':>11}")
    steps: list[Step] = []
    try:
        if not (la / "marks.parquet").exists():
            steps.append(run("generate", [
                "synth", "--out", str(la), "--pupils", str(args.pupils), "--schools",
                str(args.schools), "--years", "3", "--as-of", AS_OF, "--seed", str(args.seed)],
                log=log, note=f"{args.pupils:,} pupils a year, 3 years"))
        marks = la / "marks.parquet"
        last = _last_day(marks)
        before, day, csv = work / "marks_before.parquet", work / "day.parquet", work / "year.csv"
        if not day.exists():
            run("(split the export)", ["-c", _SPLIT, str(marks), str(before), str(day), str(csv),
                                       "2025-08-01", last], log=log, note="not counted")
        import pyarrow.parquet as pq

        n_before, n_day = pq.ParquetFile(before).metadata.num_rows, pq.ParquetFile(day)\
            .metadata.num_rows
        roster = ["--pupils", str(la / "pupils.csv"), "--schools", str(la / "schools.csv"),
                  "--interventions", str(la / "interventions.csv")]
        if "ingest" not in skip:
            shutil.rmtree(store, ignore_errors=True)
            s = run("ingest parquet (3 years)", ["ingest", "--store", str(store), "--marks",
                                                 str(before), *roster], log=log,
                    note=f"{n_before:,} marks")
            s.note += f", {n_before / s.seconds / 1e6:.1f} M marks/s"
            steps.append(s)
            # a daily export: the day's marks only (the roster is already in the store)
            steps.append(run("ingest one day (append)", [
                "ingest", "--store", str(store), "--marks", str(day)], log=log,
                note=f"{n_day:,} marks of {last}"))
        if "csv" not in skip:
            shutil.rmtree(store_csv, ignore_errors=True)
            n_csv = sum(1 for _ in open(csv, "rb")) - 1
            s = run("ingest csv (year to date)", ["ingest", "--store", str(store_csv), "--marks",
                                                  str(csv), *roster], log=log,
                    note=f"{n_csv:,} marks")
            s.note += f", {n_csv / s.seconds / 1e6:.1f} M marks/s"
            steps.append(s)
            shutil.rmtree(store_csv, ignore_errors=True)
        if "summary" not in skip:
            for level in ("la", "school", "pupil"):
                steps.append(run(f"summary --level {level}", [
                    "summary", "--store", str(store), "--level", level, "--format", "csv"],
                    log=log, stdout=work / f"summary_{level}.csv"))
        model = work / "model"
        if "model" not in skip:
            steps.append(run("model train", ["model", "train", "--store", str(store), "--out",
                                             str(model), "--as-of", last], log=log,
                             note="two complete years", target_s=600))
            steps.append(run("model score", ["model", "score", "--store", str(store), "--model",
                                             str(model), "--as-of", last, "--out",
                                             str(work / "scores.csv")], log=log))
        if "impact" not in skip:
            kind = [] if args.impact_type == "all" else ["--type", args.impact_type]
            steps.append(run(f"impact ({args.impact_type})", [
                "impact", "--store", str(store), "--format", "json", *kind], log=log,
                note="every design: matched DiD, event study, placebo, RDD, groups"))
        per_school = None
        model_opt = ["--model", str(model)] if model.exists() else []
        for html in (True, False):
            name = "report" if html else "report_nohtml"
            if name in skip:
                continue
            out = work / ("reports" if html else "reports_nohtml")
            shutil.rmtree(out, ignore_errors=True)
            s = run(f"report batch{'' if html else ' (no HTML)'}", [
                "report", "--store", str(store), "--out", str(out), "--workers",
                str(args.workers), "--run-name", "bench", *model_opt,
                *([] if args.analyses else ["--no-analyses"]),
                *([] if html else ["--no-html"])], log=log,
                note=f"{args.schools} schools x 2 + LA reports",
                target_s=2.0 * args.schools)
            s.note += f", {s.seconds / args.schools:.2f} s per school"
            steps.append(s)
            if html:
                per_school = s.seconds / args.schools
        print()
        print(f"{'step':<28} {'seconds':>9} {'peak MB':>9}  notes")
        for s in steps:
            ratio = f" [{s.seconds / s.target_s:.2f} of target]" if s.target_s else ""
            print(f"{s.name:<28} {s.seconds:9.1f} {s.peak_mb:9.0f}  {s.note}{ratio}")
        peak = max((s.peak_mb for s in steps), default=0.0)
        print(f"peak over every step: {peak:.0f} MB ({peak / 4096:.2f} of the 4 GB ceiling)")
        shown = "nan" if per_school is None else f"{per_school:.2f}"
        print(f"seconds_per_school_report={shown} peak_mb={peak:.0f}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
