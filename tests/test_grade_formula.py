"""Formula answers: every form people type is read, right forms earn the credit and wrong ones do not,
each part's names come from its family, hostile text is judged fast and safely, old manifests grade."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qgen.errors import SubmissionError
from qgen.generate import question_record
from qgen.grade import formula as fm
from qgen.grade.compare import judge, symbol_names
from qgen.grade.formula import Spec, judge_formula, parse_formula, same, value_at
from qgen.grade.parse import parse_cell
from qgen.notation import PROFILES
from qgen.solve import solve

FORMULA_FAMILIES = ("activations", "chain-rule", "logistic-sgd", "regression-mlp")
TABLE = {"functions": [{"name": "sigmoid", "z": [-1, 2]}, {"name": "tanh", "z": [-1, 0.5]},
                       {"name": "relu", "z": [-1, 2]}, {"name": "leaky_relu", "z": [-1, 2]},
                       {"name": "linear", "z": [1]}], "leaky_slope": 0.1}


def records(family: str, **kw) -> dict[str, dict]:
    """The manifest records of a solved question's parts, by id."""
    q = solve(family, **kw)
    return {p["id"]: p for p in question_record(q, kw.get("seed"))["parts"]}


ACTIVATIONS = records("activations", params=TABLE)


def credit(text: str, part: dict) -> float:
    verdict, _ = judge_formula(text, part)
    return float(verdict.credit)


# -- the activation table: forms and credit written down by hand ---------------------------------------
@pytest.mark.parametrize("part,typed,expected", [
    # sigmoid: g' = g(1 - g), in terms of g, g(z), sigma, or z alone
    ("sigmoid.derivative", "g*(1-g)", 1),
    ("sigmoid.derivative", "g(1-g)", 1),
    ("sigmoid.derivative", "g - g^2", 1),
    ("sigmoid.derivative", "g-g²", 1),
    ("sigmoid.derivative", "g(z)*(1-g(z))", 1),
    ("sigmoid.derivative", "g(z)(1 − g(z))", 1),
    ("sigmoid.derivative", "g(z)·g(−z)", 1),  # a defined name applied to another argument
    ("sigmoid.derivative", "sigma(z)*(1-sigma(z))", 1),
    ("sigmoid.derivative", "σ(z)(1-σ(z))", 1),
    ("sigmoid.derivative", "sigmoid(z) (1 - sigmoid(z))", 1),
    ("sigmoid.derivative", "exp(-z)/(1+exp(-z))^2", 1),
    ("sigmoid.derivative", "e^-z/(1+e^-z)^2", 1),
    ("sigmoid.derivative", "e^(-z) / (1 + e^(-z))**2", 1),
    ("sigmoid.derivative", "g*(1+g)", 0),
    ("sigmoid.derivative", "g(z)(1 - e^(-z))", 0),  # seed 001's misprint
    ("sigmoid.derivative", "1 - g", 0),
    ("sigmoid.derivative", "g", 0),
    ("sigmoid.derivative", "sigma(z)", 0),
    # tanh: g' = 1 - g²
    ("tanh.derivative", "1 - tanh(z)^2", 1),
    ("tanh.derivative", "1-tanh^2(z)", 1),
    ("tanh.derivative", "1 - tanh²z", 1),
    ("tanh.derivative", "sech(z)^2", 1),
    ("tanh.derivative", "sech^2 z", 1),
    ("tanh.derivative", "sech²(z)", 1),
    ("tanh.derivative", "1-g^2", 1),
    ("tanh.derivative", "1 - g(z)²", 1),
    ("tanh.derivative", "(1-g)(1+g)", 1),
    ("tanh.derivative", "4/(exp(z)+exp(-z))^2", 1),
    ("tanh.derivative", "1/cosh(z)^2", 1),
    ("tanh.derivative", "1 - g", 0),
    ("tanh.derivative", "1 + g^2", 0),
    ("tanh.derivative", "1 - tanh(z)", 0),
    # ReLU: 1 for z > 0, 0 below (the value at 0 is a convention the points never meet)
    ("relu.derivative", "Heaviside(z)", 1),
    ("relu.derivative", "Heaviside(z, 0)", 1),
    ("relu.derivative", "step(z)", 1),
    ("relu.derivative", "(z > 0)", 1),
    ("relu.derivative", "z > 0", 1),
    ("relu.derivative", "z ≥ 0", 1),
    ("relu.derivative", "1 if z > 0 else 0", 1),
    ("relu.derivative", "{1 if z>0; 0 otherwise}", 1),
    ("relu.derivative", "{1 if z > 0, 0 otherwise}", 1),
    ("relu.derivative", "{1 if z > 0; 0 if z <= 0}", 1),
    ("relu.derivative", "{1, z > 0; 0, z <= 0}", 1),
    ("relu.derivative", "{1 if z > 0 else 0}", 1),
    ("relu.derivative", "{0 if z <= 0; otherwise 1}", 1),
    ("relu.derivative", "Piecewise((1, z > 0), (0, True))", 1),
    ("relu.derivative", "g > 0", 1),  # g is max(0, z)
    ("relu.derivative", "max(0, z)/z", 1),
    ("relu.derivative", "z > 1", 0),
    ("relu.derivative", "z > 0.1", 0),
    ("relu.derivative", "z < 0", 0),
    ("relu.derivative", "1", 0),
    ("relu.derivative", "z", 0),
    ("relu.derivative", "max(0, 1)", 0),
    # leaky ReLU with slope 0.1
    ("leaky_relu.derivative", "1 if z > 0 else 0.1", 1),
    ("leaky_relu.derivative", "{1 if z>0; 0.1 otherwise}", 1),
    ("leaky_relu.derivative", "0.1 + 0.9 step(z)", 1),
    ("leaky_relu.derivative", "0.1 if z < 0 else 1", 1),
    ("leaky_relu.derivative", "max(0.1, (z>0))", 1),
    ("leaky_relu.derivative", "Piecewise((1, z > 0), (1/10, True))", 1),
    ("leaky_relu.derivative", "1 if z > 0 else 0", 0),
    ("leaky_relu.derivative", "1 if z > 0 else 0.01", 0),
    # linear
    ("linear.derivative", "1", 1),
    ("linear.derivative", "g/z", 1),
    ("linear.derivative", "z", 0),
    ("linear.derivative", "0", 0),
])
def test_derivative_forms(part, typed, expected):
    assert credit(typed, ACTIVATIONS[part]) == expected


@pytest.mark.parametrize("part,typed,expected", [
    ("sigmoid.definition", "1/(1+e^-z)", 1),
    ("sigmoid.definition", "1/(1 + exp(-z))", 1),
    ("sigmoid.definition", "1/(1 + e^(−z))", 1),
    ("sigmoid.definition", "e^z/(1+e^z)", 1),
    ("sigmoid.definition", "sigma(z)", 0),  # the function being defined may not be used
    ("sigmoid.definition", "σ(z)", 0),
    ("sigmoid.definition", "sigmoid(z)", 0),
    ("sigmoid.definition", "1/(1-e^-z)", 0),
    ("sigmoid.definition", "1/(1+e^z)", 0),
    ("tanh.definition", "(e^z - e^-z)/(e^z + e^-z)", 1),
    ("tanh.definition", "(exp(z) − exp(−z)) / (exp(z) + exp(−z))", 1),
    ("tanh.definition", "sinh(z)/cosh(z)", 1),
    ("tanh.definition", "(exp(2z)-1)/(exp(2z)+1)", 1),
    ("tanh.definition", "2 sigma(2z) - 1", 1),
    ("tanh.definition", "tanh(z)", 0),
    ("tanh.definition", "(e^z - e^-z)/2", 0),
    ("relu.definition", "max(0, z)", 1),
    ("relu.definition", "Max(0,z)", 1),
    ("relu.definition", "max(z,0)", 1),
    ("relu.definition", "z if z > 0 else 0", 1),
    ("relu.definition", "(z>0)*z", 1),
    ("relu.definition", "z (z>0)", 1),
    ("relu.definition", "z*Heaviside(z)", 1),
    ("relu.definition", "(z + abs(z))/2", 1),
    ("relu.definition", "{z if z > 0; 0 otherwise}", 1),
    ("relu.definition", "min(0,z)", 0),
    ("relu.definition", "abs(z)", 0),
    ("leaky_relu.definition", "max(z, 0.1z)", 1),
    ("leaky_relu.definition", "max(0.1 z, z)", 1),
    ("leaky_relu.definition", "z if z > 0 else 0.1z", 1),
    ("leaky_relu.definition", "{z if z>0; 0.1 z otherwise}", 1),
    ("leaky_relu.definition", "max(0, z)", 0),
    ("linear.definition", "z", 1),
    ("linear.definition", "1z", 1),
    ("linear.definition", "1", 0),
])
def test_definition_forms(part, typed, expected):
    assert credit(typed, ACTIVATIONS[part]) == expected


def test_a_forbidden_function_is_refused_with_a_note():
    verdict, note = judge_formula("sigma(z)", ACTIVATIONS["sigmoid.definition"])
    assert verdict.credit == 0 and "sigma is not allowed in this answer" in note


def test_a_forbidden_function_is_refused_however_it_is_written():
    for typed in ("Sigma(z)", "2sigmoid(z)", "zσ(z)"):
        assert "is not allowed in this answer" in judge_formula(typed, ACTIVATIONS["sigmoid.definition"])[1]
    assert "tanh is not allowed" in judge_formula("tanhz", ACTIVATIONS["tanh.definition"])[1]


def test_a_blank_formula_is_blank():
    assert judge_formula("  ", CHAIN["derivative"])[0].status == "blank"
    assert judge_formula(None, CHAIN["derivative"])[0].status == "blank"


def test_a_definition_part_has_no_g():
    verdict, note = judge_formula("g", ACTIVATIONS["sigmoid.definition"])
    assert verdict.credit == 0 and "unknown name 'g'" in note


# -- the other families ------------------------------------------------------------------------------
CHAIN = records("chain-rule", params={"m": "product", "g": "sin", "h": "x^2", "x0": "pi/2"})
LOGISTIC = records("logistic-sgd", seed=3)
REGRESSION = records("regression-mlp", seed=2)


@pytest.mark.parametrize("typed,expected", [
    ("2x sin(x) + x^2 cos x", 1),
    ("x²cos(x)+2x·sin(x)", 1),
    ("x^2 cos x + 2 x sin x", 1),
    ("x(x cos x + 2 sin x)", 1),
    ("2*x*sin(x) + x**2*cos(x)", 1),
    ("2x cos(x) + x^2 sin(x)", 0),
    ("2x sin(x)", 0),
])
def test_chain_rule_forms(typed, expected):
    assert credit(typed, CHAIN["derivative"]) == expected


@pytest.mark.parametrize("part,typed,expected", [
    ("derive.grad", "-x_j(y-h)", 1),
    ("derive.grad", "x_j(h-y)", 1),
    ("derive.grad", "xj*(h - y)", 1),
    ("derive.grad", "-x_j(y - h(x))", 1),  # h written with its argument
    ("derive.grad", "(h-y)x_j", 1),
    ("derive.grad", "x_j(y-h)", 0),
    ("derive.grad", "-x_j y (1-h)", 0),
    ("derive.update", "w_j + eta x_j (y-h)", 1),
    ("derive.update", "w_j - η x_j (h - y)", 1),
    ("derive.update", "wj+eta*xj*(y-h)", 1),
    ("derive.update", "w_j - eta x_j(y-h)", 0),
])
def test_logistic_forms(part, typed, expected):
    assert credit(typed, LOGISTIC[part]) == expected


@pytest.mark.parametrize("part,typed,expected", [
    ("derive.w1", "2(a2-y)w2 a1(1-a1)x", 1),
    ("derive.w1", "2(a_2 - y) w_2 a_1 (1 - a_1) x", 1),
    ("derive.w2", "2(a2-y)a1", 1),
    ("derive.b2", "2(a2 - y)", 1),
    ("derive.b2", "-2(y - a2)", 1),
    ("derive.b1", "(a2-y)*w2*a1*(1-a1)", 0),  # the factor 2 of the squared error is missing
    ("derive.w2", "2(a2-y)", 0),
])
def test_regression_forms(part, typed, expected):
    assert credit(typed, REGRESSION[part]) == expected


def test_a_name_the_part_does_not_declare_is_refused():
    verdict, note = judge_formula("-2(y-a2)*w2*σ(z1)", REGRESSION["derive.w1"])
    assert verdict.credit == 0 and "unknown name 'z1'" in note and "a1, a2, w2, x, y" in note


# -- the manifest ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", FORMULA_FAMILIES)
def test_every_expression_part_declares_its_names(family):
    parts = records(family, seed=1)
    formulas = [p for p in parts.values() if p["kind"] == "expression"]
    assert formulas
    for p in formulas:
        assert set(p["formula"]) == {"variables", "definitions", "forbid"}
        assert p["formula"]["variables"] and isinstance(p["formula"]["definitions"], dict)
    assert all("formula" not in p for p in parts.values() if p["kind"] != "expression")


def test_manifest_formula_records():
    assert ACTIVATIONS["sigmoid.definition"]["formula"] == {"variables": ["z"], "definitions": {},
                                                              "forbid": ["sigma", "sigmoid"]}
    assert ACTIVATIONS["tanh.derivative"]["formula"] == {
        "variables": ["z"], "definitions": {"g": "(exp(z) - exp(-z))/(exp(z) + exp(-z))"}, "forbid": []}
    assert LOGISTIC["derive.update"]["formula"]["variables"] == ["w_j", "eta", "x_j", "y", "h"]
    assert REGRESSION["derive.w2"]["formula"]["variables"] == ["a2", "y", "a1"]
    assert CHAIN["derivative"]["formula"] == {"variables": ["x"], "definitions": {}, "forbid": []}


def test_chain_rule_value_records_the_formula_it_comes_from():
    value = CHAIN["value"]
    assert value["from_formula"] == {"part": "derivative", "at": {"x": math.pi / 2}}
    assert value_at(CHAIN["derivative"]["answer"], CHAIN["derivative"], value["from_formula"]["at"]) == \
        pytest.approx(value["answer"])
    # a wrong formula carries its own value forward: 2x cos x + x² sin x at π/2 is π²/4
    assert value_at("2x cos(x) + x^2 sin(x)", CHAIN["derivative"], value["from_formula"]["at"]) == \
        pytest.approx(math.pi**2 / 4)
    assert "from_formula" not in CHAIN["derivative"]


def test_value_at_is_none_when_unreadable_undefined_or_complex():
    part = CHAIN["derivative"]
    assert value_at("x +", part, {"x": 1}) is None
    assert value_at("1/(x - 1)", part, {"x": 1}) is None
    assert value_at("ln(x)", part, {"x": -1}) is None
    assert value_at("exp(x)", part, {"x": 1000}) is None
    assert value_at("x", part, {"y": 1}) is None
    assert value_at("sqrt(x)", part, {"x": "2.25"}) == 1.5
    assert value_at("g(1-g)", ACTIVATIONS["sigmoid.derivative"], {"z": 0}) == 0.25  # definitions filled in


# -- every key, and every accepted form, typed back earns full credit -------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FORMULA_FAMILIES), st.integers(0, 10**6), st.sampled_from(sorted(PROFILES)))
def test_key_and_accepted_forms_typed_back_are_right(family, seed, profile):
    q = solve(family, seed=seed, notation=profile)
    for part in (p.manifest() for p in q.parts if p.kind == "expression"):
        for text in (part["answer"], *part.get("accept", ())):
            verdict, note = judge_formula(str(text), part)
            assert verdict.credit == 1 and not note, (family, seed, part["id"], text, note)
            written = str(parse_formula(str(text), Spec.of(part["formula"])))  # the tree written back reads back
            assert judge_formula(written, part)[0].credit == 1, (text, written)
        old = {k: v for k, v in part.items() if k != "formula"}  # as a manifest from before formulas had names
        assert judge_formula(str(part["answer"]), old)[0].credit == 1


# -- old manifests -------------------------------------------------------------------------------------
@pytest.mark.parametrize("answer,accept,typed,expected", [
    ("Piecewise((1, z > 0), (0, True))", ["Heaviside(z, 0)", "Heaviside(z)"], "Piecewise((1, z > 0), (0, True))", 1),
    ("Piecewise((1, z > 0), (0, True))", ["Heaviside(z, 0)", "Heaviside(z)"], "1 if z > 0 else 0", 1),
    ("Piecewise((1, z > 0), (0, True))", ["Heaviside(z, 0)", "Heaviside(z)"], "Heaviside(z)", 1),
    ("Piecewise((1, z > 0), (0, True))", ["Heaviside(z, 0)", "Heaviside(z)"], "z > 1", 0),
    ("Piecewise((1, z > 0), (1/10, True))", ["1/10 + (1 - 1/10)*Heaviside(z, 0)"], "{1 if z > 0; 0.1 otherwise}", 1),
    ("Max(0, z)", [], "max(z, 0)", 1),
    ("g*(1 - g)", ["exp(-z)/(1 + exp(-z))**2"], "g(1-g)", 1),
    ("g*(1 - g)", ["exp(-z)/(1 + exp(-z))**2"], "e^-z/(1+e^-z)^2", 1),
    ("g*(1 - g)", ["exp(-z)/(1 + exp(-z))**2"], "g(1+g)", 0),
    ("1 - g**2", ["1 - tanh(z)**2", "4/(exp(z) + exp(-z))**2"], "1 - tanh(z)^2", 1),
    ("-x_j*(y - h)", ["x_j*(h - y)"], "x_j (h - y)", 1),
])
def test_an_old_manifest_without_formula_still_grades(answer, accept, typed, expected):
    part = {"id": "d", "kind": "expression", "answer": answer, "accept": accept, "points": 2}
    assert credit(typed, part) == expected
    symbols = symbol_names(answer)  # how score.py reads an old record's cell
    assert "True" not in symbols and "Piecewise" not in symbols and "Heaviside" not in symbols
    student = parse_cell(typed, "expression", symbols=fm.key_variables(answer, *accept))
    assert float(judge(part, student).credit) == expected


def test_the_grader_scores_an_old_record_through_score_question():
    from qgen.grade.score import Question, score_question

    part = {"id": "relu.derivative", "kind": "expression", "answer": "Piecewise((1, z > 0), (0, True))",
            "accept": ["Heaviside(z, 0)"], "points": 2}
    question = Question({"index": 1, "family": "none", "parts": [part]})
    for typed, status in (("z > 0", "correct"), ("Piecewise((1, z > 0), (0, True))", "correct"),
                          ("z > 1", "wrong"), ("import os", "malformed")):
        assert score_question(question, {"q1.relu.derivative": typed})[0].status == status, typed


# -- the reader ------------------------------------------------------------------------------------------
X = Spec(("x",))


@pytest.mark.parametrize("a,b", [
    ("2x sin(x)", "2*x*sin(x)"),
    ("2(x+1)", "2*(x + 1)"),
    ("(x+1)(x-1)", "(x + 1)*(x - 1)"),
    ("x^2 cos x", "x^2*cos(x)"),
    ("cos x sin x", "cos(x)*sin(x)"),
    ("sin^2(x)", "sin(x)^2"),
    ("sin²x", "sin(x)^2"),
    ("tanh(x)^2", "tanh(x)**2"),
    ("x⁻¹", "x^(-1)"),
    ("−x × 2 ÷ 3", "-x*2/3"),
    ("-x^2", "-(x^2)"),
    ("2^-x", "2^(-x)"),
    ("x^x^2", "x^(x^2)"),
    ("e^x", "exp(x)"),
    ("πx", "pi*x"),
    ("√x", "sqrt(x)"),
    ("Sin(x) + EXP(x)", "sin(x) + exp(x)"),
    ("log(x)", "ln(x)"),
    ("Abs(x)", "abs(x)"),
    ("max(0, x, 1)", "Max(Max(0, x), 1)"),
    ("0 < x < 1", "(x > 0)*(x < 1)"),
    ("x ≥ 1", "x >= 1"),
    ("True", "1"),
    ("False + 0", "0"),
    ("1 if x > 0 else 2 if x > -1 else 3", "{1 if x > 0; 2 if x > -1; 3 otherwise}"),
    ("Piecewise((x, x > 0), (0, True))", "max(x, 0)"),
])
def test_forms_read_the_same(a, b):
    assert same(parse_formula(a, X), parse_formula(b, X), X)


def test_implicit_products_read_as_products_and_applications_as_calls():
    spec = Spec(("z",), (("g", "1/(1 + exp(-z))"),))
    assert str(parse_formula("g(1 - g)", spec)) == "g*(1 - g)"
    assert str(parse_formula("g(z)(1 - g(z))", spec)) == "g*(1 - g)"
    assert str(parse_formula("g(-z)", spec)) == "g(-z)"
    assert str(parse_formula("x_j(y-h)", Spec(("x_j", "y", "h")))) == "x_j*(y - h)"


def test_a_variable_named_e_shadows_the_constant():
    spec = Spec(("e",))
    assert not same(parse_formula("e", spec), parse_formula("2.718281828459045", spec), spec)
    assert same(parse_formula("e", X), parse_formula("exp(1)", X), X)


@pytest.mark.parametrize("typed", ["sin x", "ln(-x)", "sqrt(x - 3)"])
def test_complex_values_still_compare(typed):  # ln and sqrt of negatives evaluate (in complex numbers)
    assert same(parse_formula(typed, X), parse_formula(typed.replace(" x", "(x)"), X), X)


def test_ln_abs_is_right_where_the_key_is_real():
    assert same(parse_formula("ln(abs(x))", X), parse_formula("ln(x)", X), X)  # x > 0 points decide
    assert not same(parse_formula("ln(x)", X), parse_formula("ln(abs(x))", X), X)  # x < 0: the key is real


def test_judging_is_cached():
    part = dict(CHAIN["derivative"])
    judge_formula("2x sin x + x^2 cos x", part)
    hits = fm._judged.cache_info().hits
    judge_formula("2x sin x + x^2 cos x", part)
    assert fm._judged.cache_info().hits == hits + 1


# -- hostile formulas ---------------------------------------------------------------------------------------
HOSTILE = [
    "99^99", "exp(exp(exp(100)))", "x^x^x^x^x^x", "9**9**9", "(" * 300 + "x" + ")" * 300, "(" * 90 + "x" + ")" * 90,
    "factorial(10^6)", "__import__('os')", "1" * 5000, "1e300", "x^1000", "2^2^2^2^2^2^2^2^2", "e^e^e^e^e^e^e^e",
    "-" * 190 + "x", "x" + "^x" * 70, "sin " * 49 + "x", "{" * 20 + "x" + "}" * 20, "max(" + ",".join(["x"] * 60) + ")",
    "1/(x-x)", "ln(0)", "sqrt(-1)", "0^-1", "(-8)^(1/3)", "x^(1/0)", "tan(pi/2)", "exp(710)", "x!" * 90,
    "sigma(" * 19 + "x" + ")" * 19, "Piecewise(" + "(x, x > 0), " * 20 + "(0, True))", "x if x > 0 else " * 12 + "x",
    "\x00", "x\u202e", "ｘ", "lambda: 1", "x.__class__", "x, y", "x == x", "'x'", "",
]


@pytest.mark.parametrize("typed", HOSTILE)
def test_a_hostile_formula_is_judged_fast_and_earns_nothing(typed):
    part = CHAIN["derivative"]
    start = time.perf_counter()
    verdict, note = judge_formula(typed, part)
    assert time.perf_counter() - start < 1.0
    assert verdict.credit == 0
    try:
        parse_formula(typed, X)
    except SubmissionError:
        pass
    value_at(typed, part, {"x": 1.0})


FORMULA_TEXT = st.text(alphabet="xzg0123456789.+-*/^()[]{},;<>= _'sincoexplgqrtahmdxPwieTruFlsfσπ²⁻¹−×·",
                       max_size=60)
GRAMMAR = st.recursive(
    st.sampled_from(["x", "z", "g", "2", "0.5", "9", "100", "e", "pi", "0", "True", "__x"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^", " ", "", " > ", " <= ", ", "]), inner).map("".join),
        st.tuples(st.sampled_from(["sin", "exp", "ln", "sqrt", "sigma", "max", "Heaviside", "g", "", "eval"]), inner)
        .map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} if {t[1]} > 0 else {t[2]}"),
        st.tuples(inner, inner).map(lambda t: f"{{{t[0]} if z > 0; {t[1]} otherwise}}"),
        st.tuples(inner, inner).map(lambda t: f"Piecewise(({t[0]}, {t[1]} > 0), (0, True))")),
    max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), FORMULA_TEXT, GRAMMAR))
def test_any_text_is_read_or_refused_and_judged_without_error(text):
    part = ACTIVATIONS["sigmoid.derivative"]
    start = time.perf_counter()
    verdict, note = judge_formula(text, part)
    assert time.perf_counter() - start < 1.0
    assert 0 <= verdict.credit <= 1
    value_at(text, part, {"z": 0.5})
    try:
        formula = parse_formula(text, Spec.of(part["formula"]))
    except SubmissionError:
        return
    assert judge_formula(str(formula), part)[0] == verdict  # what a tree writes reads back as the same formula
