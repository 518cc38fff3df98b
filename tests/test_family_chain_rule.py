"""Family chain-rule: the pinned seed 001 §2 instance, sampled instances checked independently, bad params."""

from __future__ import annotations

import math
import shutil
import subprocess
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from sympy.parsing.sympy_parser import auto_number, parse_expr

from qgen import numeric
from qgen.bank import load_params
from qgen.errors import BankError, FamilyError
from qgen.families import domain as dom
from qgen.families.chain_rule import ChainRule, parse_point
from qgen.solve import solve
from tests.conftest import needs_latex, needs_pdftotext

PIN = Path(__file__).resolve().parent.parent / "banks" / "pins" / "seed-001-s2.yaml"
SEEDS = range(20)
x = sp.Symbol("x")

# A safe parser for answer text: only x and whitelisted functions, no automatic symbols, no builtins.
LOCALS = {"x": x, "sin": sp.sin, "cos": sp.cos, "exp": sp.exp, "log": sp.log, "tanh": sp.tanh, "pi": sp.pi}
GLOBALS = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational, "__builtins__": {}}


def parse(text: str) -> sp.Expr:
    return parse_expr(text, local_dict=LOCALS, global_dict=GLOBALS, transformations=(auto_number,))


# Independent definitions of the pools: sympy for the derivative, math for finite differences.
INNER = {"sin": (sp.sin(x), math.sin), "cos": (sp.cos(x), math.cos), "exp": (sp.exp(x), math.exp),
         "ln": (sp.log(x), math.log), "tanh": (sp.tanh(x), math.tanh), "x^2": (x**2, lambda t: t**2),
         "x^3": (x**3, lambda t: t**3), "x^4": (x**4, lambda t: t**4), "x^2+1": (x**2 + 1, lambda t: t**2 + 1),
         "3x-2": (3 * x - 2, lambda t: 3 * t - 2)}
OUTER = {"product": lambda u, v, a, b: u * v, "quotient": lambda u, v, a, b: u / v,
         "sum": lambda u, v, a, b: u + v, "linear": lambda u, v, a, b: a * u + b * v,
         "product-square": lambda u, v, a, b: u * v**2}
STEP = 1e-5


def central(f, t: float) -> float:
    return (f(t + STEP) - f(t - STEP)) / (2 * STEP)


@cache
def question(seed: int):
    return solve("chain-rule", seed=seed)


@cache
def pinned():
    return solve("chain-rule", params=load_params(PIN))


def part(q, id: str):
    return next(p for p in q.parts if p.id == id)


def pieces(params: dict):
    """(sympy y, float y, float g, float h, float m, x0 as a float) from the params alone."""
    (g, gf), (h, hf) = INNER[params["g"]], INNER[params["h"]]
    a, b = params.get("coefficients", (1, 1))
    m = OUTER[params["m"]]
    x0 = float(parse(str(params["x0"])))
    return m(g, h, a, b), (lambda t: m(gf(t), hf(t), a, b)), gf, hf, (lambda u, v: m(u, v, a, b)), x0


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


# -- the pinned instance of seed 001 §2 -----------------------------------------------------------
def test_pinned_derivative_is_the_documents():
    answer = parse(part(pinned(), "derivative").answer)
    assert sp.simplify(answer - (sp.cos(x) * x**2 + 2 * x * sp.sin(x))) == 0


def test_pinned_derivative_is_displayed_as_sympy_prints_it():
    assert part(pinned(), "derivative").answer_tex == r"x^{2} \cos{\left(x \right)} + 2 x \sin{\left(x \right)}"


def test_pinned_value_at_half_pi_is_pi():
    assert abs(pinned().trace["dy_dx"] - numeric.CTX.pi) < numeric.CTX.mpf("1e-45")


def test_pinned_value_is_displayed_rounded():
    assert part(pinned(), "value").answer_tex == "3.1416"


def test_pinned_cosine_factor_is_exactly_zero():
    assert pinned().trace["du_dx"] == Fraction(0)


def test_pinned_instance_asks_the_documents_parts():
    assert [p.id for p in pinned().parts] == ["chain", "derivative", "value", "rule.product", "rule.quotient"]


def test_pinned_chain_model_answer_is_the_chain_rule():
    model = part(pinned(), "chain").model_answer
    assert r"\frac{\partial y}{\partial u}\frac{du}{dx} + \frac{\partial y}{\partial v}\frac{dv}{dx}" in model


def test_pinned_worked_lines_show_each_factor():
    worked = part(pinned(), "derivative").worked
    assert worked[:4] == (r"\frac{\partial y}{\partial u} = v = x^{2}", r"\frac{du}{dx} = \cos{\left(x \right)}",
                          r"\frac{\partial y}{\partial v} = u = \sin{\left(x \right)}", r"\frac{dv}{dx} = 2 x")


def test_pinned_params_are_stored_as_pinned():
    assert pinned().params == {"m": "product", "g": "sin", "h": "x^2", "x0": "pi/2"}


# -- sampled instances, checked independently -----------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_expression_answer_is_the_sympy_derivative(seed):
    q = question(seed)
    y = pieces(q.params)[0]
    assert sp.simplify(parse(part(q, "derivative").answer) - sp.diff(y, x)) == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_numeric_answer_is_a_central_difference_of_y(seed):
    q = question(seed)
    _, yf, *_, x0 = pieces(q.params)
    assert close(part(q, "value").answer, central(yf, x0))


@pytest.mark.parametrize("seed", SEEDS)
def test_inner_derivative_nodes_are_central_differences(seed):
    q = question(seed)
    _, _, gf, hf, _, x0 = pieces(q.params)
    t = q.trace
    assert close(numeric.to_float(t["du_dx"]), central(gf, x0)) and close(numeric.to_float(t["dv_dx"]), central(hf, x0))


@pytest.mark.parametrize("seed", SEEDS)
def test_outer_partial_nodes_are_central_differences(seed):
    q = question(seed)
    *_, mf, _ = pieces(q.params)
    u, v = numeric.to_float(q.trace["u"]), numeric.to_float(q.trace["v"])
    assert (close(numeric.to_float(q.trace["dy_du"]), central(lambda s: mf(s, v), u))
            and close(numeric.to_float(q.trace["dy_dv"]), central(lambda s: mf(u, s), v)))


@pytest.mark.parametrize("seed", SEEDS)
def test_factor_nodes_multiply_and_sum_to_the_total(seed):
    t = question(seed).trace
    total = numeric.real(t["dy_du"]) * numeric.real(t["du_dx"]) + numeric.real(t["dy_dv"]) * numeric.real(t["dv_dx"])
    assert abs(total - numeric.real(t["dy_dx"])) < numeric.CTX.mpf("1e-40")


@pytest.mark.parametrize("seed", SEEDS)
def test_total_node_agrees_with_sympy_to_40_digits(seed):
    q = question(seed)
    y = pieces(q.params)[0]
    exact = sp.diff(y, x).subs(x, parse(str(q.params["x0"])))
    assert abs(sp.N(exact, 50) - sp.Float(str(numeric.real(q.trace["dy_dx"])), 50)) < sp.Float("1e-40")


@pytest.mark.parametrize("seed", SEEDS)
def test_error_carried_forward_recomputes_the_total(seed):
    t = question(seed).trace
    env = t.evaluate({"du_dx": Fraction(7, 2)})
    expected = numeric.add(numeric.mul(t["dy_du"], Fraction(7, 2)), numeric.mul(t["dy_dv"], t["dv_dx"]))
    assert abs(numeric.real(env["dy_dx"]) - numeric.real(expected)) < numeric.CTX.mpf("1e-40")


@pytest.mark.parametrize("seed", SEEDS)
def test_part_ids_are_unique(seed):
    ids = [p.id for p in question(seed).parts]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_instance_is_fair(seed):
    assert ChainRule().problems(question(seed).params) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_same_seed_gives_identical_parts(seed):
    assert solve("chain-rule", seed=seed).parts == question(seed).parts


@pytest.mark.parametrize("seed", SEEDS)
def test_stored_params_rebuild_the_same_question(seed):
    q = question(seed)
    assert solve("chain-rule", params=q.params).parts == q.parts


@pytest.mark.parametrize("seed", SEEDS)
def test_every_derivation_part_has_a_model_answer_and_rubric(seed):
    texts = [p for p in question(seed).parts if p.kind == "text"]
    assert len(texts) >= 2 and all(p.model and "Rubric (" in p.model_answer for p in texts)


def test_quotient_instance_asks_for_the_quotient_rule():
    q = solve("chain-rule", params={"m": "quotient", "g": "exp", "h": "x^2+1", "x0": "1/2"})
    assert [p.id for p in q.parts][3:] == ["rule.quotient"]


def test_polynomial_instance_stays_exact():
    q = solve("chain-rule", params={"m": "product", "g": "x^2+1", "h": "3x-2", "x0": "3/2"})
    assert q.trace["dy_dx"] == Fraction(69, 4)


def test_parser_rejects_names_outside_the_whitelist():
    with pytest.raises(NameError):
        parse("__import__('os')")


# -- x0 and pinned params -------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [(2, sp.Integer(2)), (0.5, sp.Rational(1, 2)), ("-3/2", sp.Rational(-3, 2)),
                                         ("pi/4", sp.pi / 4), ("2*pi/3", 2 * sp.pi / 3), ("-pi", -sp.pi)])
def test_point_is_parsed_exactly(text, value):
    assert parse_point(text, "params.x0") == value


@pytest.mark.parametrize("key, value", [("m", "power"), ("g", "sqrt"), ("h", "x^5"), ("g", 3)])
def test_unknown_pool_name_is_a_bank_error_naming_the_key(key, value):
    params = load_params(PIN)
    params[key] = value
    with pytest.raises(BankError) as exc:
        solve("chain-rule", params=params)
    assert f"params.{key}" in str(exc.value)


@pytest.mark.parametrize("params", [{"m": "product", "g": "ln", "h": "x^2", "x0": -1},
                                    {"m": "quotient", "g": "sin", "h": "x^2", "x0": 0},
                                    {"m": "product", "g": "sin", "h": "x^2", "x0": "__import__('os')"},
                                    {"m": "product", "g": "sin", "h": "x^2"}])
def test_bad_point_is_a_bank_error_naming_x0(params):
    with pytest.raises(BankError) as exc:
        solve("chain-rule", params=params)
    assert "params.x0" in str(exc.value)


@pytest.mark.parametrize("coefficients", [None, [1], [0, 2], [1.5, 2]])
def test_linear_m_needs_two_nonzero_whole_coefficients(coefficients):
    params = {"m": "linear", "g": "sin", "h": "x^2", "x0": 1, "coefficients": coefficients}
    with pytest.raises(BankError) as exc:
        solve("chain-rule", params=params)
    assert "params.coefficients" in str(exc.value)


def test_unknown_param_key_is_a_bank_error():
    with pytest.raises(BankError) as exc:
        solve("chain-rule", params={"m": "product", "g": "sin", "h": "x^2", "x0": 1, "f": "cos"})
    assert "unknown key(s) f" in str(exc.value)


# -- domains --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_sampling_respects_a_domain_override(seed):
    fam = ChainRule()
    domain = dom.merge(fam.default_domain, {"m": ["quotient"], "x0": [1, 2]}, "q.domain")
    params = fam.sample(np.random.default_rng(seed), domain)
    assert params["m"] == "quotient" and params["x0"] in ("1", "2")


def test_domain_override_with_an_unknown_function_names_the_key():
    with pytest.raises(BankError) as exc:
        dom.merge(ChainRule.default_domain, {"g": ["sqrt"]}, "questions[0].domain")
    assert "questions[0].domain.g" in str(exc.value)


def test_impossible_domain_is_a_family_error():
    fam = ChainRule()
    domain = dom.merge(fam.default_domain, {"g": ["sin"], "h": ["sin"]}, "q.domain")
    with pytest.raises(FamilyError) as exc:
        fam.sample(np.random.default_rng(0), domain)
    assert "g and h are the same function" in str(exc.value)


# -- rendering ------------------------------------------------------------------------------------
@needs_latex
@needs_pdftotext
@pytest.mark.latex
def test_key_shows_the_values_and_the_exam_does_not(tmp_path):
    if shutil.which("latexmk") is None:
        pytest.skip("latexmk not installed")
    from qgen.render.exam import document
    from qgen.render.pdf import compile_pdf

    questions = [question(s) for s in (1, 2, 3)]
    values = [part(q, "value").answer_tex for q in questions]
    text = {}
    for key in (False, True):
        tex = tmp_path / f"{'key' if key else 'exam'}.tex"
        tex.write_text(document(title="Chain rule", course="", date="", instructions="", exam_id="cr", version="1",
                                places=4, questions=questions, key=key), encoding="utf-8")
        out = subprocess.run(["pdftotext", str(compile_pdf(tex)), "-"], capture_output=True, text=True, check=True)
        text[key] = out.stdout.replace("\u2212", "-")
    assert all(v in text[True] and v not in text[False] for v in values)
