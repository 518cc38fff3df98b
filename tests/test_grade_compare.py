"""Grading one answer: tolerance from the precision asked, partial credit per entry, equivalent formulas."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qgen.grade.compare import BLANK, Tolerance, equivalent, judge, symbol_names
from qgen.grade.parse import parse_cell, parse_expression

NUMBER = {"kind": "number", "answer": 0.9867, "places": 4}


def test_blank_is_reported_as_blank():
    assert judge(NUMBER, None) == BLANK


@pytest.mark.parametrize("typed,credit", [
    ("0.9867", 1), ("0.98665", 1), ("0.99", 1),  # within 1% of the key
    ("0.97", 0), ("-0.9867", 0), ("9.867", 0),
])
def test_relative_tolerance_is_one_percent(typed, credit):
    assert judge(NUMBER, F(typed)).credit == credit


def test_absolute_tolerance_is_half_a_unit_of_the_last_place_asked():
    part = {"kind": "number", "answer": 0.006648, "places": 4}  # the key prints 0.0066
    assert (judge(part, F("0.0066")).credit, judge(part, F("0.0068")).credit) == (1, 0)


def test_zero_answer_needs_the_precision_asked():
    part = {"kind": "number", "answer": 0, "places": 2}
    assert (judge(part, F("0.005")).credit, judge(part, F("0.0052")).credit) == (1, 0)


def test_accepted_alternative_earns_full_credit():
    part = {"kind": "number", "answer": 0.18, "places": 2, "accept": [0.1966]}
    assert judge(part, F("0.1966")).status == "correct"


def test_vector_earns_the_share_of_right_entries():
    part = {"kind": "vector", "answer": [3, -2, 0.5], "places": 4}
    verdict = judge(part, (F(3), F(2), F("0.5")))
    assert (verdict.credit, verdict.status, verdict.entries) == (F(2, 3), "partial", (True, False, True))


def test_vector_of_the_wrong_length_earns_nothing():
    part = {"kind": "vector", "answer": [3, -2], "places": 4}
    assert judge(part, (F(3),)).credit == 0


def test_matrix_entries_in_reading_order():
    part = {"kind": "matrix", "answer": [[1, 2], [3, 4]], "places": 4}
    assert judge(part, ((F(1), F(2)), (F(4), F(3)))).entries == (True, True, False, False)


def test_shapes_and_integers_are_exact():
    assert judge({"kind": "shape", "answer": [2, 3]}, (2, 3)).credit == 1
    assert judge({"kind": "shape", "answer": [2, 3]}, (3, 2)).credit == 0


def test_labels_ignore_case_and_spaces():
    assert judge({"kind": "label", "answer": "Yes"}, " yes ").credit == 1


def test_text_parts_are_not_judged():
    with pytest.raises(ValueError):
        judge({"kind": "text", "answer": ""}, "an essay")


@pytest.mark.parametrize("spec,student,credit", [
    ({"abs": 0.1}, "1.09", 1), ({"abs": 0.1}, "1.11", 0),
    ({"rel": 0.2}, "1.19", 1), ({"decimals": 1}, "1.04", 1),
    ({"sig_figs": 2}, "1.004", 1), ({"sig_figs": 3}, "1.01", 0),
])
def test_bank_tolerance_overrides(spec, student, credit):
    tol = Tolerance.from_spec(spec, places=4)
    assert judge({"kind": "number", "answer": 1, "places": 4}, F(student), tol).credit == credit


@given(st.fractions(min_value=-1000, max_value=1000), st.integers(0, 6))
def test_the_key_itself_always_earns_full_credit(value, places):
    part = {"kind": "number", "answer": float(value), "places": places}
    assert judge(part, F(str(float(value)))).credit == 1


@given(st.fractions(min_value=F(1, 10), max_value=1000))
def test_a_value_two_percent_off_never_earns_credit_at_four_places(value):
    part = {"kind": "number", "answer": str(value), "places": 4}
    assert judge(part, value * F(102, 100)).credit == 0


def test_equivalent_formulas_agree():
    assert equivalent("2 (a2 - y) a1", "-2*(y - a2)*a1", ("a1", "a2", "y"))
    assert equivalent(parse_expression("2(a2-y)a1", ["a1", "a2", "y"]), "-2*(y - a2)*a1", ("a1", "a2", "y"))


def test_different_formulas_disagree():
    assert not equivalent("2 (y - a2) a1", "-2*(y - a2)*a1", ("a1", "a2", "y"))


def test_equivalent_reads_the_names_from_a_formula_record():
    formula = {"variables": ["z"], "definitions": {"g": "tanh(z)"}, "forbid": []}
    assert equivalent("sech(z)^2", "1 - g**2", formula=formula) and not equivalent("1 - g", "1 - g**2", formula=formula)


def test_judge_reads_an_expression_part_with_its_formula_record_and_accept():
    part = {"kind": "expression", "answer": "g*(1 - g)", "accept": ["g"],  # an odd accept, to see that it counts
            "formula": {"variables": ["z"], "definitions": {"g": "1/(1 + exp(-z))"}, "forbid": []}}
    spec = {"formula": part["formula"]}
    assert judge(part, parse_cell("σ(z)(1 - σ(z))", "expression", **spec)).credit == 1
    assert judge(part, parse_cell("g(z)", "expression", **spec)).credit == 1  # the accepted form
    assert judge(part, parse_cell("g(1 + g)", "expression", **spec)).credit == 0
    assert judge(part, "1/(1+e^-z) (1 - 1/(1+e^-z))").credit == 1  # text is read with the part's names


def test_judge_grades_an_old_expression_record_without_a_formula():
    part = {"kind": "expression", "answer": "Piecewise((1, z > 0), (0, True))", "accept": ["Heaviside(z, 0)"]}
    assert symbol_names(part["answer"]) == ("z",)
    assert judge(part, parse_cell("1 if z > 0 else 0", "expression", symbols=symbol_names(part["answer"]))).credit == 1
    assert judge(part, parse_cell("z > 1", "expression", symbols=["z"])).credit == 0
