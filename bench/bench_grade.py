"""Benchmark: grading answer sheets — parse, judge, error carried forward — for a ~40-cell exam.

    .venv/bin/python bench/bench_grade.py [--students 10000] [--versions 20]

Builds a 3-question exam (mlp-backprop, logistic-sgd, graph-forward: about 40 answer cells),
a made-up class's sheet (`qgen.grade.simulate`: right answers, blanks, slipped chains that
earn ECF), and times `grade_sheet` over it. Prints rows per second.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import time
from collections import Counter
from pathlib import Path

from qgen.bank import load_bank
from qgen.generate import build_versions, manifest
from qgen.grade.columns import answer_columns
from qgen.grade.sheet import grade_sheet, known_columns, read_sheet
from qgen.grade.simulate import sample_answers

BANK = """exam: {id: bench-grade, title: Bench}
questions:
  - family: mlp-backprop
  - family: logistic-sgd
  - family: graph-forward
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=10_000)
    ap.add_argument("--versions", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bank.yaml"
        path.write_text(BANK, encoding="utf-8")
        bank = load_bank(path)
        record = manifest(bank, build_versions(bank, [str(v) for v in range(1, args.versions + 1)]))
    rows = sample_answers(record, args.students, seed=1)
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    text = buf.getvalue()
    cells = len(answer_columns({"versions": record["versions"][:1]}))

    t0 = time.perf_counter()
    sheet = read_sheet(text, known_columns(record))
    t1 = time.perf_counter()
    graded = grade_sheet(record, sheet)
    t2 = time.perf_counter()
    statuses = Counter(s.status for g in graded for s in g.scores)
    print(f"{len(graded)} rows, {cells} answer cells per version, {args.versions} versions")
    print(f"  read    {t1 - t0:7.2f} s")
    print(f"  grade   {t2 - t1:7.2f} s  ({len(graded) / (t2 - t1):8.0f} rows/s, with ECF)")
    print(f"  parts   {dict(statuses.most_common())}")


if __name__ == "__main__":
    main()
