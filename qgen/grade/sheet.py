"""Answer spreadsheets in, grade tables out: CSV text as TAs and LMSs write it (pure: text in, rows out).

Reads UTF-8 with or without a BOM, CRLF or LF, `,` `;` or tab separated (sniffed from the
header), columns in any order, extra columns (ignored, reported), missing ones (reported,
scored blank), and an LMS export whose headers differ through a mapping {their header: ours}.
Every input row gives exactly one output row with a status: graded, unknown version,
duplicate, or malformed: ….
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from qgen.errors import SubmissionError
from qgen.grade.columns import FIXED, answer_columns
from qgen.grade.score import PartScore, Question, score_question
from qgen.roster import delimiter


@dataclass(frozen=True)
class Sheet:
    """A parsed answer file: its rows (column -> text), and what its header lacked or had extra."""

    rows: list[dict[str, str]]
    missing: list[str]
    extra: list[str]


def read_sheet(text: str, known: Sequence[str], mapping: Mapping[str, str] | None = None, where: str = "answers") -> Sheet:
    """Parse answer-file text (see the module docstring); a file without student_id/version is an error."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise SubmissionError(f"{where}: the file is empty; it needs a header row starting student_id,version")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text))
    header = [(mapping or {}).get(h.strip(), h.strip()) for h in next(reader)]
    for name in FIXED:
        if name not in header:
            raise SubmissionError(f"{where}: line 1: no {name!r} column (found: {', '.join(header[:6])}…); "
                                  "start from answers-template.csv or map your headers with --map")
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        row = {h: v for h, v in zip(header, values)}
        if len(values) != len(header):
            row["__malformed__"] = f"{len(values)} cells for {len(header)} columns"
        rows.append(row)
    known_set = set(known)
    extra = [h for h in header if h not in known_set and h not in FIXED and not _whole(h, known_set)]
    missing = [k for k in known if k not in header]
    return Sheet(rows, missing, extra)


def _whole(header: str, known: set[str]) -> bool:
    """A column holding a whole vector or matrix (q1.z1 beside q1.z1.1 …)."""
    return any(k.startswith(header + ".") for k in known)


@dataclass
class Graded:
    """One output row: the student, the status, and the part scores when graded."""

    student_id: str
    version: str
    status: str
    scores: list[PartScore] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(s.earned or 0.0 for s in self.scores)


def grade_sheet(manifest: Mapping[str, Any], sheet: Sheet, ecf_credit: Fraction = Fraction(1),
                on_row: Callable[[], None] | None = None) -> list[Graded]:
    """Every row of `sheet` graded against the manifest's versions (one output row per input row).

    A diagnosed slip earns the bank's exam.slip_credit (stored in the manifest; 0 by default).
    A row with no version takes the one its student was assigned (`generate --roster`).
    `on_row()` is called after each row, for a progress bar.
    """
    slip_credit = Fraction(manifest.get("exam", {}).get("slip_credit", 0)).limit_denominator(100)
    versions = {str(v["version"]): v for v in manifest["versions"]}
    assigned = {s["id"]: s["version"] for s in manifest.get("students", [])}
    decimal_comma = getattr(sheet, "delimiter", ",") == ";"  # in a `;` file the comma is the decimal sign
    rebuilt: dict[str, list[Question]] = {}
    seen: set[str] = set()
    out: list[Graded] = []
    for row in sheet.rows:
        sid, vid = row.get("student_id", "").strip(), row.get("version", "").strip()
        vid = vid or assigned.get(sid, "")  # a roster's paper says which version its student sat
        if "__malformed__" in row:
            out.append(Graded(sid, vid, f"malformed: {row['__malformed__']}"))
        elif not sid:
            out.append(Graded(sid, vid, "malformed: no student id"))
        elif sid in seen:
            out.append(Graded(sid, vid, "duplicate"))
        elif vid not in versions:
            out.append(Graded(sid, vid, "unknown version"))
        else:
            seen.add(sid)
            if vid not in rebuilt:
                rebuilt[vid] = [Question.from_record(q) for q in versions[vid]["questions"]]
            scores = [s for q in rebuilt[vid] for s in score_question(q, row, ecf_credit, slip_credit, decimal_comma)]
            out.append(Graded(sid, vid, "graded", scores))
        if on_row is not None:
            on_row()
    return out


def score_columns(manifest: Mapping[str, Any]) -> list[str]:
    """The per-part score columns of grades.csv, in exam order (manual parts included, for TAs)."""
    names: dict[str, None] = {}
    for v in manifest["versions"]:
        for q in v["questions"]:
            for p in q["parts"]:
                names.setdefault(f"q{q['index']}.{p['id']}", None)
    return list(names)


def grades_table(manifest: Mapping[str, Any], graded: list[Graded],
                 manual: Mapping[tuple[str, str], str] | None = None) -> list[list[str]]:
    """grades.csv as rows: header, then one row per input row; `manual` keeps TA scores of a previous run."""
    columns = score_columns(manifest)
    maximum = {str(v["version"]): v["points"] for v in manifest["versions"]}
    table = [["student_id", "version", "status", *columns, "total", "max", "percent"]]
    for g in graded:
        by_column = {s.column: s for s in g.scores}
        cells, total = [], Fraction(0)
        for c in columns:
            s = by_column.get(c)
            if s is None:
                cells.append("")
            elif s.earned is None:
                kept = (manual or {}).get((g.student_id, c), "")
                cells.append(kept)
                total += _number(kept)
            else:
                cells.append(_points(s.earned))
                total += Fraction(s.earned).limit_denominator(1000)
        top = maximum.get(g.version)
        if g.status != "graded" or top is None:
            table.append([g.student_id, g.version, g.status, *[""] * len(columns), "", "", ""])
            continue
        percent = f"{100 * float(total) / float(top):.1f}" if top else ""
        table.append([g.student_id, g.version, g.status, *cells, _points(float(total)), _points(top), percent])
    return table


def _number(text: str) -> Fraction:
    try:
        return Fraction(text.strip()) if text.strip() else Fraction(0)
    except ValueError:
        return Fraction(0)


def _points(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x % 1 else str(int(x))


def to_csv(rows: list[list[str]]) -> str:
    """CSV text (comma separated, LF line ends) of a table."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def known_columns(manifest: Mapping[str, Any]) -> list[str]:
    """The answer columns an answer file may have."""
    return [c.name for c in answer_columns(manifest)]
