"""The result every design returns: an estimate, its 95% interval and diagnostics."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Estimate", "cluster_wls", "col_mean_sd"]


def col_mean_sd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and (population) standard deviations ignoring NaN; NaN for a column with
    no values (without numpy's all-NaN warnings)."""
    x = np.asarray(x, float)
    if x.ndim == 1:
        x = x[:, None]
    ok = np.isfinite(x)
    n = ok.sum(axis=0)
    mu = np.where(n > 0, np.where(ok, x, 0).sum(axis=0) / np.maximum(n, 1), np.nan)
    var = np.where(ok, (x - np.where(np.isfinite(mu), mu, 0)) ** 2, 0).sum(axis=0)
    sd = np.where(n > 0, np.sqrt(var / np.maximum(n, 1)), np.nan)
    return mu, sd


@dataclass
class Estimate:
    """One design's answer for one intervention type.

    ``estimate_pp`` is the change in absence rate in percentage points of possible sessions
    (negative = less absence), ``ci_low``/``ci_high`` its 95% confidence interval.
    """

    type: str
    design: str
    estimate_pp: float
    ci_low: float
    ci_high: float
    se: float
    n_treated: int
    n_comparison: int
    diagnostics: dict = field(default_factory=dict)

    def covers(self, value: float) -> bool:
        return bool(self.ci_low <= value <= self.ci_high)

    @property
    def excludes_zero(self) -> bool:
        return bool(self.ci_low > 0 or self.ci_high < 0)

    def row(self) -> dict:
        """The CLI's columns."""
        return {k: getattr(self, k) for k in ("type", "design", "estimate_pp", "ci_low",
                                              "ci_high", "n_treated", "n_comparison")}

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in d.items()}

    @classmethod
    def empty(cls, kind: str, design: str, why: str, n_treated: int = 0,
              n_comparison: int = 0) -> Estimate:
        return cls(kind, design, np.nan, np.nan, np.nan, np.nan, n_treated, n_comparison,
                   {"not_estimated": why})


def cluster_wls(y, X, weights, groups, names=None):
    """Weighted least squares with standard errors clustered by ``groups`` (statsmodels).

    Returns the fitted results (t-based intervals with G - 1 degrees of freedom).
    """
    import statsmodels.api as sm

    y = np.asarray(y, float)
    X = pd.DataFrame(np.asarray(X, float), columns=names)
    g = pd.factorize(pd.Series(np.asarray(groups)).astype(str))[0]
    model = sm.WLS(y, X, weights=np.asarray(weights, float))
    return model.fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
