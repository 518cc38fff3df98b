"""Error carried forward: is a wrong answer right given the student's own earlier answers? (pure)

A question's Trace is rebuilt from the manifest's parameters. For an entry judged wrong, the
student's values of the *earlier* quantities it depends on (earlier parts, and earlier entries
of the same vector or matrix: a forward pass per point, where ReLU(z) and ŷ follow from the
student's own z) are substituted for the true values (`Trace.evaluate`) and the entry is judged
again against what those values imply.

The zero guard: no credit is carried to an entry that a wrong zero made trivial, that is when
one of the substituted values is a wrong 0 (the true value is not 0 at the precision asked)
and the entry's implied value is 0 while its true value is not. A carried value that rounds to 0
for another reason (ŷ = 0.9933 for y = 1 leaves a loss of 0.0000) is legitimate work and earns
its credit.

>>> from qgen.solve import solve
>>> net = {"layers": [{"W": [[1]], "b": [0], "activation": "linear"}, {"W": [[2]], "b": [0], "activation": "linear"}],
...        "loss": "squared_error", "data": [{"x": [3], "y": [1]}], "learning_rate": 1}
>>> q = solve("mlp-backprop", params={"network": net})
>>> carried(q.trace, {"z1[1]": Fraction(4)}, ["z2[1]"])  # z2 = 2·z1: 8 given the student's z1 = 4
[Fraction(8, 1)]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction

from qgen import numeric
from qgen.numeric import Value
from qgen.trace import Trace


def carried(trace: Trace, earlier: Mapping[str, Value], keys: Sequence[str],
            own: Sequence[Value | None] = (), truth: Callable[[str], Value | None] | None = None
            ) -> list[Value | None] | None:
    """The values of `keys` implied by the student's values (None: nothing the student wrote bears on them).

    `earlier` are the student's values of earlier parts; `own` the student's values of `keys`
    themselves (None where blank or unreadable): entry i is recomputed from `earlier` and the
    student's own entries before it, so a vector whose later entries follow from its earlier ones
    is judged entry by entry. An entry nothing wrong bears on is None. `truth(key)`: the true value
    to compare the student's with (default: the Trace's own; a caller may pass a cached exact one).
    """
    truth = truth or trace.__getitem__
    out: list[Value | None] = [None] * len(keys)
    groups: dict[tuple, list[int]] = {}
    given = dict(earlier)
    for i, key in enumerate(keys):
        upstream = trace.ancestors([key])
        relevant = tuple((k, given[k]) for k in upstream if k != key and k in given)
        if relevant and any(truth(k) != v for k, v in relevant):
            groups.setdefault(relevant, []).append(i)
        if i < len(own) and own[i] is not None:
            given[key] = own[i]
    for relevant, indices in groups.items():
        env = trace.evaluate(dict(relevant), only=[keys[i] for i in indices])
        for i in indices:
            out[i] = env[keys[i]]
    return None if all(v is None for v in out) else out


def inputs(trace: Trace, earlier: Mapping[str, Value], key: str) -> dict[str, Value]:
    """The student's values that stand in for true ones upstream of `key`."""
    return {k: earlier[k] for k in trace.ancestors([key]) if k != key and k in earlier and trace[k] != earlier[k]}


def zeroed(implied: Value, truth: Value, substituted: Mapping[str, Value], trace: Trace, places: int = 4) -> bool:
    """Whether a wrong zero among the `substituted` values made this entry trivial (the ECF guard).

    >>> t = Trace(); from qgen.notation import Sym
    >>> _ = t.given("a", Sym("a"), Fraction(3))
    >>> zeroed(Fraction(0), Fraction(6), {"a": Fraction(0)}, t), zeroed(Fraction(0), Fraction(6), {"a": Fraction(1)}, t)
    (True, False)
    """
    if not is_zero(implied, places) or is_zero(truth, places):
        return False
    return any(is_zero(v, places) and not is_zero(trace[k], places) for k, v in substituted.items())


def is_zero(v: Value, places: int) -> bool:
    """Whether a value prints as 0 at `places` decimals (a non-finite value is not 0)."""
    try:
        if numeric.is_exact(v):
            return abs(Fraction(v)) < Fraction(1, 2 * 10**places)
        return bool(numeric.CTX.isfinite(v)) and abs(v) < 0.5 * 10 ** -places
    except (TypeError, ValueError, OverflowError):
        return False


MAX_BITS = 4096


def as_fraction(v: Value | None) -> Fraction | None:
    """A Trace value as an exact Fraction (a 50-digit real: its binary value); None if it is not a finite number.

    >>> as_fraction(numeric.CTX.mpf(0.5)), as_fraction(numeric.CTX.mpf(-3)), as_fraction(numeric.CTX.inf)
    (Fraction(1, 2), Fraction(-3, 1), None)
    >>> as_fraction(numeric.CTX.exp(-10**300)), as_fraction(numeric.CTX.exp(10**300))
    (Fraction(0, 1), None)
    """
    if v is None:
        return None
    if numeric.is_exact(v):
        return Fraction(v)
    sign, man, exp, bits = v._mpf_  # the binary value exactly: (-1)^sign · man · 2^exp
    if not man:
        return Fraction(0) if not exp else None  # mpmath codes inf and nan as a zero mantissa
    if exp + bits > MAX_BITS:
        return None  # beyond 2^4096 ≈ 10^1233: no answer is that large, so it matches nothing
    if exp + bits < -MAX_BITS:
        return Fraction(0)  # below 10^-1233 (σ(−10^300)): 0 at any precision asked
    value = Fraction(man << exp) if exp >= 0 else Fraction(man, 1 << -exp)
    return -value if sign else value
