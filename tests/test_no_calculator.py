"""No-calculator mode: short decimals everywhere, transcendental values only from the printed table."""

from __future__ import annotations

import re

import pytest

from qgen.bank import load_bank
from qgen.errors import BankError
from qgen.generate import build_versions
from qgen.publish import render_version
from qgen.solve import solve

NUMBER = re.compile(r"(?<![\w.])-?\d+\.(\d+)")


def write(tmp_path, family, extra=""):
    path = tmp_path / "nc.yaml"
    path.write_text(f"exam:\n  id: nc-{family}\n  title: NC\n  calculator: false\nquestions:\n  - family: {family}\n"
                    f"{extra}", encoding="utf-8")
    return path


def table_values(tex: str) -> set[str]:
    """The numbers printed in the function table (between its array's hline and its end)."""
    block = tex[tex.index(r"z & \sigma(z)"):tex.index("use them as given")]
    return {m.group(0).lstrip("-") for m in NUMBER.finditer(block)}


def worked_numbers(tex: str) -> list[str]:
    """Every decimal number in the key's worked lines and boxed answers."""
    lines = [line for line in tex.splitlines() if line.startswith((r"\qgenworked", r"\qgenanswer"))]
    return [m.group(0).lstrip("-") for line in lines for m in NUMBER.finditer(line)]


@pytest.fixture(scope="module")
def mlp_keys(tmp_path_factory):
    bank = load_bank(write(tmp_path_factory.mktemp("nc"), "mlp-backprop"))
    return [render_version(bank, v, key=True) for v in build_versions(bank, [str(i) for i in range(1, 61)])]


def test_every_number_in_the_key_is_short_or_from_the_table(mlp_keys):
    for tex in mlp_keys:
        table = table_values(tex)
        numbers = worked_numbers(tex)
        long = [n for n in numbers if len(n.split(".")[1]) > 3 and n not in table]
        assert numbers and long == []


def test_the_same_check_catches_a_key_made_with_a_calculator(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("exam: {id: c, title: C}\nquestions:\n  - family: mlp-backprop\n", encoding="utf-8")
    bank = load_bank(path)
    tex = render_version(bank, build_versions(bank, ["1"])[0], key=True)
    assert any(len(n.split(".")[1]) > 3 for n in worked_numbers(tex))


def test_every_sigmoid_value_in_the_key_is_a_table_value(mlp_keys):
    for tex in mlp_keys:
        table = table_values(tex)
        read = re.findall(r"\\sigma\s*\\left\(-?\d+\\right\) = (-?\d+\.\d+)", tex)
        assert read and set(v.lstrip("-") for v in read) <= table


def test_the_exam_prints_the_table(tmp_path):
    bank = load_bank(write(tmp_path, "mlp-backprop"))
    tex = render_version(bank, build_versions(bank, ["1"])[0], key=False)
    assert r"\sigma'(z)" in tex and "use them as given" in tex


def test_the_mode_is_stored_with_the_instance(tmp_path):
    bank = load_bank(write(tmp_path, "mlp-backprop"))
    params = build_versions(bank, ["1"])[0].questions[0].params
    again = solve("mlp-backprop", params=params)
    assert params["calculator"] is False and again.trace.table is not None


def test_with_a_calculator_there_is_no_table(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("exam: {id: c, title: C}\nquestions:\n  - family: mlp-backprop\n", encoding="utf-8")
    bank = load_bank(path)
    tex = render_version(bank, build_versions(bank, ["1"])[0], key=False)
    assert "use them as given" not in tex and "calculator" not in build_versions(bank, ["1"])[0].questions[0].params


def test_cross_entropy_gives_delta_instead_of_one_over_yhat(tmp_path):
    bank = load_bank(write(tmp_path, "mlp-backprop"))
    ids = [p.id for p in build_versions(bank, ["1"])[0].questions[0].parts]
    assert "delta.z2" in ids and not any(i.startswith("factor.dl_dyhat") for i in ids)


@pytest.mark.parametrize("family", ["graph-forward", "graph-partials"])
def test_families_built_for_hand_work_pass_the_check(tmp_path, family):
    bank = load_bank(write(tmp_path, family))
    assert len(build_versions(bank, [str(i) for i in range(1, 21)])) == 20


@pytest.mark.parametrize("family", ["activations", "chain-rule", "batch-gd", "logistic-sgd", "regression-mlp"])
def test_families_that_need_a_calculator_say_why(tmp_path, family):
    with pytest.raises(BankError) as exc:
        load_bank(write(tmp_path, family))
    assert "nc.yaml:6" in str(exc.value) and "no no-calculator mode (" in str(exc.value)


def test_a_question_can_keep_its_calculator(tmp_path):
    bank = load_bank(write(tmp_path, "activations", "    calculator: true\n"))
    assert bank.questions[0].rules.calculator and not bank.rules.calculator
