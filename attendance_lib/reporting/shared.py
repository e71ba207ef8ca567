"""LA-wide figures a run computes once and every school report reads (issue 9, batch speed).

Every school report and TSM pack shows the LA's year-to-date headline (a query over every
school's marks: its cost grows with the LA) and the school report shows DfE's published England
(region, LA) figures for its phase (several published files to read and filter). Those are the
same for every school of a run, so the runner computes them once, before the schools start
(:func:`prepare`), into ``<run>/shared/``:

* ``la_headline.parquet`` -- one row of LA aggregates (:func:`attendance_lib.views.la.la_headline`,
  checked to hold no pupil column);
* ``benchmark-<n>.parquet`` -- the published comparison table for each (phase, LA code) among
  the run's schools (:func:`attendance_lib.views.published.published_benchmark`);
* ``shared.json`` -- what they were computed from (store, as-of date, DfE folder) and each
  benchmark's notes and names.

Only aggregate, non-pupil data goes there. A notebook receives the folder as its ``shared``
parameter and asks :func:`la_headline` / :func:`england_benchmark`; when the folder is empty,
missing, or was made for another store, date or DfE folder, they compute the figures
themselves, so a template run by hand gives the same report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["prepare", "la_headline", "england_benchmark", "SHARED_DIR", "SHARED_FILE"]

SHARED_DIR = "shared"
SHARED_FILE = "shared.json"


def _key(store, as_of, dfe_dir=None) -> dict[str, str]:
    import pandas as pd

    key = {"store": str(Path(store).resolve()), "as_of": pd.Timestamp(as_of).date().isoformat()}
    if dfe_dir is not None:
        key["dfe_dir"] = str(Path(dfe_dir).resolve())
    return key


def prepare(run_dir: str | Path, store: str | Path, as_of: str, dfe_dir: str | Path,
            schools: list[tuple[str | None, str | None]]) -> Path:
    """Compute the run's shared LA figures into ``<run_dir>/shared``; return that folder.

    ``schools``: the (phase, la_code) of each school of the run (one benchmark per distinct
    pair). Files are written atomically; ``shared.json`` last, so a folder with it is complete.
    """
    from ..store import Store
    from ..views import la, published
    from .atomic import atomic_path, atomic_write_text

    out = Path(run_dir) / SHARED_DIR
    out.mkdir(parents=True, exist_ok=True)
    st = Store(store)
    try:
        head = la.la_headline(st, as_of)
    finally:
        st.close()
    with atomic_path(out / "la_headline.parquet") as tmp:
        head.to_parquet(tmp, index=False)
    benches = []
    for n, (phase, code) in enumerate(sorted(set(schools), key=str)):
        b = published.published_benchmark(as_of, phase=phase, la_code=code, folder=dfe_dir)
        name = f"benchmark-{n}.parquet"
        with atomic_path(out / name) as tmp:
            b.table.to_parquet(tmp, index=False)
        benches.append({"phase": phase, "la_code": code, "table": name, "notes": list(b.notes),
                        "la_name": b.la_name, "region_name": b.region_name})
    meta: dict[str, Any] = {**_key(store, as_of, dfe_dir), "benchmarks": benches,
                            "note": "LA-wide aggregates and published figures only; no pupil "
                                    "data"}
    atomic_write_text(out / SHARED_FILE, json.dumps(meta, indent=1) + "\n")
    return out


def _meta(shared, key: dict[str, str]) -> dict | None:
    if not shared:
        return None
    path = Path(shared) / SHARED_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if any(meta.get(k) != v for k, v in key.items()):
        return None  # made for another store, date or DfE folder
    return meta


def la_headline(shared, store, as_of):
    """The LA's year-to-date headline (:func:`attendance_lib.views.la.la_headline`), read from
    the run's shared folder when it holds this store's figures for ``as_of``."""
    import pandas as pd

    from ..privacy import check_no_pupils
    from ..views import la

    if _meta(shared, _key(store, as_of)) is not None:
        try:
            frame = pd.read_parquet(Path(shared) / "la_headline.parquet")
        except (OSError, ValueError):
            frame = None
        if frame is not None:
            return check_no_pupils(frame, "la_headline")
    return la.la_headline(store, as_of)


def england_benchmark(shared, as_of, *, phase=None, la_code=None, folder=None):
    """The published comparison (:func:`attendance_lib.views.published.published_benchmark`),
    read from the run's shared folder when it holds this (phase, LA code, DfE folder)."""
    import pandas as pd

    from ..paths import dfe_dir
    from ..views import published

    folder_key = folder if folder is not None else dfe_dir()
    meta = _meta(shared, {"as_of": pd.Timestamp(as_of).date().isoformat(),
                          "dfe_dir": str(Path(folder_key).resolve())})
    for b in (meta or {}).get("benchmarks", []):
        if b["phase"] == phase and b["la_code"] == (None if la_code is None else str(la_code)):
            try:
                table = pd.read_parquet(Path(shared) / b["table"])
            except (OSError, ValueError):
                break
            return published.Benchmark(table, list(b["notes"]), la_name=b["la_name"],
                                       region_name=b["region_name"])
    return published.published_benchmark(as_of, phase=phase, la_code=la_code, folder=folder)
