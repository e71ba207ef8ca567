"""Dask worker plugin for report runs (imported only with ``--executor dask``)."""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["WarmWorker"]


class WarmWorker(WorkerPlugin):
    """Import the report libraries once per Dask worker (:func:`.worker.init_worker`), as the
    local pool's initializer does, so the first report on each worker is not slower."""

    idempotent = True
    name = "attendance-suite-warm"

    def setup(self, worker):  # noqa: ARG002
        from .worker import init_worker

        init_worker()
