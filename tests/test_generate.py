"""Generation: reproducible versions, golden .tex, the manifest, and PDFs that compile."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from qgen.bank import load_bank
from qgen.generate import build_version, manifest, version_seed
from qgen.notation import PROFILES
from qgen.publish import render_version, write_exam_set
from tests.conftest import BANKS, GOLDEN, ROOT, needs_latex, needs_pdftotext

UPDATE = os.environ.get("QGEN_UPDATE_GOLDEN") == "1"


def test_version_seed_depends_on_exam_version_and_question():
    seeds = {version_seed("a", "1", 0), version_seed("b", "1", 0), version_seed("a", "2", 0), version_seed("a", "1", 1)}
    assert len(seeds) == 4


def test_versions_differ():
    bank = load_bank(BANKS / "quiz.yaml")
    params = [build_version(bank, str(v)).questions[0].params for v in range(1, 6)]
    assert len({json.dumps(p, sort_keys=True) for p in params}) == 5


@pytest.mark.parametrize("bank_name,kind", [("quiz.yaml", "exam"), ("quiz.yaml", "key"), ("seeds.yaml", "key")])
def test_golden_tex(bank_name, kind):
    bank = load_bank(BANKS / bank_name)
    tex = render_version(bank, build_version(bank, "1"), key=kind == "key")
    golden = GOLDEN / f"{bank_name.removesuffix('.yaml')}-{kind}-1.tex"
    if UPDATE:
        golden.write_text(tex, encoding="utf-8")
    assert tex == golden.read_text(encoding="utf-8"), "rerun with QGEN_UPDATE_GOLDEN=1 after checking the diff"


def test_same_version_is_byte_identical_in_another_process():
    code = ("import sys; from qgen.bank import load_bank; from qgen.generate import build_version; "
            "from qgen.publish import render_version; b = load_bank(sys.argv[1]); "
            "sys.stdout.write(render_version(b, build_version(b, '3'), key=True))")
    runs = [subprocess.run([sys.executable, "-c", code, str(BANKS / "midterm.yaml")], capture_output=True, text=True,
                           cwd=ROOT, check=True, env={**os.environ, "PYTHONHASHSEED": str(n)}).stdout for n in (1, 2)]
    assert runs[0] == runs[1] and len(runs[0]) > 1000


def test_manifest_has_everything_grading_needs():
    bank = load_bank(BANKS / "quiz.yaml")
    record = manifest(bank, [build_version(bank, "1")])
    part = next(p for p in record["versions"][0]["questions"][0]["parts"] if p["id"].startswith("grad."))
    assert set(part) >= {"id", "kind", "answer", "points", "places", "keys", "prompt"}


def test_manifest_is_json_serialisable_for_every_bank():
    for name in ("quiz.yaml", "midterm.yaml", "seeds.yaml"):
        bank = load_bank(BANKS / name)
        assert json.loads(json.dumps(manifest(bank, [build_version(bank, "1")])))


def test_manifest_points_add_up():
    bank = load_bank(BANKS / "midterm.yaml")
    record = manifest(bank, [build_version(bank, "1")])["versions"][0]
    assert record["points"] == sum(p["points"] for q in record["questions"] for p in q["parts"]) == 100


def test_bank_text_is_escaped(tmp_path):
    path = tmp_path / "bank.yaml"
    path.write_text("exam:\n  id: 'x-1'\n  title: 'O''Brien & Søn_#1 {x} 50% $5'\n"
                    "questions:\n  - family: mlp-backprop\n", encoding="utf-8")
    bank = load_bank(path)
    tex = render_version(bank, build_version(bank, "1"), key=False)
    assert r"O'Brien \& Søn\_\#1 \{x\} 50\% \$5" in tex


def _text(pdf_path):
    return subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout


@needs_latex
@needs_pdftotext
@pytest.mark.latex
def test_seed_keys_compile_and_show_the_reference_answers(tmp_path):
    bank = load_bank(BANKS / "seeds.yaml")
    result = write_exam_set(bank, ["1"], tmp_path / "out")
    key = _text(tmp_path / "out" / "key-1.pdf").replace("\u2212", "-")
    assert all(v in key for v in ("-0.2312", "2.0925", "1.4624", "0.1321", "-1.9208", "-1.2641")) and len(result.pdfs) == 2


@needs_latex
@needs_pdftotext
@pytest.mark.latex
def test_exam_does_not_contain_the_answers(tmp_path):
    bank = load_bank(BANKS / "seeds.yaml")
    write_exam_set(bank, ["1"], tmp_path / "out")
    exam = _text(tmp_path / "out" / "exam-1.pdf").replace("\u2212", "-")
    assert "-0.2312" not in exam and "1.4624" not in exam and "Version 1" in exam


@needs_latex
@pytest.mark.latex
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_notation_profile_compiles(tmp_path, profile):
    path = tmp_path / "bank.yaml"
    path.write_text(f"exam:\n  id: n-{profile}\n  title: Notation {profile}\n  notation: {profile}\n"
                    "questions:\n  - family: mlp-backprop\n  - family: mlp-backprop\n    domain: {hidden: [3]}\n")
    result = write_exam_set(load_bank(path), ["1", "2"], tmp_path / "out")
    assert sorted(p.name for p in result.pdfs) == ["exam-1.pdf", "exam-2.pdf", "key-1.pdf", "key-2.pdf"]


@needs_latex
@pytest.mark.latex
@pytest.mark.parametrize("bank_name", ["quiz.yaml", "midterm.yaml"])
def test_example_banks_compile(tmp_path, bank_name):
    result = write_exam_set(load_bank(BANKS / bank_name), ["1"], tmp_path / "out")
    assert sorted(p.name for p in result.pdfs) == ["exam-1.pdf", "key-1.pdf"]
