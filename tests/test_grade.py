"""`qgen grade`: hand-made answer files with the scores they must get (seed 001 §3 pinned).

Reference answers (seeds/INDEX.md): z1 = [3, −2], a1 = [3, 0], z2 = −5, ŷ = 0.0067, class 0,
loss 0.9867, ∂ℓ/∂ŷ = −1.9866, ∂ŷ/∂z2 = 0.0066, ∂z2/∂W2,1,1 = 3, ∂J/∂W2,1,1 = −0.0396, …
"""

from __future__ import annotations

import csv
import io

import pytest

from qgen.bank import load_bank
from qgen.cli import main
from qgen.errors import SubmissionError
from qgen.grade.files import grade_files, load_manifest
from qgen.publish import write_exam_set
from tests.conftest import BANKS, by_position

RIGHT = {
    "q1.matrices": "2", "q1.shape.W1": "2x3", "q1.shape.W2": "1x3", "q1.z1.1": "3", "q1.z1.2": "-2",
    "q1.a1.1": "3", "q1.a1.2": "0", "q1.z2": "-5", "q1.yhat": "0.0067", "q1.class": "0", "q1.loss": "0.9867",
    "q1.factor.dl_dyhat[1]": "-1.9866", "q1.factor.dyhat[1]_dz2[1]": "0.0066", "q1.factor.dz2[1]_dW2[1,1]": "3",
    "q1.grad.W2[1,1]": "-0.0396", "q1.factor.dz2[1]_da1[1]": "-2", "q1.factor.da1[1]_dz1[1]": "1",
    "q1.factor.dz1[1]_dW1[1,2]": "5", "q1.grad.W1[1,2]": "0.1321", "q1.update.W2[1,1]": "-1.9208",
    "q1.update.W1[1,2]": "-1.2641", "q1.count.linear1": "6", "q1.count.activation1": "0", "q1.count.total": "9",
}
AUTO_POINTS = 26  # 32 points, 6 of them graded by hand (draw 2, chains 1 + 1, concept 3 … see the bank)


@pytest.fixture(scope="module")
def exam(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exam")
    bank = folder / "bank.yaml"
    bank.write_text(f"exam: {{id: g, title: G}}\nquestions:\n  - family: mlp-backprop\n"
                    f"    params: {BANKS / 'pins' / 'seed-001-s3.yaml'}\n", encoding="utf-8")
    out = write_exam_set(load_bank(bank), ["1"], folder / "out", make_pdf=False).out
    NAMES.update(by_position(load_manifest(out)))  # the tests name columns by part id; the files by position
    return out


NAMES: dict[str, str] = {}


def col(name: str) -> str:
    """The positional column of a part-id name (`q1.concept` -> `q1.x`)."""
    return NAMES.get(name, name)


def answers(tmp_path, rows, sep=",", bom=False, crlf=False, header=None):
    header = header or ["student_id", "version", *RIGHT]
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\r\n" if crlf else "\n").writerows(
        [[col(h) for h in header], *[[r.get(h, "") for h in header] for r in rows]])
    path = tmp_path / "answers.csv"
    path.write_bytes((("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8"))
    return path


def grades(exam, path, tmp_path, **kw):
    run = grade_files(exam, path, tmp_path / "grades", **kw)
    back = {new: old for old, new in NAMES.items()}
    with open(run.files[0], encoding="utf-8", newline="") as f:
        return {r["student_id"]: {back.get(k, k): v for k, v in r.items()} for r in csv.DictReader(f)}, run


def test_all_correct_earns_every_auto_graded_point(exam, tmp_path):
    rows, _ = grades(exam, answers(tmp_path, [{"student_id": "s1", "version": "1", **RIGHT}]), tmp_path)
    assert rows["s1"]["status"] == "graded" and float(rows["s1"]["total"]) == AUTO_POINTS


def test_manual_parts_are_empty_score_columns(exam, tmp_path):
    rows, _ = grades(exam, answers(tmp_path, [{"student_id": "s1", "version": "1", **RIGHT}]), tmp_path)
    assert rows["s1"]["q1.concept"] == "" and rows["s1"]["q1.draw"] == ""


def test_all_blank_scores_zero(exam, tmp_path):
    rows, run = grades(exam, answers(tmp_path, [{"student_id": "s2", "version": "1"}]), tmp_path)
    assert float(rows["s2"]["total"]) == 0 and {s.status for s in run.graded[0].scores} == {"blank", "manual"}


def test_error_carried_forward_credits_a_consistent_chain(exam, tmp_path):
    # z2 = −4 instead of −5; then ŷ = σ(−4) = 0.0180 and loss (1 − 0.0180)² = 0.9644 are right for it
    row = {"student_id": "s3", "version": "1", **RIGHT, "q1.z2": "-4", "q1.yhat": "0.0180", "q1.loss": "0.9644"}
    _, run = grades(exam, answers(tmp_path, [row]), tmp_path)
    status = {s.part: s.status for s in run.graded[0].scores}
    assert (status["z2"], status["yhat"], status["loss"]) == ("wrong", "ecf", "ecf")


def test_ecf_can_be_switched_off(exam, tmp_path):
    row = {"student_id": "s3", "version": "1", **RIGHT, "q1.z2": "-4", "q1.yhat": "0.0180"}
    _, run = grades(exam, answers(tmp_path, [row]), tmp_path, ecf_credit=0)
    assert {s.part: s.earned for s in run.graded[0].scores}["yhat"] == 0


def test_a_zero_that_empties_the_chain_earns_no_ecf(exam, tmp_path):
    row = {"student_id": "s4", "version": "1", **RIGHT, "q1.factor.dyhat[1]_dz2[1]": "0", "q1.grad.W2[1,1]": "0"}
    _, run = grades(exam, answers(tmp_path, [row]), tmp_path)
    assert {s.part: s.status for s in run.graded[0].scores}["grad.W2[1,1]"] == "wrong"


def test_every_accepted_number_format(exam, tmp_path):
    typed = {"q1.z1.2": "\u22122", "q1.yhat": ".0067", "q1.loss": "0,9867", "q1.factor.dl_dyhat[1]": "-1.9866e0",
             "q1.update.W2[1,1]": "-48/25", "q1.shape.W1": "(2, 3)", "q1.shape.W2": "1×3"}
    rows, _ = grades(exam, answers(tmp_path, [{"student_id": "s5", "version": "1", **RIGHT, **typed}]), tmp_path)
    assert float(rows["s5"]["total"]) == AUTO_POINTS


def test_a_vector_typed_into_one_cell(exam, tmp_path):
    header = ["student_id", "version", "q1.z1", "q1.a1"]
    path = answers(tmp_path, [{"student_id": "s6", "version": "1", "q1.z1": "[3, -2]", "q1.a1": "3; 1"}], header=header)
    _, run = grades(exam, path, tmp_path)
    got = {s.part: s.earned for s in run.graded[0].scores}
    assert (got["z1"], got["a1"]) == (2, 1)  # a1: one of two entries right


def test_status_for_every_kind_of_bad_row(exam, tmp_path):
    rows = [{"student_id": "s7", "version": "1", **RIGHT}, {"student_id": "s7", "version": "1"},
            {"student_id": "s8", "version": "9"}, {"student_id": "", "version": "1"}]
    table, run = grades(exam, answers(tmp_path, rows), tmp_path)
    assert [g.status for g in run.graded] == ["graded", "duplicate", "unknown version", "malformed: line 5: no student id"]


def test_garbage_cells_are_malformed_parts_not_lost_rows(exam, tmp_path):
    row = {"student_id": "s9", "version": "1", **RIGHT, "q1.loss": "about one", "q1.z2": "__import__('os')"}
    _, run = grades(exam, answers(tmp_path, [row]), tmp_path)
    status = {s.part: s.status for s in run.graded[0].scores}
    assert run.graded[0].status == "graded" and status["loss"] == status["z2"] == "malformed"


def test_bom_crlf_and_semicolons(exam, tmp_path):
    row = {"student_id": "s10", "version": "1", **RIGHT, "q1.loss": "0,9867"}
    rows, _ = grades(exam, answers(tmp_path, [row], sep=";", bom=True, crlf=True), tmp_path)
    assert float(rows["s10"]["total"]) == AUTO_POINTS


def test_lms_headers_through_a_map(exam, tmp_path):
    header = ["Student ID", "Exam version", "q1.z2"]
    path = answers(tmp_path, [{"Student ID": "s11", "Exam version": "1", "q1.z2": "-5"}], header=header)
    (tmp_path / "map.yaml").write_text("Student ID: student_id\nExam version: version\n", encoding="utf-8")
    rows, run = grades(exam, path, tmp_path, mapping=tmp_path / "map.yaml")
    assert float(rows["s11"]["total"]) == 1 and col("q1.loss") in run.missing


def test_rerun_keeps_the_tas_manual_scores(exam, tmp_path):
    path = answers(tmp_path, [{"student_id": "s12", "version": "1", **RIGHT}])
    grade_files(exam, path, tmp_path / "grades")
    with open(tmp_path / "grades" / "grades.csv", encoding="utf-8", newline="") as f:
        head, cells = list(csv.reader(f))
    cells[head.index(col("q1.concept"))] = "2.5"  # what a TA types in after the first run
    with open(tmp_path / "grades" / "grades.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([head, cells])
    rows, _ = grades(exam, path, tmp_path)
    assert rows["s12"]["q1.concept"] == "2.5" and float(rows["s12"]["total"]) == AUTO_POINTS + 2.5


def test_gradebook_has_id_and_total(exam, tmp_path):
    _, run = grades(exam, answers(tmp_path, [{"student_id": "s13", "version": "1", **RIGHT}]), tmp_path)
    assert run.files[1].read_text(encoding="utf-8").splitlines() == [  # one question: q1 is the total
        "student_id,total,q1", f"s13,{AUTO_POINTS},{AUTO_POINTS}"]


def test_a_file_without_the_id_column_is_a_clear_error(exam, tmp_path):
    path = answers(tmp_path, [{"name": "x"}], header=["name", "version"])
    with pytest.raises(SubmissionError) as exc:
        grade_files(exam, path, tmp_path / "grades")
    assert "student_id" in str(exc.value) and "--map" in str(exc.value)


def test_cli_grade_summarizes(exam, tmp_path, runner):
    path = answers(tmp_path, [{"student_id": "s14", "version": "1", **RIGHT}, {"student_id": "s15", "version": "7"}])
    result = runner.invoke(main, ["grade", str(exam), str(path), "--out", str(tmp_path / "g")])
    assert result.exit_code == 0 and "1 graded" in result.output and "1 unknown version" in result.output


def _one_part(part):
    from qgen.grade.score import Question, score_question

    record = {"index": 1, "family": "none", "parts": [dict(part, points=2)]}
    return lambda typed: score_question(Question(record), {f"q1.{part['id']}": typed})[0]


@pytest.mark.parametrize("typed,status", [
    ("2x cos(x) - (x^2 + 1) sin(x)", "correct"), ("-sin(x)*(1 + x**2) + 2*x*cos(x)", "correct"),
    ("2x cos(x) + (x^2 + 1) sin(x)", "wrong"), ("import os", "malformed"),
])
def test_symbolic_answers_by_equivalence(typed, status):
    score = _one_part({"id": "derivative", "kind": "expression", "answer": "2*x*cos(x) - (x**2 + 1)*sin(x)"})
    assert score(typed).status == status


def test_a_probability_may_be_typed_as_a_percentage():
    score = _one_part({"id": "yhat", "kind": "number", "answer": 0.7311, "places": 4, "keys": ["yhat[1]"]})
    assert (score("73.11%").status, score("73.11").status) == ("correct", "wrong")


def test_bank_tolerance_and_ecf_reach_the_grader(tmp_path):
    bank = tmp_path / "bank.yaml"
    bank.write_text(f"exam: {{id: g, title: G, ecf: 0.5}}\nquestions:\n  - family: mlp-backprop\n"
                    f"    params: {BANKS / 'pins' / 'seed-001-s3.yaml'}\n    tolerance: {{loss: {{abs: 0.1}}}}\n",
                    encoding="utf-8")
    out = write_exam_set(load_bank(bank), ["1"], tmp_path / "out", make_pdf=False).out
    row = {"student_id": "t", "version": "1", **RIGHT, "q1.loss": "0.9", "q1.z2": "-4", "q1.yhat": "0.0180"}
    _, run = grades(out, answers(tmp_path, [row]), tmp_path)
    got = {s.part: (s.status, s.earned) for s in run.graded[0].scores}
    assert got["loss"] == ("correct", 1) and got["yhat"] == ("ecf", 0.5)


def test_bank_tolerance_must_name_a_numeric_part(tmp_path):
    from qgen.errors import BankError
    from qgen.generate import build_versions

    bank = tmp_path / "bank.yaml"
    bank.write_text("exam: {id: g, title: G}\nquestions:\n  - family: mlp-backprop\n    tolerance: {nothing: {abs: 1}}\n",
                    encoding="utf-8")
    with pytest.raises(BankError) as exc:
        build_versions(load_bank(bank), ["1"])
    assert "tolerance" in str(exc.value) and "bank.yaml:3" in str(exc.value)


def test_the_sample_class_exercises_every_status(tmp_path, runner):
    out = write_exam_set(load_bank(BANKS / "quiz.yaml"), ["1", "2"], tmp_path / "demo", make_pdf=False).out
    assert runner.invoke(main, ["sample-answers", str(out), "--students", "12"]).exit_code == 0
    run = grade_files(out, out / "answers-sample.csv", tmp_path / "grades")
    statuses = {g.status for g in run.graded} | {s.status for g in run.graded for s in g.scores}
    assert {"graded", "duplicate", "unknown version", "correct", "ecf"} <= statuses and len(run.graded) == 14


def test_the_sample_is_the_same_for_the_same_seed(tmp_path):
    from qgen.grade.files import load_manifest
    from qgen.grade.simulate import sample_answers

    out = write_exam_set(load_bank(BANKS / "quiz.yaml"), ["1"], tmp_path / "demo", make_pdf=False).out
    assert sample_answers(load_manifest(out), 5, seed=3) == sample_answers(load_manifest(out), 5, seed=3)


def test_a_hand_made_semicolon_sheet_with_bom_and_crlf(exam, tmp_path):
    from tests.conftest import ROOT

    rows, run = grades(exam, ROOT / "tests" / "fixtures" / "answers-semicolon.csv", tmp_path)
    assert [(g.student_id, g.status) for g in run.graded] == [
        ("anna", "graded"), ("ben", "graded"), ("cleo", "graded"), ("dev", "graded"),
        ("eve", "unknown version"), ("anna", "duplicate")]
    totals = [g.total for g in run.graded[:4]]
    assert totals == [9, 8, 0, 8] and float(rows["ben"]["total"]) == 8
    assert run.extra == ["comment"] and col("q1.grad.W2[1,1]") in run.missing


@pytest.mark.parametrize("cells,part,slip", [
    ({"q1.shape.W1": "3x2"}, "shape.W1", "a transposed shape"),
    ({"q1.update.W2[1,1]": "-0.9208"}, "update.W2[1,1]", None),  # not a known slip: no label
    ({"q1.update.W2[1,1]": "-2.0792"}, "update.W2[1,1]", "sign of the update flipped"),  # −2 + 2·(−0.0396)
])
def test_wrong_answers_are_labelled_with_the_slip_they_match(exam, tmp_path, cells, part, slip):
    _, run = grades(exam, answers(tmp_path, [{"student_id": "d", "version": "1", **RIGHT, **cells}]), tmp_path)
    score = {s.part: s for s in run.graded[0].scores}[part]
    assert score.earned == 0 and score.note == (f"slip: {slip}" if slip else "")


def test_roster_lists_absent_students(exam, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,section\nr1,Ana O'Brien & Søn,A\nr2,Bo,B\n", encoding="utf-8")
    path = answers(tmp_path, [{"student_id": "r1", "version": "1", **RIGHT}])
    run = grade_files(exam, path, tmp_path / "g", roster=roster)
    assert run.absent == [("r2", "Bo")] and (tmp_path / "g" / "absent.csv").read_text().splitlines()[1] == "r2,Bo"


def test_a_bank_may_give_credit_for_a_diagnosed_slip(tmp_path):
    bank = tmp_path / "bank.yaml"
    bank.write_text(f"exam: {{id: g, title: G, slip_credit: 0.5}}\nquestions:\n  - family: mlp-backprop\n"
                    f"    params: {BANKS / 'pins' / 'seed-001-s3.yaml'}\n", encoding="utf-8")
    out = write_exam_set(load_bank(bank), ["1"], tmp_path / "out", make_pdf=False).out
    row = {"student_id": "t", "version": "1", **RIGHT, "q1.update.W2[1,1]": "-2.0792", "q1.z2": "7"}
    _, run = grades(out, answers(tmp_path, [row]), tmp_path)
    got = {s.part: s.earned for s in run.graded[0].scores}
    assert got["update.W2[1,1]"] == 0.5 and got["z2"] == 0


def test_a_file_saved_in_latin_1_is_a_clear_error(exam, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("student_id,version,q1.z2\nS\xf8ren,1,-5\n".encode("latin-1"))
    with pytest.raises(SubmissionError) as exc:
        grade_files(exam, path, tmp_path / "g")
    assert "latin1.csv" in str(exc.value) and "UTF-8" in str(exc.value)
