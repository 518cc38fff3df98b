"""Error carried forward: is a wrong answer right given the student's own earlier answers? (pure)

A question's Trace is rebuilt from the manifest's parameters. For a part judged wrong, the
student's values of the *earlier* parts it depends on are substituted for the true values
(`Trace.evaluate`) and the part is judged again against what those values imply. No credit
is carried forward when the substituted values make the step trivial: when they turn a
non-zero answer into 0 (a wrong 0 earlier zeroes the whole chain after it).

>>> from qgen.solve import solve
>>> net = {"layers": [{"W": [[1]], "b": [0], "activation": "linear"}, {"W": [[2]], "b": [0], "activation": "linear"}],
...        "loss": "squared_error", "data": [{"x": [3], "y": [1]}], "learning_rate": 1}
>>> q = solve("mlp-backprop", params={"network": net})
>>> carried(q.trace, {"z1[1]": Fraction(4)}, ["z2[1]"])  # z2 = 2·z1: 8 given the student's z1 = 4
[Fraction(8, 1)]
"""

from __future__ import annotations

from fractions import Fraction  # noqa: F401  (the doctests use it)
from typing import Mapping, Sequence

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


def trivial(implied: Sequence[Value], truth: Sequence[Value]) -> bool:
    """Whether the carried values leave nothing to compute (the guard against gaming ECF).

    >>> trivial([Fraction(0)], [Fraction(3)]), trivial([Fraction(2)], [Fraction(3)])
    (True, False)
    """
    return any(_is_zero(v) and not _is_zero(t) for v, t in zip(implied, truth))


def _is_zero(v: Value) -> bool:
    try:
        return abs(float(v)) < 1e-12
    except (TypeError, ValueError):
        return False

