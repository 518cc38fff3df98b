"""Family regression-mlp (seed 004): derivations against sympy, numbers against numpy, bad input."""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import sympy

from qgen.bank import load_params
from qgen.errors import BankError, FamilyError
from qgen.families import domain as dom
from qgen.families.regression_mlp import RegressionMlp, typed
from qgen.notation import PROFILES
from qgen.solve import solve

PIN = Path(__file__).resolve().parent.parent / "banks" / "pins" / "seed-004.yaml"
SEEDS = range(20)
PARAMETERS = ("w2", "b2", "w1", "b1")


@lru_cache(maxsize=None)
def pinned():
    return solve("regression-mlp", params=load_params(PIN))


@lru_cache(maxsize=None)
def sampled(seed: int, profile: str = "scalar-layers"):
    return solve("regression-mlp", seed=seed, notation=profile)


def part(q, id: str):
    return next(p for p in q.parts if p.id == id)


# -- the derivations, against sympy.diff -----------------------------------------------------
w1, b1, w2, b2, x, y = sympy.symbols("w1 b1 w2 b2 x y")
A1 = 1 / (1 + sympy.exp(-(w1 * x + b1)))
A2 = w2 * A1 + b2
LOSS = (y - A2) ** 2  # one data point
NAMES = {name: sympy.Symbol(name) for name in ("w1", "b1", "w2", "b2", "x", "y", "a1", "a2", "z1", "z2")}


def _in_parameters(answer: str):
    """The typed answer with a1 and a2 written out through the parameters."""
    expr = sympy.sympify(answer, locals=NAMES)
    return expr.subs({NAMES["a2"]: A2}).subs({NAMES["a1"]: A1})


@pytest.mark.parametrize("name", PARAMETERS)
def test_derivation_is_the_derivative_of_the_loss(name):
    derivative = sympy.diff(LOSS, sympy.Symbol(name))
    assert sympy.simplify(_in_parameters(part(pinned(), f"derive.{name}").answer) - derivative) == 0


@pytest.mark.parametrize("name, answer", [
    ("w2", "2*(a2 - y)*a1"),
    ("b2", "2*(a2 - y)"),
    ("w1", "2*(a2 - y)*w2*a1*(1 - a1)*x"),
    ("b1", "2*(a2 - y)*w2*a1*(1 - a1)"),
])
def test_derivation_is_typed_as_the_document_writes_it(name, answer):
    assert part(pinned(), f"derive.{name}").answer == answer


@pytest.mark.parametrize("name, tex", [
    ("w2", r"2\left(a_{2} - y\right) \cdot a_{1}"),
    ("b2", r"2\left(a_{2} - y\right)"),
    ("w1", r"2\left(a_{2} - y\right) \cdot w_{2} \cdot a_{1} \cdot \left(1 - a_{1}\right) \cdot x"),
    ("b1", r"2\left(a_{2} - y\right) \cdot w_{2} \cdot a_{1} \cdot \left(1 - a_{1}\right)"),
])
def test_derivation_is_displayed_as_the_document_writes_it(name, tex):
    assert part(pinned(), f"derive.{name}").answer_tex == tex


def test_first_layer_derivation_shows_the_documents_chain():
    assert part(pinned(), "derive.w1").worked[0].startswith(
        r"\frac{\partial L}{\partial w_{1}} = \frac{\partial L}{\partial a_{2}} \cdot "
        r"\frac{\partial a_{2}}{\partial z_{2}} \cdot \frac{\partial z_{2}}{\partial a_{1}} \cdot "
        r"\frac{\partial a_{1}}{\partial z_{1}} \cdot "
        r"\frac{\partial z_{1}}{\partial w_{1}} = ")


def test_derivations_are_expression_parts():
    assert {part(pinned(), f"derive.{n}").kind for n in PARAMETERS} == {"expression"}


def test_half_loss_part_has_a_model_answer_and_rubric():
    p = part(pinned(), "half-loss")
    assert (p.kind, "factor 2" in p.model_answer, "Rubric" in p.model_answer) == ("text", True, True)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_derivation_answers_do_not_depend_on_the_notation(profile):
    q = solve("regression-mlp", params={**load_params(PIN), "notation": profile})
    assert [part(q, f"derive.{n}").answer for n in PARAMETERS] == [part(pinned(), f"derive.{n}").answer
                                                                   for n in PARAMETERS]


def test_typed_wraps_a_difference_in_a_product():
    from qgen.expr import Const, Prod, Ref, Sub

    assert typed(Prod((Ref("a1[1]"), Sub(Const(Fraction(1)), Ref("a1[1]"))))) == "a1*(1 - a1)"


# -- the numbers, against numpy ----------------------------------------------------------------
class Numpy:
    """A float64 forward pass with θ = (w1, b1, w2, b2) and the mean squared error."""

    def __init__(self, network: dict):
        hidden, out = network["layers"]
        self.theta = np.array([hidden["W"][0][0], hidden["b"][0], out["W"][0][0], out["b"][0]], dtype=float)
        self.X = np.array([float(Fraction(str(p["x"][0]))) for p in network["data"]])
        self.Y = np.array([float(Fraction(str(p["y"][0]))) for p in network["data"]])
        self.lr = float(Fraction(str(network["learning_rate"])))

    @staticmethod
    def forward(theta, x):
        z1 = theta[0] * x + theta[1]
        a1 = 1 / (1 + np.exp(-z1))
        return z1, a1, theta[2] * a1 + theta[3]

    def loss(self, theta):
        return np.mean((self.Y - self.forward(theta, self.X)[2]) ** 2)

    def gradient(self, theta, eps=1e-6):
        return np.array([(self.loss(theta + eps * e) - self.loss(theta - eps * e)) / (2 * eps) for e in np.eye(4)])


ORDER = {"w1": 0, "b1": 1, "w2": 2, "b2": 3}


def _check_numbers(q):
    ref = Numpy(q.params["network"])
    for i, xi in enumerate(ref.X):
        assert part(q, f"forward@{i + 1}").answer == pytest.approx(list(ref.forward(ref.theta, xi)), abs=1e-9)
    assert part(q, "objective").answer == pytest.approx(ref.loss(ref.theta))
    grad = ref.gradient(ref.theta)
    for name in PARAMETERS:
        assert part(q, f"grad.{name}").answer == pytest.approx(grad[ORDER[name]], abs=1e-6)
        assert part(q, f"update.{name}").answer == pytest.approx(ref.theta[ORDER[name]] - ref.lr * grad[ORDER[name]],
                                                                 abs=1e-6)


def test_seed_004_instance_agrees_with_numpy():
    _check_numbers(pinned())


@pytest.mark.parametrize("name, reference", [("grad.w2", 0.4804), ("grad.b2", 0.7616), ("grad.w1", 0.4148),
                                             ("grad.b1", 0.3049), ("objective", 0.1592)])
def test_seed_004_pinned_values(name, reference):
    # our own instance: w1 = 1, b1 = −1, w2 = 2, b2 = 0.5 on (1, 1), (3, 2); checked against numpy above
    assert round(part(pinned(), name).answer, 4) == reference


def test_seed_004_first_point_is_exact():
    assert part(pinned(), "forward@1").answer_tex == r"\begin{bmatrix} 0 \\ 0.5 \\ 1.5 \end{bmatrix}"


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_numbers_agree_with_numpy_and_finite_differences(seed):
    _check_numbers(sampled(seed))


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_derivations_are_the_derivatives(seed):
    for name in PARAMETERS:
        derivative = sympy.diff(LOSS, sympy.Symbol(name))
        assert sympy.simplify(_in_parameters(part(sampled(seed), f"derive.{name}").answer) - derivative) == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_part_ids_are_unique(seed):
    ids = [p.id for p in sampled(seed).parts]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_instance_is_fair(seed):
    assert RegressionMlp().problems(sampled(seed).params) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_instance_has_one_to_three_points(seed):
    assert 1 <= len(sampled(seed).params["network"]["data"]) <= 3


@pytest.mark.parametrize("seed", range(5))
def test_same_seed_gives_identical_parts(seed):
    assert solve("regression-mlp", seed=seed, notation="scalar-layers").parts == sampled(seed).parts


@pytest.mark.parametrize("seed", range(5))
def test_stored_params_rebuild_the_same_question(seed):
    q = sampled(seed)
    assert solve("regression-mlp", params={**q.params, "notation": "scalar-layers"}).parts == q.parts


@pytest.mark.parametrize("seed", range(5))
def test_answers_do_not_depend_on_the_notation(seed):
    def answers(profile):
        return [p.answer for p in sampled(seed, profile).parts]

    assert all(answers(p) == answers("scalar-layers") for p in PROFILES)


def test_different_seeds_give_different_instances():
    assert len({repr(sampled(s).params) for s in SEEDS}) == len(SEEDS)


def test_single_point_instance_has_no_point_marks():
    params = load_params(PIN)
    params["network"]["data"] = params["network"]["data"][:1]
    q = solve("regression-mlp", params=params)
    assert part(q, "forward@1").keys == ("z1[1]", "a1[1]", "yhat[1]")


def test_impossible_domain_is_a_family_error():
    fam = RegressionMlp()
    domain = dom.merge(fam.default_domain, {"x": [3], "weights": [2], "biases": [1]}, "d")
    with pytest.raises(FamilyError) as exc:
        fam.sample(np.random.default_rng(0), domain)
    assert "no fair instance" in str(exc.value)


# -- bad pinned parameters -----------------------------------------------------------------
def _pinned_with(change):
    params = load_params(PIN)
    change(params["network"])
    return params


BAD = [
    (lambda n: n["layers"][0].update(W=[[1], [2]], b=[0, 0]), "params.network.layers"),
    (lambda n: n["layers"][0].update(activation="relu"), "params.network.layers[0].activation"),
    (lambda n: n["layers"][1].update(activation="sigmoid"), "params.network.layers[1].activation"),
    (lambda n: n.update(loss="half_squared_error"), "params.network.loss"),
    (lambda n: n.update(reduction="sum"), "params.network.loss"),
    (lambda n: n.update(data=[{"x": [v], "y": [0]} for v in range(6)]), "params.network.data"),
    (lambda n: n.update(learning_rate="fast"), "params.network.learning_rate"),
]


@pytest.mark.parametrize("change, key", BAD, ids=[f"{i}-{k}" for i, (_, k) in enumerate(BAD)])
def test_bad_pinned_network_is_a_bank_error_naming_the_key(change, key):
    with pytest.raises(BankError) as exc:
        solve("regression-mlp", params=_pinned_with(change))
    assert key in str(exc.value)


def test_unknown_param_is_a_bank_error():
    with pytest.raises(BankError) as exc:
        solve("regression-mlp", params={**load_params(PIN), "note": "x"})
    assert "note" in str(exc.value)


# -- rendering -----------------------------------------------------------------------------
def _render(q, key: bool) -> str:
    from qgen.render.exam import document

    return document(title="t", course="", date="", instructions="", exam_id="t", version="1", places=4,
                    questions=[q], key=key)


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
                    reason="latexmk/pdftotext not installed")
@pytest.mark.parametrize("seed", [0, 4, 7])
def test_key_pdf_has_the_answer_and_the_exam_pdf_does_not(tmp_path, seed):
    from qgen.render.pdf import compile_pdf

    q = sampled(seed)
    texts = {}
    for key in (False, True):
        tex = tmp_path / f"{'key' if key else 'exam'}.tex"
        tex.write_text(_render(q, key), encoding="utf-8")
        pdf = compile_pdf(tex, timeout=300)
        texts[key] = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    answer = part(q, "update.w1").answer_tex
    assert (answer in texts[True].replace("\u2212", "-"), answer in texts[False].replace("\u2212", "-")) == (True,
                                                                                                            False)


def test_domain_with_too_many_points_is_a_bank_error_naming_the_domain_key():
    fam = RegressionMlp()
    with pytest.raises(BankError) as exc:
        fam.sample(np.random.default_rng(0), dom.merge(fam.default_domain, {"points": [9]}, "d"))
    assert "domain.points" in str(exc.value)
