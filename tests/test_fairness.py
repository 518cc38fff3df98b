"""Fair versions: domains in the bank, switchable constraints, distinct answers and versions."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qgen import families
from qgen.bank import load_bank
from qgen.errors import BankError, FamilyError
from qgen.families import checks
from qgen.families.domain import choices, draw_fair, matching, merge, tallying
from qgen.families.rules import CONSTRAINTS, Rules, constraint_of
from qgen.generate import Draws, build_versions, version_seed
from qgen.solve import solve

MLP = families.get("mlp-backprop")


def write(tmp_path, text):
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def bank_with(tmp_path, question: str, exam: str = "") -> object:
    return load_bank(write(tmp_path, f"exam:\n  id: fair\n  title: T\n{exam}questions:\n  - family: mlp-backprop\n"
                                     f"{question}"))


# -- domain forms ----------------------------------------------------------------------------
def test_decimal_grid_lists_its_values():
    assert choices({"decimals": [-1, 1], "step": 0.5, "exclude": [0]}) == [-1, -0.5, 0.5, 1]


def test_decimal_grid_of_thirds_stays_exact():
    assert choices({"decimals": [0, 1], "step": "1/3"}) == [0, "1/3", "2/3", 1]


def test_integer_range_with_exclusions():
    assert choices({"integers": [-2, 2], "exclude": [0]}) == [-2, -1, 1, 2]


def test_a_fixed_value_is_one_choice():
    assert merge(MLP.default_domain, {"hidden": 3}, "d")["hidden"] == [3]


@pytest.mark.parametrize("override,message", [
    ({"hiden": [2]}, "unknown parameter 'hiden'"),
    ({"hidden": []}, "empty"),
    ({"hidden": [9]}, "from 1 to 4"),
    ({"x": {"integers": [3, 1]}}, "lo <= hi"),
    ({"x": {"integers": [0, 0], "exclude": [0]}}, "empty"),
    ({"x": {"decimals": [0, 1], "step": 0.3}}, "whole number of steps"),
    ({"x": {"decimals": [0, 1]}}, "step"),
    ({"x": ["a"]}, "not numbers"),
    ({"hidden_activation": ["softmax"]}, "not among"),
    ({"hidden_activation": {"integers": [0, 1]}}, "list of names"),
    ({"asked": ["W2(1,1)"]}, "not a weight pattern"),
])
def test_bad_domain_is_an_error_naming_the_key(override, message):
    with pytest.raises(BankError) as exc:
        merge(MLP.default_domain, override, "questions[0].domain", MLP.domain_limits)
    assert message in str(exc.value) and "questions[0].domain" in str(exc.value)


def test_domain_error_names_the_line_of_the_key(tmp_path):
    with pytest.raises(BankError) as exc:
        bank_with(tmp_path, "    domain:\n      x: [1]\n      hidden: [7]\n")
    assert str(exc.value).startswith(f"{tmp_path / 'bank.yaml'}:8:")


def test_weight_patterns_match_layer_and_indices():
    keys = ["W2[1,1]", "W2[1,2]", "b2[1]", "W1[1,1]", "W1[2,1]", "b1[1]"]
    assert (matching("Wlast[*]", keys, 2), matching("b1[*]", keys, 2)) == (["W2[1,1]", "W2[1,2]"], ["b1[1]"])


def test_asked_weights_follow_the_domain(tmp_path):
    bank = bank_with(tmp_path, "    domain: {asked: ['W2[1,2]', 'b1[*]'], hidden: [2]}\n")
    for v in build_versions(bank, ["1", "2", "3"]):
        assert v.questions[0].params["asked"][0] == "W2[1,2]" and v.questions[0].params["asked"][1].startswith("b1[")


def test_network_shape_from_the_domain(tmp_path):
    bank = bank_with(tmp_path, "    domain: {inputs: 3, hidden: 2, hidden_layers: 2, hidden_activation: relu}\n"
                               "    constraints: {distinct_answers: off}\n")
    net = build_versions(bank, ["1"])[0].questions[0].params["network"]
    assert [len(layer["W"][0]) for layer in net["layers"]] == [3, 2, 2]


def test_fixed_numbers_from_the_domain(tmp_path):
    bank = bank_with(tmp_path, "    domain: {x: {decimals: [-1, 1], step: 0.5, exclude: [0]}, learning_rate: 0.25}\n")
    net = build_versions(bank, ["1"])[0].questions[0].params["network"]
    assert net["learning_rate"] == 0.25 and set(net["data"][0]["x"]) <= {-1, -0.5, 0.5, 1}


# -- constraints -------------------------------------------------------------------------------
def test_every_family_names_known_constraints():
    for fam in families.FAMILIES.values():
        assert set(fam.constraints) <= set(CONSTRAINTS), fam.name


def test_rules_keep_only_enabled_problems():
    assert Rules(off=frozenset({"dead_relu"})).keep(["dead_relu: x", "well_posed: y"]) == ["well_posed: y"]


def test_hand_arithmetic_is_on_only_without_a_calculator():
    assert (Rules().on("hand_arithmetic"), Rules(calculator=False).on("hand_arithmetic")) == (False, True)


def test_constraints_can_be_switched_off_per_question(tmp_path):
    bank = bank_with(tmp_path, "    constraints: {no_saturation: off, distinct_answers: false}\n")
    assert bank.questions[0].rules.off == {"no_saturation", "distinct_answers"}


def test_question_switches_override_the_exam(tmp_path):
    bank = bank_with(tmp_path, "    constraints: {dead_relu: on}\n", exam="  constraints: {dead_relu: off, no_saturation: off}\n")
    assert bank.questions[0].rules.off == {"no_saturation"}


def test_unknown_constraint_names_the_file_line_and_choices(tmp_path):
    with pytest.raises(BankError) as exc:
        bank_with(tmp_path, "    constraints:\n      no_saturaton: off\n")
    assert f"{tmp_path / 'bank.yaml'}:7:" in str(exc.value) and "no_saturation" in str(exc.value)


def test_constraint_values_are_on_or_off(tmp_path):
    with pytest.raises(BankError) as exc:
        bank_with(tmp_path, "    constraints: {no_saturation: sometimes}\n")
    assert "on or off" in str(exc.value)


def test_impossible_constraint_fails_naming_it_and_the_switch(tmp_path):
    bank = bank_with(tmp_path, "    domain: {hidden_activation: sigmoid, weights: [4], biases: [3], x: [5]}\n")
    with pytest.raises(FamilyError) as exc:
        build_versions(bank, ["1"])
    text = str(exc.value)
    assert "no_saturation" in text and "constraints: {no_saturation: off}" in text and "bank.yaml:5" in text


def test_switched_off_constraint_lets_the_draw_through(tmp_path):
    bank = bank_with(tmp_path, "    domain: {hidden_activation: sigmoid, weights: [4], biases: [3], x: [5]}\n"
                               "    constraints: {no_saturation: off, nonzero_derivatives: off, distinct_answers: off,\n"
                               "                  target_not_reached: off, significant_answers: off}\n")
    net = build_versions(bank, ["1"])[0].questions[0].params["network"]
    assert net["layers"][0]["W"][0] == [4, 4]


def test_dead_units_are_drawn_as_asked(tmp_path):
    bank = bank_with(tmp_path, "    domain: {hidden_activation: relu, dead_units: 1, hidden: 2}\n")
    for v in build_versions(bank, [str(i) for i in range(5)]):
        layer = v.questions[0].params["network"]["layers"][0]
        x = v.questions[0].params["network"]["data"][0]["x"]
        z = np.array(layer["W"], dtype=float) @ np.array(x, dtype=float) + np.array(layer["b"], dtype=float)
        assert int(np.sum(z < 0)) == 1


def test_draw_fair_error_counts_failures():
    with pytest.raises(FamilyError) as exc:
        draw_fair("fam", lambda: ({}, ["well_posed: always"]), "x", tries=5)
    assert "well_posed: always (5 of 5 draws)" in str(exc.value)


def test_tally_counts_draws_and_rejections():
    calls = iter([["well_posed: a"], ["dead_relu: b"], []])
    with tallying(Counter()) as tally:
        draw_fair("fam", lambda: ({}, next(calls)), "x")
    assert tally == Counter({"draws": 3, "well_posed": 1, "dead_relu": 1})


@given(st.text(max_size=30))
def test_constraint_of_never_raises(text):
    assert isinstance(constraint_of(text), str)


# -- distinct answers and versions ------------------------------------------------------------
def test_accidental_equal_answers_clash():
    q = solve("regression-mlp", params={"network": {
        "layers": [{"W": [[1]], "b": [0], "activation": "sigmoid"}, {"W": [[1]], "b": [0], "activation": "linear"}],
        "loss": "squared_error", "data": [{"x": [1], "y": [1]}], "learning_rate": 0.1}})
    assert any("grad.w1" in p and "grad.b1" in p for p in checks.answer_clashes(q))


def test_forced_equalities_do_not_clash():
    # ReLU of a positive z equals z, dz/dW = x copies the input, a dead unit's gradients are 0
    q = solve("mlp-backprop", params={"network": {
        "layers": [{"W": [[1, 1], [-1, -1]], "b": [0, 0], "activation": "relu"},
                   {"W": [[2, 3]], "b": [-5], "activation": "sigmoid"}],
        "loss": "squared_error", "data": [{"x": [1, 2], "y": [1]}], "learning_rate": 1},
        "asked": ["W2[1,1]", "W1[1,1]"]})
    assert checks.answer_clashes(q) == []


def test_seeds_one_version_redraws_when_numbers_repeat(tmp_path):
    bank = load_bank(write(tmp_path, "exam: {id: few, title: T}\nquestions:\n  - family: chain-rule\n"
                                     "    domain: {m: [sum], g: [sin], h: [x^2, x^3], x0: [1]}\n"))
    draws = Draws()
    versions = build_versions(bank, ["1", "2"], draws)
    assert versions[0].questions[0].params != versions[1].questions[0].params


def test_too_small_a_domain_for_the_versions_is_an_error(tmp_path):
    bank = load_bank(write(tmp_path, "exam: {id: few, title: T}\nquestions:\n  - family: chain-rule\n"
                                     "    domain: {m: [sum], g: [sin], h: [x^2], x0: [1]}\n"))
    with pytest.raises(FamilyError) as exc:
        build_versions(bank, ["1", "2"])
    assert "distinct_versions" in str(exc.value) and "version 2" in str(exc.value)


def test_repeated_numbers_allowed_when_switched_off(tmp_path):
    bank = load_bank(write(tmp_path, "exam: {id: few, title: T}\nquestions:\n  - family: chain-rule\n"
                                     "    domain: {m: [sum], g: [sin], h: [x^2], x0: [1]}\n"
                                     "    constraints: {distinct_versions: off, distinct_neighbours: off}\n"))
    versions = build_versions(bank, ["1", "2"])
    assert versions[0].questions[0].params == versions[1].questions[0].params


def test_first_draw_keeps_the_plain_seed():
    assert version_seed("e", "1", 0, 0) == version_seed("e", "1", 0) != version_seed("e", "1", 0, 1)


def test_mlp_versions_differ_in_their_network_not_only_the_asked_weight():
    fp = checks.fingerprint(MLP, {"network": {"a": 1}, "asked": ["W2[1,1]"]})
    assert fp == checks.fingerprint(MLP, {"network": {"a": 1}, "asked": ["W1[1,1]"]})


# -- shape drawn once per exam ---------------------------------------------------------------
def test_shared_keys_give_every_version_the_same_shape(tmp_path):
    bank = bank_with(tmp_path, "    domain: {hidden: [2, 3], hidden_activation: [relu, sigmoid, tanh]}\n")
    shapes = {(len(v.questions[0].params["network"]["layers"][0]["W"]), v.questions[0].params["network"]["layers"][0]["activation"])
              for v in build_versions(bank, [str(i) for i in range(12)])}
    assert len(shapes) == 1


def test_an_empty_shared_list_lets_the_shape_vary(tmp_path):
    bank = bank_with(tmp_path, "    domain: {hidden_activation: [relu, sigmoid, tanh]}\n    shared: []\n")
    acts = {v.questions[0].params["network"]["layers"][0]["activation"]
            for v in build_versions(bank, [str(i) for i in range(12)])}
    assert len(acts) > 1


def test_shared_names_domain_keys(tmp_path):
    with pytest.raises(BankError) as exc:
        bank_with(tmp_path, "    shared: [width]\n")
    assert "shared" in str(exc.value) and "width" in str(exc.value) and "bank.yaml:6" in str(exc.value)
