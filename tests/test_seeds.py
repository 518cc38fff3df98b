"""The pinned seed instances reproduce every reference answer of seeds/INDEX.md."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import pytest

from qgen import numeric
from qgen.bank import load_params
from qgen.nn import dense
from qgen.nn.network import Network
from qgen.solve import solve

PINS = Path(__file__).resolve().parent.parent / "banks" / "pins"


@lru_cache(maxsize=None)
def parts(pin: str) -> dict:
    q = solve("mlp-backprop", params=load_params(PINS / pin))
    return {p.id: p for p in q.parts}


def bmatrix(*entries: str) -> str:
    return r"\begin{bmatrix} " + r" \\ ".join(entries) + r" \end{bmatrix}"


# (pin file, part id, reference as printed in INDEX.md); a tuple is a vector.
NUMBERS = [
    # 000: 2-2-1 sigmoid network, ½ squared error, λ = 2
    ("seed-000.yaml", "z1", ("0", "24")),
    ("seed-000.yaml", "a1", ("0.5", "1.0000")),
    ("seed-000.yaml", "z2", "-2.0000"),
    ("seed-000.yaml", "yhat", "0.1192"),
    ("seed-000.yaml", "loss", "0.3879"),
    ("seed-000.yaml", "factor.dl_dyhat[1]", "-0.8808"),
    ("seed-000.yaml", "factor.dyhat[1]_dz2[1]", "0.1050"),
    ("seed-000.yaml", "factor.dz2[1]_dW2[1,1]", "0.5"),
    ("seed-000.yaml", "grad.W2[1,1]", "-0.0462"),
    ("seed-000.yaml", "factor.dz2[1]_da1[1]", "2"),
    ("seed-000.yaml", "factor.da1[1]_dz1[1]", "0.25"),
    ("seed-000.yaml", "factor.dz1[1]_dW1[1,2]", "5"),
    ("seed-000.yaml", "grad.W1[1,2]", "-0.2312"),
    ("seed-000.yaml", "update.W2[1,1]", "2.0925"),
    ("seed-000.yaml", "update.W1[1,2]", "1.4624"),
    # 001 §3: ReLU hidden layer, sigmoid output, (y − ŷ)², η = 2
    ("seed-001-s3.yaml", "z1", ("3", "-2")),
    ("seed-001-s3.yaml", "a1", ("3", "0")),
    ("seed-001-s3.yaml", "z2", "-5"),
    ("seed-001-s3.yaml", "yhat", "0.0067"),
    ("seed-001-s3.yaml", "loss", "0.9867"),
    ("seed-001-s3.yaml", "factor.dl_dyhat[1]", "-1.9866"),
    ("seed-001-s3.yaml", "factor.dyhat[1]_dz2[1]", "0.0066"),
    ("seed-001-s3.yaml", "factor.dz2[1]_dW2[1,1]", "3"),
    ("seed-001-s3.yaml", "grad.W2[1,1]", "-0.0396"),
    ("seed-001-s3.yaml", "factor.dz2[1]_da1[1]", "-2"),
    ("seed-001-s3.yaml", "factor.da1[1]_dz1[1]", "1"),
    ("seed-001-s3.yaml", "factor.dz1[1]_dW1[1,2]", "5"),
    ("seed-001-s3.yaml", "grad.W1[1,2]", "0.1321"),
    ("seed-001-s3.yaml", "update.W2[1,1]", "-1.9208"),
    ("seed-001-s3.yaml", "update.W1[1,2]", "-1.2641"),
]

# Answers that are not numbers: shapes, class, counts (answer, answer_tex).
OTHERS = [
    ("seed-000.yaml", "shape.W1", [3, 2], r"3 \times 2"),
    ("seed-000.yaml", "shape.W2", [3, 1], r"3 \times 1"),
    ("seed-000.yaml", "class", "0", "0"),
    ("seed-001-s3.yaml", "matrices", 2, "2"),
    ("seed-001-s3.yaml", "shape.W1", [2, 3], r"2 \times 3"),
    ("seed-001-s3.yaml", "shape.W2", [1, 3], r"1 \times 3"),
    ("seed-001-s3.yaml", "class", "0", "0"),
    ("seed-001-s3.yaml", "count.linear1", 6, "6"),
    ("seed-001-s3.yaml", "count.activation1", 0, "0"),
    ("seed-001-s3.yaml", "count.total", 9, "9"),
]


def _places(reference: str) -> int:
    return len(reference.partition(".")[2])


def _ids(cases):
    return [f"{c[0][:8]}:{c[1]}" for c in cases]


@pytest.mark.parametrize("pin, part, reference", NUMBERS, ids=_ids(NUMBERS))
def test_answer_rounds_to_the_reference(pin, part, reference):
    answer = parts(pin)[part].answer
    if isinstance(reference, tuple):
        assert [round(a, _places(r)) for a, r in zip(answer, reference)] == [float(r) for r in reference]
    else:
        assert round(answer, _places(reference)) == float(reference)


@pytest.mark.parametrize("pin, part, reference", NUMBERS, ids=_ids(NUMBERS))
def test_displayed_answer_is_the_reference(pin, part, reference):
    expected = bmatrix(*reference) if isinstance(reference, tuple) else reference
    assert parts(pin)[part].answer_tex == expected


@pytest.mark.parametrize("pin, part, answer, tex", OTHERS, ids=_ids(OTHERS))
def test_other_answer_is_the_reference(pin, part, answer, tex):
    assert parts(pin)[part].answer == answer


@pytest.mark.parametrize("pin, part, answer, tex", OTHERS, ids=_ids(OTHERS))
def test_other_answer_is_displayed_as_the_reference(pin, part, answer, tex):
    assert parts(pin)[part].answer_tex == tex


def test_seed_000_second_hidden_output_is_shown_rounded_not_exact():
    # β¹₂ = σ(24) is not 1: it is shown as 1.0000 and its worked line says ≈
    q = solve("mlp-backprop", params=load_params(PINS / "seed-000.yaml"))
    assert not numeric.is_exact(q.trace["a1[2]"]) and q.trace["a1[2]"] < 1


def test_seed_000_worked_line_of_beta_uses_approx():
    assert parts("seed-000.yaml")["a1"].worked[1].endswith(r"\approx 1.0000")


def test_seed_000_first_weight_matrix_is_printed_as_in_the_document():
    q = solve("mlp-backprop", params=load_params(PINS / "seed-000.yaml"))
    assert q.context["layers"][0]["matrix"] == r"\begin{bmatrix} -1 & 2 \\ -2 & 1 \\ 1 & 4 \end{bmatrix}"


def test_seed_001_first_weight_matrix_is_printed_as_in_the_document():
    q = solve("mlp-backprop", params=load_params(PINS / "seed-001-s3.yaml"))
    assert q.context["layers"][0]["matrix"] == r"\begin{bmatrix} 2 & 3 & -1 \\ -1 & -3 & 1 \end{bmatrix}"


def test_seed_000_asks_exactly_the_documents_factors():
    ids = [p for p in parts("seed-000.yaml") if p.startswith("factor.")]
    assert ids == ["factor.dl_dyhat[1]", "factor.dyhat[1]_dz2[1]", "factor.dz2[1]_dW2[1,1]",
                   "factor.dz2[1]_da1[1]", "factor.da1[1]_dz1[1]", "factor.dz1[1]_dW1[1,2]"]


# -- seed 002: rational data stay exact through ReLU, a linear output and squared error -----
def seed_002(data=None) -> dict:
    return {
        "layers": [{"W": [[1, 1]], "b": [0], "activation": "relu"}, {"W": [[1]], "b": [0], "activation": "linear"}],
        "loss": "squared_error",
        "reduction": "mean",
        "data": data if data is not None else [{"x": [2, 1], "y": [1.3]}, {"x": [-3, 2], "y": [1.9]}],
        "learning_rate": 0.01,
    }


THETA = ["W1[1,1]", "W1[1,2]", "b1[1]", "W2[1,1]", "b2[1]"]  # the document's w0 … w4
GRADIENT_002 = ["3.4", "1.7", "1.7", "5.1", "-0.2"]
UPDATED_002 = ["0.966", "0.983", "-0.017", "0.949", "0.002"]


@pytest.mark.parametrize("point, gradient, loss", [
    ({"x": [2, 1], "y": [1.3]}, ["6.8", "3.4", "3.4", "10.2", "3.4"], "2.89"),
    ({"x": [-3, 2], "y": [1.9]}, ["0", "0", "0", "0", "-3.8"], "3.61"),
])
def test_seed_002_per_example_gradient_is_exact(point, gradient, loss):
    t = dense.build(Network.from_mapping(seed_002([point])))
    assert [t[f"dJ_d{w}"] for w in THETA] + [t["J"]] == [Fraction(g) for g in gradient] + [Fraction(loss)]


@pytest.mark.parametrize("w, expected", list(zip(THETA, GRADIENT_002)))
def test_seed_002_gradient_over_the_data_set_is_an_exact_fraction(w, expected):
    t = dense.build(Network.from_mapping(seed_002()))
    assert t[f"dJ_d{w}"] == Fraction(expected)


@pytest.mark.parametrize("w, expected", list(zip(THETA, UPDATED_002)))
def test_seed_002_updated_parameter_is_exact(w, expected):
    t = dense.build(Network.from_mapping(seed_002()))
    assert t[f"{w}_new"] == Fraction(expected)


def test_seed_002_objective_is_exactly_3_25():
    t = dense.build(Network.from_mapping(seed_002()))
    assert t["J"] == Fraction(13, 4)


def test_seed_002_first_gradient_is_17_fifths():
    t = dense.build(Network.from_mapping(seed_002()))
    assert t["dJ_dW1[1,1]"] == Fraction(17, 5)


def test_seed_002_updated_weight_prints_as_0_966():
    t = dense.build(Network.from_mapping(seed_002()))
    assert numeric.decimal_str(t["W1[1,1]_new"]) == "0.966"


def test_seed_002_solution_in_canonical_form():
    net = Network.from_mapping(seed_002())
    sol = dense.solution(net, dense.build(net))
    assert sol == {"objective": 3.25,
                   "gradients": [{"W": [[3.4, 1.7]], "b": [1.7]}, {"W": [[5.1]], "b": [-0.2]}],
                   "updated": [{"W": [[0.966, 0.983]], "b": [-0.017]}, {"W": [[0.949]], "b": [0.002]}]}


def test_seed_002_per_example_update_prints_without_float_noise():
    t = dense.build(Network.from_mapping(seed_002([{"x": [2, 1], "y": [1.3]}])))
    assert numeric.decimal_str(t["W1[1,1]_new"]) == "0.932"
