"""Charts for the reports: each function takes a view's DataFrame and returns a Figure.

One style for every chart: the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies), colour never the only cue (line styles and labels too), titles and axis labels
that say what and when, and never a pupil identifier. Figures are built with
:class:`matplotlib.figure.Figure`, not pyplot, so nothing is left open in a batch run; in a
notebook with ``%matplotlib inline`` the returned Figure is shown as an image.

Functions: :func:`funnel_plot` (control limits), :func:`weekly_trend_plot`,
:func:`heatmap_plot` (weekday x AM/PM), :func:`band_bars`, :func:`cohort_gap_bars`,
:func:`cohort_trend_plot`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .views.la import Z95, Z998, control_limits

__all__ = ["COLOURS", "figure_on", "funnel_plot", "weekly_trend_plot", "heatmap_plot", "band_bars",
           "cohort_gap_bars", "cohort_trend_plot"]

#: Okabe-Ito colours by meaning
COLOURS = {
    "this_year": "#0072B2",      # blue
    "last_year": "#7F7F7F",      # grey
    "high": "#D55E00",           # vermillion: significantly high / severe
    "raised": "#E69F00",         # orange: above 95% / persistent
    "at_risk": "#F0E442",        # yellow
    "expected": "#56B4E9",       # sky blue
    "good": "#009E73",           # bluish green
    "low": "#0072B2",            # blue: significantly low
    "neutral": "#999999",
    "line": "#000000",
}
_BAND_COLOURS = {"severe": COLOURS["high"], "persistent": COLOURS["raised"],
                 "at risk": COLOURS["at_risk"], "expected": COLOURS["expected"],
                 "full": COLOURS["good"]}
_POSITION_STYLE = {
    "above 99.8% limit": (COLOURS["high"], "^", "above 99.8% limit"),
    "above 95% limit": (COLOURS["raised"], "^", "above 95% limit"),
    "within limits": (COLOURS["neutral"], "o", "within limits"),
    "below 95% limit": (COLOURS["expected"], "v", "below 95% limit"),
    "below 99.8% limit": (COLOURS["low"], "v", "below 99.8% limit"),
}


def _figure(width: float = 8.0, height: float = 4.5, ncols: int = 1):
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
    return fig, axes


def figure_on(ax=None, size: tuple[float, float] = (7, 3.6)):
    """``(figure, axes)``: a new figure of ``size`` inches (not drawn through pyplot, so a
    notebook shows it once, where it is displayed) when ``ax`` is None, else ``ax`` and its
    figure."""
    if ax is None:
        fig = Figure(figsize=size)
        return fig, fig.subplots()
    return ax.figure, ax


def _empty(fig: Figure, ax, message: str) -> Figure:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig


def funnel_plot(funnel: pd.DataFrame, *, title: str, ylabel: str) -> Figure:
    """Funnel plot from :func:`attendance_lib.views.la.funnel`: one panel per phase, schools
    as points against enrolments, the LA rate for the phase and its 95% (dashed) and 99.8%
    (dotted) control limits. Schools outside the 95% limits are labelled by name."""
    shown = funnel[funnel["shown"]] if len(funnel) else funnel
    phases = list(dict.fromkeys(shown["phase"])) if len(shown) else []
    fig, axes = _figure(width=max(8.0, 4.2 * len(phases)), height=4.8, ncols=max(1, len(phases)))
    fig.suptitle(title)
    if not phases:
        return _empty(fig, axes[0], "No school has enough pupils to show.")
    seen = set()
    for ax, phase in zip(axes, phases, strict=True):
        g = shown[shown["phase"] == phase]
        centre, sd = g["centre_pct"].iloc[0] / 100, g["sd"].iloc[0]
        n_max = max(g["n"].max() * 1.15, 10)
        n = np.linspace(max(min(g["n"].min() * 0.6, 5), 1), n_max, 200)
        for z, style, label in ((Z95, "--", "95% limits"), (Z998, ":", "99.8% limits")):
            lo, hi = control_limits(centre, n, z, sd)
            ax.plot(n, hi * 100, style, color=COLOURS["line"], linewidth=1,
                    label=None if label in seen else label)
            ax.plot(n, lo * 100, style, color=COLOURS["line"], linewidth=1)
            seen.add(label)
        ax.axhline(centre * 100, color=COLOURS["this_year"], linewidth=1.5,
                   label=None if "centre" in seen else "LA rate for the phase")
        seen.add("centre")
        for pos, (colour, marker, label) in _POSITION_STYLE.items():
            pts = g[g["position"] == pos]
            if pts.empty:
                continue
            ax.scatter(pts["n"], pts["rate_pct"], s=46, color=colour, marker=marker,
                       edgecolor="black", linewidth=0.5, zorder=3,
                       label=None if label in seen else label)
            seen.add(label)
            if pos != "within limits":
                for _, r in pts.iterrows():
                    ax.annotate(str(r["school"]), (r["n"], r["rate_pct"]), fontsize=7,
                                xytext=(4, 3), textcoords="offset points")
        ax.set_title(f"{str(phase).capitalize()} schools", fontsize=10)
        ax.set_xlabel("Enrolments (pupils on roll this year)")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
    fig.legend(loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    return fig


def weekly_trend_plot(trend: pd.DataFrame, *, title: str) -> Figure:
    """Weekly absence rate this year (solid) and in the same weeks last year (dashed), from
    :func:`attendance_lib.views.school.weekly_trend`."""
    fig, (ax,) = _figure()
    ax.set_title(title)
    if trend.empty:
        return _empty(fig, ax, "No school weeks yet this year.")
    ax.plot(trend["week_start"], trend["absence_pct"], "-o", color=COLOURS["this_year"],
            linewidth=2, markersize=4, label="This year")
    if trend["last_year_absence_pct"].notna().any():
        ax.plot(trend["week_start"], trend["last_year_absence_pct"], "--s",
                color=COLOURS["last_year"], linewidth=1.5, markersize=3,
                label="Same week last year")
    ax.set_ylabel("Absence (% of possible sessions)")
    ax.set_xlabel("Week beginning")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    fig.autofmt_xdate()
    return fig


def heatmap_plot(grid: pd.DataFrame, *, title: str) -> Figure:
    """Absence rate by weekday (rows) and session (columns), from
    :func:`attendance_lib.views.school.day_session_grid`, each cell labelled with its rate."""
    fig, (ax,) = _figure(width=5.5, height=4.2)
    ax.set_title(title)
    if grid.empty or grid.isna().all().all():
        return _empty(fig, ax, "No possible sessions yet this year.")
    ax.grid(False)
    values = grid.to_numpy(dtype="float64")
    im = ax.imshow(values, cmap="cividis_r", aspect="auto")
    ax.set_xticks(range(grid.shape[1]), labels=list(grid.columns))
    ax.set_yticks(range(grid.shape[0]), labels=list(grid.index))
    mid = np.nanmean(values)
    for (i, j), v in np.ndenumerate(values):
        if not np.isnan(v):
            ax.text(j, i, f"{v:.1f}%", ha="center", va="center", fontsize=10,
                    color="white" if v > mid else "black")
    fig.colorbar(im, ax=ax, label="Absence (% of possible sessions)")
    return fig


def band_bars(bands: pd.DataFrame, *, title: str) -> Figure:
    """Pupils by attendance band (:func:`attendance_lib.views.school.attendance_band_counts`),
    lowest attendance at the top, each bar labelled with its count and share."""
    fig, (ax,) = _figure(height=3.8)
    ax.set_title(title)
    if bands.empty or bands["pupils"].sum() == 0:
        return _empty(fig, ax, "No pupils with possible sessions yet.")
    ax.grid(False)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    labels = [f"{b} ({s})" for b, s in zip(bands["band"], bands["stage"], strict=True)]
    y = np.arange(len(bands))[::-1]
    ax.barh(y, bands["pupils"], color=[_BAND_COLOURS.get(s, COLOURS["neutral"])
                                       for s in bands["stage"]], edgecolor="black",
            linewidth=0.5)
    ax.set_yticks(y, labels=labels)
    for yi, n, p in zip(y, bands["pupils"], bands["pct_of_pupils"], strict=True):
        ax.text(n, yi, f" {int(n):,} ({p:.1f}%)", va="center", fontsize=9)
    ax.set_xlabel("Pupils (enrolments)")
    ax.set_xlim(0, bands["pupils"].max() * 1.3)
    return fig


def cohort_gap_bars(gaps: pd.DataFrame, *, title: str, measure: str = "overall") -> Figure:
    """Each cohort group's gap to all other pupils in percentage points
    (:func:`attendance_lib.views.cohorts.cohort_gaps`): ``measure`` "overall" (overall absence)
    or "pa" (persistent absence). Positive (more absence) bars point right in vermillion,
    negative left in blue; suppressed and "Not recorded" groups are left out."""
    col = {"overall": "overall_gap_pp", "pa": "pa_gap_pp"}[measure]
    g = gaps[gaps["group"] != "Not recorded"].copy()
    g[col] = pd.to_numeric(g[col], errors="coerce")
    g = g[g[col].notna()]
    fig, (ax,) = _figure(height=max(3.0, 0.28 * len(g) + 1.2))
    ax.set_title(title)
    if g.empty:
        return _empty(fig, ax, "No cohort data to show.")
    ax.grid(False)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    y = np.arange(len(g))[::-1]
    vals = g[col].to_numpy(dtype="float64")
    ax.barh(y, vals, color=[COLOURS["high"] if v > 0 else COLOURS["low"] for v in vals],
            edgecolor="black", linewidth=0.4, hatch=None)
    ax.set_yticks(y, labels=[f"{c}: {grp}" for c, grp in zip(g["cohort_name"], g["group"],
                                                                 strict=True)], fontsize=8)
    ax.axvline(0, color=COLOURS["line"], linewidth=1)
    ax.set_xlabel("Gap to all other pupils (percentage points; right = more absence)")
    return fig


def cohort_trend_plot(trends: pd.DataFrame, cohort: str, *, title: str) -> Figure:
    """Absence by half-term for the groups of one cohort
    (:func:`attendance_lib.views.tsm.cohort_trends`), one line style per group."""
    g = trends[trends["cohort"] == cohort]
    fig, (ax,) = _figure(height=4.0)
    ax.set_title(title)
    if g.empty:
        return _empty(fig, ax, "No data for this cohort.")
    order = list(dict.fromkeys(g.sort_values("start")["half_term"]))
    x = {h: i for i, h in enumerate(order)}
    styles = ["-o", "--s", ":^", "-.D", "-v"]
    colours = [COLOURS["this_year"], COLOURS["high"], COLOURS["good"], COLOURS["raised"],
               COLOURS["neutral"]]
    for i, (grp, d) in enumerate(g.groupby("group", sort=True)):
        d = d.sort_values("start")
        ax.plot([x[h] for h in d["half_term"]], d["absence_pct"], styles[i % len(styles)],
                color=colours[i % len(colours)], label=grp, linewidth=1.6, markersize=4)
    ax.set_xticks(range(len(order)), labels=order, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("Absence (% of possible sessions)")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8)
    return fig
