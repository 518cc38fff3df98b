"""`qgen grade`'s pages: report.html (item analysis, plots) and one feedback page per student.

The statistics are checked on a hand-made graded set; the pages on the seed 001 §3 fixture exam of
tests/test_grade.py; report.html is opened in headless Chromium (selenium, /usr/bin/chromedriver)
with every host name unresolvable, so the plots must decode from the page itself.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys

import pytest

from qgen.grade.columns import part_name
from qgen.grade.feedback import feedback_html, file_names
from qgen.grade.files import grade_files, load_manifest
from qgen.grade.report import analyse, histogram, report_html
from qgen.grade.score import PartScore
from qgen.grade.sheet import Graded
from tests.test_grade import RIGHT, answers, exam  # noqa: F401  (exam is the module's fixture)

EVIL = "<script>alert(1)</script>"

# Two parts: a (1 point) and b (2 points); four students.
#            a            b             total  rest for a  rest for b
#   s1       1 correct    2 ecf         3      2           1
#   s2       1 correct    1 partial     2      1           1
#   s3       0 wrong      2 correct     2      2           0
#   s4       0 blank      0 malformed   0      0           0
# difficulty a = 2/4 = 0.5, b = (1 + 0.5 + 1 + 0)/4 = 0.625
# discrimination a = r([1,1,0,0], [2,1,2,0]) = 0.5/√2.75 = 1/√11; b = r([1,.5,1,0], [1,1,0,0]) = 0.25/√0.6875 = 1/√11
MANIFEST = {"exam": {"id": "t", "title": "T"}, "versions": [{"version": "1", "points": 3, "questions": [
    {"index": 1, "title": "Q", "parts": [{"id": "a", "kind": "number", "answer": 0.5, "places": 2, "points": 1},
                                        {"id": "b", "kind": "number", "answer": 2, "places": 2, "points": 2}]}]}]}


def _row(sid, a, b):
    return Graded(sid, "1", "graded", [PartScore(1, "a", 1, *a), PartScore(1, "b", 2, *b)])


GRADED = [
    _row("s1", (1, "correct"), (2, "ecf", "2.1", "right for the student's own earlier answers")),
    _row("s2", (1, "correct"), (1, "partial")),
    _row("s3", (0, "wrong", "-0.5", "slip: sign flipped"), (2, "correct")),
    _row("s4", (0, "blank"), (0, "malformed", "two", "not a number")),
    Graded(EVIL, "1", "duplicate"),
    Graded("s9", "7", "unknown version"),
]


@pytest.fixture(scope="module")
def stats():
    return {p.column: p for p in analyse(MANIFEST, GRADED).parts}


def test_difficulty_is_the_mean_credit_share(stats):
    assert (stats["q1.a"].difficulty, stats["q1.b"].difficulty) == (0.5, 0.625)


def test_discrimination_is_the_item_rest_correlation(stats):
    assert stats["q1.a"].discrimination == pytest.approx(1 / math.sqrt(11))
    assert stats["q1.b"].discrimination == pytest.approx(1 / math.sqrt(11))


def test_discrimination_is_undefined_without_spread():
    same = [_row(f"s{i}", (1, "correct"), (i, "correct")) for i in range(3)]
    assert analyse(MANIFEST, same).parts[0].discrimination is None


def test_counts_per_part(stats):
    a, b = stats["q1.a"], stats["q1.b"]
    assert (a.correct, a.wrong, a.blank, b.partial, b.malformed, b.ecf) == (2, 1, 1, 1, 1, 1)


def test_the_distribution_counts_graded_rows_only():
    assert histogram(analyse(MANIFEST, GRADED).percents) == [1, 0, 0, 0, 0, 0, 2, 0, 0, 1]


def test_the_distribution_follows_the_grades_table_when_given():
    table = [["student_id", "version", "status", "percent"], ["s1", "1", "graded", "45.5"],
             ["x", "1", "duplicate", ""]]
    assert analyse(MANIFEST, GRADED, table).percents == [45.5]


def test_slips_are_counted_from_notes():
    more = GRADED + [_row("s5", (0, "wrong", "1", "slip: σ′ left out"), (0, "wrong", "1", "slip: σ′ left out")),
                     _row("s6", (0, "wrong", "1", "slip: σ′ left out"), (2, "correct"))]
    slips = analyse(MANIFEST, more).slips
    assert [(k, n, dict(c)) for k, n, c in slips] == [("σ′ left out", 3, {"q1.a": 2, "q1.b": 1}),
                                                      ("sign flipped", 1, {"q1.a": 1})]


def test_report_has_no_network_references():
    assert not re.search(r"https?://", report_html(MANIFEST, GRADED), re.I)


def test_report_escapes_a_student_id():
    page = report_html(MANIFEST, GRADED)
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_report_embeds_two_png_plots():
    assert report_html(MANIFEST, GRADED).count('src="data:image/png;base64,iVBOR') == 2


def test_report_lists_the_rows_not_graded():
    page = report_html(MANIFEST, GRADED)
    assert "unknown version" in page and "duplicate" in page


def test_importing_the_grader_does_not_import_matplotlib():
    code = "import sys, qgen.grade.files; print('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_file_names_are_safe_and_distinct():
    names = file_names(["a/b", "a_b", "../x", EVIL])
    assert names == {"a/b": "a_b.html", "a_b": "a_b-2.html", "../x": "_x.html", EVIL: "_script_alert_1___script_.html"}


# --- on the fixture exam (seed 001 §3) ----------------------------------------------------------

CHAIN = {**RIGHT, "q1.z2": "-4", "q1.yhat": "0.0180", "q1.loss": "0.9644"}  # z2 wrong, ŷ and loss right for it


@pytest.fixture(scope="module")
def graded_dir(exam, tmp_path_factory):  # noqa: F811
    folder = tmp_path_factory.mktemp("graded")
    rows = [{"student_id": "s1", "version": "1", **RIGHT}, {"student_id": "s2", "version": "1", **CHAIN},
            {"student_id": "s3", "version": "1", **RIGHT, "q1.a1.2": "1", "q1.loss": "<b>1</b>"},
            {"student_id": EVIL, "version": "1"}, {"student_id": EVIL, "version": "1"},
            {"student_id": "s4", "version": "1"},
            {"student_id": "s5", "version": "5"}]
    return grade_files(exam, answers(folder, rows), folder / "grades")


def test_grade_files_writes_the_report_and_a_page_per_graded_student(graded_dir):
    report, feedback = graded_dir.files[2], graded_dir.files[3]
    assert report.name == "report.html" and sorted(p.name for p in feedback.iterdir()) == [
        "_script_alert_1___script_.html", "s1.html", "s2.html", "s3.html", "s4.html"]


def test_feedback_shows_where_an_ecf_chain_went_wrong(graded_dir):
    page = (graded_dir.files[3] / "s2.html").read_text(encoding="utf-8")
    went = re.search(r'<ul class="went-wrong">(.*?)</ul>', page).group(1)
    assert "First wrong answer: <b>z2</b> (you wrote <code>-4</code>)" in went
    assert re.search(r"Credit carried forward.*<b>yhat</b>, <b>loss</b>", went)


def test_feedback_shows_the_typed_and_the_correct_answer(graded_dir):
    page = (graded_dir.files[3] / "s2.html").read_text(encoding="utf-8")
    row = re.search(r"<tr><td><b>yhat</b>.*?</tr>", page).group(0)
    assert "<code>0.0180</code>" in row and "<code>0.0067</code>" in row and "1 / 1" in row and "(ECF)" in row


def test_feedback_shows_the_diagnosed_slip(exam):  # noqa: F811
    manifest = load_manifest(exam)
    scores = [PartScore(1, "z2", 1, 0.0, "wrong", "5", "slip: sign of z2 flipped"),
              PartScore(1, "yhat", 1, 1.0, "ecf", "0.9933")]
    page = feedback_html(manifest, Graded("s", "1", "graded", scores))
    assert "<li><b>z2</b>: likely slip: sign of z2 flipped.</li>" in page


def test_feedback_escapes_what_students_typed(graded_dir):
    page = (graded_dir.files[3] / "s3.html").read_text(encoding="utf-8")
    assert "<b>1</b></code>" not in page and "<code>&lt;b&gt;1&lt;/b&gt;</code>" in page


def test_feedback_escapes_the_student_id(graded_dir):
    page = (graded_dir.files[3] / "_script_alert_1___script_.html").read_text(encoding="utf-8")
    assert EVIL not in page and "&lt;script&gt;" in page


def test_pages_have_no_network_references(graded_dir):
    pages = [graded_dir.files[2], *graded_dir.files[3].iterdir()]
    assert [p.name for p in pages if re.search(r"https?://", p.read_text(encoding="utf-8"))] == []


def test_a_rerun_replaces_the_feedback_folder(exam, tmp_path):  # noqa: F811
    out = tmp_path / "grades"
    grade_files(exam, answers(tmp_path, [{"student_id": "old", "version": "1", **RIGHT}]), out)
    grade_files(exam, answers(tmp_path, [{"student_id": "new", "version": "1", **RIGHT}]), out)
    assert sorted(p.name for p in out.iterdir()) == ["feedback", "gradebook.csv", "grades.csv", "report.html"]
    assert [p.name for p in (out / "feedback").iterdir()] == ["new.html"]


# --- in a browser -----------------------------------------------------------------------------


def test_report_plots_decode_in_headless_chromium(browser, graded_dir):
    browser.get(graded_dir.files[2].resolve().as_uri())
    widths = browser.execute_script(
        "return Array.from(document.images).map(i => i.complete ? i.naturalWidth : -1)")
    assert len(widths) == 2 and all(w > 0 for w in widths)


def test_report_part_table_has_a_row_per_part_in_chromium(browser, graded_dir, exam):  # noqa: F811
    browser.get(graded_dir.files[2].resolve().as_uri())
    questions = load_manifest(exam)["versions"][0]["questions"]
    parts = [part_name(q["index"], p) for q in questions for p in q["parts"] if p["kind"] != "text"]
    shown = browser.execute_script("return Array.from(document.querySelectorAll('table.parts tbody tr'))"
                                   ".map(r => r.cells[0].textContent)")
    assert shown == parts


def test_escaped_id_renders_as_text_in_chromium(browser, graded_dir):
    browser.get(graded_dir.files[2].resolve().as_uri())
    cells = browser.execute_script("return Array.from(document.querySelectorAll('table.not-graded td'))"
                                   ".map(c => c.textContent)")
    assert EVIL in cells and browser.execute_script("return document.querySelectorAll('script').length") == 0
