"""Is a student's (parsed) answer right? Tolerance, per-entry partial credit, equivalent formulas (pure).

Numeric answers follow DESIGN.md "Grading semantics": a value s is right for the true value t
when |s − t| ≤ max(atol, rtol·|t|), with rtol = 1e-2 and atol = 0.51·10^(−dp) for the dp decimal
places asked, unless the part (or the bank) sets its own `Tolerance`. A value the part also
`accept`s (the rounded-intermediates chain of seed 003 Q2b) is right too. Vectors and matrices
earn the share of their entries that are right. A formula is right when it has the key's value
(or an accepted form's) at pseudo-random points (`qgen.grade.formula`).

>>> judge({"kind": "number", "answer": 0.9867, "places": 4}, Fraction("0.9866")).credit
Fraction(1, 1)
>>> judge({"kind": "vector", "answer": [3, -2], "places": 4}, (Fraction(3), Fraction(2))).credit
Fraction(1, 2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from qgen import numeric
from qgen.grade import formula as fm

RTOL = Fraction(1, 100)
NUMERIC = ("number", "vector", "matrix")


@dataclass(frozen=True)
class Tolerance:
    """How far a numeric answer may be from the key: absolute, relative, or by decimals/significant figures.

    `decimals` sets atol to 0.51·10^(−decimals); `sig_figs` sets rtol to 0.51·10^(1 − sig_figs).
    """

    atol: Fraction
    rtol: Fraction = RTOL

    @classmethod
    def for_places(cls, places: int) -> Tolerance:
        """The default for a part asked to `places` decimals.

        >>> Tolerance.for_places(2)
        Tolerance(atol=Fraction(51, 10000), rtol=Fraction(1, 100))
        """
        return cls(Fraction(51, 100) * Fraction(1, 10**places))

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], places: int) -> Tolerance:
        """A bank's per-part override: {abs: 0.01} | {rel: 0.05} | {decimals: 2} | {sig_figs: 3}, combinable."""
        base = cls.for_places(int(spec.get("decimals", places)))
        atol = numeric.exact(spec["abs"]) if "abs" in spec else base.atol
        rtol = numeric.exact(spec["rel"]) if "rel" in spec else base.rtol
        if "sig_figs" in spec:
            rtol = Fraction(51, 100) * Fraction(10) ** (1 - int(spec["sig_figs"]))
            atol = atol if "abs" in spec else Fraction(0)
        return cls(atol, rtol)

    def close(self, student: Fraction, truth: Fraction) -> bool:
        """Whether `student` is within tolerance of `truth` (exact arithmetic, no float surprises)."""
        return abs(student - truth) <= max(self.atol, self.rtol * abs(truth))


@dataclass(frozen=True)
class Verdict:
    """How right one answer is: credit from 0 to 1, and per entry for vectors and matrices."""

    credit: Fraction
    status: str  # correct | partial | wrong | blank
    entries: tuple[bool, ...] = ()

    @classmethod
    def of(cls, entries: Sequence[bool]) -> Verdict:
        """The verdict of entry-wise checks (one entry: right or wrong)."""
        right = sum(entries)
        credit = Fraction(right, len(entries)) if entries else Fraction(0)
        status = "correct" if credit == 1 else "wrong" if credit == 0 else "partial"
        return cls(credit, status, tuple(entries))


BLANK = Verdict(Fraction(0), "blank")


def _flat(value: Any) -> list[Fraction | None]:
    """Numbers of an answer in reading order (a number, a vector, or rows of a matrix); None: a blank entry."""
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    return [None if value is None else numeric.exact(value)]


def judge(part: Mapping[str, Any], student: Any, tolerance: Tolerance | None = None) -> Verdict:
    """The verdict on a parsed `student` answer (None: blank) for a part record of the manifest.

    The record holds `kind`, `answer`, `places` and optionally `accept` (other answers worth full
    credit). A numeric answer of the wrong length or shape earns nothing (the parser reports it).
    """
    if student is None:
        return BLANK
    kind = part["kind"]
    if kind in NUMERIC:
        tol = tolerance or Tolerance.for_places(int(part.get("places", 4)))
        got = _flat(student)
        best = Verdict.of([False])
        for truth in [part["answer"], *part.get("accept", ())]:
            want = _flat(truth)
            if len(got) != len(want):
                continue
            verdict = Verdict.of([s is not None and tol.close(s, t) for s, t in zip(got, want)])
            best = verdict if verdict.credit > best.credit else best
        return best
    if kind in ("shape", "integer"):
        return Verdict.of([_plain(student) == _plain(part["answer"])])
    if kind == "label":
        return Verdict.of([str(student).strip().lower() == str(part["answer"]).strip().lower()])
    if kind == "expression":  # the part's `formula` names (or those of its key), its answer and `accept`s
        got = student if isinstance(student, fm.Formula) else fm.parse_formula(str(student), fm.Spec.of_record(part))
        return Verdict.of([fm.matches(got, part)])
    raise ValueError(f"part kind {kind!r} is graded by hand")


def _plain(v: Any) -> Any:
    return tuple(int(x) for x in v) if isinstance(v, (list, tuple)) else int(v)


def equivalent(student: Any, answer: str, symbols: Sequence[str] = (), seed: int = 0, *,
               formula: Mapping[str, Any] | None = None) -> bool:
    """Whether a student's formula (a `Formula` or its text) equals the key's formula `answer`.

    The names come from the part's `formula` record, else `symbols`, else the key's own names;
    formulas are compared by value at pseudo-random points (`qgen.grade.formula.same`), never
    simplified symbolically. Text that cannot be read raises SubmissionError.

    >>> equivalent("2(a2 - y)a1", "-2*(y - a2)*a1", ("a1", "a2", "y")), equivalent("x^2", "x**3")
    (True, False)
    """
    spec = fm.Spec.of(formula) if formula else fm.Spec(tuple(symbols) or fm.key_variables(answer))
    got = student if isinstance(student, fm.Formula) else fm.parse_formula(str(student), spec)
    return fm.same(got, fm.parse_formula(answer, spec, trusted=True), spec, seed=seed)


def symbol_names(text: str) -> tuple[str, ...]:
    """The variable names of a key's formula (a manifest from before parts declared them): every name
    that is not a function, constant or keyword.

    >>> symbol_names("2*x*cos(x) - (x**2 + 1)*sin(x)"), symbol_names("Piecewise((1, z > 0), (0, True))")
    (('x',), ('z',))
    """
    return fm.key_variables(text)
