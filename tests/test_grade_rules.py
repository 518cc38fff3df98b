"""The grading rules of the README, each with the credit written down by hand.

Updates are judged as steps, error carried forward reaches labels, entries of one vector and
entries a wrong zero did not make trivial, and one unreadable entry costs that entry only.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from qgen.errors import SubmissionError
from qgen.generate import question_record
from qgen.grade.parse import parse_number
from qgen.grade.score import Question, score_question
from qgen.solve import solve
from qgen.yamlread import read_yaml
from tests.conftest import BANKS

# banks/midterm.yaml v1 Q3: ŷ = 0.0287 for y = 0, so W2[1,1] = −2 moves by only −0.0006
TINY_STEP = {"network": {"layers": [{"W": [[1, 3], [-1, -2]], "b": [0, 2], "activation": "tanh"},
                                    {"W": [[-2, 1]], "b": [-2], "activation": "sigmoid"}],
                         "loss": "half_squared_error", "reduction": "mean", "data": [{"x": [4, -1], "y": [0]}],
                         "learning_rate": 1},
             "asked": ["W2[1,1]", "W1[1,2]"]}
# z1 = [1, 3] into tanh: a1 = [0.7616, 0.9951]
TANH = {"network": {"layers": [{"W": [[1, 0], [0, 1]], "b": [0, 0], "activation": "tanh"},
                               {"W": [[1, 1]], "b": [0], "activation": "sigmoid"}],
                    "loss": "squared_error", "reduction": "mean", "data": [{"x": [1, 3], "y": [1]}],
                    "learning_rate": 1},
        "asked": ["W2[1,1]", "W1[1,2]"]}


def question(family: str, params: dict) -> Question:
    q = solve(family, params=params)
    return Question.from_record(dict(question_record(q, None), index=1, title="", points=q.points))


def pinned(family: str, pin: str) -> Question:
    return question(family, read_yaml(BANKS / "pins" / pin))


def score(q: Question, cells: dict[str, str], **kw) -> dict:
    return {s.part: s for s in score_question(q, {f"q1.{k}": v for k, v in cells.items()}, **kw)}


# -- 3. the update step ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny():
    return question("mlp-backprop", TINY_STEP)


def test_the_tiny_step_instance_is_what_the_issue_describes(tiny):
    part = next(p for p in tiny.record["parts"] if p["id"] == "update.W2[1,1]")
    assert round(part["answer"], 4) == -2.0006 and part["points"] == 1


@pytest.mark.parametrize("typed,earned,note", [
    ("-2.0006", 1, ""),                                               # the key at 4 decimals
    ("-2.00061", 1, ""),
    ("-2", 0, "slip: the old value copied (no step taken)"),          # within 1% of the value, no step
    ("-1.9994", 0, "slip: sign of the update flipped"),               # within 1% of the value, wrong step
    ("-2.0012", 0, "slip: ½ dropped"),                                # twice the step: ½(y − ŷ)² as (y − ŷ)²
    ("-2.0009", 0, ""),                                               # 1.5 times the step
])
def test_an_update_is_judged_by_its_step(tiny, typed, earned, note):
    s = score(tiny, {"update.W2[1,1]": typed})["update.W2[1,1]"]
    assert (s.earned, s.note) == (earned, note)


def test_slip_credit_never_pays_for_a_copied_weight(tiny):
    got = score(tiny, {"update.W2[1,1]": "-2", "update.W1[1,2]": "3.0007"}, slip_credit=F(1, 2))
    assert got["update.W2[1,1]"].earned == 0  # copied: no credit whatever the bank says
    assert got["update.W1[1,2]"].earned == 0.5  # 3 − (−0.0007): the sign flipped, a slip worth half of 1


def test_an_update_from_the_students_own_gradient_earns_ecf(tiny):
    # ∂J/∂W2[1,1] = 0.0006076; a student with 0.0010 steps to −2.0010 (η = 1)
    got = score(tiny, {"grad.W2[1,1]": "0.0010", "update.W2[1,1]": "-2.0010"})
    assert (got["grad.W2[1,1]"].earned, got["update.W2[1,1]"].earned, got["update.W2[1,1]"].status) == (0, 1, "ecf")


# -- 4. ECF everywhere ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def s3():
    return pinned("mlp-backprop", "seed-001-s3.yaml")  # z1 = [3, −2], a1 = [3, 0], z2 = −5, ŷ = 0.0067, class 0


@pytest.mark.parametrize("yhat,label,earned,status", [
    ("0.6", "1", 1, "ecf"),        # the class that follows from the student's own ŷ
    ("0.6", "0", 1, "correct"),    # the right class is right, whatever the student's ŷ
    ("0.0067", "1", 0, "wrong"),
    ("", "1", 0, "wrong"),         # no ŷ typed: z2 and the rest are right, so class 0 follows
    ("0.0067", "0", 1, "correct"),
])
def test_the_class_follows_from_the_students_own_yhat(s3, yhat, label, earned, status):
    s = score(s3, {"yhat": yhat, "class": label})["class"]
    assert (s.earned, s.status) == (earned, status)


def test_the_class_follows_from_a_wrong_z2(s3):
    s = score(s3, {"z2": "3", "class": "1"})["class"]  # σ(3) = 0.95 ≥ 0.5
    assert (s.earned, s.status) == (1, "ecf")


@pytest.fixture(scope="module")
def seed002():
    return pinned("batch-gd", "seed-002.yaml")  # forward@1 = [z, h, ŷ] = [3, 3, 3]; L(D) 3.25 -> 2.8556: yes


def test_did_the_loss_go_down_follows_from_the_students_own_losses(seed002):
    got = score(seed002, {"objective": "3.25", "objective-after": "3.5", "decreased": "no"})
    assert (got["decreased"].earned, got["decreased"].status) == (1, "ecf")
    got = score(seed002, {"objective": "3.25", "objective-after": "3", "decreased": "no"})
    assert (got["decreased"].earned, got["decreased"].status) == (0, "wrong")  # 3 < 3.25: yes follows


def test_entries_of_a_vector_follow_from_its_own_earlier_entries(seed002):
    # z = 4 instead of 3: h = ReLU(4) = 4 and ŷ = 1·4 + 0 = 4 follow from it
    s = score(seed002, {"forward@1.1": "4", "forward@1.2": "4", "forward@1.3": "4"})["forward@1"]
    assert (round(s.earned, 4), s.status) == (round(2 * 2 / 3, 4), "partial")
    half = score(seed002, {"forward@1.1": "4", "forward@1.2": "4", "forward@1.3": "4"}, ecf_credit=F(1, 2))
    assert round(half["forward@1"].earned, 4) == round(2 * 1 / 3, 4)


def test_ecf_half_on_one_right_and_one_carried_entry_gives_one_and_a_half():
    q = question("mlp-backprop", TANH)
    got = score(q, {"z1.1": "1", "z1.2": "2", "a1.1": "0.7616", "a1.2": "0.9640"}, ecf_credit=F(1, 2))
    assert (got["z1"].earned, got["a1"].earned) == (1, 1.5)  # z1: 1 of 2 right; a1: 1 + ½ of 2 entries


def test_the_zero_guard_denies_only_what_the_zero_made_trivial():
    q = question("mlp-backprop", TANH)
    got = score(q, {"z1.1": "0", "z1.2": "2", "a1.1": "0", "a1.2": "0.9640"})
    assert got["z1"].earned == 0
    assert (got["a1"].earned, got["a1"].status) == (1, "partial")  # tanh(2) earns its entry, tanh(0) = 0 does not


def test_a_carried_value_that_rounds_to_zero_is_not_a_wrong_zero(s3):
    # ŷ = 0.99999 for y = 1: the loss (1 − ŷ)² = 1e-10 prints as 0.0000, legitimately
    got = score(s3, {"yhat": "0.99999", "loss": "0.0000"})
    assert (got["loss"].earned, got["loss"].status) == (1, "ecf")


def test_a_wrong_zero_still_empties_the_chain(s3):
    got = score(s3, {"factor.dyhat[1]_dz2[1]": "0", "grad.W2[1,1]": "0"})
    assert got["grad.W2[1,1]"].status == "wrong"


@pytest.mark.parametrize("cells", [
    {"z1.1": "3", "z1.2": "abc"},          # entry by entry
    {"z1": "[3, abc]"},                    # the whole vector in one cell
    {"z1": "3; ?"},
])
def test_one_unreadable_entry_costs_that_entry_only(s3, cells):
    s = score(s3, cells)["z1"]
    assert (s.earned, s.status) == (1, "partial") and "entry 2 unreadable" in s.note


def test_an_unreadable_whole_vector_is_malformed(s3):
    s = score(s3, {"z1": "three and minus two"})["z1"]
    assert (s.earned, s.status) == (0, "malformed")


# -- 5. numbers as typed ------------------------------------------------------------------------------
def test_a_comma_is_a_decimal_comma_in_a_semicolon_file():
    assert parse_number("-1,505", decimal_comma=True) == F("-1.505")
    assert parse_number("1,250", decimal_comma=True) == F("1.25")
    with pytest.raises(SubmissionError, match="ambiguous"):
        parse_number("1,250")  # in a `,` file it may be a thousands separator
    with pytest.raises(SubmissionError, match="ambiguous"):
        parse_number("-1,505")
    assert parse_number("-1,5051") == F("-1.5051")  # four digits after the comma: not a thousands group


def test_semicolon_sheet_reads_decimal_commas(seed002):
    # update = [0.966, 0.983, -0.017, 0.949, 0.002]
    typed = {f"update.{i}": v for i, v in enumerate(["0,966", "0,983", "-0,017", "0,949", "0,002"], 1)}
    assert score(seed002, typed, decimal_comma=True)["update"].earned == 2


# -- 2. hostile numbers are wrong answers, not exceptions ------------------------------------------------
@pytest.mark.parametrize("typed,status", [
    ("1e300", "wrong"), ("-1e300", "wrong"), ("1e-300", "wrong"),
    ("-1e308", "malformed"), ("9" * 5000, "malformed"), ("1/0", "malformed"),
])
def test_hostile_numbers_are_judged(s3, typed, status):
    got = score(s3, {"z2": typed, "yhat": "0.5", "loss": typed, "grad.W2[1,1]": typed, "update.W2[1,1]": typed})
    assert got["z2"].status == status
    assert all(s.status != "error" for s in got.values())


# -- 4. ECF from a wrong formula to its value at the point ------------------------------------------------
@pytest.fixture(scope="module")
def chain():
    return pinned("chain-rule", "seed-001-s2.yaml")  # y = x² sin x: dy/dx = x² cos x + 2x sin x, π at x₀ = π/2


@pytest.mark.parametrize("formula,value,earned,status", [
    ("x^2 cos(x) + 2x sin(x)", "3.1416", 1, "correct"),
    ("x^2 sin(x)", "2.4674", 1, "ecf"),        # (π/2)²: right for the student's own formula
    ("x^2 sin(x)", "2.5", 0, "wrong"),
    ("x^2 cos(x) - 2x sin(x)", "-3.1416", 1, "ecf"),
    ("x^2 cos(x)", "0", 0, "wrong"),           # a formula that is 0 at the point leaves nothing to compute
    ("", "2.4674", 0, "wrong"),                # no formula, nothing to carry
    ("import os", "2.4674", 0, "wrong"),       # an unreadable formula carries nothing
])
def test_a_value_follows_from_the_students_own_formula(chain, formula, value, earned, status):
    got = score(chain, {"derivative": formula, "value": value})
    assert (got["value"].earned / got["value"].points, got["value"].status) == (earned, status)
