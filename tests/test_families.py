"""Every registered family, over 20 seeds: solves, its parts are well-formed, it renders and compiles."""

from __future__ import annotations

import json

import pytest

from qgen import families
from qgen.families.base import KINDS, Question
from qgen.notation import PROFILES
from qgen.render.exam import document
from qgen.solve import solve
from tests.conftest import needs_latex, needs_pdftotext

NAMES = sorted(families.FAMILIES)
SEEDS = range(20)


def _solved(name: str) -> list[Question]:
    return [solve(name, seed=s) for s in SEEDS]


@pytest.fixture(scope="module", params=NAMES)
def solved(request) -> tuple[str, list[Question]]:
    return request.param, _solved(request.param)


def test_every_family_has_a_summary_and_a_template():
    assert all(f.summary and f.template.startswith("families/") for f in families.FAMILIES.values())


def test_parts_have_known_kinds(solved):
    _, questions = solved
    assert {p.kind for q in questions for p in q.parts} <= set(KINDS)


def test_part_ids_are_unique(solved):
    _, questions = solved
    assert all(len({p.id for p in q.parts}) == len(q.parts) for q in questions)


def test_parts_answer_something(solved):
    _, questions = solved
    assert all(p.answer_tex or p.model_answer for q in questions for p in q.parts)


def test_records_are_json(solved):
    from qgen.generate import question_record

    _, questions = solved
    assert all(json.loads(json.dumps(question_record(q, 0))) for q in questions)


def test_seeds_give_different_instances(solved):
    _, questions = solved
    assert len({json.dumps(q.params, sort_keys=True) for q in questions}) >= 15


def test_params_rebuild_the_same_question(solved):
    name, questions = solved
    fam = families.get(name)
    q = questions[3]
    again = fam.build(q.params, q.notation, 4)
    assert [p.answer for p in again.parts] == [p.answer for p in q.parts]


def _combined(name: str, key: bool) -> str:
    questions = _solved(name)
    return document(title=f"All {name}", course="", date="", instructions="", exam_id=name, version="1", places=4,
                    questions=questions, key=key)


@needs_latex
@needs_pdftotext
@pytest.mark.latex
@pytest.mark.parametrize("name", NAMES)
def test_twenty_seeds_compile_in_one_key(tmp_path, name):
    import subprocess

    from qgen.render.pdf import compile_pdf

    tex = tmp_path / f"key-{name}.tex"
    tex.write_text(_combined(name, key=True), encoding="utf-8")
    text = subprocess.run(["pdftotext", str(compile_pdf(tex, timeout=300)), "-"], capture_output=True, text=True).stdout
    assert text.count("Answer:") >= 20


@needs_latex
@pytest.mark.latex
@pytest.mark.parametrize("name", NAMES)
def test_twenty_seeds_compile_in_one_exam(tmp_path, name):
    from qgen.render.pdf import compile_pdf

    tex = tmp_path / f"exam-{name}.tex"
    tex.write_text(_combined(name, key=False), encoding="utf-8")
    assert compile_pdf(tex, timeout=300).stat().st_size > 10_000


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("name", NAMES)
def test_every_family_renders_in_every_profile(name, profile):
    fam = families.get(name)
    q = fam.build(solve(name, seed=1).params, PROFILES[profile], 4)
    assert "\\part" in document(title="t", course="", date="", instructions="", exam_id="t", version="1", places=4,
                                questions=[q], key=True)
