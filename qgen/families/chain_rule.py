"""Family `chain-rule`: the multivariate chain rule on y = m(g(x), h(x)) (seed 001 §2).

With u = g(x) and v = h(x): write dy/dx by the chain rule, compute it (a sympy expression),
evaluate it at a point x₀ (Trace nodes u, v, du/dx, dv/dx, ∂y/∂u, ∂y/∂v, dy/dx, so grading can
carry errors forward), and derive the differentiation rule of m (product, quotient, linearity).

>>> q = FAMILY.build({"m": "product", "g": "sin", "h": "x^2", "x0": "pi/2"}, None, 4)
>>> [p.answer for p in q.parts][1:3]
['x**2*cos(x) + 2*x*sin(x)', 3.141592653589793]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from qgen import numeric
from qgen.errors import BankError
from qgen.expr import Const, Div, Neg, Pow, Prod, Ref, Sum
from qgen.families.base import (
    FormulaSpec,
    FromFormula,
    Part,
    Question,
    number_part,
    rubric,
)
from qgen.families.chain_proofs import CHAIN, D_DX, rule_parts
from qgen.families.domain import Words, draw, draw_fair
from qgen.families.rules import DEFAULT, Rules, problem
from qgen.notation import Notation, Sym
from qgen.numeric import Value
from qgen.trace import Trace

X, U, V, A, B = sp.symbols("x u v a b")
X0 = sp.Symbol("x_0")

# Inner functions g, h by name; their text (str) is what the expression answers are written in.
INNER: dict[str, sp.Expr] = {
    "sin": sp.sin(X), "cos": sp.cos(X), "exp": sp.exp(X), "ln": sp.log(X), "tanh": sp.tanh(X),
    "x^2": X**2, "x^3": X**3, "x^4": X**4, "x^2+1": X**2 + 1, "3x-2": 3 * X - 2,
}
TRIG = ("sin", "cos")
# m(u, v) by name, with ∂m/∂u and ∂m/∂v as Trace formulas over the nodes u and v.
OUTER: dict[str, sp.Expr] = {"product": U * V, "quotient": U / V, "sum": U + V, "linear": A * U + B * V,
                             "product-square": U * V**2}
PARTIALS = {
    "product": (Ref("v"), Ref("u")),
    "quotient": (Div(Const(Fraction(1)), Ref("v")), Neg(Div(Ref("u"), Pow(Ref("v"), 2)))),
    "sum": (Const(Fraction(1)), Const(Fraction(1))),
    "product-square": (Pow(Ref("v"), 2), Prod((Const(Fraction(2)), Ref("u"), Ref("v")))),
}
SMALLEST, LARGEST = Fraction(1, 100), 30  # a fair dy/dx(x₀) (and every value on the way) lies within these
MAX_TRIES = 200  # few pools: a hopeless domain is found out fast
_PI_POINT = re.compile(r"^\s*([+-]?)\s*(\d+(?:/\d+)?)?\s*\*?\s*(?:pi|π)\s*(?:/\s*(\d+))?\s*$")
_OTHER_KEYS = ("notation", "precision")  # read by solve/bank before build



class _Undefined(BankError):
    """A function of the instance is undefined at x₀ (ln of a non-positive number, v(x₀) = 0 in a quotient)."""


@dataclass(frozen=True)
class Instance:
    """A validated parameter set: m, g, h by name, the point x₀ and m's coefficients (linear only)."""

    m: str
    g: str
    h: str
    x0: sp.Expr
    coefficients: tuple[int, int] | None = None

    @property
    def outer(self) -> sp.Expr:
        """m(u, v) with its coefficients filled in."""
        return _outer(self.m, self.coefficients)

    @property
    def y(self) -> sp.Expr:
        """y = m(g(x), h(x))."""
        return self.outer.subs({U: INNER[self.g], V: INNER[self.h]}, simultaneous=True)

    def params(self) -> dict[str, Any]:
        """The JSON-able params that rebuild this instance."""
        out: dict[str, Any] = {"m": self.m, "g": self.g, "h": self.h, "x0": str(self.x0)}
        if self.coefficients is not None:
            out["coefficients"] = list(self.coefficients)
        return out


@functools.lru_cache(maxsize=None)  # sympy's subs is slow, and there are few m and coefficients
def _outer(m: str, coefficients: tuple[int, int] | None) -> sp.Expr:
    a, b = coefficients or (1, 1)
    return OUTER[m].subs({A: a, B: b})


def parse_point(value: Any, where: str) -> sp.Expr:
    """x₀ from 2, 0.5, "1/2", "-3/2", "pi/4" or "2*pi/3" (an exact rational, or a rational times π).

    >>> parse_point("3pi/4", "x0"), parse_point(0.5, "x0")
    (3*pi/4, 1/2)
    """
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            q = numeric.exact(value)
            return sp.Rational(q.numerator, q.denominator)
        except (ValueError, ZeroDivisionError, TypeError):
            pass
        found = _PI_POINT.match(value.replace("\u2212", "-")) if isinstance(value, str) else None
        if found:
            sign, coefficient, den = found.groups()
            try:
                q = Fraction(coefficient or 1) / int(den or 1) * (-1 if sign == "-" else 1)
            except ZeroDivisionError:
                q = None
            if q is not None:
                return sp.Rational(q.numerator, q.denominator) * sp.pi
    raise BankError(f"{where}: expected a number (2, 0.5, 1/2) or a rational multiple of pi (pi/4, 2*pi/3), "
                    f"got {value!r}")


def _name(params: Mapping[str, Any], key: str, pool: Mapping[str, Any]) -> str:
    value = params.get(key)
    if not isinstance(value, str) or value not in pool:
        raise BankError(f"params.{key}: {value!r} is not one of {', '.join(pool)}")
    return value


def instance(params: Any) -> Instance:
    """Validate pinned or sampled params; a bad key is a BankError naming `params.<key>`."""
    if not isinstance(params, Mapping):
        raise BankError("params: expected a mapping like {m: product, g: sin, h: x^2, x0: 1/2}")
    unknown = sorted(set(params) - {"m", "g", "h", "x0", "coefficients", *_OTHER_KEYS})
    if unknown:
        raise BankError(f"params: unknown key(s) {', '.join(unknown)}; this family takes m, g, h, x0, coefficients")
    m, g, h = _name(params, "m", OUTER), _name(params, "g", INNER), _name(params, "h", INNER)
    if "x0" not in params:
        raise BankError("params.x0: missing; the point at which dy/dx is evaluated (e.g. 1/2 or pi/4)")
    coefficients = params.get("coefficients")
    if m == "linear":
        if (not isinstance(coefficients, list) or len(coefficients) != 2
                or not all(isinstance(c, int) and not isinstance(c, bool) and c != 0 for c in coefficients)):
            raise BankError(f"params.coefficients: m = linear (a·u + b·v) needs [a, b], two non-zero whole numbers, "
                            f"got {coefficients!r}")
        coefficients = tuple(coefficients)
    elif coefficients is not None:
        raise BankError(f"params.coefficients: only m = linear takes coefficients (m is {m})")
    return Instance(m, g, h, parse_point(params["x0"], "params.x0"), coefficients)


def value_of(e: sp.Expr, what: str, point: sp.Expr) -> Value:
    """An exact sympy number as a Fraction when rational, else a 50-digit mpf; undefined is an error."""
    e = sp.sympify(e)
    if e.is_Rational:
        return Fraction(int(e.p), int(e.q))
    approx = sp.N(e, 60)
    if not isinstance(approx, sp.Float):
        raise _Undefined(f"params.x0: {what} is undefined at x0 = {point}; choose another x0")
    return numeric.CTX.mpf(str(approx))


@functools.lru_cache(maxsize=8192)  # the same few functions, partials and points are printed for every version
def _tex(e: sp.Expr, **kw: Any) -> str:
    return sp.latex(e, ln_notation=True, **kw)


def _factor_tex(e: sp.Expr) -> str:
    """`e` as a factor of a product: sums and negative terms in parentheses."""
    text = _tex(e)
    return rf"\left({text}\right)" if isinstance(e, sp.Add) or text.startswith("-") else text


class _Symbols:
    """How this family writes its Trace nodes: x_0, u, v, du/dx, ∂y/∂u (generic calculus notation)."""

    name = "chain-rule"

    def symbol(self, s: Sym) -> str:
        if s.name == "d":
            d = r"\partial" if s.wrt.name in ("u", "v") else "d"
            return rf"\frac{{{d} {self.symbol(s.of)}}}{{{d} {self.symbol(s.wrt)}}}"
        return {"x0": "x_0"}.get(s.name, s.name)


SYMBOLS = _Symbols()


def _d(of: str, wrt: str) -> Sym:
    return Sym("d", of=Sym(of), wrt=Sym(wrt))


LEAF_SYMS = (Sym("x0"), Sym("u"), Sym("v"), _d("u", "x"), _d("v", "x"))  # the Trace's given nodes


class ChainRule:
    """See the module docstring."""

    name = "chain-rule"
    summary = ("y = m(g(x), h(x)): the multivariate chain rule, dy/dx symbolically and at a point, and the "
               "product/quotient rule derived from it (seed 001 §2).")
    template = "families/chain-rule.tex.j2"
    default_domain: dict[str, Any] = {
        "m": Words(["product", "quotient", "sum", "linear", "product-square"], list(OUTER)),
        "g": Words(["sin", "cos", "exp", "ln", "tanh", "x^2", "x^3", "x^4", "x^2+1", "3x-2"], list(INNER)),
        "h": Words(["sin", "cos", "exp", "ln", "tanh", "x^2", "x^3", "x^4", "x^2+1", "3x-2"], list(INNER)),
        # enough points that 500 versions of one outer function m are all different
        "x0": ["1/4", "1/2", "3/4", 1, "3/2", 2, "5/2", 3, "-1/2", -1, -2, "pi/6", "pi/4", "pi/3", "2pi/3"],
        "coefficients": {"integers": [-3, 3], "exclude": [0]},
    }
    constraints = ("well_posed", "nonzero_derivatives", "moderate_values")
    calculator_needed = "dy/dx at x0 takes sin, exp and ln at arbitrary points"
    shared = ("m",)  # drawn once per exam: a sum is 2 steps, a quotient up to 10, and only a product asks a proof

    # -- sampling ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, domain: Mapping[str, Any], rules: Rules = DEFAULT) -> dict[str, Any]:
        """Draw parameters until the instance is a fair question (see `problems`)."""
        def attempt() -> tuple[dict[str, Any], list[str]]:
            params = {key: draw(rng, domain[key], f"domain.{key}") for key in ("m", "g", "h", "x0")}
            parse_point(params["x0"], "domain.x0")
            if params["m"] == "linear":
                params["coefficients"] = draw(rng, domain["coefficients"], "domain.coefficients", 2)
            problems = self.problems(params, rules=rules)
            return (params if problems else instance(params).params()), problems

        return draw_fair(self.name, attempt, "g, h, x0", MAX_TRIES, rules=rules)

    def problems(self, params: Mapping[str, Any], places: int = 4, rules: Rules = DEFAULT) -> list[str]:
        """The fairness constraints an instance breaks, as `constraint: detail` (empty: a good question)."""
        inst = instance(params)
        out = []
        if inst.g == inst.h:
            out.append(problem("well_posed", "g and h are the same function"))
        if inst.coefficients == (1, 1):
            out.append(problem("well_posed", "linear m with coefficients 1, 1 is the sum"))
        if inst.x0.has(sp.pi) and not {inst.g, inst.h} & set(TRIG):
            out.append(problem("well_posed", "x0 is a multiple of pi but no function is trigonometric"))
        out = rules.keep(out)
        if out:
            return out
        try:
            t = _trace(inst)
        except _Undefined:
            return ["undefined: a function is undefined at x0"]  # not switchable: nothing to build
        if any(abs(numeric.to_float(t[k])) < 0.5 * 10 ** -places for k in ("du_dx", "dv_dx", "dy_du", "dy_dv")):
            out.append(problem("nonzero_derivatives", "a chain-rule factor is 0 at x0"))
        total = abs(numeric.to_float(t["dy_dx"]))
        if total < SMALLEST:
            out.append(problem("nonzero_derivatives", "dy/dx(x0) is nearly 0"))
        if max(abs(numeric.to_float(q.value)) for q in t) > LARGEST:
            out.append(problem("moderate_values", f"a value (u, v, a derivative or dy/dx) is above {LARGEST} in size"))
        return rules.keep(out)

    # -- building ------------------------------------------------------------------------
    def build(self, params: Mapping[str, Any], notation: Notation, places: int) -> Question:
        """The question for fixed parameters (sampled, or pinned by a bank or --params)."""
        inst = instance(params)
        t = _trace(inst)
        context, parts = _statement_and_parts(inst, places)
        # The Trace is written in this family's calculus notation, whatever the bank's network profile.
        return Question(self.name, "The multivariate chain rule", inst.params(), t, SYMBOLS,
                        list(parts), self.template, dict(context))


# The domain is small (m is shared; 10 × 10 functions × 15 points) and versions keep meeting the
# same instance, while its sympy work (diff, subs, latex) is most of this family's cost: the text
# and parts of an instance are kept. Everything cached is immutable (str, frozen Parts, tuples).
@functools.lru_cache(maxsize=2048)
def _statement_and_parts(inst: Instance, places: int) -> tuple[tuple[tuple[str, str], ...], tuple[Part, ...]]:
    """The template's context (as items) and the parts of an instance, from its own Trace."""
    context = {
        "m": _tex(inst.outer), "g": _tex(INNER[inst.g]), "h": _tex(INNER[inst.h]),
        "domain": _domain_note(inst),
    }
    return tuple(context.items()), tuple(_parts(inst, _trace(inst), places))


def _domain_note(inst: Instance) -> str:
    """Where y is defined, when that is not all of ℝ."""
    notes = []
    if "ln" in (inst.g, inst.h):
        notes.append("$x > 0$")
    if inst.m == "quotient":
        notes.append(r"$h(x) \neq 0$")
    return " and ".join(notes)


def _trace(inst: Instance) -> Trace:
    """x₀; u, v, du/dx, dv/dx at x₀ (sympy); ∂y/∂u, ∂y/∂v (formulas over u, v) and dy/dx = Σ products."""
    t = Trace()
    for key, sym, value in zip(("x0", "u", "v", "du_dx", "dv_dx"), LEAF_SYMS, _leaves(inst.g, inst.h, inst.x0)):
        t.given(key, sym, value)
    if inst.m == "quotient" and t["v"] == 0:
        raise _Undefined(f"params.x0: v = h(x0) is 0 at x0 = {inst.x0}, so u/v is undefined; choose another x0")
    du, dv = (tuple(Const(Fraction(c)) for c in inst.coefficients) if inst.m == "linear" else PARTIALS[inst.m])
    t.add("dy_du", _d("y", "u"), du, role="factor")
    t.add("dy_dv", _d("y", "v"), dv, role="factor")
    t.add("dy_dx", _d("y", "x"), Sum((Prod((Ref("dy_du"), Ref("du_dx"))), Prod((Ref("dy_dv"), Ref("dv_dx"))))),
          role="grad")
    return t


# Sampling evaluates the leaves for every draw and building again, and sympy's diff, subs, N and
# latex are most of this family's cost. They depend on one inner function (and x₀) at a time, and
# there are only 10 functions and a few points, so each is worked out once per process. Everything
# kept is immutable (sympy expressions, Fractions, mpfs, str).
@functools.lru_cache(maxsize=None)
def _inner(name: str, derivative: bool) -> sp.Expr:
    """g(x) named `name`, or its derivative."""
    return sp.diff(INNER[name], X) if derivative else INNER[name]


@functools.lru_cache(maxsize=4096)
def _inner_value(name: str, derivative: bool, x0: sp.Expr) -> Value | None:
    """The inner function (or its derivative) at x₀; None where it is undefined."""
    try:
        return value_of(_inner(name, derivative).subs(X, x0), name, x0)
    except _Undefined:
        return None


@functools.lru_cache(maxsize=1024)
def _point_value(x0: sp.Expr) -> Value:
    """x₀ as a number (a rational or a rational multiple of π, so never undefined)."""
    return value_of(x0, "x0", x0)


def _leaves(g: str, h: str, x0: sp.Expr) -> tuple[Value, ...]:
    """x₀, u = g(x₀), v = h(x₀), du/dx and dv/dx at x₀; the first undefined one raises _Undefined."""
    out = [_point_value(x0)]
    for name, derivative, what in ((g, False, f"g = {g}"), (h, False, f"h = {h}"),
                                   (g, True, f"the derivative of g = {g}"), (h, True, f"the derivative of h = {h}")):
        value = _inner_value(name, derivative, x0)
        if value is None:
            raise _Undefined(f"params.x0: {what} is undefined at x0 = {x0}; choose another x0")
        out.append(value)
    return tuple(out)


def derivative(inst: Instance) -> tuple[sp.Expr, list[str]]:
    """dy/dx as the chain rule assembles it, and the worked lines: each factor, then the sum."""
    total, lines = _derivative(replace(inst, x0=sp.S.Zero))  # x₀ plays no part: one entry per m, g, h
    return total, list(lines)


@functools.lru_cache(maxsize=1024)
def _derivative(inst: Instance) -> tuple[sp.Expr, tuple[str, ...]]:
    g, h = INNER[inst.g], INNER[inst.h]
    at = {U: g, V: h}
    dm_du, dm_dv = sp.diff(inst.outer, U), sp.diff(inst.outer, V)
    factors = [(dm_du.subs(at, simultaneous=True), sp.diff(g, X)), (dm_dv.subs(at, simultaneous=True), sp.diff(h, X))]
    total = sum(a * b for a, b in factors)
    lines = []
    for sym, general, e in ((r"\frac{\partial y}{\partial u}", dm_du, factors[0][0]),
                            (r"\frac{du}{dx}", None, factors[0][1]),
                            (r"\frac{\partial y}{\partial v}", dm_dv, factors[1][0]),
                            (r"\frac{dv}{dx}", None, factors[1][1])):
        pieces = [sym] + ([_tex(general)] if general is not None and general != e else []) + [_tex(e)]
        lines.append(" = ".join(pieces))
    terms = " + ".join(rf"{_factor_tex(a)} \cdot {_factor_tex(b)}" for a, b in factors)
    lines.append(rf"{D_DX} = {CHAIN} = {terms} = {_tex(total)}")
    return total, tuple(lines)


@functools.lru_cache(maxsize=4096)
def _leaf_formulas(name: str, derivative: bool, x0: sp.Expr) -> tuple[str, ...]:
    """An inner function (or its derivative) written at x₀: in the symbol x_0, then with x₀'s value."""
    e = _inner(name, derivative)
    pieces = (_tex(e.subs(X, X0)),)
    if not any(p.exp.is_negative for p in e.atoms(sp.Pow) if p.base.has(X)):  # sympy prints (½)^{-1} for 1/x
        pieces += (_tex(e.subs(X, sp.UnevaluatedExpr(x0)), mul_symbol="dot"),)
    return pieces


def _point_lines(inst: Instance, t: Trace, places: int) -> list[str]:
    """Worked lines for x₀ and the leaves u, v, du/dx, dv/dx: symbol = formula in x₀ = numbers = value."""
    x0_value = t["x0"]
    lines = [f"x_0 = {_tex(inst.x0)}" + ("" if numeric.is_exact(x0_value) else
                                        rf" \approx {numeric.decimal_str(x0_value, places)}")]
    for key, name, derivative in (("u", inst.g, False), ("v", inst.h, False), ("du_dx", inst.g, True),
                                  ("dv_dx", inst.h, True)):
        pieces = [t.symbol(key, SYMBOLS), *_leaf_formulas(name, derivative, inst.x0)]
        value = numeric.decimal_str(t[key], places)
        sign = "=" if numeric.is_shown_exactly(t[key], places) else r"\approx"
        pieces = [p for n, p in enumerate(pieces) if p not in pieces[:n] and p != value]
        lines.append(" = ".join(pieces) + f" {sign} {value}")
    return lines


def _parts(inst: Instance, t: Trace, places: int) -> list[Part]:
    section = "Chain rule"
    total, lines = derivative(inst)
    parts = [
        Part(id="chain", prompt=rf"Apply the multivariate chain rule to write $\displaystyle {D_DX}$ in terms of "
             r"$\displaystyle\frac{\partial y}{\partial u}$, $\displaystyle\frac{\partial y}{\partial v}$, "
             r"$\displaystyle\frac{du}{dx}$ and $\displaystyle\frac{dv}{dx}$.", kind="text", points=2, answer="",
             answer_tex="", section=section, box_cm=2.5,
             model=rf"$\displaystyle {D_DX} = {CHAIN}$: $y$ depends on $x$ through $u$ and through $v$, "
             "and each path contributes the product of its two derivatives.",
             rubric=rubric((1, "a sum of two terms, one per path (through $u$ and through $v$)"),
                           (1, "both terms the partial derivative of $y$ times the derivative of the inner "
                               "function"))),
        Part(id="derivative", prompt=rf"Using your equation, find $\displaystyle {D_DX}$ as a function of $x$.",
             kind="expression", points=2, answer=str(total), answer_tex=_tex(total), section=section,
             worked=tuple(lines), box_cm=3.0, formula=FormulaSpec(("x",))),
    ]
    value = number_part(t, SYMBOLS, id="value", keys=["dy_dx"], places=places, section=section, box_cm=2.0,
                        prompt=rf"Evaluate $\displaystyle {D_DX}$ at $\displaystyle x_0 = {_tex(inst.x0)}$.")
    worked = _point_lines(inst, t, places) + [t.explain(k, SYMBOLS, places) for k in ("dy_du", "dy_dv")]
    worked += value.worked
    exact = total.subs(X, inst.x0)
    if not exact.is_Rational and len(_tex(exact)) <= 80:  # the exact value where it is short: π, 4 cos ½ − 16 sin ½
        worked.append(rf"{D_DX}\Big|_{{x = x_0}} = {_tex(exact)} \approx {numeric.decimal_str(t['dy_dx'], places)}")
    # the value is the derivative's formula at x₀: grading can carry a wrong formula forward to it
    at = FromFormula("derivative", (("x", numeric.to_float(t["x0"])),))
    parts.append(replace(value, worked=tuple(worked), from_formula=at))
    for id, prompt, model, items in rule_parts(inst.m):
        parts.append(Part(id=f"rule.{id}", prompt=prompt, kind="text", points=sum(p for p, _ in items), answer="",
                          answer_tex="", section="Differentiation rules", box_cm=4.0, model=model,
                          rubric=rubric(*items)))
    return parts


FAMILY = ChainRule()
