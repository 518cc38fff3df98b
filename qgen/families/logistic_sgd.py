"""Family `logistic-sgd`: logistic regression trained by SGD (seed 003 Q1).

h(x) = σ(Σᵢ wᵢxᵢ) with the cross-entropy loss L = −[y ln h + (1 − y) ln(1 − h)]: derive
dL/dwⱼ = −xⱼ(y − h(x)) and the SGD update wⱼ ← wⱼ + η xⱼ(y − h(x)), then one step on a numeric
example: h(x), L, the gradient, the updated weights, the loss after the step, and why the
gradient makes sense. A `constant_feature` x₀ = 1 (whose weight w₀ is the bias) is optional.

Trace keys: given x[j] w[j] y lr; forward gamma h; loss loss; grad dL_dw[j]; update w[j]_new;
after the step gamma_new h_new loss_new and loss_change (= loss_new − loss).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Mapping

import numpy as np

from qgen import numeric
from qgen.errors import BankError
from qgen.expr import Fn, Neg, Prod, Ref, Sub, Sum
from qgen.families.base import FormulaSpec, Part, Question, number_part, rubric
from qgen.families.domain import draw, draw_fair
from qgen.families.rules import DEFAULT, MIN_MISS, Rules, problem
from qgen.nn import functions as fn
from qgen.nn.network import json_number, param_number
from qgen.notation import Notation, Sym
from qgen.trace import Trace

SATURATION = 4  # |Σ wᵢxᵢ| beyond which h is too close to 0 or 1
PARAM_KEYS = ("x", "w", "y", "learning_rate", "constant_feature")



def concept(nt: "LogisticNotation") -> tuple[str, str, tuple[tuple[float, str], ...]]:
    """The conceptual part (prompt, model answer, rubric items) in the course's notation (d, η, x, y, w, L)."""
    d, L, w, x, y, eta = nt.d, nt.loss_name, nt.weight_name, nt.input, nt.target, nt.lr
    h = rf"h(\mathbf{{{x}}})"
    return (
        rf"Explain why the gradient ${d} {L}/{d} {w}_j = -{x}_j\bigl({y} - {h}\bigr)$ makes sense: what does a "
        rf"gradient-descent step with it do to ${h}$, how large is the step, and why is it scaled by ${x}_j$?",
        rf"${y} - {h}$ is the prediction error. The step ${w}_j \leftarrow {w}_j + {eta}\, {x}_j\bigl({y} - {h}"
        rf"\bigr)$ changes $\sum_i {w}_i {x}_i$ by ${eta}\,({y} - {h})\sum_j {x}_j^2$, which has the sign of "
        rf"${y} - {h}$: for ${y} = 1$ the weighted sum and so ${h}$ go up, for ${y} = 0$ they go down, "
        rf"so ${h}$ is pushed toward the label. The step is proportional to the error: a confident correct "
        rf"prediction ($h \approx {y}$) barely changes the weights, a confident wrong one changes them most. The factor "
        rf"${x}_j$ assigns the blame: a feature that is $0$ did not contribute to the prediction and its weight does "
        rf"not change, a large feature gets a large change, and the sign of ${x}_j$ sets the direction in which ${w}_j$ "
        "moves. "
        r"It is the same form as the least-squares update of linear regression.",
        ((1, rf"${y} - h$ is the error and the step moves $h$ toward ${y}$ (sign argument)"),
         (1, "the size is proportional to the error (no change when the prediction is right)"),
         (1, rf"the role of ${x}_j$ (zero feature, no change; sign and size of ${x}_j$)")),
    )


@dataclass(frozen=True)
class LogisticNotation(Notation):
    """The document's names (x, w, γ, h(x), L) with the course's step size, derivative, letters and index base.

    With a constant feature x₀ = 1 its weight w₀ is the bias and the features keep 1, 2, …
    (as a folded bias does); without one the weights count from the profile's index base.
    """

    constant_feature: bool = False

    @property
    def weight_name(self) -> str:
        """w, or the weight letter a bank sets explicitly."""
        return self.explicit_or("weight", "w")

    @property
    def loss_name(self) -> str:
        """L, or the loss symbol a bank sets explicitly."""
        return self.explicit_or("loss", "L")

    def index(self, j: int) -> int:
        """The printed index of feature and weight j (Trace keys count from 1, or from 0 for x₀ = 1)."""
        return j if self.constant_feature else j - 1 + self.index_base

    def symbol(self, s: Sym) -> str:
        """LaTeX for the quantity `s` of a logistic-regression Trace."""
        if s.name == "new":
            if s.of.name == "h":
                return rf"h^{{\text{{new}}}}(\mathbf{{{self.input}}})"
            return rf"{self.symbol(s.of)}^{{\text{{new}}}}"
        if s.name == "d":
            return rf"\frac{{{self.d} {self.symbol(s.of)}}}{{{self.d} {self.symbol(s.wrt)}}}"
        if s.name == "x":
            return f"{self.input}_{{{self.index(s.index[0])}}}"
        if s.name == "w":
            return f"{self.weight_name}_{{{self.index(s.index[0])}}}"
        names = {"y": self.target, "gamma": r"\gamma", "h": rf"h(\mathbf{{{self.input}}})", "loss": self.loss_name,
                 "lr": self.lr, "change": rf"\Delta {self.loss_name}"}
        return names[s.name]


def logistic_notation(notation: Notation, constant_feature: bool = False) -> LogisticNotation:
    """The same profile (step size, derivative letter, input and target letters) with this family's symbols."""
    return replace(notation.retyped(LogisticNotation), constant_feature=constant_feature)


@dataclass(frozen=True)
class Instance:
    """One example and the current weights; indices start at 0 with a constant feature, else at 1."""

    x: tuple[Fraction, ...]
    w: tuple[Fraction, ...]
    y: int
    learning_rate: Fraction
    constant_feature: bool

    @property
    def indices(self) -> list[int]:
        """The printed index of each weight (0 is the bias weight of the constant feature)."""
        first = 0 if self.constant_feature else 1
        return list(range(first, first + len(self.w)))

    @property
    def features(self) -> tuple[Fraction, ...]:
        """Every feature, the constant 1 first when there is one."""
        return ((Fraction(1),) if self.constant_feature else ()) + self.x

    @classmethod
    def from_params(cls, params: Any) -> "Instance":
        """Validate pinned parameters; errors name the key (params.w)."""
        if not isinstance(params, Mapping):
            raise BankError("params: expected a mapping with x, w, y and learning_rate")
        unknown = sorted(str(k) for k in params if k not in PARAM_KEYS)
        if unknown:
            raise BankError(f"params: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(PARAM_KEYS)}")
        for key in ("x", "w", "y", "learning_rate"):
            if key not in params:
                raise BankError(f"params: missing key '{key}'")
        constant = params.get("constant_feature", False)
        if not isinstance(constant, bool):
            raise BankError(f"params.constant_feature: expected true or false, got {constant!r}")
        x = _numbers(params["x"], "params.x")
        w = _numbers(params["w"], "params.w")
        if len(w) != len(x) + constant:
            need = f"{len(x)} + 1 (w₀ of the constant feature first)" if constant else str(len(x))
            raise BankError(f"params.w: has {len(w)} weights, the {len(x)} features need {need}")
        y = params["y"]
        if isinstance(y, bool) or y not in (0, 1):
            raise BankError(f"params.y: the label must be 0 or 1, got {y!r}")
        lr = _numbers([params["learning_rate"]], "params.learning_rate")[0]
        if lr <= 0:
            raise BankError(f"params.learning_rate: must be positive, got {numeric.decimal_str(lr)}")
        return cls(x, w, int(y), lr, constant)

    def to_params(self) -> dict[str, Any]:
        """The JSON-able parameters (exact numbers as they round-trip)."""
        return {"x": [param_number(v) for v in self.x], "w": [param_number(v) for v in self.w], "y": self.y,
                "learning_rate": param_number(self.learning_rate), "constant_feature": self.constant_feature}


def _numbers(v: Any, where: str) -> tuple[Fraction, ...]:
    if not isinstance(v, (list, tuple)) or not v:
        raise BankError(f"{where}: expected a non-empty list of numbers, got {v!r}")
    out = []
    for i, item in enumerate(v):
        try:
            if isinstance(item, bool):
                raise TypeError
            out.append(numeric.exact(item))
        except (TypeError, ValueError, ZeroDivisionError):
            raise BankError(f"{where}[{i}]: {item!r} is not a number (write 2, -0.5 or 1/3)") from None
    return tuple(out)


def build_trace(inst: Instance) -> Trace:
    """Forward pass, loss, gradient, one SGD step and the loss after it (see the module docstring).

    >>> t = build_trace(Instance.from_params({"x": [2], "w": [0], "y": 1, "learning_rate": 1}))
    >>> t["h"], t["dL_dw[1]"], t["w[1]_new"]
    (Fraction(1, 2), Fraction(-1, 1), Fraction(1, 1))
    """
    t = Trace()
    idx = inst.indices
    for j, v in zip(idx, inst.features):
        t.given(f"x[{j}]", Sym("x", index=(j,)), v)
    for j, v in zip(idx, inst.w):
        t.given(f"w[{j}]", Sym("w", index=(j,)), v)
    t.given("y", Sym("y"), inst.y)
    t.given("lr", Sym("lr"), inst.learning_rate)
    _model(t, idx, "", Sym("gamma"), Sym("h"), Sym("loss"))
    for j in idx:
        t.add(f"dL_dw[{j}]", Sym("d", of=Sym("loss"), wrt=Sym("w", index=(j,))),
              Neg(Prod((Ref(f"x[{j}]"), Sub(Ref("y"), Ref("h"))))), "grad")
    for j in idx:
        t.add(f"w[{j}]_new", Sym("new", of=Sym("w", index=(j,))),
              Sub(Ref(f"w[{j}]"), Prod((Ref("lr"), Ref(f"dL_dw[{j}]")))), "update")
    _model(t, idx, "_new", Sym("new", of=Sym("gamma")), Sym("new", of=Sym("h")), Sym("new", of=Sym("loss")))
    t.add("loss_change", Sym("change"), Sub(Ref("loss_new"), Ref("loss")), "loss")
    return t


def _model(t: Trace, idx: list[int], suffix: str, gamma: Sym, h: Sym, loss: Sym) -> None:
    """γ = Σ wᵢxᵢ, h = σ(γ) and the cross-entropy loss, with the weights w[i]{suffix}."""
    t.add(f"gamma{suffix}", gamma, Sum(tuple(Prod((Ref(f"w[{j}]{suffix}"), Ref(f"x[{j}]"))) for j in idx)))
    t.add(f"h{suffix}", h, Fn("sigmoid", (Ref(f"gamma{suffix}"),)))
    t.add(f"loss{suffix}", loss, fn.loss_term("binary_cross_entropy", Ref("y"), Ref(f"h{suffix}")), "loss")


class LogisticSgd:
    """See the module docstring."""

    name = "logistic-sgd"
    summary = ("Logistic regression with cross-entropy: derive dL/dw_j and the SGD update, then one step on an "
               "example: h(x), loss, gradient, new weights, did the loss go down (seed 003 Q1).")
    template = "families/logistic-sgd.tex.j2"
    default_domain: dict[str, Any] = {
        "features": [2, 3],
        "x": {"integers": [-3, 3], "exclude": [0]},
        "w": [-2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2],
        "y": [0, 1],
        "learning_rate": [0.1, 0.5, 1],
        "constant_feature": [False, True],
    }
    calculator_needed = "the loss after the step takes σ off any table"
    shared = ("features", "constant_feature")  # drawn once per exam
    domain_limits = {"features": (1, 6)}
    constraints = ("no_saturation", "nonzero_derivatives", "loss_decreases", "target_not_reached")

    # -- sampling ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, domain: Mapping[str, Any], rules: Rules = DEFAULT) -> dict[str, Any]:
        """Draw parameters until the instance is a fair question (see `problems`)."""
        def attempt() -> tuple[dict[str, Any], list[str]]:
            params = self._draw(rng, domain)
            return params, self.problems(params, rules=rules)

        return draw_fair(self.name, attempt, "smaller weights or features, no 0 feature", rules=rules)

    def _draw(self, rng: np.random.Generator, d: Mapping[str, Any]) -> dict[str, Any]:
        k = draw(rng, d["features"], "domain.features")
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise BankError(f"domain.features: expected whole numbers of features ≥ 1, got {k!r}")
        constant = draw(rng, d["constant_feature"], "domain.constant_feature")
        if not isinstance(constant, bool):
            raise BankError(f"domain.constant_feature: expected true or false, got {constant!r}")
        return {"x": draw(rng, d["x"], "domain.x", k), "w": draw(rng, d["w"], "domain.w", k + bool(constant)),
                "y": draw(rng, d["y"], "domain.y"), "learning_rate": draw(rng, d["learning_rate"], "domain.learning_rate"),
                "constant_feature": constant}

    def problems(self, params: Mapping[str, Any], places: int = 4, rules: Rules = DEFAULT) -> list[str]:
        """The fairness constraints an instance breaks, as `constraint: detail` (empty: a good question)."""
        inst = Instance.from_params(params)
        out: list[str] = []
        gamma = sum(float(w) * float(x) for w, x in zip(inst.w, inst.features))
        if abs(gamma) > SATURATION and rules.on("no_saturation"):
            return [problem("no_saturation", f"h(x) saturated (|Σ wᵢxᵢ| > {SATURATION})")]
        h = 1 / (1 + np.exp(-gamma))
        if abs(h - float(inst.y)) < MIN_MISS:
            out.append(problem("target_not_reached", f"h(x) is within {MIN_MISS} of the label"))
        if any(x == 0 for x in inst.x):
            out.append(problem("nonzero_derivatives", "a feature is 0 (its gradient component is 0)"))
        t = build_trace(inst)
        tiny = 0.5 * 10 ** -places
        if any(abs(numeric.to_float(t[f"dL_dw[{j}]"])) < tiny for j in inst.indices):
            out.append(problem("nonzero_derivatives", f"a gradient component is 0 at {places} decimals"))
        if abs(numeric.to_float(t["loss_change"])) < tiny:
            out.append(problem("loss_decreases", f"the change of the loss is invisible at {places} decimals"))
        return rules.keep(out)

    # -- building ------------------------------------------------------------------------
    def build(self, params: Mapping[str, Any], notation: Notation, places: int) -> Question:
        """The question for fixed parameters (sampled, or pinned by a bank or --params)."""
        inst = Instance.from_params(params)
        t = build_trace(inst)
        nt = logistic_notation(notation, inst.constant_feature)
        parts = _derivation_parts(nt) + _numeric_parts(inst, t, nt, places)
        prompt, model, items = concept(nt)
        parts.append(Part(id="concept", prompt=prompt, kind="text", points=3, answer="", answer_tex="",
                          section="Concepts", box_cm=5, model=model, rubric=rubric(*items)))
        solution = {"objective": json_number(t["loss"]),
                    "gradient": [json_number(t[f"dL_dw[{j}]"]) for j in inst.indices],
                    "updated": [json_number(t[f"w[{j}]_new"]) for j in inst.indices],
                    "objective_after": json_number(t["loss_new"])}
        return Question(self.name, "Logistic regression by stochastic gradient descent", inst.to_params(), t, nt,
                        parts, self.template, _statement(inst, nt, places), solution)


def _sympy_name(tex: str, fallback: str) -> str:
    """The name a symbolic answer uses for a symbol (\\lambda is `lamda`, sympy's spelling; `fallback` if not a name)."""
    name = tex.lstrip("\\")
    return "lamda" if name == "lambda" else name if name.isalpha() else fallback


def _derivation_parts(nt: LogisticNotation) -> list[Part]:
    d, h, x, y, w, L = nt.d, rf"h(\mathbf{{{nt.input}}})", nt.input, nt.target, nt.weight_name, nt.loss_name
    xj, wj = f"{x}_j", f"{w}_j"
    sig = rf"\sigma'\Bigl(\sum_i {w}_i {x}_i\Bigr)"
    dLdw = rf"\frac{{{d} {L}}}{{{d} {wj}}}"
    steps = (
        rf"{dLdw} = \frac{{{d} {L}}}{{{d} h}}\,\frac{{{d} h}}{{{d} \gamma}}\,\frac{{{d} \gamma}}{{{d} {wj}}}, \quad "
        rf"\gamma = \sum_i {w}_i {x}_i,\quad \frac{{{d} \gamma}}{{{d} {wj}}} = {xj} \quad\text{{(chain rule)}}",
        rf"{dLdw} = -\left[\frac{{{y}}}{{{h}}}\,{sig}\,{xj} - \frac{{1-{y}}}{{1-{h}}}\,{sig}\,{xj}\right]",
        rf"\phantom{{{dLdw}}} = -\left[\frac{{{y}}}{{{h}}}\,{h}\bigl(1-{h}\bigr){xj} "
        rf"- \frac{{1-{y}}}{{1-{h}}}\,{h}\bigl(1-{h}\bigr){xj}\right] \quad\text{{(hint)}}",
        rf"\phantom{{{dLdw}}} = -\bigl[{y}\bigl(1-{h}\bigr){xj} - (1-{y})\,{h}\,{xj}\bigr]",
        rf"\phantom{{{dLdw}}} = -{xj}\bigl[{y} - {y}\,{h} - {h} + {y}\,{h}\bigr]",
        rf"\phantom{{{dLdw}}} = -{xj}\bigl({y} - {h}\bigr)",
    )
    grad_tex = rf"-{xj}\bigl({y} - {h}\bigr)"
    update_tex = rf"{wj} + {nt.lr}\,{xj}\bigl({y} - {h}\bigr)"
    lr_name, y_name, w_name = _sympy_name(nt.lr, "eta"), _sympy_name(y, "y"), _sympy_name(w, "w")
    section = "Derivation"
    return [
        Part(id="derive.grad", prompt=rf"Find ${d} {L} / {d} {wj}$. "
             r"Hint: $\sigma'(\gamma) = \sigma(\gamma)\bigl(1 - \sigma(\gamma)\bigr)$. "
             rf"Simplify as far as you can and write the result in terms of ${xj}$, ${y}$ and $h = {h}$.",
             kind="expression", points=2, answer=f"-{x}_j*({y_name} - h)", answer_tex=grad_tex, section=section,
             worked=steps, box_cm=5, accept=(f"{x}_j*(h - {y_name})",), formula=FormulaSpec((f"{x}_j", y_name, "h"))),
        Part(id="derive.update",
             prompt=rf"Write the stochastic gradient descent update for ${wj}$ with step size ${nt.lr}$, "
             rf"in terms of ${wj}$, ${nt.lr}$, ${xj}$, ${y}$ and $h = {h}$.",
             kind="expression", points=1, answer=f"{w_name}_j + {lr_name}*{x}_j*({y_name} - h)", answer_tex=update_tex,
             section=section, box_cm=2,
             worked=(rf"{wj} \leftarrow {wj} - {nt.lr}\,{dLdw} = {wj} - {nt.lr}\bigl(-{xj}({y} - {h})\bigr) "
                     rf"= {update_tex}",),
             accept=(f"{w_name}_j - {lr_name}*{x}_j*(h - {y_name})",),
             formula=FormulaSpec((f"{w_name}_j", lr_name, f"{x}_j", y_name, "h"))),
    ]


def _numeric_parts(inst: Instance, t: Trace, nt: LogisticNotation, places: int) -> list[Part]:
    idx = inst.indices
    section = "A numeric example"
    explain = lambda key: t.explain(key, nt, places)  # noqa: E731
    L = nt.loss_name

    def number(id: str, prompt: str, keys: list[str], *, points: float = 1, worked: tuple[str, ...] = ()) -> Part:
        part = number_part(t, nt, id=id, prompt=prompt, keys=keys, places=places, section=section, points=points)
        return replace(part, worked=worked + part.worked) if worked else part

    weights = ", ".join(t.symbol(f"w[{j}]", nt) for j in idx)
    parts = [
        number("h", rf"What is the prediction $h(\mathbf{{{nt.input}}})$ for this example?", ["h"],
               worked=(explain("gamma"),)),
        number("loss", f"What is the loss ${L}$ on this example?", ["loss"]),
        number("grad", rf"What is the gradient: ${nt.d} {L} / {nt.d} {nt.weight_name}_j$ for every weight (${weights}$)?",
               [f"dL_dw[{j}]" for j in idx], points=2),
        number("update", rf"What are the weights (${weights}$) after one SGD step with ${nt.lr} = "
               rf"{numeric.decimal_str(inst.learning_rate)}$?", [f"w[{j}]_new" for j in idx], points=2),
        number("loss_new", "What is the loss on this example with the updated weights?", ["loss_new"],
               worked=(explain("gamma_new"), explain("h_new"))),
    ]
    went_down = numeric.compare(t["loss_change"], 0) < 0  # exactly, as the grader's `decide` does
    answer = "yes" if went_down else "no"
    relation = "<" if went_down else r"\ge"
    parts.append(Part(id="decrease", prompt="Did the loss on this example go down after the step? (yes or no)",
                      kind="label", points=1, answer=answer, answer_tex=rf"\text{{{answer}}}", section=section,
                      box_cm=1.0, decide={"left": "loss_new", "op": "<", "right": "loss", "labels": ["yes", "no"]}, worked=(explain("loss_change"),
                                          rf"{t.symbol('loss_change', nt)} {relation} 0 \Rightarrow \text{{{answer}}}")))
    return parts


def _statement(inst: Instance, nt: LogisticNotation, places: int) -> dict[str, Any]:
    idx = inst.indices

    def row(key: str, values) -> str:
        names = ", ".join(nt.symbol(Sym(key, index=(j,))) for j in idx)
        numbers = ", ".join(numeric.decimal_str(v, places) for v in values)
        return rf"({names}) = ({numbers})"

    first = nt.index(1)  # the general statement's features: x_1 … x_k, or x_0 … x_{k-1} from index base 0
    return {
        "x": nt.input,
        "y": nt.target,
        "w": nt.weight_name,
        "loss": nt.loss_name,
        "first": str(first),
        "last": "k" if first == 1 else "{k-1}",  # written as a subscript
        "lr": nt.lr,
        "d": nt.d,
        "k": len(inst.x),
        "constant_feature": inst.constant_feature,
        "features": row("x", inst.features),
        "weights": row("w", inst.w),
        "label": str(inst.y),
        "learning_rate": numeric.decimal_str(inst.learning_rate),
    }


FAMILY = LogisticSgd()
