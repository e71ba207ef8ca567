"""Early warning: ``attendance model train | evaluate | score``, the model artefact's checks, and
the LA's model report notebook, on a small three-year synthetic LA."""

import csv
import json

import pandas as pd
import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from attendance_lib.early_warning import artefact
from attendance_lib.early_warning.cli import register
from attendance_lib.early_warning.features import FEATURE_VERSION, build_features
from attendance_lib.early_warning.points import POINTS, school_calendar
from attendance_lib.paths import repo_root
from attendance_lib.store import Store
from attendance_lib.synth import generate_la

AS_OF = "2024-10-25"  # October half-term 2024/25 in the generator's LA calendar

app = typer.Typer()
register(app)
runner = CliRunner()


@pytest.fixture(scope="module")
def small_la(tmp_path_factory):
    root = tmp_path_factory.mktemp("ew_cli")
    la = generate_la(root / "la", pupils=1800, years=3, as_of="2025-07-31", seed=5)
    store = Store(root / "store")
    store.ingest(**la.ingest_kwargs())
    return store, la, root


@pytest.fixture(scope="module")
def model_dir(small_la):
    store, _, root = small_la
    out = root / "model"
    res = runner.invoke(app, ["model", "train", "--store", str(store.root), "--as-of", AS_OF,
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "trained" in res.output
    return out


def test_train_writes_model_and_card(model_dir):
    card = json.loads((model_dir / "model_card.json").read_text())
    assert card["point"] == "october_half_term"
    assert card["training_as_of"] == {"2022/23": "2022-10-21", "2023/24": "2023-10-20"}
    assert card["feature_version"] == FEATURE_VERSION
    assert card["characteristics"] is False
    assert "fsm" not in card["features"] and "absence_pct" in card["features"]
    assert card["chosen"] in ("logistic", "boosting")
    assert card["backtest"]["test_year"] == "2023/24"
    assert card["code_version"]["package"]
    md = (model_dir / "model_card.md").read_text()
    assert "Training years and dates: 2022/23 as of 2022-10-21" in md


def test_evaluate_json_has_model_and_baselines(small_la):
    store, _, _ = small_la
    res = runner.invoke(app, ["model", "evaluate", "--store", str(store.root), "--as-of",
                              "2025-07-31", "--points", "october_half_term", "--bootstrap",
                              "20", "--k", "15", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["test_year"] == "2024/25" and out["training_years"] == ["2022/23", "2023/24"]
    (pt,) = out["points"]
    assert pt["point"] == "october_half_term" and pt["as_of"] == AS_OF
    pop = pt["populations"]["all"]
    assert set(pop["baselines"]) == {"below_90_ytd", "pa_last_year", "rate_plus_spells",
                                     "either_rule"}
    for block in [pop["model"], *pop["baselines"].values()]:
        for metric in ("roc_auc", "average_precision", "precision_top5", "precision_top10",
                       "precision_top20", "recall_top10", "precision_top_k15"):
            v = block[metric]
            assert 0 <= v["estimate"] <= 1
            assert v["low"] <= v["estimate"] <= v["high"]
    assert 0 <= pop["model"]["ece"]["estimate"] <= 1
    assert "ece" not in pop["baselines"]["below_90_ytd"]


def test_score_one_row_per_pupil_on_roll(small_la, model_dir, tmp_path):
    store, la, _ = small_la
    out = tmp_path / "scores.csv"
    res = runner.invoke(app, ["model", "score", "--store", str(store.root), "--model",
                              str(model_dir), "--as-of", AS_OF, "--out", str(out)])
    assert res.exit_code == 0, res.output
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["upn", "urn", "risk", "rank_in_school", "reasons"]
    df = pd.DataFrame(rows).astype({"risk": float, "rank_in_school": int})
    # on roll on the date: enrolments with a mark on the as-of day itself (independent count)
    marks = store.query("SELECT DISTINCT upn, urn FROM marks WHERE date = ?", [AS_OF])
    assert len(df) == len(marks)
    assert set(zip(df["upn"], df["urn"], strict=True)) == set(
        zip(marks["upn"], marks["urn"], strict=True))
    for _, g in df.groupby("urn"):
        g = g.sort_values("rank_in_school")
        assert g["rank_in_school"].tolist() == list(range(1, len(g) + 1))
        assert g["risk"].is_monotonic_decreasing
    assert (df["risk"].between(0, 1)).all()
    # the whole list as a workbook, one sheet per school
    xlsx = tmp_path / "lists.xlsx"
    res = runner.invoke(app, ["model", "score", "--store", str(store.root), "--model",
                              str(model_dir), "--as-of", AS_OF, "--out", str(xlsx)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(xlsx)
    assert len(wb.sheetnames) == df["urn"].nunique()


def test_scoring_refuses_an_incompatible_model(small_la, model_dir, tmp_path):
    store, _, _ = small_la
    bad = tmp_path / "bad_model"
    bad.mkdir()
    (bad / "model.joblib").write_bytes((model_dir / "model.joblib").read_bytes())
    card = json.loads((model_dir / "model_card.json").read_text())
    card["feature_version"] = "0"
    (bad / "model_card.json").write_text(json.dumps(card))
    with pytest.raises(artefact.ModelArtefactError, match="features version"):
        artefact.load_model(bad)
    res = runner.invoke(app, ["model", "score", "--store", str(store.root), "--model", str(bad),
                              "--as-of", AS_OF, "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2
    assert "features version" in res.output and "Traceback" not in res.output
    card["feature_version"] = FEATURE_VERSION
    card["features"] = card["features"][:-1] + ["something_else"]
    (bad / "model_card.json").write_text(json.dumps(card))
    with pytest.raises(artefact.ModelArtefactError, match="do not match"):
        artefact.load_model(bad)
    card = json.loads((model_dir / "model_card.json").read_text())
    (bad / "model_card.json").write_text(json.dumps(card))
    (bad / "model.joblib").write_bytes((model_dir / "model.joblib").read_bytes() + b"x")
    with pytest.raises(artefact.ModelArtefactError, match="does not match its model card"):
        artefact.load_model(bad)
    with pytest.raises(artefact.ModelArtefactError, match="does not use pupil characteristics"):
        artefact.load_model(model_dir, characteristics=True)


def test_user_mistakes_get_one_line(small_la, tmp_path):
    store, _, _ = small_la
    res = runner.invoke(app, ["model", "train", "--store", str(store.root), "--as-of",
                              "2024-13-01", "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "not a date" in res.output
    res = runner.invoke(app, ["model", "train", "--store", str(tmp_path / "nowhere"),
                              "--as-of", AS_OF, "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "no store here" in res.output
    # the first year has no earlier complete year to learn from
    res = runner.invoke(app, ["model", "train", "--store", str(store.root), "--as-of",
                              "2022-10-21", "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "no complete academic year" in res.output
    res = runner.invoke(app, ["model", "evaluate", "--store", str(store.root), "--as-of",
                              "2025-07-31", "--points", "midsummer"])
    assert res.exit_code == 2 and "unknown midsummer" in res.output
    res = runner.invoke(app, ["model", "score", "--store", str(store.root), "--model",
                              str(tmp_path / "none"), "--as-of", AS_OF, "--out",
                              str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "no such model folder" in res.output
    assert all("Traceback" not in r for r in [res.output])


def test_evaluation_points_of_the_generated_calendar(small_la):
    store, la, _ = small_la
    cal = school_calendar(store, la.term_dates)
    terms = pd.read_csv(la.term_dates)
    t24 = terms[terms["academic_year"] == "2024/25"].set_index("half_term")
    got = cal.points(2024)
    assert list(got) == list(POINTS)
    assert got["october_half_term"].isoformat() == t24.loc[1, "end"]
    assert got["christmas"].isoformat() == t24.loc[2, "end"]
    assert got["february_half_term"].isoformat() == t24.loc[3, "end"]
    assert got["easter"].isoformat() == t24.loc[4, "end"]
    assert got["end_september"].month == 9
    # inferred from the registers alone, the half-term ends are the same
    inferred = school_calendar(store)
    assert inferred.point(2024, "october_half_term") == got["october_half_term"]
    assert inferred.same_point(got["easter"], 2023).isoformat() == terms[
        terms["academic_year"] == "2023/24"].set_index("half_term").loc[4, "end"]
    # the population on a date is whoever has marks then
    f = build_features(store, got["october_half_term"], calendar=cal)
    assert len(f) > 1000


# ----------------------------------------------------------------------------- the notebook


def test_model_report_notebook(small_la, model_dir, kernel_env, tmp_path):
    papermill = pytest.importorskip("papermill")
    store, _, _ = small_la
    out = tmp_path / "early_warning.ipynb"
    papermill.execute_notebook(
        str(repo_root() / "notebooks" / "early_warning.ipynb"), str(out),
        parameters={"store": str(store.root), "as_of": "2025-07-31",
                    "model_dir": str(model_dir), "suppress_below": 5},
        kernel_name=kernel_env, cwd=str(repo_root()), progress_bar=False)
    nb = json.loads(out.read_text())
    text = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    # the fairness audit ran and its groups add up to the overall figures
    assert "add up to the overall figures" in text and "**yes**" in text
    for table in ("precision-all", "precision-not-yet", "calibration", "fairness-model",
                  "characteristics", "drivers"):
        assert f'id=\\"{table}\\"' in text, table
    assert "image/png" in text
    # an LA-wide report lists no pupil
    upns = store.query("SELECT DISTINCT upn FROM pupils")["upn"]
    assert not any(u in text for u in upns)
