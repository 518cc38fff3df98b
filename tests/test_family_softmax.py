"""softmax-classifier and the softmax/cross-entropy network form: every number checked independently.

The references here are written from the formulas (numpy floats: softmax, −ln p_target, δ = p − y,
∂W = δ aᵀ, backprop through Wᵀ), by central finite differences of the loss, and (when installed)
by torch autograd; never through qgen's own Trace.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from qgen.cli import main
from qgen.errors import BankError
from qgen.families import domain as dom
from qgen.families.softmax_classifier import FAMILY, MAX_LOGIT, P_MAX, P_MIN
from qgen.generate import question_record
from qgen.grade.columns import part_columns
from qgen.grade.diagnose import SOFTMAX_DIAGONAL, SOFTMAX_SIGMA
from qgen.grade.score import Question, score_question
from qgen.nn import dense
from qgen.nn.network import ACTIVATIONS, LOSSES, Network
from qgen.notation import PROFILES
from qgen.solve import solve

# 2 inputs -> 2 sigmoid hidden units -> 3 classes, target class 2
NET = {"layers": [{"W": [[0.5, -1], [1, 0.5]], "b": [0, -0.5], "activation": "sigmoid"},
                  {"W": [[1, -0.5], [-1, 1.5], [0.5, 0.5]], "b": [0.5, 0, -0.5], "activation": "softmax"}],
       "loss": "cross_entropy", "reduction": "mean", "data": [{"x": [1, 2], "y": [0, 1, 0]}], "learning_rate": 0.5}
G = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
     "linear": lambda z: z}
DG = {"sigmoid": lambda z: G["sigmoid"](z) * (1 - G["sigmoid"](z)), "tanh": lambda z: 1 - np.tanh(z) ** 2,
      "relu": lambda z: (z > 0).astype(float), "linear": lambda z: np.ones_like(z)}


def arrays(net: dict) -> list[tuple[np.ndarray, np.ndarray, str]]:
    return [(np.array(lay["W"], float), np.array(lay["b"], float), lay["activation"]) for lay in net["layers"]]


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def forward(layers, x: np.ndarray):
    """Pre-activations and activations of every layer (floats)."""
    zs, acts = [], [x]
    for W, b, act in layers:
        zs.append(W @ acts[-1] + b)
        acts.append(softmax(zs[-1]) if act == "softmax" else G[act](zs[-1]))
    return zs, acts


def loss(layers, x, y) -> float:
    return float(-np.sum(y * np.log(forward(layers, x)[1][-1])))


def reference(net: dict) -> dict:
    """Objective, gradients and updates from the textbook formulas: δ = p − y, ∂W = δ aᵀ, δ_h = Wᵀδ ⊙ g′(z)."""
    layers = arrays(net)
    x, y = np.array(net["data"][0]["x"], float), np.array(net["data"][0]["y"], float)
    zs, acts = forward(layers, x)
    delta = acts[-1] - y
    grads = []
    for i in range(len(layers) - 1, -1, -1):
        grads.insert(0, (np.outer(delta, acts[i]), delta))
        if i:
            delta = (layers[i][0].T @ delta) * DG[layers[i - 1][2]](zs[i - 1])
    lr = float(net["learning_rate"])
    return {"objective": loss(layers, x, y), "p": acts[-1], "z": zs[-1], "grads": grads,
            "updated": [(W - lr * gW, b - lr * gb) for (W, b, _), (gW, gb) in zip(layers, grads)]}


def finite_differences(net: dict, h: float = 1e-6) -> list[tuple[np.ndarray, np.ndarray]]:
    layers = arrays(net)
    x, y = np.array(net["data"][0]["x"], float), np.array(net["data"][0]["y"], float)
    out = []
    for l, (W, b, _) in enumerate(layers):
        grads = []
        for which in (W, b):
            g = np.zeros_like(which)
            for idx in np.ndindex(which.shape):
                old = which[idx]
                which[idx] = old + h
                up = loss(layers, x, y)
                which[idx] = old - h
                down = loss(layers, x, y)
                which[idx] = old
                g[idx] = (up - down) / (2 * h)
            grads.append(g)
        out.append(tuple(grads))
    assert len(out) == len(layers) and l == len(layers) - 1
    return out


def trace_grads(net: dict, mode: str) -> list[tuple[np.ndarray, np.ndarray]]:
    n = Network.from_mapping(net)
    sol = dense.solution(n, dense.build(n, delta=mode))
    return [(np.array(g["W"], float), np.array(g["b"], float)) for g in sol["gradients"]]


# -- the numbers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["jacobian", "simplified"])
def test_gradients_match_finite_differences_of_the_loss(mode):
    for (tW, tb), (fW, fb) in zip(trace_grads(NET, mode), finite_differences(NET)):
        assert np.allclose(tW, fW, atol=1e-8) and np.allclose(tb, fb, atol=1e-8)


def test_solution_matches_the_textbook_formulas():
    sol = solve("softmax-classifier", params={"network": NET}).solution
    ref = reference(NET)
    assert math.isclose(sol["objective"], ref["objective"], abs_tol=1e-12)
    for g, (gW, gb), u, (uW, ub) in zip(sol["gradients"], ref["grads"], sol["updated"], ref["updated"]):
        assert np.allclose(g["W"], gW, atol=1e-12) and np.allclose(g["b"], gb, atol=1e-12)
        assert np.allclose(u["W"], uW, atol=1e-12) and np.allclose(u["b"], ub, atol=1e-12)


def test_probabilities_logits_and_loss_values():
    t = solve("softmax-classifier", params={"network": NET}).trace
    ref = reference(NET)
    assert np.allclose([float(t[f"yhat[{k}]"]) for k in (1, 2, 3)], ref["p"], atol=1e-12)
    assert np.allclose([float(t[f"z2[{k}]"]) for k in (1, 2, 3)], ref["z"], atol=1e-12)
    assert math.isclose(float(t["loss"]), -math.log(ref["p"][1]), abs_tol=1e-12)


def test_jacobian_matches_finite_differences_of_the_softmax():
    t = dense.build(Network.from_mapping(NET), delta="jacobian")
    z, h = reference(NET)["z"], 1e-6
    for j in range(3):
        step = np.eye(3)[j] * h
        column = (softmax(z + step) - softmax(z - step)) / (2 * h)
        assert np.allclose([float(t[f"dyhat[{k}]_dz2[{j + 1}]"]) for k in (1, 2, 3)], column, atol=1e-9)


def test_against_torch_autograd():
    torch = pytest.importorskip("torch")
    layers = [(torch.tensor(lay["W"], dtype=torch.float64, requires_grad=True),
               torch.tensor(lay["b"], dtype=torch.float64, requires_grad=True)) for lay in NET["layers"]]
    a = torch.tensor(NET["data"][0]["x"], dtype=torch.float64)
    a = torch.sigmoid(layers[0][0] @ a + layers[0][1])
    logits = layers[1][0] @ a + layers[1][1]
    objective = torch.nn.functional.cross_entropy(logits.unsqueeze(0), torch.tensor([1]), reduction="mean")
    objective.backward()
    sol = solve("softmax-classifier", params={"network": NET}).solution
    assert math.isclose(sol["objective"], objective.item(), abs_tol=1e-12)
    for g, (W, b) in zip(sol["gradients"], layers):
        assert np.allclose(g["W"], W.grad.numpy(), atol=1e-12) and np.allclose(g["b"], b.grad.numpy(), atol=1e-12)


VALUES = st.sampled_from([-1.5, -1, -0.5, 0.5, 1, 1.5])


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 4), st.integers(0, 1), st.sampled_from(["sigmoid", "tanh", "linear"]),
       st.sampled_from(["jacobian", "simplified"]), st.data())
def test_random_networks_agree_with_finite_differences(classes, hidden, act, mode, data):
    widths = [2] + [2] * hidden + [classes]
    layers = [{"W": [data.draw(st.lists(VALUES, min_size=m, max_size=m)) for _ in range(n)],
               "b": data.draw(st.lists(VALUES, min_size=n, max_size=n)),
               "activation": "softmax" if n == widths[-1] and i == len(widths) - 2 else act}
              for i, (m, n) in enumerate(itertools.pairwise(widths))]
    target = data.draw(st.integers(0, classes - 1))
    net = {"layers": layers, "loss": "cross_entropy", "data": [{"x": [1, -0.5], "y": np.eye(classes)[target].tolist()}],
           "learning_rate": 1}
    for (tW, tb), (fW, fb) in zip(trace_grads(net, mode), finite_differences(net)):
        assert np.allclose(tW, fW, atol=1e-7) and np.allclose(tb, fb, atol=1e-7)


# -- the canonical form ---------------------------------------------------------------------------
def test_softmax_is_not_a_hidden_activation_nor_cross_entropy_a_family_loss():
    assert "softmax" not in ACTIVATIONS and "cross_entropy" not in LOSSES


@pytest.mark.parametrize("change,key", [
    (lambda n: n["layers"][0].update(activation="softmax"), "network.layers[0].activation"),
    (lambda n: n["data"][0].update(y=[0, 1, 1]), "network.data[0].y"),
    (lambda n: n.update(loss="squared_error"), "network.loss"),
    (lambda n: n["layers"][1].update(activation="sigmoid"), "network.layers[1].activation"),
    (lambda n: n["layers"][1].update(W=[[1, 1]], b=[0]) or n["data"][0].update(y=[1]), "network.layers[1].activation"),
])
def test_a_bad_softmax_network_names_the_key(change, key):
    net = json.loads(json.dumps(NET))
    change(net)
    with pytest.raises(BankError) as exc:
        Network.from_mapping(net)
    assert str(exc.value).startswith(key)


def test_delta_modes_keep_their_own_plans():
    net = Network.from_mapping(NET)
    for _ in range(2):  # the second build of each replays the cached plan
        simple, full = dense.build(net, delta="simplified"), dense.build(net, delta="jacobian")
        assert simple.quantity("dl_dz2[1]").expr != full.quantity("dl_dz2[1]").expr
        assert float(simple["dl_dz2[1]"]) == pytest.approx(float(full["dl_dz2[1]"]), abs=1e-40)


def test_pinned_network_round_trips_through_solve_json(tmp_path):
    pin = tmp_path / "pin.yaml"
    pin.write_text(json.dumps({"network": NET, "delta": "jacobian"}), encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", "softmax-classifier", "--params", str(pin), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    ref = reference(record["network"])
    assert record["network"]["loss"] == "cross_entropy" and record["delta"] == "jacobian"
    assert math.isclose(record["solution"]["objective"], ref["objective"], abs_tol=1e-12)
    assert np.allclose(record["solution"]["updated"][1]["W"], ref["updated"][1][0], atol=1e-12)


# -- the family -----------------------------------------------------------------------------------
def sampled(seed: int, **over):
    d = dom.merge(FAMILY.default_domain, over or None, "d", FAMILY.domain_limits)
    return FAMILY.sample(np.random.default_rng(seed), d)


def test_fairness_constraints_hold_over_50_versions():
    for seed in range(50):
        params = sampled(seed, classes=[2 + seed % 3], hidden_layers=[seed % 2])
        net, ref = params["network"], reference(params["network"])
        p = np.sort(ref["p"])[::-1]
        target = net["data"][0]["y"].index(1)
        assert P_MIN <= p[-1] and p[0] <= P_MAX and p[0] - p[1] >= 0.05 and ref["p"][target] <= 0.9
        assert np.all(np.abs(ref["z"]) <= MAX_LOGIT)
        if len(net["layers"]) == 2:
            z1 = np.array(net["layers"][0]["W"], float) @ np.array(net["data"][0]["x"], float) + \
                np.array(net["layers"][0]["b"], float)
            assert np.all(z1 > 0) if net["layers"][0]["activation"] == "relu" else np.all(np.abs(z1) <= 4)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_notation_profile_writes_every_part(profile):
    q = solve("softmax-classifier", params={"network": NET, "delta": "jacobian"}, notation=profile)
    assert {"z", "p", "class", "loss", "derive", "dl_dp", "jacobian", "delta", "grad.W2", "grad.b2", "grad.W1[1,1]",
            "update.W2"} == {p.id for p in q.parts} - {"a1"}
    jacobian = next(p for p in q.parts if p.id == "jacobian")
    assert all(q.notation.d in label for label in jacobian.labels) and len(set(jacobian.labels)) == 9
    assert all(p.worked or p.kind == "text" for p in q.parts)


def test_the_students_own_probabilities_decide_the_class():
    for classes in ([2], [3], [4]):
        params = sampled(1, classes=classes)
        part = next(p for p in FAMILY.build(params, PROFILES["bias-column"], 4).parts if p.id == "class")
        n = classes[0]
        assert part.kind == "label" and part.decide == {"argmax": [f"yhat[{k}]" for k in range(1, n + 1)],
                                                        "labels": [str(k) for k in range(1, n + 1)]}


def test_a_wrong_probability_carries_forward_into_the_class():
    p = reference(NET)["p"]
    other = (max(range(3), key=lambda k: p[k]) + 1) % 3
    wrong = [0.7 if k == other else 0.1 for k in range(3)]  # the student's own largest probability: another class
    _, record = graded({"network": NET})
    cells = {}
    for q in record["parts"]:
        typed = wrong if q["id"] == "p" else [str(other + 1)] if q["id"] == "class" else np.ravel(q["answer"]).tolist()
        for col, v in zip(part_columns(1, q), typed):
            cells[col.name] = f"{v:.4f}" if isinstance(v, float) else str(v)
    scores = {s.part: s for s in score_question(Question.from_record(record), cells)}
    assert scores["p"].status == "wrong"
    assert scores["class"].status == "ecf" and scores["class"].earned == scores["class"].points


# -- grading --------------------------------------------------------------------------------------
def graded(params: dict, typed: dict[str, str] | None = None):
    q = solve("softmax-classifier", params=params)
    record = dict(question_record(q, None), index=1, title="", points=q.points)
    cells = {}
    for part in record["parts"]:
        flat = np.ravel(part["answer"]).tolist() if part["kind"] in ("vector", "matrix") else [part["answer"]]
        for col, v in zip(part_columns(1, part), flat):
            cells[col.name] = f"{v:.4f}" if isinstance(v, float) else str(v)
    for pid, values in (typed or {}).items():
        part = next(p for p in record["parts"] if p["id"] == pid)
        cells.update({col.name: f"{v:.4f}" for col, v in zip(part_columns(1, part), values)})
    return {s.part: s for s in score_question(Question.from_record(record), cells)}, record


def test_a_perfect_student_gets_every_auto_graded_point():
    scores, _ = graded({"network": NET, "delta": "jacobian"})
    auto = [s for s in scores.values() if s.status != "manual"]
    assert all(s.status == "correct" for s in auto) and sum(s.earned for s in auto) == sum(s.points for s in auto)


@pytest.mark.parametrize("mode", ["jacobian", "simplified"])
def test_forgetting_the_other_classes_is_diagnosed(mode):
    p = reference(NET)["p"]
    scores, _ = graded({"network": NET, "delta": mode}, {"delta": [0, p[1] * (1 - p[1]) * (-1 / p[1]), 0]})
    assert scores["delta"].status == "partial" and SOFTMAX_DIAGONAL in scores["delta"].note  # δ_target is right


def test_sigma_prime_per_output_is_diagnosed():
    ref = reference(NET)
    s = 1 / (1 + math.exp(-ref["z"][1]))
    scores, _ = graded({"network": NET}, {"delta": [0, -s * (1 - s) / ref["p"][1], 0]})
    assert SOFTMAX_SIGMA in scores["delta"].note


# -- rendering ------------------------------------------------------------------------------------
@pytest.mark.latex
@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
                    reason="latexmk/pdftotext not installed")
def test_exam_and_key_compile_and_only_the_key_has_the_answer(tmp_path):
    import subprocess

    from qgen.render.exam import document
    from qgen.render.pdf import compile_pdf

    q = FAMILY.build(sampled(2, delta=["jacobian"], classes=[4]), PROFILES["separate-bias"], 4)
    texts = {}
    for key in (False, True):
        tex = tmp_path / f"{'key' if key else 'exam'}.tex"
        tex.write_text(document(title="t", course="", date="", instructions="", exam_id="t", version="1", places=4,
                                questions=[q], key=key), encoding="utf-8")
        texts[key] = subprocess.run(["pdftotext", str(compile_pdf(tex, timeout=300)), "-"], capture_output=True,
                                    text=True, check=True).stdout.replace("\u2212", "-")
    loss = next(p for p in q.parts if p.id == "loss").answer_tex
    assert (loss in texts[True], loss in texts[False]) == (True, False)
