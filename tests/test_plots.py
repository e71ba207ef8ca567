"""Charts (attendance_lib.plots): each returns a Figure drawn from the view's numbers, with
readable titles and the Okabe-Ito colours."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from attendance_lib import plots


def _texts(fig: Figure) -> str:
    out = [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))]
    return " ".join(out)


def _funnel():
    # primary centre 20%, binomial sd 0.4; school 3 is above its 99.8% limit
    p0, sd = 0.2, 0.4
    rows = []
    for urn, name, n, rate, pos, shown in (
            ("1", "Ash", 100, 18.0, "within limits", True),
            ("2", "Birch", 400, 21.0, "within limits", True),
            ("3", "Cedar", 200, 35.0, "above 99.8% limit", True),
            ("4", "Tiny", 3, 0.0, "not shown (small numbers)", False)):
        rows.append({"urn": urn, "school": name, "phase": "primary", "n": n, "rate_pct": rate,
                     "centre_pct": p0 * 100, "sd": sd, "shown": shown, "position": pos})
    return pd.DataFrame(rows)


def test_funnel_plot_draws_limits_from_the_formula():
    fig = plots.funnel_plot(_funnel(), title="Persistent absence by school",
                            ylabel="PA rate (%)")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() == "Primary schools"
    # the highest line is the upper 99.8% limit: at each n, 20 + 3.090232 * 40 / sqrt(n)
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]
    upper = max(lines, key=lambda ln: np.nanmax(ln.get_ydata()))
    x, y = np.asarray(upper.get_xdata()), np.asarray(upper.get_ydata())
    i = len(x) // 2
    assert y[i] == pytest.approx(min(100.0, 20 + 3.090232 * 40 / math.sqrt(x[i])), abs=1e-3)
    # three schools shown (Tiny is left out); the outlier is labelled by name and drawn in
    # vermillion
    pts = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len(pts) == 3
    assert "Cedar" in _texts(fig) and "Tiny" not in _texts(fig)
    colours = {to_hex(c.get_facecolor()[0]) for c in ax.collections}
    assert plots.COLOURS["high"].lower() in colours


def test_funnel_plot_with_nothing_to_show():
    f = _funnel()
    f["shown"] = False
    fig = plots.funnel_plot(f, title="t", ylabel="y")
    assert "No school has enough pupils" in _texts(fig)


def test_weekly_trend_plot():
    t = pd.DataFrame({"week_start": pd.to_datetime(["2024-09-09", "2024-09-16"]),
                      "absence_pct": [17.5, 15.0], "possible": [40, 40],
                      "last_year_week_start": pd.to_datetime(["2023-09-11", "2023-09-18"]),
                      "last_year_absence_pct": [20.0, np.nan]})
    fig = plots.weekly_trend_plot(t, title="Weekly absence, 2024/25")
    ax = fig.axes[0]
    this, last = ax.get_lines()[:2]
    assert list(this.get_ydata()) == [17.5, 15.0]
    assert this.get_linestyle() == "-" and last.get_linestyle() == "--"
    assert ax.get_legend() is not None
    assert "Absence (% of possible sessions)" in ax.get_ylabel()


def test_heatmap_labels_every_cell():
    grid = pd.DataFrame({"AM": [37.5, 25.0], "PM": [12.5, 0.0]},
                        index=pd.Index(["Monday", "Tuesday"], name="Day"))
    fig = plots.heatmap_plot(grid, title="Absence by day and session")
    text = _texts(fig)
    for label in ("37.5%", "25.0%", "12.5%", "0.0%", "Monday", "Tuesday", "AM", "PM"):
        assert label in text


def test_band_bars():
    b = pd.DataFrame({"band": ["50% or less", ">50% to 90%", ">90% to <95%", "95% to <100%",
                               "100%"],
                      "stage": ["severe", "persistent", "at risk", "expected", "full"],
                      "pupils": [1, 3, 0, 5, 1], "pct_of_pupils": [10.0, 30.0, 0.0, 50.0, 10.0]})
    fig = plots.band_bars(b, title="Pupils by attendance band")
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == [1, 3, 0, 5, 1]
    assert to_hex(ax.patches[0].get_facecolor()) == plots.COLOURS["high"].lower()
    assert "5 (50.0%)" in _texts(fig)


def test_cohort_gap_bars_skip_suppressed_and_not_recorded():
    g = pd.DataFrame({"cohort_name": ["FSM", "FSM", "Sex", "Sex"],
                      "group": ["FSM eligible", "Not FSM eligible", "Female", "Not recorded"],
                      "overall_gap_pp": [4.0, -4.0, "c", 1.0], "pa_gap_pp": [10, -10, 1, 1]})
    fig = plots.cohort_gap_bars(g, title="Gap")
    ax = fig.axes[0]
    assert [p.get_width() for p in ax.patches] == [4.0, -4.0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["FSM: FSM eligible", "FSM: Not FSM eligible"]
    assert to_hex(ax.patches[0].get_facecolor()) == plots.COLOURS["high"].lower()
    assert to_hex(ax.patches[1].get_facecolor()) == plots.COLOURS["low"].lower()


def test_cohort_trend_plot():
    t = pd.DataFrame({"half_term": ["2024/25 HT1", "2024/25 HT1", "2024/25 HT2", "2024/25 HT2"],
                      "start": pd.to_datetime(["2024-09-02"] * 2 + ["2024-11-04"] * 2),
                      "cohort": "fsm_eligible", "group": ["FSM eligible", "Not FSM eligible"] * 2,
                      "absence_pct": [10.0, 5.0, 12.0, 5.5]})
    fig = plots.cohort_trend_plot(t, "fsm_eligible", title="Absence by half-term")
    ax = fig.axes[0]
    assert [list(ln.get_ydata()) for ln in ax.get_lines()] == [[10.0, 12.0], [5.0, 5.5]]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2024/25 HT1", "2024/25 HT2"]
    assert "No data" in _texts(plots.cohort_trend_plot(t, "sex", title="x"))
