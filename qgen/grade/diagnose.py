"""Mistake diagnosis: which known slip reproduces a student's wrong values? (pure)

Each slip is a deliberately wrong variant of the Trace (DESIGN.md "The Trace"): some quantities
get a wrong value (`Trace.evaluate` overrides: σ′ taken as 1, η left out) or a wrong formula
(the update's − made +, the ½ of the loss dropped, the mean made a sum, z without its bias,
σ′ evaluated at a), and everything downstream is recomputed from them. A wrong answer is
labelled with a slip when that variant's values of the part's keys match it; a slip whose
variant does not change the asked values cannot be told apart from a right answer and is
never reported. Shapes have their own check (`shape_slip`).

>>> from qgen.nn import dense
>>> from qgen.nn.network import Network
>>> t = dense.build(Network.from_mapping({"layers": [{"W": [[2]], "b": [0], "activation": "linear"}],
...                 "data": [{"x": [3], "y": [1]}], "learning_rate": 1}))
>>> t["W1[1,1]_new"], slips(t, ["W1[1,1]_new"], [Fraction(32)], Tolerance.for_places(4))
(Fraction(-28, 1), ['sign of the update flipped'])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from fractions import Fraction
from functools import lru_cache

from qgen import expr as ex
from qgen import numeric
from qgen.grade.compare import Tolerance
from qgen.grade.ecf import as_fraction
from qgen.numeric import Value
from qgen.trace import Quantity, Trace

# A wrong formula: the value of one quantity from the values (env) of the quantities before it.
Formula = Callable[[Mapping[str, Value]], Value]
# A variant: values that stand in for true ones, and formulas that stand in for true ones.
Variant = tuple[Mapping[str, Value], Mapping[str, Formula]]

_ACTIVATION_FACTOR = re.compile(r"^d((?:yhat|a\d+)\[\d+\])_d(z(\d+)\[\d+\])(@\d+)?$")  # da/dz, dŷ/dz
_BACKPROP_FACTOR = re.compile(r"^dz(\d+)\[\d+\]_da\d+\[\d+\](@\d+)?$")  # dz{l}[i]/da{l-1}[j] = W{l}[i,j]
_Z = re.compile(r"^z(\d+)\[\d+\]")
_WEIGHT = re.compile(r"^W(\d+)\[(\d+),(\d+)\](_new)?$")
_BIAS = re.compile(r"^b\d+\[\d+\](_new)?$")
_BIAS_GRAD = re.compile(r"^d[lJ]_db\d+\[\d+\](@\d+)?$")
HALF = Fraction(1, 2)
NO_STEP = "the old value copied (no step taken)"


def slips(trace: Trace, keys: Sequence[str], student: Sequence[Fraction | None], tolerance: Tolerance,
          olds: Sequence[Fraction | None] = ()) -> list[str]:
    """Names of the known slips whose variant of `trace` gives the student's values of `keys` (None: blank).

    A slip is named only when the student is wrong, every answered entry is within `tolerance`
    of the variant, and the variant differs from the true value of at least one of them. An
    updated parameter (its old value in `olds`) is compared by its step from the old value too.
    Most specific first: the slip whose variant changes fewest values of the Trace (ties: the
    order of `SLIPS`); empty when no slip fits.
    """
    base = dict(zip(keys, olds))

    def close(key: str, a: Fraction, b: Fraction) -> bool:
        old = base.get(key)
        return tolerance.close(a, b) and (old is None or tolerance.close(a - old, b - old))

    answered = [(k, s) for k, s in zip(keys, student) if s is not None and k in trace]
    truth = {k: as_fraction(trace[k]) for k, _ in answered}
    if not answered or None in truth.values() or all(close(k, s, truth[k]) for k, s in answered):
        return []
    found: dict[str, int] = {}
    for name, env, changed in _variants(trace):
        wrong = [(k, s, as_fraction(env[k])) for k, s in answered]
        if any(w is None for _, _, w in wrong):
            continue
        if (all(close(k, s, w) for k, s, w in wrong)
                and any(not close(k, w, truth[k]) for k, _, w in wrong)):
            found[name] = min(changed, found.get(name, changed))
    return sorted(found, key=found.__getitem__)  # stable: ties keep the order of SLIPS


def shape_slip(answer: Sequence[int], student: Sequence[int]) -> str | None:
    """"a transposed shape" when `student` is (cols, rows) of a non-square `answer`, else None.

    >>> shape_slip([2, 3], (3, 2)), shape_slip([2, 2], (2, 2)), shape_slip([2, 3], (3, 3))
    ('a transposed shape', None, None)
    """
    a, s = tuple(int(v) for v in answer), tuple(int(v) for v in student)
    return "a transposed shape" if len(a) == 2 and a[0] != a[1] and s == a[::-1] else None


def variants(trace: Trace, keys: Sequence[str]) -> list[tuple[str, dict[str, Value]]]:
    """The known slips that change at least one of `keys`, each with its whole Trace's values (to simulate one)."""
    return [(name, env) for name, env, _ in _variants(trace)
            if any(k in env and not _same(env[k], trace[k]) for k in keys)]


# -- evaluating a variant ---------------------------------------------------------------------
@lru_cache(maxsize=256)
def _variants(trace: Trace) -> list[tuple[str, dict[str, Value], int]]:
    """Every slip's variant of the whole Trace: name, values, how many values it changes (once per Trace)."""
    out = []
    for name, make in SLIPS:
        for variant in make(trace):
            if any(variant):
                env = rerun(trace, *variant)
                out.append((name, env, sum(1 for q in trace if not _same(env[q.key], q.value))))
    return out


def _same(a: Value, b: Value) -> bool:
    """Equal values (a NaN is never equal)."""
    return bool(a == b)


def rerun(trace: Trace, overrides: Mapping[str, Value], formulas: Mapping[str, Formula]) -> dict[str, Value]:
    """Every value of `trace`, with `overrides` standing in for values and `formulas` for formulas.

    >>> from qgen.nn import dense
    >>> from qgen.nn.network import Network
    >>> t = dense.build(Network.from_mapping({"layers": [{"W": [[2]], "b": [0], "activation": "linear"}],
    ...                 "data": [{"x": [3], "y": [1]}], "learning_rate": 1}))
    >>> rerun(t, {"lr": Fraction(1, 2)}, {"z1[1]": lambda env: env["x[1]"]})["W1[1,1]_new"]
    Fraction(-4, 1)
    """
    if not formulas:
        return trace.evaluate(overrides)
    env: dict[str, Value] = {}
    for q in trace:
        try:
            env[q.key] = (overrides[q.key] if q.key in overrides else formulas[q.key](env) if q.key in formulas
                          else q.value if q.expr is None else ex.evaluate(q.expr, env, trace.table))
        except (ZeroDivisionError, ValueError, OverflowError):
            env[q.key] = numeric.CTX.nan
    return env


def _formula(e: ex.Expr, trace: Trace) -> Formula:
    """A formula as a function of the values before it."""
    return lambda env: ex.evaluate(e, env, trace.table)


def _patched(q: Quantity, trace: Trace, patch: Callable[[Mapping[str, Value]], Mapping[str, Value]]) -> Formula:
    """q's own formula, evaluated with some of the values it reads replaced (`patch` of the env)."""
    return lambda env: ex.evaluate(q.expr, {**env, **patch(env)}, trace.table)


# -- the slips ----------------------------------------------------------------------------------
def _activation_factors(trace: Trace) -> dict[int, list[re.Match]]:
    """The da/dz factors of each layer (matches of their keys)."""
    out: dict[int, list[re.Match]] = {}
    for key in trace.keys("factor"):
        m = _ACTIVATION_FACTOR.match(key)
        if m and trace.quantity(key).expr is not None and not _softmax_output(trace, m.group(1) + (m.group(4) or "")):
            out.setdefault(int(m.group(3)), []).append(m)
    return out


def _by_layer(groups: dict[int, list[re.Match]]) -> Iterator[list[re.Match]]:
    """All the layers' factors together, then (with several layers) each layer's alone."""
    yield [m for ms in groups.values() for m in ms]
    if len(groups) > 1:
        yield from groups.values()


def _sigma_prime_left_out(trace: Trace) -> Iterator[Variant]:
    """σ′ left out: the activation factors da/dz taken as 1 (in every layer, or in one)."""
    for ms in _by_layer(_activation_factors(trace)):
        yield {m.group(0): Fraction(1) for m in ms}, {}


def _sigma_prime_at_a(trace: Trace) -> Iterator[Variant]:
    """σ′ taken at a instead of z: the factor's formula read with z := a and a := g(a)."""
    def wrong(m: re.Match) -> Formula:
        point = m.group(4) or ""
        a, z = m.group(1) + point, m.group(2) + point
        g_of_a = ex.substitute(trace.quantity(a).expr, lambda k: ex.Ref(a) if k == z else None)
        return _patched(trace.quantity(m.group(0)), trace,
                        lambda env: {z: env[a], a: ex.evaluate(g_of_a, env, trace.table)})

    for ms in _by_layer(_activation_factors(trace)):
        yield {}, {m.group(0): wrong(m) for m in ms}


def _update_sign(trace: Trace) -> Iterator[Variant]:
    """Sign of the update flipped: θ + η·g for θ − η·g."""
    yield {}, {q.key: _formula(ex.Sum((q.expr.left, q.expr.right)), trace)
               for q in trace if q.role == "update" and isinstance(q.expr, ex.Sub)}


def _no_step(trace: Trace) -> Iterator[Variant]:
    """No step taken: the updated parameter is the old one copied (θ′ = θ)."""
    yield {}, {q.key: _formula(q.expr.left, trace)
               for q in trace if q.role == "update" and isinstance(q.expr, ex.Sub)}


def _learning_rate(trace: Trace) -> Iterator[Variant]:
    """Learning rate left out: θ − g (η taken as 1)."""
    if "lr" in trace and trace.quantity("lr").expr is None:
        yield {"lr": Fraction(1)}, {}


def _half(dropped: bool) -> Callable[[Trace], Iterator[Variant]]:
    """½ dropped (a half-squared loss and its derivative doubled) or added (a squared loss's halved)."""
    def make(trace: Trace) -> Iterator[Variant]:
        squares = [q for q in trace if q.role == "loss" and q.expr is not None and _has(q.expr, _square)]
        if not squares or any(_has(q.expr, _half_const) for q in squares) != dropped:
            return
        factor = ex.Const(Fraction(2) if dropped else HALF)
        changed = squares + [q for q in trace if q.role == "factor" and q.key.startswith("dl_dyhat")]
        yield {}, {q.key: _formula(ex.Prod((factor, q.expr)), trace) for q in changed}
    return make


def _sum_for_mean(trace: Trace) -> Iterator[Variant]:
    """Sum instead of mean: the objective and its gradients over n points summed, not divided by n."""
    yield {}, {q.key: _formula(q.expr.num, trace) for q in trace if q.role in ("loss", "grad")
               and isinstance(q.expr, ex.Div) and isinstance(q.expr.num, ex.Sum) and isinstance(q.expr.den, ex.Const)}


def _bias_left_out(trace: Trace) -> Iterator[Variant]:
    """Bias left out of z: every z = W·a without + b (the activations, loss and gradients follow)."""
    zero = ex.Const(Fraction(0))
    yield {}, {q.key: _formula(ex.substitute(q.expr, lambda k: zero if _BIAS.match(k) else None), trace)
               for q in trace if q.role == "forward" and _Z.match(q.key) and any(_BIAS.match(k) for k in q.deps)}


def _bias_gradient_dropped(trace: Trace) -> Iterator[Variant]:
    """Bias gradient dropped: ∂/∂b taken as 0, so the bias is not updated."""
    yield {k: Fraction(0) for k in trace.keys("grad") if _BIAS_GRAD.match(k)}, {}


def _transposed(trace: Trace) -> Iterator[Variant]:
    """Wᵀ for W where W is square: z = Wᵀa forward, or δ backpropagated through W instead of Wᵀ."""
    sizes: dict[int, tuple[int, int]] = {}
    for key in trace.keys("given"):
        m = _WEIGHT.match(key)
        if m:
            l, i, j = (int(v) for v in m.group(1, 2, 3))
            rows, cols = sizes.get(l, (0, 0))
            sizes[l] = (max(rows, i), max(cols, j))
    square = {l for l, (rows, cols) in sizes.items() if rows == cols > 1}

    def swap(q: Quantity) -> Formula:
        def patch(env: Mapping[str, Value]) -> dict[str, Value]:
            out = {}
            for k in q.deps:
                m = _WEIGHT.match(k)
                if m and int(m.group(1)) in square:
                    out[k] = env[f"W{m.group(1)}[{m.group(3)},{m.group(2)}]{m.group(4) or ''}"]
            return out
        return _patched(q, trace, patch)

    def reads_square(q: Quantity) -> bool:
        return any((m := _WEIGHT.match(k)) and int(m.group(1)) in square for k in q.deps)

    forward = {q.key: swap(q) for q in trace if q.role == "forward" and _Z.match(q.key) and reads_square(q)}
    backward = {q.key: swap(q) for q in trace if q.role == "factor" and _BACKPROP_FACTOR.match(q.key) and reads_square(q)}
    yield {}, backward
    yield {}, forward


_KERNEL = re.compile(r"^K\[(\d+)(?:,(\d+))?\]$")  # a convolution kernel cell: K[b] (1-D) or K[a,b]
_CONV_OUT = re.compile(r"^Y\[\d+(?:,\d+)?\]$")


def _kernel_flipped(trace: Trace) -> Iterator[Variant]:
    """Kernel flipped (a true convolution for the cross-correlation): every Y reads K rotated by 180°."""
    cells = [m for k in trace.keys("given") if (m := _KERNEL.match(k))]
    if not cells:
        return
    two = cells[0].group(2) is not None
    rows = max(int(m.group(1)) for m in cells) if two else 1
    cols = max(int(m.group(2) if two else m.group(1)) for m in cells)

    def flipped(k: str) -> str:
        m = _KERNEL.match(k)
        if two:
            return f"K[{rows + 1 - int(m.group(1))},{cols + 1 - int(m.group(2))}]"
        return f"K[{cols + 1 - int(m.group(1))}]"

    def flip(q: Quantity) -> Formula:
        return _patched(q, trace, lambda env: {k: env[flipped(k)] for k in q.deps if _KERNEL.match(k)})

    yield {}, {q.key: flip(q) for q in trace if q.role == "forward" and _CONV_OUT.match(q.key)
               and any(_KERNEL.match(k) for k in q.deps)}


_OUTPUT_DELTA = re.compile(r"^dl_dz(\d+)\[(\d+)\](@\d+)?$")


def _softmax_output(trace: Trace, key: str) -> bool:
    """Whether `key` is a softmax output p_k = exp(z_k)/S (its Jacobian is no σ′: the σ′ slips leave it alone)."""
    e = trace.quantity(key).expr if key in trace else None
    return isinstance(e, ex.Div) and isinstance(e.num, ex.Fn) and e.num.name == "exp"


def _softmax_deltas(trace: Trace) -> list[tuple[str, str, str, str]]:
    """(δ_k, dℓ/dp_k, p_k, z_k) keys of a softmax output layer, per class (and data point)."""
    out = []
    for key in trace.keys("delta"):
        m = _OUTPUT_DELTA.match(key)
        point = (m.group(3) or "") if m else ""
        if m and _softmax_output(trace, f"yhat[{m.group(2)}]{point}") and f"dl_dyhat[{m.group(2)}]{point}" in trace:
            out.append((key, f"dl_dyhat[{m.group(2)}]{point}", f"yhat[{m.group(2)}]{point}",
                        f"z{m.group(1)}[{m.group(2)}]{point}"))
    return out


def _softmax_delta(local: Callable[[str, str], ex.Expr]) -> Callable[[Trace], Iterator[Variant]]:
    """δ_k of a softmax output taken as dℓ/dp_k · local(p_k, z_k), one class's own term for the sum over all."""
    def make(trace: Trace) -> Iterator[Variant]:
        found = _softmax_deltas(trace)
        if found:
            yield {}, {d: _formula(ex.Prod((ex.Ref(dl), local(p, z))), trace) for d, dl, p, z in found}
    return make


def _bias_correction_left_out(trace: Trace) -> Iterator[Variant]:
    """Adam's bias correction left out: m̂ = m and v̂ = v (the step then is about 1/√(1 − β₂) / (1 − β₁) off)."""
    yield {}, {q.key: _formula(q.expr.num, trace) for q in trace
               if q.sym.name in ("mhat", "vhat") and isinstance(q.expr, ex.Div)}


def _decay_left_out(trace: Trace) -> Iterator[Variant]:
    """Weight decay left out: λ taken as 0 (no penalty, the data gradient alone)."""
    if "wd" in trace and trace.quantity("wd").expr is None:
        yield {"wd": Fraction(0)}, {}


def _biases_decayed(trace: Trace) -> Iterator[Variant]:
    """Biases decayed too (the statement excludes them): λ·b added to each bias's regularised gradient."""
    if "wd" not in trace:
        return
    yield {}, {q.key: _formula(ex.Sum((q.expr, ex.Prod((ex.Ref("wd"), ex.Ref(_bias_of(q.key)))))), trace)
               for q in trace if q.role == "grad" and q.key.startswith("dJreg_db") and isinstance(q.expr, ex.Ref)}


def _bias_of(key: str) -> str:
    """The bias (at its step) whose regularised gradient `key` is: dJreg_db1[1]_new -> b1[1]_new."""
    return key.removeprefix("dJreg_d").partition("@")[0]


def _momentum_averaged(trace: Trace) -> Iterator[Variant]:
    """Momentum as an average: v = μv + (1 − μ)g for v = μv + g."""
    yield {}, {q.key: _formula(ex.Sum((q.expr.terms[0], ex.Prod((ex.Sub(_ONE, ex.Ref("mu")), q.expr.terms[1])))),
                               trace)
               for q in trace if q.sym.name == "velocity" and isinstance(q.expr, ex.Sum) and len(q.expr.terms) == 2}


_ONE = ex.Const(Fraction(1))
SOFTMAX_DIAGONAL = "the other classes' terms forgotten (only the softmax Jacobian's diagonal p(1 − p))"
SOFTMAX_SIGMA = "σ′ per output (σ(z)(1 − σ(z)) instead of the softmax Jacobian)"


def _has(e: ex.Expr, test: Callable[[ex.Expr], bool]) -> bool:
    """Whether `e` or a sub-expression passes `test`."""
    return test(e) or any(_has(c, test) for c in ex.children(e))


def _square(e: ex.Expr) -> bool:
    return isinstance(e, ex.Pow) and e.n == 2


def _half_const(e: ex.Expr) -> bool:
    return isinstance(e, ex.Const) and e.value == HALF


# The slips, most specific first: (name, the variants of a Trace it can take).
SLIPS: tuple[tuple[str, Callable[[Trace], Iterator[Variant]]], ...] = (
    ("σ′ taken at a instead of z", _sigma_prime_at_a),
    ("Wᵀ for W", _transposed),
    ("kernel flipped (a true convolution instead of the cross-correlation)", _kernel_flipped),
    ("½ dropped", _half(dropped=True)),
    ("½ added", _half(dropped=False)),
    ("sum instead of mean", _sum_for_mean),
    ("bias left out of z", _bias_left_out),
    ("bias gradient dropped", _bias_gradient_dropped),
    (SOFTMAX_DIAGONAL, _softmax_delta(lambda p, z: ex.Prod((ex.Ref(p), ex.Sub(_ONE, ex.Ref(p)))))),
    (SOFTMAX_SIGMA, _softmax_delta(lambda p, z: ex.Fn("dsigmoid", (ex.Ref(z),)))),
    ("Adam's bias correction left out (m̂ = m, v̂ = v)", _bias_correction_left_out),
    ("momentum averaged (v = μv + (1 − μ)g)", _momentum_averaged),
    ("biases decayed too", _biases_decayed),
    ("weight decay left out", _decay_left_out),
    ("σ′ left out", _sigma_prime_left_out),
    ("sign of the update flipped", _update_sign),
    (NO_STEP, _no_step),
    ("learning rate left out", _learning_rate),
)
