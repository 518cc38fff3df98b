"""Constraints checked on a built question, for every family: distinct answers, distinct versions.

A family's own constraints look at its parameters while it samples; these look at what the
bank finally asks (the selected parts) and at the other versions of the exam.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any, Iterable

from qgen import expr as ex
from qgen import numeric
from qgen.families.base import Part, Question
from qgen.families.rules import problem
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
