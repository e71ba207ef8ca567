"""Train the model for a point in the current year and score pupils with a saved model.

One concept: the model's use in production. :func:`train` fits on every complete earlier year
as of the same point in the school year as ``as_of`` (never on the current year, whose outcome
is not known yet), back-tests the recipe on the latest complete year when there are two, and
returns the model with its card; :func:`train_and_save` writes both (:mod:`.artefact`).
:func:`score` scores every pupil on roll on a date with a saved model: risk, rank in school and
reasons.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from attendance_lib.academic_year import academic_year_label
from attendance_lib.store import Store

from .artefact import load_model, save_model
from .evaluate import Dataset, best_rule, comparability_notes, evaluate_point, fit_classifier
from .features import build_features, feature_names
from .labels import LABELS
from .models import EarlyWarningClassifier
from .points import POINT_LABELS, SchoolCalendar, school_calendar
from .reasons import contributions, top_reasons

__all__ = ["LABEL_DEFINITIONS", "training_years", "train", "train_and_save", "score"]

LABEL_DEFINITIONS = {
    "pa_year_end": "persistently absent (absence >= 10% of the enrolment's own possible "
                   "sessions, DfE) over the whole academic year",
    "pa_next_term_end": "persistently absent year to date at the end of the next term to end "
                        "after the as-of date",
}
_BACKTEST_METRICS = ("roc_auc", "average_precision", "precision_top5", "precision_top10",
                     "precision_top20", "recall_top10", "brier", "ece")


def _store(store) -> Store:
    return store if isinstance(store, Store) else Store(store).require()


def training_years(store: Store, calendar: SchoolCalendar, as_of) -> list[int]:
    """Complete academic years before the one containing ``as_of``."""
    year = calendar.year_of(as_of)
    latest = store.latest_date()
    years = sorted(int(y) for y in calendar.half_terms["academic_year"].unique())
    out = [y for y in years if y < year and calendar.year_complete(y, latest)]
    if not out:
        raise ValueError(f"no complete academic year before {academic_year_label(year)} in the "
                         "store to train on (the model learns from earlier years' outcomes)")
    return out


def train(store, as_of, *, label: str = "pa_year_end", characteristics: bool = False,
          backtest: bool = True, random_state: int = 0, term_dates=None,
          data: Dataset | None = None) -> tuple[EarlyWarningClassifier, dict]:
    """Fit the model for scoring on ``as_of``; returns ``(model, card)``."""
    store = _store(store)
    if label not in LABELS:
        raise ValueError(f"label must be one of {', '.join(LABELS)}, not {label!r}")
    data = data or Dataset(store, school_calendar(store, term_dates))
    cal = data.calendar
    as_of = pd.Timestamp(as_of).date()
    years = training_years(store, cal, as_of)
    dates = {y: cal.same_point(as_of, y) for y in years}
    train_rows = data.training(as_of, years)
    cols = feature_names(characteristics)
    model = fit_classifier(train_rows, cols, label, random_state)
    point = cal.point_name(as_of)
    card = {
        "store": str(store.root), "as_of": as_of.isoformat(), "point": point,
        "point_label": POINT_LABELS.get(point, f"{as_of} (no named point)"),
        "position": list(cal.position(as_of)), "calendar": cal.source,
        "label": label, "label_definition": LABEL_DEFINITIONS[label],
        "characteristics": characteristics,
        "training_as_of": {academic_year_label(y): d.isoformat() for y, d in dates.items()},
        "training_rows": int(len(train_rows)),
        "training_prevalence": float(train_rows[label].mean()),
        "chosen": model.chosen_, "validation": model.validation_,
        "calibration": model.calibration_method_, "backtest": None,
        "notes": comparability_notes(years, cal.year_of(as_of)),
    }
    if backtest and len(years) >= 2:
        r = evaluate_point(data, years[-1], years[:-1], as_of, label=label,
                           characteristics=characteristics, n_boot=0,
                           random_state=random_state)
        metrics = {}
        for m in _BACKTEST_METRICS:
            entry = {"model": r.value("model", m), "best_rule": None, "best_rule_name": None}
            if m not in ("brier", "ece"):
                name, v = best_rule(r, m)
                entry.update(best_rule=v, best_rule_name=name)
            metrics[m] = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                          for k, v in entry.items()}
        card["backtest"] = {"test_year": academic_year_label(years[-1]),
                            "as_of": r.as_of.isoformat(), "pupils": r.n_test,
                            "training_years": [academic_year_label(y) for y in years[:-1]],
                            "metrics": metrics}
    return model, card


def train_and_save(store, as_of, out_dir, **kwargs) -> Path:
    """:func:`train`, then save the model and its card into ``out_dir``."""
    model, card = train(store, as_of, **kwargs)
    return save_model(model, card, out_dir)


def score(store, model_dir, as_of, *, n_reasons: int = 3, calendar: SchoolCalendar | None = None,
          model=None, card: dict | None = None) -> pd.DataFrame:
    """Every pupil on roll on ``as_of``, scored with the saved model in ``model_dir``.

    Returns the feature table with ``risk`` (calibrated probability of the card's label),
    ``rank_in_school`` (1 = highest risk; ties broken by the uncalibrated score, then UPN) and
    ``reasons``, sorted by school and rank. Warns when ``as_of`` is far from the point in the
    year the model was trained for.
    """
    store = _store(store)
    if model is None:
        model, card = load_model(model_dir)
    cal = calendar or school_calendar(store)
    as_of = pd.Timestamp(as_of).date()
    half, day = cal.position(as_of)
    t_half, t_day = (card.get("position") or [None, None]) if card else (None, None)
    if t_half is not None and (half != t_half or abs(day - t_day) > 10):
        warnings.warn(f"the model was trained for half-term {t_half}, school day {t_day}; "
                      f"{as_of} is half-term {half}, school day {day}: its risks are less "
                      f"reliable. Train a model for this point with 'attendance model train'",
                      stacklevel=2)
    f = build_features(store, as_of, characteristics=bool(card and card.get("characteristics")),
                       calendar=cal)
    if f.empty:
        return f.assign(risk=pd.Series(dtype=float), rank_in_school=pd.Series(dtype=int),
                        reasons=pd.Series(dtype=str))
    cols = list(model.feature_names_in_)
    risk, order = model.rank_score(f[cols])
    f["risk"] = risk
    f["_order"] = order
    f = f.sort_values(["urn", "_order", "upn"], ascending=[True, False, True],
                      ignore_index=True)
    f["rank_in_school"] = f.groupby("urn").cumcount() + 1
    contrib = contributions(model, f)
    f["reasons"] = top_reasons(model, f, n=n_reasons, contrib=contrib).to_numpy()
    top = contrib.idxmax(axis=1)
    f["main_theme"] = np.where(contrib.max(axis=1) > 0, top, "")
    return f.drop(columns="_order")
