"""Benchmark: a course's exam set, from bank to PDFs, against the floor LaTeX sets.

    .venv/bin/python bench/bench_course.py [--bank banks/midterm.yaml] [--sizes 10,100,500] [--jobs N]

For each number of versions it prints the wall time of
  (a) solve + render: every version drawn and solved, every exam and key written as .tex
      (`qgen generate --no-pdf`);
  (b) PDFs: the same plus every exam and key compiled (`qgen generate`, batches of papers per
      LaTeX run on --jobs cores, split with pypdf);
  (c) the floor: one pdflatex pass, one process, over the same pages in one document (all exams
      in one, all keys in another, run one after the other);
and the ratio (b)/(c). (c) is one core's work; (b) uses all of them, so on n cores a ratio near
1/n means LaTeX is all (b) does. Growth: time per version at each size, which should stay flat.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from pypdf import PdfReader

from qgen.bank import load_bank
from qgen.publish import Options, write_exam_set

ROOT = Path(__file__).resolve().parent.parent


def floor(out: Path, work: Path, kind: str) -> tuple[float, int]:
    """One pdflatex pass over every `kind` paper of `out` in one document: (seconds, pages)."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(out.glob(f"{kind}-*.tex"))]
    head = texts[0].partition("\\begin{document}")[0]
    papers = [t.partition("\\begin{document}")[2].rpartition("\\end{document}")[0] for t in texts]
    doc = "".join([head, "\\begin{document}", *papers, "\\end{document}\n"])
    tex = work / f"floor-{kind}.tex"
    tex.write_text(doc, encoding="utf-8")
    start = time.perf_counter()
    subprocess.run(["pdflatex", "-interaction=batchmode", "-no-shell-escape", tex.name], cwd=work, check=True,
                   stdout=subprocess.DEVNULL, env=dict(os.environ, openout_any="p"))
    return time.perf_counter() - start, len(PdfReader(work / f"floor-{kind}.pdf").pages)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bank", default=str(ROOT / "banks" / "midterm.yaml"))
    ap.add_argument("--sizes", default="10,100,500", help="numbers of versions, comma-separated")
    ap.add_argument("--jobs", type=int, default=None, help="parallel LaTeX runs (default: cores)")
    args = ap.parse_args()
    bank = load_bank(args.bank)
    cores = args.jobs or os.cpu_count()
    print(f"bank {Path(args.bank).name}: {len(bank.questions)} questions; LaTeX on {cores} cores")
    print(f"{'versions':>8} {'(a) tex':>9} {'per min':>8} {'(b) pdf':>9} {'pages':>6} {'ms/page':>8} "
          f"{'(c) floor':>10} {'(b)/(c)':>8} {'(b)/version':>12}")
    for n in (int(s) for s in args.sizes.split(",")):
        ids = [str(v) for v in range(1, n + 1)]
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            t0 = time.perf_counter()
            write_exam_set(bank, ids, tmp / "tex", make_pdf=False, options=Options())
            a = time.perf_counter() - t0
            t0 = time.perf_counter()
            result = write_exam_set(bank, ids, tmp / "pdf", jobs=args.jobs, options=Options())
            b = time.perf_counter() - t0
            pages = sum(len(PdfReader(p).pages) for p in result.pdfs)
            (tmp / "floor").mkdir()
            c_exam, p_exam = floor(tmp / "pdf", tmp / "floor", "exam")
            c_key, p_key = floor(tmp / "pdf", tmp / "floor", "key")
            c = c_exam + c_key
            assert p_exam + p_key == pages, (p_exam, p_key, pages)
        print(f"{n:>8} {a:>8.2f}s {60 * n / a:>8.0f} {b:>8.2f}s {pages:>6} {1000 * b / pages:>8.1f} "
              f"{c:>9.2f}s {b / c:>8.2f} {b / n:>11.3f}s", flush=True)


if __name__ == "__main__":
    main()
