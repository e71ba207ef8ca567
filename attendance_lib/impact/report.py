"""Did the support work, for whom, compared with what would have happened anyway.

:func:`analyse` runs every design for each intervention type in a store and
:func:`type_summary` / :func:`estimates_table` turn the results into what a head of service
reads: one plain-English sentence per type (the matched comparison), what a naive
before-and-after comparison would have claimed, the balance table, the event-study plot, the
effect for different groups of pupils and the caveats that apply. LA-wide output lists no pupil;
counts under ``suppress_below`` are not shown.

Designs, in the order the report trusts them (see each module):

``naive_before_after`` -- the number to be wary of (:mod:`.naive`);
``matched_did`` -- the headline (:mod:`.matching`, :mod:`.did`);
``event_study`` -- the same comparison week by week, with a pre-trend test (:mod:`.event_study`);
``placebo`` -- the design run at a pretend earlier start (:mod:`.placebo`);
``regression_discontinuity`` -- where support followed a threshold rule (:mod:`.rdd`);
``year_end_pa`` -- second outcome: persistent absence over the whole year (:mod:`.did`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .did import matched_did, year_end_pa
from .estimate import Estimate
from .event_study import EventStudy, event_study, plot_event_study
from .heterogeneity import heterogeneity
from .matching import SMD_OK, MatchedSample, MatchParams, balance_table, match
from .naive import naive_before_after
from .panel import (
    ImpactError,
    Register,
    check_types,
    load_episodes,
    load_register,
    pupil_characteristics,
)
from .placebo import placebo
from .rdd import RDResult, regression_discontinuity

__all__ = ["LABELS", "THRESHOLD_RULES", "DESIGNS", "TypeImpact", "ImpactReport", "analyse",
           "analyse_type", "estimates_table", "headline", "naive_sentence", "caveats",
           "plot_event_study", "ImpactParams", "check_params", "design_table",
           "balance_display", "groups_display", "pa_sentence", "rd_sentence", "sections",
           "summary_markdown"]

#: how each type is named in sentences: (name, "after <it began>", "compared with <...>")
LABELS = {
    "mentoring": ("Mentoring", "it began", "similar pupils who were not mentored"),
    "attendance_contract": ("Attendance contracts", "they began",
                            "similar pupils without a contract"),
    "early_help": ("Early help", "it began", "similar pupils not referred to early help"),
    "penalty_notice": ("Penalty notices", "they were issued",
                       "similar pupils who were not issued one"),
    "attendance_letter": ("Attendance letters", "they were sent",
                          "similar pupils who were not sent one"),
}
#: types offered by a threshold rule: year-to-date absence % at or above which it is offered
#: (attendance below 90% = absence 10%+; product.md "Synthetic data": mentoring is offered after
#: the October half-term to pupils below 90%, with limited places)
THRESHOLD_RULES = {"mentoring": 10.0, "attendance_letter": 10.0}
DESIGNS = ("naive_before_after", "matched_did", "event_study", "placebo",
           "regression_discontinuity", "year_end_pa")
#: a regression discontinuity is reported only when the share supported jumps at least this
#: much at the cut-off (otherwise the rule was not applied and the design does not apply)
RD_MIN_FIRST_STAGE = 0.5


def label(kind: str) -> tuple[str, str, str]:
    if kind in LABELS:
        return LABELS[kind]
    name = kind.replace("_", " ")
    return name[:1].upper() + name[1:], "it began", f"similar pupils who did not have {name}"


@dataclass
class TypeImpact:
    """Every design's result for one intervention type."""

    type: str
    window_weeks: int
    estimates: dict[str, Estimate]
    sample: MatchedSample
    balance: pd.DataFrame
    event: EventStudy
    groups: pd.DataFrame
    rd: RDResult | None
    other_support: pd.DataFrame
    suppress_below: int = 5

    @property
    def sentence(self) -> str:
        return headline(self.estimates["matched_did"], self.type, self.window_weeks)

    @property
    def naive(self) -> str:
        return naive_sentence(self.estimates["naive_before_after"],
                              self.estimates["matched_did"], self.type)

    @property
    def caveats(self) -> list[str]:
        return caveats(self)


@dataclass
class ImpactReport:
    types: dict[str, TypeImpact]
    window_weeks: int
    as_of: object = None
    skipped: dict = field(default_factory=dict)


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def headline(e: Estimate, kind: str, window_weeks: int) -> str:
    """The one plain-English sentence about the matched comparison."""
    name, began, versus = label(kind)
    if not math.isfinite(e.estimate_pp):
        why = e.diagnostics.get("not_estimated", "not enough data")
        return f"{name}: no estimate ({why})."
    when = f"in the {window_weeks} school weeks after {began}, compared with {versus}"
    lo, hi = e.ci_low, e.ci_high
    if hi < 0:
        return (f"{name} reduced absence by {_fmt(-e.estimate_pp)} percentage points "
                f"(95% CI {_fmt(-hi)} to {_fmt(-lo)}) {when}.")
    if lo > 0:
        return (f"{name} increased absence by {_fmt(e.estimate_pp)} percentage points "
                f"(95% CI {_fmt(lo)} to {_fmt(hi)}) {when}.")
    return (f"There is no clear evidence that {name[:1].lower() + name[1:]} changed absence: "
            f"the estimated change is {_fmt(e.estimate_pp)} percentage points (95% CI "
            f"{_fmt(lo)} to {_fmt(hi)}) {when}.")


def naive_sentence(naive: Estimate, did: Estimate, kind: str) -> str:
    """What a before-and-after comparison would have claimed, and why it misleads."""
    name, _, _ = label(kind)
    if not math.isfinite(naive.estimate_pp):
        return ""
    pre, post = naive.diagnostics.get("pre_rate_pct"), naive.diagnostics.get("post_rate_pct")
    direction = "fell" if naive.estimate_pp < 0 else "rose"
    s = (f"A simple before-and-after comparison would have claimed that absence {direction} "
         f"by {_fmt(abs(naive.estimate_pp))} percentage points (from {_fmt(pre)}% to "
         f"{_fmt(post)}%) for the pupils who had {name[:1].lower() + name[1:]}.")
    comp = did.diagnostics.get("comparison_change_pp")
    if comp is not None and math.isfinite(comp):
        cdir = "fell" if comp < 0 else "rose"
        s += (f" But the comparison pupils' absence {cdir} by {_fmt(abs(comp))} points over the "
              f"same weeks without it: pupils are picked when their attendance is at its worst, "
              f"and it tends to recover on its own (regression to the mean).")
    return s


def _other_support(units: pd.DataFrame, episodes: pd.DataFrame, kind: str,
                   window_weeks: int) -> pd.DataFrame:
    """Share of supported and comparison pupils who started another type of support in the
    outcome window (weighted like the estimate)."""
    if units.empty:
        return pd.DataFrame(columns=["other_type", "treated_pct", "comparison_pct"])
    other = episodes[(episodes["type"] != kind) & (episodes["status"] == "ok")]
    rows = []
    end = units["start_date"] + pd.to_timedelta(7 * (window_weeks + 2), unit="D")
    for t, g in other.groupby("type"):
        m = units[["upn", "start_date"]].assign(i=np.arange(len(units)), end=end.to_numpy()) \
            .merge(g[["upn", "start_date"]].rename(columns={"start_date": "s"}), on="upn")
        hit = m.loc[(m["s"] >= m["start_date"]) & (m["s"] <= m["end"]), "i"].unique()
        flag = np.zeros(len(units))
        flag[hit] = 1
        tr = (units["role"] == "treated").to_numpy()
        w = units["weight"].to_numpy(float)
        rows.append({"other_type": t, "treated_pct": 100 * flag[tr].mean(),
                     "comparison_pct": 100 * np.average(flag[~tr], weights=w[~tr])
                     if (~tr).any() else np.nan})
    return pd.DataFrame(rows, columns=["other_type", "treated_pct", "comparison_pct"])


def analyse_type(reg: Register, episodes: pd.DataFrame, kind: str, *,
                 params: MatchParams | None = None, chars: pd.DataFrame | None = None,
                 placebo_shift: int = 4, thresholds: dict | None = None,
                 suppress_below: int = 5, detail: bool = True) -> TypeImpact:
    """Run every design for one type (see the module docstring); ``detail=False`` skips the
    group estimates and the other-support table (the CLI needs neither)."""
    params = params or MatchParams()
    sample = match(reg, episodes, kind, params, chars=chars)
    est = {"naive_before_after": naive_before_after(sample), "matched_did": matched_did(sample)}
    ev = event_study(sample)
    est["event_study"] = ev.average
    est["placebo"] = placebo(reg, episodes, kind, params, shift_weeks=placebo_shift,
                             chars=chars)
    rules = THRESHOLD_RULES if thresholds is None else thresholds
    rd = None
    if kind in rules:
        rd = regression_discontinuity(reg, episodes, kind, cutoff_pct=rules[kind],
                                      window_weeks=params.window_weeks)
        jump = rd.estimate.diagnostics.get("first_stage_jump")
        if jump is not None and abs(jump) >= RD_MIN_FIRST_STAGE:
            est["regression_discontinuity"] = rd.estimate
    est["year_end_pa"] = year_end_pa(sample, reg)
    groups = heterogeneity(sample, suppress_below=suppress_below) if detail else pd.DataFrame()
    other = (_other_support(sample.units, episodes, kind, params.window_weeks) if detail
             else pd.DataFrame(columns=["other_type", "treated_pct", "comparison_pct"]))
    return TypeImpact(kind, params.window_weeks, est, sample, balance_table(sample), ev, groups,
                      rd, other, suppress_below)


def analyse(store, *, types=None, window_weeks: int = 10, as_of=None,
            params: MatchParams | None = None, placebo_shift: int = 4,
            thresholds: dict | None = None, suppress_below: int = 5, detail: bool = True,
            progress=None) -> ImpactReport:
    """Every design for every intervention type in ``store`` (or ``types``).

    ``as_of`` analyses the store as it stood on that date (marks and interventions after it are
    ignored).

    Raises
    ------
    ImpactError
        No interventions in the store, an unknown type, or no marks.
    """
    if window_weeks < 1:
        raise ImpactError(f"window_weeks must be at least 1, got {window_weeks}")
    params = params or MatchParams(window_weeks=window_weeks)
    if params.window_weeks != window_weeks:
        params = dataclasses.replace(params, window_weeks=window_weeks)
    reg = load_register(store, as_of=as_of)
    # every type: support of another type is part of each pupil's story (caveats)
    episodes = load_episodes(store, reg, None, as_of=as_of)
    kinds = check_types(episodes, types)
    chars = pupil_characteristics(store)
    out, skipped = {}, {}
    for i, kind in enumerate(kinds):
        usable = int(((episodes["type"] == kind) & (episodes["status"] == "ok")).sum())
        if usable == 0:
            skipped[kind] = "no usable interventions (none within the register's dates)"
            continue
        out[kind] = analyse_type(reg, episodes, kind, params=params, chars=chars,
                                 placebo_shift=placebo_shift, thresholds=thresholds,
                                 suppress_below=suppress_below, detail=detail)
        if progress:
            progress(i + 1, len(kinds))
    return ImpactReport(out, window_weeks, as_of, skipped)


def estimates_table(report: ImpactReport, suppress_below: int = 0) -> pd.DataFrame:
    """One row per type and design: ``type, design, estimate_pp, ci_low, ci_high, n_treated,
    n_comparison`` (numbers blanked when fewer than ``suppress_below`` supported pupils)."""
    rows = []
    for ti in report.types.values():
        for d in DESIGNS:
            if d in ti.estimates:
                rows.append(ti.estimates[d].row())
    df = pd.DataFrame(rows, columns=["type", "design", "estimate_pp", "ci_low", "ci_high",
                                     "n_treated", "n_comparison"])
    if suppress_below > 0 and len(df):
        small = df["n_treated"] < suppress_below
        df = df.astype({c: object for c in ("estimate_pp", "ci_low", "ci_high", "n_treated",
                                            "n_comparison")})
        df.loc[small, ["estimate_pp", "ci_low", "ci_high", "n_treated", "n_comparison"]] = "c"
    return df


def caveats(ti: TypeImpact) -> list[str]:
    """Plain-English warnings that apply to one type's results."""
    out = []
    did = ti.estimates["matched_did"]
    d = ti.sample.diagnostics
    n_all = d.get("episodes", 0)
    n_t = did.n_treated
    if n_t and n_t < 30:
        out.append(f"Only {n_t} supported pupils could be compared, so the interval is wide.")
    dropped = (d.get("no_match_within_caliper", 0) or 0) + (d.get("no_pre_or_outcome_data", 0)
                                                             or 0)
    if n_all and dropped / n_all > 0.1:
        out.append(f"{100 * dropped / n_all:.0f}% of the {n_all} interventions are left out (no "
                   f"comparison pupil close enough, or no attendance before or after); the "
                   f"estimate is about the rest.")
    bal = ti.balance
    if len(bal):
        bad = bal[bal["smd_after"].abs() >= SMD_OK].sort_values("smd_after", key=abs,
                                                                ascending=False)
        if len(bad):
            items = ", ".join(f"{_FEATURE_LABELS.get(r.feature, r.feature).lower()} "
                              f"({r.smd_after:+.2f})" for r in bad.head(4).itertuples())
            out.append(f"After matching the groups still differ somewhat on {items} "
                       f"(standardised differences of 0.1 or more); the estimate adjusts for "
                       f"these in a regression.")
    p = ti.event.pretrend.get("p_value")
    if p is not None and p < 0.05:
        out.append(f"Before the start the two groups' weekly absence did not move in step "
                   f"(pre-trend test p = {p:.3f}), so treat the estimate with caution.")
    pl = ti.estimates.get("placebo")
    if pl is not None and math.isfinite(pl.estimate_pp) and pl.excludes_zero:
        out.append(
            f"Placebo: pretending support began {pl.diagnostics.get('shift_weeks')} weeks "
            f"earlier finds a change of {_fmt(pl.estimate_pp)} points (95% CI "
            f"{_fmt(pl.ci_low)} to {_fmt(pl.ci_high)}) where there can be none. Pupils were "
            f"chosen on their attendance in the weeks just before support, so the comparison "
            f"only holds when it is matched right up to the start, as the main estimate is.")
    if len(ti.other_support):
        o = ti.other_support
        diff = o[(o["treated_pct"] - o["comparison_pct"]).abs() >= 5]
        for r in diff.itertuples():
            out.append(f"{_fmt(r.treated_pct)}% of supported pupils and {_fmt(r.comparison_pct)}"
                       f"% of comparison pupils also started {label(r.other_type)[0].lower()} "
                       f"in the same weeks; the estimate includes any difference that makes.")
    pa = ti.estimates.get("year_end_pa")
    if pa is not None and pa.diagnostics.get("partial_year"):
        out.append("The year is not over for some pupils: year-end persistent absence is "
                   "persistent absence so far.")
    if ti.rd is not None and "regression_discontinuity" not in ti.estimates:
        w = ti.rd.estimate.diagnostics.get("warning") or ti.rd.estimate.diagnostics.get(
            "not_estimated")
        if w:
            out.append(f"Threshold rule: {w}.")
    out.append("Pupils are compared on their attendance and recorded characteristics only; "
               "anything else that led staff to choose them (a family crisis known to the "
               "school, say) is not captured.")
    return out


# -- the notebook -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ImpactParams:
    """The intervention-impact notebook's parameters, checked."""

    store: Path
    as_of: date | None
    window_weeks: int
    intervention_type: str | None
    suppress_below: int


def check_params(store: str = "", as_of: str = "", window_weeks=10,
                 intervention_type: str = "", suppress_below=5) -> ImpactParams:
    """Validate the notebook's parameters (papermill passes text and numbers only).

    Raises
    ------
    ImpactError
        One sentence naming the parameter and the problem.
    """
    from attendance_lib.paths import default_store_dir
    from attendance_lib.store import Store, StoreError

    path = Path(store) if str(store).strip() else default_store_dir()
    try:
        Store(path).require()
    except StoreError as exc:
        raise ImpactError(f"store: {exc}") from exc
    day = None
    if str(as_of or "").strip():
        try:
            day = date.fromisoformat(str(as_of).strip())
        except ValueError as exc:
            raise ImpactError(f"as_of: {as_of!r} is not a date in the form YYYY-MM-DD") from exc
    for name, v, lo in (("window_weeks", window_weeks, 1), ("suppress_below", suppress_below,
                                                               0)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v or v < lo:
            raise ImpactError(f"{name}: expected a whole number of at least {lo}, got {v!r}")
    if window_weeks > 39:
        raise ImpactError(f"window_weeks: {window_weeks} is longer than a school year")
    kind = str(intervention_type or "").strip().lower().replace(" ", "_") or None
    return ImpactParams(path, day, int(window_weeks), kind, int(suppress_below))


_FEATURE_LABELS = {
    "ytd_rate": "Absence so far this year (%)",
    "pre_rate": "Absence in the weeks before (%)",
    "last1_rate": "Absent the day before (%)",
    "last5_rate": "Absence in the last 5 days (%)",
    "recent_rate": "Absence in the last 3 weeks (%)",
    "wk_m1": "Absence 1 week before (%)", "wk_m2": "Absence 2 weeks before (%)",
    "wk_m3": "Absence 3 weeks before (%)", "wk_m4": "Absence 4 weeks before (%)",
    "wk_m5": "Absence 5 weeks before (%)", "wk_m6": "Absence 6 weeks before (%)",
    "ytd_unauth_rate": "Unauthorised absence so far this year (%)",
    "unauth_10w": "Unauthorised sessions in the last 10 weeks",
    "prior_year_rate": "Absence last year (%)",
    "prior_year_missing": "Not on roll last year (share)",
    "fsm": "FSM eligible (share)", "sen_any": "Any SEN (share)", "ehc": "EHC plan (share)",
    "social_worker": "Has a social worker (share)", "eal": "EAL (share)",
    "year_group": "Year group", "school_ytd_rate": "School's absence so far this year (%)",
    "prior_same_type": "Times they had this support before",
}
_DESIGN_LABELS = {
    "naive_before_after": "Before and after, no comparison (to be wary of)",
    "matched_did": "Matched comparison (difference in differences)",
    "event_study": "Week-by-week comparison, average after the start",
    "placebo": "Placebo: pretend start 4 weeks earlier",
    "regression_discontinuity": "Threshold rule (regression discontinuity, at the cut-off)",
    "year_end_pa": "Persistent absence by the year's end (points of pupils)",
}


def _suppressed(df: pd.DataFrame, count: str, cols, suppress_below: int) -> pd.DataFrame:
    if suppress_below <= 0 or df.empty:
        return df
    df = df.astype({c: object for c in cols})
    # an unknown count (a group too small to estimate) is suppressed too
    small = ~(pd.to_numeric(df[count], errors="coerce") >= suppress_below)
    df.loc[small, list(cols)] = "c"
    return df


def _round(v, nd=1):
    return round(float(v), nd) if isinstance(v, (int, float, np.floating)) and math.isfinite(
        v) else v


def design_table(ti: TypeImpact, suppress_below: int = 5) -> pd.DataFrame:
    """The type's estimates in plain English (suppressed when fewer than ``suppress_below``
    supported pupils)."""
    rows = []
    for d in DESIGNS:
        e = ti.estimates.get(d)
        if e is None:
            continue
        ok = math.isfinite(e.estimate_pp)
        shift = e.diagnostics.get("shift_weeks", 4)
        rows.append({"Design": _DESIGN_LABELS[d].replace("4 weeks", f"{shift} weeks"),
                     "Change in absence (percentage points)": _round(e.estimate_pp) if ok else "",
                     "95% CI": f"{e.ci_low:.1f} to {e.ci_high:.1f}" if ok else "",
                     "Supported pupils": e.n_treated,
                     "Comparison pupils": e.n_comparison if d != "naive_before_after" else ""})
    df = pd.DataFrame(rows)
    df = _suppressed(df, "Supported pupils", ["Change in absence (percentage points)", "95% CI",
                                              "Supported pupils"], suppress_below)
    return _suppressed(df, "Comparison pupils", ["Change in absence (percentage points)",
                                                 "95% CI", "Comparison pupils"], suppress_below)


def balance_display(ti: TypeImpact) -> pd.DataFrame:
    """The balance table with plain-English row names."""
    b = ti.balance
    if b.empty:
        return b
    return pd.DataFrame({
        "Measured on the start date": b["feature"].map(_FEATURE_LABELS).fillna(b["feature"]),
        "Supported pupils": b["treated_mean"].round(2),
        "Matched comparison": b["comparison_mean"].round(2),
        "All eligible pupils": b["all_candidates_mean"].round(2),
        "Std. difference before": b["smd_before"].round(2),
        "Std. difference after": b["smd_after"].round(2)})


def groups_display(ti: TypeImpact, suppress_below: int = 5) -> pd.DataFrame:
    g = ti.groups
    if g.empty:
        return g
    out = pd.DataFrame({
        "Split by": g["grouping"], "Group": g["group"],
        "Change in absence (percentage points)": g["estimate_pp"].map(_round),
        "95% CI": [f"{lo:.1f} to {hi:.1f}" if math.isfinite(lo) else "" for lo, hi in
                   zip(g["ci_low"], g["ci_high"], strict=True)],
        "Supported pupils": g["n_treated"].astype("Int64"), "Note": g["note"]})
    return _suppressed(out, "Supported pupils", ["Change in absence (percentage points)",
                                                 "95% CI", "Supported pupils"], suppress_below)


def pa_sentence(ti: TypeImpact) -> str:
    e = ti.estimates.get("year_end_pa")
    if e is None or not math.isfinite(e.estimate_pp):
        return ""
    name, _, versus = label(ti.type)
    d = e.diagnostics
    so_far = " so far" if d.get("partial_year") else ""
    return (f"Persistent absence (missing 10% or more of the year{so_far}): "
            f"{_fmt(d['treated_pa_at_start_pct'])}% of the supported pupils were persistently "
            f"absent when {name[:1].lower() + name[1:]} began and "
            f"{_fmt(d['treated_pa_year_end_pct'])}% by the end of the year{so_far}. Against "
            f"{versus}, the share changed by {_fmt(e.estimate_pp)} percentage points (95% CI "
            f"{_fmt(e.ci_low)} to {_fmt(e.ci_high)}).")


def rd_sentence(ti: TypeImpact) -> str:
    e = ti.estimates.get("regression_discontinuity")
    if e is None:
        return ""
    d = e.diagnostics
    name, began, _ = label(ti.type)
    dens = d.get("density_test", {}) or {}
    p = dens.get("p_value")
    s = (f"Pupils just over the threshold ({_fmt(d['cutoff_pct'])}% absence on "
         f"{', '.join(d['decision_dates'])}) were offered {name[:1].lower() + name[1:]}; those "
         f"just under were not. Comparing the two, absence in the {ti.window_weeks} school "
         f"weeks after changed by {_fmt(e.estimate_pp)} percentage points (95% CI "
         f"{_fmt(e.ci_low)} to {_fmt(e.ci_high)}) for pupils near the threshold (within "
         f"{_fmt(d['bandwidth_pp'])} points).")
    if p is not None:
        s += (" The number of pupils just either side of the threshold is "
              + ("about what a smooth distribution gives" if p >= 0.05 else
                 "not smooth: absences may have been recorded with the threshold in mind")
              + f" (density check p = {p:.2f}).")
    return s


def _styled(df: pd.DataFrame, precision: int = 1):
    """A table for display: no index column, numbers to ``precision`` decimal places."""
    try:
        return df.style.hide(axis="index").format(precision=precision)
    except (ImportError, AttributeError):  # no jinja2: plain frame
        return df


def sections(report: ImpactReport, suppress_below: int = 5) -> list:
    """Everything the notebook shows, in order: Markdown, tables and figures.

    A type with fewer than ``suppress_below`` supported pupils in the comparison shows no
    figures from it (nor counts, percentages or caveats that would reveal them).
    """
    from IPython.display import Markdown

    from .rdd import plot_rd

    out = []
    if not report.types:
        out.append(Markdown("No intervention type has enough data to analyse."))
    for kind, ti in report.types.items():
        name, _, _ = label(kind)
        did = ti.estimates["matched_did"]
        small = did.n_treated < max(suppress_below, 1) or (
            0 < did.n_comparison < suppress_below)
        naive = ti.estimates["naive_before_after"]
        naive_ok = naive.n_treated >= max(suppress_below, 1)
        if small:
            head = (f"Fewer than {suppress_below} supported pupils (or comparison pupils) "
                    f"could be compared, so no figures from the comparison are shown.")
            if naive_ok:
                head += " " + naive_sentence(naive, Estimate.empty(kind, "matched_did", ""),
                                             kind)
            out.append(Markdown(f"## {name}\n\n{head}"))
            continue
        out.append(Markdown(f"## {name}\n\n**{ti.sentence}**\n\n{ti.naive}"))
        out.append(_styled(design_table(ti, suppress_below)))
        out.append(Markdown(
            "Week by week: the difference between supported and comparison pupils' weekly "
            "absence, against the last week before the start. Before the start the points "
            "should sit around zero."))
        out.append(plot_event_study(ti.event, title=f"{name}: difference by week"))
        out.append(Markdown("How alike the two groups were on the start date (standardised "
                            "differences under 0.1 are conventionally balanced):"))
        out.append(_styled(balance_display(ti), 2))
        g = groups_display(ti, suppress_below)
        if len(g):
            out.append(Markdown("For whom (each supported pupil keeps their own matched "
                                "comparison pupils):"))
            out.append(_styled(g))
        pa = pa_sentence(ti)
        if pa:
            out.append(Markdown(pa))
        rd = rd_sentence(ti)
        if rd:
            out.append(Markdown(rd))
            out.append(plot_rd(ti.rd))
        out.append(Markdown("**Caveats**\n\n" + "\n".join(f"* {c}" for c in ti.caveats)))
    for kind, why in report.skipped.items():
        out.append(Markdown(f"## {label(kind)[0]}\n\nNot analysed: {why}."))
    return out


def summary_markdown(report: ImpactReport, suppress_below: int = 5) -> str:
    """One bullet per type: the headline sentence (or why there is none)."""
    lines = []
    for kind, ti in report.types.items():
        e = ti.estimates["matched_did"]
        if e.n_treated < suppress_below or 0 < e.n_comparison < suppress_below:
            lines.append(f"* {label(kind)[0]}: fewer than {suppress_below} pupils could be "
                         f"compared, so no figures are shown.")
        elif not math.isfinite(e.estimate_pp):
            lines.append(f"* {ti.sentence}")
        else:
            lines.append(f"* {ti.sentence}")
    for kind, why in report.skipped.items():
        lines.append(f"* {label(kind)[0]}: not analysed ({why}).")
    return "\n".join(lines) if lines else "No interventions to analyse."
