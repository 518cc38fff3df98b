"""Family `regression-mlp`: the regression network of seed 004, derived and then run.

One input, one sigmoid hidden unit and a linear output, z₁ = w₁x + b₁, a₁ = σ(z₁),
z₂ = w₂a₁ + b₂, ŷ = a₂ = z₂, with the mean squared error L = (1/n) Σ (y − ŷ)² over n points:
derive ∂L/∂w₂, ∂L/∂b₂, ∂L/∂w₁, ∂L/∂b₁ for one point by the chain rule (symbolic answers),
then forward pass, loss, the four gradients and one gradient-descent step with α on 1–3
points, and why this update is twice the one of the ½-loss. Worked lines shared with batch-gd live in `qgen.families.worked`.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from qgen import expr as ex
from qgen import numeric
from qgen.errors import BankError
from qgen.expr import Const, Div, Expr, Neg, Pow, Prod, Ref, Sub, Sum
from qgen.families.base import FormulaSpec, Part, Question, number_part, rubric
from qgen.families.domain import draw, draw_fair
from qgen.families.rules import DEFAULT, MIN_MISS, Rules, problem
from qgen.families.worked import at, forward_lines, loss_derivative, loss_line, through
from qgen.nn import dense, optim_parts
from qgen.nn.network import Network
from qgen.notation import Notation, Sym
from qgen.trace import Trace

MAX_POINTS = 5
SATURATION = 4  # |z₁| beyond which σ′ is nearly 0
MAX_MISS = 3  # largest |ŷ − y| of a point: keeps the numbers workable by hand
PARAMETERS = {"w2": "W2[1,1]", "b2": "b2[1]", "w1": "W1[1,1]", "b1": "b1[1]"}  # in the order of backpropagation
NAMES = {"W1[1,1]": "w1", "b1[1]": "b1", "W2[1,1]": "w2", "b2[1]": "b2", "x[1]": "x", "y[1]": "y",
         "z1[1]": "z1", "a1[1]": "a1", "z2[1]": "z2", "yhat[1]": "a2"}  # how answers are typed


class RegressionMlp:
    """See the module docstring."""

    name = "regression-mlp"
    summary = ("Regression network (one sigmoid hidden unit, linear output, MSE): derive the four gradients by "
               "the chain rule, then forward pass, loss, gradients and one step with alpha on 1-3 points (seed 004).")
    template = "families/regression-mlp.tex.j2"
    default_domain: dict[str, Any] = {
        "points": [1, 2, 3],
        "x": {"integers": [-2, 3]},
        "y": [-0.5, 0.2, 0.5, 0.8, 1, 1.5, 2, 2.5],
        "weights": {"integers": [-2, 2], "exclude": [0]},
        "biases": {"integers": [-1, 1]},
        "learning_rate": [0.05, 0.1, 0.5],
    }
    calculator_needed = "a squared error of a sigmoid unit's table value has 4 or more decimals"
    shared = ("points",)  # drawn once per exam: 1, 2 or 3 points is 18, 37 or 51 steps of work
    domain_limits = {"points": (1, MAX_POINTS)}
    constraints = ("well_posed", "no_saturation", "moderate_values", "nonzero_derivatives", "target_not_reached")

    # -- sampling ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, domain: Mapping[str, Any], rules: Rules = DEFAULT) -> dict[str, Any]:
        """Draw parameters until the instance is a fair question (see `problems`)."""
        def attempt() -> tuple[dict[str, Any], list[str]]:
            params = self._draw(rng, domain)
            return params, self.problems(params, rules=rules)

        return draw_fair(self.name, attempt, "x, weights, biases", rules=rules)

    def _draw(self, rng: np.random.Generator, d: Mapping[str, Any]) -> dict[str, Any]:
        def one(key: str) -> Any:
            return draw(rng, d[key], f"domain.{key}")

        n = one("points")
        if not isinstance(n, int) or not 1 <= n <= MAX_POINTS:
            raise BankError(f"domain.points: regression-mlp takes 1 to {MAX_POINTS} data points, got {n!r}")
        layers = [{"W": [[one("weights")]], "b": [one("biases")], "activation": "sigmoid"},
                  {"W": [[one("weights")]], "b": [one("biases")], "activation": "linear"}]
        data = [{"x": [one("x")], "y": [one("y")]} for _ in range(n)]
        return {"network": {"layers": layers, "loss": "squared_error", "reduction": "mean", "data": data,
                            "learning_rate": one("learning_rate")}}

    def problems(self, params: Mapping[str, Any], places: int = 4, rules: Rules = DEFAULT) -> list[str]:
        """The fairness constraints an instance breaks, as `constraint: detail` (empty: a good question)."""
        net = _network(params)
        out: list[str] = []
        xs = [p.x[0] for p in net.data]
        if len(set(xs)) < len(xs):
            out.append(problem("well_posed", "two data points have the same input"))
        (w1,), b1 = net.layers[0].W[0], net.layers[0].b[0]
        (w2,), b2 = net.layers[1].W[0], net.layers[1].b[0]
        z = np.array([float(w1 * x + b1) for x in xs])
        if np.any(np.abs(z) > SATURATION):
            out.append(problem("no_saturation", f"a sigmoid input beyond ±{SATURATION}"))
        yhat = float(w2) / (1 + np.exp(-z)) + float(b2)
        if np.any(np.abs(yhat - np.array([float(p.y[0]) for p in net.data])) > MAX_MISS):
            out.append(problem("moderate_values", f"a prediction misses its target by more than {MAX_MISS}"))
        if np.any(np.abs(yhat - np.array([float(p.y[0]) for p in net.data])) < MIN_MISS):
            out.append(problem("target_not_reached", f"a prediction is within {MIN_MISS} of its target"))
        out = rules.keep(out)
        if out or not rules.on("nonzero_derivatives"):
            return out
        t = dense.build(net)
        if any(abs(numeric.to_float(t[dense.grad_key(*_place(k))])) < 0.5 * 10 ** -places for k in PARAMETERS.values()):
            out.append(problem("nonzero_derivatives", f"a gradient is 0 at {places} decimals"))
        return out

    # -- building ------------------------------------------------------------------------
    def build(self, params: Mapping[str, Any], notation: Notation, places: int) -> Question:
        """The question for fixed parameters (sampled, or pinned by a bank or --params)."""
        net = _network(params)
        t = dense.build(net)
        nt = notation.for_network(net.widths)
        one = dense.build(Network(net.layers, net.loss, net.reduction, net.data[:1], net.learning_rate))
        parts = _derivations(one, nt) + _numbers(net, t, nt, places)
        if net.plain:
            parts.append(_half_loss(nt))
        else:  # a pinned network with weight decay, an optimiser or two steps: its parts replace the plain step
            parts = [p for p in parts if not p.id.startswith("update.")]
            parts += optim_parts.every_step(net, t, nt, places, list(PARAMETERS.values()))
        context = _statement(net, nt)
        context["optimiser"] = optim_parts.statement(net, nt)
        return Question(self.name, "Regression network: derivation and one step",
                        {"network": net.to_mapping()}, t, nt, parts, self.template, context,
                        dense.solution(net, t))


def _place(key: str) -> tuple[int, int, int]:
    """(layer, unit, input) of a parameter key for dense.grad_key (input 0: the bias)."""
    name, _, idx = key.partition("[")
    index = [int(v) for v in idx.rstrip("]").split(",")]
    return int(name[1:]), index[0], index[1] if name[0] == "W" else 0


def _network(params: Any) -> Network:
    """The pinned network, checked to be seed 004's shape."""
    if not isinstance(params, Mapping) or "network" not in params:
        raise BankError("params: expected a mapping with a 'network' (the canonical network form)")
    unknown = sorted(set(params) - {"network"})
    if unknown:
        raise BankError(f"params: unknown key(s) {', '.join(unknown)}; regression-mlp takes a network")
    net = Network.from_mapping(params["network"], "params.network")
    if net.widths != [1, 1, 1]:
        raise BankError(f"params.network.layers: regression-mlp needs one input, one hidden unit and one output "
                        f"(W of shape [[w]] in both layers), got widths {net.widths}")
    if net.layers[0].activation != "sigmoid":
        raise BankError(f"params.network.layers[0].activation: the hidden unit is a sigmoid, not "
                        f"{net.layers[0].activation}")
    if net.layers[1].activation != "linear":
        raise BankError(f"params.network.layers[1].activation: the output is linear (regression), not "
                        f"{net.layers[1].activation}")
    if net.loss != "squared_error" or net.reduction != "mean":
        raise BankError(f"params.network.loss: regression-mlp uses the mean squared error (loss: squared_error, "
                        f"reduction: mean), got {net.loss} with reduction {net.reduction}")
    if len(net.data) > MAX_POINTS:
        raise BankError(f"params.network.data: at most {MAX_POINTS} data points, got {len(net.data)}")
    return net


def typed(e: Expr) -> str:
    """A formula as the text a student types, with the NAMES of its quantities (read by qgen.grade.formula).

    >>> typed(Prod((Const(numeric.exact(2)), Sub(Ref("yhat[1]"), Ref("y[1]")), Ref("a1[1]"))))
    '2*(a2 - y)*a1'
    """
    def wrapped(c: Expr) -> str:
        return f"({typed(c)})" if isinstance(c, (Sum, Sub, Neg, Prod, Div)) else typed(c)

    if isinstance(e, Const):
        v = e.value
        return str(v.numerator) if v.denominator == 1 else f"({v.numerator}/{v.denominator})"
    if isinstance(e, Ref):
        return NAMES[e.key]
    if isinstance(e, Sum):
        return " + ".join(typed(x) for x in e.terms)
    if isinstance(e, Sub):
        right = e.right
        return f"{typed(e.left)} - " + (f"({typed(right)})" if isinstance(right, (Sum, Sub, Neg)) else typed(right))
    if isinstance(e, Neg):
        return f"-{wrapped(e.arg)}"
    if isinstance(e, Prod):
        return "*".join(f"({typed(f)})" if isinstance(f, (Sum, Sub, Neg)) else typed(f) for f in e.factors)
    if isinstance(e, Div):
        return f"{wrapped(e.num)}/{wrapped(e.den)}"
    if isinstance(e, Pow):
        return f"{wrapped(e.base) if not isinstance(e.base, (Ref, Const)) else typed(e.base)}**{e.n}"
    raise ValueError(f"no typed form for {e!r}")


def _derivations(one: Trace, nt: Notation) -> list[Part]:
    """∂L/∂w₂, ∂L/∂b₂, ∂L/∂w₁, ∂L/∂b₁ for one point: the chain of local factors, their formulas, the answer."""
    def sym(key: str) -> str:
        return one.symbol(key, nt)

    shown = {"dl_dyhat[1]": loss_derivative("squared_error", "y[1]", "yhat[1]")}
    parts = []
    for name, w in PARAMETERS.items():
        g = dense.grad_key(*_place(w))
        chain = one.expanded(g)
        local = ex.substitute(chain, lambda k: one.quantity(k).expr if one.quantity(k).role == "factor" else None)
        answer = through(one, chain, set(), shown)
        variables = list(dict.fromkeys(NAMES[k] for k in ex.refs(answer)))
        symbols = {NAMES[k]: sym(k) for k in ex.refs(answer)}
        legend = [rf"${symbols[v]}$" for v in variables]  # a paper prompt names symbols; typed names are in `formula`
        legend = ", ".join(legend[:-1]) + " and " + legend[-1] if len(legend) > 1 else legend[0]
        parts.append(Part(
            id=f"derive.{name}", kind="expression", points=2, section="Derivation for one data point",
            prompt=rf"Use the chain rule to find $\displaystyle {sym(g)}$ for one data point. Write it in terms of "
                   f"{legend}.",
            answer=typed(answer), answer_tex=ex.latex(answer, sym), box_cm=2.6, formula=FormulaSpec(tuple(variables)),
            worked=(rf"{sym(g)} = {ex.latex(chain, sym)} = {ex.latex(local, sym)}",)))
    return parts


def _numbers(net: Network, t: Trace, nt: Notation, places: int) -> list[Part]:
    """Forward pass, loss, the four gradients over the data and one step with α."""
    n = len(net.data)
    points = [None] if n == 1 else list(range(1, n + 1))
    parts: list[Part] = []

    def sym(key: str) -> str:
        return t.symbol(key, nt)

    def add(id: str, prompt: str, keys: list[str], section: str, worked: list[str] | None = None, **kw: Any) -> None:
        parts.append(number_part(t, nt, id=id, prompt=prompt, keys=keys, places=places, section=section,
                                 worked=worked, **kw))

    fwd = "Forward pass"
    for p in points:
        keys = [at("z1[1]", p), at("a1[1]", p), at("yhat[1]", p)]
        where = "" if p is None else f" for the data point $({sym(at('x[1]', p))}, {sym(at('y[1]', p))})$"
        add(f"forward@{p or 1}", f"Compute ${sym(keys[0])}$, ${sym(keys[1])}$ and ${sym(keys[2])}${where}.", keys, fwd,
            forward_lines(net, t, nt, p, places), points=2)
    lines = [loss_line(net, t, nt, p, places, key="J" if p is None else "loss") for p in points]
    add("objective", f"What is the mean squared error ${sym('J')}$ on the data?", ["J"], fwd,
        lines if n == 1 else [*lines, t.explain("J", nt, places)])

    grads = "Gradients on the data"
    for name, w in PARAMETERS.items():
        g = dense.grad_key(*_place(w))
        per_point = [g] if n == 1 else [f"dl_d{w}@{p}" for p in points]
        shown = {at("dl_dyhat[1]", p): loss_derivative(net.loss, at("y[1]", p), at("yhat[1]", p)) for p in points}
        lines = [t.explain(k, nt, places, formula=through(t, t.quantity(k).expr, set(), shown))
                 for k in per_point]
        add(f"grad.{name}", rf"What is $\displaystyle {sym(g)}$ for these data?", [g], grads,
            lines if n == 1 else [*lines, t.explain(g, nt, places)])

    step = "Gradient-descent step"
    alpha = numeric.decimal_str(net.learning_rate)
    for name, w in PARAMETERS.items():
        add(f"update.{name}", f"What is ${sym(w)}$ after one gradient-descent step with ${nt.lr} = {alpha}$?",
            [w + "_new"], step)
    return parts


def _half_loss(nt: Notation) -> Part:
    """Why the update is "twice" the one of the ½-loss (the remark that ends seed 004)."""
    a2, z2, lr = nt.symbol(Sym("a", 2, (1,))), nt.symbol(Sym("z", 2, (1,))), nt.lr
    y, d, loss, objective = (nt.symbol(Sym("y", None, (1,))), nt.d, nt.symbol(Sym("loss")),
                             nt.symbol(Sym("objective")))
    model = (rf"Differentiating the square gives the factor 2: ${d} ({y} - {a2})^2/{d} {a2} = 2({a2} - {y})$, "
             rf"while ${d}\,\tfrac12 ({y} - {a2})^2/{d} {a2} = {a2} - {y}$. The output is linear, so "
             rf"${d} {a2}/{d} {z2} = 1$ and every other factor of the chain is the same for both losses: "
             rf"all four gradients, and so the step $-{lr}\,\nabla {objective}$, are exactly twice those of the "
             rf"$\tfrac12$-loss. (The notes compare with classification: a sigmoid output with cross-entropy also has "
             rf"${d} {loss}/{d} {z2} = {a2} - {y}$, so the regression step is twice that one too.) The minimiser "
             rf"does not change: the factor 2 only rescales the step size; the $\tfrac12$-loss with $2{lr}$ takes "
             "the same step.")
    items = rubric((1, r"the factor 2 comes from the derivative of the square (the $\tfrac12$ cancels it)"),
                   (1, "with a linear output the rest of the chain is unchanged, so every gradient and update doubles"),
                   (1, rf"it is only a rescaling of ${lr}$ (same minimiser)"))
    return Part(id="half-loss", kind="text", points=3, section="Concepts", answer="", answer_tex="", box_cm=4.5,
                prompt=(rf"Many texts use $\tfrac12 ({y} - {a2})^2$ instead of $({y} - {a2})^2$. Lecture notes on "
                        "this network remark that, with a linear output, the update is ``twice as much''. Explain: "
                        "where does the factor 2 come from, and what does it change?"),
                model=model, rubric=items)


def _output(nt: Notation) -> str:
    """ŷ = a₂ = z₂ (the linear output), leaving out what the notation writes as one symbol; ŷ only if not renamed."""
    a2, z2 = nt.symbol(Sym("a", 2, (1,))), nt.symbol(Sym("z", 2, (1,)))
    names = [r"\hat{y}"] if "out_post" not in nt.overridden else []
    names += [a2] + ([z2] if z2 != a2 else [])
    names = list(dict.fromkeys(names))
    return " = ".join(names) if len(names) > 1 else ""


def _statement(net: Network, nt: Notation) -> dict[str, Any]:
    """The LaTeX pieces of the statement."""
    def s(name: str, layer: int | None = None, point: int | None = None) -> str:
        index = {"W": (1, 1), "b": (1,), "z": (1,), "a": (1,), "x": (1,), "y": (1,)}[name]
        return nt.symbol(Sym(name, layer, index, point))

    n = len(net.data)
    hidden, out = net.layers
    w = nt.weight  # a generic parameter in the update rule
    params = [(s("W", 1), hidden.W[0][0]), (s("b", 1), hidden.b[0]), (s("W", 2), out.W[0][0]), (s("b", 2), out.b[0])]
    return {
        "rules": [rf"{s('z', 1)} = {s('W', 1)}\,{s('x')} + {s('b', 1)}", rf"{s('a', 1)} = \sigma({s('z', 1)})",
                  rf"{s('z', 2)} = {s('W', 2)}\,{s('a', 1)} + {s('b', 2)}"],
        "output": _output(nt),
        "indices": ", ".join(str(i) for i in range(1, n + 1)),
        "mse": rf"{nt.objective} = \frac{{1}}{{n}} \sum_{{i=1}}^{{n}} \left({s('y', point='i')} - "
               rf"{s('a', 2, point='i')}\right)^2",
        "one_point": rf"{nt.objective} = \left({s('y')} - {s('a', 2)}\right)^2",
        "n": n,
        "x": s("x"), "y": s("y"),
        "data": [(numeric.decimal_str(p.x[0]), numeric.decimal_str(p.y[0])) for p in net.data],
        "data_symbols": (s("x", point="i"), s("y", point="i")),
        "parameters": ", \\quad ".join(f"{k} = {numeric.decimal_str(v)}" for k, v in params),
        "lr_symbol": nt.lr, "lr": numeric.decimal_str(net.learning_rate),
        "step_rule": rf"{w} \leftarrow {w} - {nt.lr}\,\frac{{{nt.d} {nt.objective}}}{{{nt.d} {w}}}",
    }


FAMILY = RegressionMlp()
