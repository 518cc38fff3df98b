"""Score one student's typed answers for one version: parse, judge, carry errors forward (pure).

A version's questions come from the manifest: each question's Trace is rebuilt from the stored
parameters (the family's `build`, no sampling), so error-carried-forward needs nothing but the
manifest. Parts are scored in exam order; the student's parsed values of a question's earlier
parts stand in for the true values when a later part is judged again (`ecf.carried`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from qgen import families
from qgen.errors import QgenError, SubmissionError
from qgen.grade import ecf
from qgen.grade.columns import part_columns
from qgen.grade.compare import NUMERIC, Tolerance, Verdict, judge, symbol_names
from qgen.grade.diagnose import shape_slip, slips
from qgen.grade.parse import parse_cell
from qgen.notation import resolve
from qgen.numeric import Value
from qgen.trace import Trace

_META = {"family", "seed", "notation", "solution", "parts", "index", "title", "points"}


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

    @property
    def column(self) -> str:
        """The score column of grades.csv."""
        return f"q{self.question}.{self.part}"


@dataclass
class Question:
    """A manifest question, its Trace rebuilt for error-carried-forward (None if it cannot be)."""

    record: Mapping[str, Any]
    trace: Trace | None = field(default=None)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Question:
        """Rebuild the Trace from the stored parameters (a question whose family changed keeps none)."""
        params = {k: v for k, v in record.items() if k not in _META}
        try:
            built = families.get(record["family"]).build(params, resolve(None), 4)
        except QgenError:
            return cls(record, None)
        return cls(record, built.trace)


def _typed(cells: Mapping[str, str], q: int, part: Mapping[str, Any]) -> tuple[str, list[str] | None]:
    """What a student typed for a part: the whole-part text, or (for a vector or matrix typed entry
    by entry) the entries' texts, blank ones as ""."""
    cols = part_columns(q, part)
    if cols and cols[0].entry:
        entries = [cells.get(c.name, "").strip() for c in cols]
        if any(entries):
            return "; ".join(entries), entries
        return cells.get(cols[0].whole, "").strip(), None
    return (cells.get(cols[0].name, "").strip() if cols else ""), None


def score_question(question: Question, cells: Mapping[str, str], ecf_credit: Fraction = Fraction(1),
                   slip_credit: Fraction = Fraction(0)) -> list[PartScore]:
    """Every part of one question for one student's cells (column name -> typed text).

    A wrong answer that matches a known slip earns `slip_credit` of the points (the bank's
    exam.slip_credit, 0 by default).
    """
    index = int(question.record["index"])
    earlier: dict[str, Value] = {}
    out: list[PartScore] = []
    for part in question.record["parts"]:
        pid, points, kind = part["id"], float(part["points"]), part["kind"]
        if kind == "text":
            out.append(PartScore(index, pid, points, None, "manual"))
            continue
        text, entries = _typed(cells, index, part)
        if not text.replace(";", "").strip():
            out.append(PartScore(index, pid, points, 0.0, "blank"))
            continue
        if kind == "expression":  # a class types the same few formulas: judge each once
            verdict, error = _formula(text, str(part["answer"]), tuple(part.get("symbols") or ()))
            if error:
                out.append(PartScore(index, pid, points, 0.0, "malformed", text, error))
            else:
                out.append(PartScore(index, pid, points, float(verdict.credit) * points, verdict.status, text))
            continue
        try:
            value = _parse(text, part) if entries is None else _entries(entries, part)
        except SubmissionError as e:
            out.append(PartScore(index, pid, points, 0.0, "malformed", text, str(e)))
            continue
        tolerance = Tolerance.from_spec(part["tolerance"], int(part.get("places", 4))) if part.get("tolerance") else None
        verdict = judge(part, value, tolerance)
        status, note = verdict.status, ""
        keys = list(part.get("keys", ()))
        if verdict.credit < 1 and kind in NUMERIC and question.trace is not None and keys:
            carried = _carried(question.trace, earlier, keys, part, value)
            if carried is not None and carried.credit * ecf_credit > verdict.credit:
                verdict, status = Verdict(carried.credit * ecf_credit, "ecf", carried.entries), "ecf"
                note = "right for the student's own earlier answers"
        if status in ("wrong", "partial"):  # a known slip? (credit stays as judged)
            if kind in NUMERIC and keys and question.trace is not None:
                tol = tolerance or Tolerance.for_places(int(part.get("places", 4)))
                found = slips(question.trace, keys, _numbers(value), tol)
            else:
                found = [s for s in [shape_slip(part["answer"], value) if kind == "shape" else None] if s]
            note = f"slip: {found[0]}" if found else note
            if found and slip_credit > verdict.credit:
                verdict = Verdict(slip_credit, "partial", verdict.entries)
                status = "partial"
        if kind in NUMERIC and keys:
            earlier.update((k, v) for k, v in zip(keys, _numbers(value)) if v is not None)
        out.append(PartScore(index, pid, points, float(verdict.credit) * points, status, text, note))
    return out


@functools.lru_cache(maxsize=4096)
def _formula(text: str, answer: str, symbols: tuple[str, ...]) -> tuple[Verdict, str]:
    """The verdict on a typed formula (and the parse error, if any), cached by text and key."""
    part = {"kind": "expression", "answer": answer, "symbols": symbols}
    try:
        return judge(part, _parse(text, part)), ""
    except SubmissionError as e:
        return Verdict.of([False]), str(e)


def probability(part: Mapping[str, Any]) -> bool:
    """A part whose answer is a predicted probability (ŷ of a sigmoid output, h(x)): 73% means 0.73."""
    keys = part.get("keys", ())
    answer = part.get("answer")
    return (part["kind"] == "number" and isinstance(answer, (int, float)) and 0 <= answer <= 1
            and len(keys) == 1 and keys[0].split("[")[0] in ("yhat", "h"))


def _parse(text: str, part: Mapping[str, Any]) -> Any:
    kind, answer = part["kind"], part.get("answer")
    if kind == "vector":
        return parse_cell(text, kind, length=len(answer))
    if kind == "matrix":
        return parse_cell(text, kind, shape=(len(answer), len(answer[0])))
    if kind == "expression":
        return parse_cell(text, kind, symbols=part.get("symbols") or symbol_names(str(answer)))
    return parse_cell(text, kind, percent_ok=probability(part))


def _entries(entries: list[str], part: Mapping[str, Any]) -> Any:
    """A vector or matrix typed entry by entry (a blank entry is None: wrong, the others still count)."""
    flat = [parse_cell(e, "number") if e else None for e in entries]
    if part["kind"] == "vector":
        return tuple(flat)
    cols = len(part["answer"][0])
    return tuple(tuple(flat[i:i + cols]) for i in range(0, len(flat), cols))


def _numbers(value: Any) -> list[Fraction | None]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _numbers(v)]
    return [None if value is None else Fraction(value)]


def _carried(trace: Trace, earlier: Mapping[str, Value], keys: list[str], part: Mapping[str, Any],
             value: Any) -> Verdict | None:
    """The verdict against what the student's earlier answers imply (None: no ECF applies)."""
    implied = ecf.carried(trace, earlier, keys)
    if implied is None or ecf.trivial(implied, [trace[k] for k in keys], int(part.get("places", 4))):
        return None
    answer: Any = [float(v) for v in implied]
    shaped = dict(part, answer=answer if part["kind"] != "number" else answer[0], accept=())
    if part["kind"] == "matrix":
        cols = len(part["answer"][0])
        shaped["answer"] = [answer[i:i + cols] for i in range(0, len(answer), cols)]
    spec = part.get("tolerance")
    return judge(shaped, value, Tolerance.from_spec(spec, int(part.get("places", 4))) if spec else None)
