"""Charts of the benchmark report; each returns a matplotlib Figure (the caller shows it).

One concept: how the published benchmark looks, in the suite's one style (the Okabe-Ito
colours of :data:`attendance_lib.plots.COLOURS`, pyplot-free ``Figure`` objects with a
constrained layout, so nothing is left open in a batch run): :data:`GEOGRAPHY_COLOURS` for LA /
region / England, :data:`POSITION_COLOURS` and :data:`POSITION_MARKERS` (colour is never the
only cue) for where a school sits against its limits. Every chart
keeps the series breaks visible (:data:`attendance_lib.published.series.BREAKS`): a line is
drawn only within one comparable segment, sources have their own markers, derived points are
hollow and suppressed points are written on the chart, never drawn as zero.
:func:`figure_html` turns a figure into a self-contained ``<figure>`` (PNG data URI) with an
``id`` and a caption, so an HTML report (and a browser test) can find it.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import pandas as pd

from attendance_lib.markup import Markup
from attendance_lib.plots import COLOURS

from .expected import POSITIONS as EXPECTED_POSITIONS
from .funnel import POSITIONS as FUNNEL_POSITIONS
from .funnel import FunnelResult
from .series import BREAKS, MEASURES, SOURCE_CENSUS, SOURCE_COLLECTION, SOURCE_DISTRIBUTIONS

__all__ = ["GEOGRAPHY_COLOURS", "POSITION_COLOURS", "series_chart", "funnel_chart",
           "expected_chart", "bands_chart", "figure_html", "HTMLFigure", "SOURCE_MARKERS",
           "POSITION_MARKERS"]

#: the suite's one palette (Okabe-Ito, :data:`attendance_lib.plots.COLOURS`) by meaning
GEOGRAPHY_COLOURS = {"LA": COLOURS["this_year"], "Region": COLOURS["good"],
                     "England": COLOURS["line"]}
#: above the limits = more absence than chance allows (worse); below = better
POSITION_COLOURS = {"well above": COLOURS["high"], "above": COLOURS["raised"],
                    "within": COLOURS["neutral"], "below": COLOURS["expected"],
                    "well below": COLOURS["low"]}
#: colour is never the only cue: above = triangle up, below = triangle down
POSITION_MARKERS = {"well above": "^", "above": "^", "within": "o", "below": "v",
                    "well below": "v"}
SOURCE_MARKERS = {SOURCE_CENSUS: "o", SOURCE_DISTRIBUTIONS: "s", SOURCE_COLLECTION: "^"}
_BREAK_COLOUR = "#505a5f"
_COVID_SHADE = "#f3f2f1"


def _figure(width: float, height: float, ncols: int = 1):
    """A pyplot-free Figure (nothing left open in a batch run), constrained layout."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_axisbelow(True)
    return fig, axes


def _kind(position: str) -> str:
    text = position.lower()
    if "99.8" in text or "well" in text:
        return "well above" if "above" in text else "well below"
    if "above" in text:
        return "above"
    if "below" in text:
        return "below"
    return "within"


def _position_colour(position: str) -> str:
    return POSITION_COLOURS[_kind(position)]


def _x(period: str) -> int:
    return int(str(period)[:4])


def _year_ticks(ax, periods) -> None:
    years = sorted({_x(p) for p in periods})
    if not years:
        return
    ticks = list(range(years[0], years[-1] + 1))
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{y}/{(y + 1) % 100:02d}" for y in ticks], rotation=60, ha="right",
                       fontsize=8)


# ------------------------------------------------------------------------------ series
def series_chart(series: pd.DataFrame, measure: str, title: str = ""):
    """LA, region and England over every year, one line per comparable segment.

    Breaks (:data:`BREAKS`) are dashed vertical lines numbered as in the table of breaks
    (dotted where the break does not split this measure); the COVID years are shaded;
    suppressed points are written along the bottom instead of being drawn.
    """
    from matplotlib.lines import Line2D

    data = series[series["measure"] == measure]
    fig, (ax,) = _figure(10.5, 4.6)
    ax.set_title(title or MEASURES.get(measure, measure), fontsize=11, loc="left")
    if data.empty:
        ax.text(0.5, 0.5, "No published figures", ha="center", va="center",
                transform=ax.transAxes)
        return fig
    lo, hi = _x(data["time_period"].min()), _x(data["time_period"].max())
    for number, brk in enumerate(BREAKS, start=1):
        if brk.span is not None:
            ax.axvspan(_x(brk.span[0]) - 0.5, _x(brk.span[1]) + 0.5, color=_COVID_SHADE,
                       zorder=0)
        x = _x(brk.span[0] if brk.span else brk.time_period) - 0.5
        if x < lo - 0.5 or x > hi + 0.5:
            continue
        ax.axvline(x, color=_BREAK_COLOUR, linewidth=0.9, zorder=1,
                   linestyle="--" if measure in brk.measures else ":")
        ax.text(x + 0.08, 0.99, str(number), transform=ax.get_xaxis_transform(), va="top",
                fontsize=8, color=_BREAK_COLOUR)
    handles = []
    for geography, colour in GEOGRAPHY_COLOURS.items():
        part = data[data["geography"] == geography]
        if part.empty:
            continue
        names = " / ".join(dict.fromkeys(part["area"].dropna()))
        handles.append(Line2D([], [], color=colour, linewidth=1.8,
                              label=f"{geography}: {names}"))
        for (_, source), seg in part.groupby(["segment", "source"], sort=False):
            seg = seg.sort_values("time_period")
            shown = seg[seg["value"].notna()]
            xs = shown["time_period"].map(_x).to_numpy()
            ys = shown["value"].to_numpy(dtype="float64")
            derived = shown["status"].eq("derived").to_numpy()
            marker = SOURCE_MARKERS.get(source, "o")
            ax.plot(xs, ys, color=colour, linewidth=1.8, zorder=3)
            ax.plot(xs[~derived], ys[~derived], linestyle="", marker=marker, color=colour,
                    markersize=5, zorder=4)
            ax.plot(xs[derived], ys[derived], linestyle="", marker=marker,
                    markerfacecolor="white", markeredgecolor=colour, markersize=5.5,
                    zorder=4)
            for period in seg.loc[seg["value"].isna(), "time_period"]:
                ax.text(_x(period), 0.02, "suppressed", rotation=90, fontsize=7,
                        color=colour, transform=ax.get_xaxis_transform(), ha="center",
                        va="bottom")
    for source, marker in SOURCE_MARKERS.items():
        if (data["source"] == source).any():
            handles.append(Line2D([], [], linestyle="", marker=marker, color=_BREAK_COLOUR,
                                  label=source))
    if data["status"].eq("derived").any():
        handles.append(Line2D([], [], linestyle="", marker="o", markerfacecolor="white",
                              markeredgecolor=_BREAK_COLOUR,
                              label="LA total derived from its phases"))
    ax.set_ylabel(MEASURES.get(measure, measure))
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    _year_ticks(ax, data["time_period"])
    ax.set_xlim(lo - 0.7, hi + 0.7)
    fig.legend(handles=handles, loc="outside right upper", fontsize=7.5, frameon=False)
    return fig


# ------------------------------------------------------------------------------ funnel
def funnel_chart(result: FunnelResult, title: str = ""):
    """One panel per phase: the LA's schools, England's rate, 95% and 99.8% limits."""
    from matplotlib.lines import Line2D

    from .funnel import Z95, Z998, funnel_limits

    phases = [p for p in ("Primary", "Secondary", "Special")
              if (result.schools["phase"] == p).any()]
    fig, axes = _figure(4.2 * max(1, len(phases)), 4.6, ncols=max(1, len(phases)))
    label = MEASURES.get(result.measure, result.measure)
    fig.suptitle(title or label, fontsize=11, x=0.01, ha="left")
    if not phases:
        axes[0].text(0.5, 0.5, "No schools with published figures", ha="center",
                     va="center", transform=axes[0].transAxes)
        return fig
    eng = result.england.set_index("phase")
    for ax, phase in zip(axes, phases, strict=True):
        part = result.schools[result.schools["phase"] == phase]
        p0, phi = float(eng.loc[phase, "england_rate"]), float(eng.loc[phase, "phi"])
        grid = np.linspace(max(5.0, float(part["n"].min()) * 0.8),
                           max(float(part["n"].max()) * 1.1, 50.0), 200)
        for z, style in ((Z95, "--"), (Z998, ":")):
            lo, hi = funnel_limits(p0, grid, z, phi)
            ax.plot(grid, lo * 100, color=COLOURS["line"], linestyle=style, linewidth=1)
            ax.plot(grid, hi * 100, color=COLOURS["line"], linestyle=style, linewidth=1)
        ax.axhline(p0 * 100, color=COLOURS["this_year"], linewidth=1.4)
        for position in FUNNEL_POSITIONS:
            pts = part[part["position"] == position]
            if len(pts):
                kind = _kind(position)
                ax.scatter(pts["n"], pts["rate"] * 100, s=22, color=POSITION_COLOURS[kind],
                           marker=POSITION_MARKERS[kind], edgecolors="black",
                           linewidths=0.3, zorder=3)
        ax.set_title(f"{phase} ({len(part)} schools)", fontsize=10, loc="left")
        ax.set_xlabel("Enrolments")
        ax.set_ylim(bottom=0)
        ax.grid(color="#eeeeee", linewidth=0.8)
    axes[0].set_ylabel(label)
    handles = [Line2D([], [], color=COLOURS["this_year"], label="England, same phase"),
               Line2D([], [], color=COLOURS["line"], linestyle="--", label="95% limits"),
               Line2D([], [], color=COLOURS["line"], linestyle=":", label="99.8% limits")]
    handles += [Line2D([], [], marker=POSITION_MARKERS[_kind(p)], linestyle="",
                       color=_position_colour(p), label=p) for p in FUNNEL_POSITIONS]
    fig.legend(handles=handles, fontsize=7.5, loc="outside lower center", ncols=4,
               frameon=False)
    return fig


# ------------------------------------------------------------------------------ expected
def expected_chart(table: pd.DataFrame, title: str = ""):
    """Observed against expected PA rate for the LA's schools, with 95% intervals."""
    from matplotlib.lines import Line2D

    fig, (ax,) = _figure(7.2, 5.6)
    ax.set_title(title or "Actual against expected persistent absence", fontsize=11,
                 loc="left")
    if table.empty:
        ax.text(0.5, 0.5, "No schools in the model", ha="center", va="center",
                transform=ax.transAxes)
        return fig
    exp, obs = table["expected"] * 100, table["pa_rate"] * 100
    ax.vlines(exp, table["lower_95"] * 100, table["upper_95"] * 100, color="#d0d0d0",
              linewidth=0.8, zorder=1)
    kinds = table["position"].map(_kind)
    for kind in POSITION_COLOURS:
        sel = kinds == kind
        if sel.any():
            ax.scatter(exp[sel], obs[sel], s=22, color=POSITION_COLOURS[kind],
                       marker=POSITION_MARKERS[kind], edgecolors="black", linewidths=0.3,
                       zorder=3)
    top = float(max(exp.max(), obs.max())) * 1.05
    ax.plot([0, top], [0, top], color=COLOURS["line"], linewidth=1)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("Expected PA rate from intake (%)")
    ax.set_ylabel("Actual PA rate (%)")
    ax.grid(color="#eeeeee", linewidth=0.8)
    handles = [Line2D([], [], color=COLOURS["line"], label="actual = expected"),
               Line2D([], [], color="#d0d0d0", label="95% interval")]
    handles += [Line2D([], [], marker=POSITION_MARKERS[_kind(p)], linestyle="",
                       color=_position_colour(p), label=p) for p in EXPECTED_POSITIONS]
    fig.legend(handles=handles, loc="outside right upper", fontsize=7.5, frameon=False)
    return fig


# ------------------------------------------------------------------------------ bands
def bands_chart(table: pd.DataFrame, title: str = ""):
    """PA and severe-absence rates per group, LA against region and England."""
    groups = list(dict.fromkeys(table["group"])) if len(table) else []
    fig, (ax,) = _figure(9.5, 0.42 * max(4, len(groups)) + 1.4)
    ax.set_title(title, fontsize=11, loc="left")
    if not groups:
        ax.text(0.5, 0.5, "No LA rows in the absence distributions", ha="center",
                va="center", transform=ax.transAxes)
        return fig
    geos = [g for g in GEOGRAPHY_COLOURS if (table["geography"] == g).any()]
    height = 0.8 / len(geos)
    y = np.arange(len(groups))
    for i, geo in enumerate(geos):
        part = table[table["geography"] == geo].set_index("group").reindex(groups)
        pos = y + (i - (len(geos) - 1) / 2) * height
        ax.barh(pos, part["pa_rate"], height=height * 0.95, color=GEOGRAPHY_COLOURS[geo],
                alpha=0.35, label=f"{geo}: PA (10%+)")
        ax.barh(pos, part["severe_rate"], height=height * 0.95, color=GEOGRAPHY_COLOURS[geo],
                label=f"{geo}: severe (50%+)")
    ax.set_yticks(y, labels=groups, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("% of enrolments")
    ax.grid(axis="x", color="#eeeeee", linewidth=0.8)
    fig.legend(loc="outside right upper", fontsize=7.5, frameon=False)
    return fig


# ------------------------------------------------------------------------------ html
class HTMLFigure(Markup):
    """A figure as self-contained HTML (``<figure id=...>`` with a PNG data URI)."""


def figure_html(fig, fig_id: str, caption: str, alt: str = "") -> HTMLFigure:
    """Render ``fig`` to PNG and wrap it in ``<figure id=fig_id>`` with a caption."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    esc = html.escape
    markup = (f'<figure id="{esc(fig_id)}" class="report-figure" style="margin:0 0 1em 0">'
              f'<img src="data:image/png;base64,{data}" alt="{esc(alt or caption)}" '
              f'style="max-width:100%;height:auto">'
              f'<figcaption><small>{esc(caption)}</small></figcaption></figure>')
    return HTMLFigure(markup)
