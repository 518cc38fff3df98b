"""Constraints checked on a built question, for every family: distinct answers, significant answers,
distinct versions, distinct neighbours.

A family's own constraints look at its parameters while it samples; these look at what the
bank finally asks (the selected parts) and at the other versions of the exam.
"""

from __future__ import annotations

import json
from collections import Counter
from fractions import Fraction
from typing import Any, Iterable

from qgen import expr as ex
from qgen import numeric
from qgen.families.base import Part, Question
from qgen.families.rules import problem, significant
from qgen.trace import Trace

NUMERIC = ("number", "vector", "matrix")


def answer_clashes(q: Question) -> list[str]:
    """Pairs of numeric parts whose answers print the same by accident.

    Equalities the question's structure forces are not accidents and stay: a factor read off
    the statement (dz/dW = x), ReLU′'s 0 or 1, a ReLU output equal to its positive input, a
    dead unit's zero gradients, ŷ − y = ŷ for y = 0. They are told apart from accidents by
    nudging every given number and recomputing the Trace: a forced equality survives.
    """
    seen: dict[tuple[str, ...], Part] = {}
    nudged: dict[str, Any] = {}
    out: list[str] = []
    for part in q.parts:
        if part.kind not in NUMERIC or not part.keys or all(_read_off(q.trace, k) for k in part.keys):
            continue
        shown = tuple(numeric.decimal_str(q.trace[k], part.places) for k in part.keys)
        other = seen.setdefault(shown, part)
        if other is part:
            continue
        nudged = nudged or q.trace.evaluate(_nudges(q.trace))
        if [_close(nudged[a], nudged[b]) for a, b in zip(other.keys, part.keys)] != [True] * len(part.keys):
            out.append(problem("distinct_answers", f"parts {other.id} and {part.id} have the same answer "
                                                   f"{', '.join(shown)}"))
    return out


def _read_off(t: Trace, key: str) -> bool:
    """A value the student copies from the statement (a given or a constant) or ReLU′ (0 or 1)."""
    e = t.quantity(key).expr
    while isinstance(e, ex.Ref):
        e = t.quantity(e.key).expr
    return e is None or isinstance(e, ex.Const) or (isinstance(e, ex.Fn) and e.name in ("step", "leaky_step"))


def _nudges(t: Trace) -> dict[str, Fraction]:
    """Every non-zero given number moved by its own small fraction (1/1000 to 1/100 of itself)."""
    out = {}
    for n, key in enumerate(t.keys("given")):
        v = t[key]
        if numeric.is_exact(v) and v != 0:
            out[key] = v * (1 + Fraction(1 + (7 * n) % 10, 1000))
    return out


def _close(a: Any, b: Any) -> bool:
    try:
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    except (TypeError, ValueError):
        return False


def fingerprint(family: Any, params: dict[str, Any]) -> str:
    """What two versions of a question must not share (the family says, else all its parameters)."""
    chosen = family.fingerprint(params) if hasattr(family, "fingerprint") else params
    return json.dumps(chosen, sort_keys=True, default=str)


def repeated(fp: str, taken: Iterable[str]) -> list[str]:
    """The distinct_versions problem, if another version already has these numbers."""
    taken = taken if isinstance(taken, (set, frozenset)) else set(taken)  # a set is asked as it is: no copy per draw
    return [problem("distinct_versions", "another version has the same numbers")] if fp in taken else []


def tiny_answers(q: Question) -> list[str]:
    """The significant_answers problems: asked numbers that are not 0 but show under two significant digits.

    A value that is exactly 0 (a dead unit, a gradient it stops) is left to the structure-aware
    constraints (nonzero_derivatives, varied_nodes); 0.0004 at 4 decimals is not a question.
    """
    out: list[str] = []
    for part in q.parts:
        if part.kind not in NUMERIC:
            continue
        for k in part.keys:
            v = numeric.to_float(q.trace[k])
            if v != 0 and not significant(v, part.places):
                out.append(problem("significant_answers", f"part {part.id}: {k} = {v:.2g} has under two "
                                                          f"significant digits at {part.places} decimals"))
                break
    return out


def shown_answers(q: Question) -> tuple[str, ...]:
    """The question's non-integer numeric answers as printed (at each part's places), for neighbour checks."""
    out = []
    for part in q.parts:
        if part.kind not in NUMERIC:
            continue
        for k in part.keys:
            shown = numeric.decimal_str(q.trace[k], part.places)
            if shown.lstrip("-").replace("0", "").strip(".") and "." in shown.rstrip("0").rstrip("."):
                out.append(shown)
    return tuple(out)


def shared_fraction(a: Iterable[str], b: Iterable[str]) -> float:
    """The share of answers two versions have in common (counted with repeats, over the shorter list).

    >>> shared_fraction(["0.1192", "0.25", "0.5"], ["0.25", "0.1192", "0.7311"])
    0.6666666666666666
    """
    a, b = list(a), list(b)
    if not a or not b:
        return 0.0
    left = Counter(b)
    common = 0
    for x in a:
        if left[x]:
            left[x] -= 1
            common += 1
    return common / min(len(a), len(b))


def neighbour_overlap(answers: tuple[str, ...], previous: tuple[str, ...] | None) -> list[str]:
    """The distinct_neighbours problem, if the previous version shares more than a third of these answers."""
    if previous is None:
        return []
    share = shared_fraction(answers, previous)
    if share * 3 > 1 + 1e-9:
        return [problem("distinct_neighbours", "more than a third of the non-integer answers repeat the previous "
                                               "version's")]
    return []
