"""Banks: validation with errors that name the file, the line and the key."""

from __future__ import annotations

import pytest

from qgen.bank import load_bank
from qgen.errors import BankError, FamilyError
from tests.conftest import BANKS

GOOD = """\
exam:
  id: t1
  title: Test
questions:
  - family: mlp-backprop
"""


def write(tmp_path, text):
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["quiz.yaml", "midterm.yaml", "seeds.yaml"])
def test_example_banks_load(name):
    assert load_bank(BANKS / name).questions


def test_defaults_fill_in_notation_and_precision(tmp_path):
    bank = load_bank(write(tmp_path, GOOD))
    assert (bank.notation.name, bank.places, bank.versions) == ("bias-column", 4, 1)


def test_pin_file_brings_its_notation():
    bank = load_bank(BANKS / "seeds.yaml")
    by_title = {q.title.split(":")[0]: q.notation.name for q in bank.questions}
    assert (by_title["Seed 000"], by_title["Seed 001 §3"]) == ("bias-row", "bias-column")


def test_yaml_syntax_error_names_line(tmp_path):
    path = write(tmp_path, "exam:\n  id: t\n  title: [unclosed\nquestions: []\n")
    with pytest.raises(BankError) as exc:
        load_bank(path)
    assert str(exc.value).startswith(f"{path}:4:") and "invalid YAML" in str(exc.value)


def test_missing_exam_id_says_why_it_matters(tmp_path):
    with pytest.raises(BankError) as exc:
        load_bank(write(tmp_path, GOOD.replace("  id: t1\n", "")))
    assert "exam.id: missing" in str(exc.value)


def test_unknown_family_lists_known_ones(tmp_path):
    with pytest.raises(FamilyError) as exc:
        load_bank(write(tmp_path, GOOD.replace("mlp-backprop", "mlp-backprob")))
    assert "unknown family 'mlp-backprob'" in str(exc.value) and "mlp-backprop" in str(exc.value)


def test_unknown_domain_key_names_file_line_and_key(tmp_path):
    path = write(tmp_path, GOOD + "    domain:\n      hiden: [2]\n")
    with pytest.raises(BankError) as exc:
        load_bank(path)
    assert str(exc.value).startswith(f"{path}:6:") and "questions[0].domain: unknown parameter 'hiden'" in str(exc.value)


def test_impossible_range_is_an_error(tmp_path):
    with pytest.raises(BankError) as exc:
        load_bank(write(tmp_path, GOOD + "    domain:\n      x: {integers: [0, 0], exclude: [0]}\n"))
    assert "questions[0].domain.x" in str(exc.value) and "empty" in str(exc.value)


def test_unknown_activation_choice_is_an_error(tmp_path):
    with pytest.raises(BankError) as exc:
        load_bank(write(tmp_path, GOOD + "    domain:\n      hidden_activation: [softplus]\n"))
    assert "softplus" in str(exc.value) and "questions[0].domain.hidden_activation" in str(exc.value)


def test_unknown_notation_profile_is_an_error(tmp_path):
    with pytest.raises(BankError) as exc:
        load_bank(write(tmp_path, GOOD.replace("  title: Test\n", "  title: Test\n  notation: greek\n")))
    assert "unknown notation profile 'greek'" in str(exc.value)


def test_bad_precision_is_an_error(tmp_path):
    with pytest.raises(BankError) as exc:
        load_bank(write(tmp_path, GOOD.replace("  title: Test\n", "  title: Test\n  precision: many\n")))
    assert "exam.precision" in str(exc.value)


def test_part_pattern_matching_nothing_is_an_error(tmp_path):
    from qgen.generate import build_version

    bank = load_bank(write(tmp_path, GOOD + "    parts: ['gradient.*']\n"))
    with pytest.raises(BankError) as exc:
        build_version(bank, "1")
    assert "'gradient.*' matches no part" in str(exc.value) and "grad.W" in str(exc.value)


def test_points_override_applies_to_matching_parts(tmp_path):
    from qgen.generate import build_version

    bank = load_bank(write(tmp_path, GOOD + "    points: {'grad.*': 5}\n"))
    parts = build_version(bank, "1").questions[0].parts
    assert [p.points for p in parts if p.id.startswith("grad.")] == [5, 5]


def test_a_bank_that_is_a_list_is_an_error(tmp_path):
    with pytest.raises(BankError) as exc:
        load_bank(write(tmp_path, "- a\n- b\n"))
    assert "a bank is a mapping" in str(exc.value)


def test_the_readme_bank_example_loads_and_draws(tmp_path):
    from qgen.generate import build_versions
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("### A bank", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "pins").symlink_to(BANKS / "pins")
    bank = load_bank(write(tmp_path, example))
    assert len(build_versions(bank, ["1", "2"])) == 2
