"""Generate a synthetic LA into a folder, in the layouts ``attendance ingest`` reads.

:func:`generate_la` writes::

    marks.parquet        upn, urn, date (date32), session (AM/PM), code -- one row per pupil per
                         session, sorted by urn, upn, date, session (grouped by enrolment in
                         date order, which the loader streams fastest)
    pupils.csv           one row per enrolment (census-like columns, product.md "Inputs")
    schools.csv          urn, laestab, name, phase, la_code
    interventions.csv    upn, urn, type, start_date, end_date, notes
    term_dates.csv       the LA's half-term dates (calendar.read_term_dates layout)
    ground_truth/        see :mod:`attendance_lib.synth.ground_truth`

Schools are generated one at a time (all years of a school together, so each enrolment's marks
are contiguous) and streamed to Parquet, so memory stays at one school's registers: a
150,000-pupil year fits comfortably. Every random number comes from generators seeded by
``(seed, purpose, school, year)``, so the output is the same for the same seed whatever the
order of work.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from attendance_lib.calendar import academic_year_of

from . import dirt as dirt_mod
from .config import SynthConfig
from .ground_truth import effects_summary, episode_effects, write_json
from .interventions import assign
from .la import build_population
from .propensity import MixConstants, pupil_years
from .pupils import year_group_of
from .registers import CODE_LABELS, SchoolYear, code_labels
from .term_dates import la_calendar, term_dates_table

__all__ = ["DEFAULT_SEED", "GENERATOR_VERSION", "SynthResult", "generate_la", "resolve_years"]

DEFAULT_SEED = 2024
GENERATOR_VERSION = "1.0"
_ALL_CODES = tuple(sorted(set(CODE_LABELS["2006"]) | set(CODE_LABELS["2024"])))
_CODE_INDEX = {c: i for i, c in enumerate(_ALL_CODES)}
_SCHEMA = pa.schema([
    ("upn", pa.dictionary(pa.int32(), pa.string())),
    ("urn", pa.dictionary(pa.int32(), pa.string())),
    ("date", pa.date32()),
    ("session", pa.dictionary(pa.int8(), pa.string())),
    ("code", pa.dictionary(pa.int8(), pa.string())),
])
#: with dirt the date column is text (a malformed date cannot be a Parquet date)
_DIRTY_SCHEMA = pa.schema([(f.name, pa.dictionary(pa.int32(), pa.string())) if f.name == "date"
                           else f for f in _SCHEMA])


@dataclass(frozen=True)
class SynthResult:
    """What :func:`generate_la` wrote, and the key facts of the LA."""

    out_dir: Path
    marks: Path
    pupils: Path
    schools: Path
    interventions: Path
    term_dates: Path
    ground_truth: Path
    years: tuple[int, ...]
    as_of: date
    seed: int
    n_marks: int
    n_enrolments: int
    n_pupils: int
    n_schools: int
    n_interventions: int
    #: quarantined rows the loaders should find, by reason (empty unless dirty)
    dirt: dict
    seconds: float
    config: SynthConfig = dataclasses.field(repr=False)

    @property
    def complete_years(self) -> tuple[int, ...]:
        """Academic years with a full year of marks (all but an as-of year cut short)."""
        last = la_calendar(self.years[-1]).days[-1]
        full = np.datetime64(self.as_of, "D") >= last
        return self.years if full else self.years[:-1]

    def summary(self) -> str:
        """A few lines for the command line."""
        first, last = self.years[0], self.years[-1]
        lines = [
            f"synthetic LA written to {self.out_dir} in {self.seconds:.1f} s (seed {self.seed})",
            f"  academic years {first}/{(first + 1) % 100:02d} to {last}/{(last + 1) % 100:02d}"
            f", up to {self.as_of.isoformat()}",
            f"  {self.n_schools:,} schools, {self.n_pupils:,} pupils, "
            f"{self.n_enrolments:,} enrolments, {self.n_marks:,} marks, "
            f"{self.n_interventions:,} interventions",
        ]
        if self.dirt:
            total = sum(self.dirt.values())
            lines.append(f"  dirt injected: {total:,} rows the loaders should quarantine "
                         f"({', '.join(f'{k} {v}' for k, v in self.dirt.items())})")
        lines.append(f"  ground truth: {self.ground_truth}")
        return "\n".join(lines)

    def ingest_kwargs(self) -> dict:
        """Arguments for :meth:`attendance_lib.store.Store.ingest` of everything written."""
        return {"marks": [self.marks], "pupils": self.pupils, "schools": self.schools,
                "interventions": self.interventions}


def resolve_years(as_of: date, years: int) -> tuple[int, ...]:
    """The ``years`` academic years ending with the one containing ``as_of``.

    When ``as_of`` falls in the summer holiday before a year's first term day, the last year is
    the one just finished (complete).
    """
    if years < 1:
        raise ValueError(f"years must be at least 1, got {years}")
    y = academic_year_of(as_of)
    if np.datetime64(as_of, "D") < la_calendar(y).days[0]:
        y -= 1
    return tuple(range(y - years + 1, y + 1))


def _seeded(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), *key])))


def generate_la(out_dir: str | Path, *, pupils: int = 20_000, schools: int | None = None,
                years: int = 3, as_of: date | str | None = None, seed: int = DEFAULT_SEED,
                dirty: bool = False, config: SynthConfig | None = None,
                progress=None) -> SynthResult:
    """Generate a synthetic LA into ``out_dir`` (created; existing generated files replaced).

    Parameters
    ----------
    out_dir : folder to write into.
    pupils : about how many pupils are on roll in a year (Reception to Year 11).
    schools : number of schools (split about 80/15/5 % primary/secondary/special); default from
        ``pupils`` and realistic school sizes.
    years : academic years, ending with the one containing ``as_of``.
    as_of : the last year runs up to this date (default today); earlier years are complete.
    seed : fixes every random number.
    dirty : inject realistic dirt into the marks (:mod:`attendance_lib.synth.dirt`).
    config : all other parameters (:class:`SynthConfig`); the keyword arguments above override
        its fields.
    progress : optional callable ``progress(done, total)`` called after each school.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     r = generate_la(tmp, pupils=400, schools=3, years=1, as_of="2024-10-18", seed=1)
    ...     (r.years, r.n_schools, r.marks.name)
    ((2024,), 3, 'marks.parquet')
    """
    t0 = time.perf_counter()
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    as_of = as_of or date.today()
    cfg = dataclasses.replace(config or SynthConfig(), pupils=int(pupils), schools=schools,
                              years=int(years), as_of=as_of, seed=int(seed), dirty=bool(dirty))
    yrs = resolve_years(as_of, cfg.years)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gt = out / "ground_truth"
    if gt.exists():
        shutil.rmtree(gt)
    gt.mkdir()
    pop = build_population(cfg, yrs, as_of, _seeded(cfg.seed, 1))
    py = pupil_years(pop, cfg, _seeded(cfg.seed, 2), as_of)
    pup = pop.pupils
    py = py.join(pup.set_index("pid")[["upn", "ethnicity", "traveller", "fsm", "sen",
                                       "social_worker"]], on="pid")
    mix = MixConstants(py, cfg)
    upn_rank = np.empty(len(pup), np.int64)
    upn_by_rank = np.sort(pup["upn"].to_numpy().astype(str))
    upn_rank[np.argsort(pup["upn"].to_numpy().astype(str))] = np.arange(len(pup))
    py["upn_rank"] = upn_rank[py["pid"].to_numpy()]
    sch = pop.schools
    py["urn"] = sch["urn"].to_numpy()[py["school"].to_numpy()]
    as64 = np.datetime64(as_of, "D")
    enr_out = _enrolments_out(pop, yrs, as_of)
    dirt_counts = _dirt_plan(cfg, py, sch) if cfg.dirty else {}
    marks_path = out / "marks.parquet"
    tmp_path = out / "marks.parquet.tmp"
    writer = pq.ParquetWriter(tmp_path, _DIRTY_SCHEMA if cfg.dirty else _SCHEMA,
                              compression="zstd")
    n_marks = 0
    episodes_out, truth_rows, dirt_logs = [], [], []
    groups = {k: g.sort_values("upn_rank", kind="stable") for k, g in
              py.groupby(["school", "academic_year"], sort=False)}
    try:
        for si, s in enumerate(sch.itertuples()):
            parts, pn_count, tails = [], {}, {}
            for y in yrs:
                rows = groups.get((s.idx, y))
                if rows is None or rows.empty:
                    continue
                rows = rows.reset_index(drop=True)
                cal = la_calendar(y)
                D = min(cal.n_days, cal.last_index_on_or_before(as64) + 1)
                partial = D < cal.n_days
                rng = _seeded(cfg.seed, 3, int(s.idx), y)
                sy = SchoolYear(rows, cal, D, s.phase, cfg, mix, rng,
                                as_of_index=(D - 1) if partial else None)
                codes = sy.codes()
                carry = None
                if tails:
                    carry = np.stack([tails.get(int(p), np.zeros(9, np.int64))
                                      for p in rows["pid"]])
                eps, codes, eff, tail = assign(sy, codes, cfg.interventions,
                                               _seeded(cfg.seed, 4, int(s.idx), y), pn_count,
                                               carry)
                ep = episode_effects(sy, eps, codes, eff)
                if len(ep):
                    ep["eid"] = rows["eid"].to_numpy()[ep["row"]]
                    ep["upn"] = rows["upn"].to_numpy()[ep["row"]]
                    ep["urn"] = s.urn
                    ep["academic_year"] = y
                    ep["start_date"] = cal.days[ep["start"]]
                    ep["end_date"] = cal.days[np.minimum(ep["planned_end"], cal.n_days - 1)]
                    ep["window_end_date"] = cal.days[ep["window_end"]]
                    episodes_out.append(ep)
                tails = dict(zip(rows["pid"].to_numpy().tolist(), tail, strict=True))
                truth_rows.append(_truth_rows(sy, rows))
                parts.append(_flatten(codes, rows, cal, y))
            if not parts:
                continue
            rank = np.concatenate([p[0] for p in parts])
            order = np.argsort(rank, kind="stable")
            day = np.concatenate([p[1] for p in parts])[order]
            ses = np.concatenate([p[2] for p in parts])[order]
            code = np.concatenate([p[3] for p in parts])[order]
            rank = rank[order]
            uniq_rank, upn_idx = np.unique(rank, return_inverse=True)
            upn_idx = upn_idx.astype(np.int32)
            upns = upn_by_rank[uniq_rank]
            if cfg.dirty:
                table, log = _dirty_table(cfg, s, upns, upns[upn_idx], day, ses, code, enr_out,
                                          dirt_counts.get(int(s.idx), {}), yrs, as_of)
                dirt_logs.append(log)
            else:
                table = _table(s.urn, upns, upn_idx, day, ses, code)
            writer.write_table(table, row_group_size=1 << 20)
            n_marks += table.num_rows
            if progress:
                progress(si + 1, len(sch))
    finally:
        writer.close()
    tmp_path.replace(marks_path)
    # -- the other files ---------------------------------------------------------------------------
    episodes = (pd.concat(episodes_out, ignore_index=True) if episodes_out
                else pd.DataFrame(columns=["upn", "urn", "type", "start_date", "end_date",
                                           "note", "academic_year"]))
    pupils_path = out / "pupils.csv"
    _pupils_csv(pop, enr_out, as_of).to_csv(pupils_path, index=False)
    schools_path = out / "schools.csv"
    sch[["urn", "laestab", "name", "phase", "la_code"]].to_csv(schools_path, index=False)
    int_path = out / "interventions.csv"
    _interventions_csv(episodes, as_of).to_csv(int_path, index=False)
    td_path = out / "term_dates.csv"
    term_dates_table(yrs, cfg.la_code).to_csv(td_path, index=False)
    # -- ground truth --------------------------------------------------------------------------------
    write_json(gt / "params.json", {"generator_version": GENERATOR_VERSION, "seed": cfg.seed,
                                    "academic_years": list(yrs), "as_of": as_of.isoformat(),
                                    "config": cfg.to_dict()})
    truth = pd.concat(truth_rows, ignore_index=True)
    truth.to_parquet(gt / "pupil_years.parquet", index=False)
    sch[["urn", "name", "phase", "district", "deprivation", "effect"]].rename(
        columns={"effect": "school_effect"}).to_parquet(gt / "schools.parquet", index=False)
    if len(episodes):
        ep_out = episodes.drop(columns=["row", "start", "end", "window_end", "planned_end"])
        ep_out.to_parquet(gt / "interventions.parquet", index=False)
    write_json(gt / "effects.json", effects_summary(episodes, cfg.interventions))
    expected = {}
    if cfg.dirty:
        log = pd.concat(dirt_logs, ignore_index=True) if dirt_logs else pd.DataFrame(
            columns=["kind", "reason", "upn", "urn", "date", "session", "code"])
        log.to_csv(gt / "dirt_rows.csv", index=False)
        by_kind = {k: int((log["kind"] == k).sum()) for k in dirt_mod.KINDS}
        by_kind["conflict"] //= 2  # each conflict logs the original and the second mark
        expected = dirt_mod.expected_quarantine(by_kind)
        write_json(gt / "dirt.json", {"injected_by_kind": by_kind,
                                      "expected_quarantine_by_reason": expected})
    return SynthResult(
        out_dir=out, marks=marks_path, pupils=pupils_path, schools=schools_path,
        interventions=int_path, term_dates=td_path, ground_truth=gt, years=yrs, as_of=as_of,
        seed=cfg.seed, n_marks=n_marks, n_enrolments=len(enr_out), n_pupils=int(
            enr_out["pid"].nunique()), n_schools=len(sch), n_interventions=len(episodes),
        dirt=expected, seconds=time.perf_counter() - t0, config=cfg)


def _flatten(codes: np.ndarray, rows: pd.DataFrame, cal, year: int):
    """On-roll cells of a school-year as (upn rank, day number, session, code index) arrays."""
    r, d, s = np.nonzero(codes >= 0)
    lut = np.array([_CODE_INDEX[c] for c in code_labels(year)], np.int8)
    return (rows["upn_rank"].to_numpy()[r], cal.day_numbers[d], s.astype(np.int8),
            lut[codes[r, d, s]])


def _table(urn: str, upns: np.ndarray, idx: np.ndarray, day, ses, code) -> pa.Table:
    n = len(idx)
    return pa.Table.from_arrays([
        pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(upns.astype(str), pa.string())),
        pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([urn])),
        pa.array(day.astype(np.int32), pa.int32()).cast(pa.date32()),
        pa.DictionaryArray.from_arrays(pa.array(ses.astype(np.int8)), pa.array(["AM", "PM"])),
        pa.DictionaryArray.from_arrays(pa.array(code.astype(np.int8)),
                                       pa.array(list(_ALL_CODES))),
    ], schema=_SCHEMA)


def _dirt_plan(cfg: SynthConfig, py: pd.DataFrame, sch: pd.DataFrame) -> dict:
    """How many of each kind of dirt each school gets (by expected marks)."""
    rng = _seeded(cfg.seed, 5)
    size = py.groupby("school").size().reindex(sch["idx"], fill_value=0).to_numpy(float)
    est_marks = size.sum() * 380
    plan: dict[int, dict[str, int]] = {int(i): {} for i in sch["idx"]}
    for kind in dirt_mod.KINDS:
        total = max(3, int(round(cfg.dirt_per_100k[kind] * est_marks / 1e5)))
        split = rng.multinomial(total, size / size.sum())
        for i, k in zip(sch["idx"], split, strict=True):
            plan[int(i)][kind] = int(k)
    return plan


def _dirty_table(cfg, s, upns, upn, day, ses, code, enr_out, counts, yrs, as_of):
    df = pd.DataFrame({"upn": upn, "urn": s.urn, "day": day.astype(np.int64),
                       "session": np.where(ses == 1, "PM", "AM"),
                       "code": np.array(_ALL_CODES)[code]})
    e = enr_out[enr_out["urn"] == s.urn]
    enr = pd.DataFrame({
        "upn": e["upn"].to_numpy(),
        "admission": e["admission"].to_numpy().astype("datetime64[D]").astype(np.int64),
        "leaving": pd.array(np.where(e["leaving_out"].isna(), np.nan,
                                     e["leaving_out"].to_numpy().astype("datetime64[D]")
                                     .astype(np.int64)), dtype="Int64"),
    })
    lo = int(la_calendar(yrs[0]).day_numbers[0])
    hi = int(np.datetime64(as_of, "D").astype(np.int64))

    def valid_code(days):
        return np.full(len(days), "/")

    dirty, log = dirt_mod.inject(df, counts, _seeded(cfg.seed, 6, int(s.idx)), enr, (lo, hi),
                                 valid_code)
    table = pa.Table.from_arrays([pa.array(dirty[c].to_numpy().astype(str)).dictionary_encode()
                                  for c in ("upn", "urn", "date", "session", "code")],
                                 names=["upn", "urn", "date", "session", "code"])
    return table.cast(_DIRTY_SCHEMA), log


def _enrolments_out(pop, yrs, as_of) -> pd.DataFrame:
    """Enrolments overlapping the generated window, with the pupils-file leaving date."""
    first = la_calendar(yrs[0]).days[0]
    e = pop.enrolments
    lv = e["leaving"].to_numpy()
    keep = (e["admission"].to_numpy() <= np.datetime64(as_of, "D")) & (
        np.isnat(lv) | (lv >= first))
    e = e[keep].copy()
    lv = e["leaving"].to_numpy()
    e["leaving_out"] = np.where(np.isnat(lv) | (lv > np.datetime64(as_of, "D")),
                                np.datetime64("NaT"), lv)
    e["urn"] = pop.schools["urn"].to_numpy()[e["school"].to_numpy()]
    e["upn"] = pop.pupils["upn"].to_numpy()[e["pid"].to_numpy()]
    return e


def _yn(x) -> np.ndarray:
    return np.where(np.asarray(x, bool), "Y", "N")


def _pupils_csv(pop, enr: pd.DataFrame, as_of: date) -> pd.DataFrame:
    p = pop.pupils.set_index("pid").loc[enr["pid"].to_numpy()].reset_index()
    last_year = np.array([academic_year_of(as_of)] * len(enr))
    lv = enr["leaving_out"].to_numpy()
    ly = np.where(np.isnat(lv), last_year,
                  [academic_year_of(pd.Timestamp(x)) if not np.isnat(x) else 0 for x in lv])
    yg = year_group_of(p["date_of_birth"].to_numpy(), ly)
    yg_txt = np.where(yg == 0, "R", yg.astype(str))
    df = pd.DataFrame({
        "upn": enr["upn"].to_numpy(),
        "urn": enr["urn"].to_numpy(),
        "name": p["name"].to_numpy(),
        "year_group": yg_txt,
        "date_of_birth": pd.to_datetime(p["date_of_birth"]).dt.strftime("%Y-%m-%d").to_numpy(),
        "sex": p["sex"].to_numpy(),
        "fsm_eligible": _yn(p["fsm"]),
        "sen_provision": p["sen"].to_numpy(),
        "eal": _yn(p["eal"]),
        "ethnicity": p["ethnicity"].to_numpy(),
        "postcode": p["postcode"].to_numpy(),
        "has_social_worker": _yn(p["social_worker"]),
        "looked_after": _yn(p["looked_after"]),
        "admission_date": pd.to_datetime(enr["admission"]).dt.strftime("%Y-%m-%d").to_numpy(),
        "leaving_date": pd.to_datetime(enr["leaving_out"]).dt.strftime("%Y-%m-%d")
        .fillna("").to_numpy(),
    })
    return df.sort_values(["urn", "upn"], kind="stable").reset_index(drop=True)


def _interventions_csv(episodes: pd.DataFrame, as_of: date) -> pd.DataFrame:
    if episodes.empty:
        return pd.DataFrame(columns=["upn", "urn", "type", "start_date", "end_date", "notes"])
    end = pd.to_datetime(episodes["end_date"])
    one_off = episodes["type"] == "penalty_notice"
    end_txt = np.where(one_off | (end > pd.Timestamp(as_of)), "",
                       end.dt.strftime("%Y-%m-%d"))
    df = pd.DataFrame({
        "upn": episodes["upn"].to_numpy(),
        "urn": episodes["urn"].to_numpy(),
        "type": episodes["type"].to_numpy(),
        "start_date": pd.to_datetime(episodes["start_date"]).dt.strftime("%Y-%m-%d").to_numpy(),
        "end_date": end_txt,
        "notes": episodes["note"].to_numpy(),
    })
    started = pd.to_datetime(df["start_date"]) <= pd.Timestamp(as_of)
    return df[started].sort_values(["urn", "start_date", "upn", "type"], kind="stable") \
        .reset_index(drop=True)


def _truth_rows(sy: SchoolYear, rows: pd.DataFrame) -> pd.DataFrame:
    """The latent truth of one school-year's pupil-years, incl. the half-termly trajectory."""
    cal, D = sy.cal, sy.D
    ht = cal.half_term[:D]
    traj_rate = sy.p[:, None] * sy.traj  # expected absence rate per day (no interventions)
    out = pd.DataFrame({
        "upn": rows["upn"].to_numpy(),
        "urn": rows["urn"].to_numpy(),
        "academic_year": rows["academic_year"].to_numpy(),
        "phase": rows["phase"].to_numpy(),
        "year_group": rows["year_group"].to_numpy(),
        "latent_index": rows["eta"].to_numpy(),
        "expected_absence_pct": 100 * sy.p,
        "deteriorating": rows["deteriorating"].to_numpy(),
        "deterioration_onset": np.where(rows["det_onset"] >= 0, cal.days[np.clip(
            rows["det_onset"].to_numpy(), 0, cal.n_days - 1)], np.datetime64("NaT")),
        "deterioration_slope_logit_per_week": rows["det_slope"].to_numpy(),
        "deterioration_final_logit": rows["det_final"].to_numpy(),
    })
    for h in range(1, 7):
        m = ht == h
        out[f"expected_absence_pct_ht{h}"] = (100 * traj_rate[:, m].mean(axis=1)
                                              if m.any() else np.nan)
    return out
