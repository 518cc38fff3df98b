"""`qgen grade` on disk: the line-by-line reader, TA scores read back from a spreadsheet-mangled
grades.csv, formula neutralising in every CSV, file modes and the atomic folder swap.

Every expected value is written down by hand. The exam is banks/quiz.yaml, 2 versions; its parts
graded by hand are q1.a "draw" (2 points), q1.z "concept" (3 points) and two 1-point chain parts. A
row with every answer blank earns 0 automatic points, so a total below is the TA scores alone.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from qgen import safe_write
from qgen.bank import load_bank
from qgen.cli import main
from qgen.errors import QgenError, SubmissionError
from qgen.grade.files import grade_files
from qgen.grade.sheet import read_sheet, read_table
from qgen.publish import Options, write_exam_set
from qgen.roster import Student, delimiter
from tests.conftest import BANKS, ROOT

FORMULA_IDS = ["=cmd|' /C calc'!A0", "+1", "@SUM(A1)", "-2+3"]
NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")  # a plain number: never prefixed


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    """report.html (its matplotlib plots are most of a run's time) is tested in test_grade_report.py."""
    monkeypatch.setattr("qgen.grade.files.report_html", lambda *args: "<!doctype html><title>report</title>")


@pytest.fixture(scope="module")
def exam(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quiz")
    return write_exam_set(load_bank(BANKS / "quiz.yaml"), ["1", "2"], folder / "exam", make_pdf=False).out


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def read_grades(folder: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(folder / "grades.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def litter(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


BLANK = "student_id,version\ns1,1\ns2,2\ns3,1\n"  # three students, every answer blank
# the parts graded by hand in banks/quiz.yaml: its score columns are named by the letters the exam prints
DRAW, CONCEPT = "q1.a", "q1.z"


# -- A: every physical line is accounted for ------------------------------------------------------
STRAY = (
    "student_id,version,q1.matrices\n"        # line 1
    "s1,1,2\n"                                 # 2
    's2,1,"2\n'                                # 3: unterminated quote
    "s3,1,2\n"                                 # 4
    "\n"                                       # 5: blank, skipped
    's4,1,2"\n'                                # 6: a stray quote at the end
    's5,1,"2"x\n'                              # 7: text after a closing quote
    '"s6",1,"a ""quoted"" cell, with a comma"\n'  # 8: well-formed quoting
    "s7,1\n"                                   # 9: too few cells
    ",1,2\n"                                   # 10: no student id
    ",,\n"                                     # 11: only separators: blank, skipped
    "s8,1,2\n"                                 # 12
)
STRAY_STATUSES = [
    ("s1", "graded"), ("s2", "malformed: line 3: unbalanced quote"), ("s3", "graded"),
    ("s4", "malformed: line 6: unbalanced quote"), ("s5", "malformed: line 7: stray quote after a quoted cell"),
    ("s6", "graded"), ("s7", "malformed: line 9: 2 cells for 3 columns"), ("", "malformed: line 10: no student id"),
    ("s8", "graded"),
]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_stray_quote_loses_nobody(exam, tmp_path, newline):
    answers = write(tmp_path / "answers.csv", STRAY.replace("\n", newline))
    assert len(answers.read_bytes().decode().splitlines()) == 12
    grade_files(exam, answers, tmp_path / "grades")
    _, rows = read_grades(tmp_path / "grades")
    assert len(rows) == 12 - 1 - 2  # every line but the header and the two blank ones
    assert [(r["student_id"], r["status"]) for r in rows] == STRAY_STATUSES
    assert rows[1]["version"] == "1"  # read before the stray quote


def test_a_long_cell_is_a_malformed_row_and_too_many_rows_an_error():
    sheet = read_sheet("student_id,version,q1.matrices\ns1,1," + "9" * 10_001 + "\ns2,1,2\n", ["q1.matrices"])
    assert sheet.rows[0]["__malformed__"] == "line 2: cell 3 has 10001 characters (at most 10000)"
    assert sheet.rows[0]["student_id"] == "s1" and "__malformed__" not in sheet.rows[1]
    assert sheet.lines == [2, 3]
    with pytest.raises(SubmissionError) as e:
        read_table("a,b\n1,2\n3,4\n\n5,6\n7,8\n", "big.csv", max_rows=3)
    assert str(e.value) == "big.csv: line 6: more than 3 rows; split the file"


# -- B: the separator is counted outside quotes ----------------------------------------------------
def test_a_semicolon_file_with_quoted_comma_headers(exam, tmp_path):
    text = ('student_id;version;"q1.grad.W2[1,2]";"q1.factor.dz2[1]_dW2[1,2]";"comment, free text, any, more"\n'
            's1;1;0,5;1;"a; b, c"\n')
    assert text.splitlines()[0].count(",") > text.splitlines()[0].count(";")  # commas win if quotes are ignored
    assert delimiter(text) == ";" and delimiter('id,"a; b; c"') == ","
    sheet = read_sheet(text, ["q1.grad.W2[1,2]", "q1.factor.dz2[1]_dW2[1,2]", "q1.z2"])
    assert sheet.delimiter == ";" and sheet.extra == ["comment, free text, any, more"] and sheet.missing == ["q1.z2"]
    assert sheet.rows == [{"student_id": "s1", "version": "1", "q1.grad.W2[1,2]": "0,5",
                           "q1.factor.dz2[1]_dW2[1,2]": "1", "comment, free text, any, more": "a; b, c"}]
    run = grade_files(exam, write(tmp_path / "a.csv", text), tmp_path / "grades")
    assert [g.status for g in run.graded] == ["graded"]


# -- C: TA scores -------------------------------------------------------------------------------
def first_run(exam, tmp_path, answers=BLANK):
    path = write(tmp_path / "answers.csv", answers)
    grade_files(exam, path, tmp_path / "grades")
    return path


def type_scores(grades: Path, scores: dict[tuple[str, str], str], sep=",", bom=False, crlf=False) -> None:
    """What a TA does: type scores into grades.csv and save it (as Excel may: `;`, BOM, CRLF)."""
    with open(grades / "grades.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    for r in rows[1:]:
        for (sid, column), text in scores.items():
            if r[0] in (sid, "'" + sid):  # an id starting with = + - @ is written with a '  
                r[rows[0].index(column)] = text
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    (grades / "grades.csv").write_bytes((("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8"))


def test_excel_mangled_grades_are_read_back(exam, tmp_path):
    answers = first_run(exam, tmp_path)
    type_scores(tmp_path / "grades", {("s1", CONCEPT): "2,5", ("s2", DRAW): "1", ("s3", DRAW): "0,5",
                                      ("s3", CONCEPT): "3"}, sep=";", bom=True, crlf=True)
    assert (tmp_path / "grades" / "grades.csv").read_bytes().startswith(b"\xef\xbb\xbfstudent_id;version;")
    run = grade_files(exam, answers, tmp_path / "grades")
    _, rows = read_grades(tmp_path / "grades")
    assert [(r["student_id"], r["total"]) for r in rows] == [("s1", "2.5"), ("s2", "1"), ("s3", "3.5")]
    assert (rows[0][CONCEPT], rows[1][DRAW], rows[2][DRAW]) == ("2,5", "1", "0,5")
    assert run.ta_problems == [] and not (tmp_path / "grades" / "ta-problems.csv").exists()


def test_bad_ta_scores_are_reported_kept_and_not_counted(exam, tmp_path):
    answers = first_run(exam, tmp_path, BLANK + "s4,2\n")
    type_scores(tmp_path / "grades", {("s1", CONCEPT): "good", ("s2", CONCEPT): "-1",
                                      ("s3", DRAW): "2.5", ("s4", CONCEPT): "3"})
    run = grade_files(exam, answers, tmp_path / "grades")
    assert [(p.student_id, p.column, p.typed, p.found_at, p.problem) for p in run.ta_problems] == [
        ("s1", CONCEPT, "good", "grades.csv line 2", "not a number"),
        ("s2", CONCEPT, "-1", "grades.csv line 3", "negative"),
        ("s3", DRAW, "2.5", "grades.csv line 4", "more than the part's 2 points")]
    _, rows = read_grades(tmp_path / "grades")
    assert [(r[CONCEPT], r[DRAW], r["total"]) for r in rows] == [
        ("good", "", "0"), ("-1", "", "0"), ("", "2.5", "0"), ("3", "", "3")]
    problems = (tmp_path / "grades" / "ta-problems.csv").read_text(encoding="utf-8").splitlines()
    assert problems == ["student_id,column,typed,problem,found_at,kept_in",
                        "s1,q1.z,good,not a number,grades.csv line 2,grades.csv",
                        "s2,q1.z,-1,negative,grades.csv line 3,grades.csv",
                        "s3,q1.a,2.5,more than the part's 2 points,grades.csv line 4,grades.csv"]
    # fixed by the TA: counted, and the problems file goes away with the problems
    type_scores(tmp_path / "grades", {("s1", CONCEPT): "1", ("s2", CONCEPT): "0", ("s3", DRAW): "2"})
    run = grade_files(exam, answers, tmp_path / "grades")
    assert run.ta_problems == [] and not (tmp_path / "grades" / "ta-problems.csv").exists()
    assert [r["total"] for r in read_grades(tmp_path / "grades")[1]] == ["1", "0", "2", "3"]


def test_a_score_no_row_takes_is_kept_until_its_student_is_back(exam, tmp_path):
    first_run(exam, tmp_path)
    type_scores(tmp_path / "grades", {("s3", CONCEPT): "2"})
    without = write(tmp_path / "without-s3.csv", "student_id,version\ns1,1\ns2,2\n")
    run = grade_files(exam, without, tmp_path / "grades")
    assert [(p.student_id, p.typed, p.kept_in) for p in run.ta_problems] == [("s3", "2", "ta-problems.csv")]
    run = grade_files(exam, without, tmp_path / "grades")  # read back from ta-problems.csv, not dropped
    assert [(p.student_id, p.found_at) for p in run.ta_problems] == [("s3", "ta-problems.csv line 2")]
    run = grade_files(exam, tmp_path / "answers.csv", tmp_path / "grades")  # s3 is back
    assert run.ta_problems == [] and read_grades(tmp_path / "grades")[1][2]["total"] == "2"


def add_column(data: bytes, name: bytes, value: bytes) -> bytes:
    """A column a TA adds to grades.csv (its entries would be lost on a rewrite)."""
    head, *rows = data.rstrip(b"\n").split(b"\n")
    return b"\n".join([head + b"," + name, *[r + b"," + value for r in rows]]) + b"\n"


@pytest.mark.parametrize("damage,message", [
    (lambda b: b.decode("utf-8").replace("s1", "S\u00f8ren").encode("cp1252"), "not UTF-8 text"),
    (lambda b: b.replace(b"student_id", b"Student number", 1), "no 'student_id' column"),
    (lambda b: add_column(b, b"comments", b"checked"), "column 'comments' is not one qgen writes"),
])
def test_an_unreadable_grades_file_is_an_error_and_nothing_is_written(exam, tmp_path, runner, damage, message):
    answers = first_run(exam, tmp_path)
    type_scores(tmp_path / "grades", {("s2", CONCEPT): "2"})
    grades = tmp_path / "grades" / "grades.csv"
    grades.write_bytes(damage(grades.read_bytes()))
    before = snapshot(tmp_path / "grades")
    result = runner.invoke(main, ["grade", str(exam), str(answers), "--out", str(tmp_path / "grades"), "-q"])
    line = one_line_error(result)
    assert str(grades) in line and message in line and "nothing was written" in line
    assert snapshot(tmp_path / "grades") == before and grades.read_bytes() == before["grades.csv"]
    assert litter(tmp_path) == []


def test_cli_lists_at_most_ten_ta_problems(exam, tmp_path, runner):
    ids = [f"s{n}" for n in range(1, 7)]
    answers = first_run(exam, tmp_path, "student_id,version\n" + "".join(f"{s},1\n" for s in ids))
    type_scores(tmp_path / "grades", {**{(s, CONCEPT): "x" for s in ids}, **{(s, DRAW): "9" for s in ids}})
    result = runner.invoke(main, ["grade", str(exam), str(answers), "--out", str(tmp_path / "grades")])
    assert result.exit_code == 0, result.output
    out = result.output.splitlines()
    assert "TA scores not counted: 12" in out and "  … 2 more (all of them in ta-problems.csv)" in out
    assert "  grades.csv line 2: s1 q1.z = 'x': not a number (not counted; fix it in grades.csv)" in out
    assert sum(line.startswith("  grades.csv line ") for line in out) == 10


# -- D: outputs a spreadsheet opens safely ---------------------------------------------------------
def csv_cells(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as f:
        return [c for row in csv.reader(f) for c in row]


def assert_no_formula(path: Path) -> None:
    bad = [c for c in csv_cells(path) if c.startswith(("=", "+", "-", "@", "\t", "\r")) and not NUMBER.fullmatch(c)]
    assert bad == [], path


def test_formula_like_cells_are_neutralised_in_every_csv(exam, tmp_path, runner):
    ids = [*FORMULA_IDS, "-1.5"]
    answers = write(tmp_path / "answers.csv", "student_id,version\n" + "".join(
        f'"{s}",1\n' if '"' not in s else "" for s in ids))
    roster = write(tmp_path / "roster.csv", "id,name\n" + "".join(f'"{s}",x\n' for s in ids) + "r9,=HYPERLINK(1)\n")
    grade_files(exam, answers, tmp_path / "grades", roster=roster)
    type_scores(tmp_path / "grades", {("=cmd|' /C calc'!A0", CONCEPT): "=1+1", ("-1.5", DRAW): "-1",
                                      ("+1", DRAW): "2"})
    run = grade_files(exam, answers, tmp_path / "grades", roster=roster)
    head, rows = read_grades(tmp_path / "grades")
    assert [r["student_id"] for r in rows] == ["'=cmd|' /C calc'!A0", "'+1", "'@SUM(A1)", "'-2+3", "-1.5"]
    assert rows[0][CONCEPT] == "'=1+1" and rows[4][DRAW] == "-1" and rows[1]["total"] == "2"
    assert (tmp_path / "grades" / "absent.csv").read_text(encoding="utf-8").splitlines() == [
        "student_id,name", "r9,'=HYPERLINK(1)"]
    assert [(p.student_id, p.typed) for p in run.ta_problems] == [("=cmd|' /C calc'!A0", "=1+1"), ("-1.5", "-1")]
    assert csv_cells(tmp_path / "grades" / "ta-problems.csv")[6:8] == ["'=cmd|' /C calc'!A0", CONCEPT]
    assert csv_cells(tmp_path / "grades" / "gradebook.csv") == [
        "student_id", "total", "q1", "'=cmd|' /C calc'!A0", "0", "0", "'+1", "2", "2", "'@SUM(A1)", "0", "0",
        "'-2+3", "0", "0", "-1.5", "0", "0"]
    for name in ("grades.csv", "gradebook.csv", "absent.csv", "ta-problems.csv"):
        assert_no_formula(tmp_path / "grades" / name)
    # what qgen generate and sample-answers write
    students = [Student("=cmd|' /C calc'!A0", "+Ann"), Student("-1.5", "@Bo")]
    out = write_exam_set(load_bank(BANKS / "quiz.yaml"), ["1"], tmp_path / "set", make_pdf=False,
                         options=Options(roster=students)).out
    assert csv_cells(out / "roster-versions.csv")[6:8] == ["'=cmd|' /C calc'!A0", "'+Ann"]
    assert csv_cells(out / "roster-versions.csv")[12:14] == ["-1.5", "'@Bo"]
    assert runner.invoke(main, ["sample-answers", str(out), "--students", "4"]).exit_code == 0
    sample = csv_cells(out / "answers-sample.csv")
    assert any(NUMBER.fullmatch(c) and c.startswith("-") for c in sample)  # negative answers stay numbers
    for name in ("roster-versions.csv", "answers-template.csv", "answers-sample.csv"):
        assert_no_formula(out / name)


@pytest.mark.parametrize("mask,file_mode,dir_mode", [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_outputs_follow_the_umask(exam, tmp_path, runner, mask, file_mode, dir_mode):
    from qgen.export import write_export

    old = os.umask(mask)
    try:
        answers = first_run(exam, tmp_path)
        grade_files(exam, answers, tmp_path / "grades")  # the second run replaces the folder
        assert runner.invoke(main, ["sample-answers", str(exam), "--out", str(tmp_path / "s.csv")]).exit_code == 0
        write_export(b"x", tmp_path / "export" / "x.json")
    finally:
        os.umask(old)
    grades = tmp_path / "grades"
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode)
             for p in [grades, *grades.rglob("*"), tmp_path / "s.csv", tmp_path / "export" / "x.json"]}
    assert modes["grades"] == modes["grades/feedback"] == dir_mode
    assert {m for name, m in modes.items() if name not in ("grades", "grades/feedback")} == {file_mode}
    assert len(modes) == 2 + 3 + 3 + 2  # folders, grades/gradebook/report, 3 feedback pages, s.csv, x.json


# -- D: the folder is replaced as a whole ---------------------------------------------------------
def test_a_failure_mid_write_leaves_the_old_folder(exam, tmp_path, monkeypatch, runner):
    answers = first_run(exam, tmp_path)
    before = snapshot(tmp_path / "grades")
    real, calls = safe_write.create, []

    def failing(path, data):
        calls.append(path)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(safe_write, "create", failing)
    more = write(tmp_path / "more.csv", BLANK + "s4,2\n")
    with pytest.raises(QgenError) as e:
        grade_files(exam, more, tmp_path / "grades")
    assert str(e.value) == (f"{tmp_path / 'grades'}: cannot be written (No space left on device); "
                            "the folder was left as it was")
    assert snapshot(tmp_path / "grades") == before and litter(tmp_path) == []
    calls.clear()
    line = one_line_error(runner.invoke(main, ["grade", str(exam), str(more), "--out", str(tmp_path / "grades"), "-q"]))
    assert "No space left on device" in line and snapshot(tmp_path / "grades") == before


KILLED = """
import os, signal, sys
from pathlib import Path
from qgen import safe_write
from qgen.grade import files
from qgen.grade.files import grade_files
files.report_html = lambda *args: "<!doctype html><title>report</title>"
real, calls = safe_write.create, []
def dying(path, data):
    calls.append(path)
    if len(calls) > 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(path, data)
safe_write.create = dying
grade_files(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
"""


def test_a_kill_mid_write_leaves_the_old_folder_and_the_next_run_cleans_up(exam, tmp_path):
    answers = first_run(exam, tmp_path)
    before = snapshot(tmp_path / "grades")
    more = write(tmp_path / "more.csv", BLANK + "s4,2\n")
    got = subprocess.run([sys.executable, "-c", KILLED, str(exam), str(more), str(tmp_path / "grades")],
                         cwd=ROOT, capture_output=True, timeout=60)
    assert got.returncode == -9
    assert snapshot(tmp_path / "grades") == before
    # the killed run's staging folder, and its lock (stale: its process is gone)
    assert [re.sub(r"qgen-\d+-.*", "qgen-…", n) for n in litter(tmp_path)] == [".grades.lock", ".grades.qgen-…"]
    grade_files(exam, more, tmp_path / "grades")
    assert litter(tmp_path) == [] and len(read_grades(tmp_path / "grades")[1]) == 4


def test_without_an_atomic_exchange_the_old_folder_is_put_back(tmp_path, monkeypatch):
    monkeypatch.setattr(safe_write, "_exchange", lambda a, b: False)
    target = tmp_path / "grades"
    safe_write.replace_folder(target, {"a.txt": "old"})
    safe_write.replace_folder(target, {"b.txt": "new", "sub/c.txt": "new"})
    assert snapshot(target) == {"b.txt": b"new", "sub/c.txt": b"new"} and litter(tmp_path) == []
    # a run killed between its two renames: the old folder moved aside, the new one not yet in
    os.rename(target, tmp_path / ".grades.qgen-99999999-abcd-old")
    safe_write.clean_leftovers(target)
    assert snapshot(target) == {"b.txt": b"new", "sub/c.txt": b"new"} and litter(tmp_path) == []


def test_the_folder_holds_only_what_grade_writes(exam, tmp_path, runner):
    answers = write(tmp_path / "answers.csv", BLANK)
    roster = write(tmp_path / "roster.csv", "id\ns1\nr2\n")
    grade_files(exam, answers, tmp_path / "grades", roster=roster)
    assert (tmp_path / "grades" / "absent.csv").exists()
    grade_files(exam, answers, tmp_path / "grades")
    assert sorted(p.name for p in (tmp_path / "grades").iterdir()) == [
        "feedback", "gradebook.csv", "grades.csv", "report.html"]  # no stale absent.csv
    write(tmp_path / "grades" / "notes.txt", "mine")
    line = one_line_error(runner.invoke(main, ["grade", str(exam), str(answers), "--out", str(tmp_path / "grades")]))
    assert "notes.txt" in line and "replaced as a whole" in line
    (tmp_path / "grades" / "notes.txt").rename(tmp_path / "grades" / "~$grades.csv")
    line = one_line_error(runner.invoke(main, ["grade", str(exam), str(answers), "--out", str(tmp_path / "grades")]))
    assert "is open in a spreadsheet" in line
    line = one_line_error(runner.invoke(main, ["grade", str(exam), str(answers), "--out", str(exam)]))
    assert "exam-1.tex" in line and (exam / "manifest.json").exists()


# -- E: one-line errors ------------------------------------------------------------------------------
def test_cli_path_errors_are_one_line(exam, tmp_path, runner, monkeypatch):
    line = one_line_error(runner.invoke(main, ["grade", str(exam), str(tmp_path / "nope.csv")]))
    assert line == f"Error: {tmp_path / 'nope.csv'}: no such file"
    line = one_line_error(runner.invoke(main, ["grade", str(exam), str(tmp_path)]))
    assert line == f"Error: {tmp_path}: is a folder; give the CSV file in it"
    line = one_line_error(runner.invoke(main, ["sample-answers", str(exam), "--out", str(tmp_path)]))
    assert line == f"Error: {tmp_path}: is a folder; give a file name"
    answers = write(tmp_path / "answers.csv", BLANK)

    def denied(*args, **kw):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(safe_write.tempfile, "mkdtemp", denied)  # what a read-only parent folder does
    line = one_line_error(runner.invoke(main, ["grade", str(exam), str(answers), "--out", str(tmp_path / "g"), "-q"]))
    assert line == f"Error: {tmp_path}: cannot write there (Permission denied); choose another output folder " \
                   "or make it writable"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_a_one_line_error(exam, tmp_path, runner):
    answers = first_run(exam, tmp_path)
    (tmp_path / "grades").chmod(0o555)
    try:
        line = one_line_error(runner.invoke(main, ["grade", str(exam), str(answers), "--out",
                                                   str(tmp_path / "grades")]))
    finally:
        (tmp_path / "grades").chmod(0o755)
    assert "read-only" in line
