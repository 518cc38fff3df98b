"""Reading typed answer cells: every form people type, clear errors, and no student text is ever run."""

from __future__ import annotations

import builtins
import math
import os
import re
import subprocess
from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction as F
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qgen.errors import SubmissionError
from qgen.grade.formula import Formula
from qgen.grade.parse import (
    BLANK,
    KINDS,
    parse_cell,
    parse_expression,
    parse_integer,
    parse_label,
    parse_matrix,
    parse_number,
    parse_shape,
    parse_vector,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- numbers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("typed,value", [
    ("-0.5", F(-1, 2)),
    ("\u22120.5", F(-1, 2)),  # unicode minus
    ("\u20130.5", F(-1, 2)),  # en dash
    ("+2", F(2)),
    (".5", F(1, 2)),
    ("5.", F(5)),
    ("1/2", F(1, 2)),
    ("-3/4", F(-3, 4)),
    ("1e-3", F(1, 1000)),
    ("2.5E2", F(250)),
    ("  0.25  ", F(1, 4)),
    ("\u2009\u00a00.25\u202f", F(1, 4)),  # thin, no-break and narrow no-break spaces
    ("\ufeff0.25", F(1, 4)),  # a byte-order mark left in the first cell
    ("0,5", F(1, 2)),
    ("-1,25", F(-5, 4)),
    ("0,125", F(1, 8)),  # a leading 0 is never a thousands group
    ("12,5", F(25, 2)),
    ("1,2500", F(5, 4)),  # four digits after the comma: not a thousands group
    ("- 0.5", F(-1, 2)),
    ("1.5×10^-3", F(3, 2000)),
    ("1.5 * 10^3", F(1500)),
    ("0.5/2", F(1, 4)),
    ("0.1", F(1, 10)),  # exact, not the float 0.1000000000000000055...
])
def test_accepted_number(typed, value):
    assert parse_number(typed) == value


@pytest.mark.parametrize("typed,message", [
    ("1,250", "ambiguous"),
    ("1,000", "type 1.000 or 1000"),
    ("1,000,000", "no thousands separators"),
    ("1,000.5", "no thousands separators"),
    ("73%", "percentage is accepted only for a probability"),
    ("nan", "not a number"),
    ("inf", "not a number"),
    ("-Infinity", "not a number"),
    ("0x1A", "not a number"),
    ("2**3", "not a number"),
    ("__import__('os')", "not a number"),
    ("1/0", "divides by zero"),
    ("1/2/3", "not a number"),
    ("1.2.3", "not a number"),
    ("1 000", "not a number"),
    ("\u0663", "not a number"),  # an Arabic-Indic digit
    ("1e400", "exponent is out of range"),
    ("9" * 101, "too long"),
    ("-", "not a number"),
])
def test_rejected_number(typed, message):
    with pytest.raises(SubmissionError) as caught:
        parse_number(typed)
    assert message in str(caught.value)


def test_rejected_number_says_what_to_type():
    with pytest.raises(SubmissionError) as caught:
        parse_number("abc")
    assert "such as -0.5, 1/2" in str(caught.value)


def test_percentage_of_a_probability_is_a_fraction_of_one():
    assert parse_number("73%", percent_ok=True) == F(73, 100)


def test_percentage_may_have_a_space_and_decimals():
    assert parse_number("12.5 %", percent_ok=True) == F(1, 8)


def test_blank_number_is_an_error_when_asked_directly():
    with pytest.raises(SubmissionError) as caught:
        parse_number("   ")
    assert "blank" in str(caught.value)


@pytest.mark.parametrize("typed,value", [("3", 3), ("3.0", 3), ("-2", -2), ("+4", 4), ("6/2", 3)])
def test_accepted_integer(typed, value):
    assert parse_integer(typed) == value


def test_integer_result_is_an_int():
    assert type(parse_integer("3.0")) is int


def test_fractional_integer_is_rejected():
    with pytest.raises(SubmissionError) as caught:
        parse_integer("3.5")
    assert "not a whole number" in str(caught.value)


# -- vectors and matrices ------------------------------------------------------------------------
@pytest.mark.parametrize("typed,length,value", [
    ("[1, 2]", 2, (1, 2)),
    ("(1 2)", 2, (1, 2)),
    ("1; 2", 2, (1, 2)),
    ("1 2", 2, (1, 2)),
    ("{1, 2}", 2, (1, 2)),
    ("[0,5; 1,25]", 2, (F(1, 2), F(5, 4))),  # decimal commas with ; between entries
    ("0,5 1,25", 2, (F(1, 2), F(5, 4))),  # the expected length picks the space split
    ("[1 \\\\ 2]", 2, (1, 2)),  # LaTeX column
    ("1\n2", 2, (1, 2)),
    ("[1, 2]^T", 2, (1, 2)),
    ("[1, 2]ᵀ", 2, (1, 2)),
    ("1, 2,", 2, (1, 2)),  # a trailing separator is forgiven
    ("[\u22120.5, 1/2, 1e-3]", 3, (F(-1, 2), F(1, 2), F(1, 1000))),
    ("1,5", 1, (F(3, 2),)),  # one entry expected: the comma is decimal
    ("1,5", 2, (1, 5)),  # two expected: the comma separates
    ("1,5", None, (1, 5)),  # no length given: a comma separates
    ("7", 1, (7,)),
])
def test_accepted_vector(typed, length, value):
    assert parse_vector(typed, length) == value


@pytest.mark.parametrize("typed,length,message", [
    ("[1, 2]", 3, "expected 3 entries, got 2"),
    ("1; 2; 3; 4", 3, "expected 3 entries, got 4"),
    ("1,,2", None, "entry 2 is empty"),
    ("[1, x]", 2, "entry 2: 'x' is not a number"),
    ("[[1, 2]]", 2, "unexpected brackets"),
    ("[]", None, "has no numbers"),
    ("[1, 2", 2, "unexpected brackets"),
])
def test_rejected_vector(typed, length, message):
    with pytest.raises(SubmissionError) as caught:
        parse_vector(typed, length)
    assert message in str(caught.value)


def test_vector_entries_accept_percent_for_probabilities():
    assert parse_vector("50%; 25%", 2, percent_ok=True) == (F(1, 2), F(1, 4))


@pytest.mark.parametrize("typed", [
    "[[1, 2], [3, 4]]", "[1 2; 3 4]", "1, 2; 3, 4", "1 2\n3 4", "1 & 2 \\\\ 3 & 4", "(1 2) (3 4)", "[[1,2];[3,4]]",
    "((1, 2), (3, 4))",
])
def test_accepted_matrix(typed):
    assert parse_matrix(typed, (2, 2)) == ((1, 2), (3, 4))


def test_matrix_rows_may_use_decimal_commas():
    assert parse_matrix("[0,5 1; 2 3,5]", (2, 2)) == ((F(1, 2), 1), (2, F(7, 2)))


def test_one_row_matrix():
    assert parse_matrix("[1, 2, 3]") == ((1, 2, 3),)


@pytest.mark.parametrize("typed,shape,message", [
    ("1 2; 3 4; 5 6", (2, 3), "expected a 2x3 matrix, got 3x2"),
    ("1 2 3 4", (2, 2), "expected a 2x2 matrix, got 1x4"),
    ("[1 2; 3 4 5]", None, "row 2 has 3 entries, row 1 has 2"),
    ("1 2; 3 4", (2, 3), "expected a 2x3 matrix, got 2x2"),
    ("[[1,2],[3,4]", None, "could not read the rows"),
    ("1 2; a 4", None, "row 2: entry 1"),
])
def test_rejected_matrix(typed, shape, message):
    with pytest.raises(SubmissionError) as caught:
        parse_matrix(typed, shape)
    assert message in str(caught.value)


# -- shapes and labels ---------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["3x2", "3 x 2", "3×2", "3X2", "(3, 2)", "3,2", "3 by 2", "[3; 2]", "3*2", " 3 2 "])
def test_accepted_shape(typed):
    assert parse_shape(typed) == (3, 2)


@pytest.mark.parametrize("typed,message", [
    ("32", "not a shape"), ("3x2x1", "not a shape"), ("0x2", "at least one row"), ("3.5x2", "not a shape"),
    ("-3x2", "not a shape"),
])
def test_rejected_shape(typed, message):
    with pytest.raises(SubmissionError) as caught:
        parse_shape(typed)
    assert message in str(caught.value)


@pytest.mark.parametrize("typed,labels,label", [
    ("1", ["0", "1"], "1"),
    ("1.0", ["0", "1"], "1"),
    ("+1", ["0", "1"], "1"),
    (" YES ", ["yes", "no"], "yes"),
    ("n", ["yes", "no"], "no"),
    ("Cat", ["cat", "dog"], "cat"),
    ("1", [0, 1], "1"),  # labels given as numbers
    ("Class  A", ["class a", "class b"], "class a"),
])
def test_accepted_label(typed, labels, label):
    assert parse_label(typed, labels) == label


def test_label_is_returned_as_the_key_spells_it():
    assert parse_label("yes", ["Yes", "No"]) == "Yes"


def test_label_without_allowed_labels_is_normalized():
    assert parse_label("  Dog ") == "dog"


def test_unknown_label_names_the_allowed_ones():
    with pytest.raises(SubmissionError) as caught:
        parse_label("maybe", ["yes", "no"])
    assert "not one of: yes, no" in str(caught.value)


# -- formulas (read by qgen.grade.formula; see tests/test_grade_formula.py for judging) --------------
def _at(typed, x=0.7, y=1.3):
    """The value of a typed formula over x and y at one point."""
    return parse_expression(typed, ["x", "y"]).value({"x": x, "y": y})


@pytest.mark.parametrize("typed,value", [
    ("2*x*sin(x) + x**2*cos(x)", lambda x, y: 2 * x * math.sin(x) + x**2 * math.cos(x)),
    ("2x sin(x) + x^2 cos x", lambda x, y: 2 * x * math.sin(x) + x**2 * math.cos(x)),  # implicit products, application
    ("2(x+1)", lambda x, y: 2 * x + 2),
    ("x y", lambda x, y: x * y),
    ("x²", lambda x, y: x**2),
    ("x⁻¹", lambda x, y: 1 / x),
    ("sinx", lambda x, y: math.sin(x)),
    ("e^x", lambda x, y: math.exp(x)),
    ("exp(x) ln(x)", lambda x, y: math.exp(x) * math.log(x)),
    ("log(x)", lambda x, y: math.log(x)),
    ("sin^2(x)", lambda x, y: math.sin(x)**2),
    ("sqrt(x)/tanh(x)", lambda x, y: math.sqrt(x) / math.tanh(x)),
    ("tan(x)", lambda x, y: math.tan(x)),
    ("sigma(x)", lambda x, y: 1 / (1 + math.exp(-x))),
    ("σ(x)(1 − σ(x))", lambda x, y: math.exp(-x) / (1 + math.exp(-x))**2),
    ("0.5x", lambda x, y: x / 2),
    ("2π", lambda x, y: 2 * math.pi),
    ("x·y", lambda x, y: x * y),
    ("x^-2", lambda x, y: x**-2),
    ("(x+1)(x-1)", lambda x, y: x * x - 1),
    ("max(0, x - y)", lambda x, y: max(0, x - y)),
])
def test_accepted_formula(typed, value):
    for x, y in ((0.7, 1.3), (-1.1, 2.2), (2.5, -0.4)):
        got = _at(typed, x, y)
        if x > 0 or "ln" not in typed and "log" not in typed and "sqrt" not in typed:
            assert got == pytest.approx(value(x, y), rel=1e-12), (typed, x, y)


def test_formula_decimals_are_read():
    assert _at("0.1 x", x=2) == pytest.approx(0.2) and _at(".5 + 5.", x=0) == 5.5


def test_symbol_named_e_shadows_the_constant():
    assert parse_expression("e", ["e"]).names == {"e"} and parse_expression("e", ["x"]).names == frozenset()


def test_formula_symbol_with_an_index():
    assert parse_expression("2 a_1", ["a_1"]).value({"a_1": 3}) == 6


def test_formula_is_not_sympy():
    assert isinstance(parse_expression("2x", ["x"]), Formula)


PAYLOADS = [
    "__import__('os').system('x')", "().__class__", "lambda: 1", "exec('1')", "eval('1')", "x.real",
    "open('/etc/passwd')", "x[0]", "'x'", "[x for x in ()]", "x if x else x", "globals()", "x; import os",
    "getattr(x, 'y')", "Symbol('x')", "sympify('x')", "__builtins__", "x.__class__.__mro__", "os.system",
    "Integer(2)", "x, y", "x == x", "x = 1", "f'{x}'", "b'x'", "\\x41", "x # comment", "`x`", "x @ x",
]


@pytest.mark.parametrize("typed", PAYLOADS)
def test_code_is_rejected_as_a_formula(typed):
    with pytest.raises(SubmissionError):
        parse_expression(typed, ["x", "y"])


@contextmanager
def no_sympy():
    """sympy's parser and sympify raise if anything calls them."""
    import sympy
    from sympy.parsing import sympy_parser

    refuse = mock.Mock(side_effect=AssertionError("sympy saw the text"))
    with mock.patch.object(sympy_parser, "parse_expr", refuse), mock.patch.object(sympy, "sympify", refuse), \
            mock.patch.object(sympy, "parse_expr", refuse, create=True):
        yield refuse


@pytest.mark.parametrize("typed", PAYLOADS + ["2x sin(x)", "Piecewise((1, x > 0), (0, True))", "max(0, x)"])
def test_no_formula_reaches_sympy(typed):
    with no_sympy() as refuse:
        try:
            parse_expression(typed, ["x", "y"])
        except SubmissionError:
            pass
    assert not refuse.called


@pytest.mark.parametrize("typed,message", [
    ("z", "unknown name 'z'"),
    ("x2", "unknown name 'x2'"),
    ("__import__", "'_' is not allowed"),
    ("x.y", "'.' is not allowed"),
    ("2 3", "a number cannot follow"),
    ("1e-3 x", "scientific notation"),
    ("9^9^9", "undefined or too large"),
    ("((((9^100)^100)^100)^100)", "undefined or too large"),
    ("1/0", "undefined"),
    ("log(0)", "undefined"),
    ("sin()", "has no argument"),
    ("sin", "needs its argument"),
    ("(x + 1", "not closed"),
    ("x + 1)", "closes nothing"),
    ("(" * 21 + "x" + ")" * 21, "nested more than 20"),
    ("x+" * 100 + "x", "too long"),
    ("x = 1", "'=' is not allowed"),
    ("1" * 31, "too many digits"),
])
def test_rejected_formula(typed, message):
    with pytest.raises(SubmissionError) as caught:
        parse_expression(typed, ["x"])
    assert message in str(caught.value)


def test_unknown_name_message_lists_what_is_allowed():
    with pytest.raises(SubmissionError) as caught:
        parse_expression("t", ["x"])
    assert "use numbers, e, pi, x," in str(caught.value)


@pytest.mark.parametrize("name", ["lambda", "__x", "x.y", "sin", "Max", "True", "Piecewise", "1x", ""])
def test_a_bad_symbol_name_is_a_programming_error(name):
    with pytest.raises(ValueError):
        parse_expression("1", [name])


# -- one cell -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("typed", ["", "   ", "\u00a0\u2009", "\ufeff", None])
def test_blank_cell_is_blank(typed, kind):
    assert parse_cell(typed, kind) is BLANK


@pytest.mark.parametrize("kind,typed,value", [
    ("number", "−0,5", F(-1, 2)),
    ("vector", "1; 2", (1, 2)),
    ("matrix", "1 2; 3 4", ((1, 2), (3, 4))),
    ("shape", "3×2", (3, 2)),
    ("integer", "3.0", 3),
    ("label", "1.0", "1"),
    ("expression", "2x", parse_expression("2*x", ["x"])),
    ("text", "  because σ′ is missing  ", "because σ′ is missing"),
])
def test_cell_of_each_kind(kind, typed, value):
    assert parse_cell(typed, kind, symbols=["x"]) == value


def test_cell_passes_the_expected_length():
    with pytest.raises(SubmissionError) as caught:
        parse_cell("1, 2", "vector", length=3)
    assert "expected 3 entries, got 2" in str(caught.value)


def test_cell_passes_the_expected_shape():
    with pytest.raises(SubmissionError) as caught:
        parse_cell("1 2 3", "matrix", shape=(3, 1))
    assert "expected a 3x1 matrix, got 1x3" in str(caught.value)


def test_cell_passes_the_allowed_labels():
    with pytest.raises(SubmissionError):
        parse_cell("2", "label", labels=["0", "1"])


def test_cell_passes_percent_ok():
    assert parse_cell("5%", "number", percent_ok=True) == F(1, 20)


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_cell("1", "drawing")


# -- properties: any text is either read or refused with a SubmissionError -------------------------
TYPED = st.text(alphabet="0123456789.,;:-+/eE%xX×[](){} \n\t−\u00a0\\&^Tᵀby", max_size=30)
FORMULA = st.text(alphabet="xy0123456789.+-*/^() _'[],sincoexplgqrtahm:=πσ²", max_size=40)
# Well-formed formulas (and near misses), so that sympy's parser itself runs under the tripwires.
GRAMMAR = st.recursive(
    st.sampled_from(["x", "y", "2", "0.5", "9", "100", "e", "pi", "0", "z", "__x"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^", " ", ""]), inner).map("".join),
        st.tuples(st.sampled_from(["sin", "exp", "ln", "sqrt", "sigma", "", "eval", "().__class__"]), inner)
        .map(lambda t: f"{t[0]}({t[1]})")),
    max_leaves=10)


@MANY
@given(st.text(), st.sampled_from(KINDS))
def test_any_text_is_read_or_refused(text, kind):
    try:
        parse_cell(text, kind, symbols=["x"])
    except SubmissionError:
        pass


@MANY
@given(TYPED, st.sampled_from(KINDS), st.sampled_from([None, 1, 2, 3]))
def test_any_number_like_text_is_read_or_refused(text, kind, size):
    try:
        parse_cell(text, kind, length=size, shape=size and (size, 2), percent_ok=True)
    except SubmissionError:
        pass


@MANY
@given(st.one_of(FORMULA, GRAMMAR))
def test_any_formula_like_text_is_read_or_refused(text):
    try:
        parse_cell(text, "expression", symbols=["x", "y"])
    except SubmissionError:
        pass


# -- properties: parsing never runs the student's text --------------------------------------------
class Tripwire(BaseException):
    """Parsing tried to run code: not an Exception, so no `except Exception` in the parser can hide it."""


FORBIDDEN_MODULES = {"os", "subprocess", "shutil", "socket", "pty", "ctypes", "importlib"}
FORBIDDEN_CODE = re.compile(r"__|import|lambda|exec|eval|open|system|getattr|globals")


@contextmanager
def tripwires():
    """Importing os & co, calling os.system, or eval/exec of code naming dunders, imports, etc. trips."""
    real_import, real_eval, real_exec = builtins.__import__, builtins.eval, builtins.exec

    def guarded_import(name, *args, **kwargs):
        if name.split(".")[0] in FORBIDDEN_MODULES:
            raise Tripwire(f"import {name}")
        return real_import(name, *args, **kwargs)

    def guarded(real):
        def run(source, *args, **kwargs):
            names = source if isinstance(source, str) else " ".join(getattr(source, "co_names", ()))
            if FORBIDDEN_CODE.search(names):
                raise Tripwire(f"ran {names!r}")
            return real(source, *args, **kwargs)
        return run

    def trip(*args, **kwargs):
        raise Tripwire("a process was started")

    with mock.patch.object(builtins, "__import__", guarded_import), \
            mock.patch.object(builtins, "eval", guarded(real_eval)), \
            mock.patch.object(builtins, "exec", guarded(real_exec)), \
            mock.patch.object(os, "system", trip), mock.patch.object(subprocess, "Popen", trip):
        yield


def test_tripwire_catches_eval_of_an_import():
    with tripwires(), pytest.raises(Tripwire):
        eval("__import__('os').system('true')")


def test_tripwire_lets_a_valid_formula_through():
    with tripwires():
        assert parse_expression("x^2 + 1", ["x"]).value({"x": 2}) == 5


@pytest.mark.parametrize("typed", PAYLOADS)
def test_payload_runs_nothing(typed):
    with tripwires(), pytest.raises(SubmissionError):
        parse_cell(typed, "expression", symbols=["x"])


@MANY
@given(st.one_of(st.text(max_size=60), FORMULA, GRAMMAR, st.sampled_from(PAYLOADS)), st.sampled_from(KINDS))
def test_random_text_runs_nothing(text, kind):
    with tripwires():
        try:
            parse_cell(text, kind, symbols=["x", "y"])
        except SubmissionError:
            pass


# -- properties: typed forms of a terminating decimal read back exactly -----------------------------
def _plain(value: F) -> str:
    return format(Decimal(value.numerator) / Decimal(value.denominator), "f")


FORMS = {
    "plain": _plain,
    "unicode minus": lambda v: _plain(v).replace("-", "\u2212"),
    "decimal comma": lambda v: _plain(v).replace(".", ","),
    "leading plus": lambda v: ("+" if v >= 0 else "") + _plain(v),
    "scientific": lambda v: format(Decimal(v.numerator) / Decimal(v.denominator), "e"),
    "scientific capital": lambda v: format(Decimal(v.numerator) / Decimal(v.denominator), "E"),
    "fraction": lambda v: f"{v.numerator}/{v.denominator}",
    "no-break spaces": lambda v: f"\u00a0{_plain(v)}\u2009",
}
TERMINATING = st.builds(lambda n, places: F(n, 10**places), st.integers(-10**9, 10**9), st.integers(0, 6))


@pytest.mark.parametrize("form", FORMS)
@FAST
@given(TERMINATING)
def test_typed_form_reads_back_exactly(form, value):
    text = FORMS[form](value)
    assume(not re.fullmatch(r"[+\-−]?[1-9][0-9]{0,2},[0-9]{3}", text))  # ambiguous, refused on purpose
    assert parse_number(text) == value


@FAST
@given(st.lists(TERMINATING, min_size=1, max_size=5))
def test_vector_with_decimal_commas_reads_back_exactly(values):
    text = "[" + "; ".join(_plain(v).replace(".", ",") for v in values) + "]"
    assume(not re.search(r"(^|[\[ \-])[1-9][0-9]{0,2},[0-9]{3}([;\]])", text))
    assert parse_vector(text, len(values)) == tuple(values)
