"""Weight decay, momentum and Adam over one or two steps (issue 16), checked by independent methods."""

from __future__ import annotations

import copy
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qgen.errors import BankError
from qgen.generate import question_record
from qgen.grade.score import Question as Graded
from qgen.grade.score import score_question
from qgen.nn import dense, iterations
from qgen.nn.network import Network
from qgen.solve import solve

MLP = {"layers": [{"W": [[1, -2], [2, 1]], "b": [0, 1], "activation": "sigmoid"},
                  {"W": [[1, -1]], "b": [0.5], "activation": "sigmoid"}],
       "loss": "binary_cross_entropy", "data": [{"x": [1, 2], "y": [1]}], "learning_rate": 0.5}
BATCH = {"layers": [{"W": [[1, -1]], "b": [0.5], "activation": "relu"}, {"W": [[2]], "b": [0], "activation": "linear"}],
         "loss": "squared_error", "data": [{"x": [1, 0.5], "y": [1.1]}, {"x": [-1, 1], "y": [0.4]}],
         "learning_rate": 0.1}
OPTIMIZERS = ["sgd", {"name": "momentum", "momentum": 0.8}, "adam", {"name": "adam", "beta1": 0.5, "beta2": 0.9,
                                                                       "epsilon": 0.001}]
ACT = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
       "linear": lambda z: z}
DACT = {"sigmoid": lambda z, a: a * (1 - a), "relu": lambda z, a: (z > 0) * 1.0, "tanh": lambda z, a: 1 - a * a,
        "linear": lambda z, a: np.ones_like(z)}


def net_of(base: dict, **extra) -> dict:
    return {**copy.deepcopy(base), **extra}


def solved(family: str, network: dict, **kw) -> dict:
    params = {"network": network, **kw}
    return question_record(solve(family, params=params), None)


# -- an independent numpy implementation: forward, backward, decay, momentum, Adam ---------------------------------
def as_arrays(network: dict) -> list[list[np.ndarray]]:
    return [[np.array(layer["W"], dtype=float), np.array(layer["b"], dtype=float)] for layer in network["layers"]]


def objective_and_gradient(network: dict, params: list[list[np.ndarray]]) -> tuple[float, list[list[np.ndarray]]]:
    """The data objective and its gradient by hand-written backpropagation (no Trace)."""
    acts = [layer["activation"] for layer in network["layers"]]
    total, grads = 0.0, [[np.zeros_like(W), np.zeros_like(b)] for W, b in params]
    for point in network["data"]:
        a, y, zs, outs = np.array(point["x"], float), np.array(point["y"], float), [], []
        outs.append(a)
        for (W, b), g in zip(params, acts):
            z = W @ a + b
            a = ACT[g](z)
            zs.append(z)
            outs.append(a)
        loss = network.get("loss", "squared_error")
        if loss == "binary_cross_entropy":
            total += float(-(y * np.log(a) + (1 - y) * np.log(1 - a)).sum())
            dl = -y / a + (1 - y) / (1 - a)
        else:
            half = 0.5 if loss == "half_squared_error" else 1.0
            total += float(half * ((y - a) ** 2).sum())
            dl = -2 * half * (y - a)
        for l in range(len(params) - 1, -1, -1):
            delta = dl * DACT[acts[l]](zs[l], outs[l + 1])
            grads[l][0] += np.outer(delta, outs[l])
            grads[l][1] += delta
            dl = params[l][0].T @ delta
    n = len(network["data"])
    scale = 1 / n if network.get("reduction", "mean") == "mean" and n > 1 else 1
    return total * scale, [[gW * scale, gb * scale] for gW, gb in grads]


def numpy_run(network: dict) -> list[dict]:
    """Every iteration's objective, gradient and updated parameters, written out independently."""
    params = as_arrays(network)
    lam, biases = float(Fraction(str(network.get("weight_decay", 0)))), network.get("decay_biases", False)
    opt = network.get("optimizer", "sgd")
    opt = {"name": opt} if isinstance(opt, str) else opt
    lr = float(network["learning_rate"])
    mu = float(opt.get("momentum", 0.9))
    b1, b2, eps = float(opt.get("beta1", 0.9)), float(opt.get("beta2", 0.999)), float(opt.get("epsilon", 1e-8))
    state = [[[np.zeros_like(p) for p in layer] for layer in params] for _ in range(2)]
    out = []
    for step in range(1, network.get("steps", 1) + 1):
        J, grads = objective_and_gradient(network, params)
        decays = [[lam, lam if biases else 0.0] for _ in params]
        J += sum(0.5 * d * float((p ** 2).sum()) for layer, ds in zip(params, decays) for p, d in zip(layer, ds))
        grads = [[g + d * p for g, p, d in zip(gl, pl, dl)] for gl, pl, dl in zip(grads, params, decays)]
        new = []
        for l, layer in enumerate(params):
            row = []
            for k, p in enumerate(layer):
                g = grads[l][k]
                if opt["name"] == "sgd":
                    row.append(p - lr * g)
                elif opt["name"] == "momentum":
                    state[0][l][k] = mu * state[0][l][k] + g
                    row.append(p - lr * state[0][l][k])
                else:
                    state[0][l][k] = b1 * state[0][l][k] + (1 - b1) * g
                    state[1][l][k] = b2 * state[1][l][k] + (1 - b2) * g * g
                    mhat, vhat = state[0][l][k] / (1 - b1 ** step), state[1][l][k] / (1 - b2 ** step)
                    row.append(p - lr * mhat / (np.sqrt(vhat) + eps))
            new.append(row)
        params = new
        out.append({"objective": J, "gradients": grads, "updated": params})
    return out


def close(mine: list[dict], theirs: list[list[np.ndarray]], tol: float = 1e-9) -> None:
    for layer, (W, b) in zip(mine, theirs):
        np.testing.assert_allclose(np.array(layer["W"], float), W, atol=tol, rtol=0)
        np.testing.assert_allclose(np.array(layer["b"], float), b, atol=tol, rtol=0)


def check(record: dict, reference: list[dict]) -> None:
    sol = record["solution"]
    rows = sol.get("iterations", [sol])
    assert len(rows) == len(reference)
    for mine, theirs in zip(rows, reference):
        assert mine["objective"] == pytest.approx(theirs["objective"], abs=1e-9)
        close(mine["gradients"], theirs["gradients"])
        close(mine["updated"], theirs["updated"])
    close(sol["updated"], reference[-1]["updated"])


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("steps", [1, 2])
def test_mlp_solution_matches_numpy(optimizer, steps):
    network = net_of(MLP, weight_decay=0.1, optimizer=optimizer, steps=steps)
    check(solved("mlp-backprop", network, asked=["W2[1,1]", "W1[1,2]"]), numpy_run(network))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_batch_gd_solution_matches_numpy_with_biases_decayed(optimizer):
    network = net_of(BATCH, weight_decay=0.2, decay_biases=True, optimizer=optimizer, steps=2)
    check(solved("batch-gd", network), numpy_run(network))


REGRESSION = {"layers": [{"W": [[1]], "b": [1], "activation": "sigmoid"}, {"W": [[1]], "b": [0], "activation": "linear"}],
              "loss": "squared_error", "data": [{"x": [1], "y": [1]}, {"x": [3], "y": [0.5]}], "learning_rate": 0.5}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_pinned_regression_network_takes_the_optimiser_too(optimizer):
    network = net_of(REGRESSION, weight_decay=0.1, optimizer=optimizer, steps=2)
    record = solved("regression-mlp", network)
    check(record, numpy_run(network))
    ids = [p["id"] for p in record["parts"]]
    assert "update.w2" not in ids and "update.2" in ids and "half-loss" not in ids  # no plain-GD parts left


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("steps", [1, 2])
def test_torch_autograd_and_optim_agree(optimizer, steps):
    torch = pytest.importorskip("torch")
    network = net_of(BATCH, weight_decay=0.1, optimizer=optimizer, steps=steps)
    record = solved("batch-gd", network)
    canonical = record["network"]  # the oracle reads only the JSON contract
    dtype = torch.float64
    Ws = [torch.tensor(layer["W"], dtype=dtype, requires_grad=True) for layer in canonical["layers"]]
    bs = [torch.tensor(layer["b"], dtype=dtype, requires_grad=True) for layer in canonical["layers"]]
    opt = canonical.get("optimizer", "sgd")
    opt = {"name": opt} if isinstance(opt, str) else opt
    groups = [{"params": Ws, "weight_decay": canonical.get("weight_decay", 0)},
              {"params": bs, "weight_decay": canonical.get("weight_decay", 0) if canonical.get("decay_biases") else 0}]
    lr = canonical["learning_rate"]
    if opt["name"] == "sgd":
        optimiser = torch.optim.SGD(groups, lr=lr)
    elif opt["name"] == "momentum":
        optimiser = torch.optim.SGD(groups, lr=lr, momentum=opt["momentum"])
    else:
        optimiser = torch.optim.Adam(groups, lr=lr, betas=(opt["beta1"], opt["beta2"]), eps=opt["epsilon"])
    acts = {"relu": torch.relu, "linear": lambda z: z}
    for it, row in enumerate(record["solution"]["iterations"]):
        optimiser.zero_grad()
        losses = []
        for point in canonical["data"]:
            a = torch.tensor(point["x"], dtype=dtype)
            for layer, W, b in zip(canonical["layers"], Ws, bs):
                a = acts[layer["activation"]](W @ a + b)
            losses.append(((torch.tensor(point["y"], dtype=dtype) - a) ** 2).sum())
        J = sum(losses) / len(losses)
        J.backward()
        penalty = 0.5 * canonical["weight_decay"] * sum(float((W.detach() ** 2).sum()) for W in Ws)
        assert row["objective"] == pytest.approx(float(J.detach()) + penalty, abs=1e-9)
        grad = [W.grad + canonical["weight_decay"] * W.detach() for W in Ws]
        for layer, g in zip(row["gradients"], grad):
            assert np.allclose(layer["W"], g.numpy(), atol=1e-9, rtol=0)
        optimiser.step()
        for layer, W, b in zip(row["updated"], Ws, bs):
            assert np.allclose(layer["W"], W.detach().numpy(), atol=1e-9, rtol=0)
            assert np.allclose(layer["b"], b.detach().numpy(), atol=1e-9, rtol=0)


# -- finite differences of the regularised objective -----------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=9, max_size=9), st.sampled_from([0.1, 0.5, 2]), st.booleans())
def test_regularised_gradient_is_the_derivative_of_the_regularised_objective(values, lam, biases):
    network = {"layers": [{"W": [values[0:2], values[2:4]], "b": values[4:6], "activation": "tanh"},
                          {"W": [values[6:8]], "b": [values[8]], "activation": "linear"}],
               "data": [{"x": [1, -1], "y": [0.5]}, {"x": [0.5, 2], "y": [-1]}], "learning_rate": 0.1,
               "weight_decay": lam, "decay_biases": biases}
    net = Network.from_mapping(network)
    t = dense.build(net)

    def objective(key: str, h: float) -> float:
        nudged = copy.deepcopy(network)
        l, rest = int(key[1]) - 1, key[key.index("[") + 1:-1].split(",")
        i = int(rest[0]) - 1
        if key[0] == "W":
            nudged["layers"][l]["W"][i][int(rest[1]) - 1] += h
        else:
            nudged["layers"][l]["b"][i] += h
        return float(dense.build(Network.from_mapping(nudged))["Jreg"])

    h = 1e-6
    for w in iterations.parameters(net):
        numeric_grad = (objective(w, h) - objective(w, -h)) / (2 * h)
        assert float(t[f"dJreg_d{w}"]) == pytest.approx(numeric_grad, abs=1e-5)


# -- contract: defaults, JSON form, validation ----------------------------------------------------------------------
def test_defaults_keep_todays_json():
    record = solved("mlp-backprop", copy.deepcopy(MLP), asked=["W2[1,1]", "W1[1,2]"])
    assert set(record["network"]) == {"layers", "loss", "reduction", "data", "learning_rate"}
    assert set(record["solution"]) == {"objective", "gradients", "updated"}


def test_plain_sgd_with_two_steps_reports_iterations_and_round_trips():
    network = net_of(MLP, steps=2)
    record = solved("mlp-backprop", network, asked=["W2[1,1]", "W1[1,2]"])
    assert record["network"]["steps"] == 2 and len(record["solution"]["iterations"]) == 2
    assert Network.from_mapping(record["network"]) == Network.from_mapping(network)


def test_adam_state_is_in_the_solution_in_canonical_shapes():
    record = solved("mlp-backprop", net_of(MLP, optimizer="adam"), asked=["W2[1,1]", "W1[1,2]"])
    row = record["solution"]["iterations"][0]
    assert record["network"]["optimizer"] == {"name": "adam", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-08}
    assert [len(layer["W"]) for layer in row["m"]] == [2, 1] and len(row["v"][0]["b"]) == 2


@pytest.mark.parametrize("change, key", [
    ({"optimizer": {"name": "adam", "beta1": 1}}, "network.optimizer.beta1"),
    ({"optimizer": {"name": "adam", "epsilon": 0}}, "network.optimizer.epsilon"),
    ({"optimizer": {"name": "momentum", "momentum": -0.1}}, "network.optimizer.momentum"),
    ({"optimizer": "rmsprop"}, "network.optimizer.name"),
    ({"optimizer": {"name": "sgd", "momentum": 0.9}}, "network.optimizer"),
    ({"steps": 3}, "network.steps"),
    ({"weight_decay": -1}, "network.weight_decay"),
    ({"decay_biases": "yes"}, "network.decay_biases"),
])
def test_bad_optimiser_fields_name_their_key(change, key):
    with pytest.raises(BankError) as e:
        Network.from_mapping(net_of(MLP, **change))
    assert key in str(e.value)


def test_statement_states_lambda_biases_rule_and_epsilon():
    q = solve("mlp-backprop", params={"network": net_of(MLP, weight_decay=0.1, optimizer="adam", steps=2),
                                      "asked": ["W2[1,1]", "W1[1,2]"]})
    text = q.context["optimiser"]
    assert r"\lambda = 0.1" in text and "biases are not decayed" in text
    assert r"\epsilon = 10^{-8}" in text and "m_{0} = v_{0} = 0" in text and "two steps" in text


# -- error carried forward across iterations --------------------------------------------------------------------
def test_a_wrong_first_update_carried_into_iteration_two_earns_its_parts():
    q = solve("mlp-backprop", params={"network": net_of(MLP, optimizer={"name": "momentum", "momentum": 0.5},
                                                        steps=2), "asked": ["W2[1,1]", "W1[1,2]"]})
    record = dict(question_record(q, None), index=1)
    t = q.trace
    wrong = {iterations.param(w, 1): t[iterations.param(w, 1)] + Fraction(1, 2) for w in iterations.parameters(
        Network.from_mapping(record["network"]))}
    carried = t.evaluate(wrong)
    typed = {}
    for part in record["parts"]:
        if part["kind"] in ("number", "vector") and part.get("keys"):
            values = [carried[k] for k in part["keys"]]
            typed[f"q1.{part['id']}"] = "; ".join(f"{float(v):.6f}" for v in values)
    scores = {s.part: s for s in score_question(Graded.from_record(record), typed)}
    assert scores["update.all"].earned == 0
    for pid in ("objective.2", "grad.reg.2", "state.2", "update.2"):
        assert scores[pid].earned == scores[pid].points, (pid, scores[pid].status)
    assert scores["update.2"].status != "correct"


# -- mistake diagnosis of the optimiser's classic slips -------------------------------------------------------------
@pytest.mark.parametrize("optimizer, make, keys, name", [
    ("adam", "_bias_correction_left_out", ["mhat:W1[1,1]", "W1[1,1]_new"], "bias correction left out"),
    ("momentum", "_momentum_averaged", ["v:W1[1,1]_new", "W1[1,1]_new2"], "momentum averaged"),
    ("momentum", "_decay_left_out", ["dJreg_dW1[1,1]", "W1[1,1]_new2"], "weight decay left out"),
    ("sgd", "_biases_decayed", ["dJreg_db1[1]", "b1[1]_new"], "biases decayed too"),
])
def test_the_optimisers_slips_are_diagnosed(optimizer, make, keys, name):
    from fractions import Fraction

    from qgen import numeric
    from qgen.grade import diagnose
    from qgen.grade.compare import Tolerance
    from qgen.nn import dense
    from qgen.nn.network import Network

    net = Network.from_mapping({"layers": [{"W": [[2, -1]], "b": [1], "activation": "sigmoid"}],
                                "data": [{"x": [1, 2], "y": [0]}], "learning_rate": 0.1, "weight_decay": 0.5,
                                "optimizer": optimizer, "steps": 2})
    t = dense.build(net)
    slipped = diagnose.rerun(t, *next(getattr(diagnose, make)(t)))
    for key in keys:
        typed = Fraction(str(round(numeric.to_float(slipped[key]), 6)))
        assert any(name in s for s in diagnose.slips(t, [key], [typed], Tolerance.for_places(4))), key
