"""Gradebooks an LMS imports (issue 14.3): plain, Canvas, Moodle, and Excel's variant.

The exam is banks/midterm.yaml (five questions) and the answers a made-up class's
(`qgen sample-answers`), so the per-question columns are checked against grades.csv whatever the
answer columns are called.
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction

import pytest
from click.testing import CliRunner

from qgen.cli import main
from qgen.grade.gradebook import CANVAS_HEADER
from tests.conftest import BANKS

FIXTURES = BANKS.parent / "tests" / "fixtures" / "rosters"


@pytest.fixture(scope="module")
def exam(tmp_path_factory):
    folder = tmp_path_factory.mktemp("book")
    runner = CliRunner()
    result = runner.invoke(main, ["generate", str(BANKS / "midterm.yaml"), "--versions", "2", "--out",
                                  str(folder / "set"), "--no-pdf", "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["sample-answers", str(folder / "set"), "--students", "12", "-q"])
    assert result.exit_code == 0, result.output
    return folder / "set"


def grade(exam, tmp_path, *args):
    out = tmp_path / "grades"
    result = CliRunner().invoke(main, ["grade", str(exam), str(exam / "answers-sample.csv"), "--out", str(out),
                                       "-q", *args])
    assert result.exit_code == 0, result.output
    return out


def table(path, delimiter=","):
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline=""), delimiter=delimiter))


def test_plain_gradebook_per_question_totals_equal_grades_csv(exam, tmp_path):
    out = grade(exam, tmp_path)
    head, *rows = table(out / "grades.csv")
    book_head, *book = table(out / "gradebook.csv")
    questions = [h for h in book_head[2:]]
    assert book_head[:2] == ["student_id", "total"] and questions == ["q1", "q2", "q3", "q4", "q5"]
    graded = [dict(zip(head, r)) for r in rows if r[head.index("status")] == "graded"]
    assert [b[0] for b in book] == [g["student_id"] for g in graded] and len(book) > 5
    for g, b in zip(graded, book):
        assert b[1] == g["total"]  # the same text as grades.csv
        for q, cell in zip(questions, b[2:]):
            parts = [Fraction(g[c]) for c in head if c.startswith(q + ".") and g[c]]
            assert abs(Fraction(cell) - sum(parts)) <= Fraction(1, 100) * max(1, len(parts))
        assert abs(sum(Fraction(c) for c in b[2:]) - Fraction(b[1])) <= Fraction(3, 100)


def test_canvas_header_with_assignment_name_and_id(exam, tmp_path):
    out = grade(exam, tmp_path, "--gradebook", "canvas", "--assignment", "Midterm", "--assignment-id", "4711")
    head, points, *rows = table(out / "gradebook-canvas.csv")
    assert head == [*CANVAS_HEADER, "Midterm (4711)", *[f"Midterm: Q{i}" for i in range(1, 6)]]
    assert head[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert points[0] == "Points Possible" and points[5] == "100" and sum(map(float, points[6:])) == 100
    plain = table(out / "gradebook.csv")[1:]
    assert [(r[2], r[5:]) for r in rows] == [(p[0], p[1:]) for p in plain]  # SIS User ID = qgen's student id


def test_canvas_without_an_id_names_a_new_assignment_from_the_title(exam, tmp_path):
    out = grade(exam, tmp_path, "--gradebook", "canvas")
    assert table(out / "gradebook-canvas.csv")[0][5] == "Midterm: Neural networks"  # the bank's exam.title


def test_canvas_takes_name_id_login_and_section_from_a_canvas_roster(exam, tmp_path):
    ids = [r[0] for r in table(exam / "answers-sample.csv")[1:3]]
    roster = tmp_path / "canvas.csv"
    text = (FIXTURES / "canvas-gradebook-export.csv").read_text(encoding="utf-8")
    roster.write_text(text.replace("s1001", ids[0]).replace("s1002", ids[1]), encoding="utf-8")
    out = grade(exam, tmp_path, "--gradebook", "canvas", "--roster", str(roster))
    rows = {r[2]: r for r in table(out / "gradebook-canvas.csv")[2:]}
    assert rows[ids[0]][:5] == ["Lovelace, Ada", "101", ids[0], "alovelace", "Section A"]


def test_moodle_id_field(exam, tmp_path):
    out = grade(exam, tmp_path, "--gradebook", "moodle", "--assignment", "Midterm")
    head, *rows = table(out / "gradebook-moodle.csv")
    assert head == ["ID number", "Midterm", *[f"Midterm: Q{i}" for i in range(1, 6)]]
    assert [r[0] for r in rows] == [r[0] for r in table(out / "gradebook.csv")[1:]]


def test_moodle_by_email_needs_the_roster_and_takes_it_from_there(exam, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["grade", str(exam), str(exam / "answers-sample.csv"), "--out",
                                  str(tmp_path / "g"), "--gradebook", "moodle", "--moodle-id", "email"])
    assert result.exit_code == 1 and "Email address" in result.output and "--roster" in result.output
    ids = list(dict.fromkeys(r[0] for r in table(exam / "answers-sample.csv")[1:]))
    roster = tmp_path / "moodle.csv"
    roster.write_text("First name,Surname,ID number,Email address\n"
                      + "".join(f"A,B{i},{sid},{sid}@example.edu\n" for i, sid in enumerate(ids)), encoding="utf-8")
    out = grade(exam, tmp_path, "--gradebook", "moodle", "--moodle-id", "email", "--roster", str(roster))
    head, *rows = table(out / "gradebook-moodle.csv")
    assert head[0] == "Email address" and all(r[0].endswith("@example.edu") for r in rows)


def test_excel_variant_bytes(exam, tmp_path):
    out = grade(exam, tmp_path, "--gradebook", "canvas", "--excel")
    raw = (out / "gradebook.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfstudent_id;total;q1;") and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert b"." not in b"".join(line.split(b";", 1)[1] for line in raw.split(b"\r\n")[1:] if line)
    plain = table(grade(exam, tmp_path / "p") / "gradebook.csv")
    assert [[c.replace(",", ".") for c in r] for r in table(out / "gradebook.csv", ";")] == plain
    assert (out / "gradebook-canvas.csv").read_bytes().startswith(b"\xef\xbb\xbfStudent;ID;SIS User ID;")
