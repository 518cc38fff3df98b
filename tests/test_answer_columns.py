"""Issue 14: answer columns by position, the same for every version; answers read from Moodle, Canvas, Google Forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qgen.bank import load_bank
from qgen.generate import build_versions, manifest
from qgen.grade.columns import FIXED, part_columns, template_header
from qgen.grade.files import grade_files
from qgen.grade.lms import detect, to_qgen
from qgen.grade.sheet import grade_sheet, known_columns, read_sheet
from tests.conftest import BANKS

LMS = Path(__file__).parent / "fixtures" / "lms"
SHIPPED = sorted(p.name for p in BANKS.glob("*.yaml") if "questions:" in p.read_text(encoding="utf-8"))


def _columns(version):
    return [c.name for q in version["questions"] for p in q["parts"] for c in part_columns(q["index"], p)]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_version_of_a_shipped_bank_has_the_same_columns(name):
    bank = load_bank(BANKS / name)
    record = manifest(bank, build_versions(bank, [str(i) for i in range(1, 51)], jobs=1))
    first = _columns(record["versions"][0])
    assert all(_columns(v) == first for v in record["versions"])
    header = template_header(record)
    assert header == [*FIXED, *first]  # the template has exactly one version's columns
    # each part record says its letter and columns, the columns in the order of its Trace keys
    for v in record["versions"]:
        for q in v["questions"]:
            for p in q["parts"]:
                assert p["columns"] == [c.name for c in part_columns(q["index"], p)]
                if p.get("keys") and p["kind"] in ("number", "vector", "matrix"):
                    assert len(p["keys"]) == len(p["columns"])


def test_part_ids_differ_between_versions_but_columns_do_not():
    bank = load_bank(BANKS / "quiz.yaml")
    record = manifest(bank, build_versions(bank, [str(i) for i in range(1, 9)], jobs=1))
    ids = {tuple(p["id"] for p in v["questions"][0]["parts"]) for v in record["versions"]}
    assert len(ids) > 1  # the asked weights differ (grad.W2[1,2] in one version, grad.W2[1,1] in another)
    assert len({tuple(_columns(v)) for v in record["versions"]}) == 1


def _old(record):
    """A manifest as qgen wrote it before positions: no letter, no columns."""
    return {**record, "versions": [{**v, "questions": [{**q, "parts": [
        {k: x for k, x in p.items() if k not in ("letter", "columns")} for p in q["parts"]]}
        for q in v["questions"]]} for v in record["versions"]]}


def test_an_old_manifest_still_grades_with_its_own_column_names():
    bank = load_bank(BANKS / "quiz.yaml")
    record = _old(manifest(bank, build_versions(bank, ["1"], jobs=1)))
    part = record["versions"][0]["questions"][0]["parts"][4]
    assert part["id"] == "z1" and "q1.z1.1" in known_columns(record)
    text = "student_id,version,q1.z1.1,q1.z1.2\ns1,1,{},{}\n".format(*part["answer"])
    graded = grade_sheet(record, read_sheet(text, known_columns(record)))
    z1 = next(s for s in graded[0].scores if s.part == "z1")
    assert z1.status == "correct" and z1.column == "q1.z1"


def test_an_answer_in_a_column_the_version_lacks_is_reported():
    bank = load_bank(BANKS / "quiz.yaml")
    record = _old(manifest(bank, build_versions(bank, ["1", "4"], jobs=1)))
    ids = {v["version"]: {p["id"] for p in v["questions"][0]["parts"]} for v in record["versions"]}
    other = sorted(ids["4"] - ids["1"])
    other = next(i for i in other if i.startswith("grad."))
    text = f"student_id,version,\"q1.{other}\"\ns1,1,0.5\n"
    graded = grade_sheet(record, read_sheet(text, known_columns(record)))
    assert graded[0].status == "graded" and f"q1.{other}" in graded[0].note and graded[0].note.startswith("1 answer")


@pytest.fixture(scope="module")
def lms_exam(tmp_path_factory):
    """The exam the fixtures were written for: banks/quiz.yaml, versions 1 and 2, and who sat which."""
    bank = load_bank(BANKS / "quiz.yaml")
    record = manifest(bank, build_versions(bank, ["1", "2"], jobs=1))
    versions = json.loads((LMS / "versions.json").read_text(encoding="utf-8"))
    record["students"] = [{"id": sid, "version": v} for sid, v in versions.items()]
    out = tmp_path_factory.mktemp("lms")
    (out / "manifest.json").write_text(json.dumps(record), encoding="utf-8")
    return out, record


def _totals(exam_dir, answers, out):
    run = grade_files(exam_dir, answers, out)
    return run, {g.student_id: (g.version, g.status, g.total) for g in run.graded}


@pytest.mark.parametrize("name, kind", [("moodle-responses.csv", "moodle"), ("google-forms.csv", "forms"),
                                        ("canvas-student-analysis-v1.csv", "canvas"),
                                        ("canvas-student-analysis-v2.csv", "canvas")])
def test_an_lms_file_grades_like_the_template(lms_exam, tmp_path, name, kind):
    exam_dir, record = lms_exam
    _, expected = _totals(exam_dir, LMS / "template.csv", tmp_path / "a")
    text = (LMS / name).read_text(encoding="utf-8")
    assert to_qgen(text, record)[1] == kind
    run, got = _totals(exam_dir, LMS / name, tmp_path / "b")
    assert run.source == kind and not run.missing
    graded = {sid: t for sid, t in got.items() if t[1] == "graded"}
    assert graded and all(expected[sid] == t for sid, t in graded.items())
    if kind == "canvas":  # one quiz per version: its students, with that version
        assert {t[0] for t in graded.values()} == {name[-5]}
    else:
        assert graded == {sid: t for sid, t in expected.items() if t[1] == "graded"}
    if kind == "moodle":
        assert "s999" not in got  # an attempt still in progress is not a row


def test_the_template_itself_is_read_as_it_always_was():
    assert detect(["student_id", "version", "q1.b"]) == "qgen"
    assert detect(["Timestamp", "student_id", "q1.b"]) == "forms"
