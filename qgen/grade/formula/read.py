"""Reading a formula: what a part allows (`Spec`), the read `Formula`, and `parse_formula` (text, tokens, tree).

Nothing typed is run: the text is cleaned and tokenized (`qgen.grade.formula.tokens`) and parsed
(`qgen.grade.formula.parser`) against the names the part's `Spec` allows; what cannot be read is
a SubmissionError with a message for the student.
"""

from __future__ import annotations

import functools
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from qgen.errors import SubmissionError
from qgen.grade.formula.parser import _closing, _Parser
from qgen.grade.formula.tokens import (
    _SCIENTIFIC,
    KEY_SCALE,
    MAX_FORMULA,
    MAX_TOKENS,
    _clean,
    _show,
    _tokens,
)
from qgen.grade.formula.tree import (
    _NAME,
    ALIASES,
    CONSTANTS,
    FUNCTIONS,
    KEYWORDS,
    SHOWN,
    Apply,
    Call,
    Cases,
    Compare,
    Node,
    Truth,
    Value,
    Var,
    _jumps,
    _nodes,
    _value,
)
from qgen.grade.formula.write import _write


# -- a formula read from text --------------------------------------------------------------------
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


# -- reading --------------------------------------------------------------------------------------
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
