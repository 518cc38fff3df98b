"""Benchmark: start-up of the qgen commands that should answer at once, against `python -c pass`.

    .venv/bin/python bench/bench_startup.py [--runs 5] [--qgen PATH] [--importtime] [--top 10]

Runs `qgen --help`, `qgen list`, `qgen solve mlp-backprop --seed 1` and bash Tab completion of
`qgen ge` (`_QGEN_COMPLETE=bash_complete`) through the installed command, interleaved, `--runs`
times each, and prints each one's median wall time and its ratio to the floor: the median of
`python -c pass` with qgen's own interpreter, measured in the same rounds (a noisy machine slows
both alike). Targets (the start-up issue): `--help`, `list` and completion at most 0.3 s.

--importtime also prints, per command, what `python -X importtime` says: the total time spent in
imports and the `--top` modules by cumulative import time (what to make lazy next).
bench_course.py imports `startup_rows` from here for its start-up section.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 0.3  # --help, list and completion (the start-up issue)


@dataclass(frozen=True)
class Command:
    """One start-up measurement: qgen's arguments and the environment it needs."""

    label: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    target: float | None = None


COMMANDS = (
    Command("qgen --help", ("--help",), target=TARGET_S),
    Command("qgen list", ("list",), target=TARGET_S),
    Command("qgen solve mlp-backprop --seed 1", ("solve", "mlp-backprop", "--seed", "1")),
    Command("bash completion of 'qgen ge'", (), (("_QGEN_COMPLETE", "bash_complete"), ("COMP_WORDS", "qgen ge"),
                                                 ("COMP_CWORD", "1")), target=TARGET_S),
)


def find_qgen(given: str | None) -> Path:
    """The qgen command to measure: --qgen, else the repository's .venv, else the one on PATH."""
    if given:
        return Path(given)
    local = ROOT / ".venv" / "bin" / "qgen"
    found = local if local.exists() else shutil.which("qgen")
    if not found:
        raise SystemExit("no qgen command: run scripts/bootstrap.sh, or give --qgen PATH")
    return Path(found)


def interpreter(qgen: Path) -> str:
    """The Python that runs the qgen script (its #! line), so the floor starts the same interpreter."""
    first = qgen.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    return first[2:].strip() if first.startswith("#!") else sys.executable


def wall(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from start to exit of one run (its output discarded); a failure stops the benchmark."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return seconds


def startup_rows(qgen: Path, runs: int) -> list[tuple[str, float, float | None]]:
    """(label, median seconds, target) per command, the floor first; rounds interleave the commands."""
    python = interpreter(qgen)
    jobs = [("python -c pass (floor)", [python, "-c", "pass"], dict(os.environ), None)]
    for c in COMMANDS:
        jobs.append((c.label, [str(qgen), *c.args], dict(os.environ, **dict(c.env)), c.target))
    times: dict[str, list[float]] = {label: [] for label, *_ in jobs}
    for _ in range(runs):
        for label, argv, env, _target in jobs:
            times[label].append(wall(argv, env))
    return [(label, statistics.median(times[label]), target) for label, _, _, target in jobs]


def print_startup(rows: list[tuple[str, float, float | None]], runs: int, title: str = "start-up") -> None:
    """The start-up table: median wall, ratio to the floor, target."""
    floor = rows[0][1]
    print(f"{title}: median of {runs} runs each, interleaved; floor = python -c pass")
    print(f"  {'command':<36} {'wall':>8} {'/ floor':>8}  target")
    for label, seconds, target in rows:
        mark = "" if target is None else f"≤ {target:.1f} s: {'ok' if seconds <= target else 'OVER'}"
        print(f"  {label:<36} {seconds:>7.3f}s {seconds / floor:>8.1f}  {mark}")


def importtime_top(qgen: Path, command: Command, top: int) -> list[str]:
    """`python -X importtime` of one command: the total import time and the `top` modules by cumulative time."""
    env = dict(os.environ, **dict(command.env))
    done = subprocess.run([interpreter(qgen), "-X", "importtime", str(qgen), *command.args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3 or "self [us]" in line:
            continue
        rows.append((int(parts[1]), int(parts[0].split(":")[1]), parts[2].strip()))
    total = sum(own for _, own, _ in rows) / 1000
    out = [f"{command.label}: {len(rows)} modules imported, {total:.0f} ms in imports; top {top} by cumulative:"]
    out += [f"    {cum / 1000:7.1f} ms  {name}" for cum, _, name in sorted(rows, reverse=True)[:top]]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs of each command (median reported)")
    ap.add_argument("--qgen", default=None, help="the qgen command (default: .venv/bin/qgen, else PATH)")
    ap.add_argument("--importtime", action="store_true", help="also print python -X importtime's top modules")
    ap.add_argument("--top", type=int, default=10, help="modules shown per command with --importtime")
    args = ap.parse_args()
    qgen = find_qgen(args.qgen)
    print_startup(startup_rows(qgen, args.runs), args.runs)
    if args.importtime:
        for command in COMMANDS:
            print("\n".join(importtime_top(qgen, command, args.top)))


if __name__ == "__main__":
    main()
