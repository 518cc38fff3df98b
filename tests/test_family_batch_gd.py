"""Family batch-gd (seed 002): the pinned document instance, sampled instances against numpy, bad input."""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from qgen.bank import load_params
from qgen.errors import BankError, FamilyError
from qgen.families import domain as dom
from qgen.families.batch_gd import BatchGd, theta_keys, updated_network
from qgen.nn.network import Network
from qgen.notation import PROFILES
from qgen.solve import solve

PIN = Path(__file__).resolve().parent.parent / "banks" / "pins" / "seed-002.yaml"
SEEDS = range(20)
NUMERIC = ("number", "vector")


@lru_cache(maxsize=None)
def pinned():
    return solve("batch-gd", params=load_params(PIN))


@lru_cache(maxsize=None)
def sampled(seed: int, profile: str = "theta"):
    return solve("batch-gd", seed=seed, notation=profile)


def part(q, id: str):
    return next(p for p in q.parts if p.id == id)


def bmatrix(*entries: str) -> str:
    return r"\begin{bmatrix} " + r" \\ ".join(entries) + r" \end{bmatrix}"


# -- seed 002: every reference answer of INDEX.md --------------------------------------------
# (part id, entry or None for the whole answer, reference as INDEX.md prints it)
REFERENCE = [
    ("forward@1", 0, "3"), ("forward@2", 0, "-1"),          # z = (3, −1)
    ("forward@1", 1, "3"), ("forward@2", 1, "0"),           # h = (3, 0)
    ("forward@1", 2, "3"), ("forward@2", 2, "0"),           # ŷ = (3, 0)
    ("loss@1", None, "2.89"), ("loss@2", None, "3.61"),
    ("objective", None, "3.25"),
    ("delta@1", None, ("3.4", "3.4")), ("delta@2", None, ("-3.8", "0")),  # δ_ŷ, δ_h (the document's step 4)
    ("grad@1", None, ("6.8", "3.4", "3.4", "10.2", "3.4")),
    ("grad@2", None, ("0", "0", "0", "0", "-3.8")),
    ("grad", None, ("3.4", "1.7", "1.7", "5.1", "-0.2")),
    ("update", None, ("0.966", "0.983", "-0.017", "0.949", "0.002")),
    ("objective-after", None, "2.8556"),
]


def _places(reference: str) -> int:
    return len(reference.partition(".")[2])


@pytest.mark.parametrize("id, entry, reference", REFERENCE, ids=[f"{r[0]}[{r[1]}]" for r in REFERENCE])
def test_seed_002_answer_rounds_to_the_reference(id, entry, reference):
    answer = part(pinned(), id).answer
    if entry is not None:
        answer = answer[entry]
    if isinstance(reference, tuple):
        assert [round(a, _places(r)) for a, r in zip(answer, reference)] == [float(r) for r in reference]
    else:
        assert round(answer, _places(reference)) == float(reference)


@pytest.mark.parametrize("id, reference", [(r[0], r[2]) for r in REFERENCE if r[1] is None])
def test_seed_002_displayed_answer_is_the_reference(id, reference):
    expected = bmatrix(*reference) if isinstance(reference, tuple) else reference
    assert part(pinned(), id).answer_tex == expected


def test_seed_002_forward_pass_is_displayed_exactly():
    assert [part(pinned(), f"forward@{p}").answer_tex for p in (1, 2)] == [bmatrix("3", "3", "3"),
                                                                           bmatrix("-1", "0", "0")]


def test_seed_002_loss_goes_down():
    assert part(pinned(), "decreased").answer == "yes"


def test_seed_002_loss_after_the_step_is_exact():
    assert pinned().trace["J_new"] == Fraction("2.855647324402")


def test_seed_002_documents_rounded_value_is_not_accepted_silently():
    assert part(pinned(), "objective-after").accept == ()


def test_seed_002_key_explains_the_documents_2_855():
    assert "2.855;" in pinned().context["note"]


def test_seed_002_statement_writes_the_hidden_unit_as_the_document():
    assert pinned().context["units"] == [
        r"z = w_{0} x[0] + w_{1} x[1] + w_{2}, \quad h = \operatorname{ReLU}\left(z\right)"]


def test_seed_002_statement_writes_the_output_as_the_document():
    assert pinned().context["output"] == r"\hat{y} = w_{3} h + w_{4}"


def test_seed_002_theta_is_stated_in_order():
    assert (pinned().context["theta"], pinned().context["theta_values"]) == (
        "(w_{0}, w_{1}, w_{2}, w_{3}, w_{4})", "(1, 1, 0, 1, 0)")


def test_seed_002_first_gradient_line_goes_through_delta_h():
    assert part(pinned(), "grad@1").worked[0] == (
        r"\frac{\partial L(x_{1}, y_{1})}{\partial w_{0}} = \delta_{h}(x_{1}, y_{1}) \cdot x_{1}[0] "
        r"= 3.4 \cdot 2 = 6.8")


def test_seed_002_dead_point_has_delta_h_zero_through_the_relu_derivative():
    assert part(pinned(), "delta@2").worked[1].endswith(r"\mathbf{1}\left[-1 > 0\right] = 0")


def test_seed_002_delta_yhat_is_written_as_the_document():
    assert part(pinned(), "delta@1").worked[0] == (
        r"\delta_{\hat{y}}(x_{1}, y_{1}) = 2\left(\hat{y}(x_{1}) - y_{1}\right) = 2\left(3 - 1.3\right) = 3.4")


def test_seed_002_solution_has_the_updated_parameters():
    assert pinned().solution["updated"] == [{"W": [[0.966, 0.983]], "b": [-0.017]}, {"W": [[0.949]], "b": [0.002]}]


def test_seed_002_updated_network_is_exact():
    q = pinned()
    net = updated_network(Network.from_mapping(q.params["network"]), q.trace)
    assert net.layers[0].W[0][0] == Fraction(483, 500)


def test_seed_002_loss_after_follows_a_students_theta_prime():
    # error carried forward: a wrong w0' (1 instead of 0.966) changes z(x1)' = 1·2 + 0.983 − 0.017
    env = pinned().trace.evaluate({"W1[1,1]_new": Fraction(1)})
    assert env["z1[1]_new@1"] == Fraction("2.966")


def test_seed_002_solution_reports_the_loss_after_the_step():
    assert round(pinned().solution["objective_after"], 4) == 2.8556


# -- sampled instances against an independent numpy computation --------------------------------
ACT = {"relu": lambda z: np.maximum(z, 0.0), "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh}


class Numpy:
    """A float64 forward pass of the canonical network with θ as one flat vector (θ's order)."""

    def __init__(self, network: dict):
        self.net = network
        (self.hidden, self.out) = network["layers"]
        self.g = ACT[self.hidden["activation"]]
        self.X = np.array([[float(Fraction(str(v))) for v in p["x"]] for p in network["data"]])
        self.Y = np.array([float(Fraction(str(p["y"][0]))) for p in network["data"]])
        self.theta = np.array([float(v) for layer in network["layers"]
                               for row, bias in zip(layer["W"], layer["b"]) for v in (*row, bias)])

    def split(self, theta):
        n_in, h = self.X.shape[1], len(self.hidden["W"])
        first = theta[: h * (n_in + 1)].reshape(h, n_in + 1)
        return first[:, :-1], first[:, -1], theta[h * (n_in + 1):-1], theta[-1]

    def forward(self, theta, x):
        W1, b1, w2, b2 = self.split(theta)
        z = W1 @ x + b1
        h = self.g(z)
        return z, h, w2 @ h + b2

    def loss(self, theta, i):
        return (self.forward(theta, self.X[i])[2] - self.Y[i]) ** 2

    def objective(self, theta):
        return np.mean([self.loss(theta, i) for i in range(len(self.Y))])

    def gradient(self, f, theta, eps=1e-6):
        return np.array([(f(theta + eps * e) - f(theta - eps * e)) / (2 * eps) for e in np.eye(len(theta))])


def _numeric_parts(q):
    return {p.id: p.answer for p in q.parts if p.kind in NUMERIC}


@pytest.mark.parametrize("seed", SEEDS)
def test_forward_pass_agrees_with_numpy(seed):
    q = sampled(seed)
    ref = Numpy(q.params["network"])
    answers = _numeric_parts(q)
    for i in range(len(ref.Y)):
        z, h, yhat = ref.forward(ref.theta, ref.X[i])
        expected = [v for pair in zip(z, h) for v in pair] + [yhat]
        assert answers[f"forward@{i + 1}"] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_losses_agree_with_numpy(seed):
    q = sampled(seed)
    ref = Numpy(q.params["network"])
    answers = _numeric_parts(q)
    got = [answers[f"loss@{i + 1}"] for i in range(len(ref.Y))] + [answers["objective"]]
    assert got == pytest.approx([ref.loss(ref.theta, i) for i in range(len(ref.Y))] + [ref.objective(ref.theta)])


@pytest.mark.parametrize("seed", SEEDS)
def test_per_example_gradients_agree_with_finite_differences(seed):
    q = sampled(seed)
    ref = Numpy(q.params["network"])
    answers = _numeric_parts(q)
    for i in range(len(ref.Y)):
        fd = ref.gradient(lambda th: ref.loss(th, i), ref.theta)
        assert answers[f"grad@{i + 1}"] == pytest.approx(fd, abs=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_deltas_agree_with_finite_differences_of_the_loss_by_yhat_and_z(seed):
    q = sampled(seed)
    ref = Numpy(q.params["network"])
    _, _, w2, b2 = ref.split(ref.theta)
    eps = 1e-6
    for i, (x, y) in enumerate(zip(ref.X, ref.Y)):
        z, h, yhat = ref.forward(ref.theta, x)
        d_yhat = ((yhat + eps - y) ** 2 - (yhat - eps - y) ** 2) / (2 * eps)
        d_z = [((w2 @ ref.g(z + eps * e) + b2 - y) ** 2 - (w2 @ ref.g(z - eps * e) + b2 - y) ** 2) / (2 * eps)
               for e in np.eye(len(z))]
        assert _numeric_parts(q)[f"delta@{i + 1}"] == pytest.approx([d_yhat, *d_z], abs=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_data_set_gradient_agrees_with_finite_differences(seed):
    q = sampled(seed)
    ref = Numpy(q.params["network"])
    assert _numeric_parts(q)["grad"] == pytest.approx(ref.gradient(ref.objective, ref.theta), abs=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_step_and_loss_after_agree_with_numpy(seed):
    q = sampled(seed)
    ref = Numpy(q.params["network"])
    lr = float(Fraction(str(q.params["network"]["learning_rate"])))
    new = ref.theta - lr * ref.gradient(ref.objective, ref.theta)
    answers = _numeric_parts(q)
    assert (answers["update"], answers["objective-after"]) == (pytest.approx(new, abs=1e-6),
                                                             pytest.approx(ref.objective(new), abs=1e-6))


@pytest.mark.parametrize("seed", SEEDS)
def test_decreased_label_compares_the_two_losses(seed):
    q = sampled(seed)
    ref = Numpy(q.params["network"])
    lr = float(Fraction(str(q.params["network"]["learning_rate"])))
    new = ref.theta - lr * ref.gradient(ref.objective, ref.theta)
    assert part(q, "decreased").answer == ("yes" if ref.objective(new) < ref.objective(ref.theta) else "no")


@pytest.mark.parametrize("seed", SEEDS)
def test_part_ids_are_unique(seed):
    ids = [p.id for p in sampled(seed).parts]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("seed", SEEDS)
def test_every_numeric_part_has_a_worked_line_per_key(seed):
    assert all(len(p.worked) == len(p.keys) > 0 for p in sampled(seed).parts
               if p.kind in NUMERIC and p.id != "objective-after")


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_instance_is_fair(seed):
    assert BatchGd().problems(sampled(seed).params, dead_unit="required") == []


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_relu_instance_has_a_dead_point(seed):
    ref = Numpy(sampled(seed).params["network"])
    assert any(np.any(ref.forward(ref.theta, x)[0] < 0) for x in ref.X)


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_instance_has_two_to_four_points(seed):
    assert 2 <= len(sampled(seed).params["network"]["data"]) <= 4


@pytest.mark.parametrize("seed", range(5))
def test_same_seed_gives_identical_parts(seed):
    assert solve("batch-gd", seed=seed, notation="theta").parts == sampled(seed).parts


@pytest.mark.parametrize("seed", range(5))
def test_stored_params_rebuild_the_same_question(seed):
    q = sampled(seed)
    assert solve("batch-gd", params={**q.params, "notation": "theta"}).parts == q.parts


@pytest.mark.parametrize("seed", range(5))
def test_answers_do_not_depend_on_the_notation(seed):
    def answers(profile):
        return [p.answer for p in sampled(seed, profile).parts]

    assert all(answers(p) == answers("theta") for p in PROFILES)


def test_different_seeds_give_different_instances():
    assert len({repr(sampled(s).params) for s in SEEDS}) == len(SEEDS)


def test_theta_order_is_each_units_weights_then_its_bias():
    assert theta_keys(Network.from_mapping(load_params(PIN)["network"])) == [
        "W1[1,1]", "W1[1,2]", "b1[1]", "W2[1,1]", "b2[1]"]


# -- domains -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_forbidding_the_dead_unit_keeps_every_point_active(seed):
    fam = BatchGd()
    params = fam.sample(np.random.default_rng(seed), dom.merge(fam.default_domain, {"dead_unit": ["forbidden"]}, "d"))
    ref = Numpy(params["network"])
    assert all(np.all(ref.forward(ref.theta, x)[0] > 0) for x in ref.X)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_sigmoid_and_tanh_hidden_units_can_be_drawn(activation):
    fam = BatchGd()
    params = fam.sample(np.random.default_rng(1), dom.merge(fam.default_domain, {"hidden_activation": [activation]},
                                                            "d"))
    assert params["network"]["layers"][0]["activation"] == activation


def test_two_hidden_units_build():
    fam = BatchGd()
    params = fam.sample(np.random.default_rng(2), dom.merge(fam.default_domain, {"hidden": [2]}, "d"))
    q = fam.build(params, PROFILES["theta"], 4)
    assert len(part(q, "grad").answer) == 9


def test_unknown_dead_unit_word_names_the_key():
    with pytest.raises(BankError) as exc:
        dom.merge(BatchGd.default_domain, {"dead_unit": ["sometimes"]}, "questions[0].domain")
    assert "questions[0].domain.dead_unit" in str(exc.value)


def test_impossible_domain_is_a_family_error():
    fam = BatchGd()
    domain = dom.merge(fam.default_domain, {"x": [1], "weights": {"integers": [1, 1]}, "biases": [1]}, "d")
    with pytest.raises(FamilyError) as exc:
        fam.sample(np.random.default_rng(0), domain)
    assert "no fair instance" in str(exc.value)


# -- bad pinned parameters -----------------------------------------------------------------
def _pinned_with(**changes):
    params = load_params(PIN)
    for path, value in changes.items():
        target = params["network"]
        *keys, last = path.split("__")
        for k in keys:
            target = target[int(k)] if k.isdigit() else target[k]
        target[int(last) if last.isdigit() else last] = value
    return params


BAD = [
    (dict(layers__1__activation="sigmoid"), "params.network.layers[1]"),
    (dict(layers__0__activation="leaky_relu"), "params.network.layers[0].activation"),
    (dict(data=[{"x": [2, 1], "y": [1.3]}]), "params.network.data"),
    (dict(loss="binary_cross_entropy"), "params.network.loss"),
    (dict(learning_rate=-0.1), "params.network.learning_rate"),
    (dict(layers__0__W=[[1, 1, 1]]), "params.network.data[0].x"),
]


@pytest.mark.parametrize("changes, key", BAD, ids=[k for _, k in BAD])
def test_bad_pinned_network_is_a_bank_error_naming_the_key(changes, key):
    with pytest.raises(BankError) as exc:
        solve("batch-gd", params=_pinned_with(**changes))
    assert key in str(exc.value)


def test_three_layers_is_a_bank_error():
    params = load_params(PIN)
    params["network"]["layers"].append({"W": [[1]], "b": [0], "activation": "linear"})
    with pytest.raises(BankError) as exc:
        solve("batch-gd", params=params)
    assert "params.network.layers" in str(exc.value)


def test_unknown_param_is_a_bank_error():
    params = {**load_params(PIN), "asked": ["W1[1,1]"]}
    with pytest.raises(BankError) as exc:
        solve("batch-gd", params=params)
    assert "asked" in str(exc.value)


def test_note_must_be_text():
    params = {**load_params(PIN), "note": 3}
    with pytest.raises(BankError) as exc:
        solve("batch-gd", params=params)
    assert "params.note" in str(exc.value)


# -- rendering -----------------------------------------------------------------------------
def _render(q, key: bool) -> str:
    from qgen.render.exam import document

    return document(title="t", course="", date="", instructions="", exam_id="t", version="1", places=4,
                    questions=[q], key=key)


def test_note_is_in_the_key_only():
    assert ("2.855;" in _render(pinned(), True), "2.855;" in _render(pinned(), False)) == (True, False)


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
                    reason="latexmk/pdftotext not installed")
@pytest.mark.parametrize("seed", [0, 5, 11])
def test_key_pdf_has_the_answer_and_the_exam_pdf_does_not(tmp_path, seed):
    from qgen.render.pdf import compile_pdf

    q = sampled(seed)
    texts = {}
    for key in (False, True):
        tex = tmp_path / f"{'key' if key else 'exam'}.tex"
        tex.write_text(_render(q, key), encoding="utf-8")
        pdf = compile_pdf(tex, timeout=300)
        texts[key] = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    answer = part(q, "objective-after").answer_tex
    assert (answer in texts[True], answer in texts[False]) == (True, False)


def test_domain_with_one_point_is_a_bank_error_naming_the_domain_key():
    fam = BatchGd()
    with pytest.raises(BankError) as exc:
        fam.sample(np.random.default_rng(0), dom.merge(fam.default_domain, {"points": [1]}, "d"))
    assert "domain.points" in str(exc.value)
