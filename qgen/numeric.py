"""Numbers: exact rationals where the arithmetic allows, 50-digit reals where it does not.

A value is either a `fractions.Fraction` (exact) or an mpmath `mpf` of this module's own
context (50 significant digits). Rational operations on Fractions stay Fractions, so
0.966 is 483/500 and prints as 0.966; a transcendental step (exp, log, sigmoid, tanh)
turns its result into an `mpf` unless the answer is rational (sigmoid(0) = 1/2).
Rounding happens only in `decimal_str`, at the edge (rendering, grading, JSON).

>>> decimal_str(exact("0.1") + exact("0.2"))
'0.3'
>>> decimal_str(sigmoid(exact(-2)), 4)
'0.1192'
"""

from __future__ import annotations

import copyreg
import decimal
import math
import re
from fractions import Fraction
from typing import Union

import mpmath

CTX = mpmath.MPContext()
CTX.dps = 50
Real = type(CTX.mpf(1))
Value = Union[Fraction, "mpmath.mpf"]

_DEC = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)


def _real_from_mpf(mpf: tuple) -> "mpmath.mpf":
    """An mpf of this module's context from mpmath's raw (sign, mantissa, exponent, bits) tuple."""
    return CTX.make_mpf(mpf)


# This context's mpf is a class of its own that pickle cannot find by name; solved questions cross
# to worker processes (parallel `build_versions`), so it pickles as its exact raw value.
copyreg.pickle(Real, lambda v: (_real_from_mpf, (v._mpf_,)))


_EXPONENT = re.compile(r"[eE]\s*([-+]?\d{1,12})")
_FLOATS: dict[float, Fraction] = {}  # samplers draw the same few decimals (0.5, -1.5) over and over


def exact(x: object) -> Fraction:
    """A Fraction from an int, a decimal string, a float as written (1.3 -> 13/10), or a Fraction.

    >>> exact(1.3)
    Fraction(13, 10)
    """
    if isinstance(x, Fraction):
        return x
    if isinstance(x, bool):
        raise TypeError("a truth value is not a number")
    if isinstance(x, int):
        return Fraction(x)
    if isinstance(x, float):
        known = _FLOATS.get(x)
        if known is not None:
            return known
        if not math.isfinite(x):
            raise ValueError(f"{x!r} is not a finite number")
        if len(_FLOATS) >= 4096:
            _FLOATS.clear()
        known = _FLOATS[x] = Fraction(repr(x))  # -0.0 and 0.0 share an entry: both are 0
        return known
    if isinstance(x, str):
        text = x.strip().replace("\u2212", "-")
        big = _EXPONENT.search(text)
        if len(text) > 100 or (big and abs(int(big.group(1))) > 1000):
            raise ValueError(f"{text[:20]!r} is too long or too large a number")  # Fraction('1e99999999') never ends
        return Fraction(text)
    if isinstance(x, Real):
        raise TypeError("an inexact real cannot be made exact")
    raise TypeError(f"{x!r} is not a number")


def is_exact(v: Value) -> bool:
    """True for a Fraction (or int)."""
    return isinstance(v, (Fraction, int))


def real(v: Value) -> "mpmath.mpf":
    """The value as a 50-digit mpf."""
    if isinstance(v, Real):
        return v
    if not isinstance(v, Fraction):
        v = Fraction(v)
    return CTX.mpf(v.numerator) / v.denominator


def lift(v: object) -> Value:
    """Accept ints, floats and strings as exact values; keep Fractions and mpfs."""
    if isinstance(v, (Fraction, Real)):
        return v
    return exact(v)


def pair(a: Value, b: Value) -> tuple[Value, Value]:
    """Both operands exact, or both 50-digit reals (Fraction and mpf do not mix by themselves)."""
    if isinstance(a, Real) or isinstance(b, Real):
        return real(a), real(b)
    return a, b


def add(a: Value, b: Value) -> Value:
    if type(a) is Fraction and type(b) is Fraction:  # the common case, without `pair`'s checks
        return a + b
    a, b = pair(a, b)
    return a + b


def sub(a: Value, b: Value) -> Value:
    if type(a) is Fraction and type(b) is Fraction:  # the common case, without `pair`'s checks
        return a - b
    a, b = pair(a, b)
    return a - b


def mul(a: Value, b: Value) -> Value:
    """a·b; an exact 0 times anything is an exact 0 (so 0·σ(z) + 0.95 prints as 0.95, not 0.9500).

    >>> decimal_str(add(mul(Fraction(0), sigmoid(exact(1))), exact("-0.99625")), 4)
    '-0.99625'
    """
    if type(a) is Fraction and type(b) is Fraction:  # the common case, without `pair`'s checks
        return a * b
    if (type(a) is Fraction and not a) or (type(b) is Fraction and not b):
        return Fraction(0)
    a, b = pair(a, b)
    return a * b


def div(a: Value, b: Value) -> Value:
    """a / b; an exact 0 divided by anything non-zero is an exact 0."""
    if type(a) is Fraction and not a and b:
        return Fraction(0)
    a, b = pair(a, b)
    return a / b


def compare(a: object, b: object) -> int:
    """-1, 0 or 1 as a <, =, > b, decided on the exact values (never on floats).

    >>> compare(sigmoid(exact(0)), Fraction(1, 2)), compare(exact("0.1") + exact("0.2"), exact("0.3"))
    (0, 0)
    """
    a, b = pair(lift(a), lift(b))
    return (a > b) - (a < b)


def exp(v: Value) -> Value:
    """e**v; exact only at 0."""
    if is_exact(v) and v == 0:
        return Fraction(1)
    return CTX.exp(real(v))


def log(v: Value) -> Value:
    """Natural logarithm; exact only at 1."""
    if is_exact(v) and v == 1:
        return Fraction(0)
    if v <= 0:
        raise ValueError("log of a non-positive number")
    return CTX.log(real(v))


def sigmoid(v: Value) -> Value:
    """1 / (1 + e**-v); exact only at 0."""
    if is_exact(v) and v == 0:
        return Fraction(1, 2)
    return 1 / (1 + CTX.exp(-real(v)))


def tanh(v: Value) -> Value:
    """Hyperbolic tangent; exact only at 0."""
    if is_exact(v) and v == 0:
        return Fraction(0)
    return CTX.tanh(real(v))


def dsigmoid(v: Value) -> Value:
    """σ′(v) = σ(v)(1 − σ(v)); exact only at 0 (¼)."""
    s = sigmoid(v)
    return mul(s, sub(Fraction(1), s))


def dtanh(v: Value) -> Value:
    """tanh′(v) = 1 − tanh(v)²; exact only at 0 (1)."""
    t = tanh(v)
    return sub(Fraction(1), mul(t, t))


def to_float(v: Value) -> float:
    """The nearest float (for JSON and numpy)."""
    if isinstance(v, Real):
        return float(v)
    return float(Fraction(v))


def to_decimal(v: Value) -> decimal.Decimal:
    """The value as a 60-digit Decimal (exact for terminating fractions)."""
    if isinstance(v, Real):
        return _DEC.create_decimal(CTX.nstr(v, 55, strip_zeros=False, min_fixed=-CTX.inf, max_fixed=CTX.inf))
    if not isinstance(v, Fraction):
        v = Fraction(v)
    digits = len(str(abs(v.numerator))) + 60  # whole digits are never rounded away
    return decimal.Context(prec=digits).divide(decimal.Decimal(v.numerator), decimal.Decimal(v.denominator))


def terminating_places(v: Value) -> int | None:
    """Decimal places of an exact value's finite expansion, None if it has none (1/3) or is inexact.

    >>> terminating_places(Fraction(483, 500)), terminating_places(Fraction(1, 3))
    (3, None)
    """
    if not is_exact(v):
        return None
    den = v.denominator if isinstance(v, Fraction) else Fraction(v).denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    return max(twos, fives) if den == 1 else None


def _quantize(d: decimal.Decimal, places: int, rounding: str) -> decimal.Decimal:
    """`d` to `places` decimals, with enough precision for however many whole digits it has."""
    ctx = decimal.Context(prec=max(_DEC.prec, d.adjusted() + places + 5))
    return d.quantize(decimal.Decimal(1).scaleb(-places), rounding=rounding, context=ctx)


def round_to(v: Value, places: int) -> decimal.Decimal:
    """Round half away from zero to `places` decimals (as people round by hand)."""
    return _quantize(to_decimal(v), places, decimal.ROUND_HALF_UP)


# A solved question prints the same values many times (answer, worked lines, formulas with numbers,
# the distinct-answers check), and Decimal division and quantizing are slow: texts are remembered,
# keyed by the exact value (a Fraction's numerator and denominator, an mpf's raw tuple, so that
# Fraction(1), "1", and mpf(1), "1.0000", stay apart) and the places; bounded, cleared when full.
_SHOWN: dict[tuple[object, ...], str] = {}
_SHOWN_MAX = 1 << 16


def decimal_str(v: Value, places: int | None = None) -> str:
    """Plain decimal text: exact terminating values in full, others rounded to `places` (see `_decimal_str`).

    >>> decimal_str(Fraction(17, 5)), decimal_str(Fraction(1, 3)), decimal_str(CTX.mpf(1) - CTX.mpf('1e-11'))
    ('3.4', '0.3333', '1.0000')
    """
    if isinstance(v, Fraction):
        key: tuple[object, ...] = (v.numerator, v.denominator, places)
    elif isinstance(v, Real):
        key = (v._mpf_, places)
    else:
        return _decimal_str(v, places)
    text = _SHOWN.get(key)
    if text is None:
        if len(_SHOWN) >= _SHOWN_MAX:
            _SHOWN.clear()
        text = _SHOWN[key] = _decimal_str(v, places)
    return text


def _decimal_str(v: Value, places: int | None = None) -> str:
    """Plain decimal text: exact terminating values in full, others rounded to `places`.

    An exact value whose expansion is at most `places` + 2 digits long is printed in full
    (3.4, 0.966, 0.25, 24); anything else is rounded to `places` (default 4) and keeps
    trailing zeros (1.0000), as a key shows a rounded value.

    >>> decimal_str(Fraction(17, 5)), decimal_str(Fraction(1, 3)), decimal_str(CTX.mpf(1) - CTX.mpf('1e-11'))
    ('3.4', '0.3333', '1.0000')
    """
    if places is None:
        places = 4
    tp = terminating_places(v)
    if tp is not None and tp <= places + 2:
        text = format(_quantize(to_decimal(v), tp, decimal.ROUND_HALF_EVEN), "f")
    else:
        text = format(round_to(v, places), "f")
    if text.startswith("-") and set(text[1:]) <= {"0", "."}:
        text = text[1:]
    return text


def is_shown_exactly(v: Value, places: int | None = None) -> bool:
    """Whether `decimal_str(v, places)` is the exact value (no rounding happened)."""
    tp = terminating_places(v)
    return tp is not None and tp <= (4 if places is None else places) + 2
