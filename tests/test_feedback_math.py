"""Feedback pages a student can read: math as MathML (no raw LaTeX), formula keys as math, in headless Chromium.

Every shipped bank is generated (2 versions, no PDF), a small made-up class answers it and is graded, and
every feedback page is opened in one Chromium session: its visible text (`document.body.innerText`) has no
LaTeX command, and it holds MathML.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qgen.cli import main
from qgen.export.markup import html_of, math_html, tex_to_html
from qgen.grade.feedback import key_html, prompt_html
from tests.conftest import BANKS

RAW = re.compile(r"\\[A-Za-z]+|\\[{}]")  # a LaTeX command left as text


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


# -- the converter (no browser) ----------------------------------------------------------------------
@pytest.mark.parametrize("tex", [
    r"What is $\frac{\partial J}{\partial W_{2,1}}$?",
    r"$\nabla_{\boldsymbol{\theta}} L = \left(\frac{\partial L}{\partial \theta_{1}}, \frac{1}{2}\right)$",
    r"$\displaystyle \frac{\frac{a}{b}}{\sqrt{x^{2}_{1}}}$ and $\hat{y}^{(i)}$",
    r"$\mathbf{1}\left[z > 0\right]$, $\sigma'(z) = \sigma(z)\bigl(1-\sigma(z)\bigr)$",
])
def test_mathml_has_no_raw_latex_even_with_nested_braces(tex):
    out = prompt_html(tex)
    assert "<math" in out and not RAW.search(_text(out)), out


def test_feedback_and_export_share_one_converter():
    tex = r"Is $\hat{y} < \frac{1}{2}$ \emph{now}?"
    assert tex_to_html(tex, inline=True).html == r"Is \(\hat{y} &lt; \frac{1}{2}\) <em>now</em>?"  # MathJax
    assert html_of(tex) == tex_to_html(tex, inline=True, math="mathml").html == prompt_html(tex)
    assert "<em>now</em>" in prompt_html(tex)


def test_unreadable_math_falls_back_to_plain_text_without_backslashes():
    out = math_html(r"\frac{\partial J}{\partial W_{2}} \unknowncommand{x}")
    assert not RAW.search(_text(out))


def test_formula_keys_are_math_not_sympy():
    piecewise = {"kind": "expression", "answer": "Piecewise((1, z > 0), (1/10, True))",
                 "answer_tex": r"g'(z) = \begin{cases} 1 & z > 0 \\ 0.1 & z \le 0 \end{cases}"}
    out = key_html(piecewise)
    assert "<math" in out and "Piecewise" not in out and not RAW.search(_text(out))
    # an older manifest without answer_tex: the key as qgen's formula reader writes it back
    old = {"kind": "expression", "answer": "g*(1 - g)", "formula": {"variables": ["z"],
                                                                  "definitions": {"g": "1/(1 + exp(-z))"}}}
    assert "**" not in key_html(old) and "g" in key_html(old)


def test_manifest_records_the_formula_key_as_latex(runner, tmp_path):
    out = tmp_path / "mid"
    assert runner.invoke(main, ["generate", str(BANKS / "midterm.yaml"), "--versions", "1", "--no-pdf",
                                "--out", str(out)]).exit_code == 0
    parts = [p for v in json.loads((out / "manifest.json").read_text())["versions"] for q in v["questions"]
             for p in q["parts"] if p["kind"] == "expression"]
    assert parts and all(p.get("answer_tex") for p in parts)


# -- every page of every bank, in Chromium -------------------------------------------------------------
BANK_FILES = sorted(BANKS.glob("*.yaml"))


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> list[Path]:
    from click.testing import CliRunner

    runner = CliRunner()
    found: list[Path] = []
    for bank in BANK_FILES:
        out = tmp_path_factory.mktemp(bank.stem)
        for args in (["generate", str(bank), "--versions", "2", "--no-pdf", "--out", str(out)],
                     ["sample-answers", str(out), "--students", "4"],
                     ["grade", str(out), str(out / "answers-sample.csv"), "--out", str(out / "grades")]):
            result = runner.invoke(main, args)
            assert result.exit_code == 0, (bank.name, args[0], result.output)
        bank_pages = sorted((out / "grades" / "feedback").glob("*.html"))
        assert bank_pages, bank.name
        found += bank_pages
    return found


def test_every_feedback_page_of_every_bank_shows_math_not_latex(browser, pages):
    assert len(BANK_FILES) >= 2
    for page in pages:
        browser.get(page.resolve().as_uri())
        text = browser.execute_script("return document.body.innerText")
        maths = browser.execute_script("return document.getElementsByTagName('math').length")
        mathml = browser.execute_script("return document.querySelector('math') instanceof MathMLElement")
        raw = RAW.findall(text)
        assert not raw, (page, raw[:10])
        keys = browser.execute_script("return Array.from(document.querySelectorAll('table.feedback tbody tr'))"
                                      ".map(r => r.cells[2].innerText)")
        assert keys and not any("Piecewise(" in k or "**" in k for k in keys), page  # formula keys as math
        assert maths > 0 and mathml, page
        assert browser.execute_script("return document.querySelectorAll('script').length") == 0
