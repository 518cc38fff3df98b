"""Worked lines for the one-hidden-layer network families (batch-gd, regression-mlp).

They write a unit's sum weights first and bias last, as seeds 002 and 004 do, and show a
gradient through the chain-rule factors a family chooses to keep.
"""

from __future__ import annotations

from typing import Mapping

from qgen import expr as ex
from qgen import numeric
from qgen.expr import Const, Expr, Prod, Ref, Sub, Sum
from qgen.nn import dense
from qgen.nn.network import Network
from qgen.notation import Notation
from qgen.trace import Trace


def through(t: Trace, formula: Expr, keep: set[str], shown: Mapping[str, Expr] | None = None) -> Expr:
    """`formula` with every factor and delta not in `keep` replaced by its own formula (or by `shown`)."""
    shown = shown or {}

    def replace_ref(k: str) -> Expr | None:
        if k in keep:
            return None
        if k in shown:
            return shown[k]
        q = t.quantity(k)
        return q.expr if q.role in ("factor", "delta") else None

    return ex.without_ones(ex.substitute(formula, replace_ref))


def affine(layer_index: int, i: int, n_in: int, inputs: list[str], suffix: str = "") -> Expr:
    """Σ w·input + b with the bias last, as the document writes a unit's sum."""
    terms = [Prod((Ref(dense.w_key(layer_index, i, j) + suffix), Ref(inputs[j - 1]))) for j in range(1, n_in + 1)]
    return Sum((*terms, Ref(dense.w_key(layer_index, i, 0) + suffix)))


def loss_derivative(loss: str, y: str, yhat: str) -> Expr:
    """δ_ŷ as the documents write it: 2(ŷ − y), or ŷ − y for ½(y − ŷ)²."""
    diff = Sub(Ref(yhat), Ref(y))
    return Prod((Const(numeric.exact(2)), diff)) if loss == "squared_error" else diff


def at(key: str, p: int | None, suffix: str = "") -> str:
    """The key of point p (none for a single point), of the network with θ′ when suffix is `_new`."""
    return key + suffix + ("" if p is None else f"@{p}")


def forward_lines(net: Network, t: Trace, nt: Notation, p: int | None, places: int, suffix: str = "") -> list[str]:
    """z, h of every hidden unit and ŷ of point p, each sum written weights first and bias last."""
    hidden = net.layers[0]
    xs = [dense.x_key(j, p) for j in range(1, hidden.n_in + 1)]
    lines = []
    for i in range(1, hidden.n_out + 1):
        lines.append(t.explain(at(f"z1[{i}]", p, suffix), nt, places, formula=affine(1, i, hidden.n_in, xs, suffix)))
        lines.append(t.explain(at(f"a1[{i}]", p, suffix), nt, places))
    hs = [at(f"a1[{i}]", p, suffix) for i in range(1, hidden.n_out + 1)]
    lines.append(t.explain(at("yhat[1]", p, suffix), nt, places, formula=affine(2, 1, hidden.n_out, hs, suffix)))
    return lines


def loss_line(net: Network, t: Trace, nt: Notation, p: int | None, places: int, suffix: str = "",
              key: str = "loss") -> str:
    """L(x_p, y_p) = (ŷ(x_p) − y_p)² (or ½ of it)."""
    square = ex.Pow(Sub(Ref(at("yhat[1]", p, suffix)), Ref(dense.y_key(1, p))), 2)
    if net.loss == "half_squared_error":
        square = Prod((Const(numeric.exact("0.5"), as_fraction=True), square))
    return t.explain(at(key, p, suffix), nt, places, formula=square)
