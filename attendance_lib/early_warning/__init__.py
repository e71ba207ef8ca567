"""Early warning: predict persistent absence before it happens, and list who to help (issue 5).

Modules (one concept each; product.md "Early warning"):

* :mod:`.points` -- the school calendar: evaluation points, "the same point" in another year;
* :mod:`.features` -- features of every enrolment on roll as of a date, from what was known then;
* :mod:`.labels` -- persistent absence at the end of the year / of the next term;
* :mod:`.baselines` -- the rules schools use today, as sortable scores;
* :mod:`.models` -- the candidates and :class:`~.models.EarlyWarningClassifier` (choice on
  validation data, calibrated probabilities);
* :mod:`.metrics` -- precision and recall at a school's capacity, AUC, AP, Brier, ECE,
  school-bootstrap intervals;
* :mod:`.evaluate` -- temporal validation at each evaluation point;
* :mod:`.reasons` -- plain-English reasons and what drives risk;
* :mod:`.fairness` -- the audit by FSM, SEN provision, sex and ethnicity;
* :mod:`.artefact` -- the saved model and its model card;
* :mod:`.train` -- training for a date and scoring with a saved model;
* :mod:`.export` -- the per-school list as a workbook and CSV;
* :mod:`.cli` -- ``attendance model train | evaluate | score``.

:func:`school_list` is the school report's entry point: it reads only that school's data.
Importing the package does no I/O.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["school_list"]


def school_list(store, urn: str, model_dir, as_of, *, top: int | None = None,
                top_pct: float | None = None, pseudonymise_key: str | None = None
                ) -> pd.DataFrame:
    """The early-intervention list of one school: its pupils on roll on ``as_of``, ranked.

    Reads only that school's rows (a store restricted with ``Store(root, urns=[urn])``):
    pupils' attendance at other schools last year is not visible, so "last year" reasons and
    risks rely on this school's own records. Columns: ``urn, school`` and
    :data:`~.export.LIST_COLUMNS`.

    Parameters
    ----------
    store : a :class:`~attendance_lib.store.Store` or a store folder.
    urn : the school.
    model_dir : a folder written by ``attendance model train``.
    as_of : the date the list is for.
    top : keep the first ``top`` pupils (default all on roll).
    top_pct : keep the first ``top_pct``% of the pupils on roll (rounded up), e.g. 10 for the
        capacity the model is judged at.
    pseudonymise_key : replace UPNs by keyed pseudonyms and leave names out.
    """
    from attendance_lib.store import Store

    from .artefact import load_model
    from .export import list_frame
    from .train import score

    root = store.root if isinstance(store, Store) else Path(store)
    base = store if isinstance(store, Store) else Store(root).require()
    one = base.for_schools([str(urn)])
    model, card = load_model(model_dir)
    scored = score(one, model_dir, as_of, model=model, card=card)
    if top_pct is not None:
        import math

        if not 0 < top_pct <= 100:
            raise ValueError(f"top_pct must be in (0, 100], got {top_pct}")
        k = math.ceil(len(scored) * top_pct / 100 - 1e-9)
        top = k if top is None else min(top, k)
    return list_frame(one, scored, as_of, pseudonymise_key=pseudonymise_key, top=top)
