"""Write the binary members of the bad-inputs corpus (run from anywhere; idempotent).

* ``marks_workbook.csv`` -- a real Excel .xlsx workbook saved under a .csv name (the loaders
  must say it is a workbook, not try to read it as text);
* ``marks_wrong_columns.parquet`` -- a Parquet file with a pupil list's columns, not marks;
* ``marks_typed.parquet`` -- a good Parquet register with a real date column and one weekend mark
  (row 3), so the Parquet path's validation and row numbering (from 1) are tested too;
* ``marks_binary.csv`` -- a marks header followed by binary data (NUL and control bytes): not text
  in any encoding, so it is refused with one message (a cp1252 file, by contrast, loads).

The CSV members of the corpus are plain text written by hand.
"""

from datetime import date
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent


def main() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["upn", "urn", "date", "session", "code"])
    ws.append(["B801200005001", "100001", "2024-09-02", "AM", "/"])
    wb.save(HERE / "marks_workbook.csv")
    pq.write_table(pa.table({"upn": ["B801200005001"], "urn": ["100001"],
                             "year_group": ["5"]}), HERE / "marks_wrong_columns.parquet")
    pq.write_table(pa.table({
        "upn": ["B801200005001"] * 3,
        "urn": pa.array([100001] * 3, pa.int64()),
        "date": pa.array([date(2024, 9, 6), date(2024, 9, 6), date(2024, 9, 7)], pa.date32()),
        "session": ["AM", "PM", "AM"],
        "code": ["/", "\\", "/"],
    }), HERE / "marks_typed.parquet")
    (HERE / "marks_binary.csv").write_bytes(
        b"upn,urn,date,session,code\n" + bytes(range(0, 256)) * 4)


if __name__ == "__main__":
    main()
