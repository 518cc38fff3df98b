"""A course roster: who gets a paper, and which version (pure, apart from reading the file).

A roster is a CSV (`,` `;` or tab, UTF-8 with or without a BOM) with an id column (`id`,
`student_id`, `ID` or `Student ID`), and optionally `name`, `section` and `room`; other columns
are ignored. An LMS's export is recognised by its header too (`roster_columns`: Canvas, Moodle,
Gradescope). Every cell is normalised to NFC (a macOS "Jose\u0301" is read as "Jos\u00e9"). A student's version comes from a hash of the exam id and the student id, so it
stays the same when students join or leave the roster, and a student sits a different version
in another exam:

>>> version_for("ml-midterm", "s1234567", ["1", "2", "3", "4"])
'4'
>>> file_stem("O'Brien & Søn_#1 {x}")
'O_Brien___S_n__1__x_-72f319'
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qgen.errors import SubmissionError

ID_COLUMNS = ("student_id", "id", "ID", "Student ID")


@dataclass(frozen=True)
class Student:
    """One roster row (plain text: escaped where it is typeset); `line` is its line in the file."""

    id: str
    name: str = ""
    section: str = ""
    room: str = ""
    line: int = 0
    source: str = field(default="", compare=False)  # the roster file, for messages naming a row (source:line)
    lms_id: str = ""  # an LMS's own user id (Canvas's `ID`), for its gradebook import
    login: str = ""  # Canvas's `SIS Login ID`, Moodle's `Username`
    email: str = ""

    @property
    def place(self) -> str:
        """Section and room for the cover, e.g. "Section B, room 101"."""
        bits = [f"Section {self.section}" if self.section else "", f"room {self.room}" if self.room else ""]
        text = ", ".join(b for b in bits if b)
        return text[:1].upper() + text[1:]


def read_text(path: Path) -> str:
    """A CSV file's text (UTF-8, a BOM dropped); a missing, unreadable or non-UTF-8 file is a SubmissionError."""
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise SubmissionError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SubmissionError(f"{path}: is a folder; give the CSV file in it") from None
    except OSError as e:
        raise SubmissionError(f"{path}: cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise SubmissionError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); save it as CSV UTF-8") from None


_LINE_END = re.compile(r"\r\n|\r|\n")
_QUOTED = re.compile(r'"(?:[^"]|"")*"?')  # a quoted cell (an unterminated one runs to the end)


def delimiter(text: str) -> str:
    """The separator of a CSV text: whichever of `,` `;` tab its first non-blank line has most of
    outside quoted cells (`,` on a tie or when there is none).

    >>> delimiter("id;name;version")
    ';'
    >>> delimiter('student_id;version;"q1.z1, entry 1";"q1.z1, entry 2"')
    ';'
    """
    first = next((line for line in _LINE_END.split(text) if line.strip()), "")
    outside = _QUOTED.sub("", first)
    return max(",;\t", key=outside.count)


@dataclass(frozen=True)
class RosterColumns:
    """Which header of a roster holds what: `layout` is canvas, moodle, gradescope or plain; `name` is
    one column or first and last name (joined with a space); None: the roster has no such column."""

    layout: str
    id: str
    name: tuple[str, ...] = ()
    section: str | None = None
    room: str | None = None
    lms_id: str | None = None
    login: str | None = None
    email: str | None = None


# (layout, the id column that marks it): checked in this order, case-insensitively
_LAYOUTS = (("canvas", "sis user id"), ("moodle", "id number"), ("gradescope", "sid"),
            *(("plain", k.lower()) for k in ID_COLUMNS))


def roster_columns(header: Sequence[str], path: Path | str = "roster") -> RosterColumns:
    """Recognise a roster by its header (case-insensitive): a Canvas gradebook export (`Student, ID,
    SIS User ID, SIS Login ID, Section`: the student id is the SIS User ID, the institution's number,
    not Canvas's internal `ID`), a Moodle participants export (`First name`, `Last name`/`Surname`,
    `ID number`, `Email address`), a Gradescope roster (`First Name`, `Last Name`, `SID`, `Email`)
    or a plain sheet (`id`/`student_id`, `name`, `section`, `room`).

    >>> roster_columns(["Student", "ID", "SIS User ID", "SIS Login ID", "Section"])
    RosterColumns(layout='canvas', id='SIS User ID', name=('Student',), section='Section', room=None, lms_id='ID', login='SIS Login ID', email=None)
    >>> roster_columns(["First name", "Surname", "ID number", "Email address"]).name
    ('First name', 'Surname')
    >>> roster_columns(["Name", "Section", "ID"]).id, roster_columns(["SID", "Full Name"]).layout
    ('ID', 'gradescope')
    """
    lower: dict[str, str] = {}
    for h in header:
        lower.setdefault(h.strip().lower(), h)

    def col(*names: str) -> str | None:
        return next((lower[n] for n in names if n in lower), None)

    layout = next((lay for lay, key in _LAYOUTS if key in lower), None)
    if layout is None:
        found = ", ".join(repr(h) for h in header if h.strip())[:200] or "none"
        raise SubmissionError(
            f"{path}: line 1: a roster needs an id column qgen knows (found: {found}); give `id` or `student_id` "
            "(plain), `SIS User ID` (Canvas gradebook export), `ID number` (Moodle participants) or `SID` "
            "(Gradescope roster)")
    first, last = col("first name", "firstname"), col("last name", "surname", "lastname")
    name = (col("name", "full name", "student", "student name"),)
    if name == (None,):
        name = tuple(c for c in (first, last) if c)
    ident = {"canvas": "sis user id", "moodle": "id number", "gradescope": "sid"}.get(layout)
    if ident is None:  # a plain sheet: id, name, section, room, as it always was
        return RosterColumns(layout, col(*(k.lower() for k in ID_COLUMNS)), tuple(c for c in name if c),
                             col("section"), col("room"))
    return RosterColumns(
        layout, lower[ident], tuple(c for c in name if c), col("section", "sections", "group", "groups"),
        col("room"), col("id") if layout == "canvas" else None,
        col("sis login id", "username"), col("email address", "email"))


MAX_ID = 64  # characters of a student id


def load_roster(path: Path) -> list[Student]:
    """The students of a roster CSV, in file order; a row without an id is skipped, an id given
    twice is an error naming both lines."""
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    columns = roster_columns(header, path)
    key = columns.id
    reader.fieldnames = header
    students: list[Student] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        sid = _cell(row.get(key))
        if not sid or (columns.layout == "canvas" and _cell(row.get(header[0])) == "Points Possible"):
            continue  # no id (Canvas's Test Student), or Canvas's second row
        if len(sid) > MAX_ID:
            raise SubmissionError(f"{path}: line {line}: student id {sid[:20]!r}… has {len(sid)} characters; an id has "
                                  f"at most {MAX_ID} (it names the paper's file and stands in every page's QR code)")
        if sid in seen:
            raise SubmissionError(f"{path}: line {line}: student id {sid!r} is already on line {seen[sid]}; "
                                  "give every student one row")
        seen[sid] = line
        students.append(Student(sid, " ".join(c for c in (_cell(row.get(k)) for k in columns.name) if c),
                                *(_cell(row.get(k)) if k else "" for k in (columns.section, columns.room)),
                                line=line, source=str(path),
                                **{f: _cell(row.get(k)) if k else "" for f, k in
                                   (("lms_id", columns.lms_id), ("login", columns.login), ("email", columns.email))}))
    if not students:
        raise SubmissionError(f"{path}: no students (no row has an id in column {key!r})")
    return students


def _cell(value: str | None) -> str:
    """A roster cell: NFC (composed accents, as pdflatex and the fonts expect), trimmed."""
    return unicodedata.normalize("NFC", value or "").strip()


def version_for(exam_id: str, student_id: str, versions: Sequence[str]) -> str:
    """The version a student sits: a stable hash of the exam and student ids over `versions`."""
    digest = hashlib.sha256(f"qgen-roster\x00{exam_id}\x00{student_id}".encode()).digest()
    return versions[int.from_bytes(digest[:8], "big") % len(versions)]


def file_stem(student_id: str) -> str:
    """A file name for a student's paper: the id with unsafe characters as `_`, plus a short hash
    of the id when anything was replaced (so two ids never share a file)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", student_id).lstrip(".") or "_"
    if safe == student_id:
        return safe
    return f"{safe[:60]}-{hashlib.sha256(student_id.encode()).hexdigest()[:6]}"
