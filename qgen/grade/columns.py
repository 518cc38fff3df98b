"""The answer columns of an exam set: one per auto-graded answer cell, named by position (pure).

`qgen generate` writes them as the header of `answers-template.csv`; `qgen grade` reads a CSV
with them; the answer sheet, the printed exam and the LMS exports show the same names.

A column is named after the part's **position**, the letter the exam prints before it: part (c)
of question 3 is `q3.c`; a vector or matrix part has a column per entry, numbered from 1 in
reading order (row by row for a matrix): `q3.c.1`, `q3.c.2`. Versions of a bank print the same
parts in the same order (only the numbers, and which weight is asked, change), so every version
has the same columns, and one template, form, LMS quiz and answer sheet serve them all. A whole
vector may also be typed into the column named after the part itself (`q3.c`). Parts graded by
hand have no answer column, but keep their letter (the columns follow what is printed).

`number_parts` records this in the manifest: each part gets its `letter` and its `columns` (in
the order of its Trace `keys`). A manifest written before (no `columns`) is graded with the names
its own template had: `q<question>.<part id>[.<row>.<col>]`.

>>> record = {"index": 1, "parts": [{"id": "draw", "kind": "text", "answer": ""},
...     {"id": "z1", "kind": "vector", "answer": [1, 2]}, {"id": "grad.W2[1,2]", "kind": "number", "answer": 0.5}]}
>>> record = number_parts(record)
>>> [p["columns"] for p in record["parts"]]
[[], ['q1.b.1', 'q1.b.2'], ['q1.c']]
>>> [c.name for c in answer_columns({"versions": [{"version": "1", "questions": [record]}]})]
['q1.b.1', 'q1.b.2', 'q1.c']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

FIXED = ("student_id", "version")


def letter(i: int) -> str:
    """The exam class's label of the i-th part (0-based): a, b, …, z, aa, ab, …"""
    return chr(97 + i) if i < 26 else letter(i // 26 - 1) + chr(97 + i % 26)


def letters() -> Iterator[str]:
    """a, b, …, z, aa, ab, … as the exam class numbers parts."""
    i = 0
    while True:
        yield letter(i)
        i += 1


@dataclass(frozen=True)
class Column:
    """One answer cell: question number (from 1), part id, the entry of a vector/matrix (() for a whole
    part: (i,) of a vector, (row, col) of a matrix), and the part's position stem (`q3.c`; "" in a
    manifest written before positions: the column is then named after the part id)."""

    question: int
    part: str
    entry: tuple[int, ...] = ()
    stem: str = ""
    n: int = 0  # the entry's number in reading order (1, 2, …), 0 for a whole part

    @property
    def name(self) -> str:
        """The CSV header: q<question>.<letter>[.<entry number>] (old manifests: q<question>.<part id>[.<entry>…])."""
        if not self.stem:
            return ".".join([f"q{self.question}", self.part, *(str(i) for i in self.entry)])
        return f"{self.stem}.{self.n}" if self.entry else self.stem

    @property
    def whole(self) -> str:
        """The header of a column holding the whole part (a vector typed into one cell)."""
        return self.stem or f"q{self.question}.{self.part}"


def _entries(part: Mapping[str, Any]) -> list[tuple[int, ...]]:
    """The entries of a part's answer: [()] for one cell, (i,) per vector entry, (row, col) per matrix entry."""
    kind, answer = part["kind"], part.get("answer")
    if kind == "text":
        return []
    if kind == "vector":
        return [(i,) for i in range(1, len(answer) + 1)]
    if kind == "matrix":
        return [(r, c) for r in range(1, len(answer) + 1) for c in range(1, len(answer[r - 1]) + 1)]
    return [()]


def part_columns(question: int, part: Mapping[str, Any]) -> list[Column]:
    """The answer cells of one part record of the manifest (none for a part graded by hand)."""
    entries = _entries(part)
    names = part.get("columns")
    stem = f"q{question}.{part['letter']}" if "letter" in part and names is not None else ""
    return [Column(question, part["id"], e, stem, n if e else 0) for n, e in enumerate(entries, 1)]


def part_name(question: int, part: Mapping[str, Any]) -> str:
    """A part's own name: its score column in grades.csv and the column of a whole vector (`q3.c`)."""
    return f"q{question}.{part['letter']}" if "letter" in part and "columns" in part else f"q{question}.{part['id']}"


def number_parts(record: dict[str, Any]) -> dict[str, Any]:
    """A manifest question record (with its `index`) with each part's `letter` and answer `columns` added."""
    index = int(record["index"])
    parts = []
    for i, part in enumerate(record["parts"]):
        part = {**part, "letter": letter(i), "columns": []}
        part["columns"] = [c.name for c in part_columns(index, part)]
        parts.append(part)
    return {**record, "parts": parts}


def positional(manifest: Mapping[str, Any]) -> bool:
    """Whether a manifest names its columns by position (written by this qgen; older ones by part id)."""
    return all("columns" in p for v in manifest["versions"] for q in v["questions"] for p in q["parts"])


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


def version_columns(version: Mapping[str, Any]) -> set[str]:
    """The answer columns one version's students can fill (entries and whole-part columns)."""
    out: set[str] = set()
    for q in version["questions"]:
        for part in q["parts"]:
            cols = part_columns(q["index"], part)
            out.update(c.name for c in cols)
            if cols and cols[0].entry:
                out.add(cols[0].whole)
    return out


def template_header(manifest: Mapping[str, Any]) -> list[str]:
    """The header row of answers-template.csv."""
    return [*FIXED, *(c.name for c in answer_columns(manifest))]
