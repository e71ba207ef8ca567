"""Every notebook template runs top to bottom under papermill on a small synthetic LA.

The kernel is pinned to this interpreter through a kernelspec written into a temporary
JUPYTER_PATH, so the notebook can never run on some other Python (papermill #251, #408).
"""

import json

import pytest

from attendance_lib.paths import repo_root

papermill = pytest.importorskip("papermill")





def test_synthetic_calibration_notebook(kernel_env, tmp_path):
    out = tmp_path / "calibration.ipynb"
    papermill.execute_notebook(
        str(repo_root() / "notebooks" / "synthetic_calibration.ipynb"), str(out),
        parameters={"la_dir": str(tmp_path / "la"), "pupils": 2500, "years": 2,
                    "as_of": "2025-11-14", "seed": 7},
        kernel_name=kernel_env, cwd=str(repo_root()), progress_bar=False)
    nb = json.loads(out.read_text())
    text = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    # the comparison table and the figure were produced
    assert "published" in text.lower()
    assert "image/png" in text
    assert (tmp_path / "la" / "ground_truth" / "effects.json").exists()
