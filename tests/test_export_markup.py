"""LaTeX -> HTML for an LMS, and the tolerance an LMS is given: units of `qgen export`."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qgen.export.markup import FIGURE_NOTE, plain_text, split_top, tex_to_html
from qgen.export.model import (
    absolute_tolerance,
    decimal_text,
    label_choices,
    shape_spellings,
    tolerance_text,
)
from qgen.export.moodle import cloze_cell, cloze_escape, weights
from qgen.export.statement import cut
from qgen.grade.compare import Tolerance, judge
from qgen.grade.parse import parse_cell
from qgen.render.latex import escape_text


# -- LaTeX to HTML ------------------------------------------------------------------------------
def test_text_is_html_escaped():
    assert tex_to_html(r"a < b \& c > d").html == "<p>a &lt; b &amp; c &gt; d</p>"


def test_inline_math_is_kept_for_mathjax_and_escaped():
    assert tex_to_html(r"$x < \frac{1}{2}$").html == r"<p>\(x &lt; \frac{1}{2}\)</p>"


def test_display_math_uses_double_dollars():
    assert tex_to_html(r"\[ W = \begin{bmatrix} 1 & 2 \end{bmatrix} \]").html == \
        r"<p>$$W = \begin{bmatrix} 1 &amp; 2 \end{bmatrix}$$</p>"


def test_blank_line_and_par_start_paragraphs():
    assert tex_to_html("one\n\ntwo\\par three").html == "<p>one</p>\n<p>two</p>\n<p>three</p>"


def test_text_commands_become_tags():
    html = tex_to_html(r"\emph{a} \textbf{b} \texttt{c}", inline=True).html
    assert html == "<em>a</em> <strong>b</strong> <code>c</code>"


def test_layout_commands_are_dropped():
    assert tex_to_html(r"\needspace{6\baselineskip}\medskip x\hspace*{1cm}y").html == "<p>x y</p>"


def test_comments_are_dropped_but_escaped_percent_is_kept():
    assert tex_to_html("50\\% % a comment\nmore").html == "<p>50% more</p>"


def test_tabular_becomes_a_table():
    html = tex_to_html(r"\begin{tabular}{ll}\hline a & $b & c$ \\ d & e \\ \hline\end{tabular}").html
    assert html.count("<tr>") == 2 and "<td" in html and r"\(b &amp; c\)" in html


def test_tikz_picture_becomes_the_figure_note():
    result = tex_to_html(r"Look: \begin{center}\begin{tikzpicture}\draw (0,0) -- (1,1);\end{tikzpicture}\end{center}")
    assert FIGURE_NOTE in result.html and result.figures == 1 and r"\draw" not in result.html


def test_tikz_picture_can_be_dropped():
    result = tex_to_html(r"\begin{center}\begin{tikzpicture}\node {x};\end{tikzpicture}\end{center}", figure_note=None)
    assert result.html == "" and result.figures == 1


def test_unknown_commands_are_reported_and_their_text_kept():
    result = tex_to_html(r"\fancy{word}")
    assert result.unknown == (r"\fancy",) and "word" in result.html


def test_split_top_ignores_braces_and_math():
    assert split_top(r"a \\ {b \\ c} \\ $d \\ e$", "\\\\") == ["a ", r" {b \\ c} ", r" $d \\ e$"]


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
def test_plain_text_undoes_escape_text(s):
    assert plain_text(escape_text(s)) == " ".join(s.split())


def test_plain_text_of_greek_and_specials():
    assert plain_text(escape_text("Q&A σ ≤ 50% #1 {x}")) == "Q&A σ ≤ 50% #1 {x}"


def test_cut_places_headings_interludes_and_parts_in_order():
    body = ("Intro.\n\\begin{parts}\n\\needspace{6\\baselineskip}\n\\uplevel{\\textbf{Forward}}\n\n% part z (number)\n"
            "\\part[1] What is $z$?\n\\begin{solutionorbox}[1cm]\n\\end{solutionorbox}\n"
            "\\uplevel{Now take $x = 2$.}\n% part y (vector)\n\\part[2] And $y$?\n\\end{parts}\n")
    blocks, _, _ = cut(body)
    assert [(b.kind, b.part or b.html) for b in blocks] == [
        ("text", "<p>Intro.</p>"), ("heading", "Forward"), ("part", "z"), ("text", r"<p>Now take \(x = 2\).</p>"),
        ("part", "y")]


# -- numbers and tolerances -----------------------------------------------------------------------
def test_decimal_text_has_no_exponent():
    assert [decimal_text(x) for x in (1e-07, 1e20, -0.5, 3)] == ["0.0000001", "100000000000000000000", "-0.5", "3"]


def test_tolerance_of_a_small_value_is_the_decimal_bound():
    assert absolute_tolerance(Fraction("0.001"), Tolerance.for_places(4)) == Decimal("0.000051")


def test_tolerance_of_a_large_value_is_one_percent():
    assert absolute_tolerance(Fraction("10.89"), Tolerance.for_places(4)) == Decimal("0.1089")


def test_tolerance_is_rounded_down():
    assert absolute_tolerance(Fraction(2, 3), Tolerance(Fraction(0), Fraction(1, 100))) == Decimal("0.00666666")


def test_zero_tolerance_is_written_zero():
    assert tolerance_text(absolute_tolerance(Fraction(0), Tolerance(Fraction(0), Fraction(1, 100)))) == "0"


_SPECS = st.one_of(st.none(), st.fixed_dictionaries({"abs": st.sampled_from([0.01, 0.5, 0.0001])}),
                   st.fixed_dictionaries({"rel": st.sampled_from([0.05, 0.001])}),
                   st.fixed_dictionaries({"sig_figs": st.integers(1, 5)}),
                   st.fixed_dictionaries({"decimals": st.integers(0, 6)}))


@settings(max_examples=300, deadline=None)
@given(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), st.integers(0, 8), _SPECS)
def test_value_plus_minus_tolerance_is_right_and_twice_is_wrong(t, places, spec):
    tol_rule = Tolerance.from_spec(spec, places) if spec else Tolerance.for_places(places)
    part = {"kind": "number", "answer": t, "places": places}
    value = Fraction(decimal_text(t))
    tol = Fraction(absolute_tolerance(value, tol_rule))
    right = [judge(part, value + d, tol_rule).credit for d in (0, tol, -tol)]
    assert right == [1, 1, 1]
    if tol:
        assert [judge(part, value + d, tol_rule).credit for d in (2 * tol, -2 * tol)] == [0, 0]


@given(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), st.integers(0, 8))
def test_exported_tolerance_loses_at_most_a_millionth(t, places):
    rule = Tolerance.for_places(places)
    exact = max(rule.atol, rule.rtol * abs(Fraction(decimal_text(t))))
    got = Fraction(absolute_tolerance(Fraction(decimal_text(t)), rule))
    assert exact * (1 - Fraction(1, 10**5)) <= got <= exact


@given(st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False))
def test_decimal_text_is_the_value_qgen_grades_against(t):
    assert Fraction(decimal_text(t)) == Fraction(repr(t))


@pytest.mark.parametrize("rows,cols", [(3, 2), (1, 5), (12, 10)])
def test_every_shape_spelling_parses_to_the_shape(rows, cols):
    assert {parse_cell(s, "shape") for s in shape_spellings(rows, cols)} == {(rows, cols)}


@pytest.mark.parametrize("answer,choices", [("yes", ("yes", "no")), ("1", ("0", "1")), ("maybe", ())])
def test_label_choices(answer, choices):
    assert label_choices(answer) == choices


# -- Moodle cells ------------------------------------------------------------------------------------
def test_cloze_escape_protects_the_cloze_syntax():
    assert cloze_escape('a}b#c~d/e"f\\g<h&') == 'a\\}b\\#c\\~d\\/e\\"f\\\\g&lt;h&amp;'


def test_cloze_numerical_lists_accepted_alternatives():
    from qgen.export.model import Cell

    cell = Cell("q1.a", "number", 0.18, "0.18", Fraction(1), Decimal("0.0018"), (("0.21", Decimal("0.0021")),))
    assert cloze_cell(cell, 3) == "{3:NUMERICAL:=0.18:0.0018~=0.21:0.0021}"


def test_cloze_multichoice_marks_the_answer():
    from qgen.export.model import Cell

    assert cloze_cell(Cell("q1.c", "label", "no", "no", Fraction(1), choices=("yes", "no")), 1) == \
        "{1:MULTICHOICE:yes~=no}"


def test_weights_are_whole_and_proportional_to_points():
    from qgen.export.model import Cell

    cells = [Cell(f"q1.v.{i}", "number", 1.0, "1", Fraction(2, 5), Decimal(0)) for i in range(5)]
    cells.append(Cell("q1.n", "number", 1.0, "1", Fraction(5, 2), Decimal(0)))

    class Q:
        def __init__(self, cells):
            self.cells = cells

    w = weights([Q(cells)])  # type: ignore[list-item]
    assert set(w.values()) == {4, 25}  # 0.4 and 2.5 points, times 10
