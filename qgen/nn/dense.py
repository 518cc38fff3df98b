"""A dense network as a Trace: forward pass, loss, every chain-rule factor, gradients, one step.

Keys (units 1-based, layers 1..L; `@p` marks data point p when there are several):
  given     x[j] y[k] W{l}[i,j] b{l}[i] lr
  forward   z{l}[i] a{l}[i] (the last layer's activations are yhat[k]) loss J
  factor    dl_dyhat[k]  dyhat[k]_dz{L}[k]  da{l}[i]_dz{l}[i]  dz{l}[i]_da{l-1}[j]
            dz{l}[i]_dW{l}[i,j]  dz{l}[i]_db{l}[i]
  delta     dl_dz{l}[i]  dl_da{l}[j]          (shown expanded into their factors)
  grad      dJ_dW{l}[i,j] dJ_db{l}[i]         (dl_dW…@p per point when there are several)
  update    W{l}[i,j]_new b{l}[i]_new

>>> from qgen.nn.network import Network
>>> net = Network.from_mapping({"layers": [{"W": [[1, 1, 0]], "b": [0], "activation": "linear"}],
...                             "data": [{"x": [1, 2, 3], "y": [0]}], "learning_rate": 1})
>>> build(net)["dJ_dW1[1,2]"]
Fraction(12, 1)
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable

from qgen.expr import Const, Div, Prod, Ref, Sub, Sum
from qgen.nn import functions as fn
from qgen.nn.network import Layer, Network, json_number
from qgen.notation import Sym
from qgen.trace import Trace


def _at(key: str, point: int | None) -> str:
    return key if point is None else f"{key}@{point}"


def x_key(j: int, point: int | None = None) -> str:
    return _at(f"x[{j}]", point)


def y_key(k: int, point: int | None = None) -> str:
    return _at(f"y[{k}]", point)


def w_key(layer: int, i: int, j: int) -> str:
    """W{l}[i,j]; j = 0 names the bias b{l}[i] (the folded-bias column)."""
    return f"b{layer}[{i}]" if j == 0 else f"W{layer}[{i},{j}]"


def z_key(layer: int, i: int, point: int | None = None) -> str:
    return _at(f"z{layer}[{i}]", point)


def a_key(layer: int, i: int, depth: int, point: int | None = None) -> str:
    """Activation key; layer 0 is the input and the last layer is yhat."""
    if layer == 0:
        return x_key(i, point)
    return _at(f"yhat[{i}]" if layer == depth else f"a{layer}[{i}]", point)


def grad_key(layer: int, i: int, j: int) -> str:
    """dJ/d of a weight (j ≥ 1) or bias (j = 0)."""
    return f"dJ_d{w_key(layer, i, j)}"


def factor_key(num: str, den: str) -> str:
    """The key of the local derivative d(num)/d(den); the point suffix goes at the end."""
    point = ""
    if "@" in num:
        num, point = num.split("@")
        den = den.split("@")[0]
        point = "@" + point
    if num.startswith("yhat") and den.startswith("z"):
        return f"dyhat{num[4:]}_d{den}{point}"
    return f"d{num}_d{den}{point}"


def _sym_of(key: str, depth: int) -> Sym:
    """The Sym of a plain forward/given key (used for factor symbols)."""
    base, _, point = key.partition("@")
    p = int(point) if point else None
    name, _, idx = base.partition("[")
    index = tuple(int(v) for v in idx.rstrip("]").split(",")) if idx else ()
    if name == "yhat":
        return Sym("a", depth, index, p)
    if name in ("x", "y"):
        return Sym(name, None, index, p)
    return Sym(name[0], int(name[1:]), index, p)


def build(net: Network) -> Trace:
    """The Trace of a network: see the module docstring for what it holds."""
    t = Trace()
    depth = len(net.layers)
    widths = net.widths
    several = len(net.data) > 1

    for l, layer in enumerate(net.layers, start=1):
        for i in range(1, layer.n_out + 1):
            for j in range(1, layer.n_in + 1):
                t.given(w_key(l, i, j), Sym("W", l, (i, j)), layer.W[i - 1][j - 1])
            t.given(w_key(l, i, 0), Sym("b", l, (i,)), layer.b[i - 1])
    t.given("lr", Sym("lr"), net.learning_rate)

    def sym(key: str) -> Sym:
        return _sym_of(key, depth)

    def put(key: str, formula) -> None:
        t.add(key, sym(key), formula)

    point_grads: dict[str, list[str]] = {}
    for n, point in enumerate(net.data, start=1):
        p = n if several else None
        for j, v in enumerate(point.x, start=1):
            t.given(x_key(j, p), Sym("x", None, (j,), p), v)
        for k, v in enumerate(point.y, start=1):
            t.given(y_key(k, p), Sym("y", None, (k,), p), v)

        # forward
        for l, layer in enumerate(net.layers, start=1):
            for i in range(1, layer.n_out + 1):
                terms = [Prod((Ref(w_key(l, i, j)), Ref(a_key(l - 1, j, depth, p)))) for j in range(1, layer.n_in + 1)]
                put(z_key(l, i, p), Sum((Ref(w_key(l, i, 0)), *terms)))
                put(a_key(l, i, depth, p), fn.activation(layer.activation, Ref(z_key(l, i, p)), layer.slope))
        loss_key = _at("loss", p)
        out_terms = [fn.loss_term(net.loss, Ref(y_key(k, p)), Ref(a_key(depth, k, depth, p))) for k in range(1, widths[-1] + 1)]
        t.add(loss_key, Sym("loss", point=p), out_terms[0] if len(out_terms) == 1 else Sum(tuple(out_terms)), "loss")

        # backward: local factors, then deltas as products of factors
        numerator = Sym("loss", point=p) if several else Sym("objective")
        last = net.layers[-1]
        for k in range(1, last.n_out + 1):
            yhat = a_key(depth, k, depth, p)
            dl = _at(f"dl_dyhat[{k}]", p)
            t.add(dl, Sym("d", of=Sym("loss", point=p), wrt=sym(yhat)),
                  fn.loss_derivative(net.loss, Ref(y_key(k, p)), Ref(yhat)), "factor")
            _activation_factor(t, last, a_key(depth, k, depth, p), z_key(depth, k, p), sym)
            t.add(_at(f"dl_dz{depth}[{k}]", p), Sym("d", of=numerator, wrt=sym(z_key(depth, k, p))),
                  Prod((Ref(dl), Ref(factor_key(yhat, z_key(depth, k, p))))), "delta", inline=True)
        for l in range(depth, 0, -1):
            layer = net.layers[l - 1]
            for i in range(1, layer.n_out + 1):
                z = z_key(l, i, p)
                delta = Ref(_at(f"dl_dz{l}[{i}]", p))
                for j in range(0, layer.n_in + 1):
                    w = w_key(l, i, j)
                    local = factor_key(z, w)
                    t.add(local, Sym("d", of=sym(z), wrt=t.quantity(w).sym),
                          Const(Fraction(1)) if j == 0 else Ref(a_key(l - 1, j, depth, p)), "factor")
                    g = _at(f"dl_d{w}", p) if several else grad_key(l, i, j)
                    t.add(g, Sym("d", of=numerator, wrt=t.quantity(w).sym), Prod((delta, Ref(local))), "grad")
                    point_grads.setdefault(grad_key(l, i, j), []).append(g)
            if l == 1:
                continue
            below = net.layers[l - 2]
            for j in range(1, layer.n_in + 1):
                a = a_key(l - 1, j, depth, p)
                terms = []
                for i in range(1, layer.n_out + 1):
                    local = factor_key(z_key(l, i, p), a)
                    t.add(local, Sym("d", of=sym(z_key(l, i, p)), wrt=sym(a)), Ref(w_key(l, i, j)), "factor")
                    terms.append(Prod((Ref(_at(f"dl_dz{l}[{i}]", p)), Ref(local))))
                da = _at(f"dl_da{l - 1}[{j}]", p)
                t.add(da, Sym("d", of=numerator, wrt=sym(a)), terms[0] if len(terms) == 1 else Sum(tuple(terms)),
                      "delta", inline=True)
                _activation_factor(t, below, a, z_key(l - 1, j, p), sym)
                t.add(_at(f"dl_dz{l - 1}[{j}]", p), Sym("d", of=numerator, wrt=sym(z_key(l - 1, j, p))),
                      Prod((Ref(da), Ref(factor_key(a, z_key(l - 1, j, p))))), "delta", inline=True)

    # the objective and its gradient over the data set
    losses = [Ref(_at("loss", n if several else None)) for n in range(1, len(net.data) + 1)]
    total = losses[0] if len(losses) == 1 else Sum(tuple(losses))
    mean = several and net.reduction == "mean"
    t.add("J", Sym("objective"), Div(total, Const(Fraction(len(losses)))) if mean else total, "loss")
    if several:
        for g, parts in point_grads.items():
            refs = Sum(tuple(Ref(k) for k in parts))
            w = g.removeprefix("dJ_d")
            t.add(g, Sym("d", of=Sym("objective"), wrt=t.quantity(w).sym),
                  Div(refs, Const(Fraction(len(parts)))) if mean else refs, "grad")

    # one gradient-descent step
    for l, layer in enumerate(net.layers, start=1):
        for i in range(1, layer.n_out + 1):
            for j in range(0, layer.n_in + 1):
                w = w_key(l, i, j)
                t.add(f"{w}_new", Sym("new", of=t.quantity(w).sym),
                      Sub(Ref(w), Prod((Ref("lr"), Ref(grad_key(l, i, j))))), "update")
    return t


def _activation_factor(t: Trace, layer: Layer, a: str, z: str, sym: Callable[[str], Sym]) -> None:
    """The factor da/dz of one unit."""
    t.add(factor_key(a, z), Sym("d", of=sym(a), wrt=sym(z)),
          fn.activation_derivative(layer.activation, Ref(z), Ref(a), layer.slope), "factor")


def solution(net: Network, t: Trace) -> dict[str, Any]:
    """Objective, gradients and updated parameters in canonical shapes (for `qgen solve --json`)."""
    grads, updated = [], []
    for l, layer in enumerate(net.layers, start=1):
        rows = range(1, layer.n_out + 1)
        cols = range(1, layer.n_in + 1)
        grads.append({"W": [[json_number(t[grad_key(l, i, j)]) for j in cols] for i in rows],
                      "b": [json_number(t[grad_key(l, i, 0)]) for i in rows]})
        updated.append({"W": [[json_number(t[f"{w_key(l, i, j)}_new"]) for j in cols] for i in rows],
                        "b": [json_number(t[f"{w_key(l, i, 0)}_new"]) for i in rows]})
    return {"objective": json_number(t["J"]), "gradients": grads, "updated": updated}
