"""What makes a drawn instance a fair exam question: named constraints, each switchable in a bank.

A family's `problems` names what an instance breaks as `"<constraint>: <detail>"`; sampling
keeps drawing until nothing an enabled constraint forbids is left. A bank switches
constraints off per exam or per question (`constraints: {no_saturation: off}`) and picks
the no-calculator mode (`calculator: false`).

>>> rules = Rules(off=frozenset({"no_saturation"}))
>>> rules.keep(["no_saturation: |z| = 6", "relu_not_at_kink: z = 0"])
['relu_not_at_kink: z = 0']
>>> constraint_of("relu_not_at_kink: z = 0")
'relu_not_at_kink'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

from qgen.errors import BankError

# every constraint a family may check, with the sentence `qgen check` and error messages use
CONSTRAINTS: dict[str, str] = {
    "no_saturation": "σ′ and tanh′ at every sigmoid/tanh input are at least σ′(4) ≈ 0.018 (sigmoid |z| ≤ 4, tanh |z| ≤ 2.7)",
    "relu_not_at_kink": "no ReLU input exactly 0, where its derivative is ambiguous",
    "dead_relu": "ReLU units are off only where the question wants one (domain dead_units/dead_unit/dead_paths)",
    "threshold_margin": "the predicted probability is not within 0.05 of the 0.5 threshold",
    "nonzero_derivatives": "every asked derivative is non-zero at the precision asked",
    "loss_decreases": "the loss goes down after the update, visibly at the precision asked",
    "moderate_values": "numbers stay workable by hand (predictions near their targets, bounded values)",
    "well_posed": "no degenerate instance (repeated inputs or functions, ties, constant nodes)",
    "distinct_answers": "answers of different parts differ at the precision asked",
    "distinct_versions": "no two versions of the exam share the same numbers for a question",
    "distinct_neighbours": "consecutive versions of a question share at most a third of their non-integer answers",
    "significant_answers": "every asked number that is not exactly 0 has two significant digits at the precision asked",
    "target_not_reached": "the prediction is at least 0.1 from its target, so the backward pass carries real numbers",
    "varied_nodes": "a computation graph has at most one node of value 0 and mostly distinct node values",
    "varied_outputs": "a convolution's output has no all-0 row or column, at most a third 0s, mostly distinct values",
    "consistent_statement": "the rounded forward values a statement gives satisfy its relations as printed (y = s₁ + s₂)",
    "hand_arithmetic": "no-calculator mode: every intermediate is a short decimal or read from the printed table",
}

# checked for every family by the generator, on the built question
GENERIC = ("distinct_answers", "distinct_versions", "distinct_neighbours", "significant_answers")

# saturation is judged on the derivative: σ′ or tanh′ below σ′(4) ≈ 0.0177 is too flat to compute with
DERIVATIVE_FLOOR = 0.25 / math.cosh(2.0) ** 2  # σ′(z) = ¼·sech²(z/2)
# the input size at which each activation's derivative falls to the floor (tanh′ = sech²)
SATURATION_LIMITS = {"sigmoid": 4.0, "tanh": math.acosh(1 / math.sqrt(DERIVATIVE_FLOOR))}
MIN_MISS = 0.1  # target_not_reached: |ŷ − y| at least this


def saturated(activation: str, z: float) -> bool:
    """Is `activation`'s derivative at `z` below the floor (σ′(4))? Only sigmoid and tanh saturate.

    >>> saturated("sigmoid", 4.0), saturated("tanh", 4.0), saturated("tanh", 2.5), saturated("relu", 9.0)
    (False, True, False, False)
    """
    limit = SATURATION_LIMITS.get(activation)
    return limit is not None and abs(z) > limit + 1e-12


def significant(value: float, places: int) -> bool:
    """Does a non-zero `value` show at least two significant digits at `places` decimals?

    >>> significant(0.0287, 4), significant(0.0007, 4), significant(0.001, 4)
    (True, False, True)
    """
    return abs(value) >= 10.0 ** -(places - 1) - 1e-15


def problem(constraint: str, detail: str) -> str:
    """A broken constraint as families report it: `"<constraint>: <detail>"`.

    The name is one of qgen's (CONSTRAINTS) or a course family's own, listed in its `constraints`.

    >>> problem("tanh_not_saturated", "z = 3")
    'tanh_not_saturated: z = 3'
    """
    if not _NAME.fullmatch(constraint):
        raise ValueError(f"constraint name {constraint!r}: use lower-case letters, digits and _ (e.g. no_saturation)")
    return f"{constraint}: {detail}"


_NAME = __import__("re").compile(r"[a-z][a-z0-9_]*")


def constraint_of(problem_text: str) -> str:
    """The constraint a problem string names."""
    return problem_text.partition(":")[0]


@dataclass(frozen=True)
class Rules:
    """The constraints switched off, and whether students have a calculator."""

    off: frozenset[str] = frozenset()
    calculator: bool = True

    def on(self, constraint: str) -> bool:
        """Is `constraint` enforced? (hand_arithmetic only without a calculator)"""
        if constraint == "hand_arithmetic":
            return not self.calculator and constraint not in self.off
        return constraint not in self.off

    def keep(self, problems: Iterable[str]) -> list[str]:
        """The problems that enabled constraints forbid."""
        return [p for p in problems if self.on(constraint_of(p))]


DEFAULT = Rules()


def switches(spec: object, allowed: Iterable[str], where: str) -> frozenset[str]:
    """The constraints a bank's `constraints:` mapping switches off (values true/false, on/off).

    >>> sorted(switches({"no_saturation": False, "dead_relu": True}, CONSTRAINTS, "q"))
    ['no_saturation']
    """
    if spec is None:
        return frozenset()
    if not isinstance(spec, Mapping):
        raise BankError(f"{where}: expected a mapping of constraint: on/off, e.g. {{no_saturation: off}}")
    allowed = list(allowed)
    off = set()
    for name, value in spec.items():
        if name not in allowed:
            raise BankError(f"{where}.{name}: unknown constraint; this question checks: {', '.join(allowed)}")
        if not isinstance(value, bool):
            raise BankError(f"{where}.{name}: expected on or off (true/false), got {value!r}")
        if not value:
            off.add(name)
    return frozenset(off)
