"""`qgen grade` on disk: read the manifest, the answers (and a roster); replace the output folder
with grades.csv, gradebook.csv, report.html, feedback/<student>.html (absent.csv, ta-problems.csv).

Only the manifest of the exam folder is read (the generator never runs again). The whole output
folder is built beside the old one and swapped in (qgen.safe_write.replace_folder), so a crash or
a full disk leaves the old folder or the new one, never a mix. The folder must hold only what
`qgen grade` writes (it is replaced as a whole). Everything is read and checked before anything
is written.

TAs' scores for parts graded by hand, typed into the previous grades.csv (saved by Excel or not:
`;`, a BOM, CRLF, `2,5`), are kept in their cells. One that is not a number, is negative or is more
than the part's points is not counted and is listed in ta-problems.csv (and by the CLI); one that
no graded row takes any more (the student left the answers file, the row is not graded, another
version) is listed there too and read back from it on the next run, so no score is ever dropped.
A previous grades.csv that cannot be read safely (not UTF-8, no student_id column, a broken line,
a column qgen does not write holding entries) is an error, and nothing is written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from qgen import roster
from qgen.errors import SubmissionError
from qgen.grade.columns import part_name, positional
from qgen.grade.feedback import feedback_pages
from qgen.grade.lms import to_qgen
from qgen.grade.report import report_html
from qgen.grade.sheet import (
    Graded,
    Table,
    grade_sheet,
    grades_table,
    known_columns,
    read_sheet,
    read_table,
    score_columns,
    ta_score,
    to_csv,
)
from qgen.lock import hold
from qgen.manifests import load_manifest  # noqa: F401  (grade's callers read it from here)
from qgen.roster import read_text
from qgen.safe_write import WriteError, clean_leftovers, replace_folder

OWNED = ("grades.csv", "gradebook.csv", "gradebook-canvas.csv", "gradebook-moodle.csv", "report.html", "feedback",
         "absent.csv", "ta-problems.csv")
_OS_LITTER = {".DS_Store", "Thumbs.db", "desktop.ini"}  # dropped with the old folder
_OLD_TEMP = re.compile(rf"\.({'|'.join(re.escape(n) for n in OWNED)})\..+")  # temporaries of older qgen runs
_LOCK = re.compile(r"~\$(.+)|\.~lock\.(.+)#")  # Excel's and LibreOffice's "this file is open"
PROBLEMS_HEADER = ["student_id", "column", "typed", "problem", "found_at", "kept_in"]


@dataclass(frozen=True)
class TaProblem:
    """A TA score that is not counted: who, which part, what was typed, where, why, and where it is kept now
    (`kept_in`: "grades.csv", its cell, to be fixed there; or "ta-problems.csv", no row of grades.csv takes it)."""

    student_id: str
    column: str
    typed: str
    found_at: str  # "grades.csv line 4"
    problem: str
    kept_in: str

    def __str__(self) -> str:
        fix = "fix it in grades.csv" if self.kept_in == "grades.csv" else "kept in ta-problems.csv"
        return f"{self.found_at}: {self.student_id} {self.column} = {self.typed!r}: {self.problem} (not counted; {fix})"

    def row(self) -> list[str]:
        return [self.student_id, self.column, self.typed, self.problem, self.found_at, self.kept_in]


@dataclass(frozen=True)
class _Typed:
    student_id: str
    column: str
    text: str
    found_at: str


@dataclass(frozen=True)
class GradeRun:
    """What `grade_files` did: the graded rows and what the answer file's header lacked or had extra."""

    graded: list[Graded]
    missing: list[str]
    extra: list[str]
    files: list[Path]
    absent: list[tuple[str, str]] = ()  # roster students with no graded row: (id, name)
    ta_problems: list[TaProblem] = ()  # TA scores not counted (also in ta-problems.csv)
    source: str = "qgen"  # the answer file's format: qgen, moodle, canvas or forms (qgen.grade.lms)
    positional: bool = True  # the manifest names columns by position (False: written by an older qgen)


def load_roster(path: Path) -> list[tuple[str, str]]:
    """A roster's (id, name) pairs (see qgen.roster)."""
    return [(s.id, s.name) for s in roster.load_roster(path)]


def _answers_text(answers: Path) -> str:
    """The answer file's text; "-" is the standard input (UTF-8, a BOM dropped)."""
    if str(answers) != "-":
        return read_text(answers)
    import sys

    try:
        return sys.stdin.buffer.read().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SubmissionError(f"standard input: not UTF-8 text ({e.reason} at byte {e.start}); "
                              "save it as CSV UTF-8") from None


def load_mapping(path: Path | None) -> dict[str, str]:
    """A --map file: {their header: our column} (YAML)."""
    if path is None:
        return {}
    from qgen.yamlread import read_yaml

    data = read_yaml(path)
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise SubmissionError(f"{path}: expected a mapping of LMS header: qgen column, e.g. 'Student ID': student_id")
    return {k.strip(): v.strip() for k, v in data.items()}


def check_output_folder(out: Path) -> None:
    """Refuse an output folder that `qgen grade` may not replace as a whole: a file, a read-only
    folder, one holding files it did not write, or one whose grades.csv is open in a spreadsheet."""
    if not (out.exists() or out.is_symlink()):
        parent = next((p for p in out.absolute().parents if p.exists()), None)
        if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
            raise WriteError(f"{parent}: cannot write there (read-only); choose another --out or make it writable",
                             "read-only")
        return
    if not out.is_dir():
        raise WriteError(f"{out}: is a file; give --out a folder", "is a file")
    if not os.access(out, os.W_OK | os.X_OK) or not os.access(out.resolve().parent, os.W_OK | os.X_OK):
        raise WriteError(f"{out}: is read-only (it is replaced as a whole); make it and its parent folder "
                         "writable or choose another --out", "read-only")
    foreign = []
    for entry in sorted(p.name for p in out.iterdir()):
        lock = _LOCK.fullmatch(entry)
        if lock:
            raise WriteError(f"{out / (lock.group(1) or lock.group(2))}: is open in a spreadsheet ({entry}); "
                             "save and close it, then run qgen grade again", "open in a spreadsheet")
        if entry not in OWNED and entry not in _OS_LITTER and not _OLD_TEMP.fullmatch(entry):
            foreign.append(entry)
    if foreign:
        raise WriteError(f"{out}: holds {', '.join(foreign[:5])}{' …' if len(foreign) > 5 else ''}, which "
                         "qgen grade did not write; the folder is replaced as a whole on every run: "
                         "move them elsewhere or give --out another folder", "holds other files")


def _previous_text(path: Path, holds: str) -> str:
    """The text of a file of the previous run (UTF-8, a BOM dropped); anything else is an error."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SubmissionError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); it holds {holds}: "
                              "save it as CSV UTF-8 (Excel: Save As › CSV UTF-8) and run again; nothing was written"
                              ) from None
    except OSError as e:
        raise SubmissionError(f"{path}: cannot be read ({e.strerror or e}); it holds {holds}; "
                              "nothing was written") from None


_NOTHING_WRITTEN = "; nothing was written"


def _previous_table(path: Path, holds: str) -> tuple[Table, list[str]] | None:
    """A CSV file of the previous run and its stripped header (None: there is none); a file that
    cannot be read safely is an error that says nothing was written."""
    if not (path.exists() or path.is_symlink()):
        return None
    try:
        table = read_table(_previous_text(path, holds), str(path))
    except SubmissionError as e:
        raise SubmissionError(f"{str(e).removesuffix(_NOTHING_WRITTEN)}{_NOTHING_WRITTEN}") from None
    return table, [h.strip() for h in table.header.cells]


def _manual_scores(path: Path, manifest: Mapping[str, Any]) -> list[_Typed]:
    """TA scores typed into a previous grades.csv (manual parts only), in file order: whatever a
    spreadsheet did to the file (`;`, BOM, CRLF). A file that cannot be read safely is an error."""
    previous = _previous_table(path, "the TAs' scores")
    if previous is None:
        return []
    table, header = previous
    fix = _NOTHING_WRITTEN
    if "student_id" not in header:
        raise SubmissionError(f"{path}: line {table.header.number}: no 'student_id' column (found: "
                              f"{', '.join(header[:6])}…); the TAs' scores are matched to students by it: "
                              f"name that column student_id again{fix}")
    manual = {part_name(q["index"], p) for v in manifest["versions"] for q in v["questions"]
              for p in q["parts"] if p["kind"] == "text"}
    ours = {"student_id", "version", "status", "total", "max", "percent", "note", *score_columns(manifest)}
    foreign = {i: h for i, h in enumerate(header) if h not in ours and not re.match(r"q\d+\.", h)}
    found: list[_Typed] = []
    for line in table.rows:
        if line.problem:
            raise SubmissionError(f"{path}: line {line.number}: {line.problem}; fix that line (the TAs' scores "
                                  f"are read from it){fix}")
        cells = line.cells + [""] * (len(header) - len(line.cells))
        if any(c.strip() for c in cells[len(header):]):
            raise SubmissionError(f"{path}: line {line.number}: {len(line.cells)} cells for {len(header)} "
                                  f"columns; fix that line (the TAs' scores are read from it){fix}")
        used = next((h for i, h in foreign.items() if cells[i].strip()), None)
        if used is not None:
            raise SubmissionError(f"{path}: line {line.number}: column {used or '(no name)'!r} is not one qgen "
                                  "writes, and its entries would be lost when grades.csv is rewritten: move "
                                  f"them to another file (or delete the column){fix}")
        row = dict(zip(header, cells))
        sid = row["student_id"].strip()
        found += [_Typed(sid, c, row[c].strip(), f"{path.name} line {line.number}")
                  for c in header if c in manual and row[c].strip()]
    return found


def _kept_problems(path: Path) -> list[_Typed]:
    """TA scores a previous run kept in ta-problems.csv because no graded row took them."""
    previous = _previous_table(path, "TA scores no row took")
    if previous is None:
        return []
    table, header = previous
    fix = _NOTHING_WRITTEN
    if any(h not in header for h in ("student_id", "column", "typed", "kept_in")):
        raise SubmissionError(f"{path}: line {table.header.number}: expected the columns "
                              f"{', '.join(PROBLEMS_HEADER)}; restore that header{fix}")
    found = []
    for line in table.rows:
        row = dict(zip(header, line.cells))
        if line.problem or len(line.cells) != len(header):
            raise SubmissionError(f"{path}: line {line.number}: {line.problem or 'wrong number of cells'}; "
                                  f"fix that line{fix}")
        if row["kept_in"].strip() == path.name and row["typed"].strip():
            found.append(_Typed(row["student_id"].strip(), row["column"].strip(), row["typed"].strip(),
                                f"{path.name} line {line.number}"))
    return found


def ta_scores(graded: list[Graded], typed: list[_Typed]) -> tuple[dict[tuple[str, str], str], list[TaProblem]]:
    """The TA scores for grades_table ({(student id, column): text}) and the ones not counted, with why."""
    parts = {(g.student_id, s.column): s.points for g in graded if g.status == "graded"
             for s in g.scores if s.earned is None}
    manual: dict[tuple[str, str], str] = {}
    first: dict[tuple[str, str], _Typed] = {}
    problems: list[TaProblem] = []
    for t in typed:
        key = (t.student_id, t.column)
        if key in first:
            if first[key].text != t.text:
                problems.append(TaProblem(*key, t.text, t.found_at,
                                          f"a second score for this part ({first[key].found_at}'s is used)",
                                          "ta-problems.csv"))
            continue
        first[key] = t
        if key not in parts:
            problems.append(TaProblem(*key, t.text, t.found_at, "no graded row has this hand-graded part now "
                                      "(student not in the answers, row not graded, or another version)",
                                      "ta-problems.csv"))
            continue
        manual[key] = t.text
        _, why = ta_score(t.text, parts[key])
        if why:
            problems.append(TaProblem(*key, t.text, t.found_at, why, "grades.csv"))
    return manual, problems


def grade_files(exam_dir: Path, answers: Path, out: Path, *, mapping: Path | None = None,
                ecf_credit: Fraction | None = None, roster: Path | None = None,
                progress: Callable[[int], None] | None = None, gradebook: Any = None) -> GradeRun:
    """Grade `answers` against `exam_dir`'s manifest into the folder `out` (replaced as a whole);
    ECF credit: as given, else the bank's (exam.ecf); `gradebook`: qgen.grade.gradebook.Options
    (default: gradebook.csv only). `answers` may be "-": the standard input."""
    manifest = load_manifest(exam_dir)
    if ecf_credit is None:
        ecf_credit = Fraction(manifest["exam"].get("ecf", 1)).limit_denominator(100)
    out = Path(out)
    with hold(out, "qgen grade"):  # one run at a time on a folder: a second one fails at once
        return _grade_into(manifest, answers, out, mapping, ecf_credit, roster, progress, gradebook)


def _grade_into(manifest: Mapping[str, Any], answers: Path, out: Path, mapping: Path | None, ecf_credit: Fraction,
                roster: Path | None, progress: Callable[[int], None] | None, gradebook: Any = None) -> GradeRun:
    from qgen.grade.gradebook import Options, gradebooks
    from qgen.roster import load_roster as roster_students

    clean_leftovers(out)
    check_output_folder(out)
    text, source = _answers_text(answers), "qgen"
    if mapping is None:  # a Moodle, Canvas or Google Forms export, recognised by its header (qgen.grade.lms)
        text, source = to_qgen(text, manifest)
    sheet = read_sheet(text, known_columns(manifest), load_mapping(mapping),
                       where="standard input" if str(answers) == "-" else str(answers))
    on_roster = roster_students(roster) if roster is not None else []
    students = [(s.id, s.name) for s in on_roster] if roster is not None else None
    typed = _manual_scores(out / "grades.csv", manifest) + _kept_problems(out / "ta-problems.csv")
    if progress is not None:
        progress(-len(sheet.rows))  # how many rows, then 1 per row graded
    graded = grade_sheet(manifest, sheet, ecf_credit, on_row=None if progress is None else lambda: progress(1))
    manual, problems = ta_scores(graded, typed)
    table = grades_table(manifest, graded, manual)
    files: dict[str, str | None] = {"grades.csv": to_csv(table),
                                    **gradebooks(manifest, graded, manual, on_roster, gradebook or Options()),
                                    "report.html": report_html(manifest, graded, table), "feedback": None}
    files.update({f"feedback/{name}": page for name, page in feedback_pages(manifest, graded, table).items()})
    absent: list[tuple[str, str]] = []
    if students is not None:
        present = {g.student_id for g in graded if g.status == "graded"}
        absent = [(sid, name) for sid, name in students if sid not in present]
        files["absent.csv"] = to_csv([["student_id", "name"], *[list(a) for a in absent]])
    if problems:
        files["ta-problems.csv"] = to_csv([PROBLEMS_HEADER, *[p.row() for p in problems]])
    replace_folder(out, files)
    written = [out / name for name in files if "/" not in name]
    return GradeRun(graded, sheet.missing, sheet.extra, written, absent, problems, source, positional(manifest))
