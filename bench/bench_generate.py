"""Benchmark: solving + rendering .tex, and compiling PDFs, for an example bank.

    .venv/bin/python bench/bench_generate.py [--bank banks/midterm.yaml] [--versions 200] [--pdf-versions 4]

Prints versions per second for solve+render (no LaTeX) and seconds per PDF with LaTeX.
Targets (issue 6): solve+render thousands of versions per minute; PDFs dominated by LaTeX.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from qgen.bank import load_bank
from qgen.generate import build_versions
from qgen.publish import render_version, write_exam_set

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bank", default=str(ROOT / "banks" / "midterm.yaml"))
    ap.add_argument("--versions", type=int, default=200)
    ap.add_argument("--pdf-versions", type=int, default=4)
    args = ap.parse_args()
    bank = load_bank(args.bank)

    t0 = time.perf_counter()
    versions = build_versions(bank, [str(v) for v in range(1, args.versions + 1)])
    t1 = time.perf_counter()
    for v in versions:
        render_version(bank, v, key=False)
        render_version(bank, v, key=True)
    t2 = time.perf_counter()
    solve, render = t1 - t0, t2 - t1
    print(f"bank {Path(args.bank).name}: {args.versions} versions, {len(bank.questions)} questions each")
    print(f"  solve   {solve:7.2f} s  ({args.versions / solve:8.1f} versions/s)")
    print(f"  render  {render:7.2f} s  ({args.versions / render:8.1f} versions/s, exam + key)")
    print(f"  total   {solve + render:7.2f} s  ({60 * args.versions / (solve + render):8.0f} versions/min)")

    if args.pdf_versions:
        with tempfile.TemporaryDirectory() as tmp:
            t3 = time.perf_counter()
            result = write_exam_set(bank, [str(v) for v in range(1, args.pdf_versions + 1)], Path(tmp) / "out")
            t4 = time.perf_counter()
        n = len(result.pdfs)
        print(f"  pdf     {t4 - t3:7.2f} s  for {n} PDFs ({(t4 - t3) / n:.2f} s per PDF, parallel on all cores)")


if __name__ == "__main__":
    main()
