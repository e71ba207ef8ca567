"""Privacy built in (issue 4 item 3): per-school stores, suppression, pseudonyms.

Expected values are worked out by hand in the comments; pseudonyms are checked against the
definition (HMAC-SHA256 of the UPN with the key, first 8 hex digits, upper case) computed with
the standard library's ``hmac`` directly.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import pandas as pd
import pytest
from conftest import UPN, URN_A, URN_B, RegisterBuilder

from attendance_lib.privacy import (
    SUPPRESSED,
    PrivacyError,
    check_no_pupils,
    pseudonymise,
    pupil_identifiers,
    school_store,
    suppress,
)
from attendance_lib.store import StoreError

P = "/ \\"


@pytest.fixture(scope="module")
def two_schools(tmp_path_factory):
    reg = RegisterBuilder(tmp_path_factory.mktemp("privacy"))
    reg.school(URN_A, name="Alpha").school(URN_B, name="Beta")
    reg.pupil(UPN[0], URN_A).pupil(UPN[1], URN_A).pupil(UPN[2], URN_B)
    for u, s in ((UPN[0], URN_A), (UPN[1], URN_A), (UPN[2], URN_B)):
        reg.days(u, s, "2024-09-09", P, "I I", P)
    return reg.ingest()


# --------------------------------------------------------------------------- school_store
def test_school_store_sees_only_its_school(two_schools):
    s = school_store(two_schools.root, URN_A)
    assert s.urns == (URN_A,)
    assert sorted(s.pupils()["upn"]) == sorted([UPN[0], UPN[1]])
    marks = s.query("SELECT DISTINCT upn, urn FROM marks ORDER BY upn")
    assert sorted(map(tuple, marks.values.tolist())) == sorted([(UPN[0], URN_A), (UPN[1], URN_A)])
    ids = s.query("SELECT upn FROM upn_ids ORDER BY upn")["upn"].tolist()
    assert UPN[2] not in ids
    # a restricted store cannot widen itself
    with pytest.raises(StoreError):
        s.for_schools([URN_A, URN_B])


def test_school_store_accepts_int_urn(two_schools):
    assert school_store(two_schools.root, int(URN_B)).urns == (URN_B,)


def test_school_store_unknown_urn_names_the_schools(two_schools):
    with pytest.raises(PrivacyError, match=r"'999999' is not in the store.*100001, 100002"):
        school_store(two_schools.root, "999999")


def test_school_store_no_store(tmp_path):
    with pytest.raises(StoreError, match="no store here"):
        school_store(tmp_path / "nothing", URN_A)


# --------------------------------------------------------------------------- suppress
def test_suppress_counts_and_their_rates():
    t = pd.DataFrame({"group": ["a", "b", "c"], "enrolments": [40, 4, 12],
                      "pa_count": [8, 1, 3], "pa_pct": [20.0, 25.0, 25.0],
                      "overall_absence_pct": [6.0, 9.0, 7.0]})
    out = suppress(t, ["enrolments", "pa_count"], 5)
    # a: nothing below 5; b: 4 enrolments -> the row's counts and every rate; c: 3 PA -> PA only
    assert out.loc[0].tolist() == ["a", 40, 8, 20.0, 6.0]
    assert out.loc[1].tolist() == ["b", SUPPRESSED, SUPPRESSED, SUPPRESSED, SUPPRESSED]
    assert out.loc[2].tolist() == ["c", 12, SUPPRESSED, SUPPRESSED, 7.0]
    # the input is untouched
    assert t["enrolments"].tolist() == [40, 4, 12]


def test_suppress_marker_is_never_zero_and_zero_is_hidden_by_default():
    t = pd.DataFrame({"pupils": [0, 2, 5]})
    out = suppress(t, ["pupils"], 5)
    assert out["pupils"].tolist() == ["c", "c", 5]
    assert 0 not in out["pupils"].tolist()
    assert suppress(t, ["pupils"], 5, keep_zero=True)["pupils"].tolist() == [0, "c", 5]


def test_suppress_threshold_zero_is_off_and_custom_marker():
    t = pd.DataFrame({"pupils": [1, 2]})
    assert suppress(t, ["pupils"], 0)["pupils"].tolist() == [1, 2]
    assert suppress(t, ["pupils"], 2, marker="*")["pupils"].tolist() == ["*", 2]


def test_suppress_explicit_derived_columns():
    t = pd.DataFrame({"n": [3, 9], "rate": [1.5, 2.5], "other": [7.0, 8.0]})
    out = suppress(t, ["n"], 5, derived={"n": ["rate"]})
    assert out.values.tolist() == [["c", "c", 7.0], [9, 2.5, 8.0]]
    with pytest.raises(KeyError, match="nope"):
        suppress(t, ["n"], 5, derived={"n": ["nope"]})
    with pytest.raises(KeyError, match="missing"):
        suppress(t, ["missing"], 5)


def test_secondary_suppression_within_groups():
    # cohort x: one small group (2) -> the smallest other (10) is hidden too, the total
    # (2 + 10 + 30) no longer gives it away; cohort y: two small groups already, nothing extra
    t = pd.DataFrame({"cohort": ["x", "x", "x", "y", "y", "y"],
                      "enrolments": [2, 10, 30, 1, 3, 50]})
    out = suppress(t, ["enrolments"], 5, within="cohort")
    assert out["enrolments"].tolist() == ["c", "c", 30, "c", "c", 50]
    whole = suppress(pd.DataFrame({"pupils": [40, 3, 12]}), ["pupils"], 5, within=True)
    assert whole["pupils"].tolist() == [40, "c", "c"]


# --------------------------------------------------------------------------- pseudonymise
def _hmac(upn: str, key: str) -> str:
    return "P-" + hmac.new(key.encode(), upn.encode(), hashlib.sha256).hexdigest()[:8].upper()


def test_pseudonyms_follow_the_definition_and_are_stable():
    s = pd.Series(UPN[:4], index=[10, 11, 12, 13], name="upn")
    out = pseudonymise(s, "k3y")
    assert out.tolist() == [_hmac(u, "k3y") for u in UPN[:4]]
    assert out.index.tolist() == [10, 11, 12, 13]
    assert all(re.fullmatch(r"P-[0-9A-F]{8}", v) for v in out)
    assert pseudonymise(s, "k3y").tolist() == out.tolist()          # stable
    assert out.nunique() == 4                                       # distinct pupils differ
    other = pseudonymise(s, "another key")
    assert not set(other) & set(out)                                # the key matters
    assert not any(u in v for u in UPN for v in out)


def test_pseudonym_needs_a_key_and_keeps_missing():
    with pytest.raises(PrivacyError, match="non-empty key"):
        pseudonymise(pd.Series(UPN[:1]), "")
    out = pseudonymise(pd.Series([UPN[0], None]), "k")
    assert out.iloc[1] is None


def test_pupil_identifiers_pseudonymised_drops_names():
    df = pd.DataFrame({"upn": UPN[:2], "name": ["Ann Example", "Bob Example"],
                       "postcode": ["ZZ1 1AA", "ZZ1 1AB"], "Year": ["7", "8"]})
    shown = pupil_identifiers(df, pseudonymise_ids=True, key="k")
    assert shown.columns.tolist() == ["Pupil", "Year"]
    assert shown["Pupil"].tolist() == [_hmac(UPN[0], "k"), _hmac(UPN[1], "k")]
    plain = pupil_identifiers(df, pseudonymise_ids=False)
    assert plain.columns.tolist() == ["Pupil", "name", "Year"]
    assert plain["Pupil"].tolist() == UPN[:2]
    # display names ("Name", as the pupil lists label it) are identifiers too
    shown = pupil_identifiers(df.rename(columns={"name": "Name", "postcode": "Postcode"}),
                              pseudonymise_ids=True, key="k")
    assert shown.columns.tolist() == ["Pupil", "Year"]


def test_check_no_pupils():
    ok = pd.DataFrame({"urn": [URN_A], "school": ["Alpha"]})
    assert check_no_pupils(ok) is ok
    with pytest.raises(PrivacyError, match="upn"):
        check_no_pupils(pd.DataFrame({"upn": UPN[:1]}), "t")
