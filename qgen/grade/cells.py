"""What a student's cells say for one part: the typed text read as the part's kind (pure).

`read(text, entries, part, decimal_comma)` gives the parsed answer and a note per unreadable
entry: a vector or matrix typed entry by entry, or whole into one cell, keeps its readable
entries when one cannot be read (that entry is None); `flat` lists an answer's numbers in
reading order as exact Fractions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from qgen import numeric
from qgen.errors import SubmissionError
from qgen.grade import ecf
from qgen.grade.compare import NUMERIC
from qgen.grade.parse import parse_cell


def probability(part: Mapping[str, Any]) -> bool:
    """A part whose answer is a predicted probability (ŷ of a sigmoid output, h(x)): 73% means 0.73."""
    keys = part.get("keys", ())
    answer = part.get("answer")
    return (part["kind"] == "number" and isinstance(answer, (int, float)) and 0 <= answer <= 1
            and len(keys) == 1 and keys[0].split("[")[0] in ("yhat", "h"))


def _size(part: Mapping[str, Any]) -> int:
    answer = part["answer"]
    return len(answer) if part["kind"] == "vector" else sum(len(r) for r in answer) if part["kind"] == "matrix" else 1


_SPLIT = re.compile(r"\s*[;,]\s*|\s+")


def read(text: str, entries: list[str] | None, part: Mapping[str, Any], decimal_comma: bool
          ) -> tuple[Any, list[str]]:
    """The parsed answer and a note per unreadable entry (a vector or matrix: that entry is None)."""
    kind, answer = part["kind"], part.get("answer")
    percent_ok = probability(part)
    if kind not in NUMERIC:
        return parse_cell(text, kind, labels=labels(part), decimal_comma=decimal_comma), []
    if entries is None:
        try:
            if kind == "vector":
                return parse_cell(text, kind, length=len(answer), decimal_comma=decimal_comma), []
            if kind == "matrix":
                return parse_cell(text, kind, shape=(len(answer), len(answer[0])), decimal_comma=decimal_comma), []
            return parse_cell(text, kind, percent_ok=percent_ok, decimal_comma=decimal_comma), []
        except SubmissionError:
            if kind == "number":
                raise
            entries = _split_entries(text, _size(part), decimal_comma)
            if entries is None:
                raise
    flat: list[Fraction | None] = []
    notes: list[str] = []
    for i, e in enumerate(entries, 1):
        try:
            flat.append(parse_cell(e, "number", decimal_comma=decimal_comma) if e else None)
        except SubmissionError as err:
            flat.append(None)
            notes.append(f"entry {i} unreadable: {err}")
    if all(v is None for v in flat) and notes:
        raise SubmissionError("; ".join(notes))
    if kind == "vector":
        return tuple(flat), notes
    cols = len(answer[0])
    return tuple(tuple(flat[i:i + cols]) for i in range(0, len(flat), cols)), notes


def _split_entries(text: str, size: int, decimal_comma: bool) -> list[str] | None:
    """A whole vector or matrix that did not parse, cut into its `size` entries (None if it cannot be)."""
    body = re.sub(r"[\[\]()]|\^\s*[Tt]$|ᵀ", " ", text).replace("\\\\", ";").strip()
    for sep in ((";",) if decimal_comma else (";", ",")) + (None,):
        pieces = [p.strip() for p in (body.split(sep) if sep else body.split())]
        pieces = [p for p in pieces if p]
        if len(pieces) == size:
            return pieces
    pieces = [p for p in _SPLIT.split(body) if p]
    return pieces if len(pieces) == size else None


_PAIRS = (("yes", "no"), ("0", "1"))


def labels(part: Mapping[str, Any]) -> list[str]:
    """The labels a label part may be answered with: the key's, the other outcome of its rule, and the
    other half of a yes/no or 0/1 pair (so `Y` reads as yes, and `maybe` is unreadable, not wrong)."""
    if part["kind"] != "label":
        return []
    answer = str(part["answer"])
    decide = part.get("decide") or {}
    pair = next((p for p in _PAIRS if answer.strip().lower() in p), ())
    return list(dict.fromkeys([answer, *(str(v) for v in decide.get("labels", ())), *pair]))


def flat(value: Any) -> list[Fraction | None]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in flat(v)]
    return [None if value is None else ecf.as_fraction(value) if not isinstance(value, (int, float, str))
            else _exact(value)]


def _exact(v: Any) -> Fraction | None:
    try:
        return numeric.exact(v)
    except (TypeError, ValueError, OverflowError):
        return None
