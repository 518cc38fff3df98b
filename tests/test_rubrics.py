"""Rubrics of hand-graded parts (they add up to the points, scale with them, a bank can replace them)
and the wording fixes of issue 12: exact decimals, exact class labels, answer-sheet labels, no typing hints."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest

from qgen import families, numeric
from qgen.bank import load_bank
from qgen.errors import BankError
from qgen.families.base import (
    parse_rubric,
    rubric,
    rubric_total,
    scale_rubric,
    select_parts,
)
from qgen.generate import build_question
from qgen.notation import PROFILES, Sym
from qgen.solve import solve
from tests.conftest import BANKS


def write(tmp_path, text):
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("family", sorted(families.FAMILIES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_hand_graded_part_has_a_rubric_that_adds_up_to_its_points(family, seed):
    q = solve(family, seed=seed)
    texts = [p for p in q.parts if p.manual]
    assert all(p.rubric and rubric_total(p.rubric) == p.points for p in texts)


def test_draw_the_network_has_a_rubric_of_two_points():
    draw = next(p for p in solve("mlp-backprop", seed=0).parts if p.id == "draw")
    assert [c.points for c in draw.rubric] == [1.0, 1.0]


def test_three_one_point_items_scaled_to_four_points_are_one_and_a_half_one_and_a_half_one():
    items = rubric((1, "a"), (1, "b"), (1, "c"))
    assert [c.points for c in scale_rubric(items, 4)] == [1.5, 1.5, 1.0]


def test_two_one_point_items_scaled_to_three_points():
    assert [c.points for c in scale_rubric(rubric((1, "a"), (1, "b")), 3)] == [1.5, 1.5]


@pytest.mark.parametrize("family", sorted(families.FAMILIES))
def test_a_banks_points_scale_every_rubric(family):
    chosen = select_parts(solve(family, seed=0).parts, None, {"*": 5}, "q")
    assert all(rubric_total(p.rubric) == 5 for p in chosen if p.manual)


def test_the_key_prints_the_rubric_with_its_points():
    concept = next(p for p in solve("mlp-backprop", seed=0).parts if p.id == "concept")
    assert r"\textit{Rubric (3 points):} 1 point: " in concept.model_answer


def test_parse_rubric_reads_points_and_text():
    items = parse_rubric("2 points for the sign; 1.5 points: the size; ½ point for the rest", "r")
    assert [(c.points, c.text) for c in items] == [(2.0, "the sign"), (1.5, "the size"), (0.5, "the rest")]


def test_parse_rubric_rejects_an_item_without_points():
    with pytest.raises(BankError) as info:
        parse_rubric("the sign; 2 points for the size", "bank.yaml:9: questions[0].rubric.concept")
    assert "bank.yaml:9: questions[0].rubric.concept" in str(info.value)


OVERRIDE = """\
exam:
  id: t1
  title: Test
questions:
  - family: mlp-backprop
    points: {concept: 4}
    rubric:
      concept: "2 points for naming the point; 2 points for the consequence"
    model_answer:
      concept: "The gradient is taken at one point."
"""


def test_a_bank_replaces_a_rubric_and_a_model_answer(tmp_path):
    spec = load_bank(write(tmp_path, OVERRIDE)).questions[0]
    concept = next(p for p in build_question(spec, 3).parts if p.id == "concept")
    assert ([(c.points, c.text) for c in concept.rubric], concept.model) == (
        [(2.0, "naming the point"), (2.0, "the consequence")], "The gradient is taken at one point.")


def test_a_rubric_that_does_not_add_up_to_the_points_is_an_error_naming_file_line_and_key(tmp_path):
    path = write(tmp_path, OVERRIDE.replace("2 points for the consequence", "1 point for the consequence"))
    with pytest.raises(BankError) as info:
        load_bank(path)
    assert f"{path}:8: questions[0].rubric.concept" in str(info.value) and "\n" not in str(info.value)


def test_a_rubric_against_the_familys_own_points_is_checked_when_the_question_is_built(tmp_path):
    path = write(tmp_path, OVERRIDE.replace("    points: {concept: 4}\n", ""))
    spec = load_bank(path).questions[0]
    with pytest.raises(BankError) as info:
        build_question(spec, 3)
    assert f"{path}:7: questions[0].rubric.concept" in str(info.value) and "3 points" in str(info.value)


def test_a_rubric_for_a_numeric_part_is_an_error(tmp_path):
    path = write(tmp_path, OVERRIDE.replace("      concept: \"2 points", "      yhat: \"2 points"))
    spec = load_bank(path).questions[0]
    with pytest.raises(BankError) as info:
        build_question(spec, 3)
    assert "rubric.yhat: matches no hand-graded part" in str(info.value)


# -- numbers --------------------------------------------------------------------------------------
def test_an_exact_zero_times_a_sigmoid_stays_exact():
    value = numeric.add(numeric.mul(Fraction(0), numeric.sigmoid(numeric.exact(1))), numeric.exact("-0.99625"))
    assert numeric.decimal_str(value, 4) == "-0.99625"


def test_compare_is_exact_at_one_half():
    assert numeric.compare(numeric.sigmoid(numeric.exact(0)), Fraction(1, 2)) == 0


HALF = {"network": {"layers": [{"W": [[1, 1]], "b": [0], "activation": "relu"},
                               {"W": [[0]], "b": [0], "activation": "sigmoid"}],
                    "loss": "binary_cross_entropy", "reduction": "mean", "data": [{"x": [1, 2], "y": [1]}],
                    "learning_rate": 1},
        "asked": ["W2[1,1]", "W1[1,2]"]}


def test_an_output_of_exactly_one_half_is_class_one():
    parts = {p.id: p for p in solve("mlp-backprop", params=HALF).parts}
    assert (parts["class"].answer, parts["class"].worked[0].split()[1]) == ("1", "=")


# -- notation -------------------------------------------------------------------------------------
def test_a_data_point_joins_the_layer_in_one_superscript():
    nt = PROFILES["bias-row"].for_network([2, 2, 1])
    assert nt.symbol(Sym("z", 1, (1,), 2)) == r"\alpha^{1;\,(2)}_{1}"


def test_batch_gd_in_bias_row_gives_the_objective_its_own_letter():
    assert PROFILES["bias-row"].distinct_objective().objective == "L"


def test_answer_sheet_labels_are_the_printed_symbols():
    q = solve("mlp-backprop", params={**HALF, "notation": "bias-column"})
    factor = next(p for p in q.parts if p.id == "factor.dz2[1]_da1[1]")
    assert factor.labels == (r"\frac{\partial b}{\partial z_{1}}",)


@pytest.fixture(scope="module")
def exams(tmp_path_factory):
    out = {}
    for name in ("quiz", "midterm", "seeds"):
        folder = tmp_path_factory.mktemp(name)
        subprocess.run([sys.executable, "-m", "qgen", "generate", str(BANKS / f"{name}.yaml"), "--no-pdf", "-q",
                        "--force", "--out", str(folder)], check=True)
        out[name] = [f.read_text(encoding="utf-8") for f in sorted(folder.glob("exam-*.tex"))]
    return out


@pytest.mark.parametrize("name", ["quiz", "midterm", "seeds"])
def test_no_exam_of_a_shipped_bank_mentions_typing(exams, name):
    assert exams[name] and not any("type " in tex or r"\texttt{" in tex for tex in exams[name])


def test_the_quiz_defines_the_objective_it_asks_for(exams):
    assert all("the loss itself, $J = " in tex for tex in exams["quiz"])
