"""The whole grading flow on every shipped bank: generate -> sample-answers -> grade, as a user runs it.

A perfect student (every auto-graded cell typed as the key prints it) and a second one typing
other correct forms score the maximum of every version; random and hostile cells in every
column of every bank are judged in bounded time, never raise, and give one output row per row.
"""

from __future__ import annotations

import csv
import io
import random
import time
from pathlib import Path

import pytest

from qgen.bank import load_bank
from qgen.cli import main
from qgen.grade.columns import FIXED, answer_columns, part_columns
from qgen.grade.feedback import answer_text
from qgen.grade.files import grade_files, load_manifest
from qgen.publish import write_exam_set
from tests.conftest import BANKS

SHIPPED = sorted(BANKS.glob("*.yaml"))


@pytest.fixture(scope="module", params=[b.stem for b in SHIPPED])
def exam(request, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp(request.param) / "out"
    write_exam_set(load_bank(BANKS / f"{request.param}.yaml"), ["1", "2"], out, make_pdf=False)
    return out


def _typed_right(part: dict, alternative: bool) -> list[str]:
    """The key as a student types it: as the key prints it, or (alternative) in another correct form."""
    kind, answer = part["kind"], part["answer"]
    if kind == "shape":
        return [f"({answer[0]}, {answer[1]})" if alternative else f"{answer[0]}x{answer[1]}"]
    if kind == "label":
        return [str(answer).upper() if alternative else str(answer)]
    if kind == "integer":
        return [f"{answer}.0" if alternative else str(answer)]
    if kind == "expression":
        accept = part.get("accept") or []
        return [accept[0] if alternative and accept else str(answer).replace("**", "^") if alternative else str(answer)]
    flat = answer if kind == "vector" else [v for row in answer for v in row] if kind == "matrix" else [answer]
    places = part.get("places", 4)
    one = {"kind": "number", "answer": 0, "places": places}
    texts = [answer_text({**one, "answer": v}) for v in flat]
    if alternative:  # full precision, with a unicode minus
        texts = [repr(float(v)).replace("-", "\u2212") for v in flat]
    return texts


def _sheet(manifest: dict, rows: list[dict[str, str]]) -> str:
    header = [*FIXED, *(c.name for c in answer_columns(manifest))]
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *[[r.get(h, "") for h in header] for r in rows]])
    return buf.getvalue()


def _auto_points(version: dict) -> float:
    return sum(p["points"] for q in version["questions"] for p in q["parts"] if p["kind"] != "text")


def test_generate_sample_answers_grade_through_the_cli(exam, runner):
    assert runner.invoke(main, ["sample-answers", str(exam)]).exit_code == 0
    result = runner.invoke(main, ["grade", str(exam), str(exam / "answers-sample.csv"), "-q"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(exam / "grades" / "grades.csv", encoding="utf-8")))
    sample = list(csv.reader(open(exam / "answers-sample.csv", encoding="utf-8")))
    assert len(rows) == len(sample) - 1
    assert sum(r["status"] == "graded" for r in rows) == 30
    # the careless students of the sample include classic slips, which the feedback names
    assert "slip:" in "".join(p.read_text(encoding="utf-8") for p in (exam / "grades" / "feedback").rglob("*.html"))


@pytest.mark.parametrize("alternative", [False, True], ids=["as-printed", "other-forms"])
def test_a_perfect_student_scores_the_maximum_of_every_version(exam, tmp_path, alternative):
    manifest = load_manifest(exam)
    rows = []
    for v in manifest["versions"]:
        row = {"student_id": f"perfect-{v['version']}", "version": v["version"]}
        for q in v["questions"]:
            for part in q["parts"]:
                if part["kind"] == "text":
                    continue
                for col, text in zip(part_columns(q["index"], part), _typed_right(part, alternative)):
                    row[col.name] = text
        rows.append(row)
    answers = tmp_path / "answers.csv"
    answers.write_text(_sheet(manifest, rows), encoding="utf-8")
    run = grade_files(exam, answers, tmp_path / "grades")
    for g, v in zip(run.graded, manifest["versions"]):
        lost = [(s.column, s.typed, s.status, s.note) for s in g.scores if s.earned is not None and s.earned < s.points]
        assert g.status == "graded" and not lost
        assert g.total == pytest.approx(_auto_points(v))


HOSTILE = ["99^99", "-1e300", "1e-300", "exp(exp(exp(100)))", "x^x^x^x^x^x", "z^z^z^z^z^z", "9**9**9", "(" * 300 + "1" + ")" * 300,
           "factorial(10^6)", "1e300", "-1e308", "9" * 5000, "-" + "9" * 400, "__import__('os').system('true')",
           "=cmd|' /C calc'!A0", "[" * 200, "1/0", "0/0", "nan", "inf", "-inf", "1e-320", "Ω" * 50, "\x00", "💥",
           "0,5", "1,250", "73%", "[1; 2; 3; 4; 5; 6; 7]", "yes", "(3, 2)", "x" * 3000, "sigma(" * 30, "log(0)",
           "sqrt(-1)", "1 if z > 0 else 0", "{1 if z>0; 0 otherwise}", "max(0, z)", "g*(1-g)", "ln(-5)"]


def _random_cell(rng: random.Random) -> str:
    alphabet = "0123456789.,;-+eE^*/()[] xzg\u2212%" + "abc"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 25)))


def test_random_and_hostile_cells_never_stop_the_class(exam, tmp_path):
    manifest = load_manifest(exam)
    columns = [c.name for c in answer_columns(manifest)]
    rng = random.Random(11)
    rows = []
    for n, text in enumerate(HOSTILE):  # every hostile text in every column
        for v in manifest["versions"]:
            rows.append({"student_id": f"h{n}-{v['version']}", "version": v["version"], **{c: text for c in columns}})
    for n in range(40):
        rows.append({"student_id": f"r{n}", "version": rng.choice(["1", "2"]),
                     **{c: _random_cell(rng) for c in columns if rng.random() < 0.7}})
    answers = tmp_path / "answers.csv"
    answers.write_text(_sheet(manifest, rows), encoding="utf-8")
    start = time.perf_counter()
    run = grade_files(exam, answers, tmp_path / "grades")
    elapsed = time.perf_counter() - start
    assert len(run.graded) == len(rows)
    assert all(g.status == "graded" for g in run.graded)
    errors = [(g.student_id, s.column, s.note) for g in run.graded for s in g.scores if s.status == "error"]
    assert not errors
    cells = len(rows) * len(columns)
    assert elapsed < 5 + cells * 0.002, f"{elapsed:.1f} s for {cells} cells"  # milliseconds a cell, not seconds
