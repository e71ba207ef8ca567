"""Features of every enrolment on roll, as of a date, from what was known on that date.

One concept: the model's inputs (issue 5 item 1). Everything is computed from marks dated on or
before ``as_of`` and from the enrolment as known then, so adding later marks changes nothing
(product.md "Known pitfalls": leakage). Counts come from DuckDB SQL over the store's ``marks``
view and ``enrolment_weeks`` pre-aggregate; absence spells from one sorted pass in numpy.

Definitions (domain.md 2.1): possible sessions exclude not-possible codes; absence is authorised
+ unauthorised; rates are % of possible sessions; persistent absence (PA) is absence >= 10% of
the enrolment's own possible sessions, severe >= 50%. Lateness is ``L`` (before registers close,
present) and ``U`` (after, unauthorised; domain.md 1.1). ``O`` is unauthorised absence in other
or unknown circumstances ("unexplained"); ``E`` is suspension or exclusion without alternative
provision; ``G``/``N``/``O``/``U`` count towards the 10-in-10 penalty-notice threshold
(domain.md 4.1; here counted over the last 50 school days).

The population on ``as_of``: enrolments of the academic year with at least one possible session
by then, a mark in the 15 days up to the latest school day, no leaving date before ``as_of``
(a pupil is on roll on their leaving day) and no admission date after it.

Characteristics (FSM, SEN provision, EAL, sex, ethnicity, social worker, looked after) are not
features unless ``characteristics=True``: the report shows what allowing them changes
(product.md "Early warning": audited, not silently used).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from attendance_lib.store import Store

from .points import SchoolCalendar, school_calendar

__all__ = [
    "FEATURE_VERSION",
    "BASE_FEATURES",
    "CHARACTERISTIC_FEATURES",
    "ID_COLUMNS",
    "INFO_COLUMNS",
    "feature_names",
    "build_features",
    "ethnic_group",
    "RECENT_DAYS",
]

#: bumped whenever a feature's definition changes: a saved model records it (artefact.py)
FEATURE_VERSION = "1"
#: "recent" = the last 30 school days (6 school weeks); "last 2 weeks" = 10 school days
RECENT_DAYS = 30
SHORT_DAYS = 10
LEGAL_DAYS = 50
ID_COLUMNS = ["upn", "urn", "academic_year", "as_of"]

BASE_FEATURES = [
    # this year so far
    "possible_sessions", "absence_pct", "authorised_pct", "unauthorised_pct", "illness_pct",
    "medical_pct", "unexplained_pct", "holiday_unauthorised_pct", "not_yet_known_pct",
    "illness_share", "unauthorised_share",
    "late_before_pct", "late_after_pct", "suspension_sessions",
    "monday_friday_excess", "friday_pm_excess",
    # recent weeks and trend
    "absence_pct_last2w", "absence_pct_last6w", "absence_pct_before6w", "trend_6w",
    "unauthorised_pct_last6w", "legal_unauthorised_10w",
    # spells
    "spells_per_100", "single_session_spells_per_100", "mean_spell_sessions", "longest_spell",
    # last year
    "prior_year_available", "prior_known", "prior_absence_pct", "prior_unauthorised_pct",
    "prior_pa", "prior_sa", "prior_summer_absence_pct", "prior_schools",
    # year group, transitions, school context
    "year_group", "phase_primary", "phase_secondary", "phase_special", "phase_transition",
    "new_to_school", "joined_this_year", "school_absence_pct", "school_prior_pa_pct",
    "school_roll", "school_days_elapsed",
]
CHARACTERISTIC_FEATURES = [
    "fsm", "sen_support", "sen_ehc", "eal", "male", "social_worker", "looked_after",
    "ethnicity_white", "ethnicity_mixed", "ethnicity_asian", "ethnicity_black",
    "ethnicity_other", "ethnicity_unknown",
]
#: columns kept for reports and the audit, never used as features
INFO_COLUMNS = ["pid", "gid", "phase", "absence_sessions", "attendance_pct", "pa_now", "sa_now",
                "absence_pct_monfri", "absence_pct_midweek", "absence_pct_friday_pm",
                "unexplained_sessions", "holiday_unauthorised_sessions", "late_sessions",
                "late_after_sessions", "spells", "first_mark", "last_mark"]


def feature_names(characteristics: bool = False) -> list[str]:
    return BASE_FEATURES + (CHARACTERISTIC_FEATURES if characteristics else [])


def _pct(num, den):
    den = pd.Series(den, dtype="float64")
    return pd.Series(num, dtype="float64") / den.where(den > 0) * 100


def _year_marks_sql(ystart: date, as_of: date, w2: date, w6: date, w10: date) -> tuple[str, list]:
    absent = "category IN ('authorised', 'unauthorised')"
    poss = "category NOT IN ('not_possible')"
    sql = f"""
        SELECT upn, urn, min(date) AS first_mark, max(date) AS last_mark,
          count(*) FILTER (WHERE {poss}) AS poss,
          count(*) FILTER (WHERE {absent}) AS absent,
          count(*) FILTER (WHERE category = 'authorised') AS auth,
          count(*) FILTER (WHERE category = 'unauthorised') AS unauth,
          count(*) FILTER (WHERE code = 'I') AS illness,
          count(*) FILTER (WHERE code = 'M') AS medical,
          count(*) FILTER (WHERE code = 'O') AS code_o,
          count(*) FILTER (WHERE code = 'G') AS code_g,
          count(*) FILTER (WHERE code = 'N') AS code_n,
          count(*) FILTER (WHERE code = 'L') AS late_before,
          count(*) FILTER (WHERE code = 'U') AS late_after,
          count(*) FILTER (WHERE code = 'E') AS suspended,
          count(*) FILTER (WHERE {poss} AND isodow(date) IN (1, 5)) AS poss_mf,
          count(*) FILTER (WHERE {absent} AND isodow(date) IN (1, 5)) AS abs_mf,
          count(*) FILTER (WHERE {poss} AND isodow(date) = 5 AND session = 'PM') AS poss_fpm,
          count(*) FILTER (WHERE {absent} AND isodow(date) = 5 AND session = 'PM') AS abs_fpm,
          count(*) FILTER (WHERE {poss} AND date >= ?) AS poss2,
          count(*) FILTER (WHERE {absent} AND date >= ?) AS abs2,
          count(*) FILTER (WHERE {poss} AND date >= ?) AS poss6,
          count(*) FILTER (WHERE {absent} AND date >= ?) AS abs6,
          count(*) FILTER (WHERE category = 'unauthorised' AND date >= ?) AS unauth6,
          count(*) FILTER (WHERE code IN ('G', 'N', 'O', 'U') AND date >= ?) AS legal10
        FROM marks WHERE date BETWEEN ? AND ?
        GROUP BY upn, urn"""
    return sql, [w2, w2, w6, w6, w6, w10, ystart, as_of]


def _spells(store: Store, ystart: date, as_of: date) -> pd.DataFrame:
    """Absence spells per enrolment (as :func:`attendance_lib.spells.spell_summary` defines
    them: runs of absence over the enrolment's possible sessions in date order, AM before PM),
    from one sorted pass over integer arrays."""
    r = store.con.execute(
        "SELECT pid, gid, (date - DATE '1970-01-01')::INTEGER AS day, "
        "(session = 'PM') AS pm, category IN ('authorised', 'unauthorised') AS ab "
        "FROM marks JOIN upn_ids USING (upn) JOIN urn_ids USING (urn) "
        "WHERE date BETWEEN ? AND ? AND category <> 'not_possible'", [ystart, as_of]
    ).fetchnumpy()
    cols = ["pid", "gid", "spells", "single_session_spells", "longest_spell"]
    if len(r["pid"]) == 0:
        return pd.DataFrame(columns=cols)
    pid = np.asarray(r["pid"], dtype=np.int64)
    gid = np.asarray(r["gid"], dtype=np.int64)
    day = np.asarray(r["day"], dtype=np.int64)
    enr_key = pid * (int(gid.max()) + 1) + gid
    key = (enr_key * 400 + (day - day.min())) * 2 + np.asarray(r["pm"], dtype=np.int64)
    order = np.argsort(key, kind="stable")
    enr_key, ab = enr_key[order], np.asarray(r["ab"], dtype=bool)[order]
    new_enr = np.r_[True, enr_key[1:] != enr_key[:-1]]
    prev_ab = np.r_[False, ab[:-1]] & ~new_enr
    start = ab & ~prev_ab
    nxt_same = np.r_[~new_enr[1:], False]
    end = ab & ~(np.r_[ab[1:], False] & nxt_same)
    enr_id = np.cumsum(new_enr) - 1
    n = int(enr_id[-1]) + 1
    starts, ends = np.flatnonzero(start), np.flatnonzero(end)
    length = ends - starts + 1
    spell_enr = enr_id[starts]
    longest = np.zeros(n, dtype=np.int64)
    np.maximum.at(longest, spell_enr, length)
    first = np.flatnonzero(new_enr)
    out_key = enr_key[first]
    g = int(gid.max()) + 1
    return pd.DataFrame({
        "pid": out_key // g, "gid": out_key % g,
        "spells": np.bincount(spell_enr, minlength=n),
        "single_session_spells": np.bincount(spell_enr, weights=length == 1, minlength=n
                                             ).astype(np.int64),
        "longest_spell": longest,
    })


def _prior_year(store: Store, year: int, summer_start: date | None) -> tuple[pd.DataFrame, bool]:
    """Pupil-level totals for ``year`` (all the pupil's enrolments) from the pre-aggregate."""
    weeks = store.con.execute(
        "SELECT count(DISTINCT week_start) FROM enrolment_weeks WHERE academic_year = ? "
        "AND possible > 0", [year]).fetchone()[0]
    available = weeks >= 30  # most of a school year (39 weeks) is in the store
    summer = summer_start or date(year + 1, 4, 15)
    df = store.query(
        """SELECT pid, sum(possible)::BIGINT AS poss,
                  sum(authorised + unauthorised)::BIGINT AS absent,
                  sum(unauthorised)::BIGINT AS unauth,
                  sum(possible) FILTER (WHERE week_start >= ?)::BIGINT AS poss_summer,
                  sum(authorised + unauthorised) FILTER (WHERE week_start >= ?)::BIGINT
                      AS absent_summer,
                  count(DISTINCT gid) FILTER (WHERE possible > 0) AS schools,
                  list(DISTINCT gid) FILTER (WHERE possible > 0) AS gids
           FROM enrolment_weeks WHERE academic_year = ? GROUP BY pid""",
        [summer, summer, year])
    return df, available


def _school_prior_pa(store: Store, year: int) -> pd.DataFrame:
    return store.query(
        """SELECT gid, avg(((a * 10 >= p))::INTEGER) * 100 AS school_prior_pa_pct FROM (
               SELECT pid, gid, sum(possible) AS p, sum(authorised + unauthorised) AS a
               FROM enrolment_weeks WHERE academic_year = ? GROUP BY pid, gid)
           WHERE p > 0 GROUP BY gid""", [year])


def ethnic_group(codes: pd.Series) -> pd.Series:
    """DfE major ethnic group of census ethnicity codes: White, Mixed, Asian (incl. Chinese),
    Black, Other, Unknown (refused / not obtained / missing)."""
    c = codes.astype("string").str.upper().str.strip()
    out = pd.Series("Unknown", index=codes.index, dtype="string")
    first = c.str[:1]
    out[first == "W"] = "White"
    out[first == "M"] = "Mixed"
    out[(first == "A") | (c == "CHNE")] = "Asian"
    out[first == "B"] = "Black"
    out[c.isin(["OOTH", "AARA", "OTH"]) | ((first == "O") & ~c.isin(["REFU", "NOBT"]))] = "Other"
    out[c.isna()] = "Unknown"
    return out


def _year_group(pupils: pd.DataFrame, year: int, census_year: int) -> pd.Series:
    if "date_of_birth" in pupils and pupils["date_of_birth"].notna().any():
        dob = pd.to_datetime(pupils["date_of_birth"])
        cohort = dob.dt.year - (dob.dt.month < 9).astype(int)
        yg = (year - 5 - cohort).astype("float64")
        if "year_group" in pupils:
            yg = yg.fillna(_year_group_column(pupils["year_group"]) - (census_year - year))
        return yg
    if "year_group" in pupils:
        return _year_group_column(pupils["year_group"]) - (census_year - year)
    return pd.Series(np.nan, index=pupils.index)


def _year_group_column(s: pd.Series) -> pd.Series:
    t = s.astype("string").str.upper().str.strip().replace({"R": "0", "N1": "-2", "N2": "-1"})
    return pd.to_numeric(t, errors="coerce").astype("float64")


def _characteristics(p: pd.DataFrame) -> pd.DataFrame:
    def flag(col):
        if col not in p:
            return pd.Series(np.nan, index=p.index)
        v = p[col]
        if v.dtype == bool:
            return v.astype("float64")
        t = v.astype("string").str.upper().str.strip()
        return t.map({"TRUE": 1.0, "Y": 1.0, "YES": 1.0, "1": 1.0, "FALSE": 0.0, "N": 0.0,
                      "NO": 0.0, "0": 0.0}).astype("float64")

    sen = p["sen_provision"].astype("string").str.upper() if "sen_provision" in p else \
        pd.Series(pd.NA, index=p.index, dtype="string")
    eth = ethnic_group(p["ethnicity"]) if "ethnicity" in p else pd.Series(
        "Unknown", index=p.index)
    sex = p["sex"].astype("string").str.upper() if "sex" in p else pd.Series(
        pd.NA, index=p.index, dtype="string")
    return pd.DataFrame({
        "fsm": flag("fsm_eligible"),
        "sen_support": (sen == "K").astype("float64").where(sen.notna()),
        "sen_ehc": (sen == "E").astype("float64").where(sen.notna()),
        "eal": flag("eal"),
        "male": (sex == "M").astype("float64").where(sex.notna()),
        "social_worker": flag("has_social_worker"),
        "looked_after": flag("looked_after"),
        **{f"ethnicity_{g.lower()}": (eth == g).astype("float64")
           for g in ("White", "Mixed", "Asian", "Black", "Other", "Unknown")},
    }, index=p.index)


def build_features(store: Store, as_of, *, characteristics: bool = False,
                   calendar: SchoolCalendar | None = None,
                   pupils: pd.DataFrame | None = None,
                   schools: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per enrolment on roll on ``as_of``: ids, :func:`feature_names` and info columns.

    Parameters
    ----------
    store : the store (a restricted ``Store(root, urns=[...])`` gives those schools only; the
        school context is then computed from those schools alone).
    as_of : the date the features are known on (inclusive).
    characteristics : add :data:`CHARACTERISTIC_FEATURES` (off by default).
    calendar : the LA calendar (default: :func:`~.points.school_calendar` of the store).
    pupils, schools : the store's pupils and schools tables, when the caller has read them
        already (several dates in a row).

    Returns
    -------
    DataFrame
        ``upn, urn, academic_year, as_of``, the features, and the :data:`INFO_COLUMNS` (ids,
        phase, counts behind the rates, ``pa_now``/``sa_now`` so far); sorted by ``urn, upn``.
    """
    cal = calendar or school_calendar(store)
    as_of = pd.Timestamp(as_of).date()
    year = cal.year_of(as_of)
    ystart = cal.year_start(year)
    last_day = cal.last_school_day(as_of)
    if last_day < ystart:
        raise ValueError(f"no school day between the start of the academic year ({ystart}) "
                         f"and {as_of}: nothing is known yet")
    w2, w6 = cal.window_start(as_of, SHORT_DAYS), cal.window_start(as_of, RECENT_DAYS)
    w10 = cal.window_start(as_of, LEGAL_DAYS)
    sql, params = _year_marks_sql(ystart, as_of, w2, w6, w10)
    df = store.query(sql, params)
    ids_u = store.query("SELECT upn, pid FROM upn_ids")
    ids_g = store.query("SELECT urn, gid FROM urn_ids")
    df = df.merge(ids_u, on="upn", how="left").merge(ids_g, on="urn", how="left")
    pupils = (store.pupils() if pupils is None else pupils).copy()
    for c in ("upn", "urn"):
        pupils[c] = pupils[c].astype("string")
        df[c] = df[c].astype("string")
    # -- population: on roll on as_of ----------------------------------------------------------
    df["first_mark"] = pd.to_datetime(df["first_mark"])
    df["last_mark"] = pd.to_datetime(df["last_mark"])
    keep = (df["poss"] > 0) & (df["last_mark"] >= pd.Timestamp(last_day - timedelta(days=14)))
    df = df[keep]
    p = pupils.drop_duplicates(["upn", "urn"], keep="last")
    df = df.merge(p, on=["upn", "urn"], how="left", suffixes=("", "_pupil"))
    ts = pd.Timestamp(as_of)
    if "leaving_date" in df:
        df = df[~(pd.to_datetime(df["leaving_date"]) < ts)]
    if "admission_date" in df:
        df = df[~(pd.to_datetime(df["admission_date"]) > ts)]
    df = df.sort_values(["urn", "upn"], ignore_index=True)
    # -- this year -------------------------------------------------------------------------------
    absent = df["absent"]
    out = pd.DataFrame({"upn": df["upn"], "urn": df["urn"], "academic_year": year,
                        "as_of": pd.Timestamp(as_of)})
    out["possible_sessions"] = df["poss"].astype("float64")
    out["absence_pct"] = _pct(absent, df["poss"])
    out["authorised_pct"] = _pct(df["auth"], df["poss"])
    out["unauthorised_pct"] = _pct(df["unauth"], df["poss"])
    out["illness_pct"] = _pct(df["illness"], df["poss"])
    out["medical_pct"] = _pct(df["medical"], df["poss"])
    out["unexplained_pct"] = _pct(df["code_o"], df["poss"])
    out["holiday_unauthorised_pct"] = _pct(df["code_g"], df["poss"])
    out["not_yet_known_pct"] = _pct(df["code_n"], df["poss"])
    out["illness_share"] = _pct(df["illness"], absent)
    out["unauthorised_share"] = _pct(df["unauth"], absent)
    out["late_before_pct"] = _pct(df["late_before"], df["poss"])
    out["late_after_pct"] = _pct(df["late_after"], df["poss"])
    out["suspension_sessions"] = df["suspended"].astype("float64")
    mid_poss = df["poss"] - df["poss_mf"]
    mid_abs = absent - df["abs_mf"]
    out["monday_friday_excess"] = (_pct(df["abs_mf"], df["poss_mf"])
                                   - _pct(mid_abs, mid_poss))
    out["friday_pm_excess"] = _pct(df["abs_fpm"], df["poss_fpm"]) - out["absence_pct"]
    out["absence_pct_last2w"] = _pct(df["abs2"], df["poss2"])
    out["absence_pct_last6w"] = _pct(df["abs6"], df["poss6"])
    out["absence_pct_before6w"] = _pct(absent - df["abs6"], df["poss"] - df["poss6"])
    out["trend_6w"] = out["absence_pct_last6w"] - out["absence_pct_before6w"]
    out["unauthorised_pct_last6w"] = _pct(df["unauth6"], df["poss6"])
    out["legal_unauthorised_10w"] = df["legal10"].astype("float64")
    # -- spells ----------------------------------------------------------------------------------
    sp = _spells(store, ystart, as_of)
    m = df[["pid", "gid"]].merge(sp, on=["pid", "gid"], how="left")
    spells = m["spells"].fillna(0).to_numpy(dtype="float64")
    out["spells_per_100"] = _pct(spells, df["poss"]).to_numpy()
    out["single_session_spells_per_100"] = _pct(
        m["single_session_spells"].fillna(0).to_numpy(dtype="float64"), df["poss"]).to_numpy()
    out["mean_spell_sessions"] = np.where(spells > 0, absent.to_numpy() / np.maximum(spells, 1),
                                          0.0)
    out["longest_spell"] = m["longest_spell"].fillna(0).to_numpy(dtype="float64")
    # -- last year ---------------------------------------------------------------------------
    try:
        summer = cal._half(year - 1, 5)[0]
    except Exception:  # noqa: BLE001 - no term dates for last year: approximate
        summer = None
    prior, available = _prior_year(store, year - 1, summer)
    pm = df[["pid", "gid"]].merge(prior, on="pid", how="left")
    known = pm["poss"].fillna(0).to_numpy() > 0
    out["prior_year_available"] = float(available)
    out["prior_known"] = np.where(available, known.astype("float64"), np.nan)
    out["prior_absence_pct"] = _pct(pm["absent"], pm["poss"]).to_numpy()
    out["prior_unauthorised_pct"] = _pct(pm["unauth"], pm["poss"]).to_numpy()
    pa = (pm["absent"] * 10 >= pm["poss"]) & known
    sa = (pm["absent"] * 2 >= pm["poss"]) & known
    out["prior_pa"] = np.where(known, pa.astype("float64"), np.nan)
    out["prior_sa"] = np.where(known, sa.astype("float64"), np.nan)
    out["prior_summer_absence_pct"] = _pct(pm["absent_summer"], pm["poss_summer"]).to_numpy()
    out["prior_schools"] = pm["schools"].to_numpy(dtype="float64")
    same_school = np.array([isinstance(g, list | np.ndarray) and gid in list(g)
                            for g, gid in zip(pm["gids"], pm["gid"], strict=True)])
    # -- year group, transitions, school -------------------------------------------------------
    # without dates of birth, the census year group is taken to be for the year of the
    # store's latest marks (when the pupils file was extracted)
    latest = store.latest_date() or as_of
    census_year = cal.year_of(latest)
    out["year_group"] = _year_group(df, year, census_year).to_numpy()
    schools = store.schools() if schools is None else schools
    phase = df[["urn"]].merge(
        schools.assign(urn=schools["urn"].astype("string"))[["urn", "phase"]]
        if "phase" in schools else pd.DataFrame({"urn": pd.Series(dtype="string"),
                                                 "phase": pd.Series(dtype="string")}),
        on="urn", how="left")["phase"].astype("string").str.lower()
    for ph in ("primary", "secondary", "special"):
        out[f"phase_{ph}"] = (phase == ph).astype("float64").to_numpy()
    yg = out["year_group"]
    entry = (yg == 0) | ((yg == 7) & (phase.to_numpy() == "secondary"))
    out["phase_transition"] = entry.astype("float64")
    out["new_to_school"] = np.where(available, (~same_school).astype("float64"), np.nan)
    first_school_day = cal.days_in(ystart, as_of)[0].astype(date)
    if "admission_date" in df and df["admission_date"].notna().any():
        adm = pd.to_datetime(df["admission_date"])
        joined = (adm > pd.Timestamp(first_school_day)) | (
            df["first_mark"] > pd.Timestamp(first_school_day + timedelta(days=7)))
    else:
        joined = df["first_mark"] > pd.Timestamp(first_school_day + timedelta(days=7))
    out["joined_this_year"] = joined.astype("float64").to_numpy()
    g = df.groupby("urn")
    out["school_absence_pct"] = (g["absent"].transform("sum")
                                 / g["poss"].transform("sum") * 100).to_numpy()
    out["school_roll"] = g["upn"].transform("size").astype("float64").to_numpy()
    spa = _school_prior_pa(store, year - 1)
    out["school_prior_pa_pct"] = df[["gid"]].merge(spa, on="gid", how="left")[
        "school_prior_pa_pct"].to_numpy(dtype="float64")
    if not available:
        out["school_prior_pa_pct"] = np.nan
    out["school_days_elapsed"] = float(cal.days_in(ystart, as_of).size)
    if characteristics:
        ch = _characteristics(df)
        for c in CHARACTERISTIC_FEATURES:
            out[c] = ch[c].to_numpy()
    # -- info --------------------------------------------------------------------------------
    out["pid"] = df["pid"].to_numpy()
    out["gid"] = df["gid"].to_numpy()
    out["phase"] = phase.to_numpy()
    out["absence_sessions"] = absent.to_numpy()
    out["attendance_pct"] = 100 - out["absence_pct"]
    out["pa_now"] = (absent * 10 >= df["poss"]).to_numpy()
    out["sa_now"] = (absent * 2 >= df["poss"]).to_numpy()
    out["absence_pct_monfri"] = _pct(df["abs_mf"], df["poss_mf"]).to_numpy()
    out["absence_pct_midweek"] = _pct(mid_abs, mid_poss).to_numpy()
    out["absence_pct_friday_pm"] = _pct(df["abs_fpm"], df["poss_fpm"]).to_numpy()
    out["unexplained_sessions"] = df["code_o"].to_numpy()
    out["holiday_unauthorised_sessions"] = df["code_g"].to_numpy()
    out["late_sessions"] = (df["late_before"] + df["late_after"]).to_numpy()
    out["late_after_sessions"] = df["late_after"].to_numpy()
    out["spells"] = spells.astype(np.int64)
    out["first_mark"] = df["first_mark"].to_numpy()
    out["last_mark"] = df["last_mark"].to_numpy()
    for c in feature_names(characteristics):
        out[c] = out[c].astype("float64")
    return out.reset_index(drop=True)
