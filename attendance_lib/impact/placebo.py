"""Placebo tests: pretend the support began earlier, when it cannot have had any effect.

For each supported pupil the start is moved ``shift_weeks`` school weeks earlier; the whole
matched design is run again at the pretend date (comparison pupils chosen on what was known
then, outcome over the ``min(window_weeks, shift_weeks)`` weeks that end before the real start).
Nothing had happened yet, so an honest design should find about zero.

What a placebo "effect" means here: pupils are usually chosen on their attendance in exactly
the weeks before the start (year to date at a half-term, 10 unauthorised sessions in 10 weeks),
so pupils who looked alike at the pretend date did not look alike by the real start, and the
placebo shows the supported pupils' absence rising in those weeks (the dip before support that
selection on recent attendance produces; Ashenfelter 1978). That is why the main design matches
on every week up to the start. A placebo far from zero is a warning that the comparison depends
on matching right up to the start; one near zero, that the pupils were not singled out on their
most recent weeks.
"""

from __future__ import annotations

import pandas as pd

from .did import matched_did
from .estimate import Estimate
from .matching import MatchParams, match
from .panel import Register

__all__ = ["placebo"]


def placebo(reg: Register, episodes: pd.DataFrame, kind: str, params: MatchParams | None = None,
            *, shift_weeks: int = 4, chars: pd.DataFrame | None = None,
            adjust: bool = True) -> Estimate:
    """Matched DiD at a pretend start ``shift_weeks`` school weeks before the real one."""
    params = params or MatchParams()
    sample = match(reg, episodes, kind, params, chars=chars, shift_weeks=shift_weeks)
    e = matched_did(sample, adjust=adjust)
    e.design = "placebo"
    e.diagnostics = {**e.diagnostics, "shift_weeks": shift_weeks,
                     "placebo_window_weeks": min(params.window_weeks, shift_weeks)}
    return e
