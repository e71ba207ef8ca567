"""Synthetic local authority: realistic registers with known ground truth (issue 3).

No pupil-level register data may leave a school, so the suite ships a generator whose output an
analyst would believe and whose truth is known: the demo, the notebooks' defaults and the tests
run on it.

* :func:`generate_la` -- write ``marks.parquet``, ``pupils.csv``, ``schools.csv``,
  ``interventions.csv``, ``term_dates.csv`` and ``ground_truth/`` into a folder, in the layouts
  ``attendance ingest`` reads (:mod:`.generate`);
* :class:`SynthConfig` -- every parameter, with its source (:mod:`.config`);
* :mod:`.calibration` -- generated figures next to the published DfE ones (``compare``,
  ``plot``).

Modules: :mod:`.config` (parameters and their sources), :mod:`.term_dates` (LA term dates,
INSET days), :mod:`.schools`, :mod:`.pupils` (characteristics, dates of birth, UPNs),
:mod:`.la` (cohorts over years, transfers, admissions, leavers), :mod:`.propensity` (latent
propensity, persistence, trajectories, reason mix), :mod:`.registers` (the vectorised
session-mark generator) with :mod:`.episodes` (activities, episodes, closures) and
:mod:`.register_codes`, :mod:`.interventions`, :mod:`.ground_truth`, :mod:`.dirt`,
:mod:`.generate` (writing it all), :mod:`.calibration`.
"""

from .config import InterventionSpec, PhaseModel, SynthConfig
from .generate import DEFAULT_SEED, SynthResult, generate_la, resolve_years

__all__ = ["generate_la", "SynthResult", "SynthConfig", "InterventionSpec", "PhaseModel",
           "DEFAULT_SEED", "resolve_years"]
