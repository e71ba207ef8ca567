"""Registry ids and cached UPN checks stay right past the cache's initial size, whether ids
were given out by the marks reader, by a pupils file or by an existing store."""

import numpy as np

from attendance_lib.io.registry import Registry
from attendance_lib.upn import check_letter


def _upns(n, start=0):
    bodies = [f"999{i:09d}" for i in range(start, start + n)]
    return [check_letter(b) + b for b in bodies]


def test_many_known_pupils_then_marks():
    reg = Registry()
    known = _upns(3000)
    for u in known:  # as Enrolments.from_pupils does
        reg.upn_id(u)
    wrong = "A" + _upns(1, 5000)[0][1:] if _upns(1, 5000)[0][0] != "A" else "B" + _upns(1, 5000)[0][1:]
    values = known[2500:] + _upns(600, 4000) + [wrong]
    ids, bad = reg.upn_ids_for(values)
    assert list(ids[:500]) == list(range(2500, 3000))  # known pupils keep their ids
    assert len(set(ids.tolist())) == len(values)
    assert not bad[:-1].any() and bad[-1]  # only the wrong check letter fails


def test_registry_from_store_lists():
    upns = _upns(2000)
    reg = Registry.from_lists(upns, ["100001"])
    ids, bad = reg.upn_ids_for(upns[1990:] + _upns(5, 9000))
    assert ids[:10].tolist() == list(range(1990, 2000))
    assert ids[10:].tolist() == list(range(2000, 2005))
    assert not np.any(bad)
