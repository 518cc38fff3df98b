"""A softmax output layer under the categorical cross-entropy, as Trace quantities (used by qgen.nn.dense).

Keys (`@p` marks data point p when there are several, as in qgen.nn.dense), for the last layer L:
  forward  sumexp            S = Σ_j exp(z{L}[j]), the shared denominator
           yhat[k]           p_k = exp(z{L}[k]) / S
  loss     loss              −Σ_k y_k ln p_k
  factor   dl_dyhat[k]       −y_k / p_k
           dyhat[k]_dz{L}[j] p_k(δ_kj − p_j): p_k(1 − p_k) on the diagonal, −p_k·p_j off it
  delta    dl_dz{L}[k]       "jacobian": Σ_j dl_dyhat[j]·dyhat[j]_dz{L}[k];  "simplified": p_k − y_k

Both delta modes give the same value; they differ in what a worked line and error-carried-forward
go through. In "simplified" mode dl_dyhat and the Jacobian are still in the Trace, off the chain.

>>> from qgen.nn.network import Network
>>> from qgen.nn import dense
>>> net = Network.from_mapping({"layers": [{"W": [[0], [0]], "b": [0, 0], "activation": "softmax"}],
...     "loss": "cross_entropy", "data": [{"x": [1], "y": [0, 1]}], "learning_rate": 1})
>>> t = dense.build(net)
>>> float(t["yhat[1]"]), float(t["dl_dz1[2]"]), float(t["dyhat[1]_dz1[2]"])
(0.5, -0.5, -0.25)
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from qgen.expr import Const, Div, Expr, Fn, Neg, Prod, Ref, Sub, Sum
from qgen.nn import functions as fn
from qgen.notation import Sym
from qgen.trace import Trace

DELTA_MODES = ("jacobian", "simplified")
ONE = Const(Fraction(1))


def sumexp_key(point: int | None = None) -> str:
    """The key of the softmax denominator S = Σ_j exp(z_j) (of data point `point`)."""
    return "sumexp" if point is None else f"sumexp@{point}"


def probability(z: str, sumexp: str) -> Expr:
    """p_k = exp(z_k) / S."""
    return Div(Fn("exp", (Ref(z),)), Ref(sumexp))


def jacobian_entry(p_k: str, p_j: str, diagonal: bool) -> Expr:
    """∂p_k/∂z_j: p_k(1 − p_k) when k = j, else −p_k·p_j."""
    if diagonal:
        return Prod((Ref(p_k), Sub(ONE, Ref(p_k))))
    return Neg(Prod((Ref(p_k), Ref(p_j))))


def add_outputs(t: Trace, layer: int, zs: list[str], outs: list[str], sym: Callable[[str], Sym],
                point: int | None) -> None:
    """S and every p_k of a softmax layer whose pre-activations `zs` are in the Trace already."""
    s = sumexp_key(point)
    t.add(s, Sym("sumexp", layer, (), point), Sum(tuple(Fn("exp", (Ref(z),)) for z in zs)))
    for z, out in zip(zs, outs):
        t.add(out, sym(out), probability(z, s))


def add_output_deltas(b: Any, point: int | None, numerator: Sym, mode: str) -> None:
    """dℓ/dp_k, the Jacobian ∂p_k/∂z_j and δ_k = ∂ℓ/∂z_k of the output layer, on a dense `_Builder` `b`.

    `b` gives t (the Trace), depth, net, sym(key), a(layer, i, point) and _delta(key, numerator, wrt, formula).
    """
    # dense imports this module: its helpers are imported here, when dense is loaded already
    from qgen.nn.dense import _at, factor_key, y_key, z_key

    if mode not in DELTA_MODES:
        raise ValueError(f"unknown softmax delta mode {mode!r}; one of {', '.join(DELTA_MODES)}")
    t, depth = b.t, b.depth
    n = b.net.layers[-1].n_out
    outs = [b.a(depth, k, point) for k in range(1, n + 1)]
    zs = [z_key(depth, k, point) for k in range(1, n + 1)]
    dls = [_at(f"dl_dyhat[{k}]", point) for k in range(1, n + 1)]
    for k, (out, dl) in enumerate(zip(outs, dls), start=1):
        t.add(dl, Sym("d", of=Sym("loss", point=point), wrt=b.sym(out)),
              fn.loss_derivative(b.net.loss, Ref(y_key(k, point)), Ref(out)), "factor")
    for k, out in enumerate(outs):
        for j, z in enumerate(zs):
            t.add(factor_key(out, z), Sym("d", of=b.sym(out), wrt=b.sym(z)), jacobian_entry(out, outs[j], k == j),
                  "factor")
    for k, z in enumerate(zs):
        if mode == "simplified":
            chain: Expr = Sub(Ref(outs[k]), Ref(y_key(k + 1, point)))
        else:
            chain = Sum(tuple(Prod((Ref(dls[j]), Ref(factor_key(outs[j], z)))) for j in range(n)))
        b._delta(_at(f"dl_dz{depth}[{k + 1}]", point), numerator, z, chain)
