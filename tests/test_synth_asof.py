"""The partial (as-of) year must look like a live LA: no surge of absence just before the as-of
date. (Regression: the rule that in-year leavers are often missing for 1-4 weeks before they
come off roll once fired for every enrolment, because in the as-of year every enrolment 'ends'
at the as-of date.)"""

from attendance_lib import metrics, synth
from attendance_lib.store import Store


def test_no_absence_surge_before_as_of(tmp_path):
    la = synth.generate_la(tmp_path / "la", pupils=2500, years=1, as_of="2026-11-20", seed=11)
    store = Store(tmp_path / "store")
    res = store.ingest([la.marks], pupils=la.pupils, schools=la.schools)
    assert res.rows_quarantined == 0
    weeks = metrics.weekly_summary(store, "2026-09-01", "2026-11-20", by=())
    weeks = weeks[weeks["possible"] > 0]
    early = weeks.head(5)["absent"].sum() / weeks.head(5)["possible"].sum() * 100
    late = weeks.tail(3)["absent"].sum() / weeks.tail(3)["possible"].sum() * 100
    # national autumn absence is about 6-7% and rises only gently into November (domain.md 3.1:
    # autumn 6.7% in 2023/24); before the fix the last three weeks ran at 25-50%
    assert late < 12.0, (early, late)
    assert late < 1.8 * early, (early, late)
    ytd = metrics.la_summary(metrics.enrolment_summary(store))
    assert 4.0 < float(ytd["overall_absence_pct"].iloc[0]) < 10.0
