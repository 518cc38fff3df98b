"""Family activations: values against numpy, derivatives against finite differences and sympy.diff."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from sympy.parsing.sympy_parser import parse_expr

from qgen.bank import load_params
from qgen.errors import BankError, FamilyError
from qgen.families import domain as dom
from qgen.families.activation_table import ActivationTable
from qgen.notation import PROFILES
from qgen.render.exam import question_body
from qgen.solve import solve

PIN = Path(__file__).resolve().parent.parent / "banks" / "pins" / "seed-001-s1.yaml"
SEEDS = range(20)
CASES = [None, *SEEDS]
Z, G = sp.Symbol("z"), sp.Symbol("g")
OFF_KINK = [-1.7, -0.3, 0.4, 1.9]  # where every definition is differentiable


@lru_cache(maxsize=None)
def question(seed: int | None = None):
    return solve("activations", params=load_params(PIN)) if seed is None else solve("activations", seed=seed)


def ids(cases):
    return ["pin" if c is None else f"seed{c}" for c in cases]


def rows(q):
    """(name, points as floats, leaky slope) of every asked function."""
    slope = float(Fraction(str(q.params.get("leaky_slope", 0.1))))
    return [(f["name"], [float(Fraction(str(z))) for z in f["z"]], slope) for f in q.params["functions"]]


def parts(q) -> dict:
    return {p.id: p for p in q.parts}


# -- independent float64 definitions -------------------------------------------------------
def g_numpy(name: str, z: np.ndarray, slope: float) -> np.ndarray:
    return {
        "sigmoid": lambda: 1 / (1 + np.exp(-z)),
        "tanh": lambda: np.tanh(z),
        "relu": lambda: np.maximum(z, 0.0),
        "leaky_relu": lambda: np.where(z > 0, z, slope * z),
        "linear": lambda: z,
    }[name]()


def derivative_fd(name: str, z: np.ndarray, slope: float, eps: float = 1e-6) -> np.ndarray:
    return (g_numpy(name, z + eps, slope) - g_numpy(name, z - eps, slope)) / (2 * eps)


def _numeric(expr, z: float, g: float | None = None) -> float:
    subs = {Z: z} if g is None else {Z: z, G: g}
    return float(sp.N(expr.subs(subs)))


# -- values and derivatives of every instance ----------------------------------------------
@pytest.mark.parametrize("seed", CASES, ids=ids(CASES))
def test_values_agree_with_numpy(seed):
    q = question(seed)
    for name, z, slope in rows(q):
        assert parts(q)[f"{name}.g"].answer == pytest.approx(list(g_numpy(name, np.array(z), slope)), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_derivative_values_agree_with_central_finite_differences(seed):
    q = question(seed)
    for name, z, slope in rows(q):
        assert parts(q)[f"{name}.dg"].answer == pytest.approx(list(derivative_fd(name, np.array(z), slope)), abs=1e-7)


@pytest.mark.parametrize("seed", CASES, ids=ids(CASES))
def test_symbolic_derivative_is_sympy_diff_of_the_definition(seed):
    q = question(seed)
    for name, _, _ in rows(q):
        definition = parse_expr(parts(q)[f"{name}.definition"].answer)
        derivative = parse_expr(parts(q)[f"{name}.derivative"].answer).subs(G, definition)
        exact = sp.diff(definition, Z)
        assert [_numeric(derivative, z) for z in OFF_KINK] == pytest.approx([_numeric(exact, z) for z in OFF_KINK])


@pytest.mark.parametrize("seed", CASES, ids=ids(CASES))
def test_accepted_derivative_forms_equal_the_answer_off_the_kink(seed):
    q = question(seed)
    for name, _, _ in rows(q):
        part = parts(q)[f"{name}.derivative"]
        g = parse_expr(parts(q)[f"{name}.definition"].answer)
        answer = parse_expr(part.answer).subs(G, g)
        for form in part.accept:
            other = parse_expr(form).subs(G, g)
            assert [_numeric(other, z) for z in OFF_KINK] == pytest.approx([_numeric(answer, z) for z in OFF_KINK])


@pytest.mark.parametrize("seed", CASES, ids=ids(CASES))
def test_symbolic_definition_gives_the_numeric_values(seed):
    q = question(seed)
    for name, z, _ in rows(q):
        definition = parse_expr(parts(q)[f"{name}.definition"].answer)
        assert parts(q)[f"{name}.g"].answer == pytest.approx([_numeric(definition, v) for v in z], abs=1e-12)


@pytest.mark.parametrize("seed", CASES, ids=ids(CASES))
def test_symbolic_derivative_gives_the_numeric_derivative_values(seed):
    q = question(seed)
    for name, z, _ in rows(q):
        p = parts(q)
        derivative = parse_expr(p[f"{name}.derivative"].answer)
        values = [_numeric(derivative, v, g) for v, g in zip(z, p[f"{name}.g"].answer)]
        assert p[f"{name}.dg"].answer == pytest.approx(values, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_part_ids_are_unique(seed):
    part_ids = [p.id for p in question(seed).parts]
    assert len(part_ids) == len(set(part_ids))


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_instance_is_fair(seed):
    assert ActivationTable().problems(question(seed).params) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_default_domain_asks_three_functions_at_two_points(seed):
    assert [len(z) for _, z, _ in rows(question(seed))] == [2, 2, 2]


@pytest.mark.parametrize("seed", SEEDS)
def test_same_seed_gives_identical_parts(seed):
    assert solve("activations", seed=seed).parts == question(seed).parts


@pytest.mark.parametrize("seed", SEEDS)
def test_stored_params_rebuild_the_same_question(seed):
    assert solve("activations", params=question(seed).params).parts == question(seed).parts


def test_every_nonlinear_function_is_sampled_over_twenty_seeds():
    # linear is not a default choice: the statement calls g "the nonlinear function" (a bank may still list it)
    assert {name for s in SEEDS for name, _, _ in rows(question(s))} == {"sigmoid", "tanh", "relu", "leaky_relu"}


# -- the pinned instance of seed 001 §1 ----------------------------------------------------
def test_pin_asks_the_documents_three_functions():
    assert [name for name, _, _ in rows(question())] == ["sigmoid", "tanh", "relu"]


def test_pin_sigmoid_derivative_at_zero_is_exactly_a_quarter():
    assert parts(question())["sigmoid.dg"].answer_tex == r"\begin{bmatrix} 0.25 \\ 0.1050 \end{bmatrix}"


def test_pin_sigmoid_derivative_is_the_corrected_one():
    assert parts(question())["sigmoid.derivative"].answer == "g*(1 - g)"


def test_pin_key_notes_the_documents_misprint():
    assert any("misprint" in line for line in parts(question())["sigmoid.derivative"].worked)


def test_pin_relu_values_are_exact():
    assert parts(question())["relu.g"].answer_tex == r"\begin{bmatrix} 0 \\ 2 \end{bmatrix}"


def test_pin_tanh_values_are_displayed_as_numpy_rounds_them():
    expected = [f"{v:.4f}" for v in np.tanh([-1.0, 0.5])]
    assert parts(question())["tanh.g"].answer_tex == r"\begin{bmatrix} " + r" \\ ".join(expected) + r" \end{bmatrix}"


def test_key_table_lists_every_value():
    q = question()
    values = [v for p in q.parts if p.kind == "vector" for v in p.answer_tex.split(" ")[1::2]]
    assert all(f"${v}$" in q.context["table"] for v in values)


def test_key_has_the_completed_table_and_the_exam_does_not():
    q = question()
    assert "completed table" in question_body(q, key=True) and "completed table" not in question_body(q, key=False)


def test_statement_gives_the_definitions_when_they_are_not_asked():
    q = question()
    q = replace(q, parts=[p for p in q.parts if not p.id.endswith(".definition")])
    assert r"\frac{1}{1 + e^{-z}}" in question_body(q, key=False)


def test_statement_hides_the_definitions_when_they_are_asked():
    assert r"\frac{1}{1 + e^{-z}}" not in question_body(question(), key=False)


def test_points_at_the_kink_make_the_exam_state_the_convention():
    fam = ActivationTable()
    domain = dom.merge(fam.default_domain, {"functions": ["relu"], "count": [1], "points": [3], "z": [-1, 0, 1]}, "d")
    q = fam.build(fam.sample(np.random.default_rng(0), domain), PROFILES["bias-column"], 4)
    assert "left derivative" in question_body(q, key=False) and parts(q)["relu.dg"].answer == [0, 0, 1]


def test_leaky_slope_is_stated_in_the_exam():
    params = {"functions": [{"name": "leaky_relu", "z": [-2, 1]}], "leaky_slope": 0.2}
    assert "slope $0.2$" in question_body(solve("activations", params=params), key=False)


# -- bad pinned parameters and domains -----------------------------------------------------
@pytest.mark.parametrize("params, named", [
    ({"functions": [{"name": "softmax", "z": [1]}]}, "params.functions[0].name"),
    ({"functions": [{"name": "relu", "z": [1, 1]}]}, "params.functions[0].z"),
    ({"functions": [{"name": "relu", "z": [1, "a"]}]}, "params.functions[0].z[1]"),
    ({"functions": [{"name": "relu", "z": []}]}, "params.functions[0].z"),
    ({"functions": [{"name": "relu", "z": [1]}, {"name": "relu", "z": [2]}]}, "params.functions"),
    ({"functions": [{"name": "relu"}]}, "params.functions[0]"),
    ({"functions": []}, "params.functions"),
    ({"functions": [{"name": "leaky_relu", "z": [1]}], "leaky_slope": 2}, "params.leaky_slope"),
    ({"functions": [{"name": "relu", "z": [1]}], "slope": 2}, "slope"),
])
def test_bad_pinned_parameter_is_a_bank_error_naming_the_key(params, named):
    with pytest.raises(BankError) as exc:
        solve("activations", params=params)
    assert named in str(exc.value)


def test_unknown_function_in_a_domain_is_a_bank_error():
    with pytest.raises(BankError) as exc:
        dom.merge(ActivationTable.default_domain, {"functions": ["softmax"]}, "q.domain")
    assert "q.domain.functions" in str(exc.value)


def test_more_functions_than_the_domain_has_is_a_family_error():
    fam = ActivationTable()
    domain = dom.merge(fam.default_domain, {"functions": ["relu"], "count": [2]}, "q.domain")
    with pytest.raises(FamilyError) as exc:
        fam.sample(np.random.default_rng(0), domain)
    assert "domain.count" in str(exc.value)


def test_one_sided_relu_points_are_an_impossible_domain():
    fam = ActivationTable()
    domain = dom.merge(fam.default_domain, {"functions": ["relu"], "count": [1], "z": [1, 2]}, "q.domain")
    with pytest.raises(FamilyError) as exc:
        fam.sample(np.random.default_rng(0), domain)
    assert "one side of 0" in str(exc.value)


# -- rendering -----------------------------------------------------------------------------
def _pdf_text(tmp_path: Path, key: bool) -> str:
    from qgen.render.exam import document
    from qgen.render.pdf import compile_pdf

    tex = tmp_path / ("key.tex" if key else "exam.tex")
    tex.write_text(document(title="Activations", course="", date="", instructions="", exam_id="act", version="1",
                            places=4, questions=[question(s) for s in (None, 1, 2)], key=key), encoding="utf-8")
    return subprocess.run(["pdftotext", str(compile_pdf(tex)), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
                    reason="latexmk or pdftotext not installed")
def test_key_shows_the_answers_and_the_exam_does_not(tmp_path):
    key, exam = _pdf_text(tmp_path, key=True), _pdf_text(tmp_path, key=False)
    assert "0.8808" in key and "0.8808" not in exam and "Answer:" not in exam
