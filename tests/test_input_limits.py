"""Bounded work from every input: counts, sizes and numbers a bank or pin file may ask for."""

from __future__ import annotations

import time

import pytest

from qgen.cli import main
from qgen.errors import BankError
from qgen.nn.network import Network

NET = {"layers": [{"W": [[1, 2]], "b": [0], "activation": "sigmoid"}], "loss": "squared_error",
       "data": [{"x": [1, 2], "y": [1]}], "learning_rate": 1}


def _net(**changes):
    return {**NET, **changes}


@pytest.mark.parametrize("network,message", [
    (_net(layers=[{"W": [[1]], "b": [0], "activation": "linear"}] * 7), "layers: 7 entries; an exam's network has at most 6"),
    (_net(layers=[{"W": [[1, 2]] * 13, "b": [0] * 13}]), "W: 13 entries"),
    (_net(data=[{"x": [1, 2], "y": [1]}] * 21), "data: 21 entries; an exam's network has at most 20"),
    (_net(learning_rate="1e99999999"), "learning_rate: '1e99999999' is not a number"),
    (_net(learning_rate=10**7), "learning_rate: 10000000 is beyond what an exam computes by hand"),
    (_net(layers=[{"W": [["1/3000000000000000"]], "b": [0]}]), "beyond what an exam computes by hand"),
    (_net(learning_rate="9" * 500), "too long for a number"),
])
def test_a_network_beyond_exam_size_is_refused_at_once(network, message):
    start = time.perf_counter()
    with pytest.raises(BankError, match=message.replace("(", r"\(").replace("[", r"\[")):
        Network.from_mapping(network)
    assert time.perf_counter() - start < 0.5


def test_exam_versions_has_the_cap_of_the_option(tmp_path, runner):
    bank = tmp_path / "bank.yaml"
    bank.write_text("exam: {id: a, title: T, versions: 100001}\nquestions:\n  - family: chain-rule\n", encoding="utf-8")
    result = runner.invoke(main, ["check", str(bank)])
    assert result.exit_code == 1 and "from 1 to 10,000 (as --versions)" in result.output
    assert result.output.count("\n") == 1


@pytest.mark.parametrize("exam_id", ["/etc", "../../x", ".", "..", "a b", "x" * 65, "Q&A"])
def test_an_exam_id_is_a_name_not_a_path(tmp_path, runner, exam_id):
    bank = tmp_path / "bank.yaml"
    bank.write_text(f"exam: {{id: '{exam_id}', title: T}}\nquestions:\n  - family: chain-rule\n", encoding="utf-8")
    result = runner.invoke(main, ["generate", str(bank), "--no-pdf", "--force", "-q"])
    assert result.exit_code == 1 and "is not a name" in result.output and result.output.count("\n") == 1


def test_a_family_must_be_a_name(tmp_path, runner):
    bank = tmp_path / "bank.yaml"
    bank.write_text("exam: {id: a, title: T}\nquestions:\n  - family: [a]\n", encoding="utf-8")
    result = runner.invoke(main, ["check", str(bank)])
    assert result.exit_code == 1 and "family: expected a family's name" in result.output


def test_a_negative_seed_is_a_usage_error(runner):
    result = runner.invoke(main, ["solve", "mlp-backprop", "--seed", "-1"])
    assert result.exit_code == 2 and "Traceback" not in result.output
