"""The project's own Jupyter kernel, and starting it reliably.

Papermill runs a notebook on the kernel named in its metadata unless told otherwise; inside a
virtual environment that gives ``NoSuchKernel`` or, worse, runs the code on some other Python
(papermill #251, #408). So the batch runner registers a kernelspec for *this* interpreter under
a name unique to the environment (two venvs registering the same name overwrite each other,
ipykernel #1132) and pins papermill's ``kernel_name`` to it (product.md, "Known pitfalls").

Launching kernels from several processes at once fails now and then: ``ZMQError: Address
already in use`` in about 5% of launches (papermill #511) and "Kernel didn't respond in 60
seconds" (papermill #239). :func:`with_launch_retry` retries those failures only; an error
raised by the notebook's own code is never retried.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["kernel_name", "kernel_spec", "kernel_dir", "ensure_kernel", "is_launch_failure",
           "with_launch_retry", "KernelLaunchError", "LAUNCH_ATTEMPTS"]

T = TypeVar("T")

#: how many times a kernel launch is tried before the report is marked failed
LAUNCH_ATTEMPTS = 3


class KernelLaunchError(RuntimeError):
    """The kernel would not start after every retry."""


def kernel_name(prefix: str | None = None) -> str:
    """``attendance-suite-<10 hex>``: unique to the environment (``sys.prefix``).

    >>> kernel_name("/a/.venv") == kernel_name("/a/.venv") != kernel_name("/b/.venv")
    True
    """
    prefix = str(Path(prefix or sys.prefix).resolve())
    return "attendance-suite-" + hashlib.sha256(prefix.encode()).hexdigest()[:10]


def kernel_spec(executable: str | None = None) -> dict:
    """The kernel.json for this interpreter (argv[0] is ``sys.executable``)."""
    exe = executable or sys.executable
    return {
        "argv": [exe, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"attendance-suite ({Path(sys.prefix).name}, "
                        f"Python {sys.version_info.major}.{sys.version_info.minor})",
        "language": "python",
        "metadata": {"debugger": False, "attendance_suite": {"prefix": sys.prefix}},
    }


def kernel_dir(name: str | None = None) -> Path:
    """``<sys.prefix>/share/jupyter/kernels/<name>``: on Jupyter's search path for this env."""
    return Path(sys.prefix) / "share" / "jupyter" / "kernels" / (name or kernel_name())


def ensure_kernel() -> str:
    """Register (or refresh) the project's kernelspec for this interpreter; return its name.

    Written under ``sys.prefix/share/jupyter/kernels`` (where ``jupyter kernelspec list`` and
    JupyterLab look for this environment's kernels). The file is replaced atomically and only
    when its content changes, so concurrent runs never see a half-written spec. If the
    environment is read-only the spec goes to the user's Jupyter data folder instead.
    """
    name = kernel_name()
    text = json.dumps(kernel_spec(), indent=1, sort_keys=True) + "\n"
    targets = [kernel_dir(name)]
    try:
        from jupyter_core.paths import jupyter_data_dir

        targets.append(Path(jupyter_data_dir()) / "kernels" / name)
    except ImportError:  # pragma: no cover - jupyter_core comes with ipykernel
        pass
    last: OSError | None = None
    for d in targets:
        path = d / "kernel.json"
        try:
            if path.exists() and path.read_text() == text:
                return name
            d.mkdir(parents=True, exist_ok=True)
            tmp = d / f".kernel.json.tmp-{uuid.uuid4().hex[:8]}"
            tmp.write_text(text)
            os.replace(tmp, path)
            return name
        except OSError as exc:
            last = exc
    raise KernelLaunchError(f"could not register the Jupyter kernel {name!r}: {last}")


_LAUNCH_MESSAGES = ("address already in use", "kernel didn't respond", "kernel died before",
                    "kernel did not respond", "timeout waiting for kernel_info")


def is_launch_failure(exc: BaseException) -> bool:
    """True for the transient kernel start-up failures worth another try.

    ZMQ port clashes (papermill #511), kernels that do not answer in time (#239) or die while
    starting. ``PapermillExecutionError`` (the notebook's own code failed) is never one.
    """
    try:
        from papermill.exceptions import PapermillExecutionError

        if isinstance(exc, PapermillExecutionError):
            return False
    except ImportError:  # pragma: no cover
        pass
    try:
        import zmq

        if isinstance(exc, zmq.ZMQError):
            return True
    except ImportError:  # pragma: no cover
        pass
    text = str(exc).lower()
    return isinstance(exc, RuntimeError | TimeoutError | OSError) and any(
        m in text for m in _LAUNCH_MESSAGES)


def with_launch_retry(fn: Callable[[], T], *, attempts: int = LAUNCH_ATTEMPTS,
                      delay: float = 0.5, on_retry: Callable[[int, BaseException], None]
                      | None = None) -> tuple[T, int]:
    """Call ``fn`` until it does not fail to launch its kernel; return (result, attempts used).

    Only :func:`is_launch_failure` errors are retried (with a short, growing pause); any other
    exception propagates at once. After ``attempts`` launch failures the last one is raised.
    """
    for attempt in range(1, attempts + 1):
        try:
            return fn(), attempt
        except Exception as exc:  # noqa: BLE001 - classified below
            if not is_launch_failure(exc) or attempt == attempts:
                if is_launch_failure(exc):
                    exc.add_note(f"the kernel failed to start {attempts} times")
                raise
            if on_retry is not None:
                on_retry(attempt, exc)
            time.sleep(delay * attempt)
    raise AssertionError("unreachable")  # pragma: no cover
