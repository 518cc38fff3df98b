"""A formula's tree: the node classes, the function table and the names a formula knows, and a tree's value.

A tree is evaluated at a point with floats (complex numbers where ln, sqrt or a power leave the
reals); `_value` turns anything undefined (an overflow, a division by zero, a function's domain, a
missing case) into None, never an exception. Reading text into a tree is `qgen.grade.formula.read`.
"""

from __future__ import annotations

import cmath
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Callable, Union

Value = Union[float, complex]


class _Undefined(ArithmeticError):
    """The value is not defined at this point (a comparison of complex numbers, a missing case)."""


# -- the tree -------------------------------------------------------------------------------------
class Node:
    """A node of a formula's tree (immutable); `ev(env)` is its value for variable values `env`."""

    __slots__ = ()

    def ev(self, env: Mapping[str, Value]) -> Value:
        raise NotImplementedError

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Num(Node):
    value: float

    def ev(self, env: Mapping[str, Value]) -> Value:
        return self.value


@dataclass(frozen=True, slots=True)
class Var(Node):
    name: str

    def ev(self, env: Mapping[str, Value]) -> Value:
        try:
            return env[self.name]
        except KeyError:
            raise _Undefined(self.name) from None


@dataclass(frozen=True, slots=True)
class Truth(Node):
    value: bool

    def ev(self, env: Mapping[str, Value]) -> Value:
        return 1.0 if self.value else 0.0


@dataclass(frozen=True, slots=True)
class Neg(Node):
    arg: Node

    def ev(self, env: Mapping[str, Value]) -> Value:
        return -self.arg.ev(env)

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True, slots=True)
class Bin(Node):
    op: str  # + - * / ^
    left: Node
    right: Node

    def ev(self, env: Mapping[str, Value]) -> Value:
        a, b = self.left.ev(env), self.right.ev(env)
        if self.op == "+":
            return a + b
        if self.op == "-":
            return a - b
        if self.op == "*":
            return a * b
        if self.op == "/":
            return a / b  # ZeroDivisionError: undefined
        return _pow(a, b)

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Call(Node):
    fn: str  # a canonical function name (FUNCTIONS)
    args: tuple[Node, ...]

    def ev(self, env: Mapping[str, Value]) -> Value:
        return FUNCTIONS[self.fn].impl(*(a.ev(env) for a in self.args))

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True, slots=True)
class Apply(Node):
    """A defined name called with arguments: its definition with its variables bound to them."""

    name: str
    params: tuple[str, ...]
    body: Node
    args: tuple[Node, ...]

    def ev(self, env: Mapping[str, Value]) -> Value:
        inner = dict(env)
        inner.update(zip(self.params, (a.ev(env) for a in self.args)))
        return self.body.ev(inner)

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """A (chained) comparison: 1 when every link holds, else 0."""

    ops: tuple[str, ...]
    operands: tuple[Node, ...]

    def ev(self, env: Mapping[str, Value]) -> Value:
        values = [_real(o.ev(env)) for o in self.operands]
        ok = all(_COMPARE[op](a, b) for op, a, b in zip(self.ops, values, values[1:]))
        return 1.0 if ok else 0.0

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(frozen=True, slots=True)
class Cases(Node):
    """Piecewise: the value of the first case whose condition holds (None: otherwise)."""

    cases: tuple[tuple[Node, Node | None], ...]

    def ev(self, env: Mapping[str, Value]) -> Value:
        for value, condition in self.cases:
            if condition is None or _real(condition.ev(env)) != 0:
                return value.ev(env)
        raise _Undefined("no case applies")

    def children(self) -> tuple[Node, ...]:
        return tuple(n for case in self.cases for n in case if n is not None)


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


def _nodes(root: Node) -> Iterator[Node]:
    """Every node of a tree (not inside the definitions it applies)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children())


def _jumps(root: Node) -> Iterator[bool]:
    for n in _nodes(root):
        yield isinstance(n, (Compare, Cases, Truth)) or (isinstance(n, Call) and FUNCTIONS[n.fn].jumps)


# -- numbers --------------------------------------------------------------------------------------
def _real(v: Value) -> float:
    """A real value, or _Undefined for a complex one (it cannot be compared, nor be a max or a step)."""
    if isinstance(v, complex):
        if abs(v.imag) > 1e-12 * max(1.0, abs(v.real)):
            raise _Undefined("complex")
        return v.real
    return v


def _pow(a: Value, b: Value) -> Value:
    if isinstance(a, float) and isinstance(b, float):
        try:
            return math.pow(a, b)  # OverflowError: undefined
        except ValueError:  # 0 to a negative power, or a negative number to a fractional one
            if a == 0:
                raise ZeroDivisionError("0 to a negative power") from None
    return complex(a) ** complex(b)


def _lift(real: Callable[[float], float], other: Callable[[complex], complex]) -> Callable[[Value], Value]:
    """A function by math on reals (cmath outside its real domain, and on complex numbers)."""
    def f(v: Value) -> Value:
        if isinstance(v, float):
            try:
                return real(v)
            except ValueError:
                pass
        return other(v)
    return f


def _sigma(v: Value) -> Value:
    if isinstance(v, float):
        if v >= 0:
            return 1 / (1 + math.exp(-v))
        e = math.exp(v)
        return e / (1 + e)
    return 1 / (1 + cmath.exp(-v))


def _heaviside(v: Value, at_zero: Value = 0.5) -> Value:
    x = _real(v)
    return 1.0 if x > 0 else 0.0 if x < 0 else _real(at_zero)


@dataclass(frozen=True)
class Function:
    impl: Callable[..., Value]
    arity: tuple[int, int]  # fewest and most arguments
    jumps: bool = False


FUNCTIONS: dict[str, Function] = {
    "exp": Function(_lift(math.exp, cmath.exp), (1, 1)),
    "ln": Function(_lift(math.log, cmath.log), (1, 1)),
    "sqrt": Function(_lift(math.sqrt, cmath.sqrt), (1, 1)),
    "abs": Function(lambda v: abs(_real(v)), (1, 1), True),
    "sin": Function(_lift(math.sin, cmath.sin), (1, 1)),
    "cos": Function(_lift(math.cos, cmath.cos), (1, 1)),
    "tan": Function(_lift(math.tan, cmath.tan), (1, 1)),
    "sinh": Function(_lift(math.sinh, cmath.sinh), (1, 1)),
    "cosh": Function(_lift(math.cosh, cmath.cosh), (1, 1)),
    "tanh": Function(_lift(math.tanh, cmath.tanh), (1, 1)),
    "sech": Function(lambda v: 1 / _lift(math.cosh, cmath.cosh)(v), (1, 1)),
    "sigma": Function(_sigma, (1, 1)),
    "max": Function(lambda *vs: max(_real(v) for v in vs), (1, 20), True),
    "min": Function(lambda *vs: min(_real(v) for v in vs), (1, 20), True),
    "Heaviside": Function(_heaviside, (1, 2), True),
    "step": Function(lambda v: _heaviside(v, 0.0), (1, 1), True),
}
ALIASES = {"log": "ln", "Abs": "abs", "sigmoid": "sigma", "Max": "max", "Min": "min", "heaviside": "Heaviside",
           **{name: name for name in FUNCTIONS}}
SHOWN = "exp, ln, log, sqrt, abs, sin, cos, tan, sinh, cosh, tanh, sech, sigma, max, min, step, Heaviside"
CONSTANTS = {"e": math.e, "E": math.e, "pi": math.pi}
KEYWORDS = ("if", "else", "otherwise", "True", "False", "Piecewise")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*")


# -- values ---------------------------------------------------------------------------------------
def _value(root: Node, env: Mapping[str, Value]) -> Value | None:
    """The value at a point, None where it is undefined, infinite or not a number."""
    try:
        v = root.ev(env)
    except (ArithmeticError, ValueError, TypeError):  # _Undefined, overflow, division by zero, domain
        return None
    if isinstance(v, complex):
        return v if cmath.isfinite(v) else None
    return float(v) if math.isfinite(v) else None
