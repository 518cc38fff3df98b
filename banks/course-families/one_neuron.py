"""Family `one-neuron`: one sigmoid neuron with two inputs and the squared error, then one gradient step.

Written by `qgen family new one-neuron` as a start: a small, complete family. docs/families.md explains
every piece; change the network, the parts and the template, and run its test (`pytest tests/`).

The question: z = w1 x1 + w2 x2 + b, a = σ(z), L = (a − y)². Asked: z, a, L, the chain-rule
factors ∂L/∂a and ∂a/∂z, the gradients ∂L/∂w1, ∂L/∂w2, ∂L/∂b and w1 after one step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from qgen import numeric
from qgen.errors import BankError
from qgen.expr import Const, Fn, Pow, Prod, Ref, Sub, Sum
from qgen.families.base import Part, Question, number_part, rubric
from qgen.families.domain import draw, draw_fair
from qgen.families.rules import DEFAULT, Rules, problem, saturated
from qgen.notation import Notation, literal
from qgen.trace import Trace

INPUTS = (1, 2)


class OneNeuron:
    """See the module docstring."""

    name = "one-neuron"
    summary = "One sigmoid neuron, squared error: forward pass, loss, chain-rule factors, gradients, one step."
    template = "one-neuron.tex.j2"  # next to this file
    # every key a bank may override under `domain:`; a list is a set of choices
    default_domain: ClassVar[dict[str, Any]] = {
        "x": {"integers": [-3, 3], "exclude": [0]},
        "weights": {"integers": [-2, 2], "exclude": [0]},
        "bias": {"integers": [-2, 2]},
        "y": [0, 1],
        "learning_rate": [0.5, 1, 2],
    }
    shared: tuple[str, ...] = ()  # domain keys drawn once for the whole exam (none here)
    # the constraints `sample` enforces; a bank can switch each off (`constraints: {no_saturation: off}`)
    constraints = ("no_saturation", "target_not_reached")

    def sample(self, rng: np.random.Generator, domain: Mapping[str, Any], rules: Rules = DEFAULT) -> dict[str, Any]:
        """Draw parameters until they make a fair question."""

        def attempt() -> tuple[dict[str, Any] | None, list[str]]:
            params = {"x": draw(rng, domain["x"], "domain.x", len(INPUTS)),
                      "w": draw(rng, domain["weights"], "domain.weights", len(INPUTS)),
                      "b": draw(rng, domain["bias"], "domain.bias"),
                      "y": draw(rng, domain["y"], "domain.y"),
                      "learning_rate": draw(rng, domain["learning_rate"], "domain.learning_rate")}
            return params, self.problems(params)

        return draw_fair(self.name, attempt, "x, weights, bias", rules=rules)

    def problems(self, params: Mapping[str, Any]) -> list[str]:
        """The constraints these parameters break, as "constraint: detail" (empty: a fair question)."""
        x = [float(numeric.exact(v)) for v in params["x"]]
        w = [float(numeric.exact(v)) for v in params["w"]]
        z = sum(wi * xi for wi, xi in zip(w, x)) + float(numeric.exact(params["b"]))
        out = []
        if saturated("sigmoid", z):
            out.append(problem("no_saturation", f"z = {z:g} is where σ′ is nearly 0"))
        a = 1 / (1 + np.exp(-z))
        if abs(a - float(numeric.exact(params["y"]))) < 0.1:
            out.append(problem("target_not_reached", "the prediction is within 0.1 of its target"))
        return out

    def build(self, params: Mapping[str, Any], notation: Notation, places: int) -> Question:
        """The solved question for fixed parameters (drawn by `sample`, or pinned by a bank)."""
        for key in ("x", "w", "b", "y", "learning_rate"):
            if key not in params:
                raise BankError(f"params.{key}: missing; {self.name} takes x, w, b, y and learning_rate")
        t = Trace()
        for j in INPUTS:
            t.given(f"x[{j}]", literal(f"x_{{{j}}}"), numeric.exact(params["x"][j - 1]))
            t.given(f"w[{j}]", literal(f"w_{{{j}}}"), numeric.exact(params["w"][j - 1]))
        t.given("b", literal("b"), numeric.exact(params["b"]))
        t.given("y", literal("y"), numeric.exact(params["y"]))
        t.given("lr", literal(r"\eta"), numeric.exact(params["learning_rate"]))
        # forward pass: each quantity is a formula over earlier ones (worked lines and ECF come from them)
        t.add("z", literal("z"), Sum((Prod((Ref("w[1]"), Ref("x[1]"))), Prod((Ref("w[2]"), Ref("x[2]"))), Ref("b"))))
        t.add("a", literal("a"), Fn("sigmoid", (Ref("z"),)))
        t.add("L", literal("L"), Pow(Sub(Ref("a"), Ref("y")), 2), "loss")
        # backward pass: the local factors, then each gradient as their product
        t.add("dL_da", literal(r"\frac{\partial L}{\partial a}"), Prod((Const(2), Sub(Ref("a"), Ref("y")))), "factor")
        t.add("da_dz", literal(r"\frac{\partial a}{\partial z}"), Prod((Ref("a"), Sub(Const(1), Ref("a")))), "factor")
        for j in INPUTS:
            t.add(f"dL_dw[{j}]", literal(rf"\frac{{\partial L}}{{\partial w_{{{j}}}}}"),
                  Prod((Ref("dL_da"), Ref("da_dz"), Ref(f"x[{j}]"))), "grad")
        t.add("dL_db", literal(r"\frac{\partial L}{\partial b}"), Prod((Ref("dL_da"), Ref("da_dz"))), "grad")
        t.add("w[1]_new", literal("w_{1}'"), Sub(Ref("w[1]"), Prod((Ref("lr"), Ref("dL_dw[1]")))), "update")

        def number(id: str, prompt: str, keys: list[str], section: str, points: float = 1) -> Part:
            return number_part(t, notation, id=id, prompt=prompt, keys=keys, places=places, section=section,
                               points=points)

        fwd, back = "Forward pass", "Backpropagation"
        parts = [
            number("z", "What is $z$?", ["z"], fwd),
            number("a", r"What is $a = \sigma(z)$?", ["a"], fwd),
            number("loss", "What is the loss $L$?", ["L"], fwd),
            number("factor.dL_da", r"What is $\frac{\partial L}{\partial a}$?", ["dL_da"], back),
            number("factor.da_dz", r"What is $\frac{\partial a}{\partial z}$?", ["da_dz"], back),
            number("grad.w", r"What are $\frac{\partial L}{\partial w_1}$ and $\frac{\partial L}{\partial w_2}$?",
                   ["dL_dw[1]", "dL_dw[2]"], back, points=2),
            number("grad.b", r"What is $\frac{\partial L}{\partial b}$?", ["dL_db"], back),
            number("update.w1", r"What is $w_1$ after one gradient-descent step?", ["w[1]_new"], back),
            Part(id="why", prompt=r"Why does $\frac{\partial L}{\partial b}$ have no factor $x_j$?", kind="text",
                 points=2, answer="", answer_tex="", section=back, box_cm=3,
                 model=r"Because $\frac{\partial z}{\partial b} = 1$: the bias enters $z$ with coefficient 1.",
                 rubric=rubric((1, r"$\partial z/\partial b = 1$"),
                               (1, "the chain rule otherwise the same as for the weights"))),
        ]
        shown = {k: numeric.decimal_str(t[k]) for k in ("x[1]", "x[2]", "w[1]", "w[2]", "b", "y", "lr")}
        stored = {k: params[k] for k in ("x", "w", "b", "y", "learning_rate")}
        return Question(self.name, "One neuron: forward pass and backpropagation", stored, t, notation, parts,
                        self.template, shown)


FAMILY = OneNeuron()
