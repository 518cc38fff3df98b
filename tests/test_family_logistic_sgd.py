"""Family logistic-sgd: every answer agrees with an independent numpy computation; bad input is a BankError."""

from __future__ import annotations

import shutil
import subprocess
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
from qgen.families.logistic_sgd import LogisticSgd
from qgen.notation import PROFILES
from qgen.solve import solve

PINS = Path(__file__).resolve().parent.parent / "banks" / "pins"
PIN = PINS / "seed-003-q1.yaml"
SEEDS = range(20)


@lru_cache(maxsize=None)
def question(seed: int | None = None):
    return solve("logistic-sgd", params=load_params(PIN)) if seed is None else solve("logistic-sgd", seed=seed)


def answers(q) -> dict:
    return {p.id: p.answer for p in q.parts}


# -- an independent float64 model ----------------------------------------------------------
def features(params) -> np.ndarray:
    x = [float(Fraction(str(v))) for v in params["x"]]
    return np.array(([1.0] if params["constant_feature"] else []) + x)


def weights(params) -> np.ndarray:
    return np.array([float(Fraction(str(v))) for v in params["w"]])


def predict(w: np.ndarray, x: np.ndarray) -> float:
    return 1.0 / (1.0 + np.exp(-(w @ x)))


def loss(w: np.ndarray, x: np.ndarray, y: float) -> float:
    h = predict(w, x)
    return -(y * np.log(h) + (1 - y) * np.log(1 - h))


def finite_difference(w: np.ndarray, x: np.ndarray, y: float, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(w)
    for j in range(len(w)):
        step = np.zeros_like(w)
        step[j] = eps
        grad[j] = (loss(w + step, x, y) - loss(w - step, x, y)) / (2 * eps)
    return grad


def reference(params) -> dict:
    """h, L, the gradient, the updated weights and the loss after the step, by numpy."""
    x, w, y = features(params), weights(params), float(params["y"])
    lr = float(Fraction(str(params["learning_rate"])))
    grad = finite_difference(w, x, y)
    new = w - lr * grad
    return {"h": predict(w, x), "loss": loss(w, x, y), "grad": grad, "update": new, "loss_new": loss(new, x, y)}


CASES = [None, *SEEDS]


def ids(cases):
    return ["pin" if c is None else f"seed{c}" for c in cases]


# -- every sampled instance and the pin, against numpy ---------------------------------------
@pytest.mark.parametrize("seed", CASES, ids=ids(CASES))
def test_prediction_agrees_with_numpy(seed):
    q = question(seed)
    assert answers(q)["h"] == pytest.approx(reference(q.params)["h"], abs=1e-12)


@pytest.mark.parametrize("seed", CASES, ids=ids(CASES))
def test_loss_agrees_with_numpy(seed):
    q = question(seed)
    assert answers(q)["loss"] == pytest.approx(reference(q.params)["loss"], abs=1e-12)


@pytest.mark.parametrize("seed", CASES, ids=ids(CASES))
def test_gradient_agrees_with_central_finite_differences(seed):
    q = question(seed)
    assert answers(q)["grad"] == pytest.approx(list(reference(q.params)["grad"]), abs=1e-7)


@pytest.mark.parametrize("seed", CASES, ids=ids(CASES))
def test_updated_weights_agree_with_numpy(seed):
    q = question(seed)
    assert answers(q)["update"] == pytest.approx(list(reference(q.params)["update"]), abs=1e-6)


@pytest.mark.parametrize("seed", CASES, ids=ids(CASES))
def test_loss_after_the_step_agrees_with_numpy(seed):
    q = question(seed)
    assert answers(q)["loss_new"] == pytest.approx(reference(q.params)["loss_new"], abs=1e-6)


@pytest.mark.parametrize("seed", CASES, ids=ids(CASES))
def test_decrease_label_agrees_with_numpy(seed):
    q = question(seed)
    ref = reference(q.params)
    assert answers(q)["decrease"] == ("yes" if ref["loss_new"] < ref["loss"] else "no")


@pytest.mark.parametrize("seed", SEEDS)
def test_part_ids_are_unique(seed):
    part_ids = [p.id for p in question(seed).parts]
    assert len(part_ids) == len(set(part_ids))


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_instance_is_fair(seed):
    assert LogisticSgd().problems(question(seed).params) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_prediction_is_not_saturated(seed):
    q = question(seed)
    assert abs(weights(q.params) @ features(q.params)) <= 4


@pytest.mark.parametrize("seed", SEEDS)
def test_same_seed_gives_identical_parts(seed):
    assert solve("logistic-sgd", seed=seed).parts == question(seed).parts


@pytest.mark.parametrize("seed", SEEDS)
def test_every_numeric_part_has_a_worked_line_per_key(seed):
    q = question(seed)
    assert all(len(p.worked) >= len(p.keys) > 0 for p in q.parts if p.kind in ("number", "vector"))


def test_both_feature_layouts_are_sampled():
    assert {question(s).params["constant_feature"] for s in SEEDS} == {True, False}


# -- the derivation, checked by sympy ------------------------------------------------------
def _symbolic_gradient():
    """dL/dw_2 of a three-feature logistic regression, by sympy.diff."""
    w = sp.symbols("w1:4")
    x = sp.symbols("x1:4")
    y = sp.Symbol("y")
    h = 1 / (1 + sp.exp(-sum(wi * xi for wi, xi in zip(w, x))))
    L = -(y * sp.log(h) + (1 - y) * sp.log(1 - h))
    return sp.diff(L, w[1]), h, x[1]


def _as_gradient(text: str):
    _, h, x2 = _symbolic_gradient()
    return parse_expr(text).subs({sp.Symbol("x_j"): x2, sp.Symbol("h"): h})


def test_derived_gradient_is_the_derivative_of_the_loss():
    grad, _, _ = _symbolic_gradient()
    part = {p.id: p for p in question().parts}["derive.grad"]
    assert sp.simplify(grad - _as_gradient(part.answer)) == 0


def test_accepted_gradient_forms_are_the_derivative_of_the_loss():
    grad, _, _ = _symbolic_gradient()
    part = {p.id: p for p in question().parts}["derive.grad"]
    assert all(sp.simplify(grad - _as_gradient(a)) == 0 for a in part.accept)


def test_derived_update_is_a_gradient_descent_step():
    grad, h, x2 = _symbolic_gradient()
    part = {p.id: p for p in question().parts}["derive.update"]
    eta, wj = sp.symbols("eta w_j")
    update = parse_expr(part.answer).subs({sp.Symbol("x_j"): x2, sp.Symbol("h"): h})
    assert sp.simplify(update - (wj - eta * grad)) == 0


def test_derivation_answer_is_displayed_as_in_the_document():
    part = {p.id: p for p in question().parts}["derive.grad"]
    assert part.answer_tex == r"-x_j\bigl(y - h(\mathbf{x})\bigr)"


def test_derivation_key_ends_with_the_simplified_gradient():
    part = {p.id: p for p in question().parts}["derive.grad"]
    assert part.worked[-1].endswith(r"= -x_j\bigl(y - h(\mathbf{x})\bigr)") and len(part.worked) >= 5


def test_update_answer_uses_the_step_size_of_the_notation():
    q = LogisticSgd().build(question().params, PROFILES["bias-row"], 4)
    part = {p.id: p for p in q.parts}["derive.update"]
    assert part.answer == "w_j + lamda*x_j*(y - h)" and r"\lambda" in part.answer_tex


# -- the pinned instance -----------------------------------------------------------------
def test_pin_states_the_constant_feature_first():
    assert question().trace["x[0]"] == 1


@pytest.mark.parametrize("part", ["h", "loss", "loss_new"])
def test_pin_displays_the_numpy_value_to_four_places(part):
    shown = {p.id: p.answer_tex for p in question().parts}[part]
    assert shown == f"{reference(question().params)[part]:.4f}"


@pytest.mark.parametrize("part", ["grad", "update"])
def test_pin_displays_the_numpy_vector_to_four_places(part):
    shown = {p.id: p.answer_tex for p in question().parts}[part]
    entries = [f"{v:.4f}" for v in reference(question().params)[part]]
    assert shown == r"\begin{bmatrix} " + r" \\ ".join(entries) + r" \end{bmatrix}"


def test_pin_bias_gradient_is_minus_the_error():
    q = question()
    assert q.trace["dL_dw[0]"] == q.trace["h"] - 1  # y = 1 and x₀ = 1


def test_update_follows_a_students_gradient_for_error_carried_forward():
    q = question()
    values = q.trace.evaluate({"dL_dw[1]": Fraction(1)})
    assert values["w[1]_new"] == q.trace["w[1]"] - q.trace["lr"] * 1


def test_pin_worked_prediction_starts_from_the_weighted_sum():
    part = {p.id: p for p in question().parts}["h"]
    assert part.worked[0].startswith(r"\gamma = w_{0} \cdot x_{0} + w_{1} \cdot x_{1}")


# -- bad pinned parameters and domains -----------------------------------------------------
@pytest.mark.parametrize("key, value, named", [
    ("w", [1, 2], "params.w"),
    ("y", 2, "params.y"),
    ("y", True, "params.y"),
    ("learning_rate", 0, "params.learning_rate"),
    ("constant_feature", "yes", "params.constant_feature"),
    ("x", [1, "a"], "params.x[1]"),
    ("x", [], "params.x"),
    ("slope", 1, "slope"),
])
def test_bad_pinned_parameter_is_a_bank_error_naming_the_key(key, value, named):
    params = dict(load_params(PIN), **{key: value})
    with pytest.raises(BankError) as exc:
        solve("logistic-sgd", params=params)
    assert named in str(exc.value)


def test_missing_weights_are_a_bank_error():
    params = {k: v for k, v in load_params(PIN).items() if k != "w"}
    with pytest.raises(BankError) as exc:
        solve("logistic-sgd", params=params)
    assert "'w'" in str(exc.value)


@pytest.mark.parametrize("seed", range(3))
def test_constant_feature_domain_gives_a_bias_weight(seed):
    fam = LogisticSgd()
    domain = dom.merge(fam.default_domain, {"constant_feature": [True], "features": [4]}, "q.domain")
    params = fam.sample(np.random.default_rng(seed), domain)
    assert (len(params["x"]), len(params["w"])) == (4, 5)


def test_impossible_domain_is_a_family_error():
    fam = LogisticSgd()
    domain = dom.merge(fam.default_domain, {"w": [2], "x": [3], "constant_feature": [False]}, "q.domain")
    with pytest.raises(FamilyError) as exc:
        fam.sample(np.random.default_rng(0), domain)
    assert "no fair instance" in str(exc.value) and "saturated" in str(exc.value)


# -- rendering -----------------------------------------------------------------------------
def _pdf_text(tmp_path: Path, key: bool) -> str:
    from qgen.render.exam import document
    from qgen.render.pdf import compile_pdf

    questions = [question(s) for s in (0, 1, 2)]
    tex = tmp_path / ("key.tex" if key else "exam.tex")
    tex.write_text(document(title="Logistic SGD", course="", date="", instructions="", exam_id="lsgd", version="1",
                            places=4, questions=questions, key=key), encoding="utf-8")
    pdf = compile_pdf(tex)
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
                    reason="latexmk or pdftotext not installed")
def test_key_shows_the_answers_and_the_exam_does_not(tmp_path):
    answer = f"{reference(question(1).params)['loss']:.4f}"
    key, exam = _pdf_text(tmp_path, key=True), _pdf_text(tmp_path, key=False)
    assert answer in key and answer not in exam and "Answer:" not in exam
