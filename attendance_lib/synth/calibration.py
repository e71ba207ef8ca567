"""The generated LA's figures next to the published national ones: a table and a plot.

:func:`compare` loads a generated LA through the suite itself (``Store.ingest``, then
:mod:`attendance_lib.metrics`), so the comparison also exercises the real loaders and measures,
and reads the published figures from ``../shared/data/dfe`` through :mod:`attendance_lib.io.dfe`:

==============================  ==========================================================
measure                         published source
==============================  ==========================================================
overall absence, PA by phase    attendance collection, full year (``attendance_ytd_*``) of
                                the same academic year (else the nearest year published)
severe absence (50%+)           absence distributions, national, latest year (2022/23)
PA by FSM and by SEN            absence distributions, national, by phase (2022/23)
overall absence by FSM / SEN    domain.md 3.2, autumn term 2023/24 (daily data; PAW6-24)
share of absence by reason      attendance collection, full year, by phase
pupils by 5-point absence band  absence distributions, national, by phase (2022/23)
==============================  ==========================================================

Generated figures cover a complete academic year (the latest one in the store unless
``year`` is given) and pupils of compulsory school age (Years 1-11, year group from the date of
birth, 31 August cut-off; DfE's ages 5-15 population, domain.md 2.2), except the reason shares
and day/session pattern, which are over every mark (Reception included).

:func:`plot` draws the table as one :class:`matplotlib.figure.Figure`; the caller saves it.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from attendance_lib import codes as codes_mod
from attendance_lib import metrics
from attendance_lib.io import dfe
from attendance_lib.store import Store

__all__ = ["PHASE_LABELS", "BAND_LABELS", "AUTUMN_2023_CHARACTERISTICS", "open_store",
           "complete_years", "compulsory_enrolments", "compare", "band_distribution",
           "tv_distance", "persistence", "first_week_absence", "day_session_absence", "plot"]

#: published ``school_type`` labels of each phase, in the attendance collection and in the
#: absence distributions files
PHASE_LABELS = {
    "primary": ("Primary", "State-funded primary"),
    "secondary": ("Secondary", "State-funded secondary"),
    "special": ("Special", "Special"),
}
BAND_LABELS = tuple(f"{5 * i}-<{5 * i + 5}%" for i in range(10)) + ("50%+",)
_BAND_COLUMNS = ("pct5_OARate", "pct10_OARate", "pct15_OARate", "pct20_OARate",
                 "pct25_OARate", "pct30_OARate", "pct35_OARate", "pct40_OARate",
                 "pct45_OARate", "pct50_OARate", "pct50plus_OARate")
#: overall absence (%) by characteristic, autumn term 2023/24, daily data (domain.md 3.2;
#: PAW6-24) -- no file in ../shared/data/dfe has full-year figures by characteristic
AUTUMN_2023_CHARACTERISTICS = {
    ("fsm_eligible", "Y"): 10.4, ("fsm_eligible", "N"): 5.5,
    ("sen_provision", "E"): 12.4, ("sen_provision", "K"): 10.3, ("sen_provision", "N"): 6.1,
}


# -- the generated side ------------------------------------------------------------------------
def open_store(la: str | Path | Store, store_dir: str | Path | None = None) -> Store:
    """A store holding the LA: a :class:`Store` as is, a store folder, or a generated LA folder
    (ingested into ``store_dir``, default a new temporary folder)."""
    if isinstance(la, Store):
        return _quiet(la)
    la = Path(la)
    if (la / "store.json").exists():
        return _quiet(Store(la))
    if not (la / "marks.parquet").exists():
        raise FileNotFoundError(f"{la}: neither a store (store.json) nor a generated LA "
                                f"(marks.parquet)")
    store = Store(store_dir or tempfile.mkdtemp(prefix="synth-store-"))
    store.ingest([la / "marks.parquet"], pupils=la / "pupils.csv", schools=la / "schools.csv",
                 interventions=la / "interventions.csv")
    return _quiet(store)


def _quiet(store: Store) -> Store:
    """No DuckDB progress bar in notebooks' output and logs."""
    try:
        store.con.execute("SET enable_progress_bar = false")
    except Exception:  # noqa: BLE001 - already off (Store connects without one)
        pass
    return store


def complete_years(store: Store) -> list[int]:
    """Academic years whose marks run to the summer (last mark on or after 15 July)."""
    df = store.query("SELECT academic_year, max(date) AS last FROM marks GROUP BY ALL "
                     "ORDER BY academic_year")
    return [int(y) for y, last in zip(df["academic_year"], df["last"], strict=True)
            if pd.Timestamp(last) >= pd.Timestamp(int(y) + 1, 7, 15)]


def _year_window(year: int) -> tuple[date, date]:
    return date(year, 8, 1), date(year + 1, 7, 31)


def _year_group(dob: pd.Series, year: int) -> pd.Series:
    d = pd.to_datetime(dob)
    return year - 5 - (d.dt.year - (d.dt.month < 9).astype(int))


def compulsory_enrolments(store: Store, year: int) -> pd.DataFrame:
    """Full-year enrolment summary (metrics) of Years 1-11, with phase and characteristics.

    Adds ``phase``, ``year_group`` (from the date of birth for ``year``), ``fsm_eligible``
    and ``sen_provision`` (``Y``/``N``, ``E``/``K``/``N``) and ``band`` (0-10: 5-point bands,
    10 = 50%+, computed in whole sessions so exactly 10% is in the 10-15% band).
    """
    start, end = _year_window(year)
    enr = metrics.enrolment_summary(store, start=start, end=end)
    pupils = store.pupils()
    schools = store.schools()[["urn", "phase"]]
    p = pupils[["upn", "urn", "date_of_birth", "fsm_eligible", "sen_provision"]].copy()
    for c in ("upn", "urn"):
        p[c] = p[c].astype("string")
    schools = schools.assign(urn=schools["urn"].astype("string"))
    e = enr.merge(p, on=["upn", "urn"], how="left").merge(schools, on="urn", how="left")
    e["year_group"] = _year_group(e["date_of_birth"], year)
    e = e[(e["year_group"] >= 1) & (e["year_group"] <= 11)].copy()
    e["fsm_eligible"] = np.where(e["fsm_eligible"].astype("boolean").fillna(False), "Y", "N")
    e["sen_provision"] = e["sen_provision"].astype("string").fillna("N")
    absent = (e["authorised"] + e["unauthorised"]).to_numpy()
    e["band"] = np.minimum(10, (20 * absent) // e["possible"].to_numpy())
    return e.reset_index(drop=True)


def band_distribution(enr: pd.DataFrame) -> pd.DataFrame:
    """Share of enrolments in each 5-point absence band by phase (rows: phases)."""
    t = pd.crosstab(enr["phase"], enr["band"], normalize="index")
    return t.reindex(columns=range(11), fill_value=0.0)


def tv_distance(p, q) -> float:
    """Total-variation distance between two distributions over the same bands."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


def persistence(store: Store, year: int) -> dict:
    """How persistent absence carries from ``year - 1`` to ``year`` (pupils on roll in both).

    Returns ``pa_again`` (share of last year's persistent absentees who are PA again),
    ``pa_last_year`` (how many), ``correlation`` (Pearson, pupils' absence rates; a pupil's
    rate is over all their enrolments in the year) and ``pupils``.
    """
    def rates(y):
        e = compulsory_enrolments(store, y)
        g = e.groupby("upn").agg(absent=("authorised", "sum"), una=("unauthorised", "sum"),
                                 possible=("possible", "sum"))
        g["absent"] = g["absent"] + g["una"]
        return pd.DataFrame({"rate": g["absent"] / g["possible"],
                             "pa": g["absent"] * 10 >= g["possible"]})

    a, b = rates(year - 1), rates(year)
    j = a.merge(b, left_index=True, right_index=True, suffixes=("_last", ""))
    was = j["pa_last"]
    return {"pa_again": float(j.loc[was, "pa"].mean()), "pa_last_year": int(was.sum()),
            "correlation": float(np.corrcoef(j["rate_last"], j["rate"])[0, 1]),
            "pupils": int(len(j))}


def first_week_absence(store: Store, year: int) -> pd.DataFrame:
    """Pupils absent at least once in the first five days they were expected in, by phase.

    Enrolments on roll from the start of the autumn term (first possible session by 15
    September); "expected in" = a day with a possible session. Columns: ``enrolments``,
    ``absent_week1`` (share), ``pa_if_absent`` (share PA at year end among them), ``pa``.
    """
    start, end = _year_window(year)
    _quiet(store)
    first = store.query("""
        WITH d AS (
            SELECT upn, urn, date,
                   max(CASE WHEN category IN ('authorised', 'unauthorised') THEN 1 ELSE 0 END)
                       AS absent
            FROM marks WHERE date BETWEEN ? AND ? AND category <> 'not_possible'
            GROUP BY ALL),
        r AS (SELECT *, row_number() OVER (PARTITION BY upn, urn ORDER BY date) AS k FROM d)
        SELECT upn, urn, min(date) AS first_day, max(absent) AS absent_week1
        FROM r WHERE k <= 5 GROUP BY ALL""", [start, end])
    first = first[pd.to_datetime(first["first_day"]) <= pd.Timestamp(year, 9, 15)]
    first = first.assign(upn=first["upn"].astype("string"), urn=first["urn"].astype("string"))
    e = compulsory_enrolments(store, year).merge(first, on=["upn", "urn"], how="inner")
    g = e.groupby("phase")
    out = pd.DataFrame({
        "enrolments": g.size(),
        "absent_week1": g["absent_week1"].mean(),
        "pa_if_absent": e[e["absent_week1"] == 1].groupby("phase")["persistent_absence"]
        .mean(),
        "pa": g["persistent_absence"].mean(),
    })
    return out


def day_session_absence(store: Store, year: int) -> pd.DataFrame:
    """Absence rate (% of possible sessions) by weekday (Monday = 0) and session."""
    start, end = _year_window(year)
    df = store.query("""
        SELECT isodow(date) - 1 AS weekday, session,
               100.0 * count(*) FILTER (WHERE category IN ('authorised', 'unauthorised'))
                   / count(*) AS absence_pct
        FROM marks WHERE date BETWEEN ? AND ? AND category <> 'not_possible'
        GROUP BY ALL ORDER BY ALL""", [start, end])
    return df.pivot(index="weekday", columns="session", values="absence_pct")


def _reason_shares(store: Store, year: int, enr: pd.DataFrame) -> pd.DataFrame:
    """Share of absence by code, by phase and total, Years 1-11 (metrics.reason_breakdown)."""
    start, end = _year_window(year)
    rb = metrics.reason_breakdown(store, start, end, by=["urn", "upn"])
    keep = enr[["upn", "urn", "phase"]].drop_duplicates()
    rb = rb.assign(upn=rb["upn"].astype("string"), urn=rb["urn"].astype("string"))
    rb = rb.merge(keep, on=["upn", "urn"], how="inner")
    rb = rb[rb["category"].isin([codes_mod.AUTHORISED, codes_mod.UNAUTHORISED])]
    by = rb.groupby(["phase", "code"])["sessions"].sum().unstack(fill_value=0)
    by.loc["total"] = by.sum()
    return by.div(by.sum(axis=1), axis=0) * 100


# -- the published side ---------------------------------------------------------------------------
def _ytd(year: int, folder) -> tuple[pd.DataFrame, int]:
    avail = []
    for p in dfe.attendance_files("ytd", folder=folder):
        code = p.name.split("_")[2]
        avail.append(int(code[:4]))
    use = year if year in avail else min(avail, key=lambda y: (abs(y - year), -y))
    f = dfe.attendance_collection("ytd", use, folder=folder).frame
    return f[f["geographic_level"] == "National"].set_index("school_type"), use


def _bands(folder) -> tuple[pd.DataFrame, str]:
    f = dfe.absence_bands(folder=folder).frame
    f = f[f["geographic_level"] == "National"]
    latest = max(f["time_period"])
    return f[f["time_period"] == latest], latest


def _label(tp: str) -> str:
    return f"{tp[:4]}/{tp[4:]}"


# -- the comparison ----------------------------------------------------------------------------------
def compare(la: str | Path | Store, dfe_dir: str | Path | None = None, *,
            year: int | None = None, store_dir: str | Path | None = None) -> pd.DataFrame:
    """Generated figures beside published ones, one row per measure and group.

    Parameters
    ----------
    la : a generated LA folder, a store folder or a :class:`Store`
    dfe_dir : folder of the published DfE files (default ``paths.dfe_dir()``)
    year : academic year to compare (start year); default the latest complete year
    store_dir : where to ingest a generated LA folder (default a temporary folder)

    Returns
    -------
    DataFrame with columns ``section, measure, phase, group, generated, published,
    difference, relative_difference, published_source, enrolments``. Sections: ``headline``
    (overall absence, PA and SA by phase and for the LA), ``cohort`` (PA and overall absence
    by FSM and SEN), ``reason`` (share of absence by code), ``band`` (share of enrolments in
    each 5-point band, plus a ``tv_distance`` row per phase). ``attrs["academic_year"]`` is
    the year compared.
    """
    if (not isinstance(la, Store) and store_dir is None
            and not (Path(la) / "store.json").exists()):
        # a generated LA folder: load it into a temporary store, removed afterwards
        with tempfile.TemporaryDirectory(prefix="synth-store-") as tmp:
            store = open_store(la, tmp)
            try:
                return _compare(store, dfe_dir, year)
            finally:
                store.close()
    return _compare(open_store(la, store_dir), dfe_dir, year)


def _compare(store: Store, dfe_dir, year: int | None) -> pd.DataFrame:
    years = complete_years(store)
    if year is None:
        if not years:
            raise ValueError("the store has no complete academic year to compare")
        year = years[-1]
    enr = compulsory_enrolments(store, year)
    ytd, ytd_year = _ytd(year, dfe_dir)
    bands, band_tp = _bands(dfe_dir)
    ytd_src = f"attendance collection, full year {ytd_year}/{(ytd_year + 1) % 100:02d}, national"
    band_src = f"absence distributions {_label(band_tp)}, national"
    rows: list[dict] = []

    def add(section, measure, phase, group, gen, pub, src, n):
        rows.append({"section": section, "measure": measure, "phase": phase, "group": group,
                     "generated": gen, "published": pub, "published_source": src,
                     "enrolments": n})

    # headline
    by_phase = metrics.group_summary(enr, ["phase"]).set_index("phase")
    for ph, (ytd_label, _) in PHASE_LABELS.items():
        if ph not in by_phase.index:
            continue
        r = by_phase.loc[ph]
        pub = ytd.loc[ytd_label]
        add("headline", "overall_absence_pct", ph, "all", r["overall_absence_pct"],
            float(pub["overall_absence_perc"]), ytd_src, int(r["enrolments"]))
        add("headline", "pa_pct", ph, "all", r["pa_pct"], float(pub["pa_perc"]), ytd_src,
            int(r["enrolments"]))
        b = bands[bands["school_type"] == PHASE_LABELS[ph][1]][list(_BAND_COLUMNS)].sum()
        add("headline", "sa_pct", ph, "all", r["sa_pct"],
            float(b["pct50plus_OARate"] / b.sum() * 100), band_src, int(r["enrolments"]))
    la_row = metrics.group_summary(enr).iloc[0]
    tot = bands[list(_BAND_COLUMNS)].sum()
    add("headline", "overall_absence_pct", "all", "all", la_row["overall_absence_pct"],
        float(ytd.loc["Total", "overall_absence_perc"]), ytd_src, int(la_row["enrolments"]))
    add("headline", "pa_pct", "all", "all", la_row["pa_pct"], float(ytd.loc["Total", "pa_perc"]),
        ytd_src, int(la_row["enrolments"]))
    add("headline", "sa_pct", "all", "all", la_row["sa_pct"],
        float(tot["pct50plus_OARate"] / tot.sum() * 100), band_src, int(la_row["enrolments"]))
    # cohorts: PA by FSM / SEN (distributions file), overall absence (autumn 2023/24)
    for col, pub_col, mapping in (
            ("fsm_eligible", "fsm_eligible", {"Y": "Eligible", "N": "Not Eligible"}),
            ("sen_provision", "sen_status", {"SEN": "Any special educational need",
                                             "N": "No identified special educational need"})):
        e2 = enr.assign(_g=np.where(enr[col].isin(["E", "K"]), "SEN", enr[col])
                        if col == "sen_provision" else enr[col])
        gs = metrics.group_summary(e2, ["phase", "_g"]).set_index(["phase", "_g"])
        for ph in ("primary", "secondary"):
            for g, pub_g in mapping.items():
                if (ph, g) not in gs.index:
                    continue
                r = gs.loc[(ph, g)]
                b = bands[(bands["school_type"] == PHASE_LABELS[ph][1])
                          & (bands[pub_col] == pub_g)][list(_BAND_COLUMNS)].sum()
                pa_pub = float(b[list(_BAND_COLUMNS[2:])].sum() / b.sum() * 100)
                add("cohort", "pa_pct", ph, f"{col}={g}", r["pa_pct"], pa_pub, band_src,
                    int(r["enrolments"]))
        gs_all = metrics.group_summary(enr, [col]).set_index(col)
        for g in gs_all.index:
            key = (col, g)
            if key in AUTUMN_2023_CHARACTERISTICS:
                add("cohort", "overall_absence_pct", "all", f"{col}={g}",
                    gs_all.loc[g, "overall_absence_pct"], AUTUMN_2023_CHARACTERISTICS[key],
                    "domain.md 3.2: daily data, autumn term 2023/24 (PAW6-24)",
                    int(gs_all.loc[g, "enrolments"]))
    # reasons
    shares = _reason_shares(store, year, enr)
    reason_cols = [c for c in ytd.columns if c.startswith("reason_")]
    for ph in list(PHASE_LABELS) + ["total"]:
        if ph not in shares.index:
            continue
        pub = ytd.loc[PHASE_LABELS[ph][0] if ph != "total" else "Total"]
        pub_share: dict[str, float] = {}
        for c in reason_cols:
            code = codes_mod.dfe_reason_column_code(c)
            if code is None or pd.isna(pub[c]):
                continue
            try:
                cat = codes_mod.category_of(code, ytd_year, include_withdrawn=True)
            except codes_mod.UnknownCodeError:
                continue
            if cat in (codes_mod.AUTHORISED, codes_mod.UNAUTHORISED):
                pub_share[code] = float(pub[c]) / float(pub["overall_absence"]) * 100
        for code in sorted(set(pub_share) | set(shares.columns)):
            gen = float(shares.loc[ph, code]) if code in shares.columns else 0.0
            add("reason", "share_of_absence_pct", ph if ph != "total" else "all", code, gen,
                pub_share.get(code, np.nan), ytd_src, np.nan)
    # bands
    gen_b = band_distribution(enr)
    for ph in ("primary", "secondary", "special"):
        if ph not in gen_b.index:
            continue
        b = bands[bands["school_type"] == PHASE_LABELS[ph][1]][list(_BAND_COLUMNS)].sum()
        pub_b = (b / b.sum()).to_numpy(float)
        n = int((enr["phase"] == ph).sum())
        for i, lab in enumerate(BAND_LABELS):
            add("band", "share_pct", ph, lab, 100 * gen_b.loc[ph, i], 100 * pub_b[i], band_src, n)
        add("band", "tv_distance", ph, "all", tv_distance(gen_b.loc[ph].to_numpy(), pub_b), 0.0,
            band_src, n)
    out = pd.DataFrame(rows)
    out["generated"] = out["generated"].astype(float)
    out["published"] = out["published"].astype(float)
    out["difference"] = out["generated"] - out["published"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["relative_difference"] = np.where(out["published"] != 0,
                                              out["difference"] / out["published"], np.nan)
    out.attrs["academic_year"] = year
    return out[["section", "measure", "phase", "group", "generated", "published", "difference",
                "relative_difference", "published_source", "enrolments"]]


def plot(table: pd.DataFrame):
    """The comparison as one figure (headline, bands, reasons, cohort gaps); caller saves it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 9), layout="constrained")
    axes = fig.subplots(2, 2)
    gen_c, pub_c = "#1f4e79", "#c55a11"
    # headline
    ax = axes[0, 0]
    h = table[(table["section"] == "headline") & (table["phase"] != "all")]
    labels, gen, pub = [], [], []
    for m, name in (("overall_absence_pct", "overall"), ("pa_pct", "PA"), ("sa_pct", "SA")):
        for _, r in h[h["measure"] == m].iterrows():
            labels.append(f"{r['phase']}\n{name}")
            gen.append(r["generated"])
            pub.append(r["published"])
    x = np.arange(len(labels))
    ax.bar(x - 0.2, gen, 0.4, label="generated", color=gen_c)
    ax.bar(x + 0.2, pub, 0.4, label="published", color=pub_c)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylabel("% (absence: of sessions; PA/SA: of enrolments)")
    ax.set_title("Headline figures by phase")
    ax.legend()
    # bands
    ax = axes[0, 1]
    b = table[(table["section"] == "band") & (table["measure"] == "share_pct")]
    for ph, style in (("primary", "-"), ("secondary", "--"), ("special", ":")):
        s = b[b["phase"] == ph]
        if s.empty:
            continue
        ax.plot(range(len(s)), s["generated"], style, color=gen_c, label=f"{ph} generated")
        ax.plot(range(len(s)), s["published"], style, color=pub_c, label=f"{ph} published")
    ax.set_xticks(range(len(BAND_LABELS)), BAND_LABELS, rotation=45, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("% of enrolments")
    ax.set_title("Pupils by absence band")
    ax.legend(fontsize=7)
    # reasons
    ax = axes[1, 0]
    r = table[(table["section"] == "reason") & (table["phase"] == "all")]
    r = r[(r["generated"] > 0.3) | (r["published"] > 0.3)].sort_values("published",
                                                                         ascending=False)
    x = np.arange(len(r))
    ax.bar(x - 0.2, r["generated"], 0.4, label="generated", color=gen_c)
    ax.bar(x + 0.2, r["published"].fillna(0), 0.4, label="published", color=pub_c)
    ax.set_xticks(x, r["group"])
    ax.set_ylabel("% of all absence")
    ax.set_title("Share of absence by reason (all phases)")
    ax.legend()
    # cohorts
    ax = axes[1, 1]
    c = table[(table["section"] == "cohort") & (table["measure"] == "pa_pct")]
    labels = [f"{p}\n{g.split('=')[0][:3]}={g.split('=')[1]}" for p, g in
              zip(c["phase"], c["group"], strict=True)]
    x = np.arange(len(c))
    ax.bar(x - 0.2, c["generated"], 0.4, label="generated", color=gen_c)
    ax.bar(x + 0.2, c["published"], 0.4, label="published", color=pub_c)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylabel("PA, % of enrolments")
    ax.set_title("Persistent absence by FSM and SEN")
    ax.legend()
    year = table.attrs.get("academic_year")
    fig.suptitle("Synthetic LA against published national figures"
                 + (f" ({year}/{(year + 1) % 100:02d})" if year else ""))
    return fig
