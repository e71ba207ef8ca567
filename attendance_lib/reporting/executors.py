"""Where a run's report jobs execute: this machine's process pool, or a Dask cluster (issue 9).

An executor is a small interface: ``run(jobs, on_done)`` executes every job (plain data with
absolute paths, see :func:`.runner._jobs`) with :func:`.worker.execute_report` and calls
``on_done(job, record)`` in the calling process as each finishes; ``describe()`` says what ran
them, for the manifest. Everything else -- checks, manifest, index, progress bar, failure
table, exit status -- is the runner's and identical for every executor.

* :class:`LocalExecutor` (``--executor local``, the default): a pool of ``spawn`` worker
  processes on this machine (:func:`.runner._execute_all`).
* :class:`DaskExecutor` (``--executor dask [--scheduler tcp://host:8786]``): the same jobs as
  Dask ``distributed`` tasks, on an existing cluster or, with no address, on a
  ``LocalCluster`` of ``workers`` single-threaded worker processes started for the run.
  A worker process that dies (out of memory, killed) is reported by Dask as ``KilledWorker``
  once the scheduler gives up on that task (``distributed.scheduler.allowed-failures``,
  1 for the run's own LocalCluster): the report is recorded as failed ("WorkerCrashed") and
  the others carry on; the nanny restarts the worker.

The store is Parquet files plus DuckDB views rebuilt from them, and each job names the store,
templates and output files by absolute path: on a cluster, **the store, the templates folder,
the DfE folder and the output folder must be on storage every worker sees at the same path**
(a shared file system), and every worker needs attendance-suite installed in the same version.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["Executor", "LocalExecutor", "DaskExecutor", "make_executor", "EXECUTORS"]

EXECUTORS = ("local", "dask")

OnDone = Callable[[dict, dict], None]


class Executor:
    """Runs report jobs; see the module docstring. ``open()`` (before the run's folder is
    made: a cluster that cannot be reached stops the run before anything is written),
    ``run()``, then ``close()``."""

    name = "executor"

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def run(self, jobs: list[dict[str, Any]], on_done: OnDone) -> None:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}


class LocalExecutor(Executor):
    """This machine's pool of ``workers`` spawn processes (or this process: ``in_process``)."""

    name = "local"

    def __init__(self, workers: int, in_process: bool = False):
        self.workers = workers
        self.in_process = in_process

    def run(self, jobs, on_done) -> None:
        from .runner import _execute_all

        _execute_all(jobs, self.workers, on_done, in_process=self.in_process)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "scheduler": None, "workers": self.workers,
                "in_process": self.in_process}


def _failed(job: dict, ename: str, evalue: str) -> dict[str, Any]:
    from .runner import _failed_record

    return _failed_record(job, ename, evalue)


class DaskExecutor(Executor):
    """The jobs as tasks on a Dask ``distributed`` cluster (``scheduler`` address), or on a
    ``LocalCluster`` of ``workers`` processes made for the run when no address is given."""

    name = "dask"

    def __init__(self, workers: int, scheduler: str | None = None,
                 connect_timeout: str = "30s"):
        self.workers = workers
        self.scheduler = scheduler or None
        self.connect_timeout = connect_timeout
        self.address: str | None = None  # the scheduler actually used
        self._client = self._cluster = None

    def open(self) -> None:
        """Connect to the scheduler, or start the run's LocalCluster."""
        import dask
        from distributed import Client, LocalCluster

        if self._client is not None:
            return
        if self.scheduler:
            try:
                self._client = Client(self.scheduler, timeout=self.connect_timeout)
            except (OSError, TimeoutError) as exc:
                from .runner import ReportingError

                raise ReportingError(f"cannot reach the Dask scheduler at {self.scheduler} "
                                     f"({exc})") from None
        else:
            with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                                  "distributed.scheduler.worker-saturation": 1.0}):
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                             processes=True, dashboard_address=None,
                                             silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
        self.address = self._client.scheduler.address

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def run(self, jobs, on_done) -> None:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        from .dask_plugin import WarmWorker
        from .worker import execute_report

        self.open()
        client = self._client
        try:
            client.register_plugin(WarmWorker())
        except Exception:  # noqa: BLE001 - warming up is an optimisation only
            logging.getLogger(__name__).warning("could not warm up the Dask workers")
        token = uuid.uuid4().hex[:8]
        futures = {}
        try:
            for job in jobs:  # submitted in order: LA reports first, as in the local pool
                fut = client.submit(execute_report, job, key=f"report-{token}-{job['id']}",
                                    pure=False, retries=0)
                futures[fut] = job
            for fut in as_completed(list(futures)):
                job = futures.pop(fut)
                try:
                    rec = fut.result()
                except KilledWorker:
                    from .runner import WORKER_DIED

                    rec = _failed(job, "WorkerCrashed", WORKER_DIED)
                except Exception as exc:  # noqa: BLE001 - e.g. a job a worker cannot import
                    rec = _failed(job, type(exc).__name__, str(exc))
                on_done(job, rec)
        except BaseException:
            for fut in list(futures):
                fut.cancel()
            raise

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "scheduler": self.scheduler or "LocalCluster",
                "address": self.address,
                "workers": None if self.scheduler else self.workers}


def make_executor(name: str | None, workers: int, scheduler: str | None = None,
                  in_process: bool = False) -> Executor:
    """The executor called ``name`` ("local" or "dask"; default local)."""
    name = (name or "local").lower()
    if name == "local":
        if scheduler:
            from .runner import ReportingError

            raise ReportingError("--scheduler is for --executor dask")
        return LocalExecutor(workers, in_process=in_process)
    if name == "dask":
        return DaskExecutor(workers, scheduler)
    from .runner import ReportingError

    raise ReportingError(f"unknown executor {name!r}: use one of {', '.join(EXECUTORS)}")
