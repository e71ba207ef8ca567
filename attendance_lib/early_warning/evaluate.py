"""Temporal validation: train on earlier years as of a point in the year, test on a later year.

One concept: how the model is validated (issue 5 item 3; product.md "Known pitfalls": split by
time, not at random). For each evaluation point (:data:`~.points.POINTS`) of the *test year*
(the latest academic year complete in the store by ``as_of``):

1. features of every enrolment on roll at that point of each earlier complete year (the
   *training years*), with their labels, train an :class:`~.models.EarlyWarningClassifier`
   (which chooses a candidate on validation data and calibrates it, all inside the training
   years);
2. the test year's pupils at the same point are scored by the model and by every rule
   (:mod:`.baselines`), and compared with what happened (:mod:`.labels`);
3. every measure (:mod:`.metrics`) is reported with school-bootstrap intervals, over all pupils
   and over the pupils **not yet** persistently absent on the date (those a "below 90%" list
   cannot show; issue 5 acceptance).

Cohorts overlap across years (a pupil in Year 8 of the test year was in Year 7 of a training
year); that is the situation the model meets in use, and labels are never shared across years.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from attendance_lib.academic_year import academic_year_label
from attendance_lib.store import Store

from .baselines import RULE_LABELS, RULES, rule_scores
from .features import build_features, feature_names
from .labels import LABELS, add_labels
from .metrics import bootstrap_metrics, calibration_table
from .models import EarlyWarningClassifier
from .points import POINT_LABELS, POINTS, SchoolCalendar, school_calendar

__all__ = ["Dataset", "PointResult", "Evaluation", "test_and_training_years", "evaluate",
           "evaluate_point", "best_rule", "comparability_notes", "DEFAULT_CAPACITIES"]

DEFAULT_CAPACITIES = (5, 10, 20)
POPULATIONS = {"all": "all pupils on roll", "not_yet_pa": "pupils not yet persistently absent"}


class Dataset:
    """Features with labels for (academic year, as-of date) pairs, computed once each.

    Features are computed with the characteristics included (a superset); models pick their
    columns, so a run with and without characteristics shares the work.
    """

    def __init__(self, store: Store, calendar: SchoolCalendar | None = None,
                 cache_size: int | None = None):
        self.store = store
        self.calendar = calendar or school_calendar(store)
        self.cache_size = cache_size  # most (date, labels) tables kept; None = all
        self._cache: dict[tuple, pd.DataFrame] = {}
        self._pupils = store.pupils()
        self._schools = store.schools()

    def at(self, as_of, labels: bool = True) -> pd.DataFrame:
        as_of = pd.Timestamp(as_of).date()
        key = (as_of, labels)
        if key in self._cache:
            self._cache[key] = self._cache.pop(key)  # most recently used last
            return self._cache[key]
        f = build_features(self.store, as_of, characteristics=True, calendar=self.calendar,
                           pupils=self._pupils, schools=self._schools)
        if labels:
            f = add_labels(self.store, f, self.calendar)
        self._cache[key] = f
        while self.cache_size is not None and len(self._cache) > self.cache_size:
            self._cache.pop(next(iter(self._cache)))
        return f

    def training(self, as_of, years) -> pd.DataFrame:
        """Rows of each training year at the same point of the year as ``as_of``."""
        frames = [self.at(self.calendar.same_point(as_of, y)) for y in years]
        return pd.concat(frames, ignore_index=True)



def fit_classifier(rows: pd.DataFrame, cols: list[str], label: str,
                   random_state: int = 0) -> EarlyWarningClassifier:
    """An :class:`~.models.EarlyWarningClassifier` fitted on training ``rows`` (its choice
    between candidate models is validated across schools and years)."""
    return EarlyWarningClassifier(random_state=random_state).fit(
        rows[cols], rows[label], groups=rows["urn"].to_numpy(),
        years=rows["academic_year"].to_numpy())

def comparability_notes(training_years, target_year: int) -> list[str]:
    """Warnings when the years compared are not like for like (product.md "Known pitfalls":
    COVID-era code X and the 2024 code changes break comparability; domain.md 1.2, 1.3)."""
    from attendance_lib.codes import COVID_X_YEARS, FIRST_2024_YEAR

    notes = []
    covid = [y for y in [*training_years, target_year] if y in COVID_X_YEARS]
    if covid:
        notes.append(
            f"{', '.join(academic_year_label(y) for y in covid)}: code X then meant 'not "
            "attending for COVID-19 reasons' (possible, not absent), and absence was unusual; "
            "patterns learnt from these years may not carry over")
    before = [y for y in training_years if y < FIRST_2024_YEAR]
    if before and target_year >= FIRST_2024_YEAR:
        notes.append(
            f"training years {', '.join(academic_year_label(y) for y in before)} used the 2006 "
            f"code set and {academic_year_label(target_year)} the 2024 one: the features use "
            "codes whose meaning did not change (I, M, O, G, N, L, U, E); part-time timetables "
            "(C2 since 2024, inside C before) and agreed leave are only in the totals")
    return notes


def test_and_training_years(store: Store, calendar: SchoolCalendar, as_of) -> tuple[int, list]:
    """The latest academic year complete by ``as_of`` (test) and the complete ones before it."""
    as_of = pd.Timestamp(as_of).date()
    latest = store.latest_date()
    if latest is None:
        raise ValueError(f"{store.root}: the store holds no marks")
    seen = min(latest, as_of)
    years = sorted(int(y) for y in calendar.half_terms["academic_year"].unique())
    complete = [y for y in years if calendar.year_complete(y, seen)]
    if len(complete) < 2:
        raise ValueError(
            "temporal validation needs at least two complete academic years in the store by "
            f"{as_of} (one to train on, a later one to test on); complete: "
            f"{', '.join(academic_year_label(y) for y in complete) or 'none'}")
    return complete[-1], complete[:-1]


@dataclass
class PointResult:
    point: str
    as_of: date
    test_year: int
    training_dates: dict
    label: str
    characteristics: bool
    chosen: str
    validation: dict
    calibration_method: str
    n_test: int
    n_not_yet_pa: int
    prevalence: float
    prevalence_not_yet_pa: float
    metrics: pd.DataFrame  # population, scorer, metric, estimate, low, high
    calibration: pd.DataFrame
    predictions: pd.DataFrame = field(repr=False)
    model: EarlyWarningClassifier | None = field(default=None, repr=False)

    def value(self, scorer: str, metric: str, population: str = "all") -> float:
        m = self.metrics
        row = m[(m["population"] == population) & (m["scorer"] == scorer)
                & (m["metric"] == metric)]
        if row.empty:
            raise KeyError(f"no {metric} for {scorer} ({population})")
        return float(row["estimate"].iloc[0])

    def to_dict(self) -> dict:
        def block(pop, scorer):
            m = self.metrics[(self.metrics["population"] == pop)
                             & (self.metrics["scorer"] == scorer)]
            return {r.metric: {"estimate": _num(r.estimate), "low": _num(r.low),
                               "high": _num(r.high)} for r in m.itertuples()}

        return {
            "point": self.point, "point_label": POINT_LABELS.get(self.point, self.point),
            "as_of": self.as_of.isoformat(), "test_year": academic_year_label(self.test_year),
            "training_as_of": {academic_year_label(y): d.isoformat()
                               for y, d in self.training_dates.items()},
            "label": self.label, "characteristics_used": self.characteristics,
            "model": {"chosen": self.chosen, "calibration": self.calibration_method,
                      "validation": self.validation},
            "pupils": self.n_test, "pupils_not_yet_pa": self.n_not_yet_pa,
            "prevalence": self.prevalence, "prevalence_not_yet_pa": self.prevalence_not_yet_pa,
            "populations": {pop: {"model": block(pop, "model"),
                                  "baselines": {r: block(pop, r) for r in RULES}}
                            for pop in POPULATIONS},
        }


def _num(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


@dataclass
class Evaluation:
    test_year: int
    training_years: list
    label: str
    points: list  # PointResult
    calendar_source: str
    notes: list = field(default_factory=list)

    def point(self, name: str) -> PointResult:
        for p in self.points:
            if p.point == name:
                return p
        raise KeyError(name)

    def summary(self, population: str = "all", metric: str = "precision_top10") -> pd.DataFrame:
        """One row per point: the model's and each rule's value of ``metric``."""
        rows = []
        for p in self.points:
            r = {"point": POINT_LABELS.get(p.point, p.point), "as_of": p.as_of, "chosen": p.chosen,
                 "model": p.value("model", metric, population)}
            for rule in RULES:
                r[RULE_LABELS[rule]] = p.value(rule, metric, population)
            rows.append(r)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {"test_year": academic_year_label(self.test_year),
                "training_years": [academic_year_label(y) for y in self.training_years],
                "label": self.label, "calendar": self.calendar_source, "notes": self.notes,
                "rules": RULE_LABELS, "points": [p.to_dict() for p in self.points]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def best_rule(result: PointResult, metric: str, population: str = "all") -> tuple[str, float]:
    """The rule with the highest ``metric`` (and its value)."""
    vals = {r: result.value(r, metric, population) for r in RULES}
    name = max(vals, key=lambda r: -math.inf if math.isnan(vals[r]) else vals[r])
    return name, vals[name]


def evaluate_point(data: Dataset, test_year: int, training_years, point, *,
                   label: str = "pa_year_end", characteristics: bool = False,
                   capacities=DEFAULT_CAPACITIES, user_k: int | None = None,
                   n_boot: int = 200, random_state: int = 0) -> PointResult:
    """Train on ``training_years`` at ``point``, test on ``test_year`` (see module docstring).

    ``point`` is a name from :data:`~.points.POINTS` or a date (then the same point of the
    school year is used in every year, :meth:`~.points.SchoolCalendar.same_point`).
    """
    if label not in LABELS:
        raise ValueError(f"label must be one of {', '.join(LABELS)}, not {label!r}")
    cal = data.calendar
    if isinstance(point, str) and point in POINTS:
        test_date = cal.point(test_year, point)
    else:
        test_date = cal.same_point(pd.Timestamp(point).date(), test_year)
        point = cal.point_name(test_date) or "custom"
    train_dates = {y: cal.same_point(test_date, y) for y in training_years}
    train = data.training(test_date, training_years)
    cols = feature_names(characteristics)
    model = fit_classifier(train, cols, label, random_state)
    test = data.at(test_date).copy()
    risk, order = model.rank_score(test[cols])
    test["risk"] = risk
    test["model_order"] = order
    rules = rule_scores(test)
    for r in RULES:
        test[f"rule_{r}"] = rules[r].to_numpy()
    y = test[label].to_numpy()
    tables = []
    for pop, mask in (("all", np.ones(len(test), bool)), ("not_yet_pa", ~test["pa_now"])):
        t = test[np.asarray(mask)]
        scorers = {"model": t["model_order"].to_numpy(),
                   **{r: t[f"rule_{r}"].to_numpy() for r in RULES}}
        m = bootstrap_metrics(t[label].to_numpy(), scorers, t["urn"].to_numpy(),
                              probs={"model": t["risk"].to_numpy()}, capacities=capacities,
                              user_k=user_k, n_boot=n_boot, seed=random_state)
        tables.append(m.assign(population=pop))
    metrics = pd.concat(tables, ignore_index=True)[
        ["population", "scorer", "metric", "estimate", "low", "high"]]
    nyp = ~test["pa_now"].to_numpy()
    return PointResult(
        point=point, as_of=test_date, test_year=test_year, training_dates=train_dates,
        label=label, characteristics=characteristics, chosen=model.chosen_,
        validation=model.validation_, calibration_method=model.calibration_method_,
        n_test=len(test), n_not_yet_pa=int(nyp.sum()), prevalence=float(y.mean()),
        prevalence_not_yet_pa=float(y[nyp].mean()) if nyp.any() else math.nan,
        metrics=metrics, calibration=calibration_table(y, risk), predictions=test, model=model)


def evaluate(store: Store, as_of, *, points=POINTS, label: str = "pa_year_end",
             characteristics: bool = False, capacities=DEFAULT_CAPACITIES,
             user_k: int | None = None, n_boot: int = 200, random_state: int = 0,
             data: Dataset | None = None, term_dates=None) -> Evaluation:
    """Evaluate the model and the rules at each point of the latest complete year by
    ``as_of`` (see the module docstring)."""
    data = data or Dataset(store, school_calendar(store, term_dates))
    test_year, train_years = test_and_training_years(store, data.calendar, as_of)
    bad = [p for p in points if p not in POINTS]
    if bad:
        raise ValueError(f"unknown evaluation points {bad}; choose from {', '.join(POINTS)}")
    results = [evaluate_point(data, test_year, train_years, p, label=label,
                              characteristics=characteristics, capacities=capacities,
                              user_k=user_k, n_boot=n_boot, random_state=random_state)
               for p in points]
    return Evaluation(test_year, train_years, label, results, data.calendar.source,
                      comparability_notes(train_years, test_year))
