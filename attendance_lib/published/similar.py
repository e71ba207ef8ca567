"""The ten schools in England most like each of the LA's schools, on intake and size.

One concept: similar-school comparison. Within a phase (primary, secondary, special), every
school is described by the intake features of the expected-PA model (:data:`.expected.FEATURES`:
% FSM ever, % SEN support, % EHC plan, % EAL and log enrolments, January 2019 census), each
standardised to mean 0 and standard deviation 1 over the phase's schools in England. The
similar schools of a school are the ``k`` nearest others of its phase by Euclidean distance
on those standardised features (ties broken by URN), from any LA including its own.

A school with a missing characteristic is in no comparison (left out and counted by
:func:`attendance_lib.published.expected.intake_features`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from attendance_lib.io import dfe

from .expected import FEATURES

__all__ = ["standardised", "similar_schools", "similar_summary"]


def standardised(features: pd.DataFrame) -> pd.DataFrame:
    """:data:`FEATURES` as z-scores within each phase (population standard deviation)."""
    cols = list(FEATURES)
    values = features[cols].astype("float64")
    grouped = values.groupby(features["phase"])
    sd = grouped.transform(lambda s: s.std(ddof=0)).replace(0, 1.0)
    return (values - grouped.transform("mean")) / sd


def similar_schools(features: pd.DataFrame, la: dfe.LocalAuthority, k: int = 10
                    ) -> pd.DataFrame:
    """For each of the LA's schools, its ``k`` most similar schools in England.

    Parameters
    ----------
    features : DataFrame
        :func:`attendance_lib.published.expected.intake_features` (or ``ExpectedModel.schools``)
        -- every usable school in England with ``urn``, ``phase``, the features and rates.
    la : LocalAuthority
    k : int

    Returns
    -------
    DataFrame
        One row per (school, similar school): ``urn``, ``rank`` (1 = most similar),
        ``similar_urn``, ``distance``, and the similar school's ``la_name``, ``enrolments``,
        features, ``pa_rate`` and ``overall_rate``.
    """
    z = standardised(features)
    mine = dfe.la_rows(features, la)
    parts = []
    keep = ["urn", "la_name", "old_la_code", "enrolments", "fsm_ever", "sen_support",
            "ehc_plan", "eal", "pa_rate", "overall_rate"]
    for phase, own in mine.groupby("phase", sort=True):
        pool = features.index[features["phase"] == phase]
        pool = features.loc[pool].sort_values("urn").index       # ties -> lower URN first
        pz = z.loc[pool].to_numpy()
        oz = z.loc[own.index].to_numpy()
        dist = cdist(oz, pz)
        same = own["urn"].to_numpy()[:, None] == features.loc[pool, "urn"].to_numpy()[None, :]
        dist[same] = np.inf
        take = min(k, len(pool) - 1)
        # exact ties go to the lower URN (the pool is in URN order): a negligible nudge
        key = dist + np.arange(len(pool))[None, :] * 1e-12
        near = np.argpartition(key, take - 1, axis=1)[:, :take]
        order = np.take_along_axis(near, np.argsort(np.take_along_axis(key, near, axis=1),
                                                    axis=1), axis=1)
        picked = features.loc[pool[order.ravel()], keep].rename(
            columns={"urn": "similar_urn"}).reset_index(drop=True)
        parts.append(picked.assign(
            urn=np.repeat(own["urn"].to_numpy(), take), rank=np.tile(np.arange(1, take + 1),
                                                                      len(own)),
            distance=np.take_along_axis(dist, order, axis=1).ravel(), phase=phase))
    if not parts:
        return pd.DataFrame(columns=["urn", "rank", "similar_urn", "distance", "phase",
                                     *keep[1:]])
    out = pd.concat(parts, ignore_index=True)
    front = ["urn", "phase", "rank", "similar_urn", "distance"]
    return out[front + [c for c in out.columns if c not in front]]


def similar_summary(features: pd.DataFrame, similar: pd.DataFrame, la: dfe.LocalAuthority
                    ) -> pd.DataFrame:
    """One row per LA school: its figures beside its similar schools' (pooled) figures.

    The similar group's PA rate is pooled (their PA enrolments / their enrolments); its overall
    absence rate likewise from sessions. ``pa_gap`` = the school's PA rate minus the group's.
    """
    own = dfe.la_rows(features, la)
    sim = similar.merge(features[["urn", "pa", "sess_overall", "sess_possible"]].rename(
        columns={"urn": "similar_urn"}), on="similar_urn", how="left")
    sums = sim.groupby("urn").agg(similar_schools=("similar_urn", "size"),
                                  pa=("pa", "sum"), enrolments=("enrolments", "sum"),
                                  sess_overall=("sess_overall", "sum"),
                                  sess_possible=("sess_possible", "sum"))
    group = pd.DataFrame({
        "similar_schools": sums["similar_schools"],
        "similar_pa_rate": sums["pa"].astype("float64") / sums["enrolments"].astype("float64"),
        "similar_overall_rate": sums["sess_overall"].astype("float64")
        / sums["sess_possible"].astype("float64")}).reset_index()
    listing = sim.sort_values(["urn", "rank"]).groupby("urn")["similar_urn"].agg(", ".join)
    out = own[["urn", "laestab", "phase", "enrolments", "fsm_ever", "sen_support", "ehc_plan",
               "eal", "pa_rate", "overall_rate"]].merge(group, on="urn", how="left")
    out = out.assign(pa_gap=out["pa_rate"] - out["similar_pa_rate"],
                     similar_urns=out["urn"].map(listing))
    return out.sort_values(["phase", "pa_gap"], ascending=[True, False]).reset_index(drop=True)
