"""Absence and attendance bands: DfE's published absence bands and the suite's attendance bands.

One concept: putting an overall absence or attendance rate (or the session counts behind it)
into a band. The DfE publishes absence in 5% bands (domain.md 2.1); the suite's attendance bands
follow DfE's exact persistent (absence >= 10%) and severe (absence >= 50%) measures
(domain.md 2.1) plus an "at risk" band that has no national definition (domain.md 5).

Examples
--------
>>> absence_bands(pd.Series([9.99, 10.0, 50.0])).tolist()
['5-9.99', '10-14.99', '50-100']
>>> band_from_counts(38, 380), band_from_counts(190, 380)
('>50% to 90%', '50% or less')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "ABSENCE_BANDS",
    "ATTENDANCE_BANDS",
    "ATTENDANCE_BAND_STAGES",
    "absence_bands",
    "attendance_bands",
    "band_from_counts",
]

#: DfE published absence bands, 5% steps: [0, 5), ..., [45, 50), [50, 100] (domain.md 2.1)
ABSENCE_BANDS = tuple(f"{lo}-{lo + 4}.99" for lo in range(0, 50, 5)) + ("50-100",)

#: the suite's attendance bands, lowest attendance first. The edges follow DfE's exact measures
#: (domain.md 2.1): severe absence is absence >= 50% (attendance <= 50%), persistent absence is
#: absence >= 10% (attendance <= 90%). "At risk" (90-95%) is the suite's own band: there is no
#: national definition (domain.md 5). Attendance is taken as 100 - absence; the two differ only
#: for COVID ``X`` in 2020/21-2021/22 (domain.md 1.2).
ATTENDANCE_BANDS = ("50% or less", ">50% to 90%", ">90% to <95%", "95% to <100%", "100%")
ATTENDANCE_BAND_STAGES = dict(zip(
    ATTENDANCE_BANDS, ("severe", "persistent", "at risk", "expected", "full"), strict=True))

_SNAP_DECIMALS = 9  # percentages are rounded to 1e-9 before banding: removes float noise only


def _as_series(values, name: str) -> pd.Series:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    return s.rename(name)


def _snapped_pct(pct: pd.Series) -> np.ndarray:
    v = np.round(pd.to_numeric(pct).to_numpy(dtype="float64", na_value=np.nan), _SNAP_DECIMALS)
    if ((v < 0) | (v > 100)).any():
        raise ValueError("percentages must lie between 0 and 100")
    return v


def _categorical(band: np.ndarray, labels, like: pd.Series) -> pd.Series:
    dtype = pd.CategoricalDtype(list(labels), ordered=True)
    return pd.Series(pd.Categorical.from_codes(band, dtype=dtype), index=like.index,
                     name=like.name)


def absence_bands(overall_absence_pct) -> pd.Series:
    """DfE's published absence bands of an overall absence rate (domain.md 2.1).

    Bands are ``[0, 5), [5, 10), ..., [45, 50), [50, 100]`` labelled ``'0-4.99'`` ...
    ``'45-49.99'``, ``'50-100'``. Rates are rounded to 9 decimals first, so float noise such as
    ``9.999999999999998`` for a true 10% lands in ``'10-14.99'``; for exact persistent and severe
    boundaries from session counts use :func:`band_from_counts`.

    Parameters
    ----------
    overall_absence_pct : Series or array-like
        Overall absence rate in percent (0-100); NaN gives a missing band.

    Returns
    -------
    Series
        Ordered categorical with categories :data:`ABSENCE_BANDS`, same index.

    Examples
    --------
    >>> absence_bands([0, 4.99, 5, 49.99, 100]).tolist()
    ['0-4.99', '0-4.99', '5-9.99', '45-49.99', '50-100']
    """
    s = _as_series(overall_absence_pct, "absence_band")
    v = _snapped_pct(s)
    band = np.where(np.isnan(v), -1, np.minimum(np.floor(np.nan_to_num(v) / 5), 10))
    return _categorical(band.astype(np.int64), ABSENCE_BANDS, s)


def attendance_bands(attendance_pct) -> pd.Series:
    """The suite's attendance bands (:data:`ATTENDANCE_BANDS`) of an attendance rate.

    ``'50% or less'`` is DfE severe absence (absence >= 50%), ``'>50% to 90%'`` persistent
    absence (absence >= 10%, so exactly 90% attendance is persistent), ``'>90% to <95%'`` the
    suite's "at risk" band (no national definition, domain.md 5), then ``'95% to <100%'`` and
    ``'100%'`` (domain.md 2.1, 5). Rates are rounded to 9 decimals first (see
    :func:`absence_bands`); prefer :func:`band_from_counts` when counts are at hand.

    Parameters
    ----------
    attendance_pct : Series or array-like
        Attendance rate in percent (0-100); NaN gives a missing band.

    Returns
    -------
    Series
        Ordered categorical (lowest attendance first), same index.

    Examples
    --------
    >>> attendance_bands([50.0, 50.01, 90.0, 94.99, 95.0, 100.0]).tolist()
    ['50% or less', '>50% to 90%', '>50% to 90%', '>90% to <95%', '95% to <100%', '100%']
    """
    s = _as_series(attendance_pct, "attendance_band")
    v = _snapped_pct(s)
    band = np.select([np.isnan(v), v <= 50, v <= 90, v < 95, v < 100], [-1, 0, 1, 2, 3], 4)
    return _categorical(band, ATTENDANCE_BANDS, s)


def band_from_counts(absent_sessions, possible_sessions, *, scheme: str = "attendance"):
    """Band from session counts with integer arithmetic, exact at every boundary.

    Persistent absence is ``absent * 100 >= 10 * possible`` and severe absence
    ``absent * 100 >= 50 * possible`` (domain.md 2.1), so 38 of 380 (exactly 10%) is persistent
    whatever floating point would make of 38 / 380.

    Parameters
    ----------
    absent_sessions, possible_sessions : int or array-like of int
        Overall absence sessions and possible sessions; ``0 <= absent <= possible``.
    scheme : {"attendance", "absence"}
        ``"attendance"`` gives :data:`ATTENDANCE_BANDS` (attendance = 100 - absence),
        ``"absence"`` the DfE :data:`ABSENCE_BANDS`.

    Returns
    -------
    str or Series
        A label for scalar input (None when nothing was possible), else an ordered
        categorical Series (missing where nothing was possible).

    Examples
    --------
    >>> band_from_counts(37, 380), band_from_counts(38, 380, scheme="absence")
    ('>90% to <95%', '10-14.99')
    """
    if scheme not in ("attendance", "absence"):
        raise ValueError(f"scheme must be 'attendance' or 'absence', got {scheme!r}")
    scalar = np.ndim(absent_sessions) == 0 and np.ndim(possible_sessions) == 0
    a_s = _as_series(absent_sessions, "band") if not scalar else pd.Series([absent_sessions])
    a = a_s.to_numpy(dtype=np.int64)
    p = np.broadcast_to(np.asarray(possible_sessions, dtype=np.int64), a.shape)
    if ((a < 0) | (a > p)).any():
        raise ValueError("need 0 <= absent_sessions <= possible_sessions")
    a100, safe_p = a * 100, np.maximum(p, 1)
    if scheme == "absence":
        band = np.minimum((a * 20) // safe_p, 10)
    else:
        band = np.select([a100 >= 50 * p, a100 >= 10 * p, a100 > 5 * p, a > 0], [0, 1, 2, 3], 4)
    band = np.where(p == 0, -1, band)
    out = _categorical(band, ABSENCE_BANDS if scheme == "absence" else ATTENDANCE_BANDS, a_s)
    if scalar:
        value = out.iloc[0]
        return None if pd.isna(value) else str(value)
    return out
