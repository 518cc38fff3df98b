"""Bounded work from every YAML input (banks, pin files, --map files): bombs, duplicates, depth, control characters."""

from __future__ import annotations

import re
import time

import pytest

from qgen.cli import main
from qgen.errors import BankError
from qgen.yamlread import read_yaml


def _bomb(levels: int = 9) -> str:
    text = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    prev = "a"
    for name in "bcdefghijk"[:levels - 1]:
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text + "exam: {id: x, title: X}\nquestions:\n  - family: chain-rule\n"


@pytest.mark.parametrize("text,message", [
    (_bomb(), "more than 100,000 values once its aliases"),
    ("exam:\n  id: a\n  title: b\n  id: c\n", ":4: 'id' is given twice (lines 2 and 4)"),
    ("questions:\n  - family: chain-rule\n    points: {derivative: 1}\n    points: {value: 1}\n",
     ":4: 'points' is given twice (lines 3 and 4)"),
    ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 40 levels"),
    ("x:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 60)) + "  " * 60 + "v: 1\n", "nested more than 40"),
    ('exam: {id: a, title: "x\\x01y"}\n', ":1: a control character (U+0001)"),
    ('exam: {id: a, title: "x\\u0085y"}\n', "a control character (U+0085)"),
])
def test_hostile_yaml_is_refused_at_once(tmp_path, text, message):
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(BankError, match=re.escape(message)):
        read_yaml(path)
    assert time.perf_counter() - start < 0.5


def test_a_file_over_a_megabyte_is_refused(tmp_path):
    path = tmp_path / "bank.yaml"
    path.write_text("# " + "x" * 1_100_000 + "\n", encoding="utf-8")
    with pytest.raises(BankError, match="at most 1,000,000"):
        read_yaml(path)


def test_aliases_within_the_limit_still_work(tmp_path):
    path = tmp_path / "bank.yaml"
    path.write_text("base: &d {hidden: [2]}\nq1: *d\nq2: *d\n", encoding="utf-8")
    assert read_yaml(path)["q2"] == {"hidden": [2]}


def test_tabs_and_newlines_in_text_are_fine(tmp_path):
    path = tmp_path / "bank.yaml"
    path.write_text('exam: {instructions: "Line one.\\nLine\\ttwo."}\n', encoding="utf-8")
    assert read_yaml(path)["exam"]["instructions"] == "Line one.\nLine\ttwo."


def test_the_cli_gives_one_line(tmp_path, runner):
    path = tmp_path / "bank.yaml"
    path.write_text(_bomb(), encoding="utf-8")
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "alias" in result.output
