"""The LA's early-warning model report (``notebooks/early_warning.ipynb``): parameters, tables,
charts.

One concept: what the model report shows, as functions the notebook calls once each
(product.md "Reports": how the model was validated, against which baselines, calibration,
fairness audit, what drives risk). The report is LA-wide, so it lists no pupil and passes every
count through :func:`attendance_lib.privacy.suppress` (``suppress_below``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from attendance_lib.academic_year import academic_year_label
from attendance_lib.store import Store

from .baselines import RULE_LABELS, RULES
from .evaluate import Dataset, Evaluation, PointResult, best_rule, evaluate, evaluate_point
from .fairness import REFERENCE, characteristic_groups, fairness_audit, listed_top, sums_match
from .points import POINT_LABELS, POINTS, school_calendar
from .reasons import contributions, drivers

__all__ = ["ModelReportError", "ModelReportParams", "check_params", "ModelReport", "run",
           "design_text", "comparison_table", "precision_chart", "calibration_chart",
           "calibration_summary", "audit_display", "audit_sums_sentence", "characteristics_effect",
           "drivers_table", "model_card_text", "population_note"]

_COLOURS = {"model": "#0072B2", "below_90_ytd": "#D55E00", "pa_last_year": "#7F7F7F",
            "rate_plus_spells": "#E69F00", "either_rule": "#009E73"}
_STYLES = {"model": "-", "below_90_ytd": "--", "pa_last_year": ":", "rate_plus_spells": "-.",
           "either_rule": (0, (5, 1))}


class ModelReportError(ValueError):
    """A parameter of the model report is wrong (one sentence: which, what, what was expected)."""


@dataclass(frozen=True)
class ModelReportParams:
    store: Store
    as_of: date
    model_dir: Path | None
    suppress_below: int
    card: dict | None
    main_point: str


def check_params(*, store: str, as_of: str = "", model_dir: str = "",
                 suppress_below: int = 5) -> ModelReportParams:
    """Validate the notebook's parameters (papermill passes strings and numbers)."""
    from .artefact import ModelArtefactError, load_model

    if not isinstance(store, str) or not store.strip():
        raise ModelReportError("store: give the store folder (a path), e.g. 'data/demo_store'")
    st = Store(Path(store).expanduser())
    if not st.exists():
        raise ModelReportError(f"store: {st.root} is not a store (no store.json); load data "
                               f"with 'attendance ingest --store {st.root} ...'")
    latest = st.latest_date()
    if latest is None:
        raise ModelReportError(f"store: {st.root} holds no marks yet")
    if not isinstance(as_of, str):
        raise ModelReportError(f"as_of: {as_of!r} is not text in the form YYYY-MM-DD")
    try:
        day = date.fromisoformat(as_of) if as_of.strip() else latest
    except ValueError:
        raise ModelReportError(f"as_of: {as_of!r} is not a date in the form YYYY-MM-DD") \
            from None
    if isinstance(suppress_below, bool) or not isinstance(suppress_below, int) or \
            suppress_below < 0:
        raise ModelReportError(f"suppress_below: {suppress_below!r} is not a whole number >= 0")
    if not isinstance(model_dir, str):
        raise ModelReportError(f"model_dir: {model_dir!r} is not text (a folder or '')")
    card, folder, point = None, None, "october_half_term"
    if model_dir.strip():
        folder = Path(model_dir).expanduser()
        try:
            _, card = load_model(folder)
        except ModelArtefactError as exc:
            raise ModelReportError(f"model_dir: {exc}") from None
        if card.get("point") in POINTS:
            point = card["point"]
    return ModelReportParams(st, day, folder, int(suppress_below), card, point)


@dataclass
class ModelReport:
    params: ModelReportParams
    evaluation: Evaluation
    main: PointResult
    with_characteristics: PointResult
    audit: pd.DataFrame
    audit_rule: pd.DataFrame
    audit_characteristics: pd.DataFrame
    groups: pd.DataFrame


def _groups(store: Store, predictions: pd.DataFrame) -> pd.DataFrame:
    pupils = store.pupils().astype({"upn": "string", "urn": "string"})
    p = pupils.drop_duplicates(["upn", "urn"], keep="last")
    m = predictions[["upn", "urn"]].astype("string").merge(p, on=["upn", "urn"], how="left")
    return characteristic_groups(m)


def _audit(pred: pd.DataFrame, order_col: str, groups: pd.DataFrame, label: str,
           pct: float = 10.0) -> pd.DataFrame:
    listed = listed_top(pred[order_col].to_numpy(), pred["urn"].to_numpy(),
                        pred["upn"].to_numpy(), pct=pct)
    return fairness_audit(pred[label].to_numpy(), listed, groups.reset_index(drop=True))


def run(p: ModelReportParams, n_boot: int = 200, label: str | None = None) -> ModelReport:
    """Every evaluation the report needs (a few minutes for a large LA)."""
    label = label or (p.card or {}).get("label", "pa_year_end")
    data = Dataset(p.store, school_calendar(p.store), cache_size=4)
    characteristics = bool((p.card or {}).get("characteristics"))
    ev = evaluate(p.store, p.as_of, label=label, characteristics=characteristics,
                  n_boot=n_boot, data=data)
    main = ev.point(p.main_point)
    chars = evaluate_point(data, ev.test_year, ev.training_years, p.main_point, label=label,
                           characteristics=not characteristics, n_boot=n_boot)
    if characteristics:  # the evaluation already used them: compare with the default
        main, chars = chars, main
    groups = _groups(p.store, main.predictions)
    audit = _audit(main.predictions, "model_order", groups, label)
    rule, _ = best_rule(main, "precision_top10")
    audit_rule = _audit(main.predictions, f"rule_{rule}", groups, label)
    audit_chars = _audit(chars.predictions, "model_order",
                         _groups(p.store, chars.predictions), label)
    return ModelReport(p, ev, main, chars, audit, audit_rule, audit_chars, groups)


def design_text(r: ModelReport) -> str:
    """How the model was validated, in a few sentences (markdown)."""
    ev = r.evaluation
    pts = "; ".join(f"{POINT_LABELS.get(x.point, x.point)} ({x.as_of:%d %b %Y}, trained as of "
                    + ", ".join(f"{d:%d %b %Y}" for d in x.training_dates.values()) + ")"
                    for x in ev.points)
    chosen = ", ".join(f"{POINT_LABELS.get(x.point, x.point)}: {x.chosen}" for x in ev.points)
    return (
        f"**Test year {academic_year_label(ev.test_year)}**, never seen in training. At each point "
        f"in the year a model was trained on the pupils on roll at the same point of "
        f"**{', '.join(academic_year_label(y) for y in ev.training_years)}**, with what happened "
        f"to them by the end of that year, then scored the test year's pupils using only their "
        f"registers up to that date. Points: {pts}.\n\n"
        f"The outcome is **persistent absence over the whole year** (absence of 10% or more of "
        f"the pupil's own possible sessions at that school, DfE's measure) "
        f"{'at the end of the next term' if ev.label == 'pa_next_term_end' else ''}. "
        f"Two candidate models (a regularised logistic regression and gradient-boosted trees) "
        f"were compared on validation data inside the training years (a quarter of the schools "
        f"held out); the better one on average precision was kept ({chosen}) and its "
        f"probabilities calibrated on whole-school folds. Term dates: {ev.calendar_source}."
        + "".join(f"\n\n**Note:** {n}." for n in ev.notes))


def _fmt(est, lo, hi, pct=True) -> str:
    if est is None or (isinstance(est, float) and math.isnan(est)):
        return "–"
    f = (lambda v: f"{v * 100:.1f}%") if pct else (lambda v: f"{v:.3f}")
    if lo is None or (isinstance(lo, float) and math.isnan(lo)):
        return f(est)
    return f"{f(est)} ({f(lo)} to {f(hi)})"


def comparison_table(r: ModelReport, population: str = "all",
                     metric: str = "precision_top10") -> pd.DataFrame:
    """Model against every rule at each point: ``metric`` with 95% intervals."""
    rows = []
    pct = not metric.startswith(("roc", "average"))
    for x in r.evaluation.points:
        m = x.metrics[(x.metrics["population"] == population) & (x.metrics["metric"] == metric)]
        row = {"Point": POINT_LABELS.get(x.point, x.point)}
        for scorer in ("model", *RULES):
            v = m[m["scorer"] == scorer].iloc[0]
            row["Model" if scorer == "model" else RULE_LABELS[scorer]] = _fmt(
                v.estimate, v.low, v.high, pct)
        rows.append(row)
    return pd.DataFrame(rows)


def precision_chart(r: ModelReport, metric: str = "precision_top10") -> Figure:
    """Precision at the top 10% by point: all pupils, and pupils not yet persistently absent."""
    fig = Figure(figsize=(10, 4.2), dpi=100, layout="constrained")
    axes = fig.subplots(1, 2)
    pts = r.evaluation.points
    x = np.arange(len(pts))
    for ax, pop, title in ((axes[0], "all", "All pupils on roll"),
                           (axes[1], "not_yet_pa", "Pupils not yet persistently absent")):
        for scorer in ("model", *RULES):
            est = [p.value(scorer, metric, pop) for p in pts]
            label = "Model" if scorer == "model" else RULE_LABELS[scorer]
            ax.plot(x, np.array(est) * 100, _STYLES[scorer] if isinstance(
                _STYLES[scorer], str) else "-", color=_COLOURS[scorer], marker="o",
                    label=label, linewidth=2.5 if scorer == "model" else 1.5)
        ax.set_xticks(x, [POINT_LABELS.get(p.point, p.point) for p in pts], rotation=20)
        ax.set_ylabel("Precision at top 10% of roll (%)")
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylim(bottom=0)
    axes[1].legend(fontsize=8, loc="upper left", frameon=False)
    fig.suptitle("Share of each school's listed pupils who became persistently absent")
    return fig


def calibration_chart(point: PointResult, suppress_below: int = 5) -> Figure:
    """Observed rate against predicted risk (bins with fewer pupils than the threshold hidden)."""
    t = point.calibration
    t = t[t["pupils"] >= max(suppress_below, 1)]
    fig = Figure(figsize=(5.5, 5), dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 100], [0, 100], ":", color="#7F7F7F", label="perfect calibration")
    ax.plot(t["mean_predicted"] * 100, t["observed"] * 100, "o-", color=_COLOURS["model"],
            label="model")
    ax.set_xlabel("Predicted risk (%)")
    ax.set_ylabel("Pupils who became persistently absent (%)")
    ax.set_title(f"Calibration, {POINT_LABELS.get(point.point, point.point)} "
                 f"{academic_year_label(point.test_year)}")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def calibration_summary(r: ModelReport) -> pd.DataFrame:
    """Brier score and expected calibration error at each point, with intervals."""
    rows = []
    for x in r.evaluation.points:
        m = x.metrics[(x.metrics["population"] == "all") & (x.metrics["scorer"] == "model")]
        get = m.set_index("metric")
        rows.append({
            "Point": POINT_LABELS.get(x.point, x.point),
            "Pupils": x.n_test, "Became persistently absent": f"{x.prevalence * 100:.1f}%",
            "Mean predicted risk": f"{x.predictions['risk'].mean() * 100:.1f}%",
            "Brier score": _fmt(*get.loc["brier", ["estimate", "low", "high"]], pct=False),
            "Expected calibration error": _fmt(*get.loc["ece", ["estimate", "low", "high"]],
                                               pct=False),
        })
    return pd.DataFrame(rows)


def audit_display(audit: pd.DataFrame, suppress_below: int) -> pd.DataFrame:
    """The audit for an LA-wide page: small counts and their rates suppressed, rates in %."""
    from attendance_lib.privacy import suppress

    rates = ["prevalence", "recall", "false_positive_rate", "precision"]
    t = audit.copy()
    for c in rates:
        lo, hi = f"{c}_low", f"{c}_high"
        t[c] = [_fmt(a, b, d) if c != "prevalence" else _fmt(a, None, None)
                for a, b, d in zip(t[c], t.get(lo, t[c]), t.get(hi, t[c]), strict=True)]
    for c in ("recall_ratio", "false_positive_rate_ratio", "precision_ratio"):
        t[c] = t[c].map(lambda v: "–" if pd.isna(v) else f"{v:.2f}")
    t["group"] = np.where(t["is_reference"], t["group"] + " (reference)", t["group"])
    derived = {"pupils": rates + ["recall_ratio", "false_positive_rate_ratio",
                                  "precision_ratio"],
               "became_pa": ["recall", "prevalence", "recall_ratio"],
               "listed": ["precision", "precision_ratio"]}
    t = suppress(t, ["pupils", "became_pa", "listed"], suppress_below, derived=derived,
                 keep_zero=True, within="characteristic")
    cols = {"characteristic": "Characteristic", "group": "Group", "pupils": "Pupils",
            "became_pa": "Became PA", "listed": "Listed", "prevalence": "PA rate",
            "recall": "Recall (found)", "recall_ratio": "Recall vs reference",
            "false_positive_rate": "False-positive rate",
            "false_positive_rate_ratio": "FPR vs reference", "precision": "Precision",
            "precision_ratio": "Precision vs reference", "warning": "Warning"}
    return t[list(cols)].rename(columns=cols)


def audit_sums_sentence(r: ModelReport) -> str:
    ok = all(sums_match(a) for a in (r.audit, r.audit_rule, r.audit_characteristics))
    n = int(r.audit[r.audit["group"] == "Overall"]["pupils"].iloc[0])
    return (f"Check: for every characteristic the groups' pupils, persistent absentees, listed "
            f"pupils and true/false positives add up to the overall figures ({n:,} pupils): "
            f"**{'yes' if ok else 'NO - the audit is wrong'}**. Reference groups: "
            + "; ".join(f"{k}: {v}" for k, v in REFERENCE.items()) + ".")


def characteristics_effect(r: ModelReport) -> pd.DataFrame:
    """What allowing characteristics as features changes: overall measures and recall by
    group."""
    rows = []
    for metric, name in (("roc_auc", "ROC AUC"), ("average_precision", "Average precision"),
                         ("precision_top10", "Precision, top 10%"),
                         ("recall_top10", "Recall, top 10%"), ("ece", "Calibration error")):
        a, b = r.main.value("model", metric), r.with_characteristics.value("model", metric)
        rows.append({"Measure": name, "Without characteristics": f"{a:.3f}",
                     "With characteristics": f"{b:.3f}", "Change": f"{b - a:+.3f}"})
    for ch in ("FSM", "SEN provision", "Sex", "Ethnicity"):
        a = r.audit[(r.audit["characteristic"] == ch) & (r.audit["group"] != "Overall")]
        b = r.audit_characteristics[(r.audit_characteristics["characteristic"] == ch)]
        for g in a.itertuples():
            if g.pupils < r.params.suppress_below or g.became_pa < r.params.suppress_below:
                continue
            rb = b[b["group"] == g.group]
            if rb.empty:
                continue
            vb = float(rb["recall"].iloc[0])
            rows.append({"Measure": f"Recall, {ch}: {g.group}",
                         "Without characteristics": f"{g.recall:.3f}",
                         "With characteristics": f"{vb:.3f}",
                         "Change": f"{vb - g.recall:+.3f}"})
    return pd.DataFrame(rows)


def drivers_table(r: ModelReport) -> pd.DataFrame:
    """What drives risk at the main point: themes by mean contribution among listed pupils."""
    pred = r.main.predictions
    listed = listed_top(pred["model_order"].to_numpy(), pred["urn"].to_numpy(),
                        pred["upn"].to_numpy(), pct=10)
    model = r.main.model
    c = contributions(model, pred)
    d = drivers(model, pred, listed=listed, contrib=c)
    return d.rename(columns={
        "theme": "Theme", "mean_contribution_pp": "Mean contribution, all pupils (pp)",
        "mean_contribution_listed_pp": "Mean contribution, listed pupils (pp)",
        "top_reason_share_listed_pct": "Top reason for listed pupils (%)"}).round(2)


def model_card_text(p: ModelReportParams) -> str:
    """The saved model's card (markdown), or a note that none was given."""
    if p.model_dir is None:
        return ("No saved model was given (`model_dir`): this report re-trains the model at "
                "each point to validate it. Train the model schools will use with "
                "`attendance model train`.")
    from .artefact import CARD_MD

    return (p.model_dir / CARD_MD).read_text()


def population_note(r: ModelReport) -> str:
    x = r.main
    return (f"At {POINT_LABELS.get(x.point, x.point)} {academic_year_label(x.test_year)}, "
            f"{x.n_test:,} pupils were on roll; {x.prevalence * 100:.1f}% became persistently "
            f"absent by the end of the year. {x.n_not_yet_pa:,} were not yet persistently absent "
            f"on that date, and {x.prevalence_not_yet_pa * 100:.1f}% of them became so: these "
            f"are the pupils a 'below 90%' list cannot show.")

