"""Family `batch-gd`: one step of batch gradient descent on a small data set (seed 002).

A network with one hidden layer (by default one ReLU unit) and a linear output, θ = (w₀, …, w₄),
per-example loss (ŷ − y)², L(D) the mean over 2–4 points: forward pass and loss of every point,
L(D), the δ terms and ∂L/∂wᵢ through them, the per-example gradients and ∇θL(D), θ after one
step with η, L(D) again with the new θ (does it go down?), and what η controls.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

import numpy as np

from qgen import expr as ex
from qgen import numeric
from qgen.errors import BankError
from qgen.families.base import Handover, Part, Question, number_part, rubric
from qgen.families.domain import Words, draw, draw_fair
from qgen.families.rules import DEFAULT, MIN_MISS, Rules, problem, saturated
from qgen.families.worked import forward_lines, loss_derivative, loss_line, through
from qgen.nn import dense, iterations, optim, optim_parts
from qgen.nn.network import Network
from qgen.notation import Notation, Sym
from qgen.render.latex import escape_text
from qgen.trace import Trace

MAX_POINTS = 6
SATURATION = 4  # |z| beyond which σ′ and tanh′ are nearly 0
MAX_MISS = 4  # largest |ŷ − y| of a point: keeps the numbers workable by hand
HIDDEN_ACTIVATIONS = ("relu", "sigmoid", "tanh")
ACTIVATION_NAMES = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": r"$\tanh$"}
FLOAT_ACTIVATIONS = {"relu": lambda z: np.maximum(z, 0), "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh}
AFTER = "_new"  # suffix of the quantities of the network with the updated parameters


class BatchGd:
    """See the module docstring."""

    name = "batch-gd"
    summary = ("Batch gradient descent on 2-4 points: forward pass and loss per point, L(D), delta terms, "
               "per-example and mean gradients, theta after one step, the loss again, what eta does (seed 002).")
    template = "families/batch-gd.tex.j2"
    default_domain: dict[str, Any] = {
        "points": [2, 3, 4],
        "inputs": [2],
        "hidden": [1],
        "x": [-3, -2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2, 3],
        "y": [-0.6, 0.4, 0.7, 1.1, 1.3, 1.6, 1.9, 2.2, 2.7],
        "weights": {"integers": [-2, 2], "exclude": [0]},
        "biases": {"integers": [-1, 1]},
        "hidden_activation": Words(["relu"], list(HIDDEN_ACTIVATIONS)),
        "dead_unit": Words(["required"], ["required", "optional", "forbidden"]),
        "learning_rate": [0.01, 0.05, 0.1],
        **{k: (Words(v, list(optim.OPTIMIZERS)) if k == "optimizer" else v) for k, v in optim.DOMAIN.items()},
    }
    calculator_needed = "its data and learning rates are decimals by design (seed 002)"
    shared = ("points", "inputs", "hidden", "hidden_activation", "dead_unit", *optim.DOMAIN)  # drawn once per exam
    domain_limits = {"points": (2, MAX_POINTS), "inputs": (1, 4), "hidden": (1, 4)}
    constraints = ("no_saturation", "relu_not_at_kink", "dead_relu", "moderate_values", "well_posed",
                   "loss_decreases", "target_not_reached")

    # -- sampling ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, domain: Mapping[str, Any], rules: Rules = DEFAULT) -> dict[str, Any]:
        """Draw parameters until the instance is a fair question (see `problems`)."""
        dead_unit = draw(rng, domain["dead_unit"], "domain.dead_unit")
        n = draw(rng, domain["points"], "domain.points")  # drawn once: rejections must not favour a size
        if not isinstance(n, int) or not 2 <= n <= MAX_POINTS:
            raise BankError(f"domain.points: batch-gd takes 2 to {MAX_POINTS} data points, got {n!r}")

        def attempt() -> tuple[dict[str, Any], list[str]]:
            params = self._draw(rng, domain, n)
            return params, self.problems(params, dead_unit, rules=rules)

        return draw_fair(self.name, attempt, "x, weights, learning_rate", rules=rules)

    def _draw(self, rng: np.random.Generator, d: Mapping[str, Any], n: int) -> dict[str, Any]:
        n_in = draw(rng, d["inputs"], "domain.inputs")
        h = draw(rng, d["hidden"], "domain.hidden")
        layers = [
            {"W": [draw(rng, d["weights"], "domain.weights", n_in) for _ in range(h)],
             "b": draw(rng, d["biases"], "domain.biases", h),
             "activation": draw(rng, d["hidden_activation"], "domain.hidden_activation")},
            {"W": [draw(rng, d["weights"], "domain.weights", h)], "b": draw(rng, d["biases"], "domain.biases", 1),
             "activation": "linear"},
        ]
        data = [{"x": draw(rng, d["x"], "domain.x", n_in), "y": [draw(rng, d["y"], "domain.y")]} for _ in range(n)]
        return {"network": {"layers": layers, "loss": "squared_error", "reduction": "mean", "data": data,
                            "learning_rate": draw(rng, d["learning_rate"], "domain.learning_rate"),
                            **optim.from_domain(rng, d)}}

    def problems(self, params: Mapping[str, Any], dead_unit: str = "optional", places: int = 4,
                 rules: Rules = DEFAULT) -> list[str]:
        """The fairness constraints an instance breaks, as `constraint: detail` (empty: a good question).

        dead_unit: required (some point switches a ReLU unit off, z < 0, as seed 002 does on
        purpose), forbidden (no point does) or optional.
        """
        net = _network(params)
        out = rules.keep(_forward_problems(net, dead_unit))
        if out or not rules.on("loss_decreases"):  # cheap float checks first: most rejected draws never need a Trace
            return out
        t = step_trace(net)
        _CHECKED.keep(net, t)
        drop = numeric.to_float(numeric.sub(t[iterations.objective_key(net)], t[after_key(net)]))
        if drop <= 0:
            out.append(problem("loss_decreases", "the loss does not go down after the step"))
        elif drop < 0.5 * 10 ** -places:
            out.append(problem("loss_decreases", f"the loss goes down by less than {places} decimals show"))
        return out

    # -- building ------------------------------------------------------------------------
    def build(self, params: Mapping[str, Any], notation: Notation, places: int) -> Question:
        """The question for fixed parameters (sampled, or pinned by a bank or --params)."""
        net = _network(params)
        note = params.get("note", "")
        if not isinstance(note, str):
            raise BankError(f"params.note: expected text for the key, got {note!r}")
        t = _CHECKED.take(net)
        t = step_trace(net) if t is None else t  # the sampler's check of this draw built it already
        nt = notation.for_network(net.widths).distinct_objective()  # ℓ⁽ⁱ⁾ per point, L over the data set
        stored: dict[str, Any] = {"network": net.to_mapping()}
        if note:
            stored["note"] = note
        context = _statement(net, nt)
        context["note"] = escape_text(note)
        context["optimiser"] = optim_parts.statement(net, nt)
        solution = dense.solution(net, t)
        solution["objective_after"] = numeric.to_float(t[after_key(net)])
        return Question(self.name, "Batch gradient descent on a small data set", stored, t, nt,
                        _parts(net, t, nt, places), self.template, context, solution)


_CHECKED = Handover()  # the step Trace `problems` built for the draw it accepted last


def _network(params: Any) -> Network:
    """The pinned network, checked to be the family's shape: one hidden layer, one linear output."""
    if not isinstance(params, Mapping) or "network" not in params:
        raise BankError("params: expected a mapping with a 'network' (the canonical network form)")
    unknown = sorted(set(params) - {"network", "note"})
    if unknown:
        raise BankError(f"params: unknown key(s) {', '.join(unknown)}; batch-gd takes network and note")
    net = Network.from_mapping(params["network"], "params.network")
    if len(net.layers) != 2:
        raise BankError(f"params.network.layers: batch-gd needs one hidden layer and an output layer, "
                        f"got {len(net.layers)} layers")
    hidden, out = net.layers
    if hidden.activation not in HIDDEN_ACTIVATIONS:
        raise BankError(f"params.network.layers[0].activation: {hidden.activation!r} is not one of "
                        f"{', '.join(HIDDEN_ACTIVATIONS)}")
    if out.n_out != 1 or out.activation != "linear":
        raise BankError("params.network.layers[1]: batch-gd needs one output unit with a linear activation")
    if net.loss not in ("squared_error", "half_squared_error"):
        raise BankError(f"params.network.loss: batch-gd uses a squared error, not {net.loss}")
    if not 2 <= len(net.data) <= MAX_POINTS:
        raise BankError(f"params.network.data: batch-gd needs 2 to {MAX_POINTS} data points, got {len(net.data)}")
    return net


def _forward_problems(net: Network, dead_unit: str) -> list[str]:
    """Checks on the hidden pre-activations of every point (floats)."""
    hidden = net.layers[0]
    W = np.array([[float(v) for v in row] for row in hidden.W])
    b = np.array([float(v) for v in hidden.b])
    X = np.array([[float(v) for v in p.x] for p in net.data])
    Z = X @ W.T + b  # (points, hidden units)
    out: list[str] = []
    if len({p.x for p in net.data}) < len(net.data):
        out.append(problem("well_posed", "two data points have the same input"))
    if np.any(np.all(Z <= 0, axis=0)):
        out.append(problem("dead_relu", "a hidden unit is not active (z > 0) at any point"))
    if hidden.activation == "relu":
        if np.any(np.abs(Z) < 1e-9):
            out.append(problem("relu_not_at_kink", "a ReLU input is exactly 0"))
        if dead_unit == "required" and not np.any(Z < 0):
            out.append(problem("dead_relu", "no point switches the ReLU unit off (z < 0), the domain wants one"))
        if dead_unit == "forbidden" and np.any(Z < 0):
            out.append(problem("dead_relu", "a point switches the ReLU unit off (z < 0)"))
    elif any(saturated(hidden.activation, float(z)) for z in Z.flat):
        out.append(problem("no_saturation", f"a {hidden.activation} input where its derivative is nearly 0"))
    H = FLOAT_ACTIVATIONS[hidden.activation](Z)
    out_layer = net.layers[1]
    yhat = H @ np.array([float(v) for v in out_layer.W[0]]) + float(out_layer.b[0])
    if np.any(np.abs(yhat - np.array([float(p.y[0]) for p in net.data])) > MAX_MISS):
        out.append(problem("moderate_values", f"a prediction misses its target by more than {MAX_MISS}"))
    if np.any(np.abs(yhat - np.array([float(p.y[0]) for p in net.data])) < MIN_MISS):
        out.append(problem("target_not_reached", f"a prediction is within {MIN_MISS} of its target"))
    return out


# -- the Trace ------------------------------------------------------------------------------
def theta_keys(net: Network) -> list[str]:
    """The parameters in θ's order: layer by layer, each unit's input weights then its bias."""
    return [dense.w_key(l, i, j) for l, layer in enumerate(net.layers, start=1)
            for i in range(1, layer.n_out + 1) for j in [*range(1, layer.n_in + 1), 0]]


def updated_network(net: Network, t: Trace) -> Network:
    """The same network with θ′ (exact) in place of θ: dense.solution's `updated`, without float rounding."""
    layers = tuple(replace(layer,
                           W=tuple(tuple(t[dense.w_key(l, i, j) + AFTER] for j in range(1, layer.n_in + 1))
                                   for i in range(1, layer.n_out + 1)),
                           b=tuple(t[dense.w_key(l, i, 0) + AFTER] for i in range(1, layer.n_out + 1)))
                   for l, layer in enumerate(net.layers, start=1))
    return replace(net, layers=layers)


def after_key(net: Network) -> str:
    """The key of the objective at the parameters after all steps (J_new for one plain step)."""
    return iterations.objective_key(net, net.steps)


def step_trace(net: Network) -> Trace:
    """dense.build, plus the forward pass and L(D) at the parameters after every step (keys `…_new@p`,
    `J_new`; qgen.nn.iterations), as formulas over the updated parameters, so error-carried-forward
    reaches them too."""
    t = dense.build(net)
    iterations.objective_after(net, t)
    return t


# -- statement and parts -----------------------------------------------------------------------
def _pointless(s: Sym) -> Sym:
    """The same quantity for a generic point (the statement's formulas)."""
    return replace(s, point=None, of=s.of and _pointless(s.of), wrt=s.wrt and _pointless(s.wrt))


def _statement(net: Network, nt: Notation) -> dict[str, Any]:
    """The LaTeX pieces of the statement: data set, network, θ, losses, η."""
    hidden = net.layers[0]
    sym = nt.symbol

    def rule(l: int, i: int) -> str:
        layer = net.layers[l - 1]
        inputs = [sym(Sym("x", None, (j,))) if l == 1 else sym(Sym("a", 1, (j,))) for j in range(1, layer.n_in + 1)]
        terms = [f"{sym(Sym('W', l, (i, j)))} {a}" for j, a in enumerate(inputs, start=1)]
        return " + ".join(terms + [sym(Sym("b", l, (i,)))])

    act = {"relu": r"\operatorname{ReLU}", "sigmoid": r"\sigma", "tanh": r"\tanh"}[hidden.activation]
    units = [rf"{sym(Sym('z', 1, (i,)))} = {rule(1, i)}, \quad "
             rf"{sym(Sym('a', 1, (i,)))} = {act}\left({sym(Sym('z', 1, (i,)))}\right)"
             for i in range(1, hidden.n_out + 1)]
    values = [v for layer in net.layers for row, bias in zip(layer.W, layer.b) for v in (*row, bias)]
    generic = "i"  # the statement's formulas are written for a generic point i
    loss_i, yhat_i, y_i = (sym(Sym("loss", point=generic)), sym(Sym("a", 2, (1,), generic)),
                           sym(Sym("y", None, (1,), generic)))
    half = r"\tfrac{1}{2}" if net.loss == "half_squared_error" else ""
    n = len(net.data)
    mean = rf"\frac{{1}}{{{n}}}" if net.reduction == "mean" else ""
    features = [sym(Sym("x", None, (j,))) for j in range(1, hidden.n_in + 1)]
    return {
        "points": [{"x": nt.point_input(p), "y": sym(Sym("y", None, (1,), p)),
                    "x_value": "(" + ",\\ ".join(numeric.decimal_str(v) for v in pt.x) + ")",
                    "y_value": numeric.decimal_str(pt.y[0])} for p, pt in enumerate(net.data, start=1)],
        "n": n,
        "features": ", ".join(features),
        "hidden_units": hidden.n_out,
        "activation": ACTIVATION_NAMES[hidden.activation],
        "units": units,
        "output": rf"{sym(Sym('a', 2, (1,)))} = {rule(2, 1)}",
        "theta": "(" + ", ".join(theta_symbols(nt, net)) + ")",
        "theta_values": "(" + ", ".join(numeric.decimal_str(v) for v in values) + ")",
        "loss": rf"{loss_i} = {half}\left({yhat_i} - {y_i}\right)^2",
        "objective": rf"{sym(Sym('objective'))} = {mean}\sum_{{{generic}=1}}^{{{n}}} {loss_i}",
        "reduction": net.reduction,
        "J": sym(Sym("objective")),
        # how a quantity of one data point is written, shown once: α^{1;(i)}_1 is α^1_1 for x^{(i)}
        "point_note": rf"${sym(Sym('z', 1, (1,), generic))}$ is ${sym(Sym('z', 1, (1,)))}$ computed for "
                      rf"${nt.point_input(generic)}$ (and so on for the other quantities)",
        "lr_symbol": nt.lr,
        "lr": numeric.decimal_str(net.learning_rate),
    }


def theta_symbols(nt: Notation, net: Network) -> list[str]:
    """w₀, …, w₄ (or the notation's own names of the parameters), in θ's order."""
    out = []
    for key in theta_keys(net):
        name, _, idx = key.partition("[")
        out.append(nt.symbol(Sym(name[0], int(name[1:]), tuple(int(v) for v in idx.rstrip("]").split(",")))))
    return out


def _parts(net: Network, t: Trace, nt: Notation, places: int) -> list[Part]:
    n, hidden, theta = len(net.data), net.layers[0], theta_keys(net)
    units = range(1, hidden.n_out + 1)
    parts: list[Part] = []

    def sym(key: str) -> str:
        return t.symbol(key, nt)

    def add(id: str, prompt: str, keys: list[str], section: str, worked: list[str] | None = None, **kw: Any) -> None:
        parts.append(number_part(t, nt, id=id, prompt=prompt, keys=keys, places=places, section=section,
                                 worked=worked, **kw))

    def listed(keys: list[str]) -> str:
        return ", ".join(f"${sym(k)}$" for k in keys[:-1]) + f" and ${sym(keys[-1])}$"

    fwd = "Forward pass and loss"
    for p in range(1, n + 1):
        keys = [k for i in units for k in (dense.z_key(1, i, p), dense.a_key(1, i, 2, p))] + [f"yhat[1]@{p}"]
        add(f"forward@{p}", f"Forward pass for ${nt.point_input(p)}$: compute {listed(keys)}.", keys, fwd,
            forward_lines(net, t, nt, p, places), points=2)
    for p in range(1, n + 1):
        add(f"loss@{p}", f"What is the loss ${sym(f'loss@{p}')}$ of the point ${nt.point_input(p)}$?", [f"loss@{p}"],
            fwd, [loss_line(net, t, nt, p, places)])
    add("objective", f"What is the loss ${sym('J')}$ on the whole data set?", ["J"], fwd)

    back = "Backpropagation"
    deltas = {p: [f"dl_dyhat[1]@{p}"] + [f"dl_dz1[{i}]@{p}" for i in units] for p in range(1, n + 1)}
    parts.append(_derivation(net, t, nt, theta, deltas[1]))
    for p in range(1, n + 1):
        shown = {f"dl_dyhat[1]@{p}": loss_derivative(net.loss, dense.y_key(1, p), f"yhat[1]@{p}")}
        lines = [t.explain(deltas[p][0], nt, places, formula=shown[deltas[p][0]])]
        lines += [t.explain(k, nt, places, formula=through(t, t.quantity(k).expr, {deltas[p][0]}, shown))
                  for k in deltas[p][1:]]
        add(f"delta@{p}", f"For the point ${nt.point_input(p)}$, compute {listed(deltas[p])}.", deltas[p], back, lines,
            points=2)
    for p in range(1, n + 1):
        keys = [f"dl_d{w}@{p}" for w in theta]
        lines = [t.explain(k, nt, places, formula=through(t, t.quantity(k).expr, set(deltas[p]))) for k in keys]
        add(f"grad@{p}", rf"What is the per-example gradient $\nabla_{{\theta}} {sym(f'loss@{p}')}$?", keys, back,
            lines, points=2)
    add("grad", rf"What is the gradient over the data set, $\nabla_{{\theta}} {sym('J')}$?",
        [f"dJ_d{w}" for w in theta], back, points=2)

    step = "Gradient-descent step"
    lr = numeric.decimal_str(net.learning_rate)
    before_key, final = iterations.objective_key(net), after_key(net)
    suffix = iterations.SUFFIXES[net.steps]
    if not net.plain:
        parts.extend(optim_parts.every_step(net, t, nt, places, theta))
    else:
        add("update", rf"What is $\theta' = \theta - {nt.lr}\,\nabla_{{\theta}} {sym('J')}$ after one step with "
            rf"${nt.lr} = {lr}$?", [w + AFTER for w in theta], step, points=2)
    lines = [line for p in range(1, n + 1) for line in
             (*forward_lines(net, t, nt, p, places, suffix), loss_line(net, t, nt, p, places, suffix))]
    lines += [t.explain(k + suffix, nt, places) for k in ("J", "penalty", "Jreg") if k + suffix in t]
    theta_after = r"\theta'" if net.steps == 1 else r"\theta''"
    add("objective-after", rf"Compute the loss on the data set again with the updated parameters ${theta_after}$, "
        rf"${sym(final)}$.", [final], step, lines, points=2)
    before, after = t[before_key], t[final]
    label, relation = ("yes", "<") if numeric.compare(after, before) < 0 else ("no", r"\ge")
    parts.append(Part(id="decreased", prompt="Did the step lower the loss on the data set? Answer yes or no.",
                      kind="label", points=1, answer=label, answer_tex=rf"\text{{{label}}}", section=step,
                      box_cm=1.0, decide={"left": final, "op": "<", "right": before_key, "labels": ["yes", "no"]},
                      worked=(rf"{sym(final)} \approx {numeric.decimal_str(after, places)} "
                              rf"{relation} {numeric.decimal_str(before, places)} = {sym(before_key)}",)))
    parts.append(_step_size(nt, t, places, before_key, final))
    return parts


def _derivation(net: Network, t: Trace, nt: Notation, theta: list[str], deltas: list[str]) -> Part:
    """∂L/∂wᵢ for every parameter through δ_ŷ and δ_h (symbolic; graded by hand)."""
    def generic(k: str) -> str:
        return nt.symbol(_pointless(t.quantity(k).sym))

    plain = replace(nt, delta="")
    defs = [rf"{generic(k)} = {plain.symbol(_pointless(t.quantity(k).sym))}" for k in deltas]
    named = ", ".join(f"${d}$" for d in defs) if nt.delta else "the derivatives of the loss by the units"
    shown = {deltas[0]: loss_derivative(net.loss, "y[1]@1", "yhat[1]@1")}
    lines = [rf"{generic(deltas[0])} = {ex.latex(shown[deltas[0]], generic)}"]
    lines += [rf"{generic(k)} = {ex.latex(through(t, t.quantity(k).expr, {deltas[0]}, shown), generic)}"
              for k in deltas[1:]]
    lines += [rf"{generic(f'dl_d{w}@1')} = {ex.latex(through(t, t.quantity(f'dl_d{w}@1').expr, set(deltas)), generic)}"
              for w in theta]
    model = r"\\ ".join(f"${line}$" for line in lines)
    return Part(id="derive", prompt=rf"For one example $(\boldsymbol{{{nt.input}}}, {nt.target})$, write "
                f"the derivative of its loss by every parameter of $\\theta$ through {named}.", kind="text", points=2,
                answer="", answer_tex="", section="Backpropagation", box_cm=4.5,
                model=model,
                rubric=rubric((1, "the derivatives of the loss by the output and by the hidden pre-activations (the "
                                  rf"hidden one through the output weight and $g'({nt.pre})$)"),
                              (1, r"the local factors: an input feature (or 1 for a bias) in the first layer, the "
                                  r"hidden output (or 1) in the second")))


def _step_size(nt: Notation, t: Trace, places: int, first: str = "J", last: str = "J" + AFTER) -> Part:
    """What η controls (seed 002, answer 7), with this instance's numbers."""
    eta, J = nt.lr, nt.symbol(Sym("objective"))
    before, after = (numeric.decimal_str(t[k], places) for k in (first, last))
    model = (rf"${eta}$ sets the size of the step against the gradient, $\theta' = \theta - {eta}\,\nabla_\theta {J}$: "
             rf"how much $\theta$ changes in one update (here ${J}$ went from ${before}$ to ${after}$). A larger "
             rf"${eta}$ moves faster towards a minimum, but too large a step overshoots it: the loss can grow, "
             rf"oscillate or diverge. Too small a step size ${eta}$ makes learning slow. A relatively large ${eta}$ in the "
             "first iterations and a smaller one towards the end (a decaying schedule) often works well.")
    items = rubric((1, rf"${eta}$ scales the update (the step along $-\nabla_\theta {J}$)"),
                   (1, "the trade-off: too large overshoots or diverges, too small converges slowly"))
    return Part(id="step-size", prompt=rf"What does the step size ${eta}$ control? What happens when it is too large "
                "or too small?", kind="text", points=2, answer="", answer_tex="", section="Step size", box_cm=4.0,
                model=model, rubric=items)


FAMILY = BatchGd()
