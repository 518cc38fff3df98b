"""qgen.expr: formulas evaluate exactly and print as LaTeX that reads as the same arithmetic."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from qgen import numeric
from qgen.expr import (
    Const,
    Div,
    Fn,
    Neg,
    Pow,
    Prod,
    Ref,
    Sub,
    Sum,
    const_latex,
    evaluate,
    latex,
    refs,
    substitute,
)

# Leaves printed as numbers, as in the "formula with numbers" of a worked solution.
NUMBERS = {"a": "1", "b": "-4", "c": "2", "y": "y", "h": r"\hat{y}"}.get
VALUES = {"a": Fraction(1), "b": Fraction(-4), "c": Fraction(2)}


# -- printing: sympy-style spec --------------------------------------------------------
def test_negative_factor_of_a_product_in_a_sum_is_parenthesized():
    assert latex(Sum((Ref("a"), Prod((Ref("b"), Ref("c"))))), NUMBERS) == r"1 + \left(-4\right) \cdot 2"


def test_negative_term_of_a_sum_is_parenthesized():
    assert latex(Sum((Ref("a"), Ref("b"))), NUMBERS) == r"1 + \left(-4\right)"


def test_negative_first_term_of_a_sum_is_not_parenthesized():
    assert latex(Sum((Ref("b"), Ref("a"))), NUMBERS) == r"-4 + 1"


def test_negated_term_of_a_sum_prints_as_subtraction():
    assert latex(Sum((Ref("a"), Neg(Ref("c")))), NUMBERS) == r"1 - 2"


def test_subtracting_a_negative_number_is_parenthesized():
    assert latex(Sub(Ref("a"), Ref("b")), NUMBERS) == r"1 - \left(-4\right)"


def test_subtracting_a_sum_is_parenthesized():
    assert latex(Sub(Ref("a"), Sum((Ref("a"), Ref("c")))), NUMBERS) == r"1 - \left(1 + 2\right)"


def test_subtracting_a_difference_is_parenthesized():
    assert latex(Sub(Ref("a"), Sub(Ref("a"), Ref("c"))), NUMBERS) == r"1 - \left(1 - 2\right)"


def test_negation_of_a_negative_number_is_parenthesized():
    assert latex(Neg(Ref("b")), NUMBERS) == r"-\left(-4\right)"


def test_negation_of_a_sum_is_parenthesized():
    assert latex(Neg(Sum((Ref("a"), Ref("c")))), NUMBERS) == r"-\left(1 + 2\right)"


def test_negative_first_factor_of_a_product_is_parenthesized():
    assert latex(Prod((Ref("b"), Ref("a"))), NUMBERS) == r"\left(-4\right) \cdot 1"


def test_sum_inside_a_product_is_parenthesized():
    assert latex(Prod((Ref("c"), Sum((Ref("a"), Ref("c"))))), NUMBERS) == r"2 \cdot \left(1 + 2\right)"


def test_leading_constant_is_written_against_a_parenthesis():
    assert latex(Prod((Const(Fraction(2)), Sub(Ref("h"), Ref("y")))), NUMBERS) == r"2\left(\hat{y} - y\right)"


def test_negative_leading_constant_is_not_parenthesized():
    assert latex(Prod((Const(Fraction(-2)), Sub(Ref("y"), Ref("h")))), NUMBERS) == r"-2\left(y - \hat{y}\right)"


def test_half_squared_error_prints_with_a_fraction():
    e = Prod((Const(Fraction(1, 2), as_fraction=True), Pow(Sub(Ref("y"), Ref("h")), 2)))
    assert latex(e, NUMBERS) == r"\frac{1}{2}\left(y - \hat{y}\right)^{2}"


def test_power_of_a_negative_number_is_parenthesized():
    assert latex(Pow(Ref("b"), 2), NUMBERS) == r"\left(-4\right)^{2}"


def test_power_of_a_sum_is_parenthesized():
    assert latex(Pow(Sum((Ref("a"), Ref("c"))), 2), NUMBERS) == r"\left(1 + 2\right)^{2}"


def test_one_minus_a_square_of_a_negative_number():
    assert latex(Sub(Const(Fraction(1)), Pow(Ref("b"), 2)), NUMBERS) == r"1 - \left(-4\right)^{2}"


def test_division_prints_as_a_fraction():
    assert latex(Div(Sum((Ref("a"), Ref("c"))), Ref("b")), NUMBERS) == r"\frac{1 + 2}{-4}"


def test_sigmoid_of_a_negative_number():
    assert latex(Fn("sigmoid", (Ref("b"),)), NUMBERS) == r"\sigma\left(-4\right)"


def test_relu_derivative_prints_as_an_indicator():
    assert latex(Fn("step", (Ref("b"),)), NUMBERS) == r"\mathbf{1}\left[-4 > 0\right]"


def test_leaky_relu_prints_its_slope():
    e = Fn("leaky_relu", (Ref("b"),), Fraction(1, 100))
    assert latex(e, NUMBERS) == r"\operatorname{LReLU}\left(-4; 0.01\right)"


def test_binary_cross_entropy_derivative_prints_as_two_fractions():
    one = Const(Fraction(1))
    e = Sum((Neg(Div(Ref("y"), Ref("h"))), Div(Sub(one, Ref("y")), Sub(one, Ref("h")))))
    assert latex(e, NUMBERS) == r"-\frac{y}{\hat{y}} + \frac{1 - y}{1 - \hat{y}}"


def test_const_latex_terminating_decimal():
    assert const_latex(Fraction(1, 100)) == "0.01"


def test_const_latex_non_terminating_is_a_fraction():
    assert const_latex(Fraction(1, 3)) == r"\frac{1}{3}"


def test_const_latex_negative_fraction_on_request():
    assert const_latex(Fraction(-1, 2), as_fraction=True) == r"-\frac{1}{2}"


def test_negation_of_a_product_with_negative_leading_constant_is_parenthesized():
    assert latex(Neg(Prod((Const(Fraction(-2)), Ref("c")))), NUMBERS) == r"-\left(-2 \cdot 2\right)"


def test_negated_product_with_negative_leading_constant_in_a_sum_is_parenthesized():
    e = Sum((Ref("a"), Neg(Prod((Const(Fraction(-2)), Ref("c"))))))
    assert latex(e, NUMBERS) == r"1 - \left(-2 \cdot 2\right)"


# -- evaluation ----------------------------------------------------------------------
def test_evaluate_is_exact_on_fractions():
    f = Prod((Const(Fraction(2)), Sub(Ref("yhat"), Ref("y"))))
    assert evaluate(f, {"yhat": Fraction(3), "y": Fraction(13, 10)}) == Fraction(17, 5)


def test_evaluate_of_fractions_gives_a_fraction():
    f = Div(Ref("a"), Ref("c"))
    assert isinstance(evaluate(f, VALUES), Fraction)


def test_evaluate_mixing_fraction_and_mpf_gives_an_mpf():
    value = evaluate(Sum((Ref("p"), Ref("q"))), {"p": Fraction(1, 2), "q": numeric.CTX.mpf("0.25")})
    assert isinstance(value, numeric.Real)


def test_evaluate_mixing_fraction_and_mpf_keeps_50_digits():
    value = evaluate(Prod((Ref("p"), Ref("q"))), {"p": Fraction(1, 3), "q": numeric.real(3)})
    assert abs(value - 1) < numeric.CTX.mpf("1e-45")


def test_evaluate_subtraction_of_mpf_from_a_constant():
    value = evaluate(Sub(Const(Fraction(1)), Ref("q")), {"q": numeric.CTX.mpf("0.25")})
    assert value == numeric.CTX.mpf("0.75")


def test_evaluate_sigmoid_at_zero_is_exactly_one_half():
    assert evaluate(Fn("sigmoid", (Ref("z"),)), {"z": Fraction(0)}) == Fraction(1, 2)


def test_evaluate_relu_of_a_negative_mpf_is_zero():
    assert evaluate(Fn("relu", (Ref("z"),)), {"z": numeric.CTX.mpf("-0.5")}) == 0


def test_evaluate_leaky_relu_uses_its_slope():
    assert evaluate(Fn("leaky_relu", (Ref("z"),), Fraction(1, 10)), {"z": Fraction(-3)}) == Fraction(-3, 10)


def test_evaluate_unknown_reference_raises_key_error():
    with pytest.raises(KeyError) as exc:
        evaluate(Ref("missing"), {})
    assert "missing" in str(exc.value)


def test_products_are_flattened():
    assert Prod((Ref("a"), Prod((Ref("b"), Ref("c"))))).factors == (Ref("a"), Ref("b"), Ref("c"))


def test_refs_lists_keys_in_order_with_repeats():
    assert list(refs(Sum((Ref("a"), Prod((Ref("b"), Ref("a"))))))) == ["a", "b", "a"]


def test_substitute_replaces_references_recursively():
    e = substitute(Prod((Ref("d"), Ref("c"))), {"d": Sum((Ref("e"), Ref("a"))), "e": Ref("b")}.get)
    assert e == Prod((Sum((Ref("b"), Ref("a"))), Ref("c")))


# -- properties: evaluation agrees with Fraction arithmetic; printing reads back the same --
small = st.fractions(min_value=-5, max_value=5, max_denominator=4)


def _leaf():
    return st.one_of(
        small.map(lambda v: (Const(v), v)),
        st.sampled_from(sorted(VALUES)).map(lambda k: (Ref(k), VALUES[k])),
    )


def _grow(children):
    def div(pair):
        (n, nv), (d, dv) = pair
        assume(dv != 0)
        return Div(n, d), nv / dv

    return st.one_of(
        st.lists(children, min_size=1, max_size=3).map(
            lambda ts: (Sum(tuple(t for t, _ in ts)), sum((v for _, v in ts), Fraction(0)))),
        st.tuples(children, children).map(lambda p: (Sub(p[0][0], p[1][0]), p[0][1] - p[1][1])),
        children.map(lambda p: (Neg(p[0]), -p[1])),
        st.lists(children, min_size=1, max_size=3).map(
            lambda ts: (Prod(tuple(t for t, _ in ts)), _product(v for _, v in ts))),
        st.tuples(children, children).map(div),
        st.tuples(children, st.integers(0, 3)).map(lambda p: (Pow(p[0][0], p[1]), p[0][1] ** p[1])),
    )


def _product(values) -> Fraction:
    out = Fraction(1)
    for v in values:
        out *= v
    return out


trees = st.recursive(_leaf(), _grow, max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(trees)
def test_evaluate_agrees_with_fraction_arithmetic(pair):
    e, expected = pair
    assert evaluate(e, VALUES) == expected


def _python(text: str) -> str:
    """A LaTeX formula of numbers (as latex() writes them) as Python arithmetic on Fractions."""
    text = text.replace(r"\left(", "(").replace(r"\right)", ")").replace(r" \cdot ", " * ")
    text = _fractions(text)
    text = re.sub(r"\^\{(\d+)\}", r"**\1", text)
    text = text.replace("{", "(").replace("}", ")")  # {β}^{2} groups a base
    text = re.sub(r"\)\s*\(", ")*(", text)  # juxtaposed factors: 2(y - h), \frac{1}{2}(...)
    text = re.sub(r"(\d)\(", r"\1*(", text)
    return re.sub(r"(\d+(?:\.\d+)?)", r"F('\1')", text)


def _fractions(text: str) -> str:
    """Replace every \\frac{A}{B} by ((A)/(B)), innermost braces matched properly."""
    while r"\frac{" in text:
        start = text.rindex(r"\frac{")
        num, after = _braced(text, start + len(r"\frac"))
        den, end = _braced(text, after)
        text = text[:start] + f"(({num})/({den}))" + text[end:]
    return text


def _braced(text: str, i: int) -> tuple[str, int]:
    assert text[i] == "{"
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j], j + 1
    raise AssertionError(f"unbalanced braces in {text!r}")


def _value_of_latex(text: str) -> Fraction:
    return eval(_python(text), {"__builtins__": {}, "F": Fraction})  # noqa: S307 (our own digits only)


@settings(max_examples=150, deadline=None)
@given(trees)
def test_latex_with_numbers_reads_back_as_the_same_value(pair):
    e, expected = pair
    text = latex(e, lambda k: numeric.decimal_str(VALUES[k]))
    assert _value_of_latex(text) == expected


@settings(max_examples=150, deadline=None)
@given(trees)
def test_latex_never_writes_an_operator_before_a_minus_sign(pair):
    e, _ = pair
    text = latex(e, lambda k: numeric.decimal_str(VALUES[k]))
    assert re.search(r"(\+|-|\\cdot)\s*-", text) is None


# -- function tables (no-calculator mode) -------------------------------------------------
from qgen.expr import calls, with_stated  # noqa: E402
from qgen.tables import STANDARD  # noqa: E402

Z = {"z": Fraction(1), "w": Fraction(3, 2), "y": Fraction(1)}


def test_evaluate_with_a_table_reads_the_stated_value():
    assert evaluate(Fn("sigmoid", (Ref("z"),)), Z, STANDARD) == Fraction(73, 100)


def test_evaluate_with_a_table_off_its_points_is_exact():
    assert evaluate(Fn("sigmoid", (Ref("w"),)), Z, STANDARD) == numeric.sigmoid(Fraction(3, 2))


def test_evaluate_without_a_table_is_exact():
    assert evaluate(Fn("sigmoid", (Ref("z"),)), Z) == numeric.sigmoid(Fraction(1))


def test_evaluate_with_a_table_reads_a_function_of_a_stated_value():
    # ln(1 − σ(1)) = ln(0.27) = −1.31
    assert evaluate(Fn("ln", (Sub(Const(Fraction(1)), Fn("sigmoid", (Ref("z"),))),)), Z, STANDARD) == Fraction(-131, 100)


def test_evaluate_with_a_table_leaves_relu_alone():
    assert evaluate(Fn("relu", (Ref("z"),)), Z, STANDARD) == 1


def test_dsigmoid_at_zero_is_exactly_a_quarter():
    assert evaluate(Fn("dsigmoid", (Ref("z"),)), {"z": Fraction(0)}) == Fraction(1, 4)


def test_dtanh_at_zero_is_exactly_one():
    assert evaluate(Fn("dtanh", (Ref("z"),)), {"z": Fraction(0)}) == 1


def test_dsigmoid_is_sigma_times_one_minus_sigma():
    s = numeric.sigmoid(Fraction(-2))
    assert abs(evaluate(Fn("dsigmoid", (Ref("z"),)), {"z": Fraction(-2)}) - s * (1 - s)) < numeric.CTX.mpf("1e-45")


def test_dtanh_is_one_minus_tanh_squared():
    t = numeric.tanh(Fraction(1))
    assert abs(evaluate(Fn("dtanh", (Ref("z"),)), Z) - (1 - t * t)) < numeric.CTX.mpf("1e-45")


def test_dsigmoid_prints_as_sigma_prime():
    assert latex(Fn("dsigmoid", (Ref("z"),)), str) == r"\sigma'\left(z\right)"


def test_dtanh_prints_as_tanh_prime():
    assert latex(Fn("dtanh", (Ref("z"),)), str) == r"\tanh'\left(z\right)"


def test_calls_mark_the_stated_ones():
    e = Prod((Fn("sigmoid", (Ref("z"),)), Fn("sigmoid", (Ref("w"),))))
    assert [c.stated for c in calls(e, Z, STANDARD)] == [True, False]


def test_calls_without_a_table_are_never_stated():
    assert [c.stated for c in calls(Fn("sigmoid", (Ref("z"),)), Z)] == [False]


def test_with_stated_writes_the_table_value_in_place_of_the_call():
    e = Neg(Prod((Ref("y"), Fn("ln", (Fn("sigmoid", (Ref("z"),)),)))))
    assert latex(with_stated(e, Z, STANDARD), str) == r"-y \cdot \left(-0.31\right)"


def test_with_stated_keeps_an_off_table_call():
    e = Fn("sigmoid", (Ref("w"),))
    assert with_stated(e, Z, STANDARD) == e
