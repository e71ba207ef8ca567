"""The published-data benchmark of one LA, assembled for the ``published_benchmark`` notebook.

One concept: the report's content. :func:`build_benchmark` computes every section once
(series, funnels, the national expected-PA model, similar schools, absence bands, what was
left out); :class:`Benchmark`'s ``*_html`` methods give each section as a titled table or a
``<figure>`` with a fixed ``id`` (``series-overall``, ``series-pa``, ``funnel-pa``,
``funnel-overall``, ``expected-vs-actual``, ``similar-schools``, ``bands-fsm`` ...), so the
notebook stays one call per cell and a browser test can find each part.

Percentages are shown to two decimals; a suppressed or unpublished value prints as
"suppressed" / "not published", never as 0 (domain.md 2.3).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from attendance_lib.markup import Markup as _Markup
from attendance_lib.views.format import html_table

from . import bands as _bands
from . import expected as _expected
from . import funnel as _funnel
from . import plots as _plots
from . import series as _series
from . import similar as _similar
from .data import BenchmarkParams, Sources, benchmark_params, load_sources

__all__ = ["Benchmark", "build_benchmark", "SUPPRESSED"]

SUPPRESSED = "suppressed"
_BAND_DIMENSIONS = ("fsm", "sen", "year_group")


def _pct_cell(value, status: str = "published") -> str:
    if status == "not published":
        return "not published"
    if value is None or pd.isna(value):
        return SUPPRESSED
    text = f"{float(value):.2f}%"
    return f"{text} (derived)" if status == "derived" else text


def _pp(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):+.2f} pp"


@dataclass(eq=False)
class Benchmark:
    """Every section of one LA's benchmark (see :func:`build_benchmark`)."""

    params: BenchmarkParams
    sources: Sources
    series: pd.DataFrame
    funnels: dict
    model: _expected.ExpectedModel
    expected: pd.DataFrame
    similar: pd.DataFrame
    similar_summary: pd.DataFrame
    bands: dict

    # -------------------------------------------------------------- identity
    @property
    def la_name(self) -> str:
        return self.params.la.la_name

    @property
    def region_name(self) -> str:
        names = self.series.loc[self.series["geography"] == "Region", "area"]
        return str(names.iloc[-1]) if len(names) else "its region"

    def title_html(self) -> _Markup:
        la = self.params.la
        codes = ", ".join(c for c in (la.old_la_code, la.new_la_code) if c)
        regions = sorted(set(self.series.loc[self.series["geography"] == "Region", "area"]))
        schools = self.funnels["persistent_absence"].schools
        if len(schools):
            scope = (f"School-level figures are for {self.params.school_year_label} "
                     f"({len(schools):,} state-funded schools with published figures).")
        else:
            scope = (f"The published school-level files have no schools under this LA's code "
                     f"in {self.params.school_year_label} (an LA created or re-coded later "
                     f"has its schools under its predecessor's code), so the school sections "
                     f"are empty.")
        text = (f"<h1>{html.escape(la.la_name)}: attendance against region and England</h1>"
                f"<p>Local authority {html.escape(codes)}; region "
                f"{html.escape(' / '.join(regions) or 'not known')}. {html.escape(scope)} "
                f"Built only from DfE's published statistics.</p>")
        return _Markup(text)

    # -------------------------------------------------------------- headline and series
    def headline_html(self) -> _Markup:
        table = _series.headline(self.series, self.params.school_year)
        if table.empty:
            return html_table(table, title="Headline figures", empty="No published figures.")
        rows = pd.DataFrame({
            "measure": table["measure"], "year": table["year"], "source": table["source"],
            self.la_name: [_pct_cell(v, s) for v, s in zip(table["LA"], table["LA status"],
                                                           strict=True)],
            "region": [f"{_pct_cell(v)} ({r})" if r else _pct_cell(v)
                       for v, r in zip(table["Region"], table["region"], strict=True)],
            "England": [_pct_cell(v) for v in table["England"]],
            f"{self.la_name} vs England": [_pp(a - b) for a, b in
                                          zip(table["LA"], table["England"], strict=True)]})
        return html_table(rows, title=f"Headline figures: {self.la_name}, its region and "
                                      f"England", table_id="headline",
                          note="Census figures are full academic years of the school census; "
                               "the attendance data collection's are full-year figures from "
                               "daily registers. '(derived)': the LA's all-phase figure "
                               "combined from its phase rows (see the series notes).")

    def series_figure(self, measure: str) -> _plots.HTMLFigure:
        fig_id = {"overall_absence": "series-overall", "persistent_absence": "series-pa"}[
            measure]
        fig = _plots.series_chart(self.series, measure,
                                  title=f"{_series.MEASURES[measure]}: {self.la_name}, "
                                        f"region and England")
        return _plots.figure_html(
            fig, fig_id, "Each comparable stretch is its own line; numbered dashed lines mark "
                         "the breaks listed below; the shaded years are the COVID years. "
                         "Circles: school census; squares: census absence distributions; "
                         "triangles: attendance data collection; hollow: LA total derived "
                         "from its phases.")

    def breaks_html(self) -> _Markup:
        table = _series.breaks_table()
        table.insert(0, "no.", range(1, len(table) + 1))
        return html_table(table, title="Breaks in the series (numbered as on the charts)",
                          table_id="series-breaks")

    def series_table_html(self, measure: str) -> _Markup:
        part = self.series[self.series["measure"] == measure]
        if part.empty:
            return html_table(part, title="Series", empty="No published figures.")
        cells = part.assign(cell=[_pct_cell(v, s) for v, s in
                                  zip(part["value"], part["status"], strict=True)])
        wide = cells.pivot_table(index=["year", "source"], columns="geography", values="cell",
                                 aggfunc="first").reset_index()
        wide = wide.reindex(columns=["year", "source", "LA", "Region", "England"]).fillna(
            "not published")
        wide = wide.rename(columns={"LA": self.la_name})
        wide.columns.name = None
        return html_table(wide, title=f"{_series.MEASURES[measure]}: every published point",
                          table_id=f"series-table-{measure.replace('_', '-')}")

    # -------------------------------------------------------------- funnels
    def funnel_figure(self, measure: str) -> _plots.HTMLFigure:
        result = self.funnels[measure]
        fig_id = {"overall_absence": "funnel-overall", "persistent_absence": "funnel-pa"}[
            measure]
        fig = _plots.funnel_chart(result, title=f"{_series.MEASURES[measure]}, "
                                                f"{self.params.school_year_label}: "
                                                f"{self.la_name}'s schools against England")
        phis = ", ".join(f"{r.phase} {r.phi:.2f}" for r in result.england.itertuples())
        return _plots.figure_html(
            fig, fig_id, f"Each dot is a school; the line is England's rate for the phase; "
                         f"dashed and dotted lines are the 95% and 99.8% limits, widened for "
                         f"the spread England's schools show (over-dispersion factor: {phis}).")

    def funnel_counts_html(self, measure: str) -> _Markup:
        result = self.funnels[measure]
        counts = result.counts().reset_index()
        return html_table(counts, title=f"{self.la_name}'s schools by position on the "
                                        f"{_series.MEASURES[measure].lower()} funnel",
                          table_id=f"funnel-counts-{measure.replace('_', '-')}")

    def funnel_outliers_html(self, measure: str) -> _Markup:
        result = self.funnels[measure]
        s = result.schools
        out = s[s["position"] != _funnel.POSITIONS[2]].sort_values(
            ["position", "rate"], ascending=[True, False])
        rows = pd.DataFrame({
            "URN": out["urn"], "LAESTAB": out["laestab"], "phase": out["phase"],
            "enrolments": out["n"], "rate": out["rate"] * 100,
            "England (phase)": out["england_rate"] * 100,
            "95% limits": [f"{a * 100:.2f}-{b * 100:.2f}%" for a, b in
                           zip(out["lower_95"], out["upper_95"], strict=True)],
            "position": out["position"]})
        return html_table(rows, title=f"Schools outside the 95% limits "
                                      f"({_series.MEASURES[measure].lower()})",
                          table_id=f"funnel-outliers-{measure.replace('_', '-')}",
                          empty="No school is outside the 95% limits.", pcts=["rate",
                                                                            "England (phase)"],
                          counts=["enrolments"])

    # -------------------------------------------------------------- expected
    def model_summary_html(self) -> _Markup:
        table = self.model.summary().assign(value=lambda d: [
            f"{v:,.0f}" if float(v).is_integer() else f"{v:,}" for v in d["value"]])
        return html_table(table, title="The expected-PA model: binomial GLM on every "
                                       "state-funded school in England, 2018/19",
                          table_id="model-summary")

    def model_coefficients_html(self) -> _Markup:
        c = self.model.coefficients()
        rows = pd.DataFrame({
            "term": c["term"], "coefficient (log-odds)": c["coef"].map(lambda v: f"{v:+.5f}"),
            "standard error": c["se"].map(lambda v: f"{v:.5f}"),
            "95% interval": [f"{a:+.5f} to {b:+.5f}" for a, b in
                             zip(c["ci_low"], c["ci_high"], strict=True)],
            "odds ratio": [("–" if per == "-" else f"{o:.3f} per {per}")
                           for o, per in zip(c["odds_ratio"], c["odds_ratio_per"],
                                             strict=True)]})
        return html_table(rows, title="Model coefficients (standard errors allow for "
                                      "over-dispersion)", table_id="model-coefficients")

    def expected_figure(self) -> _plots.HTMLFigure:
        fig = _plots.expected_chart(self.expected, title=f"{self.la_name}'s schools: actual "
                                                          f"against expected PA, 2018/19")
        return _plots.figure_html(
            fig, "expected-vs-actual", "Each point is a school: above the diagonal it has more "
                                       "persistent absence than its intake predicts. Grey bars: "
                                       "95% intervals. Colour: position against the intervals.")

    def expected_html(self) -> _Markup:
        e = self.expected
        flagged = e[e["position"] != _expected.POSITIONS[2]].sort_values("difference",
                                                                         ascending=False)
        rows = pd.DataFrame({
            "URN": flagged["urn"], "LAESTAB": flagged["laestab"], "phase": flagged["phase"],
            "enrolments": flagged["enrolments"], "FSM ever": flagged["fsm_ever"],
            "SEN support": flagged["sen_support"], "EHC plan": flagged["ehc_plan"],
            "EAL": flagged["eal"], "actual PA": flagged["pa_rate"] * 100,
            "expected PA": flagged["expected"] * 100,
            "95% interval": [f"{a * 100:.2f}-{b * 100:.2f}%" for a, b in
                             zip(flagged["lower_95"], flagged["upper_95"], strict=True)],
            "difference": flagged["difference"] * 100, "position": flagged["position"]})
        counts = e["position"].value_counts().reindex(list(_expected.POSITIONS), fill_value=0)
        note = "; ".join(f"{k}: {v}" for k, v in counts.items())
        return html_table(rows, title=f"{self.la_name}'s schools above or below what their "
                                      f"intake predicts (2018/19)", table_id="expected-table",
                          empty="Every school is within its 95% interval.",
                          pcts=["FSM ever", "SEN support", "EHC plan", "EAL", "actual PA",
                                "expected PA"], pps=["difference"], counts=["enrolments"],
                          note=f"All {len(e):,} schools of the LA in the model: {note}. "
                               f"Intake percentages are of pupils on roll, January 2019 "
                               f"census.")

    # -------------------------------------------------------------- similar schools
    def similar_html(self) -> _Markup:
        s = self.similar_summary
        detail = self.similar.copy()
        listing = (detail.assign(text=[f"{u} ({p * 100:.1f}%)" for u, p in
                                       zip(detail["similar_urn"], detail["pa_rate"],
                                           strict=True)])
                   .sort_values(["urn", "rank"]).groupby("urn")["text"].agg(", ".join))
        rows = pd.DataFrame({
            "URN": s["urn"], "LAESTAB": s["laestab"], "phase": s["phase"],
            "enrolments": s["enrolments"], "FSM ever": s["fsm_ever"],
            "SEN support": s["sen_support"], "EAL": s["eal"], "PA": s["pa_rate"] * 100,
            "similar schools' PA": s["similar_pa_rate"] * 100, "gap": s["pa_gap"] * 100,
            "overall absence": s["overall_rate"] * 100,
            "similar schools' overall": s["similar_overall_rate"] * 100,
            "10 most similar schools in England: URN (PA)": s["urn"].map(listing)})
        return html_table(rows, title=f"Each of {self.la_name}'s schools beside the 10 most "
                                      f"similar schools in England (2018/19)",
                          table_id="similar-schools",
                          pcts=["FSM ever", "SEN support", "EAL", "PA", "similar schools' PA",
                                "overall absence", "similar schools' overall"],
                          pps=["gap"], counts=["enrolments"],
                          note="Similar: the nearest schools of the same phase on % FSM ever, "
                               "% SEN support, % EHC plan, % EAL and size, each standardised "
                               "within the phase. The similar schools' rates are pooled "
                               "(their PA enrolments over their enrolments).")

    def similar_detail_html(self) -> _Markup:
        d = self.similar
        rows = pd.DataFrame({
            "school URN": d["urn"], "rank": d["rank"], "similar URN": d["similar_urn"],
            "LA": d["la_name"], "enrolments": d["enrolments"], "FSM ever": d["fsm_ever"],
            "SEN support": d["sen_support"], "EHC plan": d["ehc_plan"], "EAL": d["eal"],
            "PA": d["pa_rate"] * 100, "overall absence": d["overall_rate"] * 100,
            "distance": d["distance"].map(lambda v: f"{v:.2f}")})
        table = html_table(rows, title="Every similar school, side by side",
                           table_id="similar-schools-detail",
                           pcts=["FSM ever", "SEN support", "EHC plan", "EAL", "PA",
                                 "overall absence"], counts=["enrolments"])
        return _Markup(f"<details><summary>Show the 10 similar schools of each of "
                       f"{self.la_name}'s schools ({len(rows):,} rows)</summary>"
                       f"{table.markup}</details>")

    # -------------------------------------------------------------- bands
    def bands_figure(self, dimension: str) -> _plots.HTMLFigure:
        table = self.bands[dimension]
        name = _bands.DIMENSIONS[dimension][1]
        year = table["year"].iloc[0] if len(table) else ""
        fig = _plots.bands_chart(table, title=f"Persistent and severe absence by "
                                              f"{name.lower()}, {year}")
        return _plots.figure_html(fig, f"bands-{dimension.replace('_', '-')}",
                                  f"Pale bars: persistent absence (10% or more of sessions); "
                                  f"dark bars: severe absence (50% or more). School census "
                                  f"absence distributions, {year}.")

    def bands_html(self, dimension: str) -> _Markup:
        t = self.bands[dimension]
        if t.empty:
            return html_table(t, title="Absence bands", empty=f"{self.la_name} has no rows "
                                                              f"in the absence distributions.")
        cols = ["group", "geography", "area", "enrolments", "pa_rate", "severe_rate",
                *_bands.BAND_LABELS]
        rows = t[cols].rename(columns={"pa_rate": "PA (10%+)", "severe_rate": "severe (50%+)"})
        left = int(t["cells_left_out"].sum())
        return html_table(rows, title=f"Pupils by absence band: {_bands.DIMENSIONS[dimension][1]}"
                                      f", {t['year'].iloc[0]} (% of enrolments)",
                          table_id=f"bands-table-{dimension.replace('_', '-')}",
                          pcts=["PA (10%+)", "severe (50%+)", *_bands.BAND_LABELS],
                          counts=["enrolments"],
                          note=f"Suppressed cells left out of these sums: {left}.")

    # -------------------------------------------------------------- left out
    def left_out(self) -> pd.DataFrame:
        """Everything the report could not use, with counts (never treated as zero)."""
        rows = []
        for measure, result in self.funnels.items():
            lo = result.left_out
            rows.append({"section": f"funnel: {_series.MEASURES[measure].lower()}",
                         "what": f"{self.la_name}'s schools without a usable rate",
                         "left out": int(lo.loc[lo["reason"] == "total", "rows"].iloc[0])})
        for r in self.model.left_out.itertuples():
            if r.reason != "total":
                rows.append({"section": "expected-PA model and similar schools (England)",
                             "what": r.reason, "left out": r.rows})
        mine = self.series[self.series["geography"] == "LA"]
        for source, part in mine.groupby("source", sort=False):
            rows.append({"section": f"series: {source}",
                         "what": f"{self.la_name} points suppressed in the files",
                         "left out": int(part["status"].eq("suppressed").sum())})
        for dim, t in self.bands.items():
            rows.append({"section": f"absence bands by {_bands.DIMENSIONS[dim][1].lower()}",
                         "what": "suppressed cells not summed",
                         "left out": int(t["cells_left_out"].sum()) if len(t) else 0})
        for name, table in self.sources.tables().items():
            total = int(table.suppressed["total"].sum()) if len(table.suppressed) else 0
            rows.append({"section": f"file: {name}",
                         "what": "cells holding a suppression symbol (c, x, z, SUPP, :, .)",
                         "left out": total})
        return pd.DataFrame(rows)

    def left_out_html(self) -> _Markup:
        return html_table(self.left_out(), title="What was left out, and how much",
                          table_id="left-out", counts=["left out"],
                          note="Suppressed and missing values are shown as suppressed and left "
                               "out of every fit and total; they are never read as zero. The "
                               "file rows count symbols across the whole file (all LAs).")


def build_benchmark(la: str | int, year: str | int | None = "", dfe_dir: str = ""
                    ) -> Benchmark:
    """Check the parameters and compute every section of the LA's benchmark.

    Raises
    ------
    BenchmarkInputError
        A mistyped LA (the message lists close matches and the codes that exist), a year
        without school-level figures, or a missing data folder.
    """
    params = benchmark_params(la, year, dfe_dir)
    sources = load_sources(params.folder)
    series = _series.la_series(sources, params.la)
    funnels = {m: _funnel.school_funnel(sources.schools.frame, params.la, params.school_year, m)
               for m in ("persistent_absence", "overall_absence")}
    model = _fitted(sources)
    expected = _expected.expected_for_la(model, params.la)
    similar = _similar.similar_schools(model.schools, params.la)
    summary = _similar.similar_summary(model.schools, similar, params.la)
    bands = {d: _bands.band_breakdown(sources, params.la, d) for d in _BAND_DIMENSIONS}
    return Benchmark(params=params, sources=sources, series=series, funnels=funnels,
                     model=model, expected=expected, similar=similar,
                     similar_summary=summary, bands=bands)


def _fitted(sources: Sources) -> _expected.ExpectedModel:
    """The national model, fitted once per set of sources (it does not depend on the LA)."""
    if "expected_model" not in sources.memo:
        sources.memo["expected_model"] = _expected.fit_expected(sources)
    return sources.memo["expected_model"]

