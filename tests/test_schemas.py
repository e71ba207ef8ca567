"""Data contracts hold on what the library produces from the committed sample register, and
catch frames that break DfE's invariants."""

import pandas as pd
import pandera.errors
import pytest

from attendance_lib import metrics, schemas
from attendance_lib.paths import sample_dir
from attendance_lib.store import Store


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample") / "store"
    d = sample_dir()
    res = Store(root).ingest([d / "marks.csv"], pupils=d / "pupils.csv",
                             schools=d / "schools.csv")
    assert res.rows_quarantined == 0
    return Store(root)


def test_outputs_meet_contracts(sample_store):
    schemas.validate(metrics.summary(sample_store, "pupil"), schemas.PupilSummary)
    schemas.validate(metrics.summary(sample_store, "school"), schemas.GroupSummary)
    schemas.validate(metrics.summary(sample_store, "la"), schemas.GroupSummary)
    schemas.validate(sample_store.pupils(), schemas.PupilRoster)
    schemas.validate(sample_store.schools(), schemas.SchoolRoster)


def test_pa_flag_must_follow_ten_percent_rule():
    # 2 of 20 sessions absent is exactly 10%: PA; flag it False and the contract must fail
    df = pd.DataFrame({"upn": ["B801200005001"], "urn": ["100001"], "possible_sessions": [20],
                       "present_sessions": [18], "aea_sessions": [0],
                       "authorised_sessions": [1], "unauthorised_sessions": [1],
                       "overall_absence_pct": [10.0], "persistent_absence": [False],
                       "severe_absence": [False]})
    with pytest.raises(pandera.errors.SchemaErrors, match="pa_is_ten_percent"):
        schemas.validate(df, schemas.PupilSummary)
    schemas.validate(df.assign(persistent_absence=True), schemas.PupilSummary)


def test_severe_counts_cannot_exceed_persistent():
    df = pd.DataFrame({"enrolments": [10], "possible_sessions": [100],
                       "authorised_sessions": [5], "unauthorised_sessions": [5],
                       "overall_absence_pct": [10.0], "pa_count": [1], "pa_pct": [10.0],
                       "sa_count": [2], "sa_pct": [20.0]})
    with pytest.raises(pandera.errors.SchemaErrors, match="severe_within_persistent"):
        schemas.validate(df, schemas.GroupSummary)


def test_bad_upn_and_phase_rejected():
    with pytest.raises(pandera.errors.SchemaErrors):
        schemas.validate(pd.DataFrame({"upn": ["B8012000050O1"], "urn": ["100001"]}),
                         schemas.PupilRoster)
    with pytest.raises(pandera.errors.SchemaErrors):
        schemas.validate(pd.DataFrame({"urn": ["100001"], "phase": ["nursery"]}),
                         schemas.SchoolRoster)
