"""Family `activations`: the table of activation functions and their derivatives (seed 001 §1).

For each asked function (sigmoid, tanh, ReLU, leaky ReLU with its slope stated, linear): its
definition g(z), its derivative g′(z) in terms of g(z) or z, and the values g(z) and g′(z) at
given points. Symbolic answers are formula text in `z` and `g`; a definition part's variable is z
(and it may not use the function it defines: sigma for the sigmoid, tanh for tanh), a derivative
part's are z and g, defined as the activation g(z), so `g*(1 - g)`, `g(z)(1 - g(z))` and
`sigma(z)(1 - sigma(z))` are the same answer:

    sigmoid  1/(1 + exp(-z))           g*(1 - g)
    tanh     (exp(z) - exp(-z))/(...)  1 - g**2
    relu     Max(0, z)                 Piecewise((1, z > 0), (0, True))      (Heaviside(z, 0) accepted)
    leaky    Max(z, a*z), 0 < a < 1    Piecewise((1, z > 0), (a, True))
    linear   z                         1

At the kink z = 0 the derivative of ReLU is taken as 0 and that of leaky ReLU as its slope (the
left derivative); the exam states this whenever a point is 0. Seed 001's table prints the sigmoid
derivative as g(z)(1 − e^{−z}), a misprint: the key derives g(z)(1 − g(z)) and says so.

Trace keys, per function f and point k: given f.z[k]; forward f.g[k]; factor f.dg[k].
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

import numpy as np

from qgen import numeric
from qgen.errors import BankError, FamilyError
from qgen.expr import Ref, const_latex
from qgen.families.base import FormulaSpec, Part, Question, number_part
from qgen.families.domain import Words, choices, draw, draw_fair
from qgen.families.rules import DEFAULT, Rules, problem, saturated
from qgen.nn import functions as fn
from qgen.nn.network import ACTIVATIONS, param_number
from qgen.notation import Notation, Sym
from qgen.trace import Trace

SATURATION = 3  # |z| beyond which σ′ is small (tanh′ is judged on the derivative: rules.saturated)
DEFAULT_SLOPE = Fraction(1, 10)
PARAM_KEYS = ("functions", "leaky_slope")
KINKED = ("relu", "leaky_relu")


@dataclass(frozen=True)
class Activation:
    """What the key knows about one activation function."""

    title: str  # LaTeX text: the section heading and the statement's name column
    short: str  # LaTeX text: the key table's name column
    definition: str  # formula text in z
    definition_tex: str  # the right-hand side of g(z) = …
    derivative: str  # formula text in z and g
    derivative_tex: str  # the right-hand side of g′(z) = …
    steps: tuple[str, ...]  # worked lines of the derivation
    accept: tuple[str, ...] = ()  # other full-credit forms of the derivative
    forbid: tuple[str, ...] = ()  # functions the definition may not be written with (the one it defines)


def catalogue(slope: Fraction) -> dict[str, Activation]:
    """Every activation the family can ask, the leaky ReLU with slope `slope`."""
    a = const_latex(slope)
    e = r"e^{-z}"
    return {
        "sigmoid": Activation(
            r"Logistic (sigmoid) $\sigma$", r"sigmoid $\sigma$", "1/(1 + exp(-z))", r"\frac{1}{1 + e^{-z}}", "g*(1 - g)",
            r"g(z)\bigl(1 - g(z)\bigr)",
            (rf"g'(z) = \frac{{{e}}}{{\left(1 + {e}\right)^2}} = \frac{{1}}{{1 + {e}}}\cdot\frac{{{e}}}{{1 + {e}}}"
             rf" = g(z)\bigl(1 - g(z)\bigr),",
             rf"\text{{since }} \frac{{{e}}}{{1 + {e}}} = 1 - \frac{{1}}{{1 + {e}}} = 1 - g(z).",
             r"\text{Note: } g(z)\bigl(1 - e^{-z}\bigr)\text{, printed in some tables, is a misprint:}",
             r"\text{at } z = 0 \text{ it gives } 0\text{, but } g'(0) = \tfrac14."),
            ("exp(-z)/(1 + exp(-z))**2",), ("sigma", "sigmoid")),
        "tanh": Activation(
            r"Hyperbolic tangent $\tanh$", r"$\tanh$", "(exp(z) - exp(-z))/(exp(z) + exp(-z))",
            r"\frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}", "1 - g**2", r"1 - g(z)^2",
            (r"g'(z) = \frac{\left(e^{z} + e^{-z}\right)^2 - \left(e^{z} - e^{-z}\right)^2}{\left(e^{z} + e^{-z}\right)^2}"
             r" = 1 - g(z)^2 \quad\text{(quotient rule)}",),
            ("1 - tanh(z)**2", "4/(exp(z) + exp(-z))**2"), ("tanh",)),
        "relu": Activation(
            "ReLU", "ReLU", "Max(0, z)", r"\max(0, z)", "Piecewise((1, z > 0), (0, True))",
            r"\begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}",
            (r"g'(z) = 1 \text{ for } z > 0,\ 0 \text{ for } z < 0;\ "
             r"\text{at the kink } z = 0 \text{ we take } g'(0) = 0.",),
            ("Heaviside(z, 0)", "Heaviside(z)")),
        "leaky_relu": Activation(
            rf"Leaky ReLU (slope ${a}$ for $z \le 0$)", "leaky ReLU", f"Max(z, {slope}*z)",
            rf"\begin{{cases}} z & z > 0 \\ {a}\,z & z \le 0 \end{{cases}}", f"Piecewise((1, z > 0), ({slope}, True))",
            rf"\begin{{cases}} 1 & z > 0 \\ {a} & z \le 0 \end{{cases}}",
            (rf"g'(z) = 1 \text{{ for }} z > 0,\ {a} \text{{ for }} z < 0;\ \text{{at the kink }} z = 0 "
             rf"\text{{ we take the left derivative }} g'(0) = {a}.",),
            (f"{slope} + (1 - {slope})*Heaviside(z, 0)",)),
        "linear": Activation(
            "Linear (identity)", "linear", "z", "z", "1", "1", (r"g'(z) = \frac{d}{dz}\, z = 1",)),
    }


class TableNotation(Notation):
    """z_k, g(z_k) and g′(z_k): the names of one row of the table."""

    def symbol(self, s: Sym) -> str:
        """LaTeX for a point, a value or a derivative value."""
        k = s.index[0]
        return {"z": f"z_{{{k}}}", "g": f"g(z_{{{k}}})", "dg": f"g'(z_{{{k}}})"}[s.name]


def table_notation(notation: Notation) -> TableNotation:
    """The same profile with this family's symbols."""
    return notation.retyped(TableNotation)


@dataclass(frozen=True)
class Row:
    """One asked function and its points."""

    name: str
    z: tuple[Fraction, ...]


def _rows(params: Any) -> tuple[tuple[Row, ...], Fraction]:
    """Validate pinned parameters; errors name the key (params.functions[1].z[0])."""
    if not isinstance(params, Mapping):
        raise BankError("params: expected a mapping with functions: [{name: sigmoid, z: [-1, 2]}, ...]")
    unknown = sorted(str(k) for k in params if k not in PARAM_KEYS)
    if unknown:
        raise BankError(f"params: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(PARAM_KEYS)}")
    raw = params.get("functions")
    if not isinstance(raw, list) or not raw:
        raise BankError("params.functions: expected a non-empty list like [{name: sigmoid, z: [-1, 2]}]")
    rows = []
    for i, item in enumerate(raw):
        where = f"params.functions[{i}]"
        if not isinstance(item, Mapping) or set(item) != {"name", "z"}:
            raise BankError(f"{where}: expected a mapping with exactly the keys name and z, got {item!r}")
        if item["name"] not in ACTIVATIONS:
            raise BankError(f"{where}.name: {item['name']!r} is not one of {', '.join(ACTIVATIONS)}")
        z = item["z"]
        if not isinstance(z, list) or not z:
            raise BankError(f"{where}.z: expected a non-empty list of points, got {z!r}")
        points = tuple(_number(v, f"{where}.z[{k}]") for k, v in enumerate(z))
        if len(set(points)) != len(points):
            raise BankError(f"{where}.z: a point is repeated in {z!r}")
        rows.append(Row(item["name"], points))
    names = [r.name for r in rows]
    if len(set(names)) != len(names):
        raise BankError(f"params.functions: a function is asked twice in {names}")
    slope = _number(params.get("leaky_slope", param_number(DEFAULT_SLOPE)), "params.leaky_slope")
    if not 0 < slope < 1:
        raise BankError(f"params.leaky_slope: must be between 0 and 1, got {numeric.decimal_str(slope)}")
    return tuple(rows), slope


def _number(v: Any, where: str) -> Fraction:
    try:
        if isinstance(v, bool):
            raise TypeError
        return numeric.exact(v)
    except (TypeError, ValueError, ZeroDivisionError):
        raise BankError(f"{where}: {v!r} is not a number (write 2, -0.5 or 1/3)") from None


def build_trace(rows: tuple[Row, ...], slope: Fraction) -> Trace:
    """Every g(z_k) and g′(z_k) of every asked function."""
    t = Trace()
    for row in rows:
        s = slope if row.name == "leaky_relu" else None
        for k, z in enumerate(row.z, start=1):
            zk, gk = f"{row.name}.z[{k}]", f"{row.name}.g[{k}]"
            t.given(zk, Sym("z", index=(k,)), z)
            t.add(gk, Sym("g", index=(k,)), fn.activation(row.name, Ref(zk), s))
            t.add(f"{row.name}.dg[{k}]", Sym("dg", index=(k,)),
                  fn.activation_derivative(row.name, Ref(zk), Ref(gk), s), "factor")
    return t


class ActivationTable:
    """See the module docstring."""

    name = "activations"
    summary = ("Activation functions (sigmoid, tanh, ReLU, leaky ReLU, linear): definition, derivative in terms of "
               "g(z) or z, and values g(z), g'(z) at given points (seed 001 §1).")
    template = "families/activations.tex.j2"
    default_domain: dict[str, Any] = {
        # the statement calls g "the nonlinear function": linear is asked only where a bank lists it
        "functions": Words([f for f in ACTIVATIONS if f != "linear"], list(ACTIVATIONS)),
        "count": [3],
        "smooth": [2],  # how many of the functions are sigmoid/tanh (the rest ReLU-like): comparable versions
        "points": [2],
        "z": [-2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2],
        "leaky_slope": [0.1],
    }
    calculator_needed = "the question is evaluating sigmoid and tanh"
    # drawn once per exam, the functions too (as a set of `count`): versions differ in their points only
    shared = ("count", "smooth", "points", "functions")
    shared_sets = {"functions": "shared_functions"}  # how generate.shared_domain draws a shared set
    domain_limits = {"count": (1, 5), "smooth": (0, 2), "points": (1, 8)}
    constraints = ("no_saturation", "well_posed")

    # -- sampling ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, domain: Mapping[str, Any], rules: Rules = DEFAULT) -> dict[str, Any]:
        """Draw functions and points until the instance is a fair question (see `problems`)."""
        def attempt() -> tuple[dict[str, Any], list[str]]:
            params = self._draw(rng, domain)
            return params, self.problems(params)

        return draw_fair(self.name, attempt, f"z: points on both sides of 0, |z| ≤ {SATURATION}", rules=rules)

    def check_domain(self, d: Mapping[str, Any], where: str) -> None:
        """A bank's domain can give a question: enough functions and points (errors name the key)."""
        pool, z_pool = list(dict.fromkeys(d["functions"])), list(dict.fromkeys(choices(d["z"])))
        counts = [c for c in choices(d["count"]) if isinstance(c, int) and c > len(pool)]
        if counts:
            raise BankError(f"{where}.count: {counts[0]} functions cannot be drawn from the {len(pool)} in "
                            f"domain.functions ({', '.join(map(str, pool))})")
        points = [n for n in choices(d["points"]) if isinstance(n, int) and n > len(z_pool)]
        if points:
            raise BankError(f"{where}.points: {points[0]} distinct points cannot be drawn from the {len(z_pool)} "
                            f"values of domain.z")

    def shared_functions(self, rng: np.random.Generator, d: Mapping[str, Any]) -> Words:
        """The functions every version of an exam asks (`count` of domain.functions, `smooth` of them σ/tanh)."""
        pool = list(dict.fromkeys(d["functions"]))
        count = draw(rng, d["count"], "domain.count")
        self._check_count(count, pool)
        picked = self._pick(rng, d, pool, count)
        return Words([f for f in pool if f in picked], list(getattr(d["functions"], "allowed", ACTIVATIONS)))

    def _check_count(self, count: Any, pool: list[str]) -> None:
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= len(pool):
            raise FamilyError(f"{self.name}: domain.count {count!r} functions cannot be drawn from the "
                              f"{len(pool)} in domain.functions")

    def _pick(self, rng: np.random.Generator, d: Mapping[str, Any], pool: list[str], count: int) -> set[str]:
        smooth = [f for f in pool if f in ("sigmoid", "tanh")]
        rough = [f for f in pool if f not in smooth]
        # as many sigmoid/tanh rows as asked, as far as domain.functions allows
        k = min(max(draw(rng, d["smooth"], "domain.smooth"), count - len(rough)), len(smooth), count)
        picked = {smooth[i] for i in rng.choice(len(smooth), size=k, replace=False)}
        picked |= {rough[i] for i in rng.choice(len(rough), size=count - k, replace=False)}
        return picked

    def _draw(self, rng: np.random.Generator, d: Mapping[str, Any]) -> dict[str, Any]:
        pool = list(dict.fromkeys(d["functions"]))
        count = draw(rng, d["count"], "domain.count")
        n = draw(rng, d["points"], "domain.points")
        z_pool = list(dict.fromkeys(choices(d["z"])))  # a list, a fixed value, a range or a grid
        self._check_count(count, pool)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= len(z_pool):
            raise FamilyError(f"{self.name}: domain.points {n!r} distinct points cannot be drawn from the "
                              f"{len(z_pool)} values of domain.z")
        picked = self._pick(rng, d, pool, count)
        chosen = [i for i, f in enumerate(pool) if f in picked]
        functions = []
        for i in chosen:
            picks = sorted(rng.choice(len(z_pool), size=n, replace=False).tolist(), key=lambda j: numeric.exact(z_pool[j]))
            functions.append({"name": pool[i], "z": [z_pool[j] for j in picks]})
        params: dict[str, Any] = {"functions": functions}
        if any(f["name"] == "leaky_relu" for f in functions):
            params["leaky_slope"] = draw(rng, d["leaky_slope"], "domain.leaky_slope")
        return params

    def problems(self, params: Mapping[str, Any]) -> list[str]:
        """Names of the fairness constraints an instance breaks (empty: a good question)."""
        rows, _ = _rows(params)
        out: list[str] = []
        for row in rows:
            if row.name in ("sigmoid", "tanh") and any(abs(z) > SATURATION or saturated(row.name, float(z))
                                                       for z in row.z):
                out.append(problem("no_saturation", f"a {row.name} point where its derivative is nearly 0"))
            if row.name in ("sigmoid", "tanh") and any(-z in row.z for z in row.z if z != 0):
                out.append(problem("well_posed", f"mirrored {row.name} points (z and -z)"))
            if row.name in KINKED and len(row.z) > 1 and not (min(row.z) < 0 < max(row.z)):
                out.append(problem("well_posed", "ReLU points all on one side of 0"))
        return out

    # -- building ------------------------------------------------------------------------
    def build(self, params: Mapping[str, Any], notation: Notation, places: int) -> Question:
        """The question for fixed parameters (sampled, or pinned by a bank or --params)."""
        rows, slope = _rows(params)
        t = build_trace(rows, slope)
        nt = table_notation(notation)
        acts = catalogue(slope)
        parts: list[Part] = []
        for row in rows:
            parts.extend(_row_parts(row, acts[row.name], t, nt, places))
        stored: dict[str, Any] = {"functions": [{"name": r.name, "z": [param_number(z) for z in r.z]} for r in rows]}
        if any(r.name == "leaky_relu" for r in rows):
            stored["leaky_slope"] = param_number(slope)
        kink = any(r.name in KINKED and 0 in r.z for r in rows)
        context = {
            "rows": [{"title": acts[r.name].title, "definition": acts[r.name].definition_tex,
                      "points": _points_tex(r)} for r in rows],
            "kink": kink,
            "leaky": any(r.name == "leaky_relu" for r in rows),
            "linear": any(r.name == "linear" for r in rows),  # the statement cannot call every g nonlinear
            "slope": const_latex(slope),
            "table": _key_table(rows, acts, t, places),
        }
        return Question(self.name, "Activation functions and their derivatives", stored, t, nt, parts,
                        self.template, context)


def _points_tex(row: Row) -> str:
    return ", ".join(f"z_{{{k}}} = {numeric.decimal_str(z)}" for k, z in enumerate(row.z, start=1))


def _row_parts(row: Row, act: Activation, t: Trace, nt: TableNotation, places: int) -> list[Part]:
    section = act.title
    f = row.name
    ks = range(1, len(row.z) + 1)
    at = "at " + ", ".join(f"$z_{{{k}}} = {numeric.decimal_str(z)}$" for k, z in zip(ks, row.z))
    return [
        Part(id=f"{f}.definition", prompt="Write the definition $g(z)$ of this function.", kind="expression",
             points=1, answer=act.definition, answer_tex=f"g(z) = {act.definition_tex}", section=section, box_cm=1.6,
             formula=FormulaSpec(("z",), forbid=act.forbid)),
        Part(id=f"{f}.derivative", prompt=r"Write its derivative $g'(z)$, in terms of $g(z)$ or of $z$.",
             kind="expression", points=2, answer=act.derivative, answer_tex=f"g'(z) = {act.derivative_tex}",
             section=section, worked=act.steps, accept=act.accept, box_cm=2.4,
             formula=FormulaSpec(("z",), (("g", act.definition),))),
        number_part(t, nt, id=f"{f}.g", prompt=f"Compute $g(z)$ {at}.", keys=[f"{f}.g[{k}]" for k in ks],
                    places=places, section=section, points=len(row.z)),
        number_part(t, nt, id=f"{f}.dg", prompt=f"Compute $g'(z)$ {at}.", keys=[f"{f}.dg[{k}]" for k in ks],
                    places=places, section=section, points=len(row.z)),
    ]


def _key_table(rows: tuple[Row, ...], acts: Mapping[str, Activation], t: Trace, places: int) -> str:
    """Every definition, derivative and value as one LaTeX tabular (for the key)."""
    lines = [r"\begin{tabular}{lllrrr}", r"\hline",
             r"Function & $g(z)$ & $g'(z)$ & at $z$ & value $g(z)$ & value $g'(z)$ \\", r"\hline"]
    for row in rows:
        act = acts[row.name]
        for k, z in enumerate(row.z, start=1):
            head = (rf"{act.short} & $\displaystyle {act.definition_tex}$ & $\displaystyle {act.derivative_tex}$"
                    if k == 1 else "& &")
            g, dg = (numeric.decimal_str(t[f"{row.name}.{key}[{k}]"], places) for key in ("g", "dg"))
            lines.append(rf"{head} & ${numeric.decimal_str(z)}$ & ${g}$ & ${dg}$ \\")
        lines.append(r"\hline")
    lines.append(r"\end{tabular}")
    return "\n".join(lines)


FAMILY = ActivationTable()
