"""Family mlp-backprop: sampled instances are fair, consistent, deterministic, and bad input is a BankError."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from qgen import numeric
from qgen.bank import load_params
from qgen.errors import BankError, FamilyError
from qgen.families import domain as dom
from qgen.families.mlp_backprop import MlpBackprop
from qgen.nn.network import Network
from qgen.solve import solve

PINS = Path(__file__).resolve().parent.parent / "banks" / "pins"
SEEDS = range(20)
PROFILES = ("bias-row", "bias-column", "separate-bias")
CASES = [(s, p) for s in SEEDS for p in PROFILES]
NUMERIC = ("number", "vector")


@lru_cache(maxsize=None)
def question(seed: int, profile: str):
    return solve("mlp-backprop", seed=seed, notation=profile)


def ids(cases):
    return [f"seed{s}-{p}" for s, p in cases]


# -- every sampled instance, in every notation --------------------------------------------
@pytest.mark.parametrize("seed, profile", CASES, ids=ids(CASES))
def test_numeric_answers_are_the_trace_values_of_their_keys(seed, profile):
    q = question(seed, profile)
    for p in q.parts:
        if p.kind in NUMERIC:
            values = [numeric.to_float(q.trace[k]) for k in p.keys]
            assert p.answer == (values[0] if p.kind == "number" else values), p.id


@pytest.mark.parametrize("seed, profile", CASES, ids=ids(CASES))
def test_part_ids_are_unique(seed, profile):
    part_ids = [p.id for p in question(seed, profile).parts]
    assert len(part_ids) == len(set(part_ids))


@pytest.mark.parametrize("seed, profile", CASES, ids=ids(CASES))
def test_every_numeric_part_has_a_worked_line_per_key(seed, profile):
    q = question(seed, profile)
    assert all(len(p.worked) == len(p.keys) > 0 for p in q.parts if p.kind in NUMERIC)


@pytest.mark.parametrize("seed, profile", CASES, ids=ids(CASES))
def test_shapes_are_those_of_the_notation(seed, profile):
    q = question(seed, profile)
    net = Network.from_mapping(q.params["network"])
    shapes = {p.id: p.answer for p in q.parts if p.kind == "shape"}
    assert shapes == {f"shape.W{l}": list(q.notation.weight_shape(layer.n_out, layer.n_in))
                      for l, layer in enumerate(net.layers, start=1)}


@pytest.mark.parametrize("seed", SEEDS)
def test_sampled_instance_is_fair(seed):
    q = question(seed, "bias-column")
    assert MlpBackprop().problems(q.params) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_do_not_depend_on_the_notation(seed):
    def answers(profile):
        return {p.id: p.answer for p in question(seed, profile).parts if p.kind != "shape"}

    assert answers("bias-row") == answers("bias-column") == answers("separate-bias")


@pytest.mark.parametrize("seed", SEEDS)
def test_same_seed_gives_identical_parts(seed):
    assert solve("mlp-backprop", seed=seed).parts == question(seed, "bias-column").parts


@pytest.mark.parametrize("seed", SEEDS)
def test_predicted_class_follows_the_threshold(seed):
    q = question(seed, "bias-column")
    label = {p.id: p.answer for p in q.parts}["class"]
    assert label == ("1" if numeric.to_float(q.trace["yhat[1]"]) >= 0.5 else "0")


@pytest.mark.parametrize("seed", SEEDS)
def test_asked_derivatives_are_not_zero_at_the_precision_asked(seed):
    q = question(seed, "bias-column")
    grads = [p.answer for p in q.parts if p.id.startswith("grad.")]
    assert len(grads) == 2 and all(abs(g) >= 0.5e-4 for g in grads)


@pytest.mark.parametrize("seed", SEEDS)
def test_stored_params_rebuild_the_same_question(seed):
    q = question(seed, "bias-column")
    assert solve("mlp-backprop", params=q.params).parts == q.parts


def test_different_seeds_give_different_networks():
    assert len({repr(question(s, "bias-column").params["network"]) for s in SEEDS}) > 15


# -- pinned parameters -------------------------------------------------------------------
def test_unknown_asked_key_is_a_bank_error():
    params = load_params(PINS / "seed-000.yaml")
    params["asked"] = ["W3[1,1]"]
    with pytest.raises(BankError) as exc:
        solve("mlp-backprop", params=params)
    assert "params.asked" in str(exc.value) and "W3[1,1]" in str(exc.value)


def test_asking_for_the_learning_rate_is_a_bank_error():
    params = load_params(PINS / "seed-000.yaml")
    params["asked"] = ["lr"]
    with pytest.raises(BankError) as exc:
        solve("mlp-backprop", params=params)
    assert "'lr'" in str(exc.value)


def test_asked_must_be_a_list():
    params = load_params(PINS / "seed-000.yaml")
    params["asked"] = "W2[1,1]"
    with pytest.raises(BankError) as exc:
        solve("mlp-backprop", params=params)
    assert "params.asked" in str(exc.value)


def test_repeated_asked_weight_does_not_duplicate_part_ids():
    params = load_params(PINS / "seed-000.yaml")
    params["asked"] = ["W2[1,1]", "W2[1,1]"]
    try:
        part_ids = [p.id for p in solve("mlp-backprop", params=params).parts]
    except BankError:  # rejecting the repeat is as good as removing it
        return
    assert len(part_ids) == len(set(part_ids))


def test_asked_biases_get_their_own_parts():
    params = load_params(PINS / "seed-000.yaml")
    params["asked"] = ["b1[2]", "b2[1]"]
    part_ids = {p.id for p in solve("mlp-backprop", params=params).parts}
    assert {"grad.b2[1]", "grad.b1[2]", "update.b2[1]", "update.b1[2]"} <= part_ids


def test_unknown_concept_is_a_bank_error():
    params = load_params(PINS / "seed-000.yaml")
    params["concept"] = "no-such-concept"
    with pytest.raises(BankError) as exc:
        solve("mlp-backprop", params=params)
    assert "params.concept" in str(exc.value)


def test_network_without_a_hidden_layer_is_a_family_error():
    params = load_params(PINS / "seed-000.yaml")
    params["network"]["layers"] = [{"W": [[1, 2]], "b": [0], "activation": "sigmoid"}]
    params["asked"] = ["W1[1,1]"]
    with pytest.raises(FamilyError) as exc:
        solve("mlp-backprop", params=params)
    assert "hidden layer" in str(exc.value)


def test_bad_precision_is_a_bank_error():
    params = load_params(PINS / "seed-000.yaml")
    params["precision"] = 11
    with pytest.raises(BankError) as exc:
        solve("mlp-backprop", params=params)
    assert "precision" in str(exc.value)


def test_unknown_family_is_a_family_error():
    with pytest.raises(FamilyError) as exc:
        solve("mlp-forward", seed=1)
    assert "mlp-forward" in str(exc.value)


# -- bank-style domain overrides ------------------------------------------------------------
def test_domain_override_with_an_unknown_key_is_a_bank_error():
    with pytest.raises(BankError) as exc:
        dom.merge(MlpBackprop.default_domain, {"depth": [3]}, "questions[0].domain")
    assert "questions[0].domain" in str(exc.value) and "depth" in str(exc.value)


def test_domain_override_with_an_unknown_activation_names_the_key():
    with pytest.raises(BankError) as exc:
        dom.merge(MlpBackprop.default_domain, {"hidden_activation": ["softmax"]}, "questions[0].domain")
    assert "questions[0].domain.hidden_activation" in str(exc.value)


def test_domain_override_with_an_empty_range_is_a_bank_error():
    with pytest.raises(BankError) as exc:
        dom.merge(MlpBackprop.default_domain, {"weights": {"integers": [0, 0], "exclude": [0]}}, "q.domain")
    assert "q.domain.weights" in str(exc.value)


def test_domain_override_that_is_not_a_mapping_is_a_bank_error():
    with pytest.raises(BankError) as exc:
        dom.merge(MlpBackprop.default_domain, ["relu"], "q.domain")
    assert "q.domain" in str(exc.value)


@pytest.mark.parametrize("seed", range(5))
def test_sampling_respects_a_domain_override(seed):
    fam = MlpBackprop()
    domain = dom.merge(fam.default_domain, {"hidden": [3], "hidden_activation": ["relu"]}, "q.domain")
    layers = fam.sample(np.random.default_rng(seed), domain)["network"]["layers"]
    assert (len(layers[0]["W"]), layers[0]["activation"]) == (3, "relu")


def test_impossible_domain_is_a_family_error():
    fam = MlpBackprop()
    # every hidden unit saturates: |z| ≥ 20·1 − 3 with sigmoid hidden units
    domain = dom.merge(fam.default_domain, {"weights": {"integers": [20, 20]}, "x": [1],
                                            "hidden_activation": ["sigmoid"]}, "q.domain")
    with pytest.raises(FamilyError) as exc:
        fam.sample(np.random.default_rng(0), domain)
    assert "no fair instance" in str(exc.value)


def _regression_question():

    from qgen.families import get
    from qgen.notation import PROFILES

    fam = get("mlp-backprop")
    domain = dom.merge(fam.default_domain, {"output_activation": ["linear"], "loss": ["squared_error"]}, "domain")
    return fam.build(fam.sample(np.random.default_rng(11), domain), PROFILES["separate-bias"], 4)


def test_linear_output_has_no_class_part():
    assert "class" not in {p.id for p in _regression_question().parts}


def test_linear_output_is_stated_as_regression():
    from qgen.render.exam import question_body

    assert "regression problem" in question_body(_regression_question(), key=False)
