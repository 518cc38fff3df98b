"""Formulas of Trace nodes: a small expression tree that evaluates exactly and prints as LaTeX.

A formula refers to other nodes by key (`Ref`). The same tree gives a node's value
(`evaluate`), its formula in symbols and with numbers substituted (`latex`, with a leaf
printer), and deliberately wrong variants for grading. No Python text is ever evaluated.

>>> f = Prod((Const(2), Sub(Ref("yhat"), Ref("y"))))
>>> evaluate(f, {"yhat": Fraction(3), "y": Fraction(13, 10)})
Fraction(17, 5)
>>> latex(f, lambda key: {"yhat": r"\\hat{y}", "y": "y"}[key])
'2\\\\left(\\\\hat{y} - y\\\\right)'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterator, Mapping, Protocol, Union

from qgen import numeric
from qgen.numeric import Value

# Binding strength of a printed expression: a child printed weaker than its parent needs is wrapped.
SUM, NEG, PROD, POW, ATOM = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Const:
    """A number written into a formula (2 in 2(ŷ − y), ½ in a mean)."""

    value: Fraction
    as_fraction: bool = False  # print ½ as \frac{1}{2} rather than 0.5


@dataclass(frozen=True)
class Ref:
    """The value of another node of the Trace."""

    key: str


@dataclass(frozen=True)
class Sum:
    """t1 + t2 + …"""

    terms: tuple["Expr", ...]


@dataclass(frozen=True)
class Sub:
    """a − b"""

    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Neg:
    """−a"""

    arg: "Expr"


@dataclass(frozen=True)
class Prod:
    """f1 · f2 · …; nested products are flattened."""

    factors: tuple["Expr", ...]

    def __post_init__(self) -> None:
        if type(self.factors) is tuple and not any(isinstance(f, Prod) for f in self.factors):
            return  # already flat (the usual case): built often, so no copy
        flat: list[Expr] = []
        for f in self.factors:
            flat.extend(f.factors if isinstance(f, Prod) else (f,))
        object.__setattr__(self, "factors", tuple(flat))


@dataclass(frozen=True)
class Div:
    """a / b, printed as a fraction."""

    num: "Expr"
    den: "Expr"


@dataclass(frozen=True)
class Pow:
    """base ** n for a whole number n."""

    base: "Expr"
    n: int


@dataclass(frozen=True)
class Fn:
    """A named function of its arguments: sigmoid, tanh, dsigmoid (σ′), dtanh (tanh′), relu, leaky_relu,
    step, leaky_step, exp, ln, sqrt, max, min."""

    name: str
    args: tuple["Expr", ...]
    slope: Fraction | None = None  # leaky_relu and its derivative


Expr = Union[Const, Ref, Sum, Sub, Neg, Prod, Div, Pow, Fn]


FUNCTIONS: dict[str, Callable[..., Value]] = {
    "sigmoid": numeric.sigmoid,
    "tanh": numeric.tanh,
    "dsigmoid": numeric.dsigmoid,
    "dtanh": numeric.dtanh,
    "exp": numeric.exp,
    "ln": numeric.log,
    "relu": lambda z: z if z > 0 else Fraction(0),
    "step": lambda z: Fraction(1) if z > 0 else Fraction(0),
    "leaky_relu": lambda z, s: z if z > 0 else numeric.mul(s, z),
    "leaky_step": lambda z, s: Fraction(1) if z > 0 else s,
    "max": lambda *a: max(a),
    "min": lambda *a: min(a),
    "sqrt": lambda v: _sqrt(v),
}


def _sqrt(v: Value) -> Value:
    """√v: exact for the square of a fraction (√(9/4) = 3/2), else 50 digits; an error below 0.

    >>> _sqrt(Fraction(9, 4)), float(_sqrt(Fraction(2)))
    (Fraction(3, 2), 1.4142135623730951)
    """
    if v < 0:
        raise ValueError("square root of a negative number")
    if numeric.is_exact(v):
        f = Fraction(v)
        num, den = math.isqrt(f.numerator), math.isqrt(f.denominator)
        if num * num == f.numerator and den * den == f.denominator:
            return Fraction(num, den)
    return numeric.CTX.sqrt(numeric.real(v))

_FN_LATEX = {
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "dsigmoid": r"\sigma'",
    "dtanh": r"\tanh'",
    "exp": r"\exp",
    "ln": r"\ln",
    "relu": r"\operatorname{ReLU}",
    "leaky_relu": r"\operatorname{LReLU}",
    "max": r"\max",
    "min": r"\min",
}


class Table(Protocol):
    """What `evaluate` needs of a function table (`qgen.tables.FunctionTable`)."""

    def lookup(self, name: str, arg: Value) -> Fraction | None: ...


def evaluate(e: Expr, env: Mapping[str, Value], table: Table | None = None) -> Value:
    """The value of `e` with each Ref looked up in `env`.

    With a `table`, a one-argument function at one of the table's points takes the table's
    stated value (σ(1) = 0.73); elsewhere it is computed exactly.

    >>> class Stated:
    ...     def lookup(self, name, arg): return Fraction(73, 100) if (name, arg) == ("sigmoid", 1) else None
    >>> evaluate(Fn("sigmoid", (Ref("z"),)), {"z": Fraction(1)}, Stated())
    Fraction(73, 100)
    """
    kind = type(e)  # the leaves first, by exact type: this runs for every node of every formula
    if kind is Ref:
        return env[e.key]
    if kind is Const:
        return e.value
    if isinstance(e, Sum):
        return _fold(numeric.add, Fraction(0), e.terms, env, table)
    if isinstance(e, Sub):
        return numeric.sub(evaluate(e.left, env, table), evaluate(e.right, env, table))
    if isinstance(e, Neg):
        return -evaluate(e.arg, env, table)
    if isinstance(e, Prod):
        return _fold(numeric.mul, Fraction(1), e.factors, env, table)
    if isinstance(e, Div):
        return numeric.div(evaluate(e.num, env, table), evaluate(e.den, env, table))
    if isinstance(e, Pow):
        return evaluate(e.base, env, table) ** e.n
    if isinstance(e, Fn):
        args = [evaluate(a, env, table) for a in e.args]
        if e.slope is not None:
            args.append(e.slope)
        elif table is not None and len(args) == 1:
            stated = table.lookup(e.name, args[0])
            if stated is not None:
                return stated
        return FUNCTIONS[e.name](*args)
    raise TypeError(f"not an expression: {e!r}")


def _fold(op: Callable[[Value, Value], Value], unit: Fraction, items: tuple[Expr, ...], env: Mapping[str, Value],
          table: Table | None) -> Value:
    """unit op v1 op v2 …, left to right (a sum from 0, a product from 1).

    An exact first value is taken as it is: 0 + v and 1 · v are v for a Fraction, and the
    Fraction arithmetic they would cost is most of evaluating a formula. Anything else (a
    50-digit real) goes through `op` with the unit, exactly as the loop always did.
    """
    it = iter(items)
    first = next(it, None)
    if first is None:
        return unit
    value = evaluate(first, env, table)
    result = value if type(value) is Fraction else op(unit, value)
    for item in it:
        result = op(result, evaluate(item, env, table))
    return result


def children(e: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of `e`."""
    if isinstance(e, Sum):
        return e.terms
    if isinstance(e, Prod):
        return e.factors
    if isinstance(e, Sub):
        return (e.left, e.right)
    if isinstance(e, Div):
        return (e.num, e.den)
    if isinstance(e, (Neg,)):
        return (e.arg,)
    if isinstance(e, Pow):
        return (e.base,)
    if isinstance(e, Fn):
        return e.args
    return ()


def refs(e: Expr) -> Iterator[str]:
    """Every key `e` refers to, in order of appearance (repeats included)."""
    if isinstance(e, Ref):
        yield e.key
    for c in children(e):
        yield from refs(c)


def substitute(e: Expr, replace: Callable[[str], Expr | None]) -> Expr:
    """`e` with each Ref for which `replace` gives an expression replaced by it (recursively).

    A sub-expression with nothing replaced is returned as it is (expressions are immutable).
    """
    if isinstance(e, Ref):
        r = replace(e.key)
        return e if r is None else substitute(r, replace)
    if isinstance(e, Const):
        return e
    kids = children(e)
    new = tuple(substitute(c, replace) for c in kids)
    if all(a is b for a, b in zip(new, kids)):
        return e
    replaced = iter(new)
    return _rebuilt(e, lambda c: next(replaced))


def _rebuilt(e: Expr, child: Callable[[Expr], Expr]) -> Expr:
    """`e` with each direct sub-expression c replaced by child(c)."""
    if isinstance(e, (Const, Ref)):
        return e
    if isinstance(e, Sum):
        return Sum(tuple(child(t) for t in e.terms))
    if isinstance(e, Prod):
        return Prod(tuple(child(f) for f in e.factors))
    if isinstance(e, Sub):
        return Sub(child(e.left), child(e.right))
    if isinstance(e, Div):
        return Div(child(e.num), child(e.den))
    if isinstance(e, Neg):
        return Neg(child(e.arg))
    if isinstance(e, Pow):
        return Pow(child(e.base), e.n)
    if isinstance(e, Fn):
        return Fn(e.name, tuple(child(a) for a in e.args), e.slope)
    raise TypeError(f"not an expression: {e!r}")


# -- function tables (no-calculator mode) -----------------------------------------------
@dataclass(frozen=True)
class Call:
    """One evaluation of a one-argument function inside a formula; `stated`: read from the table."""

    name: str
    arg: Value
    value: Value
    stated: bool


def calls(e: Expr, env: Mapping[str, Value], table: Table | None = None) -> list[Call]:
    """Every one-argument function call in `e` (outer before inner), with its argument and value.

    >>> calls(Fn("relu", (Ref("z"),)), {"z": Fraction(-2)})
    [Call(name='relu', arg=Fraction(-2, 1), value=Fraction(0, 1), stated=False)]
    """
    out: list[Call] = []

    def walk(x: Expr) -> None:
        if isinstance(x, Fn) and x.slope is None and len(x.args) == 1:
            arg = evaluate(x.args[0], env, table)
            value = table.lookup(x.name, arg) if table is not None else None
            out.append(Call(x.name, arg, FUNCTIONS[x.name](arg) if value is None else value, value is not None))
        for c in children(x):
            walk(c)

    walk(e)
    return out


def with_stated(e: Expr, env: Mapping[str, Value], table: Table) -> Expr:
    """`e` with each function call the table answers replaced by its stated value (σ(z₁) -> 0.73)."""
    if isinstance(e, Fn) and e.slope is None and len(e.args) == 1:
        value = table.lookup(e.name, evaluate(e.args[0], env, table))
        if value is not None:
            return Const(value)
    return _rebuilt(e, lambda c: with_stated(c, env, table))


def const_latex(v: Fraction, as_fraction: bool = False) -> str:
    """A constant as written in a formula: 2, 0.01, or \\frac{1}{3}."""
    if v.denominator == 1 or (not as_fraction and numeric.terminating_places(v) is not None):
        return numeric.decimal_str(v, 12)
    sign = "-" if v < 0 else ""
    return rf"{sign}\frac{{{abs(v.numerator)}}}{{{v.denominator}}}"


def latex(e: Expr, leaf: Callable[[str], str]) -> str:
    """`e` as LaTeX, each Ref printed by `leaf` (a symbol, or a number for the substituted form)."""
    return _latex(e, leaf)[0]


def _wrap(part: tuple[str, int], need: int) -> str:
    text, strength = part
    return text if strength >= need else rf"\left({text}\right)"


def _signless(part: tuple[str, int]) -> tuple[str, int]:
    """A term that prints with a leading minus binds like a negation (so `a + (-4 · b)`)."""
    text, strength = part
    return (text, min(strength, NEG)) if text.startswith("-") else part


def _leaf_strength(text: str) -> int:
    return NEG if text.startswith("-") else ATOM


def _latex(e: Expr, leaf: Callable[[str], str]) -> tuple[str, int]:
    if isinstance(e, Const):
        text = const_latex(e.value, e.as_fraction)
        return text, _leaf_strength(text)
    if isinstance(e, Ref):
        text = leaf(e.key)
        return text, _leaf_strength(text)
    if isinstance(e, Sum):
        parts = [_latex(t, leaf) for t in e.terms]
        out = _wrap(parts[0], SUM)
        for t, p in zip(e.terms[1:], parts[1:]):
            if isinstance(t, Neg):
                out += " - " + _wrap(_signless(_latex(t.arg, leaf)), PROD)
            else:
                out += " + " + _wrap(_signless(p), NEG + 1)
        return out, SUM
    if isinstance(e, Sub):
        return f"{_wrap(_latex(e.left, leaf), SUM)} - {_wrap(_signless(_latex(e.right, leaf)), NEG + 1)}", SUM
    if isinstance(e, Neg):
        return "-" + _wrap(_signless(_latex(e.arg, leaf)), PROD), NEG
    if isinstance(e, Prod):
        parts = [_latex(f, leaf) for f in e.factors]
        out = _wrap(parts[0], PROD if isinstance(e.factors[0], Ref) else NEG)
        for idx, p in enumerate(parts[1:], start=1):
            piece = _wrap(p, PROD)
            lead_constant = idx == 1 and isinstance(e.factors[0], Const)
            out += piece if lead_constant and piece.startswith(r"\left(") else r" \cdot " + piece
        return out, PROD
    if isinstance(e, Div):
        return rf"\frac{{{latex(e.num, leaf)}}}{{{latex(e.den, leaf)}}}", ATOM
    if isinstance(e, Pow):
        base = _wrap(_latex(e.base, leaf), ATOM)
        if not base.startswith(r"\left("):
            base = f"{{{base}}}"  # β^{1}_{2} squared is {β^{1}_{2}}^{2}, not a double superscript
        return f"{base}^{{{e.n}}}", POW
    if isinstance(e, Fn):
        args = ", ".join(latex(a, leaf) for a in e.args)
        if e.name == "sqrt":
            return rf"\sqrt{{{args}}}", ATOM
        if e.name == "step":
            return rf"\mathbf{{1}}\left[{args} > 0\right]", ATOM
        if e.name == "leaky_step":
            return rf"\begin{{cases}}1 & {args} > 0\\ {const_latex(e.slope)} & \text{{else}}\end{{cases}}", ATOM
        if e.name == "leaky_relu":
            args += rf"; {const_latex(e.slope)}"
        return rf"{_FN_LATEX[e.name]}\left({args}\right)", ATOM
    raise TypeError(f"not an expression: {e!r}")


def without_ones(e: Expr) -> Expr:
    """`e` with factors 1 left out of its products (δ_ŷ · 1 · h is δ_ŷ · h)."""
    if isinstance(e, Prod):
        factors = [without_ones(f) for f in e.factors if not (isinstance(f, Const) and f.value == 1)]
        return Const(Fraction(1)) if not factors else factors[0] if len(factors) == 1 else Prod(tuple(factors))
    if isinstance(e, Sum):
        return Sum(tuple(without_ones(x) for x in e.terms))
    if isinstance(e, Sub):
        return Sub(without_ones(e.left), without_ones(e.right))
    return e
