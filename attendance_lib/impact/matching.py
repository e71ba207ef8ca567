"""Comparison pupils: who was like the supported pupils on the day their support began.

Pupils are chosen for support *because* their attendance is low (product.md, "Known pitfalls"),
so the comparison for each supported pupil is drawn from pupils who, **on the same start date**
(the same point in the year, measured on their own school's weeks):

* were not having this type of support at any time from the start of the pre-period to the
  end of the outcome window, nor starting it before the window ends (never treated, or not yet
  treated: Callaway and Sant'Anna's "not-yet-treated" comparison group, so staggered start
  dates never compare a pupil with one already supported); an intervention with no end date is
  assumed to run ``assumed_weeks``. Support that ended earlier is history, like any other, and
  is matched on (``prior_same_type``: how many times the pupil had it before);
* were on roll, with at least ``min_pre_sessions`` possible sessions in the pre-period and at
  least one in the outcome window;
* are in the same phase (exact, ``exact``), and closest on the pre-period weekly trajectory,
  year-to-date and unauthorised absence, last year's absence and characteristics
  (:data:`~attendance_lib.impact.features.MATCH_FEATURES`).

How "closest" is measured (``method``):

* ``"propensity+distance"`` (the default; Rubin and Thomas 2000): a logistic regression of being
  supported on the standardised features (the propensity score), fitted on the supported pupils
  and a sample of the candidates on their start dates; among the candidates whose linear
  predictor is within ``caliper`` standard deviations of the supported pupil's, the ``k``
  closest on the most prognostic features
  (:data:`~attendance_lib.impact.features.DISTANCE_FEATURES`: absence this year, in the last
  weeks and days, unauthorised absence, last year's, the school's, FSM, SEN, social worker;
  standardised Euclidean distance). Austin (2011) suggests a caliper of 0.2 for balance alone;
  the default 0.5 keeps more of the supported pupils and leaves what imbalance remains to the
  regression adjustment in :func:`~attendance_lib.impact.did.matched_did`;
* ``"propensity"``: the ``k`` nearest on the propensity score within the caliper;
* ``"distance"``: the ``k`` nearest on all the features (root mean square standardised
  difference no more than ``caliper``).

Comparison pupils are drawn with replacement (one pupil can serve several supported pupils); a
supported pupil with no candidate within the caliper is left out and counted in the
diagnostics. :func:`balance_table` shows standardised mean differences before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .estimate import col_mean_sd
from .features import (
    BALANCE_FEATURES,
    DISTANCE_FEATURES,
    MATCH_FEATURES,
    feature_arrays,
    row_static,
)
from .panel import Register, pupil_characteristics

__all__ = ["MatchParams", "MatchedSample", "match", "balance_table", "candidates", "SMD_OK"]

#: a standardised mean difference below this counts as balanced (Austin 2009: 0.1)
SMD_OK = 0.1
_POOL_SAMPLE = 12000  # candidates sampled for the "before matching" column and the scales
_POOL_DATES = 24  # ... from this many start dates at most


@dataclass(frozen=True)
class MatchParams:
    """How the comparison group is built (see the module docstring)."""

    window_weeks: int = 10
    pre_weeks: int = 10
    k: int = 10
    caliper: float = 0.5
    method: str = "propensity+distance"
    #: how long an intervention without an end date is assumed to run
    assumed_weeks: int = 12
    min_pre_sessions: int = 10
    features: tuple[str, ...] = tuple(MATCH_FEATURES)
    #: "propensity+distance": the closest on these among candidates within the caliper
    distance_features: tuple[str, ...] = tuple(DISTANCE_FEATURES)
    #: matched exactly
    exact: tuple[str, ...] = ("phase",)
    #: event-study weeks kept for each unit: -event_before .. window_weeks - 1
    event_before: int = 6
    seed: int = 0

    def __post_init__(self):
        if self.method not in ("propensity+distance", "propensity", "distance"):
            raise ValueError("method must be 'propensity+distance', 'propensity' or "
                             f"'distance', not {self.method!r}")
        if self.window_weeks < 1 or self.pre_weeks < 1 or self.k < 1:
            raise ValueError("window_weeks, pre_weeks and k must be at least 1")


@dataclass
class MatchedSample:
    """Supported pupils and their comparison pupils, measured over the same days.

    ``units`` has one row per supported episode (``role == "treated"``, weight 1) and per
    comparison pupil and episode they serve (``role == "comparison"``, weight ``1/k_i``), with
    ``set`` = the supported episode, the features and outcomes of
    :func:`~attendance_lib.impact.features.features_at`, and weekly rates ``wk_m<k>`` /
    ``wk_p<k>``. ``pool`` is a sample of all eligible candidates (before matching).
    """

    type: str
    params: MatchParams
    units: pd.DataFrame
    pool: pd.DataFrame
    diagnostics: dict = field(default_factory=dict)
    #: every usable supported episode, matched or not (for the naive before/after)
    treated_all: pd.DataFrame | None = None

    @property
    def treated(self) -> pd.DataFrame:
        return self.units[self.units["role"] == "treated"]

    @property
    def comparison(self) -> pd.DataFrame:
        return self.units[self.units["role"] == "comparison"]

    @property
    def n_treated(self) -> int:
        return int((self.units["role"] == "treated").sum())

    @property
    def n_comparison(self) -> int:
        c = self.comparison
        return int(c["upn"].nunique()) if len(c) else 0

    def panel(self) -> pd.DataFrame:
        """The weekly panel of supported and comparison pupils around each start (long form):
        ``set, role, weight, upn, urn, start_date, rel_week, possible, absence_pct``."""
        cols = ["set", "role", "weight", "upn", "urn", "start_date", "rel_week", "possible",
                "absence_pct"]
        if self.units.empty:
            return pd.DataFrame(columns=cols)
        weeks = sorted(int(c[4:]) * (-1 if c.startswith("wk_m") else 1)
                       for c in self.units if c[:4] in ("wk_m", "wk_p")
                       and not c.endswith("_possible"))
        parts = []
        for k in weeks:
            name = f"wk_m{-k}" if k < 0 else f"wk_p{k}"
            parts.append(self.units[cols[:6]].assign(rel_week=k,
                                                     possible=self.units[name + "_possible"],
                                                     absence_pct=self.units[name]))
        return pd.concat(parts, ignore_index=True).sort_values(
            ["set", "role", "upn", "rel_week"], ascending=[True, False, True, True],
            kind="stable").reset_index(drop=True)[cols]


@dataclass
class _Group:
    year: int
    when: np.datetime64
    t_rows: np.ndarray
    t_anchor: np.ndarray
    t_episode: np.ndarray


def _groups(reg: Register, ep: pd.DataFrame, shift_weeks: int, diag: dict) -> list[_Group]:
    out = []
    for y, gy in ep.groupby("academic_year"):
        yr = reg.years[int(y)]
        rows = gy["row"].to_numpy(np.int64)
        anc = gy["anchor"].to_numpy(np.int64)
        epi = gy["episode"].to_numpy(np.int64)
        if shift_weeks:
            s = yr.school[rows]
            w = yr.week[s, anc] - shift_weeks
            ok = w >= 1  # at least one school week before the pretend start
            diag["too_early_for_placebo"] = diag.get("too_early_for_placebo", 0) + int(
                (~ok).sum())
            rows, epi = rows[ok], epi[ok]
            anc = yr.week_first[s[ok], w[ok]]
        when = yr.days[anc]
        for d in np.unique(when):
            m = when == d
            out.append(_Group(int(y), d, rows[m], anc[m], epi[m]))
    return out


def _usable(f: dict, params: MatchParams) -> np.ndarray:
    return (f["on_roll"] & (f["pre_possible"] >= params.min_pre_sessions)
            & (f["post_possible"] > 0))


class _Log:
    """This type's interventions as integer arrays: pupil code, start and end day numbers
    (days since 1970; an episode without an end date is assumed to last
    ``assumed_weeks``)."""

    def __init__(self, ep: pd.DataFrame, codes: pd.Index, assumed_weeks: int):
        self.code = codes.get_indexer(ep["upn"].astype(str).to_numpy())
        self.start = ep["start_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
        end = pd.to_datetime(ep["end_date"]).to_numpy().astype("datetime64[D]")
        self.end = np.where(np.isnat(end), self.start + 7 * assumed_weeks,
                            end.astype(np.int64))
        self.n_codes = len(codes)

    def overlapping(self, codes: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Rows (pupil ``codes``) with an episode running at some time in ``[lo, hi]``."""
        sel = (self.start <= hi.max(initial=0)) & (self.end >= lo.min(initial=0))
        out = np.zeros(len(codes), bool)
        if not sel.any():
            return out
        e = pd.DataFrame({"c": self.code[sel], "s": self.start[sel], "e": self.end[sel]})
        r = pd.DataFrame({"c": codes, "i": np.arange(len(codes)), "lo": lo, "hi": hi})
        m = r.merge(e, on="c")
        out[m.loc[(m["s"] <= m["hi"]) & (m["e"] >= m["lo"]), "i"].to_numpy()] = True
        return out

    def before(self, codes: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Number of episodes each row's pupil started before ``day``."""
        if not len(self.code):
            return np.zeros(len(codes))
        e = pd.DataFrame({"c": self.code, "s": self.start})
        r = pd.DataFrame({"c": codes, "i": np.arange(len(codes)), "d": day})
        m = r.merge(e, on="c")
        n = m.loc[m["s"] < m["d"]].groupby("i").size()
        out = np.zeros(len(codes))
        out[n.index.to_numpy()] = n.to_numpy()
        return out


def _window_days(yr, rows, anc, pre_weeks, window):
    """Day numbers of the first day of the pre-period and the last day of the outcome
    window for each row anchored at ``anc``."""
    s = yr.school[rows]
    w0 = yr.week[s, np.clip(anc, 0, None)]
    lo_w = np.clip(w0 - pre_weeks, 0, None)
    hi_w = np.clip(np.minimum(w0 + window - 1, yr.n_weeks[s] - 1), 0, None)
    lo = yr.days[np.clip(yr.week_first[s, lo_w], 0, None)].astype(np.int64)
    hi = yr.days[np.clip(yr.week_last[s, hi_w], 0, None)].astype(np.int64)
    return lo, hi


class _Pass:
    """Everything measured on one start date: every pupil's features, who may be compared."""

    def __init__(self, reg, g: _Group, params, window, static, log: _Log, upn_code):
        yr = reg.years[g.year]
        self.yr = yr
        rows = np.arange(yr.n)
        anc = yr.anchor(rows, g.when)
        f = feature_arrays(yr, rows, anc, window_weeks=window, pre_weeks=params.pre_weeks,
                           static=static)
        f["prior_same_type"] = log.before(upn_code, np.full(yr.n, int(g.when.astype(
            np.int64))))
        self.f = f
        usable = _usable(f, params)
        lo, hi = _window_days(yr, rows, anc, params.pre_weeks, window)
        # never or not yet supported this way: nothing running from the pre-period to the end
        # of the outcome window (and not starting before it ends)
        excluded = log.overlapping(upn_code, lo, hi)
        is_t = np.zeros(yr.n, bool)
        is_t[g.t_rows] = True
        t_ok = usable[g.t_rows]
        self.t_idx = g.t_rows[t_ok]
        self.t_episode = g.t_episode[t_ok]
        self.t_dropped = int((~t_ok).sum())
        self.c_idx = np.flatnonzero(usable & ~is_t & ~excluded)
        self.anchor = anc

    def matrix(self, idx, feats):
        return np.column_stack([self.f[c][idx].astype(float) for c in feats])


def candidates(reg: Register, episodes: pd.DataFrame, kind: str, when,
               params: MatchParams | None = None, chars: pd.DataFrame | None = None
               ) -> pd.DataFrame:
    """Every pupil who may be compared with one supported by ``kind`` from date ``when``:
    never or not yet supported that way (see the module docstring), on roll with data before
    and after; their features on that date (:func:`~attendance_lib.impact.features.
    feature_arrays`)."""
    params = params or MatchParams()
    ep_all = episodes[episodes["type"] == kind]
    y = reg.year_of(when)
    if y not in reg.years:
        return pd.DataFrame()
    yr = reg.years[y]
    codes = pd.Index(pd.unique(np.concatenate([yr.upn, ep_all["upn"].astype(str).to_numpy()])))
    g = _Group(y, np.datetime64(pd.Timestamp(when).date(), "D"), np.zeros(0, np.int64),
               np.zeros(0, np.int64), np.zeros(0, np.int64))
    ps = _Pass(reg, g, params, params.window_weeks,
               row_static(yr, chars, reg.annual_rates(y - 1)),
               _Log(ep_all, codes, params.assumed_weeks), codes.get_indexer(yr.upn))
    f = {k: v[ps.c_idx] for k, v in ps.f.items()}
    df = pd.DataFrame(f)
    df.insert(0, "upn", yr.upn[ps.c_idx])
    df.insert(1, "urn", yr.urn[ps.c_idx])
    return df


def match(reg: Register, episodes: pd.DataFrame, kind: str, params: MatchParams | None = None,
          *, chars: pd.DataFrame | None = None, store=None, shift_weeks: int = 0
          ) -> MatchedSample:
    """Build the matched comparison group for intervention type ``kind``.

    Parameters
    ----------
    reg : the store's :class:`~attendance_lib.impact.panel.Register`.
    episodes : :func:`~attendance_lib.impact.panel.load_episodes` (support of this type at any
        time rules a pupil out of the comparison group for that time).
    kind : the intervention type.
    params : :class:`MatchParams`.
    chars : :func:`~attendance_lib.impact.panel.pupil_characteristics` (read from ``store`` if
        not given).
    shift_weeks : a placebo: pretend each intervention began this many school weeks before it
        did; the outcome window is then ``min(window_weeks, shift_weeks)`` weeks, so it ends
        before the real start (:mod:`attendance_lib.impact.placebo`).
    """
    params = params or MatchParams()
    if chars is None and store is not None:
        chars = pupil_characteristics(store)
    rng = np.random.default_rng(params.seed)
    window = params.window_weeks if not shift_weeks else min(params.window_weeks, shift_weeks)
    ep_all = episodes[episodes["type"] == kind]
    diag: dict = {"episodes": int(len(ep_all)),
                  "not_usable": ep_all.loc[ep_all["status"] != "ok", "status"]
                  .value_counts().to_dict()}
    ep = ep_all[ep_all["status"] == "ok"]
    groups = _groups(reg, ep, shift_weeks, diag)
    # one code per pupil across years, for exclusions and clustering
    codes = pd.Index(pd.unique(np.concatenate([*(r.upn for r in reg.years.values()),
                                               ep_all["upn"].astype(str).to_numpy()])))
    log = _Log(ep_all, codes, params.assumed_weeks)
    statics = {y: row_static(yr, chars, reg.annual_rates(y - 1))
               for y, yr in reg.years.items() if any(g.year == y for g in groups)}
    upn_codes = {y: codes.get_indexer(reg.years[y].upn) for y in statics}
    feats = list(params.features)
    # pass 1: the supported pupils (their own rows only)
    t_keys, t_mats = [], []
    dropped = 0
    for gi, g in enumerate(groups):
        yr = reg.years[g.year]
        f = feature_arrays(yr, g.t_rows, g.t_anchor, window_weeks=window,
                           pre_weeks=params.pre_weeks, static=statics[g.year])
        f["prior_same_type"] = log.before(upn_codes[g.year][g.t_rows], np.full(
            len(g.t_rows), int(g.when.astype(np.int64))))
        ok = _usable(f, params)
        dropped += int((~ok).sum())
        t_keys.append((gi, g.t_rows[ok], g.t_anchor[ok], g.t_episode[ok]))
        t_mats.append(np.column_stack([f[c][ok].astype(float) for c in feats]))
    diag["no_pre_or_outcome_data"] = dropped
    # pass 2: a sample of all eligible candidates on some of the start dates (scales,
    # propensity model, the "before matching" column of the balance table)
    n_t = np.array([len(k[1]) for k in t_keys], float)
    p_keys, p_mats = [], []
    if n_t.sum():
        pick = rng.choice(len(groups), min(_POOL_DATES, int((n_t > 0).sum())), replace=False,
                          p=n_t / n_t.sum())
        per_group = max(50, _POOL_SAMPLE // len(pick))
        for gi in pick:
            ps = _Pass(reg, groups[gi], params, window, statics[groups[gi].year], log,
                       upn_codes[groups[gi].year])
            samp = ps.c_idx if len(ps.c_idx) <= per_group else rng.choice(
                ps.c_idx, per_group, replace=False)
            p_keys.append((gi, samp, ps.anchor[samp]))
            p_mats.append(ps.matrix(samp, feats))
    xt_all = np.vstack(t_mats) if t_mats else np.zeros((0, len(feats)))
    xp_all = np.vstack(p_mats) if p_mats else np.zeros((0, len(feats)))
    if not len(xt_all):
        diag.update(treated_matched=0, no_match_within_caliper=0)
        return MatchedSample(kind, params, pd.DataFrame(), pd.DataFrame(), diag, pd.DataFrame())
    centre = col_mean_sd(np.vstack([xt_all, xp_all]))[0]
    centre = np.where(np.isfinite(centre), centre, 0.0)
    scale = col_mean_sd(xp_all)[1]
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)

    def design(x):
        z = (x - centre) / scale
        return np.where(np.isnan(z), 0.0, z)

    score = None
    if params.method in ("propensity", "propensity+distance"):
        score = _propensity(design(xt_all), design(xp_all))
    dist_idx = [feats.index(f) for f in params.distance_features if f in feats]
    # pass 3: match on each start date
    sets = []  # (group, row, anchor, role, set, weight, episode)
    n_drop, dists = 0, []
    for gi, g in enumerate(groups):
        if not len(t_keys[gi][1]):
            continue
        ps = _Pass(reg, g, params, window, statics[g.year], log, upn_codes[g.year])
        zt = design(ps.matrix(ps.t_idx, feats))
        zc = design(ps.matrix(ps.c_idx, feats))
        ph_t, ph_c = _cells(ps.f, ps.t_idx, params.exact), _cells(ps.f, ps.c_idx, params.exact)
        for ph in np.unique(ph_t):
            it = np.flatnonzero(ph_t == ph)
            ic = np.flatnonzero(ph_c == ph)
            if not len(ic):
                n_drop += len(it)
                continue
            d = _dist(zt[it], zc[ic], score, dist_idx, params)
            kk = min(params.k, len(ic))
            nn = np.argpartition(d, kk - 1, axis=1)[:, :kk]
            for j, i in enumerate(it):
                cols = nn[j][np.argsort(d[j, nn[j]])]
                cols = cols[np.isfinite(d[j, cols])]
                if not len(cols):
                    n_drop += 1
                    continue
                e = int(ps.t_episode[i])
                r_t = int(ps.t_idx[i])
                sets.append((gi, r_t, int(ps.anchor[r_t]), "treated", e, 1.0, e))
                for c in ps.c_idx[ic[cols]]:
                    sets.append((gi, int(c), int(ps.anchor[c]), "comparison", e,
                                 1.0 / len(cols), -1))
                dists.append(float(d[j, cols].mean()))
    before = params.event_before
    units = _frame(reg, groups, statics, [(s[0], s[1], s[2]) for s in sets], window,
                   params.pre_weeks, range(-max(before, 6), window), log, upn_codes)
    if len(units):
        units["role"] = [s[3] for s in sets]
        units["set"] = np.array([s[4] for s in sets], np.int64)
        units["weight"] = np.array([s[5] for s in sets], float)
        units["episode"] = np.array([s[6] for s in sets], np.int64)
    tr = [(gi, r, a) for gi, rows, ancs, _ in t_keys for r, a in zip(rows, ancs, strict=True)]
    treated_all = _frame(reg, groups, statics, tr, window, params.pre_weeks, None, log,
                         upn_codes)
    if len(treated_all):
        treated_all["episode"] = np.concatenate([k[3] for k in t_keys])
    pool = _frame(reg, groups, statics,
                  [(gi, r, a) for gi, rows, ancs in p_keys for r, a in zip(rows, ancs,
                                                                           strict=True)],
                  window, params.pre_weeks, None, log, upn_codes)
    n_t = int((units["role"] == "treated").sum()) if len(units) else 0
    diag.update({"treated_matched": n_t, "no_match_within_caliper": n_drop,
                 "mean_match_distance": float(np.mean(dists)) if dists else None,
                 "comparison_per_treated": (float((units["role"] == "comparison").sum() / n_t)
                                            if n_t else None),
                 "start_dates": len(groups)})
    return MatchedSample(kind, params, units, pool, diag, treated_all)


def _frame(reg, groups, statics, keys, window, pre_weeks, weeks, log, upn_codes
           ) -> pd.DataFrame:
    """Features of (group, row, anchor) triples, one DataFrame, in the order given."""
    if not keys:
        return pd.DataFrame()
    k = np.array(keys, dtype=np.int64)
    years = np.array([groups[gi].year for gi in k[:, 0]])
    parts = []
    order = []
    for y in np.unique(years):
        m = np.flatnonzero(years == y)
        yr = reg.years[int(y)]
        f = feature_arrays(yr, k[m, 1], k[m, 2], window_weeks=window, pre_weeks=pre_weeks,
                           static=statics[int(y)], weeks=weeks)
        f["prior_same_type"] = log.before(
            upn_codes[int(y)][k[m, 1]],
            np.array([int(groups[gi].when.astype(np.int64)) for gi in k[m, 0]]))
        df = pd.DataFrame(f)
        df.insert(0, "upn", yr.upn[k[m, 1]])
        df.insert(1, "urn", yr.urn[k[m, 1]])
        df["academic_year"] = int(y)
        df["start_date"] = pd.to_datetime(np.array([groups[gi].when for gi in k[m, 0]]))
        parts.append(df)
        order.append(m)
    out = pd.concat(parts, ignore_index=True)
    pos = np.empty(len(k), np.int64)
    pos[np.concatenate(order)] = np.arange(len(k))
    return out.iloc[pos].reset_index(drop=True)


def _cells(f: dict, idx: np.ndarray, exact) -> np.ndarray:
    """One label per row: the values of the exactly matched features joined."""
    out = np.full(len(idx), "", dtype=object)
    for name in exact:
        out = out + "|" + f[name][idx].astype(str)
    return out


def _euclid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Root mean square difference between every row of ``a`` and every row of ``b``."""
    return np.sqrt(np.clip((a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * a @ b.T,
                           0, None) / a.shape[1])


def _dist(zt, zc, score, dist_idx, params: MatchParams) -> np.ndarray:
    """Matching distances (supported x candidates); ``inf`` outside the caliper."""
    if params.method == "distance":
        d = _euclid(zt, zc)
        return np.where(d <= params.caliper, d, np.inf)
    pt, pc = score(zt), score(zc)
    gap = np.abs(pt[:, None] - pc[None, :])
    if params.method == "propensity":
        return np.where(gap <= params.caliper, gap, np.inf)
    # propensity+distance: closest on the prognostic features among candidates within the
    # propensity caliper (Rubin and Thomas 2000)
    d = _euclid(zt[:, dist_idx], zc[:, dist_idx])
    return np.where(gap <= params.caliper, d, np.inf)


def _propensity(zt, zp):
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([zt, zp])
    y = np.r_[np.ones(len(zt)), np.zeros(len(zp))]
    m = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    sd = float(np.std(x @ m.coef_[0])) or 1.0

    def score(z):
        return (z @ m.coef_[0] + m.intercept_[0]) / sd

    return score


def _smd(t: np.ndarray, c: np.ndarray, wc: np.ndarray, sd_ref: float) -> float:
    t, c_ok = t[~np.isnan(t)], ~np.isnan(c)
    if not len(t) or not c_ok.any() or not np.isfinite(sd_ref) or sd_ref == 0:
        return np.nan
    mc = np.average(c[c_ok], weights=wc[c_ok])
    return float((t.mean() - mc) / sd_ref)


def balance_table(sample: MatchedSample, features=BALANCE_FEATURES) -> pd.DataFrame:
    """Means of the supported pupils, the matched comparison (weighted) and all candidates,
    with standardised mean differences before and after matching.

    The SMD's denominator is the same before and after: the square root of the mean of the
    supported pupils' and the candidates' variances (Austin 2009); ``|SMD| < 0.1`` is
    conventionally balanced.
    """
    cols = ["feature", "treated_mean", "comparison_mean", "all_candidates_mean",
            "smd_before", "smd_after", "balanced"]
    if sample.units.empty:
        return pd.DataFrame(columns=cols)
    t, c, pool = sample.treated, sample.comparison, sample.pool
    rows = []
    for f in features:
        if f not in t or f not in pool:
            continue
        tv = t[f].to_numpy(float)
        cv = c[f].to_numpy(float)
        pv = pool[f].to_numpy(float)
        sd = float(np.sqrt((col_mean_sd(tv)[1][0] ** 2 + col_mean_sd(pv)[1][0] ** 2) / 2))
        wc = c["weight"].to_numpy(float)
        ok = ~np.isnan(cv)
        cm = float(np.average(cv[ok], weights=wc[ok])) if ok.any() else np.nan
        after = _smd(tv, cv, wc, sd)
        rows.append({"feature": f, "treated_mean": float(col_mean_sd(tv)[0][0]),
            "comparison_mean": cm, "all_candidates_mean": float(col_mean_sd(pv)[0][0]),
            "smd_before": _smd(tv, pv, np.ones(len(pv)), sd), "smd_after": after,
            "balanced": bool(abs(after) < SMD_OK) if np.isfinite(after) else None})
    return pd.DataFrame(rows, columns=cols)
