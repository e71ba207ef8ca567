"""Internal ids of the register codes the generator writes, and their meaning by code set.

The generator works on small integers; :data:`CODE_LABELS` turns them into the register codes of
the academic year's code set (2006 regulations before 2024/25, 2024 regulations from it;
domain.md 1): e.g. agreed holiday is ``H`` before 2024 and ``C`` after, part-time timetables
``C`` then ``C2``, interviews ``J`` (approved activity) then ``J1`` (leave), LA-arranged
education ``B`` then ``K``, an unexpected closure ``Y`` then ``Y4``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CODE_LABELS", "code_labels", "ABSENT", "UNAUTHORISED", "POSSIBLE", "N_CODES"]

# internal code ids
(PRES_AM, PRES_PM, LATE, ILL, MED, OTH, GHOL, AHOL, COTH, PT, EXC, NRY, ULATE, REL, STUDY,
 TRAV, INTV, TRIP, SPORT, OFFS, WORK, LAED, INSET, CLOSED) = range(24)
N_CODES = 24
CODE_LABELS = {
    "2006": ("/", "\\", "L", "I", "M", "O", "G", "H", "C", "C", "E", "N", "U", "R", "S", "T",
             "J", "V", "P", "B", "W", "B", "#", "Y"),
    "2024": ("/", "\\", "L", "I", "M", "O", "G", "C", "C", "C2", "E", "N", "U", "R", "S", "T",
             "J1", "V", "P", "B", "W", "K", "#", "Y4"),
}
_ABS_2006 = np.zeros(N_CODES, bool)
_ABS_2006[ILL:TRAV + 1] = True
_ABS_2024 = _ABS_2006.copy()
_ABS_2024[INTV] = True
ABSENT = {"2006": _ABS_2006, "2024": _ABS_2024}
UNAUTHORISED = np.zeros(N_CODES, bool)
UNAUTHORISED[[OTH, GHOL, NRY, ULATE]] = True
POSSIBLE = np.ones(N_CODES, bool)
POSSIBLE[[INSET, CLOSED]] = False


def code_labels(academic_year: int) -> tuple[str, ...]:
    """Register code of each internal code id in the code set of ``academic_year``."""
    return CODE_LABELS["2024" if academic_year >= 2024 else "2006"]
