"""How good a ranking or a probability is, at the capacity a school has (issue 5 item 6).

One concept: the evaluation measures, on arrays, with no store or model in sight.

* **Capacity.** A school can support only so many pupils, so lists are judged at the top k of
  *each school's* roll: ``pct`` (k = ceil(pct% x the school's pupils scored)) or a fixed ``k``
  per school. Precision at capacity is the share of the pupils listed (over all schools) who go
  on to be persistently absent; recall the share of those who do that were listed. Ties at a
  school's cut-off are shared out in expectation (each tied pupil counts with the probability a
  random tie-break lists it), so a rule with coarse scores is neither helped nor hurt by row
  order.
* **Ranking and probability.** ROC AUC, average precision, Brier score; the calibration curve and
  the expected calibration error (ECE: over 10 equal-width bins of predicted probability, the
  count-weighted mean of |observed rate - mean prediction|).
* **Uncertainty.** Percentile intervals from a bootstrap that resamples whole schools (pupils in
  one school are not independent), done with per-row weights so no data are copied.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

__all__ = [
    "capacity_k",
    "selection_weights",
    "at_capacity",
    "expected_calibration_error",
    "calibration_table",
    "score_metrics",
    "bootstrap_metrics",
    "wilson_interval",
]


def capacity_k(n: np.ndarray, pct: float | None = None, k: int | None = None) -> np.ndarray:
    """Pupils a school lists: ``ceil(pct% x n)`` or ``min(k, n)`` for rolls of ``n``."""
    n = np.asarray(n, dtype=np.int64)
    if (pct is None) == (k is None):
        raise ValueError("give exactly one of pct and k")
    if pct is not None:
        if not 0 < pct <= 100:
            raise ValueError(f"pct must be in (0, 100], got {pct}")
        return np.minimum(n, np.ceil(n * pct / 100.0 - 1e-9).astype(np.int64))
    if int(k) < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return np.minimum(n, int(k))


def selection_weights(score, school, pct: float | None = None, k: int | None = None
                      ) -> np.ndarray:
    """Probability each row is among its school's top k (ties shared out at random).

    Rows are listed by ``score``, highest first, within each ``school``. Rows strictly above a
    school's cut-off get 1, rows tied at the cut-off share the remaining places equally,
    others 0. The weights of a school add up to its k.

    Examples
    --------
    >>> selection_weights([5, 3, 3, 1], ["a"] * 4, k=2).tolist()
    [1.0, 0.5, 0.5, 0.0]
    """
    score = np.asarray(score, dtype="float64")
    if np.isnan(score).any():
        raise ValueError("scores must not be missing")
    codes, uniq = pd.factorize(pd.Series(np.asarray(school)), sort=True)
    n = np.bincount(codes, minlength=len(uniq))
    kk = capacity_k(n, pct=pct, k=k)
    order = np.lexsort((-score, codes))
    s_sorted, c_sorted = score[order], codes[order]
    starts = np.r_[0, np.cumsum(n)[:-1]]
    cut = np.where(kk > 0, s_sorted[np.minimum(starts + np.maximum(kk - 1, 0),
                                                max(len(score) - 1, 0))], np.inf)
    above = s_sorted > cut[c_sorted]
    tied = s_sorted == cut[c_sorted]
    n_above = np.bincount(c_sorted, weights=above, minlength=len(uniq))
    n_tied = np.bincount(c_sorted, weights=tied, minlength=len(uniq))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_tied > 0, (kk - n_above) / n_tied, 0.0)
    w_sorted = above + tied * share[c_sorted]
    out = np.empty(len(score))
    out[order] = w_sorted
    return out


def at_capacity(y, score, school, pct: float | None = None, k: int | None = None,
                weights=None) -> dict[str, float]:
    """Precision and recall of each school's top k (see the module docstring).

    ``weights`` (one per row, e.g. bootstrap counts of the row's school) scale every count.
    """
    y = np.asarray(y, dtype="float64")
    sel = selection_weights(score, school, pct=pct, k=k)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype="float64")
    listed = float((sel * w).sum())
    tp = float((sel * y * w).sum())
    pos = float((y * w).sum())
    return {"precision": tp / listed if listed else math.nan,
            "recall": tp / pos if pos else math.nan, "listed": listed, "true_positives": tp}


def calibration_table(y, p, bins: int = 10, weights=None) -> pd.DataFrame:
    """Observed rate against mean prediction in equal-width bins of predicted probability."""
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype="float64")
    b = np.minimum((p * bins).astype(int), bins - 1)
    n = np.bincount(b, weights=w, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        pred = np.bincount(b, weights=w * p, minlength=bins) / n
        obs = np.bincount(b, weights=w * y, minlength=bins) / n
    return pd.DataFrame({"bin_low": np.arange(bins) / bins, "bin_high": np.arange(1, bins + 1)
                         / bins, "pupils": n, "mean_predicted": pred, "observed": obs})


def expected_calibration_error(y, p, bins: int = 10, weights=None) -> float:
    """Count-weighted mean |observed - predicted| over equal-width probability bins.

    Examples
    --------
    >>> expected_calibration_error([0, 1, 0, 1], [0.25, 0.25, 0.75, 0.75])
    0.25
    """
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype="float64")
    b = np.minimum((p * bins).astype(int), bins - 1)
    n = np.bincount(b, weights=w, minlength=bins)
    gap = np.abs(np.bincount(b, weights=w * (y - p), minlength=bins))
    return float(gap.sum() / n.sum()) if n.sum() > 0 else math.nan


def _safe(fn, *args, **kw) -> float:
    try:
        return float(fn(*args, **kw))
    except ValueError:  # one class only in a resample
        return math.nan


def score_metrics(y, score, school, *, prob=None, capacities=(5, 10, 20),
                  user_k: int | None = None, weights=None) -> dict[str, float]:
    """Every measure for one scorer: ``roc_auc, average_precision``, ``precision_top{pct}`` /
    ``recall_top{pct}`` per capacity, ``precision_top_k{k}`` / ``recall_top_k{k}``, and when
    ``prob`` (a probability) is given ``brier`` and ``ece``."""
    y = np.asarray(y, dtype="float64")
    out = {"roc_auc": _safe(roc_auc_score, y, score, sample_weight=weights),
           "average_precision": _safe(average_precision_score, y, score,
                                      sample_weight=weights)}
    for pct in capacities:
        r = at_capacity(y, score, school, pct=pct, weights=weights)
        out[f"precision_top{pct:g}"] = r["precision"]
        out[f"recall_top{pct:g}"] = r["recall"]
    if user_k:
        r = at_capacity(y, score, school, k=user_k, weights=weights)
        out[f"precision_top_k{user_k}"] = r["precision"]
        out[f"recall_top_k{user_k}"] = r["recall"]
    if prob is not None:
        out["brier"] = _safe(brier_score_loss, y, prob, sample_weight=weights)
        out["ece"] = expected_calibration_error(y, prob, weights=weights)
    return out


class _Ranked:
    """One scorer's rows sorted by score, with tied scores grouped: weighted ROC AUC and
    average precision (sklearn's definitions) in one pass per set of weights."""

    def __init__(self, y: np.ndarray, score: np.ndarray):
        self.order = np.argsort(-np.asarray(score, dtype="float64"), kind="stable")
        s = np.asarray(score, dtype="float64")[self.order]
        self.starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        self.y = np.asarray(y, dtype="float64")[self.order]

    def auc_ap(self, w: np.ndarray) -> tuple[float, float]:
        ws = w[self.order]
        tp = np.add.reduceat(ws * self.y, self.starts)
        fp = np.add.reduceat(ws * (1 - self.y), self.starts)
        P, N = tp.sum(), fp.sum()
        if P <= 0 or N <= 0:
            return math.nan, math.nan
        fp_after = N - np.cumsum(fp)  # negatives with a lower score
        auc = float((tp * (fp_after + fp / 2)).sum() / (P * N))
        ctp, cfp = np.cumsum(tp), np.cumsum(fp)
        with np.errstate(invalid="ignore", divide="ignore"):
            prec = np.where(ctp + cfp > 0, ctp / (ctp + cfp), 0.0)
        ap = float((tp / P * prec).sum())
        return auc, ap


def bootstrap_metrics(y, scorers: dict, school, *, probs: dict | None = None,
                      capacities=(5, 10, 20), user_k: int | None = None, n_boot: int = 200,
                      seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Estimates and school-bootstrap intervals for several scorers on the same rows.

    Each replicate draws schools with replacement; a school drawn twice counts twice (its
    capacity too). Returns a tidy frame ``scorer, metric, estimate, low, high``.
    """
    probs = probs or {}
    y = np.asarray(y, dtype="float64")
    school = np.asarray(school)
    codes, uniq = pd.factorize(pd.Series(school), sort=True)
    n_s = len(uniq)
    rng = np.random.default_rng(seed)
    caps = [(f"top{pct:g}", {"pct": pct}) for pct in capacities]
    if user_k:
        caps.append((f"top_k{user_k}", {"k": user_k}))
    pos_s = np.bincount(codes, weights=y, minlength=n_s)
    per_school = {}
    for name, s in scorers.items():
        for label, kw in caps:
            sel = selection_weights(s, school, **kw)
            per_school[name, label] = (np.bincount(codes, weights=sel * y, minlength=n_s),
                                       np.bincount(codes, weights=sel, minlength=n_s))
    est = {name: score_metrics(y, s, school, prob=probs.get(name), capacities=capacities,
                               user_k=user_k) for name, s in scorers.items()}
    draws = {name: {m: [] for m in est[name]} for name in scorers}
    ranked = {name: _Ranked(y, s) for name, s in scorers.items()}
    for _ in range(int(n_boot)):
        counts = np.bincount(rng.integers(0, n_s, n_s), minlength=n_s).astype("float64")
        w = counts[codes]
        pos = float(counts @ pos_s)
        for name in scorers:
            d = draws[name]
            for label, _ in caps:
                tp_s, k_s = per_school[name, label]
                tp, listed = float(counts @ tp_s), float(counts @ k_s)
                d[f"precision_{label}"].append(tp / listed if listed else math.nan)
                d[f"recall_{label}"].append(tp / pos if pos else math.nan)
            auc, ap = ranked[name].auc_ap(w)
            d["roc_auc"].append(auc)
            d["average_precision"].append(ap)
            p = probs.get(name)
            if p is not None:
                p = np.asarray(p, dtype="float64")
                d["brier"].append(float((w * (p - y) ** 2).sum() / w.sum()))
                d["ece"].append(expected_calibration_error(y, p, weights=w))
    a = (1 - level) / 2
    rows = []
    for name in scorers:
        for metric, value in est[name].items():
            col = pd.Series(draws[name][metric], dtype="float64").dropna()
            rows.append({"scorer": name, "metric": metric, "estimate": value,
                         "low": float(col.quantile(a)) if len(col) else math.nan,
                         "high": float(col.quantile(1 - a)) if len(col) else math.nan})
    return pd.DataFrame(rows)


def wilson_interval(successes, trials, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions (NaN where there are no trials)."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z ** 2 / n
        centre = (p + z ** 2 / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2)) / den
    return centre - half, centre + half
