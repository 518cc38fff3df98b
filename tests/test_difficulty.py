"""Difficulty report: steps per question, outliers across versions, the terminal table."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from qgen import families
from qgen.difficulty import MAX_ROWS, Difficulty, compare, measure, report_lines
from qgen.expr import Const, Div, Fn, Neg, Pow, Prod, Ref, Sub, Sum
from qgen.families.base import Part, Question
from qgen.notation import Sym
from qgen.solve import solve
from qgen.trace import Trace


def trace(given: dict[str, object], formulas: dict[str, object]) -> Trace:
    """A Trace of given numbers, then formulas over them (in order)."""
    t = Trace()
    for key, value in given.items():
        t.given(key, Sym(key), value)
    for key, formula in formulas.items():
        t.add(key, Sym(key), formula)
    return t


def part(id: str, *keys: str, kind: str = "number") -> Part:
    return Part(id=id, prompt="?", kind=kind, points=1, answer=0, answer_tex="0", keys=keys)


def question(t: Trace, *parts: Part, family: str = "hand-built") -> Question:
    return Question(family, "A hand-built question", {}, t, None, list(parts), "none")


def steps(given: dict[str, object], formula: object) -> int:
    return measure(question(trace(given, {"out": formula}), part("out", "out"))).steps


def difficulty(steps: int, magnitude: float = 2.0, parts: int = 3, manual: int = 0) -> Difficulty:
    return Difficulty(steps=steps, functions=0, magnitude=magnitude, digits=1, parts=parts, manual=manual)


# -- what counts as a step ----------------------------------------------------------------------
def test_multiplying_two_numbers_is_one_step():
    assert steps({"w": 3, "x": 2}, Prod((Ref("w"), Ref("x")))) == 1


def test_multiplying_by_one_is_trivial():
    assert steps({"w": 3, "x": 1}, Prod((Ref("w"), Ref("x")))) == 0


def test_multiplying_by_minus_one_is_trivial():
    assert steps({"w": 3, "x": -1}, Prod((Ref("w"), Ref("x")))) == 0


def test_adding_zero_is_trivial():
    assert steps({"b": 0, "x": 2.5}, Sum((Ref("b"), Ref("x")))) == 0


def test_a_sum_of_three_numbers_is_two_steps():
    assert steps({"a": 2, "b": 3, "c": 4}, Sum((Ref("a"), Ref("b"), Ref("c")))) == 2


def test_one_minus_one_is_trivial():
    assert steps({"y": 1}, Sub(Const(Fraction(1)), Ref("y"))) == 0


def test_one_minus_a_fraction_is_a_step():
    assert steps({"a": 0.75}, Sub(Const(Fraction(1)), Ref("a"))) == 1


def test_a_zero_factor_spares_the_rest_of_the_product():
    assert steps({"y": 0, "z": 2}, Prod((Ref("y"), Fn("ln", (Sum((Ref("z"), Const(Fraction(3)))),))))) == 0


def test_dividing_by_one_is_trivial():
    assert steps({"s": 7, "n": 1}, Div(Ref("s"), Ref("n"))) == 0


def test_a_square_is_one_multiplication():
    assert steps({"x": 3}, Pow(Ref("x"), 2)) == 1


def test_a_cube_is_two_multiplications():
    assert steps({"x": 3}, Pow(Ref("x"), 3)) == 2


def test_a_negation_is_free():
    assert steps({"x": 3}, Neg(Ref("x"))) == 0


def test_a_copied_value_is_free():
    assert steps({"z": 3}, Ref("z")) == 0


def test_a_sigmoid_is_a_step_and_a_function():
    d = measure(question(trace({"z": 2}, {"a": Fn("sigmoid", (Ref("z"),))}), part("a", "a")))
    assert (d.steps, d.functions) == (1, 1)


def test_a_sigmoid_at_zero_is_known_by_heart():
    d = measure(question(trace({"z": 0}, {"a": Fn("sigmoid", (Ref("z"),))}), part("a", "a")))
    assert (d.steps, d.functions) == (0, 0)


def test_relu_is_a_comparison_not_a_step():
    assert steps({"z": 3}, Fn("relu", (Ref("z"),))) == 0


def test_leaky_relu_of_a_negative_number_is_a_product():
    assert steps({"z": -3}, Fn("leaky_relu", (Ref("z"),), Fraction(1, 10))) == 1


def test_leaky_relu_of_a_positive_number_is_free():
    assert steps({"z": 3}, Fn("leaky_relu", (Ref("z"),), Fraction(1, 10))) == 0


def test_a_quantity_two_parts_need_counts_once():
    t = trace({"w": 3, "x": 2}, {"z": Prod((Ref("w"), Ref("x"))), "a": Pow(Ref("z"), 2), "b": Neg(Ref("z"))})
    both = measure(question(t, part("a", "a"), part("b", "b")))
    assert both.steps == 2  # w·x once, then its square


def test_a_sub_formula_two_quantities_share_counts_once():
    t = trace({"y": 1, "yhat": 0.25}, {"loss": Pow(Sub(Ref("y"), Ref("yhat")), 2),
                                        "dl": Prod((Const(Fraction(-2)), Sub(Ref("y"), Ref("yhat"))))})
    assert measure(question(t, part("loss", "loss"), part("dl", "dl"))).steps == 3  # y − ŷ, its square, −2 · it


def test_only_the_selected_parts_count():
    t = trace({"w": 3, "x": 2}, {"z": Prod((Ref("w"), Ref("x"))), "a": Pow(Ref("z"), 2)})
    assert measure(question(t, part("z", "z"))).steps == 1


def test_magnitude_is_the_largest_absolute_value_needed():
    t = trace({"w": -4, "x": 3}, {"z": Prod((Ref("w"), Ref("x")))})
    assert measure(question(t, part("z", "z"))).magnitude == 12.0


def test_digits_are_the_most_significant_digits_of_a_stated_number():
    t = trace({"w": 0.25, "x": -3}, {"z": Prod((Ref("w"), Ref("x")))})
    assert measure(question(t, part("z", "z"))).digits == 2


def test_parts_without_keys_count_as_manual_or_symbolic():
    d = measure(question(trace({}, {}), part("why", kind="text"), part("formula", kind="expression")))
    assert (d.steps, d.parts, d.manual, d.symbolic) == (0, 1, 1, 1)


def test_chain_rule_counts_evaluating_the_inner_functions():
    d = measure(solve("chain-rule", params={"m": "sum", "g": "sin", "h": "x^2", "x0": 1}))
    assert (d.steps, d.functions) == (3, 1)  # cos 1, 2 · 1, and their sum


def test_a_difficulty_is_json():
    d = measure(solve("mlp-backprop", seed=1))
    assert json.loads(json.dumps(d.as_dict()))["steps"] == d.steps


@pytest.mark.parametrize("family", sorted(families.FAMILIES))
def test_every_family_takes_some_steps(family):
    assert all(measure(solve(family, seed=s)).steps > 0 for s in (1, 2, 3))


# -- versions side by side ---------------------------------------------------------------------
def uniform(n: int) -> dict[str, list[Difficulty]]:
    return {str(v): [difficulty(10), difficulty(34)] for v in range(1, n + 1)}


def test_uniform_versions_have_no_outliers():
    assert compare(uniform(9)).outliers == []


def test_a_version_with_many_more_steps_is_flagged():
    rows = uniform(9)
    rows["7"] = [difficulty(10), difficulty(58)]
    assert "version 7, question 2: 58 steps (median 34)" in compare(rows).outliers


def test_a_version_with_many_fewer_steps_is_flagged():
    rows = uniform(9)
    rows["3"] = [difficulty(10), difficulty(12)]
    assert "version 3, question 2: 12 steps (median 34)" in compare(rows).outliers


def test_a_small_absolute_difference_is_not_flagged():
    rows = {"1": [difficulty(2)], "2": [difficulty(2)], "3": [difficulty(4)]}
    assert compare(rows).outliers == []


def test_a_version_with_large_numbers_is_flagged():
    rows = uniform(9)
    rows["5"] = [difficulty(10, magnitude=50), difficulty(34)]
    assert compare(rows).outliers == ["version 5, question 1: numbers up to 50 (median 2)"]


def test_a_version_with_another_number_of_parts_is_flagged():
    rows = uniform(9)
    rows["2"] = [difficulty(10, parts=4), difficulty(34)]
    assert compare(rows).outliers == ["version 2, question 1: 4 auto-graded parts (most versions: 3)"]


def test_small_differences_that_add_up_flag_the_version():
    rows = {str(v): [difficulty(2)] * 3 for v in range(1, 10)}
    rows["4"] = [difficulty(4)] * 3  # 2 steps more is too little to flag a question
    assert compare(rows).outliers == ["version 4: 12 steps in all (median 6)"]


def test_versions_with_different_numbers_of_questions_cannot_be_compared():
    with pytest.raises(ValueError) as e:
        compare({"1": [difficulty(3)], "2": [difficulty(3), difficulty(4)]})
    assert "same number of questions" in str(e.value)


def test_the_report_is_json():
    report = compare(uniform(3))
    assert json.loads(json.dumps(report.as_dict()))["median"]["steps"] == [10, 34]


# -- the terminal table ------------------------------------------------------------------------
def test_a_few_versions_get_one_line_each():
    rows = uniform(3)
    rows["3"] = [difficulty(10), difficulty(70)]
    assert report_lines(compare(rows)) == [
        "steps/largest |number| per question (! marks an outlier)",
        "version  Q1    Q2     total",
        "1        10/2  34/2   44",
        "2        10/2  34/2   44",
        "3        10/2  70/2!  80!",
        "outliers (2):",
        "  version 3, question 2: 70 steps (median 34)",
        "  version 3: 80 steps in all (median 44)",
    ]


def test_a_narrow_terminal_drops_the_magnitudes():
    lines = report_lines(compare({"1": [difficulty(10)] * 6}), width=40)
    assert lines[:3] == ["steps per question (! marks an outlier)", "version  Q1  Q2  Q3  Q4  Q5  Q6  total",
                         "1        10  10  10  10  10  10  60"]


def test_many_versions_get_a_summary():
    rows = uniform(100)
    rows["42"] = [difficulty(10), difficulty(80)]
    lines = report_lines(compare(rows))
    assert lines == [
        "difficulty over 100 versions",
        "       steps min  median  max  |number| median  max",
        "Q1     10         10      10   2                2",
        "Q2     34         34      80   2                2",
        "total  44         44      90",
        "outliers (2):",
        "  version 42, question 2: 80 steps (median 34)",
        "  version 42: 90 steps in all (median 44)",
    ]


def test_the_summary_starts_above_max_rows():
    assert report_lines(compare(uniform(MAX_ROWS)))[0].startswith("steps/")


def test_many_outliers_are_cut_short():
    rows = uniform(100)
    for v in range(1, 31):
        rows[str(v)] = [difficulty(10), difficulty(80)]
    assert report_lines(compare(rows))[-1] == "  … and 40 more"


def test_a_value_read_from_the_function_table_is_a_function_evaluation():
    tables = pytest.importorskip("qgen.tables")
    t = Trace(table=tables.STANDARD)
    t.given("z", Sym("z"), 1)
    t.add("a", Sym("a"), Fn("sigmoid", (Ref("z"),)))
    d = measure(question(t, part("a", "a")))
    assert (d.steps, d.functions) == (1, 1)
