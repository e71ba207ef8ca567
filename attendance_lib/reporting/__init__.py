"""Report runs: notebook templates executed per school and for the LA, exported to HTML.

>>> from attendance_lib.reporting import run_batch          # doctest: +SKIP
>>> result = run_batch(store="data/store", schools=["100001"], workers=2)  # doctest: +SKIP
>>> result.index, result.ok                                 # doctest: +SKIP

See :mod:`.runner` (the batch), :mod:`.executors` (this machine's process pool or a Dask
cluster), :mod:`.inprocess` (warm workers: one in-process kernel each, fresh namespace per
notebook), :mod:`.shared` (LA-wide figures computed once per run), :mod:`.params` (the strict
YAML), :mod:`.kernel` (the project's Jupyter kernel), :mod:`.html` (code-free, self-contained
HTML), :mod:`.manifest` and :mod:`.index`. The command line is ``attendance report``
(:mod:`.cli`).
"""

from .params import ParamsError, load_params
from .runner import (
    TEMPLATE_PARAMETERS,
    TEMPLATES,
    ReportingError,
    ReportRecord,
    RunResult,
    failure_table,
    run_batch,
)

__all__ = ["run_batch", "RunResult", "ReportRecord", "ReportingError", "ParamsError",
           "load_params", "failure_table", "TEMPLATES", "TEMPLATE_PARAMETERS"]
