"""Course scale (issue 6): many papers per LaTeX run, rosters, QR codes, fixed layout, answer sheets.

The PDFs are checked from the outside: pdftotext for the text on each page, pdftoppm + zxing-cpp
for the QR codes, pypdf for page counts; never from qgen's own page log.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from qgen.bank import load_bank
from qgen.cli import main
from qgen.errors import RenderError, SubmissionError
from qgen.publish import Options, write_exam_set
from qgen.render import batch, pdf
from qgen.render.exam import assemble, tables
from qgen.render.qr import payload, read_payload
from qgen.roster import Student, file_stem, load_roster, version_for
from tests.conftest import BANKS, needs_latex, needs_pdftotext

NASTY = "O'Brien & Søn_#1 {x}"


def _pages_text(path: Path) -> list[str]:
    """The text of each page of a PDF (pdftotext separates pages with a form feed)."""
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    out = out.replace("\u2019", "'")  # LaTeX sets an apostrophe as a typographic one
    return out.split("\f")[:len(PdfReader(path).pages)]


def _question_pages(path: Path) -> dict[int, int]:
    """The page (from 1) on which each "Question k:" title is printed."""
    found: dict[int, int] = {}
    for page, text in enumerate(_pages_text(path), start=1):
        for k in re.findall(r"^\s*Question (\d+):", text, re.MULTILINE):
            found.setdefault(int(k), page)
    return found


def _rows(out: Path) -> list[dict[str, str]]:
    """roster-versions.csv of an output folder."""
    return list(csv.DictReader((out / "roster-versions.csv").read_text(encoding="utf-8").splitlines()))


def _roster(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "section", "room", "email"])
        w.writerow(["1001", NASTY, "B", "101", "x@y"])
        w.writerow(["s-42/ä", "Zoë Łukasiewicz", "A", "", ""])
        w.writerow(["1003", "Ann Lee", "", "", ""])
    return path


# --- roster, QR payloads (no LaTeX) ------------------------------------------------------------

def test_roster_reads_ids_names_sections_and_rooms(tmp_path):
    students = load_roster(_roster(tmp_path))
    assert [s.id for s in students] == ["1001", "s-42/ä", "1003"]
    assert students[0] == Student("1001", NASTY, "B", "101", line=2)
    assert students[0].place == "Section B, room 101" and students[2].place == ""


def test_roster_errors_name_the_line(tmp_path):
    dup = tmp_path / "dup.csv"
    dup.write_text("student_id;name\n7;A\n8;B\n7;C\n", encoding="utf-8")
    with pytest.raises(SubmissionError, match=r"dup.csv: line 4: student id '7' is already on line 2"):
        load_roster(dup)
    no_id = tmp_path / "noid.csv"
    no_id.write_text("name\nA\n", encoding="utf-8")
    with pytest.raises(SubmissionError, match=r"noid.csv: line 1: a roster needs an id column"):
        load_roster(no_id)


@given(st.text(min_size=1, max_size=30), st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=9, unique=True))
def test_version_for_is_a_function_of_exam_and_student(student, versions):
    v = version_for("exam", student, versions)
    assert v in versions and v == version_for("exam", student, list(versions))


def test_versions_are_spread_evenly_over_a_course():
    counts = Counter(version_for("ml-midterm", f"s{i:07d}", ["1", "2", "3", "4"]) for i in range(600))
    assert set(counts) == {"1", "2", "3", "4"} and min(counts.values()) > 120


@given(st.text(max_size=20), st.text(max_size=8), st.integers(1, 99), st.one_of(st.none(), st.text(max_size=20)))
def test_qr_payload_round_trips_any_ids(exam, version, page, student):
    assert read_payload(payload(exam, version, page=page, student=student)) == \
        {"exam": exam, "version": version, "page": page, "student": student}


@given(st.text(max_size=25))
def test_file_stems_are_safe_and_distinct(sid):
    stem = file_stem(sid)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", stem) and not stem.startswith(".")
    assert stem == sid or stem != file_stem(sid + "x")


# --- PDFs --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The midterm for a three-student roster: papers with QR codes and an answer sheet."""
    tmp = tmp_path_factory.mktemp("course")
    out = tmp / "out"
    result = write_exam_set(load_bank(BANKS / "midterm.yaml"), ["1", "2", "3"], out,
                            options=Options(roster=load_roster(_roster(tmp)), answer_sheet=True, combined=True))
    return out, result


@needs_latex
@needs_pdftotext
@pytest.mark.latex
def test_each_student_gets_a_paper_with_name_id_and_place_on_the_cover(course):
    out, _ = course
    rows = _rows(out)
    assert [r["name"] for r in rows] == [NASTY, "Zoë Łukasiewicz", "Ann Lee"]
    for row in rows:
        assert row["version"] == version_for("ml-midterm-2026-nn", row["student_id"], ["1", "2", "3"])
        cover = _pages_text(out / row["paper"])[0]
        assert row["name"] in cover and row["student_id"] in cover
        assert f"Version {row['version']}" in cover
    assert "Section B, room 101" in _pages_text(out / rows[0]["paper"])[0]
    tex = (out / "papers" / "stamps.tex").read_text(encoding="utf-8")  # what was put on the papers
    assert r"O'Brien \& Søn\_\#1 \{x\}" in tex and NASTY not in tex
    assert not list((out / "papers").glob("1001*.tex")), "a student's paper is not compiled on its own"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [s["version"] for s in manifest["students"]] == [r["version"] for r in rows]


@needs_latex
@needs_pdftotext
@pytest.mark.latex
def test_a_students_paper_is_their_versions_exam(course):
    """Apart from the cover's name and the footer's id, a paper reads as its version's exam."""
    out, _ = course
    row = _rows(out)[0]
    paper, master = _pages_text(out / row["paper"]), _pages_text(out / f"exam-{row['version']}.pdf")
    assert len(paper) == len(master)
    strip = lambda t: re.sub(rf"{re.escape(row['name'])}|{row['student_id']}|Name:|Student ID:|Section B, room 101", "",
                             t).split()
    assert [strip(p) for p in paper] == [strip(m) for m in master]


@needs_latex
@pytest.mark.latex
def test_qr_codes_decode_to_exam_version_page_and_student(course, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    out, _ = course
    row = _rows(out)[1]  # the id "s-42/ä"
    pages = len(PdfReader(out / row["paper"]).pages)
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(out / row["paper"]), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    for number, image in enumerate(images, start=1):
        codes = [r.text for r in zxingcpp.read_barcodes(Image.open(image))]
        assert len(codes) == 1, f"page {number}: {codes}"
        assert read_payload(codes[0]) == {"exam": "ml-midterm-2026-nn", "version": row["version"], "page": number,
                                          "student": "s-42/ä"}


@needs_latex
@needs_pdftotext
@pytest.mark.latex
def test_page_numbers_are_of_the_papers_own_count(course):
    out, _ = course
    for name in ("exam-1.pdf", "key-2.pdf", "papers/1003.pdf"):
        texts = _pages_text(out / name)
        for number, text in enumerate(texts, start=1):
            assert f"Page {number} of {len(texts)}" in text, name


@needs_latex
@needs_pdftotext
@pytest.mark.latex
def test_answer_sheet_boxes_mirror_the_answer_template(course):
    out, _ = course
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    template = next(csv.reader((out / "answers-template.csv").read_text(encoding="utf-8").splitlines()))
    from qgen.grade.columns import part_columns

    for version in manifest["versions"]:
        mine = [c.name for q in version["questions"] for p in q["parts"] for c in part_columns(q["index"], p)]
        assert set(mine) <= set(template)
        # question by question in the template too (a version's own columns may differ in name)
        assert [c.split(".")[0] for c in template[2:]] == sorted((c.split(".")[0] for c in template[2:]),
                                                                  key=lambda q: int(q[1:]))
        pages = _pages_text(out / f"exam-{version['version']}.pdf")
        start = next(i for i, t in enumerate(pages) if "Answer sheet" in t and "Copy your" not in t)
        printed = re.findall(r"\b(q\d+\.[^\s]+)", "\n".join(pages[start:]))
        assert printed == mine


@needs_latex
@pytest.mark.latex
def test_combined_pdfs_hold_every_paper_in_order(course):
    out, result = course
    papers = [out / s["paper"] for s in result.students]
    assert len(PdfReader(out / "exams-all.pdf").pages) == sum(len(PdfReader(p).pages) for p in papers)
    keys = [out / f"key-{v}.pdf" for v in ("1", "2", "3")]
    assert len(PdfReader(out / "keys-all.pdf").pages) == sum(len(PdfReader(p).pages) for p in keys)


@needs_latex
@needs_pdftotext
@pytest.mark.latex
def test_a_split_paper_reads_as_its_standalone_tex_compiled_alone(course, tmp_path):
    """The batch document cut by pypdf gives the same pages as the paper's own .tex."""
    out, _ = course
    for name in ("exam-2", "key-3"):
        tex = tmp_path / f"{name}.tex"
        tex.write_text((out / f"{name}.tex").read_text(encoding="utf-8"), encoding="utf-8")
        alone = pdf.compile_pdf(tex)
        assert _pages_text(alone) == _pages_text(out / f"{name}.pdf")


UNEVEN = """
exam: {id: uneven, title: Uneven, versions: 20}
questions:
  - family: activations
  - family: mlp-backprop
    shared: []
    domain: {hidden: [1, 2, 3], inputs: [1, 2, 3], hidden_layers: [1, 2]}
    parts: ["z1", "a1", "yhat", "loss", "factor.*", "grad.*", "update.*"]   # no drawing: the exam shows the network
  - family: chain-rule
  - family: graph-partials
"""


@needs_latex
@needs_pdftotext
@pytest.mark.latex
def test_fixed_layout_gives_20_versions_the_same_pages(tmp_path):
    """Networks of 1 to 3 inputs and hidden units: the natural layouts differ, the fixed one does not."""
    (tmp_path / "uneven.yaml").write_text(UNEVEN, encoding="utf-8")
    bank = load_bank(tmp_path / "uneven.yaml")
    ids = [str(v) for v in range(1, 21)]
    write_exam_set(bank, ids, tmp_path / "free", options=Options(qr=False))
    natural = {v: (len(PdfReader(tmp_path / "free" / f"exam-{v}.pdf").pages),
                   tuple(sorted(_question_pages(tmp_path / "free" / f"exam-{v}.pdf").items()))) for v in ids}
    assert len(set(natural.values())) > 1, "the test needs versions whose layouts differ"

    out = tmp_path / "out"
    result = write_exam_set(bank, ids, out, options=Options(fixed_layout=True, roster=load_roster(_roster(tmp_path))))
    counts = {v: len(PdfReader(out / f"exam-{v}.pdf").pages) for v in ids}
    assert len(set(counts.values())) == 1 and counts["1"] == result.layout["exam_pages"], counts
    starts = {v: _question_pages(out / f"exam-{v}.pdf") for v in ids}
    assert len({tuple(sorted(s.items())) for s in starts.values()}) == 1, starts
    assert starts["1"] == {int(q): p for q, p in result.layout["question_pages"].items()}
    assert sorted(starts["1"]) == [1, 2, 3, 4]
    padded = [t for v in ids for t in _pages_text(out / f"exam-{v}.pdf") if "left blank on purpose" in t]
    assert padded, "some version needed a blank page"
    for s in result.students:  # a student's paper keeps the fixed layout: it is their version's pages
        assert len(PdfReader(out / s["paper"]).pages) == counts["1"]
        assert _question_pages(out / s["paper"]) == starts["1"]


def _job(tmp_path, name, body_lines):
    body = "\n".join([rf"\qgenbeginpaper{{{name}}}{{1}}", *body_lines, r"\qgenendquestions", r"\qgenendpaper"])
    return batch.PaperJob(name=name, kind="exam", body=body, dest=tmp_path / f"{name}.pdf")


def _head():
    from qgen.render.exam import preamble

    exam = {"title": "T", "course": "C", "exam_id": "e"}
    return {"exam": preamble(exam, key=False)}


@needs_latex
@pytest.mark.latex
def test_a_latex_error_names_the_paper_and_its_own_line(tmp_path):
    good = _job(tmp_path, "exam-1", ["Hello."])
    bad = _job(tmp_path, "exam-2", ["Fine line.", "Another.", r"\nosuchmacro"])
    with pytest.raises(RenderError) as err:
        batch.compile_papers([good, bad], _head(), tmp_path / "work", jobs=1, batch_size=2)
    standalone = assemble(_head()["exam"], [(tables("exam-2", "?"), bad.body)]).splitlines()
    line = standalone.index(r"\nosuchmacro") + 1
    assert f"exam-2.tex:{line} (in batch-" in str(err.value) and "Undefined control sequence" in str(err.value)


@needs_latex
@needs_pdftotext
@pytest.mark.latex
def test_page_labels_are_put_on_with_each_papers_own_count(tmp_path):
    """Papers of 3 and 1 pages in one LaTeX run, compiled once: each page says "Page k of N"."""
    long = _job(tmp_path, "exam-1", [r"\null\clearpage\null\clearpage Three."])
    short = _job(tmp_path, "exam-2", ["One."])
    layouts = batch.compile_papers([long, short], _head(), tmp_path / "w", jobs=1, batch_size=2)
    assert (layouts["exam-1"].pages, layouts["exam-2"].pages) == (3, 1)
    assert [f"Page {k} of 3" in text for k, text in enumerate(_pages_text(tmp_path / "exam-1.pdf"), 1)] == [True] * 3
    assert "Page 1 of 1" in _pages_text(tmp_path / "exam-2.pdf")[0]


@needs_latex
@pytest.mark.latex
def test_duplex_combined_pdfs_start_every_paper_on_a_new_sheet(tmp_path):
    out = tmp_path / "out"
    roster = _roster(tmp_path)
    result = write_exam_set(load_bank(BANKS / "quiz.yaml"), ["1", "2"], out,
                            options=Options(roster=load_roster(roster), combined=True, duplex=True))
    counts = [len(PdfReader(out / s["paper"]).pages) for s in result.students]
    pages = PdfReader(out / "exams-all.pdf").pages
    covers = [i for i, page in enumerate(pages) if "Instructions." in page.extract_text()]
    assert len(covers) == len(counts) and all(i % 2 == 0 for i in covers), covers
    assert len(pages) == sum(n + n % 2 for n in counts) and any(n % 2 for n in counts), counts


def test_fixed_layout_and_combined_need_pdfs(runner, tmp_path):
    got = runner.invoke(main, ["generate", str(BANKS / "quiz.yaml"), "--no-pdf", "--fixed-layout",
                               "--out", str(tmp_path / "x")])
    assert got.exit_code == 2 and "need the PDFs" in got.output


@needs_latex
@pytest.mark.latex
def test_grading_takes_a_roster_students_version_when_the_row_has_none(course):
    from qgen.grade.sheet import Sheet, grade_sheet

    out, result = course
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    rows = [{"student_id": "1003", "version": ""}, {"student_id": "nobody", "version": ""}]
    graded = grade_sheet(manifest, Sheet(rows, [], []))
    assert (graded[0].status, graded[0].version) == ("graded", result.students[2]["version"])
    assert graded[1].status == "unknown version"
