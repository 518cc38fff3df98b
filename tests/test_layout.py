"""Pages that keep question and box together (issue 12): answer space, paper size, QR margins,
fixed-height covers, and no network drawn in an exam that asks for the drawing.

The PDFs are checked from the outside: the exam writes invisible marks (text render mode 3, never
printed) at each part's label (QGENPART-<question>-<letter>) and at the bottom of its answer box
(QGENBOX-…), which pdftotext reads with the page they are on.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from qgen.bank import load_bank
from qgen.cli import main
from qgen.errors import BankError
from qgen.generate import Draws, build_versions
from qgen.publish import render_version, write_exam_set
from qgen.render.space import answer_space_cm
from tests.conftest import BANKS, needs_latex, needs_pdftotext

MM = 72 / 25.4  # PDF points per mm


def _marks(path: Path) -> dict[tuple[str, str], dict[str, int]]:
    """(question, part letter) -> {"PART": page, "BOX": page} from the invisible marks."""
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    found: dict[tuple[str, str], dict[str, int]] = {}
    for page, chunk in enumerate(text.split("\f"), start=1):
        for kind, q, letter in re.findall(r"QGEN(PART|BOX)-(\d+)-([a-z]+)", chunk):
            found.setdefault((q, letter), {})[kind] = page
    return found


def _bank(tmp_path: Path, source: str, edit) -> Path:
    path = tmp_path / source
    path.write_text(edit((BANKS / source).read_text(encoding="utf-8")), encoding="utf-8")
    for pin in (BANKS / "pins").glob("*"):  # pinned questions name their files relative to the bank
        (tmp_path / "pins").mkdir(exist_ok=True)
        (tmp_path / "pins" / pin.name).write_bytes(pin.read_bytes())
    return path


@needs_latex
@needs_pdftotext
@pytest.mark.latex
@pytest.mark.parametrize("bank", sorted(p.name for p in BANKS.glob("*.yaml")))
def test_every_prompt_shares_its_page_with_its_answer_box(bank, tmp_path):
    result = write_exam_set(load_bank(BANKS / bank), ["1", "2"], tmp_path / "out")
    for version in ("1", "2"):
        marks = _marks(tmp_path / "out" / f"exam-{version}.pdf")
        parts = sum(len(q.parts) for q in result.versions[int(version) - 1].questions)
        assert len(marks) == parts, f"{bank} v{version}: {len(marks)} parts marked of {parts}"
        split = {f"Q{q}({letter})": at for (q, letter), at in marks.items() if at.get("PART") != at.get("BOX")}
        assert not split, f"{bank} exam-{version}: prompt and box on different pages: {split}"
        assert PdfReader(tmp_path / "out" / f"exam-{version}.pdf").pages[0].mediabox.height == pytest.approx(841.89, abs=1)


def test_answer_space_follows_the_work_and_the_bank(tmp_path):
    bank = load_bank(BANKS / "midterm.yaml")
    q = next(q for q in build_versions(bank, ["1"], Draws())[0].questions if q.family == "batch-gd")
    after = next(p for p in q.parts if p.id == "objective-after")
    assert len(after.worked) >= 5 and answer_space_cm(after) >= 4  # not the 1.4 cm floor of a number
    assert all(answer_space_cm(p) >= p.box_cm for p in q.parts)
    path = _bank(tmp_path, "midterm.yaml", lambda text: text.replace(
        "  - family: batch-gd\n", '  - family: batch-gd\n    space: {"objective-after": 6cm, "grad@*": 25mm}\n', 1))
    bank = load_bank(path)
    tex = render_version(bank, build_versions(bank, ["1"], Draws())[0], key=False)
    assert len(re.findall(r"\\qgenbox\[[^]]*\]\{6cm\}", tex)) == 1 and len(re.findall(r"\\qgenbox\[[^]]*\]\{2.5cm\}", tex)) >= 2


@pytest.mark.parametrize("space, message", [
    ('{"loss@*": 6 furlongs}', r"midterm.yaml:\d+: questions\[\d\].space.loss@\*: expected a height such as 6cm"),
    ('{"loss@*": 0cm}', r"midterm.yaml:\d+: questions\[\d\].space.loss@\*: expected a height"),
    ("[6cm]", r"midterm.yaml:\d+: questions\[\d\].space: expected a mapping"),
])
def test_a_bad_space_is_one_line_naming_file_line_and_key(tmp_path, space, message):
    path = _bank(tmp_path, "midterm.yaml", lambda text: text.replace(
        "  - family: batch-gd\n", f"  - family: batch-gd\n    space: {space}\n", 1))
    with pytest.raises(BankError, match=message) as info:
        load_bank(path)
    assert "\n" not in str(info.value)


def test_a_space_pattern_that_matches_no_part_is_an_error(tmp_path):
    path = _bank(tmp_path, "midterm.yaml", lambda text: text.replace(
        "  - family: batch-gd\n", '  - family: batch-gd\n    space: {"nothing.*": 3cm}\n', 1))
    bank = load_bank(path)
    with pytest.raises(BankError, match=r"questions\[\d\].space: 'nothing.\*' matches no selected part"):
        render_version(bank, build_versions(bank, ["1"], Draws())[0], key=False)


def test_paper_is_a4_or_letter(tmp_path):
    path = _bank(tmp_path, "quiz.yaml", lambda text: text.replace("exam:\n", "exam:\n  paper: legal\n", 1))
    with pytest.raises(BankError, match=r"quiz.yaml:\d+: exam.paper: expected one of a4, letter, got 'legal'"):
        load_bank(path)
    assert load_bank(BANKS / "quiz.yaml").paper == "a4"
    path = _bank(tmp_path, "quiz.yaml", lambda text: text.replace("exam:\n", "exam:\n  paper: letter\n", 1))
    bank = load_bank(path)
    assert r"\usepackage[letterpaper," in render_version(bank, build_versions(bank, ["1"], Draws())[0], key=True)


def test_an_exam_that_asks_to_draw_the_network_does_not_show_it():
    bank = load_bank(BANKS / "quiz.yaml")
    v = build_versions(bank, ["1"], Draws())[0]
    q = v.questions[0]
    assert q.family == "mlp-backprop" and "draw" in [p.id for p in q.parts]
    exam, key = render_version(bank, v, key=False), render_version(bank, v, key=True)
    assert "tikzpicture" not in exam and "tikzpicture" in key  # the key shows it as the drawing's answer
    midterm = load_bank(BANKS / "midterm.yaml")  # asks no drawing: the network helps with backpropagation
    v = build_versions(midterm, ["1"], Draws())[0]
    assert not any(p.id == "draw" for q in v.questions for p in q.parts)
    assert "tikzpicture" in render_version(midterm, v, key=False)


@needs_latex
@needs_pdftotext
@pytest.mark.latex
def test_the_readme_roster_command_works_and_codes_stay_10mm_inside_letter_paper(tmp_path):
    """The README's command on the midterm (covers of one height whatever the roster says), on
    letter paper: every page's QR code at least 10 mm from every edge."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    path = _bank(tmp_path, "midterm.yaml", lambda text: text.replace("exam:\n", "exam:\n  paper: letter\n", 1))
    out = tmp_path / "out"
    main(["generate", str(path), "--roster", str(BANKS / "roster-example.csv"), "--fixed-layout",
          "--answer-sheet", "--combined", "--versions", "2", "--out", str(out), "--quiet"], standalone_mode=False)
    papers = sorted((out / "papers").glob("*.pdf"))
    assert papers and (out / "exams-all.pdf").exists()
    paper = papers[0]
    reader = PdfReader(paper)
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (width, height) == pytest.approx((612, 792), abs=1)
    dpi = 100
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(paper), str(tmp_path / "page")], check=True)
    for image in sorted(tmp_path.glob("page-*.png")):
        codes = zxingcpp.read_barcodes(Image.open(image))
        assert len(codes) == 1, image.name
        pos = codes[0].position
        xs = [p.x for p in (pos.top_left, pos.top_right, pos.bottom_left, pos.bottom_right)]
        ys = [p.y for p in (pos.top_left, pos.top_right, pos.bottom_left, pos.bottom_right)]
        px_per_mm = dpi / 25.4
        w, h = Image.open(image).size
        assert min(xs) >= 10 * px_per_mm and min(ys) >= 10 * px_per_mm, image.name
        assert w - max(xs) >= 10 * px_per_mm and h - max(ys) >= 10 * px_per_mm, image.name
