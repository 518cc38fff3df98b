"""Answer spreadsheets in, grade tables out: CSV text as TAs and LMSs write it (pure: text in, rows out).

Reads UTF-8 with or without a BOM, CRLF or LF, `,` `;` or tab separated (sniffed from the
header, ignoring separators inside quoted cells), columns in any order, extra columns (ignored,
reported), missing ones (reported, scored blank), and an LMS export whose headers differ through
a mapping {their header: ours}.

The file is read line by line (physical lines: a quoted cell may hold the separator or `""`,
but not a line break), so a stray quote spoils its own line and no other. Every non-blank line
after the header gives exactly one output row with a status: graded, unknown version, duplicate,
or `malformed: line N: …` (an unbalanced quote, the wrong number of cells, no student id, a cell
over MAX_CELL characters). More than MAX_ROWS rows is an error.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from qgen import csvout
from qgen.errors import SubmissionError
from qgen.grade.columns import FIXED, answer_columns, part_name, version_columns
from qgen.grade.score import PartScore, Question, score_question
from qgen.roster import delimiter

MAX_ROWS = 100_000  # rows of an answer file
MAX_CELL = 10_000  # characters of a cell


@dataclass(frozen=True)
class Sheet:
    """A parsed answer file: its rows (column -> text), and what its header lacked or had extra.

    `delimiter` is the file's separator (`,` `;` or tab); `lines[i]` is the line of the file
    `rows[i]` came from (1 is the header). A row that could not be read has the key
    "__malformed__" ("line 7: unbalanced quote"), and the cells that could be read.
    """

    rows: list[dict[str, str]]
    missing: list[str]
    extra: list[str]
    delimiter: str = ","
    lines: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Line:
    """One non-blank line of a CSV file: its number, its cells, and what is wrong with it ("" if nothing)."""

    number: int
    cells: list[str]
    problem: str = ""


@dataclass(frozen=True)
class Table:
    """A CSV file read line by line: the header (its line first), the rows after it, the separator."""

    header: Line
    rows: list[Line]
    delimiter: str


_LINE_END = re.compile(r"\r\n|\r|\n")


def read_table(text: str, where: str, max_rows: int = MAX_ROWS) -> Table:
    """CSV text as numbered lines, each parsed on its own (see the module docstring); blank lines
    (nothing but separators and spaces) are skipped. A header that cannot be read, an empty file
    or more than `max_rows` rows is a SubmissionError naming `where`."""
    text = text.lstrip("\ufeff")
    sep = delimiter(text)
    header: Line | None = None
    rows: list[Line] = []
    for number, raw in enumerate(_LINE_END.split(text), start=1):
        if not raw.replace(sep, "").strip():
            continue
        line = _parse_line(number, raw, sep)
        if header is None:
            if line.problem:
                raise SubmissionError(f"{where}: line {number}: the header cannot be read ({line.problem}); "
                                      "fix that line")
            header = line
        elif len(rows) >= max_rows:
            raise SubmissionError(f"{where}: line {number}: more than {max_rows} rows; split the file")
        else:
            rows.append(line)
    if header is None:
        raise SubmissionError(f"{where}: the file is empty; it needs a header row starting student_id,version")
    return Table(header, rows, sep)


def _parse_line(number: int, raw: str, sep: str) -> Line:
    """One physical line: its cells (a `'` put before a formula sign by qgen dropped), or what is
    wrong with it and the cells before its first quote."""
    problem = ""
    if '"' not in raw:
        cells = raw.split(sep)  # what csv makes of a line without quotes, much faster
    elif raw.count('"') % 2:
        problem = "unbalanced quote"
    else:
        try:
            cells = next(csv.reader([raw], delimiter=sep, strict=True))
        except csv.Error as e:
            problem = "stray quote after a quoted cell" if "expected after" in str(e) else f"unreadable ({e})"
    if problem:
        try:
            cells = next(csv.reader([raw[:raw.index('"')]], delimiter=sep))[:-1]  # the last runs into the quote
        except (csv.Error, StopIteration):
            cells = []
    if len(raw) > MAX_CELL:
        long = next((i for i, c in enumerate(cells) if len(c) > MAX_CELL), None)
        if long is not None:
            problem = problem or f"cell {long + 1} has {len(cells[long])} characters (at most {MAX_CELL})"
            cells = cells[:long]
    if "'" in raw:
        cells = [csvout.restore(c) for c in cells]
    return Line(number, cells, problem)


def read_sheet(text: str, known: Sequence[str], mapping: Mapping[str, str] | None = None, where: str = "answers") -> Sheet:
    """Parse answer-file text (see the module docstring); a file without student_id/version is an error."""
    table = read_table(text, where)
    header = [(mapping or {}).get(h.strip(), h.strip()) for h in table.header.cells]
    for name in FIXED:
        if name not in header:
            raise SubmissionError(f"{where}: line {table.header.number}: no {name!r} column "
                                  f"(found: {', '.join(header[:6])}…); "
                                  "start from answers-template.csv or map your headers with --map")
    known_set = set(known)
    twice = next((h for i, h in enumerate(header) if h in header[:i] and (h in known_set or h in FIXED)), None)
    if twice is not None:
        raise SubmissionError(f"{where}: line {table.header.number}: column {twice!r} appears twice; "
                              "keep one of them")
    rows = []
    for line in table.rows:
        row = dict(zip(header, line.cells))
        problem = line.problem
        if not problem and len(line.cells) != len(header):
            problem = f"{len(line.cells)} cells for {len(header)} columns"
        if not problem and not row.get("student_id", "").strip():
            problem = "no student id"
        if problem:
            row["__malformed__"] = f"line {line.number}: {problem}"
        rows.append(row)
    extra = [h for h in header if h not in known_set and h not in FIXED and not _whole(h, known_set)]
    missing = [k for k in known if k not in header]
    return Sheet(rows, missing, extra, table.delimiter, [line.number for line in table.rows])


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
    note: str = ""  # answers typed into columns the row's version does not have (not graded)

    @functools.cached_property
    def total(self) -> float:
        """The points earned in auto-graded parts (the scores are final once a row is graded)."""
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
    decimal_comma = sheet.delimiter == ";"  # in a `;` file the comma is the decimal sign
    rebuilt: dict[str, list[Question]] = {}
    own: dict[str, set[str]] = {}  # each version's answer columns
    known = set(known_columns(manifest))
    known.update(c.whole for c in answer_columns(manifest) if c.entry)
    seen: set[str] = set()
    out: list[Graded] = []
    for row in sheet.rows:
        sid, vid = row.get("student_id", "").strip(), row.get("version", "").strip()
        vid = vid or assigned.get(sid, "")  # a roster's paper says which version its student sat
        if not vid and len(versions) == 1:
            vid = next(iter(versions))
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
                own[vid] = version_columns(versions[vid])
            scores = [s for q in rebuilt[vid] for s in score_question(q, row, ecf_credit, slip_credit, decimal_comma)]
            out.append(Graded(sid, vid, "graded", scores, foreign_note(row, known, own[vid])))
        if on_row is not None:
            on_row()
    return out


def foreign_note(row: Mapping[str, str], known: set[str], own: set[str]) -> str:
    """The answers of a row typed into columns of the exam that its version does not have (so not
    graded), as a note for grades.csv: "2 answers in columns version 3 does not have: q1.e.3, q2.b"."""
    stray = [h for h, text in row.items() if h in known and h not in own and text.strip()]
    if not stray:
        return ""
    return (f"{len(stray)} answer{'s' if len(stray) > 1 else ''} not graded, in column{'s' if len(stray) > 1 else ''} "
            f"this version does not have: {', '.join(stray[:10])}{', …' if len(stray) > 10 else ''}")


def score_columns(manifest: Mapping[str, Any]) -> list[str]:
    """The per-part score columns of grades.csv, in exam order (manual parts included, for TAs)."""
    names: dict[str, None] = {}
    for v in manifest["versions"]:
        for q in v["questions"]:
            for p in q["parts"]:
                names.setdefault(part_name(q["index"], p), None)
    return list(names)


def grades_table(manifest: Mapping[str, Any], graded: list[Graded],
                 manual: Mapping[tuple[str, str], str] | None = None) -> list[list[str]]:
    """grades.csv as rows: header, then one row per input row; `manual` keeps TA scores of a previous run
    ({(student id, column): typed text}): kept in their cells as typed, counted in the total only when
    `ta_score` accepts them."""
    columns = score_columns(manifest)
    maximum = {str(v["version"]): v["points"] for v in manifest["versions"]}
    table = [["student_id", "version", "status", *columns, "total", "max", "percent", "note"]]
    exact: dict[float, Fraction] = {}  # a class earns the same few scores
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
                value, _ = ta_score(kept, s.points)
                total += value or 0
            else:
                cells.append(_points(s.earned))
                known = exact.get(s.earned)
                if known is None:
                    known = exact[s.earned] = Fraction(s.earned).limit_denominator(1000)
                total += known
        top = maximum.get(g.version)
        if g.status != "graded" or top is None:
            table.append([g.student_id, g.version, g.status, *[""] * len(columns), "", "", "", g.note])
            continue
        percent = f"{100 * float(total) / float(top):.1f}" if top else ""
        table.append([g.student_id, g.version, g.status, *cells, _points(float(total)), _points(top), percent, g.note])
    return table


def ta_score(text: str, points: float) -> tuple[Fraction | None, str]:
    """A TA's score typed into grades.csv for a part worth `points`: (its value, "") when it counts,
    (None, what is wrong) when it does not; a blank cell is (None, "").

    >>> ta_score("2,5", 3), ta_score(" 1.5 ", 3)[0], ta_score("", 3)
    ((Fraction(5, 2), ''), Fraction(3, 2), (None, ''))
    >>> [ta_score(t, 3)[1] for t in ("good", "-1", "3.5")]
    ['not a number', 'negative', "more than the part's 3 points"]
    """
    if not text.strip():
        return None, ""
    value = _number(text)
    if value is None:
        return None, "not a number"
    if value < 0:
        return None, "negative"
    if value > Fraction(points).limit_denominator(1000):
        return None, f"more than the part's {_points(points)} points"
    return value, ""


_TA_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


def _number(text: str) -> Fraction | None:
    """A decimal number as a TA types it (`2`, `2.5`, `2,5`, `−1`); None if it is not one."""
    text = text.strip().replace("\u2212", "-")
    if not _TA_NUMBER.fullmatch(text):
        return None
    return Fraction(text.replace(",", "."))


def _points(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x % 1 else str(int(x))


def to_csv(rows: list[list[str]]) -> str:
    """CSV text (comma separated, LF line ends) of a table, formula-like cells neutralised (qgen.csvout)."""
    return csvout.to_csv(rows)


def known_columns(manifest: Mapping[str, Any]) -> list[str]:
    """The answer columns an answer file may have."""
    return [c.name for c in answer_columns(manifest)]
