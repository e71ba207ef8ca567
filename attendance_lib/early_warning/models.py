"""The risk model: two candidate classifiers, chosen on validation data, then calibrated.

One concept: turning features into a calibrated probability of persistent absence (issue 5
item 5), behind the scikit-learn estimator API.

* ``logistic`` -- a regularised (L2) logistic regression in a :class:`~sklearn.pipeline.Pipeline`:
  median imputation with missing-value indicators, a signed log transform (rates are skewed),
  standard scaling;
* ``boosting`` -- :class:`~sklearn.ensemble.HistGradientBoostingClassifier` (missing values
  handled natively), with early stopping on an internal 10% split.

:class:`EarlyWarningClassifier` picks between them on validation data: the rows of the most recent
training year in a held-out quarter of the schools (``groups``), fitting the candidates on the
other schools' rows of every training year, and keeps the one with the higher average
precision. It then refits the choice with :class:`~sklearn.calibration.CalibratedClassifierCV`
(isotonic, or sigmoid for small samples) on folds that keep each school in one fold, so the
probabilities are calibrated on schools the model was not fitted on. Validation and calibration
never see the test year: splits in time are made by the caller (:mod:`.evaluate`).

Isotonic calibration maps ranges of scores to one probability; :meth:`rank_score` breaks those
ties with the uncalibrated score, so a list never depends on row order.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

__all__ = ["CANDIDATES", "make_logistic", "make_boosting", "EarlyWarningClassifier",
           "EmptyColumnsToZero"]

CANDIDATES = ("logistic", "boosting")


def _signed_log1p(x):
    return np.sign(x) * np.log1p(np.abs(x))


def make_logistic(C: float = 0.3) -> Pipeline:
    """Regularised logistic regression with imputation, log transform and scaling."""
    return Pipeline([
        ("impute", SimpleImputer(strategy="median", add_indicator=True,
                                 keep_empty_features=True)),
        ("log", FunctionTransformer(_signed_log1p, feature_names_out="one-to-one")),
        ("scale", StandardScaler()),
        ("model", LogisticRegression(C=C, solver="newton-cholesky", max_iter=200)),
    ])


class EmptyColumnsToZero(TransformerMixin, BaseEstimator):
    """Set columns that were missing in every training row to 0 (the trees cannot bin them;
    a constant is never split on, so the column is ignored, as it was in training)."""

    def fit(self, X, y=None):
        X = np.asarray(X, dtype="float64")
        self.empty_ = np.isnan(X).all(axis=0)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        X = np.array(X, dtype="float64")
        X[:, self.empty_] = 0.0
        return X


def make_boosting(random_state: int = 0) -> Pipeline:
    """Gradient boosted trees with early stopping (regularised by leaf size and L2)."""
    return Pipeline([
        ("empty", EmptyColumnsToZero()),
        ("model", HistGradientBoostingClassifier(
            learning_rate=0.06, max_iter=400, max_leaf_nodes=31, min_samples_leaf=60,
            l2_regularization=1.0, early_stopping=True, validation_fraction=0.1,
            n_iter_no_change=25, random_state=random_state)),
    ])


def _make(name: str, random_state: int):
    if name == "logistic":
        return make_logistic()
    if name == "boosting":
        return make_boosting(random_state)
    raise ValueError(f"unknown candidate {name!r}; choose from {', '.join(CANDIDATES)}")


#: below this many rows models are fitted on one thread (OpenMP and BLAS); above it on half the
#: cores. Idle OpenMP threads spin while they wait, so a pool as large as the machine is far
#: slower as soon as anything else runs (benchmarks/bench_model.py on a shared 2-core machine:
#: fits and back-test 176-668 s on 2 threads, 127 s on 1); half the cores keeps most of the
#: speed-up on a quiet machine with more cores.
SINGLE_THREAD_ROWS = 100_000


def _threads(n_rows: int):
    n = 1 if n_rows < SINGLE_THREAD_ROWS else max(1, (os.cpu_count() or 2) // 2)
    return threadpool_limits(limits=n)


def _as_frame(X) -> pd.DataFrame:
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype="float64"))


class EarlyWarningClassifier(ClassifierMixin, BaseEstimator):
    """Choose between the candidates on validation data, then fit and calibrate the choice.

    Parameters
    ----------
    candidates : names from :data:`CANDIDATES`.
    calibration : ``"auto"`` (isotonic with at least 1,000 cases of each class, else
        sigmoid), ``"isotonic"`` or ``"sigmoid"``.
    validation_share : share of schools held out to choose the candidate.
    calibration_folds : folds (whole schools) for the calibrated refit.
    random_state : seeds every split and the boosted model.

    ``fit(X, y, groups=None, years=None)``: ``groups`` are schools (rows of one school stay
    together), ``years`` the academic year of each row (validation uses the latest).
    Learned attributes: ``chosen_``, ``validation_`` (metrics of each candidate),
    ``calibrated_`` (the fitted :class:`CalibratedClassifierCV`), ``classes_``,
    ``feature_names_in_``, ``reference_`` (median of each feature, for reasons).
    """

    def __init__(self, candidates=CANDIDATES, calibration: str = "auto",
                 validation_share: float = 0.25, calibration_folds: int = 3,
                 random_state: int = 0):
        self.candidates = candidates
        self.calibration = calibration
        self.validation_share = validation_share
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    # -- fitting -------------------------------------------------------------------------------
    def _split(self, groups: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.random_state)
        schools = np.unique(groups)
        n_val = max(1, int(round(self.validation_share * len(schools))))
        held = rng.choice(schools, size=min(n_val, max(len(schools) - 1, 1)), replace=False)
        in_held = np.isin(groups, held)
        val = in_held & (years == years.max())
        fit = ~in_held
        return fit, val

    def fit(self, X, y, groups=None, years=None):
        with _threads(len(X)):
            return self._fit(X, y, groups, years)

    def _fit(self, X, y, groups, years):
        X = _as_frame(X)
        y = np.asarray(y).astype(int)
        if len(np.unique(y)) != 2:
            raise ValueError("the training labels need both outcomes (some pupils persistently "
                             "absent, some not)")
        n = len(y)
        groups = np.arange(n) % 20 if groups is None else np.asarray(groups)
        years = np.zeros(n, dtype=int) if years is None else np.asarray(years)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.classes_ = np.array([0, 1])
        self.reference_ = X.median(numeric_only=True).to_dict()
        self.n_train_ = n
        self.prevalence_ = float(y.mean())
        names = list(self.candidates)
        self.validation_ = {}
        if len(names) == 1:
            self.chosen_ = names[0]
        else:
            fit, val = self._split(groups, years)
            if y[val].min() == y[val].max() or y[fit].min() == y[fit].max():
                raise ValueError("too few schools or cases to hold out validation data")
            for name in names:
                est = _make(name, self.random_state).fit(X[fit], y[fit])
                p = est.predict_proba(X[val])[:, 1]
                self.validation_[name] = {
                    "average_precision": float(average_precision_score(y[val], p)),
                    "roc_auc": float(roc_auc_score(y[val], p)),
                    "brier": float(brier_score_loss(y[val], p)),
                    "rows_fitted": int(fit.sum()), "rows_validated": int(val.sum())}
            self.chosen_ = max(names, key=lambda k: self.validation_[k]["average_precision"])
        method = self.calibration
        if method == "auto":
            method = "isotonic" if min(y.sum(), n - y.sum()) >= 1000 else "sigmoid"
        self.calibration_method_ = method
        folds = min(self.calibration_folds, len(np.unique(groups)))
        splits = list(GroupKFold(n_splits=folds).split(X, y, groups))
        self.calibrated_ = CalibratedClassifierCV(
            _make(self.chosen_, self.random_state), method=method, cv=splits, ensemble=True
        ).fit(X, y)
        return self

    # -- prediction ----------------------------------------------------------------------------
    def _check(self, X) -> pd.DataFrame:
        check_is_fitted(self, "calibrated_")
        X = _as_frame(X)
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks features the model was trained on: {missing}")
        return X[list(self.feature_names_in_)]

    def predict_proba(self, X) -> np.ndarray:
        X = self._check(X)
        with _threads(len(X)):
            return self.calibrated_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def uncalibrated_score(self, X) -> np.ndarray:
        """Mean probability of the fold models before calibration (for breaking ties)."""
        X = self._check(X)
        with _threads(len(X)):
            return np.mean([c.estimator.predict_proba(X)[:, 1]
                            for c in self.calibrated_.calibrated_classifiers_], axis=0)

    def rank_score(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``(risk, order key)``: calibrated risk, and a score that sorts like the risk with
        its ties broken by the uncalibrated score."""
        risk = self.predict_proba(X)[:, 1]
        raw = self.uncalibrated_score(X)
        # risk is in [0, 1]; raw adds less than the smallest gap between distinct risks
        levels = np.unique(risk)
        gap = np.min(np.diff(levels)) if len(levels) > 1 else 1.0
        return risk, risk + raw * gap * 0.5

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
