"""Typed text into tokens: the reading limits, cleaning (dashes, ×, superscripts, Greek letters) and the tokenizer.

Each token is a number, an operator or a name the part allows (`qgen.grade.formula.read._Context`);
a run of letters is split into allowed names (`xsin` is x, sin); anything else is a SubmissionError.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

from qgen.errors import SubmissionError
from qgen.grade.formula.tree import _NAME, ALIASES, KEYWORDS

if TYPE_CHECKING:
    from qgen.grade.formula.read import _Context

MAX_FORMULA = 200  # characters of a typed formula
MAX_TOKENS = 150
MAX_DEPTH = 20  # parentheses (and braces) nested in a formula
MAX_LEVELS = 2 * MAX_DEPTH  # the parser's own nesting: groups, calls, unary minus, powers
MAX_DIGITS = 30  # in one number
KEY_SCALE = 10  # a key's text (ours, not a student's) may be this many times longer


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
