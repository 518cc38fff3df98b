"""Error carried forward: is a wrong answer right given the student's own earlier answers? (pure)

A question's Trace is rebuilt from the manifest's parameters. For a part judged wrong, the
student's values of the *earlier* parts it depends on are substituted for the true values
(`Trace.evaluate`) and the part is judged again against what those values imply. No credit
is carried forward when the substituted values make the step trivial: when they turn a
non-zero answer into 0 at the precision asked (a wrong 0 earlier zeroes the whole chain after it,
or a wrong ŷ = 0.9933 for y = 1 leaves a loss that rounds to 0).

>>> from qgen.solve import solve
>>> net = {"layers": [{"W": [[1]], "b": [0], "activation": "linear"}, {"W": [[2]], "b": [0], "activation": "linear"}],
...        "loss": "squared_error", "data": [{"x": [3], "y": [1]}], "learning_rate": 1}
>>> q = solve("mlp-backprop", params={"network": net})
>>> carried(q.trace, {"z1[1]": Fraction(4)}, ["z2[1]"])  # z2 = 2·z1: 8 given the student's z1 = 4
[Fraction(8, 1)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction  # noqa: F401  (the doctests use it)

from qgen.numeric import Value
from qgen.trace import Trace


def carried(trace: Trace, earlier: Mapping[str, Value], keys: Sequence[str]) -> list[Value] | None:
    """The values of `keys` implied by the student's `earlier` values (None: nothing earlier bears on them)."""
    upstream = set(trace.ancestors(keys)) - set(keys)
    relevant = {k: v for k, v in earlier.items() if k in upstream}
    if not relevant or all(trace[k] == v for k, v in relevant.items()):
        return None
    env = trace.evaluate(relevant, only=keys)
    return [env[k] for k in keys]


def trivial(implied: Sequence[Value], truth: Sequence[Value], places: int = 4) -> bool:
    """Whether the carried values leave nothing to compute (the guard against gaming ECF).

    >>> trivial([Fraction(0)], [Fraction(3)]), trivial([Fraction(2)], [Fraction(3)])
    (True, False)
    >>> trivial([Fraction(45, 10**6)], [Fraction(98, 100)])  # rounds to 0.0000
    True
    """
    return any(_is_zero(v, places) and not _is_zero(t, places) for v, t in zip(implied, truth))


def _is_zero(v: Value, places: int) -> bool:
    try:
        return abs(float(v)) < 0.5 * 10 ** -places
    except (TypeError, ValueError):
        return False

