"""What every ``attendance`` command shares: a user's mistake is one line on standard error and
a non-zero exit status, never a traceback (DEVELOPERS.md, "Standards")."""

from __future__ import annotations

import functools

import typer

__all__ = ["fail", "user_errors"]


def fail(message: str, code: int = 2) -> None:
    """Print ``error: message`` to standard error and exit with ``code`` (2: a usage or data
    problem; 130: interrupted)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def user_errors(*extra: type[BaseException]):
    """Decorator for a command: the library's user-facing exceptions (a bad input file, a
    missing store, a bad date, and any of ``extra``) become :func:`fail` messages."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            from .calendar import CalendarError
            from .io._common import InputFileError
            from .store import StoreError

            try:
                return fn(*args, **kwargs)
            except (InputFileError, StoreError, CalendarError, *extra) as exc:
                fail(str(exc))
            except KeyboardInterrupt:
                fail("interrupted", 130)

        return wrapper

    return decorate
