"""answers-template.csv: one column per auto-graded answer cell, the same names the grader reads."""

from __future__ import annotations

import csv

from qgen.bank import load_bank
from qgen.generate import build_versions, manifest
from qgen.grade.columns import (
    Column,
    answer_columns,
    number_parts,
    part_columns,
    template_header,
)
from qgen.publish import write_exam_set
from tests.conftest import BANKS


def test_a_number_part_is_one_column():
    assert [c.name for c in part_columns(3, {"id": "loss", "kind": "number", "answer": 0.5})] == ["q3.loss"]


def test_a_matrix_has_a_column_per_entry_row_by_row():
    cols = part_columns(1, {"id": "W", "kind": "matrix", "answer": [[1, 2], [3, 4]]})
    assert [c.name for c in cols] == ["q1.W.1.1", "q1.W.1.2", "q1.W.2.1", "q1.W.2.2"]


def test_a_vector_entry_knows_the_column_of_the_whole_vector():
    assert Column(2, "z1", (2,)).whole == "q2.z1"


def test_manual_parts_have_no_answer_column():
    assert part_columns(1, {"id": "draw", "kind": "text", "answer": ""}) == []


def test_every_auto_graded_cell_of_every_version_has_a_column():
    bank = load_bank(BANKS / "midterm.yaml")
    record = manifest(bank, build_versions(bank, ["1", "2", "3"]))
    names = {c.name for c in answer_columns(record)}
    cells = sum(len(part_columns(q["index"], p)) for q in record["versions"][0]["questions"] for p in q["parts"])
    assert len(names) == cells  # positional: every version has the same columns


def test_generate_writes_the_template(tmp_path):
    bank = load_bank(BANKS / "quiz.yaml")
    result = write_exam_set(bank, ["1", "2"], tmp_path / "out", make_pdf=False)
    with open(result.out / "answers-template.csv", encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert header[:2] == ["student_id", "version"] and "q1.j" in header  # (j): the loss
    assert header == template_header({"versions": [{"version": v.id, "questions": [number_parts(
        {"index": 1, "parts": [p.manifest() for p in v.questions[0].parts]})]} for v in result.versions]})
