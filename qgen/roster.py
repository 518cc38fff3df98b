"""A course roster: who gets a paper, and which version (pure, apart from reading the file).

A roster is a CSV (`,` `;` or tab, UTF-8 with or without a BOM) with an id column (`id`,
`student_id`, `ID` or `Student ID`), and optionally `name`, `section` and `room`; other columns
are ignored. A student's version comes from a hash of the exam id and the student id, so it
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
from collections.abc import Sequence
from dataclasses import dataclass
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


def load_roster(path: Path) -> list[Student]:
    """The students of a roster CSV, in file order; a row without an id is skipped, an id given
    twice is an error naming both lines."""
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    key = next((k for k in ID_COLUMNS if k in header), None)
    if key is None:
        raise SubmissionError(f"{path}: line 1: a roster needs an id column ({', '.join(ID_COLUMNS)}); "
                              f"it may also have name, section and room")
    reader.fieldnames = header
    students: list[Student] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        sid = (row.get(key) or "").strip()
        if not sid:
            continue
        if sid in seen:
            raise SubmissionError(f"{path}: line {line}: student id {sid!r} is already on line {seen[sid]}; "
                                  "give every student one row")
        seen[sid] = line
        students.append(Student(sid, *((row.get(k) or "").strip() for k in ("name", "section", "room")), line=line))
    if not students:
        raise SubmissionError(f"{path}: no students (no row has an id in column {key!r})")
    return students


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
