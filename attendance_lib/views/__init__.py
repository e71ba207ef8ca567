"""What the report templates show: pure functions from the store to DataFrames.

The notebooks in ``notebooks/`` are thin; their content lives here (issue 4):

* :mod:`.school` -- the school report (headline figures, weekly trend, cohort gaps, reasons,
  day x session pattern, attendance bands, the legal threshold, social-worker notifications,
  data-quality warnings), on a store restricted to the school
  (:func:`attendance_lib.privacy.school_store`);
* :mod:`.la` -- the LA overview (funnel plots with control limits, cohort gaps, neighbourhoods,
  trends, published benchmarks, Targeting Support Meeting focus) and the aggregate-only LA
  figures a school report compares with; no pupil rows;
* :mod:`.tsm` -- the Targeting Support Meeting pack, per school per term;
* :mod:`.quality` -- loads, quarantine, missing marks, codes in use, unresolved N codes;
* :mod:`.cohorts` -- cohort gaps shared by the school and LA views;
* :mod:`.published` -- England, region and LA figures from DfE's published data;
* :mod:`.report_params` -- the templates' parameter check; :mod:`.format` -- number and table
  formatting.

Nothing is imported or read when the package is imported.
"""

__all__ = ["school", "la", "tsm", "quality", "cohorts", "published", "report_params", "format"]
