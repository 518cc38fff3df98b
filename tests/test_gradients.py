"""Every gradient qgen computes agrees with a central finite difference of an independent numpy objective."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qgen import expr as ex
from qgen import numeric
from qgen.bank import load_params
from qgen.nn import dense
from qgen.nn.network import (
    ACTIVATIONS,
    DEFAULT_LEAKY_SLOPE,
    LOSSES,
    REDUCTIONS,
    Network,
)
from qgen.solve import solve

PINS = Path(__file__).resolve().parent.parent / "banks" / "pins"
H = 1e-6
RTOL, ATOL = 1e-5, 1e-7


# -- an independent float64 forward pass ------------------------------------------------
def _activate(name: str, z: np.ndarray, slope: float) -> np.ndarray:
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z)
    if name == "linear":
        return z
    raise AssertionError(name)


def _loss(name: str, y: np.ndarray, yhat: np.ndarray, z: np.ndarray) -> float:
    if name == "squared_error":
        return float(np.sum((y - yhat) ** 2))
    if name == "half_squared_error":
        return float(np.sum(0.5 * (y - yhat) ** 2))
    if name == "binary_cross_entropy":
        # from the sigmoid's input, without cancellation: −ln σ(z) = ln(1 + e^−z), −ln(1 − σ(z)) = ln(1 + e^z)
        return float(np.sum(y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)))
    raise AssertionError(name)


def forward(spec: dict, params: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, list[np.ndarray]]:
    """The objective of the network `spec` with weights `params`, and every pre-activation."""
    total, pre = 0.0, []
    for point in spec["data"]:
        a = np.array(point["x"], dtype=float)
        for (W, b), layer in zip(params, spec["layers"]):
            z = W @ a + b
            pre.append((layer["activation"], z))
            a = _activate(layer["activation"], z, float(layer.get("slope", DEFAULT_LEAKY_SLOPE)))
        total += _loss(spec["loss"], np.array(point["y"], dtype=float), a, z)
    if spec["reduction"] == "mean":
        total /= len(spec["data"])
    return total, pre


def arrays(spec: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.array(layer["W"], dtype=float), np.array(layer["b"], dtype=float)) for layer in spec["layers"]]


def finite_differences(spec: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """Central differences of the objective by every weight and bias."""
    base = arrays(spec)
    out = []
    for l, (W, b) in enumerate(base):
        gW, gb = np.zeros_like(W), np.zeros_like(b)
        for target, grad in ((W, gW), (b, gb)):
            for idx in np.ndindex(target.shape):
                plus = [(w.copy(), c.copy()) for w, c in base]
                minus = [(w.copy(), c.copy()) for w, c in base]
                (plus[l][0] if target is W else plus[l][1])[idx] += H
                (minus[l][0] if target is W else minus[l][1])[idx] -= H
                grad[idx] = (forward(spec, plus)[0] - forward(spec, minus)[0]) / (2 * H)
        out.append((gW, gb))
    return out


def close(value: float, reference: float, objective: float = 0.0) -> bool:
    """Within the finite difference's own error: rounding of J(θ ± h) costs about ε·|J|/h."""
    rounding = 1e-8 * abs(objective)  # ε/h = 2.2e-16/1e-6, with a safety factor of 50
    return abs(value - reference) <= ATOL + RTOL * abs(reference) + rounding


# -- random networks --------------------------------------------------------------------
def number(lo: int, hi: int):
    """A small integer or a one-decimal number, as exam numbers are."""
    return st.one_of(st.integers(lo, hi), st.integers(10 * lo, 10 * hi).map(lambda k: k / 10))


@st.composite
def networks(draw, points=st.integers(1, 3)):
    depth = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 4)) for _ in range(depth + 1)]
    loss = draw(st.sampled_from(LOSSES))
    layers = []
    for l in range(depth):
        last = l == depth - 1
        activation = "sigmoid" if last and loss == "binary_cross_entropy" else draw(st.sampled_from(ACTIVATIONS))
        layer = {"W": [[draw(number(-2, 2)) for _ in range(widths[l])] for _ in range(widths[l + 1])],
                 "b": [draw(number(-2, 2)) for _ in range(widths[l + 1])], "activation": activation}
        if activation == "leaky_relu" and draw(st.booleans()):
            layer["slope"] = draw(st.sampled_from([0.1, 0.2, 0.05]))
        layers.append(layer)
    label = st.sampled_from([0, 1]) if loss == "binary_cross_entropy" else number(-2, 2)
    data = [{"x": [draw(number(-3, 3)) for _ in range(widths[0])], "y": [draw(label) for _ in range(widths[-1])]}
            for _ in range(draw(points))]
    return {"layers": layers, "loss": loss, "reduction": draw(st.sampled_from(REDUCTIONS)), "data": data,
            "learning_rate": draw(st.sampled_from([0.01, 0.1, 0.5, 1, 2]))}


def away_from_kinks(spec: dict) -> bool:
    """No ReLU/leaky-ReLU pre-activation within 1e-3 of 0 (where the derivative jumps)."""
    objective, pre = forward(spec, arrays(spec))
    kinks = [z for name, z in pre if name in ("relu", "leaky_relu")]
    return np.isfinite(objective) and all(np.all(np.abs(z) > 1e-3) for z in kinks)


def check_gradients(spec: dict) -> None:
    t = dense.build(Network.from_mapping(spec))
    J = numeric.to_float(t["J"])
    for l, ((gW, gb), layer) in enumerate(zip(finite_differences(spec), spec["layers"]), start=1):
        for i in range(1, len(layer["W"]) + 1):
            for j in range(1, len(layer["W"][0]) + 1):
                key = f"dJ_dW{l}[{i},{j}]"
                assert close(numeric.to_float(t[key]), gW[i - 1, j - 1], J), (key, t[key], gW[i - 1, j - 1])
            key = f"dJ_db{l}[{i}]"
            assert close(numeric.to_float(t[key]), gb[i - 1], J), (key, t[key], gb[i - 1])


HEALTH = [HealthCheck.filter_too_much, HealthCheck.too_slow]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=HEALTH)
QUICK = settings(max_examples=40, deadline=None, suppress_health_check=HEALTH)


@SETTINGS
@given(networks())
def test_gradients_match_finite_differences(spec):
    """Depth 1–3, widths 1–4, every activation and loss, mean or sum over 1–3 points."""
    assume(away_from_kinks(spec))
    check_gradients(spec)


@QUICK
@given(networks())
def test_objective_matches_the_numpy_forward_pass(spec):
    assume(away_from_kinks(spec))
    t = dense.build(Network.from_mapping(spec))
    reference = forward(spec, arrays(spec))[0]
    assert abs(numeric.to_float(t["J"]) - reference) <= 1e-9 * max(1.0, abs(reference))


@QUICK
@given(networks())
def test_solution_update_is_parameters_minus_learning_rate_times_gradients(spec):
    assume(away_from_kinks(spec))
    net = Network.from_mapping(spec)
    sol = dense.solution(net, dense.build(net))
    lr = float(spec["learning_rate"])
    for layer, grads, new in zip(spec["layers"], sol["gradients"], sol["updated"]):
        expected_W = np.array(layer["W"], dtype=float) - lr * np.array(grads["W"], dtype=float)
        expected_b = np.array(layer["b"], dtype=float) - lr * np.array(grads["b"], dtype=float)
        np.testing.assert_allclose(np.array(new["W"], dtype=float), expected_W, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.array(new["b"], dtype=float), expected_b, rtol=1e-12, atol=1e-12)


@QUICK
@given(networks())
def test_solution_gradients_are_the_trace_gradients(spec):
    net = Network.from_mapping(spec)
    t = dense.build(net)
    sol = dense.solution(net, t)
    for l, (layer, grads) in enumerate(zip(spec["layers"], sol["gradients"]), start=1):
        rows, cols = len(layer["W"]), len(layer["W"][0])
        assert grads["W"] == [[numeric.to_float(t[f"dJ_dW{l}[{i},{j}]"]) for j in range(1, cols + 1)]
                              for i in range(1, rows + 1)]
        assert grads["b"] == [numeric.to_float(t[f"dJ_db{l}[{i}]"]) for i in range(1, rows + 1)]


# -- the chain rule, factor by factor ----------------------------------------------------
@lru_cache(maxsize=None)
def seed_000():
    return solve("mlp-backprop", params=load_params(PINS / "seed-000.yaml")).trace


def test_chain_of_seed_000_has_the_five_factors_of_the_document():
    t = seed_000()
    assert list(ex.refs(t.expanded("dJ_dW1[1,2]"))) == [
        "dl_dyhat[1]", "dyhat[1]_dz2[1]", "dz2[1]_da1[1]", "da1[1]_dz1[1]", "dz1[1]_dW1[1,2]"]


def test_product_of_the_chain_factors_is_the_gradient_for_seed_000():
    t = seed_000()
    product = 1
    for key in ex.refs(t.expanded("dJ_dW1[1,2]")):
        product = numeric.mul(product, t[key])
    assert abs(product - t["dJ_dW1[1,2]"]) < numeric.CTX.mpf("1e-45")


def test_seed_000_gradient_matches_finite_differences():
    spec = load_params(PINS / "seed-000.yaml")["network"]
    (gW1, _), _ = finite_differences(spec)
    assert close(numeric.to_float(seed_000()["dJ_dW1[1,2]"]), gW1[0, 1])
