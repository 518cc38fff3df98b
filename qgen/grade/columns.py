"""The answer columns of an exam set: one per auto-graded answer cell, named after its part (pure).

`qgen generate` writes them as the header of `answers-template.csv`; `qgen grade` reads a CSV
with them. A number part is one column `q<question>.<part id>`; a vector part has a column per
entry (`q1.z1.1`, `q1.z1.2`), a matrix one per entry row by row (`q2.W.1.2`); a whole vector may
also be typed into a column named after the part itself (`q1.z1`). Parts graded by hand have
no answer column.

>>> manifest = {"versions": [{"version": "1", "questions": [{"index": 1, "parts": [
...     {"id": "z1", "kind": "vector", "answer": [1, 2]}, {"id": "loss", "kind": "number", "answer": 0.5},
...     {"id": "concept", "kind": "text", "answer": ""}]}]}]}
>>> [c.name for c in answer_columns(manifest)]
['q1.z1.1', 'q1.z1.2', 'q1.loss']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FIXED = ("student_id", "version")


@dataclass(frozen=True)
class Column:
    """One answer cell: question number (from 1), part id, and the entry of a vector/matrix (() for a whole part)."""

    question: int
    part: str
    entry: tuple[int, ...] = ()

    @property
    def name(self) -> str:
        """The CSV header: q<question>.<part>[.<entry>…]."""
        return ".".join([f"q{self.question}", self.part, *(str(i) for i in self.entry)])

    @property
    def whole(self) -> str:
        """The header of a column holding the whole part (a vector typed into one cell)."""
        return f"q{self.question}.{self.part}"


def part_columns(question: int, part: Mapping[str, Any]) -> list[Column]:
    """The answer cells of one part record of the manifest (none for a part graded by hand)."""
    kind, answer = part["kind"], part.get("answer")
    if kind == "text":
        return []
    if kind == "vector":
        return [Column(question, part["id"], (i,)) for i in range(1, len(answer) + 1)]
    if kind == "matrix":
        return [Column(question, part["id"], (r, c)) for r in range(1, len(answer) + 1)
                for c in range(1, len(answer[r - 1]) + 1)]
    return [Column(question, part["id"])]


def answer_columns(manifest: Mapping[str, Any]) -> list[Column]:
    """Every version's answer cells, in exam order, each once (versions of one bank share them)."""
    seen: dict[str, Column] = {}
    for version in manifest["versions"]:
        for q in version["questions"]:
            for part in q["parts"]:
                for col in part_columns(q["index"], part):
                    seen.setdefault(col.name, col)
    # question by question (a column only some versions have stays with its question), so a
    # version's answer sheet reads in the template's order
    return sorted(seen.values(), key=lambda c: c.question)


def template_header(manifest: Mapping[str, Any]) -> list[str]:
    """The header row of answers-template.csv."""
    return [*FIXED, *(c.name for c in answer_columns(manifest))]
