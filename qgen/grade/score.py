"""Score one student's typed answers for one version: parse, judge, carry errors forward (pure).

A version's questions come from the manifest: each question's Trace is rebuilt from the stored
parameters (the family's `build`, no sampling), so error-carried-forward needs nothing but the
manifest. Parts are scored in exam order, entry by entry:

- an entry is **right** when it is within tolerance of the key (`compare.Tolerance`); an entry
  that asks for an updated parameter (θ′ = θ − η·g) must also imply the right step θ′ − θ within
  the same tolerance, so the old value copied or the step's sign flipped earns nothing;
- else it earns **ECF** (`ecf_credit` of the entry) when it is right for the student's own earlier
  answers: earlier parts and earlier entries of the same part (`ecf.carried`), the student's own
  formula evaluated at the asked point (a part with `from_formula`), or a label decided from the
  student's own numbers (a part with `decide`: the class from ŷ, "did the loss go down" from the
  two losses); no ECF for an entry that a wrong zero made trivial (`ecf.zeroed`);
- an unreadable entry costs that entry only; a part's credit is the mean of its entries';
- a wrong answer that a known slip reproduces gets the slip's name in its note (`diagnose`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from qgen import expr as ex
from qgen import families
from qgen.errors import QgenError, SubmissionError
from qgen.grade import cells, ecf
from qgen.grade.columns import part_columns, part_name
from qgen.grade.compare import NUMERIC, Tolerance, judge
from qgen.grade.diagnose import NO_STEP, shape_slip, slips
from qgen.notation import resolve
from qgen.numeric import Value
from qgen.trace import Trace

_META = {"family", "seed", "notation", "solution", "parts", "index", "title", "points"}
ECF_NOTE = "right for the student's own earlier answers"


@dataclass(frozen=True)
class PartScore:
    """The outcome of one part: points earned (None: graded by hand), and why."""

    question: int
    part: str
    points: float
    earned: float | None
    status: str  # correct | partial | wrong | blank | ecf | malformed | manual
    typed: str = ""
    note: str = ""  # what was wrong with the cell, or where ECF came from
    name: str = ""  # the part's column name (q3.c, from its position); "" in an old manifest: q3.<part id>

    @property
    def column(self) -> str:
        """The score column of grades.csv: the part's name by position (`q3.c`)."""
        return self.name or f"q{self.question}.{self.part}"


@dataclass
class Question:
    """A manifest question, its Trace rebuilt for error-carried-forward (None if it cannot be)."""

    record: Mapping[str, Any]
    trace: Trace | None = field(default=None)
    # what a typed cell reads as and which of its entries are right, per (part id, text, …): a class
    # types the same few answers, so each is read and judged once
    readings: dict[tuple, Any] = field(default_factory=dict, repr=False)
    facts: dict[str, _Facts] = field(default_factory=dict, repr=False)
    _truth: dict[str, Fraction | None] = field(default_factory=dict, repr=False)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Question:
        """Rebuild the Trace from the stored parameters (a question whose family changed keeps none)."""
        params = {k: v for k, v in record.items() if k not in _META}
        try:
            built = families.get(record["family"]).build(params, resolve(None), 4)
        except (QgenError, KeyError, TypeError, ValueError):
            return cls(record, None)
        return cls(record, built.trace)

    def part(self, part: Mapping[str, Any]) -> _Facts:
        """What judging a part needs, worked out once per part."""
        known = self.facts.get(part["id"])
        if known is None:
            known = self.facts[part["id"]] = _Facts.of(self, part)
        return known

    def truth(self, key: str) -> Fraction | None:
        """A Trace value as an exact Fraction (once per key)."""
        known = self._truth.get(key, False)
        if known is False:
            known = self._truth[key] = ecf.as_fraction(self.trace[key])
        return known


@dataclass(frozen=True)
class _Facts:
    """A numeric part's tolerance, Trace keys, the old values of its updated parameters and its
    right answers (the key and any accepted one), as exact numbers."""

    tolerance: Tolerance
    keys: tuple[str, ...]
    olds: tuple[Fraction | None, ...]
    candidates: tuple[tuple[Fraction | None, ...], ...]
    traced: bool  # every key is in the rebuilt Trace

    @classmethod
    def of(cls, question: Question, part: Mapping[str, Any]) -> _Facts:
        keys = tuple(part.get("keys", ()))
        trace = question.trace
        traced = bool(keys) and trace is not None and all(k in trace for k in keys)
        answers = [part["answer"], *part.get("accept", ())] if part["kind"] in NUMERIC else []
        return cls(_tolerance(part), keys, tuple(old_values(trace, keys)) if traced else (),
                   tuple(tuple(cells.flat(a)) for a in answers), traced)


@dataclass
class _Student:
    """What one student wrote in a question so far: numbers by Trace key, formulas by part id."""

    values: dict[str, Value] = field(default_factory=dict)
    formulas: dict[str, str] = field(default_factory=dict)


def _typed(cells: Mapping[str, str], q: int, part: Mapping[str, Any]) -> tuple[str, list[str] | None]:
    """What a student typed for a part: the whole-part text, or (for a vector or matrix typed entry
    by entry) the entries' texts, blank ones as ""."""
    cols = part_columns(q, part)
    if cols and cols[0].entry:
        entries = [(cells.get(c.name) or "").strip() for c in cols]
        if any(entries):
            return "; ".join(entries), entries
        return (cells.get(cols[0].whole) or "").strip(), None
    return ((cells.get(cols[0].name) or "").strip() if cols else ""), None


def score_question(question: Question, cells: Mapping[str, str], ecf_credit: Fraction = Fraction(1),
                   slip_credit: Fraction = Fraction(0), decimal_comma: bool = False) -> list[PartScore]:
    """Every part of one question for one student's cells (column name -> typed text).

    A wrong answer that matches a known slip earns `slip_credit` of the points (the bank's
    exam.slip_credit, 0 by default). `decimal_comma`: the file is `;`-separated, so a comma in a
    number is its decimal sign (`1,250` is 1.25).
    """
    index = int(question.record["index"])
    student = _Student()
    out: list[PartScore] = []
    for part in question.record["parts"]:
        pid, points, kind = part["id"], float(part["points"]), part["kind"]
        name = part_name(index, part)
        if kind == "text":
            out.append(PartScore(index, pid, points, None, "manual", name=name))
            continue
        text, entries = _typed(cells, index, part)
        if not text.replace(";", "").strip():
            out.append(PartScore(index, pid, points, 0.0, "blank", name=name))
            continue
        if kind == "expression":
            out.append(_score_formula(index, part, text, student, name))
            continue
        reading = _reading(question, part, text, entries, decimal_comma)
        if isinstance(reading, SubmissionError):
            out.append(PartScore(index, pid, points, 0.0, "malformed", text, str(reading), name))
            continue
        value, got, unread, right = reading
        try:
            if kind in NUMERIC:
                credit, status, note = _score_numbers(question, part, got, right, student, ecf_credit, slip_credit)
            else:
                credit, status, note = _score_other(question, part, value, student, ecf_credit, slip_credit)
        except (ArithmeticError, ValueError, TypeError, RecursionError, MemoryError) as e:
            # a last resort, so one cell cannot stop a class: scored 0 and reported (tests assert it never happens)
            credit, status, note = Fraction(0), "error", f"could not be judged ({type(e).__name__}); check it by hand"
        if unread:
            note = "; ".join(n for n in (*unread, note) if n)
        earned = points if credit == 1 else float(credit * Fraction(points).limit_denominator(1000))
        out.append(PartScore(index, pid, points, earned, status, text, note, name))
    return out


# -- reading a cell ------------------------------------------------------------------------------
MAX_READINGS = 50_000  # remembered readings per question (distinct texts typed)


def _reading(question: Question, part: Mapping[str, Any], text: str, entries: list[str] | None,
             decimal_comma: bool) -> tuple[Any, list[str], list[bool] | None] | SubmissionError:
    """A cell's value, its unreadable entries' notes and (numbers) which entries are right; or why it
    cannot be read. Remembered per question, so a text typed by many students is read once."""
    key = (part["id"], text, entries is None, decimal_comma)
    known = question.readings.get(key)
    if known is not None:
        return known
    try:
        value, unread = cells.read(text, entries, part, decimal_comma)
        got = cells.flat(value) if part["kind"] in NUMERIC else []
        reading: Any = (value, got, unread, _right(question.part(part), got) if part["kind"] in NUMERIC else None)
    except SubmissionError as e:
        reading = e
    if len(question.readings) < MAX_READINGS:
        question.readings[key] = reading
    return reading


# -- numbers, vectors and matrices -------------------------------------------------------------
def _tolerance(part: Mapping[str, Any]) -> Tolerance:
    places = int(part.get("places", 4))
    return Tolerance.from_spec(part["tolerance"], places) if part.get("tolerance") else Tolerance.for_places(places)


def old_values(trace: Trace | None, keys: Sequence[str]) -> list[Fraction | None]:
    """For each key that is an updated parameter (θ′ = θ − η·g), the old value θ; None for the others."""
    out: list[Fraction | None] = []
    for k in keys:
        q = trace.quantity(k) if trace is not None and k in trace else None
        if q is not None and q.role == "update" and isinstance(q.expr, ex.Sub) and isinstance(q.expr.left, ex.Ref):
            out.append(ecf.as_fraction(trace[q.expr.left.key]))
        else:
            out.append(None)
    return out


def _close(tol: Tolerance, s: Fraction, t: Fraction, old: Fraction | None) -> bool:
    """Right within tolerance; for an updated parameter, its step from the old value too."""
    return tol.close(s, t) and (old is None or tol.close(s - old, t - old))


def _olds(facts: _Facts, size: int) -> tuple[Fraction | None, ...]:
    return facts.olds if len(facts.olds) == size else (None,) * size


def _right(facts: _Facts, got: list[Fraction | None]) -> list[bool]:
    """Which entries are right: within tolerance of the key or an accepted answer (and, for an
    updated parameter, its step too)."""
    tol, olds = facts.tolerance, _olds(facts, len(got))
    candidates = [c for c in facts.candidates if len(c) == len(got)]
    return [s is not None and any(c[i] is not None and _close(tol, s, c[i], olds[i]) for c in candidates)
            for i, s in enumerate(got)]


def _score_numbers(question: Question, part: Mapping[str, Any], got: list[Fraction | None], right: list[bool],
                   student: _Student, ecf_credit: Fraction, slip_credit: Fraction) -> tuple[Fraction, str, str]:
    """Credit (0..1), status and note of a number, vector or matrix part, entry by entry."""
    facts = question.part(part)
    keys = list(facts.keys)
    remember = facts.traced and len(keys) == len(got)  # the student's values, for the parts after this one
    if all(right):
        if remember:
            student.values.update((k, v) for k, v in zip(keys, got) if v is not None)
        return Fraction(1), "correct", ""
    trace, tol, olds = question.trace, facts.tolerance, _olds(facts, len(got))
    carried = [False] * len(got)
    if ecf_credit > 0:
        implied = _implied(question, part, keys, got, student)
        for i, s in enumerate(got):
            if not right[i] and s is not None and implied[i] is not None:
                carried[i] = _close(tol, s, implied[i], olds[i])
    if remember:
        student.values.update((k, v) for k, v in zip(keys, got) if v is not None)
    credit = sum((Fraction(1) if r else ecf_credit if c else Fraction(0) for r, c in zip(right, carried)),
                 Fraction(0)) / max(len(got), 1)
    if any(carried):
        note = ECF_NOTE if len(got) == 1 else \
            f"{ECF_NOTE} (entr{'y' if sum(carried) == 1 else 'ies'} " \
            f"{', '.join(str(i + 1) for i, c in enumerate(carried) if c)})"
        return credit, "ecf" if all(r or c for r, c in zip(right, carried)) else "partial", note
    status = "wrong" if credit == 0 else "partial"
    found = slips(trace, keys, got, tol, olds) if trace is not None and keys and len(keys) == len(got) else []
    if not found:
        return credit, status, ""
    if slip_credit > credit and found[0] != NO_STEP:
        return slip_credit, "partial", f"slip: {found[0]}"
    return credit, status, f"slip: {found[0]}"


def _implied(question: Question, part: Mapping[str, Any], keys: list[str], got: list[Fraction | None],
             student: _Student) -> list[Fraction | None]:
    """What the student's own earlier answers imply for each entry (None: nothing to carry, or a wrong
    zero made it trivial)."""
    out: list[Fraction | None] = [None] * len(got)
    trace = question.trace
    places = int(part.get("places", 4))
    source = part.get("from_formula")
    if source and len(got) == 1 and source.get("part") in student.formulas:
        out[0] = _from_formula(question, source, student)
        if out[0] is not None and len(keys) == 1 and trace is not None and ecf.is_zero(out[0], places) \
                and not ecf.is_zero(trace[keys[0]], places):
            out[0] = None  # a formula that gives 0 at the point leaves nothing to compute
    if trace is None or len(keys) != len(got) or not all(k in trace for k in keys):
        return out
    values = ecf.carried(trace, student.values, keys, got, truth=question.truth)
    if values is None:
        return out
    for i, (k, v) in enumerate(zip(keys, values)):
        if v is None or out[i] is not None:
            continue
        if ecf.is_zero(v, places):  # the zero guard: only a carried 0 can have been made trivial
            given = {**student.values, **{keys[j]: got[j] for j in range(i) if got[j] is not None}}
            if ecf.zeroed(v, trace[k], ecf.inputs(trace, given, k), trace, places):
                continue
        out[i] = ecf.as_fraction(v)
    return out


def _from_formula(question: Question, source: Mapping[str, Any], student: _Student) -> Fraction | None:
    """The student's own formula (an earlier part) evaluated at the point this part asks about."""
    from qgen.grade.formula import value_at

    record = next((p for p in question.record["parts"] if p["id"] == source["part"]), None)
    if record is None:
        return None
    point = {k: float(cells.flat(v)[0] or 0) for k, v in source.get("at", {}).items()}
    got = value_at(student.formulas[source["part"]], record, point)
    return None if got is None else Fraction(got)


# -- labels, shapes, whole numbers, formulas ---------------------------------------------------
_OPS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _score_other(question: Question, part: Mapping[str, Any], value: Any, student: _Student,
                 ecf_credit: Fraction, slip_credit: Fraction) -> tuple[Fraction, str, str]:
    """Credit, status and note of a shape, integer or label part."""
    verdict = judge(part, value)
    if verdict.credit == 1:
        return Fraction(1), "correct", ""
    if part["kind"] == "label" and ecf_credit > 0:
        implied = _decided(question, part, student)
        if implied is not None and implied != str(part["answer"]) and str(value) == implied:
            return ecf_credit, "ecf", ECF_NOTE
    slip = shape_slip(part["answer"], value) if part["kind"] == "shape" else None
    slip = next((str(known["name"]) for known in part.get("slips", ())
                 if isinstance(known, Mapping) and judge({**part, "answer": known.get("answer")}, value).credit == 1),
                slip)
    if slip and slip_credit > 0:
        return slip_credit, "partial", f"slip: {slip}"
    return verdict.credit, verdict.status, f"slip: {slip}" if slip else ""


def _decided(question: Question, part: Mapping[str, Any], student: _Student) -> str | None:
    """The label that follows from the student's own numbers (a part with a `decide` rule), else None.

    The rule is {"left": key, "op": "<"|"<="|">"|">=", "right": key or number, "labels": [if true, if false]},
    or {"argmax": [key, …], "labels": [label per key]}: the label of the largest value (none on a tie);
    a key's value is the student's, or what their earlier answers imply for it.
    """
    rule = part.get("decide")
    trace = question.trace
    if not rule or trace is None:
        return None
    sides = list(rule["argmax"]) if "argmax" in rule else [rule["left"], rule["right"]]
    keys = [s for s in sides if isinstance(s, str)]
    if not keys or not all(k in trace for k in keys) or not any(k in student.values for k in trace.ancestors(keys)):
        return None
    implied = ecf.carried(trace, student.values, keys) or [None] * len(keys)
    env = {k: student.values.get(k, implied[i] if implied[i] is not None else trace[k]) for i, k in enumerate(keys)}
    values = [ecf.as_fraction(env[s]) if isinstance(s, str) else Fraction(str(s)) for s in sides]
    if any(v is None for v in values):
        return None
    if "argmax" in rule:
        best = max(values)
        return str(rule["labels"][values.index(best)]) if values.count(best) == 1 else None
    if rule["op"] not in _OPS:
        return None
    yes, no = (str(v) for v in rule["labels"])
    return yes if _OPS[rule["op"]](*values) else no


def _score_formula(index: int, part: Mapping[str, Any], text: str, student: _Student, name: str = "") -> PartScore:
    """A typed formula, judged once per distinct text (a class types the same few formulas)."""
    from qgen.grade.formula import judge_formula

    points = float(part["points"])
    verdict, error = judge_formula(text, part)
    if error:
        return PartScore(index, part["id"], points, 0.0, "malformed", text, error, name)
    student.formulas[part["id"]] = text
    return PartScore(index, part["id"], points, float(verdict.credit) * points, verdict.status, text, name=name)
