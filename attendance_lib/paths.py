"""Where things live: the repository root, the published DfE data, the default store.

Everything is resolved from this file's location, with environment overrides; nothing is read
or created at import.

* ``ATTENDANCE_DFE_DIR`` -- the published DfE statistics (default ``<repo>/../shared/data/dfe``);
* ``ATTENDANCE_STORE`` -- the default store folder (default ``<repo>/data/store``);
* ``ATTENDANCE_REPORTS`` -- where report runs go (default ``<repo>/reports``).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["repo_root", "dfe_dir", "default_store_dir", "reports_dir", "params_dir",
           "sample_dir"]


def repo_root() -> Path:
    """The checkout's top folder (the parent of the ``attendance_lib`` package)."""
    return Path(__file__).resolve().parent.parent


def dfe_dir() -> Path:
    """Folder holding the published DfE files (``ATTENDANCE_DFE_DIR`` overrides)."""
    env = os.environ.get("ATTENDANCE_DFE_DIR")
    return Path(env).resolve() if env else (repo_root().parent / "shared" / "data" / "dfe")


def default_store_dir() -> Path:
    env = os.environ.get("ATTENDANCE_STORE")
    return Path(env).resolve() if env else repo_root() / "data" / "store"


def reports_dir() -> Path:
    env = os.environ.get("ATTENDANCE_REPORTS")
    return Path(env).resolve() if env else repo_root() / "reports"


def params_dir() -> Path:
    return repo_root() / "params"


def sample_dir() -> Path:
    """The small synthetic sample register committed under ``data/sample``."""
    return repo_root() / "data" / "sample"
