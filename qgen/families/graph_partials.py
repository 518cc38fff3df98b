"""Family `graph-partials`: partial derivatives of a small two-path network "without a calculator" (seed 003 Q2b).

    r1 = max(c·x1 + e·x2, 0)   r2 = max(d·x1 + f·x2, 0)   s1 = σ(a·r1)   s2 = σ(b·r2)   y = s1 + s2

The statement gives the forward values rounded as the document does (r as they are — whole
numbers for whole weights — s and y to 1 decimal, e.g. σ(2) ≈ 0.9) and asks for ∂y/∂a … ∂y/∂f.
Two Traces: `stated` (r, s, y are the given rounded numbers; the key's answers, as the
document's 0.18) and `exact` (σ at full precision; 0.2100, accepted too).

Parameters (the pin form):
    x: [1, -1]
    weights: {a: 1, b: 1, c: 4, d: 1, e: 2, f: 2}
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from fractions import Fraction
from typing import Any, Mapping

import numpy as np

from qgen import expr as ex
from qgen import numeric
from qgen.errors import BankError
from qgen.expr import Const, Fn, Prod, Ref, Sub, Sum
from qgen.families.base import Handover, Part, Question, number_part
from qgen.families.domain import draw, draw_fair
from qgen.families.rules import DEFAULT, Rules, problem
from qgen.nn.network import param_number
from qgen.notation import Notation, Sym, literal
from qgen.render.graph_tikz import GraphNode, draw_graph
from qgen.trace import Trace

WEIGHTS = ("a", "b", "c", "d", "e", "f")
PATHS = {1: ("a", "c", "e"), 2: ("b", "d", "f")}  # path p: output weight, weight of x1, weight of x2
MAX_RELATIVE_GAP = Fraction(1, 4)  # a stated-value partial may differ from the exact one by 25 %
MIN_NONZERO = 3
PATH_TRIES = 60
ONE = Const(Fraction(1))


def partial_key(w: str) -> str:
    return f"dy_d{w}"


def _r(p: int) -> str:
    return f"r[{p}]"


def _s(p: int) -> str:
    return f"s[{p}]"


class PathNotation(Notation):
    """The document's names (weights a … f, r, s, y) with the course's input letter and index base.

    >>> from qgen.notation import resolve
    >>> nt = resolve({"profile": "theta", "input": "u"}).retyped(PathNotation)
    >>> nt.symbol(Sym("x", index=(1,))), nt.symbol(Sym("r", index=(2,)))
    ('u_{0}', 'r_{1}')
    """

    def symbol(self, s: Sym) -> str:
        """LaTeX for an input x_k, a unit r_p or s_p (numbered from the index base), or a literal name."""
        if s.name in ("x", "r", "s"):
            return f"{self.input if s.name == 'x' else s.name}_{{{self.unit(s.index[0])}}}"
        return super().symbol(s)


def _inputs(t: Trace, x: tuple[Fraction, Fraction], weights: Mapping[str, Fraction]) -> None:
    t.given("x[1]", Sym("x", index=(1,)), x[0])
    t.given("x[2]", Sym("x", index=(2,)), x[1])
    for w in WEIGHTS:
        t.given(w, literal(w), weights[w])


def _partials(t: Trace) -> None:
    """∂y/∂w for the six weights, from r, s and the inputs in `t` (the document's chains)."""
    for p, (out_w, w1, w2) in PATHS.items():
        r, s = Ref(_r(p)), Ref(_s(p))
        sigma_slope = (s, Sub(ONE, s))  # ∂s/∂(w·r) = s(1 − s)
        t.add(partial_key(out_w), Sym("d", of=literal("y"), wrt=literal(out_w)), Prod((r, *sigma_slope)), "grad")
        for w, xk in ((w1, "x[1]"), (w2, "x[2]")):
            chain = Prod((Ref(out_w), *sigma_slope, Fn("step", (r,)), Ref(xk)))
            t.add(partial_key(w), Sym("d", of=literal("y"), wrt=literal(w)), chain, "grad")


def exact_trace(x: tuple[Fraction, Fraction], weights: Mapping[str, Fraction]) -> Trace:
    """Forward pass at full precision, then the partials."""
    t = Trace()
    _inputs(t, x, weights)
    for p, (out_w, w1, w2) in PATHS.items():
        pre = Sum((Prod((Ref(w1), Ref("x[1]"))), Prod((Ref(w2), Ref("x[2]")))))
        t.add(_r(p), Sym("r", index=(p,)), Fn("max", (pre, Const(Fraction(0)))))
        t.add(_s(p), Sym("s", index=(p,)), Fn("sigmoid", (Prod((Ref(out_w), Ref(_r(p)))),)))
    t.add("y", literal("y"), Sum((Ref(_s(1)), Ref(_s(2)))))
    _partials(t)
    return t


def stated_values(exact: Trace) -> dict[str, Fraction]:
    """The forward values as the statement gives them: r as is (to 2 decimals at most), s and y to 1 decimal."""
    out = {}
    for k in (_r(1), _r(2)):
        v = exact[k]
        places = numeric.terminating_places(v)
        out[k] = Fraction(v) if places is not None and places <= 2 else Fraction(str(numeric.round_to(v, 2)))
    for k in (_s(1), _s(2), "y"):
        out[k] = Fraction(str(numeric.round_to(exact[k], 1)))
    return out


def stated_trace(x: tuple[Fraction, Fraction], weights: Mapping[str, Fraction],
                 stated: Mapping[str, Fraction]) -> Trace:
    """The partials from the stated (rounded) forward values, which are given quantities here."""
    t = Trace()
    _inputs(t, x, weights)
    for p in PATHS:
        t.given(_r(p), Sym("r", index=(p,)), stated[_r(p)])
    for p in PATHS:
        t.given(_s(p), Sym("s", index=(p,)), stated[_s(p)])
    t.given("y", literal("y"), stated["y"])
    _partials(t)
    return t


def parse(params: Mapping[str, Any]) -> tuple[tuple[Fraction, Fraction], dict[str, Fraction]]:
    """Validated inputs and weights; errors name the key (params.weights.c)."""
    if not isinstance(params, Mapping) or "x" not in params or "weights" not in params:
        raise BankError("params: expected a mapping with x: [x1, x2] and weights: {a: …, …, f: …}")
    unknown = sorted(str(k) for k in params if k not in ("x", "weights"))
    if unknown:
        raise BankError(f"params: unknown key(s) {', '.join(unknown)}; allowed: x, weights")
    raw_x, raw_w = params["x"], params["weights"]
    if not isinstance(raw_x, list) or len(raw_x) != 2:
        raise BankError(f"params.x: expected two inputs [x1, x2], got {raw_x!r}")
    if not isinstance(raw_w, Mapping) or set(raw_w) != set(WEIGHTS):
        raise BankError(f"params.weights: expected exactly the weights {', '.join(WEIGHTS)}, got {raw_w!r}")

    def number(v: Any, where: str) -> Fraction:
        try:
            return numeric.exact(v)
        except (TypeError, ValueError, ZeroDivisionError):
            raise BankError(f"{where}: {v!r} is not a number (write 2, -0.5 or 1/2)") from None

    x = (number(raw_x[0], "params.x[0]"), number(raw_x[1], "params.x[1]"))
    return x, {w: number(raw_w[w], f"params.weights.{w}") for w in WEIGHTS}


_CHECKED = Handover()  # the traces `problems` built for the draw it checked last


def _key(x: tuple[Fraction, Fraction], weights: Mapping[str, Fraction]) -> tuple[Fraction, ...]:
    return (*x, *(weights[w] for w in WEIGHTS))


def problems(params: Mapping[str, Any], rules: Rules = DEFAULT) -> list[str]:
    """The fairness constraints an instance breaks, as `constraint: detail` (empty: a good question)."""
    x, weights = parse(params)
    out: list[str] = []
    for _, w1, w2 in PATHS.values():
        if weights[w1] * x[0] + weights[w2] * x[1] == 0:
            out.append(problem("relu_not_at_kink", "a ReLU input is exactly 0"))
    exact = exact_trace(x, weights)
    stated = stated_values(exact)
    if any(stated[_s(p)] in (0, 1) for p in PATHS):
        out.append(problem("no_saturation", "a stated σ rounds to 0 or 1 (σ input beyond ±2)"))
    if stated["y"] != stated[_s(1)] + stated[_s(2)]:
        out.append(problem("consistent_statement", f"the stated y = {float(stated['y']):g} is not the stated "
                                                   f"s1 + s2 = {float(stated[_s(1)] + stated[_s(2)]):g}"))
    if stated[_r(1)] > 0 and all(stated[f"{q}[1]"] == stated[f"{q}[2]"] for q in ("r", "s")):
        out.append(problem("well_posed", "both live paths have the same stated r and s"))
    rounded = stated_trace(x, weights, stated)
    _CHECKED.keep(_key(x, weights), (exact, stated, rounded))
    nonzero = 0
    for w in WEIGHTS:
        e, r = exact[partial_key(w)], rounded[partial_key(w)]
        if (e > 0) - (e < 0) != (r > 0) - (r < 0):
            out.append(problem("well_posed", "a stated-value partial and the exact one differ in sign"))
        elif e != 0 and abs(numeric.to_float(r) - numeric.to_float(e)) > MAX_RELATIVE_GAP * abs(numeric.to_float(e)):
            out.append(problem("well_posed", "a stated-value partial is more than 25% off the exact one"))
        nonzero += r != 0
    if nonzero < MIN_NONZERO:
        out.append(problem("nonzero_derivatives", f"fewer than {MIN_NONZERO} non-zero partials"))
    return rules.keep(dict.fromkeys(out))


class GraphPartials:
    """See the module docstring."""

    name = "graph-partials"
    summary = ("Two-path ReLU→sigmoid network y = σ(a·r1) + σ(b·r2): ∂y/∂a … ∂y/∂f from stated rounded "
               "forward values, without a calculator (seed 003 Q2b).")
    template = "families/graph-partials.tex.j2"
    default_domain: dict[str, Any] = {
        "x": {"integers": [-2, 2], "exclude": [0]},
        "hidden_weights": {"integers": [-3, 4], "exclude": [0]},
        "output_weights": {"integers": [-2, 2], "exclude": [0]},
        "dead_paths": [1],  # seed 003 has one dead ReLU path; [0, 1] mixes versions of unequal work
    }
    shared = ("dead_paths",)  # drawn once per exam: a dead path halves the work
    calculator_free = True  # built for it (seed 003 Q2b): the statement gives rounded forward values
    no_calculator_domain: dict[str, Any] = {}
    domain_limits = {"dead_paths": (0, 1)}
    constraints = ("relu_not_at_kink", "no_saturation", "well_posed", "nonzero_derivatives", "consistent_statement")
    # the partials are small multiples of one stated σ′ (seed 003: 0.18, 0.09, −0.09): equal values are the norm
    relaxed = ("distinct_answers",)

    def sample(self, rng: np.random.Generator, domain: Mapping[str, Any], rules: Rules = DEFAULT) -> dict[str, Any]:
        """Draw inputs, then each path's weights (alive or dead as wanted), until the question is fair."""
        wanted = draw(rng, domain["dead_paths"], "domain.dead_paths")
        if wanted not in (0, 1):
            raise BankError(f"domain.dead_paths: choose from 0 and 1 (dead ReLU paths), got {wanted!r}")

        def attempt() -> tuple[dict[str, Any] | None, list[str]]:
            x = draw(rng, domain["x"], "domain.x", 2)
            dead = {1 + int(rng.integers(2))} if wanted else set()
            weights: dict[str, Any] = {}
            for p in PATHS:
                found = _path(rng, domain, x, p, alive=p not in dead)
                if found is None:
                    wish = "dead" if p in dead else "alive with σ input within ±2"
                    return None, [f"no weights make path {p} {wish}"]
                weights.update(found)
            params = {"x": x, "weights": {w: weights[w] for w in WEIGHTS}}
            return params, problems(params, rules)

        return draw_fair(self.name, attempt, "x, hidden_weights, output_weights", rules=rules)

    def problems(self, params: Mapping[str, Any], rules: Rules = DEFAULT) -> list[str]:
        """The fairness constraints an instance breaks, as `constraint: detail` (empty: a good question)."""
        return problems(params, rules)

    def build(self, params: Mapping[str, Any], notation: Notation, places: int) -> Question:
        """The question for fixed parameters (sampled, or pinned by a bank or --params)."""
        x, weights = parse(params)
        nt = replace(notation.retyped(PathNotation), d=r"\partial")  # a weight is called d: dy/dd would confuse
        checked = _CHECKED.take(_key(x, weights))  # the sampler's check of this draw built them already
        if checked is None:
            exact = exact_trace(x, weights)
            stated = stated_values(exact)
            checked = (exact, stated, stated_trace(x, weights, stated))
        exact, stated, t = checked
        parts = [_part(t, exact, nt, w, places) for w in WEIGHTS]
        fmt = numeric.decimal_str
        context = {
            "x": [fmt(v) for v in x],
            "weights": [(w, fmt(weights[w])) for w in WEIGHTS],
            "stated": [(t.symbol(k, nt), fmt(stated[k])) for k in (_r(1), _r(2), _s(1), _s(2), "y")],
            "exact_forward": [exact.explain(k, nt, places) for k in (_r(1), _r(2), _s(1), _s(2), "y")],
            "figure": figure(nt),
            "names": {k.replace("[", "").rstrip("]"): t.symbol(k, nt) for k in ("x[1]", "x[2]", *map(_r, PATHS),
                                                                               *map(_s, PATHS))},
        }
        stored = {"x": [param_number(v) for v in x], "weights": {w: param_number(weights[w]) for w in WEIGHTS}}
        solution = {
            "stated_forward": {k: numeric.to_float(v) for k, v in stated.items()},
            "exact_forward": {k: numeric.to_float(exact[k]) for k in (_r(1), _r(2), _s(1), _s(2), "y")},
            "partials_from_stated": {w: numeric.to_float(t[partial_key(w)]) for w in WEIGHTS},
            "partials_exact": {w: numeric.to_float(exact[partial_key(w)]) for w in WEIGHTS},
        }
        return Question(self.name, "Backpropagation without a calculator", stored, t, nt, parts, self.template,
                        context, solution)


def _path(rng: np.random.Generator, domain: Mapping[str, Any], x: list[Any], p: int, *,
          alive: bool) -> dict[str, Any] | None:
    """Weights of path p whose ReLU input is > 0 with σ(w·r) not rounding to 0 or 1 (alive), or < 0 (dead)."""
    out_w, w1, w2 = PATHS[p]
    for _ in range(PATH_TRIES):
        a = draw(rng, domain["output_weights"], "domain.output_weights")
        c, e = draw(rng, domain["hidden_weights"], "domain.hidden_weights", 2)
        z = float(numeric.exact(c) * numeric.exact(x[0]) + numeric.exact(e) * numeric.exact(x[1]))
        s = 1 / (1 + math.exp(-float(numeric.exact(a)) * z)) if z > 0 else 0.5
        if (alive and z > 0 and 0.05 <= s < 0.95) or (not alive and z < 0):
            return {out_w: a, w1: c, w2: e}
    return None


def _part(t: Trace, exact: Trace, nt: Notation, w: str, places: int) -> Part:
    """∂y/∂w: the answer from the stated values; the exact-chain value beside it and accepted too."""
    k = partial_key(w)
    part = number_part(t, nt, id=f"grad.{w}", prompt=rf"What is $\displaystyle {t.symbol(k, nt)}$?", keys=[k],
                       places=places, section="Backpropagation")
    value, shown = exact[k], numeric.decimal_str(exact[k], places)
    numbers = ex.latex(exact.expanded(k), lambda q: numeric.decimal_str(exact[q], places))
    sign = "=" if numeric.is_shown_exactly(value, places) else r"\approx"
    exact_line = rf"\text{{exact forward values: }} {t.symbol(k, nt)} = {numbers} {sign} {shown}"
    same = numeric.to_float(value) == part.answer
    return replace(part, answer_tex=part.answer_tex if same else rf"{part.answer_tex} \quad (\text{{exact: }}{{{shown}}})",
                   worked=part.worked + (exact_line,), accept=() if same else (numeric.to_float(value),))


def figure(nt: Notation) -> str:
    """The network as TikZ: inputs, r, s, y, with the weights on their edges (names in `nt`)."""
    return _figure(tuple(nt.symbol(Sym(letter, index=(k,))) for letter in "xrs" for k in (1, 2)))


@functools.lru_cache(maxsize=64)  # the same for every version (only the names change the drawing): its layout is a search
def _figure(names: tuple[str, ...]) -> str:
    """The figure with these names of x₁, x₂, r₁, r₂, s₁, s₂."""
    x1, x2, r1, r2, s1, s2 = names
    nodes = [GraphNode("x1", x1, kind="input"), GraphNode("x2", x2, kind="input"),
             GraphNode("r1", r1, ("x1", "x2")), GraphNode("r2", r2, ("x1", "x2")),
             GraphNode("s1", s1, ("r1",)), GraphNode("s2", s2, ("r2",)),
             GraphNode("y", "y", ("s1", "s2"))]
    labels = {("x1", "r1"): "c", ("x2", "r1"): "e", ("x1", "r2"): "d", ("x2", "r2"): "f",
              ("r1", "s1"): "a", ("r2", "s2"): "b"}
    return draw_graph(nodes, edge_labels=labels, column_gap=2.8, row_gap=1.8)


FAMILY = GraphPartials()
