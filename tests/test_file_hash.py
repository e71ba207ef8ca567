"""file_sha256 is remembered per version of a file, never stale after a rewrite."""

import hashlib
import os

from attendance_lib.io._common import file_sha256


def test_hash_follows_file_content(tmp_path):
    p = tmp_path / "marks.csv"
    p.write_bytes(b"upn,urn,date,session,code\n")
    assert file_sha256(p) == hashlib.sha256(b"upn,urn,date,session,code\n").hexdigest()
    assert file_sha256(str(p)) == file_sha256(p)  # same file, however named
    st = p.stat()
    p.write_bytes(b"upn,urn,date,session,code\nX\n")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # even within a second
    assert file_sha256(p) == hashlib.sha256(b"upn,urn,date,session,code\nX\n").hexdigest()
