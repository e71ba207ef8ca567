"""``manifest.json`` of a report run: what went in, which code made it, what came out.

It records the run's parameters (the pseudonym key itself is never written, only whether one
was given), SHA-256 checksums of every file in the store and of the published DfE files and
templates used, the code version (package version and git commit, with a flag when the
checkout had uncommitted changes), the start and end time, and each report's status, duration
and error. With it a report can be traced to its exact inputs months later.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from .atomic import TMP_MARK, atomic_write_text

__all__ = ["code_version", "file_checksum", "folder_checksums", "write_manifest", "MANIFEST_NAME"]

MANIFEST_NAME = "manifest.json"
#: derived files in a store that are not inputs (rebuilt from the Parquet on every load)
_SKIP_SUFFIXES = (".duckdb", ".wal")


def file_checksum(path: Path) -> str:
    """SHA-256 of one file (hex)."""
    try:  # the loaders' cached hash, if the store was just written by this process
        from ..io._common import file_sha256

        return file_sha256(path)
    except ImportError:  # pragma: no cover
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            while block := fh.read(1 << 22):
                h.update(block)
        return h.hexdigest()


def folder_checksums(root: str | Path) -> dict[str, Any]:
    """Every file under ``root`` (relative path, bytes, sha256) and one digest of them all.

    DuckDB files (views rebuilt from the Parquet) and temporary files are left out.
    """
    root = Path(root)
    files = []
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if (not p.is_file() or TMP_MARK in p.name or p.name.endswith(_SKIP_SUFFIXES)
                    or p.name.startswith(".")):
                continue
            files.append({"path": p.relative_to(root).as_posix(), "bytes": p.stat().st_size,
                          "sha256": file_checksum(p)})
    digest = hashlib.sha256("\n".join(f"{f['path']} {f['sha256']}" for f in files).encode())
    return {"root": str(root), "files": files, "combined_sha256": digest.hexdigest()}


def _git(repo: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def code_version() -> dict[str, Any]:
    """Package version, git commit (and whether the checkout was modified), tool versions."""
    from importlib import metadata

    from .. import __version__
    from ..paths import repo_root

    repo = repo_root()
    commit = _git(repo, "rev-parse", "HEAD")
    # changed or new (untracked) files in the code and templates: the commit alone is not it
    status = _git(repo, "status", "--porcelain", "--", "attendance_lib", "notebooks",
                  "pyproject.toml") if commit else None
    versions = {}
    for dist in ("papermill", "nbconvert", "nbclient", "ipykernel", "pandas", "duckdb",
                 "matplotlib"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {"package": "attendance-suite", "version": __version__, "git_commit": commit,
            "git_modified": bool(status) if status is not None else None,
            "python": platform.python_version(), "executable": sys.executable,
            "dependencies": versions}


def write_manifest(run_dir: str | Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` atomically (it is rewritten after each report)."""
    return atomic_write_text(Path(run_dir) / MANIFEST_NAME,
                             json.dumps(manifest, indent=2, default=str) + "\n")
