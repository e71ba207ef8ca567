"""The trained model on disk, with its model card (issue 5 item 9).

One concept: a saved model that says what it is. A model folder holds

* ``model.joblib`` -- the fitted :class:`~.models.EarlyWarningClassifier`;
* ``model_card.json`` -- what scoring checks and reports read: training period (years and
  as-of dates), the point in the year, label, feature names and ``FEATURE_VERSION``, whether
  characteristics were used, chosen model, validation and back-test metrics, code version
  (package version, git commit), library versions, the model file's SHA-256;
* ``model_card.md`` -- the same for people.

:func:`load_model` refuses a model whose features differ from what this code computes (another
feature version, other feature names, a characteristics setting the caller did not expect), a
model file that does not match its card, or one pickled by another scikit-learn version. A
joblib file runs code when loaded: only load model folders you made or trust.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import uuid
from datetime import datetime
from pathlib import Path

import joblib
import sklearn

from attendance_lib.paths import repo_root

from .features import FEATURE_VERSION, feature_names

__all__ = ["ModelArtefactError", "save_model", "load_model", "code_version", "card_markdown"]

MODEL_FILE = "model.joblib"
CARD_JSON = "model_card.json"
CARD_MD = "model_card.md"
CARD_VERSION = 1


class ModelArtefactError(ValueError):
    """A model folder that is missing, damaged or incompatible with this code."""


def code_version() -> dict:
    """Package version and, when run from a git checkout, the commit and whether it has
    uncommitted changes (read-only git calls)."""
    import attendance_lib

    out = {"package": getattr(attendance_lib, "__version__", "unknown"), "git_commit": None,
           "git_dirty": None}
    root = repo_root()
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                 "attendance_lib"], check=True, capture_output=True, text=True,
                                timeout=10).stdout
        out.update(git_commit=commit, git_dirty=bool(status.strip()))
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def save_model(model, card: dict, out_dir: str | Path) -> Path:
    """Write the model and its card into ``out_dir`` (created); returns the folder.

    ``card`` holds the training facts (see :mod:`.train`); the versions, features and file
    checksum are added here.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f"{MODEL_FILE}.tmp-{uuid.uuid4().hex[:8]}"
    joblib.dump(model, tmp, compress=3)
    os.replace(tmp, out / MODEL_FILE)
    full = {
        "card_version": CARD_VERSION,
        "created": datetime.now().isoformat(timespec="seconds"),
        **card,
        "features": list(model.feature_names_in_),
        "feature_version": FEATURE_VERSION,
        "code_version": code_version(),
        "python": platform.python_version(),
        "scikit_learn": sklearn.__version__,
        "model_sha256": _sha256(out / MODEL_FILE),
    }
    (out / CARD_JSON).write_text(json.dumps(full, indent=2, default=str))
    (out / CARD_MD).write_text(card_markdown(full))
    return out


def load_model(model_dir: str | Path, *, characteristics: bool | None = None):
    """``(model, card)`` from a model folder, after every compatibility check (module doc)."""
    d = Path(model_dir)
    card_path, model_path = d / CARD_JSON, d / MODEL_FILE
    if not d.is_dir():
        raise ModelArtefactError(f"{d}: no such model folder (train one with "
                                 f"'attendance model train')")
    for p in (card_path, model_path):
        if not p.exists():
            raise ModelArtefactError(f"{d}: not a model folder ({p.name} is missing)")
    try:
        card = json.loads(card_path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelArtefactError(f"{card_path}: not valid JSON ({exc})") from exc
    if card.get("feature_version") != FEATURE_VERSION:
        raise ModelArtefactError(
            f"{d}: the model was trained on features version {card.get('feature_version')!r}; "
            f"this code computes version {FEATURE_VERSION!r}. Retrain it with "
            f"'attendance model train'")
    uses = bool(card.get("characteristics"))
    if characteristics is not None and uses != characteristics:
        raise ModelArtefactError(
            f"{d}: the model {'uses' if uses else 'does not use'} pupil characteristics as "
            f"features, but characteristics={characteristics} was asked for")
    expected = feature_names(uses)
    if card.get("features") != expected:
        extra = sorted(set(card.get("features", [])) - set(expected))
        missing = sorted(set(expected) - set(card.get("features", [])))
        raise ModelArtefactError(
            f"{d}: the model's features do not match the features this code computes "
            f"(not computed now: {extra or 'none'}; new: {missing or 'none'}). Retrain it")
    if _minor(card.get("scikit_learn", "")) != _minor(sklearn.__version__):
        raise ModelArtefactError(
            f"{d}: the model was saved by scikit-learn {card.get('scikit_learn')}; this is "
            f"{sklearn.__version__}. Retrain it with this version")
    if _sha256(model_path) != card.get("model_sha256"):
        raise ModelArtefactError(f"{model_path}: the file does not match its model card "
                                 f"(changed or damaged since it was saved)")
    model = joblib.load(model_path)
    if list(model.feature_names_in_) != expected:
        raise ModelArtefactError(f"{model_path}: the model's features differ from its card")
    return model, card


def _fmt(x, pct=False) -> str:
    if x is None:
        return "n/a"
    return f"{x * 100:.1f}%" if pct else f"{x:.3f}"


def card_markdown(card: dict) -> str:
    """A readable model card."""
    lines = [
        "# Early-warning model card", "",
        f"Created {card.get('created')} with attendance-suite "
        f"{card['code_version'].get('package')} (commit {card['code_version'].get('git_commit')}"
        f"{', uncommitted changes' if card['code_version'].get('git_dirty') else ''}), "
        f"scikit-learn {card.get('scikit_learn')}, Python {card.get('python')}.", "",
        "## What it predicts", "",
        f"- Label: `{card.get('label')}` -- {card.get('label_definition', '')}",
        f"- As of: {card.get('point_label')} (trained as of {card.get('as_of')}; position in "
        f"the year: half-term {card.get('position', [None, None])[0]}, school day "
        f"{card.get('position', [None, None])[1]})",
        "",
        "## Training data", "",
        f"- Store: `{card.get('store')}`",
        "- Training years and dates: "
        + ", ".join(f"{y} as of {d}" for y, d in card.get("training_as_of", {}).items()),
        f"- Pupils (rows): {card.get('training_rows')}, of whom "
        f"{_fmt(card.get('training_prevalence'), True)} went on to be persistently absent",
        f"- Characteristics used as features: {'yes' if card.get('characteristics') else 'no'}",
        f"- Features (version {card.get('feature_version')}): "
        + ", ".join(f"`{f}`" for f in card.get("features", [])),
        "",
        "## Model", "",
        f"- Chosen: **{card.get('chosen')}** (on validation data: held-out schools of the "
        f"latest training year), calibrated with {card.get('calibration')} regression on "
        f"whole-school folds",
    ]
    for name, v in (card.get("validation") or {}).items():
        lines.append(f"- Validation, {name}: average precision {_fmt(v['average_precision'])}, "
                     f"ROC AUC {_fmt(v['roc_auc'])}, Brier {_fmt(v['brier'])}")
    if card.get("notes"):
        lines += ["", "## Comparability", ""] + [f"- {n}" for n in card["notes"]]
    bt = card.get("backtest")
    if bt:
        lines += ["", "## Back-test (train on earlier years, test on the latest training year)",
                  "", f"Test year {bt['test_year']} as of {bt['as_of']}, {bt['pupils']} pupils; "
                  f"trained on {', '.join(bt.get('training_years', []))} (the first year in a "
                  f"store has no year before it, so a model trained on it alone cannot learn "
                  f"from last year's attendance).",
                  "", "| measure | model | best rule |", "|---|---|---|"]
        for m, v in bt["metrics"].items():
            rule = (f"{_fmt(v['best_rule'])} ({v['best_rule_name']})"
                    if v.get("best_rule_name") else "n/a")
            lines.append(f"| {m} | {_fmt(v['model'])} | {rule} |")
    lines += ["", f"Model file SHA-256: `{card.get('model_sha256')}`. Only load model folders "
              "you made or trust (a joblib file runs code when loaded).", ""]
    return "\n".join(lines)
