"""The sampling rules of issue 12: significant answers, targets not reached, saturation on the derivative,
varied graph nodes, consistent stated tables, fair neighbours, exam-wide choices, every z domain form."""

from __future__ import annotations

import pytest

from qgen.bank import load_bank
from qgen.check import dry_run, summary_lines
from qgen.errors import BankError
from qgen.families import checks, get
from qgen.families.rules import saturated, significant
from qgen.generate import build_versions
from tests.conftest import ROOT


def write(tmp_path, text):
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_tanh_at_four_is_saturated_and_sigmoid_at_four_is_not():
    # tanh′(4) = 0.0013, σ′(4) = 0.0177 (the floor)
    assert (saturated("tanh", 4), saturated("sigmoid", 4), saturated("tanh", 2.5)) == (True, False, False)


def test_four_decimals_need_answers_of_at_least_0_001():
    assert (significant(0.0004, 4), significant(0.0287, 4), significant(0.01, 3)) == (False, True, True)


def test_activations_reject_a_tanh_point_at_four():
    params = {"functions": [{"name": "tanh", "z": [-4, 1]}]}
    assert [p.split(":")[0] for p in get("activations").problems(params)] == ["no_saturation"]


def test_a_prediction_at_its_target_is_reported():
    # a1 = [1, 1], z2 = -2 - 2 = -4, ŷ = σ(−4) = 0.018 for y = 0
    net = {"layers": [{"W": [[1, 0], [0, 1]], "b": [0, 0], "activation": "relu"},
                      {"W": [[-2, -2]], "b": [0], "activation": "sigmoid"}],
           "loss": "half_squared_error", "reduction": "mean", "data": [{"x": [1, 1], "y": [0]}], "learning_rate": 1}
    problems = get("mlp-backprop").problems({"network": net, "asked": ["W2[1,1]", "W1[1,1]"]})
    assert "target_not_reached: the prediction is within 0.1 of its target" in problems


def test_graph_with_three_zero_nodes_is_reported():
    params = {"x": 1, "nodes": [{"op": "add_const", "args": ["x"], "c": -1}, {"op": "mul", "args": [1, "x"]},
                                {"op": "add", "args": [2, 1]}]}  # 0, 0, 0
    assert "varied_nodes: 3 nodes have the value 0 (at most 1)" in get("graph-forward").problems(params)


def test_stated_y_that_is_not_s1_plus_s2_is_reported():
    # r1 = r2 = 1, s = σ(1) = 0.7311 → stated 0.7 each, y = 1.4621 → stated 1.5 ≠ 0.7 + 0.7
    params = {"x": [1, 1], "weights": {"a": 1, "b": 1, "c": 2, "d": 2, "e": -1, "f": -1}}
    problems = get("graph-partials").problems(params)
    assert "consistent_statement: the stated y = 1.5 is not the stated s1 + s2 = 1.4" in problems


def test_neighbour_share_counts_repeats_once():
    assert checks.shared_fraction(["0.5", "0.5", "0.25"], ["0.5", "0.75", "0.125"]) == pytest.approx(1 / 3)


@pytest.fixture(scope="module")
def shipped():
    return {name: build_versions(load_bank(ROOT / "banks" / f"{name}.yaml"), [str(i) for i in range(1, 41)])
            for name in ("midterm", "quiz")}


@pytest.mark.parametrize("name", ["midterm", "quiz"])
def test_forty_versions_of_a_shipped_bank_have_no_tiny_answers(shipped, name):
    tiny = [(v.id, q.family, p.id) for v in shipped[name] for q in v.questions for p in q.parts
            if p.kind in checks.NUMERIC for k in p.keys
            if (x := float(q.trace[k])) != 0 and abs(x) < 10 ** -(p.places - 1)]
    assert tiny == []


@pytest.mark.parametrize("name", ["midterm", "quiz"])
def test_forty_versions_of_a_shipped_bank_share_at_most_a_third_with_their_neighbour(shipped, name):
    versions = shipped[name]
    over = [(b.id, i) for a, b in zip(versions, versions[1:]) for i, (qa, qb) in enumerate(zip(a.questions, b.questions))
            if checks.shared_fraction(checks.shown_answers(qa), checks.shown_answers(qb)) > 1 / 3]
    assert over == []


def test_the_concept_and_the_activation_functions_are_drawn_once_per_exam(shipped):
    midterm = shipped["midterm"]
    functions = {tuple(f["name"] for f in v.questions[0].params["functions"]) for v in midterm}
    concepts = {v.questions[2].params["concept"] for v in midterm}
    assert (len(functions), len(concepts)) == (1, 1)


def test_linear_is_not_a_default_activation(shipped):
    assert not any(f["name"] == "linear" for v in shipped["midterm"] for f in v.questions[0].params["functions"])


ACTIVATIONS = "exam: {{id: z, title: T}}\nquestions:\n  - family: activations\n    domain:\n      z: {z}\n"


@pytest.mark.parametrize("z, allowed", [
    ("{integers: [-3, 3], exclude: [0]}", {-3, -2, -1, 1, 2, 3}),
    ("{decimals: [-2, 2], step: 0.25, exclude: [0]}", {k / 4 for k in range(-8, 9) if k}),
    ("['-3/2', '-1/2', '1/3', '5/4', '-2/3', '7/4']", {-1.5, -0.5, 1 / 3, 1.25, -2 / 3, 1.75}),
])
def test_activation_points_come_from_every_domain_form(tmp_path, z, allowed):
    bank = load_bank(write(tmp_path, ACTIVATIONS.format(z=z) + "    constraints: {distinct_neighbours: off}\n"))
    points = {float(eval(str(p))) if isinstance(p, str) else p for v in build_versions(bank, ["1", "2", "3"])
              for f in v.questions[0].params["functions"] for p in f["z"]}
    assert points and all(any(abs(p - a) < 1e-12 for a in allowed) for p in points)


def test_a_fixed_z_too_small_for_the_points_is_a_bank_error_naming_the_line(tmp_path):
    path = write(tmp_path, ACTIVATIONS.format(z="1"))
    with pytest.raises(BankError) as exc:
        load_bank(path)
    assert str(exc.value) == (f"{path}:5: questions[0].domain.points: 2 distinct points cannot be drawn from the "
                              "1 values of domain.z")


def test_check_shows_the_new_constraints_rejection_rates(tmp_path):
    bank = load_bank(write(tmp_path, "exam: {id: c, title: T}\nquestions:\n  - family: graph-partials\n"
                                     "    domain: {dead_paths: [0]}\n"))
    text = "\n".join(summary_lines(dry_run(bank, 10)))
    assert "consistent_statement" in text
