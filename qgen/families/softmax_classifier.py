"""Family `softmax-classifier`: a dense network with a softmax output, the cross-entropy, one-hot target.

One data point through 0 or 1 hidden layer into 2–4 classes: logits, probabilities, predicted
class, loss, (optionally) the softmax Jacobian and dℓ/dp, δ = ∂ℓ/∂z, the output layer's weight
and bias gradients, one hidden weight's gradient, the updated output weights, and a derivation
of δ = p − y graded by hand. `delta: simplified` forms δ as p − y; `delta: jacobian` through the
Jacobian, whose entries are then asked too (qgen.nn.softmax).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from qgen import expr as ex
from qgen import numeric
from qgen.errors import BankError, FamilyError
from qgen.families.base import (
    Handover,
    Part,
    Question,
    matrix_tex,
    number_part,
    rubric,
    vector_tex,
)
from qgen.families.domain import Words, draw, draw_fair
from qgen.families.rules import DEFAULT, Rules, problem, saturated, significant
from qgen.nn import dense
from qgen.nn.network import ACTIVATIONS, Network
from qgen.nn.softmax import DELTA_MODES, sumexp_key
from qgen.notation import Notation
from qgen.render.tikz import draw_network

P_MIN, P_MAX = 0.02, 0.97  # moderate_values: every probability in this range
MAX_LOGIT = 4  # moderate_values: every |logit| at most this, so each exp(z) is at most e⁴ ≈ 55
ARGMAX_MARGIN = 0.05  # well_posed: the two largest probabilities at least this far apart
TARGET_MAX = 0.9  # target_not_reached: the target class's probability at most this
UNIT_TRIES = 30
ACTIVATION_NAMES = {"sigmoid": "sigmoid", "tanh": r"$\tanh$", "relu": "ReLU", "leaky_relu": "leaky ReLU",
                    "linear": "linear (identity)"}
FLOAT = {"sigmoid": lambda z, s: 1 / (1 + np.exp(-z)), "tanh": lambda z, s: np.tanh(z),
         "relu": lambda z, s: np.maximum(z, 0), "leaky_relu": lambda z, s: np.where(z > 0, z, s * z),
         "linear": lambda z, s: z}
_CHECKED = Handover()


class SoftmaxClassifier:
    """See the module docstring."""

    name = "softmax-classifier"
    summary = ("Softmax output with cross-entropy, 2-4 classes, one-hot target: logits, probabilities, class, loss, "
               "softmax Jacobian or delta = p - y, output weight and bias gradients, a hidden weight, update.")
    template = "families/softmax-classifier.tex.j2"
    default_domain: ClassVar[dict[str, Any]] = {
        "inputs": [2],
        "hidden": [2],
        "hidden_layers": [1],
        "classes": [3],
        "target": [1, 2, 3, 4],  # the target's class (1-based); those beyond `classes` are never drawn
        "x": {"integers": [-2, 2], "exclude": [0]},
        "weights": {"decimals": [-1.5, 1.5], "step": 0.5, "exclude": [0]},
        "biases": {"decimals": [-1, 1], "step": 0.5},
        "hidden_activation": Words(["relu", "sigmoid"], list(ACTIVATIONS)),
        "delta": Words(["simplified"], list(DELTA_MODES)),
        "learning_rate": [0.1, 0.5, 1],
    }
    shared = ("inputs", "hidden", "hidden_layers", "classes", "hidden_activation", "delta")
    domain_limits: ClassVar[dict[str, tuple[int, int]]] = {"inputs": (2, 3), "hidden": (1, 4), "hidden_layers": (0, 1), "classes": (2, 4)}
    calculator_needed = "the softmax takes exp at arbitrary logits and the loss a logarithm"
    constraints = ("no_saturation", "relu_not_at_kink", "dead_relu", "moderate_values", "well_posed",
                   "target_not_reached", "nonzero_derivatives", "significant_answers")

    # -- sampling ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, domain: Mapping[str, Any], rules: Rules = DEFAULT) -> dict[str, Any]:
        """Draw parameters until the instance is a fair question (see `problems`)."""
        def attempt() -> tuple[dict[str, Any] | None, list[str]]:
            params = self._draw(rng, domain, rules)
            if isinstance(params, str):
                return None, [params]
            return params, self.problems(params, rules=rules)

        return draw_fair(self.name, attempt, "weights, biases, x", rules=rules)

    def fingerprint(self, params: Mapping[str, Any]) -> Any:
        """What two versions must not share: the network's numbers."""
        return params["network"]

    def _draw(self, rng: np.random.Generator, d: Mapping[str, Any], rules: Rules) -> dict[str, Any] | str:
        n_in = draw(rng, d["inputs"], "domain.inputs")
        depth = draw(rng, d["hidden_layers"], "domain.hidden_layers")
        classes = draw(rng, d["classes"], "domain.classes")
        targets = [c for c in d["target"] if isinstance(c, int) and 1 <= c <= classes]
        if not targets:
            raise BankError(f"domain.target: {list(d['target'])} names no class of {classes} (classes count from 1)")
        target = draw(rng, targets, "domain.target")
        act = draw(rng, d["hidden_activation"], "domain.hidden_activation")
        x = draw(rng, d["x"], "domain.x", n_in)
        a = [float(numeric.exact(v)) for v in x]
        layers = []
        if depth:
            units = [_unit(rng, d, a, act, rules) for _ in range(draw(rng, d["hidden"], "domain.hidden"))]
            layers.append({"W": [w for w, _, _ in units], "b": [b for _, b, _ in units], "activation": act})
            a = [float(FLOAT[act](np.array(z), 0.01)) for _, _, z in units]
        layers.append({"W": [draw(rng, d["weights"], "domain.weights", len(a)) for _ in range(classes)],
                       "b": draw(rng, d["biases"], "domain.biases", classes), "activation": "softmax"})
        y = [1 if k == target else 0 for k in range(1, classes + 1)]
        network = {"layers": layers, "loss": "cross_entropy", "reduction": "mean", "data": [{"x": x, "y": y}],
                   "learning_rate": draw(rng, d["learning_rate"], "domain.learning_rate")}
        params: dict[str, Any] = {"network": network, "delta": draw(rng, d["delta"], "domain.delta")}
        if depth:
            width = len(layers[0]["W"])
            params["asked"] = [f"W1[{int(rng.integers(width)) + 1},{int(rng.integers(n_in)) + 1}]"]
        return params

    def problems(self, params: Mapping[str, Any], places: int = 4, rules: Rules = DEFAULT) -> list[str]:
        """The fairness constraints an instance breaks, as `constraint: detail` (empty: a good question)."""
        net = Network.from_mapping(params["network"], "params.network")
        out = rules.keep(_forward_problems(net))
        if out:  # cheap float checks first
            return out
        mode = _mode(params)
        if rules.on("nonzero_derivatives") or rules.on("significant_answers"):
            t = dense.build(net, delta=mode)
            _CHECKED.keep((net, mode), t)
            asked = params.get("asked") or []
            for w in asked if rules.on("nonzero_derivatives") else ():
                if abs(numeric.to_float(t[f"dJ_d{w}"])) < 0.5 * 10 ** -places:
                    out.append(problem("nonzero_derivatives", f"dJ/d{w} is 0 at {places} decimals"))
            if rules.on("significant_answers"):
                for k in _numbers_asked(net, mode, asked):
                    v = numeric.to_float(t[k])
                    if v != 0 and not significant(v, places):
                        out.append(problem("significant_answers", f"{k} shows under two significant digits"))
                        break
        return out

    # -- building ------------------------------------------------------------------------
    def build(self, params: Mapping[str, Any], notation: Notation, places: int) -> Question:
        """The question for fixed parameters (sampled, or pinned by a bank or --params)."""
        if not isinstance(params, Mapping) or "network" not in params:
            raise BankError("params: expected a mapping with a 'network' (the canonical network form)")
        unknown = sorted(str(k) for k in params if k not in ("network", "delta", "asked"))
        if unknown:
            raise BankError(f"params: unknown key(s) {', '.join(unknown)}; softmax-classifier takes network, delta, "
                            "asked")
        net = Network.from_mapping(params["network"], "params.network")
        if net.layers[-1].activation != "softmax" or len(net.data) != 1 or len(net.layers) > 2:
            raise FamilyError(f"{self.name}: needs a softmax output layer (loss cross_entropy), at most one hidden "
                              f"layer and one data point (got widths {net.widths}, output "
                              f"{net.layers[-1].activation}, {len(net.data)} data points)")
        mode = _mode(params)
        t = _CHECKED.take((net, mode))
        t = dense.build(net, delta=mode) if t is None else t
        asked = _asked(params.get("asked"), net, t)
        nt = notation.for_network(net.widths)
        parts = _parts(net, t, nt, mode, asked, places)
        context = _statement(net, t, nt, places)
        stored = {"network": net.to_mapping(), "delta": mode, "asked": asked}
        return Question(self.name, "Softmax classifier: cross-entropy and backpropagation", stored, t, nt, parts,
                        self.template, context, dense.solution(net, t))


def _mode(params: Mapping[str, Any]) -> str:
    mode = params.get("delta", "simplified")
    if mode not in DELTA_MODES:
        raise BankError(f"params.delta: {mode!r} is not one of {', '.join(DELTA_MODES)}")
    return mode


def _asked(keys: Any, net: Network, t) -> list[str]:
    """The asked hidden weights (default: W1[1,1] when there is a hidden layer; none without one)."""
    if keys is None:
        return ["W1[1,1]"] if len(net.layers) == 2 else []
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or len(set(keys)) != len(keys):
        raise BankError("params.asked: expected a list of different hidden weight keys like ['W1[1,2]']")
    for k in keys:
        if len(net.layers) < 2 or not k.startswith(("W1[", "b1[")) or k not in t:
            raise BankError(f"params.asked: {k!r} is not a weight or bias of the hidden layer (write W1[1,2] or "
                            "b1[1]; a network without a hidden layer asks none: [])")
    return list(keys)


def _unit(rng: np.random.Generator, d: Mapping[str, Any], a: list[float], act: str, rules: Rules):
    """One hidden unit's weights and bias, redrawn while its input is saturated, at the kink or off."""
    for _ in range(UNIT_TRIES):
        w = draw(rng, d["weights"], "domain.weights", len(a))
        b = draw(rng, d["biases"], "domain.biases")
        z = sum(float(numeric.exact(wi)) * ai for wi, ai in zip(w, a)) + float(numeric.exact(b))
        if (saturated(act, z) and rules.on("no_saturation")) or (
                act in ("relu", "leaky_relu") and abs(z) < 1e-9 and rules.on("relu_not_at_kink")) or (
                act == "relu" and z < 0 and rules.on("dead_relu")):
            continue
        break
    return w, b, z


def _forward_problems(net: Network) -> list[str]:
    """Saturated or dead hidden units, extreme probabilities, a close argmax, a target nearly reached (floats)."""
    out: list[str] = []
    a = np.array([float(v) for v in net.data[0].x])
    for l, layer in enumerate(net.layers[:-1], start=1):
        z = np.array([[float(v) for v in row] for row in layer.W]) @ a + np.array([float(v) for v in layer.b])
        if any(saturated(layer.activation, float(v)) for v in z):
            out.append(problem("no_saturation", f"a {layer.activation} input of layer {l} is where its derivative "
                                                "is nearly 0"))
        if layer.activation in ("relu", "leaky_relu") and np.any(np.abs(z) < 1e-9):
            out.append(problem("relu_not_at_kink", f"a ReLU input of layer {l} is exactly 0"))
        if layer.activation == "relu" and np.any(z < 0):
            out.append(problem("dead_relu", f"a ReLU unit of layer {l} is off (its gradients would be 0)"))
        a = FLOAT[layer.activation](z, float(layer.slope or 0))
    last = net.layers[-1]
    z = np.array([[float(v) for v in row] for row in last.W]) @ a + np.array([float(v) for v in last.b])
    if np.any(np.abs(z) > MAX_LOGIT):
        out.append(problem("moderate_values", f"a logit is beyond ±{MAX_LOGIT} (its exponential is large)"))
    p = np.exp(z - z.max())
    p /= p.sum()
    if p.max() > P_MAX or p.min() < P_MIN:
        out.append(problem("moderate_values", f"a probability is outside [{P_MIN}, {P_MAX}] (logits too far apart)"))
    top = np.sort(p)[::-1]
    if top[0] - top[1] < ARGMAX_MARGIN:
        out.append(problem("well_posed", f"the two largest probabilities are within {ARGMAX_MARGIN}"))
    target = [float(v) for v in net.data[0].y].index(1.0)
    if p[target] > TARGET_MAX:
        out.append(problem("target_not_reached", f"the target class's probability is above {TARGET_MAX}"))
    return out


def _numbers_asked(net: Network, mode: str, asked: list[str]) -> list[str]:
    """The Trace keys of every number the parts ask."""
    depth, n = len(net.layers), net.widths[-1]
    last = net.layers[-1]
    keys = [dense.a_key(1, i, depth) for i in range(1, net.widths[1] + 1)] if depth == 2 else []
    keys += [dense.z_key(depth, k) for k in range(1, n + 1)] + [f"yhat[{k}]" for k in range(1, n + 1)] + ["loss"]
    if mode == "jacobian":
        keys += [f"dl_dyhat[{k}]" for k in range(1, n + 1)]
        keys += [f"dyhat[{k}]_dz{depth}[{j}]" for k in range(1, n + 1) for j in range(1, n + 1)]
    keys += [f"dl_dz{depth}[{k}]" for k in range(1, n + 1)]
    keys += [dense.grad_key(depth, k, j) for k in range(1, n + 1) for j in range(last.n_in + 1)]
    keys += [f"dJ_d{w}" for w in asked]
    keys += [f"{dense.w_key(depth, k, j)}_new" for k in range(1, n + 1) for j in range(1, last.n_in + 1)]
    return keys


# -- the statement and the parts ------------------------------------------------------------
def _statement(net: Network, t, nt: Notation, places: int) -> dict[str, Any]:
    sym = lambda key: t.symbol(key, nt)
    depth, n = len(net.layers), net.widths[-1]
    layers = []
    for l, layer in enumerate(net.layers, start=1):
        entry = {"symbol": nt.matrix_symbol(l), "matrix": matrix_tex(nt.weight_matrix(layer.W, layer.b)),
                 "rule": nt.forward_rule(l)}
        if nt.bias == "separate":
            entry["bias_symbol"], entry["bias"] = nt.bias_symbol(l), vector_tex(layer.b, places)
        layers.append(entry)
    zs = [ex.Fn("exp", (ex.Ref(dense.z_key(depth, j)),)) for j in range(1, n + 1)]
    first = rf"{sym('yhat[1]')} = {ex.latex(ex.Div(zs[0], ex.Sum(tuple(zs))), sym)}"
    terms = ex.Neg(ex.Sum(tuple(ex.Prod((ex.Ref(f"y[{k}]"), ex.Fn("ln", (ex.Ref(f"yhat[{k}]"),))))
                                for k in range(1, n + 1))))
    target = [int(v) for v in net.data[0].y].index(1) + 1
    w = rf"${sym('W1[1,1]')}$ is the weight from ${sym('x[1]')}$ to neuron ${nt.unit(1)}$ of layer 1"
    return {
        "x": vector_tex(net.data[0].x, places), "input_symbol": rf"\boldsymbol{{{nt.input}}}",
        "y": vector_tex(net.data[0].y, 0), "target_symbol": rf"\boldsymbol{{{nt.target}}}",
        "target_class": nt.unit(target), "classes": n, "n_inputs": net.widths[0],
        "first_class": nt.unit(1), "last_class": nt.unit(n),
        "hidden_width": net.widths[1] if depth == 2 else 0,
        "hidden_activation": ACTIVATION_NAMES[net.layers[0].activation] if depth == 2 else "",
        "softmax": first, "loss_formula": rf"{nt.loss} = {ex.latex(terms, sym)}",
        "objective_definition": "" if nt.objective == nt.loss else f"{nt.objective} = {nt.loss}",
        "bias": nt.bias, "weight_example": w, "layers": layers,
        "lr_symbol": nt.lr, "lr": numeric.decimal_str(net.learning_rate),
        "figure": _figure(net, t, nt),
    }


def _figure(net: Network, t, nt: Notation) -> str:
    depth = len(net.layers)
    labels = [[t.symbol(dense.x_key(j), nt) for j in range(1, net.widths[0] + 1)]]
    labels += [[t.symbol(dense.a_key(l, i, depth), nt) for i in range(1, net.widths[l] + 1)]
               for l in range(1, depth + 1)]
    return draw_network(net.widths, node_labels=labels, bias_labels=["1"] * depth + [None])


def _matrix_part(t, nt: Notation, *, id: str, prompt: str, rows: list[list[str]], places: int, section: str,
                 points: float = 2, worked: list[str] | None = None) -> Part:
    """A part answered by a matrix of Trace values (keys row by row)."""
    keys = tuple(k for row in rows for k in row)
    values = [[t[k] for k in row] for row in rows]
    return Part(id=id, prompt=prompt, kind="matrix", points=points,
                answer=[[numeric.to_float(v) for v in row] for row in values],
                answer_tex=matrix_tex(values, places), section=section, keys=keys, places=places,
                worked=tuple(worked if worked is not None else (t.explain(k, nt, places) for k in keys)),
                box_cm=3.0, labels=tuple(t.symbol(k, nt) for k in keys))


def _weight_layout(nt: Notation, rows: list[list[str]]) -> list[list[str]]:
    """Keys of a layer's weights (rows: units, columns: inputs) as the notation's matrix holds them (no biases)."""
    return [list(col) for col in zip(*rows)] if nt.bias == "row" else rows


def _parts(net: Network, t, nt: Notation, mode: str, asked: list[str], places: int) -> list[Part]:
    sym = lambda key: t.symbol(key, nt)
    depth, n, last = len(net.layers), net.widths[-1], net.layers[-1]
    classes = range(1, n + 1)
    parts: list[Part] = []

    def add(id: str, prompt: str, keys: list[str], section: str, **kw: Any) -> None:
        parts.append(number_part(t, nt, id=id, prompt=prompt, keys=keys, places=places, section=section, **kw))

    fwd = "Forward pass"
    if depth == 2:
        hidden = range(1, net.widths[1] + 1)
        lines = [t.explain(k, nt, places) for i in hidden for k in (dense.z_key(1, i), dense.a_key(1, i, depth))]
        add("a1", f"What are the outputs of the hidden neurons, ${nt.vector_symbol('a', 1)}$?",
            [dense.a_key(1, i, depth) for i in hidden], fwd, points=2, worked=lines)
    add("z", f"What are the logits (the inputs of the softmax), ${nt.vector_symbol('z', depth)}$?",
        [dense.z_key(depth, k) for k in classes], fwd, points=2)
    probs = [f"yhat[{k}]" for k in classes]
    add("p", f"What are the predicted class probabilities ${nt.vector_symbol('a', depth)}$?", probs, fwd, points=2,
        worked=[t.explain(sumexp_key(), nt, places), *(t.explain(k, nt, places) for k in probs)])
    best = max(classes, key=lambda k: numeric.to_float(t[f"yhat[{k}]"]))
    label = str(nt.unit(best))
    why = ((rf"{sym(f'yhat[{best}]')} \approx {numeric.decimal_str(t[f'yhat[{best}]'], places)} "
            rf"\text{{ is the largest probability}} \Rightarrow \text{{class }} {label}"),)
    prompt = "Which class does the network predict for this input (the class of the largest probability)?"
    # the class of the student's own largest probability earns the credit too (error carried forward)
    parts.append(Part(id="class", prompt=prompt, kind="label", points=1, answer=label, answer_tex=label,
                      section=fwd, box_cm=1.0, worked=why,
                      decide={"argmax": [f"yhat[{k}]" for k in classes], "labels": [str(nt.unit(k)) for k in classes]}))
    target = [int(v) for v in net.data[0].y].index(1) + 1
    one_hot = ex.Neg(ex.Fn("ln", (ex.Ref(f"yhat[{target}]"),)))
    add("loss", f"What is the cross-entropy loss ${nt.loss}$ on this example?", ["loss"], fwd,
        worked=[t.explain("loss", nt, places), t.explain("loss", nt, places, formula=one_hot)])

    back = "Backpropagation"
    z = [dense.z_key(depth, k) for k in classes]
    deltas = [f"dl_dz{depth}[{k}]" for k in classes]
    parts.append(_derivation(sym, nt, depth, back))
    if mode == "jacobian":
        add("dl_dp", rf"What are the derivatives $\displaystyle {sym('dl_dyhat[1]')}, \dots, {sym(f'dl_dyhat[{n}]')}$ "
            "of the loss by the probabilities?", [f"dl_dyhat[{k}]" for k in classes], back)
        rows = [[dense.factor_key(f"yhat[{k}]", zj) for zj in z] for k in classes]
        parts.append(_matrix_part(t, nt, id="jacobian", prompt=(
            "What is the softmax Jacobian, the matrix of the derivatives of each probability (a row) by each logit "
            rf"(a column)? Its first row is $\displaystyle {sym(rows[0][0])}, \dots, {sym(rows[0][-1])}$."),
            rows=rows, places=places, section=back))
    add("delta", rf"What are the derivatives $\displaystyle {sym(deltas[0])}, \dots, {sym(deltas[-1])}$ of the "
        "loss by the logits?", deltas, back, points=2)
    grads = [[dense.grad_key(depth, k, j) for j in range(1, last.n_in + 1)] for k in classes]
    inputs = [dense.a_key(depth - 1, j, depth) for j in range(1, last.n_in + 1)]
    lines = [t.explain(g, nt, places, formula=ex.Prod((ex.Ref(deltas[k]), ex.Ref(inputs[j]))))
             for k, row in enumerate(grads) for j, g in enumerate(row)]
    without = {"row": " without its bias row", "column": " without its bias column",
               "flat": " without the biases"}.get(nt.bias, "")
    parts.append(_matrix_part(t, nt, id=f"grad.W{depth}", prompt=(
        rf"What are the derivatives of ${nt.objective}$ by the output layer's weights, arranged like "
        rf"${nt.matrix_symbol(depth)}${without} (the entry of ${sym(grads[0][0].removeprefix('dJ_d'))}$ is "
        rf"$\displaystyle {sym(grads[0][0])}$)?"), rows=_weight_layout(nt, grads), places=places, section=back,
        worked=lines))
    bias = [dense.grad_key(depth, k, 0) for k in classes]
    add(f"grad.b{depth}", rf"What are the derivatives $\displaystyle {sym(bias[0])}, \dots, {sym(bias[-1])}$ of "
        f"${nt.objective}$ by the output biases?", bias, back,
        worked=[t.explain(g, nt, places, formula=ex.Ref(d)) for g, d in zip(bias, deltas)])
    for w in asked:
        parts.append(_hidden_gradient(net, t, nt, w, deltas, places, back))

    step = "Gradient-descent step"
    new = [[f"{g.removeprefix('dJ_d')}_new" for g in row] for row in grads]
    parts.append(_matrix_part(t, nt, id=f"update.W{depth}", prompt=(
        rf"What are the output layer's weights after one gradient-descent step with ${nt.lr} = "
        rf"{numeric.decimal_str(net.learning_rate)}$, arranged like ${nt.matrix_symbol(depth)}${without}?"),
        rows=_weight_layout(nt, new), places=places, section=step))
    return parts


def _hidden_gradient(net: Network, t, nt: Notation, w: str, deltas: list[str], places: int, section: str) -> Part:
    """∂J/∂w of a hidden weight: (Σ_k δ_k W2[k,i]) · g′(z1_i) · x_j, through every class."""
    g = f"dJ_d{w}"
    i = int(w[w.index("[") + 1:].split(",")[0].rstrip("]"))
    back = ex.Sum(tuple(ex.Prod((ex.Ref(d), ex.Ref(dense.w_key(2, k, i)))) for k, d in enumerate(deltas, start=1)))
    factor = dense.factor_key(dense.a_key(1, i, 2), dense.z_key(1, i))
    local = dense.factor_key(dense.z_key(1, i), w)
    formula = ex.without_ones(ex.Prod((back, ex.Ref(factor), ex.Ref(local))))
    worked = (t.explain(factor, nt, places), t.explain(g, nt, places, formula=formula))
    return number_part(t, nt, id=f"grad.{w}", prompt=(
        rf"Using the chain rule through every class, what is $\displaystyle {t.symbol(g, nt)}$?"), keys=[g],
        places=places, section=section, points=2, box_cm=2.4, worked=worked)


def _derivation(sym, nt: Notation, depth: int, section: str) -> Part:
    """The hand-graded part: show that δ = p − y for the softmax with cross-entropy and a one-hot y."""
    p, z, y = sym("yhat[1]"), sym(dense.z_key(depth, 1)), sym("y[1]")
    model = (rf"Write $p_k$ for the probabilities (${p}$ is $p_{{{nt.unit(1)}}}$), $z_k$ for the logits and $y_k$ "
             r"for the target. From $\ell = -\sum_j y_j \ln p_j$, $\partial \ell/\partial p_j = -y_j/p_j$; the "
             r"softmax gives $\partial p_j/\partial z_k = p_j(\mathbf{1}[j = k] - p_k)$ ($p_k(1 - p_k)$ for "
             r"$j = k$, $-p_j p_k$ otherwise). By the chain rule over every class $j$, "
             r"$\partial \ell/\partial z_k = \sum_j -\frac{y_j}{p_j}\, p_j(\mathbf{1}[j = k] - p_k) "
             r"= -y_k + p_k \sum_j y_j = p_k - y_k$, since the one-hot $y$ sums to 1.")
    return Part(id="derive", prompt=(
        rf"Show that $\displaystyle \frac{{\partial {nt.loss}}}{{\partial {z}}} = {p} - {y}$, and likewise for every "
        "class: the derivative of the cross-entropy by a logit is the probability minus the target."),
        kind="text", points=3, answer="", answer_tex="", section=section, box_cm=5, model=model,
        rubric=rubric((1, r"$\partial \ell/\partial p_j = -y_j/p_j$"),
                      (1, r"the softmax Jacobian, both $p_k(1 - p_k)$ on the diagonal and $-p_j p_k$ off it"),
                      (1, r"the sum over every class $j$, and $\sum_j y_j = 1$ to reach $p_k - y_k$")))


FAMILY = SoftmaxClassifier()
