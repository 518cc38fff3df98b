"""Mistake diagnosis: each slip's wrong value, worked out by hand here, is named by `slips`.

The wrong values are computed independently (math/numpy floats, or exact fractions for seed 002),
never through qgen.grade.diagnose; a student types them to 4 decimals.
"""

from __future__ import annotations

import math
from fractions import Fraction as F
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qgen.bank import load_params
from qgen.families.logistic_sgd import Instance, build_trace
from qgen.grade.compare import Tolerance
from qgen.grade.diagnose import shape_slip, slips
from qgen.nn import dense
from qgen.nn.network import Network
from qgen.solve import solve

PINS = Path(__file__).resolve().parent.parent / "banks" / "pins"
TOL = Tolerance.for_places(4)


def typed(v: float) -> F:
    """What a student writes for `v`, to 4 decimals."""
    return F(f"{float(v):.4f}")


def sigma(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def diagnose(trace, key: str, value: float) -> list[str]:
    return slips(trace, [key], [typed(value)], TOL)


def build(spec: dict):
    return dense.build(Network.from_mapping(spec))


# -- seed 001 §3: x = [2, 5], ReLU hidden (z1 = [3, −2]), sigmoid output, (y − ŷ)², η = 2 -------------
S3 = solve("mlp-backprop", params=load_params(PINS / "seed-001-s3.yaml")).trace
YHAT = sigma(-5)
DL = -2 * (1 - YHAT)  # dℓ/dŷ
DS = YHAT * (1 - YHAT)  # σ′(z2)
G2 = DL * DS * 3  # ∂J/∂W2[1,1] = δ2 · a1[1]
G1 = DL * DS * -2 * 1 * 5  # ∂J/∂W1[1,2] = δ2 · W2[1,1] · ReLU′(3) · x2


def test_hand_values_are_the_seed_answers():
    assert (typed(G2), typed(G1)) == (F("-0.0396"), F("0.1321"))


def test_sigma_prime_left_out_in_the_last_layer_gradient():
    assert "σ′ left out" in diagnose(S3, "dJ_dW2[1,1]", DL * 3)


def test_sigma_prime_left_out_in_the_first_layer_gradient():
    assert "σ′ left out" in diagnose(S3, "dJ_dW1[1,2]", DL * -2 * 5)


def test_sigma_prime_left_out_of_the_factor_itself():
    assert diagnose(S3, "dyhat[1]_dz2[1]", 1) == ["σ′ left out"]


def test_sigma_prime_at_a():
    wrong = sigma(YHAT) * (1 - sigma(YHAT))
    assert diagnose(S3, "dJ_dW2[1,1]", DL * wrong * 3) == ["σ′ taken at a instead of z"]


def test_sign_of_the_update_flipped():
    assert diagnose(S3, "W2[1,1]_new", -2 + 2 * G2) == ["sign of the update flipped"]


def test_learning_rate_left_out():
    # with η = 2, W − ∂J/∂W is also W − η·(½ ∂J/∂W); leaving η out changes fewer values, so it comes first
    assert diagnose(S3, "W1[1,2]_new", -1 - G1) == ["learning rate left out", "½ added"]


def test_half_added_to_the_loss():
    assert diagnose(S3, "loss", 0.5 * (1 - YHAT) ** 2) == ["½ added"]


def test_half_added_to_the_gradient():
    assert diagnose(S3, "dJ_dW2[1,1]", G2 / 2) == ["½ added"]


def test_half_dropped_does_not_apply_to_a_loss_without_half():
    assert "½ dropped" not in diagnose(S3, "dJ_dW2[1,1]", G2 * 2)


def test_bias_left_out_of_z():
    z1 = [3 * 2 - 1 * 5, -3 * 2 + 1 * 5]  # [1, −1]
    z2 = -2 * max(z1[0], 0) + 2 * max(z1[1], 0)
    assert diagnose(S3, "yhat[1]", sigma(z2)) == ["bias left out of z"]


def test_bias_gradient_dropped():
    # z = Wᵀx happens to give b2 ≈ 1.0002 too; the narrower slip comes first, and an unchanged bias is
    # also the old value copied
    assert diagnose(S3, "b2[1]_new", 1) == ["bias gradient dropped", "the old value copied (no step taken)",
                                            "Wᵀ for W"]


def test_transposed_weights_forward():
    z1 = np.array([[3, -1], [-3, 1]]).T @ np.array([2, 5]) + np.array([2, -1])
    assert slips(S3, ["z1[1]", "z1[2]"], [typed(v) for v in z1], TOL) == ["Wᵀ for W"]


def test_a_blank_entry_does_not_hide_the_slip():
    assert slips(S3, ["z1[1]", "z1[2]"], [None, F(2)], TOL) == ["Wᵀ for W"]


def test_a_correct_answer_is_no_slip():
    assert diagnose(S3, "dJ_dW2[1,1]", G2) == []


def test_a_random_wrong_answer_is_no_slip():
    assert diagnose(S3, "dJ_dW2[1,1]", 12.3456) == []


def test_a_blank_answer_is_no_slip():
    assert slips(S3, ["z1[1]", "z1[2]"], [None, None], TOL) == []


def test_sum_instead_of_mean_is_not_diagnosable_for_one_point():
    assert "sum instead of mean" not in diagnose(S3, "J", 2 * (1 - YHAT) ** 2)


def test_transposed_shape():
    assert shape_slip([2, 3], (3, 2)) == "a transposed shape"


def test_square_shape_has_no_transposed_slip():
    assert shape_slip([2, 2], (2, 2)) is None


def test_right_shape_is_no_slip():
    assert shape_slip([1, 3], (1, 3)) is None


# -- a sigmoid hidden layer: x = [1, 2], ½(y − ŷ)², σ everywhere ------------------------------------
SIG = {"layers": [{"W": [[1, -1], [2, 1]], "b": [0, 1], "activation": "sigmoid"},
                  {"W": [[1, -2]], "b": [0.5], "activation": "sigmoid"}],
       "loss": "half_squared_error", "data": [{"x": [1, 2], "y": [1]}], "learning_rate": 0.5}
T_SIG = build(SIG)
A1 = [sigma(-1), sigma(5)]
YS = sigma(A1[0] - 2 * A1[1] + 0.5)
DLS = -(1 - YS)


def test_sigmoid_network_gradient_by_hand():
    right = DLS * YS * (1 - YS) * 1 * A1[0] * (1 - A1[0]) * 1
    assert diagnose(T_SIG, "dJ_dW1[1,1]", right) == []


def test_sigmoid_network_sigma_prime_left_out_everywhere():
    assert "σ′ left out" in diagnose(T_SIG, "dJ_dW1[1,1]", DLS * 1 * 1 * 1 * 1)


def test_sigmoid_network_sigma_prime_left_out_in_the_hidden_layer_only():
    assert "σ′ left out" in diagnose(T_SIG, "dJ_dW1[1,1]", DLS * YS * (1 - YS) * 1 * 1 * 1)


def test_sigmoid_network_sigma_prime_at_a_in_the_hidden_layer():
    wrong = sigma(A1[0]) * (1 - sigma(A1[0]))
    assert diagnose(T_SIG, "dJ_dW1[1,1]", DLS * YS * (1 - YS) * wrong) == ["σ′ taken at a instead of z"]


def test_sigmoid_network_sigma_prime_at_a_everywhere():
    out, hidden = sigma(YS) * (1 - sigma(YS)), sigma(A1[0]) * (1 - sigma(A1[0]))
    assert diagnose(T_SIG, "dJ_dW1[1,1]", DLS * out * hidden) == ["σ′ taken at a instead of z"]


def test_half_dropped():
    right = DLS * YS * (1 - YS) * A1[1]
    assert diagnose(T_SIG, "dJ_dW2[1,2]", 2 * right) == ["½ dropped"]


def test_half_dropped_in_the_loss():
    assert diagnose(T_SIG, "loss", (1 - YS) ** 2) == ["½ dropped"]


def test_tanh_prime_at_a():
    spec = {**SIG, "layers": [{**SIG["layers"][0], "activation": "tanh"}, SIG["layers"][1]]}
    a1 = [math.tanh(-1), math.tanh(5)]
    y = sigma(a1[0] - 2 * a1[1] + 0.5)
    wrong = 1 - math.tanh(a1[0]) ** 2
    assert diagnose(build(spec), "dJ_dW1[1,2]", -(1 - y) * y * (1 - y) * 1 * wrong * 2) == ["σ′ taken at a instead of z"]


# -- a square middle layer: δ sent back through W instead of Wᵀ ------------------------------------
SQUARE = {"layers": [{"W": [[1, -1], [1, 2]], "b": [0, 0], "activation": "relu"},
                     {"W": [[1, 2], [-1, 3]], "b": [0, 1], "activation": "linear"},
                     {"W": [[1, -1]], "b": [0], "activation": "linear"}],
          "loss": "squared_error", "data": [{"x": [2, 1], "y": [0]}], "learning_rate": 0.1}


def test_transposed_weights_backward():
    x = np.array([2.0, 1.0])
    W1, W2, W3 = (np.array(layer["W"], dtype=float) for layer in SQUARE["layers"])
    z1 = W1 @ x
    a2 = W2 @ z1 + np.array([0, 1])
    yhat = (W3 @ a2)[0]
    delta2 = W3[0] * 2 * yhat  # dℓ/dz2 = W3ᵀ · (−2)(y − ŷ)
    wrong = (W2 @ delta2) * (z1 > 0)  # W2 for W2ᵀ
    assert not np.allclose(wrong, (W2.T @ delta2) * (z1 > 0))
    keys = ["dJ_dW1[1,1]", "dJ_dW1[1,2]", "dJ_dW1[2,1]", "dJ_dW1[2,2]"]
    assert slips(build(SQUARE), keys, [typed(v) for v in np.outer(wrong, x).ravel()], TOL) == ["Wᵀ for W"]


# -- seed 002: batch gradient descent over two points, exact ----------------------------------------
BATCH = solve("batch-gd", params=load_params(PINS / "seed-002.yaml")).trace
THETA = ["W1[1,1]", "W1[1,2]", "b1[1]", "W2[1,1]", "b2[1]"]
GRAD = [f"dJ_d{k}" for k in THETA]
NEW = [f"{k}_new" for k in THETA]
POINT1 = [F("6.8"), F("3.4"), F("3.4"), F("10.2"), F("3.4")]  # x = [2, 1]: z = 3, ŷ = 3, δ = 2(3 − 1.3) = 3.4
POINT2 = [F(0), F(0), F(0), F(0), F("-3.8")]  # x = [−3, 2]: z = −1 (dead), ŷ = 0, δ = 2(0 − 1.9) = −3.8
MEAN = [(p + q) / 2 for p, q in zip(POINT1, POINT2)]
ONES = [F(1), F(1), F(0), F(1), F(0)]


def test_batch_hand_gradient_is_the_key():
    assert slips(BATCH, GRAD, MEAN, TOL) == []


def test_sum_instead_of_mean_objective():
    assert slips(BATCH, ["J"], [F("2.89") + F("3.61")], TOL) == ["sum instead of mean"]


def test_sum_instead_of_mean_gradient():
    assert slips(BATCH, GRAD, [p + q for p, q in zip(POINT1, POINT2)], TOL) == ["sum instead of mean"]


def test_sum_instead_of_mean_update():
    summed = [t - F(1, 100) * (p + q) for t, p, q in zip(ONES, POINT1, POINT2)]
    assert slips(BATCH, NEW, summed, TOL) == ["sum instead of mean"]


def test_half_added_batch():
    assert slips(BATCH, GRAD, [g / 2 for g in MEAN], TOL) == ["½ added"]


def test_sign_flipped_batch():
    assert slips(BATCH, NEW, [t + F(1, 100) * g for t, g in zip(ONES, MEAN)], TOL) == ["sign of the update flipped"]


def test_learning_rate_left_out_batch():
    assert slips(BATCH, NEW, [t - g for t, g in zip(ONES, MEAN)], TOL) == ["learning rate left out"]


def test_relu_prime_left_out_batch():
    dead = [F("-3.8") * -3, F("-3.8") * 2, F("-3.8"), F(0), F("-3.8")]  # point 2 as if ReLU′(−1) were 1
    assert slips(BATCH, GRAD, [(p + q) / 2 for p, q in zip(POINT1, dead)], TOL) == ["σ′ left out"]


def test_per_point_gradients_have_no_mean_to_get_wrong():
    assert slips(BATCH, ["dl_dW1[1,1]@1"], [2 * POINT1[0]], TOL) == []


# -- logistic regression (seed 003 Q1 form) -------------------------------------------------------
def test_logistic_sign_flipped():
    t = build_trace(Instance.from_params({"x": [2], "w": [0], "y": 1, "learning_rate": 1}))
    gradient = -2 * (1 - sigma(0))  # −x(y − h)
    assert diagnose(t, "w[1]_new", 0 + 1 * gradient) == ["sign of the update flipped"]


# -- properties -------------------------------------------------------------------------------------
small = st.integers(-3, 3)


@st.composite
def networks(draw):
    widths = [draw(st.integers(1, 2)), draw(st.integers(1, 2)), 1]
    loss = draw(st.sampled_from(["squared_error", "half_squared_error", "binary_cross_entropy"]))
    layers = [{"W": [[draw(small) for _ in range(m)] for _ in range(n)], "b": [draw(small) for _ in range(n)],
               "activation": draw(st.sampled_from(["sigmoid", "tanh", "relu", "linear"])) if l == 0 else "sigmoid"}
              for l, (m, n) in enumerate(zip(widths, widths[1:]))]
    data = [{"x": [draw(small) for _ in range(widths[0])], "y": [draw(st.sampled_from([0, 1]))]}
            for _ in range(draw(st.integers(1, 2)))]
    return {"layers": layers, "loss": loss, "reduction": draw(st.sampled_from(["mean", "sum"])), "data": data,
            "learning_rate": draw(st.sampled_from([0.1, 0.5, 1, 2]))}


HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much]


@settings(max_examples=40, deadline=None, suppress_health_check=HEALTH)
@given(networks())
def test_true_values_are_never_a_slip(spec):
    t = build(spec)
    for role in ("forward", "loss", "factor", "grad", "update"):
        for key in t.keys(role):
            assert slips(t, [key], [typed(t[key])], TOL) == [], key


@settings(max_examples=40, deadline=None, suppress_health_check=HEALTH)
@given(st.lists(small, min_size=9, max_size=9), st.lists(small.filter(bool), min_size=2, max_size=2))
def test_sigma_prime_left_out_by_numpy_is_named(numbers, x):
    W1, b1 = np.array(numbers[:4], dtype=float).reshape(2, 2), np.array(numbers[4:6], dtype=float)
    W2, b2 = np.array([numbers[6:8]], dtype=float), float(numbers[8])
    spec = {"layers": [{"W": W1.tolist(), "b": b1.tolist(), "activation": "sigmoid"},
                       {"W": W2.tolist(), "b": [b2], "activation": "sigmoid"}],
            "loss": "squared_error", "data": [{"x": x, "y": [1]}], "learning_rate": 1}
    a1 = 1 / (1 + np.exp(-(W1 @ np.array(x, dtype=float) + b1)))
    yhat = sigma(float(W2[0] @ a1) + b2)
    wrong = -2 * (1 - yhat) * W2[0, 0] * x[0]  # ∂J/∂W1[1,1] with every σ′ taken as 1
    right = -2 * (1 - yhat) * yhat * (1 - yhat) * W2[0, 0] * a1[0] * (1 - a1[0]) * x[0]
    assume(abs(wrong - right) > 0.01 * max(abs(wrong), abs(right)) + 0.001)
    assert "σ′ left out" in diagnose(build(spec), "dJ_dW1[1,1]", wrong)


# -- softmax + cross-entropy: z2 = [1, 0, −1] (x = 1, W = [[1], [0], [−1]]), target class 1, η = 1 ------------
SOFTMAX = {"layers": [{"W": [[1], [0], [-1]], "b": [0, 0, 0], "activation": "softmax"}], "loss": "cross_entropy",
           "data": [{"x": [1], "y": [1, 0, 0]}], "learning_rate": 1}
SM_P = np.exp([1, 0, -1]) / np.exp([1, 0, -1]).sum()


def test_softmax_delta_from_the_jacobian_diagonal_only():
    wrong = -1 / SM_P[0] * SM_P[0] * (1 - SM_P[0])  # dℓ/dp₁ · p₁(1 − p₁); the other classes' dℓ/dp are 0
    found = [slips(dense.build(Network.from_mapping(SOFTMAX), delta=mode), ["dl_dz1[1]", "dl_dz1[2]", "dl_dz1[3]"],
                   [typed(wrong), F(0), F(0)], TOL)[0] for mode in ("jacobian", "simplified")]
    assert [f.startswith("the other classes' terms forgotten") for f in found] == [True, True]


def test_softmax_delta_with_sigma_prime_per_output_reaches_the_gradient():
    t = build(SOFTMAX)
    wrong = -1 / SM_P[0] * sigma(1) * (1 - sigma(1))  # δ₁ = dℓ/dp₁ · σ′(z₁), then ∂J/∂W[1,1] = δ₁ · x
    assert diagnose(t, "dJ_dW1[1,1]", wrong * 1)[0].startswith("σ′ per output")
