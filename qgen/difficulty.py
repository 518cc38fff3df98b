"""How hard each version's questions are by hand, and which versions stand out (pure).

`measure` counts what a student computes for a question's selected parts: the non-trivial
arithmetic steps and function evaluations over the Trace quantities the parts need (each
quantity, and each sub-formula such as y − ŷ, once however many parts share it), the largest
|value| among those quantities, and the most significant digits of a number the statement
gives. `compare` sets versions side by side and flags outliers; `report_lines` prints them.

Steps, operation by operation (operands are the values of the sub-formulas):
  + and − of k terms     k − 1 steps, terms 0 left out; none for two terms that are 0, 1 or −1
  · of k factors         k − 1 steps, factors 1 and −1 left out; a factor 0 makes the product 0
                         (only that factor's own work counts: the rest need not be computed)
  a / b                  one step, none when a is 0 or b is ±1
  aⁿ                     n − 1 steps, none for a base 0, 1 or −1
  −a, a copied value     none (a formula that is one Ref or one Const copies a value)
  σ, σ′, tanh, exp, ln   one step and one function evaluation, computed or read from the Trace's
                         function table (no-calculator mode); none where exact anyway (σ(0) = ½)
  ReLU, step, max, min   none: a comparison, not arithmetic; leaky ReLU's negative side is one product
Given quantities are stated, so free, except the ones a student evaluates outside the Trace's
formulas (chain-rule's u = g(x₀), v, du/dx, dv/dx, listed in COMPUTED, and any given with an
inexact value such as x₀ = π/4): one step each, a function evaluation when irrational.
Parts without keys add no steps: they are counted as `manual` (text) or `symbolic` (expression).

>>> from qgen.solve import solve
>>> net = {"layers": [{"W": [[3, -1], [-3, 1]], "b": [2, -1], "activation": "relu"},
...                   {"W": [[-2, 2]], "b": [1], "activation": "sigmoid"}],
...        "loss": "squared_error", "data": [{"x": [2, 5], "y": [1]}], "learning_rate": 2}
>>> measure(solve("mlp-backprop", params={"network": net}))  # seed 001 §3
Difficulty(steps=22, functions=1, magnitude=5.0, digits=1, parts=22, manual=4, symbolic=0, tiny=0)
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from qgen import expr as ex
from qgen import numeric
from qgen.expr import Const, Div, Expr, Fn, Neg, Pow, Prod, Ref, Sub, Sum
from qgen.families.base import Question
from qgen.families.rules import significant
from qgen.numeric import Value
from qgen.trace import Quantity

TRANSCENDENTAL = ("sigmoid", "dsigmoid", "tanh", "dtanh", "exp", "ln")
COMPUTED = {"chain-rule": frozenset({"u", "v", "du_dx", "dv_dx"})}  # givens a student evaluates (family: keys)
HIGH, LOW = 1.5, 1 / 1.5  # steps above HIGH × or below LOW × the median are outliers …
MIN_GAP = 3  # … when they also differ from it by at least this many steps
MAGNITUDE_FACTOR = 10  # numbers above this × the median magnitude (and above this) are outliers
MAX_ROWS = 30  # more versions than this: report_lines summarizes instead of listing each
MAX_OUTLIER_LINES = 20


@dataclass(frozen=True)
class Difficulty:
    """The hand-work of one question; see the module docstring for what counts as a step."""

    steps: int
    functions: int  # σ, σ′, tanh, tanh′, exp, ln evaluations
    magnitude: float  # the largest |value| among the quantities the parts need
    digits: int  # the most significant digits of a stated number (0.25: 2, −3: 1)
    parts: int  # auto-graded parts
    manual: int  # parts graded by a person (text)
    symbolic: int = 0  # auto-graded parts answered by a formula (counted in `parts`, no steps)
    tiny: int = 0  # asked numbers that are not 0 but show under two significant digits (0.0004 at 4 decimals)

    def as_dict(self) -> dict[str, Any]:
        """The JSON-able record (for the manifest)."""
        return asdict(self)


# -- one question ---------------------------------------------------------------------------
def _unit(v: Value) -> bool:
    return v == 0 or v == 1 or v == -1


def cost(e: Expr, env: Mapping[str, Value], seen: set[Expr] | None = None, table: Any = None) -> tuple[int, int]:
    """(steps, function evaluations) to evaluate `e` by hand, each Ref's value being known.

    Sub-formulas in `seen` were worked out before and cost nothing; `e`'s are added to it.
    `table`: the Trace's function table (no-calculator mode), which gives the values of σ, ln, ….

    >>> two, x = Const(Fraction(2)), Ref("x")
    >>> cost(Prod((two, x)), {"x": Fraction(3)}), cost(Prod((two, x)), {"x": Fraction(1)})
    ((1, 0), (0, 0))
    >>> cost(Fn("sigmoid", (Sum((x, two)),)), {"x": Fraction(3)})
    (2, 1)
    """
    seen = set() if seen is None else seen
    if isinstance(e, (Const, Ref)) or e in seen:
        return 0, 0
    seen.add(e)

    def value(x: Expr) -> Value:
        return ex.evaluate(x, env) if table is None else ex.evaluate(x, env, table)

    def children() -> tuple[int, int]:
        pairs = [cost(c, env, seen, table) for c in ex.children(e)]
        return sum(s for s, _ in pairs), sum(f for _, f in pairs)

    if isinstance(e, Prod):
        values = [value(f) for f in e.factors]
        zeros = [f for f, v in zip(e.factors, values) if v == 0]
        if zeros:  # the product is 0 as soon as one factor is: the others need not be computed
            return cost(next((f for f in zeros if isinstance(f, (Const, Ref))), zeros[0]), env, seen, table)
        steps, functions = children()
        return steps + max(sum(v != 1 and v != -1 for v in values) - 1, 0), functions
    steps, functions = children()
    if isinstance(e, Sum):
        values = [v for v in map(value, e.terms) if v != 0]
        trivial = len(values) <= 2 and all(_unit(v) for v in values)
        return steps + (0 if trivial else max(len(values) - 1, 0)), functions
    if isinstance(e, Sub):
        a, b = value(e.left), value(e.right)
        return steps + (0 if a == 0 or b == 0 or (_unit(a) and _unit(b)) else 1), functions
    if isinstance(e, Div):
        a, b = value(e.num), value(e.den)
        return steps + (0 if a == 0 or b == 1 or b == -1 else 1), functions
    if isinstance(e, Pow):
        return steps + (0 if _unit(value(e.base)) else abs(e.n) - 1 + (e.n < 0)), functions
    if isinstance(e, Fn) and e.name in TRANSCENDENTAL:  # computed or read from a table, unless exact (σ(0) = ½)
        exact = numeric.is_exact(ex.FUNCTIONS[e.name](*map(value, e.args)))
        return (steps, functions) if exact else (steps + 1, functions + 1)
    if isinstance(e, Fn) and e.name == "leaky_relu":
        negative = value(e) != value(e.args[0])
        return steps + (1 if negative and not _unit(e.slope) else 0), functions
    if isinstance(e, (Fn, Neg)):  # a comparison (ReLU, step, max, min), a sign
        return steps, functions
    raise TypeError(f"not an expression: {e!r}")


def quantity_cost(q: Quantity, env: Mapping[str, Value], computed: Iterable[str] = (),
                  seen: set[Expr] | None = None, table: Any = None) -> tuple[int, int]:
    """(steps, function evaluations) of one quantity: its formula's, or a computed given's one step."""
    if q.expr is not None:
        return cost(q.expr, env, seen, table)
    if q.key in computed or not numeric.is_exact(q.value):
        return 1, 0 if numeric.is_exact(q.value) else 1
    return 0, 0


def significant_digits(v: Value) -> int:
    """Significant digits of a number as a statement writes it (a fraction: its digits).

    >>> [significant_digits(Fraction(x)) for x in ("0.25", "-3", "1200", "0.05", "1/3", "0")]
    [2, 1, 2, 1, 2, 1]
    """
    places = numeric.terminating_places(v)
    if places is None:
        if not numeric.is_exact(v):
            return 0  # no statement gives a 50-digit number
        v = Fraction(v)
        return len(str(abs(v.numerator))) + len(str(v.denominator))
    whole = abs(Fraction(v) * 10**places).numerator
    text = str(whole).rstrip("0")
    return max(len(text), 1)


def measure(question: Question) -> Difficulty:
    """The hand-work of `question`'s (selected) parts.

    >>> from qgen.solve import solve
    >>> graph = {"x": 3, "nodes": [{"op": "add_const", "args": ["x"], "c": 1}, {"op": "mul", "args": [1, "x"]}]}
    >>> d = measure(solve("graph-forward", params=graph))  # (i) = 3 + 1, (ii) = 4 · 3
    >>> d.steps, d.functions, d.magnitude, d.digits
    (2, 0, 12.0, 1)
    """
    trace = question.trace
    needed = [trace.quantity(k) for k in trace.ancestors(k for p in question.parts for k in p.keys)]
    env = trace.values()
    computed = COMPUTED.get(question.family, frozenset())
    seen: set[Expr] = set()  # a sub-formula worked out once (y − ŷ in ℓ and in dℓ/dŷ) is not counted again
    table = getattr(trace, "table", None)
    costs = [quantity_cost(q, env, computed, seen, table) for q in needed]
    stated = [q for q in trace if q.role == "given" and q.key not in computed and numeric.is_exact(q.value)]
    return Difficulty(
        steps=sum(s for s, _ in costs),
        functions=sum(f for _, f in costs),
        magnitude=max((abs(numeric.to_float(q.value)) for q in needed), default=0.0),
        digits=max((significant_digits(q.value) for q in stated), default=0),
        parts=sum(not p.manual for p in question.parts),
        manual=sum(p.manual for p in question.parts),
        symbolic=sum(p.kind == "expression" for p in question.parts),
        tiny=tiny_answers(question),
    )


def tiny_answers(question: Question) -> int:
    """How many asked numbers are not 0 but show under two significant digits at their part's places."""
    return sum(1 for p in question.parts if p.kind in ("number", "vector", "matrix") for k in p.keys
               if (v := numeric.to_float(question.trace[k])) != 0 and not significant(v, p.places))


def measure_versions(versions: Iterable[Any]) -> dict[str, list[Difficulty]]:
    """{version id: the Difficulty of each question} for generate.Version records (.id, .questions)."""
    return {v.id: [measure(q) for q in v.questions] for v in versions}


# -- versions side by side --------------------------------------------------------------------
@dataclass(frozen=True)
class Outlier:
    """One version's question (or the whole version, question None) that stands out from the others."""

    version: str
    question: int | None  # from 1
    measure: str  # steps | magnitude | parts | manual | tiny (answers under two significant digits)
    value: float
    typical: float  # the median (the most common count for parts and manual)

    def __str__(self) -> str:
        where = f"version {self.version}" + (f", question {self.question}" if self.question else "")
        if self.measure == "magnitude":
            return f"{where}: numbers up to {_short(self.value)} (median {_short(self.typical)})"
        if self.measure == "tiny":
            return f"{where}: {_short(self.value)} answers under two significant digits"
        if self.measure == "steps":
            what = "steps" if self.question else "steps in all"
            return f"{where}: {_short(self.value)} {what} (median {_short(self.typical)})"
        noun = "manual parts" if self.measure == "manual" else "auto-graded parts"
        return f"{where}: {_short(self.value)} {noun} (most versions: {_short(self.typical)})"


@dataclass(frozen=True)
class Report:
    """Versions side by side: rows[v][i] is the Difficulty of question i + 1 of versions[v]."""

    versions: tuple[str, ...]
    rows: tuple[tuple[Difficulty, ...], ...]
    steps_median: tuple[float, ...]  # per question
    magnitude_median: tuple[float, ...]
    total_median: float
    flags: tuple[Outlier, ...]

    @property
    def totals(self) -> tuple[int, ...]:
        """Each version's steps over all its questions."""
        return tuple(sum(d.steps for d in row) for row in self.rows)

    @property
    def outliers(self) -> list[str]:
        """The flags as sentences: "version 7, question 2: 58 steps (median 34)"."""
        return [str(f) for f in self.flags]

    def flagged(self, version: str, question: int | None, measure: str) -> bool:
        """Whether that cell is an outlier."""
        return any((f.version, f.question, f.measure) == (version, question, measure) for f in self.flags)

    def as_dict(self) -> dict[str, Any]:
        """The JSON-able record (for the manifest)."""
        return {"versions": [{"version": v, "steps": total, "questions": [d.as_dict() for d in row]}
                             for v, row, total in zip(self.versions, self.rows, self.totals)],
                "median": {"steps": list(self.steps_median), "magnitude": list(self.magnitude_median),
                           "total": self.total_median},
                "outliers": self.outliers}


def off(value: float, median: float, gap: float = MIN_GAP) -> bool:
    """Whether a step count is far from the median: beyond HIGH× or LOW× it, and by at least `gap`.

    >>> off(58, 34), off(40, 34), off(4, 2), off(10, 30)
    (True, False, False, True)
    """
    return abs(value - median) >= gap and (value > HIGH * median or value < LOW * median)


def compare(rows: Mapping[str, Sequence[Difficulty]] | Iterable[tuple[str, Sequence[Difficulty]]]) -> Report:
    """Median per question over the versions, and the outliers (see `off` and MAGNITUDE_FACTOR)."""
    table = dict(rows)
    versions = tuple(str(v) for v in table)
    grid = tuple(tuple(r) for r in table.values())
    if len({len(r) for r in grid}) > 1:
        raise ValueError("every version needs the same number of questions to be compared")
    n = len(grid[0]) if grid else 0
    steps_median = tuple(statistics.median(r[i].steps for r in grid) for i in range(n))
    magnitude_median = tuple(statistics.median(r[i].magnitude for r in grid) for i in range(n))
    totals = [sum(d.steps for d in r) for r in grid]
    total_median = statistics.median(totals) if totals else 0
    usual = [{name: Counter(getattr(r[i], name) for r in grid).most_common(1)[0][0] for name in ("parts", "manual")}
             for i in range(n)]
    flags: list[Outlier] = []
    for v, row, total in zip(versions, grid, totals):
        for i, d in enumerate(row):
            if off(d.steps, steps_median[i]):
                flags.append(Outlier(v, i + 1, "steps", d.steps, steps_median[i]))
            if d.magnitude > MAGNITUDE_FACTOR * max(magnitude_median[i], 1):
                flags.append(Outlier(v, i + 1, "magnitude", d.magnitude, magnitude_median[i]))
            if d.tiny:
                flags.append(Outlier(v, i + 1, "tiny", d.tiny, 0))
            for name, count in usual[i].items():
                if getattr(d, name) != count:
                    flags.append(Outlier(v, i + 1, name, getattr(d, name), count))
        if n > 1 and off(total, total_median):
            flags.append(Outlier(v, None, "steps", total, total_median))
    return Report(versions, grid, steps_median, magnitude_median, total_median, tuple(flags))


# -- the terminal table ---------------------------------------------------------------------
def _short(x: float) -> str:
    """A number in at most about four characters: 34, 2.5, 0.125, 1200.

    >>> [_short(v) for v in (34, 34.5, 0.125, 1234.5, 3e-05)]
    ['34', '34.5', '0.125', '1234', '3e-05']
    """
    if x == int(x) or abs(x) >= 1000:
        return f"{x:.0f}"
    return f"{x:.3g}"


def _columns(lines: list[list[str]], width: int) -> list[str]:
    """Rows of cells, left-aligned in columns, each line cut to `width`."""
    sizes = [max(len(row[c]) for row in lines) for c in range(len(lines[0]))]
    out = ["  ".join(cell.ljust(size) for cell, size in zip(row, sizes)).rstrip() for row in lines]
    return [line if len(line) <= width else line[: width - 1] + "…" for line in out]


def _cell(report: Report, version: str, i: int, d: Difficulty, magnitude: bool) -> str:
    mark = "!" if report.flagged(version, i + 1, "steps") or report.flagged(version, i + 1, "magnitude") else ""
    return f"{d.steps}" + (f"/{_short(d.magnitude)}" if magnitude else "") + mark


def _outlier_lines(report: Report) -> list[str]:
    if not report.flags:
        return ["no outliers"]
    shown = report.outliers[:MAX_OUTLIER_LINES]
    more = len(report.flags) - len(shown)
    return [f"outliers ({len(report.flags)}):"] + [f"  {s}" for s in shown] + [f"  … and {more} more"] * (more > 0)


def report_lines(report: Report, width: int = 80) -> list[str]:
    """The difficulty table (a summary for more than MAX_ROWS versions), then the outliers.

    >>> d = Difficulty(steps=12, functions=1, magnitude=2.5, digits=2, parts=3, manual=0)
    >>> print("\\n".join(report_lines(compare({"1": [d], "2": [d]}))))
    steps/largest |number| per question (! marks an outlier)
    version  Q1      total
    1        12/2.5  12
    2        12/2.5  12
    no outliers
    """
    n = len(report.steps_median)
    if len(report.versions) > MAX_ROWS:
        return _summary_lines(report, width) + _outlier_lines(report)
    heads = ["version"] + [f"Q{i + 1}" for i in range(n)] + ["total"]
    for magnitude in (True, False):
        rows = [heads] + [[v] + [_cell(report, v, i, d, magnitude) for i, d in enumerate(row)]
                          + [f"{total}" + ("!" if report.flagged(v, None, "steps") else "")]
                          for v, row, total in zip(report.versions, report.rows, report.totals)]
        lines = _columns(rows, 10**6)
        if max(map(len, lines)) <= width or not magnitude:
            break
    title = ("steps/largest |number|" if magnitude else "steps") + " per question (! marks an outlier)"
    return [title] + _columns(rows, width) + _outlier_lines(report)


def _summary_lines(report: Report, width: int) -> list[str]:
    """Per question: steps min/median/max and the largest number's median/max over all versions."""
    rows = [["", "steps min", "median", "max", "|number| median", "max"]]
    for i in range(len(report.steps_median)):
        steps = [r[i].steps for r in report.rows]
        largest = max(r[i].magnitude for r in report.rows)
        rows.append([f"Q{i + 1}", str(min(steps)), _short(report.steps_median[i]), str(max(steps)),
                     _short(report.magnitude_median[i]), _short(largest)])
    totals = report.totals
    rows.append(["total", str(min(totals)), _short(report.total_median), str(max(totals)), "", ""])
    return [f"difficulty over {len(report.versions)} versions"] + _columns(rows, width)
