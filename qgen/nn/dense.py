"""A dense network as a Trace: forward pass, loss, every chain-rule factor, gradients, one step.

Keys (units 1-based, layers 1..L; `@p` marks data point p when there are several):
  given     x[j] y[k] W{l}[i,j] b{l}[i] lr
  forward   z{l}[i] a{l}[i] (the last layer's activations are yhat[k]) loss J
  factor    dl_dyhat[k]  dyhat[k]_dz{L}[k]  da{l}[i]_dz{l}[i]  dz{l}[i]_da{l-1}[j]
            dz{l}[i]_dW{l}[i,j]  dz{l}[i]_db{l}[i]
  delta     dl_dz{l}[i]  dl_da{l}[j]          (shown expanded into their factors)
  grad      dJ_dW{l}[i,j] dJ_db{l}[i]         (dl_dW…@p per point when there are several)
  update    W{l}[i,j]_new b{l}[i]_new
  optimiser weight decay, momentum, Adam and a second step: see qgen.nn.iterations (penalty, Jreg,
            dJreg_d…, v:/m:/mhat:/vhat: state, keys suffixed _new/_new2 at the updated parameters)

>>> from qgen.nn.network import Network
>>> net = Network.from_mapping({"layers": [{"W": [[1, 1, 0]], "b": [0], "activation": "linear"}],
...                             "data": [{"x": [1, 2, 3], "y": [0]}], "learning_rate": 1})
>>> build(net)["dJ_dW1[1,2]"]
Fraction(12, 1)

With a function table (`qgen.tables`, the no-calculator mode) σ, tanh and ln take the table's
values at its points, and the activation factors are σ′(z), tanh′(z) read from it. A sigmoid
output under the cross-entropy then passes δ = dℓ/dz = ŷ − y back (what −y/ŷ + (1 − y)/(1 − ŷ)
times ŷ(1 − ŷ) cancels to, as exams write it): the table's rounded σ′ would not cancel, and
1/0.73 is no hand arithmetic. dl_dyhat and dyhat_dz are still there, off the gradients' chain.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from qgen.expr import Const, Div, Prod, Ref, Sub, Sum
from qgen.nn import functions as fn
from qgen.nn import (  # iterations imports dense back: used at call time only
    iterations,
    softmax,
)
from qgen.nn.network import Layer, Network, json_number
from qgen.notation import Sym
from qgen.trace import Trace

if TYPE_CHECKING:
    from qgen.tables import FunctionTable


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


def build(net: Network, table: FunctionTable | None = None, delta: str = "jacobian") -> Trace:
    """The Trace of a network: see the module docstring for what it holds.

    `delta`: how a softmax output's δ = ∂ℓ/∂z is formed (qgen.nn.softmax.DELTA_MODES): through the
    Jacobian ("jacobian"), or p − y directly ("simplified"); other outputs ignore it.

    Which quantities a network has, and their symbols and formulas, depend only on its shape
    (widths, activations, loss, reduction, number of points, table or not), and sampling
    builds thousands of networks of one shape: the first of a shape is built quantity by
    quantity and its plan kept; the others replay the plan with their own numbers, which
    gives the same Trace (same keys, order, symbols, formulas and so values).
    """
    shape = (_shape(net, table), delta)
    plan = _PLANS.get(shape)
    if plan is None:
        t = _build(net, table, delta)
        if len(_PLANS) >= 256:
            _PLANS.clear()
        _PLANS[shape] = tuple((q.key, q.sym, q.expr, q.role, q.inline) for q in t)
        return t
    given = _given_values(net)
    t = Trace(table=table)
    for key, sym, formula, role, inline in plan:
        if formula is None:
            t.given(key, sym, given[key], role)
        else:
            t.add(key, sym, formula, role, inline=inline)
    return t


_PLANS: dict[tuple[Any, ...], tuple[tuple[Any, ...], ...]] = {}  # shape -> (key, sym, formula, role, inline) per quantity


def _shape(net: Network, table: FunctionTable | None) -> tuple[Any, ...]:
    """What the quantities of a network's Trace depend on: everything but its numbers."""
    layers = tuple((layer.n_out, layer.n_in, layer.activation, layer.slope) for layer in net.layers)
    optimisation = (net.weight_decay != 0, net.decay_biases, net.optimizer.name, net.steps)
    return layers, net.loss, net.reduction, len(net.data), table is not None, optimisation


def _given_values(net: Network) -> dict[str, Any]:
    """The value of every given quantity of the network's Trace, by key (as `_Builder` names them)."""
    out: dict[str, Any] = {}
    for l, layer in enumerate(net.layers, start=1):
        for i in range(1, layer.n_out + 1):
            for j in range(1, layer.n_in + 1):
                out[w_key(l, i, j)] = layer.W[i - 1][j - 1]
            out[w_key(l, i, 0)] = layer.b[i - 1]
    out["lr"] = net.learning_rate
    out.update(iterations.hyper_values(net))
    several = len(net.data) > 1
    for n, data in enumerate(net.data, start=1):
        p = n if several else None
        for j, v in enumerate(data.x, start=1):
            out[x_key(j, p)] = v
        for k, v in enumerate(data.y, start=1):
            out[y_key(k, p)] = v
    return out


def _build(net: Network, table: FunctionTable | None = None, delta: str = "jacobian") -> Trace:
    """The Trace of a network, built stage by stage (what `build` replays)."""
    if not net.plain:  # weight decay, momentum, Adam or two steps: qgen.nn.iterations
        return iterations.build(net, table)
    b = _Builder(net, table, delta)
    b.parameters()
    for n in range(1, len(net.data) + 1):
        p = n if b.several else None
        b.point(p)
        b.forward(p)
        b.backward(p)
    b.objective()
    b.step()
    return b.t


class _Builder:
    """Adds a network's quantities to a Trace, stage by stage."""

    def __init__(self, net: Network, table: FunctionTable | None = None, delta: str = "jacobian"):
        self.delta_mode = delta  # a softmax output's δ: through its Jacobian, or p − y (qgen.nn.softmax)
        self.net = net
        self.t = Trace(table=table)
        self.depth = len(net.layers)
        self.several = len(net.data) > 1
        self.point_grads: dict[str, list[str]] = {}  # dJ_d… -> the per-point gradients it averages

    def sym(self, key: str) -> Sym:
        return _sym_of(key, self.depth)

    def a(self, layer: int, i: int, p: int | None) -> str:
        return a_key(layer, i, self.depth, p)

    def parameters(self) -> None:
        for l, layer in enumerate(self.net.layers, start=1):
            for i in range(1, layer.n_out + 1):
                for j in range(1, layer.n_in + 1):
                    self.t.given(w_key(l, i, j), Sym("W", l, (i, j)), layer.W[i - 1][j - 1])
                self.t.given(w_key(l, i, 0), Sym("b", l, (i,)), layer.b[i - 1])
        self.t.given("lr", Sym("lr"), self.net.learning_rate)

    def point(self, p: int | None) -> None:
        data = self.net.data[(p or 1) - 1]
        for j, v in enumerate(data.x, start=1):
            self.t.given(x_key(j, p), Sym("x", None, (j,), p), v)
        for k, v in enumerate(data.y, start=1):
            self.t.given(y_key(k, p), Sym("y", None, (k,), p), v)

    def forward(self, p: int | None) -> None:
        """z = b + Σ W·a and a = g(z) for every unit, then the loss of this point."""
        for l, layer in enumerate(self.net.layers, start=1):
            for i in range(1, layer.n_out + 1):
                terms = [Prod((Ref(w_key(l, i, j)), Ref(self.a(l - 1, j, p)))) for j in range(1, layer.n_in + 1)]
                z = z_key(l, i, p)
                self.t.add(z, self.sym(z), Sum((Ref(w_key(l, i, 0)), *terms)))
                if layer.activation != "softmax":
                    self.t.add(self.a(l, i, p), self.sym(self.a(l, i, p)),
                               fn.activation(layer.activation, Ref(z), layer.slope))
            if layer.activation == "softmax":  # a whole layer's function: S = Σ_j exp(z_j), then each p_k = exp(z_k)/S
                units = range(1, layer.n_out + 1)
                softmax.add_outputs(self.t, l, [z_key(l, i, p) for i in units], [self.a(l, i, p) for i in units],
                                    self.sym, p)
        outputs = range(1, self.net.widths[-1] + 1)
        terms = [fn.loss_term(self.net.loss, Ref(y_key(k, p)), Ref(self.a(self.depth, k, p))) for k in outputs]
        self.t.add(_at("loss", p), Sym("loss", point=p), terms[0] if len(terms) == 1 else Sum(tuple(terms)), "loss")

    def backward(self, p: int | None) -> None:
        """Local factors of the chain rule, and deltas (inline) as sums of products of them."""
        numerator = Sym("loss", point=p) if self.several else Sym("objective")
        last = self.net.layers[-1]
        if last.activation == "softmax":  # dℓ/dp, the Jacobian ∂p/∂z, δ through it or as p − y
            softmax.add_output_deltas(self, p, numerator, self.delta_mode)
        for k in range(1, last.n_out + 1) if last.activation != "softmax" else ():
            yhat, z = self.a(self.depth, k, p), z_key(self.depth, k, p)
            dl = _at(f"dl_dyhat[{k}]", p)
            self.t.add(dl, Sym("d", of=Sym("loss", point=p), wrt=self.sym(yhat)),
                       fn.loss_derivative(self.net.loss, Ref(y_key(k, p)), Ref(yhat)), "factor")
            self._activation_factor(last, yhat, z)
            chain = Prod((Ref(dl), Ref(factor_key(yhat, z))))
            if self.t.table is not None and self.net.loss == "binary_cross_entropy" and last.activation == "sigmoid":
                chain = Sub(Ref(yhat), Ref(y_key(k, p)))
            self._delta(_at(f"dl_dz{self.depth}[{k}]", p), numerator, z, chain)
        for l in range(self.depth, 0, -1):
            self._weight_gradients(l, p, numerator)
            if l > 1:
                self._backpropagate(l, p, numerator)

    def _weight_gradients(self, l: int, p: int | None, numerator: Sym) -> None:
        layer = self.net.layers[l - 1]
        for i in range(1, layer.n_out + 1):
            z = z_key(l, i, p)
            for j in range(0, layer.n_in + 1):
                w = w_key(l, i, j)
                local = factor_key(z, w)
                self.t.add(local, Sym("d", of=self.sym(z), wrt=self.t.quantity(w).sym),
                           Const(Fraction(1)) if j == 0 else Ref(self.a(l - 1, j, p)), "factor")
                g = _at(f"dl_d{w}", p) if self.several else grad_key(l, i, j)
                self.t.add(g, Sym("d", of=numerator, wrt=self.t.quantity(w).sym),
                           Prod((Ref(_at(f"dl_dz{l}[{i}]", p)), Ref(local))), "grad")
                self.point_grads.setdefault(grad_key(l, i, j), []).append(g)

    def _backpropagate(self, l: int, p: int | None, numerator: Sym) -> None:
        """From the deltas of layer l to those of layer l − 1."""
        layer, below = self.net.layers[l - 1], self.net.layers[l - 2]
        for j in range(1, layer.n_in + 1):
            a = self.a(l - 1, j, p)
            terms = []
            for i in range(1, layer.n_out + 1):
                local = factor_key(z_key(l, i, p), a)
                self.t.add(local, Sym("d", of=self.sym(z_key(l, i, p)), wrt=self.sym(a)), Ref(w_key(l, i, j)), "factor")
                terms.append(Prod((Ref(_at(f"dl_dz{l}[{i}]", p)), Ref(local))))
            da = _at(f"dl_da{l - 1}[{j}]", p)
            self._delta(da, numerator, a, terms[0] if len(terms) == 1 else Sum(tuple(terms)))
            z = z_key(l - 1, j, p)
            self._activation_factor(below, a, z)
            self._delta(_at(f"dl_dz{l - 1}[{j}]", p), numerator, z, Prod((Ref(da), Ref(factor_key(a, z)))))

    def _delta(self, key: str, numerator: Sym, wrt: str, formula) -> None:
        self.t.add(key, Sym("d", of=numerator, wrt=self.sym(wrt)), formula, "delta", inline=True)

    def _activation_factor(self, layer: Layer, a: str, z: str) -> None:
        """The factor da/dz of one unit."""
        self.t.add(factor_key(a, z), Sym("d", of=self.sym(a), wrt=self.sym(z)),
                   fn.activation_derivative(layer.activation, Ref(z), Ref(a), layer.slope, self.t.table is not None),
                   "factor")

    def objective(self) -> None:
        """J over the data set (the loss itself for one point) and, for several points, its gradients."""
        n = len(self.net.data)
        losses = [Ref(_at("loss", k if self.several else None)) for k in range(1, n + 1)]
        total = losses[0] if n == 1 else Sum(tuple(losses))
        mean = self.several and self.net.reduction == "mean"
        self.t.add("J", Sym("objective"), Div(total, Const(Fraction(n))) if mean else total, "loss")
        if self.several:
            for g, per_point in self.point_grads.items():
                refs = Sum(tuple(Ref(k) for k in per_point))
                w = g.removeprefix("dJ_d")
                self.t.add(g, Sym("d", of=Sym("objective"), wrt=self.t.quantity(w).sym),
                           Div(refs, Const(Fraction(n))) if mean else refs, "grad")

    def step(self) -> None:
        """Every parameter after one gradient-descent step."""
        for l, layer in enumerate(self.net.layers, start=1):
            for i in range(1, layer.n_out + 1):
                for j in range(0, layer.n_in + 1):
                    w = w_key(l, i, j)
                    self.t.add(f"{w}_new", Sym("new", of=self.t.quantity(w).sym),
                               Sub(Ref(w), Prod((Ref("lr"), Ref(grad_key(l, i, j))))), "update")


def solution(net: Network, t: Trace) -> dict[str, Any]:
    """Objective, gradients and updated parameters in canonical shapes (for `qgen solve --json`).

    A network that is not `plain` adds `iterations` (see `qgen.nn.iterations.solution`).
    """
    if not net.plain:
        return iterations.solution(net, t)
    return {"objective": json_number(t["J"]), "gradients": matrices(net, t, lambda w: f"dJ_d{w}"),
            "updated": matrices(net, t, lambda w: f"{w}_new")}


def matrices(net: Network, t: Trace, key: Callable[[str], str]) -> list[dict[str, Any]]:
    """Per layer {W, b} of the values of `key(parameter key)` in the canonical shapes (W is (n_out, n_in))."""
    out = []
    for l, layer in enumerate(net.layers, start=1):
        rows, cols = range(1, layer.n_out + 1), range(1, layer.n_in + 1)
        out.append({"W": [[json_number(t[key(w_key(l, i, j))]) for j in cols] for i in rows],
                    "b": [json_number(t[key(w_key(l, i, 0))]) for i in rows]})
    return out
