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

The package, one job a module: `tree` (the nodes, the function table, a tree's value at a
point), `tokens` (the limits, cleaning typed text, the tokenizer), `parser` (tokens into a tree),
`read` (what a part allows, `Formula`, `parse_formula`), `write` (a tree back as text) and, here,
judging: the comparison points, `same`, `matches`, `judge_formula` and `value_at`.


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

import functools
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from qgen.errors import SubmissionError
from qgen.grade.formula.read import (
    Formula,
    Spec,
    _Context,
    _context,
    key_variables,
    parse_formula,
)
from qgen.grade.formula.tokens import (
    KEY_SCALE,
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_FORMULA,
    MAX_LEVELS,
    MAX_TOKENS,
    Token,
    _clean,
)
from qgen.grade.formula.tree import (
    ALIASES,
    CONSTANTS,
    FUNCTIONS,
    KEYWORDS,
    SHOWN,
    Apply,
    Bin,
    Call,
    Cases,
    Compare,
    Function,
    Neg,
    Node,
    Num,
    Truth,
    Value,
    Var,
    _jumps,
    _value,
)

__all__ = [
    "AGREE", "ALIASES", "CONSTANTS", "FUNCTIONS", "HIGH", "KEYWORDS", "KEY_SCALE", "LOW", "MAX_DEPTH", "MAX_DIGITS",
    "MAX_FORMULA", "MAX_LEVELS", "MAX_POINTS", "MAX_TOKENS", "POINTS", "RTOL", "SHOWN", "SWEEP", "Apply", "Bin",
    "Call", "Cases", "Compare", "Formula", "Function", "Neg", "Node", "Num", "Spec", "Token", "Truth", "Value", "Var",
    "judge_formula", "key_variables", "matches", "parse_formula", "same", "value_at",
]


# -- comparison points and judging --------------------------------------------------------------
POINTS = 12  # points at which two smooth formulas are compared (8 must agree)
AGREE = 8
MAX_POINTS = 40  # random points tried at most
RTOL = 1e-8
LOW, HIGH = 0.3, 2.7  # |v| of a random point


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
