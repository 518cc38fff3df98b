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
class Criterion:
    """One line of a hand-graded part's rubric: what earns `points` (LaTeX text).

    >>> Criterion(1.5, "the factor 2").tex()
    '1.5 points: the factor 2'
    """

    points: float
    text: str

    def tex(self) -> str:
        """`1 point: …`, `1.5 points: …` as the key prints it."""
        return f"{points_text(self.points)}: {self.text}"

    def manifest(self) -> dict[str, Any]:
        return {"points": self.points, "text": self.text}


def points_text(value: float) -> str:
    """`1 point`, `2 points`, `0.5 points`, `1.5 points`.

    >>> points_text(1), points_text(2.0), points_text(0.5)
    ('1 point', '2 points', '0.5 points')
    """
    number = f"{value:g}"
    return f"{number} point" + ("" if value == 1 else "s")


def rubric(*items: tuple[float, str]) -> tuple[Criterion, ...]:
    """A rubric from (points, text) pairs."""
    return tuple(Criterion(float(p), t) for p, t in items)


def rubric_total(items: Sequence[Criterion]) -> float:
    """The points a rubric adds up to."""
    return float(sum(numeric.exact(c.points) for c in items))


def scale_rubric(items: Sequence[Criterion], total: float) -> tuple[Criterion, ...]:
    """The rubric shared out over `total` points in halves, in proportion to its items' points.

    The halves left over after rounding down go to the items that lost most (the first on a tie),
    so the items always add up to `total`.

    >>> [c.points for c in scale_rubric(rubric((1, "a"), (1, "b"), (1, "c")), 4)]
    [1.5, 1.5, 1.0]
    """
    old = rubric_total(items)
    if not items or old == total or old == 0:
        return tuple(items)
    halves = int(2 * numeric.exact(total))
    raw = [2 * numeric.exact(total) * numeric.exact(c.points) / numeric.exact(old) for c in items]
    floors = [int(r) for r in raw]
    left = halves - sum(floors)
    order = sorted(range(len(items)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return tuple(Criterion(h / 2, c.text) for h, c in zip(floors, items))


_CRITERION = __import__("re").compile(
    r"^\s*(\d+(?:\.\d+)?|\d*½)\s*(?:points?|pts?\.?)\s*(?::|for\b|-|–|—)?\s*(.+?)\s*\.?\s*$", __import__("re").S)


def parse_rubric(text: Any, where: str) -> tuple[Criterion, ...]:
    """A bank's rubric: `"2 points for …; 2 points for …"` (or a list of such items) as criteria.

    >>> [(c.points, c.text) for c in parse_rubric("2 points for the sign; 1.5 points: the size", "r")]
    [(2.0, 'the sign'), (1.5, 'the size')]
    """
    items = text if isinstance(text, list) else str(text).split(";") if isinstance(text, str) else None
    if not items or not all(isinstance(i, str) for i in items):
        raise BankError(f"{where}: expected text like \"2 points for …; 2 points for …\" or a list of such items")
    out = []
    for item in (i for i in items if i.strip()):
        m = _CRITERION.match(item)
        if not m:
            raise BankError(f"{where}: {item.strip()!r} does not start with its points; write each item as "
                            "\"N points for …\" (whole or half points), items separated by ';'")
        number = m.group(1).replace("½", ".5")
        value = float(number if not number.startswith(".") else "0" + number)
        if (2 * value) % 1:
            raise BankError(f"{where}: {item.strip()!r}: whole or half points only")
        out.append(Criterion(value, m.group(2)))
    if not out:
        raise BankError(f"{where}: an empty rubric")
    return tuple(out)


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
    model: str = ""  # LaTeX text, for text parts: the model answer (without its rubric)
    rubric: tuple[Criterion, ...] = ()  # text parts: what earns the points; adds up to `points`
    # math-mode LaTeX of each answer cell as the exam prints it (∂z₂/∂a₂, not da1[2]_dz1[2]): answer-sheet labels
    labels: tuple[str, ...] = ()
    box_cm: float = 1.6  # the exam's least answer space for the kind (qgen.render.space grows it with the work)
    space_cm: float | None = None  # the bank's `space:` for this part: the exam's answer box, exactly
    figure: str = ""  # TikZ shown with the answer in the key
    accept: tuple[Any, ...] = ()  # other answers worth full credit (e.g. from a statement's rounded values)
    tolerance: Mapping[str, Any] | None = None  # the bank's grading tolerance: {abs, rel, decimals, sig_figs}
    formula: FormulaSpec | None = None  # expression parts: the names the answer may use
    from_formula: FromFormula | None = None  # a value computed from an expression part's formula at a point
    # a label decided by comparing Trace values, for error carried forward from the student's own numbers:
    # {"left": key, "op": "<" | "<=" | ">" | ">=", "right": key or number, "labels": [if true, if false]}
    # or {"argmax": [key, …], "labels": [label per key]}: the label of the largest value
    decide: Mapping[str, Any] | None = None
    # shape, integer and label parts: known wrong answers and the slip each shows, e.g.
    # (("padding left out", [4, 4]),): a student who gives one is told the slip (and earns slip_credit)
    slips: tuple[tuple[str, Any], ...] = ()

    @property
    def model_answer(self) -> str:
        """What the key prints under a hand-graded part: the model answer, then its rubric."""
        if not self.rubric:
            return self.model
        return self.model + r"\par\smallskip\textit{Rubric (" + points_text(self.points) + "):} " + \
            "; ".join(c.tex() for c in self.rubric) + "."

    def with_points(self, points: float) -> "Part":
        """The part worth `points`, its rubric shared out over them."""
        return replace(self, points=points, rubric=scale_rubric(self.rubric, points))

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
        if self.slips:
            out["slips"] = [{"name": name, "answer": answer} for name, answer in self.slips]
        if self.formula is not None:
            out["formula"] = self.formula.manifest()
        if self.kind == "expression" and self.answer_tex:
            out["answer_tex"] = self.answer_tex  # the key as math, for pages a student reads (feedback)
        if self.from_formula is not None:
            out["from_formula"] = self.from_formula.manifest()
        if self.labels:
            out["labels"] = list(self.labels)
        if self.manual:
            out["model_answer"] = self.model
            out["rubric"] = [c.manifest() for c in self.rubric]
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
                keys=tuple(keys), places=places, worked=worked, box_cm=box_cm or (1.4 if kind == "number" else 2.2),
                labels=tuple(trace.symbol(k, notation) for k in keys))


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
        chosen = [p.with_points(value) if fnmatch.fnmatchcase(p.id, pattern) else p for p in chosen]
    return chosen


def with_texts(parts: list[Part], rubrics: Mapping[str, Any] | None, models: Mapping[str, Any] | None,
               where: str) -> list[Part]:
    """The parts with a bank's own rubrics and model answers per pattern (hand-graded parts only).

    `rubrics` maps a pattern to (criteria, "file:line"), `models` to (LaTeX text, "file:line"); a
    rubric must add up to the points of every part it replaces.
    """
    for key, table in (("rubric", rubrics or {}), ("model_answer", models or {})):
        for pattern, (value, at) in table.items():
            hits = [p for p in parts if fnmatch.fnmatchcase(p.id, pattern) and p.manual]
            if not hits:
                manual = ", ".join(p.id for p in parts if p.manual) or "none"
                raise BankError(f"{at}: {where}.{key}.{pattern}: matches no hand-graded part; those are: {manual}")
            for p in hits:
                if key == "rubric" and rubric_total(value) != p.points:
                    raise BankError(f"{at}: {where}.rubric.{pattern}: the rubric adds up to "
                                    f"{points_text(rubric_total(value))} but part {p.id} has "
                                    f"{points_text(p.points)}; make them equal (or set points: {{{p.id!r}: "
                                    f"{rubric_total(value):g}}})")
            change = {"rubric": tuple(value)} if key == "rubric" else {"model": str(value)}
            parts = [replace(p, **change) if p in hits else p for p in parts]
    return parts


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
