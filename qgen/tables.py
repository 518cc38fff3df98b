"""Function tables for the no-calculator mode: σ, σ′, tanh, tanh′, ln, exp at a few stated points.

An exam without calculators prints a small table of the transcendental values students need
and picks numbers so that everything else is hand arithmetic. A `FunctionTable` holds those
stated values as exact Fractions (σ(1) = 0.73, not 0.7310…); a Trace built with one
(`Trace(table=…)`, `dense.build(net, table)`) takes them wherever a function's argument is a
table point, and `hand_arithmetic_problems` tells whether a key's worked solution needs a
calculator anyway.

The standard table: σ and σ′ at the integers −3…3, tanh and tanh′ at −2…2, eᶻ at −2…2, and ln
at σ's stated values (ln 0.73 = −0.31, for the cross-entropy loss: 1 − σ(z) is σ(−z), so
ln(1 − ŷ) is in the table too). Every value is rounded half away from zero to 2 decimals: what
exam tables print, and what keeps hand products short (σ′ is 0.25, 0.2, 0.1 or 0.05, so a
2-decimal number times σ′ has at most 4 decimals, most often 3). σ′ is the rounded derivative
(σ′(1) = 0.20), not σ(1)(1 − σ(1)) = 0.73 · 0.27 of the rounded σ; a key in table mode uses it.

>>> STANDARD.lookup("sigmoid", 1), STANDARD.lookup("dsigmoid", 1), STANDARD.lookup("sigmoid", Fraction(3, 2))
(Fraction(73, 100), Fraction(1, 5), None)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from qgen import expr as ex
from qgen import numeric
from qgen.numeric import Value

# printed columns, in this order; "ln" is printed as ln σ(z), next to σ(z)
ORDER = ("sigmoid", "dsigmoid", "ln", "tanh", "dtanh", "exp")
HEADERS = {"sigmoid": r"\sigma(z)", "dsigmoid": r"\sigma'(z)", "ln": r"\ln \sigma(z)", "tanh": r"\tanh(z)",
           "dtanh": r"\tanh'(z)", "exp": r"e^{z}"}
TRANSCENDENTAL = frozenset({"sigmoid", "dsigmoid", "tanh", "dtanh", "exp", "ln"})

# what `hand_arithmetic_problems` reports (short, so a sampler can count them)
OFF_TABLE = "sigmoid/tanh/ln off the table"
REPEATING = "an intermediate is a repeating decimal"
INEXACT = "an intermediate is not exact"
TOO_LARGE = "an intermediate is too large for hand arithmetic"


def too_many_places(max_places: int) -> str:
    """The problem of a value with more decimals than a hand computation should need."""
    return f"an intermediate has more than {max_places} decimals"


@dataclass(frozen=True)
class FunctionTable:
    """Stated values of functions at points: `entries` is ((name, ((point, value), …)), …)."""

    entries: tuple[tuple[str, tuple[tuple[Fraction, Fraction], ...]], ...]
    places: int = 2
    _values: dict[str, dict[Fraction, Fraction]] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_values", {name: dict(pairs) for name, pairs in self.entries})

    # -- making tables -------------------------------------------------------------------
    @classmethod
    def computed(cls, points: Mapping[str, Iterable[object]], places: int = 2) -> FunctionTable:
        """Each function at its points, rounded half away from zero to `places` decimals.

        >>> FunctionTable.computed({"tanh": [1, 2]}).lookup("tanh", 2)
        Fraction(24, 25)
        """
        entries = []
        for name, pts in points.items():
            if name not in TRANSCENDENTAL:
                raise ValueError(f"{name!r} has no place in a function table (choose from {', '.join(ORDER)})")
            pairs = tuple((numeric.exact(p), stated(name, numeric.exact(p), places)) for p in pts)
            entries.append((name, tuple(sorted(pairs))))
        return cls(tuple(entries), places)

    @classmethod
    def standard(cls) -> FunctionTable:
        """σ, σ′ at −3…3; tanh, tanh′ at −2…2; eᶻ at −2…2; ln at σ's stated values; 2 decimals."""
        wide, narrow = range(-3, 4), range(-2, 3)
        base = cls.computed({"sigmoid": wide, "dsigmoid": wide, "tanh": narrow, "dtanh": narrow, "exp": narrow})
        logs = cls.computed({"ln": base.values("sigmoid").values()})
        return cls(base.entries + logs.entries, base.places)

    def restricted(self, names: Iterable[str]) -> FunctionTable:
        """The table of only these functions (a question that may use σ but not tanh).

        >>> STANDARD.restricted(["tanh"]).names
        ('tanh',)
        """
        wanted = set(names)
        unknown = wanted - set(self.names)
        if unknown:
            raise ValueError(f"the table has no {', '.join(sorted(unknown))}; it has {', '.join(self.names)}")
        return FunctionTable(tuple(e for e in self.entries if e[0] in wanted), self.places)

    # -- reading -------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """The functions the table gives, in its order."""
        return tuple(name for name, _ in self.entries)

    def values(self, name: str) -> dict[Fraction, Fraction]:
        """Point -> stated value, for one function."""
        return dict(self._values[name])

    def lookup(self, name: str, arg: Value) -> Fraction | None:
        """The stated value of `name` at `arg`, None off the table (an inexact arg is never on it)."""
        pairs = self._values.get(name)
        if pairs is None or not isinstance(arg, (Fraction, int)):
            return None
        return pairs.get(arg)

    def used_by(self, formulas: Iterable[ex.Expr | None]) -> list[str]:
        """The table's functions these formulas call, in printing order (pass `q.expr for q in trace`)."""
        found: set[str] = set()
        stack = [f for f in formulas if f is not None]
        while stack:
            e = stack.pop()
            if isinstance(e, ex.Fn):
                found.add(e.name)
            stack.extend(ex.children(e))
        return [n for n in ORDER if n in found and n in self._values]

    # -- printing ------------------------------------------------------------------------
    def columns(self, names: Iterable[str]) -> list[str]:
        """The printed columns for the functions a question uses (ln brings σ, whose values it takes)."""
        wanted = set(names)
        wanted |= {"sigmoid"} if "ln" in wanted else set()
        return [n for n in ORDER if n in wanted and n in self._values]

    def rows(self, names: Iterable[str]) -> list[tuple[Fraction, tuple[Fraction | None, ...]]]:
        """(z, values of the columns at z) for every point of a printed column; None where a column has none.

        >>> STANDARD.rows(["dtanh"])[2]
        (Fraction(0, 1), (Fraction(1, 1),))
        """
        cols = self.columns(names)
        points = sorted({p for c in cols if c != "ln" for p in self._values[c]})
        return [(z, tuple(self._cell(c, z) for c in cols)) for z in points]

    def _cell(self, column: str, z: Fraction) -> Fraction | None:
        if column == "ln":
            s = self.lookup("sigmoid", z)
            return None if s is None else self.lookup("ln", s)
        return self.lookup(column, z)

    def tex(self, names: Iterable[str]) -> dict[str, Any]:
        """What templates/function-table.tex.j2 prints: header, rows of math cells, align, places.

        Cells keep trailing zeros (0.20) and line up on the decimal point: in a column with
        negative values the others get a phantom minus.
        """
        names = list(names)
        cols = self.columns(names)
        table = self.rows(names)
        texts = [[numeric.decimal_str(z) for z, _ in table]]
        for c in range(len(cols)):
            texts.append(["" if vs[c] is None else format(numeric.round_to(vs[c], self.places), "f") for _, vs in table])
        for column in texts:
            if any(t.startswith("-") for t in column):
                column[:] = [t if t.startswith("-") or not t else r"\phantom{-}" + t for t in column]
        return {"header": ["z", *(HEADERS[c] for c in cols)], "rows": [list(r) for r in zip(*texts)],
                "align": "c|" + "c" * len(cols), "places": self.places}


def stated(name: str, point: Fraction, places: int) -> Fraction:
    """The exact value of `name` at `point` rounded half away from zero, as a Fraction (σ(1) -> 73/100)."""
    return Fraction(numeric.round_to(ex.FUNCTIONS[name](point), places))


STANDARD = FunctionTable.standard()


# -- the no-calculator check -----------------------------------------------------------------
def hand_arithmetic_problems(trace: Any, keys: Iterable[str], max_places: int = 3,
                             max_abs: Fraction = Fraction(1000)) -> list[str]:
    """Why the worked solutions of `keys` need a calculator; empty when hand arithmetic suffices.

    Over every quantity the keys depend on (`trace.ancestors`): a σ, σ′, tanh, tanh′, ln or exp
    whose argument is not a table point (and whose value is not exact, like σ(0)) is OFF_TABLE;
    every other value — the quantity's, each sub-expression's of its formula, each running
    product of a product — is a table value, or an exact decimal of at most `max_places` places
    and at most `max_abs` in size. Problems are named once each, in the order found; a family
    reports them as rules.problem("hand_arithmetic", name).

    >>> from qgen.notation import Sym
    >>> from qgen.trace import Trace
    >>> t = Trace(table=STANDARD); _ = t.given("z", Sym("z"), "1.5")
    >>> _ = t.add("a", Sym("a"), ex.Fn("sigmoid", (ex.Ref("z"),)))
    >>> hand_arithmetic_problems(t, ["a"])
    ['sigmoid/tanh/ln off the table']
    """
    table = trace.table
    env = trace.values()
    found: dict[str, None] = {}
    checked: set[Value] = set()
    for key in trace.ancestors(keys):
        q = trace.quantity(key)
        values: set[Value] = {q.value}
        if q.expr is not None:
            calls = ex.calls(q.expr, env, table)
            if any(c.name in TRANSCENDENTAL and not c.stated and not numeric.is_exact(c.value) for c in calls):
                found[OFF_TABLE] = None
                continue
            values.update(_intermediates(q.expr, env, table))
            values -= {c.value for c in calls if c.stated}
        for v in values - checked:
            checked.add(v)
            problem = _value_problem(v, max_places, max_abs)
            if problem and not (problem == INEXACT and OFF_TABLE in found):  # inexact downstream of σ(1.5)
                found[problem] = None
    return list(found)


def _value_problem(v: Value, max_places: int, max_abs: Fraction) -> str | None:
    """What makes one value unfit for hand arithmetic, if anything."""
    if not numeric.is_exact(v):
        return INEXACT
    if 10**max_places % v.denominator:
        return REPEATING if numeric.terminating_places(v) is None else too_many_places(max_places)
    if v > max_abs or v < -max_abs:
        return TOO_LARGE
    return None


def _intermediates(e: ex.Expr, env: Mapping[str, Value], table: Any) -> Iterator[Value]:
    """The value of every compound sub-expression of `e`, and every running product (a·b of a·b·c)."""
    for c in ex.children(e):
        if not isinstance(c, (ex.Ref, ex.Const)):
            yield ex.evaluate(c, env, table)
            yield from _intermediates(c, env, table)
    if isinstance(e, ex.Prod):
        running: Value = Fraction(1)
        for f in e.factors[:-1]:
            running = numeric.mul(running, ex.evaluate(f, env, table))
            yield running
