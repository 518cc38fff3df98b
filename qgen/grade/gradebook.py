"""Gradebooks an LMS imports: plain (gradebook.csv), Canvas and Moodle, each with the total and one
column per exam question (pure: rows and text, no files).

- **plain** `gradebook.csv`: `student_id, total, q1, q2, …`.
- **canvas** `gradebook-canvas.csv`: Canvas's gradebook import layout, `Student, ID, SIS User ID,
  SIS Login ID, Section`, then the assignment column `<name> (<assignment id>)` (or `<name>` alone:
  Canvas then makes a new assignment of that name) and one column per question, `<name>: Q1`
  (each a new assignment in Canvas; delete the ones you do not want before importing). The second
  row is Canvas's `Points Possible` row. Canvas finds a student by `ID` (its own user id), else
  `SIS User ID`, else `SIS Login ID`; qgen's student id is written as the SIS User ID, and the name,
  `ID`, login and section come from `--roster` when it has them (a Canvas gradebook export does).
- **moodle** `gradebook-moodle.csv`: an id column named as Moodle's import form calls the field it
  is matched on (`ID number`: qgen's student id; `Email address` or `Username` from the roster), then
  `<name>` (the total) and `<name>: Q1`, …: in *Import › CSV file* map the id column to that field
  and each grade column to a grade item (or "new grade item").

`excel=True` writes what Excel opens in a decimal-comma locale: `;` separated, a UTF-8 BOM, CRLF
and decimal commas.

>>> text(["a", "b"], [["s1", "12.5"]], excel=True).encode("utf-8")
b'\\xef\\xbb\\xbfa;b\\r\\ns1;12,5\\r\\n'
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from qgen.csvout import neutralise
from qgen.errors import SubmissionError

FORMATS = ("plain", "canvas", "moodle")
FILES = {"plain": "gradebook.csv", "canvas": "gradebook-canvas.csv", "moodle": "gradebook-moodle.csv"}
MOODLE_IDS = {"idnumber": "ID number", "email": "Email address", "username": "Username"}
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


@dataclass(frozen=True)
class Options:
    """What `qgen grade` is asked for: formats, the assignment's name and Canvas id, Moodle's id field, Excel."""

    formats: tuple[str, ...] = ("plain",)
    assignment: str = ""  # default: the exam's title, else its id
    assignment_id: str = ""  # Canvas's assignment id: the column `<name> (<id>)` updates that assignment
    moodle_id: str = "idnumber"
    excel: bool = False


@dataclass(frozen=True)
class Entry:
    """One graded student: the total and the points per question (exact, as grades.csv adds them)."""

    student_id: str
    total: Fraction
    questions: dict[int, Fraction] = field(default_factory=dict)


def points(x: Fraction | float) -> str:
    """A score as grades.csv writes it: up to 2 decimals, no trailing zeros.

    >>> points(Fraction(25, 2)), points(3), points(Fraction(2, 3))
    ('12.5', '3', '0.67')
    """
    x = float(x)
    return f"{x:.2f}".rstrip("0").rstrip(".") if x % 1 else str(int(x))


def entries(graded: Sequence[Any], manual: Mapping[tuple[str, str], str]) -> list[Entry]:
    """The graded rows as Entries, summed exactly as qgen.grade.sheet.grades_table sums its total
    (automatic scores to 1/1000, TA scores counted when `ta_score` accepts them)."""
    from qgen.grade.sheet import ta_score

    found = []
    for g in graded:
        if g.status != "graded":
            continue
        per: dict[int, Fraction] = {}
        for s in g.scores:
            if s.earned is None:
                value, _ = ta_score(manual.get((g.student_id, s.column), ""), s.points)
                value = value or Fraction(0)
            else:
                value = Fraction(s.earned).limit_denominator(1000)
            per[s.question] = per.get(s.question, Fraction(0)) + value
        found.append(Entry(g.student_id, sum(per.values(), Fraction(0)), per))
    return found


def question_points(manifest: Mapping[str, Any]) -> tuple[dict[int, float], float]:
    """Each question's points and the exam's, the largest over the versions (they are equal in a fair exam)."""
    per: dict[int, float] = {}
    for v in manifest["versions"]:
        for q in v["questions"]:
            per[q["index"]] = max(per.get(q["index"], 0), sum(p["points"] for p in q["parts"]))
    return per, max((v["points"] for v in manifest["versions"]), default=0)


def assignment_name(manifest: Mapping[str, Any], options: Options) -> str:
    exam = manifest.get("exam", {})
    return options.assignment or str(exam.get("title") or exam.get("id") or "qgen exam")


def plain(manifest: Mapping[str, Any], found: Sequence[Entry]) -> tuple[list[str], list[list[str]]]:
    indices = sorted(question_points(manifest)[0])
    return (["student_id", "total", *[f"q{i}" for i in indices]],
            [[e.student_id, points(e.total), *[points(e.questions.get(i, 0)) for i in indices]] for e in found])


def canvas(manifest: Mapping[str, Any], found: Sequence[Entry], students: Sequence[Any],
           options: Options) -> tuple[list[str], list[list[str]]]:
    per, top = question_points(manifest)
    indices = sorted(per)
    name = assignment_name(manifest, options)
    total = f"{name} ({options.assignment_id})" if options.assignment_id else name
    header = [*CANVAS_HEADER, total, *[f"{name}: Q{i}" for i in indices]]
    by_id = {s.id: s for s in students}
    rows = [["Points Possible", "", "", "", "", points(top), *[points(per[i]) for i in indices]]]
    for e in found:
        s = by_id.get(e.student_id)
        who = [s.name, s.lms_id, e.student_id, s.login, s.section] if s else ["", "", e.student_id, "", ""]
        rows.append([*who, points(e.total), *[points(e.questions.get(i, 0)) for i in indices]])
    return header, rows


def moodle(manifest: Mapping[str, Any], found: Sequence[Entry], students: Sequence[Any],
           options: Options) -> tuple[list[str], list[list[str]]]:
    indices = sorted(question_points(manifest)[0])
    name = assignment_name(manifest, options)
    id_field = MOODLE_IDS[options.moodle_id]
    by_id = {s.id: s for s in students}
    rows = []
    for e in found:
        if options.moodle_id == "idnumber":
            key = e.student_id
        else:
            s = by_id.get(e.student_id)
            key = getattr(s, "email" if options.moodle_id == "email" else "login", "") if s else ""
            if not key:
                raise SubmissionError(
                    f"gradebook for Moodle by {id_field}: student {e.student_id!r} has no {id_field} in the "
                    f"roster; give --roster with an {id_field} column (a Moodle participants export has it) "
                    "or use --moodle-id idnumber")
        rows.append([key, points(e.total), *[points(e.questions.get(i, 0)) for i in indices]])
    return [id_field, name, *[f"{name}: Q{i}" for i in indices]], rows


_DECIMAL = re.compile(r"-?\d+\.\d+")


def text(header: Sequence[str], rows: Sequence[Sequence[str]], *, excel: bool = False) -> str:
    """CSV text, every cell neutralised (qgen.csvout); Excel's variant: `;`, a BOM, CRLF, decimal commas."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if excel else ",", lineterminator="\r\n" if excel else "\n")
    for row in [header, *rows]:
        cells = [neutralise(c) for c in row]
        if excel:
            cells = [c.replace(".", ",") if _DECIMAL.fullmatch(c) else c for c in cells]
        writer.writerow(cells)
    return ("\ufeff" if excel else "") + buf.getvalue()


def gradebooks(manifest: Mapping[str, Any], graded: Sequence[Any], manual: Mapping[tuple[str, str], str],
               students: Sequence[Any], options: Options) -> dict[str, str]:
    """{file name: CSV text} for every format asked (gradebook.csv, the plain one, always)."""
    found = entries(graded, manual)
    files = {}
    for fmt in dict.fromkeys(("plain", *options.formats)):
        if fmt == "plain":
            header, rows = plain(manifest, found)
        elif fmt == "canvas":
            header, rows = canvas(manifest, found, students, options)
        elif fmt == "moodle":
            header, rows = moodle(manifest, found, students, options)
        else:
            raise SubmissionError(f"unknown gradebook format {fmt!r}; choose {', '.join(FORMATS)}")
        files[FILES[fmt]] = text(header, rows, excel=options.excel)
    return files
