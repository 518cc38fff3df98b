"""Read one typed answer cell as the value the grader compares (pure; a student's text is never run).

`parse_cell(text, kind, ...)` dispatches on the part kind and returns a Fraction (number), a
tuple of Fractions (vector), a tuple of rows (matrix), a pair of ints (shape), an int (integer),
a label string, a `Formula` (qgen.grade.formula), or the stripped text (text parts); a blank
cell is `BLANK` (None). Anything it cannot read raises `SubmissionError` saying what was wrong and what to type.

Typed forms: unicode minus and en dash, thin and no-break spaces, `.5`, `5.`, `+2`, `1/2`,
`1e-3`, `1.5×10^-3`, `73%` (only with `percent_ok`). A decimal comma is read when the number has
one comma and no point (`0,5`, `-1,25`). With `decimal_comma` (a `;`-separated file, where the
comma is the decimal sign) that is always so; otherwise 1-3 digits (not starting with 0), a comma
and exactly three digits (`1,250`) could be a thousands separator and is rejected as ambiguous.
Vectors separate entries by `;` (entries may then use decimal commas), else by `,`, else by spaces;
when the expected length is given and the comma split does not match it, the space split is tried,
so `0,5 1,25` is two entries. Formulas are read by qgen.grade.formula's own whitelisted parser
into a tree (never by sympy, never run), with the names the part allows.

>>> parse_cell("−0,5", "number"), parse_cell("  ", "number") is BLANK
(Fraction(-1, 2), True)
>>> parse_cell("[1; 2,5]", "vector", length=2)
(Fraction(1, 1), Fraction(5, 2))
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from qgen.errors import SubmissionError
from qgen.grade.formula import Formula, Spec, parse_formula

BLANK = None  # what a blank cell parses to
KINDS = ("number", "vector", "matrix", "shape", "integer", "label", "expression", "text")
MAX_CELL = 2000  # characters in any cell
MAX_NUMBER = 100  # characters in one number
MAX_EXPONENT = 300  # |n| in 1en

_TYPED = str.maketrans({**{c: "-" for c in "\u2212\u2013\u2010\u2011\u2012\ufe63\uff0d"},
                        **{c: " " for c in "\t\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                                           "\u202f\u205f\u3000"},
                        **{c: "" for c in "\u200b\u200c\u200d\u2060\ufeff"},
                        "\r": "\n", "\u2044": "/", "\u2215": "/", "\u00f7": "/"})
_MANTISSA = r"(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)"
_DECIMAL = re.compile(rf"(?P<sign>[+-]?)\s*(?P<mant>{_MANTISSA})"
                      r"(?:[eE](?P<exp>[+-]?[0-9]+)|\s*[x×*·]\s*10\s*\^\s*(?P<exp10>[+-]?[0-9]+))?")
_THOUSANDS = re.compile(r"[1-9][0-9]{0,2},[0-9]{3}")
_NUMBER_HELP = "type a number such as -0.5, 1/2, 0,5 or 1e-3"
_CLOSE = {"(": ")", "[": "]", "{": "}"}
_TRANSPOSED = re.compile(r"\s*(?:\^\s*[Tt]|ᵀ)$")
_ROWS = re.compile(r"(?:\s*[\[(][^\[\]()]*[\])]\s*[,;]?)+\s*")
_SHAPE = re.compile(r"([0-9]{1,6})\s*(?:x|×|\*|,|;|by|\s)\s*([0-9]{1,6})")


def _show(text: str) -> str:
    """The text as quoted in a message, shortened."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _clean(text: str) -> str:
    """Typed text with dashes as '-', unusual spaces as ' ', invisible characters dropped, ends stripped."""
    if not isinstance(text, str):
        raise TypeError(f"a cell is text, got {type(text).__name__}")
    return text.translate(_TYPED).strip()


def _nonblank(text: str, what: str) -> str:
    s = _clean(text)
    if not s:
        raise SubmissionError(f"blank; expected {what}")
    if len(s) > MAX_CELL:
        raise SubmissionError(f"too long ({len(s)} characters) for {what}")
    return s


# -- numbers -------------------------------------------------------------------------------------
def _decimal(s: str, original: str, decimal_comma: bool = False) -> Fraction:
    """One decimal number (sign, mantissa with point or comma, exponent) as an exact Fraction."""
    found = _DECIMAL.fullmatch(s)
    if not found:
        raise SubmissionError(f"{_show(original)} is not a number; {_NUMBER_HELP}")
    mant, exp = found["mant"], found["exp"] or found["exp10"]
    if "," in mant:
        if _THOUSANDS.fullmatch(mant) and exp is None and not decimal_comma:
            whole, frac = mant.split(",")
            raise SubmissionError(f"{_show(original)} is ambiguous (a decimal comma or a thousands separator); "
                                  f"type {whole}.{frac} or {whole}{frac}")
        mant = mant.replace(",", ".")
    power = int(exp) if exp else 0
    if abs(power) > MAX_EXPONENT:
        raise SubmissionError(f"{_show(original)}: the exponent is out of range (at most {MAX_EXPONENT} in size)")
    value = Fraction(mant) * Fraction(10) ** power
    return -value if found["sign"] == "-" else value


def parse_number(text: str, *, percent_ok: bool = False, decimal_comma: bool = False) -> Fraction:
    """An exact number from what a person typed: decimals, fractions, scientific notation, percent.

    >>> parse_number("1/2"), parse_number(".5e-1"), parse_number("73 %", percent_ok=True)
    (Fraction(1, 2), Fraction(1, 20), Fraction(73, 100))
    """
    s = _nonblank(text, "a number")
    if len(s) > MAX_NUMBER:
        raise SubmissionError(f"{_show(s)} is too long for a number ({len(s)} characters)")
    scale = Fraction(1)
    if s.endswith("%"):
        if not percent_ok:
            raise SubmissionError(f"{_show(s)}: a percentage is accepted only for a probability; "
                                  f"type the number as a decimal (73% is 0.73)")
        s, scale = s[:-1].rstrip(), Fraction(1, 100)
    if s.count(",") > 1 or ("," in s and "." in s):
        raise SubmissionError(f"{_show(s)}: use one decimal point or comma and no thousands separators")
    if s.count("/") == 1:
        top, bottom = (part.strip() for part in s.split("/"))
        numerator, denominator = _decimal(top, s, decimal_comma), _decimal(bottom, s, decimal_comma)
        if denominator == 0:
            raise SubmissionError(f"{_show(s)} divides by zero")
        return numerator / denominator * scale
    return _decimal(s, s, decimal_comma) * scale


def parse_integer(text: str) -> int:
    """A whole number (3 and 3.0 are 3; 3.5 is an error).

    >>> parse_integer("3.0")
    3
    """
    value = parse_number(text)
    if value.denominator != 1:
        raise SubmissionError(f"{_show(_clean(text))} is not a whole number; type e.g. 3")
    return int(value)


# -- vectors and matrices -----------------------------------------------------------------------
def _unwrap(s: str) -> str:
    """`s` without one pair of brackets enclosing all of it: (1 2) -> 1 2, but (1 2) (3 4) stays."""
    if len(s) < 2 or s[0] not in _CLOSE or s[-1] != _CLOSE[s[0]]:
        return s
    depth = 0
    for i, ch in enumerate(s):
        depth += (ch in "([{") - (ch in ")]}")
        if depth == 0 and i < len(s) - 1:
            return s
    return s[1:-1].strip()


def _pieces(body: str, sep: str | None) -> list[str]:
    """Entries split on `sep` (None: spaces); a trailing separator is forgiven, an empty entry is not."""
    pieces = [p.strip() for p in body.split(sep)]
    if sep is not None and len(pieces) > 1 and not pieces[-1]:
        pieces.pop()
    for i, p in enumerate(pieces, 1):
        if not p:
            raise SubmissionError(f"entry {i} is empty in {_show(body)}")
    return pieces


def _entries(body: str, length: int | None, percent_ok: bool, decimal_comma: bool = False) -> tuple[Fraction, ...]:
    """The numbers of a bracket-free list, split as the module docstring says (a split of `length` first)."""
    if any(ch in body for ch in "()[]{}"):
        raise SubmissionError(f"{_show(body)}: unexpected brackets inside a list of numbers")
    if ";" in body:
        splits = [_pieces(body, ";")]
    elif "," in body:
        splits = [_pieces(body, ","), _pieces(body, None)]
    else:
        splits = [_pieces(body, None)]
    splits.sort(key=lambda pieces: length is not None and len(pieces) != length)
    error: SubmissionError | None = None
    for pieces in splits:
        try:
            return tuple(_entry(p, i, percent_ok, decimal_comma) for i, p in enumerate(pieces, 1))
        except SubmissionError as e:
            error = error or e
    raise error  # type: ignore[misc]


def _entry(text: str, index: int, percent_ok: bool, decimal_comma: bool = False) -> Fraction:
    try:
        return parse_number(text, percent_ok=percent_ok, decimal_comma=decimal_comma)
    except SubmissionError as e:
        raise SubmissionError(f"entry {index}: {e}") from None


def parse_vector(text: str, length: int | None = None, *, percent_ok: bool = False,
                 decimal_comma: bool = False) -> tuple[Fraction, ...]:
    """A list of numbers: `[1, 2]`, `(1 2)`, `1; 2`, `[0,5; 1,25]`, `[1 \\\\ 2]`, `[1, 2]^T`.

    >>> parse_vector("(1 -2)", 2)
    (Fraction(1, 1), Fraction(-2, 1))
    """
    s = _TRANSPOSED.sub("", _nonblank(text, "a list of numbers such as [1, 2] or 1; 2"))
    body = _unwrap(s).replace("\\\\", ";").replace("\n", ";").replace("&", ",")
    if not body:
        raise SubmissionError(f"{_show(s)} has no numbers; type e.g. [1, 2]")
    out = _entries(body, length, percent_ok, decimal_comma)
    if length is not None and len(out) != length:
        raise SubmissionError(f"expected {length} entries, got {len(out)}")
    return out


def parse_matrix(text: str, shape: tuple[int, int] | None = None, *,
                 percent_ok: bool = False, decimal_comma: bool = False) -> tuple[tuple[Fraction, ...], ...]:
    """Rows of numbers: `[[1, 2], [3, 4]]`, `1 2; 3 4`, rows on lines, `1 & 2 \\\\ 3 & 4`.

    >>> parse_matrix("[[1, 2], [3, 4]]", (2, 2))
    ((Fraction(1, 1), Fraction(2, 1)), (Fraction(3, 1), Fraction(4, 1)))
    """
    s = _unwrap(_nonblank(text, "a matrix such as [[1, 2], [3, 4]] or 1 2; 3 4"))
    if s[:1] in ("[", "("):
        if not _ROWS.fullmatch(s):
            raise SubmissionError(f"{_show(s)}: could not read the rows; type e.g. [[1, 2], [3, 4]]")
        rows = [r.strip() for r in re.findall(r"[\[(]([^\[\]()]*)[\])]", s)]
    else:
        rows = _pieces(s.replace("\\\\", ";").replace("\n", ";").replace("&", ","), ";")
    cols = shape[1] if shape else None
    out = []
    for i, row in enumerate(rows, 1):
        try:
            out.append(_entries(row, cols, percent_ok, decimal_comma) if row else ())
        except SubmissionError as e:
            raise SubmissionError(f"row {i}: {e}") from None
        if not out[-1] or len(out[-1]) != len(out[0]):
            raise SubmissionError(f"row {i} has {len(out[-1])} entries, row 1 has {len(out[0])}")
    got = (len(out), len(out[0]))
    if shape is not None and got != tuple(shape):
        raise SubmissionError(f"expected a {shape[0]}x{shape[1]} matrix, got {got[0]}x{got[1]}")
    return tuple(out)


def parse_shape(text: str) -> tuple[int, int]:
    """A matrix shape: `3x2`, `3 × 2`, `(3, 2)`, `3 by 2`.

    >>> parse_shape("3×2"), parse_shape("(3, 2)")
    ((3, 2), (3, 2))
    """
    s = _unwrap(_nonblank(text, "a shape such as 3x2").casefold())
    found = _SHAPE.fullmatch(s)
    if not found:
        raise SubmissionError(f"{_show(s)} is not a shape; type rows x columns, e.g. 3x2 or (3, 2)")
    rows, cols = int(found[1]), int(found[2])
    if not rows or not cols:
        raise SubmissionError(f"{_show(s)}: a shape has at least one row and one column")
    return rows, cols


# -- labels -------------------------------------------------------------------------------------
_ALIASES = {"y": "yes", "n": "no"}


def _label(text: str) -> str:
    """A label compared case-insensitively, inner spaces collapsed, whole numbers written plainly (1.0 -> 1)."""
    s = " ".join(_clean(str(text)).casefold().split())
    try:
        value = parse_number(s)
    except SubmissionError:
        return s
    return str(value.numerator) if value.denominator == 1 else s


def parse_label(text: str, labels: Sequence[Any] = ()) -> str:
    """A class label or yes/no answer: one of `labels` as given there (any normalized text without them).

    >>> parse_label("1.0", ["0", "1"]), parse_label(" YES ", ["yes", "no"]), parse_label("Y", ["yes", "no"])
    ('1', 'yes', 'yes')
    """
    s = _nonblank(text, "a label")
    if len(s) > MAX_NUMBER or any(not ch.isprintable() for ch in s):
        raise SubmissionError(f"{_show(s)} is not a label")
    got = _label(s)
    if not labels:
        return got
    known = {_label(label): str(label) for label in labels}
    got = got if got in known else _ALIASES.get(got, got)
    if got not in known:
        raise SubmissionError(f"{_show(s)} is not one of: {', '.join(map(str, labels))}")
    return known[got]


# -- formulas -----------------------------------------------------------------------------------
def parse_expression(text: str, symbols: Sequence[str] = (), *, formula: Mapping[str, Any] | None = None) -> Formula:
    """A formula over the variables `symbols` (or a part's `formula` record: variables, definitions,
    forbidden functions), read by `qgen.grade.formula` into a tree; nothing typed is ever run.

    >>> str(parse_expression("2x sin(x) + x^2 cos x", ["x"]))
    '2*x*sin(x) + x^2*cos(x)'
    >>> parse_expression("x(1 - x)", ["x"]) == parse_expression("x*(1-x)", ["x"])
    True
    """
    spec = Spec.of(formula) if formula else Spec(tuple(symbols))
    return parse_formula(text, spec)


# -- one cell -----------------------------------------------------------------------------------
def parse_cell(text: str | None, kind: str, *, length: int | None = None, shape: tuple[int, int] | None = None,
               symbols: Sequence[str] = (), labels: Sequence[Any] = (), percent_ok: bool = False,
               decimal_comma: bool = False, formula: Mapping[str, Any] | None = None) -> Any:
    """The value of one typed cell for a part of `kind` (see the module docstring); BLANK if nothing was typed.

    A vector or matrix typed entry by entry (a CSV column per entry) is read with kind "number".
    A formula is read with the part's `formula` record when given, else over the variables `symbols`.

    >>> parse_cell("3 by 2", "shape"), parse_cell("", "shape") is BLANK
    ((3, 2), True)
    """
    if kind not in KINDS:
        raise ValueError(f"unknown part kind {kind!r}; kinds are {', '.join(KINDS)}")
    if text is None or not _clean(text):
        return BLANK
    read = {"number": lambda: parse_number(text, percent_ok=percent_ok, decimal_comma=decimal_comma),
            "vector": lambda: parse_vector(text, length, percent_ok=percent_ok, decimal_comma=decimal_comma),
            "matrix": lambda: parse_matrix(text, shape, percent_ok=percent_ok, decimal_comma=decimal_comma),
            "shape": lambda: parse_shape(text), "integer": lambda: parse_integer(text),
            "label": lambda: parse_label(text, labels),
            "expression": lambda: parse_expression(text, symbols, formula=formula), "text": lambda: _clean(text)}
    return read[kind]()
