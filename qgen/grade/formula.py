"""Formulas typed by students: read by a small whitelisted parser, judged by value (pure, bounded).

A formula is read into an immutable tree (`Formula`) by a tokenizer and a precedence-climbing
parser. It is never run as Python and no student text reaches sympy: a tree is evaluated at
points with floats (complex numbers where ln, sqrt or a power leave the reals), so each value
costs a bounded time whatever was typed. A value that overflows, divides by zero or leaves a
function's domain is undefined at that point; it is never an exception to the caller.

What is read:
  numbers `0.1`, `.5`, `5.` (scientific notation is refused: `2e-3` could be 2e − 3);
  `+ - * / ^ **`, unary minus, `−` `×` `·` `÷` `≥` `≤`, superscripts `x²`, `x⁻¹`;
  implicit products `2x`, `2(x+1)`, `(x+1)(x-1)`, `x_j(y-h)`, `2x sin(x)`;
  functions exp, ln, log (natural), sqrt, abs, sin, cos, tan, sinh, cosh, tanh, sech,
  sigma (sigmoid, σ), max and min (Max, Min) of one or more arguments, Heaviside(z),
  Heaviside(z, value at 0) and step(z), also capitalised (`Sin x`); a one-argument function
  needs no parentheses (`cos x`, `x^2 cos x`: the argument is the next factor with its power)
  and takes a power (`sin^2(x)`, `tanh(z)^2`, `tanh²z`); constants e, pi, π (a variable named e
  shadows e);
  comparisons `< > <= >=`, chained (`0 < z < 1`), worth 1 when true and 0 when false, True,
  False; piecewise formulas `1 if z > 0 else 0`, `{1 if z > 0; 0 otherwise}` (cases separated
  by `;` or `,`, the last one `otherwise`, `else` or with its own condition) and sympy's
  `Piecewise((1, z > 0), (0, True))`.

Which names a formula may use comes from its part (`Spec`): its variables, names defined as
formulas of them (for an activation's derivative g stands for the activation g(z), typed `g`
or `g(z)`), and functions it forbids (the sigmoid's definition may not be typed `sigma(z)`).
A variable or defined name followed by its argument in parentheses, `g(z)` or `h(x)` when x is
no other name, is that name; followed by anything else it multiplies (`g(1 - g)` is g·(1 − g)).
Limits: 200 characters, 150 tokens, parentheses nested 20 deep, 30 digits in a number.

Two formulas are equal when they agree at pseudo-random points: each variable with a random sign
and |v| in [0.3, 2.7] (formulas with a jump also on a sweep of values, small ones included);
a disagreement beyond 1e-8 (relative) at a point where both are defined is final, agreement at 8
or more points is equality.

>>> spec = Spec(("z",), (("g", "1/(1 + exp(-z))"),))
>>> str(parse_formula("g(z)(1 − g(z))", spec))
'g*(1 - g)'
>>> same(parse_formula("σ(z)·(1-σ(z))", spec), parse_formula("g*(1 - g)", spec), spec)
True
>>> relu = Spec(("z",))
>>> same(parse_formula("{1 if z > 0; 0 otherwise}", relu), parse_formula("Piecewise((1, z > 0), (0, True))", relu))
True
"""

from __future__ import annotations

import cmath
import decimal
import functools
import keyword
import math
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Callable, NamedTuple, Union

from qgen.errors import SubmissionError

MAX_FORMULA = 200  # characters of a typed formula
MAX_TOKENS = 150
MAX_DEPTH = 20  # parentheses (and braces) nested in a formula
MAX_LEVELS = 2 * MAX_DEPTH  # the parser's own nesting: groups, calls, unary minus, powers
MAX_DIGITS = 30  # in one number
KEY_SCALE = 10  # a key's text (ours, not a student's) may be this many times longer
POINTS = 12  # points at which two smooth formulas are compared (8 must agree)
AGREE = 8
MAX_POINTS = 40  # random points tried at most
RTOL = 1e-8
LOW, HIGH = 0.3, 2.7  # |v| of a random point

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


@dataclass(frozen=True)
class Formula:
    """A formula read from text: its tree, the variable names it uses, and whether it has a jump.

    Two formulas are == when their trees are (`2x` and `2*x`); `str` writes one back as text.
    """

    root: Node
    names: frozenset[str]
    jumps: bool  # a comparison, case, abs, max, min or step: compared on more points
    text: str = field(default="", compare=False)

    @classmethod
    def of(cls, root: Node, text: str = "") -> Formula:
        nodes = list(_nodes(root))
        names = frozenset(n.name for n in nodes if isinstance(n, Var))
        jumps = any(isinstance(n, (Compare, Cases, Truth)) or (isinstance(n, Call) and FUNCTIONS[n.fn].jumps)
                    or (isinstance(n, Apply) and any(_jumps(n.body))) for n in nodes)
        return cls(root, names, jumps, text)

    def __str__(self) -> str:
        return _write(self.root)

    def value(self, point: Mapping[str, float]) -> Value | None:
        """The value for variable values `point` (defined names are not filled in: see `value_at`);
        None where it is undefined or infinite, a complex number where it leaves the reals.

        >>> x = Spec(("x",))
        >>> parse_formula("sqrt(x) + 1/x", x).value({"x": 4.0}), parse_formula("1/x", x).value({"x": 0})
        (2.25, None)
        """
        return _value(self.root, {k: float(v) for k, v in point.items()})


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


# -- what a part allows -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """The names a part's formula may use: variables, defined names (name, formula text) and forbidden functions.

    >>> Spec.of_record({"answer": "Piecewise((1, z > 0), (0, True))"})
    Spec(variables=('z',), definitions=(), forbid=())
    """

    variables: tuple[str, ...] = ()
    definitions: tuple[tuple[str, str], ...] = ()
    forbid: tuple[str, ...] = ()

    @classmethod
    def of(cls, formula: Mapping[str, Any]) -> Spec:
        """From a manifest's `formula` record: {variables: [...], definitions: {name: text}, forbid: [...]}."""
        return cls(tuple(formula.get("variables") or ()), tuple((str(k), str(v)) for k, v in
                                                             (formula.get("definitions") or {}).items()),
                   tuple(formula.get("forbid") or ()))

    @classmethod
    def of_record(cls, part: Mapping[str, Any]) -> Spec:
        """A part record's spec: its `formula`, else (a manifest written before formulas declared their
        names) its `symbols`, else the names in its answer and accepted texts that are not functions."""
        if part.get("formula"):
            return cls.of(part["formula"])
        symbols = tuple(part.get("symbols") or ())
        return cls(symbols or key_variables(str(part.get("answer", "")), *map(str, part.get("accept") or ())))


def key_variables(*texts: str) -> tuple[str, ...]:
    """The variable names in formula texts: every name that is not a function, constant or keyword.

    >>> key_variables("Piecewise((1, z > 0), (1/10, True))", "Max(0, z) + E*x_j")
    ('x_j', 'z')
    """
    reserved = {*ALIASES, *CONSTANTS, *KEYWORDS}
    return tuple(sorted({n for t in texts for n in _NAME.findall(t) if n not in reserved}))


class _Context:
    """A Spec made ready to read formulas: the name table, the defined names' trees, the messages."""

    def __init__(self, spec: Spec):
        self.spec = spec
        for name in (*spec.variables, *(n for n, _ in spec.definitions)):
            if not isinstance(name, str) or not _NAME.fullmatch(name) or keyword.iskeyword(name) \
                    or name in ALIASES or name in KEYWORDS:
                raise ValueError(f"{name!r} cannot be a formula variable")
        if len({*spec.variables, *(n for n, _ in spec.definitions)}) != len(spec.variables) + len(spec.definitions):
            raise ValueError(f"a name is declared twice in {spec}")
        self.forbidden = {ALIASES.get(n, n) for n in spec.forbid}
        self.variables = tuple(spec.variables)
        table: dict[str, tuple[str, str]] = {}  # typed name -> (kind, canonical name)
        for name in ALIASES:
            if ALIASES[name] not in self.forbidden:
                table[name] = ("fn", ALIASES[name])
        for name in CONSTANTS:
            table[name] = ("const", name)
        self.defined: dict[str, tuple[tuple[str, ...], Node]] = {}
        for name in spec.variables:
            table[name] = ("var", name)
        for name, text in spec.definitions:
            known = Spec(tuple(self.variables) + tuple(self.defined))
            body = _read(text, _context(known), trusted=True).root
            params = tuple(v for v in self.variables if v in Formula.of(body).names)
            self.defined[name] = (params, body)
            table[name] = ("def", name)
        for name in [n for n in spec.forbid if n in table and table[n][0] != "fn"]:
            del table[name]
        aliases: dict[str, list[str]] = {}
        for name in [n for n in table if table[n][0] in ("var", "def")]:
            for other in {name.replace("_", ""), re.sub(r"^([A-Za-z]+)([0-9]+)$", r"\1_\2", name)} - {name}:
                aliases.setdefault(other, []).append(name)
        for other, names in aliases.items():
            if other not in table and len(names) == 1:
                table[other] = table[names[0]]
        if "lamda" in table and "lambda" not in table:
            table["lambda"] = table["lamda"]
        self.table = table
        self.ordered = sorted((n for n in table if n not in KEYWORDS), key=len, reverse=True)

    def allowed(self) -> str:
        """What a formula may contain, for messages."""
        letters = [n for n in ("e", "pi") if n not in self.defined and n not in self.variables]
        letters += sorted({*self.variables, *self.defined})
        functions = ", ".join(f for f in SHOWN.split(", ") if ALIASES[f] not in self.forbidden)
        return f"use numbers, {', '.join(letters)}, + - * / ^ ( ) and the functions {functions}"


@functools.lru_cache(maxsize=256)
def _context(spec: Spec) -> _Context:
    return _Context(spec)


# -- tokens ---------------------------------------------------------------------------------------
class Token(NamedTuple):
    kind: str  # num op var def fn const kw arg end
    value: Any  # the number, operator, canonical name or keyword
    text: str  # as typed


_END = Token("end", None, "")
_SPACES = str.maketrans({**{c: "-" for c in "\u2212\u2013\u2010\u2011\u2012\ufe63\uff0d"},
                         **{c: " " for c in "\t\n\r\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                                            "\u202f\u205f\u3000"},
                         **{c: "" for c in "\u200b\u200c\u200d\u2060\ufeff"},
                         **{c: "*" for c in "·×⋅∙✕"}, **{c: "/" for c in "÷∕⁄"}, "≥": ">=", "≤": "<=",
                         "σ": " sigma ", "π": " pi ", "√": " sqrt ", "η": "eta", "α": "alpha", "β": "beta",
                         "γ": "gamma", "δ": "delta", "ε": "epsilon", "θ": "theta", "λ": "lamda", "μ": "mu",
                         "ρ": "rho", "τ": "tau", "φ": "phi", "ω": "omega"})
_SUPERSCRIPT = re.compile("[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_SCIENTIFIC = re.compile(r"(?<![A-Za-z0-9_.])[0-9]*\.?[0-9]+[eE][-+]?[0-9]")
_LEX = re.compile(r"(?P<space>\s+)|(?P<num>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)|(?P<op>\*\*|>=|<=|[-+*/^(){},;<>])"
                  r"|(?P<run>[A-Za-z_][A-Za-z0-9_]*)")
_PRIMARY = ("num", "var", "def", "fn", "const", "piecewise")


def _show(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _clean(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"a formula is text, got {type(text).__name__}")
    s = text[:MAX_FORMULA * KEY_SCALE * 4].translate(_SPACES)  # a longer text is refused below anyway
    s = _SUPERSCRIPT.sub(lambda m: f"^({m.group().translate(_DIGITS)})", s)
    return " ".join(s.split())


def _split(run: str, ctx: _Context) -> list[str] | None:
    """A run of letters as allowed names (`xsin` -> x, sin: implicit multiplication), or None."""
    failed: set[int] = set()

    def at(pos: int) -> list[str] | None:
        if pos == len(run):
            return []
        if pos in failed:
            return None
        for name in ctx.ordered:
            if run.startswith(name, pos):
                rest = at(pos + len(name))
                if rest is not None:
                    return [name, *rest]
        failed.add(pos)
        return None

    return at(0)


def _tokens(s: str, ctx: _Context) -> list[Token]:
    """The formula's tokens, each a number, an operator or an allowed name; anything else is an error."""
    out: list[Token] = []
    pos = 0
    while pos < len(s):
        found = _LEX.match(s, pos)
        if not found:
            ch = s[pos]
            if ch == "=":
                raise SubmissionError("'=' is not allowed in a formula: type only its right-hand side "
                                      "(for g'(z) = g(1 - g), type g(1 - g))")
            raise SubmissionError(f"{ch!r} is not allowed in a formula; {ctx.allowed()}")
        pos, kind, text = found.end(), found.lastgroup, found.group()
        if kind == "space":
            continue
        prev = out[-1] if out else _END
        if kind == "num":
            if prev.kind in ("num", "var", "def", "const", "arg"):
                raise SubmissionError(f"a number cannot follow a name or number in a formula (at {text!r}); "
                                      f"write * or ^ between them")
            if len(text) > MAX_DIGITS:
                raise SubmissionError(f"a number in the formula has too many digits (at most {MAX_DIGITS})")
            out.append(Token("num", float(text), text))
        elif kind == "op":
            out.append(Token("op", "^" if text == "**" else text, text))
        else:
            out.extend(_names(text, s, pos, out, ctx))
    return out


def _names(run: str, s: str, end: int, before: list[Token], ctx: _Context) -> list[Token]:
    """The tokens of a run of letters, digits and underscores."""
    if run.startswith("_"):
        raise SubmissionError(f"'_' is not allowed in a formula; {ctx.allowed()}")
    if run in KEYWORDS:
        return [Token("piecewise" if run == "Piecewise" else "kw", run, run)]
    if run in ("true", "false"):
        return [Token("kw", run.capitalize(), run)]
    if run not in ctx.table and run.lower() in ctx.table and ctx.table[run.lower()][0] == "fn":
        run = run.lower()  # Sin(x), EXP(x): a capital from a phone's keyboard
    pieces = [run] if run in ctx.table else _split(run, ctx)
    if pieces is None:
        called = len(before) >= 2 and before[-1] == Token("op", "(", "(") and before[-2].kind in ("var", "def")
        if called and _NAME.fullmatch(run) and s[end:].lstrip().startswith(")"):
            return [Token("arg", run, run)]  # h(x): the argument of h, written out
        banned = [a for a in ALIASES if ALIASES[a] in ctx.forbidden] + list(ctx.spec.forbid)
        forbidden = sorted((a for a in banned if a.lower() in run.lower()), key=len, reverse=True)
        if forbidden:
            raise SubmissionError(f"{forbidden[0]} is not allowed in this answer: write it out with "
                                  f"{', '.join(ctx.variables) or 'numbers'} and the other functions")
        raise SubmissionError(f"unknown name {run!r} in the formula; {ctx.allowed()}")
    return [Token(ctx.table[p][0], ctx.table[p][1], p) for p in pieces]


# -- the parser -----------------------------------------------------------------------------------
class _Parser:
    """Precedence climbing over the tokens: if-else < comparison < + - < * / (and implicit) < unary < ^."""

    def __init__(self, tokens: list[Token], ctx: _Context, closing: dict[int, int]):
        self.tokens, self.ctx, self.closing = tokens, ctx, closing
        self.i = 0
        self.level = 0

    # helpers
    def peek(self, k: int = 0) -> Token:
        j = self.i + k
        return self.tokens[j] if j < len(self.tokens) else _END

    def take(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def at(self, *ops: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.value in ops

    def at_kw(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "kw" and tok.value in words

    def expect(self, op: str, why: str) -> None:
        if not self.at(op):
            raise SubmissionError(f"{why}; found {self.where()}")
        self.i += 1

    def where(self) -> str:
        tok = self.peek()
        if tok.kind == "end":
            return "the end of the formula"
        if tok.kind == "op" and tok.value == ",":
            return ("',' (commas only separate the arguments of max, min, Heaviside and the cases of a "
                    "piecewise formula)")
        return repr(tok.text)

    def deeper(self) -> None:
        self.level += 1
        if self.level > MAX_LEVELS:
            raise SubmissionError(f"the formula is nested too deeply (at most {MAX_DEPTH} levels)")

    def starts_factor(self) -> bool:
        tok = self.peek()
        return tok.kind in _PRIMARY or (tok.kind == "op" and tok.value in "({") or \
            (tok.kind == "kw" and tok.value in ("True", "False"))

    # grammar
    def formula(self) -> Node:
        node = self.expr()
        if self.peek().kind != "end":
            raise SubmissionError(f"unexpected {self.where()} in the formula")
        return node

    def expr(self) -> Node:
        """value [if condition else expr]"""
        value = self.comparison()
        if not self.at_kw("if"):
            return value
        self.take()
        condition = self.condition()
        if not self.at_kw("else"):
            raise SubmissionError(f"after 'A if condition' type 'else' and the other value; found {self.where()}")
        self.take()
        self.deeper()
        other = self.expr()
        self.level -= 1
        return Cases(((value, condition), (other, None)))

    def condition(self) -> Node:
        node = self.comparison()
        if not isinstance(node, (Compare, Truth)):
            raise SubmissionError("a condition must be a comparison such as z > 0 (or True)")
        return node

    def comparison(self) -> Node:
        operands, ops = [self.additive()], []
        while self.at("<", ">", "<=", ">="):
            ops.append(self.take().value)
            operands.append(self.additive())
        return Compare(tuple(ops), tuple(operands)) if ops else operands[0]

    def additive(self) -> Node:
        node = self.term()
        while self.at("+", "-"):
            op = self.take().value
            node = Bin(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while True:
            if self.at("*", "/"):
                op = self.take().value
                node = Bin(op, node, self.unary())
            elif self.starts_factor():  # implicit multiplication: 2x, x(1 - x), x cos x
                node = Bin("*", node, self.power())
            else:
                return node

    def unary(self) -> Node:
        if self.at("-", "+"):
            sign = self.take().value
            self.deeper()
            arg = self.unary()
            self.level -= 1
            return Neg(arg) if sign == "-" else arg
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if not self.at("^"):
            return base
        self.take()
        self.deeper()
        exponent = self.unary()  # right-associative: x^y^z is x^(y^z); 2^-x
        self.level -= 1
        return Bin("^", base, exponent)

    def atom(self) -> Node:
        tok = self.peek()
        if tok.kind == "num":
            self.take()
            return Num(tok.value)
        if tok.kind == "const":
            self.take()
            return Num(CONSTANTS[tok.value])
        if tok.kind == "kw" and tok.value in ("True", "False"):
            self.take()
            return Truth(tok.value == "True")
        if tok.kind in ("var", "def"):
            return self.name()
        if tok.kind == "fn":
            return self.function()
        if tok.kind == "piecewise":
            return self.piecewise()
        if self.at("("):
            self.take()
            self.deeper()
            if self.at(")"):
                raise SubmissionError("empty parentheses in the formula")
            node = self.expr()
            self.expect(")", "a '(' is not closed where expected")
            self.level -= 1
            return node
        if self.at("{"):
            return self.braces()
        if tok.kind == "end":
            raise SubmissionError("the formula ends too early (an operator or function needs what follows it)")
        raise SubmissionError(f"unexpected {self.where()} in the formula")

    def name(self) -> Node:
        """A variable or a defined name, with its argument written out (`g(z)`, `h(x)`) or applied (`g(-z)`)."""
        tok = self.take()
        if not self.at("("):
            return Var(tok.value)
        start = self.i
        inside = self.tokens[start + 1:self.closing[start]]
        params = self.ctx.defined[tok.value][0] if tok.kind == "def" else ()
        written = [t.kind for t in inside] == ["arg"] or (
            len(inside) == len(params) == 1 and inside[0].kind == "var" and inside[0].value == params[0])
        if written:
            self.i = self.closing[start] + 1
            return Var(tok.value)
        if tok.kind == "var" or any(t.kind in ("def", "arg") for t in inside):
            return Var(tok.value)  # g(1 - g): a product, read by `term`
        args = self.arguments(tok.text)
        if len(args) != len(params):
            raise SubmissionError(f"{tok.text} takes {len(params)} argument{'s' * (len(params) != 1)} "
                                  f"({', '.join(params)}), got {len(args)}")
        _, body = self.ctx.defined[tok.value]
        return Apply(tok.value, params, body, args)

    def arguments(self, name: str) -> tuple[Node, ...]:
        self.expect("(", f"{name} needs its arguments in parentheses")
        self.deeper()
        if self.at(")"):
            raise SubmissionError(f"{name}() has no argument; type e.g. {name}(x)")
        args = [self.expr()]
        while self.at(","):
            self.take()
            args.append(self.expr())
        self.expect(")", f"the parentheses of {name}( are not closed")
        self.level -= 1
        return tuple(args)

    def function(self) -> Node:
        tok = self.take()
        fn = FUNCTIONS[tok.value]
        power: Node | None = None
        if self.at("^"):  # sin^2(x), tanh²z
            self.take()
            if self.peek().kind == "num":
                power = Num(self.take().value)
            elif self.at("("):
                self.take()
                self.deeper()
                power = self.expr()
                self.expect(")", "a '(' is not closed where expected")
                self.level -= 1
            if power is None or isinstance(power, Neg):
                raise SubmissionError(f"{tok.text}^-1 is ambiguous (1/{tok.text} or its inverse) and other powers of "
                                      f"a function need a number: type {tok.text}(x)^2 or 1/{tok.text}(x)")
        if self.at("("):
            args = self.arguments(tok.text)
        elif fn.arity == (1, 1) and self.starts_factor():  # cos x, x^2 cos x: the next factor with its power
            self.deeper()
            args = (self.power(),)
            self.level -= 1
        else:
            raise SubmissionError(f"{tok.text} needs its argument, e.g. {tok.text}(x)")
        low, high = fn.arity
        if not low <= len(args) <= high:
            count = "one argument" if high == 1 else f"{low} or {high} arguments" if high == low + 1 else \
                f"{low} to {high} arguments"
            raise SubmissionError(f"{tok.text} takes {count}, got {len(args)}")
        node: Node = Call(tok.value, args)
        return Bin("^", node, power) if power is not None else node

    def piecewise(self) -> Node:
        """Piecewise((value, condition), ...), as sympy writes it."""
        self.take()
        self.expect("(", "Piecewise needs its cases: Piecewise((1, z > 0), (0, True))")
        self.deeper()
        cases = []
        while True:
            self.expect("(", "each case of Piecewise is (value, condition)")
            self.deeper()
            value = self.expr()
            self.expect(",", "each case of Piecewise is (value, condition)")
            condition = self.condition()
            self.expect(")", "each case of Piecewise is (value, condition)")
            self.level -= 1
            cases.append((value, condition))
            if not self.at(","):
                break
            self.take()
        self.expect(")", "the parentheses of Piecewise( are not closed")
        self.level -= 1
        return Cases(tuple(cases))

    def braces(self) -> Node:
        """{1 if z > 0; 0 otherwise}: cases separated by ; or , each with `if condition`, `, condition`,
        `otherwise` or `else` (before or after its value); a last case without one is the otherwise case."""
        self.take()
        self.deeper()
        cases: list[tuple[Node, Node | None]] = []
        while True:
            if self.at_kw("otherwise", "else"):
                self.take()
                cases.append((self.comparison(), None))
            else:
                value = self.comparison()
                condition: Node | None = None
                if self.at_kw("if"):
                    self.take()
                    condition = self.condition()
                elif self.at_kw("otherwise", "else"):
                    self.take()
                elif self.at(",") and self.condition_follows():
                    self.take()
                    if self.at_kw("otherwise", "else"):
                        self.take()
                    else:
                        condition = self.condition()
                cases.append((value, condition))
            if self.at(";", ","):
                self.take()
                if self.at("}"):
                    break
            elif not self.at_kw("else", "otherwise"):
                break
        self.expect("}", "a '{' of cases is not closed: type {1 if z > 0; 0 otherwise}")
        self.level -= 1
        return Cases(tuple(cases))

    def condition_follows(self) -> bool:
        """After a case's value and a ',': is what follows up to the next ',', ';' or '}' its condition?"""
        depth, j = 0, self.i + 1
        first = self.tokens[j] if j < len(self.tokens) else _END
        if first.kind == "kw" and first.value in ("otherwise", "True", "False"):
            return True
        while j < len(self.tokens):
            tok = self.tokens[j]
            if tok.kind == "op" and tok.value in "({":
                depth += 1
            elif tok.kind == "op" and tok.value in ")}":
                if depth == 0:
                    return False
                depth -= 1
            elif depth == 0 and tok.kind == "op" and tok.value in (",", ";"):
                return False
            elif depth == 0 and tok.kind == "op" and tok.value in ("<", ">", "<=", ">="):
                return True
            j += 1
        return False


def _closing(tokens: list[Token]) -> dict[int, int]:
    """The index of the matching close of every ( and {; errors for unbalanced or too deeply nested ones."""
    stack: list[int] = []
    out: dict[int, int] = {}
    pairs = {"(": ")", "{": "}"}
    for j, tok in enumerate(tokens):
        if tok.kind != "op":
            continue
        if tok.value in pairs:
            stack.append(j)
            if len(stack) > MAX_DEPTH:
                raise SubmissionError(f"parentheses nested more than {MAX_DEPTH} deep in the formula")
        elif tok.value in (")", "}"):
            if not stack:
                raise SubmissionError(f"unbalanced parentheses in the formula: a {tok.value!r} closes nothing")
            opened = stack.pop()
            if pairs[tokens[opened].value] != tok.value:
                raise SubmissionError(f"a {tokens[opened].value!r} is closed by {tok.value!r} in the formula")
            out[opened] = j
    if stack:
        raise SubmissionError(f"unbalanced parentheses in the formula: a {tokens[stack[-1]].value!r} is not closed")
    return out


def _read(text: str, ctx: _Context, trusted: bool = False) -> Formula:
    scale = KEY_SCALE if trusted else 1
    if isinstance(text, str) and len(text) > MAX_FORMULA * scale * 4:
        raise SubmissionError(f"the formula is too long ({len(text)} characters, at most {MAX_FORMULA * scale})")
    s = _clean(text)
    if not s:
        raise SubmissionError("blank; expected a formula")
    if len(s) > MAX_FORMULA * scale:
        raise SubmissionError(f"the formula is too long ({len(s)} characters, at most {MAX_FORMULA * scale})")
    if _SCIENTIFIC.search(s):
        raise SubmissionError("scientific notation (1e-3) is not read in a formula; write 0.001")
    tokens = _tokens(s, ctx)
    if len(tokens) > MAX_TOKENS * scale:
        raise SubmissionError(f"the formula is too long ({len(tokens)} symbols, at most {MAX_TOKENS * scale})")
    closing = _closing(tokens)
    formula = Formula.of(_Parser(tokens, ctx, closing).formula(), s)
    if not trusted and not formula.names and not any(isinstance(n, Apply) for n in _nodes(formula.root)) \
            and _value(formula.root, {}) is None:
        raise SubmissionError(f"{_show(s)} is undefined or too large (log 0, division by zero, an overflow)")
    return formula


def parse_formula(text: str, spec: Spec = Spec(), *, trusted: bool = False) -> Formula:
    """A formula over the names `spec` allows, read without running anything; SubmissionError if it cannot be.

    `trusted`: the key's own text (longer limits, forbidden functions allowed).

    >>> str(parse_formula("2x sin(x) + x^2 cos x", Spec(("x",))))
    '2*x*sin(x) + x^2*cos(x)'
    >>> str(parse_formula("1 if z > 0 else 0", Spec(("z",))))
    'Piecewise((1, z > 0), (0, True))'
    """
    return _parsed(text, spec, trusted)


@functools.lru_cache(maxsize=4096)
def _parsed(text: str, spec: Spec, trusted: bool) -> Formula:
    return _read(text, _context(replace(spec, forbid=()) if trusted else spec), trusted)


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


def _environment(ctx: _Context, point: Mapping[str, Value]) -> dict[str, Value]:
    """Variable values with each defined name's value at them added (where it is defined)."""
    env = dict(point)
    for name, (_, body) in ctx.defined.items():
        v = _value(body, env)
        if v is not None:
            env[name] = v
    return env


def _sweep() -> tuple[float, ...]:
    small = (0.01, 0.05, 0.1, 0.2)
    grid = tuple(round(LOW + 0.1 * k + 0.0137, 4) for k in range(25))
    return tuple(s * v for v in small + grid + (3.5, 5.0) for s in (1, -1))


SWEEP = _sweep()


def _points(names: Sequence[str], jumps: bool, seed: int) -> Iterator[dict[str, float]]:
    """Random points (random sign, |v| in [LOW, HIGH]); for formulas with jumps, then a sweep of each variable."""
    rng = random.Random(seed)

    def random_point() -> dict[str, float]:
        return {n: rng.choice((-1, 1)) * rng.uniform(LOW, HIGH) for n in names}

    for _ in range(MAX_POINTS):
        yield random_point()
    if jumps:
        for n in names[:4]:
            for v in SWEEP:
                yield {**random_point(), n: v}


def same(student: Formula, key: Formula, spec: Spec = Spec(), *, seed: int = 0) -> bool:
    """Whether two formulas agree at the comparison points (see the module docstring).

    A point counts where both are defined; where the key is complex (ln of a negative number) a
    disagreement is not final (ln|x| and ln x are both right where the question lives).

    >>> spec = Spec(("x",))
    >>> same(parse_formula("2(x+1)", spec), parse_formula("2*x + 2", spec)), \
same(parse_formula("x^2", spec), parse_formula("x^3", spec))
    (True, False)
    """
    ctx = _context(spec)
    names = sorted(({*ctx.variables} | student.names | key.names) - set(ctx.defined))
    jumps = student.jumps or key.jumps or any(any(_jumps(body)) for _, body in ctx.defined.values())
    agreed = 0
    for point in _points(names, jumps, seed):
        env = _environment(ctx, point)
        a, b = _value(key.root, env), _value(student.root, env)
        if a is None or b is None:
            continue
        if abs(a - b) > RTOL * max(1.0, abs(a)):
            if isinstance(a, complex) and abs(a.imag) > 1e-12 * max(1.0, abs(a.real)):
                continue
            return False
        agreed += 1
        if agreed >= POINTS and not jumps:
            return True
    return agreed >= AGREE


def _record_key(part: Mapping[str, Any]) -> tuple[str, tuple[str, ...], Spec]:
    """What of a part record judging a formula depends on (hashable, for the caches)."""
    return str(part["answer"]), tuple(str(a) for a in part.get("accept") or ()), Spec.of_record(part)


def matches(student: Formula, part: Mapping[str, Any]) -> bool:
    """Whether a read formula equals the part's answer or one of its `accept`ed forms."""
    answer, accept, spec = _record_key(part)
    return _matches(student, answer, accept, spec)


def _matches(student: Formula, answer: str, accept: tuple[str, ...], spec: Spec) -> bool:
    for text in (answer, *accept):
        try:
            key = parse_formula(text, spec, trusted=True)
        except SubmissionError as e:
            raise ValueError(f"the key's formula {text!r} cannot be read: {e}") from None
        if same(student, key, spec):
            return True
    return False


def judge_formula(text: str | None, part: Mapping[str, Any]) -> tuple[Any, str]:
    """The verdict (qgen.grade.compare.Verdict) on a typed formula for a part record, and why it could
    not be read ("" when it could). Cached by text and key: a class types the same few formulas.

    >>> part = {"kind": "expression", "answer": "g*(1 - g)", "formula": {"variables": ["z"],
    ...         "definitions": {"g": "1/(1 + exp(-z))"}, "forbid": []}}
    >>> [judge_formula(t, part)[0].status for t in ("g(z)(1-g(z))", "exp(-z)/(1+exp(-z))^2", "g*(1+g)", "")]
    ['correct', 'correct', 'wrong', 'blank']
    >>> judge_formula("g + foo", part)[1]
    "unknown name 'foo' in the formula; use numbers, e, pi, g, z, + - * / ^ ( ) and the functions exp, ln, log, \
sqrt, abs, sin, cos, tan, sinh, cosh, tanh, sech, sigma, max, min, step, Heaviside"
    """
    return _judged(text, *_record_key(part))


@functools.lru_cache(maxsize=8192)
def _judged(text: str | None, answer: str, accept: tuple[str, ...], spec: Spec) -> tuple[Any, str]:
    from qgen.grade.compare import BLANK, Verdict

    if text is None or not _clean(text):
        return BLANK, ""
    try:
        student = parse_formula(text, spec)
    except SubmissionError as e:
        return Verdict.of([False]), str(e)
    return Verdict.of([_matches(student, answer, accept, spec)]), ""


def value_at(text: str, part: Mapping[str, Any], point: Mapping[str, Any]) -> float | None:
    """A typed formula's value at a point (variable -> number), for error carried forward from a formula
    to the value computed from it; None if it cannot be read or is undefined, infinite or complex there.

    >>> part = {"kind": "expression", "answer": "2*x", "formula": {"variables": ["x"]}}
    >>> value_at("x^2 + 1", part, {"x": 0.5}), value_at("ln(x)", part, {"x": "-1"}), value_at("x +", part, {"x": 1})
    (1.25, None, None)
    """
    spec = Spec.of_record(part)
    try:
        formula = parse_formula(text, spec)
        env = _environment(_context(spec), {str(k): float(v) for k, v in point.items()})
    except (SubmissionError, ValueError, TypeError):
        return None
    v = _value(formula.root, env)
    if isinstance(v, complex):
        if abs(v.imag) > 1e-12 * max(1.0, abs(v.real)):
            return None
        v = v.real
    return v


# -- writing a tree back ----------------------------------------------------------------------------
def _number(v: float) -> str:
    if v == math.e:
        return "e"
    if v == math.pi:
        return "pi"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return format(decimal.Decimal(repr(v)), "f")  # 1e-05 as 0.00001: scientific notation is not read


def _write(node: Node, outer: int = 0) -> str:
    """Text that reads back as the same formula; `outer`: the precedence of the context."""
    if isinstance(node, Num):
        text, prec = _number(node.value), 9
    elif isinstance(node, Var):
        text, prec = node.name, 9
    elif isinstance(node, Truth):
        text, prec = str(node.value), 9
    elif isinstance(node, Call):
        text, prec = f"{node.fn}({', '.join(_write(a) for a in node.args)})", 9
    elif isinstance(node, Apply):
        text, prec = f"{node.name}({', '.join(_write(a) for a in node.args)})", 9
    elif isinstance(node, Cases):
        cases = ", ".join(f"({_write(v)}, {_write(c) if c is not None else 'True'})" for v, c in node.cases)
        text, prec = f"Piecewise({cases})", 9
    elif isinstance(node, Compare):
        parts = [_write(node.operands[0], 3)]
        for op, o in zip(node.ops, node.operands[1:]):
            parts.append(f"{op} {_write(o, 3)}")
        text, prec = " ".join(parts), 1
    elif isinstance(node, Neg):
        text, prec = f"-{_write(node.arg, 5)}", 4
    elif isinstance(node, Bin) and node.op in "+-":
        right = _write(node.right, 3 if node.op == "-" else 2)
        text, prec = f"{_write(node.left, 2)} {node.op} {right}", 2
    elif isinstance(node, Bin) and node.op in "*/":
        text, prec = f"{_write(node.left, 3)}{node.op}{_write(node.right, 4 if node.op == '/' else 3)}", 3
    elif isinstance(node, Bin):
        text, prec = f"{_write(node.left, 6)}^{_write(node.right, 5)}", 5
    else:  # pragma: no cover - every node kind is handled above
        raise TypeError(node)
    return f"({text})" if prec < outer else text
