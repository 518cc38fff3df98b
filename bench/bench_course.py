"""Benchmark: a course's exam set through the `qgen` command, each number against a floor from the same run.

    .venv/bin/python bench/bench_course.py [options]

It measures what users get: `qgen generate` run as a subprocess (`-q`, a fresh output folder each
run), never qgen's Python functions. These machines are noisy, so every measurement is repeated
`--rounds` times, the rounds interleave all measurements (a slow minute slows the qgen runs and
their floors alike), and medians are printed. Sections:

1. course: `qgen generate BANK --versions V` (exam + key PDFs), wall time, against THE FLOOR: one
   `pdflatex -interaction=batchmode -no-shell-escape` pass over one document holding all V exam
   papers and one over all V key papers, the two run in parallel (2 cores), wall time of the pair.
   The floor documents are the preamble of the first `exam-*.tex` (`key-*.tex`) of qgen's output,
   then every paper's body between \\begin{document} and \\end{document}. Prints the walls (the
   floor's per document too), their ratio (target ≤ 1.2), and the CPU time (user + sys of the
   process and every descendant it waited for, from os.wait4) of qgen and of the floor pair.
2. roster: `--roster R.csv` with S students (a made-up roster: header id,name,section,room, ids
   100001…, names with accented Latin letters, sections A–D) for the same V versions: wall time and
   its ratio to section 1's (target ≤ 2); then `--roster --combined`: wall time, the size of
   exams-all.pdf and peak memory, and the size ratio of exams-all.pdf to one LaTeX run's output
   for the same pages (target ≤ 1.5): one pdflatex pass over one document of the version exam
   bodies in roster order (roster-versions.csv, exam-<v>.tex). That pass takes about a minute for
   600 students: --no-size-reference skips it.
   Memory: "qgen" is the peak RSS (VmHWM) of the qgen process itself, "largest child" the largest
   peak RSS of any process below it (solving workers, LaTeX), both read from /proc every 50 ms
   while it runs; "tree" is os.wait4's ru_maxrss, Linux's exact maximum over qgen and every
   descendant it waited for (a check on the two polled numbers, which can miss a 50 ms spike).
3. start-up: the median wall of --startup-runs runs each of `qgen --help`, `qgen list`, `qgen solve
   mlp-backprop --seed 1` and bash completion, against `python -c pass` (bench_startup.py);
   targets: --help, list and completion ≤ 0.3 s.
4. linear cost: `generate --versions n` for n in --sizes, and `--roster` of s students (V versions)
   for s in --students: wall, seconds per version (student), the least-squares line a + b·n and the
   worst deviation from it relative to the measured time; peak memory of the largest of each.
   Runs of the same command as sections 1–2 are shared, not repeated.

Options:
  --bank PATH             the bank (default banks/midterm.yaml)
  --versions V            versions of sections 1 and 2 (default 50)
  --students LIST         roster sizes of section 4, comma-separated (default 60,600); section 2 uses the largest
  --sizes LIST            numbers of versions of section 4 (default 10,100,500)
  --rounds N              rounds of every measurement (default 3); medians are printed
  --startup-runs N        runs of each start-up command (default 5)
  --jobs N                passed to `qgen generate --jobs` (default: qgen's own, all cores)
  --qgen PATH             the qgen command (default .venv/bin/qgen, else the one on PATH)
  --[no-]size-reference   build section 2's one-run reference document (default on)
  --only LIST             sections to run: course, roster, startup, linear (default all)
  --cold                  run qgen with QGEN_NO_CACHE=1: no format cache (default: the user cache, warm
                          after the first run, as an instructor's second run finds it)
  --quick                 --sizes 10,50 --students 60 --no-size-reference --rounds 1 (explicit options win)
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_startup import find_qgen, print_startup, startup_rows  # a sibling script, found by the line above

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("course", "roster", "startup", "linear")
QUICK = {"sizes": "10,50", "students": "60", "size_reference": False, "rounds": 1}
DEFAULTS = {"sizes": "10,100,500", "students": "60,600", "size_reference": True, "rounds": 3}
MB = 1024  # ru_maxrss and VmHWM are in KiB


# -- running and measuring processes -------------------------------------------------------
@dataclass
class Run:
    """One measured process: wall seconds, CPU seconds of its tree, peak RSS in KiB (see the docstring)."""

    wall: float
    cpu: float
    tree_kb: int
    own_kb: int = 0
    child_kb: int = 0
    pages: int = 0  # of the PDFs a LaTeX floor wrote (from pdflatex's log)
    parts: tuple[float, ...] = ()  # a LaTeX floor's wall time per document


def _hwm_kb(pid: int) -> int:
    """A process's peak RSS so far (VmHWM), 0 once it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    """The live children of a process (every thread's), from /proc."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found


class _Watch(threading.Thread):
    """Polls a process's own peak RSS and its descendants' largest, every 50 ms until told to stop:
    os.wait4 gives only the maximum over the whole tree, not which process it was."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.own_kb, self.child_kb = pid, 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.own_kb = max(self.own_kb, _hwm_kb(self.pid))
            todo = _children(self.pid)
            while todo:
                pid = todo.pop()
                self.child_kb = max(self.child_kb, _hwm_kb(pid))
                todo += _children(pid)


def start(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a process whose output goes to a temporary file (shown if it fails)."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 (open until `finish` reads it)
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    proc.log = log  # type: ignore[attr-defined]
    return proc


def reap(procs: list[subprocess.Popen], started: float) -> dict[int, tuple[float, int, object]]:
    """Wait for the processes in the order they end (os.wait4(-1)), so each one's wall time is its own:
    pid -> (seconds since `started`, wait status, rusage)."""
    pids, done = {p.pid for p in procs}, {}
    while len(done) < len(pids):
        pid, status, usage = os.wait4(-1, 0)
        if pid in pids:
            done[pid] = (time.perf_counter() - started, status, usage)
    return done


def finish(proc: subprocess.Popen, started: float, watch: _Watch | None = None,
           waited: tuple[float, int, object] | None = None) -> Run:
    """Wait for a process with os.wait4 (for its tree's CPU time and peak RSS), unless `reap` did (`waited`);
    a failure stops the benchmark."""
    if waited is None:
        _, status, usage = os.wait4(proc.pid, 0)
        waited = (time.perf_counter() - started, status, usage)
    seconds, status, usage = waited
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    if watch is not None:
        watch.done.set()
        watch.join()
    proc.log.seek(0)  # type: ignore[attr-defined]
    output = proc.log.read().decode("utf-8", "replace")  # type: ignore[attr-defined]
    proc.log.close()  # type: ignore[attr-defined]
    if proc.returncode:
        raise SystemExit(f"{' '.join(map(str, proc.args))} failed ({proc.returncode}):\n{output[-2000:]}")
    run = Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)  # type: ignore[attr-defined]
    if watch is not None:
        run.own_kb, run.child_kb = watch.own_kb, watch.child_kb
    return run


def measure(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run one command to its end, watching its memory."""
    started = time.perf_counter()
    proc = start(argv, cwd, env)
    watch = _Watch(proc.pid)
    watch.start()
    return finish(proc, started, watch)


# -- LaTeX floors --------------------------------------------------------------------------
def _body(tex: str) -> str:
    """A paper's body: what lies between \\begin{document} and the last \\end{document}."""
    return tex.partition("\\begin{document}")[2].rpartition("\\end{document}")[0]


def one_document(papers: list[Path], dest: Path) -> Path:
    """One LaTeX document of the papers: the preamble of the first, then every paper's body."""
    if not papers:
        raise SystemExit(f"no papers to join into {dest.name}: did qgen write its .tex files?")
    texts = {p: p.read_text(encoding="utf-8") for p in set(papers)}
    head = texts[papers[0]].partition("\\begin{document}")[0]
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("".join([head, "\\begin{document}", *(_body(texts[p]) for p in papers), "\\end{document}\n"]),
                    encoding="utf-8")
    return dest


def _pdflatex(tex: Path, work: Path) -> subprocess.Popen:
    """Start one pdflatex pass over `tex` in a fresh folder `work` (no .aux from an earlier pass)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copy(tex, work / tex.name)
    return start(["pdflatex", "-interaction=batchmode", "-no-shell-escape", tex.name], cwd=work,
                 env=dict(os.environ, openout_any="p"))


def _pages(log: Path) -> int:
    """The pages pdflatex says it wrote (its log's `Output written on … (N pages`), 0 if none."""
    found = re.search(r"Output written on .*?\((\d+) pages?", log.read_text(encoding="latin-1"), re.S)
    return int(found.group(1)) if found else 0


def latex_floor(docs: list[Path], work: Path) -> Run:
    """One pdflatex pass over each document, all at once: wall of the lot, CPU and pages summed, largest peak RSS."""
    started = time.perf_counter()
    procs = [_pdflatex(doc, work / doc.stem) for doc in docs]
    waited = reap(procs, started)
    runs = [finish(p, started, waited=waited[p.pid]) for p in procs]
    pages = [_pages(work / doc.stem / f"{doc.stem}.log") for doc in docs]
    for doc, n in zip(docs, pages):
        if not n or not (work / doc.stem / f"{doc.stem}.pdf").exists():
            raise SystemExit(f"the floor's pdflatex wrote no PDF for {doc.name}: see {work / doc.stem}")
    return Run(max(r.wall for r in runs), sum(r.cpu for r in runs), max(r.tree_kb for r in runs), pages=sum(pages),
               parts=tuple(r.wall for r in runs))


# -- the made-up roster --------------------------------------------------------------------
FIRST = ("Ada", "José", "Zoë", "Chloé", "Björn", "Łukasz", "Søren", "Anaïs", "Iñaki", "François", "Mårten", "Antonín",
         "Grace", "Kwame", "Mei", "Ravi", "Amara", "Noah", "Léa", "Jürgen", "Ana", "Tomás", "Ewa", "Hélène", "Yusuf",
         "Sofía", "Oğuz", "Niamh", "Ingrid", "Paulo", "Zsófia", "Matías")
LAST = ("Lovelace", "García", "Müller", "Núñez", "O'Brien", "Kowalski", "Håkansson", "Nkrumah", "Dubois", "Smith-Jones",
        "Ibáñez", "Šimůnek", "Chen", "Patel", "Okafor", "Larsen", "Gonçalves", "Çelik", "Novák", "Lefèvre",
        "Jørgensen", "Wiśniewska", "Rossi", "Martínez", "Brontë", "Ó Ceallaigh", "Tanaka", "Żukowski", "Ferreira",
        "Eriksson", "Boyle", "Mendoza")
ROOMS = {"A": "Hall 1", "B": "Hall 2", "C": "B-204", "D": "Lab 3"}


def write_roster(path: Path, students: int) -> Path:
    """A roster CSV of `students` made-up students (id,name,section,room), the same for the same size."""
    rng = random.Random(students)
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "name", "section", "room"])
        for i in range(students):
            section = "ABCD"[rng.randrange(4)]
            out.writerow([100001 + i, f"{rng.choice(FIRST)} {rng.choice(LAST)}", section, ROOMS[section]])
    return path


# -- the benchmark -------------------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """One `qgen generate` command of the plan: how many versions, students (0: no roster), --combined."""

    versions: int
    students: int = 0
    combined: bool = False


class Bench:
    """The measurements of one benchmark run, in a temporary folder; `runs` collects every round's."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp, self.qgen = args, tmp, find_qgen(args.qgen)
        self.runs: dict[Job | str, list[Run]] = {}
        self.floor_docs: list[Path] = []
        self.reference: Path | None = None
        self.combined_kb: list[int] = []
        self.count = 0

    def generate(self, job: Job) -> None:
        """Run one `qgen generate` in a fresh folder; keep what a later floor needs, then delete its output."""
        self.count += 1
        out = self.tmp / f"run-{self.count}" / "out"
        argv = [str(self.qgen), "generate", self.args.bank, "--versions", str(job.versions), "--out", str(out),
                "--force", "-q"]
        if job.students:
            argv += ["--roster", str(write_roster(self.tmp / f"roster-{job.students}.csv", job.students))]
        if job.combined:
            argv += ["--combined"]
        if self.args.jobs:
            argv += ["--jobs", str(self.args.jobs)]
        self.runs.setdefault(job, []).append(measure(argv))
        if not job.students and job.versions == self.args.versions and not self.floor_docs:
            self.floor_docs = [one_document(sorted(out.glob(f"{kind}-*.tex")), self.tmp / "floor" / f"all-{kind}s.tex")
                               for kind in ("exam", "key")]
        if job.combined:
            self.combined_kb.append((out / "exams-all.pdf").stat().st_size // 1024)
            if self.args.size_reference and self.reference is None:
                self.reference = self.size_reference(out)
        shutil.rmtree(out.parent)

    def size_reference(self, out: Path) -> Path:
        """One pdflatex pass over the version exam bodies in roster order: what one LaTeX run makes of the pages."""
        with (out / "roster-versions.csv").open(encoding="utf-8", newline="") as f:
            versions = [row["version"] for row in csv.DictReader(f)]
        doc = one_document([out / f"exam-{v}.tex" for v in versions], self.tmp / "reference" / "roster-exams.tex")
        run = latex_floor([doc], self.tmp / "reference-run")
        pdf = self.tmp / "reference-run" / doc.stem / f"{doc.stem}.pdf"
        self.runs["reference"] = [run]
        return pdf

    def floor(self) -> None:
        """The floor pair: all exams and all keys, one pdflatex pass each, in parallel."""
        if not self.floor_docs:
            raise SystemExit("the floor needs a plain --versions run first")
        self.runs.setdefault("floor", []).append(latex_floor(self.floor_docs, self.tmp / "floor-run"))

    def plan(self) -> list[Callable[[], None]]:
        """One round: every measurement once, in the order the sections are printed."""
        a, steps, seen = self.args, [], set()

        def add(job: Job) -> None:
            if job not in seen:
                seen.add(job)
                steps.append(lambda job=job: self.generate(job))

        roster = max(a.student_list)
        if "course" in a.sections or "roster" in a.sections:
            add(Job(a.versions))
        if "course" in a.sections:
            steps.append(self.floor)
        if "roster" in a.sections:
            add(Job(a.versions, roster))
            add(Job(a.versions, roster, combined=True))
        if "linear" in a.sections:
            for n in a.size_list:
                add(Job(n))
            for s in a.student_list:
                add(Job(a.versions, s))
        return steps

    def run_rounds(self) -> None:
        """Every round runs the whole plan once: the rounds interleave the measurements."""
        steps = self.plan()
        for r in range(self.args.rounds if steps else 0):
            started = time.perf_counter()
            for step in steps:
                step()
            print(f"  (round {r + 1} of {self.args.rounds}: {time.perf_counter() - started:.0f} s)", file=sys.stderr)

    def median(self, key: Job | str, field: str = "wall") -> float:
        return statistics.median(getattr(r, field) for r in self.runs[key])

    def peak(self, key: Job | str) -> str:
        """The peak memory of a measurement over its rounds: qgen, its largest child, the whole tree."""
        runs = self.runs[key]
        own, child, tree = (max(getattr(r, f) for r in runs) // MB for f in ("own_kb", "child_kb", "tree_kb"))
        return f"peak RSS: qgen {own} MB, largest child {child} MB, tree (wait4) {tree} MB"


def _verdict(value: float, target: float) -> str:
    return f"target ≤ {target:g}: {'ok' if value <= target else 'OVER'}"


def print_course(b: Bench) -> None:
    """Section 1: qgen against the floor pair, wall and CPU."""
    job, v = Job(b.args.versions), b.args.versions
    qgen, floor = b.median(job), b.median("floor")
    print(f"1. course: qgen generate --versions {v} (exam + key PDFs) vs floor: one pdflatex pass over all {v} "
          f"exams and one over all {v} keys, in parallel")
    pages = b.runs["floor"][0].pages
    exams, keys = (statistics.median(r.parts[i] for r in b.runs["floor"]) for i in (0, 1))
    print(f"   wall: qgen {qgen:.2f} s, floor {floor:.2f} s (exams {exams:.2f} s, keys {keys:.2f} s; {pages} pages), "
          f"ratio {qgen / floor:.2f} ({_verdict(qgen / floor, 1.2)})")
    cq, cf = b.median(job, "cpu"), b.median("floor", "cpu")
    print(f"   CPU (user+sys, process tree): qgen {cq:.2f} s, floor {cf:.2f} s, ratio {cq / cf:.2f}")


def print_roster(b: Bench) -> None:
    """Section 2: a roster's papers, then --combined's size and memory."""
    v, s = b.args.versions, max(b.args.student_list)
    plain, roster, combined = Job(v), Job(v, s), Job(v, s, combined=True)
    t, base = b.median(roster), b.median(plain)
    print(f"2. roster: {s} students, {v} versions")
    print(f"   --roster: {t:.2f} s, ratio to --versions {v} alone {t / base:.2f} ({_verdict(t / base, 2)})")
    size = statistics.median(b.combined_kb)
    print(f"   --roster --combined: {b.median(combined):.2f} s, exams-all.pdf {size / MB:.1f} MB; {b.peak(combined)}")
    if b.reference is None:
        print("   size reference: skipped (--no-size-reference)")
        return
    ref = b.reference.stat().st_size / 1024
    print(f"   one LaTeX run over the same {s} papers ({b.runs['reference'][0].pages} pages): {ref / MB:.1f} MB in "
          f"{b.median('reference'):.0f} s; "
          f"size ratio {size / ref:.2f} ({_verdict(size / ref, 1.5)})")


def fit(points: list[tuple[int, float]]) -> tuple[float, float, float]:
    """Least-squares line t = a + b·n through the points, and the worst |t - line| / t."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in points) / spread if spread else 0.0
    a = my - slope * mx
    return a, slope, max(abs(y - (a + slope * x)) / y for x, y in points)


def print_series(b: Bench, title: str, unit: str, jobs: list[tuple[int, Job]]) -> None:
    """One series of section 4: wall and time per unit at each size, the line, the peak memory of the largest."""
    points = [(n, b.median(job)) for n, job in jobs]
    print(f"   {title}: " + ", ".join(f"{n}: {t:.2f} s ({t / n:.3f} s/{unit})" for n, t in points))
    if len(points) > 1:
        a, slope, worst = fit(points)
        print(f"     line: {a:.2f} s + {slope:.4f} s/{unit} · n; worst deviation {100 * worst:.1f}%"
              + (" (two sizes: exact by construction)" if len(points) == 2 else ""))
    else:
        print("     one size: no line")
    n, job = max(jobs, key=lambda p: p[0])
    print(f"     at {n}: {b.peak(job)}")


def print_linear(b: Bench) -> None:
    """Section 4: cost against the number of versions and of students."""
    print("4. linear cost")
    print_series(b, "versions", "version", [(n, Job(n)) for n in b.args.size_list])
    print_series(b, f"roster ({b.args.versions} versions), students", "student",
                 [(s, Job(b.args.versions, s)) for s in b.args.student_list])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options (see the module docstring); --quick changes only the defaults."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--bank", default=str(ROOT / "banks" / "midterm.yaml"))
    ap.add_argument("--versions", type=int, default=50)
    ap.add_argument("--students", default=None)
    ap.add_argument("--sizes", default=None)
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--startup-runs", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--qgen", default=None)
    ap.add_argument("--size-reference", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--only", default=",".join(SECTIONS))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cold", action="store_true")
    args = ap.parse_args(argv)
    for key, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.size_list = [int(n) for n in args.sizes.split(",")]
    args.student_list = [int(n) for n in args.students.split(",")]
    args.sections = [s.strip() for s in args.only.split(",")]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        ap.error(f"--only: unknown section(s) {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}")
    return args


def main() -> None:
    args = parse_args()
    qgen = find_qgen(args.qgen)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]  (lines in order with stderr's)
    if args.cold:
        os.environ["QGEN_NO_CACHE"] = "1"  # every qgen run dumps its own formats (no user cache)
    cache = "cold: QGEN_NO_CACHE=1, formats dumped in every run" if args.cold else \
        "warm: formats from the user cache after the first run"
    print(f"bank {Path(args.bank).name}, {args.rounds} round(s), medians; qgen: {qgen}; {os.cpu_count()} cores; "
          f"{cache}")
    with tempfile.TemporaryDirectory(prefix="bench-course-") as tmp:
        bench = Bench(args, Path(tmp))
        bench.run_rounds()
        if "course" in args.sections:
            print_course(bench)
        if "roster" in args.sections:
            print_roster(bench)
    if "startup" in args.sections:
        print_startup(startup_rows(qgen, args.startup_runs), args.startup_runs, "3. start-up")
    if "linear" in args.sections:
        print_linear(bench)


if __name__ == "__main__":
    main()
