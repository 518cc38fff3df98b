"""What every question family provides, and the Part/Question records they build.

A family samples parameters (`sample(rng, domain)`) and builds a `Question` from them
(`build(params, notation, places)`): a Trace plus the parts that query it. Families differ
only in that; selection of parts, points, rendering and the manifest are shared.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np

from qgen import numeric
from qgen.errors import BankError
from qgen.families.rules import Rules
from qgen.notation import Notation
from qgen.numeric import Value
from qgen.trace import Trace

# expression: a formula, answer = text such as "2*(a2 - y)*a1" that qgen.grade.formula reads, over the names its
# FormulaSpec declares
KINDS = ("number", "vector", "matrix", "shape", "integer", "label", "expression", "text")


@dataclass(frozen=True)
class FormulaSpec:
    """The names an expression part's answer may use, declared by its family (never read off the key).

    variables: the free names a student may type; definitions: names that stand for a formula of
    the variables (g for an activation g(z), typed `g` or `g(z)`; equality is judged after they
    are substituted); forbid: functions the answer may not use (the one a definition part defines).

    >>> FormulaSpec(("z",), (("g", "1/(1 + exp(-z))"),)).manifest()
    {'variables': ['z'], 'definitions': {'g': '1/(1 + exp(-z))'}, 'forbid': []}
    """

    variables: tuple[str, ...]
    definitions: tuple[tuple[str, str], ...] = ()
    forbid: tuple[str, ...] = ()

    def manifest(self) -> dict[str, Any]:
        """The `formula` record of the part in manifest.json."""
        return {"variables": list(self.variables), "definitions": dict(self.definitions), "forbid": list(self.forbid)}


@dataclass(frozen=True)
class FromFormula:
    """A numeric part that is an expression part's formula evaluated at a point (for error carried forward).

    >>> FromFormula("derivative", (("x", 0.5),)).manifest()
    {'part': 'derivative', 'at': {'x': 0.5}}
    """

    part: str  # the id of the expression part
    at: tuple[tuple[str, float], ...]  # the point: variable -> value

    def manifest(self) -> dict[str, Any]:
        """The `from_formula` record of the part in manifest.json."""
        return {"part": self.part, "at": dict(self.at)}


@dataclass(frozen=True)
class Part:
    """One sub-question: a prompt, the Trace keys it asks for, and its answer."""

    id: str
    prompt: str  # LaTeX text
    kind: str
    points: float
    answer: Any  # JSON-able: float, list of floats, [rows, cols], int, str
    answer_tex: str  # the final answer as math-mode LaTeX
    section: str = ""
    keys: tuple[str, ...] = ()  # Trace keys answered, in answer order (number/vector/matrix)
    places: int = 4
    worked: tuple[str, ...] = ()  # math-mode lines: symbol = formula = numbers = value
    model_answer: str = ""  # LaTeX text, for text parts
    box_cm: float = 1.6
    figure: str = ""  # TikZ shown with the answer in the key
    accept: tuple[Any, ...] = ()  # other answers worth full credit (e.g. from a statement's rounded values)
    tolerance: Mapping[str, Any] | None = None  # the bank's grading tolerance: {abs, rel, decimals, sig_figs}
    formula: FormulaSpec | None = None  # expression parts: the names the answer may use
    from_formula: FromFormula | None = None  # a value computed from an expression part's formula at a point
    # a label decided by comparing Trace values, for error carried forward from the student's own numbers:
    # {"left": key, "op": "<" | "<=" | ">" | ">=", "right": key or number, "labels": [if true, if false]}
    decide: Mapping[str, Any] | None = None

    @property
    def manual(self) -> bool:
        """Graded by a person (explanations, drawings, derivations)."""
        return self.kind == "text"

    def manifest(self) -> dict[str, Any]:
        """The record of this part in manifest.json and `qgen solve --json`."""
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "prompt": self.prompt, "answer": self.answer,
                               "points": self.points, "section": self.section}
        if self.keys:
            out["keys"] = list(self.keys)
        if self.kind in ("number", "vector", "matrix"):
            out["places"] = self.places
        if self.accept:
            out["accept"] = list(self.accept)
        if self.tolerance:
            out["tolerance"] = dict(self.tolerance)
        if self.decide:
            out["decide"] = dict(self.decide)
        if self.formula is not None:
            out["formula"] = self.formula.manifest()
        if self.from_formula is not None:
            out["from_formula"] = self.from_formula.manifest()
        if self.manual:
            out["model_answer"] = self.model_answer
        return out


@dataclass
class Question:
    """A built instance of a family: its Trace, parts and what its template needs."""

    family: str
    title: str
    params: dict[str, Any]
    trace: Trace
    notation: Notation  # what writes the Trace's symbols: a profile, or a family's own printer (.name, .symbol)
    parts: list[Part]
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    solution: dict[str, Any] | None = None  # objective, gradients, updated (families with a network)

    @property
    def points(self) -> float:
        """The question's total points."""
        return sum(p.points for p in self.parts)


class Deferred:
    """LaTeX made when a template first prints it, then kept: a figure whose layout is a search.

    Sampling, checking and grading never print it, so they never pay for it. To cross to another
    process (parallel `build_versions`), `make` must pickle: a module function or a partial of one.

    >>> d = Deferred(lambda: "x"); str(d), d.made
    ('x', True)
    """

    def __init__(self, make: Callable[[], str]):
        self._make = make
        self._text: str | None = None

    @property
    def made(self) -> bool:
        return self._text is not None

    def __str__(self) -> str:
        if self._text is None:
            self._text = self._make()
        return self._text


class Handover:
    """The Trace a sampler's last check built, handed to the build of the same parameters.

    A sampler checks the draw it accepts on its full Trace, and the generator builds that draw
    right after, which would compute the same Trace again. `keep` holds one (key, Trace);
    `take` gives it back for an equal key, once, so no two Questions ever share a Trace.

    >>> h = Handover(); h.keep(("net", 1), "trace"); h.take(("net", 1)), h.take(("net", 1))
    ('trace', None)
    """

    def __init__(self) -> None:
        self._key: Any = None
        self._value: Any = None

    def keep(self, key: Any, value: Any) -> None:
        """Hold `value`, computed for `key` (dropping what was held)."""
        self._key, self._value = key, value

    def take(self, key: Any) -> Any:
        """The value held for `key`, or None; either way nothing is held afterwards."""
        kept, value = self._key, self._value
        self._key = self._value = None
        return value if kept is not None and kept == key else None


class Family(Protocol):
    """A question family (see the module docstring).

    Optional: `domain_limits` (count-valued domain keys and their bounds), `fingerprint(params)`
    (what two versions must not share; default: all the parameters), `relaxed` (generic
    constraints off unless a bank question switches them on).
    """

    name: str
    summary: str
    default_domain: Mapping[str, Any]
    constraints: tuple[str, ...]  # the constraints `sample` enforces (see qgen.families.rules)

    def sample(self, rng: np.random.Generator, domain: Mapping[str, Any], rules: Rules = ...) -> dict[str, Any]: ...

    def build(self, params: Mapping[str, Any], notation: Notation, places: int) -> Question: ...


# -- helpers shared by families ------------------------------------------------------------
def number_part(trace: Trace, notation: Notation, *, id: str, prompt: str, keys: Sequence[str], places: int,
                section: str, points: float = 1, kind: str | None = None, box_cm: float | None = None,
                worked: Sequence[str] | None = None) -> Part:
    """A part answered by the values of Trace keys: one key is a number, several a vector.

    `worked`: the worked lines to show instead of each key's own line (which are then not made:
    they are most of the cost of a part).
    """
    kind = kind or ("number" if len(keys) == 1 else "vector")
    values = [trace[k] for k in keys]
    shown = [numeric.decimal_str(v, places) for v in values]
    if kind == "number":
        answer: Any = numeric.to_float(values[0])
        answer_tex = shown[0]
    else:
        answer = [numeric.to_float(v) for v in values]
        answer_tex = r"\begin{bmatrix} " + r" \\ ".join(shown) + r" \end{bmatrix}"
    worked = tuple(trace.explain(k, notation, places) for k in keys) if worked is None else tuple(worked)
    return Part(id=id, prompt=prompt, kind=kind, points=points, answer=answer, answer_tex=answer_tex, section=section,
                keys=tuple(keys), places=places, worked=worked, box_cm=box_cm or (1.4 if kind == "number" else 2.2))


def select_parts(parts: list[Part], include: Sequence[str] | None, points: Mapping[str, float] | None,
                 where: str) -> list[Part]:
    """The parts a bank asks for (glob patterns over part ids), with its points per pattern."""
    chosen = parts
    if include:
        for pattern in include:
            if not any(fnmatch.fnmatchcase(p.id, pattern) for p in parts):
                ids = ", ".join(p.id for p in parts)
                raise BankError(f"{where}.parts: {pattern!r} matches no part; parts are: {ids}")
        chosen = [p for p in parts if any(fnmatch.fnmatchcase(p.id, pat) for pat in include)]
    for pattern, value in (points or {}).items():
        if not any(fnmatch.fnmatchcase(p.id, pattern) for p in chosen):
            raise BankError(f"{where}.points: {pattern!r} matches no selected part")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 or (2 * value) % 1:
            raise BankError(f"{where}.points.{pattern}: expected whole or half points ≥ 0 (the exam class adds "
                            f"halves at most), got {value!r}")
        chosen = [replace(p, points=value) if fnmatch.fnmatchcase(p.id, pattern) else p for p in chosen]
    return chosen


TOLERANCE_KEYS = ("abs", "rel", "decimals", "sig_figs")


def with_tolerance(parts: list[Part], tolerance: Mapping[str, Mapping[str, Any]] | None, where: str) -> list[Part]:
    """The parts with the bank's grading tolerance per pattern ({'grad.*': {abs: 0.01}})."""
    for pattern, spec in (tolerance or {}).items():
        if not isinstance(spec, Mapping) or not spec or set(spec) - set(TOLERANCE_KEYS):
            raise BankError(f"{where}.tolerance.{pattern}: expected a mapping of {', '.join(TOLERANCE_KEYS)}, "
                            f"e.g. {{abs: 0.01}}, got {spec!r}")
        for key, value in spec.items():
            whole = key in ("decimals", "sig_figs")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (whole and value % 1):
                raise BankError(f"{where}.tolerance.{pattern}.{key}: expected a {'whole ' if whole else ''}number "
                                f">= 0, got {value!r}")
        hits = [p for p in parts if fnmatch.fnmatchcase(p.id, pattern) and p.kind in ("number", "vector", "matrix")]
        if not hits:
            raise BankError(f"{where}.tolerance: {pattern!r} matches no numeric part")
        parts = [replace(p, tolerance=dict(spec)) if p in hits else p for p in parts]
    return parts


def vector_tex(values: Sequence[Value], places: int) -> str:
    """A column vector of values."""
    return r"\begin{bmatrix} " + r" \\ ".join(numeric.decimal_str(v, places) for v in values) + r" \end{bmatrix}"


def matrix_tex(rows: Sequence[Sequence[Value]], places: int = 4) -> str:
    """A matrix of values."""
    body = r" \\ ".join(" & ".join(numeric.decimal_str(v, places) for v in row) for row in rows)
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"
