"""The LaTeX jinja2 environment: delimiters, strictness, filters, the parts macros, a compile."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from qgen.errors import RenderError
from qgen.render.exam import assemble, paper_from_bodies, preamble, tables
from qgen.render.latex import (
    bmatrix,
    environment,
    escape_text,
    exam_points,
    points,
    render,
    render_string,
)
from qgen.render.tikz import draw_network

NASTY = "O'Brien & Søn_#1 {x} 50% $5 ~ ^ \\"


# --- escaping ------------------------------------------------------------------------------

@pytest.mark.parametrize("special", [r"\&", r"\_", r"\#", r"\{", r"\}", r"\%", r"\$"])
def test_escape_text_escapes_specials(special):
    assert special in escape_text(NASTY)


def test_escape_text_tilde_caret_backslash():
    assert escape_text("~ ^ \\") == r"\textasciitilde{} \^{} \textbackslash{}"


def test_escape_text_keeps_latin_letters():
    assert escape_text("Søn é") == "Søn é"


def test_escape_text_maps_unicode_minus():
    assert escape_text("−0.5") == r"\textminus{}0.5"


def test_escape_text_maps_greek():
    assert escape_text("η = 2") == r"\ensuremath{\eta} = 2"


def test_escape_text_keeps_hyphen_and_newlines():
    assert escape_text("two-layer\n\nnet") == "two-layer\n\nnet"


def test_escape_filter_in_a_template():
    assert render_string(r"\VAR{name|escape}", name="A & B") == r"A \& B"


def test_e_filter_is_latex_not_html():
    assert render_string(r"\VAR{name|e}", name="<a & b>") == r"<a \& b>"


# --- delimiters and strictness -------------------------------------------------------------

def test_var_substitutes():
    assert render_string(r"$x = \VAR{x}$", x=3) == "$x = 3$"


def test_latex_braces_pass_through():
    assert render_string(r"\frac{a}{b} {} \textbf{\VAR{x}}", x="y") == r"\frac{a}{b} {} \textbf{y}"


def test_block_statements():
    assert render_string("\\BLOCK{ for i in xs }\\VAR{i},\\BLOCK{ endfor }", xs=[1, 2]) == "1,2,"


def test_comments_are_dropped():
    assert render_string(r"a\#{ a note }b") == "ab"


def test_trailing_newline_is_kept():
    assert render_string("x\n") == "x\n"


def test_missing_variable_is_a_render_error_naming_it():
    with pytest.raises(RenderError) as info:
        render_string(r"\VAR{present} \VAR{missing_thing}", present=1)
    assert "missing_thing" in str(info.value)


def test_missing_variable_in_a_file_names_file_line_and_key():
    exam = dict(title="T", course="C", date="", instructions="", exam_id="e", total_points=1,
                precision_note="")
    with pytest.raises(RenderError) as info:
        paper_from_bodies(exam, [], name="exam-1", key=False)
    assert "document.tex.j2, line" in str(info.value) and "'version'" in str(info.value)


def test_missing_template_is_a_render_error():
    with pytest.raises(RenderError) as info:
        render("no_such_family.tex.j2")
    assert "no_such_family.tex.j2" in str(info.value)


def test_syntax_error_names_the_line():
    with pytest.raises(RenderError) as info:
        render_string("ok\n\\BLOCK{ if x }\nnever closed")
    assert "line" in str(info.value)


def test_missing_part_field_names_the_macro_file():
    part = _part()
    del part["box_cm"]
    with pytest.raises(RenderError) as info:
        render_string(r"\VAR{render_parts(parts, false)}", parts=[part])
    assert "parts.tex.j2, line" in str(info.value) and "box_cm" in str(info.value)


def test_environment_is_cached():
    assert environment() is environment()


# --- filters -------------------------------------------------------------------------------

def test_bmatrix_of_rows():
    assert bmatrix([[1, 2], [3, 4]]) == r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}"


def test_bmatrix_of_a_flat_list_is_a_column():
    assert bmatrix(["2", "5"]) == r"\begin{bmatrix} 2 \\ 5 \end{bmatrix}"


def test_bmatrix_of_one_row():
    assert bmatrix([["1", "-2", "2"]]) == r"\begin{bmatrix} 1 & -2 & 2 \end{bmatrix}"


def test_bmatrix_filter():
    assert render_string(r"\VAR{m|bmatrix}", m=[[1, 2], [3, 4]]) == bmatrix([[1, 2], [3, 4]])


@pytest.mark.parametrize("value, text", [(3, "3"), (2.5, "2.5"), (3.0, "3"), (0.5, "0.5")])
def test_points(value, text):
    assert points(value) == text


@pytest.mark.parametrize("value, text", [(3, "3"), (2.5, r"2\half"), (0.5, r"\half"), (4.0, "4")])
def test_exam_points(value, text):
    assert exam_points(value) == text


def test_exam_points_rejects_quarters():
    with pytest.raises(RenderError) as info:
        exam_points(0.25)
    assert "half" in str(info.value)


# --- the parts macros ----------------------------------------------------------------------

def _part(**overrides) -> dict:
    """One numeric part, overridable."""
    part = dict(id="q1.a", prompt=r"What is $\hat y$?", points=2, kind="number",
                answer_tex="0.1192", worked=[r"\hat y = \sigma(-2) \approx 0.1192"],
                model_answer="", box_cm=3, figure="")
    part.update(overrides)
    return part


def _parts(key: bool, **overrides) -> str:
    return render_string(r"\VAR{render_parts(parts, key)}", parts=[_part(**overrides)], key=key)


def test_part_has_points_and_prompt():
    assert r"\part[2] What is $\hat y$?" in _parts(False)


def test_half_points_use_exam_half():
    assert r"\part[2\half]" in _parts(False, points=2.5)


def test_exam_part_is_an_empty_box_of_box_cm():
    assert "\\qgenbox[q\\thequestion.\\thepartno]{3cm}" in _parts(False)  # one worked line needs less than the 3 cm floor
    assert "\\qgenbox[q\\thequestion.\\thepartno]{5cm}" in _parts(False, space_cm=5)  # the bank's space: exactly
    assert "\\qgenbox[q\\thequestion.\\thepartno]{6.35cm}" in _parts(False, worked=["x"] * 9)  # the work the key shows


def test_exam_tex_holds_no_answer():
    assert "0.1192" not in _parts(False)


def test_key_part_has_each_worked_line():
    assert r"\qgenworked{\hat y = \sigma(-2) \approx 0.1192}" in _parts(True)


def test_key_part_boxes_the_answer():
    assert r"\qgenanswer{0.1192}" in _parts(True)


def test_key_part_prints_model_answer_and_figure():
    text = _parts(True, kind="text", answer_tex="", worked=[], model_answer="Because.",
                  figure=r"\begin{tikzpicture}\end{tikzpicture}")
    assert r"\qgenmodel{Because.}" in text and r"\begin{tikzpicture}" in text


def test_subheading_uses_uplevel():
    text = render_string(r"\VAR{subheading('Backpropagation')}")
    assert r"\uplevel{\textbf{Backpropagation}}" in text


def test_parts_macros_import_explicitly_too():
    source = "\\BLOCK{ from 'parts.tex.j2' import render_parts }\\VAR{render_parts(parts, true)}"
    assert r"\qgenanswer{0.1192}" in render_string(source, parts=[_part()])


# --- a whole exam and key through pdflatex ---------------------------------------------------

CHAIN = (
    r"\frac{\partial \ell}{\partial W^1_{21}} = \frac{\partial \ell}{\partial \hat y}"
    r"\frac{\partial \hat y}{\partial \alpha^2}\frac{\partial \alpha^2}{\partial \beta^1_1}"
    r"\frac{\partial \beta^1_1}{\partial \alpha^1_1}\frac{\partial \alpha^1_1}{\partial W^1_{21}}"
    r" = \bigl(-(1-0.1192)\bigr)\cdot\bigl(0.1192\,(1-0.1192)\bigr)\cdot(2.0000)"
    r"\cdot\bigl(0.7311\,(1-0.7311)\bigr)\cdot(5.0000) = (-0.8808)(0.1050)(2)(0.1966)(5)"
    r" \approx -0.4242"
)


def _network() -> str:
    return draw_network(
        [2, 3, 1],
        node_labels=[["x_1", "x_2"], [r"\beta^1_1", r"\beta^1_2", r"\beta^1_3"], [r"\hat{y}"]],
        bias_labels=["1", "1", None], edge_labels={(2, 1, 1): r"W^2_{11}", (1, 1, 2): r"W^1_{21}"},
        highlight={(2, 1, 1)}, layer_captions=["input", "hidden", "output"],
    )


def _every_kind() -> list[dict]:
    return [
        _part(id="a", kind="number", worked=[CHAIN], answer_tex="-0.4242", points=2.5),
        _part(id="b", kind="vector", answer_tex=bmatrix(["7", "-5", "21"]), worked=[]),
        _part(id="c", kind="matrix", answer_tex=bmatrix([[1, 2], [3, 4]]), worked=[]),
        _part(id="d", kind="shape", answer_tex=r"3 \times 2", worked=[]),
        _part(id="e", kind="integer", answer_tex="13", worked=[r"3 \cdot 3 + 4 = 13"]),
        _part(id="f", kind="label", answer_tex=r"\text{class } 1", worked=[]),
        _part(id="g", kind="text", answer_tex="", worked=[], model_answer="Zebra model answer.",
              figure=_network()),
    ]


def _document(key: bool) -> str:
    body = r"""Assume $\mathbf{x} = \VAR{x|bmatrix}$. \VAR{nasty|escape}
\begin{center}
\VAR{figure}
\end{center}
\begin{parts}
\VAR{subheading("Forward pass")}
\VAR{render_parts(parts, key)}
\end{parts}
"""
    questions = [
        dict(title="Neural network", points=14.5, body=render_string(
            body, x=["2", "5"], nasty=NASTY, figure=_network(), parts=_every_kind(), key=key)),
        dict(title=escape_text(NASTY), points=2, body=render_string(
            "\\begin{parts}\n\\VAR{render_parts(parts, key)}\\end{parts}\n",
            parts=[_part(id="h")], key=key)),
    ]
    exam = dict(title="Midterm", course="ML 101", date="today", instructions="Be brief.",
                exam_id="mid-1", version="A", total_points=16.5,
                precision_note="Give numerical answers to 4 decimal places.")
    return assemble(preamble(exam, key=key), [(tables("exam-1", "?"), paper_from_bodies(
        exam, questions, name="exam-1", key=key))])


def _compile(tex: str, folder: Path, name: str) -> str:
    """pdflatex the document; return pdftotext's text of it."""
    (folder / f"{name}.tex").write_text(tex, encoding="utf-8")
    command = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]
    run = subprocess.run(
        [*command, f"{name}.tex"],
        cwd=folder, capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    text = subprocess.run(["pdftotext", f"{name}.pdf", "-"], cwd=folder,
                          capture_output=True, text=True, check=True)
    return text.stdout


needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="no pdftotext")


@pytest.mark.latex
@needs_tex
@needs_pdftotext
def test_exam_and_key_compile_and_only_the_key_has_answers(tmp_path):
    exam_text = _compile(_document(key=False), tmp_path, "exam")
    key_text = _compile(_document(key=True), tmp_path, "key")
    assert "0.4242" in key_text and "Zebra" in key_text
    assert "0.4242" not in exam_text and "Zebra" not in exam_text
