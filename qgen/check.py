"""`qgen check`: a bank's dry run — draw N versions without rendering, and say how sampling went (pure).

For each question: how many draws the family's sampler needed per version, which constraints
rejected draws and how often, how often the whole question was drawn again (two parts with
the same answer, numbers an earlier version already has), and the difficulty of the versions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from qgen import difficulty
from qgen.bank import Bank
from qgen.generate import Draws, Version, build_versions


@dataclass(frozen=True)
class DryRun:
    """The versions drawn, what sampling them took, and how their difficulty compares."""

    bank: Bank
    versions: list[Version]
    draws: Draws
    report: difficulty.Report


def dry_run(bank: Bank, count: int) -> DryRun:
    """Draw versions 1..count as `qgen generate` would (same seeds), without rendering."""
    draws = Draws()
    versions = build_versions(bank, [str(v) for v in range(1, count + 1)], draws)
    return DryRun(bank, versions, draws, difficulty.compare(difficulty.measure_versions(versions)))


def _rates(tally: Counter[str], skip: tuple[str, ...] = ("draws",)) -> str:
    total = tally["draws"] or 1
    rejected = [(name, n) for name, n in tally.most_common() if name not in skip]
    return ", ".join(f"{name} {100 * n / total:.0f}%" for name, n in rejected) or "none"


def summary_lines(run: DryRun) -> list[str]:
    """What `qgen check` prints: the bank, then one block per question, then the difficulty table."""
    bank, n = run.bank, len(run.versions)
    points = sum(q.points for q in run.versions[0].questions) if run.versions else 0
    mode = "no calculator" if not bank.rules.calculator else "calculator allowed"
    lines = [f"{bank.path}: valid — exam {bank.exam_id!r}, {len(bank.questions)} question{'s' if len(bank.questions) != 1 else ''}, {points:g} points, "
             f"notation {bank.notation.name}, {mode}",
             f"dry run of {n} versions (the seeds `qgen generate` uses):"]
    for spec in bank.questions:
        head = f"  Q{spec.index + 1} {spec.family}"
        if spec.params is not None:
            lines.append(f"{head}: pinned numbers (the same in every version; constraints not applied)")
            continue
        sampled = run.draws.sampled.get(spec.index, Counter())
        redrawn = run.draws.redrawn.get(spec.index, Counter())
        off = ", ".join(sorted(spec.rules.off)) or "none"
        calc = "" if spec.rules.calculator else ", no calculator"
        lines.append(f"{head}: {sampled['draws'] / max(n, 1):.1f} draws per version{calc}; constraints off: {off}")
        lines.append(f"      drawn once for all versions: {', '.join(spec.shared) or 'nothing'}")
        lines.append(f"      draws rejected by: {_rates(sampled)}")
        lines.append(f"      questions redrawn ({redrawn['draws'] - n} of {redrawn['draws']}): {_rates(redrawn)}")
    lines += ["  " + line for line in difficulty.report_lines(run.report, width=78)]
    return lines
