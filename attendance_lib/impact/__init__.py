"""Intervention impact: did the support work, for whom, compared with what would have happened.

Pupils are chosen for support because their attendance is low, so their attendance tends to
recover anyway (regression to the mean) and a before/after comparison flatters every
intervention (product.md, "Intervention impact" and "Known pitfalls"). This package compares
supported pupils with similar pupils who were not (yet) supported on the same dates:

* :mod:`.panel` -- the register by day, school weeks, the interventions, the weekly panel;
* :mod:`.features` -- what each pupil looked like on a start date;
* :mod:`.matching` -- the comparison group and its balance table;
* :mod:`.naive`, :mod:`.did`, :mod:`.event_study`, :mod:`.rdd`, :mod:`.placebo` -- designs,
  each returning an :class:`~.estimate.Estimate` (estimate, 95% interval, diagnostics);
* :mod:`.heterogeneity` -- for whom;
* :mod:`.report` -- everything for each type, in plain English; :mod:`.cli` -- ``attendance
  impact``.

Names are imported on first use, so ``import attendance_lib.impact`` is cheap.
"""

from __future__ import annotations

import importlib

__all__ = ["analyse", "analyse_type", "estimates_table", "ImpactError", "Estimate",
           "MatchParams", "match", "balance_table", "matched_did", "year_end_pa",
           "naive_before_after", "event_study", "plot_event_study", "regression_discontinuity",
           "placebo", "heterogeneity", "load_register", "load_episodes", "weekly_panel"]

_WHERE = {
    "analyse": "report", "analyse_type": "report", "estimates_table": "report",
    "ImpactError": "panel", "load_register": "panel", "load_episodes": "panel",
    "weekly_panel": "panel", "Estimate": "estimate", "MatchParams": "matching",
    "match": "matching", "balance_table": "matching", "matched_did": "did",
    "year_end_pa": "did", "naive_before_after": "naive", "event_study": "event_study",
    "plot_event_study": "event_study", "regression_discontinuity": "rdd",
    "placebo": "placebo", "heterogeneity": "heterogeneity",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
