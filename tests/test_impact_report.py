"""The intervention-impact report: ``attendance impact`` and the notebook, on a small LA."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from attendance_lib.impact.cli import register
from attendance_lib.impact.panel import ImpactError, weekly_panel
from attendance_lib.impact.report import check_params
from attendance_lib.paths import repo_root
from attendance_lib.store import Store
from attendance_lib.synth import generate_la
from tests.conftest import UPN, URN_A

DESIGNS = ["naive_before_after", "matched_did", "event_study", "placebo", "year_end_pa"]


@pytest.fixture(scope="module")
def la(tmp_path_factory):
    """1,500 pupils, 2024/25 up to 31 March 2025 (mentoring, early help, contracts, notices)."""
    tmp = tmp_path_factory.mktemp("impact_report")
    res = generate_la(tmp / "la", pupils=1500, years=1, as_of="2025-03-31", seed=3)
    store = Store(tmp / "store")
    store.ingest(**res.ingest_kwargs())
    store.close()
    return res, tmp / "store"


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main():  # a group, so the command is invoked by name as under ``attendance``
        pass

    register(app)
    return app


def test_cli_json_rows(la):
    res, store = la
    r = CliRunner().invoke(_app(), ["impact", "--store", str(store), "--type", "mentoring",
                                    "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [x["design"] for x in rows] == DESIGNS
    assert all(list(x) == ["type", "design", "estimate_pp", "ci_low", "ci_high", "n_treated",
                           "n_comparison"] for x in rows)
    assert {x["type"] for x in rows} == {"mentoring"}
    did = rows[1]
    assert did["ci_low"] <= did["estimate_pp"] <= did["ci_high"] and did["n_comparison"] > 0
    # the naive row, worked out independently from the weekly panel: per intervention, absence
    # over weeks 0..9 minus weeks -10..-1, for pupils with 10+ possible sessions before
    p = weekly_panel(Store(store), weeks_before=10, weeks_after=10, types="mentoring")
    p["after"] = p["rel_week"] >= 0
    g = p.groupby(["episode", "after"])[["absent", "possible"]].sum().unstack()
    ok = (g[("possible", False)] >= 10) & (g[("possible", True)] > 0)
    rate = 100 * g["absent"] / g["possible"]
    change = (rate[True] - rate[False])[ok]
    naive = rows[0]
    assert naive["design"] == "naive_before_after" and naive["n_treated"] == len(change)
    assert naive["estimate_pp"] == pytest.approx(change.mean())


def test_cli_table(la):
    _, store = la
    r = CliRunner().invoke(_app(), ["impact", "--store", str(store), "--type", "penalty_notice",
                                    "--window-weeks", "6"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert lines[0].split() == ["type", "design", "estimate_pp", "ci_low", "ci_high",
                                "n_treated", "n_comparison"]
    assert [ln.split()[1] for ln in lines[1:]] == DESIGNS


def test_cli_errors_are_one_line(la, tmp_path, register_builder):
    _, store = la
    runner = CliRunner()
    r = runner.invoke(_app(), ["impact", "--store", str(store), "--type", "tutoring"])
    assert r.exit_code == 2
    assert r.stderr.strip().startswith("error: unknown intervention type 'tutoring'")
    assert len(r.stderr.strip().splitlines()) == 1
    r = runner.invoke(_app(), ["impact", "--store", str(tmp_path / "nowhere")])
    assert r.exit_code == 2 and "no store here" in r.stderr
    r = runner.invoke(_app(), ["impact", "--store", str(store), "--format", "xml"])
    assert r.exit_code == 2 and "--format" in r.stderr
    reg = register_builder.school(URN_A).pupil(UPN[0], URN_A, admission="2024-09-02")
    reg.repeat(UPN[0], URN_A, "2024-09-02", "/ \\", 5)
    empty = reg.ingest()
    r = runner.invoke(_app(), ["impact", "--store", str(empty.root)])
    assert r.exit_code == 2
    assert r.stderr.strip() == (f"error: {empty.root}: the store holds no interventions; load "
                                f"an intervention log with 'attendance ingest --interventions "
                                f"FILE'")


def test_notebook_parameters_are_checked(la, tmp_path):
    _, store = la
    p = check_params(store=str(store), as_of="2025-02-28", window_weeks=8,
                     intervention_type="Early Help", suppress_below=10)
    assert (p.window_weeks, p.intervention_type, p.suppress_below) == (8, "early_help", 10)
    assert str(p.as_of) == "2025-02-28"
    for kw, msg in (({"as_of": "28/02/2025"}, "as_of"), ({"window_weeks": 0}, "window_weeks"),
                    ({"window_weeks": 2.5}, "window_weeks"), ({"suppress_below": -1},
                                                              "suppress_below")):
        with pytest.raises(ImpactError, match=msg):
            check_params(store=str(store), **kw)
    with pytest.raises(ImpactError, match="store"):
        check_params(store=str(tmp_path / "none"))




def test_notebook_runs_and_lists_no_pupil(la, kernel_env, tmp_path):
    papermill = pytest.importorskip("papermill")
    res, store = la
    out = tmp_path / "impact.ipynb"
    papermill.execute_notebook(
        str(repo_root() / "notebooks" / "intervention_impact.ipynb"), str(out),
        parameters={"store": str(store), "as_of": "", "window_weeks": 10,
                    "intervention_type": "", "suppress_below": 5},
        kernel_name=kernel_env, cwd=str(repo_root()), progress_bar=False)
    nb = json.loads(out.read_text())
    text = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    assert "percentage points" in text and "regression to the mean" in text
    assert "image/png" in text  # the event-study plots
    assert "Traceback" not in text and "Warning" not in text
    pupils = pd.read_csv(res.pupils, dtype=str)
    leaked = [u for u in pupils["upn"] if u in text] + [n for n in pupils["name"] if n in text]
    assert not leaked


def test_template_is_stored_without_outputs():
    nb = json.loads((repo_root() / "notebooks" / "intervention_impact.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    params = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1
    names = {line.split("=")[0].strip() for line in "".join(params[0]["source"]).splitlines()
             if "=" in line and not line.startswith("#")}
    assert names == {"store", "as_of", "window_weeks", "intervention_type", "suppress_below",
                     "dfe_dir", "pseudonymise", "pseudonym_key"}
    assert np.all([not c.get("outputs") for c in code])
