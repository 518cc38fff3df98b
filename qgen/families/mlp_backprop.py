"""Family `mlp-backprop`: the network exercise of seeds 000 and 001 §3.

A small dense network with one output, given weights and one data point: draw it, shapes,
forward pass, class, loss, the chain-rule factors of two weights (one in the last layer, one
in the first), both derivatives and updated weights, parameter counts, a conceptual question.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Mapping

import numpy as np

from qgen import expr as ex
from qgen import numeric
from qgen.errors import BankError, FamilyError
from qgen.families import calculator, concepts
from qgen.families.base import (
    Handover,
    Part,
    Question,
    matrix_tex,
    number_part,
    rubric,
    vector_tex,
)
from qgen.families.domain import Patterns, Words, draw, draw_fair, matching
from qgen.families.rules import (
    DEFAULT,
    MIN_MISS,
    Rules,
    problem,
    saturated,
    significant,
)
from qgen.nn import dense, iterations, optim, optim_parts
from qgen.nn import functions as fn
from qgen.nn.network import ACTIVATIONS, LOSSES, Network
from qgen.notation import Notation
from qgen.render.tikz import draw_network

ACTIVATION_NAMES = {"sigmoid": "sigmoid", "tanh": r"$\tanh$", "relu": "ReLU", "leaky_relu": "leaky ReLU",
                    "linear": "linear (identity)"}
SATURATION = 4  # |z| beyond which σ′ is nearly 0 (each activation's limit: rules.SATURATION_LIMITS)
THRESHOLD_MARGIN = 0.05


class MlpBackprop:
    """See the module docstring."""

    name = "mlp-backprop"
    summary = ("Dense network, one data point: draw it, shapes, forward pass, class, loss, chain-rule factors "
               "and derivatives of two weights, updated weights, parameter counts (seeds 000, 001 §3).")
    template = "families/mlp-backprop.tex.j2"
    default_domain: dict[str, Any] = {
        "inputs": [2],
        "hidden": [2, 3],  # width of each hidden layer
        "hidden_layers": [1],
        "x": {"integers": [-3, 5], "exclude": [0]},
        "y": [0, 1],
        "weights": {"integers": [-4, 4], "exclude": [0]},
        "biases": {"integers": [-3, 3]},
        "hidden_activation": Words(["sigmoid", "relu", "tanh"], list(ACTIVATIONS)),
        "output_activation": Words(["sigmoid"], list(ACTIVATIONS)),
        "loss": Words(list(LOSSES), list(LOSSES)),
        "learning_rate": [0.1, 0.5, 1, 2],
        "dead_units": [0],  # hidden ReLU units switched off (z < 0); seed 001 §3 has one on purpose
        "asked": Patterns(["Wlast[*]", "W1[*]"]),  # one asked weight per pattern
        "concept": Words(list(concepts.MLP), list(concepts.MLP)),
        **{k: (Words(v, list(optim.OPTIMIZERS)) if k == "optimizer" else v) for k, v in optim.DOMAIN.items()},
    }
    # drawn once per exam: versions differ in their numbers, not in their shape or functions
    shared = ("inputs", "hidden", "hidden_layers", "hidden_activation", "output_activation", "loss", "concept",
              *optim.DOMAIN)
    domain_limits = {"inputs": (1, 4), "hidden": (1, 4), "hidden_layers": (1, 3), "dead_units": (0, 4)}
    # without a calculator: integer ReLU units, σ at the table's integers, and the cross-entropy, whose
    # δ = ŷ − y has 2 decimals (a squared error would square them: (1 − 0.73)² = 0.0729)
    calculator_free = True
    no_calculator_domain: dict[str, Any] = {
        "x": {"integers": [-2, 2], "exclude": [0]},
        "weights": {"integers": [-2, 2], "exclude": [0]},
        "biases": {"integers": [-1, 1]},
        "hidden_activation": Words(["relu"], list(ACTIVATIONS)),
        "output_activation": Words(["sigmoid"], list(ACTIVATIONS)),
        "loss": Words(["binary_cross_entropy"], list(LOSSES)),
        "learning_rate": [0.1, 0.5, 1],
    }
    constraints = ("no_saturation", "relu_not_at_kink", "dead_relu", "threshold_margin", "nonzero_derivatives",
                   "target_not_reached", "significant_answers")

    # -- sampling ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, domain: Mapping[str, Any], rules: Rules = DEFAULT) -> dict[str, Any]:
        """Draw parameters until the instance is a fair question (see `problems`)."""
        dead = draw(rng, domain["dead_units"], "domain.dead_units")  # drawn once: rejections must not favour one

        def attempt() -> tuple[dict[str, Any] | None, list[str]]:
            params = self._draw(rng, domain, rules, alive=dead == 0)
            if isinstance(params, str):
                return None, [params]
            if not rules.calculator:
                params["calculator"] = False
            return params, self.problems(params, rules=rules, dead_units=dead)

        return draw_fair(self.name, attempt, "weights, x, biases", rules=rules)

    def fingerprint(self, params: Mapping[str, Any]) -> Any:
        """What two versions must not share: the network's numbers (not which weights are asked)."""
        return params["network"]

    def _draw(self, rng: np.random.Generator, d: Mapping[str, Any], rules: Rules = DEFAULT,
              alive: bool = False) -> dict[str, Any] | str:
        n_in = draw(rng, d["inputs"], "domain.inputs")
        depth = draw(rng, d["hidden_layers"], "domain.hidden_layers")
        widths = [n_in] + [draw(rng, d["hidden"], "domain.hidden") for _ in range(depth)] + [1]
        out_act = draw(rng, d["output_activation"], "domain.output_activation")
        losses = [v for v in d["loss"] if v != "binary_cross_entropy" or out_act == "sigmoid"]
        hidden_act = draw(rng, d["hidden_activation"], "domain.hidden_activation")
        x = draw(rng, d["x"], "domain.x", n_in)
        a = [float(numeric.exact(v)) for v in x]
        layers = []
        for l, (n, m) in enumerate(zip(widths, widths[1:]), start=1):
            act = out_act if l == len(widths) - 1 else hidden_act
            hidden = l < len(widths) - 1
            units = [_unit(rng, d, a, act, rules, alive and hidden) for _ in range(m)]
            layers.append({"W": [w for w, _, _ in units], "b": [b for _, b, _ in units], "activation": act})
            a = [float(_FLOAT_ACTIVATIONS[act](np.array(z), 0.01)) for _, _, z in units]  # slope: sign only matters
        network = {"layers": layers, "loss": draw(rng, losses or ["squared_error"], "domain.loss"), "reduction": "mean",
                   "data": [{"x": x, "y": [draw(rng, d["y"], "domain.y")]}],
                   "learning_rate": draw(rng, d["learning_rate"], "domain.learning_rate"),
                   **optim.from_domain(rng, d)}
        keys = [dense.w_key(l, i, j) for l in range(1, len(widths)) for i in range(1, widths[l] + 1)
                for j in range(widths[l - 1] + 1)]
        asked: list[str] = []
        for pattern in d["asked"]:
            pool = [k for k in matching(pattern, keys, len(widths) - 1) if k not in asked]
            if not pool:
                return f"domain.asked: {pattern!r} names no weight (left) of a network with widths {widths}"
            asked.append(pool[int(rng.integers(len(pool)))])
        return {"network": network, "asked": asked, "concept": draw(rng, d["concept"], "domain.concept")}

    def problems(self, params: Mapping[str, Any], places: int = 4, rules: Rules = DEFAULT,
                 dead_units: int | None = None) -> list[str]:
        """The fairness constraints an instance breaks, as `constraint: detail` (empty: a good question).

        dead_units: how many hidden ReLU units must be off (None: any number may be).
        """
        net = Network.from_mapping(params["network"], "params.network")
        out = rules.keep(_forward_problems(net, dead_units))
        if out:  # cheap float checks first: most rejected draws never need a Trace
            return out
        table = calculator.table_for(params)
        if rules.on("nonzero_derivatives") or rules.on("significant_answers") or table is not None:
            t = dense.build(net, table)
            _CHECKED.keep((net, table), t)
            for w in params["asked"] if rules.on("nonzero_derivatives") else ():
                if abs(numeric.to_float(t[f"dJ_d{w}"])) < 0.5 * 10 ** -places:
                    out.append(problem("nonzero_derivatives", f"dJ/d{w} is 0 at {places} decimals"))
                for k in range(net.steps):  # an optimiser step needs a gradient (Adam's would be 0/ε)
                    if abs(numeric.to_float(t[iterations.gradient_key(net, w, k)])) < 0.5 * 10 ** -places:
                        out.append(problem("nonzero_derivatives", f"the gradient by {w} in step {k + 1} is 0 at "
                                                                  f"{places} decimals"))
            shown = ["J", *t.keys("forward"), *(f"{w}_new" for w in params["asked"])]
            if rules.on("significant_answers"):  # the numbers the parts ask, before the whole question is built
                tiny = [k for k in ("J", *t.keys("forward"), *t.keys("factor"), *(f"dJ_d{w}" for w in params["asked"]))
                        if 0 != numeric.to_float(t[k]) and not significant(numeric.to_float(t[k]), places)]
                out += [problem("significant_answers", f"{k} shows under two significant digits") for k in tiny[:1]]
            out += rules.keep(calculator.hand_problems(t, shown))
        return out

    # -- building ------------------------------------------------------------------------
    def build(self, params: Mapping[str, Any], notation: Notation, places: int) -> Question:
        """The question for fixed parameters (sampled, or pinned by a bank or --params)."""
        if not isinstance(params, Mapping) or "network" not in params:
            raise BankError("params: expected a mapping with a 'network' (the canonical network form)")
        net = Network.from_mapping(params["network"], "params.network")
        if net.widths[-1] != 1 or len(net.data) != 1 or len(net.layers) < 2:
            raise FamilyError(f"{self.name}: needs at least one hidden layer, one output and one data point "
                              f"(got widths {net.widths} and {len(net.data)} data points)")
        table = calculator.table_for(params)
        t = _CHECKED.take((net, table))
        t = dense.build(net, table) if t is None else t  # the sampler's check of this draw built it already
        nt = notation.for_network(net.widths)
        asked = _asked(params.get("asked") or [f"W{len(net.layers)}[1,1]", "W1[1,1]"], t)
        concept = params.get("concept", "compare-regression")
        if concept not in concepts.MLP:
            raise BankError(f"params.concept: {concept!r} is not one of {', '.join(concepts.MLP)}")
        figure = _figure(net, t, nt, labels=False)
        parts = _parts(net, t, nt, asked, places, concept, _figure(net, t, nt, labels=True))
        context = _statement(net, t, nt, places)
        context["figure"] = figure
        context.update(calculator.statement(t))
        context["optimiser"] = optim_parts.statement(net, nt)
        stored = {"network": net.to_mapping(), "asked": list(asked), "concept": concept}
        if table is not None:
            stored["calculator"] = False
        return Question(self.name, "Neural network: forward pass and backpropagation", stored, t, nt, parts,
                        self.template, context, dense.solution(net, t))


UNIT_TRIES = 30
_CHECKED = Handover()  # the Trace `problems` built for the draw it accepted last


def _unit(rng: np.random.Generator, d: Mapping[str, Any], a: list[float], act: str, rules: Rules, alive: bool):
    """One unit's weights and bias, redrawn (a few times) while its input z is saturated or at the kink
    (or, when `alive`, while a ReLU would be off).

    Redrawing one unit instead of the whole network keeps sampling fast; `problems` still
    checks the finished network.
    """
    for _ in range(UNIT_TRIES):
        w = draw(rng, d["weights"], "domain.weights", len(a))
        b = draw(rng, d["biases"], "domain.biases")
        z = sum(float(numeric.exact(wi)) * ai for wi, ai in zip(w, a)) + float(numeric.exact(b))
        if saturated(act, z) and rules.on("no_saturation"):
            continue
        if act in ("relu", "leaky_relu") and abs(z) < 1e-9 and rules.on("relu_not_at_kink"):
            continue
        if act == "relu" and alive and z < 0 and rules.on("dead_relu"):
            continue
        break
    return w, b, z


def _forward_problems(net: Network, dead_units: int | None) -> list[str]:
    """Saturated σ/tanh inputs, ReLU inputs at the kink or off, a prediction at the threshold (floats)."""
    out: list[str] = []
    a = np.array([float(v) for v in net.data[0].x])
    dead = 0
    for l, layer in enumerate(net.layers, start=1):
        W = np.array([[float(v) for v in row] for row in layer.W])
        z = W @ a + np.array([float(v) for v in layer.b])
        if any(saturated(layer.activation, float(v)) for v in z):
            out.append(problem("no_saturation", f"a {layer.activation} input of layer {l} is where its derivative "
                                                f"is nearly 0"))
        if layer.activation in ("relu", "leaky_relu") and np.any(np.abs(z) < 1e-9):
            out.append(problem("relu_not_at_kink", f"a ReLU input of layer {l} is exactly 0"))
        if layer.activation == "relu" and l < len(net.layers):
            dead += int(np.sum(z < 0))
        a = _FLOAT_ACTIVATIONS[layer.activation](z, float(layer.slope or 0))
    if dead_units is not None and net.layers[0].activation == "relu" and dead != dead_units:
        out.append(problem("dead_relu", f"{dead} hidden ReLU units are off, the domain wants {dead_units}"))
    if net.layers[-1].activation == "sigmoid" and abs(a[0] - 0.5) < THRESHOLD_MARGIN:
        out.append(problem("threshold_margin", f"the prediction is within {THRESHOLD_MARGIN} of 0.5"))
    y = float(numeric.exact(net.data[0].y[0]))
    if abs(a[0] - y) < MIN_MISS:
        out.append(problem("target_not_reached", f"the prediction is within {MIN_MISS} of its target"))
    return out


_FLOAT_ACTIVATIONS = {
    "sigmoid": lambda z, s: 1 / (1 + np.exp(-z)),
    "tanh": lambda z, s: np.tanh(z),
    "relu": lambda z, s: np.maximum(z, 0),
    "leaky_relu": lambda z, s: np.where(z > 0, z, s * z),
    "linear": lambda z, s: z,
}


def _asked(keys: Any, t) -> list[str]:
    """The asked weights, validated, last layer first (the order the documents ask them in)."""
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise BankError("params.asked: expected a list of weight keys like ['W2[1,1]', 'W1[1,2]']")
    if len(set(keys)) != len(keys):
        raise BankError(f"params.asked: {keys} names a weight twice; ask about two different weights")
    for k in keys:
        if not k.startswith(("W", "b")) or k not in t or t.quantity(k).role != "given":
            raise BankError(f"params.asked: {k!r} is not a weight or bias of this network (write W2[1,1] or b1[2])")
    return sorted(keys, key=lambda k: -int(k[1:k.index("[")]))


def _symbols(t, nt: Notation):
    return lambda key: t.symbol(key, nt)


def _statement(net: Network, t, nt: Notation, places: int) -> dict[str, Any]:
    sym = _symbols(t, nt)
    point = net.data[0]
    layers = []
    for l, layer in enumerate(net.layers, start=1):
        entry = {"symbol": nt.matrix_symbol(l), "matrix": matrix_tex(nt.weight_matrix(layer.W, layer.b)),
                 "rule": nt.forward_rule(l)}
        if nt.bias == "separate":
            entry["bias_symbol"] = nt.bias_symbol(l)
            entry["bias"] = vector_tex(layer.b, places)
        layers.append(entry)
    loss = fn.loss_term(net.loss, ex.Ref("y[1]"), ex.Ref("yhat[1]"))
    return {
        "x": vector_tex(point.x, places),
        "y": numeric.decimal_str(point.y[0]),
        "input_symbol": rf"\boldsymbol{{{nt.input}}}",
        "target_symbol": sym("y[1]"),
        "n_inputs": net.widths[0],
        "hidden_widths": net.widths[1:-1],
        "hidden_activations": [_activation_name(layer) for layer in net.layers[:-1]],
        "output_activation": _activation_name(net.layers[-1]),
        "classification": net.layers[-1].activation == "sigmoid",
        "loss_name": net.loss.replace("_", " "),
        "loss_formula": rf"{nt.loss} = {ex.latex(loss, sym)}",
        # an objective of its own letter (∂J/∂W is asked) is defined in the statement too
        "objective_definition": "" if nt.objective == nt.loss else f"{nt.objective} = {nt.loss}",
        "bias": nt.bias,
        "weight_example": _weight_example(net, sym, nt),
        "layers": layers,
        "lr_symbol": nt.lr,
        "lr": numeric.decimal_str(net.learning_rate),
        "d": nt.d,
        "objective": nt.objective,
    }


def _weight_example(net: Network, sym, nt: Notation) -> str:
    """One sentence that pins down the indices: which weight connects what."""
    j = 1  # the first feature, so the sentence shows where the numbering starts
    example = (rf"${sym(f'W1[1,{j}]')}$ is the weight from ${sym(f'x[{j}]')}$ to neuron ${nt.unit(1)}$ of "
               rf"layer 1 and ${sym('b1[1]')}$ is that neuron's bias")
    if nt.bias == "flat":
        last = sum(layer.n_out * (layer.n_in + 1) for layer in net.layers) - 1 + nt.index_base
        first = nt.index_base
        example = (rf"$\theta = ({nt.weight}_{{{first}}}, \dots, {nt.weight}_{{{last}}})$, layer by layer, each "
                   rf"neuron's input weights then its bias; " + example)
    return example


def _activation_name(layer) -> str:
    """How the statement names an activation (a leaky ReLU states its slope)."""
    if layer.activation == "leaky_relu":
        return rf"leaky ReLU ($g(z) = z$ for $z > 0$, else ${numeric.decimal_str(layer.slope)}\,z$)"
    return ACTIVATION_NAMES[layer.activation]


def _figure(net: Network, t, nt: Notation, *, labels: bool) -> str:
    depth = len(net.layers)
    sym = _symbols(t, nt)
    node_labels = [[sym(dense.x_key(j)) for j in range(1, net.widths[0] + 1)]]
    for l in range(1, depth + 1):
        node_labels.append([sym(dense.a_key(l, i, depth)) for i in range(1, net.widths[l] + 1)])
    edges = {}
    if labels:
        for l, layer in enumerate(net.layers, start=1):
            for i in range(1, layer.n_out + 1):
                for j in range(0, layer.n_in + 1):
                    edges[(l, i, j)] = sym(dense.w_key(l, i, j))
    return draw_network(net.widths, node_labels=node_labels, bias_labels=["1"] * depth + [None],
                        edge_labels=edges or None)


def _parts(net: Network, t, nt: Notation, asked: list[str], places: int, concept: str, drawing: str) -> list[Part]:
    sym = _symbols(t, nt)
    depth = len(net.layers)
    widths = net.widths
    parts: list[Part] = []

    def add_number(id: str, prompt: str, keys: list[str], section: str, **kw: Any) -> None:
        parts.append(number_part(t, nt, id=id, prompt=prompt, keys=keys, places=places, section=section, **kw))

    arch = "Architecture"
    parts.append(Part(id="draw", prompt="Draw the network: every input, hidden and output neuron, the bias units, "
                      "and every weight as an edge labelled with its symbol.", kind="text", points=2,
                      answer="", answer_tex="", section=arch, box_cm=6, figure=drawing,
                      model="A network with the layers, bias units and edges shown in the figure.",
                      rubric=rubric((1, "every input, hidden and output neuron, with a bias unit feeding each layer "
                                        "after the input"),
                                    (1, "every weight drawn as an edge between the right neurons and labelled with "
                                        "its symbol"))))
    parts.append(Part(id="matrices", prompt="How many weight matrices does the network have?", kind="integer",
                      points=1, answer=depth, answer_tex=str(depth), section=arch, box_cm=1.0))
    for l, layer in enumerate(net.layers, start=1):
        rows, cols = nt.weight_shape(layer.n_out, layer.n_in)
        parts.append(Part(id=f"shape.W{l}", prompt=f"What is the shape of ${nt.matrix_symbol(l)}$?", kind="shape",
                          points=1, answer=[rows, cols], answer_tex=rf"{rows} \times {cols}", section=arch, box_cm=1.0,
                          labels=(nt.matrix_symbol(l),)))

    fwd = "Forward pass"
    for l in range(1, depth):
        n = widths[l]
        add_number(f"z{l}", f"What are the values passed into the neurons of hidden layer {l}, "
                   f"${nt.vector_symbol('z', l)}$?", [dense.z_key(l, i) for i in range(1, n + 1)], fwd, points=2)
        add_number(f"a{l}", f"What are the outputs of the neurons of hidden layer {l}, "
                   f"${nt.vector_symbol('a', l)}$?", [dense.a_key(l, i, depth) for i in range(1, n + 1)], fwd, points=2)
    add_number(f"z{depth}", f"What is the value passed into the output neuron, ${sym(f'z{depth}[1]')}$?",
               [f"z{depth}[1]"], fwd)
    add_number("yhat", f"What is the network's output ${sym('yhat[1]')}$?", ["yhat[1]"], fwd)
    if net.layers[-1].activation == "sigmoid":
        yhat = t["yhat[1]"]
        label = 1 if numeric.compare(yhat, Fraction(1, 2)) >= 0 else 0  # exactly: ŷ = 0.5 is class 1
        relation = r"\ge" if label else "<"
        approx = "=" if numeric.is_shown_exactly(yhat, places) else r"\approx"
        x = rf"\boldsymbol{{{nt.input}}}"
        parts.append(Part(id="class", prompt=f"Which class (0 or 1) does the model predict for ${x}$ with threshold 0.5?", kind="label", points=1, answer=str(label), answer_tex=str(label),
                          section=fwd, box_cm=1.0,
                          decide={"left": "yhat[1]", "op": ">=", "right": 0.5, "labels": ["1", "0"]},
                          worked=(rf"{sym('yhat[1]')} {approx} {numeric.decimal_str(yhat, places)} {relation} 0.5 "
                                  rf"\Rightarrow \text{{class }} {label}",)))
    add_number("loss", f"What is the loss ${nt.loss}$ on this example?", ["loss"], fwd)

    back = "Backpropagation"
    seen: set[str] = set()
    for w in asked:
        g = f"dJ_d{w}"
        chain = t.expanded(g)
        factors = [f for f in dict.fromkeys(ex.refs(chain)) if t.quantity(f).role == "factor"]
        delta = f"dl_dz{depth}[1]"
        if len(factors) < len(set(ex.refs(chain))) and delta not in seen:  # table mode: δ = ŷ − y in the chain
            seen.add(delta)
            add_number(f"delta.z{depth}", rf"What is $\displaystyle {sym(delta)} = {sym('yhat[1]')} - {sym('y[1]')}$?",
                       [delta], back)
        parts.append(Part(id=f"chain.{w}", prompt=rf"Using the chain rule, write $\displaystyle {sym(g)}$ as a product of local "
                          "derivatives (one per layer, from the loss back to the weight).", kind="text", points=1,
                          answer="", answer_tex="", section=back, box_cm=2.0,
                          model=rf"$\displaystyle {sym(g)} = {ex.latex(chain, sym)}$",
                          rubric=rubric((0.5, "one factor per layer, chained from the loss back to the weight"),
                                        (0.5, "every factor's numerator and denominator right"))))
        for f in factors:
            if f not in seen:
                seen.add(f)
                add_number(f"factor.{f}", rf"What is $\displaystyle {sym(f)}$?", [f], back)
        add_number(f"grad.{w}", rf"What is $\displaystyle {sym(g)}$?", [g], back, points=2, box_cm=2.0)

    step = "Gradient-descent step"
    if not net.plain:  # the optimiser's parts take the place of the architecture parts (26 at most)
        kept = [p for p in parts if p.id not in ("draw", "matrices") and not p.id.startswith("shape.")]
        return kept + optim_parts.every_step(net, t, nt, places, asked)
    for w in asked:
        add_number(f"update.{w}", f"What is the updated ${sym(w)}$ after one gradient-descent step with "
                   f"${nt.lr} = {numeric.decimal_str(net.learning_rate)}$?", [f"{w}_new"], step)

    count = "Parameter counting"
    first = net.layers[0]
    total = sum(layer.n_out * (layer.n_in + 1) for layer in net.layers)
    for id, prompt, value, why in (
        ("count.linear1", "How many parameters are learned in the first hidden linear layer?",
         first.n_out * (first.n_in + 1), rf"{first.n_out} \cdot {first.n_in} + {first.n_out} = {first.n_out * (first.n_in + 1)}"),
        ("count.activation1", "How many parameters are learned in the first activation layer?", 0,
         r"\text{an activation has no parameters: } 0"),
        ("count.total", "How many parameters are learned in the entire network?", total,
         " + ".join(f"{layer.n_out}({layer.n_in} + 1)" for layer in net.layers) + f" = {total}"),
    ):
        parts.append(Part(id=id, prompt=prompt, kind="integer", points=1, answer=value, answer_tex=str(value),
                          section=count, box_cm=1.0, worked=(why,)))

    names = {"x": rf"\boldsymbol{{{nt.input}}}", "y": sym("y[1]"), "yhat": sym("yhat[1]"), "zout": sym(f"z{depth}[1]")}
    prompt, model, items = concepts.mlp(concept, names)
    parts.append(Part(id="concept", prompt=prompt, kind="text", points=3, answer="", answer_tex="",
                      section="Concepts", box_cm=5, model=model, rubric=rubric(*items)))
    return parts


FAMILY = MlpBackprop()
