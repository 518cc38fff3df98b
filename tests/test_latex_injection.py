"""A bank's notation fields are symbols, not LaTeX programs: nothing in a bank makes LaTeX read a file."""

from __future__ import annotations

import pytest

from qgen.cli import main
from qgen.errors import BankError
from qgen.notation import resolve


@pytest.mark.parametrize("value", [
    r"\input{/etc/passwd}", r"\input{exam-1}", r"\include{x}", r"\def\eta{x}", r"\catcode`\@=11", r"\csname x\endcsname",
    r"\write18{ls}", r"\immediate\openout5=x", r"\openin5=/etc/hostname", r"\usepackage{x}", r"\newcommand{\x}{1}",
    r"\verb|x|", "x}", "{x", "$x$", "x\ny", "a" * 41, r"\lambda; \input x",
])
def test_anything_but_a_symbol_is_refused_naming_the_key(value):
    with pytest.raises(BankError, match=r"^exam\.notation\.lr: "):
        resolve({"profile": "bias-row", "lr": value}, where="exam.notation")


@pytest.mark.parametrize("value", [r"\eta", r"\lambda", r"\hat{y}", r"\mathbf{x}", r"\alpha^{(1)}_{2}", "L(D)", "J",
                                   r"\mathcal{L}", r"\ell", "w'", r"\tilde{\theta}", r"\operatorname{loss}"])
def test_symbols_people_write_are_accepted(value):
    assert resolve({"profile": "bias-row", "lr": value}).lr == value


def test_a_bank_that_tries_to_read_a_file_is_one_line(tmp_path, runner):
    bank = tmp_path / "bank.yaml"
    bank.write_text("exam: {id: a, title: T}\nquestions:\n  - family: mlp-backprop\n"
                    "    notation: {profile: bias-row, post: '\\input{/etc/passwd}'}\n", encoding="utf-8")
    result = runner.invoke(main, ["generate", str(bank), "--no-pdf", "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "notation.post" in result.output and "bank.yaml:4" in result.output and not (tmp_path / "out").exists()
