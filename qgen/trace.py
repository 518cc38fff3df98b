"""The Trace: a solved instance as a DAG of named quantities.

Each `Quantity` has a stable key (`z1[2]`, `dl_dyhat[1]`, `dJ_dW2[1,1]`), a notation-free
symbol, a formula over other quantities (`qgen.expr`), and its value. A part of a question
asks for quantities; a worked solution prints the formula chain; error-carried-forward is
`Trace.evaluate` with a student's values substituted for the quantities they answered.

A Trace may carry a function table (`qgen.tables`, the no-calculator mode): then σ, σ′, tanh,
tanh′, ln, exp at the table's points take the table's stated values, in building, in
error-carried-forward and in the worked lines, which say so.

>>> t = Trace()
>>> _ = t.given("x", Sym("x", index=(1,)), 3)
>>> _ = t.add("y2", Sym("y"), Prod((Const(Fraction(2)), Ref("x"))))
>>> t["y2"], t.evaluate({"x": Fraction(5)})["y2"]
(Fraction(6, 1), Fraction(10, 1))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction  # noqa: F401  (the doctests use it)
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

from qgen import expr as ex
from qgen import numeric
from qgen.errors import UndefinedValueError
from qgen.expr import Const, Expr, Prod, Ref  # noqa: F401  (re-exported for families)
from qgen.notation import Notation, Sym
from qgen.numeric import Value

if TYPE_CHECKING:
    from qgen.tables import FunctionTable

# how a worked line marks a value read from the printed table
TABLE_NOTE = r"\quad\text{(from the table)}"


@dataclass(frozen=True)
class Quantity:
    """One named quantity of a solved instance.

    role: given (inputs, parameters, learning rate), forward, loss, factor (a local derivative
    of the chain rule), delta (an accumulated derivative, shown expanded into its factors),
    grad (a derivative of the objective by a parameter), update (a parameter after one step).
    inline: worked solutions show this quantity's formula in place of its symbol.
    """

    key: str
    sym: Sym
    expr: Expr | None
    value: Value
    role: str
    inline: bool = False

    @property
    def deps(self) -> tuple[str, ...]:
        """Keys this quantity's formula refers to, without repeats (worked out once).

        Kept in the instance by hand: functools.cached_property takes a lock on every first
        read (Python < 3.12), which cost more than the walk, and every worked line reads it.
        """
        known = self.__dict__.get("_deps")
        if known is None:
            known = tuple(dict.fromkeys(ex.refs(self.expr))) if self.expr is not None else ()
            object.__setattr__(self, "_deps", known)  # a memo, not a field: the dataclass stays frozen
        return known


class Trace:
    """An ordered (topological) collection of Quantities; see the module docstring."""

    def __init__(self, table: FunctionTable | None = None) -> None:
        self._q: dict[str, Quantity] = {}
        self._env: dict[str, Value] = {}
        self._table = table
        self._ancestors: dict[tuple[str, ...], tuple[str, ...]] = {}  # graders ask the same keys per student
        # symbols already written, for one notation at a time: worked lines print each symbol many times
        self._symbols: tuple[object, dict[str, str]] = (None, {})

    def __getstate__(self) -> dict[str, object]:
        """What crosses to another process: the quantities, not the memos (they are rebuilt on use)."""
        return {**self.__dict__, "_ancestors": {}, "_symbols": (None, {})}

    @property
    def table(self) -> FunctionTable | None:
        """The function table the values are read from (None: every function is computed exactly)."""
        return self._table

    # -- building ------------------------------------------------------------------------
    def given(self, key: str, sym: Sym, value: object, role: str = "given") -> Value:
        """Add a quantity with a known value and no formula (stated in the question, or computed outside)."""
        return self._put(Quantity(key, sym, None, numeric.lift(value), role))

    def add(self, key: str, sym: Sym, formula: Expr, role: str = "forward", *, inline: bool = False) -> Value:
        """Add a quantity computed by `formula` from quantities already in the Trace."""
        try:
            value = ex.evaluate(formula, self._env, self._table)
        except KeyError as e:
            raise KeyError(f"{key}: formula refers to the unknown quantity {e}") from None
        except (ValueError, ZeroDivisionError) as e:
            raise UndefinedValueError(f"{key} cannot be computed for these numbers ({e})") from None
        return self._put(Quantity(key, sym, formula, value, role, inline=inline))

    def _put(self, q: Quantity) -> Value:
        self._ancestors.clear()
        if q.key in self._q:
            raise KeyError(f"quantity {q.key!r} is defined twice")
        self._q[q.key] = q
        self._env[q.key] = q.value
        return q.value

    # -- reading -------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Value:
        return self._q[key].value

    def __contains__(self, key: object) -> bool:
        return key in self._q

    def __iter__(self):
        return iter(self._q.values())

    def __len__(self) -> int:
        return len(self._q)

    def quantity(self, key: str) -> Quantity:
        """The Quantity stored under `key`."""
        return self._q[key]

    def values(self) -> dict[str, Value]:
        """Every key with its value."""
        return dict(self._env)

    def keys(self, role: str | None = None) -> list[str]:
        """Keys in build order, optionally only those of one role."""
        return [k for k, q in self._q.items() if role is None or q.role == role]

    # -- error carried forward -----------------------------------------------------------
    def evaluate(self, overrides: Mapping[str, Value] | None = None,
                 only: Iterable[str] | None = None) -> dict[str, Value]:
        """Every value (or those `only` needs), recomputed with `overrides` standing in for the true values.

        An overridden quantity keeps its overridden value; everything downstream is recomputed
        from it, which is exactly what error-carried-forward needs.
        """
        overrides = overrides or {}
        env: dict[str, Value] = {}
        needed = self._q if only is None else {k: self._q[k] for k in self.ancestors(only)}
        for key, q in needed.items():
            if key in overrides:
                env[key] = overrides[key]
            elif q.expr is None:
                env[key] = q.value
            else:
                try:
                    env[key] = ex.evaluate(q.expr, env, self._table)
                except (ZeroDivisionError, ValueError, OverflowError):
                    env[key] = numeric.CTX.nan
        return env

    def ancestors(self, keys: Iterable[str]) -> list[str]:
        """`keys` and every quantity they depend on, in build order."""
        keys = tuple(keys)
        if keys in self._ancestors:
            return list(self._ancestors[keys])
        seen: set[str] = set()
        stack = list(keys)
        while stack:
            k = stack.pop()
            if k not in seen:
                seen.add(k)
                stack.extend(self._q[k].deps)
        found = [k for k in self._q if k in seen]
        self._ancestors[keys] = tuple(found)
        return found

    # -- the function table -----------------------------------------------------------------
    def table_reads(self, key: str) -> list[ex.Call]:
        """The function calls of `key`'s own formula that read the table (empty without a table).

        >>> from qgen.tables import STANDARD
        >>> t = Trace(table=STANDARD); _ = t.given("z", Sym("z"), 1)
        >>> _ = t.add("a", Sym("a"), ex.Fn("sigmoid", (Ref("z"),)))
        >>> [(c.name, c.arg, c.value) for c in t.table_reads("a")]
        [('sigmoid', Fraction(1, 1), Fraction(73, 100))]
        """
        formula = self._q[key].expr
        if self._table is None or formula is None:
            return []
        return [c for c in ex.calls(formula, self._env, self._table) if c.stated]

    def table_keys(self) -> list[str]:
        """Keys, in build order, whose formula read at least one value from the table."""
        return [k for k in self._q if self.table_reads(k)]

    # -- worked solutions ----------------------------------------------------------------
    def expanded(self, key: str) -> Expr | None:
        """The formula of `key` with every inline (delta) quantity replaced by its own formula."""
        q = self._q[key]
        if q.expr is None or not any(self._q[k].inline for k in q.deps):
            return q.expr  # nothing to expand (most formulas): no need to walk and rebuild the tree
        return ex.substitute(q.expr, lambda k: self._q[k].expr if self._q[k].inline else None)

    def symbol(self, key: str, notation: Notation) -> str:
        """The LaTeX symbol of `key` in `notation`."""
        known, symbols = self._symbols
        if known is not notation:  # the memo is for one notation object (profiles are immutable)
            symbols = {}
            self._symbols = (notation, symbols)
        text = symbols.get(key)
        if text is None:
            text = symbols[key] = notation.symbol(self._q[key].sym)
        return text

    def _operands(self, formula: Expr, value: Value, places: int) -> Callable[[Value], str]:
        """How to print a worked line's operands so that working them out gives the value shown.

        Operands rounded to `places` whose result rounds to another value are shown with up to
        four more decimals (e.g. 0.30833 · 0.21330 for 0.0658, not 0.3083 · 0.2133 = 0.0657...).
        """
        refs = list(dict.fromkeys(ex.refs(formula)))
        target = numeric.round_to(value, places)
        for extra in range(0, 5):
            digits = places + extra
            if all(numeric.is_shown_exactly(self._q[k].value, digits) for k in refs):
                return lambda v, d=digits: _operand(v, d)
            shown = {k: numeric.exact(numeric.decimal_str(self._q[k].value, digits)) for k in refs}
            try:
                worked = ex.evaluate(formula, {**self._env, **shown}, self._table)
            except (ValueError, ZeroDivisionError, TypeError):
                break
            if numeric.round_to(worked, places) == target:
                return lambda v, d=digits: _operand(v, d)
        return lambda v: _operand(v, places + 4)

    def explain(self, key: str, notation: Notation, places: int = 4, *, number: Callable[[Value], str] | None = None,
                formula: Expr | None = None) -> str:
        """One worked line: symbol = formula = formula with numbers = value (repeats left out).

        `formula` writes the value another way than the quantity's own (expanded) formula.
        With a table, the values it gives are substituted too, and the line says they come from
        the table: a = σ(z) = σ(1) = 0.73 (from the table).

        >>> t = Trace(); _ = t.given("a", Sym("x", index=(1,)), "1.5")
        >>> _ = t.add("b", Sym("y"), Prod((Const(Fraction(2)), Ref("a"))))
        >>> from qgen.notation import PROFILES
        >>> t.explain("b", PROFILES["bias-column"])
        'y = 2 \\\\cdot x_{1} = 2 \\\\cdot 1.5 = 3'
        """
        fmt = number or (lambda v: numeric.decimal_str(v, places))
        q = self._q[key]
        pieces = [self.symbol(key, notation)]
        formula = formula if formula is not None else self.expanded(key)  # another way to write the value
        note = ""
        if formula is not None:
            pieces.append(ex.latex(formula, lambda k: self.symbol(k, notation)))
            if number is None:  # the numbers shown must give the value shown: more digits where rounding would not
                fmt = self._operands(formula, q.value, places)
            pieces.append(ex.latex(formula, lambda k: fmt(self._q[k].value)))
            if self._table is not None and any(c.stated for c in ex.calls(formula, self._env, self._table)):
                pieces.append(ex.latex(ex.with_stated(formula, self._env, self._table), lambda k: fmt(self._q[k].value)))
                note = TABLE_NOTE
        value = numeric.decimal_str(q.value, places) if number is None else fmt(q.value)
        out = [p for n, p in enumerate(pieces) if p not in pieces[:n] and p != value]
        sign = "=" if numeric.is_shown_exactly(q.value, places) else r"\approx"
        return " = ".join(out) + f" {sign} {value}" + note


def _operand(v: Value, places: int) -> str:
    """An operand of a worked line at `places` decimals; one too small to show (Adam's ε = 10⁻⁸) is written
    with its power of ten rather than as a 0 it is not. Only exact values: a transcendental one that
    rounds to 0 at 50 digits is a 0.

    >>> _operand(Fraction(1, 10**8), 4), _operand(Fraction(3, 2 * 10**6), 4), _operand(Fraction(1, 4), 4)
    ('10^{-8}', '\\\\left(1.5 \\\\cdot 10^{-6}\\\\right)', '0.25')
    """
    text = numeric.decimal_str(v, places)
    if not numeric.is_exact(v) or text.strip("-0.") != "" or v == 0:  # a computed 1e-50 is a 0, not a value
        return text
    size = abs(numeric.to_float(v))
    if size == 0:  # below a float's range: no exam states such a number
        return text
    power = math.floor(math.log10(size))
    sign = "-" if v < 0 else ""
    if abs(Fraction(v)) == Fraction(10) ** power:
        return f"{sign}10^{{{power}}}"
    return rf"{sign}\left({size / 10 ** power:.1f} \cdot 10^{{{power}}}\right)"
