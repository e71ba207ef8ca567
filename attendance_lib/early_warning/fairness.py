"""Fairness audit: who the list finds and who it misses, by pupil characteristic (issue 5 item 8).

One concept: comparing the list's errors across groups of pupils (product.md "Early warning":
protected characteristics are audited, not silently used). The list is each school's top k
(default 10% of its roll, the capacity used throughout); for every characteristic (FSM, SEN
provision, sex, ethnicity) and group, the audit counts pupils, those who became persistently
absent (prevalence), those listed, and true/false positives/negatives, and reports

* **recall** (the share of the group's future persistent absentees the list finds): the harm of
  a supportive offer is missing a pupil, so recall gaps matter most (product.md "Known
  pitfalls"); **false-positive rate** and **precision** matter if the list leads to anything
  punitive;
* each with a Wilson 95% interval and its ratio to a stated **reference group**
  (:data:`REFERENCE`);
* a warning when a group has fewer than ``min_pupils`` pupils or ``min_cases`` future persistent
  absentees, where the rates are too noisy to read.

Pupils with no recorded value form their own "Not recorded" group, so within a characteristic
the groups' counts add up to the overall row (:func:`sums_match` checks it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .features import ethnic_group
from .metrics import capacity_k, wilson_interval

__all__ = ["CHARACTERISTICS", "REFERENCE", "characteristic_groups", "listed_top",
           "fairness_audit", "sums_match", "COUNT_COLUMNS"]

CHARACTERISTICS = ("FSM", "SEN provision", "Sex", "Ethnicity")
#: the stated reference group of each characteristic
REFERENCE = {"FSM": "Not eligible for FSM", "SEN provision": "No SEN", "Sex": "Girls",
             "Ethnicity": "White"}
COUNT_COLUMNS = ["pupils", "became_pa", "listed", "true_positives", "false_positives",
                 "false_negatives", "true_negatives"]
_NR = "Not recorded"


def _flag_text(v: pd.Series, yes: str, no: str) -> pd.Series:
    if v.dtype == bool:
        return v.map({True: yes, False: no}).astype("string")
    t = v.astype("string").str.upper().str.strip()
    out = t.map({"TRUE": yes, "Y": yes, "YES": yes, "1": yes,
                 "FALSE": no, "N": no, "NO": no, "0": no})
    return out.astype("string")


def characteristic_groups(pupils: pd.DataFrame) -> pd.DataFrame:
    """The audit's group of each pupil (one column per :data:`CHARACTERISTICS`)."""
    idx = pupils.index

    def col(name):
        return pupils[name] if name in pupils else pd.Series(pd.NA, index=idx, dtype="string")

    sen = col("sen_provision").astype("string").str.upper().str.strip().map(
        {"N": "No SEN", "K": "SEN support", "E": "EHC plan"})
    sex = col("sex").astype("string").str.upper().str.strip().map({"F": "Girls", "M": "Boys"})
    eth = ethnic_group(col("ethnicity")).replace({"Unknown": _NR})
    return pd.DataFrame({
        "FSM": _flag_text(col("fsm_eligible"), "Eligible for FSM", "Not eligible for FSM"),
        "SEN provision": sen.astype("string"),
        "Sex": sex.astype("string"),
        "Ethnicity": eth.astype("string"),
    }, index=idx).fillna(_NR)


def listed_top(order, school, upn, pct: float = 10.0, k: int | None = None) -> np.ndarray:
    """Who each school lists: its top ``pct``% (or ``k``) by ``order``, ties broken by UPN."""
    o = np.asarray(order, dtype="float64")
    s_codes, _ = pd.factorize(pd.Series(np.asarray(school)), sort=True)
    u_codes, _ = pd.factorize(pd.Series(np.asarray(upn)), sort=True)
    idx = np.lexsort((u_codes, -o, s_codes))
    s_sorted = s_codes[idx]
    n = np.bincount(s_codes)
    starts = np.r_[0, np.cumsum(n)[:-1]]
    rank = np.arange(len(o)) - starts[s_sorted] + 1
    kk = capacity_k(n, pct=None if k else pct, k=k)
    out = np.zeros(len(o), dtype=bool)
    out[idx] = rank <= kk[s_sorted]
    return out


def _rates(t: pd.DataFrame) -> pd.DataFrame:
    neg = t["pupils"] - t["became_pa"]
    out = t.copy()
    out["prevalence"] = t["became_pa"] / t["pupils"].where(t["pupils"] > 0)
    for name, num, den in (("recall", t["true_positives"], t["became_pa"]),
                           ("false_positive_rate", t["false_positives"], neg),
                           ("precision", t["true_positives"], t["listed"])):
        out[name] = num / den.where(den > 0)
        lo, hi = wilson_interval(num, den)
        out[f"{name}_low"], out[f"{name}_high"] = lo, hi
    return out


def fairness_audit(y, listed, groups: pd.DataFrame, *, reference: dict | None = None,
                   min_pupils: int = 30, min_cases: int = 10) -> pd.DataFrame:
    """The audit table (see the module docstring).

    Parameters
    ----------
    y : became persistently absent (0/1), one per pupil.
    listed : on the list (bool), one per pupil (e.g. :func:`listed_top`).
    groups : :func:`characteristic_groups` of the same pupils (same order).

    Returns
    -------
    DataFrame
        ``characteristic, group, is_reference``, the :data:`COUNT_COLUMNS`, ``prevalence,
        recall, false_positive_rate, precision`` with ``_low``/``_high`` intervals,
        ``recall_ratio, false_positive_rate_ratio, precision_ratio`` (to the reference group)
        and ``warning``; one ``Overall`` row per characteristic.
    """
    reference = {**REFERENCE, **(reference or {})}
    y = np.asarray(y, dtype=bool)
    listed = np.asarray(listed, dtype=bool)
    base = pd.DataFrame({"pupils": 1, "became_pa": y.astype(int), "listed": listed.astype(int),
                         "true_positives": (y & listed).astype(int),
                         "false_positives": (~y & listed).astype(int),
                         "false_negatives": (y & ~listed).astype(int),
                         "true_negatives": (~y & ~listed).astype(int)})
    frames = []
    for ch in groups.columns:
        g = base.groupby(groups[ch].to_numpy()).sum().reset_index(names="group")
        overall = base.sum().to_frame().T.assign(group="Overall")
        t = pd.concat([g, overall], ignore_index=True).assign(characteristic=ch)
        frames.append(t)
    t = _rates(pd.concat(frames, ignore_index=True))
    t["is_reference"] = [reference.get(c) == g for c, g in zip(t["characteristic"], t["group"],
                                                                strict=True)]
    for m in ("recall", "false_positive_rate", "precision"):
        ref = t[t["is_reference"]].set_index("characteristic")[m]
        t[f"{m}_ratio"] = t[m] / t["characteristic"].map(ref)
    warn = []
    for r in t.itertuples():
        w = []
        if r.group != "Overall" and r.pupils < min_pupils:
            w.append(f"small group (fewer than {min_pupils} pupils)")
        elif r.group != "Overall" and r.became_pa < min_cases:
            w.append(f"fewer than {min_cases} became persistently absent: rates unreliable")
        warn.append("; ".join(w))
    t["warning"] = warn
    cols = ["characteristic", "group", "is_reference", *COUNT_COLUMNS, "prevalence",
            "recall", "recall_low", "recall_high", "false_positive_rate",
            "false_positive_rate_low", "false_positive_rate_high", "precision",
            "precision_low", "precision_high", "recall_ratio", "false_positive_rate_ratio",
            "precision_ratio", "warning"]
    order = {c: i for i, c in enumerate(groups.columns)}
    t["_o"] = t["characteristic"].map(order)
    t["_g"] = (t["group"] == "Overall").astype(int)
    return t.sort_values(["_o", "_g", "group"], ignore_index=True)[cols]


def sums_match(audit: pd.DataFrame) -> bool:
    """Whether, for every characteristic, the groups' counts add up to the overall row and
    the overall rates equal the rates recomputed from those sums."""
    for _, t in audit.groupby("characteristic"):
        overall = t[t["group"] == "Overall"]
        parts = t[t["group"] != "Overall"]
        if len(overall) != 1:
            return False
        o = overall.iloc[0]
        if any(int(parts[c].sum()) != int(o[c]) for c in COUNT_COLUMNS):
            return False
        s = parts[COUNT_COLUMNS].sum()
        checks = [(o["recall"], s["true_positives"] / s["became_pa"]),
                  (o["precision"], s["true_positives"] / s["listed"]),
                  (o["prevalence"], s["became_pa"] / s["pupils"])]
        if any(not np.isclose(a, b, equal_nan=True) for a, b in checks):
            return False
    return True
