"""Weight decay, momentum, Adam and a second iteration, as quantities of a network's Trace.

`dense.build` comes here for a network that is not `plain` (weight decay, another optimiser or
two steps). Iteration 1 is the plain network's Trace as it is (forward, backward, `J`, `dJ_d…`);
iteration 2 is the same Trace again with every key suffixed and its parameters the updated ones,
so each of its quantities is a formula over iteration 1's and error-carried-forward reaches it.

Keys (added to those of `dense`; `w` is a parameter key such as W1[1,2] or b2[1]):
  given     wd (λ), mu (μ), beta1 (β₁), beta2 (β₂), eps (ε)      (only those the network uses)
  suffix    a key + SUFFIXES[k] is that quantity at the parameters after k steps: z1[1]_new@2,
            J_new, dJ_dW1[1,1]_new; the parameters after k steps are w, w_new, w_new2
  decay     penalty = (λ/2)·Σ w² over the decayed parameters, Jreg = J + penalty,
            dJreg_d{w} = dJ_d{w} + λ·w (= dJ_d{w} for a bias that is not decayed); each + suffix
  state     after step t (computed at the parameters after t − 1 steps, so with that suffix):
            momentum v:{w}; Adam m:{w} v:{w} mhat:{w} vhat:{w}        e.g. m:W1[1,1]_new is m₂
  update    {w}_new after step 1, {w}_new2 after step 2

>>> from qgen.nn.network import Network
>>> from qgen.nn import dense
>>> net = Network.from_mapping({"layers": [{"W": [[2]], "b": [0], "activation": "linear"}],
...     "data": [{"x": [1], "y": [0]}], "learning_rate": 0.1, "weight_decay": 0.5, "optimizer": "momentum",
...     "steps": 2})
>>> t = dense.build(net)
>>> t["dJreg_dW1[1,1]"], t["W1[1,1]_new"], t["v:W1[1,1]_new"]
(Fraction(5, 1), Fraction(3, 2), Fraction(149, 20))
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from qgen import expr as ex
from qgen.expr import Const, Div, Fn, Pow, Prod, Ref, Sub, Sum
from qgen.nn import dense, optim
from qgen.nn.network import Network, json_number
from qgen.notation import Sym
from qgen.trace import Trace

if TYPE_CHECKING:
    from qgen.tables import FunctionTable

SUFFIXES = ("", "_new", "_new2")  # a quantity at the parameters after 0, 1, 2 steps
HYPER = {"momentum": ("mu", "momentum"), "beta1": ("beta1", "beta1"), "beta2": ("beta2", "beta2"),
         "epsilon": ("eps", "epsilon")}  # hyper-parameter -> (key, Sym name)
STATE = {"momentum": ("v",), "adam": ("m", "v", "mhat", "vhat")}
STATE_SYMS = {("momentum", "v"): "velocity", ("adam", "m"): "m", ("adam", "v"): "v", ("adam", "mhat"): "mhat",
              ("adam", "vhat"): "vhat"}
ONE, ZERO = Const(Fraction(1)), Const(Fraction(0))


def at(key: str, k: int) -> str:
    """`key` at the parameters after k steps (the suffix goes before a data point's @p)."""
    base, sep, point = key.partition("@")
    return base + SUFFIXES[k] + sep + point


def param(w: str, k: int) -> str:
    """The parameter `w` after k steps."""
    return w + SUFFIXES[k]


def objective_key(net: Network, k: int = 0) -> str:
    """The (regularised) objective at the parameters after k steps."""
    return at("Jreg" if net.weight_decay else "J", k)


def gradient_key(net: Network, w: str, k: int = 0) -> str:
    """The (regularised) gradient by `w` at the parameters after k steps."""
    return at(f"dJreg_d{w}" if net.weight_decay else f"dJ_d{w}", k)


def state_key(name: str, w: str, t: int) -> str:
    """Optimiser state `name` (v, m, mhat, vhat) of `w` after step t (t = 1, 2)."""
    return f"{name}:{at(w, t - 1)}"


def decayed(net: Network, w: str) -> bool:
    """Whether the weight-decay term covers parameter `w` (biases only with decay_biases)."""
    return net.weight_decay != 0 and (net.decay_biases or not w.startswith("b"))


def parameters(net: Network) -> list[str]:
    """Every parameter key, layer by layer, each unit's weights then its bias."""
    return [dense.w_key(l, i, j) for l, layer in enumerate(net.layers, start=1)
            for i in range(1, layer.n_out + 1) for j in [*range(1, layer.n_in + 1), 0]]


def hyper_values(net: Network) -> dict[str, Fraction]:
    """The given hyper-parameters by key (wd, mu, beta1, beta2, eps)."""
    out = {"wd": net.weight_decay} if net.weight_decay else {}
    out.update({HYPER[k][0]: v for k, v in net.optimizer.hyper().items()})
    return out


def _plain(net: Network) -> Network:
    """The same network with one plain gradient-descent step (whose Trace the iterations are made of)."""
    return replace(net, weight_decay=Fraction(0), decay_biases=False, optimizer=optim.SGD, steps=1)


def _primed(s: Sym, k: int) -> Sym:
    for _ in range(k):
        s = Sym("new", of=s)
    return s


def build(net: Network, table: FunctionTable | None = None) -> Trace:
    """The Trace of a network with weight decay, an optimiser and 1-2 steps (see the module docstring)."""
    base = dense.build(_plain(net), table)
    t = Trace(table=table)
    for q in base:
        if q.role != "update":
            (t.given(q.key, q.sym, q.value, q.role) if q.expr is None else
             t.add(q.key, q.sym, q.expr, q.role, inline=q.inline))
    if net.weight_decay:
        t.given("wd", Sym("decay"), net.weight_decay)
    for name, value in net.optimizer.hyper().items():
        t.given(HYPER[name][0], Sym(HYPER[name][1]), value)
    for k in range(1, net.steps + 1):
        if k > 1:
            _again(base, t, k - 1)
        _regularise(net, t, k - 1)
        _step(net, t, k)
    return t


def _again(base: Trace, t: Trace, k: int, roles: tuple[str, ...] | None = None) -> None:
    """The plain network's quantities once more, at the parameters after k steps (keys and symbols renamed)."""
    def renamed(key: str) -> str:
        if base.quantity(key).expr is None:
            return param(key, k) if key[0] in "Wb" else key  # data points and η are the same
        return at(key, k)

    for q in base:
        if q.role != "update" and q.expr is not None and (roles is None or q.role in roles):
            formula = _rename(q.expr, renamed)
            t.add(at(q.key, k), _primed(q.sym, k), formula, q.role, inline=q.inline)


def objective_after(net: Network, t: Trace) -> str:
    """Add the forward pass and objective at the parameters after all steps; the objective's key.

    With two steps, or weight decay, this is what a family compares with the objective at the start.
    """
    k = net.steps
    base = dense.build(_plain(net), t.table)
    _again(base, t, k, roles=("forward", "loss"))
    if net.weight_decay:
        _regularise(net, t, k, gradients=False)
    return objective_key(net, k)


def _rename(e: Any, renamed: Any) -> Any:
    """`e` with every Ref's key passed through `renamed` once (ex.substitute would rename the new keys again)."""
    if isinstance(e, Ref):
        return Ref(renamed(e.key))
    return e if isinstance(e, Const) else ex._rebuilt(e, lambda c: _rename(c, renamed))


def _regularise(net: Network, t: Trace, k: int, gradients: bool = True) -> None:
    """penalty, Jreg and dJreg_d… at the parameters after k steps (nothing without weight decay)."""
    if not net.weight_decay:
        return
    keys = parameters(net)
    squares = tuple(Pow(Ref(param(w, k)), 2) for w in keys if decayed(net, w))
    t.add(at("penalty", k), _primed(Sym("penalty"), k),
          Prod((Const(Fraction(1, 2), as_fraction=True), Ref("wd"), squares[0] if len(squares) == 1 else Sum(squares))),
          "loss")
    t.add(at("Jreg", k), _primed(Sym("regularised"), k), Sum((Ref(at("J", k)), Ref(at("penalty", k)))), "loss")
    for w in keys if gradients else ():
        data = Ref(at(f"dJ_d{w}", k))
        formula = Sum((data, Prod((Ref("wd"), Ref(param(w, k)))))) if decayed(net, w) else data
        t.add(at(f"dJreg_d{w}", k), _primed(Sym("d", of=Sym("regularised"), wrt=t.quantity(w).sym), k), formula, "grad")


def _step(net: Network, t: Trace, step: int) -> None:
    """Optimiser state after `step` and the parameters after it."""
    kind, lr = net.optimizer.name, Ref("lr")
    for w in parameters(net):
        g, old, sym = Ref(gradient_key(net, w, step - 1)), Ref(param(w, step - 1)), t.quantity(w).sym

        def state(name: str, formula: Any, w: str = w, sym: Sym = sym) -> Ref:
            key = state_key(name, w, step)
            t.add(key, Sym(STATE_SYMS[(kind, name)], index=(step,), of=sym), formula, "state")
            return Ref(key)

        def before(name: str, w: str = w) -> Any:
            return ZERO if step == 1 else Ref(state_key(name, w, step - 1))

        if kind == "sgd":
            change: Any = g
        elif kind == "momentum":
            change = state("v", Sum((Prod((Ref("mu"), before("v"))), g)))
        else:
            b1, b2 = Ref("beta1"), Ref("beta2")
            m = state("m", Sum((Prod((b1, before("m"))), Prod((Sub(ONE, b1), g)))))
            v = state("v", Sum((Prod((b2, before("v"))), Prod((Sub(ONE, b2), Pow(g, 2))))))
            mhat = state("mhat", Div(m, Sub(ONE, Pow(b1, step))))
            vhat = state("vhat", Div(v, Sub(ONE, Pow(b2, step))))
            change = Div(mhat, Sum((Fn("sqrt", (vhat,)), Ref("eps"))))
        t.add(param(w, step), _primed(sym, step), Sub(old, Prod((lr, change))), "update")


def solution(net: Network, t: Trace) -> dict[str, Any]:
    """`objective`, `gradients` (at the start, decay included), `updated` (after all steps) and `iterations`."""
    names = {"momentum": {"velocity": "v"}, "adam": {"m": "m", "v": "v"}}.get(net.optimizer.name, {})
    iterations = []
    for k in range(1, net.steps + 1):
        entry: dict[str, Any] = {"objective": json_number(t[objective_key(net, k - 1)]),
                                 "gradients": dense.matrices(net, t, lambda w, k=k: gradient_key(net, w, k - 1)),
                                 "updated": dense.matrices(net, t, lambda w, k=k: param(w, k))}
        for field, name in names.items():
            entry[field] = dense.matrices(net, t, lambda w, k=k, name=name: state_key(name, w, k))
        iterations.append(entry)
    return {"objective": iterations[0]["objective"], "gradients": iterations[0]["gradients"],
            "updated": iterations[-1]["updated"], "iterations": iterations}
