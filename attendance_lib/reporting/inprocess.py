"""Execute a report notebook on an in-process IPython kernel in a warm worker (issue 9).

Starting a Jupyter kernel and importing pandas, matplotlib and DuckDB in it costs about 1.6 s
per notebook, more than most reports take to compute. A batch worker therefore keeps **one
in-process kernel** (``ipykernel.inprocess``) for its lifetime and runs each notebook on it
through papermill/nbclient, so the libraries are imported once per worker, not once per report.

Privacy between reports (product.md, "Privacy") does not rely on the notebooks' goodwill:

* **fresh user namespace per notebook**: before and after each notebook the shell is reset
  (``InteractiveShell.reset``: every user variable, the ``Out``/``_`` output caches and the
  input history go; the display hook's references to the last outputs are dropped) and
  checked to hold nothing but IPython's own names; open matplotlib figures are closed and
  matplotlib settings a notebook changed are put back; the execution counter restarts at 1,
  so ``In [n]`` numbers are those of a fresh kernel;
* one notebook at a time per process (a lock: the shell and ``sys.stdout`` are per process),
  so a Dask worker with several threads still runs its reports one after another;
* the library keeps no cache keyed only by function arguments that could hand one school's
  rows to another (its only caches hold published DfE tables and code sets).

Limits the in-process kernel cannot enforce by itself, handled here:

* **cell timeout**: nbclient's timeout cannot fire while the cell runs in the same thread, so
  a watchdog raises :class:`CellTimeout` inside the running cell when it exceeds
  ``cell_timeout`` (an asynchronous exception in the thread running the cell); the error is
  recorded with its cell like any other. A cell stuck in C code (a sleep, a query) that does
  not return to Python within a further :data:`HARD_KILL_GRACE` seconds gets its worker
  process ended (``os._exit``): the runner reports that report as ``WorkerCrashed`` and
  carries on with a new worker.
* **a crash** (segfault, out-of-memory kill) takes the worker down with it: the runner reports
  the report that was running there and starts a new worker (see :mod:`.runner`).
* IPython's history database is switched off (``HistoryManager.enabled = False``): no
  history file holds one report's code or values for the next.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from pathlib import Path
from typing import Any

__all__ = ["CellTimeout", "execute_in_process", "HARD_KILL_GRACE"]

#: seconds a timed-out cell may ignore the timeout before its worker process is ended
HARD_KILL_GRACE = 30.0

_LOCK = threading.Lock()
_KM = None  # this process's in-process kernel manager (one kernel, reused)
_RC: dict | None = None  # matplotlib settings as a fresh kernel has them


class CellTimeout(TimeoutError):  # noqa: N818 - the name shown in the failure table
    """A cell ran longer than the run's ``cell_timeout``."""

    def __init__(self, *args):
        super().__init__(*(args or ("the cell ran longer than the run's cell timeout",)))


def _classes():
    from ipykernel.inprocess.blocking import BlockingInProcessKernelClient
    from ipykernel.inprocess.manager import InProcessKernelManager
    from traitlets import DottedObjectName

    class Client(BlockingInProcessKernelClient):
        """nbclient passes ``timeout`` to ``wait_for_ready``; the in-process kernel is ready
        at once (ipykernel's own version waits 0.4 s and prints every message it drains)."""

        def wait_for_ready(self, timeout=None):
            from queue import Empty

            self.kernel_info()
            msg = self.shell_channel.get_msg(block=True, timeout=timeout or 60)
            self._handle_kernel_info_reply(msg)
            while True:
                try:
                    self.iopub_channel.get_msg(block=False)
                except Empty:
                    break

    class Manager(InProcessKernelManager):
        """``shutdown_kernel(now=...)`` as nbclient calls it."""

        client_class = DottedObjectName(f"{__name__}._Client")

        def shutdown_kernel(self, now=False, restart=False):  # noqa: ARG002
            return super().shutdown_kernel()

    return Manager, Client


_Manager = _Client = None


def _manager():
    """The process's kernel manager, its kernel started (once)."""
    global _KM, _Manager, _Client
    if _KM is None:
        if _Manager is None:
            _Manager, _Client = _classes()
        from traitlets.config import Config

        c = Config()
        c.HistoryManager.enabled = False  # no sqlite history shared between reports
        c.HistoryManager.hist_file = ":memory:"
        km = _Manager(config=c)
        km.start_kernel()
        # as a kernel process does (ipykernel sets MPLBACKEND to the inline backend): charts
        # a notebook draws are shown in its output without ``%matplotlib inline``
        global _RC
        try:
            km.kernel.shell.enable_matplotlib("inline")
            import matplotlib

            _RC = dict(matplotlib.rcParams)  # restored after each notebook
        except Exception:  # noqa: BLE001 - no matplotlib: nothing to show anyway
            pass
        _KM = km
    return _KM


def _shell():
    return _manager().kernel.shell


#: names IPython itself puts in a fresh user namespace
_IPYTHON_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython", "open", "_ih", "_oh",
                            "_dh", "_", "__", "___", "_i", "_ii", "_iii", "_i1", "__name__",
                            "__builtin__", "__builtins__", "__doc__", "__loader__", "__spec__",
                            "__package__", "_sh"})


def _reset() -> None:
    """Forget everything the last notebook made: variables, output caches, figures."""
    shell = _shell()
    # IPython's reset flushes the output cache with a full gc.collect(): 0.3-0.5 s per call
    # with pandas and matplotlib loaded, more than many report cells. Do that flush's work
    # here without the collection (Python's own collector still frees any cycles): the
    # history manager's reset empties Out/_oh and the input history, and the display hook's
    # own references to the last three outputs (``_``, ``__``, ``___``, which it would copy
    # into the next notebook's namespace) are dropped.
    hook = shell.displayhook
    for name in ("_", "__", "___"):
        setattr(hook, name, "")
    full_cache = hook.do_full_cache
    hook.do_full_cache = 0
    try:
        shell.reset(new_session=False)
    finally:
        hook.do_full_cache = full_cache
    shell.execution_count = 1
    left = {k for k in shell.user_ns if k not in _IPYTHON_NAMES}
    for k in left:  # never expected; never let one through
        del shell.user_ns[k]
    if "In" in shell.user_ns:
        del shell.user_ns["In"][1:]
    try:
        import matplotlib
        import matplotlib.pyplot as plt

        plt.close("all")
        if _RC is not None and dict(matplotlib.rcParams) != _RC:  # a notebook changed them
            matplotlib.rcParams.update(_RC)
    except ImportError:  # pragma: no cover
        pass


def _grace() -> float:
    """:data:`HARD_KILL_GRACE`, or ``ATTENDANCE_REPORT_KILL_GRACE`` seconds from the
    environment (tests)."""
    try:
        return float(os.environ.get("ATTENDANCE_REPORT_KILL_GRACE", HARD_KILL_GRACE))
    except ValueError:
        return HARD_KILL_GRACE


class _Watchdog:
    """Raise :class:`CellTimeout` in the thread running a cell when it runs too long.

    The in-process kernel runs each cell in a helper thread (jupyter_core's task runner), not
    the thread that called papermill, so the timer is armed and disarmed by IPython's
    ``pre_run_cell`` / ``post_run_cell`` events, which fire in that thread; on expiry the
    exception is raised there asynchronously (``PyThreadState_SetAsyncExc``), where IPython
    reports it as the cell's error.
    """

    def __init__(self, shell, timeout: float | None):
        self.shell = shell
        self.timeout = timeout
        self.thread_id: int | None = None
        self._timer: threading.Timer | None = None
        self._killer: threading.Timer | None = None

    def _fire(self) -> None:
        if self.thread_id is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread_id),
                                                       ctypes.py_object(CellTimeout))
        self._killer = threading.Timer(_grace(), self._kill)
        self._killer.daemon = True
        self._killer.start()

    @staticmethod
    def _kill() -> None:  # the cell ignored the timeout: end the worker (reported as crashed)
        os._exit(70)

    def start_cell(self, *_: Any) -> None:
        self.stop_cell()
        self.thread_id = threading.get_ident()
        # ipykernel 7's in-process kernel swaps in its output streams after setting the
        # request's parent header, so printed text and warnings would carry no parent and
        # nbclient would drop them: give them the cell's header
        header = getattr(self.shell, "parent_header", None)
        for stream in (sys.stdout, sys.stderr):
            if header and hasattr(stream, "set_parent"):
                stream.set_parent(header)
        if self.timeout:
            self._timer = threading.Timer(self.timeout, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def stop_cell(self, *_: Any) -> None:
        for t in (self._timer, self._killer):
            if t is not None:
                t.cancel()
        self._timer = self._killer = None

    def __enter__(self):
        self.shell.events.register("pre_run_cell", self.start_cell)
        self.shell.events.register("post_run_cell", self.stop_cell)
        return self

    def __exit__(self, *exc):
        self.stop_cell()
        for name, fn in (("pre_run_cell", self.start_cell), ("post_run_cell", self.stop_cell)):
            try:
                self.shell.events.unregister(name, fn)
            except ValueError:  # pragma: no cover
                pass
        return False


def execute_in_process(job: dict[str, Any], output: Path):
    """Run ``job``'s notebook with papermill on this process's in-process kernel; write
    ``output``; return the executed notebook (raises ``PapermillExecutionError`` as papermill
    does when a cell fails)."""
    import papermill

    with _LOCK:
        km = _manager()
        _reset()
        dog = _Watchdog(_shell(), job.get("cell_timeout"))
        try:
            with dog:
                return papermill.execute_notebook(
                    job["template"], str(output), parameters=job["parameters"],
                    kernel_name=job["kernel"], progress_bar=False, cwd=job["cwd"],
                    request_save_on_cell_execute=False, log_output=False,
                    start_timeout=job.get("start_timeout", 60), km=km)
        finally:
            _reset()
