"""Benchmark: `qgen grade` end to end through the CLI — read, parse, judge, ECF, reports, feedback pages.

    .venv/bin/python bench/bench_grade.py [--students 10000] [--versions 20] [--rounds 3]

Builds a 3-question exam (mlp-backprop, logistic-sgd, graph-forward: about 40 answer cells per
version), a made-up class's sheet (`qgen sample-answers`: right answers in the forms people type,
blanks, and about a third of the questions with an early slip whose later answers follow from
it, the chains that earn error carried forward), then times `qgen grade DIR answers.csv -q`
as a separate process, feedback pages included.

The floor, timed in the same rounds (interleaved): a process that reads the same CSV with the
csv module and writes one small HTML page per row and a CSV of totals into a folder — the I/O
any grader of this sheet must do, with no judging. The target is ≥ 20,000 submissions a minute
on 2 cores; the ratio to the floor says how much of the time is judging.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BANK = """exam: {id: bench-grade, title: Bench}
questions:
  - family: mlp-backprop
  - family: logistic-sgd
  - family: graph-forward
"""

FLOOR = r"""
import csv, html, os, sys
from pathlib import Path
src, out = sys.argv[1], Path(sys.argv[2])
(out / "feedback").mkdir(parents=True, exist_ok=True)
with open(src, encoding="utf-8", newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
totals = []
for r in body:
    cells = "".join(f"<tr><td>{html.escape(h)}</td><td>{html.escape(v)}</td></tr>" for h, v in zip(header, r))
    (out / "feedback" / f"{r[0]}.html").write_text(f"<html><body><table>{cells}</table></body></html>", encoding="utf-8")
    totals.append([r[0], str(sum(len(v) for v in r))])
with open(out / "grades.csv", "w", encoding="utf-8", newline="") as f:
    csv.writer(f).writerows([["student_id", "total"], *totals])
"""


def _run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=10_000)
    ap.add_argument("--versions", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    qgen = str(Path(sys.executable).with_name("qgen"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "bank.yaml").write_text(BANK, encoding="utf-8")
        exam = tmp / "exam"
        subprocess.run([qgen, "generate", str(tmp / "bank.yaml"), "--versions", str(args.versions), "--no-pdf",
                        "--out", str(exam), "-q"], check=True, stdout=subprocess.DEVNULL)
        answers = exam / "answers-sample.csv"
        subprocess.run([qgen, "sample-answers", str(exam), "--students", str(args.students), "--seed", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        with open(answers, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f))
        cells = len(header) - 2
        floor_script = tmp / "floor.py"
        floor_script.write_text(FLOOR, encoding="utf-8")
        qgen_times, floor_times = [], []
        for r in range(args.rounds):
            qgen_times.append(_run([qgen, "grade", str(exam), str(answers), "--out", str(tmp / f"g{r}"), "-q"]))
            floor_times.append(_run([sys.executable, str(floor_script), str(answers), str(tmp / f"f{r}")]))
        statuses = _statuses(exam, answers)
    rows = args.students + 2  # sample-answers adds a duplicate and an unknown version
    q, fl = statistics.median(qgen_times), statistics.median(floor_times)
    print(f"{rows} rows, {cells} answer columns over {args.versions} versions, {os.cpu_count()} cores, "
          f"median of {args.rounds} interleaved rounds")
    print(f"  qgen grade  {q:7.2f} s   {rows / q * 60:9.0f} submissions/min  (runs: "
          f"{', '.join(f'{t:.2f}' for t in qgen_times)})")
    print(f"  I/O floor   {fl:7.2f} s   {rows / fl * 60:9.0f} rows/min")
    print(f"  ratio to the floor: {q / fl:.2f}")
    print(f"  part statuses in the first 1000 rows: {statuses}")


def _statuses(exam: Path, answers: Path) -> dict[str, int]:
    """How the first 1000 rows' parts were judged (how much ECF the sheet exercises)."""
    from qgen.grade.files import load_manifest
    from qgen.grade.sheet import grade_sheet, known_columns, read_sheet

    manifest = load_manifest(exam)
    text = answers.read_text(encoding="utf-8")
    head = "".join(text.splitlines(keepends=True)[:1001])
    graded = grade_sheet(manifest, read_sheet(head, known_columns(manifest)))
    return dict(Counter(s.status for g in graded for s in g.scores).most_common())


if __name__ == "__main__":
    main()
